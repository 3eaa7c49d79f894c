#!/usr/bin/env python3
"""gen.py: seeded generator of realistic log corpora for the benchmark (standard library only).

    gen.py --kind nginx|json|syslog|mix --size 200MB --seed 1 --out FILE [--start EPOCH|now] [--rate N]

Kinds:
  nginx   nginx/Apache "combined" access log plus $request_time:
          IP - USER [10/Mar/2024:00:00:00 +0000] "GET /path HTTP/1.1" STATUS BYTES "REF" "UA" 0.123
          Heavy-hitter IPs (Zipf over a pool, plus crawlers), weighted paths, ~90 % 2xx/3xx,
          some 4xx, 1-3 % 5xx, 429s, log-normal request times; incidents (5xx bursts, slow
          periods, 429 floods, a scraper IP) come and go on a seeded schedule.
  json    application logs, one JSON object per line: timestamp (RFC 3339, ms, Z), level,
          service, message, trace_id, metadata.{endpoint,method,status,latency_ms,user_id}.
  syslog  RFC 3164 lines: sshd failures/accepts (with brute-force bursts), sudo, CRON,
          kernel OOM/segfault, postgres and redis messages, systemd.
  mix     the three interleaved on one clock (50 % access, 30 % JSON, 20 % syslog).

Time starts at --start (default 2024-03-10T00:00:00Z; `now` for the live-daemon workload) and
advances at --rate lines per second of event time. The output is cut at the first line end at or
after --size bytes (1 MB = 10^6 bytes). The same arguments give the same bytes.
"""
import argparse
import bisect
import itertools
import math
import random
import sys
import time

DEFAULT_START = 1710028800  # 2024-03-10T00:00:00Z
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse_size(s):
    s = s.strip().upper().rstrip("B")
    mult = 1
    for suf, m in (("K", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12)):
        if s.endswith(suf):
            s, mult = s[:-1], m
            break
    return int(float(s) * mult)


def cum(weights):
    return list(itertools.accumulate(weights))


def zipf_weights(n, s):
    return [1.0 / (i + 1) ** s for i in range(n)]


class Clock:
    """Per-second timestamp strings, rendered once per second."""

    def __init__(self, start):
        self.t = start
        self._render()

    def _render(self):
        g = time.gmtime(self.t)
        mon = MONTHS[g.tm_mon - 1]
        self.clf = "%02d/%s/%04d:%02d:%02d:%02d +0000" % (g.tm_mday, mon, g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)
        self.iso = "%04d-%02d-%02dT%02d:%02d:%02d" % (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)
        self.bsd = "%s %2d %02d:%02d:%02d" % (mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)
        self.pg = "%04d-%02d-%02d %02d:%02d:%02d" % (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)
        self.redis = "%02d %s %04d %02d:%02d:%02d" % (g.tm_mday, mon, g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)

    def tick(self):
        self.t += 1
        self._render()


class Incidents:
    """A seeded schedule of incidents: (kind, start, end). Between 3 and 15 minutes apart,
    each lasting 1.5 to 10 minutes;
    5xx bursts and slow periods are the most frequent."""

    KINDS = ["5xx", "slow", "429", "scraper", "bruteforce", "oom", "dberror"]
    WEIGHTS = [3, 2, 1, 1, 1, 1, 1]

    def __init__(self, rng, start):
        self.rng = rng
        self.next_at = start + rng.randint(60, 180)
        self.active = []

    def at(self, t):
        while t >= self.next_at:
            kind = self.rng.choices(self.KINDS, weights=self.WEIGHTS)[0]
            dur = self.rng.randint(90, 600)
            self.active.append((kind, self.next_at, self.next_at + dur))
            self.next_at += self.rng.randint(180, 900)
        self.active = [a for a in self.active if a[2] > t]
        return {a[0] for a in self.active if a[1] <= t}


def rand_ip(rng):
    while True:
        a = rng.choice([1, 5, 23, 31, 37, 45, 46, 62, 66, 77, 78, 80, 81, 82, 83, 85, 86, 89, 91, 93, 94,
                        95, 98, 104, 109, 128, 141, 146, 151, 157, 162, 172, 176, 178, 185, 188, 190,
                        193, 194, 195, 203, 209, 212, 213, 217])
        return "%d.%d.%d.%d" % (a, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


UAS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", 30),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15", 12),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1", 14),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 Mobile Safari/537.36", 10),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0", 6),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0", 6),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 5),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 2),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 1),
    ("curl/7.88.1", 2),
    ("python-requests/2.31.0", 2),
    ("Go-http-client/1.1", 2),
    ("okhttp/4.12.0", 3),
    ("kube-probe/1.29", 3),
    ("Prometheus/2.50.1", 1),
    ("-", 1),
]

REFS = [("-", 60), ("https://www.example.com/", 15), ("https://www.example.com/products", 8),
        ("https://www.google.com/", 10), ("https://www.bing.com/", 2), ("https://shop.example.com/cart", 5)]

# (method, path template, weight, typical bytes, 304-able)
PATHS = [
    ("GET", "/", 60, 14200), ("GET", "/index.html", 8, 14200), ("GET", "/favicon.ico", 20, 1150),
    ("GET", "/robots.txt", 4, 120), ("GET", "/static/css/main.{h}.css", 40, 48200),
    ("GET", "/static/js/app.{h}.js", 40, 231000), ("GET", "/static/js/vendor.{h}.js", 25, 512000),
    ("GET", "/static/img/logo.svg", 20, 3400), ("GET", "/static/img/hero-{n}.webp", 15, 84000),
    ("GET", "/products", 25, 38000), ("GET", "/products/{id}", 60, 22000), ("GET", "/products/{id}/reviews", 10, 9000),
    ("GET", "/search?q={q}", 20, 18000), ("GET", "/cart", 10, 12000), ("POST", "/cart/items", 8, 320),
    ("GET", "/checkout", 5, 16000), ("POST", "/checkout/confirm", 2, 540), ("GET", "/login", 6, 7000),
    ("POST", "/login", 5, 210), ("GET", "/account", 4, 9800), ("GET", "/api/v1/products?page={n}", 30, 6200),
    ("GET", "/api/v1/products/{id}", 45, 1800), ("GET", "/api/v1/cart", 25, 950), ("POST", "/api/v1/cart", 12, 410),
    ("GET", "/api/v1/users/{id}", 15, 720), ("PUT", "/api/v1/users/{id}", 2, 380), ("POST", "/api/v1/orders", 4, 1300),
    ("GET", "/api/v1/orders/{id}", 6, 2100), ("GET", "/api/v1/recommendations?user={id}", 10, 4100),
    ("POST", "/api/v1/events", 30, 2), ("GET", "/healthz", 15, 2), ("GET", "/metrics", 3, 18000),
    ("GET", "/wp-login.php", 1, 162), ("GET", "/.env", 1, 162), ("GET", "/admin/config.php", 1, 162),
]

LEVELS_JSON = [("info", 80), ("debug", 8), ("warn", 8), ("error", 4)]
SERVICES = ["api-gateway", "checkout", "catalog", "auth", "payments", "search", "notifications"]
JSON_MSGS = {
    "info": ["request completed", "cache hit", "order created", "payment authorized", "user logged in",
             "search executed", "email queued", "inventory reserved", "session refreshed"],
    "debug": ["cache miss", "sql query", "feature flag evaluated", "retrying upstream call"],
    "warn": ["slow query", "upstream latency above threshold", "retry budget low", "deprecated api version used",
             "rate limit approaching"],
    "error": ["upstream timeout", "payment declined by processor", "database connection refused",
              "unhandled exception", "circuit breaker open", "failed to publish event"],
}
ENDPOINTS = ["/api/v1/products", "/api/v1/products/:id", "/api/v1/cart", "/api/v1/orders", "/api/v1/orders/:id",
             "/api/v1/users/:id", "/api/v1/payments", "/api/v1/search", "/api/v1/login", "/api/v1/recommendations"]

USERS = ["root", "admin", "test", "user", "oracle", "postgres", "ubuntu", "git", "guest", "ftp", "pi", "deploy",
         "jenkins", "support", "info", "mysql", "www", "nagios", "ansible", "docker"]
STAFF = ["alice", "bob", "carol", "dave", "erin"]
HOSTS = ["web-01", "web-02", "db-01", "cache-01", "app-01", "app-02"]


class Gen:
    def __init__(self, seed, start):
        self.rng = random.Random(seed)
        rng = self.rng
        self.clock = Clock(start)
        self.incidents = Incidents(random.Random(seed * 7919 + 1), start)
        # Client IPs: a Zipf pool (a few heavy hitters) plus crawlers/office NATs.
        self.ips = [rand_ip(rng) for _ in range(20000)]
        self.ip_cw = cum(zipf_weights(len(self.ips), 1.07))
        self.scraper = rand_ip(rng)
        self.bad_ips = [rand_ip(rng) for _ in range(40)]  # ssh scanners
        # Requests pre-rendered: '"GET /path HTTP/1.1"' with its typical size.
        reqs, rw = [], []
        for method, tmpl, w, size in PATHS:
            variants = 1
            if "{id}" in tmpl or "{q}" in tmpl:
                variants = 400
            elif "{h}" in tmpl:
                variants = 3
            elif "{n}" in tmpl:
                variants = 12
            for v in range(variants):
                p = tmpl.replace("{id}", str(rng.randint(1, 99999))).replace("{h}", "%08x" % rng.getrandbits(32))
                p = p.replace("{n}", str(v + 1)).replace("{q}", rng.choice(["shoes", "red+dress", "laptop", "usb-c",
                                                                          "coffee", "gift", "sale", "tent"]) + str(v))
                proto = "HTTP/2.0" if rng.random() < 0.6 else "HTTP/1.1"
                reqs.append(('"%s %s %s"' % (method, p, proto), size, tmpl.startswith("/static")))
                rw.append(w / variants * (1 + rng.random()))
        self.reqs = reqs
        self.req_cw = cum(rw)
        self.uas = [u for u, _ in UAS]
        self.ua_cw = cum([w for _, w in UAS])
        self.refs = [r for r, _ in REFS]
        self.ref_cw = cum([w for _, w in REFS])
        # Request-time pools (log-normal), formatted once.
        self.rt_normal = ["%.3f" % min(rng.lognormvariate(math.log(0.045), 1.0), 59.999) for _ in range(8192)]
        self.rt_slow = ["%.3f" % min(rng.lognormvariate(math.log(0.9), 0.9), 59.999) for _ in range(8192)]
        self.bytes_pool = [str(int(rng.lognormvariate(0, 0.35) * 1000)) for _ in range(1024)]
        self.json_lat = [str(max(1, int(rng.lognormvariate(math.log(25), 1.1)))) for _ in range(4096)]
        self.json_lat_slow = [str(max(1, int(rng.lognormvariate(math.log(400), 1.0)))) for _ in range(4096)]
        # JSON templates: (level, prefix-with-service-and-message) rendered once.
        self.json_levels = [l for l, _ in LEVELS_JSON]
        self.json_level_cw = cum([w for _, w in LEVELS_JSON])
        self.ms = ["%03d" % i for i in range(1000)]

    # ---- nginx ---------------------------------------------------------------------------
    def status_table(self, active):
        # (status, weight); ~90 % 2xx/3xx, ~7 % 4xx, ~1.5 % 5xx, 0.01 % 429 in normal times.
        p5 = 0.015 if "5xx" not in active else 0.12
        p429 = 0.0001 if "429" not in active else 0.02
        table = [("200", 0.80), ("201", 0.01), ("204", 0.02), ("206", 0.002), ("301", 0.01), ("302", 0.02),
                 ("304", 0.04), ("400", 0.008), ("401", 0.01), ("403", 0.006), ("404", 0.04), ("405", 0.001),
                 ("499", 0.003), ("429", p429), ("500", p5 * 0.4), ("502", p5 * 0.35), ("503", p5 * 0.2),
                 ("504", p5 * 0.05)]
        return [s for s, _ in table], cum([w for _, w in table])

    def nginx_lines(self, n, active):
        rng = self.rng
        ts = self.clock.clf
        statuses, scw = self.status_table(active)
        ips = rng.choices(self.ips, cum_weights=self.ip_cw, k=n)
        if "scraper" in active:
            for i in range(0, n, 7):
                ips[i] = self.scraper
        reqs = rng.choices(self.reqs, cum_weights=self.req_cw, k=n)
        sts = rng.choices(statuses, cum_weights=scw, k=n)
        uas = rng.choices(self.uas, cum_weights=self.ua_cw, k=n)
        refs = rng.choices(self.refs, cum_weights=self.ref_cw, k=n)
        rtp = self.rt_slow if "slow" in active else self.rt_normal
        rts = rng.choices(rtp, k=n)
        bys = rng.choices(self.bytes_pool, k=n)
        out = []
        for ip, (req, size, static), st, ua, ref, rt, by in zip(ips, reqs, sts, uas, refs, rts, bys):
            if st[0] == "2":
                b = str(size * int(by) // 1000) if st != "204" else "0"
            elif st == "304" or st[0] == "3":
                b = "0"
            else:
                b = "162" if st != "499" else "0"
            out.append('%s - - [%s] %s %s %s "%s" "%s" %s\n' % (ip, ts, req, st, b, ref, ua, rt))
        return out

    # ---- JSON ----------------------------------------------------------------------------
    def json_lines(self, n, active):
        rng = self.rng
        iso = self.clock.iso
        lv_cw = self.json_level_cw
        if "dberror" in active:
            lv_cw = cum([70, 6, 10, 14])
        levels = rng.choices(self.json_levels, cum_weights=lv_cw, k=n)
        svcs = rng.choices(SERVICES, k=n)
        eps = rng.choices(ENDPOINTS, k=n)
        lats = rng.choices(self.json_lat_slow if "slow" in active else self.json_lat, k=n)
        mss = sorted(rng.choices(self.ms, k=n))
        out = []
        for lv, svc, ep, lat, ms in zip(levels, svcs, eps, lats, mss):
            msg = rng.choice(JSON_MSGS[lv])
            status = 200 if lv in ("info", "debug") else (429 if msg == "rate limit approaching" else
                                                           (500 if lv == "error" else 200))
            if lv == "error" and "dberror" in active and rng.random() < 0.5:
                msg = "database connection refused"
            out.append('{"timestamp":"%s.%sZ","level":"%s","service":"%s","message":"%s","trace_id":"%016x",'
                       '"metadata":{"endpoint":"%s","method":"%s","status":%d,"latency_ms":%s,"user_id":%d}}\n'
                       % (iso, ms, lv, svc, msg, rng.getrandbits(64), ep,
                          "POST" if ep in ("/api/v1/orders", "/api/v1/payments", "/api/v1/login") else "GET",
                          status, lat, rng.randint(1, 250000)))
        return out

    # ---- syslog --------------------------------------------------------------------------
    def syslog_lines(self, n, active):
        rng = self.rng
        c = self.clock
        h = c.bsd
        out = []
        brute = "bruteforce" in active
        for _ in range(n):
            host = rng.choice(HOSTS)
            r = rng.random()
            pid = rng.randint(300, 65000)
            if brute and r < 0.35:
                ip = self.bad_ips[rng.randrange(3)]
                u = rng.choice(USERS)
                inv = "invalid user " if u not in ("root", "git") else ""
                line = "%s %s sshd[%d]: Failed password for %s%s from %s port %d ssh2" % (
                    h, host, pid, inv, u, ip, rng.randint(1024, 65535))
            elif r < 0.22:
                ip = rng.choice(self.bad_ips) if rng.random() < 0.8 else rand_ip(rng)
                u = rng.choice(USERS)
                inv = "invalid user " if u not in ("root", "git") else ""
                line = "%s %s sshd[%d]: Failed password for %s%s from %s port %d ssh2" % (
                    h, host, pid, inv, u, ip, rng.randint(1024, 65535))
            elif r < 0.30:
                ip = rng.choice(self.bad_ips)
                line = "%s %s sshd[%d]: Invalid user %s from %s port %d" % (
                    h, host, pid, rng.choice(USERS), ip, rng.randint(1024, 65535))
            elif r < 0.38:
                line = "%s %s sshd[%d]: Connection closed by %s port %d [preauth]" % (
                    h, host, pid, rng.choice(self.bad_ips), rng.randint(1024, 65535))
            elif r < 0.42:
                u = rng.choice(STAFF)
                line = "%s %s sshd[%d]: Accepted publickey for %s from 10.0.%d.%d port %d ssh2: ED25519 SHA256:%s" % (
                    h, host, pid, u, rng.randint(0, 3), rng.randint(2, 250), rng.randint(1024, 65535),
                    "%032x" % rng.getrandbits(128))
            elif r < 0.46:
                line = "%s %s sshd[%d]: pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)" % (
                    h, host, pid, rng.choice(STAFF), rng.randint(1000, 1010))
            elif r < 0.50:
                u = rng.choice(STAFF)
                cmd = rng.choice(["/usr/bin/systemctl restart nginx", "/usr/bin/journalctl -u app",
                                  "/usr/bin/apt-get upgrade", "/bin/cat /var/log/syslog", "/usr/bin/docker ps"])
                line = "%s %s sudo: %8s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=%s" % (
                    h, host, u, rng.randint(0, 4), u, cmd)
            elif r < 0.505:
                u = rng.choice(["intern", "www-data", "guest"])
                line = "%s %s sudo: %8s : user NOT in sudoers ; TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=/bin/bash" % (
                    h, host, u, rng.randint(0, 4), u)
            elif r < 0.66:
                line = "%s %s CRON[%d]: (%s) CMD (%s)" % (h, host, pid, rng.choice(["root", "www-data", "postgres"]),
                                                          rng.choice(["/usr/local/bin/backup.sh",
                                                                      "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
                                                                      "/usr/bin/php /var/www/cron.php",
                                                                      "test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily"]))
            elif r < 0.70:
                line = "%s %s systemd[1]: %s" % (h, host, rng.choice([
                    "Started Session %d of User %s." % (rng.randint(1, 9999), rng.choice(STAFF)),
                    "Starting Daily apt download activities...", "logrotate.service: Succeeded.",
                    "Finished Rotate log files.", "app.service: Main process exited, code=exited, status=1/FAILURE"]))
            elif r < 0.80:
                kind = rng.random()
                if kind < 0.75:
                    line = "%s db-01 postgres[%d]: [%d-1] %s.%s UTC [%d] LOG:  checkpoint complete: wrote %d buffers (%.1f%%); 0 WAL file(s) added, 0 removed, %d recycled" % (
                        h, pid, rng.randint(1, 99), c.pg, rng.choice(self.ms), pid, rng.randint(10, 9000),
                        rng.random() * 10, rng.randint(0, 5))
                elif kind < 0.93 and "dberror" not in active:
                    line = "%s db-01 postgres[%d]: [%d-1] %s.%s UTC [%d] LOG:  duration: %d.%03d ms  statement: SELECT * FROM orders WHERE user_id = $1" % (
                        h, pid, rng.randint(1, 99), c.pg, rng.choice(self.ms), pid, rng.randint(1, 4000), rng.randint(0, 999))
                elif kind < 0.97:
                    line = "%s db-01 postgres[%d]: [%d-1] %s.%s UTC [%d] ERROR:  deadlock detected" % (
                        h, pid, rng.randint(1, 99), c.pg, rng.choice(self.ms), pid)
                else:
                    line = '%s db-01 postgres[%d]: [%d-1] %s.%s UTC [%d] FATAL:  password authentication failed for user "%s"' % (
                        h, pid, rng.randint(1, 99), c.pg, rng.choice(self.ms), pid, rng.choice(["app", "report", "postgres"]))
            elif r < 0.90:
                line = "%s cache-01 redis[%d]: %d:M %s.%s %s" % (h, pid, pid, c.redis, rng.choice(self.ms), rng.choice([
                    "* Background saving started by pid %d" % rng.randint(1000, 60000),
                    "* DB saved on disk", "* Background saving terminated with success",
                    "* 10 changes in 300 seconds. Saving...",
                    "# WARNING: 32 clients connected (max 10000)"] + (["# Out Of Memory allocating 1048576 bytes!"]
                                                                      if "oom" in active else [])))
            elif r < 0.985:
                line = "%s %s kernel: [%d.%06d] %s" % (h, host, rng.randint(1000, 9999999), rng.randint(0, 999999), rng.choice([
                    "IPv4: martian source 10.0.0.255 from 10.0.0.1, on dev eth0",
                    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
                    "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
                    "nf_conntrack: table full, dropping packet",
                    "audit: type=1400 audit(%d.123:99): apparmor=\"DENIED\" operation=\"open\"" % c.t]))
            elif r < 0.995 or "oom" in active:
                pid2 = rng.randint(300, 65000)
                line = rng.choice([
                    "%s %s kernel: [%d.%06d] Out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:0kB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:0" % (
                        h, host, rng.randint(1000, 9999999), rng.randint(0, 999999), pid2,
                        rng.choice(["java", "python3", "node", "postgres"]), rng.randint(10**6, 10**7),
                        rng.randint(10**5, 10**7), rng.randint(0, 1001), rng.randint(1000, 30000)),
                    "%s %s kernel: [%d.%06d] %s[%d]: segfault at %x ip %016x sp %016x error %d in %s[%x+%x]" % (
                        h, host, rng.randint(1000, 9999999), rng.randint(0, 999999), rng.choice(["app", "worker", "php-fpm"]),
                        pid2, rng.getrandbits(16), rng.getrandbits(48), rng.getrandbits(48), rng.choice([4, 6, 14]),
                        rng.choice(["libc.so.6", "app", "libssl.so.3"]), rng.getrandbits(44), rng.getrandbits(20))])
            else:
                line = "%s %s sshd[%d]: error: kex_exchange_identification: Connection closed by remote host" % (h, host, pid)
            out.append(line + "\n")
        return out


SHARES = {"nginx": (1, 0, 0), "json": (0, 1, 0), "syslog": (0, 0, 1), "mix": (0.5, 0.3, 0.2)}


def second_lines(g, kind, n, active):
    """About n lines of kind for one second of the clock: the mix interleaves its three kinds."""
    nn, nj, ns = (int(round(n * s)) for s in SHARES[kind])
    lines = []
    if nn:
        lines += g.nginx_lines(nn, active)
    if nj:
        lines += g.json_lines(nj, active)
    if ns:
        lines += g.syslog_lines(ns, active)
    if kind == "mix":
        g.rng.shuffle(lines)
    return lines


def generate(kind, size, seed, start, rate, write):
    g = Gen(seed, start)
    rng = g.rng
    total = 0
    buf = []
    bufbytes = 0
    while total < size:
        active = g.incidents.at(g.clock.t)
        # Slight variation of the per-second volume (diurnal-free, bursty enough for spikes).
        n = max(1, int(rate * (0.85 + 0.3 * rng.random())))
        chunk = "".join(second_lines(g, kind, n, active)).encode()
        if total + len(chunk) >= size:
            # cut at the first line end at or after `size`
            cut = chunk.find(b"\n", max(0, size - total - 1))
            chunk = chunk[:cut + 1] if cut >= 0 else chunk
        buf.append(chunk)
        bufbytes += len(chunk)
        total += len(chunk)
        if bufbytes >= 8 << 20:
            write(b"".join(buf))
            buf, bufbytes = [], 0
        g.clock.tick()
    if buf:
        write(b"".join(buf))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["nginx", "json", "syslog", "mix"], required=True)
    ap.add_argument("--size", default="200MB", help="e.g. 500KB, 200MB, 1GB (10^3 multiples)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default=str(DEFAULT_START), help="epoch seconds of the first line, or 'now'")
    ap.add_argument("--rate", type=int, default=0, help="lines per second of event time (default 2000; mix 3000)")
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    start = int(time.time()) if a.start == "now" else int(a.start)
    rate = a.rate or (3000 if a.kind == "mix" else 2000)
    out = sys.stdout.buffer if a.out == "-" else open(a.out, "wb")
    with out:
        generate(a.kind, parse_size(a.size), a.seed, start, rate, out.write)


if __name__ == "__main__":
    main()
