#!/usr/bin/env python3
"""Values table of chart/README.md, generated from the `# --` comments of
chart/values.yaml (the comment documents the key on the next line).

  values-table.py           print the table
  values-table.py --check   exit 1 when README.md's table differs
  values-table.py --write   rewrite README.md's table
"""
import pathlib
import re
import sys

CHART = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN VALUES TABLE -->\n", "<!-- END VALUES TABLE -->\n"


def rows(lines):
    stack, desc = [], None
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)# -- (.*)$", line)
        if m:
            desc = m.group(2)
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_]+):\s*(.*)$", line)
        if not m:
            continue
        depth, key, value = len(m.group(1)) // 2, m.group(2), m.group(3)
        stack = stack[:depth] + [key]
        if desc is not None:
            if value == "":
                following = lines[i + 1] if i + 1 < len(lines) else ""
                if following.strip().startswith("# --"):
                    value = None  # documented keys follow
                else:
                    block, j = [], i + 1
                    while j < len(lines) and lines[j].startswith("  " * (depth + 1)):
                        block.append(lines[j].strip())
                        j += 1
                    value = " ".join(block)
            yield ".".join(stack), value, desc
        desc = None


def table():
    lines = (CHART / "values.yaml").read_text().splitlines()
    out = ["| key | default | description |", "|---|---|---|"]
    for path, value, desc in rows(lines):
        default = "(keys below)" if value is None else "`" + value.replace("|", "\\|") + "`"
        out.append("| `" + path + "` | " + default + " | " + desc.replace("|", "\\|") + " |")
    return "\n".join(out) + "\n"


def main():
    generated = table()
    if len(sys.argv) == 1:
        sys.stdout.write(generated)
        return 0
    readme = CHART / "README.md"
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    if sys.argv[1] == "--check":
        if text[start:end] != generated:
            print("chart/README.md values table is out of date: run chart/ci/values-table.py --write")
            return 1
        return 0
    if sys.argv[1] == "--write":
        readme.write_text(text[:start] + generated + text[end:])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
