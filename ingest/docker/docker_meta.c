/* docker_meta.c: what a Docker container's config.v2.json says of it (name, image, compose
 * project, labels, running), for the labels of its log lines.
 *
 * jansson here, not docker_parse.c's scanner: this runs once per container and config change,
 * on the I/O thread, over a document with nested objects we read several keys of. Its size is
 * capped before it is read (lw_ingest__docker_meta_read). */
#include "ingest.h"
#include "ingest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A string member of obj, copied, or NULL when absent or not a string. */
static char *dup_member(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? lw_strdup(s) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Config.Labels: every string entry as label.<key>, sorted (jansson's order is a hash's). */
static void read_labels(json_t *labels, struct lw_docker_meta *m)
{
    size_t n = json_is_object(labels) ? json_object_size(labels) : 0, i = 0;
    if (!n)
        return;
    char **keys = lw_calloc(n, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (json_is_string(v))
            keys[i++] = (char *)k;
    }
    qsort(keys, i, sizeof *keys, cmp_str);
    m->label_names = lw_calloc(i ? i : 1, sizeof *m->label_names);
    m->label_values = lw_calloc(i ? i : 1, sizeof *m->label_values);
    for (size_t j = 0; j < i; j++) {
        size_t kn = strlen(keys[j]);
        char *name = lw_malloc(kn + 7);
        memcpy(name, "label.", 6);
        memcpy(name + 6, keys[j], kn + 1);
        m->label_names[j] = name;
        m->label_values[j] = lw_strdup(json_string_value(json_object_get(labels, keys[j])));
    }
    m->nlabels = i;
    free(keys);
}

int lw_ingest__docker_meta_parse(const char *json, size_t n, struct lw_docker_meta *out,
                                 struct lw_err *err)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return lw_err_set(err, LW_EINVAL, "not JSON: line %d: %s", jerr.line, jerr.text);
    int rc = LW_OK;
    if (!json_is_object(root) || !json_string_value(json_object_get(root, "ID"))) {
        rc = lw_err_set(err, LW_EINVAL, "no \"ID\": not a container's config.v2.json");
        goto out_decref;
    }
    json_t *config = json_object_get(root, "Config");
    json_t *labels = json_object_get(config, "Labels");
    out->id = dup_member(root, "ID");
    const char *name = json_string_value(json_object_get(root, "Name"));
    if (name)
        out->name = lw_strdup(name[0] == '/' ? name + 1 : name);
    out->image = dup_member(config, "Image");
    out->compose_service = dup_member(labels, "com.docker.compose.service");
    out->compose_project = dup_member(labels, "com.docker.compose.project");
    out->running = json_is_true(json_object_get(json_object_get(root, "State"), "Running"));
    read_labels(labels, out);
out_decref:
    json_decref(root);
    return rc;
}

int lw_ingest__docker_meta_read(const char *path, size_t max, struct lw_docker_meta *out,
                                struct lw_err *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lw_err_set(err, errno == ENOENT ? LW_ENOENT : LW_EIO, "%s: %s", path,
                          strerror(errno));
    struct stat st;
    int rc = LW_OK;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = lw_err_set(err, LW_EIO, "%s: %s", path, strerror(errno));
        goto out_close;
    }
    if ((uint64_t)st.st_size > max) {
        rc = lw_err_set(err, LW_EFULL, "%s: %lld bytes, more than the %zu read", path,
                        (long long)st.st_size, max);
        goto out_close;
    }
    /* One byte more than it said: a file that grew since fstat is caught as too large. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    buf = lw_malloc(cap);
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = lw_err_set(err, LW_EIO, "%s: %s", path, strerror(errno));
            goto out_free;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) {
            rc = lw_err_set(err, LW_EFULL, "%s: grew while read past %zu bytes", path, len);
            goto out_free;
        }
    }
    rc = lw_ingest__docker_meta_parse(buf, len, out, err);
    if (rc != LW_OK) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        lw_err_set(err, rc, "%s: %s", path, why);
    }
out_free:
    free(buf);
out_close:
    close(fd);
    return rc;
}

void lw_ingest__docker_meta_free(struct lw_docker_meta *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nlabels; i++) {
        free(m->label_names[i]);
        free(m->label_values[i]);
    }
    free(m->label_names);
    free(m->label_values);
    free(m->id);
    free(m->name);
    free(m->image);
    free(m->compose_service);
    free(m->compose_project);
    memset(m, 0, sizeof *m);
}

struct lw_labelset *lw_ingest__docker_labels(const struct lw_docker_meta *m)
{
    struct lw_str slot[LW_L_COUNT] = {{0}};
    slot[LW_L_CONTAINER] = lw_str_c(m->name);
    slot[LW_L_CONTAINER_ID] = lw_str_c(m->id);
    slot[LW_L_IMAGE] = lw_str_c(m->image);
    slot[LW_L_COMPOSE_SERVICE] = lw_str_c(m->compose_service);
    slot[LW_L_COMPOSE_PROJECT] = lw_str_c(m->compose_project);
    struct lw_str *names = lw_calloc(m->nlabels + 1, sizeof *names);
    struct lw_str *values = lw_calloc(m->nlabels + 1, sizeof *values);
    for (size_t i = 0; i < m->nlabels; i++) {
        names[i] = lw_str_c(m->label_names[i]);
        values[i] = lw_str_c(m->label_values[i]);
    }
    struct lw_labelset *ls = lw_labelset_new(slot, names, values, m->nlabels);
    free(names);
    free(values);
    return ls;
}
