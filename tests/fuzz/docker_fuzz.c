/* docker_fuzz.c: fuzz target for the Docker json-file decoder and the partial-line reassembler
 * (ingest/docker/docker_parse.c). */
#include "ingest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input is a log file: each line is copied to an exactly-sized buffer (so a read past n is
 * caught by ASan), decoded, and fed to a reassembler whose max (from the first byte) is small
 * enough for truncation to happen. Broken invariants abort. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct lw_reassembler r;
    lw_reassembler_init(&r, 1 + data[0] % 64);
    struct lw_buf scratch = {0};
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = malloc(n ? n : 1);
        memcpy(line, p, n);
        struct lw_container_msg m, full;
        int rc = lw_docker_parse(line, n, &scratch, &m);
        if (rc != 0 && rc != -1)
            abort();
        if (rc == -1 && (m.msg.p != line || m.msg.n != n || m.partial || m.ts_ns))
            abort();
        bool in_line = m.msg.p >= line && m.msg.p + m.msg.n <= line + n;
        bool in_scratch =
            scratch.p && m.msg.p >= scratch.p && m.msg.p + m.msg.n <= scratch.p + scratch.len;
        if (m.msg.n && !in_line && !in_scratch)
            abort();
        if (m.msg.n > n)
            abort();
        if (lw_reassembler_feed(&r, &m, &full) == 1) {
            if (full.msg.n > r.max || full.partial)
                abort();
            volatile char sink = 0;
            for (size_t i = 0; i < full.msg.n; i++)
                sink ^= full.msg.p[i]; /* the borrowed bytes must be readable */
            (void)sink;
        }
        free(line);
        p += n + 1;
    }
    struct lw_container_msg rest;
    if (lw_reassembler_flush(&r, &rest) == 1 && rest.msg.n > r.max)
        abort();
    lw_reassembler_free(&r);
    lw_buf_free(&scratch);
    return 0;
}
