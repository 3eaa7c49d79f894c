/* store.c: the SQLite state file: opening, migrations, the flush transaction, loaders, outbox. */
#include "store.h"
#include "store_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every statement is prepared once at open; the enum indexes st->stmt and lw_store_sql. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_CKPT_GET,
    ST_CKPT_PUT,
    ST_CKPT_DEL,
    ST_CKPT_EACH,
    ST_BUCKET_PUT,
    ST_BUCKET_EXPIRE,
    ST_BUCKET_LOAD,
    ST_BUCKET_FORGET,
    ST_SHARD_ADD,
    ST_SHARD_GET,
    ST_STATE_PUT,
    ST_STATE_DEL,
    ST_STATE_LOAD,
    ST_OUTBOX_ADD,
    ST_OUTBOX_PRUNE,
    ST_OUTBOX_HEAD,
    ST_OUTBOX_SENT,
    ST_OUTBOX_RETRY,
    ST_OUTBOX_FAILED,
    ST_OUTBOX_COUNTS,
    ST_OUTBOX_SINKS,
    ST_NOTIF_PUT,
    ST_NOTIF_DEL,
    ST_NOTIF_LOAD,
    ST_SILENCE_PUT,
    ST_SILENCE_EXPIRE,
    ST_SILENCE_PURGE,
    ST_SILENCE_LIST,
    ST_USAGE_CLEAR,
    ST_USAGE_PUT,
    ST_USAGE_LOAD,
    ST_HISTORY_ADD,
    ST_HISTORY_PRUNE,
    ST_HISTORY_GET,
    ST_EXPLAIN_PUT,
    ST_EXPLAIN_PRUNE,
    ST_EXPLAIN_GET,
    ST_NOTIFS_OF,
    ST__COUNT
};

static const char *const lw_store_sql[ST__COUNT] = {
    [ST_BEGIN] = LW_SQL_BEGIN,
    [ST_COMMIT] = LW_SQL_COMMIT,
    [ST_ROLLBACK] = LW_SQL_ROLLBACK,
    [ST_CKPT_GET] = LW_SQL_CKPT_GET,
    [ST_CKPT_PUT] = LW_SQL_CKPT_PUT,
    [ST_CKPT_DEL] = LW_SQL_CKPT_DEL,
    [ST_CKPT_EACH] = LW_SQL_CKPT_EACH,
    [ST_BUCKET_PUT] = LW_SQL_BUCKET_PUT,
    [ST_BUCKET_EXPIRE] = LW_SQL_BUCKET_EXPIRE,
    [ST_BUCKET_LOAD] = LW_SQL_BUCKET_LOAD,
    [ST_BUCKET_FORGET] = LW_SQL_BUCKET_FORGET,
    [ST_SHARD_ADD] = LW_SQL_SHARD_ADD,
    [ST_SHARD_GET] = LW_SQL_SHARD_GET,
    [ST_STATE_PUT] = LW_SQL_STATE_PUT,
    [ST_STATE_DEL] = LW_SQL_STATE_DEL,
    [ST_STATE_LOAD] = LW_SQL_STATE_LOAD,
    [ST_OUTBOX_ADD] = LW_SQL_OUTBOX_ADD,
    [ST_OUTBOX_PRUNE] = LW_SQL_OUTBOX_PRUNE,
    [ST_OUTBOX_HEAD] = LW_SQL_OUTBOX_HEAD,
    [ST_OUTBOX_SENT] = LW_SQL_OUTBOX_SENT,
    [ST_OUTBOX_RETRY] = LW_SQL_OUTBOX_RETRY,
    [ST_OUTBOX_FAILED] = LW_SQL_OUTBOX_FAILED,
    [ST_OUTBOX_COUNTS] = LW_SQL_OUTBOX_COUNTS,
    [ST_OUTBOX_SINKS] = LW_SQL_OUTBOX_SINKS,
    [ST_NOTIF_PUT] = LW_SQL_NOTIF_PUT,
    [ST_NOTIF_DEL] = LW_SQL_NOTIF_DEL,
    [ST_NOTIF_LOAD] = LW_SQL_NOTIF_LOAD,
    [ST_SILENCE_PUT] = LW_SQL_SILENCE_PUT,
    [ST_SILENCE_EXPIRE] = LW_SQL_SILENCE_EXPIRE,
    [ST_SILENCE_PURGE] = LW_SQL_SILENCE_PURGE,
    [ST_SILENCE_LIST] = LW_SQL_SILENCE_LIST,
    [ST_USAGE_CLEAR] = LW_SQL_USAGE_CLEAR,
    [ST_USAGE_PUT] = LW_SQL_USAGE_PUT,
    [ST_USAGE_LOAD] = LW_SQL_USAGE_LOAD,
    [ST_HISTORY_ADD] = LW_SQL_HISTORY_ADD,
    [ST_HISTORY_PRUNE] = LW_SQL_HISTORY_PRUNE,
    [ST_HISTORY_GET] = LW_SQL_HISTORY_GET,
    [ST_EXPLAIN_PUT] = LW_SQL_EXPLAIN_PUT,
    [ST_EXPLAIN_PRUNE] = LW_SQL_EXPLAIN_PRUNE,
    [ST_EXPLAIN_GET] = LW_SQL_EXPLAIN_GET,
    [ST_NOTIFS_OF] = LW_SQL_NOTIFS_OF,
};

#define LW_STORE_BUSY_MS 5000
/* Sent outbox rows stay a day for `status` and debugging, then go, a bounded batch per flush. */
#define LW_OUTBOX_KEEP_NS (86400 * LW_NS_PER_SEC)
#define LW_OUTBOX_PRUNE_MAX 1000

struct lw_store {
    sqlite3 *db;
    char *path; /* for messages */
    int version;
    bool mark; /* an empty file or an older logwarden's: migrate sets our application_id */
    sqlite3_stmt *stmt[ST__COUNT];
};

/* Fills err with what SQLite says about the last failure on db, prefixed by what we were doing. */
static int store_fail(struct lw_store *st, struct lw_err *err, const char *what)
{
    return lw_err_set(err, LW_EIO, "state %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

/* Runs a prepared statement that returns no rows and resets it. */
static int step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : rc;
}

/* Reads the version row; 0 when the file is new. Runs inside the migration transaction. */
static int read_version(struct lw_store *st, int *out, struct lw_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, LW_SQL_VERSION_GET, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, err, "reading the schema version");
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        return store_fail(st, err, "reading the schema version");
    }
    *out = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return 0;
}

static int write_version(struct lw_store *st, int v, struct lw_err *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_exec(st->db, LW_SQL_VERSION_CLEAR, NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(st, err, "writing the schema version");
    if (sqlite3_prepare_v2(st->db, LW_SQL_VERSION_SET, -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "writing the schema version");
    sqlite3_bind_int(s, 1, v);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, "writing the schema version");
    return 0;
}

/* A file written by a newer logwarden: its schema is unknown here, and migrating "down" would
 * lose what the newer one keeps. */
static int refuse_newer(struct lw_store *st, int v, struct lw_err *err)
{
    return lw_err_set(err, LW_EINVAL,
                      "%s: schema version %d is newer than this logwarden (%d): upgrade logwarden "
                      "or use another state file",
                      st->path, v, LW_STORE_SCHEMA_VERSION);
}

/* Brings the file from whatever version it has to LW_STORE_SCHEMA_VERSION in one transaction,
 * so a crash mid-migration leaves the old schema intact. BEGIN IMMEDIATE takes the write lock
 * up front: two processes opening a new file at once migrate it once, the second one waits. */
static int migrate(struct lw_store *st, struct lw_err *err)
{
    enum { NMIG = sizeof lw_store_migrations / sizeof lw_store_migrations[0] };
    _Static_assert(NMIG == LW_STORE_SCHEMA_VERSION, "one migration per schema version");
    int rc, v = 0;

    if (sqlite3_exec(st->db, LW_SQL_BEGIN, NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(st, err, "starting the migration");
    if (sqlite3_exec(st->db, LW_SQL_SCHEMA_VERSION_TABLE, NULL, NULL, NULL) != SQLITE_OK) {
        rc = store_fail(st, err, "creating the schema_version table");
        goto out_rollback;
    }
    rc = read_version(st, &v, err);
    if (rc < 0)
        goto out_rollback;
    if (v > LW_STORE_SCHEMA_VERSION || v < 0) { /* check_version saw it first, but a race */
        rc = refuse_newer(st, v, err);
        goto out_rollback;
    }
    if (v < LW_STORE_SCHEMA_VERSION) {
        for (int i = v; i < LW_STORE_SCHEMA_VERSION; i++) {
            if (sqlite3_exec(st->db, lw_store_migrations[i], NULL, NULL, NULL) != SQLITE_OK) {
                char what[64];
                snprintf(what, sizeof what, "migrating from version %d to %d", i, i + 1);
                rc = store_fail(st, err, what);
                goto out_rollback;
            }
        }
        rc = write_version(st, LW_STORE_SCHEMA_VERSION, err);
        if (rc < 0)
            goto out_rollback;
        if (v > 0)
            lw_log(LW_INFO, "[store] %s: migrated schema from version %d to %d", st->path, v,
                   LW_STORE_SCHEMA_VERSION);
    }
    if (st->mark) {
        char sql[64];
        snprintf(sql, sizeof sql, LW_SQL_APP_ID_SET, LW_STORE_APP_ID);
        if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            rc = store_fail(st, err, "marking the file as logwarden's (application_id)");
            goto out_rollback;
        }
    }
    if (sqlite3_exec(st->db, LW_SQL_COMMIT, NULL, NULL, NULL) != SQLITE_OK) {
        rc = store_fail(st, err, "committing the migration");
        goto out_rollback;
    }
    st->version = LW_STORE_SCHEMA_VERSION;
    return 0;

out_rollback:
    sqlite3_exec(st->db, LW_SQL_ROLLBACK, NULL, NULL, NULL);
    return rc;
}

void lw_store_limit_memory(int64_t bytes)
{
    sqlite3_soft_heap_limit64(bytes);
}

/* Creates a missing state file 0600 before SQLite does (it would use 0644 less the umask); the
 * -wal and -shm files SQLite adds take the database file's mode. An existing file keeps its own. */
static void create_private(const char *path)
{
    if (!strcmp(path, ":memory:") || !strncmp(path, "file:", 5) || !*path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd); /* it did not exist: no SQLite lock of ours on it can be dropped by this */
}

/* check_identity: the file is damaged; quick_check says how. */
#define LW_STORE_DAMAGED 1

/* The integers of a query's first row (one or two columns); an SQLite result code. */
static int query_int2(struct lw_store *st, const char *sql, int64_t *a, int64_t *b)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *a = sqlite3_column_int64(s, 0);
            if (b)
                *b = sqlite3_column_int64(s, 1);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

static int refuse(struct lw_store *st, struct lw_err *err, const char *what)
{
    return lw_err_set(err, LW_EINVAL,
                      "%s is not a logwarden state file (%s): refused and left as it is; give "
                      "logwarden a state file of its own",
                      st->path, what);
}

/* Whether the file is ours, by reading only: our application_id; or no tables at all (a new or
 * empty file); or the tables of a logwarden from before the mark. Sets st->mark for the last
 * two. Anything else is refused before a byte of it is written. */
static int check_identity(struct lw_store *st, struct lw_err *err)
{
    int64_t id = 0, ntables = 0, ours = 0;
    char what[96];
    int rc = query_int2(st, LW_SQL_APP_ID_GET, &id, NULL);
    if (rc == SQLITE_NOTADB)
        return refuse(st, err, "not an SQLite database");
    if ((rc & 0xff) == SQLITE_CORRUPT)
        return LW_STORE_DAMAGED; /* a truncated file can fail here already */
    if (rc != SQLITE_OK)
        return store_fail(st, err, "reading its application_id");
    if (id == LW_STORE_APP_ID)
        return 0;
    if (id != 0) {
        const char *fmt = "the SQLite database of another application: application_id 0x%08x";
        snprintf(what, sizeof what, fmt, (unsigned)(uint32_t)id);
        return refuse(st, err, what);
    }
    if (query_int2(st, LW_SQL_OUR_TABLES, &ntables, &ours) != SQLITE_OK)
        return store_fail(st, err, "reading its tables");
    if (ntables > 0 && ours < LW_SQL_OUR_TABLES_N)
        return refuse(st, err,
                      "the SQLite database of another application: its tables are not "
                      "logwarden's");
    st->mark = true;
    return 0;
}

/* Refuses a newer logwarden's file by reading only, before the pragmas (journal_mode writes the
 * header) and the migration touch it: a downgrade leaves the file exactly as it was. */
static int check_version(struct lw_store *st, struct lw_err *err)
{
    int64_t has = 0, v = 0;
    if (query_int2(st, LW_SQL_VERSION_TABLE_EXISTS, &has, NULL) != SQLITE_OK)
        return store_fail(st, err, "reading its tables");
    if (!has)
        return 0;
    if (query_int2(st, LW_SQL_VERSION_GET, &v, NULL) != SQLITE_OK)
        return store_fail(st, err, "reading the schema version");
    if (v > LW_STORE_SCHEMA_VERSION)
        return refuse_newer(st, v > INT32_MAX ? INT32_MAX : (int)v, err);
    return 0;
}

/* PRAGMA quick_check: "ok", or the problems found (the first few, on one line). */
static int quick_check(struct lw_store *st, struct lw_err *err)
{
    sqlite3_stmt *s = NULL;
    struct lw_buf b = {0};
    int rc = sqlite3_prepare_v2(st->db, LW_SQL_QUICK_CHECK, -1, &s, NULL);
    int n = 0;
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(s, 0);
            if (!t || strcmp(t, "ok") != 0)
                lw_buf_printf(&b, "%s%s", n++ ? "; " : "", t ? t : "?");
        }
    }
    if (rc != SQLITE_DONE) /* it could not even look: why is the answer */
        lw_buf_printf(&b, "%s%s", n++ ? "; " : "", sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    if (n == 0) {
        lw_buf_free(&b);
        return 0;
    }
    for (size_t i = 0; i < b.len; i++)
        if (b.p[i] == '\n' || b.p[i] == '\r' || b.p[i] == '\t')
            b.p[i] = ' ';
    rc = lw_err_set(err, LW_EINVAL,
                    "%s is damaged: PRAGMA quick_check says: %.*s; refused (restore a backup, "
                    "or move it away to start afresh)",
                    st->path, (int)b.len, b.p);
    lw_buf_free(&b);
    return rc;
}

int lw_store_open(struct lw_store **out, const char *path, struct lw_err *err)
{
    return lw_store_open_flags(out, path, 0, err);
}

int lw_store_open_flags(struct lw_store **out, const char *path, unsigned flags, struct lw_err *err)
{
    struct lw_store *st = lw_calloc(1, sizeof *st);
    int rc;

    *out = NULL;
    st->path = lw_strdup(path);
    create_private(path);
    /* NOMUTEX: a handle is used by one thread at a time (store.h), each thread opens its own. */
    rc = sqlite3_open_v2(path, &st->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (st->db)
            rc = store_fail(st, err, "opening");
        else
            rc = lw_err_set(err, LW_ENOMEM, "state %s: opening: out of memory", path);
        goto out_close;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, LW_STORE_BUSY_MS);
    /* Until the file is known to be ours, closing must not checkpoint another application's
     * write-ahead log into its database. */
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    rc = check_identity(st, err);
    if (rc == LW_STORE_DAMAGED || (rc == 0 && (flags & LW_STORE_QUICK_CHECK)))
        rc = quick_check(st, err);
    if (rc > 0) /* damaged, yet quick_check found nothing: say what failed */
        rc = store_fail(st, err, "reading its application_id");
    if (rc < 0)
        goto out_close;
    rc = check_version(st, err);
    if (rc < 0)
        goto out_close;
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
    if (sqlite3_exec(st->db, LW_SQL_PRAGMAS, NULL, NULL, NULL) != SQLITE_OK) {
        rc = store_fail(st, err, "setting pragmas");
        goto out_close;
    }
    rc = migrate(st, err);
    if (rc < 0)
        goto out_close;
    for (int i = 0; i < ST__COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, lw_store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            rc = store_fail(st, err, "preparing statements");
            goto out_close;
        }
    }
    *out = st;
    return 0;

out_close:
    lw_store_close(st);
    return rc;
}

/* ---------------------------------------------------------------- the daemon's lock */

/* The pid written in the lock file by its owner, when F_GETLK cannot say (0: unknown). */
static long lock_file_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strtol(buf, NULL, 10);
}

/* A separate file rather than the database: SQLite's own fcntl locks on the database would be
 * released by any close() of another descriptor of it in this process. */
int lw_store_lock(const char *path, int *fd, struct lw_err *err)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char *lp;
    *fd = -1;
    if (!strcmp(path, ":memory:") || !*path)
        return 0;
    lp = lw_strdup(path);
    lp = lw_realloc(lp, strlen(path) + sizeof ".lock");
    strcat(lp, ".lock");
    /* O_NOFOLLOW: the pid written below must not truncate whatever a planted link names. */
    int f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0) {
        int rc = lw_err_set(err, LW_EIO, "state file %s: cannot open its lock file %s: %s", path,
                            lp, strerror(errno));
        free(lp);
        return rc;
    }
    free(lp);
    if (fcntl(f, F_SETLK, &fl) != 0) {
        int e = errno;
        long pid = 0;
        if (e == EAGAIN || e == EACCES) {
            struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            if (fcntl(f, F_GETLK, &q) == 0 && q.l_type != F_UNLCK && q.l_pid > 0)
                pid = q.l_pid;
            else
                pid = lock_file_pid(f);
            close(f);
            if (pid > 0)
                return lw_err_set(err, LW_EAGAIN, "state file %s is in use by pid %ld", path, pid);
            return lw_err_set(err, LW_EAGAIN, "state file %s is in use by another process", path);
        }
        close(f);
        return lw_err_set(err, LW_EIO, "state file %s: cannot lock it: %s", path, strerror(e));
    }
    /* For people (and F_GETLK across pid namespaces, which reports no pid): who holds it. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n)
        lw_log(LW_WARN, "[store] %s.lock: cannot write the pid: %s", path, strerror(errno));
    *fd = f;
    return 0;
}

void lw_store_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

void lw_store_close(struct lw_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    /* close_v2 rather than close: never fails with SQLITE_BUSY, frees once all is finalized. */
    sqlite3_close_v2(st->db);
    free(st->path);
    free(st);
}

int lw_store_schema_version(struct lw_store *st)
{
    return st->version;
}

/* ---------------------------------------------------------------- checkpoints */

int lw_store_ckpt_get(struct lw_store *st, const char *input, const char *stream, void *buf,
                      size_t cap, size_t *len)
{
    sqlite3_stmt *s = st->stmt[ST_CKPT_GET];
    int rc;

    sqlite3_bind_text(s, 1, input, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, stream ? stream : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        rc = n <= cap ? 0 : LW_EINVAL;
        if (rc == 0 && n)
            memcpy(buf, p, n);
        *len = rc == 0 ? n : 0;
    } else if (rc == SQLITE_DONE) {
        rc = LW_ENOENT;
    } else {
        lw_log(LW_ERROR, "[store] %s: reading a checkpoint: %s", st->path, sqlite3_errmsg(st->db));
        rc = LW_EIO;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

int lw_store_ckpt_each(struct lw_store *st, const char *input, lw_store_ckpt_fn *fn, void *arg)
{
    sqlite3_stmt *s = st->stmt[ST_CKPT_EACH];
    int rc;

    sqlite3_bind_text(s, 1, input, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(s, 0), sqlite3_column_blob(s, 1),
           (size_t)sqlite3_column_bytes(s, 1), arg);
    if (rc != SQLITE_DONE)
        lw_log(LW_ERROR, "[store] %s: reading checkpoints: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : LW_EIO;
}

/* ---------------------------------------------------------------- flush */

static int put_ckpt(struct lw_store *st, const struct lw_ckpt_row *c)
{
    if (!c->pos) {
        sqlite3_stmt *d = st->stmt[ST_CKPT_DEL];
        sqlite3_bind_text(d, 1, c->input, -1, SQLITE_STATIC);
        sqlite3_bind_text(d, 2, c->stream ? c->stream : "", -1, SQLITE_STATIC);
        return step_done(d);
    }
    sqlite3_stmt *s = st->stmt[ST_CKPT_PUT];
    sqlite3_bind_text(s, 1, c->input, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, c->stream ? c->stream : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, c->len ? c->pos : "", (int)c->len, SQLITE_STATIC);
    return step_done(s);
}

static int put_bucket(struct lw_store *st, const struct lw_bucket_row *b)
{
    sqlite3_stmt *s = st->stmt[ST_BUCKET_PUT];
    sqlite3_bind_text(s, 1, b->alert, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, b->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, b->bucket);
    sqlite3_bind_int64(s, 4, b->res_s);
    sqlite3_bind_double(s, 5, b->count);
    sqlite3_bind_double(s, 6, b->matched);
    sqlite3_bind_double(s, 7, b->sum);
    sqlite3_bind_double(s, 8, b->min);
    sqlite3_bind_double(s, 9, b->max);
    if (b->sketch && b->sketch_len)
        sqlite3_bind_blob(s, 10, b->sketch, (int)b->sketch_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 10);
    sqlite3_bind_int64(s, 11, b->shard);
    return step_done(s);
}

static int put_bucket_cb(void *ctx, const struct lw_bucket_row *b)
{
    return put_bucket(ctx, b);
}

static int put_state(struct lw_store *st, const struct lw_state_row *r)
{
    sqlite3_stmt *s;
    if (r->state == LW_INACTIVE) {
        s = st->stmt[ST_STATE_DEL];
        sqlite3_bind_text(s, 1, r->fingerprint, -1, SQLITE_STATIC);
        return step_done(s);
    }
    s = st->stmt[ST_STATE_PUT];
    sqlite3_bind_text(s, 1, r->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->alert, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->group, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, r->state);
    sqlite3_bind_int64(s, 5, r->active_since_ns);
    sqlite3_bind_int64(s, 6, r->fired_ns);
    sqlite3_bind_double(s, 7, r->value);
    return step_done(s);
}

static int put_notif(struct lw_store *st, const struct lw_notif_row *n)
{
    sqlite3_stmt *s;
    if (n->remove) {
        s = st->stmt[ST_NOTIF_DEL];
        sqlite3_bind_text(s, 1, n->fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, n->sink, -1, SQLITE_STATIC);
        return step_done(s);
    }
    s = st->stmt[ST_NOTIF_PUT];
    sqlite3_bind_text(s, 1, n->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, n->sink, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, n->alert, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, n->status);
    sqlite3_bind_text(s, 5, n->payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, n->changed_ns);
    sqlite3_bind_int(s, 7, n->notified);
    sqlite3_bind_int64(s, 8, n->notified_ns);
    return step_done(s);
}

static int put_outbox(struct lw_store *st, const struct lw_outbox_row *o, int64_t now)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_ADD];
    sqlite3_bind_text(s, 1, o->sink, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, o->payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return step_done(s);
}

static int put_history(struct lw_store *st, const struct lw_history_row *h)
{
    sqlite3_stmt *s = st->stmt[ST_HISTORY_ADD];
    if (!h->state)
        goto explain;
    sqlite3_bind_text(s, 1, h->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, h->alert, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, h->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, h->at_ns);
    sqlite3_bind_double(s, 5, isfinite(h->value) ? h->value : 0);
    if (step_done(s) != 0)
        return -1;
explain:
    if (!h->explain)
        return 0;
    s = st->stmt[ST_EXPLAIN_PUT];
    sqlite3_bind_text(s, 1, h->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, h->alert, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, h->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, h->at_ns);
    sqlite3_bind_text(s, 5, h->explain, -1, SQLITE_STATIC);
    return step_done(s);
}

/* The smallest whole second s with s * 1e9 >= ns: a bucket ending at e seconds expires when
 * e * 1e9 < ns, that is when e < ceil(ns / 1e9). Floor division keeps negatives right too. */
static int64_t ceil_sec(int64_t ns)
{
    int64_t q = ns / LW_NS_PER_SEC, r = ns % LW_NS_PER_SEC;
    if (r > 0)
        q++;
    return q;
}

int lw_store_flush(struct lw_store *st, const struct lw_flush *f, struct lw_err *err)
{
    int64_t now = lw_now_ns();
    const char *what;
    int rc;

    if (step_done(st->stmt[ST_BEGIN]) != 0)
        return store_fail(st, err, "starting a flush");

    what = "writing checkpoints";
    for (size_t i = 0; i < f->nckpts; i++)
        if (put_ckpt(st, &f->ckpts[i]) != 0)
            goto out_rollback;
    /* A forgotten shard's rows go before this flush's rows are written: a shard forgotten and
     * fed again since keeps only what it holds now. */
    what = "deleting a forgotten shard's buckets";
    for (size_t i = 0; i < f->nforget_shards; i++) {
        sqlite3_bind_int64(st->stmt[ST_BUCKET_FORGET], 1, f->forget_shards[i]);
        if (step_done(st->stmt[ST_BUCKET_FORGET]) != 0)
            goto out_rollback;
    }
    what = "writing window buckets";
    for (size_t i = 0; i < f->nbuckets; i++)
        if (put_bucket(st, &f->buckets[i]) != 0)
            goto out_rollback;
    if (f->bucket_src && f->bucket_src(f->bucket_src_payload, put_bucket_cb, st) != 0)
        goto out_rollback;
    what = "writing alert states";
    for (size_t i = 0; i < f->nstates; i++)
        if (put_state(st, &f->states[i]) != 0)
            goto out_rollback;
    what = "writing notification states";
    for (size_t i = 0; i < f->nnotifs; i++)
        if (put_notif(st, &f->notifs[i]) != 0)
            goto out_rollback;
    what = "appending to the outbox";
    for (size_t i = 0; i < f->noutbox; i++)
        if (put_outbox(st, &f->outbox[i], now) != 0)
            goto out_rollback;
    what = "writing the alert history";
    for (size_t i = 0; i < f->nhistory; i++)
        if (put_history(st, &f->history[i]) != 0)
            goto out_rollback;
    if (f->history_before_ns != 0) {
        what = "pruning the alert history";
        sqlite3_bind_int64(st->stmt[ST_HISTORY_PRUNE], 1, f->history_before_ns);
        if (step_done(st->stmt[ST_HISTORY_PRUNE]) != 0)
            goto out_rollback;
        sqlite3_bind_int64(st->stmt[ST_EXPLAIN_PRUNE], 1, f->history_before_ns);
        if (step_done(st->stmt[ST_EXPLAIN_PRUNE]) != 0)
            goto out_rollback;
    }
    if (f->expire_before_ns != 0) {
        what = "expiring window buckets";
        sqlite3_bind_int64(st->stmt[ST_BUCKET_EXPIRE], 1, ceil_sec(f->expire_before_ns));
        if (step_done(st->stmt[ST_BUCKET_EXPIRE]) != 0)
            goto out_rollback;
    }
    what = "pruning the outbox";
    sqlite3_bind_int64(st->stmt[ST_OUTBOX_PRUNE], 1, now - LW_OUTBOX_KEEP_NS);
    sqlite3_bind_int(st->stmt[ST_OUTBOX_PRUNE], 2, LW_OUTBOX_PRUNE_MAX);
    if (step_done(st->stmt[ST_OUTBOX_PRUNE]) != 0)
        goto out_rollback;
    what = "committing a flush";
    if (step_done(st->stmt[ST_COMMIT]) != 0)
        goto out_rollback;
    return 0;

out_rollback:
    rc = store_fail(st, err, what);
    /* Harmless when COMMIT already ended the transaction (SQLite rolls back on some errors). */
    if (!sqlite3_get_autocommit(st->db))
        step_done(st->stmt[ST_ROLLBACK]);
    return rc;
}

/* ---------------------------------------------------------------- loaders */

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

int lw_store_load_buckets(struct lw_store *st, lw_bucket_fn *fn, void *payload, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_BUCKET_LOAD];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct lw_bucket_row b = {
            .alert = col_text(s, 0),
            .group = col_text(s, 1),
            .res_s = sqlite3_column_int64(s, 2),
            .bucket = sqlite3_column_int64(s, 3),
            .count = sqlite3_column_double(s, 4),
            .matched = sqlite3_column_double(s, 5),
            .sum = sqlite3_column_double(s, 6),
            .min = sqlite3_column_double(s, 7),
            .max = sqlite3_column_double(s, 8),
            .sketch = sqlite3_column_blob(s, 9),
            .sketch_len = (size_t)sqlite3_column_bytes(s, 9),
            .shard = (uint32_t)sqlite3_column_int64(s, 10),
        };
        fn(&b, payload);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, err, "loading window buckets");
    sqlite3_reset(s);
    return rc;
}

int lw_store_shard_id(struct lw_store *st, const char *input, const char *stream, uint32_t *id,
                      struct lw_err *err)
{
    sqlite3_stmt *a = st->stmt[ST_SHARD_ADD], *g = st->stmt[ST_SHARD_GET];
    sqlite3_bind_text(a, 1, input, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 2, stream ? stream : "", -1, SQLITE_STATIC);
    if (step_done(a) != 0)
        return store_fail(st, err, "numbering a shard");
    sqlite3_bind_text(g, 1, input, -1, SQLITE_STATIC);
    sqlite3_bind_text(g, 2, stream ? stream : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(g);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(g, 0) : 0;
    rc = rc == SQLITE_ROW && v >= 1 && v <= UINT32_MAX ? 0
                                                       : store_fail(st, err, "numbering a shard");
    sqlite3_reset(g);
    sqlite3_clear_bindings(g);
    if (rc == 0)
        *id = (uint32_t)v;
    return rc;
}

int lw_store_load_states(struct lw_store *st, lw_state_fn *fn, void *payload, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STATE_LOAD];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct lw_state_row r = {
            .alert = col_text(s, 0),
            .fingerprint = col_text(s, 1),
            .group = col_text(s, 2),
            .state = sqlite3_column_int(s, 3),
            .active_since_ns = sqlite3_column_int64(s, 4),
            .fired_ns = sqlite3_column_int64(s, 5),
            .value = sqlite3_column_double(s, 6),
        };
        fn(&r, payload);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, err, "loading alert states");
    sqlite3_reset(s);
    return rc;
}

/* ---------------------------------------------------------------- alert usage */

int lw_store_put_usage(struct lw_store *st, const struct lw_usage_row *rows, size_t n,
                       struct lw_err *err)
{
    if (step_done(st->stmt[ST_BEGIN]) != 0)
        return store_fail(st, err, "starting to write alert usage");
    if (step_done(st->stmt[ST_USAGE_CLEAR]) != 0)
        goto out_rollback;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = st->stmt[ST_USAGE_PUT];
        sqlite3_bind_text(s, 1, rows[i].alert, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, rows[i].groups);
        sqlite3_bind_int64(s, 3, rows[i].max_groups);
        sqlite3_bind_int64(s, 4, rows[i].overflow);
        sqlite3_bind_int64(s, 5, rows[i].bytes);
        sqlite3_bind_int64(s, 6, rows[i].updated_ns);
        if (step_done(s) != 0)
            goto out_rollback;
    }
    if (step_done(st->stmt[ST_COMMIT]) != 0)
        goto out_rollback;
    return 0;

out_rollback:;
    int rc = store_fail(st, err, "writing alert usage");
    if (!sqlite3_get_autocommit(st->db))
        step_done(st->stmt[ST_ROLLBACK]);
    return rc;
}

int lw_store_load_usage(struct lw_store *st, lw_usage_fn *fn, void *payload, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_USAGE_LOAD];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct lw_usage_row r = {
            .alert = col_text(s, 0),
            .groups = sqlite3_column_int64(s, 1),
            .max_groups = sqlite3_column_int64(s, 2),
            .overflow = sqlite3_column_int64(s, 3),
            .bytes = sqlite3_column_int64(s, 4),
            .updated_ns = sqlite3_column_int64(s, 5),
        };
        fn(&r, payload);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, err, "loading alert usage");
    sqlite3_reset(s);
    return rc;
}

/* ---------------------------------------------------------------- outbox */

int lw_store_outbox_head(struct lw_store *st, const char *sink, struct lw_outbox_item *out)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_HEAD];
    int rc;

    memset(out, 0, sizeof *out);
    sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->sink = lw_strdup(col_text(s, 1));
        out->payload = lw_strdup(col_text(s, 2));
        out->created_ns = sqlite3_column_int64(s, 3);
        out->attempts = sqlite3_column_int(s, 4);
        out->next_ns = sqlite3_column_int64(s, 5);
        /* The head of this sink's queue, never another sink's row. */
        LW_INVARIANT(out->id > 0 && out->attempts >= 0 && !strcmp(out->sink, sink));
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = LW_ENOENT;
    } else {
        lw_log(LW_ERROR, "[store] %s: reading the outbox: %s", st->path, sqlite3_errmsg(st->db));
        rc = LW_EIO;
    }
    /* Reset at once: a statement left on a row would hold a read snapshot open. */
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

void lw_outbox_item_free(struct lw_outbox_item *it)
{
    if (!it)
        return;
    free(it->sink);
    free(it->payload);
    it->sink = it->payload = NULL;
}

/* Runs one of the single-row outbox updates; LW_ENOENT when no pending row has that id. */
static int outbox_update(struct lw_store *st, sqlite3_stmt *s, const char *what)
{
    if (step_done(s) != 0) {
        lw_log(LW_ERROR, "[store] %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
        return LW_EIO;
    }
    /* By primary key: one row or none. More would be a statement that settles other
     * notifications with this one's outcome. */
    LW_INVARIANT(sqlite3_changes(st->db) <= 1);
    return sqlite3_changes(st->db) > 0 ? 0 : LW_ENOENT;
}

int lw_store_outbox_sent(struct lw_store *st, int64_t id)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_SENT];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, lw_now_ns());
    return outbox_update(st, s, "marking an outbox item sent");
}

int lw_store_outbox_retry(struct lw_store *st, int64_t id, int64_t next_ns, const char *error)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_RETRY];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, next_ns);
    sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
    return outbox_update(st, s, "scheduling an outbox retry");
}

int lw_store_outbox_failed(struct lw_store *st, int64_t id, const char *error)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_FAILED];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, error, -1, SQLITE_STATIC);
    return outbox_update(st, s, "marking an outbox item failed");
}

int lw_store_outbox_counts(struct lw_store *st, int64_t *pending, int64_t *sent, int64_t *failed)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_COUNTS];
    int64_t c[3] = {0, 0, 0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int state = sqlite3_column_int(s, 0);
        if (state >= 0 && state < 3)
            c[state] = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        lw_log(LW_ERROR, "[store] %s: counting the outbox: %s", st->path, sqlite3_errmsg(st->db));
        return LW_EIO;
    }
    if (pending)
        *pending = c[0];
    if (sent)
        *sent = c[1];
    if (failed)
        *failed = c[2];
    return 0;
}

int lw_store_outbox_sinks(struct lw_store *st, lw_outbox_sink_fn *fn, void *payload)
{
    sqlite3_stmt *s = st->stmt[ST_OUTBOX_SINKS];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
           sqlite3_column_int64(s, 2), (const char *)sqlite3_column_text(s, 3), payload);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        lw_log(LW_ERROR, "[store] %s: reading the outbox: %s", st->path, sqlite3_errmsg(st->db));
        return LW_EIO;
    }
    return 0;
}

/* ---------------------------------------------------------------- notifications, silences */

int lw_store_load_notifs(struct lw_store *st, lw_notif_fn *fn, void *payload, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_NOTIF_LOAD];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct lw_notif_row n = {
            .fingerprint = col_text(s, 0),
            .sink = col_text(s, 1),
            .alert = col_text(s, 2),
            .status = sqlite3_column_int(s, 3),
            .payload = col_text(s, 4),
            .changed_ns = sqlite3_column_int64(s, 5),
            .notified = sqlite3_column_int(s, 6),
            .notified_ns = sqlite3_column_int64(s, 7),
        };
        fn(&n, payload);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, err, "loading notification states");
    sqlite3_reset(s);
    return rc;
}

int lw_store_silence_put(struct lw_store *st, const struct lw_silence_row *r, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_SILENCE_PURGE];
    sqlite3_bind_int64(s, 1, r->created_ns - 5 * 86400 * LW_NS_PER_SEC);
    sqlite3_bind_int64(s, 2, r->created_ns);
    if (step_done(s) != 0)
        return store_fail(st, err, "purging expired silences");
    s = st->stmt[ST_SILENCE_PUT];
    sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->matchers, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, r->starts_ns);
    sqlite3_bind_int64(s, 4, r->ends_ns);
    sqlite3_bind_text(s, 5, r->comment ? r->comment : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->created_by ? r->created_by : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, r->created_ns);
    return step_done(s) == 0 ? 0 : store_fail(st, err, "writing a silence");
}

int lw_store_silence_expire(struct lw_store *st, const char *id, int64_t now, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_SILENCE_EXPIRE];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    if (step_done(s) != 0)
        return store_fail(st, err, "expiring a silence");
    if (sqlite3_changes(st->db) == 0)
        return lw_err_set(err, LW_ENOENT, "no active silence with id %s", id);
    return 0;
}

int lw_store_silences(struct lw_store *st, bool all, int64_t now, lw_silence_fn *fn, void *payload,
                      struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_SILENCE_LIST];
    int rc;
    sqlite3_bind_int(s, 1, all ? 1 : 0);
    sqlite3_bind_int64(s, 2, now);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct lw_silence_row r = {
            .id = col_text(s, 0),
            .matchers = col_text(s, 1),
            .starts_ns = sqlite3_column_int64(s, 2),
            .ends_ns = sqlite3_column_int64(s, 3),
            .comment = col_text(s, 4),
            .created_by = col_text(s, 5),
            .created_ns = sqlite3_column_int64(s, 6),
        };
        fn(&r, payload);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, err, "listing silences");
    sqlite3_reset(s);
    return rc;
}

/* ---------------------------------------------------------------- the explanation */

int lw_store_history(struct lw_store *st, const char *fp, int64_t since_ns, lw_history_fn *fn,
                     void *payload, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_HISTORY_GET];
    int rc;
    sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, since_ns);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(col_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2), payload);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, err, "reading the alert history");
}

int lw_store_explain_get(struct lw_store *st, const char *fp, char **out, struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_EXPLAIN_GET];
    sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? lw_strdup(col_text(s, 0)) : NULL;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? LW_ENOENT : store_fail(st, err, "reading an explanation");
}

int lw_store_notifs_of(struct lw_store *st, const char *fp, lw_notif_of_fn *fn, void *payload,
                       struct lw_err *err)
{
    sqlite3_stmt *s = st->stmt[ST_NOTIFS_OF];
    int rc;
    sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct lw_notif_of r = {col_text(s, 0),
                                col_text(s, 1),
                                sqlite3_column_int(s, 2),
                                sqlite3_column_int64(s, 3),
                                sqlite3_column_int64(s, 4),
                                sqlite3_column_int(s, 5),
                                sqlite3_column_type(s, 6) == SQLITE_NULL ? NULL : col_text(s, 6)};
        fn(&r, payload);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, err, "reading an alert's notifications");
}
