#!/bin/bash
# nftsync_diff.sh: spamd-nftsync sends the kernel the difference from its
# last push, and falls back to filling or replacing whenever that record
# cannot be trusted. In a private network namespace with nft/spamd.nft:
#  - a fresh table: both white sets are filled (140,000 IPv6 elements, so
#    in batches, the first ones while the scan runs), the sets equal the
#    database
#  - a run with nothing new sends nothing and leaves the record alone
#  - WHITE records deleted, added and given a later expiry: exactly those
#    go out (2 added, 2 deleted, 1 refreshed), the refreshed element's
#    timeout follows its record
#  - a set flushed by hand is noticed and filled; a ruleset loaded again
#    (new handles) and -F make it start over; a record damaged by its
#    owner is refused with a warning; the sets equal the database after
#    each of these
#  - with every core kept busy, the scan of a fill, started at idle
#    priority, is given its priority back once the parent has waited for
#    it (-v says so), and the set is filled all the same; without
#    CAP_SYS_NICE (which giving it back needs) it is never made idle
#  - with spamd running and a blacklist, an empty set is filled in
#    batches and the listed addresses stay out of it
#  - a batch the kernel refuses halfway through a fill (a full set) is
#    said once, the other sets are filled, the run exits 1
# timeout: 240
. tests/lib.sh
private_net "$@"
need_cmd nft
need_cmd setpriv
t_tmp
nft -f nft/spamd.nft || fail "load nft/spamd.nft"
mkdir "$T/db" || fail "mkdir"
DB=$T/db/spamd.db
REC=$DB.pushed
N6=140000

# seed_white N4: WHITE records for 2001:db8::1.. ($N6 of them, written
# canonically) and 192.0.2.1..N4, all expiring in 3 hours
seed_white() {
	awk -v n="$N6" -v n4="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			if (i < 65536)
				printf "WHITE|2001:db8::%x|||now-1d|now-1d|now+3h|1|0\n", i
			else
				printf "WHITE|2001:db8::%x:%x|||now-1d|now-1d|now+3h|1|0\n", int(i / 65536), i % 65536
		for (i = 1; i <= n4; i++)
			printf "WHITE|192.0.2.%d|||now-1d|now-1d|now+3h|1|0\n", i
	}' | "$TBIN/dbseed" "$DB"
}
seed_white 200 || fail "dbseed"

sync_run() { # expected-exit args...
	local want=$1
	shift
	"$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$T/none.sock" "$@" \
	    >"$T/out" 2>&1
	local rc=$?
	cat "$T/out"
	[ "$rc" = "$want" ] || fail "spamd-nftsync $* exited $rc, not $want"
}

# The set's addresses and the database's WHITE addresses, sorted.
in_set() {
	nft list set inet spamd "$1" |
		grep -oE '(2001:db8:[0-9a-f:]*[0-9a-f]|192\.0\.2\.[0-9]+)' | sort -u
}
in_db() {
	"$BIN/spamdb" -f "$DB" | awk -F'|' -v v6="$1" '$1 == "WHITE" &&
	    ((v6 && $2 ~ /:/) || (!v6 && $2 !~ /:/)) { print $2 }' | sort -u
}
# A listing can skip elements while the kernel still grows the set's hash
# table after a fill (a dump resumes by counting elements, in an order the
# rehash changes), so a difference is listed again before it counts;
# nothing adds elements meanwhile, so a missing one stays missing.
sets_equal_db() { # what
	local try
	in_db 0 >"$T/d4"
	in_db 1 >"$T/d6"
	for try in 1 2 3 4 5; do
		in_set spamd_white >"$T/s4"
		in_set spamd_white6 >"$T/s6"
		cmp -s "$T/s4" "$T/d4" && cmp -s "$T/s6" "$T/d6" && break
		[ "$try" = 5 ] || { echo "$1: the listing differs, listing again"; sleep 0.5; }
	done
	cmp -s "$T/s4" "$T/d4" || { diff "$T/s4" "$T/d4" | head; fail "$1: spamd_white differs from the database"; }
	cmp -s "$T/s6" "$T/d6" || { diff "$T/s6" "$T/d6" | head; fail "$1: spamd_white6 differs from the database"; }
	[ "$(wc -l <"$T/s6")" -gt 0 ] || fail "$1: spamd_white6 is empty"
}

# 1. A fresh table: filled.
sync_run 0
expect_grep "inet spamd spamd_white6: $N6 elements \(filled the empty set\)" "$T/out"
expect_grep 'inet spamd spamd_white: 200 elements \(filled the empty set\)' "$T/out"
sets_equal_db "fill"
[ -f "$REC" ] || fail "no record of the push"
pass "an empty set is filled ($N6 elements in batches)"

# 2. Nothing new: nothing sent, the record left alone.
before=$(stat -c %Y.%s "$REC")
touch -d '1 minute ago' "$REC"
before=$(stat -c %Y "$REC")
sync_run 0
expect_grep "spamd_white6: $N6 elements \(changed: 0 added, 0 deleted, 0 refreshed\)" "$T/out"
[ "$(stat -c %Y "$REC")" = "$before" ] || fail "a run that changed nothing rewrote the record"
pass "nothing new: nothing sent"

# 3. The difference, and only it.
"$BIN/spamdb" -f "$DB" -d 2001:db8::6 2001:db8::7 || fail "spamdb -d"
"$BIN/spamdb" -f "$DB" -a 2001:db8:1::1 2001:db8:1::2 || fail "spamdb -a"
echo 'WHITE|2001:db8::5|||now-1d|now-1d|now+20h|1|0' | "$TBIN/dbseed" "$DB" || fail "dbseed refresh"
# as if spamd's nft helper had put one of the new ones there already,
# with an older, shorter timeout: the run must set the record's
nft add element inet spamd spamd_white6 '{ 2001:db8:1::1 timeout 10m }' || fail "nft add"
sync_run 0
expect_grep "spamd_white6: $N6 elements \(changed: 2 added, 2 deleted, 1 refreshed\)" "$T/out"
expect_grep 'spamd_white: 200 elements \(changed: 0 added, 0 deleted, 0 refreshed\)' "$T/out"
sets_equal_db "difference"
nft list set inet spamd spamd_white6 | grep -Eq '2001:db8::5 timeout (19h59m[0-9]+s|20h)' ||
	fail "the refreshed element's timeout is not 20h"
nft list set inet spamd spamd_white6 | grep -Eq '2001:db8:1::1 timeout (35d23h[0-9]+m[0-9]+s|36d)' ||
	fail "2001:db8:1::1 kept the timeout it had in the set, not its record's"
pass "deleted, added and refreshed records: only those sent"

# 4. Flushed by hand: noticed (the record says it is not empty) and filled.
nft flush set inet spamd spamd_white6
sync_run 0
expect_grep 'spamd_white6 is empty, though [0-9]+ elements were put there last time: filling it' "$T/out"
expect_grep "spamd_white6: $N6 elements \(filled the empty set\)" "$T/out"
sets_equal_db "after a flush by hand"
pass "a set flushed by hand is filled again"

# 5. The ruleset loaded again: the record is for other handles.
nft delete table inet spamd && nft -f nft/spamd.nft || fail "reload the ruleset"
sync_run 0
expect_grep 'the record of the last push is for another table' "$T/out"
expect_grep "spamd_white6: $N6 elements \(filled the empty set\)" "$T/out"
sets_equal_db "after a ruleset reload"
# -F: replaced whatever the record says (one element added by hand goes).
nft add element inet spamd spamd_white6 '{ 2001:db8:ffff::1 }'
sync_run 0 -F
expect_grep "spamd_white6: $N6 elements \(replaced\)" "$T/out"
sets_equal_db "-F"
pass "a reloaded ruleset and -F start over"

# 6. A record damaged by the directory's owner: refused, sets replaced.
printf 'spamd-nftsync 1\nGARBAGE' >"$REC"
sync_run 0
expect_grep "$REC: .*replacing the white sets whole" "$T/out"
expect_grep "spamd_white6: $N6 elements \(replaced\)" "$T/out"
sets_equal_db "after a damaged record"
sync_run 0
expect_grep 'changed: 0 added, 0 deleted, 0 refreshed' "$T/out"
pass "a damaged record is refused, and the next run trusts the new one"

# busy_fill [cmd...]: flush spamd_white6, then fill it with every core
# kept busy (bounded busy loops, one more than the cores), spamd-nftsync
# run through cmd (e.g. setpriv); its output in $T/out, its status in rc.
busy_fill() {
	local hogs= i
	nft flush set inet spamd spamd_white6 || fail "flush spamd_white6"
	for i in $(seq $(($(nproc) + 1))); do
		timeout 60 sh -c 'while :; do :; done' &
		hogs="$hogs $!"
	done
	"$@" "$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$T/none.sock" \
	    >"$T/out" 2>&1
	rc=$?
	kill $hogs 2>/dev/null
	wait $hogs 2>/dev/null
	cat "$T/out"
}

# 7. Every core busy (bounded busy loops, one more than the cores): the
# idle-priority scan would crawl, so it gets its priority back.
busy_fill
[ "$rc" = 0 ] || fail "spamd-nftsync with every core busy exited $rc"
expect_grep 'the database scan fell behind for 50 ms: back to normal priority' "$T/out"
expect_grep "inet spamd spamd_white6: $N6 elements \(filled the empty set\)" "$T/out"
sets_equal_db "busy cores"
pass "with every core busy, the scan of a fill gets its priority back"
# Without CAP_SYS_NICE the priority could not be given back: the scan
# keeps it from the start (idle, it would say that it fell behind).
busy_fill setpriv --bounding-set -sys_nice
[ "$rc" = 0 ] || fail "spamd-nftsync without CAP_SYS_NICE exited $rc"
grep -q 'fell behind\|priority' "$T/out" && fail "the scan was made idle without CAP_SYS_NICE"
sets_equal_db "no CAP_SYS_NICE"
pass "without CAP_SYS_NICE the scan of a fill keeps its priority"

# 8. spamd running with a list: filling keeps the listed addresses out.
rm -f "$DB"* "$T/spamd.log"
printf '2001:db8::100/120\n192.0.2.0/28\n' >"$T/list.txt"
printf 'all:evil:\nevil:black:msg="listed":file=%s/list.txt:\n' "$T" >"$T/spamd.conf"
spamd_start -s 0 -v
"$BIN/spamd-setup" --socket "$SPAMD_SOCK" -c "$T/spamd.conf" || fail "spamd-setup"
expect_grep 'configuration connection from uid 0 .* 1 applied' "$T/spamd.log"
# spamd resyncs when it starts and when a list is loaded, and deletes the
# listed WHITE entries it finds then: both must be over before the
# entries are seeded, or spamd-nftsync finds none of them listed.
wait_for 10 sh -c "[ \$(grep -c 'whitelisted address.* to the nft helper' \
    '$T/spamd.log') -ge 2 ]" || fail "spamd did not resync after the list load"
seed_white 40 || fail "dbseed with spamd"
nft delete table inet spamd && nft -f nft/spamd.nft || fail "reload the ruleset"
"$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$SPAMD_SOCK" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "spamd-nftsync with spamd"; }
expect_grep "spamd_white6: $((N6 - 256)) elements \(filled the empty set\)" "$T/out"
expect_grep 'spamd_white: 25 elements \(filled the empty set\)' "$T/out"
expect_grep '2001:db8::1ff is on a blacklist of spamd: not whitelisting it' "$T/out"
for try in 1 2 3 4 5; do	# as in sets_equal_db
	in_set spamd_white6 >"$T/s6"
	[ "$(wc -l <"$T/s6")" = $((N6 - 256)) ] && break
	sleep 0.5
done
grep -Eq '^2001:db8::1[0-9a-f]{2}$' "$T/s6" && fail "a listed address went into spamd_white6"
grep -qx '2001:db8::200' "$T/s6" || fail "2001:db8::200 (not listed) missing"
grep -qx '2001:db8::ff' "$T/s6" || fail "2001:db8::ff (not listed) missing"
[ "$(wc -l <"$T/s6")" = $((N6 - 256)) ] || fail "spamd_white6 holds $(wc -l <"$T/s6") elements"
in_set spamd_white | grep -qx '192.0.2.15' && fail "192.0.2.15 is listed and went in"
pass "filling in batches asks spamd first"

# 9. The kernel refuses a batch halfway through a fill (the set's size
# limit): the error is said once (the later batches are dropped unsent:
# t_sender), the other sets are filled, no record is kept, exit 1.
spamd_stop
nft delete table inet spamd || fail "delete the table"
sed '/set spamd_white6 {/,/}/ s/flags timeout/flags timeout; size 50000/' \
    nft/spamd.nft | nft -f - || fail "load a ruleset with a small spamd_white6"
"$BIN/spamd-nftsync" -v -f "$DB" --config-socket "$T/none.sock" >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ "$rc" = 1 ] || fail "a refused fill exited $rc, not 1"
[ "$(grep -c 'spamd_white6: .*the set is full' "$T/out")" = 1 ] ||
	fail "the full set is not said exactly once"
# spamd (case 8) may have deleted the listed WHITE entries before it was
# stopped, or not (its nft helper looks for the reloaded table every 5 s):
# the set holds what the database holds.
n4=$(in_db 0 | wc -l)
case $n4 in 25|40) ;; *) fail "the database holds $n4 IPv4 WHITE entries, not 25 or 40";; esac
expect_grep "inet spamd spamd_white: $n4 elements \\(filled the empty set\\)" "$T/out"
n6=$(in_set spamd_white6 | wc -l)
[ "$n6" -gt 0 ] && [ "$n6" -le 50000 ] || fail "spamd_white6 holds $n6 elements"
[ -f "$REC" ] && fail "a record was kept after a failed fill"
pass "a batch refused halfway: said once, the other sets filled, no record, exit 1"
