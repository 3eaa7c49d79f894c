/* test_stdin.c: the stdin input through a pipe on fd 0: lines, offsets, the final unterminated
 * line and the eof batch at end of input, and a prompt stop while a read would block. */
#include "ingest.h"
#include "test.h"

#include <unistd.h>

static struct lw_input *start(struct lw_queue *q, uv_loop_t *loop)
{
    static struct lw_input in;
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    memset(&in, 0, sizeof in);
    in.ops = lw_input_find("stdin");
    in.name = "in";
    in.index = 4;
    in.max_line = 1024;
    in.queue = q;
    CHECK_EQ(lw_yaml_load_buf(&doc, "t.yaml", "type: stdin\n", 12, &diag), 0);
    CHECK_EQ(in.ops->init(&in, doc, doc->root, &diag), 0);
    lw_yaml_free(doc);
    struct lw_err err = {0};
    CHECK_EQ(in.ops->start(&in, loop, &err), 0);
    return &in;
}

static void test_eof(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    dup2(p[0], 0);
    close(p[0]);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct lw_queue *q = lw_queue_new(4, 1 << 20);
    struct lw_input *in = start(q, &loop);
    const char *text = "first\r\nsecond\n\nlast";
    CHECK_EQ(write(p[1], text, strlen(text)), (long long)strlen(text));
    close(p[1]);
    char got[8][32];
    int64_t offs[8];
    size_t n = 0;
    bool eof = false;
    int64_t deadline = lw_mono_ns() + 5 * LW_NS_PER_SEC;
    while (!eof && lw_mono_ns() < deadline) {
        struct lw_batch *b = lw_queue_pop(q, 50);
        if (!b)
            continue;
        CHECK_EQ(b->input, 4);
        for (size_t i = 0; i < b->n && n < 8; i++, n++) {
            snprintf(got[n], sizeof got[n], "%.*s", (int)b->recs[i].line.n, b->recs[i].line.p);
            offs[n] = b->recs[i].cursor;
        }
        eof = b->eof;
        lw_batch_free(b);
    }
    CHECK(eof);
    CHECK_EQ(n, 4);
    CHECK_STR(got[0], "first");
    CHECK_EQ(offs[0], 7);
    CHECK_STR(got[1], "second");
    CHECK_EQ(offs[1], 14);
    CHECK_STR(got[2], "");
    CHECK_STR(got[3], "last");
    CHECK_EQ(offs[3], 19);
    CHECK_EQ(atomic_load(&in->lines), 4);
    in->ops->stop(in);
    in->ops->free(in);
    CHECK_EQ(uv_loop_close(&loop), 0);
    lw_queue_free(q);
}

static void test_stop_while_blocked(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    dup2(p[0], 0);
    close(p[0]);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct lw_queue *q = lw_queue_new(4, 1 << 20);
    struct lw_input *in = start(q, &loop);
    CHECK_EQ(write(p[1], "x\n", 2), 2);
    struct lw_batch *b = NULL;
    int64_t deadline = lw_mono_ns() + 5 * LW_NS_PER_SEC;
    while (!b && lw_mono_ns() < deadline)
        b = lw_queue_pop(q, 50);
    CHECK(b != NULL && b->n == 1 && !b->eof);
    lw_batch_free(b);
    /* The writer stays open: the reader waits for input, and stop must not hang. */
    int64_t t0 = lw_mono_ns();
    in->ops->stop(in);
    in->ops->free(in);
    CHECK(lw_mono_ns() - t0 < 2 * LW_NS_PER_SEC);
    close(p[1]);
    CHECK_EQ(uv_loop_close(&loop), 0);
    lw_queue_free(q);
}

int main(void)
{
    test_eof();
    test_stop_while_blocked();
    return test_summary();
}
