/* windows.c: sliding-window buckets per alert and group: a chained hash of groups, each keeping
 * its non-empty buckets in a small array, oldest first, with running totals for
 * count/matched/sum (min/max are scanned: at most a window's buckets, usually one or two).
 *
 * Events arrive in time order almost always, so the newest bucket is the last entry: adding is
 * an increment or an append, expiring is popping from the front. An out-of-order event inside
 * the window is a binary search and, rarely, an insert. */
#include "windows.h"
#include "sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* An entry: the bucket id, a dirty mark, then the values the window keeps (see cols). */
struct entry {
    int64_t id;
    uint32_t dirty;
    uint32_t pad;
    double v[];
};

enum { C_COUNT, C_MATCHED, C_SUM, C_MIN, C_MAX, C_N };

struct lw_win {
    int64_t res_s, k;
    int64_t span_b; /* buckets a group keeps: k * span */
    unsigned aggs;
    int col[C_N];  /* column of each aggregate in an entry, -1 when not kept */
    size_t stride; /* bytes per entry */
    size_t max_groups;
    uint64_t overflow;
    bool no_persist;           /* replay: no dirty tracking */
    bool sketch;               /* entries end with a struct lw_dds pointer */
    double q;                  /* the quantile sketch windows report */
    struct lw_buf enc;         /* take_dirty: the encoded sketch of one bucket */
    struct lw_wgroup **groups; /* dense array, for iteration */
    size_t ngroups, capgroups;
    struct lw_wgroup **table; /* hash buckets */
    size_t tsize;             /* power of two */
    struct lw_wgroup **dlist; /* groups with dirty entries */
    size_t ndirty, capdirty;
};

static inline struct entry *at(const struct lw_win *w, const struct lw_wgroup *g, uint32_t i)
{
    return (struct entry *)(g->q + (size_t)(g->head + i) * w->stride);
}

static inline double val(const struct lw_win *w, const struct entry *e, int c)
{
    return w->col[c] >= 0 ? e->v[w->col[c]] : 0;
}

struct lw_win *lw_win_new(int64_t res_s, int64_t k, int span, unsigned aggs, size_t max_groups)
{
    struct lw_win *w = lw_calloc(1, sizeof *w);
    int ncol = 0;
    w->res_s = res_s > 0 ? res_s : 1;
    w->k = k > 0 ? k : 1;
    w->span_b = w->k * (span > 1 ? span : 1);
    w->aggs = aggs | LW_AGG_COUNT;
    for (int c = 0; c < C_N; c++)
        w->col[c] = (w->aggs & (1u << c)) ? ncol++ : -1;
    /* avg needs the count and the sum; min/max keep the sum too (cheap, simpler). */
    w->sketch = aggs & LW_AGG_SKETCH;
    w->q = 0.5;
    w->stride = sizeof(struct entry) + (size_t)ncol * sizeof(double) +
                (w->sketch ? sizeof(struct lw_dds *) : 0);
    w->max_groups = max_groups;
    w->tsize = 64;
    w->table = lw_calloc(w->tsize, sizeof *w->table);
    return w;
}

/* The bucket sketch of an entry (LW_AGG_SKETCH windows), kept after the values. */
static inline struct lw_dds **esk(const struct lw_win *w, struct entry *e)
{
    return (struct lw_dds **)((unsigned char *)e + w->stride - sizeof(struct lw_dds *));
}

static void group_free(const struct lw_win *w, struct lw_wgroup *g)
{
    if (w->sketch)
        for (uint32_t i = 0; i < g->len; i++)
            lw_dds_free(*esk(w, (struct entry *)(g->q + (size_t)(g->head + i) * w->stride)));
    lw_dds_free(g->wsk);
    lw_distinct_free(g->dist);
    free(g->key);
    free(g->q);
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

struct lw_wgroup *lw_win_group(struct lw_win *w, const char *key, size_t keylen)
{
    uint64_t h = lw_hash64(key, keylen, LW_HASH_SEED);
    for (struct lw_wgroup *g = w->table[h & (w->tsize - 1)]; g; g = g->hnext)
        if (g->hash == h && g->keylen == keylen && memcmp(g->key, key, keylen) == 0)
            return g;
    if (w->ngroups >= w->max_groups) {
        w->overflow++;
        return NULL;
    }
    struct lw_wgroup *g = lw_calloc(1, sizeof *g);
    g->key = lw_strndup(key, keylen);
    g->keylen = keylen;
    g->hash = h;
    g->last_bucket = INT64_MIN;
    g->lo = INT64_MIN;
    if (w->ngroups == w->capgroups) {
        w->capgroups = w->capgroups ? w->capgroups * 2 : 16;
        w->groups = lw_realloc(w->groups, w->capgroups * sizeof *w->groups);
    }
    g->pos = w->ngroups;
    w->groups[w->ngroups++] = g;
    size_t b = h & (w->tsize - 1);
    g->hnext = w->table[b];
    w->table[b] = g;
    if (w->ngroups > w->tsize)
        rehash(w);
    return g;
}

static void mark_dirty(struct lw_win *w, struct lw_wgroup *g, struct entry *e)
{
    if (w->no_persist)
        return;
    e->dirty = 1;
    if (g->dpos)
        return;
    if (w->ndirty == w->capdirty) {
        w->capdirty = w->capdirty ? w->capdirty * 2 : 16;
        w->dlist = lw_realloc(w->dlist, w->capdirty * sizeof *w->dlist);
    }
    w->dlist[w->ndirty++] = g;
    g->dpos = w->ndirty;
}

/* Room for one more entry at the end: slide to the front or grow. */
static void make_room(struct lw_win *w, struct lw_wgroup *g)
{
    if (g->head + g->len < g->cap)
        return;
    if (g->head > 0 && g->len < g->cap / 2 + 1) {
        memmove(g->q, g->q + (size_t)g->head * w->stride, (size_t)g->len * w->stride);
        g->head = 0;
        if (g->head + g->len < g->cap)
            return;
    }
    uint32_t cap = g->cap ? g->cap * 2 : 2;
    g->q = lw_realloc(g->q, (size_t)cap * w->stride);
    g->cap = cap;
}

static void init_entry(const struct lw_win *w, struct entry *e, int64_t b)
{
    memset(e, 0, w->stride);
    e->id = b;
    if (w->col[C_MIN] >= 0)
        e->v[w->col[C_MIN]] = INFINITY;
    if (w->col[C_MAX] >= 0)
        e->v[w->col[C_MAX]] = -INFINITY;
}

/* The entry of bucket b, created when missing (in id order). */
static struct entry *entry_for(struct lw_win *w, struct lw_wgroup *g, int64_t b)
{
    if (g->len && at(w, g, g->len - 1)->id == b)
        return at(w, g, g->len - 1);
    if (!g->len || at(w, g, g->len - 1)->id < b) {
        make_room(w, g);
        struct entry *e = at(w, g, g->len++);
        init_entry(w, e, b);
        return e;
    }
    /* Out of order: binary search for the first id >= b. */
    uint32_t lo = 0, hi = g->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (at(w, g, mid)->id < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at(w, g, lo)->id == b)
        return at(w, g, lo);
    make_room(w, g);
    unsigned char *p = (unsigned char *)at(w, g, lo);
    memmove(p + w->stride, p, (size_t)(g->len - lo) * w->stride);
    g->len++;
    init_entry(w, (struct entry *)p, b);
    return (struct entry *)p;
}

bool lw_win_late(const struct lw_win *w, int64_t b, int64_t now_b)
{
    return b <= now_b - w->span_b + 1;
}

int lw_win_add(struct lw_win *w, struct lw_wgroup *g, int64_t b, int64_t now_b, bool matched,
               double v)
{
    /* Instant now_b is evaluated already: a bucket that no window ending after it reaches
     * (span windows back) can change nothing any more: it is late. */
    if (lw_win_late(w, b, now_b) || b <= g->lo)
        return LW_EINVAL;
    struct entry *e = entry_for(w, g, b);
    e->v[w->col[C_COUNT]] += 1;
    g->tot[C_COUNT] += 1;
    if (matched && w->col[C_MATCHED] >= 0) {
        e->v[w->col[C_MATCHED]] += 1;
        g->tot[C_MATCHED] += 1;
    }
    if (w->col[C_SUM] >= 0) {
        e->v[w->col[C_SUM]] += v;
        g->tot[C_SUM] += v;
    }
    if (w->col[C_MIN] >= 0 && v < e->v[w->col[C_MIN]])
        e->v[w->col[C_MIN]] = v;
    if (w->col[C_MAX] >= 0 && v > e->v[w->col[C_MAX]])
        e->v[w->col[C_MAX]] = v;
    if (w->sketch) {
        if (!*esk(w, e))
            *esk(w, e) = lw_dds_new();
        if (!g->wsk)
            g->wsk = lw_dds_new();
        lw_dds_add(*esk(w, e), v, 1);
        lw_dds_add(g->wsk, v, 1);
    }
    if (b > g->last_bucket)
        g->last_bucket = b;
    mark_dirty(w, g, e);
    return 0;
}

void lw_win_add_distinct(struct lw_win *w, struct lw_wgroup *g, uint64_t hash, int64_t b)
{
    (void)w;
    if (!g->dist)
        g->dist = lw_distinct_new(1u << 20);
    lw_distinct_add(g->dist, hash, b);
}

void lw_win_restore(struct lw_win *w, struct lw_wgroup *g, int64_t b, const struct lw_agg *a)
{
    if (b <= g->lo)
        return;
    struct entry *e = entry_for(w, g, b);
    g->tot[C_COUNT] += a->count - val(w, e, C_COUNT);
    g->tot[C_MATCHED] += a->matched - val(w, e, C_MATCHED);
    g->tot[C_SUM] += a->sum - val(w, e, C_SUM);
    double in[C_N] = {a->count, a->matched, a->sum, a->count > 0 ? a->min : INFINITY,
                      a->count > 0 ? a->max : -INFINITY};
    for (int c = 0; c < C_N; c++)
        if (w->col[c] >= 0)
            e->v[w->col[c]] = in[c];
    struct lw_dds *sk = NULL;
    if (w->sketch && a->blob && lw_dds_decode(&sk, a->blob, a->bloblen) == 0) {
        if (!g->wsk)
            g->wsk = lw_dds_new();
        if (*esk(w, e)) {
            lw_dds_merge(g->wsk, *esk(w, e), -1);
            lw_dds_free(*esk(w, e));
        }
        *esk(w, e) = sk;
        lw_dds_merge(g->wsk, sk, 1);
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
    while (g->len && at(w, g, 0)->id <= drop_upto) {
        struct entry *e = at(w, g, 0);
        g->tot[C_COUNT] -= val(w, e, C_COUNT);
        g->tot[C_MATCHED] -= val(w, e, C_MATCHED);
        g->tot[C_SUM] -= val(w, e, C_SUM);
        if (w->sketch && *esk(w, e)) {
            lw_dds_merge(g->wsk, *esk(w, e), -1);
            lw_dds_free(*esk(w, e));
        }
        g->head++;
        g->len--;
    }
    if (g->dist)
        lw_distinct_expire(g->dist, drop_upto);
    if (g->len == 0) {
        /* Exact zeros, whatever rounding the float sums collected. */
        g->head = 0;
        g->tot[C_COUNT] = g->tot[C_MATCHED] = g->tot[C_SUM] = 0;
    }
    g->lo = drop_upto;
}

int64_t lw_win_next_bucket(const struct lw_win *w, const struct lw_wgroup *g, int64_t after)
{
    uint32_t lo = 0, hi = g->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (at(w, g, mid)->id <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->len ? at(w, g, lo)->id : INT64_MAX;
}

void lw_win_agg(struct lw_win *w, struct lw_wgroup *g, int64_t n, int back, struct lw_agg *out)
{
    expire(w, g, n);
    int64_t hi = n - w->k * back, lo = hi - w->k; /* the window is (lo, hi] */
    memset(out, 0, sizeof *out);
    out->min = NAN;
    out->max = NAN;
    /* Sketches cover the held buckets: the window itself unless events ran ahead. */
    out->quantile = w->sketch ? lw_dds_quantile(g->wsk, w->q) : NAN;
    out->distinct = (double)lw_distinct_count(g->dist);
    /* After expiry the held buckets are those after lo when a group keeps one window: unless
     * events ran ahead of the clock, the running totals are the answer. */
    if (back == 0 && w->span_b == w->k && !(w->aggs & (LW_AGG_MIN | LW_AGG_MAX)) &&
        (!g->len || at(w, g, g->len - 1)->id <= hi)) {
        out->count = g->tot[C_COUNT];
        out->matched = g->tot[C_MATCHED];
        out->sum = g->tot[C_SUM];
        return;
    }
    double mn = INFINITY, mx = -INFINITY;
    for (uint32_t i = 0; i < g->len; i++) {
        const struct entry *e = at(w, g, i);
        if (e->id <= lo)
            continue;
        if (e->id > hi)
            break;
        out->count += val(w, e, C_COUNT);
        out->matched += val(w, e, C_MATCHED);
        out->sum += val(w, e, C_SUM);
        if (w->col[C_MIN] >= 0 && e->v[w->col[C_MIN]] < mn)
            mn = e->v[w->col[C_MIN]];
        if (w->col[C_MAX] >= 0 && e->v[w->col[C_MAX]] > mx)
            mx = e->v[w->col[C_MAX]];
    }
    if (out->count > 0) {
        out->min = mn;
        out->max = mx;
    }
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
        dl->dpos = i + 1;
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
        n += sizeof *g + g->keylen + 1 + (size_t)g->cap * w->stride + lw_dds_bytes(g->wsk) +
             lw_distinct_bytes(g->dist);
        if (w->sketch)
            for (uint32_t j = 0; j < g->len; j++)
                n += lw_dds_bytes(
                    *esk(w, (struct entry *)(g->q + (size_t)(g->head + j) * w->stride)));
    }
    return n;
}

int64_t lw_win_res(const struct lw_win *w)
{
    return w->res_s;
}

void lw_win_take_dirty(struct lw_win *w, lw_win_dirty_fn *fn, void *payload)
{
    for (size_t d = 0; d < w->ndirty; d++) {
        struct lw_wgroup *g = w->dlist[d];
        for (uint32_t i = 0; i < g->len; i++) {
            struct entry *e = at(w, g, i);
            if (!e->dirty)
                continue;
            e->dirty = 0;
            struct lw_agg a = {val(w, e, C_COUNT),
                               val(w, e, C_MATCHED),
                               val(w, e, C_SUM),
                               w->col[C_MIN] >= 0 ? e->v[w->col[C_MIN]] : 0,
                               w->col[C_MAX] >= 0 ? e->v[w->col[C_MAX]] : 0,
                               0,
                               0,
                               NULL,
                               0};
            if (w->sketch && *esk(w, e)) {
                lw_buf_reset(&w->enc);
                lw_dds_encode(*esk(w, e), &w->enc);
                a.blob = w->enc.p;
                a.bloblen = w->enc.len;
            }
            fn(g, e->id, &a, payload);
        }
        g->dpos = 0;
    }
    w->ndirty = 0;
}
