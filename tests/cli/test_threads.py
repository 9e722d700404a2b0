#!/usr/bin/env python3
"""Hosts read at once (issue 14 point 4, issue 16 point 4): `hunt` and
`stack` with --threads 2 and 4 give what --threads 1 (the reference, one
host after the other) gives, byte for byte: the JSONL and text reports,
the timeline, the HTML page, the case store's stack, the stack over
folders; over generated hosts (wh-fleetgen, with planted look-alikes),
hosts packed in a zip among them, a folder that is no evidence, and a
host that cannot be read. Run again under ThreadSanitizer by `make test`
(build-tsan), where a data race fails it.

One host read with several threads (its repositories read ahead, the
rest meanwhile): the whole shared corpus as one host gives the same report
and the same diagnostics, in the same order, with 1 and 2 threads.

usage: test_threads.py WMIHUNT TESTS_GEN_BUILD_DIR SCRATCH [HOSTS [SHARED]]"""
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 64
    wm, gen, scratch = (os.path.abspath(a) for a in argv[1:4])
    n = int(argv[4]) if len(argv) > 4 else 200
    scratch = os.path.join(scratch, "run-%d" % os.getpid())
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    fleet = os.path.join(scratch, "fleet")
    subprocess.run([os.path.join(gen, "wh-fleetgen"), fleet, str(n), "3", str(n // 2)], check=True,
                   stdout=subprocess.DEVNULL)
    hosts = sorted(os.path.join(fleet, d) for d in os.listdir(fleet))
    # A zip of three hosts' collections among them, an empty folder, a missing path.
    packed = os.path.join(scratch, "packed")
    os.makedirs(packed)
    for h in hosts[:3]:
        shutil.copytree(h, os.path.join(packed, os.path.basename(h)))
    if shutil.which("zip"):
        subprocess.run(["zip", "-qr", os.path.join(scratch, "packed.zip"), "."], cwd=packed, check=True)
        extra = [os.path.join(scratch, "packed.zip")]
    else:
        print("skipped: zip is not installed: no archive among the hosts")
        extra = []
    empty = os.path.join(scratch, "empty")
    os.makedirs(empty)
    paths = hosts[: n // 2] + extra + [empty, os.path.join(scratch, "missing")] + hosts[n // 2:]
    tmp = os.path.join(scratch, "tmp")
    os.makedirs(tmp)
    env = dict(os.environ, TMPDIR=tmp)

    def hunt(threads, fmt):
        d = os.path.join(scratch, "t%d-%s" % (threads, fmt))
        os.makedirs(d, exist_ok=True)
        db = os.path.join(d, "case.sqlite")
        args = [wm, "hunt", "--no-progress", "--threads", str(threads), "--format", fmt, "--timeline",
                os.path.join(d, "tl.csv"), "--html", os.path.join(d, "r.html"), "--db", db] + paths
        p = subprocess.run(args, capture_output=True, env=env, timeout=1200)
        st = subprocess.run([wm, "stack", "--format", "jsonl", "--top", "100000", "--db", db], capture_output=True)
        files = {f: open(os.path.join(d, f), "rb").read() for f in ("tl.csv", "r.html")}
        con = sqlite3.connect(db)
        recs = sorted(r for (r,) in con.execute("SELECT record FROM hcase"))
        con.close()
        return p, files, st.stdout, recs

    for fmt in ("jsonl", "text"):
        ref, ref_files, ref_stack, ref_recs = hunt(1, fmt)
        check(ref.returncode in (1, 3, 4) and ref.stdout, "reference %s: exit %d: %s" % (fmt, ref.returncode,
                                                                                       ref.stderr[-300:]))
        for t in (2, 4):
            p, files, st, recs = hunt(t, fmt)
            check(p.returncode == ref.returncode, "%s --threads %d: exit %d, reference %d" % (fmt, t, p.returncode,
                                                                                            ref.returncode))
            check(p.stdout == ref.stdout, "%s --threads %d: the report differs from --threads 1" % (fmt, t))
            for f in ref_files:
                check(files[f] == ref_files[f], "%s --threads %d: %s differs from --threads 1" % (fmt, t, f))
            check(st == ref_stack and st.count(b"\n") >= 3, "%s --threads %d: the case store stacks otherwise" % (fmt, t))
            check(recs == ref_recs, "%s --threads %d: the stored cases differ" % (fmt, t))
            # The same diagnostics, whatever their order on stderr.
            def said(out, k):  # the output files' own names aside
                return sorted(l.replace(b"/t%d-" % k, b"/tN-") for l in out.splitlines())
            diff = set(said(p.stderr, t)) ^ set(said(ref.stderr, 1))
            check(said(p.stderr, t) == said(ref.stderr, 1),
                  "%s --threads %d: other diagnostics than --threads 1: %s" % (fmt, t, sorted(diff)[:4]))
        check(os.listdir(tmp) == [], "%s: left in TMPDIR: %s" % (fmt, os.listdir(tmp)))
    ref = subprocess.run([wm, "stack", "--threads", "1", "--format", "jsonl", "--top", "100000"] + hosts,
                         capture_output=True, env=env)
    for t in (2, 4):
        p = subprocess.run([wm, "stack", "--threads", str(t), "--format", "jsonl", "--top", "100000"] + hosts,
                           capture_output=True, env=env)
        check(p.returncode == ref.returncode and p.stdout == ref.stdout and p.stdout,
              "stack --threads %d differs from --threads 1" % t)
    # One host, its repositories read ahead.
    corpus = os.path.join(os.path.abspath(argv[5]), "corpus") if len(argv) > 5 else ""
    if corpus and os.path.isdir(corpus):
        one = [subprocess.run([wm, "hunt", "--no-progress", "--threads", str(t), "--format", "jsonl", corpus],
                              capture_output=True, env=env, timeout=1200) for t in (1, 2)]
        check(one[0].returncode == one[1].returncode and one[0].stdout == one[1].stdout and one[0].stdout,
              "one host (the corpus): --threads 2 gives another report than --threads 1")
        check(one[0].stderr == one[1].stderr, "one host (the corpus): other diagnostics, or in another order")
    else:
        print("skipped: no shared corpus: one host with read-ahead is not tested")
    shutil.rmtree(scratch, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
