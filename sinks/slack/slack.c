/* slack.c: the slack sink: an incoming-webhook message in Block Kit, one coloured attachment per
 * alert (header, summary, label fields, times, a Dashboard button), within Slack's limits. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>

/* Slack's documented limits (api.slack.com/reference/block-kit/blocks): */
#define SLACK_MAX_BLOCKS 50      /* per message */
#define SLACK_HEADER_MAX 150     /* header block plain_text */
#define SLACK_TEXT_MAX 3000      /* section text, top-level text we send */
#define SLACK_FIELDS_MAX 10      /* fields per section */
#define SLACK_FIELD_MAX 2000     /* characters per field */
#define SLACK_BUTTON_TEXT_MAX 75 /* button text */
#define SLACK_URL_MAX 3000       /* button url */

struct slack {
    struct lw_hsink_conf http;
    char *channel, *username, *dashboard_url; /* optional */
};

static const struct lw_opt slack_opts[] = {
    LW_HSINK_OPTS(struct slack, NULL, LW_OPT_REQUIRED, "the incoming webhook's URL"),
    {.key = "channel",
     .type = LW_OPT_STRING,
     .off = offsetof(struct slack, channel),
     .help = "overrides the webhook's channel (legacy webhooks only)"},
    {.key = "username",
     .type = LW_OPT_STRING,
     .off = offsetof(struct slack, username),
     .help = "overrides the webhook's user name (legacy webhooks only)"},
    {.key = "dashboard_url",
     .type = LW_OPT_URL,
     .off = offsetof(struct slack, dashboard_url),
     .arg = "http,https",
     .check = lw_sink_opt_url,
     .help = "the dashboard's address, for a link under each alert"},
    {.type = LW_OPT_END},
};

static json_t *mrkdwn(const char *text)
{
    return json_pack("{s:s, s:o}", "type", "mrkdwn", "text", lw_json_str(text));
}

static json_t *plain(const char *text)
{
    return json_pack("{s:s, s:o}", "type", "plain_text", "text", lw_json_str(text));
}

/* "*name*\nvalue", escaped, at most SLACK_FIELD_MAX characters. */
static json_t *field(const char *name, const char *value)
{
    struct lw_buf b = {0};
    lw_buf_putc(&b, '*');
    size_t used = 1 + lw_buf_html_trunc(&b, name, 200, false);
    lw_buf_puts(&b, "*\n");
    lw_buf_html_trunc(&b, value, SLACK_FIELD_MAX - used - 2, false);
    json_t *f = mrkdwn(b.p);
    lw_buf_free(&b);
    return f;
}

static json_t *label_fields(json_t *a)
{
    json_t *fields = json_array(), *labels = json_object_get(a, "labels"), *v;
    struct lw_buf rest = {0};
    char value[64];
    const char *key;
    size_t nlabels = 0, shown = 0;

    lw_alert_value(a, value, sizeof value);
    if (*value)
        json_array_append_new(fields, field("Value", value));
    json_object_foreach(labels, key, v)
    {
        if (strcmp(key, "alert") != 0 && json_is_string(v))
            nlabels++;
    }
    json_object_foreach(labels, key, v)
    {
        if (!strcmp(key, "alert") || !json_is_string(v))
            continue;
        /* The last slot lists whatever does not fit in a field of its own. */
        if (json_array_size(fields) < SLACK_FIELDS_MAX - 1 ||
            (json_array_size(fields) == SLACK_FIELDS_MAX - 1 && shown + 1 == nlabels)) {
            json_array_append_new(fields, field(key, json_string_value(v)));
            shown++;
        } else {
            lw_buf_printf(&rest, "%s%s=%s", rest.len ? ", " : "", key, json_string_value(v));
        }
    }
    if (rest.len)
        json_array_append_new(fields, field("Other labels", rest.p));
    lw_buf_free(&rest);
    return fields;
}

/* The blocks of one alert, in order. */
static json_t *alert_blocks(const struct slack *sl, json_t *a)
{
    json_t *blocks = json_array(), *fields;
    struct lw_buf b = {0};
    bool resolved = lw_alert_resolved(a);

    lw_buf_printf(&b, "%s %s", resolved ? "RESOLVED:" : "FIRING:", lw_alert_str(a, "alert"));
    json_array_append_new(blocks,
                          json_pack("{s:s, s:{s:s, s:o}}", "type", "header", "text", "type",
                                    "plain_text", "text", lw_json_trunc(b.p, SLACK_HEADER_MAX)));
    lw_buf_reset(&b);

    if (resolved)
        lw_buf_puts(&b, ":white_check_mark: *Resolved* ");
    lw_buf_html_trunc(&b, lw_alert_summary(a), SLACK_TEXT_MAX - 40, false);
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(b.p)));
    lw_buf_reset(&b);

    fields = label_fields(a);
    if (json_array_size(fields) > 0)
        json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    else
        json_decref(fields);

    const char *starts = lw_alert_str(a, "starts_at"), *ends = lw_alert_str(a, "ends_at");
    lw_buf_printf(&b, "Started %s", *starts ? starts : "?");
    if (resolved && *ends)
        lw_buf_printf(&b, " · ended %s", ends);
    if (*lw_alert_str(a, "window"))
        lw_buf_printf(&b, " · window %s", lw_alert_str(a, "window"));
    lw_buf_printf(&b, " · fingerprint %s", lw_alert_str(a, "fingerprint"));
    struct lw_buf esc = {0};
    lw_buf_html_trunc(&esc, b.p, SLACK_TEXT_MAX, false);
    json_array_append_new(blocks,
                          json_pack("{s:s, s:[o]}", "type", "context", "elements", mrkdwn(esc.p)));
    lw_buf_free(&esc);
    lw_buf_free(&b);

    if (sl->dashboard_url && strlen(sl->dashboard_url) <= SLACK_URL_MAX)
        json_array_append_new(blocks, json_pack("{s:s, s:[{s:s, s:o, s:s}]}", "type", "actions",
                                                "elements", "type", "button", "text",
                                                plain("Dashboard"), "url", sl->dashboard_url));
    return blocks;
}

static int slack_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                        struct lw_sink_msgs *out, struct lw_err *err)
{
    const struct slack *sl = lw_hsink_priv(s);
    struct lw_hsink *h = s->ctx;
    json_t *msg = json_object(), *atts = json_array();
    struct lw_buf text = {0};
    size_t nblocks = 0, n = json_array_size(alerts), i;
    (void)json;
    (void)len;
    (void)err;

    for (i = 0; i < n; i++) {
        json_t *a = json_array_get(alerts, i);
        json_t *blocks = alert_blocks(sl, a);
        /* One block stays free for the note on what did not fit. */
        size_t room = SLACK_MAX_BLOCKS - nblocks - (i + 1 < n ? 1 : 0);
        if (json_array_size(blocks) > room) {
            json_decref(blocks);
            break;
        }
        nblocks += json_array_size(blocks);
        lw_buf_printf(&text, "%s[%s] %s: %s", i ? "\n" : "",
                      lw_alert_resolved(a) ? "RESOLVED" : "FIRING", lw_alert_str(a, "alert"),
                      lw_alert_summary(a));
        json_array_append_new(
            atts, json_pack("{s:s, s:o}", "color", lw_alert_color(a), "blocks", blocks));
    }
    if (i < n) {
        char note[80];
        snprintf(note, sizeof note, "... and %zu more alert%s not shown", n - i,
                 n - i == 1 ? "" : "s");
        json_array_append_new(atts,
                              json_pack("{s:s, s:[{s:s, s:[o]}]}", "color", "#9E9EA6", "blocks",
                                        "type", "context", "elements", mrkdwn(note)));
        lw_buf_printf(&text, "\n%s", note);
    }
    lw_buf_append(&text, "", 0);
    /* The top-level text is what notifications and old clients show. */
    struct lw_buf esc = {0};
    lw_buf_html_trunc(&esc, text.p, SLACK_TEXT_MAX, false);
    json_object_set_new(msg, "text", lw_json_str(esc.p));
    lw_buf_free(&esc);
    lw_buf_free(&text);
    if (sl->channel)
        json_object_set_new(msg, "channel", lw_json_str(sl->channel));
    if (sl->username)
        json_object_set_new(msg, "username", lw_json_str(sl->username));
    json_object_set_new(msg, "attachments", atts);

    size_t blen;
    char *body = lw_json_text(msg, &blen);
    lw_sink_msgs_add(out, h->url, body, blen);
    free(body);
    json_decref(msg);
    return 0;
}

static const struct lw_hsink_def slack_def = {
    .render = slack_render,
};

static int slack_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                      const struct lw_yaml_node *map, struct lw_diag *diag)
{
    return lw_hsink_init(s, &slack_def);
}

const struct lw_sink_ops lw_sink_slack_ops = {
    .type = "slack",
    .opts = slack_opts,
    .conf_size = sizeof(struct slack),
    .init = slack_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
