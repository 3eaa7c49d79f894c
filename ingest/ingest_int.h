/* ingest_int.h: declarations shared inside the ingest module only (not part of its interface). */
#ifndef LW_INGEST_INT_H
#define LW_INGEST_INT_H

#include "ingest.h"

/* Batches aim at this many lines or bytes before they are handed to the queue. */
#define LW_BATCH_MAX_LINES 512
#define LW_BATCH_MAX_BYTES (128u * 1024)

/* The built-in inputs' ops (extern declarations, LW_INPUTS_BUILTIN), generated from the
 * lw_plugin() lines of ingest/CMakeLists.txt. */
#include "lw_inputs_builtin.h"

/* Rate-limited warnings: true when a message for this limiter may be logged now (at most one
 * per interval), counting what was suppressed in *suppressed. */
struct lw_ratelimit {
    int64_t last_ns;
    uint64_t suppressed;
};
bool lw_ingest__ratelimit(struct lw_ratelimit *rl, int64_t interval_ns);

/* ---------------------------------------------------------------- container discovery */

/* What a Docker container's config.v2.json says of it (docker/docker_meta.c). Owned strings;
 * absent ones are NULL. */
struct lw_docker_meta {
    char *id;
    char *name;  /* Name without its leading "/" */
    char *image; /* Config.Image as the user wrote it ("nginx:1.25") */
    char *compose_service, *compose_project;
    char **label_names; /* "label.<key>" for every Config.Labels entry, sorted by key */
    char **label_values;
    size_t nlabels;
    bool running; /* State.Running */
};
#define LW_DOCKER_META_MAX (1u << 20) /* config.v2.json larger than this is refused */
/* Parses config.v2.json's text. 0, or LW_EINVAL with err saying why (not JSON, no ID). */
int lw_ingest__docker_meta_parse(const char *json, size_t n, struct lw_docker_meta *out,
                                 struct lw_err *err);
/* Reads and parses the file at path: LW_EFULL when it is larger than max bytes, LW_ENOENT when
 * it is missing, LW_EIO, LW_EINVAL. */
int lw_ingest__docker_meta_read(const char *path, size_t max, struct lw_docker_meta *out,
                                struct lw_err *err);
void lw_ingest__docker_meta_free(struct lw_docker_meta *m);
/* The label set of a container's log: container, container_id, image, compose_service,
 * compose_project and every label.<key>. */
struct lw_labelset *lw_ingest__docker_labels(const struct lw_docker_meta *m);

/* Where a kubelet log file sits: PODS/<namespace>_<pod>_<uid>/<container>/<restart>.log
 * (cri/cri_paths.c). Spans of the parsed path. */
struct lw_kube_path {
    struct lw_str ns, pod, uid, container, restart;
};
/* Parses the last three components of path; 0, or -1 when it is not kubelet's shape (rotated
 * "0.log.20261205-101010" and compressed files are not: the tail finds those). */
int lw_ingest__kube_path_parse(const char *path, struct lw_kube_path *out);
/* Parses a /var/log/containers link name, <pod>_<namespace>_<container>-<id>.log (the id: 64
 * hex digits); 0, or -1. */
int lw_ingest__kube_link_parse(const char *name, struct lw_kube_path *out, struct lw_str *id);

#endif
