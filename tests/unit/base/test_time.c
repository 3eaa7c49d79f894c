/* test_time.c: unit tests for base/lw_time.c: days in month, civil dates, the RFC 3339 parser
 * (strict and relaxed) and the syslog year rule. */
#include "lw_time.h"
#include "lw_tz.h"
#include "test.h"

#define H 3600

/* UTC seconds of a civil date and time. */
static int64_t utc(int64_t y, unsigned mo, unsigned d, int h, int mi, int s)
{
    return lw_days_from_civil(y, mo, d) * 86400 + h * H + mi * 60 + s;
}

/* Parses all of s: the UTC ns, or INT64_MIN when s is not (entirely) a time. */
static int64_t parse(const char *s, unsigned flags)
{
    struct lw_rfc3339 t;
    size_t n = strlen(s);
    if (lw_rfc3339_scan(s, n, flags, &t) != n || n == 0)
        return INT64_MIN;
    return t.secs * LW_NS_PER_SEC + t.frac_ns;
}

static void test_days_in_month(void)
{
    CHECK_EQ(lw_days_in_month(2024, 1), 31);
    CHECK_EQ(lw_days_in_month(2024, 4), 30);
    CHECK_EQ(lw_days_in_month(2024, 12), 31);
    CHECK_EQ(lw_days_in_month(2024, 2), 29); /* divisible by 4 */
    CHECK_EQ(lw_days_in_month(2023, 2), 28);
    CHECK_EQ(lw_days_in_month(2100, 2), 28); /* by 100, not by 400 */
    CHECK_EQ(lw_days_in_month(2000, 2), 29); /* by 400 */
    CHECK_EQ(lw_days_in_month(1900, 2), 28);
}

static void test_civil_from_days(void)
{
    /* Round trips over 1600..2400, every 13th day, and a few fixed points. */
    for (int64_t z = lw_days_from_civil(1600, 1, 1); z < lw_days_from_civil(2400, 1, 1); z += 13) {
        int64_t y;
        unsigned m, d;
        lw_civil_from_days(z, &y, &m, &d);
        if (lw_days_from_civil(y, m, d) != z || d > lw_days_in_month(y, m)) {
            CHECK_EQ(lw_days_from_civil(y, m, d), z);
            break;
        }
    }
    int64_t y;
    unsigned m, d;
    lw_civil_from_days(0, &y, &m, &d);
    CHECK(y == 1970 && m == 1 && d == 1);
    lw_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    lw_civil_from_days(lw_days_from_civil(2024, 2, 29), &y, &m, &d);
    CHECK(y == 2024 && m == 2 && d == 29);
}

static void test_rfc3339_strict(void)
{
    const int64_t base = utc(2024, 3, 10, 6, 55, 46) * LW_NS_PER_SEC;
    CHECK_EQ(parse("2024-03-10T06:55:46Z", 0), base);
    CHECK_EQ(parse("2024-03-10t06:55:46z", 0), base);
    /* Fractions: any number of digits, past the ninth dropped. */
    CHECK_EQ(parse("2024-03-10T06:55:46.5Z", 0), base + 500000000);
    CHECK_EQ(parse("2024-03-10T06:55:46.003Z", 0), base + 3000000);
    CHECK_EQ(parse("2024-03-10T06:55:46.123456789Z", 0), base + 123456789);
    CHECK_EQ(parse("2024-03-10T06:55:46.1234567899Z", 0), base + 123456789);
    /* Offsets: local time minus the offset. */
    CHECK_EQ(parse("2024-03-10T07:55:46+01:00", 0), base);
    CHECK_EQ(parse("2024-03-10T01:25:46-05:30", 0), base);
    CHECK_EQ(parse("2024-03-10T07:55:46.250+01:00", 0), base + 250000000);
    /* A date across midnight by its offset. */
    CHECK_EQ(parse("2024-01-01T00:30:00+01:00", 0), utc(2023, 12, 31, 23, 30, 0) * LW_NS_PER_SEC);
    /* A leap second lands on the next second. */
    CHECK_EQ(parse("2016-12-31T23:59:60Z", 0), utc(2017, 1, 1, 0, 0, 0) * LW_NS_PER_SEC);
    /* Leap years. */
    CHECK_EQ(parse("2024-02-29T00:00:00Z", 0), utc(2024, 2, 29, 0, 0, 0) * LW_NS_PER_SEC);
    CHECK_EQ(parse("2000-02-29T00:00:00Z", 0), utc(2000, 2, 29, 0, 0, 0) * LW_NS_PER_SEC);

    /* Strict refuses the relaxations. */
    CHECK_EQ(parse("2024-03-10 06:55:46Z", 0), INT64_MIN);
    CHECK_EQ(parse("2024-03-10T06:55:46,5Z", 0), INT64_MIN);
    CHECK_EQ(parse("2024-03-10T06:55:46", 0), INT64_MIN);
    CHECK_EQ(parse("2024-03-10T06:55:46 Z", 0), INT64_MIN);
    CHECK_EQ(parse("2024-03-10T07:55:46+0100", 0), INT64_MIN);
    CHECK_EQ(parse("2024-03-10T07:55:46+01", 0), INT64_MIN);

    /* A prefix: the caller sees how much was a time. */
    struct lw_rfc3339 t;
    const char *line = "2024-03-10T06:55:46Z web1 nginx: GET /";
    CHECK_EQ(lw_rfc3339_scan(line, strlen(line), 0, &t), 20);
    CHECK_EQ(t.secs, base / LW_NS_PER_SEC);
    CHECK_EQ(t.year, 2024);
}

static void test_rfc3339_relaxed(void)
{
    const unsigned R = LW_RFC3339_RELAXED;
    const int64_t base = utc(2024, 3, 10, 6, 55, 46) * LW_NS_PER_SEC;
    CHECK_EQ(parse("2024-03-10T06:55:46Z", R), base);
    CHECK_EQ(parse("2024-03-10 06:55:46Z", R), base);
    CHECK_EQ(parse("2024-03-10T06:55:46,25Z", R), base + 250000000);
    CHECK_EQ(parse("2024-03-10T06:55:46", R), base); /* no zone: UTC */
    CHECK_EQ(parse("2024-03-10T06:55:46.5", R), base + 500000000);
    CHECK_EQ(parse("2024-03-10T07:55:46 +01:00", R), base);
    CHECK_EQ(parse("2024-03-10T07:55:46+0100", R), base);
    CHECK_EQ(parse("2024-03-10T07:55:46+01", R), base);
    CHECK_EQ(parse("2024-03-10T07:55:46 Z", R), base + H * LW_NS_PER_SEC);
    CHECK_EQ(parse("2024-03-10T07:55:46+010", R), INT64_MIN); /* +hhm */
}

static void test_rfc3339_invalid(void)
{
    static const char *const bad[] = {
        "",
        "2024",
        "2024-03-10",
        "2024-03-10T",
        "2024-03-10T06:55",
        "24-03-10T06:55:46Z",
        "2024-3-10T06:55:46Z",
        "2024/03/10T06:55:46Z",
        "2024-03-10X06:55:46Z",
        "2024-00-10T06:55:46Z",
        "2024-13-10T06:55:46Z",
        "2024-03-00T06:55:46Z",
        "2024-03-32T06:55:46Z",
        "2024-04-31T06:55:46Z",
        "2023-02-29T06:55:46Z", /* Feb 29 in a year without it */
        "2100-02-29T06:55:46Z",
        "2024-02-30T06:55:46Z",
        "2024-03-10T24:00:00Z",
        "2024-03-10T06:60:00Z",
        "2024-03-10T06:55:61Z",
        "2024-03-10T06:55:46.Z",
        "2024-03-10T06:55:46+24:00",
        "2024-03-10T06:55:46+01:60",
        "2024-03-10T06:55:46+1:00",
        "2024-03-10T06:55:46+",
        "2024-03-10T06:55:46Q",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        for (unsigned flags = 0; flags <= LW_RFC3339_RELAXED; flags++) {
            struct lw_rfc3339 t;
            size_t n = strlen(bad[i]);
            size_t used = lw_rfc3339_scan(bad[i], n, flags, &t);
            if (used == n && n > 0) {
                fprintf(stderr, "accepted (flags %u): '%s'\n", flags, bad[i]);
                CHECK(0);
            }
        }
    }
    /* Never reads past n: a valid time cut short is not one. */
    const char *s = "2024-03-10T06:55:46Z";
    struct lw_rfc3339 t;
    for (size_t n = 0; n < strlen(s); n++)
        CHECK_EQ(lw_rfc3339_scan(s, n, 0, &t), 0);
}

/* The year lw_syslog_year() gives to "mon mday hh:mm:ss" (UTC, or tz) at now; 0 when none. */
static int64_t year_of(unsigned mon, unsigned mday, int h, int mi, int s, const struct lw_tz *tz,
                       int64_t now, int64_t *secs_out)
{
    int64_t secs;
    bool stable;
    if (lw_syslog_year(mon, mday, h * H + mi * 60 + s, tz, now * LW_NS_PER_SEC, &secs, &stable))
        return 0;
    if (secs_out)
        *secs_out = secs;
    int64_t y;
    unsigned m, d;
    lw_civil_from_days(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400), &y, &m, &d);
    return y;
}

static void test_syslog_year(void)
{
    int64_t secs;
    /* Mid-year: this year. */
    CHECK_EQ(year_of(3, 10, 6, 55, 46, NULL, utc(2024, 7, 1, 0, 0, 0), &secs), 2024);
    CHECK_EQ(secs, utc(2024, 3, 10, 6, 55, 46));
    /* Across New Year: just after it, late December is last year... */
    CHECK_EQ(year_of(12, 31, 23, 59, 59, NULL, utc(2024, 1, 1, 0, 0, 5), &secs), 2023);
    CHECK_EQ(secs, utc(2023, 12, 31, 23, 59, 59));
    /* ...and just before it, a clock slightly ahead is next year, within a day. */
    CHECK_EQ(year_of(1, 1, 0, 0, 5, NULL, utc(2023, 12, 31, 23, 59, 50), &secs), 2024);
    CHECK_EQ(secs, utc(2024, 1, 1, 0, 0, 5));
    /* One day past now, to the second, is still this year; one second more is last year. */
    CHECK_EQ(year_of(3, 11, 12, 0, 0, NULL, utc(2024, 3, 10, 12, 0, 0), NULL), 2024);
    CHECK_EQ(year_of(3, 11, 12, 0, 1, NULL, utc(2024, 3, 10, 12, 0, 0), NULL), 2023);
    /* Two days ahead is too far: that was last year. */
    CHECK_EQ(year_of(1, 2, 0, 0, 0, NULL, utc(2023, 12, 31, 0, 0, 0), NULL), 2023);
    /* Feb 29 goes back to the last leap year, even eight years back (2096 -> 2104). */
    CHECK_EQ(year_of(2, 29, 12, 0, 0, NULL, utc(2023, 6, 1, 0, 0, 0), NULL), 2020);
    CHECK_EQ(year_of(2, 29, 12, 0, 0, NULL, utc(2024, 3, 1, 0, 0, 0), NULL), 2024);
    CHECK_EQ(year_of(2, 29, 12, 0, 0, NULL, utc(2103, 6, 1, 0, 0, 0), NULL), 2096);
    /* A date no year has. */
    CHECK_EQ(year_of(2, 30, 0, 0, 0, NULL, utc(2024, 6, 1, 0, 0, 0), NULL), 0);
    CHECK_EQ(year_of(4, 31, 0, 0, 0, NULL, utc(2024, 6, 1, 0, 0, 0), NULL), 0);

    /* In a zone: New Year's Eve 23:30 in New York is already Jan 1 UTC; at 00:00 UTC on
     * Jan 1 it is still last year's local Dec 31. */
    const struct lw_tz *ny = NULL;
    struct lw_err err = {0};
    if (lw_tz_get(&ny, "America/New_York", &err) == 0 && ny) {
        CHECK_EQ(year_of(12, 31, 23, 30, 0, ny, utc(2024, 1, 1, 5, 0, 0), &secs), 2024);
        CHECK_EQ(secs, utc(2024, 1, 1, 4, 30, 0)); /* 2023-12-31 23:30 EST */
        /* Jan 1 local, seen from Dec 31 UTC: next year. */
        CHECK_EQ(year_of(1, 1, 0, 10, 0, ny, utc(2023, 12, 31, 23, 0, 0), &secs), 2024);
        CHECK_EQ(secs, utc(2024, 1, 1, 5, 10, 0));
    }

    /* The stable flag: mid-year the answer holds the whole day; at the limit it does not. */
    bool stable;
    int64_t now = utc(2024, 7, 1, 12, 0, 0) * LW_NS_PER_SEC;
    CHECK_EQ(lw_syslog_year(3, 10, 0, NULL, now, &secs, &stable), 0);
    CHECK(stable);
    CHECK_EQ(lw_syslog_year(7, 2, 6 * H, NULL, now, &secs, &stable), 0);
    CHECK(!stable);
}

int main(void)
{
    test_days_in_month();
    test_civil_from_days();
    test_rfc3339_strict();
    test_rfc3339_relaxed();
    test_rfc3339_invalid();
    test_syslog_year();
    return test_summary();
}
