/* test_kafka.c: the kafka input: its options (refused keys, librdkafka's own checks, secrets,
 * FILE:LINE:COL), and against librdkafka's mock cluster (the real protocol on loopback): records
 * with their labels, key, headers and message time, one stream per partition, and a checkpoint
 * committed to Kafka where another consumer of the group sees it. */
#include "ingest.h"
#include "lw_yaml.h"
#include "test.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

/* Loads yaml as an input map and runs the kafka input's init: its return code; diag keeps the
 * messages. */
static int init(const char *yaml, struct lw_input *in, struct lw_yaml_doc **doc,
                struct lw_diag *diag)
{
    memset(in, 0, sizeof *in);
    in->ops = lw_input_find("kafka");
    in->name = "bus";
    in->max_line = 1 << 20;
    if (lw_yaml_load_buf(doc, "t.yaml", yaml, strlen(yaml), diag) != 0)
        return -100;
    return in->ops->init(in, *doc, (*doc)->root, diag);
}

static void refused(const char *yaml, const char *want)
{
    struct lw_input in;
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    CHECK_EQ(init(yaml, &in, &doc, &diag), LW_EINVAL);
    bool ok = false;
    for (size_t i = 0; i < diag.n; i++)
        ok |= strstr(diag.msgs[i], want) != NULL;
    CHECK(ok);
    if (!ok)
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "  want '%s', got: %s\n", want, diag.msgs[i]);
    in.ops->free(&in);
    lw_diag_free(&diag);
    lw_yaml_free(doc);
}

static void test_options(void)
{
    const struct lw_input_ops *ops = lw_input_find("kafka");
    CHECK(ops != NULL);
    if (!ops)
        return;
    CHECK(ops->sharded);
    CHECK(ops->labels & (1u << LW_L_TOPIC));
    CHECK(ops->labels & (1u << LW_L_PARTITION));
    CHECK(ops->labels & LW_LABELS_EXTRA);
    CHECK(!lw_input_planned("kafka"));

    /* A whole config: keyed_by defaults to the message key. */
    struct lw_input in;
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    const char *const *keys;
    CHECK_EQ(init("brokers: [127.0.0.1:9092]\ntopics: [app, '^logs-.*']\ngroup: g\n"
                  "properties: {fetch.min.bytes: '1', security.protocol: plaintext}\n",
                  &in, &doc, &diag),
             0);
    CHECK_EQ(diag.n, 0);
    CHECK_EQ(ops->key_fields(&in, &keys), 1);
    CHECK_STR(keys[0], "key");
    in.ops->free(&in);
    lw_yaml_free(doc);
    doc = NULL;
    CHECK_EQ(
        init("brokers: b:1\ntopics: t\ngroup: g\nkeyed_by: [service, host]\n", &in, &doc, &diag),
        0);
    CHECK_EQ(ops->key_fields(&in, &keys), 2);
    CHECK_STR(keys[1], "host");
    in.ops->free(&in);
    lw_yaml_free(doc);

    /* Keys logwarden owns, at their line and column; librdkafka's refusals name the key. */
    refused("brokers: b:1\ntopics: t\ngroup: g\nproperties:\n  group.id: other\n",
            "t.yaml:5:3: input bus: properties: 'group.id' is set by logwarden");
    refused("brokers: b:1\ntopics: t\ngroup: g\nproperties: {enable.auto.commit: 'true'}\n",
            "t.yaml:4:14: input bus: properties: 'enable.auto.commit' is set by logwarden");
    refused("brokers: b:1\ntopics: t\ngroup: g\nproperties: {bootstrap.servers: x}\n",
            "'bootstrap.servers' is set by logwarden");
    refused("brokers: b:1\ntopics: t\ngroup: g\nproperties: {enable.auto.offset.store: x}\n",
            "'enable.auto.offset.store' is set by logwarden");
    refused("brokers: b:1\ntopics: t\ngroup: g\n"
            "properties: {partition.assignment.strategy: range}\n",
            "'partition.assignment.strategy' is set by logwarden");
    refused("brokers: b:1\ntopics: t\ngroup: g\nproperties: {no.such.setting: 1}\n",
            "t.yaml:4:14: input bus: properties: no.such.setting: No such configuration property");
    refused("brokers: b:1\ntopics: t\ngroup: g\nproperties: {session.timeout.ms: lots}\n",
            "properties: session.timeout.ms: ");
    refused("brokers: b:1\ntopics: t\ngroup: g\nstart_position: middle\n",
            "t.yaml:4:17: input bus: start_position: expected latest, earliest or window");
    refused("topics: t\ngroup: g\n", "'brokers' is required");
    refused("brokers: b:1\ngroup: g\n", "'topics' is required");
    refused("brokers: b:1\ntopics: t\n", "'group' is required");

    /* Credentials come from the environment and are never printed. */
    setenv("LW_TEST_KAFKA_PW", "hunter2-very-secret", 1);
    doc = NULL;
    CHECK_EQ(init("brokers: b:1\ntopics: t\ngroup: g\nproperties: {sasl.mechanism: PLAIN, "
                  "sasl.username: alice-the-user, sasl.password: '${LW_TEST_KAFKA_PW}'}\n",
                  &in, &doc, &diag),
             0);
    struct lw_buf out = {0};
    CHECK(lw_redact("pw=hunter2-very-secret user=alice-the-user mech=PLAIN", &out));
    CHECK(out.p && !strstr(out.p, "hunter2") && !strstr(out.p, "alice-the-user") &&
          strstr(out.p, "PLAIN"));
    lw_buf_free(&out);
    in.ops->free(&in);
    lw_yaml_free(doc);
    lw_diag_free(&diag);

    struct lw_pos pos;
    uint64_t ident[2] = {3, 0xab};
    ops->pos_encode(ident, 12345, &pos); /* the next offset, and the reading process's token */
    CHECK_EQ(pos.n, 22);
    CHECK(!memcmp(pos.b, "12345:00000000000000ab", 22));
}

/* ---------------------------------------------------------------- against the mock cluster */

struct got {
    struct lw_batch *b[64];
    size_t n, records;
};

static void pop_all(struct lw_queue *q, struct got *g)
{
    struct lw_batch *b;
    while ((b = lw_queue_pop(q, 0))) {
        if (g->n < 64) {
            g->b[g->n++] = b;
            g->records += b->n;
        } else {
            lw_batch_free(b);
        }
    }
}

static void produce(rd_kafka_t *p, int32_t part, const char *key, const char *hname,
                    const char *hval, int64_t ts_ms, const char *value)
{
    rd_kafka_headers_t *h = NULL;
    if (hname) {
        h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, hname, -1, hval, -1);
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_PARTITION(part),
        RD_KAFKA_V_VALUE((void *)value, strlen(value)),
        RD_KAFKA_V_KEY((void *)key, key ? strlen(key) : 0), RD_KAFKA_V_TIMESTAMP(ts_ms),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    CHECK_EQ(e, 0);
    if (e && h)
        rd_kafka_headers_destroy(h);
}

static void produce_to(rd_kafka_t *p, const char *topic, int32_t part, int64_t ts_ms,
                       const char *value)
{
    CHECK_EQ(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                               RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                               RD_KAFKA_V_TIMESTAMP(ts_ms),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
             0);
}

static const struct lw_str *extra(const struct lw_rec *r, const char *name)
{
    return r->extra ? lw_labelset_get(r->extra, name, strlen(name)) : NULL;
}

static bool str_is(struct lw_str s, const char *want)
{
    return s.p && s.n == strlen(want) && !memcmp(s.p, want, s.n);
}

static bool is(const struct lw_rec *r, const char *name, const char *want)
{
    const struct lw_str *v = extra(r, name);
    return v && str_is(*v, want);
}

/* The offset the group has committed for t/part, as another member of it sees it; meta gets
 * the commit's metadata (may be NULL). */
static int64_t committed_meta(const char *brokers, int32_t part, char *meta, size_t size)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "g", errstr, sizeof errstr);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "t", part);
    int64_t off = -2;
    if (!rd_kafka_committed(c, l, 5000) && !l->elems[0].err) {
        off = l->elems[0].offset;
        if (meta && size) {
            size_t n = l->elems[0].metadata_size < size - 1 ? l->elems[0].metadata_size : size - 1;
            if (n)
                memcpy(meta, l->elems[0].metadata, n);
            meta[n] = 0;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    return off;
}

static int64_t committed(const char *brokers, int32_t part)
{
    return committed_meta(brokers, part, NULL, 0);
}

static void test_mock_cluster(void)
{
    char errstr[512], yaml[1024];
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    CHECK(mc != NULL);
    if (!mc)
        return;
    rd_kafka_mock_topic_create(mc, "t", 2, 1);
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);

    pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
    const int64_t ts = INT64_C(1700000000123);
    produce(prod, 0, "k1", "trace", "abc", ts, "{\"n\":1}");
    produce(prod, 0, "k1", NULL, NULL, ts + 1, "{\"n\":2}");
    produce(prod, 0, "k2", "trace", "def", ts + 2, "{\"n\":3}");
    produce(prod, 1, NULL, NULL, NULL, ts + 3, "no key");
    CHECK_EQ(rd_kafka_flush(prod, 5000), 0);

    snprintf(yaml, sizeof yaml,
             "brokers: ['%s']\ntopics: [t]\ngroup: g\nstart_position: earliest\n"
             "properties: {session.timeout.ms: '6000'}\n",
             brokers);
    struct lw_input in;
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    struct lw_err err = {0};
    CHECK_EQ(init(yaml, &in, &doc, &diag), 0);
    in.queue = lw_queue_new(64, 1 << 20);
    uv_loop_t loop;
    uv_loop_init(&loop);
    CHECK_EQ(in.ops->start(&in, &loop, &err), 0);

    struct got g = {0};
    int64_t deadline = lw_mono_ns() + 30 * LW_NS_PER_SEC;
    while (g.records < 4 && lw_mono_ns() < deadline) {
        uv_run(&loop, UV_RUN_ONCE);
        pop_all(in.queue, &g);
    }
    CHECK_EQ(g.records, 4);
    /* A partition's records may come in more than one batch (a fetch cut short under load):
     * they are collected per partition, in order. */
    struct lw_batch *b0[4], *b1[4];
    size_t i0[4], i1[4], n0 = 0, n1 = 0;
    for (size_t i = 0; i < g.n; i++) {
        CHECK_EQ(g.b[i]->kind, LW_BATCH_LINES);
        for (size_t k = 0; g.b[i]->stream && k < g.b[i]->n; k++) {
            if (!strcmp(g.b[i]->stream, "t/0") && n0 < 4)
                b0[n0] = g.b[i], i0[n0++] = k;
            else if (!strcmp(g.b[i]->stream, "t/1") && n1 < 4)
                b1[n1] = g.b[i], i1[n1++] = k;
        }
    }
    CHECK_EQ(n0, 3);
    CHECK_EQ(n1, 1);
    if (n0 == 3 && n1 == 1) {
        struct lw_rec r;
        CHECK_EQ(lw_decode(LW_FMT_JSON, "bus", NULL, b0[0]->labels, &b0[0]->recs[i0[0]], 0, 0, &r),
                 0);
        CHECK(str_is(r.body, "{\"n\":1}"));
        CHECK(r.body_fmt == LW_BODY_JSON);
        CHECK(str_is(r.labels[LW_L_TOPIC], "t"));
        CHECK(str_is(r.labels[LW_L_PARTITION], "0"));
        CHECK(is(&r, "offset", "0"));
        CHECK(is(&r, "key", "k1"));
        CHECK_EQ(r.ts_ns, ts * LW_NS_PER_MS);
        const struct lw_str *h = extra(&r, "header.trace");
        CHECK(h && str_is(*h, "abc"));
        CHECK_EQ(b0[0]->recs[i0[0]].cursor, 1); /* the next offset to read */
        lw_decode(LW_FMT_JSON, "bus", NULL, b0[1]->labels, &b0[1]->recs[i0[1]], 0, 0, &r);
        CHECK(is(&r, "offset", "1"));
        CHECK(extra(&r, "header.trace") == NULL);
        CHECK_EQ(r.ts_ns, (ts + 1) * LW_NS_PER_MS);
        lw_decode(LW_FMT_JSON, "bus", NULL, b0[2]->labels, &b0[2]->recs[i0[2]], 0, 0, &r);
        h = extra(&r, "header.trace");
        CHECK(h && str_is(*h, "def"));
        CHECK(is(&r, "key", "k2"));
        lw_decode(LW_FMT_RAW, "bus", NULL, b1[0]->labels, &b1[0]->recs[i1[0]], 0, 0, &r);
        CHECK(str_is(r.labels[LW_L_PARTITION], "1"));
        CHECK(extra(&r, "key") == NULL); /* no key: absent, not empty */
        CHECK(str_is(r.body, "no key"));

        /* The flush that held t/0's position committed: the same offset reaches Kafka. */
        struct lw_pos pos;
        in.ops->pos_encode(b0[2]->ident, b0[2]->recs[i0[2]].cursor, &pos);
        in.ops->checkpoint(&in, "t/0", &pos);
        int64_t until = lw_mono_ns() + 2 * LW_NS_PER_SEC;
        while (lw_mono_ns() < until)
            uv_run(&loop, UV_RUN_NOWAIT), uv_sleep(10);
        char meta[64] = "";
        CHECK_EQ(committed_meta(brokers, 0, meta, sizeof meta), 3);
        /* The commit carries the token the position does: a restart can tell its own. */
        CHECK(!strncmp(meta, "lw:", 3) && strlen(meta) == 19 && !strcmp(meta + 3, pos.b + 2));
        CHECK(committed(brokers, 1) < 0); /* never checkpointed: nothing committed */

        struct lw_buf m = {0};
        in.ops->metrics(&in, &m);
        CHECK(m.p && strstr(m.p, "logwarden_kafka_messages_total{input=\"bus\",topic=\"t\","
                                 "partition=\"0\"} 3\n"));
        CHECK(m.p && strstr(m.p, "logwarden_kafka_lag{input=\"bus\",topic=\"t\",partition=\"0\"} "
                                 "0\n"));
        lw_buf_free(&m);
        struct lw_buf d = {0};
        CHECK_STR(in.ops->status(&in, &d), "healthy");
        lw_buf_free(&d);
    }
    for (size_t i = 0; i < g.n; i++)
        lw_batch_free(g.b[i]);

    in.ops->stop(&in);
    uv_run(&loop, UV_RUN_DEFAULT);
    in.ops->free(&in);
    CHECK_EQ(uv_loop_close(&loop), 0);
    lw_queue_free(in.queue);
    lw_yaml_free(doc);
    lw_diag_free(&diag);
    rd_kafka_destroy(prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

/* A state file that says r/0 was read up to offset 7: it differs from the group's committed
 * offset, so the partition's windows are stale. */
static int stale_ckpt(const char *input, const char *stream, struct lw_pos *pos, void *payload)
{
    (void)input;
    (void)payload;
    if (strcmp(stream, "r/0"))
        return -1;
    memcpy(pos->b, "7", 1);
    pos->n = 1;
    return 0;
}

/* Rebuild and backpressure: r/0 holds 100 messages from 2 h ago, 50 from 10 min ago (offsets
 * 100..149) and the group committed 150; the state file says 7. With a 1 h window the input
 * reads back exactly offsets 100..149 as REPLAY between REPLAY_START and REPLAY_END (the mock's
 * offsets_for_times answers -1: the binary search finds 100), then reads live from 150. A queue
 * of two batches that nobody drains pauses the partition; draining it resumes, and the 3000 live
 * messages arrive whole and in order. */
static void test_rebuild_backpressure(void)
{
    char errstr[512], yaml[1024];
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    CHECK(mc != NULL);
    if (!mc)
        return;
    rd_kafka_mock_topic_create(mc, "r", 1, 1);
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);
    pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
    int64_t now_ms = lw_now_ns() / LW_NS_PER_MS;
    char v[64];
    for (int i = 0; i < 150; i++) {
        snprintf(v, sizeof v, "old %d", i);
        produce_to(prod, "r", 0, i < 100 ? now_ms - 2 * 3600 * 1000 : now_ms - 600 * 1000, v);
    }
    CHECK_EQ(rd_kafka_flush(prod, 5000), 0);

    /* The group's committed offset: 150, as the partition's last owner left it. */
    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    rd_kafka_conf_set(cconf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(cconf, "group.id", "g2", errstr, sizeof errstr);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof errstr);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "r", 0)->offset = 150;
    CHECK_EQ(rd_kafka_commit(c, l, 0), 0);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    for (int i = 0; i < 3000; i++) {
        snprintf(v, sizeof v, "live %d", i);
        produce_to(prod, "r", 0, now_ms, v);
    }
    CHECK_EQ(rd_kafka_flush(prod, 10000), 0);

    snprintf(yaml, sizeof yaml,
             "brokers: ['%s']\ntopics: [r]\ngroup: g2\nmax_buffered_bytes: 4096\n"
             "properties: {session.timeout.ms: '6000'}\n",
             brokers);
    struct lw_input in;
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    struct lw_err err = {0};
    CHECK_EQ(init(yaml, &in, &doc, &diag), 0);
    in.queue = lw_queue_new(2, 64 << 20);
    in.ckpt = stale_ckpt;
    atomic_store(&in.longest_window_ns, 3600 * LW_NS_PER_SEC);
    uv_loop_t loop;
    uv_loop_init(&loop);
    CHECK_EQ(in.ops->start(&in, &loop, &err), 0);

    /* Nobody drains the queue: it fills and the partition pauses. */
    int64_t until = lw_mono_ns() + 15 * LW_NS_PER_SEC;
    bool paused = false;
    while (!paused && lw_mono_ns() < until) {
        uv_run(&loop, UV_RUN_NOWAIT);
        uv_sleep(20);
        struct lw_buf m = {0};
        in.ops->metrics(&in, &m);
        paused = m.p && strstr(m.p, "logwarden_kafka_paused_partitions{input=\"bus\"} 1\n");
        lw_buf_free(&m);
    }
    CHECK(paused);
    CHECK(in.paused);

    /* Drain: every kind in order, the live lines contiguous. */
    enum lw_batch_kind kinds[16];
    size_t nkinds = 0, replayed = 0, live = 0;
    int64_t first_replay = -1, next = 151, live_from = -1;
    bool contiguous = true;
    until = lw_mono_ns() + 30 * LW_NS_PER_SEC;
    while (live < 3000 && lw_mono_ns() < until) {
        struct lw_batch *b;
        while ((b = lw_queue_pop(in.queue, 0))) {
            if (nkinds < 16 && (!nkinds || kinds[nkinds - 1] != b->kind))
                kinds[nkinds++] = b->kind;
            if (b->kind == LW_BATCH_REPLAY_END && b->live_pos)
                live_from = b->live_cursor;
            if (b->kind == LW_BATCH_REPLAY) {
                if (first_replay < 0 && b->n)
                    first_replay = b->recs[0].cursor;
                replayed += b->n;
            } else if (b->kind == LW_BATCH_LINES) {
                for (size_t i = 0; i < b->n; i++)
                    contiguous &= b->recs[i].cursor == next++;
                live += b->n;
            }
            lw_batch_free(b);
        }
        if (in.paused)
            lw_input_resume(&in);
        uv_run(&loop, UV_RUN_NOWAIT);
        uv_sleep(5);
    }
    CHECK_EQ(nkinds, 4);
    CHECK(nkinds == 4 && kinds[0] == LW_BATCH_REPLAY_START && kinds[1] == LW_BATCH_REPLAY &&
          kinds[2] == LW_BATCH_REPLAY_END && kinds[3] == LW_BATCH_LINES);
    CHECK_EQ(replayed, 50);
    CHECK_EQ(first_replay, 101); /* offset 100: the first message inside the window */
    CHECK_EQ(live_from, 150);    /* REPLAY_END: the stream's checkpoint is the committed offset */
    CHECK_EQ(live, 3000);
    CHECK(contiguous);
    struct lw_buf m = {0};
    in.ops->metrics(&in, &m);
    CHECK(m.p && strstr(m.p, "logwarden_kafka_rebuilds_total{input=\"bus\",topic=\"r\","
                             "partition=\"0\"} 1\n"));
    CHECK(m.p && strstr(m.p, "logwarden_kafka_partial_windows_total{input=\"bus\",topic=\"r\","
                             "partition=\"0\"} 0\n"));
    lw_buf_free(&m);

    in.ops->stop(&in);
    uv_run(&loop, UV_RUN_DEFAULT);
    in.ops->free(&in);
    CHECK_EQ(uv_loop_close(&loop), 0);
    lw_queue_free(in.queue);
    lw_yaml_free(doc);
    lw_diag_free(&diag);
    rd_kafka_destroy(prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

int main(void)
{
    lw_log_set_level(LW_WARN);
    test_options();
    test_mock_cluster();
    test_rebuild_backpressure();
    return test_summary();
}
