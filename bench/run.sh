#!/usr/bin/env bash
# Every benchmark scenario in one run, with a validated load generator (docs/benchmarks.md, "The run
# of record"; issue 20). Not part of the README's test command.
#
#   bench/run.sh [SECONDS]      default 10 s per point
#
#   BENCH_SCENARIOS   which to run, in this order (default all): validate market batching cost scale
#                     training cluster
#   BENCH_SKIP_BUILD=1  skips the Maven build;  BENCH_SERVER_CPUS (1), BENCH_CLIENT_CPUS (0)
#   BENCH_OPEN_RATE   the open-loop arrival rate offered the platform's light model (default 3000/s);
#                     the open-loop generator is validated at 3x it first
#
# The server under test is pinned to BENCH_SERVER_CPUS (one core, with its model hosts and embedded
# PostgreSQL), the load generator to BENCH_CLIENT_CPUS. Closed loop: Debian's wrk (-t1), its answers
# counted by status in bench/sandbox/post.lua. Open loop: bench's OpenLoop (fixed arrival rate,
# latency from the intended send time). "validate" first measures both against a trivial one-event-
# loop server on the server's core: what they reach there, using how much of their own core, bounds
# what they can measure; every table carries the generator's CPU. Each scenario prints its tables
# and "TARGET|what|measured|target|met" lines; the run ends with the targets table. Everything is
# written to bench/runs/<UTC time>/report.md (git-ignored) as well as printed.
#
# The older Java-generator benchmark (Scenario 2) is bench/market.sh; the scenarios' own scripts
# (bench/{sandbox,batching,cost,scale,training,cluster}/run.sh) run alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SECONDS_PER_POINT="${1:-10}"
SCENARIOS="${BENCH_SCENARIOS:-validate market batching cost scale training cluster}"
OPEN_RATE="${BENCH_OPEN_RATE:-3000}"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUTDIR="bench/runs/$STAMP"
mkdir -p "$OUTDIR"
REPORT="$OUTDIR/report.md"
RUN=$(mktemp -d /tmp/mm-bench-run.XXXXXX)
exec > >(tee "$REPORT") 2>&1
trap stop_server EXIT

has() { case " $SCENARIOS " in *" $1 "*) return 0 ;; esac; return 1; }
target() { echo "TARGET|$1|$2|$3|$4"; } # what measured target met|not met
met() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "not met" }'; } # a >= b
bench_tools
bench_build
CP="bench/target/modelmarket-bench-0.1.0-SNAPSHOT.jar:$(cat bench/target/classpath.txt)"
for module in torch torchvision fastapi uvicorn; do
  /usr/bin/python3 -c "import $module" 2>/dev/null || apt-get install -y -qq "python3-$module" >/dev/null
done

echo "# Benchmark run $STAMP"
echo
echo "- commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- . ':!bench/runs' || echo ' (with uncommitted changes)'), $(date -u '+%F %H:%M UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GB,"\
     "$(. /etc/os-release && echo "$PRETTY_NAME"), $(java -version 2>&1 | head -1)"
echo "- server on CPU $SERVER_CPUS, load generator on CPU $CLIENT_CPUS; $SECONDS_PER_POINT s per point; load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- scenarios: $SCENARIOS; run directory $RUN"

# open_point PORT PID PATH BODY CTYPE IHCL KEY RATE CONNECTIONS: sets OL_OK OL_OTHER OL_RPS OL_P50 OL_P99 OL_CPU_US
open_point() {
  local out ok other seconds p50_ms p99_ms offered client_cpu_us
  out=$(taskset -c "$CLIENT_CPUS" java -Xmx512m -cp "$CP" com.modelmarket.bench.market.OpenLoop "$@" 3 "$SECONDS_PER_POINT" 2>&1 | grep '^RESULT') \
    || { echo "the open loop gave no result" >&2; return 1; }
  eval "$(echo "$out" | sed 's/RESULT //; s/ /; /g')"
  OL_OK=$ok OL_OTHER=$other OL_P50=$p50_ms OL_P99=$p99_ms OL_CPU_US=$client_cpu_us
  OL_RPS=$(awk -v n="$ok" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
}

# --- validate: the generators against a trivial server on the server's core -------------------------
GEN_CAPACITY=0
if has validate; then
  echo
  echo "## The load generators against a trivial server"
  echo
  taskset -c "$SERVER_CPUS" java -Xmx256m -cp "$CP" com.modelmarket.bench.TrivialServer 18080 > "$RUN/trivial.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 60); do curl -fs http://127.0.0.1:18080/ >/dev/null 2>&1 && break; sleep 0.25; done
  wrk_point http://127.0.0.1:18080/ 64 3 "" "" "" "$RUN/wrk-trivial-warm.txt"
  wrk_point http://127.0.0.1:18080/ 64 "$SECONDS_PER_POINT" "" "" "" "$RUN/wrk-trivial.txt"
  GEN_CAPACITY=$(awk -v r="$RPS" -v c="$WRK_CPU" 'BEGIN { printf "%.0f", (c > 0 && c < 1) ? r / c : r }')
  VALID_RATE=$((3 * OPEN_RATE))
  open_point 18080 "$SERVER" / - - - - "$VALID_RATE" 64
  echo "| generator | mode | against | answered/s | other | p50 ms | p99 ms | generator CPU |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| wrk -t1 | closed, 64 connections | trivial server, 1 event loop | $RPS | $OTHER | $P50 | $P99 | $WRK_CPU of its core |"
  echo "| OpenLoop | open, $VALID_RATE/s offered, ≤ 64 connections | trivial server | $OL_RPS | $OL_OTHER | $OL_P50 | $OL_P99 | $OL_CPU_US µs per request |"
  echo
  echo "wrk's capacity on its core: at least **$GEN_CAPACITY requests/s** (its rate over its CPU share; at full use, its rate)."
  echo "The open loop kept $OL_RPS of $VALID_RATE/s offered, 3x the $OPEN_RATE/s it offers the platform below."
  stop_server
fi

# --- market: raw limits, the peer, the platform as shipped (sandboxed hosts, metering on) -------------
if has market; then
  echo
  echo "## Raw limits: one DJL predictor in a tight loop on the server's core"
  echo
  echo "| model | batch | items/s | p50 ms per call |"
  echo "|---|---|---|---|"
  declare -A RAW_BEST RAW_P50_1
  for spec in light:digits_mlp:1,4,16 heavy:resnet18:1,2,4; do
    IFS=: read -r kind name batches <<< "$spec"
    raw=$(raw_limit "$name" "$batches" "$SECONDS_PER_POINT" "$RUN/raw-$kind.log")
    /usr/bin/python3 -c 'import json,sys
for p in json.loads(sys.argv[2])["points"]: print("| %s | %d | %.0f | %.3f |" % (sys.argv[1], p["batch"], p["itemsPerSecond"], p["p50Ms"]))' "$kind" "$raw"
    RAW_BEST[$kind]=$(/usr/bin/python3 -c 'import json,sys; print(max(p["itemsPerSecond"] for p in json.loads(sys.argv[1])["points"]))' "$raw")
    RAW_P50_1[$kind]=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["points"][0]["p50Ms"])' "$raw")
  done

  echo
  echo "## The platform and the peer, closed loop (wrk) and open loop"
  echo
  echo "The platform: the jar as shipped (model hosts in the bubblewrap sandbox, metering on), one-item requests"
  echo "with an API key. The peer: bench/peer/peer_server.py (FastAPI + uvicorn, one PyTorch thread, no batching,"
  echo "no authentication, no metering) on the same core."
  echo
  echo "| server | request | clients | 200s | other | requests/s | p50 ms | p99 ms | generator CPU |"
  echo "|---|---|---|---|---|---|---|---|---|"
  declare -A R P
  row() { # server request clients
    R[$1/$2/$3]=$RPS
    P[$1/$2/$3]=$P50
    echo "| $1 | $2 | $3 | $OK | $OTHER | $RPS | $P50 | $P99 | wrk $WRK_CPU |"
  }
  # the peer
  taskset -c "$SERVER_CPUS" /usr/bin/python3 bench/peer/peer_server.py --port 18085 \
    --model light=bench/models/out/digits_mlp.pt --model heavy=bench/models/out/resnet18.pt > "$RUN/peer.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do curl -fs http://127.0.0.1:18085/v2/health/ready 2>/dev/null | grep -q true && break; sleep 0.5; done
  PEER_DIR="$RUN/peer-bodies"; mkdir -p "$PEER_DIR"
  eval "$(/usr/bin/python3 bench/sandbox/bodies.py bench/models/out "$PEER_DIR" light heavy)" # the platform's bodies
  KEY=peer
  wrk_point http://127.0.0.1:18085/v2/models/light/infer 16 3 "$PEER_DIR/light.json" application/json "" "$RUN/wrk-peer-warm.txt"
  for c in 1 16 64; do
    wrk_point http://127.0.0.1:18085/v2/models/light/infer "$c" "$SECONDS_PER_POINT" "$PEER_DIR/light.json" application/json "" "$RUN/wrk-peer-light-$c.txt"
    row peer "light JSON" "$c"
  done
  wrk_point http://127.0.0.1:18085/v2/models/heavy/infer 16 "$SECONDS_PER_POINT" "$PEER_DIR/heavy.bin" application/octet-stream \
    "$IHCL_HEAVY" "$RUN/wrk-peer-heavy-16.txt"
  row peer "heavy binary" 16
  stop_server

  # the platform
  PORT=18086
  start_server "$PORT" "$RUN/data-platform" "$RUN/server-platform.log"
  eval "$(/usr/bin/python3 bench/sandbox/setup.py "http://127.0.0.1:$PORT" bench/models/out "$RUN")"
  B="http://127.0.0.1:$PORT"
  LIGHT_OK=0 LIGHT_OTHER=0 IN_FLIGHT=0
  # wrk stops reading at its deadline: up to one call per connection was answered (and metered) unseen
  counted() { LIGHT_OK=$((LIGHT_OK + OK)); LIGHT_OTHER=$((LIGHT_OTHER + OTHER)); IN_FLIGHT=$((IN_FLIGHT + $1)); }
  warm_round() { # every request measured below, unmeasured
    wrk_point "$B/api/v1/key-info" 64 5 "" "" "" "$RUN/wrk-keyinfo-warm.txt"
    wrk_point "$B/v2/models/light/infer" 64 5 "$RUN/light.json" application/json "" "$RUN/wrk-light-warm.txt"; counted 64
    wrk_point "$B/v2/models/light/infer" 64 5 "$RUN/light.bin" application/octet-stream "$IHCL_LIGHT" "$RUN/wrk-lightbin-warm.txt"; counted 64
    wrk_point "$B/v2/models/heavy/infer" 4 5 "$RUN/heavy.bin" application/octet-stream "$IHCL" "$RUN/wrk-heavy-warm.txt"
  }
  warm_until_settled warm_round
  PLATFORM_WARM=$WARM_LINE
  wrk_point "$B/api/v1/key-info" 1 "$SECONDS_PER_POINT" "" "" "" "$RUN/wrk-keyinfo-1.txt"
  row platform "GET key-info" 1 # the floor of one call's latency: HTTP, routing, the API-key check
  wrk_point "$B/api/v1/key-info" 64 "$SECONDS_PER_POINT" "" "" "" "$RUN/wrk-keyinfo.txt"
  row platform "GET key-info" 64
  KEYINFO=$RPS
  for c in 1 16 64; do
    wrk_point "$B/v2/models/light/infer" "$c" "$SECONDS_PER_POINT" "$RUN/light.json" application/json "" "$RUN/wrk-light-$c.txt"; counted "$c"
    row platform "light JSON" "$c"
  done
  wrk_point "$B/v2/models/light/infer" 64 "$SECONDS_PER_POINT" "$RUN/light.bin" application/octet-stream "$IHCL_LIGHT" "$RUN/wrk-lightbin-64.txt"; counted 64
  row platform "light binary" 64
  for c in 1 16; do
    wrk_point "$B/v2/models/heavy/infer" "$c" "$SECONDS_PER_POINT" "$RUN/heavy.bin" application/octet-stream "$IHCL" "$RUN/wrk-heavy-$c.txt"
    row platform "heavy binary" "$c"
  done
  # metered = served: the consumer's usage summary counts exactly the light 200s wrk saw (warm-ups included)
  sleep 3
  METERED=$(curl -fs -H "Authorization: Bearer $TOKEN" "$B/api/v1/usage/summary" | /usr/bin/python3 -c 'import json,sys
print(sum(i["calls"] for i in json.load(sys.stdin)["items"] if i["model"] in ("light",) or i.get("modelSlug") == "light"))')
  open_point "$PORT" "$SERVER" /v2/models/light/infer "$RUN/light.json" application/json - "$KEY" "$OPEN_RATE" 64
  echo "| platform | light JSON, open loop at $OPEN_RATE/s | ≤ 64 | $OL_OK | $OL_OTHER | $OL_RPS | $OL_P50 | $OL_P99 | OpenLoop $OL_CPU_US µs/request |"
  stop_server
  echo
  echo "The platform's $PLATFORM_WARM."
  echo
  EXTRA=$((METERED - LIGHT_OK))
  EXACT=$( [ "$LIGHT_OTHER" -eq 0 ] && [ "$EXTRA" -ge 0 ] && [ "$EXTRA" -le "$IN_FLIGHT" ] && echo yes || echo no)
  echo "Metering: the consumer's usage summary counts **$METERED** light calls; wrk counted **$LIGHT_OK** light 200s"
  echo "(warm-ups included), and up to $IN_FLIGHT more were answered after wrk's deadlines, unread (one per connection"
  echo "per point): metered - counted = $EXTRA, within [0, $IN_FLIGHT]: **$EXACT**; light answers other than 200: $LIGHT_OTHER."
  echo
  L64=${R[platform/light JSON/64]}
  PEER64=${R[peer/light JSON/64]}
  target "light model, 64 clients, metering on and exact" \
    "$L64 requests/s = $(awk -v a="$L64" -v b="$PEER64" 'BEGIN { printf "%.1f", a / b }')x the peer's $PEER64; metering exact: $EXACT" \
    ">= 6x the peer, >= 20k/s, metered = 200s" \
    "$( [ "$EXACT" = yes ] && [ "$(met "$L64" 20000)" = met ] && [ "$(met "$L64" "$((6 * PEER64))")" = met ] && echo met || echo 'not met')"
  RAWP=${RAW_P50_1[light]}
  L1=${P[platform/light JSON/1]}
  target "light model, 1 client, p50" "$L1 ms (raw single item $RAWP ms; peer ${P[peer/light JSON/1]} ms)" \
    "<= raw + 0.15 ms and below the peer" \
    "$(awk -v l="$L1" -v r="$RAWP" -v p="${P[peer/light JSON/1]}" 'BEGIN { print (l <= r + 0.15 && l < p) ? "met" : "not met" }')"
  H16=${R[platform/heavy binary/16]}
  target "heavy model, binary, 16 clients" "$H16 items/s = $(awk -v a="$H16" -v b="${RAW_BEST[heavy]}" 'BEGIN { printf "%.2f", a / b }')x the raw limit ${RAW_BEST[heavy]}" \
    ">= 0.95x the raw limit" "$(met "$(awk -v a="$H16" -v b="${RAW_BEST[heavy]}" 'BEGIN { print a / b }')" 0.95)"
  target "key-info ceiling" "$KEYINFO requests/s" ">= 50k requests/s" "$(met "$KEYINFO" 50000)"
  [ "$GEN_CAPACITY" -gt 0 ] && echo "The generator's measured capacity, $GEN_CAPACITY requests/s, is $(awk -v g="$GEN_CAPACITY" -v k="$KEYINFO" 'BEGIN { printf "%.1f", g / k }')x the fastest rate above (key-info)."
fi

sub() { # scenario script: its output into the report, its TARGET lines kept
  echo
  echo "## $1"
  echo
  if [ "$GEN_CAPACITY" -gt 0 ]; then
    echo "Load generator: wrk -t1 on CPU $CLIENT_CPUS (its CPU is a column of every table), validated above at"
    echo "$GEN_CAPACITY requests/s on its core."
    echo
  fi
  shift
  "$@" 2>&1 | tee "$RUN/sub.txt" || echo "(the scenario failed)"
}
# the targets of scripts that print only their tables, read from those tables (markdown columns)
cost_targets() {
  awk -F'|' '$2 ~ /^ *key-info/ { k = $9 } $2 ~ /^ *light-json/ { j = $9 } $2 ~ /^ *light-binary/ { b = $9 }
    END { if (j != "") printf "TARGET|allocation, light one-item request|%.1f KB (JSON), %.1f KB (binary); key-info %.1f KB|reported; <= 16 KB|%s\n",
      j, b, k, (j + 0 <= 16 && b + 0 <= 16) ? "met" : "not met" }' "$RUN/sub.txt"
}
scale_targets() {
  awk -F'|' '$2 ~ /^ *(search-|deep-)/ { if ($9 + 0 > s) { s = $9 + 0; sw = $2 } }
    $2 ~ /^ *usage-summary/ { if ($9 + 0 > u) { u = $9 + 0; uw = $3 } }
    /^close 1: / { c = $0; sub(/^close 1: /, "", c); c = c + 0 }
    /close 1 and close 2: the same invoices/ { same = 1 }
    END {
      printf "TARGET|catalog search at 100k models|worst p99 %.2f ms (%s), deep keyset pages included|p99 <= 50 ms|%s\n", s, sw, (s <= 50) ? "met" : "not met"
      printf "TARGET|a tenant'"'"'s monthly usage summary at 20M records|worst p99 %.2f ms (%s)|p99 <= 100 ms|%s\n", u, uw, (u <= 100) ? "met" : "not met"
      printf "TARGET|closing a period for 20k tenants|%.1f s, closed twice: %s|<= 60 s, idempotent|%s\n", c, same ? "the same invoices" : "DIFFERENT invoices", (c <= 60 && same) ? "met" : "not met" }' "$RUN/sub.txt"
}
has batching && BENCH_SKIP_BUILD=1 sub "Batching where it pays: the medium model" bench/batching/run.sh "$SECONDS_PER_POINT"
has cost && BENCH_SKIP_BUILD=1 sub "Per-request cost" bench/cost/run.sh "$SECONDS_PER_POINT" && cost_targets
has scale && [ -x bench/scale/run.sh ] && BENCH_SKIP_BUILD=1 sub "Marketplace scale" bench/scale/run.sh && scale_targets
has training && BENCH_SKIP_BUILD=1 sub "Inference while a training job runs" bench/training/run.sh "$SECONDS_PER_POINT"
has cluster && BENCH_SKIP_BUILD=1 sub "Cluster cost" bench/cluster/run.sh "$SECONDS_PER_POINT"

echo
echo "## Targets (issue 20)"
echo
echo "| what | measured | target | |"
echo "|---|---|---|---|"
grep -h '^TARGET|' "$REPORT" | cut -d'|' -f2- | sed 's/^/| /; s/$/ |/'
