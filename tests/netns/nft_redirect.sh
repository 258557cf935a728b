#!/bin/bash
# nft_redirect.sh: nft/spamd.nft on the packet path. Two namespaces, a
# sender (192.0.2.10, 2001:db8::10) and an MX (192.0.2.25, 2001:db8::25)
# joined by a veth; the MX loads spamd.nft and listens on ports 25 (the
# "real MTA") and 8025 ("spamd"). For IPv4 and IPv6:
#   - a connection to MX port 25 from an unknown host lands on 8025;
#   - once the sender is in spamd_white(6) it lands on 25;
#   - in nospamd(6) (an interval) it lands on 25 too;
#   - a direct connection to MX port 8025 is dropped;
#   - on the MX itself, loopback connections to 8025 still work;
#   - NFLOG group 25 (spamlogd's feed, read here with tcpdump) sees the
#     white host's connection to the MTA and the MX's own outbound SMTP,
#     and no redirected or nospamd connection.
# In blacklist-only mode (spamd-blacklist-only.nft) only spamd_black(6)
# members land on 8025.
# timeout: 90
. tests/lib.sh

need_root
need_cmd nft ip python3
[ -x "$TBIN/nftset" ] || skip "$TBIN/nftset not built (make tests)"
t_tmp
ns_new nftsnd >/dev/null
ns_new nftmx >/dev/null
SND=nftsnd-$$
MX=nftmx-$$
ns_link "$SND" 192.0.2.10/24 "$MX" 192.0.2.25/24 2001:db8::10/64 2001:db8::25/64

mx() { ip netns exec "$MX" "$@"; }
nftset() { mx "$TBIN/nftset" "$@"; }

mx nft -f nft/spamd.nft || fail "loading nft/spamd.nft in the MX"
if command -v tcpdump >/dev/null 2>&1; then
	ip netns exec "$MX" tcpdump -Z root -i nflog:25 -U -w "$T/nflog.pcap" \
	    2>"$T/tcpdump.err" &
	tpid=$!
	wait_for 5 grep -q listening "$T/tcpdump.err" ||
		fail "tcpdump on nflog:25: $(cat "$T/tcpdump.err")"
fi

# The listener: one dual-stack socket per port; each accepted connection
# appends "LOCALPORT PEER" to $T/accepts and is closed.
cat >"$T/listen.py" <<'EOF'
import select, socket, sys, time
out = open(sys.argv[1], "a", buffering=1)
socks = {}
for port in (25, 8025):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(16)
    socks[s] = port
open(sys.argv[2], "w").close()
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        c, peer = s.accept()
        host = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
        out.write("%d %s\n" % (socks[s], host))
        c.close()
EOF
# The client: exit 0 if the connection is established within TIMEOUT s.
cat >"$T/connect.py" <<'EOF'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])),
        timeout=float(sys.argv[3])).close()
except OSError as e:
    print("connect %s port %s: %s" % (sys.argv[1], sys.argv[2], e))
    sys.exit(1)
EOF
: >"$T/accepts"
mx python3 "$T/listen.py" "$T/accepts" "$T/ready" 80 &
lpid=$!
wait_for 5 test -e "$T/ready" || fail "listener did not start"

# expect_landing DST PORT: a connection from the sender to DST:25 was
# accepted on PORT of the MX.
expect_landing() {
	local dst=$1 want=$2 before
	before=$(wc -l <"$T/accepts")
	# 3 s: the first IPv6 packets wait for neighbour discovery.
	ip netns exec "$SND" python3 "$T/connect.py" "$dst" 25 3 ||
		fail "sender could not connect to $dst port 25"
	wait_for 2 test "$(wc -l <"$T/accepts")" -gt "$before" ||
		fail "no connection accepted for $dst"
	tail -n 1 "$T/accepts" | grep -q "^$want " ||
		fail "connection to $dst:25 landed on $(tail -n 1 "$T/accepts")," \
		    "expected port $want"
}
expect_dropped() {
	ip netns exec "$SND" python3 "$T/connect.py" "$1" 8025 1 >/dev/null &&
		fail "direct connection to $1 port 8025 was not dropped"
	return 0
}

expect_landing 192.0.2.25 8025
expect_landing 2001:db8::25 8025
pass "unknown hosts are redirected to 8025 (v4, v6)"

expect_dropped 192.0.2.25
expect_dropped 2001:db8::25
mx python3 "$T/connect.py" 127.0.0.1 8025 1 || fail "loopback to 8025 blocked"
mx python3 "$T/connect.py" ::1 8025 1 || fail "loopback ::1 to 8025 blocked"
pass "direct connections to 8025 dropped, loopback kept"

nftset -t 1h add spamd spamd_white 192.0.2.10 || fail "whitelist v4"
nftset -6 -t 1h add spamd spamd_white6 2001:db8::10 || fail "whitelist v6"
expect_landing 192.0.2.25 25
expect_landing 2001:db8::25 25
pass "white hosts reach port 25 (v4, v6)"

# Outbound SMTP from the MX (refused by the sender: the SYN is enough).
mx python3 "$T/connect.py" 192.0.2.10 25 1 >/dev/null

nftset del spamd spamd_white 192.0.2.10 || fail "unwhitelist v4"
nftset -6 del spamd spamd_white6 2001:db8::10 || fail "unwhitelist v6"
expect_landing 192.0.2.25 8025
nftset -i add spamd nospamd 192.0.2.0/24 || fail "nospamd v4"
nftset -6 -i add spamd nospamd6 2001:db8::/64 || fail "nospamd v6"
expect_landing 192.0.2.25 25
expect_landing 2001:db8::25 25
pass "nospamd hosts reach port 25 (v4, v6)"

if [ -n "${tpid:-}" ]; then
	sleep 0.3
	kill -TERM "$tpid"	# (background jobs ignore SIGINT)
	wait "$tpid" 2>/dev/null
	tcpdump -nn -r "$T/nflog.pcap" >"$T/nflog.txt" 2>/dev/null ||
		fail "reading the nflog capture"
	n4=$(grep -c 'IP 192\.0\.2\.10\.[0-9]* > 192\.0\.2\.25\.25:' "$T/nflog.txt")
	n6=$(grep -c 'IP6 2001:db8::10\.[0-9]* > 2001:db8::25\.25:' "$T/nflog.txt")
	no=$(grep -c 'IP 192\.0\.2\.25\.[0-9]* > 192\.0\.2\.10\.25:' "$T/nflog.txt")
	[ "$n4:$n6:$no" = 1:1:1 ] || {
		cat "$T/nflog.txt"
		fail "nflog saw in v4 $n4, in v6 $n6, out $no connections; expected 1:1:1"
	}
	pass "NFLOG 25 logs white inbound and outbound SMTP only"
fi

# Blacklist-only mode: the same sets, other rules.
mx nft -f nft/spamd-blacklist-only.nft || fail "blacklist-only ruleset"
nftset -i del spamd nospamd 192.0.2.0/24 || fail "un-nospamd v4"
nftset -6 -i del spamd nospamd6 2001:db8::/64 || fail "un-nospamd v6"
expect_landing 192.0.2.25 25
expect_landing 2001:db8::25 25
nftset -i add spamd spamd_black 192.0.2.0/28 || fail "blacklist v4"
nftset -6 -i add spamd spamd_black6 2001:db8::/120 || fail "blacklist v6"
expect_landing 192.0.2.25 8025
expect_landing 2001:db8::25 8025
expect_dropped 192.0.2.25
pass "blacklist-only mode redirects only blacklisted hosts (v4, v6)"
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
exit 0
