/* windows.c: sliding-window buckets per alert and group: a chained hash of groups, each a ring
 * of buckets with running totals for count/matched/sum (min/max are scanned: k is at most
 * a few hundred). */
#include "windows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { A_COUNT, A_MATCHED, A_SUM, A_MIN, A_MAX, A_N };

struct lw_win {
    int64_t res_s, k;
    int64_t ring; /* slots per group: k*span + 2 */
    unsigned aggs;
    size_t max_groups;
    uint64_t overflow;
    struct lw_wgroup **groups; /* dense array, for iteration */
    size_t ngroups, capgroups;
    struct lw_wgroup **table; /* hash buckets */
    size_t tsize;             /* power of two */
    bool no_persist;          /* replay: no dirty tracking */
    struct lw_wgroup **dlist; /* groups with dirty slots */
    size_t ndirty, capdirty;
};

/* Per-group dirty bookkeeping lives beside the ring: the index in dlist + 1, 0 when clean. */
struct gextra {
    size_t dpos;
};

static inline struct gextra *extra(struct lw_wgroup *g)
{
    return (struct gextra *)(g + 1);
}

struct lw_win *lw_win_new(int64_t res_s, int64_t k, int span, unsigned aggs, size_t max_groups)
{
    struct lw_win *w = lw_calloc(1, sizeof *w);
    w->res_s = res_s > 0 ? res_s : 1;
    w->k = k > 0 ? k : 1;
    w->ring = w->k * (span > 1 ? span : 1) + 2;
    w->aggs = aggs | LW_AGG_COUNT;
    w->max_groups = max_groups;
    w->tsize = 64;
    w->table = lw_calloc(w->tsize, sizeof *w->table);
    return w;
}

static void group_free(struct lw_wgroup *g)
{
    free(g->key);
    free(g->ids);
    free(g->vals);
    free(g->dirty);
    free(g);
}

void lw_win_free(struct lw_win *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ngroups; i++)
        group_free(w->groups[i]);
    free(w->groups);
    free(w->table);
    free(w->dlist);
    free(w);
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
    struct lw_wgroup *g = lw_calloc(1, sizeof *g + sizeof(struct gextra));
    g->key = lw_strndup(key, keylen);
    g->keylen = keylen;
    g->hash = h;
    g->last_bucket = INT64_MIN;
    g->lo = INT64_MIN;
    g->ids = lw_calloc((size_t)w->ring, sizeof *g->ids);
    g->vals = lw_calloc((size_t)w->ring * A_N, sizeof *g->vals);
    g->dirty = lw_calloc((size_t)w->ring, 1);
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

static inline size_t slot_of(const struct lw_win *w, int64_t b)
{
    int64_t s = b % w->ring;
    return (size_t)(s < 0 ? s + w->ring : s);
}

/* Removes a held bucket from the running totals and empties its slot. */
static void evict(struct lw_win *w, struct lw_wgroup *g, size_t s)
{
    double *v = &g->vals[s * A_N];
    g->tot[A_COUNT] -= v[A_COUNT];
    g->tot[A_MATCHED] -= v[A_MATCHED];
    g->tot[A_SUM] -= v[A_SUM];
    memset(v, 0, A_N * sizeof *v);
    g->ids[s] = 0;
    (void)w;
}

void lw_win_no_persist(struct lw_win *w)
{
    w->no_persist = true;
}

static void mark_dirty(struct lw_win *w, struct lw_wgroup *g, size_t s)
{
    if (w->no_persist)
        return;
    g->dirty[s] = 1;
    if (extra(g)->dpos)
        return;
    if (w->ndirty == w->capdirty) {
        w->capdirty = w->capdirty ? w->capdirty * 2 : 16;
        w->dlist = lw_realloc(w->dlist, w->capdirty * sizeof *w->dlist);
    }
    w->dlist[w->ndirty++] = g;
    extra(g)->dpos = w->ndirty;
}

/* The slot for bucket b, making room by evicting whatever older bucket it held. */
static size_t slot_for(struct lw_win *w, struct lw_wgroup *g, int64_t b)
{
    size_t s = slot_of(w, b);
    if (g->ids[s] != b) {
        if (g->ids[s] != 0)
            evict(w, g, s);
        g->ids[s] = b;
        double *v = &g->vals[s * A_N];
        v[A_MIN] = INFINITY;
        v[A_MAX] = -INFINITY;
    }
    return s;
}

int lw_win_add(struct lw_win *w, struct lw_wgroup *g, int64_t b, int64_t now_b, bool matched,
               double val)
{
    /* Instant now_b is evaluated already: a bucket that no window ending after it reaches
     * (span windows back) can change nothing any more: it is late. */
    if (b <= now_b - (w->ring - 2) + 1 || b <= g->lo)
        return LW_EINVAL;
    size_t s = slot_for(w, g, b);
    double *v = &g->vals[s * A_N];
    v[A_COUNT] += 1;
    g->tot[A_COUNT] += 1;
    if (matched) {
        v[A_MATCHED] += 1;
        g->tot[A_MATCHED] += 1;
    }
    if (w->aggs & (LW_AGG_SUM | LW_AGG_MIN | LW_AGG_MAX)) {
        v[A_SUM] += val;
        g->tot[A_SUM] += val;
        if (val < v[A_MIN])
            v[A_MIN] = val;
        if (val > v[A_MAX])
            v[A_MAX] = val;
    }
    if (b > g->last_bucket)
        g->last_bucket = b;
    mark_dirty(w, g, s);
    return 0;
}

void lw_win_restore(struct lw_win *w, struct lw_wgroup *g, int64_t b, const struct lw_agg *a)
{
    if (b <= g->lo)
        return;
    size_t s = slot_for(w, g, b);
    double *v = &g->vals[s * A_N];
    g->tot[A_COUNT] += a->count - v[A_COUNT];
    g->tot[A_MATCHED] += a->matched - v[A_MATCHED];
    g->tot[A_SUM] += a->sum - v[A_SUM];
    v[A_COUNT] = a->count;
    v[A_MATCHED] = a->matched;
    v[A_SUM] = a->sum;
    v[A_MIN] = a->count > 0 ? a->min : INFINITY;
    v[A_MAX] = a->count > 0 ? a->max : -INFINITY;
    if (b > g->last_bucket)
        g->last_bucket = b;
}

void lw_win_agg(struct lw_win *w, struct lw_wgroup *g, int64_t n, int back, struct lw_agg *out)
{
    /* Buckets at or below n - (ring - 2) can serve no window ending at n or later. */
    int64_t drop_upto = n - (w->ring - 2);
    if (drop_upto > g->lo) {
        int64_t from =
            g->lo == INT64_MIN || drop_upto - g->lo > w->ring ? drop_upto - w->ring + 1 : g->lo + 1;
        for (int64_t b = from; b <= drop_upto; b++) {
            size_t s = slot_of(w, b);
            if (g->ids[s] == b)
                evict(w, g, s);
        }
        g->lo = drop_upto;
    }
    int64_t hi = n - w->k * back, lo = hi - w->k; /* the window is (lo, hi] */
    memset(out, 0, sizeof *out);
    out->min = NAN;
    out->max = NAN;
    /* After the drop above, held buckets are exactly those after lo when the ring spans one
     * window: unless events ran ahead of the clock, the running totals are the answer. */
    if (back == 0 && w->ring == w->k + 2 && !(w->aggs & (LW_AGG_MIN | LW_AGG_MAX)) &&
        g->last_bucket <= hi) {
        out->count = g->tot[A_COUNT];
        out->matched = g->tot[A_MATCHED];
        out->sum = g->tot[A_SUM];
        return;
    }
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < w->ring; i++) {
        int64_t b = g->ids[i];
        if (b == 0 || b <= lo || b > hi)
            continue;
        const double *v = &g->vals[i * A_N];
        out->count += v[A_COUNT];
        out->matched += v[A_MATCHED];
        out->sum += v[A_SUM];
        if (v[A_MIN] < mn)
            mn = v[A_MIN];
        if (v[A_MAX] > mx)
            mx = v[A_MAX];
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
    if (extra(g)->dpos) {
        size_t i = extra(g)->dpos - 1;
        struct lw_wgroup *dl = w->dlist[--w->ndirty];
        w->dlist[i] = dl;
        extra(dl)->dpos = i + 1;
    }
    group_free(g);
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

int64_t lw_win_res(const struct lw_win *w)
{
    return w->res_s;
}

void lw_win_take_dirty(struct lw_win *w, lw_win_dirty_fn *fn, void *payload)
{
    for (size_t d = 0; d < w->ndirty; d++) {
        struct lw_wgroup *g = w->dlist[d];
        for (int64_t i = 0; i < w->ring; i++) {
            if (!g->dirty[i])
                continue;
            g->dirty[i] = 0;
            if (g->ids[i] == 0)
                continue;
            const double *v = &g->vals[i * A_N];
            struct lw_agg a = {v[A_COUNT], v[A_MATCHED], v[A_SUM], v[A_MIN], v[A_MAX]};
            fn(g, g->ids[i], &a, payload);
        }
        extra(g)->dpos = 0;
    }
    w->ndirty = 0;
}
