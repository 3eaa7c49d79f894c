/* cri_parse.c: decodes Kubernetes CRI container log lines ("TIME STREAM TAG MESSAGE", as the
 * kubelet and containerd write them) and the RFC 3339 nanosecond timestamps both container
 * envelopes carry. Allocation-free and bounds-checked: garbage is -1. */
#include "ingest.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly k digits at p[*i], within n. */
static bool digits(const char *p, size_t n, size_t *i, int k, int *out)
{
    int v = 0;
    if (n - *i < (size_t)k)
        return false;
    for (int j = 0; j < k; j++) {
        char ch = p[*i + (size_t)j];
        if (!is_digit(ch))
            return false;
        v = v * 10 + (ch - '0');
    }
    *i += (size_t)k;
    *out = v;
    return true;
}

static bool lit(const char *p, size_t n, size_t *i, char a, char b)
{
    if (*i < n && (p[*i] == a || p[*i] == b)) {
        (*i)++;
        return true;
    }
    return false;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int lw_container_time_parse(const char *p, size_t n, int64_t *ns)
{
    size_t i = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!digits(p, n, &i, 4, &y) || !lit(p, n, &i, '-', '-') || !digits(p, n, &i, 2, &mo) ||
        !lit(p, n, &i, '-', '-') || !digits(p, n, &i, 2, &d) || !lit(p, n, &i, 'T', 't') ||
        !digits(p, n, &i, 2, &h) || !lit(p, n, &i, ':', ':') || !digits(p, n, &i, 2, &mi) ||
        !lit(p, n, &i, ':', ':') || !digits(p, n, &i, 2, &s))
        return -1;
    /* Second 60 is a leap second: it reads as the first second of the next minute. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
        return -1;
    int64_t frac = 0, scale = 100000000;
    if (lit(p, n, &i, '.', '.')) {
        if (i >= n || !is_digit(p[i]))
            return -1;
        for (; i < n && is_digit(p[i]); i++) {
            frac += (p[i] - '0') * scale; /* digits past the ninth add 0 */
            scale /= 10;
        }
    }
    int64_t offset = 0;
    if (!lit(p, n, &i, 'Z', 'z')) {
        if (i >= n || (p[i] != '+' && p[i] != '-'))
            return -1;
        int sign = p[i++] == '-' ? -1 : 1, oh, om;
        if (!digits(p, n, &i, 2, &oh) || !lit(p, n, &i, ':', ':') || !digits(p, n, &i, 2, &om) ||
            oh > 23 || om > 59)
            return -1;
        offset = sign * ((int64_t)oh * 3600 + om * 60);
    }
    if (i != n)
        return -1;
    int64_t secs =
        ((lw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60 + s - offset;
    /* Well-formed but beyond int64 nanoseconds (before 1678, after 2261): no usable time. */
    if (secs > INT64_MAX / LW_NS_PER_SEC - 1 || secs < INT64_MIN / LW_NS_PER_SEC + 1) {
        *ns = 0;
        return 0;
    }
    *ns = secs * LW_NS_PER_SEC + frac;
    return 0;
}

static int not_cri(const char *line, size_t n, struct lw_container_msg *out)
{
    out->msg.p = line;
    out->msg.n = n;
    out->stream.p = "";
    out->stream.n = 0;
    out->ts_ns = 0;
    out->partial = false;
    return -1;
}

int lw_cri_parse(const char *line, size_t n, struct lw_container_msg *out)
{
    const char *end = line + n;
    const char *sp = n ? memchr(line, ' ', n) : NULL;
    if (!sp)
        return not_cri(line, n, out);
    int64_t ts;
    if (lw_container_time_parse(line, (size_t)(sp - line), &ts) != 0)
        return not_cri(line, n, out);

    const char *stream = sp + 1;
    sp = memchr(stream, ' ', (size_t)(end - stream));
    if (!sp)
        return not_cri(line, n, out);
    size_t slen = (size_t)(sp - stream);
    if (!(slen == 6 && (memcmp(stream, "stdout", 6) == 0 || memcmp(stream, "stderr", 6) == 0)))
        return not_cri(line, n, out);

    /* The tag is a ':'-separated list whose first element is P or F (the CRI spec leaves room
     * for more); the message follows one space, or is empty when the line ends at the tag. */
    const char *tag = sp + 1;
    const char *tag_end = memchr(tag, ' ', (size_t)(end - tag));
    if (!tag_end)
        tag_end = end;
    if (tag_end - tag < 1 || (tag[0] != 'P' && tag[0] != 'F') ||
        (tag_end - tag > 1 && tag[1] != ':'))
        return not_cri(line, n, out);

    out->ts_ns = ts;
    out->stream.p = stream;
    out->stream.n = slen;
    out->partial = tag[0] == 'P';
    if (tag_end < end) {
        out->msg.p = tag_end + 1;
        out->msg.n = (size_t)(end - tag_end - 1);
    } else {
        out->msg.p = "";
        out->msg.n = 0;
    }
    return 0;
}
