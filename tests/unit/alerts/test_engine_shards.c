/* test_engine_shards.c: sharded windows (issue 14): every alert kind fed by two shards, one
 * forgotten, equals an engine fed only the other; a forgotten shard's rows and states leave the
 * store; restore with shards; quiet shards hold evaluation; partial windows hold below/absent. */
#include "engine.h"
#include "test.h"
#include "windows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1710000000) /* 2024-03-09T16:00:00Z */
#define SEC LW_NS_PER_SEC

static char dir[] = "/tmp/lw_test_shards_XXXXXX";

struct out {
    int n;
    char log[16][160];
};

static void on_alert(const struct lw_alert_def *def, const char *json, size_t len, bool firing,
                     void *payload)
{
    struct out *o = payload;
    const char *at = strstr(json, firing ? "\"starts_at\":\"" : "\"ends_at\":\"");
    if (o->n < 16)
        snprintf(o->log[o->n], sizeof o->log[0], "%s %s %.20s", def->name,
                 firing ? "firing" : "resolved", at ? at + (firing ? 13 : 11) : "?");
    o->n++;
    (void)len;
}

static struct lw_ruleset *load(const char *alerts)
{
    char path[256];
    struct lw_diag d = {0};
    struct lw_ruleset *rs = NULL;
    snprintf(path, sizeof path, "%s/r.yaml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "events:\n"
            "  - name: req\n"
            "    match: '^(?<ts>\\d+) (?<ip>\\S+) (?<status>\\d+) (?<ms>[\\d.]+)'\n"
            "    fields: {status: int, ms: float, ts: int}\n"
            "    timestamp: {field: ts, format: unix}\n"
            "alerts:\n%s",
            alerts);
    fclose(f);
    const char *p = path;
    if (lw_ruleset_load(&rs, &p, 1, NULL, &d) < 0)
        lw_diag_print(&d, stderr);
    lw_diag_free(&d);
    return rs;
}

/* One record of shard at event time T0 + t, read at now. */
static void feed(struct lw_engine *e, uint32_t shard, int64_t t, const char *ip, int status, int ms,
                 int64_t now)
{
    char line[128];
    struct lw_rec r = {0};
    snprintf(line, sizeof line, "%lld %s %d %d", (long long)(T0 + t), ip, status, ms);
    r.body = lw_str_c(line);
    r.recv_ns = now;
    r.shard = shard;
    lw_engine_record(e, &r, now);
}

/* Every kind, grouped by ip; thresholds out of reach except absent's (values are compared). */
static const char *all_kinds =
    "  - {name: C, event: req, window: 1m, group_by: [ip], count: {above: 100000}}\n"
    "  - {name: R, event: req, window: 1m, group_by: [ip],\n"
    "     ratio: {of: 'status >= 500', above: 2, min_count: 1}}\n"
    "  - {name: S, event: req, window: 1m, group_by: [ip], sum: {field: ms, above: 1e12}}\n"
    "  - {name: V, event: req, window: 1m, group_by: [ip], avg: {field: ms, above: 1e12}}\n"
    "  - {name: Mn, event: req, window: 1m, group_by: [ip], min: {field: ms, above: 1e12}}\n"
    "  - {name: Mx, event: req, window: 1m, group_by: [ip], max: {field: ms, above: 1e12}}\n"
    "  - {name: Q, event: req, window: 1m, group_by: [ip],\n"
    "     quantile: {field: ms, q: 0.9, above: 1e12}}\n"
    "  - {name: D, event: req, window: 1m, group_by: [ip], distinct: {field: status, above: 1e9}}\n"
    "  - {name: A, event: req, window: 1m, group_by: [ip], absent: {}}\n"
    "  - {name: Sp, event: req, window: 1m, group_by: [ip], spike: {factor: 1e9, min_count: 1}}\n";
#define NKINDS 10
static const char *const ips[] = {"{\"ip\":\"a\"}", "{\"ip\":\"b\"}", "{\"ip\":\"c\"}",
                                  "{\"ip\":\"d\"}", "{\"ip\":\"e\"}"};

static uint64_t rng = 88172645463325252u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The events of the test: 200 s of traffic (spike reads two windows) on ips a..d from both
 * shards, and ip e from shard 1 only (its groups must go with shard 1). Out of order at times.
 * Fed to `both` (all of them) and `only2` (shard 2's). */
static void feed_all(struct lw_engine *both, struct lw_engine *only2, int64_t start)
{
    for (int64_t t = 0; t < 200; t++) {
        int64_t now = (start + t + 1) * SEC;
        int n = (int)(next_rand() % 6);
        for (int i = 0; i < n; i++) {
            uint64_t r = next_rand();
            uint32_t shard = 1 + (uint32_t)(r % 2);
            int ipn = (int)((r >> 8) % 5);
            if (ipn == 4)
                shard = 1;
            char ip[2] = {(char)('a' + ipn), 0};
            int status = (int)((r >> 16) % 4) == 0 ? 500 : 200 + (int)((r >> 20) % 3);
            int ms = 1 + (int)((r >> 24) % 2000);
            int64_t at = start - T0 + t - (int64_t)((r >> 40) % 3); /* up to 2 s late */
            feed(both, shard, at, ip, status, ms, now);
            if (shard == 2 && only2)
                feed(only2, shard, at, ip, status, ms, now);
        }
        lw_engine_tick(both, now);
        if (only2)
            lw_engine_tick(only2, now);
    }
}

/* Every window value of every kind and group equal in a and b (a missing group: empty), at
 * least min_compared of them held by both; distinct values too when `distinct`. */
static void check_same(struct lw_engine *a, struct lw_engine *b, const char *what, int min_compared,
                       bool distinct)
{
    int compared = 0;
    for (size_t k = 0; k < NKINDS; k++)
        for (size_t i = 0; i < sizeof ips / sizeof *ips; i++)
            for (int back = 0; back < 2; back++) {
                struct lw_agg x = {0}, y = {0};
                bool hx = lw_engine_window(a, k, ips[i], back, &x);
                bool hy = lw_engine_window(b, k, ips[i], back, &y);
                if (!hx || !hy) {
                    /* A group one side does not have holds nothing on the other. */
                    if ((hx && x.count != 0) || (hy && y.count != 0)) {
                        fprintf(stderr, "%s: alert %zu group %s back %d: %d/%d, counts %g %g\n",
                                what, k, ips[i], back, hx, hy, x.count, y.count);
                        CHECK(false);
                    }
                    continue;
                }
                compared++;
                bool same =
                    x.count == y.count && x.matched == y.matched && x.sum == y.sum &&
                    (x.min == y.min || (isnan(x.min) && isnan(y.min))) &&
                    (x.max == y.max || (isnan(x.max) && isnan(y.max))) &&
                    (x.quantile == y.quantile || (isnan(x.quantile) && isnan(y.quantile))) &&
                    (!distinct || x.distinct == y.distinct);
                if (!same)
                    fprintf(stderr,
                            "%s: alert %zu group %s back %d: count %g/%g matched %g/%g sum "
                            "%g/%g min %g/%g max %g/%g q %g/%g distinct %g/%g\n",
                            what, k, ips[i], back, x.count, y.count, x.matched, y.matched, x.sum,
                            y.sum, x.min, y.min, x.max, y.max, x.quantile, y.quantile, x.distinct,
                            y.distinct);
                CHECK(same);
            }
    CHECK(compared >= min_compared);
}

/* Holds something: the test compares windows with events in them. */
static double held(struct lw_engine *e, size_t k, const char *g)
{
    struct lw_agg x = {0};
    return lw_engine_window(e, k, g, 0, &x) ? x.count : -1;
}

struct rows {
    struct lw_engine *into;
    struct lw_store *st;
    int n, shard1;
};

static int put_row(void *ctx, const struct lw_bucket_row *row)
{
    struct rows *r = ctx;
    r->n++;
    r->shard1 += row->shard == 1;
    if (r->into)
        lw_engine_restore_bucket(r->into, row);
    return 0;
}

static void on_loaded(const struct lw_bucket_row *row, void *payload)
{
    put_row(payload, row);
}

static void test_forget_every_kind(void)
{
    struct out o1 = {0}, o2 = {0}, o3 = {0};
    struct lw_ruleset *rs = load(all_kinds);
    CHECK(rs != NULL);
    int64_t start = T0 + 1000;
    struct lw_engine *both = lw_engine_new(rs, LW_MODE_LIVE, start * SEC, on_alert, &o1);
    struct lw_engine *only2 = lw_engine_new(rs, LW_MODE_LIVE, start * SEC, on_alert, &o2);
    lw_engine_shards(both, true);
    feed_all(both, only2, start);
    int64_t end = (start + 200) * SEC;
    CHECK(held(both, 0, ips[4]) > 0);  /* e: shard 1 only */
    CHECK(held(only2, 0, ips[4]) < 0); /* never seen */
    CHECK(held(both, 0, ips[0]) > held(only2, 0, ips[0]));

    /* The rows of both shards into a real store, as the daemon flushes them. */
    char path[300];
    snprintf(path, sizeof path, "%s/state.db", dir);
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_flush f = {0};
    lw_engine_collect(both, &f);
    CHECK_EQ(f.nforget_shards, 0);
    CHECK_EQ(lw_store_flush(st, &f, &err), 0);
    lw_engine_collect_done(both);

    /* A sharded engine restored from those rows holds what `both` holds. */
    struct lw_engine *restored = lw_engine_new(rs, LW_MODE_LIVE, end, on_alert, &o3);
    lw_engine_shards(restored, true);
    struct rows rr = {restored, NULL, 0, 0};
    CHECK_EQ(lw_store_load_buckets(st, on_loaded, &rr, &err), 0);
    CHECK(rr.n > 100 && rr.shard1 > 0 && rr.shard1 < rr.n);
    lw_engine_tick(restored, end);
    check_same(both, restored, "restored before forget", NKINDS * 4, true);

    int transitions = o1.n;
    lw_engine_forget_shard(both, 1);
    lw_engine_forget_shard(restored, 1);
    CHECK_EQ(o1.n, transitions); /* silently */
    check_same(both, only2, "forgotten", NKINDS * 4, true);
    check_same(restored, only2, "restored, then forgotten", NKINDS * 4, true);
    CHECK(held(both, 0, ips[4]) < 0); /* e went with shard 1 */
    for (int k = 0; k < NKINDS; k++)
        CHECK(held(both, (size_t)k, ips[4]) < 0);

    /* The next collect deletes shard 1's rows; what is stored then restores to only2 too. */
    lw_engine_collect(both, &f);
    CHECK_EQ(f.nforget_shards, 1);
    CHECK_EQ(f.forget_shards[0], 1);
    CHECK_EQ(lw_store_flush(st, &f, &err), 0);
    lw_engine_collect_done(both);
    lw_engine_collect(both, &f);
    CHECK_EQ(f.nforget_shards, 0); /* done once stored */
    lw_engine_collect_done(both);
    lw_store_close(st);
    st = NULL;
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_engine *reopened = lw_engine_new(rs, LW_MODE_LIVE, end, on_alert, &o3);
    lw_engine_shards(reopened, true);
    rr = (struct rows){reopened, NULL, 0, 0};
    CHECK_EQ(lw_store_load_buckets(st, on_loaded, &rr, &err), 0);
    CHECK(rr.n > 50);
    CHECK_EQ(rr.shard1, 0);
    lw_engine_tick(reopened, end);
    check_same(reopened, only2, "stored after forget, reopened", NKINDS * 4, true);

    /* Both keep going alike: the same later events from shard 2. */
    for (int64_t t = 0; t < 90; t++) {
        int64_t now = end + (t + 1) * SEC;
        feed(both, 2, 200 + 1000 + t, "a", 500, 7, now);
        feed(only2, 2, 200 + 1000 + t, "a", 500, 7, now);
        lw_engine_tick(both, now);
        lw_engine_tick(only2, now);
    }
    check_same(both, only2, "after more events", NKINDS, true);
    lw_store_close(st);
    lw_engine_free(both);
    lw_engine_free(only2);
    lw_engine_free(restored);
    lw_engine_free(reopened);
    lw_ruleset_free(rs);
}

/* A firing group fed only by the forgotten shard goes silently, and its state row leaves the
 * store with the shard's bucket rows at the next flush. */
static void test_forget_state_rows(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - {name: C, event: req, window: 1m, group_by: [ip], "
                                 "count: {above: 2}}\n");
    int64_t now = (T0 + 100) * SEC;
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, &o);
    lw_engine_shards(e, true);
    for (int i = 0; i < 3; i++) {
        feed(e, 7, 99, "x", 200, 1, now);
        feed(e, 8, 99, "y", 200, 1, now);
    }
    feed(e, 7, 99, "y", 200, 1, now);
    lw_engine_tick(e, now + SEC);
    CHECK_EQ(o.n, 2); /* x and y fire */
    char path[300];
    snprintf(path, sizeof path, "%s/states.db", dir);
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_flush f = {0};
    lw_engine_collect(e, &f);
    CHECK_EQ(f.nstates, 2);
    CHECK_EQ(lw_store_flush(st, &f, &err), 0);
    lw_engine_collect_done(e);
    lw_store_close(st);

    lw_engine_forget_shard(e, 7);
    lw_engine_tick(e, now + 2 * SEC);
    CHECK_EQ(o.n, 2); /* x went silently; y (3 of shard 8) still fires, not announced again */
    struct lw_agg a;
    CHECK(!lw_engine_window(e, 0, "{\"ip\":\"x\"}", 0, &a));
    CHECK(lw_engine_window(e, 0, "{\"ip\":\"y\"}", 0, &a));
    CHECK_EQ(a.count, 3);
    lw_engine_collect(e, &f);
    CHECK_EQ(f.nforget_shards, 1);
    CHECK_EQ(f.nstates, 1); /* x's state row: deleted */
    CHECK_EQ(f.states[0].state, LW_INACTIVE);
    char fp[17];
    lw_fingerprint("C", "{\"ip\":\"x\"}", fp);
    CHECK_STR(f.states[0].fingerprint, fp);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(lw_store_flush(st, &f, &err), 0);
    lw_engine_collect_done(e);
    lw_store_close(st);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct rows rr = {NULL, NULL, 0, 0};
    CHECK_EQ(lw_store_load_buckets(st, on_loaded, &rr, &err), 0);
    CHECK_EQ(rr.n, 1); /* y's bucket of shard 8 */
    lw_store_close(st);

    /* Forgetting again the last shard of y: dropped, and an engine without group_by keeps its
     * one group, reset silently. */
    lw_engine_forget_shard(e, 8);
    CHECK(!lw_engine_window(e, 0, "{\"ip\":\"y\"}", 0, &a));
    lw_engine_tick(e, now + 3 * SEC);
    CHECK_EQ(o.n, 2);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

/* Quiet: a rebuild's records fill windows, are never late, and nothing is evaluated until the
 * shard is live; then what fires is announced once. */
static void test_quiet(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - {name: C, event: req, window: 1m, group_by: [ip], "
                                 "count: {above: 2}}\n");
    int64_t now = (T0 + 1000) * SEC;
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, &o);
    lw_engine_shards(e, true);
    struct lw_engine_stats s;
    /* Control: a live shard's old record is late. */
    feed(e, 2, 1, "z", 200, 1, now);
    lw_engine_stats(e, &s);
    CHECK_EQ(s.late, 1);

    lw_engine_quiet_shard(e, 3, true);
    feed(e, 3, 1, "x", 200, 1, now); /* older than every window: skipped, not late */
    for (int i = 0; i < 5; i++)
        feed(e, 3, 990 + i, "x", 200, 1, now);
    for (int t = 1; t < 5; t++)
        lw_engine_tick(e, now + t * SEC);
    lw_engine_stats(e, &s);
    CHECK_EQ(s.late, 1);
    CHECK_EQ(o.n, 0); /* held while quiet */
    struct lw_agg a;
    CHECK(lw_engine_window(e, 0, "{\"ip\":\"x\"}", 0, &a));
    CHECK_EQ(a.count, 5); /* the windows are filled */
    /* A live shard's group is evaluated meanwhile. */
    for (int i = 0; i < 3; i++)
        feed(e, 2, 1004, "w", 200, 1, now + 4 * SEC);
    lw_engine_tick(e, now + 5 * SEC);
    CHECK_EQ(o.n, 1);
    CHECK(strstr(o.log[0], "C firing") != NULL);

    lw_engine_quiet_shard(e, 3, false);
    CHECK_EQ(o.n, 1); /* at the next instant, not at once */
    lw_engine_tick(e, now + 6 * SEC);
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.log[1], "C firing 2024-03-09T16:16:46Z");
    lw_engine_tick(e, now + 7 * SEC);
    lw_engine_tick(e, now + 8 * SEC);
    CHECK_EQ(o.n, 2); /* once */

    /* A quiet shard revoked mid-rebuild: forgotten, its quiet ends, its share leaves the held
     * group, which is then evaluated on what is left (1 event: nothing fires). */
    lw_engine_quiet_shard(e, 5, true);
    for (int i = 0; i < 3; i++)
        feed(e, 5, 1007, "v", 200, 1, now + 8 * SEC);
    feed(e, 6, 1007, "v", 200, 1, now + 8 * SEC);
    lw_engine_tick(e, now + 9 * SEC);
    CHECK_EQ(o.n, 2);
    lw_engine_forget_shard(e, 5);
    CHECK(lw_engine_window(e, 0, "{\"ip\":\"v\"}", 0, &a));
    CHECK_EQ(a.count, 1);
    lw_engine_tick(e, now + 10 * SEC);
    CHECK_EQ(o.n, 2);
    feed(e, 5, 1, "v", 200, 1, now + 10 * SEC); /* live again: an old record is late */
    lw_engine_stats(e, &s);
    CHECK_EQ(s.late, 2);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

/* Partial: below and absent cannot become true before a whole window after the call; above
 * alerts are not held. */
static void run_partial(bool partial, struct out *o)
{
    struct lw_ruleset *rs = load("  - {name: B, event: req, window: 1m, group_by: [ip], "
                                 "count: {below: 3}}\n"
                                 "  - {name: A, event: req, window: 1m, absent: {}}\n"
                                 "  - {name: U, event: req, window: 1m, group_by: [ip], "
                                 "count: {above: 0}}\n");
    int64_t now = (T0 + 1000) * SEC;
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, o);
    lw_engine_shards(e, true);
    if (partial)
        lw_engine_partial(e, now);
    feed(e, 1, 999, "a", 200, 1, now);
    for (int t = 1; t <= 200; t++)
        lw_engine_tick(e, now + t * SEC);
    struct lw_engine_stats s;
    lw_engine_stats(e, &s);
    CHECK_EQ(s.partial, partial ? 1 : 0);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_partial(void)
{
    struct out o = {0};
    run_partial(false, &o);
    /* Without: B fires at the first instant (1 < 3), U too; A after its first window. */
    CHECK(o.n >= 3);
    CHECK_STR(o.log[0], "B firing 2024-03-09T16:16:41Z");
    CHECK_STR(o.log[1], "U firing 2024-03-09T16:16:41Z");
    struct out p = {0};
    run_partial(true, &p);
    /* With: U as before; B and A not before 16:17:40 (a window after the call), then once
     * each. */
    CHECK_EQ(p.n, 4);
    CHECK_STR(p.log[0], "U firing 2024-03-09T16:16:41Z");
    int b = 0, a = 0;
    for (int i = 0; i < p.n && i < 16; i++) {
        b += strncmp(p.log[i], "B firing 2024-03-09T16:17:40Z", 29) == 0;
        a += strncmp(p.log[i], "A firing 2024-03-09T16:17:40Z", 29) == 0;
    }
    CHECK_EQ(b, 1);
    CHECK_EQ(a, 1);
}

/* Rows of several shards restored into an unsharded engine (the input is not sharded any
 * more) add up in their bucket; into a sharded one they stay apart and forget one by one. */
/* An unsharded engine's windows, distinct value sets included, survive a flush and a restart. */
static void test_store_unsharded(void)
{
    struct lw_ruleset *rs = load(all_kinds);
    int64_t start = T0 + 5000;
    struct lw_engine *plain = lw_engine_new(rs, LW_MODE_LIVE, start * SEC, on_alert, NULL);
    feed_all(plain, NULL, start);
    int64_t end = (start + 200) * SEC;
    char path[300];
    snprintf(path, sizeof path, "%s/plain.db", dir);
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_flush f = {0};
    lw_engine_collect(plain, &f);
    CHECK_EQ(lw_store_flush(st, &f, &err), 0);
    lw_engine_collect_done(plain);
    lw_store_close(st);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_engine *back = lw_engine_new(rs, LW_MODE_LIVE, end, on_alert, NULL);
    struct rows rr = {back, NULL, 0, 0};
    CHECK_EQ(lw_store_load_buckets(st, on_loaded, &rr, &err), 0);
    CHECK(rr.n > 0);
    lw_engine_tick(plain, end);
    lw_engine_tick(back, end);
    check_same(plain, back, "unsharded, stored and reopened", NKINDS * 4, true);
    lw_store_close(st);
    lw_engine_free(plain);
    lw_engine_free(back);
    lw_ruleset_free(rs);
}

static void test_restore_unsharded(void)
{
    struct lw_ruleset *rs = load("  - {name: C, event: req, window: 1m, count: {above: 100}}\n");
    int64_t now = (T0 + 100) * SEC;
    struct lw_bucket_row rows[] = {
        {"C", "{}", 1, T0 + 99, 3, 0, 0, 0, 0, NULL, 0, 1},
        {"C", "{}", 1, T0 + 99, 4, 0, 0, 0, 0, NULL, 0, 2},
        {"C", "{}", 1, T0 + 98, 5, 0, 0, 0, 0, NULL, 0, 0},
    };
    struct lw_engine *plain = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, NULL);
    struct lw_engine *sh = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, NULL);
    lw_engine_shards(sh, true);
    for (size_t i = 0; i < 3; i++) {
        lw_engine_restore_bucket(plain, &rows[i]);
        lw_engine_restore_bucket(sh, &rows[i]);
    }
    struct lw_agg a;
    CHECK(lw_engine_window(plain, 0, "{}", 0, &a));
    CHECK_EQ(a.count, 12);
    CHECK(lw_engine_window(sh, 0, "{}", 0, &a));
    CHECK_EQ(a.count, 12);
    lw_engine_forget_shard(plain, 2); /* unsharded: nothing to forget */
    CHECK(lw_engine_window(plain, 0, "{}", 0, &a));
    CHECK_EQ(a.count, 12);
    lw_engine_forget_shard(sh, 2);
    CHECK(lw_engine_window(sh, 0, "{}", 0, &a));
    CHECK_EQ(a.count, 8);
    lw_engine_free(plain);
    lw_engine_free(sh);
    lw_ruleset_free(rs);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_forget_every_kind();
    test_forget_state_rows();
    test_quiet();
    test_partial();
    test_restore_unsharded();
    test_store_unsharded();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
