/* sketch.c: a subtractable DDSketch (sorted sparse bins) and an exact windowed distinct counter. */
#include "sketch.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- DDSketch */

#define ALPHA 0.005
#define MIN_ABS 1e-9
#define KEY_OFFSET (1 << 20) /* positive keys start above the zero key, negatives mirror */

/* A bin is 16 bytes: its key and count packed in one word, and the sum of its values. Keys are
 * below 2^21 in magnitude (KEY_OFFSET plus at most log_gamma(DBL_MAX) < 71 000) and stored
 * biased in the top 22 bits, which keeps the words in key order; the count is two's complement
 * in the low 42 bits (up to 2.2 10^12 values of one 1 % range in one sketch: windows.c holds
 * at most 600 buckets of less than 2^32 events each). */
#define N_BITS 42
#define N_MASK ((UINT64_C(1) << N_BITS) - 1)
#define N_MAX ((INT64_C(1) << (N_BITS - 1)) - 1)
#define KEY_BIAS (1 << 21)

struct bin {
    uint64_t kn; /* (key + KEY_BIAS) << N_BITS | count */
    double sum;  /* of the bin's values: the bin stands for their mean */
};

struct lw_dds {
    struct bin *b;
    uint32_t len, cap;
    int64_t count;
};

static inline int32_t bkey(const struct bin *b)
{
    return (int32_t)(b->kn >> N_BITS) - KEY_BIAS;
}

static inline int64_t bcount(const struct bin *b)
{
    int64_t n = (int64_t)(b->kn & N_MASK);
    return n > N_MAX ? n - (INT64_C(1) << N_BITS) : n;
}

static inline struct bin mkbin(int32_t key, int64_t n, double sum)
{
    return (struct bin){(uint64_t)(key + KEY_BIAS) << N_BITS | ((uint64_t)n & N_MASK), sum};
}

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

/* What a value adds to its bin's sum: NaN counts as 0 (the zero bin) and an infinity as the
 * largest finite value, so that a sum never turns NaN and a key stays within its bits. */
static double finite_(double v)
{
    if (isnan(v))
        return 0;
    return isinf(v) ? copysign(DBL_MAX, v) : v;
}

/* Keys sort like the values they stand for: negatives, zero, positives. v is finite. */
static int32_t key_of(double v)
{
    if (!(fabs(v) >= MIN_ABS))
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

/* What a bin stands for: the mean of its values, kept inside the bin's range (float rounding of
 * a sum that saw values come and go, or the low tail folded into the bin by collapse(), can
 * move a mean out of it; the slack keeps a value alone in a bin exactly itself even where the
 * computed edge and key_of() round differently). */
static double bin_value(const struct bin *b)
{
    int32_t key = bkey(b);
    int64_t n = bcount(b);
    double m = n > 0 ? b->sum / (double)n : NAN;
    if (isnan(m))
        return value_of(key);
    if (key == 0)
        return m;
    int32_t i = (key > 0 ? key : -key) - KEY_OFFSET;
    double g = gamma_(), lo = pow(g, i - 1) * (1 - 1e-12), hi = pow(g, i) * (1 + 1e-12);
    m = fabs(m);
    m = m < lo ? lo : m > hi ? hi : m;
    return key > 0 ? m : -m;
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
        if (bkey(&s->b[mid]) < key)
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
        s->b[1] =
            mkbin(bkey(&s->b[1]), bcount(&s->b[1]) + bcount(&s->b[0]), s->b[1].sum + s->b[0].sum);
        memmove(s->b, s->b + 1, (s->len - 1) * sizeof *s->b);
        s->len--;
    }
}

static void remove_at(struct lw_dds *s, uint32_t i)
{
    memmove(s->b + i, s->b + i + 1, (s->len - i - 1) * sizeof *s->b);
    s->len--;
}

static void add_key(struct lw_dds *s, int32_t key, double v, int64_t count)
{
    uint32_t i = s->len && bkey(&s->b[s->len - 1]) < key ? s->len : find(s, key);
    s->count += count;
    if (i < s->len && bkey(&s->b[i]) == key) {
        int64_t n = bcount(&s->b[i]) + count;
        if (n == 0)
            remove_at(s, i); /* and with it whatever rounding its sum collected */
        else
            s->b[i] = mkbin(key, n, s->b[i].sum + (double)count * v);
        return;
    }
    /* Most bucket sketches hold a few values: start with one bin, not eight. */
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1;
        s->b = lw_realloc(s->b, s->cap * sizeof *s->b);
    }
    memmove(s->b + i + 1, s->b + i, (s->len - i) * sizeof *s->b);
    s->b[i] = mkbin(key, count, (double)count * v);
    s->len++;
    collapse(s);
}

void lw_dds_add(struct lw_dds *s, double v, int64_t count)
{
    v = finite_(v);
    add_key(s, key_of(v), v, count);
}

void lw_dds_add2(struct lw_dds *a, struct lw_dds *b, double v)
{
    v = finite_(v);
    int32_t key = key_of(v); /* the log once: this is the line path of every quantile alert */
    add_key(a, key, v, 1);
    add_key(b, key, v, 1);
}

void lw_dds_merge(struct lw_dds *dst, const struct lw_dds *src, int sign)
{
    if (!src || !src->len)
        return;
    struct bin *out = lw_malloc((dst->len + src->len) * sizeof *out);
    uint32_t i = 0, j = 0, n = 0;
    while (i < dst->len || j < src->len) {
        int32_t kd = i < dst->len ? bkey(&dst->b[i]) : INT32_MAX;
        int32_t ks = j < src->len ? bkey(&src->b[j]) : INT32_MAX;
        if (kd < ks) {
            out[n++] = dst->b[i++];
            continue;
        }
        int64_t c = sign * bcount(&src->b[j]);
        double sum = sign * src->b[j].sum;
        if (kd == ks) {
            c += bcount(&dst->b[i]);
            sum += dst->b[i++].sum;
        }
        j++;
        if (c != 0)
            out[n++] = mkbin(ks, c, sum);
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
    if (!s || s->count <= 0 || !s->len)
        return NAN;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    /* Prometheus's quantile_over_time: rank h = q (n - 1) among the sorted values (0-based),
     * and the values of ranks floor(h) and floor(h) + 1 weighted by the fraction of h, in
     * the same float operations, so that exact bins give Prometheus's answer to the bit. */
    double h = q * (double)(s->count - 1), w = h - floor(h);
    int64_t rank = (int64_t)floor(h);
    uint32_t i = 0;
    int64_t seen = bcount(&s->b[0]); /* values in bins 0..i */
    while (seen <= rank && i + 1 < s->len)
        seen += bcount(&s->b[++i]);
    double lo = bin_value(&s->b[i]), hi = lo;
    /* The next rank is in the same bin unless rank is the bin's last value. */
    if (w > 0 && seen <= rank + 1 && i + 1 < s->len)
        hi = bin_value(&s->b[i + 1]);
    return lo * (1 - w) + hi * w;
}

/* Encoding: "D2", u32 bins, then per bin i32 key, i64 count, f64 sum (IEEE 754 bits); little
 * endian. "D1" (earlier versions) is the same without the sums. */
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
    lw_buf_append(out, "D2", 2);
    put_le(out, s->len, 4);
    for (uint32_t i = 0; i < s->len; i++) {
        uint64_t sum;
        memcpy(&sum, &s->b[i].sum, sizeof sum);
        put_le(out, (uint32_t)bkey(&s->b[i]), 4);
        put_le(out, (uint64_t)bcount(&s->b[i]), 8);
        put_le(out, sum, 8);
    }
}

int lw_dds_decode(struct lw_dds **out, const void *p, size_t n)
{
    const unsigned char *c = p;
    *out = NULL;
    if (n < 6 || c[0] != 'D' || (c[1] != '1' && c[1] != '2'))
        return LW_EINVAL;
    size_t per = c[1] == '2' ? 20 : 12; /* bytes per bin */
    uint64_t len = get_le(c + 2, 4);
    if (len > LW_DDS_MAX_BINS || n != 6 + len * per)
        return LW_EINVAL;
    struct lw_dds *s = lw_dds_new();
    s->b = lw_calloc(len ? len : 1, sizeof *s->b);
    s->cap = (uint32_t)(len ? len : 1);
    for (uint64_t i = 0; i < len; i++) {
        const unsigned char *e = c + 6 + i * per;
        int32_t key = (int32_t)(uint32_t)get_le(e, 4);
        int64_t cnt = (int64_t)get_le(e + 4, 8);
        bool bad = (i > 0 && key <= bkey(&s->b[i - 1])) || cnt == 0 || cnt > N_MAX ||
                   cnt < -N_MAX || key >= KEY_BIAS || key <= -KEY_BIAS;
        double sum = bad ? 0 : (double)cnt * value_of(key); /* D1: the representative */
        if (per == 20) {
            uint64_t bits = get_le(e + 12, 8);
            memcpy(&sum, &bits, sizeof sum);
        }
        if (bad || !isfinite(sum)) {
            lw_dds_free(s);
            return LW_EINVAL;
        }
        s->b[i] = mkbin(key, cnt, sum);
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

void lw_distinct_encode(const struct lw_distinct *d, int64_t bucket, struct lw_buf *out)
{
    lw_buf_append(out, "D1", 2);
    for (size_t i = 0; d && i < d->size; i++) {
        if (!d->t[i].hash || d->t[i].bucket != bucket)
            continue;
        unsigned char le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (unsigned char)(d->t[i].hash >> (8 * k));
        lw_buf_append(out, le, sizeof le);
    }
}

int lw_distinct_decode(const void *p, size_t n, void (*fn)(uint64_t hash, void *arg), void *arg)
{
    const unsigned char *b = p;
    if (n < 2 || b[0] != 'D' || b[1] != '1' || (n - 2) % 8)
        return -1;
    for (size_t at = 2; at < n; at += 8) {
        uint64_t h = 0;
        for (int k = 0; k < 8; k++)
            h |= (uint64_t)b[at + k] << (8 * k);
        fn(h, arg);
    }
    return 0;
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

static int cmp_seen(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

struct lw_distinct *lw_distinct_union(struct lw_distinct *const *src, size_t n, size_t cap)
{
    struct lw_distinct *d = lw_distinct_new(cap);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += src[i]->n;
    if (!total)
        return d;
    struct seen *all = lw_malloc(total * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < src[i]->size; j++)
            if (src[i]->t[j].hash)
                all[k++] = (struct seen){src[i]->t[j].bucket, src[i]->t[j].hash};
    qsort(all, k, sizeof *all, cmp_seen);
    for (size_t i = 0; i < k; i++)
        lw_distinct_add(d, all[i].hash, all[i].bucket);
    free(all);
    return d;
}
