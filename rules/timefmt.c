/* timefmt.c: event timestamp parsers: rfc3339, unix, unix_ms, syslog and strptime formats. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strptime_l, newlocale, tm_gmtoff */
#endif
#include "timefmt.h"
#include "lw_time.h"
#include "lw_tz.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_S INT64_C(86400)
/* strptime needs a NUL-terminated copy; a timestamp field longer than this is not a timestamp. */
#define MAX_INPUT 256
/* Seconds beyond this overflow int64 nanoseconds (the representable years are 1678..2262). */
#define MAX_SECS (INT64_MAX / LW_NS_PER_SEC - 1)

/*
 * strptime formats keep three strings and a flag byte in one allocation, so that f->fmt stays
 * the user's spec (for messages) and struct lw_tsfmt, which others code against, need not grow:
 *
 *   f->fmt:  spec \0 flags full \0 prefix \0
 *
 * full is the format handed to strptime (spec without %f); prefix is the part before the
 * fraction, used to find where the fraction starts in the input (see parse_strptime()).
 */
enum {
    F_YEAR = 1,      /* the format carries a year: no inference */
    F_DATE = 2,      /* the format carries month and day (else: today's UTC date) */
    F_FRAC_AUTO = 4, /* optional ".ddd" or ",ddd" after %S or %T */
    F_FRAC_F = 8,    /* %f: digits required where %f stands */
    F_ZONE = 16,     /* %z or %s: the input says its zone; the input's timezone is not used */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Seconds to ns; -1 when out of the int64 range. */
static int to_ns(int64_t secs, int64_t frac_ns, int64_t *out)
{
    if (secs > MAX_SECS || secs < -MAX_SECS)
        return -1;
    *out = secs * LW_NS_PER_SEC + frac_ns;
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* One or more digits at s[*i] as a fraction scaled to `scale` units (1e9 for ns); digits past
 * the resolution are accepted and dropped. */
static bool frac_digits(const char *s, size_t n, size_t *i, int64_t scale, int64_t *out)
{
    size_t j = *i;
    int64_t v = 0;
    while (j < n && lw_is_digit(s[j])) {
        if (scale > 1) {
            scale /= 10;
            v += (s[j] - '0') * scale;
        }
        j++;
    }
    if (j == *i)
        return false;
    *i = j;
    *out = v;
    return true;
}

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && is_space(s[i]))
        i++;
    return i;
}

/* rfc3339 with the ISO 8601 relaxations (lw_time.h), then only spaces. A missing zone is UTC:
 * many JSON loggers drop it, and refusing those lines would lose their events. */
static int parse_rfc3339(const char *s, size_t n, int64_t *out)
{
    struct lw_rfc3339 t;
    size_t i = lw_rfc3339_scan(s, n, LW_RFC3339_RELAXED, &t);
    if (i == 0 || skip_spaces(s, n, i) != n)
        return -1;
    return to_ns(t.secs, t.frac_ns, out);
}

/* Integer part with an optional fraction, in units of `scale` ns (1e9 for unix, 1e6 for
 * unix_ms). Parsed exactly, not through a double: 1710053746.123 must not become ...122999. */
static int parse_epoch(const char *s, size_t n, int64_t scale, int64_t *out)
{
    size_t i = skip_spaces(s, n, 0), end = n;
    int neg = 0;
    int64_t v = 0, frac = 0;
    while (end > i && is_space(s[end - 1]))
        end--;
    size_t sign_at = i;
    if (i < end && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    size_t start = i;
    while (i < end && lw_is_digit(s[i])) {
        if (v > (INT64_MAX / LW_NS_PER_SEC) * (LW_NS_PER_SEC / scale))
            return -1;
        v = v * 10 + (s[i++] - '0');
    }
    size_t nd = i - start;
    if (i < end && s[i] == '.') {
        i++;
        if (i < end && lw_is_digit(s[i]))
            frac_digits(s, end, &i, scale, &frac);
        else if (nd == 0)
            return -1;
    } else if (nd == 0) {
        return -1;
    }
    if (i < end && (s[i] == 'e' || s[i] == 'E')) {
        /* Exponent notation from JSON encoders ("1.710053746e9"): approximate is the best a
         * double ever held anyway. */
        double d;
        if (lw_parse_f64(s + sign_at, end - sign_at, &d) != 0)
            return -1;
        d *= (double)scale;
        if (!(d > -9.2e18 && d < 9.2e18))
            return -1;
        *out = (int64_t)d;
        return 0;
    }
    if (i != end)
        return -1;
    int64_t unit_per_s = LW_NS_PER_SEC / scale;
    if (v / unit_per_s > MAX_SECS)
        return -1;
    int64_t ns = v * scale + frac;
    *out = neg ? -ns : ns;
    return 0;
}

/* Local seconds of zone tz (NULL: UTC) to UTC seconds; *exact is cleared when the answer
 * depended on now (a repeated hour) or the time fell in a gap, so that it is not cached. */
static int64_t zone_to_utc(const struct lw_tz *tz, int64_t local, int64_t now_ns, bool *exact)
{
    int64_t t;
    if (!tz)
        return local;
    if (lw_tz_to_utc(tz, local, floor_div(now_ns, LW_NS_PER_SEC), &t) != LW_TZ_EXACT)
        *exact = false;
    return t;
}

/* ---- syslog ---- */

static int month_from_abbr(const char *s)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char a[3];
    for (int i = 0; i < 3; i++)
        a[i] = (char)(s[i] | 0x20); /* ASCII lower case; non-letters never match */
    for (int m = 0; m < 12; m++)
        if (memcmp(names + 3 * m, a, 3) == 0)
            return m + 1;
    return 0;
}

/* After "hh:mm:ss": an optional fraction, then only spaces. */
static bool syslog_tail(const char *s, size_t n, size_t i, int64_t *frac)
{
    *frac = 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        if (!frac_digits(s, n, &i, LW_NS_PER_SEC, frac))
            return false;
    }
    return skip_spaces(s, n, i) == n;
}

static int parse_syslog(struct lw_tsfmt *f, const char *s, size_t n, int64_t now_ns,
                        const struct lw_tz *tz, int64_t *out)
{
    int64_t now_day = floor_div(now_ns, LW_NS_PER_SEC * DAY_S), frac, secs;
    if (f->cache_len && n >= f->cache_len && f->cache_now_day == now_day && f->cache_tz == tz &&
        memcmp(s, f->cache_key, f->cache_len) == 0 && syslog_tail(s, n, f->cache_len, &frac)) {
        *out = f->cache_ns + frac;
        return 0;
    }
    size_t i = 0;
    unsigned d = 0, h, mi, sec;
    if (n < 3)
        return -1;
    int mon = month_from_abbr(s);
    if (!mon)
        return -1;
    i = 3;
    /* "Jul  4" (RFC 3164 pads the day with a space) and "Jul 4" / "Jul 04" are all seen. */
    if (i >= n || !is_space(s[i]))
        return -1;
    i = skip_spaces(s, n, i);
    if (!lw_digits(s, n, &i, 1, &d))
        return -1;
    if (i < n && lw_is_digit(s[i])) {
        d = d * 10 + (unsigned)(s[i] - '0');
        i++;
    }
    if (i >= n || !is_space(s[i]))
        return -1;
    i = skip_spaces(s, n, i);
    if (!lw_digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || !lw_digits(s, n, &i, 2, &mi) ||
        i >= n || s[i++] != ':' || !lw_digits(s, n, &i, 2, &sec))
        return -1;
    if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    size_t key_len = i;
    if (!syslog_tail(s, n, i, &frac))
        return -1;
    bool stable;
    if (lw_syslog_year((unsigned)mon, d, h * 3600 + mi * 60 + sec, tz, now_ns, &secs, &stable) != 0)
        return -1;
    if (to_ns(secs, 0, &secs) != 0)
        return -1;
    f->cache_len = 0;
    if (stable && key_len < sizeof f->cache_key) {
        memcpy(f->cache_key, s, key_len);
        f->cache_len = key_len;
        f->cache_ns = secs;
        f->cache_now_day = now_day;
        f->cache_tz = tz;
    }
    *out = secs + frac;
    return 0;
}

/* ---- strptime ---- */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Month names must be English whatever setlocale() the process made: use the C locale. */
static char *strptime_c(const char *s, const char *fmt, struct tm *tm)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strptime_l(s, fmt, tm, c_locale);
    return strptime(s, fmt, tm);
}

static unsigned char tsfmt_flags(const struct lw_tsfmt *f)
{
    return (unsigned char)f->fmt[strlen(f->fmt) + 1];
}

static const char *tsfmt_full(const struct lw_tsfmt *f)
{
    return f->fmt + strlen(f->fmt) + 2;
}

static const char *tsfmt_prefix(const struct lw_tsfmt *f)
{
    const char *full = tsfmt_full(f);
    return full + strlen(full) + 1;
}

/* The fraction at s[*i] for the format's mode: %f needs digits; after %S it is optional and
 * starts with '.' or ','. */
static bool scan_frac(unsigned char flags, const char *s, size_t n, size_t *i, int64_t *frac)
{
    *frac = 0;
    if (flags & F_FRAC_F)
        return frac_digits(s, n, i, LW_NS_PER_SEC, frac);
    if ((flags & F_FRAC_AUTO) && *i + 1 < n && (s[*i] == '.' || s[*i] == ',') &&
        lw_is_digit(s[*i + 1])) {
        size_t j = *i + 1;
        frac_digits(s, n, &j, LW_NS_PER_SEC, frac);
        *i = j;
    }
    return true;
}

/* Splits the spec into the strptime format and the fraction prefix, and finds which fields
 * it carries. Returns 0 or LW_EINVAL. */
static int compile_strptime(struct lw_tsfmt *f, const char *spec, struct lw_err *err)
{
    size_t len = strlen(spec), split = (size_t)-1, auto_split = (size_t)-1;
    size_t f_at = (size_t)-1, f_end = 0;
    unsigned char flags = 0;
    if (len > 200)
        return lw_err_set(err, LW_EINVAL, "timestamp format is too long (%zu bytes)", len);
    for (size_t i = 0; i < len; i++) {
        if (spec[i] != '%')
            continue;
        size_t at = i++;
        while (i < len && strchr("_-0^#EO", spec[i]))
            i++;
        if (i >= len)
            return lw_err_set(err, LW_EINVAL, "timestamp format '%s' ends with a lone %%", spec);
        switch (spec[i]) {
        case 'f':
            if (f_at != (size_t)-1)
                return lw_err_set(err, LW_EINVAL, "timestamp format '%s' has more than one %%f",
                                  spec);
            f_at = at;
            f_end = i + 1;
            break;
        case 'S':
        case 'T':
            if (auto_split == (size_t)-1)
                auto_split = i + 1;
            break;
        case 'Y':
        case 'y':
        case 'G':
        case 'g':
            flags |= F_YEAR;
            break;
        case 'z':
            flags |= F_ZONE;
            break;
        case 's':
            flags |= F_YEAR | F_DATE | F_ZONE;
            break;
        case 'F':
        case 'D':
        case 'c':
        case 'x':
            flags |= F_YEAR | F_DATE;
            break;
        case 'm':
        case 'b':
        case 'B':
        case 'h':
        case 'd':
        case 'e':
        case 'j':
            flags |= F_DATE;
            break;
        default:
            break;
        }
    }
    if (f_at != (size_t)-1) {
        flags |= F_FRAC_F;
        split = f_at;
    } else if (auto_split != (size_t)-1) {
        flags |= F_FRAC_AUTO;
        split = auto_split;
    }
    /* spec \0 flags full \0 prefix \0 (see the top of the file). */
    struct lw_buf b = {0};
    lw_buf_append(&b, spec, len + 1);
    lw_buf_putc(&b, (char)flags);
    if (flags & F_FRAC_F) {
        lw_buf_append(&b, spec, f_at);
        lw_buf_append(&b, spec + f_end, len - f_end + 1);
    } else {
        lw_buf_append(&b, spec, len + 1);
    }
    lw_buf_append(&b, spec, split == (size_t)-1 ? 0 : split);
    lw_buf_putc(&b, 0);
    f->fmt = lw_buf_steal(&b);
    return 0;
}

static int parse_strptime(struct lw_tsfmt *f, const char *s, size_t n, int64_t now_ns,
                          const struct lw_tz *tz, int64_t *out)
{
    unsigned char flags = tsfmt_flags(f);
    bool infer = !(flags & F_YEAR);
    int64_t now_day = floor_div(now_ns, LW_NS_PER_SEC * DAY_S), frac = 0, secs;
    char buf[MAX_INPUT];
    struct tm tm;
    size_t fpos, j;

    /* The cache key is the input with its fraction cut out, as "before \0 after". */
    if (flags & F_ZONE)
        tz = NULL; /* the input's own zone wins */
    if (f->cache_len && (!infer || f->cache_now_day == now_day) && f->cache_tz == tz) {
        size_t kl = strnlen(f->cache_key, f->cache_len);
        j = kl;
        if (n >= kl && memcmp(s, f->cache_key, kl) == 0 && scan_frac(flags, s, n, &j, &frac) &&
            n - j == f->cache_len - kl - 1 && memcmp(s + j, f->cache_key + kl + 1, n - j) == 0) {
            *out = f->cache_ns + frac;
            return 0;
        }
    }
    if (n >= sizeof buf || memchr(s, 0, n))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;

    /* strptime has no fraction directive: find where the fraction starts by matching the part
     * of the format before it, then cut it out and match the whole format. Two passes rather
     * than resuming, because strptime keeps per-call state (%I with a later %p). */
    fpos = j = n;
    if (flags & (F_FRAC_F | F_FRAC_AUTO)) {
        memset(&tm, 0, sizeof tm);
        const char *p = strptime_c(buf, tsfmt_prefix(f), &tm);
        if (!p)
            return -1;
        fpos = j = (size_t)(p - buf);
        if (!scan_frac(flags, buf, n, &j, &frac))
            return -1;
        memmove(buf + fpos, buf + j, n - j + 1);
    }
    memset(&tm, 0, sizeof tm);
    tm.tm_mday = 1;
    const char *end = strptime_c(buf, tsfmt_full(f), &tm);
    if (!end)
        return -1;
    while (is_space(*end))
        end++;
    if (*end)
        return -1;

    int64_t y = (int64_t)tm.tm_year + 1900;
    unsigned mon = (unsigned)tm.tm_mon + 1, mday = (unsigned)tm.tm_mday;
    if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
        tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return -1;
    /* %z (and %s, through localtime_r) leave the zone in tm_gmtoff; without them it stays 0. */
    int64_t sod_adj = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec - (int64_t)tm.tm_gmtoff;
    bool stable = true;
    if (!(flags & F_DATE)) {
        /* A time of day alone: today's date in the zone. */
        int64_t now_s = floor_div(now_ns, LW_NS_PER_SEC);
        int64_t day = floor_div(now_s + lw_tz_offset(tz, now_s), DAY_S);
        secs = zone_to_utc(tz, day * DAY_S + sod_adj, now_ns, &stable);
    } else if (infer) {
        if (lw_syslog_year(mon, mday, sod_adj, tz, now_ns, &secs, &stable) != 0)
            return -1;
    } else {
        if (mday > lw_days_in_month(y, mon))
            return -1;
        secs = zone_to_utc(tz, lw_days_from_civil(y, mon, mday) * DAY_S + sod_adj, now_ns, &stable);
    }
    if (to_ns(secs, 0, &secs) != 0)
        return -1;

    f->cache_len = 0;
    if (stable && (flags & F_DATE) && n - (j - fpos) + 1 <= sizeof f->cache_key) {
        memcpy(f->cache_key, s, fpos);
        f->cache_key[fpos] = 0;
        memcpy(f->cache_key + fpos + 1, s + j, n - j);
        f->cache_len = fpos + 1 + (n - j);
        f->cache_ns = secs;
        f->cache_now_day = now_day;
        f->cache_tz = tz;
    }
    *out = secs + frac;
    return 0;
}

int lw_tsfmt_init(struct lw_tsfmt *f, const char *spec, struct lw_err *err)
{
    memset(f, 0, sizeof *f);
    if (!spec)
        return lw_err_set(err, LW_EINVAL, "missing timestamp format");
    if (strcmp(spec, "rfc3339") == 0 || strcmp(spec, "RFC3339") == 0) {
        f->kind = LW_TS_RFC3339;
    } else if (strcmp(spec, "unix") == 0) {
        f->kind = LW_TS_UNIX;
    } else if (strcmp(spec, "unix_ms") == 0) {
        f->kind = LW_TS_UNIX_MS;
    } else if (strcmp(spec, "syslog") == 0) {
        f->kind = LW_TS_SYSLOG;
    } else if (strchr(spec, '%')) {
        f->kind = LW_TS_STRPTIME;
        return compile_strptime(f, spec, err);
    } else {
        return lw_err_set(err, LW_EINVAL,
                          "unknown timestamp format '%s' (expected rfc3339, unix, unix_ms, "
                          "syslog or a strptime format with %%)",
                          spec);
    }
    return 0;
}

int lw_tsfmt_parse(struct lw_tsfmt *f, const char *s, size_t n, int64_t now_ns, int64_t *out_ns)
{
    return lw_tsfmt_parse_tz(f, s, n, now_ns, NULL, out_ns);
}

int lw_tsfmt_parse_tz(struct lw_tsfmt *f, const char *s, size_t n, int64_t now_ns,
                      const struct lw_tz *tz, int64_t *out_ns)
{
    if (!s)
        return -1;
    switch (f->kind) {
    case LW_TS_RFC3339:
        return parse_rfc3339(s, n, out_ns);
    case LW_TS_UNIX:
        return parse_epoch(s, n, LW_NS_PER_SEC, out_ns);
    case LW_TS_UNIX_MS:
        return parse_epoch(s, n, LW_NS_PER_MS, out_ns);
    case LW_TS_SYSLOG:
        return parse_syslog(f, s, n, now_ns, tz, out_ns);
    case LW_TS_STRPTIME:
        return f->fmt ? parse_strptime(f, s, n, now_ns, tz, out_ns) : -1;
    }
    return -1;
}

void lw_tsfmt_free(struct lw_tsfmt *f)
{
    if (!f)
        return;
    free(f->fmt);
    f->fmt = NULL;
    f->cache_len = 0;
}
