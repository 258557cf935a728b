#!/bin/bash
# stutter.sh: greylisted clients are stuttered at -s per character for
# their first -S seconds, then answered at once; -s 0 never stutters.
# Bounds are generous: this checks behaviour, not speed.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
# 20 ms per byte: the 76-byte banner takes about 1.5 s.
spamd_start -s 20ms -S 3

chat 127.0.0.1 <<'EOF' || fail "stuttered banner"
timeout 20
mark
expect 220
elapsed 1.2 8
sleep 2
mark
send NOOP
expect 250 250 2.0.0 OK I did nothing
elapsed 0 0.5
EOF
spamd_stop

: >"$T/spamd.log"
spamd_start -s 0 -S 90
chat 127.0.0.1 <<'EOF' || fail "-s 0"
mark
expect 220
elapsed 0 0.5
EOF
pass "stutter"
