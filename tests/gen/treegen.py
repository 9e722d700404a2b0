#!/usr/bin/env python3
"""treegen: writes collection trees in the layouts wmihunt triage knows, for
its tests. Files are small placeholders unless --cimgen/--evtxgen are given,
then the repository and the WMI-Activity log are real writer output.

usage: treegen.py [--cimgen BIN] [--evtxgen BIN] LAYOUT OUTDIR
Prints a JSON manifest on stdout: the layout wmihunt should report, every
artifact as {"kind", "rel"} (path relative to OUTDIR), the kinds it should
report missing, and the exit code it should end with.

Layouts (docs/triage.md has the sources for each):
  mounted       Windows\\ at the top, as a mounted volume
  kape          C\\ beside KAPE's <ts>_ConsoleLog.txt and <ts>_CopyLog.csv
  kape-encoded  C%3A\\
  cylr          C\\ with CyLR's default set (hives, winevt\\logs; no wbem)
  velociraptor  Collection-*/uploads/auto/C%3A/ + uploads/ntfs/%5C%5C.%5CC%3A/
  xp            WINDOWS\\system32\\wbem\\Repository\\FS, software.LOG, .Evt logs
  backup        mounted, plus wbem\\Repository.001
  mixedcase     every name in odd case
  loop          mounted, plus symbolic links to . and ..
  deep          mounted, plus a .mof 60 levels down
  wide          mounted, plus 3000 files (for --max-files)
  empty         nothing
  nowin         files, but nothing of Windows
"""
import json
import os
import subprocess
import struct
import sys
import zlib

WMI_LOGS = [
    "Microsoft-Windows-WMI-Activity%4Operational.evtx",
    "Security.evtx",
    "Microsoft-Windows-Sysmon%4Operational.evtx",
    "Microsoft-Windows-PowerShell%4Operational.evtx",
    "Windows PowerShell.evtx",
    "System.evtx",
]
CIM_FILES = ["INDEX.BTR", "OBJECTS.DATA", "MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP"]


def empty_evtx():
    """A valid event log with no chunk yet (as Windows leaves a cleared or
    never-written log): file header only, its CRC-32 right."""
    h = bytearray(4096)
    h[0:8] = b"ElfFile\0"
    struct.pack_into("<QQQIHHHH", h, 8, 0, 0, 1, 128, 1, 3, 4096, 0)
    struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:120])))
    return bytes(h)


class Tree:
    def __init__(self, out, cimgen=None, evtxgen=None):
        self.out, self.cimgen, self.evtxgen = out, cimgen, evtxgen
        self.arts, self.missing = [], []

    def file(self, rel, data=b"x" * 64, kind=None, wmi=None):
        p = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        if kind:
            self.art(kind, rel)
        return p

    def dir(self, rel, kind=None):
        os.makedirs(os.path.join(self.out, rel), exist_ok=True)
        if kind:
            self.art(kind, rel)

    def art(self, kind, rel):
        self.arts.append({"kind": kind, "rel": rel})

    def repository(self, rel, kind="cim_repository", xp=False):
        self.dir(rel, kind)
        files_dir = os.path.join(rel, "FS") if xp else rel
        if self.cimgen and not xp:
            subprocess.run([self.cimgen, "demo", os.path.join(self.out, files_dir)], check=True,
                           stdout=subprocess.DEVNULL)
            return
        for n in CIM_FILES:
            self.file(os.path.join(files_dir, n), b"\0" * 8192)

    def evtx(self, rel, kind="evtx"):
        p = os.path.join(self.out, rel)
        if self.evtxgen and "WMI-Activity" in rel:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            subprocess.run([self.evtxgen, "wmi", p], check=True, stdout=subprocess.DEVNULL)
            self.art(kind, rel)
        else:
            self.file(rel, empty_evtx(), kind)

    def hives(self, config):
        self.file(os.path.join(config, "SOFTWARE"), b"regf" + b"\0" * 4092, "hive_software")
        self.file(os.path.join(config, "SOFTWARE.LOG1"), b"DIRT" + b"\0" * 508, "hive_log")
        self.file(os.path.join(config, "SOFTWARE.LOG2"), b"\0" * 512, "hive_log")
        self.file(os.path.join(config, "SYSTEM"), b"regf" + b"\0" * 4092)
        self.file(os.path.join(config, "RegBack", "SOFTWARE"), b"regf" + b"\0" * 4092, "hive_regback")

    def windows(self, base, enc=lambda s: s, wbem=True, case=lambda s: s, hives=True):
        """A Vista+ Windows tree under base; enc encodes names as the
        collector stores them, case changes their case."""
        def j(*names):
            return os.path.join(base, *[enc(case(n)) for n in names])
        s32 = ("Windows", "System32")
        if wbem:
            self.repository(j(*s32, "wbem", "Repository"))
            self.dir(j(*s32, "wbem", "AutoRecover"), "autorecover_dir")
            self.file(j(*s32, "wbem", "AutoRecover", "0F1E2D3C4B5A69788796A5B4C3D2E1F0.mof"),
                      b"#pragma autorecover\n", "autorecover_file")
            self.file(j(*s32, "wbem", "cimwin32.mof"), b"// placeholder\n", "mof")
        if hives:
            self.hives(j(*s32, "config"))
        for n in WMI_LOGS:
            self.evtx(j(*s32, "winevt", "Logs", n))
        self.evtx(j(*s32, "winevt", "Logs", "Application.evtx"))
        self.file(j("Users", "Public", "Downloads", "evil.mof"), b"#pragma namespace(\"\\\\\\\\.\\\\root\\\\subscription\")\n", "mof")
        self.file(j("ProgramData", "notes.txt"), b"not evidence\n")


def pct(s):
    """Velociraptor-style escaping of what a file name cannot hold."""
    out = []
    for ch in s:
        if ch in ':\\%' or ord(ch) < 32:
            out.append("%%%02X" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def main(argv):
    cimgen = evtxgen = None
    while argv and argv[0].startswith("--"):
        if argv[0] == "--cimgen":
            cimgen = argv[1]
        elif argv[0] == "--evtxgen":
            evtxgen = argv[1]
        else:
            sys.exit("treegen: unknown option " + argv[0])
        argv = argv[2:]
    if len(argv) != 2:
        sys.exit(__doc__)
    layout, out = argv
    os.makedirs(out, exist_ok=True)
    t = Tree(out, cimgen, evtxgen)
    expect = {"layout": layout, "exit": 0, "missing": []}
    if layout in ("mounted", "loop", "deep", "wide", "backup"):
        t.windows("")
        expect["layout"] = "mounted"
        if layout == "backup":
            t.repository(os.path.join("Windows", "System32", "wbem", "Repository.001"), "cim_repository_backup")
        if layout == "loop":
            os.symlink(".", os.path.join(out, "loop"))
            os.makedirs(os.path.join(out, "a"), exist_ok=True)
            os.symlink("..", os.path.join(out, "a", "up"))
            os.symlink("missing-target", os.path.join(out, "a", "dangling.mof"))
        if layout == "deep":
            p = os.path.join("deep", *(["d"] * 60), "buried.mof")
            t.file(p, b"// deep\n")
            expect["deep_mof"] = p
            expect["exit"] = 3  # the default depth bound (40) cuts it short
        if layout == "wide":
            for i in range(3000):
                t.file(os.path.join("wide", "f%04d.txt" % i), b"")
    elif layout == "kape":
        t.windows("C")
        t.file("2024-05-01T101010_ConsoleLog.txt", b"KAPE console log placeholder\n")
        t.file("2024-05-01T101010_CopyLog.csv", b"CopiedTimestamp,SourceFile,DestinationFile\n")
    elif layout == "kape-encoded":
        t.windows("C%3A")
    elif layout == "cylr":
        # CyLR's default paths: hives and winevt\logs, not wbem (CollectionPaths.cs).
        t.windows("C", wbem=False)
        t.file(os.path.join("C", "$MFT"), b"FILE0" + b"\0" * 1019)
        expect["layout"] = "kape-or-cylr"
        expect["missing"] = ["cim_repository", "autorecover_dir"]
    elif layout == "velociraptor":
        col = "Collection-WS01-2024-05-01T10_10_10Z"
        t.file(os.path.join(col, "uploads.json"), b"[]\n")
        t.file(os.path.join(col, "log.json"), b"")
        t.file(os.path.join(col, "results", "Windows.KapeFiles.Targets%2FAll File Metadata.json"), b"")
        # auto accessor: C%3A; locked hives come through ntfs: \\.\C:.
        auto = os.path.join(col, "uploads", "auto", pct("C:"))
        ntfs = os.path.join(col, "uploads", "ntfs", pct("\\\\.\\C:"))
        t.windows(auto, enc=pct, hives=False)
        # the ntfs root holds the locked hives: one volume with auto's C:
        t.hives(os.path.join(ntfs, "Windows", "System32", "config"))
    elif layout == "xp":
        s32 = os.path.join("WINDOWS", "system32")
        t.repository(os.path.join(s32, "wbem", "Repository"), xp=True)
        t.file(os.path.join(s32, "wbem", "cimwin32.mof"), b"// xp\n", "mof")
        t.file(os.path.join(s32, "config", "software"), b"regf" + b"\0" * 4092, "hive_software")
        t.file(os.path.join(s32, "config", "software.LOG"), b"\0" * 512, "hive_log")
        t.file(os.path.join(s32, "config", "SecEvent.Evt"), b"\0" * 512)
        expect["missing"] = ["autorecover_dir"]
        expect["layout"] = "mounted"
    elif layout == "mixedcase":
        import itertools
        flip = itertools.cycle([str.upper, str.lower, lambda s: s[:1].lower() + s[1:].upper()])
        seen = {}  # one case per name, so a folder is made once
        t.windows("", case=lambda s: seen.setdefault(s, next(flip)(s)))
        expect["layout"] = "mounted"
    elif layout == "empty":
        expect["exit"] = 2
    elif layout == "nowin":
        t.file(os.path.join("photos", "cat.jpg"), b"\xff\xd8\xff")
        t.file("notes.txt", b"nothing to see\n")
        t.file(os.path.join("Windows", "readme.txt"), b"a Windows folder with no System32\n")
        expect["exit"] = 2
    else:
        sys.exit("treegen: unknown layout " + layout)
    expect["artifacts"] = t.arts
    json.dump(expect, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
