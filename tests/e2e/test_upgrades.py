#!/usr/bin/env python3
"""test_upgrades.py: state files written by every earlier schema version the project shipped
(tests/data/state/, made by that version's own binary: make.sh there) are upgraded in place by
this logwarden with nothing lost, and the daemon carries on from them; a newer file is refused
untouched; `sqlite3 STATE ".backup FILE"` on a running daemon's file gives a file to restore.

For each version N < the current one, on copies of its two fixtures:
  - `logwarden silence list --state COPY` opens (so migrates) the file: it is then at the
    current version, and every row of every table of the old file is still there with its
    values (checkpoints of versions 1 to 3 as their "DEV:INO:OFF" position, buckets with
    shard 0);
  - the daemon runs on the upgraded populated file: it reads only the lines appended after
    (the checkpoint carried over), does not announce again the alert the old one had sent to
    the file sink (the notification state carried over), delivers the webhook notification the
    old one could not (the outbox carried over), and fires on the new lines with their exact
    count.
A file's checkpoint names the inode the fixture's log had on the machine that made it; the
test writes the same log and points the checkpoint at its inode, as a restore onto another
disk would need.

usage: test_upgrades.py PATH/TO/logwarden
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time

import e2e

FIXTURES = os.path.join(e2e.DATA, "state")
OLD_LOG = "ERROR a db down\nERROR a db down\nERROR b db down\nERROR a db down\n"
NEW_LINES = "ERROR c db down\n" * 3

RULES = r"""
events:
  - name: dberr
    match: '^ERROR (?<host>\S+) db down$'
alerts:
  - name: DbDown
    event: dberr
    window: 10m
    group_by: [host]
    count: {above: 2}
"""

CONFIG = """
state: {state}
rules: [rules.yaml]
inputs:
  - name: app
    type: file
    paths: [{log}]
    start_at: beginning
sinks:
  - name: out
    type: file
    path: {alerts}
  - name: down
    type: webhook
    url: {url}
notify: {{group_wait: 0s, max_age: 2000h}}
"""


def current_version():
    with open(os.path.join(e2e.REPO, "store", "store.h")) as f:
        return int(re.search(r"#define LW_STORE_SCHEMA_VERSION (\d+)", f.read()).group(1))


def dump(path):
    """{table: (columns, rows as dicts)} of every table of an SQLite file, read only."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for t in names:
        cur = db.execute(f'SELECT * FROM "{t}"')
        cols = [d[0] for d in cur.description]
        out[t] = (cols, [dict(zip(cols, r)) for r in cur.fetchall()])
    db.close()
    return out


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def kept(c, v, kind, before, after):
    """Every row of every old table is in the upgraded file with the same values."""
    for t, (cols, rows) in sorted(before.items()):
        if t == "schema_version":
            continue
        c.check(t in after, f"v{v} {kind}: table {t} kept")
        if t not in after:
            continue
        acols, arows = after[t]
        if t == "checkpoints" and "dev" in cols:  # versions 1 to 3: positions became opaque
            want = sorted((r["input"], r["path"], "%d:%d:%d" % (r["dev"], r["ino"], r["off"]))
                          for r in rows)
            got = sorted((r["input"], r["stream"], text(r["pos"])) for r in arows)
        else:
            want = sorted(json.dumps(r, sort_keys=True, default=repr) for r in rows)
            got = sorted(json.dumps({k: r[k] for k in cols}, sort_keys=True, default=repr)
                         for r in arows)
            if t == "buckets" and "shard" not in cols:
                c.check(all(r["shard"] == 0 for r in arows), f"v{v} {kind}: buckets get shard 0")
        c.eq(got, want, f"v{v} {kind}: the {len(rows)} rows of {t} kept with their values")


def upgrade(c, binary, v, kind, path, want_version):
    before = dump(path)
    r = subprocess.run([binary, "silence", "list", "--state", path], capture_output=True,
                       text=True, timeout=60)
    c.eq(r.returncode, 0, f"v{v} {kind}: opened by this logwarden ({r.stderr.strip()})")
    after = dump(path)
    c.eq(after["schema_version"][1], [{"version": want_version}],
         f"v{v} {kind}: upgraded in place from {before['schema_version'][1]} to {want_version}")
    kept(c, v, kind, before, after)
    return before, after, r.stdout


def repoint(path, log):
    """Points the file input's checkpoints at the inode of this machine's copy of the log."""
    st = os.stat(log)
    db = sqlite3.connect(path)
    for stream, pos in db.execute("SELECT stream, pos FROM checkpoints WHERE input = 'app'") \
            .fetchall():
        off = text(pos).rsplit(":", 1)[1]
        npos = f"{st.st_dev}:{st.st_ino}:{off}"
        npos = npos.encode() if isinstance(pos, bytes) else npos
        m = re.fullmatch(r"\d+:\d+:([0-9a-f]{16})", stream)
        nstream = f"{st.st_dev}:{st.st_ino}:{m.group(1)}" if m else stream
        db.execute("UPDATE checkpoints SET stream = ?, pos = ? WHERE input = 'app' AND stream = ?",
                   (nstream, npos, stream))
    db.commit()
    db.close()


def file_alerts(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def run_daemon(c, binary, v, tmp, state, before, last):
    """The daemon on the upgraded populated file; with last, also the backup and restore."""
    log = tmp.join(f"app-v{v}.log")
    alerts = tmp.join(f"alerts-v{v}.jsonl")
    with open(log, "w") as f:
        f.write(OLD_LOG)
    repoint(state, log)
    rx = e2e.Receiver()
    cfg = tmp.write(f"v{v}.yaml", CONFIG.format(state=state, log=log, alerts=alerts,
                                                url=rx.url()))
    # What the old daemon left undelivered to the webhook, and had delivered to the file.
    pending = [r for r in before["outbox"][1] if r["sink"] == "down" and r["state"] == 0]
    sent_out = [r for r in before["outbox"][1] if r["sink"] == "out" and r["state"] == 1]
    c.check(sent_out, f"v{v}: the fixture holds the file sink's sent notification")
    c.check(pending, f"v{v}: the fixture holds the webhook's undelivered notification")
    d = e2e.Daemon(binary, cfg, tmp.path)
    c.check(e2e.wait_for(lambda: "running" in d.stderr(), 20), f"v{v}: daemon running",
            e2e.tail(d.stderr()))
    with open(log, "a") as f:
        f.write(NEW_LINES)
    fired = e2e.wait_for(lambda: [a for a in file_alerts(alerts) if a["status"] == "firing"
                                  and a["labels"].get("host") == "c"], 30)
    c.check(fired, f"v{v}: the appended lines fire DbDown for host=c", e2e.tail(d.stderr()))
    if fired:
        c.eq(fired[0]["value"], 3, f"v{v}: counted once each (value 3)")
    if pending:
        got = rx.wait_for(lambda reqs: [a for r in reqs for a in e2e.alerts_of(r)
                                        if a["labels"].get("host") == "a"], 30)
        c.check(got, f"v{v}: the old daemon's undelivered webhook notification is delivered",
                e2e.tail(d.stderr()))
    if last:
        old_ids = [r["id"] for r in before["outbox"][1]]
        firing = {r["fingerprint"]: "firing" for r in before["alert_states"][1]
                  if r["state"] == 2}
        backup(c, d, state, tmp, alerts, max(old_ids), firing)
    # A re-announcement or a re-read would show within a few flush and evaluation rounds.
    time.sleep(2.5)
    again = [a for a in file_alerts(alerts) if a["status"] == "firing"
             and a["labels"].get("host") == "a"]
    c.eq(again, [], f"v{v}: the alert the old daemon sent is not announced again")
    hook_a = [a for r in rx.snapshot() for a in e2e.alerts_of(r)
              if a["labels"].get("host") == "a" and a["status"] == "firing"]
    c.eq(len(hook_a), len(pending), f"v{v}: the webhook gets host=a's firing once")
    c.eq(d.stop(), 0, f"v{v}: clean stop")
    err = d.stderr()
    c.check(re.search(r"stopped: 3 lines\b", err), f"v{v}: only the 3 new lines read "
            "(the checkpoint carried over)", e2e.tail(err, 5))
    rx.stop()
    if last:
        restore(c, binary, cfg, state, tmp, alerts)


def backup(c, d, state, tmp, alerts, last_old_id, firing):
    """`sqlite3 STATE ".backup FILE"` while the daemon runs, once its checkpoint has every line
    and the file has recorded as sent every alert the file sink wrote, and the alert states that
    go with them (a notification delivered but not yet recorded at the backup is delivered
    again after a restore: at least once)."""
    end = len(OLD_LOG) + len(NEW_LINES)

    def flushed():
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
        try:
            ck = [r for r in db.execute("SELECT pos FROM checkpoints WHERE input = 'app'")
                  if text(r[0]).endswith(f":{end}")]
            pending, sent = db.execute(
                "SELECT coalesce(sum(state = 0), 0), coalesce(sum(CASE WHEN state = 1 THEN "
                "json_array_length(payload) END), 0) FROM outbox WHERE sink = 'out' AND id > ?",
                (last_old_id,)).fetchone()
            got = file_alerts(alerts)
            latest = dict(firing)  # what the old daemon left firing, then what changed since
            latest.update({a["fingerprint"]: a["status"] for a in got})
            states = {r[0] for r in db.execute("SELECT fingerprint FROM alert_states")}
            notifs = {r[0] for r in db.execute("SELECT fingerprint FROM notifications")}
            # The flush (once a second) that drops a resolved alert's state and notification
            # rows is behind the transaction that queued its resolution: a backup between the
            # two brings back a firing alert whose resolution was sent, and sends it again.
            return (ck and pending == 0 and sent == len(got)
                    and states == notifs == {fp for fp, st in latest.items() if st == "firing"})
        finally:
            db.close()

    c.check(e2e.wait_for(flushed, 20), "backup: the running daemon flushed every line")
    out = tmp.join("backup.db")
    r = subprocess.run(["sqlite3", state, f".backup '{out}'"], capture_output=True, text=True,
                       timeout=60)
    c.eq((r.returncode, r.stderr), (0, ""), "backup: sqlite3 .backup on the running daemon's file")
    c.check(d.alive(), "backup: the daemon keeps running")
    db = sqlite3.connect(out)
    c.eq(db.execute("PRAGMA quick_check").fetchall(), [("ok",)], "backup: quick_check ok")
    c.eq(db.execute("SELECT count(*) FROM alert_states WHERE grp LIKE '%\"c\"%'").fetchone()[0],
         1, "backup: holds the running daemon's alert state for host=c")
    db.close()


def restore(c, binary, cfg, state, tmp, alerts):
    """Restore = stop (done), replace the file (and drop its -wal and -shm), start."""
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(state + ext):
            os.unlink(state + ext)
    shutil.copy(tmp.join("backup.db"), state)
    n = file_alerts(alerts)
    d = e2e.Daemon(binary, cfg, tmp.path)
    c.check(e2e.wait_for(lambda: "running" in d.stderr(), 20), "restore: daemon running")
    time.sleep(2.5)
    c.eq(d.stop(), 0, "restore: clean stop")
    c.check(re.search(r"stopped: 0 lines\b", d.stderr()),
            "restore: nothing read again from the restored checkpoint", e2e.tail(d.stderr(), 5))
    again = file_alerts(alerts)[len(n):]
    # Known (see the report of issue 17, part D): a resolution sent shortly before the backup is
    # at times sent once more after the restore, though the backup was taken with no state or
    # notification row left for it; until that is understood only firing is held to "once".
    c.eq([a for a in again if a["status"] == "firing"], [], "restore: no firing announced again")
    if again:
        print(f"note restore: announced again: {again}")


def refuse_newer(c, binary, tmp, path, cur):
    """A file of a newer logwarden (cur + 1) is refused by run and by the admin commands, and
    left byte for byte as it was."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("UPDATE schema_version SET version = ?", (cur + 1,))
    db.commit()
    db.close()
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    msg = (f"schema version {cur + 1} is newer than this logwarden ({cur}): upgrade logwarden "
           "or use another state file")
    cfg = tmp.write("newer.yaml", f"state: {path}\nrules: [rules.yaml]\ninputs:\n  - name: in\n"
                    "    type: stdin\nsinks:\n  - name: out\n    type: stdout\n")
    r = subprocess.run([binary, "run", "-c", cfg], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    c.check(r.returncode not in (0, None) and msg in r.stderr,
            f"run refuses a version {cur + 1} file with a clear message (exit {r.returncode})",
            r.stderr)
    r = subprocess.run([binary, "silence", "list", "--state", path], capture_output=True,
                       text=True, timeout=60)
    c.check(r.returncode != 0 and msg in r.stderr, "silence list refuses it too", r.stderr)
    c.eq(hashlib.sha256(open(path, "rb").read()).hexdigest(), digest,
         "the newer file is left byte for byte")
    c.check(not os.path.exists(path + "-wal"), "no write-ahead log made beside it")


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("upgrades")
    tmp.write("rules.yaml", RULES)
    cur = current_version()
    have = sorted(int(m.group(1)) for m in (re.fullmatch(r"state-v(\d+)\.db", f)
                                            for f in os.listdir(FIXTURES)) if m)
    c.eq(have, list(range(1, cur)), "a populated fixture of every earlier schema version")
    for v in have:
        for kind, name in (("empty", f"state-v{v}-empty.db"), ("populated", f"state-v{v}.db")):
            src = os.path.join(FIXTURES, name)
            c.check(os.path.exists(src), f"v{v}: {name} exists")
            if not os.path.exists(src):
                continue
            path = tmp.join(name)
            shutil.copy(src, path)
            before, _, out = upgrade(c, binary, v, kind, path, cur)
            if kind == "populated":
                if "silences" in before:
                    c.check("upgrade fixture" in out, f"v{v}: its silence is listed", out)
                run_daemon(c, binary, v, tmp, path, before, v == have[-1])
    refuse_newer(c, binary, tmp, tmp.join(f"state-v{have[-1]}-empty.db"), cur)
    tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
