#!/usr/bin/env bash
# wmihunt hunt / baseline / stack end to end, on evidence our writers make:
# a KAPE-style collection (treegen.py), and a fleet of 50 hosts of which 2
# carry a subscription imitating the default names (wh-fleetgen).
# usage: test_hunt.sh WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH
set -u
W=$1 GEN=$2 SRC=$3 T=$4
rm -rf "$T" && mkdir -p "$T"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

# A collection with the demo repository, a WMI event log and MOFs.
python3 "$SRC/gen/treegen.py" --cimgen "$GEN/wh-cimgen" --evtxgen "$GEN/wh-evtxgen" kape "$T/kape" >/dev/null \
  || bad "treegen kape"
before=$(find "$T/kape" -type f -exec sha256sum {} + | sort | sha256sum)
"$W" hunt --no-progress --timeline "$T/tl.csv" "$T/kape" >"$T/report.txt" 2>"$T/err.txt"
rc=$?
# The kape tree's SOFTWARE hive is a placeholder (not a hive): findings and
# damaged evidence together are exit 4, and the hive is named on stderr.
check "hunt on a malicious collection with a damaged hive exits 4 (cases at high or above, evidence damaged), got $rc" '[ $rc -eq 4 ]'
check "the damaged hive is named on stderr" 'grep -q "SOFTWARE" "$T/err.txt"'
check "report opens with the host and counts cases and findings" 'grep -q "^wmihunt hunt: .*: [0-9]* case(s): [0-9]* critical, .*; [0-9]* finding(s)" "$T/report.txt"'
check "a critical or high case carries ATT&CK T1546.003" 'awk "/^#[0-9]+ (CRITICAL|HIGH) /{c=1} /^#[0-9]+ (MEDIUM|LOW|INFO) /{c=0} c && /ATT&CK:.*T1546.003/{f=1} END{exit !f}" "$T/report.txt"'
check "the encoded PowerShell consumer is in the evidence" 'grep -q -- "-Enc" "$T/report.txt"'
check "the report lists the files read with SHA-256" 'grep -q "sha256 [0-9a-f]\{64\}" "$T/report.txt"'
check "timeline CSV has a header and lines" '[ "$(head -1 "$T/tl.csv")" = "datetime,timestamp_desc,host,case_id,severity,rule,artifact,message,user,content,source,offset" ] && [ $(wc -l < "$T/tl.csv") -gt 10 ]'
check "timeline CSV is sorted by time" 'tail -n +2 "$T/tl.csv" | cut -c1-27 | sort -c'
check "timeline rows of a case carry its id and severity" 'grep -q ",\"c-[0-9a-f]\{12\}\",\"\(critical\|high\)\"," "$T/tl.csv"'
"$W" hunt -q --no-progress --format jsonl --timeline "$T/tl.jsonl" "$T/kape" >"$T/report.jsonl"
check "jsonl report: one JSON object per line with findings" 'python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert any(x[\"artifact\"]==\"hunt.finding\" for x in r)" "$T/report.jsonl"'
check "timeline JSONL has Timesketch fields" 'python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert r and all(\"datetime\" in x and \"timestamp_desc\" in x and \"message\" in x for x in r)" "$T/tl.jsonl"'
"$W" hunt -q --no-progress --timeline "$T/tl.body" "$T/kape" >/dev/null
check "bodyfile lines have 11 fields" 'awk -F"|" "NF!=11{exit 1}" "$T/tl.body" && [ -s "$T/tl.body" ]'
after=$(find "$T/kape" -type f -exec sha256sum {} + | sort | sha256sum)
check "evidence unchanged by hunt" '[ "$before" = "$after" ]'

# Evidence copied out by hand: a repository folder under another name and
# event logs renamed, in a folder that is no Windows tree. Hunt must still
# read both (an analyst's export is not always laid out like C:).
mkdir -p "$T/loose/host42_repo"
cp "$T"/kape/C/Windows/System32/wbem/Repository/* "$T/loose/host42_repo/"
cp "$T/kape/C/Windows/System32/winevt/Logs/Microsoft-Windows-WMI-Activity%4Operational.evtx" "$T/loose/host42_export.evtx"
"$W" hunt --no-progress --format jsonl "$T/loose" >"$T/loose.jsonl" 2>"$T/loose_err.txt"
check "loose folder: findings from the renamed repository" 'grep "\"hunt.finding\"" "$T/loose.jsonl" | grep -q "host42_repo"'
check "loose folder: findings from the renamed event log" 'grep "\"hunt.finding\"" "$T/loose.jsonl" | grep -q "host42_export.evtx"'
"$W" hunt -q --no-progress --fail-on critical --format jsonl "$T/kape" >"$T/crit.jsonl"
rc=$?
crit=$(grep '"artifact":"hunt.case"' "$T/crit.jsonl" | grep -c '"severity":"critical"')
# exit 1 (4 with damaged evidence) exactly when a case reaches --fail-on; else 0, or 3 for damaged evidence
check "--fail-on critical: exit $rc with $crit critical case(s)" '{ [ "$crit" -gt 0 ] && [ $rc -eq 4 ]; } || { [ "$crit" -eq 0 ] && [ $rc -eq 3 ]; }'
mkdir -p "$T/empty"
"$W" hunt --no-progress "$T/empty" >/dev/null 2>"$T/err2.txt"
rc=$?
check "hunt on an empty folder exits 2 (got $rc)" '[ $rc -eq 2 ]'
check "and says why" 'grep -q "no usable evidence" "$T/err2.txt"'
"$W" hunt --timeline "$T/x.txt" "$T/kape" >/dev/null 2>&1
check "a timeline name without .csv/.jsonl/.body is a usage error" '[ $? -eq 64 ]'

# Fleet: 50 hosts, planted on 17 and 33.
"$GEN/wh-fleetgen" "$T/fleet" 50 17 33 >/dev/null || bad "wh-fleetgen"
"$W" stack -q --format jsonl "$T"/fleet/host* >"$T/stack.jsonl"
check "stack ranks the planted subscription first, on exactly the 2 planted hosts" 'python3 - "$T/stack.jsonl" <<PY
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
top = rows[0]
assert top["hosts"] == 2 and top["of"] == 50, top
assert sorted(h.rsplit("/", 1)[1] for h in top["host_list"]) == ["host17", "host33"], top["host_list"]
assert "SCM Event Log Consumer " in top["name"] and "powershell" in top["text"], top
assert rows[-1]["hosts"] == 50  # the real default, on every host, last
PY'
"$W" baseline create "$T/fleet/host01" >"$T/h01.baseline" 2>/dev/null
check "baseline has items" 'grep -q "baseline.item" "$T/h01.baseline"'
"$W" hunt -q --no-progress --format jsonl --baseline "$T/h01.baseline" "$T/fleet/host33" >"$T/b33.jsonl"
check "baseline: the planted host shows the new subscription" 'python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert any(x.get(\"rule\")==\"WH-BASE-NEW\" and \"SCM Event Log Consumer \" in x[\"evidence\"] for x in r)" "$T/b33.jsonl"'
"$W" hunt -q --no-progress --format jsonl --baseline "$T/h01.baseline" "$T/fleet/host02" >"$T/b02.jsonl"
check "baseline: a clean host shows nothing new" '! grep -q "WH-BASE" "$T/b02.jsonl"'

# A baseline is JSON lines: escapes are decoded (the item's text comes back
# whole) and lines that are not baseline items are named, not fatal.
{ echo 'not json'; echo '{"artifact":"baseline.item","kind":"subscription","key":"00","name":"gone","text":"Name=\"gone\" \\ end"}'; } >"$T/hand.baseline"
"$W" hunt --no-progress --format jsonl --baseline "$T/hand.baseline" "$T/kape" >"$T/hand.jsonl" 2>"$T/hand_err.txt"
check "baseline: a hand-written item missing from the host is reported with its text decoded" 'python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert any(x.get(\"rule\")==\"WH-BASE-MISSING\" and x[\"evidence\"]==\"Name=\\\"gone\\\" \\\\ end\" for x in r)" "$T/hand.jsonl"'
check "baseline: the line that is not an item is named on stderr" 'grep -q "1 of 2 line(s) are not baseline items" "$T/hand_err.txt"'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
