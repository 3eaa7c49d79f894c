#!/usr/bin/env python3
"""syslog_tcp.py: syslog over TCP into a fresh daemon, as fast as the senders can write.

    bench/syslog_tcp.py BINARY [MESSAGES [CONNECTIONS]]     (default 1000000 over 4)

Each connection sends its share of octet-counted RFC 5424 messages (half sshd failures a rule
matches, half other lines) in one write; the time is from the first byte sent to the daemon's
logwarden_records_total reaching MESSAGES (every message through decoding and the rules).
Loss shows as a count below MESSAGES (TCP has none: a full queue pauses reading). For an A/B of
two builds, run both alternately a few times: the spread between runs on a shared machine is
larger than the difference between close builds.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import e2e  # noqa: E402

RULES = r"""
events:
  - name: fail
    match: 'Failed password for (?<user>\S+) from (?<ip>\S+)'
  - name: seq
    match: '^seq (?<n>\d+)'
alerts:
  - name: Brute
    event: fail
    group_by: [ip]
    window: 5m
    count: {above: 1000000000}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: "127.0.0.1:{http}"}}
inputs:
  - {{name: sys, type: syslog, listen: [tcp://127.0.0.1:{port}]}}
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
"""


def blob(k, per):
    out = []
    for i in range(per):
        if i % 2:
            m = (b"<38>1 2026-12-06T07:00:00Z host sshd 123 - - Failed password for root from "
                 b"10.0.%d.%d port 22 ssh2" % ((k * per + i) % 256, i % 256))
        else:
            m = b"<13>1 - host app - - - seq %d" % i
        out.append(b"%d %s" % (len(m), m))
    return b"".join(out)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    per = n // conns
    tmp = e2e.TempDir("bench-syslog-tcp")
    port, http = e2e.free_port(), e2e.free_port()
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("lw.yaml", CONFIG.format(port=port, http=http))
    d = e2e.Daemon(binary, cfg, tmp.path)
    try:
        if not e2e.wait_for(lambda: "running" in d.stderr(), 10):
            sys.exit("the daemon did not start:\n" + d.stderr())
        blobs = [blob(k, per) for k in range(conns)]

        def send(b):
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b)

        def records():
            return int(e2e.metrics(http).get("logwarden_records_total", 0))

        t0 = time.monotonic()
        for th in [threading.Thread(target=send, args=(b,)) for b in blobs]:
            th.start()
        e2e.wait_for(lambda: records() >= per * conns, 300, interval=0.01)
        dt = time.monotonic() - t0
        got = records()
        print(f"{per * conns} messages over {conns} connection(s): {dt:.2f} s, "
              f"{got / dt:,.0f} msg/s, {per * conns - got} missing")
    finally:
        d.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
