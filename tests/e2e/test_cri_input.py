#!/usr/bin/env python3
"""test_cri_input.py: `type: cri` on a pod log tree written exactly as kubelet and containerd
write it, while pods and containers come and go; every line counted once, under its names.

The tree is kubelet's (pkg/kubelet/kuberuntime, pkg/kubelet/logs): pods_dir/<namespace>_<pod>_
<uid>/<container>/<restart>.log written by containerd in CRI format ("TIME STREAM F|P MSG", lines
over 16 KiB in P parts ending with an F part), the link containers_dir/<pod>_<namespace>_
<container>-<container id>.log to it, and the container log manager's rotation: the log renamed
to <restart>.log.<YYYYmmdd-HHMMSS>, the runtime reopening a new one, older rotations gzipped
(<name>.gz.tmp, renamed to <name>.gz, the original removed).

1. Before the start: prod/web-7d9f/app with lines (restart 0); kube-system/coredns/coredns,
   excluded by `exclude: [kube-system/*]`.
2. Running: app writes through two rotations (the older one then gzipped) and a 40 KiB line in
   P parts; app restarts (1.log, a new link); a pod staging/batch-x/job appears, writes, and is
   deleted (folder and link removed) after its lines are read.
3. kill -9 and restart with lines written while down.
4. The state file's counts of a rule grouped by namespace, pod, pod_uid, container, restart and
   stream: exactly the lines written per group, none of the excluded pod, each log read once
   although both folders name it.

usage: test_cri_input.py PATH/TO/logwarden
"""

import gzip
import hashlib
import json
import os
import shutil
import signal
import sqlite3
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
    group_by: [namespace, pod, pod_uid, container, restart, stream]
    count: {above: 1000000000}
"""

CONFIG = """
state: state.db
log_level: debug
rules: [rules.yaml]
inputs:
  - name: k8s
    type: cri
    pods_dir: pods
    containers_dir: containers
    exclude: [kube-system/*]
    poll_interval: 50ms
    start_at: beginning
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""

MAX_SIZE = 48 * 1024  # containerLogMaxSize: rotations come often


def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int(t % 1 * 1e9)


class Ctr:
    """One container of one pod: its restarts' logs and the link kubelet keeps to the last."""

    def __init__(self, tree, ns, pod, name):
        self.tree, self.ns, self.pod, self.name = tree, ns, pod, name
        self.uid = hashlib.md5(f"{ns}/{pod}".encode()).hexdigest()
        self.uid = "-".join([self.uid[:8], self.uid[8:12], self.uid[12:16], self.uid[16:20],
                             self.uid[20:32]])
        self.poddir = os.path.join(tree, "pods", f"{ns}_{pod}_{self.uid}")
        self.dir = os.path.join(self.poddir, name)
        self.restart = -1
        self.f = None
        self.link = None
        self.counts = {}  # (restart, stream) -> records
        self.rotations = []

    def start(self):
        """A (re)start: containerd creates <restart>.log; kubelet points the link at it."""
        if self.f:
            self.f.close()
        self.restart += 1
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, f"{self.restart}.log")
        self.f = open(self.log, "ab")
        cid = hashlib.sha256(f"{self.ns}/{self.pod}/{self.name}/{self.restart}".encode())
        link = os.path.join(self.tree, "containers",
                            f"{self.pod}_{self.ns}_{self.name}-{cid.hexdigest()}.log")
        if self.link:
            os.unlink(self.link)
        os.symlink(self.log, link)
        self.link = link
        self.rotations = []

    def rotate(self):
        """The container log manager: rename, the runtime reopens, older rotations gzipped."""
        self.f.close()
        rotated = f"{self.log}.{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
        while os.path.exists(rotated) or any(r.startswith(rotated) for r in self.rotations):
            time.sleep(0.05)  # kubelet's stamp has seconds: one rotation per second at most
            rotated = f"{self.log}.{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
        os.rename(self.log, rotated)
        self.f = open(self.log, "ab")
        self.rotations.append(rotated)

    def compress_older(self):
        """Every rotation but the last becomes .gz (after the test saw its lines counted)."""
        for r in self.rotations[:-1]:
            if os.path.exists(r):
                with open(r, "rb") as src, gzip.open(r + ".gz.tmp", "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.rename(r + ".gz.tmp", r + ".gz")
                os.unlink(r)

    def write(self, text, stream="stdout"):
        parts = [text[i:i + 16384] for i in range(0, len(text), 16384)] or [""]
        for i, p in enumerate(parts):
            tag = "F" if i == len(parts) - 1 else "P"
            self.f.write(f"{now_rfc3339()} {stream} {tag} {p}\n".encode())
        self.f.flush()
        k = (self.restart, stream)
        self.counts[k] = self.counts.get(k, 0) + 1
        if self.f.tell() >= MAX_SIZE:
            self.rotate()

    def lines(self, n, start=0, stream="stdout"):
        for i in range(start, start + n):
            self.write(f"msg {i} of {self.ns}/{self.pod}/{self.name}", stream)

    def delete_pod(self):
        self.f.close()
        os.unlink(self.link)
        shutil.rmtree(self.poddir)


def counts(db):
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT grp, SUM(count) FROM buckets WHERE alert = 'Lines' "
                           "GROUP BY grp").fetchall()
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


def expected(ctrs):
    out = {}
    for c in ctrs:
        for (restart, stream), n in c.counts.items():
            g = {"namespace": c.ns, "pod": c.pod, "pod_uid": c.uid, "container": c.name,
                 "restart": str(restart), "stream": stream}
            out[json.dumps(g, sort_keys=True)] = n
    return out


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    d = e2e.TempDir("cri")
    try:
        os.makedirs(d.join("pods"))
        os.makedirs(d.join("containers"))
        d.write("rules.yaml", RULES)
        cfg = d.write("logwarden.yaml", CONFIG)
        db = d.join("state.db")
        r = e2e.run([binary, "check", "-c", cfg])
        c.eq(r.returncode, 0, "check: the cri config is valid")
        c.check("warning" not in r.stderr, "check: no warning for the pod labels", r.stderr)

        app = Ctr(d.path, "prod", "web-7d9f8c6b5-x2x4q", "app")
        dns = Ctr(d.path, "kube-system", "coredns-5d78c9869d-8xk2p", "coredns")
        app.start()
        dns.start()
        app.lines(200)
        dns.lines(80)

        dm = e2e.Daemon(binary, cfg, d.path)
        ctrs = [app]
        c.check(e2e.wait_for(lambda: counts(db) == expected(ctrs), 20),
                "before start: the pod's lines, once (pod folder and link name one file)",
                f"{counts(db)} != {expected(ctrs)}")

        app.lines(1200, 200)  # two rotations or more
        app.write("long 1 " + "y" * 40000, "stderr")
        c.check(e2e.wait_for(lambda: counts(db) == expected(ctrs), 20),
                "running: across kubelet's rotations, P parts joined",
                f"{counts(db)} != {expected(ctrs)}")
        c.check(len(app.rotations) >= 2, "the test rotated at least twice")
        app.compress_older()
        job = Ctr(d.path, "staging", "batch-x-28391", "job")
        job.start()
        job.lines(300)
        app.start()  # a restart: 1.log and a new link
        app.lines(150)
        ctrs.append(job)
        c.check(e2e.wait_for(lambda: counts(db) == expected(ctrs), 20),
                "a new pod and a restarted container: counted under their names",
                f"{counts(db)} != {expected(ctrs)}")
        job.delete_pod()
        app.lines(50, 150)
        c.check(e2e.wait_for(lambda: counts(db) == expected(ctrs), 20),
                "a deleted pod is forgotten, the others go on", f"{counts(db)} != {expected(ctrs)}")

        app.lines(200, 200)
        time.sleep(0.2)
        dm.proc.send_signal(signal.SIGKILL)
        dm.proc.wait()
        dm.stop()
        app.lines(400, 400)
        dm = e2e.Daemon(binary, cfg, d.path)
        c.check(e2e.wait_for(lambda: counts(db) == expected(ctrs), 20),
                "kill -9 and restart: every line counted exactly once",
                f"{counts(db)} != {expected(ctrs)}")
        c.eq(dm.stop(), 0, "SIGTERM -> exit 0")
        got = counts(db)
        c.eq(got, expected(ctrs), "after the stop: the exact counts per container log")
        c.check(not any("kube-system" in k for k in got), "the excluded pod is not read")
    finally:
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
