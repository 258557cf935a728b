#!/bin/bash
# badvalue.sh: an option value out of range (or missing) is a usage error
# in every program of the suite, as in OpenBSD: one line that names the
# option and why, then the usage text, and the documented usage exit
# status (1; spamd-nftsync documents 2). Nothing is started.
# timeout: 30
. tests/lib.sh
t_tmp

# check WANT_RC PROG ARGS...: stderr must be an error line naming the
# problem, then "usage: PROG ...".
check() {
	local want=$1 p=$2 rc=0
	shift 2
	"$BIN/$p" "$@" </dev/null >"$T/out" 2>"$T/err" || rc=$?
	sed 's/^/    /' "$T/err"
	[ "$rc" = "$want" ] || fail "$p $*: exit $rc, want $want"
	[ "$(wc -l <"$T/err")" -ge 2 ] || fail "$p $*: no error line and usage"
	head -n1 "$T/err" | grep -q '^usage:' && fail "$p $*: usage without the error"
	grep -q "^usage: $p " "$T/err" || fail "$p $*: the error without the usage text"
	[ ! -s "$T/out" ] || fail "$p $*: printed on stdout"
	pass "$p $*: error, usage, exit $rc"
}

check 1 spamd -s 11
check 1 spamd -S 91
check 1 spamlogd -W 2161
check 1 spamlogd -W 0
check 1 spamdb -f
check 1 spamd-setup -c
check 2 spamd-nftsync -W 0
check 2 spamd-nftsync -f
check 1 spamd --policy-text 'Greylisted 50%'
check 1 spamd --policy-timeout 0
check 1 spamd --policy-action ''
check 1 spamd --policy-only
