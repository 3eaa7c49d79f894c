#!/usr/bin/env python3
"""test_alertmanager.py: the alertmanager sink against Debian's prometheus-alertmanager.

Alertmanager runs on a loopback port with a null receiver, its storage in a temporary
directory and clustering off. `logwarden replay --notify` first replays the three lines that
make the alert fire: it must appear in GET /api/v2/alerts, active, with logwarden's labels
(and alertname) and annotations. Then the four lines, whose last resolves the alert: it must
no longer be listed as active.

usage: test_alertmanager.py PATH/TO/logwarden
"""

import json
import os
import shutil
import subprocess
import urllib.request

import receivers as rv
from receivers import e2e

AM_CONFIG = """
route:
  receiver: 'null'
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: 'null'
"""


def find_alertmanager():
    for name in ("prometheus-alertmanager", "alertmanager"):
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if path:
            return path
    return None


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    am_bin = find_alertmanager()
    if not c.check(am_bin, "prometheus-alertmanager is installed",
                   "not found: install the Debian package prometheus-alertmanager "
                   "(`make deps` installs .ci/packages/sinks.txt)"):
        c.finish()
    tmp = e2e.TempDir("sinks-am")
    proc = None
    am_log = None
    # urllib must not use a proxy for 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    urllib.request.install_opener(opener)
    try:
        port = rv.free_port()
        os.makedirs(tmp.join("am-data"))
        tmp.write("alertmanager.yml", AM_CONFIG)
        am_log = open(tmp.join("alertmanager.log"), "wb")
        proc = subprocess.Popen([am_bin, f"--config.file={tmp.join('alertmanager.yml')}",
                                 f"--storage.path={tmp.join('am-data')}",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 "--cluster.listen-address="],
                                stdin=subprocess.DEVNULL, stdout=am_log, stderr=am_log)
        base = f"http://127.0.0.1:{port}"

        def ready():
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        if not c.check(e2e.wait_for(ready, 30), "alertmanager is ready",
                       e2e.tail(open(tmp.join("alertmanager.log"), errors="replace").read())):
            return

        tmp.write("rules.yaml", rv.RULES)
        sinks = f"""
  - name: am
    type: alertmanager
    url: {base}/
    generator_url: http://127.0.0.1:9880/
"""
        tmp.write("logwarden.yaml", rv.config(tmp.join("state.db"), sinks, ["am"]))
        env = dict(os.environ)
        for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                  "ALL_PROXY"):
            env.pop(k, None)
        all_lines = rv.lines()
        firing_lines = "".join(all_lines.splitlines(keepends=True)[:3])

        r = rv.replay(binary, tmp, firing_lines, env=env)
        c.eq(r.returncode, 0, "replay of the firing lines exits 0")
        c.check("delivery failed" not in r.stderr, "alertmanager accepted the alert",
                e2e.tail(r.stderr))

        def ours():
            try:
                return [a for a in get_json(base + "/api/v2/alerts")
                        if a["labels"].get("alertname") == "SshBruteForce"]
            except OSError:
                return []

        found = e2e.wait_for(ours, 20)
        if c.eq(len(found), 1, "the alert appears in GET /api/v2/alerts"):
            a = found[0]
            c.eq({k: a["labels"].get(k) for k in ("alertname", "ip", "severity")},
                 {"alertname": "SshBruteForce", "ip": rv.IP, "severity": "critical"},
                 "with logwarden's labels")
            c.eq(a["status"]["state"], "active", "active")
            c.eq(a["annotations"].get("summary"), f"3 failed logins from {rv.IP} <script>&",
                 "with the summary annotation")
            c.eq(a["annotations"].get("value"), "3", "and the value")
            c.eq(a.get("generatorURL"), "http://127.0.0.1:9880/", "generatorURL")
            c.check(a["endsAt"] > a["startsAt"], "endsAt is Alertmanager's resolve timeout ahead")
            groups = get_json(base + "/api/v2/alerts/groups")
            c.check(any(g["receiver"]["name"] == "null" for g in groups),
                    "routed to the null receiver")

        r = rv.replay(binary, tmp, all_lines, env=env)
        c.eq(r.returncode, 0, "replay of all the lines exits 0")
        transitions, _ = e2e.parse_json_lines(r.stdout)
        c.eq([t["status"] for t in transitions], ["firing", "resolved"], "fires, then resolves")
        gone = e2e.wait_for(lambda: not ours(), 20)
        c.check(gone, "after the resolved notification it is no longer active", ours())
        resolved = [a for a in get_json(base + "/api/v2/alerts?active=true&silenced=true"
                                        "&inhibited=true&unprocessed=true")
                    if a["labels"].get("alertname") == "SshBruteForce"]
        c.eq(resolved, [], "no active, silenced, inhibited or unprocessed copy remains")
    finally:
        if proc:
            rv.stop_process(proc)
        if am_log:
            am_log.close()
        tmp.cleanup()
        c.finish()


if __name__ == "__main__":
    main()
