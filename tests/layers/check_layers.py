#!/usr/bin/env python3
"""check_layers.py: fails when an #include runs back up the layers (docs/architecture.md).

    base/  <-  ingest/, rules/, store/  <-  alerts/, sinks/  <-  app/

A file may include headers of its own folder (subfolders count as their top folder) and of
folders in a lower layer. Each `#include "x.h"` is resolved to the folder that holds x.h
(headers are included by name: every module's folder is on the include path). Prints each
include that points up or sideways, with FILE:LINE, then a closing "N passed, N failed" line.

usage: check_layers.py [SOURCE_ROOT]
"""
import os
import re
import sys

LAYERS = {"base": 0, "ingest": 1, "rules": 1, "store": 1, "alerts": 2, "sinks": 2, "app": 3}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    where = {}  # header name -> top folder
    files = []
    for top in LAYERS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith(".h"):
                    where.setdefault(n, set()).add(top)
                if n.endswith((".c", ".h")):
                    files.append((top, os.path.join(dirpath, n)))
    bad = 0
    bad_files = set()
    for top, path in sorted(files):
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                name = os.path.basename(m.group(1))
                homes = where.get(name)
                if not homes or top in homes:
                    continue  # a system or generated header, or one of its own folder
                home = min(homes, key=LAYERS.get)
                rel = os.path.relpath(path, root)
                if LAYERS[home] < LAYERS[top]:
                    continue
                bad += 1
                bad_files.add(rel)
                print(f"FAIL {rel}:{lineno}: includes {name} from {home}/ "
                      f"(layer {LAYERS[home]}), but {top}/ is layer {LAYERS[top]}")
    print(f"{len(files) - len(bad_files)} passed, {len(bad_files)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
