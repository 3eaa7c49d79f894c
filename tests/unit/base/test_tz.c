/* test_tz.c: unit tests for time zones: TZif files, POSIX TZ rules, DST gaps and overlaps. */
#include "lw_tz.h"
#include "test.h"

#include <stdlib.h>

#define H 3600

static const struct lw_tz *zone(const char *name)
{
    const struct lw_tz *z = NULL;
    struct lw_err err = {0};
    if (lw_tz_get(&z, name, &err) != 0)
        fprintf(stderr, "%s: %s\n", name, err.msg);
    CHECK(z != NULL);
    return z;
}

static int64_t to_utc(const struct lw_tz *z, int64_t local, int64_t now, int expect_fit)
{
    int64_t t = -1;
    CHECK_EQ(lw_tz_to_utc(z, local, now, &t), expect_fit);
    return t;
}

/* New York: EST/EDT; the expected instants are Python zoneinfo's. */
static void test_new_york(void)
{
    const struct lw_tz *ny = zone("America/New_York");
    if (!ny)
        return;
    CHECK_STR(lw_tz_name(ny), "America/New_York");
    CHECK_EQ(lw_tz_offset(ny, 1721001600), -4 * H); /* 2024-07-15 */
    CHECK_EQ(lw_tz_offset(ny, 1705276800), -5 * H); /* 2024-01-15 */
    /* 2024-03-10: 01:59:59 EST is followed by 03:00:00 EDT. */
    CHECK_EQ(to_utc(ny, 1710035999, 0, LW_TZ_EXACT), 1710053999);
    CHECK_EQ(to_utc(ny, 1710039600, 0, LW_TZ_EXACT), 1710054000);
    /* 02:30 does not exist: read with the offset before the gap, i.e. 03:30 EDT. */
    CHECK_EQ(to_utc(ny, 1710037800, 0, LW_TZ_GAP), 1710055800);
    /* 2024-11-03 01:30 happens twice: the first (EDT) unless the second is just past. */
    CHECK_EQ(to_utc(ny, 1730597400, 0, LW_TZ_AMBIGUOUS), 1730611800);
    CHECK_EQ(to_utc(ny, 1730597400, 1730611800 + 60, LW_TZ_AMBIGUOUS), 1730611800);
    CHECK_EQ(to_utc(ny, 1730597400, 1730615400 + 60, LW_TZ_AMBIGUOUS), 1730615400);
    CHECK_EQ(to_utc(ny, 1730597400, 1730615400 - 120, LW_TZ_AMBIGUOUS), 1730615400);
    /* Replaying last year's logs (now far past): the first occurrence. */
    CHECK_EQ(to_utc(ny, 1730597400, 1730615400 + 86400 * 300, LW_TZ_AMBIGUOUS), 1730611800);
    /* Past the file's table (2037): the footer rule EST5EDT,M3.2.0,M11.1.0. */
    CHECK_EQ(lw_tz_offset(ny, 2224713600), -4 * H); /* 2040-07-01 */
    CHECK_EQ(lw_tz_offset(ny, 2208988800), -5 * H); /* 2040-01-01 */
}

static void test_berlin(void)
{
    const struct lw_tz *be = zone("Europe/Berlin");
    if (!be)
        return;
    CHECK_EQ(to_utc(be, 1719835200, 0, LW_TZ_EXACT), 1719828000); /* 2024-07-01 12:00 CEST */
    /* 2024-03-31 02:30 is skipped: 03:30 CEST. */
    CHECK_EQ(to_utc(be, 1711852200, 0, LW_TZ_GAP), 1711848600);
    /* 2024-10-27 02:30 happens twice. */
    CHECK_EQ(to_utc(be, 1729996200, 0, LW_TZ_AMBIGUOUS), 1729989000);
    CHECK_EQ(to_utc(be, 1729996200, 1729992600 + 10, LW_TZ_AMBIGUOUS), 1729992600);
    CHECK_EQ(lw_tz_offset(be, 2540246400), 2 * H); /* 2050-07-01, from the footer */
}

/* The southern hemisphere: DST spans the new year. */
static void test_sydney(void)
{
    const struct lw_tz *sy = zone("Australia/Sydney");
    if (!sy)
        return;
    CHECK_EQ(lw_tz_offset(sy, 1705276800), 11 * H); /* 2024-01-15 */
    CHECK_EQ(lw_tz_offset(sy, 1721001600), 10 * H); /* 2024-07-15 */
    CHECK_EQ(lw_tz_offset(sy, 2368051200), 11 * H); /* 2045-01-15, from the footer */
}

static void test_names(void)
{
    const struct lw_tz *z = NULL;
    struct lw_err err = {0};
    CHECK(zone("UTC") != NULL);
    CHECK_EQ(lw_tz_offset(zone("UTC"), 1721001600), 0);
    CHECK_EQ(lw_tz_offset(zone("Asia/Tokyo"), 1721001600), 9 * H);
    /* Interned: one load per zone. */
    CHECK(zone("Europe/Berlin") == zone("Europe/Berlin"));
    CHECK_EQ(lw_tz_get(&z, "Mars/Olympus_Mons", &err), LW_EINVAL);
    CHECK(strstr(err.msg, "unknown timezone 'Mars/Olympus_Mons'") != NULL);
    CHECK_EQ(lw_tz_get(&z, "../../etc/passwd", &err), LW_EINVAL);
    CHECK(strstr(err.msg, "not an IANA zone name") != NULL);
    CHECK_EQ(lw_tz_get(&z, "/etc/localtime", &err), LW_EINVAL);
    CHECK_EQ(lw_tz_get(&z, "", &err), LW_EINVAL);
    /* NULL is UTC. */
    int64_t t;
    CHECK_EQ(lw_tz_to_utc(NULL, 1000, 0, &t), LW_TZ_EXACT);
    CHECK_EQ(t, 1000);
}

/* The local zone from a POSIX TZ string (no file of that name). */
static void test_local_posix(void)
{
    setenv("TZ", "XST5XDT,M3.2.0,M11.1.0", 1);
    const struct lw_tz *l = lw_tz_local();
    CHECK(l != NULL);
    CHECK_EQ(lw_tz_offset(l, 1721001600), -4 * H);
    CHECK_EQ(lw_tz_offset(l, 1705276800), -5 * H);
    CHECK_EQ(to_utc(l, 1710037800, 0, LW_TZ_GAP), 1710055800);
}

int main(void)
{
    test_local_posix(); /* first: the local zone is read once */
    test_new_york();
    test_berlin();
    test_sydney();
    test_names();
    return test_summary();
}
