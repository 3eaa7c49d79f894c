/* helpers.h: what the sinks' unit tests share: sinks from inline YAML, a fixed notification, a
 * scripted loopback HTTP server, and JSON accessors for checking payloads field by field. */
#ifndef LW_SINKS_TEST_HELPERS_H
#define LW_SINKS_TEST_HELPERS_H

#include "lw.h"
#include "lw_yaml.h"
#include "sink.h"

#include <jansson.h>
#include <pthread.h>

/* A firing critical alert (with characters every markup must escape) and a resolved one. */
extern const char fixed_alerts[];

struct cfg {
    struct lw_yaml_doc *doc;
    struct lw_diag diag;
};

/* Builds a sink from a YAML map; NULL on error with the messages in c->diag. */
struct lw_sink *make_sink(struct cfg *c, const char *yaml);
void cfg_free(struct cfg *c);
bool diag_has(const struct cfg *c, const char *s);

/* Renders alerts_json with s; returns the messages (caller frees) and checks rc == 0. */
int render(struct lw_sink *s, const char *alerts_json, struct lw_sink_msgs *out);
/* Parses a rendered body; NULL (the body printed) when it is not JSON. */
json_t *body_json(const struct lw_sink_msg *m);
/* A string at a path of object keys and array indexes: "attachments.0.color". NULL if absent. */
json_t *jpath(json_t *root, const char *path);
const char *jstr(json_t *root, const char *path);
/* Characters (code points) of a UTF-8 string; 0 for NULL. */
size_t u8len(const char *s);

/* One alert object as JSON text (a notification of one), with the given status, severity
 * (NULL: no severity label) and summary. */
char *one_alert(const char *status, const char *severity, const char *summary);

/* ---------------------------------------------------------------- loopback HTTP server */

#define SRV_MAX 8

/* status 0: read the request and never answer (timeouts); -1: close without answering. */
struct srv_resp {
    int status;
    const char *headers; /* extra lines, each ending in \r\n */
    const char *body;
};

struct srv_req {
    char raw[65536];
    size_t len;
    char *body; /* into raw */
};

/* Serves nresp connections one after another, one request each, with the scripted answers. */
struct srv {
    int lfd, port;
    struct srv_resp resp[SRV_MAX];
    size_t nresp;
    struct srv_req *req; /* [SRV_MAX] */
    size_t nreq;         /* requests received */
    pthread_t th;
};

int listen_loopback(int *port);
void srv_start(struct srv *sv, const struct srv_resp *resp, size_t n);
/* Waits for the server thread (it ends after n requests, or 10 s without a connection). */
void srv_stop(struct srv *sv);
const char *srv_header(const struct srv *sv, size_t i, const char *name, char *out, size_t size);
/* "POST /path HTTP/1.1" -> "/path" (into out). */
const char *srv_target(const struct srv *sv, size_t i, char *out, size_t size);
json_t *srv_json(const struct srv *sv, size_t i);

void test_env_setup(void);

#endif
