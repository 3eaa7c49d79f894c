#!/usr/bin/env python3
"""latency.py: end-to-end alert latency of the live daemon, from a log line's write() to its webhook POST.

    latency.py --bin BUILD/logwarden [--rate 100000] [--probes 240] [--probe-rate 4]
               [--poll-interval 250ms] [--rules bench/rules/web-today.yaml] [--seed 1] [--smoke]

`logwarden run` tails a file (a `file` input) with the web rules (bench/rules/web-today.yaml) plus
three probe rules: `count: {above: 0}` grouped by a probe id over a 5m, a 1h and a 1d window
(buckets of 1 s, 12 s and 288 s), no `for`, and `notify.group_wait: 0s`, so every probe line
fires three alerts at once: a condition an event makes true is seen within a second whatever
the window (RULES.md, Evaluation), so the three distributions must agree. A webhook sink posts to
a loopback HTTP receiver in this script (http.server in a thread) that notes when each probe's
alert arrives. A writer thread appends generated nginx lines (gen.py, timestamps = now) to the
file at --rate lines/s, a chunk every 10 ms, and a probe line every 1/--probe-rate s on average
(seeded random gaps, so probes fall at every phase of the second). Latency = arrival at the
receiver - return of the probe's write(), both on this process's monotonic clock.

Prints count, p50/p90/p99/max per window, the background rate achieved, CPU seconds (daemon,
writer), whether p99 < 1 s for every window (the target), and a decomposition (5m window): the time from the write to the next
whole wall-clock second (when the daemon's evaluator, at 1 s resolution, first looks at the
probe's bucket) and the rest (flush phase + delivery). --smoke: ~10 s at 10 000 lines/s; fails
(exit 1) only if a probe alert never arrives, not on timing. Details go to
bench/.cache/latency/ ($LW_BENCH_CACHE/latency), including latency.json.
"""
import argparse
import calendar
import http.server
import json
import math
import os
import random
import re
import shutil
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import live  # noqa: E402

CACHE = os.environ.get("LW_BENCH_CACHE") or os.path.join(HERE, ".cache")

PROBE_RULES = """\
# written by bench/latency.py: one alert per probe line, at once.
events:
  - name: latency_probe
    match: '^\\S+ \\S+ \\S+ \\[(?<ts>[^\\]]+)\\] "GET /__probe/(?<probe>\\d+) '
    timestamp: {field: ts, format: '%d/%b/%Y:%H:%M:%S %z'}
alerts:
  - name: LatencyProbe5m
    event: latency_probe
    group_by: [probe]
    window: 5m
    count: {above: 0}
    severity: info
  - name: LatencyProbe1h
    event: latency_probe
    group_by: [probe]
    window: 1h
    count: {above: 0}
    severity: info
  - name: LatencyProbe1d
    event: latency_probe
    group_by: [probe]
    window: 1d
    count: {above: 0}
    severity: info
"""
WINDOWS = ("5m", "1h", "1d")


def probe_line(pid):
    ts = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    return ('10.255.0.1 - - [%s] "GET /__probe/%d HTTP/1.1" 200 2 "-" "logwarden-latency-probe" 0.001\n'
            % (ts, pid)).encode()


class Receiver:
    """A loopback webhook receiver: notes the monotonic arrival time of each probe's first
    firing alert, and counts the other alerts (the web rules') and the requests."""

    def __init__(self):
        self.arrived = {}
        self.requests = self.other_alerts = 0
        self.request_times = []  # monotonic arrival of every POST
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                t = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    alerts = json.loads(body).get("alerts", [])
                except ValueError:
                    alerts = []
                with rec.lock:
                    rec.requests += 1
                    rec.request_times.append(t)
                    for a in alerts:
                        p = a.get("labels", {}).get("probe")
                        if p is None:
                            rec.other_alerts += 1
                        elif a.get("status") == "firing":
                            w = a.get("alert", "").replace("LatencyProbe", "")
                            rec.arrived.setdefault((w, int(p)), t)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def write_config(d, rules, live_path, port, poll, http_port):
    probe = os.path.join(d, "probe.yaml")
    with open(probe, "w") as f:
        f.write(PROBE_RULES)
    cfg = os.path.join(d, "logwarden.yaml")
    with open(cfg, "w") as f:
        f.write("# written by bench/latency.py\n"
                "state: %s\nlog_level: info\nhttp: {listen: '127.0.0.1:%d'}\nrules: ['%s', '%s']\n"
                "inputs:\n  - name: bench\n    type: file\n    paths: ['%s']\n"
                "    start_at: beginning\n    poll_interval: %s\n"
                "sinks:\n  - name: hook\n    type: webhook\n    url: http://127.0.0.1:%d/alerts\n"
                "notify:\n  group_wait: 0s\n  repeat_interval: 0s\n  send_resolved: false\n"
                % (os.path.join(d, "state.db"), http_port, rules, probe, live_path, poll, port))
    return cfg


LOG_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z info alert LatencyProbe5m firing$", re.M)


def transitions(log_text):
    """Wall-clock times of the daemon's "alert LatencyProbe firing" log lines, in order: when
    its evaluator turned each probe's group to firing (ms resolution)."""
    return [calendar.timegm(time.strptime(a, "%Y-%m-%dT%H:%M:%S")) + int(ms) / 1000.0
            for a, ms in LOG_RE.findall(log_text)]


def fmt(x):
    return "%.3f s" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rate", type=int, default=100000, help="background nginx lines/s")
    ap.add_argument("--probes", type=int, default=240)
    ap.add_argument("--probe-rate", type=float, default=4.0, help="probes per second (mean)")
    ap.add_argument("--poll-interval", default="250ms", help="the file input's poll_interval (its default: 250ms)")
    ap.add_argument("--rules", default=os.path.join(HERE, "rules", "web-today.yaml"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pool", type=int, default=1000000, help="lines generated once and replayed")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.rate, a.probes, a.probe_rate, a.pool = 10000, 24, 4.0, 50000
    binary = os.path.abspath(a.bin)
    rng = random.Random(a.seed)
    d = os.path.join(CACHE, "latency")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    live_path = os.path.join(d, "live.log")
    open(live_path, "wb").close()

    t = time.time()
    pool = live.Pool("nginx", a.seed, a.pool)
    print("latency: pool of %d nginx lines generated in %.1f s" % (pool.n, time.time() - t), file=sys.stderr)

    rec = Receiver()
    http_port = live.free_port()
    cfg = write_config(d, os.path.abspath(a.rules), live_path, rec.port, a.poll_interval, http_port)
    written = {}  # probe id -> (monotonic, wall) just after its write()

    def on_inject(pid, tm, tw):
        written[pid] = (tm, tw)

    daemon = live.Daemon(binary, cfg, d, http_port)
    warmup = 2.0
    duration = warmup + a.probes / a.probe_rate + 1.0
    feeder = live.Feeder(live_path, pool, a.rate, duration=duration, on_inject=on_inject)
    cpu0, harness0 = daemon.cpu(), os.times()
    feeder.start()
    try:
        time.sleep(warmup)
        for pid in range(1, a.probes + 1):
            feeder.inject(pid, lambda pid=pid: probe_line(pid))
            time.sleep(rng.uniform(0.5, 1.5) / a.probe_rate)
        feeder.join()
        fed_until = time.monotonic()
        deadline = fed_until + 15
        while time.monotonic() < deadline and len(rec.arrived) < len(WINDOWS) * len(written):
            time.sleep(0.05)
        # Stop only once the daemon has read every line (SIGTERM stops the inputs at once).
        while time.monotonic() < deadline and \
                daemon.metrics().get("logwarden_records_total", 0) < feeder.lines + feeder.injected:
            time.sleep(0.05)
        cpu = daemon.cpu() - cpu0
        rss_hwm = daemon.status_kb("VmHWM") / 1024.0
    finally:
        rc, counts = daemon.stop()
        rec.close()
    harness = os.times()
    span = fed_until - feeder.t0

    # Per probe: the latency, the wait from the write to the next whole second, the time to the
    # evaluator's transition (the daemon's log line, in write order) and from there to arrival.
    evals = transitions(daemon.log())
    lat, to_sec, detect, notify = [], [], [], []
    by_window = {w: [] for w in WINDOWS}
    for k, (pid, (tm, tw)) in enumerate(sorted(written.items())):
        for w in WINDOWS:
            if (w, pid) in rec.arrived:
                by_window[w].append(rec.arrived[(w, pid)] - tm)
        if ("5m", pid) not in rec.arrived:
            continue
        lat.append(rec.arrived[("5m", pid)] - tm)
        to_sec.append(math.floor(tw) + 1 - tw)
        if len(evals) == len(written):
            detect.append(evals[k] - tw)
            notify.append(rec.arrived[("5m", pid)] - tm + tw - evals[k])
    gaps = [b - a for a, b in zip(rec.request_times, rec.request_times[1:])]
    missing = sorted("%s/%d" % (w, p) for w in WINDOWS for p in written if (w, p) not in rec.arrived)
    ok_p99 = all(by_window[w] and live.percentile(by_window[w], 0.99) < 1.0 for w in WINDOWS)
    qs = (("min", 0), ("p50", .5), ("p90", .9), ("p99", .99), ("max", 1))

    def dist(xs):
        return {q: live.percentile(xs, v) for q, v in qs} if xs else None

    res = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": live.machine(),
        "rate_target": a.rate, "rate_achieved": feeder.achieved(), "lines_written": feeder.lines,
        "writer_behind_max_s": feeder.behind_max, "poll_interval": a.poll_interval,
        "probes": len(written), "delivered": len(lat), "missing": missing,
        "latency": dist(lat), "latency_by_window": {w: dist(by_window[w]) for w in WINDOWS},
        "to_next_second": dist(to_sec), "write_to_transition": dist(detect),
        "transition_to_arrival": dist(notify), "request_gaps": dist(gaps),
        "daemon_cpu_s": cpu, "daemon_rss_hwm_mb": rss_hwm, "span_s": span,
        "writer_cpu_s": feeder.cpu, "harness_cpu_s": (harness.user + harness.system) - (harness0.user + harness0.system),
        "daemon_rc": rc, "daemon_counts": counts, "receiver_requests": rec.requests,
        "other_alerts": rec.other_alerts, "latencies": lat,
    }
    with open(os.path.join(d, "latency.json"), "w") as f:
        json.dump(res, f, indent=1)

    def line(label, xs):
        x = dist(xs)
        if x:
            print("  %-46s p50 %s  p90 %s  p99 %s  max %s  (min %s)" % (
                label, *(fmt(x[k]) for k in ("p50", "p90", "p99", "max", "min"))))

    print("latency: %d probes, %d delivered, %d missing%s" % (
        len(written), len(lat), len(missing), (" (%s)" % missing[:10]) if missing else ""))
    for w in WINDOWS:
        line("write() -> webhook arrival, %s window:" % w, by_window[w])
    line("  write -> next whole second (a 1 s bucket edge):", to_sec)
    line("  write -> firing transition (daemon log):", detect)
    line("  firing transition -> webhook arrival:", notify)
    line("gap between webhook POSTs (~ flush period):", gaps)
    print("  background: %d nginx lines/s asked, %.0f achieved (%d lines in %.1f s; writer at most %.0f ms behind), "
          "poll_interval %s" % (a.rate, res["rate_achieved"], feeder.lines, feeder.t1 - feeder.t0,
                                1000 * feeder.behind_max, a.poll_interval))
    seen = counts["lines"] if counts else -1
    print("  daemon: %.2f CPU s over %.1f s (%.0f %% of a core), peak RSS %.1f MB, read %d of %d lines, "
          "%s; %d webhook requests, %d other alerts" % (
              cpu, span, 100 * cpu / span, rss_hwm, seen, feeder.lines + feeder.injected,
              "late %d" % counts["late"] if counts else "no stopped: line", rec.requests, rec.other_alerts))
    print("  this script: %.2f CPU s (writer thread %.2f s)" % (res["harness_cpu_s"], feeder.cpu))
    print("  target p99 < 1 s for 5m, 1h and 1d windows: %s%s" % ("met" if ok_p99 else "NOT met", " (not checked by --smoke)" if a.smoke else ""))
    problems = []
    if feeder.error:
        problems.append("writer failed: %r" % feeder.error)
    if missing:
        problems.append("%d probe alerts never arrived" % len(missing))
    if rc != 0 or not counts:
        problems.append("daemon exit %s, stopped line %s" % (rc, counts))
    elif counts["lines"] != feeder.lines + feeder.injected:
        problems.append("daemon read %d lines of %d" % (counts["lines"], feeder.lines + feeder.injected))
    for p in problems:
        print("  problem: " + p)
    if a.smoke:
        print("latency smoke: %s" % ("FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
