/* test_http.c: unit tests for the shared HTTP delivery (http.c) as each sink uses it, against a
 * scripted loopback server: requests (method, path, headers, body), the reading of statuses per
 * sink, Retry-After in headers and in Telegram's body, resuming a half-sent notification, timeouts,
 * refused connections, and SMTP failures of the email sink. */
#include "helpers.h"
#include "sink_http.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Builds a sink of yaml_fmt (with %d for the server's port), delivers fixed_alerts once against
 * the scripted answers; returns deliver's code. The server is left for the caller to inspect. */
static int deliver_with(struct srv *sv, const struct srv_resp *resp, size_t nresp,
                        const char *yaml_fmt, int64_t *ra, struct lw_err *err)
{
    struct cfg c;
    char yaml[1024];
    int rc = 999;
    srv_start(sv, resp, nresp);
    snprintf(yaml, sizeof yaml, yaml_fmt, sv->port);
    struct lw_sink *s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (!s)
        lw_diag_print(&c.diag, stderr);
    *ra = -1;
    memset(err, 0, sizeof *err);
    if (s)
        rc = s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), ra, err);
    lw_sink_free(s);
    cfg_free(&c);
    srv_stop(sv);
    return rc;
}

static const char slack_yaml[] =
    "name: ops\ntype: slack\nurl: http://127.0.0.1:%d/services/T/B/x\n";
static const char pd_yaml[] = "name: pd\ntype: pagerduty\nrouting_key: rk\n"
                              "url: http://127.0.0.1:%d/v2/enqueue\n";
static const char am_yaml[] = "name: am\ntype: alertmanager\nurl: http://127.0.0.1:%d\n";
static const char tg_yaml[] = "name: tg\ntype: telegram\nbot_token: '1:tok'\nchat_id: 42\n"
                              "url: http://127.0.0.1:%d\n";
static const char og_yaml[] = "name: og\ntype: opsgenie\napi_key: ${LW_TEST_OG_KEY}\n"
                              "url: http://127.0.0.1:%d\n";
static const char teams_yaml[] = "name: t\ntype: teams\nurl: http://127.0.0.1:%d/workflows/x\n";
static const char discord_yaml[] =
    "name: d\ntype: discord\nurl: http://127.0.0.1:%d/api/webhooks/1/x\n";

static void test_requests(void)
{
    struct srv sv;
    struct lw_err err;
    int64_t ra;
    char h[256];
    const struct srv_resp ok200 = {200, NULL, "ok"};
    const struct srv_resp ok202[2] = {{202, NULL, "{\"status\":\"success\"}"},
                                      {202, NULL, "{\"status\":\"success\"}"}};

    CHECK_EQ(deliver_with(&sv, &ok200, 1, slack_yaml, &ra, &err), LW_OK);
    CHECK_EQ(sv.nreq, 1);
    CHECK(strncmp(sv.req[0].raw, "POST /services/T/B/x HTTP/1.1\r\n", 31) == 0);
    CHECK_STR(srv_header(&sv, 0, "Content-Type", h, sizeof h), "application/json");
    CHECK_STR(srv_header(&sv, 0, "User-Agent", h, sizeof h), "logwarden/" LW_VERSION);
    json_t *o = srv_json(&sv, 0);
    CHECK(json_is_array(jpath(o, "attachments")));
    json_decref(o);
    free(sv.req);

    CHECK_EQ(deliver_with(&sv, ok202, 2, pd_yaml, &ra, &err), LW_OK);
    CHECK_EQ(sv.nreq, 2);
    CHECK_STR(srv_target(&sv, 0, h, sizeof h), "/v2/enqueue");
    o = srv_json(&sv, 0);
    CHECK_STR(jstr(o, "event_action"), "trigger");
    json_decref(o);
    o = srv_json(&sv, 1);
    CHECK_STR(jstr(o, "event_action"), "resolve");
    json_decref(o);
    free(sv.req);

    CHECK_EQ(deliver_with(&sv, &ok200, 1, am_yaml, &ra, &err), LW_OK);
    CHECK_STR(srv_target(&sv, 0, h, sizeof h), "/api/v2/alerts");
    free(sv.req);

    const struct srv_resp tg_ok = {200, NULL, "{\"ok\":true,\"result\":{}}"};
    CHECK_EQ(deliver_with(&sv, &tg_ok, 1, tg_yaml, &ra, &err), LW_OK);
    CHECK_STR(srv_target(&sv, 0, h, sizeof h), "/bot1:tok/sendMessage");
    free(sv.req);

    setenv("LW_TEST_OG_KEY", "eb243592-faa2-4ba2-a551q-1afdf565c889", 1);
    CHECK_EQ(deliver_with(&sv, ok202, 2, og_yaml, &ra, &err), LW_OK);
    CHECK_EQ(sv.nreq, 2);
    CHECK_STR(srv_target(&sv, 0, h, sizeof h), "/v2/alerts");
    CHECK_STR(srv_target(&sv, 1, h, sizeof h),
              "/v2/alerts/0000000000000001/close?identifierType=alias");
    CHECK_STR(srv_header(&sv, 0, "Authorization", h, sizeof h),
              "GenieKey eb243592-faa2-4ba2-a551q-1afdf565c889");
    CHECK_STR(srv_header(&sv, 1, "Authorization", h, sizeof h),
              "GenieKey eb243592-faa2-4ba2-a551q-1afdf565c889");
    free(sv.req);

    const struct srv_resp teams_ok = {202, NULL, ""};
    CHECK_EQ(deliver_with(&sv, &teams_ok, 1, teams_yaml, &ra, &err), LW_OK);
    free(sv.req);
    const struct srv_resp discord_ok = {204, NULL, NULL};
    CHECK_EQ(deliver_with(&sv, &discord_ok, 1, discord_yaml, &ra, &err), LW_OK);
    free(sv.req);
}

/* The status table, the same for every HTTP sink unless it says otherwise. */
static void test_statuses(void)
{
    static const char *const yamls[] = {slack_yaml, am_yaml, teams_yaml, discord_yaml, tg_yaml};
    struct srv sv;
    struct lw_err err;
    int64_t ra;
    for (size_t i = 0; i < sizeof yamls / sizeof yamls[0]; i++) {
        const struct srv_resp r500 = {500, NULL, "oops"};
        CHECK_EQ(deliver_with(&sv, &r500, 1, yamls[i], &ra, &err), LW_EAGAIN);
        CHECK(strstr(err.msg, "HTTP 500: oops") != NULL);
        CHECK(strstr(err.msg, "127.0.0.1") == NULL); /* never the URL */
        CHECK(strstr(err.msg, "tok") == NULL);
        free(sv.req);
        const struct srv_resp r429 = {429, "Retry-After: 7\r\n", "slow down"};
        CHECK_EQ(deliver_with(&sv, &r429, 1, yamls[i], &ra, &err), LW_EAGAIN);
        CHECK_EQ(ra, 7 * LW_NS_PER_SEC);
        free(sv.req);
        const struct srv_resp r400 = {400, NULL, "invalid_payload"};
        CHECK_EQ(deliver_with(&sv, &r400, 1, yamls[i], &ra, &err), LW_EINVAL);
        CHECK(strstr(err.msg, "HTTP 400: invalid_payload") != NULL);
        free(sv.req);
        const struct srv_resp r404 = {404, NULL, "no_service"};
        CHECK_EQ(deliver_with(&sv, &r404, 1, yamls[i], &ra, &err), LW_EINVAL);
        free(sv.req);
    }

    /* PagerDuty: 400 on the trigger is permanent, the resolve still goes, the result is the
     * trigger's failure. */
    const struct srv_resp pd_mixed[2] = {{400, NULL, "{\"status\":\"invalid event\"}"},
                                         {202, NULL, "{}"}};
    CHECK_EQ(deliver_with(&sv, pd_mixed, 2, pd_yaml, &ra, &err), LW_EINVAL);
    CHECK_EQ(sv.nreq, 2);
    CHECK(strstr(err.msg, "invalid event") != NULL);
    free(sv.req);
    const struct srv_resp pd_503 = {503, "Retry-After: 2\r\n", ""};
    CHECK_EQ(deliver_with(&sv, &pd_503, 1, pd_yaml, &ra, &err), LW_EAGAIN);
    CHECK_EQ(ra, 2 * LW_NS_PER_SEC);
    free(sv.req);

    /* Telegram tells the wait in its body. */
    const struct srv_resp tg429 = {429, NULL,
                                   "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many "
                                   "Requests: retry after 3\",\"parameters\":{\"retry_after\":3}}"};
    CHECK_EQ(deliver_with(&sv, &tg429, 1, tg_yaml, &ra, &err), LW_EAGAIN);
    CHECK_EQ(ra, 3 * LW_NS_PER_SEC);
    free(sv.req);
    const struct srv_resp tg401 = {401, NULL,
                                   "{\"ok\":false,\"error_code\":401,\"description\":"
                                   "\"Unauthorized\"}"};
    CHECK_EQ(deliver_with(&sv, &tg401, 1, tg_yaml, &ra, &err), LW_EINVAL);
    CHECK(strstr(err.msg, "Unauthorized") != NULL);
    free(sv.req);

    /* Opsgenie: 422 invalid request, 401 bad key: permanent; 429: retry. */
    const struct srv_resp og422[2] = {{422, NULL, "{\"message\":\"Request body is not valid\"}"},
                                      {422, NULL, "{}"}};
    CHECK_EQ(deliver_with(&sv, og422, 2, og_yaml, &ra, &err), LW_EINVAL);
    CHECK(strstr(err.msg, "not valid") != NULL);
    free(sv.req);
    const struct srv_resp og429 = {429, NULL, ""};
    CHECK_EQ(deliver_with(&sv, &og429, 1, og_yaml, &ra, &err), LW_EAGAIN);
    CHECK_EQ(sv.nreq, 1); /* the close did not overtake the create */
    free(sv.req);
}

/* A notification of two events whose second failed: the retry (same sink, same notification)
 * sends only the second. */
static void test_resume(void)
{
    struct cfg c;
    struct srv sv;
    struct lw_err err = {0};
    int64_t ra = -1;
    char yaml[512];
    const struct srv_resp script[3] = {{202, NULL, "{}"}, {500, NULL, "down"}, {202, NULL, "{}"}};

    srv_start(&sv, script, 3);
    snprintf(yaml, sizeof yaml, pd_yaml, sv.port);
    struct lw_sink *s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), &ra, &err), LW_EAGAIN);
        CHECK_EQ(s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), &ra, &err), LW_OK);
    }
    srv_stop(&sv);
    CHECK_EQ(sv.nreq, 3);
    json_t *o = srv_json(&sv, 0);
    CHECK_STR(jstr(o, "event_action"), "trigger");
    json_decref(o);
    o = srv_json(&sv, 1);
    CHECK_STR(jstr(o, "event_action"), "resolve");
    json_decref(o);
    o = srv_json(&sv, 2);
    CHECK_STR(jstr(o, "event_action"), "resolve"); /* not the trigger again */
    json_decref(o);
    free(sv.req);
    lw_sink_free(s);
    cfg_free(&c);
}

static void test_timeout_refused(void)
{
    struct srv sv;
    struct lw_err err;
    int64_t ra;
    char fmt[256];
    const struct srv_resp hang = {0, NULL, NULL};

    snprintf(fmt, sizeof fmt, "%stimeout: 300ms\n", slack_yaml);
    int64_t t0 = lw_mono_ns();
    CHECK_EQ(deliver_with(&sv, &hang, 1, fmt, &ra, &err), LW_EAGAIN);
    CHECK(lw_mono_ns() - t0 < 5 * LW_NS_PER_SEC);
    CHECK(strstr(err.msg, "sink ops") != NULL);
    free(sv.req);

    /* Nobody listening. */
    struct cfg c;
    char yaml[512];
    int port;
    close(listen_loopback(&port));
    snprintf(yaml, sizeof yaml, pd_yaml, port);
    struct lw_sink *s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), &ra, &err), LW_EAGAIN);
        CHECK(strstr(err.msg, "sink pd") != NULL);
        CHECK(strstr(err.msg, "rk") == NULL);
        /* A malformed notification is permanent, whatever the network. */
        CHECK_EQ(s->ops->deliver(s, "{}", 2, &ra, &err), LW_EINVAL);
    }
    lw_sink_free(s);
    cfg_free(&c);

    /* email: refused is worth a retry. */
    snprintf(yaml, sizeof yaml,
             "name: mail\ntype: email\nsmtp: smtp://127.0.0.1:%d\nfrom: a@example.com\n"
             "to: b@example.com\nstarttls: false\ntimeout: 2s\n",
             port);
    s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), &ra, &err), LW_EAGAIN);
        CHECK(strstr(err.msg, "sink mail") != NULL);
    }
    lw_sink_free(s);
    cfg_free(&c);
}

/* A tiny scripted SMTP server: answers each command from a table, for the failure readings. */
struct smtp_srv {
    int lfd, port;
    int rcpt_code; /* what RCPT TO gets */
    pthread_t th;
};

static void say(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) < 0)
        perror("smtp write");
}

static void *smtp_main(void *arg)
{
    struct smtp_srv *sv = arg;
    int fd = accept(sv->lfd, NULL, NULL);
    char line[1024];
    size_t n = 0;
    if (fd < 0)
        return NULL;
    say(fd, "220 test ESMTP\r\n");
    for (;;) {
        ssize_t r = read(fd, line + n, sizeof line - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        line[n] = 0;
        char *nl;
        while ((nl = strstr(line, "\r\n"))) {
            *nl = 0;
            if (!strncasecmp(line, "EHLO", 4))
                say(fd, "250 test\r\n");
            else if (!strncasecmp(line, "MAIL", 4))
                say(fd, "250 ok\r\n");
            else if (!strncasecmp(line, "RCPT", 4)) {
                char resp[64];
                snprintf(resp, sizeof resp, "%d no\r\n", sv->rcpt_code);
                say(fd, resp);
            } else if (!strncasecmp(line, "QUIT", 4)) {
                say(fd, "221 bye\r\n");
                close(fd);
                return NULL;
            } else
                say(fd, "250 ok\r\n");
            size_t used = (size_t)(nl + 2 - line);
            memmove(line, nl + 2, n - used + 1);
            n -= used;
        }
    }
    close(fd);
    return NULL;
}

static int smtp_try(int rcpt_code, struct lw_err *err)
{
    struct smtp_srv sv = {.rcpt_code = rcpt_code};
    struct cfg c;
    char yaml[512];
    int64_t ra = -1;
    int rc = 999;
    sv.lfd = listen_loopback(&sv.port);
    pthread_create(&sv.th, NULL, smtp_main, &sv);
    snprintf(yaml, sizeof yaml,
             "name: mail\ntype: email\nsmtp: smtp://127.0.0.1:%d\nfrom: a@example.com\n"
             "to: b@example.com\nstarttls: false\ntimeout: 5s\n",
             sv.port);
    struct lw_sink *s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (s)
        rc = s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), &ra, err);
    lw_sink_free(s); /* closes the connection: the server thread ends */
    cfg_free(&c);
    pthread_join(sv.th, NULL);
    close(sv.lfd);
    return rc;
}

static void test_smtp_failures(void)
{
    struct lw_err err = {0};
    CHECK_EQ(smtp_try(550, &err), LW_EINVAL); /* mailbox unavailable: permanent */
    CHECK(strstr(err.msg, "SMTP 550") != NULL);
    CHECK_EQ(smtp_try(451, &err), LW_EAGAIN); /* local error: later */
    CHECK(strstr(err.msg, "SMTP 451") != NULL);

    /* starttls: true against a server without STARTTLS: not sent in clear. */
    struct smtp_srv sv = {.rcpt_code = 250};
    struct cfg c;
    char yaml[512];
    int64_t ra = -1;
    sv.lfd = listen_loopback(&sv.port);
    pthread_create(&sv.th, NULL, smtp_main, &sv);
    snprintf(yaml, sizeof yaml,
             "name: mail\ntype: email\nsmtp: smtp://127.0.0.1:%d\nfrom: a@example.com\n"
             "to: b@example.com\ntimeout: 5s\n",
             sv.port);
    struct lw_sink *s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (s)
        CHECK(s->ops->deliver(s, fixed_alerts, strlen(fixed_alerts), &ra, &err) != LW_OK);
    lw_sink_free(s);
    cfg_free(&c);
    pthread_join(sv.th, NULL);
    close(sv.lfd);
}

int main(void)
{
    test_env_setup();
    test_requests();
    test_statuses();
    test_resume();
    test_timeout_refused();
    test_smtp_failures();
    lw_sinks_global_cleanup();
    return test_summary();
}
