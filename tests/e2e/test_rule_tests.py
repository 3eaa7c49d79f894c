#!/usr/bin/env python3
"""test_rule_tests.py: `logwarden test TESTFILE...` (rule unit tests) end to end.

Runs the example test files under tests/rules/examples/ (a config with a
syslog-format input, a raw file input and a web input; fixtures; test files
that pass, fail and are malformed) and a few generated in a temporary folder,
and checks exit codes (0 all pass, 1 a test failed, 2 a bad test file), the
ok/FAIL lines, the side-by-side output of failures, the FILE:LINE:COL errors,
expect_none, file: fixtures, now: year inference (and the real now when none
is given), input: selecting a syslog or a raw input, and rule_files: without
a config.

usage: test_rule_tests.py PATH/TO/logwarden
"""

import calendar
import datetime
import os

import e2e

EXAMPLES = os.path.join(e2e.REPO, "tests", "rules", "examples")


def lw_test(binary, *files, cwd=EXAMPLES):
    return e2e.run([binary, "test", *files], cwd=cwd,
                   env=dict(os.environ, TZ="UTC"))


def both(p):
    return f"--- stdout\n{p.stdout}--- stderr\n{p.stderr}"


def check_passing(c, binary):
    p = lw_test(binary, "pass.test.yaml")
    c.eq(p.returncode, 0, "pass.test.yaml: exit 0")
    for name in ["brute force from one IP fires and resolves",
                 "the year of syslog times comes from now",
                 "ten failures are not enough",
                 "on the raw authlog input the lines carry no time and arrive at now",
                 "lines as one block, on the web input"]:
        c.check(f"ok   pass.test.yaml: {name}\n" in p.stdout, f"pass.test.yaml: ok {name}",
                both(p))
    c.check(p.stdout.endswith("5 passed, 0 failed\n"), "pass.test.yaml: summary", both(p))
    c.eq(p.stderr, "", "pass.test.yaml: nothing on stderr")

    p = lw_test(binary, "rulefiles.test.yaml")
    c.eq(p.returncode, 0, "rule_files without a config: exit 0")
    c.check("2 passed, 0 failed" in p.stdout, "rule_files without a config: summary", both(p))

    # Paths in a test file are relative to it, not to the working directory.
    other = e2e.TempDir("ruletests-cwd")
    try:
        p = lw_test(binary, os.path.join(EXAMPLES, "pass.test.yaml"), cwd=other.path)
        c.eq(p.returncode, 0, "run from another folder: exit 0")
        c.check("5 passed, 0 failed" in p.stdout, "run from another folder: summary", both(p))
    finally:
        other.cleanup()


def check_failing(c, binary):
    p = lw_test(binary, "fail.test.yaml")
    c.eq(p.returncode, 1, "fail.test.yaml: exit 1")
    out = p.stdout
    for name in ["wrong time", "the resolution is not expected", "wrong label and value",
                 "an alert that must stay quiet fires", "nothing expected but something fires"]:
        c.check(f"FAIL fail.test.yaml: {name}\n" in out, f"fail.test.yaml: FAIL {name}", both(p))
    c.check("ok   fail.test.yaml: this one passes\n" in out, "fail.test.yaml: ok this one passes",
            both(p))
    c.check(out.endswith("1 passed, 5 failed\n"), "fail.test.yaml: summary", both(p))

    def row(expected, actual):
        """The side-by-side row holding both texts, or None."""
        for line in out.splitlines():
            if "|" in line:
                left, right = line.split("|", 1)
                if expected in left and right.strip() == actual:
                    return line
        return None

    # wrong time: the expected and the actual transition on one line, marked.
    r = row("firing   SshBruteForce {ip=203.0.113.7} at 2024-03-10T06:55:45Z",
            "firing   SshBruteForce {ip=203.0.113.7} at 2024-03-10T06:55:46Z value 11")
    c.check(r is not None and r.lstrip().startswith("!!"), "wrong time: side by side, marked",
            both(p))
    r = row("resolved SshBruteForce at 2024-03-10T07:00:36Z",
            "resolved SshBruteForce {ip=203.0.113.7} at 2024-03-10T07:00:36Z value 11")
    c.check(r is not None and not r.lstrip().startswith("!!"),
            "wrong time: the matching row is not marked", both(p))
    # An unexpected extra transition is shown against (nothing).
    c.check(row("(nothing)",
                "resolved SshBruteForce {ip=203.0.113.7} at 2024-03-10T07:00:36Z value 11")
            is not None, "an extra transition is shown against (nothing)", both(p))
    # Labels the expectation names are shown on the actual side too.
    c.check(row("firing   SshBruteForce {ip=203.0.113.8, team=security} value 11",
                "firing   SshBruteForce {ip=203.0.113.7, team=security} at "
                "2024-03-10T06:55:46Z value 11") is not None,
            "wrong label: both sides with the labels named", both(p))
    c.check(row("resolved SshBruteForce value 9",
                "resolved SshBruteForce {ip=203.0.113.7} at 2024-03-10T07:00:36Z value 11")
            is not None, "wrong value: both sides", both(p))
    # expect_none lists what fired.
    i = out.find("FAIL fail.test.yaml: an alert that must stay quiet fires")
    block = out[i:out.find("FAIL", i + 4)]
    c.check("expect_none" in block
            and "firing   SshBruteForce {ip=203.0.113.7} at 2024-03-10T06:55:46Z value 11" in block
            and "resolved SshBruteForce {ip=203.0.113.7} at 2024-03-10T07:00:36Z value 11"
            in block, "expect_none violation lists the transitions", block)
    # expect: [] means no transition of any alert (here on the raw input, at now).
    c.check(row("(nothing)",
                "firing   SshBruteForce {ip=203.0.113.7} at 2024-03-10T12:00:00Z value 12")
            is not None, "expect: [] against a transition", both(p))


def check_bad(c, binary):
    p = lw_test(binary, "bad.test.yaml", "norules.test.yaml")
    c.eq(p.returncode, 2, "bad test files: exit 2")
    for msg in [
        "bad.test.yaml:6:5: unknown key 'lnes' in test (did you mean 'lines'?)",
        "bad.test.yaml:4:5: test 'typo in a key' has no input: give lines or file",
        "bad.test.yaml:11:12: no input named 'sylog' in",
        "bad.test.yaml:12:10: now: 'yesterday' is not an RFC 3339 time",
        "bad.test.yaml:15:17: no alert named 'SshBruteForse' in the rules "
        "(did you mean 'SshBruteForce'?)",
        "bad.test.yaml:15:40: status: expected firing or resolved, not 'fired'",
        "bad.test.yaml:15:51: at: '2024-03-10 25:00:00' is not an RFC 3339 time",
        "bad.test.yaml:16:19: no alert named 'NoSuchAlert' in the rules",
        "bad.test.yaml:19:11: file: cannot read fixtures/missing.log",
        "bad.test.yaml:22:11: test name 'typo in a key' is used twice",
        "bad.test.yaml:22:5: test 'typo in a key' checks nothing",
        "norules.test.yaml:2:1: a test file needs config: or rule_files:",
    ]:
        c.check(msg in p.stderr, f"error: {msg[:60]}", both(p))
    c.check("12 errors in 2 test files" in p.stderr, "error count", both(p))
    c.check("FAIL" not in p.stdout and "ok " not in p.stdout,
            "tests of bad files are not run", both(p))

    # A bad file does not stop the others; the exit code says the worst.
    p = lw_test(binary, "pass.test.yaml", "bad.test.yaml", "fail.test.yaml")
    c.eq(p.returncode, 2, "good, bad and failing files together: exit 2")
    c.check("6 passed, 5 failed" in p.stdout, "good, bad and failing files: summary", both(p))
    p = lw_test(binary, "pass.test.yaml", "fail.test.yaml")
    c.eq(p.returncode, 1, "passing and failing files together: exit 1")

    p = lw_test(binary)
    c.eq(p.returncode, 2, "no test file: exit 2")
    p = lw_test(binary, "--help")
    c.check(p.returncode == 0 and "usage: logwarden test" in p.stdout, "test --help", both(p))


def infer_year(mon, day, hh, mm, ss, now):
    """The latest year that does not put the time more than one day after now."""
    year = now.year + 1
    while True:
        try:
            t = calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0))
        except (ValueError, OverflowError):
            year -= 1
            continue
        if t <= now.timestamp() + 86400:
            return t
        year -= 1


def check_generated(c, binary):
    """A test without now: the year comes from the real now; a fixture with a JSON input."""
    d = e2e.TempDir("ruletests")
    try:
        d.write("rules/ssh.yaml", open(os.path.join(EXAMPLES, "rules.d", "ssh.yaml")).read())
        d.write("rules/app.yaml", """
events:
  - name: app_error
    where: 'level == "error"'
    timestamp: {field: ts, format: rfc3339}
alerts:
  - name: AppErrors
    event: app_error
    group_by: [svc]
    window: 1m
    count: {above: 2}
""")
        d.write("conf/lw.yaml", """
rules: [../rules/*.yaml]
inputs:
  - {name: syslog, type: syslog, listen: [udp://127.0.0.1:5514]}
  - {name: authlog, type: file, paths: [/var/log/auth.log]}
  - {name: app, type: file, paths: [/var/log/app.log], format: json}
""")
        now = datetime.datetime.now(datetime.timezone.utc)
        fire = infer_year(3, 10, 6, 55, 46, now)
        at = datetime.datetime.fromtimestamp(fire, datetime.timezone.utc)
        lines = "\n".join(
            f"      - '<38>Mar 10 06:55:{36 + i:02d} h sshd[1]: Failed password for root "
            f"from 203.0.113.7 port {i} ssh2'" for i in range(11))
        d.write("t/a.test.yaml", f"""
config: ../conf/lw.yaml
tests:
  - name: year from the real now
    input: syslog
    lines:
{lines}
    expect:
      - {{alert: SshBruteForce, status: firing, at: '{at.strftime("%Y-%m-%dT%H:%M:%SZ")}'}}
  - name: json fixture
    input: app
    file: ../fixtures/app.log
    expect:
      - {{alert: AppErrors, status: firing, labels: {{svc: pay}}, at: '2024-05-01T12:00:05+02:00',
         value: 3}}
    expect_none: [SshBruteForce]
""")
        d.write("fixtures/app.log", "".join(
            f'{{"ts":"2024-05-01T10:00:0{i}.5Z","level":"{lvl}","svc":"{svc}"}}\n'
            for i, (lvl, svc) in enumerate([("error", "pay"), ("info", "pay"), ("error", "pay"),
                                            ("error", "web"), ("error", "pay")])))
        p = e2e.run([binary, "test", d.join("t", "a.test.yaml")], cwd=d.path)
        c.eq(p.returncode, 0, "generated: exit 0")
        c.check("2 passed, 0 failed" in p.stdout, "generated: no now, json fixture", both(p))
    finally:
        d.cleanup()


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    check_passing(c, binary)
    check_failing(c, binary)
    check_bad(c, binary)
    check_generated(c, binary)
    c.finish()


if __name__ == "__main__":
    main()
