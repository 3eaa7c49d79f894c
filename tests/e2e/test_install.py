#!/usr/bin/env python3
"""test_install.py: `cmake --install` into a temporary DESTDIR, the installed tree, `check` of the
installed config by the installed binary, a reinstall over an edited config, and `make uninstall`.

The build tree is the folder of the binary (CMake puts logwarden at its top). The installed
config names its rules relatively (`rules.d/*.yaml`, relative to the config's folder), so
`check -c DESTDIR/etc/logwarden/logwarden.yaml` reads DESTDIR's rules, not the host's: no path
needs rewriting, and a config whose rules were not installed beside it checks with 0 events,
which fails here. install_manifest.txt, install_etc.txt and install_destdir.txt of the build
tree are saved and put back, so a developer's own `make uninstall` later removes what they
installed, not this test's.
`make uninstall` with another DESTDIR than the install's is refused (install_destdir.txt), so
an uninstall without DESTDIR after `make install DESTDIR=/tmp/pkg` cannot remove the host's files.

usage: test_install.py PATH/TO/logwarden
"""

import glob
import os
import re
import shutil
import stat

import e2e

SAVED = ("install_manifest.txt", "install_etc.txt", "install_destdir.txt")


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def install(c, build, destdir, prefix):
    env = dict(os.environ, DESTDIR=destdir)
    r = e2e.run(["cmake", "--install", build, "--prefix", prefix], env=env, timeout=60)
    c.eq(r.returncode, 0, f"cmake --install --prefix {prefix} exits 0")
    if r.returncode:
        print(e2e.tail(r.stdout + r.stderr))
    return r


def uninstall(c, build, destdir):
    env = dict(os.environ, DESTDIR=destdir)
    r = e2e.run(["cmake", "--build", build, "--target", "uninstall"], env=env, timeout=60)
    c.eq(r.returncode, 0, "the uninstall target exits 0")
    if r.returncode:
        print(e2e.tail(r.stdout + r.stderr))
    return r


def manifest(build):
    with open(os.path.join(build, "install_manifest.txt")) as f:
        return {l.strip() for l in f if l.strip()}


def expected(prefix, etc):
    """Every file the install must write (relative to DESTDIR), from the source tree."""
    p = prefix.strip("/")
    want = {
        f"{p}/bin/logwarden",
        f"{etc}/logwarden.yaml",
        f"{p}/lib/systemd/system/logwarden.service",
        f"{p}/share/man/man1/logwarden.1",
        f"{p}/share/man/man5/logwarden.yaml.5",
        f"{p}/share/bash-completion/completions/logwarden",
        f"{p}/share/doc/logwarden/README.md",
    }
    if os.path.exists(os.path.join(e2e.REPO, "examples", "systemd", "logwarden.socket")):
        want.add(f"{p}/lib/systemd/system/logwarden.socket")
    for r in glob.glob(os.path.join(e2e.REPO, "rules.d", "*.yaml")):
        want.add(f"{etc}/rules.d/{os.path.basename(r)}")
    for d in glob.glob(os.path.join(e2e.REPO, "docs", "*.md")):
        want.add(f"{p}/share/doc/logwarden/{os.path.basename(d)}")
    return want


def check_tree(c, build, dest, prefix, etc, what):
    want = expected(prefix, etc)
    got = files_under(dest)
    c.check(want <= got, f"{what}: every file is installed", f"missing: {sorted(want - got)}")
    listed = {m.lstrip("/") for m in manifest(build)}
    c.eq(sorted(got - listed), [], f"{what}: every file in DESTDIR is in install_manifest.txt")
    c.eq(sorted(listed - got), [], f"{what}: every file of install_manifest.txt is in DESTDIR")
    binpath = os.path.join(dest, prefix.strip("/"), "bin", "logwarden")
    c.check(os.path.exists(binpath) and os.stat(binpath).st_mode & stat.S_IXUSR,
            f"{what}: the binary is executable")


def check_config(c, dest, prefix, etc, what):
    binpath = os.path.join(dest, prefix.strip("/"), "bin", "logwarden")
    conf = os.path.join(dest, etc, "logwarden.yaml")
    r = e2e.run([binpath, "check", "-c", conf])
    m = re.search(r"ok: (\d+) events, (\d+) alerts", r.stdout)
    c.check(r.returncode == 0 and m and int(m.group(1)) > 0 and int(m.group(2)) > 0,
            f"{what}: the installed binary checks the installed config with the installed rules",
            f"rc={r.returncode}\n{r.stdout}{r.stderr}")
    # The example config is of use as installed: sshd lines on its auth input fire the shipped
    # SshBruteForce (11 failures from one address in 5 minutes, above 10).
    log = os.path.join(dest, "auth.log")
    with open(log, "w") as f:
        for i in range(1, 12):
            f.write(f"Mar 10 06:55:{i:02d} host sshd[{100 + i}]: Failed password for root "
                    f"from 203.0.113.7 port 22 ssh2\n")
    r = e2e.run([binpath, "replay", "-c", conf, "--input", "auth", "--now",
                 "2024-03-10T07:00:00Z", log])
    fired = [a for a in e2e.parse_json_lines(r.stdout)[0] if a.get("alert") == "SshBruteForce"]
    c.check(r.returncode == 0 and len(fired) == 1 and fired[0]["status"] == "firing"
            and fired[0]["labels"].get("ip") == "203.0.113.7",
            f"{what}: 11 failed sshd logins on the installed auth input fire SshBruteForce",
            f"rc={r.returncode}\n{r.stdout[-2000:]}{e2e.tail(r.stderr)}")
    os.remove(log)
    # The unit is the source's with the binary and config paths of this prefix (part B owns its
    # content; the install only moves /usr/bin and /etc/logwarden to where they went).
    src = open(os.path.join(e2e.REPO, "examples/systemd/logwarden.service")).read()
    want = (src.replace("/usr/bin/logwarden", f"{prefix.rstrip('/')}/bin/logwarden")
            .replace("/etc/logwarden", f"/{etc}"))
    unit_path = os.path.join(dest, prefix.strip("/"), "lib/systemd/system/logwarden.service")
    unit = open(unit_path).read()
    c.eq(unit, want, f"{what}: the unit names the installed binary and config")
    if "/usr/bin/logwarden" in src:
        c.check(f"{prefix.rstrip('/')}/bin/logwarden" in unit,
                f"{what}: the unit's binary is the installed one", unit)


def main():
    binary = e2e.binary_from_argv()
    build = os.path.dirname(binary)
    c = e2e.Checks()
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        c.check(False, f"{build} is the build tree (CMakeCache.txt)")
        c.finish()
    saved = {}
    for n in SAVED:
        p = os.path.join(build, n)
        if os.path.exists(p):
            saved[n] = open(p, "rb").read()
    tmp = e2e.TempDir("install")
    try:
        # PREFIX=/usr: the config goes to /etc, as GNUInstallDirs puts it for /usr.
        dest = tmp.join("usr-root")
        os.makedirs(dest)
        install(c, build, dest, "/usr")
        check_tree(c, build, dest, "/usr", "etc/logwarden", "prefix /usr")
        check_config(c, dest, "/usr", "etc/logwarden", "prefix /usr")
        conf = os.path.join(dest, "etc/logwarden/logwarden.yaml")
        shipped = open(os.path.join(e2e.REPO, "examples/etc/logwarden.yaml")).read()
        c.eq(open(conf).read(), shipped, "the installed config is examples/etc/logwarden.yaml")

        # A reinstall keeps an edited config; the shipped one goes beside it as .new.
        edited = shipped + "log_level: debug\n"
        with open(conf, "w") as f:
            f.write(edited)
        r = install(c, build, dest, "/usr")
        c.eq(open(conf).read(), edited, "a reinstall keeps the edited config")
        c.check("Keeping" in r.stdout, "the reinstall says it kept the config", r.stdout[-2000:])
        new = conf + ".new"
        c.eq(open(new).read() if os.path.exists(new) else None, shipped,
             "the shipped config is beside it as logwarden.yaml.new")

        # Uninstall: every file goes but the user's config.
        uninstall(c, build, dest)
        left = files_under(dest)
        c.eq(sorted(left), ["etc/logwarden/logwarden.yaml"],
             "uninstall removes every installed file and keeps the edited config")

        # A fresh install, its config edited after, then uninstall: the edit is kept too.
        os.remove(conf)
        install(c, build, dest, "/usr")
        with open(conf, "a") as f:
            f.write("# mine\n")
        uninstall(c, build, dest)
        c.eq(sorted(files_under(dest)), ["etc/logwarden/logwarden.yaml"],
             "uninstall keeps a config edited since it was installed")
        os.remove(conf)
        install(c, build, dest, "/usr")
        uninstall(c, build, dest)
        # Uninstall with another DESTDIR is refused and removes nothing (another temporary folder
        # with a copy of the tree, not an empty DESTDIR: a broken refusal must not touch /usr).
        install(c, build, dest, "/usr")
        before = files_under(dest)
        other = tmp.join("other-root")
        shutil.copytree(dest, other)
        env = dict(os.environ, DESTDIR=other)
        r = e2e.run(["cmake", "--build", build, "--target", "uninstall"], env=env, timeout=60)
        c.check(r.returncode != 0 and "DESTDIR" in r.stdout + r.stderr,
                "uninstall with another DESTDIR than the install's is refused, naming it",
                e2e.tail(r.stdout + r.stderr))
        c.eq((files_under(dest), files_under(other)), (before, before),
             "the refused uninstall removed nothing")
        uninstall(c, build, dest)
        c.eq(sorted(files_under(dest)), [], "install then uninstall leaves no file")
        c.check(not os.path.exists(os.path.join(dest, "etc/logwarden"))
                and not os.path.exists(os.path.join(dest, "usr/share/doc/logwarden")),
                "uninstall removes logwarden's own folders")

        # Another prefix: etc under it, and the unit names that prefix's binary and config.
        dest2 = tmp.join("opt-root")
        os.makedirs(dest2)
        install(c, build, dest2, "/usr/local")
        check_tree(c, build, dest2, "/usr/local", "usr/local/etc/logwarden", "prefix /usr/local")
        check_config(c, dest2, "/usr/local", "usr/local/etc/logwarden", "prefix /usr/local")
        uninstall(c, build, dest2)
        c.eq(sorted(files_under(dest2)), [], "prefix /usr/local: uninstall leaves no file")
    finally:
        for n in SAVED:
            p = os.path.join(build, n)
            if n in saved:
                with open(p, "wb") as f:
                    f.write(saved[n])
            elif os.path.exists(p):
                os.remove(p)
        tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
