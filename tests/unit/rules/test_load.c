/* test_load.c: rule loading (patterns, cycles, errors with positions) and matching into events. */
#include "rules.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/lw_test_load_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[4][256];
    static int i;
    char *p = path[i++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

/* Loads one rule text; returns the ruleset (or NULL) and leaves errors in d. */
static struct lw_ruleset *load(const char *text, struct lw_diag *d)
{
    const char *p = write_file("r.yaml", text);
    struct lw_ruleset *rs = NULL;
    lw_ruleset_load(&rs, &p, 1, NULL, d);
    return rs;
}

static bool has_diag(const struct lw_diag *d, const char *want)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msgs[i], want))
            return true;
    fprintf(stderr, "  missing diagnostic: %s\n", want);
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "  have: %s\n", d->msgs[i]);
    return false;
}

static void test_patterns(void)
{
    struct lw_diag d = {0};
    struct lw_ruleset *rs = load("patterns:\n"
                                 "  OCTET: '\\d{1,3}'\n"
                                 "  IP: '%{OCTET}(?:\\.%{OCTET}){3}'\n"
                                 "events:\n"
                                 "  - name: e\n"
                                 "    match: 'from (?<ip>%{IP})'\n",
                                 &d);
    CHECK(rs != NULL);
    CHECK_EQ(d.n, 0);
    if (rs) {
        CHECK_STR(rs->events[0].pattern, "from (?<ip>(?:(?:\\d{1,3})(?:\\.(?:\\d{1,3})){3}))");
        lw_ruleset_free(rs);
    }

    rs = load("patterns:\n  A: 'x%{B}'\n  B: 'y%{A}'\nevents:\n  - name: e\n    match: '%{A}'\n",
              &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "r.yaml:3:6: pattern cycle: A -> B -> A"));
    lw_diag_free(&d);

    rs = load("events:\n  - name: e\n    match: 'a %{NOPE} b'\n", &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "r.yaml:3:15: unknown pattern %{NOPE}"));
    lw_diag_free(&d);

    /* Two files may define the same pattern with the same text, not with another. */
    const char *files[3] = {
        write_file("p1.yaml", "patterns:\n  N: '\\d+'\nevents:\n  - {name: a, match: 'a %{N}'}\n"),
        write_file("p2.yaml", "patterns:\n  N: '\\d+'\nevents:\n  - {name: b, match: 'b %{N}'}\n"),
        write_file("p3.yaml", "patterns:\n  N: '\\w+'\n")};
    rs = NULL;
    CHECK_EQ(lw_ruleset_load(&rs, files, 2, NULL, &d), 0);
    CHECK_EQ(d.n, 0);
    lw_ruleset_free(rs);
    rs = NULL;
    CHECK(lw_ruleset_load(&rs, files, 3, NULL, &d) < 0);
    CHECK(has_diag(&d, "p3.yaml:2:3: pattern N is defined twice, differently (first in "));
    lw_diag_free(&d);
}

static void test_errors(void)
{
    struct lw_diag d = {0};
    /* Several errors in one file: all are reported, with positions. */
    struct lw_ruleset *rs = load("events:\n"
                                 "  - name: e\n"
                                 "    match: 'a(b'\n"
                                 "    feilds: {x: int}\n"
                                 "alerts:\n"
                                 "  - name: A\n"
                                 "    event: nope\n"
                                 "    window: 5 minutes\n"
                                 "    count: {above: 1}\n"
                                 "  - name: B\n"
                                 "    event: e\n"
                                 "    window: 1m\n",
                                 &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "r.yaml:3:16: bad regex: missing closing parenthesis"));
    CHECK(has_diag(&d, "r.yaml:4:5: unknown key 'feilds' in event (did you mean 'fields'?)"));
    CHECK(has_diag(&d, "r.yaml:7:12: unknown event 'nope'"));
    CHECK(has_diag(&d, "r.yaml:8:13: expected a duration"));
    CHECK(has_diag(&d, "r.yaml:10:5: alert B needs a kind: count, ratio, quantile, sum, avg, min, "
                       "max, distinct, absent or spike"));
    lw_diag_free(&d);

    /* Near misses of event and field names get a hint. */
    rs = load("events:\n"
              "  - name: login_failed\n"
              "    match: 'from (?<ip>\\S+)'\n"
              "alerts:\n"
              "  - name: A\n"
              "    event: login_faild\n"
              "    window: 5m\n"
              "    count: {above: 1}\n"
              "  - name: B\n"
              "    event: login_failed\n"
              "    group_by: [ipp]\n"
              "    window: 5m\n"
              "    count: {above: 1}\n",
              &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "r.yaml:6:12: unknown event 'login_faild' (did you mean 'login_failed'?)"));
    CHECK(has_diag(&d, "r.yaml:11:16: unknown field 'ipp' in event login_failed (did you mean "
                       "'ip'?)"));
    lw_diag_free(&d);

    rs = load("events:\n  - name: e\n    match: '(?<n>\\d+)'\n    fields: {n: integer}\n", &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "r.yaml:4:17: unknown type 'integer'"));
    lw_diag_free(&d);

    rs = load("events: [\n", &d);
    CHECK(rs == NULL);
    CHECK_EQ(d.n, 1);
    lw_diag_free(&d);
}

struct got {
    int n;
    int64_t ts;
    long long status;
    char ip[32];
};

static void on_ev(const struct lw_event *ev, void *payload)
{
    struct got *g = payload;
    const struct lw_event_def *def = ev->def;
    g->n++;
    g->ts = ev->ts_ns;
    for (size_t i = 0; i < def->nfields; i++) {
        const struct lw_value *v = &ev->fields[i];
        if (!strcmp(def->fields[i].name, "status") && v->kind == LW_V_INT)
            g->status = v->i;
        if (!strcmp(def->fields[i].name, "ip") && v->kind == LW_V_STR)
            snprintf(g->ip, sizeof g->ip, "%.*s", (int)v->s.n, v->s.p);
    }
}

static void test_match(void)
{
    struct lw_diag d = {0};
    struct lw_ruleset *rs = load(
        "events:\n"
        "  - name: http\n"
        "    match: '^(?<ip>\\S+) \\S+ \\S+ \\[(?<ts>[^\\]]+)\\] \"[^\"]*\" (?<status>\\d{3}|x)'\n"
        "    fields: {status: int}\n"
        "    timestamp: {field: ts, format: '%d/%b/%Y:%H:%M:%S %z'}\n",
        &d);
    CHECK(rs != NULL);
    if (!rs) {
        lw_diag_print(&d, stderr);
        lw_diag_free(&d);
        return;
    }
    struct lw_rec r = {0};
    struct got g = {0};
    const char *line =
        "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /presentations/ HTTP/1.1\" 200 7697";
    r.body = lw_str_c(line);
    r.recv_ns = 1;
    CHECK_EQ(lw_ruleset_match(rs, &r, INT64_C(1800000000) * LW_NS_PER_SEC, on_ev, &g), 1);
    CHECK_EQ(g.status, 200);
    CHECK_STR(g.ip, "83.149.9.216");
    CHECK_EQ(g.ts, INT64_C(1431857103) * LW_NS_PER_SEC);

    /* A value that does not convert is a non-match, and counted. */
    const char *bad = "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" x 1";
    r.body = lw_str_c(bad);
    g.n = 0;
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_ev, &g), 0);
    CHECK_EQ(rs->events[0].conv_errors, 1);
    /* Not the format at all: no event, no error. */
    r.body = lw_str_c("garbage \x00\xff line");
    CHECK_EQ(lw_ruleset_match(rs, &r, 0, on_ev, &g), 0);
    lw_ruleset_free(rs);
}

/* A timestamp field that is missing keeps the record's time; one that is there but does not
 * parse makes the line a non-match, counted. */
static void test_timestamp_missing(void)
{
    struct lw_diag d = {0};
    struct lw_ruleset *rs =
        load("events:\n"
             "  - name: fail\n"
             "    match: '(?:^(?<ts>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d) \\S+ [^:]+: )?"
             "Failed password for (?<user>\\S+)'\n"
             "    timestamp: {field: ts, format: syslog}\n",
             &d);
    CHECK(rs != NULL);
    if (!rs) {
        lw_diag_print(&d, stderr);
        lw_diag_free(&d);
        return;
    }
    int64_t now = INT64_C(1710100000) * LW_NS_PER_SEC; /* 2024-03-10T19:46:40Z */
    struct lw_rec r = {0};
    struct got g = {0};
    /* A raw line: the time comes from its own header. */
    r.body = lw_str_c("Mar 10 06:55:46 bastion sshd[1]: Failed password for root");
    r.recv_ns = now;
    CHECK_EQ(lw_ruleset_match(rs, &r, now, on_ev, &g), 1);
    CHECK_EQ(g.ts, INT64_C(1710053746) * LW_NS_PER_SEC);
    /* A syslog record (header already parsed into ts_ns): the record's time. */
    r.body = lw_str_c("Failed password for root");
    r.ts_ns = INT64_C(1710053700) * LW_NS_PER_SEC;
    CHECK_EQ(lw_ruleset_match(rs, &r, now, on_ev, &g), 1);
    CHECK_EQ(g.ts, r.ts_ns);
    /* No record time either: arrival time. */
    r.ts_ns = 0;
    CHECK_EQ(lw_ruleset_match(rs, &r, now, on_ev, &g), 1);
    CHECK_EQ(g.ts, now);
    CHECK_EQ(rs->events[0].ts_errors, 0);
    /* There, but not a time: no event, counted. */
    r.body = lw_str_c("Xyz 10 06:55:46 bastion sshd[1]: Failed password for root");
    CHECK_EQ(lw_ruleset_match(rs, &r, now, on_ev, &g), 0);
    CHECK_EQ(rs->events[0].ts_errors, 1);
    lw_ruleset_free(rs);
}

static void test_alerts(void)
{
    struct lw_diag d = {0};
    struct lw_ruleset *rs = load("events:\n"
                                 "  - name: e\n"
                                 "    match: 'user (?<user>\\S+) from (?<ip>\\S+)'\n"
                                 "alerts:\n"
                                 "  - name: A\n"
                                 "    event: e\n"
                                 "    window: 1h\n"
                                 "    group_by: [ip]\n"
                                 "    count: {above: 10}\n"
                                 "    labels: {team: sec, area: auth}\n"
                                 "    annotations: {summary: '{{ value }} from {{ ip }}'}\n",
                                 &d);
    CHECK(rs != NULL);
    if (rs) {
        const struct lw_alert_def *a = &rs->alerts[0];
        CHECK_EQ(a->res_ns, 12 * LW_NS_PER_SEC); /* 1h / 300 */
        CHECK_EQ(a->nbuckets, 300);
        CHECK_EQ(a->ngroup, 1);
        CHECK_STR(a->label_keys[0], "area"); /* sorted */
        CHECK_STR(a->label_vals[0], "auth");
        CHECK_STR(a->severity, "warning");
        lw_ruleset_free(rs);
    }
    /* A template naming a field that is not a label of the alert is a load-time error. */
    rs = load("events:\n  - name: e\n    match: 'u (?<user>\\S+)'\n"
              "alerts:\n  - name: A\n    event: e\n    window: 5m\n    count: {above: 1}\n"
              "    annotations: {summary: 'by {{ user }}'}\n",
              &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "r.yaml:9:"));
    lw_diag_free(&d);
    rs =
        load("events:\n  - name: e\n    match: 'u'\n"
             "alerts:\n  - name: A\n    event: e\n    window: 5m\n    count: {above: 1, blow: 2}\n",
             &d);
    CHECK(rs == NULL);
    CHECK(has_diag(&d, "unknown key 'blow' in count (did you mean 'below'?)"));
    lw_diag_free(&d);
    /* q takes 0 (the smallest value) to 1 (the largest), as quantile_over_time does. */
    static const char *const qs[] = {"0", "1", "0.5", "1.5", "-0.1"};
    for (size_t i = 0; i < 5; i++) {
        char text[300];
        snprintf(text, sizeof text,
                 "events:\n  - name: e\n    match: 't=(?<t>\\d+)'\n    fields: {t: int}\n"
                 "alerts:\n  - name: A\n    event: e\n    window: 5m\n"
                 "    quantile: {field: t, q: %s, above: 1}\n",
                 qs[i]);
        rs = load(text, &d);
        CHECK((rs != NULL) == (i < 3));
        if (i >= 3)
            CHECK(has_diag(&d, "r.yaml:9:29: q must be between 0 and 1"));
        lw_ruleset_free(rs);
        lw_diag_free(&d);
    }
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_patterns();
    test_errors();
    test_match();
    test_timestamp_missing();
    test_alerts();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return test_summary();
}
