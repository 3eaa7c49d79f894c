#!/usr/bin/env python3
"""tail.py: the tailing benchmark (bench/run.sh BIN --tail): the live daemon following many files.

    tail.py --bin BUILD/logwarden [--smoke] [--no-mtail] [--strict] [--keep N] [--only SCENARIO,...]

`logwarden run` with one `file` input over a glob (default poll_interval, start_at: beginning
on files created empty before it starts) and one rule that keeps, per file, the count and the
sum of the sequence numbers its lines carry; Debian's mtail follows the same files in the same
way (`--logs GLOB`, a program counting lines and summing sequence numbers per file). Both are
pinned to core 0 (taskset), the writer runs in this process on the last core.

Scenarios (--only takes their names; full size, --smoke runs each in a second or two):
  files-1, files-100,    2 000 000 lines in all, appended as fast as the kernel takes them
  files-1000             (sendfile from a cached source file): lines/s until every line is
                         counted (the daemon's logwarden_input_lines_total, mtail's counter)
  steady-1000            20 000 lines/s over 1000 files for 10 s: the CPU a steady load costs
  storm                  one file written at 100 000 lines/s for 5 s, renamed every 10 ms as
                         logrotate's create mode does with `rotate 5` (app.log -> app.log.1 ->
                         ... -> app.log.5, the oldest deleted, a new app.log created); a file
                         lives 50 ms after its rename, so a daemon descheduled that long on a
                         busy machine loses it. --keep 0 keeps every rotation under a name of
                         its own (app.log-000001, ..., as dateext without a limit): with
                         --strict, a verdict on the tailer rather than on the machine's load
  idle-1, idle-1000      files of one line each, nothing appended: RSS after 2 s (memory per
                         followed file = (RSS 1000 - RSS 1) / 999) and the CPU of 3 s idle

Each line is `seq=NNNNNNNNNN <an nginx line>`, 144 bytes, numbered from 0 in each file (in the
storm, across the rotations). "exact" compares what each tool kept per file (logwarden: the
state file's buckets after SIGTERM; mtail: its counters) with what was written: a line lost
or counted twice shows, and so does a line lost and another counted twice (the sum differs).
CPU is user + system from /proc/PID/stat over the same span as lines/s, peak RSS is VmHWM.
Per-input metrics the binary has beyond logwarden_input_lines_total (files followed,
rotations, ...: issue 13's tail engine) are printed under the table when present.

Exit status 1 when logwarden misbehaved: did not start or stop cleanly, or missed or doubled a
line in a scenario without rotation (with --strict: in the storm too). mtail's results are
reported, never fatal. Details in bench/.cache/tail/ ($LW_BENCH_CACHE/tail).
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402
import live  # noqa: E402

CACHE = os.path.join(os.environ.get("LW_BENCH_CACHE") or os.path.join(HERE, ".cache"), "tail")
WIDTH = 144  # bytes per line, newline included: a file's offsets are line numbers times WIDTH
SRC_VERSION = 1  # bump when the source lines change

RULES = """\
# written by bench/tail.py: per file, the number of lines and the sum of their sequence numbers.
events:
  - name: seq
    match: '^seq=(?<seq>\\d+) '
    fields: {seq: int}
alerts:
  - name: TailSeq
    event: seq
    group_by: [path]
    window: 1h
    sum: {field: seq, above: 1e18}
"""

MTAIL_PROG = """\
# written by bench/tail.py: the equivalent of its logwarden rule.
counter tail_lines_total by file
counter tail_seq_sum by file
/^seq=(?P<seq>\\d+) / {
  tail_lines_total[getfilename()]++
  tail_seq_sum[getfilename()] += $seq
}
"""

# name, files, lines per file (as fast as possible) or None, rate (lines/s in all), seconds,
# rotate every ms (0: never), idle
FULL = [
    ("files-1", 1, 2000000, 0, 0, 0, False),
    ("files-100", 100, 20000, 0, 0, 0, False),
    ("files-1000", 1000, 2000, 0, 0, 0, False),
    ("steady-1000", 1000, None, 20000, 10, 0, False),
    ("storm", 1, None, 100000, 5, 10, False),
    ("idle-1", 1, 1, 0, 0, 0, True),
    ("idle-1000", 1000, 1, 0, 0, 0, True),
]
SMOKE = [
    ("files-1", 1, 40000, 0, 0, 0, False),
    ("files-100", 100, 400, 0, 0, 0, False),
    ("files-1000", 1000, 40, 0, 0, 0, False),
    ("steady-1000", 1000, None, 5000, 1.5, 0, False),
    ("storm", 1, None, 20000, 1.5, 10, False),
    ("idle-1", 1, 1, 0, 0, 0, True),
    ("idle-1000", 1000, 1, 0, 0, 0, True),
]
KEEP = 5  # rotated files kept in the storm, as logrotate's `rotate 5` (--keep)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- the lines ------------------------------------------------------------------------------
def source(nlines):
    """A cached file of nlines numbered lines (seq=0..nlines-1), each WIDTH bytes: every file a
    scenario writes is a prefix of it, appended with sendfile."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, "src-v%d-w%d-n%d.log" % (SRC_VERSION, WIDTH, nlines))
    if os.path.exists(path):
        return path
    for old in os.listdir(CACHE):
        if old.startswith("src-"):
            os.unlink(os.path.join(CACHE, old))
    chunks = []
    gen.generate("nginx", 600000, 1, 1700000000, 2000, chunks.append)
    body = WIDTH - len("seq=0000000000 ") - 1
    pool = [ln[:body].ljust(body) for ln in b"".join(chunks).splitlines() if ln]
    log("tail: writing the %d-line source (%s)" % (nlines, os.path.basename(path)))
    with open(path + ".tmp", "wb") as f:
        for lo in range(0, nlines, 100000):
            f.write(b"".join([b"seq=%010d %s\n" % (i, pool[i % len(pool)])
                              for i in range(lo, min(nlines, lo + 100000))]))
    os.replace(path + ".tmp", path)
    return path


class Writer(threading.Thread):
    """Appends source lines to each of `paths`: lines_per_file as fast as sendfile goes (64 KiB
    per file per round), or `rate` lines/s in all for `seconds` (a tick every 10 ms, the due
    lines spread over the files), renaming paths[0] every rotate_ms as logrotate's create mode
    with `rotate KEEP`. written[i] is the number of lines file i (its sequence) has had."""

    def __init__(self, paths, src, lines_per_file=None, rate=0, seconds=0, rotate_ms=0, keep=KEEP):
        super().__init__(daemon=True)
        self.keep = keep
        self.paths, self.src = paths, src
        self.lines_per_file, self.rate, self.seconds, self.rotate_ms = lines_per_file, rate, seconds, rotate_ms
        self.written = [0] * len(paths)
        self.rotations = 0
        self.fds = [os.open(p, os.O_WRONLY | os.O_CREAT, 0o644) for p in paths]
        for fd in self.fds:
            os.lseek(fd, 0, os.SEEK_END)
        self.t0 = self.t1 = None
        self.error = None

    def run(self):
        try:
            with open(self.src, "rb") as s:
                self.t0 = time.perf_counter()
                if self.lines_per_file:
                    self._flat_out(s.fileno())
                else:
                    self._paced(s.fileno())
        except Exception as e:  # reported by the caller
            self.error = e
        finally:
            self.t1 = time.perf_counter()
            for fd in self.fds:
                os.close(fd)

    def _send(self, i, src, n):
        off, left = self.written[i] * WIDTH, n * WIDTH
        while left > 0:  # the file position of a non-O_APPEND fd: sendfile appends there
            k = os.sendfile(self.fds[i], src, off, left)
            off, left = off + k, left - k
        self.written[i] += n

    def _flat_out(self, src):
        per_round = max(1, (64 << 10) // WIDTH)
        busy = True
        while busy:
            busy = False
            for i in range(len(self.paths)):
                n = min(per_round, self.lines_per_file - self.written[i])
                if n > 0:
                    self._send(i, src, n)
                    busy = True

    def _paced(self, src):
        tick, k, cur, sent = 0.01, 0, 0, 0
        nf = len(self.paths)
        last_rot = self.t0
        while True:
            now = time.perf_counter()
            if now - self.t0 >= self.seconds:
                break
            due = int(self.rate * (now - self.t0)) - sent
            per = max(1, -(-due // nf))
            while due > 0:
                n = min(per, due)
                self._send(cur % nf, src, n)
                cur, due, sent = cur + 1, due - n, sent + n
            if self.rotate_ms and (now - last_rot) * 1000 >= self.rotate_ms:
                self._rotate()
                last_rot = now
            k += 1
            delay = self.t0 + k * tick - time.perf_counter()
            if self.rotate_ms:
                delay = min(delay, last_rot + self.rotate_ms / 1000 - time.perf_counter())
            if delay > 0:
                time.sleep(delay)

    def _rotate(self):
        p = self.paths[0]
        os.close(self.fds[0])
        if self.keep == 0:  # a name of its own, nothing deleted
            os.rename(p, "%s-%06d" % (p, self.rotations + 1))
        else:
            for i in range(self.keep - 1, 0, -1):
                if os.path.exists("%s.%d" % (p, i)):
                    os.rename("%s.%d" % (p, i), "%s.%d" % (p, i + 1))  # over .keep: the oldest goes
            os.rename(p, p + ".1")
        self.fds[0] = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.rotations += 1


# ---- the tools ------------------------------------------------------------------------------
def pin():
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode(errors="replace")


def metric_sum(text, name, match=""):
    """The sum of every sample of metric `name` whose line contains `match`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name)] in " {" and match in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / live.CLK_TCK


def proc_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Logwarden:
    name = "logwarden"

    def __init__(self, binary, d, glob_):
        self.d, self.port = d, live.free_port()
        with open(os.path.join(d, "tail.yaml"), "w") as f:
            f.write(RULES)
        cfg = os.path.join(d, "logwarden.yaml")
        with open(cfg, "w") as f:
            f.write("# written by bench/tail.py\nstate: %s\nlog_level: info\n"
                    "http: {listen: '127.0.0.1:%d'}\nrules: ['%s']\n"
                    "inputs:\n  - name: tail\n    type: file\n    paths: ['%s']\n"
                    "    start_at: beginning\n"
                    % (os.path.join(d, "state.db"), self.port, os.path.join(d, "tail.yaml"), glob_))
        self.err_path = os.path.join(d, "stderr.log")
        self._errf = open(self.err_path, "wb")
        self.p = subprocess.Popen(pin() + [binary, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                  stderr=self._errf, cwd=d)
        self.pid = self.p.pid
        deadline = time.time() + 30
        while "running:" not in self.log():
            if self.p.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("logwarden did not start: " + self.log().strip()[-300:])
            time.sleep(0.02)

    def log(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def counted(self):
        self.text = scrape(self.port)
        return int(metric_sum(self.text, "logwarden_input_lines_total", 'input="tail"'))

    def extra(self):
        """The input's metrics beyond today's three (issue 13's tail engine), summed per name."""
        out = {}
        known = ("logwarden_input_lines_total", "logwarden_input_dropped_total", "logwarden_late_events_total")
        for line in getattr(self, "text", "").splitlines():
            if 'input="tail"' in line and not line.startswith(known):
                name = re.split(r"[{ ]", line, 1)[0]
                out[name] = out.get(name, 0) + float(line.rsplit(" ", 1)[1])
        return out

    def stop(self):
        """SIGTERM, then the per-file (count, seq sum) from the state file's buckets."""
        if self._errf.closed:
            return {}
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._errf.close()
        self.rc = self.p.returncode
        self.stopped = live.STOP_RE.search(self.log()) is not None
        per = {}
        try:
            c = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.d, "state.db"), uri=True)
            for grp, n, s in c.execute("select grp, sum(count), sum(sum) from buckets "
                                       "where alert = 'TailSeq' group by grp"):
                per[json.loads(grp).get("path", grp)] = (int(n), int(s))
            c.close()
        except (sqlite3.Error, ValueError):
            pass
        return per


class Mtail:
    name = "mtail"

    def __init__(self, d, glob_):
        self.port = live.free_port()
        progs = os.path.join(d, "progs")
        os.makedirs(progs)
        with open(os.path.join(progs, "tail.mtail"), "w") as f:
            f.write(MTAIL_PROG)
        self.err_path = os.path.join(d, "stderr.log")
        self._errf = open(self.err_path, "wb")
        self.p = subprocess.Popen(pin() + ["mtail", "--progs", progs, "--logs", glob_, "--port", str(self.port),
                                           "--address", "127.0.0.1", "--logtostderr"],
                                  stdout=subprocess.DEVNULL, stderr=self._errf, cwd=d)
        self.pid = self.p.pid
        deadline = time.time() + 30
        while True:
            try:
                self.counted()
                break
            except OSError:
                if self.p.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("mtail did not start")
                time.sleep(0.05)

    def counted(self):
        self.text = scrape(self.port)
        return int(metric_sum(self.text, "tail_lines_total"))

    def extra(self):
        return {}

    def stop(self):
        """Mtail's per-file (count, seq sum) from its counters, then SIGTERM."""
        per = {}
        if self._errf.closed:
            return per
        try:
            text = scrape(self.port)
            for name, idx in (("tail_lines_total", 0), ("tail_seq_sum", 1)):
                for m in re.finditer(r'^%s\{file="([^"]*)"[^}]*\} (\S+)$' % name, text, re.M):
                    per.setdefault(m.group(1), [0, 0])[idx] = int(float(m.group(2)))
        except OSError:
            pass
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._errf.close()
        self.rc, self.stopped = self.p.returncode, True
        return {k: tuple(v) for k, v in per.items()}


# ---- one scenario for one tool --------------------------------------------------------------
def exactness(per, paths, written, storm):
    """'yes', or what differs between what the tool kept and what was written."""
    def want(n):
        return n, n * (n - 1) // 2
    if storm:  # one sequence over the file and its rotations: the sum over every name
        got = (sum(v[0] for v in per.values()), sum(v[1] for v in per.values()))
        exp = want(written[0])
        return "yes" if got == exp else diff(got, exp)
    bad, lost, extra = 0, 0, 0
    for p, n in zip(paths, written):
        got, exp = per.get(p, (0, 0)), want(n)
        if got != exp:
            bad += 1
            lost += max(0, exp[0] - got[0])
            extra += max(0, got[0] - exp[0])
    if not bad:
        return "yes"
    return "no: %d files differ (%d lines missing, %d extra%s)" % (
        bad, lost, extra, "" if lost or extra else ", sequence sums differ")


def diff(got, exp):
    if got[0] < exp[0]:
        return "no: %d of %d lines lost" % (exp[0] - got[0], exp[0])
    if got[0] > exp[0]:
        return "no: %d lines counted twice" % (got[0] - exp[0])
    return "no: as many lines, other sequence numbers"


def run_one(tool, binary, scen, src, quiet, settle, keep):
    name, nfiles, per_file, rate, seconds, rotate_ms, idle = scen
    d = os.path.join(CACHE, "run", "%s-%s" % (tool, name))
    shutil.rmtree(d, ignore_errors=True)
    logs = os.path.realpath(os.path.join(d, "logs"))  # as the daemon's `path` label will say it
    os.makedirs(logs)
    paths = [os.path.join(logs, "app.log" if rotate_ms else "w%04d.log" % i) for i in range(nfiles)]
    glob_ = paths[0] if rotate_ms else os.path.join(logs, "*.log")
    if idle:  # one line in each, there before the tool starts
        w = Writer(paths, src, lines_per_file=per_file)
        w.run()
    else:
        for p in paths:
            open(p, "wb").close()
    r = {"scenario": name, "tool": tool, "files": nfiles}
    try:
        t = Logwarden(binary, d, glob_) if tool == "logwarden" else Mtail(d, glob_)
    except RuntimeError as e:
        r["na"] = str(e)
        return r
    try:
        if idle:
            return measure_idle(t, r, nfiles, settle)
        time.sleep(settle)  # both find the files (a poll of the glob) before the first line
        w = Writer(paths, src, per_file, rate, seconds, rotate_ms, keep)
        cpu0 = proc_cpu(t.pid)
        w.start()
        last, t_last, deadline = -1, time.perf_counter(), time.time() + 300
        samples = []
        while time.time() < deadline:
            time.sleep(0.05)
            try:
                now, n, cpu = time.perf_counter(), t.counted(), proc_cpu(t.pid)
            except OSError:  # the tool is gone (or hangs): no number from this run
                w.join()
                r["na"] = "%s exited or stopped answering (rc %s)" % (tool, t.p.poll())
                return r
            samples.append((now, n, cpu))
            if n != last:
                last, t_last = n, now
            done = not w.is_alive()
            if done and n >= sum(w.written):
                break
            if done and now - max(t_last, w.t1) > quiet:
                break
        w.join()
        if w.error:
            raise w.error
        t_end = next(s for s in samples if s[1] == last)  # when the count reached its last value
        r.update(written=sum(w.written), counted=last, wall=t_end[0] - w.t0, cpu=t_end[2] - cpu0,
                 rss_mb=proc_kb(t.pid, "VmHWM") / 1024.0, rotations=w.rotations, extra=t.extra())
        if rotate_ms:
            r["offered"] = "%d/s, rename every %d ms, %s" % (
                rate, rotate_ms, "rotate %d" % keep if keep else "every name kept")
        elif rate:
            r["offered"] = "%d/s for %g s" % (rate, seconds)
        else:
            r["offered"] = "flat out"
        per = t.stop()
        r["exact"] = exactness(per, paths, w.written, bool(rotate_ms))
        return r
    finally:
        t.stop()
        r["rc"], r["stopped"] = t.rc, t.stopped


def measure_idle(t, r, nfiles, settle):
    deadline = time.time() + 30
    while t.name == "logwarden" and t.counted() < nfiles and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(2 * settle)
    r["rss_kb"] = proc_kb(t.pid, "VmRSS")
    cpu0, t0 = proc_cpu(t.pid), time.perf_counter()
    time.sleep(3 * settle)
    r["idle_cpu"] = (proc_cpu(t.pid) - cpu0) / (time.perf_counter() - t0)
    r["counted"] = t.counted()
    r["extra"] = t.extra()
    return r


# ---- output ---------------------------------------------------------------------------------
def fmt_rate(x):
    return "%.2f M" % (x / 1e6) if x >= 1e6 else "%.0f k" % (x / 1e3) if x >= 1e3 else "%.0f" % x


def render(rows):
    out = ["| scenario | tool | offered | lines written | counted | exact | lines/s | CPU s | "
           "CPU µs/line | % of a core | peak RSS MB |",
           "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "idle_cpu" in r or (r.get("na") and r["scenario"].startswith("idle-")):
            continue
        if r.get("na"):
            out.append("| %s | %s | n/a: %s | | | | | | | | |" % (r["scenario"], r["tool"], r["na"]))
            continue
        out.append("| %s | %s | %s | %d | %d | %s | %s | %.2f | %.2f | %.0f | %.1f |" % (
            r["scenario"], r["tool"], r["offered"], r["written"], r["counted"], r["exact"],
            fmt_rate(r["counted"] / r["wall"]) if r["wall"] > 0 else "–", r["cpu"],
            r["cpu"] / r["counted"] * 1e6 if r["counted"] else 0, 100 * r["cpu"] / r["wall"] if r["wall"] > 0 else 0,
            r["rss_mb"]))
    out += ["", "| tool | RSS, 1 file | RSS, 1000 files | per followed file | idle CPU, 1 file | "
            "idle CPU, 1000 files |", "|---|---:|---:|---:|---:|---:|"]
    for tool in ("logwarden", "mtail"):
        by = {r["scenario"]: r for r in rows if r["tool"] == tool and "idle_cpu" in r}
        one, many = by.get("idle-1"), by.get("idle-1000")
        if not one or not many:
            continue
        per = (many["rss_kb"] - one["rss_kb"]) / (many["files"] - one["files"])
        out.append("| %s | %.1f MB | %.1f MB | %.1f KB | %.1f %% | %.1f %% |" % (
            tool, one["rss_kb"] / 1024, many["rss_kb"] / 1024, per, 100 * one["idle_cpu"],
            100 * many["idle_cpu"]))
    return "\n".join(out)


def notes(rows):
    """Per run: the writer's rotations and the input's own metrics that are not zero, as the
    last scrape found them (gauges such as bytes behind may lag the line counter)."""
    out = []
    for r in rows:
        said = ["%d rotations written" % r["rotations"]] if r.get("rotations") else []
        ex = r.get("extra") or {}
        said += ["%s %s" % (k.replace("logwarden_", "", 1), "%d" % v if v == int(v) else "%g" % v)
                 for k, v in sorted(ex.items()) if v]
        if said:
            out.append("- %s, %s: %s" % (r["tool"], r["scenario"], ", ".join(said)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-mtail", action="store_true")
    ap.add_argument("--strict", action="store_true", help="the storm must be exact too")
    ap.add_argument("--only", default="", help="scenarios by name, comma-separated")
    ap.add_argument("--keep", type=int, default=KEEP,
                    help="rotated files kept in the storm (0: every one, under its own name)")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1000 files here and in the tools
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # the writer off core 0
    scens = SMOKE if a.smoke else FULL
    only = set(filter(None, a.only.split(",")))
    scens = [s for s in scens if not only or s[0] in only]
    # quiet: how long a count may stand still after the writer ends before the run is over; the
    # smoke runs beside other tests (and in sanitizer builds), where a stall of a second happens.
    quiet, settle = (3.0, 0.5) if a.smoke else (2.0, 1.0)
    need = max(max(s[2] or 0, int(s[3] * s[4]) + s[3]) for s in scens)
    src = source(need)
    tools = ["logwarden"]
    if not a.no_mtail:
        if shutil.which("mtail"):
            tools.append("mtail")
        else:
            log("tail: mtail not installed (apt-get install mtail): its rows are skipped")
    rows, problems = [], []
    log("tail: %s" % live.machine())
    for scen in scens:
        for tool in tools:
            try:
                r = run_one(tool, binary, scen, src, quiet, settle, a.keep)
            except Exception as e:  # one broken run is a row saying so, not the end of the table
                r = {"scenario": scen[0], "tool": tool, "files": scen[1], "na": "%s: %s" % (type(e).__name__, e)}
            rows.append(r)
            log("  %-18s %-9s %s" % (scen[0], tool, summary(r)))
            if tool != "logwarden":
                continue
            if r.get("na") or not r.get("stopped") or r.get("rc"):
                problems.append("%s: logwarden %s" % (scen[0], r.get("na") or "did not stop cleanly (rc %s)" % r.get("rc")))
            elif scen[6] and r["counted"] != scen[1]:
                problems.append("%s: logwarden read %d of %d lines" % (scen[0], r["counted"], scen[1]))
            elif not scen[6] and r["exact"] != "yes" and (not scen[5] or a.strict):
                problems.append("%s: logwarden exact: %s" % (scen[0], r["exact"]))
    table = render(rows)
    print(table)
    extra = notes(rows)
    if extra:
        print("\n" + "\n".join(extra))
    if problems:
        print("\nproblems:\n" + "\n".join("- " + p for p in problems))
    with open(os.path.join(CACHE, "last-run.json"), "w") as f:
        json.dump({"machine": live.machine(), "rows": rows, "problems": problems}, f, indent=1, default=str)
    with open(os.path.join(CACHE, "last-run.md"), "w") as f:
        f.write(table + "\n" + "\n".join(extra) + "\n")
    if a.smoke:
        print("tail smoke: %s" % ("FAIL" if problems else "ok"))
    return 1 if problems else 0


def summary(r):
    if r.get("na"):
        return "n/a: " + r["na"]
    if "idle_cpu" in r:
        return "rss %.1f MB, idle cpu %.1f %%" % (r["rss_kb"] / 1024, 100 * r["idle_cpu"])
    return "%d/%d lines, exact %s, %.0f lines/s, cpu %.2f s, rss %.1f MB" % (
        r["counted"], r["written"], r["exact"], r["counted"] / r["wall"] if r["wall"] > 0 else 0, r["cpu"],
        r["rss_mb"])


if __name__ == "__main__":
    sys.exit(main())
