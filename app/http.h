/* http.h: the HTTP endpoint and the counters it publishes (written by the pipeline thread). */
#ifndef LW_HTTP_H
#define LW_HTTP_H

#include "app.h"
#include "store.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

/* Counters the pipeline thread publishes after each batch; read by the HTTP thread. */
struct lw_metrics {
    _Atomic uint64_t records, events, late, malformed, transitions, notifications, overflow;
    _Atomic uint64_t nonfinite;     /* values saturated at +-DBL_MAX or skipped (engine) */
    _Atomic uint64_t *late_in;      /* late events per config input */
    _Atomic uint64_t *malformed_in; /* per config input: lines whose envelope did not decode */
    /* Sharded inputs (Kafka), per config input: streams whose windows were rebuilt by a replay
     * (REPLAY_START), and those of them whose replay could not reach a whole window back. */
    _Atomic uint64_t *rebuilds_in, *partial_in;
    /* Per-alert gauges, rendered as metric lines by the pipeline thread every few seconds
     * (the set of alerts changes with reloads). */
    pthread_mutex_t alerts_mu;
    struct lw_buf alerts;
};

/* ---------------------------------------------------------------- asking the pipeline
 *
 * The engine, the rules and the notifier belong to the pipeline thread. The HTTP thread asks it
 * (lw_ask), and the pipeline answers between two batches (lw_asker_serve, daemon.c): at most a
 * few milliseconds on a busy daemon, and the answer is exactly what the pipeline holds. */
enum lw_ask_kind {
    LW_ASK_ALERTS,  /* every pending and firing alert (docs/operations.md, "GET /api/alerts") */
    LW_ASK_RULES,   /* every alert rule ("GET /api/rules") */
    LW_ASK_EXPLAIN, /* one alert's explanation, arg its fingerprint ("GET /api/alerts/{fp}") */
    LW_ASK_RELOAD,  /* reload as on SIGHUP; the answer says what loaded or why not */
};
struct lw_ask {
    enum lw_ask_kind kind;
    const char *arg; /* borrowed for the call */
    json_t *answer;  /* set by the answerer: the caller's after lw_ask */
    int code;        /* HTTP status of the answer: 200, 404, 422... */
};
struct lw_asker;
/* wake is called (any thread) when a question is waiting: the pipeline's queue wakes. */
struct lw_asker *lw_asker_new(void (*wake)(void *), void *wake_arg);
void lw_asker_free(struct lw_asker *a);
/* HTTP thread: asks and waits up to timeout_ns for the answer. 0, or LW_EAGAIN when the
 * pipeline did not answer in time or no longer runs (a->answer NULL, code 503). One question
 * at a time: concurrent askers wait their turn. */
int lw_ask(struct lw_asker *a, struct lw_ask *q, int64_t timeout_ns);
/* Pipeline thread: answers the waiting question, if any, with fn. Cheap when none waits (one
 * atomic load). */
typedef void lw_answer_fn(struct lw_ask *q, void *payload);
void lw_asker_serve(struct lw_asker *a, lw_answer_fn *fn, void *payload);
/* The pipeline stopped: waiting and later questions get LW_EAGAIN at once. */
void lw_asker_close(struct lw_asker *a);

/* ---------------------------------------------------------------- the endpoint */

struct lw_worker;
struct lw_http_server;
/* What the endpoint reads; every pointer borrowed, living as long as the server. */
struct lw_http_ctx {
    const char *listen; /* "127.0.0.1:9880" */
    const struct lw_config *cfg;
    struct lw_metrics *m;
    struct lw_worker *const *workers; /* one per cfg->sinks (their delivery state), or NULL */
    struct lw_asker *asker;           /* the pipeline's answers */
};
/* Serves /, /alerts/{fp}, /health, /metrics and the API from its own thread and its own
 * state-file connection. */
int lw_http_start(struct lw_http_server **out, const struct lw_http_ctx *ctx, struct lw_err *err);
void lw_http_stop(struct lw_http_server *h);
/* The body of /health: "ok\n" while every input's status op says healthy (or it has none), else
 * "degraded: INPUT: reason" ("degraded: INPUT" without one) for each degraded input, joined by ";
 * ", and a newline (HTTP 200 either way: the process is up; issue 16 makes it JSON). Calls the
 * status ops (any thread). */
void lw_health_text(const struct lw_config *cfg, struct lw_buf *out);
/* Loads libmicrohttpd (mhd_dl.c): 0, or LW_EIO and err naming the library when it is missing. */
int lw_mhd_load(struct lw_err *err);

#endif
