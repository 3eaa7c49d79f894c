/* test_file.c: the file input on a real loop and real files: following, start positions,
 * rotation by rename and by truncation, checkpoint resume, backpressure, config errors. */
#include "file/tail.h"
#include "ingest.h"
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* A file position, as the file input's batches give it: identity and offset. */
struct fpos {
    uint64_t dev, ino;
    int64_t off;
};

/* Records received so far, copied out of their batches. */
struct rec {
    char line[128];
    struct fpos pos;
    char path[256];
    char label[256]; /* the path label the batch set */
};
static struct rec recs[8192];
static size_t nrecs;

struct ckpt {
    struct fpos pos;
    const char *path;
    int calls;
};

/* The saved positions: one, as an older logwarden stored it (stream = the path), encoded by
 * the input itself. */
static int scan(const char *input, lw_ckpt_each_fn *fn, void *arg, void *payload)
{
    struct ckpt *c = payload;
    struct lw_pos pos;
    c->calls++;
    if (strcmp(input, "logs") != 0)
        return 0;
    uint64_t ident[2] = {c->pos.dev, c->pos.ino};
    lw_input_find("file")->pos_encode(ident, c->pos.off, &pos);
    fn(c->path, &pos, arg);
    return 0;
}

static void path_of(char *out, const char *name)
{
    snprintf(out, 256, "%s/%s", dir, name);
}

static void append(const char *name, const char *text)
{
    char p[256];
    path_of(p, name);
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
}

static void file_id(const char *name, struct fpos *pos)
{
    char p[256];
    struct stat st;
    path_of(p, name);
    stat(p, &st);
    pos->dev = (uint64_t)st.st_dev;
    pos->ino = (uint64_t)st.st_ino;
    pos->off = (int64_t)st.st_size;
}

struct fixture {
    uv_loop_t loop;
    struct lw_queue *q;
    struct lw_input in;
};

static int setup(struct fixture *f, const char *yaml, bool from_beginning, struct ckpt *ck,
                 size_t max_batches)
{
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    memset(f, 0, sizeof *f);
    uv_loop_init(&f->loop);
    f->q = lw_queue_new(max_batches, 64u << 20);
    f->in.ops = lw_input_find("file");
    f->in.name = "logs";
    f->in.index = 2;
    f->in.from_beginning = from_beginning;
    f->in.max_line = 64;
    f->in.queue = f->q;
    f->in.ckpt_scan = ck ? scan : NULL;
    f->in.ckpt_payload = ck;
    CHECK_EQ(lw_yaml_load_buf(&doc, "t.yaml", yaml, strlen(yaml), &diag), 0);
    int rc = f->in.ops->init(&f->in, doc, doc->root, &diag);
    lw_diag_print(&diag, stderr);
    lw_diag_free(&diag);
    lw_yaml_free(doc); /* the input must have copied what it keeps */
    CHECK_EQ(rc, 0);
    struct lw_err err = {0};
    rc = f->in.ops->start(&f->in, &f->loop, &err);
    CHECK_EQ(rc, 0);
    nrecs = 0;
    return rc;
}

static void teardown(struct fixture *f)
{
    f->in.ops->stop(&f->in);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    f->in.ops->free(&f->in);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    lw_queue_free(f->q);
}

static void take(struct lw_batch *b)
{
    for (size_t i = 0; i < b->n && nrecs < 8192; i++) {
        struct rec *r = &recs[nrecs++];
        size_t n = b->recs[i].line.n < 127 ? b->recs[i].line.n : 127;
        memcpy(r->line, b->recs[i].line.p, n);
        r->line[n] = '\0';
        r->pos = (struct fpos){b->ident[0], b->ident[1], b->recs[i].cursor};
        snprintf(r->path, sizeof r->path, "%s", b->stream ? b->stream : "");
        snprintf(r->label, sizeof r->label, "%.*s", (int)b->labels[LW_L_PATH].n,
                 b->labels[LW_L_PATH].p ? b->labels[LW_L_PATH].p : "");
    }
    lw_batch_free(b);
}

/* Runs the loop and drains the queue until want records arrived or ms passed. */
static void pump(struct fixture *f, size_t want, int ms)
{
    int64_t deadline = lw_mono_ns() + ms * LW_NS_PER_MS;
    while (lw_mono_ns() < deadline && nrecs < want) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct lw_batch *b = lw_queue_pop(f->q, 5);
        if (b)
            take(b);
    }
}

static void test_follow(void)
{
    struct fixture f;
    char yaml[512], p[256];
    append("app.log", "old1\nold2\n");
    snprintf(yaml, sizeof yaml, "paths: %s/*.log\npoll_interval: 10ms\n", dir);
    setup(&f, yaml, false, NULL, 16);
    pump(&f, 1, 100); /* present at start: begins at its end */
    CHECK_EQ(nrecs, 0);
    append("app.log", "a\nbb\n");
    pump(&f, 2, 3000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0].line, "a");
    CHECK_STR(recs[1].line, "bb");
    struct fpos id;
    file_id("app.log", &id);
    CHECK_EQ(recs[0].pos.off, 12);
    CHECK_EQ(recs[1].pos.off, 15);
    CHECK(recs[1].pos.ino == id.ino && recs[1].pos.dev == id.dev);
    path_of(p, "app.log");
    uint64_t sdev, sino, sfp;
    CHECK_EQ(lw_tail_stream_parse(recs[0].path, &sdev, &sino, &sfp), 0); /* keyed by identity */
    CHECK(sdev == id.dev && sino == id.ino);
    CHECK_STR(recs[0].label, p);
    /* A final line without newline waits for its newline. */
    append("app.log", "part");
    pump(&f, 3, 150);
    CHECK_EQ(nrecs, 2);
    append("app.log", "ial\r\n");
    pump(&f, 3, 3000);
    CHECK_EQ(nrecs, 3);
    CHECK_STR(recs[2].line, "partial");
    CHECK_EQ(recs[2].pos.off, 24);
    /* An over-long line is cut and counted. */
    char longline[200];
    memset(longline, 'z', 150);
    strcpy(longline + 150, "\nafter\n");
    append("app.log", longline);
    pump(&f, 5, 3000);
    CHECK_EQ(nrecs, 5);
    CHECK_EQ(strlen(recs[3].line), 64);
    CHECK_STR(recs[4].line, "after");
    CHECK_EQ(atomic_load(&f.in.truncated), 1);
    CHECK_EQ(atomic_load(&f.in.lines), 5);
    /* A file that appears later is read from its beginning. */
    append("new.log", "n1\nn2\n");
    pump(&f, 7, 3000);
    CHECK_EQ(nrecs, 7);
    CHECK_STR(recs[5].line, "n1");
    CHECK_EQ(recs[6].pos.off, 6);
    path_of(p, "new.log");
    CHECK_STR(recs[6].label, p);
    teardown(&f);

    /* start_at: beginning. */
    setup(&f, yaml, true, NULL, 16);
    pump(&f, 9, 3000);
    CHECK_EQ(nrecs, 9);
    /* glob order is not promised: check both files */
    int app = 0, nw = 0;
    for (size_t i = 0; i < nrecs; i++) {
        app += strstr(recs[i].label, "app.log") != NULL;
        nw += strstr(recs[i].label, "new.log") != NULL;
    }
    CHECK_EQ(app, 7);
    CHECK_EQ(nw, 2);
    teardown(&f);
    path_of(p, "app.log");
    unlink(p);
    path_of(p, "new.log");
    unlink(p);
}

static void test_rotation(void)
{
    struct fixture f;
    char yaml[512], p[256], p1[256];
    append("rot.log", "x\n");
    snprintf(yaml, sizeof yaml, "paths: [%s/rot.log]\npoll_interval: 10ms\n", dir);
    setup(&f, yaml, false, NULL, 16);
    pump(&f, 1, 100); /* the first scan starts at the end */
    append("rot.log", "r1\n");
    pump(&f, 1, 3000);
    CHECK_EQ(nrecs, 1);
    CHECK_STR(recs[0].line, "r1");
    struct fpos old;
    file_id("rot.log", &old);

    /* rename + create; the writer still adds a line to the renamed file first. */
    path_of(p, "rot.log");
    path_of(p1, "rot.log.1");
    CHECK_EQ(rename(p, p1), 0);
    append("rot.log.1", "r2\n");
    append("rot.log", "n1\n");
    pump(&f, 3, 3000);
    CHECK_EQ(nrecs, 3);
    CHECK_STR(recs[1].line, "r2");
    CHECK_EQ(recs[1].pos.ino, old.ino);
    CHECK_EQ(recs[1].pos.off, 8);
    CHECK_STR(recs[2].line, "n1");
    CHECK(recs[2].pos.ino != old.ino);
    CHECK_EQ(recs[2].pos.off, 3);
    /* Lines written to the rotated file soon after still arrive. */
    append("rot.log.1", "r3\n");
    pump(&f, 4, 3000);
    CHECK_EQ(nrecs, 4);
    CHECK_STR(recs[3].line, "r3");

    /* copytruncate: the file shrinks below our offset, read again from 0. */
    append("rot.log", "n2\n");
    pump(&f, 5, 3000);
    CHECK_EQ(nrecs, 5);
    CHECK_EQ(truncate(p, 0), 0);
    pump(&f, 6, 100);
    append("rot.log", "t\n");
    pump(&f, 6, 3000);
    CHECK_EQ(nrecs, 6);
    CHECK_STR(recs[5].line, "t");
    CHECK_EQ(recs[5].pos.off, 2);

    /* A deleted file is closed. */
    unlink(p1);
    unlink(p);
    pump(&f, 100, 300);
    int deleted = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char link[512], target[512];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            deleted += strstr(target, dir) != NULL;
        }
    }
    if (d)
        closedir(d);
    CHECK_EQ(deleted, 0);
    teardown(&f);
}

static void test_checkpoint(void)
{
    struct fixture f;
    char yaml[512], p[256];
    append("ck.log", "c1\nc2\nc3\n");
    path_of(p, "ck.log");
    struct ckpt ck = {.path = p};
    file_id("ck.log", &ck.pos);
    ck.pos.off = 3;
    snprintf(yaml, sizeof yaml, "paths: %s/ck.log\npoll_interval: 10ms\n", dir);
    setup(&f, yaml, false, &ck, 16);
    pump(&f, 2, 3000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0].line, "c2");
    CHECK_EQ(recs[0].pos.off, 6);
    CHECK_STR(recs[1].line, "c3");
    CHECK(ck.calls >= 1);
    teardown(&f);

    /* A checkpoint of another inode: the file was replaced while stopped, so it appeared after
     * the first start and is read from its beginning (start_at is for the first start). */
    ck.pos.ino += 1;
    append("ck.log", "c4\n");
    setup(&f, yaml, false, &ck, 16);
    pump(&f, 4, 3000);
    CHECK_EQ(nrecs, 4);
    CHECK_STR(recs[0].line, "c1");
    CHECK_STR(recs[3].line, "c4");
    CHECK_EQ(recs[3].pos.off, 12);
    teardown(&f);
    /* Past the end (the file was truncated since): ignored too. */
    ck.pos.ino -= 1;
    ck.pos.off = 1000;
    setup(&f, yaml, true, &ck, 16);
    pump(&f, 4, 3000);
    CHECK_EQ(nrecs, 4);
    teardown(&f);
    unlink(p);
}

static void test_backpressure(void)
{
    struct fixture f;
    char yaml[512], p[256];
    /* 5000 lines, a queue of one batch: nothing may be lost or reordered. */
    struct lw_buf b = {0};
    for (int i = 0; i < 5000; i++)
        lw_buf_printf(&b, "line %d\n", i);
    path_of(p, "bp.log");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK_EQ(write(fd, b.p, b.len), (long long)b.len);
    close(fd);
    snprintf(yaml, sizeof yaml, "paths: %s/bp.log\npoll_interval: 10ms\n", dir);
    setup(&f, yaml, true, NULL, 1);
    for (int i = 0; i < 20; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(!lw_queue_has_room(f.q));
    CHECK(f.in.paused); /* the refused batch paused it */
    pump(&f, 5000, 5000);
    CHECK_EQ(nrecs, 5000);
    int bad = 0;
    for (int i = 0; i < 5000 && i < (int)nrecs; i++) {
        char want[32];
        snprintf(want, sizeof want, "line %d", i);
        bad += strcmp(recs[i].line, want) != 0;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(recs[4999].pos.off, (long long)b.len);
    CHECK_EQ(atomic_load(&f.in.bytes), (long long)b.len - 5000);
    teardown(&f);
    lw_buf_free(&b);
    unlink(p);
}

static void test_config(void)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"poll_interval: 1s\n", "t.yaml:1:1:"},
        {"paths: [a, {x: 1}]\n", "t.yaml:1:12:"},
        {"paths: /x\npoll_interval: soon\n", "t.yaml:2:16:"},
        {"paths: /x\nmax_files: 0\n", "t.yaml:2:12:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lw_yaml_doc *doc = NULL;
        struct lw_diag diag = {0};
        struct lw_input in = {.ops = lw_input_find("file"), .name = "logs"};
        CHECK_EQ(lw_yaml_load_buf(&doc, "t.yaml", cases[i].yaml, strlen(cases[i].yaml), &diag), 0);
        CHECK_EQ(in.ops->init(&in, doc, doc->root, &diag), LW_EINVAL);
        CHECK(diag.n >= 1);
        if (diag.n)
            CHECK(strncmp(diag.msgs[0], cases[i].want, strlen(cases[i].want)) == 0);
        if (diag.n && strncmp(diag.msgs[0], cases[i].want, strlen(cases[i].want)) != 0)
            fprintf(stderr, "  got: %s\n", diag.msgs[0]);
        in.ops->free(&in);
        lw_diag_free(&diag);
        lw_yaml_free(doc);
    }
    CHECK(lw_input_find("file") != NULL);
    CHECK(lw_input_find("stdin") != NULL);
    CHECK(lw_input_find("syslog") != NULL);
    CHECK(lw_input_find("kafka") != NULL);
    CHECK_STR(lw_input_find("file")->opts[0].key, "paths");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lw_test_file.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    lw_log_set_level(LW_WARN);
    test_config();
    test_follow();
    test_rotation();
    test_checkpoint();
    test_backpressure();
    rmdir(dir);
    return test_summary();
}
