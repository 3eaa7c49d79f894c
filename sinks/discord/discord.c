/* discord.c: the discord sink: a webhook message with one embed per alert, coloured by severity,
 * within Discord's embed limits (discord.com/developers/docs/resources/message#embed-limits). */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>

#define DISCORD_MAX_EMBEDS 10
#define DISCORD_TITLE_MAX 256
#define DISCORD_DESC_MAX 4096
#define DISCORD_FIELDS_MAX 25
#define DISCORD_FIELD_NAME_MAX 256
#define DISCORD_FIELD_VALUE_MAX 1024
#define DISCORD_FOOTER_MAX 2048
#define DISCORD_TOTAL_MAX 6000 /* title, description, fields, footer of all embeds together */
#define DISCORD_CONTENT_MAX 2000

/* The sink's settings: the common HTTP block only. */
struct discord {
    struct lw_hsink_conf http;
};

static const struct lw_opt discord_opts[] = {
    LW_HSINK_OPTS(struct discord, NULL, LW_OPT_REQUIRED, "the channel webhook's URL"),
    {.type = LW_OPT_END},
};

static size_t chars(const char *s)
{
    return lw_utf8_count(s, strlen(s), false);
}

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Adds a string member cut to max characters; returns the characters it took. */
static size_t put(json_t *o, const char *key, const char *s, size_t max)
{
    json_t *j = lw_json_trunc(s, max);
    size_t n = chars(json_string_value(j));
    json_object_set_new(o, key, j);
    return n;
}

/* One embed within budget characters (of the message's 6000). */
static json_t *embed(json_t *a, size_t budget)
{
    json_t *e = json_object(), *fields = json_array(), *v;
    struct lw_buf b = {0};
    const char *key;
    char value[64];
    size_t rem = budget;
    bool resolved = lw_alert_resolved(a);

    lw_buf_printf(&b, "[%s] %s", resolved ? "RESOLVED" : "FIRING", lw_alert_str(a, "alert"));
    rem -= put(e, "title", b.p, min_sz(DISCORD_TITLE_MAX, rem / 4));
    lw_buf_reset(&b);
    lw_buf_printf(&b, "logwarden · %s", lw_alert_str(a, "fingerprint"));
    json_t *footer = json_object();
    rem -= put(footer, "text", b.p, min_sz(DISCORD_FOOTER_MAX, rem / 4));
    json_object_set_new(e, "footer", footer);
    rem -= put(e, "description", lw_alert_summary(a), min_sz(DISCORD_DESC_MAX, rem / 2));
    json_object_set_new(e, "color", json_integer(strtol(lw_alert_color(a) + 1, NULL, 16)));
    const char *ts = lw_alert_str(a, resolved ? "ends_at" : "starts_at");
    if (*ts)
        json_object_set_new(e, "timestamp", lw_json_str(ts));

    /* Fields while they fit: value first, then the labels. */
    lw_alert_value(a, value, sizeof value);
    const char *names[DISCORD_FIELDS_MAX], *values[DISCORD_FIELDS_MAX];
    size_t nf = 0;
    if (*value) {
        names[nf] = "value";
        values[nf++] = value;
    }
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        if (nf < DISCORD_FIELDS_MAX && strcmp(key, "alert") != 0 && json_is_string(v)) {
            names[nf] = key;
            values[nf++] = json_string_value(v);
        }
    }
    for (size_t i = 0; i < nf; i++) {
        size_t need = min_sz(chars(names[i]), DISCORD_FIELD_NAME_MAX) + 1;
        if (need + 1 > rem)
            break;
        json_t *f = json_object();
        rem -= put(f, "name", names[i], DISCORD_FIELD_NAME_MAX);
        rem -= put(f, "value", *values[i] ? values[i] : "-", min_sz(DISCORD_FIELD_VALUE_MAX, rem));
        json_object_set_new(f, "inline", json_true());
        json_array_append_new(fields, f);
    }
    json_object_set_new(e, "fields", fields);
    lw_buf_free(&b);
    return e;
}

static int discord_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                          struct lw_sink_msgs *out, struct lw_err *err)
{
    struct lw_hsink *h = s->ctx;
    size_t n = json_array_size(alerts), k = min_sz(n, DISCORD_MAX_EMBEDS);
    json_t *embeds = json_array();
    struct lw_buf content = {0};

    for (size_t i = 0; i < k; i++)
        json_array_append_new(embeds, embed(json_array_get(alerts, i), DISCORD_TOTAL_MAX / k));
    if (n > k)
        lw_buf_printf(&content, "... and %zu more alerts not shown", n - k);
    else if (n == 0)
        lw_buf_puts(&content, "(no alerts)");
    /* Text from logs must never ping @everyone or a role. */
    json_t *msg = json_pack("{s:o, s:{s:[]}}", "embeds", embeds, "allowed_mentions", "parse");
    if (content.len)
        json_object_set_new(msg, "content", lw_json_trunc(content.p, DISCORD_CONTENT_MAX));
    size_t blen;
    char *body = lw_json_text(msg, &blen);
    lw_sink_msgs_add(out, h->url, body, blen);
    free(body);
    json_decref(msg);
    lw_buf_free(&content);
    return 0;
}

static const struct lw_hsink_def discord_def = {
    .render = discord_render,
};

static int discord_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *map, struct lw_diag *diag)
{
    return lw_hsink_init(s, &discord_def);
}

const struct lw_sink_ops lw_sink_discord_ops = {
    .type = "discord",
    .opts = discord_opts,
    .conf_size = sizeof(struct discord),
    .init = discord_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
