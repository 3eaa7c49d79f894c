/* test_match.c: matching under PCRE2 limits (a catastrophic pattern gives up within a bounded
 * time, the line is counted per event and logged once; counters survive a reload), JSON
 * array and object values as fields, and container labels as fields (label.<key> from the
 * record's label set, a static label standing in for an absent slot). */
#include "decode.h"
#include "rules.h"
#include "test.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/lw_test_match_XXXXXX";

static struct lw_ruleset *load(const char *text)
{
    char path[300];
    snprintf(path, sizeof path, "%s/r.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    const char *p = path;
    struct lw_ruleset *rs = NULL;
    struct lw_diag d = {0};
    if (lw_ruleset_load(&rs, &p, 1, NULL, &d) < 0)
        lw_diag_print(&d, stderr);
    lw_diag_free(&d);
    return rs;
}

static void on_ev(const struct lw_event *ev, void *payload)
{
    (void)ev;
    ++*(int *)payload;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Matches one line; returns the events and the time it took in *ms. */
static int match_line(struct lw_ruleset *rs, const char *line, double *ms)
{
    struct lw_rec r = {0};
    int n = 0;
    r.body = lw_str_c(line);
    r.recv_ns = 1;
    double t = now_ms();
    lw_ruleset_match(rs, &r, 0, on_ev, &n);
    *ms = now_ms() - t;
    return n;
}

static int event_index(const struct lw_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->nevents; i++)
        if (!strcmp(rs->events[i].name, name))
            return (int)i;
    return -1;
}

/* Counts the lines of the file at path that contain what. */
static int count_lines(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, what) != NULL;
    if (f)
        fclose(f);
    return n;
}

static const char *const RULES = "events:\n"
                                 "  - name: evil\n"
                                 "    match: '(a+)+$'\n"
                                 "  - name: evil_nojit\n"
                                 "    match: '(*NO_JIT)(a+)+$'\n"
                                 "  - name: fine\n"
                                 "    match: 'a{5}b'\n";

static void test_limits(void)
{
    struct lw_ruleset *rs = load(RULES);
    CHECK(rs != NULL);
    if (!rs)
        return;
    int evil = event_index(rs, "evil"), nojit = event_index(rs, "evil_nojit");
    int fine = event_index(rs, "fine");
    /* 30 a's and a b: 2^30 ways to split the a's before (a+)+$ fails. */
    char line[64];
    memset(line, 'a', 30);
    strcpy(line + 30, "b");

    /* Log lines go to stderr: catch them in a file. */
    char logpath[300];
    snprintf(logpath, sizeof logpath, "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *lf = freopen(logpath, "w", stderr);
    double worst = 0, ms;
    int events = 0;
    for (int i = 0; i < 3; i++) {
        events += match_line(rs, line, &ms);
        if (ms > worst)
            worst = ms;
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    (void)lf;

    /* Each give-up is bounded (about 1-2 ms; 13 ms with JIT and 110 ms without before the
     * limits), the well-behaved pattern still matched, and the two others counted 3 each. */
    if (!(worst < 50))
        fprintf(stderr, "  slowest line: %.1f ms\n", worst);
    CHECK(worst < 50);
    CHECK_EQ(events, 3);
    CHECK_EQ(rs->events[evil].regex_limits, 3);
    CHECK_EQ(rs->events[nojit].regex_limits, 3);
    CHECK_EQ(rs->events[fine].regex_limits, 0);
    /* Logged once per event, with the limit it hit. */
    CHECK_EQ(count_lines(logpath, "gave up matching"), 2);
    CHECK_EQ(count_lines(logpath, "event evil ("), 1);
    CHECK_EQ(count_lines(logpath, "match limit exceeded; limits: match 1000000"), 1);
    CHECK_EQ(count_lines(logpath, "match limit exceeded; limits: match 200000"), 1);
    CHECK_EQ(count_lines(logpath, "logwarden_regex_limit_total{event=\"evil_nojit\"}"), 1);
    CHECK_EQ(count_lines(logpath, "aaaaab"), 0); /* the line itself is never logged */

    /* A line that does match is not slowed down, and an ordinary non-match is not counted. */
    CHECK_EQ(match_line(rs, "xaaaaab", &ms), 1);
    CHECK_EQ(match_line(rs, "xyz", &ms), 0);
    CHECK_EQ(rs->events[evil].regex_limits, 3);

    /* A reload carries the counters over by event name. */
    struct lw_ruleset *rs2 = load(RULES);
    CHECK(rs2 != NULL);
    if (rs2) {
        lw_ruleset_carry_counters(rs2, rs);
        CHECK_EQ(rs2->events[event_index(rs2, "evil")].regex_limits, 3);
        CHECK_EQ(rs2->events[event_index(rs2, "fine")].regex_limits, 0);
        lw_ruleset_free(rs2);
    }
    lw_ruleset_free(rs);
}

/* An event that its where: regex drops after giving up is counted too, and logged once. */
static void test_where_limits(void)
{
    struct lw_ruleset *rs = load("events:\n"
                                 "  - name: w\n"
                                 "    match: '^w (?<msg>.*)'\n"
                                 "    where: 'msg =~ \"(a+)+$\"'\n");
    CHECK(rs != NULL);
    if (!rs)
        return;
    char line[64], logpath[300];
    strcpy(line, "w ");
    memset(line + 2, 'a', 30);
    strcpy(line + 32, "b");
    snprintf(logpath, sizeof logpath, "%s/stderr-where", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *lf = freopen(logpath, "w", stderr);
    double ms;
    CHECK_EQ(match_line(rs, line, &ms), 0);
    CHECK_EQ(match_line(rs, line, &ms), 0);
    CHECK_EQ(match_line(rs, "w xaaab", &ms), 0); /* an ordinary non-match: not counted */
    CHECK_EQ(match_line(rs, "w xaaa", &ms), 1);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    (void)lf;
    CHECK(ms < 50);
    CHECK_EQ(rs->events[0].regex_limits, 2);
    CHECK_EQ(count_lines(logpath, "event w ("), 1);
    CHECK_EQ(count_lines(logpath, "a regex of its where: gave up"), 1);
    CHECK_EQ(count_lines(logpath, "limits: match 100000"), 1);
    lw_ruleset_free(rs);
}

/* The decoded value of path in a JSON body, as text ("<none>" when missing). */
static const char *json_field(const char *body, const char *path)
{
    static char out[256];
    struct lw_doc doc = {0};
    struct lw_value v;
    lw_doc_parse(&doc, LW_BODY_JSON, lw_str_c(body));
    lw_doc_get(&doc, path, &v);
    if (v.kind == LW_V_STR)
        snprintf(out, sizeof out, "%.*s", (int)v.s.n, v.s.p);
    else
        snprintf(out, sizeof out, "<%s>", v.kind == LW_V_NONE ? "none" : "number or bool");
    lw_doc_free(&doc);
    return out;
}

struct seen {
    int n;
    char tags[128], user[128];
};

static void on_tags(const struct lw_event *ev, void *payload)
{
    struct seen *s = payload;
    s->n++;
    for (size_t i = 0; i < ev->def->nfields; i++) {
        const struct lw_value *v = &ev->fields[i];
        char *dst = !strcmp(ev->def->fields[i].name, "tags")   ? s->tags
                    : !strcmp(ev->def->fields[i].name, "user") ? s->user
                                                               : NULL;
        if (dst)
            snprintf(dst, 128, "%.*s", v->kind == LW_V_STR ? (int)v->s.n : 6,
                     v->kind == LW_V_STR ? v->s.p : "<none>");
    }
}

/* A JSON array or object value is its compact JSON text, not a missing field. */
static void test_json_arrays(void)
{
    CHECK_STR(json_field("{\"tags\": [\"prod\", \"eu\"]}", "tags"), "[\"prod\",\"eu\"]");
    CHECK_STR(json_field("{\"a\": [1, 2.5, 0.1, 1e300, 3.0, true, null, {\"b\": []}]}", "a"),
              "[1,2.5,0.1,1e+300,3.0,true,null,{\"b\":[]}]");
    CHECK_STR(json_field("{\"m\": {\"x\": \"q\\\"\\\\\\n\\u0001\\u00e9\", \"y\": {}}}", "m"),
              "{\"x\":\"q\\\"\\\\\\n\\u0001\xc3\xa9\",\"y\":{}}");
    CHECK_STR(json_field("{\"m\": {\"x\": [\"deep\"]}}", "m.x"), "[\"deep\"]");
    CHECK_STR(json_field("{\"e\": []}", "e"), "[]");
    CHECK_STR(json_field("{\"n\": null}", "n"), "<none>");
    CHECK_STR(json_field("{\"s\": \"plain\"}", "s"), "plain");

    /* Through matching: the field, `where` on it, and several values of one record. */
    struct lw_ruleset *rs = load("events:\n"
                                 "  - name: tagged\n"
                                 "    where: 'tags =~ \"\\\"prod\\\"\"'\n"
                                 "    fields: {tags: string, user: string}\n");
    CHECK(rs != NULL);
    if (!rs)
        return;
    struct lw_rec r = {0};
    struct seen s = {0};
    r.body_fmt = LW_BODY_JSON;
    r.recv_ns = 1;
    r.body = lw_str_c("{\"tags\": [\"prod\", \"eu\"], \"user\": {\"id\": 7}}");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_tags, &s), 1);
    CHECK_STR(s.tags, "[\"prod\",\"eu\"]");
    CHECK_STR(s.user, "{\"id\":7}");
    r.body = lw_str_c("{\"tags\": [\"staging\"]}");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_tags, &s), 0);
    CHECK_EQ(s.n, 1);
    lw_ruleset_free(rs);
}

static struct lw_ruleset *load_env(const char *text, const struct lw_rules_env *env,
                                   struct lw_diag *d)
{
    char path[300];
    snprintf(path, sizeof path, "%s/env.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    const char *p = path;
    struct lw_ruleset *rs = NULL;
    lw_ruleset_load(&rs, &p, 1, env, d);
    return rs;
}

struct team {
    int n;
    char team[64], ns[64];
};

static void on_team(const struct lw_event *ev, void *payload)
{
    struct team *t = payload;
    t->n++;
    for (size_t i = 0; i < ev->def->nfields; i++) {
        const struct lw_value *v = &ev->fields[i];
        char *dst = !strcmp(ev->def->fields[i].name, "label.com.example.team") ? t->team
                    : !strcmp(ev->def->fields[i].name, "namespace")            ? t->ns
                                                                               : NULL;
        if (dst)
            snprintf(dst, 64, "%.*s", v->kind == LW_V_STR ? (int)v->s.n : 6,
                     v->kind == LW_V_STR ? v->s.p : "<none>");
    }
}

/* docker's label.<key> are fields where an input of the event sets them; a file input's static
 * label named like a slot it does not set (namespace) is its value; a JSON input's label.x stays
 * the JSON path when the record has no such label. */
static void test_container_labels(void)
{
    static const char *const keys[] = {"namespace"}, *const vals[] = {"legacy"};
    const struct lw_rules_input inputs[] = {
        {.name = "docker",
         .type = "docker",
         .label_mask = 1u << LW_L_CONTAINER | 1u << LW_L_NAMESPACE | LW_LABELS_EXTRA},
        {.name = "app",
         .type = "file",
         .label_mask = 1u << LW_L_PATH,
         .label_keys = keys,
         .label_vals = vals,
         .nlabels = 1},
        {.name = "api", .type = "file", .body = LW_BODY_JSON, .label_mask = 1u << LW_L_PATH},
    };
    struct lw_rules_env env = {.inputs = inputs, .ninputs = 3};
    struct lw_diag d = {0};
    struct lw_ruleset *rs =
        load_env("events:\n"
                 "  - name: err\n"
                 "    inputs: [docker, app]\n"
                 "    match: 'ERROR'\n"
                 "    where: 'label.com.example.team == \"payments\" or namespace == \"legacy\"'\n"
                 "  - name: any\n"
                 "    inputs: [api]\n"
                 "    fields: {namespace: string}\n",
                 &env, &d);
    lw_diag_print(&d, stderr);
    CHECK(rs != NULL);
    lw_diag_free(&d);
    if (!rs)
        return;
    struct lw_str name = lw_str_c("label.com.example.team"), pay = lw_str_c("payments"),
                  other = lw_str_c("search");
    struct lw_labelset *ls = lw_labelset_new(NULL, &name, &pay, 1);
    struct lw_rec r = {0};
    struct team t = {0};
    r.recv_ns = 1;
    r.body = lw_str_c("ERROR boom");
    r.extra = ls;
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_team, &t), 1);
    CHECK_STR(t.team, "payments");
    lw_labelset_unref(ls);
    ls = lw_labelset_new(NULL, &name, &other, 1);
    r.extra = ls;
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_team, &t), 0); /* another team */
    r.extra = NULL;
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_team, &t), 0); /* no labels: missing */
    r.input = 1;                                           /* app: its static namespace */
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_team, &t), 1);
    CHECK_STR(t.ns, "legacy");
    r.input = 0;
    r.labels[LW_L_NAMESPACE] = lw_str_c("prod"); /* a slot wins over nothing else */
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_team, &t), 0);
    r.input = 2;
    r.labels[LW_L_NAMESPACE] = (struct lw_str){0};
    r.body_fmt = LW_BODY_JSON;
    r.body = lw_str_c("{\"namespace\": \"from-json\"}");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_team, &t), 1);
    CHECK_STR(t.ns, "from-json"); /* no input of it sets the slot: the JSON key */
    lw_labelset_unref(ls);
    lw_ruleset_free(rs);

    /* label.* on an event whose inputs set none: an unknown field, as before. */
    struct lw_diag d2 = {0};
    rs = load_env("events:\n"
                  "  - name: e\n"
                  "    inputs: [app]\n"
                  "    match: 'x'\n"
                  "    where: 'label.team == \"a\"'\n",
                  &env, &d2);
    CHECK(rs == NULL);
    CHECK(d2.n > 0 && strstr(d2.msgs[0], "unknown field 'label.team'") != NULL);
    lw_diag_free(&d2);
    lw_ruleset_free(rs);
}

struct sdseen {
    int n;
    char zone[64], tz[64];
    long long seq;
};

static void on_sd(const struct lw_event *ev, void *payload)
{
    struct sdseen *t = payload;
    t->n++;
    for (size_t i = 0; i < ev->def->nfields; i++) {
        const struct lw_value *v = &ev->fields[i];
        const char *name = ev->def->fields[i].name;
        if (!strcmp(name, "sd.origin@32473.zone"))
            snprintf(t->zone, 64, "%.*s", v->kind == LW_V_STR ? (int)v->s.n : 6,
                     v->kind == LW_V_STR ? v->s.p : "<none>");
        if (!strcmp(name, "sd.timeQuality.tzKnown"))
            snprintf(t->tz, 64, "%.*s", v->kind == LW_V_STR ? (int)v->s.n : 6,
                     v->kind == LW_V_STR ? v->s.p : "<none>");
        if (!strcmp(name, "sd.meta.sequenceId"))
            t->seq = v->kind == LW_V_INT ? v->i : -1;
    }
}

/* sd.<ID>.<PARAM> fields: in where (names with '@'), typed under fields:, unescaped, missing
 * when the record has none; `check` refuses them on events whose inputs have no syslog. */
static void test_sd_fields(void)
{
    const struct lw_rules_input inputs[] = {
        {.name = "sys", .type = "syslog", .label_mask = 1u << LW_L_APP | LW_LABELS_SD},
        {.name = "app", .type = "file", .label_mask = 1u << LW_L_PATH},
    };
    struct lw_rules_env env = {.inputs = inputs, .ninputs = 2};
    struct lw_diag d = {0};
    struct lw_ruleset *rs =
        load_env("events:\n"
                 "  - name: zoned\n"
                 "    inputs: [sys]\n"
                 "    match: 'login'\n"
                 "    where: 'sd.origin@32473.zone =~ \"^eu\" and exists(sd.timeQuality.tzKnown)'\n"
                 "    fields: {sd.meta.sequenceId: int}\n",
                 &env, &d);
    lw_diag_print(&d, stderr);
    CHECK(rs != NULL);
    lw_diag_free(&d);
    if (!rs)
        return;
    struct lw_rec r = {0};
    struct sdseen t = {0};
    r.recv_ns = 1;
    r.body = lw_str_c("login ok");
    r.sd = lw_str_c("[timeQuality tzKnown=\"1\" isSynced=\"0\"][origin@32473 zone=\"eu-\\\"1\\\"\"]"
                    "[meta sequenceId=\"42\"]");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_sd, &t), 1);
    CHECK_STR(t.zone, "eu-\"1\"");
    CHECK_STR(t.tz, "1");
    CHECK_EQ(t.seq, 42);
    /* The SD text is the record's: the unescaped value does not outlive the next record. */
    r.sd = lw_str_c("[origin@32473 zone=\"us-1\"][timeQuality tzKnown=\"1\"]");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_sd, &t), 0);
    r.sd = lw_str_c("[origin@32473 zone=\"eu-2\"]"); /* no timeQuality: exists() is false */
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_sd, &t), 0);
    r.sd = lw_str_c("[origin@32473 zone=\"eu-3\"][timeQuality tzKnown=\"0\"]");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_sd, &t), 1);
    CHECK_STR(t.zone, "eu-3");
    CHECK_EQ(t.seq, -1); /* absent: a missing value */
    /* A value that does not convert to its declared type makes the line a non-match. */
    r.sd =
        lw_str_c("[origin@32473 zone=\"eu-3\"][timeQuality tzKnown=\"0\"][meta sequenceId=\"x\"]");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_sd, &t), 0);
    CHECK_EQ(rs->events[0].conv_errors, 1);
    lw_ruleset_free(rs);

    /* On an event that reads no syslog input: refused with where the field comes from. */
    struct lw_diag d2 = {0};
    rs = load_env("events:\n"
                  "  - name: e\n"
                  "    inputs: [app]\n"
                  "    match: 'x'\n"
                  "    where: 'sd.origin@32473.zone == \"a\"'\n",
                  &env, &d2);
    CHECK(rs == NULL);
    CHECK(d2.n > 0 && strstr(d2.msgs[0], "field 'sd.origin@32473.zone' is never set: it comes "
                                         "from RFC 5424 structured data") != NULL);
    if (d2.n)
        fprintf(stderr, "(expected) %s\n", d2.msgs[0]);
    lw_diag_free(&d2);
    lw_ruleset_free(rs);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_limits();
    test_where_limits();
    test_json_arrays();
    test_container_labels();
    test_sd_fields();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return test_summary();
}
