#!/bin/bash
# setup_dryrun.sh: spamd-setup -n prints exactly the config lines it would
# send, for file (plain and gzip), exec and white lists; -d shows bad
# lines; exit 1 on configuration errors, 2 when a list fails; -b -n adds
# the nft script. No network, no root needed.
# timeout: 60
. tests/lib.sh
need_cmd gzip
t_tmp
L=$TOP/tests/data/lists
SETUP=$BIN/spamd-setup
[ -x "$SETUP" ] || fail "no $SETUP"

gzip -c "$L/black-v6.txt" >"$T/black-v6.txt.gz"
cat >"$T/spamd.conf" <<EOF
# test configuration
all:\\
	:v4list:white:v6gz:white:ex:

v4list:\\
	:black:\\
	:msg="Your address %A is listed\\nby the v4 test list":\\
	:file=$L/black-v4.txt:

v6gz:\\
	:black:\\
	:msg=$L/msg.txt:\\
	:method=file:\\
	:file=$T/black-v6.txt.gz:

white:white:file=$L/white.txt:

ex:black:msg="exec list":method=exec:\\
	:file=printf 198.51.100.0/24\\\\n203.0.113.0/24\\\\n:
EOF

cat >"$T/expected" <<'EOF'
v4list;"Your address %A is listed\nby the v4 test list";inet;6;192.0.2.0/24;198.51.100.10/31;198.51.100.12/30;198.51.100.16/30;198.51.100.20/32;203.0.113.0/25
v6gz;"Your address %A is on the test list\nSee \"http://example.org/list\" for details";inet;1;198.51.100.99/32;inet6;10;2001:db8:1::/49;2001:db8:2::1/128;2001:db8:2::2/127;2001:db8:2::4/126;2001:db8:2::8/125;2001:db8:2::10/124;2001:db8:2::20/123;2001:db8:2::40/122;2001:db8:2::80/121;2001:db8:3::7/128
ex;"exec list";inet;2;198.51.100.0/24;203.0.113.0/24
EOF

# 1. the lines, exactly
"$SETUP" -n -c "$T/spamd.conf" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "spamd-setup -n exited $?"; }
diff -u "$T/expected" "$T/out" || fail "dry-run output differs"
expect_grep '^spamd-setup: list v4list: 2 lines not understood \(-d shows them\)$' "$T/err"
expect_grep '^spamd-setup: list v6gz: 1 line not understood' "$T/err"
pass "dry run prints the expected lines"

# 2. -d names the bad lines, the sources and the counts
"$SETUP" -n -d -c "$T/spamd.conf" >"$T/out" 2>"$T/err" || fail "-n -d failed"
diff -u "$T/expected" "$T/out" || fail "-d changed the output"
expect_grep 'list v4list, line 10: not an address: "not an address"' "$T/err"
expect_grep 'list v4list, line 11: invalid address: "192.0.2.300"' "$T/err"
expect_grep 'list v6gz, line 6: invalid mask: "2001:db8:4::/129 bad mask"' "$T/err"
expect_grep 'list v6gz: fetching file .*/black-v6.txt.gz' "$T/err"
expect_grep 'list ex: fetching command "printf ' "$T/err"
expect_grep 'list v4list: 6 IPv4 and 0 IPv6 blocks' "$T/err"
pass "-d shows bad lines and sources"

# 3. -b -n: the union of all black lists as an nft script
"$SETUP" -n -b -c "$T/spamd.conf" >"$T/out" 2>"$T/err" || fail "-n -b failed"
expect_grep '^flush set inet spamd spamd_black$' "$T/out"
expect_grep '^add element inet spamd spamd_black \{ 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 \}$' "$T/out"
expect_grep '^flush set inet spamd spamd_black6$' "$T/out"
expect_grep '^add element inet spamd spamd_black6 \{ 2001:db8:1::/49, 2001:db8:2::1/128, .* 2001:db8:3::7/128 \}$' "$T/out"
pass "-b -n prints the nft sets"

# 4. a list that fails or comes out empty: the others go, exit 2
printf '# nothing but comments\n' >"$T/empty.txt"
cat >"$T/partial.conf" <<EOF
all:gone:ex:empty:
gone:black:msg="m":file=$T/no-such-file:
empty:black:msg="m":file=$T/empty.txt:
ex:black:msg="exec list":method=exec:file=printf 198.51.100.0/24\\\\n203.0.113.0/24\\\\n:
EOF
rc=0
"$SETUP" -n -c "$T/partial.conf" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || { cat "$T/err"; fail "partial failure exited $rc, expected 2"; }
tail -1 "$T/expected" | diff -u - "$T/out" || fail "partial output differs"
expect_grep "list gone: .*no-such-file: No such file or directory" "$T/err"
expect_grep '^spamd-setup: list gone not sent; spamd keeps what it had for it$' "$T/err"
expect_grep '^spamd-setup: list empty: no addresses$' "$T/err"
pass "a failed list exits 2 and is not sent"

# ... and -b then leaves the nft sets alone
rc=0
"$SETUP" -n -b -c "$T/partial.conf" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "-b partial exited $rc"
grep -q 'spamd_black' "$T/out" && fail "-b replaced the sets despite a failed list"
expect_grep 'not replacing the nft sets spamd_black and spamd_black6: 2 lists failed' "$T/err"
pass "-b keeps the nft sets when a list failed"

# 5. configuration errors: all reported, nothing sent, exit 1
cat >"$T/bad.conf" <<EOF
all:a:b:c:
a:black:file=$L/black-v4.txt:
b:black:msg="m":method=ftp:file=example.org/x:
EOF
rc=0
"$SETUP" -n -c "$T/bad.conf" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "bad config exited $rc, expected 1"
[ -s "$T/out" ] && fail "bad config printed lines"
expect_grep "bad.conf:2: entry a: black list without :msg=:" "$T/err"
expect_grep "bad.conf:3: entry b: method ftp is not supported; use http or https" "$T/err"
expect_grep "bad.conf:1: all: no entry \"c\"" "$T/err"
expect_grep "configuration errors, nothing loaded" "$T/err"
rc=0
"$SETUP" -n -c "$T/nonexistent.conf" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "missing config exited $rc"
expect_grep 'nonexistent.conf: No such file or directory' "$T/err"
pass "configuration errors exit 1 with file:line"

# 6. usage
rc=0
"$SETUP" -n extra 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "extra argument exited $rc"
expect_grep '^usage: spamd-setup \[-bDdn\] \[-c configfile\] \[--fetch-user user\]$' "$T/err"
rc=0
"$SETUP" -x 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "-x exited $rc"
# usage() and the manual's SYNOPSIS agree
if command -v mandoc >/dev/null; then
	syn=$(mandoc -Tascii "$TOP/man/spamd-setup.8" | col -b |
	    awk '/^SYNOPSIS/ { getline; sub(/^ +/, ""); print; exit }')
	use=$("$SETUP" -x 2>&1 | sed -n 's/^usage: //p')
	[ -n "$syn" ] && [ "$syn" = "$use" ] ||
		fail "SYNOPSIS \"$syn\" differs from usage \"$use\""
fi
pass "usage"

# 7. the shipped example works once its files exist and its other lists
# are added to "all" (as shipped it names only "local": example_conf.sh)
mkdir "$T/ex"
sed -e "s|/etc/spamd/|$T/ex/|g" -e 's|^	:local:$|	:local:local-white:traps:|' \
	"$TOP/etc/spamd.conf.example" >"$T/ex/spamd.conf"
grep -q ':local:local-white:traps:' "$T/ex/spamd.conf" || fail "the example's all entry changed shape"
printf '192.0.2.0/24\n2001:db8::/32\n' >"$T/ex/black.txt"
printf '192.0.2.7\n' >"$T/ex/white.txt"
printf 'Your address %%A hit our traps\n' >"$T/ex/traps.msg"
printf '198.51.100.0/24\n' | gzip >"$T/ex/traps.txt.gz"
"$SETUP" -n -c "$T/ex/spamd.conf" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "the example configuration failed"; }
expect_grep '^local;"Your address %A is on the local blacklist of this site.\\nContact postmaster if you think this is wrong.";inet;8;192.0.2.0/30;.*;192.0.2.128/25;inet6;1;2001:db8::/32$' "$T/out"
expect_grep '^traps;"Your address %A hit our traps";inet;1;198.51.100.0/24$' "$T/out"
[ "$(wc -l <"$T/out")" = 2 ] || fail "the example sent more than two lists"
pass "etc/spamd.conf.example"
