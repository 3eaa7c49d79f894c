#!/usr/bin/env python3
"""test_outages.py: a receiver that is down, failing, rate limiting and slow delays alerts but
loses none, and they arrive in order.

`logwarden replay --notify` delivers synchronously, retrying with backoff. The pagerduty sink
(timeout 1s) points at a loopback port where nothing listens yet: the first attempt is refused.
Once logwarden has logged that failure, the receiver starts on that port and answers the next
attempts 500, then 429 with Retry-After: 1, then holds its answer past the sink's timeout, then
accepts (202). The trigger must finally be accepted, and the resolve must come after it; the
wait after the 429 must follow Retry-After rather than the exponential backoff. Then a
receiver that refuses the trigger outright (400): replay --notify goes on and exits 1.

usage: test_outages.py PATH/TO/logwarden
"""

import os
import subprocess
import time

import receivers as rv
from receivers import e2e

PD_KEY = "e2eR0ut1ngKey0123456789abcdef012"


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("sinks-outage")
    recv = None
    proc = None
    try:
        port = rv.free_port()
        tmp.write("rules.yaml", rv.RULES)
        sinks = f"""
  - name: pager
    type: pagerduty
    routing_key: ${{LW_E2E_PD_KEY}}
    url: http://127.0.0.1:{port}/pd/v2/enqueue
    timeout: 1s
"""
        tmp.write("logwarden.yaml", rv.config(tmp.join("state.db"), sinks, ["pager"]))
        path = tmp.write("lines.jsonl", rv.lines())
        env = dict(os.environ, LW_E2E_PD_KEY=PD_KEY)
        for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                  "ALL_PROXY"):
            env.pop(k, None)
        err_path = tmp.join("replay.stderr")
        out_path = tmp.join("replay.stdout")
        with open(err_path, "wb") as err_f, open(out_path, "wb") as out_f:
            proc = subprocess.Popen([binary, "replay", "-c", tmp.join("logwarden.yaml"),
                                     "--notify", path], stdin=subprocess.DEVNULL, stdout=out_f,
                                    stderr=err_f, env=env)

            def stderr():
                with open(err_path, "rb") as f:
                    return f.read().decode("utf-8", "replace")

            refused = e2e.wait_for(lambda: "delivery failed" in stderr(), 20)
            c.check(refused, "the first attempt fails: nothing listens yet", e2e.tail(stderr()))
            recv = rv.Receiver(port=port, script=[
                (500, {}, b'{"status":"error"}'),
                (429, {"Retry-After": "1"}, b'{"status":"throttled"}'),
                ("slow", 4),
            ])
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            c.eq(code, 0, "replay exits 0 once everything is delivered")
        err = stderr()
        reqs = recv.under("/pd/") if recv else []
        seq = [(q["json"]["event_action"], q["answered"]) for q in reqs]
        c.eq(seq, [("trigger", 500), ("trigger", 429), ("trigger", None), ("trigger", 202),
                   ("resolve", 202)],
             "attempts in order: 500, 429, too slow, accepted; then the resolve")
        for i, q in enumerate(reqs):
            c.eq(rv.check_pagerduty(q["json"]), [], f"request {i} is a valid event")
        if len(reqs) >= 3:
            gap = reqs[2]["mono"] - reqs[1]["mono"]
            c.check(0.8 <= gap < 2.8, f"the retry after the 429 waited Retry-After (1 s): {gap:.2f} s")
        if len(reqs) == 5:
            c.eq(len({q["json"]["dedup_key"] for q in reqs}), 1,
                 "every attempt carries the same dedup_key")
        c.check("Couldn't connect" in err or "refused" in err.lower(),
                "the refused connection is logged", e2e.tail(err))
        c.check("HTTP 500" in err and "HTTP 429" in err, "the 500 and the 429 are logged",
                e2e.tail(err))
        c.check("imeout" in err or "timed out" in err, "the timeout is logged", e2e.tail(err))
        c.check(PD_KEY not in err, "the routing key is never logged")
        transitions, _ = e2e.parse_json_lines(open(out_path, encoding="utf-8").read())
        c.eq([t["status"] for t in transitions], ["firing", "resolved"],
             "both transitions were replayed")

        # A permanent refusal (HTTP 400) is not retried, the next notification still goes,
        # and the replay says so and exits 1.
        recv.stop()
        recv = rv.Receiver(script=[(400, {}, b'{"status":"invalid event"}')])
        sinks = f"""
  - name: pager
    type: pagerduty
    routing_key: ${{LW_E2E_PD_KEY}}
    url: {recv.url('/pd/v2/enqueue')}
    timeout: 1s
"""
        tmp.write("logwarden.yaml", rv.config(tmp.join("state.db"), sinks, ["pager"]))
        r = rv.replay(binary, tmp, rv.lines(), env=env)
        c.eq(r.returncode, 1, "a refused notification makes replay --notify exit 1")
        c.check("1 notifications not delivered" in r.stderr, "the summary counts it",
                e2e.tail(r.stderr))
        c.eq([(q["json"]["event_action"], q["answered"]) for q in recv.under("/pd/")],
             [("trigger", 400), ("resolve", 202)], "the 400 is not retried; the resolve goes")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if recv:
            recv.stop()
        tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
