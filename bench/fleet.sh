#!/usr/bin/env bash
# Memory against hosts (issue 16, point 5): peak RSS of `wmihunt hunt` and
# `wmihunt triage` over ONE folder holding N generated hosts (wh-fleetgen
# DIR N 5 N/2: a repository per host, two of them with a planted
# subscription), for N in WH_BENCH_FLEET_HOSTS (default "1 100 300 1000").
# Peak RSS from /usr/bin/time -v (required), CPU time beside it. The ratio
# printed is each N's peak against the 1-host peak: flat memory keeps it
# near 1 (issue 16: within 2x of one host's at 1,000 hosts).
# usage: bench/fleet.sh [BUILD]
set -euo pipefail
BUILD=${1:-build}
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
W="$BUILD/wmihunt"
G="$BUILD/tests/gen/wh-fleetgen"
[ -x "$W" ] && [ -x "$G" ] || { echo "bench fleet: $W or $G not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench fleet: skipped: /usr/bin/time not installed"; exit 0; }
sizes=${WH_BENCH_FLEET_HOSTS:-"1 100 300 1000"}
results="$out/fleet.jsonl"
: >"$results"
tf="$out/fleet.time"
for n in $sizes; do
  d="$out/fleet$n"
  if [ ! -f "$d/.done" ]; then
    rm -rf "$d"
    planted=5; [ "$n" -lt 5 ] && planted=1
    "$G" "$d" "$n" "$planted" $((n / 2 > planted ? n / 2 : planted)) >/dev/null
    touch "$d/.done"
  fi
  for cmd in hunt triage; do
    args=("$cmd"); [ "$cmd" = hunt ] && args+=(--no-progress)
    /usr/bin/time -v -o "$tf" "$W" "${args[@]}" "$d" >/dev/null 2>&1 || true
    python3 - "$tf" "$cmd" "$n" <<'PY' | tee -a "$results"
import json, sys
rss = cpu = 0.0
for l in open(sys.argv[1]):
    if "Maximum resident set size" in l: rss = int(l.split(":")[1]) / 1024
    elif "User time (seconds)" in l or "System time (seconds)" in l: cpu += float(l.split(":")[1])
print(json.dumps({"bench": "fleet", "command": sys.argv[2], "hosts": int(sys.argv[3]),
                  "peak_rss_mb": round(rss, 1), "cpu_s": round(cpu, 2)}))
PY
  done
done
rm -f "$tf"
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\n%-8s %7s %12s %8s %s" % ("command", "hosts", "peak RSS MB", "CPU s", "RSS / smallest N"))
for cmd in ("hunt", "triage"):
    rs = [r for r in rows if r["command"] == cmd]
    base = rs[0]["peak_rss_mb"] if rs else 0
    for r in rs:
        print("%-8s %7d %12.1f %8.2f %.2f" % (cmd, r["hosts"], r["peak_rss_mb"], r["cpu_s"],
                                              r["peak_rss_mb"] / base if base else 0))
PY
