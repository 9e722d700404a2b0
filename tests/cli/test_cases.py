#!/usr/bin/env python3
"""The case stage of `wmihunt hunt` (issue 10) on stories our writers tell
(tests/gen/casegen.py): everything about one thing the attacker left is one
`hunt.case` with its life (created, fired, removed), every finding about it
points at that case, and each host keeps its own cases.

Trees (casegen.py documents names, times and Computer names):
  lifecycle  PerfMonTimer -> PerfMonUpdater: live, in a MOF with #pragma
             autorecover listed in SOFTWARE, 5861, Sysmon Created, fired twice
  removed    SvcHealthCheck -> SvcHealthConsumer: created, fired once, deleted
             with wmic, only in unallocated repository pages
  twohosts   WS-HR-12 with HRSyncFilter, SRV-DB-03 with DbMaintTimer
  demo       the `make demo` collection: WindowsUpdateFilter live and fired
             twice, UserLogonTrigger created then removed

usage: test_cases.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
KINDS = {"subscription", "filter", "consumer", "mof", "autorecover", "wmi_execution", "event", "stored_payload", "provider"}
SEVERITIES = ["info", "low", "medium", "high", "critical"]
STATES = {"live", "removed", "logged", "mof_only", "activity"}
LIFE_EVENTS = {"created", "changed", "removed", "fired", "registered", "defined", "listed", "written", "command",
               "seen"}
CASE_LISTS = ["mof_paths", "autorecover_paths", "users", "sids", "process_ids", "event_ids", "record_ids", "channels",
              "attack", "rules", "reasons", "lifecycle", "evidence"]
CASE_TIMES = ["first_seen", "last_seen", "created", "changed", "removed", "fired_first", "fired_last"]
CASE_STRS = ["title", "namespace", "filter_name", "filter_query", "consumer_class", "consumer_name", "payload",
             "payload_sha256", "known_good"]


def hunt(wm, tree):
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", tree], capture_output=True, text=True)
    recs = []
    bad = 0
    for line in p.stdout.splitlines():
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(r, dict) and "artifact" in r:
            recs.append(r)
        else:
            bad += 1
    name = os.path.basename(tree)
    check(bad == 0, "%s: %d output line(s) are not JSON objects with an artifact" % (name, bad))
    check(p.returncode == 1, "%s: exit %d, expected 1 (findings at high or above); stderr: %s"
          % (name, p.returncode, p.stderr.strip()[-300:]))
    return recs


def of(recs, artifact):
    return [r for r in recs if r["artifact"] == artifact]


def is_time(v):
    return v is None or (isinstance(v, str) and bool(TIME.match(v)))


class Tally:
    """Schema checks counted per kind of problem: a field missing from every
    line is one failure with an example, not one per line."""

    def __init__(self, name):
        self.name, self.seen, self.bad = name, [], {}

    def check(self, ok, what):
        key = re.sub(r"(case|finding) \S+", r"\1", what.split(": ", 1)[-1])
        key = re.sub(r"%?[rs]?\b[0-9a-f]{8,}\b|'[^']*'|\[.*\]|\{.*\}", "...", key)[:120]
        if key not in self.seen:
            self.seen.append(key)
        if not ok:
            n, ex = self.bad.get(key, (0, what))
            self.bad[key] = (n + 1, ex)

    def finish(self):
        for key in self.seen:
            n, ex = self.bad.get(key, (0, ""))
            check(n == 0, "%s (%d time(s)), e.g. %s" % (key, n, ex[:400]))


def schema(name, recs):
    """Every case, finding, host and file line has the contract's fields
    with the contract's types; findings point at cases that exist."""
    cases = of(recs, "hunt.case")
    check(cases, "%s: no hunt.case line" % name)
    t = Tally(name)
    ids = set()
    for c in cases:
        w = "%s: case %s" % (name, c.get("case_id"))
        t.check(isinstance(c.get("host"), str) and c["host"], w + ": host missing")
        t.check(isinstance(c.get("case_id"), str) and c["case_id"], w + ": case_id not a string")
        t.check(c.get("case_id") not in ids, w + ": case_id used twice")
        ids.add(c.get("case_id"))
        t.check(type(c.get("rank")) is int and c["rank"] >= 1, w + ": rank %r" % c.get("rank"))
        t.check(c.get("kind") in KINDS, w + ": kind %r" % c.get("kind"))
        t.check(c.get("severity") in SEVERITIES, w + ": severity %r" % c.get("severity"))
        t.check(type(c.get("inventory")) is bool, w + ": inventory not a bool")
        t.check(c.get("state") in STATES, w + ": state %r" % c.get("state"))
        t.check(type(c.get("fired_count")) is int and c["fired_count"] >= 0, w + ": fired_count %r" % c.get("fired_count"))
        for k in CASE_STRS:
            t.check(k in c and (c[k] is None or isinstance(c[k], str)), w + ": %s missing or not a string/null" % k)
        for k in CASE_LISTS:
            t.check(isinstance(c.get(k), list), w + ": %s not an array" % k)
        for k in CASE_TIMES:
            t.check(k in c and is_time(c[k]), w + ": %s %r not YYYY-MM-DDTHH:MM:SS.ffffffZ or null" % (k, c.get(k)))
        if not all(isinstance(c.get(k), list) for k in CASE_LISTS):
            continue
        t.check(all(type(x) is int for x in c["event_ids"] + c["record_ids"]), w + ": event_ids/record_ids not ints")
        t.check(all(isinstance(x, str) for x in c["process_ids"]), w + ": process_ids not strings")
        for r in c["reasons"]:
            t.check(isinstance(r, dict) and {"rule", "severity", "title", "why"} <= set(r), w + ": reason %r" % r)
        for e in c["lifecycle"]:
            keys = {"time", "event", "what", "user", "sid", "process", "pid", "artifact", "source", "offset",
                    "record_id"}
            t.check(isinstance(e, dict) and keys <= set(e), w + ": lifecycle entry lacks fields: %r" % e)
            if isinstance(e, dict):
                t.check(e.get("event") in LIFE_EVENTS, w + ": lifecycle event %r" % e.get("event"))
                t.check(is_time(e.get("time")), w + ": lifecycle time %r" % e.get("time"))
        for e in c["evidence"]:
            keys = {"artifact", "source", "offset", "record_id", "time", "summary", "recovered"}
            t.check(isinstance(e, dict) and keys <= set(e), w + ": evidence entry lacks fields: %r" % e)
        if c["fired_count"]:
            t.check(c["fired_first"] and c["fired_last"] and c["fired_first"] <= c["fired_last"],
                  w + ": fired %d time(s) but fired_first/last %r/%r" % (c["fired_count"], c["fired_first"],
                                                                          c["fired_last"]))
    for f in of(recs, "hunt.finding"):
        w = "%s: finding %s" % (name, f.get("rule"))
        for k in ["host", "case_id", "rule", "severity", "title", "attack", "why", "evidence_artifact", "evidence",
                  "detail", "time"]:
            t.check(k in f, w + ": no %s" % k)
        t.check(isinstance(f.get("attack"), list), w + ": attack not an array")
        t.check(f.get("case_id") is None or f.get("case_id") in ids,
              w + ": case_id %r names no case of the run" % f.get("case_id"))
    for h in of(recs, "hunt.host"):
        t.check(isinstance(h.get("host"), str) and h.get("host_from") in ("event_log", "hive", "folder")
              and isinstance(h.get("paths"), list), "%s: hunt.host line %r" % (name, h))
    for f in of(recs, "hunt.file"):
        t.check(all(k in f for k in ("host", "size", "mtime_unix", "sha256", "source")),
              "%s: hunt.file lacks fields: %r" % (name, sorted(f)))
    t.finish()
    return cases


def no_duplicates(name, cases):
    """One thing, one case: the same subscription is never two non-inventory cases."""
    seen = {}
    for c in cases:
        if c.get("inventory"):
            continue
        key = tuple((c.get(k) or "").lower() if isinstance(c.get(k), str) else c.get(k)
                    for k in ("host", "filter_name", "consumer_name", "namespace", "payload"))
        if not any(key[1:3]) and not key[4]:
            continue  # nothing that names a thing (e.g. a lone event)
        check(key not in seen, "%s: cases %s and %s are the same thing %r"
              % (name, seen.get(key), c.get("case_id"), key))
        seen.setdefault(key, c.get("case_id"))


def named(cases, filt, cons):
    return [c for c in cases if c.get("filter_name") in (filt, cons) or c.get("consumer_name") in (filt, cons)]


def host_is(v, computer):
    return isinstance(v, str) and v.lower() == computer.lower()


def events(c):
    return {e.get("event") for e in c.get("lifecycle") or [] if isinstance(e, dict)}


def lifecycle(recs, man):
    cases = schema("lifecycle", recs)
    no_duplicates("lifecycle", cases)
    s = man[0]["subscriptions"][0]
    mine = named(cases, s["filter"], s["consumer"])
    check(len(mine) == 1, "lifecycle: %d cases name PerfMonTimer/PerfMonUpdater, expected 1: %s"
          % (len(mine), [c.get("case_id") for c in mine]))
    if len(mine) != 1:
        return
    c = mine[0]
    w = "lifecycle: case %s" % c.get("case_id")
    check(c.get("kind") == "subscription", w + ": kind %r" % c.get("kind"))
    check(c.get("state") == "live", w + ": state %r" % c.get("state"))
    check(host_is(c.get("host"), man[0]["computer"]), w + ": host %r" % c.get("host"))
    check(c.get("fired_count") == 2, w + ": fired_count %r, expected 2" % c.get("fired_count"))
    check(c.get("fired_first") == s["fired"][0] and c.get("fired_last") == s["fired"][1],
          w + ": fired %r .. %r, expected %s .. %s" % (c.get("fired_first"), c.get("fired_last"), *s["fired"]))
    check(c.get("created") is not None, w + ": created is null")
    check(c.get("created") is None or c["created"] < s["fired"][0], w + ": created %r not before the first firing"
          % c.get("created"))
    check(c.get("removed") is None, w + ": removed %r on a live subscription" % c.get("removed"))
    missing = {"defined", "listed", "registered", "created", "fired"} - events(c)
    check(not missing, w + ": lifecycle lacks %s (has %s)" % (sorted(missing), sorted(events(c))))
    mofs = [p.lower().replace("/", "\\") for p in c.get("mof_paths") or [] if isinstance(p, str)]
    check(any(p.endswith("users\\public\\perf.mof") for p in mofs), w + ": mof_paths %r lack perf.mof" % mofs)
    check(c.get("severity") == "critical", w + ": severity %r, expected critical" % c.get("severity"))
    check(c.get("rank") == 1, w + ": rank %r, expected 1" % c.get("rank"))
    check(not c.get("inventory"), w + ": marked inventory")
    check(c.get("payload") == s["payload"], w + ": payload %r" % c.get("payload"))
    others = [o.get("case_id") for o in cases if o is not c and
              (s["filter"] in json.dumps(o) or s["consumer"] in json.dumps(o))]
    check(not others, "lifecycle: other cases mention PerfMonTimer/PerfMonUpdater: %s" % others)
    strays = [(f.get("rule"), f.get("case_id")) for f in of(recs, "hunt.finding")
              if "PerfMon" in json.dumps(f.get("evidence")) and f.get("case_id") != c.get("case_id")]
    check(not strays, "lifecycle: findings about PerfMon outside case %s: %s" % (c.get("case_id"), strays))
    check(any(f.get("case_id") == c.get("case_id") for f in of(recs, "hunt.finding")),
          w + ": no finding points at it")


def removed(recs, man):
    cases = schema("removed", recs)
    no_duplicates("removed", cases)
    s = man[0]["subscriptions"][0]
    mine = named(cases, s["filter"], s["consumer"])
    check(len(mine) == 1, "removed: %d cases name SvcHealthCheck/SvcHealthConsumer, expected 1: %s"
          % (len(mine), [c.get("case_id") for c in mine]))
    if len(mine) != 1:
        return
    c = mine[0]
    w = "removed: case %s" % c.get("case_id")
    check(c.get("state") == "removed", w + ": state %r, expected removed" % c.get("state"))
    check(c.get("created") is not None and c.get("removed") is not None,
          w + ": created %r, removed %r: both expected" % (c.get("created"), c.get("removed")))
    if c.get("created") and c.get("removed"):
        check(c["created"] < c["removed"], w + ": created %s not before removed %s" % (c["created"], c["removed"]))
    check(c.get("fired_count") == 1 and c.get("fired_first") == s["fired"][0],
          w + ": fired %r at %r, expected once at %s" % (c.get("fired_count"), c.get("fired_first"), s["fired"][0]))
    check("removed" in events(c), w + ": lifecycle has no removed event (has %s)" % sorted(events(c)))


def twohosts(recs, man):
    cases = schema("twohosts", recs)
    no_duplicates("twohosts", cases)
    hosts = of(recs, "hunt.host")
    names = sorted(h.get("host", "").lower() for h in hosts)
    want = sorted(m["computer"].lower() for m in man)
    check(names == want, "twohosts: hunt.host lines %s, expected %s" % (names, want))
    for m, other in ((man[0], man[1]), (man[1], man[0])):
        s = m["subscriptions"][0]
        mine = named(cases, s["filter"], s["consumer"])
        check(len(mine) == 1, "twohosts: %d cases name %s, expected 1" % (len(mine), s["filter"]))
        check(all(host_is(c.get("host"), m["computer"]) for c in mine),
              "twohosts: %s under host(s) %s, expected only %s" % (s["filter"], [c.get("host") for c in mine],
                                                                  m["computer"]))
        leak = [c.get("case_id") for c in cases if host_is(c.get("host"), other["computer"])
                and (s["filter"] in json.dumps(c) or s["consumer"] in json.dumps(c))]
        check(not leak, "twohosts: %s's subscription shows in %s's cases %s" % (m["computer"], other["computer"],
                                                                                leak))
    # Files and cases carry the host of the folder they come from.
    for m in man:
        files = [f for f in of(recs, "hunt.file")
                 if os.path.abspath(f.get("source", "")).startswith(os.path.abspath(m["root"]) + os.sep)]
        wrong = [(os.path.basename(f["source"]), f.get("host")) for f in files if not host_is(f.get("host"), m["computer"])]
        check(files and not wrong, "twohosts: %d file(s) under %s, of which with another host than %s: %s"
              % (len(files), m["root"], m["computer"], wrong[:4]))
    for c in cases:
        check(any(host_is(c.get("host"), m["computer"]) for m in man),
              "twohosts: case %s has host %r, neither collection's" % (c.get("case_id"), c.get("host")))


def demo(recs, man):
    cases = schema("demo", recs)
    no_duplicates("demo", cases)
    live, gone = man[0]["subscriptions"]
    mine = named(cases, live["filter"], live["consumer"])
    check(len(mine) == 1, "demo: %d cases name %s, expected 1" % (len(mine), live["filter"]))
    if len(mine) == 1:
        c = mine[0]
        check(c.get("state") == "live" and c.get("fired_count") == 2,
              "demo: %s state %r fired %r, expected live, 2" % (live["filter"], c.get("state"), c.get("fired_count")))
    mine = named(cases, gone["filter"], gone["consumer"])
    check(len(mine) == 1, "demo: %d cases name %s, expected 1" % (len(mine), gone["filter"]))
    if len(mine) == 1:
        c = mine[0]
        check(c.get("state") == "removed" and c.get("created") and c.get("removed")
              and c["created"] < c["removed"], "demo: %s state %r created %r removed %r"
              % (gone["filter"], c.get("state"), c.get("created"), c.get("removed")))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    wm, gen, src, tmp = sys.argv[1:5]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    casegen = os.path.join(src, "gen", "casegen.py")
    trees = {}
    for name in ("lifecycle", "removed", "twohosts", "demo"):
        out = os.path.join(tmp, name)
        p = subprocess.run([sys.executable, casegen, "--gen", gen, name, out], capture_output=True, text=True)
        check(p.returncode == 0, "casegen %s: exit %d: %s" % (name, p.returncode, p.stderr.strip()))
        if p.returncode == 0:
            trees[name] = (out, json.loads(p.stdout))
    for name, fn in (("lifecycle", lifecycle), ("removed", removed), ("twohosts", twohosts), ("demo", demo)):
        if name in trees:
            out, man = trees[name]
            fn(hunt(wm, out), man)
    # case_id is stable: the same evidence gives the same ids.
    if "lifecycle" in trees:
        ids = [sorted(c.get("case_id") or "" for c in of(hunt(wm, trees["lifecycle"][0]), "hunt.case"))
               for _ in range(2)]
        check(ids[0] == ids[1], "lifecycle: case ids differ between two runs")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
