#!/usr/bin/env python3
"""Deterministic corruption of every kind of evidence, through the whole
`wmihunt hunt` path (issue 6, point 2).

Inputs: our writers' fixtures (a repository, a WMI event log, a SOFTWARE
hive with its logs, a MOF) and the corpus files of every parser (small ones
whole; the large repositories with fewer rounds). Each input gets the same
seeded corruptions:
  flip     16 random bit flips
  trunc    cut at 1/3 and at 2/3 of the file, and 1 byte short of the end
  zero     a 512-byte range zeroed
  size0 / sizemax / self
           8 aligned 32-bit words set to 0, to 0xFFFFFFFF, and to their own
           offset (an offset that points at itself)
Each run must end by itself within the time bound, with an exit code of
ours (0-3, never a signal or a sanitizer report), and keep its peak memory
under the bound. A file cut short inside what its format claims must also
produce a diagnostic naming it.

usage: test_corrupt.py WMIHUNT GEN_DIR CORPUS_DIR SCRATCH [--quick]
Last line: "N passed, M failed"."""
import json, os, random, resource, shutil, subprocess, sys, time, zlib

TIME_BOUND = 60.0          # seconds per run (sanitizer build included)
MEM_BOUND = 1536 << 20     # peak RSS per run, bytes
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402



def corruptions(data, seed, heavy, cim_pages=False):
    """(name, bytes) for each corruption of data, seeded."""
    rnd = random.Random(seed)
    n = len(data)
    out = []
    if n == 0:
        return out
    b = bytearray(data)
    for _ in range(16):
        i = rnd.randrange(n)
        b[i] ^= 1 << rnd.randrange(8)
    out.append(("flip", bytes(b)))
    cuts = [n // 3, 2 * n // 3, n - 1] if heavy else [n // 2]
    if cim_pages and n > 2 * 8192:
        cuts.append(8192)   # one page left: mapped pages are surely gone
    for c in cuts:
        if 0 < c < n:
            out.append(("trunc@%d" % c, data[:c]))
    if heavy:
        b = bytearray(data)
        s = rnd.randrange(max(1, n - 512))
        b[s:s + 512] = bytes(min(512, n - s))
        out.append(("zero@%d" % s, bytes(b)))
        # Structures start early: headers and the first chunk/page/bin.
        words = sorted({rnd.randrange(0, min(n, 1 << 16) // 4) * 4 for _ in range(8)})
        for name, val in (("size0", lambda o: 0), ("sizemax", lambda o: 0xFFFFFFFF), ("self", lambda o: o)):
            b = bytearray(data)
            for o in words:
                if o + 4 <= n:
                    b[o:o + 4] = (val(o) & 0xFFFFFFFF).to_bytes(4, "little")
            out.append((name, bytes(b)))
    return out


def run(w, target, env):
    t0 = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        p = subprocess.run([w, "hunt", "--no-progress", "--format", "jsonl", target], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=TIME_BOUND, env=env)
    except subprocess.TimeoutExpired:
        return None, "", TIME_BOUND, 0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    # ru_maxrss of children is the max over all of them so far: only an
    # increase is this run's.
    return p.returncode, p.stderr.decode("utf-8", "replace"), time.monotonic() - t0, rss if rss > before * 1024 else 0


def damages(w, path, whole, cut):
    """Whether cutting this file at `cut` damages what its format claims.
    A hive may carry slack past the bins its base block declares; a MOF cut
    between declarations is still a complete MOF (our parser's mof.file
    record says which, and then stderr must agree)."""
    base = os.path.basename(path).upper()
    if base.startswith("MAPPING") and base.endswith(".MAP"):
        return cut <= 2 * len(whole) // 3      # both sections and footers are in the first 2/3
    if base in ("INDEX.BTR", "OBJECTS.DATA"):
        return cut == 8192 and len(whole) > 2 * 8192   # pages past the cut may all be free ones
    if whole[:4] == b"regf" and len(whole) >= 0x2C:
        return cut < 4096 + int.from_bytes(whole[0x28:0x2C], "little")
    if path.lower().endswith(".mof"):
        p = subprocess.run([w, "mof", "--format", "jsonl", path], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=TIME_BOUND)
        for line in p.stdout.splitlines():
            r = json.loads(line)
            if r.get("artifact") == "mof.file":
                return bool(r.get("degraded")) or not r.get("complete")
        return True
    return True


def one(w, name, files, target_rel, scratch, env, seed, heavy):
    """files: {relative path: bytes}; corrupts each in turn, leaving the others whole."""
    for rel, data in files.items():
        if not data:
            continue
        cim_pages = os.path.basename(rel).upper() in ("INDEX.BTR", "OBJECTS.DATA")
        for kind, bad in corruptions(data, seed ^ (zlib.crc32(rel.encode()) & 0xFFFF), heavy, cim_pages):
            d = os.path.join(scratch, "case")
            shutil.rmtree(d, ignore_errors=True)
            for r2, d2 in files.items():
                p = os.path.join(d, r2)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(bad if r2 == rel else d2)
            rc, err, secs, rss = run(w, os.path.join(d, target_rel), env)
            what = "%s: %s %s" % (name, rel, kind)
            if rc is None:
                check(False, "%s: no result within %.0f s (hang)" % (what, TIME_BOUND))
                continue
            sanitizer = "AddressSanitizer" in err or "runtime error:" in err or "LeakSanitizer" in err
            check(rc in (0, 1, 2, 3, 4) and not sanitizer,
                  "%s: exit %d%s" % (what, rc, " with a sanitizer report:\n" + err[-2000:] if sanitizer else ""))
            check(rss <= MEM_BOUND, "%s: peak memory %d MB over the bound" % (what, rss >> 20))
            if kind.startswith("trunc") and damages(w, os.path.join(d, rel), files[rel], len(bad)):
                check("wmihunt" in err and ("offset" in err or "error" in err or "warning" in err),
                      "%s: a truncated file gives a diagnostic (stderr: %r)" % (what, err[:300]))


def readall(d):
    out = {}
    for root, _, names in os.walk(d):
        for n in sorted(names):
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = f.read()
    return out


def main():
    w, gen, corpus, scratch = sys.argv[1:5]
    quick = "--quick" in sys.argv
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    env = dict(os.environ)
    # Sanitizer reports must not hide behind our exit codes 1-4.
    env["ASAN_OPTIONS"] = "exitcode=86:detect_leaks=1:" + env.get("ASAN_OPTIONS", "")
    env["UBSAN_OPTIONS"] = "exitcode=87:halt_on_error=1:print_stacktrace=1:" + env.get("UBSAN_OPTIONS", "")

    # --- our writers' fixtures ---
    fx = os.path.join(scratch, "fixtures")
    subprocess.run([os.path.join(gen, "wh-cimgen"), "demo", os.path.join(fx, "Repository")], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(gen, "wh-evtxgen"), "wmi", os.path.join(fx, "wmi.evtx")], check=True,
                   stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(fx, "hive"), exist_ok=True)
    subprocess.run([os.path.join(gen, "wh-regfgen"), "demo", os.path.join(fx, "hive")], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(fx, "evil.mof"), "w") as f:
        f.write('#pragma namespace("\\\\\\\\.\\\\root\\\\subscription")\n'
                'instance of __EventFilter as $F { Name = "f"; QueryLanguage = "WQL";\n'
                '  Query = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA '
                '\'Win32_PerfFormattedData_PerfOS_System\'"; };\n'
                'instance of CommandLineEventConsumer as $C { Name = "c"; '
                'CommandLineTemplate = "powershell -enc SQBFAFgA"; };\n'
                'instance of __FilterToConsumerBinding { Filter = $F; Consumer = $C; };\n')
    check(os.path.isfile(os.path.join(fx, "Repository", "OBJECTS.DATA")), "writer made a repository")
    repo = readall(os.path.join(fx, "Repository"))
    one(w, "fixture repository", {"Repository/" + k: v for k, v in repo.items()}, "Repository", scratch, env, 1, True)
    for n in ("wmi.evtx", "evil.mof"):
        with open(os.path.join(fx, n), "rb") as f:
            one(w, "fixture " + n, {n: f.read()}, n, scratch, env, 2, True)
    hive = readall(os.path.join(fx, "hive"))
    soft = [k for k in hive if os.path.basename(k).upper() == "SOFTWARE"]
    if soft:
        one(w, "fixture hive", hive, soft[0], scratch, env, 3, True)
    else:
        check(False, "writer made a SOFTWARE hive (%s)" % sorted(hive))

    # --- rule files: the built-in rules corrupted, given with --rules. A
    # rule file is written by people, so a bad one may stop the run (64, a
    # usage error naming the file and line), but never crash or hang it. ---
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules", "builtin.yml")
    with open(src, "rb") as f:
        rules = f.read()
    for kind, bad in corruptions(rules, 4, True):
        rp = os.path.join(scratch, "rules.yml")
        with open(rp, "wb") as f:
            f.write(bad)
        try:
            p = subprocess.run([w, "hunt", "--no-progress", "--rules", rp, os.path.join(fx, "evil.mof")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=TIME_BOUND)
        except subprocess.TimeoutExpired:
            check(False, "rules %s: no result within %.0f s (hang)" % (kind, TIME_BOUND))
            continue
        err = p.stderr.decode("utf-8", "replace")
        sanitizer = "AddressSanitizer" in err or "runtime error:" in err or "LeakSanitizer" in err
        check(p.returncode in (0, 1, 3, 4, 64) and not sanitizer, "rules %s: exit %d%s" % (
            kind, p.returncode, " with a sanitizer report:\n" + err[-2000:] if sanitizer else ""))
        if p.returncode == 64:
            check("rules.yml" in err, "rules %s: the refusal names the rule file (%r)" % (kind, err[:200]))

    # --- the per-file time budget: a budget no parse can keep (1 ns) stops
    # every file with a message naming it, and the next file is still
    # started; without the budget (0) none is cut. ---
    hive_dir = os.path.join(fx, "hive")
    inputs = [os.path.join(fx, "Repository"), os.path.join(fx, "wmi.evtx"), os.path.join(fx, "evil.mof")]
    for budget, cut in (("0.000000001", True), ("0", False)):
        p = subprocess.run([w, "hunt", "--no-progress", "--time-budget", budget] + inputs,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
        err = p.stderr.decode("utf-8", "replace")
        spent = [l for l in err.splitlines() if "time budget of" in l]
        for path in inputs:
            hit = any(path in l for l in spent)
            check(hit == cut, "--time-budget %s: %s %s" % (budget, os.path.basename(path),
                                                         "is cut with a message naming it" if cut else "is not cut"))
        if cut:
            check(p.returncode == 3, "--time-budget spent: exit 3, damaged/partial (rc %d)" % p.returncode)
            check(all("@ offset" in l or "INDEX.BTR" in l for l in spent), "the budget message says where it stopped")
    p = subprocess.run([w, "reg", "--all", "--time-budget", "0.000000001", os.path.join(hive_dir, "SOFTWARE")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=120)
    check(b"time budget of" in p.stderr and p.returncode == 3, "reg --all: the budget stops the key walk (rc %d)" % p.returncode)

    # --- --max-memory reaches every parser hunt runs: a cap too small for
    # anything gives, for each file, a message naming it and the cap, and
    # the run still ends with our exit code. ---
    inputs4 = inputs + [os.path.join(hive_dir, "SOFTWARE")]
    p = subprocess.run([w, "hunt", "--no-progress", "--max-memory", "64K"] + inputs4,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    err = p.stderr.decode("utf-8", "replace").splitlines()
    check(p.returncode in (2, 3), "--max-memory 64K: ends with our exit code (rc %d)" % p.returncode)
    for path in inputs4:
        said = [l for l in err if path in l and ("--max-memory" in l or "memory cap" in l)]
        check(bool(said), "--max-memory 64K: %s says the cap stopped it" % os.path.basename(path))
    p = subprocess.run([w, "hunt", "--no-progress", "--max-memory", "256M"] + inputs4,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    check(b"max-memory" not in p.stderr and p.returncode == 1,
          "--max-memory 256M: enough, nothing cut, the findings as without it (rc %d)" % p.returncode)

    # --- the corpus: every parser ---
    if not os.path.isdir(corpus):
        print("corpus not present: only our fixtures were corrupted")
    else:
        small = 4 << 20
        picks = []
        for sub, exts in (("evtx", (".evtx",)), ("mof", (".mof",)), ("registry", ("",))):
            base = os.path.join(corpus, sub)
            for root, _, names in os.walk(base):
                for n in sorted(names):
                    p = os.path.join(root, n)
                    if n.endswith(".md") or (exts[0] and not n.lower().endswith(exts[0])):
                        continue
                    if os.path.getsize(p) <= small:
                        picks.append(p)
        if quick:
            picks = picks[::4]
        for i, p in enumerate(picks):
            with open(p, "rb") as f:
                data = f.read()
            n = os.path.basename(p)
            # A hive is recognised by its signature; keep the name for .evtx/.mof.
            one(w, "corpus " + os.path.relpath(p, corpus), {n: data}, n, scratch, env, 100 + i, i % 3 == 0)
        # Repositories: every file of the smallest complete one, lighter rounds.
        cimdir = os.path.join(corpus, "cim", "fox-it_dissect.cim")
        if os.path.isdir(cimdir):
            files = readall(cimdir)
            # one() corrupts each file of the set in turn, the others whole.
            one(w, "corpus fox-it", {"repo/" + k: v for k, v in files.items()}, "repo", scratch, env, 200, False)
    shutil.rmtree(os.path.join(scratch, "case"), ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
