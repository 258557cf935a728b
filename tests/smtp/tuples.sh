#!/bin/bash
# tuples.sh: one GREY tuple per RCPT with OpenBSD's fields; a retry before
# passtime only counts; a retry after passtime sets pass and creates the
# WHITE record at once; the tuple's expiry is never extended.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
# passtime 4s: room for a slow (valgrind) early retry before it
spamd_start -s 0 -G 4s:1h:1d

session() {
	chat 127.0.0.1 <<EOF
expect 220
send HELO tuple.example
expect 250
send MAIL FROM:<Sender@Example.org>
expect 250
send RCPT TO:<a@example.com>
expect 250
send RCPT TO:<b@example.com>
expect 250
send RCPT TO:<c@example.com>
expect 250
send DATA
expect 451
expect-close
EOF
}

t0=$(date +%s)
session || fail "first session"
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -c '^GREY' | grep -qx 3" ||
	fail "expected 3 tuples: $("$BIN/spamdb" -f "$DB")"
spamdb_lines GREY > "$T/grey1"
cat "$T/grey1"
# GREY|ip|helo|from|to|first|pass|expire|bcount|pcount
awk -F'|' -v t0="$t0" '
	$2 != "127.0.0.1" || $3 != "tuple.example" || $4 != "<Sender@Example.org>" { exit 1 }
	$6 < t0 || $6 > t0 + 5 { exit 2 }
	$7 != $6 + 3600 || $8 != $6 + 3600 { exit 3 }
	$9 != 1 || $10 != 0 { exit 4 }
' "$T/grey1" || fail "new tuples have the wrong fields"
[ "$(cut -d'|' -f5 "$T/grey1" | tr '\n' ' ')" = '<a@example.com> <b@example.com> <c@example.com> ' ] ||
	fail "recipients: $(cut -d'|' -f5 "$T/grey1")"

# An early retry only counts.
session || fail "early retry"
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep '^GREY' | grep -c '|2|0\$' | grep -qx 3" ||
	fail "bcount not 2: $("$BIN/spamdb" -f "$DB")"
spamdb_lines WHITE | grep -q . && fail "whitelisted before passtime"
awk -F'|' '$7 != $6 + 3600 { exit 1 }' <(spamdb_lines GREY) || fail "pass moved early"

# After passtime, the retry passes and the host is WHITE immediately.
# It passes once first + passtime < now in whole seconds, so wait for
# first + 5 by the clock rather than for a fixed time after the early
# retry, which may have landed in the same second as the first session.
# The latest first counts: under valgrind the three RCPTs of one session
# can be stored in two different seconds.
first=$(cut -d'|' -f6 "$T/grey1" | sort -n | tail -n 1)
wait_for 10 sh -c "[ \$(date +%s) -ge $((first + 5)) ]" ||
	fail "clock did not reach the latest first + 5"
t1=$(date +%s)
session || fail "late retry"
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^WHITE|127.0.0.1|'" ||
	fail "not whitelisted: $("$BIN/spamdb" -f "$DB")"
spamdb_lines GREY > "$T/grey3"
spamdb_lines WHITE > "$T/white"
cat "$T/grey3" "$T/white"
awk -F'|' -v t1="$t1" '
	$9 != 3 { exit 1 }
	$7 < t1 || $7 > t1 + 5 { exit 2 }	# pass = retry time
	$8 != $6 + 3600 { exit 3 }		# expiry never extended
' "$T/grey3" || fail "passed tuples have the wrong fields"
# WHITE|ip|||first|pass|expire|bcount|pcount
awk -F'|' -v t0="$t0" -v t1="$t1" '
	$3 != "" || $4 != "" { exit 1 }
	$5 < t0 || $5 > t0 + 5 { exit 2 }
	$6 < t1 || $6 > t1 + 5 { exit 3 }
	$7 != $6 + 86400 { exit 4 }
	$8 != 3 || $9 != 0 { exit 5 }
' "$T/white" || fail "WHITE record has the wrong fields"
expect_grep 'whitelisting 127\.0\.0\.1' "$T/spamd.log"
pass "tuples"
