#!/usr/bin/env python3
"""embed_sql.py: turns an SQL file into a C source file defining
`const char NAME[]` with its text, so the program carries the SQL of the
views (schema/views.sql) without reading files at run time.

usage: embed_sql.py INPUT.sql OUTPUT.c NAME
"""
import sys


def main() -> int:
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    src, dst, name = sys.argv[1:]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    out = [f"/* Generated from {src.rsplit('/', 1)[-1]} by embed_sql.py; do not edit. */\n",
           f"extern const char {name}[];\n",
           f"const char {name}[] =\n"]
    for line in text.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'\t"{esc}"\n')
    out.append('\t"";\n')
    with open(dst, "w", encoding="utf-8") as f:
        f.writelines(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
