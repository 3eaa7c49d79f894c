#!/usr/bin/env python3
"""kafka_join.py (issue 14, scenario 3): a second instance joins the group. Cooperative-sticky
moves only the partitions that must move: the first instance keeps 3 of its 6, the second gets
the other 3 and rebuilds them from the topic (the mock answers offsets_for_times with -1: the
binary-search fallback), sends nothing while rebuilding, and the two instances' windows add up to
the single-process reference. A per-service threshold crossed by messages on both sides of the
hand-off fires exactly once. An alert already firing before the join (Warm, crossed by the
first half) is announced again once by the new owner of a moved partition (Alertmanager and
PagerDuty deduplicate by fingerprint), and not again by the instance that kept its partition.

usage: kafka_join.py PATH/TO/logwarden
"""

import time

import kafkakit as kk
import e2e

N1, N2 = 3000, 3000
# The input's known gap (tests/kafka/README.md): a commit in flight when the second instance joins
# is answered ILLEGAL_GENERATION and librdkafka drops the first instance's whole assignment. The
# input holds commits from librdkafka's first log line of the rejoin (5 of 5 strict runs passed
# on an idle machine, 3 of 3 failed before), but on a loaded one a commit can still cross it.
JOIN_LOST = ("a commit in flight when the second instance joins is refused "
             "(ILLEGAL_GENERATION, which librdkafka before 2.10 takes as a lost assignment: "
             "librdkafka#4059; Debian has 2.0.2): the input holds commits from the rejoin's first "
             "log line, which a loaded machine can serve too late (docs/inputs.md, "
             "tests/kafka/README.md)")
HOT = [f"hot-{i:02d}" for i in range(12)]   # 12 keys: every partition gets some (checked)
T = 40                                       # Hot fires above T: 25 before the join, 25 after
EXTRA = r"""  - name: Hot
    event: hot
    window: 10m
    group_by: [service]
    count: {above: %d}
  - name: Warm
    event: hot
    window: 10m
    group_by: [service]
    count: {above: 10}
""" % T


def hot(n, start):
    return kk.per_key(n, start, HOT, seed=7)


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    rx = e2e.Receiver()
    s.closers.append(rx.stop)
    a = s.instance("a", url=rx.url(), extra_rules=EXTRA).start()
    c.check(e2e.wait_for(lambda: len(kk.assigned(a)) == 6, 30, 0.2),
            "the first instance owns the 6 partitions", kk.assigned(a))
    # Before the join: the bulk and 25 of each hot key.
    before = kk.messages(N1) + [m for m in hot(25, 100000)]
    c.eq(kk.produce(mock.bootstrap, "logs", before), 0, "kcat produced the first half")
    c.check(kk.wait_consumed([a], len(before), 60), "the first instance read it")
    c.eq(rx.alerts(alert="Hot"), [], "no Hot alert before the threshold")
    c.check(e2e.wait_for(lambda: len(kk.firing(rx, "Warm", service=1)) == len(HOT), 20),
            "Warm fires for every hot key before the join", kk.firing(rx, "Warm", service=1))

    b = s.instance("b", url=rx.url(), extra_rules=EXTRA).start()
    seen_a = []   # a's partitions, every 100 ms through the rebalance

    def split_done():
        sa, sb = kk.assigned(a), kk.assigned(b)
        seen_a.append(sa)
        return len(sa) == 3 and len(sb) == 3 and not sa & sb
    split = e2e.wait_for(split_done, 40, 0.1)
    owned_a, owned_b = kk.assigned(a), kk.assigned(b)
    c.check(split, "after the join each instance owns 3 partitions, none twice",
            f"a {sorted(owned_a)}, b {sorted(owned_b)}")
    c.eq(rx.alerts(alert="Hot"), [], "nothing sent during the rebuild")

    after = kk.messages(N2, start=N1) + hot(25, 200000)
    c.eq(kk.produce(mock.bootstrap, "logs", after), 0, "kcat produced the second half")
    back = kk.consume_all(mock.bootstrap, "logs")
    c.eq(len(back), len(before) + len(after), "every message is on the topic")
    hot_parts = {m["partition"] for m in back if m["key"].startswith("hot-")}
    c.check(hot_parts & owned_b, "some hot keys are on partitions that moved",
            f"hot on {sorted(hot_parts)}, moved {sorted(owned_b)}")
    ref = kk.reference(back)
    got = kk.settle([a, b], ref, 60)
    kk.compare(c, got, ref, "two instances added up")
    e2e.wait_for(lambda: len(kk.firing(rx, "Hot", service=1)) == len(HOT), 20)
    time.sleep(3)
    per = kk.firing(rx, "Hot", service=1)
    c.eq(sorted(k[0] for k in per), sorted(HOT), "every hot key fired")
    c.eq({k: n for k, n in per.items() if n != 1}, {}, "each fired exactly once, the moved "
         "ones included (the threshold crossed by messages on both sides of the hand-off)")
    part_of = {m["key"]: m["partition"] for m in back}
    warm = kk.firing(rx, "Warm", service=1)
    want = {(k,): 2 if part_of[k] in owned_b else 1 for k in HOT}
    c.eq(warm, want, "Warm: announced again once for the keys whose partition moved, not for "
         "the others")
    # Only the moved partitions were revoked from a: it never let go of the 3 it kept.
    gaps = [sorted(x) for x in seen_a if not owned_a <= x]
    c.known(owned_a and not gaps, "the first instance kept its 3 partitions throughout the "
            "rebalance (incremental revoke, not all 6)", JOIN_LOST,
            f"kept {sorted(owned_a)}, but a owned {gaps[:5]} at times")
    c.known_eq((a.metric("logwarden_kafka_assignments_lost_total", input="bus"),
                a.metric("logwarden_kafka_commits_fenced_total", input="bus")), (0, 0),
               "a join neither loses the first instance's assignment nor fences its commits",
               JOIN_LOST)
    c.known_eq(a.metric("logwarden_kafka_commit_failures_total", input="bus"), 0,
               "no commit of the first instance failed", JOIN_LOST)
    rebuilt = {p for p in owned_b if (b.metric("logwarden_kafka_rebuilds_total", input="bus",
                                                partition=p) or 0) >= 1}
    c.known_eq(rebuilt, owned_b, "the second instance rebuilt each partition it got (from the "
               "committed offsets, by binary search: the mock answers offsets_for_times with -1)",
               JOIN_LOST + "; then the moved partitions have no committed offset")
    codes = s.stop_all()
    c.eq(codes, {"a": 0, "b": 0}, "both stop with exit code 0")


if __name__ == "__main__":
    kk.Scenario("join").run(main)
