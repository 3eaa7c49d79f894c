/* cri_fuzz.c: fuzz target for the CRI container log decoder, its RFC 3339 timestamps and the
 * partial-line reassembler, one per stream (ingest/cri/cri_parse.c). */
#include "ingest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input is a log file: each line is copied to an exactly-sized buffer (so a read past n is
 * caught by ASan), decoded, and fed to the reassembler of its stream, whose max (from the first
 * byte) is small enough for truncation to happen. Broken invariants abort. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct lw_reassembler out_r, err_r;
    lw_reassembler_init(&out_r, 1 + data[0] % 64);
    lw_reassembler_init(&err_r, 1 + data[0] % 64);
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = malloc(n ? n : 1);
        memcpy(line, p, n);
        struct lw_container_msg m, full;
        int rc = lw_cri_parse(line, n, &m);
        if (rc != 0 && rc != -1)
            abort();
        if (rc == -1 && (m.msg.p != line || m.msg.n != n || m.partial || m.ts_ns))
            abort();
        if (m.msg.n && !(m.msg.p >= line && m.msg.p + m.msg.n <= line + n))
            abort();
        if (rc == 0 && m.stream.n != 6)
            abort();
        struct lw_reassembler *r = rc == 0 && m.stream.p[3] == 'e' ? &err_r : &out_r;
        if (lw_reassembler_feed(r, &m, &full) == 1) {
            if (full.msg.n > r->max || full.partial)
                abort();
            volatile char sink = 0;
            for (size_t i = 0; i < full.msg.n; i++)
                sink ^= full.msg.p[i]; /* the borrowed bytes must be readable */
            (void)sink;
        }
        /* The time field on its own, as the Docker decoder uses it. */
        int64_t ns;
        const char *sp = memchr(line, ' ', n);
        (void)lw_container_time_parse(line, sp ? (size_t)(sp - line) : n, &ns);
        free(line);
        p += n + 1;
    }
    lw_reassembler_free(&out_r);
    lw_reassembler_free(&err_r);
    return 0;
}
