#!/bin/bash
# spfwalk.sh: spamd-setup's :spfwalk: lists against a real DNS server.
# dnsmasq, in a private namespace, serves SPF records with include:,
# redirect=, a, a:dom, mx with CIDR lengths, ip4 and ip6, nesting, a loop,
# a missing include, over-wide ranges, +all, ptr/exists/macros, a record
# split into several character-strings, a domain with two SPF records and
# a domain that does not exist. spamd-setup (its resolv.conf bind-mounted
# in a private mount namespace) loads the union into spamd_spf and
# spamd_spf6 of nft/spamd.nft, compared exactly with `nft list set'; -n
# prints the same with the domains; refusals are logged with their
# domain. Then dnsmasq stops: the state file keeps every range, with a
# log line per domain; a domain removed from the list loses its ranges;
# a broken state file is reported, not fatal. The host's resolv.conf and
# ruleset are never touched.
# timeout: 90
. tests/lib.sh
need_root
need_cmd nft ip unshare mount dnsmasq
t_tmp
SETUP=$BIN/spamd-setup
[ -x "$SETUP" ] || fail "no $SETUP"
[ -e /etc/resolv.conf ] || skip "no /etc/resolv.conf to bind-mount over"

NS=$(ns_new spf)
ip netns exec "$NS" nft -f nft/spamd.nft || fail "load nft/spamd.nft"

# The zones. Every name is under .example (RFC 2606); dnsmasq answers
# NXDOMAIN for the others names there (--local).
# A configuration file, not arguments: dnsmasq reads quoted strings there.
txt() { printf 'txt-record=%s\n' "$1,$2"; }
{
	# an include, with a block inside another, neutral and failing terms
	txt pool.example '"v=spf1 ip4:192.0.2.0/25 include:inc.example ?ip4:203.0.113.128/25 -ip4:203.0.113.0/25 ~all"'
	txt inc.example '"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 IP4:192.0.2.64/26 -all"'
	# redirect=, to a record in two character-strings (joined as one)
	txt red.example '"V=SPF1 redirect=_spf.red.example"'
	txt _spf.red.example '"v=spf1 ip4:203.0.11","3.5 ip6:2001:db8:2::1 -all"'
	# a, a:dom/len, mx/len//len6
	txt amx.example '"v=spf1 a a:host.amx.example/28 mx/30//64 -all"'
	printf 'host-record=amx.example,203.0.113.77\n'
	printf 'host-record=host.amx.example,203.0.113.100\n'
	printf 'mx-host=amx.example,mail.amx.example,10\n'
	printf 'host-record=mail.amx.example,192.0.2.200,2001:db8:3::25\n'
	# a loop through two names
	txt loop.example '"v=spf1 include:loop2.example ip4:203.0.113.200 -all"'
	txt loop2.example '"v=spf1 include:loop.example ip4:203.0.113.201 -all"'
	# ranges wider than the floor, and an ip6 /16
	txt wide.example '"v=spf1 ip4:192.0.0.0/8 ip4:0.0.0.0/0 ip6:2001::/16 ip4:203.0.113.64/27 -all"'
	# +all, and what cannot be walked
	txt plusall.example '"v=spf1 ip4:203.0.113.32/28 ptr exists:%{i}.x.example include:%{d}.y.example +all"'
	# an include of a name that does not exist
	txt missing.example '"v=spf1 include:nowhere.example ip6:2001:db8:4::/56 -all"'
	# two SPF records (and an unrelated TXT record)
	txt twice.example '"v=spf1 ip4:192.0.2.250 -all"'
	txt twice.example '"v=spf1 ip4:192.0.2.251 -all"'
	txt twice.example '"google-site-verification=abc"'
} >"$T/zones.conf"

dns_start() {
	ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file="$T/zones.conf" \
		--no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
		--port=53 --local=/example/ --user=nobody --group=nogroup \
		--log-queries --log-facility="$T/dnsmasq.log" &
	DNS_PID=$!
	at_exit "kill $DNS_PID 2>/dev/null"
	wait_for 10 grep -q 'started, version' "$T/dnsmasq.log" ||
		{ cat "$T/dnsmasq.log"; fail "dnsmasq did not start"; }
	wait_for 5 ip netns exec "$NS" ss -lnu 'sport = :53' | grep -q 127.0.0.1
}
dns_stop() {
	kill "$DNS_PID" 2>/dev/null
	wait "$DNS_PID" 2>/dev/null
	return 0
}

printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
STATE=$T/spfwalk.state
# setup ARGS...: spamd-setup in the namespace with our resolv.conf
setup() {
	ip netns exec "$NS" unshare --mount -- sh -c \
		'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh \
		"$T/resolv.conf" "$SETUP" -c "$T/spamd.conf" --spf-state "$STATE" "$@"
}
# the elements of a set, one per line, without timeout and expiry
elements() {
	ip netns exec "$NS" nft list set inet spamd "$1" |
		tr '\n' ' ' | sed -n 's/.*elements = { \([^}]*\)}.*/\1/p' |
		tr ',' '\n' | sed -e 's/ timeout [^ ]*//; s/ expires [^ ]*//' \
		-e 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$'
}
# every element has the timeout of 3 intervals
timeouts() {
	ip netns exec "$NS" nft list set inet spamd "$1" | tr ',' '\n' |
		grep -E '^[[:space:]]*[0-9a-f:.]+(/[0-9]+)? timeout' |
		grep -vc " timeout $2 " || true
}

cat >"$T/bigmailers" <<'EOF'
# big senders of the test
pool.example
red.example		# a redirect
AMX.Example.
loop.example
wide.example
plusall.example
missing.example
gone.example
twice.example
pool.example
EOF
cat >"$T/spamd.conf" <<EOF
all:\\
	:bigmailers:
bigmailers:\\
	:spfwalk:\\
	:file=$T/bigmailers:
EOF

cat >"$T/want4" <<'EOF'
192.0.2.0/25
192.0.2.200/30
198.51.100.0/24
203.0.113.5
203.0.113.32/28
203.0.113.64/27
203.0.113.96/28
203.0.113.200/31
EOF
cat >"$T/want6" <<'EOF'
2001:db8:1::/48
2001:db8:2::1
2001:db8:3::/64
2001:db8:4::/56
EOF

dns_start

# 1. -n: what would be loaded, each block with its domains; no change
rc=0
setup -n >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || { cat "$T/err"; fail "-n exited $rc, expected 2 (twice.example)"; }
[ -e "$STATE" ] && fail "-n wrote the state file"
[ -z "$(elements spamd_spf)" ] || fail "-n changed spamd_spf"
expect_grep '^flush set inet spamd spamd_spf$' "$T/out"
expect_grep '^add element inet spamd spamd_spf \{ 192\.0\.2\.0/25 timeout 3h \}	# pool\.example$' "$T/out"
expect_grep '^add element inet spamd spamd_spf \{ 203\.0\.113\.64/27 timeout 3h \}	# amx\.example, wide\.example$' "$T/out"
expect_grep '^add element inet spamd spamd_spf6 \{ 2001:db8:3::/64 timeout 3h \}	# amx\.example$' "$T/out"
[ "$(grep -c '^add element' "$T/out")" = 12 ] || { cat "$T/out"; fail "-n did not print 12 elements"; }
pass "-n prints the elements with their domains and changes nothing"

# 2. the real run: exactly the expected sets
rc=0
setup -d >"$T/out" 2>"$T/err" || rc=$?
cat "$T/err"
[ "$rc" = 2 ] || fail "spamd-setup exited $rc, expected 2 (twice.example)"
elements spamd_spf >"$T/got4"
elements spamd_spf6 >"$T/got6"
diff -u "$T/want4" "$T/got4" || fail "spamd_spf differs"
diff -u "$T/want6" "$T/got6" || fail "spamd_spf6 differs"
[ "$(timeouts spamd_spf 3h)" = 0 ] || fail "an element without timeout 3h"
pass "spamd_spf and spamd_spf6 hold exactly the walked ranges"

# 3. refusals and skips, each with its domain
expect_grep '^spamd-setup: spfwalk wide\.example: wide\.example: "ip4:192\.0\.0\.0/8" gives 192\.0\.0\.0/8, wider than /12: refused$' "$T/err"
expect_grep '^spamd-setup: spfwalk wide\.example: wide\.example: "ip4:0\.0\.0\.0/0" gives 0\.0\.0\.0/0, wider than /12: refused$' "$T/err"
expect_grep '^spamd-setup: spfwalk wide\.example: wide\.example: "ip6:2001::/16" gives 2001::/16, wider than /32: refused$' "$T/err"
expect_grep '^spamd-setup: spfwalk plusall\.example: plusall\.example: "\+all": allows the whole Internet: refused$' "$T/err"
expect_grep '^spamd-setup: spfwalk plusall\.example: plusall\.example: "ptr": cannot be walked, skipped$' "$T/err"
expect_grep '^spamd-setup: spfwalk plusall\.example: plusall\.example: "exists:%\{i\}\.x\.example": a macro, not walked$' "$T/err"
expect_grep '^spamd-setup: spfwalk loop\.example: loop2\.example names loop\.example, which names it back: loop ignored$' "$T/err"
expect_grep '^spamd-setup: spfwalk missing\.example: nowhere\.example, named by missing\.example: no such domain \(NXDOMAIN\): its part is empty$' "$T/err"
expect_grep '^spamd-setup: spfwalk gone\.example: no such domain \(NXDOMAIN\): dropped$' "$T/err"
expect_grep '^spamd-setup: spfwalk twice\.example: walk failed: twice\.example has 2 SPF records .*no earlier result, nothing loaded for it$' "$T/err"
pass "refusals are logged with their domain"

# 4. the state file: one line per block, the domains that walked
for d in pool red amx loop wide plusall missing; do
	grep -q "^$d\.example [0-9]* " "$STATE" || fail "$d.example not in the state file"
done
grep -Eq '^(gone|twice)\.example' "$STATE" && fail "a failed domain in the state file"
pass "the state file holds the good walks"

# 5. the DNS server stops: every range stays, from the state file
dns_stop
rc=0
setup >"$T/out" 2>"$T/err2" || rc=$?
cat "$T/err2"
[ "$rc" = 2 ] || fail "with DNS down exited $rc, expected 2"
elements spamd_spf | diff -u "$T/want4" - || fail "spamd_spf changed with DNS down"
elements spamd_spf6 | diff -u "$T/want6" - || fail "spamd_spf6 changed with DNS down"
expect_grep '^spamd-setup: spfwalk pool\.example: walk failed: TXT pool\.example: server failure or no answer \(SERVFAIL or timeout\); keeping the 3 blocks of its last good walk \([0-9]+s ago\) for [0-9h ms]+$' "$T/err2"
expect_grep '^spamd-setup: spfwalk amx\.example: walk failed: .*keeping the ' "$T/err2"
ip netns exec "$NS" nft list set inet spamd spamd_spf | grep -q 'expires' ||
	fail "kept elements have no expiry"
pass "DNS down: the last good ranges stay, with a line per domain"

# 6. a domain leaves the list: its ranges go (DNS still down)
sed -i '/^pool\.example$/d' "$T/bigmailers"
rc=0
setup >"$T/out" 2>"$T/err3" || rc=$?
[ "$rc" = 2 ] || fail "exited $rc"
grep -v -e '^192\.0\.2\.0/25$' -e '^198\.51\.100\.0/24$' "$T/want4" >"$T/want4b"
grep -v '^2001:db8:1::/48$' "$T/want6" >"$T/want6b"
elements spamd_spf | diff -u "$T/want4b" - || fail "pool.example's IPv4 ranges stayed"
elements spamd_spf6 | diff -u "$T/want6b" - || fail "pool.example's IPv6 range stayed"
grep -q '^pool\.example ' "$STATE" && fail "pool.example stayed in the state file"
pass "a domain removed from the list loses its ranges"

# 7. a broken state file: a clear line, and the walk goes on
dns_start
printf '# spamd-setup spfwalk state 1\nred.example 12 not-a-cidr\n\001\002junk\n' >"$STATE"
rc=0
setup >"$T/out" 2>"$T/err4" || rc=$?
[ "$rc" = 2 ] || { cat "$T/err4"; fail "exited $rc"; }
expect_grep "^spamd-setup: spfwalk: state file $STATE:2: not a CIDR block; ignoring the file" "$T/err4"
elements spamd_spf | diff -u "$T/want4b" - || fail "spamd_spf wrong after a broken state file"
head -1 "$STATE" | grep -qx '# spamd-setup spfwalk state 1' || fail "state file not rewritten"
pass "a broken state file is reported and replaced"

# 8. -b mode fills the SPF sets too
ip netns exec "$NS" nft flush set inet spamd spamd_spf
printf '203.0.113.250\n' >"$T/black.txt"
cat >"$T/spamd.conf" <<EOF
all:\\
	:local:bigmailers:
local:black:msg="listed":file=$T/black.txt:
bigmailers:spfwalk:file=$T/bigmailers:
EOF
rc=0
setup -b -n >"$T/out" 2>"$T/err5" || rc=$?
[ "$rc" = 2 ] || { cat "$T/err5"; fail "-b -n exited $rc"; }
expect_grep '^flush set inet spamd spamd_black$' "$T/out"
expect_grep '^add element inet spamd spamd_spf \{ 203\.0\.113\.5/32 timeout 3h \}	# red\.example$' "$T/out"
# spamd is not running: the list cannot be sent, the nft sets still go
setup -b --socket "$T/none.sock" >/dev/null 2>"$T/err5" || true
elements spamd_spf | diff -u "$T/want4b" - || fail "-b did not fill spamd_spf"
ip netns exec "$NS" nft list set inet spamd spamd_black | grep -q 203.0.113.250 ||
	fail "-b did not fill spamd_black"
pass "-b fills spamd_black and the SPF sets"
