/* telegram.c: the telegram sink: Bot API sendMessage in HTML parse mode, log text escaped, the
 * message cut to Telegram's 4096 characters at a line or character boundary. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>

#define TG_DEFAULT_URL "https://api.telegram.org"
#define TG_TEXT_MAX 4096 /* characters (UTF-16 code units) of a message */

struct telegram {
    struct lw_hsink_conf http;
    char *bot_token; /* secret */
    char *chat_id;   /* numeric id or @channelusername */
    char *endpoint;  /* {url}/bot{token}/sendMessage: a secret */
};

static const struct lw_opt tg_opts[] = {
    LW_HSINK_OPTS(struct telegram, TG_DEFAULT_URL, 0, "the Bot API's base URL"),
    {.key = "bot_token",
     .type = LW_OPT_SECRET,
     .off = offsetof(struct telegram, bot_token),
     .flags = LW_OPT_REQUIRED,
     .help = "the bot's token, from @BotFather"},
    {.key = "chat_id",
     .type = LW_OPT_STRING,
     .off = offsetof(struct telegram, chat_id),
     .flags = LW_OPT_REQUIRED,
     .help = "the chat: a numeric id or @channelusername"},
    {.type = LW_OPT_END},
};

/* The message being built: stops taking lines once one had to be cut. */
struct tg_text {
    struct lw_buf b;
    size_t rem; /* characters left, with room kept for the closing "…" */
    bool full;
};

static size_t units(const char *s)
{
    return lw_utf8_count(s, strlen(s), true);
}

/* Appends open + escaped text + close (tags are ours, ASCII); false once out of room. */
static bool tg_add(struct tg_text *t, const char *open, const char *text, const char *close)
{
    size_t fixed = strlen(open) + strlen(close);
    struct lw_buf esc = {0};
    if (t->full)
        return false;
    if (fixed + 1 >= t->rem) {
        t->full = true;
        return false;
    }
    size_t want = lw_buf_html_trunc(&esc, text, (size_t)-1, true);
    lw_buf_reset(&esc);
    size_t got = lw_buf_html_trunc(&esc, text, t->rem - fixed, true);
    lw_buf_puts(&t->b, open);
    lw_buf_append(&t->b, esc.p ? esc.p : "", esc.len);
    lw_buf_puts(&t->b, close);
    t->rem -= fixed + got;
    lw_buf_free(&esc);
    if (got < want)
        t->full = true;
    return !t->full;
}

static void tg_alert(struct tg_text *t, json_t *a)
{
    bool resolved = lw_alert_resolved(a);
    char value[64];
    const char *key;
    json_t *v;

    tg_add(t, resolved ? "\xE2\x9C\x85 <b>RESOLVED: " : "\xF0\x9F\x94\xA5 <b>FIRING: ",
           lw_alert_str(a, "alert"), "</b>\n");
    tg_add(t, "", lw_alert_summary(a), "\n");
    lw_alert_value(a, value, sizeof value);
    if (*value)
        tg_add(t, "<b>value</b>: ", value, "\n");
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        if (strcmp(key, "alert") == 0 || !json_is_string(v))
            continue;
        struct lw_buf open = {0};
        lw_buf_puts(&open, "<b>");
        lw_buf_html_trunc(&open, key, 100, true);
        lw_buf_puts(&open, "</b>: ");
        tg_add(t, open.p, json_string_value(v), "\n");
        lw_buf_free(&open);
    }
    tg_add(t, "<i>started ", lw_alert_str(a, "starts_at"), "</i>\n");
    if (resolved && *lw_alert_str(a, "ends_at"))
        tg_add(t, "<i>ended ", lw_alert_str(a, "ends_at"), "</i>\n");
}

static int tg_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                     struct lw_sink_msgs *out, struct lw_err *err)
{
    const struct telegram *tg = lw_hsink_priv(s);
    struct tg_text t = {.rem = TG_TEXT_MAX - 2};
    size_t i;
    json_t *a;

    json_array_foreach(alerts, i, a)
    {
        if (i > 0)
            tg_add(&t, "", "", "\n");
        tg_alert(&t, a);
        if (t.full)
            break;
    }
    if (t.full && units(t.b.p) + 2 <= TG_TEXT_MAX)
        lw_buf_puts(&t.b, "\n\xE2\x80\xA6");
    if (t.b.len == 0)
        lw_buf_puts(&t.b, "(no alerts)");

    json_t *msg = json_object();
    int64_t id;
    if (lw_parse_i64(tg->chat_id, strlen(tg->chat_id), &id) == 0)
        json_object_set_new(msg, "chat_id", json_integer(id));
    else
        json_object_set_new(msg, "chat_id", lw_json_str(tg->chat_id));
    json_object_set_new(msg, "text", lw_json_str(t.b.p));
    json_object_set_new(msg, "parse_mode", lw_json_str("HTML"));
    json_object_set_new(msg, "link_preview_options", json_pack("{s:b}", "is_disabled", 1));
    size_t blen;
    char *body = lw_json_text(msg, &blen);
    lw_sink_msgs_add(out, tg->endpoint, body, blen);
    free(body);
    json_decref(msg);
    lw_buf_free(&t.b);
    return 0;
}

/* The Bot API says how long to wait in the body: {"ok":false,"error_code":429,
 * "parameters":{"retry_after":N}}, not always in a Retry-After header. */
static int tg_classify(const struct lw_sink *s, const struct lw_http_resp *r,
                       int64_t *retry_after_ns, struct lw_err *err)
{
    int rc = lw_http_classify(s->name, r, retry_after_ns, err);
    if (rc == LW_EAGAIN && r->retry_after_s < 0 && retry_after_ns) {
        json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
        json_t *ra = json_object_get(json_object_get(o, "parameters"), "retry_after");
        if (json_is_integer(ra) && json_integer_value(ra) >= 0 &&
            json_integer_value(ra) <= LW_HTTP_RETRY_AFTER_MAX_S)
            *retry_after_ns = json_integer_value(ra) * LW_NS_PER_SEC;
        json_decref(o);
    }
    return rc;
}

static void tg_free_priv(void *priv)
{
    struct telegram *tg = priv;
    lw_sink_free_secret(tg->endpoint);
}

static const struct lw_hsink_def tg_def = {
    .render = tg_render,
    .classify = tg_classify,
    .free_priv = tg_free_priv,
};

static int tg_init(struct lw_sink *s, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                   struct lw_diag *diag)
{
    int rc = lw_hsink_init(s, &tg_def);
    struct lw_hsink *h = s->ctx;
    struct telegram *tg = h->priv;
    const char *token = tg->bot_token;

    if (!token) {
        rc = LW_EINVAL; /* reported by the table */
    } else if (strpbrk(token, "/?#% \t\r\n")) {
        /* Goes into the path: a token is digits, ':' and URL-safe base64. */
        lw_yaml_error(doc, lw_yaml_get(map, "bot_token"), diag,
                      "sink '%s': bot_token has characters a Telegram token cannot have", s->name);
        rc = LW_EINVAL;
    }
    if (rc == 0 && h->url && tg->chat_id) {
        struct lw_buf b = {0};
        size_t n = strlen(h->url);
        while (n > 0 && h->url[n - 1] == '/')
            n--;
        lw_buf_append(&b, h->url, n);
        lw_buf_printf(&b, "/bot%s/sendMessage", token);
        tg->endpoint = lw_buf_steal(&b);
    }
    return rc;
}

const struct lw_sink_ops lw_sink_telegram_ops = {
    .type = "telegram",
    .opts = tg_opts,
    .conf_size = sizeof(struct telegram),
    .init = tg_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
