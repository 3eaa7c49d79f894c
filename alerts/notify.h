/* notify.h: the notifier: turns alert transitions into notifications per sink, with group_wait
 * batching, repeat_interval, flap suppression, silences and inhibition (pipeline thread). */
#ifndef LW_NOTIFY_H
#define LW_NOTIFY_H

#include "matcher.h"
#include "store.h"

/* The notifier's own configuration: app/config.c builds it from the YAML, tests by hand. The
 * notifier borrows it; its owner may change the contents between two calls (a reload that keeps
 * the sinks), never the number of sinks. */
struct lw_notify_route {
    struct lw_matcher *match; /* all must hold (match: =, match_re: =~) */
    size_t nmatch;
    size_t *sinks; /* indices into lw_notify_cfg.sinks */
    size_t nsinks;
    bool cont; /* continue: also try the next routes */
};

/* A firing alert matching source mutes alerts matching target with the same equal labels. */
struct lw_notify_inhibit {
    struct lw_matcher *source, *target;
    size_t nsource, ntarget;
    char **equal;
    size_t nequal;
};

struct lw_notify_sink {
    char *name;        /* the sink's name: outbox and notification rows carry it */
    int64_t resend_ns; /* firing alerts are sent again at least this often (0: repeat_interval) */
};

struct lw_notify_cfg {
    struct lw_notify_route *routes; /* first match wins unless cont; none: every sink */
    size_t nroutes;
    struct lw_notify_inhibit *inhibits;
    size_t ninhibits;
    int64_t group_wait_ns, repeat_interval_ns; /* repeat_interval 0: never */
    bool send_resolved;
    struct lw_notify_sink *sinks;
    size_t nsinks;
};
/* Frees what c holds and empties it. */
void lw_notify_cfg_free(struct lw_notify_cfg *c);

/* Sink indices an alert (its JSON object) goes to; n set; the array is the caller's. */
size_t *lw_route_alert(const struct lw_notify_cfg *c, const char *json, size_t len, size_t *n);

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
 * halves are written in one transaction with the outbox rows, so a crash between a transition
 * and its notification loses nothing and sends nothing twice. Silenced or inhibited firing
 * alerts are kept, not sent; they are sent if still firing when that ends.
 *
 * The daemon commits these rows as soon as something is due (lw_notifier_due), in a small
 * transaction of their own, and the windows and alert states only once a second: after a crash
 * the engine's states may lag what the sinks were told. An alert the engine fires again (the
 * lines since the checkpoint are read again) finds its sink already told "firing": nothing is
 * sent twice; one it does not fire again is resolved by lw_notifier_reconcile's deadline. */
struct lw_notifier;

/* Time is what the caller says it is: every call that needs it takes now_ns (the daemon passes
 * the wall clock, tests a clock of their own). cfg is borrowed (above). */
struct lw_notifier *lw_notifier_new(const struct lw_notify_cfg *cfg);
void lw_notifier_free(struct lw_notifier *n);

/* A transition from the engine: json is the alert object. */
void lw_notifier_transition(struct lw_notifier *n, const char *json, size_t len, bool firing,
                            int64_t now_ns);
/* Restores one row at start-up. */
void lw_notifier_restore(struct lw_notifier *n, const struct lw_notif_row *row);
/* At start-up, after the rows are restored: for each alert the notifier has as firing, fn says
 * whether the engine has it firing too (return 0) or, if not, until when to wait for the engine
 * to fire it again (a time in ns). An alert that is still unconfirmed then is taken as resolved
 * (the sinks that were told it fired are told it resolved); any transition of its fingerprint
 * confirms it. Returns how many are unconfirmed. */
typedef int64_t lw_notifier_hold_fn(const char *fingerprint, const char *alert, void *payload);
size_t lw_notifier_reconcile(struct lw_notifier *n, lw_notifier_hold_fn *fn, void *payload);
/* Whether a transition's group_wait has passed since the last collect: call lw_notifier_collect
 * now (the periodic flush also collects repeats, silences that ended and unconfirmed alerts). */
bool lw_notifier_due(const struct lw_notifier *n, int64_t now_ns);

/* Silences in force (reloaded by the caller from the store now and then). */
void lw_notifier_set_silences(struct lw_notifier *n, const struct lw_silence_row *rows, size_t cnt);

/* Fills f->outbox and f->notifs with what is due at now; the rows borrow from the notifier
 * until lw_notifier_collect_done (call it after the flush committed; on failure call
 * lw_notifier_collect_abort so the same changes are tried again). */
void lw_notifier_collect(struct lw_notifier *n, int64_t now_ns, struct lw_flush *f);
void lw_notifier_collect_done(struct lw_notifier *n);
void lw_notifier_collect_abort(struct lw_notifier *n);

/* Why an alert (its fingerprint, and its labels packed as matcher.h lw_labels_get reads them)
 * is held back now, for the API: fn(true, silence id) for each silence in force that matches
 * it, fn(false, fingerprint) for each firing alert that inhibits it (an inhibition rule may name
 * one twice). */
typedef void lw_mute_fn(bool silence, const char *id, void *payload);
void lw_notifier_mutes(const struct lw_notifier *n, const char *fp, const char *labels,
                       int64_t now_ns, lw_mute_fn *fn, void *payload);

struct lw_notifier_stats {
    uint64_t sent, silenced, inhibited, suppressed; /* suppressed: flaps never sent */
};
void lw_notifier_stats(const struct lw_notifier *n, struct lw_notifier_stats *out);

/* Silence matchers: "name=value", "name!=value", "name=~regex", "name!~regex" into the JSON the
 * store keeps. 0, or LW_EINVAL with err set. *out is the caller's. */
int lw_silence_matchers_json(char *const *args, size_t n, char **out, struct lw_err *err);

#endif
