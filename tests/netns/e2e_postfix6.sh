#!/bin/bash
# e2e_postfix6.sh: the real thing over IPv6. A real Postfix in a sender
# namespace relays a message to an MX namespace running nft/spamd.nft,
# spamd (-G 5s:1h:1d) and a real MTA (smtp-sink) on port 25. The first
# attempt is deferred with spamd's 451; a retry after passtime whitelists
# the sender at once; the next attempt reaches the real MTA and is sent.
# timeout: 120
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_setup
pl_spamd -G 5s:1h:1d -s 0
pl_sender "[2001:db8::25]"
pl_send alice@sender.example bob@mx.example "greylisting over IPv6"

pl_wait_log 'status=deferred \(host 2001:db8::25\[2001:db8::25\] said: 451 Temporary failure, please try again later\. \(in reply to DATA command\)\)' 30 ||
	{ cat "$T/maillog" "$T/spamd.log"; fail "no 451 deferral"; }
pl_wait_log 'status=sent \(250 ' 60 ||
	{ cat "$T/maillog" "$T/spamd.log"; fail "never delivered"; }
grep -E 'status=(deferred|sent)' "$T/maillog"
# Deferred first, delivered last, through the MX on port 25.
grep -E 'status=(deferred|sent)' "$T/maillog" | head -1 | grep -q 'status=deferred' ||
	fail "the first attempt was not deferred"
grep 'status=sent' "$T/maillog" | grep -q 'relay=2001:db8::25\[2001:db8::25\]:25' ||
	fail "delivered through another relay"

"$BIN/spamdb" -f "$DB" | tee "$T/spamdb"
grep -Eq '^WHITE\|2001:db8::10\|\|\|' "$T/spamdb" || fail "no WHITE record for 2001:db8::10"
grep -Eq '^GREY\|2001:db8::10\|sender\.example\|<alice@sender\.example>\|<bob@mx\.example>\|' "$T/spamdb" ||
	fail "no GREY tuple for 2001:db8::10"
pl_mx nft list set inet spamd spamd_white6 | tee "$T/set"
grep -Eq '2001:db8::10 timeout 1d' "$T/set" || fail "2001:db8::10 not in spamd_white6"
expect_grep 'whitelisting 2001:db8::10' "$T/spamd.log"
pass "a real message greylisted and delivered over IPv6"
