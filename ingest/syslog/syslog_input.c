/* syslog_input.c: the syslog input: UDP, TCP, unix datagram (like /dev/log) and unix stream
 * listeners on the I/O loop; stream framing is octet counting (RFC 6587) or newlines, per
 * message. Records carry the raw message; the pipeline decodes it with lw_syslog_parse. TLS
 * listeners (tls://) are TCP ones whose connections decrypt through syslog_tls.c first. */
#include "ingest.h"
#include "ingest_int.h"
#include "syslog_tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_READ_CHUNK (64u * 1024) /* what one stream read may add to a buffer */
#define SYSLOG_TIMER_MS 50             /* retry paused connections, sweep idle ones */
#define SYSLOG_DGRAM_BURST 64          /* datagrams read per unix socket wake-up */
#define SYSLOG_WARN_EVERY (10 * LW_NS_PER_SEC)
#define SYSLOG_EVICT_GRACE_MS 1000   /* a connection quiet this long may be evicted */
#define SYSLOG_FRAME_MAX (64u << 20) /* an octet count above this is not a frame: framing lost */
/* Stopping: a connection is read until its sender closes it, until it has sent nothing for
 * SYSLOG_DRAIN_IDLE_MS while we were reading, or for SYSLOG_DRAIN_MAX_MS in all. A sender checks
 * the connection between its sends (rsyslog: before each), and a send may wait for the pipeline
 * to read what the socket buffers hold: idle time, not time since the stop, says it has
 * noticed. */
#define SYSLOG_DRAIN_IDLE_MS 1000
#define SYSLOG_DRAIN_MAX_MS 10000

enum lis_kind { LIS_UDP, LIS_TCP, LIS_UNIX_DGRAM, LIS_UNIX_STREAM, LIS_TLS };

struct syslog_ctx;

/* One listen address. The handle lives in ctx->lis, which outlives the loop's use of it. */
struct listener {
    enum lis_kind kind;
    char *url;  /* as configured, for messages */
    char *path; /* unix socket path */
    struct sockaddr_storage addr;
    union {
        uv_handle_t h;
        uv_udp_t udp;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_poll_t poll;
    } u;
    int fd;    /* unix datagram socket, -1 when none */
    bool live; /* handle initialised and not closed */
    int port;  /* bound port (udp/tcp), after start */
    struct syslog_ctx *ctx;
};

/* One stream connection; freed in its close callback. I/O thread only. */
struct conn {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } u;
    struct syslog_ctx *ctx;
    char *buf; /* unparsed bytes */
    size_t len, cap;
    size_t skip_octets; /* rest of an over-long octet-counted frame */
    bool skip_nl;       /* rest of an over-long newline-terminated message */
    bool paused;        /* reading stopped until the queue has room */
    struct lw_batch *batch;
    uint64_t last_ms; /* loop time of the last read */
    struct conn *prev, *next;
    /* Limits (message_timeout, eviction) and the stop's drain. */
    uint64_t done_ms;   /* loop time of the last completed message (of the accept before one) */
    uint64_t part_ms;   /* loop time the unfinished message began, when `partial` */
    bool partial;       /* bytes of an unfinished message are pending (or being skipped) */
    bool octet;         /* the last message was octet-counted: the next must start a frame */
    bool draining;      /* stop: half-closed, read until the peer's EOF or the drain deadline */
    uv_shutdown_t sreq; /* the FIN sent when draining */
    const char *peer;   /* source_ip: addr, or the unix listener's path (borrowed) */
    char addr[INET6_ADDRSTRLEN]; /* the TCP peer's address, without port or brackets */
    struct lw_stls_conn *tls;    /* TLS session (tls:// listeners), else NULL */
    uint64_t open_ms;            /* loop time it was accepted (TLS handshake timeout) */
};

/* What happened to stream connections: logwarden_syslog_connections_total{event}. Every
 * accepted connection ends in exactly one of the events after `refused`, so accepted equals
 * the open ones plus those. */
enum conn_event {
    EV_ACCEPTED = 0,
    EV_REFUSED,         /* at max_connections with none to evict: closed at once */
    EV_EVICTED,         /* the oldest quiet one, closed to admit a new one at max_connections */
    EV_IDLE_TIMEOUT,    /* nothing read for idle_timeout */
    EV_MESSAGE_TIMEOUT, /* an unfinished message pending for message_timeout */
    EV_FRAMING_LOST,    /* a bad octet count, or garbage where a frame should start */
    EV_CLOSED,          /* by the peer (EOF, reset), a read error, or a stop */
    EV_COUNT
};
static const char *const conn_event_names[EV_COUNT] = {
    "accepted", "refused", "evicted", "idle_timeout", "message_timeout", "framing_lost", "closed"};

/* Why a stream message was cut: logwarden_syslog_stream_cut_total{reason}. */
enum cut_reason { CUT_NONE = 0, CUT_TOO_LONG, CUT_UNFINISHED, CUT_COUNT };
static const char *const cut_names[CUT_COUNT] = {"", "too_long", "unfinished"};

struct syslog_ctx {
    struct lw_input *in;
    struct listener *lis;
    size_t nlis;
    size_t max_msg;
    int64_t max_msg_opt; /* `max_message_bytes`, as the table reads it */
    int64_t max_conns;
    int64_t idle_ns; /* 0: never close idle connections */
    uv_loop_t *loop;
    uv_check_t check; /* hands over batches after each loop turn's I/O */
    uv_timer_t timer;
    bool check_live, timer_live, stopping;
    struct conn *conns;
    size_t nconns;
    struct lw_batch *dgram;   /* datagrams received this loop turn */
    struct lw_batch *orphans; /* batches of closed connections waiting for room */
    char *dbuf;               /* datagram receive buffer */
    size_t dcap;
    struct lw_ratelimit rl_drop, rl_err;
    /* Stream connections: limits, counters (read by the HTTP thread) and their log lines. */
    int64_t msg_timeout_ns; /* `message_timeout`; 0: none */
    uint64_t stop_ms;       /* stopping: loop time by which every connection is closed */
    _Atomic uint64_t conn_ev[EV_COUNT];
    _Atomic uint64_t conn_open;
    _Atomic uint64_t cut[CUT_COUNT];
    uint64_t ev_unlogged[EV_COUNT]; /* events since the last log line about them */
    char ev_peer[EV_COUNT][128];    /* the last one's peer (address or socket path) */
    struct lw_ratelimit rl_ev[EV_COUNT];
    struct lw_stls *tls; /* `tls:` (certificates, counters), NULL when not set */
    char *tbuf;          /* ciphertext of one TLS read, decrypted before the next */
};

/* ---------------------------------------------------------------- batches */

static bool batch_full(const struct lw_batch *b)
{
    return b->n >= LW_BATCH_MAX_LINES || b->len >= LW_BATCH_MAX_BYTES;
}

/* Adds one message (trailing newlines stripped, cut at max_msg) to *bp. */
static void add_msg(struct syslog_ctx *ctx, struct lw_batch **bp, const char *p, size_t n, bool cut)
{
    struct lw_input *in = ctx->in;
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (n > ctx->max_msg) {
        n = ctx->max_msg;
        cut = true;
    }
    if (cut)
        atomic_fetch_add(&in->truncated, 1);
    if (!n)
        return;
    if (!*bp)
        *bp = lw_batch_new(in->index, NULL, 16 * 1024);
    lw_batch_add(*bp, p, n, lw_now_ns(), 0);
    atomic_fetch_add(&in->lines, 1);
    atomic_fetch_add(&in->bytes, n);
}

/* Datagrams cannot wait: a full queue drops them, and counts it. */
static void flush_dgram(struct syslog_ctx *ctx)
{
    struct lw_batch *b = ctx->dgram;
    if (!b)
        return;
    ctx->dgram = NULL;
    if (lw_queue_try_push(ctx->in->queue, b) == LW_OK)
        return;
    atomic_fetch_add(&ctx->in->dropped[LW_DROP_QUEUE_FULL], b->n);
    if (lw_ingest__ratelimit(&ctx->rl_drop, SYSLOG_WARN_EVERY))
        lw_log(LW_WARN, "[input:%s] queue full, dropped %zu datagram messages", ctx->in->name,
               b->n);
    lw_batch_free(b);
}

static void on_dgram(struct syslog_ctx *ctx, const char *p, size_t n, bool cut)
{
    add_msg(ctx, &ctx->dgram, p, n, cut);
    if (ctx->dgram && batch_full(ctx->dgram))
        flush_dgram(ctx);
}

/* Pushes batches of closed connections, in order; false while the queue is full. */
static bool flush_orphans(struct syslog_ctx *ctx)
{
    while (ctx->orphans) {
        struct lw_batch *b = ctx->orphans, *next = b->next;
        b->next = NULL;
        int rc = lw_input_push(ctx->in, b);
        if (rc == LW_EFULL) {
            b->next = next;
            return false;
        }
        if (rc != LW_OK)
            lw_batch_free(b);
        ctx->orphans = next;
    }
    return true;
}

/* ---------------------------------------------------------------- stream connections
 *
 * A connection reads into c->buf and cuts messages out of it (conn_parse). What ends one:
 *
 *   accept ──► reading ──┬── peer EOF / reset / read error ─────────────► closed
 *     │                  ├── nothing read for idle_timeout ─────────────► idle_timeout
 *     │                  ├── a message unfinished for message_timeout ──► message_timeout
 *     │                  ├── bad octet count / garbage at a frame start ► framing_lost
 *     │                  ├── the oldest quiet one at max_connections ───► evicted
 *     │                  └── stop: half-close, read to EOF or deadline ─► closed
 *     └── max_connections reached and none quiet enough to evict ───────► refused
 *
 * A paused connection (the queue is full: backpressure) is never timed out nor evicted: the
 * wait is ours, not the sender's. Whatever a closed connection had read is handed over: an
 * unterminated message at EOF as a message, an unfinished one at a forced close as a record
 * counted as cut ("unfinished"). A TLS connection (syslog_tls.c) plugs in below the read: it
 * decrypts into c->buf and calls conn_received / conn_ended, and sends its close_notify in
 * conn_half_close; limits, counters and the drain are the same. */

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    lw_syslog__tls_conn_free(c->tls);
    free(c->buf);
    free(c);
}

/* One rate-limited log line per kind of event, with the true count since the previous one;
 * also called from the timer, so the last of a burst is reported too, and at the end of a stop
 * (force), so the lines add up to the counters. */
static void conn_report(struct syslog_ctx *ctx, enum conn_event ev, bool force)
{
    uint64_t n = ctx->ev_unlogged[ev];
    if (!n || (!lw_ingest__ratelimit(&ctx->rl_ev[ev], SYSLOG_WARN_EVERY) && !force))
        return;
    ctx->ev_unlogged[ev] = 0;
    const char *name = ctx->in->name, *peer = ctx->ev_peer[ev];
    unsigned long long k = (unsigned long long)n;
    switch (ev) {
    case EV_REFUSED:
        lw_log(LW_WARN,
               "[input:%s] refused %llu connection(s): max_connections (%lld) reached and none "
               "quiet for %d ms to evict (last from %s)",
               name, k, (long long)ctx->max_conns, SYSLOG_EVICT_GRACE_MS, peer);
        break;
    case EV_EVICTED:
        lw_log(LW_WARN,
               "[input:%s] closed %llu quiet connection(s) to admit new ones at max_connections "
               "(%lld) (last %s)",
               name, k, (long long)ctx->max_conns, peer);
        break;
    case EV_IDLE_TIMEOUT:
        lw_log(LW_INFO, "[input:%s] closed %llu connection(s) silent for idle_timeout (last %s)",
               name, k, peer);
        break;
    case EV_MESSAGE_TIMEOUT:
        lw_log(LW_WARN,
               "[input:%s] closed %llu connection(s) that did not complete a message within "
               "message_timeout (%lld ms) (last %s)",
               name, k, (long long)(ctx->msg_timeout_ns / LW_NS_PER_MS), peer);
        break;
    case EV_FRAMING_LOST:
        lw_log(LW_WARN,
               "[input:%s] closed %llu connection(s) whose framing was lost: an octet count "
               "not followed by a space or over %u bytes, or garbage where a frame should "
               "start (last %s)",
               name, k, SYSLOG_FRAME_MAX, peer);
        break;
    default:
        break;
    }
}

static void conn_count(struct syslog_ctx *ctx, enum conn_event ev, const char *peer)
{
    atomic_fetch_add(&ctx->conn_ev[ev], 1);
    if (ev == EV_ACCEPTED || ev == EV_CLOSED)
        return; /* the ordinary life of a connection: counted, not logged */
    ctx->ev_unlogged[ev]++;
    snprintf(ctx->ev_peer[ev], sizeof ctx->ev_peer[ev], "%s", peer ? peer : "?");
    conn_report(ctx, ev, false);
}

/* The connection's batch, made on first use with its source_ip (copied: the connection may
 * close while the batch is in flight). */
static struct lw_batch *conn_batch(struct conn *c)
{
    if (!c->batch) {
        struct lw_batch *b = lw_queue_batch(c->ctx->in->queue, c->ctx->in->index, NULL, 16 * 1024);
        size_t n = strlen(c->peer);
        char *s = lw_batch_label_space(b, n + 1);
        memcpy(s, c->peer, n + 1);
        b->labels[LW_L_SOURCE_IP] = (struct lw_str){s, n};
        c->batch = b;
    }
    return c->batch;
}

/* One message of the connection; cut (why) when it is known to be incomplete, and at
 * max_message_bytes. */
static void conn_msg(struct conn *c, const char *p, size_t n, enum cut_reason why)
{
    struct syslog_ctx *ctx = c->ctx;
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (why == CUT_NONE && n > ctx->max_msg)
        why = CUT_TOO_LONG;
    if (why != CUT_NONE)
        atomic_fetch_add(&ctx->cut[why], 1);
    conn_batch(c);
    add_msg(ctx, &c->batch, p, n, why != CUT_NONE);
}

static void conn_close(struct conn *c)
{
    struct syslog_ctx *ctx = c->ctx;
    if (c->batch && !c->batch->n) {
        lw_batch_free(c->batch);
        c->batch = NULL;
    }
    if (c->batch) {
        struct lw_batch **pp = &ctx->orphans;
        while (*pp)
            pp = &(*pp)->next;
        c->batch->next = NULL;
        *pp = c->batch;
        c->batch = NULL;
        flush_orphans(ctx);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        ctx->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ctx->nconns--;
    atomic_store(&ctx->conn_open, ctx->nconns);
    uv_close(&c->u.h, conn_closed);
}

/* Hands the connection's batch to the queue; on a full queue stops reading (backpressure:
 * the sender's TCP window fills up, nothing is lost). */
static void conn_flush(struct conn *c)
{
    if (!c->batch || !c->batch->n)
        return;
    int rc = lw_input_push(c->ctx->in, c->batch);
    if (rc == LW_OK) {
        c->batch = NULL;
        return;
    }
    if (rc != LW_EFULL) {
        lw_batch_free(c->batch);
        c->batch = NULL;
        return;
    }
    if (!c->paused) {
        uv_read_stop(&c->u.s);
        c->paused = true;
    }
}

/* How conn_parse treats what is left at the end of c->buf. */
enum parse_end {
    PARSE_MORE, /* more may come: wait for it */
    PARSE_EOF,  /* the peer ended: an unterminated message is complete, a short frame is cut */
    PARSE_CUT,  /* a forced close: whatever is pending is an unfinished message, cut */
};
#define PARSE_LOST (-1)

/* Cuts complete messages out of c->buf. Returns how many messages ended, or PARSE_LOST when
 * the framing is lost: an octet count over SYSLOG_FRAME_MAX, or, after an octet-counted frame,
 * something other than a frame ("LEN SP"), a '<' (a newline-framed message) or a separator
 * (LF, CR, NUL) where the next frame should start; then what is left is handed over as one
 * record (cut to max_message_bytes) and the caller closes the connection. Bytes after a
 * message's max_message_bytes are skipped to its end (its frame's length, or its newline). */
static int conn_parse(struct conn *c, enum parse_end end)
{
    struct syslog_ctx *ctx = c->ctx;
    bool eof = end != PARSE_MORE;
    enum cut_reason last = end == PARSE_CUT ? CUT_UNFINISHED : CUT_NONE;
    size_t i = 0;
    int ended = 0;
    while (i < c->len) {
        const char *p = c->buf + i;
        size_t avail = c->len - i;
        if (c->skip_octets) {
            size_t k = avail < c->skip_octets ? avail : c->skip_octets;
            c->skip_octets -= k;
            i += k;
            ended += !c->skip_octets;
            continue;
        }
        if (c->skip_nl) {
            const char *nl = memchr(p, '\n', avail);
            i += nl ? (size_t)(nl - p) + 1 : avail;
            c->skip_nl = !nl;
            ended += nl != NULL;
            continue;
        }
        if (*p == '\n' || *p == '\r' || *p == '\0') {
            i++;
            continue;
        }
        if (*p >= '1' && *p <= '9') {
            /* Octet counting: "LEN SP MSG". */
            size_t d = 0, len = 0;
            while (d < avail && d < 10 && p[d] >= '0' && p[d] <= '9')
                len = len * 10 + (size_t)(p[d++] - '0');
            if (d == avail && d < 10 && !eof)
                break; /* the length is still arriving */
            if (d < avail && p[d] == ' ' && d <= 9) {
                size_t hdr = d + 1;
                if (len > SYSLOG_FRAME_MAX)
                    goto lost;
                c->octet = true;
                if (len <= ctx->max_msg) {
                    if (avail - hdr < len) {
                        if (!eof)
                            break;
                        conn_msg(c, p + hdr, avail - hdr, CUT_UNFINISHED);
                        i += avail;
                        ended++;
                        continue;
                    }
                    conn_msg(c, p + hdr, len, CUT_NONE);
                    i += hdr + len;
                    ended++;
                } else {
                    if (avail - hdr < ctx->max_msg && !eof)
                        break;
                    size_t k = avail - hdr < ctx->max_msg ? avail - hdr : ctx->max_msg;
                    conn_msg(c, p + hdr, k, CUT_TOO_LONG);
                    i += hdr + k;
                    c->skip_octets = len - k;
                    ended += !c->skip_octets;
                }
                continue;
            }
            if (c->octet && d < avail)
                goto lost; /* digits, but not a frame's header */
            if (c->octet && eof) {
                conn_msg(c, p, avail, CUT_UNFINISHED); /* a header the end cut */
                i += avail;
                ended++;
                continue;
            }
        } else if (c->octet && *p != '<') {
            goto lost;
        }
        /* Newline framing. */
        c->octet = false;
        const char *nl = memchr(p, '\n', avail);
        if (nl) {
            conn_msg(c, p, (size_t)(nl - p), CUT_NONE);
            i += (size_t)(nl - p) + 1;
            ended++;
        } else if (avail > ctx->max_msg) {
            conn_msg(c, p, ctx->max_msg, CUT_TOO_LONG);
            i += avail;
            c->skip_nl = true;
        } else if (eof) {
            conn_msg(c, p, avail, last);
            i += avail;
            ended++;
        } else {
            break;
        }
    }
    if (i) {
        memmove(c->buf, c->buf + i, c->len - i);
        c->len -= i;
    }
    return ended;
lost:
    conn_msg(c, c->buf + i, c->len - i, CUT_UNFINISHED);
    c->len = 0;
    c->skip_octets = 0;
    c->skip_nl = false;
    return PARSE_LOST;
}

/* Ends a connection for ev: what it read is handed over first (see conn_parse). */
static void conn_end(struct conn *c, enum conn_event ev)
{
    struct syslog_ctx *ctx = c->ctx;
    if (conn_parse(c, ev == EV_CLOSED && !ctx->stopping ? PARSE_EOF : PARSE_CUT) == PARSE_LOST)
        ev = EV_FRAMING_LOST;
    conn_count(ctx, ev, c->peer);
    conn_close(c);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct conn *c = h->data;
    if (c->tls) {
        buf->base = c->ctx->tbuf;
        buf->len = SYSLOG_READ_CHUNK;
        return;
    }
    if (c->cap - c->len < SYSLOG_READ_CHUNK) {
        /* Bounded: unparsed bytes never exceed max_msg plus a frame header. */
        c->cap = c->len + SYSLOG_READ_CHUNK;
        c->buf = lw_realloc(c->buf, c->cap);
    }
    buf->base = c->buf + c->len;
    buf->len = c->cap - c->len;
}

/* The peer ended the stream (EOF, reset, a read error: status, a negative UV_E*), or the
 * drain of a stop saw its EOF: its last message is whole. */
static void conn_ended(struct conn *c, int status)
{
    struct syslog_ctx *ctx = c->ctx;
    if (status != UV_EOF && status != UV_ECONNRESET &&
        lw_ingest__ratelimit(&ctx->rl_err, SYSLOG_WARN_EVERY))
        lw_log(LW_WARN, "[input:%s] read from %s: %s", ctx->in->name, c->peer, uv_strerror(status));
    if (conn_parse(c, PARSE_EOF) == PARSE_LOST)
        conn_count(ctx, EV_FRAMING_LOST, c->peer);
    else
        conn_count(ctx, EV_CLOSED, c->peer);
    conn_close(c);
}

/* n bytes were just appended to c->buf (read as they are, or decrypted by a TLS layer): cuts
 * the messages they complete, and keeps the clocks of the limits. */
static void conn_received(struct conn *c, size_t n)
{
    struct syslog_ctx *ctx = c->ctx;
    uint64_t now = uv_now(ctx->loop);
    c->len += n;
    c->last_ms = now;
    int ended = conn_parse(c, PARSE_MORE);
    if (ended == PARSE_LOST) {
        conn_count(ctx, EV_FRAMING_LOST, c->peer);
        conn_close(c);
        return;
    }
    if (ended)
        c->done_ms = now;
    /* The unfinished message's clock starts with its first byte: a message that ended in this
     * read and left bytes of the next began now at the latest. */
    bool pending = c->len || c->skip_octets || c->skip_nl;
    if (pending && (ended || !c->partial))
        c->part_ms = now;
    c->partial = pending;
    if (c->batch && batch_full(c->batch))
        conn_flush(c);
}

/* Decrypted bytes of a TLS connection, appended to its unparsed ones. false once the
 * connection was closed (its framing lost). */
struct plain {
    struct conn *c;
    bool closed;
};

static void conn_plain(const char *p, size_t n, void *payload)
{
    struct plain *pl = payload;
    struct conn *c = pl->c;
    if (pl->closed)
        return;
    if (c->cap - c->len < n) {
        c->cap = c->len + (n > SYSLOG_READ_CHUNK ? n : SYSLOG_READ_CHUNK);
        c->buf = lw_realloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, p, n);
    size_t before = c->ctx->nconns;
    conn_received(c, n);
    pl->closed = c->ctx->nconns != before; /* conn_received closed it */
}

/* Ciphertext read on a TLS connection: decrypted through syslog_tls.c into conn_received; a
 * failed session (counted there) or the peer's close_notify ends the connection. */
static void conn_tls_read(struct conn *c, const char *p, size_t n)
{
    struct plain pl = {c, false};
    int rc = lw_syslog__tls_conn_feed(c->tls, p, n, conn_plain, &pl);
    if (rc != 0 && !pl.closed)
        conn_ended(c, UV_EOF);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (nread < 0) {
        if (c->tls)
            lw_syslog__tls_conn_eof(c->tls);
        conn_ended(c, (int)nread);
    } else if (nread > 0 && c->tls) {
        conn_tls_read(c, buf->base, (size_t)nread);
    } else if (nread > 0) {
        conn_received(c, (size_t)nread); /* buf is c->buf's free space (conn_alloc) */
    }
}

/* At max_connections: the connection that completed no message for the longest time, if
 * that is at least SYSLOG_EVICT_GRACE_MS (a quiet sender, or one that never completes a
 * message); paused and draining ones are never chosen. NULL: none. */
static struct conn *conn_victim(struct syslog_ctx *ctx, uint64_t now)
{
    struct conn *best = NULL;
    for (struct conn *c = ctx->conns; c; c = c->next) {
        if (c->paused || c->draining || now - c->done_ms < SYSLOG_EVICT_GRACE_MS)
            continue;
        if (!best || c->done_ms < best->done_ms)
            best = c;
    }
    return best;
}

/* The peer's address as source_ip: IPv4 dotted, IPv6 without brackets (an IPv4-mapped IPv6
 * address as IPv4). Empty when unknown. */
static void conn_peer_name(struct conn *c)
{
    struct sockaddr_storage ss;
    int n = sizeof ss;
    c->addr[0] = '\0';
    if (uv_tcp_getpeername(&c->u.tcp, (struct sockaddr *)&ss, &n) != 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, c->addr, sizeof c->addr);
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->addr, sizeof c->addr);
    if (strncmp(c->addr, "::ffff:", 7) == 0 && strchr(c->addr, '.'))
        memmove(c->addr, c->addr + 7, strlen(c->addr + 7) + 1);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    struct syslog_ctx *ctx = l->ctx;
    if (status < 0) {
        if (lw_ingest__ratelimit(&ctx->rl_err, SYSLOG_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] accept on %s: %s", ctx->in->name, l->url,
                   uv_strerror(status));
        return;
    }
    struct conn *c = lw_calloc(1, sizeof *c);
    c->ctx = ctx;
    bool tcp = l->kind == LIS_TCP || l->kind == LIS_TLS;
    if (tcp)
        uv_tcp_init(ctx->loop, &c->u.tcp);
    else
        uv_pipe_init(ctx->loop, &c->u.pipe, 0);
    c->u.h.data = c;
    if (uv_accept(server, &c->u.s) != 0) {
        uv_close(&c->u.h, conn_closed);
        return;
    }
    if (tcp)
        conn_peer_name(c);
    c->peer = tcp ? c->addr : l->path;
    uint64_t now = uv_now(ctx->loop);
    if ((int64_t)ctx->nconns >= ctx->max_conns) {
        struct conn *victim = conn_victim(ctx, now);
        if (!victim) {
            conn_count(ctx, EV_REFUSED, c->peer);
            uv_close(&c->u.h, conn_closed);
            return;
        }
        conn_end(victim, EV_EVICTED);
    }
    c->next = ctx->conns;
    if (ctx->conns)
        ctx->conns->prev = c;
    ctx->conns = c;
    ctx->nconns++;
    atomic_store(&ctx->conn_open, ctx->nconns);
    conn_count(ctx, EV_ACCEPTED, c->peer);
    c->last_ms = c->done_ms = c->open_ms = now;
    if (l->kind == LIS_TLS)
        c->tls = lw_syslog__tls_conn_new(ctx->tls, &c->u.s, ctx->in->name);
    uv_read_start(&c->u.s, conn_alloc, conn_read);
}

static void conn_shut(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status; /* a failed half-close changes nothing: the drain's deadline still ends it */
}

/* Stop, step one: the peer sees EOF (a sender such as rsyslog checks its connection before
 * each send, and requeues what it has not sent) while we read on until its EOF. A TLS
 * connection sends no close_notify first (lw_syslog__tls_conn_shutdown says why). */
static void conn_half_close(struct conn *c, uint64_t now)
{
    c->draining = true;
    c->last_ms = now; /* SYSLOG_DRAIN_IDLE_MS counts from here */
    if (c->tls)
        lw_syslog__tls_conn_shutdown(c->tls);
    if (uv_shutdown(&c->sreq, &c->u.s, conn_shut) != 0)
        conn_end(c, EV_CLOSED);
}

/* The per-input connection metrics (ops.metrics; any thread: atomics only). */
static void conn_metrics(struct syslog_ctx *ctx, struct lw_buf *out)
{
    const char *n = ctx->in->name;
    for (int ev = 0; ev < EV_COUNT; ev++)
        lw_buf_printf(out, "logwarden_syslog_connections_total{input=\"%s\",event=\"%s\"} %llu\n",
                      n, conn_event_names[ev], (unsigned long long)atomic_load(&ctx->conn_ev[ev]));
    lw_buf_printf(out, "logwarden_syslog_connections{input=\"%s\"} %llu\n", n,
                  (unsigned long long)atomic_load(&ctx->conn_open));
    for (int r = CUT_TOO_LONG; r < CUT_COUNT; r++)
        lw_buf_printf(out, "logwarden_syslog_stream_cut_total{input=\"%s\",reason=\"%s\"} %llu\n",
                      n, cut_names[r], (unsigned long long)atomic_load(&ctx->cut[r]));
}

/* ---------------------------------------------------------------- datagrams */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct listener *l = h->data;
    buf->base = l->ctx->dbuf;
    buf->len = l->ctx->dcap;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
    struct listener *l = h->data;
    struct syslog_ctx *ctx = l->ctx;
    if (nread < 0) {
        if (lw_ingest__ratelimit(&ctx->rl_err, SYSLOG_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] recv on %s: %s", ctx->in->name, l->url,
                   uv_strerror((int)nread));
        return;
    }
    if (nread == 0 && !addr)
        return;
    on_dgram(ctx, buf->base, (size_t)nread, (flags & UV_UDP_PARTIAL) != 0);
}

static void unix_dgram_ready(uv_poll_t *h, int status, int events)
{
    struct listener *l = h->data;
    struct syslog_ctx *ctx = l->ctx;
    if (status < 0)
        return;
    for (int k = 0; k < SYSLOG_DGRAM_BURST; k++) {
        ssize_t r = recv(l->fd, ctx->dbuf, ctx->dcap, MSG_DONTWAIT | MSG_TRUNC);
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                lw_ingest__ratelimit(&ctx->rl_err, SYSLOG_WARN_EVERY))
                lw_log(LW_WARN, "[input:%s] recv on %s: %s", ctx->in->name, l->url,
                       strerror(errno));
            return;
        }
        bool cut = (size_t)r > ctx->dcap;
        on_dgram(ctx, ctx->dbuf, cut ? ctx->dcap : (size_t)r, cut);
    }
}

/* ---------------------------------------------------------------- loop hooks */

/* After each loop turn's I/O: hand over what arrived, so lines never wait for a full batch. */
static void on_check(uv_check_t *h)
{
    struct syslog_ctx *ctx = h->data;
    flush_dgram(ctx);
    if (!flush_orphans(ctx))
        return;
    for (struct conn *c = ctx->conns; c; c = c->next)
        if (!c->paused)
            conn_flush(c);
}

/* Stopping: once the draining connections are closed and their batches handed over (or the
 * drain's deadline passed), the loop's own handles go too. At the deadline, connections still
 * sending are closed, and what the queue still refuses is dropped, and counted. */
static void stop_finish(struct syslog_ctx *ctx, uint64_t now)
{
    if ((ctx->conns || ctx->orphans) && now < ctx->stop_ms)
        return;
    if (ctx->conns)
        lw_log(LW_WARN,
               "[input:%s] stop: closing %zu connection(s) still sending after %d s; what they "
               "send from now on is lost to them unless they resend it",
               ctx->in->name, ctx->nconns, SYSLOG_DRAIN_MAX_MS / 1000);
    while (ctx->conns)
        conn_end(ctx->conns, EV_CLOSED);
    for (int ev = 0; ev < EV_COUNT; ev++)
        conn_report(ctx, (enum conn_event)ev, true);
    flush_dgram(ctx);
    if (!flush_orphans(ctx)) {
        size_t n = 0;
        while (ctx->orphans) {
            struct lw_batch *b = ctx->orphans;
            ctx->orphans = b->next;
            n += b->n;
            lw_batch_free(b);
        }
        atomic_fetch_add(&ctx->in->dropped[LW_DROP_QUEUE_FULL], n);
        lw_log(LW_WARN, "[input:%s] stop: the queue stayed full for %d s: dropped %zu messages",
               ctx->in->name, SYSLOG_DRAIN_MAX_MS / 1000, n);
    }
    if (ctx->check_live)
        uv_close((uv_handle_t *)&ctx->check, NULL);
    if (ctx->timer_live)
        uv_close((uv_handle_t *)&ctx->timer, NULL);
    ctx->check_live = ctx->timer_live = false;
}

/* Every SYSLOG_TIMER_MS: resumes paused connections when the queue has room, ends those past
 * message_timeout or idle_timeout, reports what the rate limits held back, and ends a stop. */
static void on_timer(uv_timer_t *h)
{
    struct syslog_ctx *ctx = h->data;
    uint64_t now = uv_now(ctx->loop);
    uint64_t idle_ms = (uint64_t)(ctx->idle_ns + LW_NS_PER_MS - 1) / LW_NS_PER_MS;
    uint64_t msg_ms = (uint64_t)(ctx->msg_timeout_ns + LW_NS_PER_MS - 1) / LW_NS_PER_MS;
    bool room = flush_orphans(ctx);
    struct conn *c = ctx->conns;
    while (c) {
        struct conn *next = c->next;
        if (c->paused && room) {
            conn_flush(c);
            if (!c->batch) {
                c->paused = false;
                c->last_ms = now; /* the wait was ours: the sender's clocks restart */
                if (c->partial)
                    c->part_ms = now;
                uv_read_start(&c->u.s, conn_alloc, conn_read);
            } else {
                room = false;
            }
        }
        bool timed = !c->paused && !c->draining;
        if (c->tls && !lw_syslog__tls_conn_ready(c->tls) &&
            now - c->open_ms > lw_syslog__tls_handshake_ms(ctx->tls)) {
            lw_syslog__tls_conn_timeout(c->tls);
            conn_end(c, EV_CLOSED);
        } else if (c->draining && !c->paused && now - c->last_ms >= SYSLOG_DRAIN_IDLE_MS)
            conn_end(c, EV_CLOSED);
        else if (timed && c->partial && msg_ms && now - c->part_ms >= msg_ms)
            conn_end(c, EV_MESSAGE_TIMEOUT);
        else if (timed && idle_ms && now - c->last_ms >= idle_ms)
            conn_end(c, EV_IDLE_TIMEOUT);
        c = next;
    }
    for (int ev = 0; ev < EV_COUNT; ev++)
        conn_report(ctx, (enum conn_event)ev, false);
    if (ctx->stopping)
        stop_finish(ctx, now);
}

/* ---------------------------------------------------------------- listeners */

static void lis_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
}

/* A stale socket file from an earlier run would make bind fail; anything else is kept. */
static void unlink_stale_socket(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
}

static int lis_start(struct syslog_ctx *ctx, struct listener *l, struct lw_err *err)
{
    const char *name = ctx->in->name;
    const char *what = "bind";
    int rc = 0;
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    l->u.h.data = l;
    switch (l->kind) {
    case LIS_UDP:
        if ((rc = uv_udp_init(ctx->loop, &l->u.udp)) != 0)
            break;
        l->live = true;
        if ((rc = uv_udp_bind(&l->u.udp, (const struct sockaddr *)&l->addr, 0)) != 0)
            break;
        what = "recv";
        if ((rc = uv_udp_recv_start(&l->u.udp, udp_alloc, udp_recv)) != 0)
            break;
        if (uv_udp_getsockname(&l->u.udp, (struct sockaddr *)&ss, &sslen) == 0)
            l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
        break;
    case LIS_TCP:
    case LIS_TLS:
        if ((rc = uv_tcp_init(ctx->loop, &l->u.tcp)) != 0)
            break;
        l->live = true;
        if ((rc = uv_tcp_bind(&l->u.tcp, (const struct sockaddr *)&l->addr, 0)) != 0)
            break;
        what = "listen";
        if ((rc = uv_listen((uv_stream_t *)&l->u.tcp, 128, on_connection)) != 0)
            break;
        if (uv_tcp_getsockname(&l->u.tcp, (struct sockaddr *)&ss, &sslen) == 0)
            l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
        break;
    case LIS_UNIX_STREAM:
        if ((rc = uv_pipe_init(ctx->loop, &l->u.pipe, 0)) != 0)
            break;
        l->live = true;
        unlink_stale_socket(l->path);
        if ((rc = uv_pipe_bind(&l->u.pipe, l->path)) != 0)
            break;
        what = "listen";
        rc = uv_listen((uv_stream_t *)&l->u.pipe, 128, on_connection);
        break;
    case LIS_UNIX_DGRAM: {
        /* libuv has no unix datagram handle: a raw socket watched by uv_poll. */
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
        what = "socket";
        l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (l->fd < 0) {
            rc = uv_translate_sys_error(errno);
            break;
        }
        unlink_stale_socket(l->path);
        what = "bind";
        if (bind(l->fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            rc = uv_translate_sys_error(errno);
            close(l->fd);
            l->fd = -1;
            break;
        }
        if ((rc = uv_poll_init(ctx->loop, &l->u.poll, l->fd)) != 0) {
            close(l->fd);
            l->fd = -1;
            break;
        }
        l->live = true;
        what = "poll";
        rc = uv_poll_start(&l->u.poll, UV_READABLE, unix_dgram_ready);
        break;
    }
    }
    if (rc != 0)
        return lw_err_set(err, LW_EIO, "input %s: %s %s: %s", name, what, l->url, uv_strerror(rc));
    lw_log(LW_INFO, "[input:%s] listening on %s", name, l->url);
    return LW_OK;
}

/* Parses "udp://HOST:PORT", "tcp://HOST:PORT", "tls://HOST:PORT", "unix:///path",
 * "unix-stream:///path". */
static int lis_parse(struct listener *l, const char *url, const char **why)
{
    static const struct {
        const char *scheme;
        enum lis_kind kind;
    } schemes[] = {{"udp://", LIS_UDP},
                   {"tcp://", LIS_TCP},
                   {"tls://", LIS_TLS},
                   {"unix://", LIS_UNIX_DGRAM},
                   {"unix-stream://", LIS_UNIX_STREAM}};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t k = strlen(schemes[i].scheme);
        if (strncmp(url, schemes[i].scheme, k) == 0) {
            l->kind = schemes[i].kind;
            rest = url + k;
        }
    }
    l->fd = -1;
    if (!rest) {
        *why = "expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, unix:///path or "
               "unix-stream:///path";
        return -1;
    }
    if (l->kind == LIS_UNIX_DGRAM || l->kind == LIS_UNIX_STREAM) {
        if (rest[0] != '/') {
            *why = "a unix socket needs an absolute path, as in unix:///run/logwarden/log.sock";
            return -1;
        }
        if (strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            *why = "unix socket path is too long";
            return -1;
        }
        l->path = lw_strdup(rest);
        return 0;
    }
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest || !colon[1]) {
        *why = "expected HOST:PORT, as in udp://127.0.0.1:5514";
        return -1;
    }
    int64_t port;
    if (lw_parse_i64(colon + 1, strlen(colon + 1), &port) != 0 || port < 0 || port > 65535) {
        *why = "port must be a number from 0 to 65535";
        return -1;
    }
    char host[128];
    size_t hn = (size_t)(colon - rest);
    if (rest[0] == '[' && hn >= 2 && rest[hn - 1] == ']') {
        rest++;
        hn -= 2;
    }
    if (hn >= sizeof host) {
        *why = "host is too long";
        return -1;
    }
    memcpy(host, rest, hn);
    host[hn] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&l->addr) != 0 &&
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&l->addr) != 0) {
        *why = "host must be an IPv4 or IPv6 address (or localhost)";
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- ops */

static void syslog_free(struct lw_input *in)
{
    struct syslog_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->nlis; i++) {
        free(ctx->lis[i].url);
        free(ctx->lis[i].path);
        if (ctx->lis[i].fd >= 0)
            close(ctx->lis[i].fd);
    }
    free(ctx->lis);
    lw_syslog__tls_free_opt(NULL, &ctx->tls);
    free(ctx->tbuf);
    lw_batch_free(ctx->dgram);
    while (ctx->orphans) {
        struct lw_batch *next = ctx->orphans->next;
        lw_batch_free(ctx->orphans);
        ctx->orphans = next;
    }
    free(ctx->dbuf);
    free(ctx);
    in->ctx = NULL;
}

/* Reads `listen`: one address or a list, each parsed into a listener. */
static int parse_listen(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                        struct lw_diag *diag)
{
    struct syslog_ctx *ctx =
        (struct syslog_ctx *)((char *)field - offsetof(struct syslog_ctx, lis));
    int rc = LW_OK;
    if (n->type != LW_YAML_SCALAR && n->type != LW_YAML_SEQ) {
        lw_yaml_error(doc, n, diag, "expected a list of addresses");
        return LW_EINVAL;
    }
    size_t count = n->type == LW_YAML_SEQ ? n->n : 1;
    if (!count) {
        lw_yaml_error(doc, n, diag, "%s: `listen` is empty", c->prefix);
        rc = LW_EINVAL;
    }
    ctx->lis = lw_calloc(count ? count : 1, sizeof *ctx->lis);
    for (size_t i = 0; i < count; i++) {
        const struct lw_yaml_node *item = n->type == LW_YAML_SEQ ? n->items[i] : n;
        struct listener *l = &ctx->lis[ctx->nlis];
        const char *why = NULL;
        if (item->type != LW_YAML_SCALAR) {
            lw_yaml_error(doc, item, diag, "expected an address such as udp://127.0.0.1:514");
            rc = LW_EINVAL;
            continue;
        }
        if (lis_parse(l, item->str, &why) != 0) {
            lw_yaml_error(doc, item, diag, "%s: %s", item->str, why);
            free(l->path);
            l->path = NULL;
            rc = LW_EINVAL;
            continue;
        }
        l->url = lw_strdup(item->str);
        l->ctx = ctx;
        ctx->nlis++;
    }
    return rc;
}

static const struct lw_opt syslog_opts[] = {
    {.key = "listen",
     .type = LW_OPT_LIST,
     .type_name = "addresses",
     .off = offsetof(struct syslog_ctx, lis),
     .flags = LW_OPT_REQUIRED,
     .parse = parse_listen,
     .help = "where to listen: udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, unix:///PATH, "
             "unix-stream:///PATH"},
    {.key = "max_message_bytes",
     .type = LW_OPT_INT,
     .def = "65536",
     .off = offsetof(struct syslog_ctx, max_msg_opt),
     .min = 64,
     .max = 16 * 1024 * 1024,
     .help = "longer messages are cut (and counted)"},
    {.key = "max_connections",
     .type = LW_OPT_INT,
     .def = "256",
     .off = offsetof(struct syslog_ctx, max_conns),
     .min = 1,
     .help = "stream connections at once at most; a new one beyond closes the one that completed "
             "no message for the longest time (at least 1s), else it is refused"},
    {.key = "idle_timeout",
     .type = LW_OPT_DURATION,
     .def = "5m",
     .off = offsetof(struct syslog_ctx, idle_ns),
     .help = "a stream connection silent this long is closed (0: never)"},
    {.key = "message_timeout",
     .type = LW_OPT_DURATION,
     .def = "30s",
     .off = offsetof(struct syslog_ctx, msg_timeout_ns),
     .help = "a stream connection with a message unfinished this long is closed (0: never)"},
    {.key = "tls",
     .type = LW_OPT_MAP,
     .type_name = "map",
     .off = offsetof(struct syslog_ctx, tls),
     .parse = lw_syslog__tls_parse,
     .free = lw_syslog__tls_free_opt,
     .help = "for tls:// listeners: {cert, key, ca, client_auth: none|optional|required, "
             "handshake_timeout}; certificates are read again on SIGHUP"},
    {.type = LW_OPT_END},
};

static int syslog_init(struct lw_input *in, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct syslog_ctx *ctx = lw_calloc(1, sizeof *ctx);
    in->ctx = ctx;
    ctx->in = in;
    int rc = lw_input_opts(in, syslog_opts, ctx, doc, map, diag);
    ctx->max_msg = (size_t)ctx->max_msg_opt;
    bool want_tls = false;
    for (size_t i = 0; i < ctx->nlis; i++)
        want_tls |= ctx->lis[i].kind == LIS_TLS;
    if (want_tls && !ctx->tls && !lw_yaml_get(map, "tls")) {
        lw_yaml_error(doc, lw_yaml_get(map, "listen"), diag,
                      "input '%s': a tls:// address needs `tls: {cert: FILE, key: FILE}`",
                      in->name);
        rc = LW_EINVAL;
    } else if (ctx->tls && !want_tls) {
        lw_yaml_error(doc, lw_yaml_get(map, "tls"), diag,
                      "input '%s': `tls` is set but `listen` has no tls:// address", in->name);
        rc = LW_EINVAL;
    }
    if (rc != LW_OK)
        syslog_free(in);
    return rc;
}

static int syslog_start(struct lw_input *in, uv_loop_t *loop, struct lw_err *err)
{
    struct syslog_ctx *ctx = in->ctx;
    if (!ctx)
        return lw_err_set(err, LW_EINVAL, "input %s: not initialised", in->name);
    ctx->loop = loop;
    /* One byte more than a message may have, to tell a full datagram from a cut one. */
    ctx->dcap = ctx->max_msg + 1 > 65536 ? ctx->max_msg + 1 : 65536;
    ctx->dbuf = lw_malloc(ctx->dcap);
    if (ctx->tls)
        ctx->tbuf = lw_malloc(SYSLOG_READ_CHUNK);
    uv_check_init(loop, &ctx->check);
    ctx->check.data = ctx;
    ctx->check_live = true;
    uv_check_start(&ctx->check, on_check);
    uv_timer_init(loop, &ctx->timer);
    ctx->timer.data = ctx;
    ctx->timer_live = true;
    uv_timer_start(&ctx->timer, on_timer, SYSLOG_TIMER_MS, SYSLOG_TIMER_MS);
    for (size_t i = 0; i < ctx->nlis; i++) {
        int rc = lis_start(ctx, &ctx->lis[i], err);
        if (rc != LW_OK)
            return rc; /* the caller stops the input, which closes what was opened */
    }
    return LW_OK;
}

/* Stops in two steps: listeners close now; connections are half-closed (conn_half_close) and
 * read until their peers' EOF (SYSLOG_DRAIN_*; the timer then ends the stop in stop_finish), so
 * what a sender wrote before it saw the stop is not lost. The loop runs until then. */
static void syslog_stop(struct lw_input *in)
{
    struct syslog_ctx *ctx = in->ctx;
    if (!ctx || ctx->stopping)
        return;
    ctx->stopping = true;
    for (size_t i = 0; i < ctx->nlis; i++) {
        struct listener *l = &ctx->lis[i];
        if (!l->live)
            continue;
        l->live = false;
        uv_close(&l->u.h, lis_closed);
        if (l->path)
            unlink(l->path);
    }
    uint64_t now = ctx->loop ? uv_now(ctx->loop) : 0;
    ctx->stop_ms = ctx->timer_live ? now + SYSLOG_DRAIN_MAX_MS : now; /* never started: now */
    for (struct conn *c = ctx->conns, *next; c; c = next) {
        next = c->next;
        conn_half_close(c, now);
    }
    flush_dgram(ctx);
    flush_orphans(ctx);
    stop_finish(ctx, now);
}

int lw_syslog_bound_port(const struct lw_input *in, size_t i)
{
    const struct syslog_ctx *ctx = in->ctx;
    if (!ctx || in->ops != &lw_ingest__syslog_ops || i >= ctx->nlis || !ctx->lis[i].port)
        return -1;
    return ctx->lis[i].port;
}

/* The queue drained after refusing a batch: resume paused connections now, not at the next
 * SYSLOG_TIMER_MS tick. */
static void syslog_resume(struct lw_input *in)
{
    struct syslog_ctx *ctx = in->ctx;
    if (ctx && ctx->timer_live)
        on_timer(&ctx->timer);
}

/* The input's own metrics: each part in its own function. */
static void syslog_metrics(struct lw_input *in, struct lw_buf *out)
{
    struct syslog_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    conn_metrics(ctx, out);
    if (ctx->tls)
        lw_syslog__tls_metrics(ctx->tls, in->name, out);
}

/* SIGHUP: the TLS certificates are read again. */
static void syslog_reload(struct lw_input *in)
{
    struct syslog_ctx *ctx = in->ctx;
    if (ctx && ctx->tls)
        lw_syslog__tls_reload(ctx->tls, in->name);
}

const struct lw_input_ops lw_ingest__syslog_ops = {
    .type = "syslog",
    .opts = syslog_opts,
    .init = syslog_init,
    .start = syslog_start,
    .stop = syslog_stop,
    .resume = syslog_resume,
    .free = syslog_free,
    .metrics = syslog_metrics,
    .reload = syslog_reload,
    .format = LW_FMT_SYSLOG,
    .labels = 1u << LW_L_SOURCE_IP,
    .no_multiline = true,
};
