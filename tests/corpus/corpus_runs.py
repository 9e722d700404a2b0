#!/usr/bin/env python3
"""Every cim, evtx, reg, mof and hunt command over the whole shared corpus,
run by one build, so that two builds can be held side by side.

usage:
  corpus_runs.py check   WMIHUNT CORPUS DIGESTS     output identical to the digests
                                                    (the previous build's; issue 16)
  corpus_runs.py update  WMIHUNT CORPUS DIGESTS     writes DIGESTS (only when output
                                                    changes on purpose: say why in the commit)
  corpus_runs.py windows WMIHUNT EXE CORPUS         EXE under wine gives the same bytes
                                                    as WMIHUNT, apart from paths (issue 14)

A run is its standard output and exit code; standard error (diagnostics
naming paths, progress) is not compared. The runs read a copy of the corpus
whose files all have one fixed write and access time, by paths relative to
it, so that what the output says of the copy (its place, its times) is the
same on every machine; the change times of the copy (set when it was made,
and no program can choose them) and access times a reader may still touch
show as the time they were made, and are masked: every time stamp within
the run's own minutes reads "<now>". Prints "skipped: ..." and exits 0 when
the corpus (or wine, or the exe) is not there.
"""
import concurrent.futures
import datetime
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

FIXED_MTIME = 1577836800  # 2020-01-01T00:00:00Z
STAMP = re.compile(rb"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?Z?")

FAILS = []


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print("FAIL: " + what)


def repositories(corpus):
    """Folders holding a CIM repository (its index or objects file, or XP's FS)."""
    out = []
    for d, subs, files in os.walk(os.path.join(corpus, "cim")):
        names = {f.upper() for f in files}
        if "INDEX.BTR" in names or "OBJECTS.DATA" in names or "MAPPING1.MAP" in names:
            out.append(d)
        subs.sort()
    return sorted(out)


def files_under(corpus, sub, pred):
    out = []
    for d, subs, files in os.walk(os.path.join(corpus, sub)):
        subs.sort()
        out += [os.path.join(d, f) for f in sorted(files) if pred(f)]
    return out


def runs(corpus):
    """(name, argv without the program, corpus paths as the last arguments)."""
    r = []
    for repo in repositories(corpus):
        rel = os.path.relpath(repo, corpus)
        for sub in ("info", "namespaces", "classes", "persistence", "timeline", "recover", "keys"):
            r.append(("cim %s %s" % (sub, rel), ["cim", sub, "--format", "jsonl", repo]))
        r.append(("cim dump --recover %s" % rel, ["cim", "dump", "--recover", repo]))
        r.append(("cim persistence text %s" % rel, ["cim", "persistence", repo]))
    for f in files_under(corpus, "evtx", lambda n: n.lower().endswith(".evtx")):
        rel = os.path.relpath(f, corpus)
        r.append(("evtx %s" % rel, ["evtx", "--format", "jsonl", f]))
        r.append(("evtx --all %s" % rel, ["evtx", "--all", "--format", "jsonl", f]))
    for f in files_under(corpus, "registry", lambda n: not n.lower().endswith((".md", ".json", ".txt", ".log1", ".log2"))):
        rel = os.path.relpath(f, corpus)
        r.append(("reg %s" % rel, ["reg", "--format", "jsonl", f]))
        r.append(("reg --all %s" % rel, ["reg", "--all", "--format", "jsonl", f]))
    r.append(("mof mof/", ["mof", "--format", "jsonl", os.path.join(corpus, "mof")]))
    r.append(("hunt jsonl", ["hunt", "--no-progress", "--threads", "1", "--format", "jsonl", corpus]))
    r.append(("hunt text", ["hunt", "--no-progress", "--threads", "1", corpus]))
    r.append(("hunt timeline", ["hunt", "--no-progress", "--threads", "1", "--timeline", "-", corpus]))
    return r


def stage(corpus):
    """A copy of the corpus with fixed write and access times; (dir, t0).
    The access time is an hour after the copy (masked in output): later
    than the write and change times and within a day, so that a reader
    which does not keep it (wine's reads are the kernel's, without
    O_NOATIME) does not move it on relatime mounts and a run does not change
    what the next one sees."""
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="wh-corpus-")
    dst = os.path.join(tmp, "corpus")
    shutil.copytree(corpus, dst, copy_function=shutil.copyfile)
    for d, subs, files in os.walk(dst, topdown=False):
        for n in files + subs:
            os.utime(os.path.join(d, n), (int(t0) + 3600, FIXED_MTIME), follow_symlinks=False)
    return tmp, t0


def mask_now(out, t0, t1):
    """Time stamps from t0 (less a minute) to t1 (plus two hours: the copy's
    access time) read <now>."""
    def one(m):
        try:
            y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
            t = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return m.group(0)
        return b"<now>" if t0 - 60 <= t <= t1 + 7200 else m.group(0)
    return STAMP.sub(one, out)


def run(prog, args, env=None, cwd=None):
    p = subprocess.run(prog + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=900, env=env, cwd=cwd)
    return p.returncode, p.stdout


def digest(rc, out):
    return hashlib.sha256(b"%d\n" % rc + out).hexdigest()


def run_all(prog, plan, env=None, map_arg=lambda a: a, cwd=None):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = [ex.submit(run, prog, [map_arg(a) for a in args], env, cwd) for _, args in plan]
        return [f.result() for f in futs]


def main(argv):
    if len(argv) < 2 or argv[1] not in ("check", "update", "windows"):
        print(__doc__)
        return 64
    mode = argv[1]
    if mode == "windows":
        if len(argv) != 5:
            print(__doc__)
            return 64
        wm, exe, corpus = argv[2], argv[3], argv[4]
    else:
        if len(argv) != 5:
            print(__doc__)
            return 64
        wm, corpus, digests = argv[2], argv[3], argv[4]
    corpus = os.path.abspath(corpus)
    if not os.path.isdir(os.path.join(corpus, "cim")):
        print("skipped: no shared corpus at %s" % corpus)
        return 0
    if mode == "windows" and not os.path.exists(exe):
        print("skipped: no %s ('make windows' builds it)" % exe)
        return 0
    if mode == "windows" and not shutil.which("wine"):
        print("skipped: no wine (scripts/install-deps.sh installs it)")
        return 0
    tmp, t0 = stage(corpus)
    try:
        return compare(mode, wm, exe if mode == "windows" else None, tmp, t0, None if mode == "windows" else digests)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(mode, wm, exe, tmp, t0, digests):
    corpus = os.path.join(tmp, "corpus")
    plan = runs(corpus)
    # Relative paths, run in the copy's parent: "corpus/cim/...".
    rel = lambda a: os.path.relpath(a, tmp) if a.startswith(corpus) else a
    if mode in ("check", "update"):
        got = run_all([os.path.abspath(wm)], plan, None, rel, tmp)
        got = [(rc, mask_now(out, t0, time.time())) for rc, out in got]
        lines = ["%s  %s" % (digest(rc, out), name) for (name, _), (rc, out) in zip(plan, got)]
        if mode == "update":
            with open(digests, "w") as f:
                f.write("# sha256(exit code, newline, standard output) of each run in tests/corpus/corpus_runs.py\n")
                f.write("# over ../shared/corpus. Update with 'corpus_runs.py update' only when output changes on purpose.\n")
                f.write("\n".join(lines) + "\n")
            print("wrote %d digests to %s" % (len(lines), digests))
            return 0
        want = {}
        for l in open(digests):
            if l.startswith("#") or not l.strip():
                continue
            h, name = l.rstrip("\n").split("  ", 1)
            want[name] = h
        names = [n for n, _ in plan]
        check(set(names) == set(want), "the runs differ from the digests' (new: %s; gone: %s)"
              % (sorted(set(names) - set(want))[:5], sorted(set(want) - set(names))[:5]))
        same = 0
        for (name, _), (rc, out) in zip(plan, got):
            if name in want:
                ok = digest(rc, out) == want[name]
                check(ok, "output changed: %s (exit %d, %d bytes)" % (name, rc, len(out)))
                same += ok
        print("%d of %d runs identical to the previous build's output" % (same, len(plan)))
        return 1 if FAILS else 0

    # ---- windows: the same runs with wmihunt.exe under wine ----
    wine = shutil.which("wine")
    env = dict(os.environ, WINEDEBUG="-all", WINEPREFIX=os.path.join(os.path.dirname(os.path.abspath(exe)), "wine"))
    # Both builds are given the same relative paths, so that paths (and the
    # report's lines cut to width around them) are the same bytes. Absolute
    # drive paths, names in other scripts and long paths are
    # test_windows_paths' part.
    p = subprocess.run([wine, exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=600)
    check(p.returncode == 0 and p.stdout.startswith(b"wmihunt "), "wmihunt.exe --version under wine: exit %d %r"
          % (p.returncode, p.stderr[-300:]))
    lin = run_all([os.path.abspath(wm)], plan, None, rel, tmp)
    exe_out = run_all([wine, os.path.abspath(exe)], plan, env, rel, tmp)
    t1 = time.time()
    lin = [(rc, mask_now(out, t0, t1)) for rc, out in lin]
    exe_out = [(rc, mask_now(out, t0, t1)) for rc, out in exe_out]
    same = 0
    for (name, _), (rc, out), (wrc, wout) in zip(plan, lin, exe_out):
        ok = rc == wrc and out == wout
        if not ok:
            at = next((i for i in range(min(len(out), len(wout))) if out[i] != wout[i]), min(len(out), len(wout)))
            check(False, "wmihunt.exe differs: %s (exit %d/%d, %d/%d bytes, first difference at byte %d: %r / %r)"
                  % (name, rc, wrc, len(out), len(wout), at, out[at:at + 80], wout[at:at + 80]))
        same += ok
    print("%d of %d corpus runs: wmihunt.exe under wine gives the Linux build's bytes" % (same, len(plan)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
