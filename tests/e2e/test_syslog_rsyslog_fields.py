#!/usr/bin/env python3
"""test_syslog_rsyslog_fields.py: what a sender said survives rsyslog forwarding it to logwarden
with the omfwd action docs/inputs.md gives (TCP, octet counting, RFC 5424 template, a queue that
retries): rsyslog, started by the test unprivileged-style on loopback (its own config, work
directory and pid file), receives util-linux `logger` messages on imtcp and forwards them.

- an RFC 5424 message with structured data, MSGID and PROCID: host, app, procid, msgid,
  facility, severity and sd.* fields arrive as alert labels;
- an RFC 3164 message `app[PID]: ...`: rsyslog turns it into RFC 5424, PROCID being the PID;
- a multi-element SD with an escaped quote in a value arrives unescaped.

usage: test_syslog_rsyslog_fields.py PATH/TO/logwarden
"""

import os
import shutil
import socket
import subprocess

import e2e

RULES = r"""
events:
  - name: probe
    match: 'probe (?<probe>\S+)'
alerts:
  - name: Fields
    event: probe
    group_by: [probe, host, app, procid, msgid, facility, syslog_severity,
               sd.origin@32473.zone, sd.timeQuality.tzKnown, sd.quote@32473.v]
    window: 5m
    count: {above: 0}
"""

RSYSLOG_CONF = """
global(workDirectory="{d}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{rin}")
# The action as docs/inputs.md gives it, with this test's port:
action(type="omfwd" target="127.0.0.1" port="{lw}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       action.resumeRetryCount="-1" action.resumeInterval="1"
       queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="1"
       queue.filename="fwd" queue.saveOnShutdown="on")
"""


def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    rsyslogd = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd"
                                           if os.access("/usr/sbin/rsyslogd", os.X_OK) else None)
    if not rsyslogd:
        c.check(False, "rsyslogd is installed (.ci/packages/syslog.txt: rsyslog)")
        return c.finish()
    d = e2e.TempDir("syslog-rsyslog-fields")
    rx = e2e.Receiver()
    lw, rin, http = e2e.free_port(), e2e.free_port(), e2e.free_port()
    d.write("rules.yaml", RULES)
    cfg = d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{http}}}
rules: [rules.yaml]
inputs:
  - {{name: sys, type: syslog, listen: [tcp://127.0.0.1:{lw}]}}
sinks: [{{name: hook, type: webhook, url: '{rx.url("/alerts")}'}}]
notify: {{group_wait: 0s}}
""")
    conf = d.write("rsyslog.conf", RSYSLOG_CONF.format(d=d.path, rin=rin, lw=lw))
    daemon = e2e.Daemon(binary, cfg, d.path)
    rs = None
    try:
        c.check(e2e.wait_for(lambda: connects(lw), 15), "logwarden listens", daemon.stderr())
        rs = subprocess.Popen([rsyslogd, "-n", "-f", conf, "-i", d.join("rsyslogd.pid")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, cwd=d.path)
        c.check(e2e.wait_for(lambda: connects(rin) or rs.poll() is not None, 15)
                and rs.poll() is None, "rsyslogd listens on its free port",
                rs.stderr.read().decode() if rs.poll() is not None else "")
        to_rs = ["-T", "-n", "127.0.0.1", "-P", str(rin)]
        sends = [
            ["--rfc5424", "--sd-id", "origin@32473", "--sd-param", 'zone="eu-1"', "--msgid",
             "LOGIN", "--id=4242", "-t", "probeapp", "-p", "local3.warning", "probe r5424"],
            ["--rfc3164", "--id=4243", "-t", "app3164", "-p", "auth.err", "probe r3164"],
            ["--rfc5424", "--sd-id", "quote@32473", "--sd-param", r'v="say \"hi\""',
             "-t", "quoter", "probe rquote"],
        ]
        for args in sends:
            r = subprocess.run(["logger"] + to_rs + args, capture_output=True, text=True,
                               timeout=10)
            c.eq(r.returncode, 0, f"logger to rsyslog: {args[-1]} {r.stderr.strip()}")

        def fired():
            return {a["labels"].get("probe"): a["labels"]
                    for _, a in rx.alerts(status="firing", alert="Fields")}
        e2e.wait_for(lambda: len(fired()) >= 3, 20)
        got = fired()
        c.eq(sorted(got), ["r3164", "r5424", "rquote"], "the three messages arrive through rsyslog")
        host = socket.gethostname()
        a = got.get("r5424", {})
        c.eq((a.get("host"), a.get("app"), a.get("procid"), a.get("msgid")),
             (host, "probeapp", "4242", "LOGIN"), "5424 via rsyslog: host, app, procid, msgid")
        c.eq((a.get("facility"), a.get("syslog_severity")), ("local3", "warning"),
             "5424 via rsyslog: facility, severity")
        c.eq((a.get("sd.origin@32473.zone"), a.get("sd.timeQuality.tzKnown")), ("eu-1", "1"),
             "5424 via rsyslog: structured data")
        b = got.get("r3164", {})
        c.eq((b.get("host"), b.get("app"), b.get("procid"), b.get("facility"),
              b.get("syslog_severity")), (host, "app3164", "4243", "auth", "err"),
             "3164 via rsyslog (forwarded as 5424): host, app, procid from TAG[PID], facility, "
             "severity")
        c.eq(got.get("rquote", {}).get("sd.quote@32473.v"), 'say "hi"',
             "an escaped quote in an SD value arrives unescaped")
        m = e2e.metrics(http)
        c.eq(m.get('logwarden_input_malformed_total{input="sys"}'), 0.0, "nothing malformed")
    finally:
        if rs and rs.poll() is None:
            rs.terminate()
            try:
                rs.wait(timeout=10)
            except subprocess.TimeoutExpired:
                rs.kill()
                rs.wait()
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")
        rx.stop()
        if c.failed:
            print(e2e.tail(daemon.stderr()))
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
