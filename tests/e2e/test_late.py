#!/usr/bin/env python3
"""test_late.py: the live daemon drops events older than their window and counts them per input.

RULES.md ("Time"): `run` is on the wall clock; an event older than its alert's
window is late, counted per input and dropped; one more than 5 minutes in the
future is taken at its arrival time. Two file inputs: old lines go to one, so
/metrics must show them under that input only, and a count alert over the
events must see the fresh and future ones but not the old. A late event must
not create a group either: /metrics' per-alert gauges show one group for the
ungrouped alert and three (the in-window events' values) for the grouped one.

usage: test_late.py PATH/TO/logwarden
"""

import datetime
import os

import e2e

RULES = r"""
events:
  - name: hit
    match: '^(?<time>\S+) hit (?<n>\d+)'
    timestamp: {field: time, format: rfc3339}
alerts:
  - name: Hits
    event: hit
    window: 1m
    count: {above: 2}
    annotations: {summary: '{{ value }} hits'}
  - name: HitsByN
    event: hit
    group_by: [n]
    window: 1m
    count: {above: 100}
"""


def stamp(delta_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("late")
    port = e2e.free_port()
    d.write("rules.yaml", RULES)
    d.write("old.log", "")
    d.write("new.log", "")
    d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{port}}}
inputs:
  - {{name: old, type: file, paths: [./old.log], start_at: beginning}}
  - {{name: new, type: file, paths: [./new.log], start_at: beginning}}
rules: [rules.yaml]
sinks: [{{name: out, type: stdout}}]
""")
    daemon = e2e.Daemon(binary, d.join("logwarden.yaml"), d.path)
    try:
        c.check(e2e.wait_for(lambda: e2e.metrics(port), 5), "daemon serves /metrics", daemon.stderr())
        with open(d.join("old.log"), "a") as f:
            f.write(f"{stamp(-3600)} hit 1\n{stamp(-120)} hit 2\n{stamp(-61)} hit 3\n")
        with open(d.join("new.log"), "a") as f:
            # Two fresh events and one a day ahead (taken at its arrival): three in the window.
            f.write(f"{stamp(-5)} hit 4\n{stamp(0)} hit 5\n{stamp(86400)} hit 6\n")
        m = e2e.wait_for(lambda: (lambda m: m if m.get("logwarden_events_total") == 6 else None)(
            e2e.metrics(port)), 5)
        c.check(m, "six events counted", repr(e2e.metrics(port)) + daemon.stderr())
        m = m or {}
        c.eq(m.get('logwarden_late_events_total{input="old"}'), 3.0,
             "late: the three old lines, under their input")
        c.eq(m.get('logwarden_late_events_total{input="new"}'), 0.0,
             "late: none on the other input (the future line is not late)")
        # The per-alert gauges are published every 5 s.
        m = e2e.wait_for(lambda: (lambda m: m if m.get('logwarden_alert_groups{alert="HitsByN"}',
                                                      0) >= 3 else None)(e2e.metrics(port)), 8)
        m = m or e2e.metrics(port)
        c.eq(m.get('logwarden_alert_groups{alert="Hits"}'), 1.0, "groups: one for Hits")
        c.eq(m.get('logwarden_alert_groups{alert="HitsByN"}'), 3.0,
             "groups: three for HitsByN (n = 4, 5, 6; the late ones create none)")
        c.check(m.get('logwarden_alert_memory_bytes{alert="HitsByN"}', 0) >
                m.get('logwarden_alert_memory_bytes{alert="Hits"}', 0) > 0,
                "memory: reported, and more for three groups than for one", repr(m))
        fired = e2e.wait_for(lambda: '"status":"firing"' in daemon.stdout(), 5)
        c.check(fired, "the three in-window events fire the alert", daemon.stdout())
        out, _ = e2e.parse_json_lines(daemon.stdout())
        c.eq([a.get("value") for a in out if a.get("status") == "firing"], [3],
             "the alert's value counts only the in-window events")
    finally:
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")
        c.check("3 late" in daemon.stderr(), "the stop line reports 3 late", daemon.stderr())
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
