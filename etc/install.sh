#!/bin/sh
# etc/install.sh: what `make install' and `make uninstall' do (etc/module.mk
# calls it with every path in the environment). Not installed itself.
#
#	etc/install.sh install		copy the suite into $DESTDIR
#	etc/install.sh uninstall	remove what install put there
#
# Three kinds of files:
#   program files (binaries, man pages, systemd units): always replaced,
#	through a temporary file and a rename, so a running daemon keeps its
#	old binary and nothing is ever half-written;
#   configuration files (the nft rulesets, nospamd.nft, spamd.conf.example,
#	black.txt, bigmailers.example, the cron file): installed when absent; when present and edited by the admin,
#	never overwritten: the new version goes beside it as FILE.new and we
#	say so, but only when the shipped file changed since the last
#	install (the manifest records the last shipped version of each).
#	A file still as we installed it last time is updated;
#   the state directory $STATEDIR: created (owner _spamd, mode 0750), never
#	removed, never emptied.
# Units and the cron file name /usr/local/sbin, /var/lib/spamd and
# /etc/spamd; those are rewritten to SBINDIR, STATEDIR and SYSCONFDIR.
#
# The manifest $PREFIX/share/spamd/manifest lists every file installed
# with the checksum of what we wrote, so uninstall removes exactly those
# and can tell an edited configuration file (kept, and said so) from an
# untouched one (removed). The nft rulesets are never removed, because
# /etc/nftables.conf may include them and nft loads nothing at all when an
# include is missing: an untouched spamd.nft or spamd-blacklist-only.nft
# becomes a stub that redirects nothing (stub_ruleset; install replaces
# it), nospamd.nft stays, and uninstall says which include lines to
# remove by hand. It never touches the running firewall, the
# services, the database or the _spamd user.
#
# Environment (from etc/module.mk): DESTDIR PREFIX SBINDIR MANDIR
# SYSCONFDIR STATEDIR UNITDIR CRONDIR BINDIR (the build's bin directory)
# PROGS MANPAGES CONFFILES (src:destdir pairs) UNITS CRONFILE SPAMD_USER.
set -eu

: "${DESTDIR:=}" "${PREFIX:=/usr/local}" "${SBINDIR:=$PREFIX/sbin}"
: "${MANDIR:=$PREFIX/share/man}" "${SYSCONFDIR:=/etc}"
: "${STATEDIR:=/var/lib/spamd}" "${CRONDIR:=$SYSCONFDIR/cron.d}"
: "${SPAMD_USER:=_spamd}"
: "${BINDIR:?}" "${PROGS:?}" "${UNITDIR:?}"
: "${MANPAGES:=}" "${CONFFILES:=}" "${UNITS:=}" "${CRONFILE:=}"

MANIFEST=$PREFIX/share/spamd/manifest
D=$DESTDIR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spamd-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
newmanifest=$tmp/manifest
: >"$newmanifest"
kept=""

say() { printf '%s\n' "$*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

# The recorded checksum of PATH in the old manifest, or nothing.
old_sum() {
	[ -f "$D$MANIFEST" ] || return 0
	awk -v p="$1" -F'\t' '$3 == p { print $2; exit }' "$D$MANIFEST"
}

# Rewrite the default paths of a unit or cron file for this install.
sed_escape() { printf '%s' "$1" | sed 's/[&|\\]/\\&/g'; }
localize() {
	sed -e "s|/usr/local/sbin/|$(sed_escape "$SBINDIR")/|g" \
	    -e "s|/var/lib/spamd|$(sed_escape "$STATEDIR")|g" \
	    -e "s|/etc/spamd/|$(sed_escape "$SYSCONFDIR")/spamd/|g" \
	    -e "s|/etc/default/spamd|$(sed_escape "$SYSCONFDIR")/default/spamd|g" \
	    -e "s|/etc/cron.d/|$(sed_escape "$CRONDIR")/|g" "$1" >"$2"
}

# put SRC DEST MODE: replace DEST (a program file) atomically.
put() {
	mkdir -p "$D$(dirname "$2")"
	install -m "$3" "$1" "$D$2.tmp$$"
	mv -f "$D$2.tmp$$" "$D$2"
	printf 'file\t%s\t%s\n' "$(sum "$1")" "$2" >>"$newmanifest"
	say "install: $2"
}

# conf SRC DEST MODE: install a configuration file without ever
# overwriting an admin's edits.
conf() {
	src=$1 dst=$2 mode=$3
	new=$(sum "$src")
	edited=0
	mkdir -p "$D$(dirname "$dst")"
	if [ -e "$D$dst" ] && [ "$(head -c ${#STUB_MARK} "$D$dst")" = "$STUB_MARK" ]; then
		rm -f "$D$dst"	# left by uninstall: install over it
	fi
	if [ ! -e "$D$dst" ]; then
		install -m "$mode" "$src" "$D$dst"
		say "install: $dst"
		rec=$new
	else
		cur=$(sum "$D$dst")
		prev=$(old_sum "$dst")
		if [ "$cur" = "$new" ]; then
			say "unchanged: $dst"
			rec=$new
		elif [ -n "$prev" ] && [ "$cur" = "$prev" ]; then
			install -m "$mode" "$src" "$D$dst.tmp$$"
			mv -f "$D$dst.tmp$$" "$D$dst"
			say "update: $dst (you had not edited it)"
			rec=$new
		elif [ "$prev" = "$new" ]; then
			# Edited, and we ship what we shipped last time:
			# nothing to merge, so no .new (one still there
			# from an earlier release stays, and is recorded).
			say "kept: $dst is yours (edited); the shipped version has not changed"
			if [ -e "$D$dst.new" ] && [ "$(sum "$D$dst.new")" = "$new" ]; then
				printf 'conf\t%s\t%s\n' "$new" "$dst.new" >>"$newmanifest"
				edited=1
			fi
			rec=$new
		else
			install -m "$mode" "$src" "$D$dst.new"
			printf 'conf\t%s\t%s\n' "$new" "$dst.new" >>"$newmanifest"
			say "KEPT: $dst is yours (edited); the new version is $dst.new"
			kept="$kept $dst"
			edited=1
			# Remember what we shipped (offered as .new), not
			# the admin's file: the next install offers a .new
			# only if the shipped file changes again.
			rec=$new
		fi
	fi
	if [ "$edited" = 0 ] && [ -e "$D$dst.new" ] &&
	    [ "$(sum "$D$dst.new")" = "$new" ]; then
		rm -f "$D$dst.new"	# a stale .new of this very version
	fi
	printf 'conf\t%s\t%s\n' "$rec" "$dst" >>"$newmanifest"
}

# The programs have STATEDIR and SYSCONFDIR compiled in: refuse to install
# a build made for other ones, whose units would name paths it never uses.
check_build() {
	for want in "spamd:$STATEDIR/spamd.db" "spamd:$SYSCONFDIR/spamd/alloweddomains"; do
		if ! grep -aqF "${want#*:}" "$BINDIR/${want%%:*}"; then
			say "install: $BINDIR/${want%%:*} was not built for ${want#*:}." >&2
			say "	STATEDIR and SYSCONFDIR are compiled in: build with the values you install with," >&2
			say "	in a build directory of its own, e.g. make O=build-x STATEDIR=... SYSCONFDIR=... install" >&2
			exit 1
		fi
	done
}

do_install() {
	for p in $PROGS; do
		[ -x "$BINDIR/$p" ] || { say "install: $BINDIR/$p is missing; run make first" >&2; exit 1; }
	done
	check_build
	for p in $PROGS; do
		put "$BINDIR/$p" "$SBINDIR/$p" 0755
	done
	for m in $MANPAGES; do
		sec=${m##*.}
		put "$m" "$MANDIR/man$sec/$(basename "$m")" 0644
	done
	for u in $UNITS; do
		localize "$u" "$tmp/$(basename "$u")"
		put "$tmp/$(basename "$u")" "$UNITDIR/$(basename "$u")" 0644
	done
	for pair in $CONFFILES; do
		src=${pair%%:*} dir=${pair#*:}
		[ -f "$src" ] || continue
		conf "$src" "$dir/$(basename "$src")" 0644
	done
	if [ -n "$CRONFILE" ]; then
		localize "$CRONFILE" "$tmp/cron"
		conf "$tmp/cron" "$CRONDIR/spamd-nftsync" 0644
	fi

	# The state directory, and the user that owns it.
	if [ -z "$D" ] && [ "$(id -u)" = 0 ]; then
		if ! id "$SPAMD_USER" >/dev/null 2>&1; then
			useradd --system --user-group --home-dir "$STATEDIR" \
			    --no-create-home --shell /usr/sbin/nologin \
			    --comment "spamd for Linux" "$SPAMD_USER"
			say "created the system user $SPAMD_USER"
		fi
		if [ ! -d "$STATEDIR" ]; then
			install -d -m 0750 -o "$SPAMD_USER" -g "$SPAMD_USER" "$STATEDIR"
			say "created $STATEDIR (owner $SPAMD_USER, mode 0750)"
		elif [ "$(stat -c %U "$STATEDIR")" != "$SPAMD_USER" ]; then
			say "WARNING: $STATEDIR is not owned by $SPAMD_USER; spamd cannot write it:"
			say "	chown $SPAMD_USER: $STATEDIR"
		fi
	else
		mkdir -p "$D$STATEDIR"
		chmod 0750 "$D$STATEDIR"
		say "created $D$STATEDIR"
		say "PACKAGER: at package installation, create the system user and hand it the state directory:"
		say "	useradd --system --user-group --home-dir $STATEDIR --no-create-home --shell /usr/sbin/nologin $SPAMD_USER"
		say "	chown $SPAMD_USER:$SPAMD_USER $STATEDIR; chmod 0750 $STATEDIR"
	fi

	mkdir -p "$D$(dirname "$MANIFEST")"
	cp "$newmanifest" "$D$MANIFEST"
	chmod 0644 "$D$MANIFEST"
	say "install: $MANIFEST (what make uninstall removes)"

	if [ -z "$D" ]; then
		if [ -e /lib/systemd/system/spamd.service ] &&
		    [ "$UNITDIR" != /lib/systemd/system ] &&
		    ! grep -q 'spamd for Linux' /lib/systemd/system/spamd.service; then
			say "WARNING: Debian's SpamAssassin spamd.service is installed; ours in $UNITDIR"
			say "	takes precedence over it under the name spamd.service. Run one or the other."
		fi
		if [ -d /run/systemd/system ]; then
			systemctl daemon-reload && say "systemctl daemon-reload: done"
		fi
	fi
	if [ -n "$kept" ]; then
		say "Edited configuration files were kept:$kept"
		say "Compare each with its .new version and merge what you need."
	fi
	say "Nothing was started and the firewall was not touched; see README.md, \"Deploying\"."
}

# The ruleset that replaces an untouched spamd.nft or
# spamd-blacklist-only.nft at uninstall: it loads wherever the real one
# did (with or without a flush ruleset before it), removes spamd's
# chains, and keeps the two sets that nospamd.nft adds elements to.
# install recognises it by its first line and replaces it.
STUB_MARK="# Left by make uninstall of spamd for Linux"
stub_ruleset() {
	cat <<EOS
$STUB_MARK: $1.
# nftables.conf may still include this file; it redirects nothing. Remove
# the include line from /etc/nftables.conf, reload nftables, then delete
# this file (and nospamd.nft).
table inet spamd
delete table inet spamd
table inet spamd {
	set nospamd {
		type ipv4_addr
		flags interval
	}
	set nospamd6 {
		type ipv6_addr
		flags interval
	}
}
EOS
}

do_uninstall() {
	includes="" live=""
	mf=$D$MANIFEST
	if [ ! -f "$mf" ]; then
		say "uninstall: no $mf: nothing was installed with PREFIX=$PREFIX DESTDIR=$DESTDIR" >&2
		exit 1
	fi
	while IFS="$(printf '\t')" read -r kind s path; do
		[ -n "$path" ] || continue
		if [ ! -e "$D$path" ]; then
			continue
		fi
		case $kind in
		file)
			rm -f "$D$path"
			say "remove: $path"
			;;
		conf)
			ruleset=0
			case $path in
			"$SYSCONFDIR"/spamd/*.nft) ruleset=1 ;;
			esac
			if [ "$(sum "$D$path")" != "$s" ]; then
				say "KEPT: $path (edited)"
				kept="$kept $path"
				if [ "$ruleset" = 1 ]; then
					includes="$includes $path"
					case $path in
					*/nospamd.nft) ;;
					*) live="$live $path" ;;
					esac
				fi
			elif [ "$ruleset" = 0 ]; then
				rm -f "$D$path"
				say "remove: $path"
			else
				includes="$includes $path"
				case $path in
				*/nospamd.nft)
					say "keep: $path (comments only; nftables.conf may include it)" ;;
				*)
					stub_ruleset "$path" >"$D$path.tmp$$"
					mv -f "$D$path.tmp$$" "$D$path"
					say "emptied: $path (nftables.conf may include it; it now redirects nothing)" ;;
				esac
			fi
			;;
		esac
	done <"$mf"
	rm -f "$mf"
	say "remove: $MANIFEST"
	for d in "$(dirname "$MANIFEST")" "$SYSCONFDIR/spamd"; do
		rmdir "$D$d" 2>/dev/null || true
	done
	[ -z "$D" ] && [ -d /run/systemd/system ] && systemctl daemon-reload || true
	say "Kept: $STATEDIR (the database), the user $SPAMD_USER${kept:+, and your edited files:$kept}."
	if [ -n "$includes" ]; then
		say "The nftables rulesets stay, so that /etc/nftables.conf (which README.md has"
		say "include them) still loads. By hand, when you are ready:"
		[ -z "$live" ] || say "WARNING: kept as you edited them,$live still redirect port 25 to the spamd that is gone: do this now."
		for f in $includes; do
			say "	remove the line include \"$f\" from /etc/nftables.conf"
		done
		say "	systemctl reload nftables (or: nft delete table inet spamd)"
		say "	rm$includes"
	fi
	say "Enabled units leave dangling links in /etc/systemd/system; disable them first (systemctl disable ...)."
}

case ${1:-} in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: etc/install.sh install|uninstall" >&2; exit 2 ;;
esac
