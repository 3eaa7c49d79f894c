"""e2e.py: shared helpers for the end-to-end tests (Python 3 standard library only).

Each test script takes the path of the built `logwarden` binary as its only
argument, runs it on a temporary config against real peers on 127.0.0.1, waits
on conditions with deadlines (never bare sleeps), and ends with one line
`N passed, N failed`; the exit code is non-zero when anything failed.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "tests", "data")


class Checks:
    """Counts checks; prints each failure with both sides, and the closing line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}")
            if detail:
                for line in str(detail).rstrip("\n").split("\n"):
                    print(f"     {line}")
        sys.stdout.flush()
        return bool(cond)

    def eq(self, actual, expected, what):
        return self.check(actual == expected, what,
                          f"expected: {expected!r}\nactual:   {actual!r}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def binary_from_argv():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} PATH/TO/logwarden", file=sys.stderr)
        sys.exit(2)
    path = os.path.abspath(sys.argv[1])
    if not os.access(path, os.X_OK):
        print(f"{path}: not an executable", file=sys.stderr)
        sys.exit(2)
    return path


def free_port():
    """A loopback port that was free a moment ago (for a server started late)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout, interval=0.05):
    """Polls cond() until it returns something truthy or the deadline passes.
    Returns the last value of cond()."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class TempDir:
    """A temporary directory, kept when LW_E2E_KEEP=1 (for looking at after a failure)."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=f"lw-e2e-{prefix}-")

    def write(self, rel, text):
        full = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
        return full

    def join(self, *rel):
        return os.path.join(self.path, *rel)

    def cleanup(self):
        if os.environ.get("LW_E2E_KEEP") == "1":
            print(f"     (kept {self.path})")
            return
        shutil.rmtree(self.path, ignore_errors=True)


def run(argv, timeout=60, env=None, cwd=None):
    """Runs a command to completion; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=env, cwd=cwd)


class Daemon:
    """`logwarden run -c CONFIG` in the background, stdout and stderr to files
    (so a chatty daemon can never block on a full pipe)."""

    def __init__(self, binary, config, workdir, env=None):
        self.out_path = os.path.join(workdir, "daemon.stdout")
        self.err_path = os.path.join(workdir, "daemon.stderr")
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([binary, "run", "-c", config], stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err, cwd=workdir, env=env)

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=10):
        """SIGTERM, then waits; returns the exit code, or None if it had to be killed."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self._out.close()
        self._err.close()
        return code


def metrics(port):
    """The daemon's /metrics on 127.0.0.1:port as {name or name{labels}: value}; {} if down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def tail(text, n=30):
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[-n:])


def parse_json_lines(text):
    """Parses one JSON object per non-empty line; returns (objects, bad lines)."""
    objs, bad = [], []
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            objs.append(json.loads(line))
        except ValueError:
            bad.append(line)
    return objs, bad
