/* store_sql.h: the SQL text of the state file: pragmas, migrations and every prepared statement. */
#ifndef LW_STORE_SQL_H
#define LW_STORE_SQL_H

/* Per connection, before anything else. WAL lets the HTTP reader and the sink workers read while
 * the pipeline writes; synchronous=NORMAL is durable across application crashes and only risks
 * the last commits on power loss, which replaying from the checkpoints covers. */
#define LW_SQL_PRAGMAS                                                                             \
    "PRAGMA journal_mode = WAL;"                                                                   \
    "PRAGMA synchronous = NORMAL;"                                                                 \
    "PRAGMA foreign_keys = OFF;"

/* Always present, whatever the version: one row holding the schema version of the file. */
#define LW_SQL_SCHEMA_VERSION_TABLE                                                                \
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"

/* Migration i takes the file from version i to i + 1. Append, never edit a released one. */
static const char *const lw_store_migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE checkpoints ("
    "  input TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  dev INTEGER NOT NULL," /* uint64 stored bit for bit in SQLite's int64 */
    "  ino INTEGER NOT NULL,"
    "  off INTEGER NOT NULL,"
    "  PRIMARY KEY (input, path)"
    ") WITHOUT ROWID;"

    "CREATE TABLE buckets ("
    "  alert TEXT NOT NULL,"
    "  grp TEXT NOT NULL,"
    "  bucket INTEGER NOT NULL," /* covers ((bucket-1)*res_s, bucket*res_s] */
    "  res_s INTEGER NOT NULL,"
    "  count REAL NOT NULL,"
    "  matched REAL NOT NULL,"
    "  sum REAL NOT NULL,"
    "  min REAL NOT NULL,"
    "  max REAL NOT NULL,"
    "  PRIMARY KEY (alert, grp, bucket)"
    ");"
    /* Expiry deletes by end time; the expression must match LW_SQL_BUCKET_EXPIRE exactly. */
    "CREATE INDEX buckets_by_end ON buckets (bucket * res_s);"

    "CREATE TABLE alert_states ("
    "  fingerprint TEXT PRIMARY KEY,"
    "  alert TEXT NOT NULL,"
    "  grp TEXT NOT NULL,"
    "  state INTEGER NOT NULL," /* 1 pending, 2 firing; inactive rows are deleted */
    "  active_since_ns INTEGER NOT NULL,"
    "  fired_ns INTEGER NOT NULL,"
    "  value REAL NOT NULL"
    ");"
    "CREATE INDEX alert_states_by_alert ON alert_states (alert);"

    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: delivery order */
    "  sink TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  created_ns INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_ns INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0," /* 0 pending, 1 sent, 2 failed */
    "  last_error TEXT,"
    "  sent_ns INTEGER"
    ");"
    /* Partial indexes: the head lookup and the pruning only ever look at one state. */
    "CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 0;"
    "CREATE INDEX outbox_sent ON outbox (sent_ns) WHERE state = 1;",

    /* 1 -> 2: notification state per alert and sink, silences, bucket sketches. */
    "CREATE TABLE notifications ("
    "  fingerprint TEXT NOT NULL,"
    "  sink TEXT NOT NULL,"
    "  alert TEXT NOT NULL,"
    "  status INTEGER NOT NULL," /* the alert now: 1 firing, 0 resolved */
    "  payload TEXT NOT NULL,"   /* its latest alert object */
    "  changed_ns INTEGER NOT NULL,"
    "  notified INTEGER NOT NULL," /* what the sink was last told: -1 nothing, 0, 1 */
    "  notified_ns INTEGER NOT NULL,"
    "  PRIMARY KEY (fingerprint, sink)"
    ") WITHOUT ROWID;"

    "CREATE TABLE silences ("
    "  id TEXT PRIMARY KEY,"
    "  matchers TEXT NOT NULL," /* JSON: [{"name":..,"value":..,"regex":false}] */
    "  starts_ns INTEGER NOT NULL,"
    "  ends_ns INTEGER NOT NULL,"
    "  comment TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_ns INTEGER NOT NULL"
    ");"

    "ALTER TABLE buckets ADD COLUMN sketch BLOB;",

    /* 2 -> 3: groups and max_groups overflow per alert, for `logwarden status`. */
    "CREATE TABLE alert_usage ("
    "  alert TEXT PRIMARY KEY,"
    "  groups INTEGER NOT NULL,"
    "  max_groups INTEGER NOT NULL,"
    "  overflow INTEGER NOT NULL," /* events dropped at max_groups since the daemon started */
    "  bytes INTEGER NOT NULL,"
    "  updated_ns INTEGER NOT NULL"
    ") WITHOUT ROWID;",

    /* 3 -> 4: positions are opaque to the core: the input encodes them, the store keeps the
     * bytes under (input, stream). Rows of the file input become its encoding, "DEV:INO:OFF"
     * in decimal (ingest/file/file.c file_pos_encode), so an upgraded daemon resumes exactly
     * where the old one stopped. */
    "CREATE TABLE checkpoints_v4 ("
    "  input TEXT NOT NULL,"
    "  stream TEXT NOT NULL," /* the input's stream id (files: the path) */
    "  pos BLOB NOT NULL,"    /* the input's encoding */
    "  PRIMARY KEY (input, stream)"
    ") WITHOUT ROWID;"
    "INSERT INTO checkpoints_v4 (input, stream, pos) "
    "  SELECT input, path, CAST(printf('%d:%d:%d', dev, ino, off) AS BLOB) FROM checkpoints;"
    "DROP TABLE checkpoints;"
    "ALTER TABLE checkpoints_v4 RENAME TO checkpoints;",

    /* 4 -> 5: sharded inputs (Kafka partitions) keep each shard's buckets apart, so that a
     * shard given away takes exactly its events with it: the shard joins the buckets' key
     * (0: not sharded, every row before), and shards are numbered by (input, stream). SQLite
     * cannot change a primary key in place: the table is copied. */
    "CREATE TABLE shards ("
    "  id INTEGER PRIMARY KEY," /* >= 1: the shard of a bucket row */
    "  input TEXT NOT NULL,"
    "  stream TEXT NOT NULL," /* the input's stream id (Kafka: topic and partition) */
    "  UNIQUE (input, stream)"
    ");"
    "CREATE TABLE buckets_v5 ("
    "  alert TEXT NOT NULL,"
    "  grp TEXT NOT NULL,"
    "  bucket INTEGER NOT NULL,"
    "  res_s INTEGER NOT NULL,"
    "  count REAL NOT NULL,"
    "  matched REAL NOT NULL,"
    "  sum REAL NOT NULL,"
    "  min REAL NOT NULL,"
    "  max REAL NOT NULL,"
    "  sketch BLOB,"
    "  shard INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (alert, grp, bucket, shard)"
    ");"
    "INSERT INTO buckets_v5 (alert, grp, bucket, res_s, count, matched, sum, min, max, sketch, "
    "  shard) SELECT alert, grp, bucket, res_s, count, matched, sum, min, max, sketch, 0 "
    "  FROM buckets;"
    "DROP TABLE buckets;"
    "ALTER TABLE buckets_v5 RENAME TO buckets;"
    "CREATE INDEX buckets_by_end ON buckets (bucket * res_s);"
    /* Forgetting a shard deletes its rows (lw_flush.forget_shards). */
    "CREATE INDEX buckets_by_shard ON buckets (shard) WHERE shard != 0;",

    /* 5 -> 6: the explanation (issue 16): every alert transition of the last 24 h, and what
     * explained each alert at its last transition (value series, sample lines: a JSON object),
     * so that an alert can be explained after the daemon forgot its group, or stopped. Written
     * in the flush's transaction with the states. IF NOT EXISTS: a file whose version row was
     * set back (as tests do) migrates again. */
    "CREATE TABLE IF NOT EXISTS alert_history ("
    "  id INTEGER PRIMARY KEY,"
    "  fingerprint TEXT NOT NULL,"
    "  alert TEXT NOT NULL,"
    "  state TEXT NOT NULL," /* pending, firing, resolved, inactive */
    "  at_ns INTEGER NOT NULL,"
    "  value REAL NOT NULL"
    ");"
    "CREATE INDEX IF NOT EXISTS alert_history_by_fp ON alert_history (fingerprint, at_ns);"
    "CREATE INDEX IF NOT EXISTS alert_history_by_at ON alert_history (at_ns);"
    "CREATE TABLE IF NOT EXISTS alert_explain ("
    "  fingerprint TEXT PRIMARY KEY,"
    "  alert TEXT NOT NULL,"
    "  grp TEXT NOT NULL,"
    "  at_ns INTEGER NOT NULL,"
    "  body TEXT NOT NULL"
    ") WITHOUT ROWID;"
    /* The flush's pruning (24 h) looks by time. */
    "CREATE INDEX IF NOT EXISTS alert_explain_by_at ON alert_explain (at_ns);",
};

/* The identity of the file (store.c check_identity), read before anything is written. */
#define LW_SQL_APP_ID_GET "PRAGMA application_id"
#define LW_SQL_APP_ID_SET "PRAGMA application_id = %d" /* LW_STORE_APP_ID */
/* Every table, and how many of those the first schema made (a logwarden file before the mark). */
#define LW_SQL_OUR_TABLES                                                                          \
    "SELECT count(*), coalesce(sum(name IN ('schema_version', 'checkpoints', 'buckets', "          \
    "'alert_states', 'outbox')), 0) FROM sqlite_master WHERE type = 'table'"
#define LW_SQL_OUR_TABLES_N 5
/* The first few problems say enough. */
#define LW_SQL_QUICK_CHECK "PRAGMA quick_check(5)"

#define LW_SQL_BEGIN "BEGIN IMMEDIATE"
#define LW_SQL_COMMIT "COMMIT"
#define LW_SQL_ROLLBACK "ROLLBACK"

#define LW_SQL_VERSION_GET "SELECT max(version) FROM schema_version"
#define LW_SQL_VERSION_TABLE_EXISTS                                                                \
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
#define LW_SQL_VERSION_CLEAR "DELETE FROM schema_version"
#define LW_SQL_VERSION_SET "INSERT INTO schema_version (version) VALUES (?1)"

#define LW_SQL_CKPT_GET "SELECT pos FROM checkpoints WHERE input = ?1 AND stream = ?2"
#define LW_SQL_CKPT_DEL "DELETE FROM checkpoints WHERE input = ?1 AND stream = ?2"
#define LW_SQL_CKPT_EACH "SELECT stream, pos FROM checkpoints WHERE input = ?1"
#define LW_SQL_CKPT_PUT                                                                            \
    "INSERT INTO checkpoints (input, stream, pos) VALUES (?1, ?2, ?3) "                            \
    "ON CONFLICT (input, stream) DO UPDATE SET pos = excluded.pos"

#define LW_SQL_BUCKET_PUT                                                                          \
    "INSERT INTO buckets (alert, grp, bucket, res_s, count, matched, sum, min, max, sketch, "      \
    "shard) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "                                \
    "ON CONFLICT (alert, grp, bucket, shard) DO UPDATE SET res_s = excluded.res_s, "               \
    "count = excluded.count, matched = excluded.matched, sum = excluded.sum, "                     \
    "min = excluded.min, max = excluded.max, sketch = excluded.sketch"
/* ?1 is the cut-off in whole seconds, rounded up (see lw_store_flush). */
#define LW_SQL_BUCKET_EXPIRE "DELETE FROM buckets WHERE bucket * res_s < ?1"
#define LW_SQL_BUCKET_LOAD                                                                         \
    "SELECT alert, grp, res_s, bucket, count, matched, sum, min, max, sketch, shard FROM buckets " \
    "ORDER BY alert, grp, bucket, shard"
#define LW_SQL_BUCKET_FORGET "DELETE FROM buckets WHERE shard = ?1"
/* Made on first use: the id is found again by the SELECT. */
#define LW_SQL_SHARD_ADD "INSERT OR IGNORE INTO shards (input, stream) VALUES (?1, ?2)"
#define LW_SQL_HISTORY_ADD                                                                         \
    "INSERT INTO alert_history (fingerprint, alert, state, at_ns, value) "                         \
    "VALUES (?1, ?2, ?3, ?4, ?5)"
#define LW_SQL_HISTORY_PRUNE "DELETE FROM alert_history WHERE at_ns < ?1"
#define LW_SQL_HISTORY_GET                                                                         \
    "SELECT state, at_ns, value FROM alert_history WHERE fingerprint = ?1 AND at_ns >= ?2 "        \
    "ORDER BY at_ns, id"
#define LW_SQL_EXPLAIN_PUT                                                                         \
    "INSERT INTO alert_explain (fingerprint, alert, grp, at_ns, body) "                            \
    "VALUES (?1, ?2, ?3, ?4, ?5) "                                                                 \
    "ON CONFLICT (fingerprint) DO UPDATE SET alert = excluded.alert, grp = excluded.grp, "         \
    "at_ns = excluded.at_ns, body = excluded.body"
#define LW_SQL_EXPLAIN_PRUNE "DELETE FROM alert_explain WHERE at_ns < ?1"
#define LW_SQL_EXPLAIN_GET "SELECT body FROM alert_explain WHERE fingerprint = ?1"
/* The notifications that carried an alert: the outbox rows whose payload (an array of alert
 * objects) holds its fingerprint. */
#define LW_SQL_NOTIFS_OF                                                                           \
    "SELECT o.sink, json_extract(a.value, '$.status'), o.state, o.created_ns, o.sent_ns, "         \
    "o.attempts, o.last_error FROM outbox o, json_each(o.payload) a "                              \
    "WHERE json_valid(o.payload) AND json_extract(a.value, '$.fingerprint') = ?1 ORDER BY o.id"
#define LW_SQL_SHARD_GET "SELECT id FROM shards WHERE input = ?1 AND stream = ?2"

#define LW_SQL_STATE_PUT                                                                           \
    "INSERT INTO alert_states (fingerprint, alert, grp, state, active_since_ns, fired_ns, value) " \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "                                                         \
    "ON CONFLICT (fingerprint) DO UPDATE SET alert = excluded.alert, grp = excluded.grp, "         \
    "state = excluded.state, active_since_ns = excluded.active_since_ns, "                         \
    "fired_ns = excluded.fired_ns, value = excluded.value"
#define LW_SQL_STATE_DEL "DELETE FROM alert_states WHERE fingerprint = ?1"
#define LW_SQL_STATE_LOAD                                                                          \
    "SELECT alert, fingerprint, grp, state, active_since_ns, fired_ns, value FROM alert_states "   \
    "ORDER BY alert, fingerprint"

#define LW_SQL_OUTBOX_ADD                                                                          \
    "INSERT INTO outbox (sink, payload, created_ns, attempts, next_ns, state) "                    \
    "VALUES (?1, ?2, ?3, 0, ?3, 0)"
/* Bounded so that a flush after a long outage does not stall on a huge delete. */
#define LW_SQL_OUTBOX_PRUNE                                                                        \
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 1 AND sent_ns < ?1 "      \
    "LIMIT ?2)"
#define LW_SQL_OUTBOX_HEAD                                                                         \
    "SELECT id, sink, payload, created_ns, attempts, next_ns FROM outbox "                         \
    "WHERE sink = ?1 AND state = 0 ORDER BY id LIMIT 1"
#define LW_SQL_OUTBOX_SENT                                                                         \
    "UPDATE outbox SET state = 1, sent_ns = ?2, attempts = attempts + 1, last_error = NULL "       \
    "WHERE id = ?1 AND state = 0"
#define LW_SQL_OUTBOX_RETRY                                                                        \
    "UPDATE outbox SET attempts = attempts + 1, next_ns = ?2, last_error = ?3 "                    \
    "WHERE id = ?1 AND state = 0"
#define LW_SQL_OUTBOX_FAILED                                                                       \
    "UPDATE outbox SET state = 2, attempts = attempts + 1, last_error = ?2 "                       \
    "WHERE id = ?1 AND state = 0"
#define LW_SQL_OUTBOX_COUNTS "SELECT state, count(*) FROM outbox GROUP BY state"
/* Per sink: pending rows, the oldest one's creation, the last error a pending row holds. */
#define LW_SQL_OUTBOX_SINKS                                                                        \
    "SELECT sink, count(*), min(created_ns), (SELECT last_error FROM outbox o WHERE o.state = 0 "  \
    "AND o.sink = outbox.sink AND o.last_error IS NOT NULL ORDER BY o.id LIMIT 1) "                \
    "FROM outbox WHERE state = 0 GROUP BY sink"

#define LW_SQL_NOTIF_PUT                                                                           \
    "INSERT INTO notifications (fingerprint, sink, alert, status, payload, changed_ns, notified, " \
    "notified_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "                                        \
    "ON CONFLICT (fingerprint, sink) DO UPDATE SET alert = excluded.alert, "                       \
    "status = excluded.status, payload = excluded.payload, changed_ns = excluded.changed_ns, "     \
    "notified = excluded.notified, notified_ns = excluded.notified_ns"
#define LW_SQL_NOTIF_DEL "DELETE FROM notifications WHERE fingerprint = ?1 AND sink = ?2"
#define LW_SQL_NOTIF_LOAD                                                                          \
    "SELECT fingerprint, sink, alert, status, payload, changed_ns, notified, notified_ns "         \
    "FROM notifications ORDER BY changed_ns"

#define LW_SQL_SILENCE_PUT                                                                         \
    "INSERT OR REPLACE INTO silences (id, matchers, starts_ns, ends_ns, comment, created_by, "     \
    "created_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
#define LW_SQL_SILENCE_EXPIRE "UPDATE silences SET ends_ns = ?2 WHERE id = ?1 AND ends_ns > ?2"
/* Expired silences are kept 5 days (Alertmanager's default retention) and at most the newest
 * 1000 of them: creating and expiring silences cannot grow the file without bound. ?1: the
 * retention's start, ?2: now. */
#define LW_SQL_SILENCE_PURGE                                                                       \
    "DELETE FROM silences WHERE ends_ns <= ?2 AND (ends_ns < ?1 OR id NOT IN (SELECT id FROM "     \
    "silences WHERE ends_ns <= ?2 ORDER BY ends_ns DESC LIMIT 1000))"
/* ?1: 1 = every silence, 0 = only those not ended by ?2. */
#define LW_SQL_USAGE_CLEAR "DELETE FROM alert_usage"
#define LW_SQL_USAGE_PUT                                                                           \
    "INSERT INTO alert_usage (alert, groups, max_groups, overflow, bytes, updated_ns) "            \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define LW_SQL_USAGE_LOAD                                                                          \
    "SELECT alert, groups, max_groups, overflow, bytes, updated_ns FROM alert_usage ORDER BY "     \
    "alert"

#define LW_SQL_SILENCE_LIST                                                                        \
    "SELECT id, matchers, starts_ns, ends_ns, comment, created_by, created_ns FROM silences "      \
    "WHERE ?1 OR ends_ns > ?2 ORDER BY created_ns"

#endif
