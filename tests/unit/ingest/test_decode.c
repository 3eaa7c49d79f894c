/* test_decode.c: decoding a line into the record rules match: the input's labels carried over,
 * formats' labels (syslog, container names from the path), partial container lines joined per
 * stream, and what each format says it can set. */
#include "ingest.h"
#include "test.h"

static char sbuf[8][512];

static const char *S(struct lw_str s)
{
    static int k;
    char *b = sbuf[k++ % 8];
    size_t n = s.n < sizeof(sbuf[0]) - 1 ? s.n : sizeof(sbuf[0]) - 1;
    if (n)
        memcpy(b, s.p, n);
    b[n] = '\0';
    return s.p ? b : "(absent)";
}

static struct lw_record line(const char *text)
{
    return (struct lw_record){lw_str_c(text), 1000, 0};
}

/* The labels a file input sets on its batches: the path, and nothing else. */
static void file_labels(struct lw_str *labels, const char *path)
{
    memset(labels, 0, LW_L_COUNT * sizeof *labels);
    labels[LW_L_PATH] = lw_str_c(path);
}

static void test_labels_carried(void)
{
    struct lw_str labels[LW_L_COUNT];
    struct lw_rec r;
    file_labels(labels, "/var/log/app.log");
    struct lw_record in = line("hello");
    CHECK_EQ(lw_decode(LW_FMT_RAW, "app", NULL, labels, &in, 3, 0, &r), 0);
    CHECK_STR(S(r.body), "hello");
    CHECK_STR(S(r.labels[LW_L_PATH]), "/var/log/app.log");
    CHECK_STR(S(r.labels[LW_L_INPUT]), "app");
    CHECK_STR(S(r.labels[LW_L_HOST]), "(absent)");
    CHECK_EQ(r.input, 3);
    CHECK_EQ(r.recv_ns, 1000);
    CHECK_EQ(r.body_fmt, LW_BODY_RAW);

    /* No labels (stdin, syslog): only the input's name. */
    CHECK_EQ(lw_decode(LW_FMT_JSON, "in", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.labels[LW_L_PATH]), "(absent)");
    CHECK_STR(S(r.labels[LW_L_INPUT]), "in");
    CHECK_EQ(r.body_fmt, LW_BODY_JSON);
}

static void test_syslog(void)
{
    struct lw_rec r;
    struct lw_record in = line("<34>Oct 11 22:14:15 mymachine su: 'su root' failed");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.labels[LW_L_HOST]), "mymachine");
    CHECK_STR(S(r.labels[LW_L_APP]), "su");
    CHECK_STR(S(r.labels[LW_L_FACILITY]), "auth");
    CHECK_STR(S(r.labels[LW_L_SEVERITY]), "crit");
    CHECK_STR(S(r.body), "'su root' failed");
    struct lw_record bad = line("");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &bad, 0, 0, &r), -1);
}

/* procid and msgid labels, the raw structured data, BOMs, and syslog+json / syslog+logfmt. */
static void test_syslog_fields(void)
{
    struct lw_rec r;
    struct lw_record in =
        line("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 4242 "
             "ID47 [exampleSDID@32473 iut=\"3\"][meta sequenceId=\"1\"] "
             "\xEF\xBB\xBF"
             "An application event");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.labels[LW_L_PROCID]), "4242");
    CHECK_STR(S(r.labels[LW_L_MSGID]), "ID47");
    CHECK_STR(S(r.sd), "[exampleSDID@32473 iut=\"3\"][meta sequenceId=\"1\"]");
    CHECK_STR(S(r.body), "An application event");
    /* 5424 nil values: no label at all (a missing field), not an empty one. */
    in = line("<13>1 - - - - - - hi");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK(r.labels[LW_L_PROCID].p == NULL && r.labels[LW_L_MSGID].p == NULL && r.sd.n == 0);
    /* 3164 TAG[PID]. */
    in = line("<38>Mar 10 06:55:40 host sshd[1234]: Accepted publickey");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.labels[LW_L_PROCID]), "1234");
    CHECK_STR(S(r.labels[LW_L_APP]), "sshd");
    CHECK(r.labels[LW_L_MSGID].p == NULL);
    /* A BOM after "<PRI>" with no header, and after a 3164 tag. */
    in = line("<13>\xEF\xBB\xBFplain text");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.body), "plain text");
    in = line("<13>\xEF\xBB\xBF"
              "app[7]: text");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.labels[LW_L_APP]), "app");
    CHECK_STR(S(r.body), "text");
    in = line("<13>Mar 10 06:55:40 host app: \xEF\xBB\xBFtext");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_STR(S(r.body), "text");
    /* Docker's syslog driver with syslog-format=rfc5424 and a JSON message. */
    in = line("<30>1 2024-03-10T06:55:46Z host web 99 web - {\"level\":\"error\",\"ms\":12}");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG_JSON, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_EQ(r.body_fmt, LW_BODY_JSON);
    CHECK_STR(S(r.body), "{\"level\":\"error\",\"ms\":12}");
    CHECK_STR(S(r.labels[LW_L_APP]), "web");
    in = line("<30>Mar 10 06:55:40 host app: level=error ms=12");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG_LOGFMT, "sys", NULL, NULL, &in, 0, 0, &r), 0);
    CHECK_EQ(r.body_fmt, LW_BODY_LOGFMT);
    CHECK_STR(S(r.body), "level=error ms=12");
    /* Not syslog at all: the whole line, raw (nothing to decode), no envelope time. */
    in = line("\x01\x02 garbage {\"a\":1}");
    CHECK_EQ(lw_decode(LW_FMT_SYSLOG_JSON, "sys", NULL, NULL, &in, 0, 0, &r), -1);
    CHECK_EQ(r.body_fmt, LW_BODY_RAW);
    CHECK_EQ(r.ts_ns, 0);
    CHECK_STR(S(r.body), "\x01\x02 garbage {\"a\":1}");
    /* The names, and what `format:` means on a syslog input. */
    enum lw_format f;
    CHECK_EQ(lw_format_parse("syslog+json", &f), 0);
    CHECK_EQ(f, LW_FMT_SYSLOG_JSON);
    CHECK_STR(lw_format_name(LW_FMT_SYSLOG_LOGFMT), "syslog+logfmt");
    CHECK_EQ(lw_format_on(LW_FMT_SYSLOG, LW_FMT_JSON), LW_FMT_SYSLOG_JSON);
    CHECK_EQ(lw_format_on(LW_FMT_SYSLOG, LW_FMT_LOGFMT), LW_FMT_SYSLOG_LOGFMT);
    CHECK_EQ(lw_format_on(LW_FMT_SYSLOG, LW_FMT_RAW), LW_FMT_RAW);
    CHECK_EQ(lw_format_on(LW_FMT_RAW, LW_FMT_JSON), LW_FMT_JSON);
    CHECK(lw_format_labels(LW_FMT_SYSLOG_JSON) & LW_LABELS_SD);
    CHECK(lw_format_labels(LW_FMT_SYSLOG) & 1u << LW_L_PROCID);
    CHECK(!(lw_format_labels(LW_FMT_JSON) & LW_LABELS_SD));
}

/* Container names come from the path label, whichever input set it. */
static void test_container_labels(void)
{
    struct lw_str labels[LW_L_COUNT];
    struct lw_dstate ds = {0};
    struct lw_rec r;
    struct lw_record in = line("2024-03-10T06:55:46.123456789Z stderr F boom");
    file_labels(labels, "/var/log/containers/web-7d4_prod_nginx-0123abcd.log");
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_CRI, "k8s", NULL, labels, &in, 0, 0, &r), 1);
    CHECK_STR(S(r.body), "boom");
    CHECK_STR(S(r.labels[LW_L_CONTAINER]), "nginx");
    CHECK_STR(S(r.labels[LW_L_CONTAINER_ID]), "0123abcd");
    CHECK_STR(S(r.labels[LW_L_STREAM]), "stderr");
    CHECK(r.ts_ns != 0);
    lw_dstate_free(&ds);

    in = line("{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2024-03-10T06:55:46Z\"}");
    file_labels(labels, "/var/lib/docker/containers/abc123/abc123-json.log");
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_DOCKER, "d", NULL, labels, &in, 0, 0, &r), 1);
    CHECK_STR(S(r.body), "hi");
    CHECK_STR(S(r.labels[LW_L_CONTAINER_ID]), "abc123");
    CHECK_STR(S(r.labels[LW_L_CONTAINER]), "(absent)");
    /* "-json.log" at the very start names no container. */
    file_labels(labels, "/x/-json.log");
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_DOCKER, "d", NULL, labels, &in, 0, 0, &r), 1);
    CHECK_STR(S(r.labels[LW_L_CONTAINER_ID]), "(absent)");
    /* Without a path label: no container labels, the record still decodes. */
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_DOCKER, "d", NULL, NULL, &in, 0, 0, &r), 1);
    CHECK_STR(S(r.labels[LW_L_CONTAINER_ID]), "(absent)");
    lw_dstate_free(&ds);
}

/* Partial lines wait for their final part; one left pending comes out at the end. */
static void test_partial(void)
{
    struct lw_str labels[LW_L_COUNT];
    struct lw_dstate ds = {0};
    struct lw_rec r;
    file_labels(labels, "/var/log/containers/p_ns_c-0a.log");
    struct lw_record p1 = line("2024-03-10T06:55:46Z stdout P hel");
    struct lw_record p2 = line("2024-03-10T06:55:47Z stdout F lo");
    struct lw_record p3 = line("2024-03-10T06:55:48Z stderr P tail");
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_CRI, "k", NULL, labels, &p1, 0, 0, &r), 0);
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_CRI, "k", NULL, labels, &p2, 0, 0, &r), 1);
    CHECK_STR(S(r.body), "hello");
    CHECK_STR(S(r.labels[LW_L_PATH]), "/var/log/containers/p_ns_c-0a.log");
    CHECK_EQ(lw_decode_stream(&ds, LW_FMT_CRI, "k", NULL, labels, &p3, 0, 0, &r), 0);
    CHECK_EQ(lw_decode_flush(&ds, 0, "k", NULL, labels, 0, 5, &r), 0);
    CHECK_EQ(lw_decode_flush(&ds, 1, "k", NULL, labels, 0, 5, &r), 1);
    CHECK_STR(S(r.body), "tail");
    CHECK_STR(S(r.labels[LW_L_STREAM]), "stderr");
    CHECK_STR(S(r.labels[LW_L_PATH]), "/var/log/containers/p_ns_c-0a.log");
    lw_dstate_free(&ds);
}

static void test_formats(void)
{
    enum lw_format f;
    CHECK_EQ(lw_format_parse("docker", &f), 0);
    CHECK_EQ(f, LW_FMT_DOCKER);
    CHECK_EQ(lw_format_parse("xml", &f), -1);
    CHECK_EQ(lw_format_body(LW_FMT_LOGFMT), LW_BODY_LOGFMT);
    CHECK_EQ(lw_format_labels(LW_FMT_RAW), 0);
    CHECK(lw_format_labels(LW_FMT_SYSLOG) & 1u << LW_L_HOST);
    CHECK(lw_format_labels(LW_FMT_CRI) & 1u << LW_L_CONTAINER);
    /* What inputs say of themselves, which check uses instead of their type names. */
    CHECK_EQ(lw_input_find("file")->labels, 1u << LW_L_PATH);
    CHECK_EQ(lw_input_find("syslog")->format, LW_FMT_SYSLOG);
    CHECK_EQ(lw_input_find("stdin")->format, LW_FMT_RAW);
}

int main(void)
{
    test_labels_carried();
    test_syslog();
    test_syslog_fields();
    test_container_labels();
    test_partial();
    test_formats();
    return test_summary();
}
