/* helpers.c: what the sinks' unit tests share (see helpers.h). */
#include "helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

const char fixed_alerts[] =
    "[{\"status\": \"firing\", \"alert\": \"SshBruteForce\", \"fingerprint\": "
    "\"5f0c2a9e41d7b3a8\",\n"
    "  \"labels\": {\"alert\": \"SshBruteForce\", \"ip\": \"203.0.113.7\", \"severity\": "
    "\"critical\", \"team\": \"security\"},\n"
    "  \"annotations\": {\"summary\": \"11 failed logins from <b>203.0.113.7</b> & \\\"co\\\"\"},\n"
    "  \"value\": 11, \"starts_at\": \"2024-03-10T06:55:46Z\", \"ends_at\": null,\n"
    "  \"window\": \"5m\", \"generator\": \"logwarden\"},\n"
    " {\"status\": \"resolved\", \"alert\": \"HighErrorRate\", \"fingerprint\": "
    "\"0000000000000001\",\n"
    "  \"labels\": {\"alert\": \"HighErrorRate\", \"severity\": \"warning\", \"service\": "
    "\"web\"},\n"
    "  \"annotations\": {}, \"value\": 0.05,\n"
    "  \"starts_at\": \"2024-03-10T06:00:00Z\", \"ends_at\": \"2024-03-10T06:10:00Z\",\n"
    "  \"window\": \"5m\", \"generator\": \"logwarden\"}]\n";

struct lw_sink *make_sink(struct cfg *c, const char *yaml)
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

void cfg_free(struct cfg *c)
{
    lw_yaml_free(c->doc);
    lw_diag_free(&c->diag);
}

bool diag_has(const struct cfg *c, const char *s)
{
    for (size_t i = 0; i < c->diag.n; i++)
        if (strstr(c->diag.msgs[i], s))
            return true;
    return false;
}

int render(struct lw_sink *s, const char *alerts_json, struct lw_sink_msgs *out)
{
    struct lw_err err = {0};
    memset(out, 0, sizeof *out);
    int rc = lw_sink_render(s, alerts_json, strlen(alerts_json), out, &err);
    if (rc != 0)
        fprintf(stderr, "render: %s\n", err.msg);
    if (getenv("LW_TEST_VERBOSE"))
        for (size_t i = 0; i < out->n; i++)
            fprintf(stderr, "--- %s %s\n%s\n", s->ops->type, out->v[i].url, out->v[i].body);
    return rc;
}

json_t *body_json(const struct lw_sink_msg *m)
{
    json_error_t jerr;
    json_t *o = json_loadb(m->body, m->len, 0, &jerr);
    if (!o)
        fprintf(stderr, "not JSON (%s): %s\n", jerr.text, m->body);
    return o;
}

json_t *jpath(json_t *root, const char *path)
{
    char key[256];
    json_t *cur = root;
    while (cur && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        path += n + (path[n] == '.');
        if (json_is_array(cur)) {
            char *end;
            long i = strtol(key, &end, 10);
            cur = *end ? NULL : json_array_get(cur, (size_t)i);
        } else {
            cur = json_object_get(cur, key);
        }
    }
    return cur;
}

const char *jstr(json_t *root, const char *path)
{
    return json_string_value(jpath(root, path));
}

size_t u8len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

char *one_alert(const char *status, const char *severity, const char *summary)
{
    json_t *labels = json_pack("{s:s, s:s}", "alert", "A", "host", "h1");
    if (severity)
        json_object_set_new(labels, "severity", json_string(severity));
    bool resolved = strcmp(status, "resolved") == 0;
    json_t *a =
        json_pack("[{s:s, s:s, s:s, s:o, s:{s:s}, s:i, s:s, s:o, s:s, s:s}]", "status", status,
                  "alert", "A", "fingerprint", "00000000000000aa", "labels", labels, "annotations",
                  "summary", summary, "value", 3, "starts_at", "2024-03-10T06:55:46Z", "ends_at",
                  resolved ? json_string("2024-03-10T07:00:00Z") : json_null(), "window", "1m",
                  "generator", "logwarden");
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* ---------------------------------------------------------------- loopback HTTP server */

int listen_loopback(int *port)
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

static void serve_one(struct srv *sv, int fd, const struct srv_resp *r)
{
    struct srv_req *q = &sv->req[sv->nreq];
    size_t want = 0;
    char *head_end = NULL;
    while (q->len < sizeof q->raw - 1) {
        struct pollfd cp = {.fd = fd, .events = POLLIN};
        if (poll(&cp, 1, 10000) != 1)
            break;
        ssize_t n = read(fd, q->raw + q->len, sizeof q->raw - 1 - q->len);
        if (n <= 0)
            break;
        q->len += (size_t)n;
        q->raw[q->len] = 0;
        if (!head_end && (head_end = strstr(q->raw, "\r\n\r\n"))) {
            const char *cl = strcasestr(q->raw, "\r\nContent-Length:");
            want = (size_t)(head_end + 4 - q->raw) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (head_end && q->len >= want)
            break;
    }
    if (head_end)
        q->body = head_end + 4;
    sv->nreq++;
    if (r->status == 0) {
        char tmp[256];
        struct pollfd cp = {.fd = fd, .events = POLLIN};
        while (poll(&cp, 1, 10000) == 1 && read(fd, tmp, sizeof tmp) > 0)
            ;
    } else if (r->status > 0) {
        char resp[4096];
        const char *b = r->body ? r->body : "";
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
                         r->status, strlen(b), r->headers ? r->headers : "", b);
        if (write(fd, resp, (size_t)n) != n)
            perror("srv write");
    }
}

static void *srv_main(void *arg)
{
    struct srv *sv = arg;
    for (size_t i = 0; i < sv->nresp; i++) {
        struct pollfd pfd = {.fd = sv->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10000) != 1)
            return NULL;
        int fd = accept(sv->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        serve_one(sv, fd, &sv->resp[i]);
        close(fd);
    }
    return NULL;
}

void srv_start(struct srv *sv, const struct srv_resp *resp, size_t n)
{
    memset(sv, 0, sizeof *sv);
    sv->req = calloc(SRV_MAX, sizeof *sv->req);
    if (!sv->req)
        exit(1);
    for (size_t i = 0; i < n && i < SRV_MAX; i++)
        sv->resp[sv->nresp++] = resp[i];
    sv->lfd = listen_loopback(&sv->port);
    pthread_create(&sv->th, NULL, srv_main, sv);
}

void srv_stop(struct srv *sv)
{
    pthread_join(sv->th, NULL);
    close(sv->lfd);
}

const char *srv_header(const struct srv *sv, size_t i, const char *name, char *out, size_t size)
{
    char key[128];
    const struct srv_req *q = &sv->req[i];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *h = strcasestr(q->raw, key);
    out[0] = 0;
    if (!h || (q->body && h > q->body))
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

const char *srv_target(const struct srv *sv, size_t i, char *out, size_t size)
{
    const char *sp = strchr(sv->req[i].raw, ' ');
    out[0] = 0;
    if (!sp)
        return out;
    size_t n = strcspn(sp + 1, " ");
    if (n >= size)
        n = size - 1;
    memcpy(out, sp + 1, n);
    out[n] = 0;
    return out;
}

json_t *srv_json(const struct srv *sv, size_t i)
{
    json_error_t jerr;
    return sv->req[i].body ? json_loads(sv->req[i].body, 0, &jerr) : NULL;
}

void test_env_setup(void)
{
    /* Loopback requests must not go through a proxy from the environment. */
    const char *vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    lw_sinks_global_init();
}
