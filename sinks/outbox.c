/* outbox.c: one worker thread per sink delivers its outbox rows in order, retrying temporary
 * failures with exponential backoff and jitter, so an outage delays alerts but drops none. */
#include "outbox.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_NS (1 * LW_NS_PER_SEC)
#define BACKOFF_MAX_NS (300 * LW_NS_PER_SEC)

struct lw_worker {
    struct lw_sink *sink;
    char *state_path;
    /* notify.max_age, read at each attempt: a reload stores the new value here while the
     * thread runs (lw_worker_set_max_age), so it must be atomic, not a copy taken at start. */
    _Atomic int64_t max_age_ns;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool woken;
    atomic_bool stopping;
    _Atomic int64_t stop_deadline_ns; /* monotonic */
    struct lw_worker_state state;     /* under mu: written by the worker, read by any thread */
};

/* Backoff for the n-th attempt (1-based): 1 s, 2 s, 4 s ... 5 min, each +-20 %. */
static int64_t backoff(int attempts, unsigned *seed)
{
    int64_t d = BACKOFF_MIN_NS;
    for (int i = 1; i < attempts && d < BACKOFF_MAX_NS; i++)
        d *= 2;
    if (d > BACKOFF_MAX_NS)
        d = BACKOFF_MAX_NS;
    double jitter = 0.8 + 0.4 * ((double)rand_r(seed) / RAND_MAX);
    return (int64_t)((double)d * jitter);
}

static void wait_for(struct lw_worker *w, int64_t ns)
{
    struct timespec ts;
    if (ns <= 0)
        return;
    if (ns > LW_NS_PER_SEC)
        ns = LW_NS_PER_SEC; /* wake at least once a second to notice stop */
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t = (int64_t)ts.tv_sec * LW_NS_PER_SEC + ts.tv_nsec + ns;
    ts.tv_sec = t / LW_NS_PER_SEC;
    ts.tv_nsec = t % LW_NS_PER_SEC;
    pthread_mutex_lock(&w->mu);
    if (!w->woken)
        pthread_cond_timedwait(&w->cond, &w->mu, &ts);
    w->woken = false;
    pthread_mutex_unlock(&w->mu);
}

/* The result of one of the store's outbox updates: true when it took (a storage error leaves
 * the row as it was, tried again). Only this worker updates its sink's rows, and it read this
 * one as pending just before: a row no longer pending would be one settled, and sent, twice. */
static bool row_updated(int rc)
{
    LW_INVARIANT(rc != LW_ENOENT);
    return rc == 0;
}

/* row_updated, and when the state file did not take the update (a full disk: the store logged
 * it), a pause before the row, still due, is tried again: at most one attempt a second while
 * writes fail, not a loop that hammers the receiver (and resends a delivered row). */
static bool stored(struct lw_worker *w, int rc)
{
    if (row_updated(rc))
        return true;
    wait_for(w, BACKOFF_MIN_NS);
    return false;
}

enum { O_SENT, O_RETRY, O_FAILED }; /* an attempt's outcome */

/* Records an attempt's outcome in w->state, and logs when the sink starts failing and when it
 * works again (the lines between are the rate-limited retries above). */
static void outcome(struct lw_worker *w, int what, int64_t now, const char *error)
{
    struct lw_worker_state *s = &w->state;
    int64_t since = 0;
    pthread_mutex_lock(&w->mu);
    if (what == O_SENT) {
        since = s->failing_since_ns;
        s->last_success_ns = now;
        s->failing_since_ns = 0;
        s->last_error[0] = 0;
        s->sent++;
    } else {
        if (!s->failing_since_ns)
            s->failing_since_ns = now;
        else
            since = -1; /* failing already: said */
        snprintf(s->last_error, sizeof s->last_error, "%s", error ? error : "");
        if (what == O_RETRY)
            s->retries++;
        else
            s->failed++;
    }
    pthread_mutex_unlock(&w->mu);
    if (what == O_SENT && since > 0)
        lw_log(LW_INFO, "[sink:%s] delivering again, after failing for %.0fs", w->sink->name,
               (double)(now - since) / 1e9);
    else if (what != O_SENT && since == 0)
        lw_log(LW_WARN, "[sink:%s] failing: %s", w->sink->name, error ? error : "");
}

void lw_worker_state(struct lw_worker *w, struct lw_worker_state *out)
{
    if (!w) {
        memset(out, 0, sizeof *out);
        return;
    }
    pthread_mutex_lock(&w->mu);
    *out = w->state;
    pthread_mutex_unlock(&w->mu);
}

/* Tries one item; returns true when it is settled for good (sent or failed) in the store. */
static bool attempt(struct lw_worker *w, struct lw_store *st, struct lw_outbox_item *it,
                    unsigned *seed)
{
    struct lw_err err = {0};
    int64_t retry_after = 0, now = lw_now_ns();
    int rc = w->sink->ops->deliver(w->sink, it->payload, strlen(it->payload), &retry_after, &err);
    /* The error may quote a receiver's answer, which may echo the URL's secret: it is stored
     * in the outbox row, so it is redacted before it goes anywhere. */
    lw_redact_in(err.msg, sizeof err.msg);
    if (rc == 0) {
        bool done = stored(w, lw_store_outbox_sent(st, it->id));
        if (it->attempts > 0)
            lw_log(LW_INFO, "[sink:%s] delivered after %d retries", w->sink->name, it->attempts);
        outcome(w, O_SENT, now, NULL);
        return done;
    }
    if (rc == LW_EAGAIN &&
        now - it->created_ns < atomic_load_explicit(&w->max_age_ns, memory_order_relaxed)) {
        int64_t delay = retry_after > 0 ? retry_after : backoff(it->attempts + 1, seed);
        /* A retry due at once would hammer a receiver that is down in a tight loop. */
        LW_INVARIANT(delay > 0);
        if (it->attempts < 3 || it->attempts % 10 == 0)
            lw_log(LW_WARN, "[sink:%s] delivery failed, retrying in %.1fs: %s", w->sink->name,
                   (double)delay / 1e9, err.msg);
        (void)stored(w, lw_store_outbox_retry(st, it->id, now + delay, err.msg));
        outcome(w, O_RETRY, now, err.msg);
        return false;
    }
    lw_log(LW_ERROR, "[sink:%s] notification %lld failed for good: %s", w->sink->name,
           (long long)it->id, rc == LW_EAGAIN ? "retried past notify.max_age" : err.msg);
    outcome(w, O_FAILED, now, err.msg);
    return stored(w, lw_store_outbox_failed(st, it->id, err.msg));
}

/* What the worker last saw of its queue, to check each head against (worker thread only). */
struct seen {
    int64_t head;    /* the last head's id: ids only grow, delivery order is the outbox's */
    int attempts;    /* its attempts then */
    int64_t settled; /* the last id this worker settled for good (0: none) */
};

/* A head before the last one would be a notification sent out of order; one this worker
 * settled, a notification sent twice; fewer attempts than before, a retry count (and so its
 * backoff and the log's "after N retries") gone back. */
static void check_head(struct seen *seen, const struct lw_outbox_item *it)
{
    LW_INVARIANT(it->id >= seen->head);
    LW_INVARIANT(it->id > seen->settled);
    LW_INVARIANT(it->id != seen->head || it->attempts >= seen->attempts);
    seen->head = it->id;
    seen->attempts = it->attempts;
}

static void *worker_main(void *arg)
{
    struct lw_worker *w = arg;
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    unsigned seed = (unsigned)lw_mono_ns();
    struct seen seen = {0};
    while (lw_store_open(&st, w->state_path, &err) < 0) {
        lw_log(LW_ERROR, "[sink:%s] cannot open state: %s", w->sink->name, err.msg);
        if (atomic_load(&w->stopping))
            return NULL;
        wait_for(w, LW_NS_PER_SEC);
    }
    for (;;) {
        struct lw_outbox_item it;
        bool stopping = atomic_load(&w->stopping);
        if (stopping && lw_mono_ns() >= atomic_load(&w->stop_deadline_ns)) {
            if (lw_store_outbox_head(st, w->sink->name, &it) == 0) {
                lw_log(LW_WARN,
                       "[sink:%s] stop: the grace period is over with notifications undelivered; "
                       "they stay in the outbox and are sent after the next start",
                       w->sink->name);
                lw_outbox_item_free(&it);
            }
            break;
        }
        if (lw_store_outbox_head(st, w->sink->name, &it) != 0) {
            if (stopping)
                break; /* nothing left to deliver */
            wait_for(w, LW_NS_PER_SEC);
            continue;
        }
        check_head(&seen, &it);
        int64_t now = lw_now_ns();
        if (it.next_ns > now) {
            wait_for(w, it.next_ns - now);
        } else if (attempt(w, st, &it, &seed)) {
            seen.settled = it.id;
        }
        lw_outbox_item_free(&it);
    }
    lw_store_close(st);
    return NULL;
}

struct lw_worker *lw_worker_start(struct lw_sink *s, const char *state_path, int64_t max_age_ns)
{
    struct lw_worker *w = lw_calloc(1, sizeof *w);
    w->sink = s;
    w->state_path = lw_strdup(state_path);
    atomic_init(&w->max_age_ns, max_age_ns);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        lw_log(LW_ERROR, "[sink:%s] cannot start its thread", s->name);
        free(w->state_path);
        free(w);
        return NULL;
    }
    return w;
}

void lw_worker_set_max_age(struct lw_worker *w, int64_t max_age_ns)
{
    if (w)
        atomic_store_explicit(&w->max_age_ns, max_age_ns, memory_order_relaxed);
}

void lw_worker_wake(struct lw_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->woken = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

/* One deadline for every worker, set before any is joined: n unreachable sinks stop in one
 * grace period, not n of them one after another. The sink sees the deadline too, so a request
 * that would block past it (a receiver that accepts and never answers) is cut short. */
void lw_workers_stop(struct lw_worker **ws, size_t n, int64_t grace_ns)
{
    int64_t now = lw_mono_ns();
    /* A sink looks at its stop time about once a second during a request (curl's progress
     * callback): a second early, so that a request in flight then has ended by now + grace. */
    int64_t cut = grace_ns > LW_NS_PER_SEC ? now + grace_ns - LW_NS_PER_SEC : now;
    for (size_t i = 0; i < n; i++) {
        struct lw_worker *w = ws[i];
        if (!w)
            continue;
        atomic_store(&w->stop_deadline_ns, cut); /* no new attempt after it */
        atomic_store(&w->sink->stop_at_ns, cut);
        atomic_store(&w->stopping, true);
        lw_worker_wake(w);
    }
    for (size_t i = 0; i < n; i++) {
        struct lw_worker *w = ws[i];
        if (!w)
            continue;
        pthread_join(w->thread, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cond);
        free(w->state_path);
        free(w);
        ws[i] = NULL;
    }
}

int lw_deliver_now(struct lw_sink *s, const char *payload, size_t len, int64_t max_age_ns)
{
    unsigned seed = (unsigned)lw_mono_ns();
    int64_t start = lw_mono_ns();
    for (int attempts = 1;; attempts++) {
        struct lw_err err = {0};
        int64_t retry_after = 0;
        int rc = s->ops->deliver(s, payload, len, &retry_after, &err);
        if (rc == 0)
            return 0;
        if (rc != LW_EAGAIN || lw_mono_ns() - start > max_age_ns) {
            lw_log(LW_ERROR, "[sink:%s] delivery failed: %s", s->name, err.msg);
            return rc;
        }
        int64_t d = retry_after > 0 ? retry_after : backoff(attempts, &seed);
        lw_log(LW_WARN, "[sink:%s] delivery failed, retrying in %.1fs: %s", s->name,
               (double)d / 1e9, err.msg);
        struct timespec ts = {(time_t)(d / LW_NS_PER_SEC), (long)(d % LW_NS_PER_SEC)};
        nanosleep(&ts, NULL);
    }
}
