/* api.c: the JSON API beside the dashboard: /api/alerts, /api/rules, /api/alerts/{fp} (the
 * explanation), /api/silences, /api/reload (docs/operations.md, "The API"). The HTTP thread asks
 * the pipeline (lw_ask) for what only the engine knows; lw_api_answer answers there, quickly
 * (between two batches), and the HTTP thread adds what the state file knows (history,
 * notifications) on its own connection. */
#include "api.h"
#include "engine.h"
#include "http_int.h"
#include "kinds.h"
#include "matcher.h"
#include "notify.h"

#include <math.h>
#include <string.h>

#define ASK_TIMEOUT_NS (5 * LW_NS_PER_SEC)
#define RELOAD_TIMEOUT_NS (60 * LW_NS_PER_SEC)
#define HISTORY_NS (24 * 3600 * LW_NS_PER_SEC)

/* A JSON object of string labels packed as matcher.h reads them ("k\0v\0...\0"): the caller's. */
static char *pack_labels(json_t *labels)
{
    struct lw_buf b = {0};
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (!json_is_string(v))
            continue;
        lw_buf_append(&b, k, strlen(k) + 1);
        lw_buf_append(&b, json_string_value(v), json_string_length(v) + 1);
    }
    lw_buf_putc(&b, '\0');
    return lw_buf_steal(&b);
}

static const char *str_or(json_t *s)
{
    return json_is_string(s) ? json_string_value(s) : "";
}

static json_t *ask(struct lw_http_server *h, enum lw_ask_kind kind, const char *arg,
                   int64_t timeout_ns, int *code)
{
    struct lw_ask q = {kind, arg, NULL, 0};
    if (!h->ctx.asker || lw_ask(h->ctx.asker, &q, timeout_ns) < 0) {
        *code = 503;
        json_decref(q.answer);
        return json_pack("{s:s}", "error", "the pipeline did not answer in time");
    }
    *code = q.code;
    return q.answer ? q.answer : json_null();
}

/* ---------------------------------------------------------------- GET /api/alerts */

json_t *lw_http_alerts(struct lw_http_server *h, const char *const *filters, size_t nfilters,
                       int *code)
{
    struct lw_matcher *m = lw_calloc(nfilters + 1, sizeof *m);
    struct lw_err err = {0};
    for (size_t i = 0; i < nfilters; i++)
        if (lw_matcher_parse_filter(&m[i], filters[i], &err) < 0) {
            lw_matchers_free(m, i + 1);
            *code = 400;
            return json_pack("{s:s}", "error", err.msg);
        }
    json_t *all = ask(h, LW_ASK_ALERTS, NULL, ASK_TIMEOUT_NS, code);
    if (*code != 200 || !json_is_array(all) || nfilters == 0) {
        lw_matchers_free(m, nfilters);
        return all;
    }
    json_t *out = json_array(), *a;
    size_t i;
    json_array_foreach(all, i, a)
    {
        char *packed = pack_labels(json_object_get(a, "labels"));
        if (lw_matchers_match(m, nfilters, packed))
            json_array_append(out, a);
        free(packed);
    }
    json_decref(all);
    lw_matchers_free(m, nfilters);
    return out;
}

/* ---------------------------------------------------------------- the rest of the HTTP side */

json_t *lw_http_rules(struct lw_http_server *h, int *code)
{
    return ask(h, LW_ASK_RULES, NULL, ASK_TIMEOUT_NS, code);
}

static void on_history(const char *state, int64_t at_ns, double value, void *payload)
{
    char t[40];
    lw_fmt_rfc3339(at_ns, t, sizeof t);
    json_array_append_new(payload, json_pack("{s:s,s:s,s:f}", "state", state, "at", t, "value",
                                             isfinite(value) ? value : 0));
}

static void on_notif(const struct lw_notif_of *r, void *payload)
{
    static const char *const outcome[] = {"queued", "sent", "failed"};
    char c[40], s[40];
    lw_fmt_rfc3339(r->created_ns, c, sizeof c);
    lw_fmt_rfc3339(r->sent_ns, s, sizeof s);
    json_array_append_new(
        payload,
        json_pack("{s:s,s:s,s:s,s:s,s:o,s:i,s:o}", "sink", r->sink, "status", r->status, "outcome",
                  r->state >= 0 && r->state <= 2 ? outcome[r->state] : "?", "created_at", c,
                  "sent_at", r->sent_ns ? json_string(s) : json_null(), "attempts", r->attempts,
                  "error", r->error ? json_string(r->error) : json_null()));
}

static json_t *time_str(int64_t ns)
{
    char t[40];
    lw_fmt_rfc3339(ns, t, sizeof t);
    return json_string(t);
}

static json_t *duration_str(int64_t ns)
{
    char d[32];
    lw_fmt_duration(ns, d, sizeof d);
    return json_string(d);
}

/* The state file's raw explanation (engine.c explain_raw) in the API's shape. New reference. */
static json_t *from_raw(json_t *r)
{
    json_t *obj = json_object_get(r, "object"), *x = json_object();
    const char *state = json_string_value(json_object_get(r, "state"));
    int64_t res = json_integer_value(json_object_get(r, "res_ns"));
    int64_t win = json_integer_value(json_object_get(r, "window_ns"));
    int64_t to = json_integer_value(json_object_get(r, "to_ns"));
    json_t *labels = json_object_get(obj, "labels");
    json_object_set_new(x, "alert", json_string(str_or(json_object_get(obj, "alert"))));
    json_object_set(x, "fingerprint", json_object_get(obj, "fingerprint"));
    json_object_set_new(x, "state", json_string(state ? state : ""));
    json_object_set_new(x, "severity", json_string(str_or(json_object_get(labels, "severity"))));
    json_object_set(x, "labels", labels ? labels : json_object());
    json_t *ann = json_object_get(obj, "annotations");
    json_object_set(x, "annotations", ann ? ann : json_object());
    json_object_set(x, "group", json_object_get(r, "group"));
    json_object_set(x, "value", json_object_get(r, "value"));
    json_object_set(x, "threshold", json_object_get(r, "threshold"));
    json_object_set(x, "above", json_object_get(r, "above"));
    json_object_set(x, "kind", json_object_get(r, "kind"));
    json_object_set_new(x, "window", duration_str(win));
    json_object_set_new(x, "resolution", duration_str(res));
    json_object_set_new(x, "for", duration_str(json_integer_value(json_object_get(r, "for_ns"))));
    json_object_set_new(x, "since", time_str(json_integer_value(json_object_get(r, "since_ns"))));
    json_object_set_new(x, "at", time_str(json_integer_value(json_object_get(r, "at_ns"))));
    /* The series, expanded as the engine does (lw_engine_series): one point per instant of
     * the window ending at the last evaluation, the value of the last change at or before. */
    json_t *pts = json_object_get(r, "points"), *series = json_array();
    size_t np = json_array_size(pts), k = 0;
    if (np && res > 0 && win >= res) {
        int64_t last = json_integer_value(json_array_get(json_array_get(pts, np - 1), 0));
        if (to < last)
            to = last;
        json_t *cur = json_null();
        for (int64_t t = to - win + res; t <= to; t += res) {
            while (k < np && json_integer_value(json_array_get(json_array_get(pts, k), 0)) <= t)
                cur = json_array_get(json_array_get(pts, k++), 1);
            json_array_append_new(series, json_pack("[o,O]", time_str(t), cur));
        }
    }
    json_object_set_new(x, "series", series);
    json_t *samples = json_array(), *sm;
    size_t i;
    json_array_foreach(json_object_get(r, "samples"), i, sm)
    {
        json_t *o =
            json_pack("{s:o,s:O,s:O}", "at", time_str(json_integer_value(json_array_get(sm, 0))),
                      "input", json_array_get(sm, 1), "line", json_array_get(sm, 2));
        if (o && json_integer_value(json_array_get(sm, 3)))
            json_object_set_new(o, "cut", json_true());
        if (o)
            json_array_append_new(samples, o);
    }
    json_object_set_new(x, "samples", samples);
    json_object_set(x, "sample_bytes", json_object_get(r, "sample_bytes"));
    json_object_set(x, "sample_lines", json_object_get(r, "sample_lines"));
    json_object_set(x, "kept", json_object_get(r, "kept"));
    json_object_set_new(x, "silenced_by", json_array());
    json_object_set_new(x, "inhibited_by", json_array());
    return x;
}

/* What the state file knows of fp: its history, its notifications and (with x NULL) what
 * explained it at its last transition. Under h->mu. 0, LW_ENOENT, or an error (*x untouched). */
static int from_store(struct lw_store *st, const char *fp, json_t **x, struct lw_err *err)
{
    json_t *hist = json_array(), *notifs = json_array();
    int rc = 0;
    if (!*x) {
        char *body = NULL;
        rc = lw_store_explain_get(st, fp, &body, err);
        if (rc == 0) {
            json_t *raw = json_loads(body, 0, NULL);
            free(body);
            *x = json_is_object(raw) && json_object_get(raw, "raw") ? from_raw(raw) : NULL;
            json_decref(raw);
            if (!json_is_object(*x)) {
                json_decref(*x);
                *x = NULL;
                rc = lw_err_set(err, LW_EINVAL, "the explanation kept for %s is damaged", fp);
            } else {
                json_object_set_new(*x, "source", json_string("state"));
            }
        }
    }
    if (rc == 0)
        rc = lw_store_history(st, fp, lw_now_ns() - HISTORY_NS, on_history, hist, err);
    if (rc == 0)
        rc = lw_store_notifs_of(st, fp, on_notif, notifs, err);
    if (rc == 0) {
        json_object_set(*x, "history", hist);
        json_object_set(*x, "notifications", notifs);
    }
    json_decref(hist);
    json_decref(notifs);
    return rc;
}

json_t *lw_api_explain_store(struct lw_store *st, const char *fp, json_t *live, int *code)
{
    struct lw_err err = {0};
    json_t *x = live;
    int rc = from_store(st, fp, &x, &err);
    if (rc == LW_ENOENT) {
        *code = 404;
        return json_pack("{s:s}", "error", "no alert has this fingerprint");
    }
    if (rc < 0) {
        json_decref(x);
        *code = 500;
        return json_pack("{s:s}", "error", err.msg);
    }
    *code = 200;
    return x;
}

static bool is_fingerprint(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 16;
}

json_t *lw_http_explain(struct lw_http_server *h, const char *fingerprint, int *code)
{
    if (!is_fingerprint(fingerprint)) {
        *code = 404;
        return json_pack("{s:s}", "error", "not a fingerprint (16 hex digits)");
    }
    json_t *live = ask(h, LW_ASK_EXPLAIN, fingerprint, ASK_TIMEOUT_NS, code);
    if (*code != 200) {
        json_decref(live); /* the engine forgot it, or did not answer: the state file says */
        live = NULL;
    }
    pthread_mutex_lock(&h->mu);
    json_t *x = lw_api_explain_store(h->st, fingerprint, live, code);
    pthread_mutex_unlock(&h->mu);
    return x;
}

json_t *lw_http_reload(struct lw_http_server *h, int *code)
{
    return ask(h, LW_ASK_RELOAD, NULL, RELOAD_TIMEOUT_NS, code);
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

json_t *lw_http_silences(struct lw_http_server *h, int *code)
{
    struct lw_err err = {0};
    json_t *arr = json_array();
    pthread_mutex_lock(&h->mu);
    int rc = lw_store_silences(h->st, false, lw_now_ns(), on_silence, arr, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0) {
        json_decref(arr);
        *code = 500;
        return json_pack("{s:s}", "error", err.msg);
    }
    *code = 200;
    return arr;
}

/* ---------------------------------------------------------------- the pipeline's side */

struct mutes {
    json_t *silenced, *inhibited;
};

static void on_mute(bool silence, const char *id, void *payload)
{
    struct mutes *m = payload;
    json_t *arr = silence ? m->silenced : m->inhibited, *x;
    size_t i;
    json_array_foreach(arr, i, x) if (!strcmp(json_string_value(x), id)) return;
    json_array_append_new(arr, json_string(id));
}

/* Adds silenced_by and inhibited_by to x (which has labels). */
static void add_mutes(const struct lw_api_src *src, json_t *x, const char *fp, int64_t now)
{
    struct mutes m = {json_array(), json_array()};
    if (src->notifier) {
        char *packed = pack_labels(json_object_get(x, "labels"));
        lw_notifier_mutes(src->notifier, fp, packed, now, on_mute, &m);
        free(packed);
    }
    json_object_set_new(x, "silenced_by", m.silenced);
    json_object_set_new(x, "inhibited_by", m.inhibited);
}

struct alerts_ctx {
    const struct lw_api_src *src;
    json_t *arr;
    struct lw_buf buf;
    int64_t now;
};

static void on_alert_group(const struct lw_group_view *v, void *payload)
{
    struct alerts_ctx *c = payload;
    char since[40];
    lw_engine_alert_object(c->src->eng, v, &c->buf);
    json_t *obj = json_loadb(c->buf.p, c->buf.len, 0, NULL), *grp = json_loads(v->group, 0, NULL);
    lw_fmt_rfc3339(v->state == LW_FIRING ? v->fired_ns : v->active_since_ns, since, sizeof since);
    json_t *x = json_pack(
        "{s:s,s:s,s:s,s:s,s:O,s:O,s:o,s:f,s:f,s:s}", "alert", v->def->name, "fingerprint",
        v->fingerprint, "state", v->state == LW_FIRING ? "firing" : "pending", "severity",
        v->def->severity ? v->def->severity : "", "labels", json_object_get(obj, "labels"),
        "annotations", json_object_get(obj, "annotations"), "group", grp ? grp : json_object(),
        "value", isfinite(v->value) ? v->value : 0, "threshold", v->def->threshold, "since", since);
    json_decref(obj);
    if (!x)
        return;
    add_mutes(c->src, x, v->fingerprint, c->now);
    json_array_append_new(c->arr, x);
}

/* One rule's groups: counts, and its most urgent group (firing, then pending, then the one
 * nearest its threshold). */
struct rule_ctx {
    size_t groups, pending, firing;
    struct lw_group_view best;
    double best_rank;
    bool has_best;
};

static void on_rule_group(const struct lw_group_view *v, void *payload)
{
    struct rule_ctx *c = payload;
    c->groups++;
    c->pending += v->state == LW_PENDING;
    c->firing += v->state == LW_FIRING;
    /* Lower is more urgent: firing < pending < by distance to the threshold. */
    double d = fabs(v->value - v->def->threshold);
    double rank = v->state == LW_FIRING    ? -2
                  : v->state == LW_PENDING ? -1
                  : isfinite(d)            ? d
                                           : 1e308;
    if (!c->has_best || rank < c->best_rank) {
        c->best = *v;
        c->best_rank = rank;
        c->has_best = true;
    }
}

static json_t *rules_answer(const struct lw_api_src *src)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < src->rs->nalerts; i++) {
        const struct lw_alert_def *a = &src->rs->alerts[i];
        const struct lw_event_def *ev = &src->rs->events[a->event];
        struct rule_ctx c = {0};
        char win[32], res[32], fr[32];
        lw_engine_groups(src->eng, i, true, on_rule_group, &c);
        lw_fmt_duration(a->window_ns, win, sizeof win);
        lw_fmt_duration(a->res_ns, res, sizeof res);
        lw_fmt_duration(a->for_ns, fr, sizeof fr);
        json_t *series = json_null();
        if (c.has_best) {
            lw_fingerprint(a->name, c.best.group, c.best.fingerprint);
            json_t *grp = json_loads(c.best.group, 0, NULL);
            series = json_pack("{s:o,s:s,s:s,s:o}", "group", grp ? grp : json_object(),
                               "fingerprint", c.best.fingerprint, "state",
                               c.best.state == LW_FIRING    ? "firing"
                               : c.best.state == LW_PENDING ? "pending"
                                                            : "inactive",
                               "points", lw_engine_series(src->eng, &c.best));
        }
        json_t *group_by = json_array();
        for (size_t k = 0; k < a->ngroup; k++)
            json_array_append_new(group_by, json_string(a->group_by[k]));
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:[{s:s,s:I}],s:s,s:s,s:f,s:b,s:s,s:s,s:o,s:I,s:I,s:I,s:I,"
                           "s:s,s:i,s:o}",
                           "alert", a->name, "kind", lw_kinds[a->kind].name, "events", "name",
                           ev->name, "count", (json_int_t)ev->matched, "window", win, "resolution",
                           res, "threshold", a->threshold, "above", a->above, "for", fr, "severity",
                           a->severity ? a->severity : "", "group_by", group_by, "groups",
                           (json_int_t)c.groups, "max_groups", (json_int_t)a->max_groups, "pending",
                           (json_int_t)c.pending, "firing", (json_int_t)c.firing, "file",
                           a->file ? a->file : "", "line", a->line, "series", series));
    }
    return arr;
}

void lw_api_answer(const struct lw_api_src *src, struct lw_ask *q, int64_t now_ns)
{
    q->code = 200;
    switch (q->kind) {
    case LW_ASK_ALERTS: {
        struct alerts_ctx c = {src, json_array(), {0}, now_ns};
        lw_engine_groups(src->eng, SIZE_MAX, false, on_alert_group, &c);
        lw_buf_free(&c.buf);
        q->answer = c.arr;
        return;
    }
    case LW_ASK_RULES:
        q->answer = rules_answer(src);
        return;
    case LW_ASK_EXPLAIN: {
        struct lw_group_view v;
        if (!q->arg || !lw_engine_find(src->eng, q->arg, &v)) {
            q->code = 404;
            q->answer =
                json_pack("{s:s}", "error", "the engine holds no alert of this fingerprint");
            return;
        }
        json_t *x = lw_engine_explain(src->eng, &v);
        add_mutes(src, x, v.fingerprint, now_ns);
        json_object_set_new(x, "source", json_string("live"));
        q->answer = x;
        return;
    }
    default:
        q->code = 501;
        q->answer = json_pack("{s:s}", "error", "not a question the API answers");
        return;
    }
}
