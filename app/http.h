/* http.h: the HTTP endpoint and the counters it publishes (written by the pipeline thread). */
#ifndef LW_HTTP_H
#define LW_HTTP_H

#include "app.h"
#include "store.h"

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

/* The page served at / (dashboard.c). */
extern const char lw_dashboard_html[];

struct lw_http_server;
/* Serves /health, /metrics, /api/alerts and /api/silences on listen ("127.0.0.1:9880") from its
 * own thread and its own state-file connection. */
int lw_http_start(struct lw_http_server **out, const char *listen, const struct lw_config *cfg,
                  struct lw_metrics *m, struct lw_err *err);
void lw_http_stop(struct lw_http_server *h);
/* The body of /health: "ok\n" while every input's status op says healthy (or it has none), else
 * "degraded: INPUT: reason" ("degraded: INPUT" without one) for each degraded input, joined by ";
 * ", and a newline (HTTP 200 either way: the process is up; issue 16 makes it JSON). Calls the
 * status ops (any thread). */
void lw_health_text(const struct lw_config *cfg, struct lw_buf *out);
/* Loads libmicrohttpd (mhd_dl.c): 0, or LW_EIO and err naming the library when it is missing. */
int lw_mhd_load(struct lw_err *err);

#endif
