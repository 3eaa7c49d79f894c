/* kafka_input.c: the Kafka input: a librdkafka consumer in a group (cooperative-sticky) on the I/O
 * loop, one stream per partition, offsets committed to Kafka only after SQLite has them, and
 * partitions whose local windows are stale rebuilt by reading them back (DESIGN.md, "Scale-out").
 *
 * What is committed, and what a crash between two steps does:
 *
 *   step                                   a crash after it
 *   1 batch of partition P pushed          nothing committed: P is read again from its SQLite
 *                                          position (or rebuilt, see assign)
 *   2 flush: windows + P's position in     SQLite is ahead of Kafka. The committed offset's
 *     one SQLite transaction (the position metadata holds the token of the process that
 *     carries the reading process's token) committed it: the same one as the SQLite position's
 *                                          (nobody committed since): P resumes at its SQLite
 *                                          position. Another token: P is rebuilt up to the
 *                                          committed offset and read live from there
 *   3 checkpoint op: async commit to Kafka both agree: P resumes at its position, nothing
 *     at the next loop turn, with the      is counted twice, nothing announced again
 *     token as metadata
 *   revoke: RELEASE, in->sync (a flush),   the next owner finds the committed offset and
 *     sync commit, unassign                rebuilds its windows from the partition itself
 *   lost assignment / fenced commit:       nothing is committed; the windows are dropped and
 *     RELEASE only                         the next owner rebuilds
 *
 * Threads: everything runs on the I/O thread: librdkafka's callbacks (rebalance, commit, error,
 * log, statistics) are served by rd_kafka_consumer_poll, which the loop calls when the consumer
 * queue's pipe becomes readable and on a timer. Only metrics and status are read by the HTTP
 * thread, from a snapshot under ctx->mu. */
#include "kafka.h"

#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Batches the pipeline's queue refused are held by the input up to max_buffered_bytes (default
 * 8 MiB) before partitions are paused in librdkafka: a pause drops what librdkafka has fetched
 * for the partition and the resume fetches it again about half a second later, so pausing at
 * the first refusal of the daemon's small queue (a few batches) made a 6-partition topic read at
 * 15 000 lines/s with the CPU idle. Held bytes are bounded by the limit plus one round. */
#define KAFKA_HOLD_MAX ((size_t)ctx->conf.max_buffered)
#define KAFKA_TICK_MS 100                         /* safety poll, commits, fenced partitions */
#define KAFKA_METRICS_EVERY_MS 1000               /* the /metrics snapshot */
#define KAFKA_ROUND_MAX (LW_BATCH_MAX_LINES * 64) /* messages per wake before yielding the loop */
#define KAFKA_BLOCK_MS 5000                       /* bounded blocking calls on the loop */
#define KAFKA_PROBE_MS 2000                       /* one binary search probe */
#define KAFKA_SYNC_NS (10 * LW_NS_PER_SEC)        /* revoke: the flush we wait for */
#define KAFKA_STOP_SYNC_NS (3 * LW_NS_PER_SEC)
#define KAFKA_STOP_JOIN_NS (5 * LW_NS_PER_SEC) /* stop: the first assignment we wait for */
#define KAFKA_WARN_EVERY (10 * LW_NS_PER_SEC)
#define KAFKA_REFUSED_NS (60 * LW_NS_PER_SEC) /* a refused commit holds commits at most this */
#define KAFKA_SETTLE_NS                                                                            \
    (15 * LW_NS_PER_SEC) /* after the first assignment: unowned state released */
#define KAFKA_REPLAN_NS (10 * LW_NS_PER_SEC) /* a GONE partition still assigned: planned anew */

enum part_state {
    PART_LIVE,    /* read by the group consumer, checkpointed */
    PART_REBUILD, /* paused in the group consumer, read back by the reader (REPLAY) */
    PART_GONE,    /* released after a fenced commit: read again once planned anew */
};

/* What a record of the batch being filled carries beyond its value (lw_rec_meta), kept as
 * offsets into scratch until the batch is complete and its label space can be laid out. */
struct pmeta {
    int64_t ts_ns, offset;
    size_t off_at, off_len; /* the offset as text, in scratch */
    size_t key_at, key_len;
    bool key;
    size_t hdr, nhdr; /* headers: hdrs[hdr .. hdr+nhdr) */
};
struct phdr {
    size_t name_at, name_len, val_at, val_len; /* name includes "header." */
};

/* One assigned partition. I/O thread only. */
struct part {
    char *topic;
    int32_t partition;
    char *stream; /* "TOPIC/PARTITION": the position's key in the state file */
    enum part_state state;
    int64_t pushed;  /* the next offset after the last record the queue took; -1: none */
    int64_t floor;   /* checkpoints below this are from an earlier ownership: ignored */
    int64_t saved;   /* the position the state file has (checkpoint op); -1: none */
    int64_t commit;  /* to commit to Kafka at the next tick; -1: nothing */
    bool retry;      /* the last commit failed: again at the next checkpoint, or within a second */
    int64_t rb_end;  /* rebuild: read back up to this offset (exclusive) */
    int64_t gone_ns; /* GONE since (monotonic) */
    bool rb_done;    /* rebuild: the reader reached rb_end */
    struct lw_batch *cur;              /* being filled this round */
    struct lw_batch *held, *held_tail; /* refused by the queue, in order */
    bool bp_paused;                    /* paused until the held batches are taken */
    struct pmeta *pm;
    size_t npm, cappm;
    struct phdr *ph;
    size_t nph, capph;
    struct lw_buf scratch;
    uint64_t msgs, bytes, rebuilds, partials, commit_failures;
};

struct kafka_ctx {
    size_t held_bytes; /* what the partitions hold (held_cost), against max_buffered_bytes */
    struct lw_input *in;
    struct kafka_conf conf;
    rd_kafka_t *rk;     /* the group consumer */
    rd_kafka_t *reader; /* no group: reads partitions back (rebuilds) */
    rd_kafka_t *probe;  /* no group: one message's timestamp per binary search step */
    rd_kafka_queue_t *q, *rq;
    int pipefd[2];
    uv_loop_t *loop;
    uv_poll_t poll;
    uv_timer_t timer, commit_timer;
    bool poll_live, timer_live, stopping;
    int64_t first_assign_ns; /* the first assignment (monotonic); 0: none yet */
    uint64_t token; /* this process's, in positions and commit metadata (kafka_pos_encode) */
    struct part **parts;
    size_t nparts;
    struct part *last; /* the partition of the last message: consecutive messages share it */
    char **local;      /* streams with a saved position at start, until the first assignment */
    size_t nlocal;
    uint64_t lost, fenced; /* assignments lost, commits fenced */
    /* The group is rebalancing: async commits wait, since one carrying the generation being
     * replaced makes librdkafka drop the whole assignment. Any of: a commit was refused with
     * REBALANCE_IN_PROGRESS (until the next assignment, or KAFKA_REFUSED_NS), partitions were
     * revoked (a cooperative member joins again at once: until the next assignment), the
     * statistics' join_state is not steady (until they say it is). */
    bool refused, revoked, stats_rebalancing;
    /* The member is joining the group again (librdkafka's cgrp debug lines JOIN, REJOIN,
     * REBALANCE, served with the other log lines on this loop): the earliest sign of a
     * rebalance. A commit sent now queues behind the JoinGroup and meets the next generation,
     * which librdkafka 2.0.2 answers by dropping the whole assignment (librdkafka#4059). Until
     * the next assignment, or statistics saying steady 2 s after it was set. */
    bool joining;
    int64_t joining_ns;
    bool stats_on;
    int bad_stats; /* statistics in a row that found an owned partition's leader not up */
    bool debug_logs;
    /* the user set `debug`: librdkafka's debug lines are logged */ /* statistics come (they
                                                                       decide health); else a
                                                                       message clears degraded
                                                                     */
    /* librdkafka#4312 (assignor_stateless): bug4312: this librdkafka has it (< 2.3.0);
     * cgrp_lines: its cgrp debug lines reach on_log; join_ok: one said a JoinGroup succeeded
     * (librdkafka has picked the group's assignor); synced: a first assignment came (the
     * cooperative-sticky assignor has its state). */
    bool bug4312, cgrp_lines, join_ok, synced;
    int64_t refused_ns; /* when a commit was refused (monotonic) */
    uint64_t ticks;
    struct lw_ratelimit rl_msg, rl_commit, rl_log;
    /* Read by the HTTP thread. */
    pthread_mutex_t mu;
    struct lw_buf mtext; /* metrics samples */
    _Atomic int64_t lag; /* messages behind in the owned partitions, -1 not known (health) */
    char reason[256];    /* why degraded */
    atomic_bool degraded;
};

/* ---------------------------------------------------------------- partitions */

static struct part *part_find(struct kafka_ctx *ctx, const char *topic, int32_t partition)
{
    struct part *l = ctx->last;
    if (l && l->partition == partition && !strcmp(l->topic, topic))
        return l;
    for (size_t i = 0; i < ctx->nparts; i++)
        if (ctx->parts[i]->partition == partition && !strcmp(ctx->parts[i]->topic, topic))
            return ctx->last = ctx->parts[i];
    return NULL;
}

static struct part *part_by_stream(struct kafka_ctx *ctx, const char *stream)
{
    for (size_t i = 0; i < ctx->nparts; i++)
        if (!strcmp(ctx->parts[i]->stream, stream))
            return ctx->parts[i];
    return NULL;
}

static struct part *part_new(struct kafka_ctx *ctx, const char *topic, int32_t partition)
{
    struct part *p = lw_calloc(1, sizeof *p);
    char buf[32];
    p->topic = lw_strdup(topic);
    p->partition = partition;
    snprintf(buf, sizeof buf, "/%d", (int)partition);
    size_t tn = strlen(topic), pn = strlen(buf);
    p->stream = lw_malloc(tn + pn + 1);
    memcpy(p->stream, topic, tn);
    memcpy(p->stream + tn, buf, pn + 1);
    p->pushed = p->saved = p->commit = -1;
    ctx->parts = lw_realloc(ctx->parts, (ctx->nparts + 1) * sizeof *ctx->parts);
    ctx->parts[ctx->nparts++] = p;
    return p;
}

/* What a held batch counts against KAFKA_HOLD_MAX: its bytes and its records. */
static size_t held_cost(const struct lw_batch *b)
{
    return b->len + b->n * sizeof *b->recs;
}

static void drop_batches(struct kafka_ctx *ctx, struct part *p)
{
    lw_queue_recycle(ctx->in->queue, p->cur);
    p->cur = NULL;
    while (p->held) {
        struct lw_batch *b = p->held;
        p->held = b->next;
        b->next = NULL;
        ctx->held_bytes -= held_cost(b);
        lw_queue_recycle(ctx->in->queue, b);
    }
    p->held_tail = NULL;
}

static void part_remove(struct kafka_ctx *ctx, struct part *p)
{
    drop_batches(ctx, p);
    for (size_t i = 0; i < ctx->nparts; i++)
        if (ctx->parts[i] == p) {
            ctx->parts[i] = ctx->parts[--ctx->nparts];
            break;
        }
    if (ctx->last == p)
        ctx->last = NULL;
    free(p->topic);
    free(p->stream);
    free(p->pm);
    free(p->ph);
    lw_buf_free(&p->scratch);
    free(p);
}

/* A one-partition list at offset off. */
static rd_kafka_topic_partition_list_t *tp_list(const struct part *p, int64_t off)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = off;
    return l;
}

/* The handle that reads p now. */
static rd_kafka_t *reading(const struct kafka_ctx *ctx, const struct part *p)
{
    return p->state == PART_REBUILD ? ctx->reader : ctx->rk;
}

static void pause_part(struct kafka_ctx *ctx, struct part *p, bool pause)
{
    rd_kafka_topic_partition_list_t *l = tp_list(p, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_t *rk = reading(ctx, p);
    if (rk)
        (pause ? rd_kafka_pause_partitions : rd_kafka_resume_partitions)(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---------------------------------------------------------------- status and metrics */

static void set_degraded(struct kafka_ctx *ctx, bool degraded, const char *reason)
{
    if (atomic_load(&ctx->degraded) == degraded)
        return;
    pthread_mutex_lock(&ctx->mu);
    snprintf(ctx->reason, sizeof ctx->reason, "%s", reason ? reason : "");
    lw_redact_in(ctx->reason, sizeof ctx->reason);
    atomic_store(&ctx->degraded, degraded);
    pthread_mutex_unlock(&ctx->mu);
    if (degraded)
        lw_log(LW_WARN, "[input:%s] degraded: %s", ctx->in->name, ctx->reason);
    else
        lw_log(LW_INFO, "[input:%s] healthy again: the owned partitions' leaders are up",
               ctx->in->name);
}

/* The samples of /metrics, rebuilt on the loop: a revoked partition's series disappear with it. */
static void metrics_snapshot(struct kafka_ctx *ctx)
{
    struct lw_buf b = {0};
    const char *n = ctx->in->name;
    size_t paused = 0;
    int64_t lag = -1;
    for (size_t i = 0; i < ctx->nparts; i++) {
        const struct part *p = ctx->parts[i];
        int64_t lo = -1, hi = -1;
        char l[512];
        snprintf(l, sizeof l, "{input=\"%s\",topic=\"%s\",partition=\"%d\"}", n, p->topic,
                 (int)p->partition);
        paused += p->bp_paused;
        if (rd_kafka_get_watermark_offsets(ctx->rk, p->topic, p->partition, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0) {
            int64_t at = p->state == PART_LIVE ? p->pushed : p->rb_end;
            if (at >= 0) {
                lw_buf_printf(&b, "logwarden_kafka_lag%s %lld\n", l,
                              (long long)(hi > at ? hi - at : 0));
                lag = (lag < 0 ? 0 : lag) + (hi > at ? hi - at : 0);
            }
        }
        lw_buf_printf(&b, "logwarden_kafka_messages_total%s %llu\n", l,
                      (unsigned long long)p->msgs);
        lw_buf_printf(&b, "logwarden_kafka_bytes_total%s %llu\n", l, (unsigned long long)p->bytes);
        lw_buf_printf(&b, "logwarden_kafka_rebuilds_total%s %llu\n", l,
                      (unsigned long long)p->rebuilds);
        lw_buf_printf(&b, "logwarden_kafka_partial_windows_total%s %llu\n", l,
                      (unsigned long long)p->partials);
        lw_buf_printf(&b, "logwarden_kafka_commit_failures_total%s %llu\n", l,
                      (unsigned long long)p->commit_failures);
        lw_buf_printf(&b, "logwarden_kafka_rebuilding%s %d\n", l, p->state != PART_LIVE);
    }
    lw_buf_printf(&b, "logwarden_kafka_partitions{input=\"%s\"} %zu\n", n, ctx->nparts);
    lw_buf_printf(&b, "logwarden_kafka_paused_partitions{input=\"%s\"} %zu\n", n, paused);
    lw_buf_printf(&b, "logwarden_kafka_assignments_lost_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)ctx->lost);
    lw_buf_printf(&b, "logwarden_kafka_commits_fenced_total{input=\"%s\"} %llu\n", n,
                  (unsigned long long)ctx->fenced);
    atomic_store(&ctx->lag, lag);
    pthread_mutex_lock(&ctx->mu);
    lw_buf_free(&ctx->mtext);
    ctx->mtext = b;
    pthread_mutex_unlock(&ctx->mu);
}

static void kafka_metrics(struct lw_input *in, struct lw_buf *out)
{
    struct kafka_ctx *ctx = in->ctx;
    pthread_mutex_lock(&ctx->mu);
    if (ctx->mtext.len)
        lw_buf_append(out, ctx->mtext.p, ctx->mtext.len);
    pthread_mutex_unlock(&ctx->mu);
}

static int kafka_lag(struct lw_input *in, const char **unit, uint64_t *out)
{
    struct kafka_ctx *ctx = in->ctx;
    int64_t lag = ctx ? atomic_load(&ctx->lag) : -1;
    if (lag < 0)
        return -1;
    *unit = "messages";
    *out = (uint64_t)lag;
    return 0;
}

static const char *kafka_status(struct lw_input *in, struct lw_buf *detail)
{
    struct kafka_ctx *ctx = in->ctx;
    if (!ctx || !atomic_load(&ctx->degraded))
        return "healthy";
    pthread_mutex_lock(&ctx->mu);
    lw_buf_printf(detail, "no Kafka broker reachable: %s", ctx->reason);
    pthread_mutex_unlock(&ctx->mu);
    return "degraded";
}

/* ---------------------------------------------------------------- batches */

static bool batch_full(const struct lw_batch *b)
{
    return b->n >= LW_BATCH_MAX_LINES || b->len >= LW_BATCH_MAX_BYTES;
}

/* Lays out what the batch's records carry beyond their values in its label space (one call per
 * filling): the metas, a label set per record (offset, key, header.<name>), then the bytes they
 * point at. */
static void batch_seal(struct part *p, struct lw_batch *b)
{
    static const struct lw_str offset_name = {"offset", 6}, key_name = {"key", 3};
    size_t need = b->n * sizeof(struct lw_rec_meta);
    for (size_t i = 0; i < p->npm; i++)
        need += sizeof(struct lw_labelset) + 2 * (2 + p->pm[i].nhdr) * sizeof(struct lw_str);
    need += p->scratch.len + 1;
    char *sp = lw_batch_label_space(b, need);
    struct lw_rec_meta *metas = (struct lw_rec_meta *)sp;
    char *at = sp + b->n * sizeof *metas;
    char *bytes = sp + need - p->scratch.len - 1;
    if (p->scratch.len)
        memcpy(bytes, p->scratch.p, p->scratch.len);
    /* The stream "TOPIC/PARTITION" holds both labels (lw_batch.labels may borrow from it). */
    size_t tn = strlen(p->topic);
    b->labels[LW_L_TOPIC] = (struct lw_str){b->stream, tn};
    b->labels[LW_L_PARTITION] = (struct lw_str){b->stream + tn + 1, strlen(b->stream) - tn - 1};
    for (size_t i = 0; i < b->n && i < p->npm; i++) {
        const struct pmeta *m = &p->pm[i];
        struct lw_labelset *ls = (struct lw_labelset *)at;
        size_t cap = 2 + m->nhdr, n = 0;
        struct lw_str *names = (struct lw_str *)(ls + 1), *vals = names + cap;
        memset(ls, 0, sizeof *ls);
        atomic_init(&ls->refs, 1);
        names[n] = offset_name;
        vals[n++] = (struct lw_str){bytes + m->off_at, m->off_len};
        if (m->key) { /* a message without a key has no key label (an empty key is one) */
            names[n] = key_name;
            vals[n++] = (struct lw_str){bytes + m->key_at, m->key_len};
        }
        for (size_t h = 0; h < m->nhdr; h++) {
            const struct phdr *x = &p->ph[m->hdr + h];
            names[n] = (struct lw_str){bytes + x->name_at, x->name_len};
            vals[n++] = (struct lw_str){bytes + x->val_at, x->val_len};
        }
        ls->names = names;
        ls->values = vals;
        ls->nextra = n;
        at += sizeof *ls + 2 * cap * sizeof(struct lw_str);
        metas[i] = (struct lw_rec_meta){m->ts_ns, ls};
        b->recs[i].meta = &metas[i];
    }
    p->npm = p->nph = 0;
    lw_buf_reset(&p->scratch);
}

static void hold(struct kafka_ctx *ctx, struct part *p, struct lw_batch *b)
{
    ctx->held_bytes += held_cost(b);
    b->next = NULL;
    if (p->held_tail)
        p->held_tail->next = b;
    else
        p->held = b;
    p->held_tail = b;
}

/* The position after b's last record, read before b is handed over (the pipeline may have
 * recycled it by the time the push returns); -1 when it carries none. */
static int64_t end_of(const struct lw_batch *b)
{
    return b->kind == LW_BATCH_LINES && b->n ? b->recs[b->n - 1].cursor : -1;
}

static void pushed(struct part *p, int64_t end)
{
    if (end >= 0)
        p->pushed = end;
}

/* Hands b to the queue behind what p holds; what the queue refuses is held, and past
 * KAFKA_HOLD_MAX held bytes p is paused until resume. */
static void push(struct kafka_ctx *ctx, struct part *p, struct lw_batch *b)
{
    if (!p->held) {
        int64_t end = end_of(b);
        int rc = lw_input_push(ctx->in, b);
        if (rc == LW_OK) {
            pushed(p, end);
            return;
        }
        if (rc != LW_EFULL) { /* the queue is closed: we are stopping */
            lw_queue_recycle(ctx->in->queue, b);
            return;
        }
    }
    hold(ctx, p, b);
    if (!p->bp_paused && ctx->held_bytes > KAFKA_HOLD_MAX) {
        p->bp_paused = true;
        pause_part(ctx, p, true);
    }
}

static void push_cur(struct kafka_ctx *ctx, struct part *p)
{
    struct lw_batch *b = p->cur;
    if (!b)
        return;
    p->cur = NULL;
    batch_seal(p, b);
    push(ctx, p, b);
}

/* A marker (lw_batch_kind) for p, in order with its lines. */
static void push_marker(struct kafka_ctx *ctx, struct part *p, enum lw_batch_kind kind,
                        bool partial)
{
    push_cur(ctx, p);
    struct lw_batch *b = lw_queue_batch(ctx->in->queue, ctx->in->index, p->stream, 0);
    b->kind = kind;
    b->partial = partial;
    if (kind == LW_BATCH_REPLAY_END) { /* live from rb_end: the stream's checkpoint */
        b->ident[0] = (uint64_t)p->partition;
        b->ident[1] = ctx->token;
        b->live_pos = true;
        b->live_cursor = p->rb_end;
    }
    push(ctx, p, b);
}

/* RELEASE must get through even on a full queue (the revoke path may block): what p held is
 * dropped (its position stays at what was pushed), the marker waits for room. */
static void push_release(struct kafka_ctx *ctx, struct part *p)
{
    drop_batches(ctx, p);
    p->npm = p->nph = 0;
    lw_buf_reset(&p->scratch);
    struct lw_batch *b = lw_queue_batch(ctx->in->queue, ctx->in->index, p->stream, 0);
    b->kind = LW_BATCH_RELEASE;
    if (lw_queue_push(ctx->in->queue, b) != LW_OK)
        lw_queue_recycle(ctx->in->queue, b);
}

static void add_message(struct kafka_ctx *ctx, struct part *p, const rd_kafka_message_t *m,
                        int64_t now)
{
    struct lw_input *in = ctx->in;
    if (!p->cur) {
        p->cur = lw_queue_batch(in->queue, in->index, p->stream, 64 * 1024);
        p->cur->kind = p->state == PART_REBUILD ? LW_BATCH_REPLAY : LW_BATCH_LINES;
        p->cur->ident[0] = (uint64_t)p->partition;
        p->cur->ident[1] = ctx->token;
        p->npm = p->nph = 0;
        lw_buf_reset(&p->scratch);
    }
    size_t n = m->len;
    if (n > in->max_line) {
        n = in->max_line;
        atomic_fetch_add(&in->truncated, 1);
    }
    lw_batch_add(p->cur, m->payload ? m->payload : "", m->payload ? n : 0, now, m->offset + 1);
    if (p->npm == p->cappm) {
        p->cappm = p->cappm ? p->cappm * 2 : 64;
        p->pm = lw_realloc(p->pm, p->cappm * sizeof *p->pm);
    }
    struct pmeta *pm = &p->pm[p->npm++];
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    pm->ts_ns = ts > 0 ? ts * LW_NS_PER_MS : 0;
    pm->offset = m->offset;
    /* The offset as text, without printf's cost per message. */
    char digits[24], *d = digits + sizeof digits;
    uint64_t o = m->offset > 0 ? (uint64_t)m->offset : 0;
    do {
        *--d = (char)('0' + o % 10);
        o /= 10;
    } while (o);
    pm->off_at = p->scratch.len;
    pm->off_len = (size_t)(digits + sizeof digits - d);
    lw_buf_append(&p->scratch, d, pm->off_len);
    pm->key = m->key != NULL;
    pm->key_at = p->scratch.len;
    pm->key_len = m->key_len;
    if (m->key_len)
        lw_buf_append(&p->scratch, m->key, m->key_len);
    pm->hdr = p->nph;
    pm->nhdr = 0;
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
        const char *name;
        const void *val;
        size_t vn;
        for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &vn); i++) {
            if (p->nph == p->capph) {
                p->capph = p->capph ? p->capph * 2 : 64;
                p->ph = lw_realloc(p->ph, p->capph * sizeof *p->ph);
            }
            struct phdr *h = &p->ph[p->nph++];
            h->name_at = p->scratch.len;
            lw_buf_printf(&p->scratch, "header.%s", name);
            h->name_len = p->scratch.len - h->name_at;
            h->val_at = p->scratch.len;
            h->val_len = val ? vn : 0;
            if (h->val_len)
                lw_buf_append(&p->scratch, val, vn);
            pm->nhdr++;
        }
    }
    atomic_fetch_add_explicit(&in->lines, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&in->bytes, n, memory_order_relaxed);
    p->msgs++;
    p->bytes += m->len;
    if (batch_full(p->cur))
        push_cur(ctx, p);
}

/* ---------------------------------------------------------------- rebuilds */

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque);

/* A consumer outside the group (reads chosen partitions), polled on the loop too. librdkafka
 * assigns only with a group.id: it gets one of its own, never joined (no subscribe) and never
 * committed to. */
static rd_kafka_t *groupless(struct kafka_ctx *ctx, const char *what, bool eof)
{
    char errstr[512], gid[512];
    struct lw_err err = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(gid, sizeof gid, "%s.logwarden-%s", ctx->conf.group, what);
    if (lw_kafka__conf_apply(&ctx->conf, conf, false, &err) < 0 ||
        rd_kafka_conf_set(conf, "group.id", gid, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "50", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", eof ? "true" : "false", errstr,
                          sizeof errstr)) {
        rd_kafka_conf_destroy(conf);
        lw_log(LW_ERROR, "[input:%s] %s: %s", ctx->in->name, what, err.msg);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, ctx);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        lw_log(LW_ERROR, "[input:%s] %s: %s", ctx->in->name, what, errstr);
        return NULL;
    }
    rd_kafka_set_log_queue(rk, NULL);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* One partition's search for the start of its rebuild (window_starts). */
struct search {
    struct part *p;
    int64_t low, end; /* the partition's low watermark, the rebuild's end (exclusive) */
    int64_t lo, hi;   /* binary search: the start is in [lo, hi] */
    int64_t want;     /* this round's probe offset; -1: none */
    int64_t ts, at;   /* what the probe found: a timestamp (ms) and its offset; INT64_MIN: none */
    int64_t start;
    bool partial;
};

/* One probe round: for every search with a `want`, the timestamp of the first message at or
 * after it, through the probe consumer (all partitions at once). Blocks up to KAFKA_PROBE_MS. */
static void probe_round(struct kafka_ctx *ctx, struct search *s, size_t n)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
        s[i].ts = INT64_MIN;
    if (!ctx->probe && !(ctx->probe = groupless(ctx, "probe", false)))
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        if (s[i].want >= 0) {
            rd_kafka_topic_partition_list_add(l, s[i].p->topic, s[i].p->partition)->offset =
                s[i].want;
            left++;
        }
    rd_kafka_assign(ctx->probe, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t deadline = lw_mono_ns() + KAFKA_PROBE_MS * LW_NS_PER_MS;
    while (left && lw_mono_ns() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ctx->probe, 100);
        if (!m)
            continue;
        for (size_t i = 0; !m->err && i < n; i++)
            if (s[i].want >= 0 && s[i].ts == INT64_MIN && m->partition == s[i].p->partition &&
                m->offset >= s[i].want && !strcmp(rd_kafka_topic_name(m->rkt), s[i].p->topic)) {
                s[i].ts = rd_kafka_message_timestamp(m, NULL);
                s[i].at = m->offset;
                left--;
            }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(ctx->probe, NULL);
}

/* For each search, the first offset in [low, end) whose message may lie inside a window
 * starting at wstart_ms: offsets_for_times, or where it answers -1 while data exists (the mock
 * cluster always does), a binary search by message timestamps, every partition's step in one
 * round (log2 of the longest range rounds, not one per partition). partial: retention removed
 * messages that may have been inside the window. */
static void window_starts(struct kafka_ctx *ctx, struct search *s, size_t n, int64_t wstart_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(l, s[i].p->topic, s[i].p->partition)->offset = wstart_ms;
        s[i].start = -1;
        s[i].lo = s[i].low;
        s[i].hi = s[i].end;
        s[i].partial = false;
    }
    if (rd_kafka_offsets_for_times(ctx->rk, l, KAFKA_BLOCK_MS) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (size_t i = 0; i < n && (int)i < l->cnt; i++)
            if (!l->elems[i].err && l->elems[i].offset >= 0)
                s[i].start = l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    for (;;) {
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            s[i].want =
                s[i].start < 0 && s[i].lo < s[i].hi ? s[i].lo + (s[i].hi - s[i].lo) / 2 : -1;
            any |= s[i].want >= 0;
        }
        if (!any)
            break;
        probe_round(ctx, s, n);
        for (size_t i = 0; i < n; i++) {
            if (s[i].want < 0)
                continue;
            if (s[i].ts == INT64_MIN) {
                lw_log(LW_WARN,
                       "[input:%s] %s: no message at offset %lld within %d ms: rebuilding from "
                       "offset %lld",
                       ctx->in->name, s[i].p->stream, (long long)s[i].want, KAFKA_PROBE_MS,
                       (long long)s[i].low);
                s[i].start = s[i].low;
            } else if (s[i].ts >= wstart_ms || s[i].at >= s[i].hi) {
                s[i].hi = s[i].want;
            } else {
                s[i].lo = s[i].at + 1;
            }
        }
    }
    bool check = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i].start < 0)
            s[i].start = s[i].lo;
        if (s[i].start < s[i].low)
            s[i].start = s[i].low;
        if (s[i].start > s[i].end)
            s[i].start = s[i].end;
        /* Reading from the low watermark: was the message before it (gone) inside the window? */
        s[i].want = s[i].start == s[i].low && s[i].low > 0 && s[i].low < s[i].end ? s[i].low : -1;
        check |= s[i].want >= 0;
    }
    if (check) {
        probe_round(ctx, s, n);
        for (size_t i = 0; i < n; i++)
            s[i].partial = s[i].want >= 0 && s[i].ts != INT64_MIN && s[i].ts > wstart_ms;
    }
}

/* Local windows for p are stale (or absent): rebuild them from [start, end), quietly, then go
 * live at end. Returns true when there is something to read back (p is then paused in the group
 * consumer and assigned to the reader). */
static bool plan_rebuild(struct kafka_ctx *ctx, struct part *p, int64_t low, int64_t end,
                         int64_t start, bool partial)
{
    p->rebuilds++;
    p->partials += partial;
    if (partial)
        lw_log(LW_WARN,
               "[input:%s] %s: retention removed part of the longest window (offsets from %lld "
               "kept): windows rebuilt partial",
               ctx->in->name, p->stream, (long long)low);
    lw_log(LW_INFO, "[input:%s] %s: rebuilding windows from offset %lld to %lld", ctx->in->name,
           p->stream, (long long)start, (long long)end);
    p->pushed = p->floor = p->rb_end = end;
    p->state = PART_REBUILD;
    push_marker(ctx, p, LW_BATCH_REPLAY_START, partial);
    if (start >= end) {
        push_marker(ctx, p, LW_BATCH_REPLAY_END, false);
        p->state = PART_LIVE;
        return false;
    }
    if (!ctx->reader) {
        ctx->reader = groupless(ctx, "reader", true);
        if (ctx->reader) {
            ctx->rq = rd_kafka_queue_get_consumer(ctx->reader);
            rd_kafka_queue_io_event_enable(ctx->rq, ctx->pipefd[1], "r", 1);
        }
    }
    if (!ctx->reader) { /* cannot read back: live at end, windows as they are */
        push_marker(ctx, p, LW_BATCH_REPLAY_END, false);
        p->state = PART_LIVE;
        return false;
    }
    p->rb_done = false;
    rd_kafka_topic_partition_list_t *l = tp_list(p, start);
    rd_kafka_error_t *e = rd_kafka_incremental_assign(ctx->reader, l);
    if (e) {
        lw_log(LW_WARN, "[input:%s] %s: reader: %s", ctx->in->name, p->stream,
               rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return true;
}

/* The reader reached the end of p's rebuild: the stream is live again, read by the group
 * consumer from rb_end. */
static void finish_rebuild(struct kafka_ctx *ctx, struct part *p)
{
    rd_kafka_topic_partition_list_t *l = tp_list(p, p->rb_end);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(ctx->reader, l);
    if (e)
        rd_kafka_error_destroy(e);
    push_marker(ctx, p, LW_BATCH_REPLAY_END, false);
    p->state = PART_LIVE;
    p->rb_done = false;
    /* Messages the group consumer fetched before the pause were dropped: seek back. */
    e = rd_kafka_seek_partitions(ctx->rk, l, 0);
    if (e)
        rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
    lw_log(LW_INFO, "[input:%s] %s: rebuilt; live from offset %lld", ctx->in->name, p->stream,
           (long long)p->rb_end);
    if (p->held) {
        p->bp_paused = true; /* resume() lets it go once the queue took what it holds */
        pause_part(ctx, p, true);
    } else {
        p->bp_paused = false;
        pause_part(ctx, p, false);
    }
}

/* ---------------------------------------------------------------- rebalances */

/* "OFFSET" or "OFFSET:TOKEN" (hex) as pos_encode writes it: 0, or -1 when malformed. */
static int pos_decode(const char *b, size_t n, int64_t *off, uint64_t *token)
{
    const char *colon = memchr(b, ':', n);
    size_t on = colon ? (size_t)(colon - b) : n;
    *token = 0;
    if (lw_parse_i64(b, on, off) != 0 || *off < 0)
        return -1;
    for (const char *q = colon ? colon + 1 : b + n; q < b + n; q++) {
        int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        *token = *token << 4 | (uint64_t)d;
    }
    return 0;
}

static int64_t saved_position(struct kafka_ctx *ctx, const char *stream, uint64_t *token)
{
    struct lw_pos pos;
    int64_t off;
    *token = 0;
    if (!ctx->in->ckpt || ctx->in->ckpt(ctx->in->name, stream, &pos, ctx->in->ckpt_payload) != 0)
        return -1;
    return pos_decode(pos.b, pos.n, &off, token) == 0 ? off : -1;
}

/* The token of a commit's metadata ("lw:TOKEN"), or 0. */
static uint64_t commit_token(const rd_kafka_topic_partition_t *tp)
{
    int64_t off;
    uint64_t token;
    if (!tp->metadata || tp->metadata_size < 4 || memcmp(tp->metadata, "lw:", 3))
        return 0;
    char buf[64];
    size_t n = tp->metadata_size - 3 < 40 ? tp->metadata_size - 3 : 40;
    buf[0] = '0';
    buf[1] = ':';
    memcpy(buf + 2, (const char *)tp->metadata + 3, n);
    return pos_decode(buf, n + 2, &off, &token) == 0 ? token : 0;
}

/* Adds p at off to a commit list, with this process's token as metadata: the next owner (this
 * state file after a restart) can tell its own commit from another instance's. */
static void commit_add(struct kafka_ctx *ctx, rd_kafka_topic_partition_list_t *l,
                       const struct part *p, int64_t off)
{
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "lw:%016llx", (unsigned long long)ctx->token);
    tp->offset = off;
    tp->metadata = lw_malloc((size_t)n); /* the list frees it */
    memcpy(tp->metadata, buf, (size_t)n);
    tp->metadata_size = (size_t)n;
}

/* Decides how p starts: resume at a position both SQLite and Kafka agree on, rebuild up to the
 * committed offset, or start_position. Sets *live_at to where the group consumer starts. true
 * when p's windows must be rebuilt: *s is then its search (window_starts, then plan_rebuild). */
static bool plan(struct kafka_ctx *ctx, struct part *p, int64_t local, uint64_t local_token,
                 int64_t committed, uint64_t committed_token, int64_t *live_at, struct search *s)
{
    int64_t target = committed >= 0 ? committed : local, low = -1, high = -1;
    /* The state file is ahead of the committed offset, and that commit was its own (a crash
     * between the flush and the commit): nobody else committed since, its windows are current. */
    if (committed >= 0 && local > committed && local_token && local_token == committed_token) {
        target = local;
        p->commit = local;
    }
    if (target >= 0 && local == target) {
        p->state = PART_LIVE;
        p->pushed = p->floor = p->saved = *live_at = target;
        lw_log(LW_INFO, "[input:%s] %s: resuming at offset %lld", ctx->in->name, p->stream,
               (long long)target);
        return false;
    }
    if (target < 0 && ctx->conf.start != KAFKA_START_WINDOW) {
        p->state = PART_LIVE;
        *live_at = ctx->conf.start == KAFKA_START_EARLIEST ? RD_KAFKA_OFFSET_BEGINNING
                                                           : RD_KAFKA_OFFSET_END;
        lw_log(LW_INFO, "[input:%s] %s: no committed offset: reading from its %s", ctx->in->name,
               p->stream, ctx->conf.start == KAFKA_START_EARLIEST ? "beginning" : "end");
        return false;
    }
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(ctx->rk, p->topic, p->partition, &low,
                                                             &high, KAFKA_BLOCK_MS);
    if (e) {
        lw_log(LW_WARN, "[input:%s] %s: watermarks: %s", ctx->in->name, p->stream,
               rd_kafka_err2str(e));
        low = 0;
        high = target;
    }
    if (target < 0) /* start_position: window */
        target = high >= 0 ? high : 0;
    if (target > high && high >= 0)
        target = high;
    *live_at = target;
    *s = (struct search){.p = p, .low = low < 0 ? 0 : low, .end = target};
    return true;
}

/* Rebuilds the n partitions of s: their starts found together, then each read back. Those that
 * have something to read back are added to wait (to pause in the group consumer). */
static void rebuild(struct kafka_ctx *ctx, struct search *s, size_t n,
                    rd_kafka_topic_partition_list_t *wait)
{
    int64_t w = atomic_load(&ctx->in->longest_window_ns);
    if (w > 0)
        window_starts(ctx, s, n, (lw_now_ns() - w) / LW_NS_PER_MS);
    for (size_t i = 0; i < n; i++) {
        if (w <= 0) { /* no window: nothing to read back */
            s[i].start = s[i].end;
            s[i].partial = false;
        }
        if (plan_rebuild(ctx, s[i].p, s[i].low, s[i].end, s[i].start, s[i].partial) && wait)
            rd_kafka_topic_partition_list_add(wait, s[i].p->topic, s[i].p->partition);
    }
}

/* A local stream is assigned: its state is this instance's to resume or rebuild. */
static void local_assigned(struct kafka_ctx *ctx, const char *stream)
{
    for (size_t i = 0; i < ctx->nlocal; i++)
        if (!strcmp(ctx->local[i], stream)) {
            free(ctx->local[i]);
            ctx->local[i] = ctx->local[--ctx->nlocal];
            return;
        }
}

static bool rebalancing(const struct kafka_ctx *ctx)
{
    return ctx->refused || ctx->revoked || ctx->stats_rebalancing || ctx->joining;
}

/* Local state of partitions this instance was not given is stale: released once the group has
 * settled after the first assignment (a cooperative rebalance assigns in rounds: a partition
 * may come in the second). */
static void release_unowned(struct kafka_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nlocal; i++) {
        if (!part_by_stream(ctx, ctx->local[i])) {
            struct lw_batch *b = lw_queue_batch(ctx->in->queue, ctx->in->index, ctx->local[i], 0);
            b->kind = LW_BATCH_RELEASE;
            if (lw_queue_push(ctx->in->queue, b) != LW_OK)
                lw_queue_recycle(ctx->in->queue, b);
            lw_log(LW_INFO, "[input:%s] %s: not assigned to this instance: local windows released",
                   ctx->in->name, ctx->local[i]);
        }
        free(ctx->local[i]);
    }
    free(ctx->local);
    ctx->local = NULL;
    ctx->nlocal = 0;
}

static void assign_parts(struct kafka_ctx *ctx, rd_kafka_topic_partition_list_t *list)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(list);
    rd_kafka_resp_err_t e = rd_kafka_committed(ctx->rk, c, KAFKA_BLOCK_MS);
    if (e)
        lw_log(LW_WARN, "[input:%s] committed offsets: %s: comparing with local state only",
               ctx->in->name, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_t *wait = rd_kafka_topic_partition_list_new(list->cnt);
    struct search *s = lw_calloc((size_t)list->cnt + 1, sizeof *s);
    size_t ns = 0;
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &list->elems[i];
        struct part *p = part_find(ctx, tp->topic, tp->partition);
        if (!p)
            p = part_new(ctx, tp->topic, tp->partition);
        local_assigned(ctx, p->stream);
        int64_t committed = !e && !c->elems[i].err ? c->elems[i].offset : -1;
        int64_t live_at = RD_KAFKA_OFFSET_END;
        uint64_t token;
        int64_t local = saved_position(ctx, p->stream, &token);
        if (plan(ctx, p, local, token, committed,
                 !e && !c->elems[i].err ? commit_token(&c->elems[i]) : 0, &live_at, &s[ns]))
            ns++;
        tp->offset = live_at;
    }
    rd_kafka_topic_partition_list_destroy(c);
    rebuild(ctx, s, ns, wait);
    free(s);
    rd_kafka_error_t *err = rd_kafka_incremental_assign(ctx->rk, list);
    if (err) {
        lw_log(LW_ERROR, "[input:%s] assign: %s", ctx->in->name, rd_kafka_error_string(err));
        rd_kafka_error_destroy(err);
    }
    if (wait->cnt)
        rd_kafka_pause_partitions(ctx->rk, wait);
    rd_kafka_topic_partition_list_destroy(wait);
    if (!ctx->first_assign_ns)
        ctx->first_assign_ns = lw_mono_ns();
    lw_log(LW_INFO, "[input:%s] assigned %d partitions (%zu owned)", ctx->in->name, list->cnt,
           ctx->nparts);
}

static bool fenced_err(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION || e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
           e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID || e == RD_KAFKA_RESP_ERR__FENCED ||
           e == RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST;
}

static void revoke_parts(struct kafka_ctx *ctx, rd_kafka_topic_partition_list_t *list, bool lost)
{
    struct lw_input *in = ctx->in;
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(list->cnt);
    for (int i = 0; i < list->cnt; i++) {
        struct part *p = part_find(ctx, list->elems[i].topic, list->elems[i].partition);
        if (!p)
            continue;
        if (p->state == PART_REBUILD && ctx->reader) {
            rd_kafka_topic_partition_list_t *l = tp_list(p, 0);
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(ctx->reader, l);
            if (e)
                rd_kafka_error_destroy(e);
            rd_kafka_topic_partition_list_destroy(l);
        }
        /* A stop is no hand-off: the windows stay, and a restart that gets the partition back
         * with matching offsets resumes them. */
        if (!ctx->stopping && p->state != PART_GONE)
            push_release(ctx, p);
        else
            drop_batches(ctx, p);
        if (!lost && p->state == PART_LIVE && p->pushed >= 0)
            commit_add(ctx, offs, p, p->pushed);
    }
    if (lost) {
        ctx->lost++;
        lw_log(LW_WARN,
               "[input:%s] assignment lost (session timed out or fenced): %d partitions "
               "released, nothing committed",
               in->name, list->cnt);
    } else if (offs->cnt) {
        int rc = in->sync ? in->sync(in, ctx->stopping ? KAFKA_STOP_SYNC_NS : KAFKA_SYNC_NS,
                                     in->ckpt_payload)
                          : 0;
        if (rc != 0) {
            lw_log(LW_WARN,
                   "[input:%s] revoke: the flush did not complete (%s): offsets not committed",
                   in->name, lw_strerror(rc));
        } else {
            rd_kafka_resp_err_t e = rd_kafka_commit(ctx->rk, offs, 0);
            for (int i = 0; !e && i < offs->cnt; i++)
                if (offs->elems[i].err)
                    e = offs->elems[i].err;
            if (fenced_err(e)) {
                ctx->fenced++;
                lw_log(LW_WARN, "[input:%s] revoke: commit fenced (%s): windows already released",
                       in->name, rd_kafka_err2str(e));
            } else if (e) {
                lw_log(LW_WARN, "[input:%s] revoke: commit failed: %s", in->name,
                       rd_kafka_err2str(e));
                for (int i = 0; i < offs->cnt; i++) {
                    struct part *p = part_find(ctx, offs->elems[i].topic, offs->elems[i].partition);
                    if (p)
                        p->commit_failures++;
                }
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(offs);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(ctx->rk, list);
    if (e) {
        lw_log(LW_WARN, "[input:%s] unassign: %s", in->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    for (int i = 0; i < list->cnt; i++) {
        struct part *p = part_find(ctx, list->elems[i].topic, list->elems[i].partition);
        if (p)
            part_remove(ctx, p);
    }
    if (!ctx->stopping)
        lw_log(LW_INFO, "[input:%s] revoked %d partitions (%zu owned)", in->name, list->cnt,
               ctx->nparts);
    metrics_snapshot(ctx);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *list, void *opaque)
{
    struct kafka_ctx *ctx = opaque;
    /* Cooperative: a member that gave partitions away joins again at once, and its next
     * assignment (perhaps empty) ends the rebalance. */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        ctx->refused = ctx->revoked = ctx->joining = false;
        ctx->synced = true;
        if (ctx->stopping) {
            /* Only kafka_stop's wait for the first assignment, or a close, serves it now: taken
             * as it is (nothing is read) and given back by the close. */
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, list);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            assign_parts(ctx, list);
        }
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        ctx->revoked = !rd_kafka_assignment_lost(rk);
        revoke_parts(ctx, list, rd_kafka_assignment_lost(rk));
    } else {
        lw_log(LW_WARN, "[input:%s] rebalance: %s", ctx->in->name, rd_kafka_err2str(err));
        revoke_parts(ctx, list, true);
    }
    metrics_snapshot(ctx);
}

/* A commit fenced outside a rebalance: this instance may no longer own p; its windows go at
 * once and nothing is committed. If it still owns p after all, p is planned again (tick). */
static void release_fenced(struct kafka_ctx *ctx, struct part *p, rd_kafka_resp_err_t e)
{
    if (p->state == PART_GONE)
        return;
    ctx->fenced++;
    lw_log(LW_WARN, "[input:%s] %s: commit fenced (%s): windows released, nothing committed",
           ctx->in->name, p->stream, rd_kafka_err2str(e));
    if (p->state == PART_REBUILD)
        pause_part(ctx, p, true);
    push_release(ctx, p);
    p->state = PART_GONE;
    p->gone_ns = lw_mono_ns();
    p->commit = -1;
    p->retry = false;
    rd_kafka_topic_partition_list_t *l = tp_list(p, 0);
    rd_kafka_pause_partitions(ctx->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static void replan_gone(struct kafka_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nparts; i++) {
        struct part *p = ctx->parts[i];
        /* The revoke of a lost assignment normally follows at once and removes it. */
        if (p->state != PART_GONE || lw_mono_ns() - p->gone_ns < KAFKA_REPLAN_NS)
            continue;
        rd_kafka_topic_partition_list_t *l = tp_list(p, RD_KAFKA_OFFSET_INVALID);
        int64_t committed = -1, live_at = RD_KAFKA_OFFSET_END;
        if (!rd_kafka_committed(ctx->rk, l, KAFKA_BLOCK_MS) && !l->elems[0].err)
            committed = l->elems[0].offset;
        p->bp_paused = false;
        struct search s;
        bool wait = plan(ctx, p, -1, 0, committed, 0, &live_at, &s);
        if (wait) {
            rd_kafka_topic_partition_list_t *w = rd_kafka_topic_partition_list_new(1);
            rebuild(ctx, &s, 1, w);
            wait = w->cnt > 0;
            rd_kafka_topic_partition_list_destroy(w);
        }
        l->elems[0].offset = live_at;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(ctx->rk, l, 0);
        if (e)
            rd_kafka_error_destroy(e);
        if (!wait)
            rd_kafka_resume_partitions(ctx->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
    }
}

/* ---------------------------------------------------------------- commits */

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offs, void *opaque)
{
    struct kafka_ctx *ctx = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offs)
        return;
    for (int i = 0; i < offs->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &offs->elems[i];
        struct part *p = part_find(ctx, tp->topic, tp->partition);
        rd_kafka_resp_err_t e = tp->err ? tp->err : err;
        if (!p || !e)
            continue;
        /* During a rebalance a commit may carry the generation just replaced: librdkafka then
         * takes the assignment as lost (the revoke follows), else the partitions are still ours
         * and the commit is retried like any failed one. */
        if (fenced_err(e) && rd_kafka_assignment_lost(ctx->rk)) {
            release_fenced(ctx, p, e);
            continue;
        }
        if (e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
            ctx->refused = true;
            ctx->refused_ns = lw_mono_ns();
        }
        p->commit_failures++;
        p->retry = true;
        if (lw_ingest__ratelimit(&ctx->rl_commit, KAFKA_WARN_EVERY))
            lw_log(LW_WARN,
                   "[input:%s] %s: commit of offset %lld failed: %s (again within a second)",
                   ctx->in->name, p->stream, (long long)tp->offset, rd_kafka_err2str(e));
    }
}

static void commit_pending(struct kafka_ctx *ctx)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (ctx->refused && lw_mono_ns() - ctx->refused_ns > KAFKA_REFUSED_NS)
        ctx->refused = false;
    if (rebalancing(ctx))
        return;
    for (size_t i = 0; i < ctx->nparts; i++) {
        struct part *p = ctx->parts[i];
        if (p->commit < 0 || p->state == PART_GONE)
            continue;
        if (!l)
            l = rd_kafka_topic_partition_list_new((int)ctx->nparts);
        commit_add(ctx, l, p, p->commit);
        p->commit = -1;
    }
    if (!l)
        return;
    rd_kafka_resp_err_t e = rd_kafka_commit(ctx->rk, l, 1);
    if (e) /* not sent at all: the callback will not come */
        on_commit(ctx->rk, e, l, ctx);
    rd_kafka_topic_partition_list_destroy(l);
}

static void on_commit_timer(uv_timer_t *t)
{
    struct kafka_ctx *ctx = t->data;
    if (!ctx->stopping)
        commit_pending(ctx);
}

/* The flush that held pos committed: the same offset goes to Kafka. */
static void kafka_checkpoint(struct lw_input *in, const char *stream, const struct lw_pos *pos)
{
    struct kafka_ctx *ctx = in->ctx;
    int64_t off;
    uint64_t token;
    if (!ctx || ctx->stopping || pos_decode(pos->b, pos->n, &off, &token) != 0)
        return;
    struct part *p = part_by_stream(ctx, stream);
    if (!p || p->state != PART_LIVE || off < p->floor)
        return;
    p->saved = p->commit = off;
    for (size_t i = 0; i < ctx->nparts; i++) {
        struct part *q = ctx->parts[i];
        if (q->retry && q->saved >= 0 && q->commit < 0)
            q->commit = q->saved;
        q->retry = false;
    }
    /* At the next loop turn: the checkpoints of one flush go in one commit, and the window in
     * which a crash leaves the state file ahead of Kafka stays short. */
    if (!uv_is_active((uv_handle_t *)&ctx->commit_timer))
        uv_timer_start(&ctx->commit_timer, on_commit_timer, 0, 0);
}

/* "OFFSET:TOKEN": the next offset to read, and the token of the process that read it (ident[1]),
 * which its commits carry too (commit_add). */
static void kafka_pos_encode(const uint64_t ident[2], int64_t cursor, struct lw_pos *out)
{
    int n = snprintf(out->b, sizeof out->b, "%lld:%016llx", (long long)cursor,
                     (unsigned long long)ident[1]);
    out->n = n > 0 && (size_t)n < sizeof out->b ? (size_t)n : 0;
}

/* ---------------------------------------------------------------- the loop */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_ctx *ctx = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        set_degraded(ctx, true, reason);
        return;
    }
    if (lw_ingest__ratelimit(&ctx->rl_msg, KAFKA_WARN_EVERY))
        lw_log(err == RD_KAFKA_RESP_ERR__FATAL ? LW_ERROR : LW_WARN, "[input:%s] kafka: %s: %s",
               ctx->in->name, rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Served on the loop (log.queue): librdkafka's own lines, rate-limited at warning and above. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct kafka_ctx *ctx = rd_kafka_opaque(rk);
    if (!ctx)
        return;
    if (rk == ctx->rk &&
        (!strcmp(fac, "JOIN") || !strcmp(fac, "REJOIN") || !strcmp(fac, "REBALANCE"))) {
        ctx->joining = true;
        ctx->joining_ns = lw_mono_ns();
    }
    /* rd_kafka_cgrp_handle_JoinGroup (2.0.2) logs this line, then sets the group's assignor when
     * the response has no error: see kafka_stop. */
    if (rk == ctx->rk && !strcmp(fac, "JOINGROUP") &&
        strstr(buf, "JoinGroup response: GenerationId") && strstr(buf, "(no error)"))
        ctx->join_ok = true;
    if (level > 7 || (level == 7 && !ctx->debug_logs))
        return;
    if (level <= 4 && !lw_ingest__ratelimit(&ctx->rl_log, LW_NS_PER_SEC))
        return;
    lw_log(level <= 3   ? LW_WARN
           : level == 7 ? LW_DEBUG
                        : LW_INFO,
           "[input:%s] librdkafka %s: %s", ctx->in->name, fac, buf);
}

/* The state of broker `id` in the statistics' "brokers" object ("UP", "DOWN", ...), or NULL. */
static const char *broker_state(json_t *brokers, json_int_t id, const char **name)
{
    const char *key;
    json_t *b;
    json_object_foreach(brokers, key, b)
    {
        if (json_integer_value(json_object_get(b, "nodeid")) == id &&
            json_is_integer(json_object_get(b, "nodeid"))) {
            *name = json_string_value(json_object_get(b, "name"));
            return json_string_value(json_object_get(b, "state"));
        }
    }
    return NULL;
}

/* Statistics (every second) decide health: the input is degraded while no broker is up, or while
 * a partition it owns has no leader or a leader it cannot reach (its messages wait: what the
 * user must know), and healthy again when every owned partition's leader is up. A failed
 * connection alone (on_error) only says so until the next statistics. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct kafka_ctx *ctx = opaque;
    (void)rk;
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!root)
        return 0;
    const char *js = json_string_value(
        json_object_get(root, "cgrp") ? json_object_get(json_object_get(root, "cgrp"), "join_state")
                                      : NULL);
    /* The group's join state: anything but steady is a rebalance under way. */
    if (js)
        ctx->stats_rebalancing = strcmp(js, "steady") != 0;
    if (js && !ctx->stats_rebalancing && ctx->joining &&
        lw_mono_ns() - ctx->joining_ns > 2 * LW_NS_PER_SEC)
        ctx->joining = false;
    json_t *brokers = json_object_get(root, "brokers"), *topics = json_object_get(root, "topics");
    bool any_up = false;
    const char *key;
    json_t *b;
    json_object_foreach(brokers, key, b)
    {
        const char *st = json_string_value(json_object_get(b, "state"));
        any_up |= st && !strcmp(st, "UP");
    }
    char reason[200] = "";
    if (!any_up)
        snprintf(reason, sizeof reason, "no broker is up");
    for (size_t i = 0; any_up && !*reason && i < ctx->nparts; i++) {
        const struct part *p = ctx->parts[i];
        if (p->state == PART_GONE)
            continue;
        char pk[16];
        snprintf(pk, sizeof pk, "%d", (int)p->partition);
        json_t *tp =
            json_object_get(json_object_get(json_object_get(topics, p->topic), "partitions"), pk);
        if (!tp)
            continue;
        json_int_t leader = json_integer_value(json_object_get(tp, "leader"));
        const char *name = NULL, *st = leader >= 0 ? broker_state(brokers, leader, &name) : NULL;
        if (leader < 0)
            snprintf(reason, sizeof reason, "%s has no leader", p->stream);
        else if (st && strcmp(st, "UP"))
            snprintf(reason, sizeof reason, "%s: its leader %s is %s", p->stream, name ? name : "?",
                     st);
    }
    /* Twice in a row (a second apart) before degraded: a leader's connection being set up (a
     * first fetch, a leader moved) is not an outage. */
    ctx->bad_stats = *reason ? ctx->bad_stats + 1 : 0;
    if (!*reason || ctx->bad_stats >= 2)
        set_degraded(ctx, *reason != 0, reason);
    json_decref(root);
    return 0;
}

static void on_message(struct kafka_ctx *ctx, rd_kafka_message_t *m, bool from_reader, int64_t now)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && from_reader && m->rkt) {
        /* The reader reached the partition's end before rb_end (compacted offsets). */
        struct part *p = part_find(ctx, rd_kafka_topic_name(m->rkt), m->partition);
        if (p && p->state == PART_REBUILD)
            p->rb_done = true;
        return;
    }
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
            lw_ingest__ratelimit(&ctx->rl_msg, KAFKA_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] %s: %s", ctx->in->name,
                   m->rkt ? rd_kafka_topic_name(m->rkt) : "kafka", rd_kafka_message_errstr(m));
        return;
    }
    struct part *p = part_find(ctx, rd_kafka_topic_name(m->rkt), m->partition);
    /* Not ours (any more), or fetched before a pause: the seek at the rebuild's end, or the
     * position kept, reads it again. */
    if (!p || from_reader != (p->state == PART_REBUILD))
        return;
    if (!ctx->stats_on && atomic_load(&ctx->degraded))
        set_degraded(ctx, false, NULL); /* no statistics to say so: a message does */
    if (from_reader && m->offset >= p->rb_end) {
        p->rb_done = true;
        return;
    }
    add_message(ctx, p, m, now);
    if (from_reader && m->offset + 1 >= p->rb_end)
        p->rb_done = true;
}

/* Polls one consumer until its queue is empty or the round is full. rd_kafka_consumer_poll
 * returns NULL also after serving a callback (statistics, a commit's result, a log line) while
 * messages may wait behind it, and librdkafka signals the queue's fd only when the queue goes
 * from empty to non-empty: a round that stopped at the first NULL could leave messages
 * unsignalled until the next tick. */
static size_t drain(struct kafka_ctx *ctx, rd_kafka_t *rk, rd_kafka_queue_t *q, bool reader,
                    size_t n, int64_t now)
{
    int idle = 0;
    while (n < KAFKA_ROUND_MAX) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);
        if (m) {
            on_message(ctx, m, reader, now);
            rd_kafka_message_destroy(m);
            n++;
        } else if (!q || !rd_kafka_queue_length(q) || ++idle > 64) {
            break;
        }
    }
    return n;
}

/* Reads what both consumers have, up to KAFKA_ROUND_MAX messages: true when more may wait. */
static bool serve(struct kafka_ctx *ctx)
{
    int64_t now = lw_now_ns();
    size_t n = 0;
    if (ctx->rk)
        n = drain(ctx, ctx->rk, ctx->q, false, n, now);
    if (ctx->reader)
        n = drain(ctx, ctx->reader, ctx->rq, true, n, now);
    for (size_t i = 0; i < ctx->nparts; i++) {
        struct part *p = ctx->parts[i];
        push_cur(ctx, p);
        if (p->state == PART_REBUILD && p->rb_done)
            finish_rebuild(ctx, p);
    }
    return n >= KAFKA_ROUND_MAX;
}

static void on_tick(uv_timer_t *t);

static void on_wake(uv_poll_t *h, int status, int events)
{
    struct kafka_ctx *ctx = h->data;
    char buf[256];
    (void)status;
    (void)events;
    while (read(ctx->pipefd[0], buf, sizeof buf) > 0)
        ;
    if (!ctx->stopping && serve(ctx)) /* more waits: again at the next loop turn */
        uv_timer_start(&ctx->timer, on_tick, 0, KAFKA_TICK_MS);
}

static void on_tick(uv_timer_t *t)
{
    struct kafka_ctx *ctx = t->data;
    if (ctx->stopping)
        return;
    bool more = serve(ctx);
    replan_gone(ctx);
    if (ctx->nlocal && ctx->first_assign_ns && !rebalancing(ctx) &&
        lw_mono_ns() - ctx->first_assign_ns > KAFKA_SETTLE_NS)
        release_unowned(ctx);
    /* A failed commit is retried with the next checkpoint, or after a second when none comes
     * (an idle partition): else the next owner would not find where this one stopped. */
    if ((ctx->ticks + 1) % (KAFKA_METRICS_EVERY_MS / KAFKA_TICK_MS) == 0)
        for (size_t i = 0; i < ctx->nparts; i++) {
            struct part *q = ctx->parts[i];
            if (q->retry && q->saved >= 0 && q->commit < 0 && q->state == PART_LIVE) {
                q->commit = q->saved;
                q->retry = false;
            }
        }
    commit_pending(ctx);
    if (++ctx->ticks % (KAFKA_METRICS_EVERY_MS / KAFKA_TICK_MS) == 0)
        metrics_snapshot(ctx);
    if (more) /* again at the next loop turn, then every tick */
        uv_timer_start(&ctx->timer, on_tick, 0, KAFKA_TICK_MS);
}

/* The queue has room: what partitions hold goes first, in order; paused partitions resume once
 * the input holds at most half of KAFKA_HOLD_MAX (what they fetch then queues behind what they
 * hold), so librdkafka refetches while the pipeline works through the rest. */
static void kafka_resume(struct lw_input *in)
{
    struct kafka_ctx *ctx = in->ctx;
    bool full = false;
    for (size_t i = 0; i < ctx->nparts && !full; i++) {
        struct part *p = ctx->parts[i];
        while (p->held) {
            struct lw_batch *b = p->held;
            struct lw_batch *next = b->next;
            size_t cost = held_cost(b);
            int64_t end = end_of(b);
            b->next = NULL;
            int rc = lw_input_push(in, b);
            if (rc == LW_EFULL) {
                b->next = next;
                full = true;
                break;
            }
            ctx->held_bytes -= cost;
            if (rc == LW_OK)
                pushed(p, end);
            else
                lw_queue_recycle(in->queue, b);
            p->held = next;
            if (!next)
                p->held_tail = NULL;
        }
    }
    if (ctx->held_bytes > KAFKA_HOLD_MAX / 2)
        return;
    for (size_t i = 0; i < ctx->nparts; i++) {
        struct part *p = ctx->parts[i];
        if (p->bp_paused && p->state != PART_GONE) {
            p->bp_paused = false;
            pause_part(ctx, p, false);
        }
    }
}

static void on_saved(const char *stream, const struct lw_pos *pos, void *arg)
{
    struct kafka_ctx *ctx = arg;
    (void)pos;
    ctx->local = lw_realloc(ctx->local, (ctx->nlocal + 1) * sizeof *ctx->local);
    ctx->local[ctx->nlocal++] = lw_strdup(stream);
}

static int kafka_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct kafka_ctx *ctx = in->ctx;
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = lw_kafka__conf_apply(&ctx->conf, conf, true, err);
    bool stats = false, debug = false;
    ctx->stats_on = true;
    for (size_t i = 0; i < ctx->conf.props.n; i++) {
        if (!strcmp(ctx->conf.props.k[i], "statistics.interval.ms")) {
            stats = true;
            ctx->stats_on = atoi(ctx->conf.props.v[i]) > 0;
        }
        if (!strcmp(ctx->conf.props.k[i], "debug")) {
            debug = true;
            ctx->cgrp_lines =
                strstr(ctx->conf.props.v[i], "cgrp") || strstr(ctx->conf.props.v[i], "all");
        }
    }
    /* The group's debug lines say when the member joins again (ctx->joining); they are not
     * logged unless the user asked for librdkafka's debug lines. */
    ctx->debug_logs = debug;
    if (!debug)
        ctx->cgrp_lines = true;
    ctx->bug4312 = rd_kafka_version() < 0x020300ff;
    if (!rc && !debug && rd_kafka_conf_set(conf, "debug", "cgrp", errstr, sizeof errstr))
        rc = lw_err_set(err, LW_EINVAL, "input %s: %s", in->name, errstr);
    if (!rc && (rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof errstr) ||
                (!stats &&
                 rd_kafka_conf_set(conf, "statistics.interval.ms", "1000", errstr, sizeof errstr))))
        rc = lw_err_set(err, LW_EINVAL, "input %s: %s", in->name, errstr);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, ctx);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    ctx->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!ctx->rk) {
        lw_redact_in(errstr, sizeof errstr);
        return lw_err_set(err, LW_EIO, "input %s: kafka consumer: %s", in->name, errstr);
    }
    rd_kafka_set_log_queue(ctx->rk, NULL);
    rd_kafka_poll_set_consumer(ctx->rk);
    if (pipe(ctx->pipefd) != 0)
        return lw_err_set(err, LW_EIO, "input %s: pipe: %s", in->name, strerror(errno));
    for (int i = 0; i < 2; i++) {
        fcntl(ctx->pipefd[i], F_SETFL, fcntl(ctx->pipefd[i], F_GETFL) | O_NONBLOCK);
        fcntl(ctx->pipefd[i], F_SETFD, FD_CLOEXEC);
    }
    ctx->q = rd_kafka_queue_get_consumer(ctx->rk);
    rd_kafka_queue_io_event_enable(ctx->q, ctx->pipefd[1], "c", 1);
    ctx->loop = loop;
    uv_poll_init(loop, &ctx->poll, ctx->pipefd[0]);
    ctx->poll.data = ctx;
    uv_poll_start(&ctx->poll, UV_READABLE, on_wake);
    ctx->poll_live = true;
    uv_timer_init(loop, &ctx->timer);
    ctx->timer.data = ctx;
    uv_timer_start(&ctx->timer, on_tick, KAFKA_TICK_MS, KAFKA_TICK_MS);
    uv_timer_init(loop, &ctx->commit_timer);
    ctx->commit_timer.data = ctx;
    ctx->timer_live = true;
    if (in->ckpt_scan)
        in->ckpt_scan(in->name, on_saved, ctx, in->ckpt_payload);

    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)ctx->conf.topics.n);
    for (size_t i = 0; i < ctx->conf.topics.n; i++)
        rd_kafka_topic_partition_list_add(topics, ctx->conf.topics.v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ctx->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e)
        return lw_err_set(err, LW_EIO, "input %s: subscribe: %s", in->name, rd_kafka_err2str(e));
    metrics_snapshot(ctx);
    lw_log(LW_INFO, "[input:%s] consuming %zu topic(s) in group %s", in->name, ctx->conf.topics.n,
           ctx->conf.group);
    return LW_OK;
}

/* librdkafka#4312 (fixed in 2.3.0 by PR #4381; Debian 12 ships 2.0.2): the group consumer's
 * rd_kafka_destroy calls the assignor's destroy_state_cb without checking the state
 * (rd_kafka_cgrp_destroy_final). librdkafka picks the assignor when a JoinGroup succeeds
 * (rkcg_assignor), but the cooperative-sticky assignor creates its state only in
 * on_assignment_cb, when a SyncGroup brings an assignment (even an empty one, and not once the
 * consumer is closing): a member destroyed in between, e.g. one stopped while the group is
 * still rebalancing to take it in, or whose SyncGroups keep failing, asserts `assignor_state` in
 * rd_kafka_sticky_assignor_state_destroy and the daemon aborts. Once made, the state stays
 * (only a change of assignor resets it, and the input allows only cooperative-sticky). True
 * while a destroy may hit it: a JoinGroup succeeded (or we cannot tell: no cgrp debug lines) and
 * no assignment came (the rebalance callback's ASSIGN comes after on_assignment_cb). */
static bool assignor_stateless(const struct kafka_ctx *ctx)
{
    return ctx->bug4312 && !ctx->synced && (ctx->join_ok || !ctx->cgrp_lines);
}

/* Handles kafka_free did not destroy (assignor_stateless): kept reachable until the exit. */
static rd_kafka_t **kept_handles;
static size_t nkept_handles;

static void kafka_stop(struct lw_input *in)
{
    struct kafka_ctx *ctx = in->ctx;
    if (!ctx || ctx->stopping)
        return;
    ctx->stopping = true;
    if (ctx->poll_live) {
        uv_poll_stop(&ctx->poll);
        uv_close((uv_handle_t *)&ctx->poll, NULL);
    }
    if (ctx->timer_live) {
        uv_timer_stop(&ctx->timer);
        uv_close((uv_handle_t *)&ctx->timer, NULL);
        uv_timer_stop(&ctx->commit_timer);
        uv_close((uv_handle_t *)&ctx->commit_timer, NULL);
    }
    /* Stopped before the first assignment (librdkafka#4312, assignor_stateless): the join
     * usually ends within a second or so; wait for it, bounded, so that the close and
     * rd_kafka_destroy below take the ordinary path. The consumer is polled only here: what it
     * fetched meanwhile is dropped (nothing was pushed, nothing is committed). The first round
     * only serves what is queued (a JoinGroup line may wait there). */
    int64_t until = lw_mono_ns() + KAFKA_STOP_JOIN_NS;
    bool said = false;
    for (int ms = 0; ctx->rk && ctx->bug4312 && !ctx->synced && lw_mono_ns() < until; ms = 100) {
        if (ms && !assignor_stateless(ctx))
            break;
        if (ms && !said) {
            lw_log(LW_INFO,
                   "[input:%s] stopping while the group takes this member in: waiting up to %d s "
                   "for its first assignment (librdkafka#4312)",
                   in->name, (int)(KAFKA_STOP_JOIN_NS / LW_NS_PER_SEC));
            said = true;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ctx->rk, ms);
        if (m)
            rd_kafka_message_destroy(m);
    }
    /* Leaving the group revokes everything: the revoke path commits what was flushed. */
    if (ctx->rk)
        rd_kafka_consumer_close(ctx->rk);
    if (ctx->reader)
        rd_kafka_consumer_close(ctx->reader);
    for (size_t i = 0; i < ctx->nparts; i++)
        drop_batches(ctx, ctx->parts[i]);
}

static void kafka_free(struct lw_input *in)
{
    struct kafka_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    while (ctx->nparts)
        part_remove(ctx, ctx->parts[0]);
    free(ctx->parts);
    if (ctx->q)
        rd_kafka_queue_destroy(ctx->q);
    if (ctx->rq)
        rd_kafka_queue_destroy(ctx->rq);
    if (ctx->rk && ctx->stopping && assignor_stateless(ctx)) {
        /* librdkafka#4312: rd_kafka_destroy would abort (kafka_stop's wait for the first
         * assignment ran out, or a JoinGroup succeeded during the close). The consumer is closed:
         * it left the group and no callback of it runs again (they are served only by polling
         * it). Its threads and connections end with the process: inputs are freed only at the
         * exit (a reload keeps them). */
        lw_log(LW_INFO,
               "[input:%s] no assignment came before the stop: the closed consumer is left to the "
               "exit instead of destroyed (librdkafka < 2.3.0 aborts there: librdkafka#4312)",
               in->name);
        kept_handles = lw_realloc(kept_handles, (nkept_handles + 1) * sizeof *kept_handles);
        kept_handles[nkept_handles++] = ctx->rk;
    } else if (ctx->rk) {
        rd_kafka_destroy(ctx->rk);
    }
    if (ctx->reader)
        rd_kafka_destroy(ctx->reader);
    if (ctx->probe) {
        rd_kafka_consumer_close(ctx->probe);
        rd_kafka_destroy(ctx->probe);
    }
    for (int i = 0; i < 2; i++)
        if (ctx->pipefd[i] >= 0)
            close(ctx->pipefd[i]);
    for (size_t i = 0; i < ctx->nlocal; i++)
        free(ctx->local[i]);
    free(ctx->local);
    lw_opts_free(lw_kafka__opts, &ctx->conf);
    lw_buf_free(&ctx->mtext);
    pthread_mutex_destroy(&ctx->mu);
    free(ctx);
    in->ctx = NULL;
}

static int kafka_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                      const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct kafka_ctx *ctx = lw_calloc(1, sizeof *ctx);
    atomic_init(&ctx->lag, -1);
    ctx->in = in;
    ctx->pipefd[0] = ctx->pipefd[1] = -1;
    /* Distinct per process: positions written before a restart carry the old one. */
    int64_t seed = lw_now_ns() ^ (int64_t)getpid();
    ctx->token = lw_hash64(&seed, sizeof seed, LW_HASH_SEED + (uintptr_t)ctx) | 1;
    pthread_mutex_init(&ctx->mu, NULL);
    atomic_init(&ctx->degraded, false);
    in->ctx = ctx;
    struct lw_err err = {0};
    if (lw_kafka__dl_load(&err) < 0) {
        lw_yaml_error(doc, map, diag, "input %s: %s", in->name, err.msg);
        return LW_EINVAL;
    }
    int rc = lw_input_opts(in, lw_kafka__opts, &ctx->conf, doc, map, diag);
    if (!ctx->conf.keyed_by.n) {
        ctx->conf.keyed_by.v = lw_calloc(2, sizeof *ctx->conf.keyed_by.v);
        ctx->conf.keyed_by.v[0] = lw_strdup("key");
        ctx->conf.keyed_by.n = 1;
    }
    for (size_t i = 0; i < ctx->conf.topics.n; i++)
        if (!ctx->conf.topics.v[i][0] || !strcmp(ctx->conf.topics.v[i], "^")) {
            const struct lw_yaml_node *n = lw_yaml_get(map, "topics");
            lw_yaml_error(doc, n ? n : map, diag, "input %s: topics: an empty topic name",
                          in->name);
            rc = LW_EINVAL;
        }
    return rc;
}

static size_t kafka_key_fields(const struct lw_input *in, const char *const **out)
{
    const struct kafka_ctx *ctx = in->ctx;
    *out = (const char *const *)ctx->conf.keyed_by.v;
    return ctx->conf.keyed_by.n;
}

const struct lw_input_ops lw_ingest__kafka_ops = {
    .type = "kafka",
    .opts = lw_kafka__opts,
    .init = kafka_init,
    .start = kafka_start,
    .stop = kafka_stop,
    .resume = kafka_resume,
    .free = kafka_free,
    .checkpoint = kafka_checkpoint,
    .pos_encode = kafka_pos_encode,
    .labels = 1u << LW_L_TOPIC | 1u << LW_L_PARTITION | LW_LABELS_EXTRA, /* offset, key, header.* */
    .format = LW_FMT_RAW,
    .sharded = true,
    .key_fields = kafka_key_fields,
    .status = kafka_status,
    .lag = kafka_lag,
    .no_multiline = true,
    .metrics = kafka_metrics,
};
