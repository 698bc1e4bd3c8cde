#!/usr/bin/env bash
# CPU ticks per thread name of a process tree (the server, its model hosts and job hosts, its
# PostgreSQL): what bench/training/run.sh prints before and after the points with a job, to show who
# used the core. Threads of a SCHED_IDLE process (a training job's host) are named job:NAME.
root=$1
for pid in $root $(pgrep -P "$root") $(for c in $(pgrep -P "$root"); do pgrep -P "$c"; done) $(pgrep -f 'serving.host.HostMain'); do
  prefix=""
  [ "$(ps -o cls= -p "$pid" 2>/dev/null | tr -d ' ')" = IDL ] && prefix="job:"
  for t in /proc/$pid/task/*; do
    [ -r "$t/stat" ] || continue
    comm=$(cat "$t/comm" 2>/dev/null)
    s=$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')
    echo "$prefix${comm// /_} $s"
  done
done | awk '{sum[$1] += $2} END {for (k in sum) print k, sum[k]}' | sort
