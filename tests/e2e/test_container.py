#!/usr/bin/env python3
"""test_container.py: the repository's Dockerfile, checked without a container engine.

No engine runs here, and hadolint is not packaged in Debian, so this test does what each would:
1. Lint: the rules hadolint applies that matter for this image: every FROM tagged and not
   :latest (DL3006, DL3007), apt-get install with -y and --no-install-recommends, after an
   apt-get update in the same RUN, with the lists removed (DL3008's neighbours DL3009, DL3014,
   DL3015), a SHELL with pipefail before a RUN with a pipe (DL4006), no `cd` in RUN (DL3003),
   WORKDIR absolute (DL3000), COPY not ADD (DL3020), COPY --from naming an earlier stage
   (DL3022); plus: the last USER is a non-root numeric uid, a HEALTHCHECK, ENTRYPOINT in exec
   form, a VOLUME for the state file, and no COPY source that .dockerignore leaves out.
2. The build stage's steps: its cmake configure options are ones the project's build knows
   (in this build tree's CMakeCache.txt), and the install target it runs (`DESTDIR=/staging
   cmake --install`, with its prefix) is run here into a temporary DESTDIR: every path a
   COPY --from=build names must be in that tree.
3. The runtime stage's packages: every library the installed binary links (ldd) and every one
   it opens with dlopen() (the LW_*_SONAME defines in the sources) is in a package the runtime
   stage's apt-get installs (dpkg -S maps the library to its Debian package), or in libc6,
   which debian:12-slim has. Each package named exists (apt-cache) and is not a -dev package.
4. The image's tree laid out in a temporary root (the COPY lines: binary, rules, default
   config): `logwarden check` passes on the default config there, the daemon runs on it (paths
   under the root, a free port), reads a line from the mounted log folder, and the HEALTHCHECK's
   own command (bash /dev/tcp) exits 0 against it, and non-zero once it is stopped.

usage: test_container.py PATH/TO/logwarden
"""

import json
import os
import re
import shlex
import subprocess

import e2e

DOCKERFILE = os.path.join(e2e.REPO, "Dockerfile")
BASE_PACKAGES = {"libc6"}  # in debian:12-slim already (libc, libm, ld.so)
SANITIZER_LIBS = ("libasan", "libubsan", "liblsan", "libtsan", "libstdc++", "libgcc_s")


def instructions(path):
    """[(stage index, INSTRUCTION, arguments)] with continuation lines joined, comments dropped."""
    out, cur, stage = [], "", -1
    for line in open(path, encoding="utf-8"):
        s = line.rstrip("\n")
        if not cur and (not s.strip() or s.lstrip().startswith("#")):
            continue
        if cur and s.lstrip().startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        word, _, rest = cur.strip().partition(" ")
        if word.upper() == "FROM":
            stage += 1
        out.append((stage, word.upper(), rest.strip()))
        cur = ""
    return out


def lint(t, ins):
    stages = {}
    pipefail = set()
    for stage, word, args in ins:
        if word == "FROM":
            parts = args.split()
            image = parts[0]
            t.check(":" in image or "@sha256:" in image, f"FROM {image}: pinned to a tag (DL3006)")
            t.check(not image.endswith(":latest"), f"FROM {image}: not :latest (DL3007)")
            if len(parts) == 3 and parts[1].upper() == "AS":
                stages[parts[2]] = stage
        elif word == "SHELL":
            sh = json.loads(args)
            if "pipefail" in sh:
                pipefail.add(stage)
        elif word == "RUN":
            if "apt-get install" in args or re.search(r"xargs apt-get install", args):
                t.check("apt-get update" in args, f"stage {stage}: apt-get update in the RUN that installs")
                t.check(" -y" in args, f"stage {stage}: apt-get install -y (DL3014)")
                t.check("--no-install-recommends" in args, f"stage {stage}: --no-install-recommends (DL3015)")
                t.check("rm -rf /var/lib/apt/lists/*" in args, f"stage {stage}: apt lists removed (DL3009)")
            if re.search(r"[^|]\|[^|]", args):
                t.check(stage in pipefail, f"stage {stage}: a RUN with a pipe has SHELL pipefail (DL4006)", args)
            t.check(not re.search(r"(^|&&|;)\s*cd\s", args), f"stage {stage}: no cd in RUN, WORKDIR (DL3003)", args)
            t.check("apt-get upgrade" not in args and "sudo " not in args, f"stage {stage}: no upgrade or sudo")
        elif word == "WORKDIR":
            t.check(args.startswith("/"), f"WORKDIR {args} is absolute (DL3000)")
        elif word == "ADD":
            t.check(False, f"ADD {args}: COPY, not ADD (DL3020)")
        elif word == "COPY":
            m = re.match(r"--from=(\S+)", args)
            if m:
                t.check(m.group(1) in stages and stages[m.group(1)] < stage,
                        f"COPY --from={m.group(1)} names an earlier stage (DL3022)")
            else:
                for src in [a for a in args.split()[:-1] if not a.startswith("--") and a != "."]:
                    t.check(os.path.exists(os.path.join(e2e.REPO, src)) and not dockerignored(src),
                            f"COPY {src}: in the build context, not left out by .dockerignore")
    last = ins[-1][0]
    users = [a for s, w, a in ins if w == "USER" and s == last]
    t.check(users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]),
            "the runtime stage's last USER is a non-root numeric uid (runAsNonRoot can check it)", users)
    t.check(any(w == "HEALTHCHECK" and s == last for s, w, _ in ins), "the runtime stage has a HEALTHCHECK")
    t.check(any(w == "VOLUME" and "/var/lib/logwarden" in a for s, w, a in ins if s == last),
            "VOLUME /var/lib/logwarden (the state file)")
    ep = [a for s, w, a in ins if w == "ENTRYPOINT" and s == last]
    t.check(ep and ep[-1].startswith("["), "ENTRYPOINT in exec form (signals reach logwarden, DL3025)")


def dockerignored(src):
    """Whether .dockerignore leaves src (relative to the context) out of the build context."""
    import fnmatch
    pats = [p.strip() for p in open(os.path.join(e2e.REPO, ".dockerignore"))
            if p.strip() and not p.startswith("#")]
    parts = src.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        for p in pats:
            if fnmatch.fnmatch(prefix, p) or fnmatch.fnmatch(prefix, p.replace("**/", "")):
                return True
    return False


def build_dir(binary):
    d = os.path.dirname(binary)
    while d != "/":
        if os.path.isfile(os.path.join(d, "CMakeCache.txt")):
            return d
        d = os.path.dirname(d)
    return None


def install(t, ins, binary, staging):
    """Runs the build stage's install step here; returns the DESTDIR it maps to, or None."""
    runs = [a for s, w, a in ins if w == "RUN" and s == 0 and "cmake" in a]
    if not t.check(len(runs) == 1, "the build stage has one RUN with cmake"):
        return None
    run = runs[0]
    build = build_dir(binary)
    if not t.check(build is not None, "the binary's build tree (CMakeCache.txt) found", binary):
        return None
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    opts = dict(re.findall(r"-D(\w+)=(\S+)", run))
    for k in opts:
        t.check(re.search(r"^%s:" % re.escape(k), cache, re.M),
                f"the Dockerfile's cmake option {k} is one the project's build knows")
    t.eq(opts.get("CMAKE_BUILD_TYPE"), "Release", "the image is a Release build")
    m = re.search(r"DESTDIR=(\S+) cmake --install (\S+)", run)
    if not t.check(m, "the build stage runs the install target with a DESTDIR", run):
        return None
    prefix = opts.get("CMAKE_INSTALL_PREFIX", "/usr/local")
    env = dict(os.environ, DESTDIR=staging)
    p = e2e.run(["cmake", "--install", build, "--prefix", prefix], env=env)
    t.check(p.returncode == 0, f"cmake --install {build} --prefix {prefix} into a DESTDIR", p.stdout + p.stderr)
    return m.group(1)


def package_of(lib):
    """The Debian package that ships a library (dpkg -S on its path; with usrmerge the path ldd
    prints may be /lib's or /usr/lib's), or None. A bare soname is found through ldconfig."""
    if "/" not in lib:
        m = re.search(r"^\s*%s \(libc6,x86-64[^)]*\) => (\S+)|^\s*%s \([^)]*\) => (\S+)"
                      % (re.escape(lib), re.escape(lib)), e2e.run(["ldconfig", "-p"]).stdout, re.M)
        if not m:
            return None
        lib = m.group(1) or m.group(2)
    p = e2e.run(["dpkg", "-S", lib, "/usr" + lib, lib.replace("/usr/", "/", 1)])
    for line in p.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        if os.path.basename(path) == os.path.basename(lib):
            return pkg.split(":")[0].split(",")[0].strip()
    return None


def runtime_packages(ins):
    last = ins[-1][0]
    pkgs = set()
    for s, w, a in ins:
        if s == last and w == "RUN" and "apt-get install" in a:
            words = a.split("apt-get install", 1)[1].split("&&")[0].split()
            pkgs |= {x for x in words if not x.startswith("-")}
    return pkgs


def check_libraries(t, ins, installed):
    pkgs = runtime_packages(ins)
    p = e2e.run(["apt-cache", "show", "--no-all-versions"] + sorted(pkgs))  # one call: it is slow
    known = set(re.findall(r"^Package: (\S+)", p.stdout, re.M))
    # A CI image with its apt lists removed knows only what is installed: those count too.
    p = e2e.run(["dpkg-query", "-W", "-f", "${Package}\n"] + sorted(pkgs))
    known |= set(p.stdout.split())
    for pkg in sorted(pkgs):
        t.check(pkg in known, f"runtime package {pkg} exists in Debian")
        t.check(not pkg.endswith("-dev"), f"runtime package {pkg} is not a -dev package")
    p = e2e.run(["ldd", installed])
    libs = re.findall(r"^\s*(\S+) => (\S+)", p.stdout, re.M)
    t.check(len(libs) >= 5, "ldd lists the binary's libraries", p.stdout + p.stderr)
    for soname, path in libs:
        if soname.startswith(SANITIZER_LIBS):  # an ASan build's runtime: not in a Release image
            continue
        pkg = package_of(path)
        t.check(pkg in pkgs | BASE_PACKAGES,
                f"linked {soname} comes from {pkg}, which the runtime stage installs", sorted(pkgs))
    sonames = set()
    for top in ("base", "ingest", "rules", "store", "alerts", "sinks", "app"):
        for root, _, files in os.walk(os.path.join(e2e.REPO, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    sonames |= set(re.findall(r'#define LW_\w+_SONAME "([^"]+)"',
                                              open(os.path.join(root, f), errors="replace").read()))
    t.check({"libcurl.so.4", "libmicrohttpd.so.12", "librdkafka.so.1"} <= sonames,
            "the sources' dlopen() sonames found", sorted(sonames))
    for soname in sorted(sonames):
        pkg = package_of(soname)
        t.check(pkg in pkgs, f"dlopen()ed {soname} comes from {pkg}, which the runtime stage installs",
                sorted(pkgs))


def lay_out(t, ins, staging, destdir, root):
    """The runtime stage's COPY lines into root; returns the path of the default config."""
    last = ins[-1][0]
    for s, w, a in ins:
        if w != "COPY" or s != last:
            continue
        args = a.split()
        src, dst = args[-2], args[-1]
        target = os.path.join(root, dst.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if args[0].startswith("--from="):
            have = os.path.join(staging, os.path.relpath(src, destdir))
            if t.check(src.startswith(destdir + "/") and os.path.exists(have),
                       f"COPY --from: {src} is in the install target's tree", have):
                e2e.run(["cp", "-a", have, target])
        else:
            e2e.run(["cp", "-a", os.path.join(e2e.REPO, src), target])  # checked by lint()
    return os.path.join(root, "etc/logwarden/logwarden.yaml")


def run_image(t, ins, binary_in_root, cfg, root):
    last = ins[-1][0]
    ep = json.loads([a for s, w, a in ins if w == "ENTRYPOINT" and s == last][-1])
    cmd = json.loads([a for s, w, a in ins if w == "CMD" and s == last][-1])
    t.eq(ep, ["logwarden"], "ENTRYPOINT runs logwarden (on PATH: /usr/local/bin)")
    t.check(os.access(os.path.join(root, "usr/local/bin/logwarden"), os.X_OK), "the binary is in /usr/local/bin")
    t.check(cmd[:2] == ["run", "-c"] and os.path.isfile(os.path.join(root, cmd[2].lstrip("/"))),
            "CMD runs the config the image carries", cmd)
    p = e2e.run([binary_in_root, "check", "-c", cfg], cwd=root)
    t.check(p.returncode == 0 and p.stdout.startswith("ok:"), "logwarden check passes on the image's config",
            p.stdout + p.stderr)
    text = open(cfg).read()
    port = e2e.free_port()
    for d in ("/var/lib/logwarden", "/var/log/app"):
        os.makedirs(os.path.join(root, d.lstrip("/")), exist_ok=True)
        text = text.replace(d, os.path.join(root, d.lstrip("/")))
    hc = [a for s, w, a in ins if w == "HEALTHCHECK" and s == last][-1]
    t.check("127.0.0.1:9880" in text and "/127.0.0.1/9880" in hc,
            "the HEALTHCHECK probes the default config's http.listen", hc)
    text = text.replace("127.0.0.1:9880", "127.0.0.1:%d" % port)
    run_cfg = os.path.join(os.path.dirname(cfg), "run.yaml")
    with open(run_cfg, "w") as f:
        f.write(text)
    probe = json.loads(hc[hc.index("CMD") + 3:].strip())
    probe = [x.replace("/127.0.0.1/9880", "/127.0.0.1/%d" % port) for x in probe]
    t.check(probe[0] == "bash", "the probe is bash (in debian:12-slim; no curl needed)", probe)
    daemon = e2e.Daemon(binary_in_root, run_cfg, root)
    try:
        if not t.check(e2e.wait_for(lambda: "running:" in daemon.stderr() or not daemon.alive(), 20)
                       and daemon.alive(), "the image's config runs", e2e.tail(daemon.stderr())):
            return
        with open(os.path.join(root, "var/log/app/app.log"), "a") as f:
            f.write("hello from the app\n")
        t.check(e2e.wait_for(lambda: e2e.metrics(port).get('logwarden_input_lines_total{input="app"}', 0) >= 1, 20),
                "a line in /var/log/app/*.log is read", e2e.tail(daemon.stderr()))
        p = e2e.run(probe, timeout=10)
        t.eq(p.returncode, 0, "the HEALTHCHECK command passes against the running daemon")
    finally:
        t.eq(daemon.stop(), 0, "it stops cleanly on SIGTERM (STOPSIGNAL)")
    p = e2e.run(probe, timeout=10)
    t.check(p.returncode != 0, "the HEALTHCHECK command fails once the daemon is gone")
    t.check(os.path.isfile(os.path.join(root, "var/lib/logwarden/logwarden.db")),
            "the state file is on the volume /var/lib/logwarden")


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    ins = instructions(DOCKERFILE)
    t.check(ins and ins[0][1] == "FROM" and max(s for s, _, _ in ins) == 1, "Dockerfile: two stages", ins[:1])
    lint(t, ins)
    tmp = e2e.TempDir("container")
    try:
        staging = tmp.join("staging")
        destdir = install(t, ins, binary, staging)
        if destdir is None:
            t.finish()
        root = tmp.join("root")
        cfg = lay_out(t, ins, staging, destdir, root)
        installed = os.path.join(root, "usr/local/bin/logwarden")
        if t.check(os.path.isfile(installed), "the installed binary is laid out"):
            check_libraries(t, ins, installed)
            run_image(t, ins, installed, cfg, root)
    finally:
        tmp.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
