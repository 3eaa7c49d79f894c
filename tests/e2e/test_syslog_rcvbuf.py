#!/usr/bin/env python3
"""test_syslog_rcvbuf.py: a UDP listener whose receive_buffer_bytes is over the sysctl
net.core.rmem_max gets what the kernel allows when the daemon lacks CAP_NET_ADMIN: one warning
at start names the sysctl and the value to set, and /metrics shows the buffer granted. Run as
root, the daemon is started without privileges (setpriv to nobody, no capabilities), as
docs/operations.md advises running it.

usage: test_syslog_rcvbuf.py PATH/TO/logwarden
"""

import os
import shutil
import socket
import subprocess

import e2e

CONFIG = """
state: state.db
rules: [rules.yaml]
http: {{listen: 127.0.0.1:{http}}}
inputs:
  - name: udp
    type: syslog
    listen: udp://127.0.0.1:{port}
    receive_buffer_bytes: {want}
sinks:
  - name: out
    type: file
    path: alerts.jsonl
"""

RULES = """
events:
  - name: any
    match: 'x'
"""


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    with open("/proc/sys/net/core/rmem_max") as f:
        rmem_max = int(f.read())
    argv_prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            c.check(False, "setpriv (util-linux) is installed, to drop root")
            c.finish()
        argv_prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       "--inh-caps=-all", "--bounding-set=-all", "--"]
    tmp = e2e.TempDir("syslog-rcvbuf")
    os.chmod(tmp.path, 0o777)  # the unprivileged daemon writes its state file there
    want = rmem_max + 65536
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    http = e2e.free_port()
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("logwarden.yaml", CONFIG.format(http=http, port=port, want=want))
    d = UnprivDaemon(argv_prefix, binary, cfg, tmp.path)
    up = e2e.wait_for(lambda: "running" in d.stderr() and e2e.metrics(http), 15)
    c.check(up, "daemon started", d.stderr())
    key = f'logwarden_syslog_receive_buffer_bytes{{input="udp",listen="udp://127.0.0.1:{port}"}}'
    got = e2e.metrics(http).get(key)
    c.eq(got, rmem_max, "the buffer granted is net.core.rmem_max, not more")
    err = d.stderr()
    warn = [l for l in err.splitlines() if "capped the receive buffer" in l]
    c.eq(len(warn), 1, "one warning says the buffer was capped")
    c.check(warn and "net.core.rmem_max" in warn[0] and str(want) in warn[0] and
            str(rmem_max) in warn[0], "it names the sysctl, what was asked and what was given",
            warn)
    c.eq(d.stop(), 0, "SIGTERM exits 0")
    tmp.cleanup()
    c.finish()


class UnprivDaemon(e2e.Daemon):
    """e2e.Daemon, started through a privilege-dropping prefix (setpriv ... --; none: as is)."""

    def __init__(self, prefix, binary, config, workdir):
        self.out_path = os.path.join(workdir, "daemon.stdout")
        self.err_path = os.path.join(workdir, "daemon.stderr")
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(prefix + [binary, "run", "-c", config],
                                     stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, cwd=workdir)


if __name__ == "__main__":
    main()
