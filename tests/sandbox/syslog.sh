#!/bin/bash
# syslog.sh: issue 15 item 9. With --log syslog the sandboxed SMTP
# process logs over the /dev/log socket it connected before its filter
# and makes no new socket. When the syslog daemon restarts (a new socket
# at /dev/log) the SMTP process is neither killed (a reconnect would be
# socket(2) + connect(2), fatal under the filter) nor spinning: it keeps
# its PID, keeps answering clients, and hands the lines syslog did not
# take to the greylister, which logs them as "smtp: ..."; the unsandboxed
# processes reconnect.
# Runs in private mount and network namespaces: /dev is a private tmpfs
# there, so the test's /dev/log is never the host's.
# timeout: 90
. tests/lib.sh
if [ -z "${_T_PRIVMNT:-}" ]; then
	need_root
	command -v unshare >/dev/null || skip "needs unshare"
	export _T_PRIVMNT=1
	exec unshare -m --propagation private -- bash "$0" "$@"
fi
mount -t tmpfs -o mode=755 spamdtest-dev /dev || fail "private /dev"
mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
	mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/random c 1 8 ||
	fail "device nodes in the private /dev"
private_net "$@"
t_tmp
ensure_spamd_user
mkdir -p "$T/db"
chown _spamd: "$T/db"

# syslogd OUT: a datagram server at /dev/log, one line per datagram.
syslogd() {
	rm -f /dev/log
	python3 -u - "$1" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "a") as f:
    while True:
        f.write(s.recv(8192).decode(errors="replace") + "\n")
        f.flush()
PY
	SYSLOGD=$!
	at_exit "kill $SYSLOGD 2>/dev/null"
	wait_for 5 test -S /dev/log || fail "test syslogd did not start"
}
session() {	# a greylisted client: 451 at DATA
	chat 127.0.0.1 <<'EOF' || fail "client session $1"
timeout 20
expect 220
send HELO good.example
expect 250
send MAIL FROM:<a@good.example>
expect 250
send RCPT TO:<b@example.com>
expect 250
send DATA
expect 451
EOF
}

syslogd "$T/sys1.log"
"$BIN/spamd" -d --log syslog -s 0 -f "$T/db/spamd.db" -h mx.test \
	--config-socket "$T/spamd.sock" 2>"$T/stderr" &
SPAMD_PID=$!
at_exit "kill $SPAMD_PID 2>/dev/null; wait $SPAMD_PID 2>/dev/null"
wait_for 10 grep -q 'listening for incoming connections' "$T/sys1.log" ||
	{ cat "$T/stderr" "$T/sys1.log"; fail "spamd did not log its start to syslog"; }
SMTP=
for p in $(cat /proc/$SPAMD_PID/task/*/children); do
	[ "$(cat /proc/$p/comm)" = spamd-smtp ] && SMTP=$p
done
[ -n "$SMTP" ] || fail "no spamd-smtp process"
[ "$(awk '$1 == "Seccomp:" { print $2 }' /proc/$SMTP/status)" = 2 ] ||
	echo "spamd-smtp $SMTP: no seccomp filter (sanitizer build): behaviour only"
grep -Eq "^<28>.* spamd\\[$SMTP\\]: listening for incoming connections" "$T/sys1.log" ||
	{ cat "$T/sys1.log"; fail "the SMTP process's line is not in syslog format"; }
session 1
wait_for 5 grep -q "spamd\\[$SMTP\\]: 127.0.0.1: connected" "$T/sys1.log" ||
	{ cat "$T/sys1.log"; fail "no connection line from the SMTP process"; }

# The syslog daemon restarts.
kill $SYSLOGD; wait $SYSLOGD 2>/dev/null
syslogd "$T/sys2.log"
for i in 1 2 3 4 5; do session "after restart $i"; done
[ "$(cat /proc/$SMTP/comm 2>/dev/null)" = spamd-smtp ] ||
	{ cat "$T/stderr"; fail "the SMTP process $SMTP died when syslog restarted"; }
grep -q 'killed by the sandbox' "$T/sys2.log" "$T/stderr" &&
	fail "killed by the sandbox"
grep -q "spamd\\[$SMTP\\]" "$T/sys2.log" &&
	{ cat "$T/sys2.log"; fail "the SMTP process made a new syslog connection"; }
GREY=
for p in $(cat /proc/$SPAMD_PID/task/*/children); do
	[ "$(cat /proc/$p/comm)" = spamd-grey ] && GREY=$p
done
wait_for 5 sh -c "[ \$(grep -c 'spamd\[$GREY\]: smtp: 127.0.0.1: connected' '$T/sys2.log') -ge 5 ]" ||
	{ cat "$T/sys2.log"; fail "the SMTP process's lines were not forwarded through the greylister"; }
# Not spinning: a few ms of CPU for 5 sessions, not seconds.
ticks=$(awk '{ print $14 + $15 }' /proc/$SMTP/stat)
[ "$ticks" -lt 200 ] || fail "the SMTP process used $ticks ticks of CPU"
kill $SPAMD_PID; wait $SPAMD_PID 2>/dev/null
echo "--- syslog after the restart:"; cat "$T/sys2.log"
# The unsandboxed parent reconnects: its exit line arrives.
grep -q "spamd\[$SPAMD_PID\]: exiting on signal 15" "$T/sys2.log" ||
	fail "the parent did not reconnect to the restarted syslog"
pass "syslog restart: the sandboxed SMTP process survives without a new socket"
