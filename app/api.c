/* api.c: the JSON API beside the dashboard: /api/alerts, /api/rules, /api/alerts/{fp} (the
 * explanation), /api/silences, /api/reload (docs/operations.md, "The API"). The HTTP thread asks
 * the pipeline (lw_ask) for what only the engine knows; lw_api_answer answers there. */
#include "api.h"
#include "http_int.h"

#include <string.h>

#define ASK_TIMEOUT_NS (5 * LW_NS_PER_SEC)
#define RELOAD_TIMEOUT_NS (60 * LW_NS_PER_SEC)

/* CONTRACT STUB (issue 16): the alert states in the state file, as before; api.c's owner asks
 * the pipeline for labels, annotations, severity, silences and inhibitions, and filters. */
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

json_t *lw_http_alerts(struct lw_http_server *h, const char *const *filters, size_t nfilters,
                       int *code)
{
    struct lw_err err = {0};
    (void)filters;
    (void)nfilters;
    json_t *arr = json_array();
    pthread_mutex_lock(&h->mu);
    int rc = lw_store_load_states(h->st, on_state, arr, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0) {
        json_decref(arr);
        *code = 500;
        return json_pack("{s:s}", "error", err.msg);
    }
    *code = 200;
    return arr;
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

json_t *lw_http_rules(struct lw_http_server *h, int *code)
{
    return ask(h, LW_ASK_RULES, NULL, ASK_TIMEOUT_NS, code);
}

json_t *lw_http_explain(struct lw_http_server *h, const char *fingerprint, int *code)
{
    return ask(h, LW_ASK_EXPLAIN, fingerprint, ASK_TIMEOUT_NS, code);
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

/* CONTRACT STUB (issue 16): api.c's owner answers from the engine, the rules and the notifier. */
void lw_api_answer(const struct lw_api_src *src, struct lw_ask *q, int64_t now_ns)
{
    (void)src;
    (void)now_ns;
    q->code = 501;
    q->answer = json_pack("{s:s}", "error", "not yet");
}
