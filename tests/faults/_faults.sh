# _faults.sh: helpers for the fault-injection tests in tests/faults/.
# Source it after tests/lib.sh. It is not a test itself: tests/run.sh
# runs only scripts whose names start with a digit or a lower-case letter.
#
#	tuple_session TAG [SECS]	one greylisted dialogue that records
#		the tuple (127.0.0.1, TAG.example, <TAG@example.org>,
#		<rcpt@example.com>); fails unless every reply is right and
#		the whole dialogue took at most SECS (default 5) seconds
#	stored TAG		the tuple of TAG is in the database (spamdb,
#				which waits at most SPAMDB_LOCKWAIT for the lock)
#	wait_stored SECS TAG...	wait until every tuple is stored
#	spamd_procs		PIDs of spamd's processes: the parent (nft
#				helper) first, then its children
#	proc_by_name NAME	the PID of spamd-smtp, spamd-grey or spamd-nft
#	proc_alive PID		the process exists and is not a zombie
#	none_alive PID...	no process of these is alive

tuple_session() {
	local tag=$1 secs=${2:-5}
	chat 127.0.0.1 <<-EOF || fail "session $tag: spamd did not answer right"
	timeout $secs
	mark
	expect 220
	send HELO $tag.example
	expect 250 250 Hello, spam sender. Pleased to be wasting your time.
	send MAIL FROM:<$tag@example.org>
	expect 250
	send RCPT TO:<rcpt@example.com>
	expect 250 250 This is hurting you more than it is hurting me.
	send DATA
	expect 451 451 Temporary failure, please try again later.
	elapsed 0 $secs
	EOF
}

stored() {
	"$BIN/spamdb" -f "$DB" 2>/dev/null |
	    grep -q "^GREY|127\.0\.0\.1|$1\.example|<$1@example\.org>|"
}

wait_stored() {
	local secs=$1 tag
	shift
	for tag in "$@"; do
		wait_for "$secs" stored "$tag" ||
			fail "tuple $tag is not in the database: $("$BIN/spamdb" -f "$DB" 2>&1 | tail -n 5)"
	done
}

spamd_procs() {
	echo "$SPAMD_PID" $(pgrep -P "$SPAMD_PID")
}

proc_by_name() {
	local p
	for p in $(spamd_procs); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
	done
	return 1
}

proc_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

none_alive() {
	local p
	for p in "$@"; do
		proc_alive "$p" && return 1
	done
	return 0
}
