/* windows.h: sliding windows in memory: per alert, a hash of groups, each holding only its
 * non-empty time buckets (oldest first, 8 bytes each for a count) with running totals, so
 * adding an event and reading a window are O(1) on the line path, and a group seen once is
 * one allocation of about 200 bytes. */
#ifndef LW_WINDOWS_H
#define LW_WINDOWS_H

#include "lw.h"

/* Which aggregates a window keeps (only those its alert kind needs, to save memory). */
enum {
    LW_AGG_COUNT = 1,
    LW_AGG_MATCHED = 2, /* ratio: events satisfying `of` */
    LW_AGG_SUM = 4,
    LW_AGG_MIN = 8,
    LW_AGG_MAX = 16,
    LW_AGG_SKETCH = 32,   /* quantile: a DDSketch per bucket and one for the window */
    LW_AGG_DISTINCT = 64, /* distinct values per group over the window */
    LW_AGG_SHARD = 128,   /* set by lw_win_shards: entries are per (bucket, shard) */
};

struct lw_agg {
    double count, matched, sum, min, max; /* min/max are NaN when count is 0 */
    double quantile;                      /* LW_AGG_SKETCH: the window's q-quantile */
    double distinct;                      /* LW_AGG_DISTINCT: distinct values in the window */
    const void *blob;                     /* a bucket's encoded sketch (persistence), or NULL */
    size_t bloblen;
    uint32_t shard; /* persistence: the shard of a bucket entry (0 in an unsharded window) */
};

/* The evaluator's state for a group; kept here so that it lives and dies with the group. */
struct lw_gstate {
    int64_t active_since_ns; /* condition holding since (pending) */
    int64_t fired_ns;        /* firing since */
    double value;            /* value at the last evaluation; while firing, at the last one
                              * where the condition held (what a resolved alert reports) */
    int64_t false_since_ns;  /* keep_firing_for: the first instant of the dip, or 0 */
    int64_t sched_b;         /* the bucket whose evaluations were last scheduled */
    int64_t sched_max;       /* the latest instant the group is scheduled for */
    int64_t eval_n;          /* the last instant it was evaluated */
    int64_t exp_n[2];        /* pending instants its oldest bucket leaves window 1 and 2, or 0 */
    int64_t timer_n;         /* the instant `for` or keep_firing_for was last scheduled for */
    int state;               /* enum lw_alert_state (store.h) */
    bool early;              /* queued for an evaluation before its bucket closes */
    bool dirty;              /* changed since the last flush */
    bool held;               /* fed by a quiet shard: not evaluated until it is live (engine.c) */
    bool gone;               /* lw_engine_forget_shard: being dropped */
    bool noring;             /* the explanation's memory was spent when it was made (engine.c) */
    void *x;                 /* its explanation: sample lines and value series (engine.c), or
                              * NULL; the engine frees it before it drops the group */
};

struct lw_wgroup {
    uint64_t hash;
    int64_t last_bucket; /* newest bucket that received an event */
    struct lw_gstate st;
    /* private below */
    struct lw_wgroup *hnext;
    int64_t lo;       /* no bucket <= lo is held */
    double tot[3];    /* running totals over held buckets: count, matched, sum */
    unsigned char *q; /* held buckets, oldest first: entries head .. head+len (see windows.c) */
    uint32_t head, len, cap;
    uint32_t dirty_from;   /* entries with an id >= this are not flushed yet; UINT32_MAX: none */
    uint32_t pos;          /* index in the window's group array */
    uint32_t dpos;         /* index + 1 in the window's dirty list, 0 when clean */
    void *aux;             /* the sum of the held buckets' sketches, or a struct lw_distinct */
    unsigned char inl[16]; /* the first entries live here, without an allocation */
    uint32_t shard;        /* sharded windows: the shard of its latest event (in the padding
                              before key: a group is no bigger for it) */
    uint32_t keylen;
    char key[]; /* the group labels as a canonical JSON object, NUL-terminated */
};

struct lw_win;

/* res_s: bucket width in seconds; k: buckets per window; span: how many windows back the
 * ring keeps (1, or 2 for spike's previous window). */
struct lw_win *lw_win_new(int64_t res_s, int64_t k, int span, unsigned aggs, size_t max_groups);
void lw_win_free(struct lw_win *w);
/* The quantile LW_AGG_SKETCH windows report (0..1). */
void lw_win_set_quantile(struct lw_win *w, double q);
/* LW_AGG_DISTINCT: notes a value (its hash) seen in bucket b of shard (0 unsharded); call after
 * lw_win_add succeeded. */
void lw_win_add_distinct(struct lw_win *w, struct lw_wgroup *g, uint64_t hash, int64_t b,
                         uint32_t shard);
/* Shards (engine.h, lw_engine_shards): on, each bucket is kept per shard (an entry per (bucket,
 * shard): several entries share a bucket id), so that one shard's events can be removed exactly.
 * The entry gains a u32 shard column; off, the layout and the add path are unchanged. Only while
 * no group holds an entry: false (nothing changed) otherwise. */
bool lw_win_shards(struct lw_win *w, bool on);
/* Removes shard s's entries (and distinct values) from g and recomputes its totals and window
 * sketch from what is left. Whether g held any of s or was last fed by it (its latest event's
 * shard): the caller then drops it if it is empty (lw_win_empty). */
bool lw_win_forget_shard(struct lw_win *w, struct lw_wgroup *g, uint32_t s);
static inline bool lw_win_empty(const struct lw_wgroup *g)
{
    return g->len == 0;
}
/* Stops dirty tracking (replay keeps nothing): lw_win_dirty then reports nothing. */
void lw_win_no_persist(struct lw_win *w);

/* The group for key (created when missing, with a zeroed state). NULL when max_groups is
 * reached (the overflow is counted in lw_win_overflow). Borrowed from the window. */
struct lw_wgroup *lw_win_group(struct lw_win *w, const char *key, size_t keylen);
/* The group for key, or NULL: nothing is created. */
struct lw_wgroup *lw_win_find(struct lw_win *w, const char *key, size_t keylen);
/* Whether bucket b no longer reaches any window ending after instant now_b (see lw_win_add). */
bool lw_win_late(const struct lw_win *w, int64_t b, int64_t now_b);
/* Adds one event to bucket b of g (of shard, in a sharded window; ignored otherwise). now_b is
 * the newest evaluated instant: an event in a bucket that no longer reaches any window ending
 * after now_b is late: LW_EINVAL. */
int lw_win_add(struct lw_win *w, struct lw_wgroup *g, int64_t b, uint32_t shard, int64_t now_b,
               bool matched, double v);
/* Sets a bucket's values outright (restoring from the store), or with add adds them to what the
 * bucket holds (several old buckets re-bucketed into one after a window change). A sharded
 * window restores the entry (b, a->shard). */
void lw_win_restore(struct lw_win *w, struct lw_wgroup *g, int64_t b, const struct lw_agg *a,
                    bool add);
/* The aggregate over buckets (n - k*back - k, n - k*back]: back 0 is the window ending at
 * instant n, back 1 the one before it. Drops buckets too old for any later instant. */
void lw_win_agg(struct lw_win *w, struct lw_wgroup *g, int64_t n, int back, struct lw_agg *out);
/* Events in every bucket g holds (its window and any older bucket not yet dropped): an upper
 * bound of any window's count, read without touching the buckets. */
static inline double lw_win_held_count(const struct lw_wgroup *g)
{
    return g->tot[0];
}
/* The oldest bucket the group holds after bucket `after`, or INT64_MAX when there is none. */
int64_t lw_win_next_bucket(const struct lw_win *w, const struct lw_wgroup *g, int64_t after);
/* Forgets g (its pointer becomes invalid). */
void lw_win_drop(struct lw_win *w, struct lw_wgroup *g);

size_t lw_win_count(const struct lw_win *w);
struct lw_wgroup *lw_win_at(struct lw_win *w, size_t i);
uint64_t lw_win_overflow(const struct lw_win *w);
int64_t lw_win_res(const struct lw_win *w);
/* Heap bytes the window holds (its groups, keys, buckets and sketches; not malloc's overhead).
 * O(groups). */
size_t lw_win_bytes(const struct lw_win *w);

/* Buckets changed since the last lw_win_clean: fn is called for each (group, bucket id,
 * values with the entry's shard; a sketch blob is borrowed for the call); a nonzero return stops
 * the walk and is returned. Nothing is cleared, so a walk whose rows were not stored can be
 * repeated. */
typedef int lw_win_dirty_fn(const struct lw_wgroup *g, int64_t b, const struct lw_agg *a,
                            void *payload);
int lw_win_dirty(struct lw_win *w, lw_win_dirty_fn *fn, void *payload);
/* The changed buckets are stored: clears every mark. */
void lw_win_clean(struct lw_win *w);
/* Groups with changed buckets. */
size_t lw_win_ndirty(const struct lw_win *w);

#endif
