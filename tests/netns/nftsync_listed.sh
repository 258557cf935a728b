#!/bin/bash
# nftsync_listed.sh: a blacklisted host never reaches the white set, even
# when something other than spamd made its WHITE record. In a private
# network namespace with nft/spamd.nft: spamd-setup loads a list into
# spamd, `spamdb -a' whitelists an address inside it and one outside,
# spamd-nftsync asks spamd over the unix socket and leaves the listed one
# out of spamd_white (with a log line), the other in. Without spamd
# nothing is listed in memory: both go in, and -v says why.
# timeout: 90
. tests/lib.sh
private_net "$@"
need_cmd nft
t_tmp
nft -f nft/spamd.nft || fail "load nft/spamd.nft"

printf '192.0.2.0/24\n2001:db8:bad::/48\n' >"$T/list.txt"
printf 'all:evil:\nevil:black:msg="listed":file=%s/list.txt:\n' "$T" >"$T/spamd.conf"

spamd_start -s 0 -v
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup"
expect_grep 'configuration connection from uid 0 .* 1 applied' "$T/spamd.log"
# spamd's own resync after the load (its second) must be over first.
wait_for 10 sh -c "[ \$(grep -c 'whitelisted address.* to the nft helper' '$T/spamd.log') -ge 2 ]" ||
	fail "spamd did not resync after the list load"

"$BIN/spamdb" -f "$DB" -a 192.0.2.10 198.51.100.7 2001:db8:bad::1 2001:db8::7 ||
	fail "spamdb -a"
"$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$SPAMD_SOCK" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "spamd-nftsync"; }
cat "$T/out"
set4=$(nft list set inet spamd spamd_white)
set6=$(nft list set inet spamd spamd_white6)
echo "$set4" "$set6"
echo "$set4" | grep -q '198\.51\.100\.7' || fail "198.51.100.7 (not listed) missing from spamd_white"
echo "$set6" | grep -q '2001:db8::7' || fail "2001:db8::7 (not listed) missing from spamd_white6"
echo "$set4" | grep -q '192\.0\.2\.10' && fail "192.0.2.10 is blacklisted and went into spamd_white"
echo "$set6" | grep -q '2001:db8:bad::1' && fail "2001:db8:bad::1 is blacklisted and went into spamd_white6"
expect_grep '192\.0\.2\.10 is on a blacklist of spamd: not whitelisting it' "$T/out"
expect_grep 'blacklist query from uid 0 .*: 4 addresses, 2 listed' "$T/spamd.log"
pass "listed addresses kept out of the white sets"

# Without spamd: nothing is listed in memory, so nothing is held back.
spamd_stop
"$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$SPAMD_SOCK" >"$T/out2" 2>&1 ||
	{ cat "$T/out2"; fail "spamd-nftsync without spamd"; }
cat "$T/out2"
expect_grep 'spamd is not running .*no blacklist is loaded' "$T/out2"
nft list set inet spamd spamd_white | grep -q '192\.0\.2\.10' ||
	fail "without spamd the WHITE record should reach the set"
pass "without spamd every WHITE record goes in, and -v says why"
