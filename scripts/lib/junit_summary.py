"""Counts passed and failed test cases in JUnit XML reports; prints 'PASSED FAILED'.

Skipped cases count as neither: a skipped test is not a passed one.
"""
import pathlib
import sys
import xml.etree.ElementTree as ET

passed = failed = 0
for root in sys.argv[1:]:
    for report in sorted(pathlib.Path(root).glob("**/*.xml")):
        try:
            tree = ET.parse(report)
        except ET.ParseError:
            continue
        for case in tree.iter("testcase"):
            tags = {child.tag for child in case}
            if tags & {"failure", "error"}:
                failed += 1
            elif "skipped" not in tags:
                passed += 1
print(passed, failed)
