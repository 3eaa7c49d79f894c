/* lw_sd.c: RFC 5424 STRUCTURED-DATA lookup by "ID.PARAM" (lw_sd.h), allocation-free. */
#include "lw_sd.h"

#include <string.h>

/* The end of an SD-NAME (SD-ID or PARAM-NAME: printable ASCII but '=', SP, ']', '"'). */
static size_t sd_name(const char *p, size_t i, size_t n)
{
    while (i < n && p[i] > ' ' && p[i] < 127 && p[i] != '=' && p[i] != ']' && p[i] != '"')
        i++;
    return i;
}

/* The end of a quoted value starting after its opening quote at i: the index of the closing
 * quote, or n when there is none. */
static size_t sd_value(const char *p, size_t i, size_t n)
{
    while (i < n && p[i] != '"')
        i += p[i] == '\\' && i + 1 < n ? 2 : 1;
    return i;
}

int lw_sd_find(struct lw_str sd, const char *name, size_t n, struct lw_str *raw, bool *escaped)
{
    const char *p = sd.p;
    size_t i = 0, len = sd.n;
    while (i < len && p[i] == '[') {
        size_t id = ++i;
        i = sd_name(p, i, len);
        size_t idn = i - id;
        /* This element's params are looked at when its ID is the name's prefix before a dot. */
        bool mine = idn && idn + 1 < n && name[idn] == '.' && !memcmp(name, p + id, idn);
        const char *param = name + idn + 1;
        size_t pn = mine ? n - idn - 1 : 0;
        while (i < len && p[i] == ' ') {
            size_t k = ++i;
            i = sd_name(p, i, len);
            size_t kn = i - k;
            if (!kn || i + 1 >= len || p[i] != '=' || p[i + 1] != '"')
                return 0;
            size_t v = i + 2;
            i = sd_value(p, v, len);
            if (i >= len)
                return 0;
            if (mine && kn == pn && !memcmp(p + k, param, pn)) {
                raw->p = p + v;
                raw->n = i - v;
                *escaped = memchr(raw->p, '\\', raw->n) != NULL;
                return 1;
            }
            i++; /* the closing quote */
        }
        if (i >= len || p[i] != ']')
            return 0;
        i++;
    }
    return 0;
}

size_t lw_sd_unescape(struct lw_str raw, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < raw.n; i++) {
        char c = raw.p[i];
        if (c == '\\' && i + 1 < raw.n &&
            (raw.p[i + 1] == '"' || raw.p[i + 1] == '\\' || raw.p[i + 1] == ']'))
            c = raw.p[++i];
        out[o++] = c;
    }
    return o;
}
