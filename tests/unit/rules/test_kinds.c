/* test_kinds.c: the loader's alert-kind table: every row complete, names unique, and every kind
 * loaded by its name, with the keys its row asks for, comes back as that kind. */
#include "kinds.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/lw_test_kinds_XXXXXX";

/* Loads one alert of kind `name` whose map is `map` over an event with an int field t. */
static struct lw_ruleset *load_kind(const char *name, const char *map, struct lw_diag *d)
{
    char path[256];
    struct lw_ruleset *rs = NULL;
    snprintf(path, sizeof path, "%s/r.yaml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "events:\n  - name: e\n    match: 't=(?<t>\\d+)'\n    fields: {t: int}\n"
            "alerts:\n  - name: A\n    event: e\n    window: 5m\n    %s: {%s}\n",
            name, map);
    fclose(f);
    const char *p = path;
    lw_ruleset_load(&rs, &p, 1, NULL, d);
    return rs;
}

static bool accepts(const struct lw_kind *kd, const char *key)
{
    for (const char *const *k = kd->keys; k && *k; k++)
        if (!strcmp(*k, key))
            return true;
    return false;
}

/* The smallest map the row says is complete: its threshold and every key it needs. */
static void minimal_map(const struct lw_kind *kd, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s%s",
             kd->threshold == LW_KT_ABOVE_BELOW ? "above: 1"
             : kd->threshold == LW_KT_FACTOR    ? "factor: 2"
                                                : "where: 't > 0'",
             kd->needs & LW_KN_FIELD ? ", field: t" : "", kd->needs & LW_KN_Q ? ", q: 0.5" : "",
             kd->needs & LW_KN_OF ? ", of: 't > 1'" : "");
}

static void test_rows(void)
{
    for (int k = 0; k < LW_K_NKINDS; k++) {
        const struct lw_kind *kd = &lw_kinds[k];
        CHECK(kd->name != NULL && *kd->name);
        CHECK(kd->keys != NULL);
        if (!kd->name || !kd->keys)
            continue;
        CHECK_EQ(lw_kind_find(kd->name), k); /* unique: the first row of that name is this one */
        CHECK(accepts(kd, "where"));         /* every kind takes a filter (docs/rules.md) */
        /* What the row needs, it accepts. */
        if (kd->threshold == LW_KT_ABOVE_BELOW)
            CHECK(accepts(kd, "above") && accepts(kd, "below"));
        if (kd->threshold == LW_KT_FACTOR)
            CHECK(accepts(kd, "factor"));
        if (kd->needs & LW_KN_FIELD)
            CHECK(accepts(kd, "field"));
        if (kd->needs & LW_KN_Q)
            CHECK(accepts(kd, "q"));
        if (kd->needs & LW_KN_OF)
            CHECK(accepts(kd, "of"));
        CHECK(!(kd->needs & LW_KN_NUMERIC) || (kd->needs & LW_KN_FIELD));
    }
    CHECK_EQ(lw_kind_find("counts"), -1);
    CHECK_EQ(lw_kind_find(""), -1);

    struct lw_buf b = {0};
    lw_kind_list(&b);
    CHECK_STR(b.p, "count, ratio, quantile, sum, avg, min, max, distinct, absent or spike");
    lw_buf_free(&b);
}

static void test_load_each(void)
{
    for (int k = 0; k < LW_K_NKINDS; k++) {
        const struct lw_kind *kd = &lw_kinds[k];
        struct lw_diag d = {0};
        char map[128], want[128];
        minimal_map(kd, map, sizeof map);
        struct lw_ruleset *rs = load_kind(kd->name, map, &d);
        CHECK(rs != NULL);
        if (!rs)
            lw_diag_print(&d, stderr);
        if (rs) {
            CHECK_EQ(rs->alerts[0].kind, k);
            CHECK_STR(lw_kinds[rs->alerts[0].kind].name, kd->name);
            CHECK_EQ(rs->alerts[0].value_field >= 0, (kd->needs & LW_KN_FIELD) != 0);
            CHECK_EQ(rs->alerts[0].of != NULL, (kd->needs & LW_KN_OF) != 0);
        }
        lw_ruleset_free(rs);
        lw_diag_free(&d);

        /* A key the row does not list is refused, under the kind's name. */
        snprintf(map + strlen(map), sizeof map - strlen(map), ", zzz: 1");
        rs = load_kind(kd->name, map, &d);
        CHECK(rs == NULL);
        snprintf(want, sizeof want, "unknown key 'zzz' in %s", kd->name);
        bool found = false;
        for (size_t i = 0; i < d.n; i++)
            found |= strstr(d.msgs[i], want) != NULL;
        CHECK(found);
        lw_ruleset_free(rs);
        lw_diag_free(&d);
    }
}

/* The row's required keys are required: each one left out is an error. */
static void test_required(void)
{
    static const struct {
        const char *kind, *map, *msg;
    } cases[] = {
        {"count", "where: 't > 0'", "count needs exactly one of 'above' or 'below'"},
        {"ratio", "above: 0.5", "ratio needs 'of': the expression counted"},
        {"quantile", "field: t, above: 1", "quantile needs q, such as 0.95"},
        {"sum", "above: 1", "sum needs a 'field'"},
        {"distinct", "below: 1", "distinct needs a 'field'"},
        {"spike", "min_count: 3", "spike needs a 'factor'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct lw_diag d = {0};
        struct lw_ruleset *rs = load_kind(cases[i].kind, cases[i].map, &d);
        CHECK(rs == NULL);
        CHECK(d.n == 1 && strstr(d.msgs[0], cases[i].msg));
        if (d.n != 1)
            lw_diag_print(&d, stderr);
        lw_ruleset_free(rs);
        lw_diag_free(&d);
    }
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_rows();
    test_load_each();
    test_required();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return test_summary();
}
