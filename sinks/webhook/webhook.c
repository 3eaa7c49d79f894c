/* webhook.c: the webhook sink: POSTs {"alerts":[...]} as JSON to a URL, with custom headers. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A header name is an HTTP token; values may not break the header block (CR, LF, NUL). */
static bool header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s))
            return false;
    return true;
}

/* Whether a header carries a credential (Authorization, X-Api-Key, X-Auth-Token ...): its value
 * is then redacted from every log line and stored error, even when a receiver echoes it. Other
 * values (Content-Type, X-Source) stay readable. */
static bool secret_header(const char *name)
{
    static const char *const words[] = {"auth", "token",  "key",       "secret",
                                        "pass", "cookie", "signature", NULL};
    for (const char *const *w = words; *w; w++)
        if (strcasestr(name, *w))
            return true;
    return false;
}

/* The sink's settings: the common HTTP block, then the header lines built from `headers`. */
struct webhook {
    struct lw_hsink_conf http;
    struct curl_slist *headers; /* "Name: value" each; values may hold secrets */
    bool own_ctype;             /* headers set Content-Type */
};

/* Reads `headers`. Header values may hold secrets (Authorization): they live only in the list,
 * never in a log line or an error message. */
static int parse_headers(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                         const struct lw_yaml_node *map, const struct lw_opt_ctx *c,
                         struct lw_diag *diag)
{
    struct webhook *w = (struct webhook *)((char *)field - offsetof(struct webhook, headers));
    int rc = 0;
    if (map->type != LW_YAML_MAP) {
        lw_yaml_error(doc, map, diag, "%s: headers must be a map of name: value", c->prefix);
        return LW_EINVAL;
    }
    for (size_t i = 0; i < map->n; i++) {
        const char *name = map->keys[i]->str, *raw;
        char *value = NULL;
        struct lw_err err = {0};
        if (!header_name_ok(name)) {
            lw_yaml_error(doc, map->keys[i], diag, "%s: '%s' is not a valid header name", c->prefix,
                          name);
            rc = LW_EINVAL;
            continue;
        }
        if (lw_yaml_str(doc, map->items[i], &raw, diag) != 0) {
            rc = LW_EINVAL;
            continue;
        }
        if (lw_expand_env(raw, &value, &err) != 0) {
            lw_yaml_error(doc, map->items[i], diag, "%s: %s: %s", c->prefix, name, err.msg);
            rc = LW_EINVAL;
            continue;
        }
        if (secret_header(name))
            lw_secret_add(value);
        if (strpbrk(value, "\r\n")) {
            lw_yaml_error(doc, map->items[i], diag,
                          "%s: header %s: the value contains a line break", c->prefix, name);
            rc = LW_EINVAL;
        } else {
            if (strcasecmp(name, "Content-Type") == 0)
                w->own_ctype = true;
            struct lw_buf line = {0};
            /* "Name;" is curl's way to send a header with an empty value. */
            if (*value)
                lw_buf_printf(&line, "%s: %s", name, value);
            else
                lw_buf_printf(&line, "%s;", name);
            w->headers = curl_slist_append(w->headers, line.p);
            if (!w->headers)
                lw_oom(0);
            memset(line.p, 0, line.len);
            lw_buf_free(&line);
        }
        lw_sink_free_secret(value);
    }
    return rc;
}

static void free_headers(const struct lw_opt *o, void *field)
{
    struct curl_slist **l = field;
    for (struct curl_slist *p = *l; p; p = p->next)
        memset(p->data, 0, strlen(p->data));
    curl_slist_free_all(*l);
    *l = NULL;
}

static const struct lw_opt webhook_opts[] = {
    LW_HSINK_OPTS(struct webhook, NULL, LW_OPT_REQUIRED, "where the alerts are POSTed"),
    {.key = "headers",
     .type = LW_OPT_MAP,
     .off = offsetof(struct webhook, headers),
     .parse = parse_headers,
     .free = free_headers,
     .help = "extra request headers, name: value (${ENV} expanded; credentials redacted)"},
    {.type = LW_OPT_END},
};

/* The body is the notification's own text inside {"alerts": ...}: values keep their text. */
static int webhook_render(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                          struct lw_sink_msgs *out, struct lw_err *err)
{
    struct lw_hsink *h = s->ctx;
    struct lw_buf body = {0};
    (void)alerts;
    (void)err;
    lw_buf_puts(&body, "{\"alerts\":");
    lw_buf_append(&body, json, len);
    lw_buf_putc(&body, '}');
    lw_sink_msgs_add(out, h->url, body.p, body.len);
    lw_buf_free(&body);
    return 0;
}

static const struct lw_hsink_def webhook_def = {
    .own_content_type = true,
    .render = webhook_render,
};

static int webhook_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct webhook *w = s->conf;
    int rc = lw_hsink_init(s, &webhook_def);
    for (const struct curl_slist *l = w->headers; l; l = l->next)
        lw_hsink_header(s->ctx, l->data);
    if (!w->own_ctype)
        lw_hsink_header(s->ctx, "Content-Type: application/json");
    return rc;
}

const struct lw_sink_ops lw_sink_webhook_ops = {
    .type = "webhook",
    .opts = webhook_opts,
    .conf_size = sizeof(struct webhook),
    .init = webhook_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
