#!/usr/bin/env python3
"""test_syslog_formats.py: what a syslog input does with the message inside the envelope, and
with lines that are not syslog at all.

- `format: json` on a syslog input decodes the message after the syslog envelope (logger
  --rfc5424 and --rfc3164 with a JSON message, and the exact line Docker's syslog log driver
  sends with syslog-format=rfc5424): JSON keys are fields next to the syslog labels;
- `format: logfmt` likewise for logfmt messages;
- `format: raw` keeps the line unparsed: the rule sees "<PRI>..." and no syslog label is set;
- `format: syslog+json` on a file input (a /var/log/syslog whose messages are JSON), in replay;
- garbage and binary lines over UDP and TCP are not syslog: each is kept whole as a raw record
  (a rule anchored on the whole line matches it, at its arrival time: the alert fires live),
  counted in logwarden_input_malformed_total{input} and malformed_records_total, and said in
  the log; nothing is dropped, and a well-formed message after them still decodes.

usage: test_syslog_formats.py PATH/TO/logwarden
"""

import datetime
import socket
import subprocess

import e2e

RULES = r"""
events:
  - name: jsonerr
    inputs: [json]
    where: 'level == "error"'
    fields: {status: int}
  - name: logfmtwarn
    inputs: [logfmt]
    where: 'level == "warn"'
  - name: rawline
    inputs: [raw]
    match: '^<(?<pri>\d+)>.*RAWPROBE'
  - name: garbage
    inputs: [garb]
    match: '^(?<text>(?:junk|\x00\x01\xff|\x01\x02\xff) GARBAGE-(?<n>\d+)(?: \S+)?)$'
  - name: fine
    inputs: [garb]
    match: 'FINE-(?<n>\d+)'
alerts:
  - name: JsonError
    event: jsonerr
    group_by: [app, level, status, user.name, msgid]
    window: 5m
    count: {above: 0}
  - name: LogfmtWarn
    event: logfmtwarn
    group_by: [app, level, user]
    window: 5m
    count: {above: 0}
  - name: Raw
    event: rawline
    group_by: [pri, app, host]
    window: 5m
    count: {above: 0}
  - name: Garbage
    event: garbage
    group_by: [n, app]
    window: 5m
    count: {above: 0}
  - name: Fine
    event: fine
    group_by: [n, app]
    window: 5m
    count: {above: 0}
"""


def logger(args, msg):
    return subprocess.run(["logger"] + args + [msg], capture_output=True, text=True, timeout=10)


def send_tcp(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)


def send_udp(port, data):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, ("127.0.0.1", port))


def labels_of(rx, alert):
    return [a["labels"] for _, a in rx.alerts(status="firing", alert=alert)]


def live(c, binary, d):
    rx = e2e.Receiver()
    pj, pl, pr, gu, gt, http = (e2e.free_port() for _ in range(6))
    d.write("rules.yaml", RULES)
    cfg = d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{http}}}
rules: [rules.yaml]
inputs:
  - {{name: json, type: syslog, format: json, listen: [udp://127.0.0.1:{pj}]}}
  - {{name: logfmt, type: syslog, format: logfmt, listen: [udp://127.0.0.1:{pl}]}}
  - {{name: raw, type: syslog, format: raw, listen: [udp://127.0.0.1:{pr}]}}
  - {{name: garb, type: syslog, listen: [udp://127.0.0.1:{gu}, tcp://127.0.0.1:{gt}]}}
sinks: [{{name: hook, type: webhook, url: '{rx.url("/alerts")}'}}]
notify: {{group_wait: 0s}}
""")
    daemon = e2e.Daemon(binary, cfg, d.path)
    try:
        c.check(e2e.wait_for(lambda: e2e.metrics(http), 15), "daemon serves /metrics",
                daemon.stderr())
        udp = ["-d", "-n", "127.0.0.1"]
        r = logger(udp + ["-P", str(pj), "--rfc5424", "--msgid", "REQ", "-t", "api"],
                   '{"level":"error","status":503,"user":{"name":"ann"}}')
        c.eq(r.returncode, 0, "logger --rfc5424 with a JSON message")
        logger(udp + ["-P", str(pj), "--rfc3164", "-t", "api3164"],
               '{"level":"error","status":502,"user":{"name":"bob"}}')
        logger(udp + ["-P", str(pj), "--rfc3164", "-t", "quiet"], '{"level":"info","status":200}')
        # Docker's syslog log driver, syslog-format=rfc5424 (daemon/logger/syslog): the tag
        # (the container's name by default) is APP-NAME and MSGID, the JSON line the message.
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        send_udp(pj, f'<27>1 {now} dockerhost web 4711 web - '
                     '{"level":"error","status":500,"user":{"name":"cy"}}'.encode())
        logger(udp + ["-P", str(pl), "--rfc3164", "-t", "worker"], "level=warn user=dee msg=\"slow job\"")
        logger(udp + ["-P", str(pl), "--rfc3164", "-t", "worker"], "level=info user=eve")
        logger(udp + ["-P", str(pr), "--rfc3164", "-t", "rawapp", "-p", "user.notice"], "RAWPROBE 1")
        # Not syslog: text and binary, over UDP and TCP (newline-framed; a NUL between TCP
        # messages is a separator, so the binary line there starts with \x01), then a good
        # message on the same connection.
        send_udp(gu, b"junk GARBAGE-1")
        send_udp(gu, b"\x00\x01\xff GARBAGE-2")
        send_tcp(gt, b"junk GARBAGE-3 tcp\n\x01\x02\xff GARBAGE-4 \xfe\n<13>okapp: FINE-1\n")

        want = {"JsonError": 3, "LogfmtWarn": 1, "Raw": 1, "Garbage": 4, "Fine": 1}
        e2e.wait_for(lambda: all(len(labels_of(rx, a)) >= n for a, n in want.items()), 20)
        for a, n in want.items():
            c.eq(len(labels_of(rx, a)), n, f"{a} fires {n} time(s)")
        js = sorted(labels_of(rx, "JsonError"), key=lambda x: x.get("status", ""))
        c.eq([(x.get("app"), x.get("status"), x.get("user.name"), x.get("msgid")) for x in js],
             [("web", "500", "cy", "web"), ("api3164", "502", "bob", ""),
              ("api", "503", "ann", "REQ")],
             "format: json on syslog: JSON fields (typed, nested) next to the syslog labels")
        c.eq([(x.get("app"), x.get("user")) for x in labels_of(rx, "LogfmtWarn")],
             [("worker", "dee")], "format: logfmt on syslog: logfmt fields and the app label")
        c.eq([(x.get("pri"), x.get("app"), x.get("host")) for x in labels_of(rx, "Raw")],
             [("13", "", "")], "format: raw on syslog: the line unparsed, no syslog labels")
        c.eq(sorted(x.get("n") for x in labels_of(rx, "Garbage")), ["1", "2", "3", "4"],
             "garbage and binary lines over UDP and TCP reach a rule on their whole raw text")
        c.eq([x.get("app") for x in labels_of(rx, "Garbage")], [""] * 4,
             "a line that is not syslog has no syslog labels")
        c.eq([x.get("app") for x in labels_of(rx, "Fine")], ["okapp"],
             "a message after garbage on the same connection decodes")
        m = e2e.wait_for(lambda: (lambda m: m if m.get(
            'logwarden_input_malformed_total{input="garb"}') == 4 else None)(e2e.metrics(http)), 10)
        m = m or e2e.metrics(http)
        c.eq(m.get('logwarden_input_malformed_total{input="garb"}'), 4.0,
             "logwarden_input_malformed_total{input=garb} counts the 4 lines")
        c.eq(m.get('logwarden_input_malformed_total{input="json"}'), 0.0,
             "no malformed line on the json input")
        c.check(m.get("logwarden_malformed_records_total", 0) >= 4,
                "malformed_records_total moved too", repr(m.get("logwarden_malformed_records_total")))
        c.eq(m.get('logwarden_input_lines_total{input="garb"}'), 5.0, "all 5 lines read, none lost")
        c.check("[input:garb]" in daemon.stderr() and "did not decode as syslog" in daemon.stderr(),
                "the log says lines did not decode, naming the input", e2e.tail(daemon.stderr()))
    finally:
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")
        rx.stop()


def replay_file(c, binary, d):
    """format: syslog+json on a file input: rsyslog's file lines whose messages are JSON."""
    d.write("file-rules.yaml", r"""
events:
  - name: e
    where: 'level == "error"'
alerts:
  - name: FileJson
    event: e
    group_by: [host, app, procid, code]
    window: 5m
    count: {above: 0}
""")
    log = d.write("syslog.log",
                  '2024-03-10T06:55:46.000000+00:00 web1 api[77]: {"level":"error","code":"E1"}\n'
                  'Mar 10 06:55:47 web1 api[77]: {"level":"info","code":"I1"}\n'
                  'not syslog {"level":"error","code":"E2"}\n')
    cfg = d.write("file.yaml", f"""
state: ./file.db
rules: [file-rules.yaml]
inputs:
  - {{name: f, type: file, paths: ['{log}'], format: syslog+json}}
""")
    r = e2e.run([binary, "replay", "-c", cfg, "--input", "f", log])
    c.eq(r.returncode, 0, "replay of a syslog+json file exits 0")
    out, bad = e2e.parse_json_lines(r.stdout)
    firing = [a["labels"] for a in out if a.get("status") == "firing"]
    c.eq([(x.get("host"), x.get("app"), x.get("procid"), x.get("code")) for x in firing],
         [("web1", "api", "77", "E1")],
         "syslog+json on a file: envelope labels and JSON fields; a line that is not syslog is "
         "not decoded as JSON")
    c.check("1 malformed" in r.stderr, "replay counts the line that is not syslog", r.stderr)
    r = e2e.run([binary, "check", "-c", d.write("bad.yaml", cfg_text_bad(log))])
    c.eq(r.returncode, 2, "check: an unknown format is refused")
    c.check("syslog+json" in r.stdout + r.stderr, "the message lists the syslog+ formats",
            r.stdout + r.stderr)


def check_sd_names(c, binary, d):
    """`check` takes sd.* names on events that read syslog, and refuses them (FILE:LINE:COL,
    where the field comes from) on events that read only raw files."""
    d.write("sd-rules.yaml", r"""
events:
  - name: zoned
    inputs: [sys]
    match: 'login'
    where: 'sd.origin@32473.zone == "eu-1"'
  - name: nozone
    inputs: [app]
    match: 'login'
    where: 'sd.origin@32473.zone == "eu-1"'
alerts:
  - {name: Z, event: zoned, group_by: [sd.origin@32473.zone], window: 5m, count: {above: 0}}
""")
    cfg = d.write("sd.yaml", f"""
rules: [sd-rules.yaml]
inputs:
  - {{name: sys, type: syslog, listen: ['udp://127.0.0.1:{e2e.free_port()}']}}
  - {{name: app, type: file, paths: ['{d.join("app.log")}']}}
""")
    r = e2e.run([binary, "check", "-c", cfg])
    out = r.stdout + r.stderr
    c.eq(r.returncode, 2, "check: an sd.* field on an event reading only a raw file is refused")
    c.check("sd-rules.yaml:10:13:" in out and "field 'sd.origin@32473.zone' is never set" in out
            and "RFC 5424 structured data" in out, "... at FILE:LINE:COL, saying where sd.* "
            "fields come from", out)
    c.eq(out.count("sd.origin@32473.zone' is never set"), 1,
         "the events that read syslog are not reported")


def cfg_text_bad(log):
    return f"""
rules: []
inputs:
  - {{name: f, type: file, paths: ['{log}'], format: syslog+xml}}
"""


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("syslog-formats")
    try:
        live(c, binary, d)
        replay_file(c, binary, d)
        check_sd_names(c, binary, d)
    finally:
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
