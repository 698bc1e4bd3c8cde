#!/usr/bin/env python3
"""Where a JFR recording's sampled allocations went (jdk.ObjectAllocationSample, weighted by the
bytes each sample stands for): the top allocating frames outside the JDK, Netty and Vert.x (the
first frame of the project's own code on each stack, or the first non-JDK frame if none), and
the top allocated classes, as shares of the sampled total. Each thread's first sample is
dropped: its weight counts everything the thread allocated since its last sample before the
recording began.

    bench/cost/alloc_sites.py RECORDING.jfr [TOP]   (a BENCH_PROFILE=1 run of bench/cost/run.sh)
"""
import collections
import json
import subprocess
import sys

top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "40", "--events", "jdk.ObjectAllocationSample",
                      sys.argv[1]], capture_output=True, text=True, check=True).stdout
events = json.loads(out)["recording"]["events"]


def name(frame):  # a/b/C.method:line (JFR writes hidden classes with dots)
    m = frame["method"]
    return f'{m["type"]["name"].replace("/", ".")}.{m["name"]}:{frame.get("lineNumber", "?")}'


by_site, by_class, by_leaf = collections.Counter(), collections.Counter(), collections.Counter()
total = 0
seen = set()
for e in sorted(events, key=lambda e: e["values"]["startTime"]):
    v = e["values"]
    thread = (v.get("eventThread") or {}).get("javaThreadId")
    if thread not in seen:
        seen.add(thread)
        continue
    w = v["weight"]
    total += w
    frames = (v.get("stackTrace") or {}).get("frames") or []
    names = [name(f) for f in frames]
    own = next((n for n in names if n.startswith("com.modelmarket.") and "$$Lambda" not in n), None)
    other = next((n for n in names if not n.startswith(("java.", "jdk.", "sun."))), None)
    by_site[own or other or (names[0] if names else "?")] += w
    by_leaf[" < ".join(names[:4])] += w
    by_class[(v.get("objectClass") or {}).get("name", "?")] += w
print(f"{len(events)} samples, {total / 1e6:.1f} MB sampled weight")
for title, counter in (("first project frame", by_site), ("allocated class", by_class), ("top 4 frames", by_leaf)):
    print(f"\n## by {title}")
    for k, w in counter.most_common(top):
        print(f"{100 * w / total:5.1f} %  {k}")
