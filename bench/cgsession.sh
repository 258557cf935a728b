#!/bin/bash
# cgsession.sh: instructions per greylisted first-contact session, counted
# by callgrind (deterministic, unlike wall time on a shared machine), for
# spamd's SMTP process and greylister and for the null server.
#
# usage: bench/cgsession.sh [N1 N2]	(default 1000 3000 sessions)
#
# Each server runs under valgrind --tool=callgrind twice, once for N1 and
# once for N2 sessions (smtpload -N, 20 at a time), in a private network
# namespace with nft/spamd.nft loaded. The cost per session is the
# difference of the two totals over N2 - N1, so start-up and exit cancel
# out. Prints one line per process:
#	cg <who> instr_per_session=I
# The SMTP process runs without its seccomp filter (valgrind cannot load
# one; tests/valgrind/noseccomp.c). Needs root, valgrind, cc and a built tree (O=build by default). Leaves
# nothing behind: the namespace and its scratch directory go at exit.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
BIN=$O/bin
BB=$O/bench
N1=${1:-1000}
N2=${2:-3000}
command -v valgrind >/dev/null || { echo "cgsession: valgrind missing" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "cgsession: run as root (namespaces)" >&2; exit 1; }
T=$(mktemp -d /tmp/cgsession.XXXXXX)
chmod 755 "$T"
ns=cgs$$
cleanup() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || exit 1
ip netns exec "$ns" nft -f nft/spamd.nft || exit 1
# Valgrind has no seccomp(2): spamd's SMTP process would refuse to start
# unconfined. The memcheck test's stand-in libseccomp lets it run.
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -shared -fPIC -o "$T/noseccomp.so" \
    tests/valgrind/noseccomp.c || exit 1

# total Ir of a callgrind output file
ir() { awk '/^summary:/ { print $2 }' "$1"; }

wait_log() { # FILE PATTERN SECS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# run_spamd N: callgrind totals of the SMTP process and the greylister
run_spamd() {
	local n=$1 d=$T/db$1 pid f smtp grey
	mkdir -p "$d/cg" && chown -R _spamd: "$d"
	ip netns exec "$ns" env LD_PRELOAD="$T/noseccomp.so" \
	    valgrind --tool=callgrind --trace-children=yes \
	    --callgrind-out-file="$d/cg/cg.%p" "$BIN/spamd" -d \
	    -f "$d/spamd.db" -h mx.bench.example \
	    --config-socket "$T/spamd$n.sock" --maxcon-per-address 2000000000 \
	    -s 0 -S 0 -c 1000 --grey-max-rate 0/1s --grey-max-tuples 0 \
	    --db-max-size 0 2>"$d/log" &
	pid=$!
	wait_log "$d/log" "listening for incoming connections" 20 ||
		{ echo "cgsession: spamd did not start: $(tail -3 "$d/log")" >&2; return 1; }
	smtp=$(ip netns exec "$ns" ss -ltnpH 'sport = :8025' |
	    grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
	grey=$(ps -o pid= --ppid "$pid" | awk -v s="$smtp" '$1 != s { print $1; exit }')
	ip netns exec "$ns" "$BB/smtpload" -c 20 -N "$n" -T 120 -t "cg$n" \
	    127.0.0.1 8025 >"$d/load" || { cat "$d/load" >&2; return 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null
	for f in "$d"/cg/cg.*; do
		case ${f##*.} in
		"$smtp") echo "smtp $(ir "$f")" ;;
		"$grey") echo "grey $(ir "$f")" ;;
		esac
	done
}

run_null() {
	local n=$1 d=$T/null$1 pid
	mkdir -p "$d"
	ip netns exec "$ns" valgrind --tool=callgrind \
	    --callgrind-out-file="$d/cg" "$BB/nullsmtp" -t 900 127.0.0.1 \
	    2>"$d/log" &
	pid=$!
	wait_log "$d/log" listening 60 || { echo "cgsession: nullsmtp did not start" >&2; return 1; }
	ip netns exec "$ns" "$BB/smtpload" -c 20 -N "$n" -T 120 -t "cgn$n" \
	    127.0.0.1 2525 >"$d/load" || { cat "$d/load" >&2; return 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null
	echo "null $(ir "$d/cg")"
}

declare -A A B
while read -r k v; do A[$k]=$v; done < <(run_spamd "$N1"; run_null "$N1")
while read -r k v; do B[$k]=$v; done < <(run_spamd "$N2"; run_null "$N2")
for k in smtp grey null; do
	[ -n "${A[$k]:-}" ] && [ -n "${B[$k]:-}" ] ||
		{ echo "cgsession: no callgrind total for $k" >&2; exit 1; }
	echo "cg $k instr_per_session=$(( (B[$k] - A[$k]) / (N2 - N1) ))"
done
echo "cg spamd instr_per_session=$(( (B[smtp] - A[smtp] + B[grey] - A[grey]) / (N2 - N1) ))"
