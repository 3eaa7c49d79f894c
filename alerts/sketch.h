/* sketch.h: windowed sketches: a subtractable DDSketch for quantiles (relative error at most
 * 1 %) and an exact windowed distinct counter with a memory cap. */
#ifndef LW_SKETCH_H
#define LW_SKETCH_H

#include "lw.h"

/* DDSketch (Masson, Rim, Lee, VLDB 2019) with relative accuracy 0.5 %: every value falls in a
 * bin [gamma^(i-1), gamma^i) (mirrored for negatives, one bin for |v| < 1e-9). A bin keeps its
 * count and the sum of its values, and stands for their mean: a value alone in its bin (one
 * value, or values more than 1 % apart, which is every small window of real latencies) reads
 * back as itself, and any mean lies within 0.5 % of every value of its bin. Bins are a sorted
 * array of (key, count, sum) with int64 counts, so sketches add AND subtract (counts exactly,
 * sums up to float rounding): a window keeps one sketch that is the sum of its buckets'
 * sketches and subtracts a bucket's when it leaves. At most LW_DDS_MAX_BINS bins: beyond, the
 * two lowest are merged (the low tail loses accuracy, the quantiles alerts use do not).
 * Add: O(log bins); merge: O(bins); quantile: O(bins). */
#define LW_DDS_MAX_BINS 4096

struct lw_dds;

struct lw_dds *lw_dds_new(void);
void lw_dds_free(struct lw_dds *s);
void lw_dds_clear(struct lw_dds *s);
/* Adds v count times (count may be negative to remove). */
void lw_dds_add(struct lw_dds *s, double v, int64_t count);
/* Adds v once to a and once to b (a bucket and its window), working out its bin once. */
void lw_dds_add2(struct lw_dds *a, struct lw_dds *b, double v);
/* dst += sign * src (sign 1 or -1). */
void lw_dds_merge(struct lw_dds *dst, const struct lw_dds *src, int sign);
int64_t lw_dds_count(const struct lw_dds *s);
/* Heap bytes held (for memory accounting). */
size_t lw_dds_bytes(const struct lw_dds *s);
/* The q-quantile (0 <= q <= 1) as Prometheus's quantile_over_time defines it: values sorted,
 * rank h = q * (n - 1), linear interpolation between the values of ranks floor(h) and
 * floor(h) + 1. Within 0.5 % of the exact answer when those two values have the same sign
 * (a sketch cannot bound the relative error of a result near zero between a negative and a
 * positive value). NaN when empty. */
double lw_dds_quantile(const struct lw_dds *s, double q);
/* Compact, little-endian, versioned encoding (for the state file), and its bounds-checked
 * decoding: LW_EINVAL on anything malformed. *out is the caller's. Encodes "D2" (with the
 * sums); decodes "D2" and the "D1" of earlier versions (no sums: a bin then stands for its
 * representative value, as it did when it was written). */
void lw_dds_encode(const struct lw_dds *s, struct lw_buf *out);
int lw_dds_decode(struct lw_dds **out, const void *p, size_t n);

/* Distinct values in a sliding window of buckets: a hash map from a value's 64-bit hash to the
 * newest bucket it was seen in, and a queue of (bucket, hash) to expire values that have not
 * been seen since the window's start. Exact; at most `cap` values are held (new values past
 * it are counted in `dropped` and the count saturates). Add and expire: amortized O(1). */
struct lw_distinct;

struct lw_distinct *lw_distinct_new(size_t cap);
void lw_distinct_free(struct lw_distinct *d);
void lw_distinct_add(struct lw_distinct *d, uint64_t hash, int64_t bucket);
/* Forgets values not seen in a bucket after lo; returns the number left. */
size_t lw_distinct_expire(struct lw_distinct *d, int64_t lo);
size_t lw_distinct_count(const struct lw_distinct *d);
uint64_t lw_distinct_dropped(const struct lw_distinct *d);
size_t lw_distinct_bytes(const struct lw_distinct *d);
/* Persistence: appends to out the values whose newest bucket is `bucket` (what a bucket row
 * holds: a value seen again later is written with its newer bucket too, and restoring keeps the
 * newest), as "D1" and 8-byte little-endian hashes. O(values held). */
void lw_distinct_encode(const struct lw_distinct *d, int64_t bucket, struct lw_buf *out);
/* The hashes of a blob lw_distinct_encode wrote, for fn(hash, arg) each: 0, or -1 when the
 * blob is not one (then fn is never called). */
int lw_distinct_decode(const void *p, size_t n, void (*fn)(uint64_t hash, void *arg), void *arg);
/* A new set holding the values of n sets, each with the newest bucket any of them saw it in
 * (added in bucket order, so that it expires exactly as one set fed all their events would). */
struct lw_distinct *lw_distinct_union(struct lw_distinct *const *src, size_t n, size_t cap);

#endif
