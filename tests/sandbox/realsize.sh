#!/bin/bash
# realsize.sh: issue 15 item 1. The sandboxed SMTP process (normal build:
# seccomp filter on) survives real blacklists: REALSIZE_V4 (2.5 million)
# disjoint IPv4 CIDRs and REALSIZE_V6 (300,000) IPv6 /64s, loaded with
# spamd-setup, replaced and removed for 3 rounds while clients connect:
# a listed client gets 354 and the list's text (450, or 550 with -5), a
# good one 451 at DATA, a client at the -M address and one mailing
# outside the -A domains are trapped; with -s, -S, -B, -w, -T set. Then
# again with -b (no greylister), -5 and --log FILE. The SMTP process
# keeps its PID throughout and nothing is "killed by the sandbox".
# Under SANITIZE=1 the filter is not loaded (the test says so) and the
# test only checks the behaviour.
# timeout: 300
. tests/lib.sh
private_net "$@"
t_tmp
for i in 2 3 5 10 21 22 23 31 32 33; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null; done
N4=${REALSIZE_V4:-2500000}
N6=${REALSIZE_V6:-300000}

# gen ROUND: the lists of one round. IPv4: N4 /30s, 8 addresses apart
# (disjoint and never adjacent, so nothing merges), shifted by the round
# so that each round replaces every block; 127.0.0.2 is in it.
gen() {
	python3 - "$T" "$1" "$N4" "$N6" <<'PY' || fail "generating the lists"
import sys
t, r, n4, n6 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = (10 << 24) + 4 * (r % 2)
with open(t + "/v4.txt", "w") as f:
    f.write("127.0.0.2\n")
    for i in range(0, n4, 65536):
        f.write("".join("%d.%d.%d.%d/30\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
                for a in (base + 8 * j for j in range(i, min(n4, i + 65536)))))
with open(t + "/v6.txt", "w") as f:
    f.write("".join("2001:db8:%x:%x::/64\n" % (j >> 16, (j & 0xffff) ^ r) for j in range(0, 2 * n6, 2)))
PY
}

cat >"$T/full.conf" <<EOF
all:\\
	:big4:big6:
big4:\\
	:black:\\
	:msg="Your address %A is in big4":\\
	:method=file:\\
	:file=$T/v4.txt:
big6:\\
	:black:\\
	:msg="Your address %A is in big6":\\
	:method=file:\\
	:file=$T/v6.txt:
EOF
# Removal: spamd-setup never sends an empty list, so big4 and big6 are
# emptied over the configuration socket; tiny comes with spamd-setup.
printf '127.0.0.5\n' >"$T/tiny.txt"
cat >"$T/tiny.conf" <<EOF
all:\\
	:tiny:
tiny:\\
	:black:\\
	:msg="Your address %A is in tiny":\\
	:method=file:\\
	:file=$T/tiny.txt:
EOF
printf 'example.com\n' >"$T/allowed"

smtp_pid() {	# the spamd-smtp child of $SPAMD_PID (itself with -b)
	local p
	for p in $SPAMD_PID $(cat /proc/$SPAMD_PID/task/*/children 2>/dev/null); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = spamd-smtp ] && { echo "$p"; return; }
	done
}
check_alive() {
	[ "$(smtp_pid)" = "$SMTP" ] || { tail -n 20 "$LOG"; fail "$1: the SMTP process $SMTP is gone (now '$(smtp_pid)')"; }
	grep -q 'killed by the sandbox' "$LOG" && { grep 'killed by the sandbox' "$LOG"; fail "$1: killed by the sandbox"; }
	return 0
}
# load CONF: spamd-setup in the background while clients probe the banner.
load() {
	local n0 i=0
	n0=$(grep -c 'configuration connection from uid 0' "$LOG")
	"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$1" 2>"$T/setup.err" &
	local sp=$!
	while [ "$(grep -c 'configuration connection from uid 0' "$LOG")" -le "$n0" ]; do
		[ $i -lt 1500 ] || fail "list set $1 not applied after 150 s"
		chat 127.0.0.1 -s 127.0.0.3 <<<$'timeout 20\nexpect 220' >/dev/null ||
			{ sleep 0.5; check_alive "loading $1"; fail "no banner while loading $1"; }
		i=$((i + 1))
		sleep 0.1
	done
	wait $sp || { cat "$T/setup.err"; fail "spamd-setup -c $1"; }
	if [ "$1" = "$T/tiny.conf" ]; then
		python3 - "$SPAMD_SOCK" <<'PY' || fail "emptying big4 and big6"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall(b'big4;"gone";inet;0\nbig6;"gone";inet6;0\n')
s.shutdown(socket.SHUT_WR)
print(s.recv(4096).decode(errors="replace").strip())
PY
		n0=$((n0 + 1))
		wait_for 30 sh -c "[ \$(grep -c 'configuration connection from uid 0' '$LOG') -gt $((n0)) ]" ||
			fail "emptying big4 and big6 not applied"
		expect_grep 'list big4: 0 IPv4 and 0 IPv6 blocks loaded' "$LOG"
	fi
	expect_grep 'configuration connection from uid 0 .* 0 rejected' "$LOG"
	check_alive "loading $1"
}
# listed SRC CODE TEXT: a listed client: 354 at DATA, then CODE TEXT.
listed() {
	chat 127.0.0.1 -s "$1" <<EOF || fail "listed client $1"
timeout 30
expect 220
send HELO spam.example
expect 250
send MAIL FROM:<s@spam.example>
expect 250
send RCPT TO:<v@example.com>
expect 250
send DATA
expect 354
send Subject: x
send
send .
expect $2 $3
EOF
}
# grey SRC [DST]: greylisted (or, at the -M address, trapped): 451.
grey() {
	chat "${2:-127.0.0.1}" -s "$1" <<EOF || fail "greylisted client $1"
timeout 30
expect 220
send HELO good.example
expect 250
send MAIL FROM:<a@good.example>
expect 250
send RCPT TO:<${3:-b@example.com}>
expect 250
send DATA
expect 451
EOF
}

LOG=$T/spamd.log
spamd_start -s 1ms -S 1 -B 1 -w 2048 -T 30 -A "$T/allowed" -M 127.0.0.10
SMTP=$(smtp_pid)
[ -n "$SMTP" ] || fail "no spamd-smtp process"
seccomp=$(awk '$1 == "Seccomp:" { print $2 }' /proc/$SMTP/status)
if [ "$seccomp" = 2 ]; then
	echo "spamd-smtp $SMTP: seccomp filter on"
else
	echo "spamd-smtp $SMTP: Seccomp: $seccomp, filter off (sanitizer build): behaviour only"
	case $BIN in *build-san*) ;; *) fail "the normal build runs spamd-smtp without its filter" ;; esac
fi

# REALSIZE_STRACE=FILE: count the SMTP process's system calls (the audit
# in spamd/sandbox.c's header); FILE.b for the -b run.
if [ -n "${REALSIZE_STRACE:-}" ]; then
	strace -f -c -o "$REALSIZE_STRACE" -p "$SMTP" 2>/dev/null &
	at_exit "kill $! 2>/dev/null"
	sleep 1
fi
for round in 1 2 3; do
	t0=$(date +%s)
	gen $round
	load "$T/full.conf"
	expect_grep "list big4: $((N4 + 1)) IPv4 and 0 IPv6 blocks loaded" "$LOG"
	expect_grep "list big6: 0 IPv4 and $N6 IPv6 blocks loaded" "$LOG"
	listed 127.0.0.2 450 "450 Your address 127.0.0.2 is in big4"
	grey 127.0.0.3
	grey 127.0.0.2$round 127.0.0.10		# the -M address: trapped
	grey 127.0.0.3$round 127.0.0.1 x@elsewhere.example	# outside -A: trapped
	check_alive "round $round, full lists"
	load "$T/tiny.conf"
	grey 127.0.0.2				# no longer listed
	listed 127.0.0.5 450 "450 Your address 127.0.0.5 is in tiny"
	check_alive "round $round, lists removed"
	echo "round $round: $(( $(date +%s) - t0 )) s"
done
for round in 1 2 3; do
	expect_grep "Trapping 127\.0\.0\.2$round" "$LOG"
	expect_grep "Trapping 127\.0\.0\.3$round" "$LOG"
done
spamd_stop

# -b (no greylister), -5, --log FILE (the same file spamd_start reads):
# the same lists once more.
: >"$LOG"
spamd_start -b -5 -s 0 --log "$LOG"
SMTP=$(smtp_pid)
[ -n "$SMTP" ] || fail "no spamd-smtp process with -b"
if [ -n "${REALSIZE_STRACE:-}" ]; then
	strace -f -c -o "$REALSIZE_STRACE.b" -p "$SMTP" 2>/dev/null &
	at_exit "kill $! 2>/dev/null"
	sleep 1
fi
load "$T/full.conf"
listed 127.0.0.2 550 "550 Your address 127.0.0.2 is in big4"
load "$T/tiny.conf"
listed 127.0.0.5 550 "550 Your address 127.0.0.5 is in tiny"
check_alive "-b -5 --log file"
expect_grep "list big4: $((N4 + 1)) IPv4 and 0 IPv6 blocks loaded" "$LOG"
spamd_stop
pass "real-size lists loaded, replaced and removed 3 times under the filter; SMTP process kept"
