#!/usr/bin/env python3
"""test_completion.py: docs/completion/logwarden.bash in a real bash: commands, options, files.

Each case sets COMP_WORDS/COMP_CWORD as bash does for a Tab, calls _logwarden and compares
COMPREPLY. The commands must be those of `logwarden --help`, and `help sink <Tab>` the types the
binary lists (the completion asks the binary, whose folder is put first on PATH).

usage: test_completion.py PATH/TO/logwarden
"""

import os
import re
import shlex

import e2e

SCRIPT = os.path.join(e2e.REPO, "docs", "completion", "logwarden.bash")


def complete(binary, cwd, *words):
    """COMPREPLY for the command line WORDS (the last one being completed), sorted."""
    line = " ".join(shlex.quote(w) for w in words)
    prog = (f"source {shlex.quote(SCRIPT)}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
            "_logwarden; printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = dict(os.environ, PATH=os.path.dirname(binary) + ":" + os.environ.get("PATH", ""))
    r = e2e.run(["bash", "--norc", "--noprofile", "-c", prog], env=env, cwd=cwd)
    return sorted(x for x in r.stdout.split("\n") if x), r.stderr


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("completion")
    try:
        tmp.write("conf/logwarden.yaml", "state: x.db\n")
        tmp.write("conf/other.yml", "\n")
        tmp.write("conf/notes.txt", "\n")
        usage = e2e.run([binary, "--help"]).stdout
        cmds = re.findall(r"^  ([a-z]+) ", usage, re.M)
        got, err = complete(binary, tmp.path, "logwarden", "")
        c.eq([x for x in cmds if x not in got], [], "every command of --help completes")
        c.eq(err, "", "the completion runs without an error")
        c.eq(complete(binary, tmp.path, "logwarden", "re")[0], ["replay"],
             "'re' completes to replay")
        c.eq(complete(binary, tmp.path, "logwarden", "run", "--log-")[0],
             ["--log-format", "--log-level"], "run's options")
        c.eq(complete(binary, tmp.path, "logwarden", "run", "--log-level", "")[0],
             ["debug", "error", "info", "warn"], "--log-level's values")
        c.eq(complete(binary, tmp.path, "logwarden", "check", "-c", "conf/")[0],
             ["conf/logwarden.yaml", "conf/other.yml"], "-c completes YAML files only")
        c.eq(complete(binary, tmp.path, "logwarden", "silence", "")[0],
             ["add", "expire", "list"], "silence's subcommands")
        for kind in ("input", "sink"):
            out = e2e.run([binary, "help", kind]).stdout
            types = sorted(l.strip() for l in out.splitlines() if re.match(r"^  \S+$", l))
            c.check(len(types) > 3, f"help {kind} lists types", out)
            c.eq(complete(binary, tmp.path, "logwarden", "help", kind, "")[0], types,
                 f"help {kind} <Tab> completes the binary's {kind} types")
    finally:
        tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
