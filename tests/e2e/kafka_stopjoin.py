#!/usr/bin/env python3
"""kafka_stopjoin.py (librdkafka#4312): a member stopped after its JoinGroup succeeded but before
its first assignment stops with exit code 0. librdkafka 2.0.2 picks the group's assignor when a
JoinGroup succeeds and creates the cooperative-sticky assignor's state only when a SyncGroup
brings an assignment; rd_kafka_destroy then calls the assignor's state destructor with that NULL
state, which asserts (rdkafka_sticky_assignor.c:1896) and aborts the daemon. Fixed upstream in
2.3.0 (PR #4381); the kafka input works around it (kafka_input.c, kafka_stop).

1. Deterministic: the mock answers every SyncGroup with REBALANCE_IN_PROGRESS (reqerr 14 27),
   so the member joins again and again and never gets an assignment. SIGTERM once librdkafka
   logged a successful JoinGroup (debug: cgrp, log_level: debug): the daemon exits 0 (before the
   workaround: SIGABRT) and says why it left its librdkafka handle to the exit.
2. The way it was met (e2e.kafka_pause, under load): a second member stopped while the group
   rebalances to take it in. SIGTERM right after its JoinGroup succeeded: it waits (bounded) for
   the assignment, leaves the group the ordinary way and exits 0.

usage: kafka_stopjoin.py PATH/TO/logwarden
"""

import re
import signal
import time

import kafkakit as kk
import e2e

JOINED = re.compile(r"librdkafka JOINGROUP: .*JoinGroup response: GenerationId .*\(no error\)")
DEBUG = "      debug: cgrp\n"


def debug_instance(s, name, group, **kw):
    """An instance whose librdkafka cgrp debug lines reach its stderr."""
    i = s.instance(name, group=group, properties=DEBUG, **kw)
    cfg = open(i.cfg).read().replace("log_level: info", "log_level: debug", 1)
    i.tmp.write("logwarden.yaml", cfg)
    return i


def joined(inst):
    return bool(JOINED.search(inst.stderr()))


def stop_code(inst):
    """SIGTERM, the exit code (negative: the signal that ended it) and the seconds it took."""
    t0 = time.monotonic()
    code = inst.stop() if inst.alive() else inst.d.proc.returncode
    return code, time.monotonic() - t0


def main(s):
    c = s.c
    mock = s.start_mock(3, {"logs": 6})

    # 1. Never assigned: every SyncGroup fails.
    c.eq(mock.cmd("reqerr 14 27 1000"), "ok", "every SyncGroup fails (REBALANCE_IN_PROGRESS)")
    a = debug_instance(s, "a", "lw-never").start()
    c.check(e2e.wait_for(lambda: joined(a), 15, 0.05), "the member's JoinGroup succeeded",
            e2e.tail(a.stderr(), 10))
    c.check(not kk.assigned(a), "and it has no assignment")
    code, took = stop_code(a)
    err = a.stderr()
    c.check(code == 0, f"stopped before its first assignment, it exits 0 (exit code {code}, "
            f"{took:.1f} s)", e2e.tail(err, 12))
    c.check("Assertion" not in err and "4312" in err, "no assertion; it says why its librdkafka "
            "handle is left to the exit (librdkafka#4312)", e2e.tail(err, 6))
    # The pushed SyncGroup errors outlast this part: the second part has a mock of its own.
    mock.stop()
    s.mock = None
    mock = s.start_mock(3, {"logs": 6})

    # 2. A second member stopped while the group takes it in (session 3 s: the mock waits up to
    # session - 1 s for the members to join again). The coordinator answers 0.8 s late while the
    # second member joins, so that its SyncGroup answer comes well after its JoinGroup's: SIGTERM
    # in between.
    c.eq(mock.cmd("coordinator lw-two 1"), "ok", "broker 1 coordinates the group")
    b = s.instance("b", group="lw-two", session=3000).start()
    c.check(e2e.wait_for(lambda: len(kk.assigned(b)) == 6, 20, 0.1), "the first member owns the "
            "6 partitions")
    c.eq(mock.cmd("rtt 1 800"), "ok", "the coordinator answers 0.8 s late")
    d = debug_instance(s, "d", "lw-two", session=3000).start()
    c.check(e2e.wait_for(lambda: joined(d), 20, 0.02), "a second member's JoinGroup succeeded",
            e2e.tail(d.stderr(), 10))
    t0 = time.monotonic()
    d.d.proc.send_signal(signal.SIGTERM)
    c.eq(mock.cmd("rtt 1 0"), "ok", "the coordinator answers at once again")
    code = d.d.proc.wait(timeout=20)
    d.stopped = True
    took = time.monotonic() - t0
    err = d.stderr()
    c.check(code == 0, f"stopped during that rebalance, it exits 0 (exit code {code}, "
            f"{took:.1f} s)", e2e.tail(err, 12))
    c.check("waiting up to" in err and "instead of destroyed" not in err, "it waited for its "
            "first assignment and left the group the ordinary way", e2e.tail(err, 12))
    c.eq(s.stop_all(), {"b": 0}, "the first member stops with exit code 0")


if __name__ == "__main__":
    kk.Scenario("stopjoin").run(main)
