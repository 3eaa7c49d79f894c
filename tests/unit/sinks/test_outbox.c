/* test_outbox.c: the sink worker and lw_deliver_now against sinks that answer from a script:
 * rows delivered once each and in order through temporary and permanent failures, a reloaded
 * notify.max_age, and the synchronous delivery of replay --notify. */
#include "outbox.h"
#include "store.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/lw_test_outbox_XXXXXX";

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A receiver that is down: every attempt is a temporary failure, retried 50 ms later. */
static atomic_int calls;

static int deliver_later(struct lw_sink *s, const char *json, size_t len, int64_t *retry_after,
                         struct lw_err *err)
{
    (void)s, (void)json, (void)len;
    atomic_fetch_add(&calls, 1);
    *retry_after = 50 * LW_NS_PER_MS;
    return lw_err_set(err, LW_EAGAIN, "receiver down");
}

static const struct lw_sink_ops later_ops = {.type = "later", .deliver = deliver_later};

/* A receiver that answers each payload from its first character: 't' fails once for a while
 * (temporary, 20 ms), 'p' fails for good, anything else is accepted. It records every attempt
 * (the worker thread writes, the test reads). */
struct script {
    pthread_mutex_t mu;
    char seen[64][32];
    int n;
    bool failed_t; /* the 't' payload's one failure is spent */
};

static int deliver_scripted(struct lw_sink *s, const char *json, size_t len, int64_t *retry_after,
                            struct lw_err *err)
{
    struct script *sc = s->ctx;
    int rc = 0;
    pthread_mutex_lock(&sc->mu);
    if (sc->n < 64)
        snprintf(sc->seen[sc->n++], sizeof sc->seen[0], "%.*s", (int)len, json);
    if (json[0] == 't' && !sc->failed_t) {
        sc->failed_t = true;
        *retry_after = 20 * LW_NS_PER_MS;
        rc = lw_err_set(err, LW_EAGAIN, "HTTP 503");
    } else if (json[0] == 'p') {
        rc = lw_err_set(err, LW_EINVAL, "HTTP 400");
    }
    pthread_mutex_unlock(&sc->mu);
    return rc;
}

static const struct lw_sink_ops scripted_ops = {.type = "scripted", .deliver = deliver_scripted};

static int script_count(struct script *sc)
{
    pthread_mutex_lock(&sc->mu);
    int n = sc->n;
    pthread_mutex_unlock(&sc->mu);
    return n;
}

/* Polls until cond(st) or 5 s have passed. */
static bool wait_until(struct lw_store *st, bool (*cond)(struct lw_store *st, void *arg), void *arg)
{
    for (int i = 0; i < 500; i++) {
        if (cond(st, arg))
            return true;
        sleep_ms(10);
    }
    return false;
}

static bool failed_is(struct lw_store *st, void *arg)
{
    int64_t p = 0, s = 0, f = 0;
    lw_store_outbox_counts(st, &p, &s, &f);
    return f == *(int64_t *)arg;
}

static bool none_pending(struct lw_store *st, void *arg)
{
    (void)arg;
    int64_t p = -1;
    lw_store_outbox_counts(st, &p, NULL, NULL);
    return p == 0;
}

static struct lw_store *open_state(const char *name, char *path, size_t size)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    snprintf(path, size, "%s/%s", dir, name);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    return st;
}

static void test_reloaded_max_age(void)
{
    char path[256];
    struct lw_err err = {0};
    struct lw_sink sink = {.ops = &later_ops, .name = "down"};
    struct lw_store *st = open_state("max_age.db", path, sizeof path);
    struct lw_outbox_row o = {"down", "[{\"status\":\"firing\"}]"};
    struct lw_flush fl = {.outbox = &o, .noutbox = 1};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);

    /* Started with a day of retries: it keeps retrying. */
    struct lw_worker *w = lw_worker_start(&sink, path, 24 * 3600 * LW_NS_PER_SEC);
    CHECK(w != NULL);
    for (int i = 0; i < 500 && atomic_load(&calls) < 3; i++)
        sleep_ms(10);
    CHECK(atomic_load(&calls) >= 3);
    int64_t p = 0, s = 0, f = 0;
    lw_store_outbox_counts(st, &p, &s, &f);
    CHECK_EQ(p, 1);
    CHECK_EQ(f, 0);

    /* A reload lowers max_age below the notification's age: the next attempt gives up. */
    sleep_ms(5);
    lw_worker_set_max_age(w, LW_NS_PER_MS);
    int64_t one = 1;
    CHECK(wait_until(st, failed_is, &one));
    lw_store_outbox_counts(st, &p, &s, &f);
    CHECK_EQ(p, 0);
    CHECK_EQ(f, 1);

    lw_workers_stop(&w, 1, 0);
    CHECK(w == NULL);
    lw_store_close(st);
}

/* Four rows of one sink (a temporary failure, a permanent one among them) and one of another
 * sink: the worker sends its own rows in order, each until settled and never again, and
 * leaves the other sink's row alone. */
static void test_order_once(void)
{
    char path[256];
    struct lw_err err = {0};
    struct script sc = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct lw_sink sink = {.ops = &scripted_ops, .name = "hook", .ctx = &sc};
    struct lw_store *st = open_state("order.db", path, sizeof path);
    struct lw_outbox_row o[] = {
        {"hook", "a1"}, {"hook", "t2"}, {"other", "x"}, {"hook", "p3"}, {"hook", "a4"}};
    struct lw_flush fl = {.outbox = o, .noutbox = 5};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);

    /* The log goes to a file: the lines when the sink starts failing and when it works again. */
    FILE *log = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(log), 2);
    int64_t t0 = lw_now_ns();
    int level = lw_log_get_level();
    lw_log_set_level(LW_INFO);
    struct lw_worker *w = lw_worker_start(&sink, path, 24 * 3600 * LW_NS_PER_SEC);
    CHECK(w != NULL);
    lw_worker_wake(w);
    for (int i = 0; i < 500 && script_count(&sc) < 5; i++)
        sleep_ms(10);
    sleep_ms(100); /* a row sent twice would come now */
    /* Its delivery state (/health, /metrics): 3 sent, p3 given up, t2 retried once; the last
     * attempt (a4) worked: not failing, no error. */
    struct lw_worker_state ws;
    lw_worker_state(w, &ws);
    CHECK_EQ(ws.sent, 3);
    CHECK_EQ(ws.failed, 1);
    CHECK_EQ(ws.retries, 1);
    CHECK(ws.last_success_ns >= t0);
    CHECK_EQ(ws.failing_since_ns, 0);
    CHECK_STR(ws.last_error, "");
    lw_workers_stop(&w, 1, 0);
    lw_log_set_level(level);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char text[4096] = {0};
    rewind(log);
    size_t got = fread(text, 1, sizeof text - 1, log);
    text[got] = 0;
    fclose(log);
    char *f1 = strstr(text, "[sink:hook] failing: HTTP 503");
    char *r1 = f1 ? strstr(f1, "[sink:hook] delivering again") : NULL;
    char *f2 = r1 ? strstr(r1, "[sink:hook] failing: HTTP 400") : NULL;
    char *r2 = f2 ? strstr(f2, "[sink:hook] delivering again") : NULL;
    CHECK(r2 != NULL);
    if (!r2)
        fprintf(stderr, "log:\n%s", text);
    struct lw_worker_state none;
    lw_worker_state(NULL, &none);
    CHECK_EQ(none.sent, 0);

    const char *want[] = {"a1", "t2", "t2", "p3", "a4"};
    CHECK_EQ(sc.n, 5);
    for (int i = 0; i < 5 && i < sc.n; i++)
        CHECK_STR(sc.seen[i], want[i]);
    int64_t p = 0, s = 0, f = 0;
    lw_store_outbox_counts(st, &p, &s, &f);
    CHECK_EQ(p, 1); /* the other sink's */
    CHECK_EQ(s, 3);
    CHECK_EQ(f, 1);
    struct lw_outbox_item it;
    CHECK_EQ(lw_store_outbox_head(st, "hook", &it), LW_ENOENT);
    CHECK_EQ(lw_store_outbox_head(st, "other", &it), 0);
    CHECK_EQ(it.attempts, 0);
    lw_outbox_item_free(&it);
    lw_store_close(st);
}

/* Rows written while the worker waits are sent after a wake, without waiting for its poll;
 * a stop with nothing pending returns at once. */
static void test_wake_and_stop(void)
{
    char path[256];
    struct lw_err err = {0};
    struct script sc = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct lw_sink sink = {.ops = &scripted_ops, .name = "hook", .ctx = &sc};
    struct lw_store *st = open_state("wake.db", path, sizeof path);
    struct lw_worker *w = lw_worker_start(&sink, path, 24 * 3600 * LW_NS_PER_SEC);
    CHECK(w != NULL);
    sleep_ms(50); /* the worker found the outbox empty and waits */
    struct lw_outbox_row o = {"hook", "a1"};
    struct lw_flush fl = {.outbox = &o, .noutbox = 1};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);
    int64_t woken = lw_mono_ns();
    lw_worker_wake(w);
    CHECK(wait_until(st, none_pending, NULL));
    /* Its poll would have come ~950 ms after the flush. */
    CHECK(lw_mono_ns() - woken < 700 * LW_NS_PER_MS);
    CHECK_EQ(script_count(&sc), 1);
    int64_t t0 = lw_mono_ns();
    lw_workers_stop(&w, 1, 5 * LW_NS_PER_SEC);
    CHECK(lw_mono_ns() - t0 < 2 * LW_NS_PER_SEC);
    lw_worker_wake(NULL);
    lw_store_close(st);
}

static void test_deliver_now(void)
{
    struct script sc = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct lw_sink sink = {.ops = &scripted_ops, .name = "hook", .ctx = &sc};
    /* A temporary failure is retried (after its Retry-After), then accepted. */
    CHECK_EQ(lw_deliver_now(&sink, "t1", 2, 10 * LW_NS_PER_SEC), 0);
    CHECK_EQ(sc.n, 2);
    /* A permanent one is not retried. */
    CHECK_EQ(lw_deliver_now(&sink, "p2", 2, 10 * LW_NS_PER_SEC), LW_EINVAL);
    CHECK_EQ(sc.n, 3);
    /* A receiver that stays down: given up once max_age has passed. */
    struct lw_sink down = {.ops = &later_ops, .name = "down"};
    atomic_store(&calls, 0);
    CHECK_EQ(lw_deliver_now(&down, "x", 1, 120 * LW_NS_PER_MS), LW_EAGAIN);
    CHECK(atomic_load(&calls) >= 2 && atomic_load(&calls) <= 5);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    lw_log_set_level(LW_ERROR);
    test_reloaded_max_age();
    test_order_once();
    test_wake_and_stop();
    test_deliver_now();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
