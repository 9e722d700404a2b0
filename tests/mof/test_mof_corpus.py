#!/usr/bin/env python3
"""Every fact of ../shared/corpus/mof/EXPECTED.md asserted on the real files,
read in place through `wmihunt mof --format jsonl`. Prints "skipped: ..."
(ctest SKIP_REGULAR_EXPRESSION) when the corpus is absent.
usage: test_mof_corpus.py WMIHUNT CORPUS_MOF_DIR"""
import json, os, subprocess, sys

cli, corpus = sys.argv[1], sys.argv[2]
if not os.path.isdir(corpus):
    print("skipped: MOF corpus not found at %s" % corpus)
    sys.exit(0)
checks = fails = 0

def check(cond, what):
    global checks, fails
    checks += 1
    if not cond:
        fails += 1
        print("FAIL", what)

def run(rel, *args):
    p = subprocess.run([cli, "mof", "--format", "jsonl"] + list(args) + [os.path.join(corpus, rel)],
                       capture_output=True, timeout=60)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    f = recs[0]
    check(f["artifact"] == "mof.file", rel + ": first record is mof.file")
    return p, f, [r for r in recs if r["artifact"] == "mof.instance"], [r for r in recs if r["artifact"] == "mof.class"]

def ns_pragmas(f):
    return [p["args"][0] for p in f["pragmas"] if p["name"].lower() == "namespace"]

def eq(a, b, what):
    check(a == b, "%s: expected %r, got %r" % (what, b, a))

# --- malicious/atomic-T1546.003.mof
rel = "malicious/atomic-T1546.003.mof"
p, f, ins, cls = run(rel)
eq(p.returncode, 0, rel + " exit")
eq(f["encoding"], "utf-8", rel + " encoding")
eq(f["autorecover"], True, rel + " autorecover")
eq(f["pragmas"][0]["name"], "AUTORECOVER", rel + " first pragma (upper case, line 1)")
eq(f["pragmas"][0]["line"], 1, rel + " autorecover line")
eq(ns_pragmas(f), ["\\\\.\\root\\subscription"], rel + " namespace pragma")
eq((f["instances"], f["classes"], len(ins), len(cls)), (3, 0, 3, 0), rel + " counts")
eq([i["class"] for i in ins], ["CommandLineEventConsumer", "__EventFilter", "__FilterToConsumerBinding"], rel + " order")
c, flt, b = ins
eq(c["alias"], "$Cons", rel + " consumer alias")
eq(c["properties"], {"Name": "AtomicRedTeam_consumer", "RunInteractively": False, "CommandLineTemplate": "cmd.exe"}, rel + " consumer")
eq(flt["alias"], "$Filt", rel + " filter alias")
eq(flt["properties"], {"Name": "AtomicRedTeam_filter", "EventNamespace": "root\\subscription",
    "Query": 'SELECT * FROM __InstanceCreationEvent Within 3 Where TargetInstance Isa "Win32_Process" And Targetinstance.Name = "notepad.exe" ',
    "QueryLanguage": "WQL"}, rel + " filter")
eq(b["properties"], {"Filter": '__EventFilter.Name="AtomicRedTeam_filter"',
                     "Consumer": 'CommandLineEventConsumer.Name="AtomicRedTeam_consumer"'}, rel + " binding")
eq([(r["alias"], r["resolved"]) for r in b["references"]], [("$Filt", True), ("$Cons", True)], rel + " binding aliases")
for i in ins:
    eq((i["persistence"], i["persistence_capable_namespace"], i["namespace"]), (True, True, "root\\subscription"), rel + " " + i["class"])
eq([i["persistence_role"] for i in ins], ["consumer", "filter", "binding"], rel + " roles")

# --- malicious/kingsguard-test.mof
rel = "malicious/kingsguard-test.mof"
p, f, ins, cls = run(rel)
eq(p.returncode, 0, rel + " exit")
eq(f["autorecover"], False, rel + " autorecover")
eq(ns_pragmas(f), ["\\\\.\\root\\subscription"], rel + " namespace pragma")
eq((f["instances"], f["classes"]), (9, 0), rel + " counts")
for n, proc in enumerate(["Taskmgr.exe", "procexp.exe", "procexp64.exe"], 1):
    c, flt, b = ins[3 * (n - 1): 3 * n]
    eq((c["class"], c["alias"]), ("CommandLineEventConsumer", "$c%d" % n), rel + " consumer %d" % n)
    eq(c["properties"], {"Name": "Kingsguard-%d" % n, "RunInteractively": False,
        "CommandLineTemplate": "cmd.exe /c C:\\windows\\system32\\knight.exe C:\\windows\\system32\\kingsguard.dll " + proc},
       rel + " consumer %d" % n)
    eq((flt["class"], flt["alias"]), ("__EventFilter", "$f%d" % n), rel + " filter %d" % n)
    eq(flt["properties"], {"Name": "Kingsguard-%d" % n, "EventNamespace": "root\\subscription",
        "Query": 'SELECT * FROM __InstanceCreationEvent Within 3 Where TargetInstance Isa "Win32_Process" And Targetinstance.Name LIKE "%s" ' % proc[:-4],
        "QueryLanguage": "WQL"}, rel + " filter %d" % n)
    eq(b["class"], "__FilterToConsumerBinding", rel + " binding %d" % n)
    eq(b["properties"], {"Filter": '__EventFilter.Name="Kingsguard-%d"' % n,
                         "Consumer": 'CommandLineEventConsumer.Name="Kingsguard-%d"' % n}, rel + " binding %d" % n)
    eq([r["alias"] for r in b["references"]], ["$f%d" % n, "$c%d" % n], rel + " binding %d aliases" % n)
    for i in (c, flt, b):
        eq((i["persistence"], i["persistence_capable_namespace"]), (True, True), rel + " persistence %d" % n)

# --- malformed/explorezone-nullevt.mof: strict refuses at line 1 or 3; tolerant saves the triad
rel = "malformed/explorezone-nullevt.mof"
p, f, ins, cls = run(rel, "--strict")
eq(p.returncode, 3, rel + " strict exit")
check("error" in f and f["error"]["line"] in (1, 3), rel + " strict error at line 1 or 3: %r" % f.get("error"))
check(b"nullevt.mof" in p.stderr and b"line 1" in p.stderr, rel + " strict error names file and line")
p, f, ins, cls = run(rel)
eq(p.returncode, 3, rel + " tolerant exit (damage reported)")
eq(f["degraded"], True, rel + " degraded")
check(f["repairs_total"] >= 2, rel + " repairs listed")
eq(len(ins), 3, rel + " instances saved")
byc = {i["class"]: i for i in ins}
c = byc.get("ActiveScriptEventConsumer", {})
eq(c.get("properties", {}).get("Name"), "consPCSV2", rel + " consumer name")
eq(c.get("properties", {}).get("ScriptingEngine"), "JScript", rel + " engine")
st = c.get("properties", {}).get("ScriptText", "")
check("WScript.Shell" in st and "net.exe user admin admin /add" in st, rel + " script text: %r" % st)
flt = byc.get("__EventFilter", {})
fp = flt.get("properties", {})
eq(fp.get("Name"), "filtP2", rel + " filter name")
check("Win32_LocalTime" in fp.get("Query", "") and "TargetInstance.Second = 5" in fp.get("Query", ""), rel + " filter query")
b = byc.get("__FilterToConsumerBinding", {})
eq(b.get("properties"), {"Consumer": 'ActiveScriptEventConsumer.Name="consPCSV2"', "Filter": '__EventFilter.Name="filtP2"'},
   rel + " binding")
eq([r["alias"] for r in b.get("references", [])], ["$Consumer", "$EventFilter"], rel + " binding aliases")
for i in ins:
    eq(i["persistence"], True, rel + " persistence " + i["class"])

# --- benign/classic-decoupled-event_consumer-ProvReg.mof
rel = "benign/classic-decoupled-event_consumer-ProvReg.mof"
p, f, ins, cls = run(rel)
eq(p.returncode, 0, rel + " exit")
eq(f["autorecover"], True, rel + " autorecover")
eq(ns_pragmas(f), ["\\\\.\\root", "\\\\.\\root\\cimv2"], rel + " namespace pragmas")
eq([(c["class"], c["superclass"]) for c in cls], [("DecoupledEventConsumer", "__EventConsumer"),
   ("MSFT_DecoupledProvider", "__Win32Provider")], rel + " classes")
eq([p_["name"] for p_ in cls[0]["properties"] if p_["key"]], ["Name"], rel + " consumer class key")
prov = {p_["name"]: p_ for p_ in cls[1]["properties"]}
eq(prov["Clsid"]["default"], "{54D8502C-527D-43F7-A506-A9DA075E229C}", rel + " Clsid default")
eq(prov["HostingModel"]["default"], "Decoupled:Com", rel + " HostingModel default")
check(set(prov["Clsid"]["qualifiers"]) == {"Description", "Override"}, rel + " qualifiers")
eq([i["class"] for i in ins], ["__Namespace", "MSFT_DecoupledProvider", "__EventConsumerProviderRegistration",
   "__EventFilter", "DecoupledEventConsumer", "__FilterToConsumerBinding"], rel + " instances")
eq(ins[0]["properties"], {"Name": "cimv2"}, rel + " namespace")
eq((ins[1]["alias"], ins[1]["properties"]), ("$PDecoupledEventConsumer", {"Name": "DecoupledEventConsumer", "HostingModel": "Decoupled:Com"}), rel + " provider")
eq(ins[2]["properties"]["ConsumerClassNames"], ["DecoupledEventConsumer"], rel + " registration")
eq((ins[3]["alias"], ins[3]["properties"]), ("$EventFilter", {"Query": "select * from SampleEvent", "QueryLanguage": "WQL", "Name": "DecoupledFilter"}), rel + " filter")
eq((ins[4]["alias"], ins[4]["properties"]), ("$EventConsumer", {"Name": "DecoupledEventConsumer"}), rel + " consumer")
eq(ins[5]["properties"], {"Filter": '__EventFilter.Name="DecoupledFilter"', "Consumer": 'DecoupledEventConsumer.Name="DecoupledEventConsumer"'}, rel + " binding")
for i in ins[3:]:
    eq((i["persistence"], i["namespace"], i["persistence_capable_namespace"]), (True, "root\\cimv2", False), rel + " triad " + i["class"])
eq([i["persistence"] for i in ins[:3]], [False] * 3, rel + " non-persistence instances")

# --- benign/classic-SampleViewer.Mof
rel = "benign/classic-SampleViewer.Mof"
p, f, ins, cls = run(rel)
eq(p.returncode, 0, rel + " exit")
eq(f["autorecover"], True, rel + " autorecover")
eq([p_["name"] for p_ in f["pragmas"]][:2], ["namespace", "AUTORECOVER"], rel + " autorecover after first namespace")
eq(ns_pragmas(f), ["\\\\.\\Root\\cimv2", "\\root\\cimv2\\SAMPLE_Office"], rel + " namespace pragmas")
eq([(c["class"], c["superclass"]) for c in cls], [("SampleViewerConsumer", "__EventConsumer")], rel + " class")
eq([i["class"] for i in ins], ["__Namespace", "__Win32Provider", "__EventConsumerProviderRegistration", "SampleViewerConsumer"], rel + " instances")
eq(ins[0]["properties"].get("Name"), "SAMPLE_Office", rel + " namespace")
eq((ins[1]["alias"], ins[1]["properties"].get("Name"), ins[1]["properties"].get("Clsid")),
   ("$P", "SampleViewerConsumer", "{1E069401-087E-11d1-AD85-00AA00B8E05A}"), rel + " provider")
eq(ins[3]["properties"].get("Name"), "Sample says:", rel + " consumer name")
eq((ins[3]["persistence"], ins[3]["persistence_role"], ins[3]["namespace"], ins[3]["persistence_capable_namespace"]),
   (True, "consumer", "root\\cimv2\\SAMPLE_Office", False), rel + " consumer marking")
eq(sum(i["persistence"] for i in ins), 1, rel + " no filter, no binding")

# --- benign/classic-Registry.Mof
rel = "benign/classic-Registry.Mof"
p, f, ins, cls = run(rel)
eq(f["autorecover"], False, rel + " autorecover")
eq(ns_pragmas(f), ["\\\\.\\root", "//./root/registryScriptExample"], rel + " namespace pragmas")
eq(f["namespaces"], ["root", "root\\registryScriptExample"], rel + " normalised namespaces")
eq([i["class"] for i in ins], ["__Namespace", "__Win32Provider", "__InstanceProviderRegistration"], rel + " instances")
eq([c["class"] for c in cls], ["RegTrans"], rel + " class")
check({"dynamic", "provider", "ClassContext"} <= set(cls[0]["qualifiers"]) if cls else False, rel + " class qualifiers")
eq(cls[0]["qualifiers"].get("provider"), "RegProv", rel + " provider qualifier")
eq(f["persistence_instances"], 0, rel + " no persistence")

# --- the table of other benign and grammar files
table = [("benign/driver-iscsiprf-utf16le.mof", "utf-16le-bom", True, ["\\\\.\\Root\\WMI"], 14, 0),
         ("benign/driver-wmisamp.mof", "utf-8", True, [], 7, 0),
         ("benign/driver-toaster.mof", "utf-8", True, [], 3, 0),
         ("benign/classic-winrm-hw.mof", "utf-8", True, ["\\\\.\\root", "\\\\.\\root", "\\\\.\\root\\hardware", "\\\\.\\root\\Hardware"], 22, 3),
         ("benign/classic-MI-Sample.mof", "utf-8", False, [], 6, 0),
         ("grammar/pywbem-test_types.mof", "utf-8", False, [], 1, 0),
         ("grammar/pywbem-test_instance.mof", "utf-8", False, [], 0, 4),
         ("grammar/pywbem-test_refs.mof", "utf-8", False, [], 3, 3),
         ("grammar/pywbem-qualifiers.mof", "utf-8", False, [], 0, 0),
         ("grammar/pywbem-simple_mock_model.mof", "utf-8", False, [], 4, 3)]
for rel, enc, ar, nsp, nc, ni in table:
    p, f, ins, cls = run(rel)
    eq(p.returncode, 0, rel + " exit (read cleanly)")
    eq((f["encoding"], f["autorecover"], sorted(ns_pragmas(f)), f["classes"], f["instances"]), (enc, ar, sorted(nsp), nc, ni), rel + " facts")
    eq(f["persistence_instances"], 0, rel + " no persistence instances")
    eq((f["complete"], f["skipped_total"]), (True, 0), rel + " nothing skipped")
p, f, ins, cls = run("benign/classic-winrm-hw.mof")
eq([i["class"] for i in ins], ["__namespace", "__Namespace", "NumericSensor"], "winrm-hw instances")
check(any(p_["name"] == "locale" for p_ in f["pragmas"]) and any(p_["name"] == "classflags" and p_["args"] == ["64"] for p_ in f["pragmas"]),
      "winrm-hw locale and classflags(64)")
p, f, ins, cls = run("benign/driver-iscsiprf-utf16le.mof")
check(any("\n" in json.dumps(q) or "\\n" in json.dumps(q) for c in cls for q in c["qualifiers"].values()), "iscsiprf cpp_quote with \\n")
# EXPECTED.md says 9; the file itself has 8 "class X : Win32_PerfRawData" (and
# "PerfRawData" occurs on no other line, comments included): we assert the file.
eq(sum(1 for c in cls if c["superclass"] == "Win32_PerfRawData"), 8, "iscsiprf classes from Win32_PerfRawData")
p, f, ins, cls = run("benign/classic-MI-Sample.mof")
eq([(i["name"], i["found"]) for i in f.get("includes", [])], [("cim_schema_2.26.0.mof", False), ("MSFT_Qualifiers.mof", False)], "MI-Sample includes not found")
check(b"not found" in p.stderr or p.returncode == 0, "MI-Sample: include not found is reported, scan goes on")
p, f, ins, cls = run("grammar/pywbem-qualifiers.mof")
eq(f["qualifier_declarations"], 56, "qualifiers.mof declarations")
p, f, ins, cls = run("grammar/pywbem-test_instance.mof")
vals = [v for i in ins for v in i["properties"].values()]
for x in (9223372036854775807, 18446744073709551615, 4.9e-324, "a", None):
    check(x in vals, "test_instance value %r" % (x,))
p, f, ins, cls = run("grammar/pywbem-test_types.mof")
types = {p_["type"].lower() for p_ in cls[0]["properties"]}
check({"uint8", "sint8", "uint16", "sint16", "uint32", "sint32", "uint64", "sint64", "real32", "real64", "string", "char16", "boolean", "datetime"} <= types, "test_types every CIM type: %r" % types)

# --- files that must fail to parse (strict), at pywbem's positions; the scan of other files goes on
errs = [("grammar/pywbem-parse_error01.mof", 16, None, "'size'"), ("grammar/pywbem-parse_error02.mof", 6, None, "'weight'"),
        ("grammar/pywbem-parse_error03.mof", 24, 54, "'}'"), ("grammar/pywbem-parse_error04.mof", None, None, "end of file")]
for rel, line, col, tok in errs:
    p, f, ins, cls = run(rel, "--strict")
    e = f.get("error", {})
    eq(p.returncode, 3, rel + " exit")
    if line: eq(e.get("line"), line, rel + " error line")
    if col: eq(e.get("column"), col, rel + " error column")
    check(tok in e.get("message", ""), rel + " error names %s: %r" % (tok, e.get("message")))
    check(os.path.basename(rel).encode() in p.stderr and b"line " in p.stderr, rel + " stderr names file and line")
p = subprocess.run([cli, "mof", "--strict", "--format", "jsonl", os.path.join(corpus, "grammar/pywbem-parse_error01.mof"),
                    os.path.join(corpus, "malicious/atomic-T1546.003.mof")], capture_output=True, timeout=60)
eq(sum(1 for l in p.stdout.decode().splitlines() if json.loads(l)["artifact"] == "mof.instance" and json.loads(l)["persistence"]), 3,
   "after a file that fails, the next file is still read")
# The folder walk finds every corpus file (*.mof / *.Mof).
p = subprocess.run([cli, "mof", "-q", "--format", "jsonl", corpus], capture_output=True, timeout=120)
files = [json.loads(l)["path"] for l in p.stdout.decode().splitlines() if json.loads(l)["artifact"] == "mof.file"]
eq(len(files), 20, "folder walk: .mof files found")
print("%d checks, %d failed" % (checks, fails))
sys.exit(1 if fails else 0)
