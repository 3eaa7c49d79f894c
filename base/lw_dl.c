/* lw_dl.c: binding an optional shared library at run time (dlopen), for the libraries only some
 * configurations use (libcurl for network sinks, libmicrohttpd for the HTTP endpoint). */
#include "lw.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void lw_dl_bind(const char *soname, const char *needed_by, const struct lw_dl_sym *syms, size_t n)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* As the dynamic loader would have failed at start-up, had the executable been linked
         * with the library: nothing that needs it can work. */
        lw_log(LW_ERROR, "%s need %s: %s", needed_by, soname, dlerror());
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        void *p = dlsym(h, syms[i].name);
        if (!p) {
            lw_log(LW_ERROR, "%s need %s: %s", needed_by, soname, dlerror());
            exit(1);
        }
        /* POSIX: a function pointer has the representation of the void * dlsym returns. */
        memcpy(syms[i].slot, &p, sizeof p);
    }
}
