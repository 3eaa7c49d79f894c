#!/usr/bin/env python3
"""test_replay_bruteforce.py: `logwarden replay` on real ssh brute force, checked to the second.

For each bundled umm-secure file, runs

    logwarden replay -c CONFIG --format raw FILE

with the rule "more than 10 failed passwords from one IP in 5 minutes" and
compares every printed transition (status, ip, starts_at, ends_at, value)
with an independent simulation written here: for each IP, every second from
its first event to the last event of the file, count the events in
(t - 300, t]; fire when the count is above 10 and the IP is not firing,
resolve when it is 10 or less and the IP is firing. The files carry no year;
both sides take the latest year that does not put the time more than a day
in the future of now. The binary runs with TZ=UTC and the simulation in UTC.

usage: test_replay_bruteforce.py PATH/TO/logwarden
"""

import bisect
import calendar
import datetime
import os
import re
import time

import e2e

FILES = [
    "umm-secure/mylar/secure-20110710",    # fires once, still firing at the end
    "umm-secure/cscirepo/secure-20110730",  # several IPs fire and resolve, one twice
    "umm-secure/mylar/secure",              # one IP hovers at the threshold: ~60 cycles
]
WINDOW = 300
ABOVE = 10

RULES = r"""
events:
  - name: ssh_failed_login
    match: '^(?<ts>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: Failed password for (?:invalid user )?(?<user>\S+) from (?<ip>\S+) port \d+'
    timestamp: {field: ts, format: syslog}

alerts:
  - name: SshBruteForce
    event: ssh_failed_login
    group_by: [ip]
    window: 5m
    count: {above: 10}
    severity: critical
    annotations:
      summary: '{{ value }} failed logins from {{ ip }} in 5m'
"""

CONFIG = """
state: {state}
rules:
  - rules/*.yaml
"""

# The simulation's own parser: deliberately not the rule's regex text.
LINE = re.compile(r"^(\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) \S+ sshd\[\d+\]: "
                  r"Failed password for (?:invalid user )?\S+ from (\S+) port \d+")
MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def infer_year(mon, day, hh, mm, ss, now):
    """The latest year that does not put the time more than one day after now."""
    year = now.year
    while True:
        try:
            t = calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0))
        except (ValueError, OverflowError):
            year -= 1  # Feb 29 in a year without it
            continue
        if t <= now.timestamp() + 86400:
            return t
        year -= 1


def simulate(path, now):
    """Expected transitions as tuples (time, status, ip, starts_at, ends_at, value)."""
    events = {}
    last = None
    with open(path, "rb") as f:
        for raw in f:
            m = LINE.match(raw.decode("latin-1"))
            if not m:
                continue
            t = infer_year(MONTHS[m[1]], int(m[2]), int(m[3]), int(m[4]), int(m[5]), now)
            events.setdefault(m[6], []).append(t)
            last = t if last is None else max(last, t)
    out = []
    for ip, ts in events.items():
        ts.sort()
        if len(ts) <= ABOVE:
            continue  # can never hold
        fired_at = None
        firing_value = None  # a resolved alert reports its last firing value (Prometheus)
        for t in range(ts[0], last + 1):
            count = bisect.bisect_right(ts, t) - bisect.bisect_right(ts, t - WINDOW)
            if count > ABOVE:
                firing_value = count
            if count > ABOVE and fired_at is None:
                fired_at = t
                out.append((t, "firing", ip, t, None, count))
            elif count <= ABOVE and fired_at is not None:
                out.append((t, "resolved", ip, fired_at, t, firing_value))
                fired_at = None
    out.sort(key=lambda x: (x[0], x[2], x[1]))
    return out


def parse_time(s):
    """RFC 3339 (Z or offset, optional fraction) -> epoch seconds (float), None stays None."""
    if s is None:
        return None
    if not isinstance(s, str):
        raise ValueError(f"not a string: {s!r}")
    d = datetime.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    if d.tzinfo is None:
        raise ValueError(f"no zone: {s!r}")
    return d.timestamp()


def actual_transitions(objs):
    out, problems = [], []
    for o in objs:
        try:
            labels = o.get("labels") or {}
            st = parse_time(o.get("starts_at"))
            en = parse_time(o.get("ends_at"))
            at = st if o.get("status") == "firing" else en
            out.append((int(at) if at is not None else -1, o.get("status"), labels.get("ip"),
                        int(st) if st is not None else None,
                        int(en) if en is not None else None, o.get("value")))
        except (ValueError, TypeError, AttributeError) as e:
            problems.append(f"{e}: {o!r}"[:300])
    out.sort(key=lambda x: (x[0], str(x[2]), str(x[1])))
    return out, problems


def fmt(tr):
    if tr is None:
        return ""
    at, status, ip, st, en, value = tr
    iso = lambda x: "-" if x is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(x))
    return f"{status:<8} {str(ip):<16} starts {iso(st)} ends {iso(en)} value {value}"


def side_by_side(expected, actual):
    lines = [f"{'#':>4}  {'expected (simulation)':<90}  actual (logwarden replay)"]
    for i in range(max(len(expected), len(actual))):
        e = expected[i] if i < len(expected) else None
        a = actual[i] if i < len(actual) else None
        mark = "  " if same(e, a) else "!!"
        lines.append(f"{i:>4}{mark}{fmt(e):<90}  {fmt(a)}")
    return "\n".join(lines)


def same(e, a):
    if e is None or a is None:
        return False
    return (e[1:5] == a[1:5] and isinstance(a[5], (int, float)) and not isinstance(a[5], bool)
            and a[5] == e[5])


def num(v):
    """A count as a template prints it: 11, not 11.0."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def check_file(t, binary, rel):
    path = os.path.join(e2e.DATA, rel)
    td = e2e.TempDir("replay")
    try:
        td.write("rules/ssh.yaml", RULES)
        config = td.write("logwarden.yaml", CONFIG.format(state=td.join("logwarden.db")))
        env = dict(os.environ, TZ="UTC")
        now = datetime.datetime.now(datetime.timezone.utc)
        p = e2e.run([binary, "replay", "-c", config, "--format", "raw", path], timeout=90, env=env)
        if not t.check(p.returncode == 0, f"{rel}: replay exits 0",
                       f"exit {p.returncode}\nstderr:\n{e2e.tail(p.stderr)}"):
            return
        objs, bad = e2e.parse_json_lines(p.stdout)
        t.check(not bad, f"{rel}: stdout is one JSON object per line", "\n".join(bad[:5]))
        expected = simulate(path, now)
        actual, problems = actual_transitions(objs)
        t.check(not problems, f"{rel}: every object has RFC 3339 starts_at/ends_at",
                "\n".join(problems[:5]))
        ok = len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
        t.check(ok, f"{rel}: {len(expected)} transitions, identical to the simulation",
                side_by_side(expected, actual))
        t.check(all(o.get("alert") == "SshBruteForce" and
                    (o.get("labels") or {}).get("alert") == "SshBruteForce" and
                    (o.get("labels") or {}).get("severity") == "critical" and
                    o.get("window") == "5m" and o.get("generator") == "logwarden" and
                    (o.get("status") != "firing" or o.get("ends_at") is None)
                    for o in objs),
                f"{rel}: alert, labels.alert, labels.severity, window, generator, ends_at",
                "\n".join(repr(o)[:300] for o in objs[:3]))
        by_ip = {}
        for o in objs:
            by_ip.setdefault((o.get("labels") or {}).get("ip"), set()).add(o.get("fingerprint"))
        t.check(all(len(fps) == 1 and None not in fps for fps in by_ip.values()) and
                len({next(iter(f)) for f in by_ip.values()}) == len(by_ip),
                f"{rel}: one stable fingerprint per IP, distinct across IPs", repr(by_ip)[:500])
        summaries_ok = all((o.get("annotations") or {}).get("summary") ==
                           f"{num(o.get('value'))} failed logins from "
                           f"{(o.get('labels') or {}).get('ip')} in 5m" for o in objs)
        t.check(summaries_ok, f"{rel}: annotation summary rendered with value and ip",
                "\n".join(repr(o.get("annotations"))[:200] for o in objs[:3]))

        # --now replaces the clock: these 2011 logs replay as 2011, identically to the
        # simulation run with that now, and the output no longer depends on today.
        fixed = datetime.datetime(2011, 12, 31, tzinfo=datetime.timezone.utc)
        p = e2e.run([binary, "replay", "-c", config, "--format", "raw", "--now",
                     "2011-12-31T00:00:00Z", path], timeout=90, env=env)
        objs, _ = e2e.parse_json_lines(p.stdout)
        actual, _ = actual_transitions(objs)
        expected = simulate(path, fixed)
        t.check(p.returncode == 0 and len(expected) == len(actual) and expected and
                all(same(e, a) for e, a in zip(expected, actual)) and
                all(o.get("starts_at", "").startswith("2011-") for o in objs),
                f"{rel}: --now 2011-12-31: the same transitions, in 2011",
                side_by_side(expected, actual) + e2e.tail(p.stderr))
    finally:
        td.cleanup()


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    for rel in FILES:
        check_file(t, binary, rel)
    t.finish()


if __name__ == "__main__":
    main()
