/* input.c: the table of built-in input types. */
#include "ingest.h"
#include "ingest_int.h"

#include <string.h>

static const struct lw_input_ops *const builtin[] = {
    &lw_ingest__file_ops,
    &lw_ingest__stdin_ops,
    &lw_ingest__syslog_ops,
};

const struct lw_input_ops *lw_input_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
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
