/* load.c: reads rule files (patterns, events, alerts) into an immutable ruleset, reporting every
 * problem as FILE:LINE:COL: message and never returning a half-loaded set. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "decode.h"
#include "expr.h"
#include "kinds.h"
#include "required.h"
#include "lw_yaml.h"
#include "rules.h"
#include "template.h"
#include "timefmt.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERN_DEPTH 32
#define MAX_PATTERN_BYTES (64u << 10)

/* An alert's keys besides its kind (the kinds' names follow them in loader.alert_keys). */
static const char *const alert_common_keys[] = {
    "name",     "event",  "window",      "group_by",   "for",         "keep_firing_for",
    "severity", "labels", "annotations", "max_groups", "description", "accept_split",
    NULL};
#define N_COMMON_KEYS (sizeof alert_common_keys / sizeof *alert_common_keys - 1)

struct pattern {
    const char *name;
    const char *src;
    const struct lw_yaml_doc *doc;
    const struct lw_yaml_node *node;
};

struct loader {
    struct lw_diag *diag;
    const struct lw_rules_env *env;
    struct lw_yaml_doc **docs;
    size_t ndocs;
    struct pattern *pats;
    size_t npats;
    struct lw_ruleset *rs;
    size_t errors0;
    const char *alert_keys[N_COMMON_KEYS + LW_K_NKINDS + 1]; /* alert_common_keys, the kinds */
};

static const char *const file_keys[] = {"patterns", "events", "alerts", NULL};
static const char *const event_keys[] = {"name",  "inputs",    "match",       "fields",
                                         "where", "timestamp", "description", NULL};
static const char *const ts_keys[] = {"field", "format", NULL};

/* ---------------------------------------------------------------- patterns */

static const struct pattern *find_pattern(struct loader *L, const char *name, size_t n)
{
    for (size_t i = 0; i < L->npats; i++)
        if (strlen(L->pats[i].name) == n && memcmp(L->pats[i].name, name, n) == 0)
            return &L->pats[i];
    return NULL;
}

/* Column of byte offset off inside a scalar node, for errors: exact for plain and quoted
 * one-line scalars without escapes, which is what patterns almost always are. */
static int scalar_col(const struct lw_yaml_node *node, size_t off)
{
    return node->col + (node->quoted ? 1 : 0) + (int)off;
}

/* Expands %{NAME} references in src into out. stack holds the names being expanded, to report
 * cycles. err_node/err_doc: where to point errors (the event's match node). */
static int expand(struct loader *L, const char *src, struct lw_buf *out,
                  const struct pattern **stack, int depth, const struct lw_yaml_doc *doc,
                  const struct lw_yaml_node *node)
{
    const char *p = src;
    if (depth > MAX_PATTERN_DEPTH) {
        lw_yaml_error(doc, node, L->diag, "patterns nest deeper than %d levels", MAX_PATTERN_DEPTH);
        return -1;
    }
    while (*p) {
        const char *ref = strstr(p, "%{");
        if (!ref) {
            lw_buf_puts(out, p);
            break;
        }
        /* \%{ is a literal percent sign followed by a brace. */
        if (ref > src && ref[-1] == '\\') {
            lw_buf_append(out, p, (size_t)(ref - p) + 2);
            p = ref + 2;
            continue;
        }
        lw_buf_append(out, p, (size_t)(ref - p));
        const char *name = ref + 2, *e = name;
        while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') ||
               *e == '_')
            e++;
        int col = depth == 0 ? scalar_col(node, (size_t)(ref - src)) : node->col;
        if (*e != '}' || e == name) {
            lw_diag_add(L->diag, doc->file, node->line, col,
                        "bad pattern reference: expected %%{NAME}");
            return -1;
        }
        const struct pattern *pat = find_pattern(L, name, (size_t)(e - name));
        if (!pat) {
            lw_diag_add(L->diag, doc->file, node->line, col, "unknown pattern %%{%.*s}",
                        (int)(e - name), name);
            return -1;
        }
        for (int i = 0; i < depth; i++)
            if (stack[i] == pat) {
                struct lw_buf chain = {0};
                for (int j = i; j < depth; j++)
                    lw_buf_printf(&chain, "%s -> ", stack[j]->name);
                lw_buf_puts(&chain, pat->name);
                lw_diag_add(L->diag, doc->file, node->line, col, "pattern cycle: %s", chain.p);
                lw_buf_free(&chain);
                return -1;
            }
        stack[depth] = pat;
        /* Wrapped in a non-capturing group so that alternation inside a fragment stays local. */
        lw_buf_puts(out, "(?:");
        if (expand(L, pat->src, out, stack, depth + 1, pat->doc, pat->node) < 0)
            return -1;
        lw_buf_putc(out, ')');
        if (out->len > MAX_PATTERN_BYTES) {
            lw_yaml_error(doc, node, L->diag, "pattern longer than %u bytes after expansion",
                          MAX_PATTERN_BYTES);
            return -1;
        }
        p = e + 1;
    }
    return 0;
}

static void collect_patterns(struct loader *L, const struct lw_yaml_doc *doc,
                             const struct lw_yaml_node *pats)
{
    if (!pats)
        return;
    if (pats->type != LW_YAML_MAP) {
        lw_yaml_error(doc, pats, L->diag, "patterns: expected a map of NAME: regex");
        return;
    }
    for (size_t i = 0; i < pats->n; i++) {
        const char *src;
        const struct lw_yaml_node *k = pats->keys[i];
        if (lw_yaml_str(doc, pats->items[i], &src, L->diag) < 0)
            continue;
        const struct pattern *prev = find_pattern(L, k->str, k->len);
        /* The same name with the same text is no conflict: self-contained rule files (the
         * shipped ones) can each define the fragments they use. */
        if (prev && strcmp(prev->src, src) == 0)
            continue;
        if (prev) {
            lw_yaml_error(doc, k, L->diag,
                          "pattern %s is defined twice, differently (first in %s:%d)", k->str,
                          prev->doc->file, prev->node->line);
            continue;
        }
        L->pats = lw_realloc(L->pats, (L->npats + 1) * sizeof *L->pats);
        L->pats[L->npats++] = (struct pattern){k->str, src, doc, pats->items[i]};
    }
}

/* ---------------------------------------------------------------- events */

static int field_index(const struct lw_event_def *ev, const char *name, size_t n)
{
    for (size_t i = 0; i < ev->nfields; i++)
        if (strlen(ev->fields[i].name) == n && memcmp(ev->fields[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

static int add_field(struct lw_event_def *ev, const char *name, int group, int label, int stat)
{
    ev->fields = lw_realloc(ev->fields, (ev->nfields + 1) * sizeof *ev->fields);
    ev->fields[ev->nfields] =
        (struct lw_field){lw_strdup(name), LW_T_STRING, group, label, stat, false};
    return (int)ev->nfields++;
}

/* Whether name is a syslog structured-data field: sd.<SD-ID>.<PARAM>. */
static bool sd_name(const char *name, size_t n)
{
    return n > 5 && !memcmp(name, "sd.", 3) && memchr(name + 4, '.', n - 5);
}

/* A field by name; for events that read decoded bodies, an unknown name becomes a decoded
 * field (a JSON path or logfmt key), else -1. */
static int field_or_decoded(struct lw_event_def *ev, const char *name, size_t n)
{
    int i = field_index(ev, name, n);
    /* Extra labels: docker's label.<key>; Kafka's header.<name>, offset and key. */
    bool extra = ev->extra_ok &&
                 ((n > 6 && !memcmp(name, "label.", 6)) || (n > 7 && !memcmp(name, "header.", 7)) ||
                  (n == 6 && !memcmp(name, "offset", 6)) || (n == 3 && !memcmp(name, "key", 3)));
    bool sd = ev->sd_ok && sd_name(name, n);
    if (i < 0 && (ev->decoded_ok || extra || sd) && n > 0 && n < 256) {
        char buf[256];
        memcpy(buf, name, n);
        buf[n] = 0;
        i = add_field(ev, buf, -1, -1, -1);
        ev->fields[i].decoded = ev->decoded_ok;
        ev->fields[i].extra = extra;
        ev->fields[i].sd = sd;
    }
    return i;
}

struct loader;
static bool sd_unsettable(struct loader *L, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *at, size_t off, const struct lw_event_def *ev,
                          const char *name, size_t n);

/* "unknown field" with the nearest field of the event as a hint. */
static void unknown_field(struct loader *L, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *at, const struct lw_event_def *ev,
                          const char *name)
{
    if (sd_unsettable(L, doc, at, 0, ev, name, strlen(name)))
        return;
    const char **names = lw_calloc(ev->nfields + 1, sizeof *names);
    for (size_t i = 0; i < ev->nfields; i++)
        names[i] = ev->fields[i].name;
    const char *hint = lw_nearest(name, names, ev->nfields);
    if (hint)
        lw_yaml_error(doc, at, L->diag, "unknown field '%s' in event %s (did you mean '%s'?)", name,
                      ev->name, hint);
    else
        lw_yaml_error(doc, at, L->diag, "unknown field '%s' in event %s", name, ev->name);
    free(names);
}

/* ---------------------------------------------------------------- fields no input sets */

/* Whether the inputs are known (a config was loaded, not rule files alone). */
static bool inputs_known(const struct loader *L)
{
    return L->env && L->env->inputs && L->env->ninputs > 0;
}

static bool reads_input(const struct lw_event_def *ev, size_t i)
{
    return !ev->on_input || ev->on_input[i];
}

/* Whether input i has a static label (`labels:`) named key. */
static bool has_static_label(const struct lw_rules_input *in, const char *key)
{
    for (size_t j = 0; j < in->nlabels; j++)
        if (!strcmp(in->label_keys[j], key))
            return true;
    return false;
}

/* Whether some input the event reads can carry record label `slot` (or a static label of that
 * name, which stands in for it). */
static bool label_settable(const struct loader *L, const struct lw_event_def *ev, int slot)
{
    for (size_t i = 0; i < L->env->ninputs; i++)
        if (reads_input(ev, i) && ((L->env->inputs[i].label_mask >> slot & 1) ||
                                   has_static_label(&L->env->inputs[i], lw_label_names[slot])))
            return true;
    return false;
}

/* Whether some input the event reads sets extra labels (docker's label.<key>); with no inputs
 * known (rule files alone) any may. */
static bool extra_settable(const struct loader *L, const struct lw_event_def *ev)
{
    if (!inputs_known(L))
        return true;
    for (size_t i = 0; i < L->env->ninputs; i++)
        if (reads_input(ev, i) && (L->env->inputs[i].label_mask & LW_LABELS_EXTRA))
            return true;
    return false;
}

/* Whether some input the event reads has syslog structured data (format: syslog and its
 * +json / +logfmt); with no inputs known (rule files alone) any may. */
static bool sd_settable(const struct loader *L, const struct lw_event_def *ev)
{
    if (!inputs_known(L))
        return true;
    for (size_t i = 0; i < L->env->ninputs; i++)
        if (reads_input(ev, i) && (L->env->inputs[i].label_mask & LW_LABELS_SD))
            return true;
    return false;
}

/* Labels that no input of this build sets: a field on them is always missing. */
static bool label_never_built(int slot)
{
    (void)slot;
    return false;
}

/* Where a record label comes from, for the message. */
static const char *label_source(int slot)
{
    switch (slot) {
    case LW_L_HOST:
    case LW_L_APP:
    case LW_L_FACILITY:
    case LW_L_SEVERITY:
    case LW_L_SYSLOG_SEVERITY:
    case LW_L_PROCID:
    case LW_L_MSGID:
        return "syslog headers (inputs with format: syslog)";
    case LW_L_SOURCE_IP:
        return "syslog inputs (type: syslog)";
    case LW_L_CONTAINER:
    case LW_L_CONTAINER_ID:
    case LW_L_STREAM:
        return "container logs (format: docker or cri)";
    case LW_L_IMAGE:
    case LW_L_COMPOSE_SERVICE:
    case LW_L_COMPOSE_PROJECT:
        return "docker inputs (type: docker)";
    case LW_L_NAMESPACE:
    case LW_L_POD:
    case LW_L_POD_UID:
    case LW_L_RESTART:
        return "Kubernetes pod logs (type: cri)";
    case LW_L_TOPIC:
    case LW_L_PARTITION:
        return "kafka inputs (type: kafka)";
    default:
        return "other inputs";
    }
}

/*
 * A record label that no input of the event can carry would make the field missing on every
 * event: a group_by on it puts everything in one group, a where on it never holds. Where the
 * event reads a JSON or logfmt body, the name is taken from the body instead (the label would
 * only have hidden that key); otherwise using the field is an error (check_settable).
 */
static void unsettable_labels_to_decoded(const struct loader *L, struct lw_event_def *ev)
{
    bool decodes = false;
    if (!inputs_known(L))
        return;
    for (size_t i = 0; i < L->env->ninputs; i++)
        if (reads_input(ev, i) && L->env->inputs[i].body != LW_BODY_RAW)
            decodes = true;
    for (size_t i = 0; i < ev->nfields && decodes; i++) {
        struct lw_field *f = &ev->fields[i];
        if (f->label >= 0 && !label_settable(L, ev, f->label)) {
            f->label = -1;
            f->decoded = true;
        }
    }
}

/* The inputs event ev reads, "name (type), ...", for messages. */
static void inputs_read(const struct loader *L, const struct lw_event_def *ev, struct lw_buf *b)
{
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < L->env->ninputs; i++) {
        if (!reads_input(ev, i))
            continue;
        if (shown < 6)
            lw_buf_printf(b, "%s%s (%s)", shown ? ", " : "", L->env->inputs[i].name,
                          L->env->inputs[i].type ? L->env->inputs[i].type : "?");
        shown += shown < 6;
        total++;
    }
    if (total > shown)
        lw_buf_printf(b, " and %zu more", total - shown);
}

/* Reports name, an sd.<ID>.<PARAM> field that event ev cannot have (none of its inputs reads
 * syslog, and none decodes a body where such a key could be): true when it reported. */
static bool sd_unsettable(struct loader *L, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *at, size_t off, const struct lw_event_def *ev,
                          const char *name, size_t n)
{
    if (!sd_name(name, n) || ev->sd_ok || !inputs_known(L))
        return false;
    struct lw_buf b = {0};
    inputs_read(L, ev, &b);
    lw_diag_add(L->diag, doc->file, at->line, scalar_col(at, off),
                "field '%.*s' is never set: it comes from RFC 5424 structured data (inputs with "
                "format: syslog, syslog+json or syslog+logfmt), and no input event %s reads "
                "has it (%s)",
                (int)(n > 128 ? 128 : n), name, ev->name, b.len ? b.p : "none");
    lw_buf_free(&b);
    return true;
}

/*
 * Reports field idx of ev, used at node `at` (byte off in its scalar), when it is a record label
 * none of the event's inputs sets. A label no input of this build can set (image, topic,
 * partition) is an error: the rule cannot work. One that other inputs or formats set (host on a
 * raw file input) is a warning in `check`: shipped rules take raw lines too, and leave the label
 * missing then. Returns true when it reported an error.
 */
static bool check_settable(struct loader *L, const struct lw_yaml_doc *doc,
                           const struct lw_yaml_node *at, size_t off, const struct lw_event_def *ev,
                           int idx)
{
    if (idx < 0 || !inputs_known(L))
        return false;
    const struct lw_field *f = &ev->fields[idx];
    if (f->label < 0 || label_settable(L, ev, f->label))
        return false;
    bool error = label_never_built(f->label);
    if (!error && !L->env->warnings)
        return false;
    struct lw_buf b = {0};
    inputs_read(L, ev, &b);
    lw_diag_add(error ? L->diag : L->env->warnings, doc->file, at->line, scalar_col(at, off),
                "%sfield '%s' is never set: it comes from %s, and no input event %s reads sets it "
                "(%s)",
                error ? "" : "warning: ", f->name, label_source(f->label), ev->name,
                b.len ? b.p : "none");
    lw_buf_free(&b);
    return error;
}

/* ---------------------------------------------------------------- expressions */

/* Compiling an expression reports every unknown name, not only the first: the resolver
 * reports each at its column and gives the compiler a stand-in (the load fails anyway). */
struct resolve_ctx {
    struct loader *L;
    const struct lw_yaml_doc *doc;
    const struct lw_yaml_node *node;
    const char *src;
    struct lw_event_def *ev;
};

static int resolve_field(const char *name, size_t n, enum lw_type *type, void *payload)
{
    struct resolve_ctx *rc = payload;
    size_t off =
        name >= rc->src && name <= rc->src + strlen(rc->src) ? (size_t)(name - rc->src) : 0;
    int i = field_or_decoded(rc->ev, name, n);
    if (i >= 0) {
        *type = rc->ev->fields[i].type;
        check_settable(rc->L, rc->doc, rc->node, off, rc->ev, i);
        return i;
    }
    if (sd_unsettable(rc->L, rc->doc, rc->node, off, rc->ev, name, n)) {
        *type = LW_T_STRING;
        return field_index(rc->ev, "input", 5);
    }
    lw_diag_add(rc->L->diag, rc->doc->file, rc->node->line, scalar_col(rc->node, off),
                "unknown field '%.*s'", (int)(n > 64 ? 64 : n), name);
    *type = LW_T_STRING;
    return field_index(rc->ev, "input", 5); /* every event has it: a stand-in */
}

static int parse_type(const char *s, enum lw_type *t)
{
    static const char *const names[] = {"string", "int", "float", "duration", "bool"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *t = (enum lw_type)i;
            return 0;
        }
    return -1;
}

static void compile_expr(struct loader *L, const struct lw_yaml_doc *doc,
                         const struct lw_yaml_node *node, struct lw_event_def *ev,
                         struct lw_expr **out)
{
    const char *src;
    int col = 0;
    struct lw_err err = {0};
    if (lw_yaml_str(doc, node, &src, L->diag) < 0)
        return;
    struct resolve_ctx rc = {L, doc, node, src, ev};
    if (lw_expr_compile(out, src, resolve_field, &rc, &col, &err) < 0)
        lw_diag_add(L->diag, doc->file, node->line, scalar_col(node, col > 0 ? col - 1 : 0), "%s",
                    err.msg);
}

static void compile_match(struct loader *L, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *m, struct lw_event_def *ev)
{
    const char *src;
    const struct pattern *stack[MAX_PATTERN_DEPTH + 2];
    struct lw_buf pat = {0};
    int errcode;
    PCRE2_SIZE erroff;
    if (lw_yaml_str(doc, m, &src, L->diag) < 0)
        return;
    if (expand(L, src, &pat, stack, 0, doc, m) < 0)
        goto out;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)(pat.p ? pat.p : ""), pat.len, 0, &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        /* The offset is in the expanded pattern; it is exact when no %{} came before it. */
        const char *first_ref = strstr(src, "%{");
        size_t off = (size_t)erroff;
        if (first_ref && off > (size_t)(first_ref - src))
            off = (size_t)(first_ref - src);
        lw_diag_add(L->diag, doc->file, m->line, scalar_col(m, off), "bad regex: %s", msg);
        goto out;
    }
    /* JIT makes matching several times faster; without JIT support it still works. */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    ev->re = re;
    ev->md = pcre2_match_data_create_from_pattern(re, NULL);
    ev->pattern = lw_buf_steal(&pat);

    uint32_t count = 0, size = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = table + (size_t)i * size;
        int group = (e[0] << 8) | e[1];
        const char *name = (const char *)e + 2;
        int idx = field_index(ev, name, strlen(name));
        if (idx < 0)
            add_field(ev, name, group, -1, -1);
        /* (?J) duplicate names: the first group wins. */
    }
out:
    lw_buf_free(&pat);
}

static void parse_event(struct loader *L, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *node, struct lw_event_def *ev)
{
    const struct lw_yaml_node *n;
    ev->ts_field = -1;
    ev->file = lw_strdup(doc->file);
    ev->line = node->line;
    if (node->type != LW_YAML_MAP) {
        lw_yaml_error(doc, node, L->diag, "an event must be a map");
        return;
    }
    lw_yaml_check_keys(doc, node, event_keys, "event", L->diag);
    const char *name = "";
    if (!(n = lw_yaml_get(node, "name")))
        lw_yaml_error(doc, node, L->diag, "event without a name");
    else
        lw_yaml_str(doc, n, &name, L->diag);
    ev->name = lw_strdup(name);
    for (size_t i = 0; i < L->rs->nevents; i++)
        if (&L->rs->events[i] != ev && L->rs->events[i].name &&
            strcmp(L->rs->events[i].name, name) == 0 && *name) {
            lw_yaml_error(doc, n, L->diag, "event %s is defined twice (first in %s:%d)", name,
                          L->rs->events[i].file, L->rs->events[i].line);
        }

    if ((n = lw_yaml_get(node, "match")))
        compile_match(L, doc, n, ev);
    else
        ev->decoded_ok = true; /* fields come from a JSON or logfmt body */

    /* Record labels are fields too, after the captures. */
    for (int l = 0; l < LW_L_COUNT; l++)
        if (field_index(ev, lw_label_names[l], strlen(lw_label_names[l])) < 0)
            add_field(ev, lw_label_names[l], -1, l, -1);
    if (L->env && L->env->inputs) {
        int nstat = 0;
        for (size_t i = 0; i < L->env->ninputs; i++)
            for (size_t j = 0; j < L->env->inputs[i].nlabels; j++) {
                const char *k = L->env->inputs[i].label_keys[j];
                int idx = field_index(ev, k, strlen(k));
                if (idx < 0)
                    add_field(ev, k, -1, -1, nstat++);
                else if (ev->fields[idx].label >= 0 && ev->fields[idx].static_label < 0)
                    ev->fields[idx].static_label = nstat++; /* where the record has no slot */
            }
    }

    if ((n = lw_yaml_get(node, "inputs"))) {
        const char **names;
        size_t cnt;
        if (lw_yaml_strlist(doc, n, &names, &cnt, L->diag) == 0) {
            if (L->env && L->env->inputs) {
                ev->on_input = lw_calloc(L->env->ninputs, sizeof *ev->on_input);
                for (size_t i = 0; i < cnt; i++) {
                    size_t j;
                    for (j = 0; j < L->env->ninputs; j++)
                        if (strcmp(L->env->inputs[j].name, names[i]) == 0)
                            break;
                    if (j == L->env->ninputs)
                        lw_yaml_error(doc, n->type == LW_YAML_SEQ ? n->items[i] : n, L->diag,
                                      "unknown input '%s'", names[i]);
                    else
                        ev->on_input[j] = true;
                }
            }
            free(names);
        }
    }

    /* With a pattern, names that are not captures may still come from a JSON or logfmt body
     * when the event reads such an input. */
    if (!ev->decoded_ok && L->env && L->env->inputs)
        for (size_t i = 0; i < L->env->ninputs; i++)
            if ((!ev->on_input || ev->on_input[i]) && L->env->inputs[i].body != LW_BODY_RAW)
                ev->decoded_ok = true;
    ev->extra_ok = extra_settable(L, ev);
    ev->sd_ok = sd_settable(L, ev);
    unsettable_labels_to_decoded(L, ev);

    if ((n = lw_yaml_get(node, "fields"))) {
        if (n->type != LW_YAML_MAP) {
            lw_yaml_error(doc, n, L->diag, "fields: expected a map of NAME: type");
        } else {
            for (size_t i = 0; i < n->n; i++) {
                const char *t;
                enum lw_type type;
                const struct lw_yaml_node *k = n->keys[i];
                int idx = field_index(ev, k->str, k->len);
                if (lw_yaml_str(doc, n->items[i], &t, L->diag) < 0)
                    continue;
                if (parse_type(t, &type) < 0) {
                    lw_yaml_error(doc, n->items[i], L->diag,
                                  "unknown type '%s' (string, int, float, duration, bool)", t);
                    continue;
                }
                if (idx < 0)
                    idx = field_or_decoded(ev, k->str, k->len);
                if (idx < 0 && sd_unsettable(L, doc, k, 0, ev, k->str, k->len))
                    continue;
                if (idx < 0 || (ev->fields[idx].group < 0 && !ev->fields[idx].decoded &&
                                !ev->fields[idx].sd)) {
                    lw_yaml_error(doc, k, L->diag, "field '%s' is not a named capture of match",
                                  k->str);
                    continue;
                }
                ev->fields[idx].type = type;
            }
        }
    }

    if ((n = lw_yaml_get(node, "where")))
        compile_expr(L, doc, n, ev, &ev->where);

    if ((n = lw_yaml_get(node, "timestamp"))) {
        const struct lw_yaml_node *f = lw_yaml_get(n, "field"), *fmt = lw_yaml_get(n, "format");
        const char *fs, *fmts;
        if (n->type != LW_YAML_MAP) {
            lw_yaml_error(doc, n, L->diag, "timestamp: expected {field: NAME, format: FORMAT}");
        } else {
            lw_yaml_check_keys(doc, n, ts_keys, "timestamp", L->diag);
            if (!f || !fmt)
                lw_yaml_error(doc, n, L->diag, "timestamp needs both 'field' and 'format'");
            if (f && lw_yaml_str(doc, f, &fs, L->diag) == 0) {
                ev->ts_field = field_or_decoded(ev, fs, strlen(fs));
                if (ev->ts_field < 0)
                    unknown_field(L, doc, f, ev, fs);
                else
                    check_settable(L, doc, f, 0, ev, ev->ts_field);
            }
            if (fmt && lw_yaml_str(doc, fmt, &fmts, L->diag) == 0) {
                struct lw_err err = {0};
                struct lw_tsfmt *tf = lw_calloc(1, sizeof *tf);
                if (lw_tsfmt_init(tf, fmts, &err) < 0) {
                    lw_yaml_error(doc, fmt, L->diag, "%s", err.msg);
                    free(tf);
                } else {
                    ev->tsfmt = tf;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- alerts */

/* Like expressions, a template reports every unknown name: tmpl_known reports each one at its
 * column and lets the compiler go on. */
struct known_ctx {
    const struct lw_alert_def *a;
    struct loader *L;
    const struct lw_yaml_doc *doc;
    const struct lw_yaml_node *node;
    const char *src;
};

static bool tmpl_known(const char *name, size_t n, void *payload)
{
    const struct known_ctx *kc = payload;
    const struct lw_alert_def *a = kc->a;
#define IS(s) (strlen(s) == n && memcmp((s), name, n) == 0)
    if (IS("alert") || IS("severity") || IS("value") || IS("window"))
        return true;
    for (size_t i = 0; i < a->ngroup; i++)
        if (IS(a->group_by[i]))
            return true;
    for (size_t i = 0; i < a->nlabels; i++)
        if (IS(a->label_keys[i]))
            return true;
#undef IS
    /* The column of the placeholder's name, its "$labels." or "$" prefix included. */
    size_t off =
        name >= kc->src && name <= kc->src + strlen(kc->src) ? (size_t)(name - kc->src) : 0;
    if (off >= 8 && !memcmp(kc->src + off - 8, "$labels.", 8))
        off -= 8;
    else if (off >= 1 && kc->src[off - 1] == '$')
        off -= 1;
    lw_diag_add(kc->L->diag, kc->doc->file, kc->node->line, scalar_col(kc->node, off),
                "unknown name '%.*s' in template", (int)(n > 64 ? 64 : n), name);
    return true; /* reported: go on to the next name */
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The condition as the kind's row says it is written: above/below, a factor, or nothing. */
static void parse_threshold(struct loader *L, const struct lw_yaml_doc *doc,
                            const struct lw_yaml_node *kn, const struct lw_yaml_node *kv,
                            struct lw_alert_def *a, const struct lw_kind *kd)
{
    const struct lw_yaml_node *n;
    switch (kd->threshold) {
    case LW_KT_NONE:
        a->above = false;
        a->threshold = 1; /* absent: fewer than one event */
        break;
    case LW_KT_FACTOR:
        a->above = true;
        a->threshold = 0;
        if (!(n = lw_yaml_get(kv, "factor")))
            lw_yaml_error(doc, kv ? kv : kn, L->diag, "%s needs a 'factor'", kn->str);
        else
            lw_yaml_float(doc, n, &a->threshold, L->diag);
        break;
    case LW_KT_ABOVE_BELOW: {
        const struct lw_yaml_node *ab = lw_yaml_get(kv, "above"), *be = lw_yaml_get(kv, "below");
        if ((ab != NULL) == (be != NULL))
            lw_yaml_error(doc, kv ? kv : kn, L->diag, "%s needs exactly one of 'above' or 'below'",
                          kn->str);
        else if (ab)
            a->above = true, lw_yaml_float(doc, ab, &a->threshold, L->diag);
        else
            a->above = false, lw_yaml_float(doc, be, &a->threshold, L->diag);
        break;
    }
    }
}

/* An alert's kind map (kn: the kind's key, kv: its value), checked against the kind's row in
 * lw_kinds: the keys it accepts, the ones it needs, and how its condition is written. */
static void parse_kind(struct loader *L, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *kn, const struct lw_yaml_node *kv,
                       struct lw_alert_def *a, struct lw_event_def *ev)
{
    const struct lw_kind *kd = &lw_kinds[a->kind];
    const struct lw_yaml_node *n;
    int64_t iv;

    if (kv->type == LW_YAML_SCALAR && kv->len == 0)
        kv = NULL; /* `absent:` with nothing after it */
    if (kv && kv->type != LW_YAML_MAP) {
        lw_yaml_error(doc, kv, L->diag, "%s: expected a map such as {above: 10}", kn->str);
        return;
    }
    if (kv)
        lw_yaml_check_keys(doc, kv, kd->keys, kn->str, L->diag);
    if ((kd->needs & LW_KN_Q) && ev) {
        if (!(n = lw_yaml_get(kv, "q"))) {
            lw_yaml_error(doc, kv ? kv : kn, L->diag, "%s needs q, such as 0.95", kn->str);
        } else if (lw_yaml_float(doc, n, &a->q, L->diag) == 0 && !(a->q >= 0 && a->q <= 1)) {
            /* As Prometheus's quantile_over_time: 0 is the smallest value, 1 the largest. */
            lw_yaml_error(doc, n, L->diag, "q must be between 0 and 1");
        }
    }
    if (!ev)
        return;
    parse_threshold(L, doc, kn, kv, a, kd);
    if ((n = lw_yaml_get(kv, "min_count")) && lw_yaml_int(doc, n, &iv, L->diag) == 0) {
        if (iv < 0)
            lw_yaml_error(doc, n, L->diag, "min_count must not be negative");
        a->min_count = iv;
    }
    /* A reload keeps an alert's buckets only while they mean the same (engine.c). */
    static const char *const sig_keys[] = {"where", "of", "field"};
    a->agg_sig = LW_HASH_SEED;
    for (size_t i = 0; i < 3; i++) {
        const struct lw_yaml_node *sn = lw_yaml_get(kv, sig_keys[i]);
        const char *s = sn && sn->type == LW_YAML_SCALAR ? sn->str : "";
        a->agg_sig = lw_hash64(s, strlen(s) + 1, a->agg_sig);
    }
    if ((n = lw_yaml_get(kv, "where")))
        compile_expr(L, doc, n, ev, &a->where);
    if (kd->needs & LW_KN_OF) {
        if (!(n = lw_yaml_get(kv, "of")))
            lw_yaml_error(doc, kv ? kv : kn, L->diag, "%s needs 'of': the expression counted",
                          kn->str);
        else
            compile_expr(L, doc, n, ev, &a->of);
    }
    if (kd->needs & LW_KN_FIELD) {
        const char *f;
        if (!(n = lw_yaml_get(kv, "field"))) {
            lw_yaml_error(doc, kv ? kv : kn, L->diag, "%s needs a 'field'", kn->str);
        } else if (lw_yaml_str(doc, n, &f, L->diag) == 0) {
            a->value_field = field_or_decoded(ev, f, strlen(f));
            if (a->value_field < 0)
                unknown_field(L, doc, n, ev, f);
            else if (!check_settable(L, doc, n, 0, ev, a->value_field) &&
                     (kd->needs & LW_KN_NUMERIC) && !ev->fields[a->value_field].decoded &&
                     (ev->fields[a->value_field].type == LW_T_STRING ||
                      ev->fields[a->value_field].type == LW_T_BOOL))
                lw_yaml_error(doc, n, L->diag,
                              "field '%s' is not numeric: declare it under the event's fields "
                              "as int, float or duration",
                              f);
        }
    }
}

/* Exactly one of the alert's keys names a kind (lw_kinds); its map is parsed by the row. */
static void parse_alert_kind(struct loader *L, const struct lw_yaml_doc *doc,
                             const struct lw_yaml_node *node, struct lw_alert_def *a,
                             struct lw_event_def *ev, const char *name)
{
    int nkinds = 0;
    for (size_t i = 0; i < node->n; i++) {
        int k = lw_kind_find(node->keys[i]->str);
        if (k < 0)
            continue;
        if (nkinds++ == 0) {
            a->kind = (enum lw_alert_kind)k;
            parse_kind(L, doc, node->keys[i], node->items[i], a, ev);
        } else {
            lw_yaml_error(doc, node->keys[i], L->diag,
                          "alert %s has more than one kind ('%s' and '%s')", name,
                          lw_kinds[a->kind].name, node->keys[i]->str);
        }
    }
    if (nkinds == 0) {
        struct lw_buf kinds = {0};
        lw_kind_list(&kinds);
        lw_yaml_error(doc, node, L->diag, "alert %s needs a kind: %s", name, kinds.p);
        lw_buf_free(&kinds);
    }
}

static void parse_alert(struct loader *L, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *node, struct lw_alert_def *a)
{
    const struct lw_yaml_node *n;
    struct lw_event_def *ev = NULL;
    a->file = lw_strdup(doc->file);
    a->line = node->line;
    a->col = node->col;
    a->event = -1;
    a->value_field = -1;
    a->max_groups = 100000;
    if (node->type != LW_YAML_MAP) {
        lw_yaml_error(doc, node, L->diag, "an alert must be a map");
        a->name = lw_strdup("");
        a->severity = lw_strdup("");
        return;
    }
    lw_yaml_check_keys(doc, node, L->alert_keys, "alert", L->diag);
    const char *name = "", *s;
    if (!(n = lw_yaml_get(node, "name")))
        lw_yaml_error(doc, node, L->diag, "alert without a name");
    else
        lw_yaml_str(doc, n, &name, L->diag);
    a->name = lw_strdup(name);
    for (size_t i = 0; i < L->rs->nalerts; i++)
        if (&L->rs->alerts[i] != a && L->rs->alerts[i].name && *name &&
            strcmp(L->rs->alerts[i].name, name) == 0)
            lw_yaml_error(doc, n, L->diag, "alert %s is defined twice (first in %s:%d)", name,
                          L->rs->alerts[i].file, L->rs->alerts[i].line);

    if (!(n = lw_yaml_get(node, "event"))) {
        lw_yaml_error(doc, node, L->diag, "alert %s has no 'event'", name);
    } else if (lw_yaml_str(doc, n, &s, L->diag) == 0) {
        for (size_t i = 0; i < L->rs->nevents; i++)
            if (strcmp(L->rs->events[i].name, s) == 0)
                a->event = (int)i, ev = &L->rs->events[i];
        if (!ev) {
            const char **names = lw_calloc(L->rs->nevents + 1, sizeof *names);
            for (size_t i = 0; i < L->rs->nevents; i++)
                names[i] = L->rs->events[i].name;
            const char *hint = lw_nearest(s, names, L->rs->nevents);
            if (hint)
                lw_yaml_error(doc, n, L->diag, "unknown event '%s' (did you mean '%s'?)", s, hint);
            else
                lw_yaml_error(doc, n, L->diag, "unknown event '%s'", s);
            free(names);
        }
    }

    if (!(n = lw_yaml_get(node, "window"))) {
        lw_yaml_error(doc, node, L->diag, "alert %s has no 'window'", name);
    } else if (lw_yaml_duration(doc, n, &a->window_ns, L->diag) == 0) {
        if (a->window_ns < LW_NS_PER_SEC || a->window_ns % LW_NS_PER_SEC)
            lw_yaml_error(doc, n, L->diag, "window must be whole seconds, at least 1s");
        else if (a->window_ns > 90 * 86400 * LW_NS_PER_SEC)
            lw_yaml_error(doc, n, L->diag, "window longer than 90 days");
    }
    /* RULES.md: resolution is window / 300 rounded down to whole seconds, at least 1 s. */
    int64_t ws = a->window_ns / LW_NS_PER_SEC;
    int64_t rs = ws / 300 > 0 ? ws / 300 : 1;
    a->res_ns = rs * LW_NS_PER_SEC;
    a->nbuckets = ws / rs > 0 ? ws / rs : 1;

    if ((n = lw_yaml_get(node, "for"))) {
        lw_yaml_duration(doc, n, &a->for_ns, L->diag);
        if (a->for_ns < 0)
            lw_yaml_error(doc, n, L->diag, "for must not be negative");
    }
    if ((n = lw_yaml_get(node, "keep_firing_for"))) {
        lw_yaml_duration(doc, n, &a->keep_firing_for_ns, L->diag);
        if (a->keep_firing_for_ns < 0)
            lw_yaml_error(doc, n, L->diag, "keep_firing_for must not be negative");
    }
    if ((n = lw_yaml_get(node, "max_groups"))) {
        int64_t mg;
        if (lw_yaml_int(doc, n, &mg, L->diag) == 0) {
            if (mg < 1 || mg > 10000000)
                lw_yaml_error(doc, n, L->diag, "max_groups must be between 1 and 10000000");
            else
                a->max_groups = (size_t)mg;
        }
    }
    if ((n = lw_yaml_get(node, "accept_split")))
        lw_yaml_bool(doc, n, &a->accept_split, L->diag);
    a->severity = lw_strdup("warning");
    if ((n = lw_yaml_get(node, "severity")) && lw_yaml_str(doc, n, &s, L->diag) == 0) {
        free(a->severity);
        a->severity = lw_strdup(s);
    }

    if ((n = lw_yaml_get(node, "group_by"))) {
        const char **names;
        size_t cnt;
        if (lw_yaml_strlist(doc, n, &names, &cnt, L->diag) == 0) {
            a->group_by = lw_calloc(cnt ? cnt : 1, sizeof *a->group_by);
            a->group_field = lw_calloc(cnt ? cnt : 1, sizeof *a->group_field);
            for (size_t i = 0; i < cnt; i++) {
                a->group_by[i] = lw_strdup(names[i]);
                a->group_field[i] = ev ? field_or_decoded(ev, names[i], strlen(names[i])) : -1;
                const struct lw_yaml_node *at = n->type == LW_YAML_SEQ ? n->items[i] : n;
                if (!strcmp(names[i], "alert"))
                    lw_yaml_error(doc, at, L->diag, "'alert' is a reserved label");
                else if (!strcmp(names[i], "severity"))
                    lw_yaml_error(doc, at, L->diag,
                                  "'severity' is a reserved label (the alert's own); the syslog "
                                  "severity is also the field 'syslog_severity'");
                else if (ev && a->group_field[i] < 0)
                    unknown_field(L, doc, at, ev, names[i]);
                else if (ev)
                    check_settable(L, doc, at, 0, ev, a->group_field[i]);
            }
            a->ngroup = cnt;
            free(names);
        }
    }

    if ((n = lw_yaml_get(node, "labels"))) {
        if (n->type != LW_YAML_MAP) {
            lw_yaml_error(doc, n, L->diag, "labels: expected a map");
        } else {
            a->label_keys = lw_calloc(n->n + 1, sizeof(char *));
            a->label_vals = lw_calloc(n->n + 1, sizeof(char *));
            for (size_t i = 0; i < n->n; i++) {
                const char *v;
                const char *k = n->keys[i]->str;
                if (lw_yaml_str(doc, n->items[i], &v, L->diag) < 0)
                    continue;
                if (!strcmp(k, "alert") || !strcmp(k, "severity")) {
                    lw_yaml_error(doc, n->keys[i], L->diag,
                                  "'%s' is set by the alert itself, not by labels", k);
                    continue;
                }
                for (size_t g = 0; g < a->ngroup; g++)
                    if (!strcmp(a->group_by[g], k))
                        lw_yaml_error(doc, n->keys[i], L->diag,
                                      "label '%s' is also a group_by field", k);
                /* Keep key and value together while sorting: store "key\0value". */
                size_t kl = strlen(k), vl = strlen(v);
                char *kvp = lw_malloc(kl + vl + 2);
                memcpy(kvp, k, kl + 1);
                memcpy(kvp + kl + 1, v, vl + 1);
                a->label_keys[a->nlabels++] = kvp;
            }
            qsort(a->label_keys, a->nlabels, sizeof(char *), cmp_str);
            for (size_t i = 0; i < a->nlabels; i++) {
                char *kvp = a->label_keys[i];
                size_t kl = strlen(kvp);
                a->label_vals[i] = lw_strdup(kvp + kl + 1);
            }
        }
    }

    parse_alert_kind(L, doc, node, a, ev, name);

    if ((n = lw_yaml_get(node, "annotations"))) {
        if (n->type != LW_YAML_MAP) {
            lw_yaml_error(doc, n, L->diag, "annotations: expected a map");
        } else {
            struct known_ctx kc = {a, L, doc, NULL, NULL};
            a->annotations = lw_calloc(n->n ? n->n : 1, sizeof *a->annotations);
            for (size_t i = 0; i < n->n; i++) {
                const char *src;
                int col = 0;
                struct lw_err err = {0};
                struct lw_tmpl *t = NULL;
                if (lw_yaml_str(doc, n->items[i], &src, L->diag) < 0)
                    continue;
                kc.node = n->items[i];
                kc.src = src;
                if (lw_tmpl_compile(&t, src, tmpl_known, &kc, &col, &err) < 0) {
                    lw_diag_add(L->diag, doc->file, n->items[i]->line,
                                scalar_col(n->items[i], col > 0 ? (size_t)col - 1 : 0), "%s",
                                err.msg);
                    continue;
                }
                a->annotations[a->nannotations].key = lw_strdup(n->keys[i]->str);
                a->annotations[a->nannotations].tmpl = t;
                a->nannotations++;
            }
        }
    }
}

/* ---------------------------------------------------------------- the ruleset */

/* The keys an alert accepts: its own, then one per kind, so that a new kind's row is all the
 * loader needs to accept it (and to suggest it for a misspelt key). */
static void alert_keys_init(struct loader *L)
{
    size_t n = 0;
    for (size_t i = 0; i < N_COMMON_KEYS; i++)
        L->alert_keys[n++] = alert_common_keys[i];
    for (int k = 0; k < LW_K_NKINDS; k++)
        L->alert_keys[n++] = lw_kinds[k].name;
    L->alert_keys[n] = NULL;
}

static void event_free(struct lw_event_def *ev)
{
    free(ev->name);
    free(ev->file);
    free(ev->pattern);
    if (ev->md)
        pcre2_match_data_free(ev->md);
    if (ev->re)
        pcre2_code_free(ev->re);
    free(ev->on_input);
    for (size_t i = 0; i < ev->nfields; i++)
        free(ev->fields[i].name);
    free(ev->fields);
    free(ev->vals);
    free(ev->plain);
    free(ev->plain_slot);
    free(ev->other);
    lw_expr_free(ev->where);
    if (ev->tsfmt) {
        lw_tsfmt_free(ev->tsfmt);
        free(ev->tsfmt);
    }
}

static void alert_free(struct lw_alert_def *a)
{
    free(a->name);
    free(a->file);
    lw_expr_free(a->where);
    lw_expr_free(a->of);
    for (size_t i = 0; i < a->ngroup; i++)
        free(a->group_by[i]);
    free(a->group_by);
    free(a->group_field);
    free(a->severity);
    for (size_t i = 0; i < a->nlabels; i++) {
        free(a->label_keys[i]);
        free(a->label_vals[i]);
    }
    free(a->label_keys);
    free(a->label_vals);
    for (size_t i = 0; i < a->nannotations; i++) {
        free(a->annotations[i].key);
        lw_tmpl_free(a->annotations[i].tmpl);
    }
    free(a->annotations);
}

void lw_ruleset_free(struct lw_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nevents; i++)
        event_free(&rs->events[i]);
    for (size_t i = 0; i < rs->nalerts; i++)
        alert_free(&rs->alerts[i]);
    free(rs->events);
    free(rs->alerts);
    free(rs->alerts_of_event);
    free(rs->alerts_off);
    lw_match_index_free(rs->index);
    for (int i = 0; i < 2; i++)
        pcre2_match_context_free(rs->limits[i]);
    if (rs->doc) {
        lw_doc_free(rs->doc);
        free(rs->doc);
    }
    free(rs->undecoded);
    free(rs);
}

static size_t seq_len(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char *what,
                      struct lw_diag *diag)
{
    if (!n)
        return 0;
    if (n->type != LW_YAML_SEQ) {
        lw_yaml_error(doc, n, diag, "%s: expected a list", what);
        return 0;
    }
    return n->n;
}

int lw_ruleset_load(struct lw_ruleset **out, const char *const *paths, size_t n,
                    const struct lw_rules_env *env, struct lw_diag *diag)
{
    struct loader L = {0};
    struct lw_ruleset *rs = lw_calloc(1, sizeof *rs);
    size_t errors0 = diag->n;
    L.diag = diag;
    L.env = env;
    L.rs = rs;
    L.docs = lw_calloc(n ? n : 1, sizeof *L.docs);
    alert_keys_init(&L);
    if (env) {
        rs->inputs = env->inputs;
        rs->ninputs = env->ninputs;
    }

    for (size_t i = 0; i < n; i++) {
        if (lw_yaml_load_file(&L.docs[i], paths[i], diag) < 0)
            continue;
        const struct lw_yaml_doc *doc = L.docs[i];
        if (!doc->root)
            continue; /* an empty file defines nothing */
        if (doc->root->type != LW_YAML_MAP) {
            lw_yaml_error(doc, doc->root, diag,
                          "a rule file is a map with patterns, events and alerts");
            continue;
        }
        lw_yaml_check_keys(doc, doc->root, file_keys, "rule file", diag);
        collect_patterns(&L, doc, lw_yaml_get(doc->root, "patterns"));
    }
    /* Events of all files first, so that an alert may name an event of another file. */
    size_t nev = 0, nal = 0;
    for (size_t i = 0; i < n; i++)
        if (L.docs[i] && L.docs[i]->root) {
            nev += seq_len(L.docs[i], lw_yaml_get(L.docs[i]->root, "events"), "events", diag);
            nal += seq_len(L.docs[i], lw_yaml_get(L.docs[i]->root, "alerts"), "alerts", diag);
        }
    rs->events = lw_calloc(nev ? nev : 1, sizeof *rs->events);
    rs->alerts = lw_calloc(nal ? nal : 1, sizeof *rs->alerts);
    for (size_t i = 0; i < n; i++) {
        const struct lw_yaml_doc *doc = L.docs[i];
        const struct lw_yaml_node *evs = doc && doc->root ? lw_yaml_get(doc->root, "events") : NULL;
        if (evs && evs->type == LW_YAML_SEQ)
            for (size_t j = 0; j < evs->n; j++) {
                rs->nevents++;
                parse_event(&L, doc, evs->items[j], &rs->events[rs->nevents - 1]);
            }
    }
    for (size_t i = 0; i < n; i++) {
        const struct lw_yaml_doc *doc = L.docs[i];
        const struct lw_yaml_node *als = doc && doc->root ? lw_yaml_get(doc->root, "alerts") : NULL;
        if (als && als->type == LW_YAML_SEQ)
            for (size_t j = 0; j < als->n; j++) {
                rs->nalerts++;
                parse_alert(&L, doc, als->items[j], &rs->alerts[rs->nalerts - 1]);
            }
    }

    /* Alerts may have added decoded fields to their events: size the scratch values now. */
    for (size_t e = 0; e < rs->nevents; e++) {
        struct lw_event_def *ev = &rs->events[e];
        size_t cap = ev->nfields ? ev->nfields : 1;
        ev->vals = lw_calloc(cap, sizeof(struct lw_value));
        ev->plain = lw_calloc(cap, sizeof *ev->plain);
        ev->plain_slot = lw_calloc(cap, sizeof *ev->plain_slot);
        ev->other = lw_calloc(cap, sizeof *ev->other);
        for (size_t i = 0; i < ev->nfields; i++) {
            const struct lw_field *f = &ev->fields[i];
            if (f->label >= 0 && f->group < 0 && f->static_label < 0 && !f->decoded && !f->extra) {
                ev->plain_slot[ev->nplain] = (uint8_t)f->label;
                ev->plain[ev->nplain++] = (uint32_t)i;
            } else {
                ev->other[ev->nother++] = (uint32_t)i;
            }
        }
    }
    rs->doc = lw_calloc(1, sizeof(struct lw_doc));
    lw_match_index_build(rs);

    /* Index: the alerts of each event, so matching finds them without scanning. */
    rs->alerts_off = lw_calloc(rs->nevents + 1, sizeof *rs->alerts_off);
    rs->alerts_of_event = lw_calloc(rs->nalerts ? rs->nalerts : 1, sizeof *rs->alerts_of_event);
    for (size_t a = 0; a < rs->nalerts; a++)
        if (rs->alerts[a].event >= 0)
            rs->alerts_off[rs->alerts[a].event + 1]++;
    for (size_t e = 0; e < rs->nevents; e++)
        rs->alerts_off[e + 1] += rs->alerts_off[e];
    {
        size_t *fill = lw_calloc(rs->nevents + 1, sizeof *fill);
        for (size_t a = 0; a < rs->nalerts; a++) {
            int e = rs->alerts[a].event;
            if (e >= 0)
                rs->alerts_of_event[rs->alerts_off[e] + fill[e]++] = a;
        }
        free(fill);
    }

    for (size_t i = 0; i < n; i++)
        lw_yaml_free(L.docs[i]);
    free(L.docs);
    free(L.pats);
    if (diag->n > errors0) {
        lw_ruleset_free(rs);
        *out = NULL;
        return LW_EINVAL;
    }
    *out = rs;
    return 0;
}
