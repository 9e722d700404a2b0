#!/usr/bin/env python3
"""Proves the EVTX test oracles themselves, without wmihunt's reader.

usage: validate_harness.py CORPUS_EVTX_DIR

1. libevtx's own figures: for every file, `evtxinfo` (records, recovered) and
   `evtxexport` (items, whether it stops, whole records of `-m recovered`)
   must equal what the EXPECTED.md parser read from its `records:` line.
2. test_evtx_corpus.py run with evtxexport_shim.py as the binary (a stand-in
   that prints libevtx's records in wmihunt's JSONL shape): every fact whose
   source is libevtx must pass, as must every contract and corpus check; the
   only failures allowed are facts EXPECTED.md takes from evtx-rs or from a
   note that says libevtx is wrong.  Each such failure is listed.
3. diff_evtxexport.py with the shim must report 0 failed (this exercises the
   XML text extraction, the record matching and the normalisations both
   ways: the shim renders Windows' form, the diff normalises libevtx's).
4. Failure modes: a missing binary and a binary without `evtx` must make
   both scripts fail (exit 1, a clear FAIL line); an absent corpus folder
   must make test_evtx_corpus.py print "skipped" and exit 0.

Prints "skipped: ..." (exit 0) when evtxexport/evtxinfo or the corpus are
absent.  Last line: `N passed, M failed` (checks of this script).
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evtxlib  # noqa: E402

CORPUS_TEST = os.path.join(HERE, "..", "corpus", "test_evtx_corpus.py")
DIFF = os.path.join(HERE, "diff_evtxexport.py")
SHIM = os.path.join(HERE, "evtxexport_shim.py")

passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s: %s" % (what, detail))
    return ok


def evtxinfo_counts(path):
    res = evtxlib.run_command(["evtxinfo", path], timeout=300)
    t = res.stdout.decode("utf-8", "replace")
    n = re.search(r"Number of records\s*:\s*(\d+)", t)
    r = re.search(r"Number of recovered records\s*:\s*(\d+)", t)
    return (int(n.group(1)) if n else None, int(r.group(1)) if r else None)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 64
    corpus = sys.argv[1]
    if not os.path.isfile(os.path.join(corpus, "EXPECTED.md")):
        print("skipped: no EXPECTED.md in %s" % corpus)
        return 0
    if evtxlib.which("evtxexport") is None or evtxlib.which("evtxinfo") is None:
        print("skipped: evtxexport/evtxinfo not on PATH (Debian package libevtx-utils)")
        return 0
    exp = evtxlib.parse_expected(os.path.join(corpus, "EXPECTED.md"))
    check(not exp.unparsed and not any(f.unparsed for f in exp.files.values()),
          "EXPECTED.md parsed completely", str(exp.unparsed[:2]))

    # 1. libevtx's own figures
    for name in exp.order:
        f = exp.files[name]
        path = os.path.join(corpus, name)
        if not check(os.path.isfile(path), name, "missing"):
            continue
        n, r = evtxinfo_counts(path)
        check(n == f.evtxinfo, name, "evtxinfo records %s, EXPECTED.md %s" % (n, f.evtxinfo))
        check(r == f.evtxinfo_recovered, name, "evtxinfo recovered %s, EXPECTED.md %s" % (r, f.evtxinfo_recovered))
        res, recs, incomplete = evtxlib.run_evtxexport(path)
        check(len(recs) == f.evtxexport_items, name,
              "evtxexport items %d, EXPECTED.md %s" % (len(recs), f.evtxexport_items))
        stops = res.rc != 0
        check(stops == (f.evtxexport_stops is not None), name,
              "evtxexport exit %s, EXPECTED.md stops: %r" % (res.rc, f.evtxexport_stops))
        _, rrecs, _ = evtxlib.run_evtxexport(path, recovered=True)
        check(len(rrecs) == f.evtxexport_recovered, name,
              "evtxexport -m recovered whole records %d, EXPECTED.md %s" % (len(rrecs), f.evtxexport_recovered))

    # 2. the corpus test on libevtx's own output
    with tempfile.TemporaryDirectory() as tmp:
        rep = os.path.join(tmp, "report.json")
        p = subprocess.run([sys.executable, CORPUS_TEST, "--json-report", rep, SHIM, corpus],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3600)
        out = p.stdout.decode("utf-8", "replace")
        check(os.path.isfile(rep), "corpus test with the shim wrote its report", out[-500:])
        items = json.load(open(rep)) if os.path.isfile(rep) else []
        libevtx_items = [i for i in items if i["source"] == "libevtx"]
        bad_lib = [i for i in libevtx_items if i["status"] == "fail"]
        check(bool(libevtx_items) and not bad_lib, "every libevtx-sourced fact holds on evtxexport's output",
              "; ".join("%s %s: %s" % (i["file"], i["what"], i["detail"]) for i in bad_lib[:8]))
        hard = [i for i in items if i["status"] == "fail" and i["source"] not in ("evtx-rs", "note")]
        check(not hard, "every other check (contract, corpus, derived) passes on the shim",
              "; ".join("%s %s: %s" % (i["file"], i["what"], i["detail"]) for i in hard[:8]))
        allowed = [i for i in items if i["status"] == "fail" and i["source"] in ("evtx-rs", "note")]
        print("corpus test on evtxexport's output: %d libevtx facts hold; %d facts libevtx cannot "
              "prove (EXPECTED.md takes them from evtx-rs or from a note that corrects libevtx):"
              % (len(libevtx_items), len(allowed)))
        seen = {}
        for i in allowed:
            seen.setdefault((i["file"], i["source"]), []).append(i["what"])
        for (fname, src), whats in sorted(seen.items()):
            print("  %s [%s] %d: %s%s" % (fname, src, len(whats), "; ".join(whats[:3]), " ..." if len(whats) > 3 else ""))
        last = out.strip().splitlines()[-1] if out.strip() else ""
        check(re.fullmatch(r"\d+ passed, \d+ failed", last) is not None, "corpus test ends on `N passed, M failed`", last)
        check(p.returncode == (1 if allowed else 0), "corpus test exit code follows its failures",
              "exit %s" % p.returncode)

        # 3. the differential test on the shim
        p = subprocess.run([sys.executable, DIFF, SHIM, corpus], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=3600)
        out = p.stdout.decode("utf-8", "replace")
        last = out.strip().splitlines()[-1] if out.strip() else ""
        m = re.fullmatch(r"(\d+) passed, (\d+) failed", last)
        check(m is not None and m.group(2) == "0" and int(m.group(1)) > 0 and p.returncode == 0,
              "diff_evtxexport.py finds no difference between evtxexport and itself", last + "\n" + out[-1500:])

        # 4. failure modes
        missing = os.path.join(tmp, "no-such-wmihunt")
        fake = os.path.join(tmp, "wmihunt-without-evtx")
        with open(fake, "w") as fh:
            fh.write("#!/bin/sh\necho \"wmihunt: unknown command '$1' (try 'wmihunt --help')\" >&2\nexit 64\n")
        os.chmod(fake, 0o755)
        for script in (CORPUS_TEST, DIFF):
            for binary, why in ((missing, "missing binary"), (fake, "binary without evtx")):
                p = subprocess.run([sys.executable, script, binary, corpus], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=600)
                out = p.stdout.decode("utf-8", "replace")
                check(p.returncode == 1 and "FAIL" in out and out.strip().endswith("0 passed, 1 failed"),
                      "%s fails clearly on a %s" % (os.path.basename(script), why), out[-300:])
        p = subprocess.run([sys.executable, CORPUS_TEST, SHIM, os.path.join(tmp, "absent")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        check(p.returncode == 0 and out.startswith("skipped"), "corpus test skips an absent corpus", out)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
