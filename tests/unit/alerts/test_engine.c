/* test_engine.c: the evaluator on event time: for/pending, ratio with min_count, absent, spike,
 * sum/avg/min/max, below, group forgetting, and persistence round trips. */
#include "engine.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1710000000) /* 2024-03-09T16:00:00Z */

static char dir[] = "/tmp/lw_test_engine_XXXXXX";

struct out {
    int n;
    char last[2048];
    char log[16][160];
};

static void on_alert(const struct lw_alert_def *def, const char *json, size_t len, bool firing,
                     void *payload)
{
    struct out *o = payload;
    snprintf(o->last, sizeof o->last, "%.*s", (int)len, json);
    const char *v = strstr(json, "\"value\":");
    const char *at = strstr(json, firing ? "\"starts_at\":\"" : "\"ends_at\":\"");
    if (o->n < 16)
        snprintf(o->log[o->n], sizeof o->log[0], "%s %s %.20s v=%.*s", def->name,
                 firing ? "firing" : "resolved", at ? at + (firing ? 13 : 11) : "?",
                 (int)strcspn(v + 8, ","), v + 8);
    o->n++;
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

static void feed(struct lw_engine *e, int64_t t, const char *ip, int status, double ms)
{
    char line[128];
    struct lw_rec r = {0};
    snprintf(line, sizeof line, "%lld %s %d %.1f", (long long)(T0 + t), ip, status, ms);
    r.body = lw_str_c(line);
    r.recv_ns = 1;
    lw_engine_record(e, &r, (T0 + 86400) * LW_NS_PER_SEC);
}

static void test_count_for(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: C\n    event: req\n    window: 10s\n"
                                 "    for: 3s\n    count: {above: 2}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    for (int t = 0; t < 4; t++)
        feed(e, t, "a", 200, 1); /* 3 events by t=2: condition from t=2 */
    feed(e, 5, "a", 200, 1);
    CHECK_EQ(o.n, 0); /* instant 5 is evaluated once the watermark passes it */
    feed(e, 30, "a", 200, 1);
    CHECK_EQ(o.n, 2); /* pending at 2, fired at 2+3 = 5; resolved when 2 or fewer remain */
    CHECK_STR(o.log[0], "C firing 2024-03-09T16:00:05Z v=5");
    /* events at 0,1,2,3,5: at t=12 the window (2,12] holds 3 and 5: resolves, with the value
     * of the last firing evaluation (t=11: 2, 3 and 5), as Prometheus's resolved alerts do */
    CHECK_STR(o.log[1], "C resolved 2024-03-09T16:00:12Z v=3");
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_ratio(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: R\n    event: req\n    window: 1m\n"
                                 "    ratio: {of: 'status >= 500', above: 0.05, min_count: 20}\n"
                                 "    annotations: {summary: '{{ value | percent }} errors'}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    for (int i = 0; i < 10; i++)
        feed(e, i, "a", 500, 1); /* 100 %, but below min_count */
    feed(e, 10, "a", 200, 1);
    CHECK_EQ(o.n, 0);
    for (int i = 11; i < 20; i++)
        feed(e, i, "a", 200, 1); /* 20 events at t=19: 10/20 = 50 % */
    feed(e, 20, "a", 200, 1);
    CHECK_EQ(o.n, 1);
    CHECK(strstr(o.last, "\"summary\":\"50% errors\"") != NULL);
    CHECK(strstr(o.last, "\"value\":0.5,") != NULL);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_absent(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: A\n    event: req\n    window: 10s\n    absent: {}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "a", 200, 1);
    feed(e, 5, "a", 200, 1);
    feed(e, 40, "a", 200, 1); /* silence from 5: empty window at 15: fires; event at 40 */
    CHECK_EQ(o.n, 1);
    CHECK_STR(o.log[0], "A firing 2024-03-09T16:00:15Z v=0");
    feed(e, 41, "a", 200, 1);
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.log[1], "A resolved 2024-03-09T16:00:40Z v=0"); /* the firing value */
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_grouped_kinds(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: Slow\n    event: req\n    window: 10s\n"
                                 "    group_by: [ip]\n    avg: {field: ms, above: 100}\n"
                                 "  - name: Max\n    event: req\n    window: 10s\n"
                                 "    max: {field: ms, above: 900}\n"
                                 "  - name: Few\n    event: req\n    window: 10s\n"
                                 "    count: {below: 2, where: 'ip == \"b\"'}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "a", 200, 50);
    feed(e, 0, "b", 200, 150);
    feed(e, 1, "b", 200, 1000);
    feed(e, 2, "a", 200, 60);
    /* t=0: Slow{b} avg 150 fires; Few: b count 1 < 2 fires. t=1: Max 1000 fires; Few resolves */
    CHECK_EQ(o.n, 4);
    CHECK(strstr(o.log[0], "Slow firing 2024-03-09T16:00:00Z") != NULL);
    CHECK(strstr(o.log[1], "Few firing 2024-03-09T16:00:00Z") != NULL);
    CHECK(strstr(o.log[2], "Max firing 2024-03-09T16:00:01Z") != NULL);
    CHECK(strstr(o.log[3], "Few resolved 2024-03-09T16:00:01Z") != NULL);
    lw_engine_finish(e);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_spike(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load(
        "  - name: S\n    event: req\n    window: 10s\n    spike: {factor: 3, min_count: 10}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    for (int t = 0; t < 30; t++)
        feed(e, t, "a", 200, 1); /* one a second: steady */
    CHECK_EQ(o.n, 0);
    for (int i = 0; i < 40; i++)
        feed(e, 30, "a", 200, 1); /* 40 more at t=30 */
    feed(e, 31, "a", 200, 1);
    CHECK_EQ(o.n, 1); /* (20,30] holds 9 + 40, (10,20] holds 10 */
    CHECK_STR(o.log[0], "S firing 2024-03-09T16:00:30Z v=4.9");
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

struct restore {
    struct lw_engine *into; /* restored into this engine when set */
    int n;
};

static int count_rows(void *ctx, const struct lw_bucket_row *row)
{
    struct restore *r = ctx;
    r->n++;
    if (r->into)
        lw_engine_restore_bucket(r->into, row);
    return 0;
}

static void test_persistence(void)
{
    /* Live mode: collect rows, restore them into a new engine: same state, no re-announce. */
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: C\n    event: req\n    window: 1m\n"
                                 "    group_by: [ip]\n    count: {above: 2}\n");
    int64_t now = (T0 + 100) * LW_NS_PER_SEC;
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, &o);
    char line[128];
    for (int i = 0; i < 3; i++) {
        struct lw_rec r = {0};
        snprintf(line, sizeof line, "%lld x 200 1", (long long)(T0 + 99));
        r.body = lw_str_c(line);
        r.recv_ns = now;
        lw_engine_record(e, &r, now);
    }
    lw_engine_tick(e, now + LW_NS_PER_SEC);
    CHECK_EQ(o.n, 1);
    struct lw_flush f = {0};
    struct restore rb = {NULL, 0};
    lw_engine_collect(e, &f);
    CHECK(f.bucket_src != NULL);
    CHECK_EQ(f.bucket_src(f.bucket_src_payload, count_rows, &rb), 0);
    CHECK_EQ(rb.n, 1);
    CHECK_EQ(f.nstates, 1);
    /* Not stored (a failed flush): the next collect has the same rows again. */
    lw_engine_collect(e, &f);
    rb.n = 0;
    CHECK_EQ(f.bucket_src(f.bucket_src_payload, count_rows, &rb), 0);
    CHECK_EQ(rb.n, 1);
    CHECK_EQ(f.nstates, 1);
    struct lw_engine *e2 = lw_engine_new(rs, LW_MODE_LIVE, now + 2 * LW_NS_PER_SEC, on_alert, &o);
    rb = (struct restore){e2, 0};
    CHECK_EQ(f.bucket_src(f.bucket_src_payload, count_rows, &rb), 0);
    for (size_t i = 0; i < f.nstates; i++)
        lw_engine_restore_state(e2, &f.states[i]);
    lw_engine_collect_done(e);
    lw_engine_collect(e, &f);
    CHECK(f.bucket_src == NULL); /* stored: nothing left */
    CHECK_EQ(f.nstates, 0);
    lw_engine_collect_done(e);
    lw_engine_tick(e2, now + 3 * LW_NS_PER_SEC);
    CHECK_EQ(o.n, 1); /* still firing, not announced again */
    lw_engine_tick(e2, now + 70 * LW_NS_PER_SEC);
    CHECK_EQ(o.n, 2); /* the window emptied: resolved */
    CHECK(strstr(o.last, "\"status\":\"resolved\"") != NULL);
    lw_engine_free(e);
    lw_engine_free(e2);
    lw_ruleset_free(rs);
}

static void test_keep_firing_for(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: K\n    event: req\n    window: 5s\n"
                                 "    keep_firing_for: 10s\n    count: {above: 1}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "a", 200, 1);
    feed(e, 1, "a", 200, 1); /* fires at 1 (2 events); from 5 on the window holds 1 */
    feed(e, 12, "a", 200, 1);
    feed(e, 13, "a", 200, 1); /* true again at 13: the 8 s dip (5..12) stayed within 10 s */
    feed(e, 40, "a", 200, 1);
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.log[0], "K firing 2024-03-09T16:00:01Z v=2");
    /* Last true at 16 ((11,16] holds 12 and 13), first false at 17: resolved 10 s after
     * that, once, at 27 as Prometheus would (26 was one step early), with the firing value. */
    CHECK_STR(o.log[1], "K resolved 2024-03-09T16:00:27Z v=2");
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_quantile_distinct(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: Q\n    event: req\n    window: 10s\n"
                                 "    quantile: {field: ms, q: 0.9, above: 85}\n"
                                 "  - name: D\n    event: req\n    window: 10s\n"
                                 "    distinct: {field: ip, above: 4}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    char ip[16];
    /* t=0..9: ms = 1..100 (10 a second), ips a..e then repeats: 5 distinct */
    for (int t = 0; t < 10; t++)
        for (int i = 0; i < 10; i++) {
            snprintf(ip, sizeof ip, "%c", 'a' + (t * 10 + i) % 5);
            feed(e, t, ip, 200, t * 10 + i + 1);
        }
    feed(e, 10, "a", 200, 1);
    /* At t=9 the window holds 1..100: the 0.9-quantile is 90 within 1 %; 5 distinct ips. */
    CHECK_EQ(o.n, 2);
    CHECK(strstr(o.log[0], "Q firing") || strstr(o.log[1], "Q firing"));
    CHECK(strstr(o.log[0], "D firing 2024-03-09T16:00:00Z v=5") ||
          strstr(o.log[1], "D firing 2024-03-09T16:00:00Z v=5"));
    const char *q = strstr(o.log[0], "Q firing") ? o.log[0] : o.log[1];
    double v = atof(strstr(q, "v=") + 2);
    CHECK(v >= 85 && v <= 91); /* fired once the 0.9-quantile passed 85 (t=8: 1..90 -> 81*1.01) */
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_sum_min_groups(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: Sum\n    event: req\n    window: 10s\n"
                                 "    sum: {field: ms, above: 100}\n"
                                 "  - name: Min\n    event: req\n    window: 10s\n"
                                 "    group_by: [ip]\n    max_groups: 2\n"
                                 "    min: {field: ms, above: 5}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "a", 200, 60);
    feed(e, 1, "a", 200, 50); /* min(a) = 50 > 5 from t=0 */
    feed(e, 1, "b", 200, 3);  /* min(b) = 3: not above 5 */
    feed(e, 2, "c", 200, 9);  /* a third group: over max_groups 2, counted, dropped */
    feed(e, 3, "a", 200, 1);  /* min(a) drops to 1: resolves at 3 */
    feed(e, 4, "a", 200, 1);
    struct lw_engine_stats st;
    lw_engine_stats(e, &st);
    CHECK_EQ(st.overflow, 1);
    CHECK_EQ(o.n, 3);
    CHECK_STR(o.log[0], "Min firing 2024-03-09T16:00:00Z v=60");
    CHECK_STR(o.log[1], "Sum firing 2024-03-09T16:00:01Z v=113");  /* 60 + 50 + 3 */
    CHECK_STR(o.log[2], "Min resolved 2024-03-09T16:00:03Z v=50"); /* last firing value */
    /* Groups idle for two windows are forgotten: after a long gap only the new one is left,
     * so a new ip fits under max_groups again. */
    feed(e, 100, "c", 200, 9);
    feed(e, 101, "c", 200, 9);
    lw_engine_stats(e, &st);
    CHECK_EQ(st.overflow, 1); /* c was accepted this time */
    CHECK_EQ(o.n, 5);         /* Sum resolved at 10; Min{c} fired at 100 */
    CHECK_STR(o.log[3], "Sum resolved 2024-03-09T16:00:10Z v=124"); /* 64 left; last firing */
    CHECK_STR(o.log[4], "Min firing 2024-03-09T16:01:40Z v=9");
    /* Groups that fired are forgotten too once resolved and idle (in replay nothing waits to
     * persist their state): after another gap d fits, with c gone. */
    feed(e, 200, "d", 200, 9);
    feed(e, 201, "d", 200, 9);
    lw_engine_stats(e, &st);
    CHECK_EQ(st.overflow, 1);
    CHECK_EQ(o.n, 7); /* Min{c} resolved at 111; Min{d} fired at 200 */
    CHECK_STR(o.log[5], "Min resolved 2024-03-09T16:01:51Z v=9");
    CHECK_STR(o.log[6], "Min firing 2024-03-09T16:03:20Z v=9");
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static size_t groups_of(struct lw_engine *e, size_t alert)
{
    struct lw_alert_usage u;
    CHECK(lw_engine_alert_usage(e, alert, &u));
    CHECK(u.bytes > 0);
    return u.groups;
}

/* An inactive group whose buckets have all left the window is forgotten then (within a
 * quarter window), not two windows later; absent keeps the groups it has seen two windows. */
static void test_forget_early(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: C\n    event: req\n    window: 10s\n"
                                 "    group_by: [ip]\n    count: {above: 100}\n"
                                 "  - name: A\n    event: req\n    window: 10s\n"
                                 "    group_by: [ip]\n    absent: {}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "a", 200, 1);
    feed(e, 1, "b", 200, 1);
    CHECK_EQ(groups_of(e, 0), 2);
    feed(e, 14, "c", 200, 1); /* instants up to 13 evaluated: a and b left the window at 12 */
    CHECK_EQ(groups_of(e, 0), 1);
    CHECK_EQ(groups_of(e, 1), 3); /* absent: a and b are missed, not forgotten */
    CHECK(!lw_engine_alert_usage(e, 2, &(struct lw_alert_usage){0}));
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void test_fingerprint(void)
{
    char a[17], b[17], c[17];
    lw_fingerprint("X", "{\"ip\":\"1\",\"user\":\"u\"}", a);
    lw_fingerprint("X", "{\"user\":\"u\",\"ip\":\"1\"}", b);
    lw_fingerprint("Y", "{\"ip\":\"1\",\"user\":\"u\"}", c);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK_EQ(strlen(a), 16);
    /* The engine's keys go without a JSON parse; the parser gives the same for the same labels
     * written otherwise (spaces, an escape that is a plain character). */
    lw_fingerprint("X", "{ \"user\": \"u\", \"ip\": \"1\" }", b);
    CHECK_STR(a, b);
    lw_fingerprint("X", "{\"ip\":\"\\u0031\",\"user\":\"u\"}", b);
    CHECK_STR(a, b);
    lw_fingerprint("X", "{\"ip\":\"1\",\"user\":\"u\",\"x\":\"\"}", b);
    CHECK(strcmp(a, b) != 0);
    lw_fingerprint("X", "{}", b);
    lw_fingerprint("X", "{ }", c);
    CHECK_STR(b, c);
    /* Values with escapes (a quote, non-ASCII) take the parser, and differ from each other. */
    lw_fingerprint("X", "{\"ip\":\"a\\\"b\"}", b);
    lw_fingerprint("X", "{\"ip\":\"a\\\\b\"}", c);
    CHECK(strcmp(b, c) != 0);
    lw_fingerprint("X", "{\"ip\":\"é\"}", b);
    lw_fingerprint("X", "{ \"ip\" : \"\\u00e9\"}", c);
    CHECK_STR(b, c);
}

/* RULES.md, Evaluation: a condition an arriving event makes true is seen at once, whatever
 * the window; not at the end of the event's bucket (12 s for 1h, 288 s for 1d, 2016 s for 7d). */
static void test_early_long_windows(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: H\n    event: req\n    window: 1h\n"
                                 "    count: {above: 2}\n"
                                 "  - name: D\n    event: req\n    window: 1d\n"
                                 "    count: {above: 2}\n"
                                 "  - name: W\n    event: req\n    window: 7d\n    for: 1m\n"
                                 "    count: {above: 2}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "a", 200, 1);
    feed(e, 1, "a", 200, 1);
    feed(e, 2, "a", 200, 1); /* the third event: both conditions true at 16:00:02 */
    feed(e, 3, "a", 200, 1); /* event time moves on: second 2 is complete */
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.log[0], "H firing 2024-03-09T16:00:02Z v=3");
    CHECK_STR(o.log[1], "D firing 2024-03-09T16:00:02Z v=3");
    /* `for` is time passing: pending from 16:00:02, firing at the first bucket edge after
     * 16:01:02 (7d buckets are 2016 s wide, edges at multiples of 2016 s: 16:24:00). */
    feed(e, 2100, "b", 200, 1);
    CHECK_EQ(o.n, 3);
    CHECK_STR(o.log[2], "W firing 2024-03-09T16:24:00Z v=4");
    lw_engine_free(e);

    /* Live: the batch that brings the third event sees it, at the second it was read. */
    struct out l = {0};
    int64_t now = (T0 + 86400) * LW_NS_PER_SEC + LW_NS_PER_SEC / 2;
    e = lw_engine_new(rs, LW_MODE_LIVE, now, on_alert, &l);
    for (int i = 0; i < 3; i++) {
        char line[64];
        struct lw_rec r = {0};
        snprintf(line, sizeof line, "%lld a 200 1.0", (long long)(T0 + 86400));
        r.body = lw_str_c(line);
        r.recv_ns = now;
        lw_engine_record(e, &r, now);
    }
    CHECK_EQ(l.n, 0);
    lw_engine_tick(e, now); /* the end of the batch */
    CHECK_EQ(l.n, 2);
    CHECK_STR(l.log[0], "H firing 2024-03-10T16:00:00Z v=3");
    CHECK_STR(l.log[1], "D firing 2024-03-10T16:00:00Z v=3");
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

/* A sum past the largest double is sent as that double, never as null, and counted. */
static void test_nonfinite(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: S\n    event: req\n    window: 10s\n"
                                 "    sum: {field: ms, above: 1.5e308}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    for (int t = 0; t < 3; t++) {
        char line[512];
        struct lw_rec r = {0};
        snprintf(line, sizeof line, "%lld a 200 %.1f", (long long)(T0 + t), 1e308);
        r.body = lw_str_c(line);
        r.recv_ns = 1;
        lw_engine_record(e, &r, (T0 + 86400) * LW_NS_PER_SEC);
    }
    CHECK_EQ(o.n, 1);
    CHECK(strstr(o.last, "\"value\":null") == NULL);
    CHECK(strstr(o.last, "\"value\":1.79769") != NULL);
    struct lw_engine_stats st;
    lw_engine_stats(e, &st);
    CHECK(st.nonfinite > 0);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

/* A regex of an alert's where: that gives up at a PCRE2 limit is counted on its event. */
static void test_alert_regex_limit(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: R\n    event: req\n    window: 10s\n"
                                 "    count: {above: 0, where: 'ip =~ \"^(a+)+$\"'}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_REPLAY, 0, on_alert, &o);
    feed(e, 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 200, 1);
    feed(e, 1, "aaaa", 200, 1);
    CHECK_EQ(rs->events[0].regex_limits, 1);
    feed(e, 2, "x", 200, 1);
    CHECK_EQ(o.n, 1); /* the ordinary match fired; the one that gave up counted as false */
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

static void feed_live(struct lw_engine *e, int64_t t, const char *ip, const char *tail)
{
    char line[600];
    struct lw_rec r = {0};
    snprintf(line, sizeof line, "%lld %s 500 1.0 %s", (long long)(T0 + t), ip, tail);
    r.body = lw_str_c(line);
    r.recv_ns = (T0 + t) * LW_NS_PER_SEC;
    lw_engine_record(e, &r, (T0 + t) * LW_NS_PER_SEC);
}

static const char *sample_line(json_t *x, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(x, "samples"), i), "line"));
}

/* The explanation: the per-group ring keeps the last lines (oldest first, each cut at
 * LW_SAMPLE_BYTES), the series is the value's step function, transitions carry it to the
 * store, and the memory budget is kept. */
static void test_explain(void)
{
    struct out o = {0};
    struct lw_ruleset *rs = load("  - name: E\n    event: req\n    window: 10s\n"
                                 "    group_by: [ip]\n    count: {above: 2}\n");
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_LIVE, T0 * LW_NS_PER_SEC, on_alert, &o);
    lw_engine_explain_opts(e, 3, 1 << 20);
    char long_tail[400];
    memset(long_tail, 'x', sizeof long_tail - 1);
    long_tail[sizeof long_tail - 1] = '\0';
    feed_live(e, 1, "a", "one");
    feed_live(e, 2, "a", "two");
    feed_live(e, 3, "b", "other");
    feed_live(e, 3, "a", "three");
    feed_live(e, 4, "a", long_tail);
    lw_engine_tick(e, (T0 + 6) * LW_NS_PER_SEC);
    CHECK_EQ(o.n, 1);

    struct lw_group_view v;
    char fp[17];
    lw_fingerprint("E", "{\"ip\":\"a\"}", fp);
    CHECK(lw_engine_find(e, fp, &v));
    CHECK_EQ(v.state, LW_FIRING);
    json_t *x = lw_engine_explain(e, &v);
    CHECK_EQ(json_array_size(json_object_get(x, "samples")), 3);
    CHECK(strstr(sample_line(x, 0), " two") != NULL); /* "one" went round the ring */
    CHECK(strstr(sample_line(x, 1), " three") != NULL);
    CHECK_EQ(strlen(sample_line(x, 2)), LW_SAMPLE_BYTES);
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(x, "samples"), 2), "cut")));
    /* The series over the window ending at the last evaluation: null before the first
     * evaluation that had a value, then the count as it rose (3 at t=3, 4 at t=4). */
    json_t *ser = json_object_get(x, "series");
    size_t n = json_array_size(ser);
    CHECK_EQ(n, 10);
    double last = json_real_value(json_array_get(json_array_get(ser, n - 1), 1));
    CHECK(last == 4);
    CHECK_EQ(strcmp(json_string_value(json_object_get(x, "state")), "firing"), 0);
    json_decref(x);

    /* The transition goes to the store with what explained it. */
    struct lw_flush f = {0};
    lw_engine_collect(e, &f);
    CHECK_EQ(f.nhistory, 1);
    CHECK_EQ(strcmp(f.history[0].state, "firing"), 0);
    CHECK_EQ(strcmp(f.history[0].fingerprint, fp), 0);
    CHECK(f.history[0].explain && strstr(f.history[0].explain, "\"samples\":["));
    lw_engine_collect_done(e);
    lw_engine_collect(e, &f);
    CHECK_EQ(f.nhistory, 0);
    lw_engine_collect_done(e);
    lw_engine_snapshot(e);
    lw_engine_collect(e, &f);
    CHECK_EQ(f.nhistory, 1);
    CHECK(f.history[0].state == NULL); /* only the explanation */
    lw_engine_collect_done(e);

    struct lw_engine_stats st;
    lw_engine_stats(e, &st);
    CHECK_EQ(st.rings, 2);
    CHECK_EQ(st.no_ring, 0);
    lw_engine_free(e);

    /* A budget for one ring: the second group has none, counted; off keeps nothing. */
    for (int budget = 0; budget < 2; budget++) {
        e = lw_engine_new(rs, LW_MODE_LIVE, T0 * LW_NS_PER_SEC, on_alert, &o);
        lw_engine_explain_opts(e, 3, budget ? 3000 : 0); /* one ring is ~1.8 KB */
        feed_live(e, 1, "a", "one");
        feed_live(e, 1, "b", "one");
        lw_engine_stats(e, &st);
        CHECK_EQ(st.rings, budget ? 1u : 0u);
        CHECK_EQ(st.no_ring, budget ? 1u : 0u);
        lw_fingerprint("E", "{\"ip\":\"b\"}", fp);
        CHECK(lw_engine_find(e, fp, &v));
        x = lw_engine_explain(e, &v);
        CHECK(json_is_false(json_object_get(x, "kept")));
        CHECK_EQ(json_array_size(json_object_get(x, "samples")), 0);
        json_decref(x);
        lw_engine_free(e);
    }
    /* A busy group: its samples and points grow to their full size and go round: the last 20
     * lines in order, and a series whose every point is the window's count then. */
    e = lw_engine_new(rs, LW_MODE_LIVE, T0 * LW_NS_PER_SEC, on_alert, &o);
    lw_engine_explain_opts(e, 20, 1 << 20);
    int seq = 0;
    for (int t = 1; t <= 120; t++)
        for (int k = 0; k <= t % 3; k++) {
            char tail[32];
            snprintf(tail, sizeof tail, "n=%d", seq++);
            feed_live(e, t, "busy", tail);
        }
    lw_engine_tick(e, (T0 + 122) * LW_NS_PER_SEC);
    lw_fingerprint("E", "{\"ip\":\"busy\"}", fp);
    CHECK(lw_engine_find(e, fp, &v));
    x = lw_engine_explain(e, &v);
    CHECK_EQ(json_array_size(json_object_get(x, "samples")), 20);
    for (size_t i = 0; i < 20; i++) {
        char want[32];
        snprintf(want, sizeof want, " n=%d", seq - 20 + (int)i);
        const char *got = sample_line(x, i);
        CHECK(got && strlen(got) >= strlen(want) &&
              !strcmp(got + strlen(got) - strlen(want), want));
    }
    ser = json_object_get(x, "series");
    CHECK_EQ(json_array_size(ser), 10);
    size_t nulls = 0;
    for (size_t i = 0; i < json_array_size(ser); i++)
        nulls += json_is_null(json_array_get(json_array_get(ser, i), 1));
    CHECK_EQ(nulls, 0);
    /* The window (112, 122] at the end holds seconds 113..120: 8 seconds of 1 to 3 events. */
    double want_last = 0;
    for (int t = 113; t <= 120; t++)
        want_last += t % 3 + 1;
    CHECK(json_real_value(json_array_get(json_array_get(ser, 9), 1)) == want_last);
    json_decref(x);
    lw_engine_free(e);

    /* A burst: every transition keeps its history row, the first 256 their explanation; past
     * 4096 waiting (flushes failing), transitions are counted, not kept. */
    e = lw_engine_new(rs, LW_MODE_LIVE, T0 * LW_NS_PER_SEC, on_alert, &o);
    lw_engine_explain_opts(e, 3, 1 << 20);
    for (int i = 0; i < 300; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        for (int k = 0; k < 3; k++)
            feed_live(e, 1, ip, "burst");
    }
    lw_engine_tick(e, (T0 + 3) * LW_NS_PER_SEC);
    struct lw_flush f2 = {0};
    lw_engine_collect(e, &f2);
    CHECK_EQ(f2.nhistory, 300);
    size_t with = 0;
    for (size_t i = 0; i < f2.nhistory; i++)
        with += f2.history[i].explain != NULL;
    CHECK_EQ(with, LW_EXPLAIN_PER_FLUSH);
    lw_engine_stats(e, &st);
    CHECK_EQ(st.explain_skipped, 300 - LW_EXPLAIN_PER_FLUSH);
    CHECK_EQ(st.history_dropped, 0);
    /* The flush failed (no collect_done): the rows wait; 14 snapshots of the 300 firing groups
     * would make 4500. */
    for (int i = 0; i < 14; i++)
        lw_engine_snapshot(e);
    lw_engine_stats(e, &st);
    CHECK_EQ(st.history_dropped, 300 + 14 * 300 - LW_HISTORY_MAX);
    lw_engine_collect_done(e);
    lw_engine_free(e);
    lw_ruleset_free(rs);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_count_for();
    test_forget_early();
    test_ratio();
    test_absent();
    test_grouped_kinds();
    test_spike();
    test_persistence();
    test_keep_firing_for();
    test_early_long_windows();
    test_nonfinite();
    test_alert_regex_limit();
    test_quantile_distinct();
    test_sum_min_groups();
    test_fingerprint();
    test_explain();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return test_summary();
}
