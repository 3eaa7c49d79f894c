/* prefilter.h: a pattern's single longest top-level literal, and a line's trigram set to test it
 * cheaply (rules module, internal; matching now uses required.h, this stays for its tests). */
#ifndef LW_RULES_PREFILTER_H
#define LW_RULES_PREFILTER_H

#include "lw.h"

#include <string.h>

#define LW_PREFILTER_MAX 64

/* len 0: no usable literal (the pattern always runs). */
struct lw_prefilter {
    char lit[LW_PREFILTER_MAX];
    size_t len;
    uint16_t bg[16]; /* up to 16 of the literal's trigrams, hashed, spread over it */
    int nbg;
};

/* The trigrams of one line, hashed into 4096 bits: built once per line, tested per rule.
 * Trigrams, not bigrams: JSON and English share most bigrams, but few trigrams. */
struct lw_bigrams {
    uint64_t bits[64];
};

static inline unsigned lw_bigram_hash(unsigned a, unsigned b, unsigned c)
{
    return ((a << 16 | b << 8 | c) * 0x9E3779B1u >> 20) & 4095u;
}

/* Finds the longest literal (at least 3 bytes) that every match of pattern p contains: bytes
 * at the top level, outside groups, classes and optional quantifiers. Conservative: when in
 * doubt (top-level alternation, inline options), none. */
void lw_prefilter_init(struct lw_prefilter *pf, const char *p, size_t len);
void lw_prefilter_line(struct lw_bigrams *b, const char *p, size_t n);

/* Whether the line may match: false only when the literal is certainly absent. */
static inline bool lw_prefilter_pass(const struct lw_prefilter *pf, const struct lw_bigrams *b,
                                     const char *line, size_t n)
{
    if (pf->len == 0)
        return true;
    for (int i = 0; i < pf->nbg; i++) {
        if (!(b->bits[pf->bg[i] >> 6] >> (pf->bg[i] & 63) & 1))
            return false;
    }
    return memmem(line, n, pf->lit, pf->len) != NULL;
}

#endif
