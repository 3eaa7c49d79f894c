/* sink_http.h: internal to sinks/: the HTTP machinery the HTTP sinks share (one reused libcurl
 * handle per sink, POST, response capture, status classification), the options they share
 * (LW_HSINK_OPTS, the URL check), and what renderers use to read alert objects and keep within a
 * receiver's documented limits. */
#ifndef LW_SINK_HTTP_H
#define LW_SINK_HTTP_H

#include "sink.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#define LW_SINK_TIMEOUT_NS (10 * LW_NS_PER_SEC) /* the `timeout` key's default */
#define LW_SINK_TIMEOUT_DEF "10s"               /* the same, as the option table writes it */
#define LW_HTTP_BODY_KEEP 1024                  /* response bytes kept for classification */
#define LW_HTTP_BODY_SHOW 200                   /* of which an error message quotes this many */
#define LW_HTTP_RETRY_AFTER_MAX_S (24 * 3600)   /* a server asking for more is capped */

/* ---------------------------------------------------------------- HTTP */

/* The HTTP side of one sink. The handle is reused so keep-alive connections are too. */
struct lw_http_client {
    CURL *curl;           /* created at the first request; under lock */
    pthread_mutex_t lock; /* held for a whole delivery (several requests for some sinks) */
    int64_t timeout_ns;   /* per request: connect + transfer */
    const _Atomic int64_t *stop_at; /* the sink's stop_at_ns, or NULL */
};

/* What one request got back; filled by curl's callbacks on the calling thread. */
struct lw_http_resp {
    long status;
    char body[LW_HTTP_BODY_KEEP + 1]; /* the first bytes, NUL-terminated, made printable */
    size_t body_len;
    int64_t retry_after_s; /* from Retry-After (seconds or HTTP-date); -1: none */
};

void lw_http_init(struct lw_http_client *h, int64_t timeout_ns);
/* Sets c's timeouts from h, and aborts a request still running at the sink's stop deadline. */
void lw_http_set_timeouts(struct lw_http_client *h, CURL *c);
void lw_http_free(struct lw_http_client *h);

/* POSTs body to url with headers (borrowed). The caller holds h->lock. Returns LW_OK when a
 * response arrived (any status: see resp->status), else LW_EAGAIN for transport failures
 * (refused, timeout, TLS) or LW_EINVAL for a URL curl cannot use; err never quotes the URL. */
int lw_http_post(struct lw_http_client *h, const char *sink, const char *url,
                 const struct curl_slist *headers, const char *body, size_t len,
                 struct lw_http_resp *resp, struct lw_err *err);

/* The usual reading of a status: 2xx LW_OK; 408, 425, 429 and 5xx LW_EAGAIN (with
 * *retry_after_ns from Retry-After when given); anything else LW_EINVAL with the body. */
int lw_http_classify(const char *sink, const struct lw_http_resp *r, int64_t *retry_after_ns,
                     struct lw_err *err);

/* ---------------------------------------------------------------- HTTP sinks */

/* The options every HTTP sink has. Its settings struct (lw_sink_ops.conf_size) starts with one,
 * named http, and its table starts with LW_HSINK_OPTS. */
struct lw_hsink_conf {
    char *url; /* ${ENV} expanded; may hold a secret: never logged */
    int64_t timeout_ns;
};

/* The check of a URL row: it parses and has one of the schemes o->arg lists ("http,https");
 * its secret parts are registered for redaction. Messages never quote the URL. */
lw_opt_parse_fn lw_sink_opt_url;

/* The common block of an HTTP sink's table: `url` (the default, or LW_OPT_REQUIRED in flags when
 * there is none) and `timeout`. T is the sink's settings struct. */
#define LW_HSINK_OPTS(T, url_def, url_flags, url_help)                                             \
    {.key = "url",                                                                                 \
     .type = LW_OPT_URL,                                                                           \
     .def = (url_def),                                                                             \
     .off = offsetof(T, http.url),                                                                 \
     .help = (url_help),                                                                           \
     .flags = (url_flags),                                                                         \
     .arg = "http,https",                                                                          \
     .check = lw_sink_opt_url},                                                                    \
    {                                                                                              \
        .key = "timeout", .type = LW_OPT_DURATION, .def = LW_SINK_TIMEOUT_DEF,                     \
        .off = offsetof(T, http.timeout_ns),                                                       \
        .help = "limit of each request, connecting included (at least 1ms)", .min = LW_NS_PER_MS   \
    }

/* An HTTP sink is a renderer (alerts -> requests) over shared delivery. */
struct lw_hsink_def {
    bool own_content_type; /* the sink adds Content-Type itself (else: application/json) */
    /* Appends the requests for a notification to out: alerts is the parsed and checked array,
     * json[0..len) its text as given. */
    int (*render)(const struct lw_sink *s, json_t *alerts, const char *json, size_t len,
                  struct lw_sink_msgs *out, struct lw_err *err);
    /* NULL: lw_http_classify. */
    int (*classify)(const struct lw_sink *s, const struct lw_http_resp *r, int64_t *retry_after_ns,
                    struct lw_err *err);
    /* Frees what init derived into priv (not the options: the registry frees those). */
    void (*free_priv)(void *priv);
};

struct lw_hsink {
    const struct lw_hsink_def *def;
    const char *url;            /* the settings' url (borrowed): may hold a secret */
    struct curl_slist *headers; /* Content-Type, Expect, then the sink's own */
    struct lw_http_client http;
    /* A notification of several requests that failed half way: the next attempt at the same
     * notification starts where it stopped, so receivers see each request once. Under lock. */
    uint64_t resume_hash;
    size_t resume_done;
    void *priv; /* the sink's settings (s->conf, borrowed): struct lw_hsink_conf first */
};

/* Creates s->ctx as an lw_hsink over the settings in s->conf (url and timeout read by the
 * table's LW_HSINK_OPTS). Returns 0 (s->ctx is set, for lw_hsink_free). */
int lw_hsink_init(struct lw_sink *s, const struct lw_hsink_def *def);
/* Adds a request header line ("Name: value"); it may hold a secret. */
void lw_hsink_header(struct lw_hsink *h, const char *line);
int lw_hsink_deliver(struct lw_sink *s, const char *alerts_json, size_t len,
                     int64_t *retry_after_ns, struct lw_err *err);
int lw_hsink_render(struct lw_sink *s, const char *alerts_json, size_t len,
                    struct lw_sink_msgs *out, struct lw_err *err);
void lw_hsink_free(struct lw_sink *s);

static inline void *lw_hsink_priv(const struct lw_sink *s)
{
    return ((struct lw_hsink *)s->ctx)->priv;
}

/* ---------------------------------------------------------------- config helpers */

/* Overwrites and frees a string that may hold a secret. */
void lw_sink_free_secret(char *s);

/* ---------------------------------------------------------------- reading alerts */

/* Parses and checks a notification: a JSON array of objects. *out is the caller's. */
int lw_sink_alerts_parse(const char *sink, const char *json, size_t len, json_t **out,
                         struct lw_err *err);

/* Severity, as the receivers' levels are mapped from it (labels.severity, case-insensitive). */
enum lw_sev {
    LW_SEV_UNKNOWN, /* missing or not one of the below */
    LW_SEV_CRITICAL,
    LW_SEV_HIGH,   /* high, error */
    LW_SEV_MEDIUM, /* medium, warning */
    LW_SEV_LOW,
    LW_SEV_INFO,
};
enum lw_sev lw_alert_sev(json_t *a);
/* The alert's colour as "#RRGGBB": by severity, green once resolved. */
const char *lw_alert_color(json_t *a);
/* A string member of the alert ("" when missing or not a string). */
const char *lw_alert_str(json_t *a, const char *key);
/* A label's value, NULL when absent. */
const char *lw_alert_label(json_t *a, const char *name);
bool lw_alert_resolved(json_t *a);
/* annotations.summary, else the alert's name. */
const char *lw_alert_summary(json_t *a);
/* The value as text ("" when null or missing): integers as such, reals with %.15g. */
void lw_alert_value(json_t *a, char *out, size_t size);
/* "Name k=v k=v": the alert name and its labels other than alert and severity. */
void lw_alert_title(json_t *a, struct lw_buf *b);

/* ---------------------------------------------------------------- limits */

/* Bytes of the longest prefix of s[0..len) holding at most max characters (code points, or
 * UTF-16 code units with utf16), never splitting a character. */
size_t lw_utf8_prefix(const char *s, size_t len, size_t max, bool utf16);
/* Characters (code points, or UTF-16 code units) in s[0..len). */
size_t lw_utf8_count(const char *s, size_t len, bool utf16);
/* Appends s cut to at most max characters, the cut marked with "…" (counted in max). */
void lw_buf_trunc(struct lw_buf *b, const char *s, size_t max);
/* Appends s with &, < and > as HTML entities, cut (never inside an entity) so the appended text
 * is at most max characters with the "…" that marks a cut. Returns the characters appended. */
size_t lw_buf_html_trunc(struct lw_buf *b, const char *s, size_t max, bool utf16);
/* A JSON string of s cut as lw_buf_trunc does. Never NULL. */
json_t *lw_json_trunc(const char *s, size_t max);
/* json_string that never returns NULL (invalid UTF-8 becomes ""). */
json_t *lw_json_str(const char *s);
/* Compact JSON text of v; the caller frees it. */
char *lw_json_text(const json_t *v, size_t *len);

#endif
