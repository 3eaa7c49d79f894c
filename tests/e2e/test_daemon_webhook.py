#!/usr/bin/env python3
"""test_daemon_webhook.py: the daemon end to end: file input -> count alert -> webhook sink.

The shared loopback receiver (e2e.Receiver, 127.0.0.1, ephemeral port) records
every POST. The daemon tails a temporary log from the beginning; the
test appends failed ssh logins (5 from one IP, 2 from another) and waits for
the webhook to deliver `{"alerts": [...]}` with the firing alert of the first
IP only. A second run has the receiver answer 500 twice before 200: the alert
must be retried, not dropped. Each run ends with SIGTERM and exit code 0.

usage: test_daemon_webhook.py PATH/TO/logwarden
"""

import os
import time

import e2e

IP_HOT = "203.0.113.7"     # 5 failures: above 3, fires
IP_COLD = "198.51.100.23"  # 2 failures: never fires
TOKEN = "e2e-s3cret-4f1b"  # goes through ${LW_E2E_TOKEN}; must never be logged
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

RULES = r"""
events:
  - name: ssh_failed_login
    match: 'Failed password for (?:invalid user )?(?<user>\S+) from (?<ip>\S+)'

alerts:
  - name: SshBruteForce
    event: ssh_failed_login
    group_by: [ip]
    window: 1m
    count: {above: 3}
    severity: critical
    labels: {team: security}
    annotations:
      summary: '{{ value }} failed logins from {{ ip }}'
"""

CONFIG = """
state: {state}
rules:
  - rules/*.yaml
inputs:
  - name: auth
    type: file
    paths: [{log}]
    start_at: beginning
sinks:
  - name: hook
    type: webhook
    url: http://127.0.0.1:{port}/alerts
    headers: {{Authorization: "Bearer ${{LW_E2E_TOKEN}}"}}
notify:
  group_wait: 0s
"""


alerts_of = e2e.alerts_of


def find_alert(requests, ip, status="firing", code=None):
    """The first (request, alert) with this ip label and status, optionally only in
    requests the receiver answered with `code`."""
    for req in requests:
        if code is not None and req["code"] != code:
            continue
        for a in alerts_of(req):
            labels = a.get("labels") or {}
            if labels.get("ip") == ip and a.get("status") == status:
                return req, a
    return None


def failed_line(ip, user, pid):
    """One sshd line as syslog writes it, stamped now (local time, day space-padded)."""
    now = time.localtime()
    stamp = f"{MONTHS[now.tm_mon - 1]} {now.tm_mday:2d} {time.strftime('%H:%M:%S', now)}"
    return (f"{stamp} e2e-host sshd[{pid}]: Failed password for invalid user {user} "
            f"from {ip} port {40000 + pid % 20000} ssh2\n")


def start(binary, td, port):
    state = td.join("state", "logwarden.db")
    os.makedirs(os.path.dirname(state), exist_ok=True)
    log = td.join("auth.log")
    open(log, "w").close()
    td.write("rules/ssh.yaml", RULES)
    config = td.write("logwarden.yaml", CONFIG.format(state=state, log=log, port=port))
    env = dict(os.environ, LW_E2E_TOKEN=TOKEN)
    return e2e.Daemon(binary, config, td.path, env=env), log


def append_attack(log):
    """5 failures from IP_HOT and 2 from IP_COLD, interleaved, one write per line."""
    order = [IP_HOT, IP_COLD, IP_HOT, IP_HOT, IP_COLD, IP_HOT, IP_HOT]
    with open(log, "a") as f:
        for i, ip in enumerate(order):
            f.write(failed_line(ip, f"user{i}", 3000 + i))
            f.flush()


def dead_or(daemon, fn):
    """Condition for wait_for: fn()'s value, or "dead" once the daemon has exited."""
    def cond():
        v = fn()
        if v:
            return v
        return None if daemon.alive() else "dead"
    return cond


def stop_and_check(t, daemon, label):
    code = daemon.stop(timeout=10)
    t.check(code == 0, f"{label}: SIGTERM -> exit 0 within 10 s",
            f"exit code: {code} (None = did not exit, killed)\nstderr:\n{e2e.tail(daemon.stderr())}")
    t.check(TOKEN not in daemon.stderr() and TOKEN not in daemon.stdout(),
            f"{label}: the header secret never appears in the daemon's output",
            e2e.tail(daemon.stderr()))


def test_fires_once_for_hot_ip(t, binary):
    rx = e2e.Receiver()
    td = e2e.TempDir("webhook")
    daemon, log = start(binary, td, rx.port)
    try:
        append_attack(log)
        got = e2e.wait_for(dead_or(daemon, lambda: find_alert(rx.snapshot(ok_only=False), IP_HOT)),
                           15)
        if got == "dead" or not got:
            t.check(False, "webhook receives the firing alert for the hot IP within 15 s",
                    f"daemon alive: {daemon.alive()}, exit: {daemon.proc.poll()}\n"
                    f"requests: {[r['body'][:300] for r in rx.snapshot(ok_only=False)]}\n"
                    f"stderr:\n{e2e.tail(daemon.stderr())}")
            return
        req, alert = got
        t.check(True, "webhook receives the firing alert for the hot IP within 15 s")
        t.eq(req["path"], "/alerts", "POST goes to the configured URL path")
        t.check(isinstance(req["json"], dict) and list(req["json"].keys()) == ["alerts"],
                'body is {"alerts": [...]}', req["body"][:500])
        ctype = {k.lower(): v for k, v in req["headers"].items()}.get("content-type", "")
        t.check("application/json" in ctype, "Content-Type is application/json", ctype)
        auth = {k.lower(): v for k, v in req["headers"].items()}.get("authorization")
        t.eq(auth, f"Bearer {TOKEN}", "configured header sent, ${VAR} taken from the environment")
        labels = alert.get("labels") or {}
        t.eq(alert.get("alert"), "SshBruteForce", "alert name")
        t.eq(labels.get("alert"), "SshBruteForce", "labels.alert")
        t.eq(labels.get("severity"), "critical", "labels.severity")
        t.eq(labels.get("team"), "security", "rule labels are alert labels")
        t.eq(labels.get("ip"), IP_HOT, "labels.ip is the group")
        value = alert.get("value")
        t.check(isinstance(value, (int, float)) and 3 < value <= 5,
                "value is the count when it fired (4 or 5)", f"value: {value!r}")
        t.eq((alert.get("annotations") or {}).get("summary"),
             f"{value if not isinstance(value, float) or not value.is_integer() else int(value)}"
             f" failed logins from {IP_HOT}", "annotation template rendered")
        t.check(isinstance(alert.get("fingerprint"), str) and alert.get("fingerprint"),
                "fingerprint is a non-empty string", repr(alert.get("fingerprint")))
        t.check(isinstance(alert.get("starts_at"), str) and alert.get("ends_at") is None,
                "firing: starts_at set, ends_at null",
                f"starts_at={alert.get('starts_at')!r} ends_at={alert.get('ends_at')!r}")
        t.eq(alert.get("window"), "1m", "window")
        t.eq(alert.get("generator"), "logwarden", "generator")

        # The cold IP never crosses the threshold: give the daemon a bounded
        # chance to (wrongly) send it, expecting the wait to run out.
        cold = e2e.wait_for(lambda: [a for r in rx.snapshot(ok_only=False) for a in alerts_of(r)
                                     if (a.get("labels") or {}).get("ip") == IP_COLD], 2.0)
        t.check(not cold, "no alert for the IP with only 2 failures",
                "\n".join(r["body"].decode("utf-8", "replace")[:400]
                          for r in rx.snapshot(ok_only=False)))
        firing_hot = [a for r in rx.snapshot(ok_only=False) for a in alerts_of(r)
                      if (a.get("labels") or {}).get("ip") == IP_HOT and a.get("status") == "firing"]
        t.eq(len(firing_hot), 1, "the hot IP's firing alert is delivered once")
    finally:
        stop_and_check(t, daemon, "webhook")
        rx.stop()
        td.cleanup()


def test_retry_after_500(t, binary):
    rx = e2e.Receiver(script=[500, 500])
    td = e2e.TempDir("webhook-retry")
    daemon, log = start(binary, td, rx.port)
    try:
        append_attack(log)
        got = e2e.wait_for(dead_or(daemon, lambda: find_alert(rx.snapshot(ok_only=False), IP_HOT,
                                                              code=200)), 60)
        reqs = rx.snapshot(ok_only=False)
        if got == "dead" or not got:
            t.check(False, "after two 500s the alert is retried and accepted within 60 s",
                    f"daemon alive: {daemon.alive()}, exit: {daemon.proc.poll()}\n"
                    f"requests (code, body): {[(r['code'], r['body'][:200]) for r in reqs]}\n"
                    f"stderr:\n{e2e.tail(daemon.stderr())}")
            return
        _, alert = got
        t.check(True, "after two 500s the alert is retried and accepted within 60 s")
        failed = [r for r in reqs if r["code"] == 500]
        t.eq(len(failed), 2, "the receiver answered 500 twice before")
        fps = {a.get("fingerprint") for r in failed for a in alerts_of(r)
               if (a.get("labels") or {}).get("ip") == IP_HOT}
        t.check(fps == {alert.get("fingerprint")},
                "the refused requests carried the same alert (a retry, not a new one)",
                f"refused: {fps}, accepted: {alert.get('fingerprint')}")
    finally:
        stop_and_check(t, daemon, "retry")
        rx.stop()
        td.cleanup()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    test_fires_once_for_hot_ip(t, binary)
    test_retry_after_500(t, binary)
    t.finish()


if __name__ == "__main__":
    main()
