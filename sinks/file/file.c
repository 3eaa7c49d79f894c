/* file.c: the file sink: appends one compact JSON line per alert to a file, across rotations. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_sink {
    char *path;
    bool fsync; /* fdatasync after each notification */
    int fd;     /* -1 until the first delivery, or after a failure */
    dev_t dev;  /* identity of the file fd has open, to notice rotation */
    ino_t ino;
    pthread_mutex_t lock; /* deliver may be called from more than one thread */
};

static const struct lw_opt file_opts[] = {
    {.key = "path",
     .type = LW_OPT_PATH,
     .off = offsetof(struct file_sink, path),
     .flags = LW_OPT_REQUIRED | LW_OPT_NOENV,
     .help = "the file alerts are appended to, one JSON line each (relative: to the config)"},
    {.key = "fsync",
     .type = LW_OPT_BOOL,
     .def = "false",
     .off = offsetof(struct file_sink, fsync),
     .help = "fdatasync after each notification"},
    {.type = LW_OPT_END},
};

/* The settings are the sink's state too (s->conf): path and fsync were read into it. */
static int file_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                     const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct file_sink *f = s->conf;
    f->fd = -1;
    pthread_mutex_init(&f->lock, NULL);
    s->ctx = f;
    /* The file is opened at the first delivery, not here: `logwarden check` must not create it. */
    return 0;
}

/* Opens the file unless fd still names what is at path: logrotate may have moved it away
 * (create mode) since the last delivery, in which case we follow the path, not the old inode. */
static int file_open(struct lw_sink *s, struct file_sink *f, struct lw_err *err)
{
    struct stat st;
    if (f->fd >= 0) {
        /* lstat: a symbolic link put in the file's place is not followed (below). */
        if (lstat(f->path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
            return 0;
        close(f->fd);
        f->fd = -1;
    }
    /* O_NOFOLLOW: whoever can write the directory must not be able to point the daemon's
     * writes at another file (a link to /etc/passwd) with a symbolic link. A temporary failure,
     * so the alerts wait in the outbox until the link is replaced by the file itself. */
    f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (f->fd < 0 && errno == ELOOP)
        return lw_err_set(err, LW_EAGAIN,
                          "sink %s: %s is a symbolic link: refused (it is opened with O_NOFOLLOW); "
                          "make path the file itself",
                          s->name, f->path);
    if (f->fd < 0)
        return lw_err_set(err, LW_EAGAIN, "sink %s: open %s: %s", s->name, f->path,
                          strerror(errno));
    if (fstat(f->fd, &st) != 0) {
        int e = errno;
        close(f->fd);
        f->fd = -1;
        return lw_err_set(err, LW_EAGAIN, "sink %s: fstat %s: %s", s->name, f->path, strerror(e));
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    return 0;
}

static int file_deliver(struct lw_sink *s, const char *alerts_json, size_t len,
                        int64_t *retry_after_ns, struct lw_err *err)
{
    struct file_sink *f = s->ctx;
    struct lw_buf lines = {0};
    size_t n;
    int rc = lw_sink_json_lines(alerts_json, len, &lines, &n, err);
    if (rc < 0 || lines.len == 0)
        goto out_free;

    pthread_mutex_lock(&f->lock);
    rc = file_open(s, f, err);
    if (rc < 0)
        goto out_unlock;
    /* One write for the whole notification: with O_APPEND, other appenders cannot land in the
     * middle of it. The loop only covers short writes (signals, nearly full disks). */
    size_t off = 0;
    while (off < lines.len) {
        ssize_t w = write(f->fd, lines.p + off, lines.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = lw_err_set(err, LW_EAGAIN, "sink %s: write %s: %s", s->name, f->path,
                            w < 0 ? strerror(errno) : "no progress");
            /* Reopen next time: the file may have been replaced or the fd gone bad. */
            close(f->fd);
            f->fd = -1;
            goto out_unlock;
        }
        off += (size_t)w;
    }
    if (f->fsync && fdatasync(f->fd) != 0)
        rc = lw_err_set(err, LW_EAGAIN, "sink %s: fsync %s: %s", s->name, f->path, strerror(errno));

out_unlock:
    pthread_mutex_unlock(&f->lock);
out_free:
    lw_buf_free(&lines);
    return rc;
}

static void file_free(struct lw_sink *s)
{
    struct file_sink *f = s->ctx;
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    pthread_mutex_destroy(&f->lock);
    s->ctx = NULL;
}

const struct lw_sink_ops lw_sink_file_ops = {
    .type = "file",
    .local = true,
    .opts = file_opts,
    .conf_size = sizeof(struct file_sink),
    .init = file_init,
    .deliver = file_deliver,
    .free = file_free,
};
