#!/bin/bash
# blackonly.sh: blacklist-only mode on the real packet path. The MX runs
# nft/spamd-blacklist-only.nft, spamd -b and a real MTA; spamd-setup -b
# loads a list (from a file and from a command) into spamd and into the
# nft sets spamd_black and spamd_black6 in one batch each. A listed sender
# is redirected and tarpitted (354, then the list's message); a sender not
# on the list reaches the real MTA. IPv4 and IPv6.
# timeout: 90
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_setup
pl_mx nft flush ruleset
pl_mx nft -f nft/spamd-blacklist-only.nft || fail "load the blacklist-only ruleset"
ip -n "$PL_SNS" addr add 192.0.2.11/24 dev "va$$"
ip -n "$PL_SNS" addr add 2001:db8::11/64 dev "va$$" nodad

cat >"$T/black.txt" <<'EOF'
192.0.2.8 - 192.0.2.10	# a range around the listed sender
198.51.100.0/24
EOF
cat >"$T/spamd.conf" <<EOF
all:\\
	:local:cmd:
local:\\
	:black:\\
	:msg="Your address %A is on the local list":\\
	:method=file:\\
	:file=$T/black.txt:
cmd:\\
	:black:\\
	:msg="Your address %A is on the command's list":\\
	:method=exec:\\
	:file="/bin/echo 2001:db8::10/128":
EOF
# spamd -b listens on the local addresses; no database, no greylister.
pl_mx "$BIN/spamd" -b -d -s 0 -h mx.example --config-socket "$T/spamd.sock" \
	2>"$T/spamd.log" &
at_exit "kill $! 2>/dev/null"
wait_for 10 grep -q "listening for incoming connections" "$T/spamd.log" || fail "spamd -b"
pl_mx "$BIN/spamd-setup" --socket "$T/spamd.sock" -b -c "$T/spamd.conf" || fail "spamd-setup -b"

set4=$(pl_mx nft list set inet spamd spamd_black)
set6=$(pl_mx nft list set inet spamd spamd_black6)
echo "$set4" "$set6"
# The range is sent as its minimal CIDR blocks: .8/31 and .10.
echo "$set4" | grep -q '192.0.2.8/31' || fail "range not in spamd_black"
echo "$set4" | grep -Eq '192\.0\.2\.10[,[:space:]]' || fail "range end not in spamd_black"
echo "$set4" | grep -q '198.51.100.0/24' || fail "CIDR not in spamd_black"
echo "$set6" | grep -q '2001:db8::10' || fail "the command's address not in spamd_black6"
expect_grep 'configuration connection from uid 0 \(pid [0-9]+\): 2 lines, 2 applied, 0 rejected' "$T/spamd.log"

tarpitted() {	# tarpitted SRC DST MSG
	ip netns exec "$PL_SNS" "$TBIN/smtpchat" -s "$1" "$2" 25 <<EOF
match ^220 mx\.example ESMTP spamd IP-based SPAM blocker;
send HELO listed.example
expect 250
send MAIL FROM:<s@listed.example>
expect 250
send RCPT TO:<v@mx.example>
expect 250
send DATA
expect 354
send Subject: x
send
send .
expect 450 450 Your address $1 is on $3
expect-close
EOF
}
delivered() {	# delivered SRC DST: the real MTA (smtp-sink) answers
	ip netns exec "$PL_SNS" "$TBIN/smtpchat" -s "$1" "$2" 25 <<'EOF'
match ^220 mx\.example ESMTP$
send HELO clean.example
expect 250
send QUIT
expect 221
EOF
}
tarpitted 192.0.2.10 "$PL_MX4" "the local list" || fail "listed IPv4 sender not tarpitted"
tarpitted 2001:db8::10 "$PL_MX6" "the command's list" || fail "listed IPv6 sender not tarpitted"
delivered 192.0.2.11 "$PL_MX4" || fail "unlisted IPv4 sender did not reach the MTA"
delivered 2001:db8::11 "$PL_MX6" || fail "unlisted IPv6 sender did not reach the MTA"
# smtp-sink's banner is "220 mx.example ESMTP" alone; spamd's adds its name.
expect_grep '192\.0\.2\.10: connected \(1/1\), lists: local' "$T/spamd.log"
grep -q '192\.0\.2\.11: connected' "$T/spamd.log" && fail "the unlisted sender was redirected"
pass "blacklist-only mode"
