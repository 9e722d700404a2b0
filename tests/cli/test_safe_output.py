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

usage: test_safe_output.py WMIHUNT SCRATCH
Last line: "N passed, M failed"."""
import csv, hashlib, io, json, os, shutil, subprocess, sys

csv.field_size_limit(1 << 24)

passed = failed = 0
NAME = "evil\x1b[2J\x1b]0;pwned\x07\u009bname"
CMD = "=cmd|' /c calc'!A0"
BIG = "A" * (1 << 20)


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def mof_escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif o < 0x20 or 0x7F <= o < 0xA0:
            out.append("\\x%02X" % o)
        else:
            out.append(ch)
    return "".join(out)


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
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
