#!/bin/bash
# timeout.sh: -T closes a client that sends no command; a partial line
# does not reset the clock (OpenBSD); a client that never reads its
# replies is dropped too. 400 s by default, 2 s here.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0 -T 2

chat 127.0.0.1 <<'EOF' || fail "idle timeout"
timeout 10
expect 220
mark
expect-close
elapsed 1.5 5
EOF

chat 127.0.0.1 <<'EOF' || fail "partial line"
timeout 10
expect 220
mark
raw HE
sleep 1
raw L
expect-close
elapsed 1.5 5
EOF

chat 127.0.0.1 <<'EOF' || fail "a command restarts the clock"
timeout 10
expect 220
sleep 1.2
send NOOP
expect 250
mark
sleep 1.2
send NOOP
expect 250
expect-close
elapsed 1.5 5
EOF
expect_grep '127\.0\.0\.1: timeout$' "$T/spamd.log"
pass "timeout"
