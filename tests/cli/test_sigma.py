#!/usr/bin/env python3
"""Sigma rules (issue 15): every rule under ../shared/sigma loads or is
listed with a specific reason (`wmihunt sigma check`), and for every rule
that SigmaHQ keeps regression data for (regression_data/.../info.yml: an
.evtx and how many times the rule must match it), `wmihunt evtx --sigma
RULE LOG` matches it exactly that often. Rules without regression data are
named in the output. The shared folder is read in place, never copied.

usage: test_sigma.py WMIHUNT SHARED"""
import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish, records  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 64
    wm, shared = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    sig = os.path.join(shared, "sigma")
    if not os.path.isdir(sig):
        print("skipped: ../shared/sigma is not there")
        return 0
    index = {}
    with open(os.path.join(sig, "INDEX.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(head, line.rstrip("\n").split("\t")))
            index[row["id"]] = row
    dirs = [os.path.join(sig, d) for d in ("rules", "rules-emerging-threats", "rules-threat-hunting")]
    p = subprocess.run([wm, "sigma", "check", "--format", "jsonl"] + dirs, capture_output=True, text=True)
    rows = records(p.stdout)
    loaded = [r for r in rows if r.get("state") == "loaded"]
    notloaded = [r for r in rows if r.get("state") == "not loaded"]
    print("sigma check: %d loaded, %d not loaded, %d with no evidence mapped" %
          (len(loaded), len(notloaded), sum(1 for r in loaded if not r["mapped"])))
    check(len(loaded) + len(notloaded) == len(index), "sigma check lists %d rules, INDEX.tsv %d"
          % (len(loaded) + len(notloaded), len(index)))
    check(all(r.get("why") and r["why"] != "?" for r in notloaded), "a rule not loaded without a reason")
    check({r["id"] for r in loaded} <= set(index), "sigma check names a rule INDEX.tsv does not list")
    # A folder of rules with links looping back to it ends at once (links to folders are not followed).
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(4):
            os.symlink(tmp, os.path.join(tmp, "loop%d" % k))
        with open(os.path.join(tmp, "r.yml"), "w") as f:
            f.write("title: t\nlogsource:\n  category: process_creation\ndetection:\n  s:\n    Image: x\n  condition: s\n")
        lp = subprocess.run([wm, "sigma", "check", "--format", "jsonl", tmp], capture_output=True, text=True, timeout=60)
        lr = records(lp.stdout)
        check(lp.returncode == 0 and len(lr) == 1 and lr[0]["state"] == "loaded",
              "a rule folder with looping links: exit %d, %d rows" % (lp.returncode, len(lr)))
    # Regression data: each rule's own log, matched as often as SigmaHQ says.
    reg = os.path.join(sig, "regression_data")
    tested = set()
    for dp, _, fns in sorted(os.walk(reg)):
        if "info.yml" not in fns:
            continue
        info = yaml.safe_load(open(os.path.join(dp, "info.yml")))
        rid = info["rule_metadata"][0]["id"]
        rule = index.get(rid)
        check(rule is not None, "%s: rule %s is not in INDEX.tsv" % (dp, rid))
        if not rule:
            continue
        for t in info.get("regression_tests_info", []):
            if t.get("type") != "evtx":
                continue
            log = os.path.join(sig, t["path"])
            m = subprocess.run([wm, "evtx", "--format", "jsonl", "--sigma", os.path.join(sig, rule["path"]), log],
                               capture_output=True, text=True)
            hits = [r for r in records(m.stdout) if r.get("artifact") == "sigma.match" and r.get("rule_id") == rid]
            want = int(t.get("match_count", 1))
            check(len(hits) == want, "%s (%s): %d match(es) in its regression log, SigmaHQ says %d"
                  % (rule["title"], rule["path"], len(hits), want))
            check(all(h.get("author") for h in hits), "%s: a match without the rule's author" % rule["path"])
            tested.add(rid)
    # WMI-Activity rules read UserData fields: they match the real corpus logs.
    corpus = os.path.join(shared, "corpus", "evtx")
    wmi_rules = os.path.join(sig, "rules", "windows", "builtin", "wmi")
    clear = os.path.join(corpus, "wmi-activity_5858_cleareventlog_sigma.evtx")
    home = os.path.join(corpus, "wmi-activity_win10_5857-5861_tugix456.evtx")
    if os.path.isdir(wmi_rules) and os.path.exists(clear) and os.path.exists(home):
        m = records(subprocess.run([wm, "evtx", "--format", "jsonl", "--sigma", wmi_rules, clear],
                                   capture_output=True, text=True).stdout)
        check([(r["event_id"], r["channel"]) for r in m] == [(5858, "Microsoft-Windows-WMI-Activity/Operational")],
              "the WMI-Activity ClearEventLog rule on the real 5858 log: %s" % [r.get("title") for r in m])
        m = records(subprocess.run([wm, "evtx", "--format", "jsonl", "--sigma", wmi_rules, home],
                                   capture_output=True, text=True).stdout)
        check(m == [], "the WMI-Activity rules on a home PC's log (only the benign SCM 5861): %s"
              % [r.get("title") for r in m])
    else:
        print("skipped: the corpus WMI-Activity logs or the wmi rules are not there")
    # In the hunt, a Sigma finding joins the case of the event's WMI record and keeps its author.
    sysmon = os.path.join(corpus, "sysmon_19_20_21_1_CommandLineEventConsumer.evtx")
    if os.path.exists(sysmon):
        h = records(subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", "--sigma",
                                    os.path.join(sig, "rules"), sysmon], capture_output=True, text=True).stdout)
        cases = {r["case_id"]: r for r in h if r.get("artifact") == "hunt.case"}
        sf = [r for r in h if r.get("artifact") == "hunt.finding" and r.get("rule", "").startswith("SIGMA-")]
        check(sf and all(cases.get(f["case_id"], {}).get("kind") == "subscription" for f in sf),
              "hunt --sigma: the Sigma findings on Sysmon 19/20/21 do not join the subscription's case")
        check(all(" by " in f.get("why", "") for f in sf), "hunt --sigma: a Sigma finding without its author")
        sub = [c for c in cases.values() if c["kind"] == "subscription"]
        check(sub and any(r.startswith("SIGMA-") for r in sub[0].get("rules", [])),
              "hunt --sigma: the subscription case does not list the Sigma rule among its reasons")
    # wmi_event rules also read a repository's subscriptions (no Sysmon event): the real Win10 one.
    repo = os.path.join(shared, "corpus", "cim", "DFIRArtifactMuseum", "Win10_APTSimulatorVM")
    if os.path.isdir(repo):
        h = records(subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", "--sigma",
                                    os.path.join(sig, "rules"), repo], capture_output=True, text=True).stdout)
        cases = {r["case_id"]: r for r in h if r.get("artifact") == "hunt.case"}
        sf = [r for r in h if r.get("artifact") == "hunt.finding" and r.get("rule", "").startswith("SIGMA-")]
        kill = [f for f in sf if "ProcessStartTrigger" in cases.get(f["case_id"], {}).get("title", "")]
        check(kill and all("applied to the subscription read from the repository" in f["why"] for f in kill),
              "hunt --sigma on a repository: the KillProcess subscription gets no wmi_event finding said as applied")
        check(all(f["evidence_artifact"] == "wmi.subscription" for f in sf), "hunt --sigma on a repository: other findings")
    without = sorted(r["path"] for i, r in index.items() if i not in tested)
    print("%d rule(s) have regression data and were matched against it; %d have none, e.g. %s"
          % (len(tested), len(without), without[:3]))
    check(len(tested) >= 20, "fewer than 20 rules with regression data were tested")
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
