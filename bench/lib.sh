# Shell helpers the wrk-driven bench scripts share (source it; it sets nothing else). Every point
# runs Debian's wrk with one thread on the client CPUs and bench/sandbox/post.lua, which counts the
# answers by status, and reports wrk's own CPU use so a table shows whether the client was the limit.

SERVER_CPUS="${BENCH_SERVER_CPUS:-1}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
HZ=$(getconf CLK_TCK)

bench_tools() { # installs what a fresh Debian lacks (as root, as .ci/run does)
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
  command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap; }
  command -v psql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client; } # bench/scale
}

bench_build() { # the jars, unless BENCH_SKIP_BUILD=1; then the bench models (idempotent)
  if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
    mvn -q -B -ntp -DskipTests package
  fi
  /usr/bin/python3 bench/models/make_bench_models.py >/dev/null
}

bench_jar() { echo "${BENCH_JAR:-marketplace/target/modelmarket.jar}"; }

# start_server PORT DATA_DIR LOG [VAR=value ...]: the jar on SERVER_CPUS, no demo; sets SERVER
start_server() {
  local port=$1 data=$2 log=$3
  shift 3
  env MM_HTTP_PORT="$port" MM_HTTP_HOST=127.0.0.1 MM_MANAGEMENT_PORT=0 MM_DATA_DIR="$data" MM_DEMO_ENABLED=false \
    MM_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1024 "$@" \
    taskset -c "$SERVER_CPUS" java -Xms1g -Xmx2g -jar "$(bench_jar)" > "$log" 2>&1 &
  SERVER=$!
  local i
  for i in $(seq 1 240); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER" 2>/dev/null || { echo "the server stopped; see $log" >&2; return 1; }
    sleep 0.5
  done
  echo "the server was not ready in 120 s; see $log" >&2
  return 1
}

stop_server() { # a graceful stop also stops the server's embedded PostgreSQL
  if [ -n "${SERVER:-}" ]; then
    kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    SERVER=
  fi
}

# wrk_point URL CLIENTS SECONDS BODY CTYPE IHCL SAVE: one closed-loop point; sets OK OTHER RPS
# P50 P99 (ms) WRK_CPU (of its one core) and saves wrk's output to SAVE. BODY empty: a GET.
wrk_point() {
  local url=$1 clients=$2 seconds=$3 body=$4 ctype=$5 ihcl=$6 save=$7 out result ok other p50_ms p99_ms
  out=$(BODY="$body" CTYPE="$ctype" KEY="${KEY:-}" IHCL="$ihcl" /usr/bin/time -f "CPU %U %S %e" \
        taskset -c "$CLIENT_CPUS" wrk -t1 -c"$clients" -d"${seconds}s" --timeout 10s \
        -s bench/sandbox/post.lua "$url" 2>&1)
  echo "$out" > "$save"
  result=$(echo "$out" | grep '^RESULT') || { echo "wrk gave no result (see $save)" >&2; return 1; }
  eval "$(echo "$result" | sed 's/RESULT //; s/ /; /g')"
  OK=$ok OTHER=$other P50=$p50_ms P99=$p99_ms
  RPS=$(awk -v n="$ok" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
  WRK_CPU=$(echo "$out" | grep '^CPU' | awk '{printf "%.2f", ($2 + $3) / $4}')
}

# raw_limit MODEL BATCHES SECONDS SAVE: the model's raw DJL predictor loop (no HTTP, no queue, one
# PyTorch thread) on SERVER_CPUS at each batch size; prints its JSON line
raw_limit() {
  local cp
  cp="bench/target/modelmarket-bench-0.1.0-SNAPSHOT.jar:$(cat bench/target/classpath.txt)"
  taskset -c "$SERVER_CPUS" java -Xmx1g -cp "$cp" com.modelmarket.bench.market.RawLimit \
    bench/models/out "$1" false "$2" 2 "$3" 2> "$4" | tail -1
}
