/* input.c: the registry of built-in input types, the reading of an input's options, and what
 * every input shares: pushing batches with pause on a full queue, resuming. */
#include "ingest.h"
#include "ingest_int.h"
#include "lw_tz.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* One per lw_plugin(input ...) line of ingest/CMakeLists.txt, in that order. */
static const struct lw_input_ops *const builtin[] = {LW_INPUTS_BUILTIN};

const char *const lw_drop_names[LW_DROP_COUNT] = {"queue_full", "kernel"};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

/* labels: {key: value}, copied into ic's arrays (the config takes them over). */
static void read_labels(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n,
                        struct lw_input_common *ic, struct lw_diag *diag)
{
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "labels: expected a map");
        return;
    }
    ic->label_keys = lw_calloc(n->n + 1, sizeof *ic->label_keys);
    ic->label_vals = lw_calloc(n->n + 1, sizeof *ic->label_vals);
    for (size_t i = 0; i < n->n; i++) {
        const char *v;
        if (lw_yaml_str(doc, n->items[i], &v, diag) < 0)
            continue;
        ic->label_keys[ic->nlabels] = lw_strdup(n->keys[i]->str);
        ic->label_vals[ic->nlabels] = lw_strdup(v);
        ic->nlabels++;
    }
}

static int parse_format(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                        struct lw_diag *diag)
{
    const char *s;
    if (lw_yaml_str(doc, n, &s, diag) != 0)
        return LW_EINVAL;
    if (lw_format_parse(s, field) < 0) {
        lw_yaml_error(doc, n, diag,
                      "unknown format '%s' (raw, json, logfmt, syslog, docker, cri, syslog+json, "
                      "syslog+logfmt)",
                      s);
        return LW_EINVAL;
    }
    return 0;
}

static int parse_input_labels(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                              const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                              struct lw_diag *diag)
{
    struct lw_input_common *ic =
        (struct lw_input_common *)((char *)field - offsetof(struct lw_input_common, label_keys));
    read_labels(doc, n, ic, diag);
    return 0;
}

static int parse_timezone(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                          struct lw_diag *diag)
{
    const char *s;
    struct lw_err err = {0};
    if (lw_yaml_str(doc, n, &s, diag) != 0)
        return LW_EINVAL;
    if (lw_tz_get(field, s, &err) < 0) {
        lw_yaml_error(doc, n, diag, "%s", err.msg);
        return LW_EINVAL;
    }
    return 0;
}

static int parse_start_at(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                          struct lw_diag *diag)
{
    const char *s;
    if (lw_yaml_str(doc, n, &s, diag) != 0)
        return LW_EINVAL;
    if (!strcmp(s, "beginning"))
        *(bool *)field = true;
    else if (strcmp(s, "end")) {
        lw_yaml_error(doc, n, diag, "start_at: expected 'end' or 'beginning'");
        return LW_EINVAL;
    }
    return 0;
}

static int parse_multiline(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                           const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                           struct lw_diag *diag)
{
    return lw_multiline_cfg_parse(field, doc, n, diag);
}

static void free_multiline(const struct lw_opt *o, void *field)
{
    lw_multiline_cfg_free(*(struct lw_multiline_cfg **)field);
    *(struct lw_multiline_cfg **)field = NULL;
}

const struct lw_opt lw_input_common_opts[] = {
    {.key = "format",
     .type = LW_OPT_STRING,
     .type_name = "format",
     .off = offsetof(struct lw_input_common, format),
     .parse = parse_format,
     .help = "how lines are decoded: raw, json, logfmt, syslog, docker, cri, syslog+json, "
             "syslog+logfmt (default: the type's, raw or syslog; json or logfmt on a syslog "
             "input decode the message inside the syslog envelope)"},
    {.key = "labels",
     .type = LW_OPT_MAP,
     .off = offsetof(struct lw_input_common, label_keys),
     .parse = parse_input_labels,
     .help = "{key: value} added to every record of this input"},
    {.key = "timezone",
     .type = LW_OPT_STRING,
     .type_name = "zone",
     .off = offsetof(struct lw_input_common, tz),
     .parse = parse_timezone,
     .help = "the IANA zone of timestamps without one (default: the local zone)"},
    {.key = "start_at",
     .type = LW_OPT_STRING,
     .type_name = "end|beginning",
     .def = "end",
     .off = offsetof(struct lw_input_common, from_beginning),
     .parse = parse_start_at,
     .help = "files present at the first start without a checkpoint: skip (end) or read them"},
    {.key = "max_line_bytes",
     .type = LW_OPT_INT,
     .def = "1048576",
     .off = offsetof(struct lw_input_common, max_line),
     .min = 64,
     .max = 64 << 20,
     .help = "longer lines are cut to this and counted"},
    {.key = "multiline",
     .type = LW_OPT_MAP,
     .type_name = "preset|map",
     .off = offsetof(struct lw_input_common, multiline),
     .parse = parse_multiline,
     .free = free_multiline,
     .help = "join lines into records: java, python, go, or {start: RE | continue: RE, "
             "max_lines: 500, max_bytes: max_line_bytes, timeout: 1s} (not syslog)"},
    {.key = "stale_after",
     .type = LW_OPT_DURATION,
     .off = offsetof(struct lw_input_common, stale_after_ns),
     .min = LW_NS_PER_SEC,
     .help = "/health calls the input degraded when it has read nothing for this long "
             "(default: never)"},
    {.type = LW_OPT_END},
};

size_t lw_input_count(void)
{
    return NBUILTIN;
}

const struct lw_input_ops *lw_input_at(size_t i)
{
    return i < NBUILTIN ? builtin[i] : NULL;
}

bool lw_input_planned(const char *type)
{
    /* Every input RULES.md names is built now; kept for the next one. */
    static const char *const planned[] = {NULL};
    for (size_t i = 0; planned[i]; i++)
        if (!strcmp(planned[i], type) && !lw_input_find(type))
            return true;
    return false;
}

void lw_input_type_names(struct lw_buf *b)
{
    for (size_t i = 0; i < NBUILTIN; i++)
        lw_buf_printf(b, "%s%s", i ? ", " : "", builtin[i]->type);
}

static const char *const name_type[] = {"name", "type", NULL};

int lw_input_opts(struct lw_input *in, const struct lw_opt *opts, void *base,
                  const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                  struct lw_diag *diag)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "input %s", in->name);
    struct lw_opt_ctx c = {.dir = in->dir,
                           .what = "input",
                           .prefix = prefix,
                           .skip = name_type,
                           .skip_opts = lw_input_common_opts};
    return lw_opts_apply(opts, base, doc, map, &c, diag);
}

const struct lw_input_ops *lw_input_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < NBUILTIN; i++)
        if (strcmp(builtin[i]->type, type) == 0)
            return builtin[i];
    return NULL;
}

int lw_input_push(struct lw_input *in, struct lw_batch *b)
{
    int rc = lw_queue_try_push(in->queue, b);
    if (rc == LW_EFULL && !in->paused) {
        in->paused = true;
        if (in->ops->pause)
            in->ops->pause(in);
    }
    return rc;
}

void lw_input_resume(struct lw_input *in)
{
    in->paused = false;
    if (in->ops->resume)
        in->ops->resume(in);
}

bool lw_ingest__ratelimit(struct lw_ratelimit *rl, int64_t interval_ns)
{
    int64_t now = lw_mono_ns();
    if (rl->last_ns && now - rl->last_ns < interval_ns) {
        rl->suppressed++;
        return false;
    }
    rl->last_ns = now;
    return true;
}
