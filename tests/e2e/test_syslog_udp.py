#!/usr/bin/env python3
"""test_syslog_udp.py: syslog datagrams end to end. source_ip reaches the rules for UDP over
IPv4 and IPv6 and for a unix datagram socket (logger as the sender); datagrams lost while the
daemon is stopped (SIGSTOP) are counted exactly: sent == received + dropped{kernel} +
dropped{queue_full}, through /metrics and the rules' own count; the log lines about drops add
up to the same numbers; a datagram over max_message_bytes is cut and counted.

usage: test_syslog_udp.py PATH/TO/logwarden
"""

import json
import re
import shutil
import signal
import socket
import threading

import e2e

# `slow*` never match and have no literal to skip them by: the rules take longer per line than
# reading a datagram does, so a burst read at once fills the queue (for the queue_full part).
RULES = r"""
events:
  - name: any
    match: 'msg (?<n>\d+)'
""" + "".join(f"""  - name: slow{k}
    match: '(?<w{k}>\\w+)\\s+\\w+\\s+\\d{{{k + 9}}}'
""" for k in range(8)) + r"""
  - name: hello
    match: 'hello from (?<via>\S+)'
alerts:
""" + "".join(f"""  - name: Slow{k}
    event: slow{k}
    window: 1m
    count: {{above: 0}}
""" for k in range(8)) + r"""
  - name: Hello
    event: hello
    group_by: [via, source_ip]
    window: 1m
    count: {above: 0}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {listen: 127.0.0.1:{http}}
inputs:
  - name: dgram
    type: syslog
    listen: [udp://127.0.0.1:{v4}, 'udp://[::1]:{v6}', unix://{sock}]
    max_message_bytes: 256
  - name: tiny
    type: syslog
    listen: udp://127.0.0.1:{tiny}
    receive_buffer_bytes: 4096
  - name: nobuf
    type: syslog
    listen: udp://127.0.0.1:{nobuf}
    max_buffered_bytes: 0
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""


def udp_port(host="127.0.0.1"):
    """A UDP port on host that was free a moment ago."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alerts(tmp):
    try:
        with open(tmp.join("alerts.jsonl")) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def blast(port, n, senders=4):
    """n RFC 3164 datagrams "msg K", from several sockets in parallel (as many daemons would
    send); returns how many the kernel accepted from us (sendto succeeded)."""
    sent = [0] * senders

    def one(k):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(k, n, senders):
            line = f"<13>Dec  6 07:00:00 web app[{k}]: msg {i} " + "x" * 80
            try:
                s.sendto(line.encode(), ("127.0.0.1", port))
                sent[k] += 1
            except OSError:
                pass
        s.close()

    threads = [threading.Thread(target=one, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(sent)


def counts(m, name):
    return (m.get(f'logwarden_input_lines_total{{input="{name}"}}', 0),
            m.get(f'logwarden_input_dropped_total{{input="{name}",reason="kernel"}}', 0),
            m.get(f'logwarden_input_dropped_total{{input="{name}",reason="queue_full"}}', 0))


def burst(c, d, http, name, port, n):
    """SIGSTOP, n datagrams, SIGCONT; then every one is received or counted. Returns
    (received, kernel, queue_full) for this burst."""
    m0 = e2e.metrics(http)
    lines0, kernel0, full0 = counts(m0, name)
    events0 = m0.get("logwarden_events_total", 0)
    d.proc.send_signal(signal.SIGSTOP)
    try:
        sent = blast(port, n)
    finally:
        d.proc.send_signal(signal.SIGCONT)
    c.eq(sent, n, f"{name}: the sender sent {n} datagrams")

    # input_lines_total counts what the daemon read, queue_full drops included: the rules see
    # lines - queue_full of them.
    def settled():
        m = e2e.metrics(http)
        lines, kernel, full = counts(m, name)
        done = lines - lines0 + kernel - kernel0 >= sent
        ruled = m.get("logwarden_events_total", 0) - events0 >= lines - lines0 - (full - full0)
        return done and ruled and m

    m = e2e.wait_for(settled, 60) or e2e.metrics(http)
    lines, kernel, full = counts(m, name)
    read, kernel, full = lines - lines0, kernel - kernel0, full - full0
    got = read - full
    events = m.get("logwarden_events_total", 0) - events0
    c.eq(got + kernel + full, sent,
         f"{name}: sent == received + dropped (received {got:.0f}, kernel {kernel:.0f}, "
         f"queue_full {full:.0f})")
    c.eq(events, got, f"{name}: the rules counted every message received")
    return got, kernel, full


def logged_drops(text, name):
    """The datagrams the log says were dropped, per reason, summed over its lines."""
    out = {"kernel": 0, "queue_full": 0}
    for line in text.splitlines():
        mo = re.search(rf"\[input:{name}\] dropped (\d+) datagram messages since the last "
                       r"report: (.*)", line)
        if mo:
            out["kernel" if "kernel" in mo.group(2) else "queue_full"] += int(mo.group(1))
    return out


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    if not shutil.which("logger"):
        c.check(False, "logger (util-linux) is installed")
        c.finish()
    tmp = e2e.TempDir("syslog-udp")
    http, tiny, nobuf = e2e.free_port(), udp_port(), udp_port()
    v4, v6 = udp_port(), udp_port("::1")
    sock = tmp.join("log.sock")
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("logwarden.yaml", CONFIG.replace("{http}", str(http))
                    .replace("{sock}", sock).replace("{tiny}", str(tiny))
                    .replace("{nobuf}", str(nobuf)).replace("{v4}", str(v4))
                    .replace("{v6}", str(v6)))
    d = e2e.Daemon(binary, cfg, tmp.path)
    up = e2e.wait_for(lambda: "running" in d.stderr() and e2e.metrics(http), 15)
    c.check(up, "daemon started", d.stderr())
    if not up:
        d.stop()
        c.finish()
    # source_ip from real senders: logger over UDP (IPv4, IPv6) and a unix datagram socket.
    e2e.run(["logger", "-n", "127.0.0.1", "-P", str(v4), "--udp", "-t", "lw", "hello from v4"])
    e2e.run(["logger", "-n", "::1", "-P", str(v6), "--udp", "-t", "lw", "hello from v6"])
    e2e.run(["logger", "-u", sock, "-t", "lw", "hello from unix"])
    want = {("v4", "127.0.0.1"), ("v6", "::1"), ("unix", sock)}

    def seen():
        got = {(a["labels"].get("via"), a["labels"].get("source_ip")) for a in alerts(tmp)
               if a["alert"] == "Hello"}
        return got if want <= got else None

    got = e2e.wait_for(seen, 15)
    c.eq(got and got & want, want, "source_ip on the alerts: 127.0.0.1, ::1, the socket's path")

    # Over max_message_bytes (256): cut and counted.
    m0 = e2e.metrics(http).get('logwarden_input_truncated_total{input="dgram"}', 0)
    ev0 = e2e.metrics(http).get("logwarden_events_total", 0)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"<13>msg 1 " + b"y" * 1000, ("127.0.0.1", v4))
    s.close()
    cut = e2e.wait_for(lambda: e2e.metrics(http).get(
        'logwarden_input_truncated_total{input="dgram"}', 0) - m0, 10)
    c.eq(cut, 1, "a datagram over max_message_bytes is cut and counted")
    # Its event is in before the bursts count theirs.
    c.check(e2e.wait_for(lambda: e2e.metrics(http).get("logwarden_events_total", 0) > ev0, 10),
            "the cut message reached the rules")

    # The kernel's buffer overflows while the daemon is stopped: counted, exactly.
    m = e2e.metrics(http)
    rcv = m.get(f'logwarden_syslog_receive_buffer_bytes{{input="tiny",listen="udp://127.0.0.1:{tiny}"}}')
    c.check(rcv is not None and rcv < 65536, "the small receive buffer is in effect", rcv)
    got, kernel, full = burst(c, d, http, "tiny", tiny, 5000)
    c.check(kernel > 0 and got > 0, "tiny: the kernel dropped datagrams, and some arrived",
            (got, kernel))

    # The daemon reads a full buffer faster than the rules take it, with nothing held: drops at
    # the queue, counted.
    total = {"kernel": 0, "queue_full": 0}
    for attempt in range(5):
        got, kernel, full = burst(c, d, http, "nobuf", nobuf, 20000)
        total["kernel"] += kernel
        total["queue_full"] += full
        if full:
            break
    c.check(total["queue_full"] > 0, "nobuf: the queue was full and it was counted", total)

    m = e2e.metrics(http)
    code = d.stop(timeout=30)
    c.eq(code, 0, "SIGTERM exits 0")
    # Every drop is in a log line with its true count since the line before (the last report
    # is made at stop, whatever the rate limit).
    for name in ("tiny", "nobuf"):
        _, kernel, full = counts(m, name)
        c.eq(logged_drops(d.stderr(), name), {"kernel": kernel, "queue_full": full},
             f"{name}: the log lines add up to the counters")
    tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
