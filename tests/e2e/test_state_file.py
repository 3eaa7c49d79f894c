#!/usr/bin/env python3
"""test_state_file.py: the state file is one daemon's, and only logwarden's; the daemon's own
files are its own.

- Two `run` on one state file: the second exits 1 naming the first one's pid, and sends
  nothing; `status`, `silence add` and the HTTP API work beside the running daemon; once the
  first stops, a new `run` starts.
- The state file is created 0600 and marked as logwarden's (SQLite application_id).
- Another application's SQLite database, a text file: `run` exits 1, `status` and `silence`
  exit 2, each with a clear message, and the file is left byte for byte as it was (sha256),
  with no -wal or -shm beside it.
- An empty file is a new state file; a state file from before the mark (application_id 0,
  logwarden's tables) opens, keeps its data and is marked.
- A damaged state file (pages overwritten; truncated) is refused at start, exit 1, with what
  PRAGMA quick_check says, and left as it was.
- Running as root is warned about; as another user it is not.
- The file sink refuses a symbolic link at its path (O_NOFOLLOW): the file it points to is not
  written, the error says why, and the alert is delivered once the link is replaced by a file.

usage: test_state_file.py PATH/TO/logwarden
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import time
import urllib.request

import e2e

APP_ID = 0x4C575244

RULES = r"""
events:
  - name: hit
    match: '^hit (?<n>\S+)$'
alerts:
  - name: Hit
    event: hit
    group_by: [n]
    window: 10m
    count: {above: 0}
"""


def config(http_port=None, sink_path="alerts.jsonl"):
    lines = ["state: state.db", "rules: [rules.yaml]", "inputs:", "  - name: app",
             "    type: file", "    paths: [app.log]", "    start_at: beginning", "sinks:",
             "  - name: out", "    type: file", f"    path: {sink_path}",
             "notify: {group_wait: 0s}"]
    if http_port:
        lines.insert(1, f"http: {{listen: 127.0.0.1:{http_port}}}")
    return "\n".join(lines) + "\n"


class Dir:
    """A temporary folder with rules, config and an (empty) log file."""

    def __init__(self, name, **kw):
        self.td = e2e.TempDir(name)
        self.td.write("rules.yaml", RULES)
        self.config = self.td.write("logwarden.yaml", config(**kw))
        self.log = self.td.join("app.log")
        self.state = self.td.join("state.db")
        open(self.log, "w").close()

    def join(self, *rel):
        return self.td.join(*rel)

    def write(self, *lines):
        with open(self.log, "a") as f:
            f.write("".join(l + "\n" for l in lines))

    def alerts(self):
        try:
            with open(self.join("alerts.jsonl")) as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def start(self):
        d = e2e.Daemon(BINARY, self.config, self.td.path)
        e2e.wait_for(lambda: "running" in d.stderr() or not d.alive(), 10)
        return d

    def cli(self, *args):
        return e2e.run([BINARY, *args], timeout=30, cwd=self.td.path)

    def run_briefly(self, timeout=10, config=None):
        """`run` that is expected to exit by itself: (exit code or None if it kept running,
        stderr)."""
        p = subprocess.Popen([BINARY, "run", "-c", config or self.config], cwd=self.td.path,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, errors="replace")
        try:
            _, err = p.communicate(timeout=timeout)
            return p.returncode, err
        except subprocess.TimeoutExpired:
            p.terminate()
            try:
                _, err = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            return None, err

    def siblings(self):
        return sorted(f for f in os.listdir(self.td.path) if f.startswith("state.db"))

    def cleanup(self):
        self.td.cleanup()


class Checks(e2e.Checks):
    def eq(self, actual, expected, what, detail=""):
        extra = f"\n{detail}" if detail else ""
        return self.check(actual == expected, what,
                          f"expected: {expected!r}\nactual:   {actual!r}{extra}")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def app_id(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return c.execute("PRAGMA application_id").fetchone()[0]
    finally:
        c.close()


def make_state(t, name, lines=300):
    """A state file made by the daemon, with windows and alert states of `lines` groups."""
    d = Dir(name)
    d.write(*[f"hit g{i}" for i in range(lines)])
    p = d.start()
    e2e.wait_for(lambda: len(d.alerts()) >= lines, 15)
    r = d.cli("silence", "add", "-c", d.config, "n=g1", "--for", "1h", "--comment", "kept")
    t.eq(r.returncode, 0, f"{name}: silence add while the daemon runs")
    t.eq(p.stop(timeout=15), 0, f"{name}: the daemon that made the state file stops, exit 0")
    return d


def one_daemon(t):
    port = e2e.free_port()
    d = Dir("onedaemon", http_port=port)
    d.write("hit a", "hit b", "hit c")
    first = d.start()
    try:
        t.check(first.alive(), "first daemon running", first.stderr())
        t.check(e2e.wait_for(lambda: len(d.alerts()) == 3, 10), "first daemon sends 3 alerts",
                repr(d.alerts()))
        mode = stat.S_IMODE(os.stat(d.state).st_mode)
        t.eq(oct(mode), oct(0o600), "the state file is created 0600")
        for side in ("state.db-wal", "state.db-shm"):
            if os.path.exists(d.join(side)):
                t.eq(oct(stat.S_IMODE(os.stat(d.join(side)).st_mode)), oct(0o600),
                     f"{side} is 0600 too")
        t.eq(hex(app_id(d.state)), hex(APP_ID), "the state file is marked (application_id)")

        # The same state file, inputs and sink, without `http:` (its port is the first's).
        second = d.td.write("second.yaml", config())
        code, err = d.run_briefly(config=second)
        t.eq(code, 1, "a second `run` on the same state file exits 1", err)
        m = re.search(r"state file \S*state\.db is in use by pid (\d+)", err)
        t.check(m and int(m.group(1)) == first.proc.pid,
                f"... saying the file is in use by the first one's pid {first.proc.pid}", err)
        time.sleep(1)
        t.eq(len(d.alerts()), 3, "no alert was sent twice", repr(d.alerts()))

        r = d.cli("status", "-c", d.config)
        t.check(r.returncode == 0 and r.stdout.count("firing") == 3,
                "`status` reads beside the daemon (3 firing)", r.stdout + r.stderr)
        r = d.cli("silence", "add", "-c", d.config, "n=zzz", "--for", "1h")
        t.eq(r.returncode, 0, "`silence add` writes beside the daemon", r.stderr)
        r = d.cli("silence", "list", "-c", d.config)
        t.check(r.returncode == 0 and "n=zzz" in r.stdout, "`silence list` shows it",
                r.stdout + r.stderr)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/alerts", timeout=5) as rsp:
                body = json.loads(rsp.read())
        except Exception as e:  # noqa: BLE001 - any failure is the check's failure
            body = repr(e)
        t.check(isinstance(body, list) and len(body) == 3, "/api/alerts reads beside it",
                repr(body))
    finally:
        t.eq(first.stop(timeout=15), 0, "first daemon: SIGTERM -> exit 0")
    again = d.start()
    t.check(again.alive() and "running" in again.stderr(),
            "once the first has stopped, a new `run` starts", again.stderr())
    t.eq(again.stop(timeout=15), 0, "... and stops, exit 0")
    d.cleanup()


def refused(t, name, make, words):
    """A file that is not logwarden's: refused by run, status and silence, left untouched."""
    d = Dir(name)
    d.write("hit a")
    make(d.state)
    before = sha256(d.state)
    code, err = d.run_briefly()
    t.eq(code, 1, f"{name}: `run` exits 1", err)
    t.check(all(w in err for w in words), f"{name}: the message says {words}", err)
    r = d.cli("status", "-c", d.config)
    t.check(r.returncode == 2 and "not a logwarden state file" in r.stderr,
            f"{name}: `status` exits 2, not a logwarden state file", r.stdout + r.stderr)
    r = d.cli("silence", "add", "-c", d.config, "n=a", "--for", "1h")
    t.check(r.returncode == 2 and "not a logwarden state file" in r.stderr,
            f"{name}: `silence add` exits 2, not a logwarden state file", r.stdout + r.stderr)
    t.eq(sha256(d.state), before, f"{name}: the file is byte for byte as it was")
    # state.db.lock is the daemon's own (taken before the file is looked at), not SQLite's.
    t.eq([f for f in d.siblings() if f != "state.db.lock"], ["state.db"],
         f"{name}: no -wal, -shm or -journal added beside it")
    t.eq(d.alerts(), [], f"{name}: nothing sent")
    d.cleanup()


def foreign_sqlite(path):
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    c.executemany("INSERT INTO customers (name) VALUES (?)", [(f"c{i}",) for i in range(50)])
    c.commit()
    c.close()


def foreign_sqlite_with_id(path):
    c = sqlite3.connect(path)
    c.execute("PRAGMA application_id = 1")
    c.execute("CREATE TABLE outbox (id INTEGER)")  # a name logwarden uses too
    c.commit()
    c.close()


def text_file(path):
    with open(path, "w") as f:
        f.write("this is a text file: someone's notes, not a database\n" * 20)


def empty_and_legacy(t):
    d = Dir("empty")
    open(d.state, "w").close()
    d.write("hit a")
    p = d.start()
    t.check(p.alive() and e2e.wait_for(lambda: len(d.alerts()) == 1, 10),
            "an empty (0-byte) file is taken as a new state file", p.stderr())
    t.eq(p.stop(timeout=15), 0, "empty: exit 0")
    t.eq(hex(app_id(d.state)), hex(APP_ID), "empty: now marked as logwarden's")
    d.cleanup()

    d = make_state(t, "legacy", lines=5)
    c = sqlite3.connect(d.state)
    c.execute("PRAGMA application_id = 0")  # as every logwarden before the mark made it
    c.commit()
    c.close()
    p = d.start()
    t.check(p.alive() and "running" in p.stderr(),
            "legacy: a state file of an older logwarden (application_id 0) opens", p.stderr())
    r = d.cli("silence", "list", "-c", d.config)
    t.check("kept" in r.stdout, "legacy: its data is kept (the silence)", r.stdout + r.stderr)
    t.eq(p.stop(timeout=15), 0, "legacy: exit 0")
    t.eq(hex(app_id(d.state)), hex(APP_ID), "legacy: now marked as logwarden's")
    t.eq(len(d.alerts()), 5, "legacy: no alert sent again", repr(d.alerts()))
    d.cleanup()


def damaged(t):
    for how in ("overwritten", "truncated"):
        d = make_state(t, f"damaged-{how}")
        with open(d.state, "rb") as f:
            data = bytearray(f.read())
        t.check(len(data) > 64 * 1024, f"{how}: a state file of some size ({len(data)} bytes)")
        if how == "overwritten":
            at = len(data) // 3
            data[at:at + 8192] = b"\x5a" * 8192
        else:
            data = data[:len(data) // 2]
        with open(d.state, "wb") as f:
            f.write(data)
        before = sha256(d.state)
        code, err = d.run_briefly(timeout=15)
        t.eq(code, 1, f"{how}: `run` refuses it at start, exit 1", err)
        t.check("damaged" in err and "PRAGMA quick_check says:" in err,
                f"{how}: with what PRAGMA quick_check says", err)
        t.eq(sha256(d.state), before, f"{how}: the file is left as it was")
        d.cleanup()


def root_warning(t):
    d = Dir("root")
    if os.geteuid() == 0:
        p = d.start()
        t.check("started as root" in p.stderr(), "as root: warned about at start", p.stderr())
        p.stop(timeout=15)
        if shutil.which("setpriv"):
            d.td.write("logwarden2.yaml",
                       config(sink_path="nobody.jsonl").replace("state.db", "nobody.db"))
            os.chmod(d.td.path, 0o777)
            for f in os.listdir(d.td.path):
                os.chmod(d.join(f), 0o666)
            r = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534",
                                  "--clear-groups", BINARY, "run", "-c", "logwarden2.yaml"],
                                 cwd=d.td.path, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(2)
            r.terminate()
            _, err = r.communicate(timeout=20)
            t.check("running" in err and "as root" not in err,
                    "as another user: no warning", err)
    elif shutil.which("unshare"):
        r = subprocess.Popen(["unshare", "-r", BINARY, "run", "-c", d.config], cwd=d.td.path,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        r.terminate()
        _, err = r.communicate(timeout=20)
        if "running" in err:
            t.check("started as root" in err, "as root (user namespace): warned about", err)
    d.cleanup()


def file_sink_symlink(t):
    d = Dir("nofollow")
    victim = d.td.write("victim.txt", "victim\n")
    os.symlink(victim, d.join("alerts.jsonl"))
    d.write("hit a")
    p = d.start()
    try:
        t.check(e2e.wait_for(lambda: "symbolic link" in p.stderr(), 10),
                "file sink: a symbolic link at its path is refused with a clear error",
                p.stderr())
        with open(victim) as f:
            t.eq(f.read(), "victim\n", "file sink: the file it points to is not written")
        os.unlink(d.join("alerts.jsonl"))
        open(d.join("alerts.jsonl"), "w").close()
        t.check(e2e.wait_for(lambda: len(d.alerts()) == 1, 15),
                "file sink: the alert waited in the outbox and is written once the link is a "
                "file", p.stderr())
    finally:
        t.eq(p.stop(timeout=15), 0, "file sink: exit 0")
    d.cleanup()


def main():
    global BINARY
    BINARY = e2e.binary_from_argv()
    t = Checks()
    one_daemon(t)
    refused(t, "foreign", foreign_sqlite, ["not a logwarden state file", "another application"])
    refused(t, "foreign-id", foreign_sqlite_with_id,
            ["not a logwarden state file", "application_id 0x00000001"])
    refused(t, "text", text_file, ["not a logwarden state file", "not an SQLite database"])
    empty_and_legacy(t)
    damaged(t)
    root_warning(t)
    file_sink_symlink(t)
    t.finish()


if __name__ == "__main__":
    main()
