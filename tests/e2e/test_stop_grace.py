#!/usr/bin/env python3
"""test_stop_grace.py: a stop with unreachable sinks takes one grace period (5 s) in all, not
one per sink, and loses nothing.

Three webhook sinks point at a loopback port that accepts connections and never answers (its
backlog completes the TCP handshake; nobody reads), with a 30 s request timeout. An alert is
routed to all three; once their requests hang, SIGTERM must end the daemon within the grace
period (plus a second of slack for the rest of the stop), exit 0. The three notifications stay pending in the outbox,
and stay so through a restart against a closed port (connections refused, retried) that
stops within the grace period too; after a restart with the sinks pointed at a receiver that
answers, each arrives once.

usage: test_stop_grace.py PATH/TO/logwarden
"""

import socket
import sqlite3
import time

import e2e

GRACE_S = 5.0
SINKS = ("a", "b", "c")

RULES = r"""
events:
  - name: hit
    match: '^hit (?<n>\S+)$'
alerts:
  - name: Hit
    event: hit
    group_by: [n]
    window: 10m
    count: {above: 0}
"""


def config(port):
    lines = ["state: state.db", "rules: [rules.yaml]", "inputs:", "  - name: app",
             "    type: file", "    paths: [app.log]", "    start_at: beginning", "sinks:"]
    for s in SINKS:
        lines += [f"  - name: {s}", "    type: webhook", f"    url: http://127.0.0.1:{port}/{s}",
                  "    timeout: 30s"]
    lines += ["routes:", f"  - sinks: [{', '.join(SINKS)}]", "notify: {group_wait: 0s}"]
    return "\n".join(lines) + "\n"


def outbox(path):
    """{sink: [state, ...]} of the outbox rows."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        out = {}
        for sink, state in c.execute("SELECT sink, state FROM outbox ORDER BY id"):
            out.setdefault(sink, []).append(state)
        return out
    except sqlite3.OperationalError as e:  # busy beyond the timeout: say so, the caller retries
        return {"error": str(e)}
    finally:
        c.close()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    td = e2e.TempDir("stopgrace")
    td.write("rules.yaml", RULES)
    # Accepts (through the backlog) and never answers: each request hangs until its timeout.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)
    cfg = td.write("logwarden.yaml", config(hole.getsockname()[1]))
    td.write("app.log", "hit x\n")
    state = td.join("state.db")
    d = e2e.Daemon(binary, cfg, td.path)
    rx = None
    try:
        t.check(e2e.wait_for(lambda: "running" in d.stderr(), 10), "daemon running", d.stderr())
        t.check(e2e.wait_for(lambda: sorted(outbox(state)) == list(SINKS), 10),
                "a notification per sink in the outbox", repr(outbox(state)))
        time.sleep(1.5)  # the three requests are in flight, hanging
        t0 = time.monotonic()
        code = d.stop(timeout=60)
        took = time.monotonic() - t0
        t.eq(code, 0, "SIGTERM -> exit 0")
        t.check(took < GRACE_S + 1.0,
                f"the stop takes one grace period for all three sinks ({took:.1f} s, at most "
                f"{GRACE_S + 1.0:.1f} s)", e2e.tail(d.stderr()))
        t.eq(outbox(state), {s: [0] for s in SINKS},
             "each sink's notification is still pending in the outbox (nothing lost)")
        t.check("stay in the outbox" in d.stderr(), "the log says they stay in the outbox",
                e2e.tail(d.stderr()))

        # The case: nothing listens (connections refused, retried with backoff).
        td.write("logwarden.yaml", config(e2e.free_port()))
        d = e2e.Daemon(binary, cfg, td.path)
        t.check(e2e.wait_for(lambda: d.stderr().count("delivery failed") >= 3, 10),
                "restarted against a closed port: each sink's delivery is refused, retried",
                e2e.tail(d.stderr()))
        t0 = time.monotonic()
        code = d.stop(timeout=60)
        took = time.monotonic() - t0
        t.eq(code, 0, "closed port: SIGTERM -> exit 0")
        t.check(took < GRACE_S + 1.0,
                f"closed port: the stop takes one grace period for all three ({took:.1f} s)",
                e2e.tail(d.stderr()))
        t.eq(outbox(state), {s: [0] for s in SINKS}, "closed port: still pending, nothing lost")

        rx = e2e.Receiver()
        td.write("logwarden.yaml", config(rx.port))
        d = e2e.Daemon(binary, cfg, td.path)

        def paths():
            return sorted(r["path"] for r in rx.snapshot(ok_only=False))
        t.check(e2e.wait_for(lambda: paths() == [f"/{s}" for s in SINKS], 15),
                "after a restart each sink gets the notification", repr(paths()))
        time.sleep(1)
        t.eq(paths(), [f"/{s}" for s in SINKS], "once each")
        t.eq(d.stop(timeout=20), 0, "restarted daemon: SIGTERM -> exit 0")
    finally:
        if d.alive():
            d.stop(timeout=20)
        hole.close()
        if rx:
            rx.stop()
        td.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
