/* test_deliver.c: the sink worker against a sink that always asks to retry: a notify.max_age
 * lowered while the worker runs (a reload) makes its next attempt give up. */
#include "app.h"
#include "store.h"
#include "test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[] = "/tmp/lw_test_deliver_XXXXXX";
static atomic_int calls;

/* A receiver that is down: every attempt is a temporary failure, retried 50 ms later. */
static int deliver_later(struct lw_sink *s, const char *json, size_t len, int64_t *retry_after,
                         struct lw_err *err)
{
    (void)s, (void)json, (void)len;
    atomic_fetch_add(&calls, 1);
    *retry_after = 50 * LW_NS_PER_MS;
    return lw_err_set(err, LW_EAGAIN, "receiver down");
}

static const struct lw_sink_ops later_ops = {.type = "later", .deliver = deliver_later};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls the outbox until want_failed rows have failed, for at most 5 s. */
static bool wait_counts(struct lw_store *st, int64_t want_failed)
{
    for (int i = 0; i < 500; i++) {
        int64_t p = 0, s = 0, f = 0;
        lw_store_outbox_counts(st, &p, &s, &f);
        if (f == want_failed)
            return true;
        sleep_ms(10);
    }
    return false;
}

static void test_reloaded_max_age(void)
{
    char path[256];
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    struct lw_sink sink = {.ops = &later_ops, .name = "down"};
    snprintf(path, sizeof path, "%s/s.db", dir);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
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
    CHECK(wait_counts(st, 1));
    lw_store_outbox_counts(st, &p, &s, &f);
    CHECK_EQ(p, 0);
    CHECK_EQ(f, 1);

    lw_workers_stop(&w, 1, 0);
    lw_store_close(st);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    lw_log_set_level(LW_ERROR);
    test_reloaded_max_age();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
