#!/bin/bash
# spamlogd_recover.sh: spamlogd keeps every refresh through the troubles
# an MX sees in practice:
#   - the ruleset is reloaded (nft -f spamd.nft) while it runs;
#   - the database is locked by another program for two seconds: the
#     refresh waits, is logged, and lands when the lock is released;
#   - the spamd table is missing (only a log rule exists): the database is
#     still updated, the nft failure is logged and retried, and the
#     element appears in spamd_white once the table is loaded.
# timeout: 60
. tests/lib.sh
need_root
need_cmd nft ip smtp-sink flock
[ -x "$BIN/spamlogd" ] || fail "no $BIN/spamlogd"
[ -x "$BIN/spamdb" ] || fail "no $BIN/spamdb"
[ -x "$TBIN/dbseed" ] || fail "no $TBIN/dbseed"
[ -f nft/spamd.nft ] || fail "no nft/spamd.nft"

id _spamd >/dev/null 2>&1 ||
	useradd --system --no-create-home --shell /usr/sbin/nologin _spamd ||
	fail "useradd _spamd"

t_tmp
mkdir "$T/db" && chown _spamd: "$T/db" || fail "db dir"
DB=$T/db/spamd.db
LOG=$T/spamlogd.log
S=$(ns_new lrS)
M=$(ns_new lrM)
# ns_new runs in a command substitution, whose exit handlers are lost.
for ns in "$S" "$M"; do
	at_exit "ip netns pids '$ns' | xargs -r kill -9; ip netns del '$ns'"
done
ns_link "$S" 192.0.2.10/24 "$M" 192.0.2.25/24

ip netns exec "$M" nft -f nft/spamd.nft || fail "nft -f nft/spamd.nft"
ip netns exec "$M" nft add element inet spamd spamd_white '{ 192.0.2.10 timeout 1h }' ||
	fail "seed the white set"
ip netns exec "$M" smtp-sink -u postfix 192.0.2.25:25 10 &
at_exit "kill $!"
$TBIN/dbseed "$DB" <<'EOF' || fail "dbseed"
WHITE|192.0.2.10|||now-2d|now-2d|now+1h|1|3
EOF

field() { "$BIN/spamdb" -f "$DB" "$1" 2>/dev/null | awk -F'|' -v f="$2" '{ print $f }'; }
is() { [ "$(field "$1" "$2")" = "$3" ]; }
connect() {
	ip netns exec "$S" timeout 5 bash -c \
	    "exec 3<>/dev/tcp/192.0.2.25/25 && head -c 3 <&3 >/dev/null" ||
		fail "connect 192.0.2.25"
}
in_white() {
	ip netns exec "$M" nft list set inet spamd spamd_white 2>/dev/null |
		grep -q '192.0.2.10 timeout 36d'
}
show() { echo "--- spamdb $1:"; "$BIN/spamdb" -f "$DB"; }

show before
ip netns exec "$M" "$BIN/spamlogd" -D -f "$DB" >"$LOG" 2>&1 &
pid=$!
at_exit "kill $pid"
wait_for 5 grep -q "listening on nflog:25" "$LOG" || { cat "$LOG"; fail "spamlogd did not start"; }

# 1. A reload of the ruleset does not disturb the capture.
ip netns exec "$M" nft -f nft/spamd.nft || fail "reload spamd.nft"
connect
wait_for 2 is 192.0.2.10 9 4 || { cat "$LOG"; fail "no refresh after a ruleset reload"; }

# 2. The database is locked for two seconds by someone else.
flock "$DB.lock" sleep 2 &
locker=$!
wait_for 2 sh -c "! flock -n '$DB.lock' true" || fail "could not take the lock"
connect
wait_for 2 grep -q "cannot update the database: database .* is locked" "$LOG" ||
	{ cat "$LOG"; fail "the locked database was not reported"; }
is 192.0.2.10 9 4 || fail "written despite the lock"
wait $locker
wait_for 10 is 192.0.2.10 9 5 || { cat "$LOG"; fail "refresh lost after the lock was released"; }
expect_grep "writable again, 1 addresses written" "$LOG"

# 3. The spamd table is gone; only a log rule is left.
ip netns exec "$M" nft delete table inet spamd || fail "delete table"
ip netns exec "$M" nft -f - <<'EOF' || fail "log-only ruleset"
table inet logonly {
	chain input {
		type filter hook input priority filter;
		tcp dport 25 ct state new log prefix "spamd-in" group 25 queue-threshold 1
	}
}
EOF
connect
wait_for 2 is 192.0.2.10 9 6 || { cat "$LOG"; fail "database not updated without the table"; }
wait_for 3 grep -q "nft: cannot refresh 1 elements of spamd_white: .*No such file or directory.*; retrying in" "$LOG" ||
	{ cat "$LOG"; fail "the nft failure was not reported"; }
kill -0 $pid || fail "spamlogd died"
ip netns exec "$M" nft -f nft/spamd.nft || fail "load spamd.nft again"
wait_for 10 in_white || { cat "$LOG"; fail "element not pushed after the table came back"; }
expect_grep "nft: white sets refreshed again" "$LOG"

kill -TERM $pid
wait $pid || fail "spamlogd exited $? on SIGTERM"
show after
pass "spamlogd recovers from reloads, a locked database and a missing table"
