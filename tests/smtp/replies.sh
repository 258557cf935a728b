#!/bin/bash
# replies.sh: every reply of the spec's §4.1 table, byte for byte, over
# IPv4 and IPv6, plus the connect/disconnect log lines.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0

day='(Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
mon='(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)'
for host in 127.0.0.1 ::1; do
	chat $host <<EOF || fail "greylisted dialogue over $host"
match ^220 mx\.test ESMTP spamd IP-based SPAM blocker; $day $mon [ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}\$
send HELO
expect 501 501 helo requires domain name.
send EHLO client.example
expect 250 250 Hello, spam sender. Pleased to be wasting your time.
send NOOP
expect 250 250 2.0.0 OK I did nothing
send VRFY postmaster
expect 500 500 5.5.1 Command unrecognized
send MAIL FROM:<sender@example.org>
expect 250 250 You are about to try to deliver spam. Your time will be spent, for nothing.
send RSET
expect 250 250 Ok to start over.
send MAIL FROM:<sender@example.org>
expect 250
send RCPT TO:<rcpt@example.com>
expect 250 250 This is hurting you more than it is hurting me.
send DATA
expect 451 451 Temporary failure, please try again later.
expect-close
EOF
done

chat 127.0.0.1 <<EOF || fail "QUIT"
expect 220
send QUIT
expect 221 221 mx.test
expect-close
EOF

# The 21st bad command gets the final reply instead of 500.
chat 127.0.0.1 <<EOF || fail "21 bad commands"
expect 220
repeat 20 send XYZZY
expectn 20 500
send XYZZY
expect 451 451 Temporary failure, please try again later.
expect-close
EOF

# DATA right after HELO: the final reply and close, as in OpenBSD.
chat 127.0.0.1 <<EOF || fail "DATA after HELO"
expect 220
send HELO early.example
expect 250
send DATA
expect 451 451 Temporary failure, please try again later.
expect-close
EOF

expect_grep '^spamd\[smtp\]: 127\.0\.0\.1: connected \(1/0\)$' "$T/spamd.log"
expect_grep '^spamd\[smtp\]: ::1: connected \(1/0\)$' "$T/spamd.log"
expect_grep '^spamd\[smtp\]: 127\.0\.0\.1: disconnected after [0-9]+ seconds\.$' "$T/spamd.log"
pass "replies"
