/* config.c: loads the config file (state, rules, inputs, sinks, routes, notify) with every
 * error reported as FILE:LINE:COL: message; routes and notify become the notifier's config. */
#include "app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const top_keys[] = {"state",     "http",    "rules",  "inputs",
                                       "sinks",     "routes",  "notify", "inhibit",
                                       "log_level", "explain", NULL};
static const char *const inhibit_keys[] = {"source", "target", "equal", NULL};
static const char *const notify_keys[] = {"group_wait", "repeat_interval", "send_resolved",
                                          "max_age", NULL};
static const char *const route_keys[] = {"match", "match_re", "sinks", "continue", NULL};

static char *resolve_path(const struct lw_config *c, const char *p)
{
    if (p[0] == '/' || !c->dir[0])
        return lw_strdup(p);
    struct lw_buf b = {0};
    lw_buf_printf(&b, "%s/%s", c->dir, p);
    return lw_buf_steal(&b);
}

static void parse_rules(struct lw_config *c, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *n, struct lw_diag *diag)
{
    const char **globs;
    size_t cnt;
    if (lw_yaml_strlist(doc, n, &globs, &cnt, diag) < 0)
        return;
    for (size_t i = 0; i < cnt; i++) {
        const struct lw_yaml_node *at = n->type == LW_YAML_SEQ ? n->items[i] : n;
        char *pat = resolve_path(c, globs[i]);
        glob_t g;
        int rc = glob(pat, 0, NULL, &g);
        if (rc == GLOB_NOMATCH) {
            if (!strpbrk(globs[i], "*?["))
                lw_yaml_error(doc, at, diag, "rule file %s does not exist", pat);
            else
                lw_log(LW_WARN, "%s:%d:%d: rules glob %s matches no file", doc->file, at->line,
                       at->col, pat);
        } else if (rc != 0) {
            lw_yaml_error(doc, at, diag, "cannot expand %s", pat);
        } else {
            for (size_t j = 0; j < g.gl_pathc; j++) {
                c->rule_files =
                    lw_realloc(c->rule_files, (c->nrule_files + 1) * sizeof *c->rule_files);
                c->rule_files[c->nrule_files++] = lw_strdup(g.gl_pathv[j]);
            }
            globfree(&g);
        }
        free(pat);
    }
    free(globs);
}

/* The record labels an input's records can carry, for `check` to tell a field that no input of
 * an event ever sets: those the input sets (its ops' labels) and those its format's decoder
 * does. `path` counts for every input: replay and test set it to the file they read. */
static uint32_t input_label_mask(const struct lw_cfg_input *ci)
{
    uint32_t m = 1u << LW_L_INPUT | 1u << LW_L_PATH | lw_format_labels(ci->format);
    return ci->in ? m | ci->in->ops->labels : m;
}

static void parse_input(struct lw_config *c, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *n, struct lw_cfg_input *ci, uint32_t index,
                        struct lw_diag *diag)
{
    const struct lw_yaml_node *v;
    const char *s;
    const struct lw_input_ops *ops = NULL;
    ci->name = lw_strdup("");
    ci->type = lw_strdup("");
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "an input must be a map");
        return;
    }
    if (!(v = lw_yaml_get(n, "name"))) {
        lw_yaml_error(doc, n, diag, "input without a name");
    } else if (lw_yaml_str(doc, v, &s, diag) == 0) {
        free(ci->name);
        ci->name = lw_strdup(s);
        for (uint32_t i = 0; i < index; i++)
            if (!strcmp(c->inputs[i].name, s))
                lw_yaml_error(doc, v, diag, "input name '%s' is used twice", s);
    }
    if (!(v = lw_yaml_get(n, "type"))) {
        lw_yaml_error(doc, n, diag, "input %s has no type", ci->name);
        return;
    }
    if (lw_yaml_str(doc, v, &s, diag) < 0)
        return;
    free(ci->type);
    ci->type = lw_strdup(s);
    if (lw_input_planned(s)) {
        struct lw_buf names = {0};
        lw_input_type_names(&names);
        lw_yaml_error(doc, v, diag, "input type '%s' is not built yet (%s are)", s, names.p);
        lw_buf_free(&names);
        return;
    }
    if (!(ops = lw_input_find(s))) {
        struct lw_buf names = {0};
        lw_input_type_names(&names);
        lw_yaml_error(doc, v, diag, "unknown input type '%s' (%s)", s, names.p);
        lw_buf_free(&names);
        return;
    }
    /* The plugin's init checks the keys: the common ones and its own (lw_input_opts). */

    /* Timestamps without a zone (RFC 3164, format: syslog, strptime without %z) are local
     * times of this zone, as rsyslog reads them. */
    struct lw_input_common ic = {.format = ops->format, .tz = lw_tz_local()};
    char prefix[160];
    snprintf(prefix, sizeof prefix, "input %s", ci->name);
    struct lw_opt_ctx octx = {.dir = c->dir, .prefix = prefix};
    lw_opts_apply(lw_input_common_opts, &ic, doc, n, &octx, diag);
    ci->format = lw_format_on(ops->format, ic.format); /* json on syslog: syslog+json */
    ci->label_keys = ic.label_keys;
    ci->label_vals = ic.label_vals;
    ci->nlabels = ic.nlabels;
    ci->tz = ic.tz;
    ci->multiline = ic.multiline;
    ci->stale_after_ns = ic.stale_after_ns;
    const struct lw_yaml_node *ml = lw_yaml_get(n, "multiline");
    if (ml && ops->no_multiline)
        lw_yaml_error(doc, ml, diag,
                      "input %s: multiline is not for %s inputs: their messages arrive whole, "
                      "interleaved from many senders (join lines where they are written)",
                      ci->name, ops->type);

    struct lw_input *in = lw_calloc(1, sizeof *in);
    in->ops = ops;
    in->name = lw_strdup(ci->name);
    in->index = index;
    in->dir = c->dir;
    in->from_beginning = ic.from_beginning;
    in->max_line = ic.max_line ? (size_t)ic.max_line : LW_MAX_LINE_DEFAULT; /* 0: refused */
    ci->in = in;
    if (ops->init(in, doc, n, diag) < 0 && ops->free) {
        /* The plugin reported why; keep the struct so free() is uniform. */
    }
}

static void parse_sink(struct lw_config *c, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *n, struct lw_diag *diag)
{
    const struct lw_yaml_node *v;
    const char *name = NULL, *type = NULL;
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "a sink must be a map");
        return;
    }
    if (!(v = lw_yaml_get(n, "name")))
        lw_yaml_error(doc, n, diag, "sink without a name");
    else if (lw_yaml_str(doc, v, &name, diag) == 0)
        for (size_t i = 0; i < c->nsinks; i++)
            if (!strcmp(c->sinks[i]->name, name))
                lw_yaml_error(doc, v, diag, "sink name '%s' is used twice", name);
    if (!(v = lw_yaml_get(n, "type"))) {
        lw_yaml_error(doc, n, diag, "sink has no type");
        return;
    }
    if (lw_yaml_str(doc, v, &type, diag) < 0 || !name)
        return;

    const struct lw_sink_ops *ops = lw_sink_find(type);
    if (!ops) {
        struct lw_buf names = {0};
        lw_sink_type_names(&names);
        lw_yaml_error(doc, v, diag, "unknown sink type '%s' (%s)", type, names.p);
        lw_buf_free(&names);
        return;
    }
    /* A network sink needs libcurl, opened now rather than at start-up (curl_dl.c): when it is
     * missing, the config is refused with that reason (check, run, and a reload, which then
     * keeps the running set), where it used to end the process from inside the sink code. */
    struct lw_err err = {0};
    if (!ops->local && lw_curl_load(&err) < 0) {
        lw_yaml_error(doc, v, diag, "sink '%s': %s", name, err.msg);
        return;
    }
    struct lw_sink *s = lw_sink_new(ops, name, c->dir, doc, n, diag);
    if (!s)
        return;
    c->sinks = lw_realloc(c->sinks, (c->nsinks + 1) * sizeof *c->sinks);
    c->sinks[c->nsinks++] = s;
}

/* A map of label: value (or label: regex with op =~) into matchers appended to *m. */
static void parse_matchers(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n,
                           enum lw_match_op op, struct lw_matcher **m, size_t *cnt,
                           struct lw_diag *diag)
{
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "labels: expected a map");
        return;
    }
    *m = lw_realloc(*m, (*cnt + n->n + 1) * sizeof **m);
    for (size_t i = 0; i < n->n; i++) {
        const char *v;
        struct lw_err err = {0};
        if (lw_yaml_str(doc, n->items[i], &v, diag) < 0)
            continue;
        const char *name = n->keys[i]->str;
        if (lw_matcher_init(&(*m)[*cnt], name, strlen(name), op, v, &err) < 0)
            lw_yaml_error(doc, n->items[i], diag, "bad regex: %s", err.msg);
        else
            (*cnt)++;
    }
}

static void parse_route(struct lw_config *c, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *n, struct lw_notify_route *r,
                        struct lw_diag *diag)
{
    const struct lw_yaml_node *v;
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "a route must be a map");
        return;
    }
    lw_yaml_check_keys(doc, n, route_keys, "route", diag);
    if ((v = lw_yaml_get(n, "match")))
        parse_matchers(doc, v, LW_MATCH_EQ, &r->match, &r->nmatch, diag);
    if ((v = lw_yaml_get(n, "match_re")))
        parse_matchers(doc, v, LW_MATCH_RE, &r->match, &r->nmatch, diag);
    if (!(v = lw_yaml_get(n, "sinks"))) {
        lw_yaml_error(doc, n, diag, "route without sinks");
    } else {
        const char **names;
        size_t cnt;
        if (lw_yaml_strlist(doc, v, &names, &cnt, diag) == 0) {
            r->sinks = lw_calloc(cnt + 1, sizeof *r->sinks);
            for (size_t i = 0; i < cnt; i++) {
                size_t j;
                for (j = 0; j < c->nsinks; j++)
                    if (!strcmp(c->sinks[j]->name, names[i]))
                        break;
                if (j == c->nsinks)
                    lw_yaml_error(doc, v->type == LW_YAML_SEQ ? v->items[i] : v, diag,
                                  "unknown sink '%s'", names[i]);
                else
                    r->sinks[r->nsinks++] = j;
            }
            free(names);
        }
    }
    if ((v = lw_yaml_get(n, "continue")))
        lw_yaml_bool(doc, v, &r->cont, diag);
}

static void parse_inhibit(const struct lw_yaml_doc *doc, const struct lw_yaml_node *r,
                          struct lw_notify_inhibit *ih, struct lw_diag *diag)
{
    const struct lw_yaml_node *x;
    if (r->type != LW_YAML_MAP) {
        lw_yaml_error(doc, r, diag, "an inhibit rule is a map: source, target, equal");
        return;
    }
    lw_yaml_check_keys(doc, r, inhibit_keys, "inhibit rule", diag);
    if (!(x = lw_yaml_get(r, "source")))
        lw_yaml_error(doc, r, diag, "inhibit rule without a source");
    else
        parse_matchers(doc, x, LW_MATCH_EQ, &ih->source, &ih->nsource, diag);
    if (!(x = lw_yaml_get(r, "target")))
        lw_yaml_error(doc, r, diag, "inhibit rule without a target");
    else
        parse_matchers(doc, x, LW_MATCH_EQ, &ih->target, &ih->ntarget, diag);
    if ((x = lw_yaml_get(r, "equal"))) {
        const char **names;
        size_t cnt;
        if (lw_yaml_strlist(doc, x, &names, &cnt, diag) == 0) {
            ih->equal = lw_calloc(cnt + 1, sizeof *ih->equal);
            for (size_t k = 0; k < cnt; k++)
                ih->equal[k] = lw_strdup(names[k]);
            ih->nequal = cnt;
            free(names);
        }
    }
}

/* The notifier's view of the sinks: names, and how often each wants firing alerts again. */
static void notify_sinks(struct lw_config *c)
{
    c->notify.sinks = lw_calloc(c->nsinks + 1, sizeof *c->notify.sinks);
    for (size_t i = 0; i < c->nsinks; i++)
        c->notify.sinks[i] =
            (struct lw_notify_sink){lw_strdup(c->sinks[i]->name), c->sinks[i]->ops->resend_ns};
    c->notify.nsinks = c->nsinks;
}

/* The host part of HOST:PORT ("[::1]:9880" gives "::1"); false when there is no ':'. */
static bool listen_host(const char *listen, char *host, size_t size)
{
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : 0;
    if (!colon || n >= size)
        return false;
    if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']')
        listen++, n -= 2;
    memcpy(host, listen, n);
    host[n] = 0;
    return true;
}

bool lw_listen_is_loopback(const char *listen)
{
    char host[256];
    unsigned char a[16];
    if (!listen_host(listen, host, sizeof host))
        return false;
    if (!strcasecmp(host, "localhost") || !strcmp(host, "::1"))
        return true;
    return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

/* http.token_file: the token is the file's content without its trailing line break. A file
 * other users can read is refused: the token is a password. */
static char *read_token_file(const struct lw_config *c, const struct lw_yaml_doc *doc,
                             const struct lw_yaml_node *n, const char *rel, struct lw_diag *diag)
{
    char *path = resolve_path(c, rel), *tok = NULL;
    struct stat sb;
    FILE *f = fopen(path, "r");
    if (!f) {
        lw_yaml_error(doc, n, diag, "http.token_file: cannot open %s: %s", path, strerror(errno));
    } else if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & S_IROTH)) {
        lw_yaml_error(doc, n, diag,
                      "http.token_file: %s is readable by every user: chmod o-r (600 or 640)",
                      path);
    } else {
        struct lw_buf b = {0};
        char chunk[512];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < 4096)
            lw_buf_append(&b, chunk, k);
        while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
            b.p[--b.len] = 0;
        tok = b.p ? lw_buf_steal(&b) : lw_strdup("");
        memset(chunk, 0, sizeof chunk);
    }
    if (f)
        fclose(f);
    free(path);
    return tok;
}

/* A bearer token is printable ASCII without spaces (RFC 6750's token68 and a little more). */
static bool token_ok(const char *t)
{
    for (; *t; t++)
        if (*t <= ' ' || *t > '~')
            return false;
    return true;
}

static void parse_http_token(struct lw_config *c, const struct lw_yaml_doc *doc,
                             const struct lw_yaml_node *v, struct lw_diag *diag)
{
    const struct lw_yaml_node *t = lw_yaml_get(v, "token"), *tf = lw_yaml_get(v, "token_file");
    const struct lw_yaml_node *at = t ? t : tf;
    const char *s;
    struct lw_err err = {0};
    if (t && tf) {
        lw_yaml_error(doc, tf, diag, "http: token and token_file are exclusive: pick one");
        return;
    }
    if (t && lw_yaml_str(doc, t, &s, diag) == 0 && lw_expand_env(s, &c->http_token, &err) < 0)
        lw_yaml_error(doc, t, diag, "http.token: %s", err.msg);
    if (tf && lw_yaml_str(doc, tf, &s, diag) == 0)
        c->http_token = read_token_file(c, doc, tf, s, diag);
    if (!c->http_token)
        return;
    lw_secret_add(c->http_token);
    if (strlen(c->http_token) < LW_SECRET_MIN)
        lw_yaml_error(doc, at, diag,
                      "http.token: shorter than %d characters (use e.g. "
                      "`openssl rand -hex 32`)",
                      LW_SECRET_MIN);
    else if (!token_ok(c->http_token))
        lw_yaml_error(doc, at, diag,
                      "http.token: only printable characters without spaces are allowed");
    else if (strlen(c->http_token) < 16)
        lw_log(LW_WARN, "%s:%d:%d: http.token is short (under 16 characters): easy to guess",
               doc->file, at->line, at->col);
}

/* http: {listen, token | token_file, public_reads, protect_metrics, hosts}. A listen address
 * other hosts can reach needs a token: the API creates silences. */
static void parse_http(struct lw_config *c, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *v, struct lw_diag *diag)
{
    static const char *const http_keys[] = {
        "listen", "token", "token_file", "public_reads", "protect_metrics", "hosts", NULL};
    const struct lw_yaml_node *l = lw_yaml_get(v, "listen"), *x;
    const char *s;
    if (v->type != LW_YAML_MAP) {
        lw_yaml_error(doc, v, diag, "http: expected a map (listen, token, ...)");
        return;
    }
    lw_yaml_check_keys(doc, v, http_keys, "http", diag);
    if (l && lw_yaml_str(doc, l, &s, diag) == 0)
        c->http_listen = lw_strdup(s);
    else if (!l)
        c->http_listen = lw_strdup("127.0.0.1:9880"); /* loopback unless asked otherwise */
    parse_http_token(c, doc, v, diag);
    if ((x = lw_yaml_get(v, "public_reads")))
        lw_yaml_bool(doc, x, &c->http_public_reads, diag);
    if ((x = lw_yaml_get(v, "protect_metrics")))
        lw_yaml_bool(doc, x, &c->http_protect_metrics, diag);
    if ((x = lw_yaml_get(v, "hosts"))) {
        const char **names;
        size_t cnt;
        if (lw_yaml_strlist(doc, x, &names, &cnt, diag) == 0) {
            c->http_hosts = lw_calloc(cnt + 1, sizeof *c->http_hosts);
            for (size_t i = 0; i < cnt; i++)
                c->http_hosts[c->nhttp_hosts++] = lw_strdup(names[i]);
            free(names);
        }
    }
    if (c->http_listen && !c->http_token && !lw_listen_is_loopback(c->http_listen))
        lw_yaml_error(doc, l ? l : v, diag,
                      "http.listen: %s can be reached from other hosts: set http.token (or "
                      "token_file) so the API needs `Authorization: Bearer TOKEN`, or listen on "
                      "127.0.0.1",
                      c->http_listen);
    if (c->http_protect_metrics && !c->http_token)
        lw_yaml_error(doc, lw_yaml_get(v, "protect_metrics"), diag,
                      "http.protect_metrics: needs http.token (or token_file)");
}

/* explain: {sample_lines: 20, memory: 16MiB}: memory is bytes, or a number with KiB, MiB or
 * GiB. */
static void parse_explain(struct lw_config *c, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *v, struct lw_diag *diag)
{
    static const char *const keys[] = {"sample_lines", "memory", NULL};
    const struct lw_yaml_node *x;
    int64_t n;
    if (v->type != LW_YAML_MAP) {
        lw_yaml_error(doc, v, diag, "explain: expected a map (sample_lines, memory)");
        return;
    }
    lw_yaml_check_keys(doc, v, keys, "explain", diag);
    if ((x = lw_yaml_get(v, "sample_lines")) && lw_yaml_int(doc, x, &n, diag) == 0) {
        if (n < 0 || n > 1000)
            lw_yaml_error(doc, x, diag, "explain.sample_lines: must be 0 to 1000");
        else
            c->explain_lines = (size_t)n;
    }
    if ((x = lw_yaml_get(v, "memory"))) {
        const char *s;
        char *end;
        if (lw_yaml_str(doc, x, &s, diag) < 0)
            return;
        double d = strtod(s, &end);
        while (*end == ' ')
            end++;
        double mult = !*end || !strcmp(end, "B")                 ? 1
                      : !strcmp(end, "KiB") || !strcmp(end, "K") ? 1024
                      : !strcmp(end, "MiB") || !strcmp(end, "M") ? 1024.0 * 1024
                      : !strcmp(end, "GiB") || !strcmp(end, "G") ? 1024.0 * 1024 * 1024
                                                                 : -1;
        if (end == s || mult < 0 || !(d >= 0) || d * mult > 64.0 * 1024 * 1024 * 1024)
            lw_yaml_error(doc, x, diag,
                          "explain.memory: '%s' is not a size (bytes, or a number with KiB, MiB "
                          "or GiB, at most 64GiB)",
                          s);
        else
            c->explain_memory = (size_t)(d * mult);
    }
}

int lw_config_load(struct lw_config **out, const char *path, struct lw_diag *diag)
{
    struct lw_yaml_doc *doc = NULL;
    struct lw_config *c = lw_calloc(1, sizeof *c);
    size_t errors0 = diag->n;
    const struct lw_yaml_node *root, *v;
    const char *s;

    c->path = lw_strdup(path);
    {
        char *tmp = lw_strdup(path);
        c->dir = lw_strdup(dirname(tmp));
        free(tmp);
    }
    c->notify.send_resolved = true;
    c->notify.repeat_interval_ns = 4 * 3600 * LW_NS_PER_SEC;
    c->max_age_ns = 24 * 3600 * LW_NS_PER_SEC;
    c->explain_lines = 20;
    c->explain_memory = 16 * 1024 * 1024;
    if (lw_yaml_load_file(&doc, path, diag) < 0)
        goto out;
    root = doc->root;
    if (!root || root->type != LW_YAML_MAP) {
        lw_yaml_error(doc, root, diag, "a config file is a map (state, rules, inputs, sinks...)");
        goto out;
    }
    lw_yaml_check_keys(doc, root, top_keys, "config", diag);
    c->state = resolve_path(c, "logwarden.db");
    if ((v = lw_yaml_get(root, "state")) && lw_yaml_str(doc, v, &s, diag) == 0) {
        free(c->state);
        c->state = resolve_path(c, s);
    }
    if ((v = lw_yaml_get(root, "http")))
        parse_http(c, doc, v, diag);
    if ((v = lw_yaml_get(root, "explain")))
        parse_explain(c, doc, v, diag);
    if ((v = lw_yaml_get(root, "rules")))
        parse_rules(c, doc, v, diag);
    if ((v = lw_yaml_get(root, "inputs"))) {
        if (v->type != LW_YAML_SEQ) {
            lw_yaml_error(doc, v, diag, "inputs: expected a list");
        } else {
            c->inputs = lw_calloc(v->n + 1, sizeof *c->inputs);
            c->rinputs = lw_calloc(v->n + 1, sizeof *c->rinputs);
            for (size_t i = 0; i < v->n; i++) {
                parse_input(c, doc, v->items[i], &c->inputs[i], (uint32_t)i, diag);
                c->ninputs++;
            }
            for (size_t i = 0; i < c->ninputs; i++)
                c->rinputs[i] = (struct lw_rules_input){
                    .name = c->inputs[i].name,
                    .type = c->inputs[i].type,
                    .body = lw_format_body(c->inputs[i].format),
                    .label_mask = input_label_mask(&c->inputs[i]),
                    .label_keys = (const char *const *)c->inputs[i].label_keys,
                    .label_vals = (const char *const *)c->inputs[i].label_vals,
                    .nlabels = c->inputs[i].nlabels};
        }
    }
    if ((v = lw_yaml_get(root, "sinks"))) {
        if (v->type != LW_YAML_SEQ)
            lw_yaml_error(doc, v, diag, "sinks: expected a list");
        else
            for (size_t i = 0; i < v->n; i++)
                parse_sink(c, doc, v->items[i], diag);
    }
    notify_sinks(c);
    if ((v = lw_yaml_get(root, "routes"))) {
        if (v->type != LW_YAML_SEQ) {
            lw_yaml_error(doc, v, diag, "routes: expected a list");
        } else {
            struct lw_notify_cfg *nc = &c->notify;
            nc->routes = lw_calloc(v->n + 1, sizeof *nc->routes);
            for (size_t i = 0; i < v->n; i++)
                parse_route(c, doc, v->items[i], &nc->routes[nc->nroutes++], diag);
        }
    }
    if ((v = lw_yaml_get(root, "inhibit"))) {
        if (v->type != LW_YAML_SEQ) {
            lw_yaml_error(doc, v, diag, "inhibit: expected a list");
        } else {
            struct lw_notify_cfg *nc = &c->notify;
            nc->inhibits = lw_calloc(v->n + 1, sizeof *nc->inhibits);
            for (size_t i = 0; i < v->n; i++)
                parse_inhibit(doc, v->items[i], &nc->inhibits[nc->ninhibits++], diag);
        }
    }
    if ((v = lw_yaml_get(root, "notify"))) {
        const struct lw_yaml_node *x;
        lw_yaml_check_keys(doc, v, notify_keys, "notify", diag);
        if ((x = lw_yaml_get(v, "group_wait")))
            lw_yaml_duration(doc, x, &c->notify.group_wait_ns, diag);
        if ((x = lw_yaml_get(v, "repeat_interval")))
            lw_yaml_duration(doc, x, &c->notify.repeat_interval_ns, diag);
        if ((x = lw_yaml_get(v, "send_resolved")))
            lw_yaml_bool(doc, x, &c->notify.send_resolved, diag);
        if ((x = lw_yaml_get(v, "max_age")))
            lw_yaml_duration(doc, x, &c->max_age_ns, diag);
    }
    if ((v = lw_yaml_get(root, "log_level")) && lw_yaml_str(doc, v, &s, diag) == 0) {
        static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
        int l;
        for (l = 0; levels[l] && strcmp(levels[l], s); l++)
            ;
        if (!levels[l])
            lw_yaml_error(doc, v, diag, "log_level: error, warn, info or debug");
        else
            lw_log_set_level(l);
    }
out:
    lw_yaml_free(doc);
    if (diag->n > errors0) {
        lw_config_free(c);
        *out = NULL;
        return LW_EINVAL;
    }
    *out = c;
    return 0;
}

int lw_config_rules(const struct lw_config *c, struct lw_ruleset **out, struct lw_diag *diag)
{
    return lw_config_rules_warn(c, out, diag, NULL);
}

int lw_config_rules_warn(const struct lw_config *c, struct lw_ruleset **out, struct lw_diag *diag,
                         struct lw_diag *warnings)
{
    struct lw_rules_env env = {c->rinputs, c->ninputs, warnings};
    int rc = lw_ruleset_load(out, (const char *const *)c->rule_files, c->nrule_files, &env, diag);
    if (rc == 0 && warnings)
        lw_config_split_warnings(c, *out, warnings);
    return rc;
}

/* Whether every name of keys[0..n) is one of a's group_by fields. */
static bool groups_by_all(const struct lw_alert_def *a, const char *const *keys, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        bool found = false;
        for (size_t g = 0; g < a->ngroup && !found; g++)
            found = !strcmp(a->group_by[g], keys[k]);
        if (!found)
            return false;
    }
    return true;
}

static void put_names(struct lw_buf *b, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lw_buf_printf(b, "%s%s", i ? ", " : "", names[i]);
}

/* A consumer group hands each instance some partitions, and a producer puts the messages of one
 * key in one partition: a group whose messages carry different keys is counted in pieces, one
 * per instance, none of which may cross the threshold. Said once per alert and input. */
size_t lw_config_split_warnings(const struct lw_config *c, const struct lw_ruleset *rs,
                                struct lw_diag *warnings)
{
    size_t n = 0;
    for (size_t i = 0; rs && i < c->ninputs; i++) {
        const struct lw_input *in = c->inputs[i].in;
        const char *const *keys = NULL;
        size_t nkeys;
        if (!in || !in->ops->key_fields || !(nkeys = in->ops->key_fields(in, &keys)))
            continue;
        for (size_t j = 0; j < rs->nalerts; j++) {
            const struct lw_alert_def *a = &rs->alerts[j];
            if (a->accept_split || a->event < 0 || (size_t)a->event >= rs->nevents)
                continue;
            const struct lw_event_def *ev = &rs->events[a->event];
            if ((ev->on_input && !ev->on_input[i]) || groups_by_all(a, keys, nkeys))
                continue;
            struct lw_buf gb = {0}, kb = {0}, fix = {0};
            if (a->ngroup) {
                lw_buf_puts(&gb, "groups by [");
                put_names(&gb, (const char *const *)a->group_by, a->ngroup);
                lw_buf_puts(&gb, "]");
            } else {
                lw_buf_puts(&gb, "has no group_by (one group of every event)");
            }
            put_names(&kb, keys, nkeys);
            put_names(&fix, (const char *const *)a->group_by, a->ngroup);
            for (size_t k = 0; k < nkeys; k++)
                if (!groups_by_all(a, &keys[k], 1))
                    lw_buf_printf(&fix, "%s%s", fix.len ? ", " : "", keys[k]);
            lw_diag_add(warnings, a->file, a->line, a->col,
                        "warning: alert %s %s, but input %s (a consumer group) "
                        "shares messages among instances by [%s]: each instance counts only its "
                        "own partitions' part of a group, and may never cross the threshold; "
                        "add the key to group_by (group_by: [%s]), key the messages by the "
                        "group_by fields (docs/scale-out.md), or set accept_split: true",
                        a->name, gb.p, in->name, kb.p, fix.p);
            lw_buf_free(&gb);
            lw_buf_free(&kb);
            lw_buf_free(&fix);
            n++;
        }
    }
    return n;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void lw_config_free(struct lw_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->dir);
    free(c->state);
    free(c->http_listen);
    if (c->http_token) {
        memset(c->http_token, 0, strlen(c->http_token));
        free(c->http_token);
    }
    free_strv(c->http_hosts, c->nhttp_hosts);
    free_strv(c->rule_files, c->nrule_files);
    for (size_t i = 0; i < c->ninputs; i++) {
        struct lw_cfg_input *ci = &c->inputs[i];
        free(ci->name);
        free(ci->type);
        free_strv(ci->label_keys, ci->nlabels);
        free_strv(ci->label_vals, ci->nlabels);
        lw_multiline_cfg_free(ci->multiline);
        if (ci->in) {
            if (ci->in->ops->free)
                ci->in->ops->free(ci->in);
            free(ci->in->name);
            free(ci->in);
        }
    }
    free(c->inputs);
    free(c->rinputs);
    for (size_t i = 0; i < c->nsinks; i++)
        lw_sink_free(c->sinks[i]);
    free(c->sinks);
    lw_notify_cfg_free(&c->notify);
    free(c);
}
