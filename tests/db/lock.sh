#!/bin/bash
# lock.sh: spamdb against a database another process holds: the bounded
# wait and its message, shared readers, and a waiter that gets in as soon
# as the lock is released. Lock waits come from SPAMDB_LOCKWAIT, so no
# step waits on the 10-second default.
# timeout: 60

. tests/lib.sh

H=$TBIN/dbhammer
SPAMDB=$BIN/spamdb
DBSEED=$TBIN/dbseed
[ -x "$H" ] && [ -x "$SPAMDB" ] && [ -x "$DBSEED" ] || fail "build first"
t_tmp
db=$T/spamd.db
echo 'WHITE|192.0.2.1|||1700000000|1700000000|1703110400|1|0' | "$DBSEED" "$db" ||
	fail dbseed

# hold MODE: another process holds the lock until release. While it
# does, fd 3 is the write end of its control fifo: every other command
# runs with 3>&- (sdb), or the holder would never see EOF.
sdb() { "$SPAMDB" "$@" 3>&-; }
hold() {
	rm -f "$T/ctl" "$T/held"
	mkfifo "$T/ctl" || fail mkfifo
	"$H" hold "$db" "$1" <"$T/ctl" >"$T/held" & holder=$!
	exec 3>"$T/ctl"
	wait_for 10 grep -q held "$T/held" || fail "holder did not get the lock"
}
release() {
	exec 3>&-
	wait "$holder" || fail "holder failed"
}
ms() { date +%s%3N; }

hold write
t=$(ms)
SPAMDB_LOCKWAIT=1s sdb -f "$db" >"$T/out" 2>"$T/err"
rc=$? el=$(($(ms) - t))
[ "$rc" = 1 ] || fail "listing under a writer's lock: exit $rc"
grep -qx "spamdb: database $db.lock is locked by another process (waited 1000 ms)" "$T/err" ||
	fail "unexpected message: $(cat "$T/err")"
[ "$el" -ge 1000 ] && [ "$el" -lt 5000 ] || fail "waited $el ms for a 1 s bound"
[ -s "$T/out" ] && fail "printed records without the lock"

t=$(ms)
SPAMDB_LOCKWAIT=0 sdb -f "$db" -a 192.0.2.2 2>"$T/err"
rc=$? el=$(($(ms) - t))
[ "$rc" = 1 ] || fail "-a under a writer's lock: exit $rc"
grep -q "is locked by another process (waited 0 ms)" "$T/err" || fail "$(cat "$T/err")"
[ "$el" -lt 1000 ] || fail "SPAMDB_LOCKWAIT=0 waited $el ms"

# a waiter gets in once the holder lets go, well within its bound
SPAMDB_LOCKWAIT=20s sdb -f "$db" -a 192.0.2.3 2>"$T/err" 3>&- & waiter=$!
sleep 0.5
kill -0 "$waiter" 2>/dev/null || fail "spamdb -a did not wait: $(cat "$T/err")"
t=$(ms)
release
wait "$waiter" || fail "the waiting spamdb -a failed: $(cat "$T/err")"
el=$(($(ms) - t))
[ "$el" -lt 3000 ] || fail "the waiter took $el ms after the release"
sdb -f "$db" 192.0.2.3 >/dev/null || fail "192.0.2.3 was not added"

# readers share the lock; writers wait for them
hold read
SPAMDB_LOCKWAIT=0 sdb -f "$db" >"$T/out" 2>"$T/err" ||
	fail "listing beside another reader: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" = 2 ] || fail "listing: $(cat "$T/out")"
SPAMDB_LOCKWAIT=0 sdb -f "$db" 192.0.2.1 >/dev/null ||
	fail "lookup beside another reader"
SPAMDB_LOCKWAIT=1 sdb -f "$db" -d 192.0.2.1 2>"$T/err" &&
	fail "-d went ahead under a reader's lock"
grep -q "is locked by another process (waited 1000 ms)" "$T/err" || fail "$(cat "$T/err")"
release
sdb -f "$db" -d 192.0.2.1 || fail "-d after the release"
pass "bounded waits, shared readers, prompt hand-over"
