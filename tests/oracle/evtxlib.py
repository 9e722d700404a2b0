"""Shared code of wmihunt's EVTX test oracles (Python 3, standard library only).

Used by tests/corpus/test_evtx_corpus.py, tests/oracle/diff_evtxexport.py,
tests/oracle/evtxexport_shim.py and tests/oracle/validate_harness.py.

What is here:
  * run_wmihunt(): runs `BINARY evtx --all --format jsonl FILE...` with a time
    limit and measures the child's peak RSS; parse_jsonl() checks every line.
  * parse_expected(): reads shared/corpus/evtx/EXPECTED.md at run time into
    FileFacts objects.  Nothing of EXPECTED.md is copied into the repository:
    every number and string the tests assert comes from this parse.
  * category_matches(): the "WMI-relevant records" definitions of EXPECTED.md.
  * the rendering normalisations listed at the top of EXPECTED.md (hex
    padding, GUID case/braces, fractional-second digits), per source reader.
  * parse_evtxexport_xml(): raw text extraction of `evtxexport -f xml` output
    (entities decoded, CR/LF kept as stored, no XML library: an XML parser
    would turn CR/LF into LF and refuses the not-well-formed records libevtx
    prints for values with characters outside XML 1.0).
  * scan_chunks(): a minimal walk of chunk and record headers (no binary XML),
    used to give the evtxexport shim offsets and to recognise torn records.
"""

import hashlib
import json
import os
import re
import select
import signal
import struct
import subprocess
import time
import zlib

# ---------------------------------------------------------------- running

class RunResult:
    def __init__(self):
        self.rc = None          # exit code; negative = killed by that signal
        self.stdout = b""
        self.stderr = b""
        self.maxrss_kb = 0      # peak resident set of the child (Linux: KiB)
        self.timed_out = False
        self.seconds = 0.0
        self.argv = []
        self.exec_error = None  # OSError text when the binary could not start


def run_command(argv, timeout=120.0, env=None):
    """Run argv, collect stdout/stderr, enforce a wall-clock limit, and read the
    child's own rusage through wait4 (so one run's peak memory is not mixed up
    with another's)."""
    res = RunResult()
    res.argv = list(argv)
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env,
                             start_new_session=True)
    except OSError as e:
        res.exec_error = str(e)
        res.rc = 127
        return res
    out, err = [], []
    fds = {p.stdout.fileno(): out, p.stderr.fileno(): err}
    deadline = t0 + timeout
    while fds:
        left = deadline - time.monotonic()
        if left <= 0:
            res.timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            break
        ready, _, _ = select.select(list(fds), [], [], min(left, 1.0))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                fds[fd].append(chunk)
            else:
                del fds[fd]
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0  # reaped by wait4; keep Popen from waiting again
    p.stdout.close()
    p.stderr.close()
    if os.WIFSIGNALED(status):
        res.rc = -os.WTERMSIG(status)
    else:
        res.rc = os.WEXITSTATUS(status)
    res.maxrss_kb = ru.ru_maxrss
    res.stdout = b"".join(out)
    res.stderr = b"".join(err)
    res.seconds = time.monotonic() - t0
    return res


def run_wmihunt(binary, files, timeout=120.0):
    return run_command([binary, "evtx", "--all", "--format", "jsonl"] + list(files),
                       timeout=timeout)


def not_implemented_reason(binary, res):
    """A clear sentence when BINARY cannot run `evtx` at all, else None."""
    if res.exec_error is not None:
        return "cannot run %s: %s" % (binary, res.exec_error)
    err = res.stderr.decode("utf-8", "replace")
    if res.rc == 64 or "unknown command" in err:
        return ("`%s evtx` is not implemented (exit %s: %s)"
                % (binary, res.rc, err.strip().splitlines()[0] if err.strip() else "no message"))
    return None


def parse_jsonl(data):
    """-> (records, problems). Every line must be one JSON object in UTF-8."""
    records, problems = [], []
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("line %d: not UTF-8 (%s)" % (n, e))
            continue
        try:
            obj = json.loads(text)
        except ValueError as e:
            problems.append("line %d: not JSON (%s): %.120r" % (n, e, text))
            continue
        if not isinstance(obj, dict):
            problems.append("line %d: not a JSON object" % n)
            continue
        records.append(obj)
    return records, problems


DIAG_OFFSET_RE = re.compile(r"offset\s+(\d+)|\(0x[0-9a-fA-F]+\)|@\s*0x[0-9a-fA-F]+")


def diagnostic_lines(stderr_bytes):
    """wmihunt's warning/error lines (README: `wmihunt: warning: FILE @ offset N (0x..): ...`)."""
    text = stderr_bytes.decode("utf-8", "replace")
    return [l for l in text.splitlines()
            if re.match(r"\s*wmihunt:\s*(warning|error)\b", l)]


def diagnostic_offsets(stderr_bytes):
    """Every byte offset named in the diagnostics (decimal and hex forms)."""
    text = stderr_bytes.decode("utf-8", "replace")
    offs = set()
    for m in re.finditer(r"offset\s+(\d+)", text):
        offs.add(int(m.group(1)))
    for m in re.finditer(r"0x([0-9a-fA-F]+)", text):
        offs.add(int(m.group(1), 16))
    return offs


# ---------------------------------------------------------------- values

def flat_values(obj):
    """Every string leaf of an event_data / user_data value."""
    if obj is None:
        return []
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, (int, float, bool)):
        return [json.dumps(obj)]
    if isinstance(obj, list):
        out = []
        for x in obj:
            out.extend(flat_values(x))
        return out
    if isinstance(obj, dict):
        out = []
        for v in obj.values():
            out.extend(flat_values(v))
        return out
    return [str(obj)]


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def ed_values(rec, name):
    """Values of EventData item NAME (a repeated name is an array)."""
    ed = rec.get("event_data")
    if not isinstance(ed, dict):
        return []
    return as_list(ed.get(name))


def user_data_leaves(ud, path=""):
    """[(path, value)] of every leaf of a user_data object; repeats get [i]."""
    out = []
    if isinstance(ud, dict):
        for k, v in ud.items():
            p = path + "/" + k if path else k
            if isinstance(v, list):
                for i, x in enumerate(v):
                    out.extend(user_data_leaves(x, "%s[%d]" % (p, i)))
            else:
                out.extend(user_data_leaves(v, p))
    elif isinstance(ud, list):
        for i, x in enumerate(ud):
            out.extend(user_data_leaves(x, "%s[%d]" % (path, i)))
    else:
        out.append((path, ud if isinstance(ud, str) else json.dumps(ud)))
    return out


def lookup_field(rec, field):
    """A key-value field of EXPECTED.md in one of our records.
    `Data[i]` is the i-th unnamed Data item; a plain name is first looked up in
    event_data, then among the user_data leaves with that element name.
    -> (found, value_or_list, where)"""
    m = re.fullmatch(r"(.+)\[(\d+)\]", field)
    ed = rec.get("event_data") if isinstance(rec.get("event_data"), dict) else {}
    if m:
        name, idx = m.group(1), int(m.group(2))
        vals = as_list(ed.get(name))
        if idx < len(vals):
            return True, vals[idx], "event_data.%s[%d]" % (name, idx)
        return False, None, "event_data.%s has %d item(s)" % (name, len(vals))
    if field in ed:
        v = ed[field]
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        return True, v, "event_data." + field
    leaves = [(p, v) for p, v in user_data_leaves(rec.get("user_data"))
              if re.sub(r"\[\d+\]$", "", p.rsplit("/", 1)[-1]) == field]
    if len(leaves) == 1:
        return True, leaves[0][1], "user_data." + leaves[0][0]
    if len(leaves) > 1:
        return True, [v for _, v in leaves], "user_data (%d leaves named %s)" % (len(leaves), field)
    return False, None, "no event_data or user_data field %r" % field


# ---------------------------------------------------------------- normalisation

ISO_RE = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$")
HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
TIME7_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def parse_iso(s):
    """-> (date, time, fraction digits) or None."""
    if not isinstance(s, str):
        return None
    m = ISO_RE.match(s)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3) or ""


def time_key(s):
    """Sort key with 100 ns resolution (digits beyond 7 dropped)."""
    p = parse_iso(s)
    if not p:
        return None
    return (p[0], p[1], int((p[2] + "0000000")[:7]))


def times_equal(ours, exp):
    """Same instant at the precision both show: libevtx prints 9 fractional
    digits (always ...00), Windows and wmihunt 7, evtx-rs 0.8.1 6, SYSTEMTIME
    values 3.  The longer form must carry only zeros beyond the shorter one's
    digits, unless the shorter has fewer than 7 (a reader that truncated), in
    which case the longer one's leading digits must equal it."""
    a, b = parse_iso(ours), parse_iso(exp)
    if not a or not b:
        return False
    if a[:2] != b[:2]:
        return False
    fa, fb = a[2], b[2]
    n = max(len(fa), len(fb))
    pa, pb = fa.ljust(n, "0"), fb.ljust(n, "0")
    if pa == pb:
        return True
    short = min(len(fa), len(fb))
    if short < 7:      # a truncating reader (evtx-rs: 6 digits)
        return fa[:short] == fb[:short]
    return False


def hex_equal(a, b):
    return (isinstance(a, str) and isinstance(b, str) and HEX_RE.match(a)
            and HEX_RE.match(b) and int(a, 16) == int(b, 16))


def guid_equal(a, b):
    ma = GUID_RE.match(a) if isinstance(a, str) else None
    mb = GUID_RE.match(b) if isinstance(b, str) else None
    return bool(ma and mb and ma.group(1).upper() == mb.group(1).upper())


def values_equal(ours, exp, source):
    """Equality of one of our values with one of another reader's, with the
    rendering normalisations EXPECTED.md lists for that reader.
    -> (equal, normalisation name or '')"""
    if ours == exp:
        return True, ""
    if not isinstance(ours, str) or not isinstance(exp, str):
        return False, ""
    # libevtx pads HexInt32/64 (0x00000000000003e7); Windows and wmihunt: 0x3e7
    if hex_equal(ours, exp) and source in ("libevtx",):
        return True, "hex-padding"
    # fractional-second digits of time values (libevtx 9, evtx-rs 6, SYSTEMTIME 3)
    if parse_iso(ours) and parse_iso(exp) and times_equal(ours, exp):
        return True, "time-digits"
    # evtx-rs 0.8.1 prints GUIDs without braces; python-evtx lower-case
    if source in ("evtx-rs", "python-evtx") and guid_equal(ours, exp):
        return True, "guid-form"
    return False, ""


def check_value_spec(ours, spec, source):
    """EXPECTED.md key value: ('exact', s) or ('hash', length, sha256, prefix).
    -> (ok, detail)"""
    if isinstance(ours, list):
        return False, "ours is a list of %d values: %s" % (len(ours), short(ours))
    if spec[0] == "exact":
        ok, how = values_equal(ours, spec[1], source)
        if ok:
            return True, how
        return False, "ours %s, expected %s" % (short(ours), short(spec[1]))
    _, length, sha, prefix = spec
    if not isinstance(ours, str):
        return False, "ours %s is not a string" % short(ours)
    got_sha = hashlib.sha256(ours.encode("utf-8", "surrogatepass")).hexdigest()
    problems = []
    if len(ours) != length:
        problems.append("length %d, expected %d" % (len(ours), length))
    if got_sha != sha:
        problems.append("sha256 %s, expected %s" % (got_sha[:16], sha[:16]))
    if not ours.startswith(prefix):
        problems.append("starts %s, expected %s" % (short(ours[:len(prefix)]), short(prefix)))
    if problems:
        return False, "; ".join(problems)
    return True, ""


def short(v, n=160):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


# ---------------------------------------------------------------- EXPECTED.md

class FileFacts:
    def __init__(self, name):
        self.name = name
        self.section = ""
        self.note = ""
        self.sha256 = None
        self.size = None
        self.fmt = None
        self.evtxinfo = None
        self.evtxinfo_recovered = None
        self.evtxexport_items = None
        self.evtxexport_stops = None
        self.evtxexport_recovered = None
        self.pyevtx = None           # (ok, err) or text
        self.evtxrs = None           # (ok, err) or text
        self.published = None
        self.id_range = None
        self.time_range = None
        self.range_source = None
        self.pairs = []              # [(channel, event_id, n)]
        self.pairs_more = 0
        self.pairs_source = None
        self.wmi = None              # {category: n}; {} = "none"
        self.wmi_recovered = None    # {category: n} among libevtx recovered records
        self.keyvalues = []          # [(erid, eid, [(field, spec)], line)]
        self.unparsed = []           # lines of this file's section not understood
        self.lines = {}              # fact kind -> source line

    def oracle(self):
        """'libevtx' or 'evtx-rs' (EXPECTED.md: `evtx-rs-0.8.1 (libevtx failed)`)."""
        src = (self.range_source or "") + " " + (self.pairs_source or "")
        return "evtx-rs" if "libevtx failed" in src else "libevtx"

    def oracle_count(self):
        if self.oracle() == "evtx-rs":
            return self.evtxrs[0] if isinstance(self.evtxrs, tuple) else None
        return self.evtxexport_items

    def libevtx_clean(self):
        """libevtx read the file without an error by its own account."""
        return (self.oracle() == "libevtx" and self.evtxexport_stops is None
                and self.evtxexport_items is not None
                and self.evtxexport_items == self.evtxinfo)


class Expected:
    def __init__(self):
        self.files = {}
        self.order = []
        self.definitions = {}        # bullet label -> text
        self.conventions = ""
        self.coverage = []           # [(category, [(file, n)], line)]
        self.not_covered = ""
        self.unparsed = []           # top-level lines not understood
        self.header_oracle = ""

    def get(self, name):
        return self.files.get(name)


_DEC = json.JSONDecoder()


def parse_keyvalues(s):
    """`Field = "json"; Field = len=N sha256(utf8)=H starts "json"; ...`"""
    out = []
    i = 0
    name_re = re.compile(r"\s*([^=;\"]+?) = ")
    hash_re = re.compile(r"len=(\d+) sha256\(utf8\)=([0-9a-f]{64}) starts ")
    while i < len(s):
        m = name_re.match(s, i)
        if not m:
            raise ValueError("no field name at %d: %.60r" % (i, s[i:]))
        name = m.group(1)
        i = m.end()
        h = hash_re.match(s, i)
        if h:
            prefix, i = _DEC.raw_decode(s, h.end())
            spec = ("hash", int(h.group(1)), h.group(2), prefix)
        elif s.startswith('"', i):
            val, i = _DEC.raw_decode(s, i)
            spec = ("exact", val)
        else:
            raise ValueError("value of %s is neither a string nor len=…: %.60r" % (name, s[i:]))
        out.append((name, spec))
        if s.startswith("; ", i):
            i += 2
        elif i == len(s):
            break
        else:
            raise ValueError("junk after value of %s: %.60r" % (name, s[i:]))
    return out


def _reader_counts(text):
    m = re.fullmatch(r"\s*(\d+) ok/(\d+) err\s*", text)
    return (int(m.group(1)), int(m.group(2))) if m else text.strip()


def parse_expected(path):
    text = open(path, encoding="utf-8").read()
    exp = Expected()
    cur = None
    pending_note = ""
    in_kv = None
    section = ""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            section = line[3:].strip()
            cur = None
            in_kv = None
            continue
        if line.startswith("### "):
            name = line[4:].strip()
            cur = FileFacts(name)
            cur.section = section
            cur.note = pending_note
            pending_note = ""
            exp.files[name] = cur
            exp.order.append(name)
            in_kv = None
            continue
        if line.startswith("_") and line.rstrip().endswith("_"):
            pending_note = line.strip()[1:-1]
            cur = None
            continue
        if cur is None:
            # top of the file and the summary sections
            if line.startswith("Measured on this corpus"):
                exp.header_oracle = line
            elif line.startswith("Definitions used"):
                pass
            elif line.startswith("- `"):
                m = re.match(r"- `([^`]+)`(?:\s*/\s*`([^`]+)`)?:\s*(.*)", line)
                if m:
                    exp.definitions[m.group(1)] = m.group(3)
                    if m.group(2):
                        exp.definitions[m.group(2)] = m.group(3)
                else:
                    exp.unparsed.append(line)
            elif line.startswith("Rendering conventions"):
                exp.conventions = line
            elif line.startswith("| category") or re.match(r"\|\s*-+", line):
                pass
            elif line.startswith("|") and section.startswith("Coverage"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) != 2:
                    exp.unparsed.append(line)
                    continue
                items = []
                for part in cells[1].split(";"):
                    m = re.fullmatch(r"\s*(\S+\.evtx) \((\d+)\)\s*", part)
                    if not m:
                        exp.unparsed.append(line)
                        items = None
                        break
                    items.append((m.group(1), int(m.group(2))))
                if items is not None:
                    exp.coverage.append((cells[0], items, line))
            elif line.startswith("Not covered by any real file found"):
                exp.not_covered = line
            elif section.startswith("Malformed") and line.startswith("These come from"):
                exp.edge_intro = line
            else:
                exp.unparsed.append(line)
            continue
        # inside a file section
        if in_kv is not None and line.startswith("  - "):
            m = re.match(r"  - (\d+), (\d+): (.*)$", line)
            if not m:
                cur.unparsed.append(line)
                continue
            try:
                kvs = parse_keyvalues(m.group(3))
            except ValueError as e:
                cur.unparsed.append("%s   [%s]" % (line[:120], e))
                continue
            cur.keyvalues.append((int(m.group(1)), int(m.group(2)), kvs, line))
            continue
        in_kv = None
        body = line[2:] if line.startswith("- ") else None
        if body is None:
            cur.unparsed.append(line)
            continue
        m = re.fullmatch(r"sha256 `([0-9a-f]{64})`, (\d+) bytes, format (\d+)\.(\d+)", body)
        if m:
            cur.sha256, cur.size = m.group(1), int(m.group(2))
            cur.fmt = (int(m.group(3)), int(m.group(4)))
            cur.lines["integrity"] = line
            continue
        if body.startswith("records: "):
            cur.lines["records"] = line
            ok = True
            for part in body[len("records: "):].split("; "):
                mm = re.fullmatch(r"evtxinfo (\d+) \(\+(\d+) recovered\)", part)
                if mm:
                    cur.evtxinfo, cur.evtxinfo_recovered = int(mm.group(1)), int(mm.group(2))
                    continue
                mm = re.fullmatch(r"evtxexport items (\d+)(?: \(stops: (.*)\))?", part)
                if mm:
                    cur.evtxexport_items = int(mm.group(1))
                    cur.evtxexport_stops = mm.group(2)
                    continue
                mm = re.fullmatch(r"evtxexport -m recovered (\d+)", part)
                if mm:
                    cur.evtxexport_recovered = int(mm.group(1))
                    continue
                mm = re.fullmatch(r"python-evtx [\d.]+ (.*)", part)
                if mm:
                    cur.pyevtx = _reader_counts(mm.group(1))
                    continue
                mm = re.fullmatch(r"evtx-rs [\d.]+ (.*)", part)
                if mm:
                    cur.evtxrs = _reader_counts(mm.group(1))
                    continue
                ok = False
            if not ok or cur.evtxexport_items is None:
                cur.unparsed.append(line)
            continue
        if body.startswith("published expectation"):
            cur.published = body
            continue
        m = re.fullmatch(r"EventRecordID (\d+)\.\.(\d+); TimeCreated (\S+) \.\. (\S+) \((.*) rendering\)", body)
        if m:
            cur.id_range = (int(m.group(1)), int(m.group(2)))
            cur.time_range = (m.group(3), m.group(4))
            cur.range_source = m.group(5)
            cur.lines["range"] = line
            continue
        m = re.fullmatch(r"Channel\|EventID counts \((.*?)\): (.*)", body)
        if m:
            cur.pairs_source = m.group(1)
            rest = m.group(2)
            mm = re.search(r" … \(\+(\d+) more pairs\)$", rest)
            if mm:
                cur.pairs_more = int(mm.group(1))
                rest = rest[:mm.start()]
            good = True
            for part in rest.split(", `"):
                pm = re.fullmatch(r"`?(.*)\|(\d+)`=(\d+)", part)
                if not pm:
                    good = False
                    break
                cur.pairs.append((pm.group(1), int(pm.group(2)), int(pm.group(3))))
            if not good:
                cur.unparsed.append(line)
            cur.lines["pairs"] = line
            continue
        m = re.fullmatch(r"WMI-relevant records( among libevtx \*recovered\* \(slack\) records)?: (.*)", body)
        if m:
            d = {}
            if m.group(2).strip() != "none":
                for part in m.group(2).split(", "):
                    pm = re.fullmatch(r"(.+?): \*{0,2}(\d+)\*{0,2}", part)
                    if not pm:
                        cur.unparsed.append(line)
                        d = None
                        break
                    d[pm.group(1)] = int(pm.group(2))
            if m.group(1):
                cur.wmi_recovered = d
                cur.lines["wmi_recovered"] = line
            else:
                cur.wmi = d
                cur.lines["wmi"] = line
            continue
        if body.startswith("key values ("):
            in_kv = True
            continue
        cur.unparsed.append(line)
    return exp


# ---------------------------------------------------------------- categories

SYSMON = "Microsoft-Windows-Sysmon/Operational"
WMI_ACTIVITY = "Microsoft-Windows-WMI-Activity/Operational"
PS_OPERATIONAL = ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")
PS_CLASSIC = "Windows PowerShell"
DEFAULT_CMDLINE_FIELDS = ["CommandLine", "ParentCommandLine", "ScriptBlockText", "Payload", "ContextInfo"]


def basename(path):
    return re.split(r"[\\/]", path)[-1] if isinstance(path, str) else ""


def cmdline_fields(exp):
    """The field list of the `cmdline contains` definition, read from EXPECTED.md."""
    for k, v in (exp.definitions.items() if exp else []):
        if k.startswith("cmdline contains"):
            m = re.search(r"substring of ([\w/]+)", v)
            if m:
                return m.group(1).split("/")
    return DEFAULT_CMDLINE_FIELDS


class Category:
    """One "WMI-relevant records" label of EXPECTED.md, made into a predicate."""

    def __init__(self, label, exp=None):
        self.label = label
        self.pred = None
        m = re.fullmatch(r"WMI-Activity (\d+)", label)
        if m:
            eid = int(m.group(1))
            self.pred = lambda r: r.get("channel") == WMI_ACTIVITY and r.get("event_id") == eid
            return
        m = re.fullmatch(r"Sysmon 1 (Image|ParentImage)=(\S+)", label)
        if m:
            f, x = m.group(1), m.group(2).lower()
            self.pred = lambda r: (r.get("channel") == SYSMON and r.get("event_id") == 1 and
                                   any(basename(v).lower() == x for v in ed_values(r, f)))
            return
        m = re.fullmatch(r"Sysmon (\d+)", label)
        if m:
            eid = int(m.group(1))
            self.pred = lambda r: r.get("channel") == SYSMON and r.get("event_id") == eid
            return
        m = re.fullmatch(r"4688 (NewProcessName|ParentProcessName)=(\S+)", label)
        if m:
            f, x = m.group(1), m.group(2).lower()
            self.pred = lambda r: (r.get("channel") == "Security" and r.get("event_id") == 4688 and
                                   any(basename(v).lower() == x for v in ed_values(r, f)))
            return
        m = re.fullmatch(r"PS (classic )?(\d+) mentions (.+)", label)
        if m:
            classic, eid, c = bool(m.group(1)), int(m.group(2)), m.group(3).lower()
            chans = (PS_CLASSIC,) if classic else PS_OPERATIONAL

            def pred(r, chans=chans, eid=eid, c=c):
                if r.get("channel") not in chans or r.get("event_id") != eid:
                    return False
                vals = flat_values(r.get("event_data")) + flat_values(r.get("user_data"))
                return any(c in v.lower() for v in vals)
            self.pred = pred
            return
        m = re.fullmatch(r'cmdline contains "(.*)"', label)
        if m:
            s = m.group(1).lower()
            fields = cmdline_fields(exp)
            self.pred = lambda r: any(s in v.lower() for f in fields for v in ed_values(r, f)
                                      if isinstance(v, str))
            return

    def __call__(self, rec):
        return bool(self.pred(rec))


# ---------------------------------------------------------------- the file itself

def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def header_version(data):
    """(major, minor) from the file header (notes §1: minor at 36, major at 38)."""
    if len(data) < 40 or data[:8] != b"ElfFile\0":
        return None
    minor, major = struct.unpack_from("<HH", data, 36)
    return (major, minor)


class ChunkInfo:
    def __init__(self, index, offset):
        self.index = index
        self.offset = offset
        self.magic_ok = False
        self.all_zero_header = False
        self.header_crc_ok = None
        self.data_crc_ok = None
        self.free = None
        self.records = []   # RecordHdr walked like libevtx (stops at the first bad one)
        self.stop = None    # why the walk stopped early: (kind, chunk-relative offset)


class RecordHdr:
    def __init__(self, chunk, rel, size, rid, written, size_copy):
        self.chunk = chunk
        self.rel = rel
        self.size = size
        self.record_id = rid
        self.written = written
        self.size_copy = size_copy

    @property
    def torn(self):
        return self.size != self.size_copy


def scan_chunks(data):
    """Chunk slots of the file and their records' headers (no binary XML)."""
    chunks = []
    n = max(0, (len(data) - 4096) // 65536)
    for c in range(n):
        base = 4096 + c * 65536
        ch = data[base:base + 65536]
        info = ChunkInfo(c, base)
        chunks.append(info)
        info.all_zero_header = not any(ch[:512])
        if ch[:8] != b"ElfChnk\0":
            continue
        info.magic_ok = True
        free = struct.unpack_from("<I", ch, 48)[0]
        data_crc = struct.unpack_from("<I", ch, 52)[0]
        hdr_crc = struct.unpack_from("<I", ch, 124)[0]
        info.header_crc_ok = (zlib.crc32(ch[:120] + ch[128:512]) & 0xffffffff) == hdr_crc
        info.free = free
        if 512 <= free <= 65536:
            info.data_crc_ok = (zlib.crc32(ch[512:free]) & 0xffffffff) == data_crc
        p = 512
        lim = min(free, 65536) if free >= 512 else 65536
        while p + 28 <= lim:
            if ch[p:p + 4] != b"**\0\0":
                info.stop = ("signature", p)
                break
            size, rid, written = struct.unpack_from("<IQQ", ch, p + 4)
            if size < 28 or p + size > 65536:
                info.stop = ("size %d" % size, p)
                break
            copy = struct.unpack_from("<I", ch, p + size - 4)[0]
            info.records.append(RecordHdr(c, p, size, rid, written, copy))
            if copy != size:
                info.stop = ("size copy %d != %d" % (copy, size), p)
                break
            p += size
    return chunks


def record_header_at(data, offset):
    """The record header at an absolute file offset, or None."""
    if offset is None or offset < 0 or offset + 28 > len(data) or data[offset:offset + 4] != b"**\0\0":
        return None
    size, rid, written = struct.unpack_from("<IQQ", data, offset + 4)
    copy = None
    if 28 <= size and offset + size <= len(data):
        copy = struct.unpack_from("<I", data, offset + size - 4)[0]
    chunk = (offset - 4096) // 65536
    return RecordHdr(chunk, offset - 4096 - chunk * 65536, size, rid, written, copy)


def filetime_iso(ft):
    """FILETIME -> ISO 8601 with 7 fractional digits and Z."""
    import datetime
    secs, ticks = divmod(ft, 10_000_000)
    try:
        d = datetime.datetime(1601, 1, 1) + datetime.timedelta(seconds=secs)
    except OverflowError:
        return None
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%07dZ" % ticks


XML10_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------- evtxexport XML

ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);")


def decode_entities(s):
    def rep(m):
        e = m.group(1)
        if e[0] == "#":
            try:
                return chr(int(e[2:], 16) if e[1] in "xX" else int(e[1:]))
            except (ValueError, OverflowError):
                return m.group(0)
        return {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}[e]
    return ENTITY_RE.sub(rep, s)


def decode_content(raw):
    """Text of an element as libevtx printed it.  libevtx escapes < > & in
    UTF-16 string values but prints ANSI (0x02) strings raw, so a content
    that holds a literal '<' or '>' is taken as it stands."""
    if "<" in raw or ">" in raw:
        return raw, True
    return decode_entities(raw), False


ATTR_RE = re.compile(r'([\w:.-]+)="([^"]*)"')


class LibevtxRecord:
    def __init__(self):
        self.fields = {}       # event_record_id, time_created, event_id, provider, channel, computer, level, user_sid
        self.event_data = []   # [(name or None, value)]
        self.other_event_data = []   # [(element name, raw content)] e.g. Binary
        self.has_event_data = False
        self.user_data = []    # [(path, value)]
        self.has_user_data = False
        self.raw_values = 0    # contents taken raw (not entity-decoded)
        self.text = ""


def _attrs(s):
    return {k: decode_entities(v) for k, v in ATTR_RE.findall(s)}


def _parse_system(sys_text, rec):
    f = rec.fields
    m = re.search(r"<Provider\b([^>]*?)/?>", sys_text)
    if m:
        a = _attrs(m.group(1))
        if "Name" in a:
            f["provider"] = a["Name"]
    m = re.search(r"<EventID\b[^>]*>([^<]*)</EventID>", sys_text)
    if m and m.group(1).strip().isdigit():
        f["event_id"] = int(m.group(1))
    m = re.search(r"<Level>([^<]*)</Level>", sys_text)
    if m and m.group(1).strip().isdigit():
        f["level"] = int(m.group(1))
    m = re.search(r'<TimeCreated SystemTime="([^"]*)"', sys_text)
    if m:
        f["time_created"] = m.group(1)
    m = re.search(r"<EventRecordID>([^<]*)</EventRecordID>", sys_text)
    if m and m.group(1).strip().isdigit():
        f["event_record_id"] = int(m.group(1))
    m = re.search(r"<Channel>([^<]*)</Channel>", sys_text)
    if m:
        f["channel"] = decode_entities(m.group(1))
    elif re.search(r"<Channel/>", sys_text):
        f["channel"] = ""
    m = re.search(r"<Computer>([^<]*)</Computer>", sys_text)
    if m:
        f["computer"] = decode_entities(m.group(1))
    m = re.search(r"<Security\b([^>]*?)/?>", sys_text)
    if m:
        a = _attrs(m.group(1))
        if "UserID" in a:
            f["user_sid"] = a["UserID"]


ITEM_START_RE = re.compile(r"<([\w:.-]+)((?:\s+[\w:.-]+=\"[^\"]*\")*)\s*(/?)>", re.S)


def _split_items(body, indent):
    """Children of a pretty-printed element: each starts on a new line with
    INDENT spaces and '<' (libevtx's layout).  Values that are UTF-16 strings
    have '<' escaped, so a raw '\\n    <' cannot occur inside them."""
    parts = re.split(r"\n" + " " * indent + r"(?=<[\w:.-])", body)
    return [p for p in parts if p.strip()]


def _parse_item(item):
    """-> (name, attrs, content or None, raw_flag, ok)"""
    item = item.rstrip()
    m = ITEM_START_RE.match(item)
    if not m:
        return None, {}, None, False, False
    name, attrs, empty = m.group(1), _attrs(m.group(2)), m.group(3) == "/"
    rest = item[m.end():]
    if empty:
        return name, attrs, "", False, rest.strip() == ""
    close = "</%s>" % name
    if not rest.endswith(close):
        return name, attrs, None, False, False
    content = rest[:-len(close)]
    return name, attrs, content, False, True


def _parse_user_data(body, indent, path, rec):
    for item in _split_items(body, indent):
        name, attrs, content, _, ok = _parse_item(item)
        if not ok:
            rec.user_data.append((path + "/?", None))
            continue
        p = path + "/" + name if path else name
        if content is not None and content.startswith("\n" + " " * (indent + 2) + "<"):
            inner = content
            if inner.endswith("\n" + " " * indent):
                inner = inner[:-(indent + 1)]
            _parse_user_data(inner, indent + 2, p, rec)
        else:
            val, raw = decode_content(content or "")
            rec.raw_values += raw
            rec.user_data.append((p, val))


def parse_evtxexport_event(ev):
    """One `<Event ...>...</Event>` block of evtxexport -f xml."""
    rec = LibevtxRecord()
    rec.text = ev
    s = ev.find("<System>")
    e = ev.find("</System>")
    if s < 0 or e < 0:
        return None
    _parse_system(ev[s:e], rec)
    rest = ev[e + len("</System>"):]
    body_end = rest.rfind("</Event>")
    if body_end < 0:
        return None
    rest = rest[:body_end]
    if re.search(r"<EventData\b[^>]*/>", rest):
        rec.has_event_data = True
    else:
        m = re.search(r"<EventData\b[^>]*>", rest)   # may carry a Name attribute
        if m:
            e = rest.rfind("</EventData>")
            if e < 0:
                return None
            rec.has_event_data = True
            for item in _split_items(rest[m.end():e], 4):
                name, attrs, content, _, ok = _parse_item(item)
                if not ok:
                    rec.other_event_data.append(("?", item))
                    continue
                if name == "Data":
                    val, raw = decode_content(content)
                    rec.raw_values += raw
                    rec.event_data.append((attrs.get("Name"), val))
                else:
                    rec.other_event_data.append((name, content))
    m = re.search(r"<UserData\b[^>]*>", rest)
    if m and not rest[m.start():m.end()].endswith("/>"):
        e = rest.rfind("</UserData>")
        if e < 0:
            return None
        rec.has_user_data = True
        _parse_user_data(rest[m.end():e], 4, "", rec)
    elif m:
        rec.has_user_data = True
    return rec


def parse_evtxexport_xml(text):
    """-> (records, incomplete_blocks). Blocks are split at lines starting with
    `<Event xmlns=`; a block without its `</Event>` (libevtx printed part of a
    record, then "Unable to export ...") is counted as incomplete."""
    starts = [m.start() for m in re.finditer(r"(?m)^<Event xmlns=", text)]
    recs, incomplete = [], 0
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(text)
        block = text[s:e]
        end = block.rfind("\n</Event>")
        if end < 0:
            incomplete += 1
            continue
        r = parse_evtxexport_event(block[:end + len("\n</Event>")])
        if r is None:
            incomplete += 1
        else:
            recs.append(r)
    return recs, incomplete


def run_evtxexport(path, recovered=False, timeout=300.0):
    argv = ["evtxexport", "-f", "xml"] + (["-m", "recovered"] if recovered else []) + [path]
    res = run_command(argv, timeout=timeout)
    text = res.stdout.decode("utf-8", "replace")
    recs, incomplete = parse_evtxexport_xml(text)
    return res, recs, incomplete


def event_data_map(pairs):
    """libevtx EventData items -> {name: [values]} with unnamed ones under 'Data'
    (the shape of docs/output.md: event_data)."""
    out = {}
    for name, val in pairs:
        out.setdefault(name if name is not None else "Data", []).append(val)
    return out


def which(prog):
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, prog)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None
