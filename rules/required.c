/* required.c: the literals every match of a pattern contains, found by walking the pattern once
 * at load time, and the scan that tells, in one pass over a line, which of them it holds.
 *
 * The analysis follows the usual scheme for regex prefilters: for each part of the pattern it
 * knows either the exact (small, finite) set of strings the part matches, or sets of prefixes
 * and suffixes every match starts and ends with, plus factors (each an OR of literals) every
 * match contains. Literals inside capture groups, alternations ((?:GET|POST) /api) and small
 * classes (40[13]) so take part, where a single top-level literal would miss them. Everything
 * it does not follow makes it know less, never something false. */
#include "required.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SMAX LW_REQ_MAXALT
#define LMAX LW_REQ_MAXLEN
#define MAXF 8 /* factors tracked while walking; the best LW_REQ_MAXF are kept */

struct sset {
    int n;
    struct lw_req_lit v[SMAX];
};

struct info {
    bool exact_ok;               /* the part matches exactly one of exact */
    struct sset exact, pre, suf; /* pre/suf: {""} when nothing is known */
    int nf;
    struct sset f[MAXF];
    uint64_t first[4];
    bool empty;
};

struct parser {
    const char *p;
    size_t len, i;
    int depth;
    bool bad;
};

/* ---------------------------------------------------------------- string sets */

static void sset_unknown(struct sset *s)
{
    s->n = 1;
    s->v[0].len = 0;
}

static int sset_add(struct sset *s, const char *b, size_t n)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i].len == n && !memcmp(s->v[i].s, b, n))
            return 0;
    if (s->n == SMAX || n > LMAX)
        return -1;
    s->v[s->n].len = (uint8_t)n;
    memcpy(s->v[s->n].s, b, n);
    s->n++;
    return 0;
}

enum cut { CUT_NONE, CUT_HEAD, CUT_TAIL };

/* out = every a followed by every b. Too long: fail (CUT_NONE), keep the first (CUT_HEAD) or
 * the last (CUT_TAIL) LMAX bytes. Too many: fail. */
static int cross(struct sset *out, const struct sset *a, const struct sset *b, enum cut cut)
{
    struct sset r = {0};
    char buf[2 * LMAX];
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++) {
            size_t n = a->v[i].len + b->v[j].len;
            memcpy(buf, a->v[i].s, a->v[i].len);
            memcpy(buf + a->v[i].len, b->v[j].s, b->v[j].len);
            const char *s = buf;
            if (n > LMAX) {
                if (cut == CUT_NONE)
                    return -1;
                if (cut == CUT_TAIL)
                    s += n - LMAX;
                n = LMAX;
            }
            if (sset_add(&r, s, n) < 0)
                return -1;
        }
    *out = r;
    return 0;
}

static int sset_union(struct sset *out, const struct sset *a, const struct sset *b)
{
    struct sset r = *a;
    for (int j = 0; j < b->n; j++)
        if (sset_add(&r, b->v[j].s, b->v[j].len) < 0)
            return -1;
    *out = r;
    return 0;
}

static int minlen(const struct sset *s)
{
    int m = s->n ? LMAX + 1 : 0;
    for (int i = 0; i < s->n; i++)
        if (s->v[i].len < m)
            m = s->v[i].len;
    return m;
}

/* Longer literals select better; each alternative costs a little. */
static int score(const struct sset *s)
{
    return minlen(s) * 4 - (s->n - 1);
}

static bool contains(const struct lw_req_lit *big, const struct lw_req_lit *small)
{
    return small->len <= big->len && memmem(big->s, big->len, small->s, small->len) != NULL;
}

/* Whether factor f implies g: every alternative of f contains one of g. */
static bool implies(const struct sset *f, const struct sset *g)
{
    for (int i = 0; i < f->n; i++) {
        bool any = false;
        for (int j = 0; j < g->n && !any; j++)
            any = contains(&f->v[i], &g->v[j]);
        if (!any)
            return false;
    }
    return true;
}

/* Adds a factor when every alternative is long enough; a factor implied by another one (" 401"
 * by " 401 ") adds nothing and is dropped. */
static void add_factor(struct info *in, const struct sset *s)
{
    if (s->n == 0 || minlen(s) < LW_REQ_MINLEN)
        return;
    for (int k = 0; k < in->nf; k++) {
        if (implies(&in->f[k], s))
            return;
        if (implies(s, &in->f[k])) {
            in->f[k] = *s;
            /* it may imply later ones too */
            for (int j = in->nf - 1; j > k; j--)
                if (implies(s, &in->f[j]))
                    in->f[j] = in->f[--in->nf];
            return;
        }
    }
    if (in->nf < MAXF) {
        in->f[in->nf++] = *s;
        return;
    }
    int worst = 0;
    for (int k = 1; k < in->nf; k++)
        if (score(&in->f[k]) < score(&in->f[worst]))
            worst = k;
    if (score(s) > score(&in->f[worst]))
        in->f[worst] = *s;
}

/* A long literal is seen as overlapping windows (each LMAX bytes): one of them is enough. */
static bool overlaps(const struct sset *a, const struct sset *b)
{
    if (a->n != 1 || b->n != 1)
        return false;
    const struct lw_req_lit *x = &a->v[0], *y = &b->v[0];
    size_t k = y->len < 8 ? y->len : 8;
    return memmem(x->s, x->len, y->s, k) || memmem(x->s, x->len, y->s + y->len - k, k);
}

/* ---------------------------------------------------------------- infos */

static struct info *info_new(void)
{
    struct info *in = lw_calloc(1, sizeof *in);
    in->exact_ok = true;
    in->exact.n = 1; /* {""}: matches the empty string only */
    in->empty = true;
    return in;
}

static void info_char_set(struct info *in, const uint64_t bits[4], bool exact_class)
{
    int cnt = 0;
    for (int w = 0; w < 4; w++)
        cnt += __builtin_popcountll(bits[w]);
    memcpy(in->first, bits, sizeof in->first);
    in->empty = false;
    in->nf = 0;
    in->exact.n = 0;
    in->exact_ok = exact_class && cnt >= 1 && cnt <= 4;
    if (in->exact_ok) {
        for (int c = 0; c < 256; c++)
            if (bits[c >> 6] >> (c & 63) & 1) {
                char ch = (char)c;
                sset_add(&in->exact, &ch, 1);
            }
    } else {
        sset_unknown(&in->pre);
        sset_unknown(&in->suf);
    }
}

static void info_char(struct info *in, unsigned char c)
{
    uint64_t bits[4] = {0};
    bits[c >> 6] |= UINT64_C(1) << (c & 63);
    info_char_set(in, bits, true);
}

/* Turns a known set of strings into prefixes, suffixes and a factor. */
static void degrade(struct info *in)
{
    if (!in->exact_ok)
        return;
    add_factor(in, &in->exact);
    in->pre = in->exact;
    in->suf = in->exact;
    in->exact_ok = false;
}

static void merge_factors(struct info *dst, const struct info *src)
{
    for (int k = 0; k < src->nf; k++)
        add_factor(dst, &src->f[k]);
}

/* a = a followed by b. */
static void concat(struct info *a, struct info *b)
{
    for (int w = 0; w < 4; w++)
        a->first[w] |= a->empty ? b->first[w] : 0;
    bool empty = a->empty && b->empty;
    if (a->exact_ok && b->exact_ok) {
        struct sset x;
        if (cross(&x, &a->exact, &b->exact, CUT_NONE) == 0) {
            a->exact = x;
            merge_factors(a, b);
            a->empty = empty;
            return;
        }
        degrade(a);
        degrade(b);
    }
    const struct sset *as = a->exact_ok ? &a->exact : &a->suf;
    const struct sset *bp = b->exact_ok ? &b->exact : &b->pre;
    struct sset pre, suf, edge;
    if (!a->exact_ok)
        pre = a->pre;
    else if (cross(&pre, &a->exact, bp, CUT_HEAD) < 0)
        pre = a->exact;
    if (!b->exact_ok)
        suf = b->suf;
    else if (cross(&suf, as, &b->exact, CUT_TAIL) < 0)
        suf = b->exact;
    if (cross(&edge, as, bp, CUT_HEAD) == 0)
        add_factor(a, &edge);
    if (a->exact_ok)
        add_factor(a, &a->exact);
    if (b->exact_ok)
        add_factor(a, &b->exact);
    merge_factors(a, b);
    a->pre = pre;
    a->suf = suf;
    a->exact_ok = false;
    a->empty = empty;
}

/* The factors a part implies, its prefixes and suffixes included. */
static void all_factors(struct info *in)
{
    degrade(in);
    add_factor(in, &in->pre);
    add_factor(in, &in->suf);
}

/* a = a | b. */
static void alternate(struct info *a, struct info *b)
{
    for (int w = 0; w < 4; w++)
        a->first[w] |= b->first[w];
    bool empty = a->empty || b->empty;
    if (a->exact_ok && b->exact_ok) {
        struct sset u;
        if (sset_union(&u, &a->exact, &b->exact) == 0) {
            a->exact = u;
            a->nf = 0; /* exact parts carry no factors of their own beyond exact */
            a->empty = empty;
            return;
        }
    }
    all_factors(a);
    all_factors(b);
    struct info *r = lw_calloc(1, sizeof *r);
    for (int i = 0; i < a->nf; i++)
        for (int j = 0; j < b->nf; j++) {
            struct sset u;
            if (sset_union(&u, &a->f[i], &b->f[j]) == 0)
                add_factor(r, &u);
        }
    if (sset_union(&r->pre, &a->pre, &b->pre) < 0)
        sset_unknown(&r->pre);
    if (sset_union(&r->suf, &a->suf, &b->suf) < 0)
        sset_unknown(&r->suf);
    memcpy(r->first, a->first, sizeof r->first);
    r->empty = empty;
    r->exact_ok = false;
    *a = *r;
    free(r);
}

/* a{min,max} (max < 0: unbounded). */
static void repeat(struct info *a, long min, long max)
{
    if (min == 0) {
        if (max == 1 && a->exact_ok && sset_add(&a->exact, "", 0) == 0) {
            a->empty = true;
            return;
        }
        a->exact_ok = false;
        a->nf = 0;
        sset_unknown(&a->pre);
        sset_unknown(&a->suf);
        a->empty = true;
        return;
    }
    if (a->exact_ok && min == max && min <= 8) {
        struct sset x = a->exact, y;
        bool ok = true;
        for (long k = 1; k < min && ok; k++) {
            ok = cross(&y, &x, &a->exact, CUT_NONE) == 0;
            x = y;
        }
        if (ok) {
            a->exact = x;
            return;
        }
    }
    degrade(a); /* every match starts with a match of a, ends with one, contains one */
}

/* ---------------------------------------------------------------- the pattern's syntax */

static void set_bit(uint64_t b[4], unsigned c)
{
    b[c >> 6] |= UINT64_C(1) << (c & 63);
}

static void set_range(uint64_t b[4], unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi; c++)
        set_bit(b, c);
}

/* \d \w \s and their complements (PCRE2's default tables, no UCP); the \h \v family and
 * anything else unusual: every byte, which is never wrong for a first byte. false when the
 * escape is not a class. exact: the set is exact (it may be expanded into strings). */
static bool class_escape(char e, uint64_t b[4], bool *exact)
{
    uint64_t s[4] = {0};
    bool neg = false;
    *exact = true;
    switch (e) {
    case 'D':
        neg = true; /* fall through */
    case 'd':
        set_range(s, '0', '9');
        break;
    case 'W':
        neg = true; /* fall through */
    case 'w':
        set_range(s, '0', '9');
        set_range(s, 'A', 'Z');
        set_range(s, 'a', 'z');
        set_bit(s, '_');
        break;
    case 'S':
        neg = true; /* fall through */
    case 's':
        set_range(s, 9, 13);
        set_bit(s, ' ');
        break;
    case 'h':
    case 'H':
    case 'v':
    case 'V':
    case 'N':
    case 'R':
        set_range(s, 0, 255);
        *exact = false;
        break;
    default:
        return false;
    }
    for (int w = 0; w < 4; w++)
        b[w] |= neg ? ~s[w] : s[w];
    return true;
}

/* A single-byte escape (\t, \., \/ ...): its byte, or -1. */
static int char_escape(char e)
{
    switch (e) {
    case 't':
        return '\t';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 'f':
        return '\f';
    case 'e':
        return 27;
    case 'a':
        return 7;
    }
    if (isalnum((unsigned char)e) || (unsigned char)e >= 0x80)
        return -1;
    return (unsigned char)e; /* a backslash before any other punctuation quotes it */
}

/* [...] at P->i: its byte set. exact: made of plain bytes and ranges only. */
static void parse_class(struct parser *P, uint64_t bits[4], bool *exact)
{
    const char *p = P->p;
    size_t i = P->i + 1, len = P->len;
    bool neg = false, first = true, approx = false; /* approx: a superset was taken (\h) */
    uint64_t b[4] = {0};
    *exact = true;
    if (i < len && p[i] == '^')
        neg = true, i++;
    for (;;) {
        if (i >= len) {
            P->bad = true;
            return;
        }
        int lo;
        if (p[i] == ']' && !first)
            break;
        first = false;
        if (p[i] == '[' && i + 1 < len && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
            P->bad = true; /* POSIX classes: not followed */
            return;
        }
        if (p[i] == '\\') {
            if (i + 1 >= len) {
                P->bad = true;
                return;
            }
            bool ex;
            if (class_escape(p[i + 1], b, &ex)) {
                *exact = false;
                approx |= !ex;
                i += 2;
                continue;
            }
            if ((lo = char_escape(p[i + 1])) < 0) {
                P->bad = true;
                return;
            }
            i += 2;
        } else {
            lo = (unsigned char)p[i++];
        }
        int hi = lo;
        if (i + 1 < len && p[i] == '-' && p[i + 1] != ']') {
            if (p[i + 1] == '\\') {
                if (i + 2 >= len || (hi = char_escape(p[i + 2])) < 0) {
                    P->bad = true;
                    return;
                }
                i += 3;
            } else if (p[i + 1] == '[') {
                P->bad = true;
                return;
            } else {
                hi = (unsigned char)p[i + 1];
                i += 2;
            }
            if (hi < lo) {
                P->bad = true;
                return;
            }
        }
        set_range(b, (unsigned)lo, (unsigned)hi);
    }
    P->i = i + 1;
    if (neg) {
        for (int w = 0; w < 4; w++)
            b[w] = approx ? ~UINT64_C(0) : ~b[w]; /* the complement of a superset is no superset */
        *exact = false;                           /* 250 bytes are not worth expanding */
    }
    memcpy(bits, b, sizeof b);
}

/* A quantifier at P->i: {n}, {n,}, {n,m}, ?, *, +, then an optional lazy ? or possessive +.
 * false when there is none; P->bad when it is a form whose meaning differs across versions. */
static bool parse_quant(struct parser *P, long *min, long *max)
{
    const char *p = P->p;
    size_t i = P->i, len = P->len;
    if (i >= len)
        return false;
    if (p[i] == '?' || p[i] == '*' || p[i] == '+') {
        *min = p[i] == '+' ? 1 : 0;
        *max = p[i] == '?' ? 1 : -1;
        i++;
    } else if (p[i] == '{') {
        size_t j = i + 1;
        long a = 0, b = -1;
        if (j >= len || !isdigit((unsigned char)p[j])) {
            if (j < len && (p[j] == ',' || p[j] == ' '))
                P->bad = true; /* {,m} and { n } are quantifiers in newer PCRE2 only */
            return false;
        }
        while (j < len && isdigit((unsigned char)p[j]) && a < 100000)
            a = a * 10 + (p[j++] - '0');
        if (j < len && p[j] == '}') {
            b = a;
        } else if (j < len && p[j] == ',') {
            j++;
            if (j < len && isdigit((unsigned char)p[j])) {
                b = 0;
                while (j < len && isdigit((unsigned char)p[j]) && b < 100000)
                    b = b * 10 + (p[j++] - '0');
            }
            if (j >= len || p[j] != '}') {
                P->bad = true;
                return false;
            }
        } else {
            P->bad = true;
            return false;
        }
        *min = a;
        *max = b;
        i = j + 1;
    } else {
        return false;
    }
    if (i < len && (p[i] == '?' || p[i] == '+'))
        i++;
    P->i = i;
    return true;
}

static struct info *parse_alt(struct parser *P);

/* Skips a lookaround's body, to its closing parenthesis. \Q...\E and \c quote parentheses
 * (refused); a comment ends at its first ')'. */
static void skip_group(struct parser *P)
{
    int depth = 0;
    for (; P->i < P->len; P->i++) {
        char c = P->p[P->i];
        if (c == '\\') {
            if (P->i + 1 < P->len && (P->p[P->i + 1] == 'Q' || P->p[P->i + 1] == 'c'))
                break;
            P->i++;
        } else if (c == '(' && P->i + 2 < P->len && P->p[P->i + 1] == '?' &&
                   P->p[P->i + 2] == '#') {
            const char *e = memchr(P->p + P->i, ')', P->len - P->i);
            if (!e)
                break;
            P->i = (size_t)(e - P->p);
        } else if (c == '[') {
            uint64_t b[4];
            bool ex;
            parse_class(P, b, &ex);
            if (P->bad)
                return;
            P->i--;
        } else if (c == '(') {
            depth++;
        } else if (c == ')' && --depth == 0) {
            P->i++;
            return;
        }
    }
    P->bad = true;
}

/* One atom at P->i, before its quantifier; NULL at the end of a branch. */
static struct info *parse_atom(struct parser *P)
{
    const char *p = P->p;
    size_t len = P->len, i = P->i;
    if (i >= len || p[i] == '|' || p[i] == ')')
        return NULL;
    struct info *in = info_new();
    char c = p[i];
    if (c == '(') {
        if (i + 1 < len && p[i + 1] == '*') {
            P->bad = true; /* (*VERB) */
            return in;
        }
        size_t body = i + 1;
        if (i + 1 < len && p[i + 1] == '?') {
            char k = i + 2 < len ? p[i + 2] : 0;
            char k2 = i + 3 < len ? p[i + 3] : 0;
            if (k == ':' || k == '>') {
                body = i + 3;
            } else if (k == '=' || k == '!' || (k == '<' && (k2 == '=' || k2 == '!'))) {
                skip_group(P); /* lookaround: consumes nothing */
                return in;
            } else if (k == '#') {
                const char *e = memchr(p + i, ')', len - i);
                if (!e)
                    P->bad = true;
                else
                    P->i = (size_t)(e - p) + 1;
                return in;
            } else if (k == '<' || k == 'P' || k == '\'') {
                /* (?<name>, (?P<name>, (?'name' */
                size_t j = i + (k == 'P' ? 3 : 2);
                if (k == 'P' && k2 != '<') {
                    P->bad = true;
                    return in;
                }
                char close = k == '\'' ? '\'' : '>';
                const char *e = memchr(p + j + 1, close, len - j - 1);
                if (!e) {
                    P->bad = true;
                    return in;
                }
                body = (size_t)(e - p) + 1;
            } else {
                P->bad = true; /* inline options, conditionals, recursion, branch reset */
                return in;
            }
        }
        if (++P->depth > 200) {
            P->bad = true;
            return in;
        }
        P->i = body;
        free(in);
        in = parse_alt(P);
        P->depth--;
        if (P->i >= len || p[P->i] != ')')
            P->bad = true;
        else
            P->i++;
        return in;
    }
    if (c == '[') {
        uint64_t b[4];
        bool ex;
        parse_class(P, b, &ex);
        if (!P->bad)
            info_char_set(in, b, ex);
        return in;
    }
    if (c == '.') {
        uint64_t b[4] = {~0ull, ~0ull, ~0ull, ~0ull};
        info_char_set(in, b, false);
        P->i++;
        return in;
    }
    if (c == '^' || c == '$') {
        P->i++; /* zero width: the match is what the rest consumes */
        return in;
    }
    if (c == '*' || c == '+' || c == '?') {
        P->bad = true; /* a quantifier with nothing before it */
        return in;
    }
    if (c == '{') {
        long a, b;
        if (parse_quant(P, &a, &b) || P->bad) {
            P->bad = true;
            return in;
        }
    }
    if (c == '\\') {
        if (i + 1 >= len) {
            P->bad = true;
            return in;
        }
        char e = p[i + 1];
        uint64_t b[4] = {0};
        bool ex;
        P->i += 2;
        if (strchr("bBAzZG", e))
            return in; /* assertions: zero width */
        if (class_escape(e, b, &ex)) {
            info_char_set(in, b, ex);
            return in;
        }
        int ch = char_escape(e);
        if (ch < 0) {
            P->bad = true; /* \x, \p, \Q, \K, backreferences ...: not followed */
            return in;
        }
        info_char(in, (unsigned char)ch);
        return in;
    }
    info_char(in, (unsigned char)c);
    P->i++;
    return in;
}

/* A branch: atoms with their quantifiers, one after the other. */
static struct info *parse_seq(struct parser *P)
{
    struct info *acc = info_new();
    for (;;) {
        struct info *a = parse_atom(P);
        if (!a || P->bad) {
            free(a);
            return acc;
        }
        long min, max;
        if (parse_quant(P, &min, &max))
            repeat(a, min, max);
        if (P->bad) {
            free(a);
            return acc;
        }
        concat(acc, a);
        free(a);
    }
}

static struct info *parse_alt(struct parser *P)
{
    struct info *acc = parse_seq(P);
    while (!P->bad && P->i < P->len && P->p[P->i] == '|') {
        P->i++;
        struct info *b = parse_seq(P);
        alternate(acc, b);
        free(b);
    }
    return acc;
}

int lw_req_analyze(struct lw_req *out, const char *p, size_t len)
{
    struct parser P = {p, len, 0, 0, false};
    memset(out, 0, sizeof *out);
    memset(out->first, 0xff, sizeof out->first);
    out->can_be_empty = true;
    struct info *in = parse_alt(&P);
    if (P.bad || P.i != len) {
        free(in);
        return -1;
    }
    all_factors(in);
    /* The best factors, best first, without windows of a literal already taken. */
    while (out->nfactors < LW_REQ_MAXF && in->nf > 0) {
        int best = 0;
        for (int k = 1; k < in->nf; k++)
            if (score(&in->f[k]) > score(&in->f[best]))
                best = k;
        struct sset c = in->f[best];
        in->f[best] = in->f[--in->nf];
        bool dup = false;
        for (int k = 0; k < out->nfactors && !dup; k++) {
            struct sset t = {out->f[k].n};
            memcpy(t.v, out->f[k].alt, sizeof t.v);
            dup = overlaps(&t, &c);
        }
        if (dup)
            continue;
        struct lw_req_factor *f = &out->f[out->nfactors++];
        f->n = c.n;
        memcpy(f->alt, c.v, sizeof f->alt);
    }
    bool good = false;
    for (int k = 0; k < out->nfactors; k++) {
        struct sset t = {out->f[k].n};
        memcpy(t.v, out->f[k].alt, sizeof t.v);
        good |= minlen(&t) >= LW_REQ_GOODLEN;
    }
    for (int k = 0; good && k < out->nfactors; k++) {
        struct sset t = {out->f[k].n};
        memcpy(t.v, out->f[k].alt, sizeof t.v);
        if (minlen(&t) < LW_REQ_GOODLEN) {
            memmove(&out->f[k], &out->f[k + 1], (size_t)(out->nfactors - k - 1) * sizeof *out->f);
            out->nfactors--;
            k--;
        }
    }
    memcpy(out->first, in->first, sizeof out->first);
    out->can_be_empty = in->empty;
    free(in);
    return 0;
}

/* ---------------------------------------------------------------- the scan
 *
 * Each literal is keyed by a run of `stride` consecutive 4-byte grams (stride = the shortest
 * literal's length - 3, at most 4), chosen to be shared by as few other literals as possible
 * and to avoid the punctuation every log line is full of. The scan hashes the 4 bytes at every
 * stride-th position of the line into a 64 Kbit map (8 KB, in L1); only positions whose gram
 * is some literal's key go on to compare literals. One pass costs about what
 * building a trigram set did, and replaces the per-rule memmem calls. */

#define MAPBITS 16

struct ent {
    uint32_t key; /* the 4 bytes of the key gram, as loaded from the line */
    uint16_t off; /* where the key gram starts in the literal */
    uint16_t lit; /* literal id */
};

struct lit {
    char *s;
    size_t n;
};

struct lw_litscan {
    struct lit *lits;
    size_t nlits;
    struct ent *ents; /* stride per literal, sorted by key */
    size_t nents;
    size_t stride;  /* the scan tests positions 0, stride, 2 * stride ... */
    uint32_t *slot; /* open addressing by key: index of the first entry + 1, 0 when empty */
    uint32_t mask;
    uint64_t map[(1u << MAPBITS) / 64];
};

static inline uint32_t load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint32_t mix32(uint32_t k)
{
    return k * 0x9E3779B1u;
}

struct lw_litscan *lw_litscan_new(void)
{
    return lw_calloc(1, sizeof(struct lw_litscan));
}

void lw_litscan_free(struct lw_litscan *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; i < ls->nlits; i++)
        free(ls->lits[i].s);
    free(ls->lits);
    free(ls->ents);
    free(ls->slot);
    free(ls);
}

unsigned lw_litscan_add(struct lw_litscan *ls, const char *s, size_t n)
{
    for (size_t i = 0; i < ls->nlits; i++)
        if (ls->lits[i].n == n && !memcmp(ls->lits[i].s, s, n))
            return (unsigned)i;
    ls->lits = lw_realloc(ls->lits, (ls->nlits + 1) * sizeof *ls->lits);
    ls->lits[ls->nlits].s = lw_malloc(n);
    memcpy(ls->lits[ls->nlits].s, s, n);
    ls->lits[ls->nlits].n = n;
    return (unsigned)ls->nlits++;
}

size_t lw_litscan_words(const struct lw_litscan *ls)
{
    return (ls->nlits + 63) / 64;
}

/* How common a gram's bytes are in log lines: punctuation and spaces are everywhere. */
static int commonness(const char *g)
{
    int c = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char b = (unsigned char)g[k];
        if (strchr(" \"':,.;=/-_[](){}<>", b) || isdigit(b))
            c += 2;
        else if (islower(b))
            c += 1;
    }
    return c;
}

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->lit < y->lit ? -1 : x->lit > y->lit;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Every literal's distinct 4-grams, sorted: how many literals contain a gram is then two
 * binary searches (was a memmem over every other literal: quadratic in the rules). */
static uint32_t *gram_table(const struct lw_litscan *ls, size_t *n)
{
    size_t total = 0, m = 0;
    for (size_t i = 0; i < ls->nlits; i++)
        total += ls->lits[i].n >= 4 ? ls->lits[i].n - 3 : 0;
    uint32_t *all = lw_malloc((total ? total : 1) * sizeof *all);
    for (size_t i = 0; i < ls->nlits; i++) {
        const struct lit *L = &ls->lits[i];
        size_t start = m;
        for (size_t k = 0; k + 4 <= L->n; k++)
            all[m++] = load32(L->s + k);
        qsort(all + start, m - start, sizeof *all, cmp_u32);
        size_t u = start;
        for (size_t k = start; k < m; k++)
            if (k == start || all[k] != all[u - 1])
                all[u++] = all[k];
        m = u;
    }
    qsort(all, m, sizeof *all, cmp_u32);
    *n = m;
    return all;
}

static size_t gram_count(const uint32_t *all, size_t n, uint32_t g)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (all[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t first = lo;
    hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (all[mid] <= g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - first;
}

void lw_litscan_build(struct lw_litscan *ls)
{
    /* Every literal is at least minlen bytes, so registering each under stride consecutive
     * grams lets the scan test only every stride-th position of a line: any occurrence puts
     * exactly one of them on a tested position. */
    size_t minlen = LW_REQ_MAXLEN;
    for (size_t i = 0; i < ls->nlits; i++)
        if (ls->lits[i].n < minlen)
            minlen = ls->lits[i].n;
    ls->stride = minlen > 3 ? minlen - 3 : 1;
    if (ls->stride > 4)
        ls->stride = 4;
    ls->nents = ls->nlits * ls->stride;
    ls->ents = lw_calloc(ls->nents ? ls->nents : 1, sizeof *ls->ents);
    size_t ngrams;
    uint32_t *grams = gram_table(ls, &ngrams);
    for (size_t i = 0; i < ls->nlits; i++) {
        const struct lit *L = &ls->lits[i];
        size_t best = 0;
        long best_cost = -1;
        /* The run of grams shared by the fewest other literals, punctuation last. */
        for (size_t o = 0; o + 3 + ls->stride <= L->n; o++) {
            long cost = 0;
            for (size_t k = o; k < o + ls->stride; k++) {
                /* The other literals containing the gram (L itself does). */
                long shared = (long)gram_count(grams, ngrams, load32(L->s + k)) - 1;
                cost += shared * 16 + commonness(L->s + k);
            }
            if (best_cost < 0 || cost < best_cost)
                best = o, best_cost = cost;
        }
        for (size_t k = 0; k < ls->stride; k++)
            ls->ents[i * ls->stride + k] =
                (struct ent){load32(L->s + best + k), (uint16_t)(best + k), (uint16_t)i};
    }
    free(grams);
    qsort(ls->ents, ls->nents, sizeof *ls->ents, cmp_ent);
    size_t size = 16;
    while (size < ls->nents * 4)
        size *= 2;
    ls->mask = (uint32_t)size - 1;
    ls->slot = lw_calloc(size, sizeof *ls->slot);
    for (size_t e = 0; e < ls->nents; e++) {
        uint32_t h = mix32(ls->ents[e].key);
        ls->map[h >> (32 - MAPBITS) >> 6] |= UINT64_C(1) << (h >> (32 - MAPBITS) & 63);
        if (e > 0 && ls->ents[e - 1].key == ls->ents[e].key)
            continue;
        uint32_t s = h & ls->mask;
        while (ls->slot[s])
            s = (s + 1) & ls->mask;
        ls->slot[s] = (uint32_t)e + 1;
    }
}

void lw_litscan_run(const struct lw_litscan *ls, const char *line, size_t n, uint64_t *found)
{
    memset(found, 0, lw_litscan_words(ls) * sizeof *found);
    if (n < 4)
        return;
    for (size_t i = 0; i + 4 <= n; i += ls->stride) {
        uint32_t k = load32(line + i), h = mix32(k), m = h >> (32 - MAPBITS);
        if (!(ls->map[m >> 6] >> (m & 63) & 1))
            continue;
        for (uint32_t s = h & ls->mask; ls->slot[s]; s = (s + 1) & ls->mask) {
            size_t e = ls->slot[s] - 1;
            if (ls->ents[e].key != k)
                continue;
            for (; e < ls->nents && ls->ents[e].key == k; e++) {
                const struct ent *E = &ls->ents[e];
                const struct lit *L = &ls->lits[E->lit];
                if (i < E->off || i - E->off + L->n > n)
                    continue;
                if (!memcmp(line + i - E->off, L->s, L->n))
                    found[E->lit >> 6] |= UINT64_C(1) << (E->lit & 63);
            }
            break;
        }
    }
}
