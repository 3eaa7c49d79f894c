/* test_cri_parse.c: CRI container log decoding (kubelet/containerd lines), F/P sequences of
 * stdout and stderr interleaved and joined by one reassembler per stream, truncation, RFC 3339
 * timestamps, and garbage that must fail cleanly without reading past the line. */
#include "ingest.h"
#include "test.h"

#include <stdlib.h>

static char sbuf[8][4096];

static const char *S(struct lw_str s)
{
    static int k;
    char *b = sbuf[k++ % 8];
    size_t n = s.n < sizeof(sbuf[0]) - 1 ? s.n : sizeof(sbuf[0]) - 1;
    memcpy(b, s.p, n);
    b[n] = '\0';
    return b;
}

/* Exact-size copies of the lines, kept until the end since the fields point into them. */
static char **copies;
static size_t ncopies, capcopies;

static int parse_n(const char *line, size_t n, struct lw_container_msg *m)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, line, n);
    if (ncopies == capcopies) {
        capcopies = capcopies ? 2 * capcopies : 64;
        copies = realloc(copies, capcopies * sizeof(*copies));
    }
    copies[ncopies++] = c;
    int rc = lw_cri_parse(c, n, m);
    CHECK(m->msg.n == 0 || (m->msg.p >= c && m->msg.p + m->msg.n <= c + n));
    return rc;
}

static int parse(const char *line, struct lw_container_msg *m)
{
    return parse_n(line, strlen(line), m);
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    return ((lw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60 *
               LW_NS_PER_SEC +
           (int64_t)s * LW_NS_PER_SEC;
}

static void test_lines(void)
{
    struct lw_container_msg m;
    CHECK_EQ(parse("2024-03-10T06:55:46.123456789Z stdout F GET /health 200", &m), 0);
    CHECK_STR(S(m.msg), "GET /health 200");
    CHECK_STR(S(m.stream), "stdout");
    CHECK_EQ(m.ts_ns, utc(2024, 3, 10, 6, 55, 46) + 123456789);
    CHECK_EQ(m.partial, false);

    /* containerd writes local offsets; fractions of any length. */
    CHECK_EQ(parse("2024-03-10T08:55:46.5+02:00 stderr P part one ", &m), 0);
    CHECK_STR(S(m.msg), "part one ");
    CHECK_STR(S(m.stream), "stderr");
    CHECK_EQ(m.ts_ns, utc(2024, 3, 10, 6, 55, 46) + 500000000);
    CHECK_EQ(m.partial, true);
    CHECK_EQ(parse("2024-03-10T06:55:46Z stdout F x", &m), 0);
    CHECK_EQ(m.ts_ns, utc(2024, 3, 10, 6, 55, 46));

    /* The message is everything after one space, spaces and tabs included. */
    CHECK_EQ(parse("2024-03-10T06:55:46Z stdout F   indented\tand  spaced  ", &m), 0);
    CHECK_STR(S(m.msg), "  indented\tand  spaced  ");
    /* Empty lines: the kubelet writes the space; a line cut at the tag is accepted too. */
    CHECK_EQ(parse("2024-03-10T06:55:46Z stdout F ", &m), 0);
    CHECK_EQ(m.msg.n, 0);
    CHECK_EQ(parse("2024-03-10T06:55:46Z stdout F", &m), 0);
    CHECK_EQ(m.msg.n, 0);
    CHECK_EQ(m.partial, false);
    /* Tags beyond the first, ':'-separated. */
    CHECK_EQ(parse("2024-03-10T06:55:46Z stdout P:x:y more", &m), 0);
    CHECK_EQ(m.partial, true);
    CHECK_STR(S(m.msg), "more");
    /* A JSON body and bytes of any kind pass through untouched. */
    CHECK_EQ(
        parse("2024-03-10T06:55:46Z stdout F {\"level\":\"error\",\"msg\":\"a\\tb\"} \xff", &m), 0);
    CHECK_STR(S(m.msg), "{\"level\":\"error\",\"msg\":\"a\\tb\"} \xff");
    static const char nul[] = "2024-03-10T06:55:46Z stdout F a\0b";
    CHECK_EQ(parse_n(nul, sizeof(nul) - 1, &m), 0);
    CHECK_EQ(m.msg.n, 3);
    CHECK(memcmp(m.msg.p, "a\0b", 3) == 0);
}

static void test_time(void)
{
    int64_t ns;
    CHECK_EQ(lw_container_time_parse("1970-01-01T00:00:01Z", 20, &ns), 0);
    CHECK_EQ(ns, LW_NS_PER_SEC);
    CHECK_EQ(lw_container_time_parse("2024-02-29T23:59:59.999999999z", 30, &ns), 0);
    CHECK_EQ(ns, utc(2024, 2, 29, 23, 59, 59) + 999999999);
    CHECK_EQ(lw_container_time_parse("2016-12-31T23:59:60Z", 20, &ns), 0); /* leap second */
    CHECK_EQ(ns, utc(2017, 1, 1, 0, 0, 0));
    CHECK_EQ(lw_container_time_parse("1969-12-31T23:59:59.5Z", 22, &ns), 0);
    CHECK_EQ(ns, -500000000);
    CHECK_EQ(lw_container_time_parse("2024-03-10t06:55:46-00:30", 25, &ns), 0);
    CHECK_EQ(ns, utc(2024, 3, 10, 7, 25, 46));
    /* Well-formed beyond int64 nanoseconds: 0. */
    ns = 42;
    CHECK_EQ(lw_container_time_parse("2262-04-12T00:00:00Z", 20, &ns), 0);
    CHECK_EQ(ns, 0);
    CHECK_EQ(lw_container_time_parse("1677-01-01T00:00:00Z", 20, &ns), 0);
    CHECK_EQ(ns, 0);
    CHECK_EQ(lw_container_time_parse("2262-04-11T00:00:00Z", 20, &ns), 0);
    CHECK(ns > 0);
    static const char *const bad[] = {
        "",
        "2024-03-10",
        "2024-03-10T06:55:46",
        "2024-03-10 06:55:46Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-03-10T24:00:00Z",
        "2024-03-10T06:60:00Z",
        "2024-03-10T06:55:61Z",
        "2024-03-10T06:55:46.Z",
        "2024-03-10T06:55:46+0100",
        "2024-03-10T06:55:46+01",
        "2024-03-10T06:55:46+24:00",
        "2024-03-10T06:55:46ZZ",
        "+024-03-10T06:55:46Z",
        "2024-3-10T06:55:46Z",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        size_t n = strlen(bad[k]);
        char *c = malloc(n ? n : 1);
        memcpy(c, bad[k], n);
        int rc = lw_container_time_parse(c, n, &ns);
        CHECK_EQ(rc, -1);
        if (rc != -1)
            fprintf(stderr, "  accepted: %s\n", bad[k]);
        free(c);
    }
}

/* One pod writing a long line to stdout and another to stderr at the same time: the kubelet
 * splits each at 16 KiB into P parts; one reassembler per stream puts each back together. */
static void test_interleaved(void)
{
    static const char *const lines[] = {
        "2024-03-10T06:55:46.000000001Z stdout P out-1a ",
        "2024-03-10T06:55:46.000000002Z stderr P err-1a,",
        "2024-03-10T06:55:46.000000003Z stdout P out-1b ",
        "2024-03-10T06:55:46.000000004Z stderr F err-1b",
        "2024-03-10T06:55:46.000000005Z stderr F err-2",
        "2024-03-10T06:55:46.000000006Z stdout F out-1c",
        "2024-03-10T06:55:46.000000007Z stdout F out-2",
        "2024-03-10T06:55:46.000000008Z stderr P ",
        "2024-03-10T06:55:46.000000009Z stderr P err-3a",
        "2024-03-10T06:55:46.000000010Z stdout P out-3a",
        "2024-03-10T06:55:46.000000011Z stderr F ",
        "2024-03-10T06:55:46.000000012Z stdout P out-3b",
        "2024-03-10T06:55:46.000000013Z stdout F ",
    };
    static const struct {
        const char *stream, *msg;
        int ns;
    } want[] = {
        {"stderr", "err-1a,err-1b", 2},
        {"stderr", "err-2", 5},
        {"stdout", "out-1a out-1b out-1c", 1},
        {"stdout", "out-2", 7},
        {"stderr", "err-3a", 9},
        {"stdout", "out-3aout-3b", 10},
    };
    struct lw_reassembler out_r, err_r;
    lw_reassembler_init(&out_r, 1024);
    lw_reassembler_init(&err_r, 1024);
    size_t got = 0;
    int64_t base = utc(2024, 3, 10, 6, 55, 46);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct lw_container_msg part, full;
        CHECK_EQ(parse(lines[i], &part), 0);
        struct lw_reassembler *r = part.stream.p[3] == 'o' ? &out_r : &err_r;
        if (lw_reassembler_feed(r, &part, &full) == 1) {
            CHECK(got < sizeof(want) / sizeof(want[0]));
            if (got < sizeof(want) / sizeof(want[0])) {
                CHECK_STR(S(full.stream), want[got].stream);
                CHECK_STR(S(full.msg), want[got].msg);
                CHECK_EQ(full.ts_ns, base + want[got].ns);
                CHECK_EQ(full.partial, false);
            }
            got++;
        }
    }
    CHECK_EQ(got, sizeof(want) / sizeof(want[0]));
    struct lw_container_msg rest;
    CHECK_EQ(lw_reassembler_flush(&out_r, &rest), 0);
    CHECK_EQ(lw_reassembler_flush(&err_r, &rest), 0);
    CHECK_EQ(out_r.truncated + err_r.truncated, 0);
    lw_reassembler_free(&out_r);
    lw_reassembler_free(&err_r);
}

/* A 40000-byte line split into 16 KiB P parts and a final F, exactly reassembled. */
static void test_long_line(void)
{
    size_t len = 40000, part = 16384;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = (char)(' ' + (i * 7) % 95);
    struct lw_reassembler r;
    lw_reassembler_init(&r, 0);
    struct lw_buf line = {0};
    struct lw_container_msg full = {0};
    int ready = 0;
    for (size_t off = 0; off < len; off += part) {
        size_t k = len - off < part ? len - off : part;
        bool last = off + k == len;
        lw_buf_reset(&line);
        lw_buf_printf(&line, "2024-03-10T06:55:%02dZ stdout %c ", (int)(off / part),
                      last ? 'F' : 'P');
        lw_buf_append(&line, text + off, k);
        struct lw_container_msg m;
        CHECK_EQ(parse_n(line.p, line.len, &m), 0);
        CHECK_EQ(m.msg.n, k);
        int rc = lw_reassembler_feed(&r, &m, &full);
        CHECK_EQ(rc, last);
        ready += rc;
    }
    CHECK_EQ(ready, 1);
    CHECK(full.msg.n == len && memcmp(full.msg.p, text, len) == 0);
    CHECK_EQ(full.ts_ns, utc(2024, 3, 10, 6, 55, 0));
    lw_buf_free(&line);
    lw_reassembler_free(&r);
    free(text);
}

static void test_truncation(void)
{
    struct lw_reassembler r;
    lw_reassembler_init(&r, 8);
    struct lw_container_msg m, out;
    CHECK_EQ(parse("2024-03-10T06:55:46Z stdout P abcdef", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(parse("2024-03-10T06:55:47Z stdout P ghijkl", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(parse("2024-03-10T06:55:48Z stdout P mnop", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(parse("2024-03-10T06:55:49Z stdout F qrst", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 1);
    CHECK_STR(S(out.msg), "abcdefgh");
    CHECK_EQ(out.ts_ns, utc(2024, 3, 10, 6, 55, 46));
    CHECK_EQ(r.truncated, 1);
    CHECK_EQ(parse("2024-03-10T06:55:50Z stdout F next", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 1);
    CHECK_STR(S(out.msg), "next");
    CHECK_EQ(out.ts_ns, utc(2024, 3, 10, 6, 55, 50));
    /* A stream that ends on a P part: flush gives what there is. */
    CHECK_EQ(parse("2024-03-10T06:55:51Z stdout P tail", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(lw_reassembler_flush(&r, &out), 1);
    CHECK_STR(S(out.msg), "tail");
    CHECK_EQ(out.ts_ns, utc(2024, 3, 10, 6, 55, 51));
    CHECK_EQ(lw_reassembler_flush(&r, &out), 0);
    lw_reassembler_free(&r);
}

static void test_garbage(void)
{
    static const char *const bad[] = {
        "",
        " ",
        "plain text line",
        "2024-03-10T06:55:46Z",
        "2024-03-10T06:55:46Z ",
        "2024-03-10T06:55:46Z stdout",
        "2024-03-10T06:55:46Z stdout ",
        "2024-03-10T06:55:46Z stdin F x",
        "2024-03-10T06:55:46Z stdout X x",
        "2024-03-10T06:55:46Z stdout FF x",
        "2024-03-10T06:55:46Z stdout  F x",
        "2024-03-10T06:55:46Z  stdout F x",
        "2024-03-10 06:55:46Z stdout F x",
        "Mar 10 06:55:46 host app: x",
        "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2024-03-10T06:55:46Z\"}",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct lw_container_msg m;
        int rc = parse(bad[k], &m);
        CHECK_EQ(rc, -1);
        if (rc != -1)
            fprintf(stderr, "  accepted: %s\n", bad[k]);
        CHECK_STR(S(m.msg), bad[k]);
        CHECK_EQ(m.stream.n, 0);
        CHECK_EQ(m.ts_ns, 0);
        CHECK_EQ(m.partial, false);
    }
    /* Every prefix: -1 up to the tag, then a valid line with a shorter message; never a read
     * past the end. */
    const char *good = "2024-03-10T06:55:46.123456789+02:00 stderr P message";
    size_t n = strlen(good), ok = 0;
    for (size_t i = 0; i <= n; i++) {
        struct lw_container_msg m;
        ok += parse_n(good, i, &m) == 0;
    }
    CHECK_EQ(ok, strlen(" message") + 1);
}

int main(void)
{
    test_lines();
    test_time();
    test_interleaved();
    test_long_line();
    test_truncation();
    test_garbage();
    for (size_t i = 0; i < ncopies; i++)
        free(copies[i]);
    free(copies);
    return test_summary();
}
