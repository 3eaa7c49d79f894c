/* test_required.c: the prefilter's pattern analysis (lw_req_analyze: literal factors, first
 * bytes, can_be_empty, refusals), each claim checked against PCRE2 on subjects, mutations of
 * them and real logs; and the literal scan (lw_litscan) against memmem on random lines. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "required.h"
#include "test.h"

#include <pcre2.h>
#include <stdlib.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---------------------------------------------------------------- printing an analysis */

/* Factors as "a|b & c": alternatives joined by |, factors by &. */
static const char *factors(const struct lw_req *r)
{
    static char buf[4096];
    size_t o = 0;
    buf[0] = 0;
    for (int f = 0; f < r->nfactors; f++) {
        if (f)
            o += (size_t)snprintf(buf + o, sizeof buf - o, " & ");
        for (int a = 0; a < r->f[f].n; a++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s", a ? "|" : "",
                                  (int)r->f[f].alt[a].len, r->f[f].alt[a].s);
    }
    return buf;
}

static bool has_first(const struct lw_req *r, unsigned char c)
{
    return r->first[c >> 6] >> (c & 63) & 1;
}

/* first[] as its bytes in order, "any" for all 256, "N bytes" for more than 64. */
static const char *firsts(const struct lw_req *r)
{
    static char buf[256];
    int cnt = 0;
    for (int c = 0; c < 256; c++)
        cnt += has_first(r, (unsigned char)c);
    if (cnt == 256)
        return "any";
    if (cnt > 64) {
        snprintf(buf, sizeof buf, "%d bytes", cnt);
        return buf;
    }
    size_t o = 0;
    buf[0] = 0;
    for (int c = 0; c < 256; c++)
        if (has_first(r, (unsigned char)c))
            o += (size_t)snprintf(buf + o, sizeof buf - o, c > 32 && c < 127 ? "%c" : "\\x%02x", c);
    return buf;
}

/* ---------------------------------------------------------------- soundness against PCRE2 */

static pcre2_code *compile(const char *pattern)
{
    int errc;
    PCRE2_SIZE eo;
    /* No options: as the rule loader compiles. */
    return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &errc, &eo, NULL);
}

/* Whether PCRE2 matching subj agrees with what r claims: each factor has an alternative in
 * subj; a non-empty match starts with a byte of first[] (unless can_be_empty); an empty
 * match means can_be_empty. *matched: PCRE2 matched. */
static bool agrees(pcre2_code *re, pcre2_match_data *md, const struct lw_req *r, const char *subj,
                   size_t n, bool *matched)
{
    *matched = pcre2_match(re, (PCRE2_SPTR)subj, n, 0, 0, md, NULL) >= 0;
    if (!*matched)
        return true;
    for (int f = 0; f < r->nfactors; f++) {
        bool any = false;
        for (int a = 0; a < r->f[f].n && !any; a++)
            any = memmem(subj, n, r->f[f].alt[a].s, r->f[f].alt[a].len) != NULL;
        if (!any)
            return false;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (ov[0] == ov[1])
        return r->can_be_empty;
    return r->can_be_empty || has_first(r, (unsigned char)subj[ov[0]]);
}

/* Checks the claims of pattern's analysis r on the subjects (separated by newlines) and on
 * 300 random mutations of each; want_matches: how many of the subjects themselves PCRE2
 * matches (so the check is not vacuous). */
static void sound(const char *pattern, const struct lw_req *r, const char *subjects,
                  int want_matches)
{
    pcre2_code *re = compile(pattern);
    CHECK(re != NULL);
    if (!re)
        return;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int matches = 0, bad = 0, mutated_matches = 0;
    for (const char *s = subjects; s && *s;) {
        size_t n = strcspn(s, "\n");
        bool m;
        if (!agrees(re, md, r, s, n, &m)) {
            fprintf(stderr, "  %s: claims fail on \"%.*s\"\n", pattern, (int)n, s);
            bad++;
        }
        matches += m;
        /* Mutations: flip, delete or insert a byte, 1-3 times. Exactly sized for ASan. */
        for (int k = 0; k < 300; k++) {
            char *t = malloc(n + 4);
            size_t tn = n;
            memcpy(t, s, n);
            for (int e = 0, ne = 1 + (int)(rng() % 3); e < ne; e++) {
                size_t at = tn ? (size_t)(rng() % tn) : 0;
                int op = (int)(rng() % 3);
                if (op == 0 && tn)
                    t[at] = (char)(rng() % 4 == 0 ? rng() : (uint64_t)t[rng() % tn]);
                else if (op == 1 && tn) {
                    memmove(t + at, t + at + 1, tn - at - 1);
                    tn--;
                } else {
                    memmove(t + at + 1, t + at, tn - at);
                    t[at] = " ab.:/01X"[rng() % 9];
                    tn++;
                }
            }
            char *u = malloc(tn ? tn : 1);
            memcpy(u, t, tn);
            if (!agrees(re, md, r, u, tn, &m)) {
                fprintf(stderr, "  %s: claims fail on mutation \"%.*s\"\n", pattern, (int)tn, u);
                bad++;
            }
            mutated_matches += m;
            free(u);
            free(t);
        }
        s += n + (s[n] == '\n');
    }
    CHECK_EQ(bad, 0);
    if (matches != want_matches)
        fprintf(stderr, "  pattern %s\n", pattern);
    CHECK_EQ(matches, want_matches);
    (void)mutated_matches;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
}

/* Analyses pattern, expects it accepted with these factors, first bytes and can_be_empty, and
 * checks the claims against PCRE2 on the subjects. */
static void req(const char *pattern, const char *want_factors, const char *want_first,
                bool want_empty, const char *subjects, int want_matches)
{
    struct lw_req r;
    int rc = lw_req_analyze(&r, pattern, strlen(pattern));
    if (rc != 0 || strcmp(factors(&r), want_factors) || strcmp(firsts(&r), want_first) ||
        r.can_be_empty != want_empty)
        fprintf(stderr, "  pattern %s\n", pattern);
    CHECK_EQ(rc, 0);
    CHECK_STR(factors(&r), want_factors);
    CHECK_STR(firsts(&r), want_first);
    CHECK_EQ(r.can_be_empty, want_empty);
    for (int f = 0; f < r.nfactors; f++)
        for (int a = 0; a < r.f[f].n; a++) {
            CHECK(r.f[f].alt[a].len >= LW_REQ_MINLEN);
            CHECK(r.f[f].alt[a].len <= LW_REQ_MAXLEN);
        }
    sound(pattern, &r, subjects, want_matches);
}

/* The analysis refuses a valid pattern: -1, and nothing is claimed. */
static void refused(const char *pattern)
{
    struct lw_req r;
    memset(&r, 0x5a, sizeof r); /* whatever was there before */
    int rc = lw_req_analyze(&r, pattern, strlen(pattern));
    if (rc != -1)
        fprintf(stderr, "  pattern %s: not refused (%s)\n", pattern, factors(&r));
    CHECK_EQ(rc, -1);
    CHECK_EQ(r.nfactors, 0);
    CHECK(r.can_be_empty);
    CHECK_STR(firsts(&r), "any");
    pcre2_code *re = compile(pattern);
    if (!re)
        fprintf(stderr, "  pattern %s: PCRE2 does not compile it\n", pattern);
    CHECK(re != NULL); /* a refusal of valid syntax, not of an error */
    pcre2_code_free(re);
}

/* ---------------------------------------------------------------- the analysis */

static void test_literals(void)
{
    req("No space left on device", "No space left on device", "N", false,
        "kernel: write error: No space left on device\nNo space left on devic", 1);
    req("abc\\.def", "abc.def", "a", false, "x abc.def y\nabcXdef", 1);
    req("\\[error\\] client", "[error] client", "[", false, "[error] client 1.2.3.4\n", 1);
    req("a\\/b\\-c\\ d", "a/b-c d", "a", false, "a/b-c d\na/b-cd", 1);
    req("\\bERROR\\b", "ERROR", "E", false, "an ERROR here\nERRORS\nERROR", 2);
    req("tab\\there", "tab\there", "t", false, "tab\there\ntab here", 1);
    req("abcd{2}", "abcdd", "a", false, "abcdd\nabcd", 1);
    /* Literals inside capture groups, named every way PCRE2 allows. */
    req("(?<user>root) login", "root login", "r", false, "root login\nroot  login", 1);
    req("(?P<x>admin)|(?'y'guest)", "admin|guest", "ag", false, "admin\nguest\nadmi", 2);
    req("(root) (login)", "root login", "r", false, "root login\nrootlogin", 1);
    req("(?>atomic) group", "atomic group", "a", false, "atomic group\natomicgroup", 1);
    /* Comments and lookarounds consume nothing. */
    req("abc(?#comment)def", "abcdef", "a", false, "abcdef\nabc(?#comment)def", 1);
    req("(?<=\\[)error\\]", "error]", "e", false, "[error]\nerror]\n[error", 1);
    req("(?=(?#(x))abcd", "abcd", "a", false, "abcd\n(xabcd", 2);
    req("(?!xx)abcd(?=yy)", "abcd", "a", false, "abcdyy\nxxabcdyy\nabcd", 2);
}

static void test_alternations_classes(void)
{
    req("error|warning", "error|warning", "ew", false, "an error\na warning\nerr", 2);
    req("(?:GET|POST) /api", "GET /api|POST /api", "GP", false,
        "\"GET /api/v1\"\n\"POST /api\"\nPUT /api", 2);
    req("level=(?:error|fatal|panic)", "level=error|level=fatal|level=panic", "l", false,
        "level=fatal msg\nlevel=info", 1);
    /* A small class expands into the literals around it. */
    req("40[13] ", "401 |403 ", "4", false, "HTTP 401 x\nHTTP 403 \nHTTP 402 ", 2);
    req("HTTP/1.1\" 40[13] ", "1\" 401 |1\" 403  & HTTP/1", "H", false,
        "GET / HTTP/1.1\" 401 12\nHTTP/1x1\" 403 \nHTTP/1.1\" 404 ", 2);
    req("[ab][cd]xyz", "acxyz|adxyz|bcxyz|bdxyz", "ab", false, "bdxyz\nabxyz", 1);
    /* Too many combinations: what follows the alternatives is still required. */
    req("(?:a|b|c)(?:d|e|f)(?:g|h)long", "glong|hlong", "abc", false, "cfhlong\nalong", 1);
    /* Alternatives with a shared piece outside: a factor of each branch, or'ed. */
    req("(?:Can't|Background) sav(?:e in background: (?<error>.*)|ing (?:error|terminated by "
        "signal \\d+))",
        "Can't save in background: |Can't saving error|Can't saving terminated by signa|"
        "Background save in background: |Background saving error|Background saving "
        "terminated by  & e in background: |ing error|ing terminated by signal ",
        "BC", false,
        "Can't save in background: fork: Cannot allocate memory\nBackground saving error\n"
        "Background saving terminated by signal 9\nBackground saving started",
        3);
    /* A branch without literals leaves nothing required. */
    req("abcdef|\\d+", "", "0123456789a", false, "abcdef\n123\nxyz", 2);
    req("error|", "", "e", true, "error\nxyz", 2);
}

static void test_repeats(void)
{
    /* Optional parts contribute nothing, what surrounds them still does. */
    req("colou?r changed", "colour changed|color changed", "c", false,
        "colour changed\ncolor changed\ncolouur changed", 2);
    req("Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>\\S+) port \\d+",
        "Failed password for  &  port  &  from ", "F", false,
        "sshd[1]: Failed password for invalid user x from 1.2.3.4 port 22 ssh2\n"
        "Failed password for root from ::1 port 5\nFailed password for root from ::1",
        2);
    req("(?:abcd)*xyz1", "xyz1", "ax", false, "abcdabcdxyz1\nxyz1\nabcdxyz", 2);
    req("x{0,3}yz literal", "yz literal", "xy", false, "xxyz literal\nyz literal\nxyz", 2);
    req("x(?:abcd){0,3}y", "", "x", false, "xy\nxabcdabcdy\nxabcy", 2);
    /* {0}: the first bytes keep a (a superset is never wrong) */
    req("(?:abcd){0}efgh", "efgh", "ae", false, "efgh\nabcd", 1);
    req("a*", "", "a", true, "\nb\naaa", 3);
    req("(?:abcd)?", "", "a", true, "\nabcd", 2);
    req("^$", "", "", true, "\nx", 1);
    req("^(?:abcd)?$", "", "a", true, "\nabcd\nabc", 2); /* "" or abcd: nothing required */
    /* + and {n,} keep the literal: every match contains one copy. */
    req("(?:abcd)+", "abcd", "a", false, "abcdabcd\nabc", 1);
    req("(?:abcd){2,}", "abcd", "a", false, "abcdabcd\nabcd", 1);
    req("foo(?:bar){2,}baz", "foobar & barbaz", "f", false, "foobarbarbaz\nfoobarbaz", 1);
    req("ab+c long literal", "bc long literal", "a", false, "abbbc long literal\nac long literal",
        1);
    req("(?:ab){3}cd", "abababcd", "a", false, "abababcd\nababcd", 1);
    req("ut of memory: Kill(?:ed)? process (?<pid>\\d+) \\((?<process>[^)]*)\\)",
        "ut of memory: Killed process |ut of memory: Kill process ", "u", false,
        "Out of memory: Killed process 12 (java)\nOut of memory: Kill process 9 (x)\n"
        "Out of memory: Killing process 9 (x)",
        2);
    /* Lazy and possessive forms are the same repeats. */
    req("abcd.*?efgh[^i]++ijkl", "abcd & ijkl & efgh", "a", false, "abcdXefghXXijkl\nabcdefghijkl",
        1);
}

static void test_escapes_anchors(void)
{
    /* Class escapes: their bytes are first bytes, too many to expand. */
    req("^\\d", "", "0123456789", false, "1abc\na1", 1);
    req("^[A-Z]", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", false, "Hello\nhello", 1);
    req("^(?:GET|POST)", "", "GP", false, "GET /\nPOST /\n GET", 2);
    req("^\\d{4}-\\d\\d", "", "0123456789", false, "2024-01-02\n202-01", 1);
    req("\\d+ms", "", "0123456789", false, "took 12ms\nms", 1);
    req("^\\s+at ", "", "\\x09\\x0a\\x0b\\x0c\\x0d\\x20", false, "    at x\n\tat y\nat z", 2);
    req("^\\w+:", "", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz", false,
        "key: v\n:v", 1);
    req("^[^\\d]", "", "246 bytes", false, "x1\n1x", 1);
    req("^[^\\W\\d]", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz", false,
        "x\n_\n1\n-", 2);
    req("^.abcd", "abcd", "any", false, "xabcd\nabcd", 1);
    /* \h \v are taken as any byte: fine for a class, so its complement is any byte too (it
     * was none: a line "ax" was never tried on ^[^\h]x). */
    req("^[^\\h]x", "", "any", false, "ax\n x\n\tx", 1);
    req("^[^\\v\\d]", "", "any", false, "a\n5", 1);
    req("^\\h+x", "", "any", false, " x\n\tx\nx", 2);
    /* A real rule anchored at the start, and one with a class of first bytes. */
    req("(?<process>[^\\s\\[\\]]+)\\[(?<pid>\\d+)\\]: segfault at [0-9a-f]+ ip [0-9a-f]+ sp "
        "[0-9a-f]+ error \\d+(?: in (?<object>[^\\s\\[]+))?",
        "]: segfault at  &  error ", "248 bytes", false,
        "kernel: a.out[123]: segfault at 0 ip 00400 sp 7ffd error 4 in a.out[400000+1000]\n"
        "kernel: a.out[123]: segfault at 0 ip 00400 sp 7ffd error",
        1);
}

static void test_lengths(void)
{
    /* Longer than LW_REQ_MAXLEN: cut into windows, each still required. */
    req("The quick brown fox jumps over the lazy dog",
        "The quick brown fox jumps over t & he lazy dog", "T", false,
        "The quick brown fox jumps over the lazy dog!\nThe quick brown fox", 1);
    char longp[100];
    memset(longp, 'q', 60);
    memcpy(longp + 60, "tail", 5);
    struct lw_req r;
    CHECK_EQ(lw_req_analyze(&r, longp, strlen(longp)), 0);
    CHECK(r.nfactors >= 1);
    for (int f = 0; f < r.nfactors; f++)
        CHECK(r.f[f].alt[0].len <= LW_REQ_MAXLEN);
    CHECK_EQ(r.f[0].alt[0].len, LW_REQ_MAXLEN);
    sound(longp, &r, longp, 1);
    /* Shorter than LW_REQ_MINLEN: dropped. */
    req("abc", "", "a", false, "abc\nab", 1);
    req("ab.cd", "", "a", false, "abXcd\nabcd", 1);
    req("abc|defg", "", "ad", false, "abc\ndefg", 2);
    req("abcd", "abcd", "a", false, "abcd\nabc", 1);
    /* LW_REQ_GOODLEN: a literal of 6+ bytes drops the shorter factors. */
    req("abcd.*efghij", "efghij", "a", false, "abcd efghij\nefghij abcd", 1);
    req("abcd.*efgh", "abcd & efgh", "a", false, "abcd efgh\nefgh abcd", 1);
    req("abcd.*efg", "abcd", "a", false, "abcd efg\nabcd ef", 1);
    req("Invalid user (?<user>.*?) from (?<ip>\\S+)(?: port \\d+)?", "Invalid user  &  from ", "I",
        false, "sshd[1]: Invalid user admin from 1.2.3.4\nInvalid user admin fro 1.2.3.4", 1);
    CHECK(LW_REQ_MINLEN <= LW_REQ_GOODLEN && LW_REQ_GOODLEN <= LW_REQ_MAXLEN);
}

static void test_refused(void)
{
    refused("(?i)timeout");
    refused("(?x)a b c d");
    refused("abcd(?i:efgh)");
    refused("(a)\\1xxxx");
    refused("(?<n>a)\\k<n>bcde");
    refused("(?<n>a)\\g1bcde");
    refused("(?<n>a)(?P=n)bcde");
    refused("(?(?=a)abcd|efgh)");
    refused("(a)?(?(1)bcde|fghi)");
    refused("\\p{L}hello");
    refused("\\P{Lu}hello");
    refused("\\x41BCDE");
    refused("\\x{41}BCDE");
    refused("\\101bcde");
    refused("\\QFoo.bar\\E literal");
    refused("a\\Kbcde");
    refused("(?|(a)|(b))cdef");
    refused("(abcd)(?1)");
    refused("x(?R)?abcd");
    refused("(*UTF)abcd");
    refused("[[:alpha:]]abcd");
    refused("a{,3}bcde"); /* a quantifier in newer PCRE2 only, literal before */
    refused("\\cAbcde");
    /* A lookaround's body was skipped by counting parentheses, and \Q..\E or \c quote them:
     * the analysis took text inside the lookahead for text the match consumes. */
    refused("(?=\\Qa)bcde(?=\\E)a");
    refused("^(?=\\c)bcde(?=\\c())i");
    /* What they matched and the analysis claimed "bcdea" / first byte b for. */
    pcre2_code *re = compile("(?=\\Qa)bcde(?=\\E)a");
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    CHECK(pcre2_match(re, (PCRE2_SPTR) "a)bcde(?=", 9, 0, 0, md, NULL) >= 0);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    re = compile("^(?=\\c)bcde(?=\\c())i");
    md = pcre2_match_data_create_from_pattern(re, NULL);
    CHECK(pcre2_match(re, (PCRE2_SPTR) "ibcdeh", 6, 0, 0, md, NULL) >= 0);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    /* Broken syntax is refused too (PCRE2 reports it). */
    struct lw_req r;
    CHECK_EQ(lw_req_analyze(&r, "abcd(", 5), -1);
    CHECK_EQ(lw_req_analyze(&r, "abcd)", 5), -1);
    CHECK_EQ(lw_req_analyze(&r, "[abcd", 5), -1);
    CHECK_EQ(lw_req_analyze(&r, "abcd\\", 5), -1);
    CHECK_EQ(lw_req_analyze(&r, "*abcd", 5), -1);
    CHECK_EQ(r.nfactors, 0);
}

/* Real rules over real logs: every line PCRE2 matches holds the claimed literals. */
static void test_real_logs(void)
{
    static const struct {
        const char *path, *pattern;
        int min_matches;
    } cases[] = {
        {"../../data/umm-secure/mylar/secure",
         "Failed password for (?:invalid user )?(?<user>.*?) from (?<ip>\\S+) port \\d+", 50},
        {"../../data/umm-secure/mylar/secure",
         "Invalid user (?<user>.*?) from (?<ip>\\S+)(?: port \\d+)?", 50},
        {"../../data/umm-secure/mylar/secure", "sshd\\[\\d+\\]: (?:Accepted|Failed) \\w+ for", 50},
        {"../../data/elastic-examples/apache_logs",
         "\"(?:GET|HEAD) (?<path>/\\S*) HTTP/1\\.[01]\" 40[134] ", 50},
        {"../../data/elastic-examples/apache_logs", "^\\d+\\.\\d+\\.\\d+\\.\\d+ - - \\[", 1000},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct lw_req r;
        CHECK_EQ(lw_req_analyze(&r, cases[c].pattern, strlen(cases[c].pattern)), 0);
        FILE *f = fopen(cases[c].path, "r");
        CHECK(f != NULL);
        if (!f)
            continue;
        pcre2_code *re = compile(cases[c].pattern);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        char line[16384];
        int bad = 0, matches = 0;
        while (fgets(line, sizeof line, f)) {
            size_t n = strcspn(line, "\r\n");
            bool m;
            bad += !agrees(re, md, &r, line, n, &m);
            matches += m;
        }
        fclose(f);
        CHECK_EQ(bad, 0);
        if (matches < cases[c].min_matches)
            fprintf(stderr, "  %s: %d matches\n", cases[c].pattern, matches);
        CHECK(matches >= cases[c].min_matches);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }
}

/* ---------------------------------------------------------------- the literal scan */

struct lits {
    size_t n;
    char *s[600];
    size_t len[600];
    unsigned id[600];
};

/* Adds lits to a new scan and builds it; checks ids (duplicates share one). */
static struct lw_litscan *scan_of(struct lits *L)
{
    struct lw_litscan *ls = lw_litscan_new();
    int bad = 0;
    for (size_t i = 0; i < L->n; i++) {
        L->id[i] = lw_litscan_add(ls, L->s[i], L->len[i]);
        for (size_t j = 0; j < i; j++) {
            bool same = L->len[i] == L->len[j] && !memcmp(L->s[i], L->s[j], L->len[i]);
            if (same != (L->id[i] == L->id[j]))
                bad++;
        }
    }
    CHECK_EQ(bad, 0);
    lw_litscan_build(ls);
    return ls;
}

/* The scan of line (copied to an exactly sized buffer) finds exactly the literals memmem
 * finds. */
static bool scan_agrees(const struct lw_litscan *ls, const struct lits *L, const char *line,
                        size_t n)
{
    char *buf = malloc(n ? n : 1);
    memcpy(buf, line, n);
    size_t w = lw_litscan_words(ls);
    uint64_t *found = malloc((w ? w : 1) * sizeof *found);
    memset(found, 0xa5, (w ? w : 1) * sizeof *found); /* must be cleared by the scan */
    lw_litscan_run(ls, buf, n, found);
    bool ok = true;
    for (size_t i = 0; i < L->n; i++) {
        bool want = memmem(buf, n, L->s[i], L->len[i]) != NULL;
        bool got = found[L->id[i] >> 6] >> (L->id[i] & 63) & 1;
        if (want != got) {
            fprintf(stderr, "  literal %zu (%.*s): memmem %d, scan %d, line of %zu bytes\n", i,
                    (int)L->len[i], L->s[i], want, got, n);
            ok = false;
        }
    }
    /* No bit beyond the literals. */
    size_t nl = 0;
    for (size_t i = 0; i < L->n; i++)
        if (L->id[i] + 1 > nl)
            nl = L->id[i] + 1;
    for (size_t b = nl; b < w * 64; b++)
        ok &= !(found[b >> 6] >> (b & 63) & 1);
    free(found);
    free(buf);
    return ok;
}

static void lits_free(struct lits *L)
{
    for (size_t i = 0; i < L->n; i++)
        free(L->s[i]);
    L->n = 0;
}

static void lit_add(struct lits *L, const char *s, size_t n)
{
    L->s[L->n] = malloc(n);
    memcpy(L->s[L->n], s, n);
    L->len[L->n++] = n;
}

/* A random line: pieces of literals (whole, or cut), and bytes from a small alphabet that
 * also holds NUL and high bytes, so near misses and overlaps are common. */
static size_t random_line(const struct lits *L, char *out, size_t cap)
{
    static const char alpha[] = {'a', 'b', 'c', ' ', ':', '\0', (char)0x80, (char)0xff, 'x'};
    size_t n = 0, want = (size_t)(rng() % 120);
    while (n < want && n < cap - 64) {
        if (L->n && rng() % 3 == 0) {
            size_t i = (size_t)(rng() % L->n), len = L->len[i], from = 0;
            if (rng() % 3 == 0) { /* a piece only */
                from = (size_t)(rng() % len);
                len = (size_t)(rng() % (len - from + 1));
            }
            memcpy(out + n, L->s[i] + from, len);
            n += len;
        } else {
            out[n++] = alpha[rng() % sizeof alpha];
        }
    }
    return n;
}

static void random_lines(const struct lw_litscan *ls, const struct lits *L, int count)
{
    char line[256];
    int bad = 0;
    for (int k = 0; k < count; k++) {
        size_t n = random_line(L, line, sizeof line);
        bad += !scan_agrees(ls, L, line, n);
    }
    CHECK_EQ(bad, 0);
}

static void test_litscan_basic(void)
{
    struct lits L = {0};
    const char *words[] = {"abcd",  "bcde",  "abcdabcd", "cdab",   "abcd",   "dabc", "xxxx",
                           "xxxxx", "error", "ERROR",    "abcdef", "cdefgh", "abcd"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        lit_add(&L, words[i], strlen(words[i]));
    lit_add(&L, "a\0b\0", 4);
    lit_add(&L, "\x80\xff\x80\xff", 4);
    lit_add(&L, "\xff\xfe\xfd\xfc\xfb", 5);
    struct lw_litscan *ls = scan_of(&L);
    CHECK_EQ(L.id[0], 0);
    CHECK_EQ(L.id[4], L.id[0]); /* duplicates: the same id */
    CHECK_EQ(L.id[12], L.id[0]);
    CHECK_EQ(L.id[5], 4); /* new literals get the next id */
    CHECK_EQ(lw_litscan_words(ls), 1);
    static const struct {
        const char *line;
        size_t n;
    } lines[] = {
        {"abcd", 4},                 /* the whole line */
        {"abcdabcd", 8},             /* overlapping: abcd, cdab, dabc, bcda... */
        {"zzzzzzzabcd", 11},         /* at the very end */
        {"abcdzzzzzzz", 11},         /* at the very start */
        {"abc", 3},                  /* shorter than a gram */
        {"", 0},                     /* empty */
        {"a", 1},                    /* one byte */
        {"xxxxxx", 6},               /* xxxx at 0, 1, 2; xxxxx */
        {"ERRORerror", 10},          /* case matters */
        {"abcdefgh", 8},             /* abcdef, cdefgh, abcd, bcde */
        {"za\0b\0z", 6},             /* NUL bytes */
        {"\x80\xff\x80\xff\x80", 5}, /* high bytes */
        {"\xff\xfe\xfd\xfc\xfb", 5},
        {"\xff\xfe\xfd\xfc", 4}, /* one short */
        {"bcdabcdeabc", 11},
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        bool ok = scan_agrees(ls, &L, lines[i].line, lines[i].n);
        if (!ok)
            fprintf(stderr, "  line %zu\n", i);
        CHECK(ok);
    }
    /* Lines of 0-3 bytes find nothing (every literal is longer). */
    uint64_t found[1];
    for (size_t n = 0; n < 4; n++) {
        found[0] = ~0ull;
        lw_litscan_run(ls, "abcd", n, found);
        CHECK_EQ(found[0], 0);
    }
    random_lines(ls, &L, 5000);
    lw_litscan_free(ls);
    lits_free(&L);
    lw_litscan_free(NULL);

    /* No literals at all. */
    ls = lw_litscan_new();
    lw_litscan_build(ls);
    CHECK_EQ(lw_litscan_words(ls), 0);
    lw_litscan_run(ls, "abcdefgh", 8, found);
    lw_litscan_free(ls);
}

/* Random literals of lengths lo..hi from a small alphabet (many shared grams). */
static void random_lits(struct lits *L, size_t count, size_t lo, size_t hi, const char *alpha)
{
    size_t na = strlen(alpha);
    char buf[LW_REQ_MAXLEN];
    for (size_t i = 0; i < count; i++) {
        size_t n = lo + (size_t)(rng() % (hi - lo + 1));
        for (size_t k = 0; k < n; k++)
            buf[k] = alpha[rng() % na];
        if (rng() % 10 == 0) { /* high bytes and NUL in some */
            buf[rng() % n] = (char)0x80;
            buf[rng() % n] = 0;
        }
        lit_add(L, buf, n);
        if (rng() % 8 == 0) /* and some duplicates */
            lit_add(L, buf, n);
    }
}

static void test_litscan_random(void)
{
    /* Shortest literal 4 .. 8 bytes: stride 1 .. 4 (every position .. every fourth). */
    for (size_t lo = 4; lo <= 8; lo++) {
        for (int round = 0; round < 3; round++) {
            struct lits L = {0};
            size_t count = round == 0 ? 5 : round == 1 ? 60 : 250;
            random_lits(&L, count, lo, round == 2 ? LW_REQ_MAXLEN : lo + 6,
                        round == 1 ? "ab" : "abc :x");
            struct lw_litscan *ls = scan_of(&L);
            random_lines(ls, &L, round == 2 ? 2000 : 1500);
            lw_litscan_free(ls);
            lits_free(&L);
        }
    }
    /* All literals long (the stride mode of a ruleset whose factors are all GOODLEN+), from
     * real rules, on lines of real-looking text. */
    struct lits L = {0};
    const char *words[] = {"Failed password for ",
                           " from ",
                           " port ",
                           "Invalid user ",
                           "No space left on device",
                           "Out of memory: Killed process",
                           "]: segfault at ",
                           " error ",
                           "authentication failure;",
                           "incorrect password attempts"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        lit_add(&L, words[i], strlen(words[i]));
    struct lw_litscan *ls = scan_of(&L);
    random_lines(ls, &L, 3000);
    int bad = 0;
    FILE *f = fopen("../../data/umm-secure/mylar/secure", "r");
    CHECK(f != NULL);
    char line[16384];
    int hits = 0;
    while (f && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        bad += !scan_agrees(ls, &L, line, n);
        hits += memmem(line, n, "Failed password for ", 20) != NULL;
    }
    if (f)
        fclose(f);
    CHECK_EQ(bad, 0);
    CHECK(hits > 0);
    lw_litscan_free(ls);
    lits_free(&L);
}

int main(void)
{
    test_literals();
    test_alternations_classes();
    test_repeats();
    test_escapes_anchors();
    test_lengths();
    test_refused();
    test_real_logs();
    test_litscan_basic();
    test_litscan_random();
    return test_summary();
}
