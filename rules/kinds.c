/* kinds.c: the loader's table of alert kinds: names, accepted keys and required keys. */
#include "kinds.h"

#include <string.h>

static const char *const keys_count[] = {"above", "below", "where", NULL};
static const char *const keys_ratio[] = {"of", "above", "below", "where", "min_count", NULL};
static const char *const keys_field[] = {"field", "above", "below", "where", NULL};
static const char *const keys_quant[] = {"field", "q", "above", "below", "where", NULL};
static const char *const keys_absent[] = {"where", NULL};
static const char *const keys_spike[] = {"factor", "min_count", "where", NULL};

/* Designated by kind, so that a row out of place cannot pair a name with another kind's keys:
 * a row missing in the middle is a hole (all NULL) the unit test finds, one missing at the end
 * fails the assert below. */
const struct lw_kind lw_kinds[] = {
    [LW_K_COUNT] = {"count", keys_count, LW_KT_ABOVE_BELOW, 0},
    [LW_K_RATIO] = {"ratio", keys_ratio, LW_KT_ABOVE_BELOW, LW_KN_OF},
    [LW_K_QUANTILE] = {"quantile", keys_quant, LW_KT_ABOVE_BELOW,
                       LW_KN_FIELD | LW_KN_NUMERIC | LW_KN_Q},
    [LW_K_SUM] = {"sum", keys_field, LW_KT_ABOVE_BELOW, LW_KN_FIELD | LW_KN_NUMERIC},
    [LW_K_AVG] = {"avg", keys_field, LW_KT_ABOVE_BELOW, LW_KN_FIELD | LW_KN_NUMERIC},
    [LW_K_MIN] = {"min", keys_field, LW_KT_ABOVE_BELOW, LW_KN_FIELD | LW_KN_NUMERIC},
    [LW_K_MAX] = {"max", keys_field, LW_KT_ABOVE_BELOW, LW_KN_FIELD | LW_KN_NUMERIC},
    /* Any type: values are told apart by their text. */
    [LW_K_DISTINCT] = {"distinct", keys_field, LW_KT_ABOVE_BELOW, LW_KN_FIELD},
    [LW_K_ABSENT] = {"absent", keys_absent, LW_KT_NONE, 0},
    [LW_K_SPIKE] = {"spike", keys_spike, LW_KT_FACTOR, 0},
};
_Static_assert(sizeof lw_kinds / sizeof *lw_kinds == LW_K_NKINDS,
               "every alert kind needs a row in lw_kinds");

int lw_kind_find(const char *name)
{
    for (int k = 0; k < LW_K_NKINDS; k++)
        if (lw_kinds[k].name && strcmp(lw_kinds[k].name, name) == 0)
            return k;
    return -1;
}

void lw_kind_list(struct lw_buf *out)
{
    for (int k = 0; k < LW_K_NKINDS; k++) {
        if (k > 0)
            lw_buf_puts(out, k == LW_K_NKINDS - 1 ? " or " : ", ");
        lw_buf_puts(out, lw_kinds[k].name ? lw_kinds[k].name : "?");
    }
}
