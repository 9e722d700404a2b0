#!/usr/bin/env bash
# The command line as a user meets it: help, exit codes, every output
# format, and issue 2's acceptance path on writer-made repositories
# (persistence prints both bindings; after deletion, recover finds it).
# usage: test_cli.sh WMIHUNT WH-CIMGEN SCRATCH
set -u
W=$1 GEN=$2 T=$3
rm -rf "$T" && mkdir -p "$T"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_rc() { # want, description, command...
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ "$rc" -eq "$want" ] && ok || { bad "$what: exit $rc, want $want"; sed 's/^/  | /' "$T/err" | head -5; }
}
has() { grep -q -- "$2" "$1" && ok || bad "$3: '$2' not in $1"; }
json_ok() { python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]" "$1" && ok || bad "$2: not JSON lines"; }

expect_rc 0 "--help" "$W" --help
has "$T/out" "cim" "--help lists cim"
expect_rc 64 "no arguments" "$W"
expect_rc 64 "unknown command" "$W" frobnicate
expect_rc 0 "cim --help" "$W" cim --help
has "$T/out" "persistence" "cim --help lists persistence"
expect_rc 64 "unknown subcommand" "$W" cim frob "$T"
expect_rc 64 "unknown option" "$W" cim info --bogus "$T"
expect_rc 64 "bad format" "$W" cim info --format yaml "$T"
mkdir -p "$T/empty"
expect_rc 2 "folder without a repository" "$W" cim info "$T/empty"
has "$T/err" "nothing usable" "empty folder explains itself"

"$GEN" demo "$T/demo" >/dev/null || bad "wh-cimgen demo"
expect_rc 0 "info text" "$W" cim info "$T/demo"
expect_rc 0 "info json" "$W" cim info --format json "$T/demo"
python3 - "$T/out" <<'PY' && ok || bad "cim info --format json: one object with the documented fields"
import json, sys
d = json.load(open(sys.argv[1]))
need = ["format", "current_mapping", "mapping_sequence", "data_pages", "index_pages", "index_root",
        "keys", "namespaces", "classes", "instances"]
missing = [k for k in need if k not in d]
assert not missing, missing
assert d["format"] == "vista+" and d["keys"] > 0 and d["classes"] > 0 and d["instances"] > 0, d
PY
expect_rc 0 "persistence" "$W" cim persistence "$T/demo"
has "$T/out" "CommandLineEventConsumer" "persistence shows the CommandLine consumer"
has "$T/out" "ActiveScriptEventConsumer" "persistence shows the ActiveScript consumer"
has "$T/out" 'root\\subscription' "persistence names root\\subscription"
has "$T/out" 'root\\default' "persistence names root\\default"
has "$T/out" "CommandLineTemplate" "persistence shows the command line"
has "$T/out" "ScriptText" "persistence shows the script"
has "$T/out" "Query" "persistence shows the filter query"
has "$T/out" "S-1-" "persistence shows CreatorSID as a SID"
expect_rc 0 "persistence jsonl" "$W" cim persistence --format jsonl "$T/demo"
json_ok "$T/out" "persistence jsonl"
python3 - "$T/out" <<'PY' && ok || bad "persistence jsonl: the two malicious bindings with filter and consumer"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
b = {r["consumer_class"]: r for r in rows if r["artifact"] == "cim.binding" and r["status"] == "complete"}
assert b["CommandLineEventConsumer"]["namespace"] == "root\\subscription", b.keys()
assert b["ActiveScriptEventConsumer"]["namespace"] == "root\\default", b.keys()
for r in b.values():
    assert r["filter"]["Query"] and r["filter"]["QueryLanguage"] == "WQL" and r["filter"]["Name"]
    assert r["filter"]["CreatorSID"].startswith("S-1-")
    assert r["binding_written"] and r["filter_written"] and r["consumer_written"]
assert b["CommandLineEventConsumer"]["consumer"]["CommandLineTemplate"]
assert b["ActiveScriptEventConsumer"]["consumer"]["ScriptText"]
PY
for f in text jsonl json csv; do
  expect_rc 0 "namespaces $f" "$W" cim namespaces --format $f "$T/demo"
  expect_rc 0 "timeline $f" "$W" cim timeline --format $f "$T/demo"
done
expect_rc 0 "timeline jsonl" "$W" cim timeline --format jsonl "$T/demo"
json_ok "$T/out" "timeline jsonl"
expect_rc 0 "csv" "$W" cim timeline --format csv "$T/demo"
head -1 "$T/out" | grep -q '^artifact,source,offset,"time","timestamp_desc"' && ok || bad "timeline csv header"
expect_rc 0 "class" "$W" cim class __EventFilter -n 'root\subscription' "$T/demo"
has "$T/out" "derivation" "class shows its derivation"
expect_rc 2 "missing class" "$W" cim class NoSuchClass "$T/demo"
expect_rc 0 "instances" "$W" cim instances __EventConsumer --format jsonl "$T/demo"
json_ok "$T/out" "instances jsonl"
expect_rc 0 "keys" "$W" cim keys --format jsonl "$T/demo"
has "$T/out" "__EventFilter" "keys resolve hashed names"

# Deletion: the ActiveScript binding only survives in free space.
"$GEN" deleted "$T/deleted" >/dev/null || bad "wh-cimgen deleted"
expect_rc 0 "persistence after deletion" "$W" cim persistence --format jsonl "$T/deleted"
grep -q '"consumer_class":"ActiveScriptEventConsumer"' "$T/out" && bad "deleted binding still live" || ok
expect_rc 0 "recover" "$W" cim recover --format jsonl "$T/deleted"
has "$T/out" "__FilterToConsumerBinding" "recover finds the deleted binding"
has "$T/out" "ActiveScriptEventConsumer" "recover names the deleted consumer"

# XP layout.
"$GEN" xp "$T/xp" >/dev/null || bad "wh-cimgen xp"
expect_rc 0 "xp info" "$W" cim info --format json "$T/xp"
has "$T/out" '"format":"xp"' "xp detected"
expect_rc 0 "xp persistence" "$W" cim persistence "$T/xp"
has "$T/out" "CommandLineEventConsumer" "xp persistence"

# Damage: results still printed, exit 3, the damage named with its offset.
cp -r "$T/demo" "$T/damaged"
obj=$(ls "$T/damaged" | grep -i '^objects.data$')
size=$(stat -c %s "$T/damaged/$obj")
truncate -s $((size / 2 + 100)) "$T/damaged/$obj"
expect_rc 3 "truncated OBJECTS.DATA" "$W" cim persistence "$T/damaged"
grep -q "offset" "$T/err" && ok || bad "damage diagnostic names an offset"
# Evidence is never written.
before=$(sha256sum "$T/demo"/* | sha256sum)
"$W" cim recover "$T/demo" >/dev/null 2>&1
after=$(sha256sum "$T/demo"/* | sha256sum)
[ "$before" = "$after" ] && ok || bad "evidence changed"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
