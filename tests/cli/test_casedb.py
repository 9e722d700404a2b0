#!/usr/bin/env python3
"""The case store (issue 14, point 3): `wmihunt hunt --db` and
`wmihunt stack --db`.

- 1,000 generated hosts (wh-fleetgen, planted look-alikes) stored, then
  stacked from the database: the same stack.item rows, byte for byte, as
  stacking their folders, and the planted look-alikes first;
- adding the same collections again leaves one host each;
- the stored records are the JSONL report's lines, and the hostile-string
  fixtures (our repository and event-log writers' `hostile` evidence, a MOF
  with escape sequences and a 1 MiB script) come back unchanged;
- killed at random points while adding hosts (SIGKILL), the database opens,
  passes SQLite's integrity check, and holds only whole hosts (every host
  with its record, all its cases and files);
- a file that is not a store, or a store of another schema version, is
  refused with a message and left as it was.
The generators are ours (tests/gen). Python's sqlite3 reads the store.

usage: test_casedb.py WMIHUNT TESTS_GEN_BUILD_DIR SCRATCH [HOSTS]"""
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

NAME = "evil\x1b[2J\x1b]0;pwned\x07\u009bname"
CMD = "=cmd|' /c calc'!A0"


def run(args, timeout=900):
    return subprocess.run(args, capture_output=True, timeout=timeout)


def whole_hosts(db):
    """(ok, why): every stored host has its record, its cases and files."""
    con = sqlite3.connect(db)
    try:
        if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return False, "integrity check fails"
        # Killed before the schema's transaction committed: SQLite has made
        # the file but nothing is in it, which is a store of no host.
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "host" not in tables:
            return not tables, "tables without the host table: %s" % sorted(tables)
        for hid, rec in con.execute("SELECT id, record FROM host"):
            if rec is None:
                return False, "host %d without its record" % hid
            h = json.loads(rec)
            n = con.execute("SELECT count(*) FROM hcase WHERE host_id=?", (hid,)).fetchone()[0]
            if n != h["cases"] + h["inventory_cases"]:
                return False, "host %d: %d cases stored, its record says %d" % (hid, n, h["cases"] + h["inventory_cases"])
            if con.execute("SELECT count(*) FROM file WHERE host_id=?", (hid,)).fetchone()[0] == 0:
                return False, "host %d without its evidence files" % hid
        return True, ""
    finally:
        con.close()


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 64
    wm, gen, scratch = (os.path.abspath(a) for a in argv[1:4])
    nhosts = int(argv[4]) if len(argv) > 4 else 1000
    scratch = os.path.join(scratch, "run-%d" % os.getpid())
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    fleet = os.path.join(scratch, "fleet")
    planted = 5
    subprocess.run([os.path.join(gen, "wh-fleetgen"), fleet, str(nhosts), str(planted), str(nhosts // 2)],
                   check=True, stdout=subprocess.DEVNULL)
    hosts = sorted(os.path.join(fleet, d) for d in os.listdir(fleet) if os.path.isdir(os.path.join(fleet, d)))
    db = os.path.join(scratch, "fleet.sqlite")

    # ---- store, stack, compare ----
    p = run([wm, "hunt", "--no-progress", "--format", "jsonl", "--db", db] + hosts)
    check(p.returncode in (0, 1), "hunt --db: exit %d: %s" % (p.returncode, p.stderr[-400:]))
    check(b"%d host(s) added" % nhosts in p.stderr, "hunt --db: the count is not said: %s" % p.stderr[-300:])
    folders = run([wm, "stack", "--format", "jsonl", "--top", "100000"] + hosts)
    stored = run([wm, "stack", "--format", "jsonl", "--top", "100000", "--db", db])
    check(folders.returncode == 0 and stored.returncode == 0, "stack: exits %d and %d: %s"
          % (folders.returncode, stored.returncode, stored.stderr[-300:]))
    check(stored.stdout == folders.stdout and stored.stdout.count(b"\n") >= 3,
          "stack --db differs from stacking the folders (%d and %d rows)"
          % (stored.stdout.count(b"\n"), folders.stdout.count(b"\n")))
    rows = [json.loads(line) for line in stored.stdout.splitlines()]
    rare = [r for r in rows if r["hosts"] <= planted]
    check(rare and rows[:len(rare)] == rare and all(r["kind"] == "subscription" for r in rare),
          "stack --db: the planted look-alikes are not first: %s" % [(r["hosts"], r["name"]) for r in rows[:5]])
    check(all(r["of"] == nhosts for r in rows), "stack --db: 'of' is not the number of stored hosts")
    # Stored records are the report's lines.
    con = sqlite3.connect(db)
    stored_cases = sorted(r for (r,) in con.execute("SELECT record FROM hcase"))
    report = sorted(line.decode() for line in p.stdout.splitlines() if b'"artifact":"hunt.case"' in line)
    check(stored_cases == report, "the stored case records are not the JSONL report's lines (%d and %d)"
          % (len(stored_cases), len(report)))
    nstored = con.execute("SELECT count(*) FROM host").fetchone()[0]
    con.close()
    check(nstored == nhosts, "%d hosts stored, %d read" % (nstored, nhosts))

    # --output writes the same report to a file (what the Velociraptor artifact reads).
    outf = os.path.join(scratch, "out.jsonl")
    o = run([wm, "hunt", "--no-progress", "--format", "jsonl", "--output", outf] + hosts[:20])
    o2 = run([wm, "hunt", "--no-progress", "--format", "jsonl"] + hosts[:20])
    check(o.returncode == o2.returncode and o.stdout == b"" and open(outf, "rb").read() == o2.stdout,
          "hunt --output FILE: not the report stdout gets")

    # ---- the same from JSON lines: our report, and a Velociraptor export ----
    def content(out):
        return [(r["kind"], r["key"], r["hosts"], r["of"], r["name"], r["text"]) for r in map(json.loads, out.splitlines())]
    report_file = os.path.join(scratch, "fleet.jsonl")
    with open(report_file, "wb") as f:
        f.write(p.stdout)
    jl = run([wm, "stack", "--format", "jsonl", "--top", "100000", "--jsonl", report_file])
    check(jl.returncode == 0 and content(jl.stdout) == content(stored.stdout),
          "stack --jsonl of the report differs from stack --db: %s" % jl.stderr[-300:])
    # As a Velociraptor hunt exports a source's rows: our columns (artifact
    # dropped by the query) with the client's ClientId and Fqdn, rows of
    # the clients interleaved.
    velo = os.path.join(scratch, "velociraptor.json")
    items = [json.loads(line) for line in p.stdout.splitlines() if b'"artifact":"hunt.item"' in line]
    random.seed(1)
    random.shuffle(items)
    with open(velo, "w") as f:
        for r in items:
            r.pop("artifact")
            r["Fqdn"] = r["host"]
            r["ClientId"] = "C.%016x" % (hash(r["host"]) & 0xFFFFFFFFFFFFFFFF)
            r["_Source"] = "Windows.Forensics.WMIHunt/Inventory"
            f.write(json.dumps(r) + "\n")
        f.write("not json at all\n")
    vj = run([wm, "stack", "--format", "jsonl", "--top", "100000", "--jsonl", velo])
    check(vj.returncode == 3 and b"not a JSON object" in vj.stderr,
          "stack --jsonl of an export with a bad line: exit %d, %s" % (vj.returncode, vj.stderr[-300:]))
    check(sorted(content(vj.stdout)) == sorted(content(stored.stdout)),
          "stack --jsonl of a Velociraptor-shaped export differs from stack --db")
    vrows = [json.loads(line) for line in vj.stdout.splitlines()]
    check(vrows and vrows[0]["hosts"] <= planted, "stack --jsonl: the planted look-alikes are not first")

    # ---- the same collections again: one host each ----
    again = run([wm, "hunt", "--no-progress", "--format", "jsonl", "--db", db] + hosts[:50])
    check(b"50 host(s) added (50 replacing the same evidence), %d in all" % nhosts in again.stderr,
          "adding 50 again: %s" % again.stderr[-300:])
    stacked = run([wm, "stack", "--format", "jsonl", "--top", "100000", "--db", db])
    def counts(out):  # re-added hosts move to the end: which host is named first may change
        return sorted((r["kind"], r["key"], r["hosts"], r["of"]) for r in map(json.loads, out.splitlines()))
    check(counts(stacked.stdout) == counts(folders.stdout), "after adding hosts again, the counts changed")

    # ---- hostile strings ----
    hs = os.path.join(scratch, "hostile")
    os.makedirs(hs)
    subprocess.run([os.path.join(gen, "wh-cimgen"), "hostile", os.path.join(hs, "repo")], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(gen, "wh-evtxgen"), "hostile", os.path.join(hs, "hostile.evtx")], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(hs, "hostile.mof"), "w", encoding="utf-8") as f:
        esc = NAME.replace("\\", "\\\\").replace('"', '\\"')
        f.write('instance of CommandLineEventConsumer as $C\n{\n  Name = "%s";\n  CommandLineTemplate = "%s";\n};\n'
                % (esc, CMD))
        f.write('instance of ActiveScriptEventConsumer as $S\n{\n  Name = "big";\n  ScriptingEngine = "VBScript";\n'
                '  ScriptText = "%s";\n};\n' % ("A" * (1 << 20)))
    hdb = os.path.join(scratch, "hostile.sqlite")
    h = run([wm, "hunt", "--no-progress", "--format", "jsonl", "--db", hdb, hs])
    lines = {}
    for line in h.stdout.splitlines():
        r = json.loads(line)
        lines.setdefault(r["artifact"], []).append(line.decode("utf-8"))
    con = sqlite3.connect(hdb)
    for table, art in (("hcase", "hunt.case"), ("finding", "hunt.finding")):
        got = sorted(r for (r,) in con.execute("SELECT record FROM %s" % table))
        check(got == sorted(lines.get(art, [])) and got, "hostile: %s records changed in the store" % table)
    # The hostile names stack alike from the folder and from the store (the folder's rows were cut at
    # 160/512 bytes before).
    sf = run([wm, "stack", "--format", "jsonl", "--top", "100000", hs])
    sd = run([wm, "stack", "--format", "jsonl", "--top", "100000", "--db", hdb])
    check(sf.stdout == sd.stdout and b"evil" in sf.stdout,
          "hostile: stack over the folder and over the store differ (%d and %d bytes)" % (len(sf.stdout), len(sd.stdout)))
    names = [json.loads(r) for (r,) in con.execute("SELECT record FROM hcase")]
    check(any(c.get("consumer_name") == NAME for c in names), "hostile: the escape-laden name is not stored whole")
    check(any(c.get("payload") and len(c["payload"]) >= (1 << 20) for c in names),
          "hostile: the 1 MiB script is not stored whole")
    con.close()

    # ---- killed while adding: only whole hosts ----
    random.seed(os.getpid())
    kills = 0
    for i in range(6):
        kdb = os.path.join(scratch, "killed%d.sqlite" % i)
        proc = subprocess.Popen([wm, "hunt", "--no-progress", "--format", "jsonl", "--db", kdb] + hosts,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(0.05, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if not os.path.exists(kdb):
            continue
        ok, why = whole_hosts(kdb)
        check(ok, "killed run %d: %s" % (i, why))
        s = run([wm, "stack", "--format", "jsonl", "--db", kdb])
        check(s.returncode in (0, 2), "killed run %d: stack --db exits %d: %s" % (i, s.returncode, s.stderr[-200:]))
    check(kills > 0, "no run was killed before it ended (the fleet is too small to test this)")

    # ---- not a store, another version ----
    bad = os.path.join(scratch, "notes.txt")
    with open(bad, "w") as f:
        f.write("case notes, not a database\n" * 100)
    before = open(bad, "rb").read()
    b = run([wm, "hunt", "--no-progress", "--db", bad, hosts[0]])
    check(b.returncode == 64 and b"not an SQLite database" in b.stderr and open(bad, "rb").read() == before,
          "a text file as --db: exit %d, %s" % (b.returncode, b.stderr[-200:]))
    other = os.path.join(scratch, "other.sqlite")
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x(y)")
    con.execute("PRAGMA user_version=99")
    con.commit()
    con.close()
    b = run([wm, "stack", "--db", other])
    check(b.returncode == 2 and b"schema version 99" in b.stderr, "another version: exit %d, %s"
          % (b.returncode, b.stderr[-200:]))
    b = run([wm, "stack", "--db", os.path.join(scratch, "none.sqlite")])
    check(b.returncode == 2 and b"no such case store" in b.stderr, "a missing store: %s" % b.stderr[-200:])
    shutil.rmtree(scratch, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
