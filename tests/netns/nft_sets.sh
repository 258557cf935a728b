#!/bin/bash
# nft_sets.sh: libnft (through tests/tools/nftset) against the real kernel,
# in a private network namespace: the rulesets load and reload cleanly;
# v4, v6 and interval elements are added, refreshed, deleted and replaced
# and read back with `nft list set`; a per-element error is dropped and
# the rest committed; a missing table or set is a clear ENOENT; the watch
# reports a re-created table and not our own changes.
# timeout: 60
. tests/lib.sh

need_root
need_cmd nft ip
[ -x "$TBIN/nftset" ] || skip "$TBIN/nftset not built (make tests)"
t_tmp
ns_new nftsets >/dev/null
NS=nftsets-$$

nsx() { ip netns exec "$NS" "$@"; }
nftset() { nsx "$TBIN/nftset" "$@"; }
listset() { nsx nft list set inet spamd "$1" >"$T/$1.lst" || fail "list $1"; }

# --- the rulesets ---------------------------------------------------------
nsx nft -c -f nft/spamd.nft || fail "nft -c rejects nft/spamd.nft"
nsx nft -c -f nft/spamd-blacklist-only.nft ||
	fail "nft -c rejects nft/spamd-blacklist-only.nft"
nsx nft -f nft/spamd.nft || fail "loading nft/spamd.nft"
for s in spamd_white spamd_white6 nospamd nospamd6 spamd_black spamd_black6; do
	nsx nft list set inet spamd $s >/dev/null || fail "no set $s"
done
pass "rulesets check and load"

# --- IPv4 with timeouts, refresh, delete ---------------------------------
nftset -t 1h add spamd spamd_white 192.0.2.1 192.0.2.2 || fail "add v4"
nftset -t 1m add spamd spamd_white 192.0.2.3 || fail "add v4 1m"
listset spamd_white
expect_grep '192\.0\.2\.1 timeout 1h expires' "$T/spamd_white.lst"
expect_grep '192\.0\.2\.3 timeout 1m expires' "$T/spamd_white.lst"
nftset -r -t 3h add spamd spamd_white 192.0.2.3 || fail "refresh"
listset spamd_white
expect_grep '192\.0\.2\.3 timeout 3h expires (2h59m|3h)' "$T/spamd_white.lst"
# 192.0.2.99 is not in the set: deleting it is not an error.
nftset del spamd spamd_white 192.0.2.1 192.0.2.99 || fail "del v4"
listset spamd_white
grep -q '192\.0\.2\.1 ' "$T/spamd_white.lst" && fail "192.0.2.1 still listed"
grep -q '192\.0\.2\.99' "$T/spamd_white.lst" && fail "192.0.2.99 appeared"
expect_grep '192\.0\.2\.2 timeout 1h' "$T/spamd_white.lst"
# nftset list reads the same elements back through the dump.
nftset list spamd spamd_white >"$T/dump" || fail "nftset list"
expect_grep '^192\.0\.2\.2 timeout 3600000 expires [0-9]+$' "$T/dump"
[ "$(wc -l <"$T/dump")" = 2 ] || fail "dump: $(cat "$T/dump")"
pass "IPv4 add, refresh, delete"

# --- IPv6, expiry restored ------------------------------------------------
nftset -6 -t 2h -e 30m add spamd spamd_white6 2001:db8::1 2001:db8::2 ||
	fail "add v6"
listset spamd_white6
expect_grep '2001:db8::1 timeout 2h expires (29m|30m)' "$T/spamd_white6.lst"
nftset -6 del spamd spamd_white6 2001:db8::2 || fail "del v6"
listset spamd_white6
grep -q '2001:db8::2' "$T/spamd_white6.lst" && fail "2001:db8::2 still listed"
pass "IPv6 add with expiry, delete"

# --- replace ---------------------------------------------------------------
printf '198.51.100.%d 1h\n' 1 2 3 | nftset replace spamd spamd_white - ||
	fail "replace v4"
nftset list spamd spamd_white | cut -d" " -f1 | sort >"$T/dump"
[ "$(tr '\n' ' ' <"$T/dump")" = "198.51.100.1 198.51.100.2 198.51.100.3 " ] ||
	fail "after replace: $(cat "$T/dump")"
pass "replace"

# --- interval sets ----------------------------------------------------------
# Adjacent blocks stay two intervals; host bits are masked.
nftset -i replace spamd nospamd 192.0.2.0/25 192.0.2.128/25 198.51.100.0/24 ||
	fail "interval replace"
listset nospamd
expect_grep '192\.0\.2\.0/25, 192\.0\.2\.128/25' "$T/nospamd.lst"
nftset -i list spamd nospamd >"$T/dump" || fail "interval list"
[ "$(tr '\n' ' ' <"$T/dump")" = \
    "192.0.2.0/25 192.0.2.128/25 198.51.100.0/24 " ] ||
	fail "interval dump: $(cat "$T/dump")"
nftset -6 -i replace spamd nospamd6 2001:db8::/48 2001:db8:1::1/48 ||
	fail "interval v6"
listset nospamd6
expect_grep '2001:db8::/48' "$T/nospamd6.lst"
expect_grep '2001:db8:1::/48' "$T/nospamd6.lst"
nftset -i del spamd nospamd 192.0.2.128/25 || fail "interval del"
listset nospamd
grep -q '192\.0\.2\.128' "$T/nospamd.lst" && fail "192.0.2.128/25 still listed"
pass "interval replace, list, delete (v4 and v6)"

# --- a per-element error is dropped, the rest committed -------------------
nftset -i add spamd nospamd 203.0.113.0/24 198.51.100.128/25 192.0.2.128/25 \
    >"$T/out" 2>&1
rc=$?
[ $rc = 3 ] || { cat "$T/out"; fail "overlap: exit $rc, expected 3"; }
expect_grep 'set nospamd: 198\.51\.100\.128/25: File exists' "$T/out"
listset nospamd
expect_grep '203\.0\.113\.0/24' "$T/nospamd.lst"
expect_grep '192\.0\.2\.128/25' "$T/nospamd.lst"
grep -q '198\.51\.100\.128' "$T/nospamd.lst" && fail "overlapping block added"
# The kernel refuses an expiry beyond the timeout (ERANGE on 6.18); the
# library says so itself, on every kernel.
nftset -t 1m -e 2m add spamd spamd_white 192.0.2.50 192.0.2.51 >"$T/out" 2>&1
[ $? = 3 ] || fail "expiry beyond timeout: not rejected"
expect_grep 'set spamd_white: 192\.0\.2\.50: an expiry later than its timeout' \
    "$T/out"
# A caller that gets the set's type wrong: every key is refused (EINVAL).
nftset add spamd spamd_white6 192.0.2.1 192.0.2.2 >"$T/out" 2>&1
[ $? = 3 ] || { cat "$T/out"; fail "4-byte keys into spamd_white6"; }
expect_grep 'set spamd_white6: 192\.0\.2\.2: Invalid argument' "$T/out"
pass "per-element error dropped, rest committed"

# --- a batch larger than the send buffer -------------------------------------
# ",sndbuf=" caps a batch as a socket without SO_SNDBUFFORCE would be.
seq 1 6000 | awk '{ printf "198.18.%d.%d\n", int($1 / 256), $1 % 256 }' \
    >"$T/6000"
nftset -b netlink,sndbuf=65536 -r -t 1h add spamd spamd_white - <"$T/6000" \
    >"$T/out" 2>&1 || { cat "$T/out"; fail "split add"; }
expect_grep 'more than the socket send buffer allows; splitting' "$T/out"
expect_grep 'sent 6000 elements in [0-9]+ batches' "$T/out"
[ "$(nftset list spamd spamd_white | grep -c '^198\.18\.')" = 6000 ] ||
	fail "split add: not all 6000 elements committed"
nftset -b netlink,sndbuf=65536 replace spamd spamd_white - <"$T/6000" \
    >"$T/out" 2>&1 && fail "oversized replace accepted"
expect_grep 'spamd_white: replacing needs a batch of [0-9]+ bytes' "$T/out"
[ "$(nftset list spamd spamd_white | grep -c '^198\.51\.100\.')" = 3 ] ||
	fail "a failed replace changed the set"
nftset del spamd spamd_white - <"$T/6000" || fail "del 6000"
pass "add split over several batches; replace refuses to"

# --- reload: no duplicate rules, elements kept ------------------------------
# (expiries tick, so they are left out of the comparison)
nsx nft list ruleset | sed 's/ expires [0-9dhms]*//g' >"$T/before"
nsx nft -f nft/spamd.nft || fail "reload"
nsx nft -f nft/spamd.nft || fail "second reload"
nsx nft list ruleset | sed 's/ expires [0-9dhms]*//g' >"$T/after"
diff "$T/before" "$T/after" >/dev/null || {
	diff "$T/before" "$T/after"; fail "reload changed the ruleset"; }
[ "$(grep -c 'redirect to :8025' "$T/after")" = 1 ] || fail "rules duplicated"
# Switching to blacklist-only mode and back keeps the elements too.
nsx nft -f nft/spamd-blacklist-only.nft || fail "blacklist-only load"
nsx nft list chain inet spamd prerouting >"$T/bl"
expect_grep 'ip saddr @spamd_black redirect to :8025' "$T/bl"
grep -q '@spamd_white' "$T/bl" && fail "white rule left in blacklist-only mode"
nsx nft -f nft/spamd.nft || fail "back to greylisting"
nftset list spamd spamd_white | grep -q '^198\.51\.100\.2 ' ||
	fail "elements lost across mode switch"
pass "reload keeps elements and does not duplicate rules"

# --- the watch --------------------------------------------------------------
nftset watch spamd 8 >"$T/watch" 2>&1 &
wpid=$!
wait_for 3 grep -q watching "$T/watch" || fail "watch did not start"
# Our own changes are not a reload...
# (198.18.0.0/15 is the benchmarking range: 5,000 addresses need room)
seq 1 5000 | awk '{ printf "198.18.%d.%d 1h\n", int($1 / 256), $1 % 256 }' |
	nftset replace spamd spamd_white - || fail "replace 5000"
nsx nft -f nft/spamd.nft || fail "plain reload"
sleep 0.5
grep -q reloaded "$T/watch" && fail "watch reported our own changes"
# ...an admin's `flush ruleset` + load is.
printf 'flush ruleset\ninclude "%s"\n' "$TOP/nft/spamd.nft" >"$T/reload.nft"
nsx nft -f "$T/reload.nft" || fail "flush ruleset + load"
wait "$wpid" || { cat "$T/watch"; fail "watch saw no reload"; }
expect_grep '^reloaded$' "$T/watch"
[ -z "$(nftset list spamd spamd_white)" ] || fail "sets not emptied"
pass "watch reports a re-created table only"

# --- missing table or set -----------------------------------------------------
nftset add spamd nosuch 192.0.2.1 >"$T/out" 2>&1 && fail "missing set accepted"
expect_grep 'nosuch: No such file or directory \(no set nosuch' "$T/out"
nsx nft delete table inet spamd || fail "delete table"
nftset -t 1h add spamd spamd_white 192.0.2.1 >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] || fail "add to a missing table: exit $rc"
expect_grep '^nftset: spamd_white: No such file or directory \(no table inet spamd\)$' "$T/out"
nftset list spamd spamd_white >"$T/out" 2>&1 && fail "list of a missing table"
expect_grep 'spamd_white: No such file or directory' "$T/out"
pass "missing table and set reported as ENOENT"
exit 0
