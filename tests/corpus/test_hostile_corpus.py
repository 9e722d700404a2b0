#!/usr/bin/env python3
"""Every hostile file of the shared corpus ends with a diagnostic, and the
rest of the evidence is still read (issue 6).

The hostile files are taken from the corpus's own EXPECTED.md files, read
at run time, not listed here:
- EVTX: every file under "Malformed / edge-case files" in evtx/EXPECTED.md;
- registry: every hive named under "Hostile/corrupt inputs" in
  registry/EXPECTED.md, plus the two hives whose logs must be refused or
  repair them (BadLogHive3, BadBaseBlockHive), each with its logs;
- MOF: every file under mof/malformed and the grammar files pywbem uses for
  its parse errors (mof/EXPECTED.md lists their errors);
- CIM: every corpus folder holding mapping files without OBJECTS.DATA (a
  repository copied in part).

For each, two runs:
1. the format's full reader (`evtx --all`, `reg --all`, `mof`, `cim
   info`), -v: it must end within the time bound with one of our exit codes
   (never a signal or a sanitizer report) and say something on stderr that
   names the file (with an offset or a line for damage inside a file).
   Three event logs are odd but not damaged (EXPECTED.md says what each
   holds); a diagnostic for them would be a lie, so for those the test
   asserts the opposite: no warning or error, and every record the
   evtxinfo line of EXPECTED.md counts is returned.
2. `hunt` on the hostile item together with a good event log (Sysmon
   19/20/21 BotConsumer23): the good log's findings must still be there,
   and the hostile item must still be named on stderr (the same three logs
   excepted).
Last, the SHA-256, size and mtime of every file read are compared with
what they were before: the evidence is never changed.

usage: test_hostile_corpus.py WMIHUNT CORPUS_DIR
Last line: "N passed, M failed" (or "SKIP ..." without the corpus)."""
import hashlib, json, os, re, subprocess, sys

TIMEOUT = 120
GOOD = "evtx/sysmon_19_20_21_1_CommandLineEventConsumer.evtx"
# Odd, not damaged: what EXPECTED.md says of each.
WELL_FORMED = {
    "edge_binxml_substitution_pi_capi2.evtx": "BinXml substitution values and a PI target: valid binary XML",
    "edge_size_t_security.evtx": "SizeT substitution values: a valid type",
    "edge_dns_log_malformed.evtx": "strings python-evtx cannot decode; libevtx and we read all 5 records",
}
SANITIZER = (b"AddressSanitizer", b"runtime error:", b"LeakSanitizer", b"UndefinedBehaviorSanitizer")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402



def run(w, args):
    try:
        p = subprocess.run([w] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"(timed out)"
    return p.returncode, p.stdout, p.stderr


def section(text, start, stop_level="## "):
    """Lines from the heading that starts with `start` to the next heading
    of the same level."""
    out, on = [], False
    for line in text.splitlines():
        if line.startswith(start):
            on = True
            continue
        if on and line.startswith(stop_level) and not line.startswith(stop_level + "#"):
            break
        if on:
            out.append(line)
    return out


def hostile_items(corpus):
    items = []  # (kind, label, reader args, path for hunt, extra hunt args)
    ev = open(os.path.join(corpus, "evtx", "EXPECTED.md"), encoding="utf-8").read()
    lines = section(ev, "## Malformed")
    cur = None
    counts = {}
    for line in lines:
        m = re.match(r"### (\S+\.evtx)", line)
        if m:
            cur = m.group(1)
            items.append(("evtx", cur, ["evtx", "-v", "--all", "--format", "jsonl"], ["evtx/" + cur]))
        m = re.search(r"records: evtxinfo (\d+)", line)
        if m and cur:
            counts[cur] = int(m.group(1))
    reg = open(os.path.join(corpus, "registry", "EXPECTED.md"), encoding="utf-8").read()
    # The hives a bullet is about are named before its first ': '; later
    # names are comparisons (NTUSER_Bad.DAT "differs from" the clean one).
    heads = [l[2:].split(": ")[0] for l in section(reg, "### Hostile/corrupt inputs", "### ") if l.startswith("- ")]
    names = []
    for n in re.findall(r"\b((?:yarp|artemis|regipy|dfwinreg)/[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_])", "\n".join(heads)):
        if n not in names and os.path.isfile(os.path.join(corpus, "registry", n)):
            names.append(n)
    for n in names:
        items.append(("reg", n, ["reg", "-v", "--all", "--format", "jsonl"], ["registry/" + n]))
    for d, hive in (("yarp/BadLogHive3", "BadLogHive"), ("yarp/BadBaseBlockHive", "BadBaseBlockHive")):
        base = os.path.join("registry", d, hive)
        logs = [base + s for s in (".LOG1", ".LOG2") if os.path.exists(os.path.join(corpus, base + s))]
        if os.path.exists(os.path.join(corpus, base)):
            items.append(("reg", d, ["reg", "-v", "--all", "--format", "jsonl"], [base, "--logs"] + logs))
    mofdir = os.path.join(corpus, "mof")
    for sub, pat in (("malformed", r".*\.mof$"), ("grammar", r".*parse_error.*\.mof$")):
        for f in sorted(os.listdir(os.path.join(mofdir, sub))):
            if re.match(pat, f, re.I):
                items.append(("mof", sub + "/" + f, ["mof", "-v", "--format", "jsonl"], ["mof/%s/%s" % (sub, f)]))
    for root, dirs, files in sorted(os.walk(os.path.join(corpus, "cim"))):
        up = [f.upper() for f in files]
        if any(re.match(r"MAPPING\d?\.MAP$", f) for f in up) and "OBJECTS.DATA" not in up:
            rel = os.path.relpath(root, corpus)
            items.append(("cim", rel, ["cim", "info", "-v"], [rel]))
    return items, counts


def fingerprint(paths):
    """SHA-256, size and mtime of every file under paths: the evidence must
    be the same after wmihunt read it."""
    out = {}
    for p in paths:
        files = [p] if os.path.isfile(p) else [os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs]
        for f in files:
            st = os.stat(f)
            with open(f, "rb") as fh:
                out[f] = (hashlib.sha256(fh.read()).hexdigest(), st.st_size, st.st_mtime_ns)
    return out


def records(out):
    return [json.loads(l) for l in out.decode("utf-8", "replace").splitlines() if l.strip().startswith("{")]


def main():
    w, corpus = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.path.isfile(os.path.join(corpus, "evtx", "EXPECTED.md")):
        print("SKIP test_hostile_corpus: no corpus at %s" % corpus)
        return 0
    os.chdir(corpus)  # paths in diagnostics are then as the test gives them
    items, counts = hostile_items(corpus)
    read = sorted({os.path.join(corpus, p) for *_, paths in items for p in paths if not p.startswith("-")}
                  | {os.path.join(corpus, GOOD)})
    before = fingerprint(read)
    kinds = {k for k, *_ in items}
    check(kinds == {"evtx", "reg", "mof", "cim"} and len(items) >= 30,
          "hostile files found for every parser (%d items, kinds %s)" % (len(items), sorted(kinds)))
    for kind, label, reader, paths in items:
        path = paths[0]
        # 1. the format's own full reader
        rc, out, err = run(w, reader + paths)
        what = "%s %s" % (kind, label)
        check(rc is not None, what + ": ends within %d s" % TIMEOUT)
        if rc is None:
            continue
        check(rc in (0, 2, 3) and not any(s in err for s in SANITIZER),
              what + ": ends with our exit code (rc %s), no sanitizer report" % rc)
        named = [l for l in err.decode("utf-8", "replace").splitlines() if path in l or label in l]
        name = os.path.basename(path)
        if name in WELL_FORMED:
            bad = [l for l in named if ": warning:" in l or ": error:" in l]
            check(not bad, what + ": well-formed (%s), so no damage reported (%s)" % (WELL_FORMED[name], bad[:2]))
            n = sum(1 for r in records(out) if r.get("artifact") == "evtx.record" and not r.get("recovered"))
            check(n == counts.get(name), what + ": every record read (%d, EXPECTED evtxinfo %s)" % (n, counts.get(name)))
        else:
            check(bool(named), what + ": a diagnostic names it")
            if kind in ("evtx", "reg") and rc != 2:
                check(any("@ offset" in l for l in named), what + ": the diagnostic gives an offset (%s)" % named[:1])
            if kind == "mof":
                check(any("line" in l for l in named), what + ": the diagnostic gives a line (%s)" % named[:1])
        if label == "artemis/NTUSER_Bad.DAT":
            # regfinfo never ends on it: the subkey list of Console points back at Console.
            check(any("listed under 0xe8" in l or "loop" in l for l in named),
                  what + ": the list loop is reported (%s)" % named[:2])
        # 2. hunt: the hostile item beside good evidence
        hunt_paths = [paths[0]] if kind != "reg" or "--logs" not in paths else [os.path.dirname(paths[0])]
        rc, out, err = run(w, ["hunt", "-v", "--no-progress", "--format", "jsonl"] + hunt_paths + [GOOD])
        check(rc is not None and rc in (0, 1, 3, 4) and not any(s in err for s in SANITIZER),
              what + ": hunt with a good log ends with our exit code (rc %s)" % rc)
        if rc is None:
            continue
        good = [r for r in records(out) if r.get("artifact") == "hunt.finding" and GOOD in (r.get("source") or "")]
        check(any("BotConsumer23" in json.dumps(r) and r.get("severity") == "high" for r in good),
              what + ": hunt still reads the good log beside it (%d findings from it)" % len(good))
        named = [l for l in err.decode("utf-8", "replace").splitlines() if path in l or hunt_paths[0] in l]
        if name not in WELL_FORMED:
            check(bool(named), what + ": hunt names it on stderr")
    after = fingerprint(read)
    changed = [f for f in before if before[f] != after.get(f)]
    check(not changed and len(before) == len(after),
          "evidence unchanged: SHA-256, size and mtime of the %d files read (%s)" % (len(before), changed[:3]))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
