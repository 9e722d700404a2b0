#!/usr/bin/env python3
"""The WMI evidence view (`wmihunt evtx FILE`, no --all).

1. On every corpus log and on our writer's `wmi` log, the set of records the
   view emits must be exactly the set an independent classification of the
   `--all` dump selects, by the definitions in ../shared/corpus/evtx/EXPECTED.md
   (WMI-Activity 5857-5861; Sysmon 19/20/21; Sysmon 1 and 4688 whose image
   or parent basename is a WMI binary; PowerShell 4103/4104/800 whose text
   names a WMI cmdlet or subscription class; the Security context the
   correlation rules need: 4672 for accounts other than SYSTEM/LOCAL/NETWORK
   SERVICE, 4648 made by a WMI binary, 4662 on a WMI object).
2. Exact field values: 5861's PossibleCause parsed into filter and consumer
   (real log and our writer's malicious subscriptions), Sysmon 19-21 values
   normalised, process and PowerShell fields.

usage: test_evtx_wmi.py WMIHUNT WH-EVTXGEN CORPUS_EVTX_DIR SCRATCH
Last line: "N passed, M failed"."""
import json, os, subprocess, sys

WMI_BIN = {"wmic.exe", "wmiprvse.exe", "scrcons.exe", "mofcomp.exe", "wsmprovhost.exe"}
PS_WORDS = ["invoke-wmimethod", "invoke-cimmethod", "get-wmiobject", "set-wmiinstance", "register-wmievent",
            "remove-wmiobject", "get-ciminstance", "new-ciminstance", "set-ciminstance", "remove-ciminstance",
            "register-cimindicationevent", "new-cimsession", "__eventfilter", "__eventconsumer",
            "__filtertoconsumerbinding", "commandlineeventconsumer", "activescripteventconsumer", "[wmiclass]",
            "[wmi]", "win32_process"]
PS_CHANNELS = {"microsoft-windows-powershell/operational", "powershellcore/operational", "windows powershell"}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402



def jsonl(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()], p.returncode


def base(p):
    return (p or "").replace("/", "\\").split("\\")[-1].lower()


def leaves(o):
    if isinstance(o, dict):
        for v in o.values():
            yield from leaves(v)
    elif isinstance(o, list):
        for v in o:
            yield from leaves(v)
    elif isinstance(o, str):
        yield o


def expected(r):
    """The artifact our spec says this --all record yields, or None."""
    ch, eid = (r.get("channel") or "").lower(), r.get("event_id")
    d = r.get("event_data") or {}
    if ch == "microsoft-windows-wmi-activity/operational" and eid in range(5857, 5862):
        return "evtx.wmi_activity"
    if ch == "microsoft-windows-sysmon/operational" and eid in (19, 20, 21):
        return "evtx.sysmon_wmi"
    if (ch == "microsoft-windows-sysmon/operational" and eid == 1) or (ch == "security" and eid == 4688):
        img = d.get("Image") if eid == 1 else d.get("NewProcessName")
        par = d.get("ParentImage") if eid == 1 else d.get("ParentProcessName")
        if base(img) in WMI_BIN or base(par) in WMI_BIN:
            return "evtx.process"
        return None
    if ch == "security" and eid == 4672:
        return None if d.get("SubjectUserSid") in ("S-1-5-18", "S-1-5-19", "S-1-5-20") else "evtx.record"
    if ch == "security" and eid == 4648:
        return "evtx.record" if base(d.get("ProcessName")) in WMI_BIN else None
    if ch == "security" and eid == 4662:
        wmi = (d.get("ObjectServer") or "").lower() == "wmi" or "wmi" in (d.get("ObjectType") or "").lower()
        return "evtx.record" if wmi else None
    if ch in PS_CHANNELS and eid in (4103, 4104, 800):
        if eid == 4104:
            text = d.get("ScriptBlockText") or ""
        elif eid == 4103:
            text = (d.get("Payload") or "") + (d.get("ContextInfo") or "")
        else:
            text = "\n".join(leaves(r.get("event_data")) if r.get("event_data") else leaves(r.get("user_data") or {}))
        if any(w in text.lower() for w in PS_WORDS):
            return "evtx.powershell"
    return None


def compare_sets(w, path):
    allr, _ = jsonl([w, "evtx", "--all", "--format", "jsonl", path])
    want = {r["offset"]: expected(r) for r in allr if expected(r)}
    got, rc = jsonl([w, "evtx", "--format", "jsonl", path])
    check(rc in (0, 3), "%s: exit %d" % (path, rc))
    have = {r["offset"]: r["artifact"] for r in got}
    check(want == have, "%s: WMI view %d records, classification of --all %d (differ at %s)" % (
        os.path.basename(path), len(have), len(want), sorted(set(want.items()) ^ set(have.items()))[:5]))
    return got


def main():
    w, gen, corpus, tmp = sys.argv[1:5]
    os.makedirs(tmp, exist_ok=True)
    mine = os.path.join(tmp, "wmi.evtx")
    subprocess.run([gen, "wmi", mine], check=True, stdout=subprocess.DEVNULL)
    logs = [mine]
    if os.path.isdir(corpus):
        logs += sorted(os.path.join(corpus, f) for f in os.listdir(corpus) if f.endswith(".evtx"))
    else:
        print("corpus not found at %s: only our writer's log is checked" % corpus)
    out = {os.path.basename(p): compare_sets(w, p) for p in logs}

    # Our writer's malicious subscriptions, parsed out of 5861.
    s5861 = [r for r in out["wmi.evtx"] if r["artifact"] == "evtx.wmi_activity" and r["event_id"] == 5861]
    cl = [r for r in s5861 if r.get("consumer_class") == "CommandLineEventConsumer"]
    check(len(cl) == 1, "wmi.evtx: one 5861 with a CommandLineEventConsumer")
    if cl:
        r = cl[0]
        check(r["filter_name"] == "WmiHuntFilter" and r["consumer_name"] == "WmiHuntConsumer", "5861 names")
        check("TargetInstance.SystemUpTime >= 240" in (r.get("filter_query") or ""), "5861 filter query")
        check(r.get("filter_query_language") == "WQL", "5861 query language")
        check("-Enc " in (r.get("consumer_action") or ""), "5861 consumer command line")
    check(any(r.get("consumer_class") == "ActiveScriptEventConsumer" and r.get("consumer_action") for r in s5861),
          "wmi.evtx: 5861 ActiveScriptEventConsumer with its script")

    real = out.get("wmi-activity_win10_5857-5861_tugix456.evtx")
    if real:
        scm = [r for r in real if r["event_id"] == 5861]
        check(len(scm) == 5, "tugix456: 5 records 5861")
        r = scm[0]
        check(r["namespace"] == "//./root/subscription", "5861 namespace")
        check(r["filter_name"] == "SCM Event Log Filter", "5861 filter name")
        check(r["filter_query"] == "select * from MSFT_SCMEventLogEvent", "5861 filter query")
        check(r["filter_event_namespace"] == "root\\cimv2", "5861 event namespace (escapes undone)")
        check(r["consumer_class"] == "NTEventLogEventConsumer", "5861 consumer class")
        check(r["consumer_name"] == "SCM Event Log Consumer", "5861 consumer name")
        check(r["consumer_properties"].get("SourceName") == "Service Control Manager", "5861 consumer property")
        check(sum(1 for r in real if r["event_id"] == 5857) == 213, "tugix456: 213 records 5857")
    sm = out.get("sysmon_19_20_21_1_CommandLineEventConsumer.evtx")
    if sm:
        f = [r for r in sm if r["artifact"] == "evtx.sysmon_wmi"]
        check(len(f) == 6, "sysmon 19-21: 6 records")
        k19 = [r for r in f if r["event_id"] == 19][0]
        check(k19["name"] == "BotFilter82" and k19["event_namespace"] == "root\\cimv2", "sysmon 19 normalised")
        check(k19["query"].startswith("SELECT * FROM __InstanceModificationEvent WITHIN 10"), "sysmon 19 query")
        k20 = [r for r in f if r["event_id"] == 20][0]
        check(k20["name"] == "BotConsumer23" and k20["destination"] == "c:\\Windows\\System32\\cmd.exe",
              "sysmon 20 normalised")
        k21 = [r for r in f if r["event_id"] == 21][0]
        check(k21["consumer"] == 'CommandLineEventConsumer.Name="BotConsumer23"', "sysmon 21 consumer unescaped")
        check(k21["filter"] == '__EventFilter.Name="BotFilter82"', "sysmon 21 filter unescaped")
        check(k21["data"]["Consumer"].startswith(' "'), "sysmon 21 raw value kept under data")
    vss = out.get("sysmon_1_wmic_node_process_call_create_vss.evtx")
    if vss:
        p = [r for r in vss if r["artifact"] == "evtx.process"]
        check(len(p) == 5, "vss: 5 process records")
        check(any("/node:" in (r.get("command_line") or "") and r["wmi_image"] == "wmic.exe" for r in p),
              "vss: wmic /node: command line")
    ps = out.get("powershell_4104_wmi_cmdlets_lsassy.evtx")
    if ps:
        check(len(ps) == 1 and set(ps[0]["wmi_terms"]) >= {"Invoke-WmiMethod", "Get-WmiObject", "Set-WmiInstance",
                                                          "Register-WmiEvent"}, "lsassy 4104 terms")
        check(bool(ps and ps[0].get("script_block_text")), "4104 ScriptBlockText")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
