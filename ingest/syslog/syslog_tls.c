/* syslog_tls.c: TLS listeners for the syslog input (RFC 5425) with OpenSSL, driven by the I/O
 * loop through memory BIOs: libuv reads ciphertext, which is written to the session's read BIO;
 * SSL_read hands plaintext to the connection's framing parser; what OpenSSL writes to the write
 * BIO (handshake records, alerts) goes out with uv_write. OpenSSL never touches the socket, so
 * the connection stays an ordinary libuv stream (limits, timeouts, backpressure unchanged).
 *
 * libssl is opened with dlopen() when a config has a `tls:` block (like libcurl, sinks/curl_dl.c):
 * a daemon without TLS listeners does not map it (e2e.footprint). */
#include "syslog_tls.h"

#include "ingest_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#ifndef LW_LIBSSL_SONAME
#define LW_LIBSSL_SONAME "libssl.so.3"
#endif

#define TLS_WARN_EVERY (10 * LW_NS_PER_SEC)
#define TLS_READ_CHUNK (16u * 1024) /* one TLS record's plaintext at most */
#define TLS_REC_HANDSHAKE 0x16      /* the content type a ClientHello's record starts with */

/* ---------------------------------------------------------------- libssl, bound at run time */

static struct {
    const SSL_METHOD *(*TLS_server_method)(void);
    SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *meth);
    void (*SSL_CTX_free)(SSL_CTX *ctx);
    long (*SSL_CTX_ctrl)(SSL_CTX *ctx, int cmd, long larg, void *parg);
    uint64_t (*SSL_CTX_set_options)(SSL_CTX *ctx, uint64_t op);
    int (*SSL_CTX_set_num_tickets)(SSL_CTX *ctx, size_t num_tickets);
    void (*SSL_CTX_set_default_passwd_cb)(SSL_CTX *ctx, pem_password_cb *cb);
    int (*SSL_CTX_use_certificate_chain_file)(SSL_CTX *ctx, const char *file);
    int (*SSL_CTX_use_PrivateKey_file)(SSL_CTX *ctx, const char *file, int type);
    int (*SSL_CTX_check_private_key)(const SSL_CTX *ctx);
    int (*SSL_CTX_load_verify_locations)(SSL_CTX *ctx, const char *file, const char *path);
    STACK_OF(X509_NAME) * (*SSL_load_client_CA_file)(const char *file);
    void (*SSL_CTX_set_client_CA_list)(SSL_CTX *ctx, STACK_OF(X509_NAME) * list);
    void (*SSL_CTX_set_verify)(SSL_CTX *ctx, int mode, SSL_verify_cb cb);
    SSL *(*SSL_new)(SSL_CTX *ctx);
    void (*SSL_free)(SSL *ssl);
    void (*SSL_set_bio)(SSL *s, BIO *rbio, BIO *wbio);
    void (*SSL_set_accept_state)(SSL *s);
    int (*SSL_do_handshake)(SSL *s);
    int (*SSL_is_init_finished)(const SSL *s);
    int (*SSL_read)(SSL *ssl, void *buf, int num);
    int (*SSL_get_error)(const SSL *s, int ret_code);
    long (*SSL_get_verify_result)(const SSL *ssl);
    const char *(*SSL_get_version)(const SSL *s);
    BIO *(*BIO_new)(const BIO_METHOD *type);
    const BIO_METHOD *(*BIO_s_mem)(void);
    int (*BIO_write)(BIO *b, const void *data, int dlen);
    int (*BIO_read)(BIO *b, void *data, int dlen);
    size_t (*BIO_ctrl_pending)(BIO *b);
    unsigned long (*ERR_get_error)(void);
    void (*ERR_clear_error)(void);
    void (*ERR_error_string_n)(unsigned long e, char *buf, size_t len);
    const char *(*ERR_reason_error_string)(unsigned long e);
    const char *(*X509_verify_cert_error_string)(long n);
} S;

static pthread_once_t ssl_once = PTHREAD_ONCE_INIT;
static bool ssl_loaded;
static struct lw_err ssl_err; /* why it could not be loaded; written once, in load */

static void load(void)
{
    // clang-format off
#define SYM(f) {#f, &S.f}
    // clang-format on
    static const struct lw_dl_sym syms[] = {
        SYM(TLS_server_method),
        SYM(SSL_CTX_new),
        SYM(SSL_CTX_free),
        SYM(SSL_CTX_ctrl),
        SYM(SSL_CTX_set_options),
        SYM(SSL_CTX_set_num_tickets),
        SYM(SSL_CTX_set_default_passwd_cb),
        SYM(SSL_CTX_use_certificate_chain_file),
        SYM(SSL_CTX_use_PrivateKey_file),
        SYM(SSL_CTX_check_private_key),
        SYM(SSL_CTX_load_verify_locations),
        SYM(SSL_load_client_CA_file),
        SYM(SSL_CTX_set_client_CA_list),
        SYM(SSL_CTX_set_verify),
        SYM(SSL_new),
        SYM(SSL_free),
        SYM(SSL_set_bio),
        SYM(SSL_set_accept_state),
        SYM(SSL_do_handshake),
        SYM(SSL_is_init_finished),
        SYM(SSL_read),
        SYM(SSL_get_error),
        SYM(SSL_get_verify_result),
        SYM(SSL_get_version),
        SYM(BIO_new),
        SYM(BIO_s_mem),
        SYM(BIO_write),
        SYM(BIO_read),
        SYM(BIO_ctrl_pending),
        SYM(ERR_get_error),
        SYM(ERR_clear_error),
        SYM(ERR_error_string_n),
        SYM(ERR_reason_error_string),
        SYM(X509_verify_cert_error_string),
    };
#undef SYM
    if (lw_dl_bind(LW_LIBSSL_SONAME, "[input] syslog TLS listeners", syms,
                   sizeof syms / sizeof *syms, &ssl_err) == 0)
        __atomic_store_n(&ssl_loaded, true, __ATOMIC_RELEASE);
}

static bool ssl_need(void)
{
    pthread_once(&ssl_once, load);
    return __atomic_load_n(&ssl_loaded, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------- settings and context */

enum client_auth { AUTH_NONE, AUTH_OPTIONAL, AUTH_REQUIRED };

/* Why a handshake failed: the `reason` label, and the words the log line uses. */
enum fail {
    F_EXPIRED,
    F_UNKNOWN_CA,
    F_BAD_CERT,
    F_NO_CERT,
    F_PROTOCOL,
    F_NOT_TLS,
    F_PEER_ALERT,
    F_CLOSED,
    F_TIMEOUT,
    F_OTHER,
    F_COUNT
};
static const char *const fail_names[F_COUNT] = {
    "expired", "unknown_ca", "bad_certificate", "no_certificate", "protocol_version",
    "not_tls", "peer_alert", "closed",          "timeout",        "other",
};

struct tls_settings {
    char *cert, *key, *ca; /* paths, resolved against the config's folder */
    char *client_auth;     /* none | optional | required */
    int64_t handshake_ns;
};

static const struct lw_opt tls_opts[] = {
    {.key = "cert",
     .type = LW_OPT_PATH,
     .flags = LW_OPT_REQUIRED,
     .off = offsetof(struct tls_settings, cert),
     .help = "the server's certificate (PEM), followed by its intermediates"},
    {.key = "key",
     .type = LW_OPT_PATH,
     .flags = LW_OPT_REQUIRED,
     .off = offsetof(struct tls_settings, key),
     .help = "the server's private key (PEM, unencrypted)"},
    {.key = "ca",
     .type = LW_OPT_PATH,
     .off = offsetof(struct tls_settings, ca),
     .help = "the CA certificates (PEM) client certificates are verified against"},
    {.key = "client_auth",
     .type = LW_OPT_STRING,
     .type_name = "none|optional|required",
     .def = "none",
     .off = offsetof(struct tls_settings, client_auth),
     .help = "ask clients for a certificate (optional), or refuse those without a valid one "
             "(required)"},
    {.key = "handshake_timeout",
     .type = LW_OPT_DURATION,
     .def = "10s",
     .min = LW_NS_PER_MS,
     .off = offsetof(struct tls_settings, handshake_ns),
     .help = "a connection that has not finished its TLS handshake by then is closed"},
    {.type = LW_OPT_END},
};

struct lw_stls {
    struct tls_settings set;
    enum client_auth auth;
    SSL_CTX *ctx; /* what new handshakes use; I/O thread (and config load, before the loop) */
    _Atomic uint64_t fails[F_COUNT];
    _Atomic uint64_t reloads_failed;
    _Atomic uint64_t session_errors; /* TLS errors after the handshake (connection closed) */
    struct lw_ratelimit rl[F_COUNT];
};

/* Never prompts for a passphrase on the terminal: an encrypted key is a config error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return 0;
}

/* The OpenSSL error queue's first entry as words (and the queue cleared). */
static void ssl_why(char *buf, size_t n)
{
    unsigned long e = S.ERR_get_error(), more;
    const char *r = e ? S.ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(buf, n, "%s", r);
    else if (e)
        S.ERR_error_string_n(e, buf, n);
    else
        snprintf(buf, n, "%s", strerror(errno ? errno : EINVAL));
    while ((more = S.ERR_get_error()) != 0)
        (void)more;
}

/* Builds the context from the files of set. On failure *which says which key (cert, key, ca) is
 * at fault and err why. */
static SSL_CTX *ctx_build(const struct tls_settings *set, enum client_auth auth, const char **which,
                          struct lw_err *err)
{
    char why[256];
    if (!ssl_need()) {
        *which = NULL;
        lw_err_set(err, LW_EIO, "%s", ssl_err.msg);
        return NULL;
    }
    S.ERR_clear_error();
    const char *files[3] = {set->cert, set->key, set->ca};
    const char *keys[3] = {"cert", "key", "ca"};
    for (int i = 0; i < 3; i++) {
        if (!files[i])
            continue;
        FILE *f = fopen(files[i], "r");
        if (!f) {
            *which = keys[i];
            lw_err_set(err, LW_EIO, "%s: %s", files[i], strerror(errno));
            return NULL;
        }
        fclose(f);
    }
    SSL_CTX *ctx = S.SSL_CTX_new(S.TLS_server_method());
    if (!ctx) {
        *which = NULL;
        ssl_why(why, sizeof why);
        lw_err_set(err, LW_EIO, "cannot create a TLS context: %s", why);
        return NULL;
    }
    /* TLS 1.2 at least; otherwise the library's defaults (ciphers, security level). */
    S.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
    S.SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    /* No session tickets: senders (rsyslog) never read from the connection, and bytes waiting
     * unread in their socket would hide our FIN from their connection check at a stop. */
    S.SSL_CTX_set_num_tickets(ctx, 0);
    S.SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (S.SSL_CTX_use_certificate_chain_file(ctx, set->cert) != 1) {
        *which = "cert";
        ssl_why(why, sizeof why);
        lw_err_set(err, LW_EIO, "%s: not a PEM certificate: %s", set->cert, why);
        goto out_free;
    }
    if (S.SSL_CTX_use_PrivateKey_file(ctx, set->key, SSL_FILETYPE_PEM) != 1) {
        *which = "key";
        ssl_why(why, sizeof why);
        lw_err_set(err, LW_EIO, "%s: %s", set->key,
                   strstr(why, "mismatch") ? "the key does not match the certificate" : why);
        goto out_free;
    }
    if (S.SSL_CTX_check_private_key(ctx) != 1) {
        *which = "key";
        S.ERR_clear_error();
        lw_err_set(err, LW_EIO, "%s: the key does not match the certificate %s", set->key,
                   set->cert);
        goto out_free;
    }
    if (set->ca) {
        /* The names are what the server's CertificateRequest lists, the store what verifies. */
        STACK_OF(X509_NAME) *names = NULL;
        if (S.SSL_CTX_load_verify_locations(ctx, set->ca, NULL) != 1 ||
            !(names = S.SSL_load_client_CA_file(set->ca))) {
            *which = "ca";
            ssl_why(why, sizeof why);
            lw_err_set(err, LW_EIO, "%s: no PEM CA certificate: %s", set->ca, why);
            goto out_free;
        }
        S.SSL_CTX_set_client_CA_list(ctx, names);
    }
    int mode = SSL_VERIFY_NONE;
    if (auth == AUTH_OPTIONAL)
        mode = SSL_VERIFY_PEER;
    else if (auth == AUTH_REQUIRED)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    S.SSL_CTX_set_verify(ctx, mode, NULL);
    return ctx;
out_free:
    S.SSL_CTX_free(ctx);
    return NULL;
}

static void stls_free(struct lw_stls *t)
{
    if (!t)
        return;
    if (t->ctx)
        S.SSL_CTX_free(t->ctx);
    lw_opts_free(tls_opts, &t->set);
    free(t);
}

void lw_syslog__tls_free_opt(const struct lw_opt *o, void *field)
{
    stls_free(*(struct lw_stls **)field);
    *(struct lw_stls **)field = NULL;
}

int lw_syslog__tls_parse(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                         const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                         struct lw_diag *diag)
{
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "%s: tls: expected a map {cert, key, ca, client_auth}",
                      c->prefix);
        return LW_EINVAL;
    }
    struct lw_stls *t = lw_calloc(1, sizeof *t);
    char what[160];
    snprintf(what, sizeof what, "%s: tls", c->prefix ? c->prefix : "input");
    struct lw_opt_ctx sub = {.dir = c->dir, .what = what, .prefix = what};
    int rc = lw_opts_apply(tls_opts, &t->set, doc, n, &sub, diag);
    if (t->set.client_auth) {
        if (strcmp(t->set.client_auth, "none") == 0) {
            t->auth = AUTH_NONE;
        } else if (strcmp(t->set.client_auth, "optional") == 0) {
            t->auth = AUTH_OPTIONAL;
        } else if (strcmp(t->set.client_auth, "required") == 0) {
            t->auth = AUTH_REQUIRED;
        } else {
            lw_yaml_error(doc, lw_yaml_get(n, "client_auth"), diag,
                          "%s: client_auth must be none, optional or required", what);
            rc = LW_EINVAL;
        }
    }
    if (rc == LW_OK && t->auth != AUTH_NONE && !t->set.ca) {
        lw_yaml_error(doc, lw_yaml_get(n, "client_auth"), diag,
                      "%s: client_auth: %s needs `ca`, the CA client certificates are checked "
                      "against",
                      what, t->set.client_auth);
        rc = LW_EINVAL;
    }
    if (rc == LW_OK) {
        struct lw_err err = {0};
        const char *which = NULL;
        t->ctx = ctx_build(&t->set, t->auth, &which, &err);
        if (!t->ctx) {
            const struct lw_yaml_node *at = which ? lw_yaml_get(n, which) : NULL;
            lw_yaml_error(doc, at ? at : n, diag, "%s: %s%s%s", what, which ? which : "",
                          which ? ": " : "", err.msg);
            rc = LW_EINVAL;
        }
    }
    if (rc != LW_OK) {
        stls_free(t);
        return rc;
    }
    *(struct lw_stls **)field = t;
    return LW_OK;
}

void lw_syslog__tls_reload(struct lw_stls *t, const char *input_name)
{
    struct lw_err err = {0};
    const char *which = NULL;
    SSL_CTX *ctx = ctx_build(&t->set, t->auth, &which, &err);
    if (!ctx) {
        atomic_fetch_add(&t->reloads_failed, 1);
        lw_log(LW_ERROR, "[input:%s] TLS reload failed, the old certificates stay in use: %s%s%s",
               input_name, which ? which : "", which ? ": " : "", err.msg);
        return;
    }
    /* Sessions in progress hold their own reference to the old context. */
    S.SSL_CTX_free(t->ctx);
    t->ctx = ctx;
    lw_log(LW_INFO, "[input:%s] TLS certificates reloaded from %s", input_name, t->set.cert);
}

uint64_t lw_syslog__tls_handshake_ms(const struct lw_stls *t)
{
    return (uint64_t)(t->set.handshake_ns / LW_NS_PER_MS);
}

void lw_syslog__tls_metrics(struct lw_stls *t, const char *input_name, struct lw_buf *out)
{
    for (int i = 0; i < F_COUNT; i++)
        lw_buf_printf(out,
                      "logwarden_syslog_tls_handshake_failures_total{input=\"%s\",reason=\"%s\"} "
                      "%llu\n",
                      input_name, fail_names[i], (unsigned long long)atomic_load(&t->fails[i]));
    lw_buf_printf(out, "logwarden_syslog_tls_reload_failures_total{input=\"%s\"} %llu\n",
                  input_name, (unsigned long long)atomic_load(&t->reloads_failed));
    lw_buf_printf(out, "logwarden_syslog_tls_session_errors_total{input=\"%s\"} %llu\n", input_name,
                  (unsigned long long)atomic_load(&t->session_errors));
}

/* ---------------------------------------------------------------- sessions */

struct lw_stls_conn {
    struct lw_stls *t;
    const char *name;
    uv_stream_t *s;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool ready;       /* handshake finished */
    bool failed;      /* counted once */
    bool seen;        /* a first byte arrived */
    unsigned char first;
    char peer[64];
};

struct wreq {
    uv_write_t req;
    char data[];
};

static void on_written(uv_write_t *req, int status)
{
    free(req->data);
}

/* Sends what OpenSSL wrote (handshake records, alerts). */
static void flush_out(struct lw_stls_conn *tc)
{
    size_t pending;
    while ((pending = S.BIO_ctrl_pending(tc->wbio)) > 0) {
        struct wreq *w = lw_malloc(sizeof *w + pending);
        int k = S.BIO_read(tc->wbio, w->data, (int)pending);
        if (k <= 0) {
            free(w);
            return;
        }
        w->req.data = w;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)k);
        if (uv_is_closing((uv_handle_t *)tc->s) || uv_write(&w->req, tc->s, &b, 1, on_written) != 0)
            free(w);
    }
}

static void fail(struct lw_stls_conn *tc, enum fail why, const char *words)
{
    if (tc->failed)
        return;
    tc->failed = true;
    atomic_fetch_add(&tc->t->fails[why], 1);
    if (lw_ingest__ratelimit(&tc->t->rl[why], TLS_WARN_EVERY))
        lw_log(LW_WARN, "[input:%s] TLS handshake with %s failed: %s", tc->name, tc->peer, words);
}

struct lw_stls_conn *lw_syslog__tls_conn_new(struct lw_stls *t, uv_stream_t *s, const char *name)
{
    struct lw_stls_conn *tc = lw_calloc(1, sizeof *tc);
    tc->t = t;
    tc->s = s;
    tc->name = name;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(tc->peer, sizeof tc->peer, "?");
    if (uv_tcp_getpeername((uv_tcp_t *)s, (struct sockaddr *)&ss, &len) == 0) {
        char ip[48] = "?";
        int port;
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
        snprintf(tc->peer, sizeof tc->peer, "%s:%d", ip, port);
    }
    tc->ssl = S.SSL_new(t->ctx);
    tc->rbio = S.BIO_new(S.BIO_s_mem());
    tc->wbio = S.BIO_new(S.BIO_s_mem());
    if (!tc->ssl || !tc->rbio || !tc->wbio)
        lw_oom(sizeof *tc);
    S.SSL_set_bio(tc->ssl, tc->rbio, tc->wbio);
    S.SSL_set_accept_state(tc->ssl);
    return tc;
}

/* The words and reason for a failed handshake, from OpenSSL's error queue. */
static void handshake_failed(struct lw_stls_conn *tc)
{
    unsigned long e = S.ERR_get_error(), more;
    while ((more = S.ERR_get_error()) != 0)
        (void)more;
    int r = ERR_GET_REASON(e);
    char words[256];
    if (tc->seen && tc->first != TLS_REC_HANDSHAKE) {
        fail(tc, F_NOT_TLS, "not TLS (plain text sent to a TLS port?)");
        return;
    }
    switch (r) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED: {
        long v = S.SSL_get_verify_result(tc->ssl);
        snprintf(words, sizeof words, "client certificate: %s", S.X509_verify_cert_error_string(v));
        if (v == X509_V_ERR_CERT_HAS_EXPIRED)
            fail(tc, F_EXPIRED, words);
        else if (v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                 v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                 v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                 v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
            fail(tc, F_UNKNOWN_CA, words);
        else
            fail(tc, F_BAD_CERT, words);
        return;
    }
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        fail(tc, F_NO_CERT, "peer did not return a certificate (client_auth: required)");
        return;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_WRONG_SSL_VERSION:
        fail(tc, F_PROTOCOL, "protocol version too old (TLS 1.2 is the minimum)");
        return;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
        fail(tc, F_NOT_TLS, "not TLS (plain text sent to a TLS port?)");
        return;
    default:
        break;
    }
    const char *rs = e ? S.ERR_reason_error_string(e) : NULL;
    if (rs && strstr(rs, "alert")) {
        snprintf(words, sizeof words, "the client sent an alert: %s", rs);
        fail(tc, F_PEER_ALERT, words);
        return;
    }
    snprintf(words, sizeof words, "%s", rs ? rs : "TLS error");
    fail(tc, F_OTHER, words);
}

int lw_syslog__tls_conn_feed(struct lw_stls_conn *tc, const char *p, size_t n, lw_stls_plain_fn *fn,
                             void *payload)
{
    if (!tc->seen && n) {
        tc->seen = true;
        tc->first = (unsigned char)p[0];
    }
    /* A memory BIO takes everything written to it. */
    if (n && S.BIO_write(tc->rbio, p, (int)n) != (int)n)
        lw_oom(n);
    int rc = 0;
    if (!tc->ready) {
        int r = S.SSL_do_handshake(tc->ssl);
        if (r != 1) {
            int e = S.SSL_get_error(tc->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                flush_out(tc);
                return 0;
            }
            handshake_failed(tc);
            flush_out(tc); /* the alert tells the client why */
            return -1;
        }
        tc->ready = true;
        lw_log(LW_DEBUG, "[input:%s] TLS connection from %s (%s)", tc->name, tc->peer,
               S.SSL_get_version(tc->ssl));
    }
    char buf[TLS_READ_CHUNK];
    for (;;) {
        int k = S.SSL_read(tc->ssl, buf, sizeof buf);
        if (k > 0) {
            fn(buf, (size_t)k, payload);
            continue;
        }
        int e = S.SSL_get_error(tc->ssl, k);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            rc = 1;
            break;
        }
        char why[200];
        ssl_why(why, sizeof why);
        atomic_fetch_add(&tc->t->session_errors, 1);
        if (lw_ingest__ratelimit(&tc->t->rl[F_OTHER], TLS_WARN_EVERY))
            lw_log(LW_WARN, "[input:%s] TLS error from %s, closing: %s", tc->name, tc->peer, why);
        rc = -1;
        break;
    }
    flush_out(tc);
    return rc;
}

void lw_syslog__tls_conn_eof(struct lw_stls_conn *tc)
{
    if (!tc->ready)
        fail(tc, tc->seen && tc->first != TLS_REC_HANDSHAKE ? F_NOT_TLS : F_CLOSED,
             tc->seen && tc->first != TLS_REC_HANDSHAKE
                 ? "not TLS (plain text sent to a TLS port?)"
                 : "the client closed the connection during the handshake");
}

void lw_syslog__tls_conn_timeout(struct lw_stls_conn *tc)
{
    fail(tc, tc->seen && tc->first != TLS_REC_HANDSHAKE ? F_NOT_TLS : F_TIMEOUT,
         tc->seen && tc->first != TLS_REC_HANDSHAKE ? "not TLS (plain text sent to a TLS port?)"
                                                    : "handshake timeout");
}

bool lw_syslog__tls_conn_ready(const struct lw_stls_conn *tc)
{
    return tc->ready;
}

void lw_syslog__tls_conn_shutdown(struct lw_stls_conn *tc)
{
    /* Nothing is written: no close_notify. A sender that never reads (rsyslog checks its
     * connection with recv(MSG_PEEK) before each send) would find the alert's bytes waiting and
     * miss the FIN behind them; the FIN alone (uv_shutdown, by the caller) makes it reconnect
     * and send its next message to the new daemon instead of into a closing socket. */
    (void)tc;
}

void lw_syslog__tls_conn_free(struct lw_stls_conn *tc)
{
    if (!tc)
        return;
    S.SSL_free(tc->ssl); /* frees both BIOs */
    free(tc);
}
