#!/bin/bash
# maxcon.sh: beyond -c maxcon, new connections are accepted and closed at
# once (OpenBSD), with a rate-limited log line; the others are served.
# timeout: 60
. tests/lib.sh
private_net "$@"
t_tmp
spamd_start -s 0 -c 2

pids=
for i in 1 2; do
	chat 127.0.0.1 <<'EOF' &
expect 220
sleep 3
send QUIT
expect 221
EOF
	pids="$pids $!"
done
sleep 1
chat 127.0.0.1 <<'EOF' || fail "third connection not closed"
timeout 5
expect-close
EOF
for p in $pids; do wait $p || fail "held connections"; done
chat 127.0.0.1 <<'EOF' || fail "served again after the others left"
expect 220
EOF
expect_grep '2 connections \(-c\) reached: closed 1 new connection' "$T/spamd.log"
pass "maxcon"
