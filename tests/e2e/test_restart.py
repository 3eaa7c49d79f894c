#!/usr/bin/env python3
"""test_restart.py: a crash (kill -9) and restart neither loses nor double-counts a line, and a
firing alert survives a restart without being announced again.

Two alerts watch the same event over a 10-minute window:
  AllCounted   count above N-1  -> must fire (no line lost)
  DoubleCount  count above N    -> must never fire (no line counted twice)
Lines are appended while the daemon is killed with SIGKILL twice at arbitrary moments; after
the last restart every line must be counted exactly once.

usage: test_restart.py PATH/TO/logwarden
"""

import json
import os
import signal
import threading
import time

import e2e

N = 3000

RULES = r"""
events:
  - name: hit
    match: '^hit (?<n>\d+)$'
alerts:
  - name: AllCounted
    event: hit
    window: 10m
    count: {above: %d}
  - name: DoubleCount
    event: hit
    window: 10m
    count: {above: %d}
""" % (N - 1, N)

CONFIG = """
state: state.db
rules: [rules.yaml]
inputs:
  - name: app
    type: file
    paths: [app.log]
    start_at: beginning
sinks:
  - name: out
    type: file
    path: alerts.jsonl
notify: {group_wait: 0s}
"""


def alerts(tmp):
    try:
        with open(tmp.join("alerts.jsonl")) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("restart")
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("logwarden.yaml", CONFIG)
    log = tmp.join("app.log")
    open(log, "w").close()

    written = [0]

    def writer():
        # Appends N lines in small bursts over a few seconds, as an app would.
        with open(log, "a") as f:
            for i in range(N):
                f.write(f"hit {i}\n")
                written[0] = i + 1
                if i % 50 == 49:
                    f.flush()
                    time.sleep(0.02)

    d = e2e.Daemon(binary, cfg, tmp.path)
    t = threading.Thread(target=writer)
    t.start()
    # Two crashes at arbitrary points while lines are still being written.
    for cut in (N // 4, N // 2):
        e2e.wait_for(lambda: written[0] >= cut, 30)
        time.sleep(0.3)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        c.check(True, f"daemon killed with SIGKILL after {written[0]} lines written")
        d = e2e.Daemon(binary, cfg, tmp.path)
    t.join()

    fired = e2e.wait_for(
        lambda: [a for a in alerts(tmp) if a["alert"] == "AllCounted" and a["status"] == "firing"],
        30)
    c.check(fired, "every line counted after two crashes (AllCounted fired)",
            e2e.tail(d.stderr()))
    if fired:
        c.eq(fired[0]["value"], N, "AllCounted fired with the exact count")
    # Give a double count every chance to show: several flush and evaluation rounds.
    time.sleep(2.5)
    doubles = [a for a in alerts(tmp) if a["alert"] == "DoubleCount"]
    c.eq(doubles, [], "no line counted twice (DoubleCount never fired)")

    code = d.stop()
    c.eq(code, 0, "SIGTERM stops the daemon with exit code 0")

    # A firing alert stays firing across a clean restart and is not announced again.
    before = len(alerts(tmp))
    d = e2e.Daemon(binary, cfg, tmp.path)
    e2e.wait_for(lambda: "running" in d.stderr(), 10)
    time.sleep(2.5)
    c.eq(len(alerts(tmp)), before, "no notification repeated after a restart")
    c.eq(d.stop(), 0, "second clean stop exits 0")

    print(e2e.tail(d.stderr(), 5))
    tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
