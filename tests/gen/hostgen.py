#!/usr/bin/env python3
"""hostgen: one YAML description of a host (or several) -> a KAPE-style
evidence tree written by our own writers, so that attack cases are data
(tests/attacks/*.yml, tests/attacks/README.md).

usage: hostgen.py [--gen DIR] DESCRIPTION.yml OUT
  DIR holds wh-cimspec, wh-hivespec, wh-evtxgen and wh-regfgen (default: build/tests/gen
  of this checkout). One host is written into OUT; with `hosts:` each host
  goes into OUT/<folder>. Prints a JSON manifest (host, folder).

Writers: the repository by `wh-cimspec` (any class or instance, live or
deleted), the logs by `wh-evtxgen events` (tests/gen/evtxspec.h: each event
in the log of its channel; logs a story leaves empty are written empty), the
SOFTWARE hive by `wh-hivespec` (any key and value), the SYSTEM hive by
`wh-regfgen system`, MOF and other files here. casegen.py's helpers are reused.

THE LANGUAGE (YAML; every key optional unless said; times are UTC
"YYYY-MM-DDTHH:MM:SS[.ffffff]", a trailing Z allowed):

  host:            the machine (or `hosts:`, a list of such descriptions,
                   each with its own keys below and `folder:`)
    name:          Computer of its events, FQDN (required)
    domain:        NetBIOS domain of Security events (default CORP)
    system_hive:   true: config/SYSTEM names the host (ComputerName and
                   Tcpip Hostname/Domain from `name`)
    user, sid, logon_id:   defaults for events that name no actor
  subscriptions:   filter + consumer (+ binding) with their whole life
    - namespace:   default root\\subscription
      filter:      {name, query, event_namespace (root\\cimv2), language (WQL),
                   creator_sid}   or null for a consumer alone
      consumer:    {class, name, properties: {NAME: VALUE}, creator_sid}
                   or null for a filter alone
      binding:     default true when both ends exist
      repository:  live (default) | deleted (unallocated page) | slack |
                   oldmap | absent (not in the repository at all)
      written:     the repository's write time (default: created, else
                   2024-01-01T00:00:00)
      created:     {time, user, op}: Sysmon 19/20/21 (op Created/Modified)
      registered:  {time, creator_sid}: WMI-Activity 5861
      fired:       [{time, pid, image, cmdline, host_pid, user_logs}] the
                   consumer starting a process (WmiPrvSE.exe child, or
                   scrcons.exe then its child for ActiveScript)
      removed:     {time, user}: Sysmon 19/20/21 Deleted
      mof:         {path, autorecover (true), mtime}: the three instances in
                   a MOF file as an intruder writes one for mofcomp
  repository:      the CIM repository (written unless `repository: none`)
    xp:            v2.1 layout
    defaults:      Windows' own content (default true; SCM triple included)
    namespaces:    [NS, ...]
    classes:       [{namespace, name, super, defined, state (live|unalloc|
                   slack|oldmap), properties: [{name, type, key, default}]}]
                   types as wh-cimspec: string, uint32, boolean, uint8[] ...
    instances:     [{namespace, class, written, state, properties: {..}}]
                   system classes (__Win32Provider, __EventFilter,
                   __IntervalTimerInstruction if you define it...) included
  events:          a list, each {KIND: {fields}} with KIND one of
                   sysmon1 sysmon19 sysmon20 sysmon21 sec4624 sec4672 sec4648
                   sec4688 wmi5857 wmi5858 wmi5860 wmi5861 ps4104 ps4103
                   ps800 (fields named as in EVENT_FIELDS below, after
                   tests/gen/evtxspec.h), or a helper:
                   logon {time, user, sid, logon_id, type, ip}: 4624+4672
                   process {time, pid, image, cmdline, user, sid, logon_id,
                     ppid, parent_image, parent_cmdline, logs: [sysmon,
                     security]}: Sysmon 1 and/or Security 4688
  hive:            the SOFTWARE hive, written by wh-hivespec: the CIMOM key
                   with Windows' autorecover list, and Windows' COM
                   registrations of the five standard consumer providers
    software:      true (default) / false: no SOFTWARE hive
    autorecover:   [MOF path, ...] added to Windows' default list
    autorecover_written: the list's timestamp (default 2024-01-01T00:00:00)
    keys:          [{path, written, values: [{name ("" = default), type
                   (sz|expand_sz|multi_sz|dword|qword|binary), data}]}]
  mofs:            [{path, text, mtime, encoding: utf-8|utf-16le}] (path is
                   a Windows path C:\\...; CRLF line ends are written)
  files:           [{path, text, mtime}] any other file

In every string, {{enc:TEXT}} becomes the UTF-16LE base64 that powershell
-EncodedCommand takes, {{b64:TEXT}} plain base64 of UTF-8 TEXT, and
{{pe_b64}} the base64 of a small PE image (MZ header, DOS stub text)."""
import base64
import datetime
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import casegen  # noqa: E402
from casegen import Host, LOGS, esc, iso, ms, subscription_mof  # noqa: E402
from treegen import empty_evtx  # noqa: E402

try:
    import yaml
except ImportError:  # Debian: python3-yaml (scripts/install-deps.sh)
    yaml = None

# Positional fields of each evtxspec kind (tests/gen/evtxspec.h), with
# defaults where a neutral value exists ("@user" etc. = the host's actor).
EVENT_FIELDS = {
    "sysmon1": [("pid", None), ("image", None), ("cmdline", None), ("cwd", "C:\\Windows\\system32\\"),
                ("user", "@user"), ("logon_id", "@logon_id"), ("integrity", "High"), ("ppid", 4410),
                ("parent_image", "C:\\Windows\\explorer.exe"), ("parent_cmdline", "C:\\Windows\\Explorer.EXE"),
                ("parent_user", "@user")],
    "sysmon19": [("op", "Created"), ("user", "@user"), ("event_namespace", "root\\cimv2"), ("name", None),
                 ("query", None)],
    "sysmon20": [("op", "Created"), ("user", "@user"), ("name", None), ("type", "Command Line"),
                 ("destination", None)],
    "sysmon21": [("op", "Created"), ("user", "@user"), ("consumer_path", None), ("filter_path", None)],
    "sec4624": [("sid", "@sid"), ("user", "@user_name"), ("domain", "@domain"), ("logon_id", "@logon_id"),
                ("type", 10), ("ip", "10.20.30.99"), ("process", "C:\\Windows\\System32\\svchost.exe")],
    "sec4672": [("sid", "@sid"), ("user", "@user_name"), ("domain", "@domain"), ("logon_id", "@logon_id")],
    "sec4648": [("sid", "@sid"), ("user", "@user_name"), ("domain", "@domain"), ("logon_id", "@logon_id"),
                ("target_user", None), ("target_domain", "@domain"), ("target_server", None), ("pid", 0x1cfc),
                ("process", None), ("ip", "-")],
    "sec4688": [("sid", "@sid"), ("user", "@user_name"), ("domain", "@domain"), ("logon_id", "@logon_id"),
                ("pid", None), ("image", None), ("cmdline", None), ("ppid", 4410),
                ("parent_image", "C:\\Windows\\explorer.exe")],
    "wmi5857": [("provider", None), ("host_process", "wmiprvse.exe"), ("pid", 5304), ("provider_path", None)],
    "wmi5858": [("client_machine", "@short"), ("user", "@user"), ("client_pid", 5512), ("operation", None),
                ("result_code", "0x80041032")],
    "wmi5860": [("namespace", "//./root/cimv2"), ("query", None), ("user", "@user"), ("pid", 5512),
                ("client_machine", "@short")],
    "wmi5861": [("namespace", "//./root/subscription"), ("filter", None), ("event_namespace", "root\\cimv2"),
                ("query", None), ("creator_sid", "@sid"), ("consumer_class", None), ("consumer", None)],
    "ps4104": [("sid", "@sid"), ("text", None), ("script_block_id", "5e1c2d3a-4b5c-4d6e-8f70-1a2b3c4d5e6f"),
               ("path", "")],
    "ps4103": [("sid", "@sid"), ("user", "@user"), ("cmdlet", None), ("payload", None)],
    "ps800": [("user", "@user"), ("host_application", "powershell.exe"), ("text", None)],
}

WHERE = {"live": "live", "deleted": "unalloc", "unalloc": "unalloc", "slack": "slack", "oldmap": "oldmap"}
STD_CONSUMERS = {"CommandLineEventConsumer", "ActiveScriptEventConsumer", "LogFileEventConsumer",
                 "SMTPEventConsumer", "NTEventLogEventConsumer"}
# The standard consumer classes' properties, for defining one outside the
# two namespaces Windows registers them in (a subscription in root\cimv2).
STD_PROPS = {
    "CommandLineEventConsumer": ["ExecutablePath", "CommandLineTemplate", "WorkingDirectory", "DesktopName",
                                 "WindowTitle"],
    "ActiveScriptEventConsumer": ["ScriptingEngine", "ScriptText", "ScriptFileName"],
    "LogFileEventConsumer": ["Filename", "Text"],
    "SMTPEventConsumer": ["SMTPServer", "ToLine", "FromLine", "Subject", "Message"],
    "NTEventLogEventConsumer": ["SourceName", "UNCServerName"],
}


class HostgenError(Exception):
    pass


# The Autorecover MOFs a Windows install lists itself (as wh-regfgen).
DEFAULT_AUTORECOVER = ["%windir%\\system32\\wbem\\cimwin32.mof", "%windir%\\system32\\wbem\\cimwin32.mfl",
                       "%windir%\\system32\\wbem\\ntevt.mof", "%windir%\\system32\\wbem\\wmipcima.mof"]
# Windows' COM registrations of the standard consumer providers (the
# __Win32Provider instances of the default repository name these CLSIDs).
WINDOWS_CLSIDS = [
    ("{266C72E5-62E8-11D1-AD89-00C04FD8FDFF}", "InprocServer32", "%systemroot%\\system32\\wbem\\wbemcons.dll"),
    ("{266C72E6-62E8-11D1-AD89-00C04FD8FDFF}", "InprocServer32", "%systemroot%\\system32\\wbem\\wbemcons.dll"),
    ("{266C72D4-62E8-11D1-AD89-00C04FD8FDFF}", "InprocServer32", "%systemroot%\\system32\\wbem\\wbemcons.dll"),
    ("{C7A3A54B-0250-11D3-9CD1-00105A1F4801}", "InprocServer32", "%systemroot%\\system32\\wbem\\wbemcons.dll"),
    ("{266C72E7-62E8-11D1-AD89-00C04FD8FDFF}", "LocalServer32", "%systemroot%\\system32\\wbem\\scrcons.exe"),
]


def filetime(t):
    return int(((t - datetime.datetime(1601, 1, 1)).total_seconds()) * 10000000)


def software_script(hive):
    """The wh-hivespec script of the SOFTWARE hive: the CIMOM key with the
    autorecover list (Windows' entries + hive.autorecover) and its
    timestamp, Windows' consumer-provider CLSIDs, then hive.keys."""
    t = when(hive.get("autorecover_written", "2024-01-01T00:00:00"))
    cimom = "Microsoft\\WBEM\\CIMOM"
    mofs = DEFAULT_AUTORECOVER + list(hive.get("autorecover") or [])
    lines = [["key", cimom, iso(t)],
             ["value", cimom, "Autorecover MOFs", "multi_sz", "\x1f".join(mofs)],
             ["value", cimom, "Autorecover MOFs timestamp", "sz", str(filetime(t))],
             ["value", cimom, "RepositoryDirectory", "expand_sz", "%SystemRoot%\\system32\\wbem\\Repository"]]
    for clsid, server, path in WINDOWS_CLSIDS:
        k = "Classes\\CLSID\\%s\\%s" % (clsid, server)
        lines.append(["key", k, "2019-12-07T09:10:00Z"])
        lines.append(["value", k, "", "expand_sz", path])
        if server == "InprocServer32":
            lines.append(["value", k, "ThreadingModel", "sz", "Both"])
    for k in hive.get("keys") or []:
        lines.append(["key", k["path"], iso(when(k.get("written", "2024-01-01T00:00:00")))])
        for v in k.get("values") or []:
            lines.append(["value", k["path"], v.get("name", ""), v.get("type", "sz"), sval(v.get("data", ""))])
    return "\n".join("\t".join(esc(x) for x in line) for line in lines) + "\n"


def pe_b64():
    """A small PE image's base64: MZ header with e_lfanew, the DOS stub
    text, a PE signature (enough for the decoders; it does not run)."""
    mz = bytearray(256)
    mz[0:2] = b"MZ"
    struct.pack_into("<HHHH", mz, 2, 0x90, 3, 0, 4)
    struct.pack_into("<I", mz, 0x3C, 0x80)
    stub = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    mz[0x40:0x40 + len(stub)] = stub
    mz[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HH", mz, 0x84, 0x8664, 1)
    return base64.b64encode(bytes(mz) + bytes(range(256)) * 4).decode()


def expand(v):
    """{{enc:..}}, {{b64:..}}, {{pe_b64}} inside strings, recursively."""
    if isinstance(v, str):
        v = re.sub(r"\{\{enc:(.*?)\}\}", lambda m: casegen.enc(m.group(1)), v, flags=re.S)
        v = re.sub(r"\{\{b64:(.*?)\}\}", lambda m: base64.b64encode(m.group(1).encode()).decode(), v, flags=re.S)
        return v.replace("{{pe_b64}}", pe_b64())
    if isinstance(v, list):
        return [expand(x) for x in v]
    if isinstance(v, dict):
        return {k: expand(x) for k, x in v.items()}
    return v


def when(t, what="time"):
    if isinstance(t, datetime.datetime):
        return t.replace(tzinfo=None)
    if isinstance(t, datetime.date):
        return datetime.datetime(t.year, t.month, t.day)
    if not isinstance(t, str):
        raise HostgenError("%s: not a time: %r" % (what, t))
    s = t.rstrip("Z").replace(" ", "T")
    for f in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(s, f)
        except ValueError:
            pass
    raise HostgenError("%s: not a time: %r" % (what, t))


def sval(v):
    """A YAML scalar as the writers take it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "<null>"
    if isinstance(v, list):
        return "\x1f".join(sval(x) for x in v)
    return str(v)


def run(argv, stdin=None):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if p.returncode:
        raise HostgenError("%s: %s" % (os.path.basename(argv[0]), (p.stderr or p.stdout).strip()[-800:]))


class Writer:
    def __init__(self, gen, desc, root):
        self.gen, self.d, self.root = gen, desc, root
        h = desc.get("host") or {}
        if not h.get("name"):
            raise HostgenError("host: name is required")
        self.hostinfo = h
        self.host = Host(h["name"], h.get("domain", "CORP"))
        self.actor = {"user": h.get("user", "CORP\\adm-jlee"),
                      "sid": h.get("sid", "S-1-5-21-3623811015-3361044348-30300820-1107"),
                      "logon_id": h.get("logon_id", "0x5a3f21")}
        self.cim = []      # wh-cimspec lines
        self.mofs = []     # (winpath, bytes, mtime)

    # -- values of the actor --
    def fill(self, kind, fields):
        spec = EVENT_FIELDS[kind]
        known = {n for n, _ in spec}
        extra = set(fields) - known - {"time", "properties"}
        if extra:
            raise HostgenError("%s: unknown field(s) %s (known: %s)" % (kind, sorted(extra), [n for n, _ in spec]))
        out = []
        for n, dflt in spec:
            v = fields.get(n, dflt)
            if v is None:
                raise HostgenError("%s: field %s is required" % (kind, n))
            if isinstance(v, str) and v.startswith("@"):
                v = self.at(v[1:], fields)
            out.append(v)
        if kind == "wmi5861":
            for k, v in (fields.get("properties") or {}).items():
                out += [k, sval(v)]
        return out

    def at(self, what, fields):
        user = fields.get("user", self.actor["user"])
        return {"user": self.actor["user"], "sid": self.actor["sid"], "logon_id": self.actor["logon_id"],
                "user_name": user.split("\\")[-1], "domain": self.host.domain,
                "short": self.host.computer.split(".")[0]}[what]

    def events(self):
        for i, e in enumerate(self.d.get("events") or []):
            if not isinstance(e, dict) or len(e) != 1:
                raise HostgenError("events[%d]: one {KIND: {fields}} per item" % i)
            (kind, f), = e.items()
            f = dict(f or {})
            t = when(f.get("time"), "events[%d] %s time" % (i, kind))
            if kind == "logon":
                self.host.logon(t, f.get("user", self.actor["user"]), f.get("sid", self.actor["sid"]),
                                f.get("logon_id", self.actor["logon_id"]), f.get("type", 10),
                                f.get("ip", "10.20.30.99"))
            elif kind == "process":
                self.process(t, f)
            elif kind in EVENT_FIELDS:
                self.host.ev(kind, t, *self.fill(kind, f))
            else:
                raise HostgenError("events[%d]: unknown kind %r" % (i, kind))

    def process(self, t, f):
        user = f.get("user", self.actor["user"])
        sid = f.get("sid", self.actor["sid"])
        system = sid == "S-1-5-18"
        logon = f.get("logon_id", "0x3e7" if system else self.actor["logon_id"])
        for k in ("pid", "image", "cmdline"):
            if k not in f:
                raise HostgenError("process: field %s is required" % k)
        ppid = f.get("ppid", 4410)
        pimage = f.get("parent_image", "C:\\Windows\\explorer.exe")
        pcmd = f.get("parent_cmdline", pimage)
        logs = f.get("logs", ["sysmon", "security"])
        if "sysmon" in logs:
            self.host.ev("sysmon1", t, f["pid"], f["image"], f["cmdline"], f.get("cwd", "C:\\Windows\\system32\\"),
                         user, logon, "System" if system else "High", ppid, pimage, pcmd, f.get("parent_user", user))
        if "security" in logs:
            subj = self.host.machine if system else user.split("\\")[-1]
            self.host.ev("sec4688", t, sid, subj, self.host.domain, logon, hex(int(f["pid"])), f["image"],
                         f["cmdline"], hex(int(ppid)), pimage)

    # -- subscriptions --
    def subscriptions(self):
        for i, s in enumerate(self.d.get("subscriptions") or []):
            self.subscription(i, s)

    def subscription(self, i, s):
        ns = s.get("namespace", "root\\subscription")
        f, c = s.get("filter"), s.get("consumer")
        if not f and not c:
            raise HostgenError("subscriptions[%d]: a filter, a consumer or both" % i)
        binding = s.get("binding", bool(f and c))
        cclass = c and c.get("class", "CommandLineEventConsumer")
        props = list(((c or {}).get("properties") or {}).items())
        sd = {"namespace": ns, "filter": f and f["name"], "query": f and f.get("query"),
              "consumer_class": cclass, "consumer": c and c["name"], "props": [(k, sval(v)) for k, v in props],
              "payload": dict(props).get("CommandLineTemplate") or dict(props).get("ScriptText")
              or dict(props).get("ExecutablePath") or dict(props).get("Text") or ""}
        created = s.get("created")
        written = when(s.get("written") or (created or {}).get("time") or "2024-01-01T00:00:00")
        state = s.get("repository", "live")
        if state != "absent":
            if state not in WHERE:
                raise HostgenError("subscriptions[%d]: repository %r (live|deleted|slack|oldmap|absent)" % (i, state))
            where = WHERE[state]
            wt = iso(written)
            if f:
                fp = ["Name", f["name"], "Query", f.get("query", ""), "QueryLanguage", f.get("language", "WQL"),
                      "EventNamespace", f.get("event_namespace", "root\\cimv2"),
                      "CreatorSID", f.get("creator_sid", "S-1-5-32-544")]
                self.cim.append(["instance", ns, "__EventFilter", wt, where] + fp)
            if c:
                if cclass in STD_CONSUMERS and ns.lower() not in ("root\\subscription", "root\\default"):
                    self.std_class(ns, cclass)
                cp = ["Name", c["name"], "CreatorSID", c.get("creator_sid", "S-1-5-32-544")]
                for k, v in props:
                    cp += [k, sval(v)]
                self.cim.append(["instance", ns, cclass, wt, where] + cp)
            if binding:
                fpath = '__EventFilter.Name="%s"' % (f["name"] if f else s.get("binding_filter", "Missing")) \
                    .replace("\\", "\\\\")
                cpath = '%s.Name="%s"' % (cclass or "CommandLineEventConsumer",
                                          (c["name"] if c else s.get("binding_consumer", "Missing")).replace("\\", "\\\\"))
                self.cim.append(["instance", ns, "__FilterToConsumerBinding", wt, where, "Filter", fpath,
                                 "Consumer", cpath, "CreatorSID", "S-1-5-32-544"])
        h = self.host
        if created:
            t = when(created.get("time"), "created")
            which = ("f" if f else "") + ("c" if c else "") + ("b" if binding else "")
            self.sysmon_sub(t, created.get("op", "Created"), created.get("user", self.actor["user"]), sd, which)
        reg = s.get("registered")
        if reg and f and c:
            h.wmi5861(when(reg.get("time"), "registered"), sd, reg.get("creator_sid", self.actor["sid"]))
        for k, fire in enumerate(s.get("fired") or []):
            t = when(fire.get("time"), "fired")
            cmd = fire.get("cmdline", sd["payload"])
            image = fire.get("image") or cmd.split()[0]
            if "\\" not in image:
                image = "C:\\Windows\\System32\\" + image
            if "logs" in fire:
                saved = h.proc
                logs = fire["logs"]
                h.proc = lambda *a, **kw: saved(*a, security="security" in logs)
                h.fired(t, fire.get("pid", 8116 + 24 * k), image, cmd, cclass, fire.get("host_pid", 5304))
                h.proc = saved
            else:
                h.fired(t, fire.get("pid", 8116 + 24 * k), image, cmd, cclass, fire.get("host_pid", 5304))
        rm = s.get("removed")
        if rm:
            t = when(rm.get("time"), "removed")
            which = ("f" if f else "") + ("c" if c else "") + ("b" if binding else "")
            self.sysmon_sub(t, "Deleted", rm.get("user", self.actor["user"]), sd, which)
        mof = s.get("mof")
        if mof:
            if not (f and c):
                raise HostgenError("subscriptions[%d]: mof needs a filter and a consumer" % i)
            data = subscription_mof(ns, f["name"], f.get("query", ""), cclass, c["name"], sd["props"],
                                    mof.get("autorecover", True))
            self.mofs.append((mof["path"], data, when(mof["mtime"]) if mof.get("mtime") else None))

    def sysmon_sub(self, t, op, user, sd, which):
        ctype = "Script" if sd["consumer_class"] == "ActiveScriptEventConsumer" else "Command Line"
        h = self.host
        if "f" in which:
            h.ev("sysmon19", t, op, user, "root\\cimv2", sd["filter"], sd["query"] or "")
        if "c" in which:
            h.ev("sysmon20", t + ms(100), op, user, sd["consumer"], ctype, sd["payload"])
        if "b" in which:
            h.ev("sysmon21", t + ms(200), op, user, '%s.Name="%s"' % (sd["consumer_class"], sd["consumer"]),
                 '__EventFilter.Name="%s"' % sd["filter"])

    def std_class(self, ns, cclass):
        key = (ns.lower(), cclass.lower())
        if key in getattr(self, "_defined", set()):
            return
        self._defined = getattr(self, "_defined", set()) | {key}
        line = ["class", ns, cclass, "__EventConsumer", "2019-12-07T09:40:00Z", "Name", "string!key", ""]
        for p in STD_PROPS[cclass]:
            line += [p, "string", ""]
        if cclass == "NTEventLogEventConsumer":
            line += ["EventType", "uint32", "", "Category", "uint16", "", "EventID", "uint32", ""]
        self.cim.insert(0, line)

    # -- repository --
    def repository(self):
        r = self.d.get("repository", {})
        if r == "none":
            return None
        r = r or {}
        head = []
        if r.get("defaults", True):
            head.append(["defaults"])
        for ns in r.get("namespaces") or []:
            head.append(["namespace", ns])
        for c in r.get("classes") or []:
            line = ["class", c["namespace"], c["name"], c.get("super") or "-",
                    iso(when(c.get("defined", "2024-01-01T00:00:00")))]
            for p in c.get("properties") or []:
                t = p.get("type", "string") + ("!key" if p.get("key") else "")
                line += [p["name"], t, "" if p.get("default") is None else sval(p["default"])]
            head.append(line)
            if c.get("state", "live") != "live":
                self.cim.append(["delete_class", c["namespace"], c["name"], WHERE[c["state"]]])
        for o in r.get("instances") or []:
            line = ["instance", o["namespace"], o["class"], iso(when(o.get("written", "2024-01-01T00:00:00"))),
                    WHERE[o.get("state", "live")]]
            for k, v in (o.get("properties") or {}).items():
                line += [k, sval(v)]
            self.cim.append(line)
        # std_class lines were inserted at the front of self.cim: classes first.
        classes = [x for x in self.cim if x[0] == "class"]
        rest = [x for x in self.cim if x[0] != "class"]
        return head + classes + rest, r

    # -- the tree --
    def write(self):
        self.subscriptions()
        self.events()
        c = os.path.join(self.root, "C")
        s32 = os.path.join(c, "Windows", "System32")
        logs = os.path.join(s32, "winevt", "Logs")
        cfg = os.path.join(s32, "config")
        for p in (logs, cfg, os.path.join(s32, "wbem", "AutoRecover")):
            os.makedirs(p, exist_ok=True)
        repo = self.repository()
        if repo:
            lines, r = repo
            script = "\n".join("\t".join(esc(x) for x in line) for line in lines) + "\n"
            argv = [os.path.join(self.gen, "wh-cimspec")] + (["--xp"] if r.get("xp") else [])
            run(argv + ["-", os.path.join(s32, "wbem", "Repository")], script)
        hive = self.d.get("hive") or {}
        if hive.get("software", True):
            run([os.path.join(self.gen, "wh-hivespec"), "-", os.path.join(cfg, "SOFTWARE")], software_script(hive))
        if self.hostinfo.get("system_hive"):
            name = self.host.computer.split(".")
            run([os.path.join(self.gen, "wh-regfgen"), "system", cfg, name[0].upper()]
                + ([".".join(name[1:])] if len(name) > 1 else []))
        if self.host.events:
            run([os.path.join(self.gen, "wh-evtxgen"), "events", "-", logs], self.host.script())
        for n in LOGS:
            if not os.path.exists(os.path.join(logs, n)):
                with open(os.path.join(logs, n), "wb") as fh:
                    fh.write(empty_evtx())
        for m in self.d.get("mofs") or []:
            text = m["text"].replace("\r\n", "\n").replace("\n", "\r\n")
            data = text.encode("utf-16-le") if m.get("encoding") == "utf-16le" else text.encode()
            if m.get("encoding") == "utf-16le":
                data = b"\xff\xfe" + data
            self.mofs.append((m["path"], data, when(m["mtime"]) if m.get("mtime") else None))
        for fl in self.d.get("files") or []:
            self.mofs.append((fl["path"], fl.get("text", "").encode(), when(fl["mtime"]) if fl.get("mtime") else None))
        for winpath, data, mtime in self.mofs:
            parts = re.split(r"[\\/]+", winpath)
            if not re.match(r"^[A-Za-z]:$", parts[0]):
                raise HostgenError("%s: give a Windows path (C:\\...)" % winpath)
            p = os.path.join(self.root, parts[0][0].upper(), *parts[1:])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as fh:
                fh.write(data)
            if mtime:
                ts = (mtime - datetime.datetime(1970, 1, 1)).total_seconds()
                os.utime(p, (ts, ts))
        # KAPE's own logs beside the collection.
        times = [e[0] for e in self.host.events] or [datetime.datetime(2024, 1, 1)]
        st = (min(times) + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H%M%S")
        with open(os.path.join(self.root, st + "_ConsoleLog.txt"), "w") as fh:
            fh.write("KAPE version 1.3.0.2 Author: Eric Zimmerman\nTarget: !SANS_Triage\n")
        with open(os.path.join(self.root, st + "_CopyLog.csv"), "w") as fh:
            fh.write("CopiedTimestamp,SourceFile,DestinationFile\n")
        return {"host": self.host.computer, "root": self.root}


def load(path):
    if yaml is None:
        raise HostgenError("PyYAML is missing: apt-get install python3-yaml (scripts/install-deps.sh)")
    with open(path, encoding="utf-8") as fh:
        d = yaml.safe_load(fh)
    if not isinstance(d, dict):
        raise HostgenError("%s: not a mapping" % path)
    return d


def generate(gen, desc, out):
    """Writes the tree of desc (a parsed description) into out; returns the
    manifest. Raises HostgenError with a readable message."""
    desc = expand(desc)
    os.makedirs(out, exist_ok=True)
    if desc.get("hosts"):
        man = []
        for i, h in enumerate(desc["hosts"]):
            folder = h.get("folder") or (h.get("host") or {}).get("name", "host%d" % i).split(".")[0]
            man.append(Writer(gen, h, os.path.join(out, folder)).write())
        return man
    return [Writer(gen, desc, out).write()]


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    gen = os.path.join(here, "..", "..", "build", "tests", "gen")
    if len(argv) >= 2 and argv[0] == "--gen":
        gen, argv = argv[1], argv[2:]
    if len(argv) != 2:
        sys.exit(__doc__)
    try:
        man = generate(gen, load(argv[0]), argv[1])
    except (HostgenError, KeyError, TypeError) as e:
        sys.exit("hostgen: %s: %s" % (argv[0], e))
    json.dump(man, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
