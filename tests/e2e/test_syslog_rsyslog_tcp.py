#!/usr/bin/env python3
"""test_syslog_rsyslog_tcp.py: Debian's rsyslog, started by the test without privileges, tails a
file of numbered lines (imfile) and forwards it to the daemon with omfwd over TCP with octet
counting, through an action queue that retries forever; the daemon is stopped (SIGTERM) and
started again on the same state file in the middle. Every number 1..N arrives exactly once.

How "exactly once" is checked, by the daemon's own rules: an alert `Dup` grouped by the number
fires when any number is counted twice (windows survive the restart in the state file), and
an alert `All` fires when N numbers have been counted. N counted, none twice, all of them
within 1..N: each arrived once. (The daemon's graceful stop half-closes rsyslog's connection
and reads until rsyslog closes it: rsyslog checks its connection before each send and
requeues what it has not sent. rsyslog retries a whole batch when a send in it fails, so its
batches are of one message here: with larger ones, the messages of a batch sent before the
restart arrive twice, rsyslog's own documented duplication; see docs/inputs.md.)

N is LW_RSYSLOG_N (default 100 000: about 9 s here, under ASan too; rsyslog is the slower side).

usage: test_syslog_rsyslog_tcp.py PATH/TO/logwarden
"""

import os
import shutil
import signal
import subprocess
import time

import e2e

N = int(os.environ.get("LW_RSYSLOG_N", "100000"))

RULES = r"""
events:
  - name: seq
    match: '^seq (?<n>\d+)$'
    where: 'n >= 1 and n <= {n}'
alerts:
  - name: Dup
    event: seq
    group_by: [n]
    window: 30m
    max_groups: {groups}
    count: {{above: 1}}
  - name: All
    event: seq
    group_by: [source_ip]
    window: 30m
    count: {{above: {below}}}
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: "127.0.0.1:{http}"}}
inputs:
  - name: sys
    type: syslog
    listen: [tcp://127.0.0.1:{port}]
sinks:
  - {{name: out, type: file, path: alerts.jsonl}}
notify: {{group_wait: 0s}}
"""

RSYSLOG = """
global(workDirectory="{work}")
module(load="imfile" mode="inotify")
input(type="imfile" File="{src}" Tag="numbered" ruleset="fwd" freshStartTail="off")
ruleset(name="fwd") {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         action.resumeRetryCount="-1" action.resumeInterval="1"
         queue.type="LinkedList" queue.size="{qsize}" queue.dequeueBatchSize="1"
         queue.filename="fwd" queue.saveOnShutdown="on")
}}
"""


def alerts(tmp):
    try:
        with open(tmp.join("alerts.jsonl")) as f:
            objs, _ = e2e.parse_json_lines(f.read())
            return objs
    except FileNotFoundError:
        return []


def events(http):
    return int(e2e.metrics(http).get("logwarden_events_total", 0))


def write_lines(path, lo, hi):
    with open(path, "a") as f:
        f.write("".join("seq %d\n" % i for i in range(lo, hi + 1)))


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    rsyslogd = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd"
                                            if os.access("/usr/sbin/rsyslogd", os.X_OK) else None)
    if not rsyslogd:
        t.check(False, "rsyslogd is installed (Debian's rsyslog, .ci/packages)")
        t.finish()
    tmp = e2e.TempDir("rsyslog-tcp")
    port, http = e2e.free_port(), e2e.free_port()
    while http == port:
        http = e2e.free_port()
    os.makedirs(tmp.join("rs"))
    src = tmp.join("numbers.log")
    open(src, "w").close()
    tmp.write("rules.yaml", RULES.format(n=N, below=N - 1, groups=N + 1000))
    cfg = tmp.write("lw.yaml", CONFIG.format(port=port, http=http))
    rconf = tmp.write("rsyslog.conf", RSYSLOG.format(work=tmp.join("rs"), src=src, port=port,
                                                    qsize=N + 1000))
    d = e2e.Daemon(binary, cfg, tmp.path)
    rs_log = open(tmp.join("rsyslog.out"), "wb")
    rs = subprocess.Popen([rsyslogd, "-n", "-f", rconf, "-i", tmp.join("rs", "pid")],
                          stdin=subprocess.DEVNULL, stdout=rs_log, stderr=subprocess.STDOUT)
    try:
        t.check(e2e.wait_for(lambda: "running" in d.stderr(), 15), "daemon started",
                d.stderr())
        half = N // 2
        write_lines(src, 1, half)
        # Stop the daemon while rsyslog is sending: some of the first half has arrived.
        t.check(e2e.wait_for(lambda: events(http) >= half // 4, 60),
                "rsyslog forwards to the daemon", e2e.tail(d.stderr()))
        first = events(http)
        t.eq(d.stop(timeout=30), 0, "the daemon stops on SIGTERM (exit 0) mid-stream")
        write_lines(src, half + 1, N)
        d = e2e.Daemon(binary, cfg, tmp.path)
        t.check(e2e.wait_for(lambda: "running" in d.stderr(), 15), "daemon started again",
                d.stderr())
        fired = e2e.wait_for(lambda: [a for a in alerts(tmp) if a["alert"] == "All"], 90)
        t.check(fired, "All fired: %d numbers counted (%d before the restart)" % (N, first),
                e2e.tail(d.stderr()))
        if fired:
            t.eq(fired[0]["labels"].get("source_ip"), "127.0.0.1",
                 "records carry the sender's address as source_ip")
        # Let anything still in flight arrive before looking for duplicates.
        e2e.wait_for(lambda: False, 2)
        dups = [a["labels"].get("n") for a in alerts(tmp) if a["alert"] == "Dup"]
        t.eq(dups[:10], [], "no number arrived twice")
        t.check(first < half, "SIGTERM came while rsyslog was sending the first half (%d of "
                "%d had arrived)" % (first, half))
        t.eq(int(e2e.metrics(http).get(
            'logwarden_syslog_stream_cut_total{input="sys",reason="unfinished"}', -1)), 0,
            "no message was cut")
    finally:
        rs.send_signal(signal.SIGTERM)
        try:
            rs.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rs.kill()
            rs.wait()
        rs_log.close()
        t.eq(d.stop(timeout=30), 0, "daemon exits 0 on SIGTERM")
        tmp.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
