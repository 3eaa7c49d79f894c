/* http.c: the HTTP endpoint (libmicrohttpd, its own thread): /health, /metrics, /api/alerts and
 * /api/silences, read from the state file on its own connection; it never blocks the pipeline.
 *
 * Only the operator may use it: every request is checked before its body is read (gate()):
 * the Host must name this endpoint (DNS rebinding), writes carry no foreign Origin (a web page
 * in a browser on the same machine) and are application/json, and with http.token the API
 * needs `Authorization: Bearer TOKEN`. Each refusal is counted in /metrics and logged. */
#include "http_int.h"
#include "notify.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_BODY (64u << 10)
#define MAX_CONNECTIONS 64
#define REFUSAL_LOG_EVERY (10 * LW_NS_PER_SEC)

static const char *const refusal_names[R_COUNT] = {"unauthorized", "host",      "origin",
                                                   "content_type", "too_large", "silence_limit"};

enum MHD_Result lw_http_reply(struct MHD_Connection *c, unsigned code, const char *type,
                              const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result lw_http_reply_json(struct MHD_Connection *c, unsigned code, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result ret =
        lw_http_reply(c, code, "application/json", s ? s : "null", s ? strlen(s) : 4);
    free(s);
    json_decref(j);
    return ret;
}

enum MHD_Result lw_http_reply_error(struct MHD_Connection *c, unsigned code, const char *msg)
{
    struct lw_buf b = {0};
    enum MHD_Result r =
        lw_http_reply_json(c, code, json_pack("{s:s}", "error", lw_redact(msg, &b) ? b.p : msg));
    lw_buf_free(&b);
    return r;
}

/* Counts a refusal and logs it, at most once per REFUSAL_LOG_EVERY and reason (a scanner
 * would otherwise fill the log), with how many were not logged in between. */
void lw_http_refused(struct lw_http_server *h, enum lw_refusal why, const char *method,
                     const char *url, const char *detail)
{
    int64_t now = lw_mono_ns();
    atomic_fetch_add(&h->refused[why], 1);
    if (h->logged_ns[why] && now - h->logged_ns[why] < REFUSAL_LOG_EVERY) {
        h->unlogged[why]++;
        return;
    }
    if (h->unlogged[why])
        lw_log(LW_WARN, "[http] refused %s %s: %s (and %llu more for this reason, not logged)",
               method, url, detail, (unsigned long long)h->unlogged[why]);
    else
        lw_log(LW_WARN, "[http] refused %s %s: %s", method, url, detail);
    h->logged_ns[why] = now;
    h->unlogged[why] = 0;
}

/* The dashboard's pages: a browser without JavaScript reads them with HTTP Basic (the API keeps
 * Bearer). */
static bool is_page(const char *url)
{
    return !strcmp(url, "/") || !strncmp(url, "/alerts/", 8);
}

/* The dashboard's form posts (application/x-www-form-urlencoded): their token may be a field
 * of the body, so dashboard.c checks it once the body is read. */
static bool is_form_route(const char *url, const char *method)
{
    return !strcmp(method, "POST") &&
           (!strcmp(url, "/silences") || !strncmp(url, "/silences/", 10));
}

static enum MHD_Result refuse(struct lw_http_server *h, struct MHD_Connection *c,
                              enum lw_refusal why, unsigned code, const char *method,
                              const char *url, const char *msg)
{
    lw_http_refused(h, why, method, url, msg);
    if (why != R_AUTH)
        return lw_http_reply_error(c, code, msg);
    json_t *j = json_pack("{s:s}", "error", msg);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "WWW-Authenticate",
                            is_page(url) ? "Basic realm=\"logwarden\", charset=\"UTF-8\""
                                         : "Bearer realm=\"logwarden\"");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    free(s);
    return ret;
}

/* One counter of struct lw_join_stats per input; label is an extra label ("limit=..."). */
static void join_counter(struct lw_http_server *h, struct lw_buf *b, const char *name,
                         const char *label, size_t off)
{
    for (size_t i = 0; i < h->cfg->ninputs; i++) {
        const char *j = (const char *)&h->cfg->inputs[i].in->join;
        lw_buf_printf(b, "%s{input=\"%s\"%s} %llu\n", name, h->cfg->inputs[i].name, label,
                      (unsigned long long)atomic_load((const _Atomic uint64_t *)(j + off)));
    }
}

/* One line of help per metric family the inputs' metrics ops print (docs/inputs.md). */
static const struct {
    const char *name, *help;
} input_metric_help[] = {
    {"logwarden_tail_files", "Files followed now, per input."},
    {"logwarden_tail_rotations_total",
     "Rotations seen (renamed, recreated, retargeted), per input."},
    {"logwarden_tail_truncations_total", "Truncations seen (copytruncate), per input."},
    {"logwarden_tail_copytruncate_unmatched_total",
     "Truncations whose rotated copy was not found: lines before them may be lost, per input."},
    {"logwarden_tail_rotated_skipped_total", "Compressed rotated files skipped, per input."},
    {"logwarden_tail_files_skipped_total", "Files not followed because of max_files, per input."},
    {"logwarden_tail_lines_cut_total", "Lines cut at max_line_bytes, per input."},
    {"logwarden_tail_bytes_behind", "Bytes written to a followed file and not read yet."},
    {"logwarden_docker_containers", "Containers followed now, per docker input."},
    {"logwarden_docker_configs_refused_total", "config.v2.json files over 1 MiB, not read."},
    {"logwarden_docker_configs_bad_total", "config.v2.json files that are not JSON or have no ID."},
    {"logwarden_docker_containers_skipped_total", "Containers not followed: max_containers."},
    {"logwarden_docker_containers_excluded_total", "Containers left out by include/exclude."},
    {"logwarden_cri_containers", "Container logs followed now, per cri input."},
    {"logwarden_cri_containers_skipped_total", "Container logs not followed: max_files."},
    {"logwarden_cri_containers_excluded_total", "Container logs left out by include/exclude."},
    {"logwarden_syslog_connections_total",
     "Syslog stream connections by event: accepted, then each ends in one of evicted, "
     "idle_timeout, message_timeout, framing_lost, closed; refused ones were never accepted."},
    {"logwarden_syslog_connections", "Syslog stream connections open now."},
    {"logwarden_syslog_stream_cut_total",
     "Syslog stream messages cut: too_long (over max_message_bytes) or unfinished (their "
     "connection ended first)."},
    {"logwarden_kafka_lag", "Messages in an owned partition after its position (high watermark "
                            "minus position)."},
    {"logwarden_syslog_tls_handshake_failures_total",
     "Syslog TLS connections refused or lost at the handshake, by reason."},
    {"logwarden_syslog_tls_reload_failures_total",
     "SIGHUPs whose TLS certificate files failed to load (the old ones stay in use)."},
    {"logwarden_syslog_tls_session_errors_total",
     "Syslog TLS connections closed by a TLS error after the handshake."},
    {"logwarden_kafka_messages_total", "Messages read from an owned partition."},
    {"logwarden_kafka_bytes_total", "Bytes of message values read from an owned partition."},
    {"logwarden_kafka_rebuilds_total", "Times an owned partition's windows were rebuilt by "
                                       "reading it back."},
    {"logwarden_kafka_partial_windows_total", "Rebuilds that could not reach back a whole "
                                              "window (retention)."},
    {"logwarden_kafka_commit_failures_total", "Offset commits to Kafka that failed (retried at "
                                              "the next flush)."},
    {"logwarden_kafka_rebuilding", "1 while an owned partition is being read back."},
    {"logwarden_kafka_partitions", "Partitions this instance owns, per kafka input."},
    {"logwarden_kafka_paused_partitions", "Partitions paused because the rules fell behind."},
    {"logwarden_kafka_assignments_lost_total", "Assignments lost (session timeout, fenced): "
                                               "windows dropped, nothing committed."},
    {"logwarden_kafka_commits_fenced_total", "Commits refused as fenced (ILLEGAL_GENERATION, "
                                             "UNKNOWN_MEMBER_ID)."},
    {"logwarden_syslog_buffered_bytes", "Datagram batches held by a syslog input while the rules "
                                        "are busy (up to max_buffered_bytes)."},
    {"logwarden_syslog_receive_buffer_bytes", "The socket receive buffer the kernel granted a UDP "
                                              "listener (receive_buffer_bytes, capped by "
                                              "net.core.rmem_max without CAP_NET_ADMIN)."},
};

/* The length of the line at p (up to end), and of its metric family's name. */
static size_t line_at(const char *p, const char *end, size_t *family)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p), i = 0;
    while (i < n && p[i] != '{' && p[i] != ' ')
        i++;
    *family = i;
    return n;
}

/* One HELP and TYPE for the family named by line[0..fl), then every sample of it in all, marked
 * in done (indexed by offset). */
static void metrics_family(const struct lw_buf *all, const char *line, size_t fl, bool *done,
                           struct lw_buf *b)
{
    const char *help = "See docs/inputs.md.";
    for (size_t k = 0; k < sizeof input_metric_help / sizeof input_metric_help[0]; k++)
        if (strlen(input_metric_help[k].name) == fl && !memcmp(input_metric_help[k].name, line, fl))
            help = input_metric_help[k].help;
    bool counter = fl > 6 && !memcmp(line + fl - 6, "_total", 6);
    lw_buf_printf(b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)fl, line, help, (int)fl, line,
                  counter ? "counter" : "gauge");
    const char *end = all->p + all->len;
    for (const char *p = all->p; p < end;) {
        size_t f2, n = line_at(p, end, &f2);
        if (!done[p - all->p] && f2 == fl && !memcmp(p, line, fl)) {
            lw_buf_append(b, p, n);
            lw_buf_putc(b, '\n');
            done[p - all->p] = true;
        }
        p += n + 1;
    }
}

/* The inputs' own metrics, grouped by family with one HELP and TYPE each: two inputs of one
 * type print the same names, and a family's samples must be together in the text format. The
 * scan is quadratic in lines: a few per input and one per followed file (max_files). */
static void metrics_inputs(struct lw_http_server *h, struct lw_buf *b)
{
    struct lw_buf all = {0};
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        if (h->cfg->inputs[i].in->ops->metrics)
            h->cfg->inputs[i].in->ops->metrics(h->cfg->inputs[i].in, &all);
    if (!all.len)
        return;
    bool *done = lw_calloc(all.len + 1, sizeof *done);
    const char *end = all.p + all.len;
    for (const char *p = all.p; p < end;) {
        size_t fl, n = line_at(p, end, &fl);
        if (!done[p - all.p] && fl)
            metrics_family(&all, p, fl, done, b);
        p += n + 1;
    }
    free(done);
    lw_buf_free(&all);
}

/* What joining lines into records did, per input (ingest/multiline.c, ingest/decode.c). */
static void metrics_join(struct lw_http_server *h, struct lw_buf *b)
{
    lw_buf_puts(b, "# HELP logwarden_multiline_records_total Records joined from more than one "
                   "line (multiline:), per input.\n"
                   "# TYPE logwarden_multiline_records_total counter\n");
    join_counter(h, b, "logwarden_multiline_records_total", "",
                 offsetof(struct lw_join_stats, records));
    lw_buf_puts(b, "# HELP logwarden_multiline_cut_total Multiline records ended at max_lines or "
                   "max_bytes (the rest began a new record), per input.\n"
                   "# TYPE logwarden_multiline_cut_total counter\n");
    join_counter(h, b, "logwarden_multiline_cut_total", ",limit=\"max_lines\"",
                 offsetof(struct lw_join_stats, cut_lines));
    join_counter(h, b, "logwarden_multiline_cut_total", ",limit=\"max_bytes\"",
                 offsetof(struct lw_join_stats, cut_bytes));
    lw_buf_puts(b, "# HELP logwarden_partial_lines_joined_total Container partial lines (Docker "
                   "16 KiB parts, CRI P) joined into their line, per input.\n"
                   "# TYPE logwarden_partial_lines_joined_total counter\n");
    join_counter(h, b, "logwarden_partial_lines_joined_total", "",
                 offsetof(struct lw_join_stats, partials));
}

/* Sharded inputs only (Kafka): rebuilds by replay and partial windows, per input. */
static void metrics_shards(struct lw_http_server *h, struct lw_buf *b)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } fams[] = {
        {"logwarden_input_rebuilds_total",
         "Streams (Kafka partitions) whose windows were rebuilt by reading them back, per input.",
         offsetof(struct lw_metrics, rebuilds_in)},
        {"logwarden_input_partial_windows_total",
         "Rebuilds that could not read a whole window back (retention had removed part of it): "
         "absent and below alerts wait for a whole live window, per input.",
         offsetof(struct lw_metrics, partial_in)},
    };
    bool any = false;
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        any |= h->cfg->inputs[i].in->ops->sharded;
    if (!any || !h->m->rebuilds_in)
        return;
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        _Atomic uint64_t *v = *(_Atomic uint64_t **)((char *)h->m + fams[f].off);
        lw_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", fams[f].name, fams[f].help,
                      fams[f].name);
        for (size_t i = 0; i < h->cfg->ninputs; i++)
            if (h->cfg->inputs[i].in->ops->sharded)
                lw_buf_printf(b, "%s{input=\"%s\"} %llu\n", fams[f].name, h->cfg->inputs[i].name,
                              (unsigned long long)atomic_load(&v[i]));
    }
}

static void metrics(struct lw_http_server *h, struct lw_buf *b)
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
    lw_buf_puts(b, "# HELP logwarden_http_refused_total HTTP requests refused, by reason.\n"
                   "# TYPE logwarden_http_refused_total counter\n");
    for (int i = 0; i < R_COUNT; i++)
        lw_buf_printf(b, "logwarden_http_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
                      (unsigned long long)atomic_load(&h->refused[i]));
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
    lw_buf_puts(b, "# HELP logwarden_input_malformed_total Lines whose envelope did not decode "
                   "(not syslog on a syslog input), kept whole as raw records, per input.\n"
                   "# TYPE logwarden_input_malformed_total counter\n");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        lw_buf_printf(b, "logwarden_input_malformed_total{input=\"%s\"} %llu\n",
                      h->cfg->inputs[i].name, (unsigned long long)atomic_load(&m->malformed_in[i]));
    lw_buf_puts(b, "# HELP logwarden_input_dropped_total Messages lost before the pipeline "
                   "(datagrams: the kernel's socket buffer or a full queue), per input and "
                   "reason.\n# TYPE logwarden_input_dropped_total counter\n");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        for (int r = 0; r < LW_DROP_COUNT; r++)
            lw_buf_printf(b, "logwarden_input_dropped_total{input=\"%s\",reason=\"%s\"} %llu\n",
                          h->cfg->inputs[i].name, lw_drop_names[r],
                          (unsigned long long)atomic_load(&h->cfg->inputs[i].in->dropped[r]));
    lw_buf_puts(b, "# HELP logwarden_input_truncated_total Messages cut to the input's size limit "
                   "(max_line_bytes, syslog's max_message_bytes), per input.\n"
                   "# TYPE logwarden_input_truncated_total counter\n");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        lw_buf_printf(b, "logwarden_input_truncated_total{input=\"%s\"} %llu\n",
                      h->cfg->inputs[i].name,
                      (unsigned long long)atomic_load(&h->cfg->inputs[i].in->truncated));
    metrics_shards(h, b);
    metrics_join(h, b);
    metrics_inputs(h, b);
    int64_t pending = 0, sent = 0, failed = 0;
    pthread_mutex_lock(&h->mu);
    lw_store_outbox_counts(h->st, &pending, &sent, &failed);
    pthread_mutex_unlock(&h->mu);
    lw_buf_printf(b,
                  "# HELP logwarden_outbox Notifications in the outbox, by state.\n"
                  "# TYPE logwarden_outbox gauge\n"
                  "logwarden_outbox{state=\"pending\"} %lld\n"
                  "logwarden_outbox{state=\"sent\"} %lld\n"
                  "logwarden_outbox{state=\"failed\"} %lld\n",
                  (long long)pending, (long long)sent, (long long)failed);
    lw_http_health_metrics(h, b);
}

/* POST /api/silences: Alertmanager's v2 body ({matchers: [{name, value, isRegex, isEqual}],
 * endsAt | duration, comment, createdBy}) or matchers as "name=value" strings. */
static enum MHD_Result post_silence(struct lw_http_server *h, struct MHD_Connection *c,
                                    struct lw_http_req *rq, const char *url)
{
    json_error_t jerr;
    struct lw_err err = {0};
    json_t *b = json_loadb(rq->body.p ? rq->body.p : "", rq->body.len, 0, &jerr);
    json_t *ms = json_object_get(b, "matchers"), *m;
    char **args = lw_calloc(json_array_size(ms) + 1, sizeof *args);
    size_t n = 0, i;
    enum MHD_Result ret;
    if (!json_is_object(b) || !json_is_array(ms)) {
        ret = lw_http_reply_error(c, 400, "expected a JSON object with a matchers array");
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
            ret = lw_http_reply_error(c, 400, "a matcher needs name and value");
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
        ret = lw_http_reply_error(c, 400, "bad duration");
        goto out;
    }
    if (ends) {
        int64_t t;
        if (lw_container_time_parse(ends, strlen(ends), &t) < 0 || t == 0) {
            ret = lw_http_reply_error(c, 400, "bad endsAt: expected an RFC 3339 time");
            goto out;
        }
        dur = t - lw_now_ns();
        if (dur <= 0) {
            ret = lw_http_reply_error(c, 400, "endsAt is in the past");
            goto out;
        }
    }
    const char *comment = json_string_value(json_object_get(b, "comment"));
    const char *by = json_string_value(json_object_get(b, "createdBy"));
    char id[37];
    const char *limit = NULL;
    pthread_mutex_lock(&h->mu);
    int rc = lw_silence_create(h->st, args, n, dur, comment ? comment : "", by ? by : "api", id,
                               &limit, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0 && limit) {
        lw_http_refused(h, R_LIMIT, "POST", url, err.msg);
        ret = lw_http_reply_json(c, 400, json_pack("{s:s,s:s}", "error", err.msg, "limit", limit));
    } else if (rc < 0)
        ret = lw_http_reply_error(c, rc == LW_EINVAL ? 400 : 500, err.msg);
    else
        ret = lw_http_reply_json(c, 200, json_pack("{s:s}", "silenceID", id));
out:
    for (size_t k = 0; k < n; k++)
        free(args[k]);
    free(args);
    json_decref(b);
    return ret;
}

/* ---------------------------------------------------------------- the gate */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static bool is_loopback_name(const char *name)
{
    unsigned char a[4];
    return !strcasecmp(name, "localhost") || !strcmp(name, "::1") ||
           (inet_pton(AF_INET, name, a) == 1 && a[0] == 127);
}

/* The Host header names this endpoint: its listen address, a loopback name (also through an
 * SSH tunnel, whatever the port), or one of http.hosts. A page from another site that made its
 * own name resolve to this machine (DNS rebinding) sends its own name and is refused. */
static bool host_ok(const struct lw_http_server *h, const char *host)
{
    char name[256];
    size_t n;
    if (!host)
        return true; /* HTTP/1.0 without Host: no browser sends that */
    if (host[0] == '[') {
        const char *e = strchr(host, ']');
        n = e ? (size_t)(e - host - 1) : 0;
        host++;
    } else {
        const char *colon = strchr(host, ':');
        n = colon ? (size_t)(colon - host) : strlen(host);
    }
    if (n == 0 || n >= sizeof name)
        return false;
    memcpy(name, host, n);
    name[n] = 0;
    if (!h->listen_host[0] || is_loopback_name(name) || !strcasecmp(name, h->listen_host))
        return true;
    for (size_t i = 0; i < h->cfg->nhttp_hosts; i++)
        if (!strcasecmp(name, h->cfg->http_hosts[i]))
            return true;
    return false;
}

/* A browser sends Origin with every cross-site write: it must be this very endpoint. */
static bool origin_ok(const char *origin, const char *host)
{
    if (!origin)
        return true;
    const char *rest = !strncasecmp(origin, "http://", 7)    ? origin + 7
                       : !strncasecmp(origin, "https://", 8) ? origin + 8
                                                             : NULL;
    return rest && host && !strcasecmp(rest, host);
}

static bool is_json_type(const char *ct)
{
    size_t n = strlen("application/json");
    return ct && !strncasecmp(ct, "application/json", n) &&
           (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* Compares the whole of both strings whatever they hold: the time says nothing of the token. */
static bool token_eq(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char d = na != nb;
    for (size_t i = 0; i < nb; i++)
        d |= (unsigned char)(a[i % (na ? na : 1)] ^ b[i]);
    return d == 0;
}

/* Whether the request carries the token (always true without http.token). */
bool lw_http_authorized(const struct lw_http_server *h, struct MHD_Connection *c)
{
    const char *a = header(c, "Authorization");
    if (!a || strncasecmp(a, "Bearer ", 7))
        return false;
    for (a += 7; *a == ' ';)
        a++;
    return token_eq(a, h->cfg->http_token);
}

bool lw_http_token_ok(const struct lw_http_server *h, const char *given)
{
    return !h->cfg->http_token || (given && token_eq(given, h->cfg->http_token));
}

static int b64_value(unsigned char c)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(abc, c) : NULL;
    return p ? (int)(p - abc) : -1;
}

bool lw_http_page_authorized(const struct lw_http_server *h, struct MHD_Connection *c)
{
    const char *a = header(c, "Authorization");
    if (!h->cfg->http_token)
        return true;
    if (!a || strncasecmp(a, "Basic ", 6))
        return lw_http_authorized(h, c);
    for (a += 6; *a == ' ';)
        a++;
    /* user:password, base64; the user name is anything, the password the token. */
    size_t n = strlen(a);
    if (n > 4096)
        return false;
    char *plain = lw_malloc(n + 1);
    size_t len = 0;
    unsigned acc = 0;
    int bits = 0;
    bool ok = true;
    for (size_t i = 0; i < n && a[i] != '='; i++) {
        int v = b64_value((unsigned char)a[i]);
        if (v < 0) {
            ok = false;
            break;
        }
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            plain[len++] = (char)(acc >> bits & 0xFF);
        }
    }
    plain[len] = 0;
    const char *colon = ok && strlen(plain) == len ? strchr(plain, ':') : NULL;
    ok = colon && token_eq(colon + 1, h->cfg->http_token);
    memset(plain, 0, len);
    free(plain);
    return ok;
}

/* A form post names this endpoint: its Origin (checked with every write) or, from a browser
 * that sends none, its Referer. A post with neither may come from anywhere: refused. */
static bool form_origin_ok(struct MHD_Connection *c, const char *host)
{
    const char *origin = header(c, "Origin"), *ref = header(c, "Referer");
    if (origin)
        return origin_ok(origin, host);
    if (!ref || !host)
        return false;
    const char *rest = !strncasecmp(ref, "http://", 7)    ? ref + 7
                       : !strncasecmp(ref, "https://", 8) ? ref + 8
                                                          : NULL;
    size_t n = strlen(host);
    return rest && !strncasecmp(rest, host, n) && (rest[n] == '/' || rest[n] == 0);
}

static bool is_form_type(const char *ct)
{
    size_t n = strlen("application/x-www-form-urlencoded");
    return ct && !strncasecmp(ct, "application/x-www-form-urlencoded", n) &&
           (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

static bool needs_token(const struct lw_http_server *h, const char *url, bool write)
{
    if (!h->cfg->http_token)
        return false;
    if (write)
        return true;
    if (!strcmp(url, "/api/health"))
        return false; /* /health under the API's prefix, as open as /health */
    if (!strncmp(url, "/api/", 5) || is_page(url))
        return !h->cfg->http_public_reads;
    return !strcmp(url, "/metrics") && h->cfg->http_protect_metrics;
}

/* Checks a request before its body is read; a refusal is answered here (returns true). */
static bool gate(struct lw_http_server *h, struct MHD_Connection *c, const char *url,
                 const char *method, enum MHD_Result *ret)
{
    bool write = strcmp(method, "GET") && strcmp(method, "HEAD");
    const char *host = header(c, "Host"), *len = header(c, "Content-Length");
    if (!host_ok(h, host)) {
        *ret = refuse(h, c, R_HOST, 403, method, url,
                      "the Host header does not name this endpoint (add it to http.hosts)");
        return true;
    }
    bool form = is_form_route(url, method);
    if (write && !origin_ok(header(c, "Origin"), host)) {
        *ret = refuse(h, c, R_ORIGIN, 403, method, url, "a write from another origin");
        return true;
    }
    if (form && !form_origin_ok(c, host)) {
        *ret = refuse(h, c, R_ORIGIN, 403, method, url,
                      "a form post needs an Origin or a Referer naming this endpoint");
        return true;
    }
    /* A form's token may be in its body: dashboard.c checks it once the body is read. */
    if (!form && needs_token(h, url, write) &&
        !(is_page(url) ? lw_http_page_authorized(h, c) : lw_http_authorized(h, c))) {
        *ret =
            refuse(h, c, R_AUTH, 401, method, url,
                   header(c, "Authorization") ? "wrong token"
                   : is_page(url) ? "needs the token: HTTP Basic, any user, the token as password"
                                  : "needs Authorization: Bearer TOKEN");
        return true;
    }
    if (form && !is_form_type(header(c, "Content-Type"))) {
        *ret = refuse(h, c, R_CTYPE, 415, method, url,
                      "a form post needs Content-Type: application/x-www-form-urlencoded");
        return true;
    }
    if (write && !form && (!strcmp(method, "POST") || !strcmp(method, "PUT")) &&
        !is_json_type(header(c, "Content-Type"))) {
        *ret =
            refuse(h, c, R_CTYPE, 415, method, url, "writes need Content-Type: application/json");
        return true;
    }
    if (len && strtoull(len, NULL, 10) > MAX_BODY) {
        *ret = refuse(h, c, R_SIZE, 413, method, url, "body larger than 64 KiB");
        return true;
    }
    return false;
}

/* Answers a part's JSON (consumed; NULL: 503, the pipeline did not answer). */
/* code is read after j is made (a pointer: C leaves the order of arguments unspecified, and
 * `answer(c, f(&code), code)` read it before f set it). */
static enum MHD_Result answer(struct MHD_Connection *c, json_t *j, const int *code)
{
    if (!j)
        return lw_http_reply_error(c, 503, "the pipeline did not answer in time");
    return lw_http_reply_json(c, (unsigned)*code, j);
}

/* ?filter=... repeated, as Alertmanager's API takes them. */
#define LW_FILTERS_MAX 32
struct filters {
    const char **v;
    size_t n;
    bool too_many;
};

static enum MHD_Result on_filter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct filters *f = cls;
    (void)kind;
    if (strcmp(key, "filter") || !value)
        return MHD_YES;
    if (f->n == LW_FILTERS_MAX) {
        f->too_many = true;
        return MHD_NO;
    }
    f->v[f->n++] = value;
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct lw_http_server *h = cls;
    struct lw_http_req *rq = *con_cls;
    struct lw_err err = {0};
    enum MHD_Result ret;
    int code = 200;
    (void)version;
    if (!rq) {
        if (gate(h, c, url, method, &ret))
            return ret;
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
        return refuse(h, c, R_SIZE, 413, method, url, "body larger than 64 KiB");

    if (lw_dashboard_route(h, c, url, method, rq, &ret))
        return ret;
    if ((!strcmp(url, "/health") || !strcmp(url, "/api/health")) &&
        (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
        return answer(c, lw_http_health(h, &code), &code);
    if (!strcmp(url, "/metrics") && !strcmp(method, "GET")) {
        struct lw_buf b = {0};
        metrics(h, &b); /* it takes h->mu for the state file's parts */
        enum MHD_Result r = lw_http_reply(c, 200, "text/plain; version=0.0.4", b.p, b.len);
        lw_buf_free(&b);
        return r;
    }
    if (!strcmp(url, "/api/alerts") && !strcmp(method, "GET")) {
        const char *filters[LW_FILTERS_MAX];
        struct filters f = {filters, 0, false};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_filter, &f);
        if (f.too_many)
            return lw_http_reply_error(c, 400, "more than 32 filters");
        return answer(c, lw_http_alerts(h, filters, f.n, &code), &code);
    }
    if (!strcmp(url, "/api/rules") && !strcmp(method, "GET"))
        return answer(c, lw_http_rules(h, &code), &code);
    if (!strncmp(url, "/api/alerts/", 12) && !strcmp(method, "GET"))
        return answer(c, lw_http_explain(h, url + 12, &code), &code);
    if (!strcmp(url, "/api/silences") && !strcmp(method, "GET"))
        return answer(c, lw_http_silences(h, &code), &code);
    if (!strcmp(url, "/api/silences") && !strcmp(method, "POST"))
        return post_silence(h, c, rq, url);
    if (!strcmp(url, "/api/reload") && !strcmp(method, "POST"))
        return answer(c, lw_http_reload(h, &code), &code);
    if (!strncmp(url, "/api/silences/", 14) && !strcmp(method, "DELETE")) {
        pthread_mutex_lock(&h->mu);
        int rc = lw_store_silence_expire(h->st, url + 14, lw_now_ns(), &err);
        pthread_mutex_unlock(&h->mu);
        if (rc == LW_ENOENT)
            return lw_http_reply_error(c, 404, err.msg);
        if (rc < 0)
            return lw_http_reply_error(c, 500, err.msg);
        return lw_http_reply_json(c, 200, json_pack("{s:s}", "expired", url + 14));
    }
    return lw_http_reply_error(c, 404,
                               "not found: /, /alerts/{fingerprint}, /health, /metrics, "
                               "/api/alerts, /api/alerts/{fingerprint}, /api/rules, "
                               "/api/silences, /api/reload");
}

/* libmicrohttpd's own messages go through our log, so that they are redacted and formatted like
 * every other line (its default writes to stderr directly). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    lw_log(LW_WARN, "[http] %s", msg);
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls,
                 enum MHD_RequestTerminationCode toe)
{
    struct lw_http_req *rq = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (rq) {
        lw_buf_free(&rq->body);
        free(rq);
    }
}

int lw_http_start(struct lw_http_server **out, const struct lw_http_ctx *ctx, struct lw_err *err)
{
    const char *listen = ctx->listen;
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

    /* The library is opened now, not at start-up: a missing one is this call's error. */
    if (lw_mhd_load(err) < 0)
        return LW_EIO;
    struct lw_http_server *h = lw_calloc(1, sizeof *h);
    if (strcmp(host, "0.0.0.0"))
        snprintf(h->listen_host, sizeof h->listen_host, "%s", host);
    h->ctx = *ctx;
    h->cfg = ctx->cfg;
    h->m = ctx->m;
    pthread_mutex_init(&h->mu, NULL);
    if (lw_store_open(&h->st, ctx->cfg->state, err) < 0) {
        free(h);
        return LW_EIO;
    }
    /* The logger first: MHD writes what comes before it to stderr itself (and says so). */
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                              handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                              MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT,
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

void lw_http_stop(struct lw_http_server *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    lw_store_close(h->st);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
