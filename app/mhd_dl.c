/* mhd_dl.c: libmicrohttpd loaded with dlopen() when the HTTP endpoint starts.
 *
 * Debian's libmicrohttpd is built with HTTPS support, so linking it maps GnuTLS, p11-kit,
 * nettle, GMP and libtasn1 into every daemon, and GnuTLS initialises itself in a constructor:
 * 2.3 MB resident (bench/soak.py's smaps) for a daemon that may have no `http:` at all. These
 * definitions of the few functions http.c calls (<microhttpd.h>'s names and prototypes) resolve
 * the real ones the first time one is called, as curl_dl.c does for the network sinks. */
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>

#include "lw.h"

#ifndef LW_MHD_SONAME
#define LW_MHD_SONAME "libmicrohttpd.so.12"
#endif

static struct {
    struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                          MHD_AccessHandlerCallback, void *, va_list);
    void (*stop_daemon)(struct MHD_Daemon *);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
                                                        enum MHD_ResponseMemoryMode);
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    void (*destroy_response)(struct MHD_Response *);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind,
                                           const char *);
    int (*get_connection_values)(struct MHD_Connection *, enum MHD_ValueKind, MHD_KeyValueIterator,
                                 void *);
} mhd;

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static bool mhd_loaded;
static struct lw_err mhd_err; /* why it could not be loaded; written once, in load */

static void load(void)
{
    // clang-format off
#define SYM(f) {"MHD_" #f, &mhd.f}
    // clang-format on
    static const struct lw_dl_sym syms[] = {
        SYM(start_daemon_va),         SYM(stop_daemon),           SYM(create_response_from_buffer),
        SYM(add_response_header),     SYM(queue_response),        SYM(destroy_response),
        SYM(lookup_connection_value), SYM(get_connection_values),
    };
#undef SYM
    if (lw_dl_bind(LW_MHD_SONAME, "[http] the HTTP endpoint (http: in the config) and its API",
                   syms, sizeof syms / sizeof *syms, &mhd_err) == 0)
        __atomic_store_n(&mhd_loaded, true, __ATOMIC_RELEASE);
}

/* Loads the library once; false when it is missing. lw_http_start asks first (lw_mhd_load)
 * and reports it; a call after a failed load fails as the library would (NULL, MHD_NO). */
static bool need(void)
{
    pthread_once(&mhd_once, load);
    return __atomic_load_n(&mhd_loaded, __ATOMIC_ACQUIRE);
}

int lw_mhd_load(struct lw_err *err)
{
    if (need())
        return 0;
    return lw_err_set(err, LW_EIO, "%s", mhd_err.msg);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    if (!need())
        return NULL;
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = mhd.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
    if (!need())
        return;
    mhd.stop_daemon(d);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    if (!need())
        return NULL;
    return mhd.create_response_from_buffer(size, buffer, mode);
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header,
                                        const char *content)
{
    if (!need())
        return MHD_NO;
    return mhd.add_response_header(r, header, content);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status,
                                   struct MHD_Response *r)
{
    if (!need())
        return MHD_NO;
    return mhd.queue_response(c, status, r);
}

void MHD_destroy_response(struct MHD_Response *r)
{
    if (!need())
        return;
    mhd.destroy_response(r);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                        const char *key)
{
    if (!need())
        return NULL;
    return mhd.lookup_connection_value(c, kind, key);
}

int MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator it, void *cls)
{
    if (!need())
        return -1;
    return mhd.get_connection_values(c, kind, it, cls);
}
