#!/bin/bash
# nftsync.sh: spamd-nftsync in a private namespace with nft/spamd.nft:
# -n changes nothing; a real run deletes expired records, promotes passed
# tuples of untrapped addresses, keeps SPAMTRAPs, and makes the white sets
# equal the WHITE records with their remaining lifetimes.
# timeout: 60
. tests/lib.sh
need_root
need_cmd nft
t_tmp
NS=$(ns_new nftsync)
ip netns exec "$NS" nft -f nft/spamd.nft || fail "load nft/spamd.nft"
DB=$T/spamd.db

"$TBIN/dbseed" "$DB" <<'EOF' || fail "dbseed"
# expired: all three kinds go
GREY|192.0.2.1|old.example|<a@b>|<c@d>|now-5h|now-1h|now-1h|1|0
WHITE|192.0.2.2|||now-40d|now-40d|now-1d|3|0
TRAPPED|192.0.2.3|now-1m
# live WHITE, v4 and v6
WHITE|192.0.2.4|||now-1d|now-1d|now+35d|2|5
WHITE|2001:db8::4|||now-1d|now-1d|now+2h|2|0
# a passed tuple: promoted
GREY|192.0.2.5|ok.example|<a@b>|<c@d>|now-30m|now-1m|now+3h|2|0
GREY|2001:db8::5|ok6.example|<a@b>|<c@d>|now-30m|now-1m|now+3h|2|0
# passed, but the address is TRAPPED: stays trapped
GREY|192.0.2.6|bad.example|<a@b>|<c@d>|now-30m|now-1m|now+3h|2|0
TRAPPED|192.0.2.6|now+20h
# not passed yet: untouched
GREY|192.0.2.7|new.example|<a@b>|<c@d>|now-1m|now+4h|now+4h|1|0
SPAMTRAP|trap@example.com
EOF
before=$("$BIN/spamdb" -f "$DB" | sort)

out=$(ip netns exec "$NS" "$BIN/spamd-nftsync" -n -f "$DB") || fail "-n failed: $out"
echo "$out"
echo "$out" | grep -q 'would change: 11 records: 3 expired, 0 corrupt, 2 promoted' ||
	fail "dry run summary: $out"
[ "$before" = "$("$BIN/spamdb" -f "$DB" | sort)" ] || fail "-n changed the database"
ip netns exec "$NS" nft list set inet spamd spamd_white | grep -q 'elements' &&
	fail "-n changed the set"

ip netns exec "$NS" "$BIN/spamd-nftsync" -v -f "$DB" >"$T/out" 2>&1 || { cat "$T/out"; fail "run failed"; }
cat "$T/out"
after=$("$BIN/spamdb" -f "$DB" | sort)
echo "$after"
echo "$after" | grep -q '^GREY|192.0.2.1|' && fail "expired GREY kept"
echo "$after" | grep -q '^WHITE|192.0.2.2|' && fail "expired WHITE kept"
echo "$after" | grep -q '^TRAPPED|192.0.2.3|' && fail "expired TRAPPED kept"
echo "$after" | grep -q '^WHITE|192.0.2.5|||' || fail "passed tuple not promoted"
echo "$after" | grep -q '^WHITE|2001:db8::5|||' || fail "passed IPv6 tuple not promoted"
echo "$after" | grep -q '^TRAPPED|192.0.2.6|' || fail "trapped host lost its trap"
echo "$after" | grep -q '^WHITE|192.0.2.6|' && fail "trapped host whitelisted"
echo "$after" | grep -q '^GREY|192.0.2.7|' || fail "pending tuple lost"
echo "$after" | grep -q '^SPAMTRAP|trap@example.com$' || fail "spamtrap lost"

set4=$(ip netns exec "$NS" nft list set inet spamd spamd_white)
set6=$(ip netns exec "$NS" nft list set inet spamd spamd_white6)
echo "$set4" "$set6"
for a in 192.0.2.4 192.0.2.5; do
	echo "$set4" | grep -q "$a" || fail "$a not in spamd_white"
done
for a in 192.0.2.1 192.0.2.2 192.0.2.6 192.0.2.7; do
	echo "$set4" | grep -q "$a " && fail "$a in spamd_white"
done
echo "$set6" | grep -q '2001:db8::4' || fail "2001:db8::4 not in spamd_white6"
echo "$set6" | grep -q '2001:db8::5' || fail "2001:db8::5 not in spamd_white6"
# Timeouts follow the records: 35 days and 2 hours (give or take a second).
echo "$set4" | grep -Eq '192\.0\.2\.4 timeout (34d23h59m5[0-9]s|35d)' ||
	fail "192.0.2.4 timeout is not 35d"
echo "$set6" | grep -Eq '2001:db8::4 timeout (1h59m5[0-9]s|2h)' ||
	fail "2001:db8::4 timeout is not 2h"

# A second run changes nothing in the database and keeps the sets equal.
ip netns exec "$NS" "$BIN/spamd-nftsync" -f "$DB" || fail "second run"
[ "$after" = "$("$BIN/spamdb" -f "$DB" | sort)" ] || fail "second run changed the database"

# Root in _spamd's state directory: the database work runs as _spamd
# (common/statedir.c), then root comes back for netlink.
ensure_spamd_user
mkdir "$T/state" || fail "mkdir"
printf '%s\n' 'WHITE|192.0.2.9|||now-1d|now-1d|now+3h|2|0' \
    'WHITE|192.0.2.8|||now-40d|now-40d|now-1d|3|0' |
	"$TBIN/dbseed" "$T/state/spamd.db" || fail "dbseed state"
rm -f "$T/state/spamd.db.ckpt" "$T/state/spamd.db.journal"
chown -R _spamd: "$T/state" || fail "chown"
ip netns exec "$NS" "$BIN/spamd-nftsync" -v -f "$T/state/spamd.db" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "run in _spamd's directory failed"; }
ip netns exec "$NS" nft list set inet spamd spamd_white | grep -q '192\.0\.2\.9 ' ||
	fail "192.0.2.9 not in spamd_white after the run in _spamd's directory"
# it wrote (the expired record), so it took a checkpoint, as _spamd
grep -q '1 expired' "$T/out" || fail "no expiry: $(cat "$T/out")"
[ -f "$T/state/spamd.db.ckpt" ] || fail "no checkpoint in _spamd's directory"
left=$(find "$T/state" ! -user _spamd)
[ -z "$left" ] || fail "not _spamd's: $left"

# Without the table: exit 1 with the kernel's reason.
ip netns exec "$NS" nft delete table inet spamd
if ip netns exec "$NS" "$BIN/spamd-nftsync" -f "$DB" 2>"$T/err"; then
	fail "succeeded without the table"
fi
grep -q 'No such file or directory' "$T/err" || fail "error text: $(cat "$T/err")"
pass "spamd-nftsync"
