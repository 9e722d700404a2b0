"""The pass/fail counter the Python tests share.

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
