#!/usr/bin/env python3
"""test_shipped_rules.py: the shipped rule files (rules.d/) are valid and tested.

- `logwarden check` passes on every rules.d/*.yaml alone, and on all of them together (one
  rule set: no duplicate event, alert or pattern names), also through a config whose inputs
  have arbitrary names (the shipped rules must not name inputs);
- every rules.d/NAME.yaml has a header comment and a test file tests/rules/NAME.test.yaml;
- `logwarden test` passes (exit 0) on every tests/rules/*.test.yaml, with no failure;
- every alert defined in rules.d is named in at least one test's expect, with status firing,
  so no shipped alert is untested.

usage: test_shipped_rules.py PATH/TO/logwarden
"""

import glob
import os
import re

import e2e

RULES_D = os.path.join(e2e.REPO, "rules.d")
TESTS = os.path.join(e2e.REPO, "tests", "rules")


def both(p):
    return f"--- stdout\n{p.stdout}--- stderr\n{p.stderr}"


def alerts_of(path):
    """Alert names of a rule file: `- name:` items of the top-level `alerts:` list."""
    names, section = [], None
    with open(path) as f:
        for line in f:
            m = re.match(r"^([a-z_]+):", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^  - name:\s*['\"]?([A-Za-z0-9_.-]+)", line)
            if m and section == "alerts":
                names.append(m.group(1))
    return names


def expected_alerts(path):
    """(alert, status) pairs named in the expect lists of a test file: {alert: X, status: Y}."""
    text = open(path).read()
    out = set()
    for m in re.finditer(r"\{\s*alert:\s*['\"]?([A-Za-z0-9_.-]+)['\"]?\s*(?:,\s*status:\s*(\w+))?", text):
        out.add((m.group(1), m.group(2) or "any"))
    return out


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    env = dict(os.environ, TZ="UTC")
    rule_files = sorted(glob.glob(os.path.join(RULES_D, "*.yaml")))
    test_files = sorted(glob.glob(os.path.join(TESTS, "*.test.yaml")))
    c.check(len(rule_files) >= 7, "rules.d holds the shipped rule files",
            "\n".join(rule_files))

    all_alerts = {}
    for rf in rule_files:
        rel = os.path.relpath(rf, e2e.REPO)
        p = e2e.run([binary, "check", rf], env=env, cwd=e2e.REPO)
        c.eq(p.returncode, 0, f"check {rel}: exit 0") or print(both(p))
        first = open(rf).readline()
        c.check(first.startswith("# "), f"{rel}: starts with a header comment", first)
        name = os.path.basename(rf)[:-len(".yaml")]
        c.check(os.path.exists(os.path.join(TESTS, name + ".test.yaml")),
                f"{rel}: has tests/rules/{name}.test.yaml")
        alerts = alerts_of(rf)
        c.check(alerts, f"{rel}: defines alerts", open(rf).read()[-400:])
        for a in alerts:
            c.check(a not in all_alerts, f"{rel}: alert {a} is defined once",
                    f"also in {all_alerts.get(a)}")
            all_alerts[a] = rel

    # All files together are one rule set.
    p = e2e.run([binary, "check", *rule_files], env=env, cwd=e2e.REPO)
    c.eq(p.returncode, 0, "check rules.d/*.yaml together: exit 0") or print(both(p))
    m = re.search(r"(\d+) alerts", p.stdout + p.stderr)
    c.check(m and int(m.group(1)) == len(all_alerts),
            f"check counts the {len(all_alerts)} alerts found in the files", both(p))

    # Through a config, as bench/bench.py and users load them: inputs with any names.
    d = e2e.TempDir("shipped-rules")
    try:
        d.write("logwarden.yaml",
                f"state: {d.join('state.db')}\n"
                f"rules: ['{RULES_D}/*.yaml']\n"
                "inputs:\n"
                f"  - {{name: anything, type: file, paths: ['{d.join('a.log')}']}}\n"
                f"  - {{name: auth, type: file, paths: ['{d.join('auth.log')}'], format: syslog}}\n"
                f"  - {{name: app, type: file, paths: ['{d.join('app.log')}'], format: json}}\n")
        p = e2e.run([binary, "check", "-c", d.join("logwarden.yaml")], env=env, cwd=d.path)
        c.eq(p.returncode, 0, "check -c with the shipped rules and arbitrary input names: exit 0") \
            or print(both(p))
    finally:
        d.cleanup()

    # Every test file passes.
    c.check(len(test_files) >= len(rule_files), "tests/rules holds the test files",
            "\n".join(test_files))
    for tf in test_files:
        rel = os.path.relpath(tf, e2e.REPO)
        p = e2e.run([binary, "test", tf], env=env, cwd=e2e.REPO, timeout=120)
        ok = c.eq(p.returncode, 0, f"test {rel}: exit 0")
        m = re.search(r"(\d+) passed, (\d+) failed\n$", p.stdout)
        c.check(m and int(m.group(1)) > 0 and m.group(2) == "0", f"test {rel}: all passed",
                "" if ok else e2e.tail(both(p), 60))

    # All of them at once, from the repository root, as the docs say.
    p = e2e.run([binary, "test", *[os.path.relpath(t, e2e.REPO) for t in test_files]],
                env=env, cwd=e2e.REPO, timeout=300)
    c.eq(p.returncode, 0, "test tests/rules/*.test.yaml from the repository root: exit 0")

    # No shipped alert is untested: each is expected to fire in at least one test.
    named = set()
    for tf in test_files:
        named |= expected_alerts(tf)
    for a, rel in sorted(all_alerts.items()):
        c.check(any(n == a for n, _ in named), f"alert {a} ({rel}) is named in a test's expect")
        c.check((a, "firing") in named, f"alert {a} ({rel}) is expected to fire in a test")
    c.finish()


if __name__ == "__main__":
    main()
