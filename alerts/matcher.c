/* matcher.c: label matchers for routes, silences and inhibition: parsing, matching, and the JSON
 * form silences are stored in. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "matcher.h"

#include <jansson.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Anchored at both ends like Alertmanager's regex matchers: the whole value must match. */
static pcre2_code *compile_anchored(const char *re, struct lw_err *err)
{
    int ec;
    PCRE2_SIZE eo;
    struct lw_buf b = {0};
    lw_buf_printf(&b, "^(?:%s)$", re);
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)b.p, b.len, 0, &ec, &eo, NULL);
    lw_buf_free(&b);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        lw_err_set(err, LW_EINVAL, "%s", (const char *)msg);
    }
    return c;
}

int lw_matcher_init(struct lw_matcher *m, const char *name, size_t name_len, enum lw_match_op op,
                    const char *value, struct lw_err *err)
{
    *m = (struct lw_matcher){0};
    if (op == LW_MATCH_RE || op == LW_MATCH_NRE) {
        m->re = compile_anchored(value, err);
        if (!m->re)
            return LW_EINVAL;
    }
    m->name = lw_strndup(name, name_len);
    m->value = lw_strdup(value);
    m->op = op;
    return 0;
}

int lw_matcher_parse(struct lw_matcher *m, const char *s, struct lw_err *err)
{
    static const struct {
        const char *text;
        enum lw_match_op op;
    } ops[] = {{"!~", LW_MATCH_NRE}, {"!=", LW_MATCH_NE}, {"=~", LW_MATCH_RE}, {"=", LW_MATCH_EQ}};
    const char *at = strpbrk(s, "=!");
    *m = (struct lw_matcher){0};
    if (at && at != s) {
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            size_t len = strlen(ops[i].text);
            if (strncmp(at, ops[i].text, len) != 0)
                continue;
            if (lw_matcher_init(m, s, (size_t)(at - s), ops[i].op, at + len, err) < 0)
                return lw_err_set(err, LW_EINVAL, "bad regex in matcher '%s'", s);
            return 0;
        }
    }
    return lw_err_set(err, LW_EINVAL,
                      "bad matcher '%s': use name=value, name!=value, name=~regex or name!~regex",
                      s);
}

int lw_matcher_parse_filter(struct lw_matcher *m, const char *s, struct lw_err *err)
{
    static const struct {
        const char *text;
        enum lw_match_op op;
    } ops[] = {{"!~", LW_MATCH_NRE}, {"!=", LW_MATCH_NE}, {"=~", LW_MATCH_RE}, {"=", LW_MATCH_EQ}};
    const char *p = s;
    *m = (struct lw_matcher){0};
    while (*p == ' ')
        p++;
    const char *name = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '_' || *p == '.' || *p == '-')
        p++;
    size_t nlen = (size_t)(p - name);
    while (*p == ' ')
        p++;
    size_t i = 0, olen = 0;
    for (; nlen && i < sizeof ops / sizeof ops[0]; i++)
        if (!strncmp(p, ops[i].text, olen = strlen(ops[i].text)))
            break;
    if (!nlen || i == sizeof ops / sizeof ops[0])
        return lw_err_set(err, LW_EINVAL,
                          "bad filter '%s': use name=\"value\", name!=\"value\", name=~\"regex\" "
                          "or name!~\"regex\"",
                          s);
    p += olen;
    while (*p == ' ')
        p++;
    struct lw_buf v = {0};
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                lw_buf_putc(&v, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
            } else {
                lw_buf_putc(&v, *p);
            }
        }
        if (*p != '"') {
            lw_buf_free(&v);
            return lw_err_set(err, LW_EINVAL, "bad filter '%s': unterminated quote", s);
        }
        p++;
        while (*p == ' ')
            p++;
        if (*p) {
            lw_buf_free(&v);
            return lw_err_set(err, LW_EINVAL, "bad filter '%s': text after the quoted value", s);
        }
    } else {
        lw_buf_puts(&v, p); /* unquoted, as Alertmanager's parser also takes */
    }
    lw_buf_putc(&v, '\0');
    int rc = lw_matcher_init(m, name, nlen, ops[i].op, v.p, err);
    lw_buf_free(&v);
    if (rc < 0) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        return lw_err_set(err, LW_EINVAL, "bad regex in filter '%.200s': %.200s", s, why);
    }
    return 0;
}

void lw_matcher_fini(struct lw_matcher *m)
{
    free(m->name);
    free(m->value);
    if (m->re)
        pcre2_code_free(m->re);
    *m = (struct lw_matcher){0};
}

void lw_matchers_free(struct lw_matcher *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        lw_matcher_fini(&m[i]);
    free(m);
}

bool lw_matcher_matches(const struct lw_matcher *m, const char *value)
{
    bool ok;
    if (!value)
        value = ""; /* a missing label matches the empty value, as in Alertmanager */
    if (m->re) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
        ok = pcre2_match(m->re, (PCRE2_SPTR)value, strlen(value), 0, 0, md, NULL) >= 0;
        pcre2_match_data_free(md);
    } else {
        ok = !strcmp(value, m->value);
    }
    return m->op == LW_MATCH_NE || m->op == LW_MATCH_NRE ? !ok : ok;
}

const char *lw_labels_get(const char *labels, const char *name)
{
    for (const char *p = labels; *p;) {
        const char *v = p + strlen(p) + 1;
        if (!strcmp(p, name))
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

bool lw_matchers_match(const struct lw_matcher *m, size_t n, const char *labels)
{
    for (size_t i = 0; i < n; i++)
        if (!lw_matcher_matches(&m[i], lw_labels_get(labels, m[i].name)))
            return false;
    return true;
}

int lw_matchers_from_json(const char *json, struct lw_matcher **out, size_t *n, struct lw_err *err)
{
    json_t *arr = json_loads(json, 0, NULL), *x;
    size_t i;
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return lw_err_set(err, LW_EINVAL, "matchers: expected a JSON array");
    }
    struct lw_matcher *m = lw_calloc(json_array_size(arr) + 1, sizeof *m);
    json_array_foreach(arr, i, x)
    {
        const char *name = json_string_value(json_object_get(x, "name"));
        const char *value = json_string_value(json_object_get(x, "value"));
        bool regex = json_is_true(json_object_get(x, "regex"));
        bool neg = json_is_true(json_object_get(x, "negative"));
        enum lw_match_op op =
            regex ? (neg ? LW_MATCH_NRE : LW_MATCH_RE) : (neg ? LW_MATCH_NE : LW_MATCH_EQ);
        if (!name || !value) {
            lw_err_set(err, LW_EINVAL, "matcher %zu: no name or value", i);
            goto out_free;
        }
        if (lw_matcher_init(&m[i], name, strlen(name), op, value, err) < 0)
            goto out_free;
    }
    *out = m;
    *n = json_array_size(arr);
    json_decref(arr);
    return 0;
out_free:
    lw_matchers_free(m, json_array_size(arr));
    json_decref(arr);
    return LW_EINVAL;
}

char *lw_matchers_to_json(const struct lw_matcher *m, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        bool regex = m[i].op == LW_MATCH_RE || m[i].op == LW_MATCH_NRE;
        bool neg = m[i].op == LW_MATCH_NE || m[i].op == LW_MATCH_NRE;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:b}", "name", m[i].name, "value",
                                             m[i].value, "regex", regex, "negative", neg));
    }
    char *out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return out;
}
