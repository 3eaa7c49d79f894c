/* kind_eval.c: the evaluator's table of alert kinds: aggregates, value functions, retention. */
#include "kind_eval.h"

static bool value_count(const struct lw_alert_def *a, const struct lw_agg *cur,
                        const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->count;
    return true;
}

/* Too few events (min_count), or none, say nothing about a ratio. */
static bool value_ratio(const struct lw_alert_def *a, const struct lw_agg *cur,
                        const struct lw_agg *prev, double *out)
{
    (void)prev;
    bool valid = cur->count > 0 && cur->count >= (double)a->min_count;
    *out = valid ? cur->matched / cur->count : 0;
    return valid;
}

static bool value_sum(const struct lw_alert_def *a, const struct lw_agg *cur,
                      const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->sum;
    return true;
}

/* avg, min, max and quantile have no value over an empty window. */
static bool value_avg(const struct lw_alert_def *a, const struct lw_agg *cur,
                      const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->count > 0 ? cur->sum / cur->count : 0;
    return cur->count > 0;
}

static bool value_min(const struct lw_alert_def *a, const struct lw_agg *cur,
                      const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->count > 0 ? cur->min : 0;
    return cur->count > 0;
}

static bool value_max(const struct lw_alert_def *a, const struct lw_agg *cur,
                      const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->count > 0 ? cur->max : 0;
    return cur->count > 0;
}

static bool value_quantile(const struct lw_alert_def *a, const struct lw_agg *cur,
                           const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->count > 0 ? cur->quantile : 0;
    return cur->count > 0;
}

static bool value_distinct(const struct lw_alert_def *a, const struct lw_agg *cur,
                           const struct lw_agg *prev, double *out)
{
    (void)a, (void)prev;
    *out = cur->distinct;
    return true;
}

/* A previous window without events counts as one, so that a first burst is a finite spike. */
static bool value_spike(const struct lw_alert_def *a, const struct lw_agg *cur,
                        const struct lw_agg *prev, double *out)
{
    *out = cur->count / (prev->count > 1 ? prev->count : 1);
    return cur->count >= (double)a->min_count;
}

/* Designated by kind: a row missing in the middle is a hole (value NULL) the unit test finds,
 * one missing at the end fails the assert below. absent's value is its count (fires below 1,
 * rules/kinds.c); it has one only after a whole window of looking, spike after two. */
const struct lw_kind_eval lw_kind_evals[] = {
    /* kind, aggs beyond the count, windows, warmup, idle_windows, value, may_hold */
    [LW_K_COUNT] = {LW_K_COUNT, 0, 1, 0, 1, value_count, LW_KB_THRESHOLD},
    [LW_K_RATIO] = {LW_K_RATIO, LW_AGG_MATCHED, 1, 0, 1, value_ratio, LW_KB_MIN_COUNT},
    [LW_K_QUANTILE] = {LW_K_QUANTILE, LW_AGG_SKETCH, 1, 0, 1, value_quantile, LW_KB_ANY},
    [LW_K_SUM] = {LW_K_SUM, LW_AGG_SUM, 1, 0, 1, value_sum, LW_KB_ANY},
    [LW_K_AVG] = {LW_K_AVG, LW_AGG_SUM, 1, 0, 1, value_avg, LW_KB_ANY},
    [LW_K_MIN] = {LW_K_MIN, LW_AGG_MIN, 1, 0, 1, value_min, LW_KB_ANY},
    [LW_K_MAX] = {LW_K_MAX, LW_AGG_MAX, 1, 0, 1, value_max, LW_KB_ANY},
    [LW_K_DISTINCT] = {LW_K_DISTINCT, LW_AGG_DISTINCT, 1, 0, 1, value_distinct, LW_KB_ANY},
    [LW_K_ABSENT] = {LW_K_ABSENT, 0, 1, 1, 2, value_count, LW_KB_NEVER},
    [LW_K_SPIKE] = {LW_K_SPIKE, 0, 2, 2, 2, value_spike, LW_KB_MIN_COUNT},
};
_Static_assert(sizeof lw_kind_evals / sizeof *lw_kind_evals == LW_K_NKINDS,
               "every alert kind needs a row in lw_kind_evals");

int64_t lw_kind_retention_ns(const struct lw_alert_def *a)
{
    return lw_kind_evals[a->kind].windows * a->window_ns + a->for_ns + a->keep_firing_for_ns;
}
