/* input.c: the registry of built-in input types, and the reading of an input's options. */
#include "ingest.h"
#include "ingest_int.h"

#include <stdio.h>
#include <string.h>

/* One per lw_plugin(input ...) line of ingest/CMakeLists.txt, in that order. */
static const struct lw_input_ops *const builtin[] = {LW_INPUTS_BUILTIN};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

const char *const lw_input_common_keys[] = {
    "name", "type", "start_at", "format", "labels", "max_line_bytes", "timezone", NULL,
};

size_t lw_input_count(void)
{
    return NBUILTIN;
}

const struct lw_input_ops *lw_input_at(size_t i)
{
    return i < NBUILTIN ? builtin[i] : NULL;
}

void lw_input_type_names(struct lw_buf *b)
{
    for (size_t i = 0; i < NBUILTIN; i++)
        lw_buf_printf(b, "%s%s", i ? ", " : "", builtin[i]->type);
}

int lw_input_opts(struct lw_input *in, const struct lw_opt *opts, void *base,
                  const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                  struct lw_diag *diag)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "input %s", in->name);
    struct lw_opt_ctx c = {
        .dir = in->dir, .what = "input", .prefix = prefix, .skip = lw_input_common_keys};
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
