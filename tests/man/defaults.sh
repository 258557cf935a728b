#!/bin/bash
# defaults.sh: one settings file, /etc/default/spamd, sets the whitelist
# lifetime for every program that needs it. make install puts it in place
# (never over an edited one); spamd.service, spamlogd.service and
# spamd-nftsync.service read it (EnvironmentFile=-) and the cron line
# sources it. Changing WHITEEXP there once must change spamd's -G
# whiteexp, spamlogd's -W and spamd-nftsync's -W alike, and each program
# must accept the value. The units' ExecStart lines are expanded here as
# systemd does for these simple forms (Environment= first, then the file).
# timeout: 60
. tests/lib.sh
need_cmd make
t_tmp
R=$T/root

make --no-print-directory -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-0}" \
	install DESTDIR="$R" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "make install DESTDIR=$R failed"; }
DEF=$R/etc/default/spamd
[ -f "$DEF" ] || fail "make install put no /etc/default/spamd"
expect_grep '^WHITEEXP=' "$DEF"
U=$R/usr/local/lib/systemd/system
for u in spamd spamlogd spamd-nftsync spamd-setup; do
	expect_grep '^EnvironmentFile=-/etc/default/spamd$' "$U/$u.service"
done

# expand UNIT: its ExecStart command line under the settings file.
expand() {
	local envs cmd
	envs=$(sed -n 's/^Environment=//p' "$U/$1.service")
	cmd=$(sed -n 's/^ExecStart=\(.\)/\1/p' "$U/$1.service")
	(set -a; eval "$envs"; . "$DEF"; eval "printf '%s\n' $cmd")
}

sed -i 's/^WHITEEXP=.*/WHITEEXP=10d/' "$DEF"
expand spamd >"$T/spamd.args"
expand spamlogd >"$T/spamlogd.args"
expand spamd-nftsync >"$T/nftsync.args"
cat "$T"/*.args | tr '\n' ' '; echo
grep -qx -- '-G' "$T/spamd.args" && grep -qE '^[^:]+:[^:]+:10d$' "$T/spamd.args" ||
	fail "spamd.service does not take its whiteexp from WHITEEXP"
grep -A1 -x -- '-W' "$T/spamlogd.args" | grep -qx 10d ||
	fail "spamlogd.service does not take -W from WHITEEXP"
grep -A1 -x -- '-W' "$T/nftsync.args" | grep -qx 10d ||
	fail "spamd-nftsync.service does not take -W from WHITEEXP"
# The cron line sources the same file.
cron=$(grep -v '^#' "$R/etc/cron.d/spamd-nftsync" | grep 'spamd-nftsync')
grep -q '/etc/default/spamd' <<<"$cron" || fail "the cron line does not read /etc/default/spamd"
grep -q 'WHITEEXP' <<<"$cron" || fail "the cron line does not pass WHITEEXP"
pass "WHITEEXP reaches spamd -G, spamlogd -W and spamd-nftsync -W"

# Each program accepts the expanded options (an invalid option after them
# stops it with usage; a bad -G or -W would be reported first).
for p in spamd spamlogd spamd-nftsync; do
	f=$T/${p#spamd-}.args
	[ "$p" = spamd-nftsync ] && f=$T/nftsync.args
	mapfile -t args <"$f"
	"$BIN/$p" "${args[@]:1}" -Z >/dev/null 2>"$T/err" && fail "$p ran"
	head -n1 "$T/err" | grep -q "option.*Z" || { cat "$T/err"; fail "$p refused the settings"; }
	grep -q '^usage:' "$T/err" || { cat "$T/err"; fail "$p: no usage for -Z"; }
done
pass "spamd, spamlogd and spamd-nftsync accept the settings"

# A second install keeps the edited settings file.
make --no-print-directory -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-0}" \
	install DESTDIR="$R" >"$T/install2.log" 2>&1 || fail "second install failed"
expect_grep '^WHITEEXP=10d$' "$DEF"
pass "an edited /etc/default/spamd survives make install"
