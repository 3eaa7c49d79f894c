#!/usr/bin/env python3
"""test_systemd.py: the systemd unit and the daemon's side of Type=notify.

- examples/systemd/logwarden.service (and its privileged-port.conf drop-in) passes
  `systemd-analyze verify` without a word, with ExecStart pointed at the built binary (verify
  checks that it exists, and that the man pages of Documentation= exist: those of docs/man/);
- `systemd-analyze security --offline=true` rates the unit below 2.0, with and without the
  drop-in, and docs/operations.md records the figure it gives;
- the daemon, given a real unix datagram socket as NOTIFY_SOCKET (a path, and an abstract
  '@' name), sends READY=1 once its syslog listener accepts and /health answers, RELOADING=1
  with MONOTONIC_USEC then READY=1 around each SIGHUP (a reload that fails too), STOPPING=1 at
  SIGTERM, in that order; a NOTIFY_SOCKET nobody listens on is said once in the log and
  changes nothing else.

usage: test_systemd.py PATH/TO/logwarden
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import e2e

UNIT = os.path.join(e2e.REPO, "examples", "systemd", "logwarden.service")
DROPIN = os.path.join(e2e.REPO, "examples", "systemd", "logwarden.service.d",
                      "privileged-port.conf")
OPERATIONS = os.path.join(e2e.REPO, "docs", "operations.md")

RULES = r"""
events:
  - name: hit
    match: 'hit (?<who>\S+)'
alerts:
  - name: Hits
    event: hit
    window: 1m
    count: {above: 5}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: 127.0.0.1:{http}}}
inputs:
  - name: syslog
    type: syslog
    listen: [tcp://127.0.0.1:{syslog}]
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""

# What the unit must keep: the list (a deletion fails here, not only in the score).
REQUIRED = {
    "Type": "notify",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "DynamicUser": "yes",
    "SupplementaryGroups": "adm systemd-journal",
    "StateDirectory": "logwarden",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures": "native",
    "UMask": "0077",
}


def unit_settings(path):
    """[Service] KEY=VALUE lines as {KEY: [values...]}."""
    out, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def staged(tmp, binary, name, dropin):
    """The unit in its own folder (with the drop-in beside it, where verify and security look),
    ExecStart pointed at the built binary."""
    d = tmp.join(name)
    os.makedirs(d)
    with open(UNIT, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("ExecStart=/usr/bin/logwarden ", f"ExecStart={binary} ")
    with open(os.path.join(d, "logwarden.service"), "w", encoding="utf-8") as f:
        f.write(text)
    if dropin:
        os.makedirs(os.path.join(d, "logwarden.service.d"))
        shutil.copy(DROPIN, os.path.join(d, "logwarden.service.d"))
    return os.path.join(d, "logwarden.service")


def man_env(tmp):
    """An environment whose MANPATH holds the repository's man pages (docs/man/*.N), so that
    verify's check of Documentation=man:... finds them; None when the repository has none."""
    src = os.path.join(e2e.REPO, "docs", "man")
    pages = [p for p in (os.listdir(src) if os.path.isdir(src) else [])
             if re.search(r"\.[1-8]$", p)]
    if not pages:
        return None
    for p in pages:
        sect = tmp.join("man", "man" + p[-1])
        os.makedirs(sect, exist_ok=True)
        shutil.copy(os.path.join(src, p), sect)
    env = dict(os.environ)
    env["MANPATH"] = tmp.join("man")
    return env


def exposure(c, unit):
    r = e2e.run(["systemd-analyze", "security", "--offline=true", unit])
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    c.check(r.returncode == 0 and m, f"systemd-analyze security rates {os.path.basename(os.path.dirname(unit))}",
            r.stdout[-2000:] + r.stderr)
    return float(m.group(1)) if m else None


def check_unit(c, binary, tmp):
    s = unit_settings(UNIT)
    for k, v in REQUIRED.items():
        c.eq(s.get(k), [v], f"unit: {k}={v}")
    c.check(s.get("ExecStart") == ["/usr/bin/logwarden run -c /etc/logwarden/logwarden.yaml"],
            "unit: ExecStart runs the installed binary on /etc/logwarden/logwarden.yaml",
            s.get("ExecStart"))
    c.check("@system-service" in s.get("SystemCallFilter", []), "unit: SystemCallFilter=@system-service",
            s.get("SystemCallFilter"))
    c.check(re.fullmatch(r"\d+[KMG]", (s.get("MemoryMax") or [""])[0]), "unit: MemoryMax is a size",
            s.get("MemoryMax"))
    d = unit_settings(DROPIN)
    c.eq(d.get("AmbientCapabilities"), ["CAP_NET_BIND_SERVICE"], "drop-in: AmbientCapabilities")
    c.eq(d.get("CapabilityBoundingSet"), ["CAP_NET_BIND_SERVICE"], "drop-in: CapabilityBoundingSet")

    env = man_env(tmp)
    plain = staged(tmp, binary, "plain", dropin=False)
    withdrop = staged(tmp, binary, "dropin", dropin=True)
    if env is None:
        # Without docs/man, verify's `man` would fail on Documentation=: those lines go, the rest
        # of the unit is still verified.
        print("     (no docs/man pages in this tree: Documentation=man:... not verified)")
        for u in (plain, withdrop):
            with open(u, encoding="utf-8") as f:
                text = re.sub(r"(?m)^Documentation=.*\n", "", f.read())
            with open(u, "w", encoding="utf-8") as f:
                f.write(text)
    for u in (plain, withdrop):
        r = e2e.run(["systemd-analyze", "verify", u], env=env)
        c.check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
                f"systemd-analyze verify {os.path.basename(os.path.dirname(u))}: passes, no warning",
                f"rc {r.returncode}\n{r.stdout}{r.stderr}")

    base = exposure(c, plain)
    dropped = exposure(c, withdrop)
    c.check(base is not None and base < 2.0, f"exposure of the unit below 2.0 ({base})")
    c.check(dropped is not None and dropped < 2.0,
            f"exposure with privileged-port.conf below 2.0 ({dropped})")
    with open(OPERATIONS, encoding="utf-8") as f:
        doc = f.read()
    m = re.search(r"(?ms)^## systemd\n(.*?)(?=^## )", doc)
    recorded = re.findall(r"exposure level (\d+\.\d+)", m.group(1)) if m else []
    c.check(base is not None and f"{base:.1f}" in recorded,
            "docs/operations.md \"systemd\" records the unit's exposure level",
            f"measured {base}, recorded {recorded}")


class Notify:
    """A unix datagram socket that a daemon is told about through NOTIFY_SOCKET."""

    def __init__(self, path=None, abstract=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.sock.bind("\0" + abstract)
            self.env = "@" + abstract
        else:
            self.sock.bind(path)
            self.env = path
        self.got = []

    def next(self, timeout=20):
        """The next message as {KEY: VALUE}, or None when none came in time."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        msg = dict(l.split("=", 1) for l in data.decode().split("\n") if "=" in l)
        self.got.append(msg)
        return msg

    def close(self):
        self.sock.close()


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status
    except OSError as e:
        return str(e)


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def wait_exit(d, timeout=30):
    """The exit code of a daemon already sent SIGTERM (None if it did not end in time)."""
    try:
        d.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass  # d.stop signals it again, then kills it: not 0 either way
    return d.stop()  # closes its output files


def daemon(binary, tmp, notify_env):
    http, syslog = e2e.free_port(), e2e.free_port()
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("logwarden.yaml", CONFIG.format(http=http, syslog=syslog))
    env = dict(os.environ)
    env["NOTIFY_SOCKET"] = notify_env
    return e2e.Daemon(binary, cfg, tmp.path, env=env), http, syslog


def check_notify_path(c, binary, tmp):
    n = Notify(path=tmp.join("notify.sock"))
    d, http, syslog = daemon(binary, tmp, n.env)
    try:
        m = n.next()
        c.check(m and m.get("READY") == "1" and m.get("STATUS", "").startswith("running"),
                "READY=1 with STATUS=running at start", f"{m}\n{e2e.tail(d.stderr())}")
        # READY means open: no waiting here.
        c.check(accepts(syslog), "at READY the syslog listener accepts")
        c.eq(health(http), 200, "at READY /health answers")

        before = time.monotonic_ns() // 1000
        d.proc.send_signal(signal.SIGHUP)
        m = n.next()
        after = time.monotonic_ns() // 1000
        c.check(m and m.get("RELOADING") == "1", "SIGHUP: RELOADING=1", m)
        usec = int(m.get("MONOTONIC_USEC", "0")) if m else 0
        c.check(before <= usec <= after, "RELOADING=1 carries MONOTONIC_USEC (CLOCK_MONOTONIC)",
                f"{before} <= {usec} <= {after}")
        m = n.next()
        c.check(m and m.get("READY") == "1" and m.get("STATUS", "").startswith("reloaded"),
                "after the reload: READY=1, STATUS=reloaded", m)

        tmp.write("rules.yaml", RULES + "  - name: Broken\n    event: nope\n    window: 1m\n"
                                        "    count: {above: 0}\n")
        d.proc.send_signal(signal.SIGHUP)
        m = n.next()
        c.check(m and m.get("RELOADING") == "1", "a broken reload: RELOADING=1", m)
        m = n.next()
        c.check(m and m.get("READY") == "1" and "reload failed" in m.get("STATUS", ""),
                "a broken reload: READY=1 (the old rules run), STATUS says it failed", m)

        d.proc.send_signal(signal.SIGTERM)
        m = n.next()
        c.check(m and m.get("STOPPING") == "1", "SIGTERM: STOPPING=1", m)
        # (d.stop would send a second SIGTERM: wait for the first one's exit instead.)
        c.eq(wait_exit(d), 0, "the daemon exits 0")
        c.eq(n.next(timeout=0.5), None, "nothing after STOPPING=1")
        order = [next(k for k in ("READY", "RELOADING", "STOPPING") if k in m) for m in n.got if m]
        c.eq(order, ["READY", "RELOADING", "READY", "RELOADING", "READY", "STOPPING"],
             "the messages, in order")
        c.check("cannot notify systemd" not in d.stderr(), "no notify failure in the log",
                e2e.tail(d.stderr()))
    finally:
        if d.alive():
            d.stop()
        n.close()


def check_notify_abstract(c, binary, tmp):
    n = Notify(abstract=f"lw-e2e-notify-{os.getpid()}")
    d, http, syslog = daemon(binary, tmp, n.env)
    try:
        m = n.next()
        c.check(m and m.get("READY") == "1", "abstract NOTIFY_SOCKET (@name): READY=1",
                f"{m}\n{e2e.tail(d.stderr())}")
        d.proc.send_signal(signal.SIGTERM)
        m = n.next()
        c.check(m and m.get("STOPPING") == "1", "abstract NOTIFY_SOCKET: STOPPING=1", m)
        c.eq(wait_exit(d), 0, "abstract NOTIFY_SOCKET: exits 0")
    finally:
        if d.alive():
            d.stop()
        n.close()


def check_notify_nobody(c, binary, tmp):
    # Nobody listens there: READY and STOPPING both fail; the log says it once, the daemon works.
    d, http, syslog = daemon(binary, tmp, tmp.join("nobody.sock"))
    try:
        up = e2e.wait_for(lambda: health(http) == 200, 20)
        c.check(up, "NOTIFY_SOCKET with no listener: the daemon runs", e2e.tail(d.stderr()))
        c.eq(d.stop(timeout=30), 0, "NOTIFY_SOCKET with no listener: exits 0")
        c.eq(d.stderr().count("cannot notify systemd"), 1,
             "NOTIFY_SOCKET with no listener: said once in the log")
    finally:
        if d.alive():
            d.stop()


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    for name, fn in (("unit", check_unit), ("notify", check_notify_path),
                     ("abstract", check_notify_abstract), ("nobody", check_notify_nobody)):
        tmp = e2e.TempDir(f"systemd-{name}")
        try:
            fn(c, binary, tmp)
        finally:
            tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
