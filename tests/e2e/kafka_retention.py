#!/usr/bin/env python3
"""kafka_retention.py (issue 14, scenario 7): retention shorter than the window. The mock keeps at
most 5 MiB (or 100 000 batches) per partition (tests/kafka/README.md): 7 MiB of padded messages
on one partition within a minute move its low watermark past the start of the 10-minute window.
An instance starting with `start_position: window` must read back from the window's start, finds
the head gone: the window is marked partial, counted in /metrics, said in a log line, and an
`absent` alert is held (it would fire on a window that looks empty only because it was cut).

usage: kafka_retention.py PATH/TO/logwarden
"""

import time

import kafkakit as kk
import e2e

N = 7000
EXTRA = r"""  - name: Silent
    event: never
    window: 10m
    absent: {}
"""


def main(s):
    c = s.c
    mock = s.start_mock(1, {"logs": 1})
    msgs = kk.messages(N, pad=1000)
    c.eq(kk.produce(mock.bootstrap, "logs", msgs, timeout=120), 0, f"kcat produced {N} messages "
         "of ~1 KiB to one partition")
    lo, hi = mock.watermarks("logs", 0)
    c.check(lo is not None and lo > 0 and hi == N, "the mock dropped the head: the low "
            "watermark moved", (lo, hi))
    rx = e2e.Receiver()
    s.closers.append(rx.stop)
    a = s.instance("a", start="window", url=rx.url(), extra_rules=EXTRA).start()
    back = kk.consume_all(mock.bootstrap, "logs", timeout=120)
    c.eq(len(back), N - (lo or 0), "kcat reads what is left")
    ref = kk.reference(back)
    got = kk.settle([a], ref, 60)
    kk.compare(c, got, ref, "what retention left, counted exactly")

    def partial():
        m = a.metrics()
        return sum(v for k, v in m.items() if "partial" in k and 'input="bus"' in k
                   and not k.startswith("#"))
    c.check(e2e.wait_for(lambda: partial() >= 1, 20, 0.3), "the partial window is counted in "
            "/metrics", [k for k in a.metrics() if "partial" in k])
    c.check("partial" in a.stderr().lower(), "and said in a log line", e2e.tail(a.stderr(), 10))
    time.sleep(3)
    c.eq(rx.alerts(alert="Silent"), [], "absent is held while the window is partial")
    c.eq(s.stop_all(), {"a": 0}, "the instance stops with exit code 0")


if __name__ == "__main__":
    kk.Scenario("retention").run(main)
