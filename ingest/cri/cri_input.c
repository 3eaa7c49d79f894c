/* cri_input.c: `type: cri`: Kubernetes container logs as kubelet writes them,
 * <pods_dir>/<namespace>_<pod>_<uid>/<container>/<restart>.log, and as it links them,
 * <containers_dir>/<pod>_<namespace>_<container>-<id>.log: every log found either way is followed
 * once, by its real path, with the tail engine (which finds kubelet's rotations beside it), under
 * the names its path gives.
 *
 * The two folders name the same files: a link is resolved (realpath) and joins the pod log it
 * points at, adding the container id only the link's name carries; a link to a log outside
 * pods_dir is followed under the names of its target's path, or else of its own name. A log
 * whose path is gone from both folders (pod deleted, container's old restart removed by kubelet)
 * is read to its end and forgotten (lw_tail_remove).
 */
#include "ingest.h"
#include "ingest_int.h"
#include "file/tail.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CRI_WARN_EVERY (10 * LW_NS_PER_SEC)

/* One container log (one restart of one container). I/O thread only. */
struct klog {
    char *path;    /* its real path: what the tail follows */
    char *names;   /* namespace, pod, uid, container, restart, id: NUL-separated copies */
    bool followed; /* lw_tail_add succeeded */
    bool excluded; /* include/exclude left it out */
    bool refused;  /* over max_containers: said once */
    bool seen;     /* found by the scan under way */
    bool changed;  /* its names changed in this scan (a link added the id) */
    struct klog *next;
};

struct cri_ctx {
    char *pods_dir, *containers_dir;
    char *pods_real; /* pods_dir resolved, for the paths it gives */
    struct lw_opt_list include, exclude;
    int64_t poll_ns, max_files, max_containers;
    struct lw_tail *tail;
    uv_loop_t *loop;
    uv_fs_event_t watch[2]; /* pods_dir, containers_dir */
    bool watch_live[2], stopping;
    bool dirty;      /* a folder changed since the last scan (inotify) */
    int64_t scan_ns; /* monotonic time of the last scan */
    struct klog *logs;
    size_t nfollowed;
    struct lw_ratelimit rl;
    _Atomic uint64_t followed, over_max, excluded; /* read by the HTTP thread (metrics) */
};

static const struct lw_opt cri_opts[] = {
    {.key = "pods_dir",
     .type = LW_OPT_PATH,
     .def = "/var/log/pods",
     .off = offsetof(struct cri_ctx, pods_dir),
     .flags = LW_OPT_NOENV,
     .help = "kubelet's pod logs: <namespace>_<pod>_<uid>/<container>/<restart>.log"},
    {.key = "containers_dir",
     .type = LW_OPT_PATH,
     .def = "/var/log/containers",
     .off = offsetof(struct cri_ctx, containers_dir),
     .flags = LW_OPT_NOENV,
     .help = "kubelet's links <pod>_<namespace>_<container>-<id>.log (each log is read once)"},
    {.key = "include",
     .type = LW_OPT_LIST,
     .type_name = "globs",
     .off = offsetof(struct cri_ctx, include),
     .help = "namespace/pod/container to follow (globs, e.g. prod/*/app); default: every one"},
    {.key = "exclude",
     .type = LW_OPT_LIST,
     .type_name = "globs",
     .off = offsetof(struct cri_ctx, exclude),
     .help = "namespace/pod/container not to follow, even when included (e.g. kube-system/*)"},
    {.key = "poll_interval",
     .type = LW_OPT_DURATION,
     .def = "250ms",
     .off = offsetof(struct cri_ctx, poll_ns),
     .min = LW_NS_PER_MS,
     .help = "how often the folders are scanned again (inotify wakes it sooner)"},
    {.key = "max_files",
     .type = LW_OPT_INT,
     .def = "1024",
     .off = offsetof(struct cri_ctx, max_files),
     .min = 1,
     .help = "log files (with rotated ones) followed at once at most; more are skipped, counted"},
    {.key = "max_containers",
     .type = LW_OPT_INT,
     .def = "512",
     .off = offsetof(struct cri_ctx, max_containers),
     .min = 1,
     .help = "container logs followed at once at most; more are skipped, counted and logged"},
    {.type = LW_OPT_END},
};

/* ---------------------------------------------------------------- names */

enum { N_NS, N_POD, N_UID, N_CTR, N_RESTART, N_ID, N_COUNT };

/* The i-th of the NUL-separated names. */
static const char *name_at(const char *names, int i)
{
    while (i--)
        names += strlen(names) + 1;
    return names;
}

/* k's names and id as one NUL-separated block. */
static char *names_pack(const struct lw_kube_path *k, struct lw_str id)
{
    const struct lw_str parts[N_COUNT] = {k->ns, k->pod, k->uid, k->container, k->restart, id};
    size_t n = 0;
    for (int i = 0; i < N_COUNT; i++)
        n += parts[i].n + 1;
    char *b = lw_malloc(n), *p = b;
    for (int i = 0; i < N_COUNT; i++) {
        if (parts[i].n)
            memcpy(p, parts[i].p, parts[i].n);
        p[parts[i].n] = '\0';
        p += parts[i].n + 1;
    }
    return b;
}

static bool any_glob(const struct lw_opt_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], s, 0) == 0)
            return true;
    return false;
}

/* include/exclude match "namespace/pod/container". */
static bool wanted(const struct cri_ctx *ctx, const char *names)
{
    char key[768];
    snprintf(key, sizeof key, "%s/%s/%s", name_at(names, N_NS), name_at(names, N_POD),
             name_at(names, N_CTR));
    if (ctx->include.n && !any_glob(&ctx->include, key))
        return false;
    return !any_glob(&ctx->exclude, key);
}

/* ---------------------------------------------------------------- the set of logs */

static struct klog *klog_find(struct cri_ctx *ctx, const char *path)
{
    for (struct klog *l = ctx->logs; l; l = l->next)
        if (!strcmp(l->path, path))
            return l;
    return NULL;
}

/* Notes path (a real path) with its names as found in this scan: new, or seen again (a link's
 * id completes what the pod folder gave). */
static void klog_note(struct cri_ctx *ctx, const char *path, const struct lw_kube_path *k,
                      struct lw_str id)
{
    struct klog *l = klog_find(ctx, path);
    if (!l) {
        l = lw_calloc(1, sizeof *l);
        l->path = lw_strdup(path);
        l->names = names_pack(k, id);
        l->changed = true;
        l->next = ctx->logs;
        ctx->logs = l;
    } else if (id.n && !*name_at(l->names, N_ID)) {
        struct lw_kube_path old = {
            lw_str_c(name_at(l->names, N_NS)), lw_str_c(name_at(l->names, N_POD)),
            lw_str_c(name_at(l->names, N_UID)), lw_str_c(name_at(l->names, N_CTR)),
            lw_str_c(name_at(l->names, N_RESTART))};
        char *names = names_pack(&old, id);
        free(l->names);
        l->names = names;
        l->changed = true;
    }
    l->seen = true;
}

static void scan_pod(struct cri_ctx *ctx, const char *pod)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", ctx->pods_real, pod) >= sizeof dir)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *c, *f;
    while ((c = readdir(d))) {
        if (c->d_name[0] == '.')
            continue;
        char cdir[PATH_MAX];
        if ((size_t)snprintf(cdir, sizeof cdir, "%s/%s", dir, c->d_name) >= sizeof cdir)
            continue;
        DIR *cd = opendir(cdir);
        if (!cd)
            continue;
        while ((f = readdir(cd))) {
            struct lw_kube_path k;
            if ((size_t)snprintf(path, sizeof path, "%s/%s", cdir, f->d_name) >= sizeof path ||
                lw_ingest__kube_path_parse(path, &k) != 0)
                continue; /* rotations (0.log.20261205-101010, .gz) are the tail's */
            klog_note(ctx, path, &k, (struct lw_str){NULL, 0});
        }
        closedir(cd);
    }
    closedir(d);
}

static void scan_pods(struct lw_input *in, struct cri_ctx *ctx)
{
    if (!ctx->pods_real) {
        char real[PATH_MAX];
        if (!realpath(ctx->pods_dir, real))
            return; /* not there (yet): the links may still lead to logs */
        ctx->pods_real = lw_strdup(real);
    }
    DIR *d = opendir(ctx->pods_real);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            scan_pod(ctx, e->d_name);
    closedir(d);
}

static void scan_links(struct lw_input *in, struct cri_ctx *ctx)
{
    DIR *d = opendir(ctx->containers_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[PATH_MAX], real[PATH_MAX];
        struct lw_kube_path k, byname;
        struct lw_str id = {NULL, 0};
        if ((size_t)snprintf(link, sizeof link, "%s/%s", ctx->containers_dir, e->d_name) >=
                sizeof link ||
            !realpath(link, real))
            continue; /* a dangling link: its pod log is gone */
        bool named = lw_ingest__kube_link_parse(e->d_name, &byname, &id) == 0;
        if (lw_ingest__kube_path_parse(real, &k) == 0)
            klog_note(ctx, real, &k, id);
        else if (named)
            klog_note(ctx, real, &byname, id);
    }
    closedir(d);
}

/* ---------------------------------------------------------------- following */

static void klog_follow(struct lw_input *in, struct cri_ctx *ctx, struct klog *l)
{
    if (!l->followed && ctx->nfollowed >= (size_t)ctx->max_containers) {
        if (!l->refused) {
            atomic_fetch_add(&ctx->over_max, 1);
            lw_log(LW_WARN, "[input:%s] max_containers (%lld) reached, not following %s", in->name,
                   (long long)ctx->max_containers, l->path);
        }
        l->refused = true;
        return;
    }
    static const int slot[N_COUNT] = {LW_L_NAMESPACE, LW_L_POD,     LW_L_POD_UID,
                                      LW_L_CONTAINER, LW_L_RESTART, LW_L_CONTAINER_ID};
    struct lw_tail_labels tl = {{{0}}};
    for (int i = 0; i < N_COUNT; i++) {
        const char *v = name_at(l->names, i);
        if (*v)
            tl.slot[slot[i]] = lw_str_c(v);
    }
    if (lw_tail_add(ctx->tail, l->path, &tl) == 0 && !l->followed) {
        l->followed = true;
        l->refused = false;
        ctx->nfollowed++;
        lw_log(LW_INFO, "[input:%s] following %s/%s/%s (restart %s)", in->name,
               name_at(l->names, N_NS), name_at(l->names, N_POD), name_at(l->names, N_CTR),
               name_at(l->names, N_RESTART));
    }
}

static void cri_scan(struct lw_input *in, struct cri_ctx *ctx)
{
    for (struct klog *l = ctx->logs; l; l = l->next)
        l->seen = l->changed = false;
    scan_pods(in, ctx);
    scan_links(in, ctx);
    for (struct klog **pp = &ctx->logs; *pp;) {
        struct klog *l = *pp;
        if (!l->seen) {
            /* Gone from both folders: read what it holds to the end, then forget it. */
            if (l->followed) {
                lw_tail_remove(ctx->tail, l->path);
                ctx->nfollowed--;
            }
            *pp = l->next;
            free(l->path);
            free(l->names);
            free(l);
            continue;
        }
        if (l->changed && !l->excluded && !wanted(ctx, l->names)) {
            l->excluded = true;
            atomic_fetch_add(&ctx->excluded, 1);
        }
        if (!l->excluded && (l->changed || l->refused))
            klog_follow(in, ctx, l);
        pp = &l->next;
    }
    atomic_store(&ctx->followed, ctx->nfollowed);
}

/* ---------------------------------------------------------------- the loop */

/* A pod or a link came or went: the engine ticks now, and the scan runs in it. */
static void cri_on_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    struct lw_input *in = h->data;
    struct cri_ctx *ctx = in->ctx;
    ctx->dirty = true;
    if (!ctx->stopping)
        lw_tail_resume(ctx->tail);
}

/* inotify on both folders; the poll covers what it does not see (a restart's new log inside a
 * pod folder) and file systems without it. */
static void cri_watch_start(struct lw_input *in, struct cri_ctx *ctx)
{
    const char *dirs[2] = {ctx->pods_dir, ctx->containers_dir};
    for (int i = 0; i < 2; i++) {
        if (ctx->watch_live[i] || uv_fs_event_init(ctx->loop, &ctx->watch[i]) != 0)
            continue;
        ctx->watch[i].data = in;
        if (uv_fs_event_start(&ctx->watch[i], cri_on_event, dirs[i], 0) != 0)
            uv_close((uv_handle_t *)&ctx->watch[i], NULL);
        else
            ctx->watch_live[i] = true;
    }
}

/* The engine's tick (lw_tail_cfg.on_tick): logs are found in step with it, so that its first
 * look after a restart knows them all (and finds what rotated while we were down). A scan runs
 * when a folder changed, else once per poll_interval: the engine also ticks for every write. */
static void cri_on_tick(void *arg)
{
    struct lw_input *in = arg;
    struct cri_ctx *ctx = in->ctx;
    int64_t now = lw_mono_ns();
    if (ctx->stopping || (!ctx->dirty && ctx->scan_ns && now - ctx->scan_ns < ctx->poll_ns * 3 / 4))
        return;
    ctx->dirty = false;
    ctx->scan_ns = now;
    cri_watch_start(in, ctx);
    cri_scan(in, ctx);
}

/* ---------------------------------------------------------------- ops */

/* Samples only (ingest.h): their meaning is in docs/inputs.md. */
static void cri_metrics(struct lw_input *in, struct lw_buf *out)
{
    struct cri_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    lw_buf_printf(out,
                  "logwarden_cri_containers{input=\"%s\"} %llu\n"
                  "logwarden_cri_containers_skipped_total{input=\"%s\"} %llu\n"
                  "logwarden_cri_containers_excluded_total{input=\"%s\"} %llu\n",
                  in->name, (unsigned long long)atomic_load(&ctx->followed), in->name,
                  (unsigned long long)atomic_load(&ctx->over_max), in->name,
                  (unsigned long long)atomic_load(&ctx->excluded));
    if (ctx->tail)
        lw_tail_metrics(ctx->tail, out);
}

static int cri_lag(struct lw_input *in, const char **unit, uint64_t *out)
{
    struct cri_ctx *ctx = in->ctx;
    if (!ctx || !ctx->tail)
        return -1;
    *unit = "bytes";
    *out = lw_tail_behind(ctx->tail);
    return 0;
}

static void cri_free(struct lw_input *in)
{
    struct cri_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    while (ctx->logs) {
        struct klog *next = ctx->logs->next;
        free(ctx->logs->path);
        free(ctx->logs->names);
        free(ctx->logs);
        ctx->logs = next;
    }
    lw_tail_free(ctx->tail);
    free(ctx->pods_real);
    lw_opts_free(cri_opts, ctx);
    free(ctx);
    in->ctx = NULL;
}

static int cri_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                    const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct cri_ctx *ctx = lw_calloc(1, sizeof *ctx);
    in->ctx = ctx;
    int rc = lw_input_opts(in, cri_opts, ctx, doc, map, diag);
    if (rc != LW_OK)
        cri_free(in);
    return rc;
}

static int cri_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct cri_ctx *ctx = in->ctx;
    if (!ctx)
        return lw_err_set(err, LW_EINVAL, "input %s: not initialised", in->name);
    struct lw_tail_cfg tc = {.poll_interval_ns = ctx->poll_ns,
                             .max_files = (size_t)ctx->max_files,
                             .on_tick = cri_on_tick,
                             .on_tick_arg = in};
    ctx->loop = loop;
    ctx->tail = lw_tail_new(in, &tc);
    return lw_tail_start(ctx->tail, loop, err);
}

static void cri_stop(struct lw_input *in)
{
    struct cri_ctx *ctx = in->ctx;
    if (!ctx || ctx->stopping)
        return;
    ctx->stopping = true;
    for (int i = 0; i < 2; i++)
        if (ctx->watch_live[i])
            uv_close((uv_handle_t *)&ctx->watch[i], NULL);
    ctx->watch_live[0] = ctx->watch_live[1] = false;
    if (ctx->tail)
        lw_tail_stop(ctx->tail);
}

static void cri_resume(struct lw_input *in)
{
    struct cri_ctx *ctx = in->ctx;
    if (ctx && ctx->tail && !ctx->stopping)
        lw_tail_resume(ctx->tail);
}

static void cri_checkpoint(struct lw_input *in, const char *stream, const struct lw_pos *pos)
{
    struct cri_ctx *ctx = in->ctx;
    if (ctx && ctx->tail)
        lw_tail_checkpoint(ctx->tail, stream, pos);
}

const struct lw_input_ops lw_ingest__cri_ops = {
    .type = "cri",
    .opts = cri_opts,
    .init = cri_init,
    .start = cri_start,
    .stop = cri_stop,
    .resume = cri_resume,
    .free = cri_free,
    .checkpoint = cri_checkpoint,
    .pos_encode = lw_tail_pos_encode,
    .metrics = cri_metrics,
    .lag = cri_lag,
    .labels = 1u << LW_L_PATH | 1u << LW_L_NAMESPACE | 1u << LW_L_POD | 1u << LW_L_POD_UID |
              1u << LW_L_CONTAINER | 1u << LW_L_CONTAINER_ID | 1u << LW_L_RESTART |
              1u << LW_L_STREAM,
    .format = LW_FMT_CRI,
};
