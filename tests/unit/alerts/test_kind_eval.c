/* test_kind_eval.c: the evaluator's alert-kind table: a complete row for every kind the loader
 * knows, values over an empty window as docs/rules.md states them, and retention. */
#include "kind_eval.h"
#include "kinds.h"
#include "test.h"

#include <math.h>

static void test_rows(void)
{
    for (int k = 0; k < LW_K_NKINDS; k++) {
        const struct lw_kind_eval *ke = &lw_kind_evals[k];
        CHECK(lw_kinds[k].name != NULL); /* the loader's half of the row */
        CHECK_EQ(ke->kind, k);           /* a row at its own kind's index, not a hole */
        CHECK(ke->value != NULL);
        CHECK(ke->windows >= 1 && ke->windows <= 2); /* lw_win_new keeps at most two */
        CHECK(ke->warmup >= 0 && ke->warmup <= ke->windows);
        CHECK(ke->idle_windows >= ke->windows); /* a group is not forgotten while read */
        CHECK_EQ(ke->aggs & ~(unsigned)(LW_AGG_MATCHED | LW_AGG_SUM | LW_AGG_MIN | LW_AGG_MAX |
                                        LW_AGG_SKETCH | LW_AGG_DISTINCT),
                 0);
        struct lw_alert_def a = {.kind = (enum lw_alert_kind)k, .window_ns = LW_NS_PER_SEC};
        CHECK(lw_kind_retention_ns(&a) > 0);
    }
}

/* docs/rules.md, "when there is no value": over a window without events. */
static void test_empty_window(void)
{
    static const struct {
        enum lw_alert_kind kind;
        bool valid;
    } want[] = {
        {LW_K_COUNT, true},  {LW_K_RATIO, false},   {LW_K_QUANTILE, false},
        {LW_K_SUM, true},    {LW_K_AVG, false},     {LW_K_MIN, false},
        {LW_K_MAX, false},   {LW_K_DISTINCT, true}, {LW_K_ABSENT, true}, /* after its warm-up */
        {LW_K_SPIKE, false},                                             /* with min_count 1 */
    };
    CHECK_EQ(sizeof want / sizeof *want, LW_K_NKINDS);
    struct lw_agg empty = {.min = NAN, .max = NAN, .quantile = NAN};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        struct lw_alert_def a = {.kind = want[i].kind, .min_count = 1};
        double v = -1;
        const struct lw_kind_eval *ke = &lw_kind_evals[a.kind];
        bool valid = ke->value(&a, &empty, ke->windows > 1 ? &empty : NULL, &v);
        CHECK_EQ(valid, want[i].valid);
        CHECK(v == 0); /* a number even when not compared: the group keeps it */
    }
}

static void test_values(void)
{
    struct lw_agg cur = {
        .count = 8, .matched = 2, .sum = 20, .min = 1, .max = 9, .quantile = 7, .distinct = 5};
    struct lw_agg prev = {.count = 2};
    double v;
    struct lw_alert_def a = {.min_count = 10};
    CHECK(!lw_kind_evals[LW_K_RATIO].value(&a, &cur, NULL, &v)); /* below min_count */
    a.min_count = 8;
    CHECK(lw_kind_evals[LW_K_RATIO].value(&a, &cur, NULL, &v) && v == 0.25);
    CHECK(lw_kind_evals[LW_K_AVG].value(&a, &cur, NULL, &v) && v == 2.5);
    CHECK(lw_kind_evals[LW_K_SPIKE].value(&a, &cur, &prev, &v) && v == 4);
    prev.count = 0; /* a previous window without events counts as one */
    CHECK(lw_kind_evals[LW_K_SPIKE].value(&a, &cur, &prev, &v) && v == 8);

    /* may_hold: an upper bound, so never false where the condition could hold. */
    struct lw_alert_def c = {.kind = LW_K_COUNT, .above = true, .threshold = 10};
    CHECK(!lw_kind_may_hold(&lw_kind_evals[LW_K_COUNT], &c, 10));
    CHECK(lw_kind_may_hold(&lw_kind_evals[LW_K_COUNT], &c, 11));
    c.above = false;
    CHECK(lw_kind_may_hold(&lw_kind_evals[LW_K_COUNT], &c, 0));
    CHECK(!lw_kind_may_hold(&lw_kind_evals[LW_K_ABSENT], &c, 100));
    c.min_count = 5;
    CHECK(!lw_kind_may_hold(&lw_kind_evals[LW_K_RATIO], &c, 4));
    CHECK(lw_kind_may_hold(&lw_kind_evals[LW_K_SPIKE], &c, 5));
    CHECK(lw_kind_may_hold(&lw_kind_evals[LW_K_SUM], &c, 0));
}

static void test_retention(void)
{
    /* What the daemon waits for before it takes a firing it cannot confirm as resolved. */
    struct lw_alert_def a = {.kind = LW_K_COUNT,
                             .window_ns = 300 * LW_NS_PER_SEC,
                             .for_ns = 60 * LW_NS_PER_SEC,
                             .keep_firing_for_ns = 30 * LW_NS_PER_SEC};
    CHECK_EQ(lw_kind_retention_ns(&a), 390 * LW_NS_PER_SEC);
    a.kind = LW_K_SPIKE; /* reads the window before too */
    CHECK_EQ(lw_kind_retention_ns(&a), 690 * LW_NS_PER_SEC);
    a.kind = LW_K_ABSENT;
    CHECK_EQ(lw_kind_retention_ns(&a), 390 * LW_NS_PER_SEC);
}

int main(void)
{
    test_rows();
    test_empty_window();
    test_values();
    test_retention();
    return test_summary();
}
