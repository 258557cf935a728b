#!/bin/bash
# spamlogd_listed.sh: spamlogd never puts a blacklisted host into the
# white sets. An MX namespace with nft/spamd.nft, spamd (a list holding
# 192.0.2.12, loaded by spamd-setup over the unix socket) and spamlogd;
# the MX opens outbound SMTP connections to 192.0.2.11 and 192.0.2.12 in
# a second namespace. Both get WHITE records (spamd drops the listed one
# at its next resync), but spamlogd asks spamd first and only 192.0.2.11
# enters spamd_white.
# timeout: 60
. tests/lib.sh
need_root
need_cmd nft ip smtp-sink
t_tmp
ensure_spamd_user
mkdir "$T/db" && chown _spamd: "$T/db" || fail "db dir"
DB=$T/db/spamd.db
S=$(ns_new llS)
M=$(ns_new llM)
for ns in "$S" "$M"; do
	at_exit "ip netns pids '$ns' | xargs -r kill -9; ip netns del '$ns'"
done
ns_link "$S" 192.0.2.11/24 "$M" 192.0.2.25/24
ip -n "$S" addr add 192.0.2.12/24 dev "va$$" || fail "addr 192.0.2.12"
ip netns exec "$M" nft -f nft/spamd.nft || fail "nft -f nft/spamd.nft"
for a in 192.0.2.11:25 192.0.2.12:25; do
	ip netns exec "$S" smtp-sink -u postfix "$a" 10 &
	at_exit "kill $!"
done

ip netns exec "$M" "$BIN/spamd" -d -v -s 0 -f "$DB" -h mx.test \
	--config-socket "$T/spamd.sock" 2>"$T/spamd.log" &
at_exit "kill $!"
wait_for 10 grep -q 'listening for incoming connections' "$T/spamd.log" ||
	{ cat "$T/spamd.log"; fail "spamd did not start"; }
printf '192.0.2.12/32\n' >"$T/list.txt"
printf 'all:evil:\nevil:black:msg="listed":file=%s/list.txt:\n' "$T" >"$T/spamd.conf"
"$BIN/spamd-setup" --socket "$T/spamd.sock" -c "$T/spamd.conf" || fail "spamd-setup"
wait_for 10 sh -c "[ \$(grep -c 'whitelisted address.* to the nft helper' '$T/spamd.log') -ge 2 ]" ||
	fail "spamd did not resync after the list load"

ip netns exec "$M" "$BIN/spamlogd" -D -f "$DB" --config-socket "$T/spamd.sock" \
	>"$T/spamlogd.log" 2>&1 &
at_exit "kill $!"
wait_for 5 grep -q "listening on nflog:25" "$T/spamlogd.log" ||
	{ cat "$T/spamlogd.log"; fail "spamlogd did not start"; }

for h in 192.0.2.11 192.0.2.12; do
	ip netns exec "$M" timeout 5 bash -c \
	    "exec 3<>/dev/tcp/$h/25 && head -c 3 <&3 >/dev/null" ||
		fail "connect $h"
done
wait_for 5 sh -c "ip netns exec $M nft list set inet spamd spamd_white | grep -q '192.0.2.11 '" ||
	{ cat "$T/spamlogd.log"; fail "192.0.2.11 (not listed) did not reach spamd_white"; }
# spamlogd pushes one batch per family; give a wrong push of .12 time too.
sleep 1
set4=$(ip netns exec "$M" nft list set inet spamd spamd_white)
echo "$set4"
cat "$T/spamlogd.log"
"$BIN/spamdb" -f "$DB"
echo "$set4" | grep -q '192\.0\.2\.12' && fail "192.0.2.12 is blacklisted and spamlogd put it into spamd_white"
expect_grep '192\.0\.2\.12 is on a blacklist of spamd: not adding it to spamd_white' "$T/spamlogd.log"
# spamlogd runs as _spamd, spamd's own user: it may ask, not configure.
expect_grep "blacklist query from uid $(id -u _spamd) \(pid [0-9]+\): 2 addresses, 1 listed" "$T/spamd.log"
pass "spamlogd keeps a blacklisted host out of the white set"
