#!/usr/bin/env bash
# Batching where it pays (docs/benchmarks.md, "The run of record"; issue 20): the medium model (wide_mlp_2k,
# bench/models/make_bench_models.py) against its raw limit, with dynamic batching on and off.
#
#   bench/batching/run.sh [SECONDS]     default 15 s per point; BENCH_SKIP_BUILD=1 skips the build
#
# First the raw limit: one DJL predictor in a tight loop on the server's CPU (BENCH_SERVER_CPUS,
# default 1) at batch 1 to 64. Then the same jar twice on that CPU with the model host sandbox and
# metering on, as shipped: "on" (serving.max-batch-size=64, the load-time calibration picks the
# cap) and "off" (serving.max-batch-size=1); wrk (-t1, CPU 0) sends one-item binary-tensor
# requests at 1, 16 and 64 connections. Prints one table and the ratios the issue's targets name.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
SECONDS_PER_POINT="${1:-15}"
bench_tools
bench_build
RUN=$(mktemp -d /tmp/mm-batching-bench.XXXXXX)
trap stop_server EXIT
echo "run directory $RUN; commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"

raw=$(raw_limit wide_mlp_2k 1,2,4,8,16,32,64 "$SECONDS_PER_POINT" "$RUN/raw.log")
echo "$raw" > "$RUN/raw.json"
echo
echo "| raw predictor loop, batch | items/s | p50 ms per call |"
echo "|---|---|---|"
/usr/bin/python3 -c 'import json,sys
for p in json.loads(sys.argv[1])["points"]: print("| %d | %.0f | %.3f |" % (p["batch"], p["itemsPerSecond"], p["p50Ms"]))' "$raw"
RAW1=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["points"][0]["itemsPerSecond"])' "$raw")
RAW32=$(/usr/bin/python3 -c 'import json,sys; print([p for p in json.loads(sys.argv[1])["points"] if p["batch"] == 32][0]["itemsPerSecond"])' "$raw")
RAWBEST=$(/usr/bin/python3 -c 'import json,sys; print(max(p["itemsPerSecond"] for p in json.loads(sys.argv[1])["points"]))' "$raw")
echo
echo "| batching | clients | 200s | other | items/s | p50 ms | p99 ms | wrk CPU (of 1 core) |"
echo "|---|---|---|---|---|---|---|---|"
declare -A ITEMS WARM
port=18290
for mode in on off; do
  port=$((port + 1))
  max=64
  [ "$mode" = off ] && max=1
  start_server "$port" "$RUN/data-$mode" "$RUN/server-$mode.log" MM_SERVING_MAX_BATCH_SIZE=$max
  eval "$(BENCH_PUBLISH=medium /usr/bin/python3 bench/sandbox/setup.py "http://127.0.0.1:$port" bench/models/out "$RUN")"
  url="http://127.0.0.1:$port/v2/models/medium/infer"
  warm_round() { wrk_point "$url" 64 10 "$RUN/medium.bin" application/octet-stream "$IHCL_MEDIUM" "$RUN/warm-$mode.txt"; }
  warm_until_settled warm_round # the JIT, the first batches
  WARM[$mode]=$WARM_LINE
  for c in 1 16 64; do
    wrk_point "$url" "$c" "$SECONDS_PER_POINT" "$RUN/medium.bin" application/octet-stream "$IHCL_MEDIUM" "$RUN/wrk-$mode-$c.txt"
    ITEMS[$mode/$c]=$RPS
    printf "| %s | %d | %d | %d | %d | %.3f | %.3f | %s |\n" "$mode" "$c" "$OK" "$OTHER" "$RPS" "$P50" "$P99" "$WRK_CPU"
  done
  grep -o 'batch cap .*calibrated in [0-9]* ms' "$RUN/server-$mode.log" | head -1 | sed 's/^/  calibration: /' || true
  stop_server
done
echo
echo "- batching on: ${WARM[on]}; off: ${WARM[off]}"
awk -v r1="$RAW1" -v r32="$RAW32" -v best="$RAWBEST" -v on64="${ITEMS[on/64]}" -v off64="${ITEMS[off/64]}" \
    -v on16="${ITEMS[on/16]}" -v off16="${ITEMS[off/16]}" -v on1="${ITEMS[on/1]}" -v off1="${ITEMS[off/1]}" 'BEGIN {
  printf "- raw: batch 32 gives %.1fx the items/s of batch 1 (target >= 8x)\n", r32 / r1
  printf "- 64 clients: batching on %.2fx off (target >= 5x); on = %.2fx the raw best-batch limit (target >= 0.7x)\n", on64 / off64, on64 / best
  printf "- 16 clients: on %.2fx off, %.2fx raw best; 1 client: on %.2fx off\n", on16 / off16, on16 / best, on1 / off1
  printf "TARGET|medium model: raw batch 32 against batch 1|%.1fx (%.0f against %.0f items/s)|>= 8x|%s\n", r32 / r1, r32, r1, (r32 >= 8 * r1) ? "met" : "not met"
  printf "TARGET|medium model, 64 clients|batching on %.2fx off (%d against %d items/s); %.2fx the raw best-batch limit %.0f|on >= 5x off, >= 0.7x raw|%s\n", on64 / off64, on64, off64, on64 / best, best, (on64 >= 5 * off64 && on64 >= 0.7 * best) ? "met" : "not met" }'
