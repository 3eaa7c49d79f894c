/* test_sinks.c: unit tests for the sinks: registry and config checks, stdout and file lines,
 * webhook requests and status handling against a loopback HTTP server in this process. */
#include "lw.h"
#include "lw_yaml.h"
#include "sink.h"
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char tmpdir[256];

/* Two alerts, pretty-printed, with strings holding the characters the splitter must respect. */
static const char alerts_json[] =
    "[\n"
    "  {\"status\": \"firing\", \"alert\": \"SshBruteForce\", \"fingerprint\": "
    "\"5f0c2a9e41d7b3a8\",\n"
    "   \"labels\": {\"alert\": \"SshBruteForce\", \"ip\": \"203.0.113.7\", \"severity\": "
    "\"critical\"},\n"
    "   \"annotations\": {\"summary\": \"11 failed logins, \\\"quoted\\\" [x] {y}\\nnext\"},\n"
    "   \"value\": 11, \"starts_at\": \"2024-03-10T06:55:46Z\", \"ends_at\": null,\n"
    "   \"window\": \"5m\", \"generator\": \"logwarden\"},\n"
    "  {\"status\": \"resolved\", \"alert\": \"HighErrorRate\", \"fingerprint\": "
    "\"0000000000000001\",\n"
    "   \"labels\": {\"alert\": \"HighErrorRate\"}, \"annotations\": {}, \"value\": 0.05,\n"
    "   \"starts_at\": \"2024-03-10T06:00:00Z\", \"ends_at\": \"2024-03-10T06:10:00Z\",\n"
    "   \"window\": \"5m\", \"generator\": \"logwarden\"}\n"
    "]\n";

/* ---------------------------------------------------------------- helpers */

struct cfg {
    struct lw_yaml_doc *doc;
    struct lw_diag diag;
};

/* Builds a sink from a YAML map; NULL on error with the messages in c->diag. */
static struct lw_sink *make_sink(struct cfg *c, const char *yaml)
{
    memset(c, 0, sizeof *c);
    if (lw_yaml_load_buf(&c->doc, "sinks.yaml", yaml, strlen(yaml), &c->diag) != 0)
        return NULL;
    struct lw_yaml_node *type = lw_yaml_get(c->doc->root, "type");
    struct lw_yaml_node *name = lw_yaml_get(c->doc->root, "name");
    const struct lw_sink_ops *ops = lw_sink_find(type ? type->str : NULL);
    if (!ops)
        return NULL;
    return lw_sink_new(ops, name ? name->str : "?", NULL, c->doc, c->doc->root, &c->diag);
}

static void cfg_free(struct cfg *c)
{
    lw_yaml_free(c->doc);
    lw_diag_free(&c->diag);
}

static bool diag_has(const struct cfg *c, const char *s)
{
    for (size_t i = 0; i < c->diag.n; i++)
        if (strstr(c->diag.msgs[i], s))
            return true;
    return false;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct lw_buf b = {0};
    char tmp[4096];
    size_t n;
    lw_buf_append(&b, "", 0);
    if (!f)
        return lw_buf_steal(&b);
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        lw_buf_append(&b, tmp, n);
    fclose(f);
    return lw_buf_steal(&b);
}

/* Checks text is exactly want lines, each a compact JSON alert object. */
static void check_lines(const char *text, int want, const char *first_alert)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        json_error_t jerr;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &jerr);
        CHECK(json_is_object(o));
        if (n == 0 && first_alert)
            CHECK_STR(json_string_value(json_object_get(o, "alert")), first_alert);
        CHECK(json_object_get(o, "status") != NULL);
        json_decref(o);
        /* Compact: no blank after separators outside strings would show as ", \"" etc. */
        CHECK(memmem(p, (size_t)(nl - p), "\": ", 3) == NULL);
        n++;
        p = nl + 1;
    }
    CHECK_EQ(n, want);
}

/* ---------------------------------------------------------------- registry, splitting */

static void test_registry(void)
{
    /* Only sinks that send over the network need curl (and OpenSSL) initialised. */
    struct lw_sink file = {&lw_sink_file_ops, "f", NULL}, out = {&lw_sink_stdout_ops, "o", NULL},
                   hook = {&lw_sink_webhook_ops, "w", NULL};
    struct lw_sink *local[] = {&file, &out}, *mixed[] = {&file, &hook};
    CHECK(!lw_sinks_need_global_init(local, 2));
    CHECK(lw_sinks_need_global_init(mixed, 2));
    CHECK(!lw_sinks_need_global_init(mixed, 0));
    CHECK(lw_sink_find("stdout") == &lw_sink_stdout_ops);
    CHECK(lw_sink_find("file") == &lw_sink_file_ops);
    CHECK(lw_sink_find("webhook") == &lw_sink_webhook_ops);
    CHECK(lw_sink_find("slack") == &lw_sink_slack_ops);
    CHECK(lw_sink_find("pagerduty") == &lw_sink_pagerduty_ops);
    CHECK(lw_sink_find("alertmanager") == &lw_sink_alertmanager_ops);
    CHECK(lw_sink_find("email") == &lw_sink_email_ops);
    CHECK(lw_sink_find("teams") == &lw_sink_teams_ops);
    CHECK(lw_sink_find("discord") == &lw_sink_discord_ops);
    CHECK(lw_sink_find("telegram") == &lw_sink_telegram_ops);
    CHECK(lw_sink_find("opsgenie") == &lw_sink_opsgenie_ops);
    CHECK(lw_sink_find("carrier-pigeon") == NULL);
    CHECK(lw_sink_find(NULL) == NULL);
    lw_sink_free(NULL);

    struct cfg c;
    CHECK(make_sink(&c, "name: out\ntype: stdout\npaht: x\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:3:1: unknown key 'paht' in sink 'out'"));
    cfg_free(&c);
}

static void test_json_lines(void)
{
    struct lw_buf b = {0};
    struct lw_err err = {0};
    size_t n = 99;
    CHECK_EQ(lw_sink_json_lines(alerts_json, strlen(alerts_json), &b, &n, &err), 0);
    CHECK_EQ(n, 2);
    check_lines(b.p, 2, "SshBruteForce");
    /* Values keep their text: 0.05 is not rewritten as 0.050000000000000003. */
    CHECK(strstr(b.p, "\"value\":0.05,") != NULL);
    CHECK(strstr(b.p, "\"summary\":\"11 failed logins, \\\"quoted\\\" [x] {y}\\nnext\"") != NULL);
    lw_buf_free(&b);

    CHECK_EQ(lw_sink_json_lines("[]", 2, &b, &n, &err), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(lw_sink_json_lines("[1]", 3, &b, &n, &err), LW_EINVAL);
    CHECK_EQ(lw_sink_json_lines("{}", 2, &b, &n, &err), LW_EINVAL);
    CHECK_EQ(lw_sink_json_lines("[{\"a\":", 6, &b, &n, &err), LW_EINVAL);
    lw_buf_free(&b);
}

/* ---------------------------------------------------------------- stdout, file */

static void test_stdout(void)
{
    struct cfg c;
    struct lw_err err = {0};
    int64_t ra = -1;
    char path[512];
    struct lw_sink *s = make_sink(&c, "name: out\ntype: stdout\n");
    CHECK(s != NULL);
    if (!s) {
        cfg_free(&c);
        return;
    }

    snprintf(path, sizeof path, "%s/stdout.txt", tmpdir);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    int rc1 = s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err);
    int rc2 = s->ops->deliver(s, "[]", 2, &ra, &err);
    int rc3 = s->ops->deliver(s, "not json", 8, &ra, &err);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);

    CHECK_EQ(rc1, LW_OK);
    CHECK_EQ(rc2, LW_OK);
    CHECK_EQ(rc3, LW_EINVAL);
    char *text = read_file(path);
    check_lines(text, 2, "SshBruteForce");
    free(text);
    lw_sink_free(s);
    cfg_free(&c);
}

static void test_file(void)
{
    struct cfg c;
    struct lw_err err = {0};
    int64_t ra = -1;
    char yaml[1024], path[512], rotated[600];

    snprintf(path, sizeof path, "%s/alerts.jsonl", tmpdir);
    snprintf(rotated, sizeof rotated, "%s.1", path);
    snprintf(yaml, sizeof yaml, "name: log\ntype: file\npath: %s\nfsync: true\n", path);
    struct lw_sink *s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (!s) {
        lw_diag_print(&c.diag, stderr);
        cfg_free(&c);
        return;
    }
    /* Not created by init: `check` has no side effects. */
    CHECK(access(path, F_OK) != 0);

    CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_OK);
    CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_OK);
    char *text = read_file(path);
    check_lines(text, 4, "SshBruteForce");
    free(text);

    /* Rotated away (logrotate's create mode): the sink follows the path. */
    CHECK_EQ(rename(path, rotated), 0);
    CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_OK);
    text = read_file(path);
    check_lines(text, 2, "SshBruteForce");
    free(text);
    text = read_file(rotated);
    check_lines(text, 4, NULL);
    free(text);
    lw_sink_free(s);
    cfg_free(&c);

    /* Appends to what is there. */
    snprintf(yaml, sizeof yaml, "name: log\ntype: file\npath: %s\n", path);
    s = make_sink(&c, yaml);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_OK);
        text = read_file(path);
        check_lines(text, 4, NULL);
        free(text);
    }
    lw_sink_free(s);
    cfg_free(&c);

    /* A directory that does not exist: a temporary failure, it may appear. */
    s = make_sink(&c, "name: log\ntype: file\npath: /nonexistent-lw-dir/a.jsonl\n");
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_EAGAIN);
        CHECK(strstr(err.msg, "sink log") != NULL);
    }
    lw_sink_free(s);
    cfg_free(&c);

    CHECK(make_sink(&c, "name: log\ntype: file\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:1:1: sink 'log': 'path' is required"));
    cfg_free(&c);
    CHECK(make_sink(&c, "name: log\ntype: file\npath: /tmp/x\nfsync: maybe\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:4:8: expected true or false"));
    cfg_free(&c);
}

/* ---------------------------------------------------------------- webhook */

/* A one-request HTTP/1.1 server on 127.0.0.1: records the request, sends a canned answer.
 * status 0 means: read the request and never answer (for timeouts). */
struct srv {
    int lfd, port;
    int status;
    const char *resp_headers; /* extra lines, each ending in \r\n */
    const char *resp_body;
    pthread_t th;
    char req[65536];
    size_t req_len;
    char *body; /* into req */
};

static int listen_loopback(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        perror("listen_loopback");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void *srv_main(void *arg)
{
    struct srv *sv = arg;
    struct pollfd pfd = {.fd = sv->lfd, .events = POLLIN};
    if (poll(&pfd, 1, 10000) != 1)
        return NULL;
    int fd = accept(sv->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    /* Read the head, then Content-Length bytes of body. */
    size_t want = 0;
    char *head_end = NULL;
    while (sv->req_len < sizeof sv->req - 1) {
        struct pollfd cp = {.fd = fd, .events = POLLIN};
        if (poll(&cp, 1, 10000) != 1)
            break;
        ssize_t r = read(fd, sv->req + sv->req_len, sizeof sv->req - 1 - sv->req_len);
        if (r <= 0)
            break;
        sv->req_len += (size_t)r;
        sv->req[sv->req_len] = 0;
        if (!head_end && (head_end = strstr(sv->req, "\r\n\r\n"))) {
            const char *cl = strcasestr(sv->req, "\r\nContent-Length:");
            want = (size_t)(head_end + 4 - sv->req) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (head_end && sv->req_len >= want)
            break;
    }
    if (head_end)
        sv->body = head_end + 4;
    if (sv->status == 0) {
        /* Hang until the client gives up. */
        char tmp[256];
        struct pollfd cp = {.fd = fd, .events = POLLIN};
        while (poll(&cp, 1, 10000) == 1 && read(fd, tmp, sizeof tmp) > 0)
            ;
    } else {
        char resp[4096];
        const char *b = sv->resp_body ? sv->resp_body : "";
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
                         sv->status, strlen(b), sv->resp_headers ? sv->resp_headers : "", b);
        if (write(fd, resp, (size_t)n) != n)
            perror("srv write");
    }
    close(fd);
    return NULL;
}

static void srv_start(struct srv *sv, int status, const char *headers, const char *body)
{
    memset(sv, 0, sizeof *sv);
    sv->status = status;
    sv->resp_headers = headers;
    sv->resp_body = body;
    sv->lfd = listen_loopback(&sv->port);
    pthread_create(&sv->th, NULL, srv_main, sv);
}

static void srv_stop(struct srv *sv)
{
    pthread_join(sv->th, NULL);
    close(sv->lfd);
}

/* The value of a request header, copied into out ("" when absent). */
static const char *req_header(const struct srv *sv, const char *name, char *out, size_t size)
{
    char key[128];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *h = strcasestr(sv->req, key);
    out[0] = 0;
    if (!h || (sv->body && h > sv->body))
        return out;
    h += strlen(key);
    while (*h == ' ')
        h++;
    const char *e = strstr(h, "\r\n");
    size_t n = e ? (size_t)(e - h) : strlen(h);
    if (n >= size)
        n = size - 1;
    memcpy(out, h, n);
    out[n] = 0;
    return out;
}

static struct lw_sink *make_webhook(struct cfg *c, int port, const char *extra)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: hook\ntype: webhook\nurl: http://127.0.0.1:%d/alerts?src=lw\n%s", port,
             extra ? extra : "");
    struct lw_sink *s = make_sink(c, yaml);
    if (!s)
        lw_diag_print(&c->diag, stderr);
    return s;
}

static void test_webhook_ok(void)
{
    struct srv sv;
    struct cfg c;
    struct lw_err err = {0};
    int64_t ra = -1;
    char h[256];

    setenv("LW_TEST_HOOK_TOKEN", "s3cret-token", 1);
    srv_start(&sv, 200, NULL, "ok");
    struct lw_sink *s = make_webhook(
        &c, sv.port, "headers: {X-Hook-Token: \"Bearer ${LW_TEST_HOOK_TOKEN}\"}\ntimeout: 5s\n");
    CHECK(s != NULL);
    if (!s) {
        srv_stop(&sv);
        cfg_free(&c);
        return;
    }
    CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_OK);
    srv_stop(&sv);
    CHECK_EQ(ra, -1);
    CHECK(strncmp(sv.req, "POST /alerts?src=lw HTTP/1.1\r\n", 30) == 0);
    CHECK_STR(req_header(&sv, "Content-Type", h, sizeof h), "application/json");
    CHECK_STR(req_header(&sv, "User-Agent", h, sizeof h), "logwarden/" LW_VERSION);
    CHECK_STR(req_header(&sv, "X-Hook-Token", h, sizeof h), "Bearer s3cret-token");
    CHECK_STR(req_header(&sv, "Expect", h, sizeof h), "");
    CHECK(sv.body != NULL);
    if (sv.body) {
        json_error_t jerr;
        json_t *o = json_loads(sv.body, 0, &jerr);
        CHECK(json_is_object(o));
        json_t *a = json_object_get(o, "alerts");
        CHECK(json_is_array(a));
        CHECK_EQ(json_array_size(a), 2);
        CHECK_STR(json_string_value(json_object_get(json_array_get(a, 0), "fingerprint")),
                  "5f0c2a9e41d7b3a8");
        CHECK_EQ(json_object_size(o), 1);
        json_decref(o);
    }

    /* The same sink again (a new connection: the server closed the last one). */
    srv_start(&sv, 204, NULL, NULL);
    /* Different port: rebuild. The handle is reused per sink, not per port. */
    lw_sink_free(s);
    cfg_free(&c);
    s = make_webhook(&c, sv.port, NULL);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, "[]", 2, &ra, &err), LW_OK);
        CHECK_EQ(s->ops->deliver(s, "nope", 4, &ra, &err), LW_EINVAL);
    }
    srv_stop(&sv);
    CHECK(sv.body && strcmp(sv.body, "{\"alerts\":[]}") == 0);
    lw_sink_free(s);
    cfg_free(&c);
}

/* Delivers once against a server answering status/headers/body; returns the code. */
static int deliver_against(int status, const char *headers, const char *body, int64_t *ra,
                           struct lw_err *err, const char *extra)
{
    struct srv sv;
    struct cfg c;
    int rc = 999;
    srv_start(&sv, status, headers, body);
    struct lw_sink *s = make_webhook(&c, sv.port, extra);
    CHECK(s != NULL);
    if (s)
        rc = s->ops->deliver(s, alerts_json, strlen(alerts_json), ra, err);
    lw_sink_free(s);
    srv_stop(&sv);
    cfg_free(&c);
    return rc;
}

static void test_webhook_statuses(void)
{
    struct lw_err err = {0};
    int64_t ra = -1;

    CHECK_EQ(deliver_against(500, NULL, "oops", &ra, &err, NULL), LW_EAGAIN);
    CHECK_EQ(ra, -1);
    CHECK(strstr(err.msg, "500") != NULL);
    CHECK(strstr(err.msg, "sink hook") != NULL);
    CHECK(strstr(err.msg, "127.0.0.1") == NULL); /* never the URL */

    ra = -1;
    CHECK_EQ(deliver_against(429, "Retry-After: 7\r\n", "slow down", &ra, &err, NULL), LW_EAGAIN);
    CHECK_EQ(ra, 7 * LW_NS_PER_SEC);
    ra = -1;
    CHECK_EQ(deliver_against(503, "retry-after:   120  \r\n", "", &ra, &err, NULL), LW_EAGAIN);
    CHECK_EQ(ra, 120 * LW_NS_PER_SEC);
    ra = -1;
    CHECK_EQ(deliver_against(408, NULL, "", &ra, &err, NULL), LW_EAGAIN);
    CHECK_EQ(deliver_against(425, NULL, "", &ra, &err, NULL), LW_EAGAIN);
    CHECK_EQ(ra, -1);

    memset(&err, 0, sizeof err);
    CHECK_EQ(deliver_against(400, NULL, "bad payload: field 'text' missing\n", &ra, &err, NULL),
             LW_EINVAL);
    CHECK(strstr(err.msg, "HTTP 400") != NULL);
    CHECK(strstr(err.msg, "bad payload: field 'text' missing") != NULL);
    CHECK_EQ(deliver_against(404, NULL, "", &ra, &err, NULL), LW_EINVAL);
    CHECK_EQ(deliver_against(301, "Location: http://127.0.0.1:1/\r\n", "", &ra, &err, NULL),
             LW_EINVAL);

    /* Only the first 200 bytes of a long body. */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ(deliver_against(422, NULL, big, &ra, &err, NULL), LW_EINVAL);
    const char *xs = strchr(err.msg, 'x');
    CHECK(xs != NULL && strspn(xs, "x") == 200);

    /* A server that never answers: the timeout turns it into a retry. */
    int64_t t0 = lw_mono_ns();
    CHECK_EQ(deliver_against(0, NULL, NULL, &ra, &err, "timeout: 300ms\n"), LW_EAGAIN);
    CHECK(lw_mono_ns() - t0 < 5 * LW_NS_PER_SEC);
    CHECK(strstr(err.msg, "sink hook") != NULL);
}

static void test_webhook_refused(void)
{
    struct cfg c;
    struct lw_err err = {0};
    int64_t ra = -1;
    int port;
    /* A port that was just free: nobody listens there now. */
    close(listen_loopback(&port));
    struct lw_sink *s = make_webhook(&c, port, NULL);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ(s->ops->deliver(s, alerts_json, strlen(alerts_json), &ra, &err), LW_EAGAIN);
        CHECK(strstr(err.msg, "sink hook") != NULL);
        CHECK_EQ(ra, -1);
    }
    lw_sink_free(s);
    cfg_free(&c);
}

static void test_webhook_config(void)
{
    struct cfg c;
    unsetenv("LW_TEST_UNSET_VAR");
    CHECK(make_sink(&c, "name: hook\ntype: webhook\nurl: ${LW_TEST_UNSET_VAR}\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:3:6: "));
    CHECK(diag_has(&c, "LW_TEST_UNSET_VAR"));
    cfg_free(&c);

    setenv("LW_TEST_SECRET_URL", "ftp://example.com/s3cret-path", 1);
    CHECK(make_sink(&c, "name: hook\ntype: webhook\nurl: ${LW_TEST_SECRET_URL}\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:3:6: sink 'hook': url scheme must be http or https"));
    CHECK(!diag_has(&c, "s3cret-path"));
    cfg_free(&c);

    CHECK(make_sink(&c, "name: hook\ntype: webhook\nurl: 'not a url'\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:3:6: "));
    cfg_free(&c);

    CHECK(make_sink(&c, "name: hook\ntype: webhook\n") == NULL);
    CHECK(diag_has(&c, "'url' is required"));
    cfg_free(&c);

    /* Every problem of the map, not only the first. */
    CHECK(make_sink(&c, "name: hook\ntype: webhook\nurl: https://example.com/x\n"
                        "timeout: soon\nheaders: {X-A: '${LW_TEST_UNSET_VAR}', 'Bad Name': v}\n"
                        "urll: x\n") == NULL);
    CHECK(diag_has(&c, "sinks.yaml:4:10: expected a duration"));
    CHECK(diag_has(&c, "LW_TEST_UNSET_VAR"));
    CHECK(diag_has(&c, "'Bad Name' is not a valid header name"));
    CHECK(diag_has(&c, "sinks.yaml:6:1: unknown key 'urll' in sink 'hook' (did you mean 'url'?)"));
    cfg_free(&c);

    struct lw_sink *s = make_sink(&c, "name: hook\ntype: webhook\nurl: HTTPS://example.com/x\n");
    CHECK(s != NULL);
    lw_sink_free(s);
    cfg_free(&c);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lw-sinks-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    /* Loopback requests must not go through a proxy from the environment. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");

    test_registry();
    test_json_lines();
    test_stdout();
    test_file();
    /* Configuring and delivering through local sinks never loads libcurl (curl_dl.c). */
    CHECK(!lw_curl_loaded());
    lw_sinks_global_init();
    CHECK(lw_curl_loaded());
    test_webhook_ok();
    test_webhook_statuses();
    test_webhook_refused();
    test_webhook_config();

    lw_sinks_global_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_summary();
}
