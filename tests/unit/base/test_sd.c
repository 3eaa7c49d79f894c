/* test_sd.c: unit tests for base/lw_sd.c: RFC 5424 STRUCTURED-DATA lookup by "ID.PARAM" (RFC
 * and logger samples, dotted names, repeats, escapes) and malformed text that must find nothing
 * without reading past the end. */
#include "lw_sd.h"
#include "test.h"

#include <stdlib.h>

static char got[256];

/* The unescaped value of name in sd (copied to exactly its length, so ASan sees overreads), or
 * NULL when absent. */
static const char *get(const char *sd, const char *name)
{
    size_t n = strlen(sd);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, sd, n);
    struct lw_str raw;
    bool esc = false;
    const char *r = NULL;
    if (lw_sd_find((struct lw_str){copy, n}, name, strlen(name), &raw, &esc)) {
        size_t k = lw_sd_unescape(raw, got);
        got[k] = 0;
        CHECK_EQ(esc, memchr(raw.p, '\\', raw.n) != NULL);
        r = got;
    }
    free(copy);
    return r;
}

static void test_rfc_samples(void)
{
    /* RFC 5424 section 6.5, examples 3 and 4. */
    const char *ex3 = "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]";
    CHECK_STR(get(ex3, "exampleSDID@32473.iut"), "3");
    CHECK_STR(get(ex3, "exampleSDID@32473.eventSource"), "Application");
    CHECK_STR(get(ex3, "exampleSDID@32473.eventID"), "1011");
    CHECK(get(ex3, "exampleSDID@32473.missing") == NULL);
    CHECK(get(ex3, "other.iut") == NULL);
    const char *ex4 = "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
                      "[examplePriority@32473 class=\"high\"]";
    CHECK_STR(get(ex4, "examplePriority@32473.class"), "high");
    CHECK_STR(get(ex4, "exampleSDID@32473.eventID"), "1011");
    /* What util-linux logger --rfc5424 sends by default, and with --sd-id origin. */
    const char *lg = "[timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"1234\"]"
                     "[origin@32473 zone=\"eu-1\" ip=\"192.0.2.1\"][meta sequenceId=\"7\"]";
    CHECK_STR(get(lg, "timeQuality.tzKnown"), "1");
    CHECK_STR(get(lg, "timeQuality.syncAccuracy"), "1234");
    CHECK_STR(get(lg, "origin@32473.zone"), "eu-1");
    CHECK_STR(get(lg, "origin@32473.ip"), "192.0.2.1");
    CHECK_STR(get(lg, "meta.sequenceId"), "7");
    CHECK(get(lg, "origin@32473") == NULL);  /* an ID alone is no parameter */
    CHECK(get(lg, "origin@32473.") == NULL); /* nor an empty PARAM */
    CHECK(get(lg, "") == NULL);
    CHECK(get("", "meta.x") == NULL);
    CHECK(get("-", "meta.x") == NULL);
}

static void test_dots_repeats_escapes(void)
{
    /* An SD-ID with dots (enterprise numbers with sub-ids) and a PARAM with dots. */
    const char *d = "[x@32473.1.2 k=\"a\" k.l=\"b\"]";
    CHECK_STR(get(d, "x@32473.1.2.k"), "a");
    CHECK_STR(get(d, "x@32473.1.2.k.l"), "b");
    /* Repeats: the first occurrence wins; a parameter the first element lacks is looked for in
     * the next one of the same ID. */
    const char *r = "[a p=\"1\" p=\"2\"][a p=\"3\" q=\"4\"]";
    CHECK_STR(get(r, "a.p"), "1");
    CHECK_STR(get(r, "a.q"), "4");
    /* \" \\ \] are unescaped; a backslash before anything else stays. */
    const char *e = "[e v=\"say \\\"hi\\\" \\\\ [x\\] \\n\" w=\"\"]";
    CHECK_STR(get(e, "e.v"), "say \"hi\" \\ [x] \\n");
    CHECK_STR(get(e, "e.w"), "");
    /* A ']' inside a quoted value does not end the element. */
    CHECK_STR(get("[f a=\"]\" b=\"2\"]", "f.b"), "2");
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "[",        "[a",         "[a ",     "[a p",         "[a p=",      "[a p=\"",
        "[a p=\"v", "[a p=\"v\\", "[a p=v]", "x[a p=\"v\"]", "[ p=\"v\"]", "[a =\"v\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(get(bad[i], "a.p") == NULL);
    /* What precedes the damage is still found (the syslog decoder hands on only well-formed
     * STRUCTURED-DATA; this is the lookup's own bound). */
    CHECK_STR(get("[a p=\"v\"][b q=", "a.p"), "v");
    CHECK_STR(get("[a p=\"v\"", "a.p"), "v");
    CHECK(get("[a p=\"v\"x q=\"w\"]", "a.q") == NULL);
}

int main(void)
{
    test_rfc_samples();
    test_dots_repeats_escapes();
    test_malformed();
    return test_summary();
}
