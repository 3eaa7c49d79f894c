#!/usr/bin/env python3
"""test_syslog_tls.py: syslog over TLS (RFC 5425) with certificates made by the openssl CLI.

1. config errors: a missing certificate file, a key that does not match the certificate, a
   tls:// address without `tls:`: `check` exits 2 with FILE:LINE:COL at the key.
2. client_auth: required: a client with a certificate from the CA delivers octet-counted
   messages (Python's ssl module); a client without a certificate, one with an expired
   certificate and one with a certificate of another CA are refused at the handshake, each
   counted under its reason with a clear server log line; so are a TLS 1.1 client, plain text
   sent to the TLS port and a silent client; a forged record after the handshake is a counted
   session error.
   `openssl s_client` with a client certificate delivers as well.
3. SIGHUP after replacing the server's certificate: a new connection sees the new serial; a
   broken replacement keeps the running certificate and logs why.
4. client_auth: optional takes clients with a certificate of the CA and without one, and
   refuses one of another CA; client_auth: none asks for none (another CA's client delivers).

usage: test_syslog_tls.py PATH/TO/logwarden
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess

import e2e
import tlskit

RULES = r"""
events:
  - name: hello
    match: 'hello (?<n>\d+)'
alerts:
  - name: Hello
    event: hello
    window: 1m
    count: {above: 0}
"""

CONFIG = """
state: state.db
http: {{listen: "127.0.0.1:{http}"}}
rules: [rules.yaml]
inputs:
  - name: tls
    type: syslog
    listen: [tls://127.0.0.1:{port}]
    tls: {{cert: {cert}, key: {key}, ca: {ca}, client_auth: required, handshake_timeout: 3s}}
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""

CONFIG_MODES = """
state: state2.db
http: {{listen: "127.0.0.1:{http}"}}
rules: [rules.yaml]
inputs:
  - name: opt
    type: syslog
    listen: tls://127.0.0.1:{opt}
    tls: {{cert: pki/srv1.crt, key: pki/srv1.key, ca: pki/ca.crt, client_auth: optional}}
  - name: none
    type: syslog
    listen: tls://127.0.0.1:{none}
    tls: {{cert: pki/srv1.crt, key: pki/srv1.key}}
sinks:
  - name: out
    type: file
    path: alerts2.jsonl
"""

METRIC = 'logwarden_syslog_tls_handshake_failures_total{{input="tls",reason="{}"}}'


def frame(msg):
    b = msg.encode()
    return str(len(b)).encode() + b" " + b


def client_ctx(pki, cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.path("ca.crt"))
    if cert:
        ctx.load_cert_chain(pki.path(f"{cert}.crt"), pki.path(f"{cert}.key"))
    return ctx


def tls_send(port, ctx, msgs):
    """Connects, sends msgs octet-counted and closes with close_notify. Returns (server
    certificate serial as an int, None) or (None, the error the client saw)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                serial = int(s.getpeercert()["serialNumber"], 16)
                for m in msgs:
                    s.sendall(frame(m))
                # TLS 1.3: a refused client certificate shows at the first read.
                s.settimeout(1)
                try:
                    if s.recv(1) == b"":
                        pass
                except (socket.timeout, TimeoutError):
                    pass
                try:
                    s.unwrap()
                except (OSError, ssl.SSLError):
                    pass
                return serial, None
    except (OSError, ssl.SSLError) as e:
        return None, e


def send_then_garbage(port, ctx, msg):
    """A TLS session driven through memory BIOs: one message, then a forged application-data
    record the server cannot decrypt. Waits for the server to close."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                s.sendall(out.read())
                chunk = s.recv(65536)
                if not chunk:
                    return
                inc.write(chunk)
        obj.write(frame(msg))
        s.sendall(out.read())
        s.sendall(b"\x17\x03\x03\x00\x20" + os.urandom(32))
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass


def server_serial(port, pki):
    """The serial of the certificate the server presents now (client certificate given)."""
    serial, err = tls_send(port, client_ctx(pki, "client"), [])
    return serial if serial is not None else err


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("syslog-tls")
    daemon = None
    try:
        pki = tlskit.Pki(tmp.join("pki"))
        pki.ca("ca", "logwarden test CA")
        pki.ca("other", "another CA")
        pki.cert("srv1", "ca", "localhost", "1001", server=True)
        pki.cert("srv2", "ca", "localhost", "2002", server=True)
        pki.cert("client", "ca", "client", "3003")
        pki.cert("expired", "ca", "expired", "4004", start="20200101000000Z",
                 end="20200102000000Z")
        pki.cert("stranger", "other", "stranger", "5005")
        shutil.copy(pki.path("srv1.crt"), tmp.join("server.crt"))
        shutil.copy(pki.path("srv1.key"), tmp.join("server.key"))
        tmp.write("rules.yaml", RULES)

        # 1. Config errors, each at its key.
        def check_cfg(name, **kw):
            args = dict(http=e2e.free_port(), port=e2e.free_port(), cert="server.crt",
                        key="server.key", ca="pki/ca.crt")
            args.update(kw)
            path = tmp.write(name, CONFIG.format(**args))
            return path, e2e.run([binary, "check", "-c", path], cwd=tmp.path)

        path, r = check_cfg("ok.yaml")
        c.eq(r.returncode, 0, "check: a valid tls config passes")
        path, r = check_cfg("nocert.yaml", cert="missing.crt")
        c.eq(r.returncode, 2, "check: a missing certificate is a config error")
        c.check(f"{path}:9:" in r.stderr and "missing.crt" in r.stderr
                and "No such file" in r.stderr,
                "check: the missing certificate's error is FILE:LINE:COL naming the file",
                r.stderr)
        path, r = check_cfg("mismatch.yaml", key="pki/client.key")
        c.eq(r.returncode, 2, "check: a key of another certificate is a config error")
        c.check(f"{path}:9:" in r.stderr and "does not match" in r.stderr,
                "check: the mismatched key's error says so, at FILE:LINE:COL", r.stderr)
        notls = tmp.write("notls.yaml", CONFIG.replace("    tls: {{", "    #tls: {{").format(
            http=1, port=1, cert="x", key="x", ca="x"))
        r = e2e.run([binary, "check", "-c", notls], cwd=tmp.path)
        c.check(r.returncode == 2 and f"{notls}:8:" in r.stderr and "needs `tls:" in r.stderr,
                "check: a tls:// address without tls: is refused at `listen`", r.stderr)

        # 2. The daemon, client_auth: required.
        http = e2e.free_port()
        port = e2e.free_port()
        cfg = tmp.write("logwarden.yaml", CONFIG.format(
            http=http, port=port, cert="server.crt", key="server.key", ca="pki/ca.crt"))
        daemon = e2e.Daemon(binary, cfg, tmp.path)
        up = e2e.wait_for(lambda: "running" in daemon.stderr() or not daemon.alive(), 20)
        c.check(up and daemon.alive(), "daemon starts with a tls:// listener", daemon.stderr())

        def metric(name):
            return e2e.metrics(http).get(name, 0)

        msgs = [f"<13>1 2030-01-01T00:00:00Z host app - - - hello {i}" for i in range(50)]
        serial, err = tls_send(port, client_ctx(pki, "client"), msgs)
        c.eq(err, None, "a client with a certificate from the CA connects")
        c.eq(serial, 0x1001, "it sees the server certificate (serial 1001)")
        lines = 'logwarden_input_lines_total{input="tls"}'
        got = e2e.wait_for(lambda: metric(lines) >= 50, 20)
        c.check(got, "its 50 octet-counted messages arrive", e2e.metrics(http))

        # openssl s_client as the client, newline framing.
        r = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet", "-no_ign_eof", "-CAfile",
             pki.path("ca.crt"), "-cert", pki.path("client.crt"), "-key",
             pki.path("client.key")],
            input="<13>1 2030-01-01T00:00:00Z host app - - - hello s_client\n",
            capture_output=True, text=True, timeout=20)
        got = e2e.wait_for(lambda: metric(lines) >= 51, 20)
        c.check(got, "openssl s_client with a client certificate delivers", r.stderr)

        cases = [
            ("no_certificate", None, "peer did not return a certificate"),
            ("expired", "expired", "certificate has expired"),
            ("unknown_ca", "stranger", "unable to get local issuer certificate"),
        ]
        for reason, cert, words in cases:
            before = metric(METRIC.format(reason))
            tls_send(port, client_ctx(pki, cert), ["<13>1 2030-01-01T00:00:00Z h a - - - hello x"])
            moved = e2e.wait_for(lambda: metric(METRIC.format(reason)) > before, 10)
            c.check(moved, f"client {cert or 'without a certificate'}: refused, counted as "
                           f"{reason}", e2e.metrics(http))
            logged = e2e.wait_for(lambda: words in daemon.stderr(), 10)
            c.check(logged and "TLS handshake with 127.0.0.1:" in daemon.stderr(),
                    f"the server logs why: '{words}'", e2e.tail(daemon.stderr()))
        c.eq(metric(lines), 51, "no refused client's message was read")

        # A client that offers TLS 1.1 at most (s_client with security level 0 to let it).
        r = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_1", "-cipher",
             "DEFAULT:@SECLEVEL=0", "-no_ign_eof"],
            input="", capture_output=True, text=True, timeout=20)
        c.check(e2e.wait_for(lambda: metric(METRIC.format("protocol_version")) == 1, 10),
                "a TLS 1.1 client is refused, counted as protocol_version", r.stderr)
        c.check(e2e.wait_for(lambda: "protocol version too old" in daemon.stderr(), 10),
                "and logged", e2e.tail(daemon.stderr()))

        # A TLS error after the handshake: the message before it is kept, the error counted.
        send_then_garbage(port, client_ctx(pki, "client"),
                          "<13>1 2030-01-01T00:00:00Z host app - - - hello garbage")
        errors = 'logwarden_syslog_tls_session_errors_total{input="tls"}'
        c.check(e2e.wait_for(lambda: metric(errors) == 1 and metric(lines) == 52, 10),
                "a forged record after the handshake: the message before it arrives, the error "
                "is counted", e2e.metrics(http))
        c.check(e2e.wait_for(lambda: "TLS error from 127.0.0.1:" in daemon.stderr(), 10),
                "and logged", e2e.tail(daemon.stderr()))

        # Plain text to the TLS port.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"<13>Jan  1 00:00:00 host app: hello plain\n")
            s.settimeout(5)
            try:
                s.recv(100)
            except OSError:
                pass
        c.check(e2e.wait_for(lambda: metric(METRIC.format("not_tls")) >= 1, 10),
                "plain text sent to the TLS port is counted as not_tls", e2e.metrics(http))
        c.check(e2e.wait_for(lambda: "plain text sent to a TLS port" in daemon.stderr(), 10),
                "and logged", e2e.tail(daemon.stderr()))

        # A silent client: the handshake times out (handshake_timeout: 3s).
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(10)
            try:
                closed = s.recv(1) == b""
            except OSError:
                closed = True
        c.check(closed and metric(METRIC.format("timeout")) >= 1,
                "a client that never starts the handshake is closed and counted as timeout",
                e2e.metrics(http))

        # 3. SIGHUP with a new certificate, then with a broken one.
        shutil.copy(pki.path("srv2.crt"), tmp.join("server.crt"))
        shutil.copy(pki.path("srv2.key"), tmp.join("server.key"))
        daemon.proc.send_signal(signal.SIGHUP)
        e2e.wait_for(lambda: "TLS certificates reloaded" in daemon.stderr(), 10)
        c.eq(server_serial(port, pki), 0x2002,
             "after SIGHUP a new connection sees the new certificate (serial 2002)")
        tmp.write("server.crt", "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        daemon.proc.send_signal(signal.SIGHUP)
        failed = e2e.wait_for(lambda: "TLS reload failed" in daemon.stderr(), 10)
        c.check(failed and "old certificates stay in use" in daemon.stderr(),
                "a broken replacement is refused and logged", e2e.tail(daemon.stderr()))
        c.eq(metric('logwarden_syslog_tls_reload_failures_total{input="tls"}'), 1,
             "the failed reload is counted")
        c.eq(server_serial(port, pki), 0x2002, "and the running certificate stays (serial 2002)")
        serial, err = tls_send(port, client_ctx(pki, "client"), msgs[:5])
        c.check(err is None and e2e.wait_for(lambda: metric(lines) >= 57, 20),
                "messages still arrive after the failed reload", e2e.metrics(http))

        code = daemon.stop(timeout=30)
        c.eq(code, 0, "SIGTERM: exits 0")
        daemon = None

        # 4. client_auth: optional and none.
        http, opt, none = e2e.free_port(), e2e.free_port(), e2e.free_port()
        cfg = tmp.write("modes.yaml", CONFIG_MODES.format(http=http, opt=opt, none=none))
        daemon = e2e.Daemon(binary, cfg, tmp.path)
        up = e2e.wait_for(lambda: "running" in daemon.stderr() or not daemon.alive(), 20)
        c.check(up and daemon.alive(), "daemon with client_auth optional and none starts",
                daemon.stderr())
        one = ["<13>1 2030-01-01T00:00:00Z host app - - - hello 1"]

        def lines_of(name):
            return metric(f'logwarden_input_lines_total{{input="{name}"}}')

        for name, p, cert, n in [("opt", opt, None, 1), ("opt", opt, "client", 2),
                                 ("none", none, None, 1), ("none", none, "stranger", 2)]:
            _, err = tls_send(p, client_ctx(pki, cert), one)
            c.check(err is None and e2e.wait_for(lambda: lines_of(name) == n, 10),
                    f"client_auth {'none' if name == 'none' else 'optional'}: a client "
                    f"{'with a ' + cert + ' certificate' if cert else 'without a certificate'} "
                    f"delivers", f"{err}\n{e2e.metrics(http)}")
        tls_send(opt, client_ctx(pki, "stranger"), one)
        unknown = 'logwarden_syslog_tls_handshake_failures_total{input="opt",reason="unknown_ca"}'
        c.check(e2e.wait_for(lambda: metric(unknown) == 1, 10) and lines_of("opt") == 2,
                "client_auth optional: a certificate of another CA is refused (unknown_ca)",
                e2e.metrics(http))
        c.eq(daemon.stop(timeout=30), 0, "SIGTERM: exits 0")
        daemon = None
    finally:
        if daemon:
            daemon.stop()
        tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
