/* test_multiline.c: joining lines into multiline records: start and continue regexes, the
 * limits (max_lines, max_bytes, an oversized line, the timeout), the java, python and go presets
 * on traces the runtimes printed and on a real Kafka log, CRLF, invalid UTF-8 and NUL bytes, per
 * stream joining of container logs, the positions a daemon may checkpoint, and config errors. */
#include "ingest.h"
#include "test.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- helpers */

/* Reads the `multiline:` value of a one-key YAML document; NULL on error (diag has it). */
static struct lw_multiline_cfg *cfg_of(const char *yaml, struct lw_diag *diag)
{
    struct lw_yaml_doc *doc = NULL;
    struct lw_multiline_cfg *c = NULL;
    if (lw_yaml_load_buf(&doc, "in.yaml", yaml, strlen(yaml), diag) == 0 && doc->root) {
        const struct lw_yaml_node *n = lw_yaml_get(doc->root, "multiline");
        if (n)
            lw_multiline_cfg_parse(&c, doc, n, diag);
    }
    lw_yaml_free(doc);
    return c;
}

static struct lw_multiline_cfg *cfg(const char *yaml)
{
    struct lw_diag diag = {0};
    struct lw_multiline_cfg *c = cfg_of(yaml, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.msgs[i]);
    lw_diag_free(&diag);
    return c;
}

/* The records a stream of lines makes, each copied, in order. */
struct out {
    char *rec[2048];
    int64_t ts[2048];
    size_t n;
};

static void keep(struct out *o, const struct lw_rec *r)
{
    if (o->n >= sizeof o->rec / sizeof o->rec[0])
        return;
    o->rec[o->n] = malloc(r->body.n + 1);
    if (r->body.n)
        memcpy(o->rec[o->n], r->body.p, r->body.n);
    o->rec[o->n][r->body.n] = 0;
    o->ts[o->n] = r->ts_ns;
    o->n++;
}

static void out_free(struct out *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->rec[i]);
    o->n = 0;
}

static struct lw_rec rec_of(const char *p, size_t n, int64_t recv_ns)
{
    struct lw_rec r = {0};
    r.body = (struct lw_str){p, n};
    r.recv_ns = recv_ns;
    r.ts_ns = recv_ns;
    return r;
}

/* Feeds text's lines (split at '\n') to m, then flushes. */
static void feed_text(struct lw_multiline *m, const char *text, struct out *o)
{
    struct lw_rec out;
    int64_t t = 1;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        struct lw_rec r = rec_of(p, n, t++);
        if (lw_multiline_feed(m, &r, 0, &out))
            keep(o, &out);
        p += n + (nl != NULL);
    }
    if (lw_multiline_flush(m, &out))
        keep(o, &out);
}

/* A file through the line cutter (CRLF and missing final newline as the inputs see them) and
 * the joiner. */
struct file_run {
    struct lw_multiline *m;
    struct out *o;
};

static void on_line(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct file_run *fr = payload;
    struct lw_rec r = rec_of(line, n, end_off), out;
    if (lw_multiline_feed(fr->m, &r, 0, &out))
        keep(fr->o, &out);
}

static void feed_file(struct lw_multiline *m, const char *path, struct out *o)
{
    struct file_run fr = {m, o};
    struct lw_linecut lc;
    char buf[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    lw_linecut_init(&lc, LW_MAX_LINE_DEFAULT, 0);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        lw_linecut_feed(&lc, buf, n, on_line, &fr);
    lw_linecut_finish(&lc, on_line, &fr);
    lw_linecut_free(&lc);
    fclose(f);
    struct lw_rec out;
    if (lw_multiline_flush(m, &out))
        keep(o, &out);
}

static bool starts(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

static size_t count_lines(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---------------------------------------------------------------- modes */

static void test_start(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {start: '^\\['}\n");
    struct lw_join_stats st = {0};
    struct lw_multiline *m = lw_multiline_new(c, 1024, &st, "t");
    struct out o = {0};
    feed_text(m, "orphan\n[1] a\n  x\ny\n[2] b\n[3] c\n  z", &o);
    CHECK_EQ(o.n, 4);
    CHECK_STR(o.rec[0], "orphan");
    CHECK_STR(o.rec[1], "[1] a\n  x\ny");
    CHECK_STR(o.rec[2], "[2] b");
    CHECK_STR(o.rec[3], "[3] c\n  z");
    CHECK_EQ(o.ts[1], 2); /* the first line's time */
    CHECK_EQ(atomic_load(&st.records), 2);
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

static void test_continue(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {continue: '^\\s'}\n");
    struct lw_multiline *m = lw_multiline_new(c, 1024, NULL, "t");
    struct out o = {0};
    feed_text(m, " lead\na\n b\n\tc\nd\n\ne\n f", &o);
    CHECK_EQ(o.n, 5);
    CHECK_STR(o.rec[0], " lead"); /* nothing before it to join */
    CHECK_STR(o.rec[1], "a\n b\n\tc");
    CHECK_STR(o.rec[2], "d");
    CHECK_STR(o.rec[3], "");
    CHECK_STR(o.rec[4], "e\n f");
    CHECK_STR(lw_multiline_cfg_name(c), "continue");
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

/* ---------------------------------------------------------------- limits */

static void test_max_lines(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {continue: '^ ', max_lines: 3}\n");
    struct lw_join_stats st = {0};
    struct lw_multiline *m = lw_multiline_new(c, 1024, &st, "t");
    struct out o = {0};
    feed_text(m, "a\n 1\n 2\n 3\n 4\n 5\n 6\n 7\nb", &o);
    /* Cut at 3 lines, the rest begins new records: nothing is dropped. */
    CHECK_EQ(o.n, 4);
    CHECK_STR(o.rec[0], "a\n 1\n 2");
    CHECK_STR(o.rec[1], " 3\n 4\n 5");
    CHECK_STR(o.rec[2], " 6\n 7");
    CHECK_STR(o.rec[3], "b");
    CHECK_EQ(atomic_load(&st.cut_lines), 2);
    CHECK_EQ(atomic_load(&st.cut_bytes), 0);
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

static void test_max_bytes(void)
{
    /* max_bytes defaults to the input's max_line_bytes (here 64). */
    struct lw_multiline_cfg *c = cfg("multiline: {continue: '^ '}\n");
    struct lw_join_stats st = {0};
    struct lw_multiline *m = lw_multiline_new(c, 64, &st, "t");
    struct out o = {0};
    char text[512];
    snprintf(text, sizeof text, "head\n %s\n %s\n %s\nnext", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "ccccccccccccccccccccccccccccc");
    feed_text(m, text, &o);
    /* 4 + 1 + 30 + 1 + 30 would be 66: cut after the first trace line. */
    CHECK_EQ(o.n, 3);
    CHECK_STR(o.rec[0], "head\n aaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK_STR(o.rec[1], " bbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n ccccccccccccccccccccccccccccc");
    CHECK_STR(o.rec[2], "next");
    CHECK_EQ(atomic_load(&st.cut_bytes), 1);
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);

    /* Its own max_bytes, and one line longer than it: cut to it, and counted. */
    c = cfg("multiline: {continue: '^ ', max_bytes: 100}\n");
    memset(&st, 0, sizeof st);
    m = lw_multiline_new(c, 1 << 20, &st, "t");
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    feed_text(m, big, &o);
    CHECK_EQ(o.n, 1);
    CHECK_EQ(strlen(o.rec[0]), 100);
    CHECK_EQ(atomic_load(&st.cut_bytes), 1);
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

static void test_timeout(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {continue: '^ ', timeout: 200ms}\n");
    struct lw_multiline *m = lw_multiline_new(c, 1024, NULL, "t");
    struct lw_rec r = rec_of("a", 1, 1000), out;
    int64_t from = -1;
    CHECK_EQ(lw_multiline_timeout(c), 200 * LW_NS_PER_SEC / 1000);
    CHECK_EQ(lw_multiline_feed(m, &r, 42, &out), 0);
    CHECK(lw_multiline_pending(m, &from));
    CHECK_EQ(from, 42);
    r = rec_of(" b", 2, 1000 + 150 * LW_NS_PER_SEC / 1000);
    CHECK_EQ(lw_multiline_feed(m, &r, 43, &out), 0);
    /* The timeout runs from the last line. */
    CHECK(!lw_multiline_expired(m, 1000 + 300 * LW_NS_PER_SEC / 1000));
    CHECK(lw_multiline_expired(m, 1000 + 350 * LW_NS_PER_SEC / 1000));
    CHECK_EQ(lw_multiline_flush(m, &out), 1);
    CHECK_EQ(out.body.n, 4);
    CHECK(!lw_multiline_pending(m, NULL));
    CHECK(!lw_multiline_expired(m, INT64_MAX));
    CHECK_EQ(lw_multiline_flush(m, &out), 0);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

/* ---------------------------------------------------------------- bytes */

static void test_bytes(void)
{
    /* CRLF: the cutter strips the CR of each line, the joiner adds "\n" only. */
    struct lw_multiline_cfg *c = cfg("multiline: {continue: '^\\s'}\n");
    struct lw_multiline *m = lw_multiline_new(c, 1024, NULL, "t");
    struct out o = {0};
    const char *path = "/tmp/lw_test_multiline_crlf.log";
    FILE *f = fopen(path, "wb");
    fputs("first\r\n\tat a\r\n\tat b\r\nsecond\r\n", f);
    fclose(f);
    feed_file(m, path, &o);
    remove(path);
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.rec[0], "first\n\tat a\n\tat b");
    CHECK_STR(o.rec[1], "second");
    out_free(&o);

    /* Invalid UTF-8 and NUL bytes are bytes: matched (byte mode) and kept. */
    static const char l1[] = "bad \xff\xfe utf8", l2[] = " nul\0inside", l3[] = " \xc3(";
    struct lw_rec r = rec_of(l1, sizeof l1 - 1, 1), out;
    CHECK_EQ(lw_multiline_feed(m, &r, 0, &out), 0);
    r = rec_of(l2, sizeof l2 - 1, 2);
    CHECK_EQ(lw_multiline_feed(m, &r, 0, &out), 0);
    r = rec_of(l3, sizeof l3 - 1, 3);
    CHECK_EQ(lw_multiline_feed(m, &r, 0, &out), 0);
    CHECK_EQ(lw_multiline_flush(m, &out), 1);
    static const char want[] = "bad \xff\xfe utf8\n nul\0inside\n \xc3(";
    CHECK_EQ(out.body.n, sizeof want - 1);
    CHECK(out.body.n == sizeof want - 1 && !memcmp(out.body.p, want, sizeof want - 1));
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);

    /* A regex that finds a NUL. */
    c = cfg("multiline: {start: '^\\x00'}\n");
    m = lw_multiline_new(c, 1024, NULL, "t");
    static const char z[] = "\0begin";
    r = rec_of("x", 1, 1);
    lw_multiline_feed(m, &r, 0, &out);
    r = rec_of(z, sizeof z - 1, 2);
    CHECK_EQ(lw_multiline_feed(m, &r, 0, &out), 1);
    CHECK_EQ(out.body.n, 1);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

/* The pending record keeps its own copy of its labels: the batch they came from is gone when
 * it is handed out. */
static void test_labels_copied(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {continue: '^ '}\n");
    struct lw_multiline *m = lw_multiline_new(c, 1024, NULL, "t");
    char path[] = "/var/log/app.log", line[] = "first", sd[] = "[meta sequenceId=\"1\"]";
    struct lw_rec r = rec_of(line, 5, 1), out;
    r.labels[LW_L_PATH] = (struct lw_str){path, strlen(path)};
    r.sd = (struct lw_str){sd, strlen(sd)}; /* format: syslog's structured data, too */
    lw_multiline_feed(m, &r, 0, &out);
    memset(path, 'X', sizeof path - 1);
    memset(line, 'Y', sizeof line - 1);
    memset(sd, 'Z', sizeof sd - 1);
    r = rec_of(" cont", 5, 2);
    lw_multiline_feed(m, &r, 0, &out);
    CHECK_EQ(lw_multiline_flush(m, &out), 1);
    CHECK(out.labels[LW_L_PATH].n == 16 &&
          !memcmp(out.labels[LW_L_PATH].p, "/var/log/app.log", 16));
    CHECK(out.labels[LW_L_HOST].p == NULL); /* absent stays absent */
    CHECK(out.sd.n == 21 && !memcmp(out.sd.p, "[meta sequenceId=\"1\"]", 21));
    CHECK(out.body.n == 11 && !memcmp(out.body.p, "first\n cont", 11));
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

/* ---------------------------------------------------------------- presets */

static void test_java(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: java\n");
    struct lw_join_stats st = {0};
    struct lw_multiline *m = lw_multiline_new(c, 1 << 20, &st, "t");
    struct out o = {0};
    feed_file(m, "../../data/multiline/java.log", &o);
    CHECK_EQ(o.n, 4);
    CHECK(starts(o.rec[0], "2026-12-06 01:20:00.123 ERROR [main] com.example.App - startup "
                           "failed\njava.lang.RuntimeException: startup failed\n\tat "));
    CHECK_EQ(count_lines(o.rec[0]), 10);
    CHECK(o.n == 4 && strstr(o.rec[0], "\nCaused by: java.io.FileNotFoundException") &&
          strstr(o.rec[0], "\t... 3 more"));
    CHECK(o.n == 4 && starts(o.rec[1], "2026-12-06 01:20:00.456 ERROR") &&
          strstr(o.rec[1], "\n\tSuppressed: java.io.IOException: close failed\n\t\tat "));
    CHECK_EQ(count_lines(o.rec[1]), 5);
    CHECK_STR(o.rec[2], "2026-12-06 01:20:01.000 INFO [main] com.example.App - done");
    CHECK(starts(o.rec[3], "Exception in thread \"worker-1\" java.lang.NullPointerException"));
    CHECK_EQ(count_lines(o.rec[3]), 3);
    CHECK_EQ(atomic_load(&st.records), 3);
    out_free(&o);

    /* A logger's "package.Class: message" line is not an exception: it begins a record. */
    feed_text(m,
              "connecting\norg.apache.kafka.clients.NetworkClient: disconnected\n"
              "com.acme.BadThingException\nfoo.Error: x",
              &o);
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.n > 1 ? o.rec[1] : NULL,
              "org.apache.kafka.clients.NetworkClient: disconnected\ncom.acme.BadThingException\n"
              "foo.Error: x");
    out_free(&o);

    /* A real log: Kafka's broker (log4j), a trace after its WARN line; 721 lines, 706 records
     * (every record's first line starts with '['). */
    feed_file(m, "../../data/elastic-examples/kafka-server.log.2016-12-19-20", &o);
    CHECK_EQ(o.n, 706);
    size_t bad = 0;
    for (size_t i = 0; i < o.n; i++)
        bad += o.rec[i][0] != '[';
    CHECK_EQ(bad, 0);
    CHECK(o.n && strstr(o.rec[0], "(kafka.server.ReplicaFetcherThread)\njava.io.IOException: "
                                  "Connection to 2 was disconnected"));
    CHECK_EQ(o.n ? count_lines(o.rec[0]) : 0, 16);
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

static void test_python(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {preset: python}\n");
    struct lw_multiline *m = lw_multiline_new(c, 1 << 20, NULL, "t");
    struct out o = {0};
    feed_file(m, "../../data/multiline/python.log", &o);
    CHECK_EQ(o.n, 4);
    CHECK_STR(o.n ? o.rec[0] : NULL, "2026-12-06 01:11:16,015 INFO app: starting");
    /* logging.exception: the message, both chained tracebacks. */
    CHECK(o.n > 1 && starts(o.rec[1], "2026-12-06 01:11:16,015 ERROR app: cannot start\n"
                                      "Traceback (most recent call last):\n"));
    CHECK(o.n > 1 && strstr(o.rec[1], "\nKeyError: 'port'\n\nThe above exception was the direct "
                                      "cause of the following exception:\n\nTraceback"));
    CHECK(o.n > 1 && strstr(o.rec[1], "\nValueError: config has no port") &&
          !strstr(o.rec[1], "fallback"));
    CHECK(o.n > 2 && starts(o.rec[2], "2026-12-06 01:11:16,018 ERROR app: fallback failed\n") &&
          strstr(o.rec[2], "\n\nDuring handling of the above exception, another exception "
                           "occurred:\n\nTraceback") &&
          strstr(o.rec[2], "\nKeyError: 'x'"));
    /* The uncaught traceback joins the line before it, as logging.exception's does. */
    CHECK(o.n > 3 && starts(o.rec[3], "2026-12-06 01:11:16,018 INFO app: done\nTraceback") &&
          strstr(o.rec[3], "ValueError: invalid literal for int() with base 10: 'eighty'"));
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

static void test_go(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: go\n");
    struct lw_multiline *m = lw_multiline_new(c, 1 << 20, NULL, "t");
    struct out o = {0};
    feed_file(m, "../../data/multiline/go.log", &o);
    CHECK_EQ(o.n, 2);
    CHECK_STR(o.n ? o.rec[0] : NULL, "2026/12/06 01:11:22 listening on :8080");
    CHECK(o.n > 1 && starts(o.rec[1], "panic: runtime error: invalid memory address or nil "
                                      "pointer dereference\n[signal SIGSEGV"));
    CHECK(o.n > 1 && strstr(o.rec[1], "\n\ngoroutine 19 [running]:\nmain.(*Server).handle(") &&
          strstr(o.rec[1], "\ngoroutine 18 [chan receive]:\nmain.worker(0x0?)\n"));
    CHECK_EQ(o.n > 1 ? count_lines(o.rec[1]) : 0, 18);
    out_free(&o);

    /* After the panic, the next start's lines are records of their own again. */
    feed_text(m,
              "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:5 +0x1d\n"
              "exit status 2\n2026/12/06 01:12:00 listening on :8080\nmain.main()",
              &o);
    CHECK_EQ(o.n, 3);
    CHECK_EQ(o.n ? count_lines(o.rec[0]) : 0, 6);
    CHECK_STR(o.n > 2 ? o.rec[2] : NULL, "main.main()");
    out_free(&o);
    lw_multiline_free(m);
    lw_multiline_cfg_free(c);
}

/* ---------------------------------------------------------------- streams and positions */

static struct lw_record cline(const char *text, int64_t cursor)
{
    return (struct lw_record){lw_str_c(text), 5, cursor};
}

/* Docker json-file: stdout and stderr interleaved, each joined on its own; 16 KiB parts joined
 * first; the position stops before the first line of what is held. */
static void test_container_streams(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: java\n");
    struct lw_join_stats st = {0};
    struct lw_dstate ds = {0};
    struct lw_rec r;
    struct lw_str labels[LW_L_COUNT] = {0};
    int64_t pos = -1;
    lw_dstate_setup(&ds, c, 1 << 20, &st, "dock");
    static const char *const lines[] = {
        "{\"log\":\"ERROR out failed\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-06T01:00:00Z\"}",
        "{\"log\":\"WARN err\\n\",\"stream\":\"stderr\",\"time\":\"2026-12-06T01:00:01Z\"}",
        "{\"log\":\"java.lang.IllegalStateException: x\\n\",\"stream\":\"stdout\","
        "\"time\":\"2026-12-06T01:00:02Z\"}",
        "{\"log\":\"\\tat com.example.A.b(A.java:\",\"stream\":\"stdout\","
        "\"time\":\"2026-12-06T01:00:03Z\"}",
        "{\"log\":\"1)\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-06T01:00:04Z\"}",
        "{\"log\":\"\\tat com.example.Err.c(Err.java:2)\\n\",\"stream\":\"stderr\","
        "\"time\":\"2026-12-06T01:00:05Z\"}",
        "{\"log\":\"next out\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-06T01:00:06Z\"}",
    };
    int got[7];
    for (int i = 0; i < 7; i++) {
        struct lw_record in = cline(lines[i], 100 * (i + 1));
        got[i] = lw_decode_stream(&ds, LW_FMT_DOCKER, "dock", NULL, labels, &in, 0, 5, &r);
        if (i == 0)
            CHECK(!lw_dstate_position(&ds, &pos)); /* held since the first line: not known */
        if (i == 6) {
            CHECK_EQ(got[i], 1);
            static const char want[] = "ERROR out failed\njava.lang.IllegalStateException: "
                                       "x\n\tat com.example.A.b(A.java:1)";
            CHECK(r.body.n == sizeof want - 1 && !memcmp(r.body.p, want, sizeof want - 1));
            CHECK(r.labels[LW_L_STREAM].n == 6 && !memcmp(r.labels[LW_L_STREAM].p, "stdout", 6));
            int64_t want_ts;
            lw_container_time_parse("2026-12-06T01:00:00Z", 20, &want_ts);
            CHECK_EQ(r.ts_ns, want_ts);
        }
    }
    for (int i = 0; i < 6; i++)
        CHECK_EQ(got[i], 0);
    /* Held: stdout's "next out" (after 600) and stderr's record (after 100): position 100. */
    CHECK(lw_dstate_holds(&ds));
    CHECK(lw_dstate_position(&ds, &pos));
    CHECK_EQ(pos, 100);
    CHECK_EQ(atomic_load(&st.partials), 1);
    /* The timeout passed: both complete; nothing held, the position is the last line's. */
    int n = 0;
    while (lw_dstate_drain(&ds, LW_DRAIN_EXPIRED, LW_FMT_DOCKER, "dock", NULL, labels, 0,
                           5 + 2 * LW_NS_PER_SEC, &r)) {
        n++;
        if (r.labels[LW_L_STREAM].n == 6 && !memcmp(r.labels[LW_L_STREAM].p, "stderr", 6))
            CHECK(r.body.n == 42 &&
                  !memcmp(r.body.p, "WARN err\n\tat com.example.Err.c(Err.java:2)", 42));
    }
    CHECK_EQ(n, 2);
    CHECK(!lw_dstate_holds(&ds));
    CHECK(lw_dstate_position(&ds, &pos));
    CHECK_EQ(pos, 700);
    CHECK_EQ(atomic_load(&st.records), 2);
    lw_dstate_free(&ds);
    lw_multiline_cfg_free(c);
}

/* Raw lines with a multiline config: 1 only when a record is whole; the end drains it. */
static void test_dstate_raw(void)
{
    struct lw_multiline_cfg *c = cfg("multiline: {start: '^\\d'}\n");
    struct lw_dstate ds = {0};
    struct lw_rec r;
    int64_t pos;
    lw_dstate_setup(&ds, c, 1024, NULL, "f");
    struct lw_record a = cline("1 a", 10), b = cline(" b", 20), d = cline("2 c", 30);
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_RAW, "f", NULL, NULL, &a, 0, 0, &r), 0);
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_RAW, "f", NULL, NULL, &b, 0, 0, &r), 0);
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_RAW, "f", NULL, NULL, &d, 0, 0, &r), 1);
    CHECK(r.body.n == 6 && !memcmp(r.body.p, "1 a\n b", 6));
    CHECK(lw_dstate_position(&ds, &pos));
    CHECK_EQ(pos, 20); /* before "2 c", which is held */
    CHECK_EQ(lw_dstate_drain(&ds, LW_DRAIN_EXPIRED, LW_FMT_RAW, "f", NULL, NULL, 0, 0, &r), 0);
    CHECK_EQ(lw_dstate_drain(&ds, LW_DRAIN_RECORDS, LW_FMT_RAW, "f", NULL, NULL, 0, 0, &r), 1);
    CHECK(r.body.n == 3 && !memcmp(r.body.p, "2 c", 3));
    CHECK_EQ(lw_dstate_drain(&ds, LW_DRAIN_ALL, LW_FMT_RAW, "f", NULL, NULL, 0, 0, &r), 0);
    CHECK(lw_dstate_position(&ds, &pos));
    CHECK_EQ(pos, 30);
    lw_dstate_free(&ds);
    lw_multiline_cfg_free(c);

    /* Without a config every line is a record at once (the daemon's path for plain files). */
    lw_dstate_setup(&ds, NULL, 1024, NULL, "f");
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_RAW, "f", NULL, NULL, &a, 0, 0, &r), 1);
    CHECK(lw_dstate_position(&ds, &pos));
    CHECK_EQ(pos, 10);
    lw_dstate_free(&ds);
}

/* ---------------------------------------------------------------- config */

static void expect_error(const char *yaml, const char *msg)
{
    struct lw_diag diag = {0};
    struct lw_multiline_cfg *c = cfg_of(yaml, &diag);
    CHECK(c == NULL);
    CHECK_EQ(diag.n >= 1, 1);
    if (diag.n && !strstr(diag.msgs[0], msg))
        fprintf(stderr, "want '%s' in: %s\n", msg, diag.msgs[0]);
    CHECK(diag.n && strstr(diag.msgs[0], msg) && starts(diag.msgs[0], "in.yaml:"));
    lw_diag_free(&diag);
    lw_multiline_cfg_free(c);
}

static void test_config_errors(void)
{
    expect_error("multiline: ruby\n", "in.yaml:1:12: multiline: unknown preset 'ruby'");
    expect_error("multiline: {start: a, continue: b}\n", "give one of start");
    expect_error("multiline: {}\n", "give one of start");
    expect_error("multiline:\n  start: '(unclosed'\n", "in.yaml:2:10: multiline: bad regex");
    expect_error("multiline: {preset: cobol}\n", "unknown preset 'cobol'");
    expect_error("multiline: {start: a, max_lines: 0}\n", "max_lines must be 1 to 100000");
    expect_error("multiline: {start: a, max_bytes: 10}\n", "max_bytes must be 64 B");
    expect_error("multiline: {start: a, timeout: 1ms}\n", "timeout must be 10ms to 1h");
    expect_error("multiline: {start: a, tiemout: 1s}\n", "tiemout");
    expect_error("multiline: [java]\n", "expected a preset");
    struct lw_multiline_cfg *c = cfg("multiline: {preset: go, max_lines: 50, timeout: 2s}\n");
    CHECK(c != NULL);
    CHECK_EQ(c ? lw_multiline_timeout(c) : 0, 2 * LW_NS_PER_SEC);
    CHECK_STR(c ? lw_multiline_cfg_name(c) : NULL, "go");
    lw_multiline_cfg_free(c);
}

int main(void)
{
    test_start();
    test_continue();
    test_max_lines();
    test_max_bytes();
    test_timeout();
    test_bytes();
    test_labels_copied();
    test_java();
    test_python();
    test_go();
    test_container_streams();
    test_dstate_raw();
    test_config_errors();
    return test_summary();
}
