/* ingest_int.h: declarations shared inside the ingest module only (not part of its interface). */
#ifndef LW_INGEST_INT_H
#define LW_INGEST_INT_H

#include "ingest.h"

/* Batches aim at this many lines or bytes before they are handed to the queue. */
#define LW_BATCH_MAX_LINES 512
#define LW_BATCH_MAX_BYTES (128u * 1024)

/* The built-in inputs' ops (extern declarations, LW_INPUTS_BUILTIN), generated from the
 * lw_plugin() lines of ingest/CMakeLists.txt. */
#include "lw_inputs_builtin.h"

/* Rate-limited warnings: true when a message for this limiter may be logged now (at most one
 * per interval), counting what was suppressed in *suppressed. */
struct lw_ratelimit {
    int64_t last_ns;
    uint64_t suppressed;
};
bool lw_ingest__ratelimit(struct lw_ratelimit *rl, int64_t interval_ns);

#endif
