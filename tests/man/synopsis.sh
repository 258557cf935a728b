#!/bin/bash
# synopsis.sh: for every program of the suite, the usage() message (what
# it prints for an invalid option) and the SYNOPSIS of its manual page
# must say the same, whitespace aside; and every option letter of the
# usage must have its own entry (.It Fl X) in the page. A program without
# a page fails: every program ships one.
# timeout: 60
. tests/lib.sh
need_cmd mandoc col
t_tmp

norm() { tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }

# The usage text: from "usage:" to the end, without the word.
usage_of() {
	"$BIN/$1" -Z 2>&1 >/dev/null | sed -n '/^usage:/,$p' | sed '1s/^usage://' | norm
}

# The SYNOPSIS section as rendered, on one line.
synopsis_of() {
	mandoc -Tascii -O width=400 "$1" | col -b |
		awk '/^SYNOPSIS/ { on = 1; next } on && /^[A-Z]/ { exit } on' | norm
}

# The option letters of a usage text: [-45bdv] gives 4 5 b d v,
# [-A file] gives A.
letters_of() {
	grep -oE '\[-[A-Za-z0-9]+( [^]]*)?\]' <<<"$1" | while read -r tok; do
		tok=${tok#[-}
		tok=${tok%]}
		case $tok in
		*" "*) echo "${tok%% *}" ;;
		*) grep -o . <<<"$tok" ;;
		esac
	done
}

bad=0
for p in spamd spamdb spamlogd spamd-setup spamd-nftsync; do
	page=man/$p.8
	[ -x "$BIN/$p" ] || { echo "FAIL: $BIN/$p is missing"; bad=1; continue; }
	if [ ! -f "$page" ]; then
		echo "FAIL: $p has no manual page: write $page (its SYNOPSIS must match usage())"
		bad=1
		continue
	fi
	use=$(usage_of "$p")
	syn=$(synopsis_of "$page")
	[ -n "$use" ] || { echo "FAIL: $p printed no usage for an invalid option"; bad=1; continue; }
	if [ "$use" != "$syn" ]; then
		echo "FAIL: $p: usage() and the SYNOPSIS of $page differ:"
		echo "  usage:    $use"
		echo "  SYNOPSIS: $syn"
		diff <(tr ' ' '\n' <<<"$use") <(tr ' ' '\n' <<<"$syn") | sed 's/^/    /'
		bad=1
		continue
	fi
	for l in $(letters_of "$use"); do
		grep -Eq "^\.It Fl $l( |$)" "$page" ||
			{ echo "FAIL: $page: option -$l is in usage but has no .It Fl $l entry"; bad=1; }
	done
	pass "$p: usage() = SYNOPSIS ($use)"
done
[ "$bad" = 0 ] || fail "usage and manual pages disagree (see above)"
