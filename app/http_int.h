/* http_int.h: the HTTP endpoint's parts, shared by http.c (the gate and the routes), health.c
 * (/health), api.c (the API) and dashboard.c (the pages); nothing outside app/ includes it. */
#ifndef LW_HTTP_INT_H
#define LW_HTTP_INT_H

#include "http.h"

#include <microhttpd.h>

/* Why a request was refused: the label of logwarden_http_refused_total. */
enum lw_refusal { R_AUTH, R_HOST, R_ORIGIN, R_CTYPE, R_SIZE, R_LIMIT, R_COUNT };

struct lw_http_server {
    struct MHD_Daemon *mhd;
    struct lw_store *st; /* used by MHD's one polling thread only, under mu */
    pthread_mutex_t mu;
    struct lw_http_ctx ctx;
    const struct lw_config *cfg; /* ctx.cfg */
    struct lw_metrics *m;        /* ctx.m */
    char listen_host[256];       /* the host part of http.listen, "" for a wildcard address */
    /* Refusals, and their log line once per REFUSAL_LOG_EVERY (MHD's polling thread only). */
    _Atomic uint64_t refused[R_COUNT];
    int64_t logged_ns[R_COUNT];
    uint64_t unlogged[R_COUNT];
};

/* One request's body, read before the handler answers (at most 64 KiB). */
struct lw_http_req {
    struct lw_buf body;
    bool too_big;
};

enum MHD_Result lw_http_reply(struct MHD_Connection *c, unsigned code, const char *type,
                              const char *body, size_t len);
/* Answers j (consumed) as application/json. */
enum MHD_Result lw_http_reply_json(struct MHD_Connection *c, unsigned code, json_t *j);
/* {"error": msg}, redacted. */
enum MHD_Result lw_http_reply_error(struct MHD_Connection *c, unsigned code, const char *msg);
/* Counts a refusal and logs it (rate-limited). */
void lw_http_refused(struct lw_http_server *h, enum lw_refusal why, const char *method,
                     const char *url, const char *detail);
/* Whether the request carries http.token (always true without one). */
bool lw_http_authorized(const struct lw_http_server *h, struct MHD_Connection *c);

/* ---------------------------------------------------------------- what each part builds */

/* health.c: GET /health's object (docs/operations.md, "Health"); *code 200 (healthy,
 * degraded) or 503 (unhealthy). HTTP thread, under no lock (it takes h->mu to read the store). */
json_t *lw_http_health(struct lw_http_server *h, int *code);

/* health.c: what /health knows, as Prometheus families (appended to b), with the state
 * file's alerts per alert and the process's own series (process_*). Takes h->mu itself. */
void lw_http_health_metrics(struct lw_http_server *h, struct lw_buf *b);

/* api.c: the API's answers (docs/operations.md, "The API"). filters are Alertmanager matchers
 * (`severity="critical"`, `job=~"a.*"`); a bad one gives *code 400 and {"error": ...}. */
json_t *lw_http_alerts(struct lw_http_server *h, const char *const *filters, size_t nfilters,
                       int *code);
json_t *lw_http_rules(struct lw_http_server *h, int *code);
json_t *lw_http_explain(struct lw_http_server *h, const char *fingerprint, int *code);
json_t *lw_http_silences(struct lw_http_server *h, int *code);
json_t *lw_http_reload(struct lw_http_server *h, int *code);

/* dashboard.c: answers the pages (GET /, GET /alerts/{fp}, and their form posts); false when
 * url is not one of them. */
bool lw_dashboard_route(struct lw_http_server *h, struct MHD_Connection *c, const char *url,
                        const char *method, struct lw_http_req *rq, enum MHD_Result *ret);

#endif
