#!/bin/bash
# sync.sh: what reaches the disk and when, and what spamd does when it
# cannot. spamd runs with tests/faults/syncshim.c preloaded: it logs every
# fsync(2) and fdatasync(2) (GDBM's too) with its path and time, and fails
# those on a path that ends with the suffix in $T/ctl, with EIO.
#  1. A pass is durable by the journal alone: the journal's fdatasync
#     comes before the WHITE record is visible, and the database's own
#     fsync only later (the greylister's sync gap, 1 s).
#  2. The journal cannot be synced from the pass on: the durable commit
#     falls back, spamd says that crash protection is off, fsyncs the
#     database before the pass goes out, and goes on.
#  3. The database cannot be synced for a while: every session is still
#     answered, no tuple is lost, each is stored once (bcount 1, not
#     whitelisted by its own retried write) when the disk works again.
#  4. The lock file cannot be synced (its crash mark could not reach the
#     disk): spamd says so and commits with an fsync of the database
#     each time, at once instead of after the sync gap.
# timeout: 120
. tests/lib.sh
. tests/faults/_faults.sh
[ "${SANITIZE:-0}" = 1 ] &&
	skip "a sanitizer runtime must be the first object loaded: no LD_PRELOAD"
private_net "$@"
need_cmd cc
t_tmp
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -shared -fPIC -o "$T/syncshim.so" \
    tests/faults/syncshim.c -ldl || fail "cannot build tests/faults/syncshim.c"
# the greylister writes the log as _spamd
: >"$T/sync.log" && chmod 666 "$T/sync.log" || fail "sync.log"
: >"$T/ctl" && chmod 644 "$T/ctl" || fail "ctl"

# start: spamd (passtime 2 s) on a fresh database, the shim loaded
start() {
	rm -rf "$T/db"
	LD_PRELOAD=$T/syncshim.so SYNCSHIM_LOG=$T/sync.log SYNCSHIM_CTL=$T/ctl \
	    spamd_start -s 0 -G 2s:1h:1h -v
}
# field N of the GREY line of TAG
grey_field() {
	"$BIN/spamdb" -f "$DB" | grep "^GREY|127\.0\.0\.1|$1\.example|" |
	    cut -d'|' -f"$2"
}
white() { "$BIN/spamdb" -f "$DB" | grep -q '^WHITE|127\.0\.0\.1|'; }
now_ms() { date +%s%3N; }
# wait until TAG's tuple may pass (first + passtime + 1, in whole seconds)
wait_passtime() {
	local first
	first=$(grep_first "$1")
	wait_for 10 sh -c "[ \$(date +%s) -ge $((first + 3)) ]" ||
		fail "the clock did not reach first + 3"
}
grep_first() { grey_field "$1" 6; }
# lines of the log after line N that match an ERE; their times
log_times() { tail -n +"$(($1 + 1))" "$T/sync.log" | grep -E "$2" | awk '{ print $4 }'; }

# 1. The journal alone makes a pass durable.
start
tuple_session one
wait_stored 5 one
wait_passtime one
sleep 1.5	# the first session's own database fsync (the sync gap) is done
n0=$(wc -l <"$T/sync.log")
tuple_session one
wait_for 5 white || fail "1: not whitelisted: $("$BIN/spamdb" -f "$DB")"
tw=$(now_ms)
sleep 2		# past the sync gap
tj=$(log_times "$n0" "^fdatasync $DB\.journal 0 " | head -n 1)
td=$(log_times "$n0" "^fsync $DB 0 " | head -n 1)
[ -n "$tj" ] || fail "1: no fdatasync of the journal for the pass: $(tail -n +$((n0 + 1)) "$T/sync.log")"
[ -n "$td" ] || fail "1: the database was never fsynced after the pass: $(tail -n +$((n0 + 1)) "$T/sync.log")"
[ "$tj" -le "$tw" ] || fail "1: the journal was synced after the pass was visible ($tj > $tw)"
[ $((td - tj)) -ge 500 ] ||
	fail "1: the database's fsync came $((td - tj)) ms after the journal's, not after the sync gap"
grep -q 'crash protection off' "$T/spamd.log" && fail "1: $(grep 'crash protection' "$T/spamd.log")"
pass "1: journal fdatasync before the pass was visible, the database's fsync $((td - tj)) ms later"
spamd_stop

# 2. The journal cannot be synced from the pass on (the first commit of
# a writer syncs the journal too: it works until then).
start
tuple_session two
wait_stored 5 two
wait_passtime two
sleep 1.5	# the first session's own database fsync is done
echo ".journal" >"$T/ctl"
n0=$(wc -l <"$T/sync.log")
t0=$(now_ms)
tuple_session two
wait_for 5 white || fail "2: not whitelisted: $("$BIN/spamdb" -f "$DB")"
tw=$(now_ms)
log_times "$n0" "^fdatasync $DB\.journal -1 " | grep -q . ||
	fail "2: the pass did not try to sync the journal: $(tail -n +$((n0 + 1)) "$T/sync.log")"
td=$(log_times "$n0" "^fsync $DB 0 " | head -n 1)
[ -n "$td" ] && [ "$td" -ge "$t0" ] && [ "$td" -le "$tw" ] ||
	fail "2: no fsync of the database between the retry and the pass ($t0, ${td:-none}, $tw)"
log_times "$n0" "^fdatasync $DB\.journal 0 " | grep -q . && fail "2: a journal sync succeeded"
wait_for 5 grep -q 'crash protection off' "$T/spamd.log" ||
	fail "2: spamd did not say that crash protection is off: $(tail -n 5 "$T/spamd.log")"
tuple_session twob
wait_stored 5 twob
pass "2: journal off, said, and the database fsynced before the pass went out"
spamd_stop

# 3. The database cannot be synced for a while.
: >"$T/ctl"
l3=$(wc -l <"$T/spamd.log")
start
tuple_session three
wait_stored 5 three
echo "/spamd.db" >"$T/ctl"
tuple_session four
tuple_session five
wait_for 5 sh -c "tail -n +$((l3 + 1)) '$T/spamd.log' | grep -qF 'sync $DB: '" ||
	fail "3: no log line about the failed sync: $(tail -n 5 "$T/spamd.log")"
# Now every commit must fsync, and fails: six waits in memory.
tuple_session six
sleep 3		# longer than passtime: a queued tuple must not pass by itself
: >"$T/ctl"
wait_stored 20 four five six
for tag in four five six; do
	[ "$(grey_field "$tag" 9)" = 1 ] ||
		fail "3: $tag counted $(grey_field "$tag" 9) times: $("$BIN/spamdb" -f "$DB")"
done
white && fail "3: a tuple seen once was whitelisted: $("$BIN/spamdb" -f "$DB")"
for p in $(spamd_procs); do
	proc_alive "$p" || fail "3: process $p died"
done
"$BIN/spamdb" -f "$DB" >/dev/null || fail "3: the database does not list"
pass "3: sessions answered while the disk failed, every tuple stored once afterwards"
spamd_stop

# 4. The lock file cannot be synced, from the start (a writer's first
# commit syncs everything: the next ones need the lock file's mark).
: >"$T/ctl"
l4=$(wc -l <"$T/spamd.log")
echo "/spamd.db.lock" >"$T/ctl"
start
tuple_session seven
wait_stored 5 seven
for tag in eight nine; do
	n0=$(wc -l <"$T/sync.log")
	t0=$(now_ms)
	tuple_session "$tag"
	wait_stored 5 "$tag"
	tw=$(now_ms)
	log_times "$n0" "^fdatasync $DB\.lock -1 " | grep -q . ||
		fail "4: $tag: the lock file's sync was not tried: $(tail -n +$((n0 + 1)) "$T/sync.log")"
	td=$(log_times "$n0" "^fsync $DB 0 " | head -n 1)
	[ -n "$td" ] && [ "$td" -le "$tw" ] ||
		fail "4: $tag: the database was not fsynced by the time the tuple was stored ($t0, ${td:-none}, $tw): $(tail -n +$((n0 + 1)) "$T/sync.log")"
done
tail -n +$((l4 + 1)) "$T/spamd.log" |
    grep -q 'spamd\.db\.lock: Input/output error; committing with an fsync each time' ||
	fail "4: spamd did not say that the lock file cannot be synced: $(tail -n 5 "$T/spamd.log")"
for p in $(spamd_procs); do
	proc_alive "$p" || fail "4: process $p died"
done
: >"$T/ctl"
pass "4: the lock file's sync failed, said, and every commit fsynced the database at once"
spamd_stop
echo "sync: ok"
