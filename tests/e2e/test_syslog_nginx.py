#!/usr/bin/env python3
"""test_syslog_nginx.py: nginx (Debian's nginx-light) logs its access lines straight to
logwarden with `access_log syslog:server=127.0.0.1:PORT,tag=nginx combined;`, the snippet
docs/inputs.md gives. nginx runs unprivileged-style from a temporary prefix (one process,
daemon off, its own pid, temp paths and error log), on free loopback ports; the test makes
requests to it and checks what logwarden made of the access lines: the syslog envelope (host,
app = the tag, facility local7 and severity info, nginx's defaults) and the fields a rule
captures from the combined format, as alert labels on a webhook Receiver.

usage: test_syslog_nginx.py PATH/TO/logwarden
"""

import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import e2e

RULES = r"""
events:
  - name: access
    match: '^(?<client>\S+) \S+ \S+ \[[^\]]+\] "(?<method>[A-Z]+) (?<path>\S+) [^"]*" (?<status>\d{3}) (?<bytes>\d+)'
    fields: {status: int, bytes: int}
alerts:
  - name: NginxAccess
    event: access
    group_by: [host, app, facility, syslog_severity, client, method, path, status]
    window: 5m
    count: {above: 0}
"""

NGINX_CONF = """
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    access_log syslog:server=127.0.0.1:{syslog},tag=nginx combined;
    server {{
        listen 127.0.0.1:{http};
        location = /ok {{ return 200 "ok\\n"; }}
        location / {{ return 404; }}
    }}
}}
"""


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                      else None)
    if not nginx:
        c.check(False, "nginx is installed (.ci/packages/syslog.txt: nginx-light)")
        return c.finish()
    d = e2e.TempDir("syslog-nginx")
    rx = e2e.Receiver()
    syslog, http, web = e2e.free_port(), e2e.free_port(), e2e.free_port()
    os.makedirs(d.join("tmp"))
    d.write("rules.yaml", RULES)
    cfg = d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{http}}}
rules: [rules.yaml]
inputs:
  - {{name: nginx, type: syslog, listen: [udp://127.0.0.1:{syslog}]}}
sinks: [{{name: hook, type: webhook, url: '{rx.url("/alerts")}'}}]
notify: {{group_wait: 0s}}
""")
    conf = d.write("nginx.conf", NGINX_CONF.format(d=d.path, syslog=syslog, http=web))
    daemon = e2e.Daemon(binary, cfg, d.path)
    ngx = None
    try:
        c.check(e2e.wait_for(lambda: e2e.metrics(http), 15), "daemon serves /metrics",
                daemon.stderr())
        ngx = subprocess.Popen([nginx, "-e", d.join("error.log"), "-p", d.path, "-c", conf],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        up = e2e.wait_for(lambda: get(web, "/ok") == 200 or ngx.poll() is not None, 15)
        c.check(up and ngx.poll() is None, "nginx serves on its free port",
                ngx.stderr.read().decode() if ngx.poll() is not None else "")
        c.eq(get(web, "/missing?x=1"), 404, "nginx answers 404 for another path")

        def fired():
            return {a["labels"].get("path"): a["labels"]
                    for _, a in rx.alerts(status="firing", alert="NginxAccess")}
        e2e.wait_for(lambda: len(fired()) >= 2, 15)
        got = fired()
        c.eq(sorted(got), ["/missing?x=1", "/ok"], "both access lines reach the rule")
        ok, missing = got.get("/ok", {}), got.get("/missing?x=1", {})
        c.eq(ok.get("app"), "nginx", "app is nginx's tag")
        c.eq(ok.get("host"), socket.gethostname(), "host is nginx's hostname")
        c.eq(ok.get("facility"), "local7", "facility: nginx's default local7")
        c.eq(ok.get("syslog_severity"), "info", "severity: nginx's default info")
        c.eq(ok.get("client"), "127.0.0.1", "client address from the combined format")
        c.eq((ok.get("method"), ok.get("status")), ("GET", "200"), "method and status of /ok")
        c.eq(missing.get("status"), "404", "status of the missing path")
        m = e2e.metrics(http)
        c.eq(m.get('logwarden_input_malformed_total{input="nginx"}'), 0.0,
             "nginx's lines are all syslog")
    finally:
        if ngx and ngx.poll() is None:
            ngx.terminate()
            try:
                ngx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ngx.kill()
                ngx.wait()
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")
        rx.stop()
        if c.failed:
            print(e2e.tail(daemon.stderr()))
            try:
                with open(d.join("error.log"), encoding="utf-8", errors="replace") as f:
                    print(e2e.tail(f.read()))
            except OSError:
                pass
        d.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
