#!/bin/bash
# config_socket.sh: who may configure spamd. In a network namespace where
# net.ipv4.ip_unprivileged_port_start=0 (Docker's and Podman's setting)
# any user can bind port 700, so a TCP connection from a low port proves
# nothing: spamd refuses it with a log line. The unix socket checks the
# peer's credentials instead: root is accepted, a user outside
# --config-group is refused, a member of it is accepted.
# timeout: 90
. tests/lib.sh
private_net "$@"
need_cmd setpriv python3
t_tmp
chmod 755 "$T"
# Per network namespace: this is the private one private_net made.
echo 0 >/proc/sys/net/ipv4/ip_unprivileged_port_start ||
	skip "cannot set ip_unprivileged_port_start in this namespace"

printf '192.0.2.0/24\n' >"$T/list.txt"
printf 'all:evil:\nevil:black:msg="listed":file=%s/list.txt:\n' "$T" >"$T/spamd.conf"
chmod 644 "$T/list.txt" "$T/spamd.conf"
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "needs /usr/bin/python3 (usable by nobody)"

# tcp_inject TAG: as nobody, a configuration line from source port 700.
tcp_inject() {
	$AS_NOBODY "$PY" -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 700))
s.connect(("127.0.0.1", 8026))
try:
    s.sendall(("%s;\"injected\";inet;1;198.51.100.0/24\n" % sys.argv[1]).encode())
    s.shutdown(socket.SHUT_WR)
    while s.recv(512):
        pass
except OSError as e:
    print("the connection ended: %s" % e)
' "$1"
}

# 1. TCP while unprivileged ports start at 0: refused, with the reason.
spamd_start -s 0 --config-socket "$T/run/spamd.sock" --config-group daemon
tcp_inject nobody1 || fail "the TCP client failed"
wait_for 5 grep -q 'configuration connection from 127.0.0.1' "$T/spamd.log"
grep 'configuration connection' "$T/spamd.log"
grep -q 'configuration connection from 127\.0\.0\.1: 1 line, 1 applied' "$T/spamd.log" &&
	fail "nobody injected a list over TCP from port 700"
expect_grep 'configuration connection from 127\.0\.0\.1 port 700 refused: net\.ipv4\.ip_unprivileged_port_start is 0' "$T/spamd.log"
pass "TCP configuration refused while ip_unprivileged_port_start=0"

# The value is read again for each connection: back at 1024, root's
# reserved port counts again (OpenBSD compatibility).
echo 1024 >/proc/sys/net/ipv4/ip_unprivileged_port_start
"$BIN/spamd-setup" --tcp -c "$T/spamd.conf" || fail "spamd-setup --tcp as root"
expect_grep 'configuration connection from 127\.0\.0\.1: 1 line, 1 applied' "$T/spamd.log"
echo 0 >/proc/sys/net/ipv4/ip_unprivileged_port_start
pass "TCP from a reserved port accepted again at 1024"

# 2. The unix socket: root is accepted (spamd-setup's default transport).
[ -S "$T/run/spamd.sock" ] || fail "no unix socket at $T/run/spamd.sock"
[ "$(stat -c %a "$T/run")" = 755 ] || fail "socket directory mode $(stat -c %a "$T/run")"
"$BIN/spamd-setup" --socket "$T/run/spamd.sock" -c "$T/spamd.conf" ||
	fail "spamd-setup over the unix socket as root"
expect_grep 'configuration connection from uid 0 \(pid [0-9]+\): 1 line, 1 applied' "$T/spamd.log"
pass "root configures over the unix socket"

# 3. nobody, not in the group: refused, nothing applied.
rc=0
$AS_NOBODY "$BIN/spamd-setup" --socket "$T/run/spamd.sock" -c "$T/spamd.conf" \
	2>"$T/err" || rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "spamd-setup as nobody exited $rc, expected 1"
expect_grep 'configuration connection from uid 65534 \(pid [0-9]+\) refused: not root and not in group daemon' "$T/spamd.log"
[ "$(grep -c 'configuration connection from uid 65534.*applied' "$T/spamd.log")" = 0 ] ||
	fail "nobody's lines were applied"
pass "a user outside --config-group is refused"

# 3b. spamd's own user (spamlogd's) may ask which addresses are listed,
# but not load lists.
rc=0
setpriv --reuid=_spamd --regid=_spamd --clear-groups \
	"$BIN/spamd-setup" --socket "$T/run/spamd.sock" -c "$T/spamd.conf" \
	2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "spamd-setup as _spamd exited $rc, expected 1"
expect_grep "configuration connection from uid $(id -u _spamd) \(pid [0-9]+\) refused: it may only ask which addresses are listed" "$T/spamd.log"
pass "spamd's own user may not load lists"

# 4. nobody as a member of the group (supplementary): accepted.
setpriv --reuid=nobody --regid=nogroup --groups="$(getent group daemon | cut -d: -f3)" \
	"$BIN/spamd-setup" --socket "$T/run/spamd.sock" -c "$T/spamd.conf" ||
	fail "spamd-setup as a member of the group"
expect_grep 'configuration connection from uid 65534 \(pid [0-9]+\): 1 line, 1 applied' "$T/spamd.log"
pass "a member of --config-group configures over the unix socket"

# 5. A live spamd's socket is not taken over (a second spamd in another
# network namespace, so that its TCP ports are free).
if unshare -n "$BIN/spamd" -d -s 0 -f "$T/other.db" \
    --config-socket "$T/run/spamd.sock" 2>"$T/err3"; then
	fail "a second spamd took over a live socket"
fi
cat "$T/err3"
grep -q 'another spamd is listening there' "$T/err3" || fail "no reason given for a live socket"
"$BIN/spamd-setup" --socket "$T/run/spamd.sock" -c "$T/spamd.conf" ||
	fail "the first spamd lost its socket"
pass "a live socket is left alone"

# A stale socket file is replaced; a symlink planted there is refused.
spamd_stop
[ -S "$T/run/spamd.sock" ] || fail "no stale socket file left to test with"
spamd_start -s 0 --config-socket "$T/run/spamd.sock"
pass "restart over a stale socket file"
spamd_stop
rm -f "$T/run/spamd.sock"
ln -s "$T/victim" "$T/run/spamd.sock"
if "$BIN/spamd" -d -s 0 -f "$DB" --config-socket "$T/run/spamd.sock" 2>"$T/err2"; then
	fail "spamd started over a symlink"
fi
cat "$T/err2"
grep -q 'is not a socket' "$T/err2" || fail "no reason given for the symlink"
[ -e "$T/victim" ] && fail "spamd followed the symlink"
pass "a symlink at the socket path is refused"

# A directory others may write to is refused (they could plant a socket).
mkdir -m 1777 "$T/open"
if "$BIN/spamd" -d -s 0 -f "$DB" --config-socket "$T/open/spamd.sock" 2>"$T/err4"; then
	fail "spamd put its socket in a world-writable directory"
fi
cat "$T/err4"
grep -q 'writable by group or others' "$T/err4" || fail "no reason given for the open directory"
pass "a directory writable by others is refused"
