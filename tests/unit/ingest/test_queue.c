/* test_queue.c: batches (pointers survive growth) and the bounded queue (bounds, blocking,
 * wake, close, batches reused through lw_queue_batch / lw_queue_recycle). */
#include "ingest.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static struct lw_batch *batch_of(size_t bytes)
{
    struct lw_batch *b = lw_batch_new(7, "/var/log/x.log", 16);
    char *line = malloc(bytes + 1);
    memset(line, 'x', bytes);
    lw_batch_add(b, line, bytes, 1, 0);
    free(line);
    return b;
}

static void test_batch(void)
{
    /* A tiny hint forces many moves of data: every record must still point at its line. */
    struct lw_batch *b = lw_batch_new(3, NULL, 1);
    CHECK(b->stream == NULL);
    char line[64];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof line, "line %d", i);
        lw_batch_add(b, line, (size_t)n, 42, i * 10);
    }
    lw_batch_add(b, "", 0, 43, 0);
    CHECK_EQ(b->n, 5001);
    CHECK_EQ(b->input, 3);
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof line, "line %d", i);
        const struct lw_record *r = &b->recs[i];
        if (r->line.n != (size_t)n || memcmp(r->line.p, line, (size_t)n) != 0 ||
            r->cursor != i * 10 || r->recv_ns != 42)
            bad++;
        if (r->line.p < b->data || r->line.p + r->line.n > b->data + b->len)
            bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(b->recs[5000].line.n, 0);
    CHECK_EQ(b->recs[5000].cursor, 0);
    lw_batch_free(b);
    lw_batch_free(NULL);
    b = lw_batch_new(1, "/tmp/p", 0);
    CHECK_STR(b->stream, "/tmp/p");
    lw_batch_free(b);
}

static void test_bounds(void)
{
    struct lw_queue *q = lw_queue_new(3, 1000);
    CHECK(lw_queue_has_room(q));
    CHECK_EQ(lw_queue_try_push(q, batch_of(100)), LW_OK);
    CHECK_EQ(lw_queue_try_push(q, batch_of(100)), LW_OK);
    CHECK_EQ(lw_queue_try_push(q, batch_of(100)), LW_OK);
    struct lw_batch *b = batch_of(10);
    CHECK_EQ(lw_queue_try_push(q, b), LW_EFULL); /* 3 batches */
    CHECK(!lw_queue_has_room(q));
    struct lw_batch *got = lw_queue_pop(q, 0);
    CHECK(got != NULL);
    CHECK_EQ(got->len, 100);
    CHECK_STR(got->stream, "/var/log/x.log");
    lw_batch_free(got);
    CHECK_EQ(lw_queue_try_push(q, b), LW_OK);
    lw_batch_free(lw_queue_pop(q, 0));
    lw_batch_free(lw_queue_pop(q, 0));
    /* Now one batch of 10 bytes is queued: bytes are the bound. */
    b = batch_of(991);
    CHECK_EQ(lw_queue_try_push(q, b), LW_EFULL);
    struct lw_batch *small = batch_of(990);
    CHECK_EQ(lw_queue_try_push(q, small), LW_OK);
    got = lw_queue_pop(q, 0);
    CHECK_EQ(got->len, 10); /* FIFO */
    lw_batch_free(got);
    lw_batch_free(lw_queue_pop(q, 0));
    /* An empty queue takes a batch larger than max_bytes rather than wedging. */
    CHECK_EQ(lw_queue_try_push(q, batch_of(5000)), LW_OK);
    got = lw_queue_pop(q, 0);
    CHECK(got != NULL && got->len == 5000);
    lw_batch_free(got);
    lw_batch_free(b);
    /* Empty pop times out after about the timeout. */
    int64_t t0 = lw_mono_ns();
    CHECK(lw_queue_pop(q, 50) == NULL);
    int64_t dt = lw_mono_ns() - t0;
    CHECK(dt >= 45 * LW_NS_PER_MS);
    CHECK(dt < 2000 * LW_NS_PER_MS);
    /* Freeing a queue frees what it holds (ASan checks). */
    CHECK_EQ(lw_queue_try_push(q, batch_of(1)), LW_OK);
    lw_queue_free(q);
    lw_queue_free(NULL);
}

/* Batches handed back with lw_queue_recycle and taken again with lw_queue_batch: they start
 * empty with the new input and path, keep working (records point at their own lines), the
 * queue's bounds hold for them, and nothing leaks (ASan). */
static void test_reuse(void)
{
    struct lw_queue *q = lw_queue_new(3, 1000);
    /* No queue: a plain new batch, and recycling frees. */
    struct lw_batch *b = lw_queue_batch(NULL, 1, "/a", 16);
    CHECK_STR(b->stream, "/a");
    lw_queue_recycle(NULL, b);
    lw_queue_recycle(q, NULL);

    /* Rounds of fill, push, pop, recycle: after the first round the batches are reused. */
    struct lw_batch *seen[16] = {0};
    int nseen = 0, bad = 0, reused = 0;
    char line[64];
    for (int round = 0; round < 50; round++) {
        struct lw_batch *bs[3];
        for (int k = 0; k < 3; k++) {
            char path[32];
            snprintf(path, sizeof path, "/var/log/%d.log", round * 3 + k);
            bs[k] = lw_queue_batch(q, (uint32_t)k, k == 2 ? NULL : path, 8);
            struct lw_batch *nb = bs[k];
            bool old = false;
            for (int i = 0; i < nseen; i++)
                old |= seen[i] == nb;
            if (old)
                reused++;
            else if (nseen < 16)
                seen[nseen++] = nb;
            if (nb->n != 0 || nb->len != 0 || nb->eof || nb->next != NULL ||
                nb->input != (uint32_t)k)
                bad++;
            if (k == 2 ? nb->stream != NULL : !nb->stream || strcmp(nb->stream, path) != 0)
                bad++;
            /* What the last user set on a reused batch is gone. */
            if (nb->ident[0] || nb->ident[1] || nb->labels[LW_L_PATH].p)
                bad++;
            nb->ident[0] = nb->ident[1] = 7;
            nb->labels[LW_L_PATH] = lw_str_c("set by the input");
            /* Lines of varying size: some rounds grow the data past what it had. */
            int lines = 1 + (round * 7 + k) % 9;
            for (int i = 0; i < lines; i++) {
                int n = snprintf(line, sizeof line, "r%d k%d line %d%.*s", round, k, i,
                                 (round + i) % 20, "xxxxxxxxxxxxxxxxxxxx");
                lw_batch_add(nb, line, (size_t)n, round, i);
            }
            if (k == 0 && round % 10 == 0)
                nb->eof = true;
        }
        /* The bounds hold for reused batches: 3 batches or 1000 bytes. */
        size_t bytes = 0;
        for (int k = 0; k < 3; k++) {
            bytes += bs[k]->len;
            if (lw_queue_try_push(q, bs[k]) != LW_OK)
                bad++;
        }
        if (bytes > 1000)
            bad++;
        struct lw_batch *extra = lw_queue_batch(q, 9, "/x", 8);
        lw_batch_add(extra, "x", 1, 0, 0);
        if (lw_queue_try_push(q, extra) != LW_EFULL)
            bad++;
        if (lw_queue_has_room(q))
            bad++;
        /* Pop: FIFO, the lines intact. */
        for (int k = 0; k < 3; k++) {
            struct lw_batch *got = lw_queue_pop(q, 0);
            if (got != bs[k]) {
                bad++;
                continue;
            }
            int lines = 1 + (round * 7 + k) % 9;
            if (got->n != (size_t)lines || got->eof != (k == 0 && round % 10 == 0))
                bad++;
            for (size_t i = 0; i < got->n && i < (size_t)lines; i++) {
                int n = snprintf(line, sizeof line, "r%d k%d line %zu%.*s", round, k, i,
                                 (int)((round + (int)i) % 20), "xxxxxxxxxxxxxxxxxxxx");
                const struct lw_record *r = &got->recs[i];
                if (r->line.n != (size_t)n || memcmp(r->line.p, line, (size_t)n) != 0 ||
                    r->cursor != (int64_t)i || r->recv_ns != round)
                    bad++;
                if (r->line.p < got->data || r->line.p + r->line.n > got->data + got->len)
                    bad++;
            }
            lw_queue_recycle(q, got);
        }
        lw_queue_recycle(q, extra); /* never queued: handed back all the same */
        if (lw_queue_pop(q, 0) != NULL)
            bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK(reused > 100); /* the same few batches, over and over */
    CHECK(nseen <= 4 + 3 + 1);

    /* A byte bound with reused batches: a reused batch's len is its new content only. */
    b = lw_queue_batch(q, 0, "/big", 8);
    char big[600];
    memset(big, 'b', sizeof big);
    lw_batch_add(b, big, sizeof big, 0, 0);
    CHECK_EQ(b->len, 600);
    CHECK_EQ(lw_queue_try_push(q, b), LW_OK);
    struct lw_batch *b2 = lw_queue_batch(q, 0, "/big2", 8);
    lw_batch_add(b2, big, 401, 0, 0);
    CHECK_EQ(lw_queue_try_push(q, b2), LW_EFULL); /* 600 + 401 > 1000 */
    b2->n = 0, b2->len = 0;                       /* as a reader refilling it would */
    lw_batch_add(b2, big, 400, 0, 0);
    CHECK_EQ(lw_queue_try_push(q, b2), LW_OK);
    lw_queue_recycle(q, lw_queue_pop(q, 0));
    lw_queue_recycle(q, lw_queue_pop(q, 0));
    /* A larger data hint than a spare's buffer: the buffer grows (the old one freed). */
    b = lw_queue_batch(q, 4, NULL, 1 << 16);
    CHECK(b->dcap >= 1 << 16);
    CHECK_EQ(b->n, 0);
    memset(big, 'c', sizeof big);
    for (int i = 0; i < 100; i++)
        lw_batch_add(b, big, sizeof big, 0, 0);
    CHECK_EQ(b->len, 60000);
    CHECK(b->recs[99].line.p[0] == 'c');
    /* A batch grown past the largest buffer worth keeping is freed, not kept. */
    struct lw_batch *huge = lw_queue_batch(q, 5, "/huge", (2u << 20));
    lw_batch_add(huge, big, sizeof big, 0, 0);
    lw_queue_recycle(q, huge);
    lw_queue_recycle(q, b);
    /* More spares than it keeps: the rest are freed (ASan: no leak either way). */
    struct lw_batch *many[20];
    for (int i = 0; i < 20; i++)
        many[i] = lw_queue_batch(q, 0, "/m", 8);
    for (int i = 0; i < 20; i++)
        lw_queue_recycle(q, many[i]);
    /* Spares and a queued batch are freed with the queue. */
    CHECK_EQ(lw_queue_try_push(q, lw_queue_batch(q, 0, "/q", 8)), LW_OK);
    lw_queue_free(q);
}

struct pusher {
    struct lw_queue *q;
    int pushed, rc;
};

static void *push_many(void *arg)
{
    struct pusher *p = arg;
    for (int i = 0; i < 100; i++) {
        struct lw_batch *b = batch_of(10);
        b->recs[0].cursor = i;
        p->rc = lw_queue_push(p->q, b);
        if (p->rc != LW_OK) {
            lw_batch_free(b);
            break;
        }
        p->pushed++;
    }
    return NULL;
}

static void test_blocking(void)
{
    /* A blocking pusher against a queue of 2: every batch arrives, in order. */
    struct lw_queue *q = lw_queue_new(2, 1 << 20);
    struct pusher p = {q, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, push_many, &p);
    int got = 0, order_ok = 1;
    int64_t deadline = lw_mono_ns() + 10 * LW_NS_PER_SEC;
    while (got < 100 && lw_mono_ns() < deadline) {
        struct lw_batch *b = lw_queue_pop(q, 100);
        if (!b)
            continue;
        if (b->recs[0].cursor != got)
            order_ok = 0;
        got++;
        lw_batch_free(b);
    }
    pthread_join(t, NULL);
    CHECK_EQ(got, 100);
    CHECK(order_ok);
    CHECK_EQ(p.pushed, 100);

    /* Close releases a pusher blocked on a full queue, with LW_EAGAIN. */
    CHECK_EQ(lw_queue_try_push(q, batch_of(1)), LW_OK);
    CHECK_EQ(lw_queue_try_push(q, batch_of(1)), LW_OK);
    p.pushed = 0;
    pthread_create(&t, NULL, push_many, &p);
    /* The pusher blocks: the queue stays full until close. */
    lw_queue_close(q);
    pthread_join(t, NULL);
    CHECK_EQ(p.rc, LW_EAGAIN);
    CHECK(p.pushed <= 1);
    struct lw_batch *late = batch_of(1);
    CHECK_EQ(lw_queue_try_push(q, late), LW_EAGAIN); /* the caller keeps it */
    lw_batch_free(late);
    /* Pops drain what is left, then return NULL at once. */
    int left = 0;
    struct lw_batch *b;
    while ((b = lw_queue_pop(q, 5000)) != NULL) {
        left++;
        lw_batch_free(b);
    }
    CHECK(left >= 1);

    int64_t t0 = lw_mono_ns();
    CHECK(lw_queue_pop(q, 5000) == NULL);
    CHECK(lw_mono_ns() - t0 < LW_NS_PER_SEC);
    lw_queue_free(q);
}

static void *wake_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    lw_queue_wake(arg);
    return NULL;
}

static void test_wake(void)
{
    struct lw_queue *q = lw_queue_new(4, 1 << 20);
    pthread_t t;
    pthread_create(&t, NULL, wake_later, q);
    int64_t t0 = lw_mono_ns();
    CHECK(lw_queue_pop(q, 10000) == NULL);
    CHECK(lw_mono_ns() - t0 < 5 * LW_NS_PER_SEC);
    pthread_join(t, NULL);
    /* A wake is consumed by the pop it woke. */
    t0 = lw_mono_ns();
    CHECK(lw_queue_pop(q, 30) == NULL);
    CHECK(lw_mono_ns() - t0 >= 25 * LW_NS_PER_MS);
    lw_queue_free(q);
}

static void count_room(void *arg)
{
    (*(int *)arg)++;
}

/* lw_queue_on_room: called once a queue that refused a batch has drained to half, once per
 * refusal, never when nothing was refused. */
static void test_room(void)
{
    int calls = 0;
    struct lw_queue *q = lw_queue_new(4, 1u << 20);
    lw_queue_on_room(q, count_room, &calls);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(lw_queue_try_push(q, batch_of(10)), LW_OK);
    lw_batch_free(lw_queue_pop(q, 0)); /* 3 left, nothing was refused */
    lw_batch_free(lw_queue_pop(q, 0)); /* 2 left */
    CHECK_EQ(calls, 0);
    CHECK_EQ(lw_queue_try_push(q, batch_of(10)), LW_OK);
    CHECK_EQ(lw_queue_try_push(q, batch_of(10)), LW_OK);
    struct lw_batch *b = batch_of(10);
    CHECK_EQ(lw_queue_try_push(q, b), LW_EFULL);
    lw_batch_free(lw_queue_pop(q, 0)); /* 3 left: not yet */
    CHECK_EQ(calls, 0);
    lw_batch_free(lw_queue_pop(q, 0)); /* 2 left: half */
    CHECK_EQ(calls, 1);
    lw_batch_free(lw_queue_pop(q, 0));
    CHECK_EQ(calls, 1); /* once per refusal */
    /* has_room saying no counts as a refusal too. */
    CHECK_EQ(lw_queue_try_push(q, b), LW_OK);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(lw_queue_try_push(q, batch_of(10)), LW_OK);
    CHECK(!lw_queue_has_room(q));
    lw_batch_free(lw_queue_pop(q, 0));
    lw_batch_free(lw_queue_pop(q, 0));
    CHECK_EQ(calls, 2);
    lw_queue_free(q);
}

int main(void)
{
    test_batch();
    test_bounds();
    test_reuse();
    test_blocking();
    test_wake();
    test_room();
    return test_summary();
}
