#!/usr/bin/env python3
"""test_man.py: the man pages render without a warning and cannot drift from the binary and docs.

- `MANWIDTH=80 man --warnings -l` renders docs/man/logwarden.1 and logwarden.yaml.5; any line on
  stderr (a groff warning: an unknown macro, a bad escape, a line that cannot be broken) fails.
- logwarden.yaml.5's INPUT TYPES and SINK TYPES are what docs/man/mkman.py makes of this
  binary's option tables (`logwarden help input|sink TYPE`): stale after an option changes until
  mkman.py is run again. Every type and option key is checked to be in the rendered page too.
- logwarden.1 names every command of `logwarden --help`, and every option of each `COMMAND --help`.
- logwarden.yaml.5 names every alert kind of docs/rules.md's table, and every top-level config key
  the example config and docs/rules.md's config use.

usage: test_man.py PATH/TO/logwarden
"""

import os
import re
import subprocess

import e2e

MAN = os.path.join(e2e.REPO, "docs", "man")


def render(c, page):
    env = dict(os.environ, MANWIDTH="80", LANG="C.UTF-8", MAN_KEEP_FORMATTING="0")
    r = e2e.run(["man", "--warnings", "-l", os.path.join(MAN, page)], env=env)
    c.eq(r.returncode, 0, f"man -l {page} exits 0")
    c.eq(r.stderr.strip(), "", f"man --warnings -l {page}: no warning")
    # Plain text: no overstrike, hyphenation joined back, so words can be searched.
    text = re.sub(r".\x08", "", r.stdout)
    text = re.sub(r"[\u2010\u00ad-]\n\s*", "", text)
    return text


def words_of(text):
    return set(re.findall(r"[A-Za-z0-9_.:+|/=~!<>-]+", text))


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()

    # The warning check can fail: a page with an unknown macro gets a warning.
    tmp = e2e.TempDir("man")
    try:
        bad = tmp.write("bad.1", ".TH BAD 1\n.SH NAME\nbad \\- a page\n.XX unknown\n")
        env = dict(os.environ, MANWIDTH="80")
        r = e2e.run(["man", "--warnings", "-l", bad], env=env)
        c.check("warning" in r.stderr, "man --warnings reports a page with an unknown macro",
                r.stderr)
    finally:
        tmp.cleanup()

    one = render(c, "logwarden.1")
    five = render(c, "logwarden.yaml.5")

    # The generated option lists are this binary's.
    r = e2e.run(["python3", os.path.join(MAN, "mkman.py"), binary, "--check"])
    c.check(r.returncode == 0, "logwarden.yaml.5's option lists are the binary's option tables",
            r.stdout + r.stderr)
    five_words = words_of(five)
    for kind in ("input", "sink"):
        out = e2e.run([binary, "help", kind]).stdout
        types = [l.strip() for l in out.splitlines() if re.match(r"^  \S+$", l)]
        c.check(len(types) > 3, f"help {kind} lists the {kind} types", out)
        missing = []
        for t in types:
            if not re.search(r"^   %s$" % re.escape(t), five, re.M):
                missing.append(t)
            opts = e2e.run([binary, "help", kind, t]).stdout
            for key in re.findall(r"^  (\w+)\s+\S+\s+(?:required|optional|default:)", opts, re.M):
                if key not in five_words:
                    missing.append(f"{t}.{key}")
        c.eq(missing, [], f"logwarden.yaml.5 has a section for every {kind} type, with each option")

    # Every command and its options are in logwarden(1).
    usage = e2e.run([binary, "--help"]).stdout
    cmds = re.findall(r"^  ([a-z]+) ", usage, re.M)
    c.check(len(cmds) >= 7, "--help lists the commands", usage)
    commands = one[one.find("COMMANDS"):one.find("OPTIONS")]
    c.eq([x for x in cmds if not re.search(r"^       %s\b" % x, commands, re.M)], [],
         "logwarden(1)'s COMMANDS has every command of --help")
    one_words = words_of(one)
    missing = []
    for cmd in cmds:
        r = e2e.run([binary, cmd, "--help"])
        for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+|-c)\b", r.stdout + r.stderr)):
            if opt not in one_words:
                missing.append(f"{cmd} {opt}")
    c.eq(sorted(missing), [], "logwarden(1) names every option of every COMMAND --help")
    for section in ("EXIT STATUS", "SIGNALS", "FILES", "ENVIRONMENT", "SIGHUP", "SIGTERM"):
        c.check(section in one, f"logwarden(1) has {section}")

    # The rule language of docs/rules.md: every alert kind of its table.
    rules_md = open(os.path.join(e2e.REPO, "docs", "rules.md")).read()
    table = re.search(r"### Kinds\n(?:[^|].*\n|\n)*((?:\|.*\n)+)", rules_md)
    kinds = re.findall(r"(?:^\| |/ )`([a-z_]+):", table.group(1) if table else "", re.M)
    c.check(len(kinds) >= 8, "docs/rules.md's table lists the alert kinds", kinds)
    c.eq([k for k in kinds if f"{k}:" not in five], [],
         "logwarden.yaml.5 names every alert kind of docs/rules.md")
    ops = ["==", "!=", "<=", ">=", "=~", "!~", "and", "or", "not", "exists"]
    c.eq([o for o in ops if o not in five], [], "logwarden.yaml.5 names every expression operator")
    # The top-level keys of the example config are explained.
    conf = open(os.path.join(e2e.REPO, "examples", "etc", "logwarden.yaml")).read()
    keys = re.findall(r"^([a-z_]+):", conf, re.M)
    c.eq([k for k in keys if not re.search(r"^       %s\b" % k, five, re.M)], [],
         "logwarden.yaml.5 explains every top-level key of the example config")
    c.finish()


if __name__ == "__main__":
    main()
