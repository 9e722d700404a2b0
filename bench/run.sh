#!/usr/bin/env bash
# CIM benchmark: a full walk (every object decoded, persistence, timeline,
# recovery) of each real complete repository in ../shared/corpus/cim and of
# a 200 MB repository made by our writer, on one core. When the reference
# readers are available (see bench/README.md), they run on the same files:
#   WH_REF_PYCIM="python3 /path/run_pycim.py"  WH_REF_DISSECT="python3 /path/run_dissect.py"
# Prints one JSON line per measurement and a table of ratios. Then the
# EVTX, MOF, hive and hunt benchmarks (bench/evtx.sh, mof.sh, regf.sh, hunt.sh,
# hunt_prev.sh: this build against the build before issue 11).
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus="$here/../shared/corpus/cim"
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
repos=()
for d in fox-it_dissect.cim DFIRArtifactMuseum/Win10_APTSimulatorVM_Defender DFIRArtifactMuseum/Win10_APTSimulatorVM; do
  [ -f "$corpus/$d/OBJECTS.DATA" ] && repos+=("$corpus/$d")
done
[ ${#repos[@]} -eq 0 ] && echo "bench: corpus not found at $corpus; only the generated repository is measured" >&2
big="$out/big200"
if [ ! -f "$big/OBJECTS.DATA" ] && [ -x "$BUILD/tests/gen/wh-cimgen" ]; then
  "$BUILD/tests/gen/wh-cimgen" big "$big" 200 >/dev/null
fi
[ -f "$big/OBJECTS.DATA" ] && repos+=("$big")
results="$out/cim.jsonl"
: >"$results"
pin="taskset -c 0"
command -v taskset >/dev/null || pin=""
for r in "${repos[@]}"; do
  $pin "$BUILD/bench/bench_cim" "$r" 3 | tee -a "$results"
  for ref in PYCIM DISSECT; do
    var="WH_REF_$ref"
    cmd=${!var:-}
    [ -n "$cmd" ] || continue
    python3 - "$ref" "$r" "$cmd" <<'PY' | tee -a "$results"
import json, os, resource, shlex, subprocess, sys, time
tool, repo, cmd = sys.argv[1].lower(), sys.argv[2], sys.argv[3]
size = sum(os.path.getsize(os.path.join(repo, f)) for f in os.listdir(repo)
           if f.upper() in ("OBJECTS.DATA", "INDEX.BTR", "MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP"))
t0 = time.monotonic()
p = subprocess.run(shlex.split(cmd) + [repo], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"tool": tool, "repo": repo, "bytes": size, "seconds": round(t, 3),
                  "mb_per_s": round(size / 1e6 / t, 2), "peak_rss_mb": round(rss, 1), "exit": p.returncode}))
PY
  done
done
python3 - "$results" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.defaultdict(dict)
for r in rows: by[r["repo"]][r["tool"]] = r
print("\n%-60s %10s %9s %9s %s" % ("repository", "MB", "wmihunt s", "MB/s", "vs reference (time ratio, RSS ratio)"))
for repo, t in by.items():
    w = t["wmihunt"]
    refs = ", ".join("%s %.0fx faster, %.1fx less RSS" % (k, v["seconds"] / w["seconds"], v["peak_rss_mb"] / w["peak_rss_mb"])
                     for k, v in t.items() if k != "wmihunt")
    print("%-60s %10.1f %9.3f %9.1f %s" % (repo[-60:], w["bytes"] / 1e6, w["seconds"], w["mb_per_s"], refs or "(no reference reader set)"))
PY

"$here/bench/evtx.sh" "$BUILD"
"$here/bench/mof.sh" "$BUILD"
"$here/bench/regf.sh" "$BUILD"
"$here/bench/hunt.sh" "$BUILD"
"$here/bench/hunt_prev.sh" "$BUILD"
"$here/bench/hash.sh" "$BUILD"  # SHA-256 of evidence files: ours against libcrypto
"$here/bench/fleet.sh" "$BUILD" # peak memory against hosts in one folder
"$here/bench/cim_dump.sh" "$BUILD" # cim dump against reading the files (issue 12)
"$here/bench/casedb.sh" "$BUILD" # stack from the case store against the folders (issue 14)
"$here/bench/threads.sh" "$BUILD" # hosts read at once: 2 threads against 1 (issues 14, 16)
