#!/usr/bin/env python3
"""test_docker_input.py: `type: docker` on a containers folder written exactly as dockerd writes
it, while containers come and go; every line counted once, under the container's names.

The tree is dockerd's (moby daemon/container, daemon/logger/jsonfilelog): one folder per
container id holding config.v2.json and hostconfig.json (replaced atomically: written to a
temporary file, then renamed over), and <id>-json.log with one JSON object per line
({"log":"text\\n","stream":"stdout","time":RFC3339Nano}); lines over 16 KiB split into parts
whose "log" has no final newline; rotation at max-size with max-file 3 (remove .2, rename .1 to
.2, the log to .1, create a new log).

1. Before the start: shop-web-1 (compose project shop, service web, label
   com.example.team=payments, image nginx:1.25) running with lines; db stopped with lines (read
   to its end and forgotten); skipme-1 running but excluded by `exclude: [skipme-*]`.
2. Running: shop-web-1 writes through two rotations (and a 40 KiB line in three parts, on
   stderr); shop-worker-1 starts, writes, stops (State.Running false), is removed (docker rm);
   api-1 starts with its log and writes.
3. kill -9 in the middle of shop-web-1's writing; more lines and a rotation while it is down;
   restart.
4. The state file's buckets of a count alert grouped by container, image, compose labels,
   stream and label.com.example.team: exactly the lines written, per group, none for the
   excluded container; and `check` accepts label.* on the docker input without a warning.
5. Limits, each counted in /metrics and logged: a config.v2.json over 1 MiB is refused (its
   lines are still read, under the container id); with max_containers: 2 a third container is
   skipped until one of the two is removed, then read from its start.

usage: test_docker_input.py PATH/TO/logwarden
"""

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time

import e2e

RULES = r"""
events:
  - name: line
    match: '^(?<what>msg|long) (?<n>\d+)'
alerts:
  - name: Lines
    event: line
    window: 1h
    group_by: [container, image, compose_service, compose_project, stream,
               label.com.example.team]
    count: {above: 1000000000}
  - name: PaymentsLines
    event: payments
    window: 1h
    group_by: [container]
    count: {above: 1000000000}
"""

# An expression on a container label (added to RULES' events).
PAYMENTS = r"""
  - name: payments
    match: '^(?:msg|long) \d+'
    where: 'label.com.example.team == "payments" and compose_project == "shop"'
"""

CONFIG = """
state: state.db
log_level: debug
rules: [rules.yaml]
inputs:
  - name: docker
    type: docker
    containers_dir: containers
    exclude: [skipme-*]
    poll_interval: 50ms
    start_at: beginning
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""

MAX_SIZE = 64 * 1024  # the log's max-size: rotations come often


def cid(name):
    return hashlib.sha256(name.encode()).hexdigest()


def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int(t % 1 * 1e9)


def atomic_write(path, obj):
    """ioutils.AtomicWriteFile: a temporary file in the same folder, then a rename."""
    tmp = path + ".tmp" + str(os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    os.rename(tmp, path)


class Container:
    """One container as dockerd keeps it under containers/<id>/."""

    def __init__(self, root, name, image, labels=None):
        self.name, self.image, self.labels = name, image, labels or {}
        self.id = cid(name)
        self.dir = os.path.join(root, self.id)
        self.log = os.path.join(self.dir, self.id + "-json.log")
        self.f = None
        self.counts = {}  # stream -> records written

    def config(self, running):
        return {
            "StreamConfig": {},
            "State": {"Running": running, "Paused": False, "Restarting": False,
                      "OOMKilled": False, "RemovalInProgress": False, "Dead": False,
                      "Pid": 4242 if running else 0, "ExitCode": 0, "Error": "",
                      "StartedAt": "2026-12-05T10:10:10.123456789Z",
                      "FinishedAt": "0001-01-01T00:00:00Z" if running else now_rfc3339(),
                      "Health": None},
            "ID": self.id, "Created": "2026-12-05T10:10:09.987654321Z", "Managed": False,
            "Path": "/docker-entrypoint.sh", "Args": ["nginx", "-g", "daemon off;"],
            "Config": {"Hostname": self.id[:12], "Domainname": "", "User": "",
                       "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
                       "Tty": False, "OpenStdin": False, "StdinOnce": False,
                       "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"],
                       "Cmd": ["nginx", "-g", "daemon off;"], "Image": self.image,
                       "Volumes": None, "WorkingDir": "", "Entrypoint": ["/docker-entrypoint.sh"],
                       "OnBuild": None, "Labels": self.labels, "StopSignal": "SIGQUIT"},
            "Image": "sha256:" + cid(self.image),
            "NetworkSettings": {"Bridge": "", "SandboxID": "", "Networks": {}},
            "LogPath": self.log, "Name": "/" + self.name, "Driver": "overlay2", "OS": "linux",
            "RestartCount": 0, "HasBeenStartedBeforeHealthCheck": False,
            "HasBeenManuallyStopped": not running, "MountPoints": {}, "SecretReferences": None,
            "ConfigReferences": None, "MountLabel": "", "ProcessLabel": "",
            "AppArmorProfile": "docker-default", "SeccompProfile": "",
            "NoNewPrivileges": False, "LocalLogCacheMeta": {"HaveNotifyEnabled": False},
        }

    def create_and_start(self):
        os.makedirs(self.dir)
        atomic_write(os.path.join(self.dir, "hostconfig.json"), {
            "Binds": None, "ContainerIDFile": "",
            "LogConfig": {"Type": "json-file", "Config": {"max-file": "3", "max-size": "64k"}},
            "NetworkMode": "bridge", "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": False})
        atomic_write(os.path.join(self.dir, "config.v2.json"), self.config(False))
        self.f = open(self.log, "ab")  # dockerd opens the log before it starts the process
        atomic_write(os.path.join(self.dir, "config.v2.json"), self.config(True))

    def stop(self):
        self.f.close()
        self.f = None
        atomic_write(os.path.join(self.dir, "config.v2.json"), self.config(False))

    def remove(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)

    def rotate(self):
        """jsonfilelog's rotate with max-file 3: drop .2, .1 -> .2, log -> .1, a new log."""
        self.f.close()
        if os.path.exists(self.log + ".2"):
            os.unlink(self.log + ".2")
        if os.path.exists(self.log + ".1"):
            os.rename(self.log + ".1", self.log + ".2")
        os.rename(self.log, self.log + ".1")
        self.f = open(self.log, "ab")

    def write(self, text, stream="stdout"):
        """One record, split into 16 KiB parts as dockerd does for long lines."""
        data = text
        parts = [data[i:i + 16384] for i in range(0, len(data), 16384)] or [""]
        for i, p in enumerate(parts):
            last = i == len(parts) - 1
            line = json.dumps({"log": p + ("\n" if last else ""), "stream": stream,
                               "time": now_rfc3339()}, separators=(",", ":")) + "\n"
            self.f.write(line.encode())
        self.f.flush()
        self.counts[stream] = self.counts.get(stream, 0) + 1
        if self.f.tell() >= MAX_SIZE:
            self.rotate()

    def lines(self, n, start=0, stream="stdout"):
        for i in range(start, start + n):
            self.write(f"msg {i} from {self.name}", stream)


def group(c, stream):
    g = {"container": c.name, "image": c.image, "stream": stream}
    if "com.docker.compose.service" in c.labels:
        g["compose_service"] = c.labels["com.docker.compose.service"]
        g["compose_project"] = c.labels["com.docker.compose.project"]
    if "com.example.team" in c.labels:
        g["label.com.example.team"] = c.labels["com.example.team"]
    return g


def counts(db, alert="Lines"):
    """{group (frozen): lines} from the state file's buckets of alert."""
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT grp, SUM(count) FROM buckets WHERE alert = ? "
                           "GROUP BY grp", (alert,)).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        con.close()
    out = {}
    for grp, n in rows:
        g = {k: v for k, v in json.loads(grp).items() if v not in ("", None)}
        key = json.dumps(g, sort_keys=True)
        out[key] = out.get(key, 0) + int(n)
    return out


def expected(conts):
    out = {}
    for c in conts:
        for stream, n in c.counts.items():
            out[json.dumps(group(c, stream), sort_keys=True)] = n
    return out


LIMITS_RULES = r"""
events:
  - name: line
    match: '^msg (?<n>\d+)'
alerts:
  - name: Lines
    event: line
    window: 1h
    group_by: [container, container_id]
    count: {above: 1000000000}
"""

LIMITS_CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: 127.0.0.1:{port}}}
inputs:
  - name: docker
    type: docker
    containers_dir: containers
    max_containers: 2
    poll_interval: 50ms
    start_at: beginning
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""


def limits(binary, c):
    d = e2e.TempDir("docker-limits")
    try:
        root = d.join("containers")
        os.makedirs(root)
        port = e2e.free_port()
        d.write("rules.yaml", LIMITS_RULES)
        cfg = d.write("logwarden.yaml", LIMITS_CONFIG.format(port=port))
        db = d.join("state.db")
        big = Container(root, "big", "alpine:3.19", {"blob": "z" * (1 << 20)})
        small = Container(root, "small", "alpine:3.19")
        big.create_and_start()
        small.create_and_start()
        big.lines(40)
        small.lines(30)

        def want(*cs):
            return {json.dumps({"container": x.name, "container_id": x.id} if x is not big else
                               {"container_id": x.id}, sort_keys=True): x.counts["stdout"]
                    for x in cs}

        dm = e2e.Daemon(binary, cfg, d.path)
        c.check(e2e.wait_for(lambda: counts(db) == want(big, small), 20),
                "a config over 1 MiB: its lines read under the container id alone",
                f"{counts(db)}")
        third = Container(root, "third", "alpine:3.19")
        third.create_and_start()
        third.lines(20)
        metric = f'{{input="docker"}}'
        c.check(e2e.wait_for(lambda: e2e.metrics(port).get(
            "logwarden_docker_containers_skipped_total" + metric) == 1, 10),
            "max_containers: the third container is skipped, counted")
        m = e2e.metrics(port)
        c.eq(m.get("logwarden_docker_configs_refused_total" + metric), 1,
             "the refused config is counted")
        c.eq(m.get("logwarden_docker_containers" + metric), 2, "two containers followed")
        small.stop()
        small.remove()
        c.check(e2e.wait_for(lambda: counts(db) == want(big, small, third), 20),
                "a container removed makes room: the skipped one is read from its start",
                f"{counts(db)}")
        c.eq(dm.stop(), 0, "limits: SIGTERM -> exit 0")
        err = dm.stderr()
        c.check("more than the 1048576 read; its lines are read without its name" in err,
                "the refused config is logged", e2e.tail(err))
        c.check("max_containers (2) reached, not following third" in err,
                "the skipped container is logged", e2e.tail(err))
    finally:
        d.cleanup()


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    limits(binary, c)
    d = e2e.TempDir("docker")
    try:
        root = d.join("containers")
        os.makedirs(root)
        d.write("rules.yaml", RULES.replace("alerts:", PAYMENTS.strip("\n") + "\nalerts:", 1))
        cfg = d.write("logwarden.yaml", CONFIG)
        db = d.join("state.db")

        r = e2e.run([binary, "check", "-c", cfg])
        c.eq(r.returncode, 0, "check: the docker config is valid")
        c.check("label.com.example.team" not in r.stderr and "warning" not in r.stderr,
                "check: no warning for label.* or the compose labels on a docker input", r.stderr)

        web = Container(root, "shop-web-1", "nginx:1.25", {
            "com.docker.compose.project": "shop", "com.docker.compose.service": "web",
            "com.docker.compose.container-number": "1", "com.example.team": "payments",
            "maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"})
        db_c = Container(root, "db", "postgres:16")
        skip = Container(root, "skipme-1", "busybox:1.36")
        for x in (web, db_c, skip):
            x.create_and_start()
        web.lines(300)
        db_c.lines(120)
        db_c.stop()
        skip.lines(50)

        dm = e2e.Daemon(binary, cfg, d.path)
        conts = [web, db_c]
        c.check(e2e.wait_for(lambda: counts(db) == expected(conts), 20),
                "before start: shop-web-1's and the stopped db's lines, counted once",
                f"{counts(db)} != {expected(conts)}")

        # Containers come and go while shop-web-1 writes through rotations.
        worker = Container(root, "shop-worker-1", "shop/worker:2.3", {
            "com.docker.compose.project": "shop", "com.docker.compose.service": "worker",
            "com.example.team": "fulfilment"})
        api = Container(root, "api-1", "ghcr.io/example/api:v1.4.2")
        worker.create_and_start()
        web.lines(400, 300)
        worker.lines(250)
        web.write("long 1 " + "x" * 40000, "stderr")  # three 16 KiB parts, one record
        worker.stop()
        api.create_and_start()
        api.lines(200)
        web.lines(400, 700)
        conts += [worker, api]
        c.check(e2e.wait_for(lambda: counts(db) == expected(conts), 20),
                "running: lines of every container, across rotations, counted once",
                f"{counts(db)} != {expected(conts)}")
        worker.remove()
        c.check(e2e.wait_for(lambda: "container " + worker.id + " stopped" in dm.stderr(), 10),
                "a stopped container is read to its end and forgotten", e2e.tail(dm.stderr()))

        # kill -9 while shop-web-1 writes; more lines and a rotation while down.
        web.lines(200, 1100)
        time.sleep(0.3)
        dm.proc.send_signal(signal.SIGKILL)
        dm.proc.wait()
        dm.stop()
        web.lines(500, 1300)
        api.lines(100, 200)
        dm = e2e.Daemon(binary, cfg, d.path)
        c.check(e2e.wait_for(lambda: counts(db) == expected(conts), 20),
                "kill -9 and restart: every line counted exactly once",
                f"{counts(db)} != {expected(conts)}")
        web.lines(100, 1800)
        c.check(e2e.wait_for(lambda: counts(db) == expected(conts), 20),
                "after the restart: new lines counted once")
        c.eq(dm.stop(), 0, "SIGTERM -> exit 0")
        got = counts(db)
        c.eq(got, expected(conts), "after the stop: the exact counts per container and stream")
        c.check(not any("skipme" in k for k in got), "the excluded container is not read")
        c.eq(counts(db, "PaymentsLines"),
             {json.dumps({"container": web.name}): sum(web.counts.values())},
             "where: on label.com.example.team and compose_project: shop-web-1's lines")
        err = dm.stderr()
        c.check("following container shop-web-1 (nginx:1.25" in err,
                "the log names the container and its image", e2e.tail(err))
    finally:
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
