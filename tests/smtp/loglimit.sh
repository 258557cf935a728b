#!/bin/bash
# loglimit.sh: the log lines a client causes (with -v: one per header line
# of a blacklisted client's message, one per RCPT) are bounded per
# connection and per address; the bound is announced once and the
# suppressed lines are counted at close.
# timeout: 90
. tests/lib.sh
private_net "$@"
t_tmp
for i in 2 3; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null; done

echo '127.0.0.0/29' >"$T/list.txt"
cat >"$T/spamd.conf" <<EOF
all:\\
	:alpha:
alpha:\\
	:black:\\
	:msg="Your address %A is in alpha":\\
	:method=file:\\
	:file=$T/list.txt:
EOF

spamd_start -s 0 -S 0 -v
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup"
expect_grep 'configuration connection from uid 0 \(pid [0-9]+\): .* 1 applied, 0 rejected' "$T/spamd.log"

L=$T/spamd.log
# One connection, 300 header lines and 150 RCPTs: at most the default
# 100 client-caused lines per connection.
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "blacklisted dialogue"
timeout 20
expect 220
send HELO spammer.example
expect 250
send MAIL FROM:<s@example.org>
expect 250
repeat 150 send RCPT TO:<r@example.com>
expectn 150 250
send DATA
expect 354
repeat 300 send Subject: buy now
send
send body
send .
expect 450
expect-close
EOF
wait_for 5 grep -q '127\.0\.0\.2: disconnected' "$L" || fail "no disconnect"
n=$(grep -c '(BLACK) 127\.0\.0\.2: ' "$L")
[ "$n" -le 100 ] || fail "$n client lines logged for one connection"
[ "$n" -ge 50 ] || fail "only $n client lines logged"
[ "$(grep -c '127\.0\.0\.2: log limit of 100 lines per connection reached, suppressing further lines' "$L")" = 1 ] ||
	fail "bound not announced exactly once"
expect_grep '127\.0\.0\.2: [0-9]+ log lines suppressed$' "$L"
s=$(sed -n 's/.*127\.0\.0\.2: \([0-9]*\) log lines suppressed$/\1/p' "$L")
[ "$((n + s))" -ge 450 ] || fail "logged $n + suppressed $s < 450 lines"

# Per address: two overlapping connections from 127.0.0.3 share a budget
# of 60 lines a minute, each allowed 40.
spamd_stop
: >"$L"
spamd_start -s 0 -S 0 -v --log-lines-per-connection 40 --log-lines-per-address 60
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup (2)"
for i in 1 2; do
	chat 127.0.0.1 -s 127.0.0.3 <<'EOF' &
timeout 20
expect 220
send DATA
expect 354
repeat 100 send Subject: buy now
sleep 2
send .
expect 450
expect-close
EOF
	pids="${pids:-} $!"
done
for p in $pids; do wait $p || fail "per-address dialogues"; done
wait_for 5 sh -c "[ \$(grep -c '127\.0\.0\.3: disconnected' '$L') = 2 ]" || fail "no disconnects"
n=$(grep -c '(BLACK) 127\.0\.0\.3: ' "$L")
[ "$n" -le 60 ] || fail "$n client lines logged for one address"
[ "$n" -ge 40 ] || fail "only $n client lines for the address"
expect_grep '127\.0\.0\.3: log limit of 60 lines per minute for the address reached' "$L"
pass "loglimit"
