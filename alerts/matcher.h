/* matcher.h: one label matcher (name = value, !=, =~, !~) for routes, silences and inhibition,
 * with Alertmanager's rule for a missing label: it matches as the empty string. */
#ifndef LW_MATCHER_H
#define LW_MATCHER_H

#include "lw.h"

enum lw_match_op {
    LW_MATCH_EQ,  /* name=value */
    LW_MATCH_NE,  /* name!=value */
    LW_MATCH_RE,  /* name=~regex */
    LW_MATCH_NRE, /* name!~regex */
};

/* So `foo=""` and `foo!~".+"` match an alert without `foo`, and `foo="x"` does not; a regex
 * must match the whole value (it is compiled as ^(?:regex)$), as in Alertmanager. */
struct lw_matcher {
    char *name;
    char *value;
    enum lw_match_op op;
    void *re; /* pcre2_code, for =~ and !~ */
};

/* Sets m from its parts (copied). 0, or LW_EINVAL with err set to PCRE2's message when the
 * regex does not compile (m is then empty: lw_matcher_fini is still safe). */
int lw_matcher_init(struct lw_matcher *m, const char *name, size_t name_len, enum lw_match_op op,
                    const char *value, struct lw_err *err);
/* Parses "name=value", "name!=value", "name=~regex" or "name!~regex". 0, or LW_EINVAL with err
 * set (the message names the matcher). */
int lw_matcher_parse(struct lw_matcher *m, const char *s, struct lw_err *err);
/* Parses an Alertmanager API filter: name="value" (also !=, =~, !~; the value quoted, with \"
 * and \\ escapes, or bare). 0, or LW_EINVAL with err set (the message names the filter). */
int lw_matcher_parse_filter(struct lw_matcher *m, const char *s, struct lw_err *err);
void lw_matcher_fini(struct lw_matcher *m);
/* Finalises n matchers and frees the array (NULL is fine). */
void lw_matchers_free(struct lw_matcher *m, size_t n);

/* Whether m holds for a label value (NULL: the alert has no such label). */
bool lw_matcher_matches(const struct lw_matcher *m, const char *value);

/* Labels packed as "name\0value\0...name\0value\0\0": the notifier's form, one allocation per
 * alert object. The value of name, or NULL when there is none. */
const char *lw_labels_get(const char *labels, const char *name);
/* Whether all n matchers hold for packed labels (n == 0: true). */
bool lw_matchers_match(const struct lw_matcher *m, size_t n, const char *labels);

/* Matchers as the state file keeps them: [{"name", "value", "regex", "negative"}]. *out is
 * the caller's (free with lw_matchers_free). 0, or LW_EINVAL with err set. */
int lw_matchers_from_json(const char *json, struct lw_matcher **out, size_t *n, struct lw_err *err);
/* The JSON text of n matchers (the caller's, free()). */
char *lw_matchers_to_json(const struct lw_matcher *m, size_t n);

#endif
