/* prefilter.c: the literal every match of a pattern must contain, found once at load time, so
 * that lines without it skip the regex (most rules match few lines, as real rule sets do). */
#include "prefilter.h"

#include <string.h>

/* Is c a regex metacharacter outside a class? */
static bool meta(char c)
{
    return strchr("\\^$.|?*+()[]{}", c) != NULL;
}

/* Appends a literal byte to the current run, keeping the longest run seen in best. */
static void push(char *run, size_t *n, char c)
{
    if (*n < LW_PREFILTER_MAX)
        run[(*n)++] = c;
}

static void close_run(char *run, size_t *n, char *best, size_t *bn)
{
    if (*n > *bn) {
        memcpy(best, run, *n);
        *bn = *n;
    }
    *n = 0;
}

/* Skips a bracketed character class starting at p[i] == '['; returns the index after it. */
static size_t skip_class(const char *p, size_t len, size_t i)
{
    i++;
    if (i < len && p[i] == '^')
        i++;
    if (i < len && p[i] == ']')
        i++;
    while (i < len && p[i] != ']') {
        if (p[i] == '\\' && i + 1 < len)
            i++;
        i++;
    }
    return i < len ? i + 1 : len;
}

/* Skips a group starting at p[i] == '('; returns the index after its ')'. */
static size_t skip_group(const char *p, size_t len, size_t i)
{
    int depth = 0;
    for (; i < len; i++) {
        if (p[i] == '\\') {
            i++;
        } else if (p[i] == '[') {
            i = skip_class(p, len, i) - 1;
        } else if (p[i] == '(') {
            depth++;
        } else if (p[i] == ')' && --depth == 0) {
            return i + 1;
        }
    }
    return len;
}

/* A quantifier at p[i] that allows zero repetitions? */
static bool optional_quant(const char *p, size_t len, size_t i)
{
    if (i >= len)
        return false;
    if (p[i] == '?' || p[i] == '*')
        return true;
    if (p[i] == '{')
        return i + 1 < len && p[i + 1] == '0';
    return false;
}

static bool quant(const char *p, size_t len, size_t i)
{
    return i < len && (p[i] == '?' || p[i] == '*' || p[i] == '+' || p[i] == '{');
}

/* The escape at p[i] == '\\' as a literal byte, or -1 when it is a class or assertion. */
static int escaped_literal(const char *p, size_t len, size_t i)
{
    if (i + 1 >= len)
        return -1;
    char c = p[i + 1];
    if (strchr("dDsSwWbBAzZGhHvVRNXkKpPQEQ0123456789xcoeg", c))
        return c == 't' ? '\t' : -1;
    if (c == 't')
        return '\t';
    if (c == 'n')
        return '\n';
    if (c == 'r')
        return '\r';
    return (unsigned char)c; /* \. \[ \/ \- \" ... */
}

void lw_prefilter_init(struct lw_prefilter *pf, const char *p, size_t len)
{
    char run[LW_PREFILTER_MAX], best[LW_PREFILTER_MAX];
    size_t n = 0, bn = 0, i = 0;
    memset(pf, 0, sizeof *pf);
    /* Alternation at the top, inline options (case-insensitivity) or \Q..\E: no single
     * literal is required, or finding it is not worth the risk. */
    for (size_t k = 0, depth = 0; k < len; k++) {
        if (p[k] == '\\') {
            if (k + 1 < len && p[k + 1] == 'Q')
                return;
            k++;
            continue;
        }
        if (p[k] == '[') {
            k = skip_class(p, len, k) - 1;
            continue;
        }
        if (p[k] == '(') {
            depth++;
            if (k + 1 < len && p[k + 1] == '?' && k + 2 < len && strchr("imsxnJU-^", p[k + 2]))
                return;
        }
        if (p[k] == ')' && depth)
            depth--;
        if (p[k] == '|' && depth == 0)
            return;
    }
    while (i < len) {
        char c = p[i];
        if (c == '(') {
            /* A group: its contents may be optional or alternated. It breaks the run. */
            close_run(run, &n, best, &bn);
            i = skip_group(p, len, i);
            if (quant(p, len, i))
                i++;
            continue;
        }
        if (c == '[' || c == '.' || c == '^' || c == '$') {
            close_run(run, &n, best, &bn);
            i = c == '[' ? skip_class(p, len, i) : i + 1;
            if (quant(p, len, i))
                i++;
            continue;
        }
        int lit = c;
        size_t next = i + 1;
        if (c == '\\') {
            lit = escaped_literal(p, len, i);
            next = i + 2;
            if (lit < 0) {
                close_run(run, &n, best, &bn);
                i = next;
                if (quant(p, len, i))
                    i++;
                continue;
            }
        } else if (meta(c)) {
            close_run(run, &n, best, &bn);
            i++;
            continue;
        }
        if (optional_quant(p, len, next)) {
            /* This byte may be absent: the run ends before it. */
            close_run(run, &n, best, &bn);
            i = next + 1;
            continue;
        }
        push(run, &n, (char)lit);
        if (quant(p, len, next)) {
            /* x+ or x{2,}: x is required once, but what follows is not adjacent. */
            close_run(run, &n, best, &bn);
            i = next + 1;
            while (i < len && p[i - 1] == '{' && p[i] != '}')
                i++;
            continue;
        }
        i = next;
    }
    close_run(run, &n, best, &bn);
    if (bn < 3)
        return; /* too short to be selective */
    memcpy(pf->lit, best, bn);
    pf->len = bn;

    /* Every trigram of the literal must be in the line: testing up to 16 of them (spread over
     * it) rejects nearly every line without the literal for a few bit tests. */
    size_t nb = bn - 2, step = nb > 16 ? (nb + 15) / 16 : 1;
    for (size_t k = 0; k < nb && pf->nbg < 16; k += step)
        pf->bg[pf->nbg++] = (uint16_t)lw_bigram_hash(
            (unsigned char)best[k], (unsigned char)best[k + 1], (unsigned char)best[k + 2]);
}

void lw_prefilter_line(struct lw_bigrams *b, const char *p, size_t n)
{
    memset(b->bits, 0, sizeof b->bits);
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i + 2 < n; i++) {
        unsigned v = lw_bigram_hash(s[i], s[i + 1], s[i + 2]);
        b->bits[v >> 6] |= UINT64_C(1) << (v & 63);
    }
}
