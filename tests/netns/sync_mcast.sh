#!/bin/bash
# sync_mcast.sh: OpenBSD's own way, sync version 2 only: two MX hosts in
# namespaces on one bridge, spamd -y IFACE -Y IFACE (the multicast group
# 224.0.1.240 on the interface), and spamlogd -Y sending its WHITE
# refreshes by unicast. A tuple seen by mx1 reaches mx2 through the group;
# the retry at mx2 after passtime passes there and whitelists the sender
# on both; spamlogd on mx2 sees the sender reach the real MTA and mx1's
# WHITE entry counts the refresh. IPv6 tuples are not in version 2: they
# stay where they were seen. A key that differs: nothing is applied.
# timeout: 120
. tests/lib.sh
need_root
need_cmd nft smtp-sink swaks
ensure_spamd_user
t_tmp

BR=$(ns_new br)
ip -n "$BR" link add name br0 type bridge || fail "bridge"
ip -n "$BR" link set br0 up
join() {	# join NS V4 V6 DEV
	ip link add "$4" netns "$1" type veth peer name "b$4" netns "$BR" ||
		fail "veth $1"
	ip -n "$BR" link set "b$4" master br0 up
	ip -n "$1" addr add "$2/24" dev "$4"
	ip -n "$1" addr add "$3/64" dev "$4" nodad
	ip -n "$1" link set "$4" up
	ip -n "$1" route add 224.0.0.0/4 dev "$4"
}
S=$(ns_new snd)
join "$S" 192.0.2.10 2001:db8::10 "s$$"
declare -A NS PID
for i in 1 2; do
	NS[$i]=$(ns_new mx$i)
	join "${NS[$i]}" 192.0.2.$i 2001:db8::$i "m$i$$"
	ip netns exec "${NS[$i]}" nft -f nft/spamd.nft || fail "nft in mx$i"
	mkdir -p "$T/mx$i/db"
	chown _spamd: "$T/mx$i/db"
	ip netns exec "${NS[$i]}" smtp-sink -u postfix -h mx$i.example \
		-c "192.0.2.$i:25" 100 >"$T/mx$i/sink.log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
done
sleep 2
printf 'sharedsecret\n' >"$T/key"
printf 'another\n' >"$T/key2"
start_mx() {	# start_mx I KEY
	local i=$1
	ip netns exec "${NS[$i]}" "$BIN/spamd" -d -v -f "$T/mx$i/db/spamd.db" \
		-h mx$i.example --config-socket "$T/mx$i/spamd.sock" \
		-G 5s:1h:1d -s 0 -y "m$i$$" -Y "m$i$$" --sync-key "$2" \
		2>>"$T/mx$i/spamd.log" &
	PID[$i]=$!
	at_exit "kill ${PID[$i]} 2>/dev/null"
	wait_for 10 grep -q 'listening for incoming connections' "$T/mx$i/spamd.log" ||
		{ cat "$T/mx$i/spamd.log"; fail "spamd on mx$i did not start"; }
}
start_mx 1 "$T/key"
start_mx 2 "$T/key"
ip netns exec "${NS[2]}" "$BIN/spamlogd" -D -f "$T/mx2/db/spamd.db" -W 1d \
	-Y 192.0.2.1 --sync-key "$T/key" 2>>"$T/mx2/spamlogd.log" &
at_exit "kill $! 2>/dev/null"
db() { "$BIN/spamdb" -f "$T/mx$1/db/spamd.db"; }
smtp() {	# smtp SRC MX TO
	ip netns exec "$S" timeout 30 swaks --server "$2" --port 25 \
		--local-interface "$1" --ehlo client.example \
		--from alice@sender.example --to "$3" --timeout 20 \
		>"$T/swaks.out" 2>&1
}

smtp 192.0.2.10 192.0.2.1 bob@example.net && fail "first attempt delivered"
smtp 2001:db8::10 2001:db8::1 carol@example.net && fail "first v6 attempt delivered"
wait_for 5 sh -c "'$BIN/spamdb' -f '$T/mx2/db/spamd.db' | grep -q '^GREY|192.0.2.10|client.example|<alice@sender.example>|<bob@example.net>|'" ||
	{ db 2; tail "$T/mx2/spamd.log"; fail "the tuple did not reach mx2 through the group"; }
db 2 | grep -q 'carol' && fail "an IPv6 tuple went out in version 2"
pass "a tuple reaches the other MX through the multicast group"

sleep 6
smtp 192.0.2.10 192.0.2.2 bob@example.net && fail "the passing attempt was delivered"
for i in 1 2; do
	wait_for 5 sh -c "'$BIN/spamdb' -f '$T/mx$i/db/spamd.db' | grep -q '^WHITE|192.0.2.10|'" ||
		{ db $i; fail "not whitelisted on mx$i"; }
done
pass "the retry at mx2 passes and whitelists on both"

# spamlogd on mx2: the white host reaches mx2's MTA; mx1 counts it.
before=$(db 1 | awk -F'|' '/^WHITE\|192\.0\.2\.10\|/ { print $9 }')
smtp 192.0.2.10 192.0.2.2 bob@example.net || { cat "$T/swaks.out"; fail "not delivered at mx2"; }
wait_for 10 sh -c "[ \"\$('$BIN/spamdb' -f '$T/mx1/db/spamd.db' | awk -F'|' '/^WHITE\\|192\\.0\\.2\\.10\\|/ { print \$9 }')\" -gt ${before:-0} ]" ||
	{ db 1; cat "$T/mx2/spamlogd.log"; fail "spamlogd's refresh did not reach mx1"; }
pass "spamlogd -Y sends its refreshes"

# A host with another key: nothing it sends is applied.
kill "${PID[2]}"; wait "${PID[2]}" 2>/dev/null
start_mx 2 "$T/key2"
ip netns exec "$S" ip addr add 192.0.2.11/24 dev "s$$"
smtp 192.0.2.11 192.0.2.2 eve@example.net && fail "delivered"
sleep 2
db 1 | grep -q 'eve@example.net' && fail "a datagram with the wrong key was applied"
wait_for 5 grep -q 'sync: dropped a datagram from 192.0.2.2: bad mac' "$T/mx1/spamd.log" ||
	fail "the bad MAC was not logged"
pass "a wrong key changes nothing"
