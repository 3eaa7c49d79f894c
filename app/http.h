/* http.h: the HTTP endpoint and the counters it publishes (written by the pipeline thread). */
#ifndef LW_HTTP_H
#define LW_HTTP_H

#include "app.h"
#include "store.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

/* The state file's health: each flush's outcome and duration (daemon.c flush()). */
#define LW_FLUSH_BUCKETS 10 /* the histogram's bounds: lw_flush_bounds_s */
extern const double lw_flush_bounds_s[LW_FLUSH_BUCKETS];
struct lw_store_health {
    _Atomic int64_t last_ok_ns;       /* wall: the last flush that committed, 0 none yet */
    _Atomic int64_t failing_since_ns; /* wall: the first of the failures since then, 0 none */
    _Atomic uint64_t failures;        /* flushes (and notification writes) that failed */
    _Atomic uint64_t dur_count, dur_sum_ns, dur_le[LW_FLUSH_BUCKETS]; /* per bucket, cumulative */
    char last_error[256]; /* under lw_metrics.health_mu; "" none since the last success */
};

/* An input's health as the pipeline thread last judged it (lw_health_watch). */
struct lw_input_health {
    /* Under lw_metrics.health_mu (the HTTP thread reads these three): */
    bool degraded;
    char detail[256];     /* why, one line ("" when healthy) */
    uint64_t errors;      /* malformed lines, undecodable bodies, dropped messages */
    uint64_t errors_seen; /* pipeline thread: errors at the previous look */
    int64_t errors_at;    /* pipeline thread: wall time errors last grew, 0 never */
    bool own;             /* pipeline thread: degraded by errors or stale_after (logged here) */
    size_t own_at;        /* pipeline thread: where those reasons start in the detail */
};

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
    /* ---- health (health.c): written by the pipeline thread, read by the HTTP thread. */
    int64_t start_ns;             /* wall clock at start; set before any thread reads it */
    _Atomic int64_t *last_rec_in; /* per config input: wall time of its last batch, 0 none */
    /* Per config input and reason: bodies that did not decode (lw_ruleset_undecoded), at
     * [input * LW_UNDEC_COUNT + reason]. */
    _Atomic uint64_t *undecoded_in;
    _Atomic uint64_t queue_batches, queue_bytes; /* the pipeline's queue after the last pop */
    struct lw_store_health store;
    pthread_mutex_t health_mu;         /* guards the strings below and inputs' details */
    struct lw_input_health *health_in; /* per config input (lw_health_watch) */
    int64_t health_checked_ns;         /* pipeline thread: when lw_health_watch last ran */
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
/* health.c, pipeline thread, at most once a second: judges each input (its status op, errors
 * counted in the last LW_HEALTH_ERROR_WINDOW, silence longer than stale_after) into
 * m->health_in, and logs each input that goes degraded and back. */
#define LW_HEALTH_ERROR_WINDOW (60 * LW_NS_PER_SEC)
void lw_health_watch(const struct lw_config *cfg, struct lw_metrics *m, int64_t now);
/* health.c: the flush outcome (daemon.c): ok, or the error (err, redacted here), and how long
 * it took. Pipeline thread. */
void lw_health_flushed(struct lw_metrics *m, bool ok, const char *err, int64_t now,
                       int64_t took_ns);
/* Loads libmicrohttpd (mhd_dl.c): 0, or LW_EIO and err naming the library when it is missing. */
int lw_mhd_load(struct lw_err *err);

#endif
