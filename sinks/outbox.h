/* outbox.h: delivery: one worker thread per sink sends its outbox rows from the state file, in
 * order, with retries; and the synchronous delivery `replay --notify` uses. */
#ifndef LW_OUTBOX_H
#define LW_OUTBOX_H

#include "sink.h"

/* What a worker commits, and what a crash between two steps does. The pipeline thread appends
 * the rows (lw_store_flush, with the notifier's rows); a worker only settles its own sink's:
 *
 *   step                                    a crash after it
 *   head: the oldest pending row of sink    nothing changed: the row is tried after the start
 *   sink->ops->deliver()                    sent but still pending: sent again after the start
 *                                           (the one window where a receiver gets a
 *                                           notification twice: delivery is at least once)
 *   lw_store_outbox_sent / _failed          settled: never sent again
 *   lw_store_outbox_retry                   pending, attempts + 1, not before next_ns
 *
 * Rows are settled in id order, one at a time: a sink's notifications arrive in the order they
 * were made, and a row that waits for its retry holds back the rows after it. */
struct lw_worker;

/* Starts a thread delivering sink's outbox rows from the state file at state_path (it opens
 * its own connection), retrying a temporary failure with backoff until the row is max_age_ns
 * old. s is borrowed and must outlive the worker. NULL when the thread cannot start (logged). */
struct lw_worker *lw_worker_start(struct lw_sink *s, const char *state_path, int64_t max_age_ns);
/* New rows are in the outbox: the worker looks now rather than at its next poll (any thread;
 * w may be NULL). */
void lw_worker_wake(struct lw_worker *w);
/* A reloaded notify.max_age: the worker's next attempt uses it (thread-safe). */
void lw_worker_set_max_age(struct lw_worker *w, int64_t max_age_ns);
/* Asks the n workers to finish, all at once: each keeps delivering what is due until one
 * shared deadline grace_ns from now (a request still in flight then is cut short), then they
 * are joined and freed, and w[i] set to NULL. What is not delivered stays in the outbox for the
 * next start. */
void lw_workers_stop(struct lw_worker **w, size_t n, int64_t grace_ns);

/* A worker's delivery state since it started, for /health and /metrics. */
struct lw_worker_state {
    int64_t last_success_ns;  /* wall: the last notification delivered, 0 none */
    int64_t failing_since_ns; /* wall: the first failed attempt since the last success, 0 when
                                 the last attempt succeeded */
    uint64_t sent, failed;    /* notifications delivered, and given up on (failed for good) */
    uint64_t retries;         /* attempts that failed and will be tried again */
    char last_error[256];     /* the last attempt's error, redacted; "" after a success */
};
/* Copies w's state (any thread; w may be NULL: all zero). */
void lw_worker_state(struct lw_worker *w, struct lw_worker_state *out);

/* Delivers one notification now with retries (replay --notify), blocking the caller: 0, or the
 * last error once it failed for good or retried past max_age_ns. */
int lw_deliver_now(struct lw_sink *s, const char *payload, size_t len, int64_t max_age_ns);

#endif
