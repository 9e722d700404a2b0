#!/usr/bin/env python3
"""wmihunt triage on generated collection trees (tests/gen/treegen.py):
every artifact of every layout found with the right kind, layout and Windows
path, nothing else reported; what is missing reported as missing; a clear
exit 2 and message for a directory without Windows evidence; the bounds
(symbolic-link loop, depth, file count) ending with a diagnostic; and not one
byte, name, time or mode in the tree changed by the run.

usage: test_triage.py WMIHUNT TREEGEN.py TMPDIR [CIMGEN EVTXGEN]"""
import json
import os
import shutil
import stat
import subprocess
import sys

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL: " + msg)


def snapshot(root):
    """Every entry's name, type, size, mode, mtime, ctime and atime, and the
    bytes of every file: what a run must leave as it was. Read with
    O_NOATIME so that taking it moves no access time itself."""
    snap = {}
    na = getattr(os, "O_NOATIME", 0)

    def visit(p):
        st = os.lstat(p)
        data = None
        # lstat's mode only: following a link would move the link's atime
        if stat.S_ISREG(st.st_mode):
            fd = os.open(p, os.O_RDONLY | na)
            with os.fdopen(fd, "rb") as f:
                data = f.read()
        snap[p] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_atime_ns, data)
        if stat.S_ISDIR(st.st_mode):
            fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | na)
            try:
                names = os.listdir(fd)
            finally:
                os.close(fd)
            for n in names:
                visit(os.path.join(p, n))

    visit(root)
    return snap


def run(wm, args):
    p = subprocess.run([wm, "triage"] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    wm, treegen, tmp = sys.argv[1:4]
    gens = []
    if len(sys.argv) > 5:
        gens = ["--cimgen", sys.argv[4], "--evtxgen", sys.argv[5]]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    layouts = ["mounted", "kape", "kape-encoded", "cylr", "velociraptor", "xp", "backup", "mixedcase",
               "loop", "deep", "wide", "empty", "nowin"]
    for lay in layouts:
        out = os.path.join(tmp, lay)
        man = json.loads(subprocess.run([sys.executable, treegen] + gens + [lay, out], check=True,
                                        capture_output=True, text=True).stdout)
        # Snapshot taken after a pause so a read would move atime past it.
        before = snapshot(out)
        rc, so, se = run(wm, ["--format", "jsonl", "-v", out])
        after = snapshot(out)
        check(before == after, "%s: the run changed the tree: %s" % (
            lay, sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))[:5]))
        exp_rc = man["exit"]
        if lay == "wide":
            exp_rc = 0
        check(rc == exp_rc, "%s: exit %d, expected %d (stderr: %s)" % (lay, rc, exp_rc, se.strip()[-300:]))
        recs = [json.loads(l) for l in so.splitlines() if l.strip()]
        arts = [r for r in recs if r["artifact"] == "triage.artifact"]
        miss = [r for r in recs if r["artifact"] == "triage.missing"]
        got = sorted((r["kind"], os.path.relpath(r["path"], out)) for r in arts)
        want = sorted((a["kind"], a["rel"]) for a in man["artifacts"])
        check(got == want, "%s: artifacts differ:\n  extra %s\n  lost %s" % (
            lay, sorted(set(got) - set(want)), sorted(set(want) - set(got))))
        for r in arts:
            check(r["layout"] == man["layout"], "%s: %s layout %s, expected %s" % (lay, r["path"], r["layout"], man["layout"]))
            check(r["windows_path"] and "%" not in r["windows_path"].replace("%4", ""),
                  "%s: windows_path not decoded: %s" % (lay, r["windows_path"]))
            if r["kind"] == "evtx":
                name = r["windows_path"].split("\\")[-1]
                check(r["wmi_relevant"] == (name.lower() != "application.evtx"), "%s: %s wmi_relevant wrong" % (lay, name))
            if r["kind"] == "mof":
                inside = "\\wbem\\" in r["windows_path"].lower()
                check(("outside" in r["note"]) != inside, "%s: %s note %s" % (lay, r["path"], r["note"]))
        check(sorted(m["kind"] for m in miss) == sorted(man["missing"]),
              "%s: missing %s, expected %s" % (lay, sorted(m["kind"] for m in miss), man["missing"]))
        for m in miss:
            check(m["why"] and m["windows_path"].startswith(("C:\\", "\\")), "%s: missing record without why/path: %s" % (lay, m))
        if man["exit"] == 2:
            check("no Windows evidence" in se, "%s: no clear 'no Windows evidence' message: %s" % (lay, se))
            check(not recs, "%s: records printed for an empty directory" % lay)
        if lay == "velociraptor":
            vols = [l for l in se.splitlines() if "Windows volume C:" in l and "velociraptor" in l]
            check(len(vols) == 2, "velociraptor: auto and ntfs roots not both found: %s" % se)
            wp = [r["windows_path"] for r in arts if r["kind"] == "evtx"]
            check("C:\\Windows\\System32\\winevt\\Logs\\Microsoft-Windows-WMI-Activity%4Operational.evtx" in wp,
                  "velociraptor: %%25 not decoded in %s" % wp)
        if lay == "xp":
            repo = [r for r in arts if r["kind"] == "cim_repository"]
            check(repo and "XP" in (repo[0]["note"] or "") and repo[0]["files"] == 5,
                  "xp: repository not seen as XP with its FS files: %s" % repo)
        if lay == "loop":
            check(se.count("symbolic link not followed") == 3, "loop: expected 3 symlink notes: %s" % se)
        if lay == "deep":
            check("depth bound reached (40 levels)" in se, "deep: no depth diagnostic: %s" % se)
            rc2, so2, se2 = run(wm, ["--format", "jsonl", "--max-depth", "100", out])
            paths = [os.path.relpath(json.loads(l)["path"], out) for l in so2.splitlines()
                     if json.loads(l)["artifact"] == "triage.artifact"]
            check(rc2 == 0 and man["deep_mof"] in paths, "deep: --max-depth 100 did not find the buried MOF (rc %d)" % rc2)
        if lay == "wide":
            rc2, so2, se2 = run(wm, ["--format", "jsonl", "--max-files", "1000", out])
            check(rc2 == 3 and "file-count bound reached (1000 entries)" in se2,
                  "wide: --max-files 1000: rc %d, stderr %s" % (rc2, se2))
            # the WMI folders are walked first, so the bound leaves them found
            kinds = {json.loads(l)["kind"] for l in so2.splitlines()}
            check({"cim_repository", "hive_software", "evtx"} <= kinds, "wide: WMI folders not searched first: %s" % kinds)
        for fmt in ("text", "json", "csv"):
            rc3, so3, _ = run(wm, ["--format", fmt, "-q", out])
            check(rc3 == rc, "%s: --format %s exit %d" % (lay, fmt, rc3))
            if fmt == "json" and man["exit"] != 2:
                check(len(json.loads(so3)) == len(recs), "%s: json array differs from jsonl" % lay)
    rc, so, se = run(wm, [os.path.join(tmp, "does-not-exist")])
    check(rc == 2 and "cannot" in se, "absent DIR: rc %d %s" % (rc, se))
    rc, so, se = run(wm, ["--max-depth", "x", tmp])
    check(rc == 64, "bad --max-depth: rc %d" % rc)
    if FAILS:
        print("%d failure(s)" % len(FAILS))
        sys.exit(1)
    print("ok: %d layouts" % len(layouts))


if __name__ == "__main__":
    main()
