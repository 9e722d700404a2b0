#!/usr/bin/env bash
# Hosts read at once (issue 14 point 4, issue 16 point 4): `hunt` and
# `stack` over N generated host folders (wh-fleetgen; WH_BENCH_THREADS_HOSTS,
# default 1000) with --threads 2 against --threads 1, in the same run;
# median wall time of 5 and the peak RSS. Then one host read with several
# threads: `hunt` on ../shared/corpus as one host (WH_BENCH_CORPUS; skipped
# when absent), --threads 1 and 2 alternated WH_BENCH_CORPUS_RUNS times
# (default 9; this VM's speed moves by a third from one minute to the
# next, so only runs made seconds apart are compared): best and median of
# each, their ratios, and each one's peak RSS. Prints one JSON line each.
# usage: bench/threads.sh [BUILD]
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
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
corpus=${WH_BENCH_CORPUS:-$here/../shared/corpus}
if [ ! -d "$corpus" ]; then
  echo "bench threads: no corpus at $corpus: one host on two threads not measured" >&2
  exit 0
fi
python3 - "$W" "$corpus" "${WH_BENCH_CORPUS_RUNS:-9}" <<'PY'
import json, os, statistics, subprocess, sys, time
w, corpus, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def once(threads):
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN is the largest of all).
    t0 = time.monotonic()
    p = subprocess.Popen([w, "hunt", "--no-progress", "--format", "jsonl", "--threads", str(threads), corpus],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return time.monotonic() - t0, ru.ru_maxrss / 1024
s = {1: [], 2: []}
rss = {1: 0.0, 2: 0.0}
for i in range(runs):
    for threads in ((1, 2) if i % 2 == 0 else (2, 1)):  # alternated: neither always runs first
        sec, mb = once(threads)
        s[threads].append(sec)
        rss[threads] = max(rss[threads], mb)
r = {"bench": "threads_one_host", "corpus": corpus, "runs": runs, "cores": os.cpu_count()}
for k in (1, 2):
    r["hunt_%d_best_s" % k] = round(min(s[k]), 3)
    r["hunt_%d_median_s" % k] = round(statistics.median(s[k]), 3)
    r["peak_rss_%d_mb" % k] = round(rss[k], 1)
r["speedup_best"] = round(min(s[1]) / min(s[2]), 2)
r["speedup_median"] = round(statistics.median(s[1]) / statistics.median(s[2]), 2)
# Each pair of runs made seconds apart: the spread of the ratio on this machine.
pairs = sorted(a / b for a, b in zip(s[1], s[2]))
r["speedup_pairs_min"], r["speedup_pairs_max"] = round(pairs[0], 2), round(pairs[-1], 2)
print(json.dumps(r))
PY
