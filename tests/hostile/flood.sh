#!/bin/bash
# flood.sh: one address floods spamd with new tuples for 20 s (issue 15)
# while another greylists normally. With --db-max-size 1M (and the
# per-address bounds out of the way, so the size bound is what holds):
# the other sender's tuple is recorded during the flood and passes on
# its retry; the database, checkpoint and journal stay under 1M; the log
# says the size bound was reached and what was refused from whom, and why.
# timeout: 90
. tests/lib.sh
private_net "$@"
t_tmp
ip addr add 192.0.2.66/32 dev lo || fail "address"
ip addr add 192.0.2.77/32 dev lo || fail "address"
BOUND=$((1024 * 1024))
spamd_start -s 0 -S 0 -G 8s:1h:1d --db-max-size 1M \
    --grey-max-tuples 1000000 --grey-max-rate 1000000/1s

session() {	# session: the normal sender, one recipient
	chat 127.0.0.1 -s 192.0.2.77 <<EOF
expect 220
send HELO mail.example.org
expect 250
send MAIL FROM:<alice@example.org>
expect 250
send RCPT TO:<bob@example.com>
expect 250
send DATA
expect 451
expect-close
EOF
}
size() {
	local f t=0
	for f in "$DB" "$DB.ckpt" "$DB.journal"; do
		[ -e "$f" ] && t=$((t + $(stat -c %s "$f")))
	done
	echo $t
}

"$TBIN/flood" -s 192.0.2.66 -c 2 -t 20 127.0.0.1 8025 >"$T/flood.out" 2>&1 &
fpid=$!
max=0
for i in $(seq 1 40); do
	sleep 0.5
	s=$(size)
	[ "$s" -gt "$max" ] && max=$s
	# The normal sender's first contact, in the middle of the flood.
	[ "$i" = 10 ] && { session || fail "first session during the flood"; t1=$(date +%s); }
done
wait $fpid || { cat "$T/flood.out"; fail "flood client"; }
cat "$T/flood.out"
wait_for 10 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^GREY|192.0.2.77|'" ||
	fail "the normal sender's tuple was not recorded during the flood"
s=$(size)
[ "$s" -gt "$max" ] && max=$s
echo "largest size seen: $max bytes (bound $BOUND)"
[ "$max" -lt "$BOUND" ] || { ls -l "$T/db"; fail "files grew to $max bytes, over the bound"; }
nflood=$("$BIN/spamdb" -f "$DB" | grep -c '^GREY|192.0.2.66|')
echo "flooder's tuples: $nflood"
[ "$nflood" -gt 0 ] || fail "the flood recorded nothing (test is wrong)"
expect_grep 'over 80% of --db-max-size: refusing new tuples from the addresses that hold the most' "$T/spamd.log"
expect_grep 'refused [0-9]+ new tuples from 192\.0\.2\.66 \(it holds [0-9]+ live\): [0-9]+ for database size \(--db-max-size\)' "$T/spamd.log"
grep -q 'refused [0-9]* new tuples* from 192\.0\.2\.77' "$T/spamd.log" &&
	fail "the normal sender was refused"

# Its retry after passtime passes: WHITE.
while [ $(($(date +%s))) -le $((t1 + 9)) ]; do sleep 0.5; done
session || fail "retry"
wait_for 10 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^WHITE|192.0.2.77|'" ||
	{ tail -n 20 "$T/spamd.log"; fail "the normal sender did not pass"; }
grep -E 'refused|database files' "$T/spamd.log"
pass "a 20 s flood stayed under --db-max-size; the other sender passed"
