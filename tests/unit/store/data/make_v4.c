/* make_v4.c: wrote state-v4.db, a version 4 state file, with the store of main before shards
 * (ba9ed26): built against that tree's lw_store and lw_base, run once, then VACUUMed. Kept so
 * that the fixture can be made again; not built. */
#include "store.h"
#include <stdio.h>
int main(int argc, char **argv)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    if (argc < 2 || lw_store_open(&st, argv[1], &err) != 0)
        return 1;
    static const unsigned char sk[] = {1, 2, 3, 0, 255};
    struct lw_bucket_row b[] = {
        {"HighErrorRate", "{\"host\":\"a\"}", 60, 28500000, 10, 2, 0, 0, 0, NULL, 0},
        {"HighErrorRate", "{\"host\":\"a\"}", 60, 28500001, 7, 1, 0, 0, 0, NULL, 0},
        {"SlowRequests", "{}", 1, 1710000000, 3, 0, 4.5, 0.5, 2.5, sk, sizeof sk},
    };
    struct lw_state_row s[] = {{"HighErrorRate", "00000000000000aa", "{\"host\":\"a\"}", LW_FIRING,
                                1710000000000000000, 1710000060000000000, 0.2}};
    struct lw_ckpt_row c[] = {{"web", "/var/log/nginx/access.log", "2049:131077:4096", 16}};
    struct lw_flush f = {
        .ckpts = c, .nckpts = 1, .buckets = b, .nbuckets = 3, .states = s, .nstates = 1};
    if (lw_store_flush(st, &f, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("version %d\n", lw_store_schema_version(st));
    lw_store_close(st);
    return 0;
}
