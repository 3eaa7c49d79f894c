#!/usr/bin/env python3
"""syslog.py: the syslog ingestion benchmark (bench/run.sh BIN --syslog): messages over UDP, TCP
(octet counting) and TLS through the 20 mixed rules, against reading the same lines from a file,
with every message accounted for.

    syslog.py --bin BUILD/logwarden [--smoke] [--lines 100000] [--reps 3] [--senders 4]
              [--seed 1] [--only file,udp,tcp,tls]

The corpus is gen.py's mix (access, JSON and syslog lines, timestamps from now on), each line
wrapped as the message of a syslog line as logger writes them, RFC 5424 and RFC 3164 in turn
("<13>1 2026-12-06T07:00:00.000Z web-3 app 1234 - - LINE", "<13>Dec  6 07:00:00 web-3
app[1234]: LINE"), so the rules match the same bodies whatever the transport. Per run, a new
`logwarden run` pinned to core 0 (taskset: its I/O and pipeline threads share that core) with
bench/rules/mixed-20.yaml and one input:
  file  the corpus as a file (type file, start_at beginning, format syslog): the same bytes,
        the same decoding, no socket: the ceiling the transports are measured against
  udp   one udp:// listener with the default settings (receive_buffer_bytes 32 MiB,
        max_buffered_bytes 32 MiB); --senders processes of bench/syslog_send.c (sendmmsg, 64
        datagrams a call, as fast as their own socket takes them: nothing waits for the daemon)
        send the corpus at once, pinned to the last core
  tcp   one tcp:// listener; --senders connections of syslog_send, octet-counted frames
  tls   one tls:// listener (a certificate made by `openssl req` in the work folder);
        --senders Python ssl clients, octet-counted frames (RFC 5425). Skipped, with the
        binary's own message, when it refuses tls:// (not built yet).
  burst as udp with nothing pinned, as deployed (the daemon's two threads may use both cores):
        the 100 000-message burst of issue 15; --receive-buffer N tries another
        receive_buffer_bytes (udp and burst)
Measured: lines/s and MB/s over the wall time from the first record read to the pipeline's last
event (sampled every 20 ms); CPU us/line (user + system of the daemon over the run, from
/proc/PID/stat) and the messages/s that makes on one core; peak RSS (VmHWM); the median of
--reps. Loss: sent (what the senders' kernels accepted) against received (lines the input
handed to the rules), dropped{kernel} and dropped{queue_full} (logwarden_input_dropped_total);
"unaccounted" is sent - received - dropped, which must be 0: a message lost where no counter
sees it. Every transport must produce the file's events when nothing was dropped.

Exit 1 when a check fails (unaccounted messages, events that differ, a run that never ends).
Details in bench/.cache/syslog ($LW_BENCH_CACHE/syslog).
"""
import argparse
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def pin(core):
    return ["taskset", "-c", str(core)] if subprocess.run(
        ["sh", "-c", "command -v taskset"], capture_output=True).returncode == 0 else []


def last_core():
    return max(os.sched_getaffinity(0))


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError):
        return 0.0


def proc_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def metrics(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def build_sender(cache):
    out = os.path.join(cache, "syslog_send")
    src = os.path.join(HERE, "syslog_send.c")
    if not os.access(out, os.X_OK) or os.path.getmtime(src) > os.path.getmtime(out):
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-std=c11", "-Wall", "-Wextra", "-o",
                        out, src], check=True)
    return out


def make_corpus(work, nlines, seed):
    """gen.py's mix from now on, each line wrapped as a syslog message (5424 and 3164 in turn)."""
    raw = os.path.join(work, "mix.log")
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "--kind", "mix", "--size",
                    f"{nlines * 260 // 1000 + 1}KB", "--seed", str(seed), "--start", "now",
                    "--out", raw], check=True)
    t = time.gmtime()
    rfc5424 = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", t)
    rfc3164 = f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {time.strftime('%H:%M:%S', t)}"
    corpus = os.path.join(work, "corpus.log")
    n = 0
    with open(raw, "rb") as src, open(corpus, "wb") as dst:
        for line in src:
            if n >= nlines:
                break
            body = line.rstrip(b"\n")
            host, pid = f"web-{n % 7}", 1000 + n % 97
            if n % 2:
                head = f"<13>1 {rfc5424} {host} app {pid} - - "
            else:
                head = f"<13>{rfc3164} {host} app[{pid}]: "
            dst.write(head.encode() + body + b"\n")
            n += 1
    os.unlink(raw)
    return corpus, n, os.path.getsize(corpus)


CONFIG = """state: {state}
log_level: warn
rules: [{rules}]
http:
  listen: 127.0.0.1:{http}
inputs:
{input}
sinks:
  - name: out
    type: file
    path: {alerts}
"""

INPUTS = {
    "file": "  - name: in\n    type: file\n    paths: [{corpus}]\n    start_at: beginning\n"
            "    format: syslog\n",
    "udp": "  - name: in\n    type: syslog\n    listen: udp://127.0.0.1:{port}\n",
    "burst": "  - name: in\n    type: syslog\n    listen: udp://127.0.0.1:{port}\n",
    "tcp": "  - name: in\n    type: syslog\n    listen: tcp://127.0.0.1:{port}\n",
    "tls": "  - name: in\n    type: syslog\n    listen: tls://127.0.0.1:{port}\n"
           "    tls: {{cert: {cert}, key: {key}}}\n",
}


def write_config(work, mode, corpus, port, http, tag, rcvbuf=0):
    cfg = os.path.join(work, f"{tag}.yaml")
    state = os.path.join(work, f"{tag}.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        try:
            os.unlink(state + suffix)
        except FileNotFoundError:
            pass
    inp = INPUTS[mode].format(corpus=corpus, port=port, cert=os.path.join(work, "cert.pem"),
                              key=os.path.join(work, "key.pem"))
    if rcvbuf and mode in ("udp", "burst"):
        inp += f"    receive_buffer_bytes: {rcvbuf}\n"
    with open(cfg, "w") as f:
        f.write(CONFIG.format(state=state, rules=os.path.join(HERE, "rules", "mixed-20.yaml"),
                              http=http, input=inp,
                              alerts=os.path.join(work, f"{tag}.alerts.jsonl")))
    return cfg


def make_cert(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert


def tls_refused(binary, work):
    """The binary's complaint about a tls:// listener, or None when it takes one."""
    make_cert(work)
    cfg = write_config(work, "tls", "", 6514, 9, "probe")
    r = subprocess.run([binary, "check", "-c", cfg], capture_output=True, text=True)
    return (r.stderr.strip() or r.stdout.strip() or "refused") if r.returncode else None


def frames(corpus, k, np):
    """The octet-counted frames of lines k, k+np, ... of the corpus, and how many."""
    out, n = [], 0
    with open(corpus, "rb") as f:
        for i, line in enumerate(f):
            if i % np == k:
                body = line.rstrip(b"\n")
                out.append(b"%d %s" % (len(body), body))
                n += 1
    return b"".join(out), n


def send_tls(port, corpus, senders, cert):
    """senders TLS connections in parallel, each with its share of the corpus; messages sent."""
    ctx = ssl.create_default_context(cafile=cert)
    shares = [frames(corpus, k, senders) for k in range(senders)]
    sent = [0] * senders

    def one(k):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(shares[k][0])
                sent[k] = shares[k][1]
                try:
                    s.unwrap()  # close_notify: a clean end of the stream
                except (OSError, ValueError):
                    pass

    threads = [threading.Thread(target=one, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(sent)


def run_once(a, binary, sender, work, mode, corpus, nlines, tag):
    udp = mode in ("udp", "burst")
    port = free_port(socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    http = free_port()
    cfg = write_config(work, mode, corpus, port, http, tag, a.receive_buffer)
    err = open(os.path.join(work, f"{tag}.stderr"), "wb")
    # burst: as deployed, nothing pinned (the daemon's two threads may use both cores).
    daemon_core, sender_core = ([], []) if mode == "burst" else (pin(0), pin(last_core()))
    p = subprocess.Popen(daemon_core + [binary, "run", "-c", cfg], stdin=subprocess.DEVNULL,
                         stdout=err, stderr=err, cwd=work)
    res = {"mode": mode, "ok": False, "sent": nlines if mode == "file" else 0}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None and not metrics(http):
            time.sleep(0.02)
        cpu0 = cpu_s(p.pid)
        senders = []
        if mode in ("udp", "burst", "tcp"):
            senders = [subprocess.Popen(sender_core + [sender, "udp" if udp else "tcp",
                                                       "127.0.0.1", str(port), corpus, str(k),
                                                       str(a.senders)],
                                        stdout=subprocess.PIPE, text=True)
                       for k in range(a.senders)]
        elif mode == "tls":
            box = {}
            th = threading.Thread(target=lambda: box.update(
                sent=send_tls(port, corpus, a.senders, os.path.join(work, "cert.pem"))))
            th.start()
        key_l = 'logwarden_input_lines_total{input="in"}'
        key_k = 'logwarden_input_dropped_total{input="in",reason="kernel"}'
        key_q = 'logwarden_input_dropped_total{input="in",reason="queue_full"}'
        t_first = None
        sent = nlines if mode == "file" else None
        last_prog, t_prog = None, time.monotonic()
        deadline = time.monotonic() + a.timeout
        m = {}
        while time.monotonic() < deadline and p.poll() is None:
            if sent is None:
                if mode == "tls" and not th.is_alive():
                    sent = box.get("sent", 0)
                elif mode != "tls" and all(s.poll() is not None for s in senders):
                    sent = sum(int(s.stdout.read().strip() or 0) for s in senders)
            m = metrics(http)
            now = time.monotonic()
            lines, kern, full = m.get(key_l, 0), m.get(key_k, 0), m.get(key_q, 0)
            ev = m.get("logwarden_events_total", 0)
            if lines and t_first is None:
                t_first = now
            prog = (lines, kern, full, ev)
            if prog != last_prog:
                last_prog, t_prog = prog, now
            # Done when every message sent is read or counted as dropped and the rules have
            # stopped producing events (or nothing moved for 2 s: some are unaccounted).
            if sent is not None and t_first is not None and \
                    ((lines + kern >= sent and now - t_prog > 0.3) or now - t_prog > 2):
                res.update(ok=lines + kern >= sent, sent=sent, read=lines, kernel=kern,
                           queue_full=full, received=lines - full, events=ev,
                           wall=t_prog - t_first, cpu=cpu_s(p.pid) - cpu0,
                           rss_mb=proc_kb(p.pid, "VmHWM") / 1024.0)
                break
            time.sleep(0.02)
        if not res["ok"] and "read" not in res:
            res.update(sent=sent or 0, read=m.get(key_l, 0), kernel=m.get(key_k, 0),
                       queue_full=m.get(key_q, 0), received=m.get(key_l, 0) - m.get(key_q, 0),
                       events=m.get("logwarden_events_total", 0))
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                res["exit"] = p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                res["exit"] = p.wait()
        else:
            res["exit"] = p.returncode
        err.close()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--lines", type=int, default=0)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="file,udp,tcp,tls,burst")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--receive-buffer", type=int, default=0,
                    help="receive_buffer_bytes for udp and burst (default: the input's default)")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    nlines = a.lines or (20000 if a.smoke else 100000)
    reps = a.reps or (1 if a.smoke else 3)
    cache = os.environ.get("LW_BENCH_CACHE", os.path.join(HERE, ".cache"))
    work = os.path.join(cache, "syslog")
    os.makedirs(work, exist_ok=True)
    sender = build_sender(cache)
    corpus, nlines, nbytes = make_corpus(work, nlines, a.seed)
    modes = [m for m in a.only.split(",") if m]
    skipped = {}
    if "tls" in modes:
        why = tls_refused(binary, work)
        if why:
            skipped["tls"] = why.splitlines()[0]
            modes.remove("tls")
            print(f"SKIP tls: this build refuses tls:// ({skipped['tls']})")
    runs = {m: [] for m in modes}
    for i in range(reps):
        for mode in modes:
            runs[mode].append(run_once(a, binary, sender, work, mode, corpus, nlines,
                                       f"{mode}-{i}"))

    failed = []
    file_events = None
    if runs.get("file"):
        file_events = statistics.median(r.get("events", 0) for r in runs["file"])

    def med(xs):
        xs = list(xs)
        return statistics.median(xs) if xs else float("nan")
    mb = nbytes / 1e6
    print(f"\nSyslog ingestion: {nlines} messages ({mb:.1f} MB, gen.py mix wrapped as RFC 5424 / "
          f"3164), 20 mixed rules, daemon on core 0, {a.senders} senders on core {last_core()}, "
          f"median of {reps}\n")
    print("| transport | lines/s | MB/s | CPU us/line | msgs/s on one core | peak RSS | sent | "
          "received | dropped kernel | dropped queue_full | unaccounted |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode in modes:
        rs = runs[mode]
        for i, r in enumerate(rs):
            un = r.get("sent", 0) - r.get("received", 0) - r.get("kernel", 0) - \
                r.get("queue_full", 0)
            r["unaccounted"] = un
            if not r["ok"] and mode == "file":
                failed.append(f"{mode} rep {i}: read {r.get('read', 0):.0f} of {nlines}")
            if un:
                failed.append(f"{mode} rep {i}: {un:.0f} messages unaccounted (sent "
                              f"{r.get('sent', 0)}, received {r.get('received', 0):.0f}, "
                              f"dropped {r.get('kernel', 0):.0f} + {r.get('queue_full', 0):.0f})")
            if r.get("exit") != 0:
                failed.append(f"{mode} rep {i}: logwarden exited {r.get('exit')}")
            lost = r.get("kernel", 0) + r.get("queue_full", 0)
            if file_events is not None and mode != "file" and not lost and \
                    r.get("events") != file_events:
                failed.append(f"{mode} rep {i}: {r.get('events', 0):.0f} events, the file gave "
                              f"{file_events:.0f}")
            if mode in ("tcp", "tls") and r.get("sent") != nlines:
                failed.append(f"{mode} rep {i}: sent {r.get('sent')} of {nlines}")
        ok = [r for r in rs if "wall" in r and r["wall"] > 0]
        if not ok:
            print(f"| {mode} | - | - | - | - | - | {rs[0].get('sent', 0)} | "
                  f"{rs[0].get('received', 0):.0f} | - | - | - |")
            continue
        wall = med(r["wall"] for r in ok)
        got = med(r["received"] for r in ok)
        cpu = med(r["cpu"] / max(r["received"], 1) for r in ok)
        print(f"| {mode} | {got / wall:,.0f} | {mb * got / nlines / wall:.1f} | {1e6 * cpu:.2f} | "
              f"{1 / cpu if cpu else 0:,.0f} | {med(r['rss_mb'] for r in ok):.1f} MiB | "
              f"{med(r['sent'] for r in ok):.0f} | {got:.0f} | "
              f"{med(r['kernel'] for r in ok):.0f} | {med(r['queue_full'] for r in ok):.0f} | "
              f"{med(r['unaccounted'] for r in ok):.0f} |")
    for mode, why in skipped.items():
        print(f"| {mode} | skipped: {why} |||||||||| ")
    for mode in ("udp", "burst"):
        if mode not in runs:
            continue
        lost = [f"{r.get('kernel', 0) + r.get('queue_full', 0):.0f}" for r in runs[mode]]
        buf = f"receive_buffer_bytes {a.receive_buffer}" if a.receive_buffer else \
            "default receive_buffer_bytes"
        print(f"\nUDP {nlines}-message burst ({a.senders} senders at full speed, {buf} and "
              f"max_buffered_bytes, "
              f"{'daemon on core 0' if mode == 'udp' else 'nothing pinned'}): lost per run "
              f"{', '.join(lost)} (kernel + queue_full; unaccounted "
              f"{max(r.get('unaccounted', 0) for r in runs[mode]):.0f})")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if file_events is not None:
        print(f"events: file {file_events:.0f}; " + ", ".join(
            f"{m} {med(r.get('events', 0) for r in runs[m]):.0f}" for m in modes if m != "file"))
    with open(os.path.join(work, "last.txt"), "w") as f:
        f.write(repr(runs) + "\n")
    for x in failed:
        print(f"FAIL {x}")
    if a.smoke:
        print(f"{'0' if failed else '1'} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
