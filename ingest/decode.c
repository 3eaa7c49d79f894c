/* decode.c: unwraps a line's envelope (raw, syslog, Docker json-file, CRI) into the record the
 * rules match. */
#include "ingest.h"

#include <string.h>

static void set_msg(const struct lw_container_msg *m, struct lw_rec *out);

int lw_format_parse(const char *s, enum lw_format *out)
{
    if (!strcmp(s, "raw"))
        *out = LW_FMT_RAW;
    else if (!strcmp(s, "syslog"))
        *out = LW_FMT_SYSLOG;
    else if (!strcmp(s, "json"))
        *out = LW_FMT_JSON;
    else if (!strcmp(s, "logfmt"))
        *out = LW_FMT_LOGFMT;
    else if (!strcmp(s, "docker"))
        *out = LW_FMT_DOCKER;
    else if (!strcmp(s, "cri"))
        *out = LW_FMT_CRI;
    else
        return -1;
    return 0;
}

enum lw_body lw_format_body(enum lw_format f)
{
    return f == LW_FMT_JSON ? LW_BODY_JSON : f == LW_FMT_LOGFMT ? LW_BODY_LOGFMT : LW_BODY_RAW;
}

uint32_t lw_format_labels(enum lw_format f)
{
    if (f == LW_FMT_SYSLOG)
        return 1u << LW_L_HOST | 1u << LW_L_APP | 1u << LW_L_FACILITY | 1u << LW_L_SEVERITY |
               1u << LW_L_SYSLOG_SEVERITY;
    if (f == LW_FMT_DOCKER || f == LW_FMT_CRI)
        return 1u << LW_L_CONTAINER | 1u << LW_L_CONTAINER_ID | 1u << LW_L_STREAM;
    return 0;
}

int lw_decode(enum lw_format fmt, const char *input_name, const struct lw_tz *tz,
              const struct lw_str *labels, const struct lw_record *in, uint32_t input,
              int64_t now_ns, struct lw_rec *out)
{
    memset(out, 0, sizeof *out);
    if (labels)
        memcpy(out->labels, labels, sizeof out->labels);
    out->tz = tz;
    out->body = in->line;
    out->recv_ns = in->recv_ns;
    out->input = input;
    out->body_fmt = lw_format_body(fmt);
    out->labels[LW_L_INPUT] = lw_str_c(input_name);
    if (fmt == LW_FMT_DOCKER || fmt == LW_FMT_CRI) {
        /* Without a stream state (see lw_decode_stream) each part is a record of its own. */
        static _Thread_local struct lw_buf scratch;
        struct lw_container_msg m;
        int rc = fmt == LW_FMT_DOCKER ? lw_docker_parse(in->line.p, in->line.n, &scratch, &m)
                                      : lw_cri_parse(in->line.p, in->line.n, &m);
        if (rc < 0)
            return -1;
        set_msg(&m, out);
        return 0;
    }
    if (fmt == LW_FMT_SYSLOG) {
        struct lw_syslog_msg m;
        if (lw_syslog_parse_tz(in->line.p, in->line.n, now_ns, tz, &m) < 0)
            return -1;
        out->body = m.msg;
        out->ts_ns = m.ts_ns;
        if (m.host.n)
            out->labels[LW_L_HOST] = m.host;
        if (m.app.n)
            out->labels[LW_L_APP] = m.app;
        if (m.facility >= 0)
            out->labels[LW_L_FACILITY] = lw_str_c(lw_syslog_facility_name(m.facility));
        if (m.severity >= 0)
            out->labels[LW_L_SEVERITY] = out->labels[LW_L_SYSLOG_SEVERITY] =
                lw_str_c(lw_syslog_severity_name(m.severity));
    }
    return 0;
}

/* The last c in [p, end), or NULL. */
static const char *last_of(const char *p, const char *end, char c)
{
    while (end > p)
        if (*--end == c)
            return end;
    return NULL;
}

/* Container labels from the log file's path: Docker keeps /var/lib/docker/containers/ID/
 * ID-json.log; Kubernetes links /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log. Only for a
 * file input: the docker and cri inputs set them from what they know better (an input that set
 * container_id). */
static void container_labels(enum lw_format fmt, struct lw_str path, struct lw_rec *out)
{
    if (!path.p || out->labels[LW_L_CONTAINER_ID].p)
        return;
    const char *end = path.p + path.n;
    const char *base = last_of(path.p, end, '/');
    base = base ? base + 1 : path.p;
    struct lw_str b = {base, (size_t)(end - base)};
    if (fmt == LW_FMT_DOCKER) {
        static const char suffix[] = "-json.log";
        for (size_t i = 0; i + sizeof suffix - 1 <= b.n; i++)
            if (!memcmp(b.p + i, suffix, sizeof suffix - 1)) {
                if (i > 0) /* the first "-json.log" names it, as strstr finds it */
                    out->labels[LW_L_CONTAINER_ID] = (struct lw_str){b.p, i};
                break;
            }
        return;
    }
    const char *u1 = memchr(b.p, '_', b.n);
    const char *u2 = u1 ? memchr(u1 + 1, '_', (size_t)(end - u1 - 1)) : NULL;
    const char *dot = last_of(b.p, end, '.'), *dash = NULL;
    for (const char *p = u2 ? u2 + 1 : NULL; p && dot && p < dot; p++)
        if (*p == '-')
            dash = p;
    if (u2 && dash && dot) {
        out->labels[LW_L_CONTAINER] = (struct lw_str){u2 + 1, (size_t)(dash - u2 - 1)};
        out->labels[LW_L_CONTAINER_ID] = (struct lw_str){dash + 1, (size_t)(dot - dash - 1)};
    }
}

static void set_msg(const struct lw_container_msg *m, struct lw_rec *out)
{
    out->body = m->msg;
    out->ts_ns = m->ts_ns;
    if (m->stream.n)
        out->labels[LW_L_STREAM] = m->stream;
}

int lw_decode_stream(struct lw_dstate *st, enum lw_format fmt, const char *input_name,
                     const struct lw_tz *tz, const struct lw_str *labels,
                     const struct lw_record *in, uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    if (fmt != LW_FMT_DOCKER && fmt != LW_FMT_CRI)
        return lw_decode(fmt, input_name, tz, labels, in, input, now_ns, out) < 0 ? -1 : 1;
    if (!st->init) {
        lw_reassembler_init(&st->r[0], 0);
        lw_reassembler_init(&st->r[1], 0);
        st->init = true;
    }
    struct lw_container_msg part, whole;
    int rc = lw_decode(LW_FMT_RAW, input_name, tz, labels, in, input, now_ns, out);
    container_labels(fmt, out->labels[LW_L_PATH], out);
    rc = fmt == LW_FMT_DOCKER ? lw_docker_parse(in->line.p, in->line.n, &st->scratch, &part)
                              : lw_cri_parse(in->line.p, in->line.n, &part);
    if (rc < 0)
        return -1;
    int i = part.stream.n == 6 && !memcmp(part.stream.p, "stderr", 6);
    if (!lw_reassembler_feed(&st->r[i], &part, &whole))
        return 0;
    set_msg(&whole, out);
    if (!whole.stream.n)
        out->labels[LW_L_STREAM] = lw_str_c(i ? "stderr" : "stdout");
    return 1;
}

int lw_decode_flush(struct lw_dstate *st, int i, const char *input_name, const struct lw_tz *tz,
                    const struct lw_str *labels, uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    struct lw_container_msg whole;
    struct lw_record none = {{"", 0}, now_ns, 0};
    if (!st->init || !lw_reassembler_flush(&st->r[i], &whole))
        return 0;
    lw_decode(LW_FMT_RAW, input_name, tz, labels, &none, input, now_ns, out);
    set_msg(&whole, out);
    out->labels[LW_L_STREAM] = lw_str_c(i ? "stderr" : "stdout");
    return 1;
}

void lw_dstate_free(struct lw_dstate *st)
{
    if (st->init) {
        lw_reassembler_free(&st->r[0]);
        lw_reassembler_free(&st->r[1]);
    }
    lw_buf_free(&st->scratch);
    st->init = false;
}
