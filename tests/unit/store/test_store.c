/* test_store.c: unit tests for store.c: schema and migrations, flush atomicity and upserts,
 * loaders, checkpoints, the outbox, two connections writing from two threads, which files are
 * ours (application_id, quick_check, mode 0600) and the daemon's lock. */
#include "lw.h"
#include "store.h"
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

/* The checkpoints table of schema versions 1 to 3, as they created it. */
#define OLD_CHECKPOINTS                                                                            \
    "CREATE TABLE checkpoints ("                                                                   \
    "  input TEXT NOT NULL,"                                                                       \
    "  path TEXT NOT NULL,"                                                                        \
    "  dev INTEGER NOT NULL,"                                                                      \
    "  ino INTEGER NOT NULL,"                                                                      \
    "  off INTEGER NOT NULL,"                                                                      \
    "  PRIMARY KEY (input, path)"                                                                  \
    ") WITHOUT ROWID;"

/* Takes a current file back to the bucket table of versions 2 to 4 (before shards), so that a
 * test can fake an older file; the real version 4 file is data/state-v4.db. */
#define OLD_BUCKETS                                                                                \
    "DROP TABLE shards; DROP TABLE buckets;"                                                       \
    "CREATE TABLE buckets (alert TEXT NOT NULL, grp TEXT NOT NULL, bucket INTEGER NOT NULL,"       \
    "  res_s INTEGER NOT NULL, count REAL NOT NULL, matched REAL NOT NULL, sum REAL NOT NULL,"     \
    "  min REAL NOT NULL, max REAL NOT NULL, sketch BLOB, PRIMARY KEY (alert, grp, bucket));"      \
    "CREATE INDEX buckets_by_end ON buckets (bucket * res_s);"

static void tmp_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

/* Runs SQL on the file behind the store's back, the way `sqlite3 logwarden.db` would. */
static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* A position as the store keeps it: bytes it does not read. */
static struct lw_ckpt_row ckrow(const char *input, const char *stream, const char *pos)
{
    return (struct lw_ckpt_row){input, stream, pos, strlen(pos)};
}

/* The saved position of (input, stream) as a string in out (64 bytes), or the error. */
static int ckget(struct lw_store *st, const char *input, const char *stream, char *out)
{
    size_t n = 0;
    int rc = lw_store_ckpt_get(st, input, stream, out, 63, &n);
    out[rc == 0 ? n : 0] = '\0';
    return rc;
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* Loader callbacks: count rows and remember the last one. */
struct seen {
    int n;
    struct lw_bucket_row b;
    struct lw_state_row s;
    char alert[64], group[64], fp[64];
};

static void on_bucket(const struct lw_bucket_row *row, void *payload)
{
    struct seen *s = payload;
    s->n++;
    s->b = *row;
    snprintf(s->alert, sizeof s->alert, "%s", row->alert);
    snprintf(s->group, sizeof s->group, "%s", row->group);
    s->b.alert = s->alert;
    s->b.group = s->group;
}

static void on_state(const struct lw_state_row *row, void *payload)
{
    struct seen *s = payload;
    s->n++;
    s->s = *row;
    snprintf(s->alert, sizeof s->alert, "%s", row->alert);
    snprintf(s->fp, sizeof s->fp, "%s", row->fingerprint);
    snprintf(s->group, sizeof s->group, "%s", row->group);
    s->s.alert = s->alert;
    s->s.fingerprint = s->fp;
    s->s.group = s->group;
}

static int count_buckets(struct lw_store *st)
{
    struct seen s = {0};
    struct lw_err err = {0};
    CHECK_EQ(lw_store_load_buckets(st, on_bucket, &s, &err), 0);
    return s.n;
}

static int count_states(struct lw_store *st)
{
    struct seen s = {0};
    struct lw_err err = {0};
    CHECK_EQ(lw_store_load_states(st, on_state, &s, &err), 0);
    return s.n;
}

static void test_schema(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512];

    CHECK_EQ(lw_store_open(&st, ":memory:", &err), 0);
    CHECK_EQ(lw_store_schema_version(st), LW_STORE_SCHEMA_VERSION);
    lw_store_close(st);
    lw_store_close(NULL);

    tmp_path(path, sizeof path, "schema.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "SELECT version FROM schema_version"), LW_STORE_SCHEMA_VERSION);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('checkpoints', 'buckets', 'alert_states', 'outbox')"),
             4);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM schema_version"), 1);
    /* WAL is a property of the file: it stays. */
    CHECK_EQ(raw_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

    /* Reopening an up-to-date file changes nothing. */
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM schema_version"), 1);

    /* A file from a newer logwarden is refused, and says so. */
    CHECK_EQ(raw_exec(path, "UPDATE schema_version SET version = 99"), SQLITE_OK);
    st = (struct lw_store *)&err; /* must be reset to NULL on failure */
    CHECK_EQ(lw_store_open(&st, path, &err), LW_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "newer") != NULL);
    CHECK(strstr(err.msg, "99") != NULL);

    /* Not a database at all. */
    tmp_path(path, sizeof path, "garbage.db");
    FILE *f = fopen(path, "w");
    fputs("this is not an SQLite file, not even close, it is just text......................", f);
    fclose(f);
    CHECK(lw_store_open(&st, path, &err) < 0);
    CHECK(strstr(err.msg, "garbage.db") != NULL);
}

/* A bucket source: n rows from row (bucket, bucket + 1, ...); put fails at row fail_at. */
struct src {
    struct lw_bucket_row row;
    int n, fail_at;
};

static int fail_put(void *ctx, const struct lw_bucket_row *row)
{
    (void)ctx;
    (void)row;
    return -1;
}

static int bucket_src(void *payload, lw_bucket_put_fn *put, void *ctx)
{
    struct src *s = payload;
    for (int i = 0; i < s->n; i++) {
        struct lw_bucket_row r = s->row;
        r.bucket += i;
        int rc = i == s->fail_at ? fail_put(ctx, &r) : put(ctx, &r);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void test_reopen_and_upsert(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char ck[64];
    char path[512];
    tmp_path(path, sizeof path, "reopen.db");

    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_ckpt_row cks[] = {
        ckrow("nginx", "/var/log/nginx/access.log", "-16:42:1000"),
        ckrow("syslog", "", "7"),
    };
    struct lw_bucket_row b = {"HighErrorRate", "{}", 1, 1710053746, 10, 2, 0, 0, 0};
    struct lw_state_row s = {
        "SshBruteForce", "5f0c2a9e41d7b3a8", "{\"ip\":\"203.0.113.7\"}", LW_PENDING, 100, 0, 3.5};
    struct lw_outbox_row o = {"hook", "[{\"status\":\"firing\"}]"};
    struct lw_flush fl = {cks, 2, &b, 1, &s, 1, &o, 1, 0};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);
    lw_store_close(st);

    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(ckget(st, "nginx", "/var/log/nginx/access.log", ck), 0);
    CHECK_STR(ck, "-16:42:1000");
    CHECK_EQ(ckget(st, "syslog", "", ck), 0);
    CHECK_STR(ck, "7");
    CHECK_EQ(ckget(st, "nginx", "/other", ck), LW_ENOENT);
    /* Bytes, not text: a NUL inside is kept; a buffer too small is refused. */
    static const char bin[] = {'a', 0, 'b'};
    struct lw_ckpt_row brow = {"k", "t/0", bin, sizeof bin};
    struct lw_flush bfl = {&brow, 1};
    CHECK_EQ(lw_store_flush(st, &bfl, &err), 0);
    char got[8];
    size_t gotn = 0;
    CHECK_EQ(lw_store_ckpt_get(st, "k", "t/0", got, sizeof got, &gotn), 0);
    CHECK(gotn == 3 && !memcmp(got, bin, 3));
    CHECK_EQ(lw_store_ckpt_get(st, "k", "t/0", got, 2, &gotn), LW_EINVAL);

    struct seen seen = {0};
    CHECK_EQ(lw_store_load_buckets(st, on_bucket, &seen, &err), 0);
    CHECK_EQ(seen.n, 1);
    CHECK_STR(seen.b.alert, "HighErrorRate");
    CHECK_STR(seen.b.group, "{}");
    CHECK_EQ(seen.b.bucket, 1710053746);
    CHECK_EQ(seen.b.count, 10);
    CHECK_EQ(seen.b.matched, 2);

    memset(&seen, 0, sizeof seen);
    CHECK_EQ(lw_store_load_states(st, on_state, &seen, &err), 0);
    CHECK_EQ(seen.n, 1);
    CHECK_STR(seen.s.fingerprint, "5f0c2a9e41d7b3a8");
    CHECK_STR(seen.s.group, "{\"ip\":\"203.0.113.7\"}");
    CHECK_EQ(seen.s.state, LW_PENDING);
    CHECK_EQ(seen.s.active_since_ns, 100);
    CHECK(seen.s.value == 3.5);

    struct lw_outbox_item it;
    CHECK_EQ(lw_store_outbox_head(st, "hook", &it), 0);
    CHECK_STR(it.payload, "[{\"status\":\"firing\"}]");
    CHECK_STR(it.sink, "hook");
    CHECK_EQ(it.attempts, 0);
    CHECK_EQ(it.next_ns, it.created_ns);
    CHECK(it.created_ns > 0);
    lw_outbox_item_free(&it);

    /* Upserts replace values (never add), keep one row per key. */
    cks[0] = ckrow("nginx", "/var/log/nginx/access.log", "-16:42:2000");
    b.count = 4;
    b.matched = 1;
    b.max = 9.25;
    s.state = LW_FIRING;
    s.fired_ns = 200;
    struct lw_flush fl2 = {cks, 1, &b, 1, &s, 1, NULL, 0, 0};
    CHECK_EQ(lw_store_flush(st, &fl2, &err), 0);
    CHECK_EQ(ckget(st, "nginx", "/var/log/nginx/access.log", ck), 0);
    CHECK_STR(ck, "-16:42:2000");
    memset(&seen, 0, sizeof seen);
    CHECK_EQ(lw_store_load_buckets(st, on_bucket, &seen, &err), 0);
    CHECK_EQ(seen.n, 1);
    CHECK_EQ(seen.b.count, 4);
    CHECK_EQ(seen.b.matched, 1);
    CHECK(seen.b.max == 9.25);
    memset(&seen, 0, sizeof seen);
    CHECK_EQ(lw_store_load_states(st, on_state, &seen, &err), 0);
    CHECK_EQ(seen.n, 1);
    CHECK_EQ(seen.s.state, LW_FIRING);
    CHECK_EQ(seen.s.fired_ns, 200);

    /* Another bucket of the same group is a new row. */
    struct lw_bucket_row b2 = b;
    b2.bucket++;
    struct lw_flush fl3 = {NULL, 0, &b2, 1, NULL, 0, NULL, 0, 0};
    CHECK_EQ(lw_store_flush(st, &fl3, &err), 0);
    CHECK_EQ(count_buckets(st), 2);

    /* Bucket rows from a source: stored in the same transaction; a source that fails rolls
     * back the whole flush, the checkpoint with it. */
    struct src src = {b2, 3, -1};
    cks[0] = ckrow("nginx", "/var/log/nginx/access.log", "-16:42:3000");
    struct lw_flush fl5 = {
        .ckpts = cks, .nckpts = 1, .bucket_src = bucket_src, .bucket_src_payload = &src};
    CHECK_EQ(lw_store_flush(st, &fl5, &err), 0);
    CHECK_EQ(count_buckets(st), 4); /* b2 again (an upsert) and two new ones */
    src = (struct src){b2, 3, 2};
    src.row.bucket += 10;
    cks[0] = ckrow("nginx", "/var/log/nginx/access.log", "-16:42:4000");
    CHECK(lw_store_flush(st, &fl5, &err) != 0);
    CHECK_EQ(count_buckets(st), 4);
    CHECK_EQ(ckget(st, "nginx", "/var/log/nginx/access.log", ck), 0);
    CHECK_STR(ck, "-16:42:3000");

    /* Inactive deletes the state row. */
    s.state = LW_INACTIVE;
    struct lw_flush fl4 = {NULL, 0, NULL, 0, &s, 1, NULL, 0, 0};
    CHECK_EQ(lw_store_flush(st, &fl4, &err), 0);
    CHECK_EQ(count_states(st), 0);
    lw_store_close(st);
}

static void test_expire(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    CHECK_EQ(lw_store_open(&st, ":memory:", &err), 0);
    /* Ends: 10*10 = 100 s, 15*10 = 150 s, 20*10 = 200 s. */
    struct lw_bucket_row b[] = {
        {"A", "{}", 10, 10, 1, 0, 0, 0, 0},
        {"A", "{}", 10, 15, 1, 0, 0, 0, 0},
        {"A", "{}", 10, 20, 1, 0, 0, 0, 0},
    };
    struct lw_flush fl = {NULL, 0, b, 3, NULL, 0, NULL, 0, 0};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);
    CHECK_EQ(count_buckets(st), 3);

    /* End 150 s is not before 150 s: only the first goes. */
    struct lw_flush ex = {.expire_before_ns = 150 * LW_NS_PER_SEC};
    CHECK_EQ(lw_store_flush(st, &ex, &err), 0);
    CHECK_EQ(count_buckets(st), 2);
    ex.expire_before_ns = 150 * LW_NS_PER_SEC + 1;
    CHECK_EQ(lw_store_flush(st, &ex, &err), 0);
    CHECK_EQ(count_buckets(st), 1);
    lw_store_close(st);
}

static void test_flush_atomic(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char ck[64];
    char path[512];
    tmp_path(path, sizeof path, "atomic.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);

    struct lw_ckpt_row c = ckrow("nginx", "/a.log", "1:2:300");
    struct lw_bucket_row b = {"A", "{}", 1, 5, 1, 0, 0, 0, 0};
    struct lw_state_row s = {"A", "0000000000000001", "{}", LW_FIRING, 1, 2, 3};
    /* The second outbox row breaks a NOT NULL constraint after everything else was written. */
    struct lw_outbox_row o[] = {{"hook", "[]"}, {NULL, "[]"}};
    struct lw_flush fl = {&c, 1, &b, 1, &s, 1, o, 2, 0};
    memset(&err, 0, sizeof err);
    CHECK_EQ(lw_store_flush(st, &fl, &err), LW_EIO);
    CHECK_EQ(err.code, LW_EIO);
    CHECK(strstr(err.msg, "outbox") != NULL);
    CHECK_EQ(ckget(st, "nginx", "/a.log", ck), LW_ENOENT);
    CHECK_EQ(count_buckets(st), 0);
    CHECK_EQ(count_states(st), 0);
    int64_t p = -1, se = -1, f = -1;
    CHECK_EQ(lw_store_outbox_counts(st, &p, &se, &f), 0);
    CHECK_EQ(p, 0);

    /* The handle still works after the rollback. */
    fl.noutbox = 1;
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);
    CHECK_EQ(ckget(st, "nginx", "/a.log", ck), 0);
    CHECK_EQ(count_buckets(st), 1);
    lw_store_close(st);

    /* And from another connection, nothing of the failed flush was ever visible. */
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM outbox"), 1);
}

static void test_outbox(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    struct lw_outbox_item it;
    char path[512];
    tmp_path(path, sizeof path, "outbox.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);

    struct lw_outbox_row o[] = {{"a", "[1]"}, {"b", "[2]"}, {"a", "[3]"}, {"a", "[4]"}};
    struct lw_flush fl = {.outbox = o, .noutbox = 4};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);

    CHECK_EQ(lw_store_outbox_head(st, "nope", &it), LW_ENOENT);
    CHECK_EQ(lw_store_outbox_head(st, "a", &it), 0);
    CHECK_STR(it.payload, "[1]");
    int64_t first = it.id;
    lw_outbox_item_free(&it);

    /* A retry keeps the item at the head (order is kept), with its schedule and error. */
    CHECK_EQ(lw_store_outbox_retry(st, first, 12345, "HTTP 503"), 0);
    CHECK_EQ(lw_store_outbox_head(st, "a", &it), 0);
    CHECK_EQ(it.id, first);
    CHECK_EQ(it.attempts, 1);
    CHECK_EQ(it.next_ns, 12345);
    lw_outbox_item_free(&it);
    CHECK_EQ(lw_store_outbox_retry(st, first, 23456, "HTTP 503"), 0);

    CHECK_EQ(lw_store_outbox_sent(st, first), 0);
    CHECK_EQ(lw_store_outbox_sent(st, first), LW_ENOENT);
    CHECK_EQ(lw_store_outbox_retry(st, first, 1, "x"), LW_ENOENT);
    CHECK_EQ(lw_store_outbox_head(st, "a", &it), 0);
    CHECK_STR(it.payload, "[3]");
    CHECK(it.id > first);
    CHECK_EQ(lw_store_outbox_failed(st, it.id, "HTTP 400: bad request"), 0);
    lw_outbox_item_free(&it);
    CHECK_EQ(lw_store_outbox_head(st, "a", &it), 0);
    CHECK_STR(it.payload, "[4]");
    lw_outbox_item_free(&it);
    CHECK_EQ(lw_store_outbox_head(st, "b", &it), 0);
    CHECK_STR(it.payload, "[2]");
    lw_outbox_item_free(&it);

    int64_t p, s, f;
    CHECK_EQ(lw_store_outbox_counts(st, &p, &s, &f), 0);
    CHECK_EQ(p, 2);
    CHECK_EQ(s, 1);
    CHECK_EQ(f, 1);
    CHECK_EQ(raw_int(path, "SELECT attempts FROM outbox WHERE payload = '[1]'"), 3);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM outbox WHERE payload = '[3]' AND "
                           "last_error = 'HTTP 400: bad request'"),
             1);

    /* Sent rows older than a day go at the next flush; recent ones and failed ones stay. */
    CHECK_EQ(lw_store_flush(st, &(struct lw_flush){0}, &err), 0);
    CHECK_EQ(lw_store_outbox_counts(st, &p, &s, &f), 0);
    CHECK_EQ(s, 1);
    CHECK_EQ(raw_exec(path, "UPDATE outbox SET sent_ns = 1 WHERE state = 1"), SQLITE_OK);
    CHECK_EQ(lw_store_flush(st, &(struct lw_flush){0}, &err), 0);
    CHECK_EQ(lw_store_outbox_counts(st, &p, &s, &f), 0);
    CHECK_EQ(p, 2);
    CHECK_EQ(s, 0);
    CHECK_EQ(f, 1);

    /* Ids are never reused, so delivery order survives pruning. */
    struct lw_outbox_row o5 = {"a", "[5]"};
    struct lw_flush fl5 = {.outbox = &o5, .noutbox = 1};
    CHECK_EQ(lw_store_flush(st, &fl5, &err), 0);
    CHECK(raw_int(path, "SELECT id FROM outbox WHERE payload = '[5]'") > 4);
    lw_store_close(st);
}

/* Two connections on one file, from two threads: the pipeline flushing while a sink worker
 * drains the outbox. Every call must succeed: WAL and the busy timeout make them wait. */
#define TH_FLUSHES 200
#define TH_ROWS 3

struct th {
    const char *path;
    int errors;
    int64_t done; /* rows delivered by the worker */
    char msg[512];
};

static void *pipeline_thread(void *arg)
{
    struct th *t = arg;
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    if (lw_store_open(&st, t->path, &err) != 0) {
        t->errors++;
        snprintf(t->msg, sizeof t->msg, "%s", err.msg);
        return NULL;
    }
    for (int i = 0; i < TH_FLUSHES; i++) {
        struct lw_bucket_row b = {"A", "{}", 1, i, i, 0, 0, 0, 0};
        char pos[32];
        snprintf(pos, sizeof pos, "1:1:%d", i);
        struct lw_ckpt_row c = ckrow("in", "/f", pos);
        struct lw_outbox_row o[TH_ROWS];
        for (int k = 0; k < TH_ROWS; k++)
            o[k] = (struct lw_outbox_row){"hook", "[{\"status\":\"firing\"}]"};
        struct lw_flush fl = {&c, 1, &b, 1, NULL, 0, o, TH_ROWS, 0};
        if (lw_store_flush(st, &fl, &err) != 0) {
            t->errors++;
            snprintf(t->msg, sizeof t->msg, "%s", err.msg);
        }
    }
    lw_store_close(st);
    return NULL;
}

static void *worker_thread(void *arg)
{
    struct th *t = arg;
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    int64_t last = 0, deadline = lw_mono_ns() + 60 * LW_NS_PER_SEC;
    if (lw_store_open(&st, t->path, &err) != 0) {
        t->errors++;
        snprintf(t->msg, sizeof t->msg, "%s", err.msg);
        return NULL;
    }
    while (t->done < TH_FLUSHES * TH_ROWS && lw_mono_ns() < deadline) {
        struct lw_outbox_item it;
        int rc = lw_store_outbox_head(st, "hook", &it);
        if (rc == LW_ENOENT) {
            usleep(200);
            continue;
        }
        if (rc != 0) {
            t->errors++;
            continue;
        }
        if (it.id < last)
            t->errors++; /* out of order (the same id comes back after a retry) */
        last = it.id;
        /* Retry once, then send: both are writes racing the flushes. */
        if (it.attempts == 0)
            rc = lw_store_outbox_retry(st, it.id, 0, "simulated");
        else if ((rc = lw_store_outbox_sent(st, it.id)) == 0)
            t->done++;
        if (rc != 0)
            t->errors++;
        int64_t p;
        if (lw_store_outbox_counts(st, &p, NULL, NULL) != 0)
            t->errors++;
        lw_outbox_item_free(&it);
    }
    lw_store_close(st);
    return NULL;
}

static void test_two_threads(void)
{
    char path[512];
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    tmp_path(path, sizeof path, "threads.db");
    /* Create it first so both threads open an existing, migrated file. */
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);

    struct th a = {.path = path}, b = {.path = path};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, pipeline_thread, &a);
    pthread_create(&tb, NULL, worker_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_EQ(a.errors, 0);
    CHECK_EQ(b.errors, 0);
    if (a.errors || b.errors)
        fprintf(stderr, "thread errors: %s / %s\n", a.msg, b.msg);
    CHECK_EQ(b.done, TH_FLUSHES * TH_ROWS);

    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    int64_t p, s, f;
    CHECK_EQ(lw_store_outbox_counts(st, &p, &s, &f), 0);
    CHECK_EQ(p, 0);
    CHECK_EQ(s, TH_FLUSHES * TH_ROWS);
    CHECK_EQ(count_buckets(st), TH_FLUSHES);
    lw_store_close(st);
}

static void collect_usage(const struct lw_usage_row *r, void *payload)
{
    struct lw_buf *b = payload;
    lw_buf_printf(b, "%s %lld %lld %lld %lld %lld;", r->alert, (long long)r->groups,
                  (long long)r->max_groups, (long long)r->overflow, (long long)r->bytes,
                  (long long)r->updated_ns);
}

/* Alert usage: each write replaces every row; a version-2 file gains the table, its other
 * tables kept. */
static void test_usage(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    struct lw_buf b = {0};
    char path[512];
    tmp_path(path, sizeof path, "usage.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_usage_row rows[] = {{"B", 10, 100, 0, 4096, 7}, {"A", 100, 100, 25, 8192, 7}};
    CHECK_EQ(lw_store_put_usage(st, rows, 2, &err), 0);
    CHECK_EQ(lw_store_load_usage(st, collect_usage, &b, &err), 0);
    CHECK_STR(b.p, "A 100 100 25 8192 7;B 10 100 0 4096 7;");
    lw_buf_reset(&b);
    CHECK_EQ(lw_store_put_usage(st, rows, 1, &err), 0); /* "A" went with a reload */
    CHECK_EQ(lw_store_load_usage(st, collect_usage, &b, &err), 0);
    CHECK_STR(b.p, "B 10 100 0 4096 7;");
    lw_store_close(st);

    /* A file written by the previous version: migrated, its rows kept. */
    tmp_path(path, sizeof path, "v2.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_exec(path, "DROP TABLE alert_usage; UPDATE schema_version SET version = 2; "
                            "INSERT INTO silences VALUES ('s1', '[]', 1, 2, 'c', 'me', 1);"
                            "DROP TABLE checkpoints; " OLD_CHECKPOINTS OLD_BUCKETS),
             SQLITE_OK);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(lw_store_schema_version(st), LW_STORE_SCHEMA_VERSION);
    CHECK_EQ(lw_store_put_usage(st, rows, 2, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM alert_usage"), 2);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM silences"), 1);
    lw_buf_free(&b);
}

/* The whole file, to compare before and after; the caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = lw_malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

/* Opening path must fail with LW_EINVAL, say why, and change no byte of it. */
static void check_refused(const char *path, const char *why)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    size_t n0, n1;
    char *before = slurp(path, &n0), *after;
    CHECK_EQ(lw_store_open(&st, path, &err), LW_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "not a logwarden state file") != NULL);
    CHECK(strstr(err.msg, why) != NULL);
    after = slurp(path, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
}

static void test_identity(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512], side[600];
    struct stat sb;

    /* A new file: created 0600, marked. */
    tmp_path(path, sizeof path, "ours.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(stat(path, &sb), 0);
    CHECK_EQ(sb.st_mode & 0777, 0600);
    CHECK_EQ(raw_int(path, "PRAGMA application_id"), LW_STORE_APP_ID);

    /* A logwarden file from before the mark opens, keeps its rows and is marked. */
    CHECK_EQ(raw_exec(path, "PRAGMA application_id = 0; INSERT INTO silences VALUES ('s1', '[]', "
                            "0, 1, '', '', 0)"),
             SQLITE_OK);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "PRAGMA application_id"), LW_STORE_APP_ID);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM silences"), 1);

    /* Another application's databases, with and without an application_id of their own. */
    tmp_path(path, sizeof path, "theirs.db");
    CHECK_EQ(raw_exec(path, "CREATE TABLE outbox (x); INSERT INTO outbox VALUES (1)"), SQLITE_OK);
    check_refused(path, "another application");
    snprintf(side, sizeof side, "%s-wal", path);
    CHECK(access(side, F_OK) != 0);
    tmp_path(path, sizeof path, "theirs-id.db");
    CHECK_EQ(raw_exec(path, "PRAGMA application_id = 7; CREATE TABLE t (x)"), SQLITE_OK);
    check_refused(path, "application_id 0x00000007");

    /* A text file. */
    tmp_path(path, sizeof path, "notes.db");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 40; i++)
        fputs("some notes, certainly not a database\n", f);
    fclose(f);
    check_refused(path, "not an SQLite database");

    /* An empty file is a new one. */
    tmp_path(path, sizeof path, "empty.db");
    fclose(fopen(path, "w"));
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "PRAGMA application_id"), LW_STORE_APP_ID);
}

/* A version 3 file (checkpoints as dev, ino, off columns) becomes version 4 with each row's
 * position in the file input's encoding, "DEV:INO:OFF": the daemon resumes where it was. */
static void test_migrate_positions(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512], ck[64];
    tmp_path(path, sizeof path, "v3.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_exec(path, "DROP TABLE checkpoints; " OLD_CHECKPOINTS OLD_BUCKETS
                            "INSERT INTO checkpoints VALUES ('app', '/var/log/app.log', 2049, "
                            "131077, 4096), ('app', '/var/log/b.log', -16, 9223372036854775807, "
                            "0);"
                            "UPDATE schema_version SET version = 3"),
             SQLITE_OK);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(lw_store_schema_version(st), LW_STORE_SCHEMA_VERSION);
    CHECK_EQ(ckget(st, "app", "/var/log/app.log", ck), 0);
    CHECK_STR(ck, "2049:131077:4096");
    CHECK_EQ(ckget(st, "app", "/var/log/b.log", ck), 0);
    CHECK_STR(ck, "-16:9223372036854775807:0");
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM checkpoints"), 2);
    CHECK_EQ(raw_int(path, "SELECT typeof(pos) = 'blob' FROM checkpoints LIMIT 1"), 1);
}

/* Bucket rows loaded in the store's order, as text: "alert grp bucket shard count;". */
static void collect_bucket(const struct lw_bucket_row *r, void *payload)
{
    lw_buf_printf(payload, "%s %s %lld %u %g%s;", r->alert, r->group, (long long)r->bucket,
                  r->shard, r->count, r->sketch_len ? " sk" : "");
}

static void collect_state(const struct lw_state_row *r, void *payload)
{
    lw_buf_printf(payload, "%s %s %s %d %lld %lld %g;", r->alert, r->fingerprint, r->group,
                  r->state, (long long)r->active_since_ns, (long long)r->fired_ns, r->value);
}

/* A real version 4 file (written by the store before shards, data/make_v4.c) opens as the
 * current version with every row kept: buckets get shard 0, their sketch, the states and the
 * checkpoint stay. */
static void test_migrate_v4(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512], ck[64];
    struct lw_buf b = {0};
    tmp_path(path, sizeof path, "v4.db");
    size_t n;
    char *data = slurp("data/state-v4.db", &n);
    CHECK(data != NULL);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    free(data);
    CHECK_EQ(raw_int(path, "SELECT version FROM schema_version"), 4);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(lw_store_schema_version(st), LW_STORE_SCHEMA_VERSION);
    CHECK_EQ(lw_store_load_buckets(st, collect_bucket, &b, &err), 0);
    CHECK_STR(b.p, "HighErrorRate {\"host\":\"a\"} 28500000 0 10;"
                   "HighErrorRate {\"host\":\"a\"} 28500001 0 7;"
                   "SlowRequests {} 1710000000 0 3 sk;");
    lw_buf_reset(&b);
    CHECK_EQ(lw_store_load_states(st, collect_state, &b, &err), 0);
    CHECK_STR(b.p, "HighErrorRate 00000000000000aa {\"host\":\"a\"} 2 1710000000000000000 "
                   "1710000060000000000 0.2;");
    CHECK_EQ(ckget(st, "web", "/var/log/nginx/access.log", ck), 0);
    CHECK_STR(ck, "2049:131077:4096");
    /* The migrated table takes shards: the same bucket of another shard is another row. */
    struct lw_bucket_row r = {"HighErrorRate", "{\"host\":\"a\"}", 60, 28500000, 4, 0, 0, 0, 0};
    r.shard = 3;
    struct lw_flush fl = {.buckets = &r, .nbuckets = 1};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM buckets"), 4);
    CHECK_EQ(raw_int(path, "SELECT sum(count) FROM buckets WHERE bucket = 28500000"), 14);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                           "('buckets_by_end', 'buckets_by_shard', 'shards')"),
             3);
    lw_buf_free(&b);
}

/* A file of a newer logwarden (version 7 here) is refused by reading only: the message says
 * which version and what to do, and the file, header included, is left byte for byte as it was
 * (journal_mode = WAL would write the header, a migration its tables). */
static void test_refuse_newer(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512], want[700];
    size_t n0 = 0, n1 = 0;
    tmp_path(path, sizeof path, "newer.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_exec(path, "PRAGMA journal_mode = DELETE; UPDATE schema_version SET version = "
                            "7; CREATE TABLE from_v7 (x);"),
             SQLITE_OK);
    char *before = slurp(path, &n0);
    CHECK(before != NULL);
    CHECK_EQ(lw_store_open(&st, path, &err), LW_EINVAL);
    CHECK(st == NULL);
    snprintf(want, sizeof want,
             "%s: schema version 7 is newer than this logwarden (%d): upgrade logwarden or use "
             "another state file",
             path, LW_STORE_SCHEMA_VERSION);
    CHECK_STR(err.msg, want);
    char *after = slurp(path, &n1);
    CHECK(after != NULL);
    CHECK(n1 == n0 && after && before && memcmp(before, after, n0) == 0);
    CHECK(access(path, F_OK) == 0);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(access(wal, F_OK) != 0); /* no write-ahead log either */
    CHECK_EQ(raw_int(path, "SELECT version FROM schema_version"), 7);
    free(before);
    free(after);
}

/* Shard ids: made on first use, stable across reopening, one per (input, stream). A flush with
 * forget_shards deletes those shards' rows before it writes its own, so a shard forgotten and
 * fed again keeps only its new rows; the others are untouched. */
static void test_shards(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512];
    struct lw_buf b = {0};
    uint32_t a = 0, a2 = 0, c = 0;
    tmp_path(path, sizeof path, "shards.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(lw_store_shard_id(st, "kafka", "logs/0", &a, &err), 0);
    CHECK_EQ(lw_store_shard_id(st, "kafka", "logs/1", &c, &err), 0);
    CHECK_EQ(lw_store_shard_id(st, "kafka", "logs/0", &a2, &err), 0);
    CHECK(a >= 1 && c >= 1 && a != c);
    CHECK_EQ(a2, a);
    struct lw_bucket_row rows[] = {
        {"A", "{}", 1, 10, 1, 0, 0, 0, 0, NULL, 0, a},
        {"A", "{}", 1, 10, 2, 0, 0, 0, 0, NULL, 0, c},
        {"A", "{}", 1, 11, 5, 0, 0, 0, 0, NULL, 0, a},
        {"A", "{}", 1, 11, 6, 0, 0, 0, 0, NULL, 0, 0},
    };
    struct lw_flush fl = {.buckets = rows, .nbuckets = 4};
    CHECK_EQ(lw_store_flush(st, &fl, &err), 0);
    lw_store_close(st);

    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    CHECK_EQ(lw_store_shard_id(st, "kafka", "logs/1", &a2, &err), 0);
    CHECK_EQ(a2, c);
    CHECK_EQ(lw_store_load_buckets(st, collect_bucket, &b, &err), 0);
    char want[256];
    snprintf(want, sizeof want, "A {} 10 %u 1;A {} 10 %u 2;A {} 11 0 6;A {} 11 %u 5;", a, c, a);
    CHECK_STR(b.p, want);
    /* Shard a forgotten, and one new row of it written in the same flush. */
    struct lw_bucket_row again = {"A", "{}", 1, 12, 9, 0, 0, 0, 0, NULL, 0, a};
    uint32_t forget[] = {a};
    struct lw_flush f2 = {
        .buckets = &again, .nbuckets = 1, .forget_shards = forget, .nforget_shards = 1};
    CHECK_EQ(lw_store_flush(st, &f2, &err), 0);
    lw_buf_reset(&b);
    CHECK_EQ(lw_store_load_buckets(st, collect_bucket, &b, &err), 0);
    snprintf(want, sizeof want, "A {} 10 %u 2;A {} 11 0 6;A {} 12 %u 9;", c, a);
    CHECK_STR(b.p, want);
    lw_store_close(st);
    lw_buf_free(&b);
}

static void test_quick_check(void)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    char path[512];
    tmp_path(path, sizeof path, "damaged.db");
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    lw_store_close(st);
    /* Enough rows for several pages, then the second half of the file overwritten. */
    CHECK_EQ(raw_exec(path,
                      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                      "i < 2000) INSERT INTO checkpoints SELECT 'in', 'p' || i, i || ':' || i "
                      "FROM n; PRAGMA wal_checkpoint(TRUNCATE)"),
             SQLITE_OK);
    CHECK_EQ(lw_store_open_flags(&st, path, LW_STORE_QUICK_CHECK, &err), 0);
    lw_store_close(st);
    size_t n;
    char *data = slurp(path, &n);
    CHECK(data && n > 8 * 4096);
    memset(data + n / 2, 0x5a, n / 2);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    free(data);
    CHECK_EQ(lw_store_open_flags(&st, path, LW_STORE_QUICK_CHECK, &err), LW_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "damaged: PRAGMA quick_check says:") != NULL);
}

static void test_lock(void)
{
    struct lw_err err = {0};
    char path[512];
    int fd = -1, pipefd[2];
    tmp_path(path, sizeof path, "locked.db");
    CHECK_EQ(lw_store_lock(":memory:", &fd, &err), 0);
    CHECK_EQ(fd, -1);

    /* A child holds the lock: we are refused, told its pid; once it is gone, we get it. */
    CHECK_EQ(pipe(pipefd), 0);
    pid_t child = fork();
    if (child == 0) {
        int cfd;
        char c = lw_store_lock(path, &cfd, &err) == 0 ? 'y' : 'n';
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c = 0;
    CHECK_EQ(read(pipefd[0], &c, 1), 1);
    CHECK_EQ(c, 'y');
    CHECK_EQ(lw_store_lock(path, &fd, &err), LW_EAGAIN);
    char want[64];
    snprintf(want, sizeof want, "is in use by pid %ld", (long)child);
    CHECK(strstr(err.msg, want) != NULL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    CHECK_EQ(lw_store_lock(path, &fd, &err), 0);
    CHECK(fd >= 0);
    lw_store_unlock(fd);

    /* A link planted as the lock file is not followed: what it names is not truncated. */
    char victim[512], lock[600];
    size_t n;
    tmp_path(victim, sizeof victim, "victim.txt");
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    tmp_path(path, sizeof path, "planted.db");
    snprintf(lock, sizeof lock, "%s.lock", path);
    CHECK_EQ(symlink(victim, lock), 0);
    CHECK_EQ(lw_store_lock(path, &fd, &err), LW_EIO);
    CHECK(strstr(err.msg, "lock file") != NULL);
    char *v = slurp(victim, &n);
    CHECK(v && n == 9 && !memcmp(v, "precious\n", 9));
    free(v);
}

/* Expired silences are kept 5 days and at most 1000: create-and-expire loops (over the HTTP
 * API, with the token) cannot grow the state file without bound. */
static void test_silence_purge(void)
{
    char path[300], id[40];
    struct lw_store *st;
    struct lw_err err = {0};
    int64_t now = INT64_C(1710000000) * LW_NS_PER_SEC, day = 86400 * LW_NS_PER_SEC;
    snprintf(path, sizeof path, "%s/silences.db", tmpdir);
    CHECK_EQ(lw_store_open(&st, path, &err), 0);
    struct lw_silence_row r = {.matchers = "[]", .comment = "c", .created_by = "me"};
    r.id = id;
    snprintf(id, sizeof id, "old");
    r.starts_ns = r.created_ns = now - 7 * day;
    r.ends_ns = now - 6 * day; /* ended 6 days ago: past the retention */
    CHECK_EQ(lw_store_silence_put(st, &r, &err), 0);
    for (int i = 0; i < 1100; i++) { /* 1100 ended within the last day */
        snprintf(id, sizeof id, "s%d", i);
        r.starts_ns = r.created_ns = now - day;
        r.ends_ns = now - day + i * LW_NS_PER_SEC;
        CHECK_EQ(lw_store_silence_put(st, &r, &err), 0);
    }
    snprintf(id, sizeof id, "active");
    r.starts_ns = r.created_ns = now;
    r.ends_ns = now + day;
    CHECK_EQ(lw_store_silence_put(st, &r, &err), 0);
    lw_store_close(st);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM silences"), 1001);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM silences WHERE id IN ('old', 's99', 's100')"), 1);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM silences WHERE id IN ('active', 's1099')"), 2);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lw-store-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_schema();
    test_reopen_and_upsert();
    test_expire();
    test_flush_atomic();
    test_outbox();
    test_two_threads();
    test_usage();
    test_identity();
    test_migrate_positions();
    test_migrate_v4();
    test_refuse_newer();
    test_shards();
    test_quick_check();
    test_lock();
    test_silence_purge();

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_summary();
}
