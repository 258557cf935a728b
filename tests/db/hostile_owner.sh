#!/bin/bash
# hostile_owner.sh: the owner of the state directory (_spamd) must not
# become root through it. _spamd plants symlinks (and root-made hard
# links, as fs.protected_hardlinks=0 would allow) under every name that
# a program creates or rewrites beside the database, each pointing at a
# root-owned victim outside the directory; then root runs spamdb
# (listing, -a, -d), spamd-nftsync (-n and real, in a network namespace
# of its own), spamd's start-up (in a network namespace of its own) and
# spamlogd replaying a capture file.
# Every victim must keep its content, owner and mode, no record of root's
# own database (mode 600) may show up in the state directory, and each
# program either works or refuses with an error naming the state
# directory.
# Scenarios: no database yet; a database left dirty by a dead writer
# (rebuild from the checkpoint); a stale checkpoint (a new one is taken);
# a hard link as the lock file; the journal and the temporaries hard
# links; names pointing at a directory. Last, a
# directory that others than its owner may write is refused with a reason.
# timeout: 180

. tests/lib.sh

need_root
need_cmd runuser unshare timeout sha256sum
for p in spamdb spamd-nftsync spamd; do
	[ -x "$BIN/$p" ] || fail "build first ($BIN/$p missing)"
done
ensure_spamd_user
t_tmp
S=$T/state
V=$T/victims
DB=$S/spamd.db
PCAP=$TOP/tests/data/nflog/real_mixed.pcap
[ -f "$PCAP" ] || fail "no $PCAP"
mkdir "$V" && chmod 755 "$V" || fail "mkdir $V"
NAMES="spamd.db spamd.db.lock spamd.db.ckpt spamd.db.ckpt.tmp
spamd.db.journal spamd.db.journal.tmp spamd.db.rebuild
spamd.db.pushed spamd.db.pushed.tmp"

# victims: one root-owned file per name, mode 644. The lock's victim
# starts with the dirty mark; the database's is empty (GDBM formats an
# empty file it is asked to create).
make_victims() {
	local n
	rm -rf "$V"/* || fail "rm victims"
	for n in $NAMES; do
		case $n in
		spamd.db) : >"$V/$n" ;;
		spamd.db.lock) printf '1victim %s\n' "$n" >"$V/$n" ;;
		*) printf 'victim %s\n' "$n" >"$V/$n" ;;
		esac
		chown root:root "$V/$n" && chmod 644 "$V/$n" || fail "victim $n"
	done
	mkdir "$V/adir" && chmod 755 "$V/adir" || fail "victim dir"
	# root's own database, mode 600, with a record _spamd must not see
	"$BIN/spamdb" -f "$V/secret.db" -a 198.51.100.99 &&
		chmod 600 "$V"/secret.db* || fail "secret database"
	snapshot >"$T/before"
}
snapshot() {
	local f
	for f in "$V"/* "$V"/adir; do
		printf '%s %s ' "$f" "$(stat -c '%u:%g %a %s %F' "$f")"
		[ -f "$f" ] && sha256sum <"$f" || echo
	done
	ls -A "$V/adir"
}

as_spamd() { runuser -u _spamd -- "$@"; }

fresh() {
	rm -rf "$S" && mkdir "$S" && chown _spamd: "$S" && chmod 755 "$S" ||
		fail "state dir"
}
# plant NAME [TARGET]: $S/NAME -> TARGET (default its victim), _spamd's
plant() {
	rm -f "$S/$1"
	ln -s "${2:-$V/$1}" "$S/$1" && chown -h _spamd: "$S/$1" ||
		fail "plant $1"
}
# a database of _spamd's own, with its checkpoint and journal
own_db() {
	as_spamd "$BIN/spamdb" -f "$DB" -a 192.0.2.1 192.0.2.2 ||
		fail "_spamd cannot make its database"
	[ -f "$DB.ckpt" ] && [ -f "$DB.journal" ] ||
		fail "no checkpoint or journal: $(ls "$S")"
}
set_dirty() {
	printf 1 | dd of="$DB.lock" conv=notrunc status=none || fail "mark"
}

# The scenarios; each one sets up $S from scratch.
scen_symlinks() {	# every name a symlink, no database yet
	local n
	fresh
	for n in $NAMES; do plant "$n"; done
}
scen_dirty() {		# a dead writer's dirty mark: the rebuild runs
	fresh
	own_db
	set_dirty
	plant spamd.db.rebuild
	plant spamd.db.ckpt.tmp
	plant spamd.db.journal.tmp
}
scen_dirty_ckpt() {	# the checkpoint points at root's own database
	fresh
	own_db
	set_dirty
	plant spamd.db.ckpt "$V/secret.db"
}
scen_stale() {		# no checkpoint: a writer takes one
	fresh
	own_db
	rm -f "$DB.ckpt" "$DB.journal"
	plant spamd.db.ckpt.tmp
	plant spamd.db.journal.tmp
}
scen_hardlink() {	# the lock file a hard link to a victim
	fresh
	own_db
	rm -f "$DB.lock"
	ln "$V/spamd.db.lock" "$DB.lock" || fail "hard link"
}
scen_hardlinks() {	# the database, journal and temporaries hard links
	local n
	fresh
	own_db
	set_dirty
	for n in spamd.db spamd.db.journal spamd.db.ckpt.tmp spamd.db.journal.tmp \
	    spamd.db.rebuild; do
		rm -f "$S/$n"
		ln "$V/$n" "$S/$n" || fail "hard link $n"
	done
}
scen_dirlinks() {	# names pointing at a root directory
	local n
	fresh
	own_db
	rm -f "$DB.ckpt" "$DB.journal"
	for n in spamd.db.ckpt.tmp spamd.db.journal.tmp spamd.db.rebuild; do
		plant "$n" "$V/adir"
	done
}

run_spamd() {
	unshare -n -- sh -c 'ip link set lo up &&
	    exec timeout -s TERM 3 "$0" -d -f "$1" -h mx.test' \
	    "$BIN/spamd" "$DB"
}

bad=0
check() {	# check SCENARIO PROGRAM-LABEL CMD...
	local scen=$1 label=$2 rc
	shift 2
	make_victims
	"scen_$scen"
	"$@" >"$T/out" 2>&1
	rc=$?
	snapshot >"$T/after"
	if ! cmp -s "$T/before" "$T/after"; then
		echo "FAILED $scen / $label (exit $rc): a victim changed:"
		diff "$T/before" "$T/after" | sed 's/^/	/'
		sed 's/^/	| /' "$T/out" | head -n 5
		bad=$((bad + 1))
		return
	fi
	if grep -rqa '198\.51\.100\.99' "$S"; then
		echo "FAILED $scen / $label: root's secret record copied into $S:"
		grep -rla '198\.51\.100\.99' "$S" | sed 's/^/	/'
		bad=$((bad + 1))
		return
	fi
	if grep -q 'Sanitizer\|runtime error' "$T/out"; then
		echo "FAILED $scen / $label: sanitizer report"
		cat "$T/out"
		bad=$((bad + 1))
		return
	fi
	# spamd runs until timeout stops it (124); anything else must have
	# worked, or said which file of the state directory it refused. The
	# namespace has no spamd table, so a real spamd-nftsync fails there.
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] &&
	    ! grep -q "$S\|no table inet spamd" "$T/out"; then
		echo "FAILED $scen / $label: exit $rc without naming $S:"
		sed 's/^/	| /' "$T/out"
		bad=$((bad + 1))
		return
	fi
	echo "ok $scen / $label (exit $rc) $(grep "$S" "$T/out" | tail -n 1)"
}

for scen in symlinks dirty dirty_ckpt stale hardlink hardlinks dirlinks; do
	check $scen "spamdb" "$BIN/spamdb" -f "$DB"
	check $scen "spamdb -a" "$BIN/spamdb" -f "$DB" -a 192.0.2.10
	check $scen "spamdb -d" "$BIN/spamdb" -f "$DB" -d 192.0.2.1
	check $scen "spamd-nftsync -n" "$BIN/spamd-nftsync" -n -f "$DB"
	check $scen "spamd-nftsync" unshare -n -- "$BIN/spamd-nftsync" -f "$DB"
	check $scen "spamd" run_spamd
	check $scen "spamlogd" "$BIN/spamlogd" -D -f "$DB" -l "$PCAP"
done

# A directory others may write is refused outright by root-run tools.
refuse() {	# refuse WHY-PATTERN CMD...
	local why=$1
	shift
	if "$@" >"$T/out" 2>&1; then
		cat "$T/out"
		fail "$* worked in an unsafe directory"
	fi
	grep -q -- "$why" "$T/out" || fail "$*: no clear reason: $(cat "$T/out")"
	echo "refused: $(head -n 1 "$T/out")"
}
fresh
own_db
chmod 777 "$S" || fail chmod
for cmd in "$BIN/spamdb -f $DB" "$BIN/spamdb -f $DB -a 192.0.2.10" \
    "$BIN/spamd-nftsync -n -f $DB" "run_spamd"; do
	refuse "$S is world-writable" $cmd
done
chown root:_spamd "$S" && chmod 775 "$S" || fail chmod
refuse "$S belongs to root but group [0-9]* may write it" \
    "$BIN/spamdb" -f "$DB" -a 192.0.2.10
chmod 755 "$S"
"$BIN/spamdb" -f "$DB" >/dev/null || fail "root's own directory, mode 755"

[ "$bad" = 0 ] || fail "$bad runs as root changed a victim or failed badly"
pass "no victim outside the state directory was touched"
