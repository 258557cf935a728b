#!/bin/bash
# install.sh: make install and make uninstall into a DESTDIR tree.
# Checks the exact tree and modes, that the units and the cron file name
# the installed paths (and pass systemd-analyze verify), that a second
# install changes nothing, that an edited configuration file is never
# overwritten (the new version lands as FILE.new) while an untouched old
# one is updated, that PREFIX=/usr moves units to /lib/systemd/system, and
# that uninstall leaves only the state directory and the edited files.
# timeout: 120
. tests/lib.sh
need_cmd make sha256sum
t_tmp
R=$T/root

mk() { make --no-print-directory -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-0}" "$@"; }

# The tree install must produce, relative to $R, with modes.
expected() {
	local p f
	for p in spamd spamd-nftsync spamd-setup spamdb spamlogd; do
		echo "755 /usr/local/sbin/$p"
	done
	for f in man/*.5 man/*.8; do
		[ -e "$f" ] && echo "644 /usr/local/share/man/man${f##*.}/${f#man/}"
	done
	for f in etc/*.service etc/*.timer; do
		echo "644 /usr/local/lib/systemd/system/${f#etc/}"
	done
	echo "644 /etc/spamd/spamd.nft"
	echo "644 /etc/spamd/spamd-blacklist-only.nft"
	echo "644 /etc/spamd/nospamd.nft"
	[ -e etc/spamd.conf.example ] && echo "644 /etc/spamd/spamd.conf.example"
	echo "644 /etc/spamd/black.txt"
	echo "644 /etc/spamd/bigmailers.example"
	echo "644 /etc/default/spamd"
	echo "644 /etc/cron.d/spamd-nftsync"
	echo "644 /usr/local/share/spamd/manifest"
}

tree() {
	(cd "$1" && find . -type f -printf '%m /%P\n' | sort)
}

sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# 1. A fresh install.
mk install DESTDIR="$R" >"$T/install1.log" 2>&1 ||
	{ cat "$T/install1.log"; fail "make install DESTDIR=$R failed"; }
expected | sort >"$T/want"
tree "$R" >"$T/got"
diff -u "$T/want" "$T/got" || fail "installed tree differs from the expected one"
[ "$(stat -c %a "$R/var/lib/spamd")" = 750 ] || fail "state directory mode is not 0750"
expect_grep 'PACKAGER: .*system user' "$T/install1.log"
expect_grep 'useradd --system .*_spamd' "$T/install1.log"
for p in spamd spamdb spamlogd spamd-setup spamd-nftsync; do
	cmp -s "$BIN/$p" "$R/usr/local/sbin/$p" || fail "$p is not the built binary"
done
cmp -s nft/spamd.nft "$R/etc/spamd/spamd.nft" || fail "spamd.nft not installed as is"
expect_grep '^ExecStart=/usr/local/sbin/spamd -G ' "$R/usr/local/lib/systemd/system/spamd.service"
expect_grep '^ReadWritePaths=/var/lib/spamd$' "$R/usr/local/lib/systemd/system/spamd.service"
expect_grep 'root.*/usr/local/sbin/spamd-nftsync ' "$R/etc/cron.d/spamd-nftsync"
pass "fresh install: exact tree, modes and paths"

# The installed rulesets load, as /etc/nftables.conf would include them
# (in a private network namespace, never the host's).
if command -v unshare >/dev/null 2>&1 && command -v nft >/dev/null 2>&1; then
	printf 'flush ruleset\ninclude "%s"\ninclude "%s"\n' \
		"$R/etc/spamd/spamd.nft" "$R/etc/spamd/nospamd.nft" >"$T/nftables.conf"
	unshare -n nft -f "$T/nftables.conf" >"$T/nft.log" 2>&1 ||
		{ cat "$T/nft.log"; fail "the installed spamd.nft and nospamd.nft do not load"; }
	unshare -n nft -f "$R/etc/spamd/spamd-blacklist-only.nft" >"$T/nft.log" 2>&1 ||
		{ cat "$T/nft.log"; fail "the installed spamd-blacklist-only.nft does not load"; }
	pass "installed rulesets load (private namespace)"
fi

# The units are valid and name existing programs (checked on copies that
# point into the DESTDIR tree).
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$T/units"
	for u in "$R"/usr/local/lib/systemd/system/*; do
		sed "s|/usr/local/sbin/|$R/usr/local/sbin/|g" "$u" >"$T/units/${u##*/}"
	done
	systemd-analyze --man=no verify "$T"/units/* >"$T/verify.log" 2>&1 ||
		{ cat "$T/verify.log"; fail "systemd-analyze verify"; }
	[ ! -s "$T/verify.log" ] || { cat "$T/verify.log"; fail "systemd-analyze verify complained"; }
	pass "systemd-analyze verify: units clean"
fi

# 2. Twice: nothing changes.
sums "$R" >"$T/sums1"
mk install DESTDIR="$R" >"$T/install2.log" 2>&1 ||
	{ cat "$T/install2.log"; fail "second make install failed"; }
sums "$R" >"$T/sums2"
diff -u "$T/sums1" "$T/sums2" || fail "a second install changed the tree"
expect_grep '^unchanged: /etc/spamd/spamd.nft$' "$T/install2.log"
pass "second install is a no-op"

# 3. The admin edits two configuration files; an old shipped version of a
# third, never edited, must be updated.
echo '# mine: iifname "eth0" would go here' >>"$R/etc/spamd/spamd.nft"
echo '# mine' >>"$R/etc/cron.d/spamd-nftsync"
cp "$R/etc/spamd/spamd.nft" "$T/edited.nft"
cp "$R/etc/cron.d/spamd-nftsync" "$T/edited.cron"
old=$R/etc/spamd/spamd-blacklist-only.nft
echo '# an older release of this file' >"$old"
oldsum=$(sha256sum "$old" | cut -d' ' -f1)
# The edited two were installed from an older release too (a .new is
# offered only when the shipped file changed since).
awk -F'\t' -v OFS='\t' -v s="$oldsum" \
	'$3 == "/etc/spamd/spamd-blacklist-only.nft" { $2 = s }
	 $3 == "/etc/spamd/spamd.nft" || $3 == "/etc/cron.d/spamd-nftsync" { $2 = "0123abcd" }
	 { print }' \
	"$R/usr/local/share/spamd/manifest" >"$T/mf"
cp "$T/mf" "$R/usr/local/share/spamd/manifest"
mk install DESTDIR="$R" >"$T/install3.log" 2>&1 ||
	{ cat "$T/install3.log"; fail "third make install failed"; }
cmp -s "$T/edited.nft" "$R/etc/spamd/spamd.nft" || fail "install overwrote an edited spamd.nft"
cmp -s "$T/edited.cron" "$R/etc/cron.d/spamd-nftsync" || fail "install overwrote an edited cron file"
cmp -s nft/spamd.nft "$R/etc/spamd/spamd.nft.new" || fail "no spamd.nft.new with the shipped version"
[ -e "$R/etc/cron.d/spamd-nftsync.new" ] || fail "no spamd-nftsync.new"
expect_grep '^KEPT: /etc/spamd/spamd.nft is yours' "$T/install3.log"
expect_grep '^KEPT: /etc/cron.d/spamd-nftsync is yours' "$T/install3.log"
cmp -s nft/spamd-blacklist-only.nft "$old" || fail "an unedited old configuration file was not updated"
expect_grep '^update: /etc/spamd/spamd-blacklist-only.nft' "$T/install3.log"
# Once more: still kept, no new noise. The admin merged and removed the
# .new files; the shipped files did not change, so no .new comes back.
rm -f "$R/etc/spamd/spamd.nft.new" "$R/etc/cron.d/spamd-nftsync.new"
echo 'add element inet spamd nospamd { 198.51.100.0/24 }' >>"$R/etc/spamd/nospamd.nft"
mk install DESTDIR="$R" >"$T/install4.log" 2>&1 || fail "fourth make install failed"
cmp -s "$T/edited.nft" "$R/etc/spamd/spamd.nft" || fail "a later install overwrote an edited spamd.nft"
mk install DESTDIR="$R" >"$T/install5.log" 2>&1 || fail "fifth make install failed"
for f in etc/spamd/spamd.nft etc/cron.d/spamd-nftsync etc/spamd/nospamd.nft; do
	[ ! -e "$R/$f.new" ] || { cat "$T/install5.log"; fail "/$f.new re-created though the shipped file did not change"; }
done
expect_grep '^kept: /etc/spamd/nospamd.nft is yours \(edited\); the shipped version has not changed' "$T/install5.log"
grep -q '^KEPT' "$T/install5.log" && fail "install asks for a merge with nothing to merge"
cp etc/nospamd.nft "$R/etc/spamd/nospamd.nft"	# back to as shipped
pass "edited configuration files kept, FILE.new beside them; unedited ones updated"

# 4. Uninstall: only the state directory, the edited files and the
# rulesets that /etc/nftables.conf may include remain (an include of a
# missing file makes nft load nothing at all).
touch "$R/var/lib/spamd/spamd.db"	# stands for the database
mk uninstall DESTDIR="$R" >"$T/uninstall.log" 2>&1 ||
	{ cat "$T/uninstall.log"; fail "make uninstall failed"; }
printf '%s\n' "644 /etc/cron.d/spamd-nftsync" "644 /etc/spamd/nospamd.nft" \
	"644 /etc/spamd/spamd-blacklist-only.nft" "644 /etc/spamd/spamd.nft" \
	"644 /var/lib/spamd/spamd.db" >"$T/want"
tree "$R" >"$T/got"
diff -u "$T/want" "$T/got" || fail "uninstall left the wrong files"
[ -d "$R/var/lib/spamd" ] || fail "uninstall removed the state directory"
[ ! -e "$R/usr/local/share/spamd" ] || fail "uninstall left the manifest directory"
expect_grep '^KEPT: /etc/spamd/spamd.nft \(edited\)' "$T/uninstall.log"
expect_grep '^WARNING: .*/etc/spamd/spamd.nft still redirect port 25' "$T/uninstall.log"
expect_grep '^Kept: /var/lib/spamd' "$T/uninstall.log"
if mk uninstall DESTDIR="$R" >"$T/uninstall2.log" 2>&1; then
	fail "a second uninstall succeeded without a manifest"
fi
expect_grep 'no .*manifest' "$T/uninstall2.log"
pass "uninstall removes what install put there, keeps the database and edits"

# 4b. Uninstall of untouched rulesets: nftables.conf still loads, and no
# longer redirects anything (spamd is gone), even without flush ruleset;
# the admin is told what to remove by hand; a new install replaces them.
U=$T/u
mk install DESTDIR="$U" >"$T/u-install.log" 2>&1 || fail "make install DESTDIR=$U failed"
echo 'add element inet spamd nospamd { 198.51.100.0/24 }' >>"$U/etc/spamd/nospamd.nft"
mk uninstall DESTDIR="$U" >"$T/u-uninstall.log" 2>&1 ||
	{ cat "$T/u-uninstall.log"; fail "make uninstall failed"; }
cat "$T/u-uninstall.log"
for f in spamd.nft spamd-blacklist-only.nft nospamd.nft; do
	[ -f "$U/etc/spamd/$f" ] || fail "uninstall removed /etc/spamd/$f, which nftables.conf may include"
done
expect_grep "remove .*include \"/etc/spamd/spamd.nft\"" "$T/u-uninstall.log"
if command -v unshare >/dev/null 2>&1 && command -v nft >/dev/null 2>&1; then
	printf 'include "%s"\ninclude "%s"\n' "$U/etc/spamd/spamd.nft" \
		"$U/etc/spamd/nospamd.nft" >"$T/u.conf"
	# The real ruleset is loaded, then the conf again after uninstall.
	unshare -n sh -c "nft -f nft/spamd.nft && nft -f '$T/u.conf' && nft list ruleset" \
		>"$T/u-nft.log" 2>&1 || { cat "$T/u-nft.log"; fail "nftables.conf does not load after uninstall"; }
	grep -q 'chain\|redirect' "$T/u-nft.log" && { cat "$T/u-nft.log"; fail "after uninstall the ruleset still has chains"; }
	expect_grep '198\.51\.100\.0/24' "$T/u-nft.log"
	printf 'include "%s"\ninclude "%s"\n' "$U/etc/spamd/spamd-blacklist-only.nft" \
		"$U/etc/spamd/nospamd.nft" >"$T/u2.conf"
	unshare -n nft -f "$T/u2.conf" >"$T/u2.log" 2>&1 ||
		{ cat "$T/u2.log"; fail "the blacklist-only include does not load after uninstall"; }
	pass "after uninstall nftables.conf still loads and redirects nothing"
fi
mk install DESTDIR="$U" >"$T/u-reinstall.log" 2>&1 || fail "reinstall failed"
cmp -s nft/spamd.nft "$U/etc/spamd/spamd.nft" || fail "reinstall kept the uninstall stub of spamd.nft"
[ ! -e "$U/etc/spamd/spamd.nft.new" ] || fail "reinstall offered spamd.nft.new over the stub"
pass "uninstall keeps the includes valid; reinstall replaces the stubs"

# 5. A build for /var/lib/spamd cannot be installed for another STATEDIR:
# the units would name a directory the programs never use.
if mk install DESTDIR="$T/other" STATEDIR=/srv/spamd >"$T/other.log" 2>&1; then
	fail "install accepted STATEDIR=/srv/spamd for a build made for /var/lib/spamd"
fi
expect_grep 'was not built for /srv/spamd/spamd.db' "$T/other.log"
[ ! -e "$T/other/usr/local/sbin/spamd" ] || fail "a refused install still copied programs"
pass "install refuses a STATEDIR the programs were not built for"

# 6. A package build: PREFIX=/usr.
mk install DESTDIR="$T/pkg" PREFIX=/usr >"$T/pkg.log" 2>&1 ||
	{ cat "$T/pkg.log"; fail "make install PREFIX=/usr failed"; }
[ -x "$T/pkg/usr/sbin/spamd" ] || fail "PREFIX=/usr: no /usr/sbin/spamd"
[ -f "$T/pkg/lib/systemd/system/spamd.service" ] || fail "PREFIX=/usr: units not in /lib/systemd/system"
[ -f "$T/pkg/usr/share/man/man8/spamlogd.8" ] || fail "PREFIX=/usr: man pages not in /usr/share/man"
expect_grep '^ExecStart=/usr/sbin/spamd -G ' "$T/pkg/lib/systemd/system/spamd.service"
expect_grep 'root.*/usr/sbin/spamd-nftsync ' "$T/pkg/etc/cron.d/spamd-nftsync"
[ -f "$T/pkg/etc/spamd/spamd.nft" ] || fail "PREFIX=/usr: rulesets not in /etc/spamd"
pass "PREFIX=/usr: /usr/sbin, /usr/share/man, /lib/systemd/system"
