"""e2e.py: shared helpers for the end-to-end tests (Python 3 standard library only).

Each test script takes the path of the built `logwarden` binary as its only
argument, runs it on a temporary config against real peers on 127.0.0.1, waits
on conditions with deadlines (never bare sleeps), and ends with one line
`N passed, N failed`; the exit code is non-zero when anything failed.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


def held_port():
    """A loopback port bound but not listening, and the socket holding it: connections to it are
    refused (a receiver that is down) and no other test's server can take it meanwhile. Close the
    socket just before starting the server that takes the port."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1], s


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


class Answer:
    """How the Receiver answers one request: status, headers, body; delay: seconds to hold the
    answer first (bounded: a stop ends it); retry_after: seconds for a Retry-After header;
    late: the delay outlasts the client's timeout, so the answer counts as none (code None)."""

    def __init__(self, status=200, headers=None, body=None, delay=0.0, retry_after=None,
                 late=False):
        self.status = status
        self.headers = dict(headers or {})
        if body is None:
            body = b'{"ok":true}' if status < 300 else b'{"error":"try later"}'
            self.headers.setdefault("Content-Type", "application/json")
        self.body = body.encode() if isinstance(body, str) else body
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)
        self.delay = delay
        self.late = late

    @staticmethod
    def of(step):
        """A script step as an Answer: an Answer, a status, (status, headers, body), or
        ("slow", seconds) for an answer held past the client's timeout."""
        if isinstance(step, Answer):
            return step
        if isinstance(step, int):
            return Answer(step)
        if step[0] == "slow":
            return Answer(202, body=b"{}", delay=step[1], late=True)
        return Answer(*step)


def alerts_of(req):
    """The alert objects of a webhook request ({"alerts": [...]}); [] for any other body."""
    doc = req["json"]
    if isinstance(doc, dict) and isinstance(doc.get("alerts"), list):
        return [a for a in doc["alerts"] if isinstance(a, dict)]
    return []


class Receiver:
    """A loopback HTTP receiver (127.0.0.1; port 0 picks a free one) that records every
    request and answers from a script: what the sinks' requests are checked against.

    Each request is recorded, in arrival order, as a dict: method, path, headers (dict),
    body (bytes), json (the parsed body, or None), wall and mono (arrival, time.time() and
    time.monotonic()), code (the status it is answered with; None for a `late` answer, one
    the client has given up on) and answered (the status once written; None until then, for a
    late answer, or when the client had gone).

    The first requests take the steps of `script` in order (see Answer.of); then
    `answer(n, req)` decides when given (n: the request's 0-based index; any step form); else
    200 {"ok":true}."""

    def __init__(self, port=0, script=None, answer=None):
        self.requests = []
        self.script = [Answer.of(s) for s in script or []]
        self.answer = answer
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self):
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                rx._serve(self)

            do_PUT = do_POST

            def log_message(self, fmt, *args):
                pass

        return Handler

    def _next(self, req):
        """The answer to req (called with the lock held: one step per request, in order)."""
        if self.script:
            return self.script.pop(0)
        if self.answer:
            return Answer.of(self.answer(len(self.requests), req))
        return Answer()

    def _serve(self, h):
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        req = {"method": h.command, "path": h.path, "headers": dict(h.headers), "body": body,
               "json": doc, "wall": time.time(), "mono": time.monotonic(), "code": None,
               "answered": None}
        with self.lock:
            a = self._next(req)
            req["code"] = None if a.late else a.status
            self.requests.append(req)
        if a.delay:
            self.stopping.wait(a.delay)
        try:
            h.send_response(a.status)
            for k, v in a.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(a.body)))
            h.end_headers()
            h.wfile.write(a.body)
            if not a.late:
                req["answered"] = a.status
        except OSError:
            pass  # the client gave up (its timeout): what a late answer is for

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def snapshot(self, path=None, ok_only=True, prefix=None):
        """The requests so far (a copy): only those to path, or under prefix, when given; only
        those answered 2xx unless ok_only is False."""
        with self.lock:
            return [r for r in self.requests
                    if (path is None or r["path"] == path)
                    and (prefix is None or r["path"].startswith(prefix))
                    and (not ok_only or (r["code"] is not None and 200 <= r["code"] < 300))]

    def under(self, prefix):
        """Every request under a path prefix, whatever it was answered."""
        return self.snapshot(prefix=prefix, ok_only=False)

    def alerts(self, path=None, **match):
        """(request, alert) pairs of the accepted webhook requests, in arrival order, for the
        alerts whose status/alert/fingerprint fields or labels equal the keywords given."""
        out = []
        for r in self.snapshot(path):
            for a in alerts_of(r):
                if all(a.get(k) == v if k in ("status", "alert", "fingerprint")
                       else (a.get("labels") or {}).get(k) == v for k, v in match.items()):
                    out.append((r, a))
        return out

    def wait_for(self, cond=None, timeout=10, **filters):
        """Waits until cond(requests) is truthy (default: any request), requests being
        snapshot(**filters); returns cond's last value."""
        cond = cond or (lambda reqs: reqs)
        return wait_for(lambda: cond(self.snapshot(**filters)), timeout)

    def stop(self):
        """Stops serving and ends any held answer; the port is free again."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    close = stop


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


def log_records(text):
    """The daemon's log lines, whichever format it wrote them in (`--log-format`: JSON lines by
    default when stderr is not a terminal, as here; text on a terminal): one dict per line with
    ts, level and msg (the message as the text format has it, "[input:NAME] ..." included), and
    for JSON lines their other fields (input, sink, component); None for a line that is
    neither (something else wrote on stderr)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
                continue
            except ValueError:
                pass
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0][:4].isdigit() and parts[0].endswith("Z"):
            out.append({"ts": parts[0], "level": parts[1], "msg": parts[2]})
        else:
            out.append(None)
    return out


def log_text(text):
    """The log as "LEVEL MESSAGE" lines (without the time), whichever format it was in."""
    return "\n".join(f"{r['level']} {r['msg']}" if r else "?" for r in log_records(text))


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
