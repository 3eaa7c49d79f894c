#!/usr/bin/env python3
"""syslog_tls.py: syslog over TLS into a fresh daemon, against plain TCP in the same run.

    bench/syslog_tls.py BINARY [MESSAGES [CONNECTIONS]]     (default 1000000 over 4)

One daemon listens on tcp:// and tls:// (certificates made with the openssl CLI in a temporary
folder, client_auth: none). Each run sends MESSAGES octet-counted RFC 5424 messages (half sshd
failures a rule matches, half other lines) over CONNECTIONS connections, each its share in one
write (Python's ssl module on the TLS side); the time is from the first byte sent to the
daemon's logwarden_records_total having grown by MESSAGES (every message decoded and through the
rules). TCP first, then TLS; prints messages/s for each and the TLS cost in CPU of the daemon
(from /proc/PID/stat) per message. Loss shows as a count below MESSAGES.
"""

import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import e2e  # noqa: E402
import tlskit  # noqa: E402

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
  - name: sys
    type: syslog
    listen: [tcp://127.0.0.1:{tcp}, tls://127.0.0.1:{tls}]
    tls: {{cert: pki/srv.crt, key: pki/srv.key}}
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


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def run(kind, port, ctx, blobs, http, pid):
    records = "logwarden_records_total"
    base = e2e.metrics(http).get(records, 0)
    total = sum(n for _, n in blobs)
    socks = []
    for _ in blobs:
        s = socket.create_connection(("127.0.0.1", port))
        if ctx:
            s = ctx.wrap_socket(s, server_hostname="localhost")
        socks.append(s)
    ticks0 = cpu_ticks(pid)
    t0 = time.monotonic()
    threads = [threading.Thread(target=s.sendall, args=(b,)) for s, (b, _) in zip(socks, blobs)]
    for t in threads:
        t.start()
    e2e.wait_for(lambda: e2e.metrics(http).get(records, 0) - base >= total, 600, 0.02)
    dt = time.monotonic() - t0
    ticks = cpu_ticks(pid) - ticks0
    got = e2e.metrics(http).get(records, 0) - base
    for t in threads:
        t.join()
    for s in socks:
        s.close()
    hz = os.sysconf("SC_CLK_TCK")
    print(f"{kind:4} {int(got):>9} of {total} messages in {dt:6.2f} s: {got / dt:>10,.0f} msg/s, "
          f"daemon CPU {ticks / hz:5.2f} s ({ticks / hz / max(got, 1) * 1e6:.2f} us/msg)")
    return got == total


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    tmp = e2e.TempDir("bench-syslog-tls")
    daemon = None
    try:
        pki = tlskit.Pki(tmp.join("pki"))
        pki.ca("ca", "bench CA")
        pki.cert("srv", "ca", "localhost", "1001", server=True)
        tmp.write("rules.yaml", RULES)
        http, tcp, tls = e2e.free_port(), e2e.free_port(), e2e.free_port()
        cfg = tmp.write("logwarden.yaml", CONFIG.format(http=http, tcp=tcp, tls=tls))
        daemon = e2e.Daemon(binary, cfg, tmp.path)
        e2e.wait_for(lambda: e2e.metrics(http), 20)
        per = n // conns
        blobs = [(blob(k, per), per) for k in range(conns)]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(pki.path("ca.crt"))
        ok = run("tcp", tcp, None, blobs, http, daemon.proc.pid)
        ok &= run("tls", tls, ctx, blobs, http, daemon.proc.pid)
        sys.exit(0 if ok else 1)
    finally:
        if daemon:
            daemon.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
