/* batch.c: record batches: a batch owns one byte buffer that its records point into. */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

struct lw_batch *lw_batch_new(uint32_t input, const char *stream, size_t data_hint)
{
    struct lw_batch *b = lw_calloc(1, sizeof *b);
    b->input = input;
    b->stream = stream ? lw_strdup(stream) : NULL;
    b->dcap = data_hint ? data_hint : 4096;
    b->data = lw_malloc(b->dcap);
    return b;
}

/* Grows data so that extra more bytes fit. Records point into data, so the buffer is moved by
 * hand (malloc + copy) and every record re-pointed while the old buffer is still valid: a
 * pointer into a buffer freed by realloc may not even be compared. */
static void batch_grow(struct lw_batch *b, size_t extra)
{
    if (b->len + extra <= b->dcap)
        return;
    size_t cap = b->dcap ? b->dcap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *nd = lw_malloc(cap);
    if (b->len)
        memcpy(nd, b->data, b->len);
    for (size_t i = 0; i < b->n; i++)
        b->recs[i].line.p = nd + (b->recs[i].line.p - b->data);
    free(b->data);
    b->data = nd;
    b->dcap = cap;
}

void lw_batch_add(struct lw_batch *b, const char *line, size_t n, int64_t recv_ns, int64_t cursor)
{
    batch_grow(b, n);
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->recs = lw_realloc(b->recs, b->cap * sizeof *b->recs);
    }
    struct lw_record *r = &b->recs[b->n++];
    if (n)
        memcpy(b->data + b->len, line, n);
    r->line.p = b->data + b->len;
    r->line.n = n;
    r->recv_ns = recv_ns;
    r->cursor = cursor;
    r->meta = NULL;
    b->len += n;
}

void lw_batch_set_labels(struct lw_batch *b, struct lw_labelset *ls)
{
    lw_labelset_unref(b->set);
    b->set = lw_labelset_ref(ls);
    for (int l = 0; ls && l < LW_L_COUNT; l++)
        if (ls->slot[l].p)
            b->labels[l] = ls->slot[l];
}

char *lw_batch_label_space(struct lw_batch *b, size_t n)
{
    if (n > b->lcap) {
        free(b->lstore);
        b->lstore = lw_malloc(n);
        b->lcap = n;
    }
    return b->lstore;
}

void lw_batch_free(struct lw_batch *b)
{
    if (!b)
        return;
    lw_labelset_unref(b->set);
    free(b->lstore);
    free(b->stream);
    free(b->recs);
    free(b->data);
    free(b);
}
