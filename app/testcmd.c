/* testcmd.c: `logwarden test TESTFILE...`: rule unit tests. Each test runs its lines through a
 * fresh engine in replay mode (event time), as `logwarden replay` would on that input, and
 * compares the alert transitions with the expected ones (RULES.md, "Rule unit tests").
 *
 * A test file is validated whole before any of its tests runs: every problem of every file is
 * reported as FILE:LINE:COL: message and the file's tests are skipped (exit 2). */
#include "app.h"
#include "template.h"
#include "timefmt.h"

#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const file_keys[] = {"config", "rule_files", "tests", NULL};
static const char *const test_keys[] = {"name", "input",  "format",      "now", "lines",
                                        "file", "expect", "expect_none", NULL};
static const char *const expect_keys[] = {"alert", "status",      "labels", "at",
                                          "value", "annotations", NULL};

#define MAX_FIXTURE (64u << 20) /* a fixture larger than this is not a unit test */
#define VALUE_RTOL 1e-9

enum { ST_ANY = -1, ST_RESOLVED = 0, ST_FIRING = 1 };

/* A key = value list taken from a YAML map (labels, annotations). Strings are owned. */
struct kv {
    char **k, **v;
    size_t n;
};

/* One expected transition: each field is checked only when given. */
struct texp {
    char *alert;
    int status; /* ST_* */
    struct kv labels, annotations;
    bool has_at, has_value;
    int64_t at_ns;
    double value;
};

struct tcase {
    char *name;
    uint32_t input;         /* config input index, UINT32_MAX without one */
    char *input_name;       /* the `input` label of the records */
    const struct lw_tz *tz; /* the input's `timezone:`, for times without a zone */
    enum lw_format fmt;
    const struct lw_multiline_cfg *multiline; /* the input's, borrowed from the config */
    size_t max_line;                          /* the input's max_line_bytes */
    bool has_now;
    int64_t now_ns;
    struct lw_buf text; /* the lines, each ending in '\n' */
    char *path;         /* the fixture (the records' `path` label), or NULL */
    struct texp *exp;
    size_t nexp;
    bool expect_given; /* `expect:` present (an empty list means: no transitions at all) */
    char **none;       /* expect_none */
    size_t nnone;
};

struct tfile {
    const char *path; /* as given on the command line */
    char *dir;        /* its folder: relative paths start here */
    struct lw_config *cfg;
    struct lw_ruleset *rs;
    struct tcase *cases;
    size_t ncases;
};

/* An actual transition, taken apart from its alert object. */
struct tact {
    const struct lw_alert_def *def;
    json_t *obj; /* the alert object, owned */
    bool firing;
    int64_t at_ns; /* starts_at when firing, ends_at when resolved */
};

struct trun {
    const struct tcase *tc;
    struct lw_engine *eng;
    struct lw_dstate ds;
    struct lw_str labels[LW_L_COUNT]; /* what a file input would set: the fixture's path */
    struct tact *acts;
    size_t nacts, capacts;
    uint64_t lines, malformed;
    struct lw_tsfmt rfc3339;
};

/* ---------------------------------------------------------------- small helpers */

static void kv_free(struct kv *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->k[i]);
        free(kv->v[i]);
    }
    free(kv->k);
    free(kv->v);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char *join_path(const char *dir, const char *p)
{
    if (p[0] == '/' || !dir[0] || !strcmp(dir, "."))
        return lw_strdup(p);
    struct lw_buf b = {0};
    lw_buf_printf(&b, "%s/%s", dir, p);
    return lw_buf_steal(&b);
}

static const struct lw_alert_def *find_alert(const struct lw_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->nalerts; i++)
        if (!strcmp(rs->alerts[i].name, name))
            return &rs->alerts[i];
    return NULL;
}

/* Reports an alert name the rules do not define, with a hint. */
static void check_alert_name(const struct lw_yaml_doc *doc, const struct lw_yaml_node *at,
                             const struct lw_ruleset *rs, const char *name, struct lw_diag *diag)
{
    if (!rs || find_alert(rs, name))
        return;
    const char **names = lw_calloc(rs->nalerts + 1, sizeof *names);
    for (size_t i = 0; i < rs->nalerts; i++)
        names[i] = rs->alerts[i].name;
    const char *hint = lw_nearest(name, names, rs->nalerts);
    if (hint)
        lw_yaml_error(doc, at, diag, "no alert named '%s' in the rules (did you mean '%s'?)", name,
                      hint);
    else
        lw_yaml_error(doc, at, diag, "no alert named '%s' in the rules", name);
    free(names);
}

static int parse_time(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char *key,
                      int64_t *out, struct lw_diag *diag)
{
    struct lw_tsfmt f;
    struct lw_err err;
    int rc = -1;
    if (n->type != LW_YAML_SCALAR) {
        lw_yaml_error(doc, n, diag, "%s: expected an RFC 3339 time such as 2024-03-10T06:55:46Z",
                      key);
        return -1;
    }
    if (lw_tsfmt_init(&f, "rfc3339", &err) < 0)
        return -1;
    rc = lw_tsfmt_parse(&f, n->str, n->len, 0, out);
    lw_tsfmt_free(&f);
    if (rc < 0)
        lw_yaml_error(doc, n, diag,
                      "%s: '%s' is not an RFC 3339 time (such as 2024-03-10T06:55:46Z)", key,
                      n->str);
    return rc < 0 ? -1 : 0;
}

static void parse_kv(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char *what,
                     struct kv *out, struct lw_diag *diag)
{
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "%s: expected a map such as {ip: 203.0.113.7}", what);
        return;
    }
    out->k = lw_calloc(n->n + 1, sizeof *out->k);
    out->v = lw_calloc(n->n + 1, sizeof *out->v);
    for (size_t i = 0; i < n->n; i++) {
        const char *v;
        if (lw_yaml_str(doc, n->items[i], &v, diag) < 0)
            continue;
        out->k[out->n] = lw_strdup(n->keys[i]->str);
        out->v[out->n] = lw_strdup(v);
        out->n++;
    }
}

/* ---------------------------------------------------------------- loading a test file */

static void tcase_free(struct tcase *tc)
{
    free(tc->name);
    free(tc->input_name);
    lw_buf_free(&tc->text);
    free(tc->path);
    for (size_t i = 0; i < tc->nexp; i++) {
        free(tc->exp[i].alert);
        kv_free(&tc->exp[i].labels);
        kv_free(&tc->exp[i].annotations);
    }
    free(tc->exp);
    strv_free(tc->none, tc->nnone);
}

static void tfile_free(struct tfile *tf)
{
    for (size_t i = 0; i < tf->ncases; i++)
        tcase_free(&tf->cases[i]);
    free(tf->cases);
    lw_ruleset_free(tf->rs);
    lw_config_free(tf->cfg);
    free(tf->dir);
}

/* Reads a fixture whole into b, each line ending in a newline. */
static int read_fixture(const char *path, struct lw_buf *b, struct lw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lw_err_set(err, LW_EIO, "cannot read %s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > MAX_FIXTURE) {
            rc = lw_err_set(err, LW_EFULL, "%s is larger than 64 MiB", path);
            break;
        }
        lw_buf_append(b, chunk, n);
    }
    if (!rc && ferror(f))
        rc = lw_err_set(err, LW_EIO, "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    return rc;
}

static void parse_expect(struct tfile *tf, const struct lw_yaml_doc *doc,
                         const struct lw_yaml_node *n, struct texp *x, struct lw_diag *diag)
{
    const struct lw_yaml_node *v;
    const char *s;
    x->status = ST_ANY;
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag,
                      "an expected transition is a map: {alert: NAME, status: firing, ...}");
        return;
    }
    lw_yaml_check_keys(doc, n, expect_keys, "expected transition", diag);
    if (!(v = lw_yaml_get(n, "alert"))) {
        lw_yaml_error(doc, n, diag, "expected transition without an alert name");
    } else if (lw_yaml_str(doc, v, &s, diag) == 0) {
        x->alert = lw_strdup(s);
        check_alert_name(doc, v, tf->rs, s, diag);
    }
    if ((v = lw_yaml_get(n, "status")) && lw_yaml_str(doc, v, &s, diag) == 0) {
        if (!strcmp(s, "firing"))
            x->status = ST_FIRING;
        else if (!strcmp(s, "resolved"))
            x->status = ST_RESOLVED;
        else
            lw_yaml_error(doc, v, diag, "status: expected firing or resolved, not '%s'", s);
    }
    if ((v = lw_yaml_get(n, "labels")))
        parse_kv(doc, v, "labels", &x->labels, diag);
    if ((v = lw_yaml_get(n, "annotations")))
        parse_kv(doc, v, "annotations", &x->annotations, diag);
    if ((v = lw_yaml_get(n, "at")))
        x->has_at = parse_time(doc, v, "at", &x->at_ns, diag) == 0;
    if ((v = lw_yaml_get(n, "value")))
        x->has_value = lw_yaml_float(doc, v, &x->value, diag) == 0;
}

static void parse_test(struct tfile *tf, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *n, struct tcase *tc, struct lw_diag *diag)
{
    const struct lw_yaml_node *v, *lines, *file;
    const char *s;
    tc->input = UINT32_MAX;
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "a test is a map: name, lines or file, expect");
        tc->name = lw_strdup("");
        return;
    }
    lw_yaml_check_keys(doc, n, test_keys, "test", diag);
    if (!(v = lw_yaml_get(n, "name"))) {
        lw_yaml_error(doc, n, diag, "test without a name");
    } else if (lw_yaml_str(doc, v, &s, diag) == 0) {
        tc->name = lw_strdup(s);
        for (size_t i = 0; i < tf->ncases; i++)
            if (tf->cases[i].name && !strcmp(tf->cases[i].name, s))
                lw_yaml_error(doc, v, diag, "test name '%s' is used twice", s);
    }
    if (!tc->name)
        tc->name = lw_strdup("");

    /* The input: the config's first by default, as replay does. */
    if (tf->cfg && tf->cfg->ninputs > 0)
        tc->input = 0;
    if ((v = lw_yaml_get(n, "input")) && lw_yaml_str(doc, v, &s, diag) == 0) {
        if (tf->cfg) {
            const struct lw_config *c = tf->cfg;
            const char **names = lw_calloc(c->ninputs + 1, sizeof *names);
            struct lw_buf all = {0};
            tc->input = UINT32_MAX;
            for (size_t i = 0; i < c->ninputs; i++) {
                names[i] = c->inputs[i].name;
                lw_buf_printf(&all, "%s%s", i ? ", " : "", names[i]);
                if (!strcmp(names[i], s))
                    tc->input = (uint32_t)i;
            }
            if (tc->input == UINT32_MAX) {
                const char *hint = lw_nearest(s, names, c->ninputs);
                if (hint)
                    lw_yaml_error(doc, v, diag, "no input named '%s' in %s (did you mean '%s'?)", s,
                                  c->path, hint);
                else
                    lw_yaml_error(doc, v, diag, "no input named '%s' in %s (inputs: %s)", s,
                                  c->path, all.len ? all.p : "none");
            }
            lw_buf_free(&all);
            free(names);
        } else {
            tc->input_name = lw_strdup(s); /* without a config: only the `input` label */
        }
    }
    if (tc->input != UINT32_MAX) {
        tc->fmt = tf->cfg->inputs[tc->input].format;
        tc->input_name = lw_strdup(tf->cfg->inputs[tc->input].name);
        tc->tz = tf->cfg->inputs[tc->input].tz;
        tc->multiline = tf->cfg->inputs[tc->input].multiline;
        tc->max_line = tf->cfg->inputs[tc->input].in->max_line;
    } else {
        /* No input to name a zone: zone-less times are UTC, so that a test without a config
         * gives the same result on every machine. */
        tc->tz = NULL;
    }
    if (!tc->input_name)
        tc->input_name = lw_strdup("test");
    if ((v = lw_yaml_get(n, "format")) && lw_yaml_str(doc, v, &s, diag) == 0 &&
        lw_format_parse(s, &tc->fmt) < 0)
        lw_yaml_error(doc, v, diag, "unknown format '%s' (raw, json, logfmt, syslog, docker, cri)",
                      s);
    if ((v = lw_yaml_get(n, "now")))
        tc->has_now = parse_time(doc, v, "now", &tc->now_ns, diag) == 0;

    lines = lw_yaml_get(n, "lines");
    file = lw_yaml_get(n, "file");
    if (lines && file) {
        lw_yaml_error(doc, file, diag, "give lines or file, not both");
    } else if (!lines && !file) {
        lw_yaml_error(doc, n, diag, "test '%s' has no input: give lines or file", tc->name);
    } else if (lines && lines->type == LW_YAML_SCALAR) {
        /* A block scalar holds many lines. */
        lw_buf_append(&tc->text, lines->str, lines->len);
        if (lines->len && lines->str[lines->len - 1] != '\n')
            lw_buf_putc(&tc->text, '\n');
    } else if (lines) {
        const char **l;
        size_t cnt;
        if (lw_yaml_strlist(doc, lines, &l, &cnt, diag) == 0) {
            for (size_t i = 0; i < cnt; i++) {
                lw_buf_puts(&tc->text, l[i]);
                lw_buf_putc(&tc->text, '\n');
            }
            free(l);
        }
    } else if (lw_yaml_str(doc, file, &s, diag) == 0) {
        struct lw_err err;
        tc->path = join_path(tf->dir, s);
        if (read_fixture(tc->path, &tc->text, &err) < 0)
            lw_yaml_error(doc, file, diag, "file: %s", err.msg);
    }

    if ((v = lw_yaml_get(n, "expect"))) {
        tc->expect_given = true;
        if (v->type == LW_YAML_SEQ) {
            tc->exp = lw_calloc(v->n + 1, sizeof *tc->exp);
            for (size_t i = 0; i < v->n; i++)
                parse_expect(tf, doc, v->items[i], &tc->exp[tc->nexp++], diag);
        } else if (!(v->type == LW_YAML_SCALAR && !v->quoted && v->len == 0)) {
            lw_yaml_error(doc, v, diag, "expect: expected a list of transitions");
        }
    }
    if ((v = lw_yaml_get(n, "expect_none"))) {
        const char **names;
        size_t cnt;
        if (lw_yaml_strlist(doc, v, &names, &cnt, diag) == 0) {
            tc->none = lw_calloc(cnt + 1, sizeof *tc->none);
            for (size_t i = 0; i < cnt; i++) {
                const struct lw_yaml_node *at = v->type == LW_YAML_SEQ ? v->items[i] : v;
                tc->none[tc->nnone++] = lw_strdup(names[i]);
                check_alert_name(doc, at, tf->rs, names[i], diag);
                for (size_t j = 0; j < tc->nexp; j++)
                    if (tc->exp[j].alert && !strcmp(tc->exp[j].alert, names[i])) {
                        lw_yaml_error(doc, at, diag, "'%s' is both expected and in expect_none",
                                      names[i]);
                        break;
                    }
            }
            free(names);
        }
    }
    if (!tc->expect_given && !lw_yaml_get(n, "expect_none"))
        lw_yaml_error(doc, n, diag, "test '%s' checks nothing: give expect or expect_none",
                      tc->name);
}

/* Expands rule_files (globs, relative to the test file) and loads them. */
static void load_rule_files(struct tfile *tf, const struct lw_yaml_doc *doc,
                            const struct lw_yaml_node *n, struct lw_diag *diag)
{
    const char **globs;
    size_t cnt, nfiles = 0;
    char **files = NULL;
    size_t errors0 = diag->n;
    if (lw_yaml_strlist(doc, n, &globs, &cnt, diag) < 0)
        return;
    for (size_t i = 0; i < cnt; i++) {
        const struct lw_yaml_node *at = n->type == LW_YAML_SEQ ? n->items[i] : n;
        char *pat = join_path(tf->dir, globs[i]);
        glob_t g;
        int rc = glob(pat, 0, NULL, &g);
        if (rc == GLOB_NOMATCH)
            lw_yaml_error(doc, at, diag, "rule_files: %s %s", pat,
                          strpbrk(globs[i], "*?[") ? "matches no file" : "does not exist");
        else if (rc != 0)
            lw_yaml_error(doc, at, diag, "rule_files: cannot expand %s", pat);
        if (rc == 0) {
            for (size_t j = 0; j < g.gl_pathc; j++) {
                files = lw_realloc(files, (nfiles + 1) * sizeof *files);
                files[nfiles++] = lw_strdup(g.gl_pathv[j]);
            }
            globfree(&g);
        }
        free(pat);
    }
    free(globs);
    if (diag->n == errors0) {
        struct lw_rules_env env = {NULL, 0};
        if (tf->cfg)
            env = (struct lw_rules_env){tf->cfg->rinputs, tf->cfg->ninputs};
        lw_ruleset_load(&tf->rs, (const char *const *)files, nfiles, &env, diag);
    }
    strv_free(files, nfiles);
}

/* Loads and validates one test file: every problem goes to diag. Returns 0 when it is good. */
static int tfile_load(struct tfile *tf, const char *path, struct lw_diag *diag)
{
    struct lw_yaml_doc *doc = NULL;
    const struct lw_yaml_node *root, *v, *cfgn, *rulen;
    size_t errors0 = diag->n;
    const char *s;

    memset(tf, 0, sizeof *tf);
    tf->path = path;
    {
        char *tmp = lw_strdup(path);
        tf->dir = lw_strdup(dirname(tmp));
        free(tmp);
    }
    if (lw_yaml_load_file(&doc, path, diag) < 0)
        goto out;
    root = doc->root;
    if (!root || root->type != LW_YAML_MAP) {
        lw_yaml_error(doc, root, diag, "a test file is a map: config or rule_files, and tests");
        goto out;
    }
    lw_yaml_check_keys(doc, root, file_keys, "test file", diag);
    cfgn = lw_yaml_get(root, "config");
    rulen = lw_yaml_get(root, "rule_files");
    if (!cfgn && !rulen)
        lw_yaml_error(doc, root, diag, "a test file needs config: or rule_files:");
    if (cfgn && lw_yaml_str(doc, cfgn, &s, diag) == 0) {
        char *cp = join_path(tf->dir, s);
        FILE *f = fopen(cp, "r");
        if (!f) {
            lw_yaml_error(doc, cfgn, diag, "config: cannot read %s: %s", cp, strerror(errno));
        } else {
            fclose(f);
            lw_config_load(&tf->cfg, cp, diag);
            if (tf->cfg && !rulen)
                lw_config_rules(tf->cfg, &tf->rs, diag);
        }
        free(cp);
    }
    /* rule_files with a config: the config gives the inputs, the test file the rules. */
    if (rulen && (!cfgn || tf->cfg))
        load_rule_files(tf, doc, rulen, diag);
    /* Without rules, alert names cannot be checked; their errors are reported already. */

    if (!(v = lw_yaml_get(root, "tests"))) {
        lw_yaml_error(doc, root, diag, "a test file needs tests:");
    } else if (v->type != LW_YAML_SEQ) {
        lw_yaml_error(doc, v, diag, "tests: expected a list");
    } else {
        /* When the config or rules failed to load, input and alert names go unchecked: the
         * file is bad already and its tests will not run. */
        tf->cases = lw_calloc(v->n + 1, sizeof *tf->cases);
        for (size_t i = 0; i < v->n; i++) {
            parse_test(tf, doc, v->items[i], &tf->cases[tf->ncases], diag);
            tf->ncases++; /* after: parse_test compares names with the earlier tests */
        }
    }
out:
    lw_yaml_free(doc);
    return diag->n > errors0 ? -1 : 0;
}

/* ---------------------------------------------------------------- running a test */

static void on_alert(const struct lw_alert_def *def, const char *json, size_t len, bool firing,
                     void *payload)
{
    struct trun *r = payload;
    json_t *obj = json_loadb(json, len, 0, NULL);
    if (!obj)
        return; /* NEVER: the engine writes valid JSON */
    if (r->nacts == r->capacts) {
        r->capacts = r->capacts ? r->capacts * 2 : 16;
        r->acts = lw_realloc(r->acts, r->capacts * sizeof *r->acts);
    }
    struct tact *a = &r->acts[r->nacts++];
    a->def = def;
    a->obj = obj;
    a->firing = firing;
    a->at_ns = INT64_MIN;
    const char *t = json_string_value(json_object_get(obj, firing ? "starts_at" : "ends_at"));
    if (t)
        lw_tsfmt_parse(&r->rfc3339, t, strlen(t), 0, &a->at_ns);
}

static void on_line(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct trun *r = payload;
    const struct tcase *tc = r->tc;
    struct lw_record rec = {{line, n}, tc->now_ns, end_off};
    struct lw_rec dr;
    r->lines++;
    int rc = lw_decode_stream(&r->ds, tc->fmt, tc->input_name, tc->tz, r->labels, &rec, tc->input,
                              tc->now_ns, &dr);
    if (rc < 0)
        r->malformed++;
    if (rc != 0)
        lw_engine_record(r->eng, &dr, tc->now_ns);
}

static void run_lines(struct trun *r, struct lw_ruleset *rs)
{
    const struct tcase *tc = r->tc;
    struct lw_linecut lc;
    r->eng = lw_engine_new(rs, LW_MODE_REPLAY, tc->now_ns, on_alert, r);
    lw_linecut_init(&lc, LW_MAX_LINE_DEFAULT, 0);
    lw_dstate_setup(&r->ds, tc->multiline, tc->max_line, NULL, tc->input_name);
    if (tc->path)
        r->labels[LW_L_PATH] = lw_str_c(tc->path);
    if (tc->text.len)
        lw_linecut_feed(&lc, tc->text.p, tc->text.len, on_line, r);
    lw_linecut_finish(&lc, on_line, r);
    /* The end of the lines ends the records held back, as the end of a replay file does. */
    struct lw_rec dr;
    while (lw_dstate_drain(&r->ds, LW_DRAIN_ALL, tc->fmt, tc->input_name, tc->tz, r->labels,
                           tc->input, tc->now_ns, &dr))
        lw_engine_record(r->eng, &dr, tc->now_ns);
    lw_dstate_free(&r->ds);
    lw_linecut_free(&lc);
    lw_engine_finish(r->eng);
}

static bool label_eq(json_t *obj, const char *field, const char *k, const char *v)
{
    const char *a = json_string_value(json_object_get(json_object_get(obj, field), k));
    return a && !strcmp(a, v);
}

static bool value_eq(double a, double e)
{
    if (a == e)
        return true;
    double scale = fabs(a) > fabs(e) ? fabs(a) : fabs(e);
    return fabs(a - e) <= VALUE_RTOL * scale;
}

static bool act_matches(const struct tact *a, const struct texp *x)
{
    if (strcmp(a->def->name, x->alert))
        return false;
    if (x->status != ST_ANY && (x->status == ST_FIRING) != a->firing)
        return false;
    for (size_t i = 0; i < x->labels.n; i++)
        if (!label_eq(a->obj, "labels", x->labels.k[i], x->labels.v[i]))
            return false;
    for (size_t i = 0; i < x->annotations.n; i++)
        if (!label_eq(a->obj, "annotations", x->annotations.k[i], x->annotations.v[i]))
            return false;
    if (x->has_at && a->at_ns != x->at_ns)
        return false;
    if (x->has_value) {
        json_t *v = json_object_get(a->obj, "value");
        if (!json_is_number(v) || !value_eq(json_number_value(v), x->value))
            return false;
    }
    return true;
}

static void put_value(struct lw_buf *b, double v)
{
    char num[64];
    lw_fmt_number(v, num, sizeof num);
    lw_buf_printf(b, " value %s", num);
}

static void put_time(struct lw_buf *b, int64_t ns)
{
    char ts[40];
    lw_fmt_rfc3339(ns, ts, sizeof ts);
    lw_buf_printf(b, " at %s", ts);
}

static void put_kv(struct lw_buf *b, const char *lead, const struct kv *kv)
{
    if (!kv->n)
        return;
    lw_buf_printf(b, "%s{", lead);
    for (size_t i = 0; i < kv->n; i++)
        lw_buf_printf(b, "%s%s=%s", i ? ", " : "", kv->k[i], kv->v[i]);
    lw_buf_putc(b, '}');
}

/* The compact text form of an expected transition: only the fields given. */
static void fmt_exp(struct lw_buf *b, const struct texp *x)
{
    lw_buf_reset(b);
    lw_buf_printf(b, "%-8s %s",
                  x->status == ST_FIRING     ? "firing"
                  : x->status == ST_RESOLVED ? "resolved"
                                             : "any",
                  x->alert);
    put_kv(b, " ", &x->labels);
    if (x->has_at)
        put_time(b, x->at_ns);
    if (x->has_value)
        put_value(b, x->value);
    put_kv(b, " annotations ", &x->annotations);
}

static bool kv_has(const struct kv *kv, const char *k)
{
    for (size_t i = 0; i < kv->n; i++)
        if (!strcmp(kv->k[i], k))
            return true;
    return false;
}

/* Adds k=v from the object's field to kv when it is there and not yet listed. */
static void kv_take(struct kv *kv, json_t *obj, const char *field, const char *k)
{
    const char *v = json_string_value(json_object_get(json_object_get(obj, field), k));
    if (!v || kv_has(kv, k))
        return;
    kv->k = lw_realloc(kv->k, (kv->n + 1) * sizeof *kv->k);
    kv->v = lw_realloc(kv->v, (kv->n + 1) * sizeof *kv->v);
    kv->k[kv->n] = lw_strdup(k);
    kv->v[kv->n] = lw_strdup(v);
    kv->n++;
}

/* The compact text form of an actual transition: its group labels, and the labels and
 * annotations the expected transition beside it (x, may be NULL) names. */
static void fmt_act(struct lw_buf *b, const struct tact *a, const struct texp *x)
{
    struct kv labels = {0}, ann = {0};
    for (size_t i = 0; i < a->def->ngroup; i++)
        kv_take(&labels, a->obj, "labels", a->def->group_by[i]);
    for (size_t i = 0; x && i < x->labels.n; i++)
        kv_take(&labels, a->obj, "labels", x->labels.k[i]);
    for (size_t i = 0; x && i < x->annotations.n; i++)
        kv_take(&ann, a->obj, "annotations", x->annotations.k[i]);
    lw_buf_reset(b);
    lw_buf_printf(b, "%-8s %s", a->firing ? "firing" : "resolved", a->def->name);
    put_kv(b, " ", &labels);
    if (a->at_ns != INT64_MIN)
        put_time(b, a->at_ns);
    json_t *v = json_object_get(a->obj, "value");
    if (json_is_number(v))
        put_value(b, json_number_value(v));
    else
        lw_buf_puts(b, " value none");
    put_kv(b, " annotations ", &ann);
    kv_free(&labels);
    kv_free(&ann);
}

static bool in_names(char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return true;
    return false;
}

/* Runs one test; prints its ok/FAIL line and, on failure, both sides. Returns true on pass. */
static bool run_test(const struct tfile *tf, struct tcase *tc)
{
    struct trun r = {0};
    struct lw_err err;
    struct lw_buf eb = {0}, ab = {0};
    bool ok = true;
    r.tc = tc;
    if (!tc->has_now)
        tc->now_ns = lw_now_ns();
    lw_tsfmt_init(&r.rfc3339, "rfc3339", &err);
    run_lines(&r, tf->rs);

    /* The transitions of the alerts named in expect (of every alert for `expect: []`). */
    char **names = lw_calloc(tc->nexp + 1, sizeof *names);
    size_t nnames = 0;
    for (size_t i = 0; i < tc->nexp; i++)
        names[nnames++] = tc->exp[i].alert;
    const struct tact **got = lw_calloc(r.nacts + 1, sizeof *got);
    size_t ngot = 0;
    for (size_t i = 0; i < r.nacts; i++)
        if (tc->expect_given && (tc->nexp == 0 || in_names(names, nnames, r.acts[i].def->name)))
            got[ngot++] = &r.acts[i];
    bool *row_ok = lw_calloc(ngot + tc->nexp + 1, sizeof *row_ok);
    size_t rows = ngot > tc->nexp ? ngot : tc->nexp;
    for (size_t i = 0; i < rows; i++) {
        row_ok[i] = i < ngot && i < tc->nexp && act_matches(got[i], &tc->exp[i]);
        ok &= row_ok[i];
    }
    size_t nviol = 0;
    for (size_t i = 0; i < r.nacts; i++)
        nviol += in_names(tc->none, tc->nnone, r.acts[i].def->name);
    ok &= nviol == 0;

    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", tf->path, tc->name);
    if (!ok && rows) {
        /* Side by side: the expected column as wide as its widest row. */
        int w = (int)strlen("(nothing)");
        for (size_t i = 0; i < tc->nexp; i++) {
            fmt_exp(&eb, &tc->exp[i]);
            if ((int)eb.len > w)
                w = (int)eb.len;
        }
        printf("        %-*s | actual\n", w, "expected");
        for (size_t i = 0; i < rows; i++) {
            if (i < tc->nexp)
                fmt_exp(&eb, &tc->exp[i]);
            else
                lw_buf_reset(&eb), lw_buf_puts(&eb, "(nothing)");
            if (i < ngot)
                fmt_act(&ab, got[i], i < tc->nexp ? &tc->exp[i] : NULL);
            else
                lw_buf_reset(&ab), lw_buf_puts(&ab, "(nothing)");
            printf("  %s %2zu %-*s | %s\n", row_ok[i] ? "  " : "!!", i + 1, w, eb.p, ab.p);
        }
    }
    if (nviol) {
        printf("  !! expect_none, but:\n");
        for (size_t i = 0; i < r.nacts; i++)
            if (in_names(tc->none, tc->nnone, r.acts[i].def->name)) {
                fmt_act(&ab, &r.acts[i], NULL);
                printf("       %s\n", ab.p);
            }
    }
    if (!ok) {
        struct lw_engine_stats s;
        lw_engine_stats(r.eng, &s);
        printf("       (%llu line%s on input %s as %s", (unsigned long long)r.lines,
               r.lines == 1 ? "" : "s", tc->input_name, lw_format_name(tc->fmt));
        if (r.malformed)
            printf(", %llu malformed", (unsigned long long)r.malformed);
        printf(", %llu event%s, %llu transition%s in all)\n", (unsigned long long)s.events,
               s.events == 1 ? "" : "s", (unsigned long long)s.transitions,
               s.transitions == 1 ? "" : "s");
    }

    for (size_t i = 0; i < r.nacts; i++)
        json_decref(r.acts[i].obj);
    free(r.acts);
    free(got);
    free(names);
    free(row_ok);
    lw_buf_free(&eb);
    lw_buf_free(&ab);
    lw_tsfmt_free(&r.rfc3339);
    lw_engine_free(r.eng);
    return ok;
}

/* ---------------------------------------------------------------- the command */

static void usage_test(FILE *f)
{
    fprintf(f, "usage: logwarden test TESTFILE...\n\n"
               "Runs rule unit tests. A test file names its rules (config: a config file, or\n"
               "rule_files: rule files or globs; with both, the config gives the inputs and\n"
               "rule_files the rules; paths are relative to the test file) and lists tests:\n\n"
               "  config: ../logwarden.yaml\n"
               "  tests:\n"
               "    - name: brute force from one IP\n"
               "      input: syslog          # the input the lines arrive on (default: the first;\n"
               "                             # without a config, only the `input` label)\n"
               "      format: syslog         # optional: decode as this format, not the input's\n"
               "      now: '2024-03-10T12:00:00Z'  # optional: anchors year inference and is the\n"
               "                             # arrival time of the lines (default: the real now)\n"
               "      lines:                 # lines as they appear on that input\n"
               "        - 'Mar 10 06:55:40 host sshd[1]: Failed password for root from ...'\n"
               "      # or: file: fixtures/auth.log\n"
               "      expect:\n"
               "        - {alert: SshBruteForce, status: firing, labels: {ip: 203.0.113.7},\n"
               "           at: '2024-03-10T06:55:46Z', value: 11, annotations: {summary: ...}}\n"
               "      expect_none: [HighErrorRate]\n\n"
               "Each test runs its lines through fresh windows on event time, like replay.\n"
               "The transitions of the alerts named in expect must be exactly the expected ones,\n"
               "in order; each given field must match (labels and annotations: those given;\n"
               "at: starts_at when firing, ends_at when resolved; value: within 1e-9 relative).\n"
               "expect: [] means no transition of any alert. Alerts in expect_none must have\n"
               "no transition at all. Other alerts are ignored.\n\n"
               "Exit status: 0 all passed, 1 a test failed, 2 a test file has errors (printed as\n"
               "FILE:LINE:COL: message; its tests are not run).\n");
}

int lw_cmd_test(int argc, char **argv)
{
    size_t passed = 0, failed = 0, bad = 0, nerrors = 0;
    int nfiles = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_test(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "logwarden test: unknown option '%s'\n", argv[i]);
            usage_test(stderr);
            return 2;
        }
        nfiles++;
    }
    if (nfiles == 0) {
        fprintf(stderr, "logwarden test: give one or more test files\n");
        usage_test(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct tfile tf;
        struct lw_diag diag = {0};
        if (tfile_load(&tf, argv[i], &diag) < 0) {
            lw_diag_print(&diag, stderr);
            nerrors += diag.n;
            bad++;
        } else {
            for (size_t j = 0; j < tf.ncases; j++) {
                if (run_test(&tf, &tf.cases[j]))
                    passed++;
                else
                    failed++;
                fflush(stdout);
            }
        }
        lw_diag_free(&diag);
        tfile_free(&tf);
    }
    if (bad)
        fprintf(stderr, "%zu error%s in %zu test file%s\n", nerrors, nerrors == 1 ? "" : "s", bad,
                bad == 1 ? "" : "s");
    printf("%zu passed, %zu failed\n", passed, failed);
    return bad ? 2 : failed ? 1 : 0;
}
