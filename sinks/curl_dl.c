/* curl_dl.c: libcurl loaded with dlopen() the first time a network sink needs it.
 *
 * Debian's libcurl brings OpenSSL, GnuTLS (through LDAP and RTMP), Kerberos, libssh2 and a dozen
 * more libraries; mapping and relocating them costs 3.3 MB of resident memory before a single
 * request (bench/soak.py, file pages of the libraries), and more once OpenSSL is initialised.
 * A daemon whose sinks are all local (file, stdout) never needs any of it, so the executable is
 * not linked with libcurl: these definitions of the few curl functions the sinks call (the same
 * names and prototypes as <curl/curl.h>, so the callers and curl's compile-time option type
 * checks are unchanged) resolve the real ones on first use, as systemd does for its optional
 * libraries.
 *
 * The variadic setters are forwarded the way libcurl itself reads its arguments: the option's
 * number says the argument's type (CURLOPTTYPE_* ranges, CURLINFO_TYPEMASK). */
#define CURL_DISABLE_TYPECHECK 1 /* these definitions would collide with its wrapper macros */
/* Later curl versions declare curl_url_get's handle const: the header's declaration is renamed
 * out of the way, so the definition below builds with either (the ABI is the same). */
#define curl_url_get lw_curl_url_get_decl
#include <curl/curl.h>
#undef curl_url_get
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw.h"

#ifndef LW_CURL_SONAME
#define LW_CURL_SONAME "libcurl.so.4"
#endif

typedef void (*lw_fn)(void);

static struct {
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    char *(*easy_escape)(CURL *, const char *, int);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    void (*free)(void *);
    time_t (*getdate)(const char *, const time_t *);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
} lc;

static pthread_once_t lc_once = PTHREAD_ONCE_INIT;
static bool lc_loaded;
static struct lw_err lc_err; /* why it could not be loaded; written once, in load */

static void load(void)
{
    // clang-format off
#define SYM(f) {"curl_" #f, &lc.f}
    // clang-format on
    static const struct lw_dl_sym syms[] = {
        SYM(global_init),   SYM(global_cleanup), SYM(easy_init),    SYM(easy_cleanup),
        SYM(easy_reset),    SYM(easy_perform),   SYM(easy_setopt),  SYM(easy_getinfo),
        SYM(easy_strerror), SYM(easy_escape),    SYM(slist_append), SYM(slist_free_all),
        SYM(free),          SYM(getdate),        SYM(url),          SYM(url_cleanup),
        SYM(url_get),       SYM(url_set),
    };
#undef SYM
    if (lw_dl_bind(LW_CURL_SONAME, "[sinks] network sinks", syms, sizeof syms / sizeof *syms,
                   &lc_err) == 0)
        __atomic_store_n(&lc_loaded, true, __ATOMIC_RELEASE);
}

bool lw_curl_loaded(void)
{
    return __atomic_load_n(&lc_loaded, __ATOMIC_ACQUIRE);
}

/* Loads libcurl once; false when it is missing. The configuration asks first (lw_curl_load),
 * so that a missing library is reported as an error there; a call after a failed load fails
 * as curl would (an error code, NULL) instead of ending the process. */
static bool need(void)
{
    pthread_once(&lc_once, load);
    return lw_curl_loaded();
}

int lw_curl_load(struct lw_err *err)
{
    if (need())
        return 0;
    return lw_err_set(err, LW_EIO, "%s", lc_err.msg);
}

CURLcode curl_global_init(long flags)
{
    if (!need())
        return CURLE_FAILED_INIT;
    return lc.global_init(flags);
}

void curl_global_cleanup(void)
{
    if (lw_curl_loaded()) /* nothing to undo if it was never needed */
        lc.global_cleanup();
}

CURL *curl_easy_init(void)
{
    if (!need())
        return NULL;
    return lc.easy_init();
}

void curl_easy_cleanup(CURL *h)
{
    if (!need())
        return;
    lc.easy_cleanup(h);
}

void curl_easy_reset(CURL *h)
{
    if (!need())
        return;
    lc.easy_reset(h);
}

CURLcode curl_easy_perform(CURL *h)
{
    if (!need())
        return CURLE_FAILED_INIT;
    return lc.easy_perform(h);
}

CURLcode(curl_easy_setopt)(CURL *h, CURLoption opt, ...)
{
    if (!need())
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = lc.easy_setopt(h, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = lc.easy_setopt(h, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = lc.easy_setopt(h, opt, va_arg(ap, lw_fn));
    else if (opt < CURLOPTTYPE_BLOB)
        rc = lc.easy_setopt(h, opt, va_arg(ap, curl_off_t));
    else
        rc = lc.easy_setopt(h, opt, va_arg(ap, struct curl_blob *));
    va_end(ap);
    return rc;
}

CURLcode(curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
    if (!need())
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    /* Every CURLINFO_* type is returned through a pointer. */
    CURLcode rc = lc.easy_getinfo(h, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

const char *curl_easy_strerror(CURLcode rc)
{
    if (!need())
        return lc_err.msg;
    return lc.easy_strerror(rc);
}

char *curl_easy_escape(CURL *h, const char *s, int len)
{
    if (!need())
        return NULL;
    return lc.easy_escape(h, s, len);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
    if (!need())
        return NULL;
    return lc.slist_append(l, s);
}

void curl_slist_free_all(struct curl_slist *l)
{
    if (!need())
        return;
    lc.slist_free_all(l);
}

void curl_free(void *p)
{
    if (!need())
        return;
    lc.free(p);
}

time_t curl_getdate(const char *s, const time_t *unused)
{
    if (!need())
        return -1;
    return lc.getdate(s, unused);
}

CURLU *curl_url(void)
{
    if (!need())
        return NULL;
    return lc.url();
}

void curl_url_cleanup(CURLU *u)
{
    if (!need())
        return;
    lc.url_cleanup(u);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
    if (!need())
        return CURLUE_BAD_HANDLE;
    return lc.url_get(u, what, part, flags);
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
    if (!need())
        return CURLUE_BAD_HANDLE;
    return lc.url_set(u, what, part, flags);
}
