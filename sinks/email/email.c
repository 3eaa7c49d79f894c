/* email.c: the email sink: one MIME multipart/alternative mail (text/plain and text/html, UTF-8)
 * per notification, listing its alerts, sent with libcurl's SMTP (STARTTLS, AUTH). */
#include "sink_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EMAIL_SUBJECT_MAX 200 /* characters, before encoding */

/* TLS: smtps:// is TLS from the start; smtp:// upgrades with STARTTLS as `starttls` says. */
struct email {
    /* The options (email_opts). */
    char *url;                 /* smtp:// or smtps://, ${ENV} expanded */
    char *from;                /* the From header as configured: "addr" or "Name <addr>" */
    struct lw_opt_list to;     /* as configured */
    char *username, *password; /* optional; the password is a secret */
    int starttls;              /* enum starttls */
    int64_t timeout_ns;
    /* Derived by email_init. */
    long use_ssl;               /* CURLUSESSL_* */
    char *mail_from;            /* "<addr>" for MAIL FROM */
    struct curl_slist *rcpt;    /* "<addr>" each, for RCPT TO */
    char *to_header;            /* "a, b" */
    struct lw_http_client http; /* the handle (SMTP here), its lock and timeout */
};

enum starttls { STARTTLS_REQUIRE, STARTTLS_TRY, STARTTLS_NEVER }; /* 0: the default */

/* starttls: true (require it: credentials and alerts never go in clear), try (use it when the
 * server offers it), false (never). */
static int parse_starttls(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                          const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                          struct lw_diag *diag)
{
    int *starttls = field;
    bool on = true;
    if (n->type == LW_YAML_SCALAR && strcmp(n->str, "try") == 0) {
        *starttls = STARTTLS_TRY;
        return 0;
    }
    if (lw_yaml_bool(doc, n, &on, diag) != 0)
        return LW_EINVAL;
    *starttls = on ? STARTTLS_REQUIRE : STARTTLS_NEVER;
    return 0;
}

static const struct lw_opt email_opts[] = {
    {.key = "smtp",
     .type = LW_OPT_URL,
     .off = offsetof(struct email, url),
     .flags = LW_OPT_REQUIRED,
     .arg = "smtp,smtps",
     .check = lw_sink_opt_url,
     .help = "the mail server: smtp://host:587 (STARTTLS) or smtps://host:465"},
    {.key = "from",
     .type = LW_OPT_STRING,
     .off = offsetof(struct email, from),
     .flags = LW_OPT_REQUIRED | LW_OPT_NOENV,
     .help = "the sender: addr or \"Name <addr>\""},
    {.key = "to",
     .type = LW_OPT_LIST,
     .off = offsetof(struct email, to),
     .flags = LW_OPT_REQUIRED | LW_OPT_NOENV,
     .help = "the recipients: one address or a list"},
    {.key = "username",
     .type = LW_OPT_STRING,
     .off = offsetof(struct email, username),
     .help = "for SMTP AUTH"},
    {.key = "password",
     .type = LW_OPT_SECRET,
     .off = offsetof(struct email, password),
     .help = "for SMTP AUTH"},
    {.key = "starttls",
     .type = LW_OPT_BOOL,
     .type_name = "bool|try",
     .def = "true",
     .off = offsetof(struct email, starttls),
     .parse = parse_starttls,
     .help = "smtp://: true requires STARTTLS, try uses it when offered, false never"},
    {.key = "timeout",
     .type = LW_OPT_DURATION,
     .def = LW_SINK_TIMEOUT_DEF,
     .off = offsetof(struct email, timeout_ns),
     .min = LW_NS_PER_MS,
     .help = "limit of each delivery, connecting included (at least 1ms)"},
    {.type = LW_OPT_END},
};

/* ---------------------------------------------------------------- MIME pieces */

static void base64(struct lw_buf *b, const unsigned char *p, size_t n, bool wrap)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        lw_buf_append(b, q, 4);
        col += 4;
        if (wrap && col >= 76) {
            lw_buf_puts(b, "\r\n");
            col = 0;
        }
    }
    if (wrap && col > 0)
        lw_buf_puts(b, "\r\n");
}

/* A header value: as is when printable ASCII, else RFC 2047 encoded words (UTF-8, B), each at
 * most 75 characters and never splitting a character, folded onto continuation lines. */
static void header_value(struct lw_buf *b, const char *s)
{
    size_t n = strlen(s);
    bool plain = true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] > '~')
            plain = false;
    if (plain && strstr(s, "=?") == NULL) {
        lw_buf_append(b, s, n);
        return;
    }
    size_t i = 0;
    while (i < n) {
        /* 45 bytes make 60 base64 characters: "=?UTF-8?B?" + 60 + "?=" = 72. */
        size_t k, bytes = 0, j = i;
        while (j < n) {
            size_t one = lw_utf8_prefix(s + j, n - j, 1, false);
            if (one == 0 || bytes + one > 45)
                break;
            bytes += one;
            j += one;
        }
        k = bytes ? bytes : 1;
        if (i > 0)
            lw_buf_puts(b, "\r\n ");
        lw_buf_puts(b, "=?UTF-8?B?");
        base64(b, (const unsigned char *)s + i, k, false);
        lw_buf_puts(b, "?=");
        i += k;
    }
}

/* "Sun, 10 Mar 2024 06:55:46 +0000", without the locale strftime would use. */
static void rfc5322_date(int64_t ns, char *out, size_t size)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ns / LW_NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Text from logs in a header: no line breaks (they would inject headers). */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n' || *s == '\t')
            *s = ' ';
}

static void subject(json_t *alerts, struct lw_buf *out)
{
    size_t firing = 0, resolved = 0, n = json_array_size(alerts), i;
    json_t *a;
    struct lw_buf s = {0}, title = {0};
    json_array_foreach(alerts, i, a)
    {
        if (lw_alert_resolved(a))
            resolved++;
        else
            firing++;
    }
    if (n <= 1)
        lw_buf_puts(&s, resolved ? "[RESOLVED] " : "[FIRING] ");
    else if (!resolved)
        lw_buf_printf(&s, "[FIRING:%zu] ", firing);
    else if (!firing)
        lw_buf_printf(&s, "[RESOLVED:%zu] ", resolved);
    else
        lw_buf_printf(&s, "[FIRING:%zu, RESOLVED:%zu] ", firing, resolved);
    if (n > 0)
        lw_alert_title(json_array_get(alerts, 0), &title);
    else
        lw_buf_puts(&title, "no alerts");
    lw_buf_puts(&s, title.p);
    if (n > 1)
        lw_buf_printf(&s, " (+%zu more)", n - 1);
    one_line(s.p);
    lw_buf_trunc(out, s.p, EMAIL_SUBJECT_MAX);
    lw_buf_free(&s);
    lw_buf_free(&title);
}

static void html(struct lw_buf *b, const char *s)
{
    lw_buf_html_trunc(b, s, (size_t)-1, false);
}

static void bodies(json_t *alerts, struct lw_buf *text, struct lw_buf *page)
{
    size_t i;
    json_t *a, *v;
    const char *key;
    char value[64];

    lw_buf_puts(page, "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head>"
                      "<body style=\"font-family:sans-serif\">\r\n");
    json_array_foreach(alerts, i, a)
    {
        bool resolved = lw_alert_resolved(a);
        const char *tag = resolved ? "RESOLVED" : "FIRING";
        struct lw_buf title = {0};
        lw_alert_title(a, &title);
        lw_alert_value(a, value, sizeof value);

        lw_buf_printf(text, "%s[%s] %s\r\n%s\r\n\r\n", i ? "\r\n" : "", tag, title.p,
                      lw_alert_summary(a));
        lw_buf_printf(page,
                      "<div style=\"border-left:6px solid %s;padding:4px 12px;margin:12px 0\">\r\n"
                      "<h2 style=\"margin:4px 0\">[%s] ",
                      lw_alert_color(a), tag);
        html(page, title.p);
        lw_buf_puts(page, "</h2>\r\n<p>");
        html(page, lw_alert_summary(a));
        lw_buf_puts(page, "</p>\r\n<table>\r\n");
        if (*value) {
            lw_buf_printf(text, "  value: %s\r\n", value);
            lw_buf_puts(page, "<tr><th align=\"left\">value</th><td>");
            html(page, value);
            lw_buf_puts(page, "</td></tr>\r\n");
        }
        json_object_foreach(json_object_get(a, "labels"), key, v)
        {
            if (!json_is_string(v))
                continue;
            lw_buf_printf(text, "  %s: %s\r\n", key, json_string_value(v));
            lw_buf_puts(page, "<tr><th align=\"left\">");
            html(page, key);
            lw_buf_puts(page, "</th><td>");
            html(page, json_string_value(v));
            lw_buf_puts(page, "</td></tr>\r\n");
        }
        const char *times[][2] = {{"started", "starts_at"},
                                  {"ended", "ends_at"},
                                  {"window", "window"},
                                  {"fingerprint", "fingerprint"}};
        for (size_t t = 0; t < 4; t++) {
            const char *tv = lw_alert_str(a, times[t][1]);
            if (!*tv)
                continue;
            lw_buf_printf(text, "  %s: %s\r\n", times[t][0], tv);
            lw_buf_printf(page, "<tr><th align=\"left\">%s</th><td>", times[t][0]);
            html(page, tv);
            lw_buf_puts(page, "</td></tr>\r\n");
        }
        lw_buf_puts(page, "</table>\r\n</div>\r\n");
        lw_buf_free(&title);
    }
    lw_buf_puts(text, "\r\n-- \r\nlogwarden\r\n");
    lw_buf_puts(page, "<p style=\"color:#888\">logwarden</p>\r\n</body></html>\r\n");
}

/* The whole message, CRLF line ends, every line well under 998 bytes (bodies are base64). */
static void message(const struct email *e, json_t *alerts, const char *json, size_t len,
                    struct lw_buf *m)
{
    struct lw_buf subj = {0}, text = {0}, page = {0};
    char date[64], boundary[64], msgid[128];
    int64_t now = lw_now_ns();
    uint64_t h = lw_hash64(json, len, LW_HASH_SEED);
    const char *at = strrchr(e->mail_from, '@');
    char domain[100] = "logwarden";
    if (at) {
        snprintf(domain, sizeof domain, "%s", at + 1);
        domain[strcspn(domain, ">")] = 0;
    }

    subject(alerts, &subj);
    bodies(alerts, &text, &page);
    rfc5322_date(now, date, sizeof date);
    /* "=_" never occurs in base64 text, so the boundary cannot occur in a part. */
    snprintf(boundary, sizeof boundary, "=_lw_%016llx", (unsigned long long)h);
    snprintf(msgid, sizeof msgid, "<%016llx.%lld@%s>", (unsigned long long)h, (long long)now,
             domain);

    lw_buf_printf(m, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: ", date, e->from, e->to_header);
    header_value(m, subj.p);
    lw_buf_printf(m,
                  "\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
                  "Auto-Submitted: auto-generated\r\nX-Mailer: logwarden/" LW_VERSION "\r\n\r\n"
                  "This is a multi-part message in MIME format.\r\n\r\n",
                  msgid, boundary);
    lw_buf_printf(m,
                  "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  boundary);
    base64(m, (const unsigned char *)text.p, text.len, true);
    lw_buf_printf(m,
                  "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  boundary);
    base64(m, (const unsigned char *)page.p, page.len, true);
    lw_buf_printf(m, "--%s--\r\n", boundary);
    lw_buf_free(&subj);
    lw_buf_free(&text);
    lw_buf_free(&page);
}

static int email_render(struct lw_sink *s, const char *alerts_json, size_t len,
                        struct lw_sink_msgs *out, struct lw_err *err)
{
    struct email *e = s->ctx;
    json_t *alerts;
    struct lw_buf m = {0};
    int rc = lw_sink_alerts_parse(s->name, alerts_json, len, &alerts, err);
    if (rc < 0)
        return rc;
    message(e, alerts, alerts_json, len, &m);
    lw_sink_msgs_add(out, e->url, m.p, m.len);
    lw_buf_free(&m);
    json_decref(alerts);
    return 0;
}

/* ---------------------------------------------------------------- SMTP */

struct upload {
    const char *p;
    size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct upload *u = userdata;
    size_t room = size * nitems, left = u->len - u->off;
    size_t k = left < room ? left : room;
    memcpy(buf, u->p + u->off, k);
    u->off += k;
    return k;
}

static size_t on_discard(char *p, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

static int email_deliver(struct lw_sink *s, const char *alerts_json, size_t len,
                         int64_t *retry_after_ns, struct lw_err *err)
{
    struct email *e = s->ctx;
    struct lw_sink_msgs msgs = {0};
    int rc = email_render(s, alerts_json, len, &msgs, err);
    if (rc < 0)
        goto out_free;

    pthread_mutex_lock(&e->http.lock);
    if (!e->http.curl) {
        e->http.curl = curl_easy_init();
        if (!e->http.curl) {
            rc = lw_err_set(err, LW_EAGAIN, "sink %s: curl_easy_init failed", s->name);
            goto out_unlock;
        }
    } else {
        curl_easy_reset(e->http.curl);
    }
    CURL *c = e->http.curl;
    struct upload up = {msgs.v[0].body, msgs.v[0].len, 0};
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, e->use_ssl);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, e->mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, e->rcpt);
    if (e->username)
        curl_easy_setopt(c, CURLOPT_USERNAME, e->username);
    if (e->password)
        curl_easy_setopt(c, CURLOPT_PASSWORD, e->password);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_discard);
    lw_http_set_timeouts(&e->http, c);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* TLS verification is libcurl's default and stays on. */

    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK) {
        rc = LW_OK;
        goto out_unlock;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    /* 5xx replies (unknown mailbox, message refused) and refused credentials will not change
     * by retrying; 4xx replies and the network might. */
    /* What a retry cannot fix: a refusal, bad credentials, a bad URL, or a server that does
     * not offer the STARTTLS the config requires (retrying would only delay the error). */
    bool permanent = (code >= 500 && code <= 599) || cc == CURLE_LOGIN_DENIED ||
                     cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ||
                     cc == CURLE_USE_SSL_FAILED;
    if (code > 0)
        rc = lw_err_set(err, permanent ? LW_EINVAL : LW_EAGAIN, "sink %s: %s (SMTP %ld)", s->name,
                        curl_easy_strerror(cc), code);
    else
        rc = lw_err_set(err, permanent ? LW_EINVAL : LW_EAGAIN, "sink %s: %s", s->name,
                        curl_easy_strerror(cc));

out_unlock:
    pthread_mutex_unlock(&e->http.lock);
out_free:
    lw_sink_msgs_free(&msgs);
    return rc;
}

/* ---------------------------------------------------------------- config */

/* Checks an address as configured ("a@b" or "Name <a@b>") and gives "<a@b>" for the envelope. */
static int address(const struct lw_yaml_doc *doc, const struct lw_yaml_node *n, const char *sink,
                   const char *what, const char *s, char **envelope, struct lw_diag *diag)
{
    const char *lt = strchr(s, '<'), *a = s, *z = s + strlen(s);
    if (lt) {
        a = lt + 1;
        z = strchr(a, '>');
        if (!z) {
            lw_yaml_error(doc, n, diag, "sink '%s': %s: '<' without '>'", sink, what);
            return LW_EINVAL;
        }
    }
    while (a < z && *a == ' ')
        a++;
    while (z > a && z[-1] == ' ')
        z--;
    bool ok = z > a && memchr(a, '@', (size_t)(z - a)) != NULL;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 127)
            ok = false;
    for (const char *p = a; p < z; p++)
        if (*p == ' ' || *p == '<' || *p == '>' || *p == ',')
            ok = false;
    if (!ok) {
        lw_yaml_error(doc, n, diag, "sink '%s': %s: '%s' is not an email address", sink, what, s);
        return LW_EINVAL;
    }
    struct lw_buf b = {0};
    lw_buf_putc(&b, '<');
    lw_buf_append(&b, a, (size_t)(z - a));
    lw_buf_putc(&b, '>');
    *envelope = lw_buf_steal(&b);
    return 0;
}

static int email_init(struct lw_sink *s, const struct lw_yaml_doc *doc,
                      const struct lw_yaml_node *map, struct lw_diag *diag)
{
    struct email *e = s->conf;
    const struct lw_yaml_node *to = lw_yaml_get(map, "to");
    struct lw_buf hdr = {0};
    int rc = 0;

    s->ctx = e;
    lw_http_init(&e->http, e->timeout_ns ? e->timeout_ns : LW_SINK_TIMEOUT_NS);
    e->http.stop_at = &s->stop_at_ns;

    if (e->from &&
        address(doc, lw_yaml_get(map, "from"), s->name, "from", e->from, &e->mail_from, diag) != 0)
        rc = LW_EINVAL;
    for (size_t i = 0; i < e->to.n; i++) {
        char *env = NULL;
        if (address(doc, to, s->name, "to", e->to.v[i], &env, diag) != 0) {
            rc = LW_EINVAL;
            continue;
        }
        e->rcpt = curl_slist_append(e->rcpt, env);
        if (!e->rcpt)
            lw_oom(0);
        free(env);
        lw_buf_printf(&hdr, "%s%s", hdr.len ? ", " : "", e->to.v[i]);
    }
    e->to_header = hdr.p ? lw_buf_steal(&hdr) : lw_strdup("");

    e->use_ssl = e->starttls == STARTTLS_TRY     ? CURLUSESSL_TRY
                 : e->starttls == STARTTLS_NEVER ? CURLUSESSL_NONE
                                                 : CURLUSESSL_ALL;
    /* smtps:// is TLS from the start whatever starttls says. */
    if (e->url && strncasecmp(e->url, "smtps:", 6) == 0)
        e->use_ssl = CURLUSESSL_ALL;
    if (rc == 0 && e->password && e->use_ssl != CURLUSESSL_ALL)
        lw_log(LW_WARN,
               "[sink:%s] the SMTP password may be sent without TLS (starttls is not true)",
               s->name);
    return rc;
}

static void email_free(struct lw_sink *s)
{
    struct email *e = s->ctx;
    if (!e)
        return;
    lw_http_free(&e->http);
    free(e->mail_from);
    curl_slist_free_all(e->rcpt);
    free(e->to_header);
    s->ctx = NULL;
}

const struct lw_sink_ops lw_sink_email_ops = {
    .type = "email",
    .opts = email_opts,
    .conf_size = sizeof(struct email),
    .init = email_init,
    .deliver = email_deliver,
    .free = email_free,
    .render = email_render,
};
