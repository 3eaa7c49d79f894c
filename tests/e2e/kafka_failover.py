#!/usr/bin/env python3
"""kafka_failover.py (issue 14, scenario 4): one of two instances is killed with kill -9; after
its session times out its partitions move to the survivor, which rebuilds them; Debian's
prometheus-alertmanager, behind both, lists each firing alert once, none lost.

Each instance sends to the Alertmanager and to a webhook receiver (so that what logwarden itself
announced is counted too): a group that fired on the killed instance is announced once more by the
survivor after the hand-off (that is how an owner that crashed before notifying loses nothing) and
no more; a group that stayed on the survivor is announced once. Cool fires only after the failover,
crossed by messages read on both instances.

usage: kafka_failover.py PATH/TO/logwarden
"""

import time

import kafkakit as kk
import e2e

HOT = [f"hot-{i:02d}" for i in range(12)]
EXTRA = r"""  - name: Warm
    event: hot
    window: 10m
    group_by: [service]
    count: {above: 10}
  - name: Cool
    event: hot
    window: 10m
    group_by: [service]
    count: {above: 40}
"""


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    base = kk.start_alertmanager(s)
    if not base:
        return
    rx = e2e.Receiver()
    s.closers.append(rx.stop)
    a = s.instance("a", url=rx.url(), alertmanager=base, extra_rules=EXTRA).start()
    b = s.instance("b", url=rx.url(), alertmanager=base, extra_rules=EXTRA).start()
    c.check(e2e.wait_for(lambda: len(kk.assigned(a)) + len(kk.assigned(b)) == 6
                         and not kk.assigned(a) & kk.assigned(b)
                         and kk.assigned(a) and kk.assigned(b), 40, 0.3),
            "the two instances share the 6 partitions",
            f"a {sorted(kk.assigned(a))}, b {sorted(kk.assigned(b))}")
    owned_b = kk.assigned(b)
    first = kk.messages(2000) + kk.per_key(25, 100000, HOT, seed=3)
    c.eq(kk.produce(mock.bootstrap, "logs", first), 0, "kcat produced the first part")
    c.check(kk.wait_consumed([a, b], len(first), 60), "the two read it")
    c.check(e2e.wait_for(lambda: len(kk.firing(rx, "Warm", service=1)) == len(HOT), 20),
            "Warm fires for every hot key", kk.firing(rx, "Warm", service=1))
    c.check(e2e.wait_for(lambda: len(kk.am_alerts(base, "Warm")) == len(HOT), 20),
            "Alertmanager lists them")
    time.sleep(1.5)  # a flush after the notifications: b's SQLite holds what it announced

    b.kill9()
    c.check(True, "the second instance killed with SIGKILL")
    c.check(e2e.wait_for(lambda: len(kk.assigned(a)) == 6, kk.SESSION_MS / 1000 + 30, 0.3),
            "after the session timeout the survivor owns the 6 partitions", kk.assigned(a))
    rebuilt = {p for p in owned_b if (a.metric("logwarden_kafka_rebuilds_total", input="bus",
                                                partition=p) or 0) >= 1}
    c.eq(rebuilt, owned_b, "the survivor rebuilt each partition it took over")
    second = kk.messages(2000, start=2000) + kk.per_key(25, 200000, HOT, seed=4)
    c.eq(kk.produce(mock.bootstrap, "logs", second), 0, "kcat produced the second part")
    back = kk.consume_all(mock.bootstrap, "logs")
    ref = kk.reference(back)
    got = kk.settle([a], ref, 60)
    kk.compare(c, got, ref, "the survivor alone")
    c.check(e2e.wait_for(lambda: len(kk.am_alerts(base, "Cool")) == len(HOT), 20),
            "Cool (crossed across the failover) reaches the Alertmanager for every hot key",
            len(kk.am_alerts(base, "Cool")))
    time.sleep(3)
    for name in ("Warm", "Cool"):
        listed = kk.am_alerts(base, name)
        svcs = sorted(x["labels"].get("service") for x in listed)
        c.eq(svcs, sorted(HOT), f"Alertmanager lists each {name} alert once")
    part_of = {m["key"]: m["partition"] for m in back}
    want = {(k,): 2 if part_of[k] in owned_b else 1 for k in HOT}
    c.eq(kk.firing(rx, "Warm", service=1), want, "Warm: the survivor announced the killed "
         "instance's firing groups once more, its own not again")
    c.eq(kk.firing(rx, "Cool", service=1), {(k,): 1 for k in HOT}, "Cool announced once each")
    c.eq(s.stop_all(), {"a": 0}, "the survivor stops with exit code 0")


if __name__ == "__main__":
    kk.Scenario("failover").run(main)
