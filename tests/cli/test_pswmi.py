#!/usr/bin/env python3
"""PowerShell WMI use end to end (issue 11 point 6): every form written as a
PowerShell 4104 script block and as a Sysmon 1 start of powershell.exe by our
writer (`wh-evtxgen events`), one host per form, then `wmihunt hunt --format
jsonl`; the WH-EVT findings of each host must be exactly the expected rules at
their severities, grouped in a hunt.case of the highest, and look-alikes must
give nothing at all. `wmihunt evtx` must report wmi_terms and wmi_remote.

  WH-EVT-090 high    shadow copies deleted through WMI (gwmi/Get-CimInstance,
                     [wmiclass], System.Management, ForEach-Object Delete,
                     Remove-CimInstance/rcim, wmic shadowcopy delete,
                     -EncodedCommand)
  WH-EVT-091 medium  -ComputerName/-cn/-CimSession, New-CimSession, \\\\HOST\\root
  WH-EVT-067 medium  process creation through WMI (Win32_Process Create)
  WH-EVT-074 low     any WMI cmdlet, alias, accelerator, System.Management class

usage: test_pswmi.py WMIHUNT WH-EVTXGEN SCRATCH
Last line: "N passed, M failed"."""
import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
RULE_SEV = {"WH-EVT-090": "high", "WH-EVT-091": "medium", "WH-EVT-067": "medium", "WH-EVT-074": "low"}
PS = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
PWSH = r"C:\Program Files\PowerShell\7\pwsh.exe"
CMD = r"C:\Windows\System32\cmd.exe"
SID = "S-1-5-21-1004336348-1177238915-682003330-1104"

LOW, HIGH, REMOTE = {"WH-EVT-074"}, {"WH-EVT-090", "WH-EVT-074"}, {"WH-EVT-091", "WH-EVT-074"}

# (name, text, expected WH-EVT rules, expected wmi_remote or None). Each is
# written as a 4104 script block and, on one line, as powershell.exe -c "...".
FORMS = [
    ("gwmi-foreach-delete", "Get-WmiObject Win32_Shadowcopy | ForEach-Object {$_.Delete();}", HIGH, None),
    ("gwmi-alias", "gwmi win32_shadowcopy | % { $_.Delete() }", HIGH, None),
    ("cim-remove", "Get-CimInstance Win32_ShadowCopy | Remove-CimInstance", HIGH, None),
    ("gcim-rcim", "gcim -ClassName win32_shadowcopy | rcim", HIGH, None),
    ("wmiclass-delete", "([WmiClass]'Win32_ShadowCopy').GetInstances() | % { $_.Delete() }", HIGH, None),
    ("searcher-delete",
     "(New-Object System.Management.ManagementObjectSearcher('SELECT * FROM Win32_ShadowCopy')).Get() | % { $_.Delete() }",
     HIGH, None),
    ("mgmtobject-delete",
     "(New-Object Management.ManagementObject(\"root\\cimv2:Win32_ShadowCopy.ID='{7BC5D0C2-0001}'\")).Delete()", HIGH, None),
    ("foreach-member", "Get-WmiObject Win32_ShadowCopy | ForEach-Object Delete", HIGH, None),
    ("wmic-in-ps", "wmic shadowcopy delete /nointeractive", HIGH, None),
    ("remote-shadow", "Get-CimInstance Win32_ShadowCopy -ComputerName FS1 | Remove-CimInstance",
     HIGH | {"WH-EVT-091"}, "FS1"),
    ("remote-computername", "Get-WmiObject -Class Win32_OperatingSystem -ComputerName SRV01", REMOTE, "SRV01"),
    ("remote-cn", "gwmi win32_bios -cn 10.0.0.5", REMOTE, "10.0.0.5"),
    ("remote-cimsession", "$s = New-CimSession -ComputerName 'dc01.corp.local'; Get-CimInstance Win32_Bios -CimSession $s",
     REMOTE, "dc01.corp.local"),
    ("remote-process-create",
     "Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine='calc'} -ComputerName SRV02",
     REMOTE | {"WH-EVT-067"}, "SRV02"),
    ("remote-unc-path", "([wmiclass]'\\\\HOST7\\root\\cimv2:Win32_Process').Create('calc.exe')",
     REMOTE | {"WH-EVT-067"}, "HOST7"),
    ("cim-local", "Get-CimInstance Win32_Bios", LOW, None),
    ("wmisearcher", "([wmisearcher]'select * from win32_bios').Get()", LOW, None),
    ("wmi-accelerator-spaces", "[ wmi ]'root\\cimv2:Win32_OperatingSystem=@'", LOW, None),
    ("gcls", "gcls -ClassName Win32_Process", LOW, None),
    ("indication", "Register-CimIndicationEvent -ClassName Win32_ProcessStartTrace -SourceIdentifier pst", LOW, None),
    # Look-alikes at a lower severity: listing only, a local target.
    ("shadow-list-only", "Get-WmiObject Win32_ShadowCopy | Select-Object ID, InstallDate", LOW, None),
    ("remote-localhost", "gcim Win32_Bios -cn localhost", LOW, "localhost"),
    ("remote-env", "Get-WmiObject Win32_Bios -ComputerName $env:COMPUTERNAME", LOW, "$env:COMPUTERNAME"),
    # Look-alikes: nothing at all.
    ("var-gwmiresult", "$gwmiResult = 5; Write-Output $gwmiResult", set(), None),
    ("wmi-txt", "Get-Content C:\\temp\\wmi.txt", set(), None),
    ("gwmix", "gwmix -x; Get-Item .\\gwmi.txt", set(), None),
    ("vssadmin", "vssadmin delete shadows /all /quiet", set(), None),
    ("helper-name", "Write-Host 'my-gwmi-helper'; Invoke-RcimThing", set(), None),
]

ENC_TEXT = "Get-WmiObject Win32_ShadowCopy | ForEach-Object {$_.Delete();}"
ENC = base64.b64encode(ENC_TEXT.encode("utf-16le")).decode()
# Extra process-only and pipeline forms: (name, kind, fields, expected, remote).
EXTRA = [
    ("sysmon1-encoded", "sysmon1", (PS, "powershell.exe -NoP -NonI -enc " + ENC), HIGH, None),
    ("sysmon1-pwsh", "sysmon1", (PWSH, "pwsh.exe -c gcim Win32_ShadowCopy | rcim"), HIGH, None),
    ("sysmon1-notepad", "sysmon1", (r"C:\Windows\System32\notepad.exe", "notepad.exe gwmi.txt"), set(), None),
    ("ps4103-remote", "ps4103",
     ("Get-WmiObject", 'CommandInvocation(Get-WmiObject): "Get-WmiObject"\r\n'
      'ParameterBinding(Get-WmiObject): name="Class"; value="Win32_BIOS"\r\n'
      'ParameterBinding(Get-WmiObject): name="ComputerName"; value="SRV09"\r\n'), REMOTE, "SRV09"),
    ("ps800-shadow", "ps800", ("Get-WmiObject Win32_Shadowcopy | ForEach-Object {$_.Delete();}",), HIGH, None),
]


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def spec_line(kind, fields):
    return "\t".join([kind, "2024-03-01T10:00:00Z"] + [esc(f) for f in fields])


def event(kind, fields):
    if kind == "ps4104":
        return spec_line("ps4104", [SID, fields[0], "0b7c3f52-1d2e-4f60-9a8b-7c6d5e4f3a21", ""])
    if kind == "ps4103":
        return spec_line("ps4103", [SID, "CORP\\alice", fields[0], fields[1]])
    if kind == "ps800":
        return spec_line("ps800", ["CORP\\alice", "powershell.exe -NoP", fields[0]])
    image, cmdline = fields
    return spec_line("sysmon1", ["4242", image, cmdline, "C:\\Users\\alice\\", "CORP\\alice", "0x5a1f2", "High",
                                 "3100", CMD, "cmd.exe", "CORP\\alice"])


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()], p.returncode, p.stderr.decode(errors="replace")


def one(w, gen, tmp, name, kind, fields, want, remote):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    spec = os.path.join(tmp, name + ".spec")
    with open(spec, "w") as f:
        f.write("host\tWS-%s\n%s\n" % (name[:20], event(kind, fields)))
    p = subprocess.run([gen, "events", spec, d], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode:
        check(False, "%s: writer failed: %s" % (name, p.stderr.decode(errors="replace")))
        return
    recs, rc, err = run([w, "hunt", "--format", "jsonl", d])
    finds = [r for r in recs if r.get("artifact") == "hunt.finding"]
    evt = {}
    for r in finds:
        if r.get("rule", "").startswith("WH-EVT-"):
            evt.setdefault(r["rule"], set()).add(r.get("severity"))
    check(set(evt) == want, "%s (%s): rules %s, expected %s" % (name, kind, sorted(evt), sorted(want)))
    for rule, sevs in evt.items():
        if rule in RULE_SEV:
            check(sevs == {RULE_SEV[rule]}, "%s: %s at %s, expected %s" % (name, rule, sorted(sevs), RULE_SEV[rule]))
    if not want:
        check(not finds, "%s (%s): look-alike gives no finding (%s)" % (name, kind, [r.get("rule") for r in finds]))
        check(rc == 0, "%s: hunt exit %d on a look-alike (%s)" % (name, rc, err.strip()[:200]))
    else:
        top = max(SEV[RULE_SEV[r]] for r in want)
        cases = [c for c in recs if c.get("artifact") == "hunt.case" and want <= set(c.get("rules") or [])]
        check(len(cases) == 1 and SEV.get(cases[0].get("severity"), -1) == top,
              "%s: one hunt.case holds %s at %s (%s)" % (name, sorted(want), top,
                                                         [(c.get("rules"), c.get("severity")) for c in recs
                                                          if c.get("artifact") == "hunt.case"]))
        ids = {c.get("case_id") for c in cases}
        check(all(f.get("case_id") in ids for f in finds if f.get("rule") in want),
              "%s: the findings are linked to that case" % name)
    # The evidence view: the record and its new fields.
    logs = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".evtx")]
    view = []
    for log in logs:
        view += run([w, "evtx", "--format", "jsonl", log])[0]
    mine = [r for r in view if r.get("artifact") in ("evtx.powershell", "evtx.process")]
    if not want:
        check(not mine, "%s: no WMI record for a look-alike (%s)" % (name, [r.get("wmi_terms") for r in mine]))
        return
    check(len(mine) == 1 and mine[0].get("wmi_terms"), "%s: one record with wmi_terms (%s)" % (
        name, [(r.get("artifact"), r.get("wmi_terms")) for r in mine]))
    if mine:
        check(mine[0].get("wmi_remote") == remote, "%s: wmi_remote %r, expected %r" % (
            name, mine[0].get("wmi_remote"), remote))
        if kind == "sysmon1" and " -enc " in fields[1]:
            check(mine[0].get("decoded_command") == ENC_TEXT, "%s: decoded_command %r" % (
                name, mine[0].get("decoded_command")))


def main():
    w, gen, tmp = sys.argv[1:4]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, text, want, remote in FORMS:
        one(w, gen, tmp, name + "-4104", "ps4104", (text,), want, remote)
        if "\n" not in text:
            one(w, gen, tmp, name + "-sysmon1", "sysmon1", (PS, 'powershell.exe -NoP -c "%s"' % text.replace('"', '\\"')),
                want, remote)
    for name, kind, fields, want, remote in EXTRA:
        one(w, gen, tmp, name, kind, fields, want, remote)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
