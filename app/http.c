/* http.c: the HTTP endpoint (libmicrohttpd, its own thread): /health, /metrics, /api/alerts and
 * /api/silences, read from the state file on its own connection; it never blocks the pipeline. */
#include "http.h"
#include "notify.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (64u << 10)
#define MAX_CONNECTIONS 64

struct lw_http {
    struct MHD_Daemon *mhd;
    struct lw_store *st; /* used by MHD's one polling thread only, under mu */
    pthread_mutex_t mu;
    const struct lw_config *cfg;
    struct lw_metrics *m;
};

struct req {
    struct lw_buf body;
    bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned code, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result ret = reply(c, code, "application/json", s ? s : "null", s ? strlen(s) : 4);
    free(s);
    json_decref(j);
    return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *msg)
{
    return reply_json(c, code, json_pack("{s:s}", "error", msg));
}

static void metrics(struct lw_http *h, struct lw_buf *b)
{
    struct lw_metrics *m = h->m;
#define COUNTER(name, help, v)                                                                     \
    lw_buf_printf(b,                                                                               \
                  "# HELP logwarden_" name " " help "\n# TYPE logwarden_" name                     \
                  " counter\nlogwarden_" name " %llu\n",                                           \
                  (unsigned long long)(v))
    COUNTER("records_total", "Lines read by all inputs.", atomic_load(&m->records));
    COUNTER("events_total", "Events produced by rules.", atomic_load(&m->events));
    COUNTER("malformed_records_total", "Lines whose envelope did not decode.",
            atomic_load(&m->malformed));
    COUNTER("alert_transitions_total", "Alert state changes (firing and resolved).",
            atomic_load(&m->transitions));
    COUNTER("notifications_sent_total", "Notifications queued for sinks.",
            atomic_load(&m->notifications));
    COUNTER("group_overflow_total", "Events dropped because an alert reached max_groups.",
            atomic_load(&m->overflow));
    COUNTER("nonfinite_values_total",
            "Values that were not finite numbers: field values skipped, sums saturated at "
            "+-1.8e308, NaN evaluations skipped.",
            atomic_load(&m->nonfinite));
#undef COUNTER
    pthread_mutex_lock(&m->alerts_mu);
    lw_buf_append(b, m->alerts.p, m->alerts.len);
    pthread_mutex_unlock(&m->alerts_mu);
    lw_buf_puts(b, "# HELP logwarden_input_lines_total Lines read, per input.\n"
                   "# TYPE logwarden_input_lines_total counter\n");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        lw_buf_printf(b, "logwarden_input_lines_total{input=\"%s\"} %llu\n", h->cfg->inputs[i].name,
                      (unsigned long long)atomic_load(&h->cfg->inputs[i].in->lines));
    lw_buf_puts(b, "# HELP logwarden_late_events_total Events older than their window, dropped, "
                   "per input.\n# TYPE logwarden_late_events_total counter\n");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        lw_buf_printf(b, "logwarden_late_events_total{input=\"%s\"} %llu\n", h->cfg->inputs[i].name,
                      (unsigned long long)atomic_load(&m->late_in[i]));
    lw_buf_puts(b, "# HELP logwarden_input_dropped_total Messages dropped (UDP under load), per "
                   "input.\n# TYPE logwarden_input_dropped_total counter\n");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        lw_buf_printf(b, "logwarden_input_dropped_total{input=\"%s\"} %llu\n",
                      h->cfg->inputs[i].name,
                      (unsigned long long)atomic_load(&h->cfg->inputs[i].in->dropped));
    int64_t pending = 0, sent = 0, failed = 0;
    lw_store_outbox_counts(h->st, &pending, &sent, &failed);
    lw_buf_printf(b,
                  "# HELP logwarden_outbox Notifications in the outbox, by state.\n"
                  "# TYPE logwarden_outbox gauge\n"
                  "logwarden_outbox{state=\"pending\"} %lld\n"
                  "logwarden_outbox{state=\"sent\"} %lld\n"
                  "logwarden_outbox{state=\"failed\"} %lld\n",
                  (long long)pending, (long long)sent, (long long)failed);
}

static void on_state(const struct lw_state_row *r, void *payload)
{
    char t[40];
    json_t *arr = payload, *grp = json_loads(r->group, 0, NULL);
    lw_fmt_rfc3339(r->state == LW_FIRING ? r->fired_ns : r->active_since_ns, t, sizeof t);
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:f,s:s}", "alert", r->alert,
                                         "fingerprint", r->fingerprint, "state",
                                         r->state == LW_FIRING ? "firing" : "pending", "group",
                                         grp ? grp : json_object(), "value", r->value, "since", t));
}

static void on_silence(const struct lw_silence_row *r, void *payload)
{
    char s[40], e[40];
    json_t *arr = payload, *m = json_loads(r->matchers, 0, NULL);
    lw_fmt_rfc3339(r->starts_ns, s, sizeof s);
    lw_fmt_rfc3339(r->ends_ns, e, sizeof e);
    json_array_append_new(arr, json_pack("{s:s,s:o,s:s,s:s,s:s,s:s}", "id", r->id, "matchers",
                                         m ? m : json_array(), "startsAt", s, "endsAt", e,
                                         "comment", r->comment, "createdBy", r->created_by));
}

/* POST /api/silences: Alertmanager's v2 body ({matchers: [{name, value, isRegex, isEqual}],
 * endsAt | duration, comment, createdBy}) or matchers as "name=value" strings. */
static enum MHD_Result post_silence(struct lw_http *h, struct MHD_Connection *c, struct req *rq)
{
    json_error_t jerr;
    struct lw_err err = {0};
    json_t *b = json_loadb(rq->body.p ? rq->body.p : "", rq->body.len, 0, &jerr);
    json_t *ms = json_object_get(b, "matchers"), *m;
    char **args = lw_calloc(json_array_size(ms) + 1, sizeof *args);
    size_t n = 0, i;
    enum MHD_Result ret;
    if (!json_is_object(b) || !json_is_array(ms)) {
        ret = reply_error(c, 400, "expected a JSON object with a matchers array");
        goto out;
    }
    json_array_foreach(ms, i, m)
    {
        if (json_is_string(m)) {
            args[n++] = lw_strdup(json_string_value(m));
            continue;
        }
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *value = json_string_value(json_object_get(m, "value"));
        if (!name || !value) {
            ret = reply_error(c, 400, "a matcher needs name and value");
            goto out;
        }
        bool re = json_is_true(json_object_get(m, "isRegex"));
        json_t *eq = json_object_get(m, "isEqual");
        bool neg = eq && json_is_false(eq);
        struct lw_buf a = {0};
        lw_buf_printf(&a, "%s%s%s", name, neg ? (re ? "!~" : "!=") : (re ? "=~" : "="), value);
        args[n++] = lw_buf_steal(&a);
    }
    int64_t dur = 3600 * LW_NS_PER_SEC;
    const char *d = json_string_value(json_object_get(b, "duration"));
    const char *ends = json_string_value(json_object_get(b, "endsAt"));
    if (d && (lw_parse_duration(d, strlen(d), &dur) < 0 || dur <= 0)) {
        ret = reply_error(c, 400, "bad duration");
        goto out;
    }
    if (ends) {
        int64_t t;
        if (lw_container_time_parse(ends, strlen(ends), &t) < 0 || t == 0) {
            ret = reply_error(c, 400, "bad endsAt: expected an RFC 3339 time");
            goto out;
        }
        dur = t - lw_now_ns();
        if (dur <= 0) {
            ret = reply_error(c, 400, "endsAt is in the past");
            goto out;
        }
    }
    const char *comment = json_string_value(json_object_get(b, "comment"));
    const char *by = json_string_value(json_object_get(b, "createdBy"));
    char id[37];
    pthread_mutex_lock(&h->mu);
    int rc =
        lw_silence_create(h->st, args, n, dur, comment ? comment : "", by ? by : "api", id, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0)
        ret = reply_error(c, rc == LW_EINVAL ? 400 : 500, err.msg);
    else
        ret = reply_json(c, 200, json_pack("{s:s}", "silenceID", id));
out:
    for (size_t k = 0; k < n; k++)
        free(args[k]);
    free(args);
    json_decref(b);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct lw_http *h = cls;
    struct req *rq = *con_cls;
    struct lw_err err = {0};
    (void)version;
    if (!rq) {
        *con_cls = lw_calloc(1, sizeof *rq);
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body.len + *upload_size > MAX_BODY)
            rq->too_big = true;
        else
            lw_buf_append(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_big)
        return reply_error(c, 413, "body larger than 64 KiB");

    if (!strcmp(url, "/") && !strcmp(method, "GET"))
        return reply(c, 200, "text/html; charset=utf-8", lw_dashboard_html,
                     strlen(lw_dashboard_html));
    if (!strcmp(url, "/health"))
        return reply(c, 200, "text/plain", "ok\n", 3);
    if (!strcmp(url, "/metrics") && !strcmp(method, "GET")) {
        struct lw_buf b = {0};
        pthread_mutex_lock(&h->mu);
        metrics(h, &b);
        pthread_mutex_unlock(&h->mu);
        enum MHD_Result r = reply(c, 200, "text/plain; version=0.0.4", b.p, b.len);
        lw_buf_free(&b);
        return r;
    }
    if (!strcmp(url, "/api/alerts") && !strcmp(method, "GET")) {
        json_t *arr = json_array();
        pthread_mutex_lock(&h->mu);
        int rc = lw_store_load_states(h->st, on_state, arr, &err);
        pthread_mutex_unlock(&h->mu);
        if (rc < 0) {
            json_decref(arr);
            return reply_error(c, 500, err.msg);
        }
        return reply_json(c, 200, arr);
    }
    if (!strcmp(url, "/api/silences") && !strcmp(method, "GET")) {
        json_t *arr = json_array();
        pthread_mutex_lock(&h->mu);
        int rc = lw_store_silences(h->st, false, lw_now_ns(), on_silence, arr, &err);
        pthread_mutex_unlock(&h->mu);
        if (rc < 0) {
            json_decref(arr);
            return reply_error(c, 500, err.msg);
        }
        return reply_json(c, 200, arr);
    }
    if (!strcmp(url, "/api/silences") && !strcmp(method, "POST"))
        return post_silence(h, c, rq);
    if (!strncmp(url, "/api/silences/", 14) && !strcmp(method, "DELETE")) {
        pthread_mutex_lock(&h->mu);
        int rc = lw_store_silence_expire(h->st, url + 14, lw_now_ns(), &err);
        pthread_mutex_unlock(&h->mu);
        if (rc == LW_ENOENT)
            return reply_error(c, 404, err.msg);
        if (rc < 0)
            return reply_error(c, 500, err.msg);
        return reply_json(c, 200, json_pack("{s:s}", "expired", url + 14));
    }
    return reply_error(c, 404, "not found: /, /health, /metrics, /api/alerts, /api/silences");
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls,
                 enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (rq) {
        lw_buf_free(&rq->body);
        free(rq);
    }
}

int lw_http_start(struct lw_http **out, const char *listen, const struct lw_config *cfg,
                  struct lw_metrics *m, struct lw_err *err)
{
    struct sockaddr_in sa = {0};
    char host[64];
    const char *colon = strrchr(listen, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (!colon || hl == 0 || hl >= sizeof host || port <= 0 || port > 65535)
        return lw_err_set(err, LW_EINVAL, "http.listen: expected HOST:PORT, got '%s'", listen);
    memcpy(host, listen, hl);
    host[hl] = 0;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, !strcmp(host, "localhost") ? "127.0.0.1" : host, &sa.sin_addr) != 1)
        return lw_err_set(err, LW_EINVAL, "http.listen: '%s' is not an IPv4 address", host);

    struct lw_http *h = lw_calloc(1, sizeof *h);
    h->cfg = cfg;
    h->m = m;
    pthread_mutex_init(&h->mu, NULL);
    if (lw_store_open(&h->st, cfg->state, err) < 0) {
        free(h);
        return LW_EIO;
    }
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                              handle, h, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                              MHD_OPTION_NOTIFY_COMPLETED, done, h, MHD_OPTION_END);
    if (!h->mhd) {
        lw_store_close(h->st);
        free(h);
        return lw_err_set(err, LW_EIO, "cannot listen on %s", listen);
    }
    *out = h;
    return 0;
}

void lw_http_stop(struct lw_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    lw_store_close(h->st);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
