#!/usr/bin/env python3
"""Bytes each thread of a JVM allocated during a JFR recording, from `jfr print --json --events
jdk.ThreadAllocationStatistics` (cumulative per thread, sampled every second): last minus first
sample per thread, summed. Prints TOTAL=<bytes> and the five threads that allocated most."""
import json
import subprocess
import sys

out = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ThreadAllocationStatistics", sys.argv[1]],
                     capture_output=True, text=True, check=True).stdout
events = json.loads(out)["recording"]["events"]
first, last = {}, {}
for e in events:
    v = e["values"]
    thread = (v.get("thread") or {}).get("javaName") or str((v.get("thread") or {}).get("javaThreadId"))
    t = e["values"]["startTime"]
    if thread not in first or t < first[thread][0]:
        first[thread] = (t, v["allocated"])
    if thread not in last or t > last[thread][0]:
        last[thread] = (t, v["allocated"])
per = {k: last[k][1] - first[k][1] for k in last}
print(f"TOTAL={sum(per.values())}")
for name, b in sorted(per.items(), key=lambda kv: -kv[1])[:5]:
    print(f"#   {name}: {b}", file=sys.stderr)
