#!/bin/bash
# demo.sh: `make demo`. Greylisting end to end, narrated as it happens.
#
# Two private network namespaces joined by a veth pair (tests/pipeline.sh):
# "sender" (192.0.2.10) runs a real Postfix; "mx" (192.0.2.25) runs
# nft/spamd.nft, spamd with short times (-G 5s:1h:1d) and a visible stutter
# (-s 20ms -S 2), spamlogd, and a real SMTP server on port 25 (Postfix's
# smtp-sink). One message goes from sender to MX: its first attempt is
# redirected to spamd and deferred with 451, a retry after 5 s passes and
# whitelists the sender at once (nft set), and the next attempt reaches the
# real MTA. The script prints each step, spamdb before and after, and the
# nft set; it exits 0 only if the whole cycle happened, else 1 with the
# reason. Everything it made (processes, namespaces, files) is removed at
# exit, Ctrl-C included; the host's own ruleset and interfaces are never
# touched. It keeps the _spamd system user if it had to create it.
#
# With TLS=1 (make demo TLS=1, or DEMO_TLS=1 here) the sender requires
# TLS (Postfix's smtp_tls_security_level = encrypt): spamd offers
# STARTTLS with the MX's certificate (-C, -K) and the real MTA is a
# Postfix that speaks TLS too; every attempt is encrypted.
#
# Run from the top of the source tree as root, after a build:
#	make demo [TLS=1]		(installs packages, builds, runs this)
#	O=build bash tests/demo.sh	(just this)
# timeout: 90
. tests/lib.sh
. tests/pipeline.sh

DEMO_LIMIT=60		# seconds for the whole mail cycle
FROM=alice@sender.example
TO=bob@mx.example

exec 3>&1
say() { printf '%s\n' "$*" >&3; }
t0=$(date +%s.%N)
secs() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }
ts() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "[%5.1fs]", b - a }'; }
step() { say ""; say "$(ts) $*"; }
indent() { sed 's/^/          /' >&3; }
die() {
	say ""
	say "DEMO FAILED: $*"
	for f in maillog spamd.log spamlogd.log; do
		[ -s "${T:-/nonexistent}/$f" ] || continue
		say "--- last lines of $f:"
		tail -n 15 "$T/$f" | indent
	done
	exit 1
}

[ "$(id -u)" = 0 ] || die "make demo must run as root: it creates network namespaces and loads nftables rules in them"
for c in ip nft postfix smtp-sink sendmail; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing; run make deps (it installs the Debian packages)"
done
for p in spamd spamdb spamlogd; do
	[ -x "$BIN/$p" ] || die "$BIN/$p is missing; build first (make)"
done
had_user=0
id _spamd >/dev/null 2>&1 && had_user=1

trap 'say ""; say "interrupted: cleaning up"; exit 130' INT TERM
t_tmp
at_exit "echo 'demo: stopped every process and removed the namespaces and $T' >&3"

say "spamd for Linux: greylisting, end to end, in two private network namespaces."
say "Nothing here touches this host's firewall or interfaces."

step "Setting up: namespace \"sender\" (192.0.2.10) and namespace \"mx\" (192.0.2.25),"
if [ -n "${DEMO_TLS:-}" ]; then
	say "          joined by a veth pair; nft/spamd.nft loaded in mx; a real Postfix with"
	say "          STARTTLS (a self-signed certificate for mx.example) listening on port 25 of mx."
	pl_net
	pl_mx nft -f nft/spamd.nft || die "cannot load nft/spamd.nft in the mx namespace"
	pl_tls_cert
	PL_TLS=1 pl_receiver ""
	mkdir -p "$T/db" && chown _spamd: "$T/db"
	TLS_OPTS="-C $T/tls/mx.crt -K $T/tls/mx.key"
else
	say "          joined by a veth pair; nft/spamd.nft loaded in mx; a real SMTP server"
	say "          (Postfix's smtp-sink) listening on port 25 of mx."
	pl_setup
	TLS_OPTS=
fi
say "          (namespaces $PL_SNS and $PL_MNS, files in $T)"
[ "$had_user" = 1 ] || say "          (created the system user _spamd, which spamd runs as; it is kept)"
say "          The redirect in front of port 25, from nft list chain inet spamd prerouting:"
pl_mx nft list chain inet spamd prerouting | grep -E 'tcp dport 25' | sed 's/^[[:space:]]*//' | indent

step "Starting spamd on port 8025 of mx: passtime 5 s, greylist entries kept 1 h, whitelist 1 d,"
say "          stuttering 20 ms per character during the first 2 s of a connection:"
say "          spamd -d -G 5s:1h:1d -s 20ms -S 2 -h mx.example${TLS_OPTS:+ -C mx.crt -K mx.key}"
[ -z "$TLS_OPTS" ] || say "          (-C and -K: spamd offers STARTTLS with the MX's own certificate and key)"
# shellcheck disable=SC2086
pl_spamd -G 5s:1h:1d -s 20ms -S 2 $TLS_OPTS
say "          and spamlogd, which keeps whitelisted hosts whitelisted while they send mail"
say "          (it reads NFLOG group 25, fed by the log rules of spamd.nft):"
say "          spamlogd -D -W 1d"
pl_spamlogd -W 1d
wait_for 5 grep -q 'listening on nflog' "$T/spamlogd.log" ||
	die "spamlogd did not start"

step "spamdb before anything happened:"
n=$("$BIN/spamdb" -f "$DB" | wc -l)
[ "$n" = 0 ] || die "the new database is not empty"
say "          (empty)"

step "Starting a real Postfix in the sender namespace; it relays everything to [192.0.2.25]"
say "          and retries deferred mail every 2 to 4 seconds (a real MTA waits minutes)."
if [ -n "$TLS_OPTS" ]; then
	say "          It requires TLS: smtp_tls_security_level = encrypt (as for a DANE domain);"
	say "          without STARTTLS at spamd it would defer for days and never be greylisted."
	PL_SENDER_TLS=encrypt pl_sender "[192.0.2.25]"
else
	pl_sender "[192.0.2.25]"
fi
step "Sending one message: $FROM -> $TO"
pl_send "$FROM" "$TO" "Hello from make demo"

# Follow the three logs and tell what happens.
nm=0 ns=0 nl=0
deferred=0 passed=0 sent=0 shown_grey=0 shown_stutter=0
t_first="" t_pass="" t_sent=""
news() {	# news FILE COUNTVAR: print the lines added since last time
	local f=$1 var=$2 total
	[ -f "$f" ] || return 0
	total=$(wc -l <"$f")
	if [ "$total" -gt "${!var}" ]; then
		sed -n "$((${!var} + 1)),${total}p" "$f"
		printf -v "$var" '%s' "$total"
	fi
}
deadline=$(( $(date +%s) + DEMO_LIMIT ))
while [ "$sent" = 0 ]; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		die "the message was not delivered within $DEMO_LIMIT seconds"
	news "$T/spamd.log" ns >"$T/new"
	while IFS= read -r line; do
		case $line in
		*192.0.2.10:\ connected*)
			say "$(ts) spamd:   ${line#spamd\[smtp\]: }" ;;
		*192.0.2.10:\ disconnected*)
			say "$(ts) spamd:   ${line#spamd\[smtp\]: }"
			case $line in *tls:*)
				say "          (the whole session, after the 220 to STARTTLS, was encrypted)" ;;
			esac
			if [ "$shown_stutter" = 0 ]; then
				shown_stutter=1
				say "          (its replies came one character every 20 ms for the first 2 s: the stutter)"
			fi
			;;
		*whitelisting\ 192.0.2.10*)
			passed=1
			t_pass=$(secs)
			say "$(ts) spamd:   ${line#spamd\[grey\]: }"
			say "          The retry came more than 5 s after the first attempt: the sender passed."
			say "          spamd put it in the nft set at once:"
			pl_mx nft list set inet spamd spamd_white | grep -E 'elements|192\.0\.2\.10' |
				sed 's/^[[:space:]]*//' | indent
			say "          (this connection still got 451; the next attempt goes to the real MTA)"
			;;
		esac
	done <"$T/new"
	news "$T/spamlogd.log" nl >"$T/new"
	while IFS= read -r line; do
		case $line in
		*"in 192.0.2.10 -> "*)
			say "$(ts) spamlogd: a new connection from the white host to the real MTA: refreshing its entry" ;;
		esac
	done <"$T/new"
	news "$T/maillog" nm >"$T/new"
	while IFS= read -r line; do
		case $line in
		*"TLS connection established to"*)
			say "$(ts) Postfix: ${line#*postfix*/smtp\[*\]: }" ;;
		*status=deferred*)
			deferred=$((deferred + 1))
			[ -n "$t_first" ] || t_first=$(secs)
			why=$(sed -n 's/.*said: \(.*\) (in reply to.*/\1/p' <<<"$line")
			say "$(ts) Postfix: deferred, the MX said: ${why:-?}"
			if [ "$shown_grey" = 0 ]; then
				shown_grey=1
				say "          The sender's maillog:"
				fold -s -w 90 <<<"$line" | indent
				say "          spamd recorded the tuple (address, HELO, sender, recipient); spamdb:"
				wait_for 3 sh -c "'$BIN/spamdb' -f '$DB' | grep -q '^GREY|'"
				"$BIN/spamdb" -f "$DB" | indent
			fi
			;;
		*status=sent*)
			sent=1
			t_sent=$(secs)
			relay=$(sed -n 's/.*relay=\([^,]*\),.*/\1/p' <<<"$line")
			say "$(ts) Postfix: sent, through $relay, the real MTA on port 25: ${line##*status=sent }"
			say "          The sender's maillog:"
			fold -s -w 90 <<<"$line" | indent
			;;
		*status=bounced* | *status=expired*)
			die "Postfix gave up on the message: $line" ;;
		esac
	done <"$T/new"
	[ "$sent" = 1 ] || sleep 0.2
done

step "spamdb after: the GREY tuple, and the WHITE entry that keeps 192.0.2.10 whitelisted"
say "          (spamlogd counted the delivery in its last field and renewed its expiry):"
wait_for 5 grep -q 'WHITE 192\.0\.2\.10: pcount' "$T/spamlogd.log" ||
	say "          (spamlogd has not written its refresh yet)"
"$BIN/spamdb" -f "$DB" | tee "$T/spamdb.after" | indent
say "          (format: GREY|ip|helo|from|to|first|pass|expire|blocked|passed,"
say "                   WHITE|ip|||first|pass|expire|blocked|passed; times in epoch seconds)"

# Did the whole cycle happen?
[ "$deferred" -ge 1 ] || die "the first attempt was not deferred"
grep -E 'status=(deferred|sent)' "$T/maillog" | head -1 | grep -q 'status=deferred' ||
	die "the first delivery attempt was not deferred by spamd"
grep 'status=deferred' "$T/maillog" | head -1 |
	grep -q 'said: 451 Temporary failure, please try again later' ||
	die "the deferral was not spamd's 451"
[ "$passed" = 1 ] || die "spamd never logged that it whitelisted 192.0.2.10"
if [ -n "$TLS_OPTS" ]; then
	grep -q 'TLS is required, but was not offered' "$T/maillog" &&
		die "the sender found no STARTTLS"
	[ "$(grep -c 'TLS connection established to 192\.0\.2\.25' "$T/maillog")" -ge 3 ] ||
		die "not every attempt went over TLS"
fi
grep 'status=sent' "$T/maillog" | grep -q 'relay=192\.0\.2\.25\[192\.0\.2\.25\]:25' ||
	die "the message was delivered through another relay"
grep -q '^WHITE|192\.0\.2\.10|' "$T/spamdb.after" || die "no WHITE entry for 192.0.2.10"
pl_mx nft list set inet spamd spamd_white | grep -q '192\.0\.2\.10' ||
	die "192.0.2.10 is not in the nft set spamd_white"

step "Done: first attempt deferred at $t_first, sender whitelisted at $t_pass, message delivered at $t_sent."
say "          With the default -G 25:4:864 the same happens over about half an hour,"
say "          the usual retry interval of real mail servers. Next: make check, then"
say "          README.md, \"Deploying on a real MX\"."
exit 0
