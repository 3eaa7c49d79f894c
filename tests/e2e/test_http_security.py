#!/usr/bin/env python3
"""test_http_security.py: the HTTP API answers only the operator, and secrets stay secret.

- http.token (from ${ENV}): the API needs `Authorization: Bearer TOKEN` (401 with
  WWW-Authenticate otherwise, wrong token too), /health, /metrics and / stay open; a Host that
  does not name the endpoint (DNS rebinding) is refused (403), so is a write from a foreign
  Origin (403), a write that is not application/json (415) and a body over 64 KiB (413);
  POST /api/reload reloads; each refusal is counted in logwarden_http_refused_total{reason}
  and logged, and the token is never logged.
- Without a token (loopback listen) the Host, Origin and Content-Type checks hold all the same.
- http.token_file with public_reads and protect_metrics: reads of /api/* open, writes and
  /metrics need the token.
- Config: a non-loopback listen without a token, a token file other users can read, token and
  token_file together, an unset ${VAR} are refused by `check` and `run` as FILE:LINE:COL.
- Silence bounds (API and `silence add`): matchers, matcher size, comment, author, duration and
  the number of active silences, each a 400 naming the bound (exit 2 on the command line).
- A webhook receiver whose error page quotes the request path (and one that quotes the
  Authorization header): the secrets in the sink URLs and headers appear neither in the
  daemon's log nor anywhere in the state file; "<redacted>" does.

usage: test_http_security.py PATH/TO/logwarden
"""

import glob
import http.client
import json
import os
import re
import secrets
import time

import e2e
from test_lifecycle import Scenario, alert_rule, run_scenarios

TOKEN = "tok-" + secrets.token_hex(16)
os.environ["LW_E2E_API_TOKEN"] = TOKEN
HOOK_SECRET = "hooksecret" + secrets.token_hex(12)
os.environ["LW_E2E_HOOK_SECRET"] = HOOK_SECRET
PATH_SECRET = "T0PATH" + secrets.token_hex(12)     # a long literal URL path segment
HEADER_SECRET = "hdr-" + secrets.token_hex(12)     # a literal header value


def request(port, method, path, body=None, headers=None, raw=None):
    """(status, headers, text) of one request with exactly these headers (Host included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    try:
        conn.request(method, path, body=data, headers=dict(headers or {}))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, \
            r.read().decode("utf-8", "replace")
    except OSError as e:
        return None, {}, str(e)
    finally:
        conn.close()


def parsed(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}
# No alert fires in these scenarios but a config needs a sink.
NOWHERE = [("nowhere", "http://127.0.0.1:9/unused")]
SILENCE = {"matchers": [{"name": "service", "value": "x"}], "duration": "1h",
           "comment": "e2e", "createdBy": "e2e"}


def token_gate(t, binary):
    port = e2e.free_port()
    sc = Scenario(binary, "gate", alert_rule("Gate", "gate", "20s", above=0), NOWHERE,
                  {"group_wait": "1s"}, http=False,
                  extra=f"http:\n  listen: 127.0.0.1:{port}\n  token: ${{LW_E2E_API_TOKEN}}\n")
    sc.port = port
    refusals = {"unauthorized": 0, "host": 0, "origin": 0, "content_type": 0, "too_large": 0}
    try:
        t.check(sc.start(), "daemon running with http.token", sc.stderr())
        for path in ("/health", "/metrics", "/"):
            code, _, _ = request(port, "GET", path)
            t.eq(code, 200, f"GET {path} without a token: 200 (open)")
        for what, hdrs in [("no token", {}), ("a wrong token", {"Authorization": "Bearer nope"}),
                           ("another scheme", {"Authorization": f"Basic {TOKEN}"}),
                           ("the token with a suffix", {"Authorization": f"Bearer {TOKEN}x"})]:
            code, h, text = request(port, "GET", "/api/alerts", headers=hdrs)
            refusals["unauthorized"] += 1
            t.check(code == 401 and h.get("www-authenticate", "").startswith("Bearer") and
                    (parsed(text) or {}).get("error"),
                    f"GET /api/alerts with {what}: 401, WWW-Authenticate: Bearer, an error",
                    f"{code} {h} {text}")
        code, _, text = request(port, "GET", "/api/alerts", headers=AUTH)
        t.check(code == 200 and parsed(text) == [], "GET /api/alerts with the token: 200",
                f"{code} {text}")
        code, _, _ = request(port, "GET", "/api/silences", headers=AUTH)
        t.eq(code, 200, "GET /api/silences with the token: 200")

        code, _, _ = request(port, "POST", "/api/silences", SILENCE, headers=JSON)
        refusals["unauthorized"] += 1
        t.eq(code, 401, "POST /api/silences without a token: 401")
        code, _, text = request(port, "POST", "/api/silences", SILENCE, headers={**JSON, **AUTH})
        sid = (parsed(text) or {}).get("silenceID")
        t.check(code == 200 and sid, "POST /api/silences with the token: 200", f"{code} {text}")
        code, _, _ = request(port, "DELETE", f"/api/silences/{sid}")
        refusals["unauthorized"] += 1
        t.eq(code, 401, "DELETE without a token: 401")
        code, _, text = request(port, "DELETE", f"/api/silences/{sid}", headers=AUTH)
        t.eq(code, 200, "DELETE with the token: 200")

        # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}"):
            code, _, _ = request(port, "GET", "/api/alerts", headers={"Host": host, **AUTH})
            refusals["host"] += 1
            t.eq(code, 403, f"GET /api/alerts with Host {host}: 403")
        code, _, _ = request(port, "GET", "/health", headers={"Host": "evil.example"})
        refusals["host"] += 1
        t.eq(code, 403, "GET /health with a foreign Host: 403 too")
        for host in (f"127.0.0.1:{port}", "localhost:8080", "127.0.0.1", "[::1]:9999"):
            code, _, _ = request(port, "GET", "/api/alerts", headers={"Host": host, **AUTH})
            t.eq(code, 200, f"GET /api/alerts with Host {host} (loopback, an SSH tunnel): 200")

        # A web page on the same machine: foreign Origin, or a form's Content-Type.
        for origin in ("http://evil.example", "null", f"http://localhost:{port}.evil.example"):
            code, _, _ = request(port, "POST", "/api/silences", SILENCE,
                                 headers={**JSON, **AUTH, "Origin": origin})
            refusals["origin"] += 1
            t.eq(code, 403, f"POST with Origin {origin}: 403")
        code, _, _ = request(port, "POST", "/api/silences", SILENCE,
                             headers={**JSON, **AUTH, "Origin": f"http://127.0.0.1:{port}"})
        t.eq(code, 200, "POST with the endpoint's own Origin: 200")
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
            hdrs = {**AUTH, **({"Content-Type": ctype} if ctype else {})}
            code, _, _ = request(port, "POST", "/api/silences", SILENCE, headers=hdrs)
            refusals["content_type"] += 1
            t.eq(code, 415, f"POST with Content-Type {ctype}: 415")
        code, _, _ = request(port, "POST", "/api/silences", SILENCE,
                             headers={**AUTH, "Content-Type": "application/json; charset=utf-8"})
        t.eq(code, 200, "POST with application/json; charset=utf-8: 200")
        code, _, text = request(port, "POST", "/api/silences", raw=b"{" + b" " * 70000 + b"}",
                                headers={**JSON, **AUTH})
        refusals["too_large"] += 1
        t.check(code == 413 and (parsed(text) or {}).get("error"),
                "POST of 70 000 bytes: 413 with an error", f"{code} {text[:200]}")

        code, _, _ = request(port, "POST", "/api/reload", {}, headers=JSON)
        refusals["unauthorized"] += 1
        t.eq(code, 401, "POST /api/reload without a token: 401")
        code, _, text = request(port, "POST", "/api/reload", {}, headers={**JSON, **AUTH})
        t.eq(code, 200, "POST /api/reload with the token: 200")
        t.check(e2e.wait_for(lambda: "reloaded" in sc.stderr(), 5),
                "the daemon reloads", sc.stderr())

        m = sc.metrics()
        for reason, n in refusals.items():
            t.eq(m.get(f'logwarden_http_refused_total{{reason="{reason}"}}'), float(n),
                 f"logwarden_http_refused_total{{reason={reason}}} counts each refusal")
        log = sc.stderr()
        for what in ("Bearer TOKEN", "Host header", "another origin", "application/json",
                     "64 KiB"):
            t.check(re.search(r"warn \[http\] refused .*" + re.escape(what), e2e.log_text(log)),
                    f"a refusal is logged ({what})", log)
        t.check(TOKEN not in log, "the token is never logged", log)
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        sc.cleanup()


def browser_without_token(t, binary):
    """No token (loopback): a web page in a browser on the same machine still cannot write,
    and a rebound DNS name cannot read."""
    sc = Scenario(binary, "notoken", alert_rule("Web", "web", "20s", above=0), NOWHERE,
                  {"group_wait": "1s"})
    try:
        t.check(sc.start(), "daemon running without a token", sc.stderr())
        port = sc.port
        code, _, _ = request(port, "POST", "/api/silences", SILENCE,
                             headers={**JSON, "Origin": "http://evil.example"})
        t.eq(code, 403, "POST from a foreign Origin: 403")
        code, _, _ = request(port, "POST", "/api/silences", SILENCE,
                             headers={"Content-Type": "text/plain"})
        t.eq(code, 415, "POST as text/plain (a form, no preflight): 415")
        code, _, _ = request(port, "GET", "/api/alerts", headers={"Host": f"evil.example:{port}"})
        t.eq(code, 403, "GET /api/alerts with a rebound Host: 403")
        code, _, _ = request(port, "DELETE", "/api/silences/x",
                             headers={"Origin": "http://evil.example"})
        t.eq(code, 403, "DELETE from a foreign Origin: 403")
        code, _, _ = request(port, "POST", "/api/silences", SILENCE, headers=JSON)
        t.eq(code, 200, "POST as application/json without Origin (curl): 200")
        code, _, _ = request(port, "GET", "/api/alerts")
        t.eq(code, 200, "GET /api/alerts: 200 (no token configured)")
        m = sc.metrics()
        t.eq([m.get(f'logwarden_http_refused_total{{reason="{r}"}}')
              for r in ("origin", "content_type", "host")], [2.0, 1.0, 1.0],
             "refusals counted by reason")
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        sc.cleanup()


def token_file_public_reads(t, binary):
    port = e2e.free_port()
    sc = Scenario(binary, "pubreads", alert_rule("Pub", "pub", "20s", above=0), NOWHERE,
                  {"group_wait": "1s"}, http=False,
                  extra=(f"http:\n  listen: 127.0.0.1:{port}\n  token_file: api.token\n"
                         "  public_reads: true\n  protect_metrics: true\n"))
    sc.port = port
    tf = sc.td.write("api.token", TOKEN + "\n")
    os.chmod(tf, 0o600)
    try:
        t.check(sc.start(), "daemon running with http.token_file", sc.stderr())
        code, _, _ = request(port, "GET", "/api/alerts")
        t.eq(code, 200, "public_reads: GET /api/alerts without a token: 200")
        code, _, _ = request(port, "GET", "/api/silences")
        t.eq(code, 200, "public_reads: GET /api/silences without a token: 200")
        code, _, _ = request(port, "POST", "/api/silences", SILENCE, headers=JSON)
        t.eq(code, 401, "public_reads: POST without a token still 401")
        code, _, _ = request(port, "POST", "/api/silences", SILENCE, headers={**JSON, **AUTH})
        t.eq(code, 200, "POST with the file's token (newline trimmed): 200")
        code, _, _ = request(port, "GET", "/metrics")
        t.eq(code, 401, "protect_metrics: GET /metrics without a token: 401")
        code, _, text = request(port, "GET", "/metrics", headers=AUTH)
        t.check(code == 200 and "logwarden_http_refused_total" in text,
                "protect_metrics: GET /metrics with the token: 200", f"{code} {text[:300]}")
        code, _, _ = request(port, "GET", "/health")
        t.eq(code, 200, "/health stays open")
        code, _, text = request(port, "GET", "/")
        t.check(code == 200 and "Bearer" in text and "sessionStorage" in text,
                "/ serves the dashboard, which asks for the token on 401", text[:200])
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        sc.cleanup()


def config_refusals(t, binary):
    td = e2e.TempDir("httpcfg")
    try:
        td.write("rules.yaml", "events:\n  - name: e\n    match: 'x'\n")
        base = "state: state.db\nrules: [rules.yaml]\ninputs:\n  - {name: a, type: stdin}\n"
        ok_file = td.write("ok.token", TOKEN + "\n")
        os.chmod(ok_file, 0o600)
        world = td.write("world.token", TOKEN + "\n")
        os.chmod(world, 0o644)
        cases = [
            ("0.0.0.0 without a token", "http:\n  listen: 0.0.0.0:9880\n", 2,
             r"logwarden\.yaml:6:11: http\.listen: 0\.0\.0\.0:9880 .*http\.token"),
            ("10.1.2.3 without a token", "http:\n  listen: 10.1.2.3:9880\n", 2,
             r"logwarden\.yaml:6:11: http\.listen: .*token"),
            ("a world-readable token_file",
             "http:\n  listen: 0.0.0.0:9880\n  token_file: world.token\n", 2,
             r"logwarden\.yaml:7:15: http\.token_file: .*readable"),
            ("token and token_file",
             "http:\n  token: ${LW_E2E_API_TOKEN}\n  token_file: ok.token\n", 2,
             r"logwarden\.yaml:7:15: .*exclusive"),
            ("an unset variable", "http:\n  token: ${LW_E2E_UNSET_VARIABLE}\n", 2,
             r"logwarden\.yaml:6:10: .*LW_E2E_UNSET_VARIABLE"),
            ("protect_metrics without a token", "http:\n  protect_metrics: true\n", 2,
             r"logwarden\.yaml:6:20: .*protect_metrics.*token"),
            ("localhost without a token", "http:\n  listen: localhost:9880\n", 0, None),
            ("127.0.0.2 without a token", "http:\n  listen: 127.0.0.2:9880\n", 0, None),
            ("0.0.0.0 with a token",
             "http:\n  listen: 0.0.0.0:9880\n  token: ${LW_E2E_API_TOKEN}\n", 0, None),
            ("0.0.0.0 with a 0600 token_file",
             "http:\n  listen: 0.0.0.0:9880\n  token_file: ok.token\n", 0, None),
        ]
        for what, http_block, code, pattern in cases:
            cfg = td.write("logwarden.yaml", base + http_block)
            r = e2e.run([binary, "check", "-c", cfg], timeout=20)
            out = r.stdout + r.stderr
            t.check(r.returncode == code and (pattern is None or re.search(pattern, out)),
                    f"check, {what}: exit {code}" + (" with FILE:LINE:COL" if pattern else ""),
                    f"exit {r.returncode}\n{out}")
            t.check(TOKEN not in out, f"check, {what}: the token is not printed", out)
            if code == 2 and "0.0.0.0 without" in what:
                r = e2e.run([binary, "run", "-c", cfg], timeout=20)
                t.check(r.returncode == 2 and re.search(pattern, r.stderr),
                        "run refuses a non-loopback listen without a token (exit 2)",
                        f"exit {r.returncode}\n{r.stderr}")
    finally:
        td.cleanup()


def silence_bounds(t, binary):
    sc = Scenario(binary, "silbounds", alert_rule("B", "b", "20s", above=0), NOWHERE,
                  {"group_wait": "1s"})
    m = {"name": "service", "value": "x"}
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        cases = [
            ("17 matchers", {"matchers": [m] * 17}, "matchers"),
            ("a matcher of 2000 bytes", {"matchers": [{"name": "a", "value": "v" * 2000}]},
             "matcher_bytes"),
            ("a comment of 3000 bytes", {"matchers": [m], "comment": "c" * 3000},
             "comment_bytes"),
            ("a createdBy of 300 bytes", {"matchers": [m], "createdBy": "b" * 300},
             "author_bytes"),
            ("a duration of 91 days", {"matchers": [m], "duration": "91d"}, "duration"),
            ("a year (endsAt)", {"matchers": [m], "endsAt": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 366 * 86400))}, "duration"),
        ]
        for what, body, limit in cases:
            code, doc = sc.request("POST", "/api/silences", body)
            t.check(code == 400 and isinstance(doc, dict) and doc.get("limit") == limit and
                    doc.get("error"), f"POST {what}: 400 naming the bound {limit}",
                    f"{code} {doc}")
        for what, body in [("16 matchers", {"matchers": [m] * 16, "duration": "90d"}),
                           ("a comment of 2048 bytes", {"matchers": [m], "comment": "c" * 2048})]:
            code, doc = sc.request("POST", "/api/silences", body)
            t.eq(code, 200, f"POST {what} (at the bound): 200")
        for what, args, word in [
            ("a comment of 3000 bytes", ["--comment", "c" * 3000], "comment"),
            ("--for 91d", ["--for", "91d"], "90 days"),
            ("17 matchers", ["a=b"] * 16, "matchers"),
        ]:
            r = sc.cli("silence", "add", "-c", sc.config, "service=x", *args)
            t.check(r.returncode == 2 and word in r.stderr,
                    f"silence add with {what}: exit 2, says so", f"{r.returncode} {r.stderr}")
        # The number of active silences: fill up to the bound over one connection.
        conn = http.client.HTTPConnection("127.0.0.1", sc.port, timeout=10)
        made, last = 2, None
        body = json.dumps({"matchers": [m], "duration": "1h"}).encode()
        while made < 1000:
            conn.request("POST", "/api/silences", body=body, headers=JSON)
            r = conn.getresponse()
            text = r.read()
            if r.status != 200:
                last = (r.status, text)
                break
            made += 1
            last = parsed(text)
        conn.close()
        t.eq(made, 1000, "1000 active silences are accepted")
        code, doc = sc.request("POST", "/api/silences", {"matchers": [m], "duration": "1h"})
        t.check(code == 400 and (doc or {}).get("limit") == "silences",
                "the 1001st: 400 naming the bound silences", f"{code} {doc}")
        r = sc.cli("silence", "add", "-c", sc.config, "service=y")
        t.check(r.returncode == 2 and "active silences" in r.stderr,
                "silence add at the bound: exit 2", f"{r.returncode} {r.stderr}")
        sid = (last or {}).get("silenceID") if isinstance(last, dict) else None
        code, _ = sc.request("DELETE", f"/api/silences/{sid}")
        t.eq(code, 200, "expire one")
        code, doc = sc.request("POST", "/api/silences", {"matchers": [m], "duration": "1h"})
        t.eq(code, 200, "then one more is accepted")
        mt = sc.metrics()
        t.check(mt.get('logwarden_http_refused_total{reason="silence_limit"}') == 7.0,
                "silence_limit refusals counted (7 over the API)",
                {k: v for k, v in mt.items() if "refused" in k})
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        sc.cleanup()


def echo(n, req):
    """Error pages that quote the request, as some receivers' do: 404 with the path (/gone/...),
    503 with the path (/busy/...), 401 with the Authorization header (/auth)."""
    path = req["path"]
    if path.startswith("/gone/"):
        code, text = 404, f"404 page not found: no route for POST {path}"
    elif path.startswith("/busy/"):
        code, text = 503, f"upstream {path} is overloaded, try later"
    else:
        code, text = 401, f"bad credentials: {req['headers'].get('Authorization')}"
    return (code, {"Content-Type": "text/plain"}, text.encode())


def secrets_redacted(t, binary):
    rx = e2e.Receiver(answer=echo)

    def paths():
        return [r["path"] for r in rx.snapshot(ok_only=False)]
    sc = Scenario(binary, "redact", alert_rule("Leak", "leak", "20s", above=0), NOWHERE,
                  {"group_wait": "0s", "repeat_interval": "1h"})
    base = f"http://127.0.0.1:{rx.port}"
    lines = open(sc.config).read().split("\n")
    at = lines.index("sinks:") + 1
    lines[at:at + 4] = [
        "  - name: gone", "    type: webhook", f"    url: {base}/gone/${{LW_E2E_HOOK_SECRET}}",
        "    timeout: 2s",
        "  - name: busy", "    type: webhook", f"    url: {base}/busy/{PATH_SECRET}",
        "    timeout: 2s",
        "  - name: auth", "    type: webhook", f"    url: {base}/auth", "    timeout: 2s",
        f"    headers: {{Authorization: 'Bearer {HEADER_SECRET}'}}",
    ]
    with open(sc.config, "w") as f:
        f.write("\n".join(lines))
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        sc.write("leak api")
        got = e2e.wait_for(lambda: {p.split("/")[1] for p in paths()} >= {"gone", "busy", "auth"}
                           and sc.stderr().count("failed for good") >= 2
                           and "retrying" in sc.stderr(), 10)
        t.check(got, "each receiver answered with its error page, the daemon logged it",
                f"{paths()}\n{sc.stderr()}")
        t.check(f"/gone/{HOOK_SECRET}" in paths() and f"/busy/{PATH_SECRET}" in paths(),
                "the secrets were in the URLs sent (the test is not vacuous)", repr(paths()))
    finally:
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        rx.stop()
    try:
        log = sc.stderr()
        for name, secret in [("${ENV} in the URL", HOOK_SECRET), ("URL path segment", PATH_SECRET),
                             ("header value", HEADER_SECRET)]:
            t.check(secret not in log, f"log: no {name}",
                    "\n".join(l for l in log.split("\n") if secret in l))
        t.check(log.count("<redacted>") >= 3, "log: the receivers' answers, redacted", log)
        data = b"".join(open(p, "rb").read() for p in glob.glob(sc.td.join("state.db*")))
        for name, secret in [("${ENV} in the URL", HOOK_SECRET), ("URL path segment", PATH_SECRET),
                             ("header value", HEADER_SECRET)]:
            t.check(secret.encode() not in data, f"state file: no {name} (any byte)")
        t.check(data.count(b"<redacted>") >= 3,
                "state file: the outbox errors are stored, redacted", f"{len(data)} bytes")
    finally:
        sc.cleanup()


def connection_limit(t, binary):
    """Past the connection limit (64) libmicrohttpd refuses, and says so through our log (as
    every line: formatted, redacted), not straight to stderr."""
    import socket
    sc = Scenario(binary, "connlimit", alert_rule("Web", "web", "20s", above=0), NOWHERE,
                  {"group_wait": "1s"})
    socks = []
    try:
        t.check(sc.start(), "daemon running", sc.stderr())
        for _ in range(70):
            try:
                socks.append(socket.create_connection(("127.0.0.1", sc.port), timeout=2))
            except OSError:
                break
        said = e2e.wait_for(lambda: "connection limit" in sc.stderr(), 5)
        lines = [l for l in sc.stderr().splitlines() if "connection limit" in l]
        recs = e2e.log_records("\n".join(lines))
        t.check(said and all(r and r["level"] == "warn" and r["msg"].startswith("[http] ")
                             for r in recs),
                "the refusal is logged as one of ours ('warn [http] ...')", "\n".join(lines[:3]))
    finally:
        for so in socks:
            so.close()
        t.eq(sc.stop(), 0, "SIGTERM -> exit 0")
        sc.cleanup()


def main():
    binary = e2e.binary_from_argv()
    run_scenarios(binary, [token_gate, browser_without_token, token_file_public_reads,
                           config_refusals,
                           silence_bounds, secrets_redacted, connection_limit])


if __name__ == "__main__":
    main()
