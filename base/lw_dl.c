/* lw_dl.c: binding an optional shared library at run time (dlopen), for the libraries only some
 * configurations use (libcurl for network sinks, libmicrohttpd for the HTTP endpoint). */
#include "lw.h"

#include <dlfcn.h>
#include <string.h>

int lw_dl_bind(const char *soname, const char *needed_by, const struct lw_dl_sym *syms, size_t n,
               struct lw_err *err)
{
    /* A missing library is the caller's to report (the command exits, a reload is refused):
     * library code never ends the process. The message is the one the dynamic loader's would
     * have been at start-up, had the executable been linked with the library. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return lw_err_set(err, LW_EIO, "%s need %s: %s", needed_by, soname, dlerror());
    for (size_t i = 0; i < n; i++) {
        void *p = dlsym(h, syms[i].name);
        if (!p) {
            lw_err_set(err, LW_EIO, "%s need %s: %s", needed_by, soname, dlerror());
            /* No slot keeps a pointer into a library that is closed: all or none are bound. */
            void *none = NULL;
            for (size_t j = 0; j < i; j++)
                memcpy(syms[j].slot, &none, sizeof none);
            dlclose(h);
            return LW_EIO;
        }
        /* POSIX: a function pointer has the representation of the void * dlsym returns. */
        memcpy(syms[i].slot, &p, sizeof p);
    }
    return 0;
}
