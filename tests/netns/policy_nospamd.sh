#!/bin/bash
# policy_nospamd.sh: in policy mode the nospamd sets exempt clients, as
# the ruleset does in redirect mode: real nftables in a namespace, spamd
# --policy-only. A client in nospamd gets DUNNO and leaves no tuple;
# blocks added to or deleted from the sets take effect within the nft
# helper's 5 s watch, for both families. A pass in policy mode puts the
# client in the white set too (one database, one whitelist, both modes).
# timeout: 90
. tests/lib.sh
need_root
need_cmd nft ip python3
t_tmp
NS=$(ns_new polnospamd)
nsx() { ip netns exec "$NS" "$@"; }
nsx nft -f nft/spamd.nft || fail "load nft/spamd.nft"
nsx nft add element inet spamd nospamd '{ 192.0.2.0/24 }' || fail "nospamd element"
ensure_spamd_user
mkdir -p "$T/db" "$T/p"
chown _spamd: "$T/db"
DB=$T/db/spamd.db
SOCK=$T/p/pol.sock
nsx "$BIN/spamd" -d -v -f "$DB" -h mx.test --config-socket "$T/spamd.sock" \
    --policy-only -P "$SOCK" -G 3s:1h:1d 2>>"$T/spamd.log" &
SPAMD_PID=$!
at_exit "kill $SPAMD_PID 2>/dev/null; wait $SPAMD_PID 2>/dev/null"
wait_for 10 grep -q 'nospamd: 1 range exempt from policy requests' "$T/spamd.log" ||
	{ cat "$T/spamd.log"; fail "the nospamd list did not reach the SMTP process"; }

ask() {		# ask CLIENT: the action for the tuple of CLIENT
	python3 - "$SOCK" "$1" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
           "client_address=%s\nhelo_name=h.example\nsender=a@example.org\n"
           "recipient=b@example.net\ninstance=1\n\n" % sys.argv[2]).encode())
buf = b""
while not buf.endswith(b"\n\n"):
    b = s.recv(4096)
    if not b: break
    buf += b
print(buf.decode().split("\n")[0])
PYEOF
}
check() {	# check CLIENT dunno|defer
	local a
	a=$(ask "$1")
	echo "$1: $a"
	case $2 in
	dunno) [ "$a" = action=DUNNO ] ;;
	defer) [[ $a == action=DEFER_IF_PERMIT* ]] ;;
	esac || fail "$1: '$a', expected $2"
}
check 192.0.2.10 dunno
check 198.51.100.10 defer
check 2001:db8:5::1 defer
spamdb=$("$BIN/spamdb" -f "$DB")
grep -q '|192\.0\.2\.10|' <<<"$spamdb" && fail "a nospamd client left a record: $spamdb"
expect_grep 'policy request for 192\.0\.2\.10: in nospamd, DUNNO' "$T/spamd.log"

# 198.51.100.10 retries after passtime: it passes, and is whitelisted
# in the nft set as in redirect mode.
sleep 4
a=$(ask 198.51.100.10)
[[ $a == "action=PREPEND X-Greylist: delayed "* ]] || fail "retry: '$a'"
wait_for 5 sh -c "ip netns exec '$NS' nft list set inet spamd spamd_white | grep -q '198\.51\.100\.10 '" ||
	fail "a policy pass is not in spamd_white: $(nsx nft list set inet spamd spamd_white)"

# Changes reach policy mode within the watch (5 s; 20 s allowed).
nsx nft add element inet spamd nospamd6 '{ 2001:db8:5::/48 }' || fail "nospamd6 element"
nsx nft delete element inet spamd nospamd '{ 192.0.2.0/24 }' || fail "delete element"
wait_for 20 sh -c "[ \$(grep -c 'nospamd: 1 range exempt from policy requests' '$T/spamd.log') -ge 2 ]" ||
	{ cat "$T/spamd.log"; fail "the changed sets did not reach the SMTP process"; }
check 2001:db8:5::1 dunno
check 192.0.2.10 defer
# A reloaded ruleset without the table's elements empties the list.
nsx nft flush ruleset || fail "flush ruleset"
wait_for 20 grep -q 'nospamd: 0 ranges exempt from policy requests' "$T/spamd.log" ||
	fail "the list outlived the table"
check 2001:db8:5::9 defer
pass "nospamd exempts policy requests, and follows the sets"
