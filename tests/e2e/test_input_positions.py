#!/usr/bin/env python3
"""test_input_positions.py: input positions across an upgrade, and the input's checkpoint call.

1. A state file of schema version 3 (checkpoints as dev, ino, off columns), written with that
   version's SQL, holds the position of app.log after its 6th line. The daemon migrates it and
   resumes there: it says it follows app.log from that offset, and only lines 7.. make alerts.
2. The file input hears of each committed position (it logs it at debug level): when it does,
   the state file already holds that position (never before the commit), and the last one it
   hears is the end of the file.
3. Positions are keyed by file identity now: the old row keyed by the path is deleted once the
   identity's own position is committed.

usage: test_input_positions.py PATH/TO/logwarden
"""

import json
import os
import re
import sqlite3

import e2e

# Schema version 3 as logwarden created it (store/store_sql.h, migrations 0 -> 1 -> 2 -> 3).
V3_SCHEMA = """
CREATE TABLE checkpoints (input TEXT NOT NULL, path TEXT NOT NULL, dev INTEGER NOT NULL,
  ino INTEGER NOT NULL, off INTEGER NOT NULL, PRIMARY KEY (input, path)) WITHOUT ROWID;
CREATE TABLE buckets (alert TEXT NOT NULL, grp TEXT NOT NULL, bucket INTEGER NOT NULL,
  res_s INTEGER NOT NULL, count REAL NOT NULL, matched REAL NOT NULL, sum REAL NOT NULL,
  min REAL NOT NULL, max REAL NOT NULL, PRIMARY KEY (alert, grp, bucket));
CREATE INDEX buckets_by_end ON buckets (bucket * res_s);
CREATE TABLE alert_states (fingerprint TEXT PRIMARY KEY, alert TEXT NOT NULL, grp TEXT NOT NULL,
  state INTEGER NOT NULL, active_since_ns INTEGER NOT NULL, fired_ns INTEGER NOT NULL,
  value REAL NOT NULL);
CREATE INDEX alert_states_by_alert ON alert_states (alert);
CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL,
  payload TEXT NOT NULL, created_ns INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_ns INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, last_error TEXT, sent_ns INTEGER);
CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 0;
CREATE INDEX outbox_sent ON outbox (sent_ns) WHERE state = 1;
CREATE TABLE notifications (fingerprint TEXT NOT NULL, sink TEXT NOT NULL, alert TEXT NOT NULL,
  status INTEGER NOT NULL, payload TEXT NOT NULL, changed_ns INTEGER NOT NULL,
  notified INTEGER NOT NULL, notified_ns INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, sink)) WITHOUT ROWID;
CREATE TABLE silences (id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_ns INTEGER NOT NULL,
  ends_ns INTEGER NOT NULL, comment TEXT NOT NULL, created_by TEXT NOT NULL,
  created_ns INTEGER NOT NULL);
ALTER TABLE buckets ADD COLUMN sketch BLOB;
CREATE TABLE alert_usage (alert TEXT PRIMARY KEY, groups INTEGER NOT NULL,
  max_groups INTEGER NOT NULL, overflow INTEGER NOT NULL, bytes INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (3);
PRAGMA application_id = 1280791108; -- "LWRD"
"""

RULES = r"""
events:
  - name: line
    match: '^line (?<n>\d+)$'
alerts:
  - name: Seen
    event: line
    window: 10m
    group_by: [n]
    count: {above: 0}
"""

CONFIG = """
state: state.db
log_level: debug
rules: [rules.yaml]
inputs:
  - name: app
    type: file
    paths: [app.log]
    poll_interval: 20ms
sinks:
  - name: out
    type: file
    path: alerts.jsonl
notify: {group_wait: 0s}
"""


def seen(tmp):
    try:
        with open(tmp.join("alerts.jsonl")) as f:
            rows = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return set()
    return {int(a["labels"]["n"]) for r in rows for a in (r if isinstance(r, list) else [r])
            if a.get("status") == "firing"}


def stored_rows(path):
    """The file input's positions in the state file: {stream: pos as text}."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return {r[0]: bytes(r[1]).decode()
                for r in db.execute("SELECT stream, pos FROM checkpoints WHERE input = 'app'")}
    finally:
        db.close()


def stored_pos(path):
    """The position of app.log's identity (stream "DEV:INO:FP", not the old path key), or None."""
    rows = stored_rows(path)
    ids = [p for s, p in rows.items() if not s.startswith("/")]
    return max(ids, key=lambda p: int(p.rsplit(":", 1)[1])) if ids else None


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("positions")
    tmp.write("rules.yaml", RULES)
    cfg = tmp.write("logwarden.yaml", CONFIG)
    log = tmp.join("app.log")
    with open(log, "w") as f:
        f.writelines(f"line {i}\n" for i in range(1, 11))
    st = os.stat(log)
    six = sum(len(f"line {i}\n") for i in range(1, 7))
    db = sqlite3.connect(tmp.join("state.db"))
    db.executescript(V3_SCHEMA)
    db.execute("INSERT INTO checkpoints VALUES ('app', ?, ?, ?, ?)",
               (log, st.st_dev, st.st_ino, six))
    db.commit()
    db.close()

    d = e2e.Daemon(binary, cfg, tmp.path)
    try:
        # 1. Migrated and resumed after line 6.
        c.check(e2e.wait_for(lambda: seen(tmp) >= {7, 8, 9, 10}, 20),
                "lines 7..10 alert after the upgrade", e2e.tail(d.stderr()))
        c.check(f"following {log} from offset {six}" in d.stderr(),
                "the file input resumes at the old checkpoint's offset", e2e.tail(d.stderr()))
        c.eq(sorted(seen(tmp)), [7, 8, 9, 10], "no line before the checkpoint is read again")

        # 2. checkpoint() after the commit, with the committed position.
        with open(log, "a") as f:
            f.writelines(f"line {i}\n" for i in range(11, 16))
        size = os.path.getsize(log)
        want = f"{st.st_dev}:{st.st_ino}:{size}"
        pat = re.compile(r"\[input:app\] " + re.escape(log) + r": position (\S+) committed")
        heard = []

        def hear_end():
            for m in pat.finditer(d.stderr()):
                pos = m.group(1)
                if pos not in heard:
                    heard.append(pos)
                    # The commit came first: the store has this position or a later one.
                    stored = stored_pos(tmp.join("state.db"))
                    c.check(stored is not None and
                            int(stored.rsplit(":", 1)[1]) >= int(pos.rsplit(":", 1)[1]),
                            f"position {pos} is in the state file when the input hears of it",
                            f"stored {stored}")
            return want in heard

        c.check(e2e.wait_for(hear_end, 20), "the input hears of the position at the end of file",
                f"heard {heard}\n" + e2e.tail(d.stderr()))
        c.eq(stored_pos(tmp.join("state.db")), want, "the state file holds that position")
        # 3. The old row (keyed by path) is deleted once the identity's own position is
        # committed: one row, keyed by identity.
        c.check(e2e.wait_for(lambda: list(stored_rows(tmp.join("state.db")).values()) == [want],
                             10),
                "the old path-keyed row is forgotten", str(stored_rows(tmp.join("state.db"))))
    finally:
        c.eq(d.stop(), 0, "clean stop")
    db = sqlite3.connect(tmp.join("state.db"))
    c.eq(db.execute("SELECT max(version) FROM schema_version").fetchone()[0], 6,
         "the state file is version 6 (the current schema)")
    db.close()
    tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
