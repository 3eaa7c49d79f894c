/* alertmanager.c: the alertmanager sink: POST {url}/api/v2/alerts, the array Prometheus sends
 * (labels, annotations, startsAt, endsAt, generatorURL), so Alertmanager groups, silences,
 * inhibits and deduplicates (across an HA cluster too) by our labels. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>

struct alertmanager {
    struct lw_hsink_conf http;
    char *generator_url; /* optional */
    char *endpoint;      /* {url}/api/v2/alerts */
};

static const struct lw_opt am_opts[] = {
    LW_HSINK_OPTS(struct alertmanager, NULL, LW_OPT_REQUIRED,
                  "Alertmanager's base URL (with its route prefix, if any)"),
    {.key = "generator_url",
     .type = LW_OPT_URL,
     .off = offsetof(struct alertmanager, generator_url),
     .arg = "http,https",
     .check = lw_sink_opt_url,
     .help = "each alert's generatorURL (e.g. the dashboard)"},
    {.type = LW_OPT_END},
};

/* Alertmanager 0.25+ accepts UTF-8 names only with a feature flag; the classic rule is
 * [a-zA-Z_][a-zA-Z0-9_]*. Other characters become '_' (and a leading digit gets one before it). */
static void label_name(const char *key, struct lw_buf *b)
{
    lw_buf_reset(b);
    if (*key >= '0' && *key <= '9')
        lw_buf_putc(b, '_');
    for (const char *p = key; *p; p++) {
        char c = *p;
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        lw_buf_putc(b, ok ? c : '_');
    }
    lw_buf_append(b, "", 0);
}

static json_t *am_alert(const struct alertmanager *am, json_t *a)
{
    json_t *labels = json_object(), *ann = json_object(), *v, *o = json_object();
    struct lw_buf name = {0};
    const char *key;

    /* alertname is what Alertmanager's routes, grouping and UI key on. */
    json_object_set_new(labels, "alertname", lw_json_str(lw_alert_str(a, "alert")));
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        /* An empty value means "no such label" in Prometheus' model. */
        if (!json_is_string(v) || !*json_string_value(v))
            continue;
        label_name(key, &name);
        if (strcmp(name.p, "alertname") != 0)
            json_object_set(labels, name.p, v);
    }
    json_object_foreach(json_object_get(a, "annotations"), key, v)
    {
        if (json_is_string(v))
            json_object_set(ann, key, v);
    }
    char value[64];
    lw_alert_value(a, value, sizeof value);
    if (*value && !json_object_get(ann, "value"))
        json_object_set_new(ann, "value", lw_json_str(value));
    lw_buf_free(&name);

    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "annotations", ann);
    if (*lw_alert_str(a, "starts_at"))
        json_object_set_new(o, "startsAt", lw_json_str(lw_alert_str(a, "starts_at")));
    /* Firing: no endsAt, so Alertmanager holds the alert for its resolve_timeout from now and
     * each re-send extends it. Resolved: the time it ended (or now). */
    if (lw_alert_resolved(a)) {
        const char *ends = lw_alert_str(a, "ends_at");
        char now[40];
        if (!*ends) {
            lw_fmt_rfc3339(lw_now_ns(), now, sizeof now);
            ends = now;
        }
        json_object_set_new(o, "endsAt", lw_json_str(ends));
    }
    if (am->generator_url)
        json_object_set_new(o, "generatorURL", lw_json_str(am->generator_url));
    return o;
}

static int am_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                     struct lw_sink_msgs *out, struct lw_err *err)
{
    const struct alertmanager *am = lw_hsink_priv(s);
    json_t *arr = json_array(), *a;
    size_t i;
    json_array_foreach(alerts, i, a)
    {
        json_array_append_new(arr, am_alert(am, a));
    }
    size_t blen;
    char *body = lw_json_text(arr, &blen);
    lw_sink_msgs_add(out, am->endpoint, body, blen);
    free(body);
    json_decref(arr);
    return 0;
}

static void am_free_priv(void *priv)
{
    struct alertmanager *am = priv;
    lw_sink_free_secret(am->endpoint);
}

static const struct lw_hsink_def am_def = {
    .render = am_render,
    .free_priv = am_free_priv,
};

static int am_init(struct lw_sink *s, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                   struct lw_diag *diag)
{
    int rc = lw_hsink_init(s, &am_def);
    struct lw_hsink *h = s->ctx;
    struct alertmanager *am = h->priv;
    if (h->url) {
        /* The base URL, possibly with a path prefix (--web.route-prefix); not the endpoint. */
        struct lw_buf b = {0};
        size_t n = strlen(h->url);
        while (n > 0 && h->url[n - 1] == '/')
            n--;
        lw_buf_append(&b, h->url, n);
        lw_buf_puts(&b, "/api/v2/alerts");
        am->endpoint = lw_buf_steal(&b);
    }
    return rc;
}

const struct lw_sink_ops lw_sink_alertmanager_ops = {
    .type = "alertmanager",
    .opts = am_opts,
    .conf_size = sizeof(struct alertmanager),
    .init = am_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
    /* Alertmanager resolves an alert it has not heard of for resolve_timeout (5m by default). */
    .resend_ns = 60 * LW_NS_PER_SEC,
};
