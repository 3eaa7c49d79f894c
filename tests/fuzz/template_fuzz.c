/* template_fuzz.c: fuzz target for annotation templates (rules/template.c): compile, render. */
#include "template.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int lookup(const char *name, size_t n, struct lw_str *out, void *payload)
{
    (void)payload;
    if (n == 0 || name[0] == 'x')
        return -1;
    *out = lw_str_c(name[0] == 'n' ? "2.5" : "text \"q\" \xff");
    return 0;
}

/* The input is the template source (up to the first NUL); its length picks the value. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double values[] = {0, 11, 0.0534, -1.5, 1e300, NAN, INFINITY, 1e-12};
    char *src = malloc(size + 1);
    memcpy(src, data, size);
    src[size] = 0;
    struct lw_tmpl *t;
    struct lw_err err;
    int col = 0;
    if (lw_tmpl_compile(&t, src, NULL, NULL, &col, &err) == 0) {
        struct lw_buf b = {0};
        lw_tmpl_render(t, values[size % 8], lookup, NULL, &b);
        lw_buf_free(&b);
        lw_tmpl_free(t);
    } else if (col < 1 || (size_t)col > size + 1) {
        abort();
    }
    free(src);
    return 0;
}
