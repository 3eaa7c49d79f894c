/* cri_paths.c: what kubelet's log paths say of a container: the pod folder
 * <namespace>_<pod>_<uid>/<container>/<restart>.log and the /var/log/containers link name
 * <pod>_<namespace>_<container>-<id>.log. Namespaces, pods and containers are DNS-1123 names
 * (no "_"), so "_" splits them unambiguously. */
#include "ingest.h"
#include "ingest_int.h"

#include <string.h>

/* The component of path that ends just before end (exclusive), and where it starts. */
static struct lw_str component_before(const char *path, const char *end)
{
    const char *p = end;
    while (p > path && p[-1] != '/')
        p--;
    return (struct lw_str){p, (size_t)(end - p)};
}

static bool all_digits(struct lw_str s)
{
    if (!s.n)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

/* Splits s at its "_" into exactly three non-empty parts. */
static int split3(struct lw_str s, struct lw_str part[3])
{
    const char *end = s.p + s.n, *p = s.p;
    for (int i = 0; i < 3; i++) {
        const char *u = i < 2 ? memchr(p, '_', (size_t)(end - p)) : end;
        if (!u || u == p)
            return -1;
        part[i] = (struct lw_str){p, (size_t)(u - p)};
        p = u + 1;
    }
    return memchr(part[2].p, '_', part[2].n) ? -1 : 0;
}

int lw_ingest__kube_path_parse(const char *path, struct lw_kube_path *out)
{
    size_t n = strlen(path);
    struct lw_str file = component_before(path, path + n);
    if (file.n < 5 || memcmp(file.p + file.n - 4, ".log", 4))
        return -1;
    struct lw_str restart = {file.p, file.n - 4};
    if (!all_digits(restart) || file.p - path < 2)
        return -1;
    struct lw_str ctr = component_before(path, file.p - 1);
    if (!ctr.n || ctr.p - path < 2)
        return -1;
    struct lw_str pod = component_before(path, ctr.p - 1), part[3];
    if (split3(pod, part) < 0)
        return -1;
    *out = (struct lw_kube_path){part[0], part[1], part[2], ctr, restart};
    return 0;
}

int lw_ingest__kube_link_parse(const char *name, struct lw_kube_path *out, struct lw_str *id)
{
    size_t n = strlen(name);
    if (n < 4 + 65 + 5 || memcmp(name + n - 4, ".log", 4) || name[n - 4 - 65] != '-')
        return -1;
    const char *hex = name + n - 4 - 64;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", hex[i]) || !hex[i])
            return -1;
    struct lw_str part[3];
    if (split3((struct lw_str){name, n - 4 - 65}, part) < 0)
        return -1;
    *out = (struct lw_kube_path){.ns = part[1], .pod = part[0], .container = part[2]};
    *id = (struct lw_str){hex, 64};
    return 0;
}
