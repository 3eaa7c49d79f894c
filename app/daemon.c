/* daemon.c: `logwarden run`: the I/O thread (libuv: inputs, signals), the pipeline thread
 * (decode, match, windows, evaluator, one SQLite transaction per flush) and the sink workers. */
#include "app.h"
#include "api.h"
#include "http.h"
#include "kind_eval.h"
#include "notify.h"
#include "outbox.h"
#include "sdnotify.h"
#include "store.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_INTERVAL_NS (1 * LW_NS_PER_SEC)
#define USAGE_INTERVAL_NS (5 * LW_NS_PER_SEC)
/* At a stop, how long the sinks have, all together, to deliver what is due (docs/operations.md);
 * what they have not delivered then stays in the outbox for the next start. */
#define STOP_GRACE_NS (5 * LW_NS_PER_SEC)
/* After a restart, how long past an unconfirmed alert's window the engine has to fire it again
 * (lw_notifier_reconcile) before it counts as resolved. */
#define RECONCILE_GRACE_NS (5 * LW_NS_PER_SEC)
/* Notifications due wait for the queue to be drained (the lines read together are told in one
 * notification), but no longer than this when it never is. */
#define NOTIFY_MAX_WAIT_NS (200 * LW_NS_PER_SEC / 1000)
/* At a stop, how long the last records wait for the engine's next evaluation of the groups
 * they changed (it evaluates those at most every 50 ms). */
#define STOP_EVAL_WAIT_NS (60 * 1000 * 1000)
/* With a multiline input, how often held records are looked at for their timeout. */
#define EXPIRE_EVERY_NS (50 * LW_NS_PER_SEC / 1000)
/* The input index of the daemon's own sync marker (sync_input): past every config input. */
#define SYNC_INPUT UINT32_MAX
/* At most one log line this often about rebuilds that could not reach a whole window back. */
#define PARTIAL_LOG_EVERY_NS (10 * LW_NS_PER_SEC)

/* What the pipeline knows of one stream of one input: the last position read, as the input's
 * cursor and stream identity (encoded only when a flush writes it), and its decoding state. */
struct ckpt {
    uint32_t input;
    char *stream;
    uint64_t hash; /* of input and stream, looked at before the strcmp */
    uint64_t ident[2];
    int64_t cursor;
    bool dirty;
    bool ds_ready;        /* ds is set up (lw_dstate_setup) */
    uint64_t ds_ident[2]; /* the stream identity ds's cursors are of */
    struct lw_dstate ds;  /* Docker/CRI partial lines and multiline records of this stream */
    /* The stream's extra labels (docker's label.<key>), held for the records ds gives back after
     * their batch is gone: one reference, replaced when a batch brings another set. */
    struct lw_labelset *set;
    /* A sharded input's stream (a Kafka partition): its shard id (lw_store_shard_id), given to
     * every record of it; 0 for the streams of other inputs. */
    uint32_t shard;
    /* Between REPLAY_START and REPLAY_END: re-applied to the engine a reload builds, as is the
     * time a partial replay began (0: none). */
    bool quiet;
    int64_t partial_ns;
};

/* A position a flush committed, on its way to its input's checkpoint op on the I/O thread. */
struct committed {
    uint32_t input;
    char *stream;
    struct lw_pos pos;
};

struct daemon {
    struct lw_config *cfg;
    struct lw_ruleset *rs;  /* pipeline thread */
    struct lw_engine *eng;  /* pipeline thread */
    struct lw_store *st;    /* pipeline thread: the write connection */
    struct lw_store *st_io; /* I/O thread: checkpoint lookups */
    struct lw_queue *q;
    struct lw_worker **workers;
    uv_loop_t loop;
    uv_signal_t sig[3];
    uv_async_t room;         /* the pipeline drained a queue that was full: inputs read on */
    uv_async_t ckpt_async;   /* the pipeline committed positions: inputs hear of them */
    uv_async_t end_async;    /* every input has reached its end (stdin): stop as on SIGTERM */
    uv_async_t reload_async; /* POST /api/reload: inputs re-read their files as on SIGHUP */
    pthread_mutex_t ckpt_mu; /* guards committed, filled by the pipeline, emptied by the loop */
    struct committed *committed;
    size_t ncommitted;
    struct committed *forget; /* guarded by ckpt_mu: streams inputs forgot, deleted by a flush */
    size_t nforget;
    pthread_t pipeline;
    atomic_bool reload, stopping;
    size_t nended;       /* pipeline thread: inputs whose end (lw_batch.eof) was processed */
    bool ended;          /* pipeline thread: every input has ended: the run ends */
    bool has_multiline;  /* an input joins multiline records (they expire on the tick) */
    int64_t last_expire; /* pipeline thread: when held records were last looked at (mono) */
    bool stopped_inputs;
    uint64_t usage_sig;       /* what alert_usage in the state file last said (publish_usage) */
    struct overflow_log *ovf; /* pipeline thread: per alert, its max_groups log (log_overflow) */
    size_t novf;
    struct ckpt *ckpts; /* pipeline thread */
    size_t nckpts;
    struct lw_notifier *notifier; /* pipeline thread */
    struct lw_http_server *http;
    int lock_fd;               /* the state file's lock (lw_store_lock), held until the end */
    struct lw_metrics metrics; /* written by the pipeline thread, read by http */
    int64_t silences_read_ns;  /* when silences were last read from the store */
    uint64_t malformed;
    uint64_t malformed_unlogged; /* pipeline thread: malformed lines not yet in the log */
    int64_t malformed_log_ns;    /* when one last was (monotonic) */
    struct lw_engine_stats base; /* counts of engines replaced by reloads */
    uint64_t *base_late_in;      /* and their late events, per input */
    uint64_t nonfinite_logged;   /* non-finite values already said in the log */
    int64_t nonfinite_log_ns;    /* when (monotonic) */
    bool sharded;                /* an input is sharded: the engine keeps buckets per shard */
    uint64_t partial_unlogged;   /* pipeline thread: partial rebuilds not yet in the log */
    int64_t partial_log_ns;      /* when one last was (monotonic) */
    /* The sync hook (sync_input): the I/O thread asks (sync_asked) and waits on sync_cv until
     * the pipeline has flushed past its marker (sync_done, with that flush's result). */
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    uint64_t sync_asked, sync_done;
    int sync_rc;
    atomic_bool pipeline_up; /* the pipeline thread runs: a sync marker will be seen */
    struct lw_asker *asker;  /* the HTTP thread's questions, answered by the pipeline thread */
};

/* ---------------------------------------------------------------- pipeline thread */

static void on_alert(const struct lw_alert_def *def, const char *json, size_t len, bool firing,
                     void *payload)
{
    struct daemon *d = payload;
    lw_notifier_transition(d->notifier, json, len, firing, lw_now_ns());
    lw_log(LW_INFO, "alert %s %s", def->name, firing ? "firing" : "resolved");
}

/* A sharded input's stream is (again) read here: its row is kept, not deleted by a flush that
 * a RELEASE of it before asked for (a partition revoked and assigned back before a flush). */
static void unforget(struct daemon *d, uint32_t input, const char *stream)
{
    pthread_mutex_lock(&d->ckpt_mu);
    for (size_t i = 0; i < d->nforget;) {
        if (d->forget[i].input == input && !strcmp(d->forget[i].stream, stream)) {
            free(d->forget[i].stream);
            d->forget[i] = d->forget[--d->nforget];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&d->ckpt_mu);
}

/* A new stream of a sharded input: its shard id, which its bucket rows are kept under. */
static void shard_for(struct daemon *d, struct ckpt *c)
{
    const struct lw_input *in = d->cfg->inputs[c->input].in;
    struct lw_err err = {0};
    if (!in->ops->sharded || !c->stream[0])
        return;
    unforget(d, c->input, c->stream);
    if (lw_store_shard_id(d->st, in->name, c->stream, &c->shard, &err) < 0) {
        /* Its records count as unsharded then: a later RELEASE cannot take them out. */
        c->shard = 0;
        lw_log(LW_ERROR,
               "[input:%s] stream %s: no shard id in %s (%s): its events cannot be told apart "
               "when it is given away",
               in->name, c->stream, d->cfg->state, err.msg);
    }
}

static struct ckpt *ckpt_for(struct daemon *d, uint32_t input, const char *stream)
{
    /* The hash first: one lookup per batch, among as many streams as files followed. */
    uint64_t h = lw_hash64(stream, strlen(stream), LW_HASH_SEED + input);
    for (size_t i = 0; i < d->nckpts; i++)
        if (d->ckpts[i].hash == h && d->ckpts[i].input == input &&
            !strcmp(d->ckpts[i].stream, stream))
            return &d->ckpts[i];
    d->ckpts = lw_realloc(d->ckpts, (d->nckpts + 1) * sizeof *d->ckpts);
    d->ckpts[d->nckpts] = (struct ckpt){.input = input, .stream = lw_strdup(stream), .hash = h};
    if (d->sharded)
        shard_for(d, &d->ckpts[d->nckpts]);
    return &d->ckpts[d->nckpts++];
}

/* A line whose envelope did not decode (not syslog at all on a syslog input): counted per input,
 * and said in the log at most every 10 s. Its text is not logged: it may hold anything. */
static void malformed(struct daemon *d, const struct lw_rec *rec)
{
    d->malformed++;
    d->malformed_unlogged++;
    if (rec->input < d->cfg->ninputs)
        atomic_fetch_add_explicit(&d->metrics.malformed_in[rec->input], 1, memory_order_relaxed);
    int64_t t = lw_mono_ns();
    if (d->malformed_log_ns && t - d->malformed_log_ns < 10 * LW_NS_PER_SEC)
        return;
    const struct lw_cfg_input *ci =
        rec->input < d->cfg->ninputs ? &d->cfg->inputs[rec->input] : NULL;
    lw_log(LW_WARN,
           "[input:%s] %llu line(s) did not decode as %s (the last one of %zu bytes): kept whole "
           "as raw records at their arrival time (logwarden_input_malformed_total)",
           ci ? ci->name : "?", (unsigned long long)d->malformed_unlogged,
           ci ? lw_format_name(ci->format) : "?", rec->body.n);
    d->malformed_unlogged = 0;
    d->malformed_log_ns = t;
}

/* One line's outcome (rc as lw_decode_stream's): a malformed line is counted, and matched as the
 * raw line it is. */
static void record(struct daemon *d, struct lw_rec *rec, int rc, int64_t now)
{
    if (rc < 0)
        malformed(d, rec);
    if (rc != 0)
        lw_engine_record(d->eng, rec, now);
}

/* The checkpoint of a stream with positions: after the last record handed to the engine, before
 * any record still held (a record cut by a crash is read again whole). */
static void set_position(struct ckpt *c, const uint64_t ident[2], int64_t last)
{
    if (!c->stream[0] || (c->ds_ready && !lw_dstate_position(&c->ds, &last)))
        return;
    memcpy(c->ident, ident, sizeof c->ident);
    c->cursor = last;
    c->dirty = true;
}

/* Hands the engine what c holds back that is complete (lw_dstate_drain's what). */
static void drain(struct daemon *d, struct ckpt *c, enum lw_drain what, const struct lw_str *labels,
                  int64_t now)
{
    const struct lw_cfg_input *ci = &d->cfg->inputs[c->input];
    struct lw_rec rec;
    while (
        lw_dstate_drain(&c->ds, what, ci->format, ci->name, ci->tz, labels, c->input, now, &rec)) {
        rec.extra = c->set;
        rec.shard = c->shard;
        lw_engine_record(d->eng, &rec, now);
    }
}

/* The decoding state of b's stream, when its lines may be held back (container partial lines, a
 * multiline config). A new identity under the same stream (a rotated file) ends what the old
 * one held: its cursors mean nothing in the new one. */
static struct lw_dstate *stream_state(struct daemon *d, struct ckpt *c, struct lw_batch *b,
                                      int64_t now)
{
    const struct lw_cfg_input *ci = &d->cfg->inputs[b->input];
    if (!c->ds_ready) {
        lw_dstate_setup(&c->ds, ci->multiline, ci->in->max_line, &ci->in->join, ci->name);
        c->ds_ready = true;
    }
    if (c->stream[0] && memcmp(c->ds_ident, b->ident, sizeof c->ds_ident)) {
        if (c->ds.seen) {
            drain(d, c, LW_DRAIN_ALL, b->labels, now);
            set_position(c, c->ds_ident, c->ds.last); /* the old identity's end */
        }
        c->ds.seen = false;
        memcpy(c->ds_ident, b->ident, sizeof c->ds_ident);
    }
    return &c->ds;
}

/* The last batch of an input that ends (stdin at EOF): what it held is complete; once every
 * input has ended the run ends (docs/inputs.md, stdin). */
static void end_of_input(struct daemon *d, struct lw_batch *b, struct ckpt *c, int64_t now)
{
    if (c)
        drain(d, c, LW_DRAIN_ALL, b->labels, now);
    if (++d->nended < d->cfg->ninputs) {
        lw_log(LW_INFO, "[input:%s] end of input; the other inputs keep running",
               d->cfg->inputs[b->input].name);
        return;
    }
    lw_log(LW_INFO, "[input:%s] end of input: evaluating, notifying and stopping",
           d->cfg->inputs[b->input].name);
    d->ended = true;
    uv_async_send(&d->end_async);
}

/* The stream's decoding state starts again: what it held belongs to a history that is being
 * read again (REPLAY_START), was read again (REPLAY_END) or is another instance's (RELEASE). */
static void reset_stream(struct ckpt *c)
{
    if (!c->ds_ready)
        return;
    lw_dstate_free(&c->ds);
    memset(&c->ds, 0, sizeof c->ds);
    c->ds_ready = false;
    memset(c->ds_ident, 0, sizeof c->ds_ident);
}

/* RELEASE: the stream is another instance's now. Its entry goes at once (its position, dirty
 * or not, is no longer this instance's to write) and its row is deleted by the next flush,
 * through the same list as the streams inputs forget (ckpt_forget). */
static void release_stream(struct daemon *d, struct ckpt *c)
{
    pthread_mutex_lock(&d->ckpt_mu);
    d->forget = lw_realloc(d->forget, (d->nforget + 1) * sizeof *d->forget);
    d->forget[d->nforget++] = (struct committed){c->input, c->stream, {0}}; /* takes stream */
    pthread_mutex_unlock(&d->ckpt_mu);
    lw_dstate_free(&c->ds);
    lw_labelset_unref(c->set);
    *c = d->ckpts[--d->nckpts];
}

/* Logs partial rebuilds, at most one line every PARTIAL_LOG_EVERY_NS for all of them. */
static void log_partial(struct daemon *d, const char *input, const char *stream)
{
    d->partial_unlogged++;
    if (lw_mono_ns() - d->partial_log_ns < PARTIAL_LOG_EVERY_NS && d->partial_log_ns)
        return;
    lw_log(LW_WARN,
           "[input:%s] %s: retention removed part of the longest window: its windows are rebuilt "
           "from what is left; absent and below alerts wait for a whole live window (%llu such "
           "rebuilds since the last line; logwarden_input_partial_windows_total)",
           input, stream, (unsigned long long)d->partial_unlogged);
    d->partial_unlogged = 0;
    d->partial_log_ns = lw_mono_ns();
}

/* A sharded input's marker (lw_batch_kind, ingest.h): what to do with one stream's share of
 * the windows. The input logs its rebalances (a line per partition here would be 60 a
 * rebalance): the daemon's lines are debug, but for partial rebuilds. Returns false for REPLAY,
 * whose records are processed as lines are (without positions), true when the batch is done with.
 */
static bool marker(struct daemon *d, struct lw_batch *b, int64_t now)
{
    const struct lw_cfg_input *ci = &d->cfg->inputs[b->input];
    if (b->kind == LW_BATCH_REPLAY)
        return false;
    if (!ci->in->ops->sharded || !b->stream || !b->stream[0]) {
        lw_log(LW_ERROR, "[input:%s] a marker (kind %d) %s: ignored (a bug of the input)", ci->name,
               (int)b->kind, ci->in->ops->sharded ? "without a stream" : "from an unsharded input");
        return true;
    }
    struct ckpt *c = ckpt_for(d, b->input, b->stream);
    if (!c->shard && b->kind != LW_BATCH_RELEASE) {
        /* Shard 0 is every unsharded input's: forgetting it would empty their windows. */
        lw_log(LW_ERROR, "[input:%s] %s: no shard id (see above): marker %d ignored", ci->name,
               c->stream, (int)b->kind);
        return true;
    }
    switch (b->kind) {
    case LW_BATCH_REPLAY_START:
        lw_engine_forget_shard(d->eng, c->shard);
        lw_engine_quiet_shard(d->eng, c->shard, true);
        c->quiet = true;
        reset_stream(c);
        atomic_fetch_add(&d->metrics.rebuilds_in[b->input], 1);
        lw_log(LW_DEBUG, "[input:%s] %s: rebuilding its windows (read back, no notifications)",
               ci->name, c->stream);
        if (b->partial) {
            lw_engine_partial(d->eng, now);
            c->partial_ns = now;
            atomic_fetch_add(&d->metrics.partial_in[b->input], 1);
            log_partial(d, ci->name, c->stream);
        }
        break;
    case LW_BATCH_REPLAY_END:
        /* Records the replay held (multiline) are complete: counted, still quietly. */
        if (c->ds_ready && lw_dstate_holds(&c->ds))
            drain(d, c, LW_DRAIN_ALL, b->labels, now);
        reset_stream(c);
        if (b->live_pos)
            set_position(c, b->ident, b->live_cursor);
        lw_engine_quiet_shard(d->eng, c->shard, false);
        c->quiet = false;
        c->partial_ns = 0;
        lw_log(LW_DEBUG, "[input:%s] %s: windows rebuilt, live", ci->name, c->stream);
        break;
    case LW_BATCH_RELEASE:
        if (c->shard) {
            lw_engine_forget_shard(d->eng, c->shard);
            lw_engine_quiet_shard(d->eng, c->shard, false);
        }
        lw_log(LW_DEBUG, "[input:%s] %s: given away: its windows are forgotten", ci->name,
               c->stream);
        release_stream(d, c);
        break;
    default:
        lw_log(LW_ERROR, "[input:%s] unknown batch kind %d: ignored (a bug of the input)", ci->name,
               (int)b->kind);
        break;
    }
    return true;
}

static void sync_marker(struct daemon *d, const struct lw_batch *b);

static void process(struct daemon *d, struct lw_batch *b, int64_t now)
{
    if (b->input >= d->cfg->ninputs) {
        if (b->input == SYNC_INPUT)
            sync_marker(d, b);
        return;
    }
    /* The one test of the line path: markers carry no lines. */
    if (b->kind != LW_BATCH_LINES && marker(d, b, now))
        return;
    const struct lw_cfg_input *ci = &d->cfg->inputs[b->input];
    bool held = ci->format == LW_FMT_DOCKER || ci->format == LW_FMT_CRI || ci->multiline;
    /* Records of a stream without positions (stdin) are held under the stream "". */
    struct ckpt *c = b->stream ? ckpt_for(d, b->input, b->stream)
                     : held    ? ckpt_for(d, b->input, "")
                               : NULL;
    struct lw_dstate *ds = held && c ? stream_state(d, c, b, now) : NULL;
    if (ds && c->set != b->set) {
        lw_labelset_unref(c->set);
        c->set = lw_labelset_ref(b->set);
    }
    uint32_t shard = c ? c->shard : 0;
    for (size_t i = 0; i < b->n; i++) {
        struct lw_rec rec;
        int rc = ds ? lw_decode_stream(ds, ci->format, ci->name, ci->tz, b->labels, &b->recs[i],
                                       b->input, now, &rec)
                    : (lw_decode(ci->format, ci->name, ci->tz, b->labels, &b->recs[i], b->input,
                                 now, &rec) < 0
                           ? -1
                           : 1);
        if (!rec.extra) /* a record's own (Kafka headers) */
            rec.extra = b->set;
        rec.shard = shard;
        record(d, &rec, rc, now);
    }
    if (b->n) /* per batch, not per line: /health's last_record_at and stale_after */
        atomic_store_explicit(&d->metrics.last_rec_in[b->input], now, memory_order_relaxed);
    if (b->eof)
        end_of_input(d, b, c, now);
    /* A batch with a stream carries positions: the checkpoint is after its last line. Lines read
     * back (REPLAY) were positioned when they were first read. */
    if (c && b->n && b->kind == LW_BATCH_LINES)
        set_position(c, b->ident, b->recs[b->n - 1].cursor);
}

/* Hands the engine what every stream holds that `what` says is complete, and moves each
 * stream's checkpoint up to what it still holds. */
static void drain_all(struct daemon *d, enum lw_drain what, int64_t now)
{
    for (size_t i = 0; i < d->nckpts; i++) {
        struct ckpt *c = &d->ckpts[i];
        if (!c->ds_ready || !lw_dstate_holds(&c->ds))
            continue;
        drain(d, c, what, NULL, now);
        if (!c->quiet) /* a replay's cursors are behind the stream's position */
            set_position(c, c->ds_ident, c->ds.last);
    }
}

/* Pipeline tick: multiline records whose timeout has passed are complete. */
static void expire_records(struct daemon *d, int64_t now)
{
    if (!d->has_multiline || lw_mono_ns() - d->last_expire < EXPIRE_EVERY_NS)
        return;
    d->last_expire = lw_mono_ns();
    drain_all(d, LW_DRAIN_EXPIRED, now);
}

/* At a stop: the multiline records held are complete (a partial container line stays held: its
 * stream is read again from before it). */
static void drain_at_stop(struct daemon *d, int64_t now)
{
    drain_all(d, LW_DRAIN_RECORDS, now);
}

struct silences {
    struct lw_silence_row *rows;
    size_t n;
};

static void on_silence(const struct lw_silence_row *r, void *payload)
{
    struct silences *s = payload;
    s->rows = lw_realloc(s->rows, (s->n + 1) * sizeof *s->rows);
    s->rows[s->n++] = (struct lw_silence_row){
        lw_strdup(r->id), lw_strdup(r->matchers), r->starts_ns, r->ends_ns, NULL, NULL,
        r->created_ns};
}

/* Silences are written by `logwarden silence` and the HTTP API on other connections: they are
 * read again before every flush (a small table). */
static void read_silences(struct daemon *d, int64_t now)
{
    struct silences s = {0};
    struct lw_err err = {0};
    /* Every flush: a silence that was written before a notification is collected must hold. */
    d->silences_read_ns = now;
    if (lw_store_silences(d->st, false, now, on_silence, &s, &err) == 0)
        lw_notifier_set_silences(d->notifier, s.rows, s.n);
    else
        lw_log(LW_WARN, "cannot read silences: %s", err.msg);
    for (size_t i = 0; i < s.n; i++) {
        free((char *)s.rows[i].id);
        free((char *)s.rows[i].matchers);
    }
    free(s.rows);
}

static void wake_sinks(struct daemon *d, const struct lw_flush *f)
{
    for (size_t i = 0; i < f->noutbox; i++)
        for (size_t s = 0; s < d->cfg->nsinks; s++)
            if (!strcmp(d->cfg->sinks[s]->name, f->outbox[i].sink))
                lw_worker_wake(d->workers[s]);
}

/* Notifications due (a transition's group_wait has passed): the outbox rows and the notifier's
 * rows that say what was told, in a small transaction of their own, after the batch that made
 * them rather than at the next periodic flush. Windows, alert states and checkpoints wait for
 * that flush; lw_notifier_reconcile covers a crash in between (notify.h). */
static void notify_due(struct daemon *d)
{
    struct lw_flush f = {0};
    struct lw_err err = {0};
    int64_t now = lw_now_ns();
    if (!lw_notifier_due(d->notifier, now))
        return;
    read_silences(d, now);
    lw_notifier_collect(d->notifier, now, &f);
    if (f.noutbox || f.nnotifs) {
        if (lw_store_flush(d->st, &f, &err) < 0) {
            lw_log(LW_ERROR, "writing notifications to %s failed, will retry: %s", d->cfg->state,
                   err.msg);
            lw_health_flushed(&d->metrics, false, err.msg, lw_now_ns(), -1);
            lw_notifier_collect_abort(d->notifier);
            return;
        }
    }
    lw_notifier_collect_done(d->notifier);
    wake_sinks(d, &f);
}

/* The dirty positions as store rows (crows) and as what the inputs hear once they are committed
 * (done, its streams owned): the input encodes each here, once per flush, not per line. */
static size_t collect_positions(struct daemon *d, struct lw_ckpt_row *crows, struct committed *done)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nckpts; i++) {
        const struct ckpt *c = &d->ckpts[i];
        const struct lw_input *in = d->cfg->inputs[c->input].in;
        if (!c->dirty || !in->ops->pos_encode)
            continue;
        done[n] = (struct committed){c->input, lw_strdup(c->stream), {0}};
        in->ops->pos_encode(c->ident, c->cursor, &done[n].pos);
        crows[n] = (struct lw_ckpt_row){in->name, c->stream, done[n].pos.b, done[n].pos.n};
        n++;
    }
    return n;
}

/* After the commit: the positions go to the I/O thread, which calls the inputs' checkpoint. */
static void announce_positions(struct daemon *d, struct committed *done, size_t n)
{
    if (!n)
        return;
    pthread_mutex_lock(&d->ckpt_mu);
    d->committed = lw_realloc(d->committed, (d->ncommitted + n) * sizeof *d->committed);
    memcpy(d->committed + d->ncommitted, done, n * sizeof *done);
    d->ncommitted += n;
    pthread_mutex_unlock(&d->ckpt_mu);
    uv_async_send(&d->ckpt_async);
}

static void free_committed(struct committed *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].stream);
    free(c);
}

/* A flush that failed keeps the forgotten streams for the next one. */
static void requeue_forget(struct daemon *d, struct committed *c, size_t n)
{
    pthread_mutex_lock(&d->ckpt_mu);
    d->forget = lw_realloc(d->forget, (d->nforget + n + 1) * sizeof *d->forget);
    if (n) /* c is NULL when there is none: memcpy must not see it (UB) */
        memcpy(d->forget + d->nforget, c, n * sizeof *c);
    d->nforget += n;
    pthread_mutex_unlock(&d->ckpt_mu);
    free(c);
}

/* The pipeline's entry of a stream whose row was deleted: the stream will not come back. */
static void drop_ckpt(struct daemon *d, uint32_t input, const char *stream)
{
    for (size_t i = 0; i < d->nckpts; i++) {
        struct ckpt *c = &d->ckpts[i];
        if (c->input != input || strcmp(c->stream, stream) != 0 || c->dirty)
            continue;
        free(c->stream);
        lw_dstate_free(&c->ds);
        lw_labelset_unref(c->set);
        d->ckpts[i] = d->ckpts[--d->nckpts];
        return;
    }
}

/* Writes windows, alert states, checkpoints, notification states and notifications in one
 * transaction. 0, or -1 when it failed (what it would have written waits for the next). */
static int flush(struct daemon *d)
{
    int rc = 0;
    struct lw_flush f = {0};
    struct lw_err err = {0};
    pthread_mutex_lock(&d->ckpt_mu);
    struct committed *gone = d->forget;
    size_t ngone = d->nforget;
    d->forget = NULL;
    d->nforget = 0;
    pthread_mutex_unlock(&d->ckpt_mu);
    struct lw_ckpt_row *crows = lw_calloc(d->nckpts + ngone + 1, sizeof *crows);
    struct committed *done = lw_calloc(d->nckpts + 1, sizeof *done);
    int64_t now = lw_now_ns();
    read_silences(d, now);
    lw_engine_collect(d->eng, &f);
    lw_notifier_collect(d->notifier, now, &f);
    f.nckpts = collect_positions(d, crows, done);
    size_t npos = f.nckpts;
    for (size_t i = 0; i < ngone; i++)
        crows[f.nckpts++] =
            (struct lw_ckpt_row){d->cfg->inputs[gone[i].input].in->name, gone[i].stream, NULL, 0};
    f.ckpts = crows;
    int64_t t0 = lw_mono_ns(), took = -1;
    if (f.bucket_src || f.nstates || f.nckpts || f.noutbox || f.nnotifs || f.nhistory) {
        rc = lw_store_flush(d->st, &f, &err) < 0 ? -1 : 0;
        took = lw_mono_ns() - t0;
        lw_health_flushed(&d->metrics, rc == 0, err.msg, lw_now_ns(), took);
        if (rc < 0) {
            lw_log(LW_ERROR, "flush to %s failed, will retry: %s", d->cfg->state, err.msg);
            lw_notifier_collect_abort(d->notifier);
            requeue_forget(d, gone, ngone);
            gone = NULL;
            ngone = 0;
            goto out;
        }
    } else {
        lw_health_flushed(&d->metrics, true, NULL, lw_now_ns(), -1); /* nothing left unsaved */
    }
    lw_engine_collect_done(d->eng);
    lw_notifier_collect_done(d->notifier);
    for (size_t i = 0; i < d->nckpts; i++)
        d->ckpts[i].dirty = false;
    for (size_t i = 0; i < ngone; i++)
        drop_ckpt(d, gone[i].input, gone[i].stream);
    wake_sinks(d, &f);
    announce_positions(d, done, npos);
    npos = 0; /* handed over */
out:
    for (size_t i = 0; i < npos; i++)
        free(done[i].stream);
    free_committed(gone, ngone);
    free(done);
    free(crows);
    return rc;
}

/* The pipeline reached a sync marker: everything queued before it is processed; a flush now
 * commits it, and the waiting I/O thread hears how that went. */
static void sync_marker(struct daemon *d, const struct lw_batch *b)
{
    int rc = flush(d) < 0 ? LW_EIO : 0;
    pthread_mutex_lock(&d->sync_mu);
    if (b->ident[0] > d->sync_done) {
        d->sync_done = b->ident[0];
        d->sync_rc = rc;
    }
    pthread_cond_broadcast(&d->sync_cv);
    pthread_mutex_unlock(&d->sync_mu);
}

static void restore_notif(const struct lw_notif_row *row, void *payload)
{
    lw_notifier_restore(payload, row);
}

static void restore_bucket(const struct lw_bucket_row *row, void *payload)
{
    lw_engine_restore_bucket(payload, row);
}

static void restore_state(const struct lw_state_row *row, void *payload)
{
    lw_engine_restore_state(payload, row);
}

struct firing {
    char (*fps)[17];
    size_t n;
    const struct lw_ruleset *rs;
    int64_t now;
};

static void on_firing_state(const struct lw_state_row *row, void *payload)
{
    struct firing *f = payload;
    if (row->state != LW_FIRING || strlen(row->fingerprint) != 16)
        return;
    f->fps = lw_realloc(f->fps, (f->n + 1) * sizeof *f->fps);
    memcpy(f->fps[f->n++], row->fingerprint, 17);
}

static int cmp_fp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The engine does not have it firing: wait for its window (where the events that fired it can
 * still count when read again), then take it as resolved. */
static int64_t firing_hold(const char *fp, const char *alert, void *payload)
{
    struct firing *f = payload;
    if (f->n && strlen(fp) == 16 && bsearch(fp, f->fps, f->n, sizeof *f->fps, cmp_fp))
        return 0;
    int64_t hold = 0;
    for (size_t i = 0; i < f->rs->nalerts; i++) {
        const struct lw_alert_def *a = &f->rs->alerts[i];
        if (!strcmp(a->name, alert))
            hold = lw_kind_retention_ns(a);
    }
    return f->now + hold + RECONCILE_GRACE_NS;
}

/* Notifications are committed before the alert states that caused them (notify_due): after a
 * crash, alerts the notifier has as firing and the engine's states do not are unconfirmed. */
static int reconcile_notifs(struct daemon *d)
{
    struct firing f = {.rs = d->rs, .now = lw_now_ns()};
    struct lw_err err = {0};
    if (lw_store_load_states(d->st, on_firing_state, &f, &err) < 0) {
        lw_log(LW_ERROR, "cannot load alert states from %s: %s", d->cfg->state, err.msg);
        free(f.fps);
        return -1;
    }
    if (f.n)
        qsort(f.fps, f.n, sizeof *f.fps, cmp_fp); /* fps is NULL without firing states */
    size_t n = lw_notifier_reconcile(d->notifier, firing_hold, &f);
    if (n)
        lw_log(LW_INFO,
               "%zu notification states say firing where the alert is not firing in the saved "
               "alert states (a crash): resolved unless it fires again",
               n);
    free(f.fps);
    return 0;
}

static int engine_from_store(struct daemon *d, struct lw_ruleset *rs, struct lw_engine **out)
{
    struct lw_err err = {0};
    struct lw_engine *e = lw_engine_new(rs, LW_MODE_LIVE, lw_now_ns(), on_alert, d);
    lw_engine_explain_opts(e, d->cfg->explain_lines, d->cfg->explain_memory);
    if (d->rs && d->rs != rs)
        lw_engine_carry(e, d->rs); /* a reload: what changed decides what carries over */
    /* Before any restore: the rows' shard says whose events each bucket holds. */
    if (d->sharded)
        lw_engine_shards(e, true);
    if (lw_store_load_buckets(d->st, restore_bucket, e, &err) < 0 ||
        lw_store_load_states(d->st, restore_state, e, &err) < 0) {
        lw_log(LW_ERROR, "cannot load state from %s: %s", d->cfg->state, err.msg);
        lw_engine_free(e);
        return -1;
    }
    /* A reload during a rebuild: the replay goes on quietly in the new engine (what it read so
     * far was flushed before, and restored above). */
    for (size_t i = 0; i < d->nckpts; i++) {
        if (d->ckpts[i].quiet)
            lw_engine_quiet_shard(e, d->ckpts[i].shard, true);
        if (d->ckpts[i].partial_ns)
            lw_engine_partial(e, d->ckpts[i].partial_ns);
    }
    *out = e;
    return 0;
}

/* How far back a rebuild must read (lw_input.longest_window_ns): the longest span an alert's
 * value reads, two windows for spike. */
static void set_longest_window(struct daemon *d, const struct lw_ruleset *rs)
{
    int64_t w = 0;
    for (size_t i = 0; i < rs->nalerts; i++) {
        const struct lw_alert_def *a = &rs->alerts[i];
        int64_t aw = a->window_ns * lw_kind_evals[a->kind].windows;
        if (aw > w)
            w = aw;
    }
    for (size_t i = 0; i < d->cfg->ninputs; i++)
        atomic_store(&d->cfg->inputs[i].in->longest_window_ns, w);
}

/* A reload also takes the new routes, inhibit rules and notify settings when the sinks are the
 * same (names and types, in order): their workers keep running. Other changes need a restart. */
static void apply_routing(struct daemon *d, struct lw_config *nc)
{
    struct lw_config *c = d->cfg;
    bool same = nc->nsinks == c->nsinks;
    for (size_t i = 0; same && i < c->nsinks; i++)
        same =
            !strcmp(nc->sinks[i]->name, c->sinks[i]->name) && nc->sinks[i]->ops == c->sinks[i]->ops;
    if (!same) {
        lw_log(LW_WARN, "reload: sinks changed; restart to apply sinks, routes and notify");
        return;
    }
    /* The notifier borrows c->notify: it sees the new contents from its next call on. */
    struct lw_notify_cfg old = c->notify;
    c->notify = nc->notify;
    nc->notify = old; /* freed with the new config */
    c->max_age_ns = nc->max_age_ns;
    /* The workers run on: they took max_age when they started and are told the new one. */
    for (size_t i = 0; i < c->nsinks; i++)
        lw_worker_set_max_age(d->workers[i], c->max_age_ns);
}

/* SIGHUP: new rules replace the running ones only if they load cleanly. Windows and alert
 * states carry over through the state file, so a reload neither forgets nor re-announces. */
static void reload(struct daemon *d, struct lw_ask *q)
{
    struct lw_diag diag = {0};
    struct lw_config *nc = NULL;
    struct lw_ruleset *rs = NULL;
    struct lw_engine *e = NULL;
    const char *said = "reload failed: the running rules stay in place";
    lw_log(LW_INFO, "reloading %s", d->cfg->path);
    /* systemd's reload protocol: RELOADING=1 with the time it began, READY=1 once done, whether
     * the new rules were taken or refused (the old ones run on: the service is ready either way).
     */
    lw_sdnotify("RELOADING=1\nSTATUS=reloading %s\nMONOTONIC_USEC=%lld", d->cfg->path,
                (long long)(lw_mono_ns() / 1000));
    if (lw_config_load(&nc, d->cfg->path, &diag) == 0) {
        /* Inputs keep running as they are: the new rules see the old inputs' names. */
        struct lw_rules_env env = {d->cfg->rinputs, d->cfg->ninputs};
        lw_ruleset_load(&rs, (const char *const *)nc->rule_files, nc->nrule_files, &env, &diag);
    }
    if (!rs) {
        json_t *errors = json_array();
        for (size_t i = 0; i < diag.n; i++) {
            lw_log(LW_ERROR, "reload: %s", diag.msgs[i]);
            json_array_append_new(errors, json_string(diag.msgs[i]));
        }
        lw_log(LW_ERROR, "reload failed: the running rules stay in place");
        if (q) {
            q->code = 422;
            q->answer = json_pack("{s:s,s:o}", "status", "refused", "errors", errors);
        } else {
            json_decref(errors);
        }
        goto out;
    }
    /* Said at every reload, as at start: the alerts may be new. */
    struct lw_diag split = {0};
    lw_config_split_warnings(d->cfg, rs, &split);
    for (size_t i = 0; i < split.n; i++)
        lw_log(LW_WARN, "%s", split.msgs[i]);
    lw_diag_free(&split);
    lw_engine_snapshot(d->eng); /* the new engine starts without samples: the file keeps them */
    flush(d);
    lw_ruleset_carry_counters(rs, d->rs);
    if (engine_from_store(d, rs, &e) < 0) {
        lw_ruleset_free(rs);
        if (q) {
            q->code = 500;
            q->answer = json_pack("{s:s,s:[s]}", "status", "failed", "errors",
                                  "cannot read the state file: see the log");
        }
        goto out;
    }
    struct lw_engine_stats old;
    lw_engine_stats(d->eng, &old);
    d->base.records += old.records;
    d->base.events += old.events;
    d->base.late += old.late;
    d->base.transitions += old.transitions;
    d->base.overflow += old.overflow;
    d->base.nonfinite += old.nonfinite;
    size_t nl;
    const uint64_t *late = lw_engine_late_by_input(d->eng, &nl);
    for (size_t i = 0; i < nl && i < d->cfg->ninputs; i++)
        d->base_late_in[i] += late[i];
    apply_routing(d, nc);
    lw_engine_free(d->eng);
    lw_ruleset_free(d->rs);
    d->eng = e;
    d->rs = rs;
    set_longest_window(d, rs);
    lw_log(LW_INFO, "reloaded: %zu events, %zu alerts", rs->nevents, rs->nalerts);
    said = "reloaded";
    if (q)
        q->answer = json_pack("{s:s,s:I,s:I}", "status", "reloaded", "events",
                              (json_int_t)rs->nevents, "alerts", (json_int_t)rs->nalerts);
out:
    lw_sdnotify("READY=1\nSTATUS=%s: %zu inputs, %zu events, %zu alerts", said, d->cfg->ninputs,
                d->rs->nevents, d->rs->nalerts);
    lw_config_free(nc);
    lw_diag_free(&diag);
}

/* Once a second: the bodies that did not decode, per input and reason, and the inputs' health
 * (lw_health_watch logs each input that goes degraded and back). */
static void publish_health(struct daemon *d)
{
    int64_t now = lw_now_ns();
    if (d->metrics.health_checked_ns && now - d->metrics.health_checked_ns < LW_NS_PER_SEC)
        return;
    for (size_t i = 0; i < d->cfg->ninputs; i++)
        for (int r = 0; r < LW_UNDEC_COUNT; r++)
            atomic_store_explicit(&d->metrics.undecoded_in[i * LW_UNDEC_COUNT + r],
                                  lw_ruleset_undecoded(d->rs, i, (enum lw_undecoded)r),
                                  memory_order_relaxed);
    lw_health_watch(d->cfg, &d->metrics, now);
}

static void publish(struct daemon *d)
{
    struct lw_engine_stats s;
    struct lw_notifier_stats ns;
    lw_engine_stats(d->eng, &s);
    lw_notifier_stats(d->notifier, &ns);
    /* A reload starts a new engine: counters continue from what was published. */
    if (s.records + d->base.records >= atomic_load(&d->metrics.records)) {
        atomic_store(&d->metrics.records, d->base.records + s.records);
        atomic_store(&d->metrics.events, d->base.events + s.events);
        atomic_store(&d->metrics.late, d->base.late + s.late);
        atomic_store(&d->metrics.transitions, d->base.transitions + s.transitions);
        atomic_store(&d->metrics.overflow, d->base.overflow + s.overflow);
        atomic_store(&d->metrics.nonfinite, d->base.nonfinite + s.nonfinite);
        /* Once a minute at most: a field of "inf" on every line must not flood the log. */
        uint64_t nf = d->base.nonfinite + s.nonfinite;
        if (nf > d->nonfinite_logged && lw_mono_ns() - d->nonfinite_log_ns >= 60 * LW_NS_PER_SEC) {
            lw_log(LW_WARN,
                   "%llu values were not finite numbers: inf/nan field values skipped, sums "
                   "saturated at +-1.8e308 (logwarden_nonfinite_values_total)",
                   (unsigned long long)(nf - d->nonfinite_logged));
            d->nonfinite_logged = nf;
            d->nonfinite_log_ns = lw_mono_ns();
        }
        size_t nl;
        const uint64_t *late = lw_engine_late_by_input(d->eng, &nl);
        for (size_t i = 0; i < d->cfg->ninputs; i++)
            atomic_store(&d->metrics.late_in[i], d->base_late_in[i] + (i < nl ? late[i] : 0));
    }
    atomic_store(&d->metrics.malformed, d->malformed);
    atomic_store(&d->metrics.notifications, ns.sent);
    size_t qb, qn;
    lw_queue_depth(d->q, &qn, &qb);
    atomic_store_explicit(&d->metrics.queue_batches, qn, memory_order_relaxed);
    atomic_store_explicit(&d->metrics.queue_bytes, qb, memory_order_relaxed);
    publish_health(d);
}

/* Per-event rule counters, for /metrics with the per-alert gauges (the set of events changes
 * with reloads; lw_ruleset_carry_counters keeps the counts). */
static void render_event_counters(const struct lw_ruleset *rs, struct lw_buf *b)
{
    lw_buf_puts(b, "# HELP logwarden_regex_limit_total Lines a PCRE2 limit made non-matches of "
                   "an event (its match: or a where: regex), per event.\n"
                   "# TYPE logwarden_regex_limit_total counter\n");
    for (size_t i = 0; i < rs->nevents; i++) {
        if (!rs->events[i].re)
            continue;
        lw_buf_puts(b, "logwarden_regex_limit_total{event=\"");
        lw_buf_prom_label(b, rs->events[i].name);
        lw_buf_printf(b, "\"} %llu\n", (unsigned long long)rs->events[i].regex_limits);
    }
    lw_buf_puts(b, "# HELP logwarden_events_matched_total Records an event rule matched.\n"
                   "# TYPE logwarden_events_matched_total counter\n");
    for (size_t i = 0; i < rs->nevents; i++) {
        lw_buf_puts(b, "logwarden_events_matched_total{event=\"");
        lw_buf_prom_label(b, rs->events[i].name);
        lw_buf_printf(b, "\"} %llu\n", (unsigned long long)rs->events[i].matched);
    }
}

/* An alert that reached max_groups drops the events of new groups: said once per alert an
 * hour at most (a grouping by client IP under a scan would otherwise say it every 5 s). */
struct overflow_log {
    char *alert;
    uint64_t said;   /* overflow already in a log line */
    int64_t said_ns; /* when (monotonic), 0 never */
};
#define OVERFLOW_LOG_EVERY (3600 * LW_NS_PER_SEC)

static void log_overflow(struct daemon *d, const struct lw_alert_usage *u, int64_t mono)
{
    struct overflow_log *o = NULL;
    for (size_t i = 0; i < d->novf && !o; i++)
        if (!strcmp(d->ovf[i].alert, u->alert))
            o = &d->ovf[i];
    if (!o) {
        if (!u->overflow)
            return;
        d->ovf = lw_realloc(d->ovf, (d->novf + 1) * sizeof *d->ovf);
        o = &d->ovf[d->novf++];
        *o = (struct overflow_log){lw_strdup(u->alert), 0, 0};
    }
    if (u->overflow < o->said)
        o->said = 0; /* a reload that started the alert afresh */
    if (u->overflow == o->said || (o->said_ns && mono - o->said_ns < OVERFLOW_LOG_EVERY))
        return;
    lw_log(LW_WARN,
           "alert %s holds max_groups (%zu) groups: %llu events of new groups dropped%s "
           "(logwarden_group_overflow_total; raise max_groups, or group by something with fewer "
           "values; said at most once an hour)",
           u->alert, u->max_groups, (unsigned long long)(u->overflow - o->said),
           o->said ? " since the last time" : "");
    o->said = u->overflow;
    o->said_ns = mono;
}

/* Groups and window memory per alert, for /metrics and (in the state file) `logwarden status`:
 * O(groups), so every few seconds, and one walk for both. */
static void publish_usage(struct daemon *d)
{
    struct lw_buf b = {0}, mem = {0};
    struct lw_alert_usage u;
    struct lw_usage_row *rows = lw_calloc(d->rs->nalerts + 1, sizeof *rows);
    struct lw_err err = {0};
    size_t n = 0;
    int64_t now = lw_now_ns();
    uint64_t sig = LW_HASH_SEED;
    lw_buf_puts(&b, "# HELP logwarden_alert_groups Groups (distinct group_by values) an alert "
                    "holds.\n# TYPE logwarden_alert_groups gauge\n");
    lw_buf_puts(&mem, "# HELP logwarden_alert_memory_bytes Memory an alert's windows, sketches "
                      "and timers hold.\n# TYPE logwarden_alert_memory_bytes gauge\n");
    for (size_t i = 0; lw_engine_alert_usage(d->eng, i, &u); i++) {
        lw_buf_printf(&b, "logwarden_alert_groups{alert=\"%s\"} %zu\n", u.alert, u.groups);
        lw_buf_printf(&mem, "logwarden_alert_memory_bytes{alert=\"%s\"} %zu\n", u.alert, u.bytes);
        log_overflow(d, &u, lw_mono_ns());
        if (n <= d->rs->nalerts)
            rows[n++] = (struct lw_usage_row){u.alert,
                                              (int64_t)u.groups,
                                              (int64_t)u.max_groups,
                                              (int64_t)u.overflow,
                                              (int64_t)u.bytes,
                                              now};
        /* Memory in 64 KiB steps: an idle daemon does not rewrite the same rows every 5 s. */
        uint64_t v[3] = {u.groups, u.overflow, u.bytes >> 16};
        sig = lw_hash64(u.alert, strlen(u.alert), lw_hash64(v, sizeof v, sig));
    }
    if (sig != d->usage_sig) {
        if (lw_store_put_usage(d->st, rows, n, &err) < 0)
            lw_log(LW_WARN, "%s", err.msg);
        else
            d->usage_sig = sig;
    }
    free(rows);
    lw_buf_append(&b, mem.p, mem.len);
    lw_buf_free(&mem);
    render_event_counters(d->rs, &b);
    struct lw_engine_stats es;
    lw_engine_stats(d->eng, &es);
    lw_buf_printf(&b,
                  "# HELP logwarden_explain_memory_bytes Memory the explanations' sample lines "
                  "and series hold (explain.memory bounds it).\n"
                  "# TYPE logwarden_explain_memory_bytes gauge\n"
                  "logwarden_explain_memory_bytes %zu\n"
                  "# HELP logwarden_explain_no_ring_total Groups made while explain.memory was "
                  "spent: they keep no sample lines or series.\n"
                  "# TYPE logwarden_explain_no_ring_total counter\n"
                  "logwarden_explain_no_ring_total %llu\n"
                  "# HELP logwarden_explain_skipped_total Alert transitions whose explanation "
                  "the state file did not keep (more than 256 in one flush).\n"
                  "# TYPE logwarden_explain_skipped_total counter\n"
                  "logwarden_explain_skipped_total %llu\n"
                  "# HELP logwarden_explain_history_dropped_total Alert transitions the state "
                  "file's history did not keep (4096 waiting on failing flushes).\n"
                  "# TYPE logwarden_explain_history_dropped_total counter\n"
                  "logwarden_explain_history_dropped_total %llu\n",
                  es.ring_bytes, (unsigned long long)es.no_ring,
                  (unsigned long long)es.explain_skipped, (unsigned long long)es.history_dropped);
    struct lw_notifier_stats ns;
    lw_notifier_stats(d->notifier, &ns);
    lw_buf_printf(&b,
                  "# HELP logwarden_notifications_suppressed_total Alerts that fired and were "
                  "never sent: resolved within group_wait of firing, or of the end of their "
                  "inhibition, or while silenced.\n"
                  "# TYPE logwarden_notifications_suppressed_total counter\n"
                  "logwarden_notifications_suppressed_total %llu\n",
                  (unsigned long long)ns.suppressed);
    pthread_mutex_lock(&d->metrics.alerts_mu);
    struct lw_buf old = d->metrics.alerts;
    d->metrics.alerts = b;
    pthread_mutex_unlock(&d->metrics.alerts_mu);
    lw_buf_free(&old);
}

/* A question from the HTTP thread (lw_ask), between two batches. */
static void answer(struct lw_ask *q, void *payload)
{
    struct daemon *d = payload;
    if (q->kind == LW_ASK_RELOAD) {
        reload(d, q);
        uv_async_send(&d->reload_async); /* and the inputs, as SIGHUP does */
        return;
    }
    struct lw_api_src src = {d->cfg, d->eng, d->rs, d->notifier, d->st};
    lw_api_answer(&src, q, lw_now_ns());
}

static void wake_pipeline(void *arg)
{
    lw_queue_wake(arg);
}

static void *pipeline_main(void *arg)
{
    struct daemon *d = arg;
    int64_t last_flush = lw_mono_ns(), last_usage = 0;
    for (;;) {
        /* With notifications due, only what is queued already is processed before them. */
        bool due = lw_notifier_due(d->notifier, lw_now_ns());
        struct lw_batch *b = lw_queue_pop(d->q, due ? 0 : d->has_multiline ? 50 : 200);
        int64_t now = lw_now_ns();
        if (b) {
            process(d, b, now);
            lw_queue_recycle(d->q, b);
        }
        if (atomic_exchange(&d->reload, false))
            reload(d, NULL);
        lw_asker_serve(d->asker, answer, d);
        expire_records(d, now);
        publish(d);
        lw_engine_tick(d->eng, now);
        if (!b || lw_notifier_due(d->notifier, lw_now_ns() - NOTIFY_MAX_WAIT_NS))
            notify_due(d);
        if (!b && atomic_load(&d->stopping))
            break; /* the queue is closed and drained */
        if (lw_mono_ns() - last_flush >= FLUSH_INTERVAL_NS) {
            flush(d);
            last_flush = lw_mono_ns();
        }
        if (lw_mono_ns() - last_usage >= USAGE_INTERVAL_NS) {
            publish_usage(d);
            last_usage = lw_mono_ns();
        }
    }
    /* No question is answered past this point: the HTTP endpoint says 503 until it stops. */
    lw_asker_close(d->asker);
    drain_at_stop(d, lw_now_ns());
    /* The engine evaluates groups that got events at most every 50 ms (alerts/engine.c): the
     * last records read (the end of stdin, the records a stop completed) are evaluated now, not
     * at the next start, which stdin never has. */
    nanosleep(&(struct timespec){0, STOP_EVAL_WAIT_NS}, NULL);
    lw_engine_tick(d->eng, lw_now_ns());
    /* Every input has ended (`cat app.log | logwarden run`): nothing will come to make a
     * notification's group_wait worth waiting for; what is pending is sent now, within the stop
     * grace, rather than lost with the process. */
    if (d->ended)
        d->cfg->notify.group_wait_ns = 0;
    lw_engine_snapshot(d->eng); /* what explains each alert now, for `explain` on the file */
    flush(d);
    publish(d);
    publish_usage(d);
    /* A sync that waits now would wait in vain (none can: the I/O thread stopped the inputs). */
    pthread_mutex_lock(&d->sync_mu);
    atomic_store(&d->pipeline_up, false);
    pthread_cond_broadcast(&d->sync_cv);
    pthread_mutex_unlock(&d->sync_mu);
    return NULL;
}

/* ---------------------------------------------------------------- I/O thread */

static int ckpt_lookup(const char *input, const char *stream, struct lw_pos *pos, void *payload)
{
    struct daemon *d = payload;
    if (lw_store_ckpt_get(d->st_io, input, stream, pos->b, sizeof pos->b, &pos->n) != 0)
        return -1;
    return 0;
}

struct scan_arg {
    lw_ckpt_each_fn *fn;
    void *arg;
};

static void on_ckpt_row(const char *stream, const void *pos, size_t len, void *arg)
{
    struct scan_arg *a = arg;
    struct lw_pos p = {0};
    if (len > sizeof p.b)
        return;
    memcpy(p.b, pos, len);
    p.n = len;
    a->fn(stream, &p, a->arg);
}

static int ckpt_scan(const char *input, lw_ckpt_each_fn *fn, void *arg, void *payload)
{
    struct daemon *d = payload;
    struct scan_arg a = {fn, arg};
    return lw_store_ckpt_each(d->st_io, input, on_ckpt_row, &a);
}

/* An input forgot a stream (on the loop): its row goes in the next flush's transaction. */
static void ckpt_forget(const char *input, const char *stream, void *payload)
{
    struct daemon *d = payload;
    for (size_t i = 0; i < d->cfg->ninputs; i++) {
        if (strcmp(d->cfg->inputs[i].name, input) != 0)
            continue;
        pthread_mutex_lock(&d->ckpt_mu);
        d->forget = lw_realloc(d->forget, (d->nforget + 1) * sizeof *d->forget);
        d->forget[d->nforget++] = (struct committed){(uint32_t)i, lw_strdup(stream), {0}};
        pthread_mutex_unlock(&d->ckpt_mu);
        return;
    }
}

/* lw_sync_fn (ingest.h), on the I/O thread: a marker behind what in (and every input) queued
 * before; the pipeline flushes when it reaches it (sync_marker). The blocking push is safe: the
 * pipeline never waits for this thread (it only posts to it with uv_async_send), so it drains
 * the queue while this thread waits. Positions the flush commits reach the inputs' checkpoint
 * ops through ckpt_async, after this returns: the loop is busy here until then. */
static int sync_input(struct lw_input *in, int64_t timeout_ns, void *payload)
{
    struct daemon *d = payload;
    int64_t deadline = lw_mono_ns() + timeout_ns;
    if (!atomic_load(&d->pipeline_up))
        return LW_EAGAIN; /* before the start or after the stop: nothing would see a marker */
    pthread_mutex_lock(&d->sync_mu);
    uint64_t seq = ++d->sync_asked;
    pthread_mutex_unlock(&d->sync_mu);
    struct lw_batch *b = lw_queue_batch(d->q, SYNC_INPUT, NULL, 0);
    b->ident[0] = seq;
    if (lw_queue_push(d->q, b) != LW_OK) {
        lw_queue_recycle(d->q, b); /* closed: the daemon stops */
        return LW_EAGAIN;
    }
    struct timespec ts = {(time_t)(deadline / LW_NS_PER_SEC), (long)(deadline % LW_NS_PER_SEC)};
    int rc = LW_EAGAIN;
    pthread_mutex_lock(&d->sync_mu);
    while (d->sync_done < seq && atomic_load(&d->pipeline_up))
        if (pthread_cond_timedwait(&d->sync_cv, &d->sync_mu, &ts) != 0)
            break;
    if (d->sync_done >= seq)
        rc = d->sync_rc;
    pthread_mutex_unlock(&d->sync_mu);
    if (rc == LW_EAGAIN)
        lw_log(LW_WARN, "[input:%s] sync: not flushed within %lld ms", in->name,
               (long long)(timeout_ns / LW_NS_PER_MS));
    return rc;
}

/* Committed positions reach their inputs, on the loop; a stopped input hears no more. */
static void on_ckpt_async(uv_async_t *h)
{
    struct daemon *d = h->data;
    pthread_mutex_lock(&d->ckpt_mu);
    struct committed *c = d->committed;
    size_t n = d->ncommitted;
    d->committed = NULL;
    d->ncommitted = 0;
    pthread_mutex_unlock(&d->ckpt_mu);
    for (size_t i = 0; i < n && !d->stopped_inputs; i++) {
        struct lw_input *in = d->cfg->inputs[c[i].input].in;
        if (in->ops->checkpoint)
            in->ops->checkpoint(in, c[i].stream, &c[i].pos);
    }
    free_committed(c, n);
}

/* Stops the inputs and the signal handles: the loop ends once they are closed. */
static void stop_inputs(struct daemon *d)
{
    d->stopped_inputs = true;
    lw_sdnotify("STOPPING=1\nSTATUS=stopping: draining and flushing");
    for (size_t i = 0; i < d->cfg->ninputs; i++)
        d->cfg->inputs[i].in->ops->stop(d->cfg->inputs[i].in);
    for (int i = 0; i < 3; i++)
        if (!uv_is_closing((uv_handle_t *)&d->sig[i]))
            uv_close((uv_handle_t *)&d->sig[i], NULL);
}

/* SIGHUP, on the I/O thread (a uv_signal callback runs on the loop): inputs re-read what they
 * load from files (syslog's TLS certificates). The rules reload on the pipeline thread. */
static void reload_inputs(struct daemon *d)
{
    if (d->stopped_inputs)
        return;
    for (size_t i = 0; i < d->cfg->ninputs; i++) {
        struct lw_input *in = d->cfg->inputs[i].in;
        if (in->ops->reload)
            in->ops->reload(in);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP) {
        atomic_store(&d->reload, true);
        lw_queue_wake(d->q);
        reload_inputs(d);
        return;
    }
    if (d->stopped_inputs)
        return;
    lw_log(LW_INFO, "%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    stop_inputs(d);
}

static void on_reload_async(uv_async_t *h)
{
    reload_inputs(h->data);
}

/* The pipeline processed the end of the last input: stop as on SIGTERM, and exit 0. */
static void on_end_async(uv_async_t *h)
{
    struct daemon *d = h->data;
    if (!d->stopped_inputs)
        stop_inputs(d);
}

/* The pipeline thread: the queue has room again after refusing a batch. */
static void on_room(void *arg)
{
    struct daemon *d = arg;
    uv_async_send(&d->room);
}

static void on_room_async(uv_async_t *h)
{
    struct daemon *d = h->data;
    if (d->stopped_inputs)
        return;
    for (size_t i = 0; i < d->cfg->ninputs; i++)
        lw_input_resume(d->cfg->inputs[i].in);
}

/* ---------------------------------------------------------------- run */

/* The daemon parses logs anyone can write to: it needs to read them, not to be root. (Not
 * "running": tests and scripts wait for the "running" line that says the daemon is up.) */
static void warn_root(void)
{
    if (geteuid() == 0)
        lw_log(LW_WARN, "started as root: logwarden needs only to read its logs and write its "
                        "state file; start it as an unprivileged user (docs/operations.md)");
}

static int run(const char *config_path)
{
    struct daemon d = {
        .lock_fd = -1, .ckpt_mu = PTHREAD_MUTEX_INITIALIZER, .sync_mu = PTHREAD_MUTEX_INITIALIZER};
    pthread_condattr_t ca;
    /* Timed waits on the monotonic clock, as lw_mono_ns: a wall-clock jump must not stretch
     * a sync. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d.sync_cv, &ca);
    pthread_condattr_destroy(&ca);
    struct lw_diag diag = {0};
    struct lw_err err = {0};
    bool net = false; /* a sink sends over the network: curl is initialised */
    int rc = 2;

    struct lw_diag warnings = {0};
    lw_sdnotify_init(); /* before the threads: it reads the environment */
    if (lw_config_load(&d.cfg, config_path, &diag) < 0 ||
        lw_config_rules_warn(d.cfg, &d.rs, &diag, &warnings) < 0) {
        lw_diag_free(&warnings);
        lw_diag_print(&diag, stderr);
        goto out;
    }
    /* What check calls a warning (a field only other inputs set) is said at start too. */
    for (size_t i = 0; i < warnings.n; i++)
        lw_log(LW_WARN, "%s", warnings.msgs[i]);
    lw_diag_free(&warnings);
    rc = 1;
    warn_root();
    for (size_t i = 0; i < d.cfg->ninputs; i++)
        d.sharded |= d.cfg->inputs[i].in->ops->sharded;
    /* Before the file is opened: a second daemon on it would read every line again and send
     * every alert twice. */
    if (lw_store_lock(d.cfg->state, &d.lock_fd, &err) < 0) {
        lw_log(LW_ERROR, "%s", err.msg);
        goto out;
    }
    if (lw_store_open_flags(&d.st, d.cfg->state, LW_STORE_QUICK_CHECK, &err) < 0 ||
        lw_store_open(&d.st_io, d.cfg->state, &err) < 0) {
        lw_log(LW_ERROR, "cannot open state file %s: %s", d.cfg->state, err.msg);
        goto out;
    }
    if (engine_from_store(&d, d.rs, &d.eng) < 0)
        goto out;
    d.notifier = lw_notifier_new(&d.cfg->notify);
    if (lw_store_load_notifs(d.st, restore_notif, d.notifier, &err) < 0) {
        lw_log(LW_ERROR, "cannot load notification states from %s: %s", d.cfg->state, err.msg);
        goto out;
    }
    if (reconcile_notifs(&d) < 0)
        goto out;
    /* A few milliseconds of the pipeline's work: inputs refill it when it has drained to half
     * (on_room), and each batch held costs 128 KiB: half of what 256 KiB batches held. */
    d.q = lw_queue_new(4, 1u << 20);
    /* The store's page caches would be most of the daemon's memory: flushes re-read pages
     * from the OS page cache instead, a few per second. */
    lw_store_limit_memory(256 * 1024);
    pthread_mutex_init(&d.metrics.alerts_mu, NULL);
    d.metrics.late_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.metrics.late_in);
    d.metrics.malformed_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.metrics.malformed_in);
    d.base_late_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.base_late_in);
    d.metrics.rebuilds_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.metrics.rebuilds_in);
    d.metrics.partial_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.metrics.partial_in);
    d.metrics.start_ns = lw_now_ns();
    d.metrics.last_rec_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.metrics.last_rec_in);
    d.metrics.undecoded_in =
        lw_calloc((d.cfg->ninputs + 1) * LW_UNDEC_COUNT, sizeof *d.metrics.undecoded_in);
    d.metrics.health_in = lw_calloc(d.cfg->ninputs + 1, sizeof *d.metrics.health_in);
    pthread_mutex_init(&d.metrics.health_mu, NULL);
    d.workers = lw_calloc(d.cfg->nsinks + 1, sizeof *d.workers);
    /* curl's global init sets up the TLS libraries (~2 MB resident): only when a sink sends
     * over the network. */
    net = lw_sinks_need_global_init(d.cfg->sinks, d.cfg->nsinks);
    if (net)
        lw_sinks_global_init();
    for (size_t i = 0; i < d.cfg->nsinks; i++)
        d.workers[i] = lw_worker_start(d.cfg->sinks[i], d.cfg->state, d.cfg->max_age_ns);

    uv_loop_init(&d.loop);
    /* A file size limit (ulimit -f) reached by the state file is a failed write, reported on
     * /health and retried, not the end of the process (SIGXFSZ's default). */
    signal(SIGXFSZ, SIG_IGN);
    static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        uv_signal_start(&d.sig[i], on_signal, signums[i]);
    }
    /* Unreferenced: it must not keep the loop running once the inputs stop, and it stays open
     * until the pipeline thread, which signals it, has ended. */
    uv_async_init(&d.loop, &d.room, on_room_async);
    d.room.data = &d;
    uv_unref((uv_handle_t *)&d.room);
    uv_async_init(&d.loop, &d.ckpt_async, on_ckpt_async);
    d.ckpt_async.data = &d;
    uv_unref((uv_handle_t *)&d.ckpt_async);
    uv_async_init(&d.loop, &d.end_async, on_end_async);
    d.end_async.data = &d;
    uv_unref((uv_handle_t *)&d.end_async);
    uv_async_init(&d.loop, &d.reload_async, on_reload_async);
    d.reload_async.data = &d;
    uv_unref((uv_handle_t *)&d.reload_async);
    for (size_t i = 0; i < d.cfg->ninputs; i++)
        d.has_multiline |= d.cfg->inputs[i].multiline != NULL;
    lw_queue_on_room(d.q, on_room, &d);
    set_longest_window(&d, d.rs);
    for (size_t i = 0; i < d.cfg->ninputs; i++) {
        struct lw_input *in = d.cfg->inputs[i].in;
        in->queue = d.q;
        in->ckpt = ckpt_lookup;
        in->ckpt_scan = ckpt_scan;
        in->ckpt_forget = ckpt_forget;
        in->sync = sync_input;
        in->ckpt_payload = &d;
        if (in->ops->start(in, &d.loop, &err) < 0) {
            lw_log(LW_ERROR, "[input:%s] cannot start: %s", in->name, err.msg);
            goto out_stop;
        }
    }
    d.asker = lw_asker_new(wake_pipeline, d.q);
    struct lw_http_ctx hctx = {d.cfg->http_listen, d.cfg, &d.metrics, d.workers, d.asker};
    if (d.cfg->http_listen && lw_http_start(&d.http, &hctx, &err) < 0) {
        lw_log(LW_ERROR, "http: %s", err.msg);
        goto out_stop;
    }
    atomic_store(&d.pipeline_up, true);
    if (pthread_create(&d.pipeline, NULL, pipeline_main, &d) != 0) {
        atomic_store(&d.pipeline_up, false);
        lw_log(LW_ERROR, "cannot start the pipeline thread");
        goto out_stop;
    }
    lw_log(LW_INFO, "logwarden %s running: %zu inputs, %zu events, %zu alerts, %zu sinks, state %s",
           LW_VERSION, d.cfg->ninputs, d.rs->nevents, d.rs->nalerts, d.cfg->nsinks, d.cfg->state);
    /* Every input is open (listening sockets bound) and the HTTP endpoint answers: systemd may
     * start what is ordered after logwarden.service. */
    lw_sdnotify("READY=1\nSTATUS=running: %zu inputs, %zu events, %zu alerts, %zu sinks",
                d.cfg->ninputs, d.rs->nevents, d.rs->nalerts, d.cfg->nsinks);
    uv_run(&d.loop, UV_RUN_DEFAULT);

    /* Inputs are stopped: let the pipeline drain what they queued, then flush and stop. */
    lw_queue_close(d.q);
    atomic_store(&d.stopping, true);
    lw_queue_wake(d.q);
    pthread_join(d.pipeline, NULL);
    uv_close((uv_handle_t *)&d.room, NULL);
    uv_close((uv_handle_t *)&d.ckpt_async, NULL);
    uv_close((uv_handle_t *)&d.end_async, NULL);
    uv_close((uv_handle_t *)&d.reload_async, NULL);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    rc = 0;
    goto out_workers;

out_stop:
    for (size_t i = 0; i < d.cfg->ninputs; i++)
        if (d.cfg->inputs[i].in->ops->stop)
            d.cfg->inputs[i].in->ops->stop(d.cfg->inputs[i].in);
    for (int i = 0; i < 3; i++)
        if (!uv_is_closing((uv_handle_t *)&d.sig[i]))
            uv_close((uv_handle_t *)&d.sig[i], NULL);
    uv_close((uv_handle_t *)&d.room, NULL);
    uv_close((uv_handle_t *)&d.ckpt_async, NULL);
    uv_close((uv_handle_t *)&d.end_async, NULL);
    uv_close((uv_handle_t *)&d.reload_async, NULL);
    uv_run(&d.loop, UV_RUN_DEFAULT);
out_workers:
    lw_http_stop(d.http);
    lw_workers_stop(d.workers, d.cfg->nsinks, STOP_GRACE_NS);
    uv_loop_close(&d.loop);
    if (net)
        lw_sinks_global_cleanup();
    if (rc == 0) {
        struct lw_engine_stats s;
        lw_engine_stats(d.eng, &s);
        lw_log(LW_INFO, "stopped: %llu lines, %llu events, %llu late, %llu transitions",
               (unsigned long long)(s.records + d.base.records),
               (unsigned long long)(s.events + d.base.events),
               (unsigned long long)(s.late + d.base.late),
               (unsigned long long)(s.transitions + d.base.transitions));
    }
out:
    lw_notifier_free(d.notifier);
    lw_asker_free(d.asker);
    free(d.workers);
    for (size_t i = 0; i < d.nckpts; i++) {
        free(d.ckpts[i].stream);
        lw_dstate_free(&d.ckpts[i].ds);
        lw_labelset_unref(d.ckpts[i].set);
    }
    free(d.ckpts);
    free_committed(d.forget, d.nforget);
    free_committed(d.committed, d.ncommitted);
    lw_engine_free(d.eng);
    lw_ruleset_free(d.rs);
    lw_queue_free(d.q);
    free((void *)d.metrics.late_in);
    free((void *)d.metrics.malformed_in);
    free(d.base_late_in);
    free((void *)d.metrics.rebuilds_in);
    free((void *)d.metrics.partial_in);
    for (size_t i = 0; i < d.novf; i++)
        free(d.ovf[i].alert);
    free(d.ovf);
    free((void *)d.metrics.last_rec_in);
    free((void *)d.metrics.undecoded_in);
    free(d.metrics.health_in);
    lw_buf_free(&d.metrics.alerts);
    pthread_mutex_destroy(&d.metrics.alerts_mu);
    pthread_mutex_destroy(&d.metrics.health_mu);
    pthread_mutex_destroy(&d.ckpt_mu);
    pthread_cond_destroy(&d.sync_cv);
    pthread_mutex_destroy(&d.sync_mu);
    lw_store_close(d.st);
    lw_store_close(d.st_io);
    lw_store_unlock(d.lock_fd); /* after every connection to the file is closed */
    lw_config_free(d.cfg);
    lw_diag_free(&diag);
    return rc;
}

int lw_cmd_run(int argc, char **argv)
{
    const char *config = NULL;
    enum lw_log_format format = LW_LOG_AUTO;
    int level;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            config = argv[++i];
        } else if (!strcmp(argv[i], "--log-format") && i + 1 < argc) {
            if (lw_log_format_parse(argv[++i], &format) < 0) {
                fprintf(stderr, "logwarden run: --log-format: text or json, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
            if (lw_log_level_parse(argv[++i], &level) < 0) {
                fprintf(stderr,
                        "logwarden run: --log-level: error, warn, info or debug, not '%s'\n",
                        argv[i]);
                return 2;
            }
            lw_log_pin_level(level);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: logwarden run -c CONFIG [--log-format text|json] [--log-level LEVEL]\n\n"
                   "Runs the daemon: inputs -> rules -> windows -> alerts -> sinks, until\n"
                   "SIGTERM or SIGINT (drains, flushes, exits 0), or until the end of input\n"
                   "when every input has one (stdin: `cat app.log | logwarden run -c CFG`\n"
                   "evaluates, sends what is due and exits 0). SIGHUP reloads the rules;\n"
                   "a reload that fails to load keeps the running rules.\n\n"
                   "  --log-format text|json   the log on stderr: text lines, or JSON lines with\n"
                   "                           the input or sink a line concerns as a field\n"
                   "                           (default: text on a terminal, else json)\n"
                   "  --log-level LEVEL        error, warn, info or debug; wins over the config's\n"
                   "                           log_level (default: that, else info)\n");
            return 0;
        } else {
            fprintf(stderr, "logwarden run: unexpected argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "logwarden run: -c CONFIG is required\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lw_log_set_format(format);
    return run(config);
}
