"""test_run_options.py: the daemon's log options and `stale_after`'s validation (issue 16).

- `run --log-format text` writes `TIME LEVEL MESSAGE` lines even though stderr is not a
  terminal (JSON lines are the default then: e2e.health reads those); `--log-level warn` wins
  over the config's `log_level: debug` (no info or debug line); a bad value of either is exit 2
  with a message naming the option, before anything starts.
- `stale_after` below 1s, or not a duration, is refused by `check` and `run` as
  FILE:LINE:COL: message, exit 2.
"""

import re
import subprocess
import urllib.request

import e2e

CONFIG = """
state: state.db
log_level: debug
http: {{listen: "127.0.0.1:{port}"}}
rules: [rules.yaml]
inputs:
  - {{name: app, type: file, paths: [app.log], start_at: beginning, stale_after: {stale}}}
"""

RULES = """
events:
  - name: e
    match: 'ERROR'
alerts:
  - name: Errors
    event: e
    window: 1m
    count: {above: 0}
"""


def up(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status
    except OSError:
        return None


def main():
    c = e2e.Checks()
    binary = e2e.binary_from_argv()
    tmp = e2e.TempDir("run-options")
    port = e2e.free_port()
    tmp.write("rules.yaml", RULES)
    tmp.write("app.log", "ERROR one\n")
    cfg = tmp.write("lw.yaml", CONFIG.format(port=port, stale="1s"))

    for args, what in ((["--log-format", "xml"], "--log-format"),
                       (["--log-level", "loud"], "--log-level")):
        r = e2e.run([binary, "run", "-c", cfg] + args, timeout=10)
        c.check(r.returncode == 2 and what in r.stderr, f"run {' '.join(args)}: exit 2 naming "
                f"{what}", (r.returncode, r.stderr))

    with open(tmp.join("text.stderr"), "wb") as err:
        p = subprocess.Popen([binary, "run", "-c", cfg, "--log-format", "text",
                              "--log-level", "warn"], cwd=tmp.path, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err)
        try:
            c.check(e2e.wait_for(lambda: up(port) or p.poll() is not None, 15) and
                    p.poll() is None, "the daemon runs with --log-format text --log-level warn")
            # The input turns stale after 1 s: a warn line to look for.
            e2e.wait_for(lambda: "degraded" in open(tmp.join("text.stderr")).read(), 10)
        finally:
            p.terminate()
            code = p.wait(timeout=15)
    c.eq(code, 0, "SIGTERM: exit 0")
    text = open(tmp.join("text.stderr")).read()
    lines = [l for l in text.splitlines() if l.strip()]
    pat = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn|info|debug) ")
    c.check(lines and all(pat.match(l) for l in lines), "every line is TIME LEVEL MESSAGE text",
            text)
    c.check(any(" warn [input:app] degraded: nothing read" in l for l in lines),
            "the warn line of the stale input is there", text)
    c.check(not any(pat.match(l) and pat.match(l).group(1) in ("info", "debug") for l in lines),
            "--log-level warn wins over log_level: debug: no info or debug line", text)

    for stale, why in (("500ms", "below 1s"), ("soon", "not a duration")):
        text = CONFIG.format(port=port, stale=stale)
        bad = tmp.write("bad.yaml", text)
        col = text.split("\n")[6].index(stale) + 1  # the value's column, 1-based
        for cmd in ("check", "run"):
            r = e2e.run([binary, cmd, "-c", bad], timeout=10)
            c.check(r.returncode == 2 and f"{bad}:7:{col}: " in r.stderr and
                    re.search(r"stale_after must be at least 1s|expected a duration", r.stderr),
                    f"{cmd}: stale_after {stale} ({why}) is FILE:LINE:COL, exit 2",
                    (r.returncode, r.stderr))
    tmp.cleanup()
    return c.finish()


if __name__ == "__main__":
    raise SystemExit(main())
