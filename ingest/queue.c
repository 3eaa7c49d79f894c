/* queue.c: the bounded, thread-safe batch queue between the I/O thread and the pipeline. */
#include "ingest.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lw_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty; /* pop waits here */
    pthread_cond_t not_full;  /* blocking push waits here */
    struct lw_batch *head, *tail;
    size_t count, bytes; /* queued batches and the sum of their data lengths */
    size_t max_batches, max_bytes;
    bool closed;
    bool woken; /* lw_queue_wake was called and no pop has returned NULL for it */
    /* Consumed batches kept for reuse. A batch's buffers are allocated on the input's thread
     * and were freed on the pipeline's: each quarter-MiB buffer then came back from a
     * different place, and both threads' malloc arenas stayed large. Reused, the daemon's
     * batches are a fixed set. */
    struct lw_batch *spare;
    size_t nspare;
    /* lw_queue_on_room: a producer was refused (try_push, has_room); the consumer calls
     * room_fn once the queue is down to half, so the producer refills it before it runs dry
     * instead of at its next timer (a file input's 2 ms were longer than the pipeline takes
     * to drain four batches of a fast rule set: it sat idle a third of the time). */
    void (*room_fn)(void *);
    void *room_arg;
    bool refused;
};

/* Spares kept beyond the queue's own bound, and the largest buffer worth keeping. */
#define SPARE_EXTRA 4
#define SPARE_MAX_DCAP (1u << 20)

struct lw_queue *lw_queue_new(size_t max_batches, size_t max_bytes)
{
    struct lw_queue *q = lw_calloc(1, sizeof *q);
    pthread_condattr_t ca;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    /* Timed waits on the monotonic clock: a wall-clock jump must not stretch a pop. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_cond_init(&q->not_full, &ca);
    pthread_condattr_destroy(&ca);
    q->max_batches = max_batches ? max_batches : 1;
    q->max_bytes = max_bytes ? max_bytes : 1;
    return q;
}

void lw_queue_free(struct lw_queue *q)
{
    if (!q)
        return;
    struct lw_batch *b = q->head;
    while (b) {
        struct lw_batch *next = b->next;
        lw_batch_free(b);
        b = next;
    }
    while (q->spare) {
        struct lw_batch *next = q->spare->next;
        lw_batch_free(q->spare);
        q->spare = next;
    }
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* A batch fits when both bounds hold; an empty queue takes any batch, so a batch larger than
 * max_bytes cannot wedge its input forever. Called with mu held. */
static bool queue_fits(const struct lw_queue *q, const struct lw_batch *b)
{
    if (q->count == 0)
        return true;
    return q->count < q->max_batches && q->bytes + b->len <= q->max_bytes;
}

static void queue_append(struct lw_queue *q, struct lw_batch *b)
{
    b->next = NULL;
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->count++;
    q->bytes += b->len;
    pthread_cond_signal(&q->not_empty);
}

int lw_queue_try_push(struct lw_queue *q, struct lw_batch *b)
{
    int rc = LW_OK;
    pthread_mutex_lock(&q->mu);
    if (q->closed)
        rc = LW_EAGAIN;
    else if (!queue_fits(q, b)) {
        rc = LW_EFULL;
        q->refused = true;
    } else
        queue_append(q, b);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int lw_queue_push(struct lw_queue *q, struct lw_batch *b)
{
    int rc = LW_OK;
    pthread_mutex_lock(&q->mu);
    while (!q->closed && !queue_fits(q, b))
        pthread_cond_wait(&q->not_full, &q->mu);
    if (q->closed)
        rc = LW_EAGAIN;
    else
        queue_append(q, b);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

struct lw_batch *lw_queue_pop(struct lw_queue *q, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    struct lw_batch *b = NULL;
    bool room = false;
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->closed && !q->woken && timeout_ms > 0) {
        if (pthread_cond_timedwait(&q->not_empty, &q->mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (q->head) {
        b = q->head;
        q->head = b->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
        q->bytes -= b->len;
        b->next = NULL;
        /* Broadcast: several pushers may each fit now that bytes went down. */
        pthread_cond_broadcast(&q->not_full);
        if (q->refused && q->room_fn && q->count <= q->max_batches / 2 &&
            q->bytes <= q->max_bytes / 2) {
            q->refused = false;
            room = true;
        }
    } else {
        q->woken = false;
    }
    pthread_mutex_unlock(&q->mu);
    if (room)
        q->room_fn(q->room_arg);
    return b;
}

void lw_queue_wake(struct lw_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->woken = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

void lw_queue_close(struct lw_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

void lw_queue_on_room(struct lw_queue *q, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&q->mu);
    q->room_fn = fn;
    q->room_arg = arg;
    pthread_mutex_unlock(&q->mu);
}

void lw_queue_depth(struct lw_queue *q, size_t *batches, size_t *bytes)
{
    pthread_mutex_lock(&q->mu);
    *batches = q->count;
    *bytes = q->bytes;
    pthread_mutex_unlock(&q->mu);
}

bool lw_queue_has_room(struct lw_queue *q)
{
    pthread_mutex_lock(&q->mu);
    bool room =
        !q->closed && (q->count == 0 || (q->count < q->max_batches && q->bytes < q->max_bytes));
    if (!room)
        q->refused = true;
    pthread_mutex_unlock(&q->mu);
    return room;
}

struct lw_batch *lw_queue_batch(struct lw_queue *q, uint32_t input, const char *stream,
                                size_t data_hint)
{
    if (!q)
        return lw_batch_new(input, stream, data_hint);
    pthread_mutex_lock(&q->mu);
    struct lw_batch *b = q->spare;
    if (b) {
        q->spare = b->next;
        q->nspare--;
    }
    pthread_mutex_unlock(&q->mu);
    if (!b)
        return lw_batch_new(input, stream, data_hint);
    b->input = input;
    b->stream = stream ? lw_strdup(stream) : NULL;
    memset(b->ident, 0, sizeof b->ident);
    memset(b->labels, 0, sizeof b->labels);
    b->n = 0;
    b->len = 0;
    b->eof = false;
    b->kind = LW_BATCH_LINES;
    b->partial = false;
    b->live_pos = false;
    b->next = NULL;
    if (b->dcap < data_hint) {
        free(b->data);
        b->data = lw_malloc(data_hint);
        b->dcap = data_hint;
    }
    return b;
}

void lw_queue_recycle(struct lw_queue *q, struct lw_batch *b)
{
    if (!b)
        return;
    if (!q) {
        lw_batch_free(b);
        return;
    }
    free(b->stream);
    b->stream = NULL;
    lw_labelset_unref(b->set);
    b->set = NULL;
    if (b->dcap <= SPARE_MAX_DCAP) {
        pthread_mutex_lock(&q->mu);
        if (q->nspare < q->max_batches + SPARE_EXTRA) {
            b->next = q->spare;
            q->spare = b;
            q->nspare++;
            b = NULL;
        }
        pthread_mutex_unlock(&q->mu);
    }
    lw_batch_free(b);
}
