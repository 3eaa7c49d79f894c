/* syslog_tls.h: TLS for the syslog input's stream connections (RFC 5425), private to
 * ingest/syslog/: the `tls:` option, the server's certificates (reloadable), and one TLS session
 * per connection driven through memory BIOs on the I/O loop. */
#ifndef LW_SYSLOG_TLS_H
#define LW_SYSLOG_TLS_H

#include "ingest.h"

/* The `tls:` settings of one syslog input and the context new handshakes use. Created by the
 * option's parse callback (config load), used and reloaded on the I/O thread; its counters are
 * read by the HTTP thread. */
struct lw_stls;
/* One connection's TLS session. I/O thread only. */
struct lw_stls_conn;

/* The `tls` row of the syslog option table: a map {cert, key, ca, client_auth,
 * handshake_timeout}; field is a struct lw_stls *. The certificates are loaded while the config
 * is read: a bad file is a FILE:LINE:COL error at its key. */
lw_opt_parse_fn lw_syslog__tls_parse;
lw_opt_free_fn lw_syslog__tls_free_opt;

/* Reads the certificate files again (SIGHUP): handshakes after a successful reload use the new
 * ones; on failure the old stay and the reason is logged. */
void lw_syslog__tls_reload(struct lw_stls *t, const char *input_name);
/* The handshake timeout, in ms. */
uint64_t lw_syslog__tls_handshake_ms(const struct lw_stls *t);
/* Appends logwarden_syslog_tls_handshake_failures_total{input,reason} samples. Any thread. */
void lw_syslog__tls_metrics(struct lw_stls *t, const char *input_name, struct lw_buf *out);

/* Plaintext the session decrypted, for the connection's framing parser. */
typedef void lw_stls_plain_fn(const char *p, size_t n, void *payload);

/* A server-side session on an accepted TCP stream s (which it writes handshake records and
 * alerts to with uv_write). name (the input's) and t outlive it. */
struct lw_stls_conn *lw_syslog__tls_conn_new(struct lw_stls *t, uv_stream_t *s, const char *name);
/* Feeds n bytes of ciphertext read from the peer; every plaintext byte they complete goes to fn
 * before it returns. Returns 0 to read on, 1 when the peer sent close_notify, -1 when the session
 * failed (the reason counted and logged): close the connection then. */
int lw_syslog__tls_conn_feed(struct lw_stls_conn *tc, const char *p, size_t n, lw_stls_plain_fn *fn,
                             void *payload);
/* The peer closed the TCP connection: counted as a failed handshake when it had not finished. */
void lw_syslog__tls_conn_eof(struct lw_stls_conn *tc);
/* The handshake did not finish in time: counted and logged. */
void lw_syslog__tls_conn_timeout(struct lw_stls_conn *tc);
bool lw_syslog__tls_conn_ready(const struct lw_stls_conn *tc);
/* Sends close_notify (a stopping daemon); the connection is still read until the peer closes. */
void lw_syslog__tls_conn_shutdown(struct lw_stls_conn *tc);
/* After the stream is closed (its close callback). NULL is fine. */
void lw_syslog__tls_conn_free(struct lw_stls_conn *tc);

#endif
