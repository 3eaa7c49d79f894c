#!/usr/bin/env python3
"""test_dashboard_demo.py: `make run`'s demo (examples/demo/run.sh) serves the dashboard on
loopback and prints its URL at start; a newcomer sees an alert fire on the page, can open its
explanation, and sees it resolve.

run.sh runs on free ports (LW_DEMO_PORT, LW_DEMO_SYSLOG_PORT) in a temporary folder
(LW_DEMO_DIR) and stops by itself (LW_DEMO_SECONDS); the test reads the URL it prints, polls the
page (plain HTTP: what a browser without JavaScript gets) until the feeder's first incident, the
ssh brute force from 59.108.33.66, is firing there, follows the alert's link, and waits for the
alert to leave the page (its 30 s window empties), then for run.sh to exit 0.

usage: test_dashboard_demo.py PATH/TO/logwarden
"""

import os
import re
import signal
import subprocess
import urllib.error
import urllib.request

import e2e

RUN_SH = os.path.join(e2e.REPO, "examples", "demo", "run.sh")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError:
        return None, ""


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    td = e2e.TempDir("demo")
    port, syslog_port = e2e.free_port(), e2e.free_port()
    env = dict(os.environ, LW_DEMO_PORT=str(port), LW_DEMO_SYSLOG_PORT=str(syslog_port),
               LW_DEMO_DIR=td.join("demo"), LW_DEMO_SECONDS="100")
    err_path = td.join("run.stderr")
    with open(err_path, "wb") as err, open(td.join("run.stdout"), "wb") as out:
        p = subprocess.Popen([RUN_SH, binary], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             env=env, start_new_session=True)

    def stderr():
        with open(err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    try:
        m = e2e.wait_for(lambda: re.search(r"dashboard is at (http://127\.0\.0\.1:(\d+)/)",
                                           stderr()), 15)
        t.check(m and m.group(2) == str(port), "run.sh prints the dashboard's URL at start",
                stderr())
        url = m.group(1) if m else f"http://127.0.0.1:{port}/"

        def firing():
            code, page = get(url)
            hit = re.search(r'st-firing">firing</span><a href="/alerts/([0-9a-f]+)">'
                            r'SshBruteForce</a>', page)
            return (hit.group(1), page) if code == 200 and hit else None
        fired = e2e.wait_for(firing, 45, 0.5)
        if not t.check(fired, "the ssh brute force fires on the dashboard", e2e.tail(stderr())):
            return t
        fp, page = fired
        t.check("59.108.33.66" in page, "its card shows the attacker's address")
        code, page = get(f"{url}alerts/{fp}")
        api_code, _ = get(f"{url}api/alerts/{fp}")
        t.check(code == api_code and "SshBruteForce" in page or
                (code == api_code and "could not be read" in page),
                "its link opens the alert's page (the explanation, as the API answers it)",
                f"{code} {api_code} {page[-400:]}")

        def resolved():
            code, page = get(url)
            return code == 200 and f'href="/alerts/{fp}"' not in page
        t.check(e2e.wait_for(resolved, 75, 0.5),
                "then it resolves: it leaves the dashboard", e2e.tail(stderr()))
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            code = p.wait()
        t.eq(code, 0, "run.sh stops cleanly (exit 0)")
        td.cleanup()
    return t


if __name__ == "__main__":
    main().finish()
