#!/usr/bin/env python3
"""producer.py: the fleet example's producer: JSON application logs keyed by service, sent with
kcat (the message key is the service, so each service stays on one partition).

    producer.py BROKERS [--seconds 20] [--rate 200] [--topic app-logs]

Eight services log at --rate messages a second in all; from the fifth second on, `checkout`
logs errors at a rate that crosses ServiceErrors (above 20 in a minute) and `search` gets slow
enough for ServiceSlow (p95 above 800 ms).
"""
import argparse
import json
import random
import subprocess
import time

SERVICES = ["checkout", "search", "auth", "cart", "catalog", "payments", "profile", "shipping"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("brokers")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--topic", default="app-logs")
    a = ap.parse_args()
    kcat = subprocess.Popen(["kcat", "-P", "-b", a.brokers, "-t", a.topic, "-K", "\t",
                             "-X", "linger.ms=20"], stdin=subprocess.PIPE, text=True)
    rnd = random.Random(1)
    start = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - start) < a.seconds:
        due = int(elapsed * a.rate) + 1
        for _ in range(due - sent):
            svc = rnd.choice(SERVICES)
            bad = elapsed > 5
            level = "error" if (bad and svc == "checkout") or rnd.random() < 0.01 else "info"
            latency = rnd.randint(900, 2000) if bad and svc == "search" else rnd.randint(5, 300)
            doc = {"service": svc, "level": level, "latency_ms": latency,
                   "message": "payment declined" if level == "error" else "ok"}
            kcat.stdin.write(f"{svc}\t{json.dumps(doc)}\n")
        kcat.stdin.flush()
        sent = due
        time.sleep(0.05)
    kcat.stdin.close()
    kcat.wait()
    print(f"producer: {sent} messages to {a.topic} in {a.seconds:.0f} s")
    return kcat.returncode


if __name__ == "__main__":
    raise SystemExit(main())
