#!/usr/bin/env python3
"""test_syslog_abuse.py: bad input and hostile clients on a syslog TCP listener cannot take it
over, and are counted; a well-behaved client is served throughout.

One well-behaved client (octet-counted RFC 5424, as rsyslog sends) writes a numbered message
every 10 ms on one connection for the whole test, while, one after the other:
- truncated frames: connections that send part of a frame and close (kept, counted as cut);
- a 1 MiB octet-counted frame and a 1 MiB line, each followed by a normal message (cut to
  max_message_bytes and counted; the next message is whole);
- binary garbage where a frame should start (framing lost: closed and counted), and garbage on
  a newline-framed connection (kept as records: it is data, not a framing error);
- 1 000 connections opened and dropped at once;
- 20 slowloris clients sending one byte every 200 ms, more than max_connections (10) allows:
  evicted, refused or closed at message_timeout (2 s), each of them;
and the counters of /metrics match what the test did, phase by phase: every connection made is
accepted or refused, every accepted one ends in exactly one event.

usage: test_syslog_abuse.py PATH/TO/logwarden
"""

import os
import re
import socket
import threading
import time

import e2e

RULES = r"""
events:
  - name: good
    match: '^good (?<n>\d+)$'
alerts:
  - name: Good
    event: good
    window: 5m
    count: {above: 100000000}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: "127.0.0.1:{http}"}}
inputs:
  - name: sys
    type: syslog
    listen: [tcp://127.0.0.1:{port}]
    max_connections: 10
    message_timeout: 2s
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
"""

EVENTS = ("accepted", "refused", "evicted", "idle_timeout", "message_timeout", "framing_lost",
          "closed")
ENDS = EVENTS[2:]


def frame(text):
    b = text.encode() if isinstance(text, str) else text
    return str(len(b)).encode() + b" " + b


def msg(text):
    return "<13>1 - - app - - - " + text


class Good(threading.Thread):
    """The well-behaved client: one connection, a numbered message every 10 ms."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sent = 0
        self.error = None
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                self.sock.sendall(frame(msg("good %d" % self.sent)))
            except OSError as e:
                self.error = e
                return
            self.sent += 1
            time.sleep(0.01)

    def finish(self):
        self.stopping.set()
        self.join(10)
        self.sock.close()


def counters(http):
    m = e2e.metrics(http)
    out = {ev: int(m.get('logwarden_syslog_connections_total{input="sys",event="%s"}' % ev, -1))
           for ev in EVENTS}
    out["open"] = int(m.get('logwarden_syslog_connections{input="sys"}', -1))
    for r in ("too_long", "unfinished"):
        out[r] = int(m.get('logwarden_syslog_stream_cut_total{input="sys",reason="%s"}' % r, -1))
    out["events"] = int(m.get("logwarden_events_total", -1))
    return out


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def closed_by_server(s, timeout):
    """Reads until the server closes s (EOF or reset): True then, False at the deadline."""
    s.settimeout(0.1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not s.recv(4096):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def settled(http, made):
    """Waits until the daemon has seen all `made` connections (accepted or refused) and the
    only one open is the good one: every other has ended and been counted. Returns the
    counters then."""
    return e2e.wait_for(lambda: (lambda c: c if c["open"] == 1 and
                                 c["accepted"] + c["refused"] == made else None)(
        counters(http)), 20) or counters(http)


def slowloris(port, out, i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        out[i] = "connect failed"
        return
    s.settimeout(0.2)
    deadline = time.monotonic() + 15
    head = b"100 <13>1 - - slow - - - "
    k = 0
    while time.monotonic() < deadline:
        try:
            s.sendall(head[k:k + 1] if k < len(head) else b"z")
            k += 1
            if s.recv(1) == b"":
                out[i] = "closed"
                break
        except socket.timeout:
            continue
        except OSError:
            out[i] = "closed"
            break
    s.close()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    tmp = e2e.TempDir("syslog-abuse")
    port, http = e2e.free_port(), e2e.free_port()
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("lw.yaml", CONFIG.format(port=port, http=http))
    d = e2e.Daemon(binary, cfg, tmp.path)
    good = None
    made = 0  # connections the test made
    extra_events = 0  # good-looking messages sent by the bad connections
    try:
        t.check(e2e.wait_for(lambda: "running" in d.stderr(), 15), "daemon started",
                d.stderr())
        good = Good(port)
        made += 1
        good.start()
        c0 = settled(http, made)

        # Truncated frames: part of a frame, then the sender goes.
        for i in range(5):
            s = socket.create_connection(("127.0.0.1", port))
            made += 1
            s.sendall(b"100 " + msg("partial %d" % i).encode())
            s.close()
        c1 = settled(http, made)
        dd = delta(c1, c0)
        t.eq((dd["accepted"], dd["closed"], dd["unfinished"]), (5, 5, 5),
             "truncated frames: 5 connections, closed by their peers, 5 messages cut as unfinished")

        # 1 MiB in one frame, 1 MiB in one line: each cut and counted, the next one whole.
        s = socket.create_connection(("127.0.0.1", port))
        made += 1
        big = b"x" * (1 << 20)
        s.sendall(frame(b"<13>1 - - app - - - " + big) + frame(msg("good 1")))
        s.sendall(b"<13>1 - - app - - - " + big + b"\n" + msg("good 2").encode() + b"\n")
        extra_events += 2
        s.shutdown(socket.SHUT_WR)
        t.check(closed_by_server(s, 20), "1 MiB messages: the server read to the end")
        s.close()
        c2 = settled(http, made)
        dd = delta(c2, c1)
        t.eq(dd["too_long"], 2, "1 MiB frame and 1 MiB line: 2 messages cut at max_message_bytes")
        t.eq((dd["accepted"], dd["closed"], dd["framing_lost"]), (1, 1, 0),
             "1 MiB messages: the connection was not broken")

        # Binary garbage where a frame should start: framing lost, the connection closed.
        rnd = os.urandom(4096)
        for i in range(3):
            s = socket.create_connection(("127.0.0.1", port))
            made += 1
            s.sendall(frame(msg("good 3")) + b"\xff" + rnd)
            extra_events += 1
            t.check(closed_by_server(s, 10), "garbage after a frame: the server closes (%d)" % i)
            s.close()
        # Garbage on a newline-framed connection is data: kept as records, not a framing error.
        s = socket.create_connection(("127.0.0.1", port))
        made += 1
        s.sendall(msg("good 4").encode() + b"\n\xfe" + rnd.replace(b"\n", b"") + b"\n" +
                  msg("good 5").encode() + b"\n")
        extra_events += 2
        s.close()
        c3 = settled(http, made)
        dd = delta(c3, c2)
        t.eq((dd["accepted"], dd["framing_lost"], dd["closed"]), (4, 3, 1),
             "garbage: 3 connections closed as framing lost, the newline one by its peer")
        t.eq(dd["unfinished"], 3, "garbage: what followed the lost framing kept, counted (3)")

        # 1 000 connections opened and dropped.
        for i in range(1000):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            made += 1
            s.close()
        c4 = settled(http, made)
        dd = delta(c4, c3)
        t.eq(dd["accepted"] + dd["refused"], 1000,
             "1000 connections: each accepted or refused (%d refused)" % dd["refused"])
        t.eq(sum(dd[e] for e in ENDS), dd["accepted"],
             "1000 connections: each accepted one ended, once")
        t.eq(dd["framing_lost"] + dd["message_timeout"] + dd["idle_timeout"], 0,
             "1000 connections: none counted as a protocol error")

        # 20 slowloris clients, staggered, max_connections 10 (one taken by the good client).
        res = [None] * 20
        threads = []
        for i in range(20):
            th = threading.Thread(target=slowloris, args=(port, res, i), daemon=True)
            th.start()
            threads.append(th)
            made += 1
            time.sleep(0.15)
        for th in threads:
            th.join(30)
        t.eq(res, ["closed"] * 20, "each slowloris client was closed by the server")
        c5 = settled(http, made)
        dd = delta(c5, c4)
        t.eq(dd["accepted"] + dd["refused"], 20, "slowloris: each accepted or refused")
        t.eq(dd["evicted"] + dd["message_timeout"], dd["accepted"],
             "slowloris: each accepted one evicted or timed out (%d evicted, %d timed out, "
             "%d refused)" % (dd["evicted"], dd["message_timeout"], dd["refused"]))
        t.check(dd["message_timeout"] > 0, "slowloris: message_timeout closed some")
        t.eq(dd["unfinished"], dd["accepted"],
             "slowloris: each accepted one's unfinished message kept and counted")

        # The well-behaved client was served throughout: all its messages arrived.
        good.finish()
        t.check(good.error is None, "the good client never saw an error", repr(good.error))
        want = good.sent + extra_events
        got = e2e.wait_for(lambda: (lambda c: c if c["events"] == want and c["open"] == 0
                                    else None)(counters(http)), 20) or counters(http)
        t.eq(got["events"], want, "every good message arrived (%d from the good client)"
             % good.sent)
        t.eq(got["accepted"] + got["refused"], made, "every connection made was counted")
        t.eq(sum(got[e] for e in ENDS), got["accepted"],
             "every accepted connection ended in exactly one event")
        t.eq(got["open"], 0, "no connection left open")
        err = d.stderr()
        t.check("message_timeout" in err and "framing was lost" in err,
                "the daemon logged the timeouts and the lost framing", e2e.tail(err))
        final = counters(http)
        t.eq(d.stop(), 0, "daemon exits 0 on SIGTERM")
        # The rate-limited log lines add up to the counters (a stop reports what they held).
        logged = {}
        for m in re.finditer(r"\[input:sys\] (refused|closed) (\d+) (quiet )?connection\(s\)"
                             r"(: max_connections| to admit| that did not complete| whose)",
                             d.stderr()):
            ev = {": max_connections": "refused", " to admit": "evicted",
                  " that did not complete": "message_timeout", " whose": "framing_lost"}[m[4]]
            logged[ev] = logged.get(ev, 0) + int(m[2])
        t.eq(logged, {ev: final[ev] for ev in ("refused", "evicted", "message_timeout",
                                               "framing_lost") if final[ev]},
             "the log lines' counts add up to the counters")
    finally:
        if good and good.is_alive():
            good.finish()
        if d.alive():
            d.stop()
        tmp.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
