/* test_timefmt.c: unit tests for event timestamp parsers (rules/timefmt.c). Expected epoch
 * seconds were computed independently with Python's datetime and are hard-coded. */
#include "timefmt.h"
#include "lw_tz.h"
#include "test.h"

#include <stdlib.h>

#define S(x) (INT64_C(x) * LW_NS_PER_SEC)

/* now_ns values used for year inference. */
#define NOW_2026_11_22 S(1795348800) /* 2026-11-22T12:00:00Z */
#define NOW_2025_12_31 S(1767222000) /* 2025-12-31T23:00:00Z */
#define NOW_2026_01_01 S(1767226200) /* 2026-01-01T00:10:00Z */
#define NOW_2026_03_09 S(1773039346) /* 2026-03-09T06:55:46Z */

/* Parses s from an exactly-sized heap copy without a NUL, so ASan catches reads past n. */
static int parse_n(struct lw_tsfmt *f, const char *s, size_t n, int64_t now, int64_t *out)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    int rc = lw_tsfmt_parse(f, copy, n, now, out);
    free(copy);
    return rc;
}

static int parse(struct lw_tsfmt *f, const char *s, int64_t now, int64_t *out)
{
    return parse_n(f, s, strlen(s), now, out);
}

/* The value parsed, or -1 (distinct from every expectation below) on failure. */
static int64_t ts(struct lw_tsfmt *f, const char *s, int64_t now)
{
    int64_t out = 0;
    return parse(f, s, now, &out) == 0 ? out : -1;
}

static int64_t ts_spec(const char *spec, const char *s, int64_t now)
{
    struct lw_tsfmt f;
    struct lw_err err = {0};
    if (lw_tsfmt_init(&f, spec, &err) != 0) {
        fprintf(stderr, "init(%s): %s\n", spec, err.msg);
        return -2;
    }
    int64_t r = ts(&f, s, now);
    lw_tsfmt_free(&f);
    return r;
}

static void test_init(void)
{
    struct lw_tsfmt f;
    struct lw_err err = {0};
    CHECK_EQ(lw_tsfmt_init(&f, "rfc3339", &err), 0);
    CHECK_EQ(f.kind, LW_TS_RFC3339);
    lw_tsfmt_free(&f);
    CHECK_EQ(lw_tsfmt_init(&f, "unix_ms", &err), 0);
    CHECK_EQ(f.kind, LW_TS_UNIX_MS);
    lw_tsfmt_free(&f);
    CHECK_EQ(lw_tsfmt_init(&f, "%d/%b/%Y:%H:%M:%S %z", &err), 0);
    CHECK_EQ(f.kind, LW_TS_STRPTIME);
    CHECK_STR(f.fmt, "%d/%b/%Y:%H:%M:%S %z");
    lw_tsfmt_free(&f);
    CHECK_EQ(lw_tsfmt_init(&f, "iso", &err), LW_EINVAL);
    CHECK(strstr(err.msg, "unknown timestamp format 'iso'") != NULL);
    lw_tsfmt_free(&f);
    CHECK_EQ(lw_tsfmt_init(&f, "%H:%M:%", &err), LW_EINVAL);
    CHECK(strstr(err.msg, "lone %") != NULL);
    lw_tsfmt_free(&f);
    CHECK_EQ(lw_tsfmt_init(&f, "%S.%f %f", &err), LW_EINVAL);
    lw_tsfmt_free(&f);
    lw_tsfmt_free(NULL);
}

static void test_rfc3339(void)
{
    const char *r = "rfc3339";
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46Z", 0), S(1710053746));
    CHECK_EQ(ts_spec(r, "2024-03-10t06:55:46z", 0), S(1710053746));
    CHECK_EQ(ts_spec(r, "2024-03-10 06:55:46Z", 0), S(1710053746));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46+00:00", 0), S(1710053746));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46-00:00", 0), S(1710053746));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46+01:00", 0), S(1710050146));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46+0100", 0), S(1710050146));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46+01", 0), S(1710050146));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46-0530", 0), S(1710073546));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46-05:30", 0), S(1710073546));
    CHECK_EQ(ts_spec(r, "2024-03-10 06:55:46 +01:00", 0), S(1710050146));
    CHECK_EQ(ts_spec(r, "1999-12-31T23:59:59+13:59", 0), S(946634459));
    /* No zone: UTC. Trailing spaces are fine. */
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46", 0), S(1710053746));
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46Z  ", 0), S(1710053746));
    /* Fractions of any length, '.' or ','. */
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46.1Z", 0), S(1710053746) + 100000000);
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46.123Z", 0), S(1710053746) + 123000000);
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46.123456Z", 0), S(1710053746) + 123456000);
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46.123456789Z", 0), S(1710053746) + 123456789);
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46.1234567891Z", 0), S(1710053746) + 123456789);
    CHECK_EQ(ts_spec(r, "2024-03-10T06:55:46,5+01:00", 0), S(1710050146) + 500000000);
    /* Leap days, the epoch, before it, the end of the int64 range. */
    CHECK_EQ(ts_spec(r, "2024-02-29T23:59:59Z", 0), S(1709251199));
    CHECK_EQ(ts_spec(r, "2000-02-29T12:00:00Z", 0), S(951825600));
    CHECK_EQ(ts_spec(r, "1970-01-01T00:00:00Z", 0), 0);
    CHECK_EQ(ts_spec(r, "1969-12-31T23:59:59Z", 0), S(-1));
    CHECK_EQ(ts_spec(r, "1969-12-31T23:59:59.5Z", 0), -500000000);
    CHECK_EQ(ts_spec(r, "2023-11-14T22:13:20Z", 0), S(1700000000));
    /* A leap second lands on the next second. */
    CHECK_EQ(ts_spec(r, "2024-03-10T23:59:60Z", 0), S(1710115200));

    static const char *bad[] = {
        "",
        "2024",
        "2024-03-10",
        "2024-03-10T",
        "2024-03-10T06:55",
        "2024-03-10T06:55:4",
        "2024-3-10T06:55:46Z",
        "2024-03-10X06:55:46Z",
        "2024-13-10T06:55:46Z",
        "2024-00-10T06:55:46Z",
        "2024-03-00T06:55:46Z",
        "2024-03-32T06:55:46Z",
        "2023-02-29T06:55:46Z",
        "1900-02-29T06:55:46Z",
        "2024-04-31T06:55:46Z",
        "2024-03-10T24:00:00Z",
        "2024-03-10T06:60:46Z",
        "2024-03-10T06:55:61Z",
        "2024-03-10T06:55:46.Z",
        "2024-03-10T06:55:46+1:00",
        "2024-03-10T06:55:46+01:0",
        "2024-03-10T06:55:46+24:00",
        "2024-03-10T06:55:46+01:60",
        "2024-03-10T06:55:46+",
        "2024-03-10T06:55:46Zx",
        "2024-03-10T06:55:46Z x",
        "2024-03-10T06:55:46 x",
        " 2024-03-10T06:55:46Z",
        "1677-01-01T00:00:00Z", /* outside int64 ns */
        "2263-01-01T00:00:00Z",
        "abcd-ef-ghTij:kl:mnZ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t r_ = ts_spec(r, bad[i], 0);
        if (r_ != -1)
            fprintf(stderr, "rfc3339 accepted bad input '%s'\n", bad[i]);
        CHECK_EQ(r_, -1);
    }
    /* Every prefix of a valid timestamp is parsed without reading past n. */
    struct lw_tsfmt f;
    lw_tsfmt_init(&f, r, NULL);
    const char *full = "2024-03-10T06:55:46.123456+01:00";
    int64_t out;
    for (size_t n = 0; n < strlen(full); n++) {
        int rc = parse_n(&f, full, n, 0, &out);
        /* Only the prefixes that are complete timestamps themselves may succeed. */
        if (n != 19 && n != 21 && n != 22 && n != 23 && n != 24 && n != 25 && n != 26 && n != 29)
            CHECK_EQ(rc, -1);
    }
    CHECK_EQ(parse_n(&f, full, 29, 0, &out), 0);
    CHECK_EQ(out, S(1710050146) + 123456000);
    CHECK_EQ(parse_n(&f, full, 26, 0, &out), 0); /* "...46.123456": no zone, UTC */
    CHECK_EQ(out, S(1710053746) + 123456000);
    lw_tsfmt_free(&f);
}

static void test_unix(void)
{
    CHECK_EQ(ts_spec("unix", "1710053746", 0), S(1710053746));
    CHECK_EQ(ts_spec("unix", "1710053746.123", 0), S(1710053746) + 123000000);
    CHECK_EQ(ts_spec("unix", "1710053746.123456789", 0), S(1710053746) + 123456789);
    CHECK_EQ(ts_spec("unix", "1710053746.", 0), S(1710053746));
    CHECK_EQ(ts_spec("unix", " 1710053746 ", 0), S(1710053746));
    CHECK_EQ(ts_spec("unix", "0", 0), 0);
    CHECK_EQ(ts_spec("unix", "-1.5", 0), -1500000000);
    CHECK_EQ(ts_spec("unix", "1.710053746e9", 0) / LW_NS_PER_MS, INT64_C(1710053746000));
    CHECK_EQ(ts_spec("unix", "9223372035", 0), S(9223372035));
    CHECK_EQ(ts_spec("unix", "9223372037", 0), -1);
    CHECK_EQ(ts_spec("unix", "99999999999999999999999", 0), -1);
    CHECK_EQ(ts_spec("unix", "", 0), -1);
    CHECK_EQ(ts_spec("unix", ".", 0), -1);
    CHECK_EQ(ts_spec("unix", "-", 0), -1);
    CHECK_EQ(ts_spec("unix", "12a", 0), -1);
    CHECK_EQ(ts_spec("unix", "1710053746.12.3", 0), -1);
    CHECK_EQ(ts_spec("unix", "1e", 0), -1);

    CHECK_EQ(ts_spec("unix_ms", "1710053746123", 0), S(1710053746) + 123000000);
    CHECK_EQ(ts_spec("unix_ms", "1710053746123.5", 0), S(1710053746) + 123500000);
    CHECK_EQ(ts_spec("unix_ms", "1710053746123.000001", 0), S(1710053746) + 123000001);
    CHECK_EQ(ts_spec("unix_ms", "0", 0), 0);
    CHECK_EQ(ts_spec("unix_ms", "9223372036854", 0), -1);
    CHECK_EQ(ts_spec("unix_ms", "17100537461x", 0), -1);

    /* Truncated buffers: "1710053746.123" cut at every length reads nothing past n. */
    struct lw_tsfmt f;
    lw_tsfmt_init(&f, "unix", NULL);
    int64_t out;
    CHECK_EQ(parse_n(&f, "1710053746.123", 4, 0, &out), 0);
    CHECK_EQ(out, S(1710));
    CHECK_EQ(parse_n(&f, "1710053746.123", 12, 0, &out), 0);
    CHECK_EQ(out, S(1710053746) + 100000000);
    CHECK_EQ(parse_n(&f, "-", 1, 0, &out), -1);
    CHECK_EQ(parse_n(&f, "", 0, 0, &out), -1);
    lw_tsfmt_free(&f);
}

static void test_syslog(void)
{
    struct lw_tsfmt f;
    struct lw_err err = {0};
    CHECK_EQ(lw_tsfmt_init(&f, "syslog", &err), 0);
    /* In November 2026, July is this year and Dec 31 last year. */
    CHECK_EQ(ts(&f, "Jul 10 03:04:05", NOW_2026_11_22), S(1783652645));
    CHECK_EQ(ts(&f, "Dec 31 23:59:59", NOW_2026_11_22), S(1767225599));
    CHECK_EQ(ts(&f, "Jul  4 03:04:05", NOW_2026_11_22), S(1783134245));
    CHECK_EQ(ts(&f, "Jul 4 03:04:05", NOW_2026_11_22), S(1783134245));
    CHECK_EQ(ts(&f, "Jul 04 03:04:05", NOW_2026_11_22), S(1783134245));
    CHECK_EQ(ts(&f, "jul  4 03:04:05", NOW_2026_11_22), S(1783134245));
    CHECK_EQ(ts(&f, "Jul  4 03:04:05 ", NOW_2026_11_22), S(1783134245));
    CHECK_EQ(ts(&f, "Jul  4 03:04:05.25", NOW_2026_11_22), S(1783134245) + 250000000);
    CHECK_EQ(ts(&f, "Jul  4 03:04:05.123456", NOW_2026_11_22), S(1783134245) + 123456000);
    /* Cached second with another fraction, then the cached second again. */
    CHECK_EQ(ts(&f, "Jul  4 03:04:05.5", NOW_2026_11_22), S(1783134245) + 500000000);
    CHECK_EQ(ts(&f, "Jul  4 03:04:05", NOW_2026_11_22), S(1783134245));
    /* Feb 29 goes back to the last leap year. */
    CHECK_EQ(ts(&f, "Feb 29 10:00:00", NOW_2026_11_22), S(1709200800));
    /* Around the new year. */
    CHECK_EQ(ts(&f, "Jan  1 00:30:00", NOW_2025_12_31), S(1767227400)); /* 1.5 h ahead */
    CHECK_EQ(ts(&f, "Jan  2 23:00:00", NOW_2025_12_31), S(1735858800)); /* 2 days ahead */
    CHECK_EQ(ts(&f, "Dec 31 23:50:00", NOW_2026_01_01), S(1767225000));
    CHECK_EQ(ts(&f, "Jan  1 00:30:00", NOW_2026_01_01), S(1767227400));
    /* Exactly one day ahead is still this year; a second less of now is not. The second
     * parse is in the same UTC day: the cache must not answer it. */
    CHECK_EQ(ts(&f, "Mar 10 06:55:46", NOW_2026_03_09), S(1773125746));
    CHECK_EQ(ts(&f, "Mar 10 06:55:46", NOW_2026_03_09 - LW_NS_PER_SEC), S(1741589746));
    CHECK_EQ(ts(&f, "Mar 10 06:55:46", NOW_2026_03_09), S(1773125746));
    /* Same input on a later day re-infers. */
    CHECK_EQ(ts(&f, "Dec 31 23:59:59", NOW_2026_11_22), S(1767225599));
    CHECK_EQ(ts(&f, "Dec 31 23:59:59", NOW_2026_01_01), S(1767225599));
    CHECK_EQ(ts(&f, "Dec 31 23:59:59", NOW_2025_12_31), S(1767225599));

    static const char *bad[] = {
        "",
        "Jul",
        "Jul ",
        "Jul  4",
        "Jul  4 03:04",
        "Jul  4 03:04:0",
        "Jux  4 03:04:05",
        "Jul  0 03:04:05",
        "Jul 32 03:04:05",
        "Jul 123 03:04:05",
        "Feb 30 03:04:05",
        "Jul  4 24:04:05",
        "Jul  4 03:60:05",
        "Jul  4 03:04:05.",
        "Jul  4 03:04:05x",
        "Jul  4 03:04:05 host",
        "Jul  4 03:04:056",
        "Jul4 03:04:05",
        "2024-03-10T06:55:46Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t r = ts(&f, bad[i], NOW_2026_11_22);
        if (r != -1)
            fprintf(stderr, "syslog accepted bad input '%s'\n", bad[i]);
        CHECK_EQ(r, -1);
    }
    /* Prefixes of a cached line are not matches, and reads stay within n. */
    const char *line = "Jul  4 03:04:05.25";
    int64_t out;
    CHECK_EQ(ts(&f, line, NOW_2026_11_22), S(1783134245) + 250000000);
    for (size_t n = 0; n < strlen(line); n++) {
        int rc = parse_n(&f, line, n, NOW_2026_11_22, &out);
        CHECK_EQ(rc, n == 15 || n == 17 ? 0 : -1);
    }
    lw_tsfmt_free(&f);
}

static void test_strptime(void)
{
    struct lw_tsfmt f;
    struct lw_err err = {0};
    const char *nginx = "%d/%b/%Y:%H:%M:%S %z";
    CHECK_EQ(lw_tsfmt_init(&f, nginx, &err), 0);
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +0000", 0), S(1710053746));
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +0000", 0), S(1710053746)); /* cached */
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 -0700", 0), S(1710078946));
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +01:00", 0), S(1710050146));
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 Z", 0), S(1710053746));
    CHECK_EQ(ts(&f, "10/mar/2024:06:55:46 +0000", 0), S(1710053746));
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +0000  ", 0), S(1710053746));
    CHECK_EQ(ts(&f, "29/Feb/2024:23:59:59 +0000", 0), S(1709251199));
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46.123 +0000", 0), S(1710053746) + 123000000);
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +0000", 0), S(1710053746));
    /* Trailing garbage, bad fields, impossible dates. */
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +0000 x", 0), -1);
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46 +0000x", 0), -1);
    CHECK_EQ(ts(&f, "10/Mar/2024:06:55:46", 0), -1);
    CHECK_EQ(ts(&f, "10/Mxr/2024:06:55:46 +0000", 0), -1);
    CHECK_EQ(ts(&f, "30/Feb/2024:06:55:46 +0000", 0), -1);
    CHECK_EQ(ts(&f, "29/Feb/2023:06:55:46 +0000", 0), -1);
    CHECK_EQ(ts(&f, "10/Mar/2024:25:55:46 +0000", 0), -1);
    CHECK_EQ(ts(&f, "", 0), -1);
    CHECK_EQ(parse_n(&f, "10/Mar/2024:06:55:46 +0000\0", 27, 0, &(int64_t){0}), -1);
    /* A prefix of a cached line must not hit the cache; reads stay within n. */
    const char *line = "10/Mar/2024:06:55:46 +0000";
    int64_t out;
    CHECK_EQ(ts(&f, line, 0), S(1710053746));
    for (size_t n = 0; n < strlen(line); n++)
        CHECK_EQ(parse_n(&f, line, n, 0, &out), n == 24 ? 0 : -1); /* "+00" is a zone too */
    char big[400];
    memset(big, '1', sizeof big);
    CHECK_EQ(parse_n(&f, big, sizeof big, 0, &out), -1);
    lw_tsfmt_free(&f);

    /* Other common formats. */
    CHECK_EQ(ts_spec("%Y-%m-%d %H:%M:%S", "2024-03-10 06:55:46", 0), S(1710053746));
    CHECK_EQ(ts_spec("%Y-%m-%d %H:%M:%S", "2024-03-10 06:55:46,250", 0), S(1710053746) + 250000000);
    CHECK_EQ(ts_spec("%Y-%m-%d %H:%M:%S,%f", "2024-03-10 06:55:46,007", 0),
             S(1710053746) + 7000000);
    CHECK_EQ(ts_spec("%Y-%m-%d %H:%M:%S,%f", "2024-03-10 06:55:46", 0), -1);
    CHECK_EQ(ts_spec("%Y-%m-%dT%H:%M:%S.%f%z", "2024-03-10T06:55:46.5+0100", 0),
             S(1710050146) + 500000000);
    CHECK_EQ(ts_spec("%Y-%m-%dT%T%z", "2024-03-10T06:55:46.5-05:30", 0), S(1710073546) + 500000000);
    CHECK_EQ(ts_spec("%Y/%m/%d %I:%M:%S %p", "2024/03/10 06:55:46 PM", 0), S(1710096946));
    CHECK_EQ(ts_spec("%Y/%m/%d %I:%M:%S %p", "2024/03/10 06:55:46.5 PM", 0),
             S(1710096946) + 500000000);
    CHECK_EQ(ts_spec("%s", "1710053746", 0), S(1710053746));
    CHECK_EQ(ts_spec("%d.%m.%Y %H:%M", "10.03.2024 06:55", 0), S(1710053700));
    CHECK_EQ(ts_spec("%Y-%m-%d %H:%M:%S", "2024-03-10 06:55:46 junk", 0), -1);
    CHECK_EQ(ts_spec("%Y-%m-%d %H:%M:%S", "2024-02-30 06:55:46", 0), -1);

    /* Without %Y: the year is inferred like syslog. */
    CHECK_EQ(ts_spec("%b %d %H:%M:%S", "Dec 31 23:59:59", NOW_2026_11_22), S(1767225599));
    CHECK_EQ(ts_spec("%b %d %H:%M:%S", "Jul 10 03:04:05", NOW_2026_11_22), S(1783652645));
    CHECK_EQ(ts_spec("%d/%b %H:%M:%S", "01/Jan 00:30:00", NOW_2025_12_31), S(1767227400));
    CHECK_EQ(ts_spec("%d/%b %H:%M:%S", "29/Feb 10:00:00", NOW_2026_11_22), S(1709200800));
    CHECK_EQ(ts_spec("%d/%b %H:%M:%S", "30/Feb 10:00:00", NOW_2026_11_22), -1);
    /* Without a date: today (UTC). */
    CHECK_EQ(ts_spec("%H:%M:%S", "08:15:00", NOW_2026_11_22), S(1795335300));

    /* Cached year inference follows the clock. */
    CHECK_EQ(lw_tsfmt_init(&f, "%b %d %H:%M:%S", &err), 0);
    CHECK_EQ(ts(&f, "Mar 10 06:55:46", NOW_2026_03_09), S(1773125746));
    CHECK_EQ(ts(&f, "Mar 10 06:55:46", NOW_2026_03_09 - LW_NS_PER_SEC), S(1741589746));
    CHECK_EQ(ts(&f, "Dec 31 23:59:59", NOW_2026_11_22), S(1767225599));
    CHECK_EQ(ts(&f, "Dec 31 23:59:59.5", NOW_2026_11_22), S(1767225599) + 500000000);
    CHECK_EQ(ts(&f, "Dec 31 23:59:59", NOW_2025_12_31), S(1767225599));
    lw_tsfmt_free(&f);
}

/* Times without a zone are local times of the input's zone (RULES.md "Time"). */
static int64_t ts_tz(struct lw_tsfmt *f, const char *s, int64_t now, const char *zone_name)
{
    const struct lw_tz *z = NULL;
    struct lw_err err;
    int64_t out = 0;
    if (zone_name && lw_tz_get(&z, zone_name, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -2;
    }
    char *copy = malloc(strlen(s) + 1);
    memcpy(copy, s, strlen(s));
    int rc = lw_tsfmt_parse_tz(f, copy, strlen(s), now, z, &out);
    free(copy);
    return rc == 0 ? out : -1;
}

static void test_zones(void)
{
    struct lw_tsfmt f;
    struct lw_err err;
    CHECK_EQ(lw_tsfmt_init(&f, "syslog", &err), 0);
    /* Either side of New York's spring-forward (2024-03-10), and inside the skipped hour. */
    CHECK_EQ(ts_tz(&f, "Mar 10 01:59:59", S(1710200000), "America/New_York"), S(1710053999));
    CHECK_EQ(ts_tz(&f, "Mar 10 03:00:00", S(1710200000), "America/New_York"), S(1710054000));
    CHECK_EQ(ts_tz(&f, "Mar 10 02:30:00", S(1710200000), "America/New_York"), S(1710055800));
    /* The repeated hour of 2024-11-03: the first pass, unless read live in the second. */
    CHECK_EQ(ts_tz(&f, "Nov  3 01:30:00", S(1731000000), "America/New_York"), S(1730611800));
    CHECK_EQ(ts_tz(&f, "Nov  3 01:30:00", S(1730615460), "America/New_York"), S(1730615400));
    CHECK_EQ(ts_tz(&f, "Nov  3 01:30:00", S(1730611860), "America/New_York"), S(1730611800));
    /* East of UTC: 10:00 in Tokyo is 01:00Z, not nine hours in the future. */
    CHECK_EQ(ts_tz(&f, "Mar  9 10:00:00", S(1773018005), "Asia/Tokyo"), S(1773018000));
    /* The cache keys on the zone: the same text in another zone is another time. */
    CHECK_EQ(ts_tz(&f, "Jul  1 12:00:00", S(1720000000), "Europe/Berlin"), S(1719828000));
    CHECK_EQ(ts_tz(&f, "Jul  1 12:00:00", S(1720000000), NULL), S(1719835200));
    CHECK_EQ(ts_tz(&f, "Jul  1 12:00:00", S(1720000000), "Europe/Berlin"), S(1719828000));
    /* Year inference is done in the zone: Jan 1 00:30 in Berlin is Dec 31 UTC. */
    CHECK_EQ(ts_tz(&f, "Jan  1 00:30:00", S(1767222000), "Europe/Berlin"), S(1767223800));
    lw_tsfmt_free(&f);

    /* Berlin's DST boundaries through a strptime format without %z. */
    CHECK_EQ(lw_tsfmt_init(&f, "%Y-%m-%d %H:%M:%S", &err), 0);
    CHECK_EQ(ts_tz(&f, "2024-03-31 01:59:59", 0, "Europe/Berlin"), S(1711846799));
    CHECK_EQ(ts_tz(&f, "2024-03-31 02:30:00", 0, "Europe/Berlin"), S(1711848600));
    CHECK_EQ(ts_tz(&f, "2024-03-31 03:00:00", 0, "Europe/Berlin"), S(1711846800));
    CHECK_EQ(ts_tz(&f, "2024-10-27 02:30:00", 0, "Europe/Berlin"), S(1729989000));
    CHECK_EQ(ts_tz(&f, "2024-10-27 02:30:00", S(1729992610), "Europe/Berlin"), S(1729992600));
    CHECK_EQ(ts_tz(&f, "2024-10-27 03:30:00", 0, "Europe/Berlin"), S(1729996200));
    CHECK_EQ(ts_tz(&f, "2024-07-01 12:00:00.25", 0, "Europe/Berlin"), S(1719828000) + 250000000);
    lw_tsfmt_free(&f);
    /* A format with %z says its zone: the input's does not apply. */
    CHECK_EQ(lw_tsfmt_init(&f, "%Y-%m-%d %H:%M:%S %z", &err), 0);
    CHECK_EQ(ts_tz(&f, "2024-07-01 12:00:00 +0000", 0, "Europe/Berlin"), S(1719835200));
    lw_tsfmt_free(&f);
    /* rfc3339 without an offset stays UTC (JSON loggers that drop the Z). */
    CHECK_EQ(lw_tsfmt_init(&f, "rfc3339", &err), 0);
    CHECK_EQ(ts_tz(&f, "2024-07-01T12:00:00", 0, "Europe/Berlin"), S(1719835200));
    lw_tsfmt_free(&f);
    /* A time of day alone: today's date in the zone (Tokyo is already on 2026-03-10). */
    CHECK_EQ(lw_tsfmt_init(&f, "%H:%M:%S", &err), 0);
    CHECK_EQ(ts_tz(&f, "08:00:00", S(1773100800), "Asia/Tokyo"), S(1773097200));
    lw_tsfmt_free(&f);
}

int main(void)
{
    test_zones();
    test_init();
    test_rfc3339();
    test_unix();
    test_syslog();
    test_strptime();
    return test_summary();
}
