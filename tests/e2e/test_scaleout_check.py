#!/usr/bin/env python3
"""test_scaleout_check.py: the daemon's side of a consumer-group input, without a broker.

- `check` warns, at the alert's FILE:LINE:COL, about each alert fed by a kafka input whose
  group_by lacks one of the input's key fields (`keyed_by`, default the message `key`), naming
  the input, the key fields and the fix, and exits 0 ("with warnings"); an alert that groups by
  the key, one that says `accept_split: true` and one fed by a file input only are not warned
  about. `accept_split: maybe` is an error at its position.
- `run` logs the same warning once at start and again at a reload (SIGHUP) that brings another
  such alert.
- With its brokers unreachable (127.0.0.1, a closed port), the daemon keeps running and /health
  answers 200 `degraded: bus: ...`.
- `replay` with the kafka input says on stderr that the input is not read.

usage: test_scaleout_check.py PATH/TO/logwarden
"""

import json
import os
import signal
import urllib.request

import e2e

CONFIG = """
state: state.db
rules: [rules.yaml]
inputs:
  - name: bus
    type: kafka
    brokers: [127.0.0.1:{dead}]
    topics: [logs]
    group: lw
    format: json
{keyed}  - name: app
    type: file
    paths: [./app.log]
    format: json
http:
  listen: 127.0.0.1:{port}
"""

# Line numbers matter: the expected warnings name them.
RULES = r"""events:
  - name: msg
    inputs: [bus]
    where: 'level == "error"'
  - name: local
    inputs: [app]
    where: 'level == "error"'
alerts:
  - name: ByHost
    event: msg
    group_by: [host]
    window: 1m
    count: {above: 10}
  - name: ByService
    event: msg
    group_by: [service, host]
    window: 1m
    count: {above: 10}
  - name: Accepted
    event: msg
    group_by: [host]
    accept_split: true
    window: 1m
    count: {above: 10}
  - name: LocalOnly
    event: local
    group_by: [host]
    window: 1m
    count: {above: 10}
"""

MORE = r"""  - name: Overall
    event: msg
    window: 1m
    count: {above: 10}
"""

BAD = RULES + r"""  - name: Bad
    event: msg
    accept_split: maybe
    window: 1m
    count: {above: 10}
"""


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status, r.read().decode()
    except OSError:
        return None, ""


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("scaleout")
    port, dead = e2e.free_port(), e2e.free_port()
    cfg = tmp.write("logwarden.yaml", CONFIG.format(
        dead=dead, port=port, keyed="    keyed_by: [service]\n"))
    rules = tmp.write("rules.yaml", RULES)
    tmp.write("app.log", "")
    r = e2e.run([binary, "check", "-c", cfg])
    c.eq(r.returncode, 0, "check: a split alert is a warning, not an error")
    c.check("(with warnings)" in r.stdout, "check says 'with warnings'", r.stdout)
    want = (f"{rules}:9:5: warning: alert ByHost groups by [host], but input bus (a consumer "
            "group) shares messages among instances by [service]")
    c.check(want in r.stderr, "check: ByHost at its FILE:LINE:COL, the input and its key fields",
            r.stderr)
    c.check("group_by: [host, service]" in r.stderr and "accept_split: true" in r.stderr,
            "check: the fix is named", r.stderr)
    for name in ("ByService", "Accepted", "LocalOnly"):
        c.check(f"alert {name} " not in r.stderr, f"check: no warning for {name}", r.stderr)
    c.eq(r.stderr.count("a consumer group"), 1, "check: one warning in all")

    # The message key is the default key field.
    cfg2 = tmp.write("default.yaml", CONFIG.format(dead=dead, port=port, keyed=""))
    r = e2e.run([binary, "check", "-c", cfg2])
    c.check(r.returncode == 0 and "by [key]" in r.stderr and "alert ByService " in r.stderr,
            "check: without keyed_by the key field is the message key", r.stderr)

    tmp.write("rules.yaml", BAD)
    r = e2e.run([binary, "check", "-c", cfg])
    c.check(r.returncode == 2 and f"{rules}:32:19: " in r.stderr,
            "check: accept_split takes a bool, the error at its position", r.stderr)
    tmp.write("rules.yaml", RULES)

    r = e2e.run([binary, "replay", "-c", cfg, "--input", "bus", os.devnull])
    c.check(r.returncode == 0 and "input bus is a kafka input: it is not read" in r.stderr,
            "replay: a kafka input is said not to be read", r.stderr)

    d = e2e.Daemon(binary, cfg, tmp.path)
    try:
        up = e2e.wait_for(lambda: health(port)[0] == 200 or not d.alive(), 15)
        c.check(up and d.alive(), "run: starts with its brokers unreachable", e2e.tail(d.stderr()))
        c.eq(d.stderr().count("warning: alert ByHost groups by [host]"), 1,
             "run: the warning is logged once at start")
        deg = e2e.wait_for(lambda: '"degraded"' in health(port)[1], 30, 0.2)
        code, body = health(port)
        h = json.loads(body) if body else {}
        bus = h.get("inputs", {}).get("bus", {})
        c.check(deg and code == 200 and h.get("status") == "degraded" and
                bus.get("status") == "degraded" and "no Kafka broker reachable" in bus.get("detail", ""),
                "/health: 200, status degraded, the input bus degraded with the reason", (code, body))
        tmp.write("rules.yaml", RULES + MORE)
        d.proc.send_signal(signal.SIGHUP)
        rel = e2e.wait_for(lambda: "reloaded:" in d.stderr() or not d.alive(), 15)
        err = d.stderr()
        c.check(rel and "warning: alert Overall has no group_by" in err,
                "reload: a new split alert is warned about", e2e.tail(err))
        c.eq(err.count("warning: alert ByHost groups by [host]"), 2,
             "reload: the warnings are said again")
    finally:
        c.eq(d.stop(timeout=30), 0, "SIGTERM stops it with exit 0")
    tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
