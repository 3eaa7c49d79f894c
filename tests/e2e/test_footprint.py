#!/usr/bin/env python3
"""test_footprint.py: the daemon maps only the libraries its config uses.

libcurl (with OpenSSL, Kerberos, LDAP...) is opened when a network sink is configured and
libmicrohttpd (with GnuTLS) when `http:` is (sinks/curl_dl.c, app/mhd_dl.c): several MB of
resident memory a sidecar with a file sink and no HTTP endpoint does not pay for.
1. file input -> count alert -> file sink, no http: the alert reaches the file, and
   /proc/PID/maps shows neither libcurl, libmicrohttpd nor GnuTLS.
2. the same plus http: and a webhook sink (to a loopback receiver): /health answers, the
   alert is POSTed, and both libraries are mapped.

usage: test_footprint.py PATH/TO/logwarden
"""

import json
import os
import urllib.request

import e2e

RULES = r"""
events:
  - name: boom
    match: 'BOOM (?<id>\d+)'
alerts:
  - name: Boom
    event: boom
    window: 1m
    count: {above: 0}
"""

BASE = """
state: {state}
rules: [{rules}]
inputs:
  - name: app
    type: file
    paths: [{log}]
    start_at: beginning
notify:
  group_wait: 0s
sinks:
  - name: archive
    type: file
    path: {out}
"""

NETWORK = """
  - name: hook
    type: webhook
    url: http://127.0.0.1:{hook}/alerts
http:
  listen: 127.0.0.1:{http}
"""


def mapped(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1].rsplit("/", 1)[-1].split(".so")[0]
                for line in f if ".so" in line}


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def scenario(binary, c, network):
    name = "network" if network else "local"
    d = e2e.TempDir("footprint-" + name)
    rules = d.write("rules.yaml", RULES)
    log = d.write("app.log", "")
    out = d.join("alerts.jsonl")
    cfg = BASE.format(state=d.join("state.db"), rules=rules, log=log, out=out)
    rx = None
    if network:
        rx = e2e.Receiver()
        port = e2e.free_port()
        cfg += NETWORK.format(hook=rx.port, http=port)
    daemon = e2e.Daemon(binary, d.write("logwarden.yaml", cfg), d.path)
    try:
        if network:
            c.check(e2e.wait_for(lambda: health(port) or not daemon.alive(), 10) and daemon.alive(),
                    f"{name}: /health answers", e2e.tail(daemon.stderr()))
        with open(log, "a") as f:
            f.write("BOOM 1\n")
        got = e2e.wait_for(lambda: open(out).read() if os.path.exists(out) else "", 15)
        c.check('"alert":"Boom"' in got.replace(" ", ""), f"{name}: the alert reaches the file sink",
                e2e.tail(daemon.stderr()))
        libs = mapped(daemon.proc.pid)
        if network:
            bodies = [r["body"] for r in rx.wait_for(timeout=15, ok_only=False)]
            c.check(bodies, f"{name}: the alert is POSTed to the webhook")
            c.check(json.loads(bodies[0])["alerts"][0]["alert"] == "Boom" if bodies else False,
                    f"{name}: the webhook body holds the alert")
            for lib in ("libcurl", "libmicrohttpd"):
                c.check(lib in libs, f"{name}: {lib} is mapped", sorted(libs))
        else:
            for lib in ("libcurl", "libmicrohttpd", "libgnutls", "libssl", "libcrypto"):
                c.check(lib not in libs, f"{name}: {lib} is not mapped", sorted(libs))
    finally:
        c.eq(daemon.stop(), 0, f"{name}: SIGTERM exits 0")
        if rx:
            rx.stop()
        d.cleanup()


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    scenario(binary, c, network=False)
    scenario(binary, c, network=True)
    c.finish()


if __name__ == "__main__":
    main()
