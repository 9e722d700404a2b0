#!/usr/bin/env python3
"""A stand-in for `wmihunt evtx --all --format jsonl FILE...` built on
`evtxexport -f xml` (libevtx).  It exists only to prove the test harness
(tests/oracle/validate_harness.py): run through tests/corpus/test_evtx_corpus.py
it must pass every fact of EXPECTED.md that comes from libevtx, and
tests/oracle/diff_evtxexport.py must find no difference.  It is NOT a reader
and nothing else should use it.

Output follows docs/output.md "EVTX records" as far as libevtx gives the data:
values are put into Windows' rendering where libevtx's differs in a way the
text shows (padded HexInt32/64 -> minimal hex, 9 fractional digits -> 7).
Offsets, chunk numbers, header record ids, written times and checksum flags
come from a plain walk of the chunk and record headers (evtxlib.scan_chunks).
With --recover, records `evtxexport -m recovered` prints whole, with an
EventRecordID that no live record has, are emitted with "recovered": true.
Exit: 0, or 3 with `wmihunt: warning: ... @ offset N (0x..)` lines when a
chunk walk stops early, a CRC does not match or evtxexport fails.
"""

import json
import os
import re
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evtxlib  # noqa: E402

PAD_HEX = re.compile(r"^0x(?:[0-9a-f]{8}|[0-9a-f]{16})$")
TIME9 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7})00Z$")


def windows_form(v):
    if isinstance(v, str):
        if PAD_HEX.match(v):
            return hex(int(v, 16))
        m = TIME9.match(v)
        if m:
            return m.group(1) + "Z"
    return v


def nest_user_data(pairs):
    root = {}
    for path, val in pairs:
        parts = path.split("/")
        node = root
        for p in parts[:-1]:
            nxt = node.get(p)
            if isinstance(nxt, list):
                nxt = nxt[-1]
            if not isinstance(nxt, dict):
                nxt = {}
                node[p] = nxt
            node = nxt
        leaf = parts[-1]
        val = windows_form(val)
        if leaf in node:
            if not isinstance(node[leaf], list):
                node[leaf] = [node[leaf]]
            node[leaf].append(val)
        else:
            node[leaf] = val
    return root


def to_record(path, lrec, hdr, chunk_info, recovered):
    f = lrec.fields
    out = {"artifact": "evtx.record", "source": path}
    if hdr is not None:
        out["offset"] = 4096 + hdr.chunk * 65536 + hdr.rel
        out["chunk"] = hdr.chunk
        out["record_id"] = hdr.record_id
        out["written"] = evtxlib.filetime_iso(hdr.written)
    else:
        out["offset"] = None
        out["chunk"] = None
        out["record_id"] = f.get("event_record_id")
    out["event_record_id"] = f.get("event_record_id")
    if "time_created" in f:
        out["time_created"] = windows_form(f["time_created"])
    for k in ("event_id", "provider", "channel", "computer", "level", "user_sid"):
        if k in f:
            out[k] = f[k]
    out["recovered"] = recovered
    ok = True
    if chunk_info is not None:
        ok = bool(chunk_info.header_crc_ok) and bool(chunk_info.data_crc_ok)
    out["checksum_ok"] = ok
    if lrec.has_event_data:
        ed = {}
        items = list(lrec.event_data) + [(n, evtxlib.decode_content(c or "")[0]) for n, c in lrec.other_event_data]
        for name, vals in evtxlib.event_data_map(items).items():
            vals = [windows_form(v) for v in vals]
            ed[name] = vals if (name == "Data" or len(vals) > 1) else vals[0]
        out["event_data"] = ed
    if lrec.has_user_data:
        out["user_data"] = nest_user_data(lrec.user_data)
    return out


def iso_filetime(s):
    import datetime
    p = evtxlib.parse_iso(s)
    if not p:
        return None
    d = datetime.datetime.strptime(p[0] + " " + p[1], "%Y-%m-%d %H:%M:%S")
    delta = d - datetime.datetime(1601, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + int((p[2] + "0000000")[:7])


def find_header(data, rid, time_created, used):
    """Offset of the record header of a recovered record: the header whose
    identifier is RID, else (saved-filtered logs renumber header ids) the
    nearest header before the record's TimeCreated FILETIME in the bytes."""
    pat = struct.pack("<Q", rid)
    p = 0
    while True:
        p = data.find(pat, p)
        if p < 0:
            break
        start = p - 8
        if start >= 0 and data[start:start + 4] == b"**\0\0" and start not in used:
            return evtxlib.record_header_at(data, start)
        p += 1
    ft = iso_filetime(time_created) if time_created else None
    if ft is None:
        return None
    pat = struct.pack("<Q", ft)
    p = 0
    while True:
        p = data.find(pat, p)
        if p < 0:
            return None
        start = data.rfind(b"**\0\0", max(0, p - 65536), p)
        if start >= 0 and start not in used:
            h = evtxlib.record_header_at(data, start)
            if h is not None and h.size >= p - start:
                return h
        p += 1


def one_file(path, out, err, recover):
    data = open(path, "rb").read()
    chunks = evtxlib.scan_chunks(data)
    damaged = False
    by_id = {}
    for c in chunks:
        for h in c.records:
            by_id.setdefault(h.record_id, []).append(h)
        if c.magic_ok and (c.stop or not c.header_crc_ok or not c.data_crc_ok):
            damaged = True
            rel = c.stop[1] if c.stop else 0
            why = c.stop[0] if c.stop else "chunk CRC mismatch"
            off = c.offset + rel
            err.append("wmihunt: warning: %s @ offset %d (0x%x): [evtxexport shim] chunk %d: %s"
                       % (path, off, off, c.index, why))
    res, live, incomplete = evtxlib.run_evtxexport(path)
    if res.rc != 0 or incomplete:
        damaged = True
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()
        err.append("wmihunt: warning: %s @ offset 0 (0x0): [evtxexport shim] evtxexport exit %s: %s"
                   % (path, res.rc, msg[0] if msg else ""))
    recs = []
    live_ids = set()
    # libevtx prints the records of the walk in file order, torn ones left out;
    # header identifiers can differ from EventRecordID (logs saved filtered are
    # renumbered 1..n), so records are paired by position.
    walked = [h for c in chunks for h in c.records if not h.torn]
    by_position = len(walked) == len(live)
    for k, lr in enumerate(live):
        rid = lr.fields.get("event_record_id")
        live_ids.add(rid)
        if by_position:
            h = walked[k]
        else:
            hs = by_id.get(rid) or []
            h = hs.pop(0) if hs else None
        ci = chunks[h.chunk] if h is not None else None
        recs.append(to_record(path, lr, h, ci, False))
    rec_recs = evtxlib.run_evtxexport(path, recovered=True)[1] if recover else []
    used = {r["offset"] for r in recs if r.get("offset") is not None}
    for lr in rec_recs:
        rid = lr.fields.get("event_record_id")
        if rid is None or rid in live_ids:
            continue
        live_ids.add(rid)
        h = find_header(data, rid, lr.fields.get("time_created"), used)
        if h is None:
            continue   # no header left in the slack: a shim cannot give an offset
        ci = chunks[h.chunk] if h is not None and 0 <= h.chunk < len(chunks) else None
        used.add(4096 + h.chunk * 65536 + h.rel)
        recs.append(to_record(path, lr, h, ci, True))
    recs.sort(key=lambda r: (r["offset"] is None, r["offset"] or 0))
    for r in recs:
        out.append(json.dumps(r, ensure_ascii=False))
    return damaged


def main(argv):
    if len(argv) >= 3 and argv[1] == "evtx" and argv[2] in ("--help", "-h"):
        sys.stdout.write("usage: evtxexport_shim.py evtx --all [--recover] --format jsonl FILE...\n")
        return 0
    if len(argv) < 2 or argv[1] != "evtx":
        sys.stderr.write("wmihunt: unknown command (evtxexport shim knows only 'evtx')\n")
        return 64
    files = [a for a in argv[2:] if not a.startswith("--") and a not in ("jsonl",)]
    if "--all" not in argv or "jsonl" not in argv:
        sys.stderr.write("evtxexport shim: only `evtx --all --format jsonl FILE...`\n")
        return 64
    if evtxlib.which("evtxexport") is None:
        sys.stderr.write("wmihunt: error: evtxexport shim: evtxexport not on PATH\n")
        return 2
    out, err = [], []
    damaged = False
    for f in files:
        damaged |= one_file(f, out, err, "--recover" in argv)
    sys.stdout.write("".join(line + "\n" for line in out))
    sys.stderr.write("".join(line + "\n" for line in err))
    return 3 if damaged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
