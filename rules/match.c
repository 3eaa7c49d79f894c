/* match.c: turns a record into events: PCRE2 JIT match, typed captures, labels, where, time. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "decode.h"
#include "expr.h"
#include "required.h"
#include "rules.h"
#include "timefmt.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Converts the text of a field to its declared type; -1 when it does not convert. */
static int convert(struct lw_value *v, enum lw_type t)
{
    const char *p = v->s.p;
    size_t n = v->s.n;
    int64_t ns;
    switch (t) {
    case LW_T_STRING:
        return 0;
    case LW_T_INT:
        if (lw_parse_i64(p, n, &v->i) < 0)
            return -1;
        v->kind = LW_V_INT;
        return 0;
    case LW_T_FLOAT:
        if (lw_parse_f64(p, n, &v->f) < 0)
            return -1;
        v->kind = LW_V_FLOAT;
        return 0;
    case LW_T_DURATION:
        /* A bare number is seconds (nginx $request_time); else 150ms, 2s, 1m30s. */
        if (lw_parse_f64(p, n, &v->f) == 0) {
            v->kind = LW_V_FLOAT;
            return 0;
        }
        if (lw_parse_duration(p, n, &ns) < 0)
            return -1;
        v->f = (double)ns / 1e9;
        v->kind = LW_V_FLOAT;
        return 0;
    case LW_T_BOOL:
        if ((n == 4 && !memcmp(p, "true", 4)) || (n == 1 && *p == '1')) {
            v->b = true;
        } else if ((n == 5 && !memcmp(p, "false", 5)) || (n == 1 && *p == '0')) {
            v->b = false;
        } else {
            return -1;
        }
        v->kind = LW_V_BOOL;
        return 0;
    }
    return -1;
}

static const char *static_label(const struct lw_ruleset *rs, uint32_t input, const char *key)
{
    if (!rs->inputs || input >= rs->ninputs)
        return NULL;
    const struct lw_rules_input *in = &rs->inputs[input];
    for (size_t i = 0; i < in->nlabels; i++)
        if (strcmp(in->label_keys[i], key) == 0)
            return in->label_vals[i];
    return NULL;
}

/* Matches one event definition; 1 when it yields an event (filled into *ev). */
/* A decoded value of a typed field: numbers and bools from JSON are taken as they are, text
 * is converted. -1 when it does not convert. */
static int convert_decoded(struct lw_value *v, enum lw_type t)
{
    if (v->kind == LW_V_STR)
        return t == LW_T_STRING ? 0 : convert(v, t);
    if (t == LW_T_STRING || v->kind == LW_V_NONE)
        return 0;
    if (v->kind == LW_V_INT && (t == LW_T_FLOAT || t == LW_T_DURATION)) {
        v->f = (double)v->i;
        v->kind = LW_V_FLOAT;
    } else if (v->kind == LW_V_FLOAT && t == LW_T_INT) {
        if (v->f != (double)(int64_t)v->f)
            return -1;
        v->i = (int64_t)v->f;
        v->kind = LW_V_INT;
    } else if ((v->kind == LW_V_BOOL) != (t == LW_T_BOOL)) {
        return -1;
    }
    return 0;
}

/* A match that gave up (a PCRE2 limit, or any other matching error; rc 0: a regex of the
 * event's where:, rc 1: of an alert's where: or of:): the line is a non-match like any other, but
 * counted, and the first one of an event is logged with the limits. The line itself is not logged:
 * it may hold anything. */
static void limit_hit(struct lw_event_def *def, int rc, size_t len)
{
    if (def->regex_limits++ > 0)
        return;
    if (rc == 1) { /* a regex of an alert's where: or of: (lw_rules_eval) */
        lw_log(LW_WARN,
               "event %s (%s:%d): a regex of an alert's where: or of: gave up (limits: match "
               "%d, depth %d): the comparison was false; counted in "
               "logwarden_regex_limit_total{event=\"%s\"}, this is logged once",
               def->name, def->file ? def->file : "?", def->line, LW_EXPR_MATCH_LIMIT,
               LW_EXPR_DEPTH_LIMIT, def->name);
        return;
    }
    if (rc == 0) { /* the where: expression's regex */
        lw_log(LW_WARN,
               "event %s (%s:%d): a regex of its where: gave up on a line of %zu bytes (limits: "
               "match %d, depth %d) and the event was dropped; such events are counted in "
               "logwarden_regex_limit_total{event=\"%s\"}, this is logged once",
               def->name, def->file ? def->file : "?", def->line, len, LW_EXPR_MATCH_LIMIT,
               LW_EXPR_DEPTH_LIMIT, def->name);
        return;
    }
    PCRE2_UCHAR msg[128];
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
        snprintf((char *)msg, sizeof msg, "error %d", rc);
    size_t jit = 0;
    pcre2_pattern_info(def->re, PCRE2_INFO_JITSIZE, &jit);
    lw_log(LW_WARN,
           "event %s (%s:%d): a line of %zu bytes gave up matching (%s; limits: match %d, depth "
           "%d) and is taken as a non-match; such lines are counted in "
           "logwarden_regex_limit_total{event=\"%s\"}, this is logged once",
           def->name, def->file ? def->file : "?", def->line, len, (const char *)msg,
           jit ? LW_RE_MATCH_LIMIT : LW_RE_MATCH_LIMIT_NOJIT, LW_RE_DEPTH_LIMIT, def->name);
}

static int match_one(struct lw_ruleset *rs, struct lw_event_def *def, const struct lw_rec *r,
                     int64_t now_ns, struct lw_event *ev)
{
    struct lw_doc *doc = rs->doc;
    PCRE2_SIZE *ov = NULL;
    uint32_t npairs = 0;
    if (def->re) {
        pcre2_match_data *md = def->md;
        int rc = pcre2_match(def->re, (PCRE2_SPTR)r->body.p, r->body.n, 0, 0, md, def->mctx);
        if (rc < 0) {
            if (rc != PCRE2_ERROR_NOMATCH)
                limit_hit(def, rc, r->body.n);
            return 0;
        }
        ov = pcre2_get_ovector_pointer(md);
        npairs = pcre2_get_ovector_count(md);
    } else if (r->body_fmt == LW_BODY_RAW || lw_doc_parse(doc, r->body_fmt, r->body) < 0) {
        return 0; /* an event without a pattern takes only decodable bodies */
    }
    /* Every event has a field per record label slot: those are copied without the chain below
     * (a label missing from the record is a missing value). */
    for (size_t k = 0; k < def->nplain; k++) {
        struct lw_value *v = &def->vals[def->plain[k]];
        v->s = r->labels[def->plain_slot[k]];
        v->kind = v->s.p ? LW_V_STR : LW_V_NONE;
    }
    for (size_t k = 0; k < def->nother; k++) {
        size_t i = def->other[k];
        const struct lw_field *f = &def->fields[i];
        struct lw_value *v = &def->vals[i];
        const struct lw_str *x;
        v->kind = LW_V_NONE;
        if (f->group >= 0) {
            if ((uint32_t)f->group >= npairs || ov[2 * f->group] == PCRE2_UNSET)
                continue; /* an optional group that did not take part */
            v->kind = LW_V_STR;
            v->s.p = r->body.p + ov[2 * f->group];
            v->s.n = ov[2 * f->group + 1] - ov[2 * f->group];
            if (f->type != LW_T_STRING && convert(v, f->type) < 0) {
                /* nginx writes "-" for an absent number: that is a missing value, not an
                 * error. Anything else that does not convert makes the line a non-match. */
                if (v->s.n == 1 && v->s.p[0] == '-') {
                    v->kind = LW_V_NONE;
                    continue;
                }
                def->conv_errors++;
                return 0;
            }
        } else if (f->extra && r->extra &&
                   (x = lw_labelset_get(r->extra, f->name, strlen(f->name)))) {
            v->kind = LW_V_STR;
            v->s = *x;
        } else if (f->sd && lw_doc_sd(doc, r->sd, f->name + 3, strlen(f->name) - 3, v)) {
            if (f->type != LW_T_STRING && convert(v, f->type) < 0) {
                def->conv_errors++; /* as a capture that does not convert */
                return 0;
            }
        } else if (f->decoded) {
            if (r->body_fmt == LW_BODY_RAW || lw_doc_parse(doc, r->body_fmt, r->body) < 0)
                continue;
            lw_doc_get(doc, f->name, v);
            if (convert_decoded(v, f->type) < 0) {
                def->conv_errors++;
                return 0;
            }
        } else if (f->label >= 0 && r->labels[f->label].p) {
            v->kind = LW_V_STR;
            v->s = r->labels[f->label];
        } else if (f->static_label >= 0) {
            const char *s = static_label(rs, r->input, f->name);
            if (s) {
                v->kind = LW_V_STR;
                v->s = lw_str_c(s);
            }
        }
    }
    ev->def = def;
    ev->fields = def->vals;
    if (def->where) {
        uint64_t gave_up = lw_expr_gave_up(def->where);
        if (!lw_expr_eval(def->where, def->vals, def->nfields)) {
            if (lw_expr_gave_up(def->where) != gave_up)
                limit_hit(def, 0, r->body.n);
            return 0;
        }
    }
    ev->ts_ns = r->ts_ns ? r->ts_ns : r->recv_ns;
    if (def->ts_field >= 0 && def->tsfmt && def->vals[def->ts_field].kind != LW_V_NONE) {
        /* A missing field (an optional capture that took no part, an absent JSON key) keeps
         * the record's time: one rule can read the time from a raw line's own header and
         * take the syslog envelope's where the header was already stripped. */
        const struct lw_value *tv = &def->vals[def->ts_field];
        int64_t ts;
        if (tv->kind == LW_V_STR &&
            lw_tsfmt_parse_tz(def->tsfmt, tv->s.p, tv->s.n, now_ns, r->tz, &ts) == 0) {
            ev->ts_ns = ts;
        } else if (tv->kind == LW_V_INT || tv->kind == LW_V_FLOAT) {
            /* A number holding the time (unix, unix_ms): parse its text, printed when it came
             * from JSON without any. */
            char num[64];
            struct lw_str t = tv->s;
            if (!t.p) {
                int w = tv->kind == LW_V_INT ? snprintf(num, sizeof num, "%lld", (long long)tv->i)
                                             : snprintf(num, sizeof num, "%.6f", tv->f);
                t = (struct lw_str){num, (size_t)(w > 0 ? w : 0)};
            }
            if (lw_tsfmt_parse_tz(def->tsfmt, t.p, t.n, now_ns, r->tz, &ts) < 0) {
                def->ts_errors++;
                return 0;
            }
            ev->ts_ns = ts;
        } else {
            /* A time that does not parse would put the event at arrival time: in replay that
             * jumps the clock to now. The line is a non-match instead, and counted. */
            def->ts_errors++;
            return 0;
        }
    }
    def->matched++;
    return 1;
}

/* ---------------------------------------------------------------- the match index */

static inline void set_has(uint64_t *set, size_t e)
{
    set[e >> 6] |= UINT64_C(1) << (e & 63);
}

static inline bool set_get(const uint64_t *set, size_t e)
{
    return set[e >> 6] >> (e & 63) & 1;
}

/* The limits every `match:` pattern runs with: one context for JIT code, one for the
 * interpreter, created with the ruleset (not per line: the hot path only passes a pointer). */
static void set_limits(struct lw_ruleset *rs)
{
    for (int i = 0; i < 2; i++) {
        pcre2_match_context *mc = pcre2_match_context_create(NULL);
        if (!mc)
            lw_oom(sizeof(pcre2_match_context *));
        pcre2_set_match_limit(mc, i == 0 ? LW_RE_MATCH_LIMIT : LW_RE_MATCH_LIMIT_NOJIT);
        pcre2_set_depth_limit(mc, LW_RE_DEPTH_LIMIT);
        pcre2_set_heap_limit(mc, LW_RE_HEAP_LIMIT_KIB);
        rs->limits[i] = mc;
    }
    for (size_t e = 0; e < rs->nevents; e++) {
        struct lw_event_def *def = &rs->events[e];
        size_t jit = 0;
        if (!def->re)
            continue;
        pcre2_pattern_info(def->re, PCRE2_INFO_JITSIZE, &jit);
        def->mctx = rs->limits[jit > 0 ? 0 : 1];
    }
}

void lw_ruleset_carry_counters(struct lw_ruleset *rs, const struct lw_ruleset *old)
{
    /* Inputs are not reloaded: their indices are the same in both. */
    if (old && old->undecoded && !rs->undecoded && rs->ninputs == old->ninputs) {
        size_t n = (rs->ninputs + 1) * LW_UNDEC_COUNT;
        rs->undecoded = lw_malloc(n * sizeof *rs->undecoded);
        memcpy(rs->undecoded, old->undecoded, n * sizeof *rs->undecoded);
    }
    for (size_t i = 0; old && i < rs->nevents; i++)
        for (size_t j = 0; j < old->nevents; j++)
            if (strcmp(rs->events[i].name, old->events[j].name) == 0) {
                rs->events[i].regex_limits = old->events[j].regex_limits;
                rs->events[i].matched = old->events[j].matched;
                break;
            }
}

void lw_match_index_build(struct lw_ruleset *rs)
{
    set_limits(rs);
    struct lw_match_index *ix = lw_calloc(1, sizeof *ix);
    size_t ne = rs->nevents, ew = (ne + 63) / 64 + 1;
    uint64_t(*first)[4] = lw_calloc(ne + 1, sizeof *first);
    ix->ew = ew;
    ix->scan = lw_litscan_new();
    ix->req = lw_calloc(ne + 1, sizeof *ix->req);
    ix->tried = lw_calloc(ne + 1, sizeof *ix->tried);
    ix->lines = lw_calloc((rs->ninputs + 1) * 2, sizeof *ix->lines);
    for (size_t e = 0; e < ne; e++) {
        struct lw_event_def *def = &rs->events[e];
        struct lw_req req;
        uint32_t opts = 0;
        memset(first[e], 0xff, sizeof first[e]);
        if (!def->re || !def->pattern)
            continue;
        /* The analysis reads the pattern as PCRE2 does without options; any option (from the
         * pattern's start) changes what bytes mean, and then nothing is assumed. */
        pcre2_pattern_info(def->re, PCRE2_INFO_ALLOPTIONS, &opts);
        if ((opts & ~(uint32_t)PCRE2_ANCHORED) != 0 ||
            lw_req_analyze(&req, def->pattern, strlen(def->pattern)) < 0)
            continue;
        /* Anchored at the start of the line: only lines starting with one of its first bytes
         * can match, so a line only tries the rules of its own format. */
        if ((opts & PCRE2_ANCHORED) && !req.can_be_empty)
            memcpy(first[e], req.first, sizeof first[e]);
        struct lw_rule_req *q = &ix->req[e];
        for (int f = 0; f < req.nfactors; f++) {
            for (int a = 0; a < req.f[f].n; a++)
                q->id[f][a] =
                    (uint16_t)lw_litscan_add(ix->scan, req.f[f].alt[a].s, req.f[f].alt[a].len);
            q->nalt[f] = (uint8_t)req.f[f].n;
        }
        q->nf = (uint8_t)req.nfactors;
    }
    lw_litscan_build(ix->scan);
    size_t nl = lw_litscan_words(ix->scan) * 64;
    ix->found = lw_calloc(nl / 64 + 1, sizeof *ix->found);
    ix->want = lw_calloc(ew, sizeof *ix->want);
    ix->always = lw_calloc(ew, sizeof *ix->always);
    ix->by_lit = lw_calloc((nl + 1) * ew, sizeof *ix->by_lit);
    ix->gate = lw_calloc(257 * ew, sizeof *ix->gate);
    for (size_t e = 0; e < ne; e++) {
        const struct lw_rule_req *q = &ix->req[e];
        if (q->nf == 0)
            set_has(ix->always, e);
        for (int a = 0; q->nf && a < q->nalt[0]; a++)
            set_has(ix->by_lit + (size_t)q->id[0][a] * ew, e);
        for (unsigned b = 0; b <= 256; b++)
            if (b == 256 || (first[e][b >> 6] >> (b & 63) & 1)) {
                set_has(ix->gate + b * ew, e);
                ix->scan_for[b] |= q->nf > 0;
            }
    }
    free(first);
    rs->index = ix;
}

void lw_match_index_free(struct lw_match_index *ix)
{
    if (!ix)
        return;
    lw_litscan_free(ix->scan);
    free(ix->req);
    free(ix->gate);
    free(ix->always);
    free(ix->by_lit);
    free(ix->found);
    free(ix->want);
    free(ix->tried);
    free(ix->lines);
    free(ix);
}

/* Whether event e takes lines of input in (ninputs: any other) with a raw body or not. */
static bool takes(const struct lw_ruleset *rs, const struct lw_event_def *def, size_t in, bool raw)
{
    if (!def->re && raw)
        return false;
    return !def->on_input || (in < rs->ninputs && def->on_input[in]);
}

uint64_t lw_ruleset_skipped(const struct lw_ruleset *rs, size_t e)
{
    const struct lw_match_index *ix = rs->index;
    uint64_t n = 0;
    if (!ix)
        return 0;
    for (size_t in = 0; in <= rs->ninputs; in++)
        for (int raw = 0; raw < 2; raw++)
            if (takes(rs, &rs->events[e], in, raw))
                n += ix->lines[in * 2 + (size_t)raw];
    return n - ix->tried[e];
}

/* Whether the line holds a literal of every factor. */
static inline bool req_pass(const struct lw_rule_req *q, const uint64_t *found)
{
    for (int f = 0; f < q->nf; f++) {
        bool any = false;
        for (int a = 0; a < q->nalt[f] && !any; a++)
            any = set_get(found, q->id[f][a]);
        if (!any)
            return false;
    }
    return true;
}

int lw_ruleset_match(struct lw_ruleset *rs, const struct lw_rec *r, int64_t now_ns,
                     lw_event_fn *emit, void *payload)
{
    struct lw_match_index *ix = rs->index;
    size_t ew = ix->ew;
    int n = 0;
    unsigned first = r->body.n ? (unsigned char)r->body.p[0] : 256;
    const uint64_t *gate = ix->gate + first * ew;
    uint64_t *want = ix->want;
    ix->lines[(r->input < rs->ninputs ? r->input : rs->ninputs) * 2 +
              (r->body_fmt == LW_BODY_RAW)]++;
    lw_doc_reset(rs->doc);
    /* The events to try: those the line's first byte allows, and of those with literals only
     * the ones whose first literal factor one pass over the line found. */
    if (ix->scan_for[first]) {
        size_t fw = lw_litscan_words(ix->scan);
        lw_litscan_run(ix->scan, r->body.p, r->body.n, ix->found);
        memcpy(want, ix->always, ew * sizeof *want);
        for (size_t w = 0; w < fw; w++)
            for (uint64_t bits = ix->found[w]; bits; bits &= bits - 1) {
                const uint64_t *m = ix->by_lit + ((w << 6) + (size_t)__builtin_ctzll(bits)) * ew;
                for (size_t k = 0; k < ew; k++)
                    want[k] |= m[k];
            }
        for (size_t k = 0; k < ew; k++)
            want[k] &= gate[k];
    } else {
        memcpy(want, gate, ew * sizeof *want);
    }
    for (size_t w = 0; w < ew; w++)
        for (uint64_t bits = want[w]; bits; bits &= bits - 1) {
            size_t i = (w << 6) + (size_t)__builtin_ctzll(bits);
            struct lw_event_def *def = &rs->events[i];
            struct lw_event ev;
            if (!takes(rs, def, r->input, r->body_fmt == LW_BODY_RAW))
                continue;
            if (ix->req[i].nf > 1 && !req_pass(&ix->req[i], ix->found))
                continue;
            ix->tried[i]++;
            if (match_one(rs, def, r, now_ns, &ev)) {
                ev.index = (int)i;
                emit(&ev, payload);
                n++;
            }
        }
    /* A body that should have decoded and did not: counted once per record. */
    struct lw_doc *doc = rs->doc;
    if (doc->parsed && !doc->ok) {
        rs->decode_errors++;
        if (!rs->undecoded)
            rs->undecoded = lw_calloc((rs->ninputs + 1) * LW_UNDEC_COUNT, sizeof *rs->undecoded);
        size_t in = r->input < rs->ninputs ? r->input : rs->ninputs;
        rs->undecoded[in * LW_UNDEC_COUNT + doc->why]++;
    }
    return n;
}

const char *const lw_undecoded_names[LW_UNDEC_COUNT] = {"json_syntax", "json_not_object",
                                                        "json_too_deep", "logfmt_syntax"};

uint64_t lw_ruleset_undecoded(const struct lw_ruleset *rs, size_t input, enum lw_undecoded why)
{
    if (!rs->undecoded || input > rs->ninputs || why >= LW_UNDEC_COUNT)
        return 0;
    return rs->undecoded[input * LW_UNDEC_COUNT + why];
}

bool lw_rules_eval(const struct lw_expr *e, const struct lw_event *ev)
{
    lw_expr_gave_up_now = false;
    bool r = lw_expr_eval(e, ev->fields, ev->def->nfields);
    /* An alert's where:/of: regex that gave up is counted on the event it read, as the event's
     * own where: is (the ruleset owns the event definitions; the event only borrows one). */
    if (lw_expr_gave_up_now)
        limit_hit((struct lw_event_def *)ev->def, 1, 0);
    return r;
}
