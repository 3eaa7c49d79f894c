/* kind_eval.h: the evaluator's half of the alert-kind table: per kind, the aggregates its
 * buckets keep, its value over a window, and how long its data must be kept. Indexed by enum
 * lw_alert_kind (rules.h); the loader's half (name and keys) is rules/kinds.h. */
#ifndef LW_KIND_EVAL_H
#define LW_KIND_EVAL_H

#include "rules.h"
#include "windows.h"

/* A kind's value over the window ending at an instant (cur) and, for a kind that reads two
 * windows, the one before it (prev; else NULL). Always sets *out (a group keeps its last value
 * even when it cannot be compared); returns whether it can be compared with the threshold. */
typedef bool lw_kind_value_fn(const struct lw_alert_def *a, const struct lw_agg *cur,
                              const struct lw_agg *prev, double *out);
/* Whether an event can have made a group's condition true, judged from held, the events in
 * every bucket the group holds (an upper bound of its window's count): a test on the line
 * path that spares most groups of a count or ratio alert an evaluation before their bucket
 * closes. A shape rather than a function, so that it stays inline (lw_kind_may_hold). */
enum lw_kind_bound {
    LW_KB_ANY,       /* any event may have: no bound known */
    LW_KB_NEVER,     /* an event never makes the condition true (absent: "no event") */
    LW_KB_THRESHOLD, /* `above: X` holds only once held > X; `below` may hold at any count */
    LW_KB_MIN_COUNT, /* nothing holds below min_count events */
};

struct lw_kind_eval {
    enum lw_alert_kind kind;     /* the row's own kind: rows sit at their index (unit test) */
    unsigned aggs;               /* LW_AGG_* its buckets keep beyond the count (windows.h) */
    int windows;                 /* windows its value reads: 2 for spike, this one and the last */
    int warmup;                  /* windows of looking before its value counts (absent, spike) */
    int idle_windows;            /* windows a group without events is remembered (absent: 2,
                                    so that a host seen before can be found silent) */
    lw_kind_value_fn *value;     /* its value; called at every evaluation of a group */
    enum lw_kind_bound may_hold; /* asked for each event that lands in an open bucket */
};

/* One row per enum lw_alert_kind, in its order (LW_K_NKINDS rows). */
extern const struct lw_kind_eval lw_kind_evals[];

static inline bool lw_kind_may_hold(const struct lw_kind_eval *ke, const struct lw_alert_def *a,
                                    double held)
{
    switch (ke->may_hold) {
    case LW_KB_NEVER:
        return false;
    case LW_KB_THRESHOLD:
        return !a->above || held > a->threshold;
    case LW_KB_MIN_COUNT:
        return held >= (double)a->min_count;
    default:
        return true;
    }
}

/* How long an alert's data matters after its last event: the windows its value reads, then
 * `for` and keep_firing_for. Whatever fired it within that span can still count when read
 * again, so the daemon waits this long before it takes an unconfirmed firing as resolved. */
int64_t lw_kind_retention_ns(const struct lw_alert_def *a);

#endif
