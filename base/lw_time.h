/* lw_time.h: civil-date arithmetic, the one RFC 3339 parser and the one syslog year rule. */
#ifndef LW_TIME_H
#define LW_TIME_H

#include "lw.h"

struct lw_tz;

/* The scanners every time parser shares: inline, they are on the line path. */
static inline bool lw_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly k digits at s[*i] into *v; advances *i. */
static inline bool lw_digits(const char *s, size_t n, size_t *i, int k, unsigned *v)
{
    unsigned r = 0;
    if (n - *i < (size_t)k)
        return false;
    for (int j = 0; j < k; j++) {
        char c = s[*i + (size_t)j];
        if (!lw_is_digit(c))
            return false;
        r = r * 10 + (unsigned)(c - '0');
    }
    *i += (size_t)k;
    *v = r;
    return true;
}

/* 1..31: the days of month m (1..12) of year y, Feb 29 in leap years only. */
unsigned lw_days_in_month(int64_t y, unsigned m);

/* The inverse of lw_days_from_civil() (Howard Hinnant's civil_from_days). */
void lw_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/*
 * RFC 3339 grammars. Strict is what syslog (RFC 5424) and container runtimes write:
 * YYYY-MM-DD, T or t, hh:mm:ss, optional "." and one or more digits, then Z/z or +hh:mm.
 * LW_RFC3339_RELAXED adds the ISO 8601 relaxations JSON loggers use: a space for the T, "," for
 * the ".", a space before the zone, +hhmm or +hh, and no zone at all (read as UTC).
 */
enum { LW_RFC3339_RELAXED = 1 };

/* The time read by lw_rfc3339_scan(): UTC seconds, the fraction in ns, and the year as written
 * (callers that refuse implausible years check it). */
struct lw_rfc3339 {
    int64_t secs;
    int64_t frac_ns;
    int year;
};

/* Reads an RFC 3339 time at the start of s[0..n): the bytes it took, or 0 when there is none
 * (bad syntax, month 13, Feb 30, hour 24, ...). Second 60 (a leap second) is accepted and lands
 * on the next second, as POSIX time does; digits past the ninth of a fraction are dropped. What
 * follows the time is the caller's to check. */
size_t lw_rfc3339_scan(const char *s, size_t n, unsigned flags, struct lw_rfc3339 *out);

/*
 * The syslog year rule, for a date written without a year (RFC 3164 "Mmm dd hh:mm:ss",
 * strptime formats without %Y): the latest year Y such that the time in Y, compared in whole
 * seconds, is at most one day past now_ns. sod_adj is the second of the day minus any offset
 * the text gave, read as a local time of tz (NULL: UTC). *secs is the UTC time in seconds.
 * *stable says whether every `now` in now_ns's UTC day would give the same answer (so a caller
 * may cache it for the day). Returns 0, or -1 when no year of the last eight has this date.
 */
int lw_syslog_year(unsigned mon, unsigned mday, int64_t sod_adj, const struct lw_tz *tz,
                   int64_t now_ns, int64_t *secs, bool *stable);

#endif
