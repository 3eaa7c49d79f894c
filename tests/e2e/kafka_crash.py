#!/usr/bin/env python3
"""kafka_crash.py (issue 14, scenario 2): kill -9 twice during consumption, restart: exact counts
(the instance resumes from its SQLite offsets and windows) and no notification twice.

Two alerts without group_by watch every message over 10 minutes:
  AllCounted   count above N-1  -> fires once, with value N (nothing lost)
  DoubleCount  count above N    -> never fires (nothing counted twice)
plus kafkakit's per-service, error and per-seq windows against the reference. The messages are
produced in bursts while the instance is killed (SIGKILL) twice at arbitrary points.

usage: kafka_crash.py PATH/TO/logwarden
"""

import threading
import time

import kafkakit as kk
import e2e

N = 6000
EXTRA = r"""  - name: AllCounted
    event: msg
    window: 10m
    count: {above: %d}
  - name: DoubleCount
    event: msg
    window: 10m
    count: {above: %d}
""" % (N - 1, N)


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    rx = e2e.Receiver()
    s.closers.append(rx.stop)
    a = s.instance("a", url=rx.url(), extra_rules=EXTRA).start()
    msgs = kk.messages(N)
    done = threading.Event()

    def producer():
        for k in range(0, N, 200):
            kk.produce(mock.bootstrap, "logs", msgs[k:k + 200])
            time.sleep(0.05)
        done.set()

    t = threading.Thread(target=producer, daemon=True)
    t.start()
    for cut in (N // 4, N // 2):
        e2e.wait_for(lambda: a.consumed() >= cut, 60, 0.1)
        time.sleep(0.3)
        a.kill9()
        c.check(True, f"killed with SIGKILL after {cut}+ messages read")
        a.start()
    t.join(120)
    c.check(done.is_set(), "kcat produced every message")
    back = kk.consume_all(mock.bootstrap, "logs")
    c.eq(len(back), N, "every message is on the topic")
    ref = kk.reference(back)
    got = kk.settle([a], ref, 60)
    kk.compare(c, got, ref, "after two crashes")

    fired = e2e.wait_for(lambda: rx.alerts(alert="AllCounted", status="firing"), 30)
    c.check(fired, "AllCounted fired (nothing lost)", e2e.tail(a.stderr()))
    if fired:
        c.eq(fired[0][1].get("value"), N, "AllCounted fired with the exact count")
    time.sleep(3)  # several flush and evaluation rounds for a duplicate to show
    c.eq(len(rx.alerts(alert="AllCounted", status="firing")), 1,
         "AllCounted announced once, across the crashes")
    c.eq(rx.alerts(alert="DoubleCount"), [], "nothing counted twice (DoubleCount never fired)")

    # A clean restart with the same partitions is not a hand-off: nothing announced again.
    c.eq(a.stop(), 0, "SIGTERM stops the instance with exit code 0")
    before = len(rx.snapshot())
    a.start()
    e2e.wait_for(lambda: kk.assigned(a), 30, 0.2)
    time.sleep(3)
    c.eq(len(rx.snapshot()), before, "a restart that resumes its partitions announces nothing")
    kk.compare(c, kk.settle([a], ref, 20), ref, "after a clean restart")


if __name__ == "__main__":
    kk.Scenario("crash").run(main)
