/* sink.h: the interface of the sinks module: where notifications go (stdout, file, webhook, slack,
 * pagerduty, alertmanager, email, teams, discord, telegram, opsgenie). */
#ifndef LW_SINK_H
#define LW_SINK_H

#include "lw.h"
#include "lw_opts.h"
#include "lw_yaml.h"

struct lw_sink;

/* One request a sink would make for a notification: where to and what. */
struct lw_sink_msg {
    char *url;  /* full URL; may carry a secret (a token in the path): never log it */
    char *body; /* NUL-terminated; len bytes */
    size_t len;
};
struct lw_sink_msgs {
    struct lw_sink_msg *v;
    size_t n, cap;
};
/* Appends a message; url and body are copied. */
void lw_sink_msgs_add(struct lw_sink_msgs *m, const char *url, const char *body, size_t len);
void lw_sink_msgs_free(struct lw_sink_msgs *m);

/* A sink turns a notification (a JSON array of alert objects, exactly as RULES.md's alert
 * object) into its payload and delivers it. deliver is called from the sink's own worker
 * thread and may block (with timeouts); it never logs secrets. */
struct lw_sink_ops {
    const char *type;          /* "stdout", "file", "webhook", "slack", ... */
    const struct lw_opt *opts; /* config keys beyond name and type: the settings in s->conf */
    size_t conf_size;          /* the settings struct opts are read into */
    bool local;                /* writes locally (stdout, file): needs no lw_sinks_global_init */
    /* Runs after opts were read into s->conf (also when that failed: fields may be unset), for
     * what a table cannot say (checks across keys, derived values); errors go to diag at the
     * keys of map. */
    int (*init)(struct lw_sink *s, const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                struct lw_diag *diag);
    /* Delivers one notification. Returns LW_OK (sent), LW_EAGAIN (a temporary failure: retry
     * later; err says why; *retry_after_ns may be set from a Retry-After header) or LW_EINVAL
     * (permanent failure, such as HTTP 400; err says why). */
    int (*deliver)(struct lw_sink *s, const char *alerts_json, size_t len, int64_t *retry_after_ns,
                   struct lw_err *err);
    void (*free)(struct lw_sink *s);
    /* Optional: what deliver would send, without sending it (one message per request, in
     * order). Returns 0, or LW_EINVAL when the notification is malformed (err says why). */
    int (*render)(struct lw_sink *s, const char *alerts_json, size_t len, struct lw_sink_msgs *out,
                  struct lw_err *err);
    /* Firing alerts are sent to it again at least this often, whatever repeat_interval says
     * (0: repeat_interval alone). */
    int64_t resend_ns;
};

struct lw_sink {
    const struct lw_sink_ops *ops;
    char *name;
    void *conf; /* the settings ops->opts read; owned by the registry (lw_sink_new/free) */
    void *ctx;
    /* Set (monotonic ns) when the daemon stops: a request still in flight then is cut short
     * (a temporary failure: the notification stays in the outbox). 0: none. */
    _Atomic int64_t stop_at_ns;
};

const struct lw_sink_ops *lw_sink_find(const char *type);

/* The built-in sinks, in registration order (sinks/CMakeLists.txt): i < lw_sink_count(). */
size_t lw_sink_count(void);
const struct lw_sink_ops *lw_sink_at(size_t i);
/* Appends the registered type names, ", "-separated, for messages. */
void lw_sink_type_names(struct lw_buf *b);

/* Creates a sink from its YAML map (type and name already validated by the caller); relative
 * paths start at dir (the config's folder; NULL: as written). Returns NULL and reports to diag
 * on error. Free with lw_sink_free. */
struct lw_sink *lw_sink_new(const struct lw_sink_ops *ops, const char *name, const char *dir,
                            const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                            struct lw_diag *diag);
void lw_sink_free(struct lw_sink *s);

/* The built-in sinks' ops (extern declarations, LW_SINKS_BUILTIN), generated from the lw_plugin()
 * lines of sinks/CMakeLists.txt. */
#include "lw_sinks_builtin.h"

/* Renders a notification with the sink's renderer (see lw_sink_ops.render). *out is the
 * caller's (free with lw_sink_msgs_free). LW_EINVAL when the sink has none. */
int lw_sink_render(struct lw_sink *s, const char *alerts_json, size_t len, struct lw_sink_msgs *out,
                   struct lw_err *err);

/* Splits a notification (a JSON array of alert objects) into one compact JSON line per alert,
 * appended to out, each ending in '\n'; *n gets the number of alerts. The text of each value is
 * kept as given (numbers are not reformatted), only whitespace outside strings is dropped.
 * Returns 0, or LW_EINVAL when alerts_json is not a JSON array of objects (err says why). */
int lw_sink_json_lines(const char *alerts_json, size_t len, struct lw_buf *out, size_t *n,
                       struct lw_err *err);

/* Must be called once before any thread delivers through a sink that is not `local`
 * (curl_global_init). */
void lw_sinks_global_init(void);
/* Whether any of the sinks needs lw_sinks_global_init. */
bool lw_sinks_need_global_init(struct lw_sink *const *sinks, size_t n);
void lw_sinks_global_cleanup(void);
/* Whether libcurl has been loaded (curl_dl.c: on the first curl call, which only network sinks
 * make; ~6 MB of shared libraries a daemon with only local sinks never maps). */
bool lw_curl_loaded(void);
/* Loads libcurl now: 0, or LW_EIO and err naming the library when it is missing (the caller
 * reports it; a configuration with a network sink asks this first). */
int lw_curl_load(struct lw_err *err);

#endif
