/* test_scaleout.c: the app's side of consumer-group inputs without a broker: the group_by split
 * warning (lw_config_split_warnings, accept_split) and the inputs' health behind /health
 * (lw_health_watch), on a stand-in input whose ops say what a Kafka input would. */
#include "app.h"
#include "http.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/lw_test_scaleout_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* ---------------------------------------------------------------- a stand-in group input */

static const char *const keys_service[] = {"service"};
static const char *const keys_two[] = {"service", "host"};
static const char *status_of_bus = "healthy";
static const char *detail_of_bus = "";

static size_t key_service(const struct lw_input *in, const char *const **out)
{
    (void)in;
    *out = keys_service;
    return 1;
}

static size_t key_two(const struct lw_input *in, const char *const **out)
{
    (void)in;
    *out = keys_two;
    return 2;
}

static const char *bus_status(struct lw_input *in, struct lw_buf *detail)
{
    (void)in;
    if (!strcmp(status_of_bus, "degraded"))
        lw_buf_puts(detail, detail_of_bus);
    return status_of_bus;
}

static const struct lw_input_ops group_ops = {
    .type = "group", .sharded = true, .key_fields = key_service, .status = bus_status};
static const struct lw_input_ops group2_ops = {
    .type = "group", .sharded = true, .key_fields = key_two, .status = bus_status};
static const struct lw_input_ops file_ops = {.type = "file"}; /* no key_fields, no status */

struct fixture {
    struct lw_config cfg;
    struct lw_cfg_input ci[3];
    struct lw_input in[3];
    struct lw_rules_input ri[3];
};

/* Inputs: bus (the group input, keyed by ops), logs (a file), bus2 (keyed by two fields). */
static void fixture_init(struct fixture *fx)
{
    static const char *const names[] = {"bus", "logs", "bus2"};
    const struct lw_input_ops *ops[] = {&group_ops, &file_ops, &group2_ops};
    memset(fx, 0, sizeof *fx);
    for (int i = 0; i < 3; i++) {
        fx->in[i] = (struct lw_input){.ops = ops[i], .name = (char *)names[i], .index = i};
        fx->ci[i] = (struct lw_cfg_input){.name = (char *)names[i], .in = &fx->in[i]};
        fx->ri[i] = (struct lw_rules_input){.name = names[i],
                                            .type = ops[i]->type,
                                            .body = LW_BODY_JSON,
                                            .label_mask = 1u << LW_L_INPUT | 1u << LW_L_PATH};
    }
    fx->cfg.inputs = fx->ci;
    fx->cfg.ninputs = 3;
    fx->cfg.rinputs = fx->ri;
}

static bool has(const struct lw_diag *d, const char *want)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msgs[i], want))
            return true;
    fprintf(stderr, "  missing: %s\n", want);
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "  have: %s\n", d->msgs[i]);
    return false;
}

static size_t count(const struct lw_diag *d, const char *want)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += strstr(d->msgs[i], want) != NULL;
    return n;
}

/* Line numbers matter: the warnings name them. */
static const char RULES[] = "events:\n"                         /* 1 */
                            "  - name: err\n"                   /* 2 */
                            "    inputs: [bus]\n"               /* 3 */
                            "    where: 'level == \"error\"'\n" /* 4 */
                            "  - name: anywhere\n"              /* 5 */
                            "    where: 'level == \"error\"'\n" /* 6 */
                            "  - name: filed\n"                 /* 7 */
                            "    inputs: [logs]\n"              /* 8 */
                            "    where: 'level == \"error\"'\n" /* 9 */
                            "alerts:\n"                         /* 10 */
                            "  - name: ByService\n"             /* 11 */
                            "    event: err\n"                  /* 12 */
                            "    group_by: [service]\n"         /* 13 */
                            "    window: 1m\n"                  /* 14 */
                            "    count: {above: 1}\n"           /* 15 */
                            "  - name: ByPath\n"                /* 16 */
                            "    event: err\n"                  /* 17 */
                            "    group_by: [path]\n"            /* 18 */
                            "    window: 1m\n"                  /* 19 */
                            "    count: {above: 1}\n"           /* 20 */
                            "  - name: Overall\n"               /* 21 */
                            "    event: anywhere\n"             /* 22 */
                            "    window: 1m\n"                  /* 23 */
                            "    count: {above: 1}\n"           /* 24 */
                            "  - name: Accepted\n"              /* 25 */
                            "    event: err\n"                  /* 26 */
                            "    group_by: [path]\n"            /* 27 */
                            "    accept_split: true\n"          /* 28 */
                            "    window: 1m\n"                  /* 29 */
                            "    count: {above: 1}\n"           /* 30 */
                            "  - name: FileOnly\n"              /* 31 */
                            "    event: filed\n"                /* 32 */
                            "    group_by: [path]\n"            /* 33 */
                            "    window: 1m\n"                  /* 34 */
                            "    count: {above: 1}\n"           /* 35 */
                            "  - name: BothKeys\n"              /* 36 */
                            "    event: anywhere\n"             /* 37 */
                            "    group_by: [host, service]\n"   /* 38 */
                            "    window: 1m\n"                  /* 39 */
                            "    count: {above: 1}\n";          /* 40 */

static void test_split_warnings(void)
{
    struct fixture fx;
    struct lw_diag diag = {0}, w = {0};
    struct lw_ruleset *rs = NULL;
    fixture_init(&fx);
    const char *path = write_file("r.yaml", RULES);
    struct lw_rules_env env = {fx.ri, 3, NULL};
    CHECK_EQ(lw_ruleset_load(&rs, &path, 1, &env, &diag), 0);
    CHECK_EQ(diag.n, 0);
    if (!rs)
        return;
    size_t n = lw_config_split_warnings(&fx.cfg, rs, &w);
    CHECK_EQ(n, w.n);
    /* ByService groups by bus's key: no warning on bus; bus2 does not feed its event. */
    CHECK_EQ(count(&w, "alert ByService "), 0);
    /* ByPath: split on bus, at the alert's own line and column, naming input, keys and fix. */
    char want[512];
    snprintf(want, sizeof want,
             "%s:16:5: warning: alert ByPath groups by [path], but input bus (a consumer group) "
             "shares messages among instances by [service]",
             path);
    CHECK(has(&w, want));
    CHECK(has(&w, "group_by: [path, service]"));
    CHECK(has(&w, "accept_split: true"));
    CHECK_EQ(count(&w, "alert ByPath "), 1);
    /* Overall: every input feeds it, so both group inputs, and it has no group_by. */
    CHECK(has(&w, ":21:5: warning: alert Overall has no group_by (one group of every event), but "
                  "input bus "));
    CHECK(has(&w, "input bus2 (a consumer group) shares messages among instances by [service, "
                  "host]"));
    CHECK(has(&w, "group_by: [service, host]"));
    CHECK_EQ(count(&w, "alert Overall "), 2);
    /* accept_split silences it; a file input never warns; all of bus2's keys: no warning. */
    CHECK_EQ(count(&w, "alert Accepted "), 0);
    CHECK_EQ(count(&w, "alert FileOnly "), 0);
    CHECK_EQ(count(&w, "alert BothKeys "), 0);
    CHECK_EQ(w.n, 3);
    lw_diag_free(&w);
    lw_ruleset_free(rs);

    /* The loader: accept_split is a bool, and a key of its own (not "unknown key"). */
    rs = NULL;
    path = write_file("bad.yaml", "events:\n  - name: e\n    where: 'a == \"b\"'\n"
                                  "alerts:\n  - name: X\n    event: e\n    window: 1m\n"
                                  "    accept_split: maybe\n    count: {above: 1}\n");
    CHECK(lw_ruleset_load(&rs, &path, 1, &env, &diag) < 0);
    CHECK(has(&diag, ":8:19: "));
    CHECK_EQ(count(&diag, "unknown"), 0);
    lw_diag_free(&diag);
    lw_ruleset_free(rs);
}

/* run and check reach the same warnings through lw_config_rules_warn, with the config's rule
 * files; without a warnings list (a plain load) nothing is collected. */
static void test_rules_warn(void)
{
    struct fixture fx;
    struct lw_diag diag = {0}, w = {0};
    struct lw_ruleset *rs = NULL;
    fixture_init(&fx);
    char *files[1] = {(char *)write_file("r.yaml", RULES)};
    fx.cfg.rule_files = files;
    fx.cfg.nrule_files = 1;
    CHECK_EQ(lw_config_rules_warn(&fx.cfg, &rs, &diag, &w), 0);
    CHECK_EQ(count(&w, "a consumer group"), 3);
    lw_ruleset_free(rs);
    rs = NULL;
    CHECK_EQ(lw_config_rules(&fx.cfg, &rs, &diag), 0);
    CHECK(rs != NULL);
    lw_ruleset_free(rs);
    lw_diag_free(&w);
    lw_diag_free(&diag);
}

/* The pipeline's judgement of each input behind /health (lw_health_watch): a status op that
 * says degraded, errors counted in the last minute, nothing read for stale_after. */
struct watch {
    struct lw_metrics m;
    _Atomic uint64_t malformed[3];
    _Atomic int64_t last[3];
    _Atomic uint64_t undecoded[3 * LW_UNDEC_COUNT];
    struct lw_input_health ih[3];
};

static void watch_init(struct watch *w, int64_t start)
{
    memset(w, 0, sizeof *w);
    w->m.malformed_in = w->malformed;
    w->m.last_rec_in = w->last;
    w->m.undecoded_in = w->undecoded;
    w->m.health_in = w->ih;
    w->m.start_ns = start;
    pthread_mutex_init(&w->m.health_mu, NULL);
}

static void test_health(void)
{
    struct fixture fx;
    struct watch w;
    int64_t t = 1000 * LW_NS_PER_SEC, s = LW_NS_PER_SEC;
    fixture_init(&fx);
    watch_init(&w, t);
    status_of_bus = "healthy";
    lw_health_watch(&fx.cfg, &w.m, t);
    for (int i = 0; i < 3; i++) {
        CHECK(!w.ih[i].degraded);
        CHECK_STR(w.ih[i].detail, "");
    }

    /* Both group inputs share the stand-in status: both degraded, each reason on one line. */
    status_of_bus = "degraded";
    detail_of_bus = "brokers 127.0.0.1:1 unreachable\nsince 10s";
    lw_health_watch(&fx.cfg, &w.m, t + 2 * s);
    CHECK(w.ih[0].degraded && w.ih[2].degraded && !w.ih[1].degraded);
    CHECK_STR(w.ih[0].detail, "brokers 127.0.0.1:1 unreachable since 10s");
    /* At most once a second: a look 0.5 s later changes nothing. */
    status_of_bus = "healthy";
    lw_health_watch(&fx.cfg, &w.m, t + 2 * s + s / 2);
    CHECK(w.ih[0].degraded);
    /* Without a reason, the input's source is named; healthy again once the op says so. */
    status_of_bus = "degraded";
    detail_of_bus = "";
    lw_health_watch(&fx.cfg, &w.m, t + 4 * s);
    CHECK_STR(w.ih[0].detail, "its source says degraded");
    status_of_bus = "healthy";
    lw_health_watch(&fx.cfg, &w.m, t + 6 * s);
    CHECK(!w.ih[0].degraded && !w.ih[2].degraded);

    /* Errors: a line that did not decode makes the file input degraded for a minute. */
    atomic_store(&w.undecoded[1 * LW_UNDEC_COUNT + LW_UNDEC_JSON_SYNTAX], 1);
    lw_health_watch(&fx.cfg, &w.m, t + 8 * s);
    CHECK(w.ih[1].degraded);
    CHECK_EQ(w.ih[1].errors, 1);
    CHECK(strstr(w.ih[1].detail, "errors in the last 60s (1 in all") != NULL);
    atomic_store(&w.malformed[1], 2);
    lw_health_watch(&fx.cfg, &w.m, t + 60 * s);
    CHECK_EQ(w.ih[1].errors, 3);
    lw_health_watch(&fx.cfg, &w.m, t + 119 * s);
    CHECK(w.ih[1].degraded);
    lw_health_watch(&fx.cfg, &w.m, t + 121 * s);
    CHECK(!w.ih[1].degraded);
    CHECK_EQ(w.ih[1].errors, 3);

    /* stale_after: nothing read since the start, then since the last batch. */
    fx.ci[1].stale_after_ns = 30 * s;
    watch_init(&w, t);
    lw_health_watch(&fx.cfg, &w.m, t + 29 * s);
    CHECK(!w.ih[1].degraded);
    lw_health_watch(&fx.cfg, &w.m, t + 31 * s);
    CHECK(w.ih[1].degraded);
    CHECK_STR(w.ih[1].detail, "nothing read for 31s, since the start (stale_after 30s)");
    atomic_store(&w.last[1], t + 40 * s);
    lw_health_watch(&fx.cfg, &w.m, t + 41 * s);
    CHECK(!w.ih[1].degraded);
    lw_health_watch(&fx.cfg, &w.m, t + 75 * s);
    CHECK_STR(w.ih[1].detail, "nothing read for 35s (stale_after 30s)");
    CHECK(!w.ih[0].degraded); /* the others have no stale_after */
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_split_warnings();
    test_rules_warn();
    test_health();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return test_summary();
}
