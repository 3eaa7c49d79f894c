/* test_tail.c: the tail engine's identity logic: fingerprints, stream ids, positions, rotation
 * names; and identity on real files: inode reuse, truncate-and-regrow, copytruncate's copy,
 * delete-and-recreate, a saved position of another identity. */
#include "file/tail.h"
#include "ingest.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void test_fingerprint(void)
{
    uint64_t a = 0, b = 0;
    /* The first line with its newline. */
    CHECK_EQ(lw_tail_fingerprint("hello\nworld\n", 12, &a), 6);
    CHECK_EQ(lw_tail_fingerprint("hello\nthere\n", 12, &b), 6);
    CHECK(a == b); /* only the first line counts */
    CHECK_EQ(lw_tail_fingerprint("hellO\nworld\n", 12, &b), 6);
    CHECK(a != b);
    /* No newline yet and short: not known. */
    b = 7;
    CHECK_EQ(lw_tail_fingerprint("hello", 5, &b), 0);
    CHECK_EQ(b, 7);
    CHECK_EQ(lw_tail_fingerprint("", 0, &b), 0);
    /* A first line longer than the maximum: the first LW_TAIL_FP_MAX bytes. */
    char *big = malloc(3000);
    memset(big, 'x', 3000);
    CHECK_EQ(lw_tail_fingerprint(big, 3000, &a), LW_TAIL_FP_MAX);
    CHECK_EQ(lw_tail_fingerprint(big, LW_TAIL_FP_MAX, &b), LW_TAIL_FP_MAX);
    CHECK(a == b);
    big[LW_TAIL_FP_MAX + 10] = 'y'; /* past the window: same */
    CHECK_EQ(lw_tail_fingerprint(big, 3000, &b), LW_TAIL_FP_MAX);
    CHECK(a == b);
    big[LW_TAIL_FP_MAX - 1] = 'y';
    CHECK_EQ(lw_tail_fingerprint(big, 3000, &b), LW_TAIL_FP_MAX);
    CHECK(a != b);
    free(big);
}

static void test_stream_and_pos(void)
{
    char s[LW_TAIL_STREAM_MAX];
    uint64_t dev, ino, fp;
    lw_tail_stream_id(2049, 1234567, 0xdeadbeefcafe0001ull, s);
    CHECK_STR(s, "2049:1234567:deadbeefcafe0001");
    CHECK_EQ(lw_tail_stream_parse(s, &dev, &ino, &fp), 0);
    CHECK(dev == 2049 && ino == 1234567 && fp == 0xdeadbeefcafe0001ull);
    /* Large values keep their bits (dev, ino as int64 patterns). */
    lw_tail_stream_id(UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, s);
    CHECK_EQ(lw_tail_stream_parse(s, &dev, &ino, &fp), 0);
    CHECK(dev == UINT64_MAX && ino == UINT64_MAX - 1 && fp == UINT64_MAX);
    /* An old state file's stream is a path: not an id. */
    CHECK_EQ(lw_tail_stream_parse("/var/log/app.log", &dev, &ino, &fp), -1);
    CHECK_EQ(lw_tail_stream_parse("1:2:3", &dev, &ino, &fp), -1);
    CHECK_EQ(lw_tail_stream_parse("1:2:deadbeefcafe000x", &dev, &ino, &fp), -1);
    CHECK_EQ(lw_tail_stream_parse("", &dev, &ino, &fp), -1);

    /* Positions: main's "DEV:INO:OFF" text, both ways. */
    struct lw_pos p;
    int64_t off;
    uint64_t ident[2] = {2049, 77};
    lw_tail_pos_encode(ident, 4096, &p);
    CHECK_EQ(p.n, 12);
    CHECK(memcmp(p.b, "2049:77:4096", 12) == 0);
    CHECK_EQ(lw_tail_pos_decode(&p, &dev, &ino, &off), 0);
    CHECK(dev == 2049 && ino == 77 && off == 4096);
    memcpy(p.b, "1:2:-5", 6);
    p.n = 6;
    CHECK_EQ(lw_tail_pos_decode(&p, &dev, &ino, &off), -1);
    memcpy(p.b, "1:2", 3);
    p.n = 3;
    CHECK_EQ(lw_tail_pos_decode(&p, &dev, &ino, &off), -1);
    memcpy(p.b, "1:2:3:4", 7);
    p.n = 7;
    CHECK_EQ(lw_tail_pos_decode(&p, &dev, &ino, &off), -1);
}

static void test_rotation_names(void)
{
    bool z;
    CHECK(lw_tail_is_rotation("app.log", "app.log.1", &z) && !z);
    CHECK(lw_tail_is_rotation("app.log", "app.log-20261205", &z) && !z);
    CHECK(lw_tail_is_rotation("app.log", "app.log.2.gz", &z) && z);
    CHECK(lw_tail_is_rotation("app.log", "app.log-20261205.xz", &z) && z);
    CHECK(lw_tail_is_rotation("0.log", "0.log.20261205-101010", &z) && !z);
    CHECK(lw_tail_is_rotation("0.log", "0.log.20261205-101010.gz", &z) && z);
    CHECK(!lw_tail_is_rotation("app.log", "app.log", &z));
    CHECK(!lw_tail_is_rotation("app.log", "app.log.", &z));
    CHECK(!lw_tail_is_rotation("app.log", "app.logger", &z));
    CHECK(!lw_tail_is_rotation("app.log", "other.log.1", &z));
}

/* ---------------------------------------------------------------- on real files */

struct fixture {
    uv_loop_t loop;
    struct lw_queue *q;
    struct lw_input in;
    struct lw_tail *t;
    char lines[256][32]; /* received, in order */
    char streams[256][LW_TAIL_STREAM_MAX];
    int64_t cursors[256];
    size_t n;
    /* saved positions handed to the engine at start, as the store would */
    const char *saved_stream;
    struct lw_pos saved_pos;
    int forgets;
};

static int scan(const char *input, lw_ckpt_each_fn *fn, void *arg, void *payload)
{
    struct fixture *f = payload;
    if (f->saved_stream)
        fn(f->saved_stream, &f->saved_pos, arg);
    return 0;
}

static void forget(const char *input, const char *stream, void *payload)
{
    struct fixture *f = payload;
    f->forgets++;
}

static void start(struct fixture *f)
{
    uv_loop_init(&f->loop);
    f->q = lw_queue_new(64, 64u << 20);
    f->in.ops = lw_input_find("file");
    f->in.name = "t";
    f->in.from_beginning = true;
    f->in.max_line = 1024;
    f->in.queue = f->q;
    f->in.ckpt_scan = scan;
    f->in.ckpt_forget = forget;
    f->in.ckpt_payload = f;
    struct lw_tail_cfg cfg = {.poll_interval_ns = 10 * LW_NS_PER_MS, .max_files = 16};
    f->t = lw_tail_new(&f->in, &cfg);
    char p[128];
    snprintf(p, sizeof p, "%s/a.log", dir);
    lw_tail_add(f->t, p, NULL);
    struct lw_err err = {0};
    CHECK_EQ(lw_tail_start(f->t, &f->loop, &err), 0);
    f->n = 0;
}

static void stop(struct fixture *f)
{
    lw_tail_stop(f->t);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    lw_tail_free(f->t);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    lw_queue_free(f->q);
}

static void pump(struct fixture *f, size_t want, int ms)
{
    int64_t deadline = lw_mono_ns() + ms * LW_NS_PER_MS;
    while (lw_mono_ns() < deadline && f->n < want) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct lw_batch *b = lw_queue_pop(f->q, 5);
        for (size_t i = 0; b && i < b->n && f->n < 256; i++, f->n++) {
            snprintf(f->lines[f->n], 32, "%.*s", (int)b->recs[i].line.n, b->recs[i].line.p);
            snprintf(f->streams[f->n], LW_TAIL_STREAM_MAX, "%s", b->stream);
            f->cursors[f->n] = b->recs[i].cursor;
        }
        lw_batch_free(b);
    }
}

static void put(const char *name, const char *text, int flags)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | flags, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
}

static void path(char *out, const char *name)
{
    snprintf(out, 128, "%s/%s", dir, name);
}

/* Truncated and written past the old offset between two looks: a new identity, read from 0. */
static void test_regrow(void)
{
    struct fixture f = {0};
    put("a.log", "first 1\nfirst 2\n", O_TRUNC);
    start(&f);
    pump(&f, 2, 2000);
    CHECK_EQ(f.n, 2);
    put("a.log", "second 1 longer\nsecond 2 longer\nsecond 3\n", O_TRUNC);
    pump(&f, 5, 2000);
    CHECK_EQ(f.n, 5);
    CHECK_STR(f.lines[2], "second 1 longer");
    CHECK_EQ(f.cursors[2], 16);
    CHECK(strcmp(f.streams[0], f.streams[2]) != 0); /* another identity */
    stop(&f);
}

/* copytruncate: the lines after our offset are read from the copy, which starts the same. */
static void test_copytruncate(void)
{
    struct fixture f = {0};
    char a[128], a1[128];
    path(a, "a.log");
    path(a1, "a.log.1");
    unlink(a1);
    put("a.log", "c 1\nc 2\n", O_TRUNC);
    start(&f);
    pump(&f, 2, 2000);
    CHECK_EQ(f.n, 2);
    /* As logrotate does it: more lines, copy, truncate. The tailer sees only the end. */
    put("a.log", "c 3\nc 4\n", O_APPEND);
    put("a.log.1", "c 1\nc 2\nc 3\nc 4\n", O_TRUNC);
    CHECK_EQ(truncate(a, 0), 0);
    put("a.log", "d 1\n", O_APPEND);
    pump(&f, 5, 2000);
    CHECK_EQ(f.n, 5);
    int c3 = 0, c4 = 0, d1 = 0;
    for (size_t i = 2; i < f.n; i++) {
        c3 += !strcmp(f.lines[i], "c 3");
        c4 += !strcmp(f.lines[i], "c 4");
        d1 += !strcmp(f.lines[i], "d 1");
    }
    CHECK(c3 == 1 && c4 == 1 && d1 == 1);
    stop(&f);
    unlink(a1);
}

/* A saved position of a file since replaced by another (inode reused or not): the new one is
 * read from its start; a saved position of this very file resumes; an old state file's row
 * (stream = the path) resumes and is forgotten once a position of the identity is committed. */
static void test_saved(void)
{
    struct fixture f = {0};
    char a[128], sid[LW_TAIL_STREAM_MAX];
    struct stat st;
    path(a, "a.log");
    put("a.log", "s 1\ns 2\ns 3\n", O_TRUNC);
    stat(a, &st);
    uint64_t fp;
    CHECK_EQ(lw_tail_fingerprint("s 1\n", 4, &fp), 4);
    uint64_t ident[2] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino};
    /* This identity, after line 1. */
    lw_tail_stream_id(ident[0], ident[1], fp, sid);
    f.saved_stream = sid;
    lw_tail_pos_encode(ident, 4, &f.saved_pos);
    start(&f);
    pump(&f, 2, 2000);
    CHECK_EQ(f.n, 2);
    CHECK_STR(f.lines[0], "s 2");
    stop(&f);
    /* Same inode, another first line (reused inode, or rewritten): from 0. */
    lw_tail_stream_id(ident[0], ident[1], fp ^ 1, sid);
    memset(&f, 0, sizeof f);
    f.saved_stream = sid;
    lw_tail_pos_encode(ident, 4, &f.saved_pos);
    start(&f);
    pump(&f, 3, 2000);
    CHECK_EQ(f.n, 3);
    CHECK_STR(f.lines[0], "s 1");
    stop(&f);
    /* An old state file's row: stream = the path. */
    memset(&f, 0, sizeof f);
    f.saved_stream = a;
    lw_tail_pos_encode(ident, 8, &f.saved_pos);
    start(&f);
    pump(&f, 1, 2000);
    CHECK_EQ(f.n, 1);
    CHECK_STR(f.lines[0], "s 3");
    CHECK_EQ(f.forgets, 0);
    struct lw_pos p;
    lw_tail_pos_encode(ident, 12, &p);
    lw_tail_checkpoint(f.t, f.streams[0], &p);
    CHECK_EQ(f.forgets, 1); /* the path's row, superseded */
    stop(&f);
}

/* Deleted and made again: the old file is read to its end, the new one from its start. */
static void test_delete_recreate(void)
{
    struct fixture f = {0};
    char a[128];
    path(a, "a.log");
    put("a.log", "x 1\n", O_TRUNC);
    start(&f);
    pump(&f, 1, 2000);
    int fd = open(a, O_WRONLY | O_APPEND);
    unlink(a);
    CHECK_EQ(write(fd, "x 2\n", 4), 4); /* the writer still had it open */
    close(fd);
    put("a.log", "y 1\n", O_TRUNC);
    pump(&f, 3, 2000);
    CHECK_EQ(f.n, 3);
    int x2 = 0, y1 = 0;
    for (size_t i = 1; i < f.n; i++) {
        x2 += !strcmp(f.lines[i], "x 2");
        y1 += !strcmp(f.lines[i], "y 1");
    }
    CHECK(x2 == 1 && y1 == 1);
    stop(&f);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lw_test_tail.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    lw_log_set_level(LW_ERROR);
    test_fingerprint();
    test_stream_and_pos();
    test_rotation_names();
    test_regrow();
    test_copytruncate();
    test_saved();
    test_delete_recreate();
    char p[128];
    path(p, "a.log");
    unlink(p);
    rmdir(dir);
    return test_summary();
}
