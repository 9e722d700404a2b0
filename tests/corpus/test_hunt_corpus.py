#!/usr/bin/env python3
"""`wmihunt hunt` on the real evidence in ../shared/corpus (issue 5 acceptance).

Each expectation below comes from the corpus's own EXPECTED.md files, not
from our output:
- cim/EXPECTED.md: the two Win10 APTSimulator repositories hold the
  ProcessStartTrigger -> ActiveScriptEventConsumer "KillProcess" subscription
  (VBScript); all three complete repositories hold Windows' SCM Event Log
  triple, which is known-good and must not be a finding.
- mof/EXPECTED.md: the malicious files' subscriptions (AtomicRedTeam,
  Kingsguard-1..3, consPCSV2 in the markdown-damaged one); the decoupled
  consumer sample is benign and may be at most informational.
- evtx/EXPECTED.md: which logs hold WMI persistence, wmic remote execution,
  WmiPrvSE children, explicit credentials used by wmic, and which hold only
  the benign SCM binding or a module manifest listing WMI cmdlets.

usage: test_hunt_corpus.py WMIHUNT CORPUS_DIR
Last line: "N passed, M failed" (or "skipped: ..." without the corpus)."""
import json, os, subprocess, sys

SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402



def hunt(w, path):
    p = subprocess.run([w, "hunt", "--no-progress", "--fail-on", "critical", "--format", "jsonl", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return [r for r in recs if r["artifact"] == "hunt.finding"], p.returncode, p.stderr.decode("utf-8", "replace")


def top(fs):
    return max((SEV[f["severity"]] for f in fs), default=-1)


def show(fs):
    return "; ".join("%s %s %s" % (f["rule"], f["severity"], (f["evidence"] or "")[:80]) for f in fs[:12])


def main():
    w, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print("skipped: no corpus at %s" % corpus)
        return 0

    # --- CIM repositories ---
    cim = os.path.join(corpus, "cim")
    for name, malicious in (("DFIRArtifactMuseum/Win10_APTSimulatorVM", True),
                            ("DFIRArtifactMuseum/Win10_APTSimulatorVM_Defender", True),
                            ("fox-it_dissect.cim", False)):
        d = os.path.join(cim, name)
        if not os.path.isdir(d):
            print("not in the corpus, not checked: %s" % d)
            continue
        fs, rc, _ = hunt(w, d)
        scm = [f for f in fs if "SCM Event Log" in (f["evidence"] or "")]
        check(not scm, "%s: the SCM Event Log defaults are not findings (%s)" % (name, show(scm)))
        if malicious:
            kill = [f for f in fs if f["severity"] == "high" and "KillProcess" in (f["evidence"] or "")
                    and "T1546.003" in (f["attack"] or "")]
            check(kill, "%s: the ActiveScript KillProcess subscription is high, T1546.003 (%s)" % (name, show(fs)))
            # EXPECTED: the VBScript terminates the triggering process; the finding carries the script.
            check(any("Terminate" in (f.get("detail") or "") and "WbemScripting" in (f.get("detail") or "") for f in kill),
                  "%s: the high finding carries its script" % name)
            other = [f for f in fs if "KillProcess" not in (f["evidence"] or "")
                     and "ProcessStartTrigger" not in (f["evidence"] or "") and f["severity"] != "info"]
            check(not other, "%s: nothing but the KillProcess subscription above info (%s)" % (name, show(other)))
        else:
            check(top(fs) < SEV["low"], "%s: a clean repository has nothing above info (%s)" % (name, show(fs)))

    # --- MOF files ---
    mof = os.path.join(corpus, "mof")
    for rel, names in (("malicious/atomic-T1546.003.mof", ["AtomicRedTeam"]),
                       ("malicious/kingsguard-test.mof", ["Kingsguard-1", "Kingsguard-2", "Kingsguard-3"]),
                       ("malformed/explorezone-nullevt.mof", ["consPCSV2"])):
        p = os.path.join(mof, rel)
        if not os.path.isfile(p):
            print("not in the corpus, not checked: %s" % p)
            continue
        fs, rc, _ = hunt(w, p)
        for n in names:
            hit = [f for f in fs if f["severity"] in ("high", "critical") and n in (f["evidence"] or "")]
            check(hit, "%s: %s reported high (%s)" % (rel, n, show(fs)))
    p = os.path.join(mof, "benign/classic-decoupled-event_consumer-ProvReg.mof")
    if os.path.isfile(p):
        fs, rc, _ = hunt(w, p)
        check(top(fs) <= SEV["info"], "decoupled consumer sample at most informational (%s)" % show(fs))

    # --- event logs: (file, rule family the finding must carry, least severity, words in the evidence) ---
    ev = os.path.join(corpus, "evtx")
    cases = [
        ("sysmon_19_20_21_1_CommandLineEventConsumer.evtx", "T1546.003", "high", "BotConsumer23"),
        ("sysmon_20_21_1_wmighost_scrcons.evtx", "T1546.003", "high", "ProbeScriptFint"),
        ("sysmon_1_wmic_node_process_call_create_sigma.evtx", "T1047", "medium", "WMIC"),
        ("sysmon_1_wmic_node_process_call_create_vss.evtx", "T1047", "medium", ""),
        ("sysmon_1_wmic_process_call_create_sigma.evtx", "T1047", "medium", "WMIC"),
        ("sysmon_1_wmiexec_impacket_wmiprvse_parent.evtx", "T1047", "high", "WmiPrvSE"),
        ("sysmon_1_wmiprvse_spawns_powershell_wmimplant.evtx", "T1047", "high", "powershell"),
        ("security_4688_wmiexec_smb_global.evtx", "T1047", "high", "WmiPrvSE"),
        ("security_4688_wmic_4648.evtx", "T1047", "high", "administrator"),
        ("sysmon_1_wmiprvse_unknown_parent_remote_registry.evtx", "T1047", "medium", "WmiPrvSE"),
        ("sysmon_1_wsmprovhost_parent.evtx", "", "medium", "wsmprovhost"),
        ("sysmon_1_wmic_wmiprvse_edrtestingscript.evtx", "T1047", "medium", ""),
        ("wmi-activity_5858_cleareventlog_sigma.evtx", "T1047", "medium", ""),
        ("powershell_4103_4104_get-wmiobject_vss.evtx", "T1047", "low", ""),
    ]
    for f, attack, least, word in cases:
        p = os.path.join(ev, f)
        if not os.path.isfile(p):
            print("not in the corpus, not checked: %s" % p)
            continue
        fs, rc, _ = hunt(w, p)
        hit = [x for x in fs if SEV[x["severity"]] >= SEV[least] and attack in (x["attack"] or "")
               and word.lower() in (x["evidence"] or "").lower() + (x["why"] or "").lower()]
        check(hit, "%s: a %s+ finding (%s, '%s') (%s)" % (f, least, attack, word, show(fs)))
    for f, why in (("wmi-activity_win10_5857-5861_tugix456.evtx", "only the benign SCM binding and temporary consumers"),
                   ("powershell_4104_wmi_cmdlets_lsassy.evtx", "the only WMI cmdlet mentions are a module manifest")):
        p = os.path.join(ev, f)
        if os.path.isfile(p):
            fs, rc, _ = hunt(w, p)
            check(top(fs) <= SEV["info"], "%s: at most informational, %s (%s)" % (f, why, show(fs)))

    # --- the whole corpus in one run: a summary, no crash ---
    p = subprocess.run([w, "hunt", "--no-progress", corpus], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=900)
    out = p.stdout.decode("utf-8", "replace")
    check(p.returncode in (0, 1, 3), "whole corpus: exit %d is a result, not a crash" % p.returncode)
    check(out.startswith("wmihunt hunt: ") and " finding(s)" in out.splitlines()[0],
          "whole corpus: the report starts with its summary line")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
