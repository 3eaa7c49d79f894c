/* store.h: the interface of the store module: the SQLite state file (schema and migrations,
 * window buckets, input checkpoints, alert states, the notification outbox). */
#ifndef LW_STORE_H
#define LW_STORE_H

#include "lw.h"

/* One connection to the state file. A handle is used by one thread at a time; each thread that
 * needs the store (pipeline, each sink worker) opens its own. WAL mode, busy timeout 5 s. */
struct lw_store;

#define LW_STORE_SCHEMA_VERSION 6
/* SQLite's application_id of a logwarden state file ("LWRD"): how a file is known to be ours. */
#define LW_STORE_APP_ID 0x4C575244

/* Opens (creating if needed, mode 0600) the state file at path, applies migrations, prepares
 * statements. ":memory:" gives a private in-memory store. *out is the caller's; close with
 * lw_store_close. Before anything is written, the file must be a logwarden state file (our
 * application_id, or an empty file, or the schema of a logwarden that predates the mark, which
 * is then marked): anything else, another application's database included, is refused
 * (LW_EINVAL) and left as it was. */
int lw_store_open(struct lw_store **out, const char *path, struct lw_err *err);
/* The same; with LW_STORE_QUICK_CHECK, a damaged file is also refused (LW_EINVAL) with what
 * `PRAGMA quick_check` says, before anything is written (the daemon at start-up: O(file)). */
#define LW_STORE_QUICK_CHECK 1u
int lw_store_open_flags(struct lw_store **out, const char *path, unsigned flags,
                        struct lw_err *err);

/* One daemon per state file: an exclusive lock (fcntl) on PATH.lock, which holds the pid of
 * its owner, kept until lw_store_unlock. LW_EAGAIN with err naming the owner's pid when another
 * process has it; ":memory:" needs none (*fd is -1). */
int lw_store_lock(const char *path, int *fd, struct lw_err *err);
void lw_store_unlock(int fd);
/* A soft limit, for the whole process, on the memory every store connection's caches may hold
 * (SQLite's page caches are 2 MB per connection by default); never a failure. */
void lw_store_limit_memory(int64_t bytes);
void lw_store_close(struct lw_store *st);
int lw_store_schema_version(struct lw_store *st);

/* ---------------------------------------------------------------- checkpoints */

/* An input's position in one of its streams: bytes only the input reads (ingest.h). */
struct lw_ckpt_row {
    const char *input;  /* input name */
    const char *stream; /* the stream id the input chose (files: the path) */
    const void *pos;    /* the position after the last line counted; NULL in a flush: the row
                           is deleted (the input forgot the stream) */
    size_t len;
};
/* Copies the position of (input, stream) into buf (cap bytes), its length in *len: 0, or
 * LW_ENOENT when there is none, LW_EINVAL when it is longer than cap, LW_EIO. */
int lw_store_ckpt_get(struct lw_store *st, const char *input, const char *stream, void *buf,
                      size_t cap, size_t *len);
/* Calls fn for every saved position of input (the strings valid for the call). 0 or LW_EIO. */
typedef void lw_store_ckpt_fn(const char *stream, const void *pos, size_t len, void *arg);
int lw_store_ckpt_each(struct lw_store *st, const char *input, lw_store_ckpt_fn *fn, void *arg);

/* ---------------------------------------------------------------- window buckets */

/* One time bucket of one group of one alert. Aggregates not used by the alert's kind are 0. */
struct lw_bucket_row {
    const char *alert; /* alert name */
    const char *group; /* group key: the group labels as a canonical JSON object */
    int64_t res_s;     /* resolution in seconds the bucket id refers to */
    int64_t bucket;    /* bucket id: covers ((bucket-1)*res_s, bucket*res_s] */
    double count, matched, sum, min, max;
    const void *sketch; /* encoded quantile/distinct sketch of the bucket, or NULL */
    size_t sketch_len;
    uint32_t shard; /* the shard whose events it holds (lw_store_shard_id); 0: not sharded */
};

/* ---------------------------------------------------------------- alert states */

enum lw_alert_state { LW_INACTIVE = 0, LW_PENDING = 1, LW_FIRING = 2 };

struct lw_state_row {
    const char *alert;
    const char *fingerprint; /* 16 hex digits */
    const char *group;       /* group labels as JSON */
    int state;               /* enum lw_alert_state */
    int64_t active_since_ns; /* when the condition started to hold */
    int64_t fired_ns;        /* when it started firing (starts_at) */
    double value;
};

/* What each alert holds, written by the daemon when it changes (looked at every few seconds),
 * for `logwarden status`. */
struct lw_usage_row {
    const char *alert;
    int64_t groups, max_groups;
    int64_t overflow; /* events dropped at max_groups since the daemon started */
    int64_t bytes;    /* memory of its windows */
    int64_t updated_ns;
};
/* Replaces every row (alerts a reload removed go) in one transaction. */
int lw_store_put_usage(struct lw_store *st, const struct lw_usage_row *rows, size_t n,
                       struct lw_err *err);
typedef void lw_usage_fn(const struct lw_usage_row *row, void *payload);
int lw_store_load_usage(struct lw_store *st, lw_usage_fn *fn, void *payload, struct lw_err *err);

/* ---------------------------------------------------------------- notification states */

/* What one sink was told about one alert (fingerprint), and what the alert is now: the
 * notifier sends the difference, so a crash between the two loses nothing. */
struct lw_notif_row {
    const char *fingerprint;
    const char *sink;
    const char *alert;
    int status;          /* the alert now: 1 firing, 0 resolved */
    const char *payload; /* its latest alert object (JSON) */
    int64_t changed_ns;  /* when status last changed */
    int notified;        /* what the sink was last told: -1 nothing, 0 resolved, 1 firing */
    int64_t notified_ns;
    bool remove; /* flush: delete the row */
};
typedef void lw_notif_fn(const struct lw_notif_row *row, void *payload);
int lw_store_load_notifs(struct lw_store *st, lw_notif_fn *fn, void *payload, struct lw_err *err);

/* ---------------------------------------------------------------- silences */

struct lw_silence_row {
    const char *id;
    const char *matchers; /* JSON array of {"name","value","regex"} */
    int64_t starts_ns, ends_ns;
    const char *comment, *created_by;
    int64_t created_ns;
};
typedef void lw_silence_fn(const struct lw_silence_row *row, void *payload);
int lw_store_silence_put(struct lw_store *st, const struct lw_silence_row *r, struct lw_err *err);
/* Ends an active silence now; LW_ENOENT when there is none with that id. */
int lw_store_silence_expire(struct lw_store *st, const char *id, int64_t now, struct lw_err *err);
/* Calls fn for each silence (all, or only those not ended by now). */
int lw_store_silences(struct lw_store *st, bool all, int64_t now, lw_silence_fn *fn, void *payload,
                      struct lw_err *err);

/* ---------------------------------------------------------------- flush */

struct lw_outbox_row {
    const char *sink;    /* sink name */
    const char *payload; /* a JSON array of alert objects (the notification) */
};

/* One alert transition, for the explanation's history (kept 24 h), with what explained it then
 * (a JSON object, engine.h lw_engine_explain; NULL: none), kept per fingerprint. */
struct lw_history_row {
    const char *alert;
    const char *fingerprint;
    const char *group;
    const char *state; /* "pending", "firing", "resolved", "inactive" (pending that did not fire);
                        * NULL: no transition, only the explanation (lw_engine_snapshot) */
    int64_t at_ns;
    double value;
    const char *explain;
};

/* Everything one flush writes, in one transaction: either all of it is durable or none. */
/* A source of bucket rows walked inside the flush's transaction, so that a burst's many dirty
 * buckets need no array: it calls put for each row (borrowed for the call) and returns the
 * first nonzero value put returned, or 0. */
typedef int lw_bucket_put_fn(void *ctx, const struct lw_bucket_row *row);
typedef int lw_bucket_src_fn(void *payload, lw_bucket_put_fn *put, void *ctx);

struct lw_flush {
    const struct lw_ckpt_row *ckpts;
    size_t nckpts;
    const struct lw_bucket_row *buckets; /* upserted by (alert, group, bucket, shard) */
    size_t nbuckets;
    const struct lw_state_row *states; /* upserted by fingerprint; INACTIVE rows are deleted */
    size_t nstates;
    const struct lw_outbox_row *outbox; /* appended */
    size_t noutbox;
    const struct lw_notif_row *notifs; /* upserted by (fingerprint, sink), or removed */
    size_t nnotifs;
    int64_t expire_before_ns;      /* delete buckets whose end time is before this (0: none) */
    const uint32_t *forget_shards; /* delete every bucket of these shards (before the upserts) */
    size_t nforget_shards;
    lw_bucket_src_fn *bucket_src; /* more bucket rows, when set */
    void *bucket_src_payload;
    const struct lw_history_row *history; /* appended; each explain upserted by fingerprint */
    size_t nhistory;
    int64_t history_before_ns; /* delete history and explanations older than this (0: none) */
};
int lw_store_flush(struct lw_store *st, const struct lw_flush *f, struct lw_err *err);

/* Shards: the (input, stream) pairs whose windows are kept apart (Kafka partitions), numbered
 * for bucket rows. The id of (input, stream), created on first use (>= 1); stable across
 * restarts. 0, or a negative LW_E* with err. */
int lw_store_shard_id(struct lw_store *st, const char *input, const char *stream, uint32_t *id,
                      struct lw_err *err);

/* Loading at start-up: calls fn for each row; strings are borrowed for the call. */
typedef void lw_bucket_fn(const struct lw_bucket_row *row, void *payload);
typedef void lw_state_fn(const struct lw_state_row *row, void *payload);
int lw_store_load_buckets(struct lw_store *st, lw_bucket_fn *fn, void *payload, struct lw_err *err);
int lw_store_load_states(struct lw_store *st, lw_state_fn *fn, void *payload, struct lw_err *err);

/* ---------------------------------------------------------------- the explanation */

/* The transitions of fingerprint fp since since_ns, oldest first (strings borrowed for the
 * call). 0, or a negative LW_E* with err. */
typedef void lw_history_fn(const char *state, int64_t at_ns, double value, void *payload);
int lw_store_history(struct lw_store *st, const char *fp, int64_t since_ns, lw_history_fn *fn,
                     void *payload, struct lw_err *err);
/* What explained fp at its last transition (a JSON object; *out the caller's): 0, LW_ENOENT
 * when none is kept, or a negative LW_E* with err. */
int lw_store_explain_get(struct lw_store *st, const char *fp, char **out, struct lw_err *err);
/* The notifications (outbox rows, kept a day once sent) that carried fp, oldest first. */
struct lw_notif_of {
    const char *sink;
    const char *status; /* the alert object's: firing, resolved */
    int state;          /* the outbox row's: 0 pending, 1 sent, 2 failed */
    int64_t created_ns, sent_ns;
    int attempts;
    const char *error; /* or NULL */
};
typedef void lw_notif_of_fn(const struct lw_notif_of *r, void *payload);
int lw_store_notifs_of(struct lw_store *st, const char *fp, lw_notif_of_fn *fn, void *payload,
                       struct lw_err *err);

/* ---------------------------------------------------------------- outbox (sink workers) */

struct lw_outbox_item {
    int64_t id;    /* increasing: delivery order */
    char *sink;    /* owned by the item */
    char *payload; /* owned by the item */
    int64_t created_ns;
    int attempts;
    int64_t next_ns; /* not before this time */
};
/* The oldest pending item of sink (whatever its next_ns, so that order is kept): 0 and *out
 * filled, or LW_ENOENT. Free with lw_outbox_item_free. */
int lw_store_outbox_head(struct lw_store *st, const char *sink, struct lw_outbox_item *out);
void lw_outbox_item_free(struct lw_outbox_item *it);
int lw_store_outbox_sent(struct lw_store *st, int64_t id);
int lw_store_outbox_retry(struct lw_store *st, int64_t id, int64_t next_ns, const char *error);
int lw_store_outbox_failed(struct lw_store *st, int64_t id, const char *error);
/* Counts by state, for status and metrics. */
int lw_store_outbox_counts(struct lw_store *st, int64_t *pending, int64_t *sent, int64_t *failed);
/* Each sink with pending rows: how many, the oldest one's creation time, and the error of the
 * first pending row that has one (NULL: none yet), borrowed for the call. 0 or LW_EIO. */
typedef void lw_outbox_sink_fn(const char *sink, int64_t pending, int64_t oldest_ns,
                               const char *last_error, void *payload);
int lw_store_outbox_sinks(struct lw_store *st, lw_outbox_sink_fn *fn, void *payload);

#endif
