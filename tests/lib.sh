# lib.sh: shared helpers for test scripts. Source it first:
#	. tests/lib.sh
#
#	skip "why"		exit 77 (reported as skipped, with the reason)
#	fail "why"		print and exit 1
#	need_root, need_cmd CMD...	skip when missing
#	t_tmp			a private temporary directory, removed at exit
#	at_exit "command"	run at exit, last registered first
#	wait_for SECS CMD...	poll CMD every 0.1 s until it succeeds or SECS pass
#	ns_new NAME		create a network namespace NAME-$$ with lo up,
#				removed at exit; prints the full name
#	ns_link NS1 ADDR1 NS2 ADDR2 [V6_1 V6_2]	a veth pair between two namespaces
#	expect_grep PATTERN FILE	fail unless FILE has a line matching PATTERN
#
# Scripts run from the top of the source tree with O, BIN (programs) and
# TBIN (test tools) set by tests/run.sh.
set -u

: "${O:=build}"
: "${BIN:=$O/bin}"
: "${TBIN:=$O/tests}"
TOP=${TOP:-$(pwd)}

_t_exit_cmds=()
_t_run_exit() {
	local i
	for ((i = ${#_t_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_t_exit_cmds[$i]}" >/dev/null 2>&1 || true
	done
}
trap _t_run_exit EXIT

# Namespaces are named NAME-$$ ($$ is this shell's PID even in subshells,
# so ns_new may run inside $(...)): remove all of ours at exit.
_t_ns_cleanup() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E -- "-$$\$"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}
_t_exit_cmds+=("_t_ns_cleanup")
trap 'exit 130' INT TERM

at_exit() { _t_exit_cmds+=("$1"); }

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

t_tmp() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/spamdtest.XXXXXX") || fail "mktemp"
	at_exit "rm -rf '$T'"
	chmod 755 "$T"
}

wait_for() {
	local secs=$1 i n
	shift
	n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

ns_new() {
	local ns="$1-$$"
	ip netns add "$ns" || fail "ip netns add $ns"
	ip -n "$ns" link set lo up || fail "lo up in $ns"
	echo "$ns"
}

# ns_link NS1 ADDR1/LEN NS2 ADDR2/LEN [V6ADDR1/LEN V6ADDR2/LEN]
ns_link() {
	local a=$1 aa=$2 b=$3 ba=$4 a6=${5:-} b6=${6:-}
	local va="va$$" vb="vb$$"
	ip link add "$va" netns "$a" type veth peer name "$vb" netns "$b" ||
		fail "veth $a <-> $b"
	ip -n "$a" addr add "$aa" dev "$va"
	ip -n "$b" addr add "$ba" dev "$vb"
	if [ -n "$a6" ]; then
		ip -n "$a" addr add "$a6" dev "$va" nodad
		ip -n "$b" addr add "$b6" dev "$vb" nodad
	fi
	ip -n "$a" link set "$va" up
	ip -n "$b" link set "$vb" up
}

# expect_grep REGEX FILE: FILE has a matching line, now or within 5 s
# (daemons write a turn's log lines when the turn ends, and another
# process's line may follow what the test saw by a moment).
expect_grep() {
	wait_for 5 grep -Eq -- "$1" "$2" ||
		{ echo "--- $2:"; tail -n 40 "$2"; fail "no line matching /$1/ in $2"; }
}

# private_net "$@": re-run this script in a private network namespace with
# only a loopback, so that daemons can bind their usual ports. Call first.
private_net() {
	if [ -z "${_T_PRIVNET:-}" ]; then
		need_root
		command -v unshare >/dev/null || skip "needs unshare"
		export _T_PRIVNET=1
		exec unshare -n -- bash "$0" "$@"
	fi
	ip link set lo up || fail "lo up"
}

ensure_spamd_user() {
	id _spamd >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin _spamd ||
		fail "cannot create the _spamd user"
}

# spamd_start [args...]: spamd -d with its database in $T/db, logging to
# $T/spamd.log; waits until it listens, and stops it at exit. Unless the
# arguments name one, its unix configuration socket is $T/spamd.sock
# (never the shared /run/spamd), for spamd-setup --socket "$SPAMD_SOCK".
# Sets SPAMD_PID, DB and SPAMD_SOCK.
spamd_start() {
	local a sockopt=1
	ensure_spamd_user
	mkdir -p "$T/db"
	chown _spamd: "$T/db"
	DB=$T/db/spamd.db
	for a in "$@"; do
		case $a in --config-socket*) sockopt=0 ;; esac
	done
	SPAMD_SOCK=$T/spamd.sock
	_nlisten=$(grep -c 'listening for incoming connections' "$T/spamd.log" 2>/dev/null)
	if [ "$sockopt" = 1 ]; then
		set -- --config-socket "$SPAMD_SOCK" "$@"
	fi
	"$BIN/spamd" -d -f "$DB" -h mx.test "$@" 2>>"$T/spamd.log" &
	SPAMD_PID=$!
	at_exit "kill $SPAMD_PID 2>/dev/null; wait $SPAMD_PID 2>/dev/null"
	wait_for 10 sh -c "[ \$(grep -c 'listening for incoming connections' '$T/spamd.log') -gt ${_nlisten:-0} ]" ||
		{ cat "$T/spamd.log"; fail "spamd did not start"; }
}

# spamd_stop: stop it now and wait for it.
spamd_stop() {
	kill "$SPAMD_PID" 2>/dev/null
	wait "$SPAMD_PID" 2>/dev/null
	return 0
}

# chat HOST [-s SRC]: run the smtpchat script on stdin against spamd.
chat() {
	local host=$1
	shift
	"$TBIN/smtpchat" "$@" "$host" "${SPAMD_PORT:-8025}"
}

# spamdb_lines KIND: the database's lines of that kind, sorted.
spamdb_lines() {
	"$BIN/spamdb" -f "$DB" | grep "^$1|" | sort
}
