/* test_sketch.c: DDSketch accuracy against exact quantiles of 10^6 values, exact subtraction,
 * encoding; windowed distinct against a brute-force window. */
#include "sketch.h"
#include "test.h"

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

/* Worst relative error of the sketch's quantiles over 10^6 values of one distribution. */
static double worst_error(int dist)
{
    enum { N = 1000000 };
    static double v[N];
    struct lw_dds *s = lw_dds_new();
    for (int i = 0; i < N; i++) {
        double u = urand();
        switch (dist) {
        case 0:
            v[i] = u * 1000;
            break; /* uniform */
        case 1:
            v[i] = -log(1 - u) * 0.2;
            break; /* exponential */
        case 2:
            v[i] = exp(-2 + 1.5 * sqrt(-2 * log(u + 1e-300)) * cos(6.283185307 * urand()));
            break;
        default:
            v[i] = (u - 0.3) * 50;
            break; /* negatives, zeros near */
        }
        lw_dds_add(s, v[i], 1);
    }
    qsort(v, N, sizeof v[0], cmp_d);
    static const double qs[] = {0.5, 0.9, 0.95, 0.99, 0.999};
    double worst = 0;
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double exact = v[(size_t)(qs[k] * (N - 1))], got = lw_dds_quantile(s, qs[k]);
        double err = exact == 0 ? fabs(got) : fabs(got - exact) / fabs(exact);
        if (err > worst)
            worst = err;
    }
    CHECK_EQ(lw_dds_count(s), N);
    lw_dds_free(s);
    return worst;
}

static void test_dds_accuracy(void)
{
    for (int d = 0; d < 4; d++) {
        double w = worst_error(d);
        if (!(w <= 0.01))
            fprintf(stderr, "  distribution %d: worst relative error %.4f\n", d, w);
        CHECK(w <= 0.01);
    }
}

static void test_dds_subtract_encode(void)
{
    struct lw_dds *b[10], *win = lw_dds_new(), *last = NULL;
    for (int i = 0; i < 10; i++) {
        b[i] = lw_dds_new();
        for (int j = 0; j < 100; j++) {
            double x = urand() * 100 * (i + 1);
            lw_dds_add(b[i], x, 1);
            lw_dds_add(win, x, 1);
        }
    }
    for (int i = 0; i < 9; i++)
        lw_dds_merge(win, b[i], -1); /* buckets leave the window */
    last = b[9];
    CHECK_EQ(lw_dds_count(win), 100);
    for (double q = 0; q <= 1.0; q += 0.125)
        CHECK(lw_dds_quantile(win, q) == lw_dds_quantile(last, q));
    struct lw_buf enc = {0};
    struct lw_dds *dec = NULL;
    lw_dds_encode(last, &enc);
    CHECK_EQ(lw_dds_decode(&dec, enc.p, enc.len), 0);
    CHECK(dec && lw_dds_quantile(dec, 0.95) == lw_dds_quantile(last, 0.95));
    lw_dds_free(dec);
    CHECK_EQ(lw_dds_decode(&dec, enc.p, enc.len - 1), LW_EINVAL); /* truncated */
    enc.p[0] = 'X';
    CHECK_EQ(lw_dds_decode(&dec, enc.p, enc.len), LW_EINVAL);
    lw_buf_free(&enc);
    CHECK(isnan(lw_dds_quantile(NULL, 0.5)));
    for (int i = 0; i < 10; i++)
        lw_dds_free(b[i]);
    lw_dds_free(win);
    /* Bins stay bounded for values spread over 21 decades. */
    struct lw_dds *wide = lw_dds_new();
    for (int i = 0; i < 200000; i++)
        lw_dds_add(wide, pow(10, -9 + 21 * urand()), 1);
    struct lw_buf e2 = {0};
    lw_dds_encode(wide, &e2);
    CHECK(e2.len <= 6 + 12 * LW_DDS_MAX_BINS);
    lw_buf_free(&e2);
    lw_dds_free(wide);
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
    test_dds_subtract_encode();
    test_distinct();
    return test_summary();
}
