#!/usr/bin/env python3
"""kafka_reference.py (issue 14, scenario 1): keyed JSON messages on 6 partitions, produced by
kcat with headers (and the timestamps kcat gives them), consumed by one logwarden in a consumer
group: its windows equal a single-process reference computed here from what kcat reads back.

Besides the three alerts of kafkakit.RULES, two group by the input's labels: ByPartition
(`partition`, checked against the partition kcat read each message from) and ByHeader
(`header.src`, three kcat runs with -H src=a|b|c); both accept the split (accept_split), as
they do not follow the message key.

usage: kafka_reference.py PATH/TO/logwarden
"""

import kafkakit as kk
import e2e

N = 3000
EXTRA = r"""  - name: ByPartition
    event: msg
    window: 10m
    group_by: [partition]
    count: {above: 100000000}
    accept_split: true
  - name: ByHeader
    event: msg
    window: 10m
    group_by: [header.src]
    count: {above: 100000000}
    accept_split: true
"""


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    msgs = kk.messages(N)
    for k, src in enumerate("abc"):
        part = msgs[k * N // 3:(k + 1) * N // 3]
        c.eq(kk.produce(mock.bootstrap, "logs", part, headers=[f"src={src}", "env=test"]), 0,
             f"kcat produced {len(part)} keyed messages with header src={src}")
    back = kk.consume_all(mock.bootstrap, "logs")
    c.eq(len(back), N, "kcat reads every message back")
    c.eq(sorted({m["partition"] for m in back}), list(range(6)), "the messages span 6 partitions")
    c.check(all(m["key"] == m["value"]["service"] for m in back), "each message is keyed by its "
            "service")

    a = s.instance("a", extra_rules=EXTRA).start()
    c.check(kk.wait_consumed([a], N, 60), f"the instance reads all {N} messages",
            f"read {a.consumed()}\n" + e2e.tail(a.stderr()))
    ref = kk.reference(back)
    ref["ByPartition"], ref["ByHeader"] = {}, {}
    for m in back:
        p, h = str(m["partition"]), m["headers"].get("src", "")
        ref["ByPartition"][p] = ref["ByPartition"].get(p, 0) + 1
        ref["ByHeader"][h] = ref["ByHeader"].get(h, 0) + 1
    got = kk.settle([a], ref, 30)
    kk.compare(c, got, ref, "one instance")
    for alert in ("ByPartition", "ByHeader"):
        c.eq(got.get(alert), ref[alert], f"{alert}: the input's labels as kcat saw them")
    c.eq(s.stop_all(), {"a": 0}, "SIGTERM stops the instance with exit code 0")
    kk.compare(c, a.counts(), ref, "after a clean stop")


if __name__ == "__main__":
    kk.Scenario("reference").run(main)
