#!/bin/bash
# peraddr.sh: one address cannot take every connection slot. Beyond the
# per-address limit (default 20) a new connection from that address is
# closed without a banner, as at -c, with a rate-limited log line; other
# addresses are served. IPv6 clients count per /64.
# timeout: 90
. tests/lib.sh
private_net "$@"
t_tmp
for i in 2 3; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null; done
for a in 2001:db8::1 2001:db8::2 2001:db8:0:1::1; do
	ip addr add $a/128 dev lo nodad || fail "ip addr add $a"
done
L=$T/spamd.log

# hold N SRC: N connections from SRC that wait for the banner, then sit.
hold() {
	local n=$1 src=$2 i
	for ((i = 0; i < n; i++)); do
		chat "$3" -s "$src" <<'EOF' &
timeout 20
expect 220
sleep 4
send QUIT
expect 221
EOF
		pids="${pids:-} $!"
	done
}

spamd_start -s 0 -c 100
pids=
hold 20 127.0.0.2 127.0.0.1
wait_for 10 sh -c "[ \$(grep -c '127\.0\.0\.2: connected' '$L') -ge 20 ]" || fail "20 connections not up"
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "21st connection from one address not closed"
timeout 5
expect-close
EOF
chat 127.0.0.1 -s 127.0.0.3 <<'EOF' || fail "another address not served"
expect 220
send QUIT
expect 221
EOF
for p in $pids; do wait $p || fail "held connections"; done
expect_grep '20 connections from 127\.0\.0\.2 \(--maxcon-per-address\) reached: closed 1 new connection$' "$L"
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "not served again after the others left"
expect 220
EOF

# IPv6: 2001:db8::1 and 2001:db8::2 share a /64, 2001:db8:0:1::1 does not.
spamd_stop
spamd_start -s 0 --maxcon-per-address 2
pids=
hold 2 2001:db8::1 2001:db8::1
wait_for 10 sh -c "[ \$(grep -c '2001:db8::1: connected' '$L') -ge 2 ]" || fail "2 v6 connections not up"
chat 2001:db8::1 -s 2001:db8::2 <<'EOF' || fail "same /64 not limited"
timeout 5
expect-close
EOF
chat 2001:db8::1 -s 2001:db8:0:1::1 <<'EOF' || fail "another /64 not served"
expect 220
send QUIT
expect 221
EOF
for p in $pids; do wait $p || fail "held v6 connections"; done
expect_grep '2 connections from 2001:db8::/64 \(--maxcon-per-address\) reached: closed 1 new connection$' "$L"

# --address-prefix 32:48 makes 2001:db8:0:1::1 part of the same block.
spamd_stop
spamd_start -s 0 --maxcon-per-address 2 --address-prefix 32:48
pids=
hold 2 2001:db8::1 2001:db8::1
wait_for 10 sh -c "[ \$(grep -c '2001:db8::1: connected' '$L') -ge 4 ]" || fail "v6 connections not up (2)"
chat 2001:db8::1 -s 2001:db8:0:1::1 <<'EOF' || fail "/48 not limited"
timeout 5
expect-close
EOF
for p in $pids; do wait $p || fail "held v6 connections (2)"; done
pass "peraddr"
