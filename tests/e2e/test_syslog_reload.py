#!/usr/bin/env python3
"""test_syslog_reload.py: syslog from util-linux `logger` (UDP and TCP with octet counting)
reaches rules with its host/app labels; SIGHUP reloads changed rules; a broken reload keeps
the running rules.

usage: test_syslog_reload.py PATH/TO/logwarden
"""

import json
import shutil
import signal
import socket
import subprocess
import time

import e2e

RULES_V1 = r"""
events:
  - name: ssh_fail
    match: 'Failed password for (?:invalid user )?(?<user>\S+) from (?<ip>\S+)'
alerts:
  - name: SshFail
    event: ssh_fail
    group_by: [ip, app]
    window: 1m
    count: {above: 2}
    annotations: {summary: '{{ value }} failures from {{ ip }} via {{ app }}'}
"""

RULES_V2 = RULES_V1 + r"""
  - name: AnyFail
    event: ssh_fail
    window: 1m
    count: {above: 0}
"""

BROKEN = RULES_V2 + """
  - name: Broken
    event: no_such_event
    window: 1m
    count: {above: 0}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
inputs:
  - name: syslog
    type: syslog
    listen: [udp://127.0.0.1:{port}, tcp://127.0.0.1:{port}]
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""


def free_port():
    # A port free for both UDP and TCP right now.
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def alerts(tmp):
    try:
        with open(tmp.join("alerts.jsonl")) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def logger(port, proto, msg, tag="sshd"):
    args = ["logger", "-n", "127.0.0.1", "-P", str(port), "-t", tag, "--rfc5424"]
    args.append("--udp" if proto == "udp" else "--tcp")
    if proto == "tcp":
        args.append("--octet-count")
    subprocess.run(args + [msg], check=True, timeout=10)


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    if not shutil.which("logger"):
        c.check(False, "logger (util-linux) is installed")
        c.finish()
    tmp = e2e.TempDir("syslog")
    port = free_port()
    rules = tmp.write("rules.yaml", RULES_V1)
    cfg = tmp.write("logwarden.yaml", CONFIG.replace("{port}", str(port)))
    d = e2e.Daemon(binary, cfg, tmp.path)
    c.check(e2e.wait_for(lambda: "running" in d.stderr(), 10), "daemon started", d.stderr())

    # UDP then TCP (octet-counted framing), the same attacker: 3 failures > 2.
    logger(port, "udp", "Failed password for root from 198.51.100.9 port 4242 ssh2")
    logger(port, "tcp", "Failed password for invalid user admin from 198.51.100.9 port 4243 ssh2")
    logger(port, "tcp", "Failed password for root from 198.51.100.9 port 4244 ssh2")
    fired = e2e.wait_for(lambda: [a for a in alerts(tmp) if a["alert"] == "SshFail"], 15)
    c.check(fired, "SshFail fired from logger lines over UDP and TCP", e2e.tail(d.stderr()))
    if fired:
        a = fired[0]
        c.eq(a["labels"].get("ip"), "198.51.100.9", "ip captured from the syslog body")
        c.eq(a["labels"].get("app"), "sshd", "app label from the syslog header")
        c.eq(a["value"], 3, "all three messages counted")
        c.eq(a["annotations"].get("summary"), "3 failures from 198.51.100.9 via sshd",
             "annotation rendered")

    # A reload that adds an alert: the new alert works, the old one is not re-announced.
    with open(rules, "w") as f:
        f.write(RULES_V2)
    d.proc.send_signal(signal.SIGHUP)
    c.check(e2e.wait_for(lambda: "reloaded" in d.stderr(), 10), "SIGHUP reloaded the rules",
            e2e.tail(d.stderr()))
    logger(port, "udp", "Failed password for bob from 192.0.2.1 port 1 ssh2")
    any_fail = e2e.wait_for(lambda: [a for a in alerts(tmp) if a["alert"] == "AnyFail"], 15)
    c.check(any_fail, "the alert added by the reload fires")
    ssh = [a for a in alerts(tmp) if a["alert"] == "SshFail" and a["status"] == "firing"]
    c.eq(len(ssh), 1, "the firing alert was not announced again after the reload")

    # A broken reload: errors logged, the running rules keep working.
    with open(rules, "w") as f:
        f.write(BROKEN)
    d.proc.send_signal(signal.SIGHUP)
    c.check(e2e.wait_for(lambda: "reload failed" in d.stderr(), 10),
            "a broken reload is refused and logged", e2e.tail(d.stderr()))
    c.check("rules.yaml:" in d.stderr() and "unknown event 'no_such_event'" in d.stderr(),
            "the reload error names FILE:LINE:COL and the problem")
    before = len(alerts(tmp))
    logger(port, "tcp", "Failed password for eve from 203.0.113.50 port 2 ssh2")
    logger(port, "tcp", "Failed password for eve from 203.0.113.50 port 3 ssh2")
    logger(port, "tcp", "Failed password for eve from 203.0.113.50 port 4 ssh2")
    more = e2e.wait_for(lambda: [a for a in alerts(tmp)[before:]
                                 if a["labels"].get("ip") == "203.0.113.50"], 15)
    c.check(more, "the old rules keep running after a failed reload")
    c.eq(d.stop(), 0, "SIGTERM exits 0")
    tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
