/* decode.c: unwraps a line's envelope (raw, syslog) into the record the rules match. */
#include "app.h"

#include <string.h>

enum lw_body lw_format_body(enum lw_format f)
{
    return f == LW_FMT_JSON ? LW_BODY_JSON : f == LW_FMT_LOGFMT ? LW_BODY_LOGFMT : LW_BODY_RAW;
}

int lw_decode(enum lw_format fmt, const char *input_name, const char *path,
              const struct lw_record *in, uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    memset(out, 0, sizeof *out);
    out->body = in->line;
    out->recv_ns = in->recv_ns;
    out->input = input;
    out->body_fmt = lw_format_body(fmt);
    out->labels[LW_L_INPUT] = lw_str_c(input_name);
    if (path)
        out->labels[LW_L_PATH] = lw_str_c(path);
    if (fmt == LW_FMT_SYSLOG) {
        struct lw_syslog_msg m;
        if (lw_syslog_parse(in->line.p, in->line.n, now_ns, &m) < 0)
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
            out->labels[LW_L_SEVERITY] = lw_str_c(lw_syslog_severity_name(m.severity));
    }
    return 0;
}
