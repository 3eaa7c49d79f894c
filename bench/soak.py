#!/usr/bin/env python3
"""soak.py: memory soak of the live daemon (100 rules, steady feed) and a 100 000-group alert check.

    soak.py --bin BUILD/logwarden [--minutes 10] [--rate 50000] [--seed 1]
            [--groups 100000] [--no-groups | --groups-only] [--smoke]

1. Groups: `logwarden run` with one alert grouped by client IP (`count`, 5m window, never
   firing, max_groups = --groups). It is fed two lines for each of --groups distinct IPs, then
   two for each of 10 % more: prints the RSS before, after the groups and the peak (VmHWM; the
   target is <= 200 MB for 100 000 groups), and checks that the overflow (the extra IPs' events)
   shows as logwarden_group_overflow_total in /metrics, and whether `logwarden status` shows it.
2. Soak: `logwarden run` with bench/rules/mixed-100.yaml (as bench.py runs it, plus http: for
   /metrics and a file sink) tails a file fed with the mix corpus (gen.py lines replayed from a
   seeded pool with the timestamps set to now) at --rate lines/s for --minutes, the file rotated
   (rename + create) every 1 GB. VmRSS is sampled every 5 s; prints start/peak/end RSS, the
   least-squares slope over the second half (MB/min) and calls it flat if the growth over the
   second half (slope x half the duration) is < 1 MB.
--smoke: ~12 s (5 000 groups, then an 8 s soak at 10 000 lines/s); fails (exit 1) only if the
daemon misbehaves (overflow not counted, lines not all read, a crash), never on RSS.
Details (the samples, the daemon's stderr) go to bench/.cache/soak/ ($LW_BENCH_CACHE/soak).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import live  # noqa: E402

CACHE = os.environ.get("LW_BENCH_CACHE") or os.path.join(HERE, ".cache")

GROUP_RULES = """\
# written by bench/soak.py: one alert with a group per client IP.
events:
  - name: req
    match: '^(?<ip>\\d+\\.\\d+\\.\\d+\\.\\d+) \\S+ \\S+ \\[(?<ts>[^\\]]+)\\] "(?<method>[A-Z]+) (?<path>\\S+)'
    timestamp: {field: ts, format: '%%d/%%b/%%Y:%%H:%%M:%%S %%z'}
alerts:
  - name: PerClient
    event: req
    group_by: [ip]
    window: 5m
    count: {above: 1000}
    max_groups: %d
"""


def write_config(d, rules, live_path, http_port, sink=True):
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "logwarden.yaml")
    with open(cfg, "w") as f:
        f.write("# written by bench/soak.py\n"
                "state: %s\nlog_level: info\nhttp: {listen: '127.0.0.1:%d'}\nrules: ['%s']\n"
                "inputs:\n  - name: bench\n    type: file\n    paths: ['%s']\n    start_at: beginning\n"
                % (os.path.join(d, "state.db"), http_port, rules, live_path))
        if sink:
            f.write("sinks:\n  - name: archive\n    type: file\n    path: %s\n" % os.path.join(d, "alerts.jsonl"))
    return cfg


def wait_read(daemon, n, timeout):
    """Waits until the daemon has read n lines (its records_total); returns what it read."""
    deadline = time.time() + timeout
    got = 0
    while time.time() < deadline:
        got = daemon.metrics().get("logwarden_records_total", 0)
        if got >= n:
            break
        time.sleep(0.1)
    return int(got)


def client_lines(lo, hi):
    """Two nginx lines for each client 10.a.b.c numbered lo..hi-1, stamped now."""
    ts = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    out = []
    for rep in range(2):
        for i in range(lo, hi):
            out.append('10.%d.%d.%d - - [%s] "GET /products/%d HTTP/1.1" 200 512 "-" "curl/8.5.0" 0.012\n'
                       % (i >> 16, (i >> 8) & 255, i & 255, ts, rep))
    return "".join(out).encode()


def groups_check(binary, groups, results):
    d = os.path.join(CACHE, "soak", "groups")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    rules = os.path.join(d, "groups.yaml")
    with open(rules, "w") as f:
        f.write(GROUP_RULES % groups)
    live_path = os.path.join(d, "live.log")
    open(live_path, "wb").close()
    port = live.free_port()
    cfg = write_config(d, rules, live_path, port, sink=False)
    daemon = live.Daemon(binary, cfg, d, port)
    problems = []
    try:
        time.sleep(0.5)
        rss0 = daemon.status_kb("VmRSS") / 1024.0
        extra = groups // 10
        t0, cpu0 = time.time(), daemon.cpu()
        with open(live_path, "ab") as f:
            f.write(client_lines(0, groups))
        got = wait_read(daemon, 2 * groups, 120)
        t_in = time.time() - t0
        time.sleep(2.5)  # a flush or two of all the groups' buckets
        rss1 = daemon.status_kb("VmRSS") / 1024.0
        hwm1 = daemon.status_kb("VmHWM") / 1024.0
        m1 = daemon.metrics()
        with open(live_path, "ab") as f:
            f.write(client_lines(groups, groups + extra))
        got = wait_read(daemon, 2 * (groups + extra), 60)
        time.sleep(1.5)
        m2 = daemon.metrics()
        cpu = daemon.cpu() - cpu0
        hwm2 = daemon.status_kb("VmHWM") / 1024.0
        st = subprocess.run([binary, "status", "-c", cfg], capture_output=True, text=True)
    finally:
        rc, counts = daemon.stop()
    over1 = int(m1.get("logwarden_group_overflow_total", -1))
    over2 = int(m2.get("logwarden_group_overflow_total", -1))
    status_shows = "events over max_groups" in st.stdout  # written to the state file every 5 s
    r = {"groups": groups, "extra_clients": extra, "rss_idle_mb": rss0, "rss_after_groups_mb": rss1,
         "hwm_after_groups_mb": hwm1, "hwm_end_mb": hwm2, "lines_read": got, "seconds_to_read": t_in,
         "daemon_cpu_s": cpu, "overflow_at_max": over1, "overflow_after_extra": over2,
         "overflow_expected": 2 * extra, "status_shows_overflow": status_shows,
         "status_output_tail": (st.stdout + st.stderr).strip().splitlines()[-1:], "daemon_rc": rc}
    results["groups"] = r
    print("groups: one alert, group_by ip, max_groups %d" % groups)
    print("  RSS idle %.1f MB; after %d groups (2 events each) %.1f MB, peak (VmHWM) %.1f MB -> %.0f bytes/group "
          "over idle; target <= 200 MB: %s" % (rss0, groups, rss1, hwm1, (rss1 - rss0) * 2**20 / groups,
                                               "met" if hwm1 <= 200 else "NOT met"))
    print("  then %d more clients (%d events): logwarden_group_overflow_total %d -> %d (expected %d): %s; "
          "peak RSS %.1f MB" % (extra, 2 * extra, over1, over2, 2 * extra,
                                "ok" if over1 == 0 and over2 == 2 * extra else "WRONG", hwm2))
    print("  `logwarden status` %s the overflow (it prints: %s)" % (
        "shows" if status_shows else "does not show", r["status_output_tail"][0] if r["status_output_tail"] else ""))
    print("  daemon: %.2f CPU s; read %d lines (the first %d in %.1f s)" % (cpu, got, 2 * groups, t_in))
    if over1 != 0 or over2 != 2 * extra:
        problems.append("overflow counter %d -> %d, expected 0 -> %d" % (over1, over2, 2 * extra))
    if got != 2 * (groups + extra):
        problems.append("groups: daemon read %d of %d lines" % (got, 2 * (groups + extra)))
    if rc != 0 or not counts:
        problems.append("groups: daemon exit %s, stopped line %s" % (rc, counts))
    return problems


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def rss_split(pid):
    """{"anon_mb", "file_mb"} from /proc/PID/smaps_rollup (file = shared libraries, executable)."""
    kb = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                kb[parts[0].rstrip(":")] = int(parts[1])
    anon = kb.get("Anonymous", 0)
    return {"anon_mb": anon / 1024.0, "file_mb": (kb.get("Rss", 0) - anon) / 1024.0}


def soak(binary, minutes, rate, seed, pool_lines, every, results):
    d = os.path.join(CACHE, "soak", "soak")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    live_path = os.path.join(d, "live.log")
    open(live_path, "wb").close()
    t = time.time()
    pool = live.Pool("mix", seed, pool_lines)
    print("soak: pool of %d mix lines (%.0f MB) generated in %.1f s" % (
        pool.n, len(pool.blob) / 1e6, time.time() - t), file=sys.stderr)
    port = live.free_port()
    cfg = write_config(d, os.path.join(HERE, "rules", "mixed-100.yaml"), live_path, port)
    daemon = live.Daemon(binary, cfg, d, port)
    duration = minutes * 60.0
    feeder = live.Feeder(live_path, pool, rate, duration=duration, rotate_bytes=10**9)
    samples = []  # (seconds, VmRSS MB, CPU s, lines written, lines read)
    problems = []
    try:
        cpu0 = daemon.cpu()
        feeder.start()
        t0 = time.monotonic()
        k = 1
        while feeder.is_alive():
            time.sleep(max(0.0, t0 + k * every - time.monotonic()))
            k += 1
            read = int(daemon.metrics().get("logwarden_records_total", 0))
            samples.append((time.monotonic() - t0, daemon.status_kb("VmRSS") / 1024.0,
                            daemon.cpu() - cpu0, feeder.lines, read))
            s = samples[-1]
            if k % 12 == 2 or not feeder.is_alive():
                print("  %5.0f s  RSS %6.1f MB  CPU %7.2f s  written %10d  read %10d" % s, file=sys.stderr)
        feeder.join()
        got = wait_read(daemon, feeder.lines, 120)
        cpu = daemon.cpu() - cpu0
        hwm = daemon.status_kb("VmHWM") / 1024.0
        m = daemon.metrics()
        split = rss_split(daemon.pid)
    finally:
        rc, counts = daemon.stop()
    if feeder.error:
        problems.append("writer failed: %r" % feeder.error)
    span = feeder.t1 - feeder.t0
    rss = [s[1] for s in samples]
    half = [(s[0] / 60.0, s[1]) for s in samples if s[0] >= span / 2]
    sl = slope(half)
    growth = sl * (span / 2 / 60.0)
    raw = half[-1][1] - half[0][1] if half else 0.0
    lag = max((s[3] - s[4]) / rate for s in samples) if samples else 0.0
    r = {"minutes": minutes, "rate_target": rate, "rate_achieved": feeder.achieved(), "lines_written": feeder.lines,
         "bytes_written": feeder.bytes, "rotations": feeder.rotations, "lines_read": got, "span_s": span,
         "rss_start_mb": rss[0] if rss else None, "rss_peak_mb": max(rss) if rss else None,
         "rss_end_mb": rss[-1] if rss else None, "hwm_mb": hwm, "slope_second_half_mb_per_min": sl,
         "growth_second_half_mb": growth, "raw_growth_second_half_mb": raw, "flat": growth < 1.0,
         "daemon_cpu_s": cpu, "writer_cpu_s": feeder.cpu, "max_read_lag_s": lag, "daemon_rc": rc,
         "daemon_counts": counts, "metrics": {k: v for k, v in m.items() if not k.startswith("logwarden_input")},
         "pool_lines": pool.n, "samples": samples}
    results["soak"] = r
    print("soak: mixed-100 (100 rules), mix lines at %d lines/s asked, %.0f achieved, %.1f min (%d lines, %.1f GB, "
          "%d rotations)" % (rate, r["rate_achieved"], span / 60, feeder.lines, feeder.bytes / 1e9, feeder.rotations))
    if rss:
        print("  RSS (VmRSS every %g s): start %.1f MB (at %.0f s), peak %.1f MB, end %.1f MB; VmHWM %.1f MB"
              % (every, rss[0], samples[0][0], max(rss), rss[-1], hwm))
        print("  second half: slope %+.3f MB/min, growth %+.2f MB (fit; end - middle %+.2f MB): %s"
              % (sl, growth, raw, "flat (< 1 MB)" if growth < 1.0 else "GROWING")
              + (" (too short to judge)" if minutes < 2 else ""))
    groups = sum(v for k, v in m.items() if k.startswith("logwarden_alert_groups{"))
    state = sum(v for k, v in m.items() if k.startswith("logwarden_alert_memory_bytes{"))
    r.update(split)
    r["alert_groups"], r["alert_state_bytes"] = groups, state
    print("  RSS at the end: %.1f MB anonymous (%.1f MB of it alert state: %d groups), %.1f MB file pages "
          "(the executable and its shared libraries)" % (split["anon_mb"], state / 2**20, groups, split["file_mb"]))
    print("  daemon: %.1f CPU s over %.0f s (%.0f %% of a core), read %d of %d lines, reader at most %.1f s behind; "
          "%s" % (cpu, span, 100 * cpu / span, got, feeder.lines, lag,
                  "%d events, %d late, %d transitions" % (counts["events"], counts["late"], counts["transitions"])
                  if counts else "no stopped: line"))
    print("  this script's writer: %.1f CPU s" % feeder.cpu)
    if got < feeder.lines:
        problems.append("soak: daemon read %d of %d lines" % (got, feeder.lines))
    if rc != 0 or not counts:
        problems.append("soak: daemon exit %s, stopped line %s" % (rc, counts))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--groups", type=int, default=100000)
    ap.add_argument("--pool", type=int, default=2000000, help="mix lines generated once and replayed")
    ap.add_argument("--no-groups", action="store_true")
    ap.add_argument("--groups-only", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    every = 5.0
    if a.smoke:
        a.minutes, a.rate, a.groups, a.pool, every = 8 / 60.0, 10000, 5000, 50000, 1.0
    binary = os.path.abspath(a.bin)
    os.makedirs(os.path.join(CACHE, "soak"), exist_ok=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": live.machine()}
    problems = []
    if not a.no_groups:
        problems += groups_check(binary, a.groups, results)
    if not a.groups_only:
        problems += soak(binary, a.minutes, a.rate, a.seed, a.pool, every, results)
    with open(os.path.join(CACHE, "soak", "soak.json"), "w") as f:
        json.dump(results, f, indent=1)
    for p in problems:
        print("  problem: " + p)
    if a.smoke:
        print("soak smoke: %s" % ("FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
