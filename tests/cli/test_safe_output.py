#!/usr/bin/env python3
"""Hostile strings in every output format (issue 6, safe output).

Our own fixtures, written here: a MOF whose consumer name carries terminal
escape sequences (ESC [2J clears the screen, ESC ] 0; sets the window
title, BEL ends it) and a C1 control (U+009B, the one-byte CSI); whose
command line starts with '=' (a spreadsheet formula); whose script is 1 MiB;
and a UTF-16LE MOF whose name holds a lone surrogate.
Each goes through `wmihunt mof` and `wmihunt hunt` in every format, and
the timelines. Asserted, on the raw bytes:
- text and CSV: no byte a terminal acts on (C0 other than LF/TAB, DEL, C1
  as UTF-8), and the escape shown as the exact visible text \\x1b;
- JSON / JSONL: valid UTF-8, parses, and gives back exactly the string the
  MOF declared (escapes decoded), the 1 MiB script whole;
- CSV: the '=' cell is written '=..., so a spreadsheet shows it;
- the lone surrogate arrives as U+FFFD.

Then the same consumer as our repository and event-log writers store it
(`wh-cimgen hostile`, `wh-evtxgen hostile`): name and command line with
ESC/BEL sequences, a C1 CSI, a lone UTF-16 surrogate, a leading '=' and,
in the event log, a NUL inside the value; the repository's command line
holds 1 MiB more (an event record cannot: it must fit a 64 KiB chunk).
Every format of `cim persistence`, `evtx` and `hunt` is checked for the
exact bytes the documented escaping gives (docs/output.md).

usage: test_safe_output.py WMIHUNT SCRATCH [WH-CIMGEN WH-EVTXGEN]
Last line: "N passed, M failed"."""
import csv, hashlib, io, json, os, shutil, subprocess, sys

csv.field_size_limit(1 << 24)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402
NAME = "evil\x1b[2J\x1b]0;pwned\x07\u009bname"
CMD = "=cmd|' /c calc'!A0"
BIG = "A" * (1 << 20)



def escaped(s, quote, c0, c1, special=None):
    """s with quote characters backslashed, C0/DEL written with the format
    c0 and C1 with c1 (e.g. "\\x%02X"), special characters first."""
    out = []
    for ch in s:
        o = ord(ch)
        if special and ch in special:
            out.append(special[ch])
        elif ch in quote:
            out.append("\\" + ch)
        elif o < 0x20 or o == 0x7F:
            out.append(c0 % o)
        elif 0x80 <= o < 0xA0:
            out.append(c1 % o)
        else:
            out.append(ch)
    return "".join(out)


def mof_escape(s):
    return escaped(s, '"\\', "\\x%02X", "\\x%02X")


def terminal_active(b):
    """Offsets of bytes a terminal would act on."""
    bad = [i for i, c in enumerate(b) if (c < 0x20 and c not in (0x0A, 0x09)) or c == 0x7F]
    bad += [i for i in range(len(b) - 1) if b[i] == 0xC2 and 0x80 <= b[i + 1] <= 0x9F]
    return bad


def run(w, args):
    p = subprocess.run([w] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.stdout, p.returncode


def main():
    w, scratch = sys.argv[1], sys.argv[2]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    hostile = os.path.join(scratch, "hostile.mof")
    with open(hostile, "w", encoding="utf-8") as f:
        f.write('#pragma namespace("\\\\\\\\.\\\\root\\\\subscription")\n')
        f.write('instance of CommandLineEventConsumer as $C\n{\n  Name = "%s";\n  CommandLineTemplate = "%s";\n};\n'
                % (mof_escape(NAME), mof_escape(CMD)))
        f.write('instance of ActiveScriptEventConsumer as $S\n{\n  Name = "big";\n  ScriptingEngine = "VBScript";\n'
                '  ScriptText = "%s";\n};\n' % BIG)
    u16 = os.path.join(scratch, "surrogate.mof")
    with open(u16, "wb") as f:
        f.write(b"\xff\xfe")
        f.write('instance of CommandLineEventConsumer\n{\n  Name = "bad'.encode("utf-16-le"))
        f.write(b"\x00\xd8")  # a high surrogate with no low one after it
        f.write('x";\n  CommandLineTemplate = "cmd.exe";\n};\n'.encode("utf-16-le"))

    # --- JSON and JSONL: exact strings back ---
    for fmt in ("jsonl", "json"):
        out, rc = run(w, ["mof", "--format", fmt, hostile])
        try:
            text = out.decode("utf-8")
            ok = True
        except UnicodeDecodeError:
            ok = False
        check(ok, "mof --format %s: output is valid UTF-8" % fmt)
        check(not terminal_active(out), "mof --format %s: no raw control bytes" % fmt)
        recs = [json.loads(l) for l in text.splitlines() if l.strip()] if fmt == "jsonl" else json.loads(text)
        inst = [r for r in recs if r.get("artifact") == "mof.instance"]
        names = [r["properties"].get("Name") for r in inst]
        check(NAME in names, "mof --format %s: the escape-laden name comes back exactly (%r)" % (fmt, names))
        cmds = [r["properties"].get("CommandLineTemplate") for r in inst]
        check(CMD in cmds, "mof --format %s: the command line comes back exactly" % fmt)
        big = [r["properties"].get("ScriptText") for r in inst if r["properties"].get("Name") == "big"]
        check(big and big[0] == BIG, "mof --format %s: the 1 MiB script is whole in JSON" % fmt)
    out, rc = run(w, ["mof", "--format", "jsonl", u16])
    recs = [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]
    names = [r["properties"].get("Name") for r in recs if r.get("artifact") == "mof.instance"]
    check(names == ["bad\ufffdx"], "lone surrogate shown as U+FFFD, not dropped (%r)" % names)

    # --- NUL, escaped and raw: shown as U+FFFD, never silently dropped ---
    nul = os.path.join(scratch, "nul.mof")
    with open(nul, "wb") as f:
        f.write(b'instance of CommandLineEventConsumer\n{\n  Name = "a\\x0000Zb";\n'
                b'  CommandLineTemplate = "c\x00d";\n};\n')
    out, rc = run(w, ["mof", "--format", "jsonl", nul])
    recs = [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]
    props = [r["properties"] for r in recs if r.get("artifact") == "mof.instance"]
    check(props and props[0].get("Name") == "a\ufffdZb", "escaped NUL shown as U+FFFD (%r)" % props)
    check(props and props[0].get("CommandLineTemplate") == "c\ufffdd", "raw NUL byte shown as U+FFFD (%r)" % props)

    # --- bytes that are not UTF-8: their value shown in text and CSV, U+FFFD in JSON ---
    inv = os.path.join(scratch, "invalid.mof")
    with open(inv, "wb") as f:
        f.write(b'instance of CommandLineEventConsumer\n{\n  Name = "a\xff\xfeb";\n'
                b'  CommandLineTemplate = "cmd.exe";\n};\n')
    out, rc = run(w, ["mof", inv])
    check(b"Name: a\\xff\\xfeb\n" in out, "text: invalid UTF-8 bytes shown as \\xNN")
    out, rc = run(w, ["mof", "--format", "jsonl", inv])
    recs = [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]
    names = [r["properties"].get("Name") for r in recs if r.get("artifact") == "mof.instance"]
    check(names == ["a\ufffd\ufffdb"], "JSON: invalid UTF-8 bytes as U+FFFD (%r)" % names)
    out, rc = run(w, ["hunt", "--no-progress", "--format", "csv", inv])
    out.decode("utf-8")  # raises when the CSV is not UTF-8
    check(b"a\\xff\\xfeb" in out and b"\xff" not in out, "CSV: invalid UTF-8 bytes shown as \\xNN, never raw")

    # --- a long value: whole in JSONL, cut in the text report with its length and hash ---
    out, rc = run(w, ["hunt", "--no-progress", "--format", "jsonl", hostile])
    recs = [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]
    details = [r.get("detail") for r in recs if r.get("artifact") == "hunt.finding"]
    check(BIG in details, "hunt jsonl: the 1 MiB script is whole in the finding's detail")
    out, rc = run(w, ["hunt", "--no-progress", hostile])
    want = "... (cut: %d bytes in all, sha256 %s)" % (len(BIG), hashlib.sha256(BIG.encode()).hexdigest())
    check(want.encode() in out, "hunt text: the long script is cut with its full length and SHA-256")
    check(len(out) < 200000, "hunt text: the report does not print the whole 1 MiB (%d bytes)" % len(out))

    # --- text: nothing a terminal acts on, the escape visible ---
    for args in (["mof", hostile], ["hunt", "--no-progress", hostile]):
        out, rc = run(w, args)
        check(not terminal_active(out), "%s text: no terminal-active bytes (at %s)" % (args[0], terminal_active(out)[:5]))
        check(b"evil\\x1b[2J\\x1b]0;pwned\\x07\\u009bname" in out,
              "%s text: the name shown with its escapes visible" % args[0])

    # --- CSV: safe bytes, formula neutralised, still parses back ---
    for args in (["mof", "--format", "csv", hostile], ["hunt", "--no-progress", "--format", "csv", hostile]):
        out, rc = run(w, args)
        check(not terminal_active(out), "%s csv: no terminal-active bytes (at %s)" % (args[0], terminal_active(out)[:5]))
        rows = list(csv.reader(io.StringIO(out.decode("utf-8"))))
        cells = [c for r in rows for c in r]
        check(all(not c.startswith(("=", "+", "-", "@")) for c in cells),
              "%s csv: no cell starts like a formula" % args[0])
        if args[0] == "hunt":
            check("'" + CMD in cells, "hunt csv: the command line cell is written '=... (%r)"
                  % [c for c in cells if "calc" in c][:2])
            check(any(c.endswith("evil\\x1b[2J\\x1b]0;pwned\\x07\\u009bname") for c in cells),
                  "hunt csv: the name cell carries the escapes as visible text")

    # --- timelines ---
    for ext in ("csv", "jsonl", "body"):
        tl = os.path.join(scratch, "tl." + ext)
        run(w, ["hunt", "--no-progress", "--timeline", tl, hostile])
        if not os.path.exists(tl):
            check(False, "timeline %s written" % ext)
            continue
        with open(tl, "rb") as f:
            b = f.read()
        check(not terminal_active(b), "timeline .%s: no terminal-active bytes" % ext)
        if ext == "jsonl":
            for l in b.decode("utf-8").splitlines():
                json.loads(l)
            check(True, "timeline .jsonl parses")
    file_names(w, scratch)
    if len(sys.argv) >= 5:
        writers(w, scratch, sys.argv[3], sys.argv[4])
    else:
        print("SKIP writer fixtures: wh-cimgen and wh-evtxgen not given")
    return finish()


def file_names(w, scratch):
    """A file name is evidence too (chosen by whoever made the collection):
    it reaches the report, the evidence list, progress lines and every
    diagnostic on stderr, escaped."""
    d = os.path.join(scratch, "names")
    os.makedirs(d)
    name = "evil\x1b[2J\x1b]0;pwned\x07.mof"
    with open(os.path.join(d, name), "w") as f:  # a missing ';' makes a diagnostic naming the file
        f.write('instance of CommandLineEventConsumer as $C { Name = "n"; CommandLineTemplate = "cmd /c x"; }\n'
                'instance of __EventFilter as $F { Name = "f"; Query = "select * from __InstanceCreationEvent"; };\n'
                'instance of __FilterToConsumerBinding { Filter = $F; Consumer = $C; };\n')
    shown = b"evil\\x1b[2J\\x1b]0;pwned\\x07.mof"
    for args in (["hunt", "-v", d], ["hunt", "-v", "--format", "csv", d], ["mof", "-v", d], ["triage", "-v", d]):
        p = subprocess.run([w] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        for stream, b in (("stdout", p.stdout), ("stderr", p.stderr)):
            check(not terminal_active(b), "file name, %s %s: no terminal-active bytes (at %s)"
                  % (" ".join(args[:-1]), stream, terminal_active(b)[:5]))
        check(shown in p.stdout + p.stderr, "file name, %s: shown with its escapes visible" % " ".join(args[:-1]))
    p = subprocess.run([w, "hunt", "-v", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(shown in p.stderr, "file name: the diagnostic on stderr names the file, escaped")


# What a reader must give for the writers' strings (decoded): the lone
# surrogate and the NUL each become U+FFFD, nothing is dropped.
ESCAPES = "=evil\x1b[2J\x1b]0;pwned\x07\u009b\ufffdname"
CIM_NAME = ESCAPES
CIM_CMD = "=cmd|' /c calc'!A0\x1b[31m\ufffd" + "A" * (1 << 20)
EVT_NAME = ESCAPES + "\ufffdafter"
EVT_CMD = "=cmd|' /c calc'!A0\x1b[31m\ufffd\ufffd" + "A" * 30000


def text_form(s):
    """The text and CSV writers' visible form (docs/output.md): C0 and DEL
    as \\xNN (LF, TAB as \\n, \\t), C1 as \\u00NN, the rest as UTF-8."""
    return escaped(s, "", "\\x%02x", "\\u%04x", {"\n": "\\n", "\t": "\\t"}).encode("utf-8")


def json_form(s):
    """JSON: controls as \\u00NN (C1 too), the rest as UTF-8."""
    return escaped(s, '"\\', "\\u%04x", "\\u%04x").encode("utf-8")


def cut_tail(s):
    b = s.encode("utf-8")
    return ("... (cut: %d bytes in all, sha256 %s)" % (len(b), hashlib.sha256(b).hexdigest())).encode()


def writers(w, scratch, cimgen, evtxgen):
    repo = os.path.join(scratch, "repo")
    log = os.path.join(scratch, "hostile.evtx")
    subprocess.run([cimgen, "hostile", repo], stdout=subprocess.DEVNULL, check=True)
    subprocess.run([evtxgen, "hostile", log], stdout=subprocess.DEVNULL, check=True)
    views = [("cim", ["cim", "persistence"], repo, CIM_NAME, CIM_CMD),
             ("evtx", ["evtx"], log, EVT_NAME, EVT_CMD),
             ("hunt/cim", ["hunt", "--no-progress"], repo, CIM_NAME, CIM_CMD),
             ("hunt/evtx", ["hunt", "--no-progress"], log, EVT_NAME, EVT_CMD)]
    for what, args, path, name, cmd in views:
        # JSON and JSONL: valid UTF-8, the exact escaped bytes, and the whole
        # value back when parsed.
        for fmt in ("json", "jsonl"):
            out, rc = run(w, args + ["--format", fmt, path])
            try:
                text = out.decode("utf-8")
            except UnicodeDecodeError:
                check(False, "%s %s: valid UTF-8" % (what, fmt))
                continue
            check(not terminal_active(out), "%s %s: no raw control bytes" % (what, fmt))
            check(json_form(name) in out, "%s %s: the name as the bytes %r" % (what, fmt, json_form(name)))
            check(json_form(cmd) in out, "%s %s: the whole command line, exact bytes" % (what, fmt))
            recs = [json.loads(l) for l in text.splitlines() if l.strip()] if fmt == "jsonl" else json.loads(text)
            blob = json.dumps(recs, ensure_ascii=False)
            check(json.dumps(cmd, ensure_ascii=False)[1:-1] in blob, "%s %s: parses back to the command line" % (what, fmt))
        # Text: nothing a terminal acts on; the name in its visible form;
        # the long command line cut with its length and hash.
        out, rc = run(w, args + [path])
        check(not terminal_active(out), "%s text: no terminal-active bytes (at %s)" % (what, terminal_active(out)[:5]))
        check(text_form(name) in out, "%s text: the name as the bytes %r" % (what, text_form(name)))
        check(text_form(cmd[:60]) in out, "%s text: the command line's start, escaped" % what)
        check(cut_tail(cmd) in out, "%s text: the long command line cut with its full length and SHA-256" % what)
        check(len(out) < 100000, "%s text: not the whole value (%d bytes)" % (what, len(out)))
        # CSV: RFC 4180 parse, the cells starting with '=' neutralised with '.
        out, rc = run(w, args + ["--format", "csv", path])
        check(not terminal_active(out), "%s csv: no terminal-active bytes" % what)
        rows = list(csv.reader(io.StringIO(out.decode("utf-8"))))
        cells = [c for r in rows for c in r]
        check(all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells),
              "%s csv: no cell starts like a formula" % what)
        if what == "cim":  # the consumer is an object: one cell holding it as JSON
            check(any(json_form(cmd).decode("utf-8") in c for c in cells),
                  "cim csv: the consumer cell holds the whole command line, JSON-escaped")
        else:
            want = "'" + text_form(cmd).decode("utf-8")
            check(want in cells, "%s csv: the command line cell is exactly '=... escaped, whole" % what)
        if what in ("cim", "evtx"):
            check(any(c == "'" + text_form(name).decode("utf-8") or text_form(name).decode("utf-8") in c
                      for c in cells), "%s csv: the name carries its escapes visibly" % what)


if __name__ == "__main__":
    sys.exit(main())
