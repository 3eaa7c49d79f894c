#!/usr/bin/env python3
"""test_docs_rules.py: the examples of docs/rules.md work as written.

docs/rules.md marks its examples:

- a fenced block whose first line is `# file: NAME` is a complete file: it is written to
  NAME (relative to one temporary folder), without that first line;
- a ```console block is a session run in that folder after all files are written: each
  line `$ COMMAND` is run with bash (`logwarden` is the built binary), and the lines after
  it, up to the next `$ ` line, are its expected output (standard output, then standard
  error), compared line by line, `...` standing for any text. A command ending in
  `# exit N` must exit with N, any other with 0.

Also: every ```yaml block that looks like a whole config, rule file or test file (it has
a top-level `events:`, `alerts:`, `patterns:`, `inputs:`, `rules:` or `tests:` key) must
be marked `# file:`, so no complete example escapes the check; and every `# file:` block
that is a config, rule file or test file must be named by some console command or be
loaded by `logwarden check -c logwarden.yaml` (rule files under rules.d/), so each is
actually run.

docs/sinks.md is checked the same way for its complete examples: every ```yaml block there
with a top-level `events:`, `alerts:`, `patterns:`, `inputs:`, `rules:` or `tests:` key must be
marked `# file:`; all marked blocks are written to one temporary folder, and every marked
config (a `.yaml` file with a top-level `inputs:` or `sinks:` key) must pass
`logwarden check -c NAME`, with each `${VAR}` of the page set to a dummy value (a URL for names
ending in `_URL`).

usage: test_docs_rules.py PATH/TO/logwarden
"""

import os
import re
import subprocess

import e2e

DOC = os.path.join(e2e.REPO, "docs", "rules.md")
SINKS_DOC = os.path.join(e2e.REPO, "docs", "sinks.md")
FENCE = re.compile(r"^```(\S*)\s*$")
MARK = re.compile(r"^# file: (\S+)\s*$")
TOP_KEY = re.compile(r"^(events|alerts|patterns|inputs|rules|tests):", re.M)
EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
CONFIG_KEY = re.compile(r"^(inputs|sinks):", re.M)
ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def blocks(text):
    """(info string, first line number, list of lines) of every fenced block."""
    out, cur, lang, start = [], None, None, 0
    for no, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if cur is None:
            if m:
                cur, lang, start = [], m.group(1), no + 1
        elif line.strip() == "```":
            out.append((lang, start, cur))
            cur = None
        else:
            cur.append(line)
    return out


def sessions(lines):
    """[(command, expected output lines)] of a console block."""
    out = []
    for line in lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def line_matches(expected, actual):
    parts = [re.escape(p) for p in expected.split("...")]
    return re.fullmatch(".*".join(parts), actual) is not None


def compare(expected, actual):
    """None when they match, else a description of the first difference."""
    exp = list(expected)
    while exp and not exp[-1].strip():
        exp.pop()
    act = actual.rstrip("\n").split("\n") if actual.strip() else []
    for i in range(max(len(exp), len(act))):
        e = exp[i] if i < len(exp) else None
        a = act[i] if i < len(act) else None
        if e is None or a is None or not line_matches(e, a):
            return f"line {i + 1}:\nexpected: {e!r}\nactual:   {a!r}\n--- all output:\n{actual}"
    return None


def check_sinks_doc(t, binary):
    """docs/sinks.md: every marked config passes `logwarden check -c`."""
    with open(SINKS_DOC, encoding="utf-8") as f:
        text = f.read()
    td = e2e.TempDir("docs-sinks")
    env = dict(os.environ, LC_ALL="C")
    for name in set(ENV_VAR.findall(text)):
        env[name] = "https://hooks.example.com/dummy" if name.endswith("_URL") else "dummy-secret"
    try:
        files = {}
        for lang, start, lines in blocks(text):
            m = MARK.match(lines[0]) if lines else None
            body = "\n".join(lines[1:] if m else lines)
            if m:
                name = m.group(1)
                t.check(name not in files, f"docs/sinks.md:{start}: {name} is written once")
                files[name] = (start, body)
                td.write(name, body + "\n")
            elif lang == "yaml":
                t.check(not TOP_KEY.search(body),
                        f"docs/sinks.md:{start}: a whole-file yaml example is marked '# file:'",
                        body)
        configs = [(n, s) for n, (s, body) in files.items()
                   if n.endswith(".yaml") and CONFIG_KEY.search(body)]
        t.check(configs, "docs/sinks.md has configs marked '# file:'")
        for name, start in configs:
            p = subprocess.run([binary, "check", "-c", name], cwd=td.path, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors="replace", timeout=60)
            t.check(p.returncode == 0, f"docs/sinks.md:{start}: logwarden check -c {name} passes",
                    f"exit {p.returncode}\n{e2e.tail(p.stdout + p.stderr)}")
    finally:
        td.cleanup()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    check_sinks_doc(t, binary)
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    all_blocks = blocks(text)

    td = e2e.TempDir("docs")
    bindir = td.join(".bin")
    os.makedirs(bindir)
    os.symlink(binary, os.path.join(bindir, "logwarden"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), LC_ALL="C")
    try:
        files = {}
        for lang, start, lines in all_blocks:
            m = MARK.match(lines[0]) if lines else None
            if m:
                name = m.group(1)
                t.check(name not in files, f"docs/rules.md:{start}: {name} is written once")
                files[name] = start
                td.write(name, "\n".join(lines[1:]) + "\n")
            elif lang == "yaml":
                body = "\n".join(lines)
                t.check(not TOP_KEY.search(body),
                        f"docs/rules.md:{start}: a whole-file yaml example is marked '# file:'",
                        body)
        t.check(files, "docs/rules.md has examples marked '# file:'")

        commands = []
        for lang, start, lines in all_blocks:
            if lang != "console":
                continue
            for cmd, expected in sessions(lines):
                commands.append(cmd)
                m = EXIT.search(cmd)
                want = int(m.group(1)) if m else 0
                p = subprocess.run(["bash", "-c", "{ " + cmd + "\n} 2>&1"], cwd=td.path, env=env,
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   errors="replace", timeout=60)
                out = p.stdout + p.stderr
                t.check(p.returncode == want, f"docs/rules.md:{start}: `{cmd}` exits {want}",
                        f"exit {p.returncode}\n{e2e.tail(out)}")
                diff = compare(expected, out)
                t.check(diff is None, f"docs/rules.md:{start}: output of `{cmd}` is as shown",
                        diff)

        # Every complete example is exercised by some command.
        ran = " ".join(commands)
        for name, start in files.items():
            if not name.endswith(".yaml"):
                continue
            used = name in ran or (name.startswith("rules.d/") and "-c logwarden.yaml" in ran)
            t.check(used, f"docs/rules.md:{start}: {name} is run by a command of the docs")
    finally:
        td.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
