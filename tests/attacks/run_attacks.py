#!/usr/bin/env python3
"""Attack cases as data (tests/attacks/README.md): for each tests/attacks/
*.yml, write the host it describes with tests/gen/hostgen.py, run `wmihunt
hunt --no-progress --format jsonl TREE`, and check its `expect:` and
`expect_not:` against the hunt.case / hunt.finding records. One line per
case with its source; a case marked `pending:` that does not pass is
reported as pending (not failed) until the feature it names lands.

usage: run_attacks.py WMIHUNT TESTS_GEN_BUILD_DIR SCRATCH [NAME...]
  NAME: only these cases (file names without .yml). WH_ATTACKS_JOBS sets
  the number of cases run at once (default 4)."""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "gen"))
import checks  # noqa: E402
import hostgen  # noqa: E402

SEV = ["info", "low", "medium", "high", "critical"]


def sev(s):
    return SEV.index(s) if s in SEV else -1


def low(v):
    return v.lower() if isinstance(v, str) else v


# Keys of a case expectation that are not plain field comparisons.
SPECIAL = {"severity_at_least", "severity_at_most", "rules", "rules_not", "attack", "lifecycle", "contains",
           "payload_contains", "fired_at_least", "count", "min_count"}


def case_fails(c, want):
    """The reasons case c does not satisfy want (empty when it does)."""
    bad = []
    for k, v in want.items():
        if k in SPECIAL:
            continue
        got = c.get(k)
        if isinstance(v, list):
            ok = isinstance(got, list) and all(low(x) in [low(y) for y in got] for x in v)
        else:
            ok = low(got) == low(v)
        if not ok:
            bad.append("%s %r (want %r)" % (k, got, v))
    if "severity_at_least" in want and sev(c.get("severity")) < sev(want["severity_at_least"]):
        bad.append("severity %s (want >= %s)" % (c.get("severity"), want["severity_at_least"]))
    if "severity_at_most" in want and sev(c.get("severity")) > sev(want["severity_at_most"]):
        bad.append("severity %s (want <= %s)" % (c.get("severity"), want["severity_at_most"]))
    for r in want.get("rules") or []:
        if r not in (c.get("rules") or []):
            bad.append("rule %s did not fire (rules %s)" % (r, c.get("rules")))
    for r in want.get("rules_not") or []:
        if r in (c.get("rules") or []):
            bad.append("rule %s fired" % r)
    for a in want.get("attack") or []:
        if a not in (c.get("attack") or []):
            bad.append("ATT&CK %s missing (%s)" % (a, c.get("attack")))
    events = [e.get("event") for e in c.get("lifecycle") or [] if isinstance(e, dict)]
    for e in want.get("lifecycle") or []:
        if e not in events:
            bad.append("no %r in the lifecycle (%s)" % (e, sorted(set(events))))
    if "fired_at_least" in want and (c.get("fired_count") or 0) < want["fired_at_least"]:
        bad.append("fired_count %r (want >= %d)" % (c.get("fired_count"), want["fired_at_least"]))
    if want.get("payload_contains") and want["payload_contains"].lower() not in (c.get("payload") or "").lower():
        bad.append("payload %r lacks %r" % ((c.get("payload") or "")[:120], want["payload_contains"]))
    texts = want.get("contains") or []
    if isinstance(texts, str):
        texts = [texts]
    blob = json.dumps(c, ensure_ascii=False).lower()
    for t in texts:
        if t.lower() not in blob:
            bad.append("text %r not in the case" % t)
    return bad


def nearest(cases, want):
    """The case closest to want, for the failure message."""
    best = min(cases, key=lambda c: len(case_fails(c, want)), default=None)
    if best is None:
        return "no case at all"
    return "closest %s %s [%s %s %s]: %s" % (best.get("case_id"), best.get("title"), best.get("kind"),
                                            best.get("state"), best.get("severity"),
                                            "; ".join(case_fails(best, want)))


def judge(d, recs):
    """The failures of one description's expectations (a list of strings)."""
    cases = [r for r in recs if r.get("artifact") == "hunt.case"]
    finds = [r for r in recs if r.get("artifact") == "hunt.finding"]
    hosts = [r for r in recs if r.get("artifact") == "hunt.host"]
    fails = []
    exp = d.get("expect") or {}
    nexp = d.get("expect_not") or {}
    for want in exp.get("cases") or []:
        m = [c for c in cases if not case_fails(c, want)]
        n = want.get("count")
        if n is not None and len(m) != n:
            fails.append("expected %d case(s) like %s, got %d" % (n, short(want), len(m)))
        elif not m:
            fails.append("no case like %s; %s" % (short(want), nearest(cases, want)))
        elif want.get("min_count") and len(m) < want["min_count"]:
            fails.append("expected >= %d cases like %s, got %d" % (want["min_count"], short(want), len(m)))
    for want in exp.get("findings") or []:
        m = [f for f in finds if f.get("rule") == want.get("rule")
             and sev(f.get("severity")) >= sev(want.get("severity_at_least", "info"))
             and (not want.get("contains") or want["contains"].lower() in json.dumps(f, ensure_ascii=False).lower())]
        if not m:
            fails.append("no finding %s" % short(want))
    if "hosts" in exp and len(hosts) != exp["hosts"]:
        fails.append("%d hunt.host records, expected %d" % (len(hosts), exp["hosts"]))
    if "worst" in exp:
        worst = max((sev(c.get("severity")) for c in cases if not c.get("inventory")), default=-1)
        if worst != sev(exp["worst"]):
            fails.append("worst case severity %s, expected %s" % (SEV[worst] if worst >= 0 else "none", exp["worst"]))
    for want in exp.get("inventory") or []:
        if not [c for c in cases if c.get("inventory") and not case_fails(c, want)]:
            fails.append("no inventory case like %s; %s" % (short(want), nearest(cases, want)))
    # -- what must not be reported --
    if "above" in nexp:
        over = [c for c in cases if not c.get("inventory") and sev(c.get("severity")) > sev(nexp["above"])]
        for c in over:
            fails.append("case above %s: %s %s [%s %s] rules %s" % (nexp["above"], c.get("case_id"), c.get("title"),
                                                                   c.get("kind"), c.get("severity"), c.get("rules")))
    for r in nexp.get("rules") or []:
        hit = [f for f in finds if f.get("rule") == r]
        if hit:
            fails.append("rule %s fired: %s" % (r, (hit[0].get("evidence") or "")[:160]))
    for want in nexp.get("cases") or []:
        for c in cases:
            if not case_fails(c, want):
                fails.append("unexpected case like %s: %s %s" % (short(want), c.get("case_id"), c.get("title")))
    if nexp.get("duplicates"):
        seen = {}
        for c in cases:
            if c.get("inventory"):
                continue
            key = tuple(low(c.get(k)) for k in ("host", "namespace", "filter_name", "consumer_name"))
            if not any(key[2:]):
                continue
            if key in seen:
                fails.append("two cases for %r: %s and %s" % (key, seen[key], c.get("case_id")))
            seen.setdefault(key, c.get("case_id"))
    return fails


def short(d):
    return json.dumps(d, ensure_ascii=False)[:200]


def one(wm, gen, scratch, path):
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        d = hostgen.load(path)
    except Exception as e:  # noqa: BLE001 - a broken file is a failure of that case
        return name, {}, ["cannot read: %s" % e]
    missing = [k for k in ("source",) if not d.get(k)] + ([] if d.get("expect") or d.get("expect_not") else ["expect"])
    if missing:
        return name, d, ["no %s" % ", ".join(missing)]
    tree = os.path.join(scratch, name)
    shutil.rmtree(tree, ignore_errors=True)
    try:
        hostgen.generate(gen, d, tree)
    except (hostgen.HostgenError, KeyError, TypeError, ValueError) as e:
        return name, d, ["hostgen: %s" % e]
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", tree], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        return name, d, ["wmihunt hunt exit %d: %s" % (p.returncode, p.stderr.strip()[-400:])]
    recs = []
    for line in p.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            return name, d, ["output line is not JSON: %r" % line[:120]]
    with open(os.path.join(scratch, name + ".jsonl"), "w") as fh:
        fh.write(p.stdout)
    return name, d, judge(d, recs)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    wm, gen, scratch = argv[:3]
    only = set(argv[3:])
    os.makedirs(scratch, exist_ok=True)
    files = sorted(os.path.join(HERE, f) for f in os.listdir(HERE) if f.endswith(".yml")
                   and (not only or f[:-4] in only))
    if hostgen.yaml is None:
        print("FAIL PyYAML missing: install python3-yaml (scripts/install-deps.sh)")
        print("0 passed, 1 failed, 0 pending")
        return 1
    jobs = int(os.environ.get("WH_ATTACKS_JOBS", "4"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(lambda f: one(wm, gen, scratch, f), files))
    pending = xpass = 0
    attacks = benign = 0
    for name, d, fails in results:
        src = (d.get("source") or "").strip().replace("\n", " ")
        kind = "benign" if d.get("benign") else "attack"
        if d.get("benign"):
            benign += 1
        else:
            attacks += 1
        if d.get("pending"):
            if fails:
                pending += 1
                print("PENDING %-34s %s -- needs: %s" % (name, kind, d["pending"]))
                for f in fails:
                    print("          . " + f)
                continue
            xpass += 1
            print("PASS    %-34s %s (pending feature seems to have landed: drop `pending:`) -- %s" % (name, kind, src))
            checks.check(True, name)
            continue
        checks.check(not fails, "%-34s %s -- %s" % (name, kind, src))
        if fails:
            for f in fails:
                print("          . " + f)
        else:
            print("PASS    %-34s %s -- %s" % (name, kind, src))
    print("%d cases (%d attacks, %d benign look-alikes); %d pending%s" % (
        len(results), attacks, benign, pending, ", %d pending passed" % xpass if xpass else ""))
    print("%d passed, %d failed, %d pending" % (checks.passed, checks.failed, pending))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
