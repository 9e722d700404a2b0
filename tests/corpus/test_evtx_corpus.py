#!/usr/bin/env python3
"""Asserts every fact of shared/corpus/evtx/EXPECTED.md on the real files by
running `WMIHUNT_BINARY evtx --all --format jsonl FILE`.

usage: test_evtx_corpus.py [-v] [--json-report OUT] WMIHUNT_BINARY CORPUS_EVTX_DIR

EXPECTED.md is read and parsed at run time (tests/oracle/evtxlib.py); no fact
and no corpus content is copied into the repository.  A line of EXPECTED.md
the parser does not understand is a failure, so a changed EXPECTED.md cannot
pass silently.  Prints "skipped: ..." and exits 0 when CORPUS_EVTX_DIR does not
exist; fails (exit 1) when the binary is missing or has no `evtx` command.
The last line is `N passed, M failed` (exit 1 when M > 0).

Which reader is the oracle: libevtx (`evtxexport items`) unless the file's
facts say `evtx-rs-0.8.1 (libevtx failed)`, then evtx-rs's ok count.  A note
"The right answer is N real records" overrides both.

What is asserted, per file:
  integrity   sha256, size and format version of the file (the corpus is the
              one EXPECTED.md describes)
  run         no crash, no timeout, exit 0 or 3, every warning/error line names
              a byte offset, exit 3 names at least one, peak RSS under a bound
  contract    docs/output.md "EVTX records": field names and types, 7-digit
              time_created, offset inside its chunk slot, a record header with
              the same record_id and written FILETIME at that offset (written
              may be absent only where that FILETIME is 0), file order
  count       records with "recovered": false == the oracle's count
  ids, times  lowest/highest EventRecordID and TimeCreated of those records
  pairs       every Channel|EventID count; the number of distinct pairs (and,
              for a list cut with "(+K more pairs)", that no unlisted pair is
              more frequent than the least frequent listed one)
  wmi         every "WMI-relevant records" count, by the definitions at the top
              of EXPECTED.md (tests/oracle/evtxlib.py Category)
  key values  every `EventRecordID, EventID: field = value`, exact strings or
              length + sha256 + prefix
  notes       the per-file notes listed below
and over the corpus: every row of the coverage table, every "Not covered by
any real file found" item (must be absent from every file), and one run with
two files at once (records keep their own `source`).

Rendering normalisations (top of EXPECTED.md), applied by source reader only:
libevtx pads hex (0x00000000 = 0x0), prints 9 fractional digits (…8535300Z =
…8535300 with 7); evtx-rs 0.8.1 prints 6 digits (ours truncated to 6 must equal
them) and GUIDs without braces.  String arrays: `Data[i]` is item i of the
unnamed Data array.  CR/LF: compared as stored (JSON strings, no re-parse).

Notes turned into assertions (matched by pattern, numbers read from the note):
  "The right answer is N real records" -> count N; "return two more C E
      records" -> the C|E pair count grows by as many; ids/times outside
      libevtx's range allowed only for that many records
  "one record with EventID E and no Channel (garbage...)", "The Nth record
      that python-evtx/evtx-rs return has EventID E and no Channel (garbage)"
      -> no live record with that EventID and no channel
  "evtx-rs returns a Nth record (EventID E, no Channel) that the other
      readers do not" -> no live record without a channel
  "plus a reported error" -> exit 3 with a diagnostic naming an offset
  "first chunk data CRC mismatch" -> records of chunk 0 have checksum_ok false
  "Chunks with zeroed magic" -> no live record from a slot without ElfChnk
  "data size 0 at file offset N" -> exit 3, a diagnostic names N, no live
      record at N; bounded time and memory (all files)
  "libevtx 20181227 stops at record N" -> live records past N are returned
  "records carry no template" / "template-less record" -> every record has a
      rendered EventID and Channel
  "many empty <Data> elements that must be kept" -> >= 2 empty Data values
  "record N is the crate snapshot" -> record N is returned
  "record N (Sysmon E) has invalid UTF-16 ... U+FFFD" -> record N, EventID E,
      a value holding U+FFFD
  "libevtx output not well-formed for N records" -> exactly N records hold a
      value with XML markup using an undeclared namespace prefix, and the JSONL
      is valid.  (The note's stated cause, characters outside XML 1.0, is not
      what the bytes hold: no value of that file has one; libevtx prints ANSI
      strings unescaped and 149 of them use `s:`/`wsse:`… prefixes they do not
      declare.  The count matches that cause exactly.)
  "The only 4104 that names A/B/... is the ... module manifest (record R)"
      -> every such mention is record R, and R names each of them
  '5861 here is the benign built-in "F" -> C binding' -> every 5861: ESS = F,
      CONSUMER starts with C
  "5860 is the Security Center temporary consumer" -> every 5860 is
      Temporary in a SecurityCenter namespace
  "Only real 5861 sample found" -> no other corpus file has a 5861
  "no ParentProcessName field" -> no 4688 of the file has one
  'ParentImage "?"' -> a Sysmon 1 with ParentImage "?"
  "Valid chunk(s) located after all-zero chunks" -> records are returned from
      a chunk that follows an all-zero slot
  "bad chunk checksums and torn records" -> some records checksum_ok false,
      exit 3 with offsets

Facts that cannot be checked against wmihunt, and why (printed as NOT
CHECKED with the reason, never counted as passed):
  * `evtxinfo N (+R recovered)` and `evtxexport -m recovered K`: libevtx's
    recovered counts include copies of live records (edrtestingscript: all 35
    duplicate live ids), fragments it cannot render (wsmprovhost: +134 but 0
    exported, 16 half-printed), and EXPECTED.md lists no ids; the format
    notes (§3) tell wmihunt to drop copies of live records, so no wmihunt
    number corresponds.  wmihunt's recovered count is printed for information;
    tests/oracle/diff_evtxexport.py compares libevtx's whole recovered records
    with new ids one by one.
  * `python-evtx ... ok/err`, `evtx-rs ... ok/err`, `published expectation`:
    other readers' behaviour; used only to choose the oracle.
  * "WMI-relevant records among libevtx *recovered* records": those copies
    have live ids; when wmihunt drops copies (no recovered record shares a
    live record_id) a count of 0 is NOT CHECKED, any other mismatch fails.
  * "1 live record, N recovered records in slack" / "N recovered (slack)
    records per libevtx": the live count is asserted; N is libevtx's evtxinfo
    figure (see the first item).
  * "Chunk without valid CRC32s": the count is asserted; checksum_ok is not
    (the notes say the checksums are not meaningful with flag 0x4, the docs
    define checksum_ok as "CRC does not match": either reading is defensible).
  * SizeT "record N is the crate snapshot": EXPECTED.md names no field; the
    SizeT rendering is compared value by value against libevtx in
    diff_evtxexport.py (accepted difference: libevtx prints it in decimal).
  * "Bool substitution values other than 0/1", "more than one XML fragment",
    "malformed ANSI/UTF-16 strings", "missing string-table entries": EXPECTED.md
    states no rendered value for them; the counts are asserted, the values
    are compared with libevtx in diff_evtxexport.py.
  * "a benign mention that a detector must not report as WMI use": about the
    detector, not the reader.
  * Descriptive notes of the WMI files (what the sample shows) carry no fact
    beyond the bullets, which are asserted.
  * The header's provenance statements ("measured with three readers", "string
    values ... checked equal to evtx-rs JSON (0 mismatches)") describe how
    EXPECTED.md was made; evtx-rs is not available here.  The libevtx side of
    every figure is re-derived from evtxinfo/evtxexport by
    tests/oracle/validate_harness.py.
"""

import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import evtxlib  # noqa: E402
from evtxlib import short  # noqa: E402

TIMEOUT = float(os.environ.get("WH_EVTX_TIMEOUT", "300"))
MAX_RSS_MB = float(os.environ.get("WH_EVTX_MAX_RSS_MB", "1024"))
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9, "ten": 10}


class Report:
    def __init__(self, verbose):
        self.verbose = verbose
        self.passed = 0
        self.failed = 0
        self.notchecked = 0
        self.items = []

    def add(self, ok, file, kind, what, detail="", source=""):
        self.items.append({"file": file, "kind": kind, "what": what, "source": source,
                           "status": "pass" if ok else "fail", "detail": detail})
        if ok:
            self.passed += 1
            if self.verbose:
                print("PASS %s: [%s] %s%s" % (file, kind, what, (" (" + detail + ")") if detail else ""))
        else:
            self.failed += 1
            print("FAIL %s: [%s] %s: %s" % (file, kind, what, detail))
        return ok

    def skip(self, file, kind, what, reason, source=""):
        self.notchecked += 1
        self.items.append({"file": file, "kind": kind, "what": what, "source": source,
                           "status": "notchecked", "detail": reason})
        if self.verbose:
            print("NOT CHECKED %s: [%s] %s: %s" % (file, kind, what, reason))

    def print_notchecked(self):
        """One line per kind of unchecked fact, with the files it concerns."""
        groups = {}
        for it in self.items:
            if it["status"] != "notchecked":
                continue
            key = (it["kind"], re.sub(r"\d+", "N", it["what"]), re.sub(r"\d+", "N", it["detail"]))
            groups.setdefault(key, []).append(it)
        for (kind, what, why), its in sorted(groups.items()):
            files = [it["file"] for it in its]
            if len(its) == 1:
                what, why = its[0]["what"], its[0]["detail"]
            print("NOT CHECKED [%s] %s (%d file(s): %s%s): %s" % (
                kind, what, len(files), ", ".join(files[:3]), ", ..." if len(files) > 3 else "", why))


# ------------------------------------------------------------------ helpers

def erid(r):
    v = r.get("event_record_id")
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return v if isinstance(v, int) else None


def has_channel(r):
    return isinstance(r.get("channel"), str) and r.get("channel") != ""


def all_values(r):
    return evtxlib.flat_values(r.get("event_data")) + evtxlib.flat_values(r.get("user_data"))


class FileRun:
    def __init__(self, name, path, facts):
        self.name = name
        self.path = path
        self.facts = facts
        self.res = None
        self.records = []
        self.live = []
        self.recovered = []
        self.data = b""
        self.chunks = []
        self.usable = False


def pair_key(r):
    return (r.get("channel"), r.get("event_id"))


# ------------------------------------------------------------------ per file

def check_integrity(rep, fr):
    f = fr.facts
    if f.sha256 is None:
        rep.add(False, fr.name, "integrity", "sha256/size/format line", "missing in EXPECTED.md")
        return
    rep.add(evtxlib.file_sha256(fr.path) == f.sha256, fr.name, "integrity", "sha256 " + f.sha256[:16],
            "file differs from the one EXPECTED.md describes", "corpus")
    rep.add(len(fr.data) == f.size, fr.name, "integrity", "%d bytes" % f.size, "file has %d" % len(fr.data), "corpus")
    v = evtxlib.header_version(fr.data)
    rep.add(v == f.fmt, fr.name, "integrity", "format %d.%d" % f.fmt, "header says %s" % (v,), "corpus")


def check_run(rep, fr, note):
    res = fr.res
    n = fr.name
    crashed = res.rc is None or res.rc < 0
    rep.add(not res.timed_out, n, "run", "finishes within %ds" % TIMEOUT,
            "killed after %.0fs" % res.seconds, "contract")
    rep.add(not crashed, n, "run", "no crash", "terminated by signal %s; stderr tail: %s"
            % (-res.rc if res.rc else "?", res.stderr[-400:].decode("utf-8", "replace")), "contract")
    rep.add(res.rc in (0, 3), n, "run", "exit code 0 or 3", "exit %s; %s"
            % (res.rc, ("could not start: " + res.exec_error) if res.exec_error else
               "stderr: " + res.stderr[:300].decode("utf-8", "replace")), "contract")
    rss_mb = res.maxrss_kb / 1024.0
    rep.add(rss_mb <= MAX_RSS_MB, n, "run", "peak RSS <= %d MB" % MAX_RSS_MB, "%.0f MB" % rss_mb, "contract")
    diags = evtxlib.diagnostic_lines(res.stderr)
    bad = [d for d in diags if not evtxlib.DIAG_OFFSET_RE.search(d) or n not in d]
    rep.add(not bad, n, "run", "every warning/error names the file and a byte offset (README)",
            "%d without, e.g. %s" % (len(bad), short(bad[:3])), "contract")
    if res.rc == 3:
        rep.add(bool(evtxlib.diagnostic_offsets(res.stderr)), n, "run",
                "exit 3 (partial) comes with diagnostics naming offsets",
                "stderr: %s" % res.stderr[:300].decode("utf-8", "replace"), "contract")


def check_contract(rep, fr):
    n = fr.name
    problems = []
    size = len(fr.data)
    for k, r in enumerate(fr.records):
        where = "record %d (offset %s)" % (k, r.get("offset"))
        if r.get("artifact") != "evtx.record":
            problems.append("%s: artifact %s" % (where, short(r.get("artifact"))))
        src = r.get("source")
        if not (isinstance(src, str) and (src == fr.path or os.path.basename(src) == fr.name)):
            problems.append("%s: source %s" % (where, short(src)))
        off, ch = r.get("offset"), r.get("chunk")
        if not isinstance(off, int) or not (4096 <= off < size):
            problems.append("%s: offset %s" % (where, short(off)))
        elif not isinstance(ch, int) or not (4096 + ch * 65536 + 512 <= off < 4096 + (ch + 1) * 65536):
            problems.append("%s: chunk %s does not hold offset %d" % (where, short(ch), off))
        for key in ("record_id", "event_id"):
            if not isinstance(r.get(key), int) or isinstance(r.get(key), bool):
                if not (key == "event_id" and r.get("recovered") and key not in r):
                    problems.append("%s: %s %s is not an integer" % (where, key, short(r.get(key))))
        if erid(r) is None and not r.get("recovered"):
            problems.append("%s: event_record_id %s" % (where, short(r.get("event_record_id"))))
        tc = r.get("time_created")
        if not (isinstance(tc, str) and evtxlib.TIME7_RE.match(tc)):
            if not (r.get("recovered") and tc is None):
                problems.append("%s: time_created %s is not YYYY-MM-DDThh:mm:ss.fffffffZ" % (where, short(tc)))
        w = r.get("written")
        if w is None:
            # absent is taken for a header FILETIME of 0 (saved logs have it on
            # their last record); docs/output.md does not say "when present"
            h = evtxlib.record_header_at(fr.data, off if isinstance(off, int) else None)
            if h is None or h.written != 0:
                problems.append("%s: written absent, header FILETIME %s" % (where, h.written if h else "?"))
        elif not ((isinstance(w, str) and evtxlib.TIME7_RE.match(w)) or (isinstance(w, int) and not isinstance(w, bool))):
            problems.append("%s: written %s" % (where, short(w)))
        for key in ("recovered", "checksum_ok"):
            if not isinstance(r.get(key), bool):
                problems.append("%s: %s %s is not a boolean" % (where, key, short(r.get(key))))
        for key in ("provider", "channel", "computer", "user_sid"):
            if key in r and not isinstance(r[key], str):
                problems.append("%s: %s %s is not a string" % (where, key, short(r[key])))
        if "user_sid" in r and isinstance(r["user_sid"], str) and not r["user_sid"].startswith("S-1-"):
            problems.append("%s: user_sid %s" % (where, short(r["user_sid"])))
        if "level" in r and (not isinstance(r["level"], int) or isinstance(r["level"], bool)):
            problems.append("%s: level %s is not a number" % (where, short(r["level"])))
        ed = r.get("event_data")
        if ed is not None:
            if not isinstance(ed, dict):
                problems.append("%s: event_data is not an object" % where)
            else:
                for key, v in ed.items():
                    vs = v if isinstance(v, list) else [v]
                    if not all(isinstance(x, str) for x in vs):
                        problems.append("%s: event_data.%s %s is not a string or array of strings" % (where, key, short(v)))
                if "Data" in ed and not isinstance(ed["Data"], list):
                    problems.append("%s: event_data.Data (unnamed items) is not an array" % where)
        ud = r.get("user_data")
        if ud is not None and not isinstance(ud, dict):
            problems.append("%s: user_data is not an object" % where)
    rep.add(not problems, n, "contract", "field names and types of docs/output.md (%d records)" % len(fr.records),
            "%d problem(s): %s" % (len(problems), "; ".join(problems[:5])), "contract")
    offs = [r.get("offset") for r in fr.records if isinstance(r.get("offset"), int)]
    order_ok = all(a < b for a, b in zip(offs, offs[1:]))
    rep.add(order_ok, n, "contract", "records in file order (offsets increase)",
            "first disorder at %s" % next(("%d -> %d" % (a, b) for a, b in zip(offs, offs[1:]) if a >= b), ""),
            "contract")
    bad = []
    for r in fr.records:
        h = evtxlib.record_header_at(fr.data, r.get("offset"))
        if h is None or h.record_id != r.get("record_id"):
            bad.append("offset %s: %s" % (r.get("offset"), "no record signature" if h is None else
                                             "header id %d, record_id %s" % (h.record_id, r.get("record_id"))))
            continue
        w = r.get("written")
        want = evtxlib.filetime_iso(h.written)
        if w is not None and w != want and w != h.written:
            bad.append("offset %s: written %s, header FILETIME %d = %s" % (r.get("offset"), short(w), h.written, want))
    rep.add(not bad, n, "contract", "a record header with the same record_id (and written time) at each offset",
            "%d record(s): %s" % (len(bad), "; ".join(bad[:4])), "contract")


def note_int(pattern, note):
    m = re.search(pattern, note)
    return m


def expected_count(f):
    """(count, extra_over_libevtx, extra_pairs {(channel-substring, eid): k})"""
    base = f.oracle_count()
    m = re.search(r"The right answer is (\d+) real records", f.note)
    if not m:
        return base, 0, {}
    right = int(m.group(1))
    extra = right - (base or 0)
    pairs = {}
    for mm in re.finditer(r"return (\w+) more (\S+) (\d+) records", f.note):
        k = WORDS.get(mm.group(1).lower()) or (int(mm.group(1)) if mm.group(1).isdigit() else 0)
        pairs[(mm.group(2), int(mm.group(3)))] = k
    return right, extra, pairs


def check_counts(rep, fr):
    f = fr.facts
    n = fr.name
    src = f.oracle()
    want, extra, extra_pairs = expected_count(f)
    if want is None:
        rep.add(False, n, "count", "oracle count", "EXPECTED.md gives no usable count for %s" % src)
        return
    label = "%d live records (%s%s)" % (want, src, ", note: right answer" if extra else "")
    rep.add(len(fr.live) == want, n, "count", label,
            "wmihunt returned %d (+%d recovered)" % (len(fr.live), len(fr.recovered)),
            "note" if extra else src)

    ids = [erid(r) for r in fr.live if erid(r) is not None]
    if f.id_range:
        lo, hi = f.id_range
        if extra:
            outside = [i for i in ids if i < lo or i > hi]
            rep.add(lo in ids and hi in ids and len(outside) <= extra, n, "ids",
                    "EventRecordID %d..%d present, at most %d outside (the note's extra records)" % (lo, hi, extra),
                    "outside: %s; lo present %s, hi present %s" % (outside[:5], lo in ids, hi in ids), "note")
        else:
            rep.add(bool(ids) and min(ids) == lo, n, "ids", "lowest EventRecordID %d" % lo,
                    "wmihunt %s" % (min(ids) if ids else None), f.oracle())
            rep.add(bool(ids) and max(ids) == hi, n, "ids", "highest EventRecordID %d" % hi,
                    "wmihunt %s" % (max(ids) if ids else None), f.oracle())
    if f.time_range:
        t1, t2 = f.time_range
        times = [r.get("time_created") for r in fr.live if evtxlib.time_key(r.get("time_created"))]
        tmin = min(times, key=evtxlib.time_key) if times else None
        tmax = max(times, key=evtxlib.time_key) if times else None
        s = "libevtx" if f.oracle() == "libevtx" else "evtx-rs"
        if extra:
            k1 = evtxlib.time_key(t1)
            k2 = evtxlib.time_key(t2)
            outside = [t for t in times if evtxlib.time_key(t) < k1 or evtxlib.time_key(t) > k2]
            has1 = any(evtxlib.times_equal(t, t1) for t in times)
            has2 = any(evtxlib.times_equal(t, t2) for t in times)
            rep.add(has1 and has2 and len(outside) <= extra, n, "times",
                    "TimeCreated %s and %s present, at most %d outside" % (t1, t2, extra),
                    "outside %s" % outside[:3], "note")
        else:
            rep.add(tmin is not None and evtxlib.times_equal(tmin, t1), n, "times", "earliest TimeCreated %s" % t1,
                    "wmihunt %s" % tmin, s)
            rep.add(tmax is not None and evtxlib.times_equal(tmax, t2), n, "times", "latest TimeCreated %s" % t2,
                    "wmihunt %s" % tmax, s)

    # Channel|EventID pairs
    counts = {}
    for r in fr.live:
        counts[pair_key(r)] = counts.get(pair_key(r), 0) + 1
    listed = set()
    psrc = "libevtx" if "libevtx failed" not in (f.pairs_source or "") and (f.pairs_source or "").startswith("libevtx") else "evtx-rs"
    for ch, eid, k in f.pairs:
        add = 0
        for (sub, e), x in extra_pairs.items():
            if e == eid and sub in ch:
                add += x
        got = counts.get((ch, eid), 0)
        rep.add(got == k + add, n, "pairs", "%s|%d = %d%s" % (ch, eid, k + add, " (note: +%d)" % add if add else ""),
                "wmihunt %d" % got, "note" if add else psrc)
        listed.add((ch, eid))
    if f.pairs:
        unlisted = {p: c for p, c in counts.items() if p not in listed}
        want_more = f.pairs_more
        ok = len(unlisted) == want_more
        detail = "wmihunt has %d unlisted pair(s): %s" % (len(unlisted), short(sorted(
            ("%s|%s" % p, c) for p, c in unlisted.items())[:6]))
        if want_more:
            floor = min(k for _, _, k in f.pairs)
            over = {p: c for p, c in unlisted.items() if c > floor}
            ok = ok and not over
            if over:
                detail += "; more frequent than the listed minimum %d: %s" % (floor, short(
                    sorted(("%s|%s" % p, c) for p, c in over.items())[:4]))
        rep.add(ok, n, "pairs", "%d distinct Channel|EventID pairs (%d listed + %d more)"
                % (len(f.pairs) + want_more, len(f.pairs), want_more), detail, psrc)


def check_wmi(rep, fr, exp):
    f = fr.facts
    n = fr.name
    if f.wmi is None:
        rep.add(False, n, "wmi", "WMI-relevant records line", "missing in EXPECTED.md")
        return
    src = f.oracle()
    if not f.wmi:
        # "none": no record of this file falls in any category of the coverage table
        cats = sorted({c for c, _, _ in exp.coverage})
        hits = {}
        for c in cats:
            cat = evtxlib.Category(c, exp)
            if cat.pred is None:
                continue
            k = sum(1 for r in fr.live if cat(r))
            if k:
                hits[c] = k
        rep.add(not hits, n, "wmi", "WMI-relevant records: none (no record in any of %d categories)" % len(cats),
                "wmihunt finds %s" % short(hits), src)
    for c, k in sorted(f.wmi.items()):
        cat = evtxlib.Category(c, exp)
        if cat.pred is None:
            rep.add(False, n, "wmi", c, "category not understood by the test (add it to evtxlib.Category)")
            continue
        got = sum(1 for r in fr.live if cat(r))
        rep.add(got == k, n, "wmi", "%s: %d" % (c, k), "wmihunt %d" % got, src)
    if f.wmi_recovered is not None:
        live_ids = {r.get("record_id") for r in fr.live} | {erid(r) for r in fr.live}
        dup = [r for r in fr.recovered if r.get("record_id") in live_ids or erid(r) in live_ids]
        for c, k in sorted(f.wmi_recovered.items()):
            cat = evtxlib.Category(c, exp)
            got = sum(1 for r in fr.recovered if cat.pred and cat(r))
            if got == k:
                rep.add(True, n, "wmi-recovered", "%s among recovered: %d" % (c, k), "", "libevtx")
            elif got == 0 and not dup:
                rep.skip(n, "wmi-recovered", "%s among recovered: %d" % (c, k),
                         "libevtx's recovered copies have live ids; wmihunt drops copies of live "
                         "records (notes §3) and reports none, so there is nothing to compare", "libevtx")
            else:
                rep.add(False, n, "wmi-recovered", "%s among recovered: %d" % (c, k),
                        "wmihunt %d among %d recovered records" % (got, len(fr.recovered)), "libevtx")


def check_keyvalues(rep, fr):
    f = fr.facts
    n = fr.name
    src = f.oracle()
    by_id = {}
    for r in fr.live:
        by_id.setdefault(erid(r), []).append(r)
    for rid, eid, kvs, _line in f.keyvalues:
        cands = [r for r in by_id.get(rid, []) if r.get("event_id") == eid]
        rep.add(bool(cands), n, "key values", "record %d has EventID %d" % (rid, eid),
                "records with that EventRecordID: %s" % short([r.get("event_id") for r in by_id.get(rid, [])]), src)
        for field, spec in kvs:
            what = "record %d (%d) %s" % (rid, eid, field)
            if not cands:
                rep.add(False, n, "key values", what, "record missing", src)
                continue
            details = []
            ok = False
            for r in cands:
                found, val, where = evtxlib.lookup_field(r, field)
                if not found:
                    details.append(where)
                    continue
                good, detail = evtxlib.check_value_spec(val, spec, src)
                if good:
                    ok = True
                    details = [detail] if detail else []
                    break
                details.append("%s (offset %s): %s" % (where, r.get("offset"), detail))
            rep.add(ok, n, "key values", what, "; ".join(details), src)


# ------------------------------------------------------------------ notes

def unbound_prefix(v):
    """A value holding XML markup that uses a namespace prefix it does not declare."""
    if not isinstance(v, str) or "<" not in v:
        return False
    pre = set(re.findall(r"</?([A-Za-z_][\w.-]*):[A-Za-z_]", v))
    pre |= set(re.findall(r"\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*=\"", v))
    pre -= {"xml", "xmlns"}
    return bool(pre - set(re.findall(r"xmlns:([A-Za-z_][\w.-]*)=", v)))


def records_with(fr, pred):
    return [r for r in fr.live if pred(r)]


def check_notes(rep, fr, ctx):
    f = fr.facts
    n = fr.name
    note = f.note or ""
    handled = False

    for m in re.finditer(r"(?:one record|record that python-evtx/evtx-rs return) (?:with|has) EventID (\d+) and no Channel \(garbage", note):
        handled = True
        e = int(m.group(1))
        bad = records_with(fr, lambda r: r.get("event_id") == e and not has_channel(r))
        rep.add(not bad, n, "note", "no live garbage record (EventID %d, no Channel)" % e,
                "offsets %s" % [r.get("offset") for r in bad][:5], "note")
    m = re.search(r"evtx-rs returns a \d+\w* record \(EventID (\d+), no Channel\) that the other readers do not", note)
    if m:
        handled = True
        bad = records_with(fr, lambda r: not has_channel(r))
        rep.add(not bad, n, "note", "no live record without a Channel (the half record evtx-rs returns)",
                "offsets %s" % [r.get("offset") for r in bad][:5], "note")
    if "plus a reported error" in note:
        handled = True
        rep.add(fr.res.rc == 3 and bool(evtxlib.diagnostic_offsets(fr.res.stderr)), n, "note",
                "the error is reported (exit 3, offsets named)", "exit %s" % fr.res.rc, "note")
    if re.search(r"first chunk data CRC mismatch", note):
        handled = True
        c0 = [r for r in fr.live if r.get("chunk") == 0]
        rep.add(bool(c0) and all(r.get("checksum_ok") is False for r in c0), n, "note",
                "records of chunk 0 carry checksum_ok false (data CRC mismatch)",
                "%d records from chunk 0, checksum_ok %s" % (len(c0), sorted({str(r.get("checksum_ok")) for r in c0})), "note")
    if re.search(r"Chunks with zeroed magic", note):
        handled = True
        badslots = {c.index for c in fr.chunks if not c.magic_ok}
        bad = [r for r in fr.live if r.get("chunk") in badslots]
        rep.add(not bad, n, "note", "no live record from a chunk slot without ElfChnk magic (%d such slots)" % len(badslots),
                "%d live records from them" % len(bad), "note")
    m = re.search(r"data size 0 at file offset (\d+)", note)
    if m:
        handled = True
        off = int(m.group(1))
        rep.add(fr.res.rc == 3, n, "note", "exit 3 for the record of data size 0", "exit %s" % fr.res.rc, "note")
        rep.add(off in evtxlib.diagnostic_offsets(fr.res.stderr), n, "note",
                "a diagnostic names offset %d (0x%x)" % (off, off),
                "offsets named: %s" % sorted(evtxlib.diagnostic_offsets(fr.res.stderr))[:10], "note")
        rep.add(not [r for r in fr.live if r.get("offset") == off], n, "note",
                "no live record at offset %d" % off, "", "note")
    m = re.search(r"libevtx 20181227 stops at record (\d+)", note)
    if m:
        handled = True
        k = int(m.group(1))
        past = [r for r in fr.live if (erid(r) or 0) > k]
        rep.add(bool(past), n, "note", "records past libevtx's stop (EventRecordID > %d) are returned" % k,
                "%d returned" % len(past), "note")
    if re.search(r"records carry no template|template-less record", note):
        handled = True
        bad = [r for r in fr.live if not isinstance(r.get("event_id"), int) or not has_channel(r)]
        rep.add(bool(fr.live) and not bad, n, "note", "template-less records rendered (EventID and Channel on each)",
                "%d of %d without" % (len(bad), len(fr.live)), "note")
    if re.search(r"many empty <Data> elements that must be kept", note):
        handled = True
        best = max([sum(1 for v in evtxlib.flat_values(r.get("event_data")) if v == "") for r in fr.live] or [0])
        rep.add(best >= 2, n, "note", "empty Data elements kept (>= 2 empty values in a record)",
                "most empty values in one record: %d" % best, "note")
    m = re.search(r"record (\d+) is the crate snapshot", note)
    if m:
        handled = True
        k = int(m.group(1))
        rep.add(any(erid(r) == k for r in fr.live), n, "note", "record %d returned" % k, "", "note")
        rep.skip(n, "note", "SizeT rendering of record %d" % k,
                 "EXPECTED.md names no field; compared with libevtx in diff_evtxexport.py", "note")
    m = re.search(r"record (\d+) \(Sysmon (\d+)\) has invalid UTF-16.*U\+FFFD", note)
    if m:
        handled = True
        k, e = int(m.group(1)), int(m.group(2))
        rs = [r for r in fr.live if erid(r) == k]
        ok = bool(rs) and rs[0].get("event_id") == e and any("\ufffd" in v for v in all_values(rs[0]))
        rep.add(ok, n, "note", "record %d (EventID %d) returned with U+FFFD for the invalid UTF-16" % (k, e),
                "found %d, event_id %s" % (len(rs), rs[0].get("event_id") if rs else None), "note")
    m = re.search(r"libevtx output not well-formed for (\d+) records", note)
    if m:
        # What makes those N records ill-formed in libevtx's output is not a
        # character outside XML 1.0 (no value of the file holds one: checked on
        # the bytes and on evtxexport's output) but ANSI strings holding XML
        # with namespace prefixes they do not declare (`<s:Envelope>`), which
        # libevtx prints unescaped.  Asserted: those N values come back whole
        # and the JSONL stays valid (checked for every file); no value may hold
        # a raw character outside XML 1.0 unescaped in JSON (json.loads would
        # have refused the line).
        handled = True
        k = int(m.group(1))
        got = sum(1 for r in fr.live if any(unbound_prefix(v) for v in all_values(r)))
        rep.add(got == k, n, "note", "%d records whose libevtx XML is not well-formed (values with "
                "undeclared namespace prefixes) come back whole" % k, "wmihunt %d" % got, "note")
    m = re.search(r"The only (\d+) that names (.+?) is the (.+?) module manifest \(record (\d+)\)", note)
    if m:
        handled = True
        e, names, k = int(m.group(1)), re.split(r"/", m.group(2)), int(m.group(4))
        hits = {}
        for c in names:
            cat = evtxlib.Category("PS %d mentions %s" % (e, c))
            hits[c] = sorted(erid(r) for r in fr.live if cat(r))
        ok = all(v == [k] for v in hits.values())
        rep.add(ok, n, "note", "the only %d naming %s is record %d" % (e, "/".join(names), k), short(hits), "note")
    m = re.search(r'(\d+) here is the benign built-in "([^"]+)" -> (\w+) binding', note)
    if m:
        handled = True
        e, filt, cons = int(m.group(1)), m.group(2), m.group(3)
        rs = [r for r in fr.live if r.get("event_id") == e and r.get("channel") == evtxlib.WMI_ACTIVITY]
        bad = []
        for r in rs:
            _, ess, _ = evtxlib.lookup_field(r, "ESS")
            _, con, _ = evtxlib.lookup_field(r, "CONSUMER")
            if ess != filt or not (isinstance(con, str) and con.startswith(cons)):
                bad.append((erid(r), ess, con))
        rep.add(bool(rs) and not bad, n, "note", "every %d is %s -> %s (%d records)" % (e, filt, cons, len(rs)),
                short(bad[:3]), "note")
    m = re.search(r"(\d+) is the Security Center temporary consumer", note)
    if m:
        handled = True
        e = int(m.group(1))
        rs = [r for r in fr.live if r.get("event_id") == e and r.get("channel") == evtxlib.WMI_ACTIVITY]
        bad = []
        for r in rs:
            _, pc, _ = evtxlib.lookup_field(r, "PossibleCause")
            _, ns, _ = evtxlib.lookup_field(r, "NamespaceName")
            if pc != "Temporary" or not (isinstance(ns, str) and "securitycenter" in ns.lower()):
                bad.append((erid(r), pc, ns))
        rep.add(bool(rs) and not bad, n, "note", "every %d is a temporary SecurityCenter consumer (%d)" % (e, len(rs)),
                short(bad[:3]), "note")
    m = re.search(r"Only real (\d+) sample found", note)
    if m:
        handled = True
        ctx["only_sample"].append((n, int(m.group(1))))
    m = re.search(r"(\d+) live record, (\d+) recovered records in slack|Single record, (\d+) recovered \(slack\) records per libevtx", note)
    if m:
        handled = True
        rep.skip(n, "note", "recovered records in slack per libevtx",
                 "libevtx's evtxinfo count (evtxexport renders %s of them); wmihunt reports %d recovered"
                 % (fr.facts.evtxexport_recovered, len(fr.recovered)), "note")
    if "no ParentProcessName field" in note:
        handled = True
        rs = [r for r in fr.live if r.get("event_id") == 4688]
        bad = [erid(r) for r in rs if evtxlib.ed_values(r, "ParentProcessName")]
        rep.add(bool(rs) and not bad, n, "note", "no 4688 has ParentProcessName (%d records)" % len(rs),
                "with it: %s" % bad[:5], "note")
    if re.search(r'ParentImage "\?"', note):
        handled = True
        rs = [r for r in fr.live if r.get("event_id") == 1 and "?" in evtxlib.ed_values(r, "ParentImage")]
        rep.add(bool(rs), n, "note", 'a Sysmon 1 with ParentImage "?"', "", "note")
    if re.search(r"Valid chunk\(s\) located after all-zero chunks", note):
        handled = True
        zero = [c.index for c in fr.chunks if c.all_zero_header]
        later = [c.index for c in fr.chunks if c.magic_ok and c.records and zero and c.index > zero[0]]
        got = {r.get("chunk") for r in fr.live}
        ok = bool(zero) and bool(later) and all(i in got for i in later)
        rep.add(ok, n, "note", "records returned from chunks after the first all-zero slot %s" % (zero[:1],),
                "valid chunks after it %s, wmihunt returns chunks %s" % (later, sorted(x for x in got if isinstance(x, int))), "note")
    if re.search(r"bad chunk checksums and torn records", note):
        handled = True
        bad = [r for r in fr.live if r.get("checksum_ok") is False]
        rep.add(bool(bad), n, "note", "records of chunks with bad checksums flagged checksum_ok false",
                "none flagged", "note")
        rep.add(fr.res.rc == 3 and bool(evtxlib.diagnostic_offsets(fr.res.stderr)), n, "note",
                "torn records reported (exit 3, offsets named)", "exit %s" % fr.res.rc, "note")
    if re.search(r"Chunk without valid CRC32s", note):
        handled = True
        rep.skip(n, "note", "checksum_ok with chunk flag 0x4 (no CRC32)",
                 "the notes call the checksums meaningless, the docs define checksum_ok by CRC match; "
                 "the count is asserted", "note")
    for pat in (r"Bool substitution values other than 0/1", r"more than one XML fragment",
                r"malformed ANSI/UTF-16 strings", r"Element name offsets missing"):
        if re.search(pat, note):
            handled = True
            rep.skip(n, "note", pat, "EXPECTED.md gives no rendered value; the count is asserted and "
                     "values are compared with libevtx by diff_evtxexport.py", "note")
    if "must not report as WMI use" in note:
        rep.skip(n, "note", "benign module-manifest mention", "a detector property, not the reader's", "note")
    if not handled and fr.facts.note:
        if fr.facts.section.startswith("Malformed"):
            print("NOTE %s: no assertion of its own (its facts are the bullets): %s" % (n, fr.facts.note[:160]))
        elif ctx.get("verbose"):
            print("NOTE %s: descriptive, facts are the bullets: %s" % (n, fr.facts.note[:120]))
    # other readers' figures
    if fr.facts.published:
        rep.skip(n, "other reader", "published expectation", "evtx-rs's own test figure; used to choose the oracle only", "")


def check_recovered_info(rep, fr):
    f = fr.facts
    rep.skip(fr.name, "recovered", "evtxinfo +%s recovered, evtxexport -m recovered %s"
             % (f.evtxinfo_recovered, f.evtxexport_recovered),
             "libevtx counts copies of live records and unrenderable fragments; wmihunt reports %d recovered"
             % len(fr.recovered), "libevtx")


# ------------------------------------------------------------------ corpus-wide

def check_coverage(rep, exp, runs):
    for cat_label, items, _line in exp.coverage:
        cat = evtxlib.Category(cat_label, exp)
        for fname, k in items:
            fr = runs.get(fname)
            if cat.pred is None:
                rep.add(False, fname, "coverage", cat_label, "category not understood")
                continue
            if fr is None or not fr.usable:
                rep.add(False, fname, "coverage", "%s: %d" % (cat_label, k), "file not read")
                continue
            got = sum(1 for r in fr.live if cat(r))
            rep.add(got == k, fname, "coverage", "table: %s: %d" % (cat_label, k), "wmihunt %d" % got,
                    fr.facts.oracle() if fr.facts else "")
        # files not in the row must have none (the table lists every file with a hit)
        listed = {fn for fn, _ in items}
        others = {}
        for fname, fr in runs.items():
            if fname in listed or not fr.usable or cat.pred is None:
                continue
            k = sum(1 for r in fr.live if cat(r))
            if k:
                others[fname] = k
        rep.add(not others, "(corpus)", "coverage", "table: %s only in the listed files" % cat_label,
                "also in %s" % short(others), "derived")


def check_not_covered(rep, exp, runs):
    text = exp.not_covered
    if not text:
        return
    body = text.split(":", 1)[1] if ":" in text else text
    body = body.split(". Fixtures")[0]
    items = [x.strip() for x in body.split(";") if x.strip()]
    usable = [fr for fr in runs.values() if fr.usable]

    def count(label):
        cat = evtxlib.Category(label, exp)
        return {fr.name: k for fr in usable for k in [sum(1 for r in fr.live if cat(r))] if k}

    for item in items:
        labels = []
        m = re.fullmatch(r"Sysmon 1 or 4688 for \*\*(\S+?)\*\*", item)
        if m:
            labels = ["Sysmon 1 Image=%s" % m.group(1), "4688 NewProcessName=%s" % m.group(1)]
        m = m or None
        mm = re.fullmatch(r"\*\*(\S+?)\*\* in (\d+)/(\d+)", item)
        if mm:
            labels = ["PS %s mentions %s" % (mm.group(2), mm.group(1)), "PS %s mentions %s" % (mm.group(3), mm.group(1))]
        mm2 = re.fullmatch(r"(\S+\.exe) as Image", item)
        if mm2:
            labels = ["Sysmon 1 Image=%s" % mm2.group(1)]
        mm3 = re.fullmatch(r"(\S+\.exe) in 4688", item)
        if mm3:
            labels = ["4688 NewProcessName=%s" % mm3.group(1), "4688 ParentProcessName=%s" % mm3.group(1)]
        if labels:
            hits = {l: count(l) for l in labels}
            rep.add(not any(hits.values()), "(corpus)", "not covered", item, "found: %s" % short(hits), "derived")
            continue
        mm = re.match(r"a \*malicious\* (\d+) \(([^)]*)\) in WMI-Activity", item)
        if mm:
            e = int(mm.group(1))
            classes = [c.strip() for c in mm.group(2).split("/")]
            hits = {}
            for fr in usable:
                for r in fr.live:
                    if r.get("channel") == evtxlib.WMI_ACTIVITY and r.get("event_id") == e:
                        if any(c.lower() in v.lower() for v in all_values(r) for c in classes):
                            hits.setdefault(fr.name, []).append(erid(r))
            rep.add(not hits, "(corpus)", "not covered", "no %d naming %s" % (e, "/".join(classes)), short(hits), "derived")
            continue
        mm = re.match(r"genuine use of (.+?) in (\d+) \(the only mentions are a module manifest\)", item)
        if mm:
            e = int(mm.group(2))
            names = [c.strip() for c in mm.group(1).split("/")]
            bad = {}
            for fr in usable:
                for r in fr.live:
                    if r.get("event_id") != e or r.get("channel") not in evtxlib.PS_OPERATIONAL:
                        continue
                    text_ = " ".join(all_values(r))
                    if any(c.lower() in text_.lower() for c in names):
                        sbt = (evtxlib.ed_values(r, "ScriptBlockText") or [""])[0]
                        if not (sbt.lstrip().startswith("@{") and "CmdletsToExport" in sbt):
                            bad.setdefault(fr.name, []).append(erid(r))
            rep.add(not bad, "(corpus)", "not covered",
                    "every %d naming %s is a module manifest (@{ ... CmdletsToExport ...})" % (e, "/".join(names)),
                    "not a manifest: %s" % short(bad), "derived")
            continue
        rep.skip("(corpus)", "not covered", item, "no rule for this sentence in the test")


def check_only_sample(rep, ctx, runs):
    for fname, e in ctx["only_sample"]:
        others = {}
        for fr in runs.values():
            if fr.name == fname or not fr.usable:
                continue
            k = sum(1 for r in fr.live if r.get("channel") == evtxlib.WMI_ACTIVITY and r.get("event_id") == e)
            if k:
                others[fr.name] = k
        rep.add(not others, fname, "note", "no other corpus file has a WMI-Activity %d" % e, short(others), "note")


def check_multi(rep, binary, runs):
    two = [fr for fr in runs.values() if fr.usable and fr.res.rc == 0 and 0 < len(fr.records) < 50][:2]
    if len(two) < 2:
        rep.skip("(corpus)", "contract", "two files in one run", "fewer than two small clean files")
        return
    res = evtxlib.run_wmihunt(binary, [two[0].path, two[1].path], timeout=TIMEOUT)
    recs, problems = evtxlib.parse_jsonl(res.stdout)
    by_src = {}
    for r in recs:
        by_src[os.path.basename(str(r.get("source")))] = by_src.get(os.path.basename(str(r.get("source"))), 0) + 1
    want = {two[0].name: len(two[0].records), two[1].name: len(two[1].records)}
    rep.add(res.rc == 0 and not problems and by_src == want, "(corpus)", "contract",
            "two files in one run keep their own source and records", "exit %s, got %s, want %s"
            % (res.rc, by_src, want), "contract")


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("corpus")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json-report", help="write every check as JSON here")
    ap.add_argument("--only", action="append", help="only these files (repeatable; for debugging)")
    a = ap.parse_args()

    if not os.path.isdir(a.corpus):
        print("skipped: EVTX corpus folder %s is absent" % a.corpus)
        return 0
    rep = Report(a.verbose)
    exp_path = os.path.join(a.corpus, "EXPECTED.md")
    if not os.path.isfile(exp_path):
        rep.add(False, "EXPECTED.md", "setup", "EXPECTED.md present", "missing in %s" % a.corpus)
        print("%d passed, %d failed" % (rep.passed, rep.failed))
        return 1
    exp = evtxlib.parse_expected(exp_path)
    for line in exp.unparsed:
        rep.add(False, "EXPECTED.md", "parse", "line understood", line[:200])
    for name in exp.order:
        for line in exp.files[name].unparsed:
            rep.add(False, name, "parse", "line understood", line[:200])
    nfacts = sum(len(f.keyvalues) for f in exp.files.values())
    print("EXPECTED.md: %d files, %d key-value lines, %d coverage rows"
          % (len(exp.order), nfacts, len(exp.coverage)))

    # the binary must exist and know `evtx`
    first = next((os.path.join(a.corpus, n) for n in exp.order if os.path.isfile(os.path.join(a.corpus, n))), None)
    if not (os.path.isfile(a.binary) and os.access(a.binary, os.X_OK)):
        rep.add(False, "(setup)", "setup", "wmihunt binary", "%s does not exist or is not executable" % a.binary)
        print("%d passed, %d failed" % (rep.passed, rep.failed))
        return 1
    if first:
        probe = evtxlib.run_wmihunt(a.binary, [first], timeout=TIMEOUT)
        why = evtxlib.not_implemented_reason(a.binary, probe)
        if why:
            rep.add(False, "(setup)", "setup", "`wmihunt evtx` available", why)
            print("%d passed, %d failed" % (rep.passed, rep.failed))
            return 1

    runs = {}
    ctx = {"only_sample": [], "verbose": a.verbose}
    for name in exp.order:
        if a.only and name not in a.only:
            continue
        f = exp.files[name]
        path = os.path.join(a.corpus, name)
        fr = FileRun(name, path, f)
        runs[name] = fr
        if not os.path.isfile(path):
            rep.add(False, name, "setup", "file present", "missing from %s" % a.corpus)
            continue
        fr.data = open(path, "rb").read()
        fr.chunks = evtxlib.scan_chunks(fr.data)
        check_integrity(rep, fr)
        fr.res = evtxlib.run_wmihunt(a.binary, [path], timeout=TIMEOUT)
        check_run(rep, fr, f.note)
        fr.records, problems = evtxlib.parse_jsonl(fr.res.stdout)
        rep.add(not problems, name, "contract", "every output line is a JSON object in UTF-8",
                "%d bad line(s): %s" % (len(problems), "; ".join(problems[:3])), "contract")
        fr.live = [r for r in fr.records if r.get("recovered") is not True]
        fr.recovered = [r for r in fr.records if r.get("recovered") is True]
        fr.usable = True
        check_contract(rep, fr)
        check_counts(rep, fr)
        check_wmi(rep, fr, exp)
        check_keyvalues(rep, fr)
        check_notes(rep, fr, ctx)
        check_recovered_info(rep, fr)
        sys.stdout.flush()

    if not a.only:
        check_coverage(rep, exp, runs)
        check_not_covered(rep, exp, runs)
        check_only_sample(rep, ctx, runs)
        check_multi(rep, a.binary, runs)
    else:
        check_only_sample(rep, ctx, runs)

    if a.json_report:
        with open(a.json_report, "w", encoding="utf-8") as out:
            json.dump(rep.items, out, ensure_ascii=False, indent=1)
    rep.print_notchecked()
    print("%d facts could not be checked (NOT CHECKED above, with the reason)" % rep.notchecked)
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
