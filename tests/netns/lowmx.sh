#!/bin/bash
# lowmx.sh: -M through a real nft redirect. The MX has a primary and a
# low-priority address; nft/spamd.nft redirects both to spamd, which
# learns the original destination (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST):
# a new tuple that arrives at the -M address traps the client, one that
# arrives at the primary is greylisted. IPv4 and IPv6.
# timeout: 90
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_setup
pl_mx ip addr add 192.0.2.26/24 dev "vb$$" || fail "second IPv4 address"
pl_mx ip addr add 2001:db8::26/64 dev "vb$$" nodad || fail "second IPv6 address"
ip -n "$PL_SNS" addr add 192.0.2.11/24 dev "va$$"
ip -n "$PL_SNS" addr add 2001:db8::11/64 dev "va$$" nodad

session() {	# session SRC DST
	ip netns exec "$PL_SNS" "$TBIN/smtpchat" -s "$1" "$2" 25 <<EOF
expect 220
send HELO client.example
expect 250
send MAIL FROM:<a@example.org>
expect 250
send RCPT TO:<b@example.com>
expect 250
send DATA
expect 451
EOF
}

check() {	# check FAMILY PRIMARY LOWMX GOOD BAD
	pl_spamd -s 0 -M "$3"
	session "$4" "$2" || fail "session to the primary MX $2"
	session "$5" "$3" || fail "session to the low-priority MX $3"
	wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^TRAPPED|$5|'" ||
		fail "$5 reached -M $3 with a new tuple but was not trapped: $("$BIN/spamdb" -f "$DB")"
	"$BIN/spamdb" -f "$DB" | grep -q "^GREY|$4|client.example|" ||
		fail "$4 was not greylisted at the primary"
	"$BIN/spamdb" -f "$DB" | grep -q "^TRAPPED|$4|" && fail "$4 trapped at the primary"
	"$BIN/spamdb" -f "$DB" | grep -q "^GREY|$5|" && fail "$5 got a tuple at -M"
	expect_grep "$5: new tuple at the low-priority MX" "$T/spamd.log"
	kill "$PL_SPAMD_PID"; wait "$PL_SPAMD_PID" 2>/dev/null
	"$BIN/spamdb" -f "$DB"
}

check 4 192.0.2.25 192.0.2.26 192.0.2.10 192.0.2.11
rm -f "$T/db/"*
check 6 2001:db8::25 2001:db8::26 2001:db8::10 2001:db8::11
pass "-M traps new tuples at the low-priority MX"
