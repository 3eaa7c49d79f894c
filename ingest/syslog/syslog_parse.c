/* syslog_parse.c: decodes syslog lines (RFC 5424, RFC 3164 with or without PRI, and the
 * RFC 3339 timestamps rsyslog writes into 3164-style files). Bounds-checked: garbage is -1. */
#include "ingest.h"
#include "lw_time.h"

#include <string.h>

static const char *const facility_names[24] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7",
};
static const char *const severity_names[8] = {"emerg",   "alert",  "crit", "err",
                                              "warning", "notice", "info", "debug"};
static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

const char *lw_syslog_facility_name(int facility)
{
    return facility >= 0 && facility < 24 ? facility_names[facility] : NULL;
}

const char *lw_syslog_severity_name(int severity)
{
    return severity >= 0 && severity < 8 ? severity_names[severity] : NULL;
}

/* A cursor over the line: every read checks i < n. */
struct cur {
    const char *p;
    size_t i, n;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static struct lw_str str_of(const char *p, size_t n)
{
    struct lw_str s = {n ? p : "", n};
    return s;
}

/* The message from p on, without the UTF-8 BOM RFC 5424 puts before a UTF-8 MSG (senders put
 * it after "<PRI>" alone, or after a 3164 tag, too: it is never part of the text). */
static struct lw_str message(const char *p, size_t n)
{
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    return str_of(p, n);
}

/* Reads exactly k digits. */
static bool digits(struct cur *c, int k, int *out)
{
    int v = 0;
    if (c->i + (size_t)k > c->n)
        return false;
    for (int j = 0; j < k; j++) {
        char ch = c->p[c->i + (size_t)j];
        if (!is_digit(ch))
            return false;
        v = v * 10 + (ch - '0');
    }
    c->i += (size_t)k;
    *out = v;
    return true;
}

static bool expect(struct cur *c, char ch)
{
    if (c->i < c->n && c->p[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

/* Optional ".fraction": nanoseconds (digits past the ninth are ignored). */
static int64_t fraction(struct cur *c)
{
    int64_t ns = 0, scale = 100000000;
    if (!(c->i + 1 < c->n && c->p[c->i] == '.' && is_digit(c->p[c->i + 1])))
        return 0;
    c->i++;
    while (c->i < c->n && is_digit(c->p[c->i])) {
        ns += (c->p[c->i] - '0') * scale;
        scale /= 10;
        c->i++;
    }
    return ns;
}

/* RFC 3339 (strict: 2003-10-11T22:14:15.003Z or ...+02:00); ns in UTC. */
static bool rfc3339(struct cur *c, int64_t *ns)
{
    struct lw_rfc3339 t;
    size_t used = lw_rfc3339_scan(c->p + c->i, c->n - c->i, 0, &t);
    /* Nanoseconds since 1970 in 64 bits reach 1677..2262: a year far outside is no real clock
     * (and would overflow), so the message keeps no time rather than a wrong one. */
    if (used == 0 || t.year < 1900 || t.year > 2200)
        return false;
    *ns = t.secs * LW_NS_PER_SEC + t.frac_ns;
    c->i += used;
    return true;
}

/* RFC 3164: "Mmm dd hh:mm:ss" (day space-padded or not), a local time of tz (NULL: UTC), year
 * inferred from now_ns. */
static bool bsd_time(struct cur *c, int64_t now_ns, const struct lw_tz *tz, int64_t *ns)
{
    struct cur t = *c;
    int mo = 0, d, h, mi, s;
    if (t.i + 3 > t.n)
        return false;
    for (int m = 0; m < 12; m++)
        if (memcmp(t.p + t.i, months + 3 * m, 3) == 0)
            mo = m + 1;
    if (!mo)
        return false;
    t.i += 3;
    if (!expect(&t, ' '))
        return false;
    expect(&t, ' '); /* "Jul  4" */
    if (digits(&t, 2, &d)) {
        /* two digits */
    } else if (!digits(&t, 1, &d)) {
        return false;
    }
    if (!expect(&t, ' ') || !digits(&t, 2, &h) || !expect(&t, ':') || !digits(&t, 2, &mi) ||
        !expect(&t, ':') || !digits(&t, 2, &s))
        return false;
    if (d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    int64_t frac = fraction(&t);
    /* The syslog year rule (lw_time.h), shared with the rules' syslog timestamp format. */
    int64_t secs;
    bool stable;
    if (lw_syslog_year((unsigned)mo, (unsigned)d, (int64_t)h * 3600 + mi * 60 + s, tz, now_ns,
                       &secs, &stable) != 0 ||
        secs > INT64_MAX / LW_NS_PER_SEC - 1 || secs < -(INT64_MAX / LW_NS_PER_SEC - 1))
        return false;
    *ns = secs * LW_NS_PER_SEC + frac;
    *c = t;
    return true;
}

/* "TAG[PID]: MSG" or "TAG: MSG"; true and sets app/procid/msg when the token is a tag. */
static bool tag(struct cur *c, struct lw_syslog_msg *out)
{
    size_t s = c->i, i = c->i;
    while (i < c->n && c->p[i] != '[' && c->p[i] != ':' && c->p[i] != ' ')
        i++;
    if (i == s || i >= c->n)
        return false;
    size_t app_end = i, pid_s = 0, pid_e = 0;
    if (c->p[i] == '[') {
        pid_s = ++i;
        while (i < c->n && c->p[i] != ']' && c->p[i] != ' ')
            i++;
        if (i >= c->n || c->p[i] != ']')
            return false;
        pid_e = i++;
        /* "sshd[123]" without a colon is still a tag; the colon is optional here. */
        if (i < c->n && c->p[i] == ':')
            i++;
        else if (i < c->n && c->p[i] != ' ')
            return false;
    } else if (c->p[i] == ':') {
        i++;
    } else {
        return false;
    }
    out->app = str_of(c->p + s, app_end - s);
    if (pid_e > pid_s)
        out->procid = str_of(c->p + pid_s, pid_e - pid_s);
    if (i < c->n && c->p[i] == ' ')
        i++;
    c->i = i;
    return true;
}

/* Everything after the timestamp of a 3164 line: HOST TAG MSG, HOST MSG, or TAG MSG (a local
 * sender such as logger on /dev/log leaves the host out). */
static void bsd_rest(struct cur *c, struct lw_syslog_msg *out, bool host_ok)
{
    if (c->n - c->i >= 3 && memcmp(c->p + c->i, "\xEF\xBB\xBF", 3) == 0)
        c->i += 3; /* "<13>BOM tag: msg" */
    if (host_ok) {
        struct cur t = *c;
        if (!tag(&t, out)) {
            size_t s = c->i;
            while (c->i < c->n && c->p[c->i] != ' ')
                c->i++;
            out->host = str_of(c->p + s, c->i - s);
            expect(c, ' ');
            tag(c, out);
        } else {
            *c = t;
        }
    } else {
        tag(c, out);
    }
    out->msg = message(c->p + c->i, c->n - c->i);
}

/* One space-delimited RFC 5424 header field; "-" is nil. */
static bool field(struct cur *c, struct lw_str *out)
{
    size_t s = c->i;
    while (c->i < c->n && c->p[c->i] != ' ')
        c->i++;
    if (c->i == s || c->i >= c->n)
        return false;
    size_t len = c->i - s;
    *out = len == 1 && c->p[s] == '-' ? str_of("", 0) : str_of(c->p + s, len);
    c->i++;
    return true;
}

/* STRUCTURED-DATA: "-" or one or more "[id k="v" ...]" with \" \\ \] escapes in values. */
static bool structured(struct cur *c, struct lw_str *out)
{
    if (expect(c, '-')) {
        *out = str_of("", 0);
        return true;
    }
    size_t s = c->i;
    if (c->i >= c->n || c->p[c->i] != '[')
        return false;
    while (c->i < c->n && c->p[c->i] == '[') {
        bool quoted = false, closed = false;
        c->i++;
        while (c->i < c->n && !closed) {
            char ch = c->p[c->i++];
            if (quoted && ch == '\\' && c->i < c->n)
                c->i++;
            else if (ch == '"')
                quoted = !quoted;
            else if (ch == ']' && !quoted)
                closed = true;
        }
        if (!closed)
            return false;
    }
    *out = str_of(c->p + s, c->i - s);
    return true;
}

static int rfc5424(struct cur *c, struct lw_syslog_msg *out)
{
    struct lw_str ts;
    if (!field(c, &ts))
        return -1;
    if (ts.n) {
        struct cur t = {ts.p, 0, ts.n};
        int64_t ns;
        if (rfc3339(&t, &ns) && t.i == t.n)
            out->ts_ns = ns;
    }
    if (!field(c, &out->host) || !field(c, &out->app) || !field(c, &out->procid) ||
        !field(c, &out->msgid) || !structured(c, &out->sd))
        return -1;
    if (c->i < c->n) {
        if (c->p[c->i] != ' ')
            return -1;
        c->i++;
    }
    out->msg = message(c->p + c->i, c->n - c->i);
    return 0;
}

int lw_syslog_parse(const char *line, size_t n, int64_t now_ns, struct lw_syslog_msg *out)
{
    return lw_syslog_parse_tz(line, n, now_ns, NULL, out);
}

int lw_syslog_parse_tz(const char *line, size_t n, int64_t now_ns, const struct lw_tz *tz,
                       struct lw_syslog_msg *out)
{
    struct cur c = {line, 0, n};
    struct lw_str empty = str_of("", 0);
    out->pri = out->facility = out->severity = -1;
    out->ts_ns = 0;
    out->host = out->app = out->procid = out->msgid = out->sd = empty;
    out->msg = str_of(line, n);
    if (!line)
        return -1;

    if (expect(&c, '<')) {
        int pri = 0, nd = 0;
        while (c.i < c.n && is_digit(c.p[c.i]) && nd < 3) {
            pri = pri * 10 + (c.p[c.i++] - '0');
            nd++;
        }
        if (!nd || pri > 191 || !expect(&c, '>'))
            goto out_fail;
        out->pri = pri;
        out->facility = pri / 8;
        out->severity = pri % 8;
        if (c.i + 1 < c.n && c.p[c.i] == '1' && c.p[c.i + 1] == ' ') {
            c.i += 2;
            size_t keep = c.i;
            if (rfc5424(&c, out) == 0)
                return 0;
            /* Not valid 5424 after all: treat the rest as the body. */
            out->host = out->app = out->procid = out->msgid = out->sd = empty;
            out->ts_ns = 0;
            out->msg = message(line + keep, n - keep);
            return 0;
        }
    }
    int64_t ns;
    if (bsd_time(&c, now_ns, tz, &ns) || rfc3339(&c, &ns)) {
        out->ts_ns = ns;
        if (!expect(&c, ' ')) {
            if (c.i < c.n)
                goto out_fail;
        }
        bsd_rest(&c, out, true);
        return 0;
    }
    if (out->pri >= 0) {
        /* "<13>tag: msg" with no timestamp: RFC 3164 says the rest is the content. */
        bsd_rest(&c, out, false);
        return 0;
    }
out_fail:
    out->pri = out->facility = out->severity = -1;
    out->ts_ns = 0;
    out->host = out->app = out->procid = out->msgid = out->sd = empty;
    out->msg = str_of(line, n);
    return -1;
}
