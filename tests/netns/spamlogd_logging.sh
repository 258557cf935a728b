#!/bin/bash
# spamlogd_logging.sh: spamlogd without systemd or a syslog daemon.
# Detached (no -D) with --log FILE it writes its listening line to FILE
# (timestamped); --pidfile holds its pid, and `kill $(cat FILE)' stops it
# and removes the file (its directory belongs to _spamd, as /run/spamd
# would). Everything happens in a private network namespace.
# timeout: 60
. tests/lib.sh
need_root
need_cmd ip
[ -x "$BIN/spamlogd" ] || fail "no $BIN/spamlogd"
ensure_spamd_user
t_tmp
mkdir "$T/db" && chown _spamd: "$T/db" || fail "db dir"
install -d -o _spamd "$T/run"
M=$(ns_new llM)
at_exit "ip netns pids '$M' | xargs -r kill -9; ip netns del '$M'"

ip netns exec "$M" "$BIN/spamlogd" -f "$T/db/spamd.db" --log "$T/l.log" \
	--pidfile "$T/run/l.pid" </dev/null >/dev/null 2>"$T/l.stderr" ||
	{ cat "$T/l.stderr"; fail "spamlogd did not start"; }
wait_for 10 grep -q 'listening on nflog:25' "$T/l.log" ||
	{ cat "$T/l.log" "$T/l.stderr"; fail "no listening line in the log file"; }
cat "$T/l.log"
expect_grep '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z spamlogd: listening on nflog:25' "$T/l.log"
[ ! -s "$T/l.stderr" ] || { cat "$T/l.stderr"; fail "spamlogd wrote to stderr too"; }
pid=$(cat "$T/run/l.pid")
[[ $pid =~ ^[0-9]+$ ]] || fail "pid file holds \"$pid\""
at_exit "kill $pid"
grep -q '^Name:.*spamlogd' "/proc/$pid/status" || fail "$pid is not spamlogd"
kill "$(cat "$T/run/l.pid")"
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || fail "spamlogd did not stop"
[ ! -e "$T/run/l.pid" ] || fail "the pid file is still there"
pass "spamlogd --log FILE --pidfile FILE"
