#!/usr/bin/env python3
"""test_syslog_logger.py: util-linux `logger` as the sender, over every transport the syslog
input listens on (UDP, TCP with newline framing, TCP with octet counting, unix datagram, unix
stream), in RFC 5424 and RFC 3164: every field the sender set arrives, and rules see it.

Each transport gets one RFC 5424 message (`--sd-id origin@32473 --sd-param zone="eu-1" --sd-id
meta --sd-param sequenceId="7" --msgid LOGIN --id=4242 -t probeapp -p local3.warning`; logger
adds `[timeQuality tzKnown="1" ...]` itself) and one RFC 3164 message (`--id=4243 -t app3164
-p auth.err`). Two alerts carry the fields as labels, delivered to a webhook Receiver:
- Fields groups by host, app, procid, msgid, facility, syslog_severity and source_ip;
- Zoned reads an event whose `where:` tests sd.origin@32473.zone and sd.timeQuality.tzKnown,
  whose `fields:` types sd.meta.sequenceId as int, groups by the sd.* fields and sums
  sd.meta.sequenceId; its annotation template names sd.origin@32473.zone.
So sd.* names work in where, fields, group_by, values and templates, end to end.

source_ip (the peer's address; the socket's path for unix sockets) is set by the listeners:
datagrams (UDP, unix datagram) by issue 15's part C, stream connections (TCP, unix stream) by
part D. Until one is merged, its flag below is False and only its source_ip asserts are
reported as expected failures (XFAIL; XPASS when the value is already right): flip it to True
once it is.

usage: test_syslog_logger.py PATH/TO/logwarden
"""

import os
import socket
import subprocess

import e2e

SOURCE_IP_DATAGRAMS = False  # part C (i15-udp): udp, unixgram
SOURCE_IP_STREAMS = True     # part D (i15-tcp): tcp, octet, unixstream

RULES = r"""
events:
  - name: probe
    match: 'probe (?<probe>\S+)'
  - name: zoned
    match: 'probe (?<probe>\S+)'
    where: 'sd.origin@32473.zone == "eu-1" and sd.timeQuality.tzKnown == "1"'
    fields: {sd.meta.sequenceId: int}
alerts:
  - name: Fields
    event: probe
    group_by: [probe, host, app, procid, msgid, facility, syslog_severity, source_ip]
    window: 5m
    count: {above: 0}
  - name: Zoned
    event: zoned
    group_by: [probe, sd.origin@32473.zone, sd.timeQuality.tzKnown]
    window: 5m
    sum: {field: sd.meta.sequenceId, above: 6}
    annotations:
      summary: 'zone {{ sd.origin@32473.zone }}, sequence {{ value }}'
"""

SD_ARGS = ["--sd-id", "origin@32473", "--sd-param", 'zone="eu-1"', "--sd-id", "meta",
           "--sd-param", 'sequenceId="7"']


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("syslog-logger")
    rx = e2e.Receiver()
    udp, tcp, octet, http = e2e.free_port(), e2e.free_port(), e2e.free_port(), e2e.free_port()
    dgram, stream = d.join("dgram.sock"), d.join("stream.sock")
    d.write("rules.yaml", RULES)
    cfg = d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{http}}}
rules: [rules.yaml]
inputs:
  - name: sys
    type: syslog
    listen: [udp://127.0.0.1:{udp}, tcp://127.0.0.1:{tcp}, tcp://127.0.0.1:{octet},
             'unix://{dgram}', 'unix-stream://{stream}']
sinks: [{{name: hook, type: webhook, url: '{rx.url("/alerts")}'}}]
notify: {{group_wait: 0s}}
""")
    # transport -> (logger's connection arguments, the source_ip the record must carry)
    transports = {
        "udp": (["-d", "-n", "127.0.0.1", "-P", str(udp)], "127.0.0.1"),
        "tcp": (["-T", "-n", "127.0.0.1", "-P", str(tcp)], "127.0.0.1"),
        "octet": (["-T", "--octet-count", "-n", "127.0.0.1", "-P", str(octet)], "127.0.0.1"),
        "unixgram": (["-d", "-u", dgram], dgram),
        "unixstream": (["-T", "-u", stream], stream),
    }
    host = socket.gethostname()
    daemon = e2e.Daemon(binary, cfg, d.path)
    try:
        c.check(e2e.wait_for(lambda: e2e.metrics(http), 15), "daemon serves /metrics",
                daemon.stderr())
        c.check(e2e.wait_for(lambda: os.path.exists(dgram) and os.path.exists(stream), 10),
                "unix sockets are bound", daemon.stderr())
        for name, (conn, _) in transports.items():
            for args in (["--rfc5424"] + SD_ARGS + ["--msgid", "LOGIN", "--id=4242", "-t",
                                                    "probeapp", "-p", "local3.warning"],
                         ["--rfc3164", "--id=4243", "-t", "app3164", "-p", "auth.err"]):
                kind = "5424" if "--rfc5424" in args else "3164"
                r = subprocess.run(["logger"] + conn + args + [f"probe {name}-{kind}"],
                                   capture_output=True, text=True, timeout=10)
                c.eq(r.returncode, 0, f"logger {name} {kind} exits 0 {r.stderr.strip()}")

        def fired(alert):
            return {a["labels"].get("probe"): a for _, a in rx.alerts(status="firing",
                                                                       alert=alert)}
        got = e2e.wait_for(lambda: (lambda f: f if len(f) >= 10 else None)(fired("Fields")), 20)
        c.check(got, "Fields fires for the 10 messages",
                f"{sorted(fired('Fields'))}\n{e2e.tail(daemon.stderr())}")
        fields = fired("Fields")
        zoned = e2e.wait_for(lambda: (lambda f: f if len(f) >= 5 else None)(fired("Zoned")), 10)
        c.check(zoned, "Zoned fires for the 5 RFC 5424 messages", f"{sorted(fired('Zoned'))}")
        zoned = fired("Zoned")
        for name, (_, source) in transports.items():
            a = (fields.get(f"{name}-5424") or {}).get("labels", {})
            c.eq(a.get("host"), host, f"{name} 5424: host")
            c.eq(a.get("app"), "probeapp", f"{name} 5424: app (-t)")
            c.eq(a.get("procid"), "4242", f"{name} 5424: procid (--id)")
            c.eq(a.get("msgid"), "LOGIN", f"{name} 5424: msgid (--msgid)")
            c.eq(a.get("facility"), "local3", f"{name} 5424: facility (-p local3.warning)")
            c.eq(a.get("syslog_severity"), "warning", f"{name} 5424: severity")
            b = (fields.get(f"{name}-3164") or {}).get("labels", {})
            c.eq(b.get("host"), host, f"{name} 3164: host")
            c.eq(b.get("app"), "app3164", f"{name} 3164: app (TAG)")
            c.eq(b.get("procid"), "4243", f"{name} 3164: procid (TAG[PID])")
            c.eq(b.get("msgid"), "", f"{name} 3164: no msgid")
            c.eq(b.get("facility"), "auth", f"{name} 3164: facility (-p auth.err)")
            c.eq(b.get("syslog_severity"), "err", f"{name} 3164: severity")
            merged = SOURCE_IP_DATAGRAMS if name in ("udp", "unixgram") else SOURCE_IP_STREAMS
            flag = "SOURCE_IP_DATAGRAMS" if name in ("udp", "unixgram") else "SOURCE_IP_STREAMS"
            for kind, labels in (("5424", a), ("3164", b)):
                what = f"{name} {kind}: source_ip"
                if merged:
                    c.eq(labels.get("source_ip"), source, what)
                elif labels.get("source_ip") != source:
                    print(f"XFAIL {what}: {labels.get('source_ip')!r} != {source!r} "
                          f"(until {flag} is True)")
                else:
                    print(f"XPASS {what}: set {flag} = True")
            z = zoned.get(f"{name}-5424") or {}
            zl = z.get("labels", {})
            c.eq(zl.get("sd.origin@32473.zone"), "eu-1", f"{name}: sd.origin@32473.zone label")
            c.eq(zl.get("sd.timeQuality.tzKnown"), "1", f"{name}: sd.timeQuality.tzKnown label")
            c.eq(z.get("value"), 7, f"{name}: sum of sd.meta.sequenceId (typed int)")
            c.eq((z.get("annotations") or {}).get("summary"), "zone eu-1, sequence 7",
                 f"{name}: annotation template with an sd.* name")
            c.check(f"{name}-3164" not in zoned, f"{name}: a 3164 message has no sd.* fields")
        m = e2e.metrics(http)
        c.eq(m.get('logwarden_input_malformed_total{input="sys"}'), 0.0, "nothing malformed")
    finally:
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")
        rx.stop()
        if c.failed:
            print(e2e.tail(daemon.stderr()))
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
