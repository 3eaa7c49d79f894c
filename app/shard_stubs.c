/* shard_stubs.c: TEMPORARY no-op stand-ins for the engine's and store's shard calls (issue 14),
 * until branch `shards` lands on main; delete this file (and its CMake entry) then. */
#include "engine.h"
#include "store.h"

#include <string.h>

void lw_engine_shards(struct lw_engine *e, bool on)
{
    (void)e;
    (void)on;
}

void lw_engine_forget_shard(struct lw_engine *e, uint32_t shard)
{
    (void)e;
    (void)shard;
}

void lw_engine_quiet_shard(struct lw_engine *e, uint32_t shard, bool on)
{
    (void)e;
    (void)shard;
    (void)on;
}

void lw_engine_partial(struct lw_engine *e, int64_t now_ns)
{
    (void)e;
    (void)now_ns;
}

int lw_store_shard_id(struct lw_store *st, const char *input, const char *stream, uint32_t *id,
                      struct lw_err *err)
{
    (void)st;
    (void)err;
    /* Stable and >= 1 as the real one, not stored: enough for the daemon's marker paths. */
    uint64_t h = lw_hash64(stream, strlen(stream), lw_hash64(input, strlen(input), LW_HASH_SEED));
    *id = (uint32_t)(h % 0x7fffffffu) + 1;
    return 0;
}
