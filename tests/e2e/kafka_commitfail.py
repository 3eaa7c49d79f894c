#!/usr/bin/env python3
"""kafka_commitfail.py (issue 14, "Exact counting"): a commit to Kafka that fails is logged,
counted (logwarden_kafka_commit_failures_total) and retried at the next flush; SQLite stays the
authority meanwhile. The mock answers the next OffsetCommit with OFFSET_METADATA_TOO_LARGE
(reqerr 8 12 1, a per-partition error librdkafka passes on as is); more messages make more
flushes, whose commits go through: a second instance with a state file of its own, started after
the first stops, finds the offsets and rebuilds the windows from them (without them it would read
every partition from its beginning, live), and its windows equal the reference.

usage: kafka_commitfail.py PATH/TO/logwarden
"""

import time

import kafkakit as kk
import e2e


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    a = s.instance("a").start()
    c.check(e2e.wait_for(lambda: len(kk.assigned(a)) == 6, 30, 0.2), "the instance owns the "
            "6 partitions")
    c.eq(mock.cmd("reqerr 8 12 1"), "ok", "the next OffsetCommit fails")
    first = kk.messages(3000)
    c.eq(kk.produce(mock.bootstrap, "logs", first), 0, "kcat produced 3000 messages")
    c.check(kk.wait_consumed([a], len(first), 60), "the instance read them")
    fails = e2e.wait_for(lambda: (a.metric("logwarden_kafka_commit_failures_total",
                                           input="bus") or 0) >= 1, 20, 0.3)
    c.check(fails, "the failed commits are counted", e2e.tail(a.stderr(), 8))
    c.check("again at the next flush" in a.stderr() or "commit" in a.stderr().lower(),
            "and logged", e2e.tail(a.stderr(), 8))
    back = kk.consume_all(mock.bootstrap, "logs")
    ref = kk.reference(back)
    kk.compare(c, kk.settle([a], ref, 30), ref, "counted exactly while a commit fails")
    more = kk.messages(600, start=3000)
    c.eq(kk.produce(mock.bootstrap, "logs", more), 0, "600 more messages: more flushes")
    c.check(kk.wait_consumed([a], len(first) + len(more), 60), "the instance read them")
    time.sleep(3)   # a flush or two after the last message: its commit goes through
    back = kk.consume_all(mock.bootstrap, "logs")
    ref = kk.reference(back)
    kk.compare(c, kk.settle([a], ref, 30), ref, "counted exactly")
    c.eq(s.stop_all(), {"a": 0}, "the first instance stops with exit code 0")

    b = s.instance("b").start()
    c.check(e2e.wait_for(lambda: len(kk.assigned(b)) == 6, 30, 0.2), "a second instance (its "
            "own state file) owns the 6 partitions")
    rebuilt = e2e.wait_for(lambda: {p for p in range(6) if (b.metric(
        "logwarden_kafka_rebuilds_total", input="bus", partition=p) or 0) >= 1} == set(range(6)),
        20, 0.3)
    c.check(rebuilt, "it found the committed offsets and rebuilt every partition from them (the "
            "retried commits reached the group)", e2e.tail(b.stderr(), 10))
    kk.compare(c, kk.settle([b], ref, 30), ref, "the second instance's rebuilt windows")
    c.eq(s.stop_all(), {"b": 0}, "it stops with exit code 0")


if __name__ == "__main__":
    kk.Scenario("commitfail").run(main)
