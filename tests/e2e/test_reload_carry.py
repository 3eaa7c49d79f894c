#!/usr/bin/env python3
"""test_reload_carry.py: a SIGHUP that changes an alert never announces a transition the new
rules would not make on the events its windows hold (RULES.md, Alerts; docs/operations.md,
Reload).

- window 5m -> 10m while firing: the buckets are re-bucketed (1 s -> 2 s), the alert stays
  firing with the same value; no resolved notification (before: "resolved", value 0).
- `where` changed while pending: the alert now counts something else, so it starts
  pending-free (before: the old pending state carried over and fired on the old events).
- `where` changed while firing: held firing for a whole window of new events, then resolved,
  and the log says why.

usage: test_reload_carry.py PATH/TO/logwarden
"""

import signal
import time

import e2e
from test_lifecycle import (EVENTS, Receiver, Scenario, alert_rule, alerts_of, dump,
                            run_scenarios, wait_alert)


def reload(sc, rules):
    """Rewrites the rules and sends SIGHUP; True once the daemon said it reloaded."""
    n = sc.stderr().count("reloaded:")
    sc.td.write("rules.yaml", EVENTS + rules)
    sc.daemon.proc.send_signal(signal.SIGHUP)
    return e2e.wait_for(lambda: sc.stderr().count("reloaded:") > n, 5)


def window_change(t, binary):
    rx = Receiver()
    rules = lambda w: (alert_rule("Win", "w", w) +
                       alert_rule("More", "w", w, above=3, summary="{{ value }} more"))
    sc = Scenario(binary, "carry-win", rules("5m"),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("w api", "w api", "w api")
        got = wait_alert(rx, 8, status="firing", alert="Win")
        if not t.check(got, "Win (above 2) fires on three events", dump(rx) + sc.stderr()):
            return
        time.sleep(1.2)  # the state file has the buckets (flush every second)
        t.check(reload(sc, rules("10m")), "SIGHUP reloaded the rules with 10m windows",
                sc.stderr())
        t.check("re-bucketed" in sc.stderr(), "the log says the buckets were re-bucketed",
                e2e.tail(sc.stderr()))
        time.sleep(3.0)  # group_wait and more: a false resolution would be here
        statuses = [(a["alert"], a["status"]) for r in rx.snapshot() for a in alerts_of(r)]
        t.eq(statuses, [("Win", "firing")], "no resolved notification after the window grew")
        t.check(sc.api_alert("Win", "firing", service="api") is not None,
                "Win still firing over the 10m window", repr(sc.api_alerts()))
        # The carried events still count: a fourth makes More (above 3) fire with 4.
        sc.write("w api")
        got = wait_alert(rx, 8, status="firing", alert="More")
        if t.check(got, "More (above 3) fires on the 3 carried events and a new one",
                   dump(rx) + sc.stderr()):
            t.eq((got[1]["value"], got[1]["annotations"]["summary"]), (4, "4 more"),
                 "More's value is 4")
        t.eq(sorted((a["alert"], a["status"]) for r in rx.snapshot() for a in alerts_of(r)),
             [("More", "firing"), ("Win", "firing")], "nothing resolved")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def where_change_pending(t, binary):
    rx = Receiver()
    sc = Scenario(binary, "carry-pend", alert_rule("Pend", "p", "10s", for_="5s"),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("p api", "p api", "p api")
        pend = e2e.wait_for(lambda: sc.api_alert("Pend", "pending", service="api"), 5)
        if not t.check(pend, "pending", sc.stderr()):
            return
        time.sleep(1.2)
        t.check(reload(sc, alert_rule("Pend", "q", "10s", for_="5s")),
                "SIGHUP reloaded: the alert now counts kind q", sc.stderr())
        t.check("now counts something else" in sc.stderr(), "the log says it starts afresh",
                e2e.tail(sc.stderr()))
        gone = e2e.wait_for(lambda: sc.api_alert("Pend") is None, 3)
        t.check(gone, "no pending state carried over", repr(sc.api_alerts()))
        time.sleep(5.5)  # past for: the old pending state would fire on the old events
        t.eq(rx.snapshot(), [], "nothing fired on events the new rule does not count")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def where_change_firing(t, binary):
    rx = Receiver()
    sc = Scenario(binary, "carry-fire", alert_rule("Fire", "f", "6s"),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("f api", "f api", "f api")
        got = wait_alert(rx, 8, status="firing", alert="Fire")
        if not t.check(got, "firing notification arrives", dump(rx) + sc.stderr()):
            return
        time.sleep(1.2)
        t0 = time.time()
        t.check(reload(sc, alert_rule("Fire", "g", "6s")), "SIGHUP reloaded", sc.stderr())
        time.sleep(2.5)
        t.check(sc.api_alert("Fire", "firing", service="api") is not None,
                "held firing after the reload (no verdict on an emptied window)",
                repr(sc.api_alerts()))
        res = wait_alert(rx, 12, status="resolved", alert="Fire")
        if t.check(res, "resolved once a whole window of new events has passed", dump(rx)):
            t.check(res[0]["wall"] >= t0 + 6 - 0.5, "not before the window (6 s) passed",
                    f"reload {t0:.2f}, resolved at {res[0]['wall']:.2f}")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


if __name__ == "__main__":
    run_scenarios(e2e.binary_from_argv(), [window_change, where_change_pending,
                                           where_change_firing])
