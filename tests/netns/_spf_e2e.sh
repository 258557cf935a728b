#!/bin/bash
# _spf_e2e.sh FAMILY: a pooled sender whose SPF record spamd-setup walked
# reaches the real MTA at its first attempt. dnsmasq in the MX namespace
# publishes sender.example's SPF record (its /24 and /64); spamd-setup
# (a :spfwalk: list, its resolv.conf bind-mounted in a private mount
# namespace) fills spamd_spf(6) of nft/spamd.nft; a real Postfix in the
# sender namespace then relays a message over IPv4 (4) or IPv6 (6): it is
# sent at once, never deferred, and spamd never sees the sender. Sourced
# by spf_e2e4.sh and spf_e2e6.sh.
. tests/lib.sh
. tests/pipeline.sh
need_cmd dnsmasq unshare mount
[ -e /etc/resolv.conf ] || skip "no /etc/resolv.conf to bind-mount over"
t_tmp
fam=$1
if [ "$fam" = 4 ]; then
	mx=$PL_MX4 sx=$PL_S4 set=spamd_spf want=192.0.2.0/24
else
	mx=$PL_MX6 sx=$PL_S6 set=spamd_spf6 want=2001:db8::/64
fi
pl_setup
printf 'txt-record=sender.example,"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 -all"\n' \
	>"$T/zones.conf"
pl_mx dnsmasq --keep-in-foreground --conf-file="$T/zones.conf" \
	--no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
	--port=53 --local=/example/ --user=nobody --group=nogroup \
	--log-facility="$T/dnsmasq.log" &
at_exit "kill $! 2>/dev/null"
wait_for 10 grep -q 'started, version' "$T/dnsmasq.log" ||
	{ cat "$T/dnsmasq.log"; fail "dnsmasq did not start"; }
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$T/resolv.conf"
echo sender.example >"$T/bigmailers"
cat >"$T/spamd.conf" <<EOF
all:\\
	:bigmailers:
bigmailers:\\
	:spfwalk:\\
	:file=$T/bigmailers:
EOF
pl_spamd -G 1h:4h:1d -s 0
pl_mx unshare --mount -- sh -c \
	'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh \
	"$T/resolv.conf" "$BIN/spamd-setup" --socket "$T/spamd.sock" \
	-c "$T/spamd.conf" --spf-state "$T/spf.state" >"$T/setup.log" 2>&1 ||
	{ cat "$T/setup.log"; fail "spamd-setup"; }
pl_mx nft list set inet spamd $set | tee "$T/set"
grep -q "$want" "$T/set" || fail "$want not in $set"

pl_sender "[$mx]"
pl_send alice@sender.example bob@mx.example "a big sender over IPv$fam"
pl_wait_log 'status=sent \(250 ' 30 ||
	{ cat "$T/maillog" "$T/spamd.log"; fail "not delivered"; }
grep -E 'status=(deferred|sent)' "$T/maillog"
grep -q 'status=deferred' "$T/maillog" && fail "the big sender was deferred"
grep -q "$sx: connected" "$T/spamd.log" && fail "spamd saw the big sender"
pass "a sender in a walked SPF range reached the MTA at once over IPv$fam"
