/* lw_yaml.h: a small YAML document tree on libyaml, with the line and column of every node. */
#ifndef LW_YAML_H
#define LW_YAML_H

#include "lw.h"

enum lw_yaml_type { LW_YAML_SCALAR, LW_YAML_SEQ, LW_YAML_MAP };

struct lw_yaml_node {
    enum lw_yaml_type type;
    int line, col;               /* 1-based, where the node starts */
    char *str;                   /* scalar: the value, NUL-terminated */
    size_t len;                  /* scalar: its length in bytes */
    bool quoted;                 /* scalar was written in quotes: never null/bool */
    size_t n;                    /* seq: items; map: pairs */
    struct lw_yaml_node **items; /* seq items, or map values */
    struct lw_yaml_node **keys;  /* map keys (scalars) */
};

struct lw_yaml_doc {
    char *file;                /* the name used in diagnostics */
    struct lw_yaml_node *root; /* NULL for an empty document */
    struct lw_yaml_node **all; /* every node, for freeing (aliases share nodes) */
    size_t nall, capall;
};

/* Loads the first document of a file or buffer. Syntax errors go to diag with the
 * position libyaml reports; returns 0 or LW_EINVAL / LW_EIO. *out is the caller's. */
int lw_yaml_load_file(struct lw_yaml_doc **out, const char *path, struct lw_diag *diag);
int lw_yaml_load_buf(struct lw_yaml_doc **out, const char *name, const char *buf, size_t len,
                     struct lw_diag *diag);
void lw_yaml_free(struct lw_yaml_doc *doc);

/* The value of key in a map, or NULL (also when map is not a map). Borrowed. */
struct lw_yaml_node *lw_yaml_get(const struct lw_yaml_node *map, const char *key);

/* The closest of the first n names (or up to a NULL) to s when it is a plausible typo, else
 * NULL: for "did you mean" hints. */
const char *lw_nearest(const char *s, const char *const *names, size_t n);

/* Reports every key of map that is not in allowed (NULL-terminated), with a
 * "did you mean" hint for near misses. Returns the number of unknown keys. */
int lw_yaml_check_keys(const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                       const char *const *allowed, const char *what, struct lw_diag *diag);

/* Adds "FILE:LINE:COL: message" at node (or at the document start when node is NULL). */
void lw_yaml_error(const struct lw_yaml_doc *doc, const struct lw_yaml_node *node,
                   struct lw_diag *diag, const char *fmt, ...) LW_PRINTF(4, 5);

/* Scalar helpers: each reports a typed error at the node and returns -1 on mismatch. */
int lw_yaml_str(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char **out,
                struct lw_diag *diag);
int lw_yaml_bool(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, bool *out,
                 struct lw_diag *diag);
int lw_yaml_int(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, int64_t *out,
                struct lw_diag *diag);
int lw_yaml_float(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, double *out,
                  struct lw_diag *diag);
int lw_yaml_duration(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, int64_t *out,
                     struct lw_diag *diag);
/* A scalar or a sequence of scalars, as a list of borrowed strings (*out is the caller's array). */
int lw_yaml_strlist(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char ***out,
                    size_t *count, struct lw_diag *diag);

#endif
