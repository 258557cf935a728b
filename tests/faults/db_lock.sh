#!/bin/bash
# db_lock.sh: another process holds the database lock (flock on
# <db>.lock) for 30 seconds. spamd keeps answering SMTP at full speed,
# says once that it queues the updates, and every tuple sent meanwhile
# is in the database soon after the lock is released; nothing stored
# before is lost, and no spamd process dies.
# timeout: 100
. tests/lib.sh
. tests/faults/_faults.sh
private_net "$@"
need_cmd flock pgrep
t_tmp
spamd_start -s 0 -v
LOCK_SECS=${LOCK_SECS:-30}

tuple_session before
wait_stored 5 before

flock -x "$DB.lock" sleep "$LOCK_SECS" &
holder=$!
at_exit "kill $holder 2>/dev/null"
wait_for 5 sh -c "! flock -n '$DB.lock' true" || fail "the lock was not taken"
t0=$(date +%s)

tags=
for i in $(seq 1 10); do
	tuple_session "locked$i" 3
	tags="$tags locked$i"
	sleep 0.5
done
wait_for 10 grep -q 'database unavailable (.*locked by another process.*); [0-9]* tuples\? queued, retrying' "$T/spamd.log" ||
	fail "no log line about the queue: $(tail -n 5 "$T/spamd.log")"
[ "$(grep -c 'database unavailable' "$T/spamd.log")" = 1 ] ||
	fail "the outage was logged more than once"
# Nothing can have been written while the lock was held.
[ $(($(date +%s) - t0)) -lt "$LOCK_SECS" ] || fail "the sessions took longer than the lock"
SPAMDB_LOCKWAIT=0 "$BIN/spamdb" -f "$DB" >/dev/null 2>&1 &&
	fail "spamdb got the lock the holder has"

wait "$holder"
t1=$(date +%s)
wait_stored 25 $tags before
echo "stored $(echo $tags | wc -w) queued tuples $(($(date +%s) - t1)) s after the release"
expect_grep 'database available again; 0 tuples still queued' "$T/spamd.log"
[ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died"
tuple_session after
wait_stored 5 after
pass "lock held ${LOCK_SECS} s: SMTP answered, 10 tuples queued and stored"
