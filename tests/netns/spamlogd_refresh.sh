#!/bin/bash
# spamlogd_refresh.sh: spamlogd in a real MX namespace with nft/spamd.nft
# loaded and smtp-sink as the MTA, a sender namespace connecting to it.
#   - a white sender's SMTP connection (swaks over IPv4, a plain connect
#     over IPv6) refreshes its WHITE record within a second: pcount up,
#     expire moved to now + whiteexp, and the white set's timeout too;
#   - an outbound connection from the MX to port 25 creates a WHITE
#     record for the destination (IPv4 and IPv6), and with -I it does not;
#   - spamlogd runs as _spamd with only CAP_NET_ADMIN permitted;
#   - SIGHUP reopens the capture (which needs CAP_NET_ADMIN raised), and
#     SIGTERM writes the queue and exits 0.
# The spamdb lines before and after are printed.
# timeout: 60
. tests/lib.sh
need_root
need_cmd nft ip smtp-sink swaks
[ -x "$BIN/spamlogd" ] || fail "no $BIN/spamlogd"
[ -x "$BIN/spamdb" ] || fail "no $BIN/spamdb"
[ -x "$TBIN/dbseed" ] || fail "no $TBIN/dbseed"
[ -f nft/spamd.nft ] || fail "no nft/spamd.nft"

id _spamd >/dev/null 2>&1 ||
	useradd --system --no-create-home --shell /usr/sbin/nologin _spamd ||
	fail "useradd _spamd"

# Within a second, as promised; sanitizer builds get twice that.
limit=1
[ "${SANITIZE:-0}" = 1 ] && limit=2

t_tmp
mkdir "$T/db" && chown _spamd: "$T/db" || fail "db dir"
DB=$T/db/spamd.db
S=$(ns_new lgS)
M=$(ns_new lgM)
# ns_new runs in a command substitution, whose exit handlers are lost.
for ns in "$S" "$M"; do
	at_exit "ip netns pids '$ns' | xargs -r kill -9; ip netns del '$ns'"
done
ns_link "$S" 192.0.2.10/24 "$M" 192.0.2.25/24 2001:db8::10/64 2001:db8::25/64
# Hosts the MX sends mail to, with no record yet.
for a in 192.0.2.11/24 192.0.2.12/24; do
	ip -n "$S" addr add "$a" dev "va$$" || fail "addr $a"
done
# Deprecated (preferred_lft 0), so the sender never picks it as a source.
ip -n "$S" addr add 2001:db8::11/64 dev "va$$" nodad preferred_lft 0 ||
	fail "addr v6"

ip netns exec "$M" nft -f nft/spamd.nft || fail "nft -f nft/spamd.nft"
ip netns exec "$M" nft add element inet spamd spamd_white '{ 192.0.2.10 timeout 1h }' &&
ip netns exec "$M" nft add element inet spamd spamd_white6 '{ 2001:db8::10 timeout 1h }' ||
	fail "seed the white sets"

for a in 192.0.2.25:25 '[2001:db8::25]:25'; do
	ip netns exec "$M" smtp-sink -u postfix "$a" 10 &
	at_exit "kill $!"
done
for a in 192.0.2.10:25 192.0.2.11:25 192.0.2.12:25 '[2001:db8::11]:25'; do
	ip netns exec "$S" smtp-sink -u postfix "$a" 10 &
	at_exit "kill $!"
done

$TBIN/dbseed "$DB" <<'EOF' || fail "dbseed"
WHITE|192.0.2.10|||now-2d|now-2d|now+1h|1|3
WHITE|2001:db8::10|||now-2d|now-2d|now+1h|1|7
EOF

rec() { "$BIN/spamdb" -f "$DB" "$1" 2>/dev/null; }
field() { rec "$1" | awk -F'|' -v f="$2" '{ print $f }'; }
is() { [ "$(field "$1" "$2")" = "$3" ]; }	# is ADDR FIELD VALUE
listing() { echo "--- spamdb $1:"; "$BIN/spamdb" -f "$DB" | sort; }

spamlogd_pid=
start() {
	local log=$1
	shift
	ip netns exec "$M" "$BIN/spamlogd" -D -f "$DB" "$@" >"$log" 2>&1 &
	spamlogd_pid=$!
	at_exit "kill $spamlogd_pid"
	wait_for 5 grep -q "listening on nflog:25" "$log" ||
		{ cat "$log"; fail "spamlogd did not start"; }
}
stop() {
	local log=$1 rc
	kill -TERM "$spamlogd_pid"
	wait "$spamlogd_pid"
	rc=$?
	[ "$rc" = 0 ] || { cat "$log"; fail "spamlogd exited $rc on SIGTERM"; }
	expect_grep "exiting: writing what is queued" "$log"
}
connect() {	# connect NS HOST: open an SMTP connection, read the banner
	ip netns exec "$1" timeout 5 bash -c \
	    "exec 3<>/dev/tcp/$2/25 && head -c 3 <&3 >/dev/null" ||
		fail "connect $2 from $1"
}
wait_pcount() {	# wait_pcount ADDR N
	wait_for "$limit" is "$1" 9 "$2" ||
		{ rec "$1"; cat "$T/spamlogd.log"; fail "$1: pcount not $2 within ${limit}s"; }
}

listing before
start "$T/spamlogd.log"

# Runs as _spamd, CAP_NET_ADMIN permitted only.
st=/proc/$spamlogd_pid/status
grep -q "^Uid:[[:space:]]*$(id -u _spamd)[[:space:]]" "$st" || fail "not running as _spamd"
grep -q '^CapPrm:[[:space:]]*0000000000001000$' "$st" || { grep ^Cap "$st"; fail "CapPrm is not CAP_NET_ADMIN alone"; }
grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st" || { grep ^Cap "$st"; fail "CapEff not empty"; }
grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "no_new_privs not set"

# Inbound over IPv4: a real SMTP transaction with swaks.
exp0=$(field 192.0.2.10 7)
now=$(date +%s)
ip netns exec "$S" swaks -4 --server 192.0.2.25 --from a@example.org \
    --to b@example.net --quit-after RCPT >"$T/swaks.log" 2>&1 ||
	{ cat "$T/swaks.log"; fail "swaks to 192.0.2.25"; }
wait_pcount 192.0.2.10 4
exp1=$(field 192.0.2.10 7)
[ "$exp1" -ge $((now + 36 * 86400)) ] && [ "$exp1" -gt "$exp0" ] ||
	fail "192.0.2.10: expire $exp0 -> $exp1, not now + 36d"
[ "$(field 192.0.2.10 1)" = WHITE ] || fail "192.0.2.10 is no longer WHITE"
wait_for 2 sh -c "ip netns exec $M nft list set inet spamd spamd_white | grep -q '192.0.2.10 timeout 36d'" ||
	{ ip netns exec "$M" nft list set inet spamd spamd_white; fail "white set timeout not refreshed"; }

# Inbound over IPv6.
connect "$S" 2001:db8::25
wait_pcount 2001:db8::10 8
[ "$(field 2001:db8::10 7)" -ge $((now + 36 * 86400)) ] || fail "2001:db8::10: expire not moved"
wait_for 2 sh -c "ip netns exec $M nft list set inet spamd spamd_white6 | grep -q '2001:db8::10 timeout 36d'" ||
	{ ip netns exec "$M" nft list set inet spamd spamd_white6; fail "white6 set timeout not refreshed"; }

# Outbound: the MX connects to two new hosts; both become WHITE.
connect "$M" 192.0.2.11
connect "$M" 2001:db8::11
wait_for "$limit" is 192.0.2.11 1 WHITE ||
	{ cat "$T/spamlogd.log"; fail "192.0.2.11 not whitelisted by an outbound connection"; }
wait_for "$limit" is 2001:db8::11 1 WHITE ||
	{ cat "$T/spamlogd.log"; fail "2001:db8::11 not whitelisted by an outbound connection"; }
[ "$(field 192.0.2.11 9)" = 0 ] || fail "new record's pcount is not 0"
wait_for 2 sh -c "ip netns exec $M nft list set inet spamd spamd_white | grep -q '192.0.2.11 timeout 36d'" ||
	fail "192.0.2.11 not added to the white set"

# SIGHUP reopens the capture; it keeps working afterwards.
kill -HUP "$spamlogd_pid"
wait_for 3 grep -q "capturing on nflog:25 again" "$T/spamlogd.log" ||
	{ cat "$T/spamlogd.log"; fail "no reopen after SIGHUP"; }
connect "$S" 192.0.2.25
wait_pcount 192.0.2.10 5

stop "$T/spamlogd.log"
listing after

# -I: outbound connections are seen but whitelist nothing.
start "$T/spamlogd-I.log" -I
connect "$M" 192.0.2.12
wait_for 3 grep -q "ignored outbound 192.0.2.25 -> 192.0.2.12: -I" "$T/spamlogd-I.log" ||
	{ cat "$T/spamlogd-I.log"; fail "-I: the outbound connection was not seen"; }
stop "$T/spamlogd-I.log"
[ -z "$(rec 192.0.2.12)" ] || fail "-I: 192.0.2.12 was whitelisted"
listing "after -I"
pass "spamlogd refreshes and creates WHITE records from NFLOG"
