#!/bin/bash
# white_multircpt.sh: a first contact with several recipients, then its
# retry after passtime, against real nftables in a namespace. The retry
# whitelists the address once: it is in spamd_white, and spamd logs no
# warning (no "WHITE but not in the nft set" for the other recipients,
# no element refused by the kernel). A second sender does the same with
# all its recipients pipelined in one write.
# timeout: 60
. tests/lib.sh
need_root
need_cmd nft ip
t_tmp
NS=$(ns_new multircpt)
nsx() { ip netns exec "$NS" "$@"; }
nsx nft -f nft/spamd.nft || fail "load nft/spamd.nft"
nsx ip addr add 192.0.2.31/32 dev lo || fail "address"
nsx ip addr add 192.0.2.32/32 dev lo || fail "address"
ensure_spamd_user
mkdir -p "$T/db"
chown _spamd: "$T/db"
DB=$T/db/spamd.db
nsx "$BIN/spamd" -d -f "$DB" -h mx.test -s 0 -S 0 -G 2s:1h:1d \
    2>>"$T/spamd.log" &
SPAMD_PID=$!
at_exit "kill $SPAMD_PID 2>/dev/null; wait $SPAMD_PID 2>/dev/null"
wait_for 10 grep -q 'listening for incoming connections' "$T/spamd.log" ||
	{ cat "$T/spamd.log"; fail "spamd did not start"; }

session() {	# session SRC: five recipients, one command at a time
	nsx "$TBIN/smtpchat" -s "$1" 127.0.0.1 8025 <<EOF
expect 220
send HELO multi.example
expect 250
send MAIL FROM:<list@example.org>
expect 250
send RCPT TO:<a@example.com>
expect 250
send RCPT TO:<b@example.com>
expect 250
send RCPT TO:<c@example.com>
expect 250
send RCPT TO:<d@example.com>
expect 250
send RCPT TO:<e@example.com>
expect 250
send DATA
expect 451
expect-close
EOF
}
pipelined() {	# pipelined SRC: eight recipients, every command in one write
	nsx "$TBIN/smtpchat" -s "$1" 127.0.0.1 8025 <<EOF
expect 220
raw HELO multi.example\r\nMAIL FROM:<list@example.org>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nRCPT TO:<d@example.com>\r\nRCPT TO:<e@example.com>\r\nRCPT TO:<f@example.com>\r\nRCPT TO:<g@example.com>\r\nRCPT TO:<h@example.com>\r\nDATA\r\n
expectn 10 250
expect 451
expect-close
EOF
}
in_set() { nsx nft list set inet spamd spamd_white | grep -q "$1"; }
ntuples() { "$BIN/spamdb" -f "$DB" | grep -c "^GREY|$1|"; }

session 192.0.2.31 || fail "first session"
pipelined 192.0.2.32 || fail "first pipelined session"
wait_for 5 sh -c "[ \$('$BIN/spamdb' -f '$DB' | grep -c '^GREY|192.0.2.3[12]|') = 13 ]" ||
	fail "expected 13 tuples: $("$BIN/spamdb" -f "$DB")"
sleep 3
session 192.0.2.31 || fail "retry"
pipelined 192.0.2.32 || fail "pipelined retry"
wait_for 5 in_set 192.0.2.31 || { cat "$T/spamd.log"; fail "192.0.2.31 not in spamd_white"; }
wait_for 5 in_set 192.0.2.32 || { cat "$T/spamd.log"; fail "192.0.2.32 not in spamd_white"; }
sleep 1		# room for a late false alarm
nsx nft list set inet spamd spamd_white

# The warnings (and the alarming info line) the greylister, the nft helper
# and libnft can give on this path.
warn='WHITE but not in the nft set|refused|No such file|cannot|could not|dropped|failed|unavailable|re-sending without|retry'
if grep -Eq "$warn" "$T/spamd.log"; then
	grep -E "$warn" "$T/spamd.log"
	fail "a normal multi-recipient retry logged a false alarm"
fi
for a in 192.0.2.31 192.0.2.32; do
	[ "$(grep -c "whitelisting $a\$" "$T/spamd.log")" = 1 ] ||
		{ cat "$T/spamd.log"; fail "$a not whitelisted exactly once"; }
done
pass "multi-recipient retries whitelist once each, without a warning"
