#!/usr/bin/env python3
"""Collections as archives (issue 13 point 1): `wmihunt hunt` and `triage`
on a .zip, .7z, .tar.gz and a Velociraptor-style zip give what they give on
the plain tree, name what they read as ARCHIVE!member, hash the archive,
leave nothing in the temporary folder; hostile archives (traversal names,
absolute names, links out of the tree, devices, a zip bomb, a cut-short
archive, too many members) each end with a diagnostic naming the member,
the rest is read, and nothing is written outside the private folder.

The trees come from tests/gen/casegen.py (our writers); archives are made
here with Debian's zip, 7z and tar, and with Python's zipfile/tarfile.

usage: test_archive.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH"""
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish, records  # noqa: E402

# Every case kind: a case_id hashes content, or a path as the evidence
# knows it (from the Windows folders down, or the archive member), never
# where this machine unpacked it (lib/hunt/hunt_rank.c evidence_path), so
# the same evidence gives the same ids in a folder and in an archive.
CONTENT_KEYED = {"subscription", "filter", "consumer", "autorecover", "stored_payload", "provider", "mof", "event",
                 "wmi_execution"}


def run(wm, args, tmp, env_extra=None, timeout=300):
    env = dict(os.environ, TMPDIR=tmp)
    env.pop("WMIHUNT_ARCHIVE_LIMITS", None)
    env.update(env_extra or {})
    return subprocess.run([wm] + args, capture_output=True, text=True, env=env, timeout=timeout)


def cases(recs):
    return sorted((r["kind"], r["severity"], r["state"], r["title"]) for r in recs if r["artifact"] == "hunt.case")


def ids(recs):
    return sorted(r["case_id"] for r in recs if r["artifact"] == "hunt.case" and r["kind"] in CONTENT_KEYED)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def snapshot(root, skip=()):
    """Every name under root with type, size and mtime (skip: top-level names)."""
    snap = {}
    for dp, dns, fns in os.walk(root):
        if dp == root:
            dns[:] = [d for d in dns if d not in skip]
            fns = [f for f in fns if f not in skip]
        for n in dns + fns:
            p = os.path.join(dp, n)
            st = os.lstat(p)
            snap[os.path.relpath(p, root)] = (st.st_mode, st.st_size if not os.path.isdir(p) else 0, st.st_mtime_ns)
    return snap


def pct(name):
    """Velociraptor's escaping of a name: what a file name cannot hold, and '%'."""
    return "".join("%%%02X" % ord(c) if c in ':\\%' or ord(c) < 32 else c for c in name)


def zip_tree(tree, out, prefix="", enc=lambda n: n):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for dp, dns, fns in os.walk(tree):
            dns.sort()
            for f in sorted(fns):
                p = os.path.join(dp, f)
                rel = os.path.relpath(p, tree).split(os.sep)
                zi = zipfile.ZipInfo.from_file(p, prefix + "/".join(enc(x) for x in rel))
                zi.compress_type = zipfile.ZIP_DEFLATED
                with open(p, "rb") as fh:
                    z.writestr(zi, fh.read())


def main(argv):
    if len(argv) != 5:
        print(__doc__)
        return 64
    wm, gen, src, scratch = [os.path.abspath(a) for a in argv[1:5]]
    # One folder per run: a second run at the same time (ctest -j in the
    # same build) must not see this one's files appear in its snapshots.
    scratch = os.path.join(scratch, "run-%d" % os.getpid())
    shutil.rmtree(scratch, ignore_errors=True)
    ev = os.path.join(scratch, "evidence")  # trees and archives (never changed)
    tmp = os.path.join(scratch, "tmp")      # TMPDIR: must be empty after every run
    os.makedirs(ev)
    os.makedirs(tmp)
    casegen = os.path.join(src, "gen", "casegen.py")
    tree = os.path.join(ev, "lifecycle")
    subprocess.run([sys.executable, casegen, "--gen", gen, "lifecycle", tree], check=True, stdout=subprocess.DEVNULL)

    # ---- the same collection, plain and packed ----
    arch = {}
    if shutil.which("zip"):  # Info-ZIP, as a collector on Linux would make it
        subprocess.run(["zip", "-qr", os.path.join(ev, "kape.zip"), "."], cwd=tree, check=True)
    else:
        print("note: no zip tool (apt-get install zip): kape.zip made with Python's zipfile")
        zip_tree(tree, os.path.join(ev, "kape.zip"))
    arch["zip"] = "kape.zip"
    subprocess.run(["tar", "czf", os.path.join(ev, "kape.tar.gz"), "."], cwd=tree, check=True)
    arch["tar.gz"] = "kape.tar.gz"
    subprocess.run(["tar", "cf", os.path.join(ev, "kape.tar"), "C"], cwd=tree, check=True)
    arch["tar"] = "kape.tar"
    if shutil.which("7z"):
        subprocess.run(["7z", "a", "-bd", "-y", os.path.join(ev, "kape.7z"), "."], cwd=tree, check=True,
                       stdout=subprocess.DEVNULL)
        arch["7z"] = "kape.7z"
    else:
        print("skipped: 7z (p7zip-full) is not installed: no .7z case")
    # Velociraptor offline collector: Collection-*/uploads/auto/C%3A/..., each
    # name escaped ('%4' of the log names as '%254'), uploads.json beside.
    velo = os.path.join(ev, "velociraptor.zip")
    zip_tree(os.path.join(tree, "C"), velo, "uploads/auto/C%3A/", pct)
    with zipfile.ZipFile(velo, "a") as z:
        z.writestr("uploads.json", b"[]\n")
        z.writestr("log.json", b"")
    arch["velociraptor"] = "velociraptor.zip"
    before_ev = snapshot(ev)
    sums = {k: sha256(os.path.join(ev, v)) for k, v in arch.items()}

    def hunt(path, env=None):
        p = run(wm, ["hunt", "--no-progress", "--format", "jsonl", path], tmp, env)
        return p, records(p.stdout)

    os.chdir(ev)
    plain, precs = hunt("lifecycle")
    check(plain.returncode == 1, "plain tree: exit %d, expected 1: %s" % (plain.returncode, plain.stderr[-300:]))
    check(len(cases(precs)) >= 2, "plain tree: %d cases" % len(cases(precs)))
    for kind, name in arch.items():
        p, recs = hunt(name)
        check(p.returncode == plain.returncode, "%s: exit %d, plain %d: %s" % (kind, p.returncode, plain.returncode,
                                                                            p.stderr[-400:]))
        check(cases(recs) == cases(precs), "%s: cases differ from the plain tree:\n  %s\n  %s"
              % (kind, sorted(set(cases(recs)) ^ set(cases(precs))), ""))
        check(ids(recs) == ids(precs), "%s: case ids differ: %s" % (kind, sorted(set(ids(recs)) ^ set(ids(precs)))))
        files = [r for r in recs if r["artifact"] == "hunt.file"]
        srcs = [r["source"] for r in files]
        check(any(r["source"] == name and r["sha256"] == sums[kind] for r in files),
              "%s: the archive itself is not in hunt.file with its SHA-256" % kind)
        members = [s for s in srcs if s.startswith(name + "!")]
        check(len(members) == len(srcs) - 1, "%s: hunt.file sources not named ARCHIVE!member: %s" % (kind, srcs))
        inner = "uploads/auto/C%3A/" if kind == "velociraptor" else "C/"
        want = name + "!" + inner + "Windows/System32/wbem/Repository/OBJECTS.DATA"
        check(want in srcs, "%s: no hunt.file %s in %s" % (kind, want, srcs))
        check(tmp not in p.stdout and tmp not in p.stderr and "wmihunt-" not in p.stdout,
              "%s: the private folder's path shows in the output" % kind)
        check(os.listdir(tmp) == [], "%s: left in TMPDIR: %s" % (kind, os.listdir(tmp)))
        txt = run(wm, ["hunt", "--no-progress", "--no-color", name], tmp)
        check(txt.returncode == plain.returncode and tmp not in txt.stdout and name in txt.stdout,
              "%s: text report: exit %d or private path shown" % (kind, txt.returncode))
        check(os.listdir(tmp) == [], "%s (text): left in TMPDIR" % kind)

    # ---- triage on an archive ----
    for name, layout in (("kape.zip", "kape"), ("velociraptor.zip", "velociraptor")):
        t = run(wm, ["triage", "--format", "jsonl", name], tmp)
        recs = records(t.stdout)
        arts = [r for r in recs if r.get("artifact") == "triage.artifact"]
        check(t.returncode == 0, "triage %s: exit %d: %s" % (name, t.returncode, t.stderr[-300:]))
        check(arts and all(r["path"].startswith(name + "!") for r in arts),
              "triage %s: paths not ARCHIVE!member: %s" % (name, [r["path"] for r in arts][:3]))
        check(any(r.get("layout") == layout for r in arts), "triage %s: layout %s not reported" % (name, layout))
        check(os.listdir(tmp) == [], "triage %s: left in TMPDIR" % name)

    # ---- mof walks an archive like a folder ----
    m = run(wm, ["mof", "--format", "jsonl", "kape.zip"], tmp)
    srcs = [r.get("source") for r in records(m.stdout) if r.get("artifact") == "mof.file"]
    check(m.returncode == 0 and srcs == ["kape.zip!C/Users/Public/perf.mof"],
          "mof kape.zip: exit %d, files %s: %s" % (m.returncode, srcs, m.stderr[-300:]))
    check(os.listdir(tmp) == [], "mof kape.zip: left in TMPDIR")

    # ---- several hosts in one zip ----
    two = os.path.join(scratch, "two")
    subprocess.run([sys.executable, casegen, "--gen", gen, "twohosts", two], check=True, stdout=subprocess.DEVNULL)
    zip_tree(two, os.path.join(ev, "fleet.zip"))
    p, recs = hunt("fleet.zip")
    hosts = sorted(r["host"] for r in recs if r["artifact"] == "hunt.host")
    check(len(hosts) == 2, "fleet.zip: %d hosts, expected 2: %s" % (len(hosts), hosts))
    pt, trecs = hunt(two)
    check(cases(recs) == cases(trecs), "fleet.zip: cases differ from the folder of hosts")
    st = run(wm, ["stack", "fleet.zip"], tmp)
    check(st.returncode == 0 and tmp not in st.stdout, "stack fleet.zip: exit %d: %s" % (st.returncode,
                                                                                       st.stderr[-300:]))
    check(os.listdir(tmp) == [], "fleet.zip: left in TMPDIR")
    check(snapshot(ev, skip=("fleet.zip",)) == before_ev, "the evidence folder changed")

    # ---- hostile archives ----
    hostile(wm, ev, tmp, scratch, tree)
    os.chdir("/")
    rc = finish()
    if rc == 0:
        shutil.rmtree(scratch, ignore_errors=True)
    return rc


def hostile(wm, ev, tmp, scratch, tree):
    h = os.path.join(scratch, "hostile")
    os.makedirs(h)
    good_rel = "C/Windows/System32/winevt/Logs/Microsoft-Windows-Sysmon%4Operational.evtx"
    good = open(os.path.join(tree, good_rel), "rb").read()
    made = {}

    def z(name, members, method=zipfile.ZIP_DEFLATED):
        with zipfile.ZipFile(os.path.join(h, name), "w", method) as f:
            for n, d in members:
                f.writestr(zipfile.ZipInfo(n), d, compress_type=method)
        made[name] = True

    z("traversal.zip", [("../evil1.txt", b"x"), ("a/../../evil2.txt", b"x"), ("../../evil3.txt", b"x"),
                        (good_rel, good)])
    z("absolute.zip", [("/tmp/wmihunt-evil-abs.txt", b"x"), ("C:/Windows/evil.txt", b"x"),
                       ("\\\\server\\share\\evil.txt", b"x"), (good_rel, good)])
    with tarfile.open(os.path.join(h, "links.tar"), "w") as t:
        for n, target, typ in (("C/out", "../../../..", tarfile.SYMTYPE), ("C/pw", "/etc/passwd", tarfile.SYMTYPE),
                               ("C/hard", "/etc/passwd", tarfile.LNKTYPE), ("C/hard2", "../../x", tarfile.LNKTYPE)):
            ti = tarfile.TarInfo(n)
            ti.type, ti.linkname = typ, target
            t.addfile(ti)
        ti = tarfile.TarInfo("C/out/evil-through-link.txt")  # written through the link, if it were made
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
        ti = tarfile.TarInfo("C/null")
        ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
        t.addfile(ti)
        ti = tarfile.TarInfo(good_rel)
        ti.size = len(good)
        t.addfile(ti, io.BytesIO(good))
    # A zip bomb: 80 MiB of zeros (deflate: ~1030:1), over the default ratio
    # of 1000 once past 64 MiB; the evidence after it is still read.
    z("bomb.zip", [("C/bomb.bin", b"\0" * (80 << 20)), (good_rel, good)])
    # bzip2 packs the same into a few hundred bytes: far over any ratio.
    z("bomb-bz2.zip", [("C/bomb.bin", b"\0" * (80 << 20)), (good_rel, good)], zipfile.ZIP_BZIP2)
    # The same with small bounds through WMIHUNT_ARCHIVE_LIMITS.
    z("bomb-small.zip", [("C/bomb.bin", b"\0" * (4 << 20)), (good_rel, good)])
    # Cut short: the lifecycle zip at 2/3 (the members before are read).
    data = open(os.path.join(ev, "kape.zip"), "rb").read()
    open(os.path.join(h, "cut.zip"), "wb").write(data[: len(data) * 2 // 3])
    data = open(os.path.join(ev, "kape.tar.gz"), "rb").read()
    open(os.path.join(h, "cut.tar.gz"), "wb").write(data[: len(data) * 2 // 3])
    # Too many members: the evidence first, then 3,000 tiny ones against a
    # bound lowered to 1,000.
    z("many.zip", [(good_rel, good)] + [("C/tiny/%05d.txt" % i, b"") for i in range(3000)],
      zipfile.ZIP_STORED)
    # A member too large, and the total: bounds lowered.
    z("large.zip", [("C/large.bin", os.urandom(2 << 20)), (good_rel, good)], zipfile.ZIP_STORED)
    z("total.zip", [(good_rel, good), ("C/large.bin", os.urandom(2 << 20)), ("C/after.bin", b"x")],
      zipfile.ZIP_STORED)
    open(os.path.join(h, "notzip.zip"), "wb").write(b"PK\x03\x04" + b"\xff" * 200)

    cases_ = [
        ("traversal.zip", None, ["traversal.zip!../evil1.txt", "traversal.zip!a/../../evil2.txt"], "'..' component"),
        ("absolute.zip", None, ["absolute.zip!/tmp/wmihunt-evil-abs.txt", "absolute.zip!C:/Windows/evil.txt"],
         "absolute name"),
        ("links.tar", None, ["links.tar!C/out", "links.tar!C/pw", "links.tar!C/hard", "links.tar!C/null"],
         "not created"),
        ("bomb.zip", None, ["bomb.zip!C/bomb.bin"], "zip bomb"),
        ("bomb-bz2.zip", None, ["bomb-bz2.zip!C/bomb.bin"], "zip bomb"),
        ("bomb-small.zip", {"WMIHUNT_ARCHIVE_LIMITS": "ratio=100,ratio_min=1M"}, ["bomb-small.zip!C/bomb.bin"],
         "zip bomb"),
        ("cut.zip", None, ["cut.zip!"], "cut short"),
        ("cut.tar.gz", None, ["cut.tar.gz"], "cut short"),
        ("many.zip", {"WMIHUNT_ARCHIVE_LIMITS": "members=1000"}, ["many.zip!C/tiny/00999.txt"],
         "bound of 1000 members"),
        ("large.zip", {"WMIHUNT_ARCHIVE_LIMITS": "member=1M"}, ["large.zip!C/large.bin"], "bound of 1048576"),
        ("total.zip", {"WMIHUNT_ARCHIVE_LIMITS": "total=1M"}, ["total.zip!C/large.bin"], "in all is reached"),
    ]
    os.chdir(h)
    root_before = snapshot(scratch, skip=("tmp",))
    for name, env, members, words in cases_:
        t0 = time.time()
        p = run(wm, ["hunt", "--no-progress", "--format", "jsonl", name], tmp, env, timeout=120)
        recs = records(p.stdout)
        what = "%s%s" % (name, " (%s)" % env["WMIHUNT_ARCHIVE_LIMITS"] if env else "")
        check(p.returncode in (3, 4), "%s: exit %d, expected 3 or 4: %s" % (what, p.returncode, p.stderr[-400:]))
        for m in members:
            check(any(line.startswith("wmihunt: ") and (": " + m) in line or (" " + m) in line
                      for line in p.stderr.splitlines()),
                  "%s: no diagnostic naming %s: %s" % (what, m, p.stderr[-600:]))
        check(words in p.stderr, "%s: no diagnostic saying '%s': %s" % (what, words, p.stderr[-600:]))
        srcs = [r["source"] for r in recs if r["artifact"] == "hunt.file"]
        if name not in ("cut.zip", "cut.tar.gz"):
            check(name + "!" + good_rel in srcs, "%s: the good evidence beside it was not read: %s" % (what, srcs))
        else:
            check(any(s.startswith(name + "!") for s in srcs), "%s: nothing before the cut was read" % what)
        check(os.listdir(tmp) == [], "%s: left in TMPDIR: %s" % (what, os.listdir(tmp)))
        check(snapshot(scratch, skip=("tmp",)) == root_before, "%s: something was written outside the private "
              "folder (in %s)" % (what, scratch))
        check(not os.path.exists("/tmp/wmihunt-evil-abs.txt"), "%s: an absolute member was written" % what)
        check(time.time() - t0 < 60, "%s: took %.0f s" % (what, time.time() - t0))
    # 100,000 tiny members under the default bounds: all extracted, then all removed.
    big = os.path.join(h, "100k.zip")
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as f:
        f.writestr(zipfile.ZipInfo(good_rel), good)
        for i in range(100000):
            f.writestr(zipfile.ZipInfo("C/tiny/%03d/%06d.txt" % (i // 1000, i)), b"")
    t0 = time.time()
    p = run(wm, ["hunt", "--no-progress", "--format", "jsonl", "-v", big], tmp, timeout=300)
    srcs = [r["source"] for r in records(p.stdout) if r["artifact"] == "hunt.file"]
    check(p.returncode == 1 and big + "!" + good_rel in srcs and "extracted 100001 file(s)" in p.stderr,
          "100k.zip: exit %d, %s: %s" % (p.returncode, srcs, p.stderr[-300:]))
    check(os.listdir(tmp) == [], "100k.zip: left in TMPDIR")
    print("100k.zip: %.1f s" % (time.time() - t0))
    os.unlink(big)
    p = run(wm, ["hunt", "--no-progress", "notzip.zip"], tmp)
    check(p.returncode == 2 and "notzip.zip" in p.stderr, "notzip.zip: exit %d: %s" % (p.returncode, p.stderr[-300:]))
    t = run(wm, ["triage", "traversal.zip"], tmp)
    check(t.returncode == 3 and "traversal.zip!../evil1.txt" in t.stderr,
          "triage traversal.zip: exit %d: %s" % (t.returncode, t.stderr[-300:]))
    check(os.listdir(tmp) == [], "notzip/triage: left in TMPDIR")

    # ---- a signal during the run: the private folder still goes ----
    big = os.path.join(h, "big.tar.gz")
    with tarfile.open(big, "w:gz", compresslevel=1) as t:
        for i in range(6):
            ti = tarfile.TarInfo("C/zeros%d.bin" % i)
            ti.size = 64 << 20
            t.addfile(ti, io.BytesIO(b"\0" * ti.size))
    env = dict(os.environ, TMPDIR=tmp, WMIHUNT_ARCHIVE_LIMITS="ratio=100000")
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen([wm, "hunt", "--no-progress", big], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline and not os.listdir(tmp) and proc.poll() is None:
            time.sleep(0.002)
        proc.send_signal(sig)  # the private folder exists: 384 MiB are being written into it
        rc = proc.wait(timeout=60)
        check(rc == -sig, "%s: exit %d, expected the signal (the run ended before it?)" % (sig.name, rc))
        check(os.listdir(tmp) == [], "%s during extraction: left in TMPDIR: %s (exit %d)"
              % (sig.name, os.listdir(tmp), rc))
        shutil.rmtree(tmp)
        os.makedirs(tmp)
    check(snapshot(scratch, skip=("tmp", "hostile")) == {k: v for k, v in root_before.items()
                                                          if not k.startswith("hostile")},
          "the signal runs wrote outside the private folder")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
