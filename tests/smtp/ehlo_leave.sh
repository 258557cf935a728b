#!/bin/bash
# ehlo_leave.sh: a client that leaves after EHLO without trying MAIL (as a
# sender that requires STARTTLS does) is logged once; one that sent
# STARTTLS is logged too. HELO-only clients and clients that tried MAIL
# leave no such line.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0

# 127.0.0.2: EHLO, then goes away (twice EHLO would be a bad command).
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "EHLO and leave"
expect 220
send EHLO tls.example
expect 250
EOF
# 127.0.0.3: EHLO, STARTTLS (not offered: 500), QUIT.
chat 127.0.0.1 -s 127.0.0.3 <<'EOF' || fail "STARTTLS"
expect 220
send EHLO tls.example
expect 250
send STARTTLS
expect 500 500 5.5.1 Command unrecognized
send STARTTLS
expect 500
send QUIT
expect 221
expect-close
EOF
# 127.0.0.4: EHLO, MAIL, then goes away: no line.
chat 127.0.0.1 -s 127.0.0.4 <<'EOF' || fail "EHLO MAIL and leave"
expect 220
send EHLO ok.example
expect 250
send MAIL FROM:<a@example.org>
expect 250
EOF
# 127.0.0.5: HELO only: no line.
chat 127.0.0.1 -s 127.0.0.5 <<'EOF' || fail "HELO and leave"
expect 220
send HELO old.example
expect 250
EOF

L=$T/spamd.log
wait_for 5 grep -q '127\.0\.0\.5: disconnected' "$L" || fail "no disconnect of .5"
wait_for 5 grep -q '127\.0\.0\.4: disconnected' "$L" || fail "no disconnect of .4"
expect_grep '^spamd\[smtp\]: 127\.0\.0\.2: left after EHLO without trying MAIL \(STARTTLS is not offered\)$' "$L"
expect_grep '^spamd\[smtp\]: 127\.0\.0\.3: sent STARTTLS, which is not offered$' "$L"
[ "$(grep -c '127\.0\.0\.3: sent STARTTLS' "$L")" = 1 ] || fail "STARTTLS logged more than once"
[ "$(grep -c '127\.0\.0\.3: left after EHLO' "$L")" = 1 ] || fail "no single EHLO line for .3"
! grep -q '127\.0\.0\.[45]: left after' "$L" || fail "logged a client that tried MAIL or used HELO"
pass "ehlo_leave"
