#!/bin/bash
# starttls.sh: STARTTLS on the fake listener (-C/-K), with the sandbox on
# in the normal build. openssl s_client, swaks and a Python client check
# the exact EHLO offer, the 220, the handshake (TLS 1.2 and 1.3) and the
# greylisted dialogue after it, stutter included; hostile clients
# (plaintext injected after STARTTLS, garbage instead of a ClientHello,
# a stalled handshake, STARTTLS twice, a thousand handshakes at once)
# leave spamd answering with bounded memory; listed clients and clients
# beyond --tls-max-sessions are not offered TLS; SIGHUP reloads the
# certificate, and a reload that fails keeps the old one. Start-up
# errors: -C without -K, an unreadable file, a key that does not match.
# timeout: 240
. tests/lib.sh
private_net "$@"
t_tmp
need_cmd python3 openssl swaks
ip addr add 127.0.0.2/8 dev lo 2>/dev/null
ulimit -n 8192
TC="python3 tests/tools/tlschat.py"

mkcert() {	# mkcert NAME CN: $T/NAME.crt, $T/NAME.key (P-256)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -out "$T/$1.crt" -days 30 -subj "/CN=$2" \
		2>/dev/null || fail "openssl req"
	chgrp _spamd "$T/$1.key" "$T/$1.crt" && chmod 640 "$T/$1.key" ||
		fail "chgrp"
}
ensure_spamd_user
mkcert a mx.test
mkcert b mx2.test
fp() { openssl x509 -in "$1" -outform der | sha256sum | cut -d' ' -f1; }

# Start-up errors: a clear message and exit 1, before anything runs.
out=$("$BIN/spamd" -d -C "$T/a.crt" 2>&1); rc=$?
echo "$out"
[ $rc = 1 ] && echo "$out" | grep -q '^spamd: need key and certificate for TLS$' ||
	fail "-C without -K: rc $rc"
out=$("$BIN/spamd" -d -K "$T/a.key" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q 'need key and certificate for TLS' ||
	fail "-K without -C: rc $rc"
mkdir -p "$T/db" && chown _spamd: "$T/db"
out=$("$BIN/spamd" -d -f "$T/db/x.db" -C "$T/none.crt" -K "$T/a.key" 2>&1); rc=$?
echo "$out"
[ $rc = 1 ] && echo "$out" | grep -q "none.crt: No such file or directory" ||
	fail "missing certificate: rc $rc"
out=$("$BIN/spamd" -d -f "$T/db/x.db" -C "$T/a.crt" -K "$T/b.key" 2>&1); rc=$?
echo "$out"
[ $rc = 1 ] && echo "$out" | grep -q "does not match" ||
	fail "mismatched key: rc $rc"
printf 'not a PEM file\n' >"$T/junk.pem"
out=$("$BIN/spamd" -d -f "$T/db/x.db" -C "$T/junk.pem" -K "$T/a.key" 2>&1); rc=$?
echo "$out"
[ $rc = 1 ] && echo "$out" | grep -q "junk.pem" || fail "junk certificate: rc $rc"

# A blacklist holding 127.0.0.2.
echo 127.0.0.2 >"$T/bad.txt"
cat >"$T/spamd.conf" <<EOF
all:\\
	:bad:
bad:\\
	:black:\\
	:msg="listed":\\
	:method=file:\\
	:file=$T/bad.txt:
EOF

spamd_start -s 0 -G 2s:1h:1h -v --tls-handshake-timeout 3 \
	-C "$T/a.crt" -K "$T/a.key"
expect_grep "STARTTLS with $T/a.crt \\(CN=mx.test\\), valid until" "$T/spamd.log"
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" ||
	fail "spamd-setup"

# The dialogue, TLS 1.3 and 1.2.
$TC 127.0.0.1 8025 dialogue 1.3 | tee "$T/d13" || fail "dialogue over TLS 1.3"
grep -q '^tls TLSv1.3 ' "$T/d13" || fail "not TLS 1.3"
$TC 127.0.0.1 8025 dialogue 1.2 | tee "$T/d12" || fail "dialogue over TLS 1.2"
grep -q '^tls TLSv1.2 ' "$T/d12" || fail "not TLS 1.2"
expect_grep '127.0.0.1: TLS handshake done: TLSv1.3 ' "$T/spamd.log"
expect_grep '127.0.0.1: disconnected after [0-9]+ seconds\. tls: TLSv1\.2' "$T/spamd.log"
wait_for 10 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^GREY|127.0.0.1|client.example|<alice@client.example>|<bob@mx.test>|'" ||
	fail "no tuple recorded inside TLS"

# openssl s_client: the offer is found, the handshake completes, 451 at DATA.
(sleep 1; printf 'EHLO s-client.example\r\nMAIL FROM:<c@client.example>\r\nRCPT TO:<d@mx.test>\r\nDATA\r\n'; sleep 2) |
	timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:8025 \
	-crlf -ign_eof -brief >"$T/sclient" 2>&1
cat "$T/sclient"
grep -q "Didn't find STARTTLS" "$T/sclient" && fail "s_client did not find STARTTLS"
grep -q '^CONNECTION ESTABLISHED' "$T/sclient" || fail "s_client: no handshake"
grep -q '^451 Temporary failure, please try again later\.' "$T/sclient" ||
	fail "s_client: no 451 at DATA"

# swaks --tls: the same with another client library.
timeout 30 swaks --tls -s 127.0.0.1 -p 8025 --ehlo swaks.example \
	--from e@client.example --to f@mx.test --timeout 20 >"$T/swaks" 2>&1
cat "$T/swaks"
grep -q '<-  220 glad you want to burn more CPU cycles on your spam' "$T/swaks" ||
	fail "swaks: no 220 to STARTTLS"
grep -q '=== TLS started' "$T/swaks" || fail "swaks: no TLS"
grep -q '<~\* 451 Temporary failure, please try again later\.' "$T/swaks" ||
	fail "swaks: no 451 inside TLS"

# Plaintext injected with STARTTLS is discarded, never read inside TLS.
$TC 127.0.0.1 8025 inject || fail "injection"
expect_grep '127.0.0.1: discarded [0-9]+ bytes sent in plaintext after STARTTLS' "$T/spamd.log"
"$BIN/spamdb" -f "$DB" | grep -q 'injected@evil' && fail "the injected MAIL made a tuple"

# Garbage instead of a ClientHello; a stalled handshake (3 s timeout).
$TC 127.0.0.1 8025 garbage || fail "garbage handshake"
expect_grep '127.0.0.1: TLS handshake failed: ' "$T/spamd.log"
secs=$($TC 127.0.0.1 8025 stall) || fail "stalled handshake"
echo "stalled handshake closed after $secs s"
awk -v s="$secs" 'BEGIN { exit !(s >= 2 && s <= 15) }' || fail "closed after $secs s, not about 3"
expect_grep '127.0.0.1: TLS handshake timeout' "$T/spamd.log"

# A listed client is not offered STARTTLS.
TLSCHAT_SRC=127.0.0.2 $TC 127.0.0.1 8025 plain ||
	fail "listed client offered STARTTLS"
expect_grep '127.0.0.2: sent STARTTLS, which is not offered to listed clients' "$T/spamd.log"

# SIGHUP: a new certificate for new sessions; a broken one is refused.
old=$($TC 127.0.0.1 8025 cert) || fail "cert"
[ "$old" = "$(fp "$T/a.crt")" ] || fail "not the -C certificate"
cp "$T/b.crt" "$T/a.crt" && cp "$T/b.key" "$T/a.key"
kill -HUP "$SPAMD_PID"
wait_for 10 grep -q 'STARTTLS with the reloaded certificate (CN=mx2.test)' "$T/spamd.log" ||
	{ tail "$T/spamd.log"; fail "no reload"; }
new=$($TC 127.0.0.1 8025 cert) || fail "cert after reload"
[ "$new" = "$(fp "$T/b.crt")" ] || fail "the reload did not take"
printf 'broken\n' >"$T/a.key"
kill -HUP "$SPAMD_PID"
wait_for 10 grep -q 'TLS reload failed: .*keeping the current certificate' "$T/spamd.log" ||
	{ tail "$T/spamd.log"; fail "a broken key was not refused"; }
[ "$($TC 127.0.0.1 8025 cert)" = "$(fp "$T/b.crt")" ] || fail "lost the certificate"
chmod 600 "$T/a.key"; chown root "$T/a.key"
kill -HUP "$SPAMD_PID"
wait_for 10 grep -q 'SIGHUP: -K .*Permission denied.*keeping the current certificate' "$T/spamd.log" ||
	{ tail "$T/spamd.log"; fail "an unreadable key was not reported"; }
kill -0 "$SPAMD_PID" || fail "spamd died at SIGHUP"
spamd_stop
grep -E 'allow-list|killed by signal' "$T/spamd.log" && fail "a process was killed"

# Many handshakes at once, and the session cap: 2000 clients, a cap of
# 1500: 1500 are offered TLS and complete it, the others get the plain
# EHLO; spamd answers a new client meanwhile; the SMTP process stays small
# (10 s after the handshakes, what they freed goes back to the system).
# Under valgrind (smtp_memcheck.sh sets VG_TEST) a tenth of that; no
# memory bound under valgrind or a sanitizer (their memory is in the RSS).
N=2000 CAP=1500
[ -n "${VG_TEST:-}" ] && N=100 CAP=60
cp "$T/b.key" "$T/a.key"; chgrp _spamd "$T/a.key"; chmod 640 "$T/a.key"
spamd_start -s 0 -c 2200 --maxcon-per-address 2200 --tls-max-sessions $CAP \
	-C "$T/a.crt" -K "$T/a.key"
smtp_pid=$(pgrep -P "$SPAMD_PID" -x spamd-smtp | head -1)
[ -n "$smtp_pid" ] || smtp_pid=$(pgrep -x spamd-smtp | head -1)
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$smtp_pid/status")
$TC 127.0.0.1 8025 hold $N 14 >"$T/hold" 2>&1 &
hold=$!
wait_for 90 grep -q '^offered' "$T/hold" || { cat "$T/hold"; fail "handshakes did not finish"; }
cat "$T/hold"
grep -q "^offered $CAP handshakes $CAP of $N\$" "$T/hold" || fail "not $CAP of $N in TLS"
$TC 127.0.0.1 8025 plain || fail "a new client was offered TLS at the cap"
rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$smtp_pid/status")
sleep 11
rss2=$(awk '/^VmRSS/ { print $2 }' "/proc/$smtp_pid/status")
echo "spamd-smtp RSS: $rss0 kB before, $rss1 kB after $CAP handshakes, $rss2 kB 11 s later"
echo "  ($(( (rss2 - rss0) * 1024 / CAP )) bytes per held TLS session)"
# valgrind's and ASan's own memory is in the RSS: no bound there.
if [ -n "${VG_TEST:-}" ] || [ "${SANITIZE:-0}" = 1 ]; then
	echo "(memory bound not checked under valgrind or a sanitizer)"
else
	[ $((rss2 - rss0)) -lt $((CAP * 40)) ] ||
		fail "RSS grew by $((rss2 - rss0)) kB for $CAP sessions, over 40 kB each"
fi
wait "$hold" || { cat "$T/hold"; fail "held sessions did not survive"; }
grep -q "^alive $CAP\$" "$T/hold" || fail "not all $CAP TLS sessions answered"
wait_for 10 grep -q 'left after EHLO without trying MAIL (STARTTLS was not offered: --tls-max-sessions reached)' "$T/spamd.log" ||
	fail "the clients beyond the cap were not logged as such"
# Slots come back: TLS is offered again.
wait_for 15 sh -c "$TC 127.0.0.1 8025 dialogue >/dev/null 2>&1" || fail "no TLS after the crowd left"
spamd_stop

# Stutter inside TLS: one record per byte (-s 20ms, all of -S).
spamd_start -s 20ms -S 90 -C "$T/a.crt" -K "$T/a.key"
$TC 127.0.0.1 8025 dialogue | tee "$T/dst" || fail "stuttered dialogue"
inside=$(awk '/^inside/ { print $2 }' "$T/dst")
awk -v s="$inside" 'BEGIN { exit !(s >= 3) }' || fail "inside TLS in $inside s: not stuttered"
spamd_stop
grep -E 'allow-list|killed by signal' "$T/spamd.log" && fail "a process was killed"
pass "STARTTLS: dialogue, clients, hostile handshakes, cap, reload, stutter"
