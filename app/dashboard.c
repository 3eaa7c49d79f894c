/* dashboard.c: the pages a person keeps open: GET / (alerts, rules, inputs, sinks, silences) and
 * GET /alerts/{fp} (one alert's explanation), rendered on the server (page.c) from the very
 * answers of the API, and their two forms: POST /silences and POST /silences/{id}/expire.
 *
 * The pages show data, so they need what /api reads need (http.token unless public_reads):
 * a browser without JavaScript sends HTTP Basic (any user, the token as password); http.c's gate
 * checks it. A form post is refused by the gate unless its Origin (or, without one, its Referer)
 * names this endpoint and it is application/x-www-form-urlencoded (CSRF); its token is Basic or
 * a `token` field, checked here once the body is read. Every answer carries a strict
 * Content-Security-Policy (no inline script but the page's own, by nonce; forms post only here;
 * no framing), so that a value that slipped past escaping could still not run. */
#include "http_int.h"
#include "page.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---------------------------------------------------------------- answers */

static void new_nonce(char out[23])
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[22];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* No entropy (never on Linux >= 3.17 after boot): a time-based nonce still differs per
         * page; escaping, not the nonce, is what keeps text out of the script. */
        uint64_t t = (uint64_t)lw_mono_ns();
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)(t >> (i % 8 * 8)) ^ (unsigned char)(i * 37);
    }
    for (size_t i = 0; i < sizeof r; i++)
        out[i] = abc[r[i] % 62];
    out[22] = 0;
}

static enum MHD_Result reply_html(struct MHD_Connection *c, unsigned code, const struct lw_buf *b,
                                  const char *nonce)
{
    char csp[256];
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-%s'; "
             "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
             nonce ? nonce : "none");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->len, b->p ? b->p : (void *)"", MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    /* A form posted without the token: the challenge makes the browser send the Basic
     * credentials it holds for the pages (and ask for them when it holds none). */
    if (code == 401)
        MHD_add_response_header(r, "WWW-Authenticate",
                                "Basic realm=\"logwarden\", charset=\"UTF-8\"");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_message(struct MHD_Connection *c, unsigned code, const char *title,
                                     const char *msg)
{
    struct lw_buf b = {0}, red = {0};
    lw_page_message(&b, title, lw_redact(msg, &red) ? red.p : msg);
    enum MHD_Result ret = reply_html(c, code, &b, NULL);
    lw_buf_free(&b);
    lw_buf_free(&red);
    return ret;
}

/* 303 See Other: the browser loads location with a GET (a reload does not post again). */
static enum MHD_Result redirect(struct MHD_Connection *c, const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Location", location);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, 303, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---------------------------------------------------------------- reading */

/* Fingerprints and silence ids as they appear in URLs: hex (and dashes), at most 64 bytes.
 * Anything else is not one of ours, and never reaches a query or a Location. */
static bool url_token_ok(const char *s, size_t n, const char *alphabet)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return false;
    return true;
}
#define HEX "0123456789abcdefABCDEF"

/* Records per second per input between two renders of /, from health's "records" counters:
 * what "throughput" means on a page that is reloaded every few seconds. HTTP thread. */
static pthread_mutex_t rates_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *rates_prev; /* {input: records} at rates_prev_ns */
static int64_t rates_prev_ns;
static json_t *rates_last; /* the rates computed then, shown until the next sample */

static json_t *input_rates(const json_t *health, int64_t now)
{
    const json_t *ins = json_object_get(health, "inputs"), *in;
    const char *name;
    json_t *cur = json_object(), *out;
    json_object_foreach((json_t *)ins, name, in)
    {
        const json_t *r = json_object_get(in, "records");
        if (json_is_number(r))
            json_object_set_new(cur, name, json_real(json_number_value(r)));
    }
    pthread_mutex_lock(&rates_mu);
    int64_t dt = now - rates_prev_ns;
    if (rates_prev && dt >= LW_NS_PER_SEC && dt <= 300 * LW_NS_PER_SEC) {
        json_t *rates = json_object(), *v;
        json_object_foreach(cur, name, v)
        {
            const json_t *p = json_object_get(rates_prev, name);
            double d = json_number_value(v) - json_number_value(p);
            if (json_is_number(p) && d >= 0)
                json_object_set_new(rates, name, json_real(d / ((double)dt / LW_NS_PER_SEC)));
        }
        json_decref(rates_last);
        rates_last = rates;
    }
    if (!rates_prev || dt >= LW_NS_PER_SEC) {
        json_decref(rates_prev);
        rates_prev = json_incref(cur);
        rates_prev_ns = now;
    }
    out = rates_last ? json_deep_copy(rates_last) : json_object();
    pthread_mutex_unlock(&rates_mu);
    json_decref(cur);
    return out;
}

/* A notice after a form post: ?msg=silenced|expired&id=ID (the id shown only when it is one). */
static const char *notice(struct MHD_Connection *c, char *buf, size_t size)
{
    const char *msg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "msg");
    const char *id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
    if (!msg || (strcmp(msg, "silenced") && strcmp(msg, "expired")))
        return NULL;
    bool ok = id && url_token_ok(id, strlen(id), HEX "-");
    snprintf(buf, size, "Silence %s%s.", ok ? id : "",
             !strcmp(msg, "silenced") ? " created" : " expired");
    return buf;
}

static enum MHD_Result index_page(struct lw_http_server *h, struct MHD_Connection *c)
{
    int code;
    char nonce[23], note[128];
    int64_t now = lw_now_ns();
    json_t *health = lw_http_health(h, &code);
    json_t *alerts = lw_http_alerts(h, NULL, 0, &code);
    json_t *rules = lw_http_rules(h, &code);
    json_t *silences = lw_http_silences(h, &code);
    json_t *rates = input_rates(health, now);
    new_nonce(nonce);
    struct lw_page p = {.alerts = alerts,
                        .rules = rules,
                        .health = health,
                        .silences = silences,
                        .rates = rates,
                        .notice = notice(c, note, sizeof note),
                        .ask_token = h->cfg->http_token && !lw_http_page_authorized(h, c),
                        .nonce = nonce,
                        .now_ns = now};
    struct lw_buf b = {0};
    lw_page_index(&b, &p);
    enum MHD_Result ret = reply_html(c, 200, &b, nonce);
    lw_buf_free(&b);
    json_decref(health);
    json_decref(alerts);
    json_decref(rules);
    json_decref(silences);
    json_decref(rates);
    return ret;
}

static enum MHD_Result alert_page(struct lw_http_server *h, struct MHD_Connection *c,
                                  const char *fp)
{
    int code = 0, hcode;
    char nonce[23], note[128];
    if (!url_token_ok(fp, strlen(fp), HEX))
        return reply_message(c, 404, "No such alert", "A fingerprint is hexadecimal.");
    json_t *x = lw_http_explain(h, fp, &code);
    if (code != 200 || !json_is_object(x)) {
        const char *e = json_string_value(json_object_get(x, "error"));
        enum MHD_Result ret =
            reply_message(c,
                          code == 404   ? 404
                          : code >= 400 ? (unsigned)code
                                        : 502,
                          code == 404 ? "No such alert" : "The explanation could not be read",
                          e ? e : "no answer");
        json_decref(x);
        return ret;
    }
    json_t *health = lw_http_health(h, &hcode);
    new_nonce(nonce);
    struct lw_page p = {.health = health,
                        .notice = notice(c, note, sizeof note),
                        .ask_token = h->cfg->http_token && !lw_http_page_authorized(h, c),
                        .nonce = nonce,
                        .now_ns = lw_now_ns()};
    struct lw_buf b = {0};
    lw_page_alert(&b, x, &p);
    enum MHD_Result ret = reply_html(c, 200, &b, nonce);
    lw_buf_free(&b);
    json_decref(health);
    json_decref(x);
    return ret;
}

/* ---------------------------------------------------------------- forms */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes one x-www-form-urlencoded component ('+' is a space, %XX a byte) into a new string;
 * a NUL byte (%00) makes it NULL: no field of ours can hold one. */
static char *form_decode(const char *s, size_t n)
{
    char *out = lw_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[k++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = 0;
    if (strlen(out) != k) {
        free(out);
        return NULL;
    }
    return out;
}

/* The fields of a form body; matchers may repeat, the others are the last one given. */
struct form {
    char **matchers;
    size_t nmatchers;
    char *duration, *comment, *token, *back;
    bool bad; /* a field that did not decode */
};

static void form_free(struct form *f)
{
    for (size_t i = 0; i < f->nmatchers; i++)
        free(f->matchers[i]);
    free(f->matchers);
    free(f->duration);
    free(f->comment);
    if (f->token)
        memset(f->token, 0, strlen(f->token));
    free(f->token);
    free(f->back);
}

static void form_parse(struct form *f, const char *p, size_t n)
{
    *f = (struct form){0};
    f->matchers = lw_calloc(n / 2 + 2, sizeof *f->matchers); /* a field is at least "m=" */
    for (size_t i = 0; i < n;) {
        const char *amp = memchr(p + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - p) : n;
        const char *eq = memchr(p + i, '=', end - i);
        if (eq) {
            char *k = form_decode(p + i, (size_t)(eq - p - (ptrdiff_t)i));
            char *v = form_decode(eq + 1, (size_t)(p + end - eq - 1));
            char **slot = NULL;
            if (!k || !v)
                f->bad = true;
            else if (!strcmp(k, "matcher"))
                f->matchers[f->nmatchers++] = v, v = NULL;
            else if (!strcmp(k, "duration"))
                slot = &f->duration;
            else if (!strcmp(k, "comment"))
                slot = &f->comment;
            else if (!strcmp(k, "token"))
                slot = &f->token;
            else if (!strcmp(k, "back"))
                slot = &f->back;
            if (slot) {
                free(*slot);
                *slot = v;
                v = NULL;
            }
            free(k);
            free(v);
        }
        i = end + 1;
    }
}

/* Where a form's answer goes: "/" or "/alerts/{fp}", nothing else (no open redirect). */
static const char *form_back(const struct form *f)
{
    const char *b = f->back;
    if (b && !strncmp(b, "/alerts/", 8) && url_token_ok(b + 8, strlen(b + 8), HEX))
        return b;
    return "/";
}

static bool form_authorized(struct lw_http_server *h, struct MHD_Connection *c,
                            const struct form *f)
{
    return lw_http_page_authorized(h, c) || (f->token && lw_http_token_ok(h, f->token));
}

static enum MHD_Result post_silence(struct lw_http_server *h, struct MHD_Connection *c,
                                    const char *url, const struct form *f)
{
    struct lw_err err = {0};
    int64_t dur = 3600 * LW_NS_PER_SEC;
    const char *limit = NULL;
    char id[37], loc[160];
    if (f->duration && (lw_parse_duration(f->duration, strlen(f->duration), &dur) < 0 || dur <= 0))
        return reply_message(c, 400, "The silence was not created",
                             "Bad duration: write it as 30m, 2h or 1d.");
    if (!f->nmatchers)
        return reply_message(c, 400, "The silence was not created",
                             "Tick at least one label for the silence to match.");
    pthread_mutex_lock(&h->mu);
    int rc = lw_silence_create(h->st, f->matchers, f->nmatchers, dur, f->comment ? f->comment : "",
                               "dashboard", id, &limit, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0) {
        if (limit)
            lw_http_refused(h, R_LIMIT, "POST", url, err.msg);
        return reply_message(c, rc == LW_EINVAL || limit ? 400 : 500, "The silence was not created",
                             err.msg);
    }
    lw_log(LW_INFO, "[http] silence %s created from the dashboard (%zu matchers)", id,
           f->nmatchers);
    snprintf(loc, sizeof loc, "%s?msg=silenced&id=%s", form_back(f), id);
    return redirect(c, loc);
}

static enum MHD_Result post_expire(struct lw_http_server *h, struct MHD_Connection *c,
                                   const char *id, size_t n, const struct form *f)
{
    struct lw_err err = {0};
    char sid[65], loc[160];
    if (!url_token_ok(id, n, HEX "-"))
        return reply_message(c, 404, "No such silence", "A silence id is hexadecimal.");
    memcpy(sid, id, n);
    sid[n] = 0;
    pthread_mutex_lock(&h->mu);
    int rc = lw_store_silence_expire(h->st, sid, lw_now_ns(), &err);
    pthread_mutex_unlock(&h->mu);
    if (rc == LW_ENOENT)
        return reply_message(c, 404, "No such silence", err.msg);
    if (rc < 0)
        return reply_message(c, 500, "The silence was not expired", err.msg);
    lw_log(LW_INFO, "[http] silence %s expired from the dashboard", sid);
    snprintf(loc, sizeof loc, "%s?msg=expired&id=%s", form_back(f), sid);
    return redirect(c, loc);
}

static enum MHD_Result post_form(struct lw_http_server *h, struct MHD_Connection *c,
                                 const char *url, struct lw_http_req *rq)
{
    struct form f;
    enum MHD_Result ret;
    form_parse(&f, rq->body.p ? rq->body.p : "", rq->body.len);
    if (!form_authorized(h, c, &f)) {
        /* A wrong token typed in the form is the reader's to fix on the page (403); without
         * one, the 401's challenge lets the browser send its Basic credentials. */
        lw_http_refused(h, R_AUTH, "POST", url,
                        f.token ? "wrong token" : "a form post without the token");
        ret = f.token ? reply_message(c, 403, "Not allowed", "Wrong token.")
                      : reply_message(c, 401, "Not allowed", "This needs the token (http.token).");
    } else if (f.bad) {
        ret = reply_message(c, 400, "Bad form", "A field of the form did not decode.");
    } else if (!strcmp(url, "/silences")) {
        ret = post_silence(h, c, url, &f);
    } else {
        const char *id = url + strlen("/silences/"), *slash = strchr(id, '/');
        if (slash && !strcmp(slash, "/expire"))
            ret = post_expire(h, c, id, (size_t)(slash - id), &f);
        else
            ret = reply_message(c, 404, "Not found", "POST /silences or /silences/ID/expire.");
    }
    form_free(&f);
    return ret;
}

bool lw_dashboard_route(struct lw_http_server *h, struct MHD_Connection *c, const char *url,
                        const char *method, struct lw_http_req *rq, enum MHD_Result *ret)
{
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (get && !strcmp(url, "/"))
        *ret = index_page(h, c);
    else if (get && !strncmp(url, "/alerts/", 8))
        *ret = alert_page(h, c, url + 8);
    else if (!strcmp(method, "POST") &&
             (!strcmp(url, "/silences") || !strncmp(url, "/silences/", 10)))
        *ret = post_form(h, c, url, rq);
    else
        return false;
    return true;
}
