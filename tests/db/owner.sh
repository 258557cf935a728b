#!/bin/bash
# owner.sh: root runs spamdb in the service user's state directory; the
# database and its lock file must stay the service user's, so that the
# unprivileged spamd can still open them.
# timeout: 30

. tests/lib.sh

need_root
SPAMDB=$BIN/spamdb
[ -x "$SPAMDB" ] || fail "build first"
t_tmp
user=nobody
id "$user" >/dev/null 2>&1 || skip "no user $user"
mkdir "$T/state" && chown "$user:" "$T/state" || fail "chown"
db=$T/state/spamd.db

"$SPAMDB" -f "$db" -a 192.0.2.1 2001:db8::1 || fail "spamdb -a as root"
for f in "$db" "$db.lock"; do
	[ "$(stat -c %U "$f")" = "$user" ] || fail "$f belongs to $(stat -c %U "$f")"
done
# the service user can now use it, through the same tool
su -s /bin/sh "$user" -c "'$SPAMDB' -f '$db' -a 192.0.2.2 && '$SPAMDB' -f '$db' 192.0.2.2" ||
	fail "$user cannot write the database root created"
"$SPAMDB" -f "$db" | sort >"$T/list" || fail "listing"
[ "$(wc -l <"$T/list")" = 3 ] || fail "expected 3 records: $(cat "$T/list")"
pass "database and lock file stay with $user"
