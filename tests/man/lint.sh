#!/bin/bash
# lint.sh: every manual page in man/ lints clean with mandoc -Tlint
# -Wwarning (what `make lint' runs), is named after its .Dt line, and every
# cross-reference to a page of the suite points at a page that exists.
# timeout: 60
. tests/lib.sh
need_cmd mandoc
bad=0
n=0
for m in man/*.[1-8]; do
	[ -e "$m" ] || continue
	n=$((n + 1))
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: $m does not lint clean:"
		echo "$out" | sed 's/^/    /'
		bad=1
	fi
	base=${m##*/}
	want="$(tr '[:lower:]' '[:upper:]' <<<"${base%.*}") ${base##*.}"
	dt=$(sed -n 's/^\.Dt //p' "$m")
	[ "$dt" = "$want" ] || { echo "FAIL: $m: .Dt says \"$dt\", want \"$want\""; bad=1; }
	# .Xr spamd-setup 8 and friends must exist in man/.
	sed -n 's/^\.Xr \(spamd[a-z.-]*\|spamlogd\) \([1-8]\).*/\1.\2/p' "$m" | sort -u |
	while read -r ref; do
		[ -f "man/$ref" ] || { echo "FAIL: $m refers to ${ref%.*}(${ref##*.}), but man/$ref does not exist"; exit 1; }
	done || bad=1
done
[ "$n" -gt 0 ] || fail "no manual pages in man/"
[ "$bad" = 0 ] || fail "manual pages need work (see above)"
pass "$n manual pages lint clean, names and cross-references agree"
