#!/usr/bin/env bash
# Runs every libFuzzer target for a while (ASan+UBSan), starting from the
# committed seeds and regression inputs. A crash is saved under
# fuzz/regressions/<target>/ so that `make test` replays it from then on.
# usage: run-fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
BUILD=$1
SECS=${2:-${FUZZ_SECONDS:-300}}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
ran=0
for bin in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  t=$(basename "$bin" | sed 's/^fuzz_//')
  ran=$((ran + 1))
  work="$BUILD/fuzz-corpus/$t"
  mkdir -p "$work" "$root/fuzz/regressions/$t"
  dict=()
  [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  # A target's own flags: fuzz_image's libraries ask for 4 GB that a normal
  # build's calloc would refuse (fuzz/image.flags raises the malloc limit).
  [ -f "$root/fuzz/$t.flags" ] && read -r -a extra < "$root/fuzz/$t.flags" && dict+=("${extra[@]}")
  echo "== fuzzing $t for ${SECS}s"
  # Leaks inside the image libraries (tests/lsan.supp) are theirs, not ours.
  if ! LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0" "$bin" "${dict[@]}" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$root/fuzz/regressions/$t/" "$work" "$root/fuzz/seeds/$t"; then
    echo "fuzz: $t found a problem; the input is in fuzz/regressions/$t/ (replayed by make test)" >&2
    status=1
  fi
done
if [ "$ran" -eq 0 ]; then
  echo "fuzz: no fuzz_* targets in $BUILD/fuzz (configure with -DWH_FUZZ=ON and clang)" >&2
  exit 1
fi
exit $status
