/* test_match.c: matching under PCRE2 limits (a catastrophic pattern gives up within a bounded
 * time, the line is counted per event and logged once; counters survive a reload), and JSON
 * array and object values as fields. */
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

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_limits();
    test_where_limits();
    test_json_arrays();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return test_summary();
}
