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

# jit_ticks: CPU ticks (1/100 s) the server JVM's JIT compiler threads (C1, C2) have used so far
jit_ticks() {
  local t s=0
  for t in /proc/"$SERVER"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in
      "C1 Compiler"*|"C2 Compiler"*) s=$((s + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0))) ;;
    esac
  done
  echo "$s"
}

# warm_until_settled CMD...: runs CMD (unmeasured load) again and again until, during one run, the
# server's JIT compilers used under BENCH_JIT_SETTLED (default 0.03) of a core, at most
# BENCH_WARM_ROUNDS (default 12) times. On one core the compilers compete with the server, its
# model host and PostgreSQL: a fixed 5 s warm-up left C2 compiling at 0.3 of the core through the
# first measured points. Sets WARM_LINE to what happened, for the report.
warm_until_settled() {
  local rounds=0 before after t0 t1 share start
  start=$(date +%s.%N)
  while :; do
    before=$(jit_ticks); t0=$(date +%s.%N)
    "$@" > /dev/null
    after=$(jit_ticks); t1=$(date +%s.%N); rounds=$((rounds + 1))
    share=$(awk -v a="$before" -v b="$after" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", (b - a) / 100 / (t1 - t0) }')
    if awk -v s="$share" -v m="${BENCH_JIT_SETTLED:-0.03}" 'BEGIN { exit !(s < m) }'; then
      WARM_LINE="warm-up: $rounds round(s), $(awk -v a="$start" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s, until the JIT compilers used $share of the core in a round (settled)"
      return 0
    fi
    if [ "$rounds" -ge "${BENCH_WARM_ROUNDS:-12}" ]; then
      WARM_LINE="warm-up: $rounds round(s), $(awk -v a="$start" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s; the JIT compilers still used $share of the core in the last (NOT settled)"
      return 0
    fi
  done
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
