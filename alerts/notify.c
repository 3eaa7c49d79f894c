/* notify.c: the notifier: per (alert, sink), what the alert is and what the sink was told;
 * sends the difference when due, batched per sink, minus silenced and inhibited alerts. */
#include "notify.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* An alert object as the engine rendered it, shared by the entries of its fingerprint (one per
 * sink, and the ledger's): its JSON text, and its labels unpacked for silences and inhibition
 * as "name\0value\0...name\0value\0\0" in the same allocation. A jansson object per entry
 * was ~600 bytes; thousands of alerts can fire at once (one per attacking address). */
struct aobj {
    unsigned refs;
    const char *labels;
    char json[];
};

struct entry {
    char *fp;
    size_t sink;
    char *alert;
    int status;      /* 1 firing, 0 resolved */
    struct aobj *ao; /* latest alert object */
    int64_t changed_ns;
    int notified; /* -1 nothing, 0 resolved, 1 firing */
    int64_t notified_ns;
    int64_t unconfirmed_until; /* lw_notifier_reconcile: resolve at this time (0: no) */
    bool inhibited;            /* when last looked at (wanted) */
    int64_t released_ns;       /* when its inhibition was seen to end: a change, as changed_ns */
    bool dirty;                /* to persist */
    bool remove;               /* persisted as a delete, then freed */
                               /* set by collect, applied by collect_done */
    bool sending;
    bool queued; /* in this collect's payload (counted as sent) */
    int new_notified;
};

struct silence {
    char *id; /* for the API: which silence holds an alert back */
    struct lw_matcher *m;
    size_t n;
    int64_t starts_ns, ends_ns;
};

struct lw_notifier {
    const struct lw_notify_cfg *cfg;
    struct entry **e;
    size_t n, cap;
    struct silence *sil;
    size_t nsil;
    struct lw_notifier_stats st;
    uint64_t suppressed_logged;  /* suppressions already said in the log */
    int64_t suppressed_log_ns;   /* when */
    int64_t due_ns, next_due_ns; /* lw_notifier_due; collect's next value for it */
    /* collect output */
    int64_t now;
    struct lw_buf *bufs; /* per sink */
    struct lw_outbox_row *orows;
    struct lw_notif_row *rows;
    size_t nrows, nrows_cap;
};

struct lw_notifier *lw_notifier_new(const struct lw_notify_cfg *cfg)
{
    struct lw_notifier *n = lw_calloc(1, sizeof *n);
    n->cfg = cfg;
    n->bufs = lw_calloc(cfg->nsinks + 1, sizeof *n->bufs);
    n->orows = lw_calloc(cfg->nsinks + 1, sizeof *n->orows);
    n->due_ns = INT64_MAX;
    return n;
}

/* Appends labels' string values as "name\0value\0" pairs, then the final "\0". */
static void pack_labels(json_t *labels, struct lw_buf *out)
{
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (!*k || !json_is_string(v))
            continue; /* as if missing (matchers compare strings) */
        lw_buf_append(out, k, strlen(k) + 1);
        lw_buf_append(out, json_string_value(v), strlen(json_string_value(v)) + 1);
    }
    lw_buf_append(out, "", 1);
}

/* obj: json parsed, when the caller has it (else it is parsed here). */
static struct aobj *aobj_new(const char *json, size_t len, json_t *obj)
{
    struct lw_buf lb = {0};
    json_t *own = obj ? NULL : (obj = json_loadb(json, len, 0, NULL));
    pack_labels(json_object_get(obj, "labels"), &lb);
    json_decref(own);
    struct aobj *a = lw_malloc(sizeof *a + len + 1 + lb.len);
    a->refs = 1;
    memcpy(a->json, json, len);
    a->json[len] = 0;
    memcpy(a->json + len + 1, lb.p, lb.len);
    a->labels = a->json + len + 1;
    lw_buf_free(&lb);
    return a;
}

static void aobj_unref(struct aobj *a)
{
    if (a && --a->refs == 0)
        free(a);
}

static void set_aobj(struct entry *x, struct aobj *a)
{
    a->refs++;
    aobj_unref(x->ao);
    x->ao = a;
}

static void entry_free(struct entry *x)
{
    free(x->fp);
    free(x->alert);
    aobj_unref(x->ao);
    free(x);
}

static void silences_free(struct lw_notifier *n)
{
    for (size_t i = 0; i < n->nsil; i++) {
        lw_matchers_free(n->sil[i].m, n->sil[i].n);
        free(n->sil[i].id);
    }
    free(n->sil);
    n->sil = NULL;
    n->nsil = 0;
}

void lw_notifier_free(struct lw_notifier *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        entry_free(n->e[i]);
    free(n->e);
    silences_free(n);
    for (size_t i = 0; i < n->cfg->nsinks; i++)
        lw_buf_free(&n->bufs[i]);
    free(n->bufs);
    free(n->orows);
    free(n->rows);
    free(n);
}

/* Entries are few (active alerts x sinks): a linear search keeps this simple. */
static struct entry *find(struct lw_notifier *n, const char *fp, size_t sink)
{
    for (size_t i = 0; i < n->n; i++)
        if (n->e[i]->sink == sink && !strcmp(n->e[i]->fp, fp))
            return n->e[i];
    return NULL;
}

static struct entry *add(struct lw_notifier *n, const char *fp, size_t sink, const char *alert)
{
    struct entry *x = lw_calloc(1, sizeof *x);
    x->fp = lw_strdup(fp);
    x->sink = sink;
    x->alert = lw_strdup(alert);
    x->notified = -1;
    if (n->n == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 16;
        n->e = lw_realloc(n->e, n->cap * sizeof *n->e);
    }
    n->e[n->n++] = x;
    return x;
}

/* ---------------------------------------------------------------- config and routes */

void lw_notify_cfg_free(struct lw_notify_cfg *c)
{
    for (size_t i = 0; i < c->nroutes; i++) {
        lw_matchers_free(c->routes[i].match, c->routes[i].nmatch);
        free(c->routes[i].sinks);
    }
    free(c->routes);
    for (size_t i = 0; i < c->ninhibits; i++) {
        struct lw_notify_inhibit *ih = &c->inhibits[i];
        lw_matchers_free(ih->source, ih->nsource);
        lw_matchers_free(ih->target, ih->ntarget);
        for (size_t k = 0; k < ih->nequal; k++)
            free(ih->equal[k]);
        free(ih->equal);
    }
    free(c->inhibits);
    for (size_t i = 0; i < c->nsinks; i++)
        free(c->sinks[i].name);
    free(c->sinks);
    *c = (struct lw_notify_cfg){0};
}

/* Sink indices for packed labels: the first route that matches, and the next ones while they
 * say continue; each sink once. */
static size_t *route(const struct lw_notify_cfg *c, const char *labels, size_t *n)
{
    size_t *out = lw_calloc(c->nsinks + 1, sizeof *out);
    *n = 0;
    if (c->nroutes == 0) {
        /* No routes: every sink gets every alert. */
        for (size_t i = 0; i < c->nsinks; i++)
            out[(*n)++] = i;
        return out;
    }
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct lw_notify_route *r = &c->routes[i];
        if (!lw_matchers_match(r->match, r->nmatch, labels))
            continue;
        for (size_t j = 0; j < r->nsinks; j++) {
            bool dup = false;
            for (size_t k = 0; k < *n; k++)
                dup |= out[k] == r->sinks[j];
            if (!dup)
                out[(*n)++] = r->sinks[j];
        }
        if (!r->cont)
            break;
    }
    return out;
}

size_t *lw_route_alert(const struct lw_notify_cfg *c, const char *json, size_t len, size_t *n)
{
    struct lw_buf lb = {0};
    json_t *obj = json_loadb(json, len, 0, NULL);
    pack_labels(json_object_get(obj, "labels"), &lb);
    json_decref(obj);
    size_t *out = route(c, lb.p, n);
    lw_buf_free(&lb);
    return out;
}

/* ---------------------------------------------------------------- the notifier */

void lw_notifier_transition(struct lw_notifier *n, const char *json, size_t len, bool firing,
                            int64_t now_ns)
{
    size_t nsinks;
    json_t *obj = json_loadb(json, len, 0, NULL);
    const char *fp = json_string_value(json_object_get(obj, "fingerprint"));
    const char *alert = json_string_value(json_object_get(obj, "alert"));
    if (!fp || !alert) {
        json_decref(obj);
        return;
    }
    /* The engine has it (again): whatever it says now is the truth. */
    for (size_t i = 0; i < n->n; i++)
        if (n->e[i]->unconfirmed_until && !strcmp(n->e[i]->fp, fp))
            n->e[i]->unconfirmed_until = 0;
    int64_t gw = n->cfg->group_wait_ns > 0 ? n->cfg->group_wait_ns : 0;
    if (now_ns + gw < n->due_ns)
        n->due_ns = now_ns + gw;
    struct aobj *ao = aobj_new(json, len, obj);
    size_t *sinks = route(n->cfg, ao->labels, &nsinks);
    /* The ledger (sink index nsinks) records every alert, routed or not: inhibition by an
     * alert that no route sends anywhere still applies, as in Alertmanager. */
    sinks = lw_realloc(sinks, (nsinks + 1) * sizeof *sinks);
    sinks[nsinks++] = n->cfg->nsinks;
    for (size_t i = 0; i < nsinks; i++) {
        struct entry *x = find(n, fp, sinks[i]);
        if (!x)
            x = add(n, fp, sinks[i], alert);
        x->status = firing ? 1 : 0;
        x->changed_ns = now_ns;
        x->inhibited = false; /* a change of its own: decided again at its group_wait */
        x->released_ns = 0;
        x->remove = false;
        x->dirty = true;
        set_aobj(x, ao);
    }
    aobj_unref(ao);
    free(sinks);
    json_decref(obj);
}

void lw_notifier_restore(struct lw_notifier *n, const struct lw_notif_row *row)
{
    size_t sink;
    for (sink = 0; sink < n->cfg->nsinks; sink++)
        if (!strcmp(n->cfg->sinks[sink].name, row->sink))
            break;
    if (sink == n->cfg->nsinks && row->sink[0])
        return; /* the sink was removed from the config ("" is the ledger) */
    struct entry *x = find(n, row->fingerprint, sink);
    if (!x)
        x = add(n, row->fingerprint, sink, row->alert);
    x->status = row->status;
    x->changed_ns = row->changed_ns;
    x->notified = row->notified;
    x->notified_ns = row->notified_ns;
    /* The fingerprint's other entries usually hold the same object: share it again. */
    for (size_t i = 0; i < n->n; i++) {
        struct entry *y = n->e[i];
        if (y != x && y->ao && !strcmp(y->fp, x->fp) && !strcmp(y->ao->json, row->payload)) {
            set_aobj(x, y->ao);
            return;
        }
    }
    struct aobj *ao = aobj_new(row->payload, strlen(row->payload), NULL);
    set_aobj(x, ao);
    aobj_unref(ao);
}

/* The alert object of a resolution the engine did not make: status and ends_at now. */
static void resolve_payload(struct entry *x, int64_t now_ns)
{
    char ts[40];
    json_t *obj = json_loads(x->ao ? x->ao->json : "", 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return;
    }
    lw_fmt_rfc3339(now_ns, ts, sizeof ts);
    json_object_set_new(obj, "status", json_string("resolved"));
    json_object_set_new(obj, "ends_at", json_string(ts));
    char *js = json_dumps(obj, JSON_COMPACT);
    if (js) {
        struct aobj *ao = aobj_new(js, strlen(js), obj);
        set_aobj(x, ao);
        aobj_unref(ao);
    }
    free(js);
    json_decref(obj);
}

size_t lw_notifier_reconcile(struct lw_notifier *n, lw_notifier_hold_fn *fn, void *payload)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n->n; i++) {
        struct entry *x = n->e[i];
        if (x->status != 1)
            continue;
        int64_t until = fn(x->fp, x->alert, payload);
        if (until > 0) {
            x->unconfirmed_until = until;
            cnt++;
        }
    }
    return cnt;
}

bool lw_notifier_due(const struct lw_notifier *n, int64_t now_ns)
{
    return n->due_ns <= now_ns;
}

/* ---------------------------------------------------------------- silences and inhibition */

int lw_silence_matchers_json(char *const *args, size_t n, char **out, struct lw_err *err)
{
    if (n == 0)
        return lw_err_set(err, LW_EINVAL, "a silence needs at least one matcher");
    struct lw_matcher *m = lw_calloc(n, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        if (lw_matcher_parse(&m[i], args[i], err) < 0) {
            lw_matchers_free(m, n);
            return LW_EINVAL;
        }
    }
    *out = lw_matchers_to_json(m, n);
    lw_matchers_free(m, n);
    return 0;
}

void lw_notifier_set_silences(struct lw_notifier *n, const struct lw_silence_row *rows, size_t cnt)
{
    silences_free(n);
    n->sil = lw_calloc(cnt + 1, sizeof *n->sil);
    for (size_t i = 0; i < cnt; i++) {
        struct silence *s = &n->sil[n->nsil];
        struct lw_err err = {0};
        /* One the store holds was checked when it was made: this is a damaged row. */
        if (lw_matchers_from_json(rows[i].matchers, &s->m, &s->n, &err) < 0)
            continue;
        s->starts_ns = rows[i].starts_ns;
        s->ends_ns = rows[i].ends_ns;
        s->id = lw_strdup(rows[i].id ? rows[i].id : "");
        n->nsil++;
    }
}

static bool silenced(const struct lw_notifier *n, const struct entry *x, int64_t now)
{
    for (size_t i = 0; i < n->nsil; i++) {
        const struct silence *s = &n->sil[i];
        if (s->starts_ns <= now && now < s->ends_ns && lw_matchers_match(s->m, s->n, x->ao->labels))
            return true;
    }
    return false;
}

/* Alertmanager's inhibition: a firing source alert mutes matching targets that share the
 * `equal` labels (a label both lack is equal). An alert never inhibits itself. */
static bool inhibited(const struct lw_notifier *n, const struct entry *x)
{
    const struct lw_notify_cfg *c = n->cfg;
    for (size_t r = 0; r < c->ninhibits; r++) {
        const struct lw_notify_inhibit *ih = &c->inhibits[r];
        if (!lw_matchers_match(ih->target, ih->ntarget, x->ao->labels))
            continue;
        for (size_t i = 0; i < n->n; i++) {
            const struct entry *s = n->e[i];
            if (s->status != 1 || !strcmp(s->fp, x->fp) ||
                !lw_matchers_match(ih->source, ih->nsource, s->ao->labels))
                continue;
            bool eq = true;
            for (size_t k = 0; k < ih->nequal && eq; k++) {
                const char *a = lw_labels_get(s->ao->labels, ih->equal[k]);
                const char *b = lw_labels_get(x->ao->labels, ih->equal[k]);
                eq = !strcmp(a ? a : "", b ? b : "");
            }
            if (eq)
                return true;
        }
    }
    return false;
}

void lw_notifier_mutes(const struct lw_notifier *n, const char *fp, const char *labels,
                       int64_t now_ns, lw_mute_fn *fn, void *payload)
{
    for (size_t i = 0; i < n->nsil; i++) {
        const struct silence *s = &n->sil[i];
        if (s->starts_ns <= now_ns && now_ns < s->ends_ns && lw_matchers_match(s->m, s->n, labels))
            fn(true, s->id, payload);
    }
    const struct lw_notify_cfg *c = n->cfg;
    for (size_t r = 0; r < c->ninhibits; r++) {
        const struct lw_notify_inhibit *ih = &c->inhibits[r];
        if (!lw_matchers_match(ih->target, ih->ntarget, labels))
            continue;
        for (size_t i = 0; i < n->n; i++) {
            const struct entry *s = n->e[i];
            /* The ledger's entries: one per alert, routed or not. */
            if (s->sink != c->nsinks || s->status != 1 || !strcmp(s->fp, fp) ||
                !lw_matchers_match(ih->source, ih->nsource, s->ao->labels))
                continue;
            bool eq = true;
            for (size_t k = 0; k < ih->nequal && eq; k++) {
                const char *a = lw_labels_get(s->ao->labels, ih->equal[k]);
                const char *b = lw_labels_get(labels, ih->equal[k]);
                eq = !strcmp(a ? a : "", b ? b : "");
            }
            if (eq)
                fn(false, s->fp, payload);
        }
    }
}

/* ---------------------------------------------------------------- collect */

/* repeat_interval, or the sink's own resend interval when that is shorter (Alertmanager
 * resolves alerts it has not heard of for a while). */
static int64_t repeat_of(const struct lw_notifier *n, size_t sink)
{
    int64_t r = n->cfg->repeat_interval_ns, resend = n->cfg->sinks[sink].resend_ns;
    if (resend > 0 && (r <= 0 || r > resend))
        r = resend;
    return r;
}

/* The entry's last change, from which its group_wait counts. */
static int64_t changed_at(const struct entry *x)
{
    return x->released_ns > x->changed_ns ? x->released_ns : x->changed_ns;
}

/* Inhibition is decided when the notification is sent: an alert whose source has resolved is
 * told a group_wait after that is seen, not at once, and only if it still fires then. The
 * target of an inhibition often resolves a moment after its source (the same cause): it is
 * then never announced, rather than announced firing and resolved a moment later. */
static bool still_inhibited(struct lw_notifier *n, struct entry *x, int64_t now)
{
    if (inhibited(n, x)) {
        x->inhibited = true;
        return true;
    }
    if (x->inhibited) {
        x->inhibited = false;
        x->released_ns = now;
    }
    return false;
}

/* What the entry should tell its sink now: 1 firing, 0 resolved, -1 nothing yet, -2 nothing
 * ever (the entry can go). `due` says whether its own group_wait has passed. */
static int wanted(struct lw_notifier *n, struct entry *x, int64_t now, bool *due)
{
    int64_t gw = n->cfg->group_wait_ns;
    *due = now - x->changed_ns >= gw;
    if (x->sink == n->cfg->nsinks)
        return x->status == 1 ? -1 : -2; /* the ledger is never sent */
    if (x->status == 1) {
        if (silenced(n, x, now)) {
            n->st.silenced++;
            return -1;
        }
        if (still_inhibited(n, x, now)) {
            n->st.inhibited++;
            return -1;
        }
        *due = now - changed_at(x) >= gw;
        if (x->notified != 1)
            return 1;
        int64_t rep = repeat_of(n, x->sink);
        if (rep > 0 && now - x->notified_ns >= rep) {
            *due = true;
            return 1;
        }
        return -1;
    }
    if (x->notified == 1)
        return 0;
    return -2; /* resolved and the sink never heard it fire: nothing to say */
}

static void add_row(struct lw_notifier *n, struct entry *x, int64_t now)
{
    if (n->nrows == n->nrows_cap) {
        n->nrows_cap = n->nrows_cap ? n->nrows_cap * 2 : 64;
        n->rows = lw_realloc(n->rows, n->nrows_cap * sizeof *n->rows);
    }
    n->rows[n->nrows++] =
        (struct lw_notif_row){x->fp,
                              x->sink < n->cfg->nsinks ? n->cfg->sinks[x->sink].name : "",
                              x->alert,
                              x->status,
                              x->ao ? x->ao->json : "",
                              x->changed_ns,
                              x->sending ? x->new_notified : x->notified,
                              x->sending ? now : x->notified_ns,
                              x->remove};
}

void lw_notifier_collect(struct lw_notifier *n, int64_t now_ns, struct lw_flush *f)
{
    const struct lw_notify_cfg *c = n->cfg;
    bool *due_sink = lw_calloc(c->nsinks + 1, sizeof *due_sink);
    int *want = lw_calloc(n->n + 1, sizeof *want);
    n->nrows = 0;
    n->now = now_ns;
    for (size_t i = 0; i < n->n; i++) {
        struct entry *x = n->e[i];
        if (x->unconfirmed_until && now_ns >= x->unconfirmed_until) {
            /* The engine did not fire it again after a restart: it is not firing. */
            x->unconfirmed_until = 0;
            x->status = 0;
            x->changed_ns = now_ns;
            x->dirty = true;
            resolve_payload(x, now_ns);
        }
    }
    for (size_t i = 0; i < n->n; i++) {
        bool due;
        want[i] = wanted(n, n->e[i], now_ns, &due);
        if (want[i] >= 0 && due)
            due_sink[n->e[i]->sink] = true;
    }
    /* A sink with anything due gets every pending change at once: one notification. */
    size_t nout = 0;
    for (size_t s = 0; s < c->nsinks; s++) {
        size_t cnt = 0;
        lw_buf_reset(&n->bufs[s]);
        if (!due_sink[s])
            continue;
        for (size_t i = 0; i < n->n; i++) {
            struct entry *x = n->e[i];
            if (x->sink != s || want[i] < 0)
                continue;
            x->sending = true;
            x->new_notified = want[i];
            if (want[i] == 0) {
                x->remove = true; /* nothing left to track once the resolution is queued */
                if (!c->send_resolved)
                    continue;
            }
            lw_buf_putc(&n->bufs[s], cnt++ ? ',' : '[');
            lw_buf_puts(&n->bufs[s], x->ao ? x->ao->json : "{}");
            x->queued = true;
        }
        if (cnt) {
            lw_buf_putc(&n->bufs[s], ']');
            n->orows[nout++] = (struct lw_outbox_row){c->sinks[s].name, n->bufs[s].p};
        }
    }
    n->next_due_ns = INT64_MAX;
    for (size_t i = 0; i < n->n; i++) {
        struct entry *x = n->e[i];
        if (want[i] >= 0 && !x->sending) {
            /* Not due yet (its own group_wait): the earliest such is the next due time. */
            int64_t gw = c->group_wait_ns > 0 ? c->group_wait_ns : 0;
            int64_t t = changed_at(x) + gw > now_ns ? changed_at(x) + gw : now_ns;
            if (t < n->next_due_ns)
                n->next_due_ns = t;
        }
        if (want[i] == -2) {
            x->remove = true;
            if (x->notified == -1 && x->sink < c->nsinks)
                n->st.suppressed++;
        }
        if (x->dirty || x->sending || x->remove)
            add_row(n, x, now_ns);
    }
    /* Not lost in silence: once a minute at most, how many alerts were never sent. */
    if (n->st.suppressed > n->suppressed_logged &&
        (n->suppressed_log_ns == 0 || now_ns - n->suppressed_log_ns >= 60 * LW_NS_PER_SEC)) {
        lw_log(LW_INFO,
               "%llu alerts fired and were not sent: resolved within group_wait of firing or of "
               "the end of their inhibition, or while silenced "
               "(logwarden_notifications_suppressed_total)",
               (unsigned long long)(n->st.suppressed - n->suppressed_logged));
        n->suppressed_logged = n->st.suppressed;
        n->suppressed_log_ns = now_ns;
    }
    free(want);
    free(due_sink);
    f->outbox = n->orows;
    f->noutbox = nout;
    f->notifs = n->rows;
    f->nnotifs = n->nrows;
}

void lw_notifier_collect_done(struct lw_notifier *n)
{
    size_t j = 0;
    for (size_t i = 0; i < n->n; i++) {
        struct entry *x = n->e[i];
        if (x->sending) {
            x->notified = x->new_notified;
            x->notified_ns = n->now;
            x->sending = false;
        }
        if (x->queued)
            n->st.sent++;
        x->queued = false;
        x->dirty = false;
        if (x->remove)
            entry_free(x);
        else
            n->e[j++] = x;
    }
    n->n = j;
    n->nrows = 0;
    n->due_ns = n->next_due_ns;
}

void lw_notifier_collect_abort(struct lw_notifier *n)
{
    for (size_t i = 0; i < n->n; i++) {
        n->e[i]->sending = false;
        n->e[i]->queued = false;
        n->e[i]->remove = false;
    }
    n->nrows = 0;
    /* Tried again by the next periodic flush, not after every batch. */
    n->due_ns = INT64_MAX;
}

void lw_notifier_stats(const struct lw_notifier *n, struct lw_notifier_stats *out)
{
    *out = n->st;
}
