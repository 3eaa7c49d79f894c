/* webhook.c: the webhook sink: POSTs {"alerts":[...]} as JSON to a URL, with custom headers. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const webhook_keys[] = {"url", "headers", "timeout", NULL};

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

/* Header values may hold secrets (Authorization): they live only in the list, never in a log
 * line or an error message. */
static int add_headers(struct lw_sink *s, struct lw_hsink *h, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *map, struct lw_diag *diag)
{
    bool own_ctype = false;
    int rc = 0;

    if (map && map->type != LW_YAML_MAP) {
        lw_yaml_error(doc, map, diag, "sink '%s': headers must be a map of name: value", s->name);
        return LW_EINVAL;
    }
    for (size_t i = 0; map && i < map->n; i++) {
        const char *name = map->keys[i]->str, *raw;
        char *value = NULL;
        struct lw_err err = {0};
        if (!header_name_ok(name)) {
            lw_yaml_error(doc, map->keys[i], diag, "sink '%s': '%s' is not a valid header name",
                          s->name, name);
            rc = LW_EINVAL;
            continue;
        }
        if (lw_yaml_str(doc, map->items[i], &raw, diag) != 0) {
            rc = LW_EINVAL;
            continue;
        }
        if (lw_expand_env(raw, &value, &err) != 0) {
            lw_yaml_error(doc, map->items[i], diag, "sink '%s': %s: %s", s->name, name, err.msg);
            rc = LW_EINVAL;
            continue;
        }
        if (secret_header(name))
            lw_secret_add(value);
        if (strpbrk(value, "\r\n")) {
            lw_yaml_error(doc, map->items[i], diag,
                          "sink '%s': header %s: the value contains a line break", s->name, name);
            rc = LW_EINVAL;
        } else {
            if (strcasecmp(name, "Content-Type") == 0)
                own_ctype = true;
            struct lw_buf line = {0};
            /* "Name;" is curl's way to send a header with an empty value. */
            if (*value)
                lw_buf_printf(&line, "%s: %s", name, value);
            else
                lw_buf_printf(&line, "%s;", name);
            lw_hsink_header(h, line.p);
            memset(line.p, 0, line.len);
            lw_buf_free(&line);
        }
        lw_sink_free_secret(value);
    }
    if (!own_ctype)
        lw_hsink_header(h, "Content-Type: application/json");
    return rc;
}

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
    int rc = lw_hsink_init(s, &webhook_def, 0, doc, map, diag);
    if (add_headers(s, s->ctx, doc, lw_yaml_get(map, "headers"), diag) != 0)
        rc = LW_EINVAL;
    return rc;
}

const struct lw_sink_ops lw_sink_webhook_ops = {
    .type = "webhook",
    .keys = webhook_keys,
    .init = webhook_init,
    .deliver = lw_hsink_deliver,
    .free = lw_hsink_free,
    .render = lw_hsink_render,
};
