#!/bin/bash
# example_conf.sh: the example spamd.conf works as shipped. Installed
# into a DESTDIR tree and copied to spamd.conf as README.md step 6 says,
# `spamd-setup -n' (a dry run: nothing is sent) must load every list of
# its "all" entry without a configuration error. The tree's /etc/spamd
# stands for the real one (paths in the copy are pointed at it).
# timeout: 60
. tests/lib.sh
need_cmd make
t_tmp
R=$T/root

make --no-print-directory -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-0}" \
	install DESTDIR="$R" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "make install DESTDIR=$R failed"; }
E=$R/etc/spamd
[ -f "$E/spamd.conf.example" ] || fail "no spamd.conf.example installed"
sed "s|/etc/spamd/|$E/|g" "$E/spamd.conf.example" >"$E/spamd.conf"
rc=0
"$BIN/spamd-setup" -n -c "$E/spamd.conf" >"$T/out" 2>"$T/err" || rc=$?
cat "$T/err"
[ "$rc" = 0 ] || fail "spamd-setup -n on the shipped example exited $rc"
[ ! -s "$T/err" ] || fail "spamd-setup complained about the shipped example"
all=$(sed -n '/^all:/,/[^\\]$/p' "$E/spamd.conf" | tr -d '\\\n\t' | sed 's/^all:://; s/:$//')
[ -n "$all" ] || fail "the example's all entry names no list"
for l in ${all//:/ }; do
	grep -q "^$l;" "$T/out" || { cat "$T/out"; fail "list $l of \"all\" was not loaded"; }
done
pass "the shipped example loads as is (lists: ${all//:/ })"
