/* expr_fuzz.c: libFuzzer target for rules/expr.c: compiles arbitrary input with a resolver that
 * accepts every name, then evaluates it against a few events of mixed kinds. */
#include "expr.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NFIELDS 16

/* Every name is a field: its id and declared type come from a hash of the name, so the same
 * input always resolves the same way and every type (and the type checks) gets exercised. */
static int resolve(const char *name, size_t n, enum lw_type *type, void *payload)
{
    (void)payload;
    uint64_t h = lw_hash64(name, n, LW_HASH_SEED);
    *type = (enum lw_type)((h >> 8) % 5);
    /* one id past the events' arrays: a field the caller does not pass */
    return (int)(h % (NFIELDS + 1));
}

static void fill(struct lw_value *ev, int variant)
{
    static const char *const strs[] = {
        "",    "500",  "error", "/api/users",
        "2.5", "true", "-1e3",  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"};
    for (int k = 0; k < NFIELDS; k++) {
        struct lw_value *v = &ev[k];
        memset(v, 0, sizeof *v);
        switch ((k + variant) % 6) {
        case 0:
            v->kind = LW_V_NONE;
            break;
        case 1:
            v->kind = LW_V_STR;
            v->s = lw_str_c(strs[(k * 3 + variant) % (sizeof strs / sizeof *strs)]);
            break;
        case 2:
            v->kind = LW_V_INT;
            v->i = variant == 1 ? INT64_MIN : (int64_t)k * 100 - 300;
            break;
        case 3:
            v->kind = LW_V_FLOAT;
            v->f = variant == 2 ? NAN : variant == 1 ? INFINITY : k * 0.25;
            break;
        case 4:
            v->kind = LW_V_BOOL;
            v->b = k & 1;
            break;
        default:
            v->kind = LW_V_STR;
            v->s = lw_str_c("0.1");
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* lw_expr_compile takes a C string: cut at the first NUL as a config loader would */
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';

    struct lw_expr *e = NULL;
    struct lw_err err;
    int col = 0;
    if (lw_expr_compile(&e, src, resolve, NULL, &col, &err) == 0) {
        struct lw_value ev[NFIELDS];
        for (int variant = 0; variant < 3; variant++) {
            fill(ev, variant);
            (void)lw_expr_eval(e, ev, NFIELDS);
        }
        (void)lw_expr_eval(e, NULL, 0);
        lw_expr_free(e);
    } else {
        /* an error always points into the source, or just past its end */
        size_t n = strlen(src);
        if (col < 1 || (size_t)col > (n > 4096 ? 4097 : n + 1) || err.msg[0] == '\0')
            abort();
    }
    free(src);
    return 0;
}
