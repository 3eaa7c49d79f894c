#!/usr/bin/env python3
"""test_examples.py: the docker compose examples (examples/compose/*/compose.yaml) hold
together without a container engine.

For each example: compose.yaml parses (PyYAML, Debian's python3-yaml; without it a line-level
check of indentation and keys); it has a `logwarden` service on image logwarden:latest whose
build names the repository's Dockerfile, whose command is `run -c CONFIG`, whose named volumes are
declared and whose relative bind mounts exist; published ports bind the host's loopback only;
the host's /var/lib/docker/containers, when mounted, is read-only. Then the service's bind
mounts are laid out in a temporary root as the container sees them (the config at its mount
point, rules beside it) and `logwarden check -c ROOT/CONFIG` must pass there, with the
variables compose passes (${LOGWARDEN_TOKEN}) set; unless the service disables the image's
HEALTHCHECK, the config listens on port 9880, where that asks /health. Last, each example
runs: the config with its absolute paths moved under that root (and `http.listen` on a free
loopback port), and the app's side written as the real thing writes it: nginx's access log in
the example's `log_format timed` on the shared volume (sidecar), dockerd's containers folder with
config.v2.json and json-file logs (host-docker); the alert the example's rules promise must
reach the stdout sink, and an excluded container's lines must not. A config with an input type
this binary does not have (`type: docker` before issue 13's container inputs land) is skipped
with a message, not failed.

usage: test_examples.py PATH/TO/logwarden
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import time

import e2e

EXAMPLES = os.path.join(e2e.REPO, "examples", "compose")

try:
    import yaml
except ImportError:  # Debian: python3-yaml (.ci/packages/examples.txt)
    yaml = None


def load_compose(t, path):
    text = open(path, encoding="utf-8").read()
    if yaml is None:
        print("     (no PyYAML: line-level check only; apt-get install python3-yaml)")
        bad = [i + 1 for i, line in enumerate(text.splitlines())
               if "\t" in line or (line.strip() and not line.lstrip().startswith("#")
                                   and (len(line) - len(line.lstrip())) % 2)]
        t.eq(bad, [], f"{rel(path)}: no tabs, two-space indents")
        return None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        t.check(False, f"{rel(path)} parses as YAML", str(e))
        return None
    t.check(isinstance(doc, dict) and isinstance(doc.get("services"), dict),
            f"{rel(path)} parses, with a services map")
    return doc if isinstance(doc, dict) else None


def rel(path):
    return os.path.relpath(path, e2e.REPO)


def mounts(svc):
    """(source, target, read_only) of each short-syntax volume of a service."""
    out = []
    for v in svc.get("volumes", []):
        parts = v.split(":")
        out.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
    return out


def check_service(t, doc, d, name):
    """The compose-level checks; returns the logwarden service's config path (in the container)."""
    svc = doc["services"].get("logwarden")
    if not t.check(isinstance(svc, dict), f"{name}: has a logwarden service"):
        return None
    t.eq(svc.get("image"), "logwarden:latest", f"{name}: logwarden runs image logwarden:latest")
    b = svc.get("build") or {}
    dockerfile = os.path.join(d, b.get("context", "."), b.get("dockerfile", "Dockerfile"))
    t.check(os.path.isfile(dockerfile), f"{name}: its build's Dockerfile exists", dockerfile)
    declared = set((doc.get("volumes") or {}).keys())
    for src, dst, ro in mounts(svc) + [m for s in doc["services"].values() if s is not svc
                                       for m in mounts(s)]:
        if src.startswith((".", "/")):
            if not src.startswith("/"):
                t.check(os.path.exists(os.path.join(d, src)), f"{name}: bind mount {src} exists")
        else:
            t.check(src in declared, f"{name}: named volume {src} is declared")
        if src == "/var/lib/docker/containers":
            t.check(ro, f"{name}: the host's containers folder is mounted read-only")
    for sname, s in doc["services"].items():
        for p in s.get("ports", []):
            t.check(str(p).startswith("127.0.0.1:"), f"{name}: {sname} publishes {p} on loopback only")
    cmd = svc.get("command") or []
    ok = t.check(len(cmd) == 3 and cmd[:2] == ["run", "-c"], f"{name}: logwarden's command is run -c CONFIG",
                 repr(cmd))
    return cmd[2] if ok else None


def lay_out(svc, d, root):
    """Copies the service's relative bind mounts to ROOT/<their mount point>."""
    for src, dst, _ in mounts(svc):
        if not src.startswith(".") or not os.path.exists(os.path.join(d, src)):
            continue
        target = os.path.join(root, dst.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(os.path.join(d, src)):
            shutil.copytree(os.path.join(d, src), target)
        else:
            shutil.copy(os.path.join(d, src), target)


def missing_input_types(binary, cfg):
    """Input types the config names that this binary does not have."""
    out = []
    for typ in sorted(set(re.findall(r"^\s*type:\s*(\w+)", open(cfg).read(), re.M))):
        p = subprocess.run([binary, "help", "input", typ], capture_output=True, text=True, timeout=10)
        sink = subprocess.run([binary, "help", "sink", typ], capture_output=True, text=True, timeout=10)
        if p.returncode != 0 and sink.returncode != 0:
            out.append(typ)
    return out


def check_config(t, binary, doc, d, name, cfg_path):
    tmp = e2e.TempDir("examples")
    try:
        lay_out(doc["services"]["logwarden"], d, tmp.path)
        cfg = os.path.join(tmp.path, cfg_path.lstrip("/"))
        if not t.check(os.path.isfile(cfg), f"{name}: a bind mount provides {cfg_path}"):
            return
        missing = missing_input_types(binary, cfg)
        if missing:
            print(f"skip {name}: logwarden check and run (this binary has no input type "
                  f"{', '.join(missing)}; it comes with issue 13's container inputs)")
            return
        env = dict(os.environ)
        for var in re.findall(r"\$\{(\w+)", open(os.path.join(d, "compose.yaml")).read()):
            env[var] = "example-secret-0123456789"
        svc = doc["services"]["logwarden"]
        if not (svc.get("healthcheck") or {}).get("disable"):
            hc = r"^\s*listen:\s*['\"]?(127\.0\.0\.1|0\.0\.0\.0):9880\b"
            t.check(re.search(hc, open(cfg).read(), re.M),
                    f"{name}: http.listen on port 9880, where the image's HEALTHCHECK asks /health")
        p = e2e.run([binary, "check", "-c", cfg], env=env, cwd=tmp.path)
        if t.check(p.returncode == 0 and p.stdout.startswith("ok:"), f"{name}: logwarden check passes",
                   p.stdout + p.stderr):
            run_example(t, binary, doc["services"]["logwarden"], name, cfg, tmp.path, env)
    finally:
        tmp.cleanup()


def rooted(cfg, svc, root):
    """The config with every path under one of the service's mount points moved under root, and
    the HTTP endpoint on a free loopback port: the container's view, on this machine."""
    text = open(cfg).read()
    for _, dst, _ in sorted(mounts(svc), key=lambda m: -len(m[1])):
        if not os.path.exists(os.path.join(root, dst.lstrip("/"))):  # a volume: an empty folder
            os.makedirs(os.path.join(root, dst.lstrip("/")))
        text = re.sub(r"(?<![\w/.-])%s(?=[/'\"\s\],]|$)" % re.escape(dst),
                      os.path.join(root, dst.lstrip("/")), text, flags=re.M)
    text = re.sub(r"^(\s*listen:).*$", r"\g<1> 127.0.0.1:%d" % e2e.free_port(), text, flags=re.M)
    out = os.path.join(os.path.dirname(cfg), "run.yaml")  # beside it: the same relative paths
    with open(out, "w") as f:
        f.write(text)
    return out


def run_example(t, binary, svc, name, cfg, root, env):
    feed = FEEDS.get(name)
    if not t.check(feed is not None, f"{name}: the test knows how to feed it"):
        return
    daemon = e2e.Daemon(binary, rooted(cfg, svc, root), root, env=env)
    try:
        if not t.check(e2e.wait_for(lambda: "running:" in daemon.stderr() or not daemon.alive(), 20)
                       and daemon.alive(), f"{name}: logwarden runs", e2e.tail(daemon.stderr())):
            return
        want, unwanted = feed(root)
        got = e2e.wait_for(lambda: all(alert_with(daemon.stdout(), w) for w in want), 20)
        t.check(got, f"{name}: the stdout sink prints {' and '.join(str(w) for w in want)}",
                daemon.stdout()[-2000:] + e2e.tail(daemon.stderr()))
        for u in unwanted:
            t.check(not alert_with(daemon.stdout(), u), f"{name}: no alert {u}", daemon.stdout()[-2000:])
    finally:
        t.eq(daemon.stop(), 0, f"{name}: logwarden stops cleanly on SIGTERM")


def alert_with(stdout, want):
    """Whether an alert object on stdout names want's alert and holds each of its values."""
    alert, values = want
    for line in stdout.splitlines():
        if alert in line and all(json.dumps(v) in line for v in values):
            return True
    return False


def feed_sidecar(root):
    """What nginx writes with the example's nginx.conf (log_format timed) to the shared volume:
    one client over HttpClientFlood's 100 requests a minute."""
    now = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    lines = "".join(f'203.0.113.7 - - [{now}] "GET /products/{i} HTTP/1.1" 200 612 "-" '
                    f'"curl/8.5.0" 0.00{i % 10}\n' for i in range(150))
    with open(os.path.join(root, "var/log/app/access.log"), "a") as f:
        f.write(lines)
    return [("HttpClientFlood", ["203.0.113.7"])], []


def feed_host_docker(root):
    """dockerd's containers folder: a compose service logging errors, and logwarden's own
    container (excluded by the example) logging as many."""
    base = os.path.join(root, "var/lib/docker/containers")
    own = docker_container(base, "logwarden-host-logwarden-1", "logwarden:latest",
                           {"com.docker.compose.project": "logwarden-host",
                            "com.docker.compose.service": "logwarden"})
    web = docker_container(base, "shop-web-1", "nginx:1.27",
                           {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"})
    for c in (own, web):
        with open(c, "a") as f:
            for i in range(60):
                t = time.time()
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int(t % 1 * 1e9)
                msg = f"2026/12/06 01:00:00 [error] 29#29: *{i} open() failed (2: No such file)\n"
                f.write(json.dumps({"log": msg, "stream": "stderr", "time": stamp},
                                   separators=(",", ":")) + "\n")
    return [("ContainerErrors", ["shop", "web"])], [("ContainerErrors", ["logwarden-host"])]


def docker_container(base, name, image, labels):
    """A running container's folder as dockerd writes it; returns its json-file log's path."""
    cid = hashlib.sha256(name.encode()).hexdigest()
    d = os.path.join(base, cid)
    os.makedirs(d)
    write_json(os.path.join(d, "hostconfig.json"), {
        "LogConfig": {"Type": "json-file", "Config": {}}, "NetworkMode": "bridge",
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}})
    log = os.path.join(d, cid + "-json.log")
    open(log, "ab").close()  # dockerd opens the log before it starts the process
    write_json(os.path.join(d, "config.v2.json"), {
        "State": {"Running": True, "Paused": False, "Restarting": False, "Pid": 4242,
                  "ExitCode": 0, "StartedAt": "2026-12-06T01:00:00.123456789Z",
                  "FinishedAt": "0001-01-01T00:00:00Z"},
        "ID": cid, "Created": "2026-12-06T01:00:00.012345678Z", "Path": "/docker-entrypoint.sh",
        "Args": [], "Config": {"Hostname": cid[:12], "Image": image, "Labels": labels,
                               "Cmd": ["nginx", "-g", "daemon off;"]},
        "Image": "sha256:" + hashlib.sha256(image.encode()).hexdigest(), "LogPath": log,
        "Name": "/" + name, "Driver": "overlay2", "OS": "linux", "RestartCount": 0})
    return log


def write_json(path, obj):
    """As dockerd's ioutils.AtomicWriteFile: a temporary file, then a rename."""
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    os.rename(path + ".tmp", path)


FEEDS = {"sidecar": feed_sidecar, "host-docker": feed_host_docker}


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*", "compose.yaml")))
    t.check(len(files) >= 2, "examples/compose has the sidecar and host examples", files)
    for path in files:
        d = os.path.dirname(path)
        name = os.path.basename(d)
        doc = load_compose(t, path)
        if doc is None:
            continue
        cfg_path = check_service(t, doc, d, name)
        if cfg_path:
            check_config(t, binary, doc, d, name, cfg_path)
    t.finish()


if __name__ == "__main__":
    main()
