#!/usr/bin/env bash
# Hunt benchmark: what the case stage (grouping findings and records into
# cases with their life) costs, as the ratio of `wmihunt hunt` to `wmihunt
# hunt --no-cases` in the same run. --no-cases runs the same pipeline
# (discovery, every reader, the rules, the records kept for the report) but
# makes every finding its own case: the flat list of rule hits. Issue 10's
# bound: cases / no-cases <= 1.10 on the whole corpus.
# Two series, each in the JSONL report and the text report (output to
# /dev/null), N runs of each mode interleaved (A B, B A, ...), median wall
# time, peak RSS from /usr/bin/time -v when available:
#   corpus  ../shared/corpus (all of it, one DIR: one host section)
#   hosts   the `make demo` collection (tests/gen/casegen.py demo) as many
#           host folders (hard links to one generated copy), one DIR each
# usage: bench/hunt.sh [BUILD]
# env:   WH_BENCH_HUNT_RUNS (default 7), WH_BENCH_HUNT_HOSTS (default 50),
#        WH_BENCH_HUNT_CORPUS (default ../shared/corpus of this checkout)
# Always exits 0 when it could measure: OVER is printed, not failed.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
runs=${WH_BENCH_HUNT_RUNS:-7}
nhosts=${WH_BENCH_HUNT_HOSTS:-50}
corpus=${WH_BENCH_HUNT_CORPUS:-$(dirname "$here")/shared/corpus}
W="$BUILD/wmihunt"
[ -x "$W" ] || { echo "bench hunt: $W not built" >&2; exit 1; }

series=()
if [ -d "$corpus" ]; then
  series+=("corpus" "$corpus")
else
  echo "hunt corpus: skipped: no corpus at $corpus"
fi

# The many-hosts tree, regenerated every run (0.3 s) so that it follows the
# generator: one demo collection, then NN host folders of hard links to it.
hosts="$out/hunt-hosts"
rm -rf "$hosts"
mkdir -p "$hosts"
if python3 "$here/tests/gen/casegen.py" --gen "$BUILD/tests/gen" demo "$hosts/demo" >/dev/null 2>"$hosts/gen.err"; then
  dirs=()
  for i in $(seq -w 1 "$nhosts"); do
    cp -al "$hosts/demo" "$hosts/h$i" 2>/dev/null || cp -r "$hosts/demo" "$hosts/h$i"
    dirs+=("$hosts/h$i")
  done
  series+=("hosts" "$(printf '%s\n' "${dirs[@]}")")
else
  echo "hunt hosts: skipped: casegen.py demo failed ($(head -c 200 "$hosts/gen.err"))"
fi
[ ${#series[@]} -eq 0 ] && { echo "bench hunt: nothing to measure"; exit 0; }

pin="taskset -c 0"
command -v taskset >/dev/null || pin=""
results="$out/hunt.jsonl"
: >"$results"
WH_BENCH_LIB="$here/bench" python3 - "$W" "$runs" "$pin" "$results" "${series[@]}" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time
sys.path.insert(0, os.environ["WH_BENCH_LIB"])
import benchlib  # noqa: E402
w, runs, pin, results = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
args = sys.argv[5:]
series = [(args[i], args[i + 1].split("\n")) for i in range(0, len(args), 2)]
BOUND = 1.10
have_time = os.access("/usr/bin/time", os.X_OK)
tf = "/tmp/wh-bench-hunt-time.%d" % os.getpid()
log = open(results, "a")

def emit(r):
    s = json.dumps(r)
    print(s); sys.stdout.flush()
    log.write(s + "\n"); log.flush()

def du(paths):
    # Bytes of every file under the DIRs, hard links each time: what is read.
    return sum(os.path.getsize(os.path.join(d, f)) for p in paths for d, _, fs in os.walk(p) for f in fs)

def cmd(fmt, nocases, dirs):
    c = pin + [w, "hunt", "--no-progress"]
    if fmt != "text": c += ["--format", fmt]
    if nocases: c.append("--no-cases")
    return c + dirs

def once(c):
    return benchlib.once(c, tf, have_time)

def counts(dirs, nocases):
    # Untimed: what the report holds (hosts, cases, findings).
    p = subprocess.run(cmd("jsonl", nocases, dirs), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = {"hosts": 0, "cases": 0, "findings": 0}
    for l in p.stdout.splitlines():
        if b'"artifact":"hunt.host"' in l: n["hosts"] += 1
        elif b'"artifact":"hunt.case"' in l: n["cases"] += 1
        elif b'"artifact":"hunt.finding"' in l: n["findings"] += 1
    return n

pairs = []
for name, dirs in series:
    size = du(dirs)
    cc, cn = counts(dirs, False), counts(dirs, True)
    print("input %s: %s%s, %.1f MB; cases mode: %d host section(s), %d cases, %d findings; "
          "--no-cases: %d cases" % (name, dirs[0], " (+%d more DIRs)" % (len(dirs) - 1) if len(dirs) > 1 else "",
                                    size / 1e6, cc["hosts"], cc["cases"], cc["findings"], cn["cases"]))
    sys.stdout.flush()
    for fmt in ("jsonl", "text"):
        a, b = cmd(fmt, False, dirs), cmd(fmt, True, dirs)
        once(a); once(b)                                   # warm the page cache
        ta, tb, ra, rb, ua, ub, ca, cb = [], [], [], [], [], [], set(), set()
        for i in range(runs):
            order = [(a, ta, ra, ua, ca), (b, tb, rb, ub, cb)]
            if i % 2: order.reverse()                      # interleaved, alternating
            for c, t, r, u, codes in order:
                wall, rss, cpu, rc = once(c)
                t.append(wall); codes.add(rc)
                if rss is not None: r.append(rss)
                if cpu is not None: u.append(cpu)
        row = {}
        for mode, t, r, u, codes in (("cases", ta, ra, ua, ca), ("no-cases", tb, rb, ub, cb)):
            row[mode] = {"series": name, "format": fmt, "mode": mode, "runs": runs,
                         "median_s": round(statistics.median(t), 4), "min_s": round(min(t), 4),
                         "max_s": round(max(t), 4),
                         "cpu_s": round(statistics.median(u), 3) if u else None,
                         "peak_rss_mb": round(statistics.median(r), 1) if r else None,
                         "mb_per_s": round(size / 1e6 / statistics.median(t), 1),
                         "exit": sorted(codes)}
            emit(row[mode])
            bad = [x for x in codes if x not in (0, 1, 3, 4)]
            if bad:
                print("  warning: %s %s exited %s (not a report)" % (name, mode, bad))
        # The verdict is on the median wall times. Two more views that a
        # busy machine disturbs less: the best run of each, and the CPU time
        # (user + sys, /usr/bin/time's 10 ms steps).
        ratio = row["cases"]["median_s"] / row["no-cases"]["median_s"]
        rmin = row["cases"]["min_s"] / row["no-cases"]["min_s"]
        rcpu = None
        if row["cases"]["cpu_s"] and row["no-cases"]["cpu_s"]:
            rcpu = round(row["cases"]["cpu_s"] / row["no-cases"]["cpu_s"], 3)
        rr = None
        if row["cases"]["peak_rss_mb"] and row["no-cases"]["peak_rss_mb"]:
            rr = round(row["cases"]["peak_rss_mb"] / row["no-cases"]["peak_rss_mb"], 3)
        r = {"series": name, "format": fmt, "ratio": round(ratio, 3), "ratio_min": round(rmin, 3),
             "ratio_cpu": rcpu, "rss_ratio": rr, "bound": BOUND,
             "verdict": "PASS" if ratio <= BOUND else "OVER"}
        emit(r)
        pairs.append((r, row["cases"], row["no-cases"]))

print("\n%-14s %9s %11s %7s %9s %9s %8s %11s %9s %s" % ("series/format", "cases s", "no-cases s", "ratio",
      "best-run", "CPU ratio", "RSS MB", "no-cases MB", "RSS ratio", "median ratio <= %.2f" % BOUND))
opt = lambda x, f: f % x if x is not None else "-"
for r, a, b in pairs:
    print("%-14s %9.3f %11.3f %7.3f %9.3f %9s %8s %11s %9s %s" % ("%s/%s" % (r["series"], r["format"]),
          a["median_s"], b["median_s"], r["ratio"], r["ratio_min"], opt(r["ratio_cpu"], "%.3f"),
          opt(a["peak_rss_mb"], "%.1f"), opt(b["peak_rss_mb"], "%.1f"), opt(r["rss_ratio"], "%.3f"),
          r["verdict"]))
try:
    os.unlink(tf)
except OSError:
    pass
PY
