#!/bin/bash
# db_unwritable.sh: the database taken away from _spamd while spamd runs,
# twice: (1) the file replaced by one of root's, mode 600; (2) its
# directory owned by root, mode 700. Each time spamd keeps answering SMTP, logs once that it
# queues, and stores every queued tuple once the owner is put back;
# nothing stored before is lost and no spamd process dies. The
# greylister keeps its writer handle between transactions, and a handle
# already open stays writable; so each time the greylister is made to
# reopen the database: (1) the file is a new inode, (2) another writer
# (spamdb, as root, in root's directory) writes too.
# timeout: 120
. tests/lib.sh
. tests/faults/_faults.sh
private_net "$@"
need_cmd pgrep
t_tmp
spamd_start -s 0 -v

tuple_session before
wait_stored 5 before

# outage TAG: five sessions, then the queue must be logged (once more).
outage() {
	local i n
	n=$(grep -c 'database unavailable' "$T/spamd.log")
	for i in 1 2 3 4 5; do
		tuple_session "$1$i" 3
	done
	wait_for 10 sh -c "[ \$(grep -c 'database unavailable' '$T/spamd.log') -gt $n ]" ||
		fail "$1: no log line about the queue: $(tail -n 5 "$T/spamd.log")"
	grep 'database unavailable' "$T/spamd.log" | tail -n 1
	stored "${1}1" && fail "$1: a tuple was written to an unwritable database"
	[ "$(spamd_procs | wc -w)" = 3 ] || fail "$1: a spamd process died"
}
recovered() {
	local n=$1
	shift
	wait_stored 25 "$@"
	wait_for 10 sh -c "[ \$(grep -c 'database available again; 0 tuples still queued' '$T/spamd.log') -ge $n ]" ||
		fail "no log line about the recovery"
}

# (1) the file: replaced, under the lock, by a root-owned copy, mode 600
# (a new inode, so the greylister reopens it). Root's spamdb cannot be
# the other writer here: in _spamd's directory it works as _spamd.
need_cmd flock
flock "$DB.lock" sh -c "cp '$DB' '$DB.root' && chmod 600 '$DB.root' &&
    chown root:root '$DB.root' && mv '$DB.root' '$DB'" || fail "replace"
"$BIN/spamdb" -f "$DB" -a 192.0.2.77 2>"$T/spamdb.err" &&
	fail "root's spamdb wrote a root-owned file in _spamd's directory"
expect_grep 'cannot open .*spamd.db for writing: Permission denied' "$T/spamdb.err"
outage file
chown _spamd: "$DB"
recovered 1 file1 file2 file3 file4 file5 before
echo "(1) file: queued and stored"

# (2) the directory
chown root:root "$T/db"
chmod 700 "$T/db"
"$BIN/spamdb" -f "$DB" -a 192.0.2.78 || fail "spamdb -a"
outage dir
chown _spamd: "$T/db"
chmod 755 "$T/db"
recovered 2 dir1 dir2 dir3 dir4 dir5 file1 before
echo "(2) directory: queued and stored"

tuple_session after
wait_stored 5 after
[ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died"
pass "unwritable file and directory: SMTP answered, tuples queued and stored"
