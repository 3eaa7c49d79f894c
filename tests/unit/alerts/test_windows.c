/* test_windows.c: sliding-window arithmetic: (t - window, t] at bucket edges, eviction,
 * lateness, min/max, the previous window, restore, dirty tracking and packed entries. */
#include "test.h"
#include "windows.h"

#include <math.h>
#include <string.h>

static void test_edges(void)
{
    /* 1 s buckets, a 5-bucket window: the window ending at n holds buckets n-4..n. */
    struct lw_win *w = lw_win_new(1, 5, 1, LW_AGG_COUNT, 10);
    struct lw_wgroup *g = lw_win_group(w, "{}", 2);
    struct lw_agg a;
    CHECK(g != NULL);
    CHECK_EQ(lw_win_add(w, g, 100, 0, 99, false, 0), 0);
    CHECK_EQ(lw_win_add(w, g, 100, 0, 99, false, 0), 0);
    CHECK_EQ(lw_win_add(w, g, 102, 0, 99, false, 0), 0);
    lw_win_agg(w, g, 99, 0, &a);
    CHECK_EQ(a.count, 0); /* events after the instant are not in its window */
    lw_win_agg(w, g, 100, 0, &a);
    CHECK_EQ(a.count, 2);
    lw_win_agg(w, g, 102, 0, &a);
    CHECK_EQ(a.count, 3);
    lw_win_agg(w, g, 104, 0, &a);
    CHECK_EQ(a.count, 3); /* (99, 104] still holds bucket 100 */
    lw_win_agg(w, g, 105, 0, &a);
    CHECK_EQ(a.count, 1); /* (100, 105]: bucket 100 left exactly now */
    lw_win_agg(w, g, 107, 0, &a);
    CHECK_EQ(a.count, 0);
    /* Late: instant 107 is evaluated; (103, 108] is the next window: bucket 103 is late. */
    CHECK_EQ(lw_win_add(w, g, 103, 0, 107, false, 0), LW_EINVAL);
    CHECK_EQ(lw_win_add(w, g, 104, 0, 107, false, 0), 0);
    lw_win_agg(w, g, 108, 0, &a);
    CHECK_EQ(a.count, 1);
    lw_win_free(w);
}

static void test_ring_reuse(void)
{
    /* Long runs through the ring: the running totals must equal a direct count. */
    struct lw_win *w = lw_win_new(1, 7, 1, LW_AGG_COUNT | LW_AGG_SUM, 10);
    struct lw_wgroup *g = lw_win_group(w, "{\"a\":\"b\"}", 9);
    int per[1000] = {0};
    unsigned seed = 1;
    int bad = 0;
    for (int64_t n = 1; n < 1000; n++) {
        int k = (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;
        for (int i = 0; i < k; i++)
            lw_win_add(w, g, n, 0, n - 1, false, 2.5);
        per[n] = k;
        struct lw_agg a;
        lw_win_agg(w, g, n, 0, &a);
        int want = 0;
        for (int64_t b = n - 6; b <= n; b++)
            want += b > 0 ? per[b] : 0;
        if (a.count != want || fabs(a.sum - 2.5 * want) > 1e-9)
            bad++;
    }
    CHECK_EQ(bad, 0);
    lw_win_free(w);
}

static void test_minmax_prev(void)
{
    struct lw_win *w = lw_win_new(2, 3, 2, LW_AGG_MIN | LW_AGG_MAX, 10);
    struct lw_wgroup *g = lw_win_group(w, "{}", 2);
    struct lw_agg a;
    lw_win_add(w, g, 10, 0, 9, false, 5);
    lw_win_add(w, g, 11, 0, 9, false, -1);
    lw_win_add(w, g, 14, 0, 9, false, 7);
    lw_win_agg(w, g, 14, 0, &a); /* (11, 14] */
    CHECK_EQ(a.count, 1);
    CHECK(a.min == 7 && a.max == 7);
    lw_win_agg(w, g, 14, 1, &a); /* the previous window: (8, 11] */
    CHECK_EQ(a.count, 2);
    CHECK(a.min == -1 && a.max == 5);
    lw_win_agg(w, g, 30, 0, &a);
    CHECK_EQ(a.count, 0);
    CHECK(isnan(a.min));
    lw_win_free(w);
}

struct dirty {
    int n;
    double count;
};

static int on_dirty(const struct lw_wgroup *g, int64_t b, const struct lw_agg *a, void *payload)
{
    struct dirty *d = payload;
    (void)g;
    (void)b;
    d->n++;
    d->count += a->count;
    return 0;
}

static void test_groups_dirty_restore(void)
{
    struct lw_win *w = lw_win_new(1, 10, 1, LW_AGG_COUNT, 2);
    struct lw_wgroup *g1 = lw_win_group(w, "{\"ip\":\"1\"}", 10);
    struct lw_wgroup *g2 = lw_win_group(w, "{\"ip\":\"2\"}", 10);
    CHECK(g1 && g2 && g1 != g2);
    CHECK(lw_win_group(w, "{\"ip\":\"1\"}", 10) == g1);
    CHECK(lw_win_group(w, "{\"ip\":\"3\"}", 10) == NULL); /* max_groups 2 */
    CHECK_EQ(lw_win_overflow(w), 1);
    lw_win_add(w, g1, 5, 0, 4, false, 0);
    lw_win_add(w, g1, 5, 0, 4, false, 0);
    lw_win_add(w, g2, 6, 0, 4, false, 0);
    struct dirty d = {0};
    CHECK_EQ(lw_win_ndirty(w), 2);
    CHECK_EQ(lw_win_dirty(w, on_dirty, &d), 0);
    CHECK_EQ(d.n, 2);
    CHECK_EQ(d.count, 3);
    d = (struct dirty){0};
    lw_win_dirty(w, on_dirty, &d);
    CHECK_EQ(d.n, 2); /* not cleared until stored */
    lw_win_clean(w);
    d = (struct dirty){0};
    lw_win_dirty(w, on_dirty, &d);
    CHECK_EQ(d.n, 0); /* cleared */
    CHECK_EQ(lw_win_ndirty(w), 0);
    lw_win_drop(w, g1);
    CHECK_EQ(lw_win_count(w), 1);
    CHECK(lw_win_at(w, 0) == g2);
    /* Restore sets a bucket outright (idempotent, unlike add). */
    struct lw_agg r = {4, 0, 0, 0, 0};
    lw_win_restore(w, g2, 6, &r, false);
    lw_win_restore(w, g2, 6, &r, false);
    struct lw_agg a;
    lw_win_agg(w, g2, 6, 0, &a);
    CHECK_EQ(a.count, 4);
    lw_win_free(w);
}

struct seen {
    int n;
    double count3; /* the count reported for bucket 3 */
};

static int on_seen(const struct lw_wgroup *g, int64_t b, const struct lw_agg *a, void *payload)
{
    struct seen *d = payload;
    (void)g;
    d->n++;
    if (b == 3)
        d->count3 = a->count;
    return 0;
}

/* Packed entries: ratio and sum columns, out-of-order inserts past the inline buffer, dirty
 * entries after an older bucket changes, idle groups, and buckets too far from the base. */
static void test_packed(void)
{
    struct lw_win *w = lw_win_new(1, 10, 1, LW_AGG_COUNT | LW_AGG_MATCHED, 10);
    struct lw_wgroup *g = lw_win_group(w, "{}", 2);
    for (int64_t b = 1; b <= 8; b++)
        if (b != 5)
            CHECK_EQ(lw_win_add(w, g, b, 0, 0, b % 2 == 0, 0), 0);
    CHECK_EQ(lw_win_add(w, g, 5, 0, 0, true, 0), 0); /* out of order */
    struct lw_agg a;
    lw_win_agg(w, g, 8, 0, &a);
    CHECK_EQ(a.count, 8);
    CHECK_EQ(a.matched, 5); /* 2, 4, 5, 6, 8 */
    CHECK_EQ(lw_win_next_bucket(w, g, 4), 5);
    struct seen d = {0};
    lw_win_dirty(w, on_seen, &d);
    lw_win_clean(w);
    CHECK_EQ(d.n, 8);
    CHECK_EQ(d.count3, 1);
    CHECK_EQ(lw_win_add(w, g, 3, 0, 8, false, 0), 0); /* an older bucket changes after a flush */
    d = (struct seen){0};
    lw_win_dirty(w, on_seen, &d);
    lw_win_clean(w);
    CHECK(d.n >= 1);
    CHECK_EQ(d.count3, 2);
    /* 2^32 buckets away from the first one cannot be stored: late, never wrapped around. */
    CHECK(lw_win_late(w, 1 + ((int64_t)1 << 32), 0));
    CHECK_EQ(lw_win_add(w, g, 1 + ((int64_t)1 << 32), 0, 0, false, 0), LW_EINVAL);
    /* Everything leaves the window; the group then takes events again. */
    lw_win_agg(w, g, 100, 0, &a);
    CHECK_EQ(a.count, 0);
    CHECK_EQ(lw_win_next_bucket(w, g, 0), INT64_MAX);
    CHECK_EQ(lw_win_add(w, g, 101, 0, 100, true, 0), 0);
    lw_win_agg(w, g, 101, 0, &a);
    CHECK_EQ(a.count, 1);
    CHECK_EQ(a.matched, 1);
    lw_win_free(w);

    w = lw_win_new(1, 5, 1, LW_AGG_COUNT | LW_AGG_SUM, 10);
    g = lw_win_group(w, "{\"k\":\"v\"}", 9);
    CHECK_EQ((int)g->keylen, 9);
    CHECK(strcmp(g->key, "{\"k\":\"v\"}") == 0);
    for (int64_t b = 1; b <= 20; b++)
        lw_win_add(w, g, b, 0, b - 1, false, (double)b);
    lw_win_agg(w, g, 20, 0, &a);
    CHECK_EQ(a.count, 5);
    CHECK_EQ(a.sum, 16 + 17 + 18 + 19 + 20);
    lw_win_free(w);
}

/* The dirty walk as text: "bucket/shard=count" per entry. */
static int on_entry(const struct lw_wgroup *g, int64_t b, const struct lw_agg *a, void *payload)
{
    (void)g;
    char *out = payload;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%lld/%u=%g ", (long long)b, a->shard, a->count);
    return 0;
}

/* Sharded: an entry per (bucket, shard), in that order whatever the arrival order; windows sum
 * the shards; forgetting one takes exactly its entries, totals and minimum with it. */
static void test_sharded(void)
{
    struct lw_win *w = lw_win_new(1, 10, 1, LW_AGG_COUNT | LW_AGG_MIN, 10);
    CHECK(lw_win_shards(w, true));
    struct lw_wgroup *g = lw_win_group(w, "{}", 2);
    CHECK_EQ(lw_win_add(w, g, 5, 2, 0, false, 7), 0);
    CHECK_EQ(lw_win_add(w, g, 5, 1, 0, false, 3), 0);
    CHECK_EQ(lw_win_add(w, g, 6, 2, 0, false, 9), 0);
    CHECK_EQ(lw_win_add(w, g, 4, 2, 0, false, 8), 0);
    CHECK_EQ(lw_win_add(w, g, 5, 1, 0, false, 4), 0);
    CHECK_EQ(lw_win_add(w, g, 6, 3, 0, false, 1), 0);
    char out[512] = "";
    lw_win_dirty(w, on_entry, out);
    CHECK_STR(out, "4/2=1 5/1=2 5/2=1 6/2=1 6/3=1 ");
    struct lw_agg a;
    lw_win_agg(w, g, 6, 0, &a);
    CHECK_EQ(a.count, 6);
    CHECK_EQ(a.min, 1);
    CHECK_EQ(lw_win_next_bucket(w, g, 4), 5);
    CHECK(lw_win_forget_shard(w, g, 3));
    CHECK(!lw_win_forget_shard(w, g, 9)); /* never fed it */
    lw_win_agg(w, g, 6, 0, &a);
    CHECK_EQ(a.count, 5);
    CHECK_EQ(a.min, 3);
    CHECK_EQ(lw_win_held_count(g), 5);
    CHECK(lw_win_forget_shard(w, g, 2));
    lw_win_agg(w, g, 6, 0, &a);
    CHECK_EQ(a.count, 2);
    CHECK_EQ(a.min, 3);
    CHECK(!lw_win_empty(g));
    CHECK(lw_win_forget_shard(w, g, 1));
    CHECK(lw_win_empty(g));
    CHECK_EQ(lw_win_held_count(g), 0);
    lw_win_free(w);

    /* Unsharded: forgetting is a no-op, entries are per bucket. */
    w = lw_win_new(1, 10, 1, LW_AGG_COUNT, 10);
    g = lw_win_group(w, "{}", 2);
    CHECK_EQ(lw_win_add(w, g, 5, 2, 0, false, 0), 0);
    CHECK_EQ(lw_win_add(w, g, 5, 1, 0, false, 0), 0);
    CHECK(!lw_win_shards(w, true)); /* too late: entries are held */
    out[0] = 0;
    lw_win_dirty(w, on_entry, out);
    CHECK_STR(out, "5/0=2 ");
    CHECK(!lw_win_forget_shard(w, g, 1));
    lw_win_free(w);
}

int main(void)
{
    test_edges();
    test_ring_reuse();
    test_minmax_prev();
    test_groups_dirty_restore();
    test_packed();
    test_sharded();
    return test_summary();
}
