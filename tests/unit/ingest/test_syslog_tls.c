/* test_syslog_tls.c: the syslog input's `tls:` option (ingest/syslog/syslog_tls.c) as the config
 * reads it: certificates made with the openssl CLI in a temporary folder, every mistake a
 * FILE:LINE:COL error at its key, nothing half-loaded. The TLS sessions themselves are tested end
 * to end (e2e.syslog_tls, e2e.syslog_tls_rsyslog). */
#include "ingest.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];

/* Runs the syslog input's init on yaml (written as DIR/t.yaml, so relative paths resolve in
 * DIR); returns its result, with every diagnostic joined in msgs. */
static int init(const char *yaml, char *msgs, size_t n)
{
    struct lw_yaml_doc *doc = NULL;
    struct lw_diag diag = {0};
    struct lw_input in = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/t.yaml", dir);
    in.ops = lw_input_find("syslog");
    in.name = "s";
    in.dir = dir;
    CHECK_EQ(lw_yaml_load_buf(&doc, path, yaml, strlen(yaml), &diag), 0);
    int rc = in.ops->init(&in, doc, doc->root, &diag);
    msgs[0] = '\0';
    for (size_t i = 0; i < diag.n; i++) {
        strncat(msgs, diag.msgs[i], n - strlen(msgs) - 2);
        strncat(msgs, "\n", n - strlen(msgs) - 1);
    }
    lw_diag_free(&diag);
    lw_yaml_free(doc);
    if (rc == 0) {
        CHECK(in.ctx != NULL);
        in.ops->free(&in);
    } else {
        CHECK(in.ctx == NULL); /* a failed init leaves nothing behind */
    }
    return rc;
}

static void sh(const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof full, "cd %s && %s >/dev/null 2>&1", dir, cmd);
    CHECK_EQ(system(full), 0);
}

static void expect_error(const char *what, const char *yaml, const char *where, const char *text)
{
    char msgs[4096];
    int rc = init(yaml, msgs, sizeof msgs);
    CHECK(rc != 0);
    if (!strstr(msgs, where) || !strstr(msgs, text))
        fprintf(stderr, "%s: want '%s' ... '%s' in:\n%s", what, where, text, msgs);
    CHECK(strstr(msgs, where) != NULL);
    CHECK(strstr(msgs, text) != NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lw-tls-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=ca");
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout srv.key -out srv.crt -days 2 "
       "-subj /CN=localhost");
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 "
       "-subj /CN=other");
    sh("echo junk > junk.crt");
    sh("openssl genpkey -algorithm RSA -aes-128-cbc -pass pass:secret -out enc.key");
    char msgs[4096];
    char t[128];
    snprintf(t, sizeof t, "%s/t.yaml", dir);

    /* Valid: relative paths from the config's folder, each client_auth. */
    CHECK_EQ(init("listen: tls://127.0.0.1:0\n"
                  "tls: {cert: srv.crt, key: srv.key}\n",
                  msgs, sizeof msgs),
             0);
    CHECK_EQ(init("listen: tls://127.0.0.1:0\n"
                  "tls: {cert: srv.crt, key: srv.key, ca: ca.crt, client_auth: required}\n",
                  msgs, sizeof msgs),
             0);
    CHECK_EQ(init("listen: [tcp://127.0.0.1:0, tls://127.0.0.1:0]\n"
                  "tls: {cert: srv.crt, key: srv.key, ca: ca.crt, client_auth: optional, "
                  "handshake_timeout: 2s}\n",
                  msgs, sizeof msgs),
             0);

    /* Each mistake at its key: line 2, the column of the value. */
    char where[160];
    snprintf(where, sizeof where, "%s:2:13:", t);
    expect_error("missing cert",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: nope.crt, key: srv.key}\n",
                 where, "No such file or directory");
    snprintf(where, sizeof where, "%s:2:13:", t);
    expect_error("not PEM",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: junk.crt, key: srv.key}\n",
                 where, "not a PEM certificate");
    snprintf(where, sizeof where, "%s:2:27:", t);
    expect_error("key of another certificate",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: srv.crt, key: other.key}\n",
                 where, "does not match");
    expect_error("encrypted key",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: srv.crt, key: enc.key}\n",
                 where, "enc.key");
    snprintf(where, sizeof where, "%s:2:49:", t);
    expect_error("client_auth word",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: srv.crt, key: srv.key, client_auth: sometimes}\n",
                 where, "none, optional or required");
    expect_error("required without ca",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: srv.crt, key: srv.key, client_auth: required}\n",
                 where, "needs `ca`");
    snprintf(where, sizeof where, "%s:2:", t);
    expect_error("unknown key",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: srv.crt, key: srv.key, cafile: ca.crt}\n",
                 where, "cafile");
    expect_error("missing key",
                 "listen: tls://127.0.0.1:0\n"
                 "tls: {cert: srv.crt}\n",
                 where, "'key' is required");
    snprintf(where, sizeof where, "%s:1:9:", t);
    expect_error("tls:// without tls", "listen: tls://127.0.0.1:0\n", where,
                 "needs `tls: {cert: FILE, key: FILE}`");
    snprintf(where, sizeof where, "%s:2:6:", t);
    expect_error("tls without tls://",
                 "listen: tcp://127.0.0.1:0\n"
                 "tls: {cert: srv.crt, key: srv.key}\n",
                 where, "no tls:// address");

    sh("rm -f ./*");
    rmdir(dir);
    return test_summary();
}
