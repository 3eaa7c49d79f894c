#!/usr/bin/env python3
"""test_silences.py: silences and inhibition end to end: the wiring from the command line,
the HTTP API and the config to the notifier. What the notifier does with them over time (a
silence that runs out, an alert silenced all along, the end of an inhibition, sources routed
nowhere, a target resolving within group_wait of its source) is unit-tested on a driven clock
in tests/unit/alerts/test_notify.c.

- `logwarden silence add/list/expire` with `=`, `=~` (anchored), `!=`, `!~` matchers: silenced
  firing alerts are not sent; sent once the silence is expired while they still fire; an alert
  silenced all along that resolves is counted as never sent; bad matchers are refused.
- `POST/GET/DELETE /api/silences` (Alertmanager v2 body: isRegex, isEqual, duration, endsAt),
  its error answers, and a silence that applies to an alert firing right after the POST.
- A restart (SIGTERM) in the middle of a silenced firing alert: still not sent after the
  restart; sent once when the silence is expired.
- Inhibition: a firing critical alert mutes warnings with the same `service`, not those of
  another service.

Each scenario runs its own daemon and loopback webhook receiver (helpers from
test_lifecycle.py); the scenarios run concurrently.

usage: test_silences.py PATH/TO/logwarden
"""

import re
import time

import e2e
from test_lifecycle import (RFC3339_UTC, Receiver, Scenario, alert_rule, alerts_of, dump,
                            run_scenarios, ts, wait_alert)

GB = ("service", "zone")


def sent(rx, name=None, status="firing"):
    """Sorted (service, zone) of the alerts received with this name and status."""
    return sorted(((a.get("labels") or {}).get("service"), (a.get("labels") or {}).get("zone"))
                  for r in rx.snapshot() for a in alerts_of(r)
                  if (name is None or a.get("alert") == name) and a.get("status") == status)


def cli_silences(t, binary):
    rx = Receiver()
    rules = (alert_rule("Sil", "sil", "20s", above=0, group_by=GB)
             + alert_rule("Short", "short", "3s", above=0, group_by=GB))
    sc = Scenario(binary, "clisil", rules, [("hook", rx.url())],
                  {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        ids = {}
        for key, args in {
            "regex": ["zone=z1", "service=~mute-.*"],
            "neq": ["zone=z2", "service!=loud"],
            "nregex": ["zone=z3", "service!~keep.*"],
            "all_along": ["alert=Short"],
            "expire_me": ["alert=Sil", "service=expire-me"],
        }.items():
            r = sc.cli("silence", "add", "-c", sc.config, *args, "--for", "1h",
                       "--comment", f"e2e {key}")
            ok = t.check(r.returncode == 0 and re.match(r"^[0-9a-f-]{36}\n$", r.stdout),
                         f"silence add {' '.join(args)}: exit 0, prints an id",
                         r.stdout + r.stderr)
            ids[key] = r.stdout.strip() if ok else None
        r = sc.cli("silence", "add", "-c", sc.config, "service=short-lived", "--for", "1h")
        t.eq(r.returncode, 0, "silence add --for 1h", r.stderr)
        for bad in (["service"], ["=x"], ["service=~("]):
            r = sc.cli("silence", "add", "-c", sc.config, *bad)
            t.eq(r.returncode, 2, f"silence add {bad[0]!r} refused with exit 2", r.stdout + r.stderr)
        r = sc.cli("silence", "add", "-c", sc.config, "service=x", "--for", "soon")
        t.eq(r.returncode, 2, "silence add --for soon refused with exit 2", r.stderr)
        r = sc.cli("silence", "list", "-c", sc.config)
        t.eq(r.returncode, 0, "silence list: exit 0", r.stderr)
        t.eq(len([l for l in r.stdout.split("\n") if l.strip()]), 6,
             "silence list shows the six silences (and no refused one)", r.stdout)
        t.check(ids["nregex"] and re.search(re.escape(ids["nregex"]) +
                                            r".*zone=z3 service!~keep\.\*.*e2e nregex",
                                            r.stdout),
                "silence list prints id, matchers and comment", r.stdout)

        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("sil mute-a z1", "sil x-mute-a z1", "sil quiet z2", "sil loud z2",
                 "sil drop z3", "sil keep-1 z3", "short s z4", "sil expire-me z6")
        prompt = [("keep-1", "z3"), ("loud", "z2"), ("x-mute-a", "z1")]
        got = e2e.wait_for(lambda: sent(rx, "Sil") == prompt, 8)
        t.check(got, "only the unsilenced alerts are sent (=~ anchored, !=, !~)",
                f"sent: {sent(rx, 'Sil')}\n" + dump(rx))
        res = e2e.wait_for(lambda: "alert Short resolved" in sc.stderr(), 8)
        t.check(res, "the alert silenced all along resolves (log)", sc.stderr())
        sup = e2e.wait_for(lambda: sc.metrics().get(
            "logwarden_notifications_suppressed_total", 0) >= 1, 8)
        t.check(sup, "... and is counted in logwarden_notifications_suppressed_total",
                repr(sc.metrics()))
        t.eq(sent(rx, "Short", "firing") + sent(rx, "Short", "resolved"), [],
             "silenced all along, then resolved: never sent")
        t.eq(sent(rx, "Sil"), prompt, "still silenced: mute-a, quiet, drop, expire-me")

        r = sc.cli("silence", "expire", "-c", sc.config, ids["expire_me"] or "?")
        t.check(r.returncode == 0 and ids["expire_me"] in r.stdout,
                "silence expire: exit 0", r.stdout + r.stderr)
        got = wait_alert(rx, 6, alert="Sil", service="expire-me")
        t.check(got, "sent once its silence is expired while it still fires",
                dump(rx) + sc.stderr())
        if got:
            t.eq((got[1]["status"], got[1]["ends_at"]), ("firing", None), "as firing")
        r = sc.cli("silence", "list", "-c", sc.config)
        t.check(ids["expire_me"] not in r.stdout, "an expired silence leaves `silence list`",
                r.stdout)
        r = sc.cli("silence", "list", "-c", sc.config, "--all")
        t.check(ids["expire_me"] in r.stdout, "`silence list --all` still shows it", r.stdout)
        r = sc.cli("silence", "expire", "-c", sc.config, "00000000-0000-4000-8000-000000000000")
        t.eq(r.returncode, 2, "silence expire of an unknown id: exit 2", r.stdout + r.stderr)
        time.sleep(1)
        t.eq(sent(rx, "Sil"), sorted(prompt + [("expire-me", "z6")]),
             "in the end: each unsilenced alert once, the silenced ones never")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def http_silences(t, binary):
    rx = Receiver()
    sc = Scenario(binary, "httpsil", alert_rule("Api", "api", "20s", above=0, group_by=GB),
                  [("hook", rx.url())], {"group_wait": "3s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        in_an_hour = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        bodies = {
            "eq": {"matchers": [{"name": "service", "value": "api", "isRegex": False,
                                 "isEqual": True}],
                   "duration": "1h", "comment": "e2e eq", "createdBy": "e2e"},
            "re": {"matchers": [{"name": "service", "value": "db-.*", "isRegex": True}],
                   "endsAt": in_an_hour, "comment": "e2e re", "createdBy": "e2e"},
            "neq": {"matchers": [{"name": "service", "value": "neg", "isEqual": True},
                                 {"name": "zone", "value": "z1", "isRegex": False,
                                  "isEqual": False}],
                    "duration": "1h", "comment": "e2e neq", "createdBy": "e2e"},
        }
        ids = {}
        for key, body in bodies.items():
            code, doc = sc.request("POST", "/api/silences", body)
            ok = t.check(code == 200 and isinstance(doc, dict) and
                         re.match(r"^[0-9a-f-]{36}$", str(doc.get("silenceID"))),
                         f"POST /api/silences ({key}): 200 with a silenceID", f"{code} {doc}")
            ids[key] = doc.get("silenceID") if ok else None
        code, lst = sc.request("GET", "/api/silences")
        t.check(code == 200 and isinstance(lst, list) and
                {s.get("id") for s in lst} == set(ids.values()),
                "GET /api/silences lists the three", f"{code} {lst}")
        by_id = {s.get("id"): s for s in lst} if isinstance(lst, list) else {}
        s = by_id.get(ids["eq"]) or {}
        t.eq((s.get("comment"), s.get("createdBy")), ("e2e eq", "e2e"), "comment and createdBy")
        t.check(all(RFC3339_UTC.match(s.get(k) or "") for k in ("startsAt", "endsAt")),
                "startsAt and endsAt are RFC 3339 UTC", repr(s))
        t.check(abs(ts(s.get("endsAt")) - ts(s.get("startsAt")) - 3600) <= 1,
                "duration 1h -> endsAt = startsAt + 1h", repr(s))
        s = by_id.get(ids["re"]) or {}
        t.check(abs((ts(s.get("endsAt")) or 0) - ts(in_an_hour)) <= 1,
                "endsAt as given", f"{s} vs {in_an_hour}")

        sc.write("api api z1", "api db-1 z1", "api xdb-1 z1", "api neg z1", "api neg z2",
                 "api free z1")
        prompt = [("free", "z1"), ("neg", "z1"), ("xdb-1", "z1")]
        got = e2e.wait_for(lambda: sent(rx) == prompt, 10)
        t.check(got, "only the unsilenced alerts are sent (isEqual, isRegex anchored, isEqual "
                "false)", f"sent: {sent(rx)}\n" + dump(rx))

        code, doc = sc.request("DELETE", f"/api/silences/{ids['eq']}")
        t.eq(code, 200, "DELETE /api/silences/ID: 200", repr(doc))
        got = wait_alert(rx, 6, service="api")
        t.check(got, "the alert is sent once its silence is deleted", dump(rx) + sc.stderr())
        code, lst = sc.request("GET", "/api/silences")
        t.check(code == 200 and ids["eq"] not in {x.get("id") for x in lst or []},
                "the deleted silence is no longer listed", repr(lst))
        code, doc = sc.request("DELETE", f"/api/silences/{ids['eq']}")
        t.eq(code, 404, "DELETE of an expired silence: 404", repr(doc))
        code, doc = sc.request("DELETE", "/api/silences/00000000-0000-4000-8000-000000000000")
        t.eq(code, 404, "DELETE of an unknown silence: 404", repr(doc))

        # RFC 3339 allows an offset: 1 h from now written in +05:00 is still 1 h from now.
        local = time.strftime("%Y-%m-%dT%H:%M:%S+05:00", time.gmtime(time.time() + 3600 + 5 * 3600))
        code, doc = sc.request("POST", "/api/silences",
                               {"matchers": [{"name": "service", "value": "tz"}],
                                "endsAt": local, "comment": "tz", "createdBy": "e2e"})
        if code == 200:
            _, lst = sc.request("GET", "/api/silences")
            s = {x.get("id"): x for x in lst or []}.get(doc.get("silenceID")) or {}
            t.check(abs((ts(s.get("endsAt")) or 0) - (time.time() + 3600)) <= 5,
                    "endsAt with a +05:00 offset: the silence ends 1 h from now",
                    f"sent endsAt {local}, stored {s.get('endsAt')}")
        else:
            t.eq(code, 400, "endsAt with an offset: taken correctly or refused", repr(doc))
        for what, body in [
            ("not an object", ["service=x"]),
            ("no matchers", {"duration": "1h"}),
            ("a matcher without value", {"matchers": [{"name": "service"}]}),
            ("no matcher at all", {"matchers": [], "duration": "1h"}),
            ("bad duration", {"matchers": [{"name": "a", "value": "b"}], "duration": "soon"}),
            ("endsAt in the past", {"matchers": [{"name": "a", "value": "b"}],
                                    "endsAt": "2001-01-01T00:00:00Z"}),
            ("bad regex", {"matchers": [{"name": "a", "value": "(", "isRegex": True}]}),
        ]:
            code, doc = sc.request("POST", "/api/silences", body)
            t.check(code == 400 and isinstance(doc, dict) and doc.get("error"),
                    f"POST {what}: 400 with an error", f"{code} {doc}")
        time.sleep(1)
        t.eq(sent(rx), sorted(prompt + [("api", "z1")]),
             "in the end: db-1 and neg/z2 never sent, the others once")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def silence_applies_at_once(t, binary):
    """group_wait 0s: an alert that fires after POST /api/silences returned is silenced.
    Six rounds 0.5 s apart (silence, then at once its alert and a control alert), so the
    POSTs fall at different moments of the daemon's once-a-second flush."""
    rx = Receiver()
    sc = Scenario(binary, "silnow", alert_rule("Now", "now", "20s", above=0),
                  [("hook", rx.url())], {"group_wait": "0s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        for i in range(6):
            code, doc = sc.request("POST", "/api/silences",
                                   {"matchers": [{"name": "service", "value": f"hush{i}"}],
                                    "duration": "1h", "comment": "e2e", "createdBy": "e2e"})
            t.eq(code, 200, f"round {i}: POST /api/silences: 200", repr(doc))
            sc.write(f"now hush{i}", f"now loud{i}")
            time.sleep(0.5)
        got = e2e.wait_for(lambda: len(rx.alerts(alert="Now")) >= 6, 6)
        t.check(got, "the six unsilenced alerts are sent", dump(rx) + sc.stderr())
        time.sleep(1.5)
        t.eq(sent(rx), [(f"loud{i}", None) for i in range(6)],
             "an alert silenced before it fired is never sent (group_wait 0s)", dump(rx))
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def restart_while_silenced(t, binary):
    rx = Receiver()
    sc = Scenario(binary, "rsil", alert_rule("Hush", "h", "20s", above=0),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        r = sc.cli("silence", "add", "-c", sc.config, "alert=Hush", "--comment", "restart")
        sid = r.stdout.strip()
        t.eq(r.returncode, 0, "silence add", r.stderr)
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("h api", "h web")
        fired = e2e.wait_for(lambda: sc.api_alert("Hush", "firing", service="web"), 5)
        t.check(fired and sc.api_alert("Hush", "firing", service="api"), "both firing",
                repr(sc.api_alerts()))
        time.sleep(2)  # group_wait + flush: they would be sent by now
        t.eq(rx.snapshot(), [], "silenced: nothing sent")
        t.eq(sc.stop(), 0, "SIGTERM while silenced -> exit 0")
        t.check(sc.start(), "restarted", sc.stderr())
        t.check(sc.api_alert("Hush", "firing", service="api"), "still firing after the restart",
                repr(sc.api_alerts()))
        time.sleep(2.5)
        t.eq(rx.snapshot(), [], "still silenced after the restart: nothing sent", dump(rx))
        r = sc.cli("silence", "expire", "-c", sc.config, sid)
        t.eq(r.returncode, 0, "silence expire", r.stderr)
        got = e2e.wait_for(lambda: len(sent(rx)) >= 2, 6)
        t.check(got, "both sent once the silence is expired", dump(rx) + sc.stderr())
        time.sleep(1.5)
        t.eq(sent(rx), [("api", None), ("web", None)], "once each")
        t.eq(len(rx.snapshot()), 1, "in one POST (one flush)", dump(rx))
        starts = {a["starts_at"] for r in rx.snapshot() for a in alerts_of(r)}
        t.check(all(ts(s) <= ts(fired["since"]) + 1 for s in starts),
                "starts_at is when they fired, before the restart",
                f"{starts} vs since {fired and fired['since']}")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


INHIBIT = [{"source": {"severity": "critical"}, "target": {"severity": "warning"},
            "equal": ["service"]}]


def inhibition(t, binary):
    rx = Receiver()
    rules = (alert_rule("Crit", "crit", "30s", above=0, severity="critical")
             + alert_rule("Warn", "warn", "30s", above=0))
    sc = Scenario(binary, "inhibit", rules, [("hook", rx.url())],
                  {"group_wait": "1s", "repeat_interval": "1h"}, inhibit=INHIBIT)
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("crit api")
        src = wait_alert(rx, 6, alert="Crit", status="firing")
        t.check(src, "the critical source is sent", dump(rx) + sc.stderr())
        sc.write("warn api", "warn web")
        got = wait_alert(rx, 6, alert="Warn", service="web")
        t.check(got, "a warning of another service is not inhibited", dump(rx) + sc.stderr())
        t.check(sc.api_alert("Warn", "firing", service="api"), "the warning of api fires",
                repr(sc.api_alerts()))
        time.sleep(1.5)  # group_wait 1s + a flush: it would have been sent by now
        t.eq(sent(rx, "Warn"), [("web", None)], "the warning with equal service is inhibited")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def main():
    binary = e2e.binary_from_argv()
    run_scenarios(binary, [cli_silences, http_silences, silence_applies_at_once,
                           restart_while_silenced, inhibition])


if __name__ == "__main__":
    main()
