/* test_opts.c: option tables: defaults, types, bounds, ${ENV}, paths, secrets, unknown keys,
 * included blocks, callbacks, and lw_opts_free. */
#include "lw_opts.h"
#include "test.h"

#include <stdlib.h>

struct common {
    char *url;
    int64_t timeout_ns;
};

struct conf {
    struct common http;
    char *name, *token, *file, *raw;
    int64_t count, wait_ns;
    bool on;
    struct lw_opt_list paths, words;
    int custom; /* set by the parse callback */
    int checked;
};

static const struct lw_opt common_opts[] = {
    {.key = "url",
     .type = LW_OPT_URL,
     .off = offsetof(struct common, url),
     .flags = LW_OPT_REQUIRED},
    {.key = "timeout",
     .type = LW_OPT_DURATION,
     .def = "10s",
     .off = offsetof(struct common, timeout_ns),
     .min = LW_NS_PER_MS},
    {.type = LW_OPT_END},
};

static int parse_custom(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                        struct lw_diag *diag)
{
    if (strcmp(n->str, "yes please") != 0) {
        lw_yaml_error(doc, n, diag, "%s: %s: say please", c->prefix, o->key);
        return LW_EINVAL;
    }
    *(int *)field = 42;
    return 0;
}

static int frees;
static void free_custom(const struct lw_opt *o, void *field)
{
    frees++;
    *(int *)field = 0;
}

/* Counts calls, and refuses "bad". */
static int check_name(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                      const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                      struct lw_diag *diag)
{
    struct conf *cf = (struct conf *)((char *)field - offsetof(struct conf, name));
    cf->checked++;
    if (strcmp(*(char **)field, "bad") == 0) {
        lw_yaml_error(doc, n, diag, "%s: bad name", c->prefix);
        return LW_EINVAL;
    }
    return 0;
}

static const struct lw_opt opts[] = {
    {.type = LW_OPT_INCLUDE, .sub = common_opts, .off = offsetof(struct conf, http)},
    {.key = "name",
     .type = LW_OPT_STRING,
     .def = "anon",
     .off = offsetof(struct conf, name),
     .check = check_name},
    {.key = "token", .type = LW_OPT_SECRET, .off = offsetof(struct conf, token)},
    {.key = "file", .type = LW_OPT_PATH, .off = offsetof(struct conf, file)},
    {.key = "raw", .type = LW_OPT_STRING, .off = offsetof(struct conf, raw), .flags = LW_OPT_NOENV},
    {.key = "count",
     .type = LW_OPT_INT,
     .def = "7",
     .off = offsetof(struct conf, count),
     .min = 1,
     .max = 100},
    {.key = "wait", .type = LW_OPT_DURATION, .def = "250ms", .off = offsetof(struct conf, wait_ns)},
    {.key = "on", .type = LW_OPT_BOOL, .def = "true", .off = offsetof(struct conf, on)},
    {.key = "paths",
     .type = LW_OPT_LIST,
     .off = offsetof(struct conf, paths),
     .flags = LW_OPT_PATHS | LW_OPT_NOENV},
    {.key = "words", .type = LW_OPT_LIST, .off = offsetof(struct conf, words)},
    {.key = "custom",
     .type = LW_OPT_MAP,
     .off = offsetof(struct conf, custom),
     .parse = parse_custom,
     .free = free_custom},
    {.type = LW_OPT_END},
};

static const char *const skip[] = {"type", NULL};
static const struct lw_opt_ctx ctx = {
    .dir = "/etc/lw", .what = "sink 'x'", .prefix = "sink 'x'", .skip = skip};

/* Loads yaml and applies opts to *cf; diag collects the messages. */
static int apply(const char *yaml, struct conf *cf, struct lw_diag *diag)
{
    struct lw_yaml_doc *doc = NULL;
    memset(cf, 0, sizeof *cf);
    if (lw_yaml_load_buf(&doc, "t.yaml", yaml, strlen(yaml), diag) != 0)
        return -100;
    int rc = lw_opts_apply(opts, cf, doc, doc->root, &ctx, diag);
    lw_yaml_free(doc);
    return rc;
}

static bool has(const struct lw_diag *d, const char *msg)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->msgs[i], msg) == 0)
            return true;
    fprintf(stderr, "  missing: %s\n", msg);
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "  have:    %s\n", d->msgs[i]);
    return false;
}

static void test_defaults_and_types(void)
{
    struct conf cf;
    struct lw_diag d = {0};
    setenv("LW_OPTS_HOST", "example.org", 1);
    CHECK_EQ(apply("type: t\nurl: http://${LW_OPTS_HOST}/x\n", &cf, &d), 0);
    CHECK_EQ(d.n, 0);
    CHECK_STR(cf.http.url, "http://example.org/x");
    CHECK_EQ(cf.http.timeout_ns, 10 * LW_NS_PER_SEC);
    CHECK_STR(cf.name, "anon");
    CHECK_EQ(cf.count, 7);
    CHECK_EQ(cf.wait_ns, 250 * LW_NS_PER_MS);
    CHECK(cf.on);
    CHECK(cf.token == NULL && cf.file == NULL && cf.paths.n == 0 && cf.custom == 0);
    CHECK_EQ(cf.checked, 0); /* a default is not checked */
    lw_opts_free(opts, &cf);
    CHECK(cf.http.url == NULL && cf.name == NULL);

    const char *y = "url: u\ntimeout: 2s\nname: n\ncount: 100\nwait: 1m30s\non: no\n"
                    "raw: ${NOT_EXPANDED}\nfile: out.jsonl\npaths: [a.log, /abs/b.log, '$X/c']\n"
                    "words: one\ncustom: yes please\n";
    CHECK_EQ(apply(y, &cf, &d), 0);
    CHECK_EQ(d.n, 0);
    CHECK_EQ(cf.http.timeout_ns, 2 * LW_NS_PER_SEC);
    CHECK_STR(cf.name, "n");
    CHECK_EQ(cf.checked, 1);
    CHECK_EQ(cf.count, 100);
    CHECK_EQ(cf.wait_ns, 90 * LW_NS_PER_SEC);
    CHECK(!cf.on);
    CHECK_STR(cf.raw, "${NOT_EXPANDED}");
    CHECK_STR(cf.file, "/etc/lw/out.jsonl");
    CHECK_EQ(cf.paths.n, 3);
    CHECK_STR(cf.paths.v[0], "/etc/lw/a.log");
    CHECK_STR(cf.paths.v[1], "/abs/b.log");
    CHECK_STR(cf.paths.v[2], "$X/c"); /* a variable's folder: left as written */
    CHECK_EQ(cf.words.n, 1);
    CHECK_STR(cf.words.v[0], "one");
    CHECK_EQ(cf.custom, 42);
    frees = 0;
    lw_opts_free(opts, &cf);
    CHECK_EQ(frees, 1);
    CHECK(cf.paths.v == NULL && cf.paths.n == 0 && cf.custom == 0);
    lw_diag_free(&d);
}

static void test_errors(void)
{
    struct conf cf;
    struct lw_diag d = {0};
    const char *y = "naem: x\ntimeout: 0s\ncount: 101\nwait: soon\non: maybe\n"
                    "custom: now\nname: bad\ntoken: ${LW_OPTS_MISSING}\n";
    CHECK_EQ(apply(y, &cf, &d), LW_EINVAL);
    CHECK(has(&d, "t.yaml:1:1: unknown key 'naem' in sink 'x' (did you mean 'name'?)"));
    CHECK(has(&d, "t.yaml:1:1: sink 'x': 'url' is required"));
    CHECK(has(&d, "t.yaml:2:10: sink 'x': timeout must be at least 1ms"));
    CHECK(has(&d, "t.yaml:3:8: sink 'x': count must be from 1 to 100"));
    CHECK(has(&d, "t.yaml:4:7: expected a duration such as 30s, 5m, 1h or 1d"));
    CHECK(has(&d, "t.yaml:5:5: expected true or false"));
    CHECK(has(&d, "t.yaml:6:9: sink 'x': custom: say please"));
    CHECK(has(&d, "t.yaml:7:7: sink 'x': bad name"));
    /* The message names the variable, never a value. */
    bool env = false;
    for (size_t i = 0; i < d.n; i++)
        env |= strncmp(d.msgs[i], "t.yaml:8:8: sink 'x': token: ", 29) == 0 &&
               strstr(d.msgs[i], "LW_OPTS_MISSING") != NULL;
    CHECK(env);
    CHECK_EQ(d.n, 9);
    lw_opts_free(opts, &cf);
    lw_diag_free(&d);

    /* Required and empty; an empty path in a list. */
    CHECK_EQ(apply("url: ''\npaths: [a, '']\n", &cf, &d), LW_EINVAL);
    CHECK(has(&d, "t.yaml:1:6: sink 'x': 'url' is empty"));
    CHECK(has(&d, "t.yaml:2:12: sink 'x': empty path in 'paths'"));
    CHECK(cf.http.url == NULL);
    lw_opts_free(opts, &cf);
    lw_diag_free(&d);
}

static void test_secret(void)
{
    struct conf cf;
    struct lw_diag d = {0};
    struct lw_buf out = {0};
    CHECK_EQ(apply("url: u\ntoken: s3cr3t-0pts-t0ken\n", &cf, &d), 0);
    CHECK(lw_redact("auth s3cr3t-0pts-t0ken sent", &out));
    CHECK_STR(out.p, "auth " LW_REDACTED " sent");
    lw_buf_free(&out);
    lw_opts_free(opts, &cf);
    lw_diag_free(&d);
}

static void count_row(const struct lw_opt *o, void *payload)
{
    ++*(int *)payload;
}

static void test_each_and_print(void)
{
    int n = 0;
    lw_opts_each(opts, count_row, &n);
    CHECK_EQ(n, 12); /* the included block's two rows and the table's ten */
    CHECK_STR(lw_opt_type_name(LW_OPT_DURATION), "duration");
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    lw_opts_print(opts, f);
    fclose(f);
    CHECK(strstr(buf, "  url                  url           required\n") != NULL);
    CHECK(strstr(buf, "  count                int           default: 7\n") != NULL);
    CHECK(strstr(buf, "  token                secret        optional\n") != NULL);
}

int main(void)
{
    test_defaults_and_types();
    test_errors();
    test_secret();
    test_each_and_print();
    return test_summary();
}
