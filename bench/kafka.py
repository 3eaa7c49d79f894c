#!/usr/bin/env python3
"""kafka.py: the Kafka consumption benchmark (bench/run.sh BIN --kafka): logwarden reading a topic
of librdkafka's mock cluster through the 20 mixed rules, against kcat reading the same topic.

    kafka.py --bin BUILD/logwarden [--smoke] [--lines 100000] [--reps 3] [--seed 1]
             [--mock PATH/lw_mockkafka]

gen.py's mix corpus (access, JSON and syslog lines, timestamps from now on, so that `run` counts
them as live events) is produced by kcat to a 6-partition topic of tests/kafka/lw_mockkafka (one
broker, pinned to the last core; no key, sticky partitioning off: the lines spread evenly).
Then, pinned to core 0 (taskset), in the same run:
  kcat      `kcat -C -e -o beginning -q -t T > /dev/null`: the reading ceiling of librdkafka
  logwarden `logwarden run` with one kafka input (format raw, start_position earliest, a new
            group each repetition) and bench/rules/mixed-20.yaml, until its
            logwarden_input_lines_total reaches the number of lines
lines/s and MB/s are over the wall time from the first record read to the pipeline's last event
(the group join before it is not the consumer's speed); CPU is user + system from /proc/PID/stat over that span;
the median of --reps repetitions. Peak RSS (VmHWM) with 6 and with 60 partitions (the same lines
on a 60-partition topic).

The mock keeps at most 5 MiB per partition (tests/kafka/README.md): 100 000 lines (~20 MB) fit in
6 partitions; --lines above ~130 000 would let retention cut the topic's head, which is checked
(the low watermarks must be 0) rather than measured.

Exactness: logwarden must read exactly the lines produced (its lines counter, and kcat's count of
what it read back) and produce exactly the events `logwarden replay` finds in the same corpus
(logwarden_events_total; no line is late: the timestamps start now). Exit 1 when it does not,
77 when the binary refuses `type: kafka`. Details in bench/.cache/kafka ($LW_BENCH_CACHE/kafka).
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
SKIP = 77


def pin(core):
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def last_core():
    return max(os.sched_getaffinity(0))


def cpu_s(pid):
    """user + system CPU seconds of a process (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError):
        return 0.0


def proc_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def metrics(port):
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


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def find_mock(binary, cache):
    """lw_mockkafka: $LW_MOCKKAFKA, beside the build's tests, or compiled into the cache."""
    cands = [os.environ.get("LW_MOCKKAFKA", ""),
             os.path.join(os.path.dirname(binary), "tests", "kafka", "lw_mockkafka")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    out = os.path.join(cache, "lw_mockkafka")
    src = os.path.join(REPO, "tests", "kafka", "lw_mockkafka.c")
    if not os.access(out, os.X_OK) or os.path.getmtime(src) > os.path.getmtime(out):
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"],
                               capture_output=True, text=True, check=True).stdout.split()
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-std=c11", "-o", out, src] + flags,
                       check=True)
    return out


class Mock:
    def __init__(self, path, topics, log):
        self.proc = subprocess.Popen(pin(last_core()) + [path, "-b", "1"] +
                                     sum((["-t", f"{t}:{p}"] for t, p in topics.items()), []),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                     text=True, bufsize=1)
        self.bootstrap = self.proc.stdout.readline().strip()

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


CONFIG = """state: {state}
log_level: warn
rules: [{rules}]
inputs:
  - name: bus
    type: kafka
    brokers: [{brokers}]
    topics: [{topic}]
    group: {group}
    format: raw
    start_position: earliest
    properties: {{session.timeout.ms: '6000', heartbeat.interval.ms: '500'}}
sinks:
  - name: out
    type: file
    path: {alerts}
http:
  listen: 127.0.0.1:{port}
"""


def kafka_refused(binary, work):
    cfg = os.path.join(work, "probe.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(state=os.path.join(work, "probe.db"),
                              rules=os.path.join(HERE, "rules", "mixed-20.yaml"),
                              brokers="127.0.0.1:9", topic="t", group="g",
                              alerts=os.path.join(work, "probe.jsonl"), port=9))
    r = subprocess.run([binary, "check", "-c", cfg], capture_output=True, text=True)
    return r.stderr.strip() if "not built yet" in r.stderr and "kafka" in r.stderr else None


def run_kcat(bootstrap, topic, nlines):
    """kcat reading the whole topic on core 0 into a pipe read on another core (as cheap for
    it as /dev/null): (wall s from its first record to its exit, cpu s, lines)."""
    t0 = time.monotonic()
    p = subprocess.Popen(pin(0) + ["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-o",
                                   "beginning", "-q", "-f", "%s\n"], stdout=subprocess.PIPE)
    # Counting newlines here (on another core) costs kcat nothing: it writes, as to /dev/null.
    n = 0
    while True:
        chunk = p.stdout.read1(1 << 20)
        if not chunk:
            break
        if not n:
            t0 = time.monotonic()   # from the first record, as for logwarden (no start-up)
        n += chunk.count(b"\n")
    _, status, ru = os.wait4(p.pid, 0)   # its own rusage: /proc is gone once reaped
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    return wall, ru.ru_utime + ru.ru_stime, n


def run_daemon(binary, work, bootstrap, topic, group, nlines, timeout, want_events=None):
    """logwarden consuming the topic on core 0 until it read nlines: a dict of results."""
    port = free_port()
    state = os.path.join(work, f"{group}.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        try:
            os.unlink(state + suffix)
        except FileNotFoundError:
            pass
    cfg = os.path.join(work, f"{group}.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(state=state, rules=os.path.join(HERE, "rules", "mixed-20.yaml"),
                              brokers=bootstrap, topic=topic, group=group,
                              alerts=os.path.join(work, f"{group}.alerts.jsonl"), port=port))
    err = open(os.path.join(work, f"{group}.stderr"), "wb")
    p = subprocess.Popen(pin(0) + [binary, "run", "-c", cfg], stdin=subprocess.DEVNULL,
                         stdout=err, stderr=err, cwd=work)
    key = 'logwarden_input_lines_total{input="bus"}'
    res = {"ok": False}
    t_first = cpu_first = t_done = None
    last_ev, t_ev = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline and p.poll() is None:
        m = metrics(port)
        n = m.get(key, 0)
        res["paused_max"] = max(res.get("paused_max", 0),
                                m.get('logwarden_kafka_paused_partitions{input="bus"}', 0))
        now = time.monotonic()
        if n > 0 and t_first is None:
            t_first, cpu_first, n_first = now, cpu_s(p.pid), n
        # Done when the pipeline has taken every line, not only the input: its events reach
        # what replay finds (or, without that figure, stay put for a second).
        ev = m.get("logwarden_events_total", 0)
        if n >= nlines:
            if t_done is None:
                t_done = now
            if ev != last_ev:
                last_ev, t_ev = ev, now
            if (want_events is not None and ev >= want_events) or now - t_ev > 1.0 or \
                    now - t_done > 10:
                end = now if want_events is not None and ev >= want_events else t_ev
                res.update(ok=n == nlines, wall=end - t_first, cpu=cpu_s(p.pid) - cpu_first,
                           lines=n - n_first, events=ev,
                           rss_mb=proc_kb(p.pid, "VmHWM") / 1024.0)
                break
        time.sleep(0.02)
    res["read"] = n
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            res["exit"] = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            res["exit"] = p.wait()
    else:
        res["exit"] = p.returncode
    err.close()
    return res


def replay_events(binary, work, corpus):
    """The events `logwarden replay` finds in the corpus with the same rules."""
    cfg = os.path.join(work, "replay.yaml")
    with open(cfg, "w") as f:
        f.write(f"state: {os.path.join(work, 'replay.db')}\nrules: "
                f"[{os.path.join(HERE, 'rules', 'mixed-20.yaml')}]\ninputs:\n"
                "  - name: app\n    type: stdin\nsinks:\n  - name: out\n    type: stdout\n")
    r = subprocess.run([binary, "replay", "-c", cfg, corpus], capture_output=True, text=True)
    m = re.search(r"(\d+) events", r.stderr + r.stdout)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--lines", type=int, default=0)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mock", default="")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    nlines = a.lines or (20000 if a.smoke else 100000)
    reps = a.reps or (1 if a.smoke else 3)
    cache = os.environ.get("LW_BENCH_CACHE", os.path.join(HERE, ".cache"))
    work = os.path.join(cache, "kafka")
    os.makedirs(work, exist_ok=True)
    why = kafka_refused(binary, work)
    if why:
        print(f"SKIP: this build refuses `type: kafka` ({why.splitlines()[0]})")
        return SKIP
    if not shutil.which("kcat"):
        print("bench/kafka.py: kcat is not installed (apt-get install kcat)", file=sys.stderr)
        return 1
    mock_path = a.mock or find_mock(binary, cache)

    # The corpus: gen.py's mix from now on (about 200 bytes a line), cut to nlines.
    corpus = os.path.join(work, "corpus.log")
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "--kind", "mix", "--size",
                    f"{nlines * 260 // 1000 + 1}KB", "--seed", str(a.seed), "--start", "now",
                    "--out", corpus + ".full"], check=True)
    with open(corpus + ".full", "rb") as src, open(corpus, "wb") as dst:
        for i, line in enumerate(src):
            if i >= nlines:
                break
            dst.write(line)
    os.unlink(corpus + ".full")
    nbytes = os.path.getsize(corpus)
    with open(corpus, "rb") as f:
        nlines = sum(1 for _ in f)
    want_events = replay_events(binary, work, corpus)

    mlog = open(os.path.join(work, "mock.stderr"), "wb")
    mock = Mock(mock_path, {"b6": 6, "b60": 60}, mlog)
    failed = []
    rows = []
    try:
        for topic in ("b6", "b60"):
            with open(corpus, "rb") as f:
                r = subprocess.run(pin(last_core()) + ["kcat", "-P", "-b", mock.bootstrap, "-t",
                                                       topic, "-X", "linger.ms=20",
                                                       "-X", "sticky.partitioning.linger.ms=0"],
                                   stdin=f, capture_output=True)
            if r.returncode:
                failed.append(f"kcat -P {topic}: {r.stderr.decode()[:300]}")
        parts = {"b6": 6, "b60": 60}
        for topic, np in parts.items():
            lows = [mock.cmd(f"wm {topic} {p}").split()[1:2] for p in range(np)]
            cut = [f"{p}:{x[0] if x else '?'}" for p, x in enumerate(lows) if x != ["0"]]
            if cut:
                failed.append(f"{topic}: the mock's retention cut the topic (partition:low "
                              f"watermark {' '.join(cut[:8])}): use fewer --lines")

        kc = [run_kcat(mock.bootstrap, "b6", nlines) for _ in range(reps)]
        if any(k[2] != nlines for k in kc):
            failed.append(f"kcat read {[k[2] for k in kc]} lines of {nlines}")
        lw = []
        for i in range(reps):
            res = run_daemon(binary, work, mock.bootstrap, "b6", f"bench-{os.getpid()}-{i}",
                             nlines, 120, want_events)
            lw.append(res)
            if not res["ok"]:
                failed.append(f"logwarden (6 partitions, rep {i}) read {res['read']:.0f} of "
                              f"{nlines} lines (exit {res['exit']})")
            elif want_events is not None and res["events"] != want_events:
                failed.append(f"logwarden produced {res['events']:.0f} events, replay "
                              f"{want_events}")
            if res["exit"] != 0:
                failed.append(f"logwarden exited {res['exit']}")
        r60 = run_daemon(binary, work, mock.bootstrap, "b60", f"bench60-{os.getpid()}", nlines,
                         120, want_events)
        if not r60["ok"]:
            failed.append(f"logwarden (60 partitions) read {r60['read']:.0f} of {nlines}")
    finally:
        mock.stop()
        mlog.close()

    def med(xs):
        return statistics.median(xs) if xs else float("nan")
    ok = [r for r in lw if r["ok"]]
    kw, kcpu = med([k[0] for k in kc]), med([k[1] for k in kc])
    lw_wall = med([r["wall"] for r in ok])
    lw_cpu = med([r["cpu"] for r in ok])
    lw_lines = med([r["lines"] for r in ok])
    mb = nbytes / 1e6
    print(f"\nKafka consumption: {nlines} lines ({mb:.1f} MB, gen.py mix) on a 6-partition topic "
          f"of the mock cluster, 20 mixed rules, core 0, median of {reps}\n")
    print("| reader | lines/s | MB/s | CPU us/line | peak RSS 6 p. | peak RSS 60 p. |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| kcat -C -e -o beginning > /dev/null | {nlines / kw:,.0f} | {mb / kw:.1f} | "
          f"{1e6 * kcpu / nlines:.2f} | - | - |")
    if ok:
        print(f"| logwarden run, mixed-20 | {lw_lines / lw_wall:,.0f} | "
              f"{mb * lw_lines / nlines / lw_wall:.1f} | {1e6 * lw_cpu / lw_lines:.2f} | "
              f"{med([r['rss_mb'] for r in ok]):.1f} MiB | "
              f"{r60.get('rss_mb', float('nan')):.1f} MiB |")
        print(f"\nlogwarden / kcat wall: {kw / (lw_wall * nlines / lw_lines):.2f}; "
              f"events {ok[0]['events']:.0f} (replay {want_events}); CPU busy "
              f"{100 * lw_cpu / lw_wall:.0f} % of the wall time; partitions paused at once "
              f"(backpressure, sampled every 20 ms): at most "
              f"{max(r.get('paused_max', 0) for r in ok):.0f}")
    with open(os.path.join(work, "last.txt"), "w") as f:
        f.write(repr({"kcat": kc, "logwarden": lw, "60": r60, "events": want_events}) + "\n")
    for x in failed:
        print(f"FAIL {x}")
    print(f"{'0' if failed else '1'} passed, {len(failed)} failed" if a.smoke else "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
