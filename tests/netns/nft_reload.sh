#!/bin/bash
# nft_reload.sh: nftables going away under spamd. (1) spamd starts before
# the ruleset exists: it greylists anyway, and a sender that passes while
# the table is missing is in spamd_white as soon as the table is loaded.
# (2) An admin's `flush ruleset` + reload empties the sets: spamd notices
# the re-created table and restores its whitelist within seconds.
# (3) The table deleted outright: logged, greylisting goes on.
# timeout: 90
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_setup
pl_mx nft delete table inet spamd || fail "could not remove the table"
pl_spamd -G 1s:1h:1d -s 0

session() {	# session SRC
	ip netns exec "$PL_SNS" "$TBIN/smtpchat" -s "$1" "$PL_MX4" 8025 <<EOF
expect 220
send MAIL FROM:<a@example.org>
expect 250
send RCPT TO:<b@example.com>
expect 250
send DATA
expect 451
EOF
}
in_set() { pl_mx nft list set inet spamd spamd_white 2>/dev/null | grep -q "$1 "; }

# (1) no table: greylisting goes on, the promotion waits for nftables.
session "$PL_S4" || fail "first session without a table"
sleep 2.5
session "$PL_S4" || fail "retry without a table"
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^WHITE|$PL_S4|'" || fail "not WHITE"
expect_grep 'cannot update nftables: .*No such file or directory' "$T/spamd.log"
pl_mx nft -f nft/spamd.nft || fail "load nft/spamd.nft"
wait_for 15 in_set "$PL_S4" || { cat "$T/spamd.log"; fail "$PL_S4 not in spamd_white after the table appeared"; }
echo "(1) whitelisted after the table appeared"
# Let the resync that follows the recovery finish before step (2).
wait_for 10 grep -q 'spamd_white: now 1 address' "$T/spamd.log" || fail "no resync after recovery"
sleep 1

# (2) flush ruleset + reload: the sets come back empty; spamd refills them.
pl_mx nft flush ruleset
pl_mx nft -f nft/spamd.nft
in_set "$PL_S4" && fail "the reload did not empty the set (test is wrong)"
wait_for 15 in_set "$PL_S4" || { cat "$T/spamd.log"; fail "whitelist not restored after a reload"; }
wait_for 10 grep -q 'table inet spamd was (re)loaded; restoring the whitelist' "$T/spamd.log" ||
	{ cat "$T/spamd.log"; fail "the reload was not noticed"; }
echo "(2) whitelist restored after flush ruleset"

# (3) table deleted: greylisting of new hosts continues, with a log line.
pl_mx nft delete table inet spamd
ip -n "$PL_SNS" addr add 192.0.2.12/24 dev "va$$"
session 192.0.2.12 || fail "greylisting stopped without a table"
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^GREY|192.0.2.12|'" || fail "no tuple"
kill -0 "$PL_SPAMD_PID" || fail "spamd died"
pass "nft reloads and a missing table"
