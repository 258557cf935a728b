#!/bin/bash
# sync.sh: three MX hosts share greylisting state (spamd --sync-peer, -y),
# each in its own namespace on one bridge with nft/spamd.nft, spamd and a
# real MTA (smtp-sink). Over IPv4 and IPv6 clients: a tuple seen on one
# appears on the others; a sender deferred by the first and retrying at
# the second after passtime passes there and is whitelisted on all three,
# in their databases and nft sets within a second; a trap propagates; a
# real Postfix sender greylisted by mx1 and switched to mx2 is delivered
# by mx2's MTA; a host that was down catches up what it missed when it
# starts; datagrams forged (wrong key), replayed (old timestamp) or
# truncated change nothing, and a valid OpenBSD version-2 datagram built
# by an independent encoder (Python) is applied.
# timeout: 200
. tests/lib.sh
. tests/pipeline.sh
need_root
need_cmd nft smtp-sink swaks python3 postfix
ensure_spamd_user
t_tmp

BR=$(ns_new br)
ip -n "$BR" link add name br0 type bridge || fail "bridge"
ip -n "$BR" link set br0 up
join() {	# join NS V4 V6: a veth from NS to the bridge
	local va="s$2" vb
	va="sa$$-${2##*.}" vb="sb$$-${2##*.}"
	ip link add "$va" netns "$1" type veth peer name "$vb" netns "$BR" ||
		fail "veth $1"
	ip -n "$BR" link set "$vb" master br0 up
	ip -n "$1" addr add "$2/24" dev "$va"
	ip -n "$1" addr add "$3/64" dev "$va" nodad
	ip -n "$1" link set "$va" up
}
S=$(ns_new snd)
join "$S" 192.0.2.10 2001:db8::10
for a in 192.0.2.11 192.0.2.12 192.0.2.66; do
	ip -n "$S" addr add "$a/24" dev "sa$$-10" || fail "address $a"
done
declare -A NS
for i in 1 2 3; do
	NS[$i]=$(ns_new mx$i)
	join "${NS[$i]}" 192.0.2.$i 2001:db8::$i
	ip netns exec "${NS[$i]}" nft -f nft/spamd.nft || fail "nft in mx$i"
	mkdir -p "$T/mx$i/db" "$T/mx$i/sink"
	chown _spamd: "$T/mx$i/db"
	ip netns exec "${NS[$i]}" smtp-sink -u postfix -h mx$i.example \
		-c "192.0.2.$i:25" 100 >"$T/mx$i/sink.log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
done
sleep 2		# IPv6 addresses settle
printf 'sharedsecret\n' >"$T/key"
start_mx() {	# start_mx I: spamd on mxI, syncing with the two others
	local i=$1 j peers=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || peers="$peers --sync-peer 192.0.2.$j"
	done
	local n
	n=$(grep -c 'listening for incoming connections' "$T/mx$i/spamd.log" 2>/dev/null)
	# shellcheck disable=SC2086
	ip netns exec "${NS[$i]}" "$BIN/spamd" -d -v -f "$T/mx$i/db/spamd.db" \
		-h mx$i.example --config-socket "$T/mx$i/spamd.sock" \
		-G 5s:1h:1d -s 0 -y 192.0.2.$i $peers --sync-key "$T/key" \
		2>>"$T/mx$i/spamd.log" &
	PID[$i]=$!
	at_exit "kill ${PID[$i]} 2>/dev/null"
	wait_for 10 sh -c "[ \$(grep -c 'listening for incoming connections' '$T/mx$i/spamd.log') -gt ${n:-0} ]" ||
		{ cat "$T/mx$i/spamd.log"; fail "spamd on mx$i did not start"; }
}
declare -A PID
for i in 1 2 3; do start_mx $i; done
db() { "$BIN/spamdb" -f "$T/mx$1/db/spamd.db"; }
on_all() {	# on_all REGEX SECS: every MX's spamdb matches within SECS
	local i
	for i in 1 2 3; do
		wait_for "$2" sh -c "'$BIN/spamdb' -f '$T/mx$i/db/spamd.db' | grep -Eq '$1'" ||
			{ db $i; cat "$T/mx$i/spamd.log" | tail -20; fail "mx$i lacks /$1/"; }
	done
}
smtp() {	# smtp SRC MX TO: one attempt; 0 if delivered
	ip netns exec "$S" timeout 30 swaks --server "$2" --port 25 \
		--local-interface "$1" --ehlo "client.example" \
		--from alice@sender.example --to "$3" --timeout 20 \
		>"$T/swaks.out" 2>&1
}

# A tuple seen by mx1, over IPv4 and IPv6, reaches mx2 and mx3.
smtp 192.0.2.10 192.0.2.1 bob@example.net && fail "first attempt delivered"
smtp 2001:db8::10 2001:db8::1 carol@example.net && fail "first v6 attempt delivered"
on_all '^GREY\|192\.0\.2\.10\|client\.example\|<alice@sender\.example>\|<bob@example\.net>\|' 5
on_all '^GREY\|2001:db8::10\|client\.example\|<alice@sender\.example>\|<carol@example\.net>\|' 5
pass "tuples (IPv4, IPv6) seen by mx1 are on all three"

# The retry after passtime at mx2 passes there: whitelisted everywhere.
sleep 6
smtp 192.0.2.10 192.0.2.2 bob@example.net && fail "the passing attempt was delivered"
t0=$(date +%s.%N)
on_all '^WHITE\|192\.0\.2\.10\|' 5
t1=$(date +%s.%N)
for i in 1 2 3; do
	wait_for 3 sh -c "ip netns exec '${NS[$i]}' nft list set inet spamd spamd_white | grep -q 192.0.2.10" ||
		fail "192.0.2.10 not in mx$i's set"
done
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "whitelisted on all three %.2f s after the pass\n", b - a; exit !(b - a < 1.5) }' ||
	fail "promotion took more than a second to reach the peers"
smtp 192.0.2.10 192.0.2.3 bob@example.net || { cat "$T/swaks.out"; fail "mx3 did not let the white host through"; }
smtp 2001:db8::10 2001:db8::3 carol@example.net && fail "v6 retry at mx3 delivered"
on_all '^WHITE\|2001:db8::10\|' 5
pass "a retry at another MX passes and whitelists on all three"

# A trap at mx2 traps everywhere.
"$BIN/spamdb" -f "$T/mx2/db/spamd.db" -T -a 'trap@example.net' || fail "spamtrap"
smtp 192.0.2.66 192.0.2.2 trap@example.net
on_all '^TRAPPED\|192\.0\.2\.66\|' 5
pass "a trap propagates"

# mx3 is down while mx1 sees a new tuple and mx2 a new pass; when it
# starts again (empty database) it catches up both.
kill "${PID[3]}"; wait "${PID[3]}" 2>/dev/null
rm -f "$T/mx3/db/"*
smtp 192.0.2.11 192.0.2.1 dave@example.net && fail "a new tuple was delivered"
db 1 | grep -q '<dave@example.net>' || fail "mx1 did not record dave"
start_mx 3
wait_for 10 sh -c "'$BIN/spamdb' -f '$T/mx3/db/spamd.db' | grep -q '^WHITE|192.0.2.10|'" ||
	{ db 3; tail "$T/mx3/spamd.log"; fail "mx3 did not catch up the WHITE entry"; }
wait_for 10 sh -c "'$BIN/spamdb' -f '$T/mx3/db/spamd.db' | grep -q '<dave@example.net>'" ||
	fail "mx3 did not catch up the tuple it missed"
first1=$(db 1 | awk -F'|' '/<dave@example.net>/ { print $6 }')
first3=$(db 3 | awk -F'|' '/<dave@example.net>/ { print $6 }')
[ "$first1" = "$first3" ] || fail "the caught-up tuple restarted its clock ($first1, $first3)"
expect_grep 'sync: a peer restarted; sending it [0-9]+ live records' "$T/mx1/spamd.log"
pass "a restarted host catches up the WHITE entries and tuples it missed"

# Hostile datagrams: forged, replayed, truncated; and an independent
# encoder's valid OpenBSD datagram.
ip netns exec "$S" python3 - "$T/key" 192.0.2.2 <<'PY' >"$T/py.log" 2>&1 || { cat "$T/py.log"; fail "python sender"; }
import hashlib, hmac, socket, struct, sys, time
key = hashlib.sha1(open(sys.argv[1], "rb").read()).hexdigest().encode()
def grey(ip, helo, frm, to, ts, k=key):
    s = frm.encode() + b"\0" + to.encode() + b"\0" + helo.encode() + b"\0"
    body = struct.pack(">I4sHHH", ts, socket.inet_aton(ip), len(frm) + 1,
                       len(to) + 1, len(helo) + 1) + s
    tl = 4 + len(body)
    tl = (tl + 15) // 16 * 16
    tlv = struct.pack(">HH", 1, tl) + body + b"\0" * (tl - 4 - len(body))
    total = 32 + len(tlv) + 4
    hdr = struct.pack(">BBHI20s4s", 2, 2, total, 7, b"\0" * 20, b"\0" * 4)
    d = hdr + tlv + struct.pack(">HH", 0, 4)
    mac = hmac.new(k, d, hashlib.sha1).digest()
    return d[:8] + mac + d[28:]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
now = int(time.time())
dst = (sys.argv[2], 8025)
u.sendto(grey("198.51.100.1", "h.example", "<x@example.org>", "<ok@example.net>", now), dst)
u.sendto(grey("198.51.100.2", "h.example", "<x@example.org>", "<forged@example.net>", now, b"0" * 40), dst)
u.sendto(grey("198.51.100.3", "h.example", "<x@example.org>", "<replayed@example.net>", now - 3600), dst)
d = grey("198.51.100.4", "h.example", "<x@example.org>", "<truncated@example.net>", now)
u.sendto(d[:60], dst)
u.sendto(b"\x02\x02" + b"\xff" * 40, dst)
PY
wait_for 5 sh -c "'$BIN/spamdb' -f '$T/mx2/db/spamd.db' | grep -q '<ok@example.net>'" ||
	{ tail "$T/mx2/spamd.log"; fail "a valid version-2 datagram was not applied"; }
sleep 1
db 2 | grep -Eq 'forged|replayed|truncated' && fail "a hostile datagram was applied"
expect_grep 'sync: dropped a datagram from 192\.0\.2\.10: (bad mac|timestamp too far|truncated)' "$T/mx2/spamd.log"
pass "forged, replayed and truncated datagrams change nothing"

# A real Postfix sender: deferred by mx1, then (its relay switched, as a
# sender tries its next MX) retrying at mx2 after passtime: it passes
# there, is whitelisted on all three, and mx2's MTA gets the message.
PL_SNS=$S
PL_SENDER_BIND=192.0.2.12 pl_sender "[192.0.2.1]"
pl_send alice@sender.example bob@mx.example "from mx1 to mx2"
pl_wait_log 'status=deferred \(host 192\.0\.2\.1\[192\.0\.2\.1\] said: 451 ' 30 ||
	{ cat "$T/maillog"; fail "mx1 did not defer the real sender"; }
ip netns exec "$S" postconf -c "$PL_PFDIR" -e 'relayhost = [192.0.2.2]'
ip netns exec "$S" postfix -c "$PL_PFDIR" reload >/dev/null 2>&1
pl_wait_log 'status=sent \(250 .*' 60 ||
	{ cat "$T/maillog"; tail "$T/mx2/spamd.log"; fail "never delivered at mx2"; }
grep 'status=sent' "$T/maillog" | grep -q 'relay=192\.0\.2\.2\[192\.0\.2\.2\]:25' ||
	fail "delivered elsewhere than mx2"
on_all '^WHITE\|192\.0\.2\.12\|' 5
grep -E 'allow-list|killed by signal' "$T"/mx*/spamd.log && fail "a process was killed"
pass "a real sender deferred by mx1 is delivered by mx2 after passtime"
