/* lw_tz.h: time zones (IANA TZif files read once, POSIX TZ rules) for timestamps without a zone:
 * local wall-clock seconds to UTC and back, thread-safe, without setenv("TZ")/tzset. */
#ifndef LW_TZ_H
#define LW_TZ_H

#include "lw.h"

/* A loaded zone. Immutable once loaded and kept until the process exits (zones are interned
 * by name, so a config reload that names the same zone reuses it): pointers to it never dangle
 * and any thread may read it. NULL everywhere means UTC. */
struct lw_tz;

/* The zone named by an IANA name ("Europe/Berlin", "UTC"), read from $TZDIR or
 * /usr/share/zoneinfo. Returns 0 and *out, or LW_EINVAL with err set (unknown name, unreadable
 * or malformed file). Thread-safe. */
int lw_tz_get(const struct lw_tz **out, const char *name, struct lw_err *err);

/* The daemon's local zone: $TZ (an IANA name, ":name", a TZif path or a POSIX TZ string), else
 * /etc/localtime, else UTC (logged once). Loaded on first use; never NULL. Thread-safe. */
const struct lw_tz *lw_tz_local(void);

/* The zone's name as configured ("UTC" for NULL). Borrowed from the zone. */
const char *lw_tz_name(const struct lw_tz *tz);

/* The zone's offset from UTC (seconds east) at UTC second t. */
int32_t lw_tz_offset(const struct lw_tz *tz, int64_t t);

/* How a local time maps to UTC. */
enum lw_tz_fit {
    LW_TZ_EXACT = 0, /* one instant has this local time */
    LW_TZ_AMBIGUOUS, /* two do (the hour repeated when DST ends) */
    LW_TZ_GAP,       /* none does (the hour skipped when DST starts) */
};

/* Converts local wall-clock seconds (seconds since 1970-01-01 00:00 of the local calendar) to
 * UTC seconds in *out. A time in a gap is read with the offset in effect before the gap (02:30
 * on a spring-forward night becomes 03:30 DST, as mktime and rsyslog do). An ambiguous time is
 * the earlier instant, unless the later one is already past at now_s (0: unknown) and less than
 * one shift ago: a line read live in the second pass of the repeated hour then gets its real
 * time instead of an hour-old one that windows would drop as late. Returns the fit. */
enum lw_tz_fit lw_tz_to_utc(const struct lw_tz *tz, int64_t local_s, int64_t now_s, int64_t *out);

#endif
