/* test_docker_parse.c: Docker json-file decoding on the fluent-bit fixtures (tests/data/docker),
 * JSON escapes, timestamps, reassembly of engine-split lines and truncation, and garbage that
 * must fail cleanly without reading past the line (every line is an exact-size heap copy). */
#include "ingest.h"
#include "test.h"

#include <stdlib.h>

#define DATA "../../data/docker/"

static char sbuf[8][4096];

/* The field as a C string, for CHECK_STR (NULs shown as '0' would hide bugs: tests that care
 * about NUL bytes use memcmp). */
static const char *S(struct lw_str s)
{
    static int k;
    char *b = sbuf[k++ % 8];
    size_t n = s.n < sizeof(sbuf[0]) - 1 ? s.n : sizeof(sbuf[0]) - 1;
    memcpy(b, s.p, n);
    b[n] = '\0';
    return b;
}

/* Exact-size copies of the lines parsed so far, so ASan catches a read past n, kept alive
 * until the end because decoded fields may point into them. */
static char **copies;
static size_t ncopies, capcopies;

static const char *copy_of(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, p, n);
    if (ncopies == capcopies) {
        capcopies = capcopies ? 2 * capcopies : 64;
        copies = realloc(copies, capcopies * sizeof(*copies));
    }
    copies[ncopies++] = c;
    return c;
}

static struct lw_buf scratch;

static int parse_n(const char *line, size_t n, struct lw_container_msg *m)
{
    const char *c = copy_of(line, n);
    int rc = lw_docker_parse(c, n, &scratch, m);
    /* Whatever the result, the fields are inside the line or inside scratch. */
    const char *sp = scratch.p;
    bool in_line = m->msg.n == 0 || (m->msg.p >= c && m->msg.p + m->msg.n <= c + n);
    bool in_scratch = sp && m->msg.p >= sp && m->msg.p + m->msg.n <= sp + scratch.cap;
    CHECK(in_line || in_scratch);
    return rc;
}

static int parse(const char *line, struct lw_container_msg *m)
{
    return parse_n(line, strlen(line), m);
}

/* The lines of a file (without their \n), as one NUL-separated block; count in *n. */
static char *read_lines(const char *path, size_t *n, size_t **lens)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    static char buf[1 << 16];
    size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    char *out = malloc(len + 1);
    memcpy(out, buf, len);
    *lens = malloc((len + 1) * sizeof(size_t));
    *n = 0;
    size_t s = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || out[i] == '\n') {
            if (i > s)
                (*lens)[(*n)++] = i - s;
            if (i < len)
                out[i] = '\0';
            s = i + 1;
        }
    }
    return out;
}

/* Decodes every line of an fixture through one reassembler; the joined messages in msgs. */
static size_t run_fixture(const char *name, const char **msgs, size_t max, int64_t *ts)
{
    char path[256];
    snprintf(path, sizeof(path), DATA "%s", name);
    size_t n, *lens, got = 0;
    char *all = read_lines(path, &n, &lens);
    struct lw_reassembler r;
    lw_reassembler_init(&r, 0);
    const char *p = all;
    for (size_t i = 0; i < n; i++) {
        struct lw_container_msg part, full;
        CHECK_EQ(parse_n(p, lens[i], &part), 0);
        if (lw_reassembler_feed(&r, &part, &full) == 1 && got < max) {
            ts[got] = full.ts_ns;
            msgs[got++] = lw_strndup(full.msg.p, full.msg.n);
        }
        p += lens[i] + 1;
    }
    struct lw_container_msg rest;
    if (lw_reassembler_flush(&r, &rest) == 1 && got < max) {
        ts[got] = rest.ts_ns;
        msgs[got++] = lw_strndup(rest.msg.p, rest.msg.n);
    }
    lw_reassembler_free(&r);
    free(lens);
    free(all);
    return got;
}

static void check_fixture(const char *name, const char *const *want, size_t nwant)
{
    const char *got[32];
    int64_t ts[32];
    size_t n = run_fixture(name, got, 32, ts);
    CHECK_EQ(n, nwant);
    for (size_t i = 0; i < n; i++) {
        if (i < nwant)
            CHECK_STR(got[i], want[i]);
        free((char *)got[i]);
    }
}

#define TS_2019 (INT64_C(1554141513) * LW_NS_PER_SEC + 598656444)

static void test_fixtures_single(void)
{
    static const struct {
        const char *file, *msg;
        bool partial;
    } cases[] = {
        {"core_base-with-namespace-labels-and-annotations_fluent-bit.log", "Fluent Bit is logging",
         false},
        {"core_base-with-owner-references_fluent-bit.log", "Fluent Bit is logging", false},
        {"core_base_fluent-bit.log", "Fluent Bit is logging", false},
        {"core_no-meta_text.log", "Simple text", false},
        /* No trailing \n in the record: the engine would write more. */
        {"core_uat-myapp-12345_fluent-bit.log", "hello from uat pod", true},
        {"core_unescaping_json.log",
         "{\"stringified-json\":\"{\\\"stringified-json\\\":\\\"{\\\\\\\"stringified-json\\\\\\\":"
         "\\\\\\\"\\\\\\\"}\\\"}\",\"text\":\"quoted \\\"text with embedded quoted "
         "\\\\\\\"text\\\\\\\"\\\"\"}",
         false},
        {"core_unescaping_text.log",
         "Text with embedded quoted \"text with embedded quoted \\\"text with embedded quoted "
         "\\\\\\\"text\\\\\\\"\\\"\"",
         false},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char path[256];
        snprintf(path, sizeof(path), DATA "%s", cases[k].file);
        size_t n, *lens;
        char *all = read_lines(path, &n, &lens);
        CHECK_EQ(n, 1);
        struct lw_container_msg m;
        CHECK_EQ(parse_n(all, lens[0], &m), 0);
        CHECK_STR(S(m.msg), cases[k].msg);
        CHECK_STR(S(m.stream), "stdout");
        CHECK_EQ(m.ts_ns, TS_2019);
        CHECK_EQ(m.partial, cases[k].partial);
        free(lens);
        free(all);
    }
    /* The record that nothing completes comes out of the reassembler only when flushed. */
    const char *got[4];
    int64_t ts[4];
    CHECK_EQ(run_fixture("core_uat-myapp-12345_fluent-bit.log", got, 4, ts), 1);
    CHECK_STR(got[0], "hello from uat pod");
    CHECK_EQ(ts[0], TS_2019);
    free((char *)got[0]);
}

static void test_fixtures_joined(void)
{
    static const char *const dockermode[] = {"Single log", "Second log", "Third log"};
    check_fixture("dockermode.log", dockermode, 3);
    static const char *const multiple[] = {"2020-03-24 Multiple lines: ", "first bullet point",
                                           "second bullet point",         "third bullet point",
                                           "fourth bullet point",         "2020-03-24 Single line"};
    check_fixture("dockermode_multiple_lines.log", multiple, 6);
    check_fixture("dockermode_splitted_multiple_lines.log", multiple, 6);
    static const char *const firstline[] = {"Single log",
                                            "Second log",
                                            "Third log",
                                            "2020-03-24 Multiple lines: ",
                                            "first bullet point",
                                            "second bullet point",
                                            "third bullet point",
                                            "fourth bullet point",
                                            "2020-03-24 Single line"};
    check_fixture("dockermode_firstline_detection.log", firstline, 9);
    static const char *const splitted[] = {"2020-03-24 Single line",
                                           "2020-03-24 Another single line"};
    check_fixture("dockermode_splitted_line.log", splitted, 2);

    /* The parts themselves: partial until the one that ends in \n. */
    struct lw_container_msg m;
    CHECK_EQ(parse("{\"log\":\"2020-03-24 Single \"}", &m), 0);
    CHECK_EQ(m.partial, true);
    CHECK_STR(S(m.msg), "2020-03-24 Single ");
    CHECK_EQ(m.stream.n, 0);
    CHECK_EQ(m.ts_ns, 0);
    CHECK_EQ(parse("{\"log\":\"ne\\n\"}", &m), 0);
    CHECK_EQ(m.partial, false);
    CHECK_STR(S(m.msg), "ne");
}

static void test_escapes(void)
{
    struct lw_container_msg m;
    CHECK_EQ(parse("{\"log\":\"a\\tb\\\"c\\\\d\\/e\\bf\\fg\\rh\\n\"}", &m), 0);
    CHECK_STR(S(m.msg), "a\tb\"c\\d/e\bf\fg\rh");
    CHECK_EQ(m.partial, false);
    /* \u escapes: BMP, a surrogate pair (U+1F600), upper-case hex. */
    CHECK_EQ(parse("{\"log\":\"caf\\u00e9 \\u20AC \\ud83d\\ude00\\n\"}", &m), 0);
    CHECK_STR(S(m.msg), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* Lone surrogates become U+FFFD; what follows is decoded normally. */
    CHECK_EQ(parse("{\"log\":\"\\ud83dx\\ude00\\ud800\\u0041\"}", &m), 0);
    CHECK_STR(S(m.msg), "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd"
                        "A");
    CHECK_EQ(m.partial, true);
    /* \u0000 is a NUL byte inside msg. */
    CHECK_EQ(parse("{\"log\":\"a\\u0000b\\n\"}", &m), 0);
    CHECK_EQ(m.msg.n, 3);
    CHECK(memcmp(m.msg.p, "a\0b", 3) == 0);
    /* Invalid UTF-8 passes through as bytes. */
    CHECK_EQ(parse("{\"log\":\"\xff\xfe\xc3(\\n\"}", &m), 0);
    CHECK_STR(S(m.msg), "\xff\xfe\xc3(");
    /* CRLF output: both go; a lone CR stays. An escaped backslash before n is not a newline. */
    CHECK_EQ(parse("{\"log\":\"dos\\r\\n\"}", &m), 0);
    CHECK_STR(S(m.msg), "dos");
    CHECK_EQ(m.partial, false);
    CHECK_EQ(parse("{\"log\":\"cr\\r\"}", &m), 0);
    CHECK_STR(S(m.msg), "cr\r");
    CHECK_EQ(m.partial, true);
    CHECK_EQ(parse("{\"log\":\"a\\\\n\"}", &m), 0);
    CHECK_STR(S(m.msg), "a\\n");
    CHECK_EQ(m.partial, true);
    CHECK_EQ(parse("{\"log\":\"\\n\"}", &m), 0);
    CHECK_EQ(m.msg.n, 0);
    CHECK_EQ(m.partial, false);
    CHECK_EQ(parse("{\"log\":\"\"}", &m), 0);
    CHECK_EQ(m.msg.n, 0);
    CHECK_EQ(m.partial, true);
}

static void test_keys(void)
{
    struct lw_container_msg m;
    /* Any order, whitespace everywhere, attrs and unknown keys of every type skipped. */
    CHECK_EQ(parse(" { \"time\" : \"2024-03-10T06:55:46.123456789Z\" ,\t\"attrs\":{\"tag\":\"web\","
                   "\"x\":{\"y\":[1,2.5e-3,-0,true,false,null,\"s\\\"\",{},[]]}}, \"stream\":"
                   "\"stderr\", \"extra\": [[{\"a\":[]}]], \"n\": -12.5E+3, \"log\" : \"hi\\n\" } ",
                   &m),
             0);
    CHECK_STR(S(m.msg), "hi");
    CHECK_STR(S(m.stream), "stderr");
    int64_t t2024 =
        (lw_days_from_civil(2024, 3, 10) * 86400 + 6 * 3600 + 55 * 60 + 46) * LW_NS_PER_SEC +
        123456789;
    CHECK_EQ(m.ts_ns, t2024);
    /* A key spelled with an escape is not "log". */
    CHECK_EQ(parse("{\"l\\u006fg\":\"x\\n\"}", &m), -1);
    /* The last of duplicate keys wins, as in most JSON decoders. */
    CHECK_EQ(parse("{\"log\":\"one\\n\",\"log\":\"two\\n\"}", &m), 0);
    CHECK_STR(S(m.msg), "two");
    /* An escaped stream still decodes. */
    CHECK_EQ(parse("{\"log\":\"a\\tb\\n\",\"stream\":\"std\\u006fut\"}", &m), 0);
    CHECK_STR(S(m.msg), "a\tb");
    CHECK_STR(S(m.stream), "stdout");
    /* Huge numbers in unknown keys are only skipped. */
    CHECK_EQ(parse("{\"n\":123456789012345678901234567890123456789,\"e\":1e999999999,\"log\":"
                   "\"x\\n\"}",
                   &m),
             0);
    CHECK_STR(S(m.msg), "x");
    /* Moderate nesting in attrs is fine. */
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"attrs\":{\"a\":{\"b\":{\"c\":[[[\"d\"]]]}}}}", &m), 0);
}

static void test_time(void)
{
    struct lw_container_msg m;
    int64_t base = lw_days_from_civil(2024, 3, 10) * 86400 + 6 * 3600 + 55 * 60 + 46;
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"2024-03-10T06:55:46Z\"}", &m), 0);
    CHECK_EQ(m.ts_ns, base * LW_NS_PER_SEC);
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"2024-03-10T07:55:46.5+01:00\"}", &m), 0);
    CHECK_EQ(m.ts_ns, base * LW_NS_PER_SEC + 500000000);
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"2024-03-10T01:25:46.1234567891-05:30\"}", &m), 0);
    CHECK_EQ(m.ts_ns, base * LW_NS_PER_SEC + 123456789);
    /* Unparseable or out-of-range times: the record stays, without a time. */
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"yesterday\"}", &m), 0);
    CHECK_EQ(m.ts_ns, 0);
    CHECK_STR(S(m.msg), "x");
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"2024-02-30T00:00:00Z\"}", &m), 0);
    CHECK_EQ(m.ts_ns, 0);
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"9999-12-31T23:59:59Z\"}", &m), 0);
    CHECK_EQ(m.ts_ns, 0);
    CHECK_EQ(parse("{\"log\":\"x\\n\",\"time\":\"2024-03-10T06:55:46Z \"}", &m), 0);
    CHECK_EQ(m.ts_ns, 0);
}

/* Docker splits a line longer than 16 KiB into parts of 16 KiB of text; only the last ends in
 * \n. Escapes make the JSON parts longer than their text. */
static void test_long_line(void)
{
    size_t len = 40000, part = 16384;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = "abc \"def\"\t\\ghij/"[i % 17];
    struct lw_reassembler r;
    lw_reassembler_init(&r, 0);
    struct lw_buf js = {0};
    int ready = 0;
    struct lw_container_msg full = {0};
    for (size_t off = 0; off < len; off += part) {
        size_t k = len - off < part ? len - off : part;
        bool last = off + k == len;
        lw_buf_reset(&js);
        lw_buf_puts(&js, "{\"log\":");
        struct lw_buf body = {0};
        lw_buf_append(&body, text + off, k);
        if (last)
            lw_buf_putc(&body, '\n');
        lw_buf_json_str(&js, body.p, body.len);
        lw_buf_free(&body);
        lw_buf_printf(&js, ",\"stream\":\"stdout\",\"time\":\"2024-03-10T06:55:%02d.000000001Z\"}",
                      (int)(off / part));
        struct lw_container_msg m;
        CHECK_EQ(parse_n(js.p, js.len, &m), 0);
        CHECK_EQ(m.partial, !last);
        CHECK_EQ(m.msg.n, k);
        int rc = lw_reassembler_feed(&r, &m, &full);
        CHECK_EQ(rc, last);
        ready += rc;
    }
    CHECK_EQ(ready, 1);
    CHECK_EQ(full.msg.n, len);
    CHECK(full.msg.n == len && memcmp(full.msg.p, text, len) == 0);
    CHECK_STR(S(full.stream), "stdout");
    CHECK_EQ(full.partial, false);
    /* The time of the first part. */
    int64_t t0 = (lw_days_from_civil(2024, 3, 10) * 86400 + 6 * 3600 + 55 * 60) * LW_NS_PER_SEC + 1;
    CHECK_EQ(full.ts_ns, t0);
    CHECK_EQ(r.truncated, 0);
    lw_buf_free(&js);
    lw_reassembler_free(&r);
    free(text);
}

static void test_truncation(void)
{
    struct lw_reassembler r;
    lw_reassembler_init(&r, 10);
    struct lw_container_msg out, m;
    CHECK_EQ(parse("{\"log\":\"0123456\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(parse("{\"log\":\"789abc\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(r.truncated, 1);
    CHECK_EQ(parse("{\"log\":\"defgh\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(parse("{\"log\":\"end\\n\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 1);
    CHECK_STR(S(out.msg), "0123456789");
    CHECK_EQ(r.truncated, 1);
    /* The next message is whole again; a single full line over max is cut too. */
    CHECK_EQ(parse("{\"log\":\"short\\n\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 1);
    CHECK_STR(S(out.msg), "short");
    CHECK_EQ(parse("{\"log\":\"0123456789ABCDEF\\n\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 1);
    CHECK_STR(S(out.msg), "0123456789");
    CHECK_EQ(r.truncated, 2);
    /* Exactly max is not truncated. */
    CHECK_EQ(parse("{\"log\":\"01234\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(parse("{\"log\":\"56789\\n\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 1);
    CHECK_STR(S(out.msg), "0123456789");
    CHECK_EQ(r.truncated, 2);
    /* Nothing pending: flush has nothing. Empty partial parts add nothing. */
    CHECK_EQ(lw_reassembler_flush(&r, &out), 0);
    CHECK_EQ(parse("{\"log\":\"\"}", &m), 0);
    CHECK_EQ(lw_reassembler_feed(&r, &m, &out), 0);
    CHECK_EQ(lw_reassembler_flush(&r, &out), 0);
    lw_reassembler_free(&r);
    lw_reassembler_free(NULL);
}

static void test_garbage(void)
{
    static const char *const bad[] = {
        "",
        "plain text line",
        "[\"log\",\"x\"]",
        "{}",
        "{\"stream\":\"stdout\"}",
        "{\"log\":\"x\\n\"",
        "{\"log\":\"x\\n\"}}",
        "{\"log\":\"x\\n\"} trailing",
        "{\"log\":\"x\\n\",}",
        "{,\"log\":\"x\\n\"}",
        "{\"log\" \"x\\n\"}",
        "{\"log\":x}",
        "{'log':'x'}",
        "{\"log\":\"bad escape \\q\"}",
        "{\"log\":\"short \\u12\"}",
        "{\"log\":\"not hex \\u12g4\"}",
        "{\"log\":\"raw\ttab\"}",
        "{\"log\":\"ends in backslash\\",
        /* Wrong types. */
        "{\"log\":1}",
        "{\"log\":null}",
        "{\"log\":[\"x\"]}",
        "{\"log\":{\"a\":\"b\"}}",
        "{\"log\":\"x\\n\",\"stream\":1}",
        "{\"log\":\"x\\n\",\"time\":1710053746}",
        "{\"log\":\"x\\n\",\"attrs\":\"tag\"}",
        "{\"log\":\"x\\n\",\"attrs\":[]}",
        /* Broken values in unknown keys. */
        "{\"log\":\"x\\n\",\"n\":01}",
        "{\"log\":\"x\\n\",\"n\":1.}",
        "{\"log\":\"x\\n\",\"n\":-}",
        "{\"log\":\"x\\n\",\"n\":1e}",
        "{\"log\":\"x\\n\",\"n\":tru}",
        "{\"log\":\"x\\n\",\"n\":[1,]}",
        "{\"log\":\"x\\n\",\"n\":[1 2]}",
        "{\"log\":\"x\\n\",\"n\":{\"a\"}}",
        "{\"log\":\"x\\n\",\"n\":{\"a\":1,}}",
        "{\"log\":\"x\\n\",\"n\":[}",
        "{\"log\":\"x\\n\",\"n\":{]}",
        "{\"log\":\"x\\n\",\"n\":{1:2}}",
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

    /* Every proper prefix of a valid line is truncated JSON: -1, never a read past the end. */
    static const char *const good[] = {
        "{\"log\":\"caf\\u00e9 \\ud83d\\ude00 "
        "\\\"q\\\"\\n\",\"stream\":\"stderr\",\"attrs\":{\"a\":"
        "[1,-2.5e+3,true,null,{\"b\":\"c\"}]},\"time\":\"2024-03-10T06:55:46.123456789+02:00\"}",
        "{\"log\":\"x\\n\"}",
    };
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        size_t n = strlen(good[k]);
        struct lw_container_msg m;
        CHECK_EQ(parse_n(good[k], n, &m), 0);
        int fails = 0;
        for (size_t i = 0; i < n; i++)
            fails += parse_n(good[k], i, &m) == -1;
        CHECK_EQ(fails, n);
    }

    /* Deep nesting in attrs or anywhere: refused at 64 levels, without recursion. */
    size_t depth = 100000;
    struct lw_buf deep = {0};
    lw_buf_puts(&deep, "{\"log\":\"x\\n\",\"attrs\":{\"a\":");
    for (size_t i = 0; i < depth; i++)
        lw_buf_putc(&deep, '[');
    for (size_t i = 0; i < depth; i++)
        lw_buf_putc(&deep, ']');
    lw_buf_puts(&deep, "}}");
    struct lw_container_msg m;
    CHECK_EQ(parse_n(deep.p, deep.len, &m), -1);
    lw_buf_reset(&deep);
    lw_buf_puts(&deep, "{\"log\":\"x\\n\",\"attrs\":");
    for (size_t i = 0; i < 63; i++)
        lw_buf_puts(&deep, "{\"a\":");
    lw_buf_puts(&deep, "1");
    for (size_t i = 0; i < 63; i++)
        lw_buf_putc(&deep, '}');
    lw_buf_puts(&deep, "}");
    CHECK_EQ(parse_n(deep.p, deep.len, &m), 0); /* 64 levels with attrs itself */
    lw_buf_reset(&deep);
    lw_buf_puts(&deep, "{\"log\":\"x\\n\",\"attrs\":{\"a\":");
    for (size_t i = 0; i < depth; i++)
        lw_buf_puts(&deep, "{\"a\":");
    CHECK_EQ(parse_n(deep.p, deep.len, &m), -1);
    lw_buf_free(&deep);
}

/* The common line needs no copy at all: scratch is not even allocated. */
static void test_no_alloc(void)
{
    struct lw_buf s = {0};
    struct lw_container_msg m;
    const char *line =
        "{\"log\":\"GET /health 200\\n\",\"stream\":\"stdout\",\"time\":\"2024-03-10T06:55:46Z\"}";
    CHECK_EQ(lw_docker_parse(line, strlen(line), &s, &m), 0);
    CHECK(s.p == NULL);
    CHECK(m.msg.p == line + 8);
    CHECK_STR(S(m.msg), "GET /health 200");
    /* With escapes, scratch is grown once and then reused. */
    line = "{\"log\":\"{\\\"a\\\":1}\\n\"}";
    CHECK_EQ(lw_docker_parse(line, strlen(line), &s, &m), 0);
    CHECK_STR(S(m.msg), "{\"a\":1}");
    char *p = s.p;
    CHECK_EQ(lw_docker_parse(line, strlen(line), &s, &m), 0);
    CHECK(s.p == p);
    CHECK(m.msg.p == p);
    lw_buf_free(&s);
}

int main(void)
{
    test_fixtures_single();
    test_fixtures_joined();
    test_escapes();
    test_keys();
    test_time();
    test_long_line();
    test_truncation();
    test_garbage();
    test_no_alloc();
    for (size_t i = 0; i < ncopies; i++)
        free(copies[i]);
    free(copies);
    lw_buf_free(&scratch);
    return test_summary();
}
