/* notify.h: the notifier: turns alert transitions into notifications per sink, with group_wait
 * batching, repeat_interval, flap suppression, silences and inhibition (pipeline thread). */
#ifndef LW_NOTIFY_H
#define LW_NOTIFY_H

#include "app.h"
#include "store.h"

/* For each (alert fingerprint, sink) the notifier keeps what the alert is now and what the sink
 * was last told. A notification is the difference, sent once it is due:
 *
 *   alert firing, sink told nothing/resolved -> send firing    when group_wait has passed
 *   alert firing, sink told firing           -> send it again  every repeat_interval
 *   alert resolved, sink told firing         -> send resolved  when group_wait has passed
 *   alert resolved, sink never told firing   -> nothing (it fired and resolved within
 *                                               group_wait: a flap, or it was silenced)
 *
 * Every due change of a sink goes out in one notification (Alertmanager's grouping). Both
 * halves are written in the flush transaction with the outbox rows, so a crash between a
 * transition and its notification loses nothing and sends nothing twice. Silenced or
 * inhibited firing alerts are kept, not sent; they are sent if still firing when that ends. */
struct lw_notifier;

struct lw_notifier *lw_notifier_new(const struct lw_config *cfg);
void lw_notifier_free(struct lw_notifier *n);

/* A transition from the engine: json is the alert object. */
void lw_notifier_transition(struct lw_notifier *n, const char *json, size_t len, bool firing,
                            int64_t now_ns);
/* Restores one row at start-up. */
void lw_notifier_restore(struct lw_notifier *n, const struct lw_notif_row *row);
/* Silences in force (reloaded by the caller from the store now and then). */
void lw_notifier_set_silences(struct lw_notifier *n, const struct lw_silence_row *rows, size_t cnt);

/* Fills f->outbox and f->notifs with what is due at now; the rows borrow from the notifier
 * until lw_notifier_collect_done (call it after the flush committed; on failure call
 * lw_notifier_collect_abort so the same changes are tried again). */
void lw_notifier_collect(struct lw_notifier *n, int64_t now_ns, struct lw_flush *f);
void lw_notifier_collect_done(struct lw_notifier *n);
void lw_notifier_collect_abort(struct lw_notifier *n);

struct lw_notifier_stats {
    uint64_t sent, silenced, inhibited, suppressed; /* suppressed: flaps never sent */
};
void lw_notifier_stats(const struct lw_notifier *n, struct lw_notifier_stats *out);

/* Silence matchers: "name=value", "name!=value", "name=~regex", "name!~regex" into the JSON the
 * store keeps. 0, or LW_EINVAL with err set. *out is the caller's. */
int lw_silence_matchers_json(char *const *args, size_t n, char **out, struct lw_err *err);
/* Whether a silence's matchers (JSON) match an alert's labels (a JSON object). */
bool lw_silence_matches(const char *matchers_json, const char *labels_json);

#endif
