#!/usr/bin/env bash
# cim dump (issue 12): the whole repository in one pass, against reading its
# files from the page cache, in the same run; with --recover too. Bound of
# the issue: the 24 MB Windows 10 repository in <= 0.5 s and <= 150 MB peak.
# The reference readers' full walks (python-cim, dissect.cim: about 32 s and
# 70 s on this machine per the issue) are timed when their command lines are
# given, as for bench/run.sh: WH_REF_PYCIM, WH_REF_DISSECT (they are not
# packaged for Debian and PyPI is out of reach here).
# usage: cim_dump.sh BUILD_DIR   (WH_BENCH_DUMP_RUNS, default 5)
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus="$here/../shared/corpus/cim"
runs=${WH_BENCH_DUMP_RUNS:-5}
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
results="$out/cim_dump.jsonl"
: >"$results"
[ -x /usr/bin/time ] || { echo "cim dump: skipped: /usr/bin/time not installed"; exit 0; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
measure() { # label cmd...: median wall seconds and the largest peak RSS (MB) of $runs runs
  local label=$1; shift
  local walls=() peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out/t.$$" "$@" >/dev/null 2>&1 || true
    read -r w m <"$out/t.$$"
    walls+=("$w")
    [ "$m" -gt "$peak" ] && peak=$m
  done
  rm -f "$out/t.$$"
  printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | median)" "$((peak / 1024))"
}
printf '%-40s %10s %10s %10s %8s %s\n' repository "read s" "dump s" "ratio" "peak MB" verdict
for d in DFIRArtifactMuseum/Win10_APTSimulatorVM DFIRArtifactMuseum/Win10_APTSimulatorVM_Defender fox-it_dissect.cim; do
  r="$corpus/$d"
  [ -f "$r/OBJECTS.DATA" ] || { echo "cim dump: skipped: no corpus repository at $r"; continue; }
  read -r rd _ < <(measure read cat "$r/OBJECTS.DATA" "$r/INDEX.BTR" "$r/MAPPING1.MAP" "$r/MAPPING2.MAP" "$r/MAPPING3.MAP")
  for mode in plain recover; do
    args=(cim dump "$r")
    [ "$mode" = recover ] && args=(cim dump --recover "$r")
    read -r dw dm < <(measure dump "$BUILD/wmihunt" "${args[@]}")
    # /usr/bin/time counts in 10 ms: a read under that has no ratio
    ratio=$(awk -v a="$dw" -v b="$rd" 'BEGIN {if (b > 0) printf "%.0fx", a / b; else printf "-"}')
    verdict=PASS
    awk -v a="$dw" 'BEGIN {exit !(a > 0.5)}' && verdict=OVER
    [ "$dm" -gt 150 ] && verdict=OVER
    printf '%-40s %10s %10s %10s %8s %s\n' "$( [ "$mode" = recover ] && echo "$d --recover" || echo "$d")" "$rd" "$dw" "$ratio" "$dm" "$verdict"
    printf '{"series":"cim_dump","repository":"%s","mode":"%s","read_s":%s,"dump_s":%s,"peak_mb":%s,"verdict":"%s"}\n' \
      "$d" "$mode" "$rd" "$dw" "$dm" "$verdict" >>"$results"
  done
  for ref in PYCIM DISSECT; do
    var="WH_REF_$ref"
    cmd=${!var:-}
    [ -n "$cmd" ] || continue
    read -r w m < <(measure "$ref" $cmd "$r")
    printf '%-40s %10s %10s %10s %8s reference %s\n' "$d" "$rd" "$w" "-" "$m" "$ref"
  done
done
echo "(results: $results)"
