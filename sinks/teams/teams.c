/* teams.c: the teams sink: a message with an Adaptive Card attachment, the form Teams incoming
 * webhooks and Workflows ("post to a channel when a webhook request is received") accept. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>

#define TEAMS_MAX_ALERTS 20      /* per card; the rest are counted in a closing line */
#define TEAMS_BODY_BYTES 24000   /* Teams refuses messages over 28 KB: the card stays below */
#define TEAMS_TEXT_MAX 2000      /* per TextBlock */
#define TEAMS_FACT_MAX 500       /* per fact value */
#define TEAMS_MAX_FACTS 15       /* per alert */
#define TEAMS_CARD_VERSION "1.4" /* the highest every Teams client renders */

/* The sink's settings: the common HTTP block only. */
struct teams {
    struct lw_hsink_conf http;
};

static const struct lw_opt teams_opts[] = {
    LW_HSINK_OPTS(struct teams, NULL, LW_OPT_REQUIRED, "the Workflows (or incoming webhook) URL"),
    {.type = LW_OPT_END},
};

/* Adaptive Card colours: attention (red), warning (amber), accent (blue), good (green). */
static const char *teams_color(json_t *a)
{
    if (lw_alert_resolved(a))
        return "good";
    switch (lw_alert_sev(a)) {
    case LW_SEV_CRITICAL:
    case LW_SEV_HIGH:
        return "attention";
    case LW_SEV_LOW:
    case LW_SEV_INFO:
        return "accent";
    default:
        return "warning";
    }
}

static json_t *text_block(const char *text, bool wrap)
{
    return json_pack("{s:s, s:o, s:b}", "type", "TextBlock", "text",
                     lw_json_trunc(text, TEAMS_TEXT_MAX), "wrap", wrap);
}

static json_t *fact(const char *title, const char *value)
{
    return json_pack("{s:o, s:o}", "title", lw_json_trunc(title, 200), "value",
                     lw_json_trunc(value, TEAMS_FACT_MAX));
}

static void add_alert(json_t *body, json_t *a)
{
    struct lw_buf b = {0};
    bool resolved = lw_alert_resolved(a);
    json_t *facts = json_array(), *v;
    const char *key;
    char value[64];

    lw_buf_printf(&b, "%s: %s", resolved ? "RESOLVED" : "FIRING", lw_alert_str(a, "alert"));
    json_t *title = text_block(b.p, true);
    json_object_set_new(title, "size", lw_json_str("Medium"));
    json_object_set_new(title, "weight", lw_json_str("Bolder"));
    json_object_set_new(title, "color", lw_json_str(teams_color(a)));
    json_object_set_new(title, "separator", json_true());
    json_array_append_new(body, title);
    json_array_append_new(body, text_block(lw_alert_summary(a), true));

    lw_alert_value(a, value, sizeof value);
    if (*value)
        json_array_append_new(facts, fact("value", value));
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        if (strcmp(key, "alert") != 0 && json_is_string(v) &&
            json_array_size(facts) < TEAMS_MAX_FACTS)
            json_array_append_new(facts, fact(key, json_string_value(v)));
    }
    json_array_append_new(facts, fact("started", lw_alert_str(a, "starts_at")));
    if (resolved && *lw_alert_str(a, "ends_at"))
        json_array_append_new(facts, fact("ended", lw_alert_str(a, "ends_at")));
    json_array_append_new(body, json_pack("{s:s, s:o}", "type", "FactSet", "facts", facts));
    lw_buf_free(&b);
}

static int teams_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                        struct lw_sink_msgs *out, struct lw_err *err)
{
    struct lw_hsink *h = s->ctx;
    json_t *body = json_array();
    size_t i, n = json_array_size(alerts);

    /* Alerts while the card stays under the size budget (one alert always fits: its texts are
     * capped well below it). */
    for (i = 0; i < n && i < TEAMS_MAX_ALERTS; i++) {
        size_t before = json_array_size(body);
        add_alert(body, json_array_get(alerts, i));
        char *text = lw_json_text(body, NULL);
        size_t size = strlen(text);
        free(text);
        if (size > TEAMS_BODY_BYTES && i > 0) {
            while (json_array_size(body) > before)
                json_array_remove(body, json_array_size(body) - 1);
            break;
        }
    }
    if (i < n) {
        char note[80];
        snprintf(note, sizeof note, "... and %zu more alerts not shown", n - i);
        json_array_append_new(body, text_block(note, true));
    }
    json_t *card =
        json_pack("{s:s, s:s, s:s, s:o, s:{s:s}}", "$schema",
                  "http://adaptivecards.io/schemas/adaptive-card.json", "type", "AdaptiveCard",
                  "version", TEAMS_CARD_VERSION, "body", body, "msteams", "width", "Full");
    json_t *msg =
        json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments", "contentType",
                  "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
    size_t blen;
    char *text = lw_json_text(msg, &blen);
    lw_sink_msgs_add(out, h->url, text, blen);
    free(text);
    json_decref(msg);
    return 0;
}

static const struct lw_hsink_def teams_def = {
    .render = teams_render,
};

static int teams_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                      const struct lw_yaml_node *map, struct lw_diag *diag)
{
    return lw_hsink_init(s, &teams_def);
}

const struct lw_sink_ops lw_sink_teams_ops = {
    .type = "teams",
    .opts = teams_opts,
    .conf_size = sizeof(struct teams),
    .init = teams_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
