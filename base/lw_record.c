/* lw_record.c: the names of the record's label slots, as rules and alerts spell them, and the
 * refcounted label sets container inputs hang on their batches. */
#include "lw_record.h"

#include <stdlib.h>
#include <string.h>

const char *const lw_label_names[LW_L_COUNT] = {
    "input",           "path",      "host",         "app",       "facility", "severity",
    "container",       "image",     "container_id", "stream",    "topic",    "partition",
    "syslog_severity", "namespace", "pod",          "pod_uid",   "restart",  "compose_service",
    "compose_project", "procid",    "msgid",        "source_ip",
};

/* Copies s to *at and returns its new place (NULL stays NULL: an absent label). */
static struct lw_str put(char **at, struct lw_str s)
{
    if (!s.p)
        return s;
    struct lw_str r = {*at, s.n};
    if (s.n)
        memcpy(*at, s.p, s.n);
    (*at)[s.n] = '\0';
    *at += s.n + 1;
    return r;
}

struct lw_labelset *lw_labelset_new(const struct lw_str *slot, const struct lw_str *names,
                                    const struct lw_str *values, size_t nextra)
{
    size_t bytes = 0;
    for (int l = 0; slot && l < LW_L_COUNT; l++)
        bytes += slot[l].p ? slot[l].n + 1 : 0;
    for (size_t i = 0; i < nextra; i++)
        bytes += names[i].n + 1 + values[i].n + 1;
    size_t head = sizeof(struct lw_labelset) + 2 * nextra * sizeof(struct lw_str);
    struct lw_labelset *ls = lw_calloc(1, head + bytes);
    struct lw_str *pairs = (struct lw_str *)(ls + 1);
    char *at = (char *)ls + head;
    atomic_init(&ls->refs, 1);
    for (int l = 0; slot && l < LW_L_COUNT; l++)
        ls->slot[l] = put(&at, slot[l]);
    for (size_t i = 0; i < nextra; i++) {
        pairs[i] = put(&at, (struct lw_str){names[i].p ? names[i].p : "", names[i].n});
        pairs[nextra + i] = put(&at, (struct lw_str){values[i].p ? values[i].p : "", values[i].n});
    }
    ls->names = pairs;
    ls->values = pairs + nextra;
    ls->nextra = nextra;
    return ls;
}

struct lw_labelset *lw_labelset_ref(struct lw_labelset *ls)
{
    if (ls)
        atomic_fetch_add_explicit(&ls->refs, 1, memory_order_relaxed);
    return ls;
}

void lw_labelset_unref(struct lw_labelset *ls)
{
    if (ls && atomic_fetch_sub_explicit(&ls->refs, 1, memory_order_acq_rel) == 1)
        free(ls);
}

const struct lw_str *lw_labelset_get(const struct lw_labelset *ls, const char *name, size_t n)
{
    for (size_t i = 0; ls && i < ls->nextra; i++)
        if (ls->names[i].n == n && !memcmp(ls->names[i].p, name, n))
            return &ls->values[i];
    return NULL;
}
