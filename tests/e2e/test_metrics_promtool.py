"""test_metrics_promtool.py: /metrics passes Prometheus's own `promtool check metrics`.

The daemon runs every input type at once (two file inputs, docker, cri, syslog), with multiline,
an alert that fires and two sinks (a file, and a webhook whose receiver is down: it retries), so that every family /metrics can print is there, and two inputs
of one type print the same family names: the text format wants each family's samples together
under one HELP and TYPE. promtool (Debian's prometheus package) is the reference parser and
linter; its complaints are printed as they are.
"""

import json
import os
import shutil
import subprocess
import urllib.request

import e2e

RULES = """
events:
  - name: err
    match: 'ERROR (?P<code>\\d+)'
alerts:
  - name: Errors
    event: err
    window: 1m
    count: {above: 1}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: "127.0.0.1:{port}"}}
inputs:
  - {{name: app, type: file, paths: [app.log], start_at: beginning, poll_interval: 50ms,
     multiline: java}}
  - {{name: web, type: file, paths: [web.log], start_at: beginning, poll_interval: 50ms}}
  - {{name: ctr, type: docker, containers_dir: containers, start_at: beginning,
     poll_interval: 50ms}}
  - {{name: k8s, type: cri, pods_dir: pods, containers_dir: links, start_at: beginning,
     poll_interval: 50ms}}
  - {{name: sys, type: syslog, listen: ["udp://127.0.0.1:0"]}}
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
  - {{name: down, type: webhook, url: "http://127.0.0.1:{down}/hook"}}
routes:
  - sinks: [out, down]
notify: {{group_wait: 0s}}
"""


def docker_tree(root):
    cid = "4f" * 32
    d = os.path.join(root, "containers", cid)
    os.makedirs(d)
    with open(os.path.join(d, "config.v2.json"), "w") as f:
        json.dump({"ID": cid, "Name": "/shop-api-1", "State": {"Running": True},
                   "Config": {"Image": "nginx:1.25",
                              "Labels": {"com.docker.compose.project": "shop",
                                         "com.docker.compose.service": "api"}}}, f)
    with open(os.path.join(d, cid + "-json.log"), "w") as f:
        for i in range(3):
            f.write(json.dumps({"log": "ERROR %d\n" % (500 + i), "stream": "stdout",
                                "time": "2026-12-06T01:00:00.000000001Z"}) + "\n")


def cri_tree(root):
    d = os.path.join(root, "pods", "default_web-7c9_0a1b2c3d", "nginx")
    os.makedirs(d)
    os.makedirs(os.path.join(root, "links"))
    with open(os.path.join(d, "0.log"), "w") as f:
        f.write("2026-12-06T01:00:00.000000001Z stdout F ERROR 502\n")


def main():
    t = e2e.Checks()
    binary = e2e.binary_from_argv()
    if not shutil.which("promtool"):
        t.check(False, "promtool is installed (Debian's prometheus package, .ci/packages)")
        return t.finish()
    tmp = e2e.TempDir("promtool")
    port = e2e.free_port()
    tmp.write("rules.yaml", RULES)
    down, held = e2e.held_port()  # a receiver that is down: the sink retries
    tmp.write("lw.yaml", CONFIG.format(port=port, down=down))
    tmp.write("app.log", "".join("ERROR %d\n\tat a.B.c(B.java:%d)\n" % (500 + i, i)
                                 for i in range(3)))
    tmp.write("web.log", "ERROR 503\nERROR 504\n")
    docker_tree(tmp.path)
    cri_tree(tmp.path)
    d = e2e.Daemon(binary, tmp.join("lw.yaml"), tmp.path)
    try:
        fired = e2e.wait_for(lambda: os.path.exists(tmp.join("alerts.jsonl")) and
                             os.path.getsize(tmp.join("alerts.jsonl")) > 0, 15)
        t.check(fired, "the alert fired and reached the sink", e2e.tail(d.stderr()))
        # Every input has reported lines before the scrape (the families have samples).
        m = e2e.wait_for(lambda: (lambda m: m if all(
            m.get('logwarden_input_lines_total{input="%s"}' % i, 0) > 0
            for i in ("app", "web", "ctr", "k8s")) else None)(e2e.metrics(port)), 10)
        t.check(m, "every file-like input has read its lines", e2e.tail(d.stderr()))
        # The failing sink has tried and failed, and the alert's state is in the state file.
        m = e2e.wait_for(lambda: (lambda m: m if m.get(
            'logwarden_sink_notifications_total{sink="down",outcome="retried"}', 0) > 0 and
            m.get('logwarden_alerts{alert="Errors",state="firing"}', 0) > 0 else None)(
                e2e.metrics(port)), 15)
        t.check(m, "the down sink retries and the alert is firing", e2e.tail(d.stderr()))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        t.check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
                "promtool check metrics: no problem", p.stdout + p.stderr)
        types = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
        t.eq(sorted(n for n in set(types) if types.count(n) > 1), [],
             "one TYPE line per family")
        for fam in ("logwarden_tail_files", "logwarden_tail_bytes_behind",
                    "logwarden_docker_containers", "logwarden_cri_containers",
                    "logwarden_multiline_records_total", "logwarden_health_status",
                    "logwarden_input_health_status", "logwarden_input_lag",
                    "logwarden_input_decode_failures_total", "logwarden_events_matched_total",
                    "logwarden_alerts", "logwarden_alert_value", "logwarden_sink_queued",
                    "logwarden_sink_oldest_queued_seconds", "logwarden_sink_notifications_total",
                    "logwarden_store_flush_duration_seconds", "logwarden_store_size_bytes",
                    "logwarden_queue_batches", "process_resident_memory_bytes",
                    "process_cpu_seconds_total", "process_start_time_seconds",
                    "process_open_fds", "process_max_fds"):
            t.check(("# TYPE %s " % fam) in text, "family %s has HELP and TYPE" % fam)
        tail_files = [line for line in text.splitlines()
                      if line.startswith("logwarden_tail_files{")]
        t.eq(len(tail_files), 4, "logwarden_tail_files: a sample for each of the 4 inputs")
        samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                   for line in text.splitlines() if line and not line.startswith("#")}
        t.check(samples.get('logwarden_sink_queued{sink="down"}', 0) >= 1 and
                samples.get('logwarden_sink_health_status{sink="down"}') == 1 and
                samples.get('logwarden_sink_health_status{sink="out"}') == 0,
                "the down sink: queued, degraded; the file sink healthy",
                [k for k in samples if "sink" in k])
        t.check(samples.get('logwarden_events_matched_total{event="err"}', 0) >= 1 and
                samples.get('logwarden_alert_value{alert="Errors"}', 0) > 1 and
                samples.get("process_resident_memory_bytes", 0) > 1e6 and
                samples.get('logwarden_store_flush_duration_seconds_count', 0) >= 1,
                "events matched, the alert's value, the process's memory, flushes timed",
                {k: v for k, v in samples.items() if k.startswith(("logwarden_events_matched",
                                                                   "logwarden_alert_value",
                                                                   "process_", "logwarden_store"))})
    finally:
        t.eq(d.stop(), 0, "daemon exits 0 on SIGTERM")
        held.close()
        tmp.cleanup()
    return t.finish()


if __name__ == "__main__":
    main()
