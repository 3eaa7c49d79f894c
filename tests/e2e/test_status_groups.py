#!/usr/bin/env python3
"""test_status_groups.py: `logwarden status` shows groups and the max_groups overflow.

An alert grouped by client IP with max_groups: 3 sees 5 IPs (2 lines each): 3 groups are kept,
the other 2 IPs' 4 events are dropped and counted. After SIGTERM (the daemon writes what each
alert holds to the state file when it changed, looking every 5 s, and when it stops),
`logwarden status` reports the groups and names the alert at max_groups with its overflow; an
alert far below its bound is not listed. /metrics says the same while it runs, and the log says
it once (two more dropped events within the hour are not logged again).

usage: test_status_groups.py PATH/TO/logwarden
"""

import urllib.request

import e2e

RULES = r"""
events:
  - name: req
    match: '^(?<ip>\d+\.\d+\.\d+\.\d+) (?<path>\S+)'
alerts:
  - name: PerClient
    event: req
    group_by: [ip]
    window: 5m
    count: {above: 1000}
    max_groups: 3
  - name: PerPath
    event: req
    group_by: [path]
    window: 5m
    count: {above: 1000}
"""

CONFIG = """
state: {state}
rules: [{rules}]
http: {{listen: '127.0.0.1:{port}'}}
inputs:
  - name: web
    type: file
    paths: [{log}]
    start_at: beginning
"""


def metric(port, name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("status-groups")
    port = e2e.free_port()
    rules = d.write("rules.yaml", RULES)
    lines = "".join(f"10.0.0.{i} /p{i % 2}\n" * 2 for i in range(1, 6))
    log = d.write("web.log", lines)
    cfg = d.write("logwarden.yaml", CONFIG.format(state=d.join("state.db"), rules=rules, log=log,
                                                  port=port))
    daemon = e2e.Daemon(binary, cfg, d.path)
    try:
        got = e2e.wait_for(lambda: metric(port, "logwarden_records_total") == 10 or not daemon.alive(), 15)
        c.check(got and daemon.alive(), "the daemon reads the 10 lines", e2e.tail(daemon.stderr()))
        c.eq(metric(port, "logwarden_group_overflow_total"), 4.0, "/metrics counts 4 events over max_groups")

        def said():
            return [r for r in e2e.log_records(daemon.stderr())
                    if r and "alert PerClient holds max_groups (3) groups" in r["msg"]]
        first = e2e.wait_for(said, 15)
        c.check(len(first) == 1 and first[0]["level"] == "warn" and
                "events of new groups dropped" in first[0]["msg"],
                "the log says the alert reached max_groups, with the events dropped",
                e2e.tail(daemon.stderr()))
        with open(log, "a") as f:
            f.write("10.0.0.9 /p1\n10.0.0.8 /p0\n")
        e2e.wait_for(lambda: metric(port, "logwarden_group_overflow_total") == 6.0, 10)
        c.eq(metric(port, "logwarden_group_overflow_total"), 6.0, "2 more dropped")
    finally:
        c.eq(daemon.stop(), 0, "SIGTERM exits 0")
    c.eq(len(said()), 1, "said once per alert an hour: not again for the 2 more (nor at the stop)")
    st = e2e.run([binary, "status", "-c", cfg])
    c.eq(st.returncode, 0, "`logwarden status` exits 0")
    out = st.stdout
    c.check("groups: 5 over 2 alerts" in out, "status counts 5 groups (3 clients, 2 paths) over 2 alerts", out + st.stderr)
    c.check("PerClient" in out and "3 of max_groups 3, 6 events over max_groups" in out,
            "status names the alert at max_groups and its overflow", out)
    c.check("PerPath" not in out, "an alert far below max_groups is not listed", out)
    d.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
