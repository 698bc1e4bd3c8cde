#!/usr/bin/env bash
# Sandboxed model hosts against in-process serving, with wrk as the load generator
# (docs/benchmarks.md, "Model hosts against in-process serving"):
#
#   bench/sandbox/run.sh [SECONDS]      default 20 s per point; BENCH_SKIP_BUILD=1 skips the build
#   BENCH_JAR=path                      runs that jar (its lib/ beside it) instead of marketplace/target/modelmarket.jar
#                                       (and skips the build), to alternate a baseline and a change
#
# The same jar runs twice on CPU 1 (BENCH_SERVER_CPUS), once with serving.sandbox=off (models in the
# server's JVM) and once with serving.sandbox=bwrap (models in a sandboxed host process, which
# inherits the same CPU), and once more with hosts and metering off, for metering's cost; wrk runs on
# CPU 0 (BENCH_CLIENT_CPUS). BENCH_MODES picks a subset ("off bwrap"), BENCH_MODELS one model ("heavy"). For every point it prints the 200s
# wrk counted, requests/s, p50/p99, and wrk's own CPU use, which shows whether the client was the limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_POINT="${1:-20}"
SERVER_CPUS="${BENCH_SERVER_CPUS:-1}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap; }
JAR="${BENCH_JAR:-marketplace/target/modelmarket.jar}"
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ] && [ -z "${BENCH_JAR:-}" ]; then
  mvn -q -B -ntp -DskipTests package
fi
/usr/bin/python3 bench/models/make_bench_models.py >/dev/null
MODELS=bench/models/out
RUN=$(mktemp -d /tmp/mm-sandbox-bench.XXXXXX)
echo "run directory $RUN; jar $JAR ($(sha256sum "$JAR" | cut -c1-12)); commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| sandbox | model | clients | 200s | other | requests/s | p50 ms | p99 ms | wrk CPU (of 1 core) |"
echo "|---|---|---|---|---|---|---|---|---|"

point() { # mode model clients body ctype
  local mode=$1 model=$2 clients=$3 body=$4 ctype=$5 out
  local ihcl=""
  [ "$ctype" = application/octet-stream ] && ihcl="$IHCL"
  out=$(BODY="$body" CTYPE="$ctype" KEY="$KEY" IHCL="$ihcl" /usr/bin/time -f "CPU %U %S %e" \
        taskset -c "$CLIENT_CPUS" wrk -t1 -c"$clients" -d"${SECONDS_PER_POINT}s" --timeout 10s \
        -s bench/sandbox/post.lua "http://127.0.0.1:$PORT/v2/models/$model/infer" 2>&1)
  echo "$out" > "$RUN/wrk-$mode-$model-$clients.txt"
  local result cpu
  result=$(echo "$out" | grep '^RESULT')
  cpu=$(echo "$out" | grep '^CPU' | awk '{printf "%.2f", ($2 + $3) / $4}')
  eval "$(echo "$result" | sed 's/RESULT //; s/ /; /g')"
  printf "| %s | %s | %s | %s | %s | %.0f | %.3f | %.3f | %s |\n" "$mode" "$model" "$clients" "$ok" "$other" \
    "$(echo "$ok / $seconds" | bc -l)" "$p50_ms" "$p99_ms" "$cpu"
}

PORT=18090
SERVER=
# a graceful stop also stops the server's embedded PostgreSQL
trap '[ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true' EXIT
# off: in-process; bwrap: model hosts; bwrap-unmetered: model hosts with metering switched off (its cost)
for mode in ${BENCH_MODES:-off bwrap bwrap-unmetered}; do
  PORT=$((PORT + 1))
  DATA="$RUN/data-$mode-$PORT" # a mode may be listed twice (to see drift): fresh data each time
  metered=true
  [ "$mode" = bwrap-unmetered ] && metered=false
  MM_HTTP_PORT=$PORT MM_HTTP_HOST=127.0.0.1 MM_MANAGEMENT_PORT=0 MM_DATA_DIR="$DATA" MM_DEMO_ENABLED=false \
    MM_SERVING_SANDBOX=${mode%-unmetered} MM_METERING_ENABLED=$metered MM_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1024 \
    taskset -c "$SERVER_CPUS" java -Xms1g -Xmx2g -jar "$JAR" > "$RUN/server-$mode.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do
    curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  eval "$(/usr/bin/python3 bench/sandbox/setup.py "http://127.0.0.1:$PORT" "$MODELS" "$RUN")"
  # warm up both models (JIT, first batches, calibration done at publish)
  SECONDS_SAVED=$SECONDS_PER_POINT; SECONDS_PER_POINT=5
  point "$mode" light 16 "$RUN/light.json" application/json > /dev/null
  point "$mode" heavy 4 "$RUN/heavy.bin" application/octet-stream > /dev/null
  SECONDS_PER_POINT=$SECONDS_SAVED
  case " ${BENCH_MODELS:-light heavy} " in *" light "*)
    for c in 1 16 64; do point "$mode" light "$c" "$RUN/light.json" application/json; done ;;
  esac
  case " ${BENCH_MODELS:-light heavy} " in *" heavy "*)
    for c in 1 16; do point "$mode" heavy "$c" "$RUN/heavy.bin" application/octet-stream; done ;;
  esac
  kill -TERM "$SERVER"; wait "$SERVER" || true
  SERVER=
done
