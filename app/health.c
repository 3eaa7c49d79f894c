/* health.c: GET /health: whether the daemon does its job, input by input, sink by sink and for
 * the state file (docs/operations.md, "Health"). */
#include "http_int.h"

#include <string.h>

/* CONTRACT STUB (issue 16): the inputs' degraded reasons only; health.c's owner builds the
 * whole object (status, version, uptime_s, inputs, sinks, store). */
json_t *lw_http_health(struct lw_http_server *h, int *code)
{
    struct lw_buf b = {0};
    lw_health_text(h->cfg, &b);
    bool ok = b.len >= 2 && !memcmp(b.p, "ok", 2);
    json_t *j = json_pack("{s:s,s:s#}", "status", ok ? "healthy" : "degraded", "detail", b.p,
                          (int)(b.len ? b.len - 1 : 0));
    lw_buf_free(&b);
    *code = 200;
    return j;
}
