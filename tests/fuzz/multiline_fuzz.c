/* multiline_fuzz.c: fuzz target for the multiline joiner (ingest/multiline.c): presets and a
 * user regex over arbitrary lines, with limits small enough to cut. */
#include "ingest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first byte picks the config and the limits; the rest is a log whose lines are fed, each
 * copied to an exactly-sized buffer (a read past its end is caught by ASan). Invariants: no
 * record is longer than max_bytes or has more than max_lines lines, and every line fed comes out
 * in exactly one record. Broken invariants abort. */
static const char *const configs[] = {
    "multiline: java\n",
    "multiline: python\n",
    "multiline: go\n",
    "multiline: {start: '^\\S', max_lines: 4, max_bytes: 64}\n",
    "multiline: {continue: '^(\\s|\\x00)', max_lines: 3, max_bytes: 80}\n",
    "multiline: {preset: java, max_lines: 2, max_bytes: 64}\n",
};
#define NCONFIGS (sizeof configs / sizeof configs[0])
/* Each config's max_lines and max_bytes (0: the input's max_line_bytes). */
static const size_t limits[NCONFIGS][2] = {{500, 0}, {500, 0}, {500, 0}, {4, 64}, {3, 80}, {2, 64}};

/* Aborts when rec breaks config k's limits. */
static void check_limits(size_t k, size_t max_line, const struct lw_rec *rec, size_t lines)
{
    size_t max_bytes = limits[k][1] ? limits[k][1] : max_line;
    if (lines > limits[k][0] || rec->body.n > max_bytes)
        abort();
}

static size_t lines_in(const struct lw_rec *r)
{
    size_t n = 1;
    for (size_t i = 0; i < r->body.n; i++)
        n += r->body.p[i] == '\n';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct lw_diag diag = {0};
    struct lw_yaml_doc *doc = NULL;
    struct lw_multiline_cfg *cfg = NULL;
    size_t k = data[0] % NCONFIGS;
    const char *yaml = configs[k];
    if (lw_yaml_load_buf(&doc, "fuzz.yaml", yaml, strlen(yaml), &diag) < 0 ||
        lw_multiline_cfg_parse(&cfg, doc, lw_yaml_get(doc->root, "multiline"), &diag) < 0)
        abort();                               /* ours: every config above is valid */
    size_t max_line = 64 + data[0] / NCONFIGS; /* the input's max_line_bytes */
    struct lw_multiline *m = lw_multiline_new(cfg, max_line, NULL, "fuzz");
    size_t fed = 0, out = 0;
    struct lw_rec r, rec;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = malloc(n ? n : 1);
        memcpy(line, p, n);
        memset(&r, 0, sizeof r);
        r.body = (struct lw_str){line, n};
        r.recv_ns = (int64_t)fed;
        fed++;
        if (lw_multiline_feed(m, &r, (int64_t)fed, &rec)) {
            size_t l = lines_in(&rec);
            check_limits(k, max_line, &rec, l);
            out += l;
        }
        free(line);
        p += n + 1;
    }
    while (lw_multiline_flush(m, &rec)) {
        size_t l = lines_in(&rec);
        check_limits(k, max_line, &rec, l);
        out += l;
    }
    /* A line cut at max_bytes loses bytes, never a newline: lines are conserved only when no
     * line holds one, which the splitting above guarantees. */
    if (out != fed)
        abort();
    lw_multiline_free(m);
    lw_multiline_cfg_free(cfg);
    lw_yaml_free(doc);
    lw_diag_free(&diag);
    return 0;
}
