/* engine.c: the pipeline core: events into windows, the evaluator's state machine per group,
 * and alert objects for every transition.
 *
 * Per group (alert name + group labels), evaluated at every instant n (a multiple of the
 * alert's resolution):
 *
 *              cond, for > 0                 held for `for`
 *   INACTIVE ----------------> PENDING ------------------------> FIRING
 *      ^  |                      |                                 |
 *      |  +------- cond, for == 0 ---------------------------------+ (emit firing)
 *      +---------------- !cond --+                                 |
 *      +-------------------------------- !cond (emit resolved) ----+
 *
 * Replay drives n by the watermark (largest event time); live mode by the wall clock.
 *
 * A group's value changes only when a bucket enters or leaves its window, and its state also
 * when `for` or `keep_firing_for` runs out: each alert keeps a timer wheel of the instants
 * where that happens for each group, so an instant costs nothing for groups that cannot
 * change, however many there are. */
#include "engine.h"

#include "kind_eval.h"
#include "kinds.h"
#include "template.h"
#include "windows.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FUTURE_SLACK_NS (300 * LW_NS_PER_SEC)
/* Live, groups that got events are looked at (eval_early) this often, not after every batch: a
 * busy daemon reads a batch every half millisecond, and a hot group evaluated 2000 times a
 * second cost 8 % of the line path for nothing; 50 ms keeps "within a second" with room. */
#define EARLY_EVERY_NS (50 * LW_NS_PER_SEC / 1000)

/* The groups to evaluate at one instant of the wheel: allocated when the first is scheduled,
 * freed once the instant is evaluated, so an empty instant costs only its pointer. */
struct slot {
    uint32_t n, cap;
    struct lw_wgroup *g[];
};

struct alert_rt {
    const struct lw_alert_def *def;
    const struct lw_kind_eval *kind; /* its kind's row: aggregates, value, retention */
    bool distinct;                   /* LW_AGG_DISTINCT: events add their value's hash */
    struct lw_win *w;
    struct slot **wheel; /* instant n is slot n mod nwheel */
    int64_t nwheel;
    int64_t res_ns, k, span, for_b, keep_b;
    int64_t warmup_n;     /* instants of looking before its kind's value counts */
    int64_t forget_every; /* instants between two looks for groups to forget */
    int64_t done_n;       /* last evaluated instant; INT64_MIN before the first */
    int64_t start_n;      /* the first instant: absent needs a whole window after it */
    int64_t max_b;        /* newest bucket with data */
    /* Reload of a definition whose buckets cannot be kept (lw_engine_carry): none are restored,
     * and restored firing groups do not resolve before hold_n, a whole window of new events. */
    bool fresh;
    int64_t hold_n;
    /* Live mode: groups that got an event in an instant already evaluated, to evaluate again
     * at done_n at the end of the batch (lw_engine_tick), once each. */
    struct lw_wgroup **redo;
    size_t nredo, capredo;
    /* Inactive groups that got an event in the open bucket, for eval_early (st.early set). */
    struct lw_wgroup **early;
    size_t nearly, capearly;
    /* lw_engine_partial: a below condition (absent is one) cannot become true before this
     * instant; 0: no hold. */
    int64_t partial_n;
};

/* eval_n of a group in its alert's redo list: no instant is INT64_MIN. */
#define REDO_MARK INT64_MIN

struct lw_engine {
    struct lw_ruleset *rs;
    enum lw_engine_mode mode;
    lw_alert_out_fn *out;
    void *payload;
    struct alert_rt *alerts;
    size_t nalerts;
    int64_t wm_ns;    /* replay: the watermark */
    int64_t now_ns;   /* live: the latest wall clock seen */
    int64_t early_ns; /* live: when run_early last ran */
    struct lw_engine_stats st;
    uint64_t *late_by_input;
    size_t ninputs;
    const struct lw_rec *cur; /* the record being matched */
    struct lw_buf key, json;
    /* collect() output, valid until collect_done() */
    struct lw_state_row *srows;
    char (*fps)[17];
    size_t ns, caps;
    struct lw_wgroup **clean; /* groups whose state rows were collected (NULL: a gone one) */
    /* Shards (lw_engine_shards): the current record's shard and whether it is quiet, the quiet
     * shards, the shards forgotten since the last collect_done, and the state rows of the groups
     * forgotten with them (deleted by the next collect: an INACTIVE row). */
    bool sharded, cur_quiet;
    uint32_t cur_shard;
    uint32_t *quiet, *forgot;
    size_t nquiet, capquiet, nforgot, capforgot;
    struct gone {
        const char *alert; /* the definition's name: lives as long as the engine */
        char fp[17];
    } * gone;
    size_t ngone, capgone;
    /* The explanation (lw_engine_explain_opts): per group, a struct xring of up to xsize
     * bytes (what the budget counts per ring). */
    size_t xlines, xsize, xbudget;
    int64_t xlogged_ns; /* when a group without a ring was last logged */
    int64_t hlogged_ns; /* when a transition without history or explanation was last logged */
    /* Transitions since the last collect_done, for the state file's history (live mode). */
    struct lw_history_row *hist;
    char (*hfps)[17];
    size_t nhist, caphist;
};

/* A group's explanation, one allocation: the series first, then the samples, so that a group
 * with a few lines touches one page of it. */
struct xpoint {
    int64_t n; /* the instant */
    double v;  /* NaN: no value to compare */
};
struct xsample {
    int64_t ts_ns;
    uint32_t input;
    uint16_t len;  /* bytes kept */
    uint16_t full; /* the line was longer: cut at LW_SAMPLE_BYTES */
    char line[LW_SAMPLE_BYTES];
};
struct xring {
    uint32_t npt, ptail, pcap; /* points held; the next one's slot; slots */
    uint32_t ns, stail, scap;  /* samples held; the next one's slot; slots */
    struct xpoint pt[];        /* pcap points, then scap samples (xs) */
};

/* Both parts start small and double until full (LW_SERIES_POINTS points, sample_lines
 * samples): a group that sees a line or two (most of a long tail) holds a few hundred bytes,
 * and a busy one reallocates four times in its life, never per line. */
#define XPOINTS0 4
#define XSAMPLES0 2

static inline struct xsample *xs(const struct xring *x)
{
    return (struct xsample *)(void *)((char *)x + sizeof *x + x->pcap * sizeof(struct xpoint));
}

static size_t xring_size(uint32_t pcap, uint32_t scap)
{
    return sizeof(struct xring) + pcap * sizeof(struct xpoint) + scap * sizeof(struct xsample);
}

static inline int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static inline int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ---------------------------------------------------------------- the explanation */

void lw_engine_explain_opts(struct lw_engine *e, size_t sample_lines, size_t memory_bytes)
{
    if (sample_lines > 1000)
        sample_lines = 1000;
    e->xlines = sample_lines;
    e->xsize = memory_bytes ? xring_size(LW_SERIES_POINTS, (uint32_t)sample_lines) : 0;
    e->xbudget = memory_bytes;
}

/* At a group's first event: its ring, if the budget allows (else counted and logged). */
static void ring_new(struct lw_engine *e, const struct alert_rt *ar, struct lw_wgroup *g)
{
    g->st.noring = true; /* looked at once */
    if (e->st.ring_bytes + e->xsize > e->xbudget) {
        e->st.no_ring++;
        int64_t now = lw_mono_ns();
        if (now - e->xlogged_ns >= 60 * LW_NS_PER_SEC) {
            e->xlogged_ns = now;
            lw_log(LW_WARN,
                   "alert %s: explain.memory (%zu bytes) is spent: new groups keep no sample "
                   "lines or series (%llu so far, logwarden_explain_no_ring_total)",
                   ar->def->name, e->xbudget, (unsigned long long)e->st.no_ring);
        }
        return;
    }
    uint32_t scap = e->xlines < XSAMPLES0 ? (uint32_t)e->xlines : XSAMPLES0;
    struct xring *x = lw_malloc(xring_size(XPOINTS0, scap));
    *x = (struct xring){.pcap = XPOINTS0, .scap = scap};
    g->st.x = x;
    e->st.ring_bytes += e->xsize;
    e->st.rings++;
}

static void ring_free(struct lw_engine *e, struct lw_wgroup *g)
{
    if (!g->st.x)
        return;
    free(g->st.x);
    g->st.x = NULL;
    e->st.ring_bytes -= e->xsize;
    e->st.rings--;
}

/* The hot path's share: a bounded copy into the group's next slot. */
static inline void ring_sample(struct lw_engine *e, struct lw_wgroup *g, int64_t ts)
{
    struct xring *x = g->st.x;
    if (!e->xlines || !e->cur)
        return;
    if (x->ns == x->scap && x->scap < e->xlines) {
        /* Full before its size: twice as many slots, appended after the ones in order. */
        uint32_t cap = x->scap * 2 < e->xlines ? x->scap * 2 : (uint32_t)e->xlines;
        x = g->st.x = lw_realloc(x, xring_size(x->pcap, cap));
        x->stail = x->ns;
        x->scap = cap;
    }
    struct xsample *sl = &xs(x)[x->stail];
    size_t len = e->cur->body.n;
    sl->full = len > LW_SAMPLE_BYTES;
    if (len > LW_SAMPLE_BYTES)
        len = LW_SAMPLE_BYTES;
    memcpy(sl->line, e->cur->body.p, len);
    sl->len = (uint16_t)len;
    sl->ts_ns = ts;
    sl->input = e->cur->input;
    x->stail = x->stail + 1 == x->scap ? 0 : x->stail + 1;
    if (x->ns < x->scap)
        x->ns++;
}

static void ring_point(struct lw_wgroup *g, int64_t n, bool valid, double v)
{
    struct xring *x = g->st.x;
    if (!valid)
        v = NAN;
    if (x->npt) {
        struct xpoint *last = &x->pt[(x->ptail + x->pcap - 1) % x->pcap];
        bool same = isnan(v) ? isnan(last->v) : last->v == v;
        if (last->n == n) { /* evaluated again (redo, early): the latest value of the instant */
            last->v = v;
            return;
        }
        if (same)
            return;
    }
    if (x->npt == x->pcap && x->pcap < LW_SERIES_POINTS) {
        /* The samples follow the points: they move up. */
        uint32_t cap = x->pcap * 2;
        x = g->st.x = lw_realloc(x, xring_size(cap, x->scap));
        memmove((char *)x + xring_size(cap, 0), (char *)x + xring_size(x->pcap, 0),
                x->scap * sizeof(struct xsample));
        x->ptail = x->npt;
        x->pcap = cap;
    }
    x->pt[x->ptail] = (struct xpoint){n, v};
    x->ptail = x->ptail + 1 == x->pcap ? 0 : x->ptail + 1;
    if (x->npt < x->pcap)
        x->npt++;
}

static const char *const state_names[] = {"inactive", "pending", "firing"};

static void explain_raw(struct lw_engine *e, const struct alert_rt *ar, const struct lw_wgroup *g,
                        const char *state, int64_t t_ns, struct lw_buf *b);

/* fp: compute the fingerprint (a JSON parse of the key: not for every group of a big alert). */
static void view_of(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g,
                    struct lw_group_view *v, bool fp)
{
    *v = (struct lw_group_view){
        (size_t)(ar - e->alerts), ar->def,        g->key,      {0}, g->st.state,
        g->st.active_since_ns,    g->st.fired_ns, g->st.value, g};
    lw_fingerprint(ar->def->name, g->key, v->fingerprint);
}

/* Once a minute at most: what the explanation could not keep. */
static void lose_log(struct lw_engine *e, const char *what)
{
    int64_t now = lw_mono_ns();
    if (now - e->hlogged_ns < 60 * LW_NS_PER_SEC)
        return;
    e->hlogged_ns = now;
    lw_log(LW_WARN, "%llu %s", (unsigned long long)(e->st.history_dropped + e->st.explain_skipped),
           what);
}

/* A transition, for the state file's history (live): what explained it goes with it. */
static void history(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g,
                    const char *state, int64_t t)
{
    if (e->mode != LW_MODE_LIVE)
        return;
    if (e->nhist >= LW_HISTORY_MAX) {
        e->st.history_dropped++;
        lose_log(e, "transitions not kept in the state file's history (its flushes fail: see "
                    "the log; logwarden_explain_history_dropped_total)");
        return;
    }
    if (e->nhist == e->caphist) {
        e->caphist = e->caphist ? e->caphist * 2 : 16;
        e->hist = lw_realloc(e->hist, e->caphist * sizeof *e->hist);
        e->hfps = lw_realloc(e->hfps, e->caphist * sizeof *e->hfps);
        for (size_t i = 0; i < e->nhist; i++)
            e->hist[i].fingerprint = e->hfps[i];
    }
    struct lw_group_view v;
    view_of(e, ar, g, &v, true);
    /* A burst of transitions (thousands of addresses at once) keeps the history of each, and
     * the explanation (some kilobytes) of the first LW_EXPLAIN_PER_FLUSH of them. */
    char *body = NULL;
    if (e->nhist < LW_EXPLAIN_PER_FLUSH) {
        struct lw_buf b = {0};
        explain_raw(e, ar, g, state ? state : state_names[g->st.state], t, &b);
        body = lw_buf_steal(&b);
    } else {
        e->st.explain_skipped++;
        lose_log(e, "transitions kept without their explanation (more than 256 in one flush; "
                    "logwarden_explain_skipped_total)");
    }
    memcpy(e->hfps[e->nhist], v.fingerprint, 17);
    e->hist[e->nhist] = (struct lw_history_row){lw_strdup(ar->def->name),
                                                e->hfps[e->nhist],
                                                lw_strdup(g->key),
                                                state,
                                                t,
                                                g->st.value,
                                                body};
    e->nhist++;
}

static void history_free(struct lw_engine *e)
{
    for (size_t i = 0; i < e->nhist; i++) {
        free((char *)e->hist[i].alert);
        free((char *)e->hist[i].group);
        free((char *)e->hist[i].explain);
    }
    e->nhist = 0;
}

/* ---------------------------------------------------------------- alert objects */

struct pair {
    const char *k, *v;
};

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const struct pair *)a)->k, ((const struct pair *)b)->k);
}

static void fingerprint_of(const char *alert, struct pair *pairs, size_t n, char out[17])
{
    uint64_t h = lw_hash64(alert, strlen(alert) + 1, LW_HASH_SEED);
    qsort(pairs, n, sizeof *pairs, cmp_pair);
    for (size_t i = 0; i < n; i++) {
        h = lw_hash64(pairs[i].k, strlen(pairs[i].k) + 1, h);
        h = lw_hash64(pairs[i].v, strlen(pairs[i].v) + 1, h);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The engine's own keys ({"k":"v",...} as add_event writes them, no escapes) without a JSON
 * parse, which was most of a fingerprint's cost (the API looks groups up by theirs, the flush
 * writes one per changed state). false: not such a key (escapes, spaces, duplicate names):
 * the parser's turn, which gives the same fingerprint for the same labels. */
static bool fingerprint_fast(const char *alert, const char *key, char out[17])
{
    char buf[2048];
    struct pair pairs[64];
    size_t n = 0, len = strlen(key);
    if (len < 2 || len >= sizeof buf || key[0] != '{' || key[len - 1] != '}' ||
        memchr(key, '\\', len))
        return false;
    memcpy(buf, key, len + 1);
    char *p = buf + 1, *end = buf + len - 1;
    while (p < end) {
        if (n == 64 || *p != '"')
            return false;
        char *k = ++p;
        if (!(p = strchr(p, '"')) || p >= end)
            return false;
        *p++ = '\0';
        if (*p++ != ':' || *p != '"')
            return false;
        char *v = ++p;
        if (!(p = strchr(p, '"')) || p >= end)
            return false;
        *p++ = '\0';
        pairs[n++] = (struct pair){k, v};
        if (p < end && *p++ != ',')
            return false;
    }
    qsort(pairs, n, sizeof *pairs, cmp_pair);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(pairs[i - 1].k, pairs[i].k))
            return false; /* the parser keeps the last value of a name */
    fingerprint_of(alert, pairs, n, out);
    return true;
}

void lw_fingerprint(const char *alert, const char *group_json, char out[17])
{
    struct pair pairs[64];
    size_t n = 0;
    if (fingerprint_fast(alert, group_json, out))
        return;
    json_t *obj = json_loads(group_json, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (n < 64 && json_is_string(v))
            pairs[n++] = (struct pair){k, json_string_value(v)};
    }
    fingerprint_of(alert, pairs, n, out);
    json_decref(obj);
}

struct lookup_ctx {
    struct pair *pairs;
    size_t n;
    const char *window;
};

static int tmpl_lookup(const char *name, size_t n, struct lw_str *out, void *payload)
{
    struct lookup_ctx *c = payload;
    if (n == 6 && memcmp(name, "window", 6) == 0) {
        *out = lw_str_c(c->window);
        return 0;
    }
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->pairs[i].k) == n && memcmp(c->pairs[i].k, name, n) == 0) {
            *out = lw_str_c(c->pairs[i].v);
            return 0;
        }
    return -1;
}

static void put_number(struct lw_buf *b, double v)
{
    char num[64];
    if (!isfinite(v)) /* group_value saturates or skips these: never null */
        v = isnan(v) ? 0 : v > 0 ? DBL_MAX : -DBL_MAX;
    lw_fmt_number(v, num, sizeof num);
    lw_buf_puts(b, num);
}

/* The alert object of g into b: status "firing", "resolved" (ending at t_ns) or "pending". */
static void render(const struct alert_rt *ar, const struct lw_wgroup *g, const char *status,
                   int64_t t_ns, struct lw_buf *b)
{
    const struct lw_alert_def *a = ar->def;
    struct pair pairs[80];
    size_t n = 0;
    char fp[17], ts[40], win[32];
    bool firing = strcmp(status, "resolved") != 0;
    json_t *grp = json_loadb(g->key, g->keylen, 0, NULL);
    const char *k;
    json_t *v;

    pairs[n++] = (struct pair){"alert", a->name};
    pairs[n++] = (struct pair){"severity", a->severity};
    json_object_foreach(grp, k, v)
    {
        if (n < 64 && json_is_string(v))
            pairs[n++] = (struct pair){k, json_string_value(v)};
    }
    for (size_t i = 0; i < a->nlabels && n < 80; i++)
        pairs[n++] = (struct pair){a->label_keys[i], a->label_vals[i]};
    qsort(pairs, n, sizeof *pairs, cmp_pair);
    lw_fingerprint(a->name, g->key, fp);
    lw_fmt_duration(a->window_ns, win, sizeof win);

    lw_buf_reset(b);
    lw_buf_puts(b, "{\"status\":");
    lw_buf_json_str(b, status, strlen(status));
    lw_buf_puts(b, ",\"alert\":");
    lw_buf_json_str(b, a->name, strlen(a->name));
    lw_buf_printf(b, ",\"fingerprint\":\"%s\",\"labels\":{", fp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            lw_buf_putc(b, ',');
        lw_buf_json_str(b, pairs[i].k, strlen(pairs[i].k));
        lw_buf_putc(b, ':');
        lw_buf_json_str(b, pairs[i].v, strlen(pairs[i].v));
    }
    lw_buf_puts(b, "},\"annotations\":{");
    struct lookup_ctx lc = {pairs, n, win};
    struct lw_buf text = {0};
    for (size_t i = 0; i < a->nannotations; i++) {
        if (i)
            lw_buf_putc(b, ',');
        lw_buf_json_str(b, a->annotations[i].key, strlen(a->annotations[i].key));
        lw_buf_putc(b, ':');
        lw_buf_reset(&text);
        lw_tmpl_render(a->annotations[i].tmpl, g->st.value, tmpl_lookup, &lc, &text);
        lw_buf_json_str(b, text.p ? text.p : "", text.len);
    }
    lw_buf_free(&text);
    lw_buf_puts(b, "},\"value\":");
    put_number(b, g->st.value);
    lw_fmt_rfc3339(g->st.state == LW_PENDING ? g->st.active_since_ns : g->st.fired_ns, ts,
                   sizeof ts);
    lw_buf_printf(b, ",\"starts_at\":\"%s\",\"ends_at\":", ts);
    if (firing) {
        lw_buf_puts(b, "null");
    } else {
        lw_fmt_rfc3339(t_ns, ts, sizeof ts);
        lw_buf_printf(b, "\"%s\"", ts);
    }
    lw_buf_puts(b, ",\"window\":");
    lw_buf_json_str(b, win, strlen(win));
    lw_buf_puts(b, ",\"generator\":\"logwarden\"}");
    json_decref(grp);
}

static void emit(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g, bool firing,
                 int64_t t_ns)
{
    struct lw_buf *b = &e->json;
    render(ar, g, firing ? "firing" : "resolved", t_ns, b);
    e->st.transitions++;
    if (e->out)
        e->out(ar->def, b->p, b->len, firing, e->payload);
}

/* ---------------------------------------------------------------- evaluation */

static inline size_t slot_of(const struct alert_rt *ar, int64_t n)
{
    return (size_t)(n % ar->nwheel + ar->nwheel) % (size_t)ar->nwheel;
}

/* Evaluates g at instant n (or, if n has passed, at the next one). Every instant scheduled is
 * within nwheel of the last evaluated one, so slots never hold two instants at once. */
static void schedule(struct alert_rt *ar, struct lw_wgroup *g, int64_t n)
{
    if (n <= ar->done_n)
        n = ar->done_n + 1;
    if (n - ar->done_n >= ar->nwheel)
        n = ar->done_n + ar->nwheel - 1; /* cannot happen; earlier is always safe for state */
    struct slot **sp = &ar->wheel[slot_of(ar, n)], *s = *sp;
    if (!s || s->n == s->cap) {
        uint32_t cap = s ? s->cap * 2 : 8;
        s = lw_realloc(s, sizeof *s + cap * sizeof *s->g);
        if (!*sp)
            s->n = 0;
        s->cap = cap;
        *sp = s;
    }
    s->g[s->n++] = g;
    if (n > g->st.sched_max)
        g->st.sched_max = n;
}

/* The instant `for` or keep_firing_for ends: every evaluation in between asks for it again
 * (live, each batch re-evaluates the current second), so it is scheduled once. */
static void schedule_state(struct alert_rt *ar, struct lw_wgroup *g, int64_t n)
{
    if (n <= ar->done_n)
        n = ar->done_n + 1;
    if (g->st.timer_n == n)
        return;
    g->st.timer_n = n;
    schedule(ar, g, n);
}

/* The departures of a group's buckets from its windows are one chain of timers per window
 * (not a timer per bucket, which would hold every group's every bucket in the wheel): a
 * departure at n schedules the next one, the oldest bucket after n - window. c: 0 for the
 * window, 1 for spike's previous one. */
static void expire_at(struct alert_rt *ar, struct lw_wgroup *g, int c, int64_t n)
{
    int64_t p = g->st.exp_n[c];
    if (p != 0 && p > ar->done_n && p <= n)
        return; /* an earlier departure is pending: the chain reaches n */
    schedule(ar, g, n);
    g->st.exp_n[c] = n;
}

static void expire_next(struct alert_rt *ar, struct lw_wgroup *g, int64_t n)
{
    for (int c = 0; c < ar->span && c < 2; c++) {
        if (g->st.exp_n[c] != n)
            continue;
        int64_t w = (c + 1) * ar->k;
        int64_t b = lw_win_next_bucket(ar->w, g, n - w);
        g->st.exp_n[c] = 0;
        if (b != INT64_MAX)
            expire_at(ar, g, c, b + w);
    }
}

/* The alert's value for g over the window ending at instant n, and whether it can be compared
 * at all (ratio below min_count, an empty avg, absent before a whole window has passed). */
static bool group_value(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g, int64_t n,
                        double *out)
{
    struct lw_agg ag, prev;
    double v;

    lw_win_agg(ar->w, g, n, 0, &ag);
    if (ar->span > 1)
        lw_win_agg(ar->w, g, n, 1, &prev);
    bool valid = ar->kind->value(ar->def, &ag, ar->span > 1 ? &prev : NULL, &v);
    /* absent and spike say nothing until they have looked for a whole window (two). */
    if (valid && ar->warmup_n > 0 && n - ar->start_n < ar->warmup_n)
        valid = false;
    if (valid && !isfinite(v)) {
        /* Sums past the largest double (1e308 + 1e308) saturate at it, as a counter would;
         * NaN (inf - inf in a running sum) compares with nothing: no evaluation. Either way
         * the alert object carries a number, never null. */
        e->st.nonfinite++;
        if (isnan(v))
            valid = false;
        else
            v = v > 0 ? DBL_MAX : -DBL_MAX;
    }
    *out = v;
    return valid;
}

static bool holds(const struct lw_alert_def *a, double v)
{
    return a->above ? v > a->threshold : v < a->threshold;
}

/* The condition became true at t: pending, or firing at once without `for`. */
static void activate(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g, int64_t t)
{
    struct lw_gstate *s = &g->st;
    s->active_since_ns = t;
    s->state = LW_PENDING;
    s->dirty = e->mode == LW_MODE_LIVE; /* a change waits for the store's flush only live */
    if (ar->def->for_ns == 0) {
        s->state = LW_FIRING;
        s->fired_ns = t;
        emit(e, ar, g, true, t);
        history(e, ar, g, "firing", t);
    } else {
        history(e, ar, g, "pending", t);
        schedule_state(ar, g, ceil_div(t + ar->def->for_ns, ar->res_ns));
    }
}

static void eval_group(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g, int64_t n)
{
    expire_next(ar, g, n);
    if (g->st.eval_n == n)
        return; /* scheduled twice for the same instant */
    g->st.eval_n = n;
    if (g->st.held)
        return; /* a quiet shard's history: looked at once the shard is live */
    const struct lw_alert_def *a = ar->def;
    struct lw_gstate *s = &g->st;
    int64_t t = n * ar->res_ns;
    double v;
    bool valid = group_value(e, ar, g, n, &v);
    bool cond = valid && holds(a, v);
    bool unflushed = e->mode == LW_MODE_LIVE;
    if (s->x)
        ring_point(g, n, valid, v);
    if (cond && n < ar->partial_n && s->state != LW_FIRING) {
        /* A window cut by retention may miss the events that make it false: wait for a whole
         * window seen live, then look again. */
        cond = false;
        if (s->sched_max < ar->partial_n)
            schedule(ar, g, ar->partial_n);
    }

    if (cond) {
        s->value = v;
        s->false_since_ns = 0;
        if (s->state == LW_INACTIVE) {
            activate(e, ar, g, t);
        } else if (s->state == LW_PENDING && t - s->active_since_ns >= a->for_ns) {
            s->state = LW_FIRING;
            s->fired_ns = t;
            s->dirty = unflushed;
            emit(e, ar, g, true, t);
            history(e, ar, g, "firing", t);
        } else if (s->state == LW_PENDING) {
            schedule_state(ar, g, ceil_div(s->active_since_ns + a->for_ns, ar->res_ns));
        }
        return;
    }
    if (s->state != LW_FIRING) {
        s->value = v;
        if (s->state == LW_PENDING) {
            s->state = LW_INACTIVE;
            s->dirty = unflushed;
            history(e, ar, g, "inactive", t);
        }
        return;
    }
    if (n < ar->hold_n) {
        schedule_state(ar, g, ar->hold_n); /* no verdict on a window the reload emptied */
        return;
    }
    /* keep_firing_for counts from the first evaluation that found the condition false, as
     * Prometheus does: a dip from 10 s with 30 s resolves at 40 s. Evaluations happen at every
     * instant the value can change, so the first false one is the start of the dip. */
    if (a->keep_firing_for_ns > 0) {
        if (s->false_since_ns == 0)
            s->false_since_ns = t;
        if (t - s->false_since_ns < a->keep_firing_for_ns) {
            schedule_state(ar, g, ceil_div(s->false_since_ns + a->keep_firing_for_ns, ar->res_ns));
            return;
        }
    }
    /* The resolved object repeats the last firing evaluation's value (s->value is left as it
     * was), so its annotations say what the firing one said. */
    emit(e, ar, g, false, t);
    s->state = LW_INACTIVE;
    s->false_since_ns = 0;
    s->dirty = unflushed;
    history(e, ar, g, "resolved", t);
}

/* An event in the bucket still being filled (instant done_n + 1) can make a condition true
 * long before that bucket closes (288 s for a 1d window): such groups are looked at once per
 * second of the clock (live: at the end of each batch too) over the window ending at that
 * bucket, at t, the clock's second rounded up (never after the bucket's own instant, so with
 * 1 s buckets this is exactly the edge evaluation). Only a condition made true counts here:
 * what changes because time passes (leaving the window, for, resolving) waits for the edge. */
static void eval_early(struct lw_engine *e, struct alert_rt *ar, struct lw_wgroup *g, int64_t t)
{
    g->st.early = false;
    if (g->st.state != LW_INACTIVE || g->st.held || ar->done_n + 1 < ar->partial_n)
        return;
    double v;
    bool valid = group_value(e, ar, g, ar->done_n + 1, &v);
    if (g->st.x)
        ring_point(g, ar->done_n + 1, valid, v);
    if (valid && holds(ar->def, v)) {
        g->st.value = v;
        g->st.false_since_ns = 0;
        activate(e, ar, g, t);
    }
}

static void run_early(struct lw_engine *e, int64_t clock_ns)
{
    /* Whole seconds, as at bucket edges. Replay: the second the events' 1 s bucket closes (a
     * 5m window's edge evaluation, unchanged); live: the second the batch was read, so that
     * starts_at is never ahead of the clock that group_wait and `for` run on. */
    int64_t t = (e->mode == LW_MODE_LIVE ? floor_div(clock_ns, LW_NS_PER_SEC)
                                         : ceil_div(clock_ns, LW_NS_PER_SEC)) *
                LW_NS_PER_SEC;
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        int64_t edge = (ar->done_n + 1) * ar->res_ns;
        for (size_t j = 0; j < ar->nearly; j++)
            eval_early(e, ar, ar->early[j], t < edge ? t : edge);
        ar->nearly = 0;
    }
}

/* Forgets groups with nothing to remember. RULES.md forgets a group after two windows without
 * events; one that holds no bucket any window can reach, is inactive and has nothing
 * unflushed or scheduled is indistinguishable from a group never seen, so it goes as soon as
 * its last bucket has left (absent remembers the groups it has seen: two windows). A group
 * whose last change is not flushed yet stays until the store has it, one queued for
 * eval_early until it has been looked at. */
static void forget_idle(struct lw_engine *e, struct alert_rt *ar, int64_t n)
{
    if (ar->def->ngroup == 0)
        return;
    int64_t idle = ar->kind->idle_windows * ar->k;
    for (size_t i = lw_win_count(ar->w); i-- > 0;) {
        struct lw_wgroup *g = lw_win_at(ar->w, i);
        if (g->st.state == LW_INACTIVE && !g->st.dirty && g->st.eval_n != REDO_MARK &&
            !g->st.early && !g->st.held && g->last_bucket <= n - idle && g->st.sched_max <= n) {
            ring_free(e, g);
            lw_win_drop(ar->w, g);
        }
    }
}

/* The first instant: absent and spike need a whole window (two for spike) of looking. */
static void start_at(struct alert_rt *ar, int64_t n)
{
    ar->done_n = ar->start_n = n;
    for (size_t i = 0; i < lw_win_count(ar->w); i++) {
        struct lw_wgroup *g = lw_win_at(ar->w, i);
        schedule(ar, g, n + 1);
        schedule(ar, g, n + ar->k);
        if (ar->span > 1)
            schedule(ar, g, n + 2 * ar->k);
    }
}

/* Evaluates the instants in (done_n, to] at which some group can change (the wheel). */
static void advance(struct lw_engine *e, struct alert_rt *ar, int64_t to)
{
    if (ar->done_n == INT64_MIN) {
        start_at(ar, to);
        return;
    }
    if (to <= ar->done_n)
        return;
    /* Nothing is scheduled further than the wheel: a longer jump skips empty slots. */
    int64_t last = to - ar->done_n > ar->nwheel ? ar->done_n + ar->nwheel : to;
    for (int64_t n = ar->done_n + 1; n <= last; n++) {
        struct slot **sp = &ar->wheel[slot_of(ar, n)];
        ar->done_n = n - 1; /* schedule() during evaluation counts from here */
        /* *sp is read again each time: an evaluation can schedule into this very slot. */
        for (size_t i = 0; *sp && i < (*sp)->n; i++)
            eval_group(e, ar, (*sp)->g[i], n);
        /* A slot is used once per turn of the wheel: holding every slot's array between turns
         * (a few groups each, for a hundred alerts) was most of the daemon's memory, and
         * growing one again next turn is a few reallocs. */
        free(*sp);
        *sp = NULL;
        if (n % ar->forget_every == 0)
            forget_idle(e, ar, n);
    }
    ar->done_n = to;
    if (to > last)
        forget_idle(e, ar, to);
}

/* ---------------------------------------------------------------- events */

/* Whether an event can have made g's condition true: a cheap bound first, since most groups
 * of a count or ratio alert are nowhere near it (one client among thousands). */
static inline bool may_hold(const struct alert_rt *ar, const struct lw_wgroup *g)
{
    return lw_kind_may_hold(ar->kind, ar->def, lw_win_held_count(g));
}

/* What a distinct alert counts of a value of any type: its text (numbers from JSON printed). */
static uint64_t distinct_hash(const struct lw_value *fv)
{
    char num[64];
    if (fv->s.p)
        return lw_hash64(fv->s.p, fv->s.n, LW_HASH_SEED);
    if (fv->kind == LW_V_INT)
        snprintf(num, sizeof num, "%lld", (long long)fv->i);
    else if (fv->kind == LW_V_BOOL)
        snprintf(num, sizeof num, "%s", fv->b ? "true" : "false");
    else
        lw_fmt_number(fv->f, num, sizeof num);
    return lw_hash64(num, strlen(num), LW_HASH_SEED);
}

/* Returns false when the event is late for this alert. */
static bool add_event(struct lw_engine *e, struct alert_rt *ar, const struct lw_event *ev,
                      int64_t ts)
{
    const struct lw_alert_def *a = ar->def;
    struct lw_buf *key = &e->key;
    double val = 0;
    bool matched = false;

    if (a->where && !lw_rules_eval(a->where, ev))
        return true;
    if (ar->distinct) {
        if (ev->fields[a->value_field].kind == LW_V_NONE)
            return true; /* its hash is taken once the event is in a bucket (distinct_hash) */
    } else if (a->value_field >= 0) {
        const struct lw_value *fv = &ev->fields[a->value_field];
        if (fv->kind != LW_V_INT && fv->kind != LW_V_FLOAT)
            return true; /* no value to aggregate */
        val = lw_value_num(fv);
        if (!isfinite(val)) {
            /* "1e999" or "inf" would poison the window's running sums until they empty. */
            e->st.nonfinite++;
            return true;
        }
    }
    if (a->of)
        matched = lw_rules_eval(a->of, ev);

    int64_t b = ceil_div(ts, ar->res_ns);
    if (e->mode == LW_MODE_LIVE) {
        int64_t cur = floor_div(e->now_ns, ar->res_ns);
        if (b > cur + 1)
            b = cur + 1;
    }
    int64_t now_b = ar->done_n == INT64_MIN ? b - 1 : ar->done_n;
    /* Late: decided before the group is looked up, so that it does not create one. */
    if (lw_win_late(ar->w, b, now_b))
        return false;
    lw_buf_reset(key);
    lw_buf_putc(key, '{');
    for (size_t i = 0; i < a->ngroup; i++) {
        const struct lw_value *gv = &ev->fields[a->group_field[i]];
        char num[64];
        if (i)
            lw_buf_putc(key, ',');
        lw_buf_json_str(key, a->group_by[i], strlen(a->group_by[i]));
        lw_buf_putc(key, ':');
        if (gv->kind == LW_V_INT) {
            snprintf(num, sizeof num, "%lld", (long long)gv->i);
            lw_buf_json_str(key, num, strlen(num));
        } else if (gv->kind == LW_V_NONE) {
            lw_buf_json_str(key, "", 0);
        } else if (gv->kind == LW_V_BOOL) {
            lw_buf_json_str(key, gv->b ? "true" : "false", gv->b ? 4 : 5);
        } else if (gv->kind == LW_V_FLOAT && (gv->s.p == NULL)) {
            lw_fmt_number(gv->f, num, sizeof num);
            lw_buf_json_str(key, num, strlen(num));
        } else {
            lw_buf_json_str(key, gv->s.p, gv->s.n);
        }
    }
    lw_buf_putc(key, '}');
    struct lw_wgroup *g = lw_win_group(ar->w, key->p, key->len);
    if (!g) {
        e->st.overflow++;
        return true;
    }
    if (lw_win_add(ar->w, g, b, e->cur_shard, now_b, matched, val) < 0) {
        return false;
    }
    if (e->xsize) { /* live only: replay and test keep no explanation, and pay one test */
        if (!g->st.x && !g->st.noring)
            ring_new(e, ar, g);
        if (g->st.x)
            ring_sample(e, g, ts);
    }
    if (b > ar->max_b)
        ar->max_b = b;
    if (ar->distinct)
        lw_win_add_distinct(ar->w, g, distinct_hash(&ev->fields[a->value_field]), b, e->cur_shard);
    if (g->st.sched_b != b) {
        /* The bucket changes the windows ending at b, and again when it leaves them. */
        g->st.sched_b = b;
        schedule(ar, g, b);
        expire_at(ar, g, 0, b + ar->k);
        if (ar->span > 1)
            expire_at(ar, g, 1, b + 2 * ar->k);
    } else if (b <= ar->done_n && e->mode != LW_MODE_LIVE) {
        /* Late but in the window: look again at the next instant (live, the redo list below
         * does, once per batch rather than once per event). */
        schedule(ar, g, b);
    }
    if (e->cur_quiet) {
        /* Windows only: no early look, no redo; evaluated once its shard is live. */
        g->st.held = true;
        return true;
    }
    if (b > ar->done_n && g->st.state == LW_INACTIVE && !g->st.early && may_hold(ar, g)) {
        /* May have made the condition true: look before the bucket closes (run_early). */
        if (ar->nearly == ar->capearly) {
            ar->capearly = ar->capearly ? ar->capearly * 2 : 16;
            ar->early = lw_realloc(ar->early, ar->capearly * sizeof *ar->early);
        }
        ar->early[ar->nearly++] = g;
        g->st.early = true;
    }
    if (e->mode == LW_MODE_LIVE && b <= ar->done_n && g->st.eval_n != REDO_MARK) {
        /* The window ending at done_n, already evaluated, holds this event: evaluate it again
         * at the end of the batch rather than wait for the next instant. */
        if (ar->nredo == ar->capredo) {
            ar->capredo = ar->capredo ? ar->capredo * 2 : 16;
            ar->redo = lw_realloc(ar->redo, ar->capredo * sizeof *ar->redo);
        }
        ar->redo[ar->nredo++] = g;
        g->st.eval_n = REDO_MARK;
    }
    return true;
}

static void on_event(const struct lw_event *ev, void *payload)
{
    struct lw_engine *e = payload;
    int64_t ts = ev->ts_ns;
    e->st.events++;
    if (e->mode == LW_MODE_LIVE) {
        /* A clock far ahead is a wrong clock: take the arrival time instead. */
        if (ts > e->now_ns + FUTURE_SLACK_NS)
            ts = e->cur->recv_ns;
    } else if (ts > e->wm_ns) {
        /* A new second of event time: the groups the last one changed are looked at first. */
        if (e->wm_ns != INT64_MIN &&
            ceil_div(ts, LW_NS_PER_SEC) > ceil_div(e->wm_ns, LW_NS_PER_SEC))
            run_early(e, e->wm_ns);
        e->wm_ns = ts;
        for (size_t i = 0; i < e->nalerts; i++) {
            struct alert_rt *ar = &e->alerts[i];
            advance(e, ar, ceil_div(ts, ar->res_ns) - 1);
        }
    }
    size_t lo = e->rs->alerts_off[ev->index], hi = e->rs->alerts_off[ev->index + 1];
    bool late = false;
    for (size_t i = lo; i < hi; i++)
        late |= !add_event(e, &e->alerts[e->rs->alerts_of_event[i]], ev, ts);
    /* Counted once per event, however many alerts it was too old for; a quiet shard's history
     * older than every window is skipped silently. */
    if (late && !e->cur_quiet) {
        e->st.late++;
        if (e->cur && e->cur->input < e->ninputs)
            e->late_by_input[e->cur->input]++;
    }
}

/* ---------------------------------------------------------------- the engine */

struct lw_engine *lw_engine_new(struct lw_ruleset *rs, enum lw_engine_mode mode, int64_t now_ns,
                                lw_alert_out_fn *out, void *payload)
{
    struct lw_engine *e = lw_calloc(1, sizeof *e);
    e->rs = rs;
    e->mode = mode;
    e->out = out;
    e->payload = payload;
    e->now_ns = now_ns;
    e->wm_ns = INT64_MIN;
    e->ninputs = rs->ninputs;
    e->late_by_input = lw_calloc(e->ninputs ? e->ninputs : 1, sizeof *e->late_by_input);
    e->nalerts = rs->nalerts;
    e->alerts = lw_calloc(e->nalerts ? e->nalerts : 1, sizeof *e->alerts);
    for (size_t i = 0; i < rs->nalerts; i++) {
        const struct lw_alert_def *a = &rs->alerts[i];
        struct alert_rt *ar = &e->alerts[i];
        ar->def = a;
        ar->kind = &lw_kind_evals[a->kind];
        ar->res_ns = a->res_ns;
        ar->k = a->nbuckets;
        ar->span = ar->kind->windows;
        ar->warmup_n = ar->kind->warmup * ar->k;
        ar->distinct = ar->kind->aggs & LW_AGG_DISTINCT;
        ar->forget_every = ar->k / 4 > 0 ? ar->k / 4 : 1;
        ar->for_b = ceil_div(a->for_ns, a->res_ns);
        ar->keep_b = ceil_div(a->keep_firing_for_ns, a->res_ns);
        ar->w = lw_win_new(a->res_ns / LW_NS_PER_SEC, ar->k, (int)ar->span,
                           LW_AGG_COUNT | ar->kind->aggs, a->max_groups);
        if (mode == LW_MODE_REPLAY)
            lw_win_no_persist(ar->w);
        lw_win_set_quantile(ar->w, a->q);
        ar->max_b = INT64_MIN;
        ar->done_n = INT64_MIN;
        /* Far enough for every instant a group can schedule: its buckets leaving the window
         * (two for spike), `for` and keep_firing_for, plus the bucket being filled. */
        ar->nwheel = ar->span * ar->k + ar->for_b + ar->keep_b + 4;
        ar->wheel = lw_calloc((size_t)ar->nwheel, sizeof *ar->wheel);
        /* Without group_by the alert is one group, there from the start (absent needs it). */
        if (a->ngroup == 0)
            lw_win_group(ar->w, "{}", 2);
        if (mode == LW_MODE_LIVE)
            start_at(ar, floor_div(now_ns, a->res_ns));
    }
    return e;
}

void lw_engine_free(struct lw_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nalerts; i++) {
        lw_win_free(e->alerts[i].w);
        for (int64_t s = 0; s < e->alerts[i].nwheel; s++)
            free(e->alerts[i].wheel[s]);
        free(e->alerts[i].wheel);
        free(e->alerts[i].redo);
        free(e->alerts[i].early);
    }
    free(e->alerts);
    free(e->late_by_input);
    lw_buf_free(&e->key);
    lw_buf_free(&e->json);
    free(e->srows);
    free(e->fps);
    free(e->clean);
    free(e->quiet);
    free(e->forgot);
    free(e->gone);
    history_free(e);
    free(e->hist);
    free(e->hfps);
    free(e);
}

void lw_engine_record(struct lw_engine *e, const struct lw_rec *r, int64_t now_ns)
{
    e->st.records++;
    if (e->mode == LW_MODE_LIVE && now_ns / LW_NS_PER_SEC > e->now_ns / LW_NS_PER_SEC)
        lw_engine_tick(e, now_ns); /* a new second: evaluate before adding to it */
    else if (e->mode == LW_MODE_LIVE && now_ns > e->now_ns)
        e->now_ns = now_ns;
    e->cur = r;
    if (e->sharded) {
        e->cur_shard = r->shard;
        e->cur_quiet = false;
        for (size_t i = 0; i < e->nquiet && !e->cur_quiet; i++)
            e->cur_quiet = e->quiet[i] == r->shard;
    }
    lw_ruleset_match(e->rs, r, now_ns, on_event, e);
    e->cur = NULL;
}

void lw_engine_tick(struct lw_engine *e, int64_t now_ns)
{
    if (now_ns > e->now_ns)
        e->now_ns = now_ns;
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        advance(e, ar, floor_div(e->now_ns, ar->res_ns));
        /* Groups whose evaluated window got events since: the instant again (a group the
         * advance evaluated has eval_n == done_n, and is skipped). */
        for (size_t j = 0; j < ar->nredo; j++) {
            struct lw_wgroup *g = ar->redo[j];
            if (g->st.eval_n == REDO_MARK) {
                g->st.eval_n = ar->done_n - 1; /* not done_n: evaluate */
                eval_group(e, ar, g, ar->done_n);
            }
        }
        ar->nredo = 0;
    }
    if (e->now_ns - e->early_ns >= EARLY_EVERY_NS ||
        e->now_ns / LW_NS_PER_SEC != e->early_ns / LW_NS_PER_SEC) {
        e->early_ns = e->now_ns;
        run_early(e, e->now_ns);
    }
}

void lw_engine_finish(struct lw_engine *e)
{
    if (e->wm_ns == INT64_MIN)
        return;
    run_early(e, e->wm_ns);
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        advance(e, ar, ceil_div(e->wm_ns, ar->res_ns));
    }
}

/* ---------------------------------------------------------------- persistence */

struct collect_ctx {
    const struct lw_alert_def *a;
    lw_bucket_put_fn *put;
    void *ctx;
};

static int on_dirty(const struct lw_wgroup *g, int64_t b, const struct lw_agg *ag, void *payload)
{
    struct collect_ctx *c = payload;
    struct lw_bucket_row row = {c->a->name,
                                g->key,
                                c->a->res_ns / LW_NS_PER_SEC,
                                b,
                                ag->count,
                                ag->matched,
                                ag->sum,
                                isfinite(ag->min) ? ag->min : 0,
                                isfinite(ag->max) ? ag->max : 0,
                                ag->blob,
                                ag->bloblen,
                                ag->shard};
    return c->put(c->ctx, &row);
}

/* The store walks the changed buckets inside its transaction (lw_flush.bucket_src): a burst
 * that touched every group costs no array of rows. */
static int collect_buckets(void *payload, lw_bucket_put_fn *put, void *ctx)
{
    struct lw_engine *e = payload;
    for (size_t i = 0; i < e->nalerts; i++) {
        struct collect_ctx c = {e->alerts[i].def, put, ctx};
        int rc = lw_win_dirty(e->alerts[i].w, on_dirty, &c);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void state_room(struct lw_engine *e)
{
    if (e->ns == e->caps) {
        e->caps = e->caps ? e->caps * 2 : 64;
        e->srows = lw_realloc(e->srows, e->caps * sizeof *e->srows);
        e->fps = lw_realloc(e->fps, e->caps * sizeof *e->fps);
        e->clean = lw_realloc(e->clean, e->caps * sizeof *e->clean);
    }
}

void lw_engine_collect(struct lw_engine *e, struct lw_flush *f)
{
    /* After a failed flush nothing was cleared: the same rows (and any new ones) again. */
    e->ns = 0;
    int64_t longest = 0;
    size_t ndirty = 0;
    /* The states of groups forgotten with a shard come first: a group of the same name made
     * again since (the shard came back) is upserted after its old row is deleted. */
    for (size_t k = 0; k < e->ngone; k++) {
        state_room(e);
        memcpy(e->fps[e->ns], e->gone[k].fp, sizeof e->fps[e->ns]);
        e->srows[e->ns] =
            (struct lw_state_row){e->gone[k].alert, e->fps[e->ns], "{}", LW_INACTIVE, 0, 0, 0};
        e->clean[e->ns] = NULL;
        e->ns++;
    }
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        ndirty += lw_win_ndirty(ar->w);
        if (ar->span * ar->def->window_ns > longest)
            longest = ar->span * ar->def->window_ns;
        for (size_t j = 0; j < lw_win_count(ar->w); j++) {
            struct lw_wgroup *g = lw_win_at(ar->w, j);
            if (!g->st.dirty)
                continue;
            state_room(e);
            lw_fingerprint(ar->def->name, g->key, e->fps[e->ns]);
            e->srows[e->ns] = (struct lw_state_row){
                ar->def->name,         e->fps[e->ns],  g->key,     g->st.state,
                g->st.active_since_ns, g->st.fired_ns, g->st.value};
            e->clean[e->ns] = g;
            e->ns++;
        }
    }
    /* The rows point into fps, which the reallocs above may have moved. */
    for (size_t k = 0; k < e->ns; k++)
        e->srows[k].fingerprint = e->fps[k];
    f->bucket_src = ndirty ? collect_buckets : NULL;
    f->bucket_src_payload = e;
    f->states = e->srows;
    f->nstates = e->ns;
    f->expire_before_ns = e->now_ns - longest - 2 * LW_NS_PER_SEC * 300;
    f->forget_shards = e->forgot;
    f->nforget_shards = e->nforgot;
    f->history = e->hist;
    f->nhistory = e->nhist;
    f->history_before_ns = e->now_ns - 24 * 3600 * LW_NS_PER_SEC;
}

void lw_engine_collect_done(struct lw_engine *e)
{
    for (size_t i = 0; i < e->nalerts; i++)
        lw_win_clean(e->alerts[i].w);
    for (size_t i = 0; i < e->ns; i++)
        if (e->clean[i])
            e->clean[i]->st.dirty = false;
    e->ns = 0;
    e->nforgot = 0;
    e->ngone = 0;
    history_free(e);
}

static struct alert_rt *alert_by_name(struct lw_engine *e, const char *name)
{
    for (size_t i = 0; i < e->nalerts; i++)
        if (strcmp(e->alerts[i].def->name, name) == 0)
            return &e->alerts[i];
    return NULL;
}

/* Whether two definitions of one alert fill their buckets alike (the window aside). */
static bool same_aggregate(const struct lw_ruleset *ra, const struct lw_alert_def *a,
                           const struct lw_ruleset *rb, const struct lw_alert_def *b)
{
    if (a->kind != b->kind || a->q != b->q || a->agg_sig != b->agg_sig || a->ngroup != b->ngroup ||
        strcmp(ra->events[a->event].name, rb->events[b->event].name))
        return false;
    for (size_t i = 0; i < a->ngroup; i++)
        if (strcmp(a->group_by[i], b->group_by[i]))
            return false;
    return true;
}

void lw_engine_carry(struct lw_engine *e, const struct lw_ruleset *old)
{
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        const struct lw_alert_def *a = ar->def, *o = NULL;
        for (size_t j = 0; j < old->nalerts && !o; j++)
            if (!strcmp(old->alerts[j].name, a->name))
                o = &old->alerts[j];
        if (!o || same_aggregate(e->rs, a, old, o)) {
            if (o && o->res_ns != a->res_ns)
                lw_log(LW_INFO, "reload: alert %s: window %llds -> %llds, its buckets re-bucketed",
                       a->name, (long long)(o->window_ns / LW_NS_PER_SEC),
                       (long long)(a->window_ns / LW_NS_PER_SEC));
            continue;
        }
        ar->fresh = true;
        ar->hold_n =
            (ar->done_n == INT64_MIN ? floor_div(e->now_ns, ar->res_ns) : ar->done_n) + ar->k;
        lw_log(LW_WARN,
               "reload: alert %s now counts something else (event, kind, field, where, of or "
               "group_by changed): its windows start empty, pending groups are dropped, and "
               "firing ones stay firing until a whole window of new events says otherwise",
               a->name);
    }
}

void lw_engine_restore_bucket(struct lw_engine *e, const struct lw_bucket_row *row)
{
    struct alert_rt *ar = alert_by_name(e, row->alert);
    if (!ar || ar->fresh || row->res_s <= 0)
        return;
    struct lw_wgroup *g = lw_win_group(ar->w, row->group, strlen(row->group));
    if (!g)
        return;
    struct lw_agg a = {row->count, row->matched, row->sum,        row->min,  row->max, 0,
                       0,          row->sketch,  row->sketch_len, row->shard};
    int64_t b = row->bucket;
    /* Rows of several shards restored into an unsharded window (the input is not sharded any
     * more) add up in their bucket. */
    bool add = !e->sharded && row->shard != 0;
    if (row->res_s * LW_NS_PER_SEC != ar->res_ns) {
        /* The window changed: an old bucket goes to the new one holding its end, adding up
         * (exact when the new width is a multiple of the old, as 5m -> 10m is; a narrower one
         * sees the old bucket's events at its end). */
        b = ceil_div(row->bucket * row->res_s, ar->res_ns / LW_NS_PER_SEC);
        add = true;
    }
    lw_win_restore(ar->w, g, b, &a, add);
    if (b > ar->max_b)
        ar->max_b = b;
    if (b > g->last_bucket)
        g->last_bucket = b;
    schedule(ar, g, ar->done_n + 1);
    schedule(ar, g, b + ar->k);
    if (ar->span > 1)
        schedule(ar, g, b + 2 * ar->k);
}

void lw_engine_restore_state(struct lw_engine *e, const struct lw_state_row *row)
{
    struct alert_rt *ar = alert_by_name(e, row->alert);
    if (!ar)
        return;
    struct lw_wgroup *g = lw_win_group(ar->w, row->group, strlen(row->group));
    if (!g)
        return;
    if (ar->fresh && row->state != LW_FIRING) {
        /* A changed definition starts pending-free: the store learns it at the next flush. */
        g->st.dirty = e->mode == LW_MODE_LIVE;
        schedule(ar, g, ar->done_n + 1);
        return;
    }
    g->st.state = row->state;
    g->st.active_since_ns = row->active_since_ns;
    g->st.fired_ns = row->fired_ns;
    g->st.value = row->value;
    g->st.dirty = false;
    /* Not persisted: a dip in progress starts again at the first evaluation after the
     * restart, which errs towards firing. */
    g->st.false_since_ns = 0;
    schedule(ar, g, ar->done_n + 1);
}

/* ---------------------------------------------------------------- shards */

void lw_engine_shards(struct lw_engine *e, bool on)
{
    e->sharded = on;
    for (size_t i = 0; i < e->nalerts; i++)
        if (!LW_ALWAYS(lw_win_shards(e->alerts[i].w, on)))
            lw_log(LW_ERROR,
                   "alert %s: its windows hold events already: they stay %s (shards are set "
                   "before anything is fed or restored)",
                   e->alerts[i].def->name, on ? "unsharded" : "sharded");
}

static void push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == x)
            return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = lw_realloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = x;
}

/* Takes the groups marked gone out of every list that points at them, then frees them. */
static void drop_gone(struct lw_engine *e, struct alert_rt *ar)
{
    for (int64_t j = 0; j < ar->nwheel; j++) {
        struct slot *sl = ar->wheel[j];
        uint32_t k = 0;
        for (uint32_t i = 0; sl && i < sl->n; i++)
            if (!sl->g[i]->st.gone)
                sl->g[k++] = sl->g[i];
        if (sl)
            sl->n = k;
    }
    size_t k = 0;
    for (size_t i = 0; i < ar->nredo; i++)
        if (!ar->redo[i]->st.gone)
            ar->redo[k++] = ar->redo[i];
    ar->nredo = k;
    k = 0;
    for (size_t i = 0; i < ar->nearly; i++)
        if (!ar->early[i]->st.gone)
            ar->early[k++] = ar->early[i];
    ar->nearly = k;
    for (size_t i = lw_win_count(ar->w); i-- > 0;) {
        struct lw_wgroup *g = lw_win_at(ar->w, i);
        if (g->st.gone) {
            ring_free(e, g);
            lw_win_drop(ar->w, g);
        }
    }
}

void lw_engine_forget_shard(struct lw_engine *e, uint32_t shard)
{
    if (!e->sharded)
        return;
    push_u32(&e->forgot, &e->nforgot, &e->capforgot, shard);
    for (size_t i = 0; i < e->nquiet; i++)
        if (e->quiet[i] == shard) /* revoked while rebuilding: its hold ends with it */
            lw_engine_quiet_shard(e, shard, false);
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        size_t ngone = 0;
        for (size_t j = 0; j < lw_win_count(ar->w); j++) {
            struct lw_wgroup *g = lw_win_at(ar->w, j);
            if (!lw_win_forget_shard(ar->w, g, shard))
                continue;
            if (!lw_win_empty(g)) {
                schedule(ar, g, ar->done_n + 1); /* the other shards' events: look again */
                continue;
            }
            /* Nothing left: the shard's new owner carries the group. Its stored state row
             * (pending or firing, or a change not flushed yet) goes at the next collect. */
            if (g->st.state != LW_INACTIVE || g->st.dirty) {
                if (e->ngone == e->capgone) {
                    e->capgone = e->capgone ? e->capgone * 2 : 16;
                    e->gone = lw_realloc(e->gone, e->capgone * sizeof *e->gone);
                }
                e->gone[e->ngone].alert = ar->def->name;
                lw_fingerprint(ar->def->name, g->key, e->gone[e->ngone].fp);
                e->ngone++;
            }
            if (ar->def->ngroup == 0) {
                /* The alert's only group is always there (absent needs it): it starts over. */
                g->st = (struct lw_gstate){
                    .eval_n = g->st.eval_n, .sched_max = g->st.sched_max, .x = g->st.x};
                schedule(ar, g, ar->done_n + 1);
                continue;
            }
            g->st.gone = true;
            ngone++;
        }
        if (ngone)
            drop_gone(e, ar);
    }
}

void lw_engine_quiet_shard(struct lw_engine *e, uint32_t shard, bool on)
{
    if (on) {
        push_u32(&e->quiet, &e->nquiet, &e->capquiet, shard);
        return;
    }
    for (size_t i = 0; i < e->nquiet; i++)
        if (e->quiet[i] == shard) {
            e->quiet[i] = e->quiet[--e->nquiet];
            break;
        }
    if (e->nquiet)
        return;
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        for (size_t j = 0; j < lw_win_count(ar->w); j++) {
            struct lw_wgroup *g = lw_win_at(ar->w, j);
            if (!g->st.held)
                continue;
            g->st.held = false;
            schedule(ar, g, ar->done_n + 1);
        }
    }
}

void lw_engine_partial(struct lw_engine *e, int64_t now_ns)
{
    e->st.partial++;
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        if (ar->def->above)
            continue;
        int64_t n = floor_div(now_ns, ar->res_ns) + ar->k;
        if (n <= ar->partial_n)
            continue;
        ar->partial_n = n;
        for (size_t j = 0; j < lw_win_count(ar->w); j++)
            schedule(ar, lw_win_at(ar->w, j), n);
    }
}

bool lw_engine_window(struct lw_engine *e, size_t i, const char *group, int back,
                      struct lw_agg *out)
{
    if (i >= e->nalerts)
        return false;
    struct alert_rt *ar = &e->alerts[i];
    struct lw_wgroup *g = lw_win_find(ar->w, group, strlen(group));
    if (!g || ar->done_n == INT64_MIN)
        return false;
    lw_win_agg(ar->w, g, ar->done_n, back, out);
    return true;
}

void lw_engine_stats(const struct lw_engine *e, struct lw_engine_stats *out)
{
    *out = e->st;
}

bool lw_engine_alert_usage(const struct lw_engine *e, size_t i, struct lw_alert_usage *out)
{
    if (i >= e->nalerts)
        return false;
    const struct alert_rt *ar = &e->alerts[i];
    size_t bytes = lw_win_bytes(ar->w) + (size_t)ar->nwheel * sizeof *ar->wheel +
                   ar->capredo * sizeof *ar->redo + ar->capearly * sizeof *ar->early;
    for (int64_t j = 0; j < ar->nwheel; j++)
        if (ar->wheel[j])
            bytes += sizeof *ar->wheel[j] + ar->wheel[j]->cap * sizeof *ar->wheel[j]->g;
    *out = (struct lw_alert_usage){ar->def->name, lw_win_count(ar->w), bytes, ar->def->max_groups,
                                   lw_win_overflow(ar->w)};
    return true;
}

const uint64_t *lw_engine_late_by_input(const struct lw_engine *e, size_t *n)
{
    *n = e->ninputs;
    return e->late_by_input;
}

/* ---------------------------------------------------------------- the API's view */

void lw_engine_groups(struct lw_engine *e, size_t alert, bool all, lw_group_fn *fn, void *payload)
{
    for (size_t i = 0; i < e->nalerts; i++) {
        if (alert != SIZE_MAX && i != alert)
            continue;
        struct alert_rt *ar = &e->alerts[i];
        for (size_t j = 0; j < lw_win_count(ar->w); j++) {
            struct lw_wgroup *g = lw_win_at(ar->w, j);
            if (!all && g->st.state == LW_INACTIVE)
                continue;
            struct lw_group_view v;
            view_of(e, ar, g, &v, !all);
            fn(&v, payload);
        }
    }
}

bool lw_engine_find(struct lw_engine *e, const char *fp, struct lw_group_view *out)
{
    char f[17];
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        for (size_t j = 0; j < lw_win_count(ar->w); j++) {
            struct lw_wgroup *g = lw_win_at(ar->w, j);
            lw_fingerprint(ar->def->name, g->key, f);
            if (strcmp(f, fp) == 0) {
                view_of(e, ar, g, out, true);
                return true;
            }
        }
    }
    return false;
}

void lw_engine_alert_object(struct lw_engine *e, const struct lw_group_view *v, struct lw_buf *out)
{
    const struct lw_wgroup *g = v->priv;
    render(&e->alerts[v->index], g, g->st.state == LW_FIRING ? "firing" : "pending", 0, out);
}

static json_t *number_or_null(double v)
{
    return isfinite(v) ? json_real(v)
           : isnan(v)  ? json_null()
                       : json_real(v > 0 ? DBL_MAX : -DBL_MAX);
}

json_t *lw_engine_series(struct lw_engine *e, const struct lw_group_view *v)
{
    const struct alert_rt *ar = &e->alerts[v->index];
    const struct lw_wgroup *g = v->priv;
    const struct xring *x = g->st.x;
    json_t *arr = json_array();
    if (!x || !x->npt || ar->done_n == INT64_MIN)
        return arr;
    /* Points oldest first: from ptail - npt. */
    uint32_t first = (x->ptail + x->pcap - x->npt) % x->pcap, k = 0;
    /* Up to the last evaluation: an early one (the bucket being filled) is one instant ahead. */
    int64_t to = x->pt[(x->ptail + x->pcap - 1) % x->pcap].n;
    if (to < ar->done_n)
        to = ar->done_n;
    double cur = NAN;
    for (int64_t n = to - ar->k + 1; n <= to; n++) {
        while (k < x->npt && x->pt[(first + k) % x->pcap].n <= n)
            cur = x->pt[(first + k++) % x->pcap].v;
        char ts[40];
        lw_fmt_rfc3339(n * ar->res_ns, ts, sizeof ts);
        json_array_append_new(arr, json_pack("[s,o]", ts, number_or_null(cur)));
    }
    return arr;
}

static json_t *samples(struct lw_engine *e, const struct xring *x)
{
    json_t *arr = json_array();
    if (!x || !e->xlines)
        return arr;
    uint32_t first = (x->stail + x->scap - x->ns) % x->scap;
    for (uint32_t k = 0; k < x->ns; k++) {
        const struct xsample *sl = &xs(x)[(first + k) % x->scap];
        char ts[40];
        lw_fmt_rfc3339(sl->ts_ns, ts, sizeof ts);
        const char *in = sl->input < e->rs->ninputs ? e->rs->inputs[sl->input].name : "";
        json_t *o = json_pack("{s:s,s:s,s:s%}", "at", ts, "input", in ? in : "", "line", sl->line,
                              (size_t)sl->len);
        if (!o) {
            /* Not UTF-8 (or cut inside a character): as the state file keeps it, U+FFFD for
             * each bad byte (lw_buf_json_str). */
            struct lw_buf q = {0};
            lw_buf_json_str(&q, sl->line, sl->len);
            o = json_pack("{s:s,s:s,s:o}", "at", ts, "input", in ? in : "", "line",
                          json_loadb(q.p, q.len, JSON_DECODE_ANY, NULL));
            lw_buf_free(&q);
        }
        if (sl->full)
            json_object_set_new(o, "cut", json_true());
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *lw_engine_explain(struct lw_engine *e, const struct lw_group_view *v)
{
    const struct alert_rt *ar = &e->alerts[v->index];
    const struct lw_alert_def *a = ar->def;
    const struct lw_wgroup *g = v->priv;
    struct lw_buf b = {0};
    char win[32], res[32], fr[32], since[40];
    lw_engine_alert_object(e, v, &b);
    json_t *obj = json_loadb(b.p, b.len, 0, NULL);
    lw_buf_free(&b);
    json_t *grp = json_loads(g->key, 0, NULL);
    lw_fmt_duration(a->window_ns, win, sizeof win);
    lw_fmt_duration(a->res_ns, res, sizeof res);
    lw_fmt_duration(a->for_ns, fr, sizeof fr);
    lw_fmt_rfc3339(g->st.state == LW_FIRING ? g->st.fired_ns : g->st.active_since_ns, since,
                   sizeof since);
    json_t *x = json_object();
    json_object_set_new(x, "alert", json_string(a->name));
    json_object_set_new(x, "fingerprint", json_string(v->fingerprint));
    json_object_set_new(x, "state", json_string(state_names[g->st.state]));
    json_object_set_new(x, "severity", json_string(a->severity ? a->severity : ""));
    json_object_set(x, "labels", obj ? json_object_get(obj, "labels") : json_object());
    json_object_set(x, "annotations", obj ? json_object_get(obj, "annotations") : json_object());
    json_object_set_new(x, "group", grp ? grp : json_object());
    json_object_set_new(x, "value", number_or_null(g->st.value));
    json_object_set_new(x, "threshold", json_real(a->threshold));
    json_object_set_new(x, "above", json_boolean(a->above));
    json_object_set_new(x, "kind", json_string(lw_kinds[a->kind].name));
    json_object_set_new(x, "window", json_string(win));
    json_object_set_new(x, "resolution", json_string(res));
    json_object_set_new(x, "for", json_string(fr));
    json_object_set_new(x, "since", g->st.state == LW_INACTIVE ? json_null() : json_string(since));
    json_object_set_new(x, "series", lw_engine_series(e, v));
    json_object_set_new(x, "samples", samples(e, g->st.x));
    json_object_set_new(x, "sample_bytes", json_integer(LW_SAMPLE_BYTES));
    json_object_set_new(x, "sample_lines", json_integer((json_int_t)e->xlines));
    json_object_set_new(x, "kept", json_boolean(g->st.x != NULL));
    json_decref(obj);
    return x;
}

void lw_engine_snapshot(struct lw_engine *e)
{
    for (size_t i = 0; i < e->nalerts; i++) {
        struct alert_rt *ar = &e->alerts[i];
        for (size_t j = 0; j < lw_win_count(ar->w); j++) {
            struct lw_wgroup *g = lw_win_at(ar->w, j);
            if (g->st.state != LW_INACTIVE && g->st.x)
                history(e, ar, g, NULL, e->now_ns);
        }
    }
}

/* What the state file keeps of an explanation: the raw parts, written without a JSON library
 * (a transition costs a few microseconds, not the milliseconds of a rendered series), read back
 * by lw_explain_from_raw (api.c). Times are ns; points are the kept changes of the value. */
static void put_raw_number(struct lw_buf *b, double v)
{
    if (isnan(v))
        lw_buf_puts(b, "null");
    else
        put_number(b, v);
}

static void explain_raw(struct lw_engine *e, const struct alert_rt *ar, const struct lw_wgroup *g,
                        const char *state, int64_t t_ns, struct lw_buf *b)
{
    const struct lw_alert_def *a = ar->def;
    const struct xring *x = g->st.x;
    struct lw_buf obj = {0};
    render(ar, g, g->st.state == LW_FIRING ? "firing" : "pending", 0, &obj);
    lw_buf_puts(b, "{\"raw\":1,\"object\":");
    lw_buf_append(b, obj.p, obj.len);
    lw_buf_free(&obj);
    lw_buf_puts(b, ",\"state\":");
    lw_buf_json_str(b, state, strlen(state));
    lw_buf_printf(b, ",\"at_ns\":%lld,\"since_ns\":%lld,\"value\":", (long long)t_ns,
                  (long long)(g->st.state == LW_FIRING ? g->st.fired_ns : g->st.active_since_ns));
    put_number(b, g->st.value);
    lw_buf_puts(b, ",\"threshold\":");
    put_number(b, a->threshold);
    lw_buf_printf(b,
                  ",\"above\":%s,\"kind\":\"%s\",\"window_ns\":%lld,\"res_ns\":%lld,"
                  "\"for_ns\":%lld,\"to_ns\":%lld,\"sample_bytes\":%d,\"sample_lines\":%zu,"
                  "\"kept\":%s,\"group\":",
                  a->above ? "true" : "false", lw_kinds[a->kind].name, (long long)a->window_ns,
                  (long long)a->res_ns, (long long)a->for_ns,
                  (long long)((ar->done_n == INT64_MIN ? 0 : ar->done_n) * ar->res_ns),
                  LW_SAMPLE_BYTES, e->xlines, x ? "true" : "false");
    lw_buf_append(b, g->key, g->keylen);
    lw_buf_puts(b, ",\"points\":[");
    uint32_t first = x ? (x->ptail + x->pcap - x->npt) % x->pcap : 0;
    for (uint32_t k = 0; x && k < x->npt; k++) {
        const struct xpoint *p = &x->pt[(first + k) % x->pcap];
        lw_buf_printf(b, "%s[%lld,", k ? "," : "", (long long)(p->n * ar->res_ns));
        put_raw_number(b, p->v);
        lw_buf_putc(b, ']');
    }
    lw_buf_puts(b, "],\"samples\":[");
    first = x && x->scap ? (x->stail + x->scap - x->ns) % x->scap : 0;
    for (uint32_t k = 0; x && k < x->ns; k++) {
        const struct xsample *sl = &xs(x)[(first + k) % x->scap];
        const char *in = sl->input < e->rs->ninputs ? e->rs->inputs[sl->input].name : "";
        lw_buf_printf(b, "%s[%lld,", k ? "," : "", (long long)sl->ts_ns);
        lw_buf_json_str(b, in ? in : "", in ? strlen(in) : 0);
        lw_buf_putc(b, ',');
        lw_buf_json_str(b, sl->line, sl->len);
        lw_buf_printf(b, ",%d]", sl->full ? 1 : 0);
    }
    lw_buf_puts(b, "]}");
}
