#!/bin/bash
# run.sh: run tests, each in its own process with a timeout, and print
# one line per test and a closing "N passed, N failed, N skipped".
#
# usage: tests/run.sh [test ...]
#   With no argument: every unit binary in $O/tests/t_*, then every
#   tests/{golden,smtp,netns,fuzz,...}/*.sh script, in name order.
#   A test passes with exit 0, is skipped with exit 77 (its last output
#   line says why), and fails otherwise. A script may set its own timeout
#   with a line "# timeout: SECONDS" (default 120). Output of each test
#   goes to $O/test-logs/NAME.log; a failure prints the tail of it.
#
# Environment: O (build directory, required), JOBS (parallel tests,
# default 1), TEST_TIMEOUT_SCALE (multiply every timeout, e.g. 3 under
# valgrind or a slow machine).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
: "${O:?O must name the build directory}"
export O TOP="$top" BIN="$O/bin" TBIN="$O/tests"
logs="$O/test-logs"
mkdir -p "$logs"
scale=${TEST_TIMEOUT_SCALE:-1}
[ "${SANITIZE:-0}" = 1 ] && scale=$((scale * 2))

if [ $# -eq 0 ]; then
	set -- $(ls "$O"/tests/t_* 2>/dev/null | sort) \
	    $(cd "$top" && ls tests/*/[0-9a-z]*.sh 2>/dev/null | grep -v '^tests/lib.sh' | sort)
fi

# run_one TEST -> prints "STATUS<TAB>NAME<TAB>seconds<TAB>reason"
run_one() {
	local t=$1 name log to rc start end reason path
	name=$(basename "$t")
	case $t in
	/*) path=$t ;;
	*) path=$top/$t ;;
	esac
	[ -x "$path" ] || [ -f "$path" ] || { printf 'FAIL\t%s\t0\tno such test\n' "$name"; return; }
	log=$logs/${name%.sh}.log
	to=120
	if [ "${path%.sh}" != "$path" ]; then
		to=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$path" | head -1)
		[ -n "$to" ] || to=120
	fi
	to=$((to * scale))
	start=$(date +%s.%N)
	(
		cd "$top" || exit 1
		if [ "${path%.sh}" != "$path" ]; then
			exec timeout --kill-after=10 "$to" bash "$path"
		else
			exec timeout --kill-after=10 "$to" "$path"
		fi
	) >"$log" 2>&1 </dev/null
	rc=$?
	end=$(date +%s.%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0) printf 'PASS\t%s\t%s\t\n' "$name" "$secs" ;;
	77) reason=$(grep -v '^[[:space:]]*$' "$log" | tail -1)
	    printf 'SKIP\t%s\t%s\t%s\n' "$name" "$secs" "$reason" ;;
	124|137) printf 'FAIL\t%s\t%s\ttimed out after %ss\n' "$name" "$secs" "$to" ;;
	*) printf 'FAIL\t%s\t%s\texit %s\n' "$name" "$secs" "$rc" ;;
	esac
}
export -f run_one
export logs scale top

results=$(mktemp)
trap 'rm -f "$results"' EXIT
printf '%s\n' "$@" | xargs -d '\n' -P "${JOBS:-1}" -I{} bash -c 'run_one "$1"' _ {} |
while IFS=$'\t' read -r st name secs reason; do
	case $st in
	PASS) printf 'PASS  %-40s %6ss\n' "$name" "$secs" ;;
	SKIP) printf 'SKIP  %-40s %6ss  %s\n' "$name" "$secs" "$reason" ;;
	FAIL) printf 'FAIL  %-40s %6ss  %s\n' "$name" "$secs" "$reason"
	      tail -n 25 "$logs/${name%.sh}.log" 2>/dev/null | sed 's/^/      | /' ;;
	esac
	printf '%s\n' "$st" >>"$results"
done

p=$(grep -c '^PASS$' "$results")
f=$(grep -c '^FAIL$' "$results")
s=$(grep -c '^SKIP$' "$results")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ] && [ $((p + f + s)) -gt 0 ]
