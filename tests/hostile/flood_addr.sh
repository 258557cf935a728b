#!/bin/bash
# flood_addr.sh: the per-address bounds on new tuples (issue 15).
# (1) --grey-max-rate 200/1h: a 4 s flood from one address records at
# most 200 tuples (plus the little that refills meanwhile), and the log
# says the rate refused the rest. (2) spamd restarted with
# --grey-max-tuples 300 and no rate bound: it counts the 200 already in
# the database, so a second flood brings the address to exactly 300
# live tuples. Meanwhile another address greylists normally.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
ip addr add 192.0.2.66/32 dev lo || fail "address"
ip addr add 192.0.2.77/32 dev lo || fail "address"

session() {	# session TO: the normal sender
	chat 127.0.0.1 -s 192.0.2.77 <<EOF
expect 220
send HELO mail.example.org
expect 250
send MAIL FROM:<alice@example.org>
expect 250
send RCPT TO:<$1@example.com>
expect 250
send DATA
expect 451
expect-close
EOF
}
count() { "$BIN/spamdb" -f "$DB" | grep -c "^GREY|$1|"; }

# (1) the rate
spamd_start -s 0 -S 0 --grey-max-rate 200/1h
"$TBIN/flood" -s 192.0.2.66 -c 2 -t 4 127.0.0.1 8025 || fail "flood"
session bob || fail "normal session after the flood"
wait_for 10 sh -c "[ \$('$BIN/spamdb' -f '$DB' | grep -c '^GREY|192.0.2.77|') = 1 ]" ||
	fail "the normal sender's tuple was not recorded"
n=$(count 192.0.2.66)
echo "after the rate-bound flood: $n tuples"
[ "$n" -ge 200 ] && [ "$n" -le 210 ] || fail "expected 200 tuples (the rate's burst), got $n"
wait_for 15 grep -Eq 'refused [0-9]+ new tuples from 192\.0\.2\.66 \(it holds 20[0-9] live\): [0-9]+ for rate \(--grey-max-rate\)' "$T/spamd.log" ||
	{ tail "$T/spamd.log"; fail "no log line for the rate"; }
spamd_stop

# (2) the live tuples, counted again from the database at start
spamd_start -s 0 -S 0 --grey-max-tuples 300 --grey-max-rate 0/1s
"$TBIN/flood" -s 192.0.2.66 -c 2 -t 3 127.0.0.1 8025 || fail "flood"
session carol || fail "normal session after the second flood"
wait_for 10 sh -c "[ \$('$BIN/spamdb' -f '$DB' | grep -c '^GREY|192.0.2.77|') = 2 ]" ||
	fail "the normal sender's second tuple was not recorded"
n=$(count 192.0.2.66)
echo "after the live-bound flood: $n tuples"
[ "$n" = 300 ] || fail "expected 300 tuples (--grey-max-tuples), got $n"
wait_for 15 grep -Eq 'refused [0-9]+ new tuples from 192\.0\.2\.66 \(it holds 300 live\): [0-9]+ for live tuples \(--grey-max-tuples\)' "$T/spamd.log" ||
	{ tail "$T/spamd.log"; fail "no log line for the live tuples"; }
pass "per-address rate and live-tuple bounds hold, across a restart"
