#!/bin/bash
# lint.sh: every manual page in man/ lints clean with mandoc -Tlint
# -Wwarning and renders without a single warning through groff (what
# Debian's man uses: `groff -mandoc -ww -z', for the terminal and the
# default device), as `make lint' checks; is named after its .Dt line; and
# every cross-reference to a page of the suite points at a page that
# exists. groff reads a word such as "An" at the start of a macro's
# arguments as a call, and stops rendering the page early, with warnings.
# timeout: 60
. tests/lib.sh
need_cmd mandoc groff
t_tmp
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
	for dev in -Tutf8 ''; do
		out=$(groff -mandoc $dev -ww -z "$m" 2>&1)
		if [ -n "$out" ]; then
			echo "FAIL: $m: groff -mandoc $dev -ww warns:"
			echo "$out" | sed 's/^/    /'
			bad=1
		fi
	done
	# Every section must reach the reader (man stopped before HISTORY).
	groff -mandoc -Tutf8 -P-c -ww "$m" 2>/dev/null | sed 's/.\x08//g' >"$T/render"
	sed -n 's/^\.Sh //p' "$m" | tr -d '"' | while read -r sh; do
		grep -qx "$sh" "$T/render" || { echo "FAIL: $m: groff renders no section $sh"; exit 1; }
	done || bad=1
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
pass "$n manual pages lint clean (mandoc and groff), names and cross-references agree"
