/* expr.c: compiles `where:` / `of:` expressions once at load into flat bytecode, and evaluates it
 * per event without allocating or re-parsing (rules module). */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "expr.h"

#include <inttypes.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Input-driven sizes are capped so a hostile rule file gets an error, never a stack overflow. */
#define LW_EXPR_MAX_SRC 4096
#define LW_EXPR_MAX_DEPTH 64

/*
 * The bytecode has one register, `acc`, the value of the last test. `and` / `or` short-circuit
 * with forward jumps that leave acc as the result, so evaluation is one loop with no stack:
 *
 *   a and b or not c   =>   0 CMP a; 1 JF 4; 2 CMP b; 3 JT 6; 4 CMP c; 5 NOT; (end 6)
 *
 * (1 is parsed as JF 3, landing on the JT; thread_jumps() sees that JT cannot be taken there.)
 */
enum op_code {
    OP_CONST,  /* acc = val */
    OP_TRUTHY, /* acc = operand a is a true bool, a non-empty string, a non-zero number */
    OP_EXISTS, /* acc = field a is present */
    OP_CMP,    /* acc = a CMP b; false when either is missing or they do not convert */
    OP_MATCH,  /* acc = a =~ / !~ regex b; false when a is missing or a PCRE2 limit was hit */
    OP_NOT,    /* acc = !acc */
    OP_JF,     /* if !acc jump to a */
    OP_JT,     /* if acc jump to a */
};

enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_RE, CMP_NRE };
static const char *const cmp_names[] = {"==", "!=", "<", "<=", ">", ">=", "=~", "!~"};

struct op {
    uint8_t code; /* enum op_code */
    uint8_t cmp;  /* enum cmp_op (OP_CMP, OP_MATCH) */
    bool val;     /* OP_CONST */
    uint32_t a;   /* operand index, or the jump target */
    uint32_t b;   /* right operand index (OP_CMP) or regex index (OP_MATCH) */
};

struct operand {
    int32_t field;       /* >= 0: index into the event's fields; -1: the literal below */
    struct lw_value lit; /* a string literal's bytes belong to the expr */
};

struct regex {
    pcre2_code *code;
    pcre2_match_data *md; /* written by every match: the reason an expr is one thread's */
};

struct lw_expr {
    struct op *ops;
    size_t nops, capops;
    struct operand *opnds;
    size_t nopnds, capopnds;
    struct regex *rx;
    size_t nrx, caprx;
    pcre2_match_context *mctx; /* the limits, shared by every regex of this expr */
    uint64_t *gave_up;         /* matches that gave up at a limit (eval takes the expr as const) */
};

/* ---- compile: tokens ---- */

enum tok_kind {
    T_EOF,
    T_IDENT,
    T_NUMBER,
    T_DURATION,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_CMP,
    T_AND,
    T_OR,
    T_NOT,
    T_EXISTS,
    T_TRUE,
    T_FALSE,
};

struct tok {
    enum tok_kind kind;
    size_t off, len; /* raw bytes in src; a string's include its quotes */
    int col;         /* 1-based byte column of the first byte */
    enum cmp_op cmp; /* T_CMP */
    double f;        /* T_NUMBER, T_DURATION (seconds) */
    int64_t i;       /* T_NUMBER when is_int */
    bool is_int;     /* the number is an exact int64 (compared without rounding) */
};

struct parser {
    const char *src;
    size_t len, pos;
    struct tok tok; /* the lookahead */
    struct lw_expr *e;
    lw_expr_resolve_fn *resolve;
    void *payload;
    int depth;    /* nesting of parentheses and `not` */
    int *err_col; /* OUT: where the first error is */
    struct lw_err *err;
};

/* What the parser knows of an operand while type-checking its comparison. */
struct opinfo {
    uint32_t idx;
    bool is_field;
    enum lw_type type; /* declared type of a field */
    struct tok tok;    /* where it is, for messages */
};

static const char *const type_names[] = {"string", "int", "float", "duration", "bool"};

static int fail(struct parser *p, int col, const char *fmt, ...) LW_PRINTF(3, 4);

static int fail(struct parser *p, int col, const char *fmt, ...)
{
    if (p->err) {
        va_list ap;
        va_start(ap, fmt);
        p->err->code = LW_EINVAL;
        vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
        va_end(ap);
    }
    if (p->err_col)
        *p->err_col = col;
    return LW_EINVAL;
}

static bool is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c) || c == '.';
}

/* The end of the name starting at i: a syslog structured-data field (sd.<SD-ID>.<PARAM>) also
 * takes '@' and '-', which SD-IDs hold ("sd.origin@32473.zone") and which mean nothing else in
 * an expression. */
static size_t ident_end(const char *s, size_t i, size_t n)
{
    bool sd = n - i > 3 && !memcmp(s + i, "sd.", 3);
    while (i < n && (is_ident_char(s[i]) || (sd && (s[i] == '@' || s[i] == '-'))))
        i++;
    return i;
}

/* A token's text fit for a message: at most 32 bytes, anything unprintable as '?'. */
static const char *tok_text(const struct parser *p, const struct tok *t, char *buf, size_t size)
{
    size_t n = t->len < size - 1 ? t->len : size - 1;
    if (n > 32)
        n = 32;
    for (size_t k = 0; k < n; k++) {
        char c = p->src[t->off + k];
        buf[k] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    buf[n] = '\0';
    return buf;
}

static bool keyword_is(const char *s, size_t n, const char *kw)
{
    return strlen(kw) == n && memcmp(s, kw, n) == 0;
}

/* The escapes of a string literal; any other backslash is kept as written, so a regex reads the
 * same as in a YAML file ("\d+" and "\\d+" are both \d+). */
static bool is_known_escape(char c)
{
    return c == '"' || c == '\'' || c == '\\' || c == 'n' || c == 't';
}

/* Decodes a literal's body raw[0..n) into out (room for n bytes); returns the decoded length. */
static size_t unescape(const char *raw, size_t n, char *out)
{
    size_t d = 0;
    for (size_t r = 0; r < n; r++) {
        char c = raw[r];
        if (c == '\\' && r + 1 < n && is_known_escape(raw[r + 1])) {
            c = raw[++r];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        out[d++] = c;
    }
    return d;
}

/* The raw index of decoded byte `want` of a literal body (for regex error columns). */
static size_t raw_index(const char *raw, size_t n, size_t want)
{
    size_t r = 0;
    for (size_t d = 0; d < want && r < n; d++)
        r += raw[r] == '\\' && r + 1 < n && is_known_escape(raw[r + 1]) ? 2 : 1;
    return r;
}

static int lex_number(struct parser *p, struct tok *t)
{
    const char *s = p->src;
    size_t q = p->pos, n = p->len;
    if (s[q] == '-')
        q++;
    while (q < n && is_digit(s[q]))
        q++;
    if (q < n && s[q] == '.') {
        q++;
        while (q < n && is_digit(s[q]))
            q++;
    }
    if (q < n && (s[q] == 'e' || s[q] == 'E')) {
        size_t x = q + 1;
        if (x < n && (s[x] == '+' || s[x] == '-'))
            x++;
        if (x < n && is_digit(s[x])) {
            q = x;
            while (q < n && is_digit(s[q]))
                q++;
        }
    }
    char buf[40];
    if (q < n && is_ident_char(s[q])) {
        /* Letters right after digits: a duration (150ms, 1h30m) or nothing valid. */
        int64_t ns;
        while (q < n && is_ident_char(s[q]))
            q++;
        t->len = q - t->off;
        if (s[t->off] == '-' || lw_parse_duration(s + t->off, t->len, &ns) < 0)
            return fail(p, t->col, "invalid number or duration '%s'",
                        tok_text(p, t, buf, sizeof buf));
        t->kind = T_DURATION;
        t->f = (double)ns / (double)LW_NS_PER_SEC;
        p->pos = q;
        return 0;
    }
    t->len = q - t->off;
    if (lw_parse_f64(s + t->off, t->len, &t->f) < 0)
        return fail(p, t->col, "invalid number '%s'", tok_text(p, t, buf, sizeof buf));
    t->is_int = lw_parse_i64(s + t->off, t->len, &t->i) == 0;
    t->kind = T_NUMBER;
    p->pos = q;
    return 0;
}

static int lex_string(struct parser *p, struct tok *t)
{
    const char *s = p->src;
    char quote = s[p->pos];
    size_t q = p->pos + 1;
    while (q < p->len && s[q] != quote)
        q += s[q] == '\\' && q + 1 < p->len ? 2 : 1;
    if (q >= p->len)
        return fail(p, t->col, "unterminated string");
    t->kind = T_STRING;
    t->len = q + 1 - t->off;
    p->pos = q + 1;
    return 0;
}

/* Reads the next token into p->tok. */
static int lex(struct parser *p)
{
    const char *s = p->src;
    struct tok *t = &p->tok;
    while (p->pos < p->len &&
           (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r'))
        p->pos++;
    memset(t, 0, sizeof *t);
    t->off = p->pos;
    t->col = (int)p->pos + 1;
    if (p->pos >= p->len) {
        t->kind = T_EOF;
        return 0;
    }
    char c = s[p->pos], d = p->pos + 1 < p->len ? s[p->pos + 1] : '\0';
    if (is_ident_start(c)) {
        size_t q = ident_end(s, p->pos, p->len);
        t->len = q - p->pos;
        p->pos = q;
        const char *w = s + t->off;
        t->kind = keyword_is(w, t->len, "and")      ? T_AND
                  : keyword_is(w, t->len, "or")     ? T_OR
                  : keyword_is(w, t->len, "not")    ? T_NOT
                  : keyword_is(w, t->len, "exists") ? T_EXISTS
                  : keyword_is(w, t->len, "true")   ? T_TRUE
                  : keyword_is(w, t->len, "false")  ? T_FALSE
                                                    : T_IDENT;
        return 0;
    }
    if (is_digit(c) || ((c == '-' || c == '.') && is_digit(d)) ||
        (c == '-' && d == '.' && p->pos + 2 < p->len && is_digit(s[p->pos + 2])))
        return lex_number(p, t);
    if (c == '"' || c == '\'')
        return lex_string(p, t);
    t->len = 1;
    switch (c) {
    case '(':
        t->kind = T_LPAREN;
        break;
    case ')':
        t->kind = T_RPAREN;
        break;
    case '=':
        if (d != '=' && d != '~')
            return fail(p, t->col, "unexpected '=' (use '==')");
        t->kind = T_CMP;
        t->cmp = d == '=' ? CMP_EQ : CMP_RE;
        t->len = 2;
        break;
    case '!':
        if (d != '=' && d != '~')
            return fail(p, t->col, "unexpected '!' (use 'not')");
        t->kind = T_CMP;
        t->cmp = d == '=' ? CMP_NE : CMP_NRE;
        t->len = 2;
        break;
    case '<':
    case '>':
        t->kind = T_CMP;
        t->len = d == '=' ? 2 : 1;
        t->cmp = c == '<' ? (d == '=' ? CMP_LE : CMP_LT) : (d == '=' ? CMP_GE : CMP_GT);
        break;
    case '&':
        return fail(p, t->col, "unexpected '&' (use 'and')");
    case '|':
        return fail(p, t->col, "unexpected '|' (use 'or')");
    default:
        if (c >= 0x20 && c < 0x7f)
            return fail(p, t->col, "unexpected character '%c'", c);
        return fail(p, t->col, "unexpected byte 0x%02x", (unsigned char)c);
    }
    p->pos += t->len;
    return 0;
}

/* ---- compile: code ---- */

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 8;
    return lw_realloc(v, *cap * size);
}

/* Appends an op; the pointer is valid until the next emit. */
static struct op *emit(struct lw_expr *e, enum op_code code)
{
    e->ops = grow(e->ops, &e->capops, e->nops, sizeof *e->ops);
    struct op *o = &e->ops[e->nops++];
    memset(o, 0, sizeof *o);
    o->code = (uint8_t)code;
    return o;
}

static uint32_t add_operand(struct lw_expr *e, int32_t field, const struct lw_value *lit)
{
    e->opnds = grow(e->opnds, &e->capopnds, e->nopnds, sizeof *e->opnds);
    struct operand *o = &e->opnds[e->nopnds];
    memset(o, 0, sizeof *o);
    o->field = field;
    if (lit)
        o->lit = *lit;
    return (uint32_t)e->nopnds++;
}

static int parse_or(struct parser *p);

static int enter(struct parser *p)
{
    if (++p->depth > LW_EXPR_MAX_DEPTH)
        return fail(p, p->tok.col, "expression nested too deeply (limit %d)", LW_EXPR_MAX_DEPTH);
    return 0;
}

static int unexpected(struct parser *p)
{
    char buf[40];
    const struct tok *t = &p->tok;
    if (t->kind == T_EOF)
        return fail(p, t->col, "unexpected end of expression");
    const char *w = p->src + t->off;
    static const char *const kws[] = {"and", "or", "not", "exists", "true", "false"};
    for (size_t k = 0; t->kind == T_IDENT && k < sizeof kws / sizeof *kws; k++)
        if (strlen(kws[k]) == t->len && strncasecmp(w, kws[k], t->len) == 0)
            return fail(p, t->col, "unexpected '%s' (keywords are lower-case: '%s')",
                        tok_text(p, t, buf, sizeof buf), kws[k]);
    return fail(p, t->col, "unexpected '%s'", tok_text(p, t, buf, sizeof buf));
}

/* Parses one operand (field or literal) and records it; `after` names the operator it follows,
 * for the message when the expression ends there. */
static int parse_operand(struct parser *p, struct opinfo *info, const char *after)
{
    struct tok *t = &p->tok;
    struct lw_value v = {0};
    memset(info, 0, sizeof *info);
    info->tok = *t;
    switch (t->kind) {
    case T_IDENT: {
        enum lw_type type = LW_T_STRING;
        int id = p->resolve ? p->resolve(p->src + t->off, t->len, &type, p->payload) : -1;
        if (id < 0)
            return fail(p, t->col, "unknown field '%.*s'", (int)(t->len > 64 ? 64 : t->len),
                        p->src + t->off);
        if ((unsigned)type > LW_T_BOOL)
            type = LW_T_STRING;
        info->is_field = true;
        info->type = type;
        info->idx = add_operand(p->e, id, NULL);
        return lex(p);
    }
    case T_NUMBER:
        v.kind = t->is_int ? LW_V_INT : LW_V_FLOAT;
        v.i = t->i;
        v.f = t->f;
        break;
    case T_DURATION:
        v.kind = LW_V_FLOAT;
        v.f = t->f;
        break;
    case T_TRUE:
    case T_FALSE:
        v.kind = LW_V_BOOL;
        v.b = t->kind == T_TRUE;
        break;
    case T_STRING: {
        char *s = lw_malloc(t->len); /* >= 2: the quotes make room for the terminator */
        v.kind = LW_V_STR;
        v.s.n = unescape(p->src + t->off + 1, t->len - 2, s);
        s[v.s.n] = '\0';
        v.s.p = s;
        break;
    }
    default:
        if (after && t->kind == T_EOF)
            return fail(p, t->col, "expected a value after '%s'", after);
        return unexpected(p);
    }
    info->idx = add_operand(p->e, -1, &v);
    return lex(p);
}

static bool value_truthy(const struct lw_value *v)
{
    switch (v->kind) {
    case LW_V_STR:
        return v->s.n > 0;
    case LW_V_INT:
        return v->i != 0;
    case LW_V_FLOAT:
        return v->f != 0;
    case LW_V_BOOL:
        return v->b;
    default:
        return false;
    }
}

static bool is_ordering(enum cmp_op c)
{
    return c == CMP_LT || c == CMP_LE || c == CMP_GT || c == CMP_GE;
}

/* A field declared numeric or bool against a string literal: refused unless the comparison is
 * == / != and the literal converts ("500", "true"), which is what the run-time conversion does. */
static int check_field_vs_literal(struct parser *p, const struct opinfo *f, const struct opinfo *l,
                                  const struct tok *op)
{
    if (!f->is_field || f->type == LW_T_STRING || l->is_field || l->tok.kind != T_STRING)
        return 0;
    const struct lw_value *s = &p->e->opnds[l->idx].lit;
    double x;
    bool converts = f->type == LW_T_BOOL
                        ? keyword_is(s->s.p, s->s.n, "true") || keyword_is(s->s.p, s->s.n, "false")
                        : lw_parse_f64(s->s.p, s->s.n, &x) == 0;
    if (is_ordering(op->cmp) || !converts)
        return fail(p, op->col, "cannot compare %s field '%.*s' with a string", type_names[f->type],
                    (int)(f->tok.len > 64 ? 64 : f->tok.len), p->src + f->tok.off);
    return 0;
}

static int compile_regex(struct parser *p, const struct opinfo *r, uint32_t *out)
{
    struct lw_expr *e = p->e;
    const struct lw_value *pat = &e->opnds[r->idx].lit;
    int code;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat->s.p, pat->s.n, PCRE2_NEVER_UTF, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        size_t raw = raw_index(p->src + r->tok.off + 1, r->tok.len - 2, off);
        return fail(p, r->tok.col + 1 + (int)raw, "bad regex: %s", (char *)msg);
    }
    /* JIT is an optimisation: where it is unavailable the interpreter runs the same pattern. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        lw_oom(sizeof(pcre2_match_data *));
    if (!e->mctx) {
        e->mctx = pcre2_match_context_create(NULL);
        if (!e->mctx)
            lw_oom(sizeof(pcre2_match_context *));
        pcre2_set_match_limit(e->mctx, LW_EXPR_MATCH_LIMIT);
        pcre2_set_depth_limit(e->mctx, LW_EXPR_DEPTH_LIMIT);
        pcre2_set_heap_limit(e->mctx, LW_EXPR_HEAP_LIMIT_KIB);
        e->gave_up = lw_calloc(1, sizeof *e->gave_up);
    }
    e->rx = grow(e->rx, &e->caprx, e->nrx, sizeof *e->rx);
    e->rx[e->nrx].code = re;
    e->rx[e->nrx].md = md;
    *out = (uint32_t)e->nrx++;
    return 0;
}

/* primary := "(" expr ")" | "exists" "(" FIELD ")" | operand [CMP operand] (true/false included) */
static int parse_primary(struct parser *p)
{
    struct lw_expr *e = p->e;
    int rc;
    if (p->tok.kind == T_LPAREN) {
        if ((rc = enter(p)) < 0 || (rc = lex(p)) < 0 || (rc = parse_or(p)) < 0)
            return rc;
        if (p->tok.kind != T_RPAREN)
            return fail(p, p->tok.col, "expected ')' here");
        p->depth--;
        return lex(p);
    }
    if (p->tok.kind == T_EXISTS) {
        if ((rc = lex(p)) < 0)
            return rc;
        if (p->tok.kind != T_LPAREN)
            return fail(p, p->tok.col, "expected '(' after 'exists'");
        if ((rc = lex(p)) < 0)
            return rc;
        if (p->tok.kind != T_IDENT)
            return fail(p, p->tok.col, "exists() takes a field name");
        struct opinfo f;
        if ((rc = parse_operand(p, &f, NULL)) < 0)
            return rc;
        if (p->tok.kind != T_RPAREN)
            return fail(p, p->tok.col, "expected ')' here");
        emit(e, OP_EXISTS)->a = f.idx;
        return lex(p);
    }

    struct opinfo l, r;
    if ((rc = parse_operand(p, &l, NULL)) < 0)
        return rc;
    if (p->tok.kind != T_CMP) {
        if (l.is_field) {
            emit(e, OP_TRUTHY)->a = l.idx;
        } else {
            emit(e, OP_CONST)->val = value_truthy(&e->opnds[l.idx].lit);
        }
        return 0;
    }
    struct tok op = p->tok;
    if ((rc = lex(p)) < 0 || (rc = parse_operand(p, &r, cmp_names[op.cmp])) < 0)
        return rc;
    if (op.cmp == CMP_RE || op.cmp == CMP_NRE) {
        uint32_t rx = 0;
        if (r.is_field || r.tok.kind != T_STRING)
            return fail(p, r.tok.col, "the right side of '%s' must be a string (the regex)",
                        cmp_names[op.cmp]);
        if (l.is_field && l.type != LW_T_STRING)
            return fail(p, op.col, "cannot match %s field '%.*s' against a regex",
                        type_names[l.type], (int)(l.tok.len > 64 ? 64 : l.tok.len),
                        p->src + l.tok.off);
        if (!l.is_field && l.tok.kind != T_STRING)
            return fail(p, op.col, "only a field or a string can be matched against a regex");
        if ((rc = compile_regex(p, &r, &rx)) < 0)
            return rc;
        struct op *o = emit(e, OP_MATCH);
        o->cmp = (uint8_t)op.cmp;
        o->a = l.idx;
        o->b = rx;
        return 0;
    }
    if ((rc = check_field_vs_literal(p, &l, &r, &op)) < 0 ||
        (rc = check_field_vs_literal(p, &r, &l, &op)) < 0)
        return rc;
    struct op *o = emit(e, OP_CMP);
    o->cmp = (uint8_t)op.cmp;
    o->a = l.idx;
    o->b = r.idx;
    return 0;
}

/* not := "not" not | primary */
static int parse_not(struct parser *p)
{
    int rc;
    if (p->tok.kind != T_NOT)
        return parse_primary(p);
    if ((rc = enter(p)) < 0 || (rc = lex(p)) < 0 || (rc = parse_not(p)) < 0)
        return rc;
    p->depth--;
    emit(p->e, OP_NOT);
    return 0;
}

/* and := not ("and" not)*: each `and` jumps past the chain when acc is already false. The jump
 * lands on the next one, which jumps on; thread_jumps() shortens these chains afterwards. */
static int parse_and(struct parser *p)
{
    int rc = parse_not(p);
    while (rc == 0 && p->tok.kind == T_AND) {
        uint32_t j = (uint32_t)p->e->nops;
        emit(p->e, OP_JF);
        if ((rc = lex(p)) < 0 || (rc = parse_not(p)) < 0)
            return rc;
        p->e->ops[j].a = (uint32_t)p->e->nops;
    }
    return rc;
}

/* or := and ("or" and)* */
static int parse_or(struct parser *p)
{
    int rc = parse_and(p);
    while (rc == 0 && p->tok.kind == T_OR) {
        uint32_t j = (uint32_t)p->e->nops;
        emit(p->e, OP_JT);
        if ((rc = lex(p)) < 0 || (rc = parse_and(p)) < 0)
            return rc;
        p->e->ops[j].a = (uint32_t)p->e->nops;
    }
    return rc;
}

/* A taken jump knows acc; where it lands on another jump, the outcome of that one is known too:
 * follow it (same kind) or step over it (opposite kind). Targets only move forward. */
static void thread_jumps(struct lw_expr *e)
{
    for (size_t k = 0; k < e->nops; k++) {
        struct op *o = &e->ops[k];
        if (o->code != OP_JF && o->code != OP_JT)
            continue;
        while (o->a < e->nops && (e->ops[o->a].code == OP_JF || e->ops[o->a].code == OP_JT))
            o->a = e->ops[o->a].code == o->code ? e->ops[o->a].a : o->a + 1;
    }
}

int lw_expr_compile(struct lw_expr **out, const char *src, lw_expr_resolve_fn *resolve,
                    void *payload, int *err_col, struct lw_err *err)
{
    struct parser p = {.src = src ? src : "",
                       .resolve = resolve,
                       .payload = payload,
                       .err_col = err_col,
                       .err = err};
    int rc;
    *out = NULL;
    p.len = strlen(p.src);
    if (p.len > LW_EXPR_MAX_SRC)
        return fail(&p, LW_EXPR_MAX_SRC + 1, "expression too long (limit %d bytes)",
                    LW_EXPR_MAX_SRC);
    p.e = lw_calloc(1, sizeof *p.e);
    if ((rc = lex(&p)) < 0)
        goto out_free_expr;
    if (p.tok.kind == T_EOF) {
        rc = fail(&p, 1, "empty expression");
        goto out_free_expr;
    }
    if ((rc = parse_or(&p)) < 0)
        goto out_free_expr;
    if (p.tok.kind != T_EOF) {
        rc = unexpected(&p);
        goto out_free_expr;
    }
    thread_jumps(p.e);
    *out = p.e;
    return 0;

out_free_expr:
    lw_expr_free(p.e);
    return rc;
}

void lw_expr_free(struct lw_expr *e)
{
    if (!e)
        return;
    for (size_t k = 0; k < e->nopnds; k++)
        if (e->opnds[k].field < 0 && e->opnds[k].lit.kind == LW_V_STR)
            free((void *)e->opnds[k].lit.s.p);
    for (size_t k = 0; k < e->nrx; k++) {
        pcre2_match_data_free(e->rx[k].md);
        pcre2_code_free(e->rx[k].code);
    }
    pcre2_match_context_free(e->mctx);
    free(e->gave_up);
    free(e->ops);
    free(e->opnds);
    free(e->rx);
    free(e);
}

/* ---- evaluate ---- */

_Thread_local bool lw_expr_gave_up_now;

uint64_t lw_expr_gave_up(const struct lw_expr *e)
{
    return e && e->gave_up ? *e->gave_up : 0;
}

static const struct lw_value none_value = {.kind = LW_V_NONE};

static const struct lw_value *operand_value(const struct lw_expr *e, uint32_t k,
                                            const struct lw_value *fields, size_t nfields)
{
    const struct operand *o = &e->opnds[k];
    if (o->field < 0)
        return &o->lit;
    return fields && (size_t)o->field < nfields ? &fields[o->field] : &none_value;
}

/* A string compared with a number or bool: converted like the field types convert; -1 when it
 * does not ("abc" vs 5), which makes the comparison false. */
static int str_convert(const struct lw_value *s, enum lw_vkind other, struct lw_value *out)
{
    memset(out, 0, sizeof *out);
    if (other == LW_V_BOOL) {
        out->kind = LW_V_BOOL;
        if (keyword_is(s->s.p, s->s.n, "true"))
            out->b = true;
        else if (!keyword_is(s->s.p, s->s.n, "false"))
            return -1;
        return 0;
    }
    if (lw_parse_i64(s->s.p, s->s.n, &out->i) == 0) {
        out->kind = LW_V_INT;
        return 0;
    }
    out->kind = LW_V_FLOAT;
    return lw_parse_f64(s->s.p, s->s.n, &out->f);
}

/* Orders a against b into *c (<0, 0, >0); -1 when they cannot be compared (missing, a string
 * that is not a number, NaN). */
static int order(const struct lw_value *a, const struct lw_value *b, int *c)
{
    struct lw_value ta, tb;
    if (a->kind == LW_V_NONE || b->kind == LW_V_NONE)
        return -1;
    if (a->kind == LW_V_STR && b->kind == LW_V_STR) {
        size_t n = a->s.n < b->s.n ? a->s.n : b->s.n;
        int m = n ? memcmp(a->s.p, b->s.p, n) : 0;
        *c = m ? m : (a->s.n > b->s.n) - (a->s.n < b->s.n);
        return 0;
    }
    if (a->kind == LW_V_STR) {
        if (str_convert(a, b->kind, &ta) < 0)
            return -1;
        a = &ta;
    } else if (b->kind == LW_V_STR) {
        if (str_convert(b, a->kind, &tb) < 0)
            return -1;
        b = &tb;
    }
    if (a->kind != LW_V_FLOAT && b->kind != LW_V_FLOAT) {
        int64_t x = a->kind == LW_V_INT ? a->i : a->b, y = b->kind == LW_V_INT ? b->i : b->b;
        *c = (x > y) - (x < y);
        return 0;
    }
    double x = lw_value_num(a), y = lw_value_num(b);
    if (isnan(x) || isnan(y))
        return -1;
    *c = (x > y) - (x < y);
    return 0;
}

static bool compare(const struct lw_value *a, const struct lw_value *b, enum cmp_op cmp)
{
    int c;
    if (order(a, b, &c) < 0)
        return false;
    switch (cmp) {
    case CMP_EQ:
        return c == 0;
    case CMP_NE:
        return c != 0;
    case CMP_LT:
        return c < 0;
    case CMP_LE:
        return c <= 0;
    case CMP_GT:
        return c > 0;
    case CMP_GE:
        return c >= 0;
    default:
        return false;
    }
}

/* A field declared string may still arrive as a number or bool from a JSON decoder: it is
 * matched in its text form, formatted into a stack buffer. */
static bool match(const struct lw_expr *e, const struct op *o, const struct lw_value *v)
{
    const struct regex *rx = &e->rx[o->b];
    char buf[40];
    const char *s = buf;
    size_t n = 0;
    switch (v->kind) {
    case LW_V_NONE:
        return false;
    case LW_V_STR:
        s = v->s.p ? v->s.p : "";
        n = v->s.n;
        break;
    case LW_V_INT:
        n = (size_t)snprintf(buf, sizeof buf, "%" PRId64, v->i);
        break;
    case LW_V_FLOAT:
        for (int prec = 15; prec <= 17; prec++) {
            double back;
            n = (size_t)snprintf(buf, sizeof buf, "%.*g", prec, v->f);
            if (lw_parse_f64(buf, n, &back) == 0 && back == v->f)
                break;
        }
        break;
    case LW_V_BOOL:
        s = v->b ? "true" : "false";
        n = strlen(s);
        break;
    }
    int rc = pcre2_match(rx->code, (PCRE2_SPTR)s, n, 0, 0, rx->md, e->mctx);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        ++*e->gave_up; /* counted: the caller tells which event it cost */
        lw_expr_gave_up_now = true;
        return false; /* a limit was hit: unknown, so neither =~ nor !~ holds */
    }
    return (rc >= 0) == (o->cmp == CMP_RE);
}

bool lw_expr_eval(const struct lw_expr *e, const struct lw_value *fields, size_t nfields)
{
    bool acc = false;
    if (!e)
        return false;
    const struct op *ops = e->ops;
    size_t pc = 0, n = e->nops;
    while (pc < n) {
        const struct op *o = &ops[pc++];
        switch ((enum op_code)o->code) {
        case OP_CONST:
            acc = o->val;
            break;
        case OP_TRUTHY:
            acc = value_truthy(operand_value(e, o->a, fields, nfields));
            break;
        case OP_EXISTS:
            acc = operand_value(e, o->a, fields, nfields)->kind != LW_V_NONE;
            break;
        case OP_CMP:
            acc = compare(operand_value(e, o->a, fields, nfields),
                          operand_value(e, o->b, fields, nfields), (enum cmp_op)o->cmp);
            break;
        case OP_MATCH:
            acc = match(e, o, operand_value(e, o->a, fields, nfields));
            break;
        case OP_NOT:
            acc = !acc;
            break;
        case OP_JF:
            if (!acc)
                pc = o->a;
            break;
        case OP_JT:
            if (acc)
                pc = o->a;
            break;
        }
    }
    return acc;
}
