/* engine.h: the pipeline core shared by `run` and `replay`: records -> events -> windows ->
 * evaluator -> alert transitions (as alert objects, RULES.md). One thread owns an engine. */
#ifndef LW_ENGINE_H
#define LW_ENGINE_H

#include "rules.h"
#include "store.h"

#include <jansson.h>

enum lw_engine_mode {
    LW_MODE_LIVE,   /* wall clock; late events dropped */
    LW_MODE_REPLAY, /* event time: the watermark drives evaluation */
};

/* Called for each transition with the alert object as JSON (one object, no newline). */
typedef void lw_alert_out_fn(const struct lw_alert_def *def, const char *json, size_t len,
                             bool firing, void *payload);

struct lw_engine;

struct lw_engine_stats {
    uint64_t records, events, late, transitions, overflow;
    uint64_t nonfinite;       /* values that were not finite numbers: saturated or skipped */
    uint64_t partial;         /* lw_engine_partial calls: windows rebuilt from a cut history */
    uint64_t no_ring;         /* groups made while the explanations' memory was spent: no ring */
    uint64_t history_dropped; /* transitions not kept in the state file's history (flushes
                               * failing for long: more than LW_HISTORY_MAX waiting) */
    uint64_t explain_skipped; /* transitions kept without their explanation: more than
                               * LW_EXPLAIN_PER_FLUSH in one flush */
    size_t ring_bytes, rings; /* the explanations' memory and how many groups have one */
};

/* rs is borrowed and must outlive the engine. now_ns: the start time (live mode). */
struct lw_engine *lw_engine_new(struct lw_ruleset *rs, enum lw_engine_mode mode, int64_t now_ns,
                                lw_alert_out_fn *out, void *payload);
void lw_engine_free(struct lw_engine *e);

/* Reload: compares each alert with its definition in the previous rules (old, by name) before
 * anything is restored. Buckets of an alert whose window changed are re-bucketed; an alert that
 * now counts something else (event, kind, field, where, of, group_by) starts with empty windows,
 * no pending groups, and its restored firing groups held until a whole window has passed. */
void lw_engine_carry(struct lw_engine *e, const struct lw_ruleset *old);

/* Feeds one decoded record. In replay mode, instants before the new watermark are evaluated
 * first, so transitions come out in time order. */
void lw_engine_record(struct lw_engine *e, const struct lw_rec *r, int64_t now_ns);
/* Live mode: evaluates every instant up to now. */
void lw_engine_tick(struct lw_engine *e, int64_t now_ns);
/* Replay mode: evaluates up to the last event's instant. */
void lw_engine_finish(struct lw_engine *e);

/* Persistence (live mode). lw_engine_collect fills f with the buckets (a source the store
 * walks) and alert states changed since the last lw_engine_collect_done, which says they are
 * stored; the rows borrow from the engine until then, and nothing may be fed in between.
 * After a failed flush, the next collect returns the same rows and any new ones. */
void lw_engine_collect(struct lw_engine *e, struct lw_flush *f);
void lw_engine_collect_done(struct lw_engine *e);
/* Restoring at start-up, from rows of lw_store_load_buckets/states. */
void lw_engine_restore_bucket(struct lw_engine *e, const struct lw_bucket_row *row);
void lw_engine_restore_state(struct lw_engine *e, const struct lw_state_row *row);

/* Shards (DESIGN.md, "Scale-out"): records carry the shard that fed them (lw_rec.shard, a Kafka
 * partition), and with shards on, every bucket remembers its shard, so that one shard's share can
 * be removed exactly. Call before any record or restore; off (the default) costs nothing. */
void lw_engine_shards(struct lw_engine *e, bool on);
/* Removes shard's events from every window. A group left with no events (it held some of
 * shard's, or its latest event was shard's) is forgotten with its alert state, silently (no
 * resolved notification: the shard's new owner carries it); an alert without group_by keeps its
 * one group, with its state reset silently. The others are evaluated at the next instant. Its
 * bucket rows are deleted by the next collect (struct lw_flush.forget_shards), with the states of
 * the groups forgotten. A quiet shard stops being quiet. Not between lw_engine_collect and
 * lw_engine_collect_done (the rows borrow the groups). */
void lw_engine_forget_shard(struct lw_engine *e, uint32_t shard);
/* Quiet (on): records of shard fill windows (a rebuild replaying its history), are never
 * late-counted (what is older than every window is skipped silently), never trigger an early
 * evaluation, and every group they touch is held: not evaluated (no state change, no
 * transition) until no shard is quiet any more. Then the held groups are evaluated at the next
 * instant, and what fires is announced once. (Held until the last quiet shard is live, not per
 * shard: exact whatever shards a group mixes, and a rebuild lasts seconds.) Sharded engines
 * only. */
void lw_engine_quiet_shard(struct lw_engine *e, uint32_t shard, bool on);
/* Part of a shard's history is gone (retention shorter than a window): absent and below alerts
 * cannot become true (inactive or pending groups stay or go inactive; firing ones are kept)
 * before a whole window of each has passed after now_ns; then they are evaluated. Counted in
 * lw_engine_stats.partial. */
void lw_engine_partial(struct lw_engine *e, int64_t now_ns);

/* Tests and debugging: the aggregates (windows.h) of alert i's group (its JSON key) over the
 * window ending at the last evaluated instant (back 1: the one before it, spike's previous
 * window). false when there is no such alert or group. */
struct lw_agg;
bool lw_engine_window(struct lw_engine *e, size_t i, const char *group, int back,
                      struct lw_agg *out);

void lw_engine_stats(const struct lw_engine *e, struct lw_engine_stats *out);
/* What alert i (0..) holds: its groups and the bytes of its windows and timers (not malloc's
 * overhead). false past the last alert. O(groups). */
struct lw_alert_usage {
    const char *alert;
    size_t groups, bytes;
    size_t max_groups;
    uint64_t overflow; /* events dropped at max_groups */
};
bool lw_engine_alert_usage(const struct lw_engine *e, size_t i, struct lw_alert_usage *out);
/* Renders the alert-level late counter per input, for metrics (may be NULL). */
const uint64_t *lw_engine_late_by_input(const struct lw_engine *e, size_t *n);

/* ---------------------------------------------------------------- the explanation
 *
 * Live, each group can keep what explains it (docs/operations.md, "The API" and "Sizing"): the
 * last sample_lines records that fed it (their body, each cut at LW_SAMPLE_BYTES), and its value
 * at each evaluation where it changed, the last LW_SERIES_POINTS of them (the engine evaluates
 * at every instant the value can change, so these points are an exact step function). One
 * allocation per group, made at its first event while memory_bytes (all groups together)
 * allows; a group made beyond that has none and is counted (lw_engine_stats.no_ring) and logged
 * (once a minute at most). Off by default (replay, test): the line path is one test of a NULL
 * pointer. Call before anything is fed. sample_lines 0 keeps the series only; memory_bytes 0
 * keeps nothing. */
#define LW_SAMPLE_BYTES 240
#define LW_SERIES_POINTS 64
#define LW_HISTORY_MAX 4096
#define LW_EXPLAIN_PER_FLUSH 256
void lw_engine_explain_opts(struct lw_engine *e, size_t sample_lines, size_t memory_bytes);

/* A group as the API reads it (pipeline thread; valid until the engine is fed again). */
struct lw_group_view {
    size_t index; /* of its alert in the ruleset */
    const struct lw_alert_def *def;
    const char *group; /* its labels, a JSON object */
    char fingerprint[17];
    int state; /* enum lw_alert_state */
    int64_t active_since_ns, fired_ns;
    double value;
    void *priv; /* the engine's */
};
typedef void lw_group_fn(const struct lw_group_view *v, void *payload);
/* Calls fn for each group of alert `alert` (SIZE_MAX: of every alert) that is pending or firing
 * (all: every group). O(groups). */
void lw_engine_groups(struct lw_engine *e, size_t alert, bool all, lw_group_fn *fn, void *payload);
/* The group whose fingerprint is fp: true and *out set; false when the engine has none.
 * O(groups). */
bool lw_engine_find(struct lw_engine *e, const char *fp, struct lw_group_view *out);
/* The alert object of v (RULES.md) with status "firing" or "pending", into out. */
void lw_engine_alert_object(struct lw_engine *e, const struct lw_group_view *v, struct lw_buf *out);
/* v's value over the last window at its alert's resolution, one [time, value|null] per instant
 * up to the last evaluated one (null: no value to compare, or older than what is kept). New
 * reference. */
json_t *lw_engine_series(struct lw_engine *e, const struct lw_group_view *v);
/* What the engine says of v (docs/operations.md, "GET /api/alerts/{fingerprint}"): its fields,
 * labels and annotations, series and samples; no history or notifications (the store's). New
 * reference. */
json_t *lw_engine_explain(struct lw_engine *e, const struct lw_group_view *v);

/* Live: the explanations of every pending and firing group go to the state file with the next
 * collect (lw_flush.history rows without a state), so that what the file keeps is the latest,
 * not only what held at the last transition. The daemon calls it before its last flush. */
void lw_engine_snapshot(struct lw_engine *e);

/* A stable 16-hex-digit fingerprint of an alert name and its group labels (JSON object). */
void lw_fingerprint(const char *alert, const char *group_json, char out[17]);

#endif
