#!/usr/bin/env python3
"""test_examples.py: the docker compose examples (examples/docker-compose/*/compose.yaml) hold
together without a container engine.

For each example: compose.yaml parses (PyYAML, Debian's python3-yaml; without it a line-level
check of indentation and keys); it has a `logwarden` service on image logwarden:latest whose
build names the example's Dockerfile, whose command is `run -c CONFIG`, whose named volumes are
declared and whose relative bind mounts exist; published ports bind the host's loopback only;
the host's /var/lib/docker/containers, when mounted, is read-only. Then the service's bind
mounts are laid out in a temporary root as the container sees them (the config at its mount
point, rules beside it) and `logwarden check -c ROOT/CONFIG` must pass there, with the
variables compose passes (${LOGWARDEN_TOKEN}) set. A config with an input type this binary
does not have (`type: docker` before issue 13's container inputs land) is skipped with a
message, not failed.

usage: test_examples.py PATH/TO/logwarden
"""

import glob
import os
import re
import shutil
import subprocess

import e2e

EXAMPLES = os.path.join(e2e.REPO, "examples", "docker-compose")

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
            print(f"skip {name}: logwarden check (this binary has no input type {', '.join(missing)}; "
                  "it comes with issue 13's container inputs)")
            return
        env = dict(os.environ)
        for var in re.findall(r"\$\{(\w+)", open(os.path.join(d, "compose.yaml")).read()):
            env[var] = "example-secret-0123456789"
        p = e2e.run([binary, "check", "-c", cfg], env=env, cwd=tmp.path)
        t.check(p.returncode == 0 and p.stdout.startswith("ok:"), f"{name}: logwarden check passes",
                p.stdout + p.stderr)
    finally:
        tmp.cleanup()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*", "compose.yaml")))
    t.check(len(files) >= 2, "examples/docker-compose has the sidecar and host examples", files)
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
