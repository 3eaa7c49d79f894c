/* test_render.c: unit tests for the renderers: each sink's payload for a fixed notification,
 * parsed back with jansson and checked field by field (names, types, severity mappings,
 * escaping, truncation to the receiver's limits, resolved forms), and render.c's helpers. */
#include "helpers.h"
#include "sink_http.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELLIPSIS "\xE2\x80\xA6"

/* A string of n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* A notification of n firing alerts, each with a long summary and many labels. */
static char *many_alerts(size_t n, size_t summary_len, size_t nlabels)
{
    json_t *arr = json_array();
    char *summary = repeat('s', summary_len);
    for (size_t i = 0; i < n; i++) {
        json_t *labels = json_pack("{s:s, s:s}", "alert", "Many", "severity", "high");
        for (size_t k = 0; k < nlabels; k++) {
            char key[32], val[32];
            snprintf(key, sizeof key, "label%02zu", k);
            snprintf(val, sizeof val, "value%zu", k);
            json_object_set_new(labels, key, json_string(val));
        }
        char fp[17];
        snprintf(fp, sizeof fp, "%016zx", i);
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:o, s:{s:s}, s:i, s:s, s:n, s:s, s:s}",
                                        "status", "firing", "alert", "Many", "fingerprint", fp,
                                        "labels", labels, "annotations", "summary", summary,
                                        "value", (int)i, "starts_at", "2024-03-10T06:55:46Z",
                                        "ends_at", "window", "5m", "generator", "logwarden"));
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    free(summary);
    return s;
}

/* ---------------------------------------------------------------- helpers of render.c */

static void test_limits(void)
{
    struct lw_buf b = {0};
    /* "é" is 2 bytes, "😀" 4 bytes and 2 UTF-16 units. */
    const char *s = "a\xC3\xA9\xF0\x9F\x98\x80z";
    CHECK_EQ(lw_utf8_count(s, strlen(s), false), 4);
    CHECK_EQ(lw_utf8_count(s, strlen(s), true), 5);
    CHECK_EQ(lw_utf8_prefix(s, strlen(s), 2, false), 3);
    CHECK_EQ(lw_utf8_prefix(s, strlen(s), 3, true), 3); /* the emoji needs 2 units: not taken */
    CHECK_EQ(lw_utf8_prefix(s, strlen(s), 4, true), 7);

    lw_buf_trunc(&b, "hello", 5);
    CHECK_STR(b.p, "hello");
    lw_buf_reset(&b);
    lw_buf_trunc(&b, "hello world", 5);
    CHECK_STR(b.p, "hell" ELLIPSIS);
    lw_buf_reset(&b);
    lw_buf_trunc(&b, s, 3);
    CHECK_STR(b.p, "a\xC3\xA9" ELLIPSIS);
    lw_buf_reset(&b);

    CHECK_EQ(lw_buf_html_trunc(&b, "a<b>&c", 100, false), 16);
    CHECK_STR(b.p, "a&lt;b&gt;&amp;c");
    lw_buf_reset(&b);
    /* Never inside an entity: "a&lt;" is 5, the "…" needs one more. */
    lw_buf_html_trunc(&b, "a<b>&c", 6, false);
    CHECK_STR(b.p, "a&lt;" ELLIPSIS);
    lw_buf_reset(&b);
    lw_buf_html_trunc(&b, "a<b>&c", 5, false);
    CHECK_STR(b.p, "a" ELLIPSIS);
    lw_buf_reset(&b);
    lw_buf_html_trunc(&b, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 3, true);
    CHECK_STR(b.p, "\xF0\x9F\x98\x80" ELLIPSIS);
    lw_buf_free(&b);
}

static void test_alert_access(void)
{
    json_t *alerts = json_loads(fixed_alerts, 0, NULL);
    json_t *a = json_array_get(alerts, 0), *r = json_array_get(alerts, 1);
    char v[64];
    struct lw_buf b = {0};
    CHECK(alerts != NULL);
    CHECK_EQ(lw_alert_sev(a), LW_SEV_CRITICAL);
    CHECK_EQ(lw_alert_sev(r), LW_SEV_MEDIUM);
    CHECK(!lw_alert_resolved(a));
    CHECK(lw_alert_resolved(r));
    CHECK_STR(lw_alert_summary(r), "HighErrorRate");
    lw_alert_value(a, v, sizeof v);
    CHECK_STR(v, "11");
    lw_alert_value(r, v, sizeof v);
    CHECK_STR(v, "0.05");
    lw_alert_title(a, &b);
    CHECK_STR(b.p, "SshBruteForce ip=203.0.113.7 team=security");
    lw_buf_free(&b);
    json_decref(alerts);

    json_t *bad;
    struct lw_err err = {0};
    CHECK_EQ(lw_sink_alerts_parse("x", "[1]", 3, &bad, &err), LW_EINVAL);
    CHECK_EQ(lw_sink_alerts_parse("x", "{}", 2, &bad, &err), LW_EINVAL);
    CHECK_EQ(lw_sink_alerts_parse("x", "nope", 4, &bad, &err), LW_EINVAL);
    CHECK(strstr(err.msg, "sink x") != NULL);
}

/* ---------------------------------------------------------------- slack */

static const char *slack_color_for(const char *status, const char *sev)
{
    static char out[16];
    struct cfg c;
    struct lw_sink_msgs m;
    char *one = one_alert(status, sev, "x");
    struct lw_sink *s = make_sink(&c, "name: ops\ntype: slack\nurl: https://hooks.example/T/B/x\n");
    out[0] = 0;
    if (s && render(s, one, &m) == 0) {
        json_t *o = body_json(&m.v[0]);
        snprintf(out, sizeof out, "%s",
                 jstr(o, "attachments.0.color") ? jstr(o, "attachments.0.color") : "");
        json_decref(o);
        lw_sink_msgs_free(&m);
    }
    lw_sink_free(s);
    cfg_free(&c);
    free(one);
    return out;
}

static void test_slack(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    setenv("LW_TEST_SLACK_URL", "https://hooks.slack.com/services/T0/B0/s3cret", 1);
    struct lw_sink *s = make_sink(&c, "name: ops\ntype: slack\nurl: ${LW_TEST_SLACK_URL}\n"
                                      "channel: '#alerts'\nusername: logwarden\n"
                                      "dashboard_url: https://dash.example/d/1\n");
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    CHECK_EQ(m.n, 1);
    CHECK_STR(m.v[0].url, "https://hooks.slack.com/services/T0/B0/s3cret");
    json_t *o = body_json(&m.v[0]);
    CHECK(json_is_string(jpath(o, "text")));
    CHECK(strstr(jstr(o, "text"), "[FIRING] SshBruteForce") != NULL);
    CHECK(strstr(jstr(o, "text"), "[RESOLVED] HighErrorRate") != NULL);
    CHECK_STR(jstr(o, "channel"), "#alerts");
    CHECK_STR(jstr(o, "username"), "logwarden");
    CHECK_EQ(json_array_size(jpath(o, "attachments")), 2);
    CHECK_STR(jstr(o, "attachments.0.color"), "#E01E5A");
    CHECK_STR(jstr(o, "attachments.1.color"), "#2EB67D");
    /* The firing alert: header, summary, fields, context, Dashboard button. */
    CHECK_STR(jstr(o, "attachments.0.blocks.0.type"), "header");
    CHECK_STR(jstr(o, "attachments.0.blocks.0.text.type"), "plain_text");
    CHECK_STR(jstr(o, "attachments.0.blocks.0.text.text"), "FIRING: SshBruteForce");
    CHECK_STR(jstr(o, "attachments.0.blocks.1.type"), "section");
    CHECK_STR(jstr(o, "attachments.0.blocks.1.text.type"), "mrkdwn");
    CHECK_STR(jstr(o, "attachments.0.blocks.1.text.text"),
              "11 failed logins from &lt;b&gt;203.0.113.7&lt;/b&gt; &amp; \"co\"");
    json_t *fields = jpath(o, "attachments.0.blocks.2.fields");
    CHECK(json_is_array(fields));
    CHECK_STR(jstr(fields, "0.type"), "mrkdwn");
    CHECK_STR(jstr(fields, "0.text"), "*Value*\n11");
    CHECK_STR(jstr(fields, "1.text"), "*ip*\n203.0.113.7");
    CHECK_STR(jstr(o, "attachments.0.blocks.3.type"), "context");
    CHECK(strstr(jstr(o, "attachments.0.blocks.3.elements.0.text"), "2024-03-10T06:55:46Z"));
    CHECK_STR(jstr(o, "attachments.0.blocks.4.type"), "actions");
    CHECK_STR(jstr(o, "attachments.0.blocks.4.elements.0.type"), "button");
    CHECK_STR(jstr(o, "attachments.0.blocks.4.elements.0.text.text"), "Dashboard");
    CHECK_STR(jstr(o, "attachments.0.blocks.4.elements.0.url"), "https://dash.example/d/1");
    /* The resolved one says so. */
    CHECK_STR(jstr(o, "attachments.1.blocks.0.text.text"), "RESOLVED: HighErrorRate");
    CHECK(strstr(jstr(o, "attachments.1.blocks.1.text.text"), "Resolved") != NULL);
    CHECK(strstr(jstr(o, "attachments.1.blocks.3.elements.0.text"), "ended 2024-03-10T06:10:00Z"));
    json_decref(o);
    lw_sink_msgs_free(&m);

    /* Limits: 30 alerts with 5000-character summaries and 15 labels. */
    char *many = many_alerts(30, 5000, 15);
    CHECK_EQ(render(s, many, &m), 0);
    o = body_json(&m.v[0]);
    size_t blocks = 0, i;
    json_t *att;
    json_array_foreach(jpath(o, "attachments"), i, att)
    {
        json_t *blk;
        size_t k;
        blocks += json_array_size(json_object_get(att, "blocks"));
        json_array_foreach(json_object_get(att, "blocks"), k, blk)
        {
            const char *t = jstr(blk, "text.text");
            if (t)
                CHECK(u8len(t) <= (strcmp(jstr(blk, "type"), "header") ? 3000 : 150));
            json_t *f = json_object_get(blk, "fields");
            if (f) {
                CHECK(json_array_size(f) <= 10);
                for (size_t x = 0; x < json_array_size(f); x++)
                    CHECK(u8len(jstr(f, "0.text")) <= 2000);
            }
        }
    }
    CHECK(blocks <= 50);
    CHECK(blocks >= 40);
    CHECK(u8len(jstr(o, "text")) <= 3000);
    const char *note =
        jstr(json_array_get(jpath(o, "attachments"), json_array_size(jpath(o, "attachments")) - 1),
             "blocks.0.elements.0.text");
    CHECK(note && strstr(note, "more alerts not shown"));
    /* The 15 labels (+ severity): 9 fields of their own, then "Other labels". */
    CHECK_EQ(json_array_size(jpath(o, "attachments.0.blocks.2.fields")), 10);
    CHECK(strncmp(jstr(o, "attachments.0.blocks.2.fields.9.text"), "*Other labels*\n", 15) == 0);
    CHECK(strstr(jstr(o, "attachments.0.blocks.1.text.text"), ELLIPSIS) != NULL);
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);

    /* A long alert name: the header stays within 150 characters. */
    lw_sink_free(s);
    cfg_free(&c);

    CHECK_STR(slack_color_for("firing", "critical"), "#E01E5A");
    CHECK_STR(slack_color_for("firing", "high"), "#E01E5A");
    CHECK_STR(slack_color_for("firing", "warning"), "#ECB22E");
    CHECK_STR(slack_color_for("firing", "medium"), "#ECB22E");
    CHECK_STR(slack_color_for("firing", "info"), "#36C5F0");
    CHECK_STR(slack_color_for("firing", "low"), "#36C5F0");
    CHECK_STR(slack_color_for("firing", NULL), "#ECB22E");
    CHECK_STR(slack_color_for("resolved", "critical"), "#2EB67D");

    CHECK(make_sink(&c, "name: ops\ntype: slack\n") == NULL);
    CHECK(diag_has(&c, "sink 'ops': 'url' is required"));
    cfg_free(&c);
    CHECK(make_sink(&c, "name: ops\ntype: slack\nurl: https://x.example/\n"
                        "dashboard_url: 'javascript:alert(1)'\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:4:16: sink 'ops': dashboard_url "));
    cfg_free(&c);
}

/* ---------------------------------------------------------------- pagerduty */

static const char *pd_severity_for(const char *sev)
{
    static char out[16];
    struct cfg c;
    struct lw_sink_msgs m;
    char *one = one_alert("firing", sev, "x");
    struct lw_sink *s = make_sink(&c, "name: pd\ntype: pagerduty\nrouting_key: k\n");
    out[0] = 0;
    if (s && render(s, one, &m) == 0) {
        json_t *o = body_json(&m.v[0]);
        snprintf(out, sizeof out, "%s",
                 jstr(o, "payload.severity") ? jstr(o, "payload.severity") : "");
        json_decref(o);
        lw_sink_msgs_free(&m);
    }
    lw_sink_free(s);
    cfg_free(&c);
    free(one);
    return out;
}

static void test_pagerduty(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    setenv("LW_TEST_PD_KEY", "R0UT1NGKEY0123456789012345678901", 1);
    struct lw_sink *s = make_sink(&c, "name: pd\ntype: pagerduty\nrouting_key: ${LW_TEST_PD_KEY}\n"
                                      "url: http://127.0.0.1:1/v2/enqueue\nsource: web-1\n"
                                      "component: sshd\ngroup: prod\nclass: security\n");
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    CHECK_EQ(m.n, 2); /* one event per alert */
    CHECK_STR(m.v[0].url, "http://127.0.0.1:1/v2/enqueue");
    json_t *o = body_json(&m.v[0]);
    CHECK_STR(jstr(o, "routing_key"), "R0UT1NGKEY0123456789012345678901");
    CHECK_STR(jstr(o, "event_action"), "trigger");
    CHECK_STR(jstr(o, "dedup_key"), "5f0c2a9e41d7b3a8");
    CHECK_STR(jstr(o, "payload.summary"),
              "SshBruteForce: 11 failed logins from <b>203.0.113.7</b> & \"co\"");
    CHECK_STR(jstr(o, "payload.source"), "web-1");
    CHECK_STR(jstr(o, "payload.severity"), "critical");
    CHECK_STR(jstr(o, "payload.timestamp"), "2024-03-10T06:55:46Z");
    CHECK_STR(jstr(o, "payload.component"), "sshd");
    CHECK_STR(jstr(o, "payload.group"), "prod");
    CHECK_STR(jstr(o, "payload.class"), "security");
    CHECK_STR(jstr(o, "payload.custom_details.ip"), "203.0.113.7");
    CHECK_STR(jstr(o, "payload.custom_details.team"), "security");
    CHECK(strstr(jstr(o, "payload.custom_details.summary"), "11 failed logins") != NULL);
    CHECK(json_is_integer(jpath(o, "payload.custom_details.value")));
    CHECK_EQ(json_integer_value(jpath(o, "payload.custom_details.value")), 11);
    json_decref(o);
    o = body_json(&m.v[1]);
    CHECK_STR(jstr(o, "event_action"), "resolve");
    CHECK_STR(jstr(o, "dedup_key"), "0000000000000001");
    CHECK_STR(jstr(o, "routing_key"), "R0UT1NGKEY0123456789012345678901");
    CHECK_EQ(json_object_size(o), 3); /* nothing else on a resolve */
    json_decref(o);
    lw_sink_msgs_free(&m);

    char *many = many_alerts(1, 3000, 0);
    CHECK_EQ(render(s, many, &m), 0);
    o = body_json(&m.v[0]);
    CHECK_EQ(u8len(jstr(o, "payload.summary")), 1024);
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);
    lw_sink_free(s);
    cfg_free(&c);

    /* Defaults: the documented endpoint, the hostname as source. */
    s = make_sink(&c, "name: pd\ntype: pagerduty\nrouting_key: k\n");
    CHECK(s != NULL);
    if (s && render(s, fixed_alerts, &m) == 0) {
        char host[256] = "";
        gethostname(host, sizeof host);
        CHECK_STR(m.v[0].url, "https://events.pagerduty.com/v2/enqueue");
        o = body_json(&m.v[0]);
        CHECK_STR(jstr(o, "payload.source"), host);
        CHECK(jpath(o, "payload.component") == NULL);
        json_decref(o);
        lw_sink_msgs_free(&m);
    }
    lw_sink_free(s);
    cfg_free(&c);

    CHECK_STR(pd_severity_for("critical"), "critical");
    CHECK_STR(pd_severity_for("high"), "error");
    CHECK_STR(pd_severity_for("error"), "error");
    CHECK_STR(pd_severity_for("medium"), "warning");
    CHECK_STR(pd_severity_for("warning"), "warning");
    CHECK_STR(pd_severity_for("low"), "info");
    CHECK_STR(pd_severity_for("info"), "info");
    CHECK_STR(pd_severity_for("CRITICAL"), "critical");
    CHECK_STR(pd_severity_for("bogus"), "warning");
    CHECK_STR(pd_severity_for(NULL), "warning");

    CHECK(make_sink(&c, "name: pd\ntype: pagerduty\n") == NULL);
    CHECK(diag_has(&c, "sink 'pd': 'routing_key' is required"));
    cfg_free(&c);
    unsetenv("LW_TEST_UNSET");
    CHECK(make_sink(&c, "name: pd\ntype: pagerduty\nrouting_key: ${LW_TEST_UNSET}\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:3:14: sink 'pd': routing_key: environment variable "
                       "LW_TEST_UNSET is not set"));
    cfg_free(&c);
}

/* ---------------------------------------------------------------- alertmanager */

static void test_alertmanager(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    struct lw_sink *s = make_sink(&c, "name: am\ntype: alertmanager\nurl: http://127.0.0.1:9093/\n"
                                      "generator_url: https://lw.example/\n");
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    CHECK_EQ(m.n, 1);
    CHECK_STR(m.v[0].url, "http://127.0.0.1:9093/api/v2/alerts");
    json_t *o = body_json(&m.v[0]);
    CHECK(json_is_array(o));
    CHECK_EQ(json_array_size(o), 2);
    CHECK_STR(jstr(o, "0.labels.alertname"), "SshBruteForce");
    CHECK_STR(jstr(o, "0.labels.ip"), "203.0.113.7");
    CHECK_STR(jstr(o, "0.labels.severity"), "critical");
    CHECK_STR(jstr(o, "0.labels.team"), "security");
    CHECK(strstr(jstr(o, "0.annotations.summary"), "11 failed logins") != NULL);
    CHECK_STR(jstr(o, "0.annotations.value"), "11");
    CHECK_STR(jstr(o, "0.startsAt"), "2024-03-10T06:55:46Z");
    CHECK(jpath(o, "0.endsAt") == NULL); /* firing */
    CHECK_STR(jstr(o, "0.generatorURL"), "https://lw.example/");
    CHECK_STR(jstr(o, "1.labels.alertname"), "HighErrorRate");
    CHECK_STR(jstr(o, "1.endsAt"), "2024-03-10T06:10:00Z");
    CHECK_STR(jstr(o, "1.annotations.value"), "0.05");
    json_t *v;
    const char *key;
    json_object_foreach(jpath(o, "0.labels"), key, v)
    {
        CHECK(json_is_string(v));
    }
    json_decref(o);
    lw_sink_msgs_free(&m);

    /* Label names Alertmanager accepts; empty values dropped. */
    const char *odd = "[{\"status\":\"firing\",\"alert\":\"X\",\"fingerprint\":\"1\","
                      "\"labels\":{\"alert\":\"X\",\"http.status\":\"500\",\"9lives\":\"y\","
                      "\"empty\":\"\"},\"annotations\":{},\"value\":null,"
                      "\"starts_at\":\"2024-03-10T06:55:46Z\",\"ends_at\":null}]";
    CHECK_EQ(render(s, odd, &m), 0);
    o = body_json(&m.v[0]);
    CHECK_STR(jstr(o, "0.labels.http_status"), "500");
    CHECK_STR(jstr(o, "0.labels._9lives"), "y");
    CHECK(jpath(o, "0.labels.empty") == NULL);
    CHECK(jpath(o, "0.annotations.value") == NULL);
    json_decref(o);
    lw_sink_msgs_free(&m);
    lw_sink_free(s);
    cfg_free(&c);

    CHECK(make_sink(&c, "name: am\ntype: alertmanager\nurl: ftp://x/\n") == NULL);
    CHECK(diag_has(&c, "url scheme must be http or https, not ftp"));
    cfg_free(&c);
}

/* ---------------------------------------------------------------- teams */

static void test_teams(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    struct lw_sink *s =
        make_sink(&c, "name: t\ntype: teams\nurl: https://x.webhook.office.com/w\n");
    CHECK(s != NULL);
    if (!s) {
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    json_t *o = body_json(&m.v[0]);
    CHECK_STR(jstr(o, "type"), "message");
    CHECK_EQ(json_array_size(jpath(o, "attachments")), 1);
    CHECK_STR(jstr(o, "attachments.0.contentType"), "application/vnd.microsoft.card.adaptive");
    CHECK(json_is_null(jpath(o, "attachments.0.contentUrl")));
    json_t *card = jpath(o, "attachments.0.content");
    CHECK_STR(jstr(card, "type"), "AdaptiveCard");
    CHECK_STR(jstr(card, "version"), "1.4");
    CHECK_STR(jstr(card, "$schema"), "http://adaptivecards.io/schemas/adaptive-card.json");
    CHECK_STR(jstr(card, "body.0.type"), "TextBlock");
    CHECK_STR(jstr(card, "body.0.text"), "FIRING: SshBruteForce");
    CHECK_STR(jstr(card, "body.0.color"), "attention");
    CHECK(json_is_true(jpath(card, "body.0.wrap")));
    CHECK_STR(jstr(card, "body.1.text"), "11 failed logins from <b>203.0.113.7</b> & \"co\"");
    CHECK_STR(jstr(card, "body.2.type"), "FactSet");
    CHECK_STR(jstr(card, "body.2.facts.0.title"), "value");
    CHECK_STR(jstr(card, "body.2.facts.0.value"), "11");
    CHECK_STR(jstr(card, "body.3.text"), "RESOLVED: HighErrorRate");
    CHECK_STR(jstr(card, "body.3.color"), "good");
    json_decref(o);
    lw_sink_msgs_free(&m);

    char *many = many_alerts(25, 5000, 30);
    CHECK_EQ(render(s, many, &m), 0);
    CHECK(m.v[0].len < 28 * 1024); /* Teams' limit for a message */
    o = body_json(&m.v[0]);
    card = jpath(o, "attachments.0.content");
    json_t *last = json_array_get(jpath(card, "body"), json_array_size(jpath(card, "body")) - 1);
    CHECK(strstr(jstr(last, "text"), "more alerts not shown") != NULL);
    CHECK(u8len(jstr(card, "body.1.text")) <= 2000);
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);
    lw_sink_free(s);
    cfg_free(&c);
}

/* ---------------------------------------------------------------- discord */

static size_t embed_chars(json_t *e)
{
    size_t n =
        u8len(jstr(e, "title")) + u8len(jstr(e, "description")) + u8len(jstr(e, "footer.text"));
    json_t *f;
    size_t i;
    json_array_foreach(json_object_get(e, "fields"), i, f)
    {
        n += u8len(jstr(f, "name")) + u8len(jstr(f, "value"));
    }
    return n;
}

static void test_discord(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    struct lw_sink *s =
        make_sink(&c, "name: d\ntype: discord\nurl: https://discord.com/api/webhooks/1/x\n");
    CHECK(s != NULL);
    if (!s) {
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    json_t *o = body_json(&m.v[0]);
    CHECK_EQ(json_array_size(jpath(o, "embeds")), 2);
    CHECK_STR(jstr(o, "embeds.0.title"), "[FIRING] SshBruteForce");
    CHECK(json_is_integer(jpath(o, "embeds.0.color")));
    CHECK_EQ(json_integer_value(jpath(o, "embeds.0.color")), 0xE01E5A);
    CHECK_EQ(json_integer_value(jpath(o, "embeds.1.color")), 0x2EB67D);
    CHECK_STR(jstr(o, "embeds.1.title"), "[RESOLVED] HighErrorRate");
    CHECK_STR(jstr(o, "embeds.0.description"), "11 failed logins from <b>203.0.113.7</b> & \"co\"");
    CHECK_STR(jstr(o, "embeds.0.timestamp"), "2024-03-10T06:55:46Z");
    CHECK_STR(jstr(o, "embeds.0.fields.0.name"), "value");
    CHECK_STR(jstr(o, "embeds.0.fields.0.value"), "11");
    CHECK(json_is_boolean(jpath(o, "embeds.0.fields.0.inline")));
    CHECK(json_is_array(jpath(o, "allowed_mentions.parse")));
    CHECK_EQ(json_array_size(jpath(o, "allowed_mentions.parse")), 0);
    CHECK(jpath(o, "content") == NULL);
    json_decref(o);
    lw_sink_msgs_free(&m);

    char *many = many_alerts(12, 5000, 30);
    CHECK_EQ(render(s, many, &m), 0);
    o = body_json(&m.v[0]);
    CHECK_EQ(json_array_size(jpath(o, "embeds")), 10);
    CHECK(strstr(jstr(o, "content"), "2 more alerts") != NULL);
    size_t total = 0, i;
    json_t *e;
    json_array_foreach(jpath(o, "embeds"), i, e)
    {
        total += embed_chars(e);
        CHECK(json_array_size(json_object_get(e, "fields")) <= 25);
        CHECK(u8len(jstr(e, "description")) <= 4096);
        CHECK(u8len(jstr(e, "title")) <= 256);
    }
    CHECK(total <= 6000);
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);

    /* One alert gets the room: a long description, capped at 4096. */
    many = many_alerts(1, 9000, 40);
    CHECK_EQ(render(s, many, &m), 0);
    o = body_json(&m.v[0]);
    e = jpath(o, "embeds.0");
    CHECK(embed_chars(e) <= 6000);
    CHECK(u8len(jstr(e, "description")) <= 4096);
    CHECK(u8len(jstr(e, "description")) > 1000);
    CHECK_EQ(json_array_size(json_object_get(e, "fields")), 25);
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);
    lw_sink_free(s);
    cfg_free(&c);
}

/* ---------------------------------------------------------------- telegram */

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void test_telegram(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    setenv("LW_TEST_TG_TOKEN", "123456:ABC-def_ghi", 1);
    struct lw_sink *s = make_sink(&c, "name: tg\ntype: telegram\nbot_token: ${LW_TEST_TG_TOKEN}\n"
                                      "chat_id: '-1001234567890'\nurl: http://127.0.0.1:1/\n");
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    CHECK_EQ(m.n, 1);
    CHECK_STR(m.v[0].url, "http://127.0.0.1:1/bot123456:ABC-def_ghi/sendMessage");
    json_t *o = body_json(&m.v[0]);
    CHECK(json_is_integer(jpath(o, "chat_id")));
    CHECK(json_integer_value(jpath(o, "chat_id")) == -1001234567890LL);
    CHECK_STR(jstr(o, "parse_mode"), "HTML");
    const char *t = jstr(o, "text");
    CHECK(t && strstr(t, "<b>FIRING: SshBruteForce</b>"));
    CHECK(t && strstr(t, "11 failed logins from &lt;b&gt;203.0.113.7&lt;/b&gt; &amp; \"co\""));
    CHECK(t && strstr(t, "<b>ip</b>: 203.0.113.7"));
    CHECK(t && strstr(t, "<b>RESOLVED: HighErrorRate</b>"));
    json_decref(o);
    lw_sink_msgs_free(&m);

    /* Over 4096: cut at a character, tags kept balanced, marked. */
    char *many = many_alerts(3, 3000, 5);
    CHECK_EQ(render(s, many, &m), 0);
    o = body_json(&m.v[0]);
    t = jstr(o, "text");
    CHECK(t != NULL);
    if (t) {
        CHECK(lw_utf8_count(t, strlen(t), true) <= 4096);
        CHECK(lw_utf8_count(t, strlen(t), true) > 3000);
        CHECK_EQ(count(t, "<b>"), count(t, "</b>"));
        CHECK_EQ(count(t, "<i>"), count(t, "</i>"));
        CHECK(strstr(t, ELLIPSIS) != NULL);
    }
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);
    lw_sink_free(s);
    cfg_free(&c);

    s = make_sink(&c, "name: tg\ntype: telegram\nbot_token: '1:x'\nchat_id: '@ops_channel'\n");
    CHECK(s != NULL);
    if (s && render(s, fixed_alerts, &m) == 0) {
        CHECK_STR(m.v[0].url, "https://api.telegram.org/bot1:x/sendMessage");
        o = body_json(&m.v[0]);
        CHECK_STR(jstr(o, "chat_id"), "@ops_channel");
        json_decref(o);
        lw_sink_msgs_free(&m);
    }
    lw_sink_free(s);
    cfg_free(&c);

    CHECK(make_sink(&c, "name: tg\ntype: telegram\n") == NULL);
    CHECK(diag_has(&c, "'bot_token' is required"));
    CHECK(diag_has(&c, "'chat_id' is required"));
    cfg_free(&c);
    setenv("LW_TEST_TG_BAD", "1:abc/../x", 1);
    CHECK(make_sink(&c, "name: tg\ntype: telegram\nbot_token: ${LW_TEST_TG_BAD}\nchat_id: 1\n") ==
          NULL);
    CHECK(diag_has(&c, "bot_token has characters"));
    CHECK(!diag_has(&c, "abc/../x"));
    cfg_free(&c);
}

/* ---------------------------------------------------------------- opsgenie */

static const char *og_priority_for(const char *sev)
{
    static char out[16];
    struct cfg c;
    struct lw_sink_msgs m;
    char *one = one_alert("firing", sev, "x");
    struct lw_sink *s = make_sink(&c, "name: og\ntype: opsgenie\napi_key: k\n");
    out[0] = 0;
    if (s && render(s, one, &m) == 0) {
        json_t *o = body_json(&m.v[0]);
        snprintf(out, sizeof out, "%s", jstr(o, "priority") ? jstr(o, "priority") : "");
        json_decref(o);
        lw_sink_msgs_free(&m);
    }
    lw_sink_free(s);
    cfg_free(&c);
    free(one);
    return out;
}

static void test_opsgenie(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    struct lw_sink *s = make_sink(&c, "name: og\ntype: opsgenie\napi_key: k\n"
                                      "url: https://api.eu.opsgenie.com/\n");
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    CHECK_EQ(m.n, 2);
    CHECK_STR(m.v[0].url, "https://api.eu.opsgenie.com/v2/alerts");
    CHECK_STR(m.v[1].url,
              "https://api.eu.opsgenie.com/v2/alerts/0000000000000001/close?identifierType=alias");
    json_t *o = body_json(&m.v[0]);
    CHECK_STR(jstr(o, "alias"), "5f0c2a9e41d7b3a8");
    CHECK_STR(jstr(o, "priority"), "P1");
    CHECK(strncmp(jstr(o, "message"), "SshBruteForce: 11 failed logins", 31) == 0);
    CHECK(u8len(jstr(o, "message")) <= 130);
    CHECK_STR(jstr(o, "source"), "logwarden");
    CHECK_STR(jstr(o, "details.ip"), "203.0.113.7");
    CHECK_STR(jstr(o, "details.value"), "11");
    json_t *v;
    const char *key;
    json_object_foreach(jpath(o, "details"), key, v)
    {
        CHECK(json_is_string(v)); /* a map of strings */
    }
    CHECK(strstr(jstr(o, "description"), "ip: 203.0.113.7") != NULL);
    json_decref(o);
    o = body_json(&m.v[1]);
    CHECK_STR(jstr(o, "source"), "logwarden");
    CHECK(strstr(jstr(o, "note"), "2024-03-10T06:10:00Z") != NULL);
    json_decref(o);
    lw_sink_msgs_free(&m);

    char *many = many_alerts(1, 500, 0);
    CHECK_EQ(render(s, many, &m), 0);
    o = body_json(&m.v[0]);
    CHECK_EQ(u8len(jstr(o, "message")), 130);
    json_decref(o);
    lw_sink_msgs_free(&m);
    free(many);
    lw_sink_free(s);
    cfg_free(&c);

    s = make_sink(&c, "name: og\ntype: opsgenie\napi_key: k\n");
    if (s && render(s, fixed_alerts, &m) == 0) {
        CHECK_STR(m.v[0].url, "https://api.opsgenie.com/v2/alerts");
        lw_sink_msgs_free(&m);
    }
    lw_sink_free(s);
    cfg_free(&c);

    CHECK_STR(og_priority_for("critical"), "P1");
    CHECK_STR(og_priority_for("high"), "P2");
    CHECK_STR(og_priority_for("error"), "P2");
    CHECK_STR(og_priority_for("medium"), "P3");
    CHECK_STR(og_priority_for("warning"), "P3");
    CHECK_STR(og_priority_for("low"), "P4");
    CHECK_STR(og_priority_for("info"), "P5");
    CHECK_STR(og_priority_for(NULL), "P3");

    CHECK(make_sink(&c, "name: og\ntype: opsgenie\n") == NULL);
    CHECK(diag_has(&c, "'api_key' is required"));
    cfg_free(&c);
}

/* ---------------------------------------------------------------- email */

static char *b64decode(const char *s, size_t n, size_t *out_len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(n + 1);
    size_t k = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = s[i] ? strchr(tab, s[i]) : NULL;
        if (!p)
            continue;
        v = (v << 6) | (unsigned)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (char)((v >> bits) & 0xFF);
        }
    }
    out[k] = 0;
    *out_len = k;
    return out;
}

/* The decoded body of the MIME part with the given Content-Type. */
static char *mime_part(const char *msg, const char *ctype)
{
    char want[128];
    snprintf(want, sizeof want, "Content-Type: %s", ctype);
    const char *p = strstr(msg, want);
    if (!p)
        return NULL;
    const char *body = strstr(p, "\r\n\r\n");
    if (!body)
        return NULL;
    body += 4;
    const char *end = strstr(body, "\r\n--");
    size_t n;
    return b64decode(body, end ? (size_t)(end - body) : strlen(body), &n);
}

static void test_email(void)
{
    struct cfg c;
    struct lw_sink_msgs m;
    struct lw_sink *s = make_sink(&c, "name: mail\ntype: email\nsmtp: smtp://127.0.0.1:2525\n"
                                      "from: 'logwarden <alerts@example.com>'\n"
                                      "to: [oncall@example.com, 'Ops <ops@example.com>']\n"
                                      "starttls: false\n");
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    char *one = one_alert("firing", "critical", "x");
    CHECK_EQ(render(s, one, &m), 0);
    CHECK(strstr(m.v[0].body, "\r\nSubject: [FIRING] A host=h1\r\n") != NULL);
    lw_sink_msgs_free(&m);
    free(one);

    CHECK_EQ(render(s, fixed_alerts, &m), 0);
    CHECK_EQ(m.n, 1);
    CHECK_STR(m.v[0].url, "smtp://127.0.0.1:2525");
    const char *msg = m.v[0].body;
    CHECK(strncmp(msg, "Date: ", 6) == 0);
    CHECK(strstr(msg, "\r\nFrom: logwarden <alerts@example.com>\r\n") != NULL);
    CHECK(strstr(msg, "\r\nTo: oncall@example.com, Ops <ops@example.com>\r\n") != NULL);
    CHECK(strstr(msg, "\r\nSubject: [FIRING:1, RESOLVED:1] SshBruteForce ip=203.0.113.7 "
                      "team=security (+1 more)\r\n") != NULL);
    CHECK(strstr(msg, "\r\nMIME-Version: 1.0\r\n") != NULL);
    CHECK(strstr(msg, "\r\nContent-Type: multipart/alternative; boundary=\"") != NULL);
    CHECK(strstr(msg, "@example.com>\r\n") != NULL); /* Message-ID's domain */
    /* CRLF only, lines within SMTP's 998. */
    size_t col = 0;
    bool bare_lf = false, long_line = false;
    for (size_t i = 0; i < m.v[0].len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            bare_lf = true;
        col = msg[i] == '\n' ? 0 : col + 1;
        if (col > 998)
            long_line = true;
    }
    CHECK(!bare_lf);
    CHECK(!long_line);
    char *text = mime_part(msg, "text/plain; charset=UTF-8");
    char *page = mime_part(msg, "text/html; charset=UTF-8");
    CHECK(text && strstr(text, "[FIRING] SshBruteForce ip=203.0.113.7 team=security"));
    CHECK(text && strstr(text, "11 failed logins from <b>203.0.113.7</b> & \"co\""));
    CHECK(text && strstr(text, "[RESOLVED] HighErrorRate service=web"));
    CHECK(page && strstr(page, "11 failed logins from &lt;b&gt;203.0.113.7&lt;/b&gt; &amp;"));
    CHECK(page && strstr(page, "<td>203.0.113.7</td>"));
    CHECK(page && strstr(page, "#E01E5A"));
    free(text);
    free(page);
    lw_sink_msgs_free(&m);

    /* Non-ASCII and line breaks in a subject: encoded words, no header injection. */
    const char *odd = "[{\"status\":\"firing\",\"alert\":\"Ünïcödé\",\"fingerprint\":\"1\","
                      "\"labels\":{\"alert\":\"Ünïcödé\",\"x\":\"a\\r\\nBcc: evil@example.com\"},"
                      "\"annotations\":{},\"value\":1,\"starts_at\":\"2024-03-10T06:55:46Z\","
                      "\"ends_at\":null}]";
    CHECK_EQ(render(s, odd, &m), 0);
    CHECK(strstr(m.v[0].body, "\r\nSubject: =?UTF-8?B?") != NULL);
    CHECK(strstr(m.v[0].body, "\r\nBcc:") == NULL);
    lw_sink_msgs_free(&m);
    lw_sink_free(s);
    cfg_free(&c);

    CHECK(make_sink(&c, "name: mail\ntype: email\n") == NULL);
    CHECK(diag_has(&c, "'smtp' is required"));
    CHECK(diag_has(&c, "'from' is required"));
    CHECK(diag_has(&c, "'to' is required"));
    cfg_free(&c);
    CHECK(make_sink(&c, "name: mail\ntype: email\nsmtp: http://x/\nfrom: nobody\nto: []\n"
                        "starttls: sometimes\n") == NULL);
    CHECK(diag_has(&c, "smtp scheme must be smtp or smtps, not http"));
    CHECK(diag_has(&c, "'nobody' is not an email address"));
    CHECK(diag_has(&c, "'to' is empty"));
    CHECK(diag_has(&c, "sinks.yaml:6:11: expected true or false"));
    cfg_free(&c);
    s = make_sink(&c, "name: mail\ntype: email\nsmtp: smtps://mail.example:465\n"
                      "from: a@example.com\nto: b@example.com\nstarttls: try\n");
    CHECK(s != NULL);
    lw_sink_free(s);
    cfg_free(&c);
}

int main(void)
{
    test_env_setup();
    test_limits();
    test_alert_access();
    test_slack();
    test_pagerduty();
    test_alertmanager();
    test_teams();
    test_discord();
    test_telegram();
    test_opsgenie();
    test_email();
    lw_sinks_global_cleanup();
    return test_summary();
}
