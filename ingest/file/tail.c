/* tail.c: the tail engine: follows paths by file identity (device, inode, fingerprint) through
 * rename and copytruncate rotation, truncation, deletion and restarts; inotify on the folders,
 * a poll as fallback; positions keyed by identity. */
#include "tail.h"
#include "ingest_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes per read(). A read's lines that do not fit in a full queue wait as pending batches:
 * 64 KiB keeps that to one batch. */
#define TAIL_BLOCK (64u * 1024)
#define TAIL_TICK_BLOCKS 64 /* reads per file per tick, so one file can't hog the loop */
/* A rotated-away file still written by a writer that holds it: kept open this long after its
 * last growth. A deleted one is closed as soon as it is drained. */
#define TAIL_ROTATE_WAIT (5 * LW_NS_PER_SEC)
#define TAIL_RETRY_MS 2 /* next tick while the queue is full */
#define TAIL_WARN_EVERY (10 * LW_NS_PER_SEC)
#define TAIL_SEEN_MAX 1024                 /* drained identities remembered, oldest first out */
#define TAIL_GC_AFTER (60 * LW_NS_PER_SEC) /* saved rows matching no file are dropped then */
/* mtimes are not ordered across files to better than a clock tick: a file written after another
 * may carry an earlier coarse timestamp than the other's fine-grained one (Linux's multigrain
 * timestamps). Siblings this much older than the mark still count as rotated past it. */
#define TAIL_MTIME_SLACK (100 * LW_NS_PER_MS)
#define TAIL_METRICS_EVERY (LW_NS_PER_SEC) /* per-file gauges refreshed at most this often */
#define BATCH_DATA (LW_BATCH_MAX_BYTES + 16 * 1024) /* a full batch and the line that ends it */

enum { RL_CUT, RL_MAX, RL_ZIP, RL_COPY, RL_IO, RL_COUNT };

/* The labels of one path, shared by its files (refcounted, I/O thread); batches copy them. */
struct labset {
    int refs;
    struct lw_str slot[LW_L_COUNT];
    struct lw_str *xname, *xval; /* extra labels, nx of them */
    size_t nx;
    char *mem;                 /* every string above */
    size_t bytes;              /* of the slot strings, what a batch copies */
    struct lw_labelset *extra; /* the extra labels, which batches hold a reference to; NULL */
};

struct tfile;

/* A followed path (lw_tail_add). */
struct tpath {
    char *path, *dir, *base;
    struct labset *ls;
    struct tfile *cur; /* the file at the path now, or NULL */
    int64_t mark_ns;   /* cur's mtime when last seen there: newer unknown siblings were
                          rotated past between two looks */
    bool looked;       /* looked at once: start_at no longer applies to it */
    bool rescan;       /* a sibling's first line was not complete: list them again */
    struct tpath *next;
};

/* One open identity. */
struct tfile {
    struct lw_tail *t;
    struct labset *ls;
    char *name;     /* the name it was opened by, for logs */
    uint64_t bhash; /* of name's last component: folder events name files by it */
    int fd;
    uint64_t dev, ino, fp;
    size_t fplen; /* bytes fp covers; 0: not known yet */
    char stream[LW_TAIL_STREAM_MAX];
    char *legacy;      /* an old state file's stream (the path) resumed here: forgotten once a
                          position of this identity is committed */
    int64_t off;       /* next byte to read; equals lc.off */
    int64_t size;      /* at the last fstat */
    int64_t mtime_ns;  /* at the last fstat */
    int64_t enq;       /* cursor of the last line put in a batch */
    int64_t committed; /* last committed cursor (checkpoint op) */
    int64_t recv_ns;
    struct lw_linecut lc;
    struct lw_batch *cur, *pend, *pend_tail;
    int live;         /* paths whose current file it is */
    int64_t quiet_ns; /* monotonic time of its last growth once not live */
    bool deleted;
    bool dirty; /* a folder event named it since the last tick: fstat it */
    struct tfile *next;
};

/* An identity read to its end and closed: never read again from the start. */
struct seen {
    uint64_t dev, ino, fp;
    int64_t off;
    bool forget; /* deleted: forget its row once off is committed */
    char stream[LW_TAIL_STREAM_MAX];
};

/* A position found in the state file at start. */
struct saved {
    uint64_t dev, ino, fp;
    int64_t off;
    bool legacy; /* stream is a path (a state file of an older logwarden) */
    bool used;
    char *stream;
};

struct watch {
    uv_fs_event_t h;
    char *dir;
    bool names; /* a name came, went or moved in it since the last look */
    struct watch *next;
};

struct lw_tail {
    struct lw_input *in;
    struct lw_tail_cfg cfg;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool timer_live, stopping;
    bool first_start; /* no saved position at start: start_at applies to the first look */
    bool initial;     /* before the end of the first tick */
    bool gc_done;
    bool names_changed; /* a folder event said a name came, went or moved: look at the paths */
    bool paths_added;   /* lw_tail_add since the last look */
    bool all_dirty;     /* an event named no file followed by that name: fstat them all */
    int64_t looked_ns;  /* when the paths were last looked at */
    int64_t start_ns;
    struct tpath *paths;
    struct tfile *files, *files_tail;
    size_t nfiles;
    struct watch *watches;
    struct saved *saved;
    size_t nsaved;
    struct seen *seen; /* ring of TAIL_SEEN_MAX */
    size_t nseen, seen_next;
    char *buf;
    char fpbuf[LW_TAIL_FP_MAX];
    struct lw_ratelimit rl[RL_COUNT]; /* one per kind of warning: one never hides another */
    int64_t metrics_ns;
    pthread_mutex_t mu; /* guards mtext (read by the HTTP thread) */
    struct lw_buf mtext;
    _Atomic uint64_t behind; /* bytes written to the followed files and not read yet (health) */
    _Atomic uint64_t rotations, truncations, skipped_compressed, skipped_max, ct_unmatched;
    _Atomic uint64_t nfollowed;
};

static void tail_tick(uv_timer_t *h);

/* ---------------------------------------------------------------- identity */

size_t lw_tail_fingerprint(const char *p, size_t n, uint64_t *fp)
{
    if (n > LW_TAIL_FP_MAX)
        n = LW_TAIL_FP_MAX;
    const char *nl = memchr(p, '\n', n);
    size_t k = nl ? (size_t)(nl - p) + 1 : n;
    if (!nl && n < LW_TAIL_FP_MAX)
        return 0;
    *fp = lw_hash64(p, k, LW_HASH_SEED);
    return k;
}

void lw_tail_stream_id(uint64_t dev, uint64_t ino, uint64_t fp, char *out)
{
    snprintf(out, LW_TAIL_STREAM_MAX, "%lld:%lld:%016" PRIx64, (long long)(int64_t)dev,
             (long long)(int64_t)ino, fp);
}

/* Reads one decimal int64 ending at stop (or at the end); NULL when malformed. */
static const char *num_field(const char *p, const char *end, char stop, int base, int64_t *v)
{
    char tmp[24];
    const char *q = p;
    while (q < end && *q != stop)
        q++;
    if (q == p || (size_t)(q - p) >= sizeof tmp)
        return NULL;
    memcpy(tmp, p, (size_t)(q - p));
    tmp[q - p] = '\0';
    char *e;
    errno = 0;
    long long x = base == 16 ? (long long)strtoull(tmp, &e, 16) : strtoll(tmp, &e, 10);
    if (*e || errno || tmp[0] == '+' || tmp[0] == ' ')
        return NULL;
    *v = x;
    return q;
}

int lw_tail_stream_parse(const char *s, uint64_t *dev, uint64_t *ino, uint64_t *fp)
{
    const char *p = s, *end = s + strlen(s);
    int64_t d, i, f;
    if (!(p = num_field(p, end, ':', 10, &d)) || p == end ||
        !(p = num_field(p + 1, end, ':', 10, &i)) || p == end || end - (p + 1) != 16 ||
        !(p = num_field(p + 1, end, ':', 16, &f)) || p != end)
        return -1;
    *dev = (uint64_t)d;
    *ino = (uint64_t)i;
    *fp = (uint64_t)f;
    return 0;
}

/* "DEV:INO:OFF", dev and ino as the int64 bit patterns main wrote (and store_sql.h's migration
 * 3 -> 4 wrote from its columns). */
void lw_tail_pos_encode(const uint64_t ident[2], int64_t cursor, struct lw_pos *out)
{
    int n = snprintf(out->b, sizeof out->b, "%lld:%lld:%lld", (long long)(int64_t)ident[0],
                     (long long)(int64_t)ident[1], (long long)cursor);
    out->n = n > 0 && (size_t)n < sizeof out->b ? (size_t)n : 0;
}

int lw_tail_pos_decode(const struct lw_pos *pos, uint64_t *dev, uint64_t *ino, int64_t *off)
{
    const char *p = pos->b, *end = pos->b + pos->n;
    int64_t d, i;
    if (!(p = num_field(p, end, ':', 10, &d)) || p == end ||
        !(p = num_field(p + 1, end, ':', 10, &i)) || p == end ||
        !(p = num_field(p + 1, end, ':', 10, off)) || p != end || *off < 0)
        return -1;
    *dev = (uint64_t)d;
    *ino = (uint64_t)i;
    return 0;
}

bool lw_tail_is_rotation(const char *base, const char *name, bool *compressed)
{
    static const char *const zext[] = {".gz", ".bz2", ".xz", ".zst", ".lz4", ".z", ".zip", ".Z"};
    size_t bn = strlen(base), nn = strlen(name);
    *compressed = false;
    if (nn <= bn + 1 || memcmp(name, base, bn) != 0 ||
        (name[bn] != '.' && name[bn] != '-' && name[bn] != '_'))
        return false;
    for (size_t i = 0; i < sizeof zext / sizeof zext[0]; i++) {
        size_t en = strlen(zext[i]);
        if (nn > en && !strcmp(name + nn - en, zext[i]))
            *compressed = true;
    }
    return true;
}

/* The fingerprint of fd's first bytes now: fills *fp and returns the bytes it covers, 0 when
 * not known yet. */
static size_t fd_fingerprint(struct lw_tail *t, int fd, uint64_t *fp)
{
    ssize_t r;
    do
        r = pread(fd, t->fpbuf, sizeof t->fpbuf, 0);
    while (r < 0 && errno == EINTR);
    return r > 0 ? lw_tail_fingerprint(t->fpbuf, (size_t)r, fp) : 0;
}

/* Whether fd still starts with the fplen bytes whose hash is fp. */
static bool fd_starts_with(struct lw_tail *t, int fd, uint64_t fp, size_t fplen)
{
    ssize_t r;
    do
        r = pread(fd, t->fpbuf, fplen, 0);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)fplen && lw_hash64(t->fpbuf, fplen, LW_HASH_SEED) == fp;
}

static int64_t st_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * LW_NS_PER_SEC + st->st_mtim.tv_nsec;
}

/* ---------------------------------------------------------------- labels */

static struct labset *labset_new(const char *path, const struct lw_tail_labels *l)
{
    struct labset *ls = lw_calloc(1, sizeof *ls);
    size_t total = strlen(path), nx = l ? l->nextra : 0;
    for (int i = 0; l && i < LW_L_COUNT; i++)
        if (i != LW_L_PATH && l->slot[i].p)
            total += l->slot[i].n;
    ls->bytes = total;
    for (size_t i = 0; i < nx; i++)
        total += l->extra_names[i].n + l->extra_values[i].n;
    ls->mem = lw_malloc(total + 1);
    char *w = ls->mem;
    for (int i = 0; i < LW_L_COUNT; i++) {
        struct lw_str s = i == LW_L_PATH ? lw_str_c(path) : l ? l->slot[i] : (struct lw_str){0};
        if (!s.p)
            continue;
        memcpy(w, s.p, s.n);
        ls->slot[i] = (struct lw_str){w, s.n};
        w += s.n;
    }
    ls->nx = nx;
    ls->xname = lw_calloc(nx + 1, sizeof *ls->xname);
    ls->xval = lw_calloc(nx + 1, sizeof *ls->xval);
    for (size_t i = 0; i < nx; i++) {
        memcpy(w, l->extra_names[i].p, l->extra_names[i].n);
        ls->xname[i] = (struct lw_str){w, l->extra_names[i].n};
        w += l->extra_names[i].n;
        memcpy(w, l->extra_values[i].p, l->extra_values[i].n);
        ls->xval[i] = (struct lw_str){w, l->extra_values[i].n};
        w += l->extra_values[i].n;
    }
    if (nx)
        ls->extra = lw_labelset_new(NULL, l->extra_names, l->extra_values, nx);
    ls->refs = 1;
    return ls;
}

static struct labset *labset_ref(struct labset *ls)
{
    ls->refs++;
    return ls;
}

static void labset_unref(struct labset *ls)
{
    if (!ls || --ls->refs > 0)
        return;
    lw_labelset_unref(ls->extra);
    free(ls->mem);
    free(ls->xname);
    free(ls->xval);
    free(ls);
}

/* Copies the slot labels into the batch, which outlives the path and the file. The extra
 * labels (ls->xname, ls->xval) are the container inputs' to hand over here as well. */
static void batch_set_labels(struct lw_batch *b, const struct labset *ls)
{
    lw_batch_set_labels(b, ls->extra);
    char *w = lw_batch_label_space(b, ls->bytes + 1);
    for (int i = 0; i < LW_L_COUNT; i++) {
        if (!ls->slot[i].p)
            continue;
        memcpy(w, ls->slot[i].p, ls->slot[i].n);
        b->labels[i] = (struct lw_str){w, ls->slot[i].n};
        w += ls->slot[i].n;
    }
}

/* ---------------------------------------------------------------- batches */

static void tfile_queue_cur(struct tfile *f)
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
static bool tfile_flush(struct tfile *f)
{
    while (f->pend) {
        struct lw_batch *b = f->pend;
        struct lw_batch *next = b->next;
        b->next = NULL;
        int rc = lw_input_push(f->t->in, b);
        if (rc == LW_EFULL) {
            b->next = next;
            return false;
        }
        if (rc != LW_OK)
            lw_batch_free(b); /* queue closed: shutting down, nobody will read it */
        f->pend = next;
        if (!next)
            f->pend_tail = NULL;
    }
    return true;
}

static void tfile_set_identity(struct tfile *f, uint64_t fp, size_t fplen)
{
    f->fp = fp;
    f->fplen = fplen;
    lw_tail_stream_id(f->dev, f->ino, f->fp, f->stream);
}

static void tfile_new_batch(struct tfile *f)
{
    struct lw_tail *t = f->t;
    if (!f->fplen) {
        /* A line is complete, so its first line is: the identity is known from now on. */
        uint64_t fp = 0;
        size_t k = fd_fingerprint(t, f->fd, &fp);
        tfile_set_identity(f, fp, k);
    }
    struct lw_batch *b = lw_queue_batch(t->in->queue, t->in->index, f->stream, BATCH_DATA);
    b->ident[0] = f->dev;
    b->ident[1] = f->ino;
    batch_set_labels(b, f->ls);
    f->cur = b;
}

static void tail_on_line(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct tfile *f = payload;
    if (!f->cur)
        tfile_new_batch(f);
    lw_batch_add(f->cur, line, n, f->recv_ns, end_off);
    f->enq = end_off;
    atomic_fetch_add(&f->t->in->lines, 1);
    atomic_fetch_add(&f->t->in->bytes, n);
    if (f->cur->n >= LW_BATCH_MAX_LINES || f->cur->len >= LW_BATCH_MAX_BYTES)
        tfile_queue_cur(f);
}

/* Counts lines the cutter shortened to max_line_bytes, and says so (rate-limited). */
static void count_cut(struct tfile *f, uint64_t before)
{
    if (f->lc.truncated == before)
        return;
    atomic_fetch_add(&f->t->in->truncated, f->lc.truncated - before);
    if (lw_ingest__ratelimit(&f->t->rl[RL_CUT], TAIL_WARN_EVERY))
        lw_log(LW_WARN, "[input:%s] %s: %llu line(s) cut at max_line_bytes (%zu)", f->t->in->name,
               f->name, (unsigned long long)(f->lc.truncated - before), f->lc.max_line);
}

/* ---------------------------------------------------------------- files */

static struct tfile *find_open(struct lw_tail *t, uint64_t dev, uint64_t ino)
{
    for (struct tfile *f = t->files; f; f = f->next)
        if (f->fd >= 0 && f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

/* An open file starting with the same first line: a sibling so is its copy (copytruncate),
 * taken up when the truncation is seen (find_copy), never read from its start. */
static bool copy_of_open(struct lw_tail *t, uint64_t fp, size_t fplen)
{
    for (struct tfile *f = t->files; fplen && f; f = f->next)
        if (f->fd >= 0 && f->fplen == fplen && f->fp == fp)
            return true;
    return false;
}

static struct seen *find_seen(struct lw_tail *t, uint64_t dev, uint64_t ino, uint64_t fp)
{
    for (size_t i = 0; i < t->nseen; i++)
        if (t->seen[i].dev == dev && t->seen[i].ino == ino && t->seen[i].fp == fp)
            return &t->seen[i];
    return NULL;
}

static void forget(struct lw_tail *t, const char *stream)
{
    if (t->in->ckpt_forget)
        t->in->ckpt_forget(t->in->name, stream, t->in->ckpt_payload);
}

static void remember(struct lw_tail *t, const struct tfile *f)
{
    if (!f->fplen)
        return; /* never read a line: nothing to remember */
    struct seen *s = find_seen(t, f->dev, f->ino, f->fp);
    if (!s) {
        if (t->nseen < TAIL_SEEN_MAX)
            t->nseen++;
        s = &t->seen[t->seen_next];
        t->seen_next = (t->seen_next + 1) % TAIL_SEEN_MAX;
    }
    *s = (struct seen){f->dev, f->ino, f->fp, f->off, false, {0}};
    memcpy(s->stream, f->stream, sizeof s->stream);
    if (f->deleted && f->committed >= f->enq)
        forget(t, f->stream);
    else if (f->deleted)
        s->forget = true;
}

static void tfile_free(struct tfile *f)
{
    if (f->fd >= 0)
        close(f->fd);
    lw_linecut_free(&f->lc);
    lw_batch_free(f->cur);
    while (f->pend) {
        struct lw_batch *next = f->pend->next;
        lw_batch_free(f->pend);
        f->pend = next;
    }
    labset_unref(f->ls);
    free(f->legacy);
    free(f->name);
    free(f);
}

/* A saved position for this identity: exact, an old state file's (same inode, not past the
 * end), or (copytruncate's copy, allowed by by_fp) another inode starting with the same line
 * whose own inode is no longer that file. */
static struct saved *match_saved(struct lw_tail *t, uint64_t dev, uint64_t ino, uint64_t fp,
                                 size_t fplen, int64_t size, bool by_fp)
{
    for (size_t i = 0; i < t->nsaved; i++) {
        struct saved *s = &t->saved[i];
        if (s->used || s->dev != dev || s->ino != ino)
            continue;
        if ((!s->legacy && fplen && s->fp == fp && s->off <= size) || (s->legacy && s->off <= size))
            return s;
    }
    for (size_t i = 0; by_fp && fplen && i < t->nsaved; i++) {
        struct saved *s = &t->saved[i];
        if (!s->used && !s->legacy && s->fp == fp && !find_open(t, s->dev, s->ino))
            return s;
    }
    return NULL;
}

/* Opens name as a new followed file reading from off. Takes fd. NULL when max_files is
 * reached (fd closed, counted). */
static struct tfile *tfile_open(struct lw_tail *t, struct tpath *tp, const char *name, int fd,
                                const struct stat *st, uint64_t fp, size_t fplen, int64_t off)
{
    if (t->nfiles >= t->cfg.max_files) {
        close(fd);
        atomic_fetch_add(&t->skipped_max, 1);
        if (lw_ingest__ratelimit(&t->rl[RL_MAX], TAIL_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] max_files (%zu) reached, not following %s", t->in->name,
                   t->cfg.max_files, name);
        return NULL;
    }
    struct tfile *f = lw_calloc(1, sizeof *f);
    f->t = t;
    f->ls = labset_ref(tp->ls);
    f->name = lw_strdup(name);
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    f->bhash = lw_hash64(base, strlen(base), LW_HASH_SEED);
    f->fd = fd;
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
    tfile_set_identity(f, fp, fplen);
    f->off = f->enq = f->committed = off;
    f->size = (int64_t)st->st_size;
    f->mtime_ns = st_mtime_ns(st);
    f->quiet_ns = lw_mono_ns();
    lw_linecut_init(&f->lc, t->in->max_line, off);
    if (t->files_tail)
        t->files_tail->next = f;
    else
        t->files = f;
    t->files_tail = f;
    t->nfiles++;
    atomic_store(&t->nfollowed, t->nfiles);
    lw_log(LW_INFO, "[input:%s] following %s from offset %lld", t->in->name, name, (long long)off);
    return f;
}

/* Opens name; its identity in *st, *fp, *fplen. -1 when it cannot be (logged). */
static int open_ident(struct lw_tail *t, const char *name, struct stat *st, uint64_t *fp,
                      size_t *fplen)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT && lw_ingest__ratelimit(&t->rl[RL_IO], TAIL_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] cannot open %s: %s", t->in->name, name, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    *fp = 0;
    *fplen = fd_fingerprint(t, fd, fp);
    return fd;
}

/* Where a file seen for the first time begins: a position of its identity wins (drained
 * before, saved at the last stop); else start_at for files there at the first start, and 0
 * for any that appeared later. */
static int64_t start_off(struct lw_tail *t, const struct stat *st, uint64_t fp, size_t fplen,
                         bool initial, char **legacy)
{
    struct seen *s = fplen ? find_seen(t, (uint64_t)st->st_dev, (uint64_t)st->st_ino, fp) : NULL;
    if (s && s->off <= (int64_t)st->st_size)
        return s->off;
    struct saved *sv = match_saved(t, (uint64_t)st->st_dev, (uint64_t)st->st_ino, fp, fplen,
                                   (int64_t)st->st_size, false);
    if (sv) {
        sv->used = true;
        if (sv->legacy)
            *legacy = lw_strdup(sv->stream);
        return sv->off;
    }
    if (initial && t->first_start && !t->in->from_beginning)
        return (int64_t)st->st_size;
    return 0;
}

/* ---------------------------------------------------------------- siblings */

/* Looks among the rotations of tp's file (same folder, name = base + '.', '-' or '_' + more)
 * for identities to read: those with a saved position (a restart after rotations), and unknown
 * ones modified at or after newer_than (rotated past between two looks, or while stopped:
 * INT64_MAX for none). Returns the greatest mtime of those that had a saved position, or
 * INT64_MIN. */
static int64_t scan_siblings(struct lw_tail *t, struct tpath *tp, int64_t newer_than,
                             bool saved_only, int *fresh)
{
    int64_t best = INT64_MIN;
    DIR *d = opendir(tp->dir);
    if (!d)
        return best;
    char name[4096];
    struct dirent *e;
    while ((e = readdir(d))) {
        bool z;
        if (!lw_tail_is_rotation(tp->base, e->d_name, &z))
            continue;
        snprintf(name, sizeof name, "%s/%s", tp->dir, e->d_name);
        struct stat st;
        if (z) {
            if (!saved_only && newer_than != INT64_MAX && stat(name, &st) == 0 &&
                st_mtime_ns(&st) >= newer_than - TAIL_MTIME_SLACK) {
                atomic_fetch_add(&t->skipped_compressed, 1);
                if (lw_ingest__ratelimit(&t->rl[RL_ZIP], TAIL_WARN_EVERY))
                    lw_log(LW_WARN, "[input:%s] %s: compressed rotation skipped", t->in->name,
                           name);
            }
            continue;
        }
        uint64_t fp;
        size_t fplen;
        int fd = open_ident(t, name, &st, &fp, &fplen);
        if (fd < 0)
            continue;
        if (find_open(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
            (fplen && find_seen(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino, fp))) {
            close(fd);
            continue;
        }
        struct saved *sv = match_saved(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino, fp, fplen,
                                       (int64_t)st.st_size, true);
        int64_t off = 0;
        if (sv) {
            sv->used = true;
            off = sv->off <= (int64_t)st.st_size ? sv->off : (int64_t)st.st_size;
            if (st_mtime_ns(&st) > best)
                best = st_mtime_ns(&st);
        } else if (saved_only || st_mtime_ns(&st) < newer_than - TAIL_MTIME_SLACK ||
                   copy_of_open(t, fp, fplen)) {
            close(fd);
            continue;
        } else if (!fplen) {
            /* Its first line is still being written (a copy in progress): whose copy it is
             * is known only then; looked at again at the next tick. */
            tp->rescan = true;
            t->names_changed = true;
            close(fd);
            continue;
        }
        struct tfile *f = tfile_open(t, tp, name, fd, &st, fp, fplen, off);
        if (f && sv && sv->legacy)
            f->legacy = lw_strdup(sv->stream);
        if (f && !sv && fresh)
            (*fresh)++;
    }
    closedir(d);
    return best;
}

/* ---------------------------------------------------------------- paths */

static void tpath_detach(struct tpath *tp)
{
    struct tfile *f = tp->cur;
    if (!f)
        return;
    tp->cur = NULL;
    f->live--;
    f->quiet_ns = lw_mono_ns();
}

/* The path names a file we do not follow yet (or none). */
static void tpath_open(struct lw_tail *t, struct tpath *tp)
{
    struct stat st;
    uint64_t fp;
    size_t fplen;
    bool first = !tp->looked;
    tp->looked = true;
    int64_t restart_mark = INT64_MIN;
    if (first && !t->first_start && t->initial)
        restart_mark = scan_siblings(t, tp, INT64_MAX, true, NULL);
    int fd = open_ident(t, tp->path, &st, &fp, &fplen);
    if (fd >= 0) {
        struct tfile *f = find_open(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
        if (f) {
            close(fd);
        } else {
            char *legacy = NULL;
            int64_t off = start_off(t, &st, fp, fplen, first && t->initial, &legacy);
            if (legacy && restart_mark < st_mtime_ns(&st))
                restart_mark = st_mtime_ns(&st);
            f = tfile_open(t, tp, tp->path, fd, &st, fp, fplen, off);
            if (f)
                f->legacy = legacy;
            else
                free(legacy);
        }
        if (f) {
            tp->cur = f;
            f->live++;
            tp->mark_ns = st_mtime_ns(&st);
        }
    }
    /* Rotated while stopped, once or more: the files newer than the last one we read. */
    if (restart_mark != INT64_MIN)
        scan_siblings(t, tp, restart_mark, false, NULL);
}

/* Whether a folder event said a name changed in tp's folder since the last look (always
 * when the folder is not watched: the poll is all there is). */
static bool tp_dir_names(struct lw_tail *t, const struct tpath *tp)
{
    for (struct watch *w = t->watches; w; w = w->next)
        if (!strcmp(w->dir, tp->dir))
            return w->names || !w->h.data;
    return true;
}

/* Looks at what tp names now: a rotation (another file, or none, now at the path) leaves the
 * old file open to be read to its end, and the files rotated past it in between are found
 * among the siblings. The path is opened before the siblings are listed: a file rotated away
 * between the two is then among them. */
static void tpath_look(struct lw_tail *t, struct tpath *tp)
{
    struct stat st;
    struct tfile *f = tp->cur;
    bool scan = false;
    int64_t mark = tp->mark_ns;
    if (f) {
        bool same = stat(tp->path, &st) == 0 && (uint64_t)st.st_dev == f->dev &&
                    (uint64_t)st.st_ino == f->ino;
        if (same) {
            /* A name appeared beside it: a copy of a generation truncated away before it was
             * seen (copytruncate twice between two looks). */
            bool again = tp->rescan;
            tp->rescan = false;
            if (again || tp_dir_names(t, tp))
                scan_siblings(t, tp, mark, false, NULL);
            if (!tp->rescan)
                tp->mark_ns = st_mtime_ns(&st);
            return;
        }
        atomic_fetch_add(&t->rotations, 1);
        lw_log(LW_INFO, "[input:%s] %s was rotated or removed", t->in->name, tp->path);
        tpath_detach(tp);
        scan = true;
    } else if (tp->looked && tp->mark_ns && stat(tp->path, &st) == 0) {
        /* Missing at the last look, there now: files may have come and been rotated away in
         * between. */
        scan = true;
    }
    tpath_open(t, tp);
    if (scan)
        scan_siblings(t, tp, mark, false, NULL);
}

/* ---------------------------------------------------------------- truncation */

/* copytruncate: the lines between where f was read to and the copy's end are in a sibling
 * that starts as f did. Follows it from there; counts it when there is none. */
static void find_copy(struct lw_tail *t, struct tpath *tp, struct tfile *f)
{
    DIR *d = tp ? opendir(tp->dir) : NULL;
    bool found = false;
    if (d) {
        char name[4096];
        struct dirent *e;
        while (!found && (e = readdir(d))) {
            bool z;
            if (!lw_tail_is_rotation(tp->base, e->d_name, &z) || z)
                continue;
            snprintf(name, sizeof name, "%s/%s", tp->dir, e->d_name);
            struct stat st;
            uint64_t fp;
            size_t fplen;
            int fd = open_ident(t, name, &st, &fp, &fplen);
            if (fd < 0)
                continue;
            if (fplen != f->fplen || fp != f->fp ||
                find_open(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
                find_seen(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino, fp)) {
                close(fd);
                continue;
            }
            int64_t off = f->off <= (int64_t)st.st_size ? f->off : (int64_t)st.st_size;
            struct tfile *c = tfile_open(t, tp, name, fd, &st, fp, fplen, off);
            if (c) {
                /* The partial line held belongs to the copy now. */
                lw_linecut_free(&c->lc);
                c->lc = f->lc;
                c->lc.off = off;
                if (off != f->off)
                    lw_linecut_init(&c->lc, t->in->max_line, off);
                else
                    lw_linecut_init(&f->lc, t->in->max_line, 0);
            }
            found = true;
        }
        closedir(d);
    }
    if (!found) {
        atomic_fetch_add(&t->ct_unmatched, 1);
        if (lw_ingest__ratelimit(&t->rl[RL_COPY], TAIL_WARN_EVERY))
            lw_log(LW_WARN,
                   "[input:%s] %s was truncated and no rotated copy of it was found: lines after "
                   "offset %lld may be lost",
                   t->in->name, f->name, (long long)f->off);
    }
}

/* Growth and truncation of an open file. A truncated file is a new identity read from 0. */
static void tfile_check(struct lw_tail *t, struct tfile *f)
{
    struct stat st;
    if (f->fd < 0 || fstat(f->fd, &st) != 0)
        return;
    f->deleted = st.st_nlink == 0;
    int64_t size = (int64_t)st.st_size, mt = st_mtime_ns(&st);
    bool changed = size != f->size || mt != f->mtime_ns;
    f->size = size;
    f->mtime_ns = mt;
    if (!changed || !f->live)
        return;
    if (!f->fplen && size > 0) {
        /* Known as soon as its first line is: a copy of it is then told from a new file. */
        uint64_t fp = 0;
        size_t k = fd_fingerprint(t, f->fd, &fp);
        if (k)
            tfile_set_identity(f, fp, k);
    }
    bool cut = size < f->off || (f->fplen && !fd_starts_with(t, f->fd, f->fp, f->fplen));
    if (!cut)
        return;
    atomic_fetch_add(&t->truncations, 1);
    lw_log(LW_INFO, "[input:%s] %s was truncated, reading it again from the start", t->in->name,
           f->name);
    tfile_queue_cur(f);
    struct tpath *tp = NULL;
    for (struct tpath *p = t->paths; p && !tp; p = p->next)
        if (p->cur == f)
            tp = p;
    find_copy(t, tp, f);
    lw_linecut_free(&f->lc);
    lw_linecut_init(&f->lc, t->in->max_line, 0);
    f->off = f->enq = f->committed = 0;
    uint64_t fp = 0;
    size_t k = fd_fingerprint(t, f->fd, &fp);
    tfile_set_identity(f, fp, k);
    /* Truncated more than once since the last look: the copies of the generations in between
     * start with lines never seen; each is a truncation too. */
    int fresh = 0;
    if (tp)
        scan_siblings(t, tp, tp->mark_ns, false, &fresh);
    atomic_fetch_add(&t->truncations, (uint64_t)fresh);
}

/* Reads f up to EOF (or its per-tick budget) into batches. false when the queue is full (the
 * file keeps its pending batches until resume). *more when the budget ran out first. */
static bool tfile_pump(struct lw_tail *t, struct tfile *f, bool *more)
{
    if (!tfile_flush(f))
        return false;
    /* Not grown since the fstat of this tick: a later write brings another event (or poll). */
    if (f->size <= f->off) {
        tfile_queue_cur(f);
        return tfile_flush(f);
    }
    for (int i = 0; f->fd >= 0; i++) {
        if (i == TAIL_TICK_BLOCKS) {
            *more = true;
            break;
        }
        ssize_t r = pread(f->fd, t->buf, TAIL_BLOCK, f->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (lw_ingest__ratelimit(&t->rl[RL_IO], TAIL_WARN_EVERY))
                lw_log(LW_WARN, "[input:%s] read %s: %s", t->in->name, f->name, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        /* Truncated and regrown since this tick's fstat (copytruncate): these bytes are the new
         * file's, not the rest of the old one. Leave them: the next tick's check sees the cut. */
        if (f->fplen && !fd_starts_with(t, f->fd, f->fp, f->fplen)) {
            *more = true;
            break;
        }
        f->quiet_ns = lw_mono_ns();
        f->recv_ns = lw_now_ns();
        uint64_t t0 = f->lc.truncated;
        lw_linecut_feed(&f->lc, t->buf, (size_t)r, tail_on_line, f);
        f->off += r;
        count_cut(f, t0);
        if (!tfile_flush(f))
            return false;
        if ((size_t)r < TAIL_BLOCK)
            break;
    }
    tfile_queue_cur(f); /* at EOF the partial batch goes too */
    return tfile_flush(f);
}

/* A file no path names any more is closed once drained and deleted, or quiet for
 * TAIL_ROTATE_WAIT (a writer may still hold it). Its last line, if unterminated, is passed
 * then: nothing can complete it. */
static bool tfile_done(struct lw_tail *t, struct tfile *f, int64_t now)
{
    if (f->live || f->fd < 0)
        return f->fd < 0;
    if (!f->deleted && now - f->quiet_ns < TAIL_ROTATE_WAIT)
        return false;
    if (f->off < f->size)
        return false;
    f->recv_ns = lw_now_ns();
    uint64_t t0 = f->lc.truncated;
    lw_linecut_finish(&f->lc, tail_on_line, f);
    count_cut(f, t0);
    tfile_queue_cur(f);
    remember(t, f);
    close(f->fd);
    f->fd = -1;
    return true;
}

/* ---------------------------------------------------------------- the tick */

static void saved_gc(struct lw_tail *t)
{
    t->gc_done = true;
    for (size_t i = 0; i < t->nsaved; i++) {
        if (!t->saved[i].used) {
            lw_log(LW_DEBUG, "[input:%s] forgetting the position of %s: no such file", t->in->name,
                   t->saved[i].stream);
            forget(t, t->saved[i].stream);
        }
        free(t->saved[i].stream);
    }
    free(t->saved);
    t->saved = NULL;
    t->nsaved = 0;
}

static void publish_metrics(struct lw_tail *t)
{
    struct lw_buf b = {0};
    uint64_t behind = 0;
    for (struct tfile *f = t->files; f; f = f->next) {
        if (f->fd < 0)
            continue;
        behind += (uint64_t)(f->size > f->off ? f->size - f->off : 0);
        lw_buf_printf(&b, "logwarden_tail_bytes_behind{input=\"%s\",path=\"", t->in->name);
        for (const char *p = f->name; *p; p++) {
            if (*p == '"' || *p == '\\')
                lw_buf_putc(&b, '\\');
            lw_buf_putc(&b, *p == '\n' ? ' ' : *p);
        }
        lw_buf_printf(&b, "\"} %lld\n", (long long)(f->size > f->off ? f->size - f->off : 0));
    }
    atomic_store(&t->behind, behind);
    pthread_mutex_lock(&t->mu);
    struct lw_buf old = t->mtext;
    t->mtext = b;
    pthread_mutex_unlock(&t->mu);
    lw_buf_free(&old);
}

static void drop_closed(struct lw_tail *t)
{
    struct tfile **pp = &t->files, *prev = NULL;
    while (*pp) {
        struct tfile *f = *pp;
        if (f->fd < 0 && !f->pend && !f->cur) {
            *pp = f->next;
            t->nfiles--;
            tfile_free(f);
        } else {
            prev = f;
            pp = &f->next;
        }
    }
    t->files_tail = prev;
    atomic_store(&t->nfollowed, t->nfiles);
}

static void tail_tick(uv_timer_t *h)
{
    struct lw_tail *t = h->data;
    bool blocked = false, more = false;
    int64_t now = lw_mono_ns();
    /* A write only makes files grow: names are looked at (globs matched, paths stat'ed) when
     * a folder event says a name changed, and at every poll interval as a safety net. */
    bool look = t->names_changed || t->initial || t->paths_added ||
                now - t->looked_ns >= t->cfg.poll_interval_ns;
    if (look) {
        t->names_changed = t->paths_added = false;
        t->looked_ns = now;
        if (t->cfg.on_tick)
            t->cfg.on_tick(t->cfg.on_tick_arg);
    }
    /* Only the files an event named are fstat'ed, but all of them at every look: with 1000
     * files followed, a write to one used to cost 1000 fstat calls. */
    bool all = look || t->all_dirty;
    t->all_dirty = false;
    for (struct tfile *f = t->files; f; f = f->next) {
        /* A file with unread bytes is fstat'ed too: its size must be this tick's, or a
         * truncation since the last fstat would be read as growth at the old offset. */
        if (all || f->dirty || f->size > f->off)
            tfile_check(t, f);
        f->dirty = false;
    }
    for (struct tpath *tp = t->paths; look && tp; tp = tp->next)
        tpath_look(t, tp);
    for (struct watch *w = t->watches; look && w; w = w->next)
        w->names = false;
    t->initial = false;
    /* Open order: a rotated-away file drains before its successor. */
    for (struct tfile *f = t->files; f && !blocked; f = f->next) {
        if (!tfile_pump(t, f, &more))
            blocked = true;
        else if (tfile_done(t, f, now) && !tfile_flush(f))
            blocked = true;
    }
    drop_closed(t);
    if (!t->gc_done && now - t->start_ns >= TAIL_GC_AFTER)
        saved_gc(t);
    if (now - t->metrics_ns >= TAIL_METRICS_EVERY) {
        t->metrics_ns = now;
        publish_metrics(t);
    }
    uint64_t delay = (uint64_t)(t->cfg.poll_interval_ns / LW_NS_PER_MS);
    if (blocked)
        delay = delay < TAIL_RETRY_MS ? delay : TAIL_RETRY_MS;
    else if (more)
        delay = 0;
    if (!t->stopping)
        uv_timer_start(&t->timer, tail_tick, delay, 0);
}

static void kick(struct lw_tail *t)
{
    if (t->timer_live && !t->stopping)
        uv_timer_start(&t->timer, tail_tick, 0, 0);
}

/* ---------------------------------------------------------------- inotify */

/* Marks the files followed by the name dir/filename; false when none is. */
static bool mark_dirty(struct lw_tail *t, const char *dir, const char *filename)
{
    size_t dl = strlen(dir);
    uint64_t h = lw_hash64(filename, strlen(filename), LW_HASH_SEED);
    bool found = false;
    /* The hash first: an event per write, on a folder of maybe a thousand followed files. */
    for (struct tfile *f = t->files; f; f = f->next) {
        const char *n = f->name;
        if (f->bhash == h && !strncmp(n, dir, dl) && n[dl] == '/' && !strcmp(n + dl + 1, filename))
            f->dirty = found = true;
    }
    return found;
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct lw_tail *t = h->data;
    if (status < 0 || (events & UV_RENAME)) {
        t->names_changed = true;
        ((struct watch *)h)->names = true;
    } else if (!filename || !mark_dirty(t, ((struct watch *)h)->dir, filename)) {
        t->all_dirty = true; /* a renamed-away file still written, a link's target, ... */
    }
    kick(t);
}

/* h.data is t while the handle is open. No inotify here (or no such folder yet): the poll
 * covers it. */
static void watch_arm(struct lw_tail *t, struct watch *w)
{
    int rc = uv_fs_event_init(t->loop, &w->h);
    if (rc != 0) {
        lw_log(LW_DEBUG, "[input:%s] not watching %s: %s", t->in->name, w->dir, uv_strerror(rc));
        return;
    }
    w->h.data = t;
    if ((rc = uv_fs_event_start(&w->h, on_fs_event, w->dir, 0)) != 0)
        lw_log(LW_DEBUG, "[input:%s] not watching %s: %s", t->in->name, w->dir, uv_strerror(rc));
}

void lw_tail_watch_dir(struct lw_tail *t, const char *dir)
{
    for (struct watch *w = t->watches; w; w = w->next)
        if (!strcmp(w->dir, dir))
            return;
    struct watch *w = lw_calloc(1, sizeof *w);
    w->dir = lw_strdup(dir);
    w->next = t->watches;
    t->watches = w;
    if (t->loop && !t->stopping)
        watch_arm(t, w); /* else lw_tail_start arms it */
}

/* ---------------------------------------------------------------- the interface */

struct lw_tail *lw_tail_new(struct lw_input *in, const struct lw_tail_cfg *cfg)
{
    struct lw_tail *t = lw_calloc(1, sizeof *t);
    t->in = in;
    t->cfg = *cfg;
    if (!t->cfg.max_files)
        t->cfg.max_files = 1024;
    if (t->cfg.poll_interval_ns <= 0)
        t->cfg.poll_interval_ns = 250 * LW_NS_PER_MS;
    t->seen = lw_calloc(TAIL_SEEN_MAX, sizeof *t->seen);
    t->initial = true;
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

static void on_saved(const char *stream, const struct lw_pos *pos, void *arg)
{
    struct lw_tail *t = arg;
    struct saved s = {0};
    uint64_t dev, ino;
    if (lw_tail_pos_decode(pos, &dev, &ino, &s.off) != 0)
        return;
    if (lw_tail_stream_parse(stream, &s.dev, &s.ino, &s.fp) == 0) {
        if (s.dev != dev || s.ino != ino)
            return;
    } else {
        s.legacy = true;
        s.dev = dev;
        s.ino = ino;
    }
    s.stream = lw_strdup(stream);
    t->saved = lw_realloc(t->saved, (t->nsaved + 1) * sizeof *t->saved);
    t->saved[t->nsaved++] = s;
}

int lw_tail_start(struct lw_tail *t, uv_loop_t *loop, struct lw_err *err)
{
    struct lw_input *in = t->in;
    t->loop = loop;
    t->buf = lw_malloc(TAIL_BLOCK);
    t->start_ns = lw_mono_ns();
    if (in->ckpt_scan && in->ckpt_scan(in->name, on_saved, t, in->ckpt_payload) != 0)
        lw_log(LW_WARN, "[input:%s] cannot read saved positions", in->name);
    t->first_start = t->nsaved == 0;
    int rc = uv_timer_init(loop, &t->timer);
    if (rc != 0)
        return lw_err_set(err, LW_EIO, "input %s: uv_timer_init: %s", in->name, uv_strerror(rc));
    t->timer.data = t;
    t->timer_live = true;
    for (struct watch *w = t->watches; w; w = w->next)
        watch_arm(t, w);
    uv_timer_start(&t->timer, tail_tick, 0, 0);
    return LW_OK;
}

static char *dir_of(const char *path, const char **base)
{
    const char *sl = strrchr(path, '/');
    *base = sl ? sl + 1 : path;
    if (!sl)
        return lw_strdup(".");
    if (sl == path)
        return lw_strdup("/");
    return lw_strndup(path, (size_t)(sl - path));
}

int lw_tail_add(struct lw_tail *t, const char *path, const struct lw_tail_labels *labels)
{
    for (struct tpath *tp = t->paths; tp; tp = tp->next) {
        if (strcmp(tp->path, path) != 0)
            continue;
        labset_unref(tp->ls);
        tp->ls = labset_new(path, labels);
        if (tp->cur) {
            /* Its next batches carry the new labels; batches made already keep theirs. */
            labset_unref(tp->cur->ls);
            tp->cur->ls = labset_ref(tp->ls);
        }
        return LW_OK;
    }
    struct tpath *tp = lw_calloc(1, sizeof *tp);
    const char *base;
    tp->path = lw_strdup(path);
    tp->dir = dir_of(tp->path, &base);
    tp->base = lw_strdup(base);
    tp->ls = labset_new(path, labels);
    tp->next = t->paths;
    t->paths = tp;
    lw_tail_watch_dir(t, tp->dir);
    t->paths_added = true;
    kick(t);
    return LW_OK;
}

void lw_tail_remove(struct lw_tail *t, const char *path)
{
    for (struct tpath **pp = &t->paths; *pp; pp = &(*pp)->next) {
        struct tpath *tp = *pp;
        if (strcmp(tp->path, path) != 0)
            continue;
        *pp = tp->next;
        tpath_detach(tp);
        labset_unref(tp->ls);
        free(tp->path);
        free(tp->dir);
        free(tp->base);
        free(tp);
        kick(t);
        return;
    }
}

void lw_tail_resume(struct lw_tail *t)
{
    kick(t);
}

static const char *name_of_stream(struct lw_tail *t, const char *stream, struct tfile **out)
{
    for (struct tfile *f = t->files; f; f = f->next)
        if (!strcmp(f->stream, stream)) {
            *out = f;
            return f->name;
        }
    *out = NULL;
    return stream;
}

void lw_tail_checkpoint(struct lw_tail *t, const char *stream, const struct lw_pos *pos)
{
    struct tfile *f;
    const char *name = name_of_stream(t, stream, &f);
    lw_log(LW_DEBUG, "[input:%s] %s: position %.*s committed", t->in->name, name, (int)pos->n,
           pos->b);
    uint64_t dev, ino;
    int64_t off;
    if (lw_tail_pos_decode(pos, &dev, &ino, &off) != 0)
        return;
    if (f) {
        if (off > f->committed)
            f->committed = off;
        if (f->legacy) {
            forget(t, f->legacy);
            free(f->legacy);
            f->legacy = NULL;
        }
        return;
    }
    for (size_t i = 0; i < t->nseen; i++) {
        struct seen *s = &t->seen[i];
        if (s->forget && !strcmp(s->stream, stream) && off >= s->off) {
            s->forget = false;
            forget(t, stream);
        }
    }
}

uint64_t lw_tail_behind(struct lw_tail *t)
{
    return atomic_load(&t->behind);
}

void lw_tail_metrics(struct lw_tail *t, struct lw_buf *out)
{
    const char *n = t->in->name;
    lw_buf_printf(out, "logwarden_tail_files{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->nfollowed));
    lw_buf_printf(out, "logwarden_tail_rotations_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->rotations));
    lw_buf_printf(out, "logwarden_tail_truncations_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->truncations));
    lw_buf_printf(out, "logwarden_tail_copytruncate_unmatched_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->ct_unmatched));
    lw_buf_printf(out, "logwarden_tail_rotated_skipped_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->skipped_compressed));
    lw_buf_printf(out, "logwarden_tail_files_skipped_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->skipped_max));
    lw_buf_printf(out, "logwarden_tail_lines_cut_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&t->in->truncated));
    pthread_mutex_lock(&t->mu);
    if (t->mtext.len)
        lw_buf_append(out, t->mtext.p, t->mtext.len);
    pthread_mutex_unlock(&t->mu);
}

void lw_tail_stop(struct lw_tail *t)
{
    if (!t || t->stopping)
        return;
    t->stopping = true;
    if (t->timer_live) {
        uv_timer_stop(&t->timer);
        uv_close((uv_handle_t *)&t->timer, NULL);
        t->timer_live = false;
    }
    for (struct watch *w = t->watches; w; w = w->next)
        if (w->h.data) {
            uv_close((uv_handle_t *)&w->h, NULL);
            w->h.data = NULL;
        }
    /* Hand over what was read; what does not fit is read again after restart (positions only
     * cover lines the pipeline has seen). */
    for (struct tfile *f = t->files; f; f = f->next) {
        tfile_queue_cur(f);
        tfile_flush(f);
        if (f->fd >= 0)
            close(f->fd);
        f->fd = -1;
    }
}

void lw_tail_free(struct lw_tail *t)
{
    if (!t)
        return;
    while (t->files) {
        struct tfile *next = t->files->next;
        tfile_free(t->files);
        t->files = next;
    }
    while (t->paths) {
        struct tpath *next = t->paths->next;
        labset_unref(t->paths->ls);
        free(t->paths->path);
        free(t->paths->dir);
        free(t->paths->base);
        free(t->paths);
        t->paths = next;
    }
    /* Watches were closed by lw_tail_stop; the loop has run their close callbacks since (it
     * runs until every handle is closed), so they are freed here, not there. */
    while (t->watches) {
        struct watch *next = t->watches->next;
        free(t->watches->dir);
        free(t->watches);
        t->watches = next;
    }
    for (size_t i = 0; i < t->nsaved; i++)
        free(t->saved[i].stream);
    free(t->saved);
    free(t->seen);
    free(t->buf);
    lw_buf_free(&t->mtext);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
