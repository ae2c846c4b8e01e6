#!/usr/bin/env python3
"""The conformance verdict from critest's JUnit report (ginkgo v2).

    conformance-verdict.py JUNIT_XML [EXPECTED_FAILURE...]

Prints how many specs ran and passed, and every failed spec with the first line of its reason.
Exits 0 only when no spec and no suite node failed except those whose names hold one of the
EXPECTED_FAILURE texts, and at least one spec passed.
"""
import sys
import xml.etree.ElementTree as ET

FAILED = ("failed", "panicked", "interrupted", "timedout", "aborted")


def main(path, expected):
    """expected: texts naming the specs allowed to fail."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        print(f"conformance: no readable JUnit report at {path}: {error}")
        return 1
    ran = passed = 0
    unexpected, expected_seen = [], []
    for case in root.iter("testcase"):
        name = case.get("name", "")
        status = case.get("status", "")
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        is_spec = name.startswith("[It]")
        if status in ("skipped", "pending") or case.find("skipped") is not None:
            continue
        if is_spec:
            ran += 1
        if failure is not None or status in FAILED:
            allowed = [text for text in expected if text in name]
            if is_spec and allowed:
                expected_seen.append(allowed[0])
                continue
            reason = " ".join(((failure.get("message") or failure.text or "") if failure is not None else status).split())
            unexpected.append((name, reason[:400]))
        elif is_spec:
            passed += 1
    print(f"conformance: {passed} of {ran} specs passed")
    for text in expected_seen:
        print(f"  expected failure: {text}")
    for name, reason in unexpected:
        print(f"  UNEXPECTED FAILURE: {name}\n      reason: {reason}")
    return 0 if not unexpected and passed > 0 else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
