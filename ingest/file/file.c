/* file.c: the file input: follows every file matching its globs, through rotation and
 * truncation, resuming from checkpoints; polls with a uv timer and reads on the I/O thread. */
#include "ingest.h"
#include "ingest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes per read(). A read's lines that do not fit in a full queue wait as pending batches:
 * 64 KiB keeps that to one batch. */
#define FILE_BLOCK (64u * 1024)
#define FILE_TICK_BLOCKS 64                  /* reads per file per tick, so one file can't hog */
#define FILE_ROTATE_WAIT (5 * LW_NS_PER_SEC) /* keep reading a rotated-away file this long */
/* Next tick when the queue was full. Short, so that a small queue (a few milliseconds of the
 * pipeline's work) is refilled before the pipeline runs dry; it only applies while blocked. */
#define FILE_RETRY_MS 2
#define FILE_WARN_EVERY (10 * LW_NS_PER_SEC)
#define BATCH_DATA (LW_BATCH_MAX_BYTES + 16 * 1024) /* a full batch and the line that ends it */

/* One followed file (one inode). Touched only on the I/O thread. */
struct ffile {
    struct lw_input *in;
    char *path; /* the name it was opened by */
    int fd;     /* -1 once closed */
    uint64_t dev, ino;
    int64_t off;     /* next byte to read; equals lc.off */
    int64_t recv_ns; /* arrival time of the block being cut */
    struct lw_linecut lc;
    struct lw_batch *cur;              /* batch being filled */
    struct lw_batch *pend, *pend_tail; /* full batches that did not fit in the queue yet */
    bool orphan;                       /* its path now names another file, or nothing */
    int64_t orphan_ns;                 /* monotonic time of its last growth since it became one */
    struct ffile *next;
};

struct file_ctx {
    struct lw_opt_list globs; /* `paths` */
    int64_t poll_ns;
    int64_t max_files;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool timer_live; /* timer initialised and not yet closed */
    bool scanned;    /* the first scan is done: later files start at 0 */
    bool stopping;
    struct ffile *files, *files_tail;
    size_t nfiles;
    char *buf; /* the read block */
    struct lw_ratelimit rl;
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
     .help = "how often the globs are matched again and the files checked for growth"},
    {.key = "max_files",
     .type = LW_OPT_INT,
     .def = "1024",
     .off = offsetof(struct file_ctx, max_files),
     .min = 1,
     .help = "files followed at once at most; more are skipped with a warning"},
    {.type = LW_OPT_END},
};

/* ---------------------------------------------------------------- batches */

static void ffile_queue_cur(struct ffile *f)
{
    if (!f->cur)
        return;
    if (f->pend_tail)
        f->pend_tail->next = f->cur;
    else
        f->pend = f->cur;
    f->pend_tail = f->cur;
    f->cur->next = NULL;
    f->cur = NULL;
}

/* Pushes pending batches in order; false when the queue is full (the rest stay pending). */
static bool ffile_flush(struct ffile *f)
{
    while (f->pend) {
        struct lw_batch *b = f->pend;
        struct lw_batch *next = b->next;
        b->next = NULL;
        int rc = lw_queue_try_push(f->in->queue, b);
        if (rc == LW_EFULL) {
            b->next = next;
            return false;
        }
        if (rc != LW_OK) {
            /* Queue closed: shutting down, nobody will read it. */
            lw_batch_free(b);
        }
        f->pend = next;
        if (!next)
            f->pend_tail = NULL;
    }
    return true;
}

static void file_on_line(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct ffile *f = payload;
    if (!f->cur)
        /* Sized for a full batch at once: growing by doubling copied it twice. */
        f->cur = lw_queue_batch(f->in->queue, f->in->index, f->path, BATCH_DATA);
    struct lw_pos pos = {f->dev, f->ino, end_off};
    lw_batch_add(f->cur, line, n, f->recv_ns, &pos);
    atomic_fetch_add(&f->in->lines, 1);
    atomic_fetch_add(&f->in->bytes, n);
    if (f->cur->n >= LW_BATCH_MAX_LINES || f->cur->len >= LW_BATCH_MAX_BYTES)
        ffile_queue_cur(f);
}

/* ---------------------------------------------------------------- files */

static void ffile_close(struct ffile *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void ffile_free(struct ffile *f)
{
    ffile_close(f);
    lw_linecut_free(&f->lc);
    lw_batch_free(f->cur);
    while (f->pend) {
        struct lw_batch *next = f->pend->next;
        lw_batch_free(f->pend);
        f->pend = next;
    }
    free(f->path);
    free(f);
}

/* Where to start reading a file just opened: a checkpoint for the same inode wins; otherwise
 * files present at startup begin at their end (or beginning), later ones at the beginning. */
static int64_t file_start_off(struct lw_input *in, struct file_ctx *ctx, const char *path,
                              const struct stat *st)
{
    struct lw_pos pos;
    if (in->ckpt && in->ckpt(in->name, path, &pos, in->ckpt_payload) == 0 &&
        pos.dev == (uint64_t)st->st_dev && pos.ino == (uint64_t)st->st_ino && pos.off >= 0 &&
        pos.off <= (int64_t)st->st_size)
        return pos.off;
    if (ctx->scanned || in->from_beginning)
        return 0;
    return (int64_t)st->st_size;
}

static void file_add(struct lw_input *in, struct file_ctx *ctx, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    /* Same inode under another name: a rename inside the globs, keep reading it. */
    for (struct ffile *f = ctx->files; f; f = f->next) {
        if (f->fd >= 0 && f->dev == (uint64_t)st.st_dev && f->ino == (uint64_t)st.st_ino) {
            if (f->orphan) {
                free(f->path);
                f->path = lw_strdup(path);
                f->orphan = false;
            }
            return;
        }
    }
    if ((int64_t)ctx->nfiles >= ctx->max_files) {
        if (lw_ingest__ratelimit(&ctx->rl, FILE_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] max_files (%lld) reached, not following %s", in->name,
                   (long long)ctx->max_files, path);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (lw_ingest__ratelimit(&ctx->rl, FILE_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] cannot open %s: %s", in->name, path, strerror(errno));
        return;
    }
    /* Identity from the descriptor: the path may have changed since stat(). */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    struct ffile *f = lw_calloc(1, sizeof *f);
    f->in = in;
    f->path = lw_strdup(path);
    f->fd = fd;
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->off = file_start_off(in, ctx, path, &st);
    lw_linecut_init(&f->lc, in->max_line, f->off);
    if (ctx->files_tail)
        ctx->files_tail->next = f;
    else
        ctx->files = f;
    ctx->files_tail = f;
    ctx->nfiles++;
    lw_log(LW_INFO, "[input:%s] following %s from offset %lld", in->name, path, (long long)f->off);
}

/* Reads a file up to EOF (or its per-tick budget) into batches. Returns false when the queue
 * is full: the file keeps its pending batches and reading stops until the next tick. Sets
 * *more when the budget ran out before EOF. */
static bool ffile_pump(struct file_ctx *ctx, struct ffile *f, bool *more)
{
    struct lw_input *in = f->in;
    if (!ffile_flush(f))
        return false;
    for (int i = 0; f->fd >= 0; i++) {
        if (i == FILE_TICK_BLOCKS) {
            *more = true;
            break;
        }
        ssize_t r = pread(f->fd, ctx->buf, FILE_BLOCK, f->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (lw_ingest__ratelimit(&ctx->rl, FILE_WARN_EVERY))
                lw_log(LW_WARN, "[input:%s] read %s: %s", in->name, f->path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if (f->orphan)
            f->orphan_ns = lw_mono_ns();
        f->recv_ns = lw_now_ns();
        uint64_t t0 = f->lc.truncated;
        lw_linecut_feed(&f->lc, ctx->buf, (size_t)r, file_on_line, f);
        f->off += r;
        if (f->lc.truncated != t0)
            atomic_fetch_add(&in->truncated, f->lc.truncated - t0);
        if (!ffile_flush(f))
            return false;
        if ((size_t)r < FILE_BLOCK)
            break;
    }
    /* At EOF the partial batch goes too: lines should not wait for 1024 more. */
    ffile_queue_cur(f);
    return ffile_flush(f);
}

/* Detects rotation (the path names another inode, or nothing) and copytruncate (the file
 * shrank below our offset). */
static void ffile_check(struct file_ctx *ctx, struct ffile *f)
{
    struct lw_input *in = f->in;
    struct stat st;
    if (f->fd < 0)
        return;
    if (!f->orphan) {
        if (stat(f->path, &st) != 0 || (uint64_t)st.st_dev != f->dev ||
            (uint64_t)st.st_ino != f->ino) {
            lw_log(LW_INFO, "[input:%s] %s was rotated or removed", in->name, f->path);
            f->orphan = true;
            f->orphan_ns = lw_mono_ns();
        }
    }
    if (fstat(f->fd, &st) != 0)
        return;
    if (!f->orphan && (int64_t)st.st_size < f->off) {
        lw_log(LW_INFO, "[input:%s] %s was truncated, reading it again from the start", in->name,
               f->path);
        /* The held partial line belonged to the old content. */
        lw_linecut_free(&f->lc);
        lw_linecut_init(&f->lc, in->max_line, 0);
        f->off = 0;
    }
}

/* A rotated-away file is closed once it is drained and quiet for FILE_ROTATE_WAIT (a writer
 * may still hold it open), a deleted one as soon as it is drained. Its last line, if
 * unterminated, is passed then: nothing more can complete it. */
static bool ffile_done(struct ffile *f, int64_t now)
{
    struct stat st;
    if (!f->orphan || f->fd < 0)
        return f->fd < 0;
    bool deleted = fstat(f->fd, &st) == 0 && st.st_nlink == 0;
    if (!deleted && now - f->orphan_ns < FILE_ROTATE_WAIT)
        return false;
    f->recv_ns = lw_now_ns();
    uint64_t t0 = f->lc.truncated;
    lw_linecut_finish(&f->lc, file_on_line, f);
    if (f->lc.truncated != t0)
        atomic_fetch_add(&f->in->truncated, f->lc.truncated - t0);
    ffile_queue_cur(f);
    ffile_close(f);
    return true;
}

static void file_scan(struct lw_input *in, struct file_ctx *ctx)
{
    for (size_t i = 0; i < ctx->globs.n; i++) {
        glob_t g;
        int rc = glob(ctx->globs.v[i], GLOB_NOSORT, NULL, &g);
        if (rc == GLOB_NOMATCH)
            continue;
        if (rc != 0) {
            if (lw_ingest__ratelimit(&ctx->rl, FILE_WARN_EVERY))
                lw_log(LW_WARN, "[input:%s] glob %s failed", in->name, ctx->globs.v[i]);
            continue;
        }
        for (size_t j = 0; j < g.gl_pathc; j++) {
            const char *path = g.gl_pathv[j];
            bool known = false;
            for (struct ffile *f = ctx->files; f && !known; f = f->next)
                known = !f->orphan && f->fd >= 0 && strcmp(f->path, path) == 0;
            if (!known)
                file_add(in, ctx, path);
        }
        globfree(&g);
    }
    ctx->scanned = true;
}

static void file_tick(uv_timer_t *t)
{
    struct lw_input *in = t->data;
    struct file_ctx *ctx = in->ctx;
    bool blocked = false, more = false;
    int64_t now = lw_mono_ns();

    for (struct ffile *f = ctx->files; f; f = f->next)
        ffile_check(ctx, f);
    file_scan(in, ctx);
    /* List order is open order, so a rotated-away file drains before its successor. */
    for (struct ffile *f = ctx->files; f && !blocked; f = f->next) {
        if (!ffile_pump(ctx, f, &more))
            blocked = true;
        else if (ffile_done(f, now) && !ffile_flush(f))
            blocked = true;
    }
    /* Forget closed files whose batches are all in the queue. */
    struct ffile **pp = &ctx->files, *prev = NULL;
    while (*pp) {
        struct ffile *f = *pp;
        if (f->fd < 0 && !f->pend && !f->cur) {
            *pp = f->next;
            ctx->nfiles--;
            ffile_free(f);
        } else {
            prev = f;
            pp = &f->next;
        }
    }
    ctx->files_tail = prev;
    uint64_t delay = (uint64_t)(ctx->poll_ns / LW_NS_PER_MS);
    if (blocked)
        delay = delay < FILE_RETRY_MS ? delay : FILE_RETRY_MS;
    else if (more)
        delay = 0;
    if (!ctx->stopping)
        uv_timer_start(&ctx->timer, file_tick, delay, 0);
}

/* ---------------------------------------------------------------- ops */

static void file_free(struct lw_input *in)
{
    struct file_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    while (ctx->files) {
        struct ffile *next = ctx->files->next;
        ffile_free(ctx->files);
        ctx->files = next;
    }
    lw_opts_free(file_opts, ctx);
    free(ctx->buf);
    free(ctx);
    in->ctx = NULL;
}

static int file_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                     const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct file_ctx *ctx = lw_calloc(1, sizeof *ctx);
    in->ctx = ctx;
    int rc = lw_input_opts(in, file_opts, ctx, doc, map, diag);
    if (rc != LW_OK)
        file_free(in);
    return rc;
}

static int file_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct file_ctx *ctx = in->ctx;
    if (!ctx)
        return lw_err_set(err, LW_EINVAL, "input %s: not initialised", in->name);
    ctx->loop = loop;
    ctx->buf = lw_malloc(FILE_BLOCK);
    int rc = uv_timer_init(loop, &ctx->timer);
    if (rc != 0)
        return lw_err_set(err, LW_EIO, "input %s: uv_timer_init: %s", in->name, uv_strerror(rc));
    ctx->timer.data = in;
    ctx->timer_live = true;
    uv_timer_start(&ctx->timer, file_tick, 0, 0);
    return LW_OK;
}

static void file_stop(struct lw_input *in)
{
    struct file_ctx *ctx = in->ctx;
    if (!ctx || ctx->stopping)
        return;
    ctx->stopping = true;
    if (ctx->timer_live) {
        uv_timer_stop(&ctx->timer);
        uv_close((uv_handle_t *)&ctx->timer, NULL);
        ctx->timer_live = false;
    }
    /* Hand over what was read; what does not fit is read again after restart (checkpoints
     * only cover lines the pipeline has seen). */
    for (struct ffile *f = ctx->files; f; f = f->next) {
        ffile_queue_cur(f);
        ffile_flush(f);
        ffile_close(f);
    }
}

/* The queue drained after refusing a batch: read on now rather than after FILE_RETRY_MS. */
static void file_resume(struct lw_input *in)
{
    struct file_ctx *ctx = in->ctx;
    if (ctx && !ctx->stopping && ctx->timer_live)
        uv_timer_start(&ctx->timer, file_tick, 0, 0);
}

const struct lw_input_ops lw_ingest__file_ops = {
    .type = "file",
    .opts = file_opts,
    .init = file_init,
    .start = file_start,
    .stop = file_stop,
    .resume = file_resume,
    .free = file_free,
};
