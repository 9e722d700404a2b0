#!/usr/bin/env python3
"""Data-driven MOF tests (like jq's tests): each tests/mof/cases/NAME.json
names a MOF (NAME.mof unless "source" says otherwise), optional CLI
"args", an "encode" to re-encode the source into (utf-8-bom, utf-16le[-bom],
utf-16be[-bom]), the exit code, substrings stderr must hold, and the
records `wmihunt mof --format jsonl` must print: the same number, in order,
each matching the expected object on every key it gives (recursively;
lists must have the same length; "<absent>" means the key must be absent).
usage: run_cases.py WMIHUNT CASES_DIR TMP_DIR"""
import json, os, subprocess, sys

def match(exp, act, path):
    if exp == "<absent>":
        return ["%s: should be absent" % path] if act is not None else []
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return ["%s: expected an object, got %r" % (path, act)]
        errs = []
        for k, v in exp.items():
            if v == "<absent>":
                if k in act: errs.append("%s.%s: should be absent, is %r" % (path, k, act[k]))
            elif k not in act:
                errs.append("%s.%s: missing" % (path, k))
            else:
                errs += match(v, act[k], path + "." + k)
        return errs
    if isinstance(exp, list):
        if not isinstance(act, list) or len(act) != len(exp):
            return ["%s: expected %d items, got %r" % (path, len(exp), act)]
        return sum((match(e, a, "%s[%d]" % (path, i)) for i, (e, a) in enumerate(zip(exp, act))), [])
    if isinstance(exp, float) or isinstance(act, float):
        ok = isinstance(act, (int, float)) and not isinstance(act, bool) and abs(act - exp) <= abs(exp) * 1e-12
        return [] if ok else ["%s: expected %r, got %r" % (path, exp, act)]
    if type(exp) != type(act) or exp != act:
        return ["%s: expected %r, got %r" % (path, exp, act)]
    return []

def encode(data, enc):
    text = data.decode("utf-8")
    return {"utf-8-bom": b"\xef\xbb\xbf" + data, "utf-16le-bom": b"\xff\xfe" + text.encode("utf-16-le"),
            "utf-16le": text.encode("utf-16-le"), "utf-16be-bom": b"\xfe\xff" + text.encode("utf-16-be"),
            "utf-16be": text.encode("utf-16-be")}[enc]

def main():
    cli, cases, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    failed = n = 0
    for name in sorted(os.listdir(cases)):
        if not name.endswith(".json"): continue
        n += 1
        exp = json.load(open(os.path.join(cases, name), encoding="utf-8"))
        src = os.path.join(cases, exp.get("source", name[:-5] + ".mof"))
        if "encode" in exp:
            path = os.path.join(tmp, name[:-5] + ".mof")
            with open(path, "wb") as f: f.write(encode(open(src, "rb").read(), exp["encode"]))
            src = path
        p = subprocess.run([cli, "mof", "--format", "jsonl"] + exp.get("args", []) + [src], capture_output=True, timeout=60)
        errs = []
        if p.returncode != exp.get("exit", 0):
            errs.append("exit %d, expected %d" % (p.returncode, exp.get("exit", 0)))
        err = p.stderr.decode("utf-8", "replace")
        errs += ["stderr lacks %r" % s for s in exp.get("stderr", []) if s not in err]
        try:
            recs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
        except ValueError as e:
            recs, errs = [], errs + ["output is not JSON lines: %s" % e]
        errs += match(exp["records"], recs, "records")
        if errs:
            failed += 1
            print("FAIL %s\n  %s\n  stderr: %s" % (name, "\n  ".join(errs[:20]), err.strip()[:2000]))
        else:
            print("ok   %s (%d records)" % (name, len(recs)))
    print("%d case(s), %d failed" % (n, failed))
    return 1 if failed or not n else 0

if __name__ == "__main__":
    sys.exit(main())
