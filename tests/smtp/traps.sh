#!/bin/bash
# traps.sh: a RCPT to a SPAMTRAP address, or outside the allowed domains,
# traps the client for 24 hours; a trapped client is tarpitted like a
# blacklisted one (354, then the trap message) and records no tuples.
# Traps added or deleted with spamdb take effect within -t seconds.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
ip addr add 127.0.0.2/8 dev lo 2>/dev/null
ip addr add 127.0.0.3/8 dev lo 2>/dev/null
ip addr add 127.0.0.4/8 dev lo 2>/dev/null
printf '# allowed\nexample.com\n  @example.net  \n' > "$T/allowed"
spamd_start -s 0 -A "$T/allowed" -t 1
"$BIN/spamdb" -f "$DB" -T -a 'Trap@Example.com' || fail "spamdb -T -a"

t0=$(date +%s)
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "trap session"
expect 220
send HELO trapped.example
expect 250
send MAIL FROM:<s@spam.example>
expect 250
send RCPT TO:<TRAP@example.COM>
expect 250
send DATA
expect 451
EOF
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^TRAPPED|127.0.0.2|'" ||
	fail "not trapped: $("$BIN/spamdb" -f "$DB")"
exp=$(spamdb_lines TRAPPED | awk -F'|' '$2 == "127.0.0.2" { print $3 }')
[ "$exp" -ge $((t0 + 86400)) ] && [ "$exp" -le $((t0 + 86405)) ] ||
	fail "trap expiry $exp, expected about $((t0 + 86400))"
spamdb_lines GREY | grep -q '|127.0.0.2|' && fail "a trapped RCPT made a tuple"

# Now it is tarpitted: 354, the trap message, no tuple.
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "trapped client"
expect 220
send HELO trapped.example
expect 250
send MAIL FROM:<s@spam.example>
expect 250
send RCPT TO:<x@example.com>
expect 250
send DATA
expect 354 354 Enter spam, end with "." on a line by itself
send Subject: hello
send
send .
expect 450 450 Your address 127.0.0.2 has mailed to spamtraps here
expect-close
EOF
spamdb_lines GREY | grep -q '|127.0.0.2|' && fail "a trapped client made a tuple"
expect_grep '127\.0\.0\.2: connected \(1/1\), lists: spamd-greytrap' "$T/spamd.log"

# Outside the allowed domains: trapped. Inside: greylisted.
chat 127.0.0.1 -s 127.0.0.3 <<'EOF' || fail "allowed domains"
expect 220
send MAIL FROM:<s@x.example>
expect 250
send RCPT TO:<ok@sub.example.com>
expect 250
send RCPT TO:<ok@example.net>
expect 250
send DATA
expect 451
EOF
sleep 1
spamdb_lines TRAPPED | grep -q '|127.0.0.3|' && fail "allowed domains trapped"
[ "$(spamdb_lines GREY | grep -c '|127.0.0.3|')" = 2 ] || fail "tuples: $(spamdb_lines GREY)"
chat 127.0.0.1 -s 127.0.0.3 <<'EOF' || fail "other domain"
expect 220
send MAIL FROM:<s@x.example>
expect 250
send RCPT TO:<someone@other.example>
expect 250
send DATA
expect 451
EOF
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^TRAPPED|127.0.0.3|'" ||
	fail "outside the allowed domains but not trapped"
expect_grep 'Trapping 127\.0\.0\.3' "$T/spamd.log"

# spamdb -t -a: trapped within -t seconds, without a restart.
"$BIN/spamdb" -f "$DB" -t -a 127.0.0.4 || fail "spamdb -t -a"
sleep 2.5
chat 127.0.0.1 -s 127.0.0.4 <<'EOF' || fail "trap added with spamdb not applied"
expect 220
send RCPT TO:<x@example.com>
expect 250
send DATA
expect 354
send .
expect 450 450 Your address 127.0.0.4 has mailed to spamtraps here
EOF
# spamdb -d: untrapped within -t seconds.
"$BIN/spamdb" -f "$DB" -d 127.0.0.2 || fail "spamdb -d"
sleep 2.5
chat 127.0.0.1 -s 127.0.0.2 <<'EOF' || fail "trap deleted with spamdb still applied"
expect 220
send MAIL FROM:<s@x.example>
expect 250
send RCPT TO:<x@example.com>
expect 250
send DATA
expect 451
EOF
expect_grep '1 address no longer trapped' "$T/spamd.log"
pass "traps"
