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
    struct lw_hsink_conf http;
    char *routing_key;                /* secret */
    char *source;                     /* default: the hostname */
    char *component, *group, *class_; /* optional */
};

static const struct lw_opt pd_opts[] = {
    LW_HSINK_OPTS(struct pagerduty, PD_DEFAULT_URL, 0, "the Events API v2 endpoint"),
    {.key = "routing_key",
     .type = LW_OPT_SECRET,
     .off = offsetof(struct pagerduty, routing_key),
     .flags = LW_OPT_REQUIRED,
     .help = "the service's integration key"},
    {.key = "source",
     .type = LW_OPT_STRING,
     .off = offsetof(struct pagerduty, source),
     .help = "payload.source (default: this host's name)"},
    {.key = "component",
     .type = LW_OPT_STRING,
     .off = offsetof(struct pagerduty, component),
     .help = "payload.component"},
    {.key = "group",
     .type = LW_OPT_STRING,
     .off = offsetof(struct pagerduty, group),
     .help = "payload.group"},
    {.key = "class",
     .type = LW_OPT_STRING,
     .off = offsetof(struct pagerduty, class_),
     .help = "payload.class"},
    {.type = LW_OPT_END},
};

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

static const struct lw_hsink_def pd_def = {
    .render = pd_render,
};

static int pd_init(struct lw_sink *s, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                   struct lw_diag *diag)
{
    int rc = lw_hsink_init(s, &pd_def);
    struct pagerduty *pd = lw_hsink_priv(s);
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
    .opts = pd_opts,
    .conf_size = sizeof(struct pagerduty),
    .init = pd_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
