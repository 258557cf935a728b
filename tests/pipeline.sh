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
#
# Everything is removed at exit: processes, namespaces, files.

PL_MX4=192.0.2.25
PL_MX6=2001:db8::25
PL_S4=192.0.2.10
PL_S6=2001:db8::10

pl_setup() {
	need_root
	need_cmd nft postfix smtp-sink
	ensure_spamd_user
	PL_SNS=$(ns_new sender)
	PL_MNS=$(ns_new mx)
	ns_link "$PL_SNS" "$PL_S4/24" "$PL_MNS" "$PL_MX4/24" "$PL_S6/64" "$PL_MX6/64"
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
	chown postfix "$d/data"
	postfix -c "$d" set-permissions >/dev/null 2>&1 || true
	ip netns exec "$PL_SNS" postfix -c "$d" start >"$T/postfix-start.log" 2>&1 ||
		{ cat "$T/postfix-start.log"; fail "postfix start"; }
	at_exit "ip netns exec '$PL_SNS' postfix -c '$d' stop >/dev/null 2>&1"
	PL_PFDIR=$d
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
