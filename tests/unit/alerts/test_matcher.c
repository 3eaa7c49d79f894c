/* test_matcher.c: the one label matcher of routes, silences and inhibition: the four operators,
 * Alertmanager's anchoring and its rule for a missing label, parsing and the stored JSON form. */
#include "matcher.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* Packed labels as the notifier keeps them (the literal ends in the closing "\0\0"). */
static const char labels[] = "alert\0SshBruteForce\0severity\0critical\0empty\0\0";

/* Whether the matcher text s matches labels. -1 when it does not parse. */
static int matches(const char *s)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    if (lw_matcher_parse(&m, s, &err) < 0)
        return -1;
    int ok = lw_matchers_match(&m, 1, labels);
    lw_matcher_fini(&m);
    return ok;
}

static void test_operators(void)
{
    CHECK_EQ(matches("severity=critical"), 1);
    CHECK_EQ(matches("severity=warning"), 0);
    CHECK_EQ(matches("severity!=warning"), 1);
    CHECK_EQ(matches("severity!=critical"), 0);
    CHECK_EQ(matches("alert=~Ssh.*"), 1);
    CHECK_EQ(matches("alert!~Ssh.*"), 0);
    CHECK_EQ(matches("alert!~Http.*"), 1);
    /* The value after the first operator is the value, '=' and all. */
    CHECK_EQ(matches("severity==critical"), 0);
}

/* Anchored at both ends, as Alertmanager compiles ^(?:re)$. */
static void test_anchored(void)
{
    CHECK_EQ(matches("alert=~Ssh"), 0);
    CHECK_EQ(matches("alert=~Brute"), 0);
    CHECK_EQ(matches("alert=~.*Brute.*"), 1);
    CHECK_EQ(matches("alert=~Ssh|Http"), 0); /* the group spans the alternation */
    CHECK_EQ(matches("alert=~SshBruteForce|Http"), 1);
}

/* A missing label matches as the empty string. */
static void test_missing_label(void)
{
    CHECK_EQ(matches("team="), 1);
    CHECK_EQ(matches("team!~.+"), 1);
    CHECK_EQ(matches("team=~.*"), 1);
    CHECK_EQ(matches("team=x"), 0);
    CHECK_EQ(matches("team!=x"), 1);
    CHECK_EQ(matches("team=~.+"), 0);
    CHECK_EQ(matches("team!="), 0);
    /* A label that is there but empty is the same as a missing one. */
    CHECK_EQ(matches("empty="), 1);
    CHECK_EQ(matches("empty!~.+"), 1);
    struct lw_matcher m;
    struct lw_err err = {0};
    CHECK_EQ(lw_matcher_parse(&m, "team=", &err), 0);
    CHECK(lw_matcher_matches(&m, NULL));
    CHECK(!lw_matcher_matches(&m, "x"));
    lw_matcher_fini(&m);
}

static void test_parse_errors(void)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    CHECK_EQ(lw_matcher_parse(&m, "severity", &err), LW_EINVAL);
    CHECK(strstr(err.msg, "bad matcher 'severity'") != NULL);
    CHECK_EQ(lw_matcher_parse(&m, "=critical", &err), LW_EINVAL);
    CHECK_EQ(lw_matcher_parse(&m, "a!b", &err), LW_EINVAL);
    CHECK_EQ(lw_matcher_parse(&m, "alert=~(", &err), LW_EINVAL);
    CHECK(strstr(err.msg, "bad regex in matcher 'alert=~('") != NULL);
    lw_matcher_fini(&m); /* safe after a failure */
    CHECK_EQ(lw_matcher_init(&m, "a", 1, LW_MATCH_NRE, "[", &err), LW_EINVAL);
    CHECK(err.msg[0] != 0); /* PCRE2's own message */
    lw_matcher_fini(&m);
}

static void test_all_must_hold(void)
{
    struct lw_matcher m[2];
    struct lw_err err = {0};
    CHECK_EQ(lw_matcher_parse(&m[0], "severity=critical", &err), 0);
    CHECK_EQ(lw_matcher_parse(&m[1], "alert=~Http.*", &err), 0);
    CHECK(lw_matchers_match(m, 1, labels));
    CHECK(!lw_matchers_match(m, 2, labels));
    CHECK(lw_matchers_match(m, 0, labels)); /* no matchers: everything */
    lw_matcher_fini(&m[0]);
    lw_matcher_fini(&m[1]);
    CHECK_STR(lw_labels_get(labels, "severity"), "critical");
    CHECK_STR(lw_labels_get(labels, "empty"), "");
    CHECK(lw_labels_get(labels, "team") == NULL);
    CHECK(lw_labels_get("", "team") == NULL);
}

/* The form silences are kept in, and back. */
static void test_json(void)
{
    static const char *const texts[] = {"a=1", "b!=2", "c=~3.*", "d!~4"};
    struct lw_matcher m[4], *back = NULL;
    struct lw_err err = {0};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ(lw_matcher_parse(&m[i], texts[i], &err), 0);
    char *js = lw_matchers_to_json(m, 4);
    CHECK_STR(js, "[{\"name\":\"a\",\"value\":\"1\",\"regex\":false,\"negative\":false},"
                  "{\"name\":\"b\",\"value\":\"2\",\"regex\":false,\"negative\":true},"
                  "{\"name\":\"c\",\"value\":\"3.*\",\"regex\":true,\"negative\":false},"
                  "{\"name\":\"d\",\"value\":\"4\",\"regex\":true,\"negative\":true}]");
    CHECK_EQ(lw_matchers_from_json(js, &back, &n, &err), 0);
    CHECK_EQ(n, 4);
    for (size_t i = 0; i < n && i < 4; i++) {
        CHECK_STR(back[i].name, m[i].name);
        CHECK_STR(back[i].value, m[i].value);
        CHECK_EQ(back[i].op, m[i].op);
        CHECK_EQ(back[i].re != NULL, m[i].re != NULL);
    }
    lw_matchers_free(back, n);
    for (size_t i = 0; i < 4; i++)
        lw_matcher_fini(&m[i]);
    free(js);
    CHECK_EQ(lw_matchers_from_json("{}", &back, &n, &err), LW_EINVAL);
    CHECK_EQ(lw_matchers_from_json("[{\"name\":\"a\"}]", &back, &n, &err), LW_EINVAL);
    CHECK_EQ(
        lw_matchers_from_json("[{\"name\":\"a\",\"value\":\"(\",\"regex\":true}]", &back, &n, &err),
        LW_EINVAL);
    CHECK(back == NULL && n == 0);
}

/* The API's filters (Alertmanager v2): quoted values with escapes, the same four operators,
 * anchored regexes, and clear errors. */
static int filter(const char *s)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    if (lw_matcher_parse_filter(&m, s, &err) < 0) {
        CHECK(strstr(err.msg, "filter") != NULL);
        return -1;
    }
    int ok = lw_matchers_match(&m, 1, labels);
    lw_matcher_fini(&m);
    return ok;
}

static void test_filters(void)
{
    CHECK_EQ(filter("severity=\"critical\""), 1);
    CHECK_EQ(filter(" severity = \"critical\" "), 1);
    CHECK_EQ(filter("severity=critical"), 1); /* bare, as Alertmanager's parser takes it */
    CHECK_EQ(filter("severity!=\"critical\""), 0);
    CHECK_EQ(filter("alert=~\"Ssh.*\""), 1);
    CHECK_EQ(filter("alert=~\"Ssh\""), 0); /* anchored */
    CHECK_EQ(filter("alert!~\"Http.*\""), 1);
    CHECK_EQ(filter("empty=\"\""), 1);
    CHECK_EQ(filter("missing=\"\""), 1);
    CHECK_EQ(filter("alert=~\"Ssh\\\\w+\""), 1); /* \\ is a backslash: the regex Ssh\w+ */
    CHECK_EQ(filter("alert=\"Ssh\\\"x\""), 0);   /* \" a quote */
    CHECK_EQ(filter("severity"), -1);
    CHECK_EQ(filter("=\"x\""), -1);
    CHECK_EQ(filter("severity=\"critical"), -1);
    CHECK_EQ(filter("severity=\"a\" b"), -1);
    CHECK_EQ(filter("alert=~\"(\""), -1);
}

int main(void)
{
    test_filters();
    test_operators();
    test_anchored();
    test_missing_label();
    test_parse_errors();
    test_all_must_hold();
    test_json();
    return test_summary();
}
