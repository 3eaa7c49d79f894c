/* stdout.c: the stdout sink: one compact JSON line per alert on standard output. */
#include "sink.h"

#include <pthread.h>
#include <stdlib.h>

/* stdout is one per process, so the lock is too: several stdout sinks (or one sink called from
 * several workers) never interleave their lines. */
static pthread_mutex_t stdout_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct lw_opt stdout_opts[] = {{.type = LW_OPT_END}};

static int stdout_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *map, struct lw_diag *diag)
{
    return 0;
}

static int stdout_deliver(struct lw_sink *s, const char *alerts_json, size_t len,
                          int64_t *retry_after_ns, struct lw_err *err)
{
    struct lw_buf lines = {0};
    size_t n;
    int rc = lw_sink_json_lines(alerts_json, len, &lines, &n, err);
    if (rc < 0)
        goto out_free;
    if (lines.len == 0)
        goto out_free;

    pthread_mutex_lock(&stdout_lock);
    size_t w = fwrite(lines.p, 1, lines.len, stdout);
    int ferr = fflush(stdout);
    if (w != lines.len || ferr != 0) {
        clearerr(stdout);
        /* Worth a retry: a full disk may drain. */
        rc = lw_err_set(err, LW_EAGAIN, "sink %s: writing to stdout failed", s->name);
    }
    pthread_mutex_unlock(&stdout_lock);

out_free:
    lw_buf_free(&lines);
    return rc;
}

static void stdout_free(struct lw_sink *s)
{
}

const struct lw_sink_ops lw_sink_stdout_ops = {
    .type = "stdout",
    .local = true,
    .opts = stdout_opts,
    .init = stdout_init,
    .deliver = stdout_deliver,
    .free = stdout_free,
};
