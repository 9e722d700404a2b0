#!/usr/bin/env python3
"""The Velociraptor artifacts (issue 14, point 2), checked without a
Velociraptor binary (none is packaged for Debian, and this project's
machines reach no other download):

- each YAML file against the schema Velociraptor documents and its loader
  enforces (artifacts/proto/artifact.proto, services/repository: strict
  field names, the name's characters, the type, parameter types, tools
  entries, permissions, one precondition level, each source's query being
  LET statements and one final SELECT); the client artifact's sources share
  one scope (no source precondition: Velociraptor runs them in order), the
  server artifact reads the client's Inventory source by its
  "Artifact/Source" name and counts a client once;
- the exact command line the client artifact builds (its Argv) is run with
  this build on a tree laid out as the artifact's copy makes it (C/Windows/
  ...), and the rows each source selects are checked: cases, findings and
  inventory rows, the namespace filter keeping rows without a namespace;
- the server artifact's stacking, done as its VQL says on rows shaped as
  hunt_results gives them, agrees with `wmihunt stack --jsonl`.
With WMIHUNT_EXE (make windows) and wine, the same command line runs wmihunt.exe
and its rows must equal the Linux build's; skipped (said) without them.

usage: test_velociraptor.py WMIHUNT TESTS_GEN_BUILD_DIR TESTS_SRC_DIR SCRATCH [WMIHUNT_EXE]"""
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

TOP = {"name", "aliases", "description", "author", "reference", "references", "type", "parameters", "sources",
       "precondition", "export", "imports", "tools", "required_permissions", "implied_permissions", "impersonate",
       "resources", "column_types", "reports"}
PARAM = {"name", "default", "description", "type", "choices", "friendly_name", "validating_regex", "artifact_type",
         "sources"}
PARAM_TYPES = {"", "string", "regex", "yara", "redacted", "int", "int64", "integer", "float", "timestamp", "bool",
               "csv", "artifactset", "json", "json_array", "regex_array", "multichoice", "xml", "yaml", "starlark",
               "upload", "upload_file", "server_metadata", "choices", "hidden"}
TOOL = {"name", "url", "serve_locally", "expected_hash", "version", "github_project", "github_asset_regex"}
SOURCE = {"name", "description", "precondition", "query", "notebook"}
RESOURCES = {"timeout", "ops_per_second", "cpu_limit", "iops_limit", "max_rows", "max_upload_bytes",
             "max_batch_wait", "max_batch_rows", "max_batch_rows_buffer"}
TYPES = {"CLIENT", "CLIENT_EVENT", "SERVER", "SERVER_EVENT", "NOTEBOOK", "INTERNAL"}
PERMS = {"ALL_QUERY", "ANY_QUERY", "PUBLISH", "READ_RESULTS", "LABEL_CLIENT", "COLLECT_CLIENT", "COLLECT_BASIC",
         "COLLECT_SERVER", "ARTIFACT_WRITER", "SERVER_ARTIFACT_WRITER", "EXECVE", "NOTEBOOK_EDITOR",
         "SERVER_ADMIN", "FILESYSTEM_READ", "FILESYSTEM_WRITE", "MACHINE_STATE", "PREPARE_RESULTS", "DELETE_RESULTS",
         "COLLECT_SERVER", "IMPERSONATION", "NETWORK", "ORG_ADMIN", "START_HUNT", "SERVER_ADMIN"}


class Strict(yaml.SafeLoader):
    """Duplicate keys are an error, as in Go's yaml.UnmarshalStrict."""


def _mapping(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    if len(keys) != len(set(keys)):
        raise yaml.constructor.ConstructorError(None, None, "duplicate key", node.start_mark)
    return loader.construct_mapping(node, deep)


Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def statements(query):
    """VQL statements at top level: comments dropped, split where a line
    starts a new LET or SELECT outside brackets."""
    lines = [l for l in query.splitlines() if not l.strip().startswith("--")]
    out, cur, depth = [], [], 0
    for l in lines:
        s = l.strip()
        if depth == 0 and re.match(r"(?i)^(LET|SELECT)\b", s) and cur:
            out.append(" ".join(cur))
            cur = []
        if s:
            cur.append(s)
        depth += l.count("(") + l.count("[") + l.count("{") - l.count(")") - l.count("]") - l.count("}")
    if cur:
        out.append(" ".join(cur))
    return out, depth


def check_artifact(path):
    name = os.path.basename(path)
    try:
        a = yaml.load(open(path), Loader=Strict)
    except yaml.YAMLError as e:
        check(False, "%s: not strict YAML: %s" % (name, e))
        return None
    check(isinstance(a, dict) and set(a) <= TOP, "%s: unknown top-level fields %s" % (name, set(a) - TOP))
    check(re.fullmatch(r"[a-zA-Z0-9_.]+", a.get("name", "")) and
          not any(p[:1].isdigit() for p in a["name"].split(".")), "%s: bad name %r" % (name, a.get("name")))
    check(a["name"] + ".yaml" == name, "%s: the file is not named after the artifact" % name)
    check(str(a.get("type", "CLIENT")).upper() in TYPES, "%s: type %r" % (name, a.get("type")))
    for p in a.get("parameters", []):
        check(set(p) <= PARAM and p.get("name"), "%s: parameter %s: fields %s" % (name, p.get("name"), set(p) - PARAM))
        check(p.get("type", "") in PARAM_TYPES, "%s: parameter %s: type %r" % (name, p.get("name"), p.get("type")))
        if p.get("type") == "choices":
            check(p.get("default") in p.get("choices", []), "%s: %s: default not among the choices" % (name, p["name"]))
        if p.get("type") in ("upload", "upload_file"):
            check("default" not in p, "%s: %s: an upload cannot have a default" % (name, p["name"]))
        if "default" in p:
            check(isinstance(p["default"], str), "%s: %s: a default is a string" % (name, p["name"]))
    for t in a.get("tools", []):
        check(set(t) <= TOOL and t.get("name"), "%s: tool fields %s" % (name, set(t) - TOOL))
        if "expected_hash" in t:
            check(re.fullmatch(r"[0-9a-f]{64}", t["expected_hash"]), "%s: expected_hash is not a SHA-256" % name)
    check(set(a.get("resources", {})) <= RESOURCES, "%s: resources %s" % (name, set(a.get("resources", {})) - RESOURCES))
    check(set(a.get("required_permissions", [])) <= PERMS, "%s: permissions %s" % (name, a.get("required_permissions")))
    srcs = a.get("sources", [])
    check(srcs, "%s: no sources" % name)
    names = [s.get("name") for s in srcs]
    check(len(names) == len(set(names)), "%s: two sources with one name" % name)
    for s in srcs:
        check(set(s) <= SOURCE, "%s: source %s: fields %s" % (name, s.get("name"), set(s) - SOURCE))
        check(not (a.get("precondition") and s.get("precondition")),
              "%s: a top-level and a source precondition (Velociraptor refuses both)" % name)
        st, depth = statements(s.get("query", ""))
        check(depth == 0, "%s: source %s: unbalanced brackets" % (name, s.get("name")))
        check(st and all(re.match(r"(?i)^LET\b", x) for x in st[:-1]) and re.match(r"(?i)^SELECT\b", st[-1]),
              "%s: source %s: not LETs then one SELECT" % (name, s.get("name")))
    return a


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__)
        return 64
    wm, gen, src, scratch = (os.path.abspath(x) for x in argv[1:5])
    exe = os.path.abspath(argv[5]) if len(argv) == 6 else ""
    root = os.path.dirname(src)
    client = check_artifact(os.path.join(root, "contrib", "velociraptor", "Windows.Forensics.WMIHunt.yaml"))
    server = check_artifact(os.path.join(root, "contrib", "velociraptor", "Server.Hunts.WMIHuntStack.yaml"))
    if not client or not server:
        return finish()

    # ---- the client artifact's shape ----
    check(str(client.get("type")).upper() == "CLIENT", "client artifact: type")
    check({"EXECVE", "FILESYSTEM_WRITE"} <= set(client.get("required_permissions", [])),
          "client artifact: execve and tempdir/copy need EXECVE and FILESYSTEM_WRITE")
    check(any(t["name"] == "WMIHunt" for t in client.get("tools", [])), "client artifact: no WMIHunt tool")
    check(not any(s.get("precondition") for s in client["sources"]),
          "client artifact: a source precondition makes the sources run apart (the tool would not be shared)")
    first = client["sources"][0]["query"]
    for needle in ("tempdir()", 'Generic.Utils.FetchBinary(ToolName="WMIHunt"', 'accessor="ntfs"', "execve(",
                   "parse_jsonl(filename=ResultFile)"):
        check(needle in first, "client artifact: the first source lacks %s" % needle)
    by = {s["name"]: s["query"] for s in client["sources"]}
    for srcname, art in (("Cases", "hunt.case"), ("Findings", "hunt.finding"), ("Inventory", "hunt.item")):
        check(srcname in by and ('artifact = "%s"' % art) in by[srcname], "client artifact: source %s" % srcname)
    params = {p["name"]: p for p in client.get("parameters", [])}
    for p in ("EvidenceGlobs", "NamespaceRegex", "MinSeverity", "RulesFile", "UploadRawFiles"):
        check(p in params, "client artifact: no %s parameter" % p)
    # ---- the server artifact ----
    check(str(server.get("type")).upper() == "SERVER", "server artifact: type")
    q = server["sources"][0]["query"]
    check('artifact="Windows.Forensics.WMIHunt/Inventory"' in q, "server artifact: not the Artifact/Source form")
    check("GROUP BY kind, key, ClientId" in q and "GROUP BY kind, key ORDER BY Clients" in q,
          "server artifact: a client must count once, rarest first")

    # ---- the command line the artifact builds, run on a tree laid out as its copy ----
    m = re.search(r"LET Argv <= \[(.*?)\] \+ Rules \+ \[Evidence\]", first, re.S)
    check(m is not None, "client artifact: no Argv line")
    scratch = os.path.join(scratch, "run-%d" % os.getpid())
    shutil.rmtree(scratch, ignore_errors=True)
    tmp = os.path.join(scratch, "tmpdir")
    os.makedirs(tmp)
    subprocess.run([sys.executable, os.path.join(src, "gen", "casegen.py"), "--gen", gen, "demo",
                    os.path.join(scratch, "demo")], check=True, stdout=subprocess.DEVNULL)
    # The artifact's copy keeps each path below the volume root under C/.
    shutil.copytree(os.path.join(scratch, "demo", "C"), os.path.join(tmp, "C"))
    result = os.path.join(tmp, "wmihunt.jsonl")
    scope = {"bin[0].OSPath": wm, "MinSeverity": params["MinSeverity"]["default"], "ResultFile": result}
    args = []
    for tok in re.findall(r'"[^"]*"|[A-Za-z_][\w.\[\]]*', m.group(1) if m else ""):
        args.append(tok[1:-1] if tok.startswith('"') else scope.get(tok, "?" + tok))
    check(not any(a.startswith("?") for a in args), "Argv names something this test does not know: %s" % args)
    p = subprocess.run(args + [os.path.join(tmp, "C")], capture_output=True, timeout=300)
    check(p.returncode in (0, 1) and p.stdout == b"", "the artifact's command line: exit %d, %s"
          % (p.returncode, p.stderr[-300:]))
    rows = [json.loads(l) for l in open(result)] if os.path.exists(result) else []
    kinds = {r["artifact"] for r in rows}
    check({"hunt.host", "hunt.case", "hunt.finding", "hunt.item"} <= kinds, "the report's rows: %s" % kinds)
    ns = re.compile(params["NamespaceRegex"]["default"])
    cases = [r for r in rows if r["artifact"] == "hunt.case" and (not r.get("namespace") or ns.search(r["namespace"]))]
    check(any(r["severity"] == "critical" for r in cases), "Cases: the demo's critical case is not a row")
    check(any(not r.get("namespace") for r in cases), "Cases: rows without a namespace are kept")
    sev = ["info", "low", "medium", "high", "critical"]
    check(all(r.get("inventory") or sev.index(r["severity"]) >= sev.index(scope["MinSeverity"]) for r in cases),
          "Cases: --min-severity from the MinSeverity parameter is not applied")

    # ---- the server artifact's stacking, as its VQL says, against stack --jsonl ----
    items = [r for r in rows if r["artifact"] == "hunt.item"]
    hunt_rows = []
    for i, host in enumerate(("WS-A.corp", "WS-B.corp", "WS-C.corp")):
        for r in items[: len(items) - i]:  # fewer items on each next client
            hunt_rows.append(dict(r, Fqdn=host, ClientId="C.%016x" % (i + 1)))
        hunt_rows.append(dict(items[0], Fqdn=host, ClientId="C.%016x" % (i + 1)))  # a repeat: counts once
    per_client = {}
    for r in hunt_rows:
        per_client.setdefault((r["kind"], r["key"], r["ClientId"]), r)
    vql = {}
    for (k, key, _), r in per_client.items():
        vql.setdefault((k, key), []).append(r["Fqdn"])
    export = os.path.join(scratch, "hunt.json")
    with open(export, "w") as f:
        for r in hunt_rows:
            f.write(json.dumps(r) + "\n")
    s = subprocess.run([wm, "stack", "--format", "jsonl", "--top", "100000", "--jsonl", export], capture_output=True)
    ours = {(r["kind"], r["key"]): r["hosts"] for r in map(json.loads, s.stdout.splitlines())}
    check(s.returncode == 0 and ours == {k: len(v) for k, v in vql.items()},
          "the server artifact's counts and stack --jsonl differ: %s / %s" % (ours, vql))

    # ---- the same command line with wmihunt.exe under wine, as an endpoint runs it ----
    if exe and os.path.exists(exe) and shutil.which("wine"):
        env = dict(os.environ, WINEDEBUG="-all", LANG="C.UTF-8", WINEPREFIX=os.path.join(os.path.dirname(exe), "wine"))
        winpath = lambda p: "Z:" + p.replace("/", "\\")
        wresult = os.path.join(tmp, "wmihunt-win.jsonl")
        wscope = dict(scope, **{"bin[0].OSPath": exe, "ResultFile": winpath(wresult)})
        wargs = [shutil.which("wine")]
        for tok in re.findall(r'"[^"]*"|[A-Za-z_][\w.\[\]]*', m.group(1) if m else ""):
            wargs.append(tok[1:-1] if tok.startswith('"') else wscope.get(tok, "?" + tok))
        w = subprocess.run(wargs + [winpath(os.path.join(tmp, "C"))], capture_output=True, timeout=600, env=env)
        check(w.returncode == p.returncode and w.stdout == b"", "wmihunt.exe with the artifact's command line under wine:"
              " exit %d (Linux %d), %s" % (w.returncode, p.returncode, w.stderr[-300:]))
        got = open(wresult, "rb").read() if os.path.exists(wresult) else b""
        lw = json.dumps(winpath(os.path.join(tmp, "C")))[1:-1].encode()
        ll = json.dumps(os.path.join(tmp, "C"))[1:-1].encode()
        check(got.replace(lw, ll) == open(result, "rb").read(),
              "wmihunt.exe's rows equal the Linux build's, byte for byte once the evidence path is the same")
    else:
        print("skipped: the artifact's command line under wine (no wmihunt.exe: run 'make windows')")
    shutil.rmtree(scratch, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
