#!/bin/bash
# pipelining.sh: pipelined commands are answered one by one, in order
# (OpenBSD drops all but the first line of a read), each RCPT records its
# tuple, and a flood of 10,000 commands is answered without trouble.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0

chat 127.0.0.1 <<'EOF' || fail "pipelined dialogue"
expect 220
raw HELO pipe.example\r\nMAIL FROM:<p@example.org>\r\nRCPT TO:<one@example.com>\r\nRCPT TO:<two@example.com>\r\nNOOP\r\nDATA\r\nNOOP\r\n
expect 250 250 Hello, spam sender. Pleased to be wasting your time.
expect 250 250 You are about to try to deliver spam. Your time will be spent, for nothing.
expect 250 250 This is hurting you more than it is hurting me.
expect 250 250 This is hurting you more than it is hurting me.
expect 250 250 2.0.0 OK I did nothing
expect 451
expect-close
EOF
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' | grep -c '^GREY|127.0.0.1|pipe.example|' | grep -qx 2" ||
	fail "expected two tuples: $("$BIN/spamdb" -f "$DB")"

chat 127.0.0.1 <<'EOF' || fail "10,000 pipelined NOOPs"
timeout 30
expect 220
repeat 10000 send NOOP
expectn 10000 250
send QUIT
expect 221
expect-close
EOF
pass "pipelining"
