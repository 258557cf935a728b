#!/bin/bash
# corrupt.sh: corrupt records (tests/tools/dbseed CORRUPT lines: a bad
# checksum, a short value, a wrong version, kind or reserved bytes, a key
# that does not suit its kind) among good ones, including a corrupt GREY
# record in the place of the tuple a client then sends and a corrupt
# WHITE record for that client. spamd starts, logs each corrupt record it
# skips, greylists the client (replacing the corrupt tuple) and
# whitelists it on its retry; spamdb lists the good records and exits 1;
# spamd-nftsync deletes the corrupt records; then spamdb exits 0.
# timeout: 90
. tests/lib.sh
. tests/faults/_faults.sh
private_net "$@"
need_cmd nft pgrep
t_tmp
nft -f nft/spamd.nft || fail "cannot load nft/spamd.nft in the private namespace"
mkdir -p "$T/db"
chown _spamd: "$T/db" 2>/dev/null || { ensure_spamd_user; chown _spamd: "$T/db"; }
DB=$T/db/spamd.db
"$TBIN/dbseed" "$DB" <<'EOF' || fail "dbseed"
WHITE|192.0.2.1|||now-1h|now-1h|now+30d|3|1
GREY|192.0.2.50|good.example|<g@example.org>|<r@example.com>|now-10m|now+15m|now+4h|1|0
CORRUPT|crc|WHITE|192.0.2.20|||now-1h|now-1h|now+30d|1|0
CORRUPT|size|TRAPPED|198.51.100.1|now+1d
CORRUPT|version|WHITE|192.0.2.21|||now-1h|now-1h|now+30d|1|0
CORRUPT|kind|WHITE|192.0.2.22|||now-1h|now-1h|now+30d|1|0
CORRUPT|reserved|WHITE|192.0.2.23|||now-1h|now-1h|now+30d|1|0
CORRUPT|shape|GREY|192.0.2.24|h|<a@example.org>|<b@example.net>|now|now+1h|now+4h|1|0
CORRUPT|crc|GREY|127.0.0.1|bad.example|<bad@example.org>|<rcpt@example.com>|now-1h|now-1h|now+3h|1|0
CORRUPT|kind|WHITE|127.0.0.1|||now-1h|now-1h|now+30d|1|0
EOF
chown _spamd: "$DB" "$DB.lock"

spamd_start -s 0 -v -G 1s:1h:1d
wait_for 5 grep -q 'skipping corrupt record' "$T/spamd.log" ||
	fail "spamd did not report the corrupt records"
n=$(grep -c 'skipping corrupt record' "$T/spamd.log")
echo "spamd at start: $n corrupt records reported"
[ "$n" -ge 8 ] || fail "only $n of 8 corrupt records reported at start"

# The client whose GREY and WHITE records are corrupt is greylisted ...
tuple_session bad
wait_stored 5 bad
# ... and whitelisted on its retry after passtime.
sleep 2.1
tuple_session bad
wait_for 5 sh -c "'$BIN/spamdb' -f '$DB' 2>/dev/null | grep -q '^WHITE|127\.0\.0\.1|'" ||
	fail "127.0.0.1 not whitelisted over its corrupt record"
expect_grep 'whitelisting 127\.0\.0\.1' "$T/spamd.log"
wait_for 10 sh -c "nft list set inet spamd spamd_white | grep -q '127\.0\.0\.1'" ||
	fail "127.0.0.1 not in spamd_white"
[ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died"

# spamdb lists the good records, reports the corrupt ones, exits 1.
"$BIN/spamdb" -f "$DB" >"$T/list" 2>"$T/err"
rc=$?
cat "$T/list"
[ "$rc" = 1 ] || fail "spamdb exit $rc with corrupt records"
grep -q '6 corrupt records not listed' "$T/err" || fail "spamdb said: $(cat "$T/err")"
[ "$(grep -c 'skipping corrupt record' "$T/err")" = 6 ] || fail "spamdb said: $(cat "$T/err")"
for r in '^WHITE|192\.0\.2\.1|' '^GREY|192\.0\.2\.50|' '^WHITE|127\.0\.0\.1|' \
    '^GREY|127\.0\.0\.1|bad\.example|'; do
	grep -q "$r" "$T/list" || fail "spamdb does not list /$r/"
done
[ "$(wc -l <"$T/list")" = 4 ] || fail "spamdb lists $(wc -l <"$T/list") records, not 4"

# spamd-nftsync deletes them; the good records stay.
"$BIN/spamd-nftsync" -v -f "$DB" >"$T/sync" 2>&1 || fail "spamd-nftsync: $(cat "$T/sync")"
cat "$T/sync"
grep -q ' 6 corrupt' "$T/sync" || fail "spamd-nftsync did not count 6 corrupt records"
n=$(grep -c 'skipping corrupt record' "$T/sync")
[ "$n" = 6 ] || fail "spamd-nftsync logged $n corrupt-record lines for 6 records"
"$BIN/spamdb" -f "$DB" >"$T/list2" 2>"$T/err2" || fail "spamdb after nftsync: $(cat "$T/err2")"
[ -s "$T/err2" ] && fail "spamdb after nftsync: $(cat "$T/err2")"
cmp -s <(sort "$T/list") <(sort "$T/list2") || fail "records changed: $(diff "$T/list" "$T/list2")"

tuple_session after
wait_stored 5 after
[ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died"
pass "corrupt records skipped with a log line; greylisting, spamdb and spamd-nftsync coped"
