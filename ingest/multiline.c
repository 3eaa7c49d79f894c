/* multiline.c: joins the lines of one stream into multiline records (stack traces), by the
 * input's `multiline:` regexes or a preset, with line, byte and time limits.
 *
 * A config is a few rules (state, regex, action, next state), as Fluent Bit's multiline parsers
 * are: the first rule of the current state whose regex matches a line says whether the line
 * joins the pending record or begins a new one; a line no rule matches takes the config's
 * default action and state 0. `start:` is one rule (match: begin; default: join), `continue:`
 * one rule (match: join; default: begin); the presets need a little state (a Python traceback's
 * exception line joins only after the frames).
 *
 * Crash semantics: nothing here is committed. A pending record is held in memory; the daemon
 * checkpoints only up to the cursor before its first line (lw_multiline_pending), so a record a
 * crash cut is read again whole. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ingest.h"
#include "ingest_int.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on the user's regexes, as the rules' (rules.h): a pathological pattern costs a
 * non-match, not the pipeline. */
#define ML_MATCH_LIMIT 1000000
#define ML_DEPTH_LIMIT 10000
#define ML_HEAP_LIMIT_KIB 8192
#define ML_MAX_RULES 8
/* Buffers larger than this are freed once their record is done with: one big trace does not
 * leave each followed file holding its size. */
#define ML_KEEP_BYTES (16 * 1024)
#define ML_ANY (-1)                       /* a rule for every state */
#define ML_LOG_EVERY (60 * LW_NS_PER_SEC) /* cut records are logged at most once a minute */

enum ml_act { ML_BEGIN, ML_JOIN };

struct ml_rule {
    int from; /* the state it applies in, or ML_ANY */
    pcre2_code *re;
    enum ml_act act;
    int to; /* the state after a line it matched */
};

struct lw_multiline_cfg {
    const char *name;
    struct ml_rule rules[ML_MAX_RULES];
    size_t nrules;
    enum ml_act dflt; /* for a line no rule matches */
    int64_t max_lines, max_bytes, timeout_ns;
    pcre2_match_context *mctx;
};

struct lw_multiline {
    const struct lw_multiline_cfg *cfg;
    pcre2_match_data *md;
    size_t max_lines, max_bytes;
    struct lw_join_stats *stats;
    const char *name;
    int state;
    /* The pending record: its bytes and a copy of its labels (pointers into lab). */
    bool pending;
    struct lw_rec rec;
    struct lw_buf body, lab;
    size_t nlines;
    int64_t from, last_ns;
    /* The record handed out last (buffers swapped with the pending one's). */
    struct lw_buf obody, olab;
    struct lw_ratelimit rl;
};

/* ---------------------------------------------------------------- presets */

struct preset_rule {
    int from;
    const char *re;
    enum ml_act act;
    int to;
};

struct preset {
    const char *name;
    enum ml_act dflt;
    struct preset_rule rules[ML_MAX_RULES];
};

/* Python traceback states. */
enum { PY_NONE, PY_FRAMES, PY_EXC, PY_CHAIN };
/* Go panic states. */
enum { GO_NONE, GO_PANIC };

/* What the runtimes print (tests/data/multiline/ has one of each, made by the runtimes):
 * - Java (Throwable.printStackTrace, and every logging library that calls it): the exception's
 *   class and message, "\tat frame", "Caused by: ...", "\t... 12 more", "\tSuppressed: ...". The
 *   exception line joins the log line before it when its class is package-qualified and named
 *   ...Exception, ...Error or ...Throwable (a logger's message line, then the trace; not a
 *   logger's "org.acme.Client: message" line), and begins a record when printed alone
 *   ("Exception in thread "main" ...").
 * - Python: "Traceback (most recent call last):", indented frames, then the exception at column
 *   0; chained exceptions repeat it after a blank line and "During handling of the above
 *   exception, another exception occurred:" or "The above exception was the direct cause...".
 *   The traceback joins the line before it (logging.exception's message).
 * - Go: "panic: ..." or "fatal error: ...", a blank line, then per goroutine "goroutine N
 *   [state]:", function lines at column 0 and "\tfile:line +0x.." lines, "created by ...". */
static const struct preset presets[] = {
    {"java",
     ML_BEGIN,
     {{ML_ANY,
       "^(?:[ \\t]+at [^ ]|[ \\t]+\\.\\.\\. [0-9]+ (?:more|common frames omitted)$|[ \\t]*Caused "
       "by: |[ \\t]+Suppressed: "
       "|[A-Za-z_$][\\w$]*(?:\\.[\\w$]+)*\\.[\\w$]*(?:Exception|Error|Throwable)[\\w$]*(?::|$))",
       ML_JOIN, 0}}},
    {"python",
     ML_BEGIN,
     {{ML_ANY, "^Traceback \\(most recent call last\\):$", ML_JOIN, PY_FRAMES},
      {PY_FRAMES, "^[ \\t]", ML_JOIN, PY_FRAMES},
      {PY_FRAMES, "^[^ \\t]", ML_JOIN, PY_EXC},
      {PY_EXC,
       "^(?:During handling of the above exception, another exception occurred|The above "
       "exception was the direct cause of the following exception):$",
       ML_JOIN, PY_CHAIN},
      {PY_EXC, "^$", ML_JOIN, PY_EXC},
      {PY_CHAIN, "^$", ML_JOIN, PY_CHAIN}}},
    {"go",
     ML_BEGIN,
     {{ML_ANY, "^(?:panic: |fatal error: |SIG[A-Z]+: )", ML_BEGIN, GO_PANIC},
      {GO_PANIC,
       "^(?:$|\\t|goroutine [0-9]+ |\\[signal |created by |exit status [0-9]+$|\\.\\.\\.|runtime "
       "stack:$|[^\\s(]\\S*\\(.*\\)$|[a-z0-9]{1,4} +0x[0-9a-f]+$|PC=)",
       ML_JOIN, GO_PANIC}}},
};

/* ---------------------------------------------------------------- config */

static pcre2_code *compile(const char *re, size_t n, const struct lw_yaml_doc *doc,
                           const struct lw_yaml_node *at, struct lw_diag *diag)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *p = pcre2_compile((PCRE2_SPTR)re, n, 0, &code, &off, NULL);
    if (!p) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        lw_yaml_error(doc, at, diag, "multiline: bad regex at offset %zu: %s", (size_t)off,
                      (const char *)msg);
        return NULL;
    }
    /* JIT only makes it faster; without it the interpreter runs the same pattern. */
    pcre2_jit_compile(p, PCRE2_JIT_COMPLETE);
    return p;
}

static struct lw_multiline_cfg *cfg_new(const char *name)
{
    struct lw_multiline_cfg *c = lw_calloc(1, sizeof *c);
    c->name = name;
    c->max_lines = LW_ML_MAX_LINES_DEFAULT;
    c->timeout_ns = LW_ML_TIMEOUT_DEFAULT;
    c->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(c->mctx, ML_MATCH_LIMIT);
    pcre2_set_depth_limit(c->mctx, ML_DEPTH_LIMIT);
    pcre2_set_heap_limit(c->mctx, ML_HEAP_LIMIT_KIB);
    return c;
}

static int from_preset(struct lw_multiline_cfg *c, const struct preset *p,
                       const struct lw_yaml_doc *doc, const struct lw_yaml_node *at,
                       struct lw_diag *diag)
{
    c->name = p->name;
    c->dflt = p->dflt;
    for (size_t i = 0; i < ML_MAX_RULES && p->rules[i].re; i++) {
        const struct preset_rule *r = &p->rules[i];
        struct ml_rule *o = &c->rules[c->nrules];
        o->re = compile(r->re, strlen(r->re), doc, at, diag);
        LW_INVARIANT(o->re != NULL); /* ours: a bad preset is a programming error */
        o->from = r->from;
        o->act = r->act;
        o->to = r->to;
        c->nrules++;
    }
    return 0;
}

static const struct preset *find_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name))
            return &presets[i];
    return NULL;
}

static int read_limits(struct lw_multiline_cfg *c, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *n, struct lw_diag *diag)
{
    const struct lw_yaml_node *v;
    int rc = 0;
    if ((v = lw_yaml_get(n, "max_lines"))) {
        if (lw_yaml_int(doc, v, &c->max_lines, diag) < 0)
            rc = LW_EINVAL;
        else if (c->max_lines < 1 || c->max_lines > 100000) {
            lw_yaml_error(doc, v, diag, "multiline: max_lines must be 1 to 100000");
            rc = LW_EINVAL;
        }
    }
    if ((v = lw_yaml_get(n, "max_bytes"))) {
        if (lw_yaml_int(doc, v, &c->max_bytes, diag) < 0)
            rc = LW_EINVAL;
        else if (c->max_bytes < 64 || c->max_bytes > (64 << 20)) {
            lw_yaml_error(doc, v, diag, "multiline: max_bytes must be 64 B to 64 MiB");
            rc = LW_EINVAL;
        }
    }
    if ((v = lw_yaml_get(n, "timeout"))) {
        if (lw_yaml_duration(doc, v, &c->timeout_ns, diag) < 0)
            rc = LW_EINVAL;
        else if (c->timeout_ns < LW_NS_PER_SEC / 100 || c->timeout_ns > 3600 * LW_NS_PER_SEC) {
            lw_yaml_error(doc, v, diag, "multiline: timeout must be 10ms to 1h");
            rc = LW_EINVAL;
        }
    }
    return rc;
}

/* The map form: exactly one of start, continue, preset; and the limits. */
static int read_map(struct lw_multiline_cfg *c, const struct lw_yaml_doc *doc,
                    const struct lw_yaml_node *n, struct lw_diag *diag)
{
    static const char *const keys[] = {"start",     "continue", "preset", "max_lines",
                                       "max_bytes", "timeout",  NULL};
    const struct lw_yaml_node *st = lw_yaml_get(n, "start"), *co = lw_yaml_get(n, "continue"),
                              *pr = lw_yaml_get(n, "preset");
    const char *s;
    int rc = 0;
    if (lw_yaml_check_keys(doc, n, keys, "multiline", diag) > 0)
        rc = LW_EINVAL;
    if ((st != NULL) + (co != NULL) + (pr != NULL) != 1) {
        lw_yaml_error(doc, n, diag,
                      "multiline: give one of start: REGEX, continue: REGEX or "
                      "preset: java|python|go");
        return LW_EINVAL;
    }
    const struct lw_yaml_node *v = st ? st : co ? co : pr;
    if (lw_yaml_str(doc, v, &s, diag) < 0)
        return LW_EINVAL;
    if (pr) {
        const struct preset *p = find_preset(s);
        if (!p) {
            lw_yaml_error(doc, v, diag, "multiline: unknown preset '%s' (java, python, go)", s);
            return LW_EINVAL;
        }
        from_preset(c, p, doc, v, diag);
    } else {
        c->rules[0] =
            (struct ml_rule){ML_ANY, compile(s, v->len, doc, v, diag), st ? ML_BEGIN : ML_JOIN, 0};
        if (!c->rules[0].re)
            return LW_EINVAL;
        c->nrules = 1;
        c->name = st ? "start" : "continue";
        c->dflt = st ? ML_JOIN : ML_BEGIN;
    }
    return read_limits(c, doc, n, diag) < 0 ? LW_EINVAL : rc;
}

int lw_multiline_cfg_parse(struct lw_multiline_cfg **out, const struct lw_yaml_doc *doc,
                           const struct lw_yaml_node *n, struct lw_diag *diag)
{
    struct lw_multiline_cfg *c = cfg_new("continue");
    int rc;
    *out = NULL;
    if (n->type == LW_YAML_SCALAR) {
        const struct preset *p = find_preset(n->str);
        if (!p) {
            lw_yaml_error(doc, n, diag,
                          "multiline: unknown preset '%s' (java, python, go; or a map with "
                          "start: or continue:)",
                          n->str);
            rc = LW_EINVAL;
        } else {
            rc = from_preset(c, p, doc, n, diag);
        }
    } else if (n->type == LW_YAML_MAP) {
        rc = read_map(c, doc, n, diag);
    } else {
        lw_yaml_error(doc, n, diag, "multiline: expected a preset (java, python, go) or a map");
        rc = LW_EINVAL;
    }
    if (rc < 0) {
        lw_multiline_cfg_free(c);
        return LW_EINVAL;
    }
    *out = c;
    return 0;
}

void lw_multiline_cfg_free(struct lw_multiline_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nrules; i++)
        pcre2_code_free(c->rules[i].re);
    pcre2_match_context_free(c->mctx);
    free(c);
}

int64_t lw_multiline_timeout(const struct lw_multiline_cfg *c)
{
    return c->timeout_ns;
}

const char *lw_multiline_cfg_name(const struct lw_multiline_cfg *c)
{
    return c->name;
}

/* ---------------------------------------------------------------- joiner */

struct lw_multiline *lw_multiline_new(const struct lw_multiline_cfg *cfg, size_t max_line,
                                      struct lw_join_stats *stats, const char *name)
{
    struct lw_multiline *m = lw_calloc(1, sizeof *m);
    m->cfg = cfg;
    m->md = pcre2_match_data_create(1, NULL);
    m->max_lines = (size_t)cfg->max_lines;
    m->max_bytes = cfg->max_bytes ? (size_t)cfg->max_bytes : max_line;
    m->stats = stats;
    m->name = name ? name : "";
    return m;
}

void lw_multiline_free(struct lw_multiline *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    lw_buf_free(&m->body);
    lw_buf_free(&m->lab);
    lw_buf_free(&m->obody);
    lw_buf_free(&m->olab);
    free(m);
}

static bool matches(struct lw_multiline *m, const pcre2_code *re, struct lw_str s)
{
    /* A limit hit (rc < -1) is a non-match: the line begins its own record, nothing is lost. */
    return pcre2_match(re, (PCRE2_SPTR)(s.p ? s.p : ""), s.n, 0, 0, m->md, m->cfg->mctx) >= 0;
}

/* Whether line joins the pending record; moves the state. */
static enum ml_act classify(struct lw_multiline *m, struct lw_str line)
{
    const struct lw_multiline_cfg *c = m->cfg;
    for (size_t i = 0; i < c->nrules; i++) {
        const struct ml_rule *r = &c->rules[i];
        if ((r->from == ML_ANY || r->from == m->state) && matches(m, r->re, line)) {
            m->state = r->to;
            return r->act;
        }
    }
    m->state = 0;
    return c->dflt;
}

static void add(struct lw_join_stats *s, _Atomic uint64_t *what)
{
    if (s)
        atomic_fetch_add_explicit(what, 1, memory_order_relaxed);
}

static void count_cut(struct lw_multiline *m, bool lines)
{
    if (m->stats)
        add(m->stats, lines ? &m->stats->cut_lines : &m->stats->cut_bytes);
    if (lw_ingest__ratelimit(&m->rl, ML_LOG_EVERY))
        lw_log(LW_WARN,
               "[input:%s] a multiline record reached %s (%zu): cut there, the rest begins a new "
               "record (logwarden_multiline_cut_total; %llu more not logged)",
               m->name, lines ? "max_lines" : "max_bytes", lines ? m->max_lines : m->max_bytes,
               (unsigned long long)m->rl.suppressed);
}

/* Copies r's labels (and its syslog structured data) into lab and points dst's at them (NULL
 * stays NULL: absent). */
static void copy_labels(struct lw_buf *lab, const struct lw_rec *r, struct lw_rec *dst)
{
    size_t total = r->sd.n;
    lw_buf_reset(lab);
    for (int i = 0; i < LW_L_COUNT; i++)
        total += r->labels[i].n;
    lw_buf_reserve(lab, total + 1);
    if (r->sd.n) {
        dst->sd = (struct lw_str){lab->p + lab->len, r->sd.n};
        lw_buf_append(lab, r->sd.p, r->sd.n);
    }
    for (int i = 0; i < LW_L_COUNT; i++) {
        if (!r->labels[i].p)
            continue;
        dst->labels[i] = (struct lw_str){lab->p + lab->len, r->labels[i].n};
        lw_buf_append(lab, r->labels[i].p, r->labels[i].n);
    }
}

static void trim(struct lw_buf *b)
{
    if (b->cap > ML_KEEP_BYTES)
        lw_buf_free(b);
}

static void begin(struct lw_multiline *m, const struct lw_rec *r, int64_t from)
{
    size_t n = r->body.n;
    m->rec = *r;
    copy_labels(&m->lab, r, &m->rec);
    trim(&m->body);
    lw_buf_reset(&m->body);
    if (n > m->max_bytes) {
        n = m->max_bytes;
        count_cut(m, false);
    }
    lw_buf_append(&m->body, r->body.p ? r->body.p : "", n);
    m->nlines = 1;
    m->from = from;
    m->last_ns = r->recv_ns;
    m->pending = true;
}

/* Hands out the pending record: its buffers become the "handed out" ones. */
static void emit(struct lw_multiline *m, struct lw_rec *out)
{
    struct lw_buf t = m->obody;
    m->obody = m->body;
    m->body = t;
    t = m->olab;
    m->olab = m->lab;
    m->lab = t;
    *out = m->rec;
    out->body = (struct lw_str){m->obody.p ? m->obody.p : "", m->obody.len};
    if (m->nlines > 1 && m->stats)
        add(m->stats, &m->stats->records);
    m->pending = false;
}

int lw_multiline_feed(struct lw_multiline *m, const struct lw_rec *r, int64_t from,
                      struct lw_rec *out)
{
    trim(&m->obody); /* the record handed out last is done with */
    enum ml_act act = classify(m, r->body);
    if (act == ML_JOIN && m->pending) {
        bool over_lines = m->nlines >= m->max_lines;
        if (!over_lines && m->body.len + 1 + r->body.n <= m->max_bytes) {
            lw_buf_putc(&m->body, '\n');
            lw_buf_append(&m->body, r->body.p, r->body.n);
            m->nlines++;
            m->last_ns = r->recv_ns;
            return 0;
        }
        count_cut(m, over_lines);
    }
    int rc = 0;
    if (m->pending) {
        emit(m, out);
        rc = 1;
    }
    begin(m, r, from);
    return rc;
}

int lw_multiline_flush(struct lw_multiline *m, struct lw_rec *out)
{
    trim(&m->obody);
    if (!m->pending)
        return 0;
    emit(m, out);
    m->state = 0;
    return 1;
}

bool lw_multiline_pending(const struct lw_multiline *m, int64_t *from)
{
    if (m->pending && from)
        *from = m->from;
    return m->pending;
}

bool lw_multiline_expired(const struct lw_multiline *m, int64_t now_ns)
{
    return m->pending && now_ns - m->last_ns >= m->cfg->timeout_ns;
}
