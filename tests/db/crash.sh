#!/bin/bash
# crash.sh: kill -9 a writer in the middle of large batches, then check
# that the database opens, spamdb lists it cleanly, and everything
# committed before the batch that died is there.
# timeout: 150
#
# dbhammer crash commits transaction after transaction (delete batch k-3,
# store BATCH tuples of batch k, set a counter) and logs each batch once
# greydb_close has returned. We let it commit, kill it at a random moment,
# and check with dbhammer verify and spamdb, alternating which one opens
# (and so rebuilds from the checkpoint and the journal) the database first;
# any other recovery message, or a single missing record, fails. Rounds
# and batch size are bounded.

. tests/lib.sh

H=$TBIN/dbhammer
SPAMDB=$BIN/spamdb
ROUNDS=${ROUNDS:-8}
BATCH=${BATCH:-3000}
[ -x "$H" ] && [ -x "$SPAMDB" ] || fail "build first"
t_tmp
db=$T/spamd.db
log=$T/committed

logged() { tail -n 1 "$log" 2>/dev/null || echo 0; }
beyond() { [ "$(logged)" -gt "$1" ]; }

# spamdb_clean [recovery-ok]: a listing with exit 0 and nothing on stderr
# but, when allowed, the recovery report
spamdb_clean() {
	"$SPAMDB" -f "$db" >"$T/list" 2>"$T/err"
	local rc=$?
	[ "$rc" = 0 ] || fail "spamdb exit $rc after the kill: $(cat "$T/err")"
	if [ -n "${1:-}" ]; then
		grep -v -e 'a writer died mid-transaction; rebuilding the database' \
		    -e 'rebuilt from the checkpoint and [0-9]* journaled transaction' \
		    "$T/err" >"$T/err2"
	else
		cp "$T/err" "$T/err2"
	fi
	[ -s "$T/err2" ] && fail "spamdb after the kill: $(cat "$T/err2")"
	grep -q '^WHITE|203.0.113.1|' "$T/list" || fail "the counter is not listed"
}

dirty=0
for r in $(seq 1 "$ROUNDS"); do
	before=$(logged)
	"$H" crash "$db" "$log" "$BATCH" 2>"$T/crash.err" & p=$!
	wait_for 30 beyond "$before" ||
		fail "round $r: no batch committed: $(cat "$T/crash.err")"
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	kill -9 "$p"
	wait "$p" 2>/dev/null
	[ "$(head -c 1 "$db.lock")" = 1 ] && dirty=$((dirty + 1))
	grep -v -e 'rebuilding the database' -e 'rebuilt from the checkpoint' \
	    "$T/crash.err" >"$T/crash.err2"
	[ -s "$T/crash.err2" ] && fail "round $r: writer said: $(cat "$T/crash.err2")"
	if [ $((r % 2)) = 1 ]; then
		spamdb_clean recovery-ok
		"$H" verify "$db" "$log" "$BATCH" || fail "round $r: verify"
	else
		"$H" verify "$db" "$log" "$BATCH" 2>"$T/verify.err" ||
			fail "round $r: verify: $(cat "$T/verify.err")"
		spamdb_clean
	fi
	[ "$(head -c 1 "$db.lock")" = 0 ] || fail "round $r: still marked dirty"
	echo "round $r: killed after batch $(logged)"
done
[ "$dirty" -ge 1 ] || fail "no kill landed inside a transaction"
pass "$ROUNDS kills ($dirty inside a transaction), $(logged) batches of $BATCH committed, none lost"
