/* value.h: typed field values shared by events, expressions and templates (rules module). */
#ifndef LW_RULES_VALUE_H
#define LW_RULES_VALUE_H

#include "lw.h"

/* The declared type of a field (`fields:` in a rule file). */
enum lw_type { LW_T_STRING = 0, LW_T_INT, LW_T_FLOAT, LW_T_DURATION, LW_T_BOOL };

/* A field's value for one event. A string borrows its bytes from the record (or the decoder's
 * scratch) for the duration of the match call. Durations are held as float seconds. */
enum lw_vkind { LW_V_NONE = 0, LW_V_STR, LW_V_INT, LW_V_FLOAT, LW_V_BOOL };
struct lw_value {
    enum lw_vkind kind; /* LW_V_NONE: the field is missing for this event */
    struct lw_str s;
    int64_t i;
    double f; /* LW_V_FLOAT, and durations in seconds */
    bool b;
};

static inline double lw_value_num(const struct lw_value *v)
{
    return v->kind == LW_V_INT ? (double)v->i : v->kind == LW_V_FLOAT ? v->f : v->b;
}

#endif
