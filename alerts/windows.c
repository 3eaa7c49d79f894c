/* windows.c: sliding-window buckets per alert and group: a chained hash of groups, each keeping
 * its non-empty buckets in a small array, oldest first, with running totals for
 * count/matched/sum (min/max are scanned: at most a window's buckets, usually one or two).
 *
 * Events arrive in time order almost always, so the newest bucket is the last entry: adding is
 * an increment or an append, expiring is popping from the front. An out-of-order event inside
 * the window is a binary search and, rarely, an insert.
 *
 * Memory is what a live daemon holds per group and bucket, so entries are packed: a 32-bit
 * bucket id (relative to the window's base, set by its first bucket: 2^31 buckets either side,
 * 68 years at one-second buckets), a 32-bit count, then only the columns the alert's kind
 * needs (8 bytes per bucket for a count, 12 for a ratio, 16 for a sum). A group's first
 * entries live inside the group; an idle group's array is freed. Which entries are not
 * flushed yet is one id per group (entries are written newest-first in practice), not a
 * flag per entry.
 *
 * Sharded windows (lw_win_shards) add a u32 shard column after the count: an entry is a
 * (bucket, shard) pair, entries are ordered by (id, shard), and every reader that walks by id
 * (windows, expiry, the dirty walk) sums the shards of a bucket without knowing. A distinct
 * window keeps one value set per shard (and their union, once a group has two: struct shd),
 * so that a shard's values can be taken out exactly. Unsharded windows keep their layout and add
 * path. */
#include "windows.h"
#include "sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX /* dirty_from: nothing to flush */

struct lw_win {
    int64_t res_s, k;
    int64_t span_b; /* buckets a group keeps: k * span */
    unsigned aggs;
    int64_t base; /* bucket ids are stored as (id - base) in 32 bits */
    bool based;
    /* Entry layout: u32 id, u32 count, [u32 shard], [u32 matched], [f64 sum], [f64 min],
     * [f64 max], [sketch pointer]; -1 when a column is not kept. Unaligned: read with memcpy. */
    int off_sh, off_matched, off_sum, off_min, off_max, off_sk;
    uint32_t stride;  /* bytes per entry */
    uint32_t inl_cap; /* entries that fit in a group's inline buffer */
    size_t max_groups;
    uint64_t overflow;
    bool no_persist;           /* replay: no dirty tracking */
    double q;                  /* the quantile sketch windows report */
    struct lw_buf enc;         /* lw_win_dirty: the encoded sketch of one bucket */
    struct lw_wgroup **groups; /* dense array, for iteration */
    size_t ngroups, capgroups;
    struct lw_wgroup **table; /* hash buckets */
    size_t tsize;             /* power of two */
    struct lw_wgroup **dlist; /* groups with dirty entries */
    size_t ndirty, capdirty;
};

/* ---------------------------------------------------------------- entries */

static inline unsigned char *at(const struct lw_win *w, const struct lw_wgroup *g, uint32_t i)
{
    return g->q + (size_t)(g->head + i) * w->stride;
}

static inline uint32_t get32(const unsigned char *e, int off)
{
    uint32_t v;
    memcpy(&v, e + off, sizeof v);
    return v;
}

static inline void put32(unsigned char *e, int off, uint32_t v)
{
    memcpy(e + off, &v, sizeof v);
}

static inline double getd(const unsigned char *e, int off)
{
    double v;
    memcpy(&v, e + off, sizeof v);
    return v;
}

static inline void putd(unsigned char *e, int off, double v)
{
    memcpy(e + off, &v, sizeof v);
}

static inline struct lw_dds *getsk(const struct lw_win *w, const unsigned char *e)
{
    struct lw_dds *s;
    memcpy(&s, e + w->off_sk, sizeof s);
    return s;
}

static inline void putsk(const struct lw_win *w, unsigned char *e, struct lw_dds *s)
{
    memcpy(e + w->off_sk, &s, sizeof s);
}

static inline uint32_t rel(const struct lw_win *w, int64_t b)
{
    return (uint32_t)(b - w->base);
}

static inline int64_t eid(const struct lw_win *w, const unsigned char *e)
{
    return w->base + (int64_t)get32(e, 0);
}

/* Whether bucket b can be stored (relative to the base, once there is one). */
static bool representable(const struct lw_win *w, int64_t b)
{
    return !w->based || (b > w->base && b - w->base < (int64_t)NONE);
}

static void set_base(struct lw_win *w, int64_t b)
{
    if (w->based)
        return;
    w->base = b - ((int64_t)1 << 31); /* |b| < 2^34: times are int64 ns, buckets >= 1 s */
    w->based = true;
}

/* The columns as doubles (0 when not kept; min/max +-inf for an empty bucket). */
static inline double ecount(const unsigned char *e)
{
    return (double)get32(e, 4);
}

static inline double ematched(const struct lw_win *w, const unsigned char *e)
{
    return w->off_matched >= 0 ? (double)get32(e, w->off_matched) : 0;
}

static inline double esum(const struct lw_win *w, const unsigned char *e)
{
    return w->off_sum >= 0 ? getd(e, w->off_sum) : 0;
}

/* ---------------------------------------------------------------- windows and groups */

/* The entry layout of w->aggs. */
static void layout(struct lw_win *w)
{
    unsigned aggs = w->aggs;
    int off = 8;
    w->off_sh = w->off_matched = w->off_sum = w->off_min = w->off_max = w->off_sk = -1;
    if (aggs & LW_AGG_SHARD)
        w->off_sh = off, off += 4;
    if (aggs & LW_AGG_MATCHED)
        w->off_matched = off, off += 4;
    if (aggs & LW_AGG_SUM)
        w->off_sum = off, off += 8;
    if (aggs & LW_AGG_MIN)
        w->off_min = off, off += 8;
    if (aggs & LW_AGG_MAX)
        w->off_max = off, off += 8;
    if (aggs & LW_AGG_SKETCH)
        w->off_sk = off, off += (int)sizeof(struct lw_dds *);
    w->stride = (uint32_t)off;
    w->inl_cap = (uint32_t)(sizeof((struct lw_wgroup *)0)->inl / w->stride);
}

struct lw_win *lw_win_new(int64_t res_s, int64_t k, int span, unsigned aggs, size_t max_groups)
{
    struct lw_win *w = lw_calloc(1, sizeof *w);
    w->res_s = res_s > 0 ? res_s : 1;
    w->k = k > 0 ? k : 1;
    w->span_b = w->k * (span > 1 ? span : 1);
    w->aggs = aggs | LW_AGG_COUNT;
    layout(w);
    w->q = 0.5;
    w->max_groups = max_groups;
    w->tsize = 64;
    w->table = lw_calloc(w->tsize, sizeof *w->table);
    return w;
}

/* ---------------------------------------------------------------- sharded distinct values */

/* A sharded group's distinct values: each shard's own set (the values with the newest bucket
 * that shard saw them in) and, once a second shard feeds the group, their union, which the
 * window counts and which is rebuilt when a shard is forgotten. A group fed by one shard (the
 * usual case: messages keyed by what the rules group by) keeps one set, as unsharded. */
struct shd {
    struct lw_distinct *all; /* the union; NULL: there is at most one set, per[0] */
    struct shd_one {
        uint32_t shard;
        struct lw_distinct *d;
    } * per;
    size_t n, cap;
};

#define DISTINCT_CAP (1u << 20)

static void shd_free(struct shd *x)
{
    if (!x)
        return;
    lw_distinct_free(x->all);
    for (size_t i = 0; i < x->n; i++)
        lw_distinct_free(x->per[i].d);
    free(x->per);
    free(x);
}

/* The union of the sets (what the window counts). */
static struct lw_distinct *shd_all(const struct shd *x)
{
    return !x ? NULL : x->all ? x->all : x->n ? x->per[0].d : NULL;
}

/* The union, made again from the sets (NULL while there is one). */
static void shd_rebuild(struct shd *x)
{
    lw_distinct_free(x->all);
    x->all = NULL;
    if (x->n < 2)
        return;
    struct lw_distinct *sets[64], **v = x->n <= 64 ? sets : lw_malloc(x->n * sizeof *v);
    for (size_t j = 0; j < x->n; j++)
        v[j] = x->per[j].d;
    x->all = lw_distinct_union(v, x->n, DISTINCT_CAP);
    if (v != sets)
        free(v);
}

static void shd_add(struct shd *x, uint32_t shard, uint64_t hash, int64_t b)
{
    size_t i = 0;
    while (i < x->n && x->per[i].shard != shard)
        i++;
    if (i == x->n) {
        if (x->n == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 2;
            x->per = lw_realloc(x->per, x->cap * sizeof *x->per);
        }
        x->per[x->n++] = (struct shd_one){shard, lw_distinct_new(DISTINCT_CAP)};
        if (x->n == 2)
            shd_rebuild(x); /* a second shard: the union is kept apart from now on */
    }
    lw_distinct_add(x->per[i].d, hash, b);
    if (x->all)
        lw_distinct_add(x->all, hash, b);
}

static void shd_expire(struct shd *x, int64_t lo)
{
    if (x->all)
        lw_distinct_expire(x->all, lo);
    for (size_t i = 0; i < x->n; i++)
        lw_distinct_expire(x->per[i].d, lo);
}

/* Drops shard's set and rebuilds the union from the others. Whether it had one. */
static bool shd_forget(struct shd *x, uint32_t shard)
{
    size_t i = 0;
    while (i < x->n && x->per[i].shard != shard)
        i++;
    if (i == x->n)
        return false;
    lw_distinct_free(x->per[i].d);
    x->per[i] = x->per[--x->n];
    shd_rebuild(x);
    return true;
}

static size_t shd_bytes(const struct shd *x)
{
    if (!x)
        return 0;
    size_t n = sizeof *x + x->cap * sizeof *x->per + lw_distinct_bytes(x->all);
    for (size_t i = 0; i < x->n; i++)
        n += lw_distinct_bytes(x->per[i].d);
    return n;
}

static void group_free(const struct lw_win *w, struct lw_wgroup *g)
{
    if (w->off_sk >= 0) {
        for (uint32_t i = 0; i < g->len; i++)
            lw_dds_free(getsk(w, at(w, g, i)));
        lw_dds_free(g->aux);
    } else if (w->aggs & LW_AGG_DISTINCT) {
        if (w->off_sh >= 0)
            shd_free(g->aux);
        else
            lw_distinct_free(g->aux);
    }
    if (g->q != g->inl)
        free(g->q);
    free(g->st.x); /* the engine's explanation: one allocation */
    free(g);
}

void lw_win_set_quantile(struct lw_win *w, double q)
{
    w->q = q;
}

void lw_win_free(struct lw_win *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ngroups; i++)
        group_free(w, w->groups[i]);
    free(w->groups);
    free(w->table);
    free(w->dlist);
    lw_buf_free(&w->enc);
    free(w);
}

bool lw_win_shards(struct lw_win *w, bool on)
{
    for (size_t i = 0; i < w->ngroups; i++)
        if (w->groups[i]->len || w->groups[i]->aux)
            return false; /* a layout change under held entries would misread them */
    w->aggs = on ? w->aggs | LW_AGG_SHARD : w->aggs & ~(unsigned)LW_AGG_SHARD;
    layout(w);
    for (size_t i = 0; i < w->ngroups; i++) {
        struct lw_wgroup *g = w->groups[i];
        if (g->q == g->inl)
            g->cap = w->inl_cap, g->head = 0;
    }
    return true;
}

void lw_win_no_persist(struct lw_win *w)
{
    w->no_persist = true;
}

static void rehash(struct lw_win *w)
{
    size_t ns = w->tsize * 2;
    struct lw_wgroup **t = lw_calloc(ns, sizeof *t);
    for (size_t i = 0; i < w->ngroups; i++) {
        struct lw_wgroup *g = w->groups[i];
        size_t h = (size_t)g->hash & (ns - 1);
        g->hnext = t[h];
        t[h] = g;
    }
    free(w->table);
    w->table = t;
    w->tsize = ns;
}

struct lw_wgroup *lw_win_find(struct lw_win *w, const char *key, size_t keylen)
{
    uint64_t h = lw_hash64(key, keylen, LW_HASH_SEED);
    for (struct lw_wgroup *g = w->table[h & (w->tsize - 1)]; g; g = g->hnext)
        if (g->hash == h && g->keylen == keylen && memcmp(g->key, key, keylen) == 0)
            return g;
    return NULL;
}

struct lw_wgroup *lw_win_group(struct lw_win *w, const char *key, size_t keylen)
{
    uint64_t h = lw_hash64(key, keylen, LW_HASH_SEED);
    for (struct lw_wgroup *g = w->table[h & (w->tsize - 1)]; g; g = g->hnext)
        if (g->hash == h && g->keylen == keylen && memcmp(g->key, key, keylen) == 0)
            return g;
    if (w->ngroups >= w->max_groups || w->ngroups >= UINT32_MAX || keylen >= UINT32_MAX) {
        w->overflow++;
        return NULL;
    }
    struct lw_wgroup *g = lw_calloc(1, sizeof *g + keylen + 1);
    memcpy(g->key, key, keylen);
    g->keylen = (uint32_t)keylen;
    g->hash = h;
    g->last_bucket = INT64_MIN;
    g->lo = INT64_MIN;
    g->q = g->inl;
    g->cap = w->inl_cap;
    g->dirty_from = NONE;
    if (w->ngroups == w->capgroups) {
        w->capgroups = w->capgroups ? w->capgroups * 2 : 16;
        w->groups = lw_realloc(w->groups, w->capgroups * sizeof *w->groups);
    }
    g->pos = (uint32_t)w->ngroups;
    w->groups[w->ngroups++] = g;
    size_t b = h & (w->tsize - 1);
    g->hnext = w->table[b];
    w->table[b] = g;
    if (w->ngroups > w->tsize)
        rehash(w);
    return g;
}

static void mark_dirty(struct lw_win *w, struct lw_wgroup *g, int64_t b)
{
    if (w->no_persist)
        return;
    uint32_t r = rel(w, b);
    if (g->dirty_from == NONE || r < g->dirty_from)
        g->dirty_from = r;
    if (g->dpos)
        return;
    if (w->ndirty == w->capdirty) {
        w->capdirty = w->capdirty ? w->capdirty * 2 : 16;
        w->dlist = lw_realloc(w->dlist, w->capdirty * sizeof *w->dlist);
    }
    w->dlist[w->ndirty++] = g;
    g->dpos = (uint32_t)w->ndirty;
}

/* Room for one more entry at the end: slide to the front when a quarter is free there, else
 * grow (out of the inline buffer into an allocation). */
static void make_room(struct lw_win *w, struct lw_wgroup *g)
{
    if (g->head + g->len < g->cap)
        return;
    if (g->head > 0 && g->len <= g->cap - g->cap / 4) {
        memmove(g->q, g->q + (size_t)g->head * w->stride, (size_t)g->len * w->stride);
        g->head = 0;
        return;
    }
    uint32_t cap = g->cap >= 4 ? g->cap * 2 : 4;
    if (g->q == g->inl) {
        unsigned char *q = lw_malloc((size_t)cap * w->stride);
        memcpy(q, g->q + (size_t)g->head * w->stride, (size_t)g->len * w->stride);
        g->q = q;
        g->head = 0;
    } else {
        g->q = lw_realloc(g->q, (size_t)cap * w->stride);
    }
    g->cap = cap;
}

static void init_entry(const struct lw_win *w, unsigned char *e, int64_t b)
{
    memset(e, 0, w->stride);
    put32(e, 0, rel(w, b));
    if (w->off_min >= 0)
        putd(e, w->off_min, INFINITY);
    if (w->off_max >= 0)
        putd(e, w->off_max, -INFINITY);
}

/* The entry of bucket b, created when missing (in id order). */
static unsigned char *entry_for(struct lw_win *w, struct lw_wgroup *g, int64_t b)
{
    uint32_t r = rel(w, b);
    if (g->len && get32(at(w, g, g->len - 1), 0) == r)
        return at(w, g, g->len - 1);
    if (!g->len || get32(at(w, g, g->len - 1), 0) < r) {
        make_room(w, g);
        LW_INVARIANT(g->head + g->len < g->cap); /* room for one more, or a write past it */
        unsigned char *e = at(w, g, g->len++);
        init_entry(w, e, b);
        return e;
    }
    /* Out of order: binary search for the first id >= b. */
    uint32_t lo = 0, hi = g->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (get32(at(w, g, mid), 0) < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* The last bucket is after b, so lo is inside the array. */
    LW_INVARIANT(lo < g->len);
    if (get32(at(w, g, lo), 0) == r)
        return at(w, g, lo);
    /* Buckets stay in strictly increasing order: b goes between a smaller and a larger id. */
    LW_INVARIANT(get32(at(w, g, lo), 0) > r && (lo == 0 || get32(at(w, g, lo - 1), 0) < r));
    make_room(w, g);
    LW_INVARIANT(g->head + g->len < g->cap);
    unsigned char *p = at(w, g, lo);
    memmove(p + w->stride, p, (size_t)(g->len - lo) * w->stride);
    g->len++;
    init_entry(w, p, b);
    return p;
}

/* A sharded entry's order: its id, then its shard. */
static inline uint64_t skey(const struct lw_win *w, const unsigned char *e)
{
    return (uint64_t)get32(e, 0) << 32 | get32(e, w->off_sh);
}

/* entry_for in a sharded window: the entry of (bucket b, shard), in (id, shard) order. Apart
 * (not one function with a flag), so that the unsharded path is the one it was. */
static unsigned char *entry_for_shard(struct lw_win *w, struct lw_wgroup *g, int64_t b,
                                      uint32_t shard)
{
    uint64_t r = (uint64_t)rel(w, b) << 32 | shard;
    g->shard = shard;
    if (g->len && skey(w, at(w, g, g->len - 1)) == r)
        return at(w, g, g->len - 1);
    uint32_t lo = g->len;
    if (g->len && skey(w, at(w, g, g->len - 1)) > r) {
        uint32_t hi = g->len;
        lo = 0;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (skey(w, at(w, g, mid)) < r)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (skey(w, at(w, g, lo)) == r)
            return at(w, g, lo);
    }
    /* Entries stay in strictly increasing order: r goes between a smaller and a larger key. */
    LW_INVARIANT((lo == g->len || skey(w, at(w, g, lo)) > r) &&
                 (lo == 0 || skey(w, at(w, g, lo - 1)) < r));
    make_room(w, g);
    LW_INVARIANT(g->head + g->len < g->cap);
    unsigned char *p = at(w, g, lo);
    memmove(p + w->stride, p, (size_t)(g->len - lo) * w->stride);
    g->len++;
    init_entry(w, p, b);
    put32(p, w->off_sh, shard);
    return p;
}

bool lw_win_late(const struct lw_win *w, int64_t b, int64_t now_b)
{
    return b <= now_b - w->span_b + 1 || !representable(w, b);
}

int lw_win_add(struct lw_win *w, struct lw_wgroup *g, int64_t b, uint32_t shard, int64_t now_b,
               bool matched, double v)
{
    /* Instant now_b is evaluated already: a bucket that no window ending after it reaches
     * (span windows back) can change nothing any more: it is late. */
    if (lw_win_late(w, b, now_b) || b <= g->lo)
        return LW_EINVAL;
    set_base(w, b);
    unsigned char *e = w->off_sh < 0 ? entry_for(w, g, b) : entry_for_shard(w, g, b, shard);
    uint32_t c = get32(e, 4);
    if (c == UINT32_MAX)
        return LW_EINVAL; /* four billion events in one bucket: the count cannot say more */
    put32(e, 4, c + 1);
    g->tot[0] += 1;
    if (matched && w->off_matched >= 0) {
        put32(e, w->off_matched, get32(e, w->off_matched) + 1);
        g->tot[1] += 1;
    }
    if (w->off_sum >= 0) {
        putd(e, w->off_sum, getd(e, w->off_sum) + v);
        g->tot[2] += v;
    }
    if (w->off_min >= 0 && v < getd(e, w->off_min))
        putd(e, w->off_min, v);
    if (w->off_max >= 0 && v > getd(e, w->off_max))
        putd(e, w->off_max, v);
    if (w->off_sk >= 0) {
        struct lw_dds *sk = getsk(w, e);
        if (!sk) {
            sk = lw_dds_new();
            putsk(w, e, sk);
        }
        if (!g->aux)
            g->aux = lw_dds_new();
        lw_dds_add2(sk, g->aux, v);
    }
    if (b > g->last_bucket)
        g->last_bucket = b;
    mark_dirty(w, g, b);
    return 0;
}

/* The set holding shard's values of g (the group's one set when the window is not sharded). */
static const struct lw_distinct *distinct_set(const struct lw_win *w, const struct lw_wgroup *g,
                                              uint32_t shard)
{
    if (w->off_sh < 0)
        return g->aux;
    const struct shd *x = g->aux;
    for (size_t i = 0; x && i < x->n; i++)
        if (x->per[i].shard == shard)
            return x->per[i].d;
    return NULL;
}

struct restore_distinct {
    struct lw_win *w;
    struct lw_wgroup *g;
    int64_t b;
    uint32_t shard;
};

static void restore_distinct(uint64_t hash, void *arg)
{
    struct restore_distinct *r = arg;
    lw_win_add_distinct(r->w, r->g, hash, r->b, r->shard);
}

void lw_win_add_distinct(struct lw_win *w, struct lw_wgroup *g, uint64_t hash, int64_t b,
                         uint32_t shard)
{
    if (w->off_sh >= 0) {
        if (!g->aux)
            g->aux = lw_calloc(1, sizeof(struct shd));
        shd_add(g->aux, shard, hash, b);
        return;
    }
    if (!g->aux)
        g->aux = lw_distinct_new(DISTINCT_CAP);
    lw_distinct_add(g->aux, hash, b);
}

static uint32_t to_u32(double v)
{
    return v > 0 ? (v < (double)UINT32_MAX ? (uint32_t)v : UINT32_MAX) : 0;
}

void lw_win_restore(struct lw_win *w, struct lw_wgroup *g, int64_t b, const struct lw_agg *a,
                    bool add)
{
    if (b <= g->lo || !representable(w, b))
        return;
    set_base(w, b);
    unsigned char *e = w->off_sh < 0 ? entry_for(w, g, b) : entry_for_shard(w, g, b, a->shard);
    bool had = add && ecount(e) > 0;
    uint32_t c = to_u32(a->count + (add ? ecount(e) : 0));
    uint32_t m = to_u32(a->matched + (add ? ematched(w, e) : 0));
    double sum = a->sum + (add ? esum(w, e) : 0);
    double mn = a->min, mx = a->max;
    if (had && w->off_min >= 0 && a->count > 0 && getd(e, w->off_min) < mn)
        mn = getd(e, w->off_min);
    if (had && w->off_min >= 0 && a->count == 0)
        mn = getd(e, w->off_min);
    if (had && w->off_max >= 0 && a->count > 0 && getd(e, w->off_max) > mx)
        mx = getd(e, w->off_max);
    if (had && w->off_max >= 0 && a->count == 0)
        mx = getd(e, w->off_max);
    g->tot[0] += (double)c - ecount(e);
    put32(e, 4, c);
    if (w->off_matched >= 0) {
        g->tot[1] += (double)m - ematched(w, e);
        put32(e, w->off_matched, m);
    }
    if (w->off_sum >= 0) {
        g->tot[2] += sum - esum(w, e);
        putd(e, w->off_sum, sum);
    }
    /* Counts are whole numbers, exact in a double: a negative total is a bookkeeping error. */
    LW_INVARIANT(g->tot[0] >= 0 && g->tot[1] >= 0);
    if (w->off_min >= 0)
        putd(e, w->off_min, c > 0 ? mn : INFINITY);
    if (w->off_max >= 0)
        putd(e, w->off_max, c > 0 ? mx : -INFINITY);
    struct lw_dds *sk = NULL;
    if (w->off_sk >= 0 && a->blob && lw_dds_decode(&sk, a->blob, a->bloblen) == 0) {
        if (!g->aux)
            g->aux = lw_dds_new();
        struct lw_dds *old = getsk(w, e);
        if (old && add) {
            lw_dds_merge(old, sk, 1); /* the bucket and the window gain the added part */
            lw_dds_merge(g->aux, sk, 1);
            lw_dds_free(sk);
        } else {
            if (old) {
                lw_dds_merge(g->aux, old, -1);
                lw_dds_free(old);
            }
            putsk(w, e, sk);
            lw_dds_merge(g->aux, sk, 1);
        }
    } else if ((w->aggs & LW_AGG_DISTINCT) && a->blob) {
        struct restore_distinct r = {w, g, b, a->shard};
        lw_distinct_decode(a->blob, a->bloblen, restore_distinct, &r);
    }
    if (b > g->last_bucket)
        g->last_bucket = b;
}

/* Drops buckets that no window ending at n or later can reach. */
static void expire(struct lw_win *w, struct lw_wgroup *g, int64_t n)
{
    int64_t drop_upto = n - w->span_b;
    if (drop_upto <= g->lo)
        return;
    while (g->len && eid(w, at(w, g, 0)) <= drop_upto) {
        const unsigned char *e = at(w, g, 0);
        g->tot[0] -= ecount(e);
        g->tot[1] -= ematched(w, e);
        g->tot[2] -= esum(w, e);
        if (w->off_sk >= 0 && getsk(w, e)) {
            lw_dds_merge(g->aux, getsk(w, e), -1);
            lw_dds_free(getsk(w, e));
        }
        g->head++;
        g->len--;
    }
    /* What is left is after drop_upto (order), and the totals are what it holds: never < 0. */
    LW_INVARIANT(!g->len || eid(w, at(w, g, 0)) > drop_upto);
    LW_INVARIANT(g->tot[0] >= 0 && g->tot[1] >= 0);
    if ((w->aggs & LW_AGG_DISTINCT) && g->aux) {
        if (w->off_sh >= 0)
            shd_expire(g->aux, drop_upto);
        else
            lw_distinct_expire(g->aux, drop_upto);
    }
    if (g->len == 0) {
        /* Exact zeros, whatever rounding the float sums collected; an idle group keeps no
         * array. */
        g->head = 0;
        g->tot[0] = g->tot[1] = g->tot[2] = 0;
        if (g->q != g->inl) {
            free(g->q);
            g->q = g->inl;
            g->cap = w->inl_cap;
        }
    }
    g->lo = drop_upto;
}

int64_t lw_win_next_bucket(const struct lw_win *w, const struct lw_wgroup *g, int64_t after)
{
    uint32_t lo = 0, hi = g->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (eid(w, at(w, g, mid)) <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->len ? eid(w, at(w, g, lo)) : INT64_MAX;
}

void lw_win_agg(struct lw_win *w, struct lw_wgroup *g, int64_t n, int back, struct lw_agg *out)
{
    expire(w, g, n);
    int64_t hi = n - w->k * back, lo = hi - w->k; /* the window is (lo, hi] */
    memset(out, 0, sizeof *out);
    out->min = NAN;
    out->max = NAN;
    /* Sketches cover the held buckets: the window itself unless events ran ahead. */
    out->quantile = w->off_sk >= 0 ? lw_dds_quantile(g->aux, w->q) : NAN;
    if (w->aggs & LW_AGG_DISTINCT)
        out->distinct =
            (double)lw_distinct_count(w->off_sh < 0 ? g->aux : shd_all((struct shd *)g->aux));
    /* After expiry the held buckets are those after lo when a group keeps one window: unless
     * events ran ahead of the clock, the running totals are the answer. */
    if (back == 0 && w->span_b == w->k && !(w->aggs & (LW_AGG_MIN | LW_AGG_MAX)) &&
        (!g->len || eid(w, at(w, g, g->len - 1)) <= hi)) {
        out->count = g->tot[0];
        out->matched = g->tot[1];
        out->sum = g->tot[2];
        return;
    }
    double mn = INFINITY, mx = -INFINITY;
    for (uint32_t i = 0; i < g->len; i++) {
        const unsigned char *e = at(w, g, i);
        int64_t id = eid(w, e);
        if (id <= lo)
            continue;
        if (id > hi)
            break;
        out->count += ecount(e);
        out->matched += ematched(w, e);
        out->sum += esum(w, e);
        if (w->off_min >= 0 && getd(e, w->off_min) < mn)
            mn = getd(e, w->off_min);
        if (w->off_max >= 0 && getd(e, w->off_max) > mx)
            mx = getd(e, w->off_max);
    }
    if (out->count > 0) {
        out->min = mn;
        out->max = mx;
    }
}

bool lw_win_forget_shard(struct lw_win *w, struct lw_wgroup *g, uint32_t s)
{
    if (w->off_sh < 0)
        return false;
    bool had = g->shard == s;
    uint32_t j = 0;
    for (uint32_t i = 0; i < g->len; i++) {
        unsigned char *e = at(w, g, i);
        if (get32(e, w->off_sh) == s) {
            if (w->off_sk >= 0)
                lw_dds_free(getsk(w, e));
            had = true;
            continue;
        }
        if (j != i)
            memcpy(at(w, g, j), e, w->stride);
        j++;
    }
    if ((w->aggs & LW_AGG_DISTINCT) && g->aux && shd_forget(g->aux, s))
        had = true;
    if (!had)
        return false;
    g->len = j;
    /* Recomputed, not subtracted: the totals are exactly what the other shards hold. */
    g->tot[0] = g->tot[1] = g->tot[2] = 0;
    if (w->off_sk >= 0) {
        lw_dds_free(g->aux);
        g->aux = NULL;
    }
    for (uint32_t i = 0; i < g->len; i++) {
        const unsigned char *e = at(w, g, i);
        g->tot[0] += ecount(e);
        g->tot[1] += ematched(w, e);
        g->tot[2] += esum(w, e);
        if (w->off_sk >= 0 && getsk(w, e)) {
            if (!g->aux)
                g->aux = lw_dds_new();
            lw_dds_merge(g->aux, getsk(w, e), 1);
        }
    }
    if (g->len == 0) {
        g->head = 0;
        if (g->q != g->inl) {
            free(g->q);
            g->q = g->inl;
            g->cap = w->inl_cap;
        }
    }
    return true;
}

void lw_win_drop(struct lw_win *w, struct lw_wgroup *g)
{
    size_t h = (size_t)g->hash & (w->tsize - 1);
    for (struct lw_wgroup **pp = &w->table[h]; *pp; pp = &(*pp)->hnext)
        if (*pp == g) {
            *pp = g->hnext;
            break;
        }
    struct lw_wgroup *last = w->groups[--w->ngroups];
    w->groups[g->pos] = last;
    last->pos = g->pos;
    if (g->dpos) {
        size_t i = g->dpos - 1;
        struct lw_wgroup *dl = w->dlist[--w->ndirty];
        w->dlist[i] = dl;
        dl->dpos = (uint32_t)(i + 1);
    }
    group_free(w, g);
}

size_t lw_win_count(const struct lw_win *w)
{
    return w->ngroups;
}

struct lw_wgroup *lw_win_at(struct lw_win *w, size_t i)
{
    return i < w->ngroups ? w->groups[i] : NULL;
}

uint64_t lw_win_overflow(const struct lw_win *w)
{
    return w->overflow;
}

size_t lw_win_bytes(const struct lw_win *w)
{
    size_t n = sizeof *w + w->tsize * sizeof *w->table + w->capgroups * sizeof *w->groups +
               w->capdirty * sizeof *w->dlist + w->enc.cap;
    for (size_t i = 0; i < w->ngroups; i++) {
        const struct lw_wgroup *g = w->groups[i];
        n += sizeof *g + g->keylen + 1 + (g->q != g->inl ? (size_t)g->cap * w->stride : 0);
        if (w->off_sk >= 0) {
            n += lw_dds_bytes(g->aux);
            for (uint32_t j = 0; j < g->len; j++)
                n += lw_dds_bytes(getsk(w, at(w, g, j)));
        } else if (w->aggs & LW_AGG_DISTINCT) {
            n += w->off_sh >= 0 ? shd_bytes(g->aux) : lw_distinct_bytes(g->aux);
        }
    }
    return n;
}

int64_t lw_win_res(const struct lw_win *w)
{
    return w->res_s;
}

int lw_win_dirty(struct lw_win *w, lw_win_dirty_fn *fn, void *payload)
{
    for (size_t d = 0; d < w->ndirty; d++) {
        const struct lw_wgroup *g = w->dlist[d];
        for (uint32_t i = 0; i < g->len; i++) {
            const unsigned char *e = at(w, g, i);
            if (get32(e, 0) < g->dirty_from)
                continue;
            struct lw_agg a = {ecount(e),
                               ematched(w, e),
                               esum(w, e),
                               w->off_min >= 0 ? getd(e, w->off_min) : 0,
                               w->off_max >= 0 ? getd(e, w->off_max) : 0,
                               0,
                               0,
                               NULL,
                               0,
                               w->off_sh >= 0 ? get32(e, w->off_sh) : 0};
            if (w->off_sk >= 0 && getsk(w, e)) {
                lw_buf_reset(&w->enc);
                lw_dds_encode(getsk(w, e), &w->enc);
                a.blob = w->enc.p;
                a.bloblen = w->enc.len;
            } else if ((w->aggs & LW_AGG_DISTINCT) && g->aux) {
                /* The values whose newest bucket this is: a restart gets the window's values
                 * back, not only its counts. */
                lw_buf_reset(&w->enc);
                lw_distinct_encode(distinct_set(w, g, a.shard), eid(w, e), &w->enc);
                a.blob = w->enc.p;
                a.bloblen = w->enc.len;
            }
            int rc = fn(g, eid(w, e), &a, payload);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

void lw_win_clean(struct lw_win *w)
{
    for (size_t d = 0; d < w->ndirty; d++) {
        w->dlist[d]->dirty_from = NONE;
        w->dlist[d]->dpos = 0;
    }
    w->ndirty = 0;
}

size_t lw_win_ndirty(const struct lw_win *w)
{
    return w->ndirty;
}
