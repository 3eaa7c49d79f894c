/* syslog_fuzz.c: fuzz target for the syslog decoder (RFC 3164 and RFC 5424, ingest/syslog):
 * the bytes of one message exactly as they arrive on the network. */
#include "ingest.h"
#include "lw_sd.h"
#include "lw_tz.h"

#include <stdlib.h>
#include <string.h>

/* Every piece the decoder returns must lie inside the message (they are borrowed), the numbers
 * must be in their ranges, and a refused line must come back whole as the body. */
static void inside(const struct lw_str *s, const char *line, size_t n)
{
    if (s->n && !(s->p >= line && s->p + s->n <= line + n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1); /* exactly sized: a read past the end is caught */
    memcpy(line, data, size);
    struct lw_syslog_msg m;
    /* 2024-03-10T12:00:00Z: RFC 3164 years are inferred from it. */
    int rc = lw_syslog_parse(line, size, INT64_C(1710072000) * LW_NS_PER_SEC, &m);
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && (m.msg.n != size || (size && m.msg.p != line)))
        abort();
    if (m.pri < -1 || m.pri > 191 || m.facility < -1 || m.facility > 23 || m.severity < -1 ||
        m.severity > 7)
        abort();
    if (m.pri >= 0 && (m.facility != m.pri / 8 || m.severity != m.pri % 8))
        abort();
    if (m.facility >= 0 && !lw_syslog_facility_name(m.facility))
        abort();
    if (m.severity >= 0 && !lw_syslog_severity_name(m.severity))
        abort();
    const struct lw_str *parts[] = {&m.host, &m.app, &m.procid, &m.msgid, &m.sd, &m.msg};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        inside(parts[i], line, size);
    /* Structured data the decoder accepted: every lookup stays inside it, an unescaped value is
     * no longer than its raw text. The names are those of each element and param it has, and
     * some it has not. */
    static const char *const names[] = {"timeQuality.tzKnown", "origin@32473.zone", "a.b",
                                        "exampleSDID@32473.iut", "x@1.2.k"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && m.sd.n; i++) {
        struct lw_str raw;
        bool esc;
        if (lw_sd_find(m.sd, names[i], strlen(names[i]), &raw, &esc)) {
            inside(&raw, m.sd.p, m.sd.n);
            char *out = malloc(raw.n ? raw.n : 1);
            if (lw_sd_unescape(raw, out) > raw.n)
                abort();
            free(out);
        }
    }
    /* A zone moves the RFC 3164 time (by at most a day and a year's choice), nothing else. */
    const struct lw_tz *tz = NULL;
    struct lw_syslog_msg z;
    if (lw_tz_get(&tz, "America/New_York", NULL) == 0) {
        if (lw_syslog_parse_tz(line, size, INT64_C(1710072000) * LW_NS_PER_SEC, tz, &z) != rc ||
            z.pri != m.pri || z.host.p != m.host.p || z.host.n != m.host.n || z.msg.p != m.msg.p ||
            z.msg.n != m.msg.n || (z.ts_ns == 0) != (m.ts_ns == 0))
            abort();
    }
    free(line);
    return 0;
}
