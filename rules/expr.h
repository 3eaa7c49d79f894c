/* expr.h: the expression language of `where:` and `of:`, compiled once at load (rules module). */
#ifndef LW_RULES_EXPR_H
#define LW_RULES_EXPR_H

#include "lw.h"
#include "value.h"

/* Grammar (RULES.md "Expressions"):
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" expr ")" | "exists" "(" FIELD ")" | operand [CMP operand] | "true" | "false"
 *   CMP     := "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~"
 *   operand := FIELD | NUMBER | STRING ("..." with \" \\ \n \t escapes) | DURATION (150ms, 2s, 5m)
 * FIELD is [A-Za-z_][A-Za-z0-9_.]* (dots for nested JSON fields: metadata.endpoint) and is not
 * a keyword. A bare FIELD without a comparison is true when the field is a true bool, or
 * exists and is a non-empty string / non-zero number. The right side of =~ / !~ must be a
 * string literal: a PCRE2 pattern compiled (with JIT) at load time. A missing field makes a
 * comparison false (also for != and !~). Numbers compare numerically (int and float mix);
 * a duration literal is seconds; strings compare bytewise. A field declared numeric compared
 * with a string literal by < <= > >=, or with =~, is a load-time type error (== and != are
 * allowed when the literal is a number in quotes). A string field compared with a number
 * converts the string at run time (non-numeric: comparison false), since decoded JSON and
 * logfmt fields are strings until seen. */
struct lw_expr;

/* PCRE2 limits of =~ and !~: a catastrophic pattern gives up (the comparison is false, and
 * counted: lw_expr_gave_up) instead of hanging the pipeline thread. A pattern can lower them
 * with (*LIMIT_...), never raise them. */
#define LW_EXPR_MATCH_LIMIT 100000
#define LW_EXPR_DEPTH_LIMIT 10000
#define LW_EXPR_HEAP_LIMIT_KIB 8192

/* Resolves a field name at load time: returns its id (>= 0, an index into the fields array
 * given to lw_expr_eval) and its declared type, or -1 when the name is unknown. Unknown names
 * may still be allowed by the resolver (for decoders that give arbitrary fields) by returning
 * a fresh id with type LW_T_STRING. */
typedef int lw_expr_resolve_fn(const char *name, size_t n, enum lw_type *type, void *payload);

/* Compiles src. On error returns LW_EINVAL, err->msg set and *err_col = 1-based column in src
 * of the offending token. *out is the caller's. */
int lw_expr_compile(struct lw_expr **out, const char *src, lw_expr_resolve_fn *resolve,
                    void *payload, int *err_col, struct lw_err *err);
/* Evaluates against the event's fields (indexed by the resolver's ids; LW_V_NONE = missing).
 * Thread-safe for concurrent callers only if each has its own match data: this
 * implementation keeps PCRE2 match data inside the expr, so one thread per expr. */
bool lw_expr_eval(const struct lw_expr *e, const struct lw_value *fields, size_t nfields);
/* Set by lw_expr_eval when one of its regexes gave up at a PCRE2 limit; the caller that wants
 * to know clears it first. A flag, not a call per evaluation: alerts' where:/of: run per event. */
extern _Thread_local bool lw_expr_gave_up_now;
/* Regex matches of e that gave up at a PCRE2 limit so far (0 for NULL or no regex). */
uint64_t lw_expr_gave_up(const struct lw_expr *e);
void lw_expr_free(struct lw_expr *e);

#endif
