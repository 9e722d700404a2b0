#!/usr/bin/env bash
# The case store (issue 14): stacking N generated hosts from the database
# (`stack --db`) against re-reading their folders (`stack DIR...`), in the
# same run; and the cost of `hunt --db` against `hunt` alone. Prints JSON
# lines with wall seconds (median of 3) and the ratios.
# usage: bench/casedb.sh [BUILD]   (WH_BENCH_CASEDB_HOSTS, default 1000)
set -euo pipefail
BUILD=${1:-build}
n=${WH_BENCH_CASEDB_HOSTS:-1000}
. "$(dirname "$0")/fleetlib.sh"
fleet_setup "$BUILD" casedb "$n"
db="$out/casedb$n.sqlite"
python3 - "$W" "$d" "$db" "$n" <<'PY'
import json, os, statistics, subprocess, sys, time
w, d, db, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
hosts = sorted(os.path.join(d, h) for h in os.listdir(d) if os.path.isdir(os.path.join(d, h)))
def t(args, reps=3, before=None):
    s = []
    for _ in range(reps):
        if before: before()
        t0 = time.monotonic()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s.append(time.monotonic() - t0)
    return statistics.median(s)
rm = lambda: os.path.exists(db) and os.remove(db)
hunt = t([w, "hunt", "--no-progress", "--format", "jsonl"] + hosts)
hunt_db = t([w, "hunt", "--no-progress", "--format", "jsonl", "--db", db] + hosts, before=rm)
folders = t([w, "stack", "--format", "jsonl"] + hosts)
stored = t([w, "stack", "--format", "jsonl", "--db", db])
print(json.dumps({"bench": "casedb", "hosts": n, "hunt_s": round(hunt, 3), "hunt_db_s": round(hunt_db, 3),
                  "hunt_db_over_hunt": round(hunt_db / hunt, 2), "stack_folders_s": round(folders, 3),
                  "stack_db_s": round(stored, 3), "folders_over_db": round(folders / stored, 1)}))
PY
