#!/usr/bin/env python3
"""rulesets.py: the benchmark's rule sets, defined once, written in four forms.

    python3 bench/rulesets.py          # rewrites bench/rules, bench/patterns, bench/mtail

For every rule set NAME it writes
  rules/NAME.yaml            logwarden rule file (events with PCRE2 `match`, alerts)
  patterns/NAME.pcre         the events' patterns, %{NAME} expanded, one per line (pcre_loop)
  patterns/NAME.ere          the same as POSIX ERE for `grep -c -E -f` (same lines match)
  mtail/NAME/NAME.mtail      an equivalent mtail program: the same regexes (RE2 syntax), a
                             counter per event (labelled by the alert's group_by), the alert's
                             condition (`of`, `where`) and summed fields, and the timestamp
                             parsed with strptime, as logwarden does.
The generated files are committed; edit this file and run it again.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

PATTERNS = {"IP": r"\d{1,3}(?:\.\d{1,3}){3}"}

# Line prefixes (each event captures its own time: replay runs on event time).
ACCESS = r'^(?<ip>%{IP}) \S+ \S+ \[(?<ts>[^\]]+)\] '
ACCESS_FULL = (ACCESS + r'"(?<method>[A-Z]+) (?<path>\S+)[^"]*" (?<status>\d{3}) (?<bytes>\d+|-)'
               r'(?: "[^"]*" "[^"]*")?(?: (?<request_time>[\d.]+))?')
JSON = r'^\{"timestamp":"(?<ts>[^"]+)",'
SYSLOG = r'^(?<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?<host>\S+) '

TS_ACCESS = ("ts", "%d/%b/%Y:%H:%M:%S %z", "02/Jan/2006:15:04:05 -0700")
TS_JSON = ("ts", "rfc3339", "2006-01-02T15:04:05Z07:00")
TS_SYSLOG = ("ts", "syslog", "Jan _2 15:04:05")


class Ev:
    def __init__(self, name, match, ts, fields=None):
        self.name, self.match, self.ts, self.fields = name, match, ts, fields or {}


class Al:
    """kind: count|ratio|avg|max|sum|quantile|absent|spike; spec: dict of the kind's keys."""

    def __init__(self, name, event, window, kind, spec, group_by=(), for_=None, severity="warning"):
        self.name, self.event, self.window, self.kind, self.spec = name, event, window, kind, spec
        self.group_by, self.for_, self.severity = list(group_by), for_, severity


def expand(p):
    return re.sub(r"%\{(\w+)\}", lambda m: PATTERNS[m.group(1)], p)


def to_ere(p):
    """PCRE2 subset used here -> GNU ERE with the same set of matching lines."""
    p = expand(p)
    out, i, in_br = [], 0, False
    while i < len(p):
        c = p[i]
        if in_br:
            if c == "\\" and p[i + 1] == "d":
                out.append("0-9"); i += 2; continue
            if c == "\\" and p[i + 1] == "]":
                out.append("]"); i += 2; continue  # only legal first in the bracket: '[^]]'
            if c == "]":
                in_br = False
            out.append(c); i += 1; continue
        if c == "[":
            in_br = True
            out.append(c); i += 1
            if p[i] == "^":
                out.append("^"); i += 1
            continue
        if p.startswith("(?:", i):
            out.append("("); i += 3; continue
        if p.startswith("(?<", i):
            i = p.index(">", i) + 1; out.append("("); continue
        if c == "\\" and p[i + 1] == "d":
            out.append("[0-9]"); i += 2; continue
        if c == "?" and out and out[-1] in ("*", "+", "}"):
            i += 1; continue  # lazy quantifier: the same lines match
        if c == "\\":
            out.append(p[i:i + 2]); i += 2; continue
        out.append(c); i += 1
    return "".join(out)


def to_re2(p):
    return expand(p).replace("(?<", "(?P<").replace("/", "\\/")


# ------------------------------------------------------------------------------------------
# Events shared by the sets.

E_HTTP = Ev("http_request", ACCESS_FULL, TS_ACCESS, {"status": "int", "bytes": "int", "request_time": "float"})

A_ERR = Al("HighErrorRate", "http_request", "5m", "ratio", {"of": "status >= 500", "above": 0.05, "min_count": 100},
           for_="5m", severity="high")
A_P95 = Al("SlowResponses", "http_request", "5m", "quantile", {"field": "request_time", "q": 0.95, "above": 2.0},
           for_="5m", severity="medium")
A_AVG = Al("SlowResponses", "http_request", "5m", "avg", {"field": "request_time", "above": 1.0},
           for_="5m", severity="medium")
A_429 = Al("TooManyRequests", "http_request", "5m", "count", {"where": "status == 429", "above": 100},
           severity="warning")
A_HOT = Al("HotClient", "http_request", "1m", "count", {"above": 100}, group_by=["ip"], severity="warning")


def mixed20():
    ev = [
        E_HTTP,
        Ev("http_429", ACCESS + r'"[^"]*" 429 ', TS_ACCESS),
        Ev("http_login_failed", ACCESS + r'"POST /login[^"]*" (?<status>40[13]) ', TS_ACCESS, {"status": "int"}),
        Ev("http_scanner", ACCESS + r'"[A-Z]+ (?<path>/(?:wp-login\.php|\.env|admin/config\.php|\.git/config))',
           TS_ACCESS),
        Ev("http_api", ACCESS + r'"(?<method>GET|POST|PUT|DELETE) (?<path>/api/v1/[a-z]+)[^"]*" (?<status>\d{3}) '
           r'\d+ "[^"]*" "[^"]*" (?<request_time>\d+\.\d+)$', TS_ACCESS, {"status": "int", "request_time": "float"}),
        Ev("app_log", JSON + r'"level":"(?<level>[a-z]+)","service":"(?<service>[^"]+)"', TS_JSON),
        Ev("app_error", JSON + r'"level":"error","service":"(?<service>[^"]+)","message":"(?<message>[^"]+)"',
           TS_JSON),
        Ev("app_slow", JSON + r'.*"latency_ms":(?<latency_ms>\d{4,})', TS_JSON, {"latency_ms": "int"}),
        Ev("app_db_refused", JSON + r'.*"message":"database connection refused"', TS_JSON),
        Ev("app_payment_declined", JSON + r'.*"service":"payments","message":"payment declined', TS_JSON),
        Ev("app_latency", JSON + r'.*"endpoint":"(?<endpoint>[^"]+)","method":"[A-Z]+","status":(?<status>\d+),'
           r'"latency_ms":(?<latency_ms>\d+)', TS_JSON, {"status": "int", "latency_ms": "int"}),
        Ev("ssh_failed_login", SYSLOG + r'sshd\[\d+\]: Failed password for (?:invalid user )?(?<user>\S+) from '
           r'(?<ip>%{IP}) port \d+', TS_SYSLOG),
        Ev("ssh_invalid_user", SYSLOG + r'sshd\[\d+\]: Invalid user (?<user>\S+) from (?<ip>%{IP})', TS_SYSLOG),
        Ev("ssh_accepted", SYSLOG + r'sshd\[\d+\]: Accepted (?<method>\S+) for (?<user>\S+) from (?<ip>%{IP})',
           TS_SYSLOG),
        Ev("sudo_not_sudoer", SYSLOG + r'sudo: +(?<user>\S+) : user NOT in sudoers', TS_SYSLOG),
        Ev("oom_kill", SYSLOG + r'kernel: \[[\d. ]+\] Out of memory: Killed process \d+ \((?<proc>[^)]+)\)',
           TS_SYSLOG),
        Ev("segfault", SYSLOG + r'kernel: \[[\d. ]+\] (?<proc>[^\[ ]+)\[\d+\]: segfault at ', TS_SYSLOG),
        Ev("pg_error", SYSLOG + r'postgres\[\d+\]: \[\d+-\d+\] .*? UTC \[\d+\] (?<pglevel>ERROR|FATAL|PANIC): ',
           TS_SYSLOG),
        Ev("redis_oom", SYSLOG + r'redis\[\d+\]: .*# Out Of Memory', TS_SYSLOG),
        Ev("cron_backup", SYSLOG + r'CRON\[\d+\]: \((?<user>[^)]+)\) CMD \(/usr/local/bin/backup\.sh\)', TS_SYSLOG),
    ]
    al = [
        A_ERR,
        Al("RateLimited", "http_429", "5m", "count", {"above": 100}),
        Al("LoginFailures", "http_login_failed", "5m", "count", {"above": 50}, group_by=["ip"]),
        Al("WebScanner", "http_scanner", "10m", "count", {"above": 5}, group_by=["ip"]),
        Al("ApiSlow", "http_api", "5m", "max", {"field": "request_time", "above": 10.0}, group_by=["path"]),
        Al("AppErrorRatio", "app_log", "5m", "ratio", {"of": 'level == "error"', "above": 0.08, "min_count": 50},
           group_by=["service"], severity="high"),
        Al("AppErrors", "app_error", "5m", "count", {"above": 3000}, group_by=["service"]),
        Al("AppSlowRequests", "app_slow", "5m", "count", {"above": 400}),
        Al("DatabaseRefused", "app_db_refused", "1m", "count", {"above": 1000}, severity="critical"),
        Al("PaymentDeclinedSpike", "app_payment_declined", "5m", "spike", {"factor": 3, "min_count": 50}),
        Al("EndpointLatency", "app_latency", "5m", "avg", {"field": "latency_ms", "above": 200},
           group_by=["endpoint"]),
        Al("SshBruteForce", "ssh_failed_login", "5m", "count", {"above": 10}, group_by=["ip"], severity="critical"),
        Al("SshInvalidUsers", "ssh_invalid_user", "5m", "count", {"above": 20}, group_by=["ip"]),
        Al("SshLoginsBurst", "ssh_accepted", "10m", "count", {"above": 2000}),
        Al("SudoDenied", "sudo_not_sudoer", "5m", "count", {"above": 0}, group_by=["user"], severity="high"),
        Al("OomKills", "oom_kill", "5m", "count", {"above": 300}, group_by=["proc"], severity="high"),
        Al("Segfaults", "segfault", "5m", "count", {"above": 300}, group_by=["proc"]),
        Al("PostgresErrors", "pg_error", "5m", "count", {"above": 600}, group_by=["pglevel"]),
        Al("RedisOom", "redis_oom", "5m", "count", {"above": 0}, severity="critical"),
        Al("BackupMissing", "cron_backup", "2m", "absent", {}),
    ]
    return ev, al


# ---- 80 more for mixed-100: many specific signatures, most of which match few or no lines.
SERVICES = ["api-gateway", "checkout", "catalog", "auth", "payments", "search", "notifications"]
API = ["products", "cart", "orders", "users", "recommendations", "events"]
SITE = ["/products", "/search", "/cart", "/checkout", "/login", "/account", "/static/js", "/static/css"]
RARE_ACCESS = [r'(?:union(?:\+|%20)select|%27(?:\+|%20)or(?:\+|%20)1)', r'\.\./\.\./', r'/etc/passwd',
               r'<script', r'/cgi-bin/', r'/phpmyadmin', r'/actuator/env', r'/xmlrpc\.php']
SYSLOG_SIGS = [
    ("kernel_martian", r'kernel: \[[\d. ]+\] IPv4: martian source (?<src>\S+) from (?<origin>\S+)'),
    ("kernel_synflood", r'kernel: \[[\d. ]+\] TCP: request_sock_TCP: Possible SYN flooding on port (?<port>\d+)'),
    ("kernel_conntrack", r'kernel: \[[\d. ]+\] nf_conntrack: table full, dropping packet'),
    ("kernel_apparmor", r'kernel: \[[\d. ]+\] audit: type=1400 .*apparmor="DENIED" operation="(?<op>[^"]+)"'),
    ("kernel_ext4_remount", r'kernel: \[[\d. ]+\] EXT4-fs \((?<dev>\w+)\): re-mounted'),
    ("systemd_failed", r'systemd\[1\]: (?<unit>\S+)\.service: Main process exited, code=exited, status=(?<code>\d+)'),
    ("systemd_session", r'systemd\[1\]: Started Session \d+ of User (?<user>\w+)\.'),
    ("pam_session", r'sshd\[\d+\]: pam_unix\(sshd:session\): session opened for user (?<user>\w+)'),
    ("sudo_command", r'sudo: +(?<user>\S+) : TTY=\S+ ; PWD=\S+ ; USER=root ; COMMAND=(?<cmd>\S+)'),
    ("pg_deadlock", r'postgres\[\d+\]: .* ERROR:  deadlock detected'),
    ("pg_auth_failed", r'postgres\[\d+\]: .* FATAL:  password authentication failed for user "(?<user>[^"]+)"'),
    ("pg_slow_query", r'postgres\[\d+\]: .* LOG:  duration: (?<ms>\d{4,}\.\d+) ms'),
    ("pg_checkpoint", r'postgres\[\d+\]: .* LOG:  checkpoint complete: wrote (?<buffers>\d+) buffers'),
    ("redis_bgsave", r'redis\[\d+\]: \d+:M .* \* Background saving started by pid (?<pid>\d+)'),
    ("redis_clients", r'redis\[\d+\]: \d+:M .* # WARNING: (?<clients>\d+) clients connected'),
    ("ssh_kex_error", r'sshd\[\d+\]: error: kex_exchange_identification: (?<why>.*)'),
    ("ssh_preauth_closed", r'sshd\[\d+\]: Connection closed by (?<ip>%{IP}) port \d+ \[preauth\]'),
    ("cron_php", r'CRON\[\d+\]: \((?<user>[^)]+)\) CMD \(/usr/bin/php '),
    ("cron_anacron", r'CRON\[\d+\]: \((?<user>[^)]+)\) CMD \(test -x /usr/sbin/anacron'),
    ("logrotate_done", r'systemd\[1\]: logrotate\.service: Succeeded\.'),
]
NEVER = [  # signatures real rule sets carry that (almost) never match
    ("kernel_panic", SYSLOG + r'kernel: .*Kernel panic - not syncing'),
    ("kernel_bug", SYSLOG + r'kernel: .*BUG: unable to handle'),
    ("disk_io_error", SYSLOG + r'kernel: .*I/O error, dev (?<dev>\w+), sector \d+'),
    ("fs_readonly", SYSLOG + r'.*Read-only file system'),
    ("disk_full", SYSLOG + r'.*No space left on device'),
    ("too_many_files", SYSLOG + r'.*Too many open files'),
    ("app_panic", JSON + r'.*"message":"(?:panic|fatal error): '),
    ("app_traceback", JSON + r'.*Traceback \(most recent call last\)'),
    ("app_java_oom", JSON + r'.*java\.lang\.OutOfMemoryError'),
]


def mixed100():
    ev, al = mixed20()
    for svc in SERVICES:
        n = svc.replace("-", "_")
        ev.append(Ev("svc_%s_warn" % n, JSON + r'"level":"warn","service":"%s","message":"(?<message>[^"]+)"' % svc,
                     TS_JSON))
        al.append(Al("%sWarnings" % n.title().replace("_", ""), "svc_%s_warn" % n, "5m", "count", {"above": 5000},
                     group_by=["message"]))
        ev.append(Ev("svc_%s_err" % n, JSON + r'"level":"error","service":"%s","message":"(?<message>[^"]+)"' % svc,
                     TS_JSON))
        al.append(Al("%sErrorSpike" % n.title().replace("_", ""), "svc_%s_err" % n, "5m", "spike",
                     {"factor": 4, "min_count": 100}))
    for api in API:
        ev.append(Ev("api_%s" % api, ACCESS + r'"(?<method>[A-Z]+) /api/v1/%s[^"]*" (?<status>\d{3}) \d+ "[^"]*" '
                     r'"[^"]*" (?<request_time>[\d.]+)$' % api, TS_ACCESS,
                     {"status": "int", "request_time": "float"}))
        al.append(Al("Api%sErrors" % api.title(), "api_%s" % api, "5m", "ratio",
                     {"of": "status >= 500", "above": 0.1, "min_count": 200}))
        ev.append(Ev("api_%s_slow" % api, ACCESS + r'"[A-Z]+ /api/v1/%s[^"]*" \d{3} \d+ "[^"]*" "[^"]*" '
                     r'(?<request_time>[2-9]\.\d+|\d\d+\.\d+)$' % api, TS_ACCESS, {"request_time": "float"}))
        al.append(Al("Api%sSlow" % api.title(), "api_%s_slow" % api, "5m", "count", {"above": 1000}))
    for i, page in enumerate(SITE):
        name = "page_%s" % page.strip("/").replace("/", "_")
        ev.append(Ev(name, ACCESS + r'"GET (?<path>%s[^ "]*)[^"]*" (?<status>\d{3}) (?<bytes>\d+)' % re.escape(page)
                     .replace("\\/", "/"), TS_ACCESS, {"status": "int", "bytes": "int"}))
        kind = ["sum", "avg", "max", "count"][i % 4]
        spec = {"count": {"where": "status >= 400", "above": 5000}, "sum": {"field": "bytes", "above": 5e10},
                "avg": {"field": "bytes", "above": 1e6}, "max": {"field": "bytes", "above": 5e7}}[kind]
        al.append(Al("Page%s" % name.title().replace("_", ""), name, "5m", kind, spec))
    for i, sig in enumerate(RARE_ACCESS):
        ev.append(Ev("attack_%d" % i, ACCESS + r'"[A-Z]+ [^"]*%s' % sig, TS_ACCESS))
        al.append(Al("Attack%d" % i, "attack_%d" % i, "10m", "count", {"above": 0}, group_by=["ip"], severity="high"))
    for status in ("400", "401", "403", "404", "405", "499", "502", "503", "504"):
        ev.append(Ev("http_%s" % status, ACCESS + r'"[^"]*" %s ' % status, TS_ACCESS))
        al.append(Al("Http%sBurst" % status, "http_%s" % status, "5m", "spike", {"factor": 5, "min_count": 500}))
    for name, sig in SYSLOG_SIGS:
        ev.append(Ev(name, SYSLOG + sig, TS_SYSLOG))
        gb = [g for g in ("user", "ip", "unit", "dev") if "(?<%s>" % g in sig][:1]
        al.append(Al("".join(w.title() for w in name.split("_")), name, "5m", "count", {"above": 10000},
                     group_by=gb))
    for name, sig in NEVER:
        ev.append(Ev(name, sig, TS_JSON if sig.startswith(JSON) else TS_SYSLOG))
        al.append(Al("".join(w.title() for w in name.split("_")), name, "10m", "count", {"above": 0},
                     severity="critical"))
    assert len(al) == 100, len(al)
    return ev, al


SETS = {
    "nginx-1": ([E_HTTP], [A_ERR]),
    "web": ([E_HTTP], [A_ERR, A_P95, A_429, A_HOT]),
    "web-today": ([E_HTTP], [A_ERR, A_AVG, A_429, A_HOT]),
    "mixed-20": mixed20(),
    "mixed-100": mixed100(),
}
DESCR = {
    "nginx-1": "one nginx rule with captures: the 5xx ratio",
    "web": "the web access rules: 5xx ratio, p95 request time (quantile), 429s, one IP > 100 req/min",
    "web-today": "the web rules with avg request time instead of the p95 quantile (runs without quantile)",
    "mixed-20": "20 rules over access, JSON and syslog lines of the mix corpus",
    "mixed-100": "100 rules over the mix corpus: mixed-20 plus 80 specific signatures",
}


# ------------------------------------------------------------------------------------------
def yq(s):
    return "'" + str(s).replace("'", "''") + "'"


def yaml_num(v):
    if isinstance(v, float) and v.is_integer() and abs(v) >= 1e6:
        return str(int(v))
    return str(v)


def write_yaml(name, ev, al):
    used = {a.event for a in al}
    out = ["# %s: %s." % (name, DESCR[name]),
           "# Generated by bench/rulesets.py (edit that, then run it); used by bench/run.sh.", ""]
    if any("%{" in e.match for e in ev):
        out += ["patterns:"] + ["  %s: %s" % (k, yq(v)) for k, v in PATTERNS.items()] + [""]
    out.append("events:")
    for e in ev:
        assert e.name in used, e.name
        out.append("  - name: %s" % e.name)
        out.append("    match: %s" % yq(e.match))
        if e.fields:
            out.append("    fields: {%s}" % ", ".join("%s: %s" % kv for kv in e.fields.items()))
        out.append("    timestamp: {field: %s, format: %s}" % (e.ts[0], yq(e.ts[1])))
    out += ["", "alerts:"]
    for a in al:
        out.append("  - name: %s" % a.name)
        out.append("    event: %s" % a.event)
        if a.group_by:
            out.append("    group_by: [%s]" % ", ".join(a.group_by))
        out.append("    window: %s" % a.window)
        parts = []
        for k, v in a.spec.items():
            parts.append("%s: %s" % (k, yq(v) if isinstance(v, str) else yaml_num(v)))
        out.append("    %s: {%s}" % (a.kind, ", ".join(parts)))
        if a.for_:
            out.append("    for: %s" % a.for_)
        out.append("    severity: %s" % a.severity)
    return "\n".join(out) + "\n"


def mtail_cond(expr):
    """The few expressions used in `of`/`where`, in mtail syntax."""
    m = re.fullmatch(r'(\w+) (>=|==|>) (\d+)', expr)
    if m:
        return "$%s %s %s" % m.groups()
    m = re.fullmatch(r'(\w+) == "([^"]*)"', expr)
    if m:
        return '$%s == "%s"' % m.groups()
    raise ValueError(expr)


def write_mtail(name, ev, al):
    out = ["# %s: the mtail equivalent of bench/rules/%s.yaml (%s)." % (name, name, DESCR[name]),
           "# Generated by bench/rulesets.py. Same regexes (RE2 syntax); a counter per event, labelled by",
           "# the alert's group_by; the alert's condition and summed field; the timestamp parsed.", ""]
    decl, body = [], []
    for e in ev:
        als = [a for a in al if a.event == e.name]
        gb = als[0].group_by if als else []
        by = (" by " + ", ".join(gb)) if gb else ""
        decl.append("counter %s_total%s" % (e.name, by))
        lbl = ("[" + ", ".join("$" + g for g in gb) + "]") if gb else ""
        stmts = ['  strptime($%s, "%s")' % (e.ts[0], e.ts[2]), "  %s_total%s++" % (e.name, lbl)]
        for a in als:
            cond = a.spec.get("of") or a.spec.get("where")
            if cond:
                decl.append("counter %s_matched%s" % (a.name, by))
                stmts.append("  %s {\n    %s_matched%s++\n  }" % (mtail_cond(cond), a.name, lbl))
            if "field" in a.spec:
                f = a.spec["field"]
                decl.append("counter %s_sum%s" % (a.name, by))
                stmts.append("  %s_sum%s += $%s" % (a.name, lbl, f))
        body.append("/%s/ {\n%s\n}\n" % (to_re2(e.match), "\n".join(stmts)))
    return "\n".join(out + decl + [""] + body)


def main():
    for d in ("rules", "patterns", "mtail"):
        os.makedirs(os.path.join(HERE, d), exist_ok=True)
    for name, (ev, al) in SETS.items():
        with open(os.path.join(HERE, "rules", name + ".yaml"), "w") as f:
            f.write(write_yaml(name, ev, al))
        with open(os.path.join(HERE, "patterns", name + ".pcre"), "w") as f:
            f.write("".join(expand(e.match) + "\n" for e in ev))
        with open(os.path.join(HERE, "patterns", name + ".ere"), "w") as f:
            f.write("".join(to_ere(e.match) + "\n" for e in ev))
        if name in ("nginx-1", "web-today", "mixed-20", "mixed-100"):
            os.makedirs(os.path.join(HERE, "mtail", name), exist_ok=True)
            with open(os.path.join(HERE, "mtail", name, name + ".mtail"), "w") as f:
                f.write(write_mtail(name, ev, al))


if __name__ == "__main__":
    main()
