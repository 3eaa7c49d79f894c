#!/usr/bin/env python3
"""kafka_pause.py (issue 14, scenario 8): pause and resume under a slow pipeline and a slow sink,
with a rebalance while paused. A backlog of 12 000 messages of ~1 KiB (12 MB: more than the
input holds before it pauses, 8 MiB, plus the pipeline's queue) waits on the topic; every message
goes through a deliberately costly regex (Slow: ~1 ms a line with 18 x: 17 let the backlog drain in a few seconds on a fast run, before a 1 s metrics snapshot saw the pause; backtracking that stays under the
regex limits: ~6 s of work, so that the pause outlasts the input's 1 s metrics snapshot), so librdkafka fetches far faster than the pipeline takes records: the input must
pause its partitions (rd_kafka_pause_partitions) instead of buffering without bound, keep polling,
and resume. The webhook answers each request after 2 s. While the first instance is paused a
second joins; the two instances' windows add up to the reference and the first one's memory stays
bounded.

usage: kafka_pause.py PATH/TO/logwarden
"""

import time

import kafkakit as kk
import e2e

N = 12000
HOT = [f"hot-{i:02d}" for i in range(6)]
EXTRA = r"""  - name: Slow
    event: slowpath
    window: 10m
    count: {above: 100000000}
  - name: Hot
    event: hot
    window: 10m
    group_by: [service]
    count: {above: 5}
"""
# The costly event: never matches (the backtracking fails on the closing quote), costs ~0.5 ms a
# line; it goes first in the rule file. Its alert (Slow) keeps it in use.
SLOW_EVENT = r"""  - name: slowpath
    inputs: [bus]
    match: '"pad":"(?:x+x+)+[^x"]'
"""


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def paused(inst):
    """Whether the instance has a paused partition now (logwarden_kafka_paused_partitions)."""
    return (inst.metric("logwarden_kafka_paused_partitions", input="bus") or 0) > 0


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    msgs = kk.messages(N, pad=18, fill=900) + kk.per_key(10, 100000, HOT, pad=18, fill=900)
    c.eq(kk.produce(mock.bootstrap, "logs", msgs, timeout=120), 0, f"a backlog of {len(msgs)} "
         "messages on the topic")
    rx = e2e.Receiver(answer=lambda n, req: e2e.Answer(200, delay=2.0))
    s.closers.append(rx.stop)
    a = s.instance("a", url=rx.url(), extra_rules=EXTRA)
    rules = open(a.tmp.join("rules.yaml")).read().replace("events:\n", "events:\n" + SLOW_EVENT, 1)
    a.tmp.write("rules.yaml", rules)
    a.start()
    c.check(e2e.wait_for(lambda: paused(a), 40, 0.1), "the first instance pauses its partitions "
            "under the backlog", e2e.tail(a.stderr(), 10))
    was_paused = paused(a)
    read_then = a.consumed()
    b = s.instance("b", url=rx.url(), extra_rules=EXTRA)
    b.tmp.write("rules.yaml", rules)
    b.start()
    c.check(was_paused and read_then < len(msgs), "a second instance joins while the first is "
            f"paused ({read_then:.0f} of {len(msgs)} read)")
    peak = 0
    back = kk.consume_all(mock.bootstrap, "logs")
    ref = kk.reference(back)
    deadline = time.monotonic() + 90
    got = None
    while time.monotonic() < deadline:
        peak = max(peak, rss_kib(a.d.proc.pid))
        got = kk.add_counts(a.counts(), b.counts())
        if all(got.get(k, {}) == ref[k] for k in ref):
            break
        time.sleep(0.5)
    kk.compare(c, got or {}, ref, "paused, rebalanced and resumed, the two added up")
    c.check(0 < peak < 400 * 1024, f"the first instance's memory stayed bounded (peak RSS "
            f"{peak / 1024:.0f} MiB)")
    e2e.wait_for(lambda: len(kk.firing(rx, "Hot", service=1)) == len(HOT), 30)
    hot = kk.firing(rx, "Hot", service=1)
    c.check(sorted(k[0] for k in hot) == sorted(HOT) and all(1 <= n <= 2 for n in hot.values()),
            "the slow sink got each Hot alert, once (twice where its partition moved after it "
            "fired: the new owner announces it again once)", hot)
    c.eq(s.stop_all(), {"a": 0, "b": 0}, "both stop with exit code 0")


if __name__ == "__main__":
    kk.Scenario("pause").run(main)
