"""kafkakit.py: shared parts of the Kafka scenarios (kafka_*.py): librdkafka's mock cluster
(tests/kafka/lw_mockkafka), Debian's kcat as producer and as a second reader, keyed JSON messages,
a single-process reference of the windows computed here from what kcat reads back, and logwarden
instances in one consumer group with a webhook sink to an e2e.Receiver.

Every message is a JSON object {"seq": N, "service": KEY, "level": "info"|"error", "ms": INT}
keyed by its service, so a service's messages all go to one partition (librdkafka's default
partitioner, kcat's too). The rules count per service, errors per service, and every seq once (the
exactly-once check of tailkit, per message): the buckets of the instances' state files, added
up, must equal the reference (settle() polls them while the instances run: flushes are periodic).

The scenarios check /metrics by the kafka input's names (logwarden_kafka_*: partitions owned,
rebuilds, lost assignments, fenced commits, paused partitions, partial windows) and /health.
A check of behaviour the input does not meet yet is a known gap (Checks.known below).

The time of a record is the message timestamp. kcat 1.7.1 cannot set one: each message gets
CreateTime = when kcat produced it, which is what consume_all reads back (%T) for the reference.
"""

import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import e2e

SKIP = 77  # ctest SKIP_RETURN_CODE (tests/kafka/CMakeLists.txt)
SESSION_MS = 6000
KEYS = [f"svc-{i:02d}" for i in range(24)]

RULES = r"""
events:
  - name: msg
    inputs: [bus]
    fields: {seq: int, ms: int}
  - name: err
    inputs: [bus]
    fields: {seq: int, ms: int}
    where: 'level == "error"'
  - name: hot
    inputs: [bus]
    where: 'service =~ "^hot-"'
  - name: never
    inputs: [bus]
    where: 'service == "never-seen"'
alerts:
  - name: PerService
    event: msg
    window: 10m
    group_by: [service]
    count: {above: 100000000}
  - name: Errors
    event: err
    window: 10m
    group_by: [service]
    count: {above: 100000000}
  - name: Seen
    event: msg
    window: 10m
    group_by: [seq]
    count: {above: 100000000}
    max_groups: 1000000
{extra}"""

CONFIG = """
state: state.db
log_level: info
rules: [rules.yaml]
inputs:
  - name: bus
    type: kafka
    brokers: [{brokers}]
    topics: [{topic}]
    group: {group}
    format: json
    start_position: {start}
{input_extra}    properties:
      session.timeout.ms: '{session}'
      heartbeat.interval.ms: '500'
{properties}sinks:
  - name: hook
    type: webhook
    url: {url}
{sinks}routes:
  - sinks: [{routes}]
notify: {{group_wait: 0s, repeat_interval: 4h}}
http:
  listen: 127.0.0.1:{port}
"""


def mockkafka_path():
    """The lw_mockkafka binary: $LW_MOCKKAFKA (ctest sets it), else the usual build folders."""
    p = os.environ.get("LW_MOCKKAFKA")
    if p:
        return p
    for d in ("build", "build-clang", "build-asan"):
        cand = os.path.join(e2e.REPO, d, "tests", "kafka", "lw_mockkafka")
        if os.access(cand, os.X_OK):
            return cand
    return None


def skip(reason):
    """Ends the scenario as skipped (ctest shows it as Not Run with the reason)."""
    print(f"SKIP: {reason}")
    print("0 passed, 0 failed, 1 skipped")
    sys.stdout.flush()
    sys.exit(SKIP)


def require(binary):
    """Skips unless this build takes `type: kafka` and the tools are here; fails (exit 1) when
    kcat or the mock tool is missing, as a missing dependency must not pass silently."""
    for tool in ("kcat",):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "/usr/bin").split(":")):
            print(f"FAIL {tool} is not installed (apt-get install {tool}; .ci/packages/kafka.txt)")
            print("0 passed, 1 failed")
            sys.exit(1)
    if not mockkafka_path():
        print("FAIL lw_mockkafka not found (build the tests, or set LW_MOCKKAFKA)")
        print("0 passed, 1 failed")
        sys.exit(1)
    tmp = e2e.TempDir("kafka-probe")
    try:
        tmp.write("rules.yaml", RULES.replace("{extra}", ""))
        cfg = tmp.write("c.yaml", CONFIG.format(
            brokers="127.0.0.1:9", topic="t", group="g", start="earliest", session=SESSION_MS,
            input_extra="", properties="", url="http://127.0.0.1:9/", sinks="",
            routes="hook", port=9))
        r = e2e.run([binary, "check", "-c", cfg])
        if "not built yet" in r.stderr and "kafka" in r.stderr:
            skip("this build refuses `type: kafka` (" + r.stderr.strip().splitlines()[0] +
                 "): the Kafka input (branch kafka) has not landed")
    finally:
        tmp.cleanup()


class Mock:
    """lw_mockkafka in the background: .bootstrap ("h:p,h:p"), .cmd("down 1") -> answer."""

    def __init__(self, brokers=3, topics=None, workdir=None):
        argv = [mockkafka_path(), "-b", str(brokers)]
        for t, p in (topics or {}).items():
            argv += ["-t", f"{t}:{p}"]
        self.err = open(os.path.join(workdir, "mock.stderr"), "wb") if workdir else \
            subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, bufsize=1)
        self.bootstrap = self._line(10)
        if not self.bootstrap:
            raise RuntimeError("lw_mockkafka printed no bootstrap servers")
        self.brokers = self.bootstrap.split(",")

    def _line(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if r else ""

    def cmd(self, line, timeout=10):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._line(timeout)

    def watermarks(self, topic, part):
        a = self.cmd(f"wm {topic} {part}").split()
        return (int(a[1]), int(a[2])) if len(a) == 3 and a[0] == "ok" else (None, None)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def messages(n, start=0, seed=1, keys=KEYS, error_rate=0.2, pad=0, fill=0):
    """n keyed JSON messages [(key, value)], seq start..start+n-1, deterministic for a seed;
    pad: a field of that many x's, fill: one of that many y's (bulk)."""
    rnd = random.Random(seed * 1000003 + start)
    out = []
    for seq in range(start, start + n):
        key = keys[rnd.randrange(len(keys))]
        doc = {"seq": seq, "service": key,
               "level": "error" if rnd.random() < error_rate else "info",
               "ms": rnd.randrange(1, 2000)}
        if pad:
            doc["pad"] = "x" * pad
        if fill:
            doc["fill"] = "y" * fill
        out.append((key, json.dumps(doc, separators=(",", ":"))))
    return out


def per_key(n, start, keys, seed=1, pad=0, fill=0):
    """Exactly n messages for each key (seq from start on), in rounds over the keys."""
    msgs = []
    for r in range(n):
        for j, k in enumerate(keys):
            msgs += messages(1, start=start + r * len(keys) + j, seed=seed, keys=[k], pad=pad,
                             fill=fill)
    return msgs


def produce(bootstrap, topic, msgs, headers=(), partition=None, timeout=60):
    """Produces [(key, value)] with kcat (-K tab; -H for each "k=v" header). Returns kcat's
    exit code (0: every message acknowledged)."""
    argv = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-X", "linger.ms=5"]
    for h in headers:
        argv += ["-H", h]
    if partition is not None:
        argv += ["-p", str(partition)]
    data = "".join(f"{k}\t{v}\n" for k, v in msgs)
    r = subprocess.run(argv, input=data, text=True, capture_output=True, timeout=timeout)
    if r.returncode:
        print(f"     kcat -P: {r.stderr.strip()[:500]}")
    return r.returncode


def consume_all(bootstrap, topic, timeout=60):
    """Every message still on the topic, read by kcat from the beginning to the end:
    [{partition, offset, ts (ms), key, headers {k: v}, value (parsed JSON or None)}]."""
    fmt = "%p\x1f%o\x1f%T\x1f%k\x1f%h\x1f%s\n"
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-o", "beginning",
                        "-q", "-f", fmt], capture_output=True, text=True, timeout=timeout)
    out = []
    for line in r.stdout.splitlines():
        f = line.split("\x1f")
        if len(f) != 6:
            continue
        hdrs = {}
        if f[4] and f[4] != "NULL":
            for kv in f[4].split(","):
                k, _, v = kv.partition("=")
                hdrs[k] = v
        try:
            val = json.loads(f[5])
        except ValueError:
            val = None
        out.append({"partition": int(f[0]), "offset": int(f[1]), "ts": int(f[2]), "key": f[3],
                    "headers": hdrs, "value": val})
    return out


def reference(msgs, now_ms=None, window_s=600):
    """The windows of RULES as one process computes them from the messages read back: per alert,
    {group value: count} of the messages whose timestamp is inside the window ending now."""
    now_ms = now_ms or int(time.time() * 1000)
    ref = {"PerService": {}, "Errors": {}, "Seen": {}}
    for m in msgs:
        v = m["value"]
        if not isinstance(v, dict) or not (now_ms - window_s * 1000 < m["ts"] <= now_ms + 300e3):
            continue
        svc = v["service"]
        ref["PerService"][svc] = ref["PerService"].get(svc, 0) + 1
        if v["level"] == "error":
            ref["Errors"][svc] = ref["Errors"].get(svc, 0) + 1
        ref["Seen"][str(v["seq"])] = ref["Seen"].get(str(v["seq"]), 0) + 1
    return ref


class Instance:
    """One logwarden in the consumer group: its own folder, state file and HTTP port; its
    notifications go to the webhook url and, when given, to an Alertmanager too."""

    def __init__(self, binary, mock, name, topic="logs", group="lw", start="earliest",
                 url="http://127.0.0.1:9/", extra_rules="", alertmanager=None,
                 input_extra="    keyed_by: [service]\n", properties="", session=SESSION_MS):
        self.binary, self.name = binary, name
        self.tmp = e2e.TempDir(f"kafka-{name}")
        self.port = e2e.free_port()
        self.tmp.write("rules.yaml", RULES.replace("{extra}", extra_rules))
        self.cfg = self.tmp.write("logwarden.yaml", CONFIG.format(
            brokers=", ".join(mock.brokers), topic=topic, group=group, start=start,
            session=session, input_extra=input_extra, properties=properties,
            url=url, port=self.port,
            sinks=f"  - name: am\n    type: alertmanager\n    url: {alertmanager}\n"
            if alertmanager else "", routes="hook, am" if alertmanager else "hook"))
        self.d = None
        self.killed = self.stopped = False

    def start(self):
        self.d = e2e.Daemon(self.binary, self.cfg, self.tmp.path)
        self.killed = self.stopped = False
        return self

    def alive(self):
        return self.d is not None and self.d.alive()

    def kill9(self):
        self.d.proc.send_signal(signal.SIGKILL)
        self.d.proc.wait()
        self.killed = True

    def sigstop(self):
        self.d.proc.send_signal(signal.SIGSTOP)

    def sigcont(self):
        self.d.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if not self.d:
            return None
        self.stopped = True
        return self.d.stop(timeout=20)

    def stderr(self):
        return self.d.stderr() if self.d else ""

    def metrics(self):
        return e2e.metrics(self.port)

    def metric(self, name, **labels):
        """Sum of a metric's samples whose labels include the given ones (None: no answer)."""
        m = self.metrics()
        if not m:
            return None
        want = [f'{k}="{v}"' for k, v in labels.items()]
        return sum(v for k, v in m.items()
                   if (k == name or k.startswith(name + "{")) and all(w in k for w in want))

    def consumed(self):
        """Records read by the kafka input so far (its lines counter)."""
        return self.metric("logwarden_input_lines_total", input="bus") or 0

    def health(self):
        """(HTTP status, parsed body) of /health; (None, None) when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                body = r.read()
                code = r.status
        except urllib.error.HTTPError as e:
            body, code = e.read(), e.code
        except OSError:
            return None, None
        try:
            return code, json.loads(body)
        except ValueError:
            return code, body.decode("utf-8", "replace")

    def counts(self):
        """{alert: {group value: count}} from the state file's buckets (after a clean stop)."""
        out = {}
        path = self.tmp.join("state.db")
        if not os.path.exists(path):
            return out
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute("SELECT alert, grp, sum(count) FROM buckets GROUP BY alert, grp"
                              ).fetchall()
        finally:
            db.close()
        for alert, grp, n in rows:
            try:
                g = json.loads(grp)
                val = next(iter(g.values())) if isinstance(g, dict) and g else ""
            except ValueError:
                val = grp
            d = out.setdefault(alert, {})
            d[str(val)] = d.get(str(val), 0) + int(n)
        return out

    def cleanup(self):
        self.tmp.cleanup()


def add_counts(*counts):
    """The sum of several instances' counts()."""
    out = {}
    for c in counts:
        for alert, groups in c.items():
            d = out.setdefault(alert, {})
            for g, n in groups.items():
                d[g] = d.get(g, 0) + n
    return out


def compare(c, got, ref, what):
    """Checks the instances' windows against the reference, alert by alert, with a short diff."""
    for alert in ("PerService", "Errors", "Seen"):
        g, r = got.get(alert, {}), ref.get(alert, {})
        diff = {k: (g.get(k, 0), r.get(k, 0)) for k in set(g) | set(r) if g.get(k, 0) != r.get(k, 0)}
        twice = sum(1 for k, (a, b) in diff.items() if a > b)
        missing = sum(1 for k, (a, b) in diff.items() if a < b)
        c.check(not diff, f"{what}: {alert} equals the reference ({sum(r.values())} events, "
                f"{len(r)} groups)",
                f"{len(diff)} groups differ ({twice} counted more, {missing} less), e.g. "
                f"{dict(list(sorted(diff.items()))[:6])} (got, reference)")


def wait_consumed(insts, n, timeout=60):
    """Waits until the instances together have read at least n records (gives up at once when
    none is running)."""
    return e2e.wait_for(lambda: not any(i.alive() for i in insts) or
                        sum(i.consumed() for i in insts if i.alive()) >= n, timeout, 0.2) and \
        any(i.alive() for i in insts)


def assigned(inst):
    """{partition} the instance owns now: the partitions of its per-partition series (lag,
    messages, ...), which disappear when a partition is revoked."""
    m = inst.metrics()
    out = set()
    for k in m:
        if 'partition="' in k and 'input="bus"' in k:
            out.add(int(k.split('partition="', 1)[1].split('"', 1)[0]))
    return out


class Checks(e2e.Checks):
    """e2e.Checks plus known(): a check of documented behaviour that the input does not meet yet.
    Failing, it is printed as KNOWN with its reason, and a scenario whose only failures are
    known ones ends skipped (77: ctest's Not Run, the reason on the closing lines) instead of
    failed; every other check still fails the scenario. LW_KAFKA_STRICT=1 makes them plain
    failures (for working on the input). Passing, a known check counts as passed."""

    def __init__(self):
        super().__init__()
        self.known_failed = []
        self.strict = os.environ.get("LW_KAFKA_STRICT") == "1"

    def known(self, cond, what, reason, detail=""):
        if cond or self.strict:
            return self.check(cond, what, detail)
        self.known_failed.append((what, reason))
        print(f"KNOWN {what}")
        for line in (str(detail).rstrip("\n").split("\n") if detail else []) + \
                [f"not met yet: {reason}"]:
            print(f"     {line}")
        sys.stdout.flush()
        return False

    def known_eq(self, actual, expected, what, reason):
        return self.known(actual == expected, what, reason,
                          f"expected: {expected!r}\nactual:   {actual!r}")

    def finish(self):
        if self.failed or not self.known_failed:
            super().finish()
        for what, reason in self.known_failed:
            print(f"SKIP: {what}: {reason}")
        print(f"{self.passed} passed, 0 failed, {len(self.known_failed)} skipped")
        sys.stdout.flush()
        sys.exit(SKIP)


class Scenario:
    """What one scenario holds, torn down in finally: the mock, the instances, receivers, other
    processes. run(main) calls main(s) with s.binary, s.c (e2e.Checks) and s.tmp."""

    def __init__(self, name):
        self.name = name
        self.binary = e2e.binary_from_argv()
        require(self.binary)
        self.c = Checks()
        self.tmp = e2e.TempDir(f"kafka-{name}")
        self.mock = None
        self.instances = []
        self.closers = []

    def start_mock(self, brokers=3, topics=None):
        self.mock = Mock(brokers, topics or {"logs": 6}, self.tmp.path)
        return self.mock

    def instance(self, name, **kw):
        i = Instance(self.binary, self.mock, name, **kw)
        self.instances.append(i)
        return i

    def stop_all(self):
        """SIGTERM to every live instance at once (so that no one's leaving hands its partitions
        to another that is itself stopping), then waits for each."""
        live = [i for i in self.instances if i.alive()]
        for i in live:
            i.d.proc.send_signal(signal.SIGTERM)
        codes = {}
        for i in live:   # one SIGTERM each: a second one may mean "stop now" to a daemon
            try:
                codes[i.name] = i.d.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                i.d.proc.kill()
                codes[i.name] = i.d.proc.wait()
            i.d._out.close()
            i.d._err.close()
            i.stopped = True
        # One that had died already shows its own exit code (negative: the signal that ended
        # it); a killed and not restarted instance (kill9) is not asked about.
        for i in self.instances:
            if i.d is not None and i.name not in codes and not i.killed and not i.stopped:
                codes[i.name] = i.d.proc.returncode
        return codes

    def run(self, main):
        ok = False
        try:
            main(self)
            ok = True
        finally:
            for i in self.instances:
                if i.d is not None:
                    if not ok or self.c.failed:
                        print(f"---- {i.name} stderr (tail)\n" + e2e.tail(i.stderr(), 25))
                    if i.alive():
                        i.d.proc.send_signal(signal.SIGCONT)
                        i.stop()
            for f in self.closers:
                try:
                    f()
                except Exception as e:  # noqa: BLE001: teardown goes on
                    print(f"     teardown: {e}")
            if self.mock:
                self.mock.stop()
            for i in self.instances:
                i.cleanup()
            self.tmp.cleanup()
        self.c.finish()


def settle(insts, ref, timeout=60):
    """Waits until the instances' state files, added up, equal the reference (flushes are
    periodic); returns the last sum read."""
    last = [None]

    def same():
        last[0] = add_counts(*(i.counts() for i in insts))
        return all(last[0].get(a, {}) == ref[a] for a in ref) or \
            not any(i.alive() for i in insts)
    e2e.wait_for(same, timeout, 0.5)
    return last[0]


def firing(receiver, alert, **labels):
    """The firing notifications of an alert that the receiver accepted, per group value:
    {tuple(label values): count}."""
    out = {}
    for _, a in receiver.alerts(alert=alert, status="firing"):
        key = tuple((a.get("labels") or {}).get(k) for k in labels) if labels else ()
        out[key] = out.get(key, 0) + 1
    return out


AM_CONFIG = """
route:
  receiver: 'null'
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: 'null'
"""


def start_alertmanager(s):
    """Debian's prometheus-alertmanager on a loopback port, clustering off, stopped at the end of
    the scenario. Returns its base URL (fails the scenario when it is not installed)."""
    import shutil
    am = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not s.c.check(am, "prometheus-alertmanager is installed",
                     "apt-get install prometheus-alertmanager (.ci/packages/sinks.txt)"):
        return None
    port = e2e.free_port()
    os.makedirs(s.tmp.join("am-data"), exist_ok=True)
    s.tmp.write("alertmanager.yml", AM_CONFIG)
    log = open(s.tmp.join("alertmanager.log"), "wb")
    proc = subprocess.Popen([am, f"--config.file={s.tmp.join('alertmanager.yml')}",
                             f"--storage.path={s.tmp.join('am-data')}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def stop():
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    s.closers.append(stop)
    base = f"http://127.0.0.1:{port}"
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))

    def ready():
        try:
            with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    s.c.check(e2e.wait_for(ready, 30), "alertmanager is ready")
    return base


def am_alerts(base, alertname):
    """The active alerts of that name that Alertmanager lists ([] when it does not answer)."""
    try:
        with urllib.request.urlopen(base + "/api/v2/alerts?active=true", timeout=5) as r:
            return [a for a in json.loads(r.read())
                    if a["labels"].get("alertname") == alertname]
    except OSError:
        return []
