/* linecut.c: cuts a byte stream into lines with memchr, copying only lines split across blocks. */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

/* The carry holds at most max_line + 1 bytes: the one extra byte lets a line of exactly
 * max_line bytes followed by "\r\n" split across blocks be told apart from a truncated line. */

void lw_linecut_init(struct lw_linecut *lc, size_t max_line, int64_t start_off)
{
    memset(lc, 0, sizeof *lc);
    lc->max_line = max_line ? max_line : LW_MAX_LINE_DEFAULT;
    lc->off = start_off;
}

void lw_linecut_free(struct lw_linecut *lc)
{
    if (!lc)
        return;
    free(lc->carry);
    lc->carry = NULL;
    lc->clen = lc->ccap = 0;
}

static void carry_append(struct lw_linecut *lc, const char *p, size_t n)
{
    if (lc->clen + n > lc->ccap) {
        size_t cap = lc->ccap ? lc->ccap : 256;
        while (cap < lc->clen + n)
            cap *= 2;
        if (cap > lc->max_line + 1 && lc->clen + n <= lc->max_line + 1)
            cap = lc->max_line + 1;
        lc->carry = lw_realloc(lc->carry, cap);
        lc->ccap = cap;
    }
    memcpy(lc->carry + lc->clen, p, n);
    lc->clen += n;
}

/* Passes one complete line (its newline already removed): strips a CR, truncates. */
static void emit(struct lw_linecut *lc, const char *p, size_t n, int64_t end_off, lw_line_fn *fn,
                 void *payload)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (n > lc->max_line) {
        n = lc->max_line;
        lc->truncated++;
    }
    fn(p, n, end_off, payload);
}

void lw_linecut_feed(struct lw_linecut *lc, const char *p, size_t n, lw_line_fn *fn, void *payload)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t piece = nl ? (size_t)(nl - p) : n;
        if (lc->skipping) {
            /* The carry already holds the first max_line bytes of an over-long line. */
            if (!nl) {
                lc->off += (int64_t)n;
                return;
            }
            lc->off += (int64_t)piece + 1;
            lc->skipping = false;
            lc->truncated++;
            fn(lc->carry, lc->max_line, lc->off, payload);
            lc->clen = 0;
        } else if (!nl) {
            /* An unfinished line: keep what fits, then skip to its newline. */
            size_t room = lc->max_line + 1 - lc->clen;
            if (n > room) {
                carry_append(lc, p, room);
                lc->skipping = true;
            } else {
                carry_append(lc, p, n);
            }
            lc->off += (int64_t)n;
            return;
        } else if (lc->clen) {
            size_t room = lc->max_line + 1 - lc->clen;
            lc->off += (int64_t)piece + 1;
            if (piece > room) {
                /* Longer than max_line even without a CR: cut here. */
                carry_append(lc, p, room);
                lc->truncated++;
                fn(lc->carry, lc->max_line, lc->off, payload);
            } else {
                carry_append(lc, p, piece);
                emit(lc, lc->carry, lc->clen, lc->off, fn, payload);
            }
            lc->clen = 0;
        } else {
            lc->off += (int64_t)piece + 1;
            if (piece > lc->max_line + 1) {
                lc->truncated++;
                fn(p, lc->max_line, lc->off, payload);
            } else {
                emit(lc, p, piece, lc->off, fn, payload);
            }
        }
        piece++;
        p += piece;
        n -= piece;
    }
}

void lw_linecut_finish(struct lw_linecut *lc, lw_line_fn *fn, void *payload)
{
    if (lc->skipping) {
        lc->truncated++;
        fn(lc->carry, lc->max_line, lc->off, payload);
    } else if (lc->clen) {
        size_t n = lc->clen;
        if (n > lc->max_line) {
            n = lc->max_line;
            lc->truncated++;
        }
        fn(lc->carry, n, lc->off, payload);
    }
    lc->skipping = false;
    lc->clen = 0;
}
