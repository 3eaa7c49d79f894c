"""test_health.py: GET /health's object, field by field, and its status codes (issue 16).

A daemon reads two file inputs (`app`, JSON lines; `quiet`, which never gets a line and has
`stale_after: 2s`) and routes one alert to two webhook sinks: `good` (a loopback receiver) and
`bad` (a port that refuses connections). Then:

- the shape: status, version, uptime_s, inputs / sinks / store with every documented field and
  its type; 200 while healthy or degraded;
- `quiet` is degraded ("nothing read"), healthy again after a line, `app` is degraded once a line that is not JSON arrives
  (its errors count it), `bad` is degraded while it retries (queued, oldest_queued_s,
  last_error), `good` stays healthy with last_success_at; each change is logged;
- the state file stops taking writes while the daemon runs: store degraded at the first failed
  flush, unhealthy (HTTP 503) once flushes have failed for 10 s, healthy again (200) once writes
  work again, and the daemon never stops.

How the writes fail: the daemon's file size limit (RLIMIT_FSIZE, set from outside with
prlimit(2), as `prlimit --pid PID --fsize=0` does) is lowered to 0 bytes, so every write(2) to
a regular file fails with EFBIG, the error a full disk or quota gives SQLite. chmod would not do
it (the file is open already, and the suite may run as root, whom modes do not stop); this does,
for root too, and needs neither mount nor a debug hook. The daemon ignores SIGXFSZ (a size limit
is a failed write, not the end of the process). Its stderr is a pipe here, not a file, so that
its log lines are not writes to a regular file the limit would stop.
"""

import json
import os
import resource
import subprocess
import threading
import time
import urllib.error
import urllib.request

import e2e

RULES = """
events:
  - name: err
    where: 'level == "error"'
alerts:
  - name: AppErrors
    event: err
    window: 1m
    count: {above: 0}
    severity: critical
"""

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: "127.0.0.1:{port}"}}
inputs:
  - {{name: app, type: file, paths: [app.log], format: json, start_at: beginning,
     poll_interval: 50ms}}
  - {{name: quiet, type: file, paths: [quiet.log], start_at: beginning, stale_after: 2s}}
sinks:
  - {{name: good, type: webhook, url: "{good}"}}
  - {{name: bad, type: webhook, url: "http://127.0.0.1:{bad}/hook"}}
routes:
  - sinks: [good, bad]
notify: {{group_wait: 0s}}
"""


def health(port):
    """(status code, parsed body) of /health; (None, None) when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError:
        return None, None


class Piped:
    """`logwarden run` with stderr read through a pipe (kept in memory)."""

    def __init__(self, binary, config, cwd):
        self.proc = subprocess.Popen([binary, "run", "-c", config], cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.buf = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.buf.append(line.decode("utf-8", "replace"))

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        return "".join(self.buf)

    def stop(self):
        if self.alive():
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def is_time(v):
    return isinstance(v, str) and len(v) >= 20 and v[4] == "-" and v.endswith("Z")


def check_shape(c, h):
    c.check(h.get("status") in ("healthy", "degraded", "unhealthy"), "status is one of three", h)
    c.check(isinstance(h.get("version"), str) and h["version"].count(".") == 2,
            "version is a version string", h.get("version"))
    c.check(isinstance(h.get("uptime_s"), int) and h["uptime_s"] >= 0, "uptime_s is seconds",
            h.get("uptime_s"))
    c.eq(sorted(h.get("inputs", {})), ["app", "quiet"], "inputs: one object per input")
    for name, i in h.get("inputs", {}).items():
        c.eq(sorted(i), ["detail", "errors", "lag", "last_record_at", "records", "status"],
             f"inputs.{name}: its fields")
        c.check(isinstance(i.get("records"), int) and isinstance(i.get("errors"), int) and
                isinstance(i.get("detail"), str), f"inputs.{name}: records, errors, detail types",
                i)
        c.check(i.get("lag") is None or (isinstance(i["lag"], dict) and
                                          isinstance(i["lag"].get("bytes"), int)),
                f"inputs.{name}: lag is null or {{\"bytes\": N}} for a file input", i.get("lag"))
    c.eq(sorted(h.get("sinks", {})), ["bad", "good"], "sinks: one object per sink")
    for name, s in h.get("sinks", {}).items():
        for k in ("status", "queued", "oldest_queued_s", "last_error", "last_success_at"):
            c.check(k in s, f"sinks.{name} has {k}", s)
        c.check(isinstance(s.get("queued"), int) and
                isinstance(s.get("oldest_queued_s"), (int, float)), f"sinks.{name}: numbers", s)
    st = h.get("store", {})
    for k in ("status", "last_flush_at", "last_error", "size_bytes"):
        c.check(k in st, f"store has {k}", st)
    c.check(isinstance(st.get("size_bytes"), int) and st["size_bytes"] > 0,
            "store.size_bytes: the state file's bytes", st)


def main():
    c = e2e.Checks()
    binary = e2e.binary_from_argv()
    tmp = e2e.TempDir("health")
    port = e2e.free_port()
    bad, held = e2e.held_port()
    good = e2e.Receiver()
    tmp.write("rules.yaml", RULES)
    tmp.write("app.log", json.dumps({"level": "info", "msg": "started"}) + "\n")
    tmp.write("quiet.log", "")
    cfg = tmp.write("lw.yaml", CONFIG.format(port=port, good=good.url(), bad=bad))
    d = Piped(binary, cfg, tmp.path)
    try:
        up = e2e.wait_for(lambda: health(port)[0] or not d.alive(), 15)
        c.check(up and d.alive(), "the daemon starts and /health answers", d.stderr())
        e2e.wait_for(lambda: (health(port)[1] or {}).get("store", {}).get("last_flush_at"), 10)
        code, h = health(port)
        check_shape(c, h or {})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=3) as r:
            alias = json.loads(r.read())
        c.check(r.status == 200 and set(alias) == set(h or {}) and
                alias.get("inputs", {}).keys() == (h or {}).get("inputs", {}).keys(),
                "/api/health answers the same object (the runbooks' curl)", alias)
        app = h["inputs"]["app"]
        c.check(app["status"] == "healthy" and app["records"] == 1 and
                is_time(app["last_record_at"]) and app["errors"] == 0,
                "inputs.app: healthy, 1 record, last_record_at, no errors", app)
        lag = e2e.wait_for(lambda: health(port)[1]["inputs"]["app"]["lag"], 10)
        c.eq(lag, {"bytes": 0}, "inputs.app.lag: no byte behind once the file is read")
        c.check(is_time(h["store"]["last_flush_at"]) and h["store"]["status"] == "healthy" and
                h["store"]["last_error"] is None, "store: healthy, last_flush_at", h["store"])

        # A quiet input with stale_after: degraded, and the daemon with it (still 200).
        ok = e2e.wait_for(lambda: health(port)[1]["inputs"]["quiet"]["status"] == "degraded", 10)
        code, h = health(port)
        q = h["inputs"]["quiet"]
        c.check(ok and "nothing read for" in q["detail"] and "stale_after 2s" in q["detail"] and
                q["last_record_at"] is None, "inputs.quiet: degraded, nothing read (stale_after)",
                q)
        c.check(code == 200 and h["status"] == "degraded", "a degraded daemon answers 200",
                (code, h["status"]))
        # A line: healthy again (and degraded again a second later, quiet as it is).
        with open(tmp.join("quiet.log"), "a") as f:
            f.write("hello\n")
        back = e2e.wait_for(lambda: any(r and r["msg"] == "[input:quiet] healthy again"
                                        for r in e2e.log_records(d.stderr())), 10)
        c.check(back, "a line on the quiet input: healthy again, logged", e2e.tail(d.stderr()))

        # An error line fires the alert: good delivers, bad retries.
        with open(tmp.join("app.log"), "a") as f:
            f.write(json.dumps({"level": "error", "msg": "db down"}) + "\n")
        c.check(good.wait_for(lambda reqs: any(a.get("alert") == "AppErrors" for r in reqs
                                                  for a in e2e.alerts_of(r)), timeout=15),
                "the alert reached the good sink")

        def sinks_settled():
            s = health(port)[1]["sinks"]
            return (s["good"]["last_success_at"] and s["bad"]["status"] == "degraded" and
                    s["bad"]["last_error"]) and s
        s = e2e.wait_for(sinks_settled, 15)
        c.check(bool(s), "sinks: good delivered, bad degraded with an error", health(port)[1])
        if s:
            c.check(s["good"]["status"] == "healthy" and s["good"]["queued"] == 0 and
                    is_time(s["good"]["last_success_at"]) and s["good"]["last_error"] is None,
                    "sinks.good: healthy, nothing queued, last_success_at", s["good"])
            time.sleep(1.2)
            b = health(port)[1]["sinks"]["bad"]
            c.check(b["queued"] == 1 and b["oldest_queued_s"] >= 1 and
                    b["last_success_at"] is None and "retrying" in b.get("detail", ""),
                    "sinks.bad: 1 queued for a second or more, never delivered, retrying", b)

        # logwarden status: the daemon's health first, then the alerts.
        e2e.wait_for(lambda: health(port)[1]["inputs"]["quiet"]["status"] == "degraded", 10)
        r = e2e.run([binary, "status", "-c", cfg])
        out = r.stdout
        c.check(r.returncode == 0 and out.startswith("health: degraded (HTTP 200 from the daemon "
                                                     "at 127.0.0.1:%d" % port),
                "status: the daemon's health first", out + r.stderr)
        c.check(any(l.split()[:3] == ["input", "quiet", "degraded"] and "nothing read" in l
                    for l in out.splitlines()) and
                any(l.split()[:3] == ["sink", "bad", "degraded"] and "1 queued" in l and
                    "last error: " in l for l in out.splitlines()) and
                any(l.split()[:3] == ["store", "state", "file"] for l in out.splitlines()),
                "status: the store, each input and each sink with its status", out)
        c.check(out.index("health:") < out.index("firing") and "AppErrors" in out,
                "status: then the firing alert", out)

        # A line that is not JSON on a JSON input: counted, and the input degraded.
        with open(tmp.join("app.log"), "a") as f:
            f.write("{this is not json\n")
        ok = e2e.wait_for(lambda: health(port)[1]["inputs"]["app"]["errors"] == 1, 10)
        app = health(port)[1]["inputs"]["app"]
        c.check(ok and app["status"] == "degraded" and "errors in the last 60s" in app["detail"],
                "inputs.app: the undecodable line is an error, the input degraded", app)
        m = e2e.metrics(port)
        c.eq(m.get('logwarden_input_decode_failures_total{input="app",reason="json_syntax"}'), 1,
             "/metrics: the decode failure, per input and reason")

        # The state file stops taking writes: degraded at once, unhealthy after 10 s.
        hard = resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (0, hard))
        stop_writer = threading.Event()

        def writer():
            k = 0
            while not stop_writer.is_set():
                with open(tmp.join("app.log"), "a") as f:
                    f.write(json.dumps({"level": "info", "n": k}) + "\n")
                k += 1
                time.sleep(0.2)
        wt = threading.Thread(target=writer, daemon=True)
        wt.start()
        deg = e2e.wait_for(lambda: not d.alive() or
                           (health(port)[1] or {}).get("store", {}).get("status") != "healthy", 10)
        c.check(d.alive(), "the daemon runs on when the state file stops taking writes",
                e2e.tail(d.stderr(), 60))
        if not d.alive():
            return c.finish()
        code, h = health(port)
        c.check(deg and h["store"]["status"] == "degraded" and h["store"]["last_error"] and
                code == 200, "store: degraded at the first failed flush (200)", (code, h["store"]))
        unh = e2e.wait_for(lambda: health(port)[0] == 503, 20, 0.2)
        code, h = health(port)
        c.check(unh and h["status"] == "unhealthy" and h["store"]["status"] == "unhealthy",
                "store: unhealthy after 10 s of failed flushes: HTTP 503", (code, h and h["store"]))
        if h and h["store"].get("failing_since"):
            c.check(is_time(h["store"]["failing_since"]), "store.failing_since is a time",
                    h["store"])
        c.check(d.alive(), "the daemon runs on while it cannot write")

        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
        back = e2e.wait_for(lambda: health(port)[1]["store"]["status"] == "healthy", 15, 0.2)
        code, h = health(port)
        c.check(back and code == 200 and h["store"]["last_error"] is None,
                "store: healthy again once writes work (200)", (code, h["store"]))
        stop_writer.set()
        wt.join()

        m = e2e.metrics(port)
        tries = m.get('logwarden_sink_notifications_total{sink="bad",outcome="retried"}', 0)
        c.check(1 <= tries <= 60, "sink bad: its retries paced by backoff, also while the state "
                "file took no writes (no loop on the due row)", tries)

        # The log: JSON lines (stderr is a pipe, not a terminal), the input or sink a line is
        # about as a field.
        recs = e2e.log_records(d.stderr())
        c.check(recs and all(r and r.get("ts") and r.get("level") and "msg" in r for r in recs),
                "every log line is a JSON object with ts, level, msg",
                [r for r in recs if not r][:3])

        def logged(level, needle, **fields):
            return any(r and r["level"] == level and needle in r["msg"] and
                       all(r.get(k) == v for k, v in fields.items()) for r in recs)
        c.check(logged("warn", "[input:quiet] degraded: nothing read", input="quiet"),
                "logged: the quiet input went degraded")
        c.check(logged("warn", "[input:app] degraded: errors in the last 60s", input="app"),
                "logged: app went degraded on its error")
        c.check(logged("warn", "[sink:bad] failing: ", sink="bad"), "logged: bad started failing")
        c.check(logged("error", "flush to "), "logged: each failed flush")
        c.check(logged("info", "[store] writing the state file works again", component="store"),
                "logged: the state file works again")
    finally:
        code = d.stop()
        held.close()
        good.stop()
    c.eq(code, 0, "SIGTERM: exit 0")
    # Without a daemon to ask: what the state file says, then the alerts.
    r = e2e.run([binary, "status", "-c", cfg])
    out = r.stdout
    c.check(r.returncode == 0 and out.startswith("health: the daemon does not answer at "
                                                 "http.listen; from the state file:") and
            any(l.split()[:3] == ["sink", "bad", "1"] and "last error: " in l
                for l in out.splitlines()) and "last write " in out and "AppErrors" in out,
            "status without the daemon: the state file's health (the sink still owes one), "
            "then the alerts", out + r.stderr)
    tmp.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
