#!/usr/bin/env python3
"""Disk images as evidence (issue 13, points 2 and 3): `wmihunt hunt` gives
the same cases on a plain tree and on that tree inside an NTFS volume in a
raw image (MBR and GPT), an E01, a VHDX, a VHD, a VMDK and a QCOW2, and on
the volume alone; a MOF hidden in an alternate data stream is found;
`triage` names the volume each file came from. Hostile images (a truncated
E01, an MBR entry past the image's end, a directory loop in the MFT, a
BitLocker volume, garbage) each end with a diagnostic, the rest is read,
the evidence is not changed and nothing stays in TMPDIR.

Trees: tests/gen/casegen.py (our writers) and, when ../shared is there,
the shared corpus's Windows 10 repository (fox-it dissect.cim) with its
real Sysmon 19/20/21 log. Volumes are made with mkntfs and filled with
tests/gen/wh-ntfstree (libntfs-3g); tables with sfdisk; images with
qemu-img and ewfacquire (Debian). Says "skipped: ..." when a tool is not
installed.

Shadow copies: no public image with real snapshots could be obtained (the
one dfvfs keeps, test_data/vss.raw, is not in its published snapshot), so
tests/gen/vssgen.py writes one store into a volume after the libyal format
documentation (the snapshot holds a subscription the live repository no
longer has: one case, removed, with the snapshot as evidence); and, as
libvshadow's own tests do, an image given in WMIHUNT_VSS_IMAGE is read with
--vss when set (its snapshots must be listed), skipped otherwise; a volume
without snapshots must say so.

usage: test_image.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH SHARED"""
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish, records  # noqa: E402

# Case ids hash content, or the path from the Windows folders down, never
# the place the files were copied to (as for archives).
CONTENT_KEYED = {"subscription", "filter", "consumer", "autorecover", "stored_payload", "provider", "mof", "event",
                 "wmi_execution"}
MiB = 1 << 20


def run(wm, args, tmp, timeout=600):
    env = dict(os.environ, TMPDIR=tmp)
    env.pop("WMIHUNT_ARCHIVE_LIMITS", None)
    return subprocess.run([wm] + args, capture_output=True, text=True, env=env, timeout=timeout)


def cases(recs):
    return sorted((r["kind"], r["severity"], r["state"]) for r in recs if r["artifact"] == "hunt.case")


def ids(recs):
    return sorted(r["case_id"] for r in recs if r["artifact"] == "hunt.case" and r["kind"] in CONTENT_KEYED)


def tree_size(tree):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs)


def make_volume(ntfstree, tree, out, extra=()):
    """An NTFS volume image holding tree; False when mkntfs is missing."""
    size = max(16 * MiB, (tree_size(tree) * 3 // 2 + 8 * MiB) // MiB * MiB)
    with open(out, "wb") as f:
        f.truncate(size)
    subprocess.run(["mkntfs", "-F", "-Q", "-q", "-s", "512", "-p", "2048", "-H", "255", "-S", "63", out],
                   check=True, capture_output=True)
    subprocess.run([ntfstree, out, tree] + list(extra), check=True)
    return size


def make_disk(vol, out, label):
    """vol at sector 2048 of a disk with an MBR (label dos) or a GPT."""
    vsize = os.path.getsize(vol)
    with open(out, "wb") as f:
        f.truncate(vsize + 2 * MiB)
    typ = "type=7" if label == "dos" else "type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
    subprocess.run(["sfdisk", "-q", out], input="label: %s\nstart=2048, size=%d, %s\n" % (label, vsize // 512, typ),
                   text=True, check=True, capture_output=True)
    with open(vol, "rb") as src, open(out, "r+b") as dst:
        dst.seek(MiB)
        shutil.copyfileobj(src, dst, MiB)


def snapshot(root):
    snap = {}
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            st = os.lstat(os.path.join(dp, n))
            snap[os.path.relpath(os.path.join(dp, n), root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return snap


def main(argv):
    if len(argv) != 6:
        print(__doc__)
        return 64
    wm, gen, src, scratch, shared = [os.path.abspath(a) for a in argv[1:6]]
    ntfstree = os.path.join(gen, "wh-ntfstree")
    missing = [t for t in ("mkntfs", "sfdisk", "qemu-img") if not shutil.which(t)]
    if not os.path.exists(ntfstree):
        missing.append("wh-ntfstree (ntfs-3g-dev)")
    probe = run(wm, ["triage", os.devnull], scratch if os.path.isdir(scratch) else "/tmp")
    if missing:
        print("skipped: %s not installed (scripts/install-deps.sh)" % ", ".join(missing))
        return 0
    scratch = os.path.join(scratch, "run-%d" % os.getpid())
    shutil.rmtree(scratch, ignore_errors=True)
    ev, tmp, trees = (os.path.join(scratch, n) for n in ("evidence", "tmp", "trees"))
    for d in (ev, tmp, trees):
        os.makedirs(d)
    del probe

    # ---- the trees ----
    casegen = os.path.join(src, "gen", "casegen.py")
    life = os.path.join(trees, "lifecycle")
    subprocess.run([sys.executable, casegen, "--gen", gen, "lifecycle", life], check=True, stdout=subprocess.DEVNULL)
    life_c = os.path.join(life, "C")
    hidden = os.path.join(trees, "hidden.mof")
    with open(hidden, "w") as f:  # what an attacker hides in a stream of an ordinary file
        f.write('#pragma namespace("\\\\\\\\.\\\\root\\\\subscription")\n'
                'instance of __EventFilter as $F { Name = "StreamFilter"; EventNamespace = "root\\\\cimv2"; '
                'QueryLanguage = "WQL"; Query = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE '
                'TargetInstance ISA \'Win32_PerfFormattedData_PerfOS_System\'"; };\n'
                'instance of CommandLineEventConsumer as $C { Name = "StreamConsumer"; '
                'CommandLineTemplate = "powershell.exe -nop -w hidden -enc SQBFAFgA"; };\n'
                'instance of __FilterToConsumerBinding { Filter = $F; Consumer = $C; };\n')
    corpus = os.path.join(shared, "corpus")
    win10 = os.path.join(corpus, "cim", "fox-it_dissect.cim")
    sysmon = os.path.join(corpus, "evtx", "sysmon_19_20_21_1_CommandLineEventConsumer.evtx")
    real = None
    if os.path.isdir(win10) and os.path.isfile(sysmon):
        real = os.path.join(trees, "real")
        repo = os.path.join(real, "Windows", "System32", "wbem", "Repository")
        logs = os.path.join(real, "Windows", "System32", "winevt", "Logs")
        os.makedirs(repo)
        os.makedirs(logs)
        for n in os.listdir(win10):
            shutil.copyfile(os.path.join(win10, n), os.path.join(repo, n))
        shutil.copyfile(sysmon, os.path.join(logs, "Microsoft-Windows-Sysmon%4Operational.evtx"))
    else:
        print("skipped: the shared corpus (../shared/corpus) is not there: no image of real evidence")

    # ---- the images ----
    vol = os.path.join(ev, "volume.img")
    make_volume(ntfstree, life_c, vol)
    disk = os.path.join(ev, "disk.raw")
    make_disk(vol, disk, "dos")
    images = {"volume": "volume.img", "mbr": "disk.raw"}
    make_disk(vol, os.path.join(ev, "gpt.raw"), "gpt")
    images["gpt"] = "gpt.raw"
    for fmt, ext in (("vhdx", "vhdx"), ("vpc", "vhd"), ("vmdk", "vmdk"), ("qcow2", "qcow2")):
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", fmt, disk, os.path.join(ev, "disk." + ext)],
                       check=True)
        images[ext] = "disk." + ext
    if shutil.which("ewfacquire"):
        subprocess.run(["ewfacquire", "-u", "-q", "-t", os.path.join(ev, "disk"), "-f", "encase6", "-c",
                        "deflate:fast", disk], check=True, capture_output=True)
        images["e01"] = "disk.E01"
    else:
        print("skipped: ewfacquire (ewf-tools) is not installed: no E01 case")
    # The same volume with a MOF in a stream of an ordinary file.
    ads_tree = os.path.join(trees, "ads")
    shutil.copytree(life_c, ads_tree)
    os.makedirs(os.path.join(ads_tree, "Users", "Public", "Documents"), exist_ok=True)
    with open(os.path.join(ads_tree, "Users", "Public", "Documents", "desktop.ini"), "w") as f:
        f.write("[.ShellClassInfo]\r\n")
    ads_vol = os.path.join(ev, "ads.img")
    make_volume(ntfstree, ads_tree, ads_vol, ["--ads", "Users/Public/Documents/desktop.ini:cfg.mof=" + hidden])
    if real:
        real_vol = os.path.join(ev, "real.img")
        make_volume(ntfstree, real, real_vol)
        real_disk = os.path.join(ev, "real.vhdx")
        make_disk(real_vol, os.path.join(trees, "real.raw"), "gpt")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", os.path.join(trees, "real.raw"), real_disk],
                       check=True)

    # Hostile images.
    hostile = {}
    with open(os.path.join(ev, "disk.E01"), "rb") if "e01" in images else open(disk, "rb") as f:
        head = f.read(150000)
    with open(os.path.join(ev, "cut.E01"), "wb") as f:
        f.write(head)
    hostile["cut.E01"] = "cut short"
    b = bytearray(open(disk, "rb").read())
    b[446 + 16:446 + 32] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 7, b"\0\0\0", len(b) // 512 + 100, 4096)
    with open(os.path.join(ev, "past.raw"), "wb") as f:
        f.write(b)
    hostile["past.raw"] = "past the image's end"
    loop_vol = os.path.join(ev, "loop.img")
    make_volume(ntfstree, life_c, loop_vol, ["--loop", "Windows/System32"])
    hostile["loop.img"] = "loop in the directory tree"
    bde = bytearray(b)
    bde[446 + 16:446 + 32] = bytes(16)
    bde[MiB + 3:MiB + 11] = b"-FVE-FS-"
    with open(os.path.join(ev, "bitlocker.raw"), "wb") as f:
        f.write(bde)
    hostile["bitlocker.raw"] = "BitLocker"
    garbage = bytearray(os.urandom(4 * MiB))
    garbage[510:512] = b"\x55\xaa"
    garbage[446:510] = bytes(64)
    garbage[446:462] = struct.pack("<B3sB3sII", 0x80, b"\0\0\0", 7, b"\0\0\0", 1, 8000)
    with open(os.path.join(ev, "garbage.raw"), "wb") as f:
        f.write(garbage)
    hostile["garbage.raw"] = "no NTFS volume"
    before = snapshot(ev)

    os.chdir(ev)

    def hunt(path, extra=()):
        p = run(wm, ["hunt", "--no-progress", "--format", "jsonl"] + list(extra) + [path], tmp)
        return p, records(p.stdout)

    plain, precs = hunt(life_c)
    check(plain.returncode == 1, "plain tree: exit %d, expected 1: %s" % (plain.returncode, plain.stderr[-300:]))
    check(len(cases(precs)) >= 2, "plain tree: %d cases" % len(cases(precs)))
    for kind, name in images.items():
        p, recs = hunt(name)
        check(p.returncode == plain.returncode, "%s: exit %d, plain %d: %s" % (kind, p.returncode, plain.returncode,
                                                                            p.stderr[-400:]))
        check(cases(recs) == cases(precs), "%s: cases differ from the plain tree:\n  %s\n  %s"
              % (kind, cases(recs), cases(precs)))
        check(ids(recs) == ids(precs), "%s: case ids differ: %s" % (kind, sorted(set(ids(recs)) ^ set(ids(precs)))))
        srcs = {r["source"] for r in recs if r["artifact"] == "hunt.file"}
        vol_name = "vol0" if kind == "volume" else "vol1"
        check(any(s.startswith(name + "!" + vol_name + "/Windows/") for s in srcs),
              "%s: files not named IMAGE!%s/...: %s" % (kind, vol_name, sorted(srcs)[:3]))
        check(tmp not in p.stdout and "wmihunt-" not in p.stdout, "%s: the private folder shows in the output" % kind)
        check(os.listdir(tmp) == [], "%s: left in TMPDIR: %s" % (kind, os.listdir(tmp)))

    # The stream: the hidden MOF is read and named file:stream.
    p, recs = hunt("ads.img")
    titles = [r["title"] for r in recs if r["artifact"] == "hunt.case"]
    check(any("StreamFilter" in t for t in titles), "ads.img: the MOF in a stream gave no case: %s" % titles)
    check(any(r.get("source", "").endswith("desktop.ini:cfg.mof") for r in recs),
          "ads.img: nothing named desktop.ini:cfg.mof")
    check(len(cases(recs)) > len(cases(precs)), "ads.img: no more cases than the plain tree")
    check(any(r["artifact"] == "hunt.finding" and r.get("rule") == "WH-MOF-049" for r in recs),
          "ads.img: the MOF in a stream is not called hidden (WH-MOF-049)")
    check(not any(r["artifact"] == "hunt.finding" and r.get("rule") == "WH-MOF-049" for r in precs),
          "plain tree: WH-MOF-049 fires without a stream")

    # triage: each file's volume.
    t = run(wm, ["triage", "--format", "jsonl", "disk.raw"], tmp)
    arts = [r for r in records(t.stdout) if r["artifact"] == "triage.artifact"]
    check(t.returncode == 0 and arts and all(r["path"].startswith("disk.raw!vol1/") for r in arts),
          "triage disk.raw: exit %d, paths %s" % (t.returncode, [r["path"] for r in arts][:3]))
    check("NTFS volume at byte 1048576" in run(wm, ["triage", "-v", "disk.raw"], tmp).stderr,
          "triage -v disk.raw: the volume and its offset are not said")

    if real:
        rp, rrecs = hunt(real)
        ip, irecs = hunt("real.vhdx")
        check(rp.returncode == ip.returncode and cases(rrecs) == cases(irecs) and ids(rrecs) == ids(irecs),
              "real evidence: the VHDX gives other cases than the tree:\n  %s\n  %s" % (cases(irecs), cases(rrecs)))
        check(len(cases(rrecs)) >= 1, "real evidence: no case on the Windows 10 repository and Sysmon log")

    # ---- hostile images ----
    for name, said in hostile.items():
        p, recs = hunt(name)
        check(p.returncode in (1, 2, 4) and said.lower() in p.stderr.lower(),
              "%s: exit %d, expected a diagnostic with %r: %s" % (name, p.returncode, said, p.stderr[-500:]))
        check(name + "!" in p.stderr or name + " " in p.stderr or name + ":" in p.stderr,
              "%s: the diagnostic does not name the image" % name)
        check(os.listdir(tmp) == [], "%s: left in TMPDIR: %s" % (name, os.listdir(tmp)))
    # The rest is read: the second volume past the end does not stop the first.
    p, recs = hunt("past.raw")
    check(cases(recs) == cases(precs), "past.raw: the volume inside the image is not read as the plain tree")
    # The loop is not followed, and what is not below it is read.
    p, recs = hunt("loop.img")
    check(ids(recs) == ids(precs), "loop.img: cases differ from the plain tree")
    check("bdemount" in hunt("bitlocker.raw")[0].stderr, "bitlocker.raw: no word on what to do")

    # ---- the reader dies (a crash in the image libraries, simulated) ----
    env = dict(os.environ, TMPDIR=tmp, WMIHUNT_TEST_READER_CRASH="after-copy")
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", "disk.raw"], capture_output=True,
                       text=True, env=env, timeout=300)
    recs = records(p.stdout)
    check(p.returncode == 4 and "died on this image (signal 11: a crash)" in p.stderr,
          "a crashing reader: exit %d, %s" % (p.returncode, p.stderr[-400:]))
    check(cases(recs) == cases(precs), "a crashing reader: what it copied is not read as the plain tree")
    check(os.listdir(tmp) == [], "a crashing reader: left in TMPDIR: %s" % os.listdir(tmp))

    # ... or hangs: stopped after the idle bound, what it copied is read.
    env = dict(os.environ, TMPDIR=tmp, WMIHUNT_TEST_READER_CRASH="hang", WMIHUNT_ARCHIVE_LIMITS="idle=2")
    p = subprocess.run([wm, "hunt", "--no-progress", "--format", "jsonl", "disk.raw"], capture_output=True,
                       text=True, env=env, timeout=120)
    check(p.returncode == 4 and "made no progress for 2 s" in p.stderr,
          "a hanging reader: exit %d, %s" % (p.returncode, p.stderr[-400:]))
    check(cases(records(p.stdout)) == cases(precs), "a hanging reader: what it copied is not read")
    check(os.listdir(tmp) == [], "a hanging reader: left in TMPDIR: %s" % os.listdir(tmp))

    # ---- shadow copies ----
    # The snapshot holds another subscription (WS-HR-12's repository of the
    # twohosts story) that the live repository no longer has.
    two = os.path.join(trees, "two")
    subprocess.run([sys.executable, casegen, "--gen", gen, "twohosts", two], check=True, stdout=subprocess.DEVNULL)
    old_tree = os.path.join(trees, "old")
    shutil.copytree(life_c, old_tree)
    repo_rel = os.path.join("Windows", "System32", "wbem", "Repository")
    shutil.rmtree(os.path.join(old_tree, repo_rel))
    shutil.copytree(os.path.join(two, "WS-HR-12", "C", repo_rel), os.path.join(old_tree, repo_rel))
    size = max(tree_size(old_tree), tree_size(life_c))
    old_vol, new_vol = os.path.join(trees, "old.img"), os.path.join(trees, "new.img")
    for v, t in ((old_vol, old_tree), (new_vol, life_c)):
        with open(v, "wb") as f:  # the same size for both, room at the end for the store
            f.truncate(max(16 * MiB, (size * 3 // 2 + 8 * MiB) // MiB * MiB))
        subprocess.run(["mkntfs", "-F", "-Q", "-q", "-s", "512", "-p", "2048", "-H", "255", "-S", "63", v],
                       check=True, capture_output=True)
        subprocess.run([ntfstree, v, t], check=True)
    taken = 133596864000000000  # 2024-05-09T00:00:00Z, after both stories
    vss_vol = os.path.join(trees, "vss-volume.img")
    subprocess.run([sys.executable, os.path.join(src, "gen", "vssgen.py"), old_vol, new_vol, vss_vol, "--time",
                    str(taken)], check=True, stdout=subprocess.DEVNULL)
    make_disk(vss_vol, os.path.join(ev, "vss.raw"), "gpt")
    before = snapshot(ev)
    t = run(wm, ["triage", "-v", "--vss", "vss.raw"], tmp)
    check("1 volume shadow copy found" in t.stderr and "vss.raw!vol1@vss1" in t.stderr,
          "triage --vss: the snapshot is not listed: %s" % t.stderr[-600:])
    check(any(r["artifact"] == "triage.artifact" and r["path"].startswith("vss.raw!vol1@vss1/Windows/")
              for r in records(run(wm, ["triage", "--vss", "--format", "jsonl", "vss.raw"], tmp).stdout)),
          "triage --vss: no artifact named vss.raw!vol1@vss1/...")
    p, recs = hunt("vss.raw")
    check(cases(recs) == cases(precs) and ids(recs) == ids(precs), "vss.raw without --vss: not the live tree's cases")
    p, recs = hunt("vss.raw", ["--vss"])
    hr = [r for r in recs if r["artifact"] == "hunt.case" and "HRSyncFilter" in r["title"]]
    check(len(hr) == 1 and hr[0]["state"] == "removed",
          "--vss: the subscription only the snapshot holds is not one removed case: %s"
          % [(r["title"], r["state"]) for r in hr])
    if hr:
        text = json.dumps(hr[0])
        check("still in the repository when shadow copy 1 (taken 2024-05-09T00:00:00" in text,
              "--vss: the case's life does not say the snapshot held it: %s" % text[:800])
        check("vss.raw!vol1@vss1/Windows/System32/wbem/Repository" in text,
              "--vss: the case's evidence does not name the snapshot's repository")
    check(set(ids(precs)) <= set(ids(recs)) and len(cases(recs)) == len(cases(precs)) + 1,
          "--vss: the live cases are not all there, or more than the one removed case is added")
    live = [r for r in recs if r["artifact"] == "hunt.case" and "PerfMonTimer" in r["title"]]
    check(len(live) == 1 and live[0]["state"] == "live", "--vss: the live subscription is not live")
    host = [r for r in recs if r["artifact"] == "hunt.host"]
    vols = host[0].get("volumes", []) if host else []
    check([v["folder"] for v in vols] == ["vol1", "vol1@vss1"] and vols[1]["snapshot"] == 1
          and vols[1]["snapshot_id"] and vols[1]["snapshot_time"].startswith("2024-05-09T00:00:00"),
          "--vss: hunt.host.volumes: %s" % vols)
    page = os.path.join(scratch, "vss.html")
    run(wm, ["hunt", "--no-progress", "--vss", "--html", page, "vss.raw"], tmp)
    html = open(page, encoding="utf-8").read() if os.path.exists(page) else ""
    check("Volumes:" in html and "vol1@vss1: shadow copy 1 {" in html, "--vss --html: the page does not list the volumes")
    snapfiles = [r for r in recs if r["artifact"] == "hunt.file" and "@vss1/" in r["source"]]
    check(snapfiles and all(r["volume"] == "vol1@vss1" and r["snapshot_id"] == vols[1]["snapshot_id"] and
                            r["snapshot_time"].startswith("2024-05-09T00:00:00") for r in snapfiles),
          "--vss: the snapshot's files do not carry its id and time")
    check(os.listdir(tmp) == [], "vss.raw: left in TMPDIR: %s" % os.listdir(tmp))
    p = run(wm, ["triage", "-v", "--vss", "disk.raw"], tmp)
    check("no volume shadow copies" in p.stderr, "--vss on a volume without snapshots says nothing: %s" % p.stderr[-300:])
    vss = os.environ.get("WMIHUNT_VSS_IMAGE")
    if vss and os.path.isfile(vss):
        p = run(wm, ["triage", "-v", "--vss", vss], tmp)
        check("shadow cop" in p.stderr and "@vss1" in p.stderr, "WMIHUNT_VSS_IMAGE: no snapshot read: %s"
              % p.stderr[-500:])
    else:
        print("skipped: no image with real shadow copies (set WMIHUNT_VSS_IMAGE to one)")

    check(snapshot(ev) == before, "the evidence folder changed")
    check(os.listdir(tmp) == [], "left in TMPDIR at the end: %s" % os.listdir(tmp))
    shutil.rmtree(scratch, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
