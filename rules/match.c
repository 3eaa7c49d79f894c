/* match.c: turns a record into events: PCRE2 JIT match, typed captures, labels, where, time. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "decode.h"
#include "expr.h"
#include "prefilter.h"
#include "rules.h"
#include "timefmt.h"

#include <pcre2.h>
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

static int match_one(struct lw_ruleset *rs, struct lw_event_def *def, const struct lw_rec *r,
                     int64_t now_ns, struct lw_event *ev)
{
    struct lw_doc *doc = rs->doc;
    PCRE2_SIZE *ov = NULL;
    uint32_t npairs = 0;
    if (def->re) {
        pcre2_match_data *md = def->md;
        int rc = pcre2_match(def->re, (PCRE2_SPTR)r->body.p, r->body.n, 0, 0, md, NULL);
        if (rc < 0)
            return 0;
        ov = pcre2_get_ovector_pointer(md);
        npairs = pcre2_get_ovector_count(md);
    } else if (r->body_fmt == LW_BODY_RAW || lw_doc_parse(doc, r->body_fmt, r->body) < 0) {
        return 0; /* an event without a pattern takes only decodable bodies */
    }
    for (size_t i = 0; i < def->nfields; i++) {
        const struct lw_field *f = &def->fields[i];
        struct lw_value *v = &def->vals[i];
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
        } else if (f->decoded) {
            if (r->body_fmt == LW_BODY_RAW || lw_doc_parse(doc, r->body_fmt, r->body) < 0)
                continue;
            lw_doc_get(doc, f->name, v);
            if (convert_decoded(v, f->type) < 0) {
                def->conv_errors++;
                return 0;
            }
        } else if (f->label >= 0) {
            if (r->labels[f->label].p) {
                v->kind = LW_V_STR;
                v->s = r->labels[f->label];
            }
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
    if (def->where && !lw_expr_eval(def->where, def->vals, def->nfields))
        return 0;
    ev->ts_ns = r->ts_ns ? r->ts_ns : r->recv_ns;
    if (def->ts_field >= 0 && def->tsfmt) {
        const struct lw_value *tv = &def->vals[def->ts_field];
        int64_t ts;
        if (tv->kind == LW_V_STR &&
            lw_tsfmt_parse(def->tsfmt, tv->s.p, tv->s.n, now_ns, &ts) == 0) {
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
            if (lw_tsfmt_parse(def->tsfmt, t.p, t.n, now_ns, &ts) < 0) {
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

int lw_ruleset_match(struct lw_ruleset *rs, const struct lw_rec *r, int64_t now_ns,
                     lw_event_fn *emit, void *payload)
{
    int n = 0;
    struct lw_bigrams bg;
    bool have_bg = false;
    lw_doc_reset(rs->doc);
    for (size_t i = 0; i < rs->nevents; i++) {
        struct lw_event_def *def = &rs->events[i];
        struct lw_event ev;
        if (!def->re && r->body_fmt == LW_BODY_RAW)
            continue;
        if (def->on_input && (r->input >= rs->ninputs || !def->on_input[r->input]))
            continue;
        const struct lw_prefilter *pf = def->prefilter;
        if (pf && pf->len) {
            /* With few literals memmem alone is cheaper than building the line's bigrams. */
            if (rs->nliterals < 8) {
                if (!memmem(r->body.p, r->body.n, pf->lit, pf->len)) {
                    def->skipped++;
                    continue;
                }
            } else if (!have_bg) {
                lw_prefilter_line(&bg, r->body.p, r->body.n);
                have_bg = true;
            }
            if (rs->nliterals >= 8 && !lw_prefilter_pass(pf, &bg, r->body.p, r->body.n)) {
                def->skipped++;
                continue;
            }
        }
        if (match_one(rs, def, r, now_ns, &ev)) {
            ev.index = (int)i;
            emit(&ev, payload);
            n++;
        }
    }
    /* A body that should have decoded and did not: counted once per record. */
    struct lw_doc *doc = rs->doc;
    if (doc->parsed && !doc->ok)
        rs->decode_errors++;
    return n;
}

bool lw_rules_eval(const struct lw_expr *e, const struct lw_event *ev)
{
    return lw_expr_eval(e, ev->fields, ev->def->nfields);
}
