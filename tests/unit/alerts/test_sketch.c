/* test_sketch.c: DDSketch quantiles against Prometheus's exact answer for 1 to 10^6 values,
 * subtraction, encoding (and the earlier version's); windowed distinct against a brute-force
 * window. */
#include "sketch.h"
#include "test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The reference: Prometheus's quantile_over_time over sorted values (promql/quantile.go,
 * quantile()): rank q (n - 1), linear interpolation between the two nearest ranks. */
static double prom_quantile(const double *sorted, size_t n, double q)
{
    double rank = q * (double)(n - 1), lo = floor(rank), w = rank - lo;
    size_t i = (size_t)lo, j = i + 1 < n ? i + 1 : n - 1;
    return sorted[i] * (1 - w) + sorted[j] * w;
}

/* Relative error of got against the exact answer at q. Where the two nearest values have
 * opposite signs the answer can be ~0, which no relative bound covers: the error is then
 * taken relative to the larger of the two. */
static double rel_error(const double *sorted, size_t n, double q, double got)
{
    double exact = prom_quantile(sorted, n, q), rank = q * (double)(n - 1);
    size_t i = (size_t)floor(rank), j = i + 1 < n ? i + 1 : n - 1;
    double scale = fabs(exact);
    if ((sorted[i] < 0) != (sorted[j] < 0))
        scale = fmax(fabs(sorted[i]), fabs(sorted[j]));
    return scale == 0 ? fabs(got) : fabs(got - exact) / scale;
}

static double draw(int dist)
{
    double u = urand();
    switch (dist) {
    case 0:
        return u * 1000; /* uniform */
    case 1:
        return -log(1 - u) * 0.2; /* exponential */
    case 2:                       /* log-normal, like request times */
        return exp(-2 + 1.5 * sqrt(-2 * log(u + 1e-300)) * cos(6.283185307 * urand()));
    default:
        return (u - 0.3) * 50; /* negatives, zeros near */
    }
}

/* Worst relative error of the sketch's quantiles over n values of one distribution, against
 * the exact Prometheus answer, at the q the issue names and a few more. */
static double worst_error(int dist, size_t n)
{
    static double v[1000000];
    struct lw_dds *s = lw_dds_new();
    for (size_t i = 0; i < n; i++) {
        v[i] = draw(dist);
        lw_dds_add(s, v[i], 1);
    }
    qsort(v, n, sizeof v[0], cmp_d);
    static const double qs[] = {0, 0.5, 0.95, 0.99, 1, 0.25, 0.9, 0.999};
    double worst = 0;
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double err = rel_error(v, n, qs[k], lw_dds_quantile(s, qs[k]));
        if (!(err <= worst))
            worst = err; /* NaN too */
    }
    CHECK_EQ(lw_dds_count(s), n);
    lw_dds_free(s);
    return worst;
}

static void test_dds_accuracy(void)
{
    static const size_t ns[] = {1, 2, 7, 20, 1000, 1000000};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int d = 0; d < 4; d++) {
            double w = worst_error(d, ns[k]);
            if (!(w <= 0.01))
                fprintf(stderr, "  n %zu, distribution %d: worst relative error %.4f\n", ns[k], d,
                        w);
            CHECK(w <= 0.01);
        }
}

static double q_of(const double *v, size_t n, double q)
{
    struct lw_dds *s = lw_dds_new();
    for (size_t i = 0; i < n; i++)
        lw_dds_add(s, v[i], 1);
    double r = lw_dds_quantile(s, q);
    lw_dds_free(s);
    return r;
}

/* The cases of the issue, answered as Prometheus answers them: values in bins of their own
 * are exact, interpolation included. */
static void test_dds_prometheus(void)
{
    static const double one[] = {1}, two[] = {1, 100}, seven[] = {1, 2, 3, 4, 5, 6, 7};
    static const double slow[] = {0.1, 0.12, 0.09, 0.11, 0.1, 2.5, 0.1, 0.13, 0.1, 0.1};
    CHECK(q_of(one, 1, 0.95) == 1); /* was 0.995: the bin's representative */
    CHECK(q_of(one, 1, 0) == 1 && q_of(one, 1, 1) == 1);
    CHECK(fabs(q_of(two, 2, 0.95) - 95.05) < 1e-12); /* was 1: the lower rank */
    CHECK(fabs(q_of(seven, 7, 0.95) - 6.7) < 1e-12); /* was 6 */
    CHECK(q_of(seven, 7, 0) == 1 && q_of(seven, 7, 1) == 7 && q_of(seven, 7, 0.5) == 4);
    /* One slow request among ten: p95 = 0.13 * 0.45 + 2.5 * 0.55, above 2 s / 1 s rules. */
    double p95 = q_of(slow, 10, 0.95);
    CHECK(fabs(p95 - (0.13 * (1 - 0.55) + 2.5 * 0.55)) < 1e-9);
    CHECK(p95 > 1.4);
    static const double odd[] = {0.004217, 1e-12, -3.25, 123456.789, 7e9};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        CHECK(q_of(odd + i, 1, 0.99) == odd[i]);
    CHECK(q_of(odd, 1, -1) == odd[0] && q_of(odd, 1, 2) == odd[0]); /* q clamped to [0, 1] */
    /* Non-finite input never makes the answer NaN. */
    static const double bad[] = {NAN, INFINITY, 1};
    CHECK(!isnan(q_of(bad, 3, 0.5)) && !isnan(q_of(bad, 3, 1)));
}

/* Relative difference, for sums that went through float additions and subtractions. */
static bool close_to(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

static void test_dds_subtract_encode(void)
{
    struct lw_dds *b[10], *win = lw_dds_new(), *last = NULL;
    double vals[100];
    for (int i = 0; i < 10; i++) {
        b[i] = lw_dds_new();
        for (int j = 0; j < 100; j++) {
            double x = urand() * 100 * (i + 1);
            lw_dds_add(b[i], x, 1);
            lw_dds_add(win, x, 1);
            vals[j] = x;
        }
    }
    for (int i = 0; i < 9; i++)
        lw_dds_merge(win, b[i], -1); /* buckets leave the window */
    last = b[9];
    qsort(vals, 100, sizeof vals[0], cmp_d);
    CHECK_EQ(lw_dds_count(win), 100);
    /* Counts subtract exactly, sums up to rounding: the window answers as the bucket left in
     * it does, and as the exact reference within 1 %. */
    for (double q = 0; q <= 1.0; q += 0.125) {
        CHECK(close_to(lw_dds_quantile(win, q), lw_dds_quantile(last, q), 1e-9));
        CHECK(rel_error(vals, 100, q, lw_dds_quantile(win, q)) <= 0.01);
    }
    struct lw_buf enc = {0};
    struct lw_dds *dec = NULL;
    lw_dds_encode(last, &enc);
    CHECK_EQ(lw_dds_decode(&dec, enc.p, enc.len), 0);
    CHECK(dec && lw_dds_quantile(dec, 0.95) == lw_dds_quantile(last, 0.95));
    CHECK(dec && lw_dds_quantile(dec, 0.3) == lw_dds_quantile(last, 0.3));
    lw_dds_free(dec);
    CHECK_EQ(lw_dds_decode(&dec, enc.p, enc.len - 1), LW_EINVAL); /* truncated */
    enc.p[0] = 'X';
    CHECK_EQ(lw_dds_decode(&dec, enc.p, enc.len), LW_EINVAL);
    lw_buf_free(&enc);
    CHECK(isnan(lw_dds_quantile(NULL, 0.5)));
    /* Emptied by subtraction: no value, and a value added again reads as itself. */
    lw_dds_merge(win, last, -1);
    CHECK_EQ(lw_dds_count(win), 0);
    CHECK(isnan(lw_dds_quantile(win, 0.5)));
    lw_dds_add(win, 2.0, 1);
    CHECK(lw_dds_quantile(win, 0.95) == 2.0);
    for (int i = 0; i < 10; i++)
        lw_dds_free(b[i]);
    lw_dds_free(win);
    /* Counts far beyond 32 bits in one bin, and values at the ends of the double range. */
    struct lw_dds *big = lw_dds_new();
    lw_dds_add(big, 0.25, INT64_C(1000000000000));
    lw_dds_add(big, DBL_MAX, 1);
    lw_dds_add(big, -DBL_MAX, 1);
    lw_dds_add(big, 1e-300, 1);
    CHECK(lw_dds_count(big) == INT64_C(1000000000003));
    CHECK(lw_dds_quantile(big, 0.5) == 0.25);
    CHECK(lw_dds_quantile(big, 1) == DBL_MAX && lw_dds_quantile(big, 0) == -DBL_MAX);
    lw_dds_add(big, 0.25, -INT64_C(1000000000000));
    CHECK(lw_dds_count(big) == 3 && lw_dds_quantile(big, 0.5) == 1e-300);
    lw_dds_free(big);
    /* Bins stay bounded for values spread over 21 decades. */
    struct lw_dds *wide = lw_dds_new();
    for (int i = 0; i < 200000; i++)
        lw_dds_add(wide, pow(10, -9 + 21 * urand()), 1);
    struct lw_buf e2 = {0};
    lw_dds_encode(wide, &e2);
    CHECK(e2.len <= 6 + 20 * LW_DDS_MAX_BINS);
    lw_buf_free(&e2);
    lw_dds_free(wide);
}

/* Appends little-endian bytes, to write blobs as earlier versions did. */
static void put_le(struct lw_buf *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        lw_buf_append(b, &c, 1);
    }
}

/* A bucket saved by an earlier version ("D1": keys and counts, no sums) still loads, reads
 * within 0.5 % as it did, and takes new values. */
static void test_dds_decode_v1(void)
{
    double g = 1.005 / 0.995;
    int32_t k2 = (int32_t)ceil(log(2.0) / log(g)) + (1 << 20);
    int32_t k10 = (int32_t)ceil(log(10.0) / log(g)) + (1 << 20);
    struct lw_buf b = {0};
    lw_buf_append(&b, "D1", 2);
    put_le(&b, 2, 4);
    put_le(&b, (uint32_t)k2, 4);
    put_le(&b, 3, 8);
    put_le(&b, (uint32_t)k10, 4);
    put_le(&b, 1, 8);
    struct lw_dds *s = NULL;
    CHECK_EQ(lw_dds_decode(&s, b.p, b.len), 0);
    CHECK_EQ(lw_dds_count(s), 4);
    CHECK(s && close_to(lw_dds_quantile(s, 0), 2, 0.005));
    CHECK(s && close_to(lw_dds_quantile(s, 1), 10, 0.005));
    /* q = 0.9: rank 2.7, between the third 2 and the 10. */
    CHECK(s && close_to(lw_dds_quantile(s, 0.9), 2 * 0.3 + 10 * 0.7, 0.005));
    struct lw_dds *sub = NULL;
    CHECK_EQ(lw_dds_decode(&sub, b.p, b.len), 0);
    lw_dds_add(s, 50, 1);
    lw_dds_merge(s, sub, -1); /* a restored bucket leaves the window */
    CHECK_EQ(lw_dds_count(s), 1);
    CHECK(s && lw_dds_quantile(s, 0.5) == 50);
    lw_dds_free(sub);
    lw_buf_reset(&b);
    lw_buf_append(&b, "D2", 2); /* a key out of range */
    put_le(&b, 1, 4);
    put_le(&b, 1u << 21, 4);
    put_le(&b, 1, 8);
    put_le(&b, 0, 8);
    CHECK_EQ(lw_dds_decode(&sub, b.p, b.len), LW_EINVAL);
    lw_buf_reset(&b);
    lw_buf_append(&b, "D3", 2);
    put_le(&b, 0, 4);
    CHECK_EQ(lw_dds_decode(&sub, b.p, b.len), LW_EINVAL); /* an unknown version */
    lw_buf_free(&b);
    lw_dds_free(s);
}

static void test_distinct(void)
{
    /* A random stream over a sliding window of 10 buckets, against a brute-force count. */
    enum { K = 10, B = 400 };
    struct lw_distinct *d = lw_distinct_new(1 << 20);
    static uint64_t seen[B][64];
    static int nseen[B];
    int bad = 0;
    for (int b = 1; b < B; b++) {
        nseen[b] = (int)(urand() * 60);
        for (int i = 0; i < nseen[b]; i++) {
            seen[b][i] = 1 + (uint64_t)(urand() * 300); /* values repeat across buckets */
            lw_distinct_add(d, seen[b][i] * 0x9E3779B97F4A7C15ull, b);
        }
        size_t got = lw_distinct_expire(d, b - K);
        /* brute force: distinct values in buckets (b-K, b] */
        static unsigned char mark[301];
        memset(mark, 0, sizeof mark);
        size_t want = 0;
        for (int x = b - K + 1; x <= b; x++)
            for (int i = 0; x > 0 && i < nseen[x]; i++)
                if (!mark[seen[x][i]]++)
                    want++;
        bad += got != want;
    }
    CHECK_EQ(bad, 0);
    lw_distinct_free(d);

    /* Large counts are exact (and far within 2 %). */
    d = lw_distinct_new(1 << 21);
    for (uint64_t i = 0; i < 1000000; i++)
        lw_distinct_add(d, i * 0x9E3779B97F4A7C15ull + 7, 5);
    CHECK_EQ(lw_distinct_count(d), 1000000);
    CHECK_EQ(lw_distinct_expire(d, 5), 0); /* the window moved past them */
    lw_distinct_free(d);

    d = lw_distinct_new(100);
    for (uint64_t i = 1; i <= 150; i++)
        lw_distinct_add(d, i, 1);
    CHECK_EQ(lw_distinct_count(d), 100);
    CHECK_EQ(lw_distinct_dropped(d), 50);
    lw_distinct_free(d);
}

int main(void)
{
    test_dds_accuracy();
    test_dds_prometheus();
    test_dds_subtract_encode();
    test_dds_decode_v1();
    test_distinct();
    return test_summary();
}
