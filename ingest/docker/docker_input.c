/* docker_input.c: `type: docker`: finds the containers under dockerd's containers folder as they
 * start and stop, names them from their config.v2.json, and follows each <id>-json.log (and the
 * engine's rotations of it) with the tail engine under those labels.
 *
 * A container's life as this input sees it (checked at each scan: inotify on the folder, and a
 * poll every poll_interval that also catches config changes, which happen inside subfolders):
 *
 *   (new folder) ──config read──► WAITING ──log exists──► FOLLOWED ──Running false──► STOPPED
 *        │                            │                      ▲  │                        │
 *        │                            │                      └──┼─── Running true ───────┘
 *        └─ not included ──► EXCLUDED └─ folder removed ─────────┴──► lw_tail_remove, forgotten
 *
 * A container first seen stopped with a log (stopped while we were down, or between two scans)
 * goes WAITING ──► DRAIN ──(next scan)──► STOPPED: followed for one look of the engine, so that
 * its lines are read before it is removed.
 *
 * STOPPED and a removed folder both mean lw_tail_remove: the engine reads what the log holds to
 * its end, then forgets it. What is committed is the tail's business (positions by identity).
 */
#include "ingest.h"
#include "ingest_int.h"
#include "file/tail.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOCKER_WARN_EVERY (10 * LW_NS_PER_SEC)

/* C_DRAIN: found stopped with a log; followed for one look of the engine, then removed (a path
 * removed before the engine ever looked at it would not be read). */
enum cstate { C_WAITING, C_FOLLOWED, C_DRAIN, C_STOPPED, C_EXCLUDED };

/* One container folder. I/O thread only. */
struct dcont {
    char id[65];
    char *log; /* <dir>/<id>/<id>-json.log */
    enum cstate state;
    bool seen;                /* found by the scan under way */
    bool refused;             /* over max_containers: said once */
    struct timespec cfg_time; /* config.v2.json's mtime, size and inode when last read */
    off_t cfg_size;
    ino_t cfg_ino;
    struct dcont *next;
};

struct docker_ctx {
    char *dir; /* containers_dir */
    struct lw_opt_list include, exclude;
    int64_t poll_ns, max_files, max_containers;
    struct lw_tail *tail;
    uv_loop_t *loop;
    uv_fs_event_t watch;
    bool watch_live, stopping;
    bool dirty;      /* the folder changed since the last scan (inotify) */
    int64_t scan_ns; /* monotonic time of the last scan */
    struct dcont *conts;
    size_t nfollowed;
    struct lw_ratelimit rl;
    /* Read by the HTTP thread (metrics). */
    _Atomic uint64_t followed, configs_refused, configs_bad, over_max, excluded;
};

static const struct lw_opt docker_opts[] = {
    {.key = "containers_dir",
     .type = LW_OPT_PATH,
     .def = "/var/lib/docker/containers",
     .off = offsetof(struct docker_ctx, dir),
     .flags = LW_OPT_NOENV,
     .help = "dockerd's containers folder: one folder per container with config.v2.json and "
             "<id>-json.log"},
    {.key = "include",
     .type = LW_OPT_LIST,
     .type_name = "globs",
     .off = offsetof(struct docker_ctx, include),
     .help = "container names to follow (globs, e.g. shop-*); default: every container"},
    {.key = "exclude",
     .type = LW_OPT_LIST,
     .type_name = "globs",
     .off = offsetof(struct docker_ctx, exclude),
     .help = "container names not to follow, even when included (globs)"},
    {.key = "poll_interval",
     .type = LW_OPT_DURATION,
     .def = "250ms",
     .off = offsetof(struct docker_ctx, poll_ns),
     .min = LW_NS_PER_MS,
     .help = "how often the folder and the configs are checked again (inotify wakes it sooner)"},
    {.key = "max_files",
     .type = LW_OPT_INT,
     .def = "1024",
     .off = offsetof(struct docker_ctx, max_files),
     .min = 1,
     .help = "log files (with rotated ones) followed at once at most; more are skipped, counted"},
    {.key = "max_containers",
     .type = LW_OPT_INT,
     .def = "512",
     .off = offsetof(struct docker_ctx, max_containers),
     .min = 1,
     .help = "containers followed at once at most; more are skipped, counted and logged"},
    {.type = LW_OPT_END},
};

/* ---------------------------------------------------------------- choosing containers */

static bool any_glob(const struct lw_opt_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], name, 0) == 0)
            return true;
    return false;
}

static bool wanted(const struct docker_ctx *ctx, const char *name)
{
    if (ctx->include.n && !any_glob(&ctx->include, name))
        return false;
    return !any_glob(&ctx->exclude, name);
}

static bool is_id(const char *s)
{
    size_t n = strlen(s);
    return n == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* ---------------------------------------------------------------- following */

/* Follows c's log under m's labels (again, when they changed: the engine replaces them). */
static void dcont_follow(struct lw_input *in, struct docker_ctx *ctx, struct dcont *c,
                         const struct lw_docker_meta *m)
{
    if (c->state != C_FOLLOWED && ctx->nfollowed >= (size_t)ctx->max_containers) {
        if (!c->refused) {
            atomic_fetch_add(&ctx->over_max, 1);
            lw_log(LW_WARN, "[input:%s] max_containers (%lld) reached, not following %s (%s)",
                   in->name, (long long)ctx->max_containers, m->name ? m->name : "?", c->id);
        }
        c->refused = true;
        return;
    }
    struct lw_labelset *ls = lw_ingest__docker_labels(m);
    struct lw_tail_labels tl = {
        .extra_names = ls->names, .extra_values = ls->values, .nextra = ls->nextra};
    memcpy(tl.slot, ls->slot, sizeof tl.slot);
    if (lw_tail_add(ctx->tail, c->log, &tl) == 0 && c->state != C_FOLLOWED) {
        ctx->nfollowed++;
        c->state = C_FOLLOWED;
        c->refused = false;
        lw_log(LW_INFO, "[input:%s] following container %s (%s, %s)", in->name,
               m->name ? m->name : "?", m->image ? m->image : "?", c->id);
    }
    lw_labelset_unref(ls);
}

/* Stops following c: the engine reads its log to the end, then forgets it. */
static void dcont_unfollow(struct lw_input *in, struct docker_ctx *ctx, struct dcont *c,
                           enum cstate next)
{
    if (c->state == C_FOLLOWED || c->state == C_DRAIN) {
        lw_tail_remove(ctx->tail, c->log);
        ctx->nfollowed--;
        lw_log(LW_INFO, "[input:%s] container %s stopped: reading its log to the end", in->name,
               c->id);
    }
    c->state = next;
}

/* Whether config.v2.json changed since it was last read (dockerd replaces it by a rename). */
static bool cfg_changed(struct dcont *c, const struct stat *st)
{
    bool changed = st->st_mtim.tv_sec != c->cfg_time.tv_sec ||
                   st->st_mtim.tv_nsec != c->cfg_time.tv_nsec || st->st_size != c->cfg_size ||
                   st->st_ino != c->cfg_ino;
    c->cfg_time = st->st_mtim;
    c->cfg_size = st->st_size;
    c->cfg_ino = st->st_ino;
    return changed;
}

/* A config that cannot be used: its container's lines are still read, under its id alone, so
 * none is lost; the refusal is counted and said. */
static void meta_fallback(struct lw_input *in, struct docker_ctx *ctx, struct dcont *c, int rc,
                          const struct lw_err *err, struct lw_docker_meta *m)
{
    atomic_fetch_add(rc == LW_EFULL ? &ctx->configs_refused : &ctx->configs_bad, 1);
    if (lw_ingest__ratelimit(&ctx->rl, DOCKER_WARN_EVERY))
        lw_log(LW_WARN, "[input:%s] %s; its lines are read without its name and labels", in->name,
               err->msg);
    memset(m, 0, sizeof *m);
    m->id = lw_strdup(c->id);
    m->running = true;
}

/* Looks at one container folder: reads its config when it changed and moves it along its
 * states (the diagram at the top). */
static void dcont_check(struct lw_input *in, struct docker_ctx *ctx, struct dcont *c)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/config.v2.json", ctx->dir, c->id);
    if (stat(path, &st) != 0)
        return; /* no config yet: being created */
    if (!cfg_changed(c, &st) && !c->refused)
        return; /* the same as last time (one refused for max_containers is tried again) */
    struct lw_docker_meta m;
    struct lw_err err = {0};
    int rc = lw_ingest__docker_meta_read(path, LW_DOCKER_META_MAX, &m, &err);
    if (rc == LW_ENOENT) {
        memset(&c->cfg_time, 0, sizeof c->cfg_time); /* replaced under us: look again */
        return;
    }
    if (rc != LW_OK)
        meta_fallback(in, ctx, c, rc, &err, &m);
    if (c->state == C_EXCLUDED || (m.name && !wanted(ctx, m.name))) {
        if (c->state != C_EXCLUDED)
            atomic_fetch_add(&ctx->excluded, 1);
        c->state = C_EXCLUDED; /* a container's name does not change while it exists */
    } else if (m.running || (c->state == C_WAITING && stat(c->log, &st) == 0)) {
        dcont_follow(in, ctx, c, &m);
        /* Found stopped with a log (stopped while we were down, or between two scans): read it
         * to its end, removed at the next scan. */
        if (!m.running && c->state == C_FOLLOWED)
            c->state = C_DRAIN;
    } else if (c->state == C_FOLLOWED) {
        dcont_unfollow(in, ctx, c, C_STOPPED);
    }
    lw_ingest__docker_meta_free(&m);
}

static struct dcont *dcont_get(struct docker_ctx *ctx, const char *id)
{
    for (struct dcont *c = ctx->conts; c; c = c->next)
        if (!strcmp(c->id, id))
            return c;
    struct dcont *c = lw_calloc(1, sizeof *c);
    memcpy(c->id, id, 65);
    size_t n = strlen(ctx->dir) + 2 * 64 + 16;
    c->log = lw_malloc(n);
    snprintf(c->log, n, "%s/%s/%s-json.log", ctx->dir, id, id);
    c->next = ctx->conts;
    ctx->conts = c;
    return c;
}

static void docker_scan(struct lw_input *in, struct docker_ctx *ctx)
{
    DIR *d = opendir(ctx->dir);
    if (!d) {
        if (lw_ingest__ratelimit(&ctx->rl, DOCKER_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] cannot read %s: %s", in->name, ctx->dir, strerror(errno));
        return; /* keep what we follow: the folder may be back at the next poll */
    }
    for (struct dcont *c = ctx->conts; c; c = c->next)
        c->seen = false;
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_id(e->d_name))
            dcont_get(ctx, e->d_name)->seen = true;
    closedir(d);
    for (struct dcont **pp = &ctx->conts; *pp;) {
        struct dcont *c = *pp;
        if (c->seen) {
            if (c->state == C_DRAIN)
                dcont_unfollow(in, ctx, c, C_STOPPED);
            dcont_check(in, ctx, c);
            pp = &c->next;
            continue;
        }
        /* Folder removed (docker rm): what the log still holds open is read, then forgotten. */
        dcont_unfollow(in, ctx, c, C_STOPPED);
        *pp = c->next;
        free(c->log);
        free(c);
    }
    atomic_store(&ctx->followed, ctx->nfollowed);
}

/* ---------------------------------------------------------------- the loop */

/* A container folder came or went: the engine ticks now, and the scan runs in it. */
static void docker_on_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    struct lw_input *in = h->data;
    struct docker_ctx *ctx = in->ctx;
    ctx->dirty = true;
    if (!ctx->stopping)
        lw_tail_resume(ctx->tail);
}

/* inotify on the folder; without it (a file system that has none, a folder not there yet) the
 * poll alone finds containers, a poll_interval later. */
static void docker_watch_start(struct lw_input *in, struct docker_ctx *ctx)
{
    if (uv_fs_event_init(ctx->loop, &ctx->watch) != 0)
        return;
    ctx->watch.data = in;
    if (uv_fs_event_start(&ctx->watch, docker_on_event, ctx->dir, 0) != 0) {
        uv_close((uv_handle_t *)&ctx->watch, NULL);
        return;
    }
    ctx->watch_live = true;
}

/* The engine's tick (lw_tail_cfg.on_tick): containers are found in step with it, so that its
 * first look after a restart knows every container (and finds what rotated while we were
 * down). A scan runs when the folder changed, else once per poll_interval: the engine also
 * ticks for every write to a followed log. */
static void docker_on_tick(void *arg)
{
    struct lw_input *in = arg;
    struct docker_ctx *ctx = in->ctx;
    int64_t now = lw_mono_ns();
    if (ctx->stopping || (!ctx->dirty && ctx->scan_ns && now - ctx->scan_ns < ctx->poll_ns * 3 / 4))
        return;
    ctx->dirty = false;
    ctx->scan_ns = now;
    if (!ctx->watch_live)
        docker_watch_start(in, ctx);
    docker_scan(in, ctx);
}

/* ---------------------------------------------------------------- metrics */

/* Samples only (ingest.h): their meaning is in docs/inputs.md. */
static void docker_metrics(struct lw_input *in, struct lw_buf *out)
{
    struct docker_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    static const struct {
        const char *name;
        size_t off;
    } rows[] = {
        {"docker_containers", offsetof(struct docker_ctx, followed)},
        {"docker_configs_refused_total", offsetof(struct docker_ctx, configs_refused)},
        {"docker_configs_bad_total", offsetof(struct docker_ctx, configs_bad)},
        {"docker_containers_skipped_total", offsetof(struct docker_ctx, over_max)},
        {"docker_containers_excluded_total", offsetof(struct docker_ctx, excluded)},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        _Atomic uint64_t *v = (_Atomic uint64_t *)((char *)ctx + rows[i].off);
        lw_buf_printf(out, "logwarden_%s{input=\"%s\"} %llu\n", rows[i].name, in->name,
                      (unsigned long long)atomic_load(v));
    }
    if (ctx->tail)
        lw_tail_metrics(ctx->tail, out);
}

/* ---------------------------------------------------------------- ops */

static int docker_lag(struct lw_input *in, const char **unit, uint64_t *out)
{
    struct docker_ctx *ctx = in->ctx;
    if (!ctx || !ctx->tail)
        return -1;
    *unit = "bytes";
    *out = lw_tail_behind(ctx->tail);
    return 0;
}

static void docker_free(struct lw_input *in)
{
    struct docker_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    while (ctx->conts) {
        struct dcont *next = ctx->conts->next;
        free(ctx->conts->log);
        free(ctx->conts);
        ctx->conts = next;
    }
    lw_tail_free(ctx->tail);
    lw_opts_free(docker_opts, ctx);
    free(ctx);
    in->ctx = NULL;
}

static int docker_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct docker_ctx *ctx = lw_calloc(1, sizeof *ctx);
    in->ctx = ctx;
    int rc = lw_input_opts(in, docker_opts, ctx, doc, map, diag);
    if (rc != LW_OK)
        docker_free(in);
    return rc;
}

static int docker_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct docker_ctx *ctx = in->ctx;
    if (!ctx)
        return lw_err_set(err, LW_EINVAL, "input %s: not initialised", in->name);
    struct lw_tail_cfg tc = {.poll_interval_ns = ctx->poll_ns,
                             .max_files = (size_t)ctx->max_files,
                             .on_tick = docker_on_tick,
                             .on_tick_arg = in};
    ctx->loop = loop;
    ctx->tail = lw_tail_new(in, &tc);
    return lw_tail_start(ctx->tail, loop, err);
}

static void docker_stop(struct lw_input *in)
{
    struct docker_ctx *ctx = in->ctx;
    if (!ctx || ctx->stopping)
        return;
    ctx->stopping = true;
    if (ctx->watch_live)
        uv_close((uv_handle_t *)&ctx->watch, NULL);
    ctx->watch_live = false;
    if (ctx->tail)
        lw_tail_stop(ctx->tail);
}

static void docker_resume(struct lw_input *in)
{
    struct docker_ctx *ctx = in->ctx;
    if (ctx && ctx->tail && !ctx->stopping)
        lw_tail_resume(ctx->tail);
}

static void docker_checkpoint(struct lw_input *in, const char *stream, const struct lw_pos *pos)
{
    struct docker_ctx *ctx = in->ctx;
    if (ctx && ctx->tail)
        lw_tail_checkpoint(ctx->tail, stream, pos);
}

const struct lw_input_ops lw_ingest__docker_ops = {
    .type = "docker",
    .opts = docker_opts,
    .init = docker_init,
    .start = docker_start,
    .stop = docker_stop,
    .resume = docker_resume,
    .free = docker_free,
    .checkpoint = docker_checkpoint,
    .pos_encode = lw_tail_pos_encode,
    .metrics = docker_metrics,
    .lag = docker_lag,
    .labels = 1u << LW_L_PATH | 1u << LW_L_CONTAINER | 1u << LW_L_CONTAINER_ID | 1u << LW_L_IMAGE |
              1u << LW_L_COMPOSE_SERVICE | 1u << LW_L_COMPOSE_PROJECT | 1u << LW_L_STREAM |
              LW_LABELS_EXTRA,
    .format = LW_FMT_DOCKER,
};
