#!/bin/bash
# metrics.sh: spamd -m and --metrics-textfile with the sandbox on. Counters
# move as scripted sessions are greylisted, passed, blacklisted and
# trapped; promtool (Debian's prometheus) accepts both expositions; the
# database counts follow --metrics-scan; spamdb -s agrees. Hostile
# clients of the endpoint (silent, huge, many at once) cost it a slot
# until the timeout and never the SMTP service. Other paths and methods
# get 404 and 405.
# timeout: 120
. tests/lib.sh
private_net "$@"
t_tmp
need_cmd python3 promtool curl
ip addr add 127.0.0.2/8 dev lo 2>/dev/null
ip addr add 127.0.0.3/8 dev lo 2>/dev/null
ip addr add 127.0.0.4/8 dev lo 2>/dev/null
mkdir -p "$T/tf"
chown _spamd: "$T/tf" 2>/dev/null || { ensure_spamd_user; chown _spamd: "$T/tf"; }
M=http://127.0.0.1:9143
spamd_start -s 0 -G 2s:1h:1h -m 127.0.0.1:9143 --metrics-scan 1 \
    --metrics-textfile "$T/tf/spamd.prom" --metrics-interval 1

scrape() { curl -sf --max-time 10 "$M/metrics" >"$T/m.txt" || fail "scrape"; }
val() {		# val SAMPLE: its value in the last scrape
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "none" }' "$T/m.txt"
}
want() {	# want SAMPLE VALUE
	local v
	v=$(val "$1")
	echo "$1 = $v"
	[ "$v" = "$2" ] || fail "$1 is $v, expected $2"
}
session() {	# session SRC RCPT: one greylisted attempt
	chat 127.0.0.1 -s "$1" <<EOF || fail "session from $1"
timeout 20
expect 220
send HELO mx.example.org
expect 250
send MAIL FROM:<a@example.org>
expect 250
send RCPT TO:<$2>
expect 250
send DATA
expect 451
EOF
}

scrape
want 'spamd_connections_total{result="accepted"}' 0
want 'spamd_greylisting_enabled' 1
promtool check metrics <"$T/m.txt" || fail "promtool rejects the exposition"

# Greylisted, then passed after passtime (the delay lands in the histogram).
session 127.0.0.2 b@example.net
sleep 3
session 127.0.0.2 b@example.net
wait_for 10 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^WHITE|127.0.0.2|'" || fail "no pass"
# Blacklisted: a list with 127.0.0.3.
echo 127.0.0.3 >"$T/bad.txt"
cat >"$T/spamd.conf" <<EOF
all:\\
	:bad:
bad:\\
	:black:\\
	:msg="Your address %A is listed as bad":\\
	:method=file:\\
	:file=$T/bad.txt:
EOF
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup"
chat 127.0.0.1 -s 127.0.0.3 <<'EOF' || fail "blacklisted session"
timeout 20
expect 220
send QUIT
expect 221
EOF
# Trapped.
"$BIN/spamdb" -f "$DB" -T -a 'trap@example.net' || fail "spamdb -T -a"
session 127.0.0.4 trap@example.net
wait_for 10 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^TRAPPED|127.0.0.4|'" || fail "not trapped"

wait_for 10 sh -c "curl -sf '$M/metrics' | grep -q '^spamd_db_entries{kind=\"trapped\"} 1$'" ||
	fail "the database counts did not follow (--metrics-scan 1)"
scrape
want 'spamd_connections_total{result="accepted"}' 3
want 'spamd_connections_total{result="accepted_black"}' 1
want 'spamd_tuples_total' 3
want 'spamd_greylist_new_tuples_total' 1
want 'spamd_greylist_passes_total' 1
want 'spamd_whitelist_adds_total{source="local"}' 1
want 'spamd_greylist_delay_seconds_count' 1
want 'spamd_greylist_delay_seconds_bucket{le="300"}' 1
want 'spamd_blacklist_hits_total{list="bad"}' 1
want 'spamd_traps_total' 1
want 'spamd_db_entries{kind="white"}' 1
want 'spamd_db_entries{kind="spamtrap"}' 1
want 'spamd_connections{kind="grey"}' 0
promtool check metrics <"$T/m.txt" || fail "promtool rejects the exposition"

# The textfile, for node_exporter: whole, valid, refreshed.
wait_for 5 grep -q '^spamd_traps_total 1$' "$T/tf/spamd.prom" || fail "textfile not written"
promtool check metrics <"$T/tf/spamd.prom" || fail "promtool rejects the textfile"
[ ! -e "$T/tf/spamd.prom.tmp" ] || fail "a temporary textfile was left"

# spamdb -s agrees.
"$BIN/spamdb" -f "$DB" -s | tee "$T/summary"
grep -qx 'WHITE 1' "$T/summary" && grep -qx 'TRAPPED 1' "$T/summary" &&
    grep -qx 'passed tuples 1' "$T/summary" ||
	fail "spamdb -s does not agree"
grep -Eq '^wait before pass: median [2-9] s, 90th percentile [2-9] s$' "$T/summary" ||
	fail "spamdb -s wait before pass"

# Paths and methods.
[ "$(curl -s "$M/healthz")" = ok ] || fail "/healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$M/other")" = 404 ] || fail "not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$M/metrics")" = 405 ] || fail "not 405"
[ "$(curl -s -I -o /dev/null -w '%{http_code}' "$M/metrics")" = 200 ] || fail "HEAD"
curl -s -D "$T/hdr" -o /dev/null "$M/metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$T/hdr" || fail "content type"

# Hostile clients: silent, huge and many; SMTP keeps answering at once.
python3 - <<'PYEOF' || fail "hostile clients"
import socket, time
def c():
    return socket.create_connection(("127.0.0.1", 9143), timeout=10)
huge = c(); huge.sendall(b"GET /metrics HTTP/1.0\r\n" + b"X: " + b"a" * 10000)
r = huge.recv(100)
assert r.startswith(b"HTTP/1.0 400"), r
silent = [c() for i in range(30)]     # 8 slots, the rest closed at once
t0 = time.time()
s = socket.create_connection(("127.0.0.1", 8025), timeout=10)
b = s.recv(100)
assert b.startswith(b"220"), b
print("SMTP banner in %.3f s with the endpoint full" % (time.time() - t0))
assert time.time() - t0 < 2
closed = 0
for x in silent:
    x.settimeout(15)
    try:
        if x.recv(10) == b"":
            closed += 1
    except (ConnectionResetError, socket.timeout):
        pass
waited = time.time() - t0
print("%d silent connections closed after %.1f s" % (closed, waited))
assert closed == 30 and 3 < waited < 14, (closed, waited)
r = c(); r.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
assert b"\r\n\r\nok\n" in r.recv(1000)
PYEOF
expect_grep 'metrics endpoint: 8 requests at once; closed [0-9]+ more' "$T/spamd.log"
scrape
[ "$(val 'spamd_metrics_requests_total{path="/metrics"}')" -ge 5 ] || fail "requests not counted"
spamd_stop

# With -b, no greylisting families.
spamd_start -b -m 127.0.0.1:9143
scrape
want 'spamd_greylisting_enabled' 0
grep -q '^spamd_greylist_' "$T/m.txt" && fail "greylisting metrics with -b"
promtool check metrics <"$T/m.txt" || fail "promtool rejects the -b exposition"
spamd_stop
pass "metrics: counters, exposition, textfile, summary and hostile clients"
