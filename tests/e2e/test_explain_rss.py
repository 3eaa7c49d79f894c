#!/usr/bin/env python3
"""test_explain_rss.py: the explanations' memory on an idle daemon (issue 16, "Done when").

Two daemons on the same 100 rules (one event each, one group each), side by side: one with the
sample-line rings on (`explain: {sample_lines: 20, memory: 16MiB}`, the defaults), one with them
off (`memory: 0`). Each gets 3 lines per rule once idle; once both have counted them and are idle
again, the growth of VmRSS with the rings on may exceed the growth with them off by less than
1 MB (in the plain build: ASan's allocator makes RSS meaningless), and
logwarden_explain_memory_bytes says the rings exist (100 of them) or not.

usage: test_explain_rss.py PATH/TO/logwarden
"""

import time

import e2e

RULES = 100
LINES = 3


def rules_yaml():
    out = ["events:"]
    for i in range(RULES):
        out += [f"  - name: e{i}", f"    match: '^r{i} (?<k>\\S+) '"]
    out.append("alerts:")
    for i in range(RULES):
        out += [f"  - name: A{i}", f"    event: e{i}", "    count: {above: 1000}",
                "    window: 5m", "    group_by: [k]"]
    return "\n".join(out) + "\n"


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


class Side:
    def __init__(self, binary, name, memory):
        self.td = e2e.TempDir(f"rss-{name}")
        self.port = e2e.free_port()
        self.log = self.td.join("app.log")
        open(self.log, "w").close()
        self.td.write("rules.yaml", rules_yaml())
        self.config = self.td.write("logwarden.yaml", f"""\
state: state.db
http: {{listen: 127.0.0.1:{self.port}}}
rules: [rules.yaml]
explain: {{sample_lines: 20, memory: {memory}}}
inputs:
  - {{name: app, type: file, paths: [{self.log}], start_at: beginning}}
sinks:
  - {{name: out, type: stdout}}
""")
        self.d = e2e.Daemon(binary, self.config, self.td.path)

    def up(self):
        return e2e.wait_for(lambda: e2e.metrics(self.port) or not self.d.alive(), 15) and \
            self.d.alive()

    def events(self):
        return e2e.metrics(self.port).get("logwarden_events_total", -1)

    def feed(self):
        text = "".join(f"r{i} g line {n} of rule {i} with some text after it, as logs have\n"
                       for n in range(LINES) for i in range(RULES))
        with open(self.log, "a") as f:
            f.write(text)


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    on, off = Side(binary, "on", "16MiB"), Side(binary, "off", 0)
    try:
        t.check(on.up() and off.up(), "both daemons up", on.d.stderr() + off.d.stderr())
        time.sleep(2)  # idle: the first flush and usage walk are behind them
        base = {s: vmrss_kib(s.d.proc.pid) for s in (on, off)}
        for s in (on, off):
            s.feed()
        t.check(e2e.wait_for(lambda: on.events() == RULES * LINES and
                             off.events() == RULES * LINES, 20),
                f"both counted {RULES * LINES} events", repr((on.events(), off.events())))
        time.sleep(7)  # idle again: flushed, the usage walk (every 5 s) done
        grow = {s: vmrss_kib(s.d.proc.pid) - base[s] for s in (on, off)}
        print(f"     VmRSS growth: rings on {grow[on]} KiB, off {grow[off]} KiB "
              f"(base {base[on]} / {base[off]} KiB)")
        with open(f"/proc/{on.d.proc.pid}/maps") as f:
            asan = "libasan" in f.read()
        if asan:
            # ASan's allocator fills the first 4 KiB of every allocation and keeps freed memory
            # in quarantine: its RSS says nothing of the daemon's.
            print("     (built with ASan: the RSS bound is checked in the plain build only)")
        else:
            t.check(grow[on] - grow[off] < 1024,
                    "the rings of 100 rules cost under 1 MB of RSS on an idle daemon",
                    f"on +{grow[on]} KiB, off +{grow[off]} KiB")
        mon, moff = e2e.metrics(on.port), e2e.metrics(off.port)
        ring = mon.get("logwarden_explain_memory_bytes", 0) / RULES
        t.check(ring > 1000, "with them on, 100 rings are held", repr(ring))
        t.eq(moff.get("logwarden_explain_memory_bytes"), 0, "with them off, none")
        t.eq((mon.get("logwarden_explain_no_ring_total"), moff.get("logwarden_explain_no_ring_total")),
             (0, 0), "no group went without a ring for want of memory")
    finally:
        for s in (on, off):
            t.eq(s.d.stop(timeout=15), 0, f"daemon {s.td.path}: SIGTERM -> exit 0")
            s.td.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
