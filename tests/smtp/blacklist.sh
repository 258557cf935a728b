#!/bin/bash
# blacklist.sh: blacklists end to end over the real configuration socket.
# spamd-setup loads two file lists; a client on both is stuttered, gets
# 354 at DATA and then both lists' messages as one multi-line 450 with %A
# expanded (OpenBSD stops at the first list), and records no tuple; a
# WHITE entry for a listed host is removed; -B maxblack stops stuttering
# beyond maxblack listed clients; -w shrinks the receive buffer at DATA;
# -5 answers 550; others are greylisted as usual.
# timeout: 120
. tests/lib.sh
private_net "$@"
t_tmp
for i in 2 3 4 5 9; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null; done

cat >"$T/alpha.txt" <<'EOF'
# alpha: single addresses and a range
127.0.0.2
127.0.0.3 - 127.0.0.4
EOF
printf '127.0.0.0/29\n2001:db8:bad::/48\n' | gzip >"$T/beta.txt.gz"
cat >"$T/spamd.conf" <<EOF
all:\\
	:alpha:beta:
alpha:\\
	:black:\\
	:msg="Your address %A is in alpha\\nSee http://alpha.example/":\\
	:method=file:\\
	:file=$T/alpha.txt:
beta:\\
	:black:\\
	:msg="Your address %A is in beta":\\
	:method=file:\\
	:file=$T/beta.txt.gz:
EOF

spamd_start -s 20ms -S 0 -B 1 -w 2048
# 127.0.0.3 passed greylisting before the lists came: WHITE, and a passed
# tuple that spamd-nftsync would promote again if it stayed.
"$TBIN/dbseed" "$DB" <<'EOF' || fail "dbseed"
WHITE|127.0.0.3|||now-1h|now-30m|now+35d|2|0
GREY|127.0.0.3|h.example|<a@b>|<c@d>|now-1h|now-30m|now+3h|2|0
GREY|127.0.0.9|h.example|<a@b>|<c@d>|now-1h|now-30m|now+3h|2|0
EOF
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup"
expect_grep 'configuration connection from uid 0 \(pid [0-9]+\): .* 2 applied, 0 rejected' "$T/spamd.log"
# The WHITE entry of a listed host goes (OpenBSD's greyscanner rule).
wait_for 10 grep -q '127.0.0.3 blacklisted, removing from whitelist' "$T/spamd.log" ||
	fail "WHITE entry of a blacklisted host kept"
wait_for 5 sh -c "! '$BIN/spamdb' -f '$DB' | grep -q '|127.0.0.3|'" ||
	fail "records of a blacklisted host kept: $("$BIN/spamdb" -f "$DB")"
"$BIN/spamdb" -f "$DB" | grep -q '^GREY|127.0.0.9|' || fail "an unlisted host's tuple went too"

# On both lists: stuttered banner (76 bytes at 20 ms), all messages.
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' &
timeout 30
mark
expect 220
elapsed 1.2 10
send HELO spammer.example
expect 250
send MAIL FROM:<s@spammer.example>
expect 250
send RCPT TO:<v@example.com>
expect 250
send DATA
expect 354 354 Enter spam, end with "." on a line by itself
sleep 1
send Subject: cheap
send
send body
send .
expect 450 450-Your address 127.0.0.2 is in alpha\n450-See http://alpha.example/\n450 Your address 127.0.0.2 is in beta
expect-close
EOF
first=$!
sleep 0.5
# A second listed client while the first is connected: beyond -B 1, so
# answered without stutter.
chat 127.0.0.1 -s 127.0.0.5 <<'EOF' || fail "second listed client"
timeout 10
mark
expect 220
elapsed 0 0.8
send QUIT
expect 221
EOF
# -w: the receive buffer shrank at DATA (the kernel doubles the value).
wait_for 10 sh -c "ss -tmn state established '( sport = :8025 )' | grep -q 'rb4096,'" ||
	{ ss -tmn state established; fail "-w 2048 did not shrink SO_RCVBUF"; }
wait $first || fail "listed client dialogue"
"$BIN/spamdb" -f "$DB" | grep -q '|127.0.0.2|' && fail "a listed client made a record"
expect_grep '127\.0\.0\.2: connected \(1/1\), lists: alpha beta$' "$T/spamd.log"
expect_grep '127\.0\.0\.2: disconnected after [0-9]+ seconds\. lists: alpha beta$' "$T/spamd.log"

# Not listed: greylisted as usual.
chat 127.0.0.1 -s 127.0.0.9 <<'EOF' || fail "greylisted client"
expect 220
send MAIL FROM:<a@example.org>
expect 250
send RCPT TO:<b@example.com>
expect 250
send DATA
expect 451
EOF
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^GREY|127.0.0.9|'" || fail "no tuple for 127.0.0.9"

# A bad line for an existing tag keeps the old list.
printf 'alpha;"x";inet;1;127.0.0.2/0\n' >"$T/bad"
python3 - "$T/bad" <<'PY' || fail "sending a bad line"
import socket, sys
s = socket.socket()
for port in range(600, 1000):
    try:
        s.bind(("127.0.0.1", port)); break
    except OSError:
        continue
s.connect(("127.0.0.1", 8026))
s.sendall(open(sys.argv[1], "rb").read())
s.close()
PY
wait_for 5 grep -q 'rejected' "$T/spamd.log"
expect_grep 'configuration connection from 127\.0\.0\.1: 1 line, 0 applied, 1 rejected' "$T/spamd.log"
chat 127.0.0.1 -s 127.0.0.4 <<'EOF' || fail "old list kept"
timeout 20
expect 220
send RCPT TO:<x@example.com>
expect 250
send DATA
expect 354
send .
expect 450 450-Your address 127.0.0.4 is in alpha\n450-See http://alpha.example/\n450 Your address 127.0.0.4 is in beta
EOF

# -5: 550 instead of 450.
spamd_stop
: >"$T/spamd.log"
spamd_start -s 0 -5
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup (2)"
chat 127.0.0.1 -s 127.0.0.3 <<'EOF' || fail "-5"
expect 220
send RCPT TO:<x@example.com>
expect 250
send DATA
expect 354
send .
expect 550 550-Your address 127.0.0.3 is in alpha\n550-See http://alpha.example/\n550 Your address 127.0.0.3 is in beta
EOF
pass "blacklists"
