#!/usr/bin/env python3
"""test_regex_limits.py: a match that gives up at a PCRE2 limit is counted and logged, not lost.

`(a+)+$` on 30 a's and a b backtracks 2^30 ways. The daemon must take such a line as a
non-match within its match limit (not stall), count it in
logwarden_regex_limit_total{event="evil"} on /metrics, log it once for the event (with the
limit, without the line), keep matching other lines, and keep the count across a SIGHUP
reload. `replay` reports the same count in its summary.

usage: test_regex_limits.py PATH/TO/logwarden
"""

import re
import signal

import e2e

RULES = r"""
events:
  - name: evil
    match: '(a+)+$'
  - name: ok
    match: '^ok (?<n>\d+)'
alerts:
  - name: Oks
    event: ok
    window: 1m
    count: {above: 100}
"""

EVIL = "a" * 30 + "b"


def wait_metric(port, name, value, timeout):
    """Waits until /metrics shows name == value (the per-event counters come every 5 s)."""
    m = e2e.wait_for(lambda: (lambda m: m if m.get(name) == value else None)(e2e.metrics(port)),
                     timeout)
    return m or e2e.metrics(port)


def gave_up_lines(text):
    return [l for l in text.splitlines() if "gave up matching" in l]


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("regex-limits")
    port = e2e.free_port()
    d.write("rules.yaml", RULES)
    d.write("app.log", "")
    d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{port}}}
inputs:
  - {{name: app, type: file, paths: [./app.log], start_at: beginning}}
rules: [rules.yaml]
sinks: [{{name: out, type: stdout}}]
""")
    evil = 'logwarden_regex_limit_total{event="evil"}'
    daemon = e2e.Daemon(binary, d.join("logwarden.yaml"), d.path)
    try:
        c.check(e2e.wait_for(lambda: e2e.metrics(port), 5), "daemon serves /metrics", daemon.stderr())
        with open(d.join("app.log"), "a") as f:
            f.write(f"{EVIL}\n{EVIL}\nok 1\n{EVIL}\nok 2\n")
        m = wait_metric(port, evil, 3.0, 10)
        c.eq(m.get(evil), 3.0, "/metrics: the three lines over the limit, under their event")
        c.eq(m.get('logwarden_regex_limit_total{event="ok"}'), 0.0,
             "/metrics: the other event, at 0")
        c.eq(m.get("logwarden_events_total"), 2.0, "the ordinary lines still match")
        logged = gave_up_lines(daemon.stderr())
        c.eq(len(logged), 1, "logged once for the event")
        # 1 000 000 with JIT (Debian's PCRE2 has it), 200 000 for the interpreter.
        c.check(logged and "event evil (" in logged[0] and "match limit exceeded" in logged[0]
                and re.search(r"limits: match (1000000|200000), depth 10000", logged[0]),
                "the log line names the event and the limit", daemon.stderr())
        c.check(EVIL not in daemon.stderr(), "the line itself is not logged", daemon.stderr())

        # A reload keeps the count, and does not log the event again.
        daemon.proc.send_signal(signal.SIGHUP)
        c.check(e2e.wait_for(lambda: "reloaded" in daemon.stderr(), 5), "SIGHUP reloads",
                daemon.stderr())
        with open(d.join("app.log"), "a") as f:
            f.write(f"{EVIL}\nok 3\n")
        m = wait_metric(port, evil, 4.0, 10)
        c.eq(m.get(evil), 4.0, "/metrics: the count continues after the reload")
        c.eq(len(gave_up_lines(daemon.stderr())), 1, "still logged once after the reload")
    finally:
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")

    p = e2e.run([binary, "replay", "-c", d.join("logwarden.yaml"), d.join("app.log")],
                cwd=d.path)
    c.eq(p.returncode, 0, "replay: exit 0")
    c.check("event evil: 0, 4 lines over the regex limits" in p.stderr,
            "replay: the summary counts the lines over the limits", p.stderr)
    c.eq(len(gave_up_lines(p.stderr)), 1, "replay: logged once")
    d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
