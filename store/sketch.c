/* sketch.c: a subtractable DDSketch (sorted sparse bins) and an exact windowed distinct counter. */
#include "sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- DDSketch */

#define ALPHA 0.005
#define MIN_ABS 1e-9
#define KEY_OFFSET (1 << 20) /* positive keys start above the zero key, negatives mirror */

struct bin {
    int32_t key;
    int64_t n;
};

struct lw_dds {
    struct bin *b;
    uint32_t len, cap;
    int64_t count;
};

static double gamma_(void)
{
    return (1 + ALPHA) / (1 - ALPHA);
}

static double log_gamma(void)
{
    static double lg;
    if (lg == 0)
        lg = log(gamma_());
    return lg;
}

/* Keys sort like the values they stand for: negatives, zero, positives. */
static int32_t key_of(double v)
{
    if (!(fabs(v) >= MIN_ABS)) /* also NaN */
        return 0;
    int32_t i = (int32_t)ceil(log(fabs(v)) / log_gamma());
    return v > 0 ? i + KEY_OFFSET : -(i + KEY_OFFSET);
}

static double value_of(int32_t key)
{
    if (key == 0)
        return 0;
    int32_t i = (key > 0 ? key : -key) - KEY_OFFSET;
    double g = gamma_(), v = 2 * pow(g, i) / (g + 1);
    return key > 0 ? v : -v;
}

struct lw_dds *lw_dds_new(void)
{
    return lw_calloc(1, sizeof(struct lw_dds));
}

void lw_dds_free(struct lw_dds *s)
{
    if (!s)
        return;
    free(s->b);
    free(s);
}

void lw_dds_clear(struct lw_dds *s)
{
    s->len = 0;
    s->count = 0;
}

static uint32_t find(const struct lw_dds *s, int32_t key)
{
    uint32_t lo = 0, hi = s->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->b[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Keeps at most LW_DDS_MAX_BINS bins by folding the lowest into its neighbour. */
static void collapse(struct lw_dds *s)
{
    while (s->len > LW_DDS_MAX_BINS) {
        s->b[1].n += s->b[0].n;
        memmove(s->b, s->b + 1, (s->len - 1) * sizeof *s->b);
        s->len--;
    }
}

static void remove_at(struct lw_dds *s, uint32_t i)
{
    memmove(s->b + i, s->b + i + 1, (s->len - i - 1) * sizeof *s->b);
    s->len--;
}

void lw_dds_add(struct lw_dds *s, double v, int64_t count)
{
    int32_t key = key_of(v);
    uint32_t i = s->len && s->b[s->len - 1].key < key ? s->len : find(s, key);
    s->count += count;
    if (i < s->len && s->b[i].key == key) {
        s->b[i].n += count;
        if (s->b[i].n == 0)
            remove_at(s, i);
        return;
    }
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->b = lw_realloc(s->b, s->cap * sizeof *s->b);
    }
    memmove(s->b + i + 1, s->b + i, (s->len - i) * sizeof *s->b);
    s->b[i] = (struct bin){key, count};
    s->len++;
    collapse(s);
}

void lw_dds_merge(struct lw_dds *dst, const struct lw_dds *src, int sign)
{
    if (!src || !src->len)
        return;
    struct bin *out = lw_malloc((dst->len + src->len) * sizeof *out);
    uint32_t i = 0, j = 0, n = 0;
    while (i < dst->len || j < src->len) {
        struct bin x;
        if (j >= src->len || (i < dst->len && dst->b[i].key < src->b[j].key)) {
            x = dst->b[i++];
        } else if (i >= dst->len || src->b[j].key < dst->b[i].key) {
            x = (struct bin){src->b[j].key, sign * src->b[j].n};
            j++;
        } else {
            x = (struct bin){dst->b[i].key, dst->b[i].n + sign * src->b[j].n};
            i++, j++;
        }
        if (x.n != 0)
            out[n++] = x;
    }
    free(dst->b);
    dst->cap = dst->len + src->len;
    dst->b = out;
    dst->len = n;
    dst->count += sign * src->count;
    collapse(dst);
}

size_t lw_dds_bytes(const struct lw_dds *s)
{
    return s ? sizeof *s + (size_t)s->cap * sizeof *s->b : 0;
}

int64_t lw_dds_count(const struct lw_dds *s)
{
    return s ? s->count : 0;
}

double lw_dds_quantile(const struct lw_dds *s, double q)
{
    if (!s || s->count <= 0)
        return NAN;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    /* The value of rank floor(q * (count - 1)) (0-based), as DDSketch defines it. */
    int64_t rank = (int64_t)(q * (double)(s->count - 1));
    int64_t seen = 0;
    for (uint32_t i = 0; i < s->len; i++) {
        seen += s->b[i].n;
        if (seen > rank)
            return value_of(s->b[i].key);
    }
    return value_of(s->b[s->len - 1].key);
}

/* Encoding: "D1", u32 bins, then per bin i32 key, i64 count; little endian. */
static void put_le(struct lw_buf *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    for (int i = 0; i < bytes; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    lw_buf_append(b, x, (size_t)bytes);
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void lw_dds_encode(const struct lw_dds *s, struct lw_buf *out)
{
    lw_buf_append(out, "D1", 2);
    put_le(out, s->len, 4);
    for (uint32_t i = 0; i < s->len; i++) {
        put_le(out, (uint32_t)s->b[i].key, 4);
        put_le(out, (uint64_t)s->b[i].n, 8);
    }
}

int lw_dds_decode(struct lw_dds **out, const void *p, size_t n)
{
    const unsigned char *c = p;
    *out = NULL;
    if (n < 6 || memcmp(c, "D1", 2))
        return LW_EINVAL;
    uint64_t len = get_le(c + 2, 4);
    if (len > LW_DDS_MAX_BINS || n != 6 + len * 12)
        return LW_EINVAL;
    struct lw_dds *s = lw_dds_new();
    s->b = lw_calloc(len ? len : 1, sizeof *s->b);
    s->cap = (uint32_t)(len ? len : 1);
    for (uint64_t i = 0; i < len; i++) {
        int32_t key = (int32_t)(uint32_t)get_le(c + 6 + i * 12, 4);
        int64_t cnt = (int64_t)get_le(c + 10 + i * 12, 8);
        if ((i > 0 && key <= s->b[i - 1].key) || cnt == 0) {
            lw_dds_free(s);
            return LW_EINVAL;
        }
        s->b[i] = (struct bin){key, cnt};
        s->count += cnt;
    }
    s->len = (uint32_t)len;
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- windowed distinct */

struct slot {
    uint64_t hash;  /* 0: empty; hashes equal to 0 are stored as 1 */
    int64_t bucket; /* newest bucket the value was seen in */
};

struct seen {
    int64_t bucket;
    uint64_t hash;
};

struct lw_distinct {
    struct slot *t; /* open addressing, linear probing, backward-shift deletion */
    size_t size, n; /* size: power of two */
    struct seen *q; /* (bucket, hash) in arrival order */
    size_t qhead, qlen, qcap;
    size_t cap;
    uint64_t dropped;
};

struct lw_distinct *lw_distinct_new(size_t cap)
{
    struct lw_distinct *d = lw_calloc(1, sizeof *d);
    d->size = 16;
    d->t = lw_calloc(d->size, sizeof *d->t);
    d->cap = cap ? cap : 1;
    return d;
}

void lw_distinct_free(struct lw_distinct *d)
{
    if (!d)
        return;
    free(d->t);
    free(d->q);
    free(d);
}

static size_t probe(const struct lw_distinct *d, uint64_t h)
{
    size_t i = (size_t)(h * UINT64_C(0x9E3779B97F4A7C15) >> 17) & (d->size - 1);
    while (d->t[i].hash && d->t[i].hash != h)
        i = (i + 1) & (d->size - 1);
    return i;
}

static void grow(struct lw_distinct *d)
{
    struct slot *old = d->t;
    size_t osize = d->size;
    d->size *= 2;
    d->t = lw_calloc(d->size, sizeof *d->t);
    for (size_t i = 0; i < osize; i++)
        if (old[i].hash)
            d->t[probe(d, old[i].hash)] = old[i];
    free(old);
}

static void push_seen(struct lw_distinct *d, int64_t bucket, uint64_t h)
{
    if (d->qhead + d->qlen == d->qcap) {
        if (d->qhead > d->qcap / 2) {
            memmove(d->q, d->q + d->qhead, d->qlen * sizeof *d->q);
            d->qhead = 0;
        } else {
            d->qcap = d->qcap ? d->qcap * 2 : 16;
            d->q = lw_realloc(d->q, d->qcap * sizeof *d->q);
        }
    }
    d->q[d->qhead + d->qlen++] = (struct seen){bucket, h};
}

void lw_distinct_add(struct lw_distinct *d, uint64_t hash, int64_t bucket)
{
    uint64_t h = hash ? hash : 1;
    size_t i = probe(d, h);
    if (d->t[i].hash) {
        if (bucket > d->t[i].bucket) {
            d->t[i].bucket = bucket;
            push_seen(d, bucket, h); /* once per value and bucket, not per event */
        }
        return;
    }
    if (d->n >= d->cap) {
        d->dropped++;
        return;
    }
    d->t[i] = (struct slot){h, bucket};
    d->n++;
    push_seen(d, bucket, h);
    if (d->n * 4 > d->size * 3)
        grow(d);
}

/* Removes the slot at i, shifting later members of its probe chain back (no tombstones). */
static void delete_at(struct lw_distinct *d, size_t i)
{
    size_t j = i;
    d->t[i].hash = 0;
    for (;;) {
        j = (j + 1) & (d->size - 1);
        if (!d->t[j].hash)
            break;
        size_t home = (size_t)(d->t[j].hash * UINT64_C(0x9E3779B97F4A7C15) >> 17) & (d->size - 1);
        /* Move j back to i if its home is not in the cyclic range (i, j]. */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            d->t[i] = d->t[j];
            d->t[j].hash = 0;
            i = j;
        }
    }
    d->n--;
}

/* The queue is in arrival order, which is bucket order except for out-of-order events: such
 * a value may be forgotten a little later than its window says (a brief overcount). */
size_t lw_distinct_expire(struct lw_distinct *d, int64_t lo)
{
    while (d->qlen && d->q[d->qhead].bucket <= lo) {
        struct seen s = d->q[d->qhead++];
        d->qlen--;
        size_t i = probe(d, s.hash);
        /* Seen again later: a newer queue entry will expire it. */
        if (d->t[i].hash && d->t[i].bucket <= lo)
            delete_at(d, i);
    }
    if (!d->qlen)
        d->qhead = 0;
    return d->n;
}

size_t lw_distinct_count(const struct lw_distinct *d)
{
    return d ? d->n : 0;
}

size_t lw_distinct_bytes(const struct lw_distinct *d)
{
    return d ? sizeof *d + d->size * sizeof *d->t + d->qcap * sizeof *d->q : 0;
}

uint64_t lw_distinct_dropped(const struct lw_distinct *d)
{
    return d ? d->dropped : 0;
}
