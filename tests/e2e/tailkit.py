"""tailkit.py: shared parts of the file-tailing tests (test_tail_*.py): writers whose lines carry
sequence numbers, a daemon config that counts every line per sequence number in the state file,
and the exactly-once check.

Every line is "seq N". The rule groups a count alert by n over a 1 h window, so the state file's
buckets hold, per sequence number, how many times it was counted: after a clean stop each
written number must have exactly 1 (none missing, none twice).
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import e2e

RULES = r"""
events:
  - name: seq
    match: '^seq (?<n>\d+)$'
alerts:
  - name: Seen
    event: seq
    window: 1h
    group_by: [n]
    count: {above: 100000000}
    max_groups: 1000000
"""

CONFIG = """
state: state.db
log_level: {level}
rules: [rules.yaml]
inputs:
  - name: app
    type: file
    paths: {paths}
    poll_interval: {poll}
    start_at: {start_at}
{extra}sinks:
  - name: out
    type: file
    path: alerts.jsonl
http:
  listen: 127.0.0.1:{port}
"""


class Setup:
    """A temporary folder with rules, a config following paths, and a metrics port."""

    def __init__(self, prefix, paths, poll="250ms", start_at="beginning", level="info",
                 extra=""):
        self.tmp = e2e.TempDir(prefix)
        self.tmp.write("rules.yaml", RULES)
        self.port = e2e.free_port()
        self.cfg = self.tmp.write("logwarden.yaml", CONFIG.format(
            paths="[" + ", ".join(self.tmp.join(p) for p in paths) + "]", poll=poll,
            start_at=start_at, port=self.port, level=level, extra=extra))
        self.binary = e2e.binary_from_argv()

    def join(self, *rel):
        return self.tmp.join(*rel)

    def daemon(self):
        return e2e.Daemon(self.binary, self.cfg, self.tmp.path)

    def metric(self, name):
        """Sum of a metric's samples for input app (or None when the daemon does not answer)."""
        m = e2e.metrics(self.port)
        if not m:
            return None
        return sum(v for k, v in m.items()
                   if k.startswith(name + "{") and 'input="app"' in k)

    def has_position(self):
        """Whether the state file holds a position of input app."""
        try:
            db = sqlite3.connect(f"file:{self.join('state.db')}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return False
        try:
            return db.execute("SELECT count(*) FROM checkpoints WHERE input = 'app'"
                              ).fetchone()[0] > 0
        except sqlite3.Error:
            return False
        finally:
            db.close()

    def positions(self):
        """{stream: position} of input app in the state file."""
        db = sqlite3.connect(f"file:{self.join('state.db')}?mode=ro", uri=True, timeout=10)
        try:
            return {r[0]: bytes(r[1]).decode() for r in db.execute(
                "SELECT stream, pos FROM checkpoints WHERE input = 'app'")}
        finally:
            db.close()

    def counts(self):
        """{sequence number: times counted} from the state file."""
        db = sqlite3.connect(f"file:{self.join('state.db')}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute("SELECT grp, sum(count) FROM buckets WHERE alert = 'Seen' "
                              "GROUP BY grp").fetchall()
        finally:
            db.close()
        out = {}
        for grp, n in rows:
            # grp is the group labels as canonical JSON: {"n":"123"}
            k = int(grp.split('"n":"', 1)[1].split('"', 1)[0])
            out[k] = out.get(k, 0) + int(n)
        return out


def wait_lines(s, d, n, timeout=30):
    """Waits until the daemon has read at least n lines (its /metrics)."""
    def done():
        m = e2e.metrics(s.port)
        return m.get('logwarden_input_lines_total{input="app"}', 0) >= n
    return e2e.wait_for(done, timeout)


def wait_following(c, d, path, timeout=10):
    """Waits until the daemon says it follows path (its first look is done)."""
    c.check(e2e.wait_for(lambda: f"following {path} " in d.stderr(), timeout),
            f"the daemon follows {os.path.basename(path)}", e2e.tail(d.stderr()))


def exactly_once(c, counts, n, what, allowed_missing=frozenset()):
    """Checks that 0..n-1 were each counted once (those in allowed_missing at most once)."""
    missing = [i for i in range(n) if counts.get(i, 0) == 0 and i not in allowed_missing]
    twice = [i for i in range(n) if counts.get(i, 0) > 1]
    extra = [k for k in counts if k < 0 or k >= n]
    c.check(not missing and not twice and not extra, f"{what}: each of {n} lines counted once",
            f"missing {len(missing)} {runs(missing)}, twice {len(twice)} {runs(twice)}, "
            f"unknown {extra[:10]}")
    return missing, twice


def runs(xs, limit=8):
    """Compact ranges of sorted ints, for messages."""
    out, start, prev = [], None, None
    for x in sorted(xs):
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            out.append((start, prev))
            start = prev = x
    if start is not None:
        out.append((start, prev))
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in out[:limit]) + \
        (" ..." if len(out) > limit else "")


class Writer:
    """Appends "seq N" lines to path at full speed from a thread, one write(2) each, reopening
    the path when reopen() is called (as an application does on SIGHUP after logrotate)."""

    def __init__(self, path, total, start=0, lines_per_write=1, pace=0.0):
        self.path, self.total, self.next = path, total, start
        self.per = lines_per_write
        self.pace = pace
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._reopen = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def reopen(self):
        """Reopens the path before the next write; returns once it has."""
        with self.lock:
            os.close(self.fd)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _run(self):
        while self.next < self.total:
            with self.lock:
                k = min(self.per, self.total - self.next)
                os.write(self.fd, "".join(f"seq {i}\n" for i in
                                          range(self.next, self.next + k)).encode())
                self.next += k
            if self.pace:
                time.sleep(self.pace)

    def join(self, timeout=120):
        self.thread.join(timeout)
        with self.lock:
            os.close(self.fd)


def write_lines(path, a, b, mode="a"):
    with open(path, mode) as f:
        f.writelines(f"seq {i}\n" for i in range(a, b))
