#!/usr/bin/env python3
"""kafka_fleet.py: examples/fleet holds together. Both instances' configs pass `logwarden check`
without a warning (their alerts group by the message key, so none is split across instances), and
`examples/fleet/run.sh BIN --check` (the one command the README gives) runs the two instances in
one group behind an Alertmanager on loopback ports: the two alerts the producer provokes reach the
Alertmanager, each once.

usage: kafka_fleet.py PATH/TO/logwarden
"""

import os

import kafkakit as kk
import e2e

FLEET = os.path.join(e2e.REPO, "examples", "fleet")


def main(s):
    c = s.c
    for x in ("a", "b"):
        r = e2e.run([s.binary, "check", "-c", os.path.join(FLEET, f"logwarden-{x}.yaml")])
        c.eq(r.returncode, 0, f"logwarden check passes on examples/fleet/logwarden-{x}.yaml")
        c.check("warning" not in r.stderr + r.stdout, "without a warning", r.stderr)
    env = dict(os.environ, AM_PORT=str(e2e.free_port()), A_PORT=str(e2e.free_port()),
               B_PORT=str(e2e.free_port()), LW_MOCKKAFKA=kk.mockkafka_path())
    r = e2e.run([os.path.join(FLEET, "run.sh"), s.binary, "--seconds", "12", "--check"],
                timeout=150, env=env)
    print("\n".join("     | " + line for line in r.stdout.splitlines()))
    c.eq(r.returncode, 0, "examples/fleet/run.sh --check: both alerts reach the Alertmanager once",
         )
    c.check("instance a owns partitions [" in r.stdout and "instance b [" in r.stdout and
            "[]" not in r.stdout.split("instance a owns")[1].split("\n")[0],
            "the two instances share the partitions", r.stdout + r.stderr)


if __name__ == "__main__":
    kk.Scenario("fleet").run(main)
