#!/usr/bin/env python3
"""Every exit code of `wmihunt hunt`, each from a real situation (the
contract of `wmihunt hunt --help`):

  0   read cleanly, no case at --fail-on or above
  1   a case at --fail-on or above, evidence read cleanly
  2   nothing usable in any DIR (no report at all; the reason on stderr)
  3   no case at --fail-on or above, but some evidence damaged or skipped
  4   a case at --fail-on or above, and damaged or skipped evidence
  64  usage error (no report; the reason on stderr)

Situations:
  clean      a wh-fleetgen host without the planted subscription (the
             Windows defaults only): 0, nothing above info
  vendor     the fleetgen host with the vendor's NTEventLog subscription (low: it runs nothing)
             (medium): 0 by default, 1 with --fail-on medium
  lifecycle  tests/gen/casegen.py lifecycle (a critical live subscription): 1
  lifedmg    lifecycle with System.evtx overwritten by garbage: 4
  lifetrunc  lifecycle with its WMI-Activity log cut inside a chunk: 4
  empty      an empty folder, and a folder of files that are no evidence: 2
  cleandmg   clean plus a garbage System.evtx in winevt\\Logs: 3
  cleantrunc clean plus a writer-made Security.evtx cut inside a chunk: 3
  highonly   a live ActiveScript consumer that only appends to a log file
             (worst case high, never critical): 1; --fail-on critical: 0;
             with a damaged log too: 4, and with --fail-on critical 3
  usage      unknown option, --fail-on bogus, --min-severity bogus, --sort
             bogus, --timeline x.txt, an option without its value, no DIR: 64

usage: test_hunt_exit.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH"""
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
LOGS = os.path.join("Windows", "System32", "winevt", "Logs")


def hunt(wm, *args):
    p = subprocess.run([wm, "hunt", "--no-progress"] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def cases(recs, inventory=None):
    return [r for r in recs if r.get("artifact") == "hunt.case"
            and (inventory is None or bool(r.get("inventory")) == inventory)]


def worst(recs):
    sev = [SEV.index(c["severity"]) for c in cases(recs, False) if c.get("severity") in SEV]
    return max(sev) if sev else -1


def garbage(path, n, seed):
    """Bytes that are no EVTX (a deterministic pseudo-random run)."""
    x = seed * 2654435761 % 2 ** 32 or 1
    out = bytearray()
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x & 0xFF)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(bytes(out))


def cut(path, keep):
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) > keep, "%s: %d bytes, cannot cut at %d" % (path, len(data), keep))
    with open(path, "wb") as f:
        f.write(data[:keep])


def run_case(wm, name, tree, want, *args, fmt="jsonl", damaged=None):
    """Runs hunt and checks the exit code; a report on stdout unless the
    code is 2 or 64; stderr names the damaged file when there is one."""
    rc, out, err = hunt(wm, "--format", fmt, *args, tree)
    check(rc == want, "%s: exit %d, expected %d; stderr: %s" % (name, rc, want, err.strip()[-400:]))
    if want in (2, 64):
        check(out == "", "%s: exit %d must print no report, stdout has %d bytes: %r" % (name, want, len(out), out[:200]))
        check(err.strip() != "", "%s: exit %d with nothing on stderr" % (name, want))
    else:
        check(out.strip() != "", "%s: exit %d but no report on stdout" % (name, rc))
    if damaged:
        check(damaged in err, "%s: stderr does not name the damaged %s: %s" % (name, damaged, err.strip()[-400:]))
    elif want in (0, 1):
        check(err.strip() == "", "%s: clean evidence, yet stderr says: %s" % (name, err.strip()[-400:]))
    return rc, out, err


def make_clean(gen, tmp):
    """Hosts 0 and 1 of wh-fleetgen: host00 carries the vendor subscription
    (every fifth host does), host01 only the Windows defaults."""
    fleet = os.path.join(tmp, "fleet")
    p = subprocess.run([os.path.join(gen, "wh-fleetgen"), fleet, "2"], capture_output=True, text=True)
    check(p.returncode == 0, "wh-fleetgen: exit %d: %s" % (p.returncode, p.stderr))
    return os.path.join(fleet, "host01"), os.path.join(fleet, "host00")


def casegen(src, gen, name, out):
    p = subprocess.run([sys.executable, os.path.join(src, "gen", "casegen.py"), "--gen", gen, name, out],
                       capture_output=True, text=True)
    check(p.returncode == 0, "casegen %s: exit %d: %s" % (name, p.returncode, p.stderr.strip()))
    return json.loads(p.stdout) if p.returncode == 0 else None


LOGGER = ('Set fso = CreateObject("Scripting.FileSystemObject")\r\n'
          'Set f = fso.OpenTextFile("C:\\ProgramData\\Inventory\\seen.log", 8, True)\r\n'
          'f.WriteLine Now\r\nf.Close\r\n')


def make_highonly(gen, out):
    """A live ActiveScriptEventConsumer (WH-SUB-003, high) whose script
    appends the time to a log file: nothing it runs downloads, decodes or
    starts a shell, so the case is high and never critical."""
    h = cg.Host("WS-INV-02.corp.example.com")
    s = cg.sub("root\\subscription", "InventoryTick",
               "SELECT * FROM __InstanceModificationEvent WITHIN 3600 WHERE TargetInstance ISA 'Win32_LocalTime'",
               "ActiveScriptEventConsumer", "InventoryLogger",
               [("ScriptingEngine", "VBScript"), ("ScriptText", LOGGER)])
    h.logon(cg.at("2024-06-03T08:00:00"), cg.ADM, cg.ADM_SID, "0x51a0b2", ltype=2)
    h.write(gen, out, ["subs"] + cg.repo_entry("live", s, cg.at("2024-06-03T08:11:00")),
            ["autorecover", "2024-04-30T08:00:00Z"])


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    wm, gen, src, tmp = sys.argv[1:5]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)

    # ---- 0: a clean host ----
    clean, vendor = make_clean(gen, tmp)
    rc, out, _ = run_case(wm, "clean", clean, 0)
    recs = records(out)
    check(all(r.get("artifact") != "?bad json" for r in recs), "clean: output lines that are not JSON")
    hosts = [r for r in recs if r.get("artifact") == "hunt.host"]
    check(len(hosts) == 1 and hosts[0].get("worst") is None and hosts[0].get("cases") == 0,
          "clean: hunt.host %r, expected one with cases 0 and worst null"
          % [(h.get("cases"), h.get("worst")) for h in hosts])
    check(worst(recs) == -1, "clean: a case that is not inventory: %s"
          % [(c.get("title"), c.get("severity")) for c in cases(recs, False)])
    above = [(r.get("artifact"), r.get("rule") or r.get("title"), r.get("severity")) for r in recs
             if r.get("artifact") in ("hunt.case", "hunt.finding") and r.get("severity") != "info"]
    check(not above, "clean: lines above info: %s" % above[:5])
    check(cases(recs, True), "clean: no inventory case (the SCM Event Log triple)")
    run_case(wm, "clean --fail-on info", clean, 0, "--fail-on", "info")
    run_case(wm, "clean text", clean, 0, fmt="text")

    # vendor's benign NTEventLog subscription: it runs nothing, so low (WH-SUB-018)
    rc, out, _ = run_case(wm, "vendor", vendor, 0)
    check(worst(records(out)) == SEV.index("low"), "vendor: worst case %r, expected low"
          % (SEV[worst(records(out))] if worst(records(out)) >= 0 else None))
    run_case(wm, "vendor --fail-on medium", vendor, 0, "--fail-on", "medium")
    run_case(wm, "vendor --fail-on low", vendor, 1, "--fail-on", "low")
    run_case(wm, "vendor --fail-on high", vendor, 0, "--fail-on", "high")

    # ---- 1: the lifecycle story ----
    life = os.path.join(tmp, "lifecycle")
    if casegen(src, gen, "lifecycle", life):
        rc, out, _ = run_case(wm, "lifecycle", life, 1)
        check(worst(records(out)) == SEV.index("critical"), "lifecycle: worst case is not critical")
        run_case(wm, "lifecycle --fail-on critical", life, 1, "--fail-on", "critical")
        run_case(wm, "lifecycle text", life, 1, fmt="text")
        run_case(wm, "lifecycle csv", life, 1, fmt="csv")

        # ---- 4: the same plus damaged evidence ----
        dmg = os.path.join(tmp, "lifedmg")
        shutil.copytree(life, dmg)
        sysevtx = os.path.join(dmg, "C", LOGS, "System.evtx")
        garbage(sysevtx, 70000, 4)
        rc, out, _ = run_case(wm, "lifedmg", dmg, 4, damaged="System.evtx")
        recs = records(out)
        check(worst(recs) == SEV.index("critical"), "lifedmg: the critical case is gone with a damaged System.evtx")
        hosts = [r for r in recs if r.get("artifact") == "hunt.host"]
        check(hosts and hosts[0].get("damaged", 0) > 0, "lifedmg: hunt.host damaged %r, expected > 0"
              % (hosts[0].get("damaged") if hosts else None))
        run_case(wm, "lifedmg --fail-on critical", dmg, 4, "--fail-on", "critical", damaged="System.evtx")
        run_case(wm, "lifedmg text", dmg, 4, fmt="text", damaged="System.evtx")

        trunc = os.path.join(tmp, "lifetrunc")
        shutil.copytree(life, trunc)
        wmi = os.path.join(trunc, "C", LOGS, "Microsoft-Windows-WMI-Activity%4Operational.evtx")
        cut(wmi, 4096 + 3000)  # the file header, then 3000 bytes of the first chunk
        run_case(wm, "lifetrunc", trunc, 4, damaged="WMI-Activity%4Operational.evtx")

    # ---- 2: nothing usable ----
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    for fmt in ("text", "jsonl", "json", "csv"):
        rc, out, err = run_case(wm, "empty (%s)" % fmt, empty, 2, fmt=fmt)
        check("no usable evidence" in err, "empty (%s): stderr does not say 'no usable evidence': %s"
              % (fmt, err.strip()[-300:]))
    nowin = os.path.join(tmp, "nowin")
    os.makedirs(os.path.join(nowin, "docs"))
    with open(os.path.join(nowin, "docs", "notes.txt"), "w") as f:
        f.write("meeting notes\n")
    with open(os.path.join(nowin, "photo.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    rc, out, err = run_case(wm, "nowin", nowin, 2)
    check("no usable evidence" in err, "nowin: stderr does not say 'no usable evidence': %s" % err.strip()[-300:])
    rc, out, err = run_case(wm, "missing path", os.path.join(tmp, "does-not-exist"), 2)
    rc, out, err = hunt(wm, "--format", "jsonl", empty, nowin)
    check(rc == 2 and out == "", "two unusable folders: exit %d, %d bytes on stdout; expected 2 and none"
          % (rc, len(out)))

    # ---- 3: a clean host with damaged evidence ----
    cd = os.path.join(tmp, "cleandmg")
    shutil.copytree(clean, cd)
    garbage(os.path.join(cd, LOGS, "System.evtx"), 70000, 3)
    rc, out, _ = run_case(wm, "cleandmg", cd, 3, damaged="System.evtx")
    recs = records(out)
    check(worst(recs) == -1, "cleandmg: a case above inventory: %s" % [c.get("title") for c in cases(recs, False)])
    check([r for r in recs if r.get("artifact") == "hunt.host"], "cleandmg: no hunt.host line on exit 3")
    run_case(wm, "cleandmg text", cd, 3, fmt="text", damaged="System.evtx")
    run_case(wm, "cleandmg --fail-on info", cd, 3, "--fail-on", "info", damaged="System.evtx")

    ct = os.path.join(tmp, "cleantrunc")
    shutil.copytree(clean, ct)
    logs = os.path.join(ct, LOGS)
    os.makedirs(logs)
    script = "host\tWS-CLEAN-01.corp.example.com\n"
    for i in range(40):  # logons only: nothing a rule calls out
        script += "sec4624\t2024-06-03T08:%02d:00.000000Z\tS-1-5-21-1-2-3-1107\tuser%d\tCORP\t0x%x\t2\t-\t" \
                  "C:\\Windows\\System32\\svchost.exe\n" % (i, i, 0x51a000 + i)
    p = subprocess.run([os.path.join(gen, "wh-evtxgen"), "events", "-", logs], input=script, text=True,
                       capture_output=True)
    check(p.returncode == 0, "wh-evtxgen events: exit %d: %s" % (p.returncode, p.stderr.strip()))
    sec = os.path.join(logs, "Security.evtx")
    check(os.path.exists(sec), "wh-evtxgen events wrote no Security.evtx")
    if os.path.exists(sec):
        rc, out, _ = run_case(wm, "cleantrunc (before the cut)", ct, 0)
        check(worst(records(out)) == -1, "cleantrunc: logons alone make a case above inventory")
        size = os.path.getsize(sec)
        cut(sec, 4096 + (size - 4096) // 2)
        run_case(wm, "cleantrunc", ct, 3, damaged="Security.evtx")

    # ---- 1 -> 0 with --fail-on critical: a tree whose worst case is high ----
    hi = os.path.join(tmp, "highonly")
    make_highonly(gen, hi)
    rc, out, _ = run_case(wm, "highonly", hi, 1)
    recs = records(out)
    check(worst(recs) == SEV.index("high"), "highonly: worst case %r, expected high (an ActiveScript consumer that "
          "only writes a log file is not critical)" % (SEV[worst(recs)] if worst(recs) >= 0 else None))
    run_case(wm, "highonly --fail-on critical", hi, 0, "--fail-on", "critical")
    run_case(wm, "highonly --fail-on critical (text)", hi, 0, "--fail-on", "critical", fmt="text")
    run_case(wm, "highonly --fail-on high", hi, 1, "--fail-on", "high")
    hd = os.path.join(tmp, "highdmg")
    shutil.copytree(hi, hd)
    garbage(os.path.join(hd, "C", LOGS, "System.evtx"), 70000, 5)
    run_case(wm, "highdmg", hd, 4, damaged="System.evtx")
    run_case(wm, "highdmg --fail-on critical", hd, 3, "--fail-on", "critical", damaged="System.evtx")
    # --min-severity changes what is shown, not the exit code
    run_case(wm, "highonly --min-severity critical", hi, 1, "--min-severity", "critical")

    # ---- 64: usage errors ----
    tl = os.path.join(tmp, "x.txt")
    for name, args in (("unknown option", ["--bogus-option"]),
                       ("--fail-on bogus", ["--fail-on", "bogus"]),
                       ("--fail-on HIGHEST", ["--fail-on", "HIGHEST"]),
                       ("--min-severity bogus", ["--min-severity", "bogus"]),
                       ("--sort bogus", ["--sort", "bogus"]),
                       ("--format bogus", ["--format", "bogus"]),
                       ("--timeline x.txt", ["--timeline", tl])):
        rc, out, err = run_case(wm, name, clean, 64, *args)
    check(not os.path.exists(tl), "--timeline x.txt: the refused timeline file was created anyway")
    for name, argv in (("--fail-on without a value", ["--fail-on"]),
                       ("no DIR", []),
                       ("only options", ["--format", "jsonl"])):
        rc, out, err = hunt(wm, *argv)
        check(rc == 64, "%s: exit %d, expected 64; stderr: %s" % (name, rc, err.strip()[-200:]))
        check(out == "", "%s: usage error printed a report (%d bytes)" % (name, len(out)))
        check(err.strip() != "", "%s: usage error with nothing on stderr" % name)
    rc, out, err = hunt(wm, "--fail-on", "bogus", "--format", "jsonl", clean)
    check("fail-on" in err, "--fail-on bogus: stderr does not name the option: %s" % err.strip())
    rc, out, err = hunt(wm, "--timeline", tl, clean)
    check("timeline" in err, "--timeline x.txt: stderr does not name the option: %s" % err.strip())
    # usage errors win over unusable evidence
    rc, out, err = hunt(wm, "--fail-on", "bogus", empty)
    check(rc == 64, "--fail-on bogus on an empty folder: exit %d, expected 64" % rc)
    p = subprocess.run([wm, "hunt", "--help"], capture_output=True, text=True)
    rc, out = p.returncode, p.stdout
    check(rc == 0 and "exit codes" in out, "hunt --help: exit %d, or no 'exit codes' section" % rc)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
