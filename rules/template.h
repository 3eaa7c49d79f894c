/* template.h: annotation templates: {{ name }}, {{ value }}, and filters (rules module). */
#ifndef LW_RULES_TEMPLATE_H
#define LW_RULES_TEMPLATE_H

#include "lw.h"

/* A template is compiled once at load time into a list of literal and placeholder parts.
 * Syntax: text with {{ NAME [| FILTER [ARG]]... }} placeholders; NAME is `value` (the alert's
 * current value) or a label/field name. Filters: percent (value*100 with up to 1 decimal, then
 * "%"; 0.0534 -> "5.3%"), round N (N decimals, trailing zeros kept: round 2 of 1.5 -> "1.50"),
 * duration (seconds -> "1m30s", "250ms", "2h"), json (the text as a JSON string, quoted), upper
 * (ASCII upper case). Filters chain left to right. A number is printed as an integer when it
 * is integral ("11"), else with up to 6 significant decimals ("0.0534"). Templates never run
 * commands. */
struct lw_tmpl;

/* Tells whether name is a known label/field at load time (so typos are load-time errors). */
typedef bool lw_tmpl_known_fn(const char *name, size_t n, void *payload);
/* Looks up a name at render time: 0 and *out set, or -1 when the alert has no such label. */
typedef int lw_tmpl_lookup_fn(const char *name, size_t n, struct lw_str *out, void *payload);

/* Compiles src. On error returns LW_EINVAL with err->msg set and *err_col = the 1-based column
 * (in src) of the offending part: unknown name (when known is not NULL and says no), unknown
 * filter, bad argument, unterminated {{. *out is the caller's. */
int lw_tmpl_compile(struct lw_tmpl **out, const char *src, lw_tmpl_known_fn *known,
                    void *known_payload, int *err_col, struct lw_err *err);
/* Appends the rendering to out. A name that lookup does not find renders as "" . */
void lw_tmpl_render(const struct lw_tmpl *t, double value, lw_tmpl_lookup_fn *lookup, void *payload,
                    struct lw_buf *out);
void lw_tmpl_free(struct lw_tmpl *t);
/* Formats a number the way templates and alert values print it (see above). */
void lw_fmt_number(double v, char *out, size_t size);

#endif
