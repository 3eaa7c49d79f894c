/* test_linecut.c: line cutting against a naive reference split, across any block boundaries. */
#include "ingest.h"
#include "test.h"

#include <stdlib.h>

/* What the cutter passed: lines, each with its end offset. */
struct got {
    struct lw_buf text; /* lines joined, each preceded by its length */
    size_t n;
    int64_t offs[4096];
};

static void collect(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct got *g = payload;
    lw_buf_append(&g->text, &n, sizeof n);
    lw_buf_append(&g->text, line, n);
    if (g->n < 4096)
        g->offs[g->n] = end_off;
    g->n++;
}

/* The obvious, slow split: the behaviour the header documents. */
static void reference(const char *s, size_t len, size_t max_line, bool finish, struct got *g,
                      uint64_t *truncated)
{
    size_t start = 0;
    *truncated = 0;
    for (size_t i = 0; i <= len; i++) {
        bool end = i == len;
        if (!end && s[i] != '\n')
            continue;
        if (end && (!finish || start == len))
            break;
        size_t n = i - start;
        if (!end && n && s[i - 1] == '\r')
            n--;
        if (n > max_line) {
            n = max_line;
            (*truncated)++;
        }
        collect(s + start, n, (int64_t)(end ? i : i + 1), g);
        start = i + 1;
    }
}

static bool same(const struct got *a, const struct got *b)
{
    if (a->n != b->n || a->text.len != b->text.len)
        return false;
    if (a->text.len && memcmp(a->text.p, b->text.p, a->text.len) != 0)
        return false;
    for (size_t i = 0; i < a->n && i < 4096; i++)
        if (a->offs[i] != b->offs[i])
            return false;
    return true;
}

/* Feeds s in chunks chosen by mode (0 whole, 1 bytewise, 2 random sizes). */
static void cut(const char *s, size_t len, size_t max_line, int mode, bool finish, struct got *g,
                uint64_t *truncated)
{
    struct lw_linecut lc;
    lw_linecut_init(&lc, max_line, 0);
    size_t i = 0;
    while (i < len) {
        size_t k = mode == 0 ? len : mode == 1 ? 1 : 1 + (size_t)(rand() % 97);
        if (k > len - i)
            k = len - i;
        lw_linecut_feed(&lc, s + i, k, collect, g);
        i += k;
    }
    if (finish)
        lw_linecut_finish(&lc, collect, g);
    *truncated = lc.truncated;
    CHECK_EQ(lc.off, (int64_t)len);
    lw_linecut_free(&lc);
}

static void compare(const char *s, size_t len, size_t max_line, bool finish)
{
    for (int mode = 0; mode < 3; mode++) {
        struct got *want = calloc(1, sizeof *want), *got = calloc(1, sizeof *got);
        uint64_t tw, tg;
        reference(s, len, max_line, finish, want, &tw);
        cut(s, len, max_line, mode, finish, got, &tg);
        CHECK(same(want, got));
        CHECK_EQ(tg, tw);
        CHECK_EQ(got->n, want->n);
        lw_buf_free(&want->text);
        lw_buf_free(&got->text);
        free(want);
        free(got);
    }
}

static void test_simple(void)
{
    struct got *g = calloc(1, sizeof *g);
    struct lw_linecut lc;
    lw_linecut_init(&lc, 0, 100);
    CHECK_EQ(lc.max_line, LW_MAX_LINE_DEFAULT);
    const char s[] = "one\r\ntwo\n\nthr";
    lw_linecut_feed(&lc, s, sizeof s - 1, collect, g);
    CHECK_EQ(g->n, 3);
    CHECK_EQ(g->offs[0], 105); /* offsets continue from start_off */
    CHECK_EQ(g->offs[1], 109);
    CHECK_EQ(g->offs[2], 110);
    lw_linecut_feed(&lc, "ee\n", 3, collect, g);
    CHECK_EQ(g->n, 4);
    CHECK_EQ(g->offs[3], 116);
    /* The records as text: "one", "two", "", "three". */
    const char *p = g->text.p;
    size_t n;
    memcpy(&n, p, sizeof n);
    CHECK_EQ(n, 3);
    CHECK(memcmp(p + sizeof n, "one", 3) == 0);
    p += sizeof n + n;
    memcpy(&n, p, sizeof n);
    p += sizeof n + n;
    memcpy(&n, p, sizeof n);
    CHECK_EQ(n, 0);
    p += sizeof n;
    memcpy(&n, p, sizeof n);
    CHECK_EQ(n, 5);
    CHECK(memcmp(p + sizeof n, "three", 5) == 0);
    /* A final line without newline only comes out at finish. */
    lw_linecut_feed(&lc, "tail", 4, collect, g);
    CHECK_EQ(g->n, 4);
    lw_linecut_finish(&lc, collect, g);
    CHECK_EQ(g->n, 5);
    CHECK_EQ(g->offs[4], 120);
    lw_linecut_finish(&lc, collect, g);
    CHECK_EQ(g->n, 5);
    lw_linecut_free(&lc);
    lw_buf_free(&g->text);
    free(g);
}

static void test_edges(void)
{
    /* NUL bytes are kept, CRLF stripped, a lone CR inside kept. */
    static const char nul[] = "a\0b\r\nc\rd\n\0\n";
    compare(nul, sizeof nul - 1, 16, false);
    struct got *g = calloc(1, sizeof *g);
    struct lw_linecut lc;
    lw_linecut_init(&lc, 16, 0);
    lw_linecut_feed(&lc, nul, sizeof nul - 1, collect, g);
    CHECK_EQ(g->n, 3);
    size_t n;
    memcpy(&n, g->text.p, sizeof n);
    CHECK_EQ(n, 3);
    CHECK(memcmp(g->text.p + sizeof n, "a\0b", 3) == 0);
    lw_linecut_free(&lc);
    lw_buf_free(&g->text);
    free(g);

    /* Exactly max_line, max_line + CRLF, max_line + 1, and much longer, split everywhere. */
    static const char lim[] = "12345678\n12345678\r\n123456789\n1234567890123456789012345\r\nok\n"
                              "123456789\r\n12345678\r";
    compare(lim, sizeof lim - 1, 8, false);
    compare(lim, sizeof lim - 1, 8, true);
    for (size_t split = 0; split <= sizeof lim - 1; split++) {
        struct got *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        uint64_t ta;
        reference(lim, sizeof lim - 1, 8, true, a, &ta);
        lw_linecut_init(&lc, 8, 0);
        lw_linecut_feed(&lc, lim, split, collect, b);
        lw_linecut_feed(&lc, lim + split, sizeof lim - 1 - split, collect, b);
        lw_linecut_finish(&lc, collect, b);
        CHECK(same(a, b));
        CHECK_EQ(lc.truncated, ta);
        lw_linecut_free(&lc);
        lw_buf_free(&a->text);
        lw_buf_free(&b->text);
        free(a);
        free(b);
    }
    /* Truncation count for the documented example. */
    lw_linecut_init(&lc, 8, 0);
    g = calloc(1, sizeof *g);
    lw_linecut_feed(&lc, lim, sizeof lim - 1, collect, g);
    CHECK_EQ(lc.truncated, 3); /* 123456789, the 25-byte line, 123456789\r\n */
    CHECK_EQ(g->n, 6);
    lw_linecut_free(&lc);
    lw_buf_free(&g->text);
    free(g);
}

static void test_random(void)
{
    srand(1234);
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(rand() % 3000);
        char *s = malloc(len + 1);
        for (size_t i = 0; i < len; i++) {
            int r = rand() % 100;
            s[i] = r < 8 ? '\n' : r < 11 ? '\r' : r < 13 ? '\0' : (char)('a' + r % 26);
        }
        size_t max_line = 1 + (size_t)(rand() % 64);
        compare(s, len, max_line, round % 2 == 0);
        free(s);
    }
}

int main(void)
{
    test_simple();
    test_edges();
    test_random();
    return test_summary();
}
