/* lw_opts.h: option tables: a plugin's config keys, their types, defaults and help, in one place.
 *
 * A plugin (an input, a sink) declares a table of struct lw_opt ending in LW_OPT_END, each row
 * naming the offset of its field in the plugin's settings struct (as nginx's directive tables
 * and Fluent Bit's config_map do). lw_opts_apply reads a YAML map into that struct: unknown keys
 * rejected with a "did you mean", ${ENV} expanded, relative paths resolved against the config's
 * folder, secrets registered for redaction, defaults applied. lw_opts_free frees what it
 * allocated. `logwarden help` and the docs test print the same table.
 *
 * Field types by option type:
 *   STRING, SECRET, PATH, URL   char *            (NULL when absent and without default)
 *   INT, DURATION               int64_t           (durations in ns)
 *   BOOL                        bool
 *   LIST                        struct lw_opt_list (a scalar or a sequence of strings)
 *   MAP                         the parse callback's own (a map has no generic reading)
 *   INCLUDE                     none: the rows of .sub, their offsets relative to .off
 */
#ifndef LW_OPTS_H
#define LW_OPTS_H

#include "lw.h"
#include "lw_yaml.h"

enum lw_opt_type {
    LW_OPT_END = 0, /* ends a table */
    LW_OPT_STRING,
    LW_OPT_SECRET, /* a string never printed: registered with lw_secret_add, zeroed when freed */
    LW_OPT_INT,
    LW_OPT_DURATION,
    LW_OPT_BOOL,
    LW_OPT_PATH, /* a string, relative to the config's folder */
    LW_OPT_URL,  /* a string that may carry a secret (checked by the row's callback) */
    LW_OPT_LIST,
    LW_OPT_MAP,
    LW_OPT_INCLUDE, /* a shared block of rows, e.g. the HTTP sinks' url and timeout */
};

/* Row flags. */
#define LW_OPT_REQUIRED 0x1u /* absent: "'key' is required"; for strings and lists, empty too */
#define LW_OPT_NOENV 0x2u    /* taken as written: no ${ENV} expansion */
#define LW_OPT_PATHS 0x4u    /* LIST: every item is a path (resolved as PATH is) */

/* A list of strings, each owned. */
struct lw_opt_list {
    char **v;
    size_t n;
};

/* What lw_opts_apply needs besides the table and the map. */
struct lw_opt_ctx {
    const char *dir;         /* the config's folder for relative paths; NULL or "": as written */
    const char *what;        /* where keys live, for "unknown key 'x' in WHAT": "sink 'out'";
                                NULL: the caller checks the keys (the map has others too) */
    const char *prefix;      /* starts other messages: "sink 'out'" ("PREFIX: 'url' is required") */
    const char *const *skip; /* keys the caller reads itself (name, type), NULL-terminated */
    void *payload;           /* for parse and check callbacks (the plugin's object) */
};

struct lw_opt;
/* A row's own reading of its value (n is never NULL: absent keys get the default). field is
 * base + off. Reports to diag at n; returns 0 or LW_EINVAL. */
typedef int lw_opt_parse_fn(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                            const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                            struct lw_diag *diag);
/* Frees what a parse callback left in field. */
typedef void lw_opt_free_fn(const struct lw_opt *o, void *field);

struct lw_opt {
    const char *key;
    enum lw_opt_type type;
    const char *def;  /* the default as it would be written in the config; NULL: none */
    size_t off;       /* offsetof the field in the settings struct */
    const char *help; /* one line, for `logwarden help` and the docs */
    unsigned flags;   /* LW_OPT_REQUIRED, LW_OPT_NOENV, LW_OPT_PATHS */
    int64_t min, max; /* INT and DURATION bounds, when min < max; or min alone when max is 0 */
    const char *arg;  /* for the callbacks: a URL's schemes ("http,https"), allowed words */
    lw_opt_parse_fn *parse;   /* replaces the type's reading */
    lw_opt_parse_fn *check;   /* runs after a present value was read, on its field */
    lw_opt_free_fn *free;     /* with parse: frees the field */
    const struct lw_opt *sub; /* INCLUDE: the included table */
    const char *type_name;    /* shown by help instead of the type's name ("address") */
};

/* The type's name as help shows it: "string", "secret", "int", "duration", ... */
const char *lw_opt_type_name(enum lw_opt_type t);

/* Reads map into base according to table t (map may be NULL: every row takes its default).
 * Every problem goes to diag as FILE:LINE:COL: message; all rows are read even after one fails,
 * so that `check` shows every error at once. Returns 0 or LW_EINVAL. Whatever was set is freed
 * by lw_opts_free, also after a failure. */
int lw_opts_apply(const struct lw_opt *t, void *base, const struct lw_yaml_doc *doc,
                  const struct lw_yaml_node *map, const struct lw_opt_ctx *c, struct lw_diag *diag);
/* Frees the strings and lists of base set by lw_opts_apply (secrets zeroed first); the fields
 * are left NULL / empty. base may be NULL. */
void lw_opts_free(const struct lw_opt *t, void *base);

/* Calls fn for every row of t, included blocks flattened, in order. */
void lw_opts_each(const struct lw_opt *t, void (*fn)(const struct lw_opt *o, void *payload),
                  void *payload);

/* Prints the table as help does: one block per key with its type, default and help. */
void lw_opts_print(const struct lw_opt *t, FILE *f);

/* Overwrites and frees a string that may hold a secret. */
void lw_opt_free_secret(char *s);

#endif
