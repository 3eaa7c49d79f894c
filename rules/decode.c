/* decode.c: JSON (jansson) and logfmt bodies into fields, decoded lazily once per record. */
#include "decode.h"
#include "lw_sd.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON_DEPTH 32

static int parse_logfmt(struct lw_doc *d, struct lw_str body)
{
    const char *p = body.p, *e = body.p + body.n;
    size_t used = 0;
    /* Unescaped values are never longer than the body: one allocation, stable pointers. */
    if (d->scap < body.n + 1) {
        free(d->scratch);
        d->scap = body.n + 1;
        d->scratch = lw_malloc(d->scap);
    }
    while (p < e) {
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= e)
            break;
        const char *k = p;
        while (p < e && *p != '=' && *p != ' ' && *p != '\t' && *p != '"')
            p++;
        if (p == k)
            return -1; /* a stray quote or '=' where a key should be */
        struct lw_kv kv = {{k, (size_t)(p - k)}, {"true", 4}}; /* a bare key is a flag */
        if (p < e && *p == '=') {
            p++;
            if (p < e && *p == '"') {
                char *out = d->scratch + used;
                size_t n = 0;
                p++;
                while (p < e && *p != '"') {
                    if (*p == '\\' && p + 1 < e) {
                        p++;
                        out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                    } else {
                        out[n++] = *p;
                    }
                    p++;
                }
                if (p >= e)
                    return -1; /* unterminated quote */
                p++;
                kv.v = (struct lw_str){out, n};
                used += n;
            } else {
                const char *v = p;
                while (p < e && *p != ' ' && *p != '\t')
                    p++;
                kv.v = (struct lw_str){v, (size_t)(p - v)};
            }
        }
        if (d->nkv == d->capkv) {
            d->capkv = d->capkv ? d->capkv * 2 : 16;
            d->kv = lw_realloc(d->kv, d->capkv * sizeof *d->kv);
        }
        d->kv[d->nkv++] = kv;
    }
    return d->nkv ? 0 : -1;
}

int lw_doc_parse(struct lw_doc *d, enum lw_body fmt, struct lw_str body)
{
    if (d->parsed)
        return d->ok ? 0 : -1;
    d->parsed = true;
    d->fmt = fmt;
    if (fmt == LW_BODY_JSON) {
        json_error_t jerr;
        /* Bodies are untrusted: a depth limit keeps a hostile line from costing much. */
        size_t depth = 0, i;
        for (i = 0; i < body.n; i++) {
            if (body.p[i] == '{' || body.p[i] == '[')
                depth++;
            if (depth > MAX_JSON_DEPTH * 4) {
                d->why = LW_UNDEC_JSON_TOO_DEEP;
                return -1;
            }
        }
        json_t *j = json_loadb(body.p, body.n, JSON_ALLOW_NUL, &jerr);
        if (!j || !json_is_object(j)) {
            d->why = j ? LW_UNDEC_JSON_NOT_OBJECT : LW_UNDEC_JSON_SYNTAX;
            json_decref(j);
            return -1;
        }
        d->json = j;
        d->ok = true;
        return 0;
    }
    if (fmt == LW_BODY_LOGFMT) {
        d->ok = parse_logfmt(d, body) == 0;
        d->why = LW_UNDEC_LOGFMT;
        return d->ok ? 0 : -1;
    }
    return -1;
}

/* A JSON string, quoted and escaped (the value may hold NUL: JSON_ALLOW_NUL). */
static void put_json_string(struct lw_buf *b, const char *s, size_t n)
{
    lw_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            lw_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            lw_buf_puts(b, "\\n");
        else if (c == '\t')
            lw_buf_puts(b, "\\t");
        else if (c == '\r')
            lw_buf_puts(b, "\\r");
        else if (c < 0x20)
            lw_buf_printf(b, "\\u%04x", c);
        else
            lw_buf_append(b, &s[i], 1);
    }
    lw_buf_append(b, "\"", 1);
}

/* A JSON value as compact text. Numbers are written as the shortest text that reads back the
 * same (0.1, not jansson's 0.10000000000000001), reals keeping a '.' or an exponent. Depth is
 * bounded by lw_doc_parse. */
static void put_json(struct lw_buf *b, json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        lw_buf_append(b, "{", 1);
        i = 0;
        json_object_foreach(v, k, x)
        {
            if (i++)
                lw_buf_append(b, ",", 1);
            put_json_string(b, k, strlen(k));
            lw_buf_append(b, ":", 1);
            put_json(b, x);
        }
        lw_buf_append(b, "}", 1);
        break;
    case JSON_ARRAY:
        lw_buf_append(b, "[", 1);
        json_array_foreach(v, i, x)
        {
            if (i)
                lw_buf_append(b, ",", 1);
            put_json(b, x);
        }
        lw_buf_append(b, "]", 1);
        break;
    case JSON_STRING:
        put_json_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lw_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        char num[40];
        double d = json_real_value(v), back = 0;
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, d);
            if (lw_parse_f64(num, strlen(num), &back) == 0 && back == d)
                break;
        }
        lw_buf_puts(b, num);
        if (!strpbrk(num, ".eEn"))
            lw_buf_puts(b, ".0");
        break;
    }
    case JSON_TRUE:
        lw_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        lw_buf_puts(b, "false");
        break;
    default:
        lw_buf_puts(b, "null");
        break;
    }
}

/* The JSON text of an array or object, kept in the doc until lw_doc_reset (values borrow it). */
static struct lw_str json_text(struct lw_doc *d, json_t *v)
{
    if (d->ntexts == d->captexts) {
        d->captexts = d->captexts ? d->captexts * 2 : 4;
        d->texts = lw_realloc(d->texts, d->captexts * sizeof *d->texts);
        memset(d->texts + d->ntexts, 0, (d->captexts - d->ntexts) * sizeof *d->texts);
    }
    struct lw_buf *b = &d->texts[d->ntexts++];
    lw_buf_reset(b);
    put_json(b, v);
    return (struct lw_str){b->p, b->len};
}

static void from_json(struct lw_doc *d, json_t *v, struct lw_value *out)
{
    out->kind = LW_V_NONE;
    out->s.p = NULL;
    out->s.n = 0;
    switch (json_typeof(v)) {
    case JSON_STRING:
        out->kind = LW_V_STR;
        out->s.p = json_string_value(v);
        out->s.n = json_string_length(v);
        break;
    case JSON_INTEGER:
        out->kind = LW_V_INT;
        out->i = json_integer_value(v);
        break;
    case JSON_REAL:
        out->kind = LW_V_FLOAT;
        out->f = json_real_value(v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = LW_V_BOOL;
        out->b = json_is_true(v);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        /* Its JSON text: a field, label or `=~` sees the whole value, not nothing. */
        out->kind = LW_V_STR;
        out->s = json_text(d, v);
        break;
    default:
        break;
    }
}

void lw_doc_get(struct lw_doc *d, const char *path, struct lw_value *out)
{
    out->kind = LW_V_NONE;
    if (!d->ok)
        return;
    if (d->fmt == LW_BODY_LOGFMT) {
        size_t n = strlen(path);
        for (size_t i = 0; i < d->nkv; i++)
            if (d->kv[i].k.n == n && memcmp(d->kv[i].k.p, path, n) == 0) {
                out->kind = LW_V_STR;
                out->s = d->kv[i].v;
                return;
            }
        return;
    }
    json_t *v = json_object_get(d->json, path); /* a key that has dots itself wins */
    if (!v && strchr(path, '.')) {
        char key[256];
        const char *p = path;
        v = d->json;
        while (v && *p) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            if (n >= sizeof key || !json_is_object(v))
                return;
            memcpy(key, p, n);
            key[n] = 0;
            v = json_object_get(v, key);
            p = dot ? dot + 1 : p + n;
        }
    }
    if (v)
        from_json(d, v, out);
}

bool lw_doc_sd(struct lw_doc *d, struct lw_str sd, const char *name, size_t n, struct lw_value *out)
{
    struct lw_str raw;
    bool escaped;
    if (!sd.n || !lw_sd_find(sd, name, n, &raw, &escaped))
        return false;
    if (escaped) {
        /* An unescaped value is never longer than its raw text: written at the raw text's
         * offset, values of one record never overlap, and stay put until the reset. */
        if (!d->sd_ready && d->sdcap < sd.n) {
            free(d->sdbuf);
            d->sdcap = sd.n;
            d->sdbuf = lw_malloc(d->sdcap);
        }
        d->sd_ready = true;
        char *o = d->sdbuf + (raw.p - sd.p);
        raw.n = lw_sd_unescape(raw, o);
        raw.p = o;
    }
    out->kind = LW_V_STR;
    out->s = raw;
    return true;
}

void lw_doc_reset(struct lw_doc *d)
{
    d->sd_ready = false;
    if (d->json)
        json_decref(d->json);
    d->json = NULL;
    d->nkv = 0;
    d->ntexts = 0; /* the buffers stay for the next record */
    d->parsed = d->ok = false;
}

void lw_doc_free(struct lw_doc *d)
{
    lw_doc_reset(d);
    for (size_t i = 0; i < d->captexts; i++)
        lw_buf_free(&d->texts[i]);
    free(d->texts);
    free(d->kv);
    free(d->scratch);
    free(d->sdbuf);
}
