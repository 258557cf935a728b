#!/bin/bash
# setup_wire.sh: what spamd-setup --tcp really sends over the configuration
# socket (a recording listener, tests/tools/cfgsink, plays spamd), from a
# reserved source port; the errors without root or without a listener;
# and -b replacing the nft sets spamd_black/spamd_black6. Everything runs
# in a private network namespace (unshare -n): its own loopback and its
# own empty ruleset, so port 8026 and the host's nftables are untouched.
# timeout: 90
. tests/lib.sh
need_root
need_cmd unshare nft setpriv
if [ -z "${SETUP_WIRE_NS:-}" ]; then
	unshare -n true 2>/dev/null || skip "unshare -n does not work here"
	exec unshare -n env SETUP_WIRE_NS=1 bash "$0" "$@"
fi
ip link set lo up || fail "lo up"
t_tmp
L=$TOP/tests/data/lists
SETUP=$BIN/spamd-setup
SINK=$TBIN/cfgsink
[ -x "$SETUP" ] || fail "no $SETUP"
[ -x "$SINK" ] || fail "no $SINK"

cat >"$T/spamd.conf" <<EOF
all:v4list:white:ex:
v4list:black:msg="Your address %A is listed":file=$L/black-v4.txt:
white:white:file=$L/white.txt:
ex:black:msg="exec list":method=exec:file="printf 198.51.100.99\\\\n2001:db8::/48\\\\n":
EOF
cat >"$T/expected" <<'EOF'
v4list;"Your address %A is listed";inet;6;192.0.2.0/24;198.51.100.10/31;198.51.100.12/30;198.51.100.16/30;198.51.100.20/32;203.0.113.0/25
ex;"exec list";inet;1;198.51.100.99/32;inet6;1;2001:db8::/48
EOF

# start_sink NAME: a listener for one connection, recording to $T/NAME
start_sink() {
	"$SINK" -t 20 "$T/$1" >"$T/$1.ready" 2>"$T/$1.err" &
	SINK_PID=$!
	at_exit "kill $SINK_PID"
	wait_for 5 grep -q listening "$T/$1.ready" || fail "cfgsink did not start"
}

# 1. the bytes on the wire, from a port below 1024
start_sink rec1
"$SETUP" --tcp -c "$T/spamd.conf" 2>"$T/err" || { cat "$T/err"; fail "spamd-setup exited $?"; }
wait "$SINK_PID" || { cat "$T/rec1.err"; fail "cfgsink failed"; }
port=$(sed -n '1s/^connection from port \([0-9]*\)$/\1/p' "$T/rec1")
[ -n "$port" ] || fail "no connection recorded"
[ "$port" -ge 600 ] && [ "$port" -le 1023 ] || fail "source port $port is not reserved"
tail -n +2 "$T/rec1" | diff -u "$T/expected" - || fail "wrong lines on the wire"
pass "lines sent from reserved port $port"

# 2. not root: a clear error, exit 1, nothing sent
start_sink rec2
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$SETUP" --tcp -c "$T/spamd.conf" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || { cat "$T/err"; fail "unprivileged run exited $rc, expected 1"; }
expect_grep 'binding a reserved source port: Permission denied .*run spamd-setup as root' "$T/err"
kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null
[ -s "$T/rec2" ] && fail "an unprivileged run reached the listener"
pass "unprivileged run refused clearly"

# 3. nobody listening: exit 1 and say so
rc=0
"$SETUP" --tcp -c "$T/spamd.conf" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "no listener: exit $rc, expected 1"
expect_grep 'connect to spamd at 127.0.0.1:8026: Connection refused \(is spamd running\?\)' "$T/err"
pass "no spamd: exit 1"

# 4. -b: the union of the black lists replaces the nft sets
nft -f "$TOP/nft/spamd-blacklist-only.nft" || fail "loading the ruleset"
nft add element inet spamd spamd_black '{ 10.0.0.0/8 }' || fail "seed element"
start_sink rec3
"$SETUP" --tcp -b -c "$T/spamd.conf" 2>"$T/err" || { cat "$T/err"; fail "-b exited $?"; }
wait "$SINK_PID" || fail "cfgsink failed"
tail -n +2 "$T/rec3" | diff -u "$T/expected" - || fail "-b changed the lines"
set4=$(nft list set inet spamd spamd_black | tr -d ' \t\n')
set6=$(nft list set inet spamd spamd_black6 | tr -d ' \t\n')
case $set4 in
*'elements={192.0.2.0/24,198.51.100.10/31,198.51.100.12/30,198.51.100.16/30,198.51.100.20,198.51.100.99,203.0.113.0/25}'*) ;;
*) echo "$set4"; fail "spamd_black holds the wrong elements" ;;
esac
case $set6 in
*'elements={2001:db8::/48}'*) ;;
*) echo "$set6"; fail "spamd_black6 holds the wrong elements" ;;
esac
pass "-b replaced spamd_black and spamd_black6 (the old 10/8 is gone)"

# 5. -b with a failed list: spamd gets the good lists, the sets stay
cat >"$T/partial.conf" <<EOF
all:gone:ex:
gone:black:msg="m":file=$T/no-such-file:
ex:black:msg="exec list":method=exec:file="printf 198.51.100.99\\\\n2001:db8::/48\\\\n":
EOF
start_sink rec4
rc=0
"$SETUP" --tcp -b -c "$T/partial.conf" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || { cat "$T/err"; fail "partial -b exited $rc, expected 2"; }
wait "$SINK_PID" || fail "cfgsink failed"
tail -n +2 "$T/rec4" | diff -u <(tail -1 "$T/expected") - || fail "partial lines"
[ "$(nft list set inet spamd spamd_black | tr -d ' \t\n')" = "$set4" ] ||
	fail "a partial -b run changed spamd_black"
expect_grep 'not replacing the nft sets' "$T/err"
pass "partial failure: exit 2, nft sets kept"

# 6. -b without the table: exit 1 with nftables' reason
nft delete table inet spamd || fail "delete table"
start_sink rec5
rc=0
"$SETUP" --tcp -b -c "$T/spamd.conf" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || { cat "$T/err"; fail "-b without table exited $rc, expected 1"; }
expect_grep 'nft set inet spamd spamd_black: .*No such file or directory' "$T/err"
pass "-b without the nft table: exit 1"
