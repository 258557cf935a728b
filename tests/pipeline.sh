# pipeline.sh: the whole suite in two network namespaces, for the
# end-to-end tests and for `make demo`. Source it after tests/lib.sh.
#
#	pl_setup FAMILY		namespaces "sender" and "mx" joined by a veth:
#				sender 192.0.2.10 / 2001:db8::10,
#				MX 192.0.2.25 / 2001:db8::25; nft/spamd.nft in
#				MX; a real MTA (smtp-sink) on MX port 25
#	pl_spamd ARGS...	spamd in MX (database $T/db/spamd.db)
#	pl_spamlogd ARGS...	spamlogd in MX
#	pl_sender RELAY		a real Postfix in the sender namespace relaying
#				everything to RELAY ("[192.0.2.25]" or
#				"[2001:db8::25]"), retrying every few seconds,
#				logging to $T/maillog
#	pl_send FROM TO SUBJECT	inject one message into the sender's Postfix
#	pl_wait_log REGEX SECS	wait until the sender's maillog matches
#	pl_mx CMD...		run a command in the MX namespace
#	pl_e2e_postfix 4|6	the whole end-to-end check over one family
#	pl_net			only the namespaces and their link (no nft, no
#				MTA): what policy mode needs
#	pl_receiver POLICY	a real Postfix as the MX on port 25, asking
#				spamd's policy service POLICY ("inet:..." or
#				"unix:private/...") at RCPT; mail lands in
#				$T/mail/mailbox, its log in $T/maillog-mx
#	pl_e2e_policy 4|6 POLICY	the whole policy-mode check over one
#				family (spamd -P with --policy-only)
#	pl_tls_cert		a P-256 certificate for mx.example in
#				$T/tls (mx.crt, mx.key), readable by _spamd
#	pl_e2e_tls 4|6		a sender that requires TLS, through spamd's
#				STARTTLS, to a real Postfix MX speaking TLS
#
# PL_SENDER_BIND=ADDR before pl_sender makes it connect from ADDR;
# PL_SENDER_TLS=LEVEL before pl_sender sets its smtp_tls_security_level
# (and logs its TLS sessions); PL_TLS=1 before pl_receiver gives the MX
# the certificate of pl_tls_cert; pl_receiver "" asks no policy service.
#
# Everything is removed at exit: processes, namespaces, files.

PL_MX4=192.0.2.25
PL_MX6=2001:db8::25
PL_S4=192.0.2.10
PL_S6=2001:db8::10

pl_net() {
	need_root
	need_cmd postfix
	ensure_spamd_user
	PL_SNS=$(ns_new sender)
	PL_MNS=$(ns_new mx)
	ns_link "$PL_SNS" "$PL_S4/24" "$PL_MNS" "$PL_MX4/24" "$PL_S6/64" "$PL_MX6/64"
}

pl_setup() {
	need_cmd nft smtp-sink
	pl_net
	ip netns exec "$PL_MNS" nft -f nft/spamd.nft || fail "load nft/spamd.nft in $PL_MNS"
	mkdir -p "$T/db" "$T/sink"
	chown _spamd: "$T/db"
	chown postfix "$T/sink"
	# A real MTA on port 25, one per family.
	ip netns exec "$PL_MNS" smtp-sink -u postfix -h mx.example \
		-c "$PL_MX4:25" 100 >"$T/sink4.log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	ip netns exec "$PL_MNS" smtp-sink -u postfix -h mx.example \
		-c "[$PL_MX6]:25" 100 >"$T/sink6.log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
}

pl_mx() {
	ip netns exec "$PL_MNS" "$@"
}

pl_spamd() {
	DB=$T/db/spamd.db
	_nlisten=$(grep -c 'listening for incoming connections' "$T/spamd.log" 2>/dev/null)
	ip netns exec "$PL_MNS" "$BIN/spamd" -d -f "$DB" -h mx.example \
		--config-socket "$T/spamd.sock" "$@" \
		2>>"$T/spamd.log" &
	PL_SPAMD_PID=$!
	at_exit "kill $PL_SPAMD_PID 2>/dev/null; wait $PL_SPAMD_PID 2>/dev/null"
	wait_for 10 sh -c "[ \$(grep -c 'listening for incoming connections' '$T/spamd.log') -gt ${_nlisten:-0} ]" ||
		{ cat "$T/spamd.log"; fail "spamd did not start"; }
}

pl_spamlogd() {
	ip netns exec "$PL_MNS" "$BIN/spamlogd" -D -f "$T/db/spamd.db" "$@" \
		2>>"$T/spamlogd.log" &
	PL_SPAMLOGD_PID=$!
	at_exit "kill $PL_SPAMLOGD_PID 2>/dev/null; wait $PL_SPAMLOGD_PID 2>/dev/null"
}

pl_sender() {
	local relay=$1 d=$T/postfix
	mkdir -p "$d/queue" "$d/data"
	cp /etc/postfix/master.cf "$d/master.cf"
	cat >"$d/main.cf" <<EOF
compatibility_level = 3.6
myhostname = sender.example
mydomain = example
myorigin = sender.example
mydestination =
relayhost = $relay
inet_interfaces = loopback-only
inet_protocols = all
smtp_dns_support_level = disabled
smtp_address_preference = any
queue_directory = $d/queue
data_directory = $d/data
alternate_config_directories = $d
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
smtp_connect_timeout = 10s
maillog_file_prefixes = /var, /tmp, $T
maillog_file = $T/maillog
EOF
	if [ -n "${PL_SENDER_BIND:-}" ]; then
		case $PL_SENDER_BIND in
		*:*) echo "smtp_bind_address6 = $PL_SENDER_BIND" >>"$d/main.cf" ;;
		*) echo "smtp_bind_address = $PL_SENDER_BIND" >>"$d/main.cf" ;;
		esac
	fi
	if [ -n "${PL_SENDER_TLS:-}" ]; then
		cat >>"$d/main.cf" <<EOF
smtp_tls_security_level = $PL_SENDER_TLS
smtp_tls_loglevel = 1
EOF
	fi
	chown postfix "$d/data"
	postfix -c "$d" set-permissions >/dev/null 2>&1 || true
	ip netns exec "$PL_SNS" postfix -c "$d" start >"$T/postfix-start.log" 2>&1 ||
		{ cat "$T/postfix-start.log"; fail "postfix start"; }
	at_exit "ip netns exec '$PL_SNS' postfix -c '$d' stop >/dev/null 2>&1"
	PL_PFDIR=$d
}

pl_receiver() {
	local policy=$1 d=$T/postfix-mx pol=""
	[ -n "$policy" ] && pol=",
	check_policy_service { $policy, timeout=10s, default_action=DUNNO }"
	mkdir -p "$d/queue" "$d/data" "$T/mail"
	chown postfix: "$T/mail"
	cp /etc/postfix/master.cf "$d/master.cf"
	cat >"$d/main.cf" <<EOF
compatibility_level = 3.6
myhostname = mx.example
mydomain = example
mydestination =
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination$pol
virtual_mailbox_domains = mx.example
virtual_mailbox_base = $T/mail
virtual_mailbox_maps = static:mailbox
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
queue_directory = $d/queue
data_directory = $d/data
alternate_config_directories = $d
maillog_file_prefixes = /var, /tmp, $T
maillog_file = $T/maillog-mx
EOF
	if [ -n "${PL_TLS:-}" ]; then
		cat >>"$d/main.cf" <<EOF
smtpd_tls_security_level = may
smtpd_tls_chain_files = $T/tls/mx.key, $T/tls/mx.crt
smtpd_tls_loglevel = 1
EOF
	fi
	chown postfix "$d/data"
	postfix -c "$d" set-permissions >/dev/null 2>&1 || true
	ip netns exec "$PL_MNS" postfix -c "$d" start >"$T/postfix-mx-start.log" 2>&1 ||
		{ cat "$T/postfix-mx-start.log"; fail "postfix (MX) start"; }
	at_exit "ip netns exec '$PL_MNS' postfix -c '$d' stop >/dev/null 2>&1"
	PL_MXDIR=$d
}

pl_send() {
	printf 'From: %s\nTo: %s\nSubject: %s\n\nA real message through a real Postfix.\n' \
		"$1" "$2" "$3" |
		ip netns exec "$PL_SNS" sendmail -C "$PL_PFDIR" -f "$1" "$2" ||
		fail "sendmail"
}

pl_wait_log() {
	wait_for "$2" grep -Eq "$1" "$T/maillog"
}

# pl_e2e_postfix 4|6: a real Postfix in the sender namespace relays a
# message to the MX (nft/spamd.nft, spamd -G 5s:1h:1d, smtp-sink on 25).
# The first attempt is deferred with spamd's 451; the retry after
# passtime whitelists the sender at once; the next attempt reaches the
# real MTA and is sent. Checks the maillog, spamdb and the nft set.
pl_e2e_postfix() {
	local fam=$1 mx sx set rx
	if [ "$fam" = 4 ]; then
		mx=$PL_MX4 sx=$PL_S4 set=spamd_white
	else
		mx=$PL_MX6 sx=$PL_S6 set=spamd_white6
	fi
	rx=$(printf '%s' "$mx[$mx]" | sed 's/[].[]/\\&/g')
	pl_setup
	pl_spamd -G 5s:1h:1d -s 0
	pl_sender "[$mx]"
	pl_send alice@sender.example bob@mx.example "greylisting over IPv$fam"

	pl_wait_log "status=deferred \\(host $rx said: 451 Temporary failure, please try again later\\. \\(in reply to DATA command\\)\\)" 30 ||
		{ cat "$T/maillog" "$T/spamd.log"; fail "no 451 deferral"; }
	pl_wait_log 'status=sent \(250 ' 60 ||
		{ cat "$T/maillog" "$T/spamd.log"; fail "never delivered"; }
	grep -E 'status=(deferred|sent)' "$T/maillog"
	grep -E 'status=(deferred|sent)' "$T/maillog" | head -1 | grep -q 'status=deferred' ||
		fail "the first attempt was not deferred"
	grep 'status=sent' "$T/maillog" | grep -q "relay=$mx\[$mx\]:25" ||
		fail "delivered through another relay"

	"$BIN/spamdb" -f "$DB" | tee "$T/spamdb"
	grep -q "^WHITE|$sx|||" "$T/spamdb" || fail "no WHITE record for $sx"
	grep -q "^GREY|$sx|sender.example|<alice@sender.example>|<bob@mx.example>|" "$T/spamdb" ||
		fail "no GREY tuple for $sx"
	pl_mx nft list set inet spamd $set | tee "$T/set"
	grep -q "$sx timeout 1d" "$T/set" || fail "$sx not in $set"
	expect_grep "whitelisting $sx" "$T/spamd.log"
}

# pl_e2e_policy 4|6 POLICY: policy mode end to end. A real Postfix sender
# sends one message to two recipients to a real Postfix MX that asks
# spamd -P --policy-only (POLICY: "inet" for 127.0.0.1:10023, or "unix"
# for private/spamd-policy in its queue directory). No nft at all. The
# first attempt is deferred with the greylisting text at RCPT (Postfix's
# 450 4.2.0); the retry after passtime is accepted, with one X-Greylist
# header, and lands in the mailbox. Checks both maillogs and spamdb.
pl_e2e_policy() {
	local fam=$1 kind=$2 mx sx rx spec sock
	if [ "$fam" = 4 ]; then
		mx=$PL_MX4 sx=$PL_S4
	else
		mx=$PL_MX6 sx=$PL_S6
	fi
	rx=$(printf '%s' "$mx[$mx]" | sed 's/[].[]/\\&/g')
	pl_net
	if [ "$kind" = inet ]; then
		spec=inet:127.0.0.1:10023 sock=127.0.0.1:10023
	else
		spec=unix:private/spamd-policy
		sock=$T/postfix-mx/queue/private/spamd-policy
	fi
	pl_receiver "$spec"
	wait_for 10 test -d "$T/postfix-mx/queue/private" || fail "no private/"
	DB=$T/db/spamd.db
	mkdir -p "$T/db"
	chown _spamd: "$T/db"
	pl_spamd -G 5s:1h:1d --policy-only -P "$sock" -v
	pl_sender "[$mx]"
	pl_send alice@sender.example "bob@mx.example, carol@mx.example" \
		"policy mode over IPv$fam"

	pl_wait_log "status=deferred \\(host $rx said: 450 4\\.2\\.0 <(bob|carol)@mx\\.example>: Recipient address rejected: Greylisted, please try again in [0-9]+ seconds \\(in reply to RCPT TO command\\)\\)" 30 ||
		{ cat "$T/maillog" "$T/maillog-mx" "$T/spamd.log"; fail "no 450 deferral at RCPT"; }
	pl_wait_log 'to=<carol@mx\.example>.*status=sent \(250 ' 60 ||
		{ cat "$T/maillog" "$T/maillog-mx" "$T/spamd.log"; fail "never delivered"; }
	pl_wait_log 'to=<bob@mx\.example>.*status=sent \(250 ' 10 ||
		{ cat "$T/maillog" "$T/spamd.log"; fail "bob never delivered"; }
	grep -E 'status=(deferred|sent)' "$T/maillog"
	grep -E 'status=(deferred|sent)' "$T/maillog" | head -1 | grep -q 'status=deferred' ||
		fail "the first attempt was not deferred"
	wait_for 10 grep -q '^X-Greylist:' "$T/mail/mailbox" ||
		fail "no X-Greylist header in the mailbox"
	grep '^X-Greylist:' "$T/mail/mailbox"
	# One mbox holds both recipients' copies: one header in each (a
	# PREPEND per RCPT would put two in every copy).
	[ "$(grep -c '^Subject: policy mode' "$T/mail/mailbox")" = 2 ] ||
		fail "not one copy per recipient in the mailbox"
	[ "$(grep -c '^X-Greylist:' "$T/mail/mailbox")" = 2 ] ||
		fail "two copies, $(grep -c '^X-Greylist:' "$T/mail/mailbox") X-Greylist headers"
	grep -Eq '^X-Greylist: delayed [0-9]+ seconds by spamd at mx\.example; ' "$T/mail/mailbox" ||
		fail "X-Greylist header not as expected"

	"$BIN/spamdb" -f "$DB" | tee "$T/spamdb"
	grep -q "^WHITE|$sx|||" "$T/spamdb" || fail "no WHITE record for $sx"
	grep -q "^GREY|$sx|sender.example|<alice@sender.example>|<bob@mx.example>|" "$T/spamdb" ||
		fail "no GREY tuple for $sx"
	expect_grep "whitelisting $sx \\(policy request, delayed [0-9]+ s\\)" "$T/spamd.log"
}

pl_tls_cert() {
	need_cmd openssl
	mkdir -p "$T/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/tls/mx.key" -out "$T/tls/mx.crt" -days 30 \
		-subj /CN=mx.example -addext subjectAltName=DNS:mx.example \
		2>/dev/null || fail "openssl req"
	chgrp _spamd "$T/tls/mx.key" && chmod 640 "$T/tls/mx.key" ||
		fail "key permissions"
}

# pl_e2e_tls 4|6: a real Postfix sender with smtp_tls_security_level =
# encrypt (it defers rather than send in clear) relays a message through
# nft/spamd.nft to the MX. spamd offers STARTTLS with the MX's own
# certificate: the first attempt is deferred with 451 at DATA inside
# TLS, the tuple is recorded, the retry after passtime whitelists the
# sender, and the next attempt reaches the real MTA, a Postfix that
# speaks TLS too, and lands in its mailbox.
pl_e2e_tls() {
	local fam=$1 mx sx rx
	if [ "$fam" = 4 ]; then
		mx=$PL_MX4 sx=$PL_S4
	else
		mx=$PL_MX6 sx=$PL_S6
	fi
	rx=$(printf '%s' "$mx[$mx]" | sed 's/[].[]/\\&/g')
	need_cmd nft
	pl_net
	ip netns exec "$PL_MNS" nft -f nft/spamd.nft || fail "load nft/spamd.nft in $PL_MNS"
	pl_tls_cert
	PL_TLS=1 pl_receiver ""
	DB=$T/db/spamd.db
	mkdir -p "$T/db"
	chown _spamd: "$T/db"
	pl_spamd -G 5s:1h:1d -s 0 -v -C "$T/tls/mx.crt" -K "$T/tls/mx.key"
	PL_SENDER_TLS=encrypt pl_sender "[$mx]"
	pl_send alice@sender.example bob@mx.example "TLS required, over IPv$fam"

	pl_wait_log "status=deferred \\(host $rx said: 451 Temporary failure, please try again later\\. \\(in reply to DATA command\\)\\)" 30 ||
		{ cat "$T/maillog" "$T/spamd.log"; fail "no 451 deferral"; }
	pl_wait_log 'status=sent \(250 ' 60 ||
		{ cat "$T/maillog" "$T/maillog-mx" "$T/spamd.log"; fail "never delivered"; }
	grep -E 'status=(deferred|sent)|TLS connection established' "$T/maillog"
	grep -q 'TLS is required, but was not offered' "$T/maillog" &&
		fail "the sender found no STARTTLS"
	grep -E 'status=(deferred|sent)' "$T/maillog" | head -1 | grep -q 'status=deferred' ||
		fail "the first attempt was not deferred"
	# Every attempt went over TLS: spamd's and the MX's.
	[ "$(grep -c "TLS connection established to $rx:25" "$T/maillog")" -ge 3 ] ||
		fail "fewer than three TLS sessions (two with spamd, one with the MX)"
	grep -q "TLS connection established from .*$sx" "$T/maillog-mx" ||
		fail "the MX saw no TLS session"
	wait_for 10 grep -q "^Subject: TLS required, over IPv$fam" "$T/mail/mailbox" ||
		fail "not in the mailbox"

	"$BIN/spamdb" -f "$DB" | tee "$T/spamdb"
	grep -q "^WHITE|$sx|||" "$T/spamdb" || fail "no WHITE record for $sx"
	grep -q "^GREY|$sx|sender.example|<alice@sender.example>|<bob@mx.example>|" "$T/spamdb" ||
		fail "no GREY tuple for $sx"
	expect_grep "$sx: TLS handshake done: TLSv1\\.[23] " "$T/spamd.log"
	expect_grep "whitelisting $sx" "$T/spamd.log"
}
