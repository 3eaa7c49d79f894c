/* render.c: what the renderers share: reading alert objects (RULES.md's alert object) and
 * cutting text to a receiver's documented limits without breaking a UTF-8 character. */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int lw_sink_alerts_parse(const char *sink, const char *json, size_t len, json_t **out,
                         struct lw_err *err)
{
    json_error_t jerr;
    /* A malformed notification will never become valid: fail it rather than send junk. */
    json_t *root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    *out = NULL;
    if (!root)
        return lw_err_set(err, LW_EINVAL, "sink %s: notification is not valid JSON: %s", sink,
                          jerr.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return lw_err_set(err, LW_EINVAL, "sink %s: notification is not a JSON array", sink);
    }
    for (size_t i = 0; i < json_array_size(root); i++) {
        if (!json_is_object(json_array_get(root, i))) {
            json_decref(root);
            return lw_err_set(err, LW_EINVAL, "sink %s: notification item %zu is not an object",
                              sink, i);
        }
    }
    *out = root;
    return 0;
}

const char *lw_alert_str(json_t *a, const char *key)
{
    const char *s = json_string_value(json_object_get(a, key));
    return s ? s : "";
}

const char *lw_alert_label(json_t *a, const char *name)
{
    return json_string_value(json_object_get(json_object_get(a, "labels"), name));
}

bool lw_alert_resolved(json_t *a)
{
    return strcmp(lw_alert_str(a, "status"), "resolved") == 0;
}

enum lw_sev lw_alert_sev(json_t *a)
{
    static const struct {
        const char *name;
        enum lw_sev sev;
    } map[] = {
        {"critical", LW_SEV_CRITICAL}, {"high", LW_SEV_HIGH},      {"error", LW_SEV_HIGH},
        {"medium", LW_SEV_MEDIUM},     {"warning", LW_SEV_MEDIUM}, {"low", LW_SEV_LOW},
        {"info", LW_SEV_INFO},
    };
    const char *s = lw_alert_label(a, "severity");
    for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(s, map[i].name) == 0)
            return map[i].sev;
    return LW_SEV_UNKNOWN;
}

/* Slack's palette, shared by every coloured sink: red, yellow, blue by severity, green once
 * resolved, so an alert looks the same in Slack, Teams, Discord and mail. */
const char *lw_alert_color(json_t *a)
{
    if (lw_alert_resolved(a))
        return "#2EB67D";
    switch (lw_alert_sev(a)) {
    case LW_SEV_CRITICAL:
    case LW_SEV_HIGH:
        return "#E01E5A";
    case LW_SEV_LOW:
    case LW_SEV_INFO:
        return "#36C5F0";
    default:
        return "#ECB22E";
    }
}

const char *lw_alert_summary(json_t *a)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(a, "annotations"), "summary"));
    return s && *s ? s : lw_alert_str(a, "alert");
}

void lw_alert_value(json_t *a, char *out, size_t size)
{
    json_t *v = json_object_get(a, "value");
    if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "%.15g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(out, size, "%s", json_string_value(v));
    else
        snprintf(out, size, "%s", "");
}

void lw_alert_title(json_t *a, struct lw_buf *b)
{
    const char *key;
    json_t *v;
    lw_buf_puts(b, lw_alert_str(a, "alert"));
    json_object_foreach(json_object_get(a, "labels"), key, v)
    {
        if (!strcmp(key, "alert") || !strcmp(key, "severity") || !json_is_string(v))
            continue;
        lw_buf_printf(b, " %s=%s", key, json_string_value(v));
    }
    lw_buf_append(b, "", 0);
}

/* ---------------------------------------------------------------- limits */

/* Length of the UTF-8 sequence starting with byte c (1 for stray continuation bytes). */
static size_t seq_len(unsigned char c)
{
    if (c >= 0xF0)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC0)
        return 2;
    return 1;
}

size_t lw_utf8_prefix(const char *s, size_t len, size_t max, bool utf16)
{
    size_t i = 0, units = 0;
    while (i < len) {
        size_t k = seq_len((unsigned char)s[i]);
        size_t u = utf16 && k == 4 ? 2 : 1; /* outside the BMP: a surrogate pair */
        if (i + k > len || units + u > max)
            break;
        units += u;
        i += k;
    }
    return i;
}

size_t lw_utf8_count(const char *s, size_t len, bool utf16)
{
    size_t i = 0, units = 0;
    while (i < len) {
        size_t k = seq_len((unsigned char)s[i]);
        units += utf16 && k == 4 ? 2 : 1;
        i += k;
    }
    return units;
}

void lw_buf_trunc(struct lw_buf *b, const char *s, size_t max)
{
    size_t len = strlen(s);
    if (lw_utf8_prefix(s, len, max, false) == len) {
        lw_buf_append(b, s, len);
    } else if (max > 0) {
        lw_buf_append(b, s, lw_utf8_prefix(s, len, max - 1, false));
        lw_buf_puts(b, "\xE2\x80\xA6"); /* … */
    }
    lw_buf_append(b, "", 0);
}

size_t lw_buf_html_trunc(struct lw_buf *b, const char *s, size_t max, bool utf16)
{
    size_t len = strlen(s), used = 0, i = 0;
    struct lw_buf tmp = {0};
    bool cut = false;
    while (i < len) {
        const char *rep = s[i] == '&'   ? "&amp;"
                          : s[i] == '<' ? "&lt;"
                          : s[i] == '>' ? "&gt;"
                                        : NULL;
        size_t k = rep ? 1 : seq_len((unsigned char)s[i]);
        if (i + k > len)
            break; /* a truncated sequence at the very end */
        size_t units = rep ? strlen(rep) : lw_utf8_count(s + i, k, utf16);
        if (used + units > max) {
            cut = true;
            break;
        }
        if (rep)
            lw_buf_puts(&tmp, rep);
        else
            lw_buf_append(&tmp, s + i, k);
        used += units;
        i += k;
    }
    if (cut) {
        /* Room for the "…": drop whole characters or entities from the end. */
        while (used + 1 > max && tmp.len > 0) {
            size_t e = tmp.len;
            if (tmp.p[e - 1] == ';') {
                size_t a = e;
                while (a > 0 && tmp.p[a - 1] != '&')
                    a--;
                if (a > 0 && e - a <= 5) {
                    tmp.len = a - 1;
                    used -= e - (a - 1);
                    continue;
                }
            }
            size_t st = e - 1;
            while (st > 0 && ((unsigned char)tmp.p[st] & 0xC0) == 0x80)
                st--;
            used -= lw_utf8_count(tmp.p + st, e - st, utf16);
            tmp.len = st;
        }
        if (used + 1 <= max) {
            lw_buf_append(&tmp, "\xE2\x80\xA6", 3);
            used++;
        }
    }
    lw_buf_append(b, tmp.p ? tmp.p : "", tmp.len);
    lw_buf_append(b, "", 0);
    lw_buf_free(&tmp);
    return used;
}

json_t *lw_json_str(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (!j)
        j = json_string("");
    if (!j)
        lw_oom(0);
    return j;
}

json_t *lw_json_trunc(const char *s, size_t max)
{
    struct lw_buf b = {0};
    lw_buf_trunc(&b, s ? s : "", max);
    json_t *j = lw_json_str(b.p);
    lw_buf_free(&b);
    return j;
}

char *lw_json_text(const json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!s)
        lw_oom(0);
    if (len)
        *len = strlen(s);
    return s;
}
