#!/bin/bash
# kill9.sh: kill -9 each of spamd's processes in turn: the SMTP process,
# the greylister (in the middle of a burst of tuples), and the parent
# (the nft helper). Each time the other processes must exit within
# seconds and leave no zombie and no orphan; the database must open and
# list cleanly (spamdb exit 0, at most its recovery notice), with every
# tuple stored before the kill; and spamd must start again cleanly on the
# same database, greylist, and stop with status 0.
# timeout: 120
. tests/lib.sh
. tests/faults/_faults.sh
private_net "$@"
need_cmd pgrep
t_tmp

# (Bursts from one address beyond the default --grey-max-rate: off here.)
# burst TAG: 3 connections of 100 tuples each, in the background
burst() {
	local c r
	for c in 1 2 3; do
		{
			echo "timeout 10"
			echo "expect 220"
			echo "send MAIL FROM:<$1$c@example.org>"
			echo "expect 250"
			for r in $(seq 1 100); do
				echo "send RCPT TO:<r$r@example.com>"
			done
			echo "expectn 100 250"
		} | chat 127.0.0.1 >/dev/null 2>&1 &
	done
}

round=0
for victim in spamd-smtp spamd-grey spamd-nft; do
	round=$((round + 1))
	spamd_start -s 0 -v --grey-max-rate 0/1s
	procs=$(spamd_procs)
	[ "$(echo $procs | wc -w)" = 3 ] || fail "$victim: spamd has $(echo $procs | wc -w) processes"
	tuple_session "kill$round"
	wait_stored 5 "kill$round"
	pid=$(proc_by_name "$victim") || fail "no process $victim among $procs"
	if [ "$victim" = spamd-grey ]; then
		# kill it as soon as it works on the burst: likely mid-write
		burst "burst$round"
		for i in $(seq 1 20000); do
			grep -q "new tuple .*<burst$round" "$T/spamd.log" && break
		done
	fi
	kill -9 "$pid"
	[ "$(head -c 1 "$DB.lock")" = 1 ] && echo "$victim killed inside a transaction"
	t0=$(date +%s%3N)
	wait_for 10 none_alive $procs || fail "$victim killed: still alive: $(for p in $procs; do proc_alive $p && cat /proc/$p/comm; done)"
	echo "$victim killed: all of spamd gone after $(($(date +%s%3N) - t0)) ms"
	wait "$SPAMD_PID"
	rc=$?
	[ "$victim" = spamd-nft ] && [ "$rc" != 137 ] && fail "parent exit $rc after kill -9"
	[ "$victim" != spamd-nft ] && [ "$rc" = 0 ] && fail "spamd exited 0 after its $victim was killed"
	# no zombie and no orphan left behind
	wait_for 5 sh -c "for p in $procs; do [ -e /proc/\$p ] && exit 1; done; exit 0" ||
		fail "$victim killed: left $(for p in $procs; do [ -e /proc/$p ] && echo "$p:$(awk '{print $2 $3}' /proc/$p/stat)"; done)"
	grep -E "(killed by signal 9|exited with status)" "$T/spamd.log" | tail -n 2

	"$BIN/spamdb" -f "$DB" >"$T/list" 2>"$T/err" ||
		fail "spamdb after killing $victim: exit $?: $(cat "$T/err")"
	grep -v -e 'a writer died mid-transaction; rebuilding the database' \
	    -e 'rebuilt from the checkpoint and [0-9]* journaled transaction' "$T/err" | grep . &&
		fail "spamdb after killing $victim: $(cat "$T/err")"
	for r in $(seq 1 "$round"); do
		grep -q "^GREY|127\.0\.0\.1|kill$r\.example|" "$T/list" ||
			fail "tuple kill$r lost after killing $victim"
	done
	[ "$victim" = spamd-grey ] &&
		echo "burst: $(grep -c '|<burst2[0-9]@example.org>|' "$T/list") of up to 300 tuples committed before the kill"
done

# A clean start, a session, and a clean stop on the same database.
spamd_start -s 0 -v --grey-max-rate 0/1s
tuple_session again
wait_stored 5 again kill1 kill2 kill3
procs=$(spamd_procs)
kill "$SPAMD_PID"
wait "$SPAMD_PID"
rc=$?
[ "$rc" = 0 ] || { tail -n 15 "$T/spamd.log"; fail "spamd stopped with status $rc"; }
wait_for 5 none_alive $procs || fail "processes left after a clean stop"
"$BIN/spamdb" -f "$DB" >/dev/null 2>"$T/err" || fail "spamdb: $(cat "$T/err")"
[ -s "$T/err" ] && fail "spamdb after a clean stop: $(cat "$T/err")"
pass "kill -9 of smtp, grey and nft: the rest exits, no leftovers, the database lists, spamd restarts"
