/* ask.c: the HTTP thread's questions to the pipeline thread, which owns the engine: one
 * question at a time, answered between two batches. */
#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct lw_asker {
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* on the monotonic clock, as lw_mono_ns */
    pthread_mutex_t turn; /* held by the one asker whose question is out */
    struct lw_ask *q;     /* under mu: the waiting question, NULL once answered */
    atomic_bool waiting;  /* a question is waiting: the pipeline's cheap test */
    bool closed;          /* under mu */
    void (*wake)(void *);
    void *wake_arg;
};

struct lw_asker *lw_asker_new(void (*wake)(void *), void *wake_arg)
{
    struct lw_asker *a = lw_calloc(1, sizeof *a);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->turn, NULL);
    a->wake = wake;
    a->wake_arg = wake_arg;
    return a;
}

void lw_asker_free(struct lw_asker *a)
{
    if (!a)
        return;
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->turn);
    free(a);
}

int lw_ask(struct lw_asker *a, struct lw_ask *q, int64_t timeout_ns)
{
    int rc = 0;
    q->answer = NULL;
    q->code = 503;
    pthread_mutex_lock(&a->turn);
    pthread_mutex_lock(&a->mu);
    if (a->closed) {
        pthread_mutex_unlock(&a->mu);
        pthread_mutex_unlock(&a->turn);
        return LW_EAGAIN;
    }
    a->q = q;
    atomic_store(&a->waiting, true);
    pthread_mutex_unlock(&a->mu);
    if (a->wake)
        a->wake(a->wake_arg);
    int64_t deadline = lw_mono_ns() + timeout_ns;
    struct timespec ts = {deadline / LW_NS_PER_SEC, deadline % LW_NS_PER_SEC};
    pthread_mutex_lock(&a->mu);
    while (a->q && !a->closed)
        if (pthread_cond_timedwait(&a->cv, &a->mu, &ts) == ETIMEDOUT)
            break;
    if (a->q) {
        /* Not answered: withdrawn, so the pipeline never writes into a gone question. */
        a->q = NULL;
        atomic_store(&a->waiting, false);
        q->answer = NULL;
        q->code = 503;
        rc = LW_EAGAIN;
    }
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_unlock(&a->turn);
    return rc;
}

void lw_asker_serve(struct lw_asker *a, lw_answer_fn *fn, void *payload)
{
    if (!a || !atomic_load_explicit(&a->waiting, memory_order_acquire))
        return;
    /* The question is answered under mu: the asker cannot withdraw it meanwhile. An answer
     * takes milliseconds (a walk of the active groups), not a batch. */
    pthread_mutex_lock(&a->mu);
    if (a->q) {
        a->q->code = 200;
        fn(a->q, payload);
        a->q = NULL;
        atomic_store(&a->waiting, false);
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

void lw_asker_close(struct lw_asker *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->closed = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}
