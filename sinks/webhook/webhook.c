/* webhook.c: the webhook sink: POSTs {"alerts":[...]} as JSON to a URL with libcurl. */
#include "sink.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WEBHOOK_DEFAULT_TIMEOUT_NS (10 * LW_NS_PER_SEC)
#define WEBHOOK_BODY_KEEP 200                 /* response bytes kept for error messages */
#define WEBHOOK_RETRY_AFTER_MAX_S (24 * 3600) /* a server asking for more is capped */

/* The URL and header values may hold secrets (tokens in Slack-style URLs, Authorization):
 * they live only here and in curl, never in a log line or an error message. */
struct webhook {
    char *url;                  /* ${ENV} expanded */
    struct curl_slist *headers; /* Content-Type, Expect, then the configured ones */
    int64_t timeout_ns;
    CURL *curl; /* reused, so keep-alive connections are too; under lock */
    pthread_mutex_t lock;
};

/* What one request collected; filled by curl's callbacks on the calling thread. */
struct response {
    char body[WEBHOOK_BODY_KEEP + 1];
    size_t body_len;
    int64_t retry_after_s; /* -1: none */
};

static const char *const webhook_keys[] = {"url", "headers", "timeout", NULL};

/* Expands ${ENV} in a scalar, reporting a missing variable at the node (by name, not value). */
static int expand_node(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n,
                       const char *sink, const char *what, char **out, struct lw_diag *diag)
{
    const char *raw;
    struct lw_err err = {0};
    if (lw_yaml_str(doc, n, &raw, diag) != 0)
        return LW_EINVAL;
    if (lw_expand_env(raw, out, &err) != 0) {
        lw_yaml_error(doc, n, diag, "sink '%s': %s: %s", sink, what, err.msg);
        return LW_EINVAL;
    }
    return 0;
}

static int check_url(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char *sink,
                     const char *url, struct lw_diag *diag)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int rc = 0;
    if (!u)
        lw_oom(sizeof(void *));
    /* Messages never quote the URL: once expanded it may carry a token. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        lw_yaml_error(doc, n, diag, "sink '%s': url is not a valid http:// or https:// URL", sink);
        rc = LW_EINVAL;
    } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        lw_yaml_error(doc, n, diag, "sink '%s': url scheme must be http or https, not %s", sink,
                      scheme);
        rc = LW_EINVAL;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* A header name is an HTTP token; values may not break the header block (CR, LF, NUL). */
static bool header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s))
            return false;
    return true;
}

static int add_headers(struct lw_sink *s, struct webhook *w, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *map, struct lw_diag *diag)
{
    bool own_ctype = false;
    int rc = 0;

    if (map && map->type != LW_YAML_MAP) {
        lw_yaml_error(doc, map, diag, "sink '%s': headers must be a map of name: value", s->name);
        return LW_EINVAL;
    }
    for (size_t i = 0; map && i < map->n; i++) {
        const char *name = map->keys[i]->str;
        char *value = NULL;
        if (!header_name_ok(name)) {
            lw_yaml_error(doc, map->keys[i], diag, "sink '%s': '%s' is not a valid header name",
                          s->name, name);
            rc = LW_EINVAL;
            continue;
        }
        if (expand_node(doc, map->items[i], s->name, name, &value, diag) != 0) {
            rc = LW_EINVAL;
            continue;
        }
        if (strpbrk(value, "\r\n")) {
            lw_yaml_error(doc, map->items[i], diag,
                          "sink '%s': header %s: the value contains a line break", s->name, name);
            rc = LW_EINVAL;
        } else {
            if (strcasecmp(name, "Content-Type") == 0)
                own_ctype = true;
            struct lw_buf h = {0};
            /* "Name;" is curl's way to send a header with an empty value. */
            if (*value)
                lw_buf_printf(&h, "%s: %s", name, value);
            else
                lw_buf_printf(&h, "%s;", name);
            w->headers = curl_slist_append(w->headers, h.p);
            lw_buf_free(&h);
            if (!w->headers)
                lw_oom(0);
        }
        free(value);
    }
    if (!own_ctype)
        w->headers = curl_slist_append(w->headers, "Content-Type: application/json");
    /* No "Expect: 100-continue" round trip on larger bodies: most receivers ignore it anyway. */
    w->headers = curl_slist_append(w->headers, "Expect:");
    if (!w->headers)
        lw_oom(0);
    return rc;
}

static int webhook_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                        const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct webhook *w = lw_calloc(1, sizeof *w);
    const struct lw_yaml_node *n;
    int rc = 0;

    pthread_mutex_init(&w->lock, NULL);
    w->timeout_ns = WEBHOOK_DEFAULT_TIMEOUT_NS;
    s->ctx = w;

    n = lw_yaml_get(map, "url");
    if (!n) {
        lw_yaml_error(doc, map, diag, "sink '%s': 'url' is required", s->name);
        rc = LW_EINVAL;
    } else if (expand_node(doc, n, s->name, "url", &w->url, diag) != 0) {
        rc = LW_EINVAL;
    } else if (check_url(doc, n, s->name, w->url, diag) != 0) {
        rc = LW_EINVAL;
    }
    if (add_headers(s, w, doc, lw_yaml_get(map, "headers"), diag) != 0)
        rc = LW_EINVAL;
    n = lw_yaml_get(map, "timeout");
    if (n) {
        if (lw_yaml_duration(doc, n, &w->timeout_ns, diag) != 0) {
            rc = LW_EINVAL;
        } else if (w->timeout_ns < LW_NS_PER_MS) {
            lw_yaml_error(doc, n, diag, "sink '%s': timeout must be at least 1ms", s->name);
            rc = LW_EINVAL;
        }
    }
    return rc;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb, room = WEBHOOK_BODY_KEEP - r->body_len;
    if (room > 0) {
        size_t k = n < room ? n : room;
        memcpy(r->body + r->body_len, p, k);
        r->body_len += k;
    }
    return n; /* the rest is read and dropped, never kept */
}

/* Retry-After is either delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    char v[128];

    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        r->retry_after_s = -1; /* a new response (after 1xx): forget the previous one's */
        return n;
    }
    if (n <= sizeof name - 1 || strncasecmp(p, name, sizeof name - 1) != 0)
        return n;
    size_t i = sizeof name - 1, j = n;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' ' || p[j - 1] == '\t'))
        j--;
    if (j - i == 0 || j - i >= sizeof v)
        return n;
    memcpy(v, p + i, j - i);
    v[j - i] = 0;
    int64_t secs;
    if (lw_parse_i64(v, j - i, &secs) == 0) {
        if (secs < 0)
            return n;
    } else {
        time_t t = curl_getdate(v, NULL);
        if (t == (time_t)-1)
            return n;
        secs = (int64_t)t - (int64_t)time(NULL);
        if (secs < 0)
            secs = 0;
    }
    r->retry_after_s = secs > WEBHOOK_RETRY_AFTER_MAX_S ? WEBHOOK_RETRY_AFTER_MAX_S : secs;
    return n;
}

/* Response bytes go into an error message: keep them printable and on one line. */
static void clean_body(struct response *r)
{
    for (size_t i = 0; i < r->body_len; i++) {
        unsigned char c = (unsigned char)r->body[i];
        if (c < ' ' || c == 127)
            r->body[i] = ' ';
    }
    r->body[r->body_len] = 0;
}

static bool http_temporary(long status)
{
    return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

static int webhook_deliver(struct lw_sink *s, const char *alerts_json, size_t len,
                           int64_t *retry_after_ns, struct lw_err *err)
{
    struct webhook *w = s->ctx;
    struct response resp = {.retry_after_s = -1};
    struct lw_buf body = {0};
    json_error_t jerr;
    long status = 0;
    int rc;

    /* A malformed notification will never become valid: fail it rather than send junk. */
    json_t *check = json_loadb(alerts_json, len, JSON_ALLOW_NUL, &jerr);
    bool is_array = json_is_array(check);
    json_decref(check);
    if (!is_array)
        return lw_err_set(err, LW_EINVAL, "sink %s: notification is not a JSON array", s->name);
    lw_buf_puts(&body, "{\"alerts\":");
    lw_buf_append(&body, alerts_json, len);
    lw_buf_putc(&body, '}');

    pthread_mutex_lock(&w->lock);
    if (!w->curl) {
        w->curl = curl_easy_init();
        if (!w->curl) {
            rc = lw_err_set(err, LW_EAGAIN, "sink %s: curl_easy_init failed", s->name);
            goto out_unlock;
        }
    } else {
        curl_easy_reset(w->curl); /* keeps the connection cache */
    }
    CURL *c = w->curl;
    long timeout_ms = (long)(w->timeout_ns / LW_NS_PER_MS);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "logwarden/" LW_VERSION);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    /* Worker threads: no SIGALRM-based resolver timeouts. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
    /* TLS verification and proxies from the environment are libcurl's defaults and stay so. */

    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        /* curl_easy_strerror, not the error buffer: the latter can quote the host or URL. */
        bool permanent = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL;
        rc = lw_err_set(err, permanent ? LW_EINVAL : LW_EAGAIN, "sink %s: %s", s->name,
                        curl_easy_strerror(cc));
        goto out_unlock;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    clean_body(&resp);
    if (status >= 200 && status <= 299) {
        rc = LW_OK;
    } else if (http_temporary(status)) {
        rc = lw_err_set(err, LW_EAGAIN, "sink %s: HTTP %ld: %s", s->name, status, resp.body);
        if (resp.retry_after_s >= 0 && retry_after_ns)
            *retry_after_ns = resp.retry_after_s * LW_NS_PER_SEC;
    } else {
        rc = lw_err_set(err, LW_EINVAL, "sink %s: HTTP %ld: %s", s->name, status, resp.body);
    }

out_unlock:
    pthread_mutex_unlock(&w->lock);
    lw_buf_free(&body);
    return rc;
}

static void webhook_free(struct lw_sink *s)
{
    struct webhook *w = s->ctx;
    if (!w)
        return;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    pthread_mutex_destroy(&w->lock);
    if (w->url) {
        /* Do not leave the token in freed memory. */
        memset(w->url, 0, strlen(w->url));
        free(w->url);
    }
    free(w);
    s->ctx = NULL;
}

const struct lw_sink_ops lw_sink_webhook_ops = {
    .type = "webhook",
    .keys = webhook_keys,
    .init = webhook_init,
    .deliver = webhook_deliver,
    .free = webhook_free,
};
