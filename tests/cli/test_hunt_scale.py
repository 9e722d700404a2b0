#!/usr/bin/env python3
"""`wmihunt hunt` at sweep scale: many hosts, many evidence files.

  fleet (argv)   wh-fleetgen writes HOSTS hosts (default 300), the
                 subscription that imitates the SCM Event Log names planted
                 on the LAST host only. `hunt --format jsonl DIR/host*` with
                 one argv entry per host, the last host last: HOSTS hunt.host
                 lines in argv order, each host once; the planted
                 subscription is one case (high or critical, not inventory)
                 under the last host and under no other; its repository
                 evidence (the live binding) is in that case and in no
                 inventory case, so its state is live; exit 1 (fleetgen
                 writes undamaged repositories: nothing on stderr). Also
                 --fail-on critical / medium, --min-severity high
                 (only cases at high or above are written), and the text
                 report's per-host sections.
  fleet (parent) the same HOSTS folders as ONE path, their parent: the hunt
                 splits a folder of collections into hosts, HOSTS hunt.host
                 lines, the planted case under the last host only.
                 Peak RSS of `triage` and `hunt` on that folder within
                 16 MB of one host's (issue 16: flat memory; hunt not
                 under ASan).
  files          a folder of FILES small MOF files (default 5,000, each with
                 different content): exactly FILES hunt.file lines with
                 distinct paths, each size, mtime and SHA-256 equal to the
                 file's own, the text report's "Evidence files read (size,
                 mtime, SHA-256): FILES", and no bound reached (triage's
                 default --max-files is 2,000,000; a bound would be said on
                 stderr, as `wmihunt triage --max-files` shows here).
  json           every output line is one JSON object without a repeated key.

Smaller sizes from the environment (WH_SCALE_HOSTS, WH_SCALE_FILES) for slow
builds; the acceptance sizes are the defaults.

usage: test_hunt_scale.py WMIHUNT TESTS_GEN_BUILD_DIR SCRATCH"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402
from checks import check, finish  # noqa: E402

SEV = ["info", "low", "medium", "high", "critical"]
PLANT_FILTER = "SCM Event Log Filter "    # wh-fleetgen: one trailing space away from the default
PLANT_CONSUMER = "SCM Event Log Consumer "


def run(wm, args):
    t = time.time()
    p = subprocess.run([wm, "hunt", "--no-progress"] + args, capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), time.time() - t


class Dup:
    """json object_pairs_hook that remembers repeated keys."""

    def __init__(self):
        self.seen = {}

    def __call__(self, pairs):
        keys = [k for k, _ in pairs]
        for k in set(keys):
            if keys.count(k) > 1:
                self.seen[k] = self.seen.get(k, 0) + 1
        return dict(pairs)


def parse(name, out, dup=None):
    recs, bad = [], 0
    hook = dup or Dup()
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            r = json.loads(line, object_pairs_hook=hook)
        except ValueError:
            bad += 1
            continue
        if isinstance(r, dict) and "artifact" in r:
            recs.append(r)
        else:
            bad += 1
    check(bad == 0, "%s: %d output line(s) are not JSON objects with an artifact" % (name, bad))
    return recs


def of(recs, artifact):
    return [r for r in recs if r.get("artifact") == artifact]


def planted(c):
    return c.get("filter_name") == PLANT_FILTER or c.get("consumer_name") == PLANT_CONSUMER


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


def mentions_plant(c):
    """The case's evidence or life names the planted (trailing-space) objects:
    a reference path ends the name with a quote, a summary with ' ->'."""
    marks = (PLANT_FILTER + '"', PLANT_CONSUMER + '"', PLANT_FILTER + " ->")
    return any(m in t for t in strings([c.get("evidence"), c.get("lifecycle")]) for m in marks)


def fleet_checks(name, recs, host_names, last):
    hosts = of(recs, "hunt.host")
    got = [h.get("host") for h in hosts]
    check(len(hosts) == len(host_names), "%s: %d hunt.host lines, expected %d" % (name, len(hosts), len(host_names)))
    check(len(set(got)) == len(got), "%s: a host has two sections: %s"
          % (name, sorted({g for g in got if got.count(g) > 1})[:5]))
    check(set(got) == set(host_names), "%s: hosts %s missing, %s extra" % (
        name, sorted(set(host_names) - set(got))[:5], sorted(set(got) - set(host_names))[:5]))
    cs = of(recs, "hunt.case")
    mine = [c for c in cs if planted(c)]
    check(len(mine) == 1, "%s: %d cases name the planted subscription, expected 1: %s"
          % (name, len(mine), [(c.get("host"), c.get("case_id")) for c in mine][:5]))
    check(all(c.get("host") == last for c in mine), "%s: the planted subscription under host(s) %s, expected only %s"
          % (name, sorted({c.get("host") for c in mine}), last))
    for c in mine:
        w = "%s: planted case %s" % (name, c.get("case_id"))
        check(c.get("severity") in ("high", "critical"), w + ": severity %r" % c.get("severity"))
        check(c.get("inventory") is False, w + ": inventory %r" % c.get("inventory"))
        check(not c.get("known_good"), w + ": known_good %r" % c.get("known_good"))
        check(c.get("kind") == "subscription", w + ": kind %r" % c.get("kind"))
        check(c.get("rank") == 1, w + ": rank %r, expected 1 (the host's only case above inventory)" % c.get("rank"))
        check("WH-SUB-009" in (c.get("rules") or []), w + ": rules %r lack WH-SUB-009 (name imitating a default)"
              % c.get("rules"))
        # The subscription is in the live repository: its binding is this
        # case's evidence, so its state is live (a live, encoded PowerShell
        # payload: critical by the ranking rules of lib/hunt/hunt_rank.c).
        check(c.get("state") == "live", w + ": state %r, expected live (it is a live repository subscription, "
              "no MOF file exists)" % c.get("state"))
        bind = [e for e in c.get("evidence") or [] if e.get("artifact") == "cim.binding"]
        check(bind, w + ": its live cim.binding record is not among its evidence (%s)"
              % sorted({e.get("artifact") for e in c.get("evidence") or []}))
    # The host sections of the others hold nothing of it; the genuine SCM
    # inventory case of the last host holds none of its evidence.
    leak = [(c.get("host"), c.get("case_id")) for c in cs if c.get("host") != last and (planted(c) or mentions_plant(c))]
    check(not leak, "%s: the planted subscription shows in other hosts' cases: %s" % (name, leak[:5]))
    inv = [c for c in cs if c.get("host") == last and c.get("inventory")]
    hidden = [c.get("case_id") for c in inv if mentions_plant(c)]
    check(not hidden, "%s: evidence of the planted look-alike (name with a trailing space) filed under the "
          "known-good inventory case(s) %s of %s" % (name, hidden, last))
    others = [c for c in cs if c.get("host") != last and not c.get("inventory") and c.get("severity") in
              ("high", "critical")]
    check(not others, "%s: cases at high or above on unplanted hosts: %s"
          % (name, [(c.get("host"), c.get("title")) for c in others][:5]))
    # every hunt.case / finding / file line carries a host that has a section
    hs = set(got)
    orphans = [r.get("artifact") for r in recs if r.get("artifact") in ("hunt.case", "hunt.finding", "hunt.file")
               and r.get("host") not in hs]
    check(not orphans, "%s: %d line(s) with a host that has no hunt.host line" % (name, len(orphans)))
    # lines come host by host: a host's section is contiguous
    order, runs = [], 0
    for r in recs:
        h = r.get("host")
        if not order or order[-1] != h:
            order.append(h)
            runs += 1
    check(runs == len(host_names), "%s: host sections are interleaved (%d runs of lines for %d hosts)"
          % (name, runs, len(host_names)))
    return hosts


def fleet(wm, gen, tmp, n):
    root = os.path.join(tmp, "fleet")
    last = n - 1
    p = subprocess.run([os.path.join(gen, "wh-fleetgen"), root, str(n), str(last)], capture_output=True, text=True)
    check(p.returncode == 0, "wh-fleetgen: exit %d: %s" % (p.returncode, p.stderr))
    dirs = sorted(os.listdir(root), key=lambda d: int(re.sub(r"\D", "", d) or 0))
    check(len(dirs) == n, "wh-fleetgen wrote %d host folders, expected %d" % (len(dirs), n))
    paths = [os.path.join(root, d) for d in dirs]
    last_name = dirs[-1]
    check(last_name == "host%02d" % last, "the last host folder is %r, expected host%02d" % (last_name, last))

    # a. one argv entry per host
    dup = Dup()
    rc, out, err, secs = run(wm, ["--format", "jsonl"] + paths)
    print("fleet argv: %d hosts in %.2f s" % (n, secs))
    check(rc == 1, "fleet argv: exit %d, expected 1 (a case at high or above; fleetgen evidence is undamaged); "
          "stderr: %s" % (rc, err.strip()[-400:]))
    check(err.strip() == "", "fleet argv: stderr on undamaged evidence: %s" % err.strip()[-400:])
    recs = parse("fleet argv", out, dup)
    hosts = fleet_checks("fleet argv", recs, dirs, last_name)
    got = [h.get("host") for h in hosts]
    check(got == dirs, "fleet argv: hunt.host lines not in argv order (first differences: %s)"
          % [(a, b) for a, b in zip(got, dirs) if a != b][:3])
    check(got and got[-1] == last_name, "fleet argv: the last section is %r, expected %s"
          % (got[-1] if got else None, last_name))
    check(not dup.seen, "fleet argv: JSON objects with a repeated key (key: objects): %s" % dup.seen)
    lasth = [h for h in hosts if h.get("host") == last_name]
    check(lasth and lasth[0].get("cases") == 1 and lasth[0].get("worst") in ("high", "critical"),
          "fleet argv: %s's hunt.host says cases %r worst %r, expected 1 and high/critical"
          % (last_name, lasth[0].get("cases") if lasth else None, lasth[0].get("worst") if lasth else None))
    files = of(recs, "hunt.file")
    check(len(files) == 5 * n, "fleet argv: %d hunt.file lines, expected %d (5 repository files per host)"
          % (len(files), 5 * n))

    # the worst case is high (WH-SUB-002/004/009); critical when live and dangerous
    worst = max((SEV.index(c["severity"]) for c in of(recs, "hunt.case") if not c.get("inventory")), default=-1)
    rc2, out2, err2, _ = run(wm, ["--format", "jsonl", "--fail-on", "critical"] + paths)
    want = 1 if worst == SEV.index("critical") else 0
    check(rc2 == want, "fleet --fail-on critical: exit %d, expected %d (worst case %s)"
          % (rc2, want, SEV[worst] if worst >= 0 else None))
    rc3, _, _, _ = run(wm, ["--format", "jsonl", "--fail-on", "low"] + paths[:2])
    check(rc3 == 1, "fleet host00+host01 --fail-on low: exit %d, expected 1 (host00's vendor subscription, an "
          "event-log consumer that runs nothing, is low)" % rc3)
    rc3, _, _, _ = run(wm, ["--format", "jsonl", "--fail-on", "medium"] + paths[:2])
    check(rc3 == 0, "fleet host00+host01 --fail-on medium: exit %d, expected 0" % rc3)
    rc3, _, _, _ = run(wm, ["--format", "jsonl"] + paths[:-1])
    check(rc3 == 0, "fleet without the planted host: exit %d, expected 0" % rc3)

    # --min-severity high: only cases at high or above (the inventory is
    # shown only at the default, info)
    rc4, out4, _, _ = run(wm, ["--format", "jsonl", "--min-severity", "high"] + paths)
    check(rc4 == 1, "fleet --min-severity high: exit %d, expected 1 (the exit code does not depend on what is "
          "shown)" % rc4)
    recs4 = parse("fleet --min-severity high", out4)
    cs4 = of(recs4, "hunt.case")
    low = [(c.get("host"), c.get("severity"), c.get("title")) for c in cs4 if c.get("severity") not in
           ("high", "critical")]
    check(not low, "fleet --min-severity high: %d hunt.case line(s) below high written, e.g. %s"
          % (len(low), low[:2]))
    check(len([c for c in cs4 if planted(c)]) == 1, "fleet --min-severity high: the planted case is not written once")
    check(len(of(recs4, "hunt.host")) == n, "fleet --min-severity high: %d hunt.host lines, expected %d"
          % (len(of(recs4, "hunt.host")), n))
    lowf = [(f.get("host"), f.get("rule"), f.get("severity")) for f in of(recs4, "hunt.finding")
            if f.get("severity") == "info" and f.get("known_good")]
    check(not lowf, "fleet --min-severity high: %d known-good (info) finding(s) of hidden inventory written, e.g. %s"
          % (len(lowf), lowf[:2]))

    # text: one section per host, the planted one under the last
    rc5, out5, _, _ = run(wm, ["--format", "text", "--no-color"] + paths)
    check(rc5 == 1, "fleet text: exit %d, expected 1" % rc5)
    heads = re.findall(r"^wmihunt hunt: (\S+): ", out5, re.M)
    check(heads == dirs, "fleet text: %d section heads, expected %d in argv order" % (len(heads), n))
    tail = out5[out5.rfind("wmihunt hunt: %s: " % last_name):] if heads else ""
    check("SCM Event Log Consumer" in tail and "CommandLineEventConsumer" in tail,
          "fleet text: the planted subscription is not in %s's section" % last_name)
    check(re.search(r"^%d host\(s\): " % n, out5, re.M), "fleet text: no closing '%d host(s):' summary" % n)

    # b. the parent folder as ONE path
    rc6, out6, err6, secs = run(wm, ["--format", "jsonl", root])
    print("fleet parent: %d hosts in %.2f s" % (n, secs))
    check(rc6 == 1, "fleet parent: exit %d, expected 1; stderr: %s" % (rc6, err6.strip()[-400:]))
    recs6 = parse("fleet parent", out6)
    fleet_checks("fleet parent", recs6, dirs, last_name)
    hp = {h.get("host"): h.get("paths") for h in of(recs6, "hunt.host")}
    wrong = [(h, p) for h, p in hp.items() if p != [os.path.join(root, h)]]
    check(not wrong, "fleet parent: hunt.host paths are not the host folders: %s" % wrong[:3])
    # the same cases either way
    key = lambda rs: sorted((c.get("host"), c.get("case_id"), c.get("severity")) for c in of(rs, "hunt.case"))
    check(key(recs) == key(recs6), "fleet: the cases differ between per-host arguments and the parent folder")
    rc7, out7, _, _ = run(wm, ["--format", "jsonl", root + "/"])
    check(rc7 == 1 and len(of(parse("fleet parent/", out7), "hunt.host")) == n,
          "fleet parent with a trailing slash: exit %d, not %d hosts" % (rc7, n))

    # c. flat memory (issue 16): one folder of n hosts costs about what one
    # host costs. Before, triage's list of missing artifacts was copied whole
    # for every entry (300 hosts: 70 MB against 4 MB for one). Peak RSS by
    # /usr/bin/time (a child forked from this big Python would count its
    # pages). Not under ASan: its redzones and quarantine (what each host
    # freed is kept a while) make peak memory say nothing about ours.
    tf = os.path.join(tmp, "fleet.time")
    def peak_mb(args):
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf, wm] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(tf) as f:
            return int(f.read().split()[-1]) / 1024.0
    with open(wm, "rb") as f:
        asan = b"__asan_init" in f.read()
    cmds = [] if asan else [["triage"], ["hunt", "--no-progress"]]
    if asan:
        print("fleet memory: skipped under ASan (peak memory is the sanitizer's)")
    if not os.access("/usr/bin/time", os.X_OK):
        print("fleet memory: skipped: /usr/bin/time not installed")
        cmds = []
    for c in cmds:
        one, many = peak_mb(c + [paths[0]]), peak_mb(c + [root])
        print("fleet memory: %s peak %.1f MB for one host, %.1f MB for %d in one folder" % (c[0], one, many, n))
        check(many <= one + 16, "fleet memory: %s over %d hosts in one folder peaks at %.1f MB, one host at %.1f MB "
              "(more than 16 MB apart: per-host state kept or grown quadratically)" % (c[0], n, many, one))


MOF = ('#pragma namespace("\\\\\\\\.\\\\root\\\\cimv2")\r\n'
       "// file %(i)d of %(n)d\r\n"
       "class Scale_Test_%(i)05d\r\n{\r\n  [key] string Name;\r\n  uint32 Value = %(i)d;\r\n};\r\n")


def files(wm, tmp, n):
    d = os.path.join(tmp, "many")
    sub = ["a", "b", "c", "d"]
    want = {}
    for i in range(n):
        p = os.path.join(d, sub[i % 4], "m%05d.mof" % i)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        data = (MOF % {"i": i, "n": n}).encode()
        with open(p, "wb") as f:
            f.write(data)
        st = os.stat(p)
        want[os.path.abspath(p)] = (len(data), int(st.st_mtime), hashlib.sha256(data).hexdigest())
    rc, out, err, secs = run(wm, ["--format", "jsonl", d])
    print("files: %d MOF files in %.2f s" % (n, secs))
    check(rc == 0, "files: exit %d, expected 0 (class definitions only); stderr: %s" % (rc, err.strip()[-400:]))
    check(err.strip() == "", "files: stderr is not empty (a bound or a damaged file?): %s" % err.strip()[-400:])
    recs = parse("files", out)
    fl = of(recs, "hunt.file")
    check(len(fl) == n, "files: %d hunt.file lines, expected exactly %d" % (len(fl), n))
    paths = [os.path.abspath(f.get("source") or "") for f in fl]
    check(len(set(paths)) == len(paths), "files: %d repeated hunt.file path(s)" % (len(paths) - len(set(paths))))
    check(set(paths) == set(want), "files: %d file(s) not reported (e.g. %s), %d reported that are not there"
          % (len(set(want) - set(paths)), sorted(set(want) - set(paths))[:2], len(set(paths) - set(want))))
    hexes = [f.get("sha256") for f in fl if not re.fullmatch(r"[0-9a-f]{64}", str(f.get("sha256")))]
    check(not hexes, "files: %d sha256 value(s) that are not 64 hex digits, e.g. %r" % (len(hexes), hexes[:2]))
    wrong = [os.path.basename(p) for p, f in zip(paths, fl) if p in want and
             (f.get("size"), f.get("mtime_unix"), f.get("sha256")) != want[p]]
    check(not wrong, "files: %d hunt.file line(s) whose size, mtime_unix or sha256 is not the file's, e.g. %s"
          % (len(wrong), wrong[:3]))
    check(len({f.get("sha256") for f in fl}) == n, "files: the %d different files do not have %d different hashes"
          % (n, n))
    hosts = of(recs, "hunt.host")
    check(len(hosts) == 1, "files: %d hunt.host lines, expected 1" % len(hosts))
    rc, txt, err, _ = run(wm, ["--format", "text", "--no-color", d])
    m = re.search(r"^Evidence files read \(size, mtime, SHA-256\): (\d+)$", txt, re.M)
    check(m and int(m.group(1)) == n, "files: text report says %r, expected 'Evidence files read (size, mtime, "
          "SHA-256): %d'" % (m.group(0) if m else None, n))
    listed = re.findall(r"^  \S.*\.mof  \d+ bytes  mtime -?\d+  sha256 [0-9a-f]{64}$", txt, re.M)
    check(len(listed) == n, "files: the text report lists %d files with size, mtime and sha256, expected %d"
          % (len(listed), n))
    # No silent bound: the walk's default bound (2,000,000 entries) is far
    # above n, so hunt said nothing on stderr (checked above); and a bound
    # reached is said: triage takes --max-files. docs/triage.md: "Reaching
    # one is a warning naming the bound, the path and the option to raise;
    # the exit code is 3", the walk stopping there ("artifacts past this
    # point were not searched"): what came before it is still listed.
    bound = max(10, n // 5)
    p = subprocess.run([wm, "triage", "--max-files", str(bound), "--format", "jsonl", d],
                       capture_output=True, text=True)
    check("warning" in p.stderr and "max-files" in p.stderr and "bound" in p.stderr,
          "files: triage --max-files %d on %d files: the bound is not said on stderr: %r"
          % (bound, n, p.stderr.strip()[-300:]))
    found = [l for l in p.stdout.splitlines() if '"kind":"mof"' in l]
    check(p.returncode == 3, "files: triage --max-files %d on %d files: exit %d, expected 3 (bound reached, "
          "docs/triage.md); stderr: %s" % (bound, n, p.returncode, p.stderr.strip()[-300:]))
    check(found, "files: triage --max-files %d: none of the MOF files among the first %d entries walked is listed "
          "(%d artifact lines)" % (bound, bound, len(found)))
    p = subprocess.run([wm, "triage", "--format", "jsonl", d], capture_output=True, text=True)
    mofs = [l for l in p.stdout.splitlines() if '"kind":"mof"' in l]
    check(p.returncode == 0 and len(mofs) == n and "warning" not in p.stderr and "error" not in p.stderr,
          "files: triage with its default bounds: exit %d, %d mof artifacts (expected 0 and %d), stderr %r"
          % (p.returncode, len(mofs), n, p.stderr.strip()[-200:]))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    wm, gen, tmp = sys.argv[1:4]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    n_hosts = int(os.environ.get("WH_SCALE_HOSTS", "300"))
    n_files = int(os.environ.get("WH_SCALE_FILES", "5000"))
    fleet(wm, gen, tmp, n_hosts)
    files(wm, tmp, n_files)
    if not checks.failed:  # kept for a look when something failed
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
