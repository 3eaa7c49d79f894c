/* test_prefilter.c: required literals of patterns, and the property that matters: a line the
 * regex matches always passes the prefilter (checked on real logs and random mutations). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "prefilter.h"
#include "test.h"

#include <pcre2.h>
#include <stdlib.h>

static void lit(const char *pattern, const char *want)
{
    struct lw_prefilter pf;
    char got[LW_PREFILTER_MAX + 1];
    lw_prefilter_init(&pf, pattern, strlen(pattern));
    memcpy(got, pf.lit, pf.len);
    got[pf.len] = 0;
    if (strcmp(got, want))
        fprintf(stderr, "  pattern %s\n", pattern);
    CHECK_STR(got, want);
}

static void test_literals(void)
{
    lit("Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>\\S+) port \\d+",
        "Failed password for ");
    lit("^(?<ip>\\S+) \\S+ \\S+ \\[(?<ts>[^\\]]+)\\] \"", "] \"");
    lit("No space left on device", "No space left on device");
    lit("sshd\\[\\d+\\]: Invalid user", "]: Invalid user");
    lit("Out of memory: Killed process", "Out of memory: Killed process");
    lit("colou?r changed", "r changed");        /* u is optional */
    lit("error|warning", "");                   /* top-level alternation: nothing required */
    lit("(?i)timeout", "");                     /* case-insensitive: skip */
    lit("ab+c long literal", "c long literal"); /* b+ ends the run before what follows */
    lit("x{0,3}yz literal", "yz literal");
    lit("a.b", ""); /* runs shorter than 3 are not used */
    lit("segfault at [0-9a-f]+ ip", "segfault at ");
    lit("(?:foo|bar) baz qux", " baz qux");
    lit("level=\"?error\"? msg", "level=");
    lit("\\Qa.b\\E literal", ""); /* \Q..\E: not parsed, conservatively none */
    lit("duration: (?<ms>[\\d.]+) ms", "duration: ");
}

/* Mutates a line: the prefilter must never reject a line that the regex accepts. */
static int property(const char *pattern, const char *path)
{
    int errc, bad = 0;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &errc, &eo, NULL);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    struct lw_prefilter pf;
    struct lw_bigrams bg;
    char line[8192];
    unsigned seed = 7;
    lw_prefilter_init(&pf, pattern, strlen(pattern));
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        for (int m = 0; m < 3; m++) {
            if (m > 0 && n > 0) /* flip a byte somewhere */
                line[(seed = seed * 1103515245 + 12345) % n] ^= (char)(1 + m);
            bool matches = pcre2_match(re, (PCRE2_SPTR)line, n, 0, 0, md, NULL) >= 0;
            lw_prefilter_line(&bg, line, n);
            if (matches && !lw_prefilter_pass(&pf, &bg, line, n))
                bad++;
        }
    }
    fclose(f);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return bad;
}

static void test_property(void)
{
    const char *secure = "../../data/umm-secure/mylar/secure";
    const char *apache = "../../data/elastic-examples/apache_logs";
    CHECK_EQ(property("Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>\\S+) port",
                      secure),
             0);
    CHECK_EQ(property("sshd\\[\\d+\\]: Invalid user (?<user>\\S*) from", secure), 0);
    CHECK_EQ(property("pam_unix\\(sshd:auth\\): authentication failure;", secure), 0);
    CHECK_EQ(property("\" (?<status>5\\d\\d) (?<bytes>\\d+|-)", apache), 0);
    CHECK_EQ(property("\"GET (?<path>/\\S*) HTTP/1\\.[01]\" 404", apache), 0);
    CHECK_EQ(property("Mozilla/5\\.0 \\(compatible; Googlebot", apache), 0);
}

int main(void)
{
    test_literals();
    test_property();
    return test_summary();
}
