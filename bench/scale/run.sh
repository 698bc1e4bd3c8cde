#!/usr/bin/env bash
# Marketplace at scale (issue 20): the catalog, usage, invoices and earnings with synthetic but
# realistic volumes, measured through HTTP with wrk (docs/benchmarks.md, Scenario 8):
#
#   bench/scale/run.sh                 scale 1.0: 100,000 models from 5,000 publishers, 20,000 consumer
#                                      tenants with subscriptions, 20,000,000 metered calls over 3 months
#   BENCH_SCALE=0.02 bench/scale/run.sh   2 % of every volume (development)
#
# Other knobs: BENCH_SEED (20261201; printed), BENCH_SECONDS per point (10), BENCH_CONNECTIONS (1),
# BENCH_SKIP_BUILD=1, BENCH_SERVER_CPUS (1), BENCH_CLIENT_CPUS (0), BENCH_KEEP=1 keeps the run directory,
# BENCH_REUSE=/tmp/mm-scale-bench.XXXX measures again on a kept run directory (no seeding; its last
# month's invoices are deleted first, so the timer closes it again), BENCH_SHARED_BUFFERS=2GB sets the
# embedded PostgreSQL's shared_buffers (MM_DB_EMBEDDED_SHARED_BUFFERS; default: the jar's, 512MB).
# Not part of the test suite: it takes minutes and gigabytes (about 8 GB of database at scale 1.0).
#
# Steps: (1) the jar starts on a fresh data directory (embedded PostgreSQL on a fixed port); one user
# signs up through the API, whose password hash every seeded user gets; seed.py (one seeded
# random.Random) writes the catalog, subscriptions and usage as COPY blocks that psql loads into the
# same database; the jar stops. (2) The jar starts again pinned to BENCH_SERVER_CPUS (its embedded
# PostgreSQL inherits the pinning: server and database share that one core) with the default
# billing.close-grace-seconds: its billing timer closes last month for every tenant within a minute,
# which is timed; the period's invoices are then deleted and closed again by the timer, and both sets
# are compared (same invoices), and compared again at the end (the timer's later runs wrote nothing).
# (3) prepare.py logs in, walks the catalog's keyset pages (every model once, in order) and writes
# the request lists; wrk (on BENCH_CLIENT_CPUS, paths.lua) measures each scenario; /usr/bin/time
# gives wrk's own CPU use. (4) EXPLAIN ANALYZE of the slowest queries, as the application runs them
# (role mm_app, tenant scope, row-level security on), goes to the run directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE="${BENCH_SCALE:-1.0}"
SEED="${BENCH_SEED:-20261201}"
SECS="${BENCH_SECONDS:-10}"
CONNS="${BENCH_CONNECTIONS:-1}"
SERVER_CPUS="${BENCH_SERVER_CPUS:-1}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
PORT="${BENCH_PORT:-18190}"
PGPORT="${BENCH_PGPORT:-18191}"
MONTH=$(date -u +%Y-%m)
PREV_MONTH=$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 2; }
command -v psql >/dev/null || { echo "needs psql (apt-get install postgresql-client)"; exit 2; }
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -B -ntp -o -DskipTests package
fi
RUN=${BENCH_REUSE:-$(mktemp -d /tmp/mm-scale-bench.XXXXXX)}
DATA="$RUN/data"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d modelmarket)
echo "run directory $RUN; commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seed $SEED, scale $SCALE, current month $MONTH (usage: it and the two months before it)"

SERVER=
stop_server() {
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=; fi
}
trap 'stop_server; [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA"' EXIT
start_server() { # log cpus [env...]
  local log=$1 cpus=$2
  shift 2
  env MM_HTTP_PORT=$PORT MM_HTTP_HOST=127.0.0.1 MM_MANAGEMENT_PORT=-1 MM_DATA_DIR="$DATA" MM_DEMO_ENABLED=false \
    MM_DB_EMBEDDED_PORT=$PGPORT ${BENCH_SHARED_BUFFERS:+MM_DB_EMBEDDED_SHARED_BUFFERS=$BENCH_SHARED_BUFFERS} MM_JWT_ACCESS_TTL_SECONDS=900 MM_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1024 "$@" \
    taskset -c "$cpus" java -Xms1g -Xmx2g -jar marketplace/target/modelmarket.jar > "$log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER" 2>/dev/null || { tail -20 "$log"; exit 1; }
    sleep 0.5
  done
  echo "server did not become ready"; exit 1
}

if [ -z "${BENCH_REUSE:-}" ]; then
# --- (1) schema, one real password hash, the seed -------------------------------------------------
# The billing timer of this start would close a period while seeding; a grace of 120 days points it
# at a month before the seeded window (closed with no invoices, as a platform's earlier months are).
start_server "$RUN/server-seed.log" 0-$(($(nproc) - 1)) MM_BILLING_CLOSE_GRACE_SECONDS=10368000
curl -fs "http://127.0.0.1:$PORT/api/v1/auth/signup" -H 'Content-Type: application/json' \
  -d '{"organisation":"Scale Hash","email":"hash@scale.test","password":"bench-password-1"}' >/dev/null
HASH=$("${PSQL[@]}" -At -c "SELECT password_hash FROM users WHERE email = 'hash@scale.test'")
echo "seeding (seed.py --seed $SEED --scale $SCALE --month $MONTH | psql)..."
SEED_T0=$(date +%s.%N)
/usr/bin/time -f "seed.py CPU %U s user %S s sys" /usr/bin/python3 bench/scale/seed.py --seed "$SEED" --scale "$SCALE" \
  --month "$MONTH" --password-hash "$HASH" --summary "$RUN/summary.txt" 2> "$RUN/seed-time.txt" | "${PSQL[@]}" > "$RUN/seed-psql.txt"
SEED_T1=$(date +%s.%N)
cat "$RUN/summary.txt" "$RUN/seed-time.txt"
printf "seeding took %.0f s\n" "$(echo "$SEED_T1 - $SEED_T0" | bc -l)"
"${PSQL[@]}" -At -c "SELECT 'rows: models ' || (SELECT count(*) FROM models) || ', subscriptions ' || (SELECT count(*) FROM subscriptions)
  || ', usage_rollups ' || (SELECT count(*) FROM usage_rollups) || ' (calls ' || (SELECT sum(calls) FROM usage_rollups)
  || '), usage_daily ' || (SELECT count(*) FROM usage_daily) || ' (calls ' || (SELECT sum(calls) FROM usage_daily)
  || '), usage_commits ' || (SELECT count(*) FROM usage_commits) || '; database ' || pg_size_pretty(pg_database_size('modelmarket'))"
VISIBLE=$("${PSQL[@]}" -At -c "SELECT count(*) FROM models m JOIN tenants t ON t.id = m.tenant_id WHERE t.deleted_at IS NULL
  AND m.visibility = 'public' AND (m.kind = 'algorithm' OR EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id AND v.state IN ('published', 'deprecated')))")
stop_server
else
  echo "reusing $RUN (seeded before: $(head -1 "$RUN/summary.txt"))"
  VISIBLE=$(grep -o 'visible=[0-9]*' "$RUN/visible.txt" | cut -d= -f2)
fi
echo "visible=$VISIBLE" > "$RUN/visible.txt"
if [ -n "${BENCH_REUSE:-}" ]; then
  start_server "$RUN/server-config.log" "$SERVER_CPUS" MM_BILLING_CLOSE_GRACE_SECONDS=10368000
  "${PSQL[@]}" -c "DELETE FROM invoices WHERE period_start = '${PREV_MONTH}-01 00:00:00+00'; DELETE FROM billing_periods WHERE period_start = '${PREV_MONTH}-01 00:00:00+00'"
  stop_server
fi

# --- (2) closing last month for every tenant, by the billing timer ----------------------------------
start_server "$RUN/server.log" "$SERVER_CPUS"
echo "shared_buffers $("${PSQL[@]}" -At -c 'SHOW shared_buffers')"
PERIOD="${PREV_MONTH}-01 00:00:00+00"
invoices_digest() {
  "${PSQL[@]}" -At -c "SELECT count(*) || ' invoices, ' || coalesce(sum(total_minor), 0) || ' minor units, digest ' || md5(coalesce(string_agg(x, '|' ORDER BY x), ''))
    FROM (SELECT i.tenant_id || ':' || i.number || ':' || i.currency || ':' || i.total_minor || ':' || (SELECT string_agg(concat_ws(',', l.line_no,
      l.subscription_id, l.plan_id, l.kind, l.active_from, l.active_to, l.calls, l.quantity, l.amount_minor), ';' ORDER BY l.line_no)
      FROM invoice_lines l WHERE l.invoice_id = i.id) AS x, i.total_minor FROM invoices i WHERE i.period_start = '$PERIOD') s"
}
wait_closed() { # prints the seconds from the close's start (its transaction's now()) to its commit
  local row
  for _ in $(seq 1 1800); do
    row=$("${PSQL[@]}" -At -c "SELECT extract(epoch FROM clock_timestamp() - closed_at) FROM billing_periods WHERE period_start = '$PERIOD'")
    [ -n "$row" ] && { printf "%.1f" "$row"; return 0; }
    sleep 0.2
  done
  echo "not closed"; return 1
}
echo "waiting for the billing timer to close $PREV_MONTH..."
CLOSE1=$(wait_closed)
DIGEST1=$(invoices_digest)
echo "close 1: $CLOSE1 s (start of its transaction to its commit, seen within 0.2 s); $DIGEST1"
"${PSQL[@]}" -c "DELETE FROM invoices WHERE period_start = '$PERIOD'; DELETE FROM billing_periods WHERE period_start = '$PERIOD'"
CLOSE2=$(wait_closed)
DIGEST2=$(invoices_digest)
echo "close 2 (invoices deleted, closed again): $CLOSE2 s; $DIGEST2"
[ "$DIGEST1" = "$DIGEST2" ] && echo "close 1 and close 2: the same invoices" || echo "close 1 and close 2 DIFFER"

# --- (3) request lists, then wrk per scenario ---------------------------------------------------
# The closes deleted and wrote tens of thousands of invoice rows: write the dirty buffers out and
# vacuum what they touched now, so that the checkpoint and autovacuum that would follow do not share
# the server's core with the measurements (a search point measured 90 s after the closes saw a p99 of
# 99 ms against a p50 of 6 ms, the time spent before its handler started).
"${PSQL[@]}" -c "VACUUM (ANALYZE) invoices, invoice_lines, billing_periods" -c "CHECKPOINT"
echo "vacuumed the invoice tables and checkpointed before measuring"
eval "$(/usr/bin/python3 bench/scale/prepare.py "http://127.0.0.1:$PORT" "$RUN" "$RUN/summary.txt" "$MONTH" "$VISIBLE" 2> >(tee "$RUN/prepare.txt" >&2))"
echo
echo "| scenario | caller | paths | 200s | other | requests/s | p50 ms | p99 ms | max ms | wrk CPU (user+sys / wall, of its 1 core) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
point() { # scenario caller token list
  local scenario=$1 caller=$2 token=$3 list=$4 out result cpu
  out=$(PATHS="$RUN/$list.txt" TOKEN="$token" /usr/bin/time -f "CPU %U %S %e" \
        taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 30s -s bench/scale/paths.lua \
        "http://127.0.0.1:$PORT" 2>&1)
  echo "$out" > "$RUN/wrk-$scenario-$caller.txt"
  result=$(echo "$out" | grep '^RESULT')
  cpu=$(echo "$out" | grep '^CPU' | awk '{printf "%.2f", ($2 + $3) / $4}')
  eval "$(echo "$result" | sed 's/RESULT //; s/ /; /g')"
  printf "| %s | %s | %s | %s | %s | %.0f | %.2f | %.2f | %.2f | %s |\n" "$scenario" "$caller" "$(wc -l < "$RUN/$list.txt")" \
    "$ok" "$other" "$(echo "$ok / $seconds" | bc -l)" "$p50_ms" "$p99_ms" "$max_ms" "$cpu"
}
SAVED=$SECS; SECS=3
point warm-up anonymous "" search-text > /dev/null
point warm-up anonymous "" model-page > /dev/null
SECS=$SAVED
point search-text anonymous "" search-text
point search-text median-consumer "$TOKEN_MEDIAN" search-text
point search-broad anonymous "" search-broad
point search-filters anonymous "" search-filters
point deep-newest anonymous "" deep-newest
point deep-popular anonymous "" deep-popular
point deep-relevance anonymous "" deep-relevance
point model-page anonymous "" model-page
point model-page median-consumer "$TOKEN_MEDIAN" model-page
for who in MEDIAN P99 HEAVY; do  # (tokens last 15 min: prepare.py logs in just before)
  tok=TOKEN_$who
  caller=$(echo "$who" | tr 'A-Z' 'a-z')-consumer
  point usage-summary-month "$caller" "${!tok}" usage-summary
  point quotas "$caller" "${!tok}" quotas
  point invoices-with-draft "$caller" "${!tok}" invoices
done
point earnings-draft pub-00001 "$TOKEN_PUBLISHER" earnings-draft
point earnings-final pub-00001 "$TOKEN_PUBLISHER" earnings-final
DIGEST3=$(invoices_digest)
[ "$DIGEST2" = "$DIGEST3" ] && echo "after the run (the timer ran every minute): the same invoices, $DIGEST3" \
  || echo "after the run the invoices DIFFER: $DIGEST3"
grep -c "Closed billing period" "$RUN/server.log" | sed 's/^/"Closed billing period" lines in the server log: /'

# --- (4) plans of the slowest, as the application runs them --------------------------------------
BENCH_RUN="$RUN" BENCH_MONTH="$MONTH" "${PSQL[@]}" -v heavy="$(grep -o 'HEAVY_TENANT=[^ ]*' "$RUN/summary.txt" | cut -d= -f2)" \
  -v month="$MONTH-01" -f bench/scale/explain.sql > "$RUN/explain.txt" 2>&1 || true
echo "EXPLAIN ANALYZE: $RUN/explain.txt"
