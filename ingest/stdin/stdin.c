/* stdin.c: the stdin input: a thread reads fd 0 in blocks, cuts lines and pushes batches with a
 * blocking push; at EOF the last batch is marked eof (replay knows the stream has ended). */
#include "ingest.h"
#include "ingest_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDIN_BLOCK (256u * 1024)
#define STDIN_POLL_MS 100 /* how long stop() may wait for a read to notice it */

struct stdin_ctx {
    struct lw_input *in;
    int fd;
    pthread_t thread;
    bool started;
    atomic_bool stop; /* set by stop() on the I/O thread, read by the reader thread */
    struct lw_linecut lc;
    struct lw_batch *cur; /* reader thread only */
    int64_t recv_ns;
};

static const struct lw_opt stdin_opts[] = {{.type = LW_OPT_END}};

/* Pushes the current batch (blocking); false when the queue is closed. */
static bool stdin_push(struct stdin_ctx *ctx, bool eof)
{
    struct lw_batch *b = ctx->cur;
    if (!b) {
        if (!eof)
            return true;
        b = lw_batch_new(ctx->in->index, NULL, 64);
    }
    ctx->cur = NULL;
    b->eof = eof;
    if (lw_queue_push(ctx->in->queue, b) != LW_OK) {
        lw_batch_free(b);
        return false;
    }
    return true;
}

static void stdin_on_line(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct stdin_ctx *ctx = payload;
    if (!ctx->cur)
        ctx->cur = lw_batch_new(ctx->in->index, NULL, 64 * 1024);
    struct lw_pos pos = {0, 0, end_off};
    lw_batch_add(ctx->cur, line, n, ctx->recv_ns, &pos);
    atomic_fetch_add(&ctx->in->lines, 1);
    atomic_fetch_add(&ctx->in->bytes, n);
    if (ctx->cur->n >= LW_BATCH_MAX_LINES || ctx->cur->len >= LW_BATCH_MAX_BYTES)
        stdin_push(ctx, false);
}

static void *stdin_main(void *arg)
{
    struct stdin_ctx *ctx = arg;
    struct lw_input *in = ctx->in;
    char *buf = lw_malloc(STDIN_BLOCK);
    bool eof = false;
    while (!atomic_load(&ctx->stop)) {
        /* poll() with a timeout so that stop() is noticed even when nothing arrives. */
        struct pollfd pfd = {.fd = ctx->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, STDIN_POLL_MS);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            /* Idle: hand over what we have rather than hold lines back. */
            if (!stdin_push(ctx, false))
                break;
            continue;
        }
        ssize_t r = pr < 0 ? -1 : read(ctx->fd, buf, STDIN_BLOCK);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            lw_log(LW_WARN, "[input:%s] read stdin: %s", in->name, strerror(errno));
            eof = true;
            break;
        }
        if (r == 0) {
            eof = true;
            break;
        }
        ctx->recv_ns = lw_now_ns();
        uint64_t t0 = ctx->lc.truncated;
        lw_linecut_feed(&ctx->lc, buf, (size_t)r, stdin_on_line, ctx);
        if (ctx->lc.truncated != t0)
            atomic_fetch_add(&in->truncated, ctx->lc.truncated - t0);
    }
    if (eof) {
        ctx->recv_ns = lw_now_ns();
        uint64_t t0 = ctx->lc.truncated;
        lw_linecut_finish(&ctx->lc, stdin_on_line, ctx);
        if (ctx->lc.truncated != t0)
            atomic_fetch_add(&in->truncated, ctx->lc.truncated - t0);
    }
    stdin_push(ctx, eof);
    free(buf);
    return NULL;
}

static int stdin_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                      const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct stdin_ctx *ctx = lw_calloc(1, sizeof *ctx);
    ctx->in = in;
    ctx->fd = STDIN_FILENO;
    atomic_init(&ctx->stop, false);
    lw_linecut_init(&ctx->lc, in->max_line, 0);
    in->ctx = ctx;
    return lw_input_opts(in, stdin_opts, ctx, doc, map, diag);
}

static int stdin_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct stdin_ctx *ctx = in->ctx;
    int rc = pthread_create(&ctx->thread, NULL, stdin_main, ctx);
    if (rc != 0)
        return lw_err_set(err, LW_EIO, "input %s: cannot start the stdin thread: %s", in->name,
                          strerror(rc));
    ctx->started = true;
    return LW_OK;
}

/* The reader notices within STDIN_POLL_MS; one blocked in lw_queue_push is released by
 * lw_queue_close. free() joins it. */
static void stdin_stop(struct lw_input *in)
{
    struct stdin_ctx *ctx = in->ctx;
    if (ctx)
        atomic_store(&ctx->stop, true);
}

static void stdin_free(struct lw_input *in)
{
    struct stdin_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    atomic_store(&ctx->stop, true);
    if (ctx->started)
        pthread_join(ctx->thread, NULL);
    lw_batch_free(ctx->cur);
    lw_linecut_free(&ctx->lc);
    free(ctx);
    in->ctx = NULL;
}

const struct lw_input_ops lw_ingest__stdin_ops = {
    .type = "stdin",
    .opts = stdin_opts,
    .init = stdin_init,
    .start = stdin_start,
    .stop = stdin_stop,
    .free = stdin_free,
};
