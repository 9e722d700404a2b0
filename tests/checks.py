"""The pass/fail counter the Python tests share, and their JSON-lines reader.

check(ok, what) counts one assertion and prints "FAIL what" when it does not
hold; finish() prints the last line ctest shows, "N passed, M failed", and
returns the exit status (1 when anything failed)."""

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def finish():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def records(out):
    """The records of JSON-lines output (str or bytes); a line that is not
    JSON becomes {"artifact": "?bad json", "line": ...} so a check fails."""
    import json
    recs = []
    for line in out.splitlines():
        if line.strip():
            try:
                recs.append(json.loads(line))
            except ValueError:
                recs.append({"artifact": "?bad json", "line": line[:200]})
    return recs
