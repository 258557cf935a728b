#!/bin/bash
# capture.sh: record real_mixed.pcap, a capture of the kernel's own NFLOG
# records, in two private network namespaces. Run as root from the top of
# the source tree:
#	bash tests/data/nflog/capture.sh [outfile]
#
# The MX namespace logs, to group 25 with queue-threshold 1 as
# nft/spamd.nft does, new connections to port 25 at the input hook
# ("spamd-in") and at the output hook ("spamd-out"), plus the SYN+ACK
# that answers an outbound connection (also "spamd-in", so that the
# decoder's SYN-only rule is exercised on a real record). The sender
# then connects to the MX over IPv4 and IPv6, and the MX connects back.
# Expected records, in order (t_nflog.c checks them):
#	1 in  SYN 192.0.2.10 -> 192.0.2.25:25
#	2 in  SYN 2001:db8::10 -> 2001:db8::25:25
#	3 out SYN 192.0.2.25 -> 192.0.2.10:25
#	4 in  SYN+ACK 192.0.2.10:25 -> 192.0.2.25
#	5 out SYN 2001:db8::25 -> 2001:db8::10:25
#	6 in  SYN+ACK 2001:db8::10:25 -> 2001:db8::25
# Nothing leaves the namespaces; both are removed on exit.
. tests/lib.sh
need_root
need_cmd tcpdump smtp-sink nft ip

out=${1:-tests/data/nflog/real_mixed.pcap}
t_tmp
S=$(ns_new capS)
M=$(ns_new capM)
# ns_new runs in a command substitution, whose exit handlers are lost.
for ns in "$S" "$M"; do
	at_exit "ip netns pids '$ns' | xargs -r kill -9; ip netns del '$ns'"
done
ns_link "$S" 192.0.2.10/24 "$M" 192.0.2.25/24 2001:db8::10/64 2001:db8::25/64

ip netns exec "$M" nft -f - <<'EOF' || fail "nft ruleset"
table inet capture {
	chain in {
		type filter hook input priority filter;
		tcp dport 25 ct state new log prefix "spamd-in" group 25 queue-threshold 1
		tcp sport 25 tcp flags & (syn | ack) == syn | ack log prefix "spamd-in" group 25 queue-threshold 1
	}
	chain out {
		type filter hook output priority filter;
		tcp dport 25 ct state new log prefix "spamd-out" group 25 queue-threshold 1
	}
}
EOF

for a in 192.0.2.25 '[2001:db8::25]'; do
	ip netns exec "$M" smtp-sink -u postfix "$a:25" 10 &
	at_exit "kill $!"
done
for a in 192.0.2.10 '[2001:db8::10]'; do
	ip netns exec "$S" smtp-sink -u postfix "$a:25" 10 &
	at_exit "kill $!"
done
ip netns exec "$M" tcpdump -U -n -i nflog:25 -w "$T/cap.pcap" 2>"$T/tcpdump.err" &
tcpd=$!
at_exit "kill $tcpd"
wait_for 5 grep -q listening "$T/tcpdump.err" || fail "tcpdump did not start"

count() { tcpdump -n -r "$T/cap.pcap" 2>/dev/null | wc -l; }
connect() {
	local ns=$1 host=$2 want=$3
	ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$host/25 && head -c 3 <&3 >/dev/null" ||
		fail "connect $host from $ns"
	wait_for 5 test "$(count)" -ge "$want" || fail "no NFLOG record for $host"
}
wait_for 5 ip netns exec "$S" bash -c 'exec 3<>/dev/tcp/192.0.2.25/25' ||
	fail "smtp-sink not listening"
# That first probe connection was logged too; start from a clean file.
kill -INT $tcpd; wait $tcpd 2>/dev/null
ip netns exec "$M" tcpdump -U -n -i nflog:25 -w "$T/cap.pcap" 2>"$T/tcpdump.err" &
tcpd=$!
at_exit "kill $tcpd"
wait_for 5 grep -q listening "$T/tcpdump.err" || fail "tcpdump did not restart"

connect "$S" 192.0.2.25 1
connect "$S" 2001:db8::25 2
connect "$M" 192.0.2.10 4
connect "$M" 2001:db8::10 6
kill -INT $tcpd
wait $tcpd 2>/dev/null
tcpdump -n -r "$T/cap.pcap"
cp "$T/cap.pcap" "$out" || fail "cp $out"
echo "wrote $out"
