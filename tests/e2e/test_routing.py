#!/usr/bin/env python3
"""test_routing.py: routes through the daemon (first match wins, continue, match_re anchored,
several labels, the default route; a reload that changes a route) and webhook delivery from the
durable outbox (receiver down -> delivered later, in order, also across kill -9; one sink down
does not hold another; a permanent 4xx is given up, the next notification still goes).

The routing rules themselves (no routes = every sink, no match = nowhere, a missing label as
the empty value) are unit tests on a driven clock: tests/unit/alerts/test_notify.c.

Each scenario runs its own daemon with webhook sinks on loopback receivers (helpers from
test_lifecycle.py); the scenarios run concurrently.

usage: test_routing.py PATH/TO/logwarden
"""

import re
import signal
import time

import e2e
from test_lifecycle import (Receiver, Scenario, alert_rule, alerts_of, dump,
                            run_scenarios, wait_alert)


def routed(rx):
    """{path: sorted [(alert, service, zone, status)]} of everything received."""
    out = {}
    for r in rx.snapshot():
        for a in alerts_of(r):
            lab = a.get("labels") or {}
            out.setdefault(r["path"], []).append(
                (a.get("alert"), lab.get("service"), lab.get("zone"), a.get("status")))
    return {k: sorted(v) for k, v in out.items()}


def routes_first_match_continue_regex(t, binary):
    rx = Receiver()
    gb = ("service", "zone")
    rules = (alert_rule("SshCrit", "sshcrit", "20s", above=0, group_by=gb, severity="critical")
             + alert_rule("SshBrute", "sshbrute", "20s", above=0, group_by=gb)
             + alert_rule("Brute", "brute", "20s", above=0, group_by=gb)
             + alert_rule("Disk", "disk", "20s", above=0, group_by=gb))
    sinks = [(n, rx.url("/" + n)) for n in ("crit", "ssh", "brute", "both", "dflt")]
    routes = [
        {"match": {"severity": "critical"}, "sinks": ["crit"]},
        {"match_re": {"alert": "Ssh.*"}, "sinks": ["ssh"], "continue": True},
        {"match_re": {"alert": "Brute"}, "sinks": ["brute"]},
        {"match": {"service": "web", "zone": "eu"}, "sinks": ["both"]},
        {"sinks": ["dflt"]},
    ]
    sc = Scenario(binary, "routes", rules, sinks, {"group_wait": "1s", "repeat_interval": "1h"},
                  routes=routes)
    expected = {
        # critical: the first route only, though Ssh.* would match too (no continue there)
        "/crit": [("SshCrit", "auth", "us", "firing")],
        # Ssh.* continues; 'Brute' is anchored so SshBrute goes on to the default route
        "/ssh": [("SshBrute", "auth", "us", "firing")],
        "/brute": [("Brute", "auth", "us", "firing")],
        # both labels of `match` must hold
        "/both": [("Disk", "web", "eu", "firing")],
        "/dflt": [("Disk", "web", "us", "firing"), ("SshBrute", "auth", "us", "firing")],
    }
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("sshcrit auth us", "sshbrute auth us", "brute auth us", "disk web eu",
                 "disk web us")
        got = e2e.wait_for(lambda: sum(len(v) for v in routed(rx).values()) >= 6, 10)
        t.check(got, "six notifications arrive", dump(rx) + sc.stderr())
        time.sleep(2)  # a wrongly routed extra copy would be here by now
        actual = routed(rx)
        for path, want in expected.items():
            t.eq(actual.get(path, []), want, f"sink {path[1:]} gets exactly its alerts")
        t.eq(sorted(actual), sorted(expected), "no other sink path received anything")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def outbox_across_kill9(t, binary):
    """Receiver down: firing and resolved wait in the outbox; kill -9; the receiver comes
    back and the daemon restarts: both delivered once, firing first."""
    # Held (bound, not listening) while the receiver is down: refused, and not taken by another
    # test's daemon (its HTTP endpoint once answered the sink here with 404s).
    port, hold = e2e.held_port()
    url = f"http://127.0.0.1:{port}/hook"
    sc = Scenario(binary, "outbox", alert_rule("Down", "d", "3s", above=0),
                  [("hook", url)], {"group_wait": "0s", "repeat_interval": "1h"})
    rx = None
    try:
        t.check(sc.start(), "daemon running (receiver down)", sc.stderr())
        sc.write("d svc")
        queued = e2e.wait_for(lambda: sc.metrics().get('logwarden_outbox{state="pending"}') == 2,
                              10)
        t.check(queued, "/metrics: firing and resolved wait in the outbox (pending 2)",
                repr(sc.metrics()) + sc.stderr())
        st = sc.status().stdout
        t.check("outbox: 2 pending, 0 sent, 0 failed" in st, "`status` shows 2 pending", st)
        sc.kill9()
        hold.close()
        rx = Receiver(port=port)
        t.check(sc.start(), "restarted with the receiver up", sc.stderr())
        got = e2e.wait_for(lambda: len(rx.snapshot()) >= 2, 20)
        t.check(got, "both notifications delivered after the restart", dump(rx) + sc.stderr())
        time.sleep(1.5)
        seq = [a["status"] for r in rx.snapshot() for a in alerts_of(r)]
        t.eq(seq, ["firing", "resolved"], "delivered once each, in order")
        t.eq(len({a["fingerprint"] for r in rx.snapshot() for a in alerts_of(r)}), 1,
             "one fingerprint")
        m = sc.metrics()
        t.eq((m.get('logwarden_outbox{state="pending"}'), m.get('logwarden_outbox{state="sent"}')),
             (0.0, 2.0), "/metrics: outbox 0 pending, 2 sent")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        if rx:
            rx.close()
        sc.cleanup()


def outbox_outage_order_per_sink(t, binary):
    """One sink's receiver is down while three alerts fire one after another: the other sink
    gets them at once; the down one gets all three, in order, once it is back."""
    up = Receiver()
    port = e2e.free_port()
    rules = "".join(alert_rule(n, n.lower(), "30s", above=0) for n in ("First", "Second", "Third"))
    sc = Scenario(binary, "outage", rules,
                  [("down", f"http://127.0.0.1:{port}/down"), ("up", up.url("/up"))],
                  {"group_wait": "0s", "repeat_interval": "1h"})
    down = None
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        for name in ("First", "Second", "Third"):
            sc.write(f"{name.lower()} svc")
            ok = wait_alert(up, 6, alert=name)
            t.check(ok, f"{name}: delivered to the sink that is up", dump(up) + sc.stderr())
        t.eq([a["alert"] for r in up.snapshot() for a in alerts_of(r)],
             ["First", "Second", "Third"], "the up sink got them as they fired")
        pend = e2e.wait_for(
            lambda: sc.metrics().get('logwarden_outbox{state="pending"}', 0) >= 3, 5)
        t.check(pend, "the down sink's three notifications are pending", repr(sc.metrics()))
        down = Receiver(port=port)
        got = e2e.wait_for(lambda: len(down.alerts()) >= 3, 20)
        t.check(got, "delivered when the receiver is back", dump(down) + sc.stderr())
        time.sleep(1)
        t.eq([a["alert"] for r in down.snapshot() for a in alerts_of(r)],
             ["First", "Second", "Third"], "in order, once each")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        up.close()
        if down:
            down.close()
        sc.cleanup()


def permanent_4xx(t, binary):
    """A 400 is a permanent failure: not retried, counted failed; the next notification of
    the sink is still delivered."""
    rx = Receiver(script=[400])
    sc = Scenario(binary, "perm", alert_rule("Perm", "p", "3s", above=0), [("hook", rx.url())],
                  {"group_wait": "0s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("p svc")
        got = wait_alert(rx, 12, alert="Perm", status="resolved")
        t.check(got, "the resolution is delivered after the refused firing",
                dump(rx) + sc.stderr())
        time.sleep(2.5)  # a retry of the refused one would come within 1-2 s
        seq = [(r["code"], a["status"]) for r in rx.snapshot(ok_only=False) for a in alerts_of(r)]
        t.eq(seq, [(400, "firing"), (200, "resolved")], "the 400 is not retried")
        m = sc.metrics()
        t.eq((m.get('logwarden_outbox{state="failed"}'), m.get('logwarden_outbox{state="sent"}')),
             (1.0, 1.0), "/metrics: outbox 1 failed, 1 sent")
        t.check(re.search(r"400", sc.stderr()), "the failure is logged with its status",
                e2e.tail(sc.stderr()))
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def reload_routes(t, binary):
    """SIGHUP reloads the config: a changed route applies to alerts that fire afterwards."""
    rx = Receiver()
    sc = Scenario(binary, "reload", alert_rule("Moved", "m", "30s", above=0),
                  [("a", rx.url("/a")), ("b", rx.url("/b"))],
                  {"group_wait": "0s", "repeat_interval": "1h"}, routes=[{"sinks": ["a"]}])
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("m one")
        t.check(wait_alert(rx, 6, "/a", service="one"), "before the reload: sink a",
                dump(rx) + sc.stderr())
        with open(sc.config) as f:
            text = f.read()
        with open(sc.config, "w") as f:
            f.write(text.replace('{"sinks": ["a"]}', '{"sinks": ["b"]}'))
        sc.daemon.proc.send_signal(signal.SIGHUP)
        t.check(e2e.wait_for(lambda: "reloaded" in sc.stderr(), 5), "reloaded (log)",
                sc.stderr())
        sc.write("m two")
        got = e2e.wait_for(lambda: rx.alerts(service="two"), 6)
        t.check(got, "the alert after the reload is sent", dump(rx) + sc.stderr())
        time.sleep(1)
        t.eq(routed(rx), {"/a": [("Moved", "one", None, "firing")],
                          "/b": [("Moved", "two", None, "firing")]},
             "after the reload the new route (sink b) applies")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def main():
    binary = e2e.binary_from_argv()
    run_scenarios(binary, [routes_first_match_continue_regex, outbox_across_kill9,
                           outbox_outage_order_per_sink, permanent_4xx, reload_routes])


if __name__ == "__main__":
    main()
