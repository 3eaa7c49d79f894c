/* syslog_input.c: the syslog input: UDP, TCP, unix datagram (like /dev/log) and unix stream
 * listeners on the I/O loop; stream framing is octet counting (RFC 6587) or newlines, per
 * message. Records carry the raw message; the pipeline decodes it with lw_syslog_parse. TLS
 * listeners (tls://) are TCP ones whose connections decrypt through syslog_tls.c first. */
#include "ingest.h"
#include "ingest_int.h"
#include "syslog_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_READ_CHUNK (64u * 1024) /* what one stream read may add to a buffer */
#define SYSLOG_TIMER_MS 50             /* retry paused connections, sweep idle ones */
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
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_poll_t poll; /* datagram listeners: their raw socket */
    } u;
    int fd;           /* datagram socket, -1 when none */
    struct dgram *dg; /* datagram listeners: what is being filled; NULL otherwise */
    int rcvbuf;       /* UDP: the receive buffer the kernel granted (set before start ends) */
    bool live;        /* handle initialised and not closed */
    int port;         /* bound port (udp/tcp), after start */
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
    struct lw_batch *orphans; /* batches of closed connections waiting for room */
    struct lw_ratelimit rl_err;
    /* Datagrams (UDP, unix datagram): see "datagrams" below. I/O thread unless said. */
    int64_t rcvbuf_opt;                /* `receive_buffer_bytes` */
    int64_t max_held_opt;              /* `max_buffered_bytes` */
    struct dgram_ring *ring;           /* recvmmsg's buffers; NULL: no datagram listener */
    struct lw_batch *held, *held_tail; /* sealed batches the queue refused, oldest first */
    size_t held_bytes;                 /* their held_cost, against max_held_opt */
    _Atomic size_t held_gauge;         /* held_bytes, for /metrics (HTTP thread) */
    uv_timer_t dtimer;                 /* dgram_tick */
    uv_timer_t dlinger;                /* dgram_check: hands over a batch that waited */
    bool dtimer_live;
    int64_t drain_deadline;           /* stopping: when to give up on what is held */
    uint64_t unlogged[LW_DROP_COUNT]; /* lost since the last report, by reason */
    struct lw_ratelimit rl_dlog[LW_DROP_COUNT];
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

/* UDP and unix datagram listeners share one path: a raw nonblocking socket watched by uv_poll
 * and read with recvmmsg, SYSLOG_DGRAM_SLOTS datagrams per call, into the ring below.
 *
 * Nothing is lost in silence. A datagram can be lost in three places, and each is counted in
 * in->dropped with a rate-limited log line that states the true number since the line before:
 * - the kernel's socket buffer overflowed (UDP only: a unix datagram sender waits instead):
 *   LW_DROP_KERNEL, read from the socket's own drop counter (SO_RXQ_OVFL on each datagram,
 *   SO_MEMINFO on the timer, for drops after the last datagram read);
 * - the pipeline fell behind by more than max_buffered_bytes: batches the queue refuses are
 *   held here, in order, and handed over as it makes room; beyond the bound the new batch is
 *   dropped: LW_DROP_QUEUE_FULL (the socket is read meanwhile, so the kernel's buffer drains);
 * - a datagram longer than max_message_bytes is cut (in->truncated, not dropped). */

/* One sender of the batch being filled: an address family and address (the port is not part
 * of source_ip). */
struct sender {
    uint8_t fam; /* AF_INET, AF_INET6 */
    uint8_t a[16];
};

#define SENDER_HASH 1024 /* > 2 * LW_BATCH_MAX_LINES: one probe or two */

/* What a datagram listener is filling: the batch, and for UDP the distinct senders of its
 * records, so that sealing the batch makes one label set per sender, not per record. */
struct dgram {
    struct lw_batch *b;               /* NULL: nothing received since the last hand-over */
    uint16_t src[LW_BATCH_MAX_LINES]; /* per record: its sender in addrs */
    struct sender addrs[LW_BATCH_MAX_LINES];
    uint16_t naddrs, last;      /* last: the latest sender, the likely next one */
    uint16_t hash[SENDER_HASH]; /* 1 + index into addrs; 0: empty */
    uint32_t kdrops;            /* the kernel's drop counter, as last read */
};

/* recvmmsg's arrays, shared by every datagram listener of the input (I/O thread only). */
#define SYSLOG_DGRAM_SLOTS 64
#define SYSLOG_DGRAM_ROUNDS 16        /* recvmmsg calls per wake-up at most: TCP gets its turn */
#define SYSLOG_DGRAM_LINGER_MS 1      /* how long a batch waits for more datagrams (dgram_check) */
#define SYSLOG_DGRAM_STOP_ROUNDS 2048 /* at stop, what the kernel holds: ~52 000 at 32 MiB */
#define SYSLOG_DGRAM_RING (4u << 20)  /* the ring's bytes at most: fewer slots for long messages */
struct dgram_ring {
    size_t n, slot; /* datagrams per call, bytes per datagram */
    char *bufs;
    struct mmsghdr mm[SYSLOG_DGRAM_SLOTS];
    struct iovec iov[SYSLOG_DGRAM_SLOTS];
    struct sockaddr_storage name[SYSLOG_DGRAM_SLOTS];
    union {
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctl[SYSLOG_DGRAM_SLOTS];
};

static void unlink_stale_socket(const char *path);

static bool is_dgram(const struct listener *l)
{
    return l->kind == LIS_UDP || l->kind == LIS_UNIX_DGRAM;
}

/* Counts n messages lost for reason; the log line comes from dgram_report. */
static void dgram_lost(struct syslog_ctx *ctx, int reason, uint64_t n)
{
    atomic_fetch_add(&ctx->in->dropped[reason], n);
    ctx->unlogged[reason] += n;
}

/* Logs what was lost since the last line, at most once per SYSLOG_WARN_EVERY and reason: the
 * count is always the true one since the line before (the limiter delays, never forgets). */
static void dgram_report(struct syslog_ctx *ctx)
{
    static const char *const why[LW_DROP_COUNT] = {
        [LW_DROP_QUEUE_FULL] = "the rules fell behind by more than max_buffered_bytes",
        [LW_DROP_KERNEL] = "the kernel's socket buffer was full: raise receive_buffer_bytes "
                           "(and net.core.rmem_max)",
    };
    for (int r = 0; r < LW_DROP_COUNT; r++) {
        if (!ctx->unlogged[r] || !lw_ingest__ratelimit(&ctx->rl_dlog[r], SYSLOG_WARN_EVERY))
            continue;
        lw_log(LW_WARN, "[input:%s] dropped %llu datagram messages since the last report: %s",
               ctx->in->name, (unsigned long long)ctx->unlogged[r], why[r]);
        ctx->unlogged[r] = 0;
    }
}

/* The kernel's drop counter of l's socket is now v (it only grows, modulo 2^32): what it grew
 * by since the last read was lost. Values read from older datagrams may lag a newer SO_MEMINFO
 * read: those are not news. */
static void kernel_drops(struct syslog_ctx *ctx, struct listener *l, uint32_t v)
{
    int32_t d = (int32_t)(v - l->dg->kdrops);
    if (d <= 0)
        return;
    l->dg->kdrops = v;
    dgram_lost(ctx, LW_DROP_KERNEL, (uint64_t)d);
}

/* Reads the socket's drop counter now (SO_MEMINFO): drops after the last datagram read are not
 * in any SO_RXQ_OVFL message until another datagram arrives. */
static void kernel_drops_poll(struct syslog_ctx *ctx, struct listener *l)
{
    uint32_t mi[SK_MEMINFO_VARS];
    socklen_t n = sizeof mi;
    if (l->kind == LIS_UDP && l->fd >= 0 &&
        getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mi, &n) == 0 &&
        n > SK_MEMINFO_DROPS * sizeof mi[0])
        kernel_drops(ctx, l, mi[SK_MEMINFO_DROPS]);
}

/* What a held batch costs against max_buffered_bytes: the memory it holds. */
static size_t held_cost(const struct lw_batch *b)
{
    return b->dcap + b->cap * sizeof *b->recs + b->lcap;
}

/* Hands held batches to the queue, oldest first, while it takes them. */
static void dgram_push_held(struct syslog_ctx *ctx)
{
    while (ctx->held) {
        struct lw_batch *b = ctx->held, *next = b->next;
        size_t cost = held_cost(b); /* b is the pipeline's once pushed */
        b->next = NULL;
        int rc = lw_queue_try_push(ctx->in->queue, b);
        if (rc == LW_EFULL) {
            b->next = next;
            return;
        }
        ctx->held = next;
        if (!next)
            ctx->held_tail = NULL;
        ctx->held_bytes -= cost;
        atomic_store(&ctx->held_gauge, ctx->held_bytes);
        if (rc != LW_OK) {
            dgram_lost(ctx, LW_DROP_QUEUE_FULL, b->n);
            lw_batch_free(b);
        }
    }
}

/* The IPv4 address of an IPv4-mapped IPv6 one (::ffff:a.b.c.d, a dual-stack socket's view of an
 * IPv4 sender), else NULL. */
static const uint8_t *mapped_v4(const struct sender *s)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return s->fam == AF_INET6 && memcmp(s->a, prefix, 12) == 0 ? s->a + 12 : NULL;
}

/* Lays out the labels of a filled batch in its label space (one call per filling): unix
 * datagram, the socket's path for the whole batch; UDP, one label set per sender, setting
 * source_ip, and a meta per record pointing at its sender's set (decode applies the set's slots
 * over the batch's). */
static void dgram_seal(struct listener *l, struct lw_batch *b)
{
    struct dgram *d = l->dg;
    if (l->kind == LIS_UNIX_DGRAM) {
        size_t n = strlen(l->path);
        char *sp = lw_batch_label_space(b, n);
        memcpy(sp, l->path, n);
        b->labels[LW_L_SOURCE_IP] = (struct lw_str){sp, n};
        return;
    }
    size_t need = b->n * sizeof(struct lw_rec_meta) + d->naddrs * sizeof(struct lw_labelset) +
                  d->naddrs * INET6_ADDRSTRLEN;
    char *sp = lw_batch_label_space(b, need);
    struct lw_rec_meta *metas = (struct lw_rec_meta *)sp;
    struct lw_labelset *sets = (struct lw_labelset *)(sp + b->n * sizeof *metas);
    char *text = (char *)(sets + d->naddrs);
    for (size_t i = 0; i < d->naddrs; i++) {
        const struct sender *s = &d->addrs[i];
        const uint8_t *v4 = s->fam == AF_INET ? s->a : mapped_v4(s);
        char *t = text + i * INET6_ADDRSTRLEN;
        if (!s->fam || !inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? v4 : s->a, t, INET6_ADDRSTRLEN))
            t[0] = '\0';
        memset(&sets[i], 0, sizeof sets[i]);
        atomic_init(&sets[i].refs, 1); /* the batch's: never released, freed with the space */
        sets[i].slot[LW_L_SOURCE_IP] = (struct lw_str){t, strlen(t)};
    }
    for (size_t i = 0; i < b->n; i++) {
        metas[i] = (struct lw_rec_meta){0, &sets[d->src[i]]};
        b->recs[i].meta = &metas[i];
    }
    d->naddrs = 0;
    memset(d->hash, 0, sizeof d->hash);
}

/* Hands l's batch over: to the queue when nothing is held before it, else held behind the
 * others; beyond max_buffered_bytes, dropped and counted. */
static void dgram_flush(struct syslog_ctx *ctx, struct listener *l)
{
    struct lw_batch *b = l->dg->b;
    if (!b || !b->n)
        return; /* an empty batch (empty datagrams) is kept for the next ones */
    l->dg->b = NULL;
    dgram_seal(l, b);
    if (!ctx->held && lw_queue_try_push(ctx->in->queue, b) == LW_OK)
        return;
    size_t cost = held_cost(b);
    if (ctx->held_bytes + cost > (size_t)ctx->max_held_opt) {
        dgram_lost(ctx, LW_DROP_QUEUE_FULL, b->n);
        dgram_report(ctx);
        lw_batch_free(b);
        return;
    }
    b->next = NULL;
    if (ctx->held_tail)
        ctx->held_tail->next = b;
    else
        ctx->held = b;
    ctx->held_tail = b;
    ctx->held_bytes += cost;
    atomic_store(&ctx->held_gauge, ctx->held_bytes);
}

/* Hands over what is held first, then what each listener filled. */
static void flush_dgram(struct syslog_ctx *ctx)
{
    dgram_push_held(ctx);
    for (size_t i = 0; i < ctx->nlis; i++)
        if (ctx->lis[i].dg)
            dgram_flush(ctx, &ctx->lis[i]);
}

static void dgram_linger_done(uv_timer_t *h)
{
    flush_dgram(h->data);
}

/* After each loop turn's I/O: what is held goes at once; a batch being filled waits up to
 * SYSLOG_DGRAM_LINGER_MS for more datagrams (a full one went already). Each hand-over may wake
 * the pipeline thread, and a wake-up for every datagram or two of a steady stream costs more
 * than the datagrams do: context switches were a fifth of the daemon's CPU in
 * bench/syslog.py's UDP run before batches lingered. */
static void dgram_check(struct syslog_ctx *ctx)
{
    dgram_push_held(ctx);
    if (!ctx->ring || uv_is_active((uv_handle_t *)&ctx->dlinger) || ctx->stopping)
        return;
    for (size_t i = 0; i < ctx->nlis; i++)
        if (ctx->lis[i].dg && ctx->lis[i].dg->b && ctx->lis[i].dg->b->n) {
            uv_timer_start(&ctx->dlinger, dgram_linger_done, SYSLOG_DGRAM_LINGER_MS, 0);
            return;
        }
}

/* The index in d->addrs of the sender at sa (NULL: unknown, an empty source_ip), added when
 * new. */
static uint16_t sender_of(struct dgram *d, const struct sockaddr *sa)
{
    struct sender s = {0};
    if (!sa) {
        /* fam 0: no address */
    } else if (sa->sa_family == AF_INET6) {
        s.fam = AF_INET6;
        memcpy(s.a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        s.fam = AF_INET;
        memcpy(s.a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    }
    if (d->naddrs && memcmp(&d->addrs[d->last], &s, sizeof s) == 0)
        return d->last;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof s.a; i++)
        h = (h ^ s.a[i]) * 16777619u;
    for (uint32_t k = h % SENDER_HASH;; k = (k + 1) % SENDER_HASH) {
        uint16_t at = d->hash[k];
        if (!at) {
            d->addrs[d->naddrs] = s;
            d->hash[k] = (uint16_t)(d->naddrs + 1);
            return d->last = d->naddrs++;
        }
        if (memcmp(&d->addrs[at - 1], &s, sizeof s) == 0)
            return d->last = (uint16_t)(at - 1);
    }
}

/* One datagram of n bytes (cut: it was longer than the ring's slot) from sa (UDP; NULL: unix). */
static void on_dgram(struct syslog_ctx *ctx, struct listener *l, const char *p, size_t n, bool cut,
                     const struct sockaddr *sa)
{
    struct dgram *d = l->dg;
    if (!d->b)
        d->b = lw_queue_batch(ctx->in->queue, ctx->in->index, NULL, 16 * 1024);
    size_t before = d->b->n;
    add_msg(ctx, &d->b, p, n, cut);
    if (d->b->n > before && l->kind == LIS_UDP)
        d->src[before] = sender_of(d, sa);
    if (batch_full(d->b))
        dgram_flush(ctx, l);
}

/* Reads what l's socket holds, SYSLOG_DGRAM_SLOTS datagrams per call, up to rounds calls. */
static void dgram_read(struct syslog_ctx *ctx, struct listener *l, int rounds)
{
    struct dgram_ring *r = ctx->ring;
    bool udp = l->kind == LIS_UDP;
    for (int round = 0; round < rounds; round++) {
        for (size_t i = 0; i < r->n; i++) {
            struct msghdr *m = &r->mm[i].msg_hdr;
            m->msg_name = udp ? &r->name[i] : NULL;
            m->msg_namelen = udp ? sizeof r->name[i] : 0;
            m->msg_control = udp ? r->ctl[i].buf : NULL;
            m->msg_controllen = udp ? sizeof r->ctl[i].buf : 0;
            m->msg_flags = 0;
        }
        int got = recvmmsg(l->fd, r->mm, (unsigned)r->n, MSG_DONTWAIT, NULL);
        if (got < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                lw_ingest__ratelimit(&ctx->rl_err, SYSLOG_WARN_EVERY))
                lw_log(LW_WARN, "[input:%s] recv on %s: %s", ctx->in->name, l->url,
                       strerror(errno));
            return;
        }
        for (int k = 0; k < got; k++) {
            struct msghdr *m = &r->mm[k].msg_hdr;
            for (struct cmsghdr *c = udp ? CMSG_FIRSTHDR(m) : NULL; c; c = CMSG_NXTHDR(m, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                    uint32_t v;
                    memcpy(&v, CMSG_DATA(c), sizeof v);
                    kernel_drops(ctx, l, v);
                }
            const struct sockaddr *sa =
                udp && m->msg_namelen >= sizeof(struct sockaddr_in) ? m->msg_name : NULL;
            on_dgram(ctx, l, r->iov[k].iov_base, r->mm[k].msg_len, (m->msg_flags & MSG_TRUNC) != 0,
                     sa);
        }
        if ((size_t)got < r->n)
            return;
    }
}

static void dgram_ready(uv_poll_t *h, int status, int events)
{
    struct listener *l = h->data;
    struct syslog_ctx *ctx = l->ctx;
    (void)events;
    if (status < 0) {
        if (lw_ingest__ratelimit(&ctx->rl_err, SYSLOG_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] poll on %s: %s", ctx->in->name, l->url,
                   uv_strerror(status));
        return;
    }
    dgram_read(ctx, l, SYSLOG_DGRAM_ROUNDS);
    if (ctx->unlogged[LW_DROP_KERNEL])
        dgram_report(ctx);
}

/* Every SYSLOG_TIMER_MS: the kernel's drop counters, the held batches, the reports. Once the
 * input is stopping, it drains what is held to the queue (SIGTERM drains), giving up after
 * SYSLOG_DRAIN_NS: what is left then is counted as dropped. */
#define SYSLOG_DRAIN_NS (10 * LW_NS_PER_SEC)
static void dgram_tick(uv_timer_t *h)
{
    struct syslog_ctx *ctx = h->data;
    for (size_t i = 0; i < ctx->nlis; i++)
        if (ctx->lis[i].dg)
            kernel_drops_poll(ctx, &ctx->lis[i]);
    dgram_push_held(ctx);
    if (ctx->stopping && (!ctx->held || lw_mono_ns() > ctx->drain_deadline)) {
        while (ctx->held) {
            struct lw_batch *b = ctx->held;
            ctx->held = b->next;
            dgram_lost(ctx, LW_DROP_QUEUE_FULL, b->n);
            lw_batch_free(b);
        }
        ctx->held_tail = NULL;
        ctx->held_bytes = 0;
        atomic_store(&ctx->held_gauge, 0);
        memset(ctx->rl_dlog, 0, sizeof ctx->rl_dlog); /* the last report is never held back */
        dgram_report(ctx);
        uv_close((uv_handle_t *)h, NULL);
        ctx->dtimer_live = false;
        return;
    }
    dgram_report(ctx);
}

/* Sets l's socket up for load (UDP): a large receive buffer, SO_RCVBUFFORCE first (it passes
 * net.core.rmem_max with CAP_NET_ADMIN), else SO_RCVBUF, with a line when the kernel capped it;
 * and the kernel's drop counter on every datagram (SO_RXQ_OVFL). */
static void dgram_tune(struct syslog_ctx *ctx, struct listener *l)
{
    int want = (int)ctx->rcvbuf_opt, got = 0, on = 1;
    socklen_t n = sizeof got;
    if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    /* Linux reports twice what it was given (the rest is its bookkeeping). */
    if (getsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &got, &n) == 0)
        l->rcvbuf = got / 2;
    if (l->rcvbuf && l->rcvbuf < want)
        lw_log(LW_WARN,
               "[input:%s] %s: the kernel capped the receive buffer at %d bytes, not the %d of "
               "receive_buffer_bytes: bursts beyond it are lost (and counted); raise the "
               "sysctl net.core.rmem_max to %d, or give logwarden CAP_NET_ADMIN",
               ctx->in->name, l->url, got / 2, want, want);
    if (setsockopt(l->fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0)
        lw_log(LW_WARN, "[input:%s] %s: SO_RXQ_OVFL: %s: kernel drops are read every %d ms only",
               ctx->in->name, l->url, strerror(errno), SYSLOG_TIMER_MS);
}

/* Opens, binds and watches a datagram listener; *what names the step that failed. */
static int dgram_start(struct syslog_ctx *ctx, struct listener *l, const char **what)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    const struct sockaddr *sa = (const struct sockaddr *)&l->addr;
    socklen_t salen =
        l->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fam = l->kind == LIS_UDP ? l->addr.ss_family : AF_UNIX;
    if (l->kind == LIS_UNIX_DGRAM) {
        memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
        sa = (const struct sockaddr *)&sun;
        salen = sizeof sun;
    }
    l->dg = lw_calloc(1, sizeof *l->dg);
    *what = "socket";
    l->fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        return uv_translate_sys_error(errno);
    if (l->kind == LIS_UDP)
        dgram_tune(ctx, l);
    else
        unlink_stale_socket(l->path);
    *what = "bind";
    int rc = 0;
    if (bind(l->fd, sa, salen) != 0)
        rc = uv_translate_sys_error(errno);
    else if ((rc = uv_poll_init(ctx->loop, &l->u.poll, l->fd)) == 0) {
        l->live = true;
        *what = "poll";
        rc = uv_poll_start(&l->u.poll, UV_READABLE, dgram_ready);
    }
    if (rc != 0 && !l->live) {
        close(l->fd);
        l->fd = -1;
        return rc;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    if (rc == 0 && l->kind == LIS_UDP && getsockname(l->fd, (struct sockaddr *)&ss, &sslen) == 0)
        l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return rc;
}

/* The ring and the timer, before the first datagram listener starts. */
static void dgram_init(struct syslog_ctx *ctx)
{
    struct dgram_ring *r = lw_calloc(1, sizeof *r);
    /* One byte more than a message may have, to tell a full datagram from a cut one; no UDP
     * datagram is larger than 64 KiB, a unix one may be. */
    r->slot = ctx->max_msg + 1;
    bool unix_dgram = false;
    for (size_t i = 0; i < ctx->nlis; i++)
        unix_dgram |= ctx->lis[i].kind == LIS_UNIX_DGRAM;
    if (!unix_dgram && r->slot > 65536)
        r->slot = 65536;
    r->n = SYSLOG_DGRAM_RING / r->slot;
    r->n = r->n < 1 ? 1 : r->n > SYSLOG_DGRAM_SLOTS ? SYSLOG_DGRAM_SLOTS : r->n;
    r->bufs = lw_malloc(r->n * r->slot);
    for (size_t i = 0; i < r->n; i++) {
        r->iov[i] = (struct iovec){r->bufs + i * r->slot, r->slot};
        r->mm[i].msg_hdr.msg_iov = &r->iov[i];
        r->mm[i].msg_hdr.msg_iovlen = 1;
    }
    ctx->ring = r;
    uv_timer_init(ctx->loop, &ctx->dtimer);
    ctx->dtimer.data = ctx;
    ctx->dtimer_live = true;
    uv_timer_start(&ctx->dtimer, dgram_tick, SYSLOG_TIMER_MS, SYSLOG_TIMER_MS);
    uv_timer_init(ctx->loop, &ctx->dlinger);
    ctx->dlinger.data = ctx;
}

/* At stop: reads what the sockets still hold (a stop drains), hands it over, and leaves the
 * timer to drain what is held. */
static void dgram_stop(struct syslog_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nlis; i++) {
        struct listener *l = &ctx->lis[i];
        if (!l->dg || l->fd < 0)
            continue;
        dgram_read(ctx, l, SYSLOG_DGRAM_STOP_ROUNDS);
        kernel_drops_poll(ctx, l);
    }
    flush_dgram(ctx);
    if (ctx->ring)
        uv_close((uv_handle_t *)&ctx->dlinger, NULL);
    ctx->drain_deadline = lw_mono_ns() + SYSLOG_DRAIN_NS;
    if (ctx->dtimer_live)
        dgram_tick(&ctx->dtimer);
}

/* The datagram metrics (ops.metrics; any thread: what it reads is atomic or set before start
 * returned). */
static void dgram_metrics(struct syslog_ctx *ctx, struct lw_buf *out)
{
    if (!ctx->ring)
        return;
    lw_buf_printf(out, "logwarden_syslog_buffered_bytes{input=\"%s\"} %zu\n", ctx->in->name,
                  atomic_load(&ctx->held_gauge));
    for (size_t i = 0; i < ctx->nlis; i++)
        if (ctx->lis[i].rcvbuf)
            lw_buf_printf(out,
                          "logwarden_syslog_receive_buffer_bytes{input=\"%s\",listen=\"%s\"} %d\n",
                          ctx->in->name, ctx->lis[i].url, ctx->lis[i].rcvbuf);
}

static void dgram_free(struct syslog_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nlis; i++) {
        if (ctx->lis[i].dg)
            lw_batch_free(ctx->lis[i].dg->b);
        free(ctx->lis[i].dg);
    }
    while (ctx->held) {
        struct lw_batch *next = ctx->held->next;
        lw_batch_free(ctx->held);
        ctx->held = next;
    }
    if (ctx->ring)
        free(ctx->ring->bufs);
    free(ctx->ring);
}

/* ---------------------------------------------------------------- loop hooks */

/* After each loop turn's I/O: hand over what arrived, so lines never wait for a full batch. */
static void on_check(uv_check_t *h)
{
    struct syslog_ctx *ctx = h->data;
    dgram_check(ctx);
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
    case LIS_UNIX_DGRAM:
        rc = dgram_start(ctx, l, &what);
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
    dgram_free(ctx);
    for (size_t i = 0; i < ctx->nlis; i++) {
        free(ctx->lis[i].url);
        free(ctx->lis[i].path);
        if (ctx->lis[i].fd >= 0)
            close(ctx->lis[i].fd);
    }
    free(ctx->lis);
    lw_syslog__tls_free_opt(NULL, &ctx->tls);
    free(ctx->tbuf);
    while (ctx->orphans) {
        struct lw_batch *next = ctx->orphans->next;
        lw_batch_free(ctx->orphans);
        ctx->orphans = next;
    }
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
    {.key = "receive_buffer_bytes",
     .type = LW_OPT_INT,
     .def = "33554432",
     .off = offsetof(struct syslog_ctx, rcvbuf_opt),
     .min = 4096,
     .max = 1024 * 1024 * 1024,
     .help = "UDP: the kernel's receive buffer per socket, for bursts (capped by the sysctl "
             "net.core.rmem_max unless logwarden has CAP_NET_ADMIN)"},
    {.key = "max_buffered_bytes",
     .type = LW_OPT_INT,
     .def = "33554432",
     .off = offsetof(struct syslog_ctx, max_held_opt),
     .min = 0,
     .max = INT64_C(16) * 1024 * 1024 * 1024,
     .help = "datagrams read while the rules are busy are held up to this many bytes; beyond, "
             "they are dropped (and counted)"},
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
    for (size_t i = 0; i < ctx->nlis && !ctx->ring; i++)
        if (is_dgram(&ctx->lis[i]))
            dgram_init(ctx);
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
    dgram_stop(ctx);
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
    if (ctx && !ctx->stopping)
        flush_dgram(ctx);
}

/* The input's own metrics: each part in its own function. */
static void syslog_metrics(struct lw_input *in, struct lw_buf *out)
{
    struct syslog_ctx *ctx = in->ctx;
    if (!ctx)
        return;
    conn_metrics(ctx, out);
    dgram_metrics(ctx, out);
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
