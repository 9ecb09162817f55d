#!/usr/bin/env python3
"""Sum the TAP results of meson test logs (testlog.json) and TAP files.

meson keeps each test program's stdout; cmocka (CMOCKA_MESSAGE_OUTPUT=TAP)
and bats (--tap) both print TAP, so every test case is one 'ok' or 'not ok'
line. A program that died before printing its plan counts as one failure.
Prints 'N passed, N failed, N skipped' and exits 1 when anything failed.
"""
import json
import re
import sys

passed = failed = skipped = 0
def count(text):
    """(passed, failed, skipped) of the TAP lines in TEXT."""
    p = f = s = 0
    for m in re.finditer(r"^(ok|not ok)\b(.*)$", text, re.M):
        if re.search(r"#\s*skip", m.group(2), re.I):
            s += 1
        elif m.group(1) == "ok":
            p += 1
        else:
            f += 1
    return p, f, s


for path in sys.argv[1:]:
    if not path.endswith(".json"):
        with open(path) as f:
            text = f.read()
        p, f_, s = count(text)
        if p + f_ + s == 0:
            f_ = 1
            print(f"{path}: no TAP output")
        passed, failed, skipped = passed + p, failed + f_, skipped + s
        continue
    with open(path) as f:
        for line in f:
            test = json.loads(line)
            out = test.get("stdout") or ""
            cases = re.findall(r"^(ok|not ok)\b.*$", out, re.M)
            if not cases:
                failed += 1
                print(f"{path}: {test['name']}: no TAP output ({test['result']})")
                continue
            p, f_, s = count(out)
            passed, failed, skipped = passed + p, failed + f_, skipped + s
            if test["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and \
                    "not ok" not in out:
                failed += 1
                print(f"{path}: {test['name']}: {test['result']} with no failing case")

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
