#!/usr/bin/env python3
"""kafka_brokers.py (issue 14, scenario 6): a partition leader moved, then a broker set down and up
while messages keep coming: no gap, no duplicate (the windows equal the reference), and /health
says the input is degraded while the broker is down, ok again after. Last, SIGTERM with every
broker down stops the daemon promptly.

usage: kafka_brokers.py PATH/TO/logwarden
"""

import threading
import time

import kafkakit as kk
import e2e

N = 6000


def degraded_inputs(a):
    """The inputs /health calls degraded, with their reasons ({} when it does not answer)."""
    _, body = a.health()
    return {k: v.get("detail") for k, v in ((body or {}).get("inputs") or {}).items()
            if v.get("status") == "degraded"}

def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})
    a = s.instance("a").start()
    c.check(e2e.wait_for(lambda: len(kk.assigned(a)) == 6, 30, 0.2), "the instance owns the "
            "6 partitions", kk.assigned(a))
    code, body = a.health()
    c.check(code == 200 and (body or {}).get("status") == "healthy" and not degraded_inputs(a),
            "/health is healthy at first", (code, body))
    msgs = kk.messages(N)
    stop = threading.Event()

    def producer():
        for k in range(0, N, 100):
            while kk.produce(mock.bootstrap, "logs", msgs[k:k + 100]) != 0 and \
                    not stop.is_set():
                time.sleep(0.5)   # a partition without a reachable leader: kcat gives up; again
            time.sleep(0.05)

    t = threading.Thread(target=producer, daemon=True)
    t.start()
    e2e.wait_for(lambda: a.consumed() >= N // 6, 30, 0.1)
    lag = e2e.wait_for(lambda: ((a.health()[1] or {}).get("inputs", {}).get("bus") or {})
                       .get("lag"), 10, 0.2)
    c.check(isinstance(lag, dict) and isinstance(lag.get("messages"), int),
            "/health: the kafka input's lag in messages", lag)
    c.eq(mock.cmd("leader logs 0 2"), "ok", "partition 0's leader moved to broker 2")
    c.eq(mock.cmd("leader logs 1 3"), "ok", "partition 1's leader moved to broker 3")
    e2e.wait_for(lambda: a.consumed() >= N // 3, 30, 0.1)

    c.eq(mock.cmd("leader logs 2 1"), "ok", "partition 2's leader is broker 1")
    e2e.wait_for(lambda: a.consumed() >= N // 2, 30, 0.1)
    c.eq(mock.cmd("down 1"), "ok", "broker 1 down")
    degraded = e2e.wait_for(lambda: degraded_inputs(a), 30, 0.3)
    c.check(degraded, "/health says degraded while the broker is down", a.health())
    c.check(a.alive(), "the daemon keeps running")
    # Broker 1 leads partitions the instance owns: they cannot be read until it is back, so the
    # input stays degraded for the whole outage, not for one reconnect attempt.
    samples = []
    for _ in range(8):
        time.sleep(0.25)
        samples.append(bool(degraded_inputs(a)))
    c.check(all(samples), "/health stays degraded while the broker is down (8 looks over 2 s)",
            f"degraded at {sum(samples)} of 8 looks")
    c.eq(mock.cmd("up 1"), "ok", "broker 1 up")
    ok = e2e.wait_for(lambda: not degraded_inputs(a) and a.health()[0] == 200, 40, 0.3)
    c.check(ok, "/health is ok again once it is back", a.health())
    t.join(120)
    stop.set()
    back = kk.consume_all(mock.bootstrap, "logs")
    seqs = sorted(m["value"]["seq"] for m in back)
    c.check(set(seqs) == set(range(N)), "every message made it to the topic",
            f"{len(set(seqs))} distinct of {N}")
    ref = kk.reference(back)
    got = kk.settle([a], ref, 60)
    kk.compare(c, got, ref, "through a leader move and a broker outage")
    # Stopping while Kafka is unreachable: the revoke's commit cannot reach the coordinator;
    # the daemon still stops, promptly, with what SQLite holds (the authority).
    c.eq(mock.cmd("down -1"), "ok", "every broker down")
    time.sleep(2)
    t0 = time.monotonic()
    c.eq(s.stop_all(), {"a": 0}, "SIGTERM with every broker down: exit code 0")
    c.check(time.monotonic() - t0 < 20, f"within 20 s ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    kk.Scenario("brokers").run(main)
