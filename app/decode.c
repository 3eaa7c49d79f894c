/* decode.c: unwraps a line's envelope (raw, syslog, Docker json-file, CRI) into the record the
 * rules match. */
#include "app.h"

#include <string.h>

static void set_msg(const struct lw_container_msg *m, struct lw_rec *out);

enum lw_body lw_format_body(enum lw_format f)
{
    return f == LW_FMT_JSON ? LW_BODY_JSON : f == LW_FMT_LOGFMT ? LW_BODY_LOGFMT : LW_BODY_RAW;
}

int lw_decode(enum lw_format fmt, const char *input_name, const struct lw_tz *tz, const char *path,
              const struct lw_record *in, uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    memset(out, 0, sizeof *out);
    out->tz = tz;
    out->body = in->line;
    out->recv_ns = in->recv_ns;
    out->input = input;
    out->body_fmt = lw_format_body(fmt);
    out->labels[LW_L_INPUT] = lw_str_c(input_name);
    if (path)
        out->labels[LW_L_PATH] = lw_str_c(path);
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

/* Container labels from the log file's path: Docker keeps /var/lib/docker/containers/ID/
 * ID-json.log; Kubernetes links /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log. */
static void container_labels(enum lw_format fmt, const char *path, struct lw_rec *out)
{
    if (!path)
        return;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (fmt == LW_FMT_DOCKER) {
        const char *dash = strstr(base, "-json.log");
        if (dash && dash > base)
            out->labels[LW_L_CONTAINER_ID] = (struct lw_str){base, (size_t)(dash - base)};
        return;
    }
    const char *u1 = strchr(base, '_'), *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
    const char *dot = strrchr(base, '.'), *dash = NULL;
    for (const char *p = u2 ? u2 + 1 : NULL; p && p < dot; p++)
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
                     const struct lw_tz *tz, const char *path, const struct lw_record *in,
                     uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    if (fmt != LW_FMT_DOCKER && fmt != LW_FMT_CRI)
        return lw_decode(fmt, input_name, tz, path, in, input, now_ns, out) < 0 ? -1 : 1;
    if (!st->init) {
        lw_reassembler_init(&st->r[0], 0);
        lw_reassembler_init(&st->r[1], 0);
        st->init = true;
    }
    struct lw_container_msg part, whole;
    int rc = lw_decode(LW_FMT_RAW, input_name, tz, path, in, input, now_ns, out);
    container_labels(fmt, path, out);
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
                    const char *path, uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    struct lw_container_msg whole;
    struct lw_record none = {{"", 0}, now_ns, {0, 0, 0}};
    if (!st->init || !lw_reassembler_flush(&st->r[i], &whole))
        return 0;
    lw_decode(LW_FMT_RAW, input_name, tz, path, &none, input, now_ns, out);
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
