/* cri_parse.c: decodes Kubernetes CRI container log lines ("TIME STREAM TAG MESSAGE", as the
 * kubelet and containerd write them) and the RFC 3339 nanosecond timestamps both container
 * envelopes carry. Allocation-free and bounds-checked: garbage is -1. */
#include "ingest.h"
#include "lw_time.h"

#include <string.h>

int lw_container_time_parse(const char *p, size_t n, int64_t *ns)
{
    struct lw_rfc3339 t;
    if (lw_rfc3339_scan(p, n, 0, &t) != n || n == 0)
        return -1;
    /* Well-formed but beyond int64 nanoseconds (before 1678, after 2261): no usable time. */
    if (t.secs > INT64_MAX / LW_NS_PER_SEC - 1 || t.secs < INT64_MIN / LW_NS_PER_SEC + 1) {
        *ns = 0;
        return 0;
    }
    *ns = t.secs * LW_NS_PER_SEC + t.frac_ns;
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
