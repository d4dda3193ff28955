#!/usr/bin/env python3
"""Turns the output of a dry-run build (make -nB) on stdin into compile_commands.json on stdout.

Used by `make compile_commands` (see the Makefile); needs only the Python standard library.
Every command that compiles one source (`... -c SOURCE -o OBJECT`) becomes one entry, with the
repository root as its directory; link, archive and mkdir lines are ignored.
"""
import json
import os
import shlex
import sys

SOURCE_EXTS = (".cpp", ".cc", ".c", ".cu")


def entry(line, root):
    try:
        args = shlex.split(line)
    except ValueError:
        return None
    if "-c" not in args:
        return None
    i = args.index("-c")
    if i + 1 >= len(args) or not args[i + 1].endswith(SOURCE_EXTS):
        return None
    source = args[i + 1]
    e = {"directory": root, "file": os.path.join(root, source), "arguments": args}
    if "-o" in args and args.index("-o") + 1 < len(args):
        e["output"] = args[args.index("-o") + 1]
    return e


def main():
    root = os.getcwd()
    entries, seen = [], set()
    for line in sys.stdin:
        e = entry(line.strip(), root)
        if e and e["file"] not in seen:
            seen.add(e["file"])
            entries.append(e)
    if not entries:
        sys.exit("compile_commands.py: no compile commands in the input (expected `make -nB` output)")
    json.dump(entries, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
