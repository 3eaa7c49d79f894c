#!/usr/bin/env python3
"""test_api.py: the JSON API of issue 16 and `logwarden explain`, on a daemon fed a real log.

The daemon tails tests/data/umm-secure/mylar/secure-20110710 (real sshd brute force, 2011; no
timestamp is taken from the lines, so they count at their arrival), with two alerts per source
address: SshBruteForce (critical, more than 10 failures in 5m: fires for 59.108.33.66, which has
127) and AnyFailure (warning, any failure), an inhibition (critical mutes warning of the same ip)
and a webhook sink (a loopback receiver).

- /api/alerts: labels, annotations, severity, value, threshold, state, since, group,
  silenced_by (a silence POSTed through the API), inhibited_by (the critical alert's
  fingerprint); Alertmanager filters (=, !=, =~, !~, anchored) and 400 on a bad one; 401
  without the token.
- /api/rules: kind, window, threshold, the event feeding each rule and its count (the
  fixture's `Failed password` lines), groups, pending/firing, the most urgent group's series.
- /api/alerts/{fp}: the explanation: the last 20 lines that fed the alert are exactly the
  fixture's last 20 `Failed password ... from 59.108.33.66` lines, in order; the series ends at
  127, above the threshold; history has the firing; the webhook notification is listed as sent;
  404 for an unknown or malformed fingerprint.
- `logwarden explain` by fingerprint and by ALERT LABEL=VALUE from the running daemon; after
  SIGTERM, from the state file (the same lines); exit 1 for an unknown alert, 2 for a label the
  alert does not group by.
- The state file's migration from schema 5: a file of schema 5 (the tables of 6 dropped, the
  version set back) opens as 6 with its rows kept, and explain reads it.

usage: test_api.py PATH/TO/logwarden
"""

import json
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

import e2e

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "data", "umm-secure", "mylar", "secure-20110710")
TOKEN = "e2e-api-token-0123456789"
FAILED = re.compile(r"Failed password for (?:invalid user )?\S+ from ([0-9.]+)")

RULES = """\
events:
  - name: ssh_failed
    match: 'Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>[0-9.]+)'
alerts:
  - name: SshBruteForce
    event: ssh_failed
    count: {above: 10}
    window: 5m
    group_by: [ip]
    severity: critical
    annotations: {summary: "{{ value }} failed logins from {{ ip }}"}
  - name: AnyFailure
    event: ssh_failed
    count: {above: 0}
    window: 5m
    group_by: [ip]
    severity: warning
    annotations: {summary: "failures from {{ ip }}"}
"""


def request(port, path, token=TOKEN, method="GET", body=None):
    """(status, parsed JSON or text) of a request to the daemon."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            code, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        code, text = e.code, e.read().decode()
    except OSError as e:
        return None, repr(e)
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text


def q(s):
    return urllib.parse.quote(s, safe="")


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    td = e2e.TempDir("api")
    rx = e2e.Receiver()
    port = e2e.free_port()
    log = td.join("secure")
    open(log, "w").close()
    td.write("rules.yaml", RULES)
    config = td.write("logwarden.yaml", f"""\
state: state.db
http: {{listen: 127.0.0.1:{port}, token: {TOKEN}}}
rules: [rules.yaml]
inputs:
  - {{name: secure, type: file, paths: [{log}], start_at: beginning}}
sinks:
  - {{name: hook, type: webhook, url: {rx.url()}}}
notify: {{group_wait: 0s}}
inhibit:
  - source: {{severity: critical}}
    target: {{severity: warning}}
    equal: [ip]
""")
    with open(FIXTURE, "rb") as f:
        fixture = f.read().decode("utf-8", "replace").split("\n")
    attacker = "59.108.33.66"
    fed = [l for l in fixture if (m := FAILED.search(l)) and m.group(1) == attacker]
    nfailed = sum(1 for l in fixture if FAILED.search(l))
    t.eq(len(fed), 127, "the fixture: 127 failures from the attacker")

    d = e2e.Daemon(binary, config, td.path)
    try:
        t.check(e2e.wait_for(lambda: "running" in d.stderr() or not d.alive(), 10) and d.alive(),
                "daemon running", d.stderr())
        # A silence for one AnyFailure group, before the lines: it holds once they fire.
        code, sil = request(port, "/api/silences", method="POST", body={
            "matchers": [{"name": "alert", "value": "AnyFailure", "isRegex": False},
                         {"name": "ip", "value": "59\\.151\\..*", "isRegex": True}],
            "duration": "1h", "comment": "e2e api"})
        t.check(code == 200 and isinstance(sil, dict) and sil.get("silenceID"),
                "POST /api/silences: 200 and an id", repr((code, sil)))
        sil_id = sil.get("silenceID") if isinstance(sil, dict) else None
        with open(FIXTURE, "rb") as src, open(log, "ab") as dst:
            dst.write(src.read())

        def firing():
            # Fired within a second of the burst; its value is the whole burst's from the next
            # bucket edge on.
            code, body = request(port, "/api/alerts")
            return body if code == 200 and any(
                a.get("alert") == "SshBruteForce" and a.get("state") == "firing" and
                a.get("value") == 127 for a in body) else None
        alerts = e2e.wait_for(firing, 20) and firing()
        t.check(alerts, "/api/alerts: SshBruteForce fires", repr(request(port, "/api/alerts")))
        alerts = alerts or []
        bf = [a for a in alerts if a.get("alert") == "SshBruteForce"]
        t.eq(len(bf), 1, "one SshBruteForce group fires (the attacker)")
        a = bf[0] if bf else {}
        t.eq(a.get("labels"), {"alert": "SshBruteForce", "ip": attacker, "severity": "critical"},
             "labels as the alert object's")
        t.eq(a.get("annotations"), {"summary": f"127 failed logins from {attacker}"},
             "annotations rendered")
        t.eq((a.get("severity"), a.get("value"), a.get("threshold"), a.get("group")),
             ("critical", 127, 10, {"ip": attacker}), "severity, value, threshold, group")
        t.check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", a.get("since", "")),
                "since is RFC 3339 UTC", repr(a.get("since")))
        t.eq((a.get("silenced_by"), a.get("inhibited_by")), ([], []), "not muted")
        fp = a.get("fingerprint", "")
        ips = sorted({m.group(1) for l in fixture if (m := FAILED.search(l))})
        any_ = {x["labels"]["ip"]: x for x in alerts if x.get("alert") == "AnyFailure"}
        t.eq(sorted(any_), ips, "AnyFailure fires for every source address")
        t.eq(any_.get(attacker, {}).get("inhibited_by"), [fp],
             "the attacker's warning is inhibited by the critical alert's fingerprint")
        silenced = sorted(ip for ip, x in any_.items() if x.get("silenced_by") == [sil_id])
        t.eq(silenced, [ip for ip in ips if re.fullmatch(r"59\.151\..*", ip)],
             "silenced_by names the silence, for the groups it matches")

        # Filters, as Alertmanager's v2 API takes them.
        def names(filters):
            code, body = request(port, "/api/alerts?" + "&".join("filter=" + q(f)
                                                                for f in filters))
            if code != 200:
                return code
            return sorted((x["alert"], x["labels"].get("ip")) for x in body)
        t.eq(names(['severity="critical"']), [("SshBruteForce", attacker)], "filter =")
        t.eq(names(['severity!="critical"', 'ip=~"59\\\\.108\\\\..*"']),
             [("AnyFailure", attacker)], "filters != and =~ together")
        t.eq(names(['ip=~"59"']), [], "=~ is anchored, as in Alertmanager")
        t.eq(names(['alert="AnyFailure"', 'ip!~"5.*"']),
             [("AnyFailure", ip) for ip in ips if not ip.startswith("5")], "filter !~")
        for bad in ('ip=~"("', 'severity', '="x"', 'ip="unterminated'):
            code, body = request(port, "/api/alerts?filter=" + q(bad))
            t.check(code == 400 and isinstance(body, dict) and body.get("error"),
                    f"bad filter {bad!r}: 400 with an error", repr((code, body)))
        for path in ("/api/alerts", "/api/rules", f"/api/alerts/{fp}"):
            code, _ = request(port, path, token=None)
            t.eq(code, 401, f"{path} without the token: 401")

        # /api/rules
        code, rules = request(port, "/api/rules")
        t.eq(code, 200, "/api/rules: 200")
        byname = {r.get("alert"): r for r in rules} if isinstance(rules, list) else {}
        r = byname.get("SshBruteForce", {})
        t.eq((r.get("kind"), r.get("window"), r.get("threshold"), r.get("above"), r.get("for"),
              r.get("severity"), r.get("group_by")),
             ("count", "5m", 10, True, "0s", "critical", ["ip"]), "a rule's definition")
        t.eq(r.get("events"), [{"name": "ssh_failed", "count": nfailed}],
             "the event feeding it, with its count (every `Failed password` line)")
        t.eq((r.get("groups"), r.get("pending"), r.get("firing")), (len(ips), 0, 1),
             "groups, pending, firing")
        s = r.get("series") or {}
        t.eq((s.get("fingerprint"), s.get("state")), (fp, "firing"),
             "its series is the firing group's")
        pts = s.get("points") or []
        t.check(len(pts) == 300 and pts[-1][1] == 127,
                "300 points (5m at 1s), the last one 127", repr(pts[-3:]))
        t.eq(byname.get("AnyFailure", {}).get("firing"), len(ips), "AnyFailure: all firing")

        # The explanation.
        def explained():
            code, x = request(port, f"/api/alerts/{fp}")
            return x if code == 200 and x.get("notifications") and x.get("history") else None
        x = e2e.wait_for(explained, 10) and explained()
        t.check(x, "/api/alerts/{fp}: 200 with its notification",
                repr(request(port, f"/api/alerts/{fp}")))
        x = x or {}
        t.eq([s.get("line") for s in x.get("samples", [])], fed[-20:],
             "samples: exactly the last 20 lines that fed it, oldest first")
        t.eq({s.get("input") for s in x.get("samples", [])}, {"secure"}, "samples' input")
        t.eq((x.get("sample_bytes"), x.get("source"), x.get("state"), x.get("value"),
              x.get("threshold"), x.get("above")),
             (240, "live", "firing", 127, 10, True), "explanation fields")
        series = x.get("series") or []
        vals = [p[1] for p in series]
        t.check(len(series) == 300 and vals[-1] == 127 and
                vals == sorted(vals, key=lambda v: -1 if v is None else v),
                "series: null before the burst, then rising to 127", repr(series[-3:]))
        t.eq([h.get("state") for h in x.get("history", [])], ["firing"], "history: firing")
        n = x.get("notifications") or [{}]
        t.eq((n[0].get("sink"), n[0].get("status"), n[0].get("outcome")),
             ("hook", "firing", "sent"), "the webhook's notification, sent")
        for bad, why in (("0000000000000000", "unknown"), ("xyz", "malformed")):
            code, body = request(port, f"/api/alerts/{bad}")
            t.check(code == 404 and isinstance(body, dict) and body.get("error"),
                    f"{why} fingerprint: 404", repr((code, body)))

        # `logwarden explain` from the running daemon.
        for args in ([fp], ["SshBruteForce", f"ip={attacker}"]):
            r = e2e.run([binary, "explain", "-c", config, *args])
            t.check(r.returncode == 0, f"explain {' '.join(args)}: exit 0", r.stderr)
            t.check("from the running daemon" in r.stdout and all(l in r.stdout
                                                                for l in fed[-20:]),
                    f"explain {' '.join(args)}: from the daemon, with the lines", r.stdout)
        r = e2e.run([binary, "explain", "-c", config, "NoSuchAlert"])
        t.eq(r.returncode, 1, "explain of an unknown alert: exit 1")
        r = e2e.run([binary, "explain", "-c", config, "SshBruteForce", "host=x"])
        t.eq(r.returncode, 2, "explain with a label the alert does not group by: exit 2")
        r = e2e.run([binary, "explain"])
        t.eq(r.returncode, 2, "explain without arguments: exit 2")
    finally:
        t.eq(d.stop(timeout=15), 0, "SIGTERM: exit 0")
        rx.stop()

    # From the state file, once the daemon has stopped.
    r = e2e.run([binary, "explain", "-c", config, "SshBruteForce", f"ip={attacker}"])
    t.check(r.returncode == 0, "explain after stop: exit 0", r.stderr)
    out_lines = [l.split("] ", 1)[1] for l in r.stdout.split("\n") if "[secure] " in l]
    t.check("from the state file" in r.stdout and out_lines == fed[-20:],
            "explain after stop: from the state file, the same 20 lines", r.stdout)
    t.check(re.search(r"\n  \S+  firing +value ", r.stdout), "... and its history", r.stdout)

    # Migration 5 -> 6: the same file as schema 5 had it.
    db = sqlite3.connect(td.join("state.db"))
    db.executescript("DROP TABLE alert_history; DROP TABLE alert_explain; "
                     "UPDATE schema_version SET version = 5;")
    states = db.execute("SELECT count(*) FROM alert_states").fetchone()[0]
    db.close()
    r = e2e.run([binary, "explain", "-c", config, fp])
    t.check(r.returncode == 1, "a schema-5 file: migrated, and it has no explanation (exit 1)",
            r.stdout + r.stderr)
    db = sqlite3.connect(td.join("state.db"))
    t.eq(db.execute("SELECT max(version) FROM schema_version").fetchone()[0], 6,
         "migrated to schema 6")
    t.eq(db.execute("SELECT count(*) FROM alert_states").fetchone()[0], states,
         "its alert states kept")
    t.eq(db.execute("SELECT count(*) FROM alert_history").fetchone()[0], 0,
         "alert_history made, empty")
    db.close()
    t.check(states > 0, "there were states to keep")
    td.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
