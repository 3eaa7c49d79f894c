/* decode.c: unwraps a line's envelope (raw, syslog, Docker json-file, CRI) into the record the
 * rules match. */
#include "ingest.h"

#include <string.h>

static void set_msg(const struct lw_container_msg *m, struct lw_rec *out);

/* The names `format:` takes, indexed by enum lw_format. */
static const char *const format_names[] = {"raw",    "syslog", "json",        "logfmt",
                                           "docker", "cri",    "syslog+json", "syslog+logfmt"};
_Static_assert(sizeof format_names / sizeof format_names[0] == LW_FMT_SYSLOG_LOGFMT + 1,
               "a name per format");

int lw_format_parse(const char *s, enum lw_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (!strcmp(s, format_names[i])) {
            *out = (enum lw_format)i;
            return 0;
        }
    return -1;
}

const char *lw_format_name(enum lw_format f)
{
    return (size_t)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : "?";
}

enum lw_body lw_format_body(enum lw_format f)
{
    if (f == LW_FMT_JSON || f == LW_FMT_SYSLOG_JSON)
        return LW_BODY_JSON;
    return f == LW_FMT_LOGFMT || f == LW_FMT_SYSLOG_LOGFMT ? LW_BODY_LOGFMT : LW_BODY_RAW;
}

bool lw_format_syslog(enum lw_format f)
{
    return f == LW_FMT_SYSLOG || f == LW_FMT_SYSLOG_JSON || f == LW_FMT_SYSLOG_LOGFMT;
}

enum lw_format lw_format_on(enum lw_format type_fmt, enum lw_format named)
{
    if (lw_format_syslog(type_fmt) && named == LW_FMT_JSON)
        return LW_FMT_SYSLOG_JSON;
    if (lw_format_syslog(type_fmt) && named == LW_FMT_LOGFMT)
        return LW_FMT_SYSLOG_LOGFMT;
    return named;
}

uint32_t lw_format_labels(enum lw_format f)
{
    if (lw_format_syslog(f))
        return 1u << LW_L_HOST | 1u << LW_L_APP | 1u << LW_L_FACILITY | 1u << LW_L_SEVERITY |
               1u << LW_L_SYSLOG_SEVERITY | 1u << LW_L_PROCID | 1u << LW_L_MSGID | LW_LABELS_SD;
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
    if (in->meta) {
        out->ts_ns = in->meta->ts_ns;
        out->extra = in->meta->extra;
        if (out->extra)
            for (int l = 0; l < LW_L_COUNT; l++)
                if (out->extra->slot[l].p)
                    out->labels[l] = out->extra->slot[l];
    }
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
    if (lw_format_syslog(fmt)) {
        struct lw_syslog_msg m;
        if (lw_syslog_parse_tz(in->line.p, in->line.n, now_ns, tz, &m) < 0) {
            /* Not syslog at all: the whole line, at its arrival time, and no body to decode. */
            out->body_fmt = LW_BODY_RAW;
            return -1;
        }
        out->body = m.msg;
        out->ts_ns = m.ts_ns;
        out->sd = m.sd;
        if (m.host.n)
            out->labels[LW_L_HOST] = m.host;
        if (m.app.n)
            out->labels[LW_L_APP] = m.app;
        if (m.procid.n)
            out->labels[LW_L_PROCID] = m.procid;
        if (m.msgid.n)
            out->labels[LW_L_MSGID] = m.msgid;
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

void lw_dstate_setup(struct lw_dstate *st, const struct lw_multiline_cfg *ml, size_t max_line,
                     struct lw_join_stats *stats, const char *name)
{
    st->mlcfg = ml;
    st->max_line = max_line;
    st->stats = stats;
    st->name = name;
}

static bool container(enum lw_format fmt)
{
    return fmt == LW_FMT_DOCKER || fmt == LW_FMT_CRI;
}

/* The joiner of stream i, made at its first line. */
static struct lw_multiline *joiner(struct lw_dstate *st, int i)
{
    if (!st->ml[i])
        st->ml[i] = lw_multiline_new(st->mlcfg, st->max_line ? st->max_line : LW_MAX_LINE_DEFAULT,
                                     st->stats, st->name);
    return st->ml[i];
}

/* A whole message (from after cursor `from`) goes through stream i's joiner, if any: 1 when
 * *out is a record, 0 when held. */
static int join(struct lw_dstate *st, int i, int64_t from, struct lw_rec *out)
{
    if (!st->mlcfg)
        return 1;
    struct lw_rec whole = *out;
    return lw_multiline_feed(joiner(st, i), &whole, from, out);
}

/* Docker/CRI: the line is one part of a message of its stream; 1 when the message is whole. */
static int decode_container(struct lw_dstate *st, enum lw_format fmt, const char *input_name,
                            const struct lw_tz *tz, const struct lw_str *labels,
                            const struct lw_record *in, uint32_t input, int64_t now_ns,
                            int64_t prev, struct lw_rec *out)
{
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
    struct lw_reassembler *r = &st->r[i];
    int64_t from = r->buf.len || r->cutting ? st->r_from[i] : prev;
    if (part.partial && st->stats)
        atomic_fetch_add_explicit(&st->stats->partials, 1, memory_order_relaxed);
    if (!lw_reassembler_feed(r, &part, &whole)) {
        st->r_from[i] = from;
        return 0;
    }
    set_msg(&whole, out);
    if (!whole.stream.n)
        out->labels[LW_L_STREAM] = lw_str_c(i ? "stderr" : "stdout");
    return join(st, i, from, out);
}

int lw_decode_stream(struct lw_dstate *st, enum lw_format fmt, const char *input_name,
                     const struct lw_tz *tz, const struct lw_str *labels,
                     const struct lw_record *in, uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    int64_t prev = st->seen ? st->last : LW_CURSOR_UNKNOWN;
    st->seen = true;
    st->last = in->cursor;
    if (container(fmt))
        return decode_container(st, fmt, input_name, tz, labels, in, input, now_ns, prev, out);
    if (lw_decode(fmt, input_name, tz, labels, in, input, now_ns, out) < 0)
        return -1;
    return join(st, 0, prev, out);
}

bool lw_dstate_holds(const struct lw_dstate *st)
{
    for (int i = 0; i < 2; i++)
        if ((st->ml[i] && lw_multiline_pending(st->ml[i], NULL)) ||
            (st->init && (st->r[i].buf.len || st->r[i].cutting)))
            return true;
    return false;
}

bool lw_dstate_position(const struct lw_dstate *st, int64_t *cursor)
{
    int64_t at = st->last, from;
    if (!st->seen)
        return false;
    for (int i = 0; i < 2; i++) {
        if (st->ml[i] && lw_multiline_pending(st->ml[i], &from) && from < at)
            at = from;
        if (st->init && (st->r[i].buf.len || st->r[i].cutting) && st->r_from[i] < at)
            at = st->r_from[i];
    }
    if (at == LW_CURSOR_UNKNOWN)
        return false;
    *cursor = at;
    return true;
}

int lw_dstate_drain(struct lw_dstate *st, enum lw_drain what, enum lw_format fmt,
                    const char *input_name, const struct lw_tz *tz, const struct lw_str *labels,
                    uint32_t input, int64_t now_ns, struct lw_rec *out)
{
    for (int i = 0; i < 2; i++) {
        /* A partial message first: at the end it is whole, and may join a pending record. */
        if (what == LW_DRAIN_ALL && container(fmt) &&
            lw_decode_flush(st, i, input_name, tz, labels, input, now_ns, out) &&
            join(st, i, st->r_from[i], out))
            return 1;
        if (st->ml[i] && (what != LW_DRAIN_EXPIRED || lw_multiline_expired(st->ml[i], now_ns)) &&
            lw_multiline_flush(st->ml[i], out))
            return 1;
    }
    return 0;
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
    for (int i = 0; i < 2; i++) {
        lw_multiline_free(st->ml[i]);
        st->ml[i] = NULL;
    }
    if (st->init) {
        lw_reassembler_free(&st->r[0]);
        lw_reassembler_free(&st->r[1]);
    }
    lw_buf_free(&st->scratch);
    memset(st, 0, sizeof *st);
}
