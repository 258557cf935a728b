#!/bin/bash
# logging.sh: spamd without systemd or a syslog daemon. Detached (no -d),
# with --log FILE it writes the listening line and a line per connection
# to FILE (with a UTC timestamp), with --log stderr to the standard error
# it was started with; --pidfile PATH holds the pid of the parent (the
# nft helper, whose children are the other two processes), and
# `kill $(cat PATH)' stops all three and removes the file.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
ensure_spamd_user
mkdir -p "$T/db"
chown _spamd: "$T/db"
DB=$T/db/spamd.db
# The pid file's directory belongs to the user, as /run/spamd would, so
# the parent can still remove the file after dropping root.
install -d -o _spamd "$T/run"

# run NAME ARGS...: start spamd detached, talk to it once, stop it by its
# pid file; its log is $T/NAME.log.
run() {
	local name=$1 pid kids k
	shift
	"$BIN/spamd" -f "$DB" -h mx.test -s 0 --config-socket "$T/$name.sock" --pidfile "$T/run/$name.pid" "$@" \
		</dev/null >/dev/null 2>>"$T/$name.stderr" ||
		{ cat "$T/$name.stderr"; fail "$name: spamd did not start"; }
	wait_for 10 grep -q 'listening for incoming connections' "$T/$name.log" ||
		{ cat "$T/$name.log" "$T/$name.stderr"; fail "$name: no listening line in the log"; }
	[ -s "$T/run/$name.pid" ] || fail "$name: no pid file"
	pid=$(cat "$T/run/$name.pid")
	[[ $pid =~ ^[0-9]+$ ]] || fail "$name: pid file holds \"$pid\""
	at_exit "kill $pid"
	grep -q '^Name:.*spamd' "/proc/$pid/status" || fail "$name: $pid is not spamd"
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	[ "$(wc -w <<<"$kids")" = 2 ] || fail "$name: pid $pid is not the parent of two processes ($kids)"
	chat 127.0.0.1 <<'EOS' || fail "$name: SMTP session"
expect 220
send HELO client.example
expect 250
send MAIL FROM:<a@example.org>
expect 250
send RCPT TO:<b@example.com>
expect 250
send QUIT
expect 221
EOS
	wait_for 5 grep -q '127\.0\.0\.1: connected' "$T/$name.log" ||
		{ cat "$T/$name.log"; fail "$name: no connection line in the log"; }
	wait_for 5 grep -q '127\.0\.0\.1: disconnected' "$T/$name.log" ||
		{ cat "$T/$name.log"; fail "$name: no disconnection line in the log"; }
	kill "$(cat "$T/run/$name.pid")" || fail "$name: kill"
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || fail "$name: the parent did not stop"
	for k in $kids; do
		wait_for 10 sh -c "! kill -0 $k 2>/dev/null" || fail "$name: child $k did not stop"
	done
	[ ! -e "$T/run/$name.pid" ] || fail "$name: the pid file is still there"
	cat "$T/$name.log"
}

run file --log "$T/file.log"
expect_grep '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z spamd(\[[a-z]+\])?: listening' "$T/file.log"
[ ! -s "$T/file.stderr" ] || { cat "$T/file.stderr"; fail "--log FILE: spamd wrote to stderr too"; }
pass "--log FILE and --pidfile: lines in the file, kill by pid file stops everything"

# A symlink planted at the pid file path is not followed.
ln -s "$T/victim" "$T/run/link.pid"
if "$BIN/spamd" -f "$DB" -h mx.test --config-socket "$T/link.sock" --pidfile "$T/run/link.pid" --log "$T/link.log" \
	</dev/null >/dev/null 2>"$T/link.err"; then
	kill "$(pgrep -n -x spamd-nft 2>/dev/null || echo 0)" 2>/dev/null
	fail "spamd followed a symlink at the pid file path"
fi
[ ! -e "$T/victim" ] || fail "spamd wrote through a symlinked pid file"
expect_grep 'pidfile|pid file' "$T/link.err"
pass "a symlinked pid file is refused"

ln -sf "$T/stderr.stderr" "$T/stderr.log"	# the log is stderr itself
run stderr --log stderr
expect_grep '^spamd(\[[a-z]+\])?: listening' "$T/stderr.stderr"
pass "--log stderr: detached, lines still on the original stderr"

# Blacklist-only mode: one sandboxed process, which logs to the file too;
# the pid file names it (and stays: the sandbox allows no unlink).
"$BIN/spamd" -b -h mx.test -s 0 --config-socket "$T/b.sock" --pidfile "$T/run/b.pid" --log "$T/b.log" \
	</dev/null >/dev/null 2>"$T/b.stderr" || { cat "$T/b.stderr"; fail "-b: spamd did not start"; }
wait_for 10 grep -q 'listening for incoming connections' "$T/b.log" ||
	{ cat "$T/b.log" "$T/b.stderr"; fail "-b: no listening line in the log"; }
pid=$(cat "$T/run/b.pid")
at_exit "kill $pid"
grep -q '^Name:.*spamd' "/proc/$pid/status" || fail "-b: $pid is not spamd"
kill "$pid"
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || fail "-b: spamd did not stop"
grep -q 'SIGSYS\|Bad system call' "$T/b.log" && fail "-b: the sandbox killed spamd at exit"
pass "-b: --log FILE and --pidfile"
