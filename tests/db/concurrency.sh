#!/bin/bash
# concurrency.sh: two writers, a reader and spamdb on one database at once.
# timeout: 120
#
# Each dbhammer writer makes N read-modify-write increments of a shared and
# a private counter (and stores one tuple per increment), BATCH per
# transaction. The dbhammer reader walks meanwhile and checks that every
# walk is one consistent snapshot (each private counter equals its tuple
# count, the shared one their sum; nothing goes backwards). At the same
# time spamdb adds, lists and looks up records through the same locks.
# Afterwards every record is checked exactly: no lost update, no corrupt
# record, nothing missing, nothing extra.

. tests/lib.sh

H=$TBIN/dbhammer
SPAMDB=$BIN/spamdb
N=${N:-2000}
BATCH=${BATCH:-5}
[ -x "$H" ] && [ -x "$SPAMDB" ] || fail "build first"
t_tmp
db=$T/spamd.db

"$H" writer "$db" 1 "$N" "$BATCH" 2>"$T/w1.err" & w1=$!
"$H" writer "$db" 2 "$N" "$BATCH" 2>"$T/w2.err" & w2=$!
"$H" reader "$db" "$T/stop" 100 >"$T/reader.out" 2>"$T/reader.err" & r=$!
at_exit "kill $w1 $w2 $r"

# spamdb as a third writer and a second reader, while the others run
wait_for 10 test -e "$db" || fail "the writers did not create $db"
for i in $(seq 1 40); do
	"$SPAMDB" -f "$db" -a "203.0.113.$i" 2>>"$T/spamdb.err" ||
		fail "spamdb -a 203.0.113.$i: $(cat "$T/spamdb.err")"
	if [ $((i % 4)) = 0 ]; then
		"$SPAMDB" -f "$db" >"$T/list" 2>>"$T/spamdb.err" ||
			fail "spamdb listing failed: $(cat "$T/spamdb.err")"
		grep -q "^WHITE|203.0.113.$i|" "$T/list" ||
			fail "listing lacks 203.0.113.$i"
	fi
done
[ -s "$T/spamdb.err" ] && fail "spamdb complained: $(cat "$T/spamdb.err")"

wait $w1 || fail "writer 1: $(cat "$T/w1.err")"
wait $w2 || fail "writer 2: $(cat "$T/w2.err")"
touch "$T/stop"
wait $r || fail "reader: $(cat "$T/reader.err")"
cat "$T/reader.out"
walks=$(sed -n 's/^reader: \([0-9]*\) consistent walks$/\1/p' "$T/reader.out")
[ "${walks:-0}" -ge 10 ] || fail "the reader walked only ${walks:-0} times"

# spamdb sees the final state: exact counters, every address it added
"$SPAMDB" -f "$db" 198.51.100.1 198.51.100.11 198.51.100.12 >"$T/final" ||
	fail "spamdb lookup of the counters failed"
cut -d'|' -f1,2,8 "$T/final" >"$T/got"
printf 'WHITE|198.51.100.1|%d\nWHITE|198.51.100.11|%d\nWHITE|198.51.100.12|%d\n' \
	$((2 * N)) "$N" "$N" >"$T/want"
diff "$T/want" "$T/got" || fail "counters differ"
"$SPAMDB" -f "$db" 203.0.113.{1..40} >/dev/null ||
	fail "spamdb lost $? of its own additions"
"$SPAMDB" -f "$db" -d 203.0.113.{1..40} || fail "spamdb -d failed"

"$H" check "$db" 2 "$N" || fail "final state is not exact"
"$SPAMDB" -f "$db" >"$T/list" 2>"$T/err" || fail "final listing: $(cat "$T/err")"
[ -s "$T/err" ] && fail "final listing complained: $(cat "$T/err")"
[ "$(wc -l <"$T/list")" -eq $((3 + 2 * N)) ] || fail "listing has $(wc -l <"$T/list") lines"
pass "2 x $N increments, $walks consistent walks, 40 spamdb additions"
