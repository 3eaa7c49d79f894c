/* test_syslog_input.c: the syslog input on a real loop: UDP, TCP (newline and octet-counted
 * framing, truncation, backpressure, max_connections), unix datagram and stream sockets,
 * logger(1) as a real sender, and config errors; stream connections' limits (message_timeout,
 * idle_timeout, eviction and refusal), framing lost, source_ip and the stop's drain. */
#include "ingest.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[64];

static char recs[32768][256];
static size_t lens[32768];
static char srcs[32768][64];                  /* each record's source_ip label */
static const struct lw_labelset *sets[32768]; /* its own label set (UDP), or NULL */
static unsigned batch_of[32768];              /* which batch it came in */
static unsigned nbatches;
static size_t nrecs;

struct fixture {
    uv_loop_t loop;
    struct lw_queue *q;
    struct lw_input in;
};

static int setup(struct fixture *f, const char *yaml, size_t max_batches)
{
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    memset(f, 0, sizeof *f);
    uv_loop_init(&f->loop);
    f->q = lw_queue_new(max_batches, 64u << 20);
    f->in.ops = lw_input_find("syslog");
    f->in.name = "syslog";
    f->in.index = 1;
    f->in.queue = f->q;
    CHECK_EQ(lw_yaml_load_buf(&doc, "t.yaml", yaml, strlen(yaml), &diag), 0);
    int rc = f->in.ops->init(&f->in, doc, doc->root, &diag);
    lw_diag_print(&diag, stderr);
    lw_diag_free(&diag);
    lw_yaml_free(doc);
    CHECK_EQ(rc, 0);
    struct lw_err err = {0};
    rc = f->in.ops->start(&f->in, &f->loop, &err);
    if (rc)
        fprintf(stderr, "start: %s\n", err.msg);
    CHECK_EQ(rc, 0);
    nrecs = 0;
    return rc;
}

static void teardown(struct fixture *f)
{
    f->in.ops->stop(&f->in);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    f->in.ops->free(&f->in);
    CHECK_EQ(uv_loop_close(&f->loop), 0);
    lw_queue_free(f->q);
}

static void take(struct lw_batch *b)
{
    CHECK(b->stream == NULL);
    CHECK_EQ(b->input, 1);
    nbatches++;
    for (size_t i = 0; i < b->n && nrecs < 32768; i++) {
        size_t n = b->recs[i].line.n < 255 ? b->recs[i].line.n : 255;
        memcpy(recs[nrecs], b->recs[i].line.p, n);
        recs[nrecs][n] = '\0';
        /* As decode sees it: a record's own label set over the batch's labels. */
        struct lw_str ip = b->labels[LW_L_SOURCE_IP];
        const struct lw_rec_meta *m = b->recs[i].meta;
        sets[nrecs] = m ? m->extra : NULL;
        if (m && m->extra && m->extra->slot[LW_L_SOURCE_IP].p)
            ip = m->extra->slot[LW_L_SOURCE_IP];
        snprintf(srcs[nrecs], sizeof srcs[nrecs], "%.*s", (int)ip.n, ip.p ? ip.p : "");
        batch_of[nrecs] = nbatches;
        lens[nrecs++] = b->recs[i].line.n;
    }
    lw_batch_free(b);
}

static void pump(struct fixture *f, size_t want, int ms)
{
    int64_t deadline = lw_mono_ns() + ms * LW_NS_PER_MS;
    while (lw_mono_ns() < deadline && nrecs < want) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct lw_batch *b = lw_queue_pop(f->q, 2);
        if (b)
            take(b);
    }
}

static int connect_tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void send_udp(int port, const char *msg)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof sa),
             (long long)strlen(msg));
    close(fd);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        p += w;
        n -= (size_t)w;
    }
}

static void test_udp_tcp(void)
{
    struct fixture f;
    setup(&f,
          "listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]\nmax_message_bytes: 128\n"
          "idle_timeout: 2s\n",
          16);
    int uport = lw_syslog_bound_port(&f.in, 0), tport = lw_syslog_bound_port(&f.in, 1);
    CHECK(uport > 0);
    CHECK(tport > 0);
    CHECK_EQ(lw_syslog_bound_port(&f.in, 2), -1);

    /* UDP: one datagram, one message, trailing newlines stripped. */
    send_udp(uport, "<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n");
    send_udp(uport, "<13>second\r\n\n");
    pump(&f, 2, 3000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0], "<34>Oct 11 22:14:15 mymachine su: 'su root' failed");
    CHECK_STR(recs[1], "<13>second");

    /* TCP, newline framing, split anywhere. */
    nrecs = 0;
    int fd = connect_tcp(tport);
    send_all(fd, "<13>a one\n<1", 12);
    pump(&f, 1, 3000);
    send_all(fd, "3>b two\r\n", 9);
    pump(&f, 2, 3000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0], "<13>a one");
    CHECK_STR(recs[1], "<13>b two");

    /* Octet counting (RFC 6587), a newline inside a frame, then newline framing again. */
    nrecs = 0;
    const char *m1 = "<165>1 2003-10-11T22:14:15.003Z h app - ID47 - hi";
    const char *m2 = "<13>two\nlines";
    char frame[512];
    int n =
        snprintf(frame, sizeof frame, "%zu %s%zu %s<14>plain\n", strlen(m1), m1, strlen(m2), m2);
    for (int i = 0; i < n; i++) {
        send_all(fd, frame + i, 1); /* byte by byte: the length arrives in pieces */
        if (i % 7 == 0)
            uv_run(&f.loop, UV_RUN_NOWAIT);
    }
    pump(&f, 3, 3000);
    CHECK_EQ(nrecs, 3);
    CHECK_STR(recs[0], m1);
    CHECK_STR(recs[1], m2);
    CHECK_STR(recs[2], "<14>plain");

    /* Over max_message_bytes (128): cut, counted, and the next message is intact. */
    nrecs = 0;
    char big[700];
    memset(big, 'L', 300);
    n = snprintf(big + 300, 200, "\n300 ");
    memset(big + 300 + n, 'O', 300);
    strcpy(big + 600 + n, "<13>after\n");
    send_all(fd, big, strlen(big));
    pump(&f, 3, 3000);
    CHECK_EQ(nrecs, 3);
    CHECK_EQ(lens[0], 128);
    CHECK_EQ(recs[0][0], 'L');
    CHECK_EQ(lens[1], 128);
    CHECK_EQ(recs[1][0], 'O');
    CHECK_STR(recs[2], "<13>after");
    CHECK_EQ(atomic_load(&f.in.truncated), 2);

    /* At close, an unterminated message is complete. */
    nrecs = 0;
    send_all(fd, "<13>last words", 14);
    close(fd);
    pump(&f, 1, 3000);
    CHECK_EQ(nrecs, 1);
    CHECK_STR(recs[0], "<13>last words");

    /* A real sender: logger(1), octet-counted over TCP and plain over UDP. */
    if (access("/usr/bin/logger", X_OK) == 0) {
        nrecs = 0;
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/logger -n 127.0.0.1 -P %d -T --octet-count -t lwtest 'hello tcp'",
                 tport);
        CHECK_EQ(system(cmd), 0);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/logger -n 127.0.0.1 -P %d -d --rfc3164 -t lwtest 'hello udp'", uport);
        CHECK_EQ(system(cmd), 0);
        pump(&f, 2, 3000);
        CHECK_EQ(nrecs, 2);
        int tcp_ok = 0, udp_ok = 0;
        for (size_t i = 0; i < nrecs; i++) {
            struct lw_syslog_msg m;
            if (lw_syslog_parse(recs[i], strlen(recs[i]), lw_now_ns(), &m) != 0)
                continue;
            bool app = m.app.n == 6 && memcmp(m.app.p, "lwtest", 6) == 0;
            tcp_ok += app && m.msg.n == 9 && memcmp(m.msg.p, "hello tcp", 9) == 0;
            udp_ok += app && m.msg.n == 9 && memcmp(m.msg.p, "hello udp", 9) == 0;
        }
        CHECK_EQ(tcp_ok, 1);
        CHECK_EQ(udp_ok, 1);
    }
    CHECK(atomic_load(&f.in.lines) >= 10);
    teardown(&f);
}

static void test_limits(void)
{
    struct fixture f;
    setup(&f, "listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]\nmax_connections: 1\n", 1);
    int uport = lw_syslog_bound_port(&f.in, 0), tport = lw_syslog_bound_port(&f.in, 1);

    /* A full queue drops datagrams, and counts them. */
    struct lw_batch *hold = lw_batch_new(9, NULL, 16);
    lw_batch_add(hold, "x", 1, 0, 0);
    CHECK_EQ(lw_queue_try_push(f.q, hold), LW_OK);
    for (int i = 0; i < 5; i++)
        send_udp(uport, "<13>dropped");
    int64_t deadline = lw_mono_ns() + 3 * LW_NS_PER_SEC;
    while (atomic_load(&f.in.dropped[LW_DROP_QUEUE_FULL]) < 5 && lw_mono_ns() < deadline)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK_EQ(atomic_load(&f.in.dropped[LW_DROP_QUEUE_FULL]), 5);
    lw_batch_free(lw_queue_pop(f.q, 0));

    /* Over max_connections: the second connection is closed. */
    int a = connect_tcp(tport);
    pump(&f, 1, 100);
    int b = connect_tcp(tport);
    char c;
    ssize_t r = -2;
    deadline = lw_mono_ns() + 3 * LW_NS_PER_SEC;
    struct timeval tv = {0, 10000};
    setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (lw_mono_ns() < deadline) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        r = recv(b, &c, 1, 0);
        if (r >= 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
    CHECK(r == 0 || (r < 0 && errno == ECONNRESET));
    close(b);

    /* Backpressure on TCP: with a queue of one batch and a slow consumer, nothing is lost. */
    nrecs = 0;
    struct lw_buf lines = {0};
    for (int i = 0; i < 20000; i++)
        lw_buf_printf(&lines, "<13>msg %d\n", i);
    int flags = 1;
    (void)flags;
    size_t sent = 0;
    deadline = lw_mono_ns() + 20 * LW_NS_PER_SEC;
    struct timeval stv = {0, 1000};
    setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof stv);
    int rounds = 0;
    while (nrecs < 20000 && lw_mono_ns() < deadline) {
        if (sent < lines.len) {
            ssize_t w = send(a, lines.p + sent, lines.len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0)
                sent += (size_t)w;
        }
        uv_run(&f.loop, UV_RUN_NOWAIT);
        /* Consume only every few rounds, so the queue is often full. */
        if (++rounds % 4 == 0) {
            struct lw_batch *bt = lw_queue_pop(f.q, 1);
            if (bt)
                take(bt);
        }
    }
    CHECK_EQ(nrecs, 20000);
    int bad = 0;
    for (size_t i = 0; i < nrecs; i++) {
        char want[32];
        snprintf(want, sizeof want, "<13>msg %zu", i);
        bad += strcmp(recs[i], want) != 0;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(atomic_load(&f.in.dropped[LW_DROP_QUEUE_FULL]), 5);
    close(a);
    lw_buf_free(&lines);
    teardown(&f);
}

static void test_unix(void)
{
    struct fixture f;
    char yaml[512], dpath[128], spath[128];
    snprintf(dpath, sizeof dpath, "%s/log.sock", dir);
    snprintf(spath, sizeof spath, "%s/stream.sock", dir);
    snprintf(yaml, sizeof yaml, "listen:\n  - unix://%s\n  - unix-stream://%s\n", dpath, spath);
    setup(&f, yaml, 16);
    CHECK_EQ(lw_syslog_bound_port(&f.in, 0), -1);

    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, dpath);
    const char *m = "<13>Nov 22 22:55:00 alice: via /dev/log";
    CHECK_EQ(sendto(fd, m, strlen(m), 0, (struct sockaddr *)&sa, sizeof sa), (long long)strlen(m));
    close(fd);
    pump(&f, 1, 3000);
    CHECK_EQ(nrecs, 1);
    CHECK_STR(recs[0], m);

    nrecs = 0;
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sa.sun_path, spath);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    send_all(fd, "<13>s1\n9 <13>s2\nx", 17);
    close(fd);
    pump(&f, 2, 3000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0], "<13>s1");
    CHECK_STR(recs[1], "<13>s2\nx");

    if (access("/usr/bin/logger", X_OK) == 0) {
        nrecs = 0;
        char cmd[256];
        snprintf(cmd, sizeof cmd, "/usr/bin/logger -u %s -t lwtest 'hello unix'", dpath);
        CHECK_EQ(system(cmd), 0);
        pump(&f, 1, 3000);
        CHECK_EQ(nrecs, 1);
        struct lw_syslog_msg msg;
        CHECK_EQ(lw_syslog_parse(recs[0], strlen(recs[0]), lw_now_ns(), &msg), 0);
        CHECK(msg.app.n == 6 && memcmp(msg.app.p, "lwtest", 6) == 0);
        CHECK(msg.msg.n == 10 && memcmp(msg.msg.p, "hello unix", 10) == 0);
    }
    teardown(&f);
    /* Stop removes the socket files. */
    CHECK(access(dpath, F_OK) != 0);
    CHECK(access(spath, F_OK) != 0);
}

/* A sample of the input's own metrics: the value of the line containing `what`, or -1. */
static long long metric(struct fixture *f, const char *what)
{
    struct lw_buf b = {0};
    f->in.ops->metrics(&f->in, &b);
    lw_buf_putc(&b, '\0');
    long long v = -1;
    const char *at = strstr(b.p, what);
    if (at) {
        const char *sp = strchr(at, ' ');
        if (sp)
            v = atoll(sp + 1);
    }
    lw_buf_free(&b);
    return v;
}

/* Waits (running the loop and taking records) until the server has closed fd: true then. */
static bool closed_by_server(struct fixture *f, int fd, int ms)
{
    int64_t deadline = lw_mono_ns() + ms * LW_NS_PER_MS;
    while (lw_mono_ns() < deadline) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct lw_batch *b = lw_queue_pop(f->q, 2);
        if (b)
            take(b);
        char c;
        ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
    return false;
}

/* Runs the loop for ms, taking records. */
static void spin(struct fixture *f, int ms)
{
    pump(f, SIZE_MAX, ms);
}

static size_t find_rec(const char *want)
{
    for (size_t i = 0; i < nrecs; i++)
        if (strcmp(recs[i], want) == 0)
            return i;
    return SIZE_MAX;
}

/* message_timeout: one byte every 100 ms does not keep a connection; idle_timeout still
 * closes a silent one; a well-behaved client is served throughout. */
static void test_timeouts(void)
{
    struct fixture f;
    setup(&f, "listen: tcp://127.0.0.1:0\nmessage_timeout: 600ms\nidle_timeout: 1500ms\n", 16);
    int port = lw_syslog_bound_port(&f.in, 0);
    int slow = connect_tcp(port), idle = connect_tcp(port), good = connect_tcp(port);
    send_all(slow, "<13>slow", 8);
    int sent = 0;
    int64_t deadline = lw_mono_ns() + 10 * LW_NS_PER_SEC;
    bool slow_closed = false;
    while (lw_mono_ns() < deadline && !slow_closed) {
        char m[32];
        int n = snprintf(m, sizeof m, "<13>good %d\n", sent++);
        send_all(good, m, (size_t)n);
        send_all(slow, "w", 1);
        slow_closed = closed_by_server(&f, slow, 100);
    }
    CHECK(slow_closed);
    CHECK_EQ(metric(&f, "event=\"message_timeout\""), 1);
    CHECK_EQ(metric(&f, "reason=\"unfinished\""), 1);
    /* The slow sender's bytes are kept, as one record. */
    bool kept = false;
    for (size_t i = 0; i < nrecs; i++)
        kept |= strncmp(recs[i], "<13>sloww", 9) == 0;
    CHECK(kept);
    /* The silent one goes at idle_timeout; the good one, sending, stays. */
    bool idle_closed = false;
    deadline = lw_mono_ns() + 10 * LW_NS_PER_SEC;
    while (lw_mono_ns() < deadline && !idle_closed) {
        char m[32];
        int n = snprintf(m, sizeof m, "<13>good %d\n", sent++);
        send_all(good, m, (size_t)n);
        idle_closed = closed_by_server(&f, idle, 100);
    }
    CHECK(idle_closed);
    CHECK_EQ(metric(&f, "event=\"idle_timeout\""), 1);
    close(good);
    int64_t until = lw_mono_ns() + 3 * LW_NS_PER_SEC;
    while (metric(&f, "event=\"closed\"") < 1 && lw_mono_ns() < until)
        spin(&f, 10);
    int got = 0;
    for (int i = 0; i < sent; i++) {
        char want[32];
        snprintf(want, sizeof want, "<13>good %d", i);
        got += find_rec(want) != SIZE_MAX;
    }
    CHECK_EQ(got, sent);
    CHECK_EQ(metric(&f, "event=\"accepted\""), 3);
    CHECK_EQ(metric(&f, "event=\"closed\""), 1);
    CHECK_EQ(metric(&f, "logwarden_syslog_connections{"), 0);
    close(slow);
    close(idle);
    teardown(&f);
}

/* At max_connections the connection quiet for longest is closed to admit a new one; with none
 * quiet for the grace (1 s), the new one is refused. */
static void test_evict(void)
{
    struct fixture f;
    setup(&f, "listen: tcp://127.0.0.1:0\nmax_connections: 2\n", 16);
    int port = lw_syslog_bound_port(&f.in, 0);
    int a = connect_tcp(port);
    spin(&f, 50);
    int b = connect_tcp(port);
    spin(&f, 1200); /* both quiet past the grace; a for longer */
    send_all(b, "<13>from b\n", 11);
    pump(&f, 1, 3000);
    CHECK_EQ(nrecs, 1);
    int c = connect_tcp(port); /* a goes: b has just completed a message */
    CHECK(closed_by_server(&f, a, 3000));
    CHECK_EQ(metric(&f, "event=\"evicted\""), 1);
    /* b (just sent) and c (just came) are both within the grace: d is refused. */
    int d = connect_tcp(port);
    CHECK(closed_by_server(&f, d, 3000));
    CHECK_EQ(metric(&f, "event=\"refused\""), 1);
    send_all(b, "<13>b again\n", 12);
    send_all(c, "<13>from c\n", 11);
    pump(&f, 3, 3000);
    CHECK(find_rec("<13>b again") != SIZE_MAX);
    CHECK(find_rec("<13>from c") != SIZE_MAX);
    CHECK_EQ(metric(&f, "event=\"accepted\""), 3);
    CHECK_EQ(metric(&f, "logwarden_syslog_connections{"), 2);
    close(a);
    close(b);
    close(c);
    close(d);
    teardown(&f);
}

/* What is cut (and kept) and what loses the framing (and closes the connection). */
static void test_framing(void)
{
    struct fixture f;
    setup(&f, "listen: tcp://127.0.0.1:0\nmax_message_bytes: 100\n", 16);
    int port = lw_syslog_bound_port(&f.in, 0);

    /* A count too small: the frame's rest is no frame. */
    int fd = connect_tcp(port);
    send_all(fd, "5 <13>ab\x01\x02junk", 15);
    CHECK(closed_by_server(&f, fd, 3000));
    close(fd);
    pump(&f, 2, 1000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0], "<13>a");
    CHECK_STR(recs[1], "b\x01\x02junk");
    CHECK_EQ(metric(&f, "event=\"framing_lost\""), 1);

    /* A count over the sane bound (64 MiB). */
    nrecs = 0;
    fd = connect_tcp(port);
    send_all(fd, "99999999 <13>x", 14);
    CHECK(closed_by_server(&f, fd, 3000));
    close(fd);
    CHECK_EQ(metric(&f, "event=\"framing_lost\""), 2);

    /* Digits without a space after a frame. */
    nrecs = 0;
    fd = connect_tcp(port);
    send_all(fd, "4 <1>a12x\n", 10);
    CHECK(closed_by_server(&f, fd, 3000));
    close(fd);
    CHECK_EQ(metric(&f, "event=\"framing_lost\""), 3);

    /* A frame's header cut by the end of the connection is an unfinished message. */
    nrecs = 0;
    fd = connect_tcp(port);
    send_all(fd, "4 <1>a12", 8);
    shutdown(fd, SHUT_WR);
    CHECK(closed_by_server(&f, fd, 3000));
    close(fd);
    pump(&f, 2, 1000);
    CHECK_EQ(nrecs, 2);
    CHECK_STR(recs[0], "<1>a");
    CHECK_STR(recs[1], "12");
    CHECK_EQ(metric(&f, "event=\"framing_lost\""), 3);
    CHECK_EQ(metric(&f, "event=\"closed\""), 1);
    CHECK_EQ(metric(&f, "reason=\"unfinished\""), 4);

    /* Newline framing: digits and binary bytes are a message like any other; a frame over
     * max_message_bytes, or a line, is cut and the next one is whole; a frame shorter than its
     * count at EOF is kept, cut. */
    nrecs = 0;
    fd = connect_tcp(port);
    struct lw_buf b = {0};
    lw_buf_puts(&b, "12x yz\n\x01\x02\x03 bin\n150 ");
    for (int i = 0; i < 150; i++)
        lw_buf_putc(&b, 'F');
    lw_buf_puts(&b, "<13>after frame\n");
    for (int i = 0; i < 150; i++)
        lw_buf_putc(&b, 'N');
    lw_buf_puts(&b, "\n<13>after line\n30 <13>short");
    send_all(fd, b.p, b.len);
    lw_buf_free(&b);
    shutdown(fd, SHUT_WR);
    CHECK(closed_by_server(&f, fd, 3000));
    close(fd);
    pump(&f, 7, 1000);
    CHECK_EQ(nrecs, 7);
    CHECK_STR(recs[0], "12x yz");
    CHECK_STR(recs[1], "\x01\x02\x03 bin");
    CHECK_EQ(lens[2], 100);
    CHECK_STR(recs[3], "<13>after frame");
    CHECK_EQ(lens[4], 100);
    CHECK_STR(recs[5], "<13>after line");
    CHECK_STR(recs[6], "<13>short");
    CHECK_EQ(metric(&f, "reason=\"too_long\""), 2);
    /* What was left where the framing was lost (three times) is kept, as an unfinished
     * message; and "12", and "<13>short". */
    CHECK_EQ(metric(&f, "reason=\"unfinished\""), 5);
    CHECK_EQ(metric(&f, "event=\"framing_lost\""), 3);
    CHECK_EQ(metric(&f, "event=\"closed\""), 2);
    teardown(&f);
}

/* source_ip: the TCP peer's address (IPv4, IPv6 without brackets), the unix socket's path. */
static void test_source_ip(void)
{
    struct fixture f;
    char yaml[256], spath[128];
    snprintf(spath, sizeof spath, "%s/src.sock", dir);
    snprintf(yaml, sizeof yaml, "listen: [tcp://127.0.0.1:0, 'tcp://[::1]:0', unix-stream://%s]\n",
             spath);
    setup(&f, yaml, 16);
    int fd = connect_tcp(lw_syslog_bound_port(&f.in, 0));
    send_all(fd, "<13>v4\n", 7);
    close(fd);
    pump(&f, 1, 3000);
    CHECK_EQ(nrecs, 1);
    CHECK_STR(srcs[0], "127.0.0.1");

    fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd >= 0) {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                                  .sin6_port = htons((uint16_t)lw_syslog_bound_port(&f.in, 1))};
        sa.sin6_addr = in6addr_loopback;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            nrecs = 0;
            send_all(fd, "<13>v6\n", 7);
            close(fd);
            pump(&f, 1, 3000);
            CHECK_EQ(nrecs, 1);
            CHECK_STR(srcs[0], "::1");
        } else {
            close(fd);
        }
    }

    teardown(&f);

    /* A dual-stack listener gives an IPv4 peer as IPv4, not as ::ffff:127.0.0.1. */
    snprintf(yaml, sizeof yaml, "listen: ['tcp://[::]:0', unix-stream://%s]\n", spath);
    setup(&f, yaml, 16);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s4 = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)lw_syslog_bound_port(&f.in, 0))};
    s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&s4, sizeof s4) == 0) { /* unless bindv6only */
        send_all(fd, "<13>mapped\n", 11);
        close(fd);
        pump(&f, 1, 3000);
        CHECK_EQ(nrecs, 1);
        CHECK_STR(srcs[0], "127.0.0.1");
    } else {
        close(fd);
    }

    nrecs = 0;
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un su = {.sun_family = AF_UNIX};
    strcpy(su.sun_path, spath);
    CHECK_EQ(connect(fd, (struct sockaddr *)&su, sizeof su), 0);
    send_all(fd, "<13>unix\n", 9);
    close(fd);
    pump(&f, 1, 3000);
    CHECK_EQ(nrecs, 1);
    CHECK_STR(srcs[0], spath);
    teardown(&f);
}

/* A stop half-closes connections and reads on: what the peer sends after it saw the stop's
 * EOF arrives, until the peer closes. */
static void test_stop_drain(void)
{
    struct fixture f;
    setup(&f, "listen: tcp://127.0.0.1:0\n", 16);
    int fd = connect_tcp(lw_syslog_bound_port(&f.in, 0));
    int quiet = connect_tcp(lw_syslog_bound_port(&f.in, 0)); /* never closes its side */
    send_all(fd, "<13>before\n", 11);
    pump(&f, 1, 3000);
    f.in.ops->stop(&f.in);
    /* The peer sees EOF while its connection still takes data. */
    char c;
    ssize_t r = -1;
    int64_t deadline = lw_mono_ns() + 3 * LW_NS_PER_SEC;
    while (lw_mono_ns() < deadline) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        r = recv(fd, &c, 1, MSG_DONTWAIT);
        if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
    CHECK_EQ(r, 0);
    send_all(fd, "<13>after the stop\n12 <13>last one", 35);
    close(fd);
    deadline = lw_mono_ns() + 5 * LW_NS_PER_SEC;
    while (lw_mono_ns() < deadline && uv_run(&f.loop, UV_RUN_NOWAIT)) {
        struct lw_batch *b = lw_queue_pop(f.q, 2);
        if (b)
            take(b);
    }
    struct lw_batch *b;
    while ((b = lw_queue_pop(f.q, 0)))
        take(b);
    CHECK_EQ(nrecs, 3);
    CHECK_STR(recs[1], "<13>after the stop");
    CHECK_STR(recs[2], "<13>last one");
    /* The loop ended: the quiet one was closed too, after a second of silence. */
    CHECK_EQ(uv_loop_alive(&f.loop), 0);
    char q;
    CHECK_EQ(recv(quiet, &q, 1, MSG_DONTWAIT), 0);
    close(quiet);
    CHECK_EQ(metric(&f, "event=\"closed\""), 2);
    CHECK_EQ(metric(&f, "reason=\"unfinished\""), 0);
    teardown(&f);
}

static void test_config(void)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"max_connections: 3\n", "t.yaml:1:1:"},
        {"listen: [udp://127.0.0.1:5514, http://x:1]\n", "t.yaml:1:32:"},
        {"listen:\n  - tcp://127.0.0.1:99999\n", "t.yaml:2:5:"},
        {"listen: udp://example.com:514\n", "t.yaml:1:9:"},
        {"listen: unix://relative.sock\n", "t.yaml:1:9:"},
        {"listen: udp://:514\nmax_message_bytes: lots\n", "t.yaml:1:9:"},
        {"listen: udp://127.0.0.1:1\nidle_timeout: 5\n", "t.yaml:2:15:"},
        {"listen: tcp://127.0.0.1:1\nmessage_timeout: soon\n", "t.yaml:2:18:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lw_yaml_doc *doc = NULL;
        struct lw_diag diag = {0};
        struct lw_input in = {.ops = lw_input_find("syslog"), .name = "syslog"};
        CHECK_EQ(lw_yaml_load_buf(&doc, "t.yaml", cases[i].yaml, strlen(cases[i].yaml), &diag), 0);
        CHECK_EQ(in.ops->init(&in, doc, doc->root, &diag), LW_EINVAL);
        CHECK(diag.n >= 1);
        bool ok = diag.n && strncmp(diag.msgs[0], cases[i].want, strlen(cases[i].want)) == 0;
        CHECK(ok);
        if (!ok && diag.n)
            fprintf(stderr, "  case %zu got: %s\n", i, diag.msgs[0]);
        in.ops->free(&in);
        lw_diag_free(&diag);
        lw_yaml_free(doc);
    }
    /* IPv6 and localhost are accepted. */
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    struct lw_input in = {.ops = lw_input_find("syslog"), .name = "syslog"};
    const char *y = "listen: ['udp://[::1]:5514', tcp://localhost:5514]\n";
    lw_yaml_load_buf(&doc, "t.yaml", y, strlen(y), &diag);
    CHECK_EQ(in.ops->init(&in, doc, doc->root, &diag), 0);
    CHECK_EQ(diag.n, 0);
    in.ops->free(&in);
    lw_diag_free(&diag);
    lw_yaml_free(doc);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lw_test_syslog.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    lw_log_set_level(LW_ERROR);
    test_config();
    test_udp_tcp();
    test_limits();
    test_unix();
    test_timeouts();
    test_evict();
    test_framing();
    test_source_ip();
    test_stop_drain();
    rmdir(dir);
    return test_summary();
}
