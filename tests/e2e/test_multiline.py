#!/usr/bin/env python3
"""test_multiline.py: multiline records end to end, and stdin's end of input.

1. A file input with `multiline: java` over a Java trace (printed by OpenJDK, tests/data/
   multiline/java.log) written line by line with pauses: each trace is one record (its rules see
   the log line, the exception and its `Caused by:` together); the last record, which no line
   follows, is completed by the timeout; no frame is ever a record of its own; /metrics counts
   the joined records.
   A record over max_lines is cut there, counted and logged, and the rest is not lost.
2. A Docker json-file (as dockerd writes it) with stdout and stderr interleaved and a line the
   engine split into 16 KiB parts: each stream's trace is joined on its own, after the parts.
3. kill -9 while a record is pending (its last frame not written yet), then a restart: the
   record is read again whole and counted once, and no other line is lost or counted twice.
4. `replay` and `test` see the same records as the daemon; `check` refuses multiline on a
   syslog input and a bad regex with FILE:LINE:COL.
5. `logwarden run` on stdin: `cat java.log | logwarden run -c cfg` exits 0 once its input ends,
   with the alert its last record fired delivered to a file sink despite a 30 s group_wait;
   with a file input besides, the daemon runs on and says stdin ended.

usage: test_multiline.py PATH/TO/logwarden
"""

import json
import os
import signal
import subprocess
import time

import e2e

JAVA_LOG = os.path.join(e2e.DATA, "multiline", "java.log")

JAVA_RULES = r"""
events:
  - name: caused
    match: '^\S+ \S+ ERROR .*\njava\.lang\.RuntimeException: startup failed\n(?s:.*)\nCaused by: java\.io\.FileNotFoundException: .*\n\tat .*\n\t\.\.\. 3 more$'
  - name: suppressed
    match: '^\S+ \S+ ERROR .* request failed\njava\.lang\.Exception: request failed\n\tat .*\n\tSuppressed: '
  - name: thread
    match: '^Exception in thread "worker-1" java\.lang\.NullPointerException: boom\n\tat .*\n\tat java\.base/java\.lang\.Thread\.run'
  - name: stray
    match: '^(?:\t| *Caused by|java\.)'
  - name: split
    match: '^\tat late\.Frame'
alerts:
  - {name: Caused, event: caused, window: 10m, count: {above: 0}}
  - {name: Suppressed, event: suppressed, window: 10m, count: {above: 0}}
  - {name: Thread, event: thread, window: 10m, count: {above: 0}}
  - {name: Stray, event: stray, window: 10m, count: {above: 0}}
  - {name: Split, event: split, window: 10m, count: {above: 0}}
"""


def read_alerts(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def firing(path, name):
    return [a for a in read_alerts(path) if a["alert"] == name and a["status"] == "firing"]


def java_lines():
    with open(JAVA_LOG, "rb") as f:
        return f.read().decode().splitlines(keepends=True)


def test_file_java(binary, c):
    tmp = e2e.TempDir("ml-java")
    port = e2e.free_port()
    tmp.write("rules.yaml", JAVA_RULES)
    cfg = tmp.write("logwarden.yaml", f"""
state: state.db
rules: [rules.yaml]
http: {{listen: '127.0.0.1:{port}'}}
inputs:
  - name: app
    type: file
    paths: [app.log]
    start_at: beginning
    multiline: java
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
notify: {{group_wait: 0s}}
""")
    log = tmp.join("app.log")
    open(log, "w").close()
    d = e2e.Daemon(binary, cfg, tmp.path)
    c.check(e2e.wait_for(lambda: "running" in d.stderr(), 10), "java: daemon running",
            e2e.tail(d.stderr()))
    # Line by line, 0.1 s apart (under the 1 s timeout), as a JVM writing a trace.
    with open(log, "a") as f:
        for line in java_lines():
            f.write(line)
            f.flush()
            time.sleep(0.1)
    alerts = tmp.join("alerts.jsonl")
    c.check(e2e.wait_for(lambda: firing(alerts, "Caused"), 15),
            "java: a trace with Caused by is one record with its log line", e2e.tail(d.stderr()))
    c.check(firing(alerts, "Suppressed"), "java: Suppressed joins its exception")
    # Nothing follows the last trace: the timeout completes it.
    c.check(e2e.wait_for(lambda: firing(alerts, "Thread"), 10),
            "java: the last record is completed by the timeout, no line after it")
    m = e2e.wait_for(lambda: e2e.metrics(port).get(
        'logwarden_multiline_records_total{input="app"}') == 3 and e2e.metrics(port), 10)
    c.eq((m or {}).get('logwarden_multiline_records_total{input="app"}'), 3,
         "java: /metrics counts 3 joined records")
    c.eq((m or {}).get('logwarden_multiline_cut_total{input="app",limit="max_lines"}'), 0,
         "java: none cut")
    c.eq(firing(alerts, "Stray"), [], "java: no frame or cause was a record of its own")
    # A pause longer than the timeout ends the record: the frame after it is one of its own.
    with open(log, "a") as f:
        f.write("2026-12-06 01:20:02.000 ERROR [main] com.example.App - late\n")
        f.flush()
        c.check(e2e.wait_for(lambda: e2e.metrics(port).get(
            'logwarden_input_lines_total{input="app"}') == len(java_lines()) + 1, 5),
            "java: the line before the pause is read")
        time.sleep(1.6)
        f.write("\tat late.Frame.run(Frame.java:1)\n")
    c.check(e2e.wait_for(lambda: firing(alerts, "Split"), 10),
            "java: after a pause over the timeout a frame is a record of its own")
    c.eq(d.stop(), 0, "java: SIGTERM exits 0")
    tmp.cleanup()


def docker_line(text, stream, t, partial=False):
    # dockerd's time: now (the alerts' windows are 10 minutes), t ms apart.
    ns = time.time_ns() + t * 1000000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9))
    return json.dumps({"log": text + ("" if partial else "\n"), "stream": stream,
                       "time": f"{stamp}.{ns % 10**9:09d}Z"}) + "\n"


def test_cut(binary, c):
    """A record over max_lines is cut, counted in /metrics and logged; no line is lost."""
    tmp = e2e.TempDir("ml-cut")
    port = e2e.free_port()
    tmp.write("rules.yaml", r"""
events:
  - {name: rec, match: '^(?:ERROR|\tat)'}
  - {name: frame, match: '\tat f(?<n>\d+)$'}
alerts:
  - {name: Records, event: rec, window: 10m, count: {above: 3}}
  - {name: TooMany, event: rec, window: 10m, count: {above: 4}}
  - {name: Last, event: frame, window: 10m, count: {above: 0}, group_by: [n]}
""")
    cfg = tmp.write("logwarden.yaml", f"""
state: state.db
rules: [rules.yaml]
http: {{listen: '127.0.0.1:{port}'}}
inputs:
  - name: app
    type: file
    paths: [app.log]
    start_at: beginning
    multiline: {{continue: '^\\t', max_lines: 3, timeout: 200ms}}
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
notify: {{group_wait: 0s}}
""")
    with open(tmp.join("app.log"), "w") as f:
        f.write("ERROR deep\n" + "".join(f"\tat f{i}\n" for i in range(1, 10)))
    d = e2e.Daemon(binary, cfg, tmp.path)
    key = 'logwarden_multiline_cut_total{input="app",limit="max_lines"}'
    m = e2e.wait_for(lambda: e2e.metrics(port).get(key) == 3 and e2e.metrics(port), 15)
    c.eq((m or {}).get(key), 3, "cut: 10 lines at max_lines 3: 3 cuts in /metrics")
    alerts = tmp.join("alerts.jsonl")
    c.check(e2e.wait_for(lambda: firing(alerts, "Records"), 10),
            "cut: 4 records (3, 3, 3 and 1 lines)")
    c.check(e2e.wait_for(lambda: any(a["labels"].get("n") == "9"
                                     for a in firing(alerts, "Last")), 10),
            "cut: the last frame is in a record (nothing dropped)")
    c.check("reached max_lines (3)" in d.stderr(), "cut: logged", e2e.tail(d.stderr()))
    c.eq(d.stderr().count("reached max_lines"), 1, "cut: logged once (rate-limited)")
    c.eq(d.stop(), 0, "cut: SIGTERM exits 0")
    c.eq(firing(alerts, "TooMany"), [], "cut: no more than 4 records")
    tmp.cleanup()


def test_docker_streams(binary, c):
    tmp = e2e.TempDir("ml-docker")
    port = e2e.free_port()
    long_msg = "x" * 20000  # dockerd splits it at 16 KiB into two json-file lines
    tmp.write("rules.yaml", r"""
events:
  - name: out
    match: '^ERROR out failed\njava\.lang\.IllegalStateException: x{20000}\n\tat com\.example\.A\.b\(A\.java:1\)\n\t\.\.\. 2 more$'
  - name: err
    match: '^WARN err\n\tat com\.example\.Err\.c\(Err\.java:2\)$'
alerts:
  - {name: Out, event: out, window: 10m, count: {above: 0}}
  - {name: Err, event: err, window: 10m, count: {above: 0}}
""")
    cfg = tmp.write("logwarden.yaml", f"""
state: state.db
rules: [rules.yaml]
http: {{listen: '127.0.0.1:{port}'}}
inputs:
  - name: dock
    type: file
    paths: [c0ffee-json.log]
    format: docker
    start_at: beginning
    multiline: {{continue: '^(?:\\tat |\\t\\.\\.\\. |java\\.)', timeout: 500ms}}
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
notify: {{group_wait: 0s}}
""")
    text = "java.lang.IllegalStateException: " + long_msg
    lines = [
        docker_line("ERROR out failed", "stdout", 0),
        docker_line("WARN err", "stderr", 1),
        docker_line(text[:16384], "stdout", 2, partial=True),
        docker_line("\tat com.example.Err.c(Err.java:2)", "stderr", 3),
        docker_line(text[16384:], "stdout", 4),
        docker_line("\tat com.example.A.b(A.java:1)", "stdout", 5),
        docker_line("\t... 2 more", "stdout", 6),
    ]
    with open(tmp.join("c0ffee-json.log"), "w") as f:
        f.writelines(lines)
    d = e2e.Daemon(binary, cfg, tmp.path)
    alerts = tmp.join("alerts.jsonl")
    c.check(e2e.wait_for(lambda: firing(alerts, "Out") and firing(alerts, "Err"), 15),
            "docker: stdout's and stderr's traces each joined, interleaved, after 16 KiB parts",
            e2e.tail(d.stderr()))
    m = e2e.metrics(port)
    c.eq(m.get('logwarden_partial_lines_joined_total{input="dock"}'), 1,
         "docker: /metrics counts the partial line joined")
    c.eq(m.get('logwarden_multiline_records_total{input="dock"}'), 2,
         "docker: /metrics counts 2 multiline records")
    c.eq(d.stop(), 0, "docker: SIGTERM exits 0")
    tmp.cleanup()


def test_kill_mid_record(binary, c):
    tmp = e2e.TempDir("ml-kill")
    tmp.write("rules.yaml", r"""
events:
  - name: rec
    match: '^(?:ok|ERROR|next)'
  - name: whole
    match: '^ERROR boom\n\tat a\n\tat b\n\tat c$'
  - name: half
    match: '^(?:\tat|ERROR boom\n\tat a\n\tat b$)'
alerts:
  - {name: Exact, event: rec, window: 10m, count: {above: 6}}
  - {name: Double, event: rec, window: 10m, count: {above: 7}}
  - {name: Whole, event: whole, window: 10m, count: {above: 0}}
  - {name: Half, event: half, window: 10m, count: {above: 0}}
""")
    cfg = tmp.write("logwarden.yaml", """
state: state.db
rules: [rules.yaml]
inputs:
  - name: app
    type: file
    paths: [app.log]
    start_at: beginning
    multiline: {continue: '^\\s', timeout: 30s}
sinks:
  - {name: out, type: file, path: alerts.jsonl}
notify: {group_wait: 0s}
""")
    log = tmp.join("app.log")
    with open(log, "w") as f:
        f.write("".join(f"ok {i}\n" for i in range(1, 6)))
        f.write("ERROR boom\n\tat a\n\tat b\n")
    d = e2e.Daemon(binary, cfg, tmp.path)
    e2e.wait_for(lambda: "running" in d.stderr(), 10)
    # Flushes (every second) commit positions while the trace is pending.
    time.sleep(3)
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    c.check(True, "kill: daemon killed with SIGKILL while a record is pending")
    with open(log, "a") as f:
        f.write("\tat c\nnext\n")
    d = e2e.Daemon(binary, cfg, tmp.path)
    alerts = tmp.join("alerts.jsonl")
    c.check(e2e.wait_for(lambda: firing(alerts, "Whole"), 15),
            "kill: the record cut by the crash is read again whole", e2e.tail(d.stderr()))
    c.eq(d.stop(), 0, "kill: SIGTERM exits 0 (the pending 'next' completes at stop)")
    c.check(e2e.wait_for(lambda: firing(alerts, "Exact"), 5),
            "kill: every record counted (5 ok, the trace, next)")
    c.eq(firing(alerts, "Double"), [], "kill: no record counted twice")
    c.eq(firing(alerts, "Half"), [], "kill: no half record")
    tmp.cleanup()


def test_replay_test_check(binary, c):
    tmp = e2e.TempDir("ml-replay")
    tmp.write("rules.yaml", JAVA_RULES)
    cfg = tmp.write("logwarden.yaml", """
state: state.db
rules: [rules.yaml]
inputs:
  - {name: app, type: file, paths: [app.log], multiline: java}
sinks:
  - {name: out, type: file, path: alerts.jsonl}
""")
    p = e2e.run([binary, "replay", "-c", cfg, JAVA_LOG])
    objs, _ = e2e.parse_json_lines(p.stdout)
    c.eq(p.returncode, 0, "replay: exit 0")
    c.eq(sorted(o["alert"] for o in objs if o["status"] == "firing"),
         ["Caused", "Suppressed", "Thread"], "replay: the same records as the daemon (the last "
         "completed at the end of the file)")
    tmp.write("java.test.yaml", f"""
config: logwarden.yaml
tests:
  - name: the java preset joins traces
    file: {JAVA_LOG}
    now: '2026-12-06T01:20:00Z'
    expect:
      - {{alert: Caused, status: firing}}
    expect_none: [Stray]
""")
    p = e2e.run([binary, "test", tmp.join("java.test.yaml")])
    c.eq(p.returncode, 0, "test: a rule test sees the joined records")
    c.check("1 passed, 0 failed" in p.stdout, "test: summary", p.stdout + p.stderr)

    bad = tmp.write("bad.yaml", """state: state.db
rules: [rules.yaml]
inputs:
  - name: sys
    type: syslog
    listen: [udp://127.0.0.1:0]
    multiline: java
  - name: app
    type: file
    paths: [app.log]
    multiline: {start: '(unclosed', max_lines: 0}
sinks:
  - {name: out, type: file, path: alerts.jsonl}
""")
    p = e2e.run([binary, "check", "-c", bad])
    c.eq(p.returncode, 2, "check: multiline errors make the config invalid")
    c.check(f"{bad}:7:16: input sys: multiline is not for syslog inputs" in p.stderr,
            "check: multiline refused on syslog, with FILE:LINE:COL", p.stderr)
    c.check(f"{bad}:11:24: multiline: bad regex" in p.stderr, "check: a bad regex, FILE:LINE:COL",
            p.stderr)
    tmp.cleanup()


def test_stdin(binary, c):
    tmp = e2e.TempDir("ml-stdin")
    tmp.write("rules.yaml", JAVA_RULES)
    cfg = tmp.write("logwarden.yaml", """
state: state.db
rules: [rules.yaml]
inputs:
  - {name: in, type: stdin, multiline: java}
sinks:
  - {name: out, type: file, path: alerts.jsonl}
notify: {group_wait: 30s}
""")
    t0 = time.monotonic()
    with open(JAVA_LOG, "rb") as f:
        p = subprocess.run([binary, "run", "-c", cfg], stdin=f, capture_output=True,
                           text=True, errors="replace", cwd=tmp.path, timeout=60)
    took = time.monotonic() - t0
    c.eq(p.returncode, 0, "stdin: `cat FILE | logwarden run` exits 0 at end of input")
    c.check(took < 15, f"stdin: without waiting for group_wait (30 s) ({took:.1f}s)", p.stderr)
    alerts = tmp.join("alerts.jsonl")
    c.check(firing(alerts, "Thread"),
            "stdin: the last record (completed at EOF) fired and reached the file sink",
            e2e.tail(p.stderr))
    c.check(firing(alerts, "Caused"), "stdin: the first trace too")
    c.check("end of input" in p.stderr, "stdin: the log says the input ended")

    # With another input, the daemon runs on.
    tmp.write("other.log", "")
    cfg2 = tmp.write("two.yaml", """
state: state2.db
rules: [rules.yaml]
inputs:
  - {name: in, type: stdin}
  - {name: other, type: file, paths: [other.log]}
sinks:
  - {name: out, type: file, path: alerts2.jsonl}
""")
    with open(JAVA_LOG, "rb") as f:
        err_path = tmp.join("two.stderr")
        with open(err_path, "wb") as err:
            p = subprocess.Popen([binary, "run", "-c", cfg2], stdin=f, stdout=subprocess.DEVNULL,
                                 stderr=err, cwd=tmp.path)
            said = e2e.wait_for(lambda: "other inputs keep running" in open(err_path).read(), 10)
            c.check(said, "stdin + file: the log says stdin ended and the others run on")
            time.sleep(0.5)
            c.check(p.poll() is None, "stdin + file: the daemon keeps running")
            p.send_signal(signal.SIGTERM)
            c.eq(p.wait(timeout=15), 0, "stdin + file: SIGTERM exits 0")
    tmp.cleanup()


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    test_file_java(binary, c)
    test_cut(binary, c)
    test_docker_streams(binary, c)
    test_kill_mid_record(binary, c)
    test_replay_test_check(binary, c)
    test_stdin(binary, c)
    c.finish()


if __name__ == "__main__":
    main()
