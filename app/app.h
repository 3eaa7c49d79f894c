/* app.h: the app's own interfaces: config, routing, commands. */
#ifndef LW_APP_H
#define LW_APP_H

#include "engine.h"
#include "ingest.h"
#include "lw_tz.h"
#include "lw_yaml.h"
#include "notify.h"
#include "rules.h"
#include "sink.h"

struct lw_cfg_input {
    char *name;
    char *type;
    enum lw_format format;
    char **label_keys, **label_vals;
    size_t nlabels;
    struct lw_input *in;    /* created and validated at load; started by the daemon */
    const struct lw_tz *tz; /* `timezone:` (default the local zone): for times without a zone */
    struct lw_multiline_cfg *multiline; /* `multiline:`, NULL when none; owned */
    int64_t stale_after_ns;             /* `stale_after:`: /health's bound on silence, 0 none */
};

struct lw_config {
    char *path;
    char *dir;         /* the config's folder: relative paths start here */
    char *state;       /* the state file path */
    char **rule_files; /* globs expanded */
    size_t nrule_files;
    struct lw_cfg_input *inputs;
    size_t ninputs;
    struct lw_rules_input *rinputs; /* the rules module's view of inputs */
    struct lw_sink **sinks;
    size_t nsinks;
    struct lw_notify_cfg notify; /* routes, inhibit rules, notify timers, the sinks' names */
    int64_t max_age_ns;          /* notify.max_age: how long delivery is retried */
    char *http_listen;
    /* http: the API's bearer token (a secret, NULL when none), extra Host names the endpoint
     * answers to (a reverse proxy's), and what the token does not guard. */
    char *http_token;
    char **http_hosts;
    size_t nhttp_hosts;
    bool http_public_reads, http_protect_metrics;
    /* explain: the sample lines each group keeps for its explanation and the memory all of them
     * may take (engine.h, lw_engine_explain_opts; docs/operations.md, "Sizing"). */
    size_t explain_lines, explain_memory;
};

/* Whether HOST:PORT's host is a loopback address (127.0.0.0/8, ::1, localhost). */
bool lw_listen_is_loopback(const char *listen);

/* Loads and validates a config file (and creates its inputs and sinks, not yet started).
 * Every problem goes to diag; on error *out is NULL and LW_EINVAL is returned. */
int lw_config_load(struct lw_config **out, const char *path, struct lw_diag *diag);
void lw_config_free(struct lw_config *c);
/* Loads the rules the config names. */
int lw_config_rules(const struct lw_config *c, struct lw_ruleset **out, struct lw_diag *diag);
/* As lw_config_rules, also collecting warnings (check). */
int lw_config_rules_warn(const struct lw_config *c, struct lw_ruleset **out, struct lw_diag *diag,
                         struct lw_diag *warnings);

/* Consumer-group inputs (ops.key_fields: Kafka) share messages among instances by their key:
 * each alert fed by one whose group_by does not hold every key field would be split across
 * instances. Adds one "FILE:LINE:COL: warning: ..." (at the alert) per such alert and input to
 * warnings, unless the alert says accept_split: true; returns how many. Called by
 * lw_config_rules_warn (check, run) and by a reload. */
size_t lw_config_split_warnings(const struct lw_config *c, const struct lw_ruleset *rs,
                                struct lw_diag *warnings);

/* ---------------------------------------------------------------- commands */

int lw_cmd_run(int argc, char **argv);
int lw_cmd_explain(int argc, char **argv);
int lw_cmd_check(int argc, char **argv);
int lw_cmd_replay(int argc, char **argv);
int lw_cmd_status(int argc, char **argv);
int lw_cmd_silence(int argc, char **argv);
int lw_cmd_test(int argc, char **argv);
/* `help input|sink [TYPE]`: the plugins, and a plugin's options from its table. */
int lw_cmd_help(int argc, char **argv);

struct lw_store;
/* Bounds on silences, the same from the API and the command line: whoever can add silences
 * cannot fill the state file or mute everything for ever. */
#define LW_SILENCES_MAX 1000          /* active silences */
#define LW_SILENCE_MATCHERS_MAX 16    /* matchers in one silence */
#define LW_SILENCE_MATCHER_BYTES 1024 /* one matcher, "name=~value" */
#define LW_SILENCE_COMMENT_BYTES 2048 /* comment */
#define LW_SILENCE_AUTHOR_BYTES 256   /* createdBy */
#define LW_SILENCE_DURATION_DAYS 90   /* from now to its end */
/* Adds a silence from matcher strings for dur_ns from now; id gets its UUID. A bound that is
 * exceeded gives LW_EFULL, *limit (when limit is not NULL) set to its name ("silences",
 * "matchers", "matcher_bytes", "comment_bytes", "author_bytes", "duration") and a message
 * saying the bound. */
int lw_silence_create(struct lw_store *st, char *const *matchers, size_t n, int64_t dur_ns,
                      const char *comment, const char *by, char id[37], const char **limit,
                      struct lw_err *err);

#endif
