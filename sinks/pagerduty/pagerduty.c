/* pagerduty.c: the pagerduty sink: Events API v2, one trigger or resolve event per alert with
 * dedup_key = fingerprint, so PagerDuty (and several logwarden instances) deduplicate. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PD_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define PD_SUMMARY_MAX 1024 /* payload.summary */
#define PD_FIELD_MAX 255    /* source, component, group, class (documented as short strings) */

struct pagerduty {
    char *routing_key;                /* secret */
    char *source;                     /* default: the hostname */
    char *component, *group, *class_; /* optional */
};

static const char *const pd_keys[] = {"routing_key", "url",   "source",  "component",
                                      "group",       "class", "timeout", NULL};

/* PagerDuty's four levels. */
static const char *pd_severity(json_t *a)
{
    switch (lw_alert_sev(a)) {
    case LW_SEV_CRITICAL:
        return "critical";
    case LW_SEV_HIGH:
        return "error";
    case LW_SEV_LOW:
    case LW_SEV_INFO:
        return "info";
    default:
        return "warning";
    }
}

/* labels, annotations and value, flat: what the incident shows under "Custom Details". */
static json_t *custom_details(json_t *a)
{
    json_t *d = json_object(), *v;
    const char *key;
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        json_object_set(d, key, v);
    }
    json_object_foreach(json_object_get(a, "annotations"), key, v)
    {
        json_object_set(d, key, v);
    }
    v = json_object_get(a, "value");
    if (v && !json_is_null(v))
        json_object_set(d, "value", v);
    if (*lw_alert_str(a, "window"))
        json_object_set_new(d, "window", lw_json_str(lw_alert_str(a, "window")));
    return d;
}

static json_t *pd_event(const struct pagerduty *pd, json_t *a)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "routing_key", lw_json_str(pd->routing_key));
    json_object_set_new(ev, "dedup_key", lw_json_trunc(lw_alert_str(a, "fingerprint"), 255));
    if (lw_alert_resolved(a)) {
        /* A resolve carries nothing else (PagerDuty ignores a payload on resolve). */
        json_object_set_new(ev, "event_action", lw_json_str("resolve"));
        return ev;
    }
    json_object_set_new(ev, "event_action", lw_json_str("trigger"));

    struct lw_buf sum = {0};
    const char *summary =
        json_string_value(json_object_get(json_object_get(a, "annotations"), "summary"));
    if (summary && *summary)
        lw_buf_printf(&sum, "%s: %s", lw_alert_str(a, "alert"), summary);
    else
        lw_alert_title(a, &sum);
    json_t *p = json_object();
    json_object_set_new(p, "summary", lw_json_trunc(sum.p, PD_SUMMARY_MAX));
    lw_buf_free(&sum);
    json_object_set_new(p, "source", lw_json_trunc(pd->source, PD_FIELD_MAX));
    json_object_set_new(p, "severity", lw_json_str(pd_severity(a)));
    if (*lw_alert_str(a, "starts_at"))
        json_object_set_new(p, "timestamp", lw_json_str(lw_alert_str(a, "starts_at")));
    if (pd->component)
        json_object_set_new(p, "component", lw_json_trunc(pd->component, PD_FIELD_MAX));
    if (pd->group)
        json_object_set_new(p, "group", lw_json_trunc(pd->group, PD_FIELD_MAX));
    if (pd->class_)
        json_object_set_new(p, "class", lw_json_trunc(pd->class_, PD_FIELD_MAX));
    json_object_set_new(p, "custom_details", custom_details(a));
    json_object_set_new(ev, "payload", p);
    json_object_set_new(ev, "client", lw_json_str("logwarden"));
    return ev;
}

/* Status codes need no special reading: 202 accepted, 400 an invalid event (permanent), 429 and
 * 5xx worth a retry, as lw_http_classify has it. */
static int pd_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                     struct lw_sink_msgs *out, struct lw_err *err)
{
    const struct pagerduty *pd = lw_hsink_priv(s);
    struct lw_hsink *h = s->ctx;
    size_t i;
    json_t *a;
    (void)json;
    (void)len;
    (void)err;
    json_array_foreach(alerts, i, a)
    {
        json_t *ev = pd_event(pd, a);
        size_t blen;
        char *body = lw_json_text(ev, &blen);
        lw_sink_msgs_add(out, h->url, body, blen);
        memset(body, 0, blen); /* holds the routing key */
        free(body);
        json_decref(ev);
    }
    return 0;
}

static void pd_free_priv(void *priv)
{
    struct pagerduty *pd = priv;
    lw_sink_free_secret(pd->routing_key);
    free(pd->source);
    free(pd->component);
    free(pd->group);
    free(pd->class_);
}

static const struct lw_hsink_def pd_def = {
    .default_url = PD_DEFAULT_URL,
    .render = pd_render,
    .free_priv = pd_free_priv,
};

static int pd_init(struct lw_sink *s, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                   struct lw_diag *diag)
{
    int rc = lw_hsink_init(s, &pd_def, sizeof(struct pagerduty), doc, map, diag);
    struct pagerduty *pd = lw_hsink_priv(s);
    if (lw_sink_cfg_str(doc, map, "routing_key", s->name, true, true, &pd->routing_key, diag) != 0)
        rc = LW_EINVAL;
    if (lw_sink_cfg_str(doc, map, "source", s->name, false, true, &pd->source, diag) != 0 ||
        lw_sink_cfg_str(doc, map, "component", s->name, false, true, &pd->component, diag) != 0 ||
        lw_sink_cfg_str(doc, map, "group", s->name, false, true, &pd->group, diag) != 0 ||
        lw_sink_cfg_str(doc, map, "class", s->name, false, true, &pd->class_, diag) != 0)
        rc = LW_EINVAL;
    if (!pd->source || !*pd->source) {
        char host[256] = "logwarden";
        if (gethostname(host, sizeof host) != 0 || !host[0])
            snprintf(host, sizeof host, "%s", "logwarden");
        host[sizeof host - 1] = 0;
        free(pd->source);
        pd->source = lw_strdup(host);
    }
    return rc;
}

const struct lw_sink_ops lw_sink_pagerduty_ops = {
    .type = "pagerduty",
    .keys = pd_keys,
    .init = pd_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
