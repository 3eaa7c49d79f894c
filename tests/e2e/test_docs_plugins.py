#!/usr/bin/env python3
"""test_docs_plugins.py: docs/inputs.md and docs/sinks.md document every plugin option, as
`logwarden help` prints them from the plugins' option tables.

For every plugin `logwarden help input|sink` lists, `logwarden help KIND TYPE` gives its keys,
each with its type and `required`, `default: VALUE` or `optional`, then after a blank line the
keys every plugin of the kind has (inputs: format, labels, ...), which docs/inputs.md lists in its
first table with name and type. The page of its kind must have
a section `## TYPE` whose key tables (rows `| `key`, `key2` | DEFAULT | meaning |`) name exactly
those keys, no more and no fewer, with `required` for a required key and the default in
backquotes for a key that has one. A plugin without keys of its own has no key table.

usage: test_docs_plugins.py PATH/TO/logwarden
"""

import os
import re
import subprocess

import e2e

DOCS = {"input": os.path.join(e2e.REPO, "docs", "inputs.md"),
        "sink": os.path.join(e2e.REPO, "docs", "sinks.md")}
HELP_ROW = re.compile(r"^  (\S+)\s+(\S+)\s+(required|optional|default: (.*))$")
TABLE_ROW = re.compile(r"^\|\s*(`[^|]+`)\s*\|\s*([^|]*?)\s*\|")
KEY = re.compile(r"`([^`]+)`")


def run(binary, *args):
    p = subprocess.run([binary, "help", *args], capture_output=True, text=True, timeout=10)
    return p.returncode, p.stdout, p.stderr


def plugins(t, binary, kind):
    rc, out, err = run(binary, kind)
    t.eq(rc, 0, f"help {kind}: exit 0")
    names = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    t.check(names, f"help {kind} lists some plugins", out + err)
    return names


def options(t, binary, kind, name):
    """{key: (type, 'required' | 'optional' | default)} from `help KIND NAME`."""
    rc, out, err = run(binary, kind, name)
    t.eq(rc, 0, f"help {kind} {name}: exit 0")
    opts, common = {}, {}
    rows = opts
    for line in out.splitlines():
        if not line:
            rows = common  # the keys every plugin of the kind has follow a blank line
        m = HELP_ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(4) if m.group(4) is not None else m.group(3))
    return opts, common


def sections(text):
    """{title: lines} of the page's `## ` sections (fenced blocks left out)."""
    out, cur, fenced = {}, None, False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            continue
        elif line.startswith("## "):
            cur = line[3:].strip()
            out[cur] = []
        elif line.startswith("# "):
            cur = None
        elif cur is not None:
            out[cur].append(line)
    return out


def documented(lines):
    """{key: default cell} from the key tables of a section (the header row is skipped)."""
    keys = {}
    for line in lines:
        m = TABLE_ROW.match(line)
        if not m:
            continue
        for k in KEY.findall(m.group(1)):
            keys[k] = m.group(2)
    return keys


def check_kind(t, binary, kind):
    with open(DOCS[kind], encoding="utf-8") as f:
        text = f.read()
    secs = sections(text)
    page = os.path.basename(DOCS[kind])
    intro = documented(text.split("\n## ", 1)[0].splitlines())
    for name in plugins(t, binary, kind):
        opts, common = options(t, binary, kind, name)
        # The keys every plugin has are in the page's first table, with name and type.
        if kind == "input":
            t.eq(sorted(intro), sorted(["name", "type", *common]),
                 f"{page}: the first table has name, type and the common keys `help {kind} "
                 f"{name}` prints")
        if not t.check(name in secs, f"{page} has a section '## {name}'"):
            continue
        docs = documented(secs[name])
        t.eq(sorted(docs), sorted(opts), f"{page} ## {name}: the keys `help {kind} {name}` prints")
        for key, (_, want) in sorted(opts.items()):
            cell = docs.get(key)
            if cell is None:
                continue
            if want == "required":
                t.eq(cell, "required", f"{page} ## {name}: {key} is required")
            elif want != "optional":
                t.check(f"`{want}`" in cell, f"{page} ## {name}: {key} defaults to {want}",
                        f"the table says: {cell}")
            else:
                t.check(cell != "required", f"{page} ## {name}: {key} is optional",
                        f"the table says: {cell}")


def check_errors(t, binary):
    rc, _, err = run(binary, "sink", "carrier_pigeon")
    t.eq(rc, 2, "help sink UNKNOWN: exit 2")
    t.check("stdout" in err and "slack" in err, "help sink UNKNOWN lists the sink types", err)
    rc, _, _ = run(binary, "nothing")
    t.eq(rc, 2, "help UNKNOWN-TOPIC: exit 2")


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    for kind in DOCS:
        check_kind(t, binary, kind)
    check_errors(t, binary)
    t.finish()


if __name__ == "__main__":
    main()
