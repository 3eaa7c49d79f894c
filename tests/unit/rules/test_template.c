/* test_template.c: unit tests for annotation templates and number formatting (rules/template.c). */
#include "template.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

/* Labels the fake alert carries. */
static const char *labels[][2] = {
    {"ip", "203.0.113.7"}, {"host", "web-1"},         {"ratio", "2.5"},
    {"secs", "90"},        {"quote", "say \"hi\"\n"}, {"pod.name", "api-7f"},
};

static int lookup(const char *name, size_t n, struct lw_str *out, void *payload)
{
    (void)payload;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strlen(labels[i][0]) == n && memcmp(labels[i][0], name, n) == 0) {
            *out = lw_str_c(labels[i][1]);
            return 0;
        }
    return -1;
}

static bool known(const char *name, size_t n, void *payload)
{
    struct lw_str s;
    int *calls = payload;
    (*calls)++;
    return lookup(name, n, &s, NULL) == 0 || (n == 6 && memcmp(name, "absent", 6) == 0);
}

/* Renders src with value; the result is static, "<error: msg @col>" on a compile error. */
static const char *render(const char *src, double value)
{
    static char res[1024];
    struct lw_tmpl *t;
    struct lw_err err = {0};
    int col = 0;
    if (lw_tmpl_compile(&t, src, NULL, NULL, &col, &err) != 0) {
        snprintf(res, sizeof res, "<error: %s @%d>", err.msg, col);
        return res;
    }
    struct lw_buf b = {0};
    lw_tmpl_render(t, value, lookup, NULL, &b);
    snprintf(res, sizeof res, "%s", b.p ? b.p : "");
    lw_buf_free(&b);
    lw_tmpl_free(t);
    return res;
}

/* Compiles src (with the `known` check) expecting an error; returns its column. */
static int error_col(const char *src, const char *msg_part)
{
    struct lw_tmpl *t = NULL;
    struct lw_err err = {0};
    int col = 0, calls = 0;
    int rc = lw_tmpl_compile(&t, src, known, &calls, &col, &err);
    CHECK_EQ(rc, LW_EINVAL);
    CHECK(t == NULL);
    if (!strstr(err.msg, msg_part)) {
        fprintf(stderr, "  message for '%s' was '%s', expected to contain '%s'\n", src, err.msg,
                msg_part);
        CHECK(0);
    }
    lw_tmpl_free(t);
    return col;
}

static const char *num(double v)
{
    static char buf[64];
    lw_fmt_number(v, buf, sizeof buf);
    return buf;
}

static void test_fmt_number(void)
{
    CHECK_STR(num(11), "11");
    CHECK_STR(num(-3), "-3");
    CHECK_STR(num(0), "0");
    CHECK_STR(num(-0.0), "0");
    CHECK_STR(num(0.0534), "0.0534");
    CHECK_STR(num(2.5), "2.5");
    CHECK_STR(num(1234.5678), "1234.5678");
    CHECK_STR(num(1.0 / 3), "0.333333");
    CHECK_STR(num(2.0 / 3), "0.666667");
    CHECK_STR(num(0.000123456789), "0.000123457");
    CHECK_STR(num(-0.25), "-0.25");
    CHECK_STR(num(0.1 + 0.2), "0.3");
    CHECK_STR(num(123456789012345.0), "123456789012345");
    CHECK_STR(num(1e15), "1e+15");
    CHECK_STR(num(1.5e-9), "1.5e-09");
    CHECK_STR(num(NAN), "NaN");
    CHECK_STR(num(INFINITY), "+Inf");
    CHECK_STR(num(-INFINITY), "-Inf");
}

static void test_render(void)
{
    /* The RULES.md examples. */
    CHECK_STR(render("Error rate {{ value | percent }} over the last 5m", 0.0712),
              "Error rate 7.1% over the last 5m");
    CHECK_STR(render("{{ value }} failed logins from {{ ip }} in 5m", 11),
              "11 failed logins from 203.0.113.7 in 5m");

    CHECK_STR(render("{{value}}", 2.5), "2.5");
    CHECK_STR(render("{{   value   }}", 0.0534), "0.0534");
    CHECK_STR(render("\t{{\tvalue\t}}\t", 3), "\t3\t");
    CHECK_STR(render("", 1), "");
    CHECK_STR(render("plain text", 1), "plain text");
    CHECK_STR(render("a } b { c }} d {", 1), "a } b { c }} d {");
    CHECK_STR(render("{x}{{value}}}", 7), "{x}7}");
    CHECK_STR(render("{{ host }}/{{ pod.name }}", 0), "web-1/api-7f");
    CHECK_STR(render("[{{ missing }}]", 0), "[]");
    CHECK_STR(render("[{{ missing | upper | json }}]", 0), "[\"\"]");

    /* percent */
    CHECK_STR(render("{{ value | percent }}", 0.0534), "5.3%");
    CHECK_STR(render("{{ value | percent }}", 0.05), "5%");
    CHECK_STR(render("{{ value | percent }}", 1), "100%");
    CHECK_STR(render("{{ value | percent }}", 0), "0%");
    CHECK_STR(render("{{ value | percent }}", 0.12345), "12.3%");
    CHECK_STR(render("{{ value | percent }}", -0.0001), "0%");
    CHECK_STR(render("{{ value | percent }}", 1.5), "150%");
    CHECK_STR(render("{{ ratio | percent }}", 0), "250%");
    CHECK_STR(render("{{ ip | percent }}", 0), "203.0.113.7");

    /* round */
    CHECK_STR(render("{{ value | round 2 }}", 1.5), "1.50");
    CHECK_STR(render("{{ value | round 0 }}", 2.5), "2");
    CHECK_STR(render("{{ value | round 0 }}", 3.7), "4");
    CHECK_STR(render("{{ value | round 3 }}", 0.0534), "0.053");
    CHECK_STR(render("{{ value | round 9 }}", 1.0 / 3), "0.333333333");
    CHECK_STR(render("{{ value | round 2 }}", -0.001), "0.00");
    CHECK_STR(render("{{ value|round 1 }}", 11), "11.0");
    CHECK_STR(render("{{ ratio | round 1 }}", 0), "2.5");
    CHECK_STR(render("{{ host | round 1 }}", 0), "web-1");
    CHECK_STR(render("{{ value | round 2 }}", 1e300), num(1e300));

    /* duration */
    CHECK_STR(render("{{ value | duration }}", 90), "1m30s");
    CHECK_STR(render("{{ value | duration }}", 0.25), "250ms");
    CHECK_STR(render("{{ value | duration }}", 7200), "2h");
    CHECK_STR(render("{{ value | duration }}", 300), "5m");
    CHECK_STR(render("{{ value | duration }}", 0), "0s");
    CHECK_STR(render("{{ value | duration }}", -90), "-1m30s");
    CHECK_STR(render("{{ secs | duration }}", 0), "1m30s");
    CHECK_STR(render("{{ host | duration }}", 0), "web-1");

    /* json, upper */
    CHECK_STR(render("{{ quote | json }}", 0), "\"say \\\"hi\\\"\\n\"");
    CHECK_STR(render("{{ ip | json }}", 0), "\"203.0.113.7\"");
    CHECK_STR(render("{{ value | json }}", 0.5), "\"0.5\"");
    CHECK_STR(render("{{ host | upper }}", 0), "WEB-1");
    CHECK_STR(render("{{ value | upper }}", NAN), "NAN");

    /* Chains, left to right. */
    CHECK_STR(render("{{ value | round 2 | upper }}", 1.5), "1.50");
    CHECK_STR(render("{{ value | percent | json }}", 0.0534), "\"5.3%\"");
    CHECK_STR(render("{{ value | percent | round 1 }}", 0.0534), "5.3%");
    CHECK_STR(render("{{ value | round 2 | percent }}", 0.123), "12%");
    CHECK_STR(render("{{ host | upper | json }}", 0), "\"WEB-1\"");
    CHECK_STR(render("{{ value | duration | upper }}", 90), "1M30S");
    CHECK_STR(render("{{ value|percent|json|upper }}", 0.5), "\"50%\"");

    /* Prometheus spellings. */
    CHECK_STR(render("{{ $value }} from {{ $labels.ip }}", 11), "11 from 203.0.113.7");
    CHECK_STR(render("{{ $value | percent }}", 0.5), "50%");

    /* The same compiled template renders many times, appending. */
    struct lw_tmpl *t;
    struct lw_err err = {0};
    CHECK_EQ(lw_tmpl_compile(&t, "v={{ value }};", NULL, NULL, NULL, &err), 0);
    struct lw_buf b = {0};
    lw_tmpl_render(t, 1, lookup, NULL, &b);
    lw_tmpl_render(t, 2.5, lookup, NULL, &b);
    lw_tmpl_render(t, 3, NULL, NULL, &b);
    CHECK_STR(b.p, "v=1;v=2.5;v=3;");
    lw_buf_free(&b);
    lw_tmpl_free(t);
    lw_tmpl_free(NULL);
}

static void test_errors(void)
{
    /*              1234567890123456789 */
    CHECK_EQ(error_col("abc {{ value", "unterminated {{"), 5);
    CHECK_EQ(error_col("{{ value }} {{ ip ", "unterminated {{"), 13);
    CHECK_EQ(error_col("{{ value | pct }}", "unknown filter 'pct'"), 12);
    CHECK_EQ(error_col("x {{value|percent|upcase}}", "unknown filter 'upcase'"), 19);
    CHECK_EQ(error_col("{{ value | round }}", "round needs a number of decimals"), 12);
    CHECK_EQ(error_col("{{ value | round x }}", "round needs a number of decimals"), 18);
    CHECK_EQ(error_col("{{ value | round 10 }}", "round needs a number of decimals"), 18);
    CHECK_EQ(error_col("{{ value | round -1 }}", "round needs a number of decimals"), 18);
    CHECK_EQ(error_col("{{ value | round 1.5 }}", "round needs a number of decimals"), 18);
    CHECK_EQ(error_col("{{ value | upper 2 }}", "filter 'upper' takes no argument"), 18);
    CHECK_EQ(error_col("{{ value | }}", "expected a filter name"), 12);
    CHECK_EQ(error_col("{{ value || upper }}", "expected a filter name"), 11);
    CHECK_EQ(error_col("{{ }}", "expected a name"), 4);
    CHECK_EQ(error_col("{{ 1x }}", "expected a name"), 4);
    CHECK_EQ(error_col("{{ value value }}", "unexpected 'v'"), 10);
    CHECK_EQ(error_col("from {{ ipp }}", "unknown name 'ipp'"), 9);
    CHECK_EQ(error_col("{{ value }} {{host}} {{ hots | upper }}", "unknown name 'hots'"), 25);
    CHECK_EQ(error_col("{{ $foo }}", "unknown name '$foo'"), 4);
    CHECK_EQ(error_col("{{ $labels.nope }}", "unknown name 'nope'"), 4);

    /* `value` never reaches the callback; known names compile; NULL known accepts all. */
    struct lw_tmpl *t;
    struct lw_err err = {0};
    int col = 0, calls = 0;
    CHECK_EQ(lw_tmpl_compile(&t, "{{ value }} {{ ip }} {{ absent }}", known, &calls, &col, &err),
             0);
    CHECK_EQ(calls, 2);
    lw_tmpl_free(t);
    CHECK_EQ(lw_tmpl_compile(&t, "{{ anything.at_all }}", NULL, NULL, NULL, &err), 0);
    lw_tmpl_free(t);
    /* NULL err_col and err are tolerated. */
    CHECK_EQ(lw_tmpl_compile(&t, "{{ value | nope }}", NULL, NULL, NULL, NULL), LW_EINVAL);
}

int main(void)
{
    test_fmt_number();
    test_render();
    test_errors();
    return test_summary();
}
