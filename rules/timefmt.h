/* timefmt.h: event timestamp parsers (rfc3339, unix, unix_ms, syslog, strptime) (rules module). */
#ifndef LW_RULES_TIMEFMT_H
#define LW_RULES_TIMEFMT_H

#include "lw.h"

enum lw_ts_kind { LW_TS_RFC3339, LW_TS_UNIX, LW_TS_UNIX_MS, LW_TS_SYSLOG, LW_TS_STRPTIME };

/* A compiled timestamp format, with a small cache: consecutive log lines mostly repeat the same
 * second, so the last parsed seconds-prefix is remembered. Not thread-safe: one per thread. */
struct lw_tsfmt {
    enum lw_ts_kind kind;
    char *fmt;          /* strptime format, owned */
    char cache_key[64]; /* last input (up to the fraction), for strptime and syslog */
    size_t cache_len;
    int64_t cache_ns;
    int64_t cache_now_day; /* syslog: the day of now_ns the cached year was inferred for */
    const void *cache_tz;  /* the zone (struct lw_tz) the cached time was read in */
};

struct lw_tz;

/* spec: "rfc3339", "unix" (seconds, fractions allowed), "unix_ms", "syslog" ("Mmm dd hh:mm:ss",
 * also "Mmm  d"), or a strptime format (anything containing '%'), where %z (+hhmm, +hh:mm, Z)
 * is honoured; a format without a zone is read in the zone given to lw_tsfmt_parse_tz. Returns 0,
 * or LW_EINVAL with err set. */
int lw_tsfmt_init(struct lw_tsfmt *f, const char *spec, struct lw_err *err);
/* Parses s[0..n) into ns since the epoch (UTC). now_ns is used by syslog (and by strptime
 * formats without %Y) to infer the year: the latest year that does not put the time more
 * than one day in the future of now. Returns 0, or -1 when s does not match. Never reads
 * past n; no locale (month names are English). */
int lw_tsfmt_parse(struct lw_tsfmt *f, const char *s, size_t n, int64_t now_ns, int64_t *out_ns);
/* As lw_tsfmt_parse, reading times without a zone (syslog, strptime without %z or %s) as local
 * times of tz (NULL: UTC, which is what lw_tsfmt_parse does). now_ns also decides which of two
 * instants a repeated local hour means (see lw_tz_to_utc). */
int lw_tsfmt_parse_tz(struct lw_tsfmt *f, const char *s, size_t n, int64_t now_ns,
                      const struct lw_tz *tz, int64_t *out_ns);
void lw_tsfmt_free(struct lw_tsfmt *f);

#endif
