#!/usr/bin/env python3
"""test_check_errors.py: `logwarden check` and `run` on broken configs and rule files.

Each case writes files whose broken line is known, runs `check` (on the rule
file, or on the config with -c), and asserts the exit code (2 invalid, 0
valid) and that stderr holds a `FILE:LINE:COL: message` line for every
error, at the line constructed. A file with several errors must get all of
them reported. `run` on a bad config must exit 2 without starting.

usage: test_check_errors.py PATH/TO/logwarden
"""

import os
import re
import subprocess
import time

import e2e

VALID_RULES = r"""patterns:
  IP: '\d{1,3}(?:\.\d{1,3}){3}'

events:
  - name: ssh_failed_login
    match: 'Failed password for (?:invalid user )?(?<user>\S+) from (?<ip>%{IP}) port \d+'
  - name: http_request
    match: '^(?<ip>%{IP}) \S+ \S+ \[(?<ts>[^\]]+)\] "(?<method>[A-Z]+) (?<path>\S+)[^"]*" (?<status>\d{3}) (?<bytes>\d+|-)'
    fields: {status: int, bytes: int}
    timestamp: {field: ts, format: '%d/%b/%Y:%H:%M:%S %z'}

alerts:
  - name: SshBruteForce
    event: ssh_failed_login
    group_by: [ip]
    window: 5m
    count: {above: 10}
    for: 30s
    severity: critical
    labels: {team: security}
    annotations:
      summary: '{{ value }} failed logins from {{ ip }} in 5m'
  - name: HttpBurst
    event: http_request
    window: 1m
    count: {above: 1000}
    severity: warning
"""

VALID_CONFIG = """state: {state}
rules:
  - rules/*.yaml
inputs:
  - name: auth
    type: file
    paths: [{log}]
    start_at: beginning
    labels: {{host: e2e}}
  - name: in
    type: stdin
sinks:
  - name: out
    type: stdout
  - name: archive
    type: file
    path: {alerts}
notify:
  group_wait: 0s
"""

ERR = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<msg>\S.*)$")


def line_of(text, marker, nth=1):
    """1-based number of the nth line of text containing marker."""
    seen = 0
    for i, line in enumerate(text.split("\n"), 1):
        if marker in line:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError(f"marker {marker!r} not in text")


def diagnostics(stderr):
    """(basename, line, col, message) of every FILE:LINE:COL: message line."""
    out = []
    for line in stderr.split("\n"):
        m = ERR.match(line.strip())
        if m:
            out.append((os.path.basename(m["file"]), int(m["line"]), int(m["col"]), m["msg"]))
    return out


def expect_errors(t, name, p, expected):
    """expected: list of (basename, set of acceptable lines, word the message must hold or None)."""
    t.eq(p.returncode, 2, f"{name}: exit code 2")
    diags = diagnostics(p.stderr)
    for base, lines, word in expected:
        hit = [d for d in diags if d[0] == base and d[1] in lines and d[2] >= 1 and
               (word is None or word.lower() in d[3].lower())]
        want = f"{base}:{'|'.join(map(str, sorted(lines)))}:COL:" + (f" ...{word}..." if word else "")
        t.check(hit, f"{name}: reports {want}", f"stderr:\n{e2e.tail(p.stderr)}")


def rules_case(binary, text):
    td = e2e.TempDir("check")
    path = td.write("rules.yaml", text)
    p = e2e.run([binary, "check", path], timeout=30)
    return td, p


def config_case(binary, config_text, rules_text):
    td = e2e.TempDir("check")
    td.write("rules/main.yaml", rules_text)
    cfg = td.write("logwarden.yaml", config_text.format(
        state=td.join("logwarden.db"), log=td.join("auth.log"), alerts=td.join("alerts.jsonl")))
    p = e2e.run([binary, "check", "-c", cfg], timeout=30)
    return td, cfg, p


def test_rule_file_errors(t, binary):
    cases = []

    # An unknown key, one letter off.
    text = VALID_RULES.replace("    group_by: [ip]\n", "    grup_by: [ip]\n")
    cases.append(("typo key", text, [("rules.yaml", {line_of(text, "grup_by")}, "grup_by")]))

    # A regex that does not compile (unclosed group).
    text = VALID_RULES.replace("(?<user>\\S+) from", "(?<user>\\S+ from")
    cases.append(("bad regex", text, [("rules.yaml", {line_of(text, "(?<user>\\S+ from")}, None)]))

    # %{A} and %{B} refer to each other.
    text = VALID_RULES.replace(
        "  IP: '\\d{1,3}(?:\\.\\d{1,3}){3}'\n",
        "  IP: '\\d{1,3}(?:\\.\\d{1,3}){3}'\n  A: 'a%{B}'\n  B: 'b%{A}'\n").replace(
        "(?<user>\\S+) from (?<ip>%{IP})", "(?<user>%{A}) from (?<ip>%{IP})")
    cases.append(("pattern cycle", text, [("rules.yaml", {line_of(text, "  A: "), line_of(text, "  B: "),
                                                          line_of(text, "%{A}) from")}, None)]))

    # A %{NAME} that patterns: does not define.
    text = VALID_RULES.replace("(?<ip>%{IP}) port", "(?<ip>%{NO_SUCH_PATTERN}) port")
    cases.append(("unknown pattern", text,
                  [("rules.yaml", {line_of(text, "%{NO_SUCH_PATTERN}")}, "NO_SUCH_PATTERN")]))

    # Durations: a word where a unit belongs, an unknown unit.
    text = VALID_RULES.replace("    window: 5m\n", "    window: 5 minutes\n").replace(
        "    for: 30s\n", "    for: 30x\n")
    cases.append(("bad durations", text, [("rules.yaml", {line_of(text, "window: 5 minutes")}, None),
                                          ("rules.yaml", {line_of(text, "for: 30x")}, None)]))

    # An alert naming an event that is not defined.
    text = VALID_RULES.replace("    event: http_request\n", "    event: http_requets\n")
    cases.append(("missing event", text, [("rules.yaml", {line_of(text, "http_requets")}, "http_requets")]))

    # Several errors in one file: every one is reported, not only the first.
    text = (VALID_RULES.replace("(?<user>\\S+) from", "(?<user>\\S+ from")
            .replace("    window: 1m\n", "    window: soon\n")
            .replace("    event: http_request\n", "    event: http_requets\n")
            .replace("    severity: warning\n", "    severity: warning\n    colour: red\n"))
    cases.append(("all errors reported", text, [
        ("rules.yaml", {line_of(text, "(?<user>\\S+ from")}, None),
        ("rules.yaml", {line_of(text, "window: soon")}, None),
        ("rules.yaml", {line_of(text, "http_requets")}, "http_requets"),
        ("rules.yaml", {line_of(text, "colour: red")}, "colour"),
    ]))

    # Broken YAML: libyaml's mark is where it noticed, at the line or soon after.
    text = VALID_RULES.replace("    group_by: [ip]\n", "    group_by: [ip\n")
    first = line_of(text, "group_by: [ip")
    cases.append(("yaml syntax", text, [("rules.yaml", set(range(first, first + 4)), None)]))

    for name, text, expected in cases:
        td, p = rules_case(binary, text)
        try:
            expect_errors(t, f"check RULEFILE, {name}", p, expected)
        finally:
            td.cleanup()


def test_valid(t, binary):
    td = e2e.TempDir("check")
    try:
        path = td.write("rules.yaml", VALID_RULES)
        p = e2e.run([binary, "check", path], timeout=30)
        t.check(p.returncode == 0 and not diagnostics(p.stderr), "check RULEFILE, valid: exit 0",
                f"exit {p.returncode}\nstderr:\n{e2e.tail(p.stderr)}")
    finally:
        td.cleanup()
    td, cfg, p = config_case(binary, VALID_CONFIG, VALID_RULES)
    try:
        t.check(p.returncode == 0 and not diagnostics(p.stderr), "check -c CONFIG, valid: exit 0",
                f"exit {p.returncode}\nstderr:\n{e2e.tail(p.stderr)}")
        t.check(not os.path.exists(td.join("logwarden.db")), "check does not create the state file")
    finally:
        td.cleanup()


def test_config_errors(t, binary):
    # A typo in a top-level config key.
    text = VALID_CONFIG.replace("inputs:\n", "inptus:\n")
    td, cfg, p = config_case(binary, text, VALID_RULES)
    try:
        expect_errors(t, "check -c, typo key", p,
                      [("logwarden.yaml", {line_of(text, "inptus:")}, "inptus")])
    finally:
        td.cleanup()

    # A bad duration in notify:, and a sink type that is not built (yet).
    text = VALID_CONFIG.replace("  group_wait: 0s\n", "  group_wait: fast\n").replace(
        "    type: stdout\n", "    type: carrier_pigeon\n")
    td, cfg, p = config_case(binary, text, VALID_RULES)
    try:
        expect_errors(t, "check -c, bad duration + unknown sink type", p, [
            ("logwarden.yaml", {line_of(text, "group_wait: fast")}, None),
            ("logwarden.yaml", {line_of(text, "carrier_pigeon"), line_of(text, "name: out")}, None),
        ])
    finally:
        td.cleanup()

    # The config is fine; a rule file it names is not.
    rules = VALID_RULES.replace("    event: http_request\n", "    event: http_requets\n")
    td, cfg, p = config_case(binary, VALID_CONFIG, rules)
    try:
        expect_errors(t, "check -c, error in a rule file", p,
                      [("main.yaml", {line_of(rules, "http_requets")}, "http_requets")])
    finally:
        td.cleanup()


def test_run_refuses(t, binary):
    text = VALID_CONFIG.replace("inputs:\n", "inptus:\n")
    td, cfg, _ = config_case(binary, text, VALID_RULES)
    try:
        start = time.monotonic()
        try:
            p = subprocess.run([binary, "run", "-c", cfg], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, errors="replace", timeout=10,
                               cwd=td.path)
        except subprocess.TimeoutExpired:
            t.check(False, "run -c BADCONFIG exits by itself within 10 s", "it kept running")
            return
        t.check(True, f"run -c BADCONFIG exits by itself ({time.monotonic() - start:.1f} s)")
        expect_errors(t, "run -c, typo key", p,
                      [("logwarden.yaml", {line_of(text, "inptus:")}, "inptus")])
        t.check(not os.path.exists(td.join("logwarden.db")),
                "run -c BADCONFIG does not create the state file")
    finally:
        td.cleanup()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    test_rule_file_errors(t, binary)
    test_valid(t, binary)
    test_config_errors(t, binary)
    test_run_refuses(t, binary)
    t.finish()


if __name__ == "__main__":
    main()
