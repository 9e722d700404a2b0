#!/usr/bin/env bash
# make demo: builds a KAPE-style collection of one host with our own writers
# (tests/gen/casegen.py demo: an hour on WS-FIN-07.corp.example.com) and runs
# the main job on it: wmihunt hunt. The story: CORP\jose.m logs on over RDP,
# runs PowerShell recon and a wmic /node: lateral execution, compiles an
# autorecover MOF (an ActiveScript subscription in root\default) and
# creates a CommandLine subscription with Set-WmiInstance; the latter fires
# after each of two reboots, the former at the next logon and is then
# deleted with wmic. Each event is in its own log (Sysmon, Security,
# WMI-Activity, PowerShell), the repository holds the live subscription and
# the remains of the deleted one, SOFTWARE lists the MOF under Autorecover
# MOFs.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
out="$BUILD/demo"
rm -rf "$out" && mkdir -p "$out"
python3 "$here/tests/gen/casegen.py" --gen "$BUILD/tests/gen" demo "$out/collection" >/dev/null
echo "== wmihunt hunt --timeline $out/timeline.csv --html $out/report.html $out/collection"
echo
set +e
"$BUILD/wmihunt" hunt --no-progress --timeline "$out/timeline.csv" --html "$out/report.html" "$out/collection"
rc=$?
set -e
report=$(cd "$out" && pwd)/report.html
echo
echo "(exit code $rc: 1 means a case at high or above; the sorted timeline is in $out/timeline.csv;"
echo " try also: $BUILD/wmihunt hunt --format jsonl $out/collection, or --sort time, --min-severity high)"
echo
echo "HTML report: $report"
echo "  open it in any browser (it loads nothing from the network): xdg-open $report"
echo "  or: chromium file://$report"
[ $rc -le 1 ]
