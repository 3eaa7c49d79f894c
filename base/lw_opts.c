/* lw_opts.c: reads a plugin's YAML map into its settings struct by the plugin's option table. */
#include "lw_opts.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 64 /* keys of one table with its includes, and the caller's own */

const char *lw_opt_type_name(enum lw_opt_type t)
{
    switch (t) {
    case LW_OPT_STRING:
        return "string";
    case LW_OPT_SECRET:
        return "secret";
    case LW_OPT_INT:
        return "int";
    case LW_OPT_DURATION:
        return "duration";
    case LW_OPT_BOOL:
        return "bool";
    case LW_OPT_PATH:
        return "path";
    case LW_OPT_URL:
        return "url";
    case LW_OPT_LIST:
        return "list";
    case LW_OPT_MAP:
        return "map";
    case LW_OPT_END:
    case LW_OPT_INCLUDE:
        break;
    }
    return "?";
}

typedef void walk_fn(const struct lw_opt *o, size_t off, void *payload);

/* Visits the rows of t in order, included tables in place, with each row's whole offset. */
static void walk(const struct lw_opt *t, size_t off, walk_fn *fn, void *payload)
{
    for (; t && t->type != LW_OPT_END; t++) {
        if (t->type == LW_OPT_INCLUDE)
            walk(t->sub, off + t->off, fn, payload);
        else
            fn(t, off + t->off, payload);
    }
}

struct each {
    void (*fn)(const struct lw_opt *o, void *payload);
    void *payload;
};

static void each_row(const struct lw_opt *o, size_t off, void *payload)
{
    struct each *e = payload;
    (void)off;
    e->fn(o, e->payload);
}

void lw_opts_each(const struct lw_opt *t, void (*fn)(const struct lw_opt *o, void *payload),
                  void *payload)
{
    struct each e = {fn, payload};
    walk(t, 0, each_row, &e);
}

void lw_opt_free_secret(char *s)
{
    if (!s)
        return;
    /* Do not leave the token in freed memory. volatile: the store is not optimised away. */
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

/* ---------------------------------------------------------------- reading */

struct apply {
    char *base;
    const struct lw_yaml_doc *doc;
    const struct lw_yaml_node *map;
    const struct lw_opt_ctx *c;
    struct lw_diag *diag;
    const char *keys[MAX_KEYS + 1];
    size_t nkeys;
    int rc;
};

static bool is_string(enum lw_opt_type t)
{
    return t == LW_OPT_STRING || t == LW_OPT_SECRET || t == LW_OPT_PATH || t == LW_OPT_URL;
}

/* A relative path made absolute against the config's folder. A value starting with '$' is left
 * as written, as it always was (it names a variable's folder). */
static char *resolve(const struct lw_opt_ctx *c, char *p)
{
    if (!c->dir || !c->dir[0] || !p[0] || p[0] == '/' || p[0] == '$')
        return p;
    struct lw_buf b = {0};
    lw_buf_printf(&b, "%s/%s", c->dir, p);
    free(p);
    return lw_buf_steal(&b);
}

/* One scalar as a string: ${ENV} expanded unless NOENV. Returns NULL after reporting. */
static char *read_str(struct apply *a, const struct lw_opt *o, const struct lw_yaml_node *n)
{
    const char *raw;
    char *out = NULL;
    struct lw_err err = {0};
    if (lw_yaml_str(a->doc, n, &raw, a->diag) != 0)
        return NULL;
    if (o->flags & LW_OPT_NOENV)
        return lw_strdup(raw);
    if (lw_expand_env(raw, &out, &err) != 0) {
        lw_yaml_error(a->doc, n, a->diag, "%s: %s: %s", a->c->prefix, o->key, err.msg);
        return NULL;
    }
    return out;
}

static int read_string(struct apply *a, const struct lw_opt *o, char **field,
                       const struct lw_yaml_node *n)
{
    char *s = read_str(a, o, n);
    if (!s)
        return LW_EINVAL;
    if (o->type == LW_OPT_SECRET)
        lw_secret_add(s);
    if ((o->flags & LW_OPT_REQUIRED) && !*s) {
        lw_yaml_error(a->doc, n, a->diag, "%s: '%s' is empty", a->c->prefix, o->key);
        lw_opt_free_secret(s);
        return LW_EINVAL;
    }
    if (o->type == LW_OPT_PATH)
        s = resolve(a->c, s);
    *field = s;
    return 0;
}

static int read_list(struct apply *a, const struct lw_opt *o, struct lw_opt_list *l,
                     const struct lw_yaml_node *n)
{
    const char **items;
    size_t count;
    int rc = 0;
    if (lw_yaml_strlist(a->doc, n, &items, &count, a->diag) != 0)
        return LW_EINVAL;
    if ((o->flags & LW_OPT_REQUIRED) && count == 0) {
        lw_yaml_error(a->doc, n, a->diag, "%s: '%s' is empty", a->c->prefix, o->key);
        rc = LW_EINVAL;
    }
    l->v = lw_calloc(count ? count : 1, sizeof *l->v);
    for (size_t i = 0; i < count; i++) {
        const struct lw_yaml_node *at = n->type == LW_YAML_SEQ ? n->items[i] : n;
        char *s = read_str(a, o, at);
        if (!s) {
            rc = LW_EINVAL;
            continue;
        }
        if ((o->flags & LW_OPT_PATHS) && !*s) {
            lw_yaml_error(a->doc, at, a->diag, "%s: empty path in '%s'", a->c->prefix, o->key);
            rc = LW_EINVAL;
        }
        l->v[l->n++] = (o->flags & LW_OPT_PATHS) ? resolve(a->c, s) : s;
    }
    free(items);
    return rc;
}

/* Bounds of INT and DURATION rows. */
static int check_bounds(struct apply *a, const struct lw_opt *o, int64_t v,
                        const struct lw_yaml_node *n)
{
    bool dur = o->type == LW_OPT_DURATION;
    if (o->min == 0 && o->max == 0)
        return 0;
    if (v >= o->min && (o->max <= o->min || v <= o->max))
        return 0;
    if (o->max > o->min && !dur) {
        lw_yaml_error(a->doc, n, a->diag, "%s: %s must be from %lld to %lld", a->c->prefix, o->key,
                      (long long)o->min, (long long)o->max);
    } else if (dur) {
        char lo[32];
        lw_fmt_duration(o->min, lo, sizeof lo);
        lw_yaml_error(a->doc, n, a->diag, "%s: %s must be at least %s", a->c->prefix, o->key, lo);
    } else {
        lw_yaml_error(a->doc, n, a->diag, "%s: %s must be at least %lld", a->c->prefix, o->key,
                      (long long)o->min);
    }
    return LW_EINVAL;
}

/* Reads a present value by the row's type. */
static int read_value(struct apply *a, const struct lw_opt *o, void *field,
                      const struct lw_yaml_node *n)
{
    int64_t v;
    if (o->parse)
        return o->parse(o, field, a->doc, n, a->c, a->diag);
    switch (o->type) {
    case LW_OPT_STRING:
    case LW_OPT_SECRET:
    case LW_OPT_PATH:
    case LW_OPT_URL:
        return read_string(a, o, field, n);
    case LW_OPT_INT:
        if (lw_yaml_int(a->doc, n, &v, a->diag) != 0 || check_bounds(a, o, v, n) != 0)
            return LW_EINVAL;
        *(int64_t *)field = v;
        return 0;
    case LW_OPT_DURATION:
        if (lw_yaml_duration(a->doc, n, &v, a->diag) != 0 || check_bounds(a, o, v, n) != 0)
            return LW_EINVAL;
        *(int64_t *)field = v;
        return 0;
    case LW_OPT_BOOL:
        return lw_yaml_bool(a->doc, n, field, a->diag) != 0 ? LW_EINVAL : 0;
    case LW_OPT_LIST:
        return read_list(a, o, field, n);
    case LW_OPT_MAP:
    case LW_OPT_END:
    case LW_OPT_INCLUDE:
        break;
    }
    assert(!"an option of this type needs a parse callback");
    return LW_EINVAL;
}

/* The row's default, from the table (ours: a bad default is a programming error). */
static void set_default(const struct lw_opt *o, void *field)
{
    int64_t v = 0;
    if (!o->def)
        return;
    if (is_string(o->type)) {
        *(char **)field = lw_strdup(o->def);
    } else if (o->type == LW_OPT_INT) {
        LW_INVARIANT(lw_parse_i64(o->def, strlen(o->def), &v) == 0);
        *(int64_t *)field = v;
    } else if (o->type == LW_OPT_DURATION) {
        LW_INVARIANT(strcmp(o->def, "0") == 0 ||
                     lw_parse_duration(o->def, strlen(o->def), &v) == 0);
        *(int64_t *)field = v;
    } else if (o->type == LW_OPT_BOOL) {
        *(bool *)field = strcmp(o->def, "true") == 0;
    }
}

static void apply_row(const struct lw_opt *o, size_t off, void *payload)
{
    struct apply *a = payload;
    void *field = a->base + off;
    const struct lw_yaml_node *n = lw_yaml_get(a->map, o->key);
    if (!n) {
        if (o->flags & LW_OPT_REQUIRED) {
            lw_yaml_error(a->doc, a->map, a->diag, "%s: '%s' is required", a->c->prefix, o->key);
            a->rc = LW_EINVAL;
        } else if (!o->parse) {
            set_default(o, field);
        }
        return;
    }
    if (read_value(a, o, field, n) != 0)
        a->rc = LW_EINVAL;
    else if (o->check && o->check(o, field, a->doc, n, a->c, a->diag) != 0)
        a->rc = LW_EINVAL;
}

static void collect_key(const struct lw_opt *o, size_t off, void *payload)
{
    struct apply *a = payload;
    (void)off;
    /* Our own tables: more keys than room is a programming error. */
    LW_INVARIANT(a->nkeys < MAX_KEYS);
    if (a->nkeys < MAX_KEYS)
        a->keys[a->nkeys++] = o->key;
}

int lw_opts_apply(const struct lw_opt *t, void *base, const struct lw_yaml_doc *doc,
                  const struct lw_yaml_node *map, const struct lw_opt_ctx *c, struct lw_diag *diag)
{
    struct apply a = {.base = base, .doc = doc, .map = map, .c = c, .diag = diag};
    for (const char *const *k = c->skip; k && *k && a.nkeys < MAX_KEYS; k++)
        a.keys[a.nkeys++] = *k;
    walk(t, 0, collect_key, &a);
    a.keys[a.nkeys] = NULL;
    if (c->what && lw_yaml_check_keys(doc, map, a.keys, c->what, diag) > 0)
        a.rc = LW_EINVAL;
    walk(t, 0, apply_row, &a);
    return a.rc;
}

static void free_row(const struct lw_opt *o, size_t off, void *payload)
{
    void *field = (char *)payload + off;
    if (o->parse) {
        if (o->free)
            o->free(o, field);
        return;
    }
    if (is_string(o->type)) {
        /* A URL may carry a token: cleared like a secret. */
        lw_opt_free_secret(*(char **)field);
        *(char **)field = NULL;
    } else if (o->type == LW_OPT_LIST) {
        struct lw_opt_list *l = field;
        for (size_t i = 0; i < l->n; i++)
            lw_opt_free_secret(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
    }
}

void lw_opts_free(const struct lw_opt *t, void *base)
{
    if (base)
        walk(t, 0, free_row, base);
}

/* ---------------------------------------------------------------- help */

static void print_row(const struct lw_opt *o, size_t off, void *payload)
{
    FILE *f = payload;
    const char *type = o->type_name ? o->type_name : lw_opt_type_name(o->type);
    (void)off;
    if (o->flags & LW_OPT_REQUIRED)
        fprintf(f, "  %-20s %-13s required\n", o->key, type);
    else if (o->def)
        fprintf(f, "  %-20s %-13s default: %s\n", o->key, type, o->def);
    else
        fprintf(f, "  %-20s %-13s optional\n", o->key, type);
    if (o->help)
        fprintf(f, "      %s\n", o->help);
}

void lw_opts_print(const struct lw_opt *t, FILE *f)
{
    walk(t, 0, print_row, f);
}
