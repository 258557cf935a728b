#!/bin/bash
# stop.sh: stopping spamd loses no tuple it accepted. With the database
# locked by another process, 2,000 tuples pile up in the SMTP process's
# queue, the socket and the greylister's queue; then spamd gets SIGTERM,
# and the lock is released a little later: the greylister drains the
# channel to its end, commits everything, and only then exits.
# timeout: 150
. tests/lib.sh
private_net "$@"
t_tmp
need_cmd flock
# 2,000 then 30,000 tuples from one address within seconds: past the
# default --grey-max-rate and --grey-max-tuples, which this test is not
# about.
spamd_start -s 0 --grey-max-rate 0/1s --grey-max-tuples 0

script() {	# script N: one session with 100 RCPTs for session N
	echo "expect 220"
	echo "send MAIL FROM:<bulk$1@example.org>"
	echo "expect 250"
	for i in $(seq 1 100); do echo "send RCPT TO:<u$i@example.com>"; done
	echo "expectn 100 250"
	echo "send DATA"
	echo "expect 451"
}

# Hold the database lock until the stop below (not for a fixed time: a
# slow machine or valgrind may take longer than any guess for the
# sessions). A read-only open keeps the lock file's contents.
[ -e "$DB.lock" ] || fail "no $DB.lock after spamd started"
exec {lockfd}<"$DB.lock"
flock "$lockfd" || fail "flock $DB.lock"
for n in $(seq 1 20); do
	script $n | chat 127.0.0.1 || fail "session $n"
done
wait_for 60 grep -q 'database unavailable' "$T/spamd.log"
expect_grep 'database unavailable' "$T/spamd.log"
"$BIN/spamdb" -f "$DB" >/dev/null 2>&1 &	# waits for the lock too
kill -TERM "$SPAMD_PID"
# spamd must not be gone before the lock is released.
sleep 2
kill -0 "$SPAMD_PID" 2>/dev/null || fail "spamd exited while tuples were still queued"
flock -u "$lockfd"
exec {lockfd}<&-
wait "$SPAMD_PID"
echo "spamd exited with $?"
n=$("$BIN/spamdb" -f "$DB" | grep -c '^GREY|127.0.0.1|')
[ "$n" -eq 2000 ] || { tail -20 "$T/spamd.log"; fail "$n of 2000 tuples recorded"; }
expect_grep 'recorded the [0-9]+ queued tuples before exiting' "$T/spamd.log"
grep -q 'not recorded' "$T/spamd.log" && fail "spamd says it lost tuples"

# Second: the greylister frozen, so the socket fills and the SMTP process
# queues tuples itself; it must flush them at the stop (inside its
# sandbox) and the greylister, thawed, must record every one.
spamd_start -s 0 --grey-max-rate 0/1s --grey-max-tuples 0
grey=$(for p in $(cat /proc/$SPAMD_PID/task/*/children); do
	[ "$(cat /proc/$p/comm)" = spamd-grey ] && echo $p; done)
[ -n "$grey" ] || fail "no greylister"
kill -STOP "$grey"
# 300 sessions, 4 at a time (the same client address throughout).
export -f script chat
export TBIN
seq 101 400 | xargs -P 4 -I{} bash -c 'script {} | chat 127.0.0.1' ||
	fail "a session failed"

kill -TERM "$SPAMD_PID"
sleep 1
kill -CONT "$grey"
wait "$SPAMD_PID"
echo "spamd exited with $?"
n=$("$BIN/spamdb" -f "$DB" | grep -c '^GREY|127.0.0.1|')
[ "$n" -eq 32000 ] || { tail -20 "$T/spamd.log"; fail "$n of 32000 tuples recorded"; }
grep -Eq 'killed|not delivered|not recorded' "$T/spamd.log" && fail "spamd reports a loss"
pass "all tuples recorded across the stop, also from the SMTP process's own queue"
