#!/bin/bash
# setup_http.sh: method=http through the real curl program against a
# local web server (python3 -m http.server) in a private network
# namespace: a plain list, a gzip'd list, and a 404 that fails its list
# (exit 2) while the others are still printed.
# timeout: 60
. tests/lib.sh
need_root
need_cmd unshare curl python3 gzip
if [ -z "${SETUP_HTTP_NS:-}" ]; then
	unshare -n true 2>/dev/null || skip "unshare -n does not work here"
	exec unshare -n env SETUP_HTTP_NS=1 bash "$0" "$@"
fi
ip link set lo up || fail "lo up"
t_tmp
L=$TOP/tests/data/lists
SETUP=$BIN/spamd-setup
PORT=8080

mkdir "$T/www"
chmod 755 "$T/www"
cp "$L/black-v4.txt" "$T/www/plain.txt"
gzip -c "$L/black-v6.txt" >"$T/www/v6.txt.gz"
chmod 644 "$T/www/"*
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$PORT") \
	>"$T/httpd.log" 2>&1 &
at_exit "kill $!"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$PORT/plain.txt" ||
	fail "the web server did not start"

cat >"$T/spamd.conf" <<EOF
all:plain:v6:missing:
plain:black:msg="plain":method=http:file=127.0.0.1\\:$PORT/plain.txt:
v6:black:msg="v6":method=http:file="http://127.0.0.1:$PORT/v6.txt.gz":
missing:black:msg="m":method=http:file=127.0.0.1\\:$PORT/missing.txt:
EOF
rc=0
"$SETUP" -n -d -c "$T/spamd.conf" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || { cat "$T/err"; fail "exit $rc, expected 2 (one list is missing)"; }
expect_grep '^plain;"plain";inet;6;192.0.2.0/24;198.51.100.10/31;198.51.100.12/30;198.51.100.16/30;198.51.100.20/32;203.0.113.0/24$' "$T/out"
expect_grep '^v6;"v6";inet;1;198.51.100.99/32;inet6;10;2001:db8:1::/48;' "$T/out"
grep -q '^missing;' "$T/out" && fail "the missing list was printed"
expect_grep "list plain: fetching http://127.0.0.1:$PORT/plain.txt" "$T/err"
expect_grep 'list missing: curl: exited with status 22' "$T/err"
expect_grep 'list missing not sent' "$T/err"
# curl ran as an unprivileged user: the server saw three requests
[ "$(grep -c '"GET /' "$T/httpd.log")" -ge 3 ] || fail "requests missing in the server log"
pass "http and gzip over http through curl; a 404 fails only its list"
