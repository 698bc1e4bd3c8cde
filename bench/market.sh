#!/usr/bin/env bash
# The marketplace benchmark with its own Java load generator (docs/benchmarks.md, Scenario 2; bench/run.sh
# runs every scenario with wrk, which issue 20 showed this generator cannot match):
#
#   bench/market.sh [MarketBench options]     e.g. bench/market.sh --phases raw,keyinfo,closed,open,profile,overload
#
# Builds the project, makes the benchmark models (bench/models/out/, git-ignored), then runs
# com.modelmarket.bench.market.MarketBench pinned to CPU 0 (BENCH_CLIENT_CPUS); it pins the servers,
# the peer and the raw predictor loop to CPU 1 (--server-cpus) and writes docs/benchmarks.md and
# bench/runs/<time>/. About 8 minutes on 2 cores; --help lists the options.
# BENCH_SKIP_BUILD=1 skips the Maven build.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
for module in torch torchvision fastapi uvicorn; do
  if ! /usr/bin/python3 -c "import $module" 2>/dev/null; then
    echo "missing Python module $module: apt-get install python3-torch python3-torchvision python3-fastapi python3-uvicorn" >&2
    exit 1
  fi
done
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -B -ntp -DskipTests package
fi
/usr/bin/python3 bench/models/make_bench_models.py >/dev/null
CP="bench/target/modelmarket-bench-0.1.0-SNAPSHOT.jar:$(cat bench/target/classpath.txt)"
exec taskset -c "$CLIENT_CPUS" java -Xmx1g -cp "$CP" com.modelmarket.bench.market.MarketBench \
  --client-cpus "$CLIENT_CPUS" "$@"
