/* opsgenie.c: the opsgenie sink: Alert API v2, create with alias = fingerprint (Opsgenie
 * deduplicates open alerts by alias) and close by alias once resolved. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>

#define OG_DEFAULT_URL "https://api.opsgenie.com"
#define OG_MESSAGE_MAX 130 /* documented limits of the create request */
#define OG_ALIAS_MAX 512
#define OG_DESCRIPTION_MAX 15000
#define OG_SOURCE_MAX 100
#define OG_DETAILS_MAX 8000 /* all keys and values of details together */
#define OG_NOTE_MAX 25000

struct opsgenie {
    struct lw_hsink_conf http;
    char *api_key; /* secret */
    char *base;    /* url without a trailing '/' */
};

static const struct lw_opt og_opts[] = {
    LW_HSINK_OPTS(struct opsgenie, OG_DEFAULT_URL, 0,
                  "the API's base URL (https://api.eu.opsgenie.com for the EU)"),
    {.key = "api_key",
     .type = LW_OPT_SECRET,
     .off = offsetof(struct opsgenie, api_key),
     .flags = LW_OPT_REQUIRED,
     .help = "an API integration's key"},
    {.type = LW_OPT_END},
};

/* P1 (critical) ... P5 (informational). */
static const char *og_priority(json_t *a)
{
    switch (lw_alert_sev(a)) {
    case LW_SEV_CRITICAL:
        return "P1";
    case LW_SEV_HIGH:
        return "P2";
    case LW_SEV_LOW:
        return "P4";
    case LW_SEV_INFO:
        return "P5";
    default:
        return "P3";
    }
}

/* details is a map of strings to strings: labels, annotations, value, within 8000 characters. */
static json_t *og_details(json_t *a)
{
    json_t *d = json_object(), *v;
    const char *key;
    size_t used = 0;
    char value[64];
    const char *groups[] = {"labels", "annotations"};
    for (size_t g = 0; g < 2; g++) {
        json_object_foreach(json_object_get(a, groups[g]), key, v)
        {
            if (!json_is_string(v))
                continue;
            size_t need = strlen(key) + strlen(json_string_value(v));
            if (used + need > OG_DETAILS_MAX - 64)
                continue;
            json_object_set(d, key, v);
            used += need;
        }
    }
    lw_alert_value(a, value, sizeof value);
    if (*value)
        json_object_set_new(d, "value", lw_json_str(value));
    return d;
}

static void og_create(const struct lw_sink *s, const struct opsgenie *og, json_t *a,
                      struct lw_sink_msgs *out)
{
    struct lw_buf b = {0}, url = {0};
    json_t *o = json_object(), *v;
    const char *key;

    lw_buf_printf(&b, "%s: %s", lw_alert_str(a, "alert"), lw_alert_summary(a));
    json_object_set_new(o, "message", lw_json_trunc(b.p, OG_MESSAGE_MAX));
    json_object_set_new(o, "alias", lw_json_trunc(lw_alert_str(a, "fingerprint"), OG_ALIAS_MAX));
    lw_buf_reset(&b);
    lw_buf_printf(&b, "%s\n\n", lw_alert_summary(a));
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        if (json_is_string(v))
            lw_buf_printf(&b, "%s: %s\n", key, json_string_value(v));
    }
    lw_buf_printf(&b, "started: %s\n", lw_alert_str(a, "starts_at"));
    json_object_set_new(o, "description", lw_json_trunc(b.p, OG_DESCRIPTION_MAX));
    json_object_set_new(o, "details", og_details(a));
    json_object_set_new(o, "priority", lw_json_str(og_priority(a)));
    json_object_set_new(o, "source", lw_json_trunc("logwarden", OG_SOURCE_MAX));
    json_object_set_new(o, "tags", json_pack("[s]", "logwarden"));

    lw_buf_printf(&url, "%s/v2/alerts", og->base);
    size_t blen;
    char *body = lw_json_text(o, &blen);
    lw_sink_msgs_add(out, url.p, body, blen);
    free(body);
    json_decref(o);
    lw_buf_free(&b);
    lw_buf_free(&url);
}

static void og_close(const struct lw_sink *s, const struct opsgenie *og, json_t *a,
                     struct lw_sink_msgs *out)
{
    struct lw_buf b = {0}, url = {0};
    /* The alias goes into the path: escape it (a fingerprint is hex, but be sure). */
    char *alias = curl_easy_escape(NULL, lw_alert_str(a, "fingerprint"), 0);
    if (!alias)
        lw_oom(0);
    lw_buf_printf(&url, "%s/v2/alerts/%s/close?identifierType=alias", og->base, alias);
    curl_free(alias);
    lw_buf_printf(&b, "Resolved at %s: %s",
                  *lw_alert_str(a, "ends_at") ? lw_alert_str(a, "ends_at") : "(unknown)",
                  lw_alert_summary(a));
    json_t *o = json_pack("{s:o, s:o}", "source", lw_json_str("logwarden"), "note",
                          lw_json_trunc(b.p, OG_NOTE_MAX));
    size_t blen;
    char *body = lw_json_text(o, &blen);
    lw_sink_msgs_add(out, url.p, body, blen);
    free(body);
    json_decref(o);
    lw_buf_free(&b);
    lw_buf_free(&url);
}

static int og_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                     struct lw_sink_msgs *out, struct lw_err *err)
{
    const struct opsgenie *og = lw_hsink_priv(s);
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        if (lw_alert_resolved(a))
            og_close(s, og, a, out);
        else
            og_create(s, og, a, out);
    }
    return 0;
}

static void og_free_priv(void *priv)
{
    struct opsgenie *og = priv;
    free(og->base);
}

/* Statuses: 202 accepted; 401/403 a bad key, 422 an invalid request (permanent); 429 and 5xx
 * worth a retry; the default reading. A close of an alert Opsgenie no longer has is answered 202
 * too (the request is processed asynchronously), so it is not an error here. */
static const struct lw_hsink_def og_def = {
    .render = og_render,
    .free_priv = og_free_priv,
};

static int og_init(struct lw_sink *s, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                   struct lw_diag *diag)
{
    int rc = lw_hsink_init(s, &og_def);
    struct lw_hsink *h = s->ctx;
    struct opsgenie *og = h->priv;
    const char *key = og->api_key;

    if (!key) {
        rc = LW_EINVAL; /* reported by the table */
    } else if (strpbrk(key, "\r\n")) {
        lw_yaml_error(doc, lw_yaml_get(map, "api_key"), diag,
                      "sink '%s': api_key contains a line break", s->name);
        rc = LW_EINVAL;
    } else {
        struct lw_buf line = {0};
        lw_buf_printf(&line, "Authorization: GenieKey %s", key);
        lw_hsink_header(h, line.p);
        memset(line.p, 0, line.len);
        lw_buf_free(&line);
    }
    if (h->url) {
        size_t n = strlen(h->url);
        while (n > 0 && h->url[n - 1] == '/')
            n--;
        og->base = lw_strndup(h->url, n);
    }
    return rc;
}

const struct lw_sink_ops lw_sink_opsgenie_ops = {
    .type = "opsgenie",
    .opts = og_opts,
    .conf_size = sizeof(struct opsgenie),
    .init = og_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
