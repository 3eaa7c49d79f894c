/* input.c: the table of built-in input types, and what every input shares: pushing batches
 * with pause on a full queue, resuming. */
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
