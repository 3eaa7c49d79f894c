#!/usr/bin/env python3
"""kafka_sigstop.py (issue 14, scenario 5): an instance stopped (SIGSTOP) past the session
timeout, then continued. Meanwhile the group gave its partitions to the other instance, which
rebuilt them; when it runs again its commits are refused (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID)
or its assignment is lost, and it drops those windows at once: the two instances' windows still
add up to the reference, nothing counted on both sides.

usage: kafka_sigstop.py PATH/TO/logwarden
"""

import time

import kafkakit as kk
import e2e


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    a = s.instance("a").start()
    b = s.instance("b").start()
    c.check(e2e.wait_for(lambda: kk.assigned(a) and kk.assigned(b)
                         and len(kk.assigned(a) | kk.assigned(b)) == 6, 40, 0.3),
            "the two instances share the 6 partitions")
    first = kk.messages(3000)
    c.eq(kk.produce(mock.bootstrap, "logs", first), 0, "kcat produced the first part")
    c.check(kk.wait_consumed([a, b], len(first), 60), "the two read it")
    time.sleep(1.5)  # a flush: a's windows and offsets are in its SQLite

    a.sigstop()
    stopped = time.monotonic()
    c.check(e2e.wait_for(lambda: len(kk.assigned(b)) == 6, kk.SESSION_MS / 1000 + 30, 0.3),
            "while the first is stopped, the other owns the 6 partitions", kk.assigned(b))
    c.check(time.monotonic() - stopped >= kk.SESSION_MS / 1000 * 0.8,
            "not before the session timeout")
    second = kk.messages(3000, start=3000)
    c.eq(kk.produce(mock.bootstrap, "logs", second), 0, "kcat produced the second part")
    c.check(kk.wait_consumed([b], len(second), 60), "the other instance reads it")
    a.sigcont()
    c.check(True, f"the first continued after {time.monotonic() - stopped:.1f} s")

    def fenced():
        return (a.metric("logwarden_kafka_assignments_lost_total", input="bus") or 0) + \
            (a.metric("logwarden_kafka_commits_fenced_total", input="bus") or 0)
    c.check(e2e.wait_for(lambda: fenced() >= 1, 30, 0.3), "the continued instance counts its "
            "assignment lost or its commit fenced", e2e.tail(a.stderr(), 15))
    c.check(e2e.wait_for(lambda: "released, nothing committed" in a.stderr(), 10),
            "and says it released those windows, committing nothing", e2e.tail(a.stderr(), 15))

    back = kk.consume_all(mock.bootstrap, "logs")
    ref = kk.reference(back)
    got = kk.settle([a, b], ref, 60)
    kk.compare(c, got, ref, "after the fencing, the two added up (the stale windows dropped)")
    codes = s.stop_all()
    c.eq(codes, {"a": 0, "b": 0}, "both stop with exit code 0")


if __name__ == "__main__":
    kk.Scenario("sigstop").run(main)
