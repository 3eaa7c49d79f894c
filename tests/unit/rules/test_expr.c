/* test_expr.c: unit tests of rules/expr.c: every operator and type, precedence, missing fields,
 * load-time errors with their columns, PCRE2 limits. */
#include "expr.h"
#include "test.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>

/* The fields an event of these tests can have; the index is the field id. */
enum {
    F_STATUS,
    F_PATH,
    F_LEVEL,
    F_REQUEST_TIME,
    F_DURATION,
    F_USER,
    F_OK,
    F_CODE,
    F_BYTES,
    F_ENDPOINT,
    F_GHOST,
    F_RATIO,
    F_COUNT
};

static const struct {
    const char *name;
    enum lw_type type;
} fields[F_COUNT] = {
    [F_STATUS] = {"status", LW_T_INT},
    [F_PATH] = {"path", LW_T_STRING},
    [F_LEVEL] = {"level", LW_T_STRING},
    [F_REQUEST_TIME] = {"request_time", LW_T_FLOAT},
    [F_DURATION] = {"duration", LW_T_DURATION},
    [F_USER] = {"user", LW_T_STRING},
    [F_OK] = {"ok", LW_T_BOOL},
    [F_CODE] = {"code", LW_T_STRING},
    [F_BYTES] = {"bytes", LW_T_INT},
    [F_ENDPOINT] = {"metadata.endpoint", LW_T_STRING},
    [F_GHOST] = {"ghost", LW_T_STRING}, /* declared, never present */
    [F_RATIO] = {"ratio", LW_T_FLOAT},
};

static int resolve(const char *name, size_t n, enum lw_type *type, void *payload)
{
    (void)payload;
    for (int k = 0; k < F_COUNT; k++) {
        if (strlen(fields[k].name) == n && memcmp(fields[k].name, name, n) == 0) {
            *type = fields[k].type;
            return k;
        }
    }
    return -1;
}

#define STR(lit)                                                                                   \
    {                                                                                              \
        .kind = LW_V_STR, .s = { lit, sizeof lit - 1 }                                             \
    }
#define INT(v)                                                                                     \
    {                                                                                              \
        .kind = LW_V_INT, .i = v                                                                   \
    }
#define FLT(v)                                                                                     \
    {                                                                                              \
        .kind = LW_V_FLOAT, .f = v                                                                 \
    }
#define BOOL(v)                                                                                    \
    {                                                                                              \
        .kind = LW_V_BOOL, .b = v                                                                  \
    }

/* A: a failed API call; B: a fast static page, some fields missing or odd; C: nothing at all. */
static const struct lw_value ev_a[F_COUNT] = {
    [F_STATUS] = INT(503),       [F_PATH] = STR("/api/users"), [F_LEVEL] = STR("error"),
    [F_REQUEST_TIME] = FLT(2.5), [F_DURATION] = FLT(0.2),      [F_USER] = STR("bob"),
    [F_OK] = BOOL(true),         [F_CODE] = STR("404"),        [F_BYTES] = INT(0),
    [F_ENDPOINT] = STR("/v1"),   [F_RATIO] = FLT(0.5),
};
static const struct lw_value ev_b[F_COUNT] = {
    [F_STATUS] = INT(200),       [F_PATH] = STR("/index.html"), [F_LEVEL] = STR("fatal"),
    [F_REQUEST_TIME] = FLT(0.1), [F_DURATION] = FLT(0.1),       [F_USER] = STR(""),
    [F_OK] = BOOL(false),        [F_CODE] = STR("abc"),         [F_BYTES] = INT(512),
    [F_RATIO] = FLT(200.0),
};
static const struct lw_value ev_c[F_COUNT];

static const struct lw_value *const events[] = {ev_a, ev_b, ev_c};
enum { A, B, C };

static const struct {
    const char *src;
    int ev;
    bool want;
} cases[] = {
    /* the examples of the brief */
    {"status >= 500 and path =~ \"^/api\"", A, true},
    {"status >= 500 and path =~ \"^/api\"", B, false},
    {"level == \"error\" or level == \"fatal\"", A, true},
    {"level == \"error\" or level == \"fatal\"", B, true},
    {"level == \"error\" or level == \"fatal\"", C, false},
    {"not (status < 400)", A, true},
    {"not (status < 400)", B, false},
    {"not (status < 400)", C, true}, /* missing: the comparison is false, its negation true */
    {"exists(user)", A, true},
    {"exists(user)", B, true},
    {"exists(user)", C, false},
    {"exists(metadata.endpoint)", A, true},
    {"exists(metadata.endpoint)", B, false},
    {"request_time > 2s", A, true},
    {"request_time > 2s", B, false},
    {"duration > 150ms", A, true},
    {"duration > 150ms", B, false},
    {"duration < 1m", A, true},
    {"duration <= 0.2", A, true},
    {"request_time < 1h30m", A, true},
    /* every comparison on ints */
    {"status == 503", A, true},
    {"status == 503", B, false},
    {"status != 503", B, true},
    {"status < 503", A, false},
    {"status <= 503", A, true},
    {"status > 502", A, true},
    {"status >= 504", A, false},
    {"503 == status", A, true},
    {"600 > status", A, true},
    {"status>=500", A, true},
    {"bytes == 0", A, true},
    {"bytes > -1", A, true},
    {"status == bytes", A, false},
    {"bytes > status", B, true},
    /* int vs float, floats, exponents */
    {"status == 503.0", A, true},
    {"status < 503.5", A, true},
    {"status > 5e2", A, true},
    {"status < 1e3", A, true},
    {"request_time == 2.5", A, true},
    {"request_time > 2", A, true},
    {"ratio > 0.05", A, true},
    {"ratio >= 2E2", B, true},
    {"ratio > .4", A, true},
    {"request_time > status", A, false},
    {"ratio == status", B, true},
    /* strings: equality, bytewise order, escapes, both quotes */
    {"level == \"error\"", A, true},
    {"level != \"error\"", A, false},
    {"level != \"error\"", B, true},
    {"level == 'error'", A, true},
    {"level < \"fatal\"", A, true},
    {"level <= \"error\"", A, true},
    {"level > \"errors\"", A, false},
    {"level >= \"e\"", A, true},
    {"\"error\" == level", A, true},
    {"level == \"err\\\"or\"", A, false},
    {"path == \"/api/users\"", A, true},
    {"user == \"\"", B, true},
    {"user != \"\"", A, true},
    {"level == user", A, false},
    /* a string field against a number converts, and is false when it does not */
    {"code == 404", A, true},
    {"code >= 400", A, true},
    {"code < 400.5", A, false},
    {"code == 404", B, false},
    {"code != 404", B, false},
    {"code < 404", B, false},
    {"not (code == 404)", B, true},
    /* a numeric field against a string that converts, with == / != */
    {"status == \"503\"", A, true},
    {"status != \"503\"", A, false},
    /* bools */
    {"ok == true", A, true},
    {"ok == true", B, false},
    {"ok == false", B, true},
    {"ok != false", A, true},
    {"ok == \"true\"", A, true},
    {"ok", A, true},
    {"ok", B, false},
    {"not ok", B, true},
    {"true", C, true},
    {"false", C, false},
    {"not false", C, true},
    {"true == true", C, true},
    /* bare operands: truthiness */
    {"user", A, true},
    {"user", B, false},
    {"user", C, false},
    {"bytes", A, false},
    {"bytes", B, true},
    {"status", C, false},
    {"\"x\"", C, true},
    {"0", C, false},
    {"1.5", C, true},
    /* regexes */
    {"path =~ \"^/api/\"", A, true},
    {"path =~ \"^/api/\"", B, false},
    {"path !~ \"^/api/\"", A, false},
    {"path !~ \"^/api/\"", B, true},
    {"path =~ \"\\\\.html$\"", B, true},
    {"path =~ \"\\.html$\"", B, true}, /* an unknown escape is kept: \. reaches PCRE2 */
    {"path =~ '(?i)^/API'", A, true},
    {"level =~ \"^(error|fatal)$\"", B, true},
    {"user =~ \"^$\"", B, true},
    {"\"abc\" =~ \"b\"", C, true},
    {"code =~ \"^\\d+$\"", A, true},
    /* missing fields: every comparison false, != and !~ included */
    {"status == 0", C, false},
    {"status != 0", C, false},
    {"status < 0", C, false},
    {"status > 0", C, false},
    {"path !~ \"x\"", C, false},
    {"path =~ \"\"", C, false},
    {"not (path !~ \"x\")", C, true},
    {"ghost != \"x\"", A, false},
    {"ghost == ghost", A, false},
    {"not exists(ghost)", A, true},
    /* precedence and associativity: not > and > or */
    {"level == \"error\" or status < 0 and ok == false", A, true},
    {"(level == \"error\" or status < 0) and ok == false", A, false},
    {"status < 0 and ok or true", A, true},
    {"not ok and true", A, false},
    {"not (ok and false)", A, true},
    {"not not ok", A, true},
    {"false or false or true", C, true},
    {"true and true and false", C, false},
    {"false and true or true", C, true},
    {"true or false and false", C, true},
    {"(true or false) and false", C, false},
    {"((((status >= 500))))", A, true},
    {"status >= 500 and (path =~ \"^/api\" or level == \"fatal\") and not ok == false", A, true},
    {"status >= 500 and (path =~ \"^/nope\" or level == \"fatal\")", A, false},
    /* whitespace and keywords that are only prefixes of field names */
    {"  status\t==\n503  ", A, true},
};

static void test_table(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        struct lw_expr *e = NULL;
        struct lw_err err = {0};
        int col = 0;
        int rc = lw_expr_compile(&e, cases[k].src, resolve, NULL, &col, &err);
        if (rc != 0) {
            fprintf(stderr, "compile '%s': %d:%s\n", cases[k].src, col, err.msg);
            CHECK_EQ(rc, 0);
            continue;
        }
        bool got = lw_expr_eval(e, events[cases[k].ev], F_COUNT);
        if (got != cases[k].want)
            fprintf(stderr, "eval '%s' on %c: got %d\n", cases[k].src, 'A' + cases[k].ev, got);
        CHECK_EQ(got, cases[k].want);
        /* a second evaluation gives the same: nothing is consumed */
        CHECK_EQ(lw_expr_eval(e, events[cases[k].ev], F_COUNT), cases[k].want);
        lw_expr_free(e);
    }
}

static const struct {
    const char *src;
    int col;
    const char *msg;
} errors[] = {
    {"stauts >= 500", 1, "unknown field 'stauts'"},
    {"status >= 500 and (path == \"x\"", 31, "expected ')' here"},
    {"(status >= 500", 15, "expected ')' here"},
    {"status >= \"500\"", 8, "cannot compare int field 'status' with a string"},
    {"\"a\" < status", 5, "cannot compare int field 'status' with a string"},
    {"request_time > \"2s\"", 14, "cannot compare float field 'request_time' with a string"},
    {"duration <= \"1\"", 10, "cannot compare duration field 'duration' with a string"},
    {"status == \"5xx\"", 8, "cannot compare int field 'status' with a string"},
    {"ok > \"true\"", 4, "cannot compare bool field 'ok' with a string"},
    {"ok == \"yes\"", 4, "cannot compare bool field 'ok' with a string"},
    {"status =~ \"^5\"", 8, "cannot match int field 'status' against a regex"},
    {"ok !~ \"t\"", 4, "cannot match bool field 'ok' against a regex"},
    {"5 =~ \"5\"", 3, "only a field or a string can be matched against a regex"},
    {"path =~ level", 9, "the right side of '=~' must be a string (the regex)"},
    {"path !~ 5", 9, "the right side of '!~' must be a string (the regex)"},
    {"exists(5)", 8, "exists() takes a field name"},
    {"exists(\"user\")", 8, "exists() takes a field name"},
    {"exists user", 8, "expected '(' after 'exists'"},
    {"exists(user", 12, "expected ')' here"},
    {"exists(nobody)", 8, "unknown field 'nobody'"},
    {"path =~ \"(abc\"", 14, "bad regex: missing closing parenthesis"},
    {"path =~ \"a\\\\\\\\b)\"", 16, "bad regex: unmatched closing parenthesis"},
    {"path =~ '\\'x)'", 13, "bad regex: unmatched closing parenthesis"},
    {"", 1, "empty expression"},
    {"   ", 1, "empty expression"},
    {"status >=", 10, "expected a value after '>='"},
    {"status >= 500 and", 18, "unexpected end of expression"},
    {"not", 4, "unexpected end of expression"},
    {"status = 5", 8, "unexpected '=' (use '==')"},
    {"!ok", 1, "unexpected '!' (use 'not')"},
    {"ok && ok", 4, "unexpected '&' (use 'and')"},
    {"ok || ok", 4, "unexpected '|' (use 'or')"},
    {"status >= 500 AND ok", 15, "unexpected 'AND' (keywords are lower-case: 'and')"},
    {"status >= 500 ok", 15, "unexpected 'ok'"},
    {"status < 5 < 6", 12, "unexpected '<'"},
    {"status > 5)", 11, "unexpected ')'"},
    {"()", 2, "unexpected ')'"},
    {"level == \"abc", 10, "unterminated string"},
    {"level == 'abc\\'", 10, "unterminated string"},
    {"status > 5xx", 10, "invalid number or duration '5xx'"},
    {"status > 1.2.3", 10, "invalid number or duration '1.2.3'"},
    {"duration > -5s", 12, "invalid number or duration '-5s'"},
    {"status # 5", 8, "unexpected character '#'"},
    {"status \x01 5", 8, "unexpected byte 0x01"},
    {"- 5", 1, "unexpected character '-'"},
};

static void test_errors(void)
{
    for (size_t k = 0; k < sizeof errors / sizeof *errors; k++) {
        struct lw_expr *e = (struct lw_expr *)&e; /* must be reset to NULL */
        struct lw_err err = {0};
        int col = 0;
        int rc = lw_expr_compile(&e, errors[k].src, resolve, NULL, &col, &err);
        CHECK_EQ(rc, LW_EINVAL);
        CHECK(e == NULL);
        CHECK_EQ(err.code, LW_EINVAL);
        if (col != errors[k].col || strcmp(err.msg, errors[k].msg) != 0)
            fprintf(stderr, "for: %s\n", errors[k].src);
        CHECK_EQ(col, errors[k].col);
        CHECK_STR(err.msg, errors[k].msg);
    }
}

/* Nesting and size limits are errors, not stack overflows. */
static void test_limits(void)
{
    char src[8192];
    struct lw_expr *e = NULL;
    struct lw_err err = {0};
    int col = 0, n;

    /* 64 levels are allowed, 65 are not */
    n = 0;
    for (int k = 0; k < 64; k++)
        src[n++] = '(';
    n += sprintf(src + n, "ok");
    for (int k = 0; k < 64; k++)
        src[n++] = ')';
    src[n] = '\0';
    CHECK_EQ(lw_expr_compile(&e, src, resolve, NULL, &col, &err), 0);
    CHECK(lw_expr_eval(e, ev_a, F_COUNT));
    lw_expr_free(e);

    memmove(src + 1, src, (size_t)n + 1);
    src[0] = '(';
    strcat(src, ")");
    CHECK_EQ(lw_expr_compile(&e, src, resolve, NULL, &col, &err), LW_EINVAL);
    CHECK_EQ(col, 65);
    CHECK_STR(err.msg, "expression nested too deeply (limit 64)");

    n = 0;
    for (int k = 0; k < 100; k++)
        n += sprintf(src + n, "not ");
    sprintf(src + n, "ok");
    CHECK_EQ(lw_expr_compile(&e, src, resolve, NULL, &col, &err), LW_EINVAL);
    CHECK_EQ(col, 64 * 4 + 1);

    /* long flat chains are not nesting: 4096 bytes of `ok or ` */
    n = 0;
    while (n + 8 < 4096)
        n += sprintf(src + n, "ok and ");
    sprintf(src + n, "ok");
    CHECK_EQ(lw_expr_compile(&e, src, resolve, NULL, &col, &err), 0);
    CHECK(lw_expr_eval(e, ev_a, F_COUNT));
    CHECK(!lw_expr_eval(e, ev_b, F_COUNT));
    lw_expr_free(e);

    memset(src, ' ', 4097);
    memcpy(src, "ok", 2);
    src[4097] = '\0';
    CHECK_EQ(lw_expr_compile(&e, src, resolve, NULL, &col, &err), LW_EINVAL);
    CHECK_EQ(col, 4097);
    CHECK_STR(err.msg, "expression too long (limit 4096 bytes)");
    src[4096] = '\0';
    CHECK_EQ(lw_expr_compile(&e, src, resolve, NULL, &col, &err), 0);
    lw_expr_free(e);

    /* NULL resolver: every field is unknown; NULL err and err_col are allowed */
    CHECK_EQ(lw_expr_compile(&e, "status", NULL, NULL, NULL, NULL), LW_EINVAL);
    CHECK(e == NULL);
    lw_expr_free(NULL);
    CHECK(!lw_expr_eval(NULL, ev_a, F_COUNT));
}

/* Catastrophic backtracking stops at the match limit: the comparison is false, both ways. */
static void test_pathological_regex(void)
{
    char subject[64];
    memset(subject, 'a', 48);
    subject[48] = 'b';
    struct lw_value ev[F_COUNT] = {[F_PATH] = {.kind = LW_V_STR, .s = {subject, 49}}};
    struct lw_expr *e = NULL;
    struct lw_err err = {0};
    int col = 0;

    CHECK_EQ(lw_expr_compile(&e, "path =~ \"^(a+)+$\"", resolve, NULL, &col, &err), 0);
    CHECK(!lw_expr_eval(e, ev, F_COUNT));
    lw_expr_free(e);
    CHECK_EQ(lw_expr_compile(&e, "path !~ \"^(a+)+$\"", resolve, NULL, &col, &err), 0);
    CHECK(!lw_expr_eval(e, ev, F_COUNT));
    lw_expr_free(e);
    /* the same pattern still answers where it does not explode */
    ev[F_PATH].s.n = 48;
    CHECK_EQ(lw_expr_compile(&e, "path =~ \"^(a+)+$\"", resolve, NULL, &col, &err), 0);
    CHECK(lw_expr_eval(e, ev, F_COUNT));
    lw_expr_free(e);
    /* a pattern cannot raise the limit for itself */
    ev[F_PATH].s.n = 49;
    CHECK_EQ(lw_expr_compile(&e, "path =~ \"(*LIMIT_MATCH=1000000000)^(a+)+$\"", resolve, NULL,
                             &col, &err),
             0);
    CHECK(!lw_expr_eval(e, ev, F_COUNT));
    lw_expr_free(e);
    /* the pattern runs on bytes, never as UTF-8 */
    CHECK_EQ(lw_expr_compile(&e, "path =~ \"(*UTF)x\"", resolve, NULL, &col, &err), LW_EINVAL);
    CHECK_EQ(col, 16); /* PCRE2 points after the (*UTF) */
    CHECK_STR(err.msg, "bad regex: using UTF is disabled by the application");
    CHECK_EQ(lw_expr_compile(&e, "path =~ \"^\\xff\"", resolve, NULL, &col, &err), 0);
    struct lw_value bin[F_COUNT] = {[F_PATH] = {.kind = LW_V_STR, .s = {"\xff\xfe", 2}}};
    CHECK(lw_expr_eval(e, bin, F_COUNT));
    lw_expr_free(e);
}

/* Values that do not match their declaration (a JSON decoder's), and ids past nfields. */
static void test_runtime_kinds(void)
{
    struct lw_expr *e = NULL;
    int col;
    struct lw_err err;
    struct lw_value ev[F_COUNT] = {
        [F_PATH] = INT(404),   [F_LEVEL] = BOOL(true),  [F_USER] = FLT(0.1),
        [F_CODE] = STR("2.5"), [F_STATUS] = STR("503"), [F_ENDPOINT] = FLT(NAN),
    };
    static const struct {
        const char *src;
        bool want;
    } rt[] = {
        {"path =~ \"^40\\d$\"", true},
        {"path == 404", true},
        {"level =~ \"^true$\"", true},
        {"level == true", true},
        {"level == \"true\"", true},
        {"user =~ \"^0\\.1$\"", true},
        {"code > 2", true},
        {"code == 2.5", true},
        {"status == 503", true},
        {"status >= 500", true},
        {"metadata.endpoint == 0", false},
        {"metadata.endpoint != 0", false},
    };
    for (size_t k = 0; k < sizeof rt / sizeof *rt; k++) {
        CHECK_EQ(lw_expr_compile(&e, rt[k].src, resolve, NULL, &col, &err), 0);
        if (lw_expr_eval(e, ev, F_COUNT) != rt[k].want)
            fprintf(stderr, "runtime kind: %s\n", rt[k].src);
        CHECK_EQ(lw_expr_eval(e, ev, F_COUNT), rt[k].want);
        lw_expr_free(e);
    }
    /* a field id the caller's array does not reach is missing */
    CHECK_EQ(lw_expr_compile(&e, "ratio != 1", resolve, NULL, &col, &err), 0);
    CHECK(!lw_expr_eval(e, ev_b, F_RATIO));
    CHECK(!lw_expr_eval(e, NULL, 0));
    CHECK(lw_expr_eval(e, ev_b, F_COUNT));
    lw_expr_free(e);
}

/* Evaluation allocates nothing: the heap in use does not move over many evaluations. (mallinfo2
 * sees only glibc's heap; under ASan this is vacuous, which is fine.) */
static void test_no_alloc(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct lw_expr *e = NULL;
    int col;
    struct lw_err err;
    CHECK_EQ(lw_expr_compile(&e,
                             "status >= 500 and path =~ \"^/api/(\\w+)\" or code > 3 and "
                             "not exists(ghost) and level != \"x\"",
                             resolve, NULL, &col, &err),
             0);
    bool r = lw_expr_eval(e, ev_a, F_COUNT); /* warm up: PCRE2 may size its frames once */
    struct mallinfo2 before = mallinfo2();
    for (int k = 0; k < 10000; k++)
        r ^= lw_expr_eval(e, k & 1 ? ev_a : ev_b, F_COUNT);
    struct mallinfo2 after = mallinfo2();
    CHECK_EQ(after.uordblks, before.uordblks);
    CHECK_EQ(after.hblkhd, before.hblkhd);
    CHECK(r);
    lw_expr_free(e);
#endif
}

int main(void)
{
    test_table();
    test_errors();
    test_limits();
    test_pathological_regex();
    test_runtime_kinds();
    test_no_alloc();
    return test_summary();
}
