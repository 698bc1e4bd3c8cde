#!/usr/bin/env bash
# What the cluster costs (docs/benchmarks.md, "Scenario 6: cluster cost (issue 19)"): not part of
# the test command.
#
#   bench/cluster/run.sh [SECONDS]      default 15 s per point; BENCH_SKIP_BUILD=1 skips the build
#
# The same jar runs as (a) one all node, (b) 1 api + 1 serving node, (c) 1 api + 2 serving nodes
# (Hazelcast TCP-IP on 127.0.0.1; stores of their own: serving nodes fetch artifacts from the api
# node). Each setup has one PostgreSQL, fresh: the embedded server of its all or api node on a fixed
# port, which its serving nodes reach through MM_DB_URL (as the cluster tests share one database
# between JVMs). Every node, with its model hosts and PostgreSQL, runs on CPU 1 (BENCH_SERVER_CPUS;
# BENCH_API_CPUS and BENCH_SERVING_CPUS override it per role), wrk (-t1, bench/cluster/post.lua) on
# CPU 0 (BENCH_CLIENT_CPUS). bench/sandbox/setup.py publishes the light (digits_mlp) and heavy
# (resnet18) models with a plan no point reaches and makes a key. Points: the light model's
# one-item JSON at 1 client (latency) and at 16 (throughput), the heavy model's binary input at 16
# clients, on every setup. A row gives wrk's 200s, requests/s, p50/p99, the serving nodes that
# answered (X-Served-By), the server CPUs' use during the point (/proc/stat: everything running on
# them) and wrk's own CPU, which shows whether the client was the limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_POINT="${1:-15}"
SERVER_CPUS="${BENCH_SERVER_CPUS:-1}"
API_CPUS="${BENCH_API_CPUS:-$SERVER_CPUS}"
SERVING_CPUS="${BENCH_SERVING_CPUS:-$SERVER_CPUS}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
WARMUP_SECONDS=5
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap; }
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -B -ntp -DskipTests package
fi
/usr/bin/python3 bench/models/make_bench_models.py >/dev/null
MODELS=bench/models/out
RUN=$(mktemp -d /tmp/mm-cluster-bench.XXXXXX)
HZ=$(getconf CLK_TCK)

expand_cpus() { # "1,3-4" -> "1 3 4"
  local part out=""
  local -a parts
  IFS=, read -ra parts <<< "$1"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then out+=" $(seq -s ' ' "${part%-*}" "${part#*-}")"; else out+=" $part"; fi
  done
  echo "$out" | tr ' ' '\n' | grep . | sort -un | tr '\n' ' '
}
SERVER_CPU_LIST=" $(expand_cpus "$API_CPUS,$SERVING_CPUS")"

cpu_jiffies() { # busy jiffies of the server CPUs (user, nice, system, irq, softirq, steal)
  awk -v cpus="$SERVER_CPU_LIST" '$1 ~ /^cpu[0-9]+$/ {
    if (index(cpus, " " substr($1, 4) " ")) s += $2 + $3 + $4 + $7 + $8 + $9 } END { print s + 0 }' /proc/stat
}

PIDS=()
stop_nodes() { # serving nodes first, the node with the database last
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_nodes EXIT

start_node() { # dir name role http-port cpus heap [VAR=value ...]
  local dir=$1 name=$2 role=$3 port=$4 cpus=$5 heap=$6
  shift 6
  env MM_NODE_ROLE="$role" MM_HTTP_PORT="$port" MM_HTTP_HOST=127.0.0.1 MM_MANAGEMENT_PORT=0 \
    MM_DATA_DIR="$dir/$name" MM_DEMO_ENABLED=false MM_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1024 "$@" \
    taskset -c "$cpus" java -Xms"$heap" -Xmx"$heap" -jar marketplace/target/modelmarket.jar > "$dir/$name.log" 2>&1 &
  PIDS+=($!)
}

wait_for() { # url grep-pattern what
  for _ in $(seq 1 480); do
    curl -s "$1" 2>/dev/null | grep -q "$2" && return 0
    sleep 0.25
  done
  echo "timed out waiting for $3 ($1)" >&2
  exit 1
}

declare -A RPS P50 P99
point() { # setup model clients body ctype seconds -> one table row
  local setup=$1 model=$2 clients=$3 body=$4 ctype=$5 seconds=$6
  local ihcl="" out result before after
  [ "$ctype" = application/octet-stream ] && ihcl="$IHCL"
  before=$(cpu_jiffies)
  out=$(BODY="$body" CTYPE="$ctype" KEY="$KEY" IHCL="$ihcl" /usr/bin/time -f "CPU %U %S %e" \
        taskset -c "$CLIENT_CPUS" wrk -t1 -c"$clients" -d"${seconds}s" --timeout 10s \
        -s bench/cluster/post.lua "$BASE/v2/models/$model/infer" 2>&1)
  after=$(cpu_jiffies)
  echo "$out" > "$RUN/wrk-$setup-$model-$clients.txt"
  result=$(echo "$out" | grep '^RESULT') || { echo "wrk gave no result: $out" >&2; exit 1; }
  local ok other p50_ms p99_ms nodes least
  eval "$(echo "$result" | sed 's/RESULT //; s/ /; /g')"
  RPS[$setup/$model/$clients]=$(awk -v n="$ok" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
  P50[$setup/$model/$clients]=$p50_ms
  P99[$setup/$model/$clients]=$p99_ms
  NODES=$nodes
  awk -v setup="$setup" -v model="$model" -v c="$clients" -v ok="$ok" -v other="$other" -v s="$seconds" \
      -v p50="$p50_ms" -v p99="$p99_ms" -v nodes="$nodes" -v least="$least" -v j="$((after - before))" -v hz="$HZ" \
      -v wrk="$(echo "$out" | grep '^CPU' | awk '{printf "%.2f", ($2 + $3) / $4}')" 'BEGIN {
    answering = nodes == 0 ? "(in-process)" : nodes " (fewest " least ")"
    printf "| %s | %s | %d | %d | %d | %.0f | %.3f | %.3f | %s | %.2f | %.3f | %s |\n", setup, model, c, ok, other,
      ok / s, p50, p99, answering, j / hz / s, (ok > 0 ? j / hz * 1000 / ok : 0), wrk }'
}

warm() { # setup model clients body ctype servings: until every serving node answers (a replica loaded), at most 4 rounds
  local i
  for i in 1 2 3 4; do
    point "$1" "$2" "$3" "$4" "$5" "$WARMUP_SECONDS" > /dev/null
    [ "$NODES" -ge "$6" ] && return 0
  done
  echo "warning: after 4 warm-up rounds $NODES of $6 serving nodes answer $2 in setup $1" >&2
}

run_setup() { # label servings index
  local label=$1 servings=$2 index=$3
  local dir="$RUN/setup-$index" http=$((18390 + 10 * index)) pg=$((15490 + index)) hz0=$((15800 + 10 * index))
  mkdir -p "$dir"
  BASE="http://127.0.0.1:$http"
  if [ "$servings" -eq 0 ]; then
    start_node "$dir" all all "$http" "$API_CPUS" 2g MM_DB_EMBEDDED_PORT="$pg"
    wait_for "$BASE/health/ready" '"status":"ready"' "the all node"
  else
    local members="127.0.0.1:$hz0" s
    for s in $(seq 1 "$servings"); do members+=",127.0.0.1:$((hz0 + s))"; done
    local cluster=(MM_CLUSTER_ENABLED=true MM_CLUSTER_MEMBERS="$members")
    start_node "$dir" api api "$http" "$API_CPUS" 2g "${cluster[@]}" MM_CLUSTER_PORT="$hz0" MM_DB_EMBEDDED_PORT="$pg"
    wait_for "$BASE/health/live" '"status":"up"' "the api node"
    for s in $(seq 1 "$servings"); do
      start_node "$dir" "serving-$s" serving "$((http + s))" "$SERVING_CPUS" 1g "${cluster[@]}" \
        MM_CLUSTER_PORT="$((hz0 + s))" MM_DB_URL="postgresql://postgres:@localhost:$pg/modelmarket"
    done
    wait_for "$BASE/health/ready" "\"cluster\":\"$servings serving" "$servings serving node(s) in the api node's placement"
  fi
  eval "$(/usr/bin/python3 bench/sandbox/setup.py "$BASE" "$MODELS" "$dir")"
  warm "$label" light 16 "$dir/light.json" application/json "$servings"
  warm "$label" heavy 16 "$dir/heavy.bin" application/octet-stream "$servings"
  point "$label" light 1 "$dir/light.json" application/json "$SECONDS_PER_POINT"
  point "$label" light 16 "$dir/light.json" application/json "$SECONDS_PER_POINT"
  point "$label" heavy 16 "$dir/heavy.bin" application/octet-stream "$SECONDS_PER_POINT"
  stop_nodes
}

echo "run directory $RUN; commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server CPUs:$SERVER_CPU_LIST(api $API_CPUS, serving $SERVING_CPUS); wrk on CPU $CLIENT_CPUS; $SECONDS_PER_POINT s per point"
echo
echo "| setup | model | clients | 200s | other | requests/s | p50 ms | p99 ms | serving nodes answering | server CPUs busy (cores) | server CPU ms per call | wrk CPU (of 1 core) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
run_setup "(a) all" 0 0
run_setup "(b) 1 api + 1 serving" 1 1
run_setup "(c) 1 api + 2 serving" 2 2
echo
a="(a) all"; b="(b) 1 api + 1 serving"; c="(c) 1 api + 2 serving"
awk -v a50="${P50[$a/light/1]}" -v b50="${P50[$b/light/1]}" -v a99="${P99[$a/light/1]}" -v b99="${P99[$b/light/1]}" \
    -v al="${RPS[$a/light/16]}" -v bl="${RPS[$b/light/16]}" -v cl="${RPS[$c/light/16]}" \
    -v bh="${RPS[$b/heavy/16]}" -v ch="${RPS[$c/heavy/16]}" 'BEGIN {
  printf "- the event-bus hop, light model at 1 client, (b) - (a): p50 %+.3f ms, p99 %+.3f ms\n", b50 - a50, b99 - a99
  printf "- light model at 16 clients: (b)/(a) %.2fx, (c)/(a) %.2fx of the all node'"'"'s requests/s\n", bl / al, cl / al
  printf "- heavy model at 16 clients: (c)/(b) %.2fx\n", ch / bh }'
