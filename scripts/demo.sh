#!/usr/bin/env bash
# make demo: builds a KAPE-style collection with our own writers (a CIM
# repository holding a malicious CommandLine consumer beside the Windows
# defaults, a WMI-Activity/Sysmon/PowerShell event log, MOF files including
# one outside wbem, a SOFTWARE hive with Autorecover MOFs), then runs the
# main job on it: wmihunt hunt.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
out="$BUILD/demo"
rm -rf "$out" && mkdir -p "$out"
python3 "$here/tests/gen/treegen.py" --cimgen "$BUILD/tests/gen/wh-cimgen" --evtxgen "$BUILD/tests/gen/wh-evtxgen" \
  kape "$out/collection" >/dev/null
cfg="$out/collection/C/Windows/System32/config"
mkdir -p "$out/hive"
"$BUILD/tests/gen/wh-regfgen" demo "$out/hive" >/dev/null
cp "$out/hive/SOFTWARE" "$cfg/SOFTWARE"
rm -f "$cfg/SOFTWARE.LOG1" "$cfg/SOFTWARE.LOG2" # the demo hive is clean
echo "== wmihunt triage $out/collection"
"$BUILD/wmihunt" triage "$out/collection" --format csv 2>/dev/null | cut -d, -f1-5 | head -20 || true
echo
echo "== wmihunt hunt --timeline $out/timeline.csv $out/collection"
set +e
"$BUILD/wmihunt" hunt --no-progress --timeline "$out/timeline.csv" "$out/collection"
rc=$?
set -e
echo
echo "(exit code $rc: 1 means findings at high or above; timeline in $out/timeline.csv)"
[ $rc -le 1 ]
