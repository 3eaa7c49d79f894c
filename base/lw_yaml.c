/* lw_yaml.c: builds a node tree from libyaml events, keeping marks for FILE:LINE:COL errors. */
#include "lw_yaml.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_ANCHORS 1024

struct anchor {
    char *name;
    struct lw_yaml_node *node;
};

struct builder {
    struct lw_yaml_doc *doc;
    yaml_parser_t parser;
    struct lw_diag *diag;
    struct anchor anchors[MAX_ANCHORS];
    size_t nanchors;
    int failed;
};

static struct lw_yaml_node *node_new(struct lw_yaml_doc *doc, enum lw_yaml_type t, yaml_mark_t mark)
{
    struct lw_yaml_node *n = lw_calloc(1, sizeof *n);
    n->type = t;
    n->line = (int)mark.line + 1;
    n->col = (int)mark.column + 1;
    if (doc->nall == doc->capall) {
        doc->capall = doc->capall ? doc->capall * 2 : 64;
        doc->all = lw_realloc(doc->all, doc->capall * sizeof *doc->all);
    }
    doc->all[doc->nall++] = n;
    return n;
}

static void push(struct lw_yaml_node ***arr, size_t *n, struct lw_yaml_node *x)
{
    /* Grow by powers of two: the capacity is implied by n. */
    if ((*n & (*n - 1)) == 0)
        *arr = lw_realloc(*arr, (*n ? *n * 2 : 1) * sizeof **arr);
    (*arr)[(*n)++] = x;
}

static void parse_error(struct builder *b)
{
    yaml_parser_t *p = &b->parser;
    if (b->failed)
        return;
    b->failed = 1;
    yaml_mark_t m = p->problem_mark;
    if (p->context)
        lw_diag_add(b->diag, b->doc->file, (int)m.line + 1, (int)m.column + 1, "%s %s",
                    p->problem ? p->problem : "syntax error", p->context);
    else
        lw_diag_add(b->diag, b->doc->file, (int)m.line + 1, (int)m.column + 1, "%s",
                    p->problem ? p->problem : "syntax error");
}

static void remember_anchor(struct builder *b, yaml_char_t *anchor, struct lw_yaml_node *n)
{
    if (!anchor || b->nanchors == MAX_ANCHORS)
        return;
    b->anchors[b->nanchors].name = lw_strdup((char *)anchor);
    b->anchors[b->nanchors].node = n;
    b->nanchors++;
}

/* Parses one node whose first event is ev (owned by the caller). */
static struct lw_yaml_node *parse_node(struct builder *b, yaml_event_t *ev, int depth)
{
    struct lw_yaml_doc *doc = b->doc;
    if (depth > MAX_DEPTH) {
        lw_diag_add(b->diag, doc->file, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "nesting deeper than %d levels", MAX_DEPTH);
        b->failed = 1;
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        struct lw_yaml_node *n = node_new(doc, LW_YAML_SCALAR, ev->start_mark);
        n->str = lw_strndup((char *)ev->data.scalar.value, ev->data.scalar.length);
        n->len = ev->data.scalar.length;
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        remember_anchor(b, ev->data.scalar.anchor, n);
        return n;
    }
    case YAML_ALIAS_EVENT:
        for (size_t i = 0; i < b->nanchors; i++)
            if (strcmp(b->anchors[i].name, (char *)ev->data.alias.anchor) == 0)
                return b->anchors[i].node;
        lw_diag_add(b->diag, doc->file, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "unknown alias *%s",
                    (char *)ev->data.alias.anchor);
        b->failed = 1;
        return NULL;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        struct lw_yaml_node *n = node_new(doc, is_map ? LW_YAML_MAP : LW_YAML_SEQ, ev->start_mark);
        remember_anchor(b, is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor,
                        n);
        size_t nkeys = 0;
        for (;;) {
            yaml_event_t e;
            if (!yaml_parser_parse(&b->parser, &e)) {
                parse_error(b);
                return NULL;
            }
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            struct lw_yaml_node *child = parse_node(b, &e, depth + 1);
            yaml_event_delete(&e);
            if (!child)
                return NULL;
            if (!is_map) {
                push(&n->items, &n->n, child);
                continue;
            }
            if (child->type != LW_YAML_SCALAR) {
                lw_diag_add(b->diag, doc->file, child->line, child->col,
                            "a mapping key must be a plain value");
                b->failed = 1;
                return NULL;
            }
            for (size_t i = 0; i < nkeys; i++)
                if (strcmp(n->keys[i]->str, child->str) == 0) {
                    lw_diag_add(b->diag, doc->file, child->line, child->col,
                                "duplicate key '%s' (first at line %d)", child->str,
                                n->keys[i]->line);
                    b->failed = 1;
                }
            push(&n->keys, &nkeys, child);
            if (!yaml_parser_parse(&b->parser, &e)) {
                parse_error(b);
                return NULL;
            }
            struct lw_yaml_node *val = parse_node(b, &e, depth + 1);
            yaml_event_delete(&e);
            if (!val)
                return NULL;
            size_t nv = n->n;
            push(&n->items, &nv, val);
            n->n = nv;
        }
        return n;
    }
    default:
        lw_diag_add(b->diag, doc->file, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "unexpected YAML event");
        b->failed = 1;
        return NULL;
    }
}

int lw_yaml_load_buf(struct lw_yaml_doc **out, const char *name, const char *buf, size_t len,
                     struct lw_diag *diag)
{
    struct builder *b = lw_calloc(1, sizeof *b);
    struct lw_yaml_doc *doc = lw_calloc(1, sizeof *doc);
    int rc = 0;
    doc->file = lw_strdup(name);
    b->doc = doc;
    b->diag = diag;
    if (memchr(buf, 0, len)) {
        lw_diag_add(diag, name, 0, 0, "file contains a NUL byte");
        rc = LW_EINVAL;
        goto out;
    }
    yaml_parser_initialize(&b->parser);
    yaml_parser_set_input_string(&b->parser, (const unsigned char *)buf, len);
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&b->parser, &e)) {
            parse_error(b);
            break;
        }
        if (e.type == YAML_STREAM_END_EVENT || e.type == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&e);
            break;
        }
        if (e.type == YAML_STREAM_START_EVENT || e.type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&e);
            continue;
        }
        doc->root = parse_node(b, &e, 0);
        yaml_event_delete(&e);
        if (!doc->root)
            b->failed = 1;
        break;
    }
    yaml_parser_delete(&b->parser);
    if (b->failed)
        rc = LW_EINVAL;
out:
    for (size_t i = 0; i < b->nanchors; i++)
        free(b->anchors[i].name);
    free(b);
    if (rc) {
        lw_yaml_free(doc);
        *out = NULL;
        return rc;
    }
    *out = doc;
    return 0;
}

int lw_yaml_load_file(struct lw_yaml_doc **out, const char *path, struct lw_diag *diag)
{
    FILE *f = fopen(path, "rb");
    struct lw_buf b = {0};
    char chunk[65536];
    size_t n;
    if (!f) {
        lw_diag_add(diag, path, 0, 0, "cannot open: %s", strerror(errno));
        *out = NULL;
        return LW_EIO;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        lw_buf_append(&b, chunk, n);
        if (b.len > (64u << 20)) {
            fclose(f);
            lw_buf_free(&b);
            lw_diag_add(diag, path, 0, 0, "file larger than 64 MiB");
            *out = NULL;
            return LW_EINVAL;
        }
    }
    fclose(f);
    int rc = lw_yaml_load_buf(out, path, b.p ? b.p : "", b.len, diag);
    lw_buf_free(&b);
    return rc;
}

void lw_yaml_free(struct lw_yaml_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->nall; i++) {
        struct lw_yaml_node *n = doc->all[i];
        free(n->str);
        free(n->items);
        free(n->keys);
        free(n);
    }
    free(doc->all);
    free(doc->file);
    free(doc);
}

struct lw_yaml_node *lw_yaml_get(const struct lw_yaml_node *map, const char *key)
{
    if (!map || map->type != LW_YAML_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0)
            return map->items[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < c)
                c = prev[j] + 1;
            if (cur[j - 1] + 1 < c)
                c = cur[j - 1] + 1;
            cur[j] = c;
        }
        memcpy(prev, cur, sizeof prev);
    }
    return prev[lb];
}

const char *lw_nearest(const char *s, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < n && names[i]; i++) {
        /* A hint only when the edit is small against the words' length: 'c' is no
         * typo of 'a', but 'windw' is one of 'window'. */
        size_t d = edit_distance(s, names[i]), la = strlen(s), lb = strlen(names[i]);
        if (d < bestd && d < (la > lb ? la : lb))
            bestd = d, best = names[i];
    }
    return best;
}

int lw_yaml_check_keys(const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                       const char *const *allowed, const char *what, struct lw_diag *diag)
{
    int bad = 0;
    if (!map || map->type != LW_YAML_MAP)
        return 0;
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0) {
                ok = 1;
                break;
            }
        const char *best = ok ? NULL : lw_nearest(k, allowed, SIZE_MAX);
        if (ok)
            continue;
        bad++;
        if (best)
            lw_yaml_error(doc, map->keys[i], diag, "unknown key '%s' in %s (did you mean '%s'?)", k,
                          what, best);
        else
            lw_yaml_error(doc, map->keys[i], diag, "unknown key '%s' in %s", k, what);
    }
    return bad;
}

void lw_yaml_error(const struct lw_yaml_doc *doc, const struct lw_yaml_node *node,
                   struct lw_diag *diag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_diag_vadd(diag, doc->file, node ? node->line : 1, node ? node->col : 1, fmt, ap);
    va_end(ap);
}

int lw_yaml_str(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char **out,
                struct lw_diag *diag)
{
    if (!n || n->type != LW_YAML_SCALAR) {
        lw_yaml_error(doc, n, diag, "expected a string");
        return -1;
    }
    *out = n->str;
    return 0;
}

int lw_yaml_bool(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, bool *out,
                 struct lw_diag *diag)
{
    if (n && n->type == LW_YAML_SCALAR && !n->quoted) {
        if (!strcmp(n->str, "true") || !strcmp(n->str, "yes") || !strcmp(n->str, "on")) {
            *out = true;
            return 0;
        }
        if (!strcmp(n->str, "false") || !strcmp(n->str, "no") || !strcmp(n->str, "off")) {
            *out = false;
            return 0;
        }
    }
    lw_yaml_error(doc, n, diag, "expected true or false");
    return -1;
}

int lw_yaml_int(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, int64_t *out,
                struct lw_diag *diag)
{
    if (n && n->type == LW_YAML_SCALAR && lw_parse_i64(n->str, n->len, out) == 0)
        return 0;
    lw_yaml_error(doc, n, diag, "expected an integer");
    return -1;
}

int lw_yaml_float(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, double *out,
                  struct lw_diag *diag)
{
    if (n && n->type == LW_YAML_SCALAR && lw_parse_f64(n->str, n->len, out) == 0)
        return 0;
    lw_yaml_error(doc, n, diag, "expected a number");
    return -1;
}

int lw_yaml_duration(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, int64_t *out,
                     struct lw_diag *diag)
{
    if (n && n->type == LW_YAML_SCALAR && lw_parse_duration(n->str, n->len, out) == 0)
        return 0;
    if (n && n->type == LW_YAML_SCALAR && strcmp(n->str, "0") == 0) {
        *out = 0;
        return 0;
    }
    lw_yaml_error(doc, n, diag, "expected a duration such as 30s, 5m, 1h or 1d");
    return -1;
}

int lw_yaml_strlist(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char ***out,
                    size_t *count, struct lw_diag *diag)
{
    *out = NULL;
    *count = 0;
    if (n && n->type == LW_YAML_SCALAR) {
        *out = lw_malloc(sizeof **out);
        (*out)[0] = n->str;
        *count = 1;
        return 0;
    }
    if (!n || n->type != LW_YAML_SEQ) {
        lw_yaml_error(doc, n, diag, "expected a list of strings");
        return -1;
    }
    *out = lw_calloc(n->n ? n->n : 1, sizeof **out);
    for (size_t i = 0; i < n->n; i++) {
        if (n->items[i]->type != LW_YAML_SCALAR) {
            lw_yaml_error(doc, n->items[i], diag, "expected a string");
            free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[i] = n->items[i]->str;
    }
    *count = n->n;
    return 0;
}
