#!/usr/bin/env bash
# Hive benchmark: wmihunt's reader (open + walk + every value) on the
# corpus hives and a big hive from our writer, next to regfexport on the
# same files. One JSON line per measurement.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus="$here/../shared/corpus/registry"
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
hives=()
for f in aiowinreg/NT4_SOFTWARE.reg artemis/NTUSER.DAT dfwinreg/NTUSER.DAT regipy/transactions_NTUSER.DAT \
         yarp/OldDirtyHive/OldDirtyHive regipy/corrupted_system_hive; do
  [ -f "$corpus/$f" ] && hives+=("$corpus/$f")
done
big="$out/big_hive"
[ -f "$big" ] || "$BUILD/tests/gen/wh-regfgen" big "$big" 64
hives+=("$big")
for h in "${hives[@]}"; do
  "$BUILD/bench/bench_regf" "$h" 3
  if command -v regfexport >/dev/null; then
    python3 - "$h" <<'PY'
import json, os, resource, subprocess, sys, time
h = sys.argv[1]
t0 = time.monotonic()
p = subprocess.run(["regfexport", h], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
size = os.path.getsize(h)
print(json.dumps({"tool": "regfexport", "hive": h, "bytes": size, "seconds": round(t, 4),
                  "mb_per_s": round(size / 1e6 / t, 1), "peak_rss_mb": round(rss, 1), "exit": p.returncode}))
PY
  fi
done
