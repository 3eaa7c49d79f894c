#!/usr/bin/env python3
"""feeder.py: drives the demo with real log lines, stamped now, at a bursty pace.

Appends lines from the bundled real logs (examples/demo/data/, see its README)
to DIR/access.log and DIR/secure.log, rewriting each line's timestamp to now in
the line's own format, and sends sshd messages as RFC 3164 syslog over UDP.
Background traffic flows all the time; every SCENARIO_GAP seconds one incident
plays, in turn:

  ssh brute force   15 failed passwords from one IP in ~7 s  -> SshBruteForce
  404 scan          30 honeypot 404s from one IP in ~6 s     -> NotFoundScan
  5xx burst         8 server errors in ~4 s                  -> ServerErrorBurst
  syslog brute force 14 failed passwords over UDP in ~6 s    -> SshBruteForce

Each alert resolves once its 30 s window has emptied. Times are UTC (syslog
timestamps carry no zone; run.sh sets TZ=UTC for the daemon too).
Stops cleanly on SIGTERM or SIGINT, or after --duration seconds.

usage: feeder.py [--dir var/demo] [--syslog 127.0.0.1:5514] [--duration S] [--seed N]
"""

import argparse
import os
import random
import re
import signal
import socket
import sys
import threading
import time

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
SCENARIO_GAP = 20.0

stop = threading.Event()


def load(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return [line.rstrip(b"\r\n") for line in f if line.strip()]


APACHE_TS = re.compile(rb"\[[^\]]*\]")
SYSLOG_TS = re.compile(rb"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ")


def apache_now():
    t = time.gmtime()
    return (f"[{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000]").encode()


def syslog_now():
    t = time.gmtime()
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} ".encode()


def restamp_access(line):
    return APACHE_TS.sub(lambda m: apache_now(), line, count=1)


def restamp_secure(line):
    return SYSLOG_TS.sub(lambda m: syslog_now(), line, count=1)


class Feeder:
    def __init__(self, args):
        self.dir = args.dir
        self.rng = random.Random(args.seed)
        host, port = args.syslog.rsplit(":", 1)
        self.syslog_addr = (host, int(port))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.access = open(os.path.join(self.dir, "access.log"), "ab")
        self.secure = open(os.path.join(self.dir, "secure.log"), "ab")

        self.traffic = load("apache_logs.1-2000")
        self.errors = load("apache_logs.5xx")
        honeypot = load("access_log.24.3000-3400")
        self.scan = [l for l in honeypot if l.startswith(b"82.82.97.119 ") and b'" 404 ' in l]
        secure = load("secure-20110710")
        failed = [l for l in secure if b"Failed password" in l]
        self.brute_file = [l for l in failed if b"from 59.108.33.66 " in l]
        self.brute_udp = [l for l in failed if b"from 59.108.33.66 " not in l]
        self.secure_noise = [l for l in secure if b"Failed password" not in l]
        self.pos = {"traffic": 0, "scan": 0, "brute_file": 0, "brute_udp": 0, "noise": 0}

    def next_of(self, key, pool):
        line = pool[self.pos[key] % len(pool)]
        self.pos[key] += 1
        return line

    def write(self, f, lines):
        f.write(b"".join(l + b"\n" for l in lines))
        f.flush()

    def send_syslog(self, line):
        """A /var/log/secure line as the RFC 3164 message sshd would have sent
        (facility authpriv, severity info: PRI 86)."""
        msg = SYSLOG_TS.sub(b"", line, count=1)
        self.udp.sendto(b"<86>" + syslog_now() + msg, self.syslog_addr)

    def burst(self, n, seconds, emit):
        """n lines over about `seconds`, in irregular clumps, as attacks arrive."""
        sent = 0
        while sent < n and not stop.is_set():
            k = min(n - sent, self.rng.randint(1, 4))
            for _ in range(k):
                emit()
            sent += k
            stop.wait(seconds / n * k * self.rng.uniform(0.5, 1.5))

    def background(self):
        """Ordinary traffic: a few requests most ticks, now and then an sshd line."""
        while not stop.is_set():
            n = self.rng.choice([0, 1, 1, 2, 3, 5, 8])
            self.write(self.access, [restamp_access(self.next_of("traffic", self.traffic))
                                     for _ in range(n)])
            if self.rng.random() < 0.1:
                noise = self.next_of("noise", self.secure_noise)
                if self.rng.random() < 0.5:
                    self.write(self.secure, [restamp_secure(noise)])
                else:
                    self.send_syslog(noise)
            stop.wait(self.rng.uniform(0.2, 0.8))

    def scenarios(self):
        plays = [
            ("ssh brute force from 59.108.33.66 -> secure.log (15 lines)", lambda: self.burst(
                15, 7, lambda: self.write(self.secure, [
                    restamp_secure(self.next_of("brute_file", self.brute_file))]))),
            ("404 scan from 82.82.97.119 -> access.log (30 lines)", lambda: self.burst(
                30, 6, lambda: self.write(self.access, [
                    restamp_access(self.next_of("scan", self.scan))]))),
            ("5xx burst -> access.log (8 lines)", lambda: self.burst(
                8, 4, lambda: self.write(self.access, [
                    restamp_access(self.errors[self.rng.randrange(len(self.errors))])]))),
            ("ssh brute force over syslog udp://%s:%d (14 messages from one IP)" % self.syslog_addr,
             self.udp_brute_force),
        ]
        i = 0
        stop.wait(3.0)
        while not stop.is_set():
            name, play = plays[i % len(plays)]
            print(f"feeder: {time.strftime('%H:%M:%S', time.gmtime())} {name}",
                  file=sys.stderr, flush=True)
            play()
            i += 1
            stop.wait(SCENARIO_GAP)

    def udp_brute_force(self):
        # One attacker: the real lines of several sources in the file, all re-addressed to
        # one documentation address, so that they group together.
        def emit():
            line = self.next_of("brute_udp", self.brute_udp)
            line = re.sub(rb"from \S+ port", b"from 192.0.2.66 port", line)
            self.send_syslog(line)
        self.burst(14, 6, emit)

    def close(self):
        self.access.close()
        self.secure.close()
        self.udp.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default="var/demo", help="where access.log and secure.log are")
    ap.add_argument("--syslog", default="127.0.0.1:5514", help="UDP syslog target host:port")
    ap.add_argument("--duration", type=float, default=0, help="stop after S seconds (0: never)")
    ap.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable pace")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    os.makedirs(args.dir, exist_ok=True)
    feeder = Feeder(args)
    threads = [threading.Thread(target=feeder.background, daemon=True)]
    threads[0].start()
    if args.duration > 0:
        timer = threading.Timer(args.duration, stop.set)
        timer.daemon = True
        timer.start()
    try:
        feeder.scenarios()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=2)
        feeder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
