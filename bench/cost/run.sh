#!/usr/bin/env bash
# Per-request cost of the serving path (docs/benchmarks.md, "Per-request cost"; issue 20): for
# GET /api/v1/key-info, one-item light inference as JSON, and the same as binary tensors, the
# server JVM's CPU time per request (utime + stime of the process, every thread: event loops,
# metering, GC, JIT) and its bytes allocated per request (JFR's per-thread allocation statistics,
# every thread), over a fixed window of closed-loop load from wrk (-t1, 16 connections). The model
# host's and PostgreSQL's CPU per request are printed beside it. Not part of the test command.
#
#   bench/cost/run.sh [SECONDS]      default 15 s per endpoint (after WARM_SECONDS=15 of unmeasured
#                                    load on each); BENCH_SKIP_BUILD=1 skips the build
#   BENCH_JAR=path                   runs that jar (its lib/ beside it) instead of marketplace/target/modelmarket.jar
#                                    (and skips the build), to alternate a baseline and a change
#   BENCH_PROFILE=1                  also records allocation samples (jdk.ObjectAllocationSample)
#                                    and stack samples (jdk.ExecutionSample, 10 ms) in each point's
#                                    JFR file (the run directory), for `jfr print` / `jfr summary`
#                                    and bench/cost/alloc_sites.py; the server then runs with small
#                                    fixed TLABs, since a sample is taken only at a TLAB refill
#   BENCH_JAVA_OPTS="..."            more options for the server's JVM
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_POINT="${1:-15}"
SERVER_CPUS="${BENCH_SERVER_CPUS:-1}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
CLIENTS="${BENCH_CLIENTS:-16}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
JAR="${BENCH_JAR:-marketplace/target/modelmarket.jar}"
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ] && [ -z "${BENCH_JAR:-}" ]; then
  mvn -q -B -ntp -DskipTests package
fi
/usr/bin/python3 bench/models/make_bench_models.py >/dev/null
RUN=$(mktemp -d /tmp/mm-cost-bench.XXXXXX)
PORT=18195
BASE="http://127.0.0.1:$PORT"
echo "run directory $RUN; jar $JAR ($(sha256sum "$JAR" | cut -c1-12)); commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
JAVA_OPTS="${BENCH_JAVA_OPTS:-}"
[ "${BENCH_PROFILE:-0}" = "1" ] && JAVA_OPTS="$JAVA_OPTS -XX:-ResizeTLAB -XX:TLABSize=4k"
MM_HTTP_PORT=$PORT MM_HTTP_HOST=127.0.0.1 MM_MANAGEMENT_PORT=0 MM_DATA_DIR="$RUN/data" MM_DEMO_ENABLED=false \
  MM_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1024 \
  taskset -c "$SERVER_CPUS" java -Xms1g -Xmx2g $JAVA_OPTS -jar "$JAR" > "$RUN/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  curl -fs "$BASE/health/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
eval "$(/usr/bin/python3 bench/sandbox/setup.py "$BASE" bench/models/out "$RUN")"
# the light model's input as a binary tensor (and its output asked for as binary)
LIGHT_IHCL=$(/usr/bin/python3 - "$RUN" <<'PY'
import json, struct, sys
run = sys.argv[1]
body = json.load(open(f"{run}/light.json"))
t = body["inputs"][0]
header = json.dumps({"inputs": [{"name": t["name"], "datatype": "FP32", "shape": t["shape"],
                                 "parameters": {"binary_data_size": 4 * len(t["data"])}}],
                     "parameters": {"binary_data_output": True}}).encode()
open(f"{run}/light.bin", "wb").write(header + struct.pack("<%df" % len(t["data"]), *t["data"]))
print(len(header))
PY
)

ticks() { # utime + stime of the given processes, in clock ticks (one that has exited counts nothing)
  local total=0 p v
  for p in "$@"; do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || true
    [ -n "$v" ] && total=$((total + v))
  done
  echo "$total"
}
descendants() { # every process below $1 (the server's model hosts), not others' on this machine
  local c
  for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done
}
only() { # the pids among $2.. whose command line matches $1
  local pattern=$1 p; shift
  for p in "$@"; do { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q -- "$pattern" && echo "$p"; done; true
}
hostpids() { only 'serving.host.HostMain' $(descendants "$SERVER"); }
pgpids() { # the embedded PostgreSQL's postmaster (pg_ctl leaves it to init, so not below the server) and its backends
  local pm
  pm=$(head -1 "$(find "$RUN/data" -name postmaster.pid 2>/dev/null | head -1)" 2>/dev/null) || true
  [ -n "$pm" ] && { echo "$pm"; descendants "$pm"; }
  true
}
HZ=$(getconf CLK_TCK)

warm() { # method path body ctype ihcl: unmeasured load, so that the JIT compiler has done its work
  local script=bench/sandbox/post.lua
  BODY="$3" CTYPE="$4" KEY="$KEY" IHCL="$5" taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CLIENTS" -d"${WARM_SECONDS:-15}s" \
    -s "$script" "$BASE$2" > /dev/null 2>&1
}

point() { # label method path body ctype ihcl
  local label=$1 method=$2 path=$3 body=$4 ctype=$5 ihcl=$6 script out result s0 h0 p0 s1 h1 p1 cpu
  script=bench/sandbox/post.lua
  # the measured window inside one JFR recording
  local profile=""
  [ "${BENCH_PROFILE:-0}" = "1" ] && profile="+jdk.ObjectAllocationSample#enabled=true +jdk.ObjectAllocationSample#throttle=2000/s +jdk.ObjectAllocationSample#stackTrace=true +jdk.ExecutionSample#enabled=true +jdk.ExecutionSample#period=10ms"
  jcmd "$SERVER" JFR.start name=cost settings=none +jdk.ThreadAllocationStatistics#enabled=true \
    +jdk.ThreadAllocationStatistics#period=1s $profile > /dev/null 2>&1 || jcmd "$SERVER" JFR.start name=cost > /dev/null
  sleep 1.2
  s0=$(ticks "$SERVER"); h0=$(ticks $(hostpids)); p0=$(ticks $(pgpids))
  out=$(BODY="$body" CTYPE="$ctype" KEY="$KEY" IHCL="$ihcl" /usr/bin/time -f "CPU %U %S %e" \
        taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CLIENTS" -d"${SECONDS_PER_POINT}s" --timeout 10s -s "$script" "$BASE$path" 2>&1)
  s1=$(ticks "$SERVER"); h1=$(ticks $(hostpids)); p1=$(ticks $(pgpids))
  sleep 1.2
  jcmd "$SERVER" JFR.stop name=cost filename="$RUN/$label.jfr" > /dev/null
  echo "$out" > "$RUN/wrk-$label.txt"
  result=$(echo "$out" | grep '^RESULT')
  cpu=$(echo "$out" | grep '^CPU' | awk '{printf "%.2f", ($2 + $3) / $4}')
  eval "$(echo "$result" | sed 's/RESULT //; s/ /; /g')"
  # allocation over the whole recording (warm-down included): per request of the window, an upper bound
  eval "$(/usr/bin/python3 bench/cost/allocations.py "$RUN/$label.jfr" 2> "$RUN/alloc-$label.txt")"
  printf "| %s | %s | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %s |\n" "$label" "$ok" "$other" \
    "$(echo "$ok / $seconds" | bc -l)" \
    "$(echo "($s1 - $s0) * 1000000 / $HZ / $ok" | bc -l)" \
    "$(echo "($h1 - $h0) * 1000000 / $HZ / $ok" | bc -l)" \
    "$(echo "($p1 - $p0) * 1000000 / $HZ / $ok" | bc -l)" \
    "$(echo "$TOTAL / $ok / 1024" | bc -l)" "$cpu"
}

# every endpoint warmed first (measured, a first pass of key-info cost 5x its warm figure in JIT work)
warm GET /api/v1/key-info "" "" ""
warm POST /v2/models/light/infer "$RUN/light.json" application/json ""
warm POST /v2/models/light/infer "$RUN/light.bin" application/octet-stream "$LIGHT_IHCL"
echo "| request | 200s | other | requests/s | server JVM CPU µs/request | model host CPU µs/request | PostgreSQL CPU µs/request | server KB allocated/request | wrk CPU (of 1 core) |"
echo "|---|---|---|---|---|---|---|---|---|"
point key-info GET /api/v1/key-info "" "" ""
point light-json POST /v2/models/light/infer "$RUN/light.json" application/json ""
point light-binary POST /v2/models/light/infer "$RUN/light.bin" application/octet-stream "$LIGHT_IHCL"
