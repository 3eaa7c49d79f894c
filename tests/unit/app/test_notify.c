/* test_notify.c: the notifier on an injected clock: inhibition is decided when a notification
 * is sent, so a target whose source resolves a moment before it is never announced, and one
 * that still fires a group_wait after its source resolved is. */
#include "notify.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(x) ((int64_t)(x)*LW_NS_PER_SEC)
#define MS(x) ((int64_t)(x)*LW_NS_PER_MS)

static char dir[] = "/tmp/lw_test_notify_XXXXXX";

static struct lw_config *load_config(void)
{
    char path[256];
    struct lw_diag d = {0};
    struct lw_config *c = NULL;
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("state: s.db\n"
          "inputs:\n"
          "  - {name: app, type: stdin}\n"
          "sinks:\n"
          "  - {name: out, type: stdout}\n"
          "inhibit:\n"
          "  - source: {severity: critical}\n"
          "    target: {severity: warning}\n"
          "    equal: [service]\n"
          "notify: {group_wait: 3s, repeat_interval: 1h}\n",
          f);
    fclose(f);
    if (lw_config_load(&c, path, &d) < 0)
        lw_diag_print(&d, stderr);
    lw_diag_free(&d);
    return c;
}

/* An alert object as the engine renders it (only what the notifier reads). */
static void transition(struct lw_notifier *n, const char *name, const char *severity, bool firing,
                       int64_t now)
{
    char json[512];
    int len = snprintf(json, sizeof json,
                       "{\"status\":\"%s\",\"alert\":\"%s\",\"fingerprint\":\"00000000000000%.2s\","
                       "\"labels\":{\"alert\":\"%s\",\"service\":\"api\",\"severity\":\"%s\"}}",
                       firing ? "firing" : "resolved", name, name, name, severity);
    lw_notifier_transition(n, json, (size_t)len, firing, now);
}

/* Collects at now, as a committed flush would; the notification sent (JSON array) or "". */
static void collect(struct lw_notifier *n, int64_t now, char *out, size_t size)
{
    struct lw_flush f = {0};
    lw_notifier_collect(n, now, &f);
    snprintf(out, size, "%s", f.noutbox ? f.outbox[0].payload : "");
    lw_notifier_collect_done(n);
}

static int count(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        k++;
    return k;
}

#define TGT_FIRING "\"status\":\"firing\",\"alert\":\"Tgt\""
#define TGT_ANY "\"alert\":\"Tgt\""

/* The source resolves at 10 s, the target at 11 s (group_wait 3 s), flushes every second. */
static void test_target_resolves_after_its_source(void)
{
    struct lw_config *c = load_config();
    CHECK(c != NULL);
    if (!c)
        return;
    struct lw_notifier *n = lw_notifier_new(c);
    char sent[4096], all[16384] = "";
    transition(n, "Src", "critical", true, 0);
    transition(n, "Tgt", "warning", true, S(1));
    for (int64_t t = MS(500); t <= S(20); t += S(1)) {
        if (t == MS(10500))
            transition(n, "Src", "critical", false, S(10));
        if (t == MS(11500))
            transition(n, "Tgt", "warning", false, S(11));
        collect(n, t, sent, sizeof sent);
        strncat(all, sent, sizeof all - strlen(all) - 1);
    }
    CHECK_EQ(count(all, "\"status\":\"firing\",\"alert\":\"Src\""), 1);
    CHECK_EQ(count(all, "\"status\":\"resolved\",\"alert\":\"Src\""), 1);
    /* Inhibited while the source fired; resolved within group_wait of its release. */
    CHECK_EQ(count(all, TGT_ANY), 0);
    struct lw_notifier_stats st;
    lw_notifier_stats(n, &st);
    CHECK(st.suppressed >= 1);
    lw_notifier_free(n);
    lw_config_free(c);
}

/* The target still fires after its source resolved: sent once, not before group_wait. */
static void test_target_still_firing(void)
{
    struct lw_config *c = load_config();
    CHECK(c != NULL);
    if (!c)
        return;
    struct lw_notifier *n = lw_notifier_new(c);
    char sent[4096];
    int64_t first = -1, times = 0;
    transition(n, "Src", "critical", true, 0);
    transition(n, "Tgt", "warning", true, S(1));
    for (int64_t t = MS(500); t <= S(30); t += S(1)) {
        if (t == MS(10500))
            transition(n, "Src", "critical", false, S(10));
        collect(n, t, sent, sizeof sent);
        if (strstr(sent, TGT_FIRING)) {
            times++;
            if (first < 0)
                first = t;
        }
    }
    CHECK_EQ(times, 1);
    CHECK(first >= S(13)); /* a group_wait after the release was seen, not at once */
    lw_notifier_free(n);
    lw_config_free(c);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_target_resolves_after_its_source();
    test_target_still_firing();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
