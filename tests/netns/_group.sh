#!/bin/bash
# _group.sh FAMILY: spamd -g 24:64 with real nftables and a real MTA
# (smtp-sink) over IPv4 (4) or IPv6 (6). A sender that changes its address
# inside one /24 (one /64) at every attempt: the first is greylisted, the
# retry after passtime from another address passes and whitelists the
# network (database and spamd_whitenet), and the next attempt, from a
# third address, reaches the real MTA. spamdb shows and accepts network
# entries; spamlogd -g renews the network's record; spamd-nftsync keeps
# its element. A network that holds a blacklisted address is never
# whitelisted (the passing address alone is), and a network whitelisted
# before its list was loaded is removed from the whitelist and the set.
# Sourced by group4.sh and group6.sh.
. tests/lib.sh
. tests/pipeline.sh
need_cmd swaks
t_tmp
fam=$1
if [ "$fam" = 4 ]; then
	net=192.0.2.0/24 a1=192.0.2.10 a2=192.0.2.11 a3=192.0.2.12 mx=$PL_MX4
	other=198.51.100.0/24 o1=198.51.100.10 o2=198.51.100.11
	listed=198.51.100.99 late=192.0.2.77 set=spamd_whitenet mxo=198.51.100.25
	plen=24
else
	net=2001:db8::/64 a1=2001:db8::10 a2=2001:db8::11 a3=2001:db8::12 mx=$PL_MX6
	other=2001:db8:1::/64 o1=2001:db8:1::10 o2=2001:db8:1::11
	listed=2001:db8:1::99 late=2001:db8::77 set=spamd_whitenet6 mxo=2001:db8:1::25
	plen=64
fi
pl_setup
dev=$(ip -n "$PL_SNS" -o link show | awk -F': ' '$2 ~ /^va/ { sub(/@.*/, "", $2); print $2 }')
mdev=$(ip -n "$PL_MNS" -o link show | awk -F': ' '$2 ~ /^vb/ { sub(/@.*/, "", $2); print $2 }')
for a in $a2 $a3 $o1 $o2; do
	ip -n "$PL_SNS" addr add "$a/$plen" dev "$dev" nodad 2>/dev/null ||
		ip -n "$PL_SNS" addr add "$a/$plen" dev "$dev" || fail "address $a"
done
ip -n "$PL_MNS" addr add "$mxo/$plen" dev "$mdev" nodad 2>/dev/null ||
	ip -n "$PL_MNS" addr add "$mxo/$plen" dev "$mdev" || fail "address $mxo"
sleep 2		# IPv6 addresses settle

# (mxo: the MX on the other network too, for the way back.)
# A list holding one address of the other network.
echo "$listed" >"$T/bad.txt"
cat >"$T/spamd.conf" <<EOF
all:\\
	:bad:
bad:\\
	:black:\\
	:msg="listed":\\
	:method=file:\\
	:file=$T/bad.txt:
EOF
pl_spamd -G 3s:1h:1d -s 0 -g 24:64 -v
pl_mx "$BIN/spamd-setup" --socket "$T/spamd.sock" -c "$T/spamd.conf" || fail "spamd-setup"
pl_spamlogd -W 1d -g 24:64

attempt() {	# attempt SRC DST: 0 if delivered (250 at the end of DATA)
	ip netns exec "$PL_SNS" timeout 30 swaks --server "$2" --port 25 \
		--local-interface "$1" --ehlo "host-$1.sender.example" \
		--from alice@sender.example --to bob@mx.example \
		--timeout 20 >"$T/swaks.$1" 2>&1
}

attempt "$a1" "$mx" && { cat "$T/swaks.$a1"; fail "the first attempt was delivered"; }
grep -q '451 Temporary failure' "$T/swaks.$a1" || { cat "$T/swaks.$a1"; fail "no 451 for $a1"; }
"$BIN/spamdb" -f "$DB" | tee "$T/db1"
grep -q "^GREY|$net||<alice@sender.example>|<bob@mx.example>|" "$T/db1" ||
	fail "the tuple is not keyed by the network, without HELO"
sleep 4
attempt "$a2" "$mx" && fail "the passing attempt reached the MTA (it is at spamd)"
expect_grep "whitelisting $net \\(network of $a2, -g\\)" "$T/spamd.log"
wait_for 5 sh -c "ip netns exec '$PL_MNS' nft list set inet spamd $set | grep -q '$net'" ||
	{ pl_mx nft list set inet spamd $set; fail "$net not in $set"; }
pl_mx nft list set inet spamd $set
attempt "$a3" "$mx" || { cat "$T/swaks.$a3"; fail "$a3 of the whitelisted network was not delivered"; }
grep -Eq '<- +250 .*(queued|Ok)' "$T/swaks.$a3" || { cat "$T/swaks.$a3"; fail "no 250 from the real MTA"; }
"$BIN/spamdb" -f "$DB" | tee "$T/db2"
grep -q "^WHITE|$net|||" "$T/db2" || fail "no WHITE network entry"
grep -q "^WHITE|$a2|" "$T/db2" && fail "the address was whitelisted besides its network"

# spamlogd renews the network's record, not one of its own for a3.
wait_for 10 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^WHITE|$net|||.*|[1-9][0-9]*\$'" ||
	{ cat "$T/spamlogd.log"; "$BIN/spamdb" -f "$DB"; fail "spamlogd did not renew $net"; }
"$BIN/spamdb" -f "$DB" | grep -q "^WHITE|$a3|" && fail "spamlogd made $a3 WHITE on its own"

# spamd-nftsync reconciles the network set from the database.
pl_mx nft flush set inet spamd $set
pl_mx "$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$T/spamd.sock" || fail "spamd-nftsync"
pl_mx nft list set inet spamd $set | grep -q "$net" || fail "spamd-nftsync did not restore $net"

# The other network holds a listed address: the passing address alone.
attempt "$o1" "$mx" && fail "first attempt from $o1 delivered"
sleep 4
attempt "$o1" "$mx" && fail "the passing attempt from $o1 reached the MTA"
expect_grep "whitelisting $o1 \\(not its network $other, which holds listed addresses\\)" "$T/spamd.log"
pl_mx nft list set inet spamd $set | grep -q "$other" && fail "$other whitelisted despite $listed"
attempt "$o2" "$mx" && fail "$o2 passed through a network that holds a listed address"
attempt "$o1" "$mx" || { cat "$T/swaks.$o1"; fail "$o1 itself was not delivered"; }

# spamdb: a network can be added and deleted as WHITE, never TRAPPED.
"$BIN/spamdb" -f "$DB" -a "$other" -t 2>&1 | grep -q 'invalid ip address' ||
	fail "spamdb trapped a network"
"$BIN/spamdb" -f "$DB" -d "$net" || fail "spamdb -d $net"
"$BIN/spamdb" -f "$DB" | grep -q "^WHITE|$net|" && fail "spamdb -d left $net"
"$BIN/spamdb" -f "$DB" -a "$net" || fail "spamdb -a $net"
"$BIN/spamdb" -f "$DB" | grep -q "^WHITE|$net|||" || fail "spamdb -a did not add $net"

# A list loaded later that holds an address of the white network: the
# network leaves the whitelist and its set.
echo "$late" >>"$T/bad.txt"
pl_mx "$BIN/spamd-setup" --socket "$T/spamd.sock" -c "$T/spamd.conf" || fail "spamd-setup again"
wait_for 15 grep -q "$net holds blacklisted addresses, removing from whitelist" "$T/spamd.log" ||
	{ tail -20 "$T/spamd.log"; fail "$net stayed whitelisted with $late listed"; }
wait_for 10 sh -c "! ip netns exec '$PL_MNS' nft list set inet spamd $set | grep -q '$net'" ||
	fail "$net still in $set"
grep -E 'allow-list|killed by signal' "$T/spamd.log" && fail "a process was killed"
pass "spamd -g 24:64 over IPv$fam: network keys, network whitelist, listed networks kept out"
