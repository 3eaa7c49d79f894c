#!/usr/bin/env python3
"""bench.py: the benchmark driver behind bench/run.sh (Python 3 standard library only).

    bench.py --bin BUILD/logwarden --pcre-loop PATH [--size 200MB] [--seed 1] [--smoke]
             [--reps N] [--only WORKLOAD,...] [--mtail-all] [--no-daemon] [--no-mtail]

For each workload (a rule set over a corpus) it measures, on one core (taskset -c 0):
  replay   `logwarden replay -c CFG CORPUS` (stdout to a file on the first run, /dev/null after)
  run      the live daemon tailing a file: started on an empty file (start_at: beginning), the
           corpus appended to it; timed from the first byte written to the end of the daemon's
           last busy period, which must contain every line (checked with its checkpoint and its
           "stopped: N lines" log line)
  mtail    `mtail --one_shot` with the equivalent program (bench/mtail/SET)
  pcre     bench/pcre_loop.c: the same PCRE2-JIT patterns on every line (the ceiling)
  grep     `grep -c -E -f patterns/SET.ere` (LC_ALL=C)
and per corpus `wc -l` (LC_ALL=C): the ceiling for reading.
Wall time is taken around the process, user+system CPU and peak RSS come from /usr/bin/time;
for the daemon from /proc (per-thread schedstat, VmHWM). One markdown table on stdout; details, cross-checks
and a JSON copy in bench/.cache/ ($LW_BENCH_CACHE if set).
"""
import argparse
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("LW_BENCH_CACHE") or os.path.join(HERE, ".cache")
sys.path.insert(0, HERE)
import gen  # noqa: E402
import live  # noqa: E402

# name -> (corpus kind, rule files (glob), mtail program dir or None, patterns name or None)
WORKLOADS = [
    ("nginx-1", "nginx", "rules/nginx-1.yaml", "nginx-1"),
    ("web", "nginx", "rules/web.yaml", "web"),
    ("web-today", "nginx", "rules/web-today.yaml", "web-today"),
    ("mixed-20", "mix", "rules/mixed-20.yaml", "mixed-20"),
    ("mixed-100", "mix", "rules/mixed-100.yaml", "mixed-100"),
    ("shipped", "mix", os.path.join(ROOT, "rules.d", "*.yaml"), None),
]
MTAIL_DEFAULT = {"nginx-1", "mixed-20"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- corpora --------------------------------------------------------------------------------
def default_start():
    """00:00 UTC on the first day of the previous month: syslog lines carry no year, and
    logwarden infers the latest year that is not in the future, so the corpus must lie in the
    past year for the three kinds of the mix to share one clock."""
    t = time.gmtime()
    y, m = (t.tm_year, t.tm_mon - 1) if t.tm_mon > 1 else (t.tm_year - 1, 12)
    import calendar
    return calendar.timegm((y, m, 1, 0, 0, 0))


def generate(kind, size, seed, start, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        gen.generate(kind, size, seed, start, 3000 if kind == "mix" else 2000, f.write)
    os.replace(tmp, path)


def gen_version():
    with open(os.path.join(HERE, "gen.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:8]


def corpus(kind, size, seed, start):
    """The cached corpus, keyed by kind, size, seed, start and the generator's own hash."""
    os.makedirs(CACHE, exist_ok=True)
    stem = "%s-%d-s%d" % (kind, size, seed)
    path = os.path.join(CACHE, "%s-t%d-g%s.log" % (stem, start, gen_version()))
    if not os.path.exists(path):
        for old in glob.glob(os.path.join(CACHE, stem + "-t*.log")):
            os.unlink(old)
        log("generating %s (%s, seed %d)..." % (os.path.basename(path), human(size), seed))
        t = time.time()
        generate(kind, size, seed, start, path)
        log("  %.1f s" % (time.time() - t))
    return path


def warm(path):
    """Page-caches the file (reads it once) and returns (lines, bytes)."""
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(16 << 20)
            if not b:
                break
            n += b.count(b"\n")
    return n, os.path.getsize(path)


def human(n):
    for u, m in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= m:
            return "%g%s" % (n / m, u)
    return "%dB" % n


# ---- measuring ------------------------------------------------------------------------------
def timed(cmd, stdout=subprocess.DEVNULL, stderr=None, env=None):
    """Runs cmd under /usr/bin/time; returns dict(wall, cpu, rss_mb, rc). Wall is taken here
    (perf_counter); CPU (user + system) and peak RSS from GNU time: wait4() in Python would
    report the RSS of the forked Python process before exec as the child's peak."""
    errf = open(stderr, "wb") if stderr else subprocess.DEVNULL
    tf = os.path.join(CACHE, ".time")
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-o", tf, "-f", "%U %S %M"] + cmd, stdout=stdout, stderr=errf, env=env)
    p.wait()
    wall = time.perf_counter() - t0
    if stderr:
        errf.close()
    u, s, m = open(tf).read().split()[-3:]
    return {"wall": wall, "cpu": float(u) + float(s), "rss_mb": int(m) / 1024.0, "rc": p.returncode}


def pin():
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def write_config(d, rules, live_path):
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "logwarden.yaml")
    with open(cfg, "w") as f:
        f.write("# written by bench/bench.py\n"
                "state: %s\nlog_level: info\nrules: ['%s']\n"
                "inputs:\n  - name: bench\n    type: file\n    paths: ['%s']\n"
                "    start_at: beginning\n    poll_interval: 50ms\n"
                % (os.path.join(d, "state.db"), rules, live_path))
    return cfg


def check_rules(binary, cfg):
    p = subprocess.run([binary, "check", "-c", cfg], capture_output=True, text=True)
    if p.returncode == 0:
        return None
    msg = (p.stdout + p.stderr).strip().splitlines()
    first = next((m for m in msg if re.search(r":\d+:\d+: ", m)), msg[0] if msg else "check failed")
    first = re.sub(r"^\S+:\d+:\d+: ", "", first)
    return "check failed: " + first


REPLAY_RE = re.compile(r"replay: (\d+) lines .*?, (\d+) events, (\d+) alert transitions(.*)")


# Replay's clock is fixed two days after the corpora's start (default_start), not read from
# the wall clock: the output is then the same on any day, and syslog lines (no year) get the
# corpus's year like the rest.
REPLAY_NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(default_start() + 2 * 86400))


def run_replay(binary, cfg, path, outdir, name, reps):
    best, trans, runs = None, [], []
    for i in range(reps):
        err = os.path.join(outdir, "%s.replay.err" % name)
        out = open(os.path.join(outdir, "%s.replay.jsonl" % name), "wb") if i == 0 else subprocess.DEVNULL
        r = timed(pin() + [binary, "replay", "-c", cfg, "--now", REPLAY_NOW, path], stdout=out, stderr=err)
        if i == 0:
            out.close()
        text = open(err, errors="replace").read()
        m = REPLAY_RE.search(text)
        if r["rc"] != 0 or not m:
            return {"na": "replay failed (rc %d): %s" % (r["rc"], text.strip()[-200:])}
        r["lines"], r["matches"], r["transitions"] = int(m.group(1)), int(m.group(2)), int(m.group(3))
        r["extra"] = m.group(4).strip(", ")
        r["per_event"] = {k: int(v) for k, v in re.findall(r"event (\S+): (\d+)", text)}
        trans.append(r["transitions"])
        runs.append(r["wall"])
        if best is None or r["wall"] < best["wall"]:
            best = r
    with open(os.path.join(outdir, "%s.replay.jsonl" % name), "rb") as f:
        best["sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
    best["runs"] = runs
    if len(set(trans)) != 1:
        best["warn"] = "replay transitions differ between runs: %s" % trans
    late = re.search(r"(\d+) late", best["extra"])
    if late and int(late.group(1)):
        # Late events skip the windows: the run did less than the work it is timed for.
        best["warn"] = "replay dropped %s late events (corpus times out of order?)" % late.group(1)
    return best


def task_cpu_ns(pid):
    total = 0
    for t in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(t) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def checkpoint(db):
    """The furthest file offset in the state file's checkpoints: a file input's position is
    "DEV:INO:OFF" (schema 4), or the off column (schema 3 and before, for A/B runs)."""
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.2)
        try:
            cols = [r[1] for r in c.execute("pragma table_info(checkpoints)")]
            if "off" in cols:
                row = c.execute("select max(off) from checkpoints").fetchone()
                return row[0] or 0
            offs = [int(bytes(r[0]).rsplit(b":", 1)[-1]) for r in c.execute("select pos from checkpoints")]
            return max(offs, default=0)
        finally:
            c.close()
    except (sqlite3.Error, ValueError):
        return -1


STOP_RE = re.compile(r"stopped: (\d+) lines, (\d+) events, (\d+) late, (\d+) transitions")


def run_daemon(binary, rules, live_corpus, outdir, name, lines_expected):
    """The live daemon tails an initially empty file; the corpus is appended in 16 MB writes."""
    d = os.path.join(outdir, "daemon-" + name)
    shutil.rmtree(d, ignore_errors=True)
    live = os.path.join(d, "live.log")
    cfg = write_config(d, rules, live)
    open(live, "wb").close()
    err_path = os.path.join(d, "stderr.log")
    errf = open(err_path, "wb")
    p = subprocess.Popen(pin() + [binary, "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=errf, cwd=d)
    try:
        deadline = time.time() + 20
        while "running:" not in open(err_path, errors="replace").read():
            if p.poll() is not None or time.time() > deadline:
                return {"na": "daemon did not start: " + open(err_path, errors="replace").read().strip()[-200:]}
            time.sleep(0.02)
        time.sleep(0.2)  # let it open the file and settle
        size = os.path.getsize(live_corpus)
        cpu0 = task_cpu_ns(p.pid)
        t0 = time.perf_counter()
        samples = [(t0, cpu0)]
        with open(live_corpus, "rb") as src, open(live, "r+b") as dst:  # not O_APPEND: sendfile
            off = 0
            while off < size:  # 16 MB appends, in the kernel (the writer must outrun the reader)
                off += os.sendfile(dst.fileno(), src.fileno(), off, min(16 << 20, size - off))
                samples.append((time.perf_counter(), task_cpu_ns(p.pid)))
        written = time.perf_counter()
        # Poll CPU every 5 ms until the checkpoint covers the whole file and the daemon has been
        # idle for 300 ms; the end is the end of the last busy sample (> 30 % of a core).
        db = os.path.join(d, "state.db")
        deadline = time.time() + 600
        done_cp = None
        last_busy = written
        while time.time() < deadline:
            time.sleep(0.005)
            now, cpu = time.perf_counter(), task_cpu_ns(p.pid)
            pt, pc = samples[-1]
            if cpu - pc > 0.3 * (now - pt) * 1e9:
                last_busy = now
            samples.append((now, cpu))
            if done_cp is None and len(samples) % 20 == 0 and checkpoint(db) >= size:
                done_cp = now
            if done_cp is not None and now - last_busy > 0.3:
                break
            if p.poll() is not None:
                return {"na": "daemon exited: " + open(err_path, errors="replace").read().strip()[-200:]}
        else:
            return {"na": "daemon did not reach the end of the file in 600 s"}
        # The end of processing: the last busy sample before the final idle stretch, ignoring
        # the short flushes that follow it (busy samples separated from the bulk by > 150 ms).
        end, prev = t0, t0
        for (ta, ca), (tb, cb) in zip(samples, samples[1:]):
            if cb - ca > 0.3 * (tb - ta) * 1e9:
                if ta - prev > 0.15 and ta > written:
                    break
                end = prev = tb
        cpu_end = next(c for t, c in samples if t >= end)
        with open(os.path.join(d, "samples.txt"), "w") as f:
            f.write("# seconds since the first write, daemon CPU seconds (all threads)\n")
            f.write("".join("%.4f %.4f\n" % (t - t0, (c - cpu0) / 1e9) for t, c in samples))
        rss = proc_status(p.pid, "VmHWM") / 1024.0
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        errf.close()
    text = open(err_path, errors="replace").read()
    m = STOP_RE.search(text)
    r = {"wall": end - t0, "cpu": (cpu_end - cpu0) / 1e9, "rss_mb": rss, "rc": p.returncode}
    if not m:
        return {"na": "no 'stopped:' line: " + text.strip()[-200:]}
    r["lines"], r["matches"], late, r["transitions"] = (int(x) for x in m.groups())
    r["extra"] = ("%d late, " % late if late else "") + "corpus appended in %.2f s" % (written - t0)
    if r["lines"] != lines_expected:
        r["warn"] = "daemon processed %d lines of %d" % (r["lines"], lines_expected)
    return r


def run_mtail(progdir, path, outdir, name):
    out = os.path.join(outdir, "%s.mtail.json" % name)
    with open(out, "wb") as f:
        r = timed(pin() + ["mtail", "--one_shot", "--one_shot_format", "json", "--logtostderr",
                           "--logs", path, "--progs", progdir], stdout=f,
                  stderr=os.path.join(outdir, "%s.mtail.err" % name))
    if r["rc"] != 0:
        return {"na": "mtail failed (rc %d), see %s.mtail.err" % (r["rc"], name)}
    try:
        data = json.load(open(out))
    except ValueError:
        return {"na": "mtail printed no JSON"}
    per = {}
    for k, ms in data.items():
        if k.endswith("_total"):
            per[k[:-6]] = sum(int(lv["Value"]["Value"]) for m in ms for lv in m.get("LabelValues", []))
    r["matches"], r["per_event"] = sum(per.values()), per
    return r


def run_simple(cmd, parse):
    outf = os.path.join(CACHE, ".out")
    with open(outf, "wb") as f:
        r = timed(cmd, stdout=f, env=dict(os.environ, LC_ALL="C"))
    text = open(outf, errors="replace").read()
    r["matches"] = parse(text)
    return r


def best_of(reps, fn):
    best = None
    for _ in range(reps):
        r = fn()
        if r.get("na"):
            return r
        if best is None or r["wall"] < best["wall"]:
            best = r
    return best


# ---- main -----------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--pcre-loop", required=True)
    ap.add_argument("--size", default="200MB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--mtail-all", action="store_true")
    ap.add_argument("--no-mtail", action="store_true")
    ap.add_argument("--no-daemon", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    size = gen.parse_size(a.size)
    only = set(filter(None, a.only.split(",")))
    if a.smoke:
        size, a.reps, only = gen.parse_size("4MB"), 2, only or {"nginx-1", "mixed-20"}
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # the harness off core 0
    have_mtail = shutil.which("mtail") is not None and not a.no_mtail
    outdir = os.path.join(CACHE, "run")
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    start = default_start()
    problems = []
    rows = []

    if a.smoke:  # the generator is deterministic for a seed
        h = []
        for _ in range(2):
            chunks = []
            gen.generate("mix", 300000, 7, start, 3000, chunks.append)
            h.append(hashlib.sha256(b"".join(chunks)).hexdigest())
        if h[0] != h[1]:
            problems.append("gen.py is not deterministic: %s" % h)

    corpora, live_corpora, read_rows = {}, {}, set()
    for name, kind, rules, pats in WORKLOADS:
        if only and name not in only:
            continue
        rules_abs = rules if os.path.isabs(rules) else os.path.join(HERE, rules)
        if kind not in corpora:
            path = corpus(kind, size, a.seed, start)
            corpora[kind] = (path,) + warm(path)
        path, lines, nbytes = corpora[kind]
        wl = "%s (%s %s)" % (name, kind, human(size))

        def add(tool, r):
            row = {"workload": name, "corpus": kind, "tool": tool, "lines": lines, "bytes": nbytes,
                   "size": human(size)}
            row.update(r)
            if r.get("warn"):
                problems.append("%s/%s: %s" % (name, tool, r["warn"]))
            rows.append(row)
            if r.get("na"):
                log("  %-8s n/a: %s" % (tool, r["na"]))
            else:
                log("  %-8s %9.0f lines/s %7.1f MB/s  cpu %.2f s  rss %.1f MB" % (
                    tool, lines / r["wall"], nbytes / 1e6 / r["wall"], r["cpu"], r["rss_mb"]))

        log("%s" % wl)
        if not glob.glob(rules_abs):
            add("replay", {"na": "no rule files (%s)" % os.path.relpath(rules_abs, ROOT)})
            continue
        cfg = write_config(os.path.join(outdir, "cfg-" + name), rules_abs, os.path.join(outdir, "unused.log"))
        na = check_rules(binary, cfg)
        warm(path)
        if na:
            add("replay", {"na": na})
            add("run", {"na": na})
        else:
            rep = run_replay(binary, cfg, path, outdir, name, a.reps)
            add("replay", rep)
            if not a.no_daemon:
                lc = live_corpora.get(kind)
                if lc is None or time.time() - lc[1] > 240:
                    lpath = os.path.join(CACHE, "live-%s-%d-s%d.log" % (kind, size, a.seed))
                    log("  (generating the live corpus: event time starts in 10 minutes)")
                    gen_t = time.time()
                    generate(kind, size, a.seed, int(gen_t) + 600, lpath)
                    lc = live_corpora[kind] = (lpath, gen_t)
                    warm(lpath)
                llines, _ = warm(lc[0])
                add("run", run_daemon(binary, rules_abs, lc[0], outdir, name, llines))
        progdir = os.path.join(HERE, "mtail", name)
        if have_mtail and os.path.isdir(progdir) and (name in MTAIL_DEFAULT or a.mtail_all):
            warm(path)
            add("mtail", run_mtail(progdir, path, outdir, name))
        if pats:
            pfile = os.path.join(HERE, "patterns", pats + ".pcre")
            efile = os.path.join(HERE, "patterns", pats + ".ere")

            def pcre():
                r = timed(pin() + [os.path.abspath(a.pcre_loop), "--quiet", "--patterns", pfile, path],
                          stdout=open(os.path.join(outdir, name + ".pcre.out"), "wb"))
                m = re.search(r"matched_any (\d+) matches (\d+)",
                              open(os.path.join(outdir, name + ".pcre.out")).read())
                r["matches"] = int(m.group(2)) if m else -1
                r["any"] = int(m.group(1)) if m else -1
                return r
            add("pcre", best_of(a.reps, pcre))
            add("grep", best_of(a.reps, lambda: run_simple(["grep", "-c", "-E", "-f", efile, path],
                                                            lambda t: int(t.split()[0]))))
        if kind not in read_rows:
            read_rows.add(kind)
            add("wc -l", best_of(a.reps, lambda: run_simple(["wc", "-l", path], lambda t: int(t.split()[0]))))

        # cross-checks: the same matches everywhere
        by = {r["tool"]: r for r in rows if r["workload"] == name and not r.get("na")}
        if "replay" in by and "pcre" in by and by["replay"]["matches"] != by["pcre"]["matches"]:
            problems.append("%s: replay has %d events, the PCRE2 loop %d matches" % (
                name, by["replay"]["matches"], by["pcre"]["matches"]))
        if "mtail" in by and "pcre" in by and by["mtail"]["matches"] != by["pcre"]["matches"]:
            problems.append("%s: mtail counted %d, the PCRE2 loop %d" % (name, by["mtail"]["matches"],
                                                                        by["pcre"]["matches"]))
        if "pcre" in by and "grep" in by and by["grep"]["matches"] != by["pcre"]["any"]:
            problems.append("%s: grep -c %d lines, the PCRE2 loop %d" % (name, by["grep"]["matches"],
                                                                        by["pcre"]["any"]))
        if "replay" in by and "lines" in by["replay"] and by["replay"]["lines"] != lines:
            problems.append("%s: replay read %d lines of %d" % (name, by["replay"]["lines"], lines))
        if "run" in by and "replay" in by and by["run"]["matches"] != by["replay"]["matches"]:
            # the live corpus differs from the replay corpus only in dates: same lines
            problems.append("%s: the daemon had %d events, replay %d" % (name, by["run"]["matches"],
                                                                         by["replay"]["matches"]))

    table = render(rows)
    print(table)
    if problems:
        print("\nproblems:")
        for p in problems:
            print("- " + p)
    notes = ["", "matches: events (replay, run), counted events (mtail), pattern matches (pcre), "
             "matching lines (grep), lines (wc -l)."]
    for r in rows:
        if r.get("tool") == "replay" and not r.get("na"):
            notes.append("replay %s: %d transitions, output sha256 %s%s" % (
                r["workload"], r["transitions"], r["sha256"], ", " + r["extra"] if r.get("extra") else ""))
        if r.get("tool") == "run" and not r.get("na"):
            notes.append("run %s: %d transitions%s" % (r["workload"], r["transitions"],
                                                        ", " + r["extra"] if r.get("extra") else ""))
    print("\n".join(notes))
    with open(os.path.join(CACHE, "last-run.json"), "w") as f:
        json.dump({"size": size, "seed": a.seed, "start": start, "machine": machine(), "rows": rows,
                   "problems": problems}, f, indent=1, default=str)
    with open(os.path.join(CACHE, "last-run.md"), "w") as f:
        f.write(table + "\n" + "\n".join(notes) + "\n")
    if a.smoke:
        for r in rows:
            if r.get("na") and r["workload"] in ("nginx-1", "mixed-20"):
                problems.append("%s/%s n/a: %s" % (r["workload"], r["tool"], r["na"]))
        print("smoke: %s" % ("FAIL" if problems else "ok"))
        return 1 if problems else 0
    return 0


def render(rows):
    mt = {r["workload"]: r for r in rows if r["tool"] == "mtail" and not r.get("na")}
    out = ["| workload | tool | lines/s | MB/s | CPU s | peak RSS MB | vs mtail | matches |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        wl = "%s (%s %s)" % (r["workload"], r["corpus"], r["size"])
        if r.get("na"):
            out.append("| %s | %s | n/a: %s | | | | | |" % (wl, r["tool"], r["na"].replace("|", "/")))
            continue
        lps = r["lines"] / r["wall"]
        ratio = "%.1f×" % (lps / (mt[r["workload"]]["lines"] / mt[r["workload"]]["wall"])) \
            if r["workload"] in mt else "–"
        out.append("| %s | %s | %s | %.1f | %.2f | %.1f | %s | %s |" % (
            wl, r["tool"], fmt_rate(lps), r["bytes"] / 1e6 / r["wall"], r["cpu"], r["rss_mb"], ratio,
            r.get("matches", "")))
    return "\n".join(out)


def fmt_rate(x):
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e3:
        return "%.0f k" % (x / 1e3)
    return "%.0f" % x


def machine():
    return {"nproc": os.cpu_count(), "cpu": live.cpu_model(), "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


if __name__ == "__main__":
    sys.exit(main())
