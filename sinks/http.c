/* http.c: what the HTTP sinks share: a POST over a reused libcurl handle, the reading of its
 * status (sent, retry later, failed for good), the renderer-over-delivery frame every HTTP sink
 * is built on, and the check of URL options (schemes, secrets in them). */
#include "sink_http.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---------------------------------------------------------------- HTTP */

void lw_http_init(struct lw_http_client *h, int64_t timeout_ns)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->timeout_ns = timeout_ns;
}

void lw_http_free(struct lw_http_client *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
    pthread_mutex_destroy(&h->lock);
}

/* curl calls this about once a second while a request runs, even one that is only waiting. */
static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    int64_t at = atomic_load((const _Atomic int64_t *)p);
    return at != 0 && lw_mono_ns() >= at; /* nonzero: CURLE_ABORTED_BY_CALLBACK */
}

void lw_http_set_timeouts(struct lw_http_client *h, CURL *c)
{
    long timeout_ms = (long)(h->timeout_ns / LW_NS_PER_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (h->stop_at) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)h->stop_at);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct lw_http_resp *r = userdata;
    size_t n = size * nmemb, room = LW_HTTP_BODY_KEEP - r->body_len;
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
    struct lw_http_resp *r = userdata;
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
    r->retry_after_s = secs > LW_HTTP_RETRY_AFTER_MAX_S ? LW_HTTP_RETRY_AFTER_MAX_S : secs;
    return n;
}

/* Response bytes go into error messages: keep them printable and on one line. */
static void clean_body(struct lw_http_resp *r)
{
    for (size_t i = 0; i < r->body_len; i++) {
        unsigned char c = (unsigned char)r->body[i];
        if (c < ' ' || c == 127)
            r->body[i] = ' ';
    }
    r->body[r->body_len] = 0;
}

int lw_http_post(struct lw_http_client *h, const char *sink, const char *url,
                 const struct curl_slist *headers, const char *body, size_t len,
                 struct lw_http_resp *resp, struct lw_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    if (!h->curl) {
        h->curl = curl_easy_init();
        if (!h->curl)
            return lw_err_set(err, LW_EAGAIN, "sink %s: curl_easy_init failed", sink);
    } else {
        curl_easy_reset(h->curl); /* keeps the connection cache */
    }
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "logwarden/" LW_VERSION);
    lw_http_set_timeouts(h, c);
    /* Worker threads: no SIGALRM-based resolver timeouts. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    /* TLS verification and proxies from the environment are libcurl's defaults and stay so. */

    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return lw_err_set(err, LW_EAGAIN, "sink %s: cut short: the daemon is stopping", sink);
    if (cc != CURLE_OK) {
        /* curl_easy_strerror, not the error buffer: the latter can quote the host or URL. */
        bool permanent = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL;
        return lw_err_set(err, permanent ? LW_EINVAL : LW_EAGAIN, "sink %s: %s", sink,
                          curl_easy_strerror(cc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    clean_body(resp);
    return LW_OK;
}

static bool http_temporary(long status)
{
    return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

int lw_http_classify(const char *sink, const struct lw_http_resp *r, int64_t *retry_after_ns,
                     struct lw_err *err)
{
    int show = r->body_len < LW_HTTP_BODY_SHOW ? (int)r->body_len : LW_HTTP_BODY_SHOW;
    if (r->status >= 200 && r->status <= 299)
        return LW_OK;
    if (http_temporary(r->status)) {
        if (r->retry_after_s >= 0 && retry_after_ns)
            *retry_after_ns = r->retry_after_s * LW_NS_PER_SEC;
        return lw_err_set(err, LW_EAGAIN, "sink %s: HTTP %ld: %.*s", sink, r->status, show,
                          r->body);
    }
    return lw_err_set(err, LW_EINVAL, "sink %s: HTTP %ld: %.*s", sink, r->status, show, r->body);
}

/* ---------------------------------------------------------------- HTTP sinks */

int lw_hsink_init(struct lw_sink *s, const struct lw_hsink_def *def)
{
    struct lw_hsink *h = lw_calloc(1, sizeof *h);
    const struct lw_hsink_conf *conf = s->conf;

    h->def = def;
    h->priv = s->conf;
    h->url = conf->url;
    s->ctx = h;
    /* 0: the timeout did not parse (the sink is refused anyway). */
    lw_http_init(&h->http, conf->timeout_ns ? conf->timeout_ns : LW_SINK_TIMEOUT_NS);
    h->http.stop_at = &s->stop_at_ns;

    if (!def->own_content_type)
        h->headers = curl_slist_append(h->headers, "Content-Type: application/json");
    /* No "Expect: 100-continue" round trip on larger bodies: most receivers ignore it anyway. */
    h->headers = curl_slist_append(h->headers, "Expect:");
    if (!h->headers)
        lw_oom(0);
    return 0;
}

void lw_hsink_header(struct lw_hsink *h, const char *line)
{
    h->headers = curl_slist_append(h->headers, line);
    if (!h->headers)
        lw_oom(0);
}

int lw_hsink_render(struct lw_sink *s, const char *alerts_json, size_t len,
                    struct lw_sink_msgs *out, struct lw_err *err)
{
    struct lw_hsink *h = s->ctx;
    json_t *alerts;
    int rc = lw_sink_alerts_parse(s->name, alerts_json, len, &alerts, err);
    if (rc < 0)
        return rc;
    rc = h->def->render(s, alerts, alerts_json, len, out, err);
    json_decref(alerts);
    return rc;
}

/* Sends the rendered requests in order. A temporary failure stops there (later requests would
 * overtake it) and is resumed from there; a permanent one is recorded and the rest still go,
 * so that one rejected alert does not hold back the others of its notification. */
int lw_hsink_deliver(struct lw_sink *s, const char *alerts_json, size_t len,
                     int64_t *retry_after_ns, struct lw_err *err)
{
    struct lw_hsink *h = s->ctx;
    struct lw_sink_msgs msgs = {0};
    struct lw_err first = {0};
    uint64_t hash = lw_hash64(alerts_json, len, LW_HASH_SEED);
    int rc = lw_hsink_render(s, alerts_json, len, &msgs, err);
    if (rc < 0)
        goto out_free;

    pthread_mutex_lock(&h->http.lock);
    size_t i = h->resume_hash == hash ? h->resume_done : 0;
    h->resume_hash = 0;
    h->resume_done = 0;
    for (; i < msgs.n; i++) {
        struct lw_http_resp resp;
        struct lw_err e = {0};
        int r = lw_http_post(&h->http, s->name, msgs.v[i].url, h->headers, msgs.v[i].body,
                             msgs.v[i].len, &resp, &e);
        if (r == LW_OK)
            r = h->def->classify ? h->def->classify(s, &resp, retry_after_ns, &e)
                                 : lw_http_classify(s->name, &resp, retry_after_ns, &e);
        if (r == LW_EAGAIN) {
            h->resume_hash = hash;
            h->resume_done = i;
            *err = e;
            rc = LW_EAGAIN;
            goto out_unlock;
        }
        if (r < 0 && first.code == 0)
            first = e;
    }
    if (first.code != 0) {
        *err = first;
        rc = first.code;
    }
out_unlock:
    pthread_mutex_unlock(&h->http.lock);
out_free:
    lw_sink_msgs_free(&msgs);
    return rc;
}

void lw_hsink_free(struct lw_sink *s)
{
    struct lw_hsink *h = s->ctx;
    if (!h)
        return;
    lw_http_free(&h->http);
    /* Header lines can hold a token (Authorization): clear them before they go. */
    for (struct curl_slist *l = h->headers; l; l = l->next)
        memset(l->data, 0, strlen(l->data));
    curl_slist_free_all(h->headers);
    if (h->def->free_priv)
        h->def->free_priv(h->priv);
    free(h);
    s->ctx = NULL;
}

/* ---------------------------------------------------------------- config helpers */

/* The parts of a URL that carry credentials: the password, the query, and long path segments
 * (Slack, Discord, Teams and Telegram put their keys in the path; short ones such as /hook or
 * /alerts are ordinary words and stay readable). */
#define URL_SECRET_SEGMENT 16
static void add_url_secrets(CURLU *u)
{
    char *part = NULL;
    if (curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK)
        lw_secret_add(part);
    curl_free(part);
    part = NULL;
    if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK)
        lw_secret_add(part);
    curl_free(part);
    part = NULL;
    if (curl_url_get(u, CURLUPART_PATH, &part, 0) == CURLUE_OK) {
        for (char *seg = part; *seg;) {
            size_t w = strcspn(seg, "/");
            if (w >= URL_SECRET_SEGMENT) {
                char c = seg[w];
                seg[w] = 0;
                lw_secret_add(seg);
                seg[w] = c;
            }
            seg += w + (seg[w] == '/');
        }
    }
    curl_free(part);
}

int lw_sink_opt_url(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                    const struct lw_yaml_node *n, const struct lw_opt_ctx *c, struct lw_diag *diag)
{
    const char *url = *(char **)field, *schemes = o->arg, *key = o->key;
    CURLU *u = curl_url();
    char *scheme = NULL, names[64];
    int rc = 0;
    if (!u)
        lw_oom(sizeof(void *));
    /* "http,https" -> "http or https", for messages. */
    size_t k = 0;
    for (const char *p = schemes; *p && k + 4 < sizeof names; p++) {
        if (*p == ',') {
            memcpy(names + k, " or ", 4);
            k += 4;
        } else {
            names[k++] = *p;
        }
    }
    names[k] = 0;
    /* Messages never quote the URL: once expanded it may carry a token. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        lw_yaml_error(doc, n, diag, "%s: %s is not a valid %s URL", c->prefix, key, names);
        rc = LW_EINVAL;
    } else {
        bool ok = false;
        size_t sl = strlen(scheme);
        add_url_secrets(u);
        for (const char *p = schemes; *p;) {
            size_t w = strcspn(p, ",");
            if (w == sl && strncasecmp(p, scheme, w) == 0)
                ok = true;
            p += w + (p[w] == ',');
        }
        if (!ok) {
            lw_yaml_error(doc, n, diag, "%s: %s scheme must be %s, not %s", c->prefix, key, names,
                          scheme);
            rc = LW_EINVAL;
        }
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

void lw_sink_free_secret(char *s)
{
    lw_opt_free_secret(s);
}

/* ---------------------------------------------------------------- messages */

void lw_sink_msgs_add(struct lw_sink_msgs *m, const char *url, const char *body, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 4;
        m->v = lw_realloc(m->v, m->cap * sizeof *m->v);
    }
    struct lw_sink_msg *g = &m->v[m->n++];
    g->url = lw_strdup(url ? url : "");
    g->body = lw_strndup(body, len);
    g->len = len;
}

void lw_sink_msgs_free(struct lw_sink_msgs *m)
{
    for (size_t i = 0; i < m->n; i++) {
        lw_sink_free_secret(m->v[i].url);
        free(m->v[i].body);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
}

int lw_sink_render(struct lw_sink *s, const char *alerts_json, size_t len, struct lw_sink_msgs *out,
                   struct lw_err *err)
{
    if (!s->ops->render)
        return lw_err_set(err, LW_EINVAL, "sink %s: type %s has no renderer", s->name,
                          s->ops->type);
    return s->ops->render(s, alerts_json, len, out, err);
}
