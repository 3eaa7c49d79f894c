/* kinds.h: the alert kinds as rule files write them: one row per kind with its name, the keys
 * its map takes and what the loader requires of them. The evaluator's half of each row (the
 * aggregates, the value, how long its data is kept) is alerts/kind_eval.h, indexed by the same
 * enum lw_alert_kind (rules.h).
 *
 * Adding a kind: its enum value (rules.h), its row here and in alerts/kind_eval.c, its docs in
 * docs/rules.md, and tests. The loader and the evaluator have no list of kinds of their own. */
#ifndef LW_RULES_KINDS_H
#define LW_RULES_KINDS_H

#include "rules.h"

/* How a kind's condition is written. */
enum lw_kind_threshold {
    LW_KT_ABOVE_BELOW, /* exactly one of `above: X` (value > X) or `below: X` (value < X) */
    LW_KT_FACTOR,      /* `factor: F`, required: value > F */
    LW_KT_NONE,        /* nothing to write: fires below one event (absent) */
};

/* What a kind's map must hold besides its threshold (each flag is also a key it accepts). */
enum {
    LW_KN_FIELD = 1,   /* `field:` names the event field whose values are aggregated */
    LW_KN_NUMERIC = 2, /* ... and that field must be numeric (int, float, duration, decoded) */
    LW_KN_Q = 4,       /* `q:` between 0 and 1 */
    LW_KN_OF = 8,      /* `of:` the expression counted (ratio) */
};

struct lw_kind {
    const char *name;                 /* the alert's key: "count" */
    const char *const *keys;          /* the keys its map accepts, NULL-terminated (hints in
                                         "did you mean" messages come in this order) */
    enum lw_kind_threshold threshold; /* how its condition is written */
    unsigned needs;                   /* LW_KN_*: required keys beyond the threshold */
};

/* One row per enum lw_alert_kind, in its order (LW_K_NKINDS rows). */
extern const struct lw_kind lw_kinds[];

/* The kind a key names, or -1 when it names none. */
int lw_kind_find(const char *name);

/* Appends the kinds' names as a message lists them: "count, ratio, ... or spike". */
void lw_kind_list(struct lw_buf *out);

#endif
