#!/usr/bin/env python3
"""Compare a reference reader's view of a wh-cimgen repository with the model.

Usage:
    wh-cimgen --model-json MODEL.json demo DIR
    python3 run_dissect.py DIR > READER.json      # or run_pycim.py (same JSON shape)
    python3 check_refreader.py MODEL.json READER.json

READER.json is the output of the reference-reader wrappers described in
tests/README.md ("Independent check"): namespaces reached from root and every
__EventFilter, __FilterToConsumerBinding and __EventConsumer-derived instance
with all its properties. Every such live instance of the model must be there
with the same values, states and timestamps. Differences the reader is known
to make (EXPECTED.md "Where the two reference readers disagree") are listed
separately; anything else is a discrepancy and the exit status is 1.
"""
import datetime
import json
import sys

EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def filetime_of(iso):
    t = datetime.datetime.fromisoformat(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    d = t - EPOCH
    return (d.days * 86400 + d.seconds) * 10_000_000 + d.microseconds * 10


def derives(classes, ns, name, target):
    seen = 0
    while name and seen < 64:
        if name.lower() == target.lower():
            return True
        c = classes.get((ns.lower(), name.lower())) or classes.get(("__systemclass", name.lower()))
        name = c["super"] if c else None
        seen += 1
    return False


def main():
    model = json.load(open(sys.argv[1]))
    reader = json.load(open(sys.argv[2]))
    name = reader.get("reader", "reader")
    classes = {(c["namespace"].lower(), c["name"].lower()): c for c in model["classes"]}
    bad, known, ok = [], [], 0

    want_ns = sorted(n.lower() for n in model["namespaces"] if n.lower() != "root")
    got_ns = sorted(n.lower() for n in reader["namespaces"])
    if want_ns != got_ns:
        bad.append("namespaces: want %s, got %s" % (want_ns, got_ns))
    else:
        ok += 1

    def persistent(i):
        return (i["class"].lower() in ("__eventfilter", "__filtertoconsumerbinding")
                or derives(classes, i["namespace"], i["class"], "__EventConsumer"))

    want = [i for i in model["instances"] if not i["deleted"] and persistent(i)]
    got = reader["persistence"]
    if len(got) != len(want):
        bad.append("persistence objects: want %d, got %d" % (len(want), len(got)))

    def ident(ns, cls, props, value):
        keys = ("Filter", "Consumer") if cls.lower() == "__filtertoconsumerbinding" else ("Name",)
        return (ns.lower(), cls.lower()) + tuple(str(value(props.get(k))) for k in keys)

    by_id = {ident(g["namespace"], g["class"], g["properties"], lambda p: p and p.get("value")): g for g in got}
    for w in want:
        wid = ident(w["namespace"], w["class"], w["properties"], lambda p: p and p["value"])
        g = by_id.get(wid)
        what = "%s:%s %s" % (w["namespace"], w["class"], wid[2:])
        if not g:
            bad.append("%s: not reported" % what)
            continue
        for ts in ("ts1", "ts2"):
            # The Python readers print microseconds through a float: allow 5 us.
            if abs(filetime_of(g[ts]) - w[ts]) > 50:
                bad.append("%s: %s %s, want FILETIME %d" % (what, ts, g[ts], w[ts]))
        for pname, wp in w["properties"].items():
            gp = g["properties"].get(pname)
            where = "%s.%s" % (what, pname)
            if gp is None:
                bad.append("%s: property missing" % where)
                continue
            if "error" in gp:
                bad.append("%s: reader error %s" % (where, gp["error"]))
                continue
            wv, gv = wp["value"], gp["value"]
            if isinstance(wv, float) and isinstance(gv, (int, float)):
                same = abs(wv - gv) <= abs(wv) * 1e-7
            else:
                same = wv == gv
            if same and gp["state"] == wp["state"]:
                ok += 1
                continue
            line = "%s: want %s %r, got %s %r" % (where, wp["state"], wv, gp["state"], gv)
            t = wp["type"]
            if ("dissect" in name and t & 0x2000 and (t & 0xFF) == 0x08 and isinstance(gv, list)
                    and all(isinstance(x, int) for x in gv) and len(gv) == len(wv or [])):
                known.append(line + "  [dissect.cim: string array elements as heap offsets]")
            elif "python-cim" in name and t == 0x0B and wv is False and gv is True:
                known.append(line + "  [python-cim: false booleans read as true (vstruct compared to 0)]")
            elif ("python-cim" in name and t == 0x08 and isinstance(wv, str) and isinstance(gv, str)
                  and any(ord(ch) > 0xFF for ch in wv) and wv.startswith(gv)):
                known.append(line + "  [python-cim: ignores the UTF-16 string flag (notes 8)]")
            elif ("python-cim" in name and t == 0x08 and isinstance(wv, str) and isinstance(gv, str)
                  and "\ufffd" in gv and all(ord(ch) <= 0xFF for ch in wv)):
                known.append(line + "  [python-cim: 8-bit strings decoded as UTF-8, not Latin-1]")
            else:
                bad.append(line)

    print("%s vs model: %d checks agree, %d known reader differences, %d discrepancies" %
          (name, ok, len(known), len(bad)))
    print("reader counts (its own traversal rule): %s" % json.dumps(reader.get("counts")))
    for line in known:
        print("  known:       " + line)
    for line in bad:
        print("  DISCREPANCY: " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
