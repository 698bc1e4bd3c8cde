#!/usr/bin/env bash
# The light model's throughput while a training job runs on the same server (docs/benchmarks.md,
# "Inference while a job trains"): not part of the test command.
#
#   bench/training/run.sh [SECONDS]      default 20 s per point; BENCH_SKIP_BUILD=1 skips the build
#
# One server (model hosts, metering on, training.threads=1, training.cpu-priority as configured (idle)) on CPU 1
# (BENCH_SERVER_CPUS), the light model published and subscribed by bench/sandbox/setup.py, wrk -t1
# on CPU 0 (BENCH_CLIENT_CPUS) with one-item JSON inference at 1, 16 and 64 clients: first with no
# job, then the same points while one long training job (bench/training/job.py: an MLP on breast
# cancer, 500 epochs) trains on the server's core; the job must still be running at the end of the
# last point, and its epochs done are printed, so the comparison shows both sides of the sharing;
# then the no-job points once more after the job is cancelled, so that they bracket the job.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_POINT="${1:-20}"
SERVER_CPUS="${BENCH_SERVER_CPUS:-1}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -B -ntp -DskipTests package
fi
/usr/bin/python3 bench/models/make_bench_models.py >/dev/null
MODELS=bench/models/out
RUN=$(mktemp -d /tmp/mm-training-bench.XXXXXX)
PORT=18190
BASE="http://127.0.0.1:$PORT"
echo "run directory $RUN; commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
MM_HTTP_PORT=$PORT MM_HTTP_HOST=127.0.0.1 MM_MANAGEMENT_PORT=0 MM_DATA_DIR="$RUN/data" MM_DEMO_ENABLED=false \
  MM_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1024 MM_TRAINING_CPU_PRIORITY="${BENCH_TRAINING_PRIORITY:-idle}" \
  taskset -c "$SERVER_CPUS" java -Xms1g -Xmx2g -jar marketplace/target/modelmarket.jar > "$RUN/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  curl -fs "$BASE/health/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
eval "$(/usr/bin/python3 bench/sandbox/setup.py "$BASE" "$MODELS" "$RUN")"

point() { # label clients
  local label=$1 clients=$2 out result cpu
  out=$(BODY="$RUN/light.json" CTYPE=application/json KEY="$KEY" IHCL="" /usr/bin/time -f "CPU %U %S %e" \
        taskset -c "$CLIENT_CPUS" wrk -t1 -c"$clients" -d"${SECONDS_PER_POINT}s" --timeout 10s \
        -s bench/sandbox/post.lua "$BASE/v2/models/light/infer" 2>&1)
  echo "$out" > "$RUN/wrk-$label-$clients.txt"
  result=$(echo "$out" | grep '^RESULT')
  cpu=$(echo "$out" | grep '^CPU' | awk '{printf "%.2f", ($2 + $3) / $4}')
  eval "$(echo "$result" | sed 's/RESULT //; s/ /; /g')"
  printf "| %s | %s | %s | %s | %.0f | %.3f | %.3f | %s |\n" "$label" "$clients" "$ok" "$other" \
    "$(echo "$ok / $seconds" | bc -l)" "$p50_ms" "$p99_ms" "$cpu"
}

SAVED=$SECONDS_PER_POINT; SECONDS_PER_POINT=5
point warm-up 16 > /dev/null
SECONDS_PER_POINT=$SAVED
echo "| training | clients | 200s | other | requests/s | p50 ms | p99 ms | wrk CPU (of 1 core) |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 16 64; do point "no job" "$c"; done
eval "$(/usr/bin/python3 bench/training/job.py "$BASE" start)"
for _ in $(seq 1 100); do
  case "$(/usr/bin/python3 bench/training/job.py "$BASE" state "$TOKEN" "$JOB")" in running*) break ;; esac
  sleep 0.2
done
BEFORE=$(/usr/bin/python3 bench/training/job.py "$BASE" state "$TOKEN" "$JOB")
# the scheduling priorities in play: every host JVM's (the light model's serving host, and the job's
# own process, which trains; IDL = SCHED_IDLE); the server's mm-training thread only waits for it
for h in $(pgrep -f '^[^ ]*java .*serving.host.HostMain' || true); do
  echo "host JVM $h: scheduling class $(ps -o cls= -p "$h" | tr -d ' '), nice $(ps -o ni= -p "$h" | tr -d ' ')"
done
bench/training/threads.sh "$SERVER" > "$RUN/threads-before.txt"
for c in 1 16 64; do point "one job" "$c"; done
bench/training/threads.sh "$SERVER" > "$RUN/threads-after.txt"
echo "CPU seconds by thread name during the points with a job (server, its children, host JVMs; job: = the job's process):"
join -a2 -e0 -o 0,1.2,2.2 "$RUN/threads-before.txt" "$RUN/threads-after.txt" \
  | awk '{d = ($3 - $2) / 100; if (d >= 0.5) printf "  %-22s %.1f\n", $1, d}' | sort -k2 -nr | head -12
AFTER=$(/usr/bin/python3 bench/training/job.py "$BASE" state "$TOKEN" "$JOB")
echo "job during the points: from '$BEFORE' to '$AFTER' (state, epoch/epochs)"
case "$AFTER" in running*) ;; *) echo "the job was no longer running at the end: the comparison is not valid"; exit 1 ;; esac
/usr/bin/python3 bench/training/job.py "$BASE" cancel "$TOKEN" "$JOB"
# the same points again once the job has ended, so that "no job" brackets "one job" (the first
# points may still carry the server's warm-up)
for _ in $(seq 1 50); do
  case "$(/usr/bin/python3 bench/training/job.py "$BASE" state "$TOKEN" "$JOB")" in running*|queued*) sleep 0.2 ;; *) break ;; esac
done
for c in 1 16 64; do point "no job, after" "$c"; done
