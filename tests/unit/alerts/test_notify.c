/* test_notify.c: the notifier on a clock the test drives, its rows flushed to a real state file
 * and its notifications read back from that file's outbox: group_wait batching, repeats, flaps,
 * send_resolved, silences, inhibition, routes and a sink's own resend interval, in seconds of
 * test time instead of wall-clock sleeps. */
#include "notify.h"
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define S(x) ((int64_t)(x)*LW_NS_PER_SEC)
#define MS(x) ((int64_t)(x)*LW_NS_PER_MS)
#define NSINKS_MAX 4

static char dir[] = "/tmp/lw_test_notify_XXXXXX";
static int nstate; /* a fresh state file per rig */

/* A notifier, its config and its state file; sent[s] gathers what sink s was sent. */
struct rig {
    struct lw_notify_cfg cfg;
    struct lw_store *st;
    struct lw_notifier *n;
    char sent[NSINKS_MAX][16384];
    int notifications[NSINKS_MAX]; /* outbox rows per sink */
};

/* Sinks named by the arguments (NULL-terminated); group_wait 0, repeat 4h, send_resolved. */
static void rig_cfg(struct rig *r, ...)
{
    va_list ap;
    const char *name;
    memset(r, 0, sizeof *r);
    r->cfg.sinks = lw_calloc(NSINKS_MAX, sizeof *r->cfg.sinks);
    va_start(ap, r);
    while ((name = va_arg(ap, const char *)) && r->cfg.nsinks < NSINKS_MAX)
        r->cfg.sinks[r->cfg.nsinks++].name = lw_strdup(name);
    va_end(ap);
    r->cfg.repeat_interval_ns = S(4 * 3600);
    r->cfg.send_resolved = true;
}

/* After the config is complete: the state file and the notifier. */
static void rig_start(struct rig *r)
{
    char path[256];
    struct lw_err err = {0};
    snprintf(path, sizeof path, "%s/s%d.db", dir, nstate++);
    CHECK_EQ(lw_store_open(&r->st, path, &err), 0);
    r->n = lw_notifier_new(&r->cfg);
}

static void rig_free(struct rig *r)
{
    lw_notifier_free(r->n);
    lw_store_close(r->st);
    lw_notify_cfg_free(&r->cfg);
}

static struct lw_matcher *matchers(const char *const *texts, size_t *n)
{
    struct lw_err err = {0};
    for (*n = 0; texts[*n]; (*n)++)
        ;
    struct lw_matcher *m = lw_calloc(*n + 1, sizeof *m);
    for (size_t i = 0; i < *n; i++)
        CHECK_EQ(lw_matcher_parse(&m[i], texts[i], &err), 0);
    return m;
}

/* A route: matchers (NULL-terminated) to sinks (indices, -1-terminated). */
static void add_route(struct rig *r, const char *const *match, int cont, ...) /* int: va_start */
{
    va_list ap;
    int s;
    r->cfg.routes = lw_realloc(r->cfg.routes, (r->cfg.nroutes + 1) * sizeof *r->cfg.routes);
    struct lw_notify_route *rt = &r->cfg.routes[r->cfg.nroutes++];
    *rt = (struct lw_notify_route){.cont = cont != 0};
    rt->match = matchers(match, &rt->nmatch);
    rt->sinks = lw_calloc(NSINKS_MAX, sizeof *rt->sinks);
    va_start(ap, cont);
    while ((s = va_arg(ap, int)) >= 0)
        rt->sinks[rt->nsinks++] = (size_t)s;
    va_end(ap);
}

static void add_inhibit(struct rig *r, const char *source, const char *target, const char *equal)
{
    const char *src[] = {source, NULL}, *tgt[] = {target, NULL};
    r->cfg.inhibits = lw_realloc(r->cfg.inhibits, (r->cfg.ninhibits + 1) * sizeof *r->cfg.inhibits);
    struct lw_notify_inhibit *ih = &r->cfg.inhibits[r->cfg.ninhibits++];
    *ih = (struct lw_notify_inhibit){0};
    ih->source = matchers(src, &ih->nsource);
    ih->target = matchers(tgt, &ih->ntarget);
    if (equal) {
        ih->equal = lw_calloc(1, sizeof *ih->equal);
        ih->equal[ih->nequal++] = lw_strdup(equal);
    }
}

/* A transition as the engine renders it (only what the notifier reads); labels is the inside
 * of the labels object, e.g. "\"severity\":\"critical\"". */
static void alert(struct rig *r, const char *name, const char *labels, bool firing, int64_t now)
{
    char json[1024];
    int len =
        snprintf(json, sizeof json,
                 "{\"status\":\"%s\",\"alert\":\"%s\",\"fingerprint\":\"fp-%s\","
                 "\"labels\":{\"alert\":\"%s\"%s%s}}",
                 firing ? "firing" : "resolved", name, name, name, *labels ? "," : "", labels);
    lw_notifier_transition(r->n, json, (size_t)len, firing, now);
}

/* A flush at now, as the daemon's: the notifier's rows committed to the state file, then the
 * outbox read back and marked sent, as the sink workers do. */
static void tick(struct rig *r, int64_t now)
{
    struct lw_flush f = {0};
    struct lw_err err = {0};
    lw_notifier_collect(r->n, now, &f);
    CHECK_EQ(lw_store_flush(r->st, &f, &err), 0);
    lw_notifier_collect_done(r->n);
    for (size_t s = 0; s < r->cfg.nsinks; s++) {
        struct lw_outbox_item it;
        while (lw_store_outbox_head(r->st, r->cfg.sinks[s].name, &it) == 0) {
            size_t used = strlen(r->sent[s]);
            snprintf(r->sent[s] + used, sizeof r->sent[s] - used, "%s\n", it.payload);
            r->notifications[s]++;
            CHECK_EQ(lw_store_outbox_sent(r->st, it.id), 0);
            lw_outbox_item_free(&it);
        }
    }
}

/* Flushes every second from `from` to `to` (inclusive), as the daemon's periodic flush. */
static void run(struct rig *r, int64_t from, int64_t to)
{
    for (int64_t t = from; t <= to; t += S(1))
        tick(r, t);
}

static int count(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        k++;
    return k;
}

#define FIRING(name) "\"status\":\"firing\",\"alert\":\"" name "\""
#define RESOLVED(name) "\"status\":\"resolved\",\"alert\":\"" name "\""
#define ANY(name) "\"fingerprint\":\"fp-" name "\""

/* ---------------------------------------------------------------- timers */

/* Changes within group_wait of the first one go out together, not before it has passed. */
static void test_group_wait_batches(void)
{
    struct rig r;
    rig_cfg(&r, "out", NULL);
    r.cfg.group_wait_ns = S(10);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    alert(&r, "B", "", true, S(3));
    run(&r, S(1), S(9));
    CHECK_EQ(r.notifications[0], 0);
    CHECK(!lw_notifier_due(r.n, S(9)));
    CHECK(lw_notifier_due(r.n, S(10)));
    tick(&r, S(10));
    CHECK_EQ(r.notifications[0], 1);
    CHECK_EQ(count(r.sent[0], FIRING("A")), 1);
    CHECK_EQ(count(r.sent[0], FIRING("B")), 1); /* its own wait had 3 s left: it joins A */
    run(&r, S(11), S(60));
    CHECK_EQ(r.notifications[0], 1);
    /* Their resolutions, 2 s apart, go out together a group_wait after the first. */
    alert(&r, "A", "", false, S(61));
    alert(&r, "B", "", false, S(63));
    run(&r, S(61), S(70));
    CHECK_EQ(r.notifications[0], 1);
    tick(&r, S(71));
    CHECK_EQ(r.notifications[0], 2);
    CHECK_EQ(count(r.sent[0], RESOLVED("A")), 1);
    CHECK_EQ(count(r.sent[0], RESOLVED("B")), 1);
    run(&r, S(72), S(90));
    CHECK_EQ(r.notifications[0], 2);
    struct lw_notifier_stats st;
    lw_notifier_stats(r.n, &st);
    CHECK_EQ(st.sent, 4);
    rig_free(&r);
}

/* A still-firing alert is sent again every repeat_interval, and only then. */
static void test_repeat_interval(void)
{
    struct rig r;
    rig_cfg(&r, "out", NULL);
    r.cfg.repeat_interval_ns = S(3600);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    tick(&r, 0);
    CHECK_EQ(r.notifications[0], 1);
    tick(&r, S(1800));
    tick(&r, S(3599));
    CHECK_EQ(r.notifications[0], 1);
    tick(&r, S(3600));
    CHECK_EQ(r.notifications[0], 2);
    CHECK_EQ(count(r.sent[0], FIRING("A")), 2);
    tick(&r, S(3601));
    tick(&r, S(7199));
    CHECK_EQ(r.notifications[0], 2);
    tick(&r, S(7200));
    CHECK_EQ(r.notifications[0], 3);
    rig_free(&r);

    /* repeat_interval 0: never again. */
    rig_cfg(&r, "out", NULL);
    r.cfg.repeat_interval_ns = 0;
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    tick(&r, 0);
    tick(&r, S(30 * 86400));
    CHECK_EQ(r.notifications[0], 1);
    rig_free(&r);
}

/* Fired and resolved within group_wait: nothing is sent, and it is counted. */
static void test_flap_suppressed(void)
{
    struct rig r;
    rig_cfg(&r, "out", NULL);
    r.cfg.group_wait_ns = S(10);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    run(&r, S(1), S(4));
    alert(&r, "A", "", false, S(5));
    run(&r, S(5), S(30));
    CHECK_EQ(r.notifications[0], 0);
    struct lw_notifier_stats st;
    lw_notifier_stats(r.n, &st);
    CHECK_EQ(st.suppressed, 1);
    CHECK_EQ(st.sent, 0);
    rig_free(&r);
}

/* Told it fired; it resolves and fires again within group_wait: neither the brief resolution
 * nor a second firing is sent; the final resolution is. */
static void test_refire_within_group_wait(void)
{
    struct rig r;
    rig_cfg(&r, "out", NULL);
    r.cfg.group_wait_ns = S(2);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    run(&r, 0, S(9));
    CHECK_EQ(count(r.sent[0], FIRING("A")), 1);
    alert(&r, "A", "", false, S(10));
    tick(&r, S(10));
    alert(&r, "A", "", true, S(11));
    run(&r, S(11), S(19));
    CHECK_EQ(r.notifications[0], 1);
    alert(&r, "A", "", false, S(20));
    run(&r, S(20), S(30));
    CHECK_EQ(r.notifications[0], 2);
    CHECK_EQ(count(r.sent[0], RESOLVED("A")), 1);
    rig_free(&r);
}

/* A resolution is told a group_wait after it, to sinks that were told the alert fired; with
 * send_resolved false it is not told at all, and the alert is forgotten just the same. */
static void test_send_resolved(void)
{
    for (int on = 1; on >= 0; on--) {
        struct rig r;
        rig_cfg(&r, "out", NULL);
        r.cfg.group_wait_ns = S(5);
        r.cfg.send_resolved = on;
        rig_start(&r);
        alert(&r, "A", "", true, 0);
        run(&r, S(1), S(5));
        CHECK_EQ(count(r.sent[0], FIRING("A")), 1);
        alert(&r, "A", "", false, S(20));
        run(&r, S(20), S(24));
        CHECK_EQ(count(r.sent[0], RESOLVED("A")), 0);
        tick(&r, S(25));
        CHECK_EQ(count(r.sent[0], RESOLVED("A")), on);
        CHECK_EQ(r.notifications[0], 1 + on);
        /* Nothing left to tell: not even a repeat. */
        tick(&r, S(5 * 3600));
        CHECK_EQ(r.notifications[0], 1 + on);
        struct lw_notifier_stats st;
        lw_notifier_stats(r.n, &st);
        CHECK_EQ(st.sent, 1 + on); /* what was queued, not what was decided */
        rig_free(&r);
    }
}

/* ---------------------------------------------------------------- silences */

static void silence(struct rig *r, const char *matcher, int64_t from, int64_t to)
{
    char *args[] = {(char *)matcher}, *js = NULL;
    struct lw_err err = {0};
    CHECK_EQ(lw_silence_matchers_json(args, 1, &js, &err), 0);
    struct lw_silence_row row = {"id", js, from, to, "", "test", from};
    lw_notifier_set_silences(r->n, &row, 1);
    free(js);
}

/* A silenced firing alert is not sent; still firing when the silence ends, it is sent then. One
 * that resolves while silenced is never sent. */
static void test_silence(void)
{
    struct rig r;
    rig_cfg(&r, "out", NULL);
    r.cfg.group_wait_ns = S(2);
    rig_start(&r);
    silence(&r, "alert=~A|B", 0, S(100));
    alert(&r, "A", "", true, S(1));
    alert(&r, "B", "", true, S(1));
    alert(&r, "C", "", true, S(1));
    run(&r, S(1), S(60));
    CHECK_EQ(count(r.sent[0], ANY("C")), 1);
    CHECK_EQ(count(r.sent[0], ANY("A")), 0);
    CHECK_EQ(count(r.sent[0], ANY("B")), 0);
    alert(&r, "B", "", false, S(61));
    run(&r, S(61), S(99));
    CHECK_EQ(count(r.sent[0], ANY("A")), 0);
    CHECK_EQ(count(r.sent[0], ANY("B")), 0);
    tick(&r, S(100)); /* the silence ended: A has fired for longer than group_wait */
    CHECK_EQ(count(r.sent[0], FIRING("A")), 1);
    CHECK_EQ(count(r.sent[0], ANY("B")), 0);
    struct lw_notifier_stats st;
    lw_notifier_stats(r.n, &st);
    CHECK(st.silenced > 0);
    CHECK_EQ(st.suppressed, 1); /* B */
    rig_free(&r);
}

/* A silence that does not start yet, a negative matcher, and one whose label is missing. */
static void test_silence_bounds_and_missing(void)
{
    struct rig r;
    rig_cfg(&r, "out", NULL);
    rig_start(&r);
    silence(&r, "team!~.+", S(10), S(20)); /* alerts without a team, from 10 s to 20 s */
    alert(&r, "A", "", true, 0);
    tick(&r, 0);
    CHECK_EQ(count(r.sent[0], FIRING("A")), 1); /* before the silence */
    alert(&r, "A", "", false, S(11));
    alert(&r, "T", "\"team\":\"db\"", true, S(11));
    alert(&r, "U", "", true, S(11));
    run(&r, S(11), S(19));
    CHECK_EQ(count(r.sent[0], FIRING("T")), 1);
    CHECK_EQ(count(r.sent[0], ANY("U")), 0);
    /* Resolutions are told whatever the silences say: A's sink was told it fired. */
    CHECK_EQ(count(r.sent[0], RESOLVED("A")), 1);
    tick(&r, S(20));
    CHECK_EQ(count(r.sent[0], FIRING("U")), 1);
    rig_free(&r);
}

/* ---------------------------------------------------------------- inhibition */

static void inhibit_rig(struct rig *r, int64_t group_wait)
{
    rig_cfg(r, "out", NULL);
    r->cfg.group_wait_ns = group_wait;
    r->cfg.repeat_interval_ns = S(3600);
    add_inhibit(r, "severity=critical", "severity=warning", "service");
    rig_start(r);
}

/* A firing source mutes targets with the same `equal` labels, not others. */
static void test_inhibit_equal_labels(void)
{
    struct rig r;
    inhibit_rig(&r, 0);
    alert(&r, "Src", "\"service\":\"api\",\"severity\":\"critical\"", true, 0);
    alert(&r, "Same", "\"service\":\"api\",\"severity\":\"warning\"", true, 0);
    alert(&r, "Other", "\"service\":\"web\",\"severity\":\"warning\"", true, 0);
    alert(&r, "Bare", "\"severity\":\"warning\"", true, 0); /* no service: not equal to api */
    run(&r, 0, S(10));
    CHECK_EQ(count(r.sent[0], FIRING("Src")), 1);
    CHECK_EQ(count(r.sent[0], ANY("Same")), 0);
    CHECK_EQ(count(r.sent[0], FIRING("Other")), 1);
    CHECK_EQ(count(r.sent[0], FIRING("Bare")), 1);
    struct lw_notifier_stats st;
    lw_notifier_stats(r.n, &st);
    CHECK(st.inhibited > 0);
    rig_free(&r);

    /* Two alerts without the equal label are equal in it (both empty). */
    inhibit_rig(&r, 0);
    alert(&r, "Src", "\"severity\":\"critical\"", true, 0);
    alert(&r, "Bare", "\"severity\":\"warning\"", true, 0);
    run(&r, 0, S(5));
    CHECK_EQ(count(r.sent[0], ANY("Bare")), 0);
    rig_free(&r);
}

/* An alert the routes send nowhere still inhibits (the ledger), as in Alertmanager. */
static void test_inhibit_by_unrouted_source(void)
{
    struct rig r;
    const char *warning[] = {"severity=warning", NULL};
    rig_cfg(&r, "out", NULL);
    add_route(&r, warning, false, 0, -1);
    add_inhibit(&r, "severity=critical", "severity=warning", NULL);
    rig_start(&r);
    alert(&r, "Src", "\"severity\":\"critical\"", true, 0);
    alert(&r, "Tgt", "\"severity\":\"warning\"", true, 0);
    run(&r, 0, S(5));
    CHECK_EQ(r.notifications[0], 0);
    alert(&r, "Src", "\"severity\":\"critical\"", false, S(6));
    run(&r, S(6), S(8));
    CHECK_EQ(count(r.sent[0], FIRING("Tgt")), 1);
    rig_free(&r);
}

/* The source resolves at 10 s, the target at 11 s (group_wait 3 s): the target is never
 * announced, rather than announced firing and resolved a moment later. */
static void test_target_resolves_after_its_source(void)
{
    struct rig r;
    inhibit_rig(&r, S(3));
    alert(&r, "Src", "\"service\":\"api\",\"severity\":\"critical\"", true, 0);
    alert(&r, "Tgt", "\"service\":\"api\",\"severity\":\"warning\"", true, S(1));
    for (int64_t t = MS(500); t <= S(20); t += S(1)) {
        if (t == MS(10500))
            alert(&r, "Src", "\"service\":\"api\",\"severity\":\"critical\"", false, S(10));
        if (t == MS(11500))
            alert(&r, "Tgt", "\"service\":\"api\",\"severity\":\"warning\"", false, S(11));
        tick(&r, t);
    }
    CHECK_EQ(count(r.sent[0], FIRING("Src")), 1);
    CHECK_EQ(count(r.sent[0], RESOLVED("Src")), 1);
    CHECK_EQ(count(r.sent[0], ANY("Tgt")), 0);
    struct lw_notifier_stats st;
    lw_notifier_stats(r.n, &st);
    CHECK(st.suppressed >= 1);
    rig_free(&r);
}

/* The target still fires after its source resolved: sent once, a group_wait after the release
 * was seen, not at once. */
static void test_target_still_firing(void)
{
    struct rig r;
    int64_t first = -1;
    inhibit_rig(&r, S(3));
    alert(&r, "Src", "\"service\":\"api\",\"severity\":\"critical\"", true, 0);
    alert(&r, "Tgt", "\"service\":\"api\",\"severity\":\"warning\"", true, S(1));
    for (int64_t t = MS(500); t <= S(30); t += S(1)) {
        if (t == MS(10500))
            alert(&r, "Src", "\"service\":\"api\",\"severity\":\"critical\"", false, S(10));
        tick(&r, t);
        if (first < 0 && count(r.sent[0], FIRING("Tgt")))
            first = t;
    }
    CHECK_EQ(count(r.sent[0], FIRING("Tgt")), 1);
    CHECK(first >= S(13));
    rig_free(&r);
}

/* ---------------------------------------------------------------- routes and sinks */

/* First match wins unless continue; each sink once; no match goes nowhere. */
static void test_routes_continue(void)
{
    struct rig r;
    const char *critical[] = {"severity=critical", NULL};
    const char *dbnet[] = {"team=~db|net", NULL};
    const char *noenv[] = {"env=", NULL}; /* a missing label is the empty value */
    rig_cfg(&r, "pager", "ops", "default", NULL);
    add_route(&r, critical, true, 0, -1);
    add_route(&r, dbnet, false, 1, -1);
    add_route(&r, noenv, false, 2, 1, -1);
    rig_start(&r);
    alert(&r, "CritDb", "\"severity\":\"critical\",\"team\":\"db\"", true, 0);
    alert(&r, "WarnNet", "\"severity\":\"warning\",\"team\":\"net\"", true, 0);
    alert(&r, "CritWeb", "\"severity\":\"critical\",\"team\":\"web\"", true, 0);
    alert(&r, "WarnWeb", "\"severity\":\"warning\",\"team\":\"web\"", true, 0);
    alert(&r, "Prod", "\"env\":\"prod\"", true, 0);
    tick(&r, 0);
    CHECK_EQ(count(r.sent[0], ANY("CritDb")), 1);
    CHECK_EQ(count(r.sent[1], ANY("CritDb")), 1);
    CHECK_EQ(count(r.sent[2], ANY("CritDb")), 0);
    CHECK_EQ(count(r.sent[0], ANY("WarnNet")), 0);
    CHECK_EQ(count(r.sent[1], ANY("WarnNet")), 1);
    CHECK_EQ(count(r.sent[0], ANY("CritWeb")), 1);
    CHECK_EQ(count(r.sent[1], ANY("CritWeb")), 1); /* continue, then the last route: ops once */
    CHECK_EQ(count(r.sent[2], ANY("CritWeb")), 1);
    CHECK_EQ(count(r.sent[0], ANY("WarnWeb")), 0);
    CHECK_EQ(count(r.sent[2], ANY("WarnWeb")), 1);
    for (int s = 0; s < 3; s++)
        CHECK_EQ(count(r.sent[s], ANY("Prod")), 0); /* no route matches: nowhere */
    CHECK_EQ(r.notifications[0], 1);                /* one notification per sink */
    CHECK_EQ(r.notifications[1], 1);
    CHECK_EQ(r.notifications[2], 1);
    /* The same routing for replay --notify, from the JSON. */
    size_t n;
    const char *js = "{\"labels\":{\"severity\":\"critical\",\"team\":\"web\"}}";
    size_t *sinks = lw_route_alert(&r.cfg, js, strlen(js), &n);
    CHECK_EQ(n, 3);
    free(sinks);
    rig_free(&r);

    /* Without routes every sink gets every alert. */
    rig_cfg(&r, "a", "b", NULL);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    tick(&r, 0);
    CHECK_EQ(count(r.sent[0], ANY("A")) + count(r.sent[1], ANY("A")), 2);
    rig_free(&r);
}

/* A sink with its own resend interval (Alertmanager's) gets firing alerts that often; the
 * others every repeat_interval. */
static void test_sink_resend(void)
{
    struct rig r;
    rig_cfg(&r, "hook", "am", NULL);
    r.cfg.sinks[1].resend_ns = S(60);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    run(&r, 0, S(300));
    CHECK_EQ(r.notifications[0], 1);
    CHECK_EQ(r.notifications[1], 6); /* 0, 60, 120, 180, 240, 300 */
    alert(&r, "A", "", false, S(301));
    tick(&r, S(301));
    CHECK_EQ(count(r.sent[0], RESOLVED("A")), 1);
    CHECK_EQ(count(r.sent[1], RESOLVED("A")), 1);
    rig_free(&r);

    /* A repeat_interval shorter than the resend interval wins. */
    rig_cfg(&r, "am", NULL);
    r.cfg.sinks[0].resend_ns = S(60);
    r.cfg.repeat_interval_ns = S(30);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    run(&r, 0, S(60));
    CHECK_EQ(r.notifications[0], 3);
    rig_free(&r);
}

/* ---------------------------------------------------------------- restart */

static void on_row(const struct lw_notif_row *row, void *payload)
{
    lw_notifier_restore(payload, row);
}

/* The rows a flush committed are what a restarted notifier starts from: nothing is sent twice,
 * and the repeat counts from the last send. */
static void test_restore(void)
{
    struct rig r;
    struct lw_err err = {0};
    rig_cfg(&r, "out", NULL);
    r.cfg.repeat_interval_ns = S(3600);
    rig_start(&r);
    alert(&r, "A", "", true, 0);
    tick(&r, 0);
    CHECK_EQ(r.notifications[0], 1);
    lw_notifier_free(r.n);
    r.n = lw_notifier_new(&r.cfg);
    CHECK_EQ(lw_store_load_notifs(r.st, on_row, r.n, &err), 0);
    alert(&r, "A", "", true, S(100)); /* the engine fires it again from the lines read again */
    run(&r, S(100), S(110));
    CHECK_EQ(r.notifications[0], 1);
    tick(&r, S(3600));
    CHECK_EQ(r.notifications[0], 2);
    rig_free(&r);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    lw_log_set_level(LW_WARN);
    test_group_wait_batches();
    test_repeat_interval();
    test_flap_suppressed();
    test_refire_within_group_wait();
    test_send_resolved();
    test_silence();
    test_silence_bounds_and_missing();
    test_inhibit_equal_labels();
    test_inhibit_by_unrouted_source();
    test_target_resolves_after_its_source();
    test_target_still_firing();
    test_routes_continue();
    test_sink_resend();
    test_restore();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
