#!/usr/bin/env python3
"""test_syslog_timezone.py: RFC 3164 timestamps carry no zone; they are read in the input's
`timezone:` (default the daemon's local zone), in `run`, `replay` and `test` alike.

RULES.md ("Time"): timestamps without a zone are read in the input's `timezone:` (an IANA
name), default the daemon's local zone. util-linux `logger --rfc3164` writes its local time:
- from TZ=America/New_York (west of UTC) to an input with `timezone: America/New_York`, and to
  an input without one on a daemon started with TZ=America/New_York: read as UTC those lines
  were hours old, late for a 1m window and dropped; they must be counted, none late;
- from TZ=Asia/Tokyo (east of UTC) to an input with `timezone: Asia/Tokyo`: read as UTC the
  line was nine hours ahead and silently took its arrival time, so `run` cannot tell;
- `replay` and `logwarden test` run on event time: logger's exact line from each zone, read
  through its input, must start the alert at the real instant (a wrong offset or sign shows);
- an unknown zone name is a config error FILE:LINE:COL, in `check` and `run`.

usage: test_syslog_timezone.py PATH/TO/logwarden
"""

import datetime
import os
import shutil
import socket
import subprocess

import e2e

RULES = r"""
events:
  - name: probe
    match: 'tz-probe (?<n>\d+)'
alerts:
  - name: Probe
    event: probe
    group_by: [input]
    window: 1m
    count: {above: 0}
"""


def udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def logger(port, tz, msg):
    env = dict(os.environ, TZ=tz)
    subprocess.run(["logger", "--rfc3164", "-d", "-n", "127.0.0.1", "-P", str(port), "-t",
                    "probe", msg], check=True, timeout=10, env=env)


def capture_logger_line(tz, msg):
    """The exact datagram `logger --rfc3164` sends from zone tz."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    logger(s.getsockname()[1], tz, msg)
    data = s.recv(65536).decode()
    s.close()
    return data.rstrip("\n")


def rfc3339(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def check_live(c, binary, d, http):
    ny, tokyo, local = udp_port(), udp_port(), udp_port()
    cfg = d.write("logwarden.yaml", f"""
state: ./state.db
http: {{listen: 127.0.0.1:{http}}}
rules: [rules.yaml]
inputs:
  - {{name: ny, type: syslog, listen: [udp://127.0.0.1:{ny}], timezone: America/New_York}}
  - {{name: tokyo, type: syslog, listen: [udp://127.0.0.1:{tokyo}], timezone: Asia/Tokyo}}
  - {{name: local, type: syslog, listen: ['udp://127.0.0.1:{local}']}}
sinks: [{{name: out, type: stdout}}]
""")
    daemon = e2e.Daemon(binary, cfg, d.path, env=dict(os.environ, TZ="America/New_York"))
    try:
        c.check(e2e.wait_for(lambda: e2e.metrics(http), 10), "daemon serves /metrics",
                daemon.stderr())
        logger(ny, "America/New_York", "tz-probe 1")
        logger(tokyo, "Asia/Tokyo", "tz-probe 2")
        logger(local, "America/New_York", "tz-probe 3")
        m = e2e.wait_for(lambda: (lambda m: m if m.get("logwarden_events_total") == 3 else None)(
            e2e.metrics(http)), 10)
        c.check(m, "three probe events counted", repr(e2e.metrics(http)) + daemon.stderr())
        m = m or e2e.metrics(http)
        for name in ("ny", "tokyo", "local"):
            c.eq(m.get(f'logwarden_late_events_total{{input="{name}"}}'), 0.0,
                 f"late: none on input {name}")
        fired = e2e.wait_for(lambda: (lambda out: out if len(out) >= 3 else None)(
            [a for a in e2e.parse_json_lines(daemon.stdout())[0]
             if a.get("status") == "firing"]), 10)
        c.eq(sorted(a["labels"]["input"] for a in fired or []), ["local", "ny", "tokyo"],
             "Probe fires for every input (the zoned lines are in the window)")
    finally:
        c.eq(daemon.stop(), 0, "SIGTERM -> exit 0")


def replay_time(c, binary, d, input_name, zone):
    """replay runs on event time: the alert starts when logger sent the line."""
    sent = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    line = capture_logger_line(zone, "tz-probe 9")
    c.check(line.startswith("<13>") and "tz-probe 9" in line,
            f"captured logger's RFC 3164 line from {zone}", line)
    d.write(f"{input_name}.log", line + "\n")
    r = e2e.run([binary, "replay", "-c", d.join("logwarden.yaml"), "--input", input_name,
                 d.join(f"{input_name}.log")])
    c.eq(r.returncode, 0, f"replay --input {input_name} exits 0")
    out, _ = e2e.parse_json_lines(r.stdout)
    firing = [a for a in out if a.get("status") == "firing"]
    c.eq(len(firing), 1, f"replay --input {input_name}: the line fires Probe")
    if firing:
        got = rfc3339(firing[0]["starts_at"])
        c.check(abs((got - sent).total_seconds()) <= 5,
                f"replay: the {zone} wall-clock time is read in {zone} (the real instant)",
                f"sent about {sent.isoformat()}, starts_at {firing[0]['starts_at']}")
    return line, sent


def check_event_time(c, binary, d):
    """replay and test run on event time, with the input's zone."""
    replay_time(c, binary, d, "ny", "America/New_York")
    line, sent = replay_time(c, binary, d, "tokyo", "Asia/Tokyo")
    # logwarden test: the exact instant, as Python's zoneinfo reads the header.
    from zoneinfo import ZoneInfo
    stamp = line[4:19]  # "Mmm dd hh:mm:ss" after "<13>"
    local = datetime.datetime.strptime(f"{sent.astimezone(ZoneInfo('Asia/Tokyo')).year} {stamp}",
                                       "%Y %b %d %H:%M:%S")
    at = local.replace(tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(datetime.timezone.utc)
    d.write("probe_test.yaml", f"""
config: logwarden.yaml
tests:
  - name: a Tokyo line
    input: tokyo
    lines: ['{line}']
    expect:
      - {{alert: Probe, status: firing, labels: {{input: tokyo}}, at: '{at.strftime("%Y-%m-%dT%H:%M:%SZ")}'}}
""")
    r = e2e.run([binary, "test", d.join("probe_test.yaml")])
    c.eq(r.returncode, 0, "logwarden test: the line's time is read in the input's zone")
    if r.returncode:
        print(r.stdout + r.stderr)


def check_bad_zone(c, binary, d):
    cfg = d.write("bad.yaml", """
rules: [rules.yaml]
inputs:
  - name: s
    type: syslog
    listen: [udp://127.0.0.1:0]
    timezone: Mars/Olympus_Mons
""")
    for cmd in ("check", "run"):
        r = e2e.run([binary, cmd, "-c", cfg], timeout=20)
        c.eq(r.returncode, 2, f"{cmd}: an unknown timezone is a config error (exit 2)")
        c.check("bad.yaml:7:15: unknown timezone 'Mars/Olympus_Mons'" in r.stderr,
                f"{cmd}: FILE:LINE:COL names the zone", r.stderr)


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    if not shutil.which("logger"):
        c.check(False, "logger (util-linux) is installed")
        c.finish()
    d = e2e.TempDir("tz")
    d.write("rules.yaml", RULES)
    try:
        check_live(c, binary, d, e2e.free_port())
        check_event_time(c, binary, d)
        check_bad_zone(c, binary, d)
    finally:
        d.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
