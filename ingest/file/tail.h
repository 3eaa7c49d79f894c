/* tail.h: following files by identity across rotation, truncation and restarts: the engine
 * under the file, docker and cri inputs. All calls on the input's I/O thread. */
#ifndef LW_TAIL_H
#define LW_TAIL_H

#include "ingest.h"

/* What a crash does (positions are committed with the windows, ingest.h):
 *
 *   step                                  | a kill -9 just after it
 *   --------------------------------------+-----------------------------------------------
 *   lines of identity X read, batched     | read again from X's last committed position
 *   X rotated away (renamed), still open  | X found again among the path's siblings by
 *                                         | identity, read on from its position
 *   X drained and closed                  | as above: X read from its end, nothing new
 *   X deleted, its final position         | X's row is deleted in the next flush; before
 *   committed, forget asked               | that, the row matches nothing and is dropped
 *   a file appears at the path            | read from 0 (it has no position: it appeared
 *                                         | after the first start)
 *
 * Identity: device, inode and a fingerprint of the file's first line (up to its newline, at most
 * LW_TAIL_FP_MAX bytes): an inode reused by a new file, a file deleted and made again, or
 * truncated and written again are new identities. A stream id is "DEV:INO:FP" (decimal, decimal,
 * 16 hex digits); its position "DEV:INO:OFF" as main wrote it under the path, so an old state
 * file (stream = path) resumes exactly. */

struct lw_tail;
struct lw_tail_cfg {
    int64_t poll_interval_ns; /* fallback poll and growth check when inotify is missing */
    size_t max_files;         /* files followed at once; more are skipped, counted, logged */
    /* Optional: called at the start of every look (poll or change), on the I/O thread, so a
     * user discovers paths (globs, containers) in step with the engine. */
    void (*on_tick)(void *arg);
    void *on_tick_arg;
};
/* Labels set on every batch of one followed path (copied by lw_tail_add). slot: the fixed
 * label slots (base/lw_record.h, p == NULL when absent); extra: name/value pairs beyond them
 * (docker's label.<key>), may be empty. */
struct lw_tail_labels {
    struct lw_str slot[LW_L_COUNT];
    const struct lw_str *extra_names, *extra_values;
    size_t nextra;
};

#define LW_TAIL_FP_MAX 1024 /* bytes of a file's start its fingerprint reads at most */

struct lw_tail *lw_tail_new(struct lw_input *in, const struct lw_tail_cfg *cfg);
int lw_tail_start(struct lw_tail *t, uv_loop_t *loop, struct lw_err *err);
/* Follows path: the file there now and later (across rename/create/copytruncate/symlink
 * retarget) and what is rotated away from it (read to its end). The path label is set. A
 * path already followed: its labels are replaced. Returns 0 (also when the path does not exist
 * yet: it is looked for at each change). */
int lw_tail_add(struct lw_tail *t, const char *path, const struct lw_tail_labels *labels);
/* Stops following path: what is written now is read to its end, then forgotten. */
void lw_tail_remove(struct lw_tail *t, const char *path);
void lw_tail_resume(struct lw_tail *t); /* the input's resume op */
void lw_tail_checkpoint(struct lw_tail *t, const char *stream, const struct lw_pos *pos);
void lw_tail_pos_encode(const uint64_t ident[2], int64_t cursor, struct lw_pos *out);
/* Appends this input's tail metrics in Prometheus text (thread-safe: the HTTP thread). */
void lw_tail_metrics(struct lw_tail *t, struct lw_buf *out);
/* Bytes written to the followed files and not read yet, as of the last tick (any thread). */
uint64_t lw_tail_behind(struct lw_tail *t);
/* Also watches dir (inotify) for changes: a folder a glob or a discovery reads, whose new
 * files should be seen at once rather than at the next poll. */
void lw_tail_watch_dir(struct lw_tail *t, const char *dir);
void lw_tail_stop(struct lw_tail *t);
void lw_tail_free(struct lw_tail *t);

/* ---------------------------------------------------------------- identity (pure, for tests) */

/* The fingerprint of a file's first bytes p[0..n) (n: what was read from offset 0, at most
 * LW_TAIL_FP_MAX): the hash of its first line with its newline, or of all LW_TAIL_FP_MAX bytes
 * when none ends within them. Returns the bytes it covers (*fp set), or 0 when it is not known
 * yet (n < LW_TAIL_FP_MAX and no newline: the first line is still being written). */
size_t lw_tail_fingerprint(const char *p, size_t n, uint64_t *fp);
/* Formats the stream id of an identity into out (at least LW_TAIL_STREAM_MAX bytes). */
#define LW_TAIL_STREAM_MAX 64
void lw_tail_stream_id(uint64_t dev, uint64_t ino, uint64_t fp, char *out);
/* Parses a stream id: 0, or -1 when s is not one (an old state file's path). */
int lw_tail_stream_parse(const char *s, uint64_t *dev, uint64_t *ino, uint64_t *fp);
/* Parses a position lw_tail_pos_encode wrote: 0, or -1. */
int lw_tail_pos_decode(const struct lw_pos *pos, uint64_t *dev, uint64_t *ino, int64_t *off);
/* Whether name (a file name without its folder) is a rotation of base: base followed by '.',
 * '-' or '_' and more (app.log.1, app.log-20261205, 0.log.20261205-101010). Sets *compressed
 * for names ending in .gz, .bz2, .xz, .zst, .lz4, .z, .zip, .Z. */
bool lw_tail_is_rotation(const char *base, const char *name, bool *compressed);

#endif
