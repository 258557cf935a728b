#!/bin/bash
# demo_runs.sh: `make demo' works. tests/demo.sh must show the whole cycle
# (451 deferral, whitelisting, the nft set, delivery, spamdb before and
# after) and exit 0, within a minute; it must leave no namespace, process
# or file behind and the host's ruleset as it was; and interrupted half way
# (SIGINT, as Ctrl-C) it must clean up just the same and exit non-zero.
# make demo TLS=1 must do the same with a sender that requires TLS.
# timeout: 220
. tests/lib.sh
need_root
need_cmd nft postfix smtp-sink timeout
t_tmp

before=$(nft list ruleset 2>&1)

# leftovers LOG: fail if what the demo made is still there.
leftovers() {
	local ns dir
	ns=$(sed -n 's/.*(namespaces \([^ ]*\) and \([^,]*\), files in \([^)]*\)).*/\1 \2/p' "$1")
	dir=$(sed -n 's/.*(namespaces [^ ]* and [^,]*, files in \([^)]*\)).*/\1/p' "$1")
	[ -n "$ns" ] && [ -n "$dir" ] || fail "the demo did not say which namespaces it made"
	for n in $ns; do
		ip netns list | grep -qw "$n" && fail "namespace $n is still there"
	done
	[ ! -e "$dir" ] || fail "$dir is still there"
	pgrep -f "$dir" >/dev/null && fail "processes using $dir are still running"
	[ "$(nft list ruleset 2>&1)" = "$before" ] || fail "the host's ruleset changed"
	return 0
}

start=$(date +%s)
rc=0
bash tests/demo.sh >"$T/demo.log" 2>&1 || rc=$?
took=$(( $(date +%s) - start ))
cat "$T/demo.log"
[ "$rc" = 0 ] || fail "make demo's script exited $rc"
[ "$took" -le 60 ] || fail "the demo took ${took} s, more than a minute"
expect_grep 'Postfix: deferred, the MX said: 451 Temporary failure' "$T/demo.log"
# The demo folds the maillog line at 90 columns, and where it breaks
# depends on its length (delay=2 or delay=0.02): join the lines first.
tr '\n' ' ' <"$T/demo.log" | grep -Eq 'status=deferred +\(host 192\.0\.2\.25' ||
	{ cat "$T/demo.log"; fail "no maillog line 'status=deferred (host 192.0.2.25' in the demo"; }
expect_grep 'spamd: +whitelisting 192\.0\.2\.10' "$T/demo.log"
expect_grep 'elements = \{ 192\.0\.2\.10 timeout' "$T/demo.log"
expect_grep 'Postfix: sent, through 192\.0\.2\.25\[192\.0\.2\.25\]:25' "$T/demo.log"
expect_grep '^ +\(empty\)$' "$T/demo.log"
expect_grep '^ +GREY\|192\.0\.2\.10\|sender\.example\|' "$T/demo.log"
expect_grep '^ +WHITE\|192\.0\.2\.10\|\|\|' "$T/demo.log"
expect_grep '^\[ *[0-9.]+s\] Done: ' "$T/demo.log"
leftovers "$T/demo.log"
pass "the demo ran the whole cycle in ${took} s and cleaned up"

# Ctrl-C half way: after the first deferral, before delivery.
rc=0
timeout -s INT 9 bash tests/demo.sh >"$T/int.log" 2>&1 || rc=$?
cat "$T/int.log"
[ "$rc" != 0 ] || fail "an interrupted demo exited 0"
expect_grep '^interrupted: cleaning up' "$T/int.log"
expect_grep '^demo: stopped every process' "$T/int.log"
leftovers "$T/int.log"
pass "an interrupted demo cleans up and exits $rc"

# make demo TLS=1: a sender that requires TLS, through spamd's STARTTLS.
start=$(date +%s)
rc=0
DEMO_TLS=1 bash tests/demo.sh >"$T/tls.log" 2>&1 || rc=$?
took=$(( $(date +%s) - start ))
cat "$T/tls.log"
[ "$rc" = 0 ] || fail "the TLS demo exited $rc"
[ "$took" -le 60 ] || fail "the TLS demo took ${took} s, more than a minute"
expect_grep 'It requires TLS: smtp_tls_security_level = encrypt' "$T/tls.log"
expect_grep 'spamd: +192\.0\.2\.10: disconnected after [0-9]+ seconds\. tls: TLSv1\.[23]' "$T/tls.log"
expect_grep 'Postfix: .*TLS connection established to 192\.0\.2\.25' "$T/tls.log"
expect_grep 'Postfix: deferred, the MX said: 451 Temporary failure' "$T/tls.log"
expect_grep 'Postfix: sent, through 192\.0\.2\.25\[192\.0\.2\.25\]:25' "$T/tls.log"
expect_grep '^\[ *[0-9.]+s\] Done: ' "$T/tls.log"
leftovers "$T/tls.log"
pass "the TLS demo ran the whole cycle in ${took} s and cleaned up"
