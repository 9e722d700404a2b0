#!/usr/bin/env python3
"""The host's name in `wmihunt hunt`: the SYSTEM hive's computer name first
(Select\\Current -> ControlSet00N\\Control\\ComputerName\\ComputerName, and
Services\\Tcpip\\Parameters Hostname + Domain for the FQDN), else the event
logs' Computer, else the folder's name.

The collection is casegen.py's lifecycle story (Computer
WS-FIN-07.corp.example.com in every log); `wh-regfgen system` writes a SYSTEM
hive beside its SOFTWARE that names the host otherwise. A SYSTEM hive is
optional evidence: without one the logs name the host and nothing is said;
a damaged one never stops the hunt, the logs name the host, and one warning
says so (exit 4: cases at high or above, and evidence damaged).

usage: test_hostname.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

NAME, DOMAIN = "FIN-WS-0007", "corp.example.com"
FQDN = NAME + "." + DOMAIN


def hunt(wm, tree, *extra):
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl"] + list(extra) + [tree],
                       capture_output=True, text=True)
    recs = []
    for line in p.stdout.splitlines():
        if line.strip():
            try:
                recs.append(json.loads(line))
            except ValueError:
                check(False, "output line is not JSON: %r" % line[:200])
    return p.returncode, recs, p.stderr


def by(recs, art):
    return [r for r in recs if r.get("artifact") == art]


def host_line(recs, what):
    hosts = by(recs, "hunt.host")
    check(len(hosts) == 1, "%s: %d hunt.host lines, expected 1" % (what, len(hosts)))
    return hosts[0] if hosts else {}


def named(wm, tree, config, what, want, want_from, ncases):
    """Hunt tree; the host must be want (from want_from) on every line."""
    rc, recs, err = hunt(wm, tree)
    h = host_line(recs, what)
    check(rc == 1, "%s: exit %d, expected 1; stderr: %s" % (what, rc, err.strip()[-300:]))
    check(h.get("host") == want, "%s: host %r, expected %r" % (what, h.get("host"), want))
    check(h.get("host_from") == want_from, "%s: host_from %r, expected %r" % (what, h.get("host_from"), want_from))
    cases = by(recs, "hunt.case")
    check(len(cases) == ncases, "%s: %d hunt.case lines, expected %d" % (what, len(cases), ncases))
    for art in ("hunt.case", "hunt.finding", "hunt.file"):
        other = sorted({r.get("host") for r in by(recs, art) if r.get("host") != want}, key=str)
        check(not other, "%s: %s lines with another host: %s" % (what, art, other))
    files = [r.get("source", "") for r in by(recs, "hunt.file")]
    system = [f for f in files if os.path.dirname(f) == config and os.path.basename(f).upper() == "SYSTEM"]
    if want_from == "hive":
        check(len(system) == 1, "%s: the SYSTEM hive is not among the files read: %s" % (what, files))
    check("SYSTEM" not in err, "%s: something said about the SYSTEM hive: %s" % (what, err.strip()[-300:]))
    return recs


def damaged(wm, tree, what, want, ncases):
    """A SYSTEM hive that gives no name: the logs name the host, the cases
    are all there, one warning (not an error) names the SYSTEM hive."""
    rc, recs, err = hunt(wm, tree)
    h = host_line(recs, what)
    check(rc == 4, "%s: exit %d, expected 4 (cases at high, evidence damaged); stderr: %s"
          % (what, rc, err.strip()[-300:]))
    check(h.get("host") == want and h.get("host_from") == "event_log",
          "%s: host %r from %r, expected %r from the event logs" % (what, h.get("host"), h.get("host_from"), want))
    cases = by(recs, "hunt.case")
    check(len(cases) == ncases, "%s: %d hunt.case lines, expected %d" % (what, len(cases), ncases))
    check(all(c.get("host") == want for c in cases), "%s: a hunt.case with another host" % what)
    said = [ln for ln in err.splitlines() if "SYSTEM" in ln]
    check(any(ln.startswith("wmihunt: warning:") and "gives no computer name" in ln for ln in said),
          "%s: no warning about the SYSTEM hive: %s" % (what, err.strip()[-300:]))
    check(not any(ln.startswith("wmihunt: error:") for ln in said),
          "%s: the SYSTEM hive was reported as an error: %s" % (what, said))


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wm, gen, src, tmp = argv
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    tree = os.path.join(tmp, "lifecycle")
    p = subprocess.run([sys.executable, os.path.join(src, "gen", "casegen.py"), "--gen", gen, "lifecycle", tree],
                       capture_output=True, text=True)
    if p.returncode:
        check(False, "casegen lifecycle: " + p.stderr.strip())
        return finish()
    man = json.loads(p.stdout)
    computer = (man[0] if isinstance(man, list) else man)["computer"]  # one host: a list of one
    check(computer != FQDN, "the logs already give %s" % FQDN)
    config = os.path.join(tree, "C", "Windows", "System32", "config")
    system = os.path.join(config, "SYSTEM")
    regfgen = os.path.join(gen, "wh-regfgen")

    def write_system(*args):
        subprocess.run([regfgen, "system", config] + list(args), check=True)
        with open(system, "rb") as f:
            return f.read()

    # Without a SYSTEM hive: the event logs' Computer, and nothing said.
    check(not os.path.exists(system), "casegen wrote a SYSTEM hive")
    ncases = len(by(hunt(wm, tree)[1], "hunt.case"))
    check(ncases > 0, "no SYSTEM hive: no hunt.case")
    named(wm, tree, config, "no SYSTEM hive", computer, "event_log", ncases)

    # Tcpip Hostname + Domain: the FQDN, on every line of the host.
    good = write_system(NAME, DOMAIN)
    named(wm, tree, config, "SYSTEM with Tcpip", FQDN, "hive", ncases)
    text = subprocess.run([wm, "hunt", "--no-progress", tree], capture_output=True, text=True)
    check(FQDN in text.stdout and "name from the SYSTEM hive's computer name" in text.stdout,
          "text report: the host is not %s from the hive" % FQDN)

    # ComputerName alone; the file found in any case.
    write_system(NAME)
    named(wm, tree, config, "SYSTEM without Tcpip", NAME, "hive", ncases)
    os.rename(system, os.path.join(config, "system"))
    named(wm, tree, config, "lower-case 'system'", NAME, "hive", ncases)
    os.remove(os.path.join(config, "system"))

    # Damaged or not a SYSTEM hive: the logs name the host, the run goes on.
    for what, data in [("SYSTEM cut short", good[:5000]),
                       ("SYSTEM cut inside its base block", good[:1000]),
                       ("SYSTEM empty", b""),
                       ("SYSTEM garbage", bytes((i * 151 + 7) % 256 for i in range(8192))),
                       ("SYSTEM base block checksum broken", good[:100] + b"\xff" + good[101:])]:
        with open(system, "wb") as f:
            f.write(data)
        damaged(wm, tree, what, computer, ncases)
    with open(os.path.join(config, "SOFTWARE"), "rb") as f:
        software = f.read()
    with open(system, "wb") as f:
        f.write(software)
    damaged(wm, tree, "a SOFTWARE hive named SYSTEM", computer, ncases)
    os.remove(system)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
