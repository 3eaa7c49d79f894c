/* health.c: GET /health: whether the daemon does its job, input by input, sink by sink and for
 * the state file (docs/operations.md, "Health"), and the pipeline's watch over its inputs that
 * logs each one going degraded and back.
 *
 * Only the state file makes the daemon unhealthy (503): without it nothing it reads is kept
 * and nothing it owes a sink survives a restart, and a restart (what a 503 makes an
 * orchestrator do) may help. An input that stopped receiving or a sink that cannot deliver is
 * degraded (200): the daemon still does all it can, keeps what it owes in the outbox, and a
 * restart would not bring Slack or the senders back. */
#include "http_int.h"
#include "outbox.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_UNHEALTHY_AFTER (10 * LW_NS_PER_SEC) /* flushes failing this long: 503 */
#define SINK_QUEUE_BOUND (60 * LW_NS_PER_SEC)      /* oldest queued notification: degraded */
#define WATCH_EVERY LW_NS_PER_SEC                  /* lw_health_watch's pace */

/* Flush durations, seconds: a healthy flush is a few milliseconds; a second is a disk in
 * trouble. */
const double lw_flush_bounds_s[LW_FLUSH_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,  0.1,    0.25,  1,    5};

/* ---------------------------------------------------------------- pipeline thread */

void lw_health_flushed(struct lw_metrics *m, bool ok, const char *err, int64_t now, int64_t took_ns)
{
    struct lw_store_health *s = &m->store;
    if (took_ns >= 0) {
        double sec = (double)took_ns / 1e9;
        atomic_fetch_add(&s->dur_count, 1);
        atomic_fetch_add(&s->dur_sum_ns, (uint64_t)took_ns);
        for (int i = 0; i < LW_FLUSH_BUCKETS; i++)
            if (sec <= lw_flush_bounds_s[i])
                atomic_fetch_add(&s->dur_le[i], 1);
    }
    if (ok) {
        int64_t since = atomic_exchange(&s->failing_since_ns, 0);
        atomic_store(&s->last_ok_ns, now);
        if (since) {
            pthread_mutex_lock(&m->health_mu);
            s->last_error[0] = 0;
            pthread_mutex_unlock(&m->health_mu);
            lw_log(LW_INFO, "[store] writing the state file works again, after %.0fs of failures",
                   (double)(now - since) / 1e9);
        }
        return;
    }
    atomic_fetch_add(&s->failures, 1);
    int64_t zero = 0;
    atomic_compare_exchange_strong(&s->failing_since_ns, &zero, now);
    struct lw_buf b = {0};
    const char *msg = err ? err : "";
    pthread_mutex_lock(&m->health_mu);
    snprintf(s->last_error, sizeof s->last_error, "%s", lw_redact(msg, &b) ? b.p : msg);
    pthread_mutex_unlock(&m->health_mu);
    lw_buf_free(&b);
}

/* Malformed envelopes, undecodable bodies and dropped messages: what an input counts as lost
 * or damaged on its way in. */
static uint64_t input_errors(const struct lw_config *cfg, const struct lw_metrics *m, size_t i)
{
    const struct lw_input *in = cfg->inputs[i].in;
    uint64_t n = atomic_load(&m->malformed_in[i]);
    for (int r = 0; r < LW_DROP_COUNT; r++)
        n += atomic_load(&in->dropped[r]);
    if (m->undecoded_in)
        for (int r = 0; r < LW_UNDEC_COUNT; r++)
            n += atomic_load(&m->undecoded_in[i * LW_UNDEC_COUNT + r]);
    return n;
}

/* One input's judgement: degraded with a reason in detail, or healthy. *by_op: its status op
 * said degraded (the input logs that itself, as Kafka does); the rest (errors, stale_after) is
 * this watch's own finding, which it logs. */
static bool judge_input(const struct lw_config *cfg, struct lw_metrics *m, size_t i, int64_t now,
                        struct lw_input_health *ih, struct lw_buf *detail, bool *by_op)
{
    const struct lw_cfg_input *ci = &cfg->inputs[i];
    struct lw_input *in = ci->in;
    bool degraded = false;
    *by_op = false;
    if (in->ops->status) {
        size_t before = detail->len;
        const char *st = in->ops->status(in, detail);
        degraded = *by_op = st && !strcmp(st, "degraded");
        if (!degraded)
            detail->len = before;
        else if (detail->len == before)
            lw_buf_puts(detail, "its source says degraded");
    }
    size_t own = detail->len; /* where this watch's own reasons start */
    bool found = false;
    uint64_t errors = input_errors(cfg, m, i);
    if (errors > ih->errors_seen) {
        ih->errors_at = now;
        ih->errors_seen = errors;
    }
    if (ih->errors_at && now - ih->errors_at < LW_HEALTH_ERROR_WINDOW) {
        lw_buf_printf(detail,
                      "%serrors in the last %ds (%llu in all: lines that did not decode, "
                      "messages dropped; see /metrics)",
                      degraded ? "; " : "", (int)(LW_HEALTH_ERROR_WINDOW / LW_NS_PER_SEC),
                      (unsigned long long)errors);
        degraded = found = true;
    }
    if (ci->stale_after_ns > 0) {
        int64_t last = atomic_load(&m->last_rec_in[i]);
        int64_t from = last ? last : m->start_ns;
        if (now - from >= ci->stale_after_ns) {
            char a[32];
            lw_fmt_duration(ci->stale_after_ns, a, sizeof a);
            lw_buf_printf(detail, "%snothing read for %.0fs%s (stale_after %s)",
                          degraded ? "; " : "", (double)(now - from) / 1e9,
                          last ? "" : ", since the start", a);
            degraded = found = true;
        }
    }
    ih->own = found;
    ih->own_at = found ? own : 0;
    return degraded;
}

void lw_health_watch(const struct lw_config *cfg, struct lw_metrics *m, int64_t now)
{
    if (m->health_checked_ns && now - m->health_checked_ns < WATCH_EVERY)
        return;
    m->health_checked_ns = now;
    struct lw_buf detail = {0};
    for (size_t i = 0; i < cfg->ninputs; i++) {
        struct lw_input_health *ih = &m->health_in[i];
        lw_buf_reset(&detail);
        bool was_own = ih->own, by_op;
        bool degraded = judge_input(cfg, m, i, now, ih, &detail, &by_op);
        /* One line: a reason with a newline would look like a second log line. */
        for (size_t k = 0; k < detail.len; k++)
            if (detail.p[k] == '\n' || detail.p[k] == '\r')
                detail.p[k] = ' ';
        pthread_mutex_lock(&m->health_mu);
        ih->degraded = degraded;
        ih->errors = ih->errors_seen; /* counters only grow: the last count seen */
        snprintf(ih->detail, sizeof ih->detail, "%s", detail.len ? detail.p : "");
        pthread_mutex_unlock(&m->health_mu);
        /* What the status op says, the input logs itself (Kafka's "degraded" and "healthy
         * again"): only this watch's own findings are said here, not twice. */
        const char *mine = detail.len > ih->own_at ? detail.p + ih->own_at : "";
        if (mine[0] == ';')
            mine += 2;
        if (ih->own && !was_own)
            lw_log(LW_WARN, "[input:%s] degraded: %s", cfg->inputs[i].name, mine);
        else if (!ih->own && was_own)
            lw_log(LW_INFO, "[input:%s] healthy again%s", cfg->inputs[i].name,
                   by_op ? " (as far as errors and stale_after go)" : "");
    }
    lw_buf_free(&detail);
}

/* ---------------------------------------------------------------- HTTP thread */

enum { HEALTHY, DEGRADED, UNHEALTHY };
static const char *const status_names[] = {"healthy", "degraded", "unhealthy"};

/* An RFC 3339 time, or null for 0. */
static json_t *time_or_null(int64_t ns)
{
    char ts[40];
    if (!ns)
        return json_null();
    lw_fmt_rfc3339(ns, ts, sizeof ts);
    return json_string(ts);
}

static json_t *string_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *inputs_json(struct lw_http_server *h, int *worst)
{
    const struct lw_config *cfg = h->cfg;
    struct lw_metrics *m = h->m;
    json_t *o = json_object();
    for (size_t i = 0; i < cfg->ninputs; i++) {
        struct lw_input *in = cfg->inputs[i].in;
        const char *unit = NULL;
        uint64_t lag = 0;
        json_t *jlag = json_null();
        if (in->ops->lag && in->ops->lag(in, &unit, &lag) == 0)
            jlag = json_pack("{s:I}", unit, (json_int_t)lag);
        /* Only what health_mu guards: the rest is the pipeline's own. */
        struct lw_input_health ih;
        pthread_mutex_lock(&m->health_mu);
        ih.degraded = m->health_in[i].degraded;
        ih.errors = m->health_in[i].errors;
        memcpy(ih.detail, m->health_in[i].detail, sizeof ih.detail);
        pthread_mutex_unlock(&m->health_mu);
        if (ih.degraded && *worst < DEGRADED)
            *worst = DEGRADED;
        json_object_set_new(o, cfg->inputs[i].name,
                            json_pack("{s:s,s:I,s:o,s:o,s:I,s:s}", "status",
                                      status_names[ih.degraded], "records",
                                      (json_int_t)atomic_load(&in->lines), "last_record_at",
                                      time_or_null(atomic_load(&m->last_rec_in[i])), "lag", jlag,
                                      "errors", (json_int_t)ih.errors, "detail", ih.detail));
    }
    return o;
}

struct queued {
    const struct lw_config *cfg;
    int64_t *pending, *oldest;
    char (*errors)[256];
};

static void on_queued(const char *sink, int64_t pending, int64_t oldest_ns, const char *last_error,
                      void *payload)
{
    struct queued *q = payload;
    for (size_t i = 0; i < q->cfg->nsinks; i++)
        if (!strcmp(q->cfg->sinks[i]->name, sink)) {
            q->pending[i] = pending;
            q->oldest[i] = oldest_ns;
            snprintf(q->errors[i], sizeof q->errors[i], "%s", last_error ? last_error : "");
        }
}

static json_t *sinks_json(struct lw_http_server *h, int64_t now, int *worst)
{
    const struct lw_config *cfg = h->cfg;
    size_t n = cfg->nsinks;
    int64_t *pending = lw_calloc(n + 1, sizeof *pending),
            *oldest = lw_calloc(n + 1, sizeof *oldest);
    char(*errors)[256] = lw_calloc(n + 1, sizeof *errors);
    struct queued q = {cfg, pending, oldest, errors};
    pthread_mutex_lock(&h->mu);
    int rc = lw_store_outbox_sinks(h->st, on_queued, &q);
    pthread_mutex_unlock(&h->mu);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        struct lw_worker_state ws;
        struct lw_worker *w = h->ctx.workers ? h->ctx.workers[i] : NULL;
        lw_worker_state(w, &ws);
        struct lw_buf detail = {0};
        int st = HEALTHY;
        if (h->ctx.workers && !w) {
            st = DEGRADED;
            lw_buf_puts(&detail, "its delivery thread did not start");
        }
        if (ws.failing_since_ns) {
            st = DEGRADED;
            lw_buf_printf(&detail, "%sfailing for %.0fs, retrying", detail.len ? "; " : "",
                          (double)(now - ws.failing_since_ns) / 1e9);
        }
        if (pending[i] && now - oldest[i] >= SINK_QUEUE_BOUND) {
            st = DEGRADED;
            lw_buf_printf(&detail, "%sthe oldest queued notification waits for %.0fs",
                          detail.len ? "; " : "", (double)(now - oldest[i]) / 1e9);
        }
        if (rc < 0)
            lw_buf_printf(&detail, "%sthe outbox could not be read", detail.len ? "; " : "");
        if (st > *worst)
            *worst = st;
        /* The worker's own error, else one the outbox kept (from before a restart). */
        const char *err = ws.last_error[0] ? ws.last_error : errors[i];
        json_object_set_new(
            o, cfg->sinks[i]->name,
            json_pack("{s:s,s:I,s:f,s:o,s:o,s:s}", "status", status_names[st], "queued",
                      (json_int_t)pending[i], "oldest_queued_s",
                      pending[i] && now > oldest[i] ? (double)(now - oldest[i]) / 1e9 : 0.0,
                      "last_error", string_or_null(err), "last_success_at",
                      time_or_null(ws.last_success_ns), "detail", detail.len ? detail.p : ""));
        lw_buf_free(&detail);
    }
    free(pending);
    free(oldest);
    free(errors);
    return o;
}

/* The state file and its write-ahead log, in bytes. */
static int64_t state_size(const char *path)
{
    struct stat sb;
    int64_t n = 0;
    char wal[4096];
    if (stat(path, &sb) == 0)
        n += sb.st_size;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &sb) == 0)
        n += sb.st_size;
    return n;
}

static json_t *store_json(struct lw_http_server *h, int64_t now, int *worst)
{
    struct lw_metrics *m = h->m;
    int64_t since = atomic_load(&m->store.failing_since_ns);
    int st = !since ? HEALTHY : now - since >= STORE_UNHEALTHY_AFTER ? UNHEALTHY : DEGRADED;
    char err[256];
    pthread_mutex_lock(&m->health_mu);
    memcpy(err, m->store.last_error, sizeof err);
    pthread_mutex_unlock(&m->health_mu);
    if (st > *worst)
        *worst = st;
    return json_pack("{s:s,s:o,s:o,s:o,s:I}", "status", status_names[st], "last_flush_at",
                     time_or_null(atomic_load(&m->store.last_ok_ns)), "failing_since",
                     time_or_null(since), "last_error", string_or_null(err), "size_bytes",
                     (json_int_t)state_size(h->cfg->state));
}

json_t *lw_http_health(struct lw_http_server *h, int *code)
{
    int64_t now = lw_now_ns();
    int worst = HEALTHY;
    json_t *inputs = inputs_json(h, &worst);
    json_t *sinks = sinks_json(h, now, &worst);
    json_t *store = store_json(h, now, &worst);
    *code = worst == UNHEALTHY ? 503 : 200;
    return json_pack("{s:s,s:s,s:I,s:o,s:o,s:o}", "status", status_names[worst], "version",
                     LW_VERSION, "uptime_s",
                     (json_int_t)(h->m->start_ns ? (now - h->m->start_ns) / LW_NS_PER_SEC : 0),
                     "inputs", inputs, "sinks", sinks, "store", store);
}

/* ---------------------------------------------------------------- /metrics */

static void family(struct lw_buf *b, const char *name, const char *type, const char *help)
{
    lw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int status_of(json_t *o)
{
    const char *s = json_string_value(json_object_get(o, "status"));
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, status_names[i]))
            return i;
    return HEALTHY;
}

/* One sample per member of a /health section (inputs, sinks): NAME{KIND="member"} value. */
static void health_section(struct lw_buf *b, json_t *sec, const char *name, const char *kind,
                           const char *field, double scale)
{
    const char *k;
    json_t *v;
    json_object_foreach(sec, k, v)
    {
        json_t *x = field ? json_object_get(v, field) : NULL;
        double val;
        if (!field)
            val = status_of(v);
        else if (json_is_number(x))
            val = json_number_value(x);
        else if (json_is_string(x)) { /* a time: seconds since the epoch */
            int64_t t = 0;
            if (lw_container_time_parse(json_string_value(x), strlen(json_string_value(x)), &t) < 0)
                continue;
            val = (double)t / 1e9;
        } else
            continue;
        lw_buf_printf(b, "%s{%s=\"", name, kind);
        lw_buf_prom_label(b, k);
        lw_buf_printf(b, "\"} %.15g\n", val * scale);
    }
}

struct alert_count {
    struct {
        char *alert;
        int64_t pending, firing;
        double value;
        bool has_value, value_firing;
    } * a;
    size_t n;
};

static size_t alert_slot(struct alert_count *ac, const char *alert)
{
    for (size_t i = 0; i < ac->n; i++)
        if (!strcmp(ac->a[i].alert, alert))
            return i;
    ac->a = lw_realloc(ac->a, (ac->n + 1) * sizeof *ac->a);
    memset(&ac->a[ac->n], 0, sizeof *ac->a);
    ac->a[ac->n].alert = lw_strdup(alert);
    return ac->n++;
}

static void on_usage_row(const struct lw_usage_row *r, void *payload)
{
    alert_slot(payload, r->alert);
}

static void on_state_row(const struct lw_state_row *r, void *payload)
{
    struct alert_count *ac = payload;
    size_t i = alert_slot(ac, r->alert);
    bool firing = r->state == LW_FIRING;
    if (firing)
        ac->a[i].firing++;
    else
        ac->a[i].pending++;
    /* The most urgent: a firing group's value before any pending one's, then the largest. */
    if (!ac->a[i].has_value || (firing && !ac->a[i].value_firing) ||
        (firing == ac->a[i].value_firing && r->value > ac->a[i].value)) {
        ac->a[i].value = r->value;
        ac->a[i].value_firing = firing;
        ac->a[i].has_value = true;
    }
}

/* Pending and firing groups per alert and the most urgent value, from the state file's
 * alert_states (written at each flush, about once a second): per alert, not per group, so
 * the series stay as few as the rules. */
static void alert_metrics(struct lw_http_server *h, struct lw_buf *b)
{
    struct alert_count ac = {0};
    struct lw_err err = {0};
    pthread_mutex_lock(&h->mu);
    lw_store_load_usage(h->st, on_usage_row, &ac, &err);
    lw_store_load_states(h->st, on_state_row, &ac, &err);
    pthread_mutex_unlock(&h->mu);
    family(b, "logwarden_alerts", "gauge",
           "Groups of an alert that are pending or firing (from the state file).");
    for (size_t i = 0; i < ac.n; i++)
        for (int s = 0; s < 2; s++) {
            lw_buf_puts(b, "logwarden_alerts{alert=\"");
            lw_buf_prom_label(b, ac.a[i].alert);
            lw_buf_printf(b, "\",state=\"%s\"} %lld\n", s ? "firing" : "pending",
                          (long long)(s ? ac.a[i].firing : ac.a[i].pending));
        }
    family(b, "logwarden_alert_value", "gauge",
           "The value of an alert's most urgent group: the largest firing one, else the largest "
           "pending one; absent when none is pending or firing.");
    for (size_t i = 0; i < ac.n; i++) {
        if (ac.a[i].has_value) {
            lw_buf_puts(b, "logwarden_alert_value{alert=\"");
            lw_buf_prom_label(b, ac.a[i].alert);
            lw_buf_printf(b, "\"} %.17g\n", ac.a[i].value); /* a value reads back exactly */
        }
        free(ac.a[i].alert);
    }
    free(ac.a);
}

/* The standard process_* series (Prometheus client libraries' names), from /proc. */
static void process_metrics(struct lw_buf *b)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    /* After the command name's closing parenthesis: state is field 3, utime 14, stime 15,
     * starttime 22, vsize 23, rss 24. */
    char *p = strrchr(buf, ')');
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
    long long rss = 0;
    if (p && sscanf(p + 2,
                    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                    "%*d %llu %llu %lld",
                    &utime, &stime, &start, &vsize, &rss) == 5) {
        double tck = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
        long long btime = 0;
        FILE *s = fopen("/proc/stat", "r");
        char line[256];
        while (s && fgets(line, sizeof line, s))
            if (sscanf(line, "btime %lld", &btime) == 1)
                break;
        if (s)
            fclose(s);
        family(b, "process_cpu_seconds_total", "counter",
               "Total user and system CPU time spent in seconds.");
        lw_buf_printf(b, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / tck);
        family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        lw_buf_printf(b, "process_resident_memory_bytes %.0f\n", (double)rss * page);
        family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        lw_buf_printf(b, "process_virtual_memory_bytes %llu\n", vsize);
        family(b, "process_start_time_seconds", "gauge",
               "Start time of the process since unix epoch in seconds.");
        lw_buf_printf(b, "process_start_time_seconds %.2f\n", (double)btime + (double)start / tck);
    }
    size_t fds = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        fds += e->d_name[0] != '.';
    if (d) {
        closedir(d);
        family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
        lw_buf_printf(b, "process_open_fds %zu\n", fds > 0 ? fds - 1 : 0); /* opendir's own */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        lw_buf_printf(b, "process_max_fds %.0f\n",
                      rl.rlim_cur == RLIM_INFINITY ? 1e308 : (double)rl.rlim_cur);
    }
}

void lw_http_health_metrics(struct lw_http_server *h, struct lw_buf *b)
{
    struct lw_metrics *m = h->m;
    int code;
    json_t *j = lw_http_health(h, &code);
    json_t *inputs = json_object_get(j, "inputs"), *sinks = json_object_get(j, "sinks");
    json_t *store = json_object_get(j, "store");

    family(b, "logwarden_build_info", "gauge", "Always 1: the version of logwarden running.");
    lw_buf_printf(b, "logwarden_build_info{version=\"%s\"} 1\n", LW_VERSION);
    family(b, "logwarden_health_status", "gauge",
           "/health's status: 0 healthy, 1 degraded, 2 unhealthy (503).");
    lw_buf_printf(b, "logwarden_health_status %d\n", status_of(j));

    family(b, "logwarden_input_health_status", "gauge",
           "An input's /health status: 0 healthy, 1 degraded.");
    health_section(b, inputs, "logwarden_input_health_status", "input", NULL, 1);
    family(b, "logwarden_input_last_record_timestamp_seconds", "gauge",
           "When an input's last lines reached the pipeline (unix seconds).");
    health_section(b, inputs, "logwarden_input_last_record_timestamp_seconds", "input",
                   "last_record_at", 1);
    family(b, "logwarden_input_errors_total", "counter",
           "Lines of an input that did not decode (envelope or body) and messages it dropped.");
    health_section(b, inputs, "logwarden_input_errors_total", "input", "errors", 1);
    family(b, "logwarden_input_lag", "gauge",
           "How far an input is behind its source, in unit: bytes written to its files and not "
           "read yet, or Kafka messages after its position.");
    const char *k;
    json_t *v;
    json_object_foreach(inputs, k, v)
    {
        const char *unit;
        json_t *x, *lag = json_object_get(v, "lag");
        json_object_foreach(lag, unit, x)
        {
            lw_buf_puts(b, "logwarden_input_lag{input=\"");
            lw_buf_prom_label(b, k);
            lw_buf_printf(b, "\",unit=\"%s\"} %lld\n", unit, (long long)json_integer_value(x));
        }
    }
    family(b, "logwarden_input_decode_failures_total", "counter",
           "Bodies that did not decode as the input's format (json, logfmt), per input and "
           "reason; counted when a rule reads the body's fields.");
    for (size_t i = 0; i < h->cfg->ninputs; i++)
        for (int r = 0; r < LW_UNDEC_COUNT; r++) {
            lw_buf_puts(b, "logwarden_input_decode_failures_total{input=\"");
            lw_buf_prom_label(b, h->cfg->inputs[i].name);
            lw_buf_printf(
                b, "\",reason=\"%s\"} %llu\n", lw_undecoded_names[r],
                (unsigned long long)(m->undecoded_in
                                         ? atomic_load(&m->undecoded_in[i * LW_UNDEC_COUNT + r])
                                         : 0));
        }

    family(b, "logwarden_sink_health_status", "gauge",
           "A sink's /health status: 0 healthy, 1 degraded (retrying, or a notification queued "
           "too long).");
    health_section(b, sinks, "logwarden_sink_health_status", "sink", NULL, 1);
    family(b, "logwarden_sink_queued", "gauge", "Notifications in a sink's outbox, not delivered.");
    health_section(b, sinks, "logwarden_sink_queued", "sink", "queued", 1);
    family(b, "logwarden_sink_oldest_queued_seconds", "gauge",
           "Age of the oldest notification in a sink's outbox (0: none).");
    health_section(b, sinks, "logwarden_sink_oldest_queued_seconds", "sink", "oldest_queued_s", 1);
    family(b, "logwarden_sink_last_success_timestamp_seconds", "gauge",
           "When a sink last delivered a notification (unix seconds).");
    health_section(b, sinks, "logwarden_sink_last_success_timestamp_seconds", "sink",
                   "last_success_at", 1);
    family(b, "logwarden_sink_notifications_total", "counter",
           "Delivery attempts per sink since the start, by outcome: sent, failed (given up), "
           "retried (failed, to be tried again).");
    for (size_t i = 0; i < h->cfg->nsinks; i++) {
        struct lw_worker_state ws;
        lw_worker_state(h->ctx.workers ? h->ctx.workers[i] : NULL, &ws);
        const unsigned long long n[3] = {ws.sent, ws.failed, ws.retries};
        static const char *const outcomes[3] = {"sent", "failed", "retried"};
        for (int o = 0; o < 3; o++) {
            lw_buf_puts(b, "logwarden_sink_notifications_total{sink=\"");
            lw_buf_prom_label(b, h->cfg->sinks[i]->name);
            lw_buf_printf(b, "\",outcome=\"%s\"} %llu\n", outcomes[o], n[o]);
        }
    }

    family(b, "logwarden_store_health_status", "gauge",
           "The state file's /health status: 0 healthy, 1 degraded (a flush failed), 2 "
           "unhealthy (flushes failing for 10 s).");
    lw_buf_printf(b, "logwarden_store_health_status %d\n", status_of(store));
    family(b, "logwarden_store_last_flush_timestamp_seconds", "gauge",
           "When everything the daemon holds was last saved to the state file (unix seconds).");
    lw_buf_printf(b, "logwarden_store_last_flush_timestamp_seconds %.3f\n",
                  (double)atomic_load(&m->store.last_ok_ns) / 1e9);
    family(b, "logwarden_store_flush_failures_total", "counter",
           "Writes to the state file that failed (flushes and notification writes; retried).");
    lw_buf_printf(b, "logwarden_store_flush_failures_total %llu\n",
                  (unsigned long long)atomic_load(&m->store.failures));
    family(b, "logwarden_store_size_bytes", "gauge",
           "The state file and its write-ahead log, in bytes.");
    lw_buf_printf(b, "logwarden_store_size_bytes %lld\n",
                  (long long)json_integer_value(json_object_get(store, "size_bytes")));
    family(b, "logwarden_store_flush_duration_seconds", "histogram",
           "How long the flush transactions took.");
    for (int i = 0; i < LW_FLUSH_BUCKETS; i++)
        lw_buf_printf(b, "logwarden_store_flush_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      lw_flush_bounds_s[i], (unsigned long long)atomic_load(&m->store.dur_le[i]));
    unsigned long long cnt = atomic_load(&m->store.dur_count);
    lw_buf_printf(b,
                  "logwarden_store_flush_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "logwarden_store_flush_duration_seconds_sum %.6f\n"
                  "logwarden_store_flush_duration_seconds_count %llu\n",
                  cnt, (double)atomic_load(&m->store.dur_sum_ns) / 1e9, cnt);
    family(b, "logwarden_queue_batches", "gauge",
           "Batches of lines waiting between the inputs and the rules (at most 4).");
    lw_buf_printf(b, "logwarden_queue_batches %llu\n",
                  (unsigned long long)atomic_load(&m->queue_batches));
    family(b, "logwarden_queue_bytes", "gauge", "Bytes of those batches.");
    lw_buf_printf(b, "logwarden_queue_bytes %llu\n",
                  (unsigned long long)atomic_load(&m->queue_bytes));
    json_decref(j);
    alert_metrics(h, b);
    process_metrics(b);
}
