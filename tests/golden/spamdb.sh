#!/bin/bash
# spamdb.sh: spamdb's output, messages and exit status against golden files.
# timeout: 60
#
# Each case NAME in tests/golden/spamdb/ has
#	NAME.in		records seeded with tests/tools/dbseed first (optional)
#	NAME.cmd	one spamdb run per line, then its expected transcript in
#	NAME.ref
# A .cmd line is "[sort|rel] [VAR=value ...] ARGS", split by the shell
# (quotes, $'\n' and {a..b} work); @DB@ is the case's database and @T@
# its directory. "sort" sorts stdout and stderr (GDBM lists in hash
# order). "rel" also sorts, and writes each time field that an earlier
# run of the case set from the clock (seeds use fixed times in 2023) as
# NOW, NOW+24h or NOW+36d, and as NOW? if the fields of one record
# disagree on when "now" was: so "expire - pass == 36 days" is checked
# without the test depending on the second it ran in.
# A line "! COMMAND" runs COMMAND (with @DB@/@T@) and records nothing.
# Blank lines and lines starting with '#' are skipped.
#
# The transcript of a run is "$ spamdb ARGS", its stdout, its stderr
# lines prefixed "! ", and "? STATUS".
#
# GOLDEN_UPDATE=1 rewrites the .ref files instead of comparing: read the
# diff before committing it.

. tests/lib.sh

SPAMDB=$BIN/spamdb
DBSEED=$TBIN/dbseed
[ -x "$SPAMDB" ] || fail "no $SPAMDB (build first)"
[ -x "$DBSEED" ] || fail "no $DBSEED (build first)"
t_tmp
dir=tests/golden/spamdb

# rel T0 T1: rewrite clock-set times of spamdb listing lines
rel() {
	awk -F'|' -v OFS='|' -v t0="$1" -v t1="$2" '
	function lab(v,   d, i) {
		for (i = 0; i < 3; i++) {
			d = (i == 0) ? 0 : (i == 1) ? 86400 : 3110400
			if (v - d >= t0 && v - d <= t1) {
				if (base != "" && base != v - d)
					bad = 1
				base = v - d
				return (i == 0) ? "NOW" : (i == 1) ? "NOW+24h" : "NOW+36d"
			}
		}
		return v
	}
	{
		base = ""; bad = 0
		if ($1 == "GREY") { lo = 6; hi = 8 }
		else if ($1 == "WHITE") { lo = 5; hi = 7 }
		else if ($1 == "TRAPPED") { lo = 3; hi = 3 }
		else { lo = 1; hi = 0 }
		for (f = lo; f <= hi; f++)
			$f = lab($f)
		if (bad)
			for (f = lo; f <= hi; f++)
				if ($f ~ /^NOW/)
					$f = "NOW?"
		print
	}'
}

run_case() {
	local name=$1 db=$T/$1/db line mode args rc start t1 p1=0
	local -a argv env
	mkdir -p "$T/$name"
	start=$(date +%s)
	if [ -f "$dir/$name.in" ]; then
		"$DBSEED" "$db" <"$dir/$name.in" || fail "$name: dbseed failed"
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		''|'#'*) continue ;;
		'! '*)
			line=${line#! }
			line=${line//@DB@/$db}
			(eval "${line//@T@/$T/$name}") || fail "$name: $line"
			continue ;;
		esac
		mode=plain
		case $line in
		'sort '*) mode=sort; line=${line#sort } ;;
		'rel '*) mode=rel; line=${line#rel } ;;
		esac
		echo "\$ spamdb $line"
		args=${line//@DB@/$db}
		args=${args//@T@/$T/$name}
		eval "argv=($args)"
		env=()
		while [ ${#argv[@]} -gt 0 ] && [[ ${argv[0]} =~ ^[A-Z_]+= ]]; do
			env+=("${argv[0]}")
			argv=("${argv[@]:1}")
		done
		env "${env[@]}" "$SPAMDB" "${argv[@]}" >"$T/out" 2>"$T/err"
		rc=$?
		t1=$(date +%s)
		case $mode in
		plain) cat "$T/out"; sed 's/^/! /' "$T/err" ;;
		sort) LC_ALL=C sort "$T/out"; LC_ALL=C sort "$T/err" | sed 's/^/! /' ;;
		rel) rel "$start" "$p1" <"$T/out" | LC_ALL=C sort
		     LC_ALL=C sort "$T/err" | sed 's/^/! /' ;;
		esac
		echo "? $rc"
		p1=$t1
	done <"$dir/$name.cmd"
}

n=0
bad=0
for cmd in "$dir"/*.cmd; do
	name=$(basename "$cmd" .cmd)
	n=$((n + 1))
	(run_case "$name") >"$T/$name.out" 2>"$T/$name.stderr" ||
		fail "$name: $(cat "$T/$name.stderr")"
	# paths differ from run to run
	sed -i "s|$T/$name|@T@|g" "$T/$name.out"
	if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$T/$name.out" "$dir/$name.ref"
		echo "updated $dir/$name.ref"
	elif ! diff -u "$dir/$name.ref" "$T/$name.out"; then
		echo "FAIL: $name differs from $dir/$name.ref"
		bad=$((bad + 1))
	else
		echo "ok $name"
	fi
done
[ "$n" -gt 0 ] || fail "no cases in $dir"
[ "$bad" -eq 0 ] || fail "$bad of $n spamdb golden cases differ"
pass "$n spamdb golden cases"
