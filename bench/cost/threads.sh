#!/usr/bin/env bash
# Where the server's one core goes at saturation (docs/benchmarks.md, "The final run", "The misses"):
# the jar as shipped on CPU 1 (BENCH_SERVER_CPUS), wrk -t1 -c64 on CPU 0, after a warm-up until the
# JIT has settled; for key-info, light JSON and light binary, each thread's CPU (utime + stime from
# /proc) over a 10 s point, grouped by kind (server event loop, access-log appender, model host
# compute, PostgreSQL, ...), as a share of the core and in µs per request. Not part of the tests.
#
#   bench/cost/threads.sh          BENCH_SKIP_BUILD=1 skips the build
#
# The snapshots of ~150 threads take time outside the window, so the sums come out above 1 core at
# saturation: the doc normalises each share to the saturated core.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
bench_tools
bench_build
RUN=$(mktemp -d /tmp/mm-threads-bench.XXXXXX)
trap stop_server EXIT
port=18391
start_server $port $RUN/data $RUN/server.log
eval "$(BENCH_PUBLISH=light /usr/bin/python3 bench/sandbox/setup.py "http://127.0.0.1:$port" bench/models/out "$RUN")"
B="http://127.0.0.1:$port"
warm_round() {
  wrk_point "$B/api/v1/key-info" 64 5 "" "" "" "$RUN/w1.txt"
  wrk_point "$B/v2/models/light/infer" 64 5 "$RUN/light.json" application/json "" "$RUN/w2.txt"
  wrk_point "$B/v2/models/light/infer" 64 5 "$RUN/light.bin" application/octet-stream "$IHCL_LIGHT" "$RUN/w3.txt"
}
warm_until_settled warm_round
echo "$WARM_LINE"
pgs() { pgrep -f "postgres" | tr "\n" " "; } # every PostgreSQL and model host on the machine: run it with nothing else
tsnap() { for pid in $SERVER $(pgrep -f HostMain) $(pgs); do for t in /proc/$pid/task/*; do echo "$pid/$(basename $t) $(awk '{print $14+$15}' $t/stat 2>/dev/null) cmd:$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null| cut -c1-20 | tr ' ' '_') $(cat $t/comm 2>/dev/null | tr ' ' '_')"; done; done; }
for spec in key-info light.json light.bin; do
  tsnap > $RUN/t0; T0=$(date +%s.%N)
  if [ $spec = key-info ]; then wrk_point "$B/api/v1/key-info" 64 10 "" "" "" "$RUN/p.txt"
  elif [ $spec = light.json ]; then wrk_point "$B/v2/models/light/infer" 64 10 "$RUN/light.json" application/json "" "$RUN/p.txt"
  else wrk_point "$B/v2/models/light/infer" 64 10 "$RUN/light.bin" application/octet-stream "$IHCL_LIGHT" "$RUN/p.txt"; fi
  T1=$(date +%s.%N); tsnap > $RUN/t1; EL=$(awk -v a=$T0 -v b=$T1 'BEGIN{print b-a}')
  echo "$spec 64 clients: $RPS/s p50 $P50 p99 $P99 wrk CPU $WRK_CPU load $(cut -d' ' -f1 /proc/loadavg)"
  python3 - $RUN $OK $SERVER $EL <<'PY'
import sys,re,collections
run,ok,server,el=sys.argv[1],float(sys.argv[2]),sys.argv[3],float(sys.argv[4]); rps=ok/el
def rd(f):
    d={}
    for l in open(f):
        p=l.split()
        if len(p)>=4: d[(p[0].split('/')[0],p[3],p[0])]=(int(p[1]),p[2])  # pid, thread name, pid/tid
    return d
a=rd(run+'/t0'); b=rd(run+'/t1')
# a thread is its pid/tid; one that started during the point counts from 0
kinds=collections.Counter()
for k,(v,cmd) in b.items():
    d=(v-a.get(k,(0,''))[0])/100/el
    pid,comm,_=k
    if pid==server:
        kind='server '+('event loop' if 'eventloo' in comm else 'GC' if ('GC' in comm or 'G1' in comm) else 'JIT' if 'Compiler' in comm else 'access-log appender' if 'Appender' in comm else 'metering/journal' if re.search('meter|journal|commit|usage',comm,re.I) else 'host reader/writer' if 'host-' in comm else 'worker pool' if 'worker' in comm else 'other ('+comm+')')
    elif 'postgres' in cmd: kind='PostgreSQL'
    else: kind='model host '+('compute' if 'compute' in comm else 'other')
    kinds[kind]+=d
tot=sum(kinds.values())
print("| thread | share of the core | µs per request |")
print("|---|---|---|")
for k,v in kinds.most_common():
    if v>0.003: print("| %s | %.3f | %.1f |"%(k,v,1e6*v/rps))
print("| all | %.3f | %.1f |"%(tot,1e6*tot/rps)); print("(over %.1f s: %d answers counted by wrk)"%(el,ok))
PY
done
