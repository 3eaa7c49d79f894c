#!/usr/bin/env python3
"""test_lifecycle.py: an alert's life through the daemon and a webhook: pending (for), firing,
repeat_interval, resolved (ends_at), keep_firing_for, restarts (SIGTERM, kill -9) in the middle
of pending and firing, `logwarden status`, /api/alerts and /metrics. The notifier's timers
(group_wait batching, send_resolved, flaps) are unit tests on a driven clock:
tests/unit/alerts/test_notify.c.

Every scenario runs its own daemon (`logwarden run`, file input from the beginning, events on
arrival time, windows of a few seconds) against its own loopback webhook receiver, which
records every POST with its arrival time. The scenarios run concurrently so the whole file
takes well under a minute; each scenario's checks are printed together, in order, at the end.

The helpers here (Receiver, Scenario, run_scenarios ...) are shared with test_routing.py and
test_silences.py.

usage: test_lifecycle.py PATH/TO/logwarden
"""

import calendar
import json
import os
import re
import signal
import threading
import time
import traceback
import urllib.error
import urllib.request

import e2e

ALERT_KEYS = {"status", "alert", "fingerprint", "labels", "annotations", "value", "starts_at",
              "ends_at", "window", "generator"}
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$")

# One event for every scenario: "<kind> <service> [<zone>]"; alerts count one kind each.
EVENTS = r"""
events:
  - name: hit
    match: '^(?<kind>\S+) (?<service>\S+)(?: (?<zone>\S+))?$'
alerts:
"""


def alert_rule(name, kind, window, above=2, group_by=("service",), severity="warning",
               for_=None, keep=None, labels=None, summary="{{ value }} hits on {{ service }}"):
    """One alert rule (YAML text, indented for the `alerts:` list)."""
    out = [f"  - name: {name}",
           "    event: hit",
           f"    group_by: [{', '.join(group_by)}]" if group_by else None,
           f"    window: {window}",
           f"    count: {{above: {above}, where: 'kind == \"{kind}\"'}}",
           f"    for: {for_}" if for_ else None,
           f"    keep_firing_for: {keep}" if keep else None,
           f"    severity: {severity}",
           f"    labels: {json.dumps(labels)}" if labels else None,
           "    annotations:",
           f"      summary: '{summary}'"]
    return "\n".join(l for l in out if l is not None) + "\n"


# ---------------------------------------------------------------- shared helpers

# The shared loopback receiver (e2e.py): records every POST with its arrival time (wall, mono).
Receiver = e2e.Receiver
alerts_of = e2e.alerts_of


def ts(s):
    """RFC 3339 UTC (whole seconds or fractions) -> epoch seconds (float)."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", s or "")
    if not m:
        return None
    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return t + (float(m.group(2)) if m.group(2) else 0.0)


class Recorder(e2e.Checks):
    """Checks of one scenario, kept (not printed) until the scenarios are done."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.items = []

    def check(self, cond, what, detail=""):
        self.items.append((bool(cond), what, detail))
        return bool(cond)

    def eq(self, actual, expected, what, detail=""):
        extra = f"\n{detail}" if detail else ""
        return self.check(actual == expected, what,
                          f"expected: {expected!r}\nactual:   {actual!r}{extra}")


class Scenario:
    """A temporary folder with rules, config, log file and a daemon on them."""

    def __init__(self, binary, name, rules, sinks, notify, routes=None, inhibit=None,
                 http=True, extra=""):
        self.binary = binary
        self.name = name
        self.td = e2e.TempDir(name)
        self.log = self.td.join("app.log")
        open(self.log, "w").close()
        self.td.write("rules.yaml", EVENTS + rules)
        self.port = e2e.free_port() if http else None
        lines = ["state: state.db", "rules: [rules.yaml]", "log_level: debug"]
        if http:
            lines.append(f"http: {{listen: 127.0.0.1:{self.port}}}")
        lines += ["inputs:", "  - name: app", "    type: file", "    paths: [app.log]",
                  "    start_at: beginning", "sinks:"]
        for sname, url in sinks:
            lines += [f"  - name: {sname}", "    type: webhook", f"    url: {url}",
                      "    timeout: 2s"]
        if routes is not None:
            lines.append("routes:")
            for r in routes:
                lines.append(f"  - {json.dumps(r)}")
        if inhibit is not None:
            lines.append("inhibit:")
            for r in inhibit:
                lines.append(f"  - {json.dumps(r)}")
        lines.append(f"notify: {json.dumps(notify)}")
        self.config = self.td.write("logwarden.yaml", "\n".join(lines) + "\n" + extra)
        self.daemon = None
        self.old_stderr = ""

    def start(self):
        if self.daemon is not None:
            self.old_stderr += self.daemon.stderr()
        self.daemon = e2e.Daemon(self.binary, self.config, self.td.path)
        ok = e2e.wait_for(lambda: "running" in self.daemon.stderr() or not self.daemon.alive(),
                          10)
        if self.port:
            e2e.wait_for(lambda: self.get("/health") is not None or not self.daemon.alive(), 10)
        return ok and self.daemon.alive()

    def stop(self):
        return self.daemon.stop(timeout=15) if self.daemon else None

    def kill9(self):
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.proc.wait()
        self.daemon._out.close()
        self.daemon._err.close()

    def stderr(self):
        return self.old_stderr + (self.daemon.stderr() if self.daemon else "")

    def write(self, *lines):
        """Appends lines in one write(2); returns the wall time just before."""
        t = time.time()
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, "".join(l + "\n" for l in lines).encode())
        finally:
            os.close(fd)
        return t

    def get(self, path, timeout=3):
        """GET on the daemon's HTTP endpoint: the body (text), or None."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}",
                                        timeout=timeout) as r:
                return r.read().decode("utf-8", "replace")
        except (OSError, urllib.error.URLError):
            return None

    def request(self, method, path, body=None, timeout=3):
        """(status, parsed JSON or text) of a request to the daemon's HTTP endpoint."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                code, text = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            code, text = e.code, e.read().decode("utf-8", "replace")
        except OSError as e:
            return None, str(e)
        try:
            return code, json.loads(text)
        except ValueError:
            return code, text

    def api_alerts(self):
        body = self.get("/api/alerts")
        try:
            return json.loads(body) if body is not None else None
        except ValueError:
            return None

    def api_alert(self, name, state=None, **group):
        """The /api/alerts entry of this alert and group (and state), or None."""
        for a in self.api_alerts() or []:
            if a.get("alert") == name and (state is None or a.get("state") == state) and \
                    all((a.get("group") or {}).get(k) == v for k, v in group.items()):
                return a
        return None

    def metrics(self):
        """Prometheus text -> {name or name{labels}: float}."""
        out = {}
        for line in (self.get("/metrics") or "").split("\n"):
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

    def cli(self, *args):
        return e2e.run([self.binary, *args], timeout=20)

    def status(self):
        return self.cli("status", "-c", self.config)

    def cleanup(self):
        if self.daemon is not None and self.daemon.alive():
            self.daemon.stop(timeout=5)
        self.td.cleanup()


def run_scenarios(binary, scenarios):
    """Runs scenario functions (t, binary) concurrently; prints their checks in order."""
    t = e2e.Checks()
    recs = [Recorder(fn.__name__) for fn in scenarios]
    started = time.monotonic()
    durations = {}

    def runner(fn, rec):
        t0 = time.monotonic()
        try:
            fn(rec, binary)
        except Exception:  # a broken scenario is a failed check, not a crashed file
            rec.check(False, "scenario ran to the end", traceback.format_exc())
        durations[rec.name] = time.monotonic() - t0

    threads = [threading.Thread(target=runner, args=(fn, rec), daemon=True)
               for fn, rec in zip(scenarios, recs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(150)
    for rec in recs:
        print(f"--- {rec.name} ({durations.get(rec.name, -1):.1f} s)")
        if not rec.items:
            t.check(False, f"[{rec.name}] finished (no checks recorded)")
        for cond, what, detail in rec.items:
            t.check(cond, f"[{rec.name}] {what}", detail)
    print(f"--- all scenarios: {time.monotonic() - started:.1f} s")
    t.finish()


def wait_alert(rx, timeout, path=None, **match):
    """Waits for an alert matching `match` at the receiver: its (request, alert) or None."""
    got = e2e.wait_for(lambda: rx.alerts(path, **match), timeout)
    return got[0] if got else None


def check_alert_object(t, a, label, *, status, name, labels, summary=None, value=None,
                       window=None, fingerprint=None):
    """The exact shape of one alert object (RULES.md, "The alert object")."""
    t.eq(set(a.keys()), ALERT_KEYS, f"{label}: exactly the documented keys")
    t.eq(a.get("status"), status, f"{label}: status")
    t.eq(a.get("alert"), name, f"{label}: alert")
    t.eq(a.get("labels"), labels, f"{label}: labels (alert, severity, group, rule labels)")
    if summary is not None:
        t.eq(a.get("annotations"), {"summary": summary}, f"{label}: annotations rendered")
    if value is not None:
        t.eq(a.get("value"), value, f"{label}: value")
    if window is not None:
        t.eq(a.get("window"), window, f"{label}: window")
    t.eq(a.get("generator"), "logwarden", f"{label}: generator")
    fp = a.get("fingerprint")
    t.check(isinstance(fp, str) and re.match(r"^[0-9a-f]{16}$", fp or ""),
            f"{label}: fingerprint is 16 hex digits", repr(fp))
    if fingerprint is not None:
        t.eq(fp, fingerprint, f"{label}: fingerprint stable")
    t.check(isinstance(a.get("starts_at"), str) and RFC3339_UTC.match(a["starts_at"]),
            f"{label}: starts_at is RFC 3339 UTC", repr(a.get("starts_at")))
    if status == "firing":
        t.check("ends_at" in a and a["ends_at"] is None, f"{label}: ends_at is null",
                repr(a.get("ends_at")))
    else:
        t.check(isinstance(a.get("ends_at"), str) and RFC3339_UTC.match(a["ends_at"]),
                f"{label}: ends_at is RFC 3339 UTC", repr(a.get("ends_at")))


def dump(rx):
    return "\n".join(f"{r['path']} {r['code']} {r['body'][:600]!r}" for r in rx.snapshot(ok_only=False))


# ---------------------------------------------------------------- scenarios

LIFE_LABELS = {"alert": "Life", "service": "api", "severity": "warning", "team": "core"}


def pending_firing_resolved_repeat(t, binary):
    """for: 3s, window: 8s, group_wait: 1s, repeat_interval: 3s (for: 3s: pending stays
    visible 2 to 3 s, which a poll of /api/alerts sees on a loaded host)."""
    rx = Receiver()
    sc = Scenario(binary, "life", alert_rule("Life", "life", "8s", for_="3s",
                                             labels={"team": "core"}),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "3s",
                                         "send_resolved": True})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        page = sc.get("/") or ""
        t.check(page.startswith("<!doctype html>") and "/api/alerts" in page and
                "/api/silences" in page and "textContent" in page,
                "/ serves the dashboard page, reading /api/alerts and /api/silences", page[:200])
        m0 = sc.metrics()
        t.eq((m0.get("logwarden_records_total"), m0.get("logwarden_alert_transitions_total"),
              m0.get("logwarden_notifications_sent_total")), (0.0, 0.0, 0.0),
             "/metrics: counters start at 0")
        sc.write("life api", "life api", "life api", "other api")
        pend = e2e.wait_for(lambda: sc.api_alert("Life", "pending", service="api"), 5)
        if not t.check(pend, "/api/alerts shows the alert pending", sc.stderr()):
            return
        t.eq(rx.snapshot(), [], "nothing sent while pending")
        t.eq(pend.get("value"), 3, "/api/alerts: pending value")
        since = ts(pend.get("since"))
        # /api/alerts answers from the engine, ahead of the state file's next flush (1 s); and
        # "outbox: 0 pending" is no pending alert.
        st = e2e.wait_for(lambda: (lambda r: r.stdout if re.search(r"^pending\s", r.stdout, re.M)
                                   else None)(sc.status()), 3)
        t.check(st and re.search(r"^pending\s+Life\s+" + pend["fingerprint"], st, re.M),
                "`logwarden status` shows the pending alert", st)

        got = wait_alert(rx, 10, status="firing", alert="Life")
        if not t.check(got, "firing notification arrives", dump(rx) + sc.stderr()):
            return
        req, fa = got
        check_alert_object(t, fa, "firing", status="firing", name="Life", labels=LIFE_LABELS,
                           summary="3 hits on api", value=3, window="8s",
                           fingerprint=pend["fingerprint"])
        t.eq(ts(fa["starts_at"]) - since, 3.0, "starts_at = pending since + for (3s)")
        t.check(req["wall"] >= since + 3.0 + 1.0 - 0.2,
                "first POST not before pending since + for + group_wait",
                f"since={since} arrival={req['wall']}")
        t.eq(len(alerts_of(req)), 1, "the first POST holds the one alert")
        t.eq(list(req["json"].keys()), ["alerts"], 'webhook body is {"alerts": [...]}')

        fire_api = sc.api_alert("Life", "firing", service="api")
        t.check(fire_api and fire_api.get("since") == fa["starts_at"],
                "/api/alerts: firing since starts_at", repr(fire_api))
        st = sc.status().stdout
        t.check(re.search(r"^firing\s+Life\s+" + fa["fingerprint"] + r"\s+" +
                          re.escape(fa["starts_at"]), st, re.M),
                "`logwarden status` shows the firing alert with its fingerprint and start", st)

        got = wait_alert(rx, 15, status="resolved", alert="Life")
        if not t.check(got, "resolved notification arrives", dump(rx) + sc.stderr()):
            return
        rreq, ra = got
        check_alert_object(t, ra, "resolved", status="resolved", name="Life",
                           labels=LIFE_LABELS, summary="3 hits on api", value=3, window="8s",
                           fingerprint=fa["fingerprint"])
        t.eq(ra["starts_at"], fa["starts_at"], "resolved: starts_at of the firing")
        # since is the second the events were read (floor); they left the 8 s window at the end
        # of their 1 s bucket + 8 s: one second later when read past a whole second.
        t.check(ts(ra["ends_at"]) - since in (8.0, 9.0),
                "ends_at = when the window emptied (since + 8s, or 9s)",
                f"since={since} ends_at={ra['ends_at']}")

        firing = [(r, a) for r, a in rx.alerts(alert="Life", status="firing")]
        t.check(len(firing) >= 2, "repeat_interval: the firing alert was sent again",
                dump(rx))
        gaps = [b[0]["wall"] - a[0]["wall"] for a, b in zip(firing, firing[1:])]
        t.check(all(g >= 3.0 - 0.3 for g in gaps), "repeats are repeat_interval (3s) apart",
                repr(gaps))
        t.check(all(a == fa for _, a in firing), "repeats carry the same alert object",
                dump(rx))
        t.check(all(r["wall"] < rreq["wall"] for r, _ in firing),
                "all repeats came before the resolution", dump(rx))
        # The resolution is final: no repeat, no second resolution (repeat_interval + 1 s).
        time.sleep(4)
        t.eq(len(rx.snapshot()), len(firing) + 1, "nothing sent after the resolution")
        t.eq(sc.api_alerts(), [], "/api/alerts is empty once resolved")
        st = sc.status().stdout
        t.check("0 alerts" in st and "Life" not in st, "`logwarden status` shows no alert", st)
        m = sc.metrics()
        t.eq(m.get("logwarden_records_total"), 4.0, "/metrics: records_total")
        t.eq(m.get("logwarden_events_total"), 4.0, "/metrics: events_total")
        t.eq(m.get('logwarden_input_lines_total{input="app"}'), 4.0, "/metrics: per-input lines")
        t.eq(m.get('logwarden_late_events_total{input="app"}'), 0.0,
             "/metrics: late events, per input (arrival time is never late)")
        t.eq(m.get("logwarden_alert_transitions_total"), 2.0,
             "/metrics: alert_transitions_total (firing, resolved)")
        t.eq(m.get("logwarden_notifications_sent_total"), float(len(firing) + 1),
             "/metrics: notifications_sent_total = alerts sent")
        t.eq(m.get('logwarden_outbox{state="sent"}'), float(len(rx.snapshot())),
             "/metrics: outbox sent = POSTs received")
        t.eq(m.get('logwarden_outbox{state="pending"}'), 0.0, "/metrics: outbox drained")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def keep_firing_for(t, binary):
    """window 2s, keep_firing_for 4s: a 2 s dip does not resolve; the resolution comes
    keep_firing_for after the condition last held."""
    rx = Receiver()
    sc = Scenario(binary, "keep", alert_rule("Keep", "k", "2s", above=0, keep="4s"),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        t1 = sc.write("k svc")
        got = wait_alert(rx, 8, status="firing", alert="Keep")
        if not t.check(got, "firing notification arrives", dump(rx) + sc.stderr()):
            return
        # The condition is false from about t1 + 2; stay in the dip 2 s, then it holds again.
        time.sleep(max(0.0, t1 + 4.2 - time.time()))
        t.check("alert Keep resolved" not in sc.stderr() and
                sc.api_alert("Keep", "firing") is not None,
                "still firing 2 s into the dip", sc.stderr())
        t2 = sc.write("k svc")
        fin = wait_alert(rx, 15, status="resolved", alert="Keep")
        if not t.check(fin, "resolution sent in the end", dump(rx) + sc.stderr()):
            return
        ends = ts(fin[1]["ends_at"])
        # Condition true until ~t2 + 2 (window), then held 4 s more.
        t.check(t2 + 2 + 4 - 1.5 <= ends <= t2 + 2 + 4 + 1.5,
                "ends_at ~ last event + window + keep_firing_for",
                f"t2={t2:.2f} ends_at={ends} ({ends - t2:.2f} s after)")
        t.eq([a["status"] for r in rx.snapshot() for a in alerts_of(r)],
             ["firing", "resolved"], "one firing, one resolved: the dip neither resolved nor "
             "re-paged", dump(rx))
        t.eq(sc.stderr().count("alert Keep firing"), 1, "one firing transition in the log")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def restart_while_pending(t, binary):
    """SIGTERM and restart while pending: the `for` clock keeps running from the original
    pending start; the lines are not counted twice."""
    rx = Receiver()
    sc = Scenario(binary, "rpend", alert_rule("Pend", "p", "10s", for_="4s"),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("p api", "p api", "p api")
        pend = e2e.wait_for(lambda: sc.api_alert("Pend", "pending"), 5)
        if not t.check(pend, "pending", sc.stderr()):
            return
        t.eq(sc.stop(), 0, "SIGTERM while pending -> exit 0")
        st = sc.status().stdout
        t.check(re.search(r"^pending\s+Pend\s+" + pend["fingerprint"], st, re.M),
                "`status` (daemon stopped) shows the pending alert", st)
        t.check(sc.start(), "restarted", sc.stderr())
        got = wait_alert(rx, 10, status="firing", alert="Pend")
        if not t.check(got, "fires after the restart", dump(rx) + sc.stderr()):
            return
        a = got[1]
        t.eq(ts(a["starts_at"]) - ts(pend["since"]), 4.0,
             "starts_at = original pending since + for (the for clock survived)")
        t.eq(a["value"], 3, "value 3: lines not re-read after the restart")
        t.eq(a["fingerprint"], pend["fingerprint"], "fingerprint as when pending")
        res = wait_alert(rx, 12, status="resolved", alert="Pend")
        t.check(res, "resolves later", dump(rx))
        t.eq([x["status"] for r in rx.snapshot() for x in alerts_of(r)],
             ["firing", "resolved"], "one firing, one resolved")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def restart_while_firing(t, binary):
    """SIGTERM and restart while firing (already notified): not announced again; the
    resolution comes later, same fingerprint and starts_at."""
    rx = Receiver()
    sc = Scenario(binary, "rfire", alert_rule("Fire", "x", "10s"),
                  [("hook", rx.url())], {"group_wait": "1s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("x api", "x api", "x api")
        got = wait_alert(rx, 8, status="firing", alert="Fire")
        if not t.check(got, "firing notification arrives", dump(rx) + sc.stderr()):
            return
        fa = got[1]
        t.eq(sc.stop(), 0, "SIGTERM while firing -> exit 0")
        t.check(sc.start(), "restarted", sc.stderr())
        still = sc.api_alert("Fire", "firing")
        t.check(still and still.get("since") == fa["starts_at"],
                "still firing after the restart, same since", repr(sc.api_alerts()))
        st = sc.status().stdout
        t.check(re.search(r"^firing\s+Fire\s+" + fa["fingerprint"], st, re.M),
                "`status` shows it firing", st)
        time.sleep(2.5)  # group_wait + flush: a re-announcement would be here
        t.eq(len(rx.snapshot()), 1, "not announced again after the restart", dump(rx))
        res = wait_alert(rx, 12, status="resolved", alert="Fire")
        if not t.check(res, "resolves later", dump(rx) + sc.stderr()):
            return
        ra = res[1]
        t.eq((ra["fingerprint"], ra["starts_at"], ra["value"]),
             (fa["fingerprint"], fa["starts_at"], 3),
             "resolved: same fingerprint and starts_at, the last firing value (3)")
        t.check(ts(ra["ends_at"]) - ts(fa["starts_at"]) in (10.0, 11.0),
                "ends_at = starts_at + window (starts_at is the second the lines were read)",
                f"{fa['starts_at']} .. {ra['ends_at']}")
        t.eq([x["status"] for r in rx.snapshot() for x in alerts_of(r)],
             ["firing", "resolved"], "one firing, one resolved")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def kill9_after_transition(t, binary, after_flush=False):
    """kill -9 right after the firing transition (inside group_wait): after the restart the
    notification arrives exactly once. Killed before the flush (the lines are read again) or,
    with after_flush, once `status` shows the alert firing (the state file has the transition,
    the outbox nothing yet)."""
    rx = Receiver()
    sc = Scenario(binary, "kill9", alert_rule("Crash", "c", "10s"),
                  [("hook", rx.url())], {"group_wait": "3s" if after_flush else "2s",
                                         "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("c api", "c api", "c api")
        if after_flush:
            fired = e2e.wait_for(lambda: re.search(r"^firing\s+Crash", sc.status().stdout, re.M),
                                 5, interval=0.02)
        else:
            fired = e2e.wait_for(lambda: "alert Crash firing" in sc.stderr(), 5, interval=0.01)
        sc.kill9()
        t.check(fired, "firing transition " + ("in the state file" if after_flush else "logged") +
                ", then kill -9", sc.stderr())
        t.eq(rx.snapshot(), [], "nothing sent before the kill")
        t.check(sc.start(), "restarted", sc.stderr())
        got = wait_alert(rx, 10, status="firing", alert="Crash")
        t.check(got, "the firing notification arrives after the restart", dump(rx) + sc.stderr())
        time.sleep(2.5)
        t.eq(len(rx.alerts(status="firing", alert="Crash")), 1, "exactly once", dump(rx))
        if got:
            t.eq(got[1]["value"], 3, "value 3: no line counted twice")
        res = wait_alert(rx, 12, status="resolved", alert="Crash")
        t.check(res, "resolves later", dump(rx))
        t.eq([x["status"] for r in rx.snapshot() for x in alerts_of(r)],
             ["firing", "resolved"], "one firing, one resolved")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def pending_cleared(t, binary):
    """for: 3s but the window (2s) empties first: pending back to inactive, nothing sent."""
    rx = Receiver()
    sc = Scenario(binary, "pclear", alert_rule("Brief", "b", "2s", above=0, for_="3s"),
                  [("hook", rx.url())], {"group_wait": "0s"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("b api")
        pend = e2e.wait_for(lambda: sc.api_alert("Brief", "pending"), 5)
        t.check(pend, "pending", repr(sc.api_alerts()))
        gone = e2e.wait_for(lambda: sc.api_alerts() == [], 6)
        t.check(gone, "back to inactive once the window empties", repr(sc.api_alerts()))
        time.sleep(2.5)  # past the would-be firing time (since + 3s) with a margin
        t.eq(rx.snapshot(), [], "nothing sent", dump(rx))
        t.check("alert Brief" not in sc.stderr(), "no transition logged", sc.stderr())
        t.eq(sc.metrics().get("logwarden_alert_transitions_total"), 0.0,
             "/metrics: no transition")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def kill9_after_resolution(t, binary):
    """kill -9 right after the resolved transition (inside group_wait 2s): after the restart
    the resolution arrives exactly once."""
    rx = Receiver()
    sc = Scenario(binary, "kill9r", alert_rule("Gone", "g", "4s", above=0),
                  [("hook", rx.url())], {"group_wait": "2s", "repeat_interval": "1h"})
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("g api")
        fired = wait_alert(rx, 8, status="firing", alert="Gone")
        t.check(fired, "firing notification arrives", dump(rx) + sc.stderr())
        res = e2e.wait_for(lambda: "alert Gone resolved" in sc.stderr(), 8, interval=0.01)
        sc.kill9()
        t.check(res, "resolved transition logged, then kill -9", sc.stderr())
        t.eq(len(rx.snapshot()), 1, "the resolution was not sent before the kill", dump(rx))
        t.check(sc.start(), "restarted", sc.stderr())
        got = wait_alert(rx, 8, status="resolved", alert="Gone")
        t.check(got, "the resolution arrives after the restart", dump(rx) + sc.stderr())
        time.sleep(2.5)
        t.eq([x["status"] for r in rx.snapshot() for x in alerts_of(r)],
             ["firing", "resolved"], "exactly once")
        if got and fired:
            t.eq(got[1]["fingerprint"], fired[1]["fingerprint"], "same fingerprint")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.close()
        sc.cleanup()


def kill9_after_flush(t, binary):
    kill9_after_transition(t, binary, after_flush=True)


def main():
    binary = e2e.binary_from_argv()
    run_scenarios(binary, [pending_firing_resolved_repeat, keep_firing_for, restart_while_pending,
                           restart_while_firing, kill9_after_transition,
                           kill9_after_flush, pending_cleared, kill9_after_resolution])


if __name__ == "__main__":
    main()
