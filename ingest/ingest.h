/* ingest.h: the interface of the ingest module: records, batches, the batch queue, line cutting,
 * inputs (file, stdin, syslog) and their contract, envelope decoders (syslog, Docker json-file,
 * CRI), the reassembly of partial container lines, and decoding a line into the record rules
 * match. */
#ifndef LW_INGEST_H
#define LW_INGEST_H

#include "lw.h"
#include "lw_opts.h"
#include "lw_record.h"
#include "lw_yaml.h"

#include <stdatomic.h>
#include <uv.h>

/* ---------------------------------------------------------------- records and batches */

/* A resume point as its input encodes it (files: device, inode and offset): opaque bytes to the
 * core, which the store keeps under (input, stream) and hands back to the same input. */
#define LW_POS_MAX 64
struct lw_pos {
    size_t n;
    char b[LW_POS_MAX];
};

/* What a record of an input with an envelope of its own (a Kafka message) carries besides its
 * line: set per record, so the batch's labels cannot hold it. Lives in the batch's label space
 * (lw_batch_label_space); NULL for every other input, whose lines cost one test more. Per-record
 * labels are extra labels (no slot: a slot would cost every record of every input). */
struct lw_rec_meta {
    int64_t ts_ns; /* the message's time (lw_rec.ts_ns); 0: none */
    /* The record's own labels: its extra labels are the record's (Kafka's offset, key,
     * header.<name>: lw_rec.extra) and the slots it sets override the batch's (a UDP
     * datagram's source_ip, where one batch holds many senders). NULL: none. */
    const struct lw_labelset *extra;
};

/* One line, borrowed from its batch for the duration of a call. */
struct lw_record {
    struct lw_str line; /* bytes without the newline (and without a trailing CR) */
    int64_t recv_ns;    /* arrival time, wall clock */
    int64_t cursor;     /* where to resume after this line, within the batch's stream (files: the
                           offset just past it); the input makes it a position (pos_encode) */
    const struct lw_rec_meta *meta; /* NULL unless the input sets it after lw_batch_add */
};

/* What a batch is to the core. Most carry lines; a sharded input (ops.sharded: Kafka, whose
 * streams are partitions) also sends markers, empty batches ordered with its lines by the queue,
 * that say what to do with one stream's share of the windows (DESIGN.md, "Scale-out"):
 * - REPLAY_START: the stream's local windows are stale: its contribution is removed from every
 *   window (groups it alone fed are forgotten silently, alert state included) and the stream is
 *   quiet: the REPLAY records that follow fill windows without any notification. `partial`: the
 *   replay cannot reach back a whole window (retention removed part of it): absent and below
 *   alerts are held until a whole window has been seen live.
 * - REPLAY: lines read back to rebuild windows: no checkpoint, no late count, no transition.
 * - REPLAY_END: the stream is live again; the groups it fed are evaluated at the next instant
 *   (what fires is announced then, once). With live_pos, its checkpoint is live_cursor.
 * - RELEASE: the stream is given away (revoked or lost): its contribution is removed as by
 *   REPLAY_START, its checkpoint row is deleted in the next flush, and it is not quiet.
 * Markers carry the stream and no records. */
enum lw_batch_kind {
    LW_BATCH_LINES = 0,
    LW_BATCH_REPLAY_START,
    LW_BATCH_REPLAY,
    LW_BATCH_REPLAY_END,
    LW_BATCH_RELEASE,
};

/* A batch of lines from one stream of one input. It owns its bytes; records point into them.
 * Produced on the I/O thread, consumed (and freed) on the pipeline thread. */
struct lw_batch {
    uint32_t input;    /* index of the input in the config */
    char *stream;      /* the stream id its position is kept under (files: DEV:INO:FP); owned; NULL:
                          its records carry no position */
    uint64_t ident[2]; /* what the stream was when it was read, for pos_encode (files: dev, ino) */
    /* The labels the input knows for every record of the batch (files: path). Each value borrows
     * from stream or from memory that outlives the batch; empty when not set. */
    struct lw_str labels[LW_L_COUNT];
    /* The source's label set when its labels must outlive the source (containers, which may
     * be forgotten while their batches are in flight): one reference held by the batch, its
     * slots copied into labels, its extra labels given to every record. NULL: none. */
    struct lw_labelset *set;
    struct lw_record *recs;
    size_t n, cap;
    char *data; /* the bytes records point into */
    size_t len, dcap;
    char *lstore; /* label bytes the batch owns (lw_batch_label_space), kept across reuse */
    size_t lcap;
    bool eof;                /* replay: last batch of this source */
    enum lw_batch_kind kind; /* LW_BATCH_LINES unless a sharded input says otherwise */
    bool partial;            /* REPLAY_START: the replay does not cover a whole window */
    /* REPLAY_END: the stream goes live from cursor live_cursor (with ident), which becomes its
     * checkpoint: a stream idle after its rebuild still has a position, and a restart that finds
     * it equal to Kafka's committed offset resumes instead of rebuilding again. */
    bool live_pos;
    int64_t live_cursor;
    struct lw_batch *next; /* queue link */
};

struct lw_batch *lw_batch_new(uint32_t input, const char *stream, size_t data_hint);
/* Copies line into the batch and appends a record for it. */
void lw_batch_add(struct lw_batch *b, const char *line, size_t n, int64_t recv_ns, int64_t cursor);
void lw_batch_free(struct lw_batch *b);
/* Gives b a reference to ls (replacing any it had) and copies its slot labels into b->labels
 * (slots ls does not set are left as they are). ls may be NULL. */
void lw_batch_set_labels(struct lw_batch *b, struct lw_labelset *ls);
/* n bytes owned by the batch for label values its labels point at: valid until the batch is
 * freed or reused; one call per filling (a second call may move the first's bytes). */
char *lw_batch_label_space(struct lw_batch *b, size_t n);

/* ---------------------------------------------------------------- the bounded queue */

/* Batches from the I/O thread to the pipeline thread. Bounded in batches and in bytes, so a
 * slow pipeline makes inputs wait (backpressure) instead of growing memory. Thread-safe. */
struct lw_queue;
struct lw_queue *lw_queue_new(size_t max_batches, size_t max_bytes);
void lw_queue_free(struct lw_queue *q); /* frees batches still queued */
/* Non-blocking: LW_OK, or LW_EFULL (the caller keeps the batch and pauses). */
int lw_queue_try_push(struct lw_queue *q, struct lw_batch *b);
/* Blocking push, for threads that may wait (stdin reader). LW_EAGAIN after lw_queue_close. */
int lw_queue_push(struct lw_queue *q, struct lw_batch *b);
/* Waits up to timeout_ms for a batch; NULL on timeout or when closed and empty. */
struct lw_batch *lw_queue_pop(struct lw_queue *q, int timeout_ms);
/* Wakes a waiting pop (e.g. to make the pipeline notice a shutdown). */
void lw_queue_wake(struct lw_queue *q);
void lw_queue_close(struct lw_queue *q);
bool lw_queue_has_room(struct lw_queue *q);
/* What the queue holds now: batches and their bytes (any thread; for /metrics). */
void lw_queue_depth(struct lw_queue *q, size_t *batches, size_t *bytes);
/* fn(arg) is called, on the consumer's thread and without the queue's lock, when a queue that
 * refused a batch (try_push, has_room) has drained to half: producers retry then. */
void lw_queue_on_room(struct lw_queue *q, void (*fn)(void *), void *arg);
/* A batch to fill, reused from those the consumer handed back when there is one (its buffers
 * already allocated), else new. */
struct lw_batch *lw_queue_batch(struct lw_queue *q, uint32_t input, const char *stream,
                                size_t data_hint);
/* Hands a consumed batch back for lw_queue_batch (or frees it when enough are kept). */
void lw_queue_recycle(struct lw_queue *q, struct lw_batch *b);

/* ---------------------------------------------------------------- line cutting */

#define LW_MAX_LINE_DEFAULT (1u << 20) /* 1 MiB: longer lines are truncated, and counted */

typedef void lw_line_fn(const char *line, size_t n, int64_t end_off, void *payload);

/* Cuts a byte stream into lines with memchr. Complete lines inside the fed block are passed
 * without copying; only a line split across blocks is carried (copied once). A line longer
 * than max_line is cut at max_line, the rest up to its newline skipped, and counted in
 * truncated. end_off is the stream offset just past the line's newline. */
struct lw_linecut {
    char *carry; /* partial line from earlier blocks */
    size_t clen, ccap;
    size_t max_line;
    int64_t off;        /* stream offset of the next byte to be fed */
    bool skipping;      /* inside an over-long line, dropping bytes to its newline */
    uint64_t truncated; /* lines that were cut */
};
void lw_linecut_init(struct lw_linecut *lc, size_t max_line, int64_t start_off);
void lw_linecut_feed(struct lw_linecut *lc, const char *p, size_t n, lw_line_fn *fn, void *payload);
/* At end of input: passes a final line that has no newline, if any. */
void lw_linecut_finish(struct lw_linecut *lc, lw_line_fn *fn, void *payload);
void lw_linecut_free(struct lw_linecut *lc);

/* ---------------------------------------------------------------- inputs */

struct lw_multiline_cfg;
/* What joining did, per input: written by one thread (the pipeline's), read by /metrics. */
struct lw_join_stats {
    _Atomic uint64_t records;   /* multiline records of more than one line */
    _Atomic uint64_t cut_lines; /* records ended at max_lines (the rest began a new record) */
    _Atomic uint64_t cut_bytes; /* records ended at max_bytes, or a line cut to it */
    _Atomic uint64_t partials;  /* container partial lines (Docker 16 KiB parts, CRI P) joined */
};

/* The contract of an input, seen from the daemon (app/daemon.c):
 *
 *   init ──► start ──► (pause ◄──► resume)* ──► stop ──► free
 *                 └──── checkpoint(stream, pos), after each flush that committed pos
 *
 * - Records: an input cuts lines into batches of one stream and hands them to in->queue. It
 *   sets on the batch what it knows of the records: the stream id and identity (lw_batch), and
 *   its labels (lw_batch.labels; `labels` below says which slots it can set). The core never
 *   asks which type an input is.
 * - Positions: a batch with a stream carries positions: each record a 64-bit cursor, the batch
 *   the stream's identity, so the line path neither allocates nor encodes. When the daemon
 *   writes a checkpoint (once per flush, on the pipeline thread) it asks the input to encode
 *   the last one (pos_encode); the store keeps the bytes under (input name, stream id). At
 *   start the input reads its saved positions through in->ckpt and decodes them itself.
 * - Crash semantics: a position is committed in the same transaction as the windows and alert
 *   states its lines changed, so after a crash the input resumes at the last committed
 *   position: lines after it are read again, none is lost or counted twice in a committed
 *   window. checkpoint() comes after that commit, never before: what an input forgets or
 *   acknowledges there (rotated files, Kafka offsets) is never needed again.
 * - Threads: every op but pos_encode runs on the I/O thread (the libuv loop); pos_encode is a
 *   pure function of its arguments. */

struct lw_input;

/* Looks up the saved position of (input, stream); returns 0 and fills pos when there is one.
 * Called on the I/O thread, e.g. when a file input opens a file. */
typedef int lw_ckpt_lookup_fn(const char *input, const char *stream, struct lw_pos *pos,
                              void *payload);
/* Every saved position of an input, for an input that must see them all at start (files:
 * positions are keyed by identity, which is found among the files): fn once per (stream, pos).
 * Returns 0 or a negative LW_E*. I/O thread. */
typedef void lw_ckpt_each_fn(const char *stream, const struct lw_pos *pos, void *arg);
typedef int lw_ckpt_scan_fn(const char *input, lw_ckpt_each_fn *fn, void *arg, void *payload);
/* Asks that the saved position of (input, stream) be deleted in the next flush: the stream is
 * gone and fully read (or its row was superseded). Only after its last position was committed
 * (the checkpoint op is the place). I/O thread. */
typedef void lw_ckpt_forget_fn(const char *input, const char *stream, void *payload);

/* Blocks the calling (I/O) thread until every batch `in` pushed before the call has been
 * processed and a flush has committed what they did (records counted and positioned, markers
 * applied: RELEASE's windows forgotten and rows deleted), or timeout_ns passed. Returns 0, or
 * LW_EAGAIN on timeout, LW_EIO when the flush failed (the caller must not acknowledge anything
 * upstream then). Kafka calls it on revoke, before committing offsets synchronously. */
typedef int lw_sync_fn(struct lw_input *in, int64_t timeout_ns, void *payload);

/* How a record's bytes are unwrapped before rules see them (the input's `format:`). */
enum lw_format {
    LW_FMT_RAW = 0,
    LW_FMT_SYSLOG,
    LW_FMT_JSON,
    LW_FMT_LOGFMT,
    LW_FMT_DOCKER,
    LW_FMT_CRI,
    /* A syslog envelope whose message is a JSON / logfmt body ("syslog+json": `format: json` on
     * a syslog input, Docker's syslog log driver, apps logging JSON over syslog). */
    LW_FMT_SYSLOG_JSON,
    LW_FMT_SYSLOG_LOGFMT
};

struct lw_input_ops {
    const char *type;          /* "file", "stdin", "syslog" */
    const struct lw_opt *opts; /* the config keys it takes beyond the common ones */
    /* Reads its own keys from the input's YAML map (lw_input_opts with opts); errors go to
     * diag. */
    int (*init)(struct lw_input *in, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                struct lw_diag *diag);
    /* Starts reading on the loop (I/O thread). */
    int (*start)(struct lw_input *in, uv_loop_t *loop, struct lw_err *err);
    /* Stops reading and closes handles; the loop then runs until they are closed. */
    void (*stop)(struct lw_input *in);
    /* Optional, on the loop: the queue has room again; retry now what it refused. */
    void (*resume)(struct lw_input *in);
    void (*free)(struct lw_input *in);
    /* Optional, on the loop: the queue refused a batch of this input (lw_input_push); read no
     * more than it holds until resume. */
    void (*pause)(struct lw_input *in);
    /* Optional, on the loop: pos, the position of stream, is committed to the state file: what
     * lies before it will never be read again. Not called once the input is stopped. */
    void (*checkpoint)(struct lw_input *in, const char *stream, const struct lw_pos *pos);
    /* Required of an input that sets batch streams: the position after a record of cursor in
     * a stream of identity ident (lw_batch.ident). Pure; any thread. */
    void (*pos_encode)(const uint64_t ident[2], int64_t cursor, struct lw_pos *out);
    uint32_t labels;       /* bit l: it sets label slot l on its batches */
    enum lw_format format; /* the format its records have when the config names none */
    /* Its streams are shards (Kafka partitions): windows remember which stream fed each bucket,
     * so that one stream's contribution can be removed (lw_batch_kind). */
    bool sharded;
    /* Optional, consumer-group inputs (Kafka): the fields messages are keyed by (the `keyed_by`
     * option; default the `key` label). An alert fed by the input whose group_by does not hold
     * them all is split across instances: `check` and `run` warn (DESIGN.md, "Scale-out"). Sets
     * *out to a borrowed array; returns its length. */
    size_t (*key_fields)(const struct lw_input *in, const char *const **out);
    /* Optional, any thread (the HTTP thread): whether the input works as it should. Returns
     * "healthy" or "degraded" (brokers unreachable, ...) and appends a one-line reason to detail
     * when degraded. NULL op: always healthy. */
    const char *(*status)(struct lw_input *in, struct lw_buf *detail);
    /* Its records come whole and interleaved from many senders (syslog): `multiline:` is
     * refused, there is no "line before" to join. */
    bool no_multiline;
    /* Optional, any thread (the HTTP thread): appends the input's own metrics in Prometheus
     * text (samples only: their HELP and TYPE lines come from the caller's docs). */
    void (*metrics)(struct lw_input *in, struct lw_buf *out);
    /* Optional, any thread (/health): how far the input is behind its source, in *unit
     * ("bytes": written to files and not read; "messages": in Kafka after the position), as of
     * its last look. 0, or -1 when it does not know (yet). */
    int (*lag)(struct lw_input *in, const char **unit, uint64_t *out);
    /* Optional, I/O thread: SIGHUP arrived; re-read what the input loads from files (syslog's
     * TLS certificates), keeping the old on failure (and logging why). */
    void (*reload)(struct lw_input *in);
};

/* Why an input dropped a message it had or could have had: logwarden_input_dropped_total's
 * `reason` label. */
enum lw_drop_reason {
    LW_DROP_QUEUE_FULL = 0, /* the pipeline's queue had no room (datagrams cannot wait) */
    LW_DROP_KERNEL,         /* the kernel's socket buffer overflowed (SO_RXQ_OVFL) */
    LW_DROP_COUNT
};
extern const char *const lw_drop_names[LW_DROP_COUNT];

/* The common part of every input; ctx is the plugin's own. Counters are atomics read by
 * other threads (metrics). */
struct lw_input {
    const struct lw_input_ops *ops;
    char *name;
    uint32_t index;
    const char *dir;            /* the config's folder, for relative paths; borrowed, may be NULL */
    bool from_beginning;        /* start_at: beginning */
    size_t max_line;            /* bytes */
    struct lw_queue *queue;     /* where batches go */
    lw_ckpt_lookup_fn *ckpt;    /* may be NULL */
    lw_ckpt_scan_fn *ckpt_scan; /* may be NULL: no saved positions */
    lw_ckpt_forget_fn *ckpt_forget; /* may be NULL: rows are never deleted */
    lw_sync_fn *sync;               /* may be NULL (replay, test): nothing to wait for */
    void *ckpt_payload;             /* of all four */
    /* The longest alert window of the rules loaded (set by the daemon before start and on
     * reload): how far back a rebuild must read. */
    _Atomic int64_t longest_window_ns;
    void *ctx;
    bool paused; /* I/O thread: pause was called, resume not yet */
    _Atomic uint64_t lines, bytes, truncated;
    _Atomic uint64_t dropped[LW_DROP_COUNT]; /* by enum lw_drop_reason */
    struct lw_join_stats join;               /* multiline records and container partial lines */
};

/* The ops for a type, or NULL when the type is not built in. */
const struct lw_input_ops *lw_input_find(const char *type);
/* The built-in inputs, in registration order (ingest/CMakeLists.txt): i < lw_input_count(). */
size_t lw_input_count(void);
const struct lw_input_ops *lw_input_at(size_t i);
/* Whether type is one the contract (RULES.md) names but this build does not have yet: the config
 * refuses it with "not built yet" rather than "unknown". */
bool lw_input_planned(const char *type);
/* Appends the registered type names, ", "-separated, for messages. */
void lw_input_type_names(struct lw_buf *b);
/* The keys every input has besides name and type (format, labels, timezone, start_at,
 * max_line_bytes), read by the config with lw_opts_apply into a struct lw_input_common (preset
 * format to the type's default and tz to the local zone); `help` prints them. */
struct lw_input_common {
    enum lw_format format;
    char **label_keys, **label_vals; /* taken over by the config */
    size_t nlabels;
    const struct lw_tz *tz;
    bool from_beginning;
    int64_t max_line;
    struct lw_multiline_cfg *multiline; /* NULL: none; taken over by the config */
    int64_t stale_after_ns;             /* 0: never stale (health) */
};
extern const struct lw_opt lw_input_common_opts[];
/* Reads an input's own keys by its table into base (the plugin's context): unknown keys
 * (beyond the common ones) rejected, paths resolved against in->dir. Returns 0 or LW_EINVAL. */
int lw_input_opts(struct lw_input *in, const struct lw_opt *opts, void *base,
                  const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                  struct lw_diag *diag);
/* Hands b to the queue without blocking (I/O thread): LW_OK, or LW_EFULL after pausing the
 * input (the caller keeps b and tries again after resume), or another error (b is the
 * caller's to free). */
int lw_input_push(struct lw_input *in, struct lw_batch *b);
/* The queue has room again: clears paused and calls resume (I/O thread). */
void lw_input_resume(struct lw_input *in);

/* ---------------------------------------------------------------- envelope decoders */

/* A syslog message (RFC 3164 or RFC 5424, with or without PRI). Fields borrow from the line. */
struct lw_syslog_msg {
    int pri;                /* -1 when absent */
    int facility, severity; /* -1 when absent */
    int64_t ts_ns;          /* 0 when absent or unparseable */
    struct lw_str host, app, procid, msgid, sd;
    struct lw_str msg; /* the body */
};
/* Decodes line. now_ns is used to infer the year of RFC 3164 timestamps (the latest year that
 * does not put the time in the future). Returns 0, or -1 when the line is not syslog (then
 * msg is the whole line). RFC 3164 timestamps, which carry no zone, are read as UTC here. */
int lw_syslog_parse(const char *line, size_t n, int64_t now_ns, struct lw_syslog_msg *out);
struct lw_tz;
/* As lw_syslog_parse, reading RFC 3164 timestamps as local times of tz (the input's
 * `timezone:`; NULL: UTC). */
int lw_syslog_parse_tz(const char *line, size_t n, int64_t now_ns, const struct lw_tz *tz,
                       struct lw_syslog_msg *out);
const char *lw_syslog_facility_name(int facility);
const char *lw_syslog_severity_name(int severity);

/* The local port the i-th `listen` address of a started syslog input is bound to (useful with
 * port 0), or -1 (unix sockets, not started, not a syslog input). */
int lw_syslog_bound_port(const struct lw_input *in, size_t i);

/* ---------------------------------------------------------------- container envelopes */

/* One line of a container log, Docker json-file or Kubernetes CRI. msg and stream borrow from
 * the line, or from the caller's scratch buffer when "log" had to be unescaped. */
struct lw_container_msg {
    struct lw_str msg;    /* the log text without its trailing newline; may point into scratch */
    struct lw_str stream; /* "stdout" / "stderr"; empty when absent */
    int64_t ts_ns;        /* 0 when absent/unparseable */
    bool partial;         /* the engine split a long line: more follows (docker: no trailing \n;
                             CRI: tag P) */
};

/* Decodes one Docker json-file line: {"log":"text\n","stream":"stdout","time":"...","attrs":{}},
 * keys in any order, unknown keys skipped. JSON escapes in the strings (\n \t \" \\ \/ \uXXXX
 * with surrogate pairs; a lone surrogate becomes U+FFFD, \u0000 a NUL byte) are unescaped into
 * scratch (reset, reused, grown as needed; untouched when "log" has no escape but its final
 * \n). A trailing "\n" (and a "\r" before it) is stripped; without one the part is partial.
 * Invalid UTF-8 passes through as bytes. An unparseable "time" gives ts_ns 0.
 * Returns 0, or -1 when the line is not a json-file record (not JSON, "log" missing, a known key
 * of the wrong type, nesting deeper than 64): then msg is the whole line. Never reads past n. */
int lw_docker_parse(const char *line, size_t n, struct lw_buf *scratch,
                    struct lw_container_msg *out);

/* Decodes one CRI line: "2024-03-10T06:55:46.123456789Z stdout F message" (tag F full, P
 * partial, optionally followed by ":"-separated extra tags). Allocation-free: fields borrow
 * from the line. Returns 0, or -1 when the line is not CRI (then msg is the whole line). */
int lw_cri_parse(const char *line, size_t n, struct lw_container_msg *out);

/* Parses exactly p[0..n) as an RFC 3339 timestamp ("2024-03-10T06:55:46.123456789Z", offsets
 * "+02:00", fractions to the nanosecond, digits past the ninth ignored). Returns 0 with *ns in
 * UTC (0 when outside the int64 nanosecond range, years 1678..2261), or -1 when malformed. */
int lw_container_time_parse(const char *p, size_t n, int64_t *ns);

/* Reassembles the partial messages of one stream (keep one per file and stream). The joined
 * text is bounded by max bytes (0: LW_MAX_LINE_DEFAULT): beyond it the text is cut, the message
 * counted once in truncated, and the rest dropped up to the final part. The joined message
 * takes the time of its first part that has one. */
struct lw_reassembler {
    struct lw_buf buf; /* the joined text so far; non-empty while a message is pending */
    size_t max;
    uint64_t truncated; /* messages cut at max */
    bool cutting;       /* over max: dropping parts up to the final one */
    int64_t first_ts;
};
void lw_reassembler_init(struct lw_reassembler *r, size_t max);
/* Feeds one decoded line. Returns 1 when a full message is ready in *out (its text borrowed
 * from r or from part, valid until the next call on r), 0 when waiting for more. A full part
 * with nothing pending passes through without a copy (cut at max when longer). */
int lw_reassembler_feed(struct lw_reassembler *r, const struct lw_container_msg *part,
                        struct lw_container_msg *out);
/* Gives up on the rest of a pending message (end of replay input, idle stream, rotation): 1
 * with what was joined so far in *out (partial false; stream empty, the caller knows which one it
 * fed), 0 when nothing is pending. */
int lw_reassembler_flush(struct lw_reassembler *r, struct lw_container_msg *out);
void lw_reassembler_free(struct lw_reassembler *r);

/* ---------------------------------------------------------------- multiline records */

/* How the lines of one stream are joined into records (an input's `multiline:`): a map with
 * `start: REGEX` (a matching line begins a record, the others join it) or `continue: REGEX` (a
 * matching line joins the one before), `max_lines`, `max_bytes`, `timeout`; or a preset name
 * (java, python, go: stack traces as those runtimes print them). Immutable once read; shared by
 * every stream of the input and by every thread. */
struct lw_multiline_cfg;

#define LW_ML_MAX_LINES_DEFAULT 500
#define LW_ML_TIMEOUT_DEFAULT (1 * LW_NS_PER_SEC)

/* Reads the `multiline:` value n (a preset's name or a map) into *out; problems go to diag as
 * FILE:LINE:COL. 0, or LW_EINVAL (*out NULL). */
int lw_multiline_cfg_parse(struct lw_multiline_cfg **out, const struct lw_yaml_doc *doc,
                           const struct lw_yaml_node *n, struct lw_diag *diag);
void lw_multiline_cfg_free(struct lw_multiline_cfg *c);
int64_t lw_multiline_timeout(const struct lw_multiline_cfg *c);
/* The preset's name, or "start" / "continue". */
const char *lw_multiline_cfg_name(const struct lw_multiline_cfg *c);

/* The joiner of one stream. Records fed to it are copied (body and labels) while they wait, so
 * a pending record outlives the batch its lines came from. */
struct lw_multiline;
/* max_bytes is the input's max_line_bytes unless the config sets its own; stats and name (for
 * log lines) are borrowed and outlive the joiner. */
struct lw_multiline *lw_multiline_new(const struct lw_multiline_cfg *cfg, size_t max_line,
                                      struct lw_join_stats *stats, const char *name);
void lw_multiline_free(struct lw_multiline *m);
/* Feeds one decoded line (r, borrowed for the call), which began after cursor `from` in its
 * stream (for lw_multiline_pending). Returns 1 when a record is complete in *out (borrowed from
 * m until its next call), 0 when the line is held. A record's time and labels are its first
 * line's. */
int lw_multiline_feed(struct lw_multiline *m, const struct lw_rec *r, int64_t from,
                      struct lw_rec *out);
/* Completes the pending record, if any: 1 with it in *out, 0 when none is pending. */
int lw_multiline_flush(struct lw_multiline *m, struct lw_rec *out);
/* Whether a record is pending; *from is then the cursor before its first line. */
bool lw_multiline_pending(const struct lw_multiline *m, int64_t *from);
/* Whether the pending record has had no new line for the timeout at now (wall clock). */
bool lw_multiline_expired(const struct lw_multiline *m, int64_t now_ns);

/* ---------------------------------------------------------------- decoding into records */

/* The name `format:` gives f ("raw", "syslog", ...). */
const char *lw_format_name(enum lw_format f);
int lw_format_parse(const char *s, enum lw_format *out);
/* How records of a format structure their body (JSON and logfmt give fields). */
enum lw_body lw_format_body(enum lw_format f);
/* Whether records of f come in a syslog envelope (syslog, syslog+json, syslog+logfmt). */
bool lw_format_syslog(enum lw_format f);
/* The format an input takes when its config names `named` and its type's own is `type_fmt`: a
 * body format (json, logfmt) named on an input whose records come in a syslog envelope decodes
 * the body inside the envelope (syslog+json, syslog+logfmt); any other name is taken as it is
 * (`format: raw` on a syslog input keeps the line unparsed). */
enum lw_format lw_format_on(enum lw_format type_fmt, enum lw_format named);
/* The label slots decoding a format can set (bit l: slot l), besides the input's own. */
uint32_t lw_format_labels(enum lw_format f);

/* Decodes one line's envelope into a rules record. labels (LW_L_COUNT values, or NULL) are
 * the input's (lw_batch.labels); container labels are read from labels[LW_L_PATH]. Returns 0,
 * or -1 when the line is malformed for its format (counted by the caller; the record is then
 * the raw line). */
int lw_decode(enum lw_format fmt, const char *input_name, const struct lw_tz *tz,
              const struct lw_str *labels, const struct lw_record *in, uint32_t input,
              int64_t now_ns, struct lw_rec *out);

/* Decoding state of one source (a file): Docker and CRI split long lines into parts that are
 * joined again, per stream. */
struct lw_dstate {
    struct lw_reassembler r[2]; /* stdout, stderr */
    struct lw_buf scratch;
    bool init;
    /* Multiline (lw_dstate_setup): a joiner per stream (container logs: stdout, stderr). */
    struct lw_multiline *ml[2];
    const struct lw_multiline_cfg *mlcfg;
    size_t max_line;
    struct lw_join_stats *stats; /* NULL: not counted */
    const char *name;
    /* Cursors (lw_record.cursor), for lw_dstate_position: the last line fed (once seen), and
     * before the first part of each pending partial message (LW_CURSOR_UNKNOWN: before the
     * first line fed). Zeroed is a valid start. */
    bool seen;
    int64_t last, r_from[2];
};
#define LW_CURSOR_UNKNOWN INT64_MIN
/* Before the first line: the input's multiline config (NULL: none), its max_line_bytes, where
 * joins are counted (may be NULL) and the input's name for log lines; all borrowed. */
void lw_dstate_setup(struct lw_dstate *st, const struct lw_multiline_cfg *ml, size_t max_line,
                     struct lw_join_stats *stats, const char *name);
/* The cursor every line before which is done with (its record handed out): the last line's, or
 * before the first line of a record still held (a partial message, a pending multiline
 * record). false when not known yet (held since the first line fed). */
bool lw_dstate_position(const struct lw_dstate *st, int64_t *cursor);
/* Whether a multiline record or partial message is held. */
bool lw_dstate_holds(const struct lw_dstate *st);
/* Records held back that are complete now (what): LW_DRAIN_EXPIRED the multiline records whose
 * timeout has passed at now_ns; LW_DRAIN_RECORDS every multiline record (a stop: a partial
 * message stays held, its stream is read again from before it); LW_DRAIN_ALL also partial
 * messages (end of input, a rotated stream). Returns 1 with one in *out (call again until 0).
 * labels are the stream's (lw_batch.labels, or NULL), for a partial message's record. */
enum lw_drain { LW_DRAIN_EXPIRED, LW_DRAIN_RECORDS, LW_DRAIN_ALL };
int lw_dstate_drain(struct lw_dstate *st, enum lw_drain what, enum lw_format fmt,
                    const char *input_name, const struct lw_tz *tz, const struct lw_str *labels,
                    uint32_t input, int64_t now_ns, struct lw_rec *out);
/* As lw_decode, joining partial container lines and, with a multiline config (lw_dstate_setup),
 * lines into records: 1 when *out is a whole record (borrowed until the next call on st), 0
 * when the line is held (nothing to match yet), -1 when malformed (*out is then the raw line,
 * not joined). */
int lw_decode_stream(struct lw_dstate *st, enum lw_format fmt, const char *input_name,
                     const struct lw_tz *tz, const struct lw_str *labels,
                     const struct lw_record *in, uint32_t input, int64_t now_ns,
                     struct lw_rec *out);
/* At the end of a source: the pending partial message of stream i (0, 1) as a record, if any. */
int lw_decode_flush(struct lw_dstate *st, int i, const char *input_name, const struct lw_tz *tz,
                    const struct lw_str *labels, uint32_t input, int64_t now_ns,
                    struct lw_rec *out);
void lw_dstate_free(struct lw_dstate *st);

#endif
