#!/bin/bash
# badinput.sh: hostile input gets a clear answer and never a crash:
# an over-long line is one bad command, NUL bytes are refused, binary junk
# is 500, 10,000 RCPTs record at most 100 tuples, and spamd keeps serving.
# timeout: 90
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0

chat 127.0.0.1 <<'EOF' || fail "over-long line"
expect 220
repeat 20000 raw A
raw \r\n
expect 500 500 5.5.1 Command unrecognized
send NOOP
expect 250 250 2.0.0 OK I did nothing
EOF
expect_grep 'line longer than 8192 bytes' "$T/spamd.log"

chat 127.0.0.1 <<'EOF' || fail "NUL and junk"
expect 220
raw NOOP\0junk\r\n
expect 500
raw \xff\xfe\x01\x02\x80\r\n
expect 500
raw \r\n
expect 500
send HELO ok.example
expect 250
EOF

chat 127.0.0.1 <<'EOF' || fail "10,000 RCPTs"
timeout 30
expect 220
send MAIL FROM:<flood@example.org>
expect 250
repeat 10000 send RCPT TO:<victim@example.com>
expectn 10000 250
send QUIT
expect 221
EOF
# one tuple (same recipient), and the cap logged only with distinct ones
chat 127.0.0.1 <<'EOF' || fail "150 distinct RCPTs"
timeout 30
expect 220
send MAIL FROM:<flood2@example.org>
expect 250
EOF
{
	echo "expect 220"
	echo "send MAIL FROM:<many@example.org>"
	echo "expect 250"
	for i in $(seq 1 150); do echo "send RCPT TO:<u$i@example.com>"; done
	echo "expectn 150 250"
	echo "send QUIT"
	echo "expect 221"
} | chat 127.0.0.1 || fail "150 RCPTs"
wait_for 5 sh -c "[ \$('$BIN/spamdb' -f '$DB' | grep -c '|<many@example.org>|') -eq 100 ]" ||
	fail "expected 100 tuples, got $("$BIN/spamdb" -f "$DB" | grep -c '|<many@example.org>|')"
expect_grep 'more than 100 recipients' "$T/spamd.log"

# The client that resets mid-reply, and one that never reads.
chat 127.0.0.1 <<'EOF' || fail "reset"
expect 220
send HELO x
reset
EOF
chat 127.0.0.1 <<'EOF' || fail "still serving"
expect 220
send QUIT
expect 221
EOF
kill -0 "$SPAMD_PID" || fail "spamd died"
pass "badinput"
