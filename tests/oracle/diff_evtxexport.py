#!/usr/bin/env python3
"""Differential test: `wmihunt evtx --all --format jsonl` against
`evtxexport -f xml` (libevtx 20181227, Debian libevtx-utils), record by record.

usage: diff_evtxexport.py [-v] [--max-print N] [--no-recovered] WMIHUNT_BINARY FILE_OR_DIR...

A directory stands for its *.evtx files.  Prints "skipped: ..." and exits 0
when evtxexport is not on PATH or no file exists; fails (exit 1) when the
binary is missing or has no `evtx` command.

Which files: those libevtx reads without an error.  With an EXPECTED.md
beside the file (shared/corpus/evtx), that is every file not named `edge_*`
plus every edge file whose EXPECTED.md facts show libevtx clean (evtxexport
items = evtxinfo count, no "stops:", oracle not evtx-rs); without one, every
file evtxexport exports with exit 0 and no half-printed record.  Skipped files
are named with the reason.

Per record (live records: "recovered": false), matched by EventRecordID in file
order, compared: EventRecordID, TimeCreated, EventID, Provider Name, Channel,
Computer, Level, Security UserID, every EventData value (by Name; unnamed Data
by position; repeated names by position; <Binary> as event_data.Binary, which
wmihunt adds) and every UserData leaf (by path).
libevtx's XML is read by text extraction (evtxlib.parse_evtxexport_xml):
entities decoded, CR/LF kept as stored; no XML library (it would turn CR/LF
into LF and refuse 149 records of edge_pyevtx_issue39.evtx).
Normalised (rendering differences EXPECTED.md documents, not data): libevtx's
padded hex (0x00000000000003e7 = 0x3e7) and 9 fractional digits
(…8535300Z = …8535300Z with 7).
Then, unless --no-recovered and when the binary knows `--recover`: every
record `evtxexport -m recovered` prints whole with an EventRecordID no live
record has must be among wmihunt's records (run with --recover) with the same
values.

Accepted differences (ACCEPTED below, also in tests/README.md "EVTX: accepted
differences from evtxexport") are counted and listed separately, never as
passes of the value itself.

On a mismatch: file, EventRecordID, our offset, field, both values.
The last line is `N passed, M failed`, counted per compared field (a record
missing on either side counts as one failed comparison).
"""

import argparse
import fnmatch
import glob
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evtxlib  # noqa: E402
from evtxlib import short  # noqa: E402

TIMEOUT = float(os.environ.get("WH_EVTX_TIMEOUT", "300"))


# ------------------------------------------------------------------ accepted differences
#
# Each entry: id, file pattern, field pattern, test(ours, libevtx, ctx) -> bool, reason.
# A difference is accepted only when its test holds for that very value.

def _sizet_decimal(ours, lib, ctx):
    return (isinstance(ours, str) and isinstance(lib, str) and re.fullmatch(r"\d+", lib) is not None
            and re.fullmatch(r"0x[0-9a-f]+", ours) is not None and ours == hex(int(lib)))


def _bool_number(ours, lib, ctx):
    return lib == "true" and isinstance(ours, str) and re.fullmatch(r"-?\d+", ours) is not None \
        and ours not in ("0", "1")


def _int_sign_magnitude(ours, lib, ctx):
    if not (isinstance(ours, str) and isinstance(lib, str) and re.fullmatch(r"-\d+", ours)
            and re.fullmatch(r"-\d+", lib)):
        return False
    v = int(ours)
    for bits in (32, 64):
        if -(1 << (bits - 1)) <= v < 0 and lib == "-%d" % ((v + (1 << bits)) & ((1 << (bits - 1)) - 1)):
            return True
    return False


def _lf_only(ours, lib, ctx):
    return lib == "" and isinstance(ours, str) and ours != "" and re.fullmatch(r"[\r\n]+", ours) is not None


def _lone_surrogate(ours, lib, ctx):
    """libevtx swallows the code unit after an unpaired high surrogate."""
    if not (isinstance(ours, str) and isinstance(lib, str) and "\ufffd" in ours):
        return False
    out, i = [], 0
    while i < len(ours):
        out.append(ours[i])
        i += 2 if ours[i] == "\ufffd" else 1
    return "".join(out) == lib


ACCEPTED = [
    {
        "id": "sizet-decimal",
        "files": "*",
        "field": "event_data.*",
        "test": _sizet_decimal,
        "reason": "libevtx 20181227 prints SizeT (type 0x10) values in decimal (HandleId 32492); "
                  "Windows and wmihunt print minimal hex (0x7eec), docs/output.md and "
                  "evtx-format-notes §6. Accepted only when ours is the minimal hex of libevtx's number.",
    },
    {
        "id": "bool-other-value",
        "files": "*",
        "field": "event_data.*",
        "test": _bool_number,
        "reason": "libevtx prints every non-zero Boolean as true; wmihunt prints values other than "
                  "0/1 as their number (docs/output.md), so edge_irregular_bool_values.evtx keeps "
                  "what the bytes hold. Accepted only for libevtx \"true\" against a number other "
                  "than 0 and 1.",
    },
    {
        "id": "negative-int-sign-magnitude",
        "files": "*",
        "field": "event_data.*",
        "test": _int_sign_magnitude,
        "reason": "libevtx prints a negative Int32/Int64 as '-' and the value with the sign bit "
                  "cleared: ErrorCode bytes 5f 80 04 80 (0x8004805F, -2147188641) come out as "
                  "-295007 (edge_pyevtx_issue39.evtx). wmihunt prints the two's-complement value. "
                  "Accepted only when libevtx's text is exactly that mis-rendering of ours.",
    },
    {
        "id": "lf-only-string",
        "files": "*",
        "field": "event_data.*",
        "test": _lf_only,
        "reason": "libevtx prints a string value that is only a line break as an empty element "
                  "(edge_no_crc32_application.evtx record 441, ExtraInfo: UTF-16 value 0a 00). "
                  "wmihunt keeps the \\n the bytes hold.",
    },
    {
        "id": "lone-surrogate",
        "files": "*",
        "field": "event_data.*",
        "test": _lone_surrogate,
        "reason": "On an unpaired high surrogate libevtx writes U+FFFD and drops the next code "
                  "unit too (sysmon_mixed_wmic_wmiprvse_pyevtx_issue43.evtx record 508, "
                  "ConfigurationFileHash: d940 5a1f 0152 -> U+FFFD U+0152); wmihunt replaces the "
                  "surrogate alone (U+FFFD U+5A1F U+0152). Accepted only when dropping the unit "
                  "after each U+FFFD of ours gives libevtx's text.",
    },
    {
        "id": "torn-but-complete",
        "files": "*",
        "field": "(record)",
        "test": None,   # decided in extra_record_accepted()
        "reason": "libevtx drops a record whose trailing size copy does not match; evtx-rs and "
                  "python-evtx keep it. EXPECTED.md says of edge_bad_chunk_magic.evtx that the "
                  "right answer is 269 (libevtx 267): two such records are real. Accepted: a "
                  "wmihunt record libevtx lacks, whose header at our offset has a size copy "
                  "different from its size, with a Channel (and the channel and EventID the note "
                  "names), for a file whose EXPECTED.md note gives a right answer above "
                  "libevtx's count, at most that many records.",
    },
]


def accepted_for(fname, field, ours, lib, ctx):
    for a in ACCEPTED:
        if a["test"] is None:
            continue
        if not fnmatch.fnmatch(fname, a["files"]):
            continue
        if not fnmatch.fnmatch(field, a["field"]):
            continue
        if a["test"](ours, lib, ctx):
            return a["id"]
    return None


# ------------------------------------------------------------------ comparison

class Tally:
    def __init__(self, max_print, verbose):
        self.passed = 0
        self.failed = 0
        self.accepted = {}
        self.normalised = {}
        self.printed = {}
        self.max_print = max_print
        self.verbose = verbose
        self.by_field = {}

    def ok(self, how=""):
        self.passed += 1
        if how:
            self.normalised[how] = self.normalised.get(how, 0) + 1

    def fail(self, fname, rid, off, field, ours, lib):
        self.failed += 1
        key = (fname, re.sub(r"\[\d+\]", "[i]", field))
        self.by_field[key] = self.by_field.get(key, 0) + 1
        n = self.printed.get(fname, 0)
        if n < self.max_print:
            print("MISMATCH %s: EventRecordID %s (our offset %s) %s: wmihunt %s, evtxexport %s"
                  % (fname, rid, off, field, short(ours, 300), short(lib, 300)))
        elif n == self.max_print:
            print("MISMATCH %s: ... further mismatches of this file not printed (--max-print)" % fname)
        self.printed[fname] = n + 1

    def accept(self, aid, fname, rid, off, field, ours, lib):
        self.accepted[aid] = self.accepted.get(aid, 0) + 1
        if self.verbose:
            print("ACCEPTED [%s] %s: EventRecordID %s (offset %s) %s: wmihunt %s, evtxexport %s"
                  % (aid, fname, rid, off, field, short(ours), short(lib)))


def compare_value(t, fname, rid, off, field, ours, lib):
    ok, how = evtxlib.values_equal(ours, lib, "libevtx")
    if ok:
        t.ok(how)
        return
    aid = accepted_for(fname, field, ours, lib, None)
    if aid:
        t.accept(aid, fname, rid, off, field, ours, lib)
        return
    t.fail(fname, rid, off, field, ours, lib)


SYSTEM_FIELDS = ["event_record_id", "time_created", "event_id", "provider", "channel",
                 "computer", "level", "user_sid"]


def compare_record(t, fname, ours, lib):
    rid = lib.fields.get("event_record_id")
    off = ours.get("offset")
    for f in SYSTEM_FIELDS:
        if f not in lib.fields and f not in ours:
            continue
        compare_value(t, fname, rid, off, f, ours.get(f), lib.fields.get(f))
    # EventData
    ed = ours.get("event_data")
    if lib.has_event_data or ed is not None:
        lmap = evtxlib.event_data_map(lib.event_data)
        for ename, content in lib.other_event_data:   # <Binary> (wmihunt: event_data.Binary)
            lmap.setdefault(ename, []).append(evtxlib.decode_content(content or "")[0])
        omap = ed if isinstance(ed, dict) else {}
        for name, lvals in lmap.items():
            ovals = evtxlib.as_list(omap.get(name))
            for i in range(max(len(lvals), len(ovals))):
                field = "event_data.%s[%d]" % (name, i) if (len(lvals) > 1 or name == "Data") else "event_data." + name
                lv = lvals[i] if i < len(lvals) else "<absent>"
                ov = ovals[i] if i < len(ovals) else "<absent>"
                if i >= len(lvals) or i >= len(ovals):
                    t.fail(fname, rid, off, field, ov, lv)
                else:
                    compare_value(t, fname, rid, off, field, ov, lv)
        for name in omap:
            if name not in lmap:
                t.fail(fname, rid, off, "event_data." + name, omap[name], "<absent>")
        if not lib.has_event_data:
            t.fail(fname, rid, off, "event_data", "present", "<absent>")
        elif ed is None:
            t.fail(fname, rid, off, "event_data", "<absent>", "present")
    # UserData
    ud = ours.get("user_data")
    if lib.has_user_data or ud is not None:
        lleaves = {}
        for p, v in lib.user_data:
            lleaves.setdefault(p, []).append(v)
        oleaves = {}
        for p, v in evtxlib.user_data_leaves(ud if isinstance(ud, dict) else {}):
            oleaves.setdefault(re.sub(r"\[\d+\]", "", p), []).append(v)
        for p in sorted(set(lleaves) | set(oleaves)):
            lv, ov = lleaves.get(p, []), oleaves.get(p, [])
            for i in range(max(len(lv), len(ov))):
                field = "user_data.%s" % p + ("[%d]" % i if max(len(lv), len(ov)) > 1 else "")
                if i >= len(lv) or i >= len(ov):
                    t.fail(fname, rid, off, field, ov[i] if i < len(ov) else "<absent>",
                           lv[i] if i < len(lv) else "<absent>")
                else:
                    compare_value(t, fname, rid, off, field, ov[i], lv[i])
        if not lib.has_user_data:
            t.fail(fname, rid, off, "user_data", "present", "<absent>")
        elif ud is None:
            t.fail(fname, rid, off, "user_data", "<absent>", "present")


def extra_record_accepted(facts, data, rec, budget):
    """'torn-but-complete': see ACCEPTED."""
    if facts is None or budget[0] <= 0:
        return False
    m = re.search(r"The right answer is (\d+) real records", facts.note or "")
    if not m or facts.evtxexport_items is None or int(m.group(1)) <= facts.evtxexport_items:
        return False
    h = evtxlib.record_header_at(data, rec.get("offset"))
    if h is None or not h.torn or h.record_id != rec.get("record_id"):
        return False
    # the note names what the real ones are ("two more AppXDeployment 325 records");
    # a torn record decoded into garbage (no Channel) is not one of them
    kinds = [(c, int(e)) for c, e in re.findall(r"return \w+ more (\S+) (\d+) records", facts.note or "")]
    chan = rec.get("channel")
    if not (isinstance(chan, str) and chan):
        return False
    if kinds and not any(c in chan and rec.get("event_id") == e for c, e in kinds):
        return False
    budget[0] -= 1
    return True


def erid(r):
    v = r.get("event_record_id")
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return v


def match_records(libs, ours):
    """Pair libevtx records with ours by EventRecordID, in order.
    -> (pairs, libevtx-only, ours-only)"""
    queue = {}
    for r in ours:
        queue.setdefault(erid(r), []).append(r)
    pairs, missing = [], []
    for lr in libs:
        q = queue.get(lr.fields.get("event_record_id"))
        if q:
            pairs.append((q.pop(0), lr))
        else:
            missing.append(lr)
    extra = [r for q in queue.values() for r in q]
    extra.sort(key=lambda r: r.get("offset") or 0)
    return pairs, missing, extra


# ------------------------------------------------------------------ files

def expand(args):
    files, absent = [], []
    for a in args:
        if os.path.isdir(a):
            files.extend(sorted(glob.glob(os.path.join(a, "*.evtx"))))
        elif os.path.isfile(a):
            files.append(a)
        else:
            absent.append(a)
    return files, absent


_EXPECTED_CACHE = {}


def expected_for(path):
    d = os.path.dirname(os.path.abspath(path))
    if d not in _EXPECTED_CACHE:
        p = os.path.join(d, "EXPECTED.md")
        _EXPECTED_CACHE[d] = evtxlib.parse_expected(p) if os.path.isfile(p) else None
    exp = _EXPECTED_CACHE[d]
    return exp.get(os.path.basename(path)) if exp else None


def selection(path):
    """-> (include, reason)"""
    name = os.path.basename(path)
    facts = expected_for(path)
    if facts is None:
        return True, "no EXPECTED.md entry: included if evtxexport reads it cleanly"
    if not name.startswith("edge_"):
        return True, "not an edge file"
    if facts.libevtx_clean():
        return True, "edge file libevtx reads without error (EXPECTED.md)"
    why = []
    if facts.evtxexport_stops:
        why.append("evtxexport stops after %s of %s records" % (facts.evtxexport_items, facts.evtxinfo))
    if facts.oracle() != "libevtx":
        why.append("EXPECTED.md's oracle is evtx-rs (libevtx failed)")
    return False, "; ".join(why) or "libevtx not clean per EXPECTED.md"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--max-print", type=int, default=25, help="mismatch lines printed per file")
    ap.add_argument("--no-recovered", action="store_true", help="skip the recovered-record comparison")
    a = ap.parse_args()

    if evtxlib.which("evtxexport") is None:
        print("skipped: evtxexport is not on PATH (Debian package libevtx-utils)")
        return 0
    files, absent = expand(a.paths)
    if not files:
        print("skipped: no .evtx file in %s" % ", ".join(a.paths))
        return 0
    for p in absent:
        print("note: %s does not exist" % p)

    if not (os.path.isfile(a.binary) and os.access(a.binary, os.X_OK)):
        print("FAIL: wmihunt binary %s does not exist or is not executable" % a.binary)
        print("0 passed, 1 failed")
        return 1
    probe = evtxlib.run_wmihunt(a.binary, [files[0]], timeout=TIMEOUT)
    why = evtxlib.not_implemented_reason(a.binary, probe)
    if why:
        print("FAIL: " + why)
        print("0 passed, 1 failed")
        return 1
    help_text = evtxlib.run_command([a.binary, "evtx", "--help"], timeout=30)
    knows_recover = b"--recover" in help_text.stdout + help_text.stderr

    t = Tally(a.max_print, a.verbose)
    compared_files = 0
    rec_stats = {"libevtx": 0, "found": 0}
    for path in files:
        name = os.path.basename(path)
        include, reason = selection(path)
        if not include:
            print("skip %s: %s (its facts are checked by test_evtx_corpus.py)" % (name, reason))
            continue
        facts = expected_for(path)
        lres, libs, incomplete = evtxlib.run_evtxexport(path, timeout=TIMEOUT)
        if lres.rc != 0 or incomplete:
            if facts is None:
                print("skip %s: evtxexport exit %s, %d half-printed record(s)" % (name, lres.rc, incomplete))
                continue
            t.fail(name, "-", "-", "evtxexport", "", "exit %s, %d half-printed (EXPECTED.md says clean)"
                   % (lres.rc, incomplete))
            continue
        res = evtxlib.run_wmihunt(a.binary, [path], timeout=TIMEOUT)
        ours, problems = evtxlib.parse_jsonl(res.stdout)
        if res.rc not in (0, 3) or res.timed_out or problems:
            t.fail(name, "-", "-", "wmihunt run", "exit %s%s, %d bad line(s)" % (
                res.rc, " (timeout)" if res.timed_out else "", len(problems)), "exit 0 or 3")
            if res.rc not in (0, 3):
                continue
        compared_files += 1
        data = open(path, "rb").read()
        live = [r for r in ours if r.get("recovered") is not True]
        pairs, missing, extra = match_records(libs, live)
        for o, lr in pairs:
            compare_record(t, name, o, lr)
        for lr in missing:
            t.fail(name, lr.fields.get("event_record_id"), "-", "(record)", "<absent>", "present")
        budget = [0]
        if facts is not None:
            m = re.search(r"The right answer is (\d+) real records", facts.note or "")
            if m and facts.evtxexport_items is not None:
                budget = [int(m.group(1)) - facts.evtxexport_items]
        for o in extra:
            if extra_record_accepted(facts, data, o, budget):
                t.accept("torn-but-complete", name, erid(o), o.get("offset"), "(record)", "present", "<absent>")
            else:
                t.fail(name, erid(o), o.get("offset"), "(record)", "present", "<absent>")
        nrec = len(pairs)

        # recovered records libevtx prints whole, with ids no live record has
        nrecov = 0
        if not a.no_recovered:
            _, rlibs, _ = evtxlib.run_evtxexport(path, recovered=True, timeout=TIMEOUT)
            live_ids = {lr.fields.get("event_record_id") for lr in libs}
            seen = set()
            want = []
            for lr in rlibs:
                i = lr.fields.get("event_record_id")
                if i is None or i in live_ids or i in seen:
                    continue
                seen.add(i)
                want.append(lr)
            if want:
                if not knows_recover:
                    print("note %s: %d whole recovered records in libevtx; `%s evtx` has no --recover, not compared"
                          % (name, len(want), a.binary))
                else:
                    rres = evtxlib.run_command([a.binary, "evtx", "--all", "--recover", "--format", "jsonl", path],
                                               timeout=TIMEOUT)
                    rours, _ = evtxlib.parse_jsonl(rres.stdout)
                    used = {id(o) for o, _ in pairs}
                    pool = [r for r in rours if r.get("recovered") is True] + \
                           [r for r in rours if r.get("recovered") is not True and erid(r) not in live_ids]
                    pool = [r for r in pool if id(r) not in used]
                    rp, rmissing, _ = match_records(want, pool)
                    for o, lr in rp:
                        compare_record(t, name + " (recovered)", o, lr)
                    for lr in rmissing:
                        t.fail(name + " (recovered)", lr.fields.get("event_record_id"), "-", "(record)",
                               "<absent>", "present (libevtx recovered)")
                    rec_stats["libevtx"] += len(want)
                    rec_stats["found"] += len(rp)
                    nrecov = len(rp)
        print("compared %s: %d records (libevtx %d, wmihunt %d live)%s"
              % (name, nrec, len(libs), len(live),
                 ", %d recovered" % nrecov if nrecov else ""))
        sys.stdout.flush()

    if t.by_field:
        print("mismatches by file and field:")
        for (fname, field), n in sorted(t.by_field.items(), key=lambda x: (-x[1], x[0])):
            print("  %5d  %s  %s" % (n, fname, field))
    if t.normalised:
        print("normalised (documented rendering differences): %s"
              % ", ".join("%s %d" % kv for kv in sorted(t.normalised.items())))
    if t.accepted:
        print("accepted differences (not counted as passed or failed):")
        for a_ in ACCEPTED:
            if a_["id"] in t.accepted:
                print("  %5d  %s: %s" % (t.accepted[a_["id"]], a_["id"], a_["reason"]))
    if rec_stats["libevtx"]:
        print("recovered: libevtx printed %d whole records with new ids, wmihunt has %d of them"
              % (rec_stats["libevtx"], rec_stats["found"]))
    print("%d files compared; counts are per compared field" % compared_files)
    print("%d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
