/* test_base.c: unit tests for the shared base: durations, times, JSON escaping, YAML errors. */
#include "lw.h"
#include "test.h"
#include "lw_yaml.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void test_duration(void)
{
    int64_t ns;
    CHECK_EQ(lw_parse_duration("5m", 2, &ns), 0);
    CHECK_EQ(ns, 300 * LW_NS_PER_SEC);
    CHECK_EQ(lw_parse_duration("150ms", 5, &ns), 0);
    CHECK_EQ(ns, 150 * LW_NS_PER_MS);
    CHECK_EQ(lw_parse_duration("1h30m", 5, &ns), 0);
    CHECK_EQ(ns, 5400 * LW_NS_PER_SEC);
    CHECK_EQ(lw_parse_duration("1.5s", 4, &ns), 0);
    CHECK_EQ(ns, 1500 * LW_NS_PER_MS);
    CHECK_EQ(lw_parse_duration("5", 1, &ns), -1);
    CHECK_EQ(lw_parse_duration("m", 1, &ns), -1);
    CHECK_EQ(lw_parse_duration("5x", 2, &ns), -1);
    char buf[64];
    lw_fmt_duration(300 * LW_NS_PER_SEC, buf, sizeof buf);
    CHECK_STR(buf, "5m");
    lw_fmt_duration(90 * LW_NS_PER_SEC, buf, sizeof buf);
    CHECK_STR(buf, "1m30s");
    lw_fmt_duration(250 * LW_NS_PER_MS, buf, sizeof buf);
    CHECK_STR(buf, "250ms");
}

static void test_time(void)
{
    char buf[64];
    lw_fmt_rfc3339(INT64_C(1710053746) * LW_NS_PER_SEC, buf, sizeof buf);
    CHECK_STR(buf, "2024-03-10T06:55:46Z");
    lw_fmt_rfc3339(INT64_C(1710053746) * LW_NS_PER_SEC + 250 * LW_NS_PER_MS, buf, sizeof buf);
    CHECK_STR(buf, "2024-03-10T06:55:46.250Z");
    CHECK_EQ(lw_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ(lw_days_from_civil(2024, 3, 10), 19792);
    CHECK_EQ(lw_days_from_civil(2000, 2, 29), 11016);
}

static void test_numbers(void)
{
    int64_t i;
    double d;
    CHECK_EQ(lw_parse_i64("-42", 3, &i), 0);
    CHECK_EQ(i, -42);
    CHECK_EQ(lw_parse_i64("9223372036854775807", 19, &i), 0);
    CHECK_EQ(lw_parse_i64("9223372036854775808", 19, &i), -1);
    CHECK_EQ(lw_parse_i64("12a", 3, &i), -1);
    CHECK_EQ(lw_parse_f64("0.125", 5, &d), 0);
    CHECK(d == 0.125);
    CHECK_EQ(lw_parse_f64("1e3", 3, &d), 0);
    CHECK(d == 1000);
    CHECK_EQ(lw_parse_f64(".", 1, &d), -1);
}

static void test_json(void)
{
    struct lw_buf b = {0};
    lw_buf_json_str(&b, "a\"b\\c\n\x01", 7);
    CHECK_STR(b.p, "\"a\\\"b\\\\c\\n\\u0001\"");
    lw_buf_reset(&b);
    lw_buf_json_str(&b,
                    "x\xff"
                    "y\0z",
                    5);
    CHECK_STR(b.p, "\"x\xEF\xBF\xBDy\\u0000z\"");
    lw_buf_reset(&b);
    lw_buf_json_str(&b, "caf\xc3\xa9", 5);
    CHECK_STR(b.p, "\"caf\xc3\xa9\"");
    lw_buf_free(&b);
}

static void test_yaml(void)
{
    struct lw_diag d = {0};
    struct lw_yaml_doc *doc;
    const char *ok = "a: 1\nb: [x, y]\nc:\n  d: \"q\"\n";
    CHECK_EQ(lw_yaml_load_buf(&doc, "t.yaml", ok, strlen(ok), &d), 0);
    CHECK(doc && doc->root && doc->root->type == LW_YAML_MAP);
    struct lw_yaml_node *c = lw_yaml_get(doc->root, "c");
    CHECK(c && lw_yaml_get(c, "d") && lw_yaml_get(c, "d")->quoted);
    CHECK_EQ(lw_yaml_get(c, "d")->line, 4);
    CHECK_EQ(lw_yaml_get(c, "d")->col, 6);
    static const char *const keys[] = {"a", "b", "cc", NULL};
    CHECK_EQ(lw_yaml_check_keys(doc, doc->root, keys, "test", &d), 1);
    CHECK_EQ(d.n, 1);
    CHECK_STR(d.msgs[0], "t.yaml:3:1: unknown key 'c' in test (did you mean 'cc'?)");
    lw_yaml_free(doc);
    lw_diag_free(&d);

    const char *bad = "a: 1\nb: [x, y\nc: 2\n";
    CHECK(lw_yaml_load_buf(&doc, "bad.yaml", bad, strlen(bad), &d) != 0);
    CHECK_EQ(d.n, 1);
    CHECK(d.n && strncmp(d.msgs[0], "bad.yaml:", 9) == 0);
    lw_diag_free(&d);

    const char *dup = "a: 1\na: 2\n";
    CHECK(lw_yaml_load_buf(&doc, "dup.yaml", dup, strlen(dup), &d) != 0);
    CHECK(d.n && strstr(d.msgs[0], "dup.yaml:2:1: duplicate key 'a'") != NULL);
    lw_diag_free(&d);
}

static void test_env(void)
{
    char *out;
    struct lw_err err;
    setenv("LW_TEST_SECRET", "s3cr3t", 1);
    CHECK_EQ(lw_expand_env("Bearer ${LW_TEST_SECRET}!", &out, &err), 0);
    CHECK_STR(out, "Bearer s3cr3t!");
    free(out);
    CHECK(lw_expand_env("${LW_TEST_NOPE_X}", &out, &err) != 0);
    CHECK(strstr(err.msg, "LW_TEST_NOPE_X") != NULL);
}

/* Secrets registered by ${ENV} expansion or lw_secret_add never reach a message. */
static void test_redact(void)
{
    struct lw_buf b = {0};
    char small[24];
    CHECK(!lw_redact("nothing to hide", &b));
    CHECK(lw_redact("Bearer s3cr3t!", &b)); /* registered by test_env's expansion */
    CHECK_STR(b.p, "Bearer <redacted>!");
    lw_secret_add("abc"); /* too short to tell from ordinary text: ignored */
    CHECK(!lw_redact("abc abc", &b));
    lw_secret_add("tok-0123456789");
    lw_secret_add("tok-0123456789-long");
    CHECK(lw_redact("a tok-0123456789-long b tok-0123456789 c", &b));
    CHECK_STR(b.p, "a <redacted> b <redacted> c");
    CHECK(lw_redact("HTTP 404: not found: /hook/tok-01234", &b)); /* cut in the middle */
    CHECK_STR(b.p, "HTTP 404: not found: /hook/<redacted>");
    CHECK(!lw_redact("a line that ends in tok-0", &b)); /* too short a start to tell */
    CHECK(lw_redact("s3cr3ts3cr3t", &b));
    CHECK_STR(b.p, "<redacted><redacted>");
    snprintf(small, sizeof small, "%s", "0123456789 s3cr3t xyz");
    lw_redact_in(small, sizeof small);
    CHECK_STR(small, "0123456789 <redacted> x");
    lw_buf_free(&b);

    /* lw_log_write: the line on stderr carries no secret. */
    FILE *tmp = tmpfile();
    char line[256] = {0};
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(tmp), 2);
    lw_log_write(LW_ERROR, "[sink:x] HTTP 404: no route /hook/%s", "tok-0123456789");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    CHECK(fgets(line, sizeof line, tmp) != NULL);
    CHECK(strstr(line, "/hook/<redacted>") != NULL);
    CHECK(strstr(line, "0123456789") == NULL);
    fclose(tmp);
}

/* --log-format json: one JSON object per line, the [input:NAME] prefix also a field, the text
 * escaped, secrets redacted as in text; --log-level pins the level against the config's. */
static void test_log_json(void)
{
    FILE *tmp = tmpfile();
    char line[512] = {0};
    int saved = dup(2);
    enum lw_log_format f;
    int lvl = -1, saved_level = lw_log_get_level();
    CHECK_EQ(lw_log_format_parse("json", &f), 0);
    CHECK_EQ(f, LW_LOG_JSON);
    CHECK_EQ(lw_log_format_parse("xml", &f), -1);
    CHECK_EQ(lw_log_level_parse("debug", &lvl), 0);
    CHECK_EQ(lvl, LW_DEBUG);
    CHECK_EQ(lw_log_level_parse("loud", &lvl), -1);
    fflush(stderr);
    dup2(fileno(tmp), 2);
    lw_log_set_format(LW_LOG_JSON);
    lw_log_write(LW_WARN, "[input:web] a \"quoted\" line\twith tok-0123456789 and \\");
    lw_log_write(LW_INFO, "[http] refused");
    lw_log_write(LW_ERROR, "no prefix [input:x] here");
    lw_log_set_format(LW_LOG_TEXT);
    lw_log_write(LW_INFO, "[sink:ops] text again");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    CHECK(fgets(line, sizeof line, tmp) != NULL);
    CHECK_STR(line + 33, "\"level\":\"warn\",\"input\":\"web\",\"msg\":\"[input:web] a "
                         "\\\"quoted\\\" line\\twith <redacted> and \\\\\"}\n");
    CHECK(!strncmp(line, "{\"ts\":\"", 7) && line[31] == '"');
    CHECK(fgets(line, sizeof line, tmp) != NULL);
    CHECK(strstr(line, "\"level\":\"info\",\"component\":\"http\",\"msg\":\"[http] refused\"}\n"));
    CHECK(fgets(line, sizeof line, tmp) != NULL);
    CHECK(strstr(line, "\"level\":\"error\",\"msg\":\"no prefix [input:x] here\"}\n"));
    CHECK(fgets(line, sizeof line, tmp) != NULL);
    CHECK(line[0] != '{' && strstr(line, " info [sink:ops] text again\n"));
    fclose(tmp);

    /* The command line's level wins over the config's (lw_log_set_level at load, reload). */
    lw_log_pin_level(LW_ERROR);
    lw_log_set_level(LW_DEBUG);
    CHECK_EQ(lw_log_get_level(), LW_ERROR);
    atomic_store(&lw_log_level_pinned, false);
    lw_log_set_level(saved_level);
}

/* Threads that log while the level changes, as the daemon's do during a reload. */
static void *log_often(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++)
        lw_log(LW_DEBUG, "debug line %d", i);
    return NULL;
}

/* The level is rewritten by a reload while the pipeline, the sink workers and the HTTP thread
 * read it: an atomic, so that this is not a data race (a TSan build of this test reports one
 * with a plain int). Here: the level set is the level read, and lines below it are not written. */
static void test_log_level(void)
{
    int saved_level = lw_log_get_level();
    lw_log_set_level(LW_DEBUG);
    CHECK_EQ(lw_log_get_level(), LW_DEBUG);

    FILE *tmp = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(tmp), 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, log_often, NULL);
    for (int i = 0; i < 2000; i++)
        lw_log_set_level(i % 2 ? LW_DEBUG : LW_ERROR);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    lw_log_set_level(LW_WARN);
    long before = ftell(tmp);
    lw_log(LW_INFO, "not written");
    lw_log(LW_WARN, "written");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK_EQ(lw_log_get_level(), LW_WARN);
    char line[256] = {0};
    fseek(tmp, before, SEEK_SET);
    CHECK(fgets(line, sizeof line, tmp) != NULL);
    CHECK(strstr(line, "warn written") != NULL);
    CHECK(fgets(line, sizeof line, tmp) == NULL);
    fclose(tmp);
    lw_log_set_level(saved_level);
}

/* Every error code is distinct (-1, what `return -1` means, is not out of memory) and named. */
static void test_errors(void)
{
    static const int codes[] = {LW_OK,     LW_EFAIL,  LW_EINVAL, LW_EIO,
                                LW_ENOENT, LW_EAGAIN, LW_EFULL,  LW_ENOMEM};
    size_t n = sizeof codes / sizeof codes[0];
    CHECK_EQ(LW_EFAIL, -1);
    CHECK(LW_ENOMEM != -1);
    for (size_t i = 0; i < n; i++) {
        CHECK(i == 0 ? codes[i] == 0 : codes[i] < 0);
        CHECK(strcmp(lw_strerror(codes[i]), "unknown error") != 0);
        for (size_t j = i + 1; j < n; j++) {
            CHECK(codes[i] != codes[j]);
            CHECK(strcmp(lw_strerror(codes[i]), lw_strerror(codes[j])) != 0);
        }
    }
    CHECK_STR(lw_strerror(LW_ENOMEM), "out of memory");
    CHECK_STR(lw_strerror(-1000), "unknown error");
    struct lw_err err = {0};
    CHECK_EQ(lw_err_set(&err, LW_ENOMEM, "x"), LW_ENOMEM);
    CHECK_EQ(err.code, LW_ENOMEM);
}

/* lw_dl_bind returns an error for a missing library or symbol, where it used to exit(1). */
static void test_dl(void)
{
    struct lw_err err = {0};
    double (*cos_fn)(double) = NULL;
    void (*missing)(void) = NULL;
    const struct lw_dl_sym no_lib[] = {{"cos", &cos_fn}};
    CHECK_EQ(lw_dl_bind("liblw-no-such-library.so.9", "[test] a feature", no_lib, 1, &err), LW_EIO);
    CHECK_EQ(err.code, LW_EIO);
    CHECK(strstr(err.msg, "[test] a feature need liblw-no-such-library.so.9") != NULL);
    CHECK(cos_fn == NULL);

    /* A symbol missing from a library that is there: nothing stays bound. */
    memset(&err, 0, sizeof err);
    const struct lw_dl_sym no_sym[] = {{"cos", &cos_fn}, {"lw_no_such_symbol", &missing}};
    CHECK_EQ(lw_dl_bind("libm.so.6", "[test] a feature", no_sym, 2, &err), LW_EIO);
    CHECK(strstr(err.msg, "libm.so.6") != NULL);
    CHECK(strstr(err.msg, "lw_no_such_symbol") != NULL);
    CHECK(cos_fn == NULL);
    CHECK(missing == NULL);

    /* And one that binds. */
    memset(&err, 0, sizeof err);
    CHECK_EQ(lw_dl_bind("libm.so.6", "[test] a feature", no_lib, 1, &err), 0);
    CHECK(cos_fn != NULL && cos_fn(0.0) == 1.0);
}

/* Without LW_INVARIANTS (Release), LW_ALWAYS/LW_NEVER are the plain condition: a broken one
 * neither aborts nor changes what the code does (test_invariants checks the active form). */
static void test_invariant_macros(void)
{
    volatile int zero = 0;
    CHECK_EQ(!!LW_ALWAYS(zero == 0), 1);
    CHECK_EQ(!!LW_NEVER(zero == 1), 0);
#ifndef LW_INVARIANTS
    CHECK_EQ(!!LW_ALWAYS(zero == 1), 0);
    CHECK_EQ(!!LW_NEVER(zero == 0), 1);
    LW_INVARIANT(zero == 1);
#endif
}

int main(void)
{
    test_duration();
    test_time();
    test_numbers();
    test_json();
    test_yaml();
    test_env();
    test_redact();
    test_log_level();
    test_log_json();
    test_errors();
    test_dl();
    test_invariant_macros();
    return test_summary();
}
