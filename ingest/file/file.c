/* file.c: the file input: the files its globs match, followed by the tail engine (tail.c)
 * through rotation, truncation and restarts. */
#include "ingest.h"
#include "ingest_int.h"
#include "tail.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#define FILE_WARN_EVERY (10 * LW_NS_PER_SEC)
/* A match that vanished (rotated, deleted) stays a followed path this long: a rotation looks
 * like a gap between the rename and the new file, which the tail must see as a rotation. */
#define FILE_UNMATCHED_KEEP (5 * LW_NS_PER_SEC)

struct file_ctx {
    struct lw_opt_list globs; /* `paths` */
    int64_t poll_ns;
    int64_t max_files;
    struct lw_tail *tail;
    char **added; /* paths handed to the tail by a glob with wildcards, nadded of them */
    size_t nadded;
    int64_t *missed; /* of nadded: when (monotonic) it stopped matching; 0 while it matches */
    struct lw_ratelimit rl;
    struct lw_input *in;
};

static const struct lw_opt file_opts[] = {
    {.key = "paths",
     .type = LW_OPT_LIST,
     .type_name = "paths",
     .off = offsetof(struct file_ctx, globs),
     .flags = LW_OPT_REQUIRED | LW_OPT_NOENV | LW_OPT_PATHS,
     .help = "files to follow: a path or glob, or a list of them (relative: to the config)"},
    {.key = "poll_interval",
     .type = LW_OPT_DURATION,
     .def = "250ms",
     .off = offsetof(struct file_ctx, poll_ns),
     .min = LW_NS_PER_MS,
     .help = "how often the globs are matched again and the files checked without inotify"},
    {.key = "max_files",
     .type = LW_OPT_INT,
     .def = "1024",
     .off = offsetof(struct file_ctx, max_files),
     .min = 1,
     .help = "files followed at once at most; more are skipped, counted and logged"},
    {.type = LW_OPT_END},
};

static bool has_wildcard(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* A glob's match: handed to the tail once; remembered so that a match that vanished is
 * removed (read to its end, then forgotten) once it has been gone for FILE_UNMATCHED_KEEP. */
static void add_match(struct file_ctx *ctx, const char *path)
{
    for (size_t i = 0; i < ctx->nadded; i++)
        if (!strcmp(ctx->added[i], path)) {
            ctx->missed[i] = 0;
            return;
        }
    ctx->added = lw_realloc(ctx->added, (ctx->nadded + 1) * sizeof *ctx->added);
    ctx->missed = lw_realloc(ctx->missed, (ctx->nadded + 1) * sizeof *ctx->missed);
    ctx->added[ctx->nadded] = lw_strdup(path);
    ctx->missed[ctx->nadded++] = 0;
    lw_tail_add(ctx->tail, path, NULL);
}

static void drop_unmatched(struct file_ctx *ctx, int64_t now)
{
    size_t w = 0;
    for (size_t i = 0; i < ctx->nadded; i++) {
        if (ctx->missed[i] == -1)
            ctx->missed[i] = now;
        if (!ctx->missed[i] || now - ctx->missed[i] < FILE_UNMATCHED_KEEP) {
            ctx->missed[w] = ctx->missed[i];
            ctx->added[w++] = ctx->added[i];
            continue;
        }
        lw_tail_remove(ctx->tail, ctx->added[i]);
        free(ctx->added[i]);
    }
    ctx->nadded = w;
}

/* Matches the globs again (on every look of the tail). Plain paths were added at start. */
static void file_scan(void *arg)
{
    struct file_ctx *ctx = arg;
    struct lw_input *in = ctx->in;
    int64_t now = lw_mono_ns();
    /* -1: not matched by this scan yet (add_match clears it); a running miss keeps its time. */
    for (size_t i = 0; i < ctx->nadded; i++)
        if (!ctx->missed[i])
            ctx->missed[i] = -1;
    for (size_t i = 0; i < ctx->globs.n; i++) {
        if (!has_wildcard(ctx->globs.v[i]))
            continue;
        glob_t g;
        int rc = glob(ctx->globs.v[i], GLOB_NOSORT, NULL, &g);
        if (rc != 0 && rc != GLOB_NOMATCH && lw_ingest__ratelimit(&ctx->rl, FILE_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] glob %s failed", in->name, ctx->globs.v[i]);
        for (size_t j = 0; rc == 0 && j < g.gl_pathc; j++)
            add_match(ctx, g.gl_pathv[j]);
        if (rc == 0)
            globfree(&g);
    }
    drop_unmatched(ctx, now);
}

/* ---------------------------------------------------------------- ops */

static void file_free(struct lw_input *in)
{
    struct file_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    lw_tail_free(ctx->tail);
    for (size_t i = 0; i < ctx->nadded; i++)
        free(ctx->added[i]);
    free(ctx->added);
    free(ctx->missed);
    lw_opts_free(file_opts, ctx);
    free(ctx);
    in->ctx = NULL;
}

static int file_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                     const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct file_ctx *ctx = lw_calloc(1, sizeof *ctx);
    in->ctx = ctx;
    ctx->in = in;
    int rc = lw_input_opts(in, file_opts, ctx, doc, map, diag);
    if (rc != LW_OK)
        file_free(in);
    return rc;
}

/* The folder part of a glob when it has no wildcard (watched for new matches), else NULL. */
static char *glob_dir(const char *g)
{
    const char *sl = strrchr(g, '/');
    if (!sl)
        return lw_strdup(".");
    char *d = sl == g ? lw_strdup("/") : lw_strndup(g, (size_t)(sl - g));
    if (has_wildcard(d)) {
        free(d);
        return NULL;
    }
    return d;
}

static int file_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct file_ctx *ctx = in->ctx;
    if (!ctx)
        return lw_err_set(err, LW_EINVAL, "input %s: not initialised", in->name);
    struct lw_tail_cfg cfg = {.poll_interval_ns = ctx->poll_ns,
                              .max_files = (size_t)ctx->max_files,
                              .on_tick = file_scan,
                              .on_tick_arg = ctx};
    ctx->tail = lw_tail_new(in, &cfg);
    for (size_t i = 0; i < ctx->globs.n; i++) {
        const char *g = ctx->globs.v[i];
        if (!has_wildcard(g)) {
            lw_tail_add(ctx->tail, g, NULL);
            continue;
        }
        char *d = glob_dir(g);
        if (d)
            lw_tail_watch_dir(ctx->tail, d);
        free(d);
    }
    return lw_tail_start(ctx->tail, loop, err);
}

static void file_stop(struct lw_input *in)
{
    struct file_ctx *ctx = in->ctx;
    if (ctx)
        lw_tail_stop(ctx->tail);
}

static void file_resume(struct lw_input *in)
{
    struct file_ctx *ctx = in->ctx;
    if (ctx && ctx->tail)
        lw_tail_resume(ctx->tail);
}

static void file_checkpoint(struct lw_input *in, const char *stream, const struct lw_pos *pos)
{
    struct file_ctx *ctx = in->ctx;
    if (ctx && ctx->tail)
        lw_tail_checkpoint(ctx->tail, stream, pos);
}

static void file_metrics(struct lw_input *in, struct lw_buf *out)
{
    struct file_ctx *ctx = in->ctx;
    if (ctx && ctx->tail)
        lw_tail_metrics(ctx->tail, out);
}

static int file_lag(struct lw_input *in, const char **unit, uint64_t *out)
{
    struct file_ctx *ctx = in->ctx;
    if (!ctx || !ctx->tail)
        return -1;
    *unit = "bytes";
    *out = lw_tail_behind(ctx->tail);
    return 0;
}

const struct lw_input_ops lw_ingest__file_ops = {
    .type = "file",
    .opts = file_opts,
    .init = file_init,
    .start = file_start,
    .stop = file_stop,
    .resume = file_resume,
    .free = file_free,
    .checkpoint = file_checkpoint,
    .pos_encode = lw_tail_pos_encode,
    .metrics = file_metrics,
    .lag = file_lag,
    .labels = 1u << LW_L_PATH,
    .format = LW_FMT_RAW,
};
