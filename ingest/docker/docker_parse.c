/* docker_parse.c: decodes Docker json-file log lines with a small strict JSON scanner, and joins
 * the partial lines container engines write for long output (lw_reassembler, also used by CRI).
 *
 * Why by hand and not jansson: this runs on the pipeline thread for every container line, and the
 * object is flat and always the same four keys. The scanner validates the whole line (so a torn
 * or foreign line is -1, not half a record) but builds nothing: strings are returned as spans of
 * the line, and only "log" values with escapes other than their final \n are copied, into the
 * caller's scratch buffer, which is reserved once per line at the line's size (unescaping never
 * lengthens a string), so pointers into it stay valid while later keys are decoded. */
#include "ingest.h"

#include <string.h>

#define DOCKER_MAX_DEPTH 64 /* nesting allowed in skipped values ("attrs"): one bit each below */

/* A cursor over the line: every read checks i < n. */
struct cur {
    const char *p;
    size_t i, n;
};

/* A string as it stands between its quotes, with what decoding it needs. */
struct jstr {
    const char *p;
    size_t n;
    size_t nesc;      /* backslash escapes in it */
    size_t first_esc; /* offset of the first one, when nesc > 0 */
};

static void skip_ws(struct cur *c)
{
    while (c->i < c->n &&
           (c->p[c->i] == ' ' || c->p[c->i] == '\t' || c->p[c->i] == '\n' || c->p[c->i] == '\r'))
        c->i++;
}

static bool at(const struct cur *c, char ch)
{
    return c->i < c->n && c->p[c->i] == ch;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The code unit of 4 hex digits already validated by scan_string. */
static unsigned hex4(const char *p)
{
    return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

/* Scans the string whose opening quote is at c->i, validating its escapes, so that unescape()
 * cannot fail later. Raw control characters are refused as JSON requires; bytes >= 0x80 are not
 * checked (invalid UTF-8 passes through). */
static bool scan_string(struct cur *c, struct jstr *s)
{
    if (!at(c, '"'))
        return false;
    size_t i = c->i + 1, start = i;
    s->nesc = 0;
    s->first_esc = 0;
    for (;;) {
        if (i >= c->n)
            return false;
        unsigned char ch = (unsigned char)c->p[i];
        if (ch == '"')
            break;
        if (ch < 0x20)
            return false;
        if (ch != '\\') {
            i++;
            continue;
        }
        if (i + 1 >= c->n)
            return false;
        if (!s->nesc++)
            s->first_esc = i - start;
        switch (c->p[i + 1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            i += 2;
            break;
        case 'u':
            if (i + 6 > c->n)
                return false;
            for (size_t k = 2; k < 6; k++)
                if (hexval(c->p[i + k]) < 0)
                    return false;
            i += 6;
            break;
        default:
            return false;
        }
    }
    s->p = c->p + start;
    s->n = i - start;
    c->i = i + 1;
    return true;
}

static size_t utf8_put(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | cp >> 6);
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | cp >> 12);
        dst[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | cp >> 18);
    dst[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    dst[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a string validated by scan_string into dst (room for s->n bytes: every escape is at
 * least as long as what it stands for). A surrogate without its pair becomes U+FFFD, as Go's
 * decoder does, rather than failing the whole line. Returns the decoded length. */
static size_t unescape(const struct jstr *s, char *dst)
{
    const char *p = s->p;
    size_t n = s->n, o = 0, i = 0;
    while (i < n) {
        const char *bs = memchr(p + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (p + i)) : n - i;
        memcpy(dst + o, p + i, run);
        o += run;
        i += run;
        if (i >= n)
            break;
        char e = p[i + 1];
        i += 2;
        switch (e) {
        case 'b':
            dst[o++] = '\b';
            break;
        case 'f':
            dst[o++] = '\f';
            break;
        case 'n':
            dst[o++] = '\n';
            break;
        case 'r':
            dst[o++] = '\r';
            break;
        case 't':
            dst[o++] = '\t';
            break;
        case 'u': {
            unsigned cp = hex4(p + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u') {
                unsigned lo = hex4(p + i + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            o += utf8_put(dst + o, cp);
            break;
        }
        default: /* " \ / */
            dst[o++] = e;
            break;
        }
    }
    return o;
}

/* The decoded value of s: the raw span when it has no escape, else a copy in scratch. The first
 * use in a line resets scratch and reserves the line's size, so no later value moves it. */
static struct lw_str decode(const struct jstr *s, struct lw_buf *scratch, bool *reserved,
                            size_t line_n)
{
    struct lw_str v = {s->p, s->n};
    if (!s->nesc)
        return v;
    if (!*reserved) {
        scratch->len = 0;
        lw_buf_reserve(scratch, line_n);
        *reserved = true;
    }
    char *dst = scratch->p + scratch->len;
    v.p = dst;
    v.n = unescape(s, dst);
    scratch->len += v.n;
    scratch->p[scratch->len] = '\0';
    return v;
}

/* A JSON number, validated to the grammar (its value is never needed, so size is no concern). */
static bool skip_number(struct cur *c)
{
    size_t i = c->i;
    if (i < c->n && c->p[i] == '-')
        i++;
    if (i >= c->n)
        return false;
    if (c->p[i] == '0') {
        i++;
    } else if (c->p[i] >= '1' && c->p[i] <= '9') {
        while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < c->n && c->p[i] == '.') {
        size_t d = ++i;
        while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < c->n && (c->p[i] == 'e' || c->p[i] == 'E')) {
        i++;
        if (i < c->n && (c->p[i] == '+' || c->p[i] == '-'))
            i++;
        size_t d = i;
        while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    c->i = i;
    return true;
}

static bool skip_literal(struct cur *c, const char *lit, size_t len)
{
    if (c->n - c->i < len || memcmp(c->p + c->i, lit, len) != 0)
        return false;
    c->i += len;
    return true;
}

static bool skip_scalar(struct cur *c)
{
    struct jstr s;
    if (c->i >= c->n)
        return false;
    switch (c->p[c->i]) {
    case '"':
        return scan_string(c, &s);
    case 't':
        return skip_literal(c, "true", 4);
    case 'f':
        return skip_literal(c, "false", 5);
    case 'n':
        return skip_literal(c, "null", 4);
    default:
        return skip_number(c);
    }
}

/* "key" : with the whitespace around the colon. */
static bool member_key(struct cur *c, struct jstr *key)
{
    if (!scan_string(c, key))
        return false;
    skip_ws(c);
    if (!at(c, ':'))
        return false;
    c->i++;
    skip_ws(c);
    return true;
}

/* Skips one value of any type, validating it. Iterative with a bit stack (1 = object) so hostile
 * nesting costs neither recursion nor memory: deeper than DOCKER_MAX_DEPTH is refused. */
static bool skip_value(struct cur *c)
{
    uint64_t objs = 0; /* bit d set: level d is an object */
    int depth = 0;
    struct jstr key;
    for (;;) {
        /* A value starts here. */
        skip_ws(c);
        if (at(c, '{') || at(c, '[')) {
            if (depth == DOCKER_MAX_DEPTH)
                return false;
            bool obj = c->p[c->i] == '{';
            objs = obj ? objs | (UINT64_C(1) << depth) : objs & ~(UINT64_C(1) << depth);
            depth++;
            c->i++;
            skip_ws(c);
            if (at(c, obj ? '}' : ']')) {
                c->i++;
                depth--;
            } else {
                if (obj && !member_key(c, &key))
                    return false;
                continue;
            }
        } else if (!skip_scalar(c)) {
            return false;
        }
        /* A value ended: close containers until one continues with a comma. */
        for (;;) {
            if (depth == 0)
                return true;
            bool obj = objs >> (depth - 1) & 1;
            skip_ws(c);
            if (at(c, ',')) {
                c->i++;
                skip_ws(c);
                if (obj && !member_key(c, &key))
                    return false;
                break;
            }
            if (!at(c, obj ? '}' : ']'))
                return false;
            c->i++;
            depth--;
        }
    }
}

static bool key_is(const struct jstr *k, const char *name, size_t len)
{
    return k->nesc == 0 && k->n == len && memcmp(k->p, name, len) == 0;
}

static int not_docker(const char *line, size_t n, struct lw_container_msg *out)
{
    out->msg.p = line;
    out->msg.n = n;
    out->stream.p = "";
    out->stream.n = 0;
    out->ts_ns = 0;
    out->partial = false;
    return -1;
}

int lw_docker_parse(const char *line, size_t n, struct lw_buf *scratch,
                    struct lw_container_msg *out)
{
    struct cur c = {line, 0, n};
    struct jstr key, log, stream, time;
    bool have_log = false, have_stream = false, have_time = false;

    skip_ws(&c);
    if (!at(&c, '{'))
        return not_docker(line, n, out);
    c.i++;
    skip_ws(&c);
    if (at(&c, '}')) /* {} has no "log" */
        return not_docker(line, n, out);
    for (;;) {
        if (!member_key(&c, &key))
            return not_docker(line, n, out);
        if (key_is(&key, "log", 3)) {
            if (!scan_string(&c, &log))
                return not_docker(line, n, out);
            have_log = true;
        } else if (key_is(&key, "stream", 6)) {
            if (!scan_string(&c, &stream))
                return not_docker(line, n, out);
            have_stream = true;
        } else if (key_is(&key, "time", 4)) {
            if (!scan_string(&c, &time))
                return not_docker(line, n, out);
            have_time = true;
        } else if (key_is(&key, "attrs", 5) && !at(&c, '{')) {
            return not_docker(line, n, out); /* labels/env attributes: always an object */
        } else if (!skip_value(&c)) {
            return not_docker(line, n, out);
        }
        skip_ws(&c);
        if (at(&c, ',')) {
            c.i++;
            skip_ws(&c);
            continue;
        }
        if (!at(&c, '}'))
            return not_docker(line, n, out);
        c.i++;
        break;
    }
    skip_ws(&c);
    if (c.i != n || !have_log)
        return not_docker(line, n, out);

    /* The whole line is valid: only now decode, so a torn line never touches scratch. */
    bool reserved = false;
    if (log.nesc == 1 && log.first_esc + 2 == log.n && log.p[log.n - 1] == 'n') {
        /* The common line: the only escape is the final \n; point into the line. */
        out->msg.p = log.p;
        out->msg.n = log.n - 2;
        out->partial = false;
    } else {
        out->msg = decode(&log, scratch, &reserved, n);
        out->partial = true;
        if (out->msg.n && out->msg.p[out->msg.n - 1] == '\n') {
            out->msg.n--;
            out->partial = false;
            /* CRLF output (Windows images, some shells): the CR is line end too, as lw_record. */
            if (out->msg.n && out->msg.p[out->msg.n - 1] == '\r')
                out->msg.n--;
        }
    }
    if (!out->msg.n)
        out->msg.p = "";
    if (have_stream) {
        out->stream = decode(&stream, scratch, &reserved, n);
    } else {
        out->stream.p = "";
        out->stream.n = 0;
    }
    out->ts_ns = 0;
    if (have_time) {
        struct lw_str t = decode(&time, scratch, &reserved, n);
        if (lw_container_time_parse(t.p, t.n, &out->ts_ns) != 0)
            out->ts_ns = 0;
    }
    return 0;
}

/* ---------------------------------------------------------------- reassembly */

void lw_reassembler_init(struct lw_reassembler *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    r->max = max ? max : LW_MAX_LINE_DEFAULT;
}

/* Appends what fits under max; the first overflow counts the message as truncated. */
static void join(struct lw_reassembler *r, struct lw_str s)
{
    if (r->cutting)
        return;
    size_t room = r->max - r->buf.len;
    if (s.n > room) {
        s.n = room;
        r->cutting = true;
        r->truncated++;
    }
    lw_buf_append(&r->buf, s.p, s.n);
}

/* Hands out the joined message. The length is reset now but the bytes stay in place until the
 * next append overwrites them, which only a later call can do: that is the borrow out gets. */
static void emit(struct lw_reassembler *r, struct lw_str stream, struct lw_container_msg *out)
{
    out->msg.p = r->buf.len ? r->buf.p : "";
    out->msg.n = r->buf.len;
    out->stream = stream;
    out->ts_ns = r->first_ts;
    out->partial = false;
    r->buf.len = 0;
    r->cutting = false;
    r->first_ts = 0;
}

int lw_reassembler_feed(struct lw_reassembler *r, const struct lw_container_msg *part,
                        struct lw_container_msg *out)
{
    /* Pending is "buf non-empty": an empty partial part adds nothing, so it can be ignored, and
     * a cut message holds max > 0 bytes. */
    if (!r->buf.len && !part->partial) {
        *out = *part;
        if (out->msg.n > r->max) {
            out->msg.n = r->max;
            r->truncated++;
        }
        return 1;
    }
    if (!r->buf.len)
        r->first_ts = 0;
    if (!r->first_ts)
        r->first_ts = part->ts_ns;
    join(r, part->msg);
    if (part->partial)
        return 0;
    emit(r, part->stream, out);
    return 1;
}

int lw_reassembler_flush(struct lw_reassembler *r, struct lw_container_msg *out)
{
    if (!r->buf.len)
        return 0;
    struct lw_str none = {"", 0};
    emit(r, none, out);
    return 1;
}

void lw_reassembler_free(struct lw_reassembler *r)
{
    if (!r)
        return;
    lw_buf_free(&r->buf);
    memset(r, 0, sizeof(*r));
}
