#!/bin/bash
# nft_flap.sh: what tests/netns/nft_reload.sh leaves out. There the table
# is missing at start, flushed and reloaded, and deleted for good. Here,
# in a private network namespace:
#  (0) the table is deleted for a while: no database walk per retry;
#  (1) the table is deleted while spamd runs and a host passes meanwhile;
#  (2) it comes back wrong (spamd_white of type ipv6_addr): spamd's
#      updates fail, it says so and carries on;
#  (3) it comes back right: every WHITE host, old and new, is restored;
#  (4) ten delete/reload flaps in quick succession while another host
#      passes: afterwards all hosts are in the set;
# and through it all no spamd process dies and the nft helper keeps the
# descriptors it had (no netlink socket leaks).
# timeout: 180
. tests/lib.sh
. tests/faults/_faults.sh
private_net "$@"
need_cmd nft pgrep
t_tmp
nft -f nft/spamd.nft || fail "cannot load nft/spamd.nft"
spamd_start -s 0 -v -G 1s:1h:1d

# white SRC: greylisted, then whitelisted on the retry after passtime
white() {
	local n
	for n in 1 2; do
		chat 127.0.0.1 -s "$1" <<-EOF || fail "session from $1"
		expect 220
		send MAIL FROM:<flap@example.org>
		expect 250
		send RCPT TO:<rcpt@example.com>
		expect 250
		send DATA
		expect 451
		EOF
		[ "$n" = 1 ] && sleep 2.1
	done
	wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' 2>/dev/null | grep -q '^WHITE|$1|'" ||
		fail "$1 not WHITE in the database"
}
in_set() { nft list set inet spamd spamd_white 2>/dev/null | grep -Eq "(^|[ {,])$1([ ,}]|$)"; }
all_in_set() { local a; for a in "$@"; do in_set "$a" || return 1; done; }
nftfds() { ls "/proc/$(proc_by_name spamd-nft)/fd" | wc -l; }
alive() { [ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died ($1)"; }

white 127.0.0.1
wait_for 10 in_set 127.0.0.1 || fail "127.0.0.1 not in spamd_white"
fds0=$(nftfds)

# (0) deleted while running, nothing passes: the helper's retries must not
# make the greylister walk the database for the whole list each time (a
# resync); the table watch says when it is back. One resync for the
# deletion itself (the signature changed) is expected, not one per retry.
resyncs() { grep -c 'whitelisted address.* to the nft helper' "$T/spamd.log"; }
r0=$(resyncs)
nft delete table inet spamd
sleep 16	# the retries come at 0.5, 1, 2, 4 and 8 s
r1=$(resyncs)
echo "(0) $((r1 - r0)) resyncs in 16 s without a table"
[ $((r1 - r0)) -le 2 ] ||
	{ grep 'nft helper' "$T/spamd.log" | tail -n 12; fail "$((r1 - r0)) resyncs (database walks) in 16 s while the table was gone"; }
nft -f nft/spamd.nft || fail "reload after (0)"
wait_for 10 in_set 127.0.0.1 || fail "127.0.0.1 not restored after (0)"
alive "table gone for 16 s"

# (1) deleted while running; a host passes meanwhile
nft delete table inet spamd
white 127.0.0.2
alive "table deleted"
echo "(1) 127.0.0.2 whitelisted without a table"

# (2) back, but wrong
nft -f - <<'EOF'
table inet spamd {
	set spamd_white { type ipv6_addr; flags timeout; }
	set spamd_white6 { type ipv4_addr; flags timeout; }
}
EOF
sleep 7		# longer than the helper's 5 s table watch
in_set 127.0.0.1 && fail "an IPv4 address in an ipv6_addr set?"
alive "table of the wrong type"
expect_grep 'set spamd_white: 127\.0\.0\.1: Invalid argument' "$T/spamd.log"
echo "(2) wrong table: spamd carries on"

# (3) back, right: old and new hosts restored
nft delete table inet spamd
nft -f nft/spamd.nft || fail "reload"
wait_for 20 all_in_set 127.0.0.1 127.0.0.2 ||
	{ tail -n 20 "$T/spamd.log"; fail "whitelist not restored: $(nft list set inet spamd spamd_white)"; }
alive "table reloaded"
echo "(3) both hosts back in spamd_white"

# (4) flaps while a third host passes
( for i in $(seq 1 10); do
	nft delete table inet spamd 2>/dev/null
	sleep 0.2
	nft -f nft/spamd.nft
	sleep 0.3
done ) &
flapper=$!
white 127.0.0.3
wait "$flapper"
wait_for 20 all_in_set 127.0.0.1 127.0.0.2 127.0.0.3 ||
	{ tail -n 20 "$T/spamd.log"; fail "after the flaps: $(nft list set inet spamd spamd_white)"; }
alive "flaps"
echo "(4) all three hosts in spamd_white after 10 flaps"

fds1=$(nftfds)
[ "$fds1" = "$fds0" ] || fail "nft helper descriptors: $fds0 before, $fds1 after"
grep -E 'killed by|AddressSanitizer|runtime error' "$T/spamd.log" && fail "spamd reported an error"
pass "table deleted, wrong, reloaded and flapping: whitelist restored, nothing died, $fds0 fds kept"
