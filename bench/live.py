"""live.py: shared helpers for the live-daemon benchmarks latency.py and soak.py (standard library only).

- Pool: a block of generated lines (gen.py's generator, seeded) with every timestamp at one
  sentinel second, replayed in a loop with the timestamps rewritten to the current second, so a
  writer can feed 100 000 lines/s of current-time lines for ~3 % of a core (generating them live
  costs ~3 us a line: 30 % of a core at that rate).
- Feeder: a thread appending Pool lines to a file at a paced rate (a chunk every 10 ms, catching
  up when behind), optionally rotating the file (rename + create, as logrotate), and writing
  extra lines (probes) handed to it, each with its own write(), timed.
- Daemon: `logwarden run -c CONFIG` as a child process: waits for its "running:" line, reads its
  CPU time and RSS from /proc, its /metrics, and its "stopped:" line on SIGTERM.
"""
import array
import calendar
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import gen

SENTINEL = calendar.timegm((2001, 1, 1, 0, 0, 0, 0, 0, 0))  # every pool line carries this second
CLK_TCK = os.sysconf("SC_CLK_TCK")


def stamps(t):
    """The timestamp strings gen.py writes for second t (CLF, RFC 3339, syslog, postgres, redis),
    as bytes; RFC 3339 comes before the postgres form (same date, 'T' instead of ' ')."""
    c = gen.Clock(t)
    return [s.encode() for s in (c.iso, c.pg, c.clf, c.bsd, c.redis)]


class Pool:
    """nlines of gen.py output (kind nginx or mix), seeded, all at the SENTINEL second. The
    incidents of gen.py's schedule are kept (virtual time advances at gen.py's rate: 2000 lines/s,
    mix 3000), so alerts fire and resolve when the pool is replayed."""

    def __init__(self, kind, seed, nlines):
        g = gen.Gen(seed, SENTINEL)
        rate = 3000 if kind == "mix" else 2000
        parts, n, vt = [], 0, SENTINEL
        while n < nlines:
            active = g.incidents.at(vt)
            lines = gen.second_lines(g, kind, rate, active)[:nlines - n]
            parts.append("".join(lines).encode())
            n += len(lines)
            vt += 1  # the incident schedule moves on; the clock (the text) stays at SENTINEL
        self.blob = b"".join(parts)
        self.offs = array.array("Q", [0])
        pos = self.blob.find(b"\n")
        while pos >= 0:
            self.offs.append(pos + 1)
            pos = self.blob.find(b"\n", pos + 1)
        self.n = len(self.offs) - 1
        self.kind = kind
        self._from = stamps(SENTINEL)
        self._sec, self._to = None, None

    def take(self, i, count, now):
        """Lines i .. i+count-1 (modulo the pool) with their timestamps set to second `now`."""
        out = []
        while count > 0:
            j = i % self.n
            k = min(self.n, j + count)
            out.append(self.blob[self.offs[j]:self.offs[k]])
            count -= k - j
            i += k - j
        b = b"".join(out)
        sec = int(now)
        if sec != self._sec:
            self._sec, self._to = sec, stamps(sec)
        kinds = range(5) if self.kind == "mix" else (2,)  # nginx lines carry CLF only
        for x in kinds:
            b = b.replace(self._from[x], self._to[x])
        return b


class Feeder(threading.Thread):
    """Appends pool lines to `path` at `rate` lines/s, a chunk every `tick` seconds, for
    `duration` seconds (or until stop()). Lines handed to inject() are written on their own,
    between chunks, and reported with on_inject(tag, t_mono, t_wall) right after their write().
    rotate_bytes > 0: when the file reaches that size it is renamed to PATH.1 (the previous
    PATH.1 is deleted) and a new PATH is created, as logrotate's create mode."""

    def __init__(self, path, pool, rate, duration=None, tick=0.01, rotate_bytes=0, on_inject=None):
        super().__init__(daemon=True)
        self.path, self.pool, self.rate, self.duration, self.tick = path, pool, rate, duration, tick
        self.rotate_bytes, self.on_inject = rotate_bytes, on_inject
        self.q = queue.Queue()
        self._halt = threading.Event()
        self.lines = self.bytes = self.injected = self.rotations = 0
        self.behind_max = 0.0  # the largest backlog seen, in seconds of lines
        self.t0 = self.t1 = None
        self.cpu = 0.0  # this thread's CPU seconds
        self.error = None

    def inject(self, tag, line):
        self.q.put((tag, line))

    def stop(self):
        self._halt.set()

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the caller
            self.error = e

    def _open(self):
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _run(self):
        c0 = time.thread_time()
        fd = self._open()
        size = os.fstat(fd).st_size
        self.t0 = t0 = time.monotonic()
        k = 0
        max_chunk = max(1, int(self.rate * 0.25))  # catch up at most 250 ms of lines per write
        try:
            while not self._halt.is_set():
                now = time.monotonic()
                if self.duration is not None and now - t0 >= self.duration:
                    break
                due = int(self.rate * (now - t0)) - self.lines
                self.behind_max = max(self.behind_max, due / self.rate)
                while due > 0:
                    n = min(due, max_chunk)
                    b = self.pool.take(self.lines, n, time.time())
                    os.write(fd, b)
                    self.lines += n
                    self.bytes += len(b)
                    size += len(b)
                    due -= n
                while not self.q.empty():
                    tag, line = self.q.get_nowait()
                    line = line() if callable(line) else line  # built at the last moment (its timestamp)
                    os.write(fd, line)
                    tm, tw = time.monotonic(), time.time()
                    self.injected += 1
                    size += len(line)
                    if self.on_inject:
                        self.on_inject(tag, tm, tw)
                if self.rotate_bytes and size >= self.rotate_bytes:
                    os.close(fd)
                    old = self.path + ".1"
                    if os.path.exists(old):
                        os.unlink(old)  # the daemon has long drained it (or holds it open)
                    os.rename(self.path, old)
                    fd = self._open()
                    size = 0
                    self.rotations += 1
                k += 1
                delay = t0 + k * self.tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    k = int((time.monotonic() - t0) / self.tick)  # behind: no burst of ticks
        finally:
            os.close(fd)
            self.t1 = time.monotonic()
            self.cpu = time.thread_time() - c0

    def achieved(self):
        """Lines per second over the feeding time."""
        end = self.t1 or time.monotonic()
        return self.lines / (end - self.t0) if self.t0 and end > self.t0 else 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STOP_RE = re.compile(r"stopped: (\d+) lines, (\d+) events, (\d+) late, (\d+) transitions")


class Daemon:
    """`logwarden run -c cfg` started in `cwd`, its stderr in cwd/stderr.log."""

    def __init__(self, binary, cfg, cwd, http_port=None):
        self.err_path = os.path.join(cwd, "stderr.log")
        self.http_port = http_port
        self._errf = open(self.err_path, "wb")
        self.p = subprocess.Popen([binary, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                  stderr=self._errf, cwd=cwd)
        self.pid = self.p.pid
        deadline = time.time() + 20
        while "running:" not in self.log():
            if self.p.poll() is not None or time.time() > deadline:
                self.kill()
                raise RuntimeError("daemon did not start: " + self.log().strip()[-400:])
            time.sleep(0.02)

    def log(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def cpu(self):
        """User + system CPU seconds of the whole process (all threads)."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def status_kb(self, key):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def metrics(self):
        """/metrics as {name{labels}: value} (needs http: in the config)."""
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.http_port, timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def stop(self, timeout=60):
        """SIGTERM, wait; returns (rc, dict of the "stopped:" counts or None)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._errf.close()
        m = STOP_RE.search(self.log())
        counts = None
        if m:
            counts = dict(zip(("lines", "events", "late", "transitions"), (int(x) for x in m.groups())))
        return self.p.returncode, counts

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def percentile(xs, q):
    """The q-quantile (0..1) of xs, nearest rank."""
    s = sorted(xs)
    if not s:
        return float("nan")
    i = max(0, min(len(s) - 1, int(-(-q * len(s) // 1)) - 1))
    return s[i]


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ("" when it says none)."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def machine():
    return "%d cores, %s, load %.2f %.2f %.2f" % ((os.cpu_count(), cpu_model()) + os.getloadavg())
