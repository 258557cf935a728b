#!/bin/bash
# disk_full.sh: the file system of the database fills up while spamd
# runs. The database lives on a 4 MB tmpfs in a private mount namespace
# (and a private network namespace); a filler file takes the rest of it.
# Then 300 tuples with 900-byte recipients arrive, which the database
# cannot hold without growing: spamd answers every session, logs once
# that it queues, keeps every tuple, and stores them all when the filler
# is removed. The database must list cleanly afterwards (no lost or
# corrupt record), nothing stored before is lost, and no process dies.
# timeout: 120
. tests/lib.sh
. tests/faults/_faults.sh
if [ -z "${_T_PRIVMNT:-}" ]; then
	need_root
	command -v unshare >/dev/null || skip "needs unshare"
	export _T_PRIVMNT=1 _T_PRIVNET=1
	exec unshare -m -n --propagation private -- bash "$0" "$@"
fi
ip link set lo up || fail "lo up"
need_cmd pgrep
t_tmp
mkdir -p "$T/db"
mount -t tmpfs -o size=4m,mode=755 spamdtest "$T/db" || skip "cannot mount a tmpfs"
at_exit "umount -l '$T/db'"
spamd_start -s 0 -v

tuple_session before
wait_stored 5 before
df -k "$T/db" | tail -n 1

# Fill the file system; the last write fails with ENOSPC.
dd if=/dev/zero of="$T/db/filler" bs=64k 2>/dev/null
[ "$(df -k --output=avail "$T/db" | tail -n 1 | tr -d ' ')" -lt 64 ] || fail "the tmpfs is not full"
df -k "$T/db" | tail -n 1

# 3 sessions of 100 recipients of 900 bytes each.
long=$(printf 'x%.0s' $(seq 1 900))
for s in 1 2 3; do
	{
		echo "timeout 10"
		echo "expect 220"
		echo "send HELO full$s.example"
		echo "expect 250"
		echo "send MAIL FROM:<full$s@example.org>"
		echo "expect 250"
		for r in $(seq 1 100); do
			echo "send RCPT TO:<$long$r@example.com>"
		done
		echo "expectn 100 250"
		echo "send DATA"
		echo "expect 451"
	} | chat 127.0.0.1 || fail "session $s under a full disk"
done
tuple_session fullshort 3
wait_for 10 grep -q 'database unavailable\|cannot record tuples' "$T/spamd.log" ||
	fail "no log line about the full disk: $(tail -n 5 "$T/spamd.log")"
grep -E 'database unavailable|cannot record tuples' "$T/spamd.log" | head -n 3
[ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died with the disk full"
full=$("$BIN/spamdb" -f "$DB" 2>/dev/null | grep -c '|<full[0-9]@example.org>|')
echo "$full of 300 long tuples were stored before the disk filled"
[ "$full" -lt 300 ] || fail "the disk never filled (test is wrong)"

rm -f "$T/db/filler"
wait_for 30 sh -c "[ \$('$BIN/spamdb' -f '$DB' 2>/dev/null | grep -c '|<full[0-9]@example.org>|') -eq 300 ]" ||
	fail "after the disk was freed: $("$BIN/spamdb" -f "$DB" 2>/dev/null | grep -c '|<full[0-9]@example.org>|') of 300 long tuples"
wait_stored 5 fullshort before
wait_for 10 grep -q 'database available again; 0 tuples still queued' "$T/spamd.log" ||
	fail "no log line about the recovery"
"$BIN/spamdb" -f "$DB" >"$T/list" 2>"$T/err" ||
	fail "spamdb after the recovery: $(cat "$T/err")"
grep -v 'recover' "$T/err" | grep . && fail "spamdb complained: $(cat "$T/err")"
tuple_session after
wait_stored 5 after
[ "$(spamd_procs | wc -w)" = 3 ] || fail "a spamd process died"
grep -E 'AddressSanitizer|runtime error|killed by' "$T/spamd.log" && fail "spamd reported an error"
pass "full disk: SMTP answered, $((300 - full)) tuples queued and stored after the space came back"
