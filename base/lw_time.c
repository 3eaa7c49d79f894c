/* lw_time.c: civil-date arithmetic, the one RFC 3339 parser and the one syslog year rule, shared
 * by the ingest decoders (syslog, CRI, Docker) and the rules' timestamp formats. */
#include "lw_time.h"
#include "lw_tz.h"

#define DAY_S INT64_C(86400)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

unsigned lw_days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

void lw_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The separator c at s[*i]; advances *i. */
static bool lit(const char *s, size_t n, size_t *i, char c)
{
    if (*i < n && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

size_t lw_rfc3339_scan(const char *s, size_t n, unsigned flags, struct lw_rfc3339 *out)
{
    bool relaxed = flags & LW_RFC3339_RELAXED;
    size_t i = 0;
    unsigned y, mo, d, h, mi, sec;
    int64_t frac = 0, off = 0;
    if (!lw_digits(s, n, &i, 4, &y) || !lit(s, n, &i, '-') || !lw_digits(s, n, &i, 2, &mo) ||
        !lit(s, n, &i, '-') || !lw_digits(s, n, &i, 2, &d))
        return 0;
    if (i >= n || !(s[i] == 'T' || s[i] == 't' || (relaxed && s[i] == ' ')))
        return 0;
    i++;
    if (!lw_digits(s, n, &i, 2, &h) || !lit(s, n, &i, ':') || !lw_digits(s, n, &i, 2, &mi) ||
        !lit(s, n, &i, ':') || !lw_digits(s, n, &i, 2, &sec))
        return 0;
    if (i < n && (s[i] == '.' || (relaxed && s[i] == ','))) {
        int64_t scale = LW_NS_PER_SEC;
        size_t start = ++i;
        for (; i < n && lw_is_digit(s[i]); i++)
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
        if (i == start)
            return 0;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > lw_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return 0;
    if (relaxed && i < n && s[i] == ' ')
        i++;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1;
        unsigned oh, om = 0;
        if (!lw_digits(s, n, &i, 2, &oh))
            return 0;
        if (lit(s, n, &i, ':')) {
            if (!lw_digits(s, n, &i, 2, &om))
                return 0;
        } else if (!relaxed || (i < n && lw_is_digit(s[i]) && !lw_digits(s, n, &i, 2, &om))) {
            return 0; /* strict: the colon is required; relaxed: +hh or +hhmm, not +hhm */
        }
        if (oh > 23 || om > 59)
            return 0;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    } else if (!relaxed) {
        return 0;
    }
    out->secs = lw_days_from_civil(y, mo, d) * DAY_S + h * 3600 + mi * 60 + sec - off;
    out->frac_ns = frac;
    out->year = (int)y;
    return i;
}

/* Local seconds of zone tz (NULL: UTC) to UTC seconds; *exact is cleared when the answer
 * depended on now (a repeated hour) or the time fell in a gap. */
static int64_t zone_to_utc(const struct lw_tz *tz, int64_t local, int64_t now_ns, bool *exact)
{
    int64_t t;
    if (!tz)
        return local;
    if (lw_tz_to_utc(tz, local, floor_div(now_ns, LW_NS_PER_SEC), &t) != LW_TZ_EXACT)
        *exact = false;
    return t;
}

int lw_syslog_year(unsigned mon, unsigned mday, int64_t sod_adj, const struct lw_tz *tz,
                   int64_t now_ns, int64_t *secs, bool *stable)
{
    int64_t now_day = floor_div(now_ns, LW_NS_PER_SEC * DAY_S);
    int64_t limit = floor_div(now_ns, LW_NS_PER_SEC) + DAY_S;
    int64_t y0, too_late = INT64_MAX;
    unsigned m0, d0;
    lw_civil_from_days(floor_div(limit, DAY_S), &y0, &m0, &d0);
    /* Start a year ahead: a positive zone offset can move Jan 1 local into Dec 31 UTC. Feb 29
     * needs up to 8 years back (2096 -> 2104 has none). */
    for (int64_t y = y0 + 1; y >= y0 - 8; y--) {
        if (mday > lw_days_in_month(y, mon))
            continue;
        bool exact = true;
        int64_t t =
            zone_to_utc(tz, lw_days_from_civil(y, mon, mday) * DAY_S + sod_adj, now_ns, &exact);
        if (t <= limit) {
            *secs = t;
            /* Stable for the whole UTC day: the answer is no later than the day's end plus one,
             * and the year after was rejected by more than the day's span. */
            *stable = exact && t <= (now_day + 1) * DAY_S && too_late > (now_day + 2) * DAY_S - 1;
            return 0;
        }
        too_late = t;
    }
    return -1;
}
