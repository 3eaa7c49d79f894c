#!/usr/bin/env python3
"""test_kubernetes.py: the Kubernetes manifests in examples/kubernetes/ hold together.

kubeconform is not packaged in Debian and nothing here may fetch schemas, so this test carries
the part of the schema that matters: each document parses (PyYAML, Debian's python3-yaml) with
a known apiVersion/kind pair and a valid name; each workload's selector matches its template's
labels, every container has a name and an image, every volumeMount names a volume of the pod,
every configMap volume a ConfigMap of the file, every ${VAR} the config reads is in the
container's env; the probes are HTTP GETs of /health on the port the config's http.listen
names; the pod runs as non-root (or, where it must read root-only node logs, as root with every
capability dropped but DAC_READ_SEARCH), with no privilege escalation and a read-only root file
system; host mounts are read-only but the state folder; the logwarden container has CPU and
memory requests and limits. Per file: the sidecar shares an emptyDir with the app, the
DaemonSet has its ServiceAccount and reads /var/log/pods with the cri input, the Kafka
Deployment runs N > 1 replicas in one consumer group under a PodDisruptionBudget that selects
them. Then each ConfigMap's config is laid out as the pod sees it (the image's rules.d beside
it) and `logwarden check` must pass with no warnings. The sidecar's and the DaemonSet's configs
then run, their paths under a temporary root: the probes' path answers 200 without a token, and
what the app (nginx's access log) or the kubelet (/var/log/pods in the CRI format) writes makes
the promised alert reach the stdout sink; the DaemonSet's own namespace is not read. The Kafka
Deployment's config is only checked (a broker is e2e.kafka's business).

usage: test_kubernetes.py PATH/TO/logwarden
"""

import os
import re
import shutil
import time
import urllib.request

import e2e

try:
    import yaml
except ImportError:  # Debian: python3-yaml (.ci/packages/examples.txt)
    yaml = None

DIR = os.path.join(e2e.REPO, "examples", "kubernetes")
KINDS = {("v1", "ConfigMap"), ("v1", "ServiceAccount"), ("v1", "Secret"), ("v1", "Service"),
         ("apps/v1", "Deployment"), ("apps/v1", "DaemonSet"), ("apps/v1", "StatefulSet"),
         ("policy/v1", "PodDisruptionBudget")}
WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")
EXPECT = {"sidecar.yaml": {"ConfigMap", "Deployment"},
          "daemonset.yaml": {"ServiceAccount", "ConfigMap", "DaemonSet"},
          "kafka-deployment.yaml": {"ConfigMap", "Deployment", "PodDisruptionBudget"}}
NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def logwarden_container(pod):
    for c in pod.get("containers", []):
        if str(c.get("image", "")).startswith("logwarden:"):
            return c
    return None


def config_of(docs, pod, c):
    """(ConfigMap data, mount path, config key) of the container's -c CONFIG, or None."""
    args = c.get("args") or []
    if len(args) != 3 or args[:2] != ["run", "-c"]:
        return None
    cfg_dir, key = os.path.split(args[2])
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if m["mountPath"] == cfg_dir and "configMap" in v:
            for d in docs:
                if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == v["configMap"]["name"]:
                    return d.get("data", {}), cfg_dir, key
    return None


def port_of(c, port):
    if isinstance(port, int):
        return port
    for p in c.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_pod(t, name, docs, w):
    spec = w["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    sel = spec.get("selector", {}).get("matchLabels", {})
    t.check(sel and all(labels.get(k) == v for k, v in sel.items()),
            f"{name}: {w['kind']} selector matches its template's labels")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for v in vols.values():
        if "configMap" in v:
            t.check(any(d.get("kind") == "ConfigMap" and d["metadata"]["name"] == v["configMap"]["name"]
                        for d in docs), f"{name}: volume {v['name']}'s ConfigMap is in the file")
    psec = pod.get("securityContext", {})
    for c in pod.get("containers", []):
        cn = f"{name}: container {c.get('name')}"
        t.check(c.get("name") and c.get("image") and ":" in c["image"], f"{cn} has a name and a tagged image")
        for m in c.get("volumeMounts", []):
            t.check(m["name"] in vols, f"{cn} mounts {m['name']}, a volume of the pod")
        sec = c.get("securityContext", {})
        t.check(sec.get("allowPrivilegeEscalation") is False, f"{cn}: allowPrivilegeEscalation false")
        t.check("ALL" in sec.get("capabilities", {}).get("drop", []), f"{cn}: drops every capability")
    c = logwarden_container(pod)
    if not t.check(c is not None, f"{name}: a container runs image logwarden:*"):
        return None
    sec = c.get("securityContext", {})
    t.check(sec.get("readOnlyRootFilesystem") is True, f"{name}: logwarden's root file system is read-only")
    nonroot = sec.get("runAsNonRoot", psec.get("runAsNonRoot"))
    uid = sec.get("runAsUser", psec.get("runAsUser"))
    if nonroot is True:
        t.check(uid is None or uid > 0, f"{name}: runAsNonRoot, with a non-zero uid")
    else:
        t.check(uid == 0 and sec.get("capabilities", {}).get("add") == ["DAC_READ_SEARCH"],
                f"{name}: root only to read root-only node logs: no capability but DAC_READ_SEARCH", sec)
    res = c.get("resources", {})
    for k in ("cpu", "memory"):
        t.check(k in res.get("requests", {}) and k in res.get("limits", {}),
                f"{name}: logwarden has a {k} request and limit")
    found = config_of(docs, pod, c)
    if not t.check(found is not None, f"{name}: logwarden runs -c on a file of a mounted ConfigMap"):
        return None
    data, cfg_dir, key = found
    if not t.check(key in data, f"{name}: the ConfigMap holds {key}"):
        return None
    cfg = yaml.safe_load(data[key])
    listen = str(cfg.get("http", {}).get("listen", ""))
    port = int(listen.rsplit(":", 1)[1]) if ":" in listen else None
    t.check(listen.startswith("0.0.0.0:"), f"{name}: http.listen is on the pod's IP (the kubelet probes it)")
    t.check(cfg.get("http", {}).get("token"), f"{name}: a reachable listen has http.token")
    for probe in ("livenessProbe", "readinessProbe"):
        g = c.get(probe, {}).get("httpGet", {})
        t.check(g.get("path") == "/health" and port_of(c, g.get("port")) == port,
                f"{name}: {probe} GETs /health on http.listen's port {port}", g)
    env = {e["name"] for e in c.get("env", [])}
    for var in set(re.findall(r"\$\{(\w+)", "".join(data.values()))):
        t.check(var in env, f"{name}: ${{{var}}} the config reads is in the container's env")
    state_dir = os.path.dirname(str(cfg.get("state", "")))
    mounted = {m["name"]: m for m in c.get("volumeMounts", [])}
    t.check(any(m["mountPath"] == state_dir and not m.get("readOnly") for m in mounted.values()),
            f"{name}: the state folder {state_dir} is a writable volume")
    for m in mounted.values():
        if "hostPath" in vols[m["name"]] and m["mountPath"] != state_dir:
            t.check(m.get("readOnly") is True, f"{name}: host mount {m['mountPath']} is read-only")
    return pod, c, cfg, data, cfg_dir


def check_file(t, binary, fname):
    name = fname
    text = open(os.path.join(DIR, fname), encoding="utf-8").read()
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        t.check(False, f"{name} parses", str(e))
        return
    for d in docs:
        t.check((d.get("apiVersion"), d.get("kind")) in KINDS,
                f"{name}: {d.get('apiVersion')} {d.get('kind')} is a known kind")
        t.check(NAME.fullmatch(str(d.get("metadata", {}).get("name", ""))),
                f"{name}: {d.get('kind')} has a valid metadata.name")
    t.eq({d["kind"] for d in docs}, EXPECT[fname], f"{name}: its kinds")
    works = [d for d in docs if d["kind"] in WORKLOADS]
    if not t.check(len(works) == 1, f"{name}: one workload"):
        return
    w = works[0]
    got = check_pod(t, name, docs, w)
    if got is None:
        return
    pod, c, cfg, data, cfg_dir = got
    inputs = cfg.get("inputs", [])
    if fname == "sidecar.yaml":
        t.check(len(pod["containers"]) == 2, f"{name}: the app and logwarden in one pod")
        vols = {v["name"]: v for v in pod["volumes"]}
        shared = [m["name"] for m in c["volumeMounts"] if "emptyDir" in vols[m["name"]]
                  and any(m["name"] in [x["name"] for x in o.get("volumeMounts", [])]
                          for o in pod["containers"] if o is not c)]
        t.check(shared, f"{name}: an emptyDir both containers mount (the app's logs)")
        t.check(all(m.get("readOnly") for m in c["volumeMounts"] if m["name"] in shared),
                f"{name}: logwarden mounts the app's logs read-only")
    elif fname == "daemonset.yaml":
        sa = [d for d in docs if d["kind"] == "ServiceAccount"]
        t.check(sa and pod.get("serviceAccountName") == sa[0]["metadata"]["name"],
                f"{name}: the pods run as the file's ServiceAccount")
        cri = [i for i in inputs if i.get("type") == "cri"]
        t.check(cri, f"{name}: the config has a cri input")
        pods_dir = cri[0].get("pods_dir", "/var/log/pods") if cri else None
        vols = {v["name"]: v for v in pod["volumes"]}
        t.check(any(m["mountPath"] == pods_dir and m.get("readOnly")
                    and vols[m["name"]].get("hostPath", {}).get("path") == "/var/log/pods"
                    for m in c["volumeMounts"]), f"{name}: the node's /var/log/pods at {pods_dir}, read-only")
    elif fname == "kafka-deployment.yaml":
        t.check(w["spec"].get("replicas", 1) > 1, f"{name}: more than one replica")
        kafka = [i for i in inputs if i.get("type") == "kafka"]
        t.check(kafka and kafka[0].get("group"), f"{name}: a kafka input with one consumer group")
        pdb = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
        if t.check(pdb, f"{name}: has a PodDisruptionBudget"):
            p = pdb[0]
            t.eq(p["spec"].get("selector", {}).get("matchLabels"), w["spec"]["selector"]["matchLabels"],
                 f"{name}: the PodDisruptionBudget selects the Deployment's pods")
            t.check("maxUnavailable" in p["spec"] or "minAvailable" in p["spec"],
                    f"{name}: the PodDisruptionBudget bounds disruptions")
            t.eq(p["metadata"].get("namespace"), w["metadata"].get("namespace"),
                 f"{name}: the PodDisruptionBudget is in the Deployment's namespace")
    check_config(t, binary, name, c, cfg, data, cfg_dir)


def check_config(t, binary, name, c, cfg, data, cfg_dir):
    """The ConfigMap at its mount point, the image's rules.d beside it: `logwarden check`."""
    tmp = e2e.TempDir("kubernetes")
    try:
        conf = os.path.join(tmp.path, cfg_dir.lstrip("/"))
        os.makedirs(conf)
        shutil.copytree(os.path.join(e2e.REPO, "rules.d"), os.path.join(tmp.path, "etc/logwarden/rules.d"))
        for k, v in data.items():
            with open(os.path.join(conf, k), "w") as f:
                f.write(v)
        env = dict(os.environ)
        for e in c.get("env", []):
            env[e["name"]] = "example-secret-0123456789"
        path = os.path.join(conf, os.path.basename(c["args"][2]))
        p = e2e.run([binary, "check", "-c", path], env=env, cwd=tmp.path)
        t.check(p.returncode == 0 and p.stdout.startswith("ok:"), f"{name}: logwarden check passes on its config",
                p.stdout + p.stderr)
        t.check("warning" not in p.stderr, f"{name}: with no warnings", p.stderr)
        if name in FEEDS and p.returncode == 0:
            run_config(t, binary, name, c, path, env, tmp.path)
    finally:
        tmp.cleanup()


def run_config(t, binary, name, c, path, env, root):
    """The config running as the pod would run it, every path under one of the container's mount
    points moved under root and http.listen on a free loopback port: the probes' path answers
    200 without a token, and the file's feed (what the app or the kubelet writes) makes the
    alert it promises reach the stdout sink."""
    text = open(path).read()
    for m in sorted(c.get("volumeMounts", []), key=lambda m: -len(m["mountPath"])):
        d = m["mountPath"]
        os.makedirs(os.path.join(root, d.lstrip("/")), exist_ok=True)
        text = re.sub(r"(?<![\w/.-])%s(?=[/'\"\s\],]|$)" % re.escape(d), os.path.join(root, d.lstrip("/")),
                      text, flags=re.M)
    port = e2e.free_port()
    text = re.sub(r"listen: 0\.0\.0\.0:\d+", "listen: 127.0.0.1:%d" % port, text)
    run = os.path.join(os.path.dirname(path), "run.yaml")
    with open(run, "w") as f:
        f.write(text)
    daemon = e2e.Daemon(binary, run, root, env=env)
    try:
        if not t.check(e2e.wait_for(lambda: "running:" in daemon.stderr() or not daemon.alive(), 20)
                       and daemon.alive(), f"{name}: its config runs", e2e.tail(daemon.stderr())):
            return
        probe = c["livenessProbe"]["httpGet"]["path"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=5) as r:
            t.eq(r.status, 200, f"{name}: the probes' GET {probe} answers 200 without a token")
        want, unwanted = FEEDS[name](root)
        t.check(e2e.wait_for(lambda: all(w in daemon.stdout() for w in want), 20),
                f"{name}: the stdout sink prints {' and '.join(want)}",
                daemon.stdout()[-2000:] + e2e.tail(daemon.stderr()))
        for u in unwanted:
            t.check(u not in daemon.stdout(), f"{name}: nothing from {u}", daemon.stdout()[-2000:])
    finally:
        t.eq(daemon.stop(), 0, f"{name}: logwarden stops cleanly on SIGTERM")


def feed_sidecar(root):
    """nginx's access log on the shared volume, in the ConfigMap's log_format timed: one client
    over rules.d/web.yaml's HttpClientFlood (100 requests a minute)."""
    now = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    with open(os.path.join(root, "var/log/app/access.log"), "a") as f:
        f.write("".join(f'203.0.113.7 - - [{now}] "GET /products/{i} HTTP/1.1" 200 612 "-" '
                        f'"curl/8.5.0" 0.00{i % 10}\n' for i in range(150)))
    return ['"HttpClientFlood"', '"203.0.113.7"'], []


def feed_daemonset(root):
    """The kubelet's layout: a pod logging errors, and logwarden's own pod (its namespace is
    excluded) logging as many, in the CRI format."""
    # logwarden's own pod first: were it read, its alert would come before the other's.
    for ns, pod, container in (("logwarden", "logwarden-abcde", "logwarden"), ("shop", "web-7d9f8-x2x4z", "web")):
        d = os.path.join(root, "var/log/pods", f"{ns}_{pod}_0b1c2d3e-{len(ns):04d}", container)
        os.makedirs(d)
        with open(os.path.join(d, "0.log"), "a") as f:
            for i in range(60):
                t = time.time()
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int(t % 1 * 1e9)
                f.write(f"{stamp} stderr F level=error msg=\"payment failed\" attempt={i}\n")
    return ['"PodErrors"', '"shop"'], ['"namespace":"logwarden"']


FEEDS = {"sidecar.yaml": feed_sidecar, "daemonset.yaml": feed_daemonset}


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    if yaml is None:
        print("skip: no PyYAML (apt-get install python3-yaml; .ci/packages/examples.txt)")
        t.finish()
    files = sorted(f for f in os.listdir(DIR) if f.endswith(".yaml"))
    t.eq(set(files), set(EXPECT), "examples/kubernetes has the sidecar, DaemonSet and Kafka manifests")
    for f in files:
        if f in EXPECT:
            check_file(t, binary, f)
    t.finish()


if __name__ == "__main__":
    main()
