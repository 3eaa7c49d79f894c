/* timefmt_fuzz.c: fuzz target for the event timestamp parsers (rules/timefmt.c). */
#include "lw_tz.h"
#include "timefmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first byte picks the format, the clock and the zone (none, or one with DST either side of
 * UTC, or one east of it without), the rest is the timestamp. The input is copied
 * to an exactly-sized buffer so a read past n is caught by ASan. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *specs[] = {"rfc3339",
                                  "unix",
                                  "unix_ms",
                                  "syslog",
                                  "%d/%b/%Y:%H:%M:%S %z",
                                  "%Y-%m-%d %H:%M:%S,%f",
                                  "%b %d %H:%M:%S",
                                  "%H:%M:%S"};
    static const int64_t nows[] = {INT64_C(1795348800000000000), INT64_C(1767222000000000000), 0,
                                   INT64_C(-86400000000000)};
    if (size < 1)
        return 0;
    struct lw_tsfmt f;
    if (lw_tsfmt_init(&f, specs[data[0] % 8], NULL) != 0)
        return 0;
    static const char *zones[] = {NULL, "America/New_York", "Europe/Berlin", "Asia/Tokyo"};
    const struct lw_tz *tz = NULL;
    const char *zone = zones[(data[0] >> 5) % 4];
    if (zone && lw_tz_get(&tz, zone, NULL) != 0)
        tz = NULL; /* no tzdata: still fuzz the rest */
    int64_t now = nows[(data[0] >> 3) % 4], out;
    char *copy = malloc(size - 1 ? size - 1 : 1);
    memcpy(copy, data + 1, size - 1);
    /* Twice: the second parse goes through the cache and must agree with the first. */
    int64_t first = 0;
    int rc = lw_tsfmt_parse_tz(&f, copy, size - 1, now, tz, &first);
    if (lw_tsfmt_parse_tz(&f, copy, size - 1, now, tz, &out) != rc || (rc == 0 && out != first))
        abort();
    free(copy);
    lw_tsfmt_free(&f);
    return 0;
}
