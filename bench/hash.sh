#!/usr/bin/env bash
# Hashing benchmark (issue 16, point 3): the SHA-256 that `hunt` computes of
# every evidence file, our portable lib/core/hash.c against what the build
# uses for it (libcrypto when found, lib/hunt/hunt_hash.c), on one 64 MiB
# file in the page cache, best of N each, interleaved, pinned to one core.
# The ratio is ours / backend in time (how many times faster the backend is).
# usage: bench/hash.sh [BUILD]     env: WH_BENCH_HASH_RUNS (default 5)
set -euo pipefail
BUILD=${1:-build}
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
B="$BUILD/bench/bench_hash"
[ -x "$B" ] || { echo "bench hash: $B not built" >&2; exit 1; }
pin="taskset -c 0"
command -v taskset >/dev/null || pin=""
$pin "$B" "$out/hash64.bin" "${WH_BENCH_HASH_RUNS:-5}" | tee "$out/hash.jsonl"
python3 - "$out/hash.jsonl" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print("\nSHA-256 of %.0f MiB: ours %.0f MB/s, %s %.0f MB/s: ours/%s time ratio %.2f" % (
    r["bytes"] / 2**20, r["ours_mb_per_s"], r["backend"], r["backend_mb_per_s"], r["backend"],
    r["ratio_ours_over_backend"]))
PY
