/* rules.h: the interface of the rules module: loading rule files into an immutable ruleset, and
 * matching records into typed events. */
#ifndef LW_RULES_H
#define LW_RULES_H

#include "lw.h"
#include "lw_record.h"
#include "value.h"

struct lw_expr;
struct lw_tmpl;
struct lw_tz;

/* ---------------------------------------------------------------- the loader's view of inputs */

struct lw_rules_input {
    const char *name;
    const char *type;              /* "file", "syslog"... (for messages) */
    enum lw_body body;             /* its records' body format */
    uint32_t label_mask;           /* bit l: its records can carry label slot l (check) */
    const char *const *label_keys; /* the input's static `labels:` */
    const char *const *label_vals;
    size_t nlabels;
};

struct lw_rules_env {
    const struct lw_rules_input *inputs; /* NULL when checking rule files alone */
    size_t ninputs;
    struct lw_diag *warnings; /* optional (check): "FILE:LINE:COL: warning: ..." that do not
                                 stop the load; NULL: not collected */
};

/* ---------------------------------------------------------------- definitions (read-only) */

struct lw_field {
    char *name;
    enum lw_type type;
    int group;        /* capture group number, or -1 */
    int label;        /* enum lw_label_slot, or -1 */
    int static_label; /* index into the input's static labels by key: see lw_event_def */
    bool decoded;     /* taken from the decoded body (JSON path or logfmt key) */
    bool extra;       /* an extra label of the record's source (label.<key>: lw_rec.extra); when
                         the record has none by that name, decoded says where else to look */
    bool sd;          /* a syslog structured-data parameter, sd.<SD-ID>.<PARAM> (lw_rec.sd, looked
                         up only for events that name one); decoded says where else to look */
};

/* PCRE2 limits of `match:` patterns. A line that needs more backtracking is taken as a
 * non-match, counted in its event's regex_limits and logged once per event. Each bounds one
 * match to about 1.3 ms (JIT) / 2.2 ms (interpreter, where JIT is unavailable: it counts the
 * same steps and takes ~9 times as long a step) on a 2.6 GHz core; without them `(a+)+$` on
 * 30 a's and a b takes 13 ms (JIT) / 110 ms to fail. The depth and heap limits bound the
 * interpreter's memory (JIT ignores them; its stack limit, 32 KiB, counts the same way). A
 * pattern can lower a limit with (*LIMIT_MATCH=n) or (*LIMIT_DEPTH=n), never raise it. */
#define LW_RE_MATCH_LIMIT 1000000
#define LW_RE_MATCH_LIMIT_NOJIT 200000
#define LW_RE_DEPTH_LIMIT 10000
#define LW_RE_HEAP_LIMIT_KIB 8192

struct lw_event_def {
    char *name;
    char *file;
    int line;
    char *pattern;  /* match with %{NAME} expanded; NULL when the event has none */
    void *re;       /* pcre2_code */
    void *md;       /* pcre2_match_data (scratch) */
    void *mctx;     /* pcre2_match_context: the limits (the ruleset's, for JIT or not) */
    bool *on_input; /* per input index; NULL = every input */
    struct lw_field *fields;
    size_t nfields;
    bool decoded_ok;       /* names that are not captures may come from a decoded body */
    bool extra_ok;         /* label.<key> names are extra labels (an input of it sets them) */
    bool sd_ok;            /* sd.<ID>.<PARAM> names are structured data (it reads syslog) */
    struct lw_value *vals; /* scratch, one per field */
    /* The fields in two lists, built once the alerts have added theirs: plain record labels
     * (a slot, nothing else: copied in a tight loop, as every event has one per slot) and the
     * others (captures, decoded, extra and static labels). Indices into fields. */
    uint32_t *plain, *other;
    uint8_t *plain_slot;
    size_t nplain, nother;
    struct lw_expr *where;
    int ts_field; /* field id of the timestamp, or -1 */
    void *tsfmt;  /* struct lw_tsfmt */
    uint64_t matched, conv_errors, ts_errors;
    uint64_t regex_limits; /* lines a PCRE2 limit made non-matches (match:, or where: regex) */
};

/* An alert's kind: what it computes over its window. Each has one row in the loader's table
 * (rules/kinds.c: its name and keys) and one in the evaluator's (alerts/kind_eval.c: its
 * aggregates, value and retention). The order is the one docs and messages list them in. */
enum lw_alert_kind {
    LW_K_COUNT,
    LW_K_RATIO,
    LW_K_QUANTILE,
    LW_K_SUM,
    LW_K_AVG,
    LW_K_MIN,
    LW_K_MAX,
    LW_K_DISTINCT,
    LW_K_ABSENT,
    LW_K_SPIKE,
    LW_K_NKINDS /* not a kind: the number of rows of each table */
};

struct lw_annotation {
    char *key;
    struct lw_tmpl *tmpl;
};

struct lw_alert_def {
    char *name;
    char *file;
    int line, col; /* where its map starts, for messages about the alert as a whole */
    int event;     /* index of its event definition */
    enum lw_alert_kind kind;
    bool above; /* above (true) or below (false) threshold */
    double threshold;
    int64_t min_count;     /* ratio, spike */
    struct lw_expr *where; /* optional filter on the kind */
    struct lw_expr *of;    /* ratio */
    int value_field;       /* sum/avg/min/max/quantile/distinct: field id, else -1 */
    uint64_t agg_sig;      /* hash of where, of and field as written: what buckets hold */
    double q;              /* quantile */
    int64_t window_ns, res_ns, for_ns;
    int64_t keep_firing_for_ns; /* stay firing this long after the condition clears */
    int64_t nbuckets;           /* window / resolution */
    size_t max_groups;
    /* accept_split: true: its groups may be split across the instances of a consumer group
     * (group_by does not hold the input's message key; each instance counts its share): no
     * warning (docs/scale-out.md). */
    bool accept_split;
    char **group_by;  /* field names */
    int *group_field; /* their field ids in the event */
    size_t ngroup;
    char *severity;
    char **label_keys, **label_vals; /* extra labels, sorted by key */
    size_t nlabels;
    struct lw_annotation *annotations;
    size_t nannotations;
};

/* Why a structured body did not decode (logwarden_input_decode_failures_total's reason). */
enum lw_undecoded {
    LW_UNDEC_JSON_SYNTAX,     /* not JSON */
    LW_UNDEC_JSON_NOT_OBJECT, /* JSON, but not an object */
    LW_UNDEC_JSON_TOO_DEEP,   /* nested deeper than the decoder takes */
    LW_UNDEC_LOGFMT,          /* not logfmt (a stray quote, an unterminated value, empty) */
    LW_UNDEC_COUNT
};
extern const char *const lw_undecoded_names[LW_UNDEC_COUNT];
struct lw_ruleset;
/* Records of input i whose body did not decode for reason why (pipeline thread). */
uint64_t lw_ruleset_undecoded(const struct lw_ruleset *rs, size_t input, enum lw_undecoded why);

struct lw_ruleset {
    struct lw_event_def *events;
    size_t nevents;
    struct lw_alert_def *alerts;
    size_t nalerts;
    size_t *alerts_of_event; /* alert indices grouped by event: [off[e], off[e+1]) */
    size_t *alerts_off;
    const struct lw_rules_input *inputs;
    size_t ninputs;
    void *doc;              /* struct lw_doc: the current record's decoded body (scratch) */
    uint64_t decode_errors; /* records whose JSON/logfmt body did not decode */
    /* The same per input (ninputs: others) and reason: [input * LW_UNDEC_COUNT + why]; NULL
     * until the first. */
    uint64_t *undecoded;
    void *index;     /* struct lw_match_index: literals and first bytes, by event */
    void *limits[2]; /* pcre2_match_context: LW_RE_* limits for JIT code, without JIT */
};

/* Loads rule files (paths already expanded from globs) into *out. Every problem in every file
 * goes to diag as FILE:LINE:COL: message; on any error nothing is returned (never half-loaded)
 * and LW_EINVAL is the result. env->inputs (borrowed, must outlive the ruleset) validates
 * `inputs:` references; NULL accepts any name. */
int lw_ruleset_load(struct lw_ruleset **out, const char *const *paths, size_t n,
                    const struct lw_rules_env *env, struct lw_diag *diag);
void lw_ruleset_free(struct lw_ruleset *rs);

/* ---------------------------------------------------------------- matching */

/* An event: one event definition matched one record. Borrowed for the call. */
struct lw_event {
    const struct lw_event_def *def;
    int index;     /* index of def in the ruleset */
    int64_t ts_ns; /* event time */
    const struct lw_value *fields;
};
typedef void lw_event_fn(const struct lw_event *ev, void *payload);

/* Runs every event definition that applies to the record's input and calls emit for each that
 * matches. Uses scratch inside the ruleset: one thread at a time. Returns the number of
 * events emitted. now_ns anchors year inference of timestamps. */
int lw_ruleset_match(struct lw_ruleset *rs, const struct lw_rec *r, int64_t now_ns,
                     lw_event_fn *emit, void *payload);

/* Lines event e's regex did not run on: the prefilter found its literals absent, or the line
 * started with a byte its anchored pattern cannot start with (or the event is for other
 * inputs). */
uint64_t lw_ruleset_skipped(const struct lw_ruleset *rs, size_t e);

/* Carries the counters that outlive a reload (regex_limits, matched, undecoded) from the events of
 * old to the events of rs with the same name, so /metrics counters do not restart. */
void lw_ruleset_carry_counters(struct lw_ruleset *rs, const struct lw_ruleset *old);

/* Evaluates an expression of an alert against an event (for `where` and `of`). */
bool lw_rules_eval(const struct lw_expr *e, const struct lw_event *ev);

#endif
