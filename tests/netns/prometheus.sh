#!/bin/bash
# prometheus.sh: a real Prometheus server (Debian's) in a private network
# namespace scrapes spamd -m: the target is up and the counters can be
# queried. The Grafana dashboard (etc/grafana-spamd.json) parses, names
# only metrics the endpoint exports, and each of its queries is valid
# PromQL to that server.
# timeout: 120
. tests/lib.sh
need_root
need_cmd prometheus curl python3 ip
t_tmp
NS=$(ns_new prom)
nsx() { ip netns exec "$NS" "$@"; }
ensure_spamd_user
mkdir -p "$T/db" "$T/tsdb"
chown _spamd: "$T/db"
DB=$T/db/spamd.db
nsx "$BIN/spamd" -d -f "$DB" -h mx.test --config-socket "$T/spamd.sock" \
    -s 0 -m 127.0.0.1:9143 2>>"$T/spamd.log" &
SPAMD_PID=$!
at_exit "kill $SPAMD_PID 2>/dev/null; wait $SPAMD_PID 2>/dev/null"
wait_for 10 grep -q 'listening for incoming connections' "$T/spamd.log" ||
	{ cat "$T/spamd.log"; fail "spamd did not start"; }
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: spamd
    static_configs:
      - targets: ['127.0.0.1:9143']
EOF
nsx prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address=127.0.0.1:9090 >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
at_exit "kill $PROM_PID 2>/dev/null; wait $PROM_PID 2>/dev/null"

# One greylisted session, so a counter has moved.
nsx "$TBIN/smtpchat" 127.0.0.1 8025 <<'EOF' || fail "session"
timeout 20
expect 220
send HELO mx.example.org
expect 250
send MAIL FROM:<a@example.org>
expect 250
send RCPT TO:<b@example.net>
expect 250
send DATA
expect 451
EOF
api() { nsx curl -sf --max-time 5 "http://127.0.0.1:9090/api/v1/$1"; }
wait_for 60 sh -c "ip netns exec '$NS' curl -sf 'http://127.0.0.1:9090/api/v1/targets' | grep -q '\"health\":\"up\"'" ||
	{ tail -20 "$T/prometheus.log"; api targets; fail "the spamd target never came up"; }
api targets | python3 -c 'import json,sys; t=json.load(sys.stdin)["data"]["activeTargets"][0]; print(t["scrapeUrl"], t["health"], t["lastError"] or "no error")'
wait_for 30 sh -c "ip netns exec '$NS' curl -sf 'http://127.0.0.1:9090/api/v1/query?query=spamd_tuples_total' | grep -q '\"value\":\\[[0-9.]*,\"1\"\\]'" ||
	{ api 'query?query=spamd_tuples_total'; fail "spamd_tuples_total is not 1 in Prometheus"; }
api 'query?query=spamd_tuples_total'; echo

# The dashboard: valid JSON, only exported names, every query valid.
nsx curl -sf http://127.0.0.1:9143/metrics >"$T/m.txt" || fail "scrape"
python3 - etc/grafana-spamd.json "$T/m.txt" >"$T/exprs" <<'PYEOF' || fail "dashboard"
import json, re, sys
d = json.load(open(sys.argv[1]))
exported = set()
for line in open(sys.argv[2]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        exported.add(m.group(1))
        if m.group(2) == "histogram":
            exported |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")}
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
assert exprs, "no queries"
for e in exprs:
    for name in re.findall(r"\bspamd_[a-z0-9_]+", e):
        assert name in exported, "%s is not exported (in %r)" % (name, e)
    print(e)
PYEOF
n=0
while read -r e; do
	out=$(nsx curl -sf --max-time 5 -G --data-urlencode "query=$e" http://127.0.0.1:9090/api/v1/query) ||
		fail "Prometheus refused the dashboard query: $e"
	grep -q '"status":"success"' <<<"$out" || fail "query failed: $e: $out"
	n=$((n + 1))
done <"$T/exprs"
echo "$n dashboard queries valid"
[ "$n" -ge 10 ] || fail "only $n queries in the dashboard"
pass "a real Prometheus scrapes spamd; the dashboard's queries are valid"
