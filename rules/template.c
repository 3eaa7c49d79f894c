/* template.c: annotation templates: compiled once into literal and placeholder parts, rendered
 * per alert transition. */
#include "template.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum filter_kind { FL_PERCENT, FL_ROUND, FL_DURATION, FL_JSON, FL_UPPER };

static const struct {
    const char *name;
    enum filter_kind kind;
    bool has_arg;
} filters[] = {
    {"percent", FL_PERCENT, false}, {"round", FL_ROUND, true},  {"duration", FL_DURATION, false},
    {"json", FL_JSON, false},       {"upper", FL_UPPER, false},
};

struct filter {
    enum filter_kind kind;
    int arg; /* round: decimals 0..9 */
};

enum part_kind { PART_TEXT, PART_VALUE, PART_NAME };

struct part {
    enum part_kind kind;
    char *s; /* PART_TEXT: the literal; PART_NAME: the name; owned */
    size_t n;
    struct filter *filters; /* owned, applied left to right */
    size_t nfilters;
};

struct lw_tmpl {
    struct part *parts;
    size_t n, cap;
};

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static size_t skip_blanks(const char *s, size_t i, size_t end)
{
    while (i < end && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static struct part *add_part(struct lw_tmpl *t, enum part_kind kind)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->parts = lw_realloc(t->parts, t->cap * sizeof *t->parts);
    }
    struct part *p = &t->parts[t->n++];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    return p;
}

static void add_text(struct lw_tmpl *t, const char *s, size_t n)
{
    if (n == 0)
        return;
    struct part *p = add_part(t, PART_TEXT);
    p->s = lw_strndup(s, n);
    p->n = n;
}

/* Reports an error at byte offset `at` of src (columns are 1-based). */
static int fail(int *err_col, size_t at, struct lw_err *err, const char *fmt, ...) LW_PRINTF(4, 5);
static int fail(int *err_col, size_t at, struct lw_err *err, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    if (err_col)
        *err_col = (int)at + 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lw_err_set(err, LW_EINVAL, "%s", msg);
}

/* A name quoted in a message is cut at 64 bytes: the source line shows the rest. */
static int quote_len(size_t n)
{
    return n > 64 ? 64 : (int)n;
}

/*
 * Parses the placeholder src[open+2 .. close) into a part. The name may also be written the
 * Prometheus way, `$value` and `$labels.NAME`, since alert authors come from there.
 */
static int compile_placeholder(struct lw_tmpl *t, const char *src, size_t open, size_t close,
                               lw_tmpl_known_fn *known, void *known_payload, int *err_col,
                               struct lw_err *err)
{
    size_t i = skip_blanks(src, open + 2, close), at = i;
    if (i < close && src[i] == '$')
        i++;
    size_t name_at = i;
    if (i >= close || !is_name_start(src[i]))
        return fail(err_col, at, err, "expected a name after {{");
    /* A syslog structured-data field's name also takes '@' and '-' (sd.origin@32473.zone). */
    bool sd = close - i > 3 && !memcmp(src + i, "sd.", 3);
    while (i < close && (is_name_char(src[i]) || (sd && (src[i] == '@' || src[i] == '-'))))
        i++;
    const char *name = src + name_at;
    size_t name_n = i - name_at;
    if (name_at > at) {
        if (name_n == 5 && memcmp(name, "value", 5) == 0) {
            /* $value */
        } else if (name_n > 7 && memcmp(name, "labels.", 7) == 0) {
            name += 7;
            name_n -= 7;
        } else {
            return fail(err_col, at, err, "unknown name '$%.*s' (use $value or $labels.NAME)",
                        quote_len(name_n), name);
        }
    }
    bool is_value = name_n == 5 && memcmp(name, "value", 5) == 0;
    if (!is_value && known && !known(name, name_n, known_payload))
        return fail(err_col, at, err, "unknown name '%.*s' in template", quote_len(name_n), name);

    struct part *p = add_part(t, is_value ? PART_VALUE : PART_NAME);
    if (!is_value) {
        p->s = lw_strndup(name, name_n);
        p->n = name_n;
    }
    size_t cap = 0;
    i = skip_blanks(src, i, close);
    while (i < close && src[i] == '|') {
        i = skip_blanks(src, i + 1, close);
        size_t f_at = i;
        while (i < close && (is_name_start(src[i]) || (i > f_at && is_name_char(src[i]))))
            i++;
        if (i == f_at)
            return fail(err_col, f_at, err, "expected a filter name after '|'");
        size_t k, nk = sizeof filters / sizeof filters[0];
        for (k = 0; k < nk; k++)
            if (strlen(filters[k].name) == i - f_at &&
                memcmp(filters[k].name, src + f_at, i - f_at) == 0)
                break;
        if (k == nk)
            return fail(err_col, f_at, err,
                        "unknown filter '%.*s' (expected percent, round N, duration, json, upper)",
                        quote_len(i - f_at), src + f_at);
        struct filter fl = {filters[k].kind, 0};
        i = skip_blanks(src, i, close);
        size_t arg_at = i;
        while (i < close && src[i] != '|' && src[i] != ' ' && src[i] != '\t')
            i++;
        if (filters[k].has_arg) {
            if (i - arg_at != 1 || src[arg_at] < '0' || src[arg_at] > '9')
                return fail(err_col, i == arg_at ? f_at : arg_at, err,
                            "round needs a number of decimals from 0 to 9");
            fl.arg = src[arg_at] - '0';
        } else if (i > arg_at) {
            return fail(err_col, arg_at, err, "filter '%s' takes no argument", filters[k].name);
        }
        if (p->nfilters == cap) {
            cap = cap ? cap * 2 : 2;
            p->filters = lw_realloc(p->filters, cap * sizeof *p->filters);
        }
        p->filters[p->nfilters++] = fl;
        i = skip_blanks(src, i, close);
    }
    if (i < close)
        return fail(err_col, i, err, "unexpected '%c' in {{ }} (expected '|' or '}}')", src[i]);
    return 0;
}

int lw_tmpl_compile(struct lw_tmpl **out, const char *src, lw_tmpl_known_fn *known,
                    void *known_payload, int *err_col, struct lw_err *err)
{
    struct lw_tmpl *t = lw_calloc(1, sizeof *t);
    size_t len = strlen(src), i = 0;
    int rc;
    *out = NULL;
    while (i < len) {
        const char *o = strstr(src + i, "{{");
        if (!o) {
            add_text(t, src + i, len - i);
            break;
        }
        size_t open = (size_t)(o - src);
        add_text(t, src + i, open - i);
        const char *c = strstr(o + 2, "}}");
        if (!c) {
            rc = fail(err_col, open, err, "unterminated {{ (missing }})");
            goto out_free;
        }
        size_t close = (size_t)(c - src);
        rc = compile_placeholder(t, src, open, close, known, known_payload, err_col, err);
        if (rc != 0)
            goto out_free;
        i = close + 2;
    }
    *out = t;
    return 0;

out_free:
    lw_tmpl_free(t);
    return rc;
}

void lw_tmpl_free(struct lw_tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->parts[i].s);
        free(t->parts[i].filters);
    }
    free(t->parts);
    free(t);
}

/* A printed "-0", "-0.00" is just zero. */
static void drop_negative_zero(char *s)
{
    if (s[0] != '-')
        return;
    for (const char *p = s + 1; *p; p++)
        if (*p != '0' && *p != '.')
            return;
    memmove(s, s + 1, strlen(s));
}

static void trim_zeros(char *s)
{
    if (!strchr(s, '.'))
        return;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '0')
        s[--n] = 0;
    if (n > 0 && s[n - 1] == '.')
        s[--n] = 0;
}

void lw_fmt_number(double v, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
    } else if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        snprintf(out, size, "0");
    } else if (fabs(v) < 1e15 && v == trunc(v)) {
        snprintf(out, size, "%.0f", v);
    } else if (fabs(v) >= 1e-6 && fabs(v) < 1e15) {
        /* Six decimals, and six significant digits below 1: 1234.5678, 0.0534, 0.000123457. */
        int decimals = fabs(v) >= 1 ? 6 : 5 - (int)floor(log10(fabs(v)));
        snprintf(out, size, "%.*f", decimals, v);
        trim_zeros(out);
        drop_negative_zero(out);
    } else {
        snprintf(out, size, "%.6g", v);
    }
}

/* The text or number a placeholder has so far: filters turn numbers into text, and numeric
 * filters read text back as a number when it is one. */
struct cur {
    bool is_num;
    double v;
    struct lw_buf text, tmp;
};

static bool cur_number(const struct cur *c, double *v)
{
    if (c->is_num) {
        *v = c->v;
        return true;
    }
    size_t i = 0, n = c->text.len;
    const char *p = c->text.p;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return n > i && lw_parse_f64(p + i, n - i, v) == 0;
}

static void cur_set_text(struct cur *c, const char *s)
{
    c->is_num = false;
    lw_buf_reset(&c->text);
    lw_buf_puts(&c->text, s);
}

static void cur_to_text(struct cur *c)
{
    char num[64];
    if (c->is_num) {
        lw_fmt_number(c->v, num, sizeof num);
        cur_set_text(c, num);
    }
}

static void apply_filter(const struct filter *fl, struct cur *c)
{
    char num[64];
    double v;
    int w;
    switch (fl->kind) {
    case FL_PERCENT:
        if (!cur_number(c, &v) || !isfinite(v))
            return;
        w = snprintf(num, sizeof num, "%.1f", v * 100);
        if (w < 0 || (size_t)w + 2 > sizeof num)
            return; /* too large for fixed notation: leave it */
        if (w > 2 && strcmp(num + w - 2, ".0") == 0)
            num[w - 2] = 0;
        drop_negative_zero(num);
        strcat(num, "%");
        cur_set_text(c, num);
        return;
    case FL_ROUND:
        if (!cur_number(c, &v) || !isfinite(v))
            return;
        w = snprintf(num, sizeof num, "%.*f", fl->arg, v);
        if (w < 0 || (size_t)w >= sizeof num)
            return;
        drop_negative_zero(num);
        cur_set_text(c, num);
        return;
    case FL_DURATION: {
        /* Seconds; beyond ~292 years the nanoseconds would overflow: left as they are. */
        if (!cur_number(c, &v) || !(fabs(v) < 9.2e9))
            return;
        int64_t ns = llround(fabs(v) * 1e9);
        num[0] = v < 0 && ns > 0 ? '-' : 0;
        lw_fmt_duration(ns, num + (num[0] != 0), sizeof num - 1);
        cur_set_text(c, num);
        return;
    }
    case FL_JSON:
        cur_to_text(c);
        lw_buf_reset(&c->tmp);
        lw_buf_json_str(&c->tmp, c->text.p ? c->text.p : "", c->text.len);
        lw_buf_reset(&c->text);
        lw_buf_append(&c->text, c->tmp.p, c->tmp.len);
        return;
    case FL_UPPER:
        cur_to_text(c);
        for (size_t i = 0; i < c->text.len; i++)
            if (c->text.p[i] >= 'a' && c->text.p[i] <= 'z')
                c->text.p[i] = (char)(c->text.p[i] - 'a' + 'A');
        return;
    }
}

void lw_tmpl_render(const struct lw_tmpl *t, double value, lw_tmpl_lookup_fn *lookup, void *payload,
                    struct lw_buf *out)
{
    struct cur c = {0};
    lw_buf_append(out, "", 0);
    for (size_t i = 0; i < t->n; i++) {
        const struct part *p = &t->parts[i];
        if (p->kind == PART_TEXT) {
            lw_buf_append(out, p->s, p->n);
            continue;
        }
        lw_buf_reset(&c.text);
        c.is_num = p->kind == PART_VALUE;
        c.v = value;
        if (p->kind == PART_NAME) {
            /* A label the alert does not have renders as nothing, like Prometheus. */
            struct lw_str s = {0};
            if (lookup && lookup(p->s, p->n, &s, payload) == 0 && s.p)
                lw_buf_append(&c.text, s.p, s.n);
        }
        for (size_t k = 0; k < p->nfilters; k++)
            apply_filter(&p->filters[k], &c);
        cur_to_text(&c);
        lw_buf_append(out, c.text.p, c.text.len);
    }
    lw_buf_free(&c.text);
    lw_buf_free(&c.tmp);
}
