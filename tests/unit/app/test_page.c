/* test_page.c: the dashboard's renderer (app/page.c) on canned API answers: escaping of
 * attacker-written text, the order of alerts, the charts, and answers with fields missing. */
#include "page.h"
#include "test.h"

#include <stdlib.h>

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fprintf(stderr, "bad canned JSON: %s at %d\n", e.text, e.position);
    return j;
}

/* LW_PAGE_DUMP=DIR writes the pages rendered here to DIR, to look at them in a browser. */
static void dump(const char *name, const struct lw_buf *b)
{
    const char *dir = getenv("LW_PAGE_DUMP");
    char path[512];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(b->p, 1, b->len, f);
        fclose(f);
    }
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static const char *ALERTS =
    "[{\"alert\":\"Pend\",\"fingerprint\":\"00000000000000aa\",\"state\":\"pending\","
    "\"severity\":\"critical\",\"labels\":{\"alert\":\"Pend\"},\"value\":3,\"since\":"
    "\"2026-12-06T09:00:00Z\"},"
    "{\"alert\":\"Evil<script>alert(1)</script>\",\"fingerprint\":\"5f0c2a9e41d7b3a8\","
    "\"state\":\"firing\",\"severity\":\"warning\",\"labels\":{\"alert\":\"Evil\",\"ip\":"
    "\"\\\"><img src=x onerror=alert(2)>\",\"path\":\"~home\"},\"annotations\":{\"summary\":"
    "\"11 failed logins from <b>x</b>\"},\"group\":{\"ip\":\"x\"},\"value\":0.071,\"threshold\":"
    "0.05,\"since\":\"2026-12-06T09:55:00Z\",\"silenced_by\":[\"abc\"]},"
    "{\"alert\":\"Crit\",\"fingerprint\":\"bad/fp\",\"state\":\"firing\",\"severity\":"
    "\"critical\",\"value\":12,\"since\":\"2026-12-06T09:56:00Z\"}]";

static const char *RULES =
    "[{\"alert\":\"HighErrorRate\",\"kind\":\"ratio\",\"events\":[{\"name\":\"http\",\"count\":"
    "120345}],\"window\":\"5m\",\"threshold\":0.05,\"above\":true,\"for\":\"1m\",\"severity\":"
    "\"critical\",\"groups\":12,\"max_groups\":10000,\"pending\":0,\"firing\":1,\"series\":"
    "{\"group\":{\"host\":\"web1\"},\"points\":[[\"2026-12-06T09:55:05Z\",0.01],"
    "[\"2026-12-06T09:55:10Z\",0.02],[\"2026-12-06T09:55:15Z\",null],[\"2026-12-06T09:55:20Z\","
    "0.07],[\"2026-12-06T09:55:25Z\",0.08]]}},"
    "{\"alert\":\"Quiet\",\"kind\":\"count\",\"series\":null}]";

static const char *HEALTH =
    "{\"status\":\"degraded\",\"version\":\"0.9.0\",\"uptime_s\":3600,\"inputs\":{\"web\":"
    "{\"status\":\"healthy\",\"records\":120345,\"last_record_at\":\"2026-12-06T10:00:01Z\","
    "\"lag\":{\"bytes\":42},\"errors\":0,\"detail\":\"\"}},\"sinks\":{\"slack\":{\"status\":"
    "\"degraded\",\"queued\":3,\"oldest_queued_s\":12,\"last_error\":\"HTTP 500 <html>\","
    "\"last_success_at\":null}},\"store\":{\"status\":\"healthy\",\"last_flush_at\":"
    "\"2026-12-06T10:00:01Z\",\"last_error\":null,\"size_bytes\":1048576}}";

static const char *SILENCES =
    "[{\"id\":\"70e536de-9472-49e1-b4ba-d5c8788c3846\",\"matchers\":[{\"name\":\"ip\",\"value\":"
    "\"1.2.3.4\",\"regex\":false,\"negative\":false},{\"name\":\"job\",\"value\":\"a.*\","
    "\"regex\":true,\"negative\":true}],\"endsAt\":\"2026-12-06T12:00:00Z\",\"comment\":"
    "\"<i>maint</i>\",\"createdBy\":\"dashboard\"}]";

static void test_escape(void)
{
    struct lw_buf b = {0};
    static const char in[] = "<a href=\"x\">&'</a>\x01\xff ok \xc3\xa9";
    lw_html_escape(&b, in, sizeof in - 1);
    CHECK_STR(b.p, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;\xEF\xBF\xBD\xEF\xBF\xBD ok "
                   "\xc3\xa9");
    lw_buf_free(&b);
    /* A surrogate and an overlong form are not UTF-8. */
    lw_html_escape(&b, "\xed\xa0\x80|\xc0\xbc", 6);
    CHECK_STR(b.p, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD");
    lw_buf_free(&b);
}

static void test_index(void)
{
    json_t *alerts = load(ALERTS), *rules = load(RULES), *health = load(HEALTH);
    json_t *silences = load(SILENCES), *rates = load("{\"web\": 12.5}");
    struct lw_page p = {.alerts = alerts,
                        .rules = rules,
                        .health = health,
                        .silences = silences,
                        .rates = rates,
                        .notice = "Silence <x> created.",
                        .ask_token = true,
                        .nonce = "abc123",
                        .now_ns = 1796551200LL * LW_NS_PER_SEC};
    struct lw_buf b = {0};
    lw_page_index(&b, &p);
    const char *h = b.p;
    CHECK(h != NULL);
    if (!h)
        return;
    /* Nothing of the attacker's text is markup. */
    CHECK(!strstr(h, "<script>alert"));
    CHECK(!strstr(h, "<img"));
    CHECK(!strstr(h, "<b>x</b>"));
    CHECK(!strstr(h, "<i>maint"));
    CHECK(strstr(h, "Evil&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(h, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;") != NULL);
    CHECK(strstr(h, "&lt;i&gt;maint&lt;/i&gt;") != NULL);
    CHECK(strstr(h, "Silence &lt;x&gt; created.") != NULL);
    CHECK_EQ(count(h, "<script"), 1);
    CHECK(strstr(h, "<script nonce=\"abc123\">") != NULL);
    /* Firing before pending; among firing, critical before warning. */
    const char *crit = strstr(h, ">Crit<"), *evil = strstr(h, "Evil&lt;"),
               *pend = strstr(h, "Pend<");
    CHECK(crit && evil && pend && crit < evil && evil < pend);
    CHECK(strstr(h, "2 firing, 1 pending") != NULL);
    CHECK(strstr(h, "class=\"alert sev-crit firing\"") != NULL);
    CHECK(strstr(h, "class=\"alert sev-warn firing\"") != NULL);
    /* A fingerprint that is not hex gets no link; a good one does. */
    CHECK(strstr(h, "href=\"/alerts/5f0c2a9e41d7b3a8\"") != NULL);
    CHECK(!strstr(h, "bad/fp\""));
    /* The silence form: prefilled matchers (a value starting with ~ quoted as a regex), the
     * token field (ask_token), a duration. */
    CHECK(strstr(h, "value=\"ip=&quot;&gt;&lt;img src=x onerror=alert(2)&gt;\"") != NULL);
    CHECK(strstr(h, "value=\"path=~\\Q~home\\E\"") != NULL);
    CHECK_EQ(count(h, "name=\"token\""), 4); /* three alerts, one silence */
    CHECK(strstr(h, "name=\"duration\" value=\"1h\"") != NULL);
    CHECK(strstr(h, "silenced by <code>abc</code>") != NULL);
    /* Rules: a sparkline with two runs around the null, and its threshold line. */
    CHECK(strstr(h, "<svg class=\"spark\"") != NULL);
    CHECK_EQ(count(h, "<polyline class=\"line\""), 2);
    CHECK_EQ(count(h, "<line class=\"thr\""), 1);
    CHECK(strstr(h, "no group") != NULL); /* Quiet's series is null */
    CHECK(strstr(h, "&gt; 0.05 for 1m") != NULL);
    CHECK(strstr(h, "<span class=\"muted grp\">host=web1</span>") != NULL);
    CHECK(strstr(h, "http <span class=\"muted\">(120345)</span>") != NULL);
    /* Inputs, sinks, the state file, silences. */
    CHECK(strstr(h, "12.5") != NULL);
    CHECK(strstr(h, "42 bytes") != NULL);
    CHECK(strstr(h, "HTTP 500 &lt;html&gt;") != NULL);
    CHECK(strstr(h, "1.0 MiB") != NULL);
    CHECK(strstr(h, "<code>job!~&quot;a.*&quot;</code>") != NULL);
    CHECK(strstr(h, "action=\"/silences/70e536de-9472-49e1-b4ba-d5c8788c3846/expire\"") != NULL);
    CHECK(strstr(h, "up 1h") != NULL);
    dump("index.html", &b);
    lw_buf_free(&b);
    json_decref(alerts);
    json_decref(rules);
    json_decref(health);
    json_decref(silences);
    json_decref(rates);
}

/* The API not there yet, or failing: every section says so, the page is still whole. */
static void test_missing(void)
{
    json_t *err = load("{\"error\":\"not <yet>\"}"), *old = load("{\"status\":\"healthy\","
                                                                 "\"detail\":\"ok\"}");
    json_t *empty = json_array(), *odd = load("[{\"state\":7,\"value\":\"x\",\"labels\":5},{}]");
    struct lw_page p = {.alerts = odd, .rules = err, .health = old, .silences = NULL};
    struct lw_buf b = {0};
    lw_page_index(&b, &p);
    CHECK(strstr(b.p, "the rules could not be read: not &lt;yet&gt;") != NULL);
    CHECK(strstr(b.p, "the silences could not be read: no answer") != NULL);
    CHECK(strstr(b.p, "(unnamed)") != NULL);
    CHECK(strstr(b.p, "</html>") != NULL);
    CHECK(!strstr(b.p, "name=\"token\""));
    lw_buf_reset(&b);
    p = (struct lw_page){.alerts = empty, .rules = empty, .health = err, .silences = empty};
    lw_page_index(&b, &p);
    CHECK(strstr(b.p, "No alert is firing or pending.") != NULL);
    CHECK(strstr(b.p, "No alert rule is loaded.") != NULL);
    CHECK(strstr(b.p, "the health could not be read") != NULL);
    lw_buf_free(&b);
    json_decref(err);
    json_decref(old);
    json_decref(empty);
    json_decref(odd);
}

static void test_alert_page(void)
{
    json_t *x = load(
        "{\"alert\":\"SshBruteForce\",\"fingerprint\":\"5f0c2a9e41d7b3a8\",\"state\":\"firing\","
        "\"severity\":\"critical\",\"labels\":{\"alert\":\"SshBruteForce\",\"ip\":\"1.2.3.4\"},"
        "\"annotations\":{\"summary\":\"11 failed\"},\"value\":11,\"threshold\":10,\"above\":"
        "true,\"window\":\"5m\",\"resolution\":\"1s\",\"for\":\"0s\",\"since\":"
        "\"2026-12-06T09:55:00Z\",\"series\":[[\"2026-12-06T09:55:05Z\",1],[\"2026-12-06T09:55:"
        "06Z\",11]],\"history\":[{\"state\":\"firing\",\"at\":\"2026-12-06T09:55:06Z\",\"value\":"
        "11}],\"notifications\":[{\"sink\":\"slack\",\"status\":\"firing\",\"outcome\":\"sent\","
        "\"created_at\":\"2026-12-06T09:55:06Z\",\"sent_at\":\"2026-12-06T09:55:07Z\","
        "\"attempts\":1,\"error\":null}],\"samples\":[{\"at\":\"2026-12-06T09:54:58Z\",\"input\":"
        "\"auth\",\"line\":\"Failed password for <script>alert(3)</script> from 1.2.3.4\"}],"
        "\"source\":\"live\"}");
    struct lw_page p = {.nonce = "n0", .now_ns = 1796551200LL * LW_NS_PER_SEC};
    struct lw_buf b = {0};
    lw_page_alert(&b, x, &p);
    const char *h = b.p;
    CHECK(strstr(h, "<svg class=\"chart\"") != NULL);
    CHECK(strstr(h, ">time (UTC)</text>") != NULL);
    CHECK(strstr(h, ">value</text>") != NULL);
    CHECK(strstr(h, "threshold 10</text>") != NULL);
    CHECK(strstr(h, ">09:55:05</text>") != NULL);
    CHECK(strstr(h, "Failed password for &lt;script&gt;alert(3)&lt;/script&gt; from 1.2.3.4") !=
          NULL);
    CHECK_EQ(count(h, "<script"), 1);
    CHECK(strstr(h, "<td>slack</td><td>firing</td><td>sent</td>") != NULL);
    CHECK(strstr(h, "The lines that fed it <small>1, oldest first") != NULL);
    CHECK(strstr(h, "<dt>condition</dt><dd>above 10</dd>") != NULL);
    CHECK(strstr(h, "<code>5f0c2a9e41d7b3a8</code>") != NULL);
    CHECK(strstr(h, "name=\"back\" value=\"/alerts/5f0c2a9e41d7b3a8\"") != NULL);
    dump("alert.html", &b);
    lw_buf_free(&b);
    /* An empty explanation: every section says it has nothing. */
    json_t *e = json_object();
    lw_page_alert(&b, e, &p);
    CHECK(strstr(b.p, "No transition in the last 24 h.") != NULL);
    CHECK(strstr(b.p, "No sample line is kept") != NULL);
    CHECK(strstr(b.p, ">no data</text>") != NULL);
    lw_buf_free(&b);
    json_decref(e);
    json_decref(x);
}

static void test_chart(void)
{
    struct lw_buf b = {0};
    /* A lone value between nulls is a dot; a flat series and non-numbers do not divide by 0. */
    json_t *pts = load("[[\"t\",null],[\"t\",5],[\"t\",null],[\"t\",\"x\"]]"), *thr = json_real(5);
    lw_page_chart(&b, pts, thr, false);
    CHECK_EQ(count(b.p, "<circle"), 2); /* the lone value, and the latest value's mark */
    CHECK_EQ(count(b.p, "<polyline"), 0);
    CHECK(!strstr(b.p, "nan") && !strstr(b.p, "inf"));
    lw_buf_free(&b);
    json_decref(pts);
    json_decref(thr);
    lw_page_chart(&b, NULL, NULL, true);
    CHECK(strstr(b.p, "no data") != NULL);
    CHECK(!strstr(b.p, "nan") && !strstr(b.p, "inf"));
    lw_buf_free(&b);
}

int main(void)
{
    test_escape();
    test_index();
    test_missing();
    test_alert_page();
    test_chart();
    return test_summary();
}
