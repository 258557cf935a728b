#!/bin/bash
# privileges.sh: the privilege layout of a running spamd, read from
# /proc/PID/status. All three processes run as _spamd with no_new_privs;
# the SMTP process (facing the Internet) has no capability at all and a
# seccomp filter (Seccomp: 2); the greylister has no capability; only the
# nft helper keeps CAP_NET_ADMIN, permitted but not effective (raised
# only around a netlink send), and nothing else in its bounding set.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0
uid=$(id -u _spamd)

kids=$(cat /proc/$SPAMD_PID/task/*/children 2>/dev/null)
[ -n "$kids" ] || fail "spamd has no children"
for p in $SPAMD_PID $kids; do
	printf '%s %s: ' "$p" "$(cat /proc/$p/comm)"
	grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/$p/status |
		tr -s '\t' ' ' | tr '\n' ';'
	echo
done

field() { awk -v f="$2:" '$1 == f { print $2 }' /proc/$1/status; }
check() {	# check PID NAME CAPPRM CAPEFF CAPBND SECCOMP
	local p=$1 name=$2 prm=$3 eff=$4 bnd=$5 sec=$6 f want ids
	[ "$(cat /proc/$p/comm)" = "$name" ] || fail "pid $p is $(cat /proc/$p/comm), expected $name"
	for f in Uid Gid; do
		ids=$(awk -v f="$f:" '$1 == f { print $2, $3, $4, $5 }' /proc/$p/status)
		want=$uid
		[ $f = Gid ] && want=$(id -g _spamd)
		[ "$ids" = "$want $want $want $want" ] ||
			fail "$name: $f is $ids, expected all $want"
	done
	[ "$(field $p CapPrm)" = "$prm" ] || fail "$name: CapPrm $(field $p CapPrm), expected $prm"
	[ "$(field $p CapEff)" = "$eff" ] || fail "$name: CapEff $(field $p CapEff), expected $eff"
	[ "$(field $p CapBnd)" = "$bnd" ] || fail "$name: CapBnd $(field $p CapBnd), expected $bnd"
	[ "$(field $p CapInh)" = 0000000000000000 ] || fail "$name: inheritable caps"
	[ "$(field $p CapAmb)" = 0000000000000000 ] || fail "$name: ambient caps"
	[ "$(field $p NoNewPrivs)" = 1 ] || fail "$name: no_new_privs not set"
	[ "$(field $p Seccomp)" = "$sec" ] || fail "$name: Seccomp $(field $p Seccomp), expected $sec"
}

none=0000000000000000
netadmin=0000000000001000
smtp=$(for p in $kids; do [ "$(cat /proc/$p/comm)" = spamd-smtp ] && echo $p; done)
grey=$(for p in $kids; do [ "$(cat /proc/$p/comm)" = spamd-grey ] && echo $p; done)
[ -n "$smtp" ] && [ -n "$grey" ] || fail "cannot find spamd-smtp and spamd-grey among $kids"
seccomp=2
if [ "${SANITIZE:-0}" = 1 ]; then
	# LeakSanitizer stops the process with ptrace at exit: no filter there.
	seccomp=0
	expect_grep 'sanitizer build: not loading the seccomp filter' "$T/spamd.log"
fi
check $SPAMD_PID spamd-nft $netadmin $none $netadmin 0
check $smtp spamd-smtp $none $none $none $seccomp
check $grey spamd-grey $none $none $none 0

# Still serving under the filter.
if [ $seccomp = 2 ]; then
	chat 127.0.0.1 <<'EOF' || fail "the sandboxed process does not serve"
expect 220
send QUIT
expect 221
EOF
	kill -0 $smtp || fail "the SMTP process died"
fi
pass "privilege layout"
