/* lw.c: implementation of the shared base: errors, diagnostics, logging, memory, buffers, time. */
#include "lw.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Atomic int lw_log_level = LW_INFO;

void lw_invariant_failed(const char *cond, const char *file, int line)
{
    /* A broken invariant means the windows or the outbox are about to be corrupted: stop here,
     * where the cause is, with a core dump, rather than write a wrong state to disk. */
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, cond);
    fflush(stderr);
    abort();
}

const char *lw_strerror(int code)
{
    switch (code) {
    case LW_OK:
        return "success";
    case LW_EFAIL:
        return "failed";
    case LW_EINVAL:
        return "invalid argument";
    case LW_EIO:
        return "input/output error";
    case LW_ENOENT:
        return "not found";
    case LW_EAGAIN:
        return "try again later";
    case LW_EFULL:
        return "limit reached";
    case LW_ENOMEM:
        return "out of memory";
    }
    return "unknown error";
}

int lw_err_set(struct lw_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void lw_diag_vadd(struct lw_diag *d, const char *file, int line, int col, const char *fmt,
                  va_list ap)
{
    char msg[1024];
    struct lw_buf b = {0};
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (line > 0)
        lw_buf_printf(&b, "%s:%d:%d: %s", file ? file : "-", line, col > 0 ? col : 1, msg);
    else
        lw_buf_printf(&b, "%s: %s", file ? file : "-", msg);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->msgs = lw_realloc(d->msgs, d->cap * sizeof *d->msgs);
    }
    d->msgs[d->n++] = lw_buf_steal(&b);
}

void lw_diag_add(struct lw_diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_diag_vadd(d, file, line, col, fmt, ap);
    va_end(ap);
}

void lw_diag_print(const struct lw_diag *d, FILE *f)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(f, "%s\n", d->msgs[i]);
}

void lw_diag_free(struct lw_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->n = d->cap = 0;
}

/* ---------------------------------------------------------------- secrets */

/* The registered secrets, longest first (a secret that contains another is replaced whole).
 * They are only ever added: an old value may still sit in a message about to be written. */
static struct {
    pthread_mutex_t mu;
    char **v;
    size_t *len;
    size_t n;
    atomic_size_t count; /* n, read without the lock: no secret, no work */
} secrets = {.mu = PTHREAD_MUTEX_INITIALIZER};

void lw_secret_add(const char *s)
{
    size_t n = s ? strlen(s) : 0, i;
    if (n < LW_SECRET_MIN)
        return;
    pthread_mutex_lock(&secrets.mu);
    for (i = 0; i < secrets.n; i++)
        if (secrets.len[i] == n && !memcmp(secrets.v[i], s, n))
            goto out;
    secrets.v = lw_realloc(secrets.v, (secrets.n + 1) * sizeof *secrets.v);
    secrets.len = lw_realloc(secrets.len, (secrets.n + 1) * sizeof *secrets.len);
    for (i = secrets.n; i > 0 && secrets.len[i - 1] < n; i--) {
        secrets.v[i] = secrets.v[i - 1];
        secrets.len[i] = secrets.len[i - 1];
    }
    secrets.v[i] = lw_strndup(s, n);
    secrets.len[i] = n;
    atomic_store(&secrets.count, ++secrets.n);
out:
    pthread_mutex_unlock(&secrets.mu);
}

/* The secret (index) starting at p, or -1. */
static long secret_at(const char *p, size_t left)
{
    for (size_t i = 0; i < secrets.n; i++)
        if (secrets.len[i] <= left && !memcmp(p, secrets.v[i], secrets.len[i]))
            return (long)i;
    return -1;
}

/* Whether the last `left` bytes at p are the first bytes of a secret (a cut message). Only
 * from CUT_MIN bytes: a line ending in "http" is not the start of every secret URL. */
#define CUT_MIN 8
static bool secret_prefix(const char *p, size_t left)
{
    for (size_t i = 0; i < secrets.n; i++)
        if (left < secrets.len[i] && !memcmp(p, secrets.v[i], left))
            return true;
    return false;
}

bool lw_redact(const char *s, struct lw_buf *out)
{
    if (!atomic_load(&secrets.count))
        return false;
    size_t n = strlen(s), from = 0;
    bool hit = false;
    pthread_mutex_lock(&secrets.mu);
    for (size_t i = 0; i < n; i++) {
        long k = secret_at(s + i, n - i);
        bool cut = k < 0 && n - i >= CUT_MIN && secret_prefix(s + i, n - i);
        if (k < 0 && !cut)
            continue;
        if (!hit)
            lw_buf_reset(out);
        hit = true;
        lw_buf_append(out, s + from, i - from);
        lw_buf_puts(out, LW_REDACTED);
        from = cut ? n : i + secrets.len[k];
        i = from - 1;
    }
    pthread_mutex_unlock(&secrets.mu);
    if (hit)
        lw_buf_append(out, s + from, n - from);
    return hit;
}

void lw_redact_in(char *s, size_t size)
{
    struct lw_buf b = {0};
    if (!size || !lw_redact(s, &b))
        return;
    size_t n = b.len < size ? b.len : size - 1;
    memcpy(s, b.p, n);
    s[n] = 0;
    lw_buf_free(&b);
}

static const char *const level_names[] = {"error", "warn", "info", "debug", NULL};
_Atomic bool lw_log_level_pinned;
static _Atomic int log_format = LW_LOG_TEXT; /* never LW_LOG_AUTO: resolved when set */

void lw_log_pin_level(int level)
{
    atomic_store(&lw_log_level, level);
    atomic_store(&lw_log_level_pinned, true);
}

int lw_log_level_parse(const char *s, int *out)
{
    for (int l = 0; level_names[l]; l++)
        if (!strcmp(s, level_names[l])) {
            *out = l;
            return 0;
        }
    return -1;
}

void lw_log_set_format(enum lw_log_format f)
{
    if (f == LW_LOG_AUTO)
        f = isatty(2) ? LW_LOG_TEXT : LW_LOG_JSON;
    atomic_store(&log_format, f);
}

int lw_log_format_parse(const char *s, enum lw_log_format *out)
{
    if (!strcmp(s, "text") || !strcmp(s, "json")) {
        *out = s[0] == 't' ? LW_LOG_TEXT : LW_LOG_JSON;
        return 0;
    }
    return -1;
}

/* One JSON line: the message's leading "[input:NAME] " ("[sink:NAME] ", "[http] ") is also a
 * field of its own ("input": "NAME", "component": "http"), so that a collector can select the
 * lines of one input or sink without parsing the text; msg is the whole line as text has it.
 * Invalid UTF-8 in a message (a quoted log line) becomes U+FFFD: every line is valid JSON. */
static void json_line(struct lw_buf *b, const char *ts, const char *level, const char *msg)
{
    lw_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level);
    const char *end = msg[0] == '[' ? strstr(msg, "] ") : NULL;
    const char *colon = end ? memchr(msg, ':', (size_t)(end - msg)) : NULL;
    if (end && end - msg > 1 && end - msg < 200 && !memchr(msg + 1, ' ', (size_t)(end - msg - 1))) {
        lw_buf_putc(b, ',');
        if (colon) {
            lw_buf_json_str(b, msg + 1, (size_t)(colon - msg - 1));
            lw_buf_putc(b, ':');
            lw_buf_json_str(b, colon + 1, (size_t)(end - colon - 1));
        } else {
            lw_buf_puts(b, "\"component\":");
            lw_buf_json_str(b, msg + 1, (size_t)(end - msg - 1));
        }
    }
    lw_buf_puts(b, ",\"msg\":");
    lw_buf_json_str(b, msg, strlen(msg));
    lw_buf_puts(b, "}\n");
}

void lw_log_write(int level, const char *fmt, ...)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    char ts[40], msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lw_redact_in(msg, sizeof msg); /* whatever a message quotes, a secret never leaves */
    lw_fmt_rfc3339(lw_now_ns(), ts, sizeof ts);
    const char *name = level_names[level < 0 ? 0 : level > 3 ? 3 : level];
    if (atomic_load_explicit(&log_format, memory_order_relaxed) == LW_LOG_JSON) {
        struct lw_buf b = {0};
        json_line(&b, ts, name, msg);
        pthread_mutex_lock(&mu);
        fwrite(b.p, 1, b.len, stderr);
        pthread_mutex_unlock(&mu);
        lw_buf_free(&b);
        return;
    }
    pthread_mutex_lock(&mu);
    fprintf(stderr, "%s %s %s\n", ts, name, msg);
    pthread_mutex_unlock(&mu);
}

void lw_oom(size_t size)
{
    fprintf(stderr, "logwarden: out of memory allocating %zu bytes\n", size);
    abort();
}

void *lw_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        lw_oom(n);
    return p;
}

void *lw_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        lw_oom(n * size);
    return p;
}

void *lw_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        lw_oom(n);
    return q;
}

char *lw_strdup(const char *s)
{
    return lw_strndup(s, strlen(s));
}

char *lw_strndup(const char *s, size_t n)
{
    char *p = lw_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void lw_buf_reserve(struct lw_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->p = lw_realloc(b->p, cap);
    b->cap = cap;
}

void lw_buf_append(struct lw_buf *b, const void *p, size_t n)
{
    lw_buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void lw_buf_puts(struct lw_buf *b, const char *s)
{
    lw_buf_append(b, s, strlen(s));
}

void lw_buf_putc(struct lw_buf *b, char c)
{
    lw_buf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

void lw_buf_printf(struct lw_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        lw_buf_reserve(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        len = 2, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

void lw_buf_json_str(struct lw_buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)p;
    lw_buf_reserve(b, n + 2);
    lw_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i + 1;
            while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
                j++;
            lw_buf_append(b, s + i, j - i);
            i = j;
            continue;
        }
        switch (c) {
        case '"':
            lw_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            lw_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            lw_buf_append(b, "\\n", 2);
            break;
        case '\r':
            lw_buf_append(b, "\\r", 2);
            break;
        case '\t':
            lw_buf_append(b, "\\t", 2);
            break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                lw_buf_append(b, e, 6);
            } else {
                size_t len = utf8_seq(s + i, n - i);
                if (len == 0) {
                    lw_buf_append(b, "\xEF\xBF\xBD", 3);
                    len = 1;
                } else {
                    lw_buf_append(b, s + i, len);
                }
                i += len;
                continue;
            }
        }
        i++;
    }
    lw_buf_putc(b, '"');
}

void lw_buf_prom_label(struct lw_buf *b, const char *s)
{
    for (; *s; s++)
        if (*s == '\\' || *s == '"')
            lw_buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            lw_buf_puts(b, "\\n");
        else
            lw_buf_append(b, s, 1);
}

void lw_buf_reset(struct lw_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

void lw_buf_free(struct lw_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *lw_buf_steal(struct lw_buf *b)
{
    char *p = b->p ? b->p : lw_strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

int64_t lw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LW_NS_PER_SEC + ts.tv_nsec;
}

int64_t lw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * LW_NS_PER_SEC + ts.tv_nsec;
}

int64_t lw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: exact for the proleptic Gregorian calendar. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void lw_fmt_rfc3339(int64_t ns, char *out, size_t size)
{
    int64_t secs = ns >= 0 ? ns / LW_NS_PER_SEC : -((-ns + LW_NS_PER_SEC - 1) / LW_NS_PER_SEC);
    int64_t frac = ns - secs * LW_NS_PER_SEC;
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (frac / LW_NS_PER_MS)
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(frac / LW_NS_PER_MS));
    else
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int lw_parse_duration(const char *s, size_t n, int64_t *ns)
{
    size_t i = 0;
    int64_t total = 0;
    int any = 0;
    while (i < n && (s[i] == ' '))
        i++;
    while (i < n) {
        double v = 0, scale = 1;
        int digits = 0, dot = 0;
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot))) {
            if (s[i] == '.') {
                dot = 1;
            } else {
                if (dot)
                    scale /= 10, v += (s[i] - '0') * scale;
                else
                    v = v * 10 + (s[i] - '0');
                digits++;
            }
            i++;
        }
        if (!digits)
            return -1;
        int64_t unit;
        if (i + 1 < n + 0 && s[i] == 'm' && s[i + 1] == 's')
            unit = LW_NS_PER_MS, i += 2;
        else if (i + 1 < n && s[i] == 'u' && s[i + 1] == 's')
            unit = 1000, i += 2;
        else if (i + 1 < n && s[i] == 'n' && s[i + 1] == 's')
            unit = 1, i += 2;
        else if (i < n && s[i] == 's')
            unit = LW_NS_PER_SEC, i++;
        else if (i < n && s[i] == 'm')
            unit = 60 * LW_NS_PER_SEC, i++;
        else if (i < n && s[i] == 'h')
            unit = 3600 * LW_NS_PER_SEC, i++;
        else if (i < n && s[i] == 'd')
            unit = 86400 * LW_NS_PER_SEC, i++;
        else if (i < n && s[i] == 'w')
            unit = 7 * 86400 * LW_NS_PER_SEC, i++;
        else
            return -1;
        double add = v * (double)unit;
        if (add > 9.2e18 || total > INT64_MAX - (int64_t)add)
            return -1;
        total += (int64_t)llround(add);
        any = 1;
        while (i < n && s[i] == ' ')
            i++;
    }
    if (!any)
        return -1;
    *ns = total;
    return 0;
}

void lw_fmt_duration(int64_t ns, char *out, size_t size)
{
    static const struct {
        int64_t ns;
        const char *u;
    } units[] = {{86400 * LW_NS_PER_SEC, "d"},
                 {3600 * LW_NS_PER_SEC, "h"},
                 {60 * LW_NS_PER_SEC, "m"},
                 {LW_NS_PER_SEC, "s"},
                 {LW_NS_PER_MS, "ms"},
                 {1000, "us"},
                 {1, "ns"}};
    size_t off = 0;
    if (ns <= 0) {
        snprintf(out, size, "0s");
        return;
    }
    out[0] = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0] && ns > 0; i++) {
        if (ns >= units[i].ns) {
            int w = snprintf(out + off, off < size ? size - off : 0, "%lld%s",
                             (long long)(ns / units[i].ns), units[i].u);
            if (w > 0)
                off += (size_t)w;
            ns %= units[i].ns;
        }
    }
}

int lw_expand_env(const char *s, char **out, struct lw_err *err)
{
    struct lw_buf b = {0};
    const char *p = s;
    lw_buf_append(&b, "", 0);
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            lw_buf_puts(&b, p);
            break;
        }
        lw_buf_append(&b, p, (size_t)(d - p));
        const char *e = strchr(d + 2, '}');
        if (!e) {
            lw_buf_free(&b);
            return lw_err_set(err, LW_EINVAL, "unterminated ${ in value");
        }
        char name[256];
        size_t nl = (size_t)(e - d - 2);
        if (nl == 0 || nl >= sizeof name) {
            lw_buf_free(&b);
            return lw_err_set(err, LW_EINVAL, "bad environment variable name in ${...}");
        }
        memcpy(name, d + 2, nl);
        name[nl] = 0;
        const char *v = getenv(name);
        if (!v) {
            lw_buf_free(&b);
            return lw_err_set(err, LW_EINVAL, "environment variable %s is not set", name);
        }
        lw_buf_puts(&b, v);
        lw_secret_add(v); /* a value from the environment is kept out of every message */
        p = e + 1;
    }
    *out = lw_buf_steal(&b);
    return 0;
}

int lw_parse_i64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    if (i == n)
        return -1;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int lw_parse_f64(const char *p, size_t n, double *out)
{
    /* strtod is locale-dependent; the decimal point is always '.' here. Simple cases
     * (digits, one dot, optional exponent) are parsed directly, exactly enough for
     * log values; anything else is refused. */
    size_t i = 0;
    int neg = 0, digits = 0;
    double v = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    while (i < n && p[i] >= '0' && p[i] <= '9')
        v = v * 10 + (p[i++] - '0'), digits++;
    if (i < n && p[i] == '.') {
        double scale = 1;
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            scale /= 10, v += (p[i++] - '0') * scale, digits++;
    }
    if (!digits)
        return -1;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        int eneg = 0, e = 0, ed = 0;
        i++;
        if (i < n && (p[i] == '-' || p[i] == '+'))
            eneg = p[i++] == '-';
        while (i < n && p[i] >= '0' && p[i] <= '9' && e < 10000)
            e = e * 10 + (p[i++] - '0'), ed++;
        if (!ed)
            return -1;
        v *= pow(10, eneg ? -e : e);
    }
    if (i != n)
        return -1;
    *out = neg ? -v : v;
    return 0;
}
