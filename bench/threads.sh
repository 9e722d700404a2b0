#!/usr/bin/env bash
# Hosts read at once (issue 14 point 4, issue 16 point 4): `hunt` and
# `stack` over N generated host folders (wh-fleetgen; WH_BENCH_THREADS_HOSTS,
# default 1000) with --threads 2 against --threads 1, in the same run;
# median wall time of 5 and the peak RSS. Prints one JSON line.
# usage: bench/threads.sh [BUILD]
set -euo pipefail
BUILD=${1:-build}
n=${WH_BENCH_THREADS_HOSTS:-1000}
. "$(dirname "$0")/fleetlib.sh"
fleet_setup "$BUILD" threads "$n"
python3 - "$W" "$d" "$n" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
w, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
hosts = sorted(os.path.join(d, h) for h in os.listdir(d) if os.path.isdir(os.path.join(d, h)))
def t(args):
    s = []
    for _ in range(5):
        t0 = time.monotonic()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s.append(time.monotonic() - t0)
    return statistics.median(s)
r = {"bench": "threads", "hosts": n, "cores": os.cpu_count()}
for cmd in ("hunt", "stack"):
    base = [w, cmd, "--no-progress", "--format", "jsonl"] if cmd == "hunt" else [w, cmd, "--format", "jsonl"]
    one = t(base + ["--threads", "1"] + hosts)
    two = t(base + ["--threads", "2"] + hosts)
    r[cmd + "_1_s"], r[cmd + "_2_s"], r[cmd + "_speedup"] = round(one, 3), round(two, 3), round(one / two, 2)
r["peak_rss_children_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
print(json.dumps(r))
PY
