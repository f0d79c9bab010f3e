#!/usr/bin/env python3
"""layers_check.py SOURCE_ROOT: the layers of projector/ include only their
own headers and those of the layers below them (projector/README.md), and
nothing outside tests/ includes a folder's private header."""
import os
import re
import sys

LAYERS = {
    "schema": ["schema"],
    "log": ["log", "schema"],
    "projector/model": ["projector/model", "schema"],
    "projector/views": ["projector/views", "projector/model", "log", "schema"],
    "projector/history": ["projector/history", "projector/views", "projector/model", "log",
                          "schema"],
    "projector/import": ["projector/import", "projector/views", "projector/model", "log",
                         "schema"],
    "projector/backend": ["projector/backend", "projector/history", "projector/views",
                          "projector/model", "log", "schema"],
}
PRIVATE = {
    "projector/views": ["views_internal.h", "rows.h", "cache.h", "feed.h", "wbvfs.h"],
    "projector/history": ["history_internal.h"],
    "projector/import": ["import_internal.h"],
    "projector/backend": ["backend_internal.h"],
    "log": ["log_internal.h"],
}
INCLUDE = re.compile(r'^#include "([^"]*)"', re.M)


def sources(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith((".c", ".h")))


def main():
    os.chdir(sys.argv[1])
    owner = {}
    for d in LAYERS:
        for f in os.listdir(d):
            if f.endswith(".h"):
                owner.setdefault(f, d)
    bad = []
    for layer, ok in LAYERS.items():
        for f in sources(layer):
            for h in INCLUDE.findall(open(f, encoding="utf-8").read()):
                o = owner.get(h)
                if o and o not in ok:
                    bad.append(f"{f}: includes {h}, which belongs to {o}: not below {layer}")
    for top in ("schema", "log", "projector", "tools"):
        for dp, _, fs in os.walk(top):
            for name in fs:
                if not name.endswith((".c", ".h")):
                    continue
                f = os.path.join(dp, name)
                incs = set(INCLUDE.findall(open(f, encoding="utf-8", errors="replace").read()))
                for d, hs in PRIVATE.items():
                    if f.startswith(d + "/"):
                        continue
                    for h in hs:
                        if h in incs:
                            bad.append(f"{f}: includes {h}, private to {d}")
    for b in bad:
        print(b)
    if bad:
        print(f"layers_check: {len(bad)} include(s) against the layering")
        return 1
    print("layers_check: every include goes down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
