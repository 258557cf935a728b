#!/bin/bash
# policy.sh: policy mode (spamd -P) over its unix and TCP sockets, with
# the sandbox on: greylisted with the time left, the retry after passtime
# passes with one X-Greylist header per message, WHITE, TRAPPED and
# blacklisted clients, other protocol states, keep-alive and pipelined
# requests answered in order, IPv6 clients; malformed, oversized and
# endless requests and a client that never reads are closed without an
# answer while the others are served; a stalled greylister gives DUNNO
# after --policy-timeout (fail open); --policy-only opens no SMTP port.
# timeout: 120
. tests/lib.sh
private_net "$@"
t_tmp
need_cmd python3 flock

cat >"$T/pol.py" <<'PYEOF'
import os, socket, sys, time

def conn(where):
    if where.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(where)
    else:
        h, p = where.rsplit(":", 1)
        s = socket.create_connection((h, int(p)))
    s.settimeout(30)
    return s

def text(**kw):
    d = dict(request="smtpd_access_policy", protocol_state="RCPT",
             protocol_name="ESMTP", client_address="192.0.2.10",
             client_name="unknown", helo_name="mail.example.org",
             sender="alice@Example.ORG", recipient="bob@example.net",
             instance="1.1", etrn_domain="")
    d.update(kw)
    return "".join("%s=%s\n" % kv for kv in d.items() if kv[1] is not None) + "\n"

pending = {}

def answer(s):
    """one answer; what came after it stays for the next call"""
    buf = pending.pop(s, b"")
    while b"\n\n" not in buf:
        b = s.recv(4096)
        if not b:
            return "CLOSED" + (" after " + repr(buf) if buf else "")
        buf += b
    one, rest = buf.split(b"\n\n", 1)
    pending[s] = rest
    return one.decode()

def ask(s, **kw):
    s.sendall(text(**kw).encode())
    return answer(s)

def closed(s, data, secs=30):
    """send data; the server must close without a byte of answer"""
    s.settimeout(secs)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return "CLOSED"
    try:
        b = s.recv(4096)
    except ConnectionResetError:
        return "CLOSED"
    return "CLOSED" if b == b"" else "ANSWERED %r" % b
PYEOF

check() {	# check NAME EXPECTED-REGEX ACTUAL
	printf '%s: %s\n' "$1" "$3"
	[[ $3 =~ $2 ]] || fail "$1: got '$3', expected /$2/"
}
pol() {		# pol PYTHON-STATEMENTS: print(...) what they answer
	python3 -c "import sys; sys.path.insert(0, '$T'); from pol import *
$1"
}

SOCK=$T/policy/pol.sock
INET=127.0.0.1:10023
spamd_start -s 0 -G 3s:1h:1h -P "$SOCK" -P "$INET" --policy-timeout 3s -v
expect_grep "answering policy requests on $SOCK" "$T/spamd.log"
expect_grep "answering policy requests on $INET" "$T/spamd.log"
[ "$(stat -c %a "$SOCK")" = 666 ] || fail "socket mode $(stat -c %a "$SOCK")"

# First sighting, a second recipient on the same (kept) connection, and
# an early retry over TCP: deferred with the time left.
out=$(pol "s = conn('$SOCK')
print(ask(s)); print(ask(s, recipient='carol@example.net'))
t = conn('$INET'); print(ask(t, instance='1.2'))")
defer='^action=DEFER_IF_PERMIT 4\.2\.0 Greylisted, please try again in [1-4] seconds$'
check first "$defer" "$(sed -n 1p <<<"$out")"
check keepalive "$defer" "$(sed -n 2p <<<"$out")"
check early "$defer" "$(sed -n 3p <<<"$out")"
spamdb_lines GREY | grep -q '^GREY|192\.0\.2\.10|mail\.example\.org|<alice@example\.org>|<bob@example\.net>|' ||
	fail "no canonical GREY tuple: $(spamdb_lines GREY)"

# After passtime: the retry passes with the header, once per message.
sleep 4
out=$(pol "s = conn('$SOCK')
print(ask(s, instance='2.1')); print(ask(s, instance='2.1', recipient='carol@example.net'))
print(ask(s, instance='2.2')); print(ask(s, instance='2.3', recipient='dave@example.net'))")
check pass '^action=PREPEND X-Greylist: delayed [3-9] seconds by spamd at mx\.test; [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} [A-Z]+$' "$(sed -n 1p <<<"$out")"
check samemessage '^action=DUNNO$' "$(sed -n 2p <<<"$out")"
check white '^action=DUNNO$' "$(sed -n 3p <<<"$out")"
check whitenewrcpt '^action=DUNNO$' "$(sed -n 4p <<<"$out")"
spamdb_lines WHITE | grep -q '^WHITE|192\.0\.2\.10|' || fail "not whitelisted"
spamdb_lines GREY | grep -q '<dave@example\.net>' && fail "a WHITE client's tuple was recorded"
expect_grep 'whitelisting 192\.0\.2\.10 \(policy request, delayed [3-9] s\)' "$T/spamd.log"

# Other states, IPv6, and three requests in one write (answered in order).
out=$(pol "s = conn('$INET')
print(ask(s, protocol_state='DATA', client_address='192.0.2.99'))
print(ask(s, client_address='2001:db8::20', sender='', helo_name=''))
s.sendall((text(client_address='192.0.2.21') + text(protocol_state='CONNECT') + text(client_address='192.0.2.22')).encode())
print(answer(s)); print(answer(s)); print(answer(s))")
check data '^action=DUNNO$' "$(sed -n 1p <<<"$out")"
check ipv6 "$defer" "$(sed -n 2p <<<"$out")"
check pipelined1 "$defer" "$(sed -n 3p <<<"$out")"
check pipelined2 '^action=DUNNO$' "$(sed -n 4p <<<"$out")"
check pipelined3 "$defer" "$(sed -n 5p <<<"$out")"
spamdb_lines GREY | grep -q '^GREY|2001:db8::20||<>|<bob@example\.net>|' ||
	fail "no IPv6 tuple with the null sender: $(spamdb_lines GREY)"
spamdb_lines GREY | grep -q '|192\.0\.2\.99|' && fail "a DATA request made a tuple"

# A spamtrap recipient traps; a WHITE client added by hand gets DUNNO; a
# blacklisted client gets 450 and its list's first line.
"$BIN/spamdb" -f "$DB" -T -a 'trap@example.net' || fail "spamdb -T -a"
"$BIN/spamdb" -f "$DB" -a 192.0.2.40 || fail "spamdb -a"
echo 192.0.2.50 >"$T/bad.txt"
cat >"$T/spamd.conf" <<EOF
all:\\
	:bad:
bad:\\
	:black:\\
	:msg="Your address %A is listed as bad\\nSee there":\\
	:method=file:\\
	:file=$T/bad.txt:
EOF
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup"
wait_for 10 grep -q 'list bad: 1 IPv4' "$T/spamd.log" || fail "list not loaded"
out=$(pol "s = conn('$SOCK')
print(ask(s, client_address='192.0.2.30', recipient='<Trap@Example.NET>'))
print(ask(s, client_address='192.0.2.30', recipient='x@example.net', instance='3'))
print(ask(s, client_address='192.0.2.40'))
print(ask(s, client_address='192.0.2.50'))")
check trap '^action=450 4\.7\.1 Your address is trapped by a spam trap; mail is not accepted$' "$(sed -n 1p <<<"$out")"
check trapped '^action=450 4\.7\.1 ' "$(sed -n 2p <<<"$out")"
check handwhite '^action=DUNNO$' "$(sed -n 3p <<<"$out")"
check listed '^action=450 4\.7\.1 Your address 192\.0\.2\.50 is listed as bad$' "$(sed -n 4p <<<"$out")"
spamdb_lines TRAPPED | grep -q '^TRAPPED|192\.0\.2\.30|' || fail "not trapped"

# Malformed and oversized requests: closed without an answer.
out=$(pol "
print(closed(conn('$SOCK'), b'request=smtpd_access_policy\ngarbage line\n\n'))
print(closed(conn('$SOCK'), b'request=smtpd_access_policy\nsender=a\x00b\n\n'))
print(closed(conn('$SOCK'), b'request=other_policy\n\n'))
print(closed(conn('$SOCK'), b''.join(b'x%d=y\n' % i for i in range(200)) + b'\n'))
print(closed(conn('$SOCK'), b'sender=' + b'a' * 20000 + b'\n\n'))
print(closed(conn('$INET'), os.urandom(3000).replace(b'\n', b'') + b'\n\n'))")
for i in 1 2 3 4 5 6; do
	check "malformed$i" '^CLOSED$' "$(sed -n ${i}p <<<"$out")"
done
expect_grep 'policy connection on .*: a line that is not name=value; closing' "$T/spamd.log"
expect_grep 'policy connection on .*: a NUL byte in a request; closing' "$T/spamd.log"
expect_grep 'policy connection on .*: not an smtpd_access_policy request; closing' "$T/spamd.log"
expect_grep 'policy connection on .*: too many attributes; closing' "$T/spamd.log"
expect_grep 'policy connection on .*: a line over the length limit; closing' "$T/spamd.log"

# An endless request (closed after --policy-timeout), and a client that
# sends without reading (closed once its answers stop being read); the
# others are served meanwhile.
out=$(pol "import threading
e = conn('$SOCK'); e.sendall(b'request=smtpd_access_policy\n')
t0 = time.time()
n = conn('$SOCK'); n.setblocking(False)
blob = text(protocol_state='DATA').encode() * 1000
sent = 0
try:
    for i in range(200):
        sent += n.send(blob)
except BlockingIOError:
    pass
print('stuffed %d bytes' % sent)
s = conn('$INET'); print(ask(s, protocol_state='DATA'))
e.settimeout(30); print('endless', e.recv(10), round(time.time() - t0))
time.sleep(5); print(ask(s, protocol_state='DATA'))")
echo "$out"
check served '^action=DUNNO$' "$(sed -n 2p <<<"$out")"
[[ $(sed -n 3p <<<"$out") =~ ^endless\ b\'\'\ ([0-9]+)$ ]] || fail "endless request: $out"
[ "${BASH_REMATCH[1]}" -ge 2 ] && [ "${BASH_REMATCH[1]}" -le 25 ] ||
	fail "endless request closed after ${BASH_REMATCH[1]} s, expected about 3"
check stillserved '^action=DUNNO$' "$(sed -n 4p <<<"$out")"
expect_grep 'a request that does not end; closing' "$T/spamd.log"
wait_for 20 grep -q 'the client does not read its answer; closing' "$T/spamd.log" ||
	fail "a client that never reads was not closed"

# A stalled greylister (the database lock held): DUNNO after 3 s.
flock -x "$DB.lock" sleep 8 &
locker=$!
at_exit "kill $locker 2>/dev/null"
sleep 0.5
out=$(pol "s = conn('$SOCK'); t0 = time.time()
print(ask(s, client_address='192.0.2.60')); print(round(time.time() - t0))")
check stalled '^action=DUNNO$' "$(sed -n 1p <<<"$out")"
secs=$(sed -n 2p <<<"$out")
[ "$secs" -ge 2 ] && [ "$secs" -le 20 ] || fail "DUNNO after $secs s, expected about 3"
expect_grep 'no answer from the greylister in 3 s: DUNNO' "$T/spamd.log"
wait $locker
# Once the lock is free the tuple is recorded all the same.
wait_for 20 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^GREY|192\.0\.2\.60|'" ||
	fail "the stalled request's tuple was lost"
# Junk in a loop does not flood the log: at most 20 reasons a 10 s, and
# the next window counts what was left out.
sleep 10
n0=$(grep -c 'policy connection on .*; closing' "$T/spamd.log")
pol "
for i in range(60): closed(conn('$SOCK'), b'junk\n')" >/dev/null
n=$(grep -c 'policy connection on .*; closing' "$T/spamd.log")
echo "close reasons logged: $n"
[ "$n" -le $((n0 + 20)) ] || fail "$((n - n0)) close reasons logged, the budget is 20 a 10 s"
check afterjunk '^action=DUNNO$' "$(pol "print(ask(conn('$SOCK'), protocol_state='DATA'))")"
sleep 10
pol "print(closed(conn('$SOCK'), b'junk\\n'))" >/dev/null
wait_for 5 grep -Eq 'policy: [0-9]+ more connections closed for bad requests, not logged' "$T/spamd.log" ||
	fail "no count of the close reasons left out"
spamd_stop

# --policy-only: no SMTP listener; -b: blacklists only, DUNNO otherwise.
spamd_start --policy-only -P "$SOCK" -p 8025
pol "import socket
try:
    socket.create_connection(('127.0.0.1', 8025), timeout=3); print('open')
except OSError:
    print('refused')" | grep -qx refused || fail "--policy-only listens on 8025"
check policyonly "^action=DEFER_IF_PERMIT 4.2.0 Greylisted, please try again in 1501 seconds$" "$(pol "print(ask(conn('$SOCK'), client_address='192.0.2.70'))")"
spamd_stop
spamd_start -b -P "$SOCK"
check blackonly '^action=DUNNO$' "$(pol "print(ask(conn('$SOCK'), client_address='192.0.2.71'))")"
spamd_stop
pass "policy mode: answers, bounds and fail-open"
