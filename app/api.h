/* api.h: the pipeline thread's side of the API: what the engine, the rules and the notifier
 * say, as JSON, for the HTTP thread's questions (http.h, lw_ask). */
#ifndef LW_API_H
#define LW_API_H

#include "app.h"
#include "http.h"

/* What the pipeline holds now (a reload replaces the engine and the rules: built per answer). */
struct lw_api_src {
    const struct lw_config *cfg;
    struct lw_engine *eng;
    const struct lw_ruleset *rs;
    struct lw_notifier *notifier;
    struct lw_store *st; /* the pipeline's own connection */
};
/* Answers q (LW_ASK_ALERTS, LW_ASK_RULES, LW_ASK_EXPLAIN; RELOAD is the daemon's): sets
 * q->answer and q->code. Pipeline thread. */
void lw_api_answer(const struct lw_api_src *src, struct lw_ask *q, int64_t now_ns);
/* The explanation as the state file completes it (any thread, on st's own connection): live
 * (consumed; NULL: what the file kept at the alert's last transition, "source": "state") gets
 * the history of the last 24 h and the notifications. *code 200, 404 when neither knows fp, or
 * 500. */
json_t *lw_api_explain_store(struct lw_store *st, const char *fp, json_t *live, int *code);

#endif
