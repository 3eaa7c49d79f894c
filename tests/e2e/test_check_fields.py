#!/usr/bin/env python3
"""test_check_fields.py: `check` names every unknown name, every field no input sets, and
syslog's severity is a group_by field as `syslog_severity`.

- An expression or template with several unknown names gets one FILE:LINE:COL error per
  name, not only the first.
- A record label that no input of the event sets (`topic`, `partition`: kafka inputs, built
  since issue 14; `image`: docker inputs) used in group_by, where, of or a value field is a
  warning naming the field and the event's inputs.
- A label that only other inputs set (`host` on a raw file input: syslog headers) is a
  warning: `check` shows it and exits 0 (the shipped rules take raw lines too).
- On an event that reads a JSON body, such a name comes from the body: `group_by: [topic]`
  groups by the JSON key.
- `group_by: [syslog_severity]` works (one group per syslog severity), `where: severity ==
  "err"` still works, and `group_by: [severity]` is refused with a hint.

usage: test_check_fields.py PATH/TO/logwarden
"""

import json

import e2e

CONFIG = """
rules: [{rules}]
inputs:
  - {{name: app, type: file, paths: [./app.log]}}
  - {{name: in, type: stdin}}
  - {{name: js, type: file, paths: [./js.log], format: json}}
  - {{name: sys, type: syslog, listen: ['udp://127.0.0.1:0'], timezone: UTC}}
"""

# Line numbers matter: the expected errors name them.
UNKNOWN = r"""events:
  - name: e
    inputs: [app]
    match: 'x (?<a>\d+)'
alerts:
  - name: A
    event: e
    window: 1m
    count: {above: 1, where: 'nosuch1 > 1 and a == "2" or nosuch2 == "x"'}
    annotations:
      summary: '{{ foo }} and {{ value }} and {{ $labels.bar }}'
"""

NEVER = r"""events:
  - name: e
    inputs: [app, in]
    match: 'x (?<a>\d+)'
    where: 'partition == "1"'
alerts:
  - name: B
    event: e
    group_by: [image]
    window: 1m
    ratio: {of: 'topic == "t"', above: 0.5}
  - name: C
    event: e
    window: 1m
    sum: {field: partition, above: 1}
"""

WARN = r"""events:
  - name: e
    inputs: [app]
    match: 'x (?<a>\d+)'
alerts:
  - name: D
    event: e
    group_by: [host]
    window: 1m
    count: {above: 1}
"""

JSON_TOPIC = r"""events:
  - name: j
    inputs: [js]
    where: 'level == "error"'
alerts:
  - name: ByTopic
    event: j
    group_by: [topic]
    window: 1m
    count: {above: 0}
"""

SEVERITY = r"""events:
  - name: s
    inputs: [sys]
    match: 'boom'
alerts:
  - name: BySeverity
    event: s
    group_by: [syslog_severity]
    window: 1m
    count: {above: 0}
    annotations: {summary: '{{ syslog_severity }}'}
  - name: OnlyErr
    event: s
    window: 1m
    count: {above: 0, where: 'severity == "err"'}
"""

RESERVED = r"""events:
  - name: s
    inputs: [sys]
    match: 'boom'
alerts:
  - name: Bad
    event: s
    group_by: [severity]
    window: 1m
    count: {above: 0}
"""


def setup(d, name, rules):
    d.write(f"{name}.yaml", rules)
    return d.write(f"{name}.cfg.yaml", CONFIG.format(rules=f"{name}.yaml"))


def check(binary, cfg, cmd="check"):
    return e2e.run([binary, cmd, "-c", cfg], timeout=20)


def has(c, stderr, needle, what):
    c.check(needle in stderr, what, f"wanted: {needle}\n--- stderr\n{stderr}")


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("fields")
    try:
        # Every unknown name of an expression and of a template.
        r = check(binary, setup(d, "unknown", UNKNOWN))
        c.eq(r.returncode, 2, "unknown names: exit 2")
        f = d.join("unknown.yaml")
        has(c, r.stderr, f"{f}:9:31: unknown field 'nosuch1'", "where: the first unknown name")
        has(c, r.stderr, f"{f}:9:59: unknown field 'nosuch2'", "where: the second one too")
        has(c, r.stderr, f"{f}:11:20: unknown name 'foo' in template", "template: the first")
        has(c, r.stderr, f"{f}:11:50: unknown name 'bar' in template", "template: the second")
        c.check("4 errors" in r.stderr, "exactly the four unknown names", r.stderr)

        # Labels only inputs the event does not read set (kafka's topic and partition, docker's
        # image): warnings.
        cfg = setup(d, "never", NEVER)
        f = d.join("never.yaml")
        r = check(binary, cfg)
        c.eq(r.returncode, 2, "the one error: a label summed (exit 2)")
        has(c, r.stderr, f"{f}:15:18: field 'partition' is not numeric", "a label is a string")
        c.check("1 error" in r.stderr, "exactly one error: the others are warnings", r.stderr)
        has(c, r.stderr, f"{f}:5:13: warning: field 'partition' is never set: it comes from kafka "
            "inputs (type: kafka), and no input event e reads sets it (app (file), in (stdin))",
            "event where: partition, naming the field and the inputs")
        has(c, r.stderr, f"{f}:9:16: warning: field 'image' is never set: it comes from docker "
            "inputs (type: docker)", "group_by: image (a warning: docker inputs are built)")
        has(c, r.stderr, f"{f}:11:18: warning: field 'topic' is never set", "ratio of: topic")
        has(c, r.stderr, f"{f}:15:18: warning: field 'partition' is never set",
            "sum field: partition")

        # A label other inputs set: a warning, and the config is valid.
        r = check(binary, setup(d, "warn", WARN))
        c.eq(r.returncode, 0, "host on a raw file input: valid (exit 0)")
        has(c, r.stderr, f"{d.join('warn.yaml')}:8:16: warning: field 'host' is never set: it "
            "comes from syslog headers", "host on a raw file input: a warning")
        # run says the same warning in its log at start, and runs.
        dm = e2e.Daemon(binary, setup(d, "warn", WARN), d.path)
        try:
            e2e.wait_for(lambda: "running" in dm.stderr() or not dm.alive(), 10)
            c.check(dm.alive() and "warn " + d.join("warn.yaml") + ":8:16: warning: field 'host' "
                    "is never set" in e2e.log_text(dm.stderr()),
                    "run: the warning is logged at start, and the daemon runs", dm.stderr())
        finally:
            c.eq(dm.stop(), 0, "run: SIGTERM -> exit 0")

        # A JSON body gives the name: no error, and it groups by the JSON key.
        cfg = setup(d, "json", JSON_TOPIC)
        r = check(binary, cfg)
        c.eq(r.returncode, 0, "topic from a JSON body: valid" + r.stderr)
        d.write("js.log", "".join(json.dumps({"level": "error", "topic": t}) + "\n"
                                  for t in ("orders", "payments", "orders")))
        r = e2e.run([binary, "replay", "-c", cfg, "--input", "js", d.join("js.log")])
        out, _ = e2e.parse_json_lines(r.stdout)
        c.eq(sorted(a["labels"].get("topic") for a in out if a["status"] == "firing"),
             ["orders", "payments"], "replay: one group per JSON topic")

        # syslog_severity as a group_by field; severity still works in where.
        cfg = setup(d, "sev", SEVERITY)
        r = check(binary, cfg)
        c.eq(r.returncode, 0, "group_by: [syslog_severity] is valid" + r.stderr)
        d.write("sys.log", "<11>Mar 10 06:55:40 web-1 app: boom\n"
                           "<12>Mar 10 06:55:41 web-1 app: boom\n"
                           "<11>Mar 10 06:55:42 web-1 app: boom\n")
        r = e2e.run([binary, "replay", "-c", cfg, "--input", "sys", d.join("sys.log")])
        out, _ = e2e.parse_json_lines(r.stdout)
        firing = [a for a in out if a["status"] == "firing"]
        c.eq(sorted(a["labels"].get("syslog_severity") for a in firing
                    if a["alert"] == "BySeverity"), ["err", "warning"],
             "replay: one group per syslog severity (err, warning)")
        c.eq(sorted(a["annotations"].get("summary") for a in firing
                    if a["alert"] == "BySeverity"), ["err", "warning"],
             "{{ syslog_severity }} in a template")
        c.eq([a["labels"].get("severity") for a in firing if a["alert"] == "BySeverity"],
             ["warning", "warning"], "the alert's own severity label is untouched")
        only = [a for a in firing if a["alert"] == "OnlyErr"]
        c.eq([a["value"] for a in only], [1], "where: severity == \"err\" still works")

        r = check(binary, setup(d, "reserved", RESERVED))
        c.eq(r.returncode, 2, "group_by: [severity] is refused")
        has(c, r.stderr, f"{d.join('reserved.yaml')}:8:16: 'severity' is a reserved label (the "
            "alert's own); the syslog severity is also the field 'syslog_severity'",
            "group_by: [severity] points to syslog_severity")
    finally:
        d.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
