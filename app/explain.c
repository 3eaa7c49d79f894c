/* explain.c: `logwarden explain -c CONFIG FINGERPRINT|ALERT [LABEL=VALUE...]`: why an alert is
 * what it is, asked of the running daemon (GET /api/alerts/{fp} on http.listen, with the token)
 * or, when none answers, read from the state file (what it kept at the alert's last transition,
 * its history and notifications). Printed for people; the JSON is the API's. */
#include "api.h"
#include "app.h"
#include "engine.h"
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ASK_TIMEOUT_MS 10000
#define MAX_ANSWER (8 << 20)

static void usage(FILE *f)
{
    fprintf(f, "usage: logwarden explain -c CONFIG FINGERPRINT | ALERT [LABEL=VALUE...]\n\n"
               "Explains an alert: its value over the last window against the threshold, its\n"
               "state history (24 h), the notifications sent for it and the last lines that fed\n"
               "it. Asks the running daemon (http.listen, with http.token); when none answers,\n"
               "reads the state file. ALERT with its group_by labels names the same alert as\n"
               "its fingerprint.\n\n"
               "exit codes: 0 explained, 1 not found, 2 usage or config error\n");
}

/* Waits for fd to be ready for ev; false on timeout or error. */
static bool wait_fd(int fd, short ev, int64_t deadline_ms)
{
    int64_t left = deadline_ms - lw_mono_ns() / 1000000;
    if (left <= 0)
        return false;
    struct pollfd p = {fd, ev, 0};
    int rc;
    while ((rc = poll(&p, 1, (int)left)) < 0 && errno == EINTR) {
    }
    return rc == 1;
}

/* GET path from the daemon at listen (HOST:PORT): 0 and *code, *body (the caller's) set, or -1
 * when nothing answers there. */
static int http_get(const char *listen, const char *token, const char *path, int *code, char **body)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *h = host;
    if (h[0] == '[') { /* [::1]:9880 */
        h++;
        h[strlen(h) - 1] = '\0';
    }
    if (!*h || !strcmp(h, "0.0.0.0"))
        h = "127.0.0.1";
    else if (!strcmp(h, "::"))
        h = "::1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(h, colon + 1, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int64_t deadline = lw_mono_ns() / 1000000 + ASK_TIMEOUT_MS;
    int rc = -1;
    struct lw_buf req = {0}, rsp = {0};
    if (fd < 0)
        goto out;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
        (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline)))
        goto out;
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr)
        goto out;
    lw_buf_printf(&req, "GET %s HTTP/1.0\r\nHost: %s\r\n", path, listen);
    if (token)
        lw_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
    lw_buf_puts(&req, "\r\n");
    for (size_t off = 0; off < req.len;) {
        if (!wait_fd(fd, POLLOUT, deadline))
            goto out;
        ssize_t n = send(fd, req.p + off, req.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            goto out;
        if (n > 0)
            off += (size_t)n;
    }
    char chunk[16384];
    for (;;) {
        if (!wait_fd(fd, POLLIN, deadline))
            goto out;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        if (rsp.len + (size_t)n > MAX_ANSWER)
            goto out;
        lw_buf_append(&rsp, chunk, (size_t)n);
    }
    lw_buf_putc(&rsp, '\0');
    const char *sep = strstr(rsp.p, "\r\n\r\n");
    if (!sep || sscanf(rsp.p, "HTTP/%*s %d", code) != 1)
        goto out;
    *body = lw_strdup(sep + 4);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    lw_buf_free(&req);
    lw_buf_free(&rsp);
    /* A secret went through req: no copy of it stays behind. */
    return rc;
}

/* ALERT LABEL=VALUE...: the fingerprint of that group (group_by order, as the engine keys it).
 * 0, 1 (no such alert) or 2 (a label it does not group by). */
static int fingerprint_of(const struct lw_config *cfg, const char *alert, char **labels,
                          size_t nlabels, char fp[17])
{
    struct lw_ruleset *rs = NULL;
    struct lw_diag diag = {0};
    if (lw_config_rules(cfg, &rs, &diag) < 0) {
        lw_diag_print(&diag, stderr);
        lw_diag_free(&diag);
        return 2;
    }
    lw_diag_free(&diag);
    const struct lw_alert_def *a = NULL;
    for (size_t i = 0; i < rs->nalerts && !a; i++)
        if (!strcmp(rs->alerts[i].name, alert))
            a = &rs->alerts[i];
    int rc = 0;
    if (!a) {
        fprintf(stderr, "logwarden explain: no alert named %s in the rules\n", alert);
        rc = 1;
        goto out;
    }
    for (size_t k = 0; k < nlabels; k++) {
        const char *eq = strchr(labels[k], '=');
        bool known = false;
        for (size_t i = 0; eq && i < a->ngroup && !known; i++)
            known = strlen(a->group_by[i]) == (size_t)(eq - labels[k]) &&
                    !strncmp(a->group_by[i], labels[k], (size_t)(eq - labels[k]));
        if (!known) {
            fprintf(stderr,
                    "logwarden explain: %s: expected LABEL=VALUE with LABEL one of %s's group_by "
                    "labels\n",
                    labels[k], alert);
            rc = 2;
            goto out;
        }
    }
    struct lw_buf key = {0};
    lw_buf_putc(&key, '{');
    for (size_t i = 0; i < a->ngroup; i++) {
        const char *v = "";
        size_t n = strlen(a->group_by[i]);
        for (size_t k = 0; k < nlabels; k++)
            if (!strncmp(labels[k], a->group_by[i], n) && labels[k][n] == '=')
                v = labels[k] + n + 1;
        if (i)
            lw_buf_putc(&key, ',');
        lw_buf_json_str(&key, a->group_by[i], n);
        lw_buf_putc(&key, ':');
        lw_buf_json_str(&key, v, strlen(v));
    }
    lw_buf_putc(&key, '}');
    lw_buf_putc(&key, '\0');
    lw_fingerprint(a->name, key.p, fp);
    lw_buf_free(&key);
out:
    lw_ruleset_free(rs);
    return rc;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void print_value(json_t *v)
{
    if (json_is_number(v))
        printf("%g", json_number_value(v));
    else
        printf("-");
}

static void print_explanation(json_t *x)
{
    const char *k;
    json_t *v, *p;
    size_t i;
    printf("%s %s: %s", str(x, "alert"), str(x, "fingerprint"), str(x, "state"));
    if (*str(x, "since"))
        printf(" since %s", str(x, "since"));
    printf("  (%s)\n",
           !strcmp(str(x, "source"), "live") ? "from the running daemon" : "from the state file");
    printf("  labels:");
    json_object_foreach(json_object_get(x, "labels"), k, v)
        printf(" %s=%s", k, json_string_value(v));
    printf("\n");
    json_object_foreach(json_object_get(x, "annotations"), k, v)
        printf("  %s: %s\n", k, json_string_value(v));
    printf("  value ");
    print_value(json_object_get(x, "value"));
    printf(" %s threshold ", json_is_false(json_object_get(x, "above")) ? "below" : "above");
    print_value(json_object_get(x, "threshold"));
    printf("  (%s over %s, resolution %s, for %s)\n", str(x, "kind"), str(x, "window"),
           str(x, "resolution"), str(x, "for"));
    json_t *mute = json_object_get(x, "silenced_by");
    json_array_foreach(mute, i, v) printf("  silenced by %s\n", json_string_value(v));
    mute = json_object_get(x, "inhibited_by");
    json_array_foreach(mute, i, v) printf("  inhibited by alert %s\n", json_string_value(v));

    /* The series is a step function: its changes say it all. */
    printf("\nvalue over the last window (changes):\n");
    json_t *prev = NULL;
    size_t shown = 0;
    json_array_foreach(json_object_get(x, "series"), i, p)
    {
        json_t *val = json_array_get(p, 1);
        if (prev && json_equal(prev, val))
            continue;
        prev = val;
        printf("  %s  ", json_string_value(json_array_get(p, 0)));
        print_value(val);
        printf("\n");
        shown++;
    }
    if (!shown)
        printf("  (none kept)\n");

    printf("\nhistory (24 h):\n");
    json_array_foreach(json_object_get(x, "history"), i, p)
    {
        printf("  %s  %-8s value ", str(p, "at"), str(p, "state"));
        print_value(json_object_get(p, "value"));
        printf("\n");
    }
    if (!json_array_size(json_object_get(x, "history")))
        printf("  (none)\n");

    printf("\nnotifications:\n");
    json_array_foreach(json_object_get(x, "notifications"), i, p)
    {
        printf("  %s  %-10s %-8s %-6s attempts %lld%s%s\n", str(p, "created_at"), str(p, "sink"),
               str(p, "status"), str(p, "outcome"),
               (long long)json_integer_value(json_object_get(p, "attempts")),
               json_is_string(json_object_get(p, "error")) ? "  error: " : "", str(p, "error"));
    }
    if (!json_array_size(json_object_get(x, "notifications")))
        printf("  (none)\n");

    printf("\nlast lines that fed it (each cut at %lld bytes):\n",
           (long long)json_integer_value(json_object_get(x, "sample_bytes")));
    json_array_foreach(json_object_get(x, "samples"), i, p)
    {
        printf("  %s [%s] %s%s\n", str(p, "at"), str(p, "input"), str(p, "line"),
               json_is_true(json_object_get(p, "cut")) ? " [cut]" : "");
    }
    if (!json_array_size(json_object_get(x, "samples")))
        printf("  (none kept)\n");
}

static bool is_fingerprint(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == 16 && !s[n];
}

int lw_cmd_explain(int argc, char **argv)
{
    const char *config = NULL;
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            config = argv[++i];
        else
            break;
    }
    if (!config || i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *what = argv[i++];
    struct lw_diag diag = {0};
    struct lw_config *cfg = NULL;
    if (lw_config_load(&cfg, config, &diag) < 0) {
        lw_diag_print(&diag, stderr);
        lw_diag_free(&diag);
        return 2;
    }
    lw_diag_free(&diag);
    char fp[17];
    int rc = 0;
    if (is_fingerprint(what) && i == argc)
        memcpy(fp, what, sizeof fp);
    else if ((rc = fingerprint_of(cfg, what, argv + i, (size_t)(argc - i), fp)) != 0)
        goto out;

    json_t *x = NULL;
    int code = 0;
    char *body = NULL, path[64];
    snprintf(path, sizeof path, "/api/alerts/%s", fp);
    if (cfg->http_listen && http_get(cfg->http_listen, cfg->http_token, path, &code, &body) == 0 &&
        (code == 200 || code == 404)) {
        x = json_loads(body, 0, NULL);
    } else {
        /* No daemon answers: the state file (read beside a running one too). */
        struct lw_store *st = NULL;
        struct lw_err err = {0};
        if (lw_store_open(&st, cfg->state, &err) < 0) {
            fprintf(stderr, "logwarden explain: %s: %s\n", cfg->state, err.msg);
            rc = 2;
            goto out;
        }
        x = lw_api_explain_store(st, fp, NULL, &code);
        lw_store_close(st);
    }
    free(body);
    if (code == 404) {
        fprintf(stderr,
                "logwarden explain: no alert %s (fingerprint %s) in the daemon or the "
                "state file\n",
                what, fp);
        rc = 1;
    } else if (code != 200 || !json_is_object(x)) {
        fprintf(stderr, "logwarden explain: %s\n",
                json_is_object(x) ? str(x, "error") : "the daemon's answer is not JSON");
        rc = 1;
    } else {
        print_explanation(x);
    }
    json_decref(x);
out:
    lw_config_free(cfg);
    return rc;
}
