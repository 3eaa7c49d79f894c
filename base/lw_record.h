/* lw_record.h: the record rules match: a line after its envelope was decoded (its body, time and
 * labels). Ingest fills it, rules read it: it lives below both. */
#ifndef LW_RECORD_H
#define LW_RECORD_H

#include "lw.h"

#include <stdatomic.h>

struct lw_tz;

/* Labels every record may carry; their values become fields of the events it yields. */
enum lw_label_slot {
    LW_L_INPUT = 0,
    LW_L_PATH,
    LW_L_HOST,
    LW_L_APP,
    LW_L_FACILITY,
    LW_L_SEVERITY,
    LW_L_CONTAINER,
    LW_L_IMAGE,
    LW_L_CONTAINER_ID,
    LW_L_STREAM,
    LW_L_TOPIC,
    LW_L_PARTITION,
    LW_L_SYSLOG_SEVERITY, /* severity again, under a name that is not the alert's reserved label */
    LW_L_NAMESPACE,       /* Kubernetes (type: cri) */
    LW_L_POD,
    LW_L_POD_UID,
    LW_L_RESTART,         /* the container's restart count: kubelet's N.log */
    LW_L_COMPOSE_SERVICE, /* docker compose (type: docker) */
    LW_L_COMPOSE_PROJECT,
    LW_L_PROCID,    /* syslog: the sender's process id (RFC 5424 PROCID, 3164 TAG[PID]) */
    LW_L_MSGID,     /* syslog: RFC 5424 MSGID */
    LW_L_SOURCE_IP, /* syslog: the peer's address, or the unix socket's path */
    LW_L_COUNT
};
extern const char *const lw_label_names[LW_L_COUNT];
_Static_assert(LW_L_COUNT <= 256, "a slot fits a byte (rules/match.c plain_slot)");

/* In an input's label mask (lw_input_ops.labels): its records may carry extra labels (a
 * lw_labelset's names, e.g. docker's label.<key>), beyond the slots. */
#define LW_LABELS_EXTRA (1u << 31)
/* In a label mask: its records may carry RFC 5424 STRUCTURED-DATA (lw_rec.sd), which rules read
 * as sd.<SD-ID>.<PARAM> fields. */
#define LW_LABELS_SD (1u << 30)
_Static_assert(LW_L_COUNT <= 30, "label slot bits stay below the LW_LABELS_* flags");

/* The labels of one source (a container's log) that outlive the batches pointing at them: slot
 * values and extra name/value pairs (docker's "label.com.example.team"), in one allocation,
 * immutable once made and refcounted (atomically: batches are freed on the pipeline thread),
 * so a source forgotten while its batches are in flight leaves nothing dangling. */
struct lw_labelset {
    _Atomic unsigned refs;
    struct lw_str slot[LW_L_COUNT];      /* p == NULL: absent */
    const struct lw_str *names, *values; /* extra labels, nextra of them; names are unique */
    size_t nextra;
};
/* A copy of slot (LW_L_COUNT values, or NULL) and of the nextra pairs, with one reference. */
struct lw_labelset *lw_labelset_new(const struct lw_str *slot, const struct lw_str *names,
                                    const struct lw_str *values, size_t nextra);
/* Another reference to ls (NULL passes). */
struct lw_labelset *lw_labelset_ref(struct lw_labelset *ls);
/* Drops a reference; the last one frees it. NULL passes. */
void lw_labelset_unref(struct lw_labelset *ls);
/* The value of extra label name (e.g. "label.team"), or NULL when ls (may be NULL) has none. */
const struct lw_str *lw_labelset_get(const struct lw_labelset *ls, const char *name, size_t n);

/* How a record's body is structured: raw text, or fields to decode (input `format:`). */
enum lw_body { LW_BODY_RAW = 0, LW_BODY_JSON, LW_BODY_LOGFMT };

/* A record after its envelope was decoded: the body to match and its labels. Borrowed. */
struct lw_rec {
    struct lw_str body;
    enum lw_body body_fmt;            /* JSON / logfmt bodies give fields by name */
    int64_t ts_ns;                    /* envelope time (syslog, docker), 0 when none */
    int64_t recv_ns;                  /* arrival time */
    uint32_t input;                   /* input index (config order) */
    uint32_t shard;                   /* the shard (a Kafka partition, numbered by the daemon)
                                         that fed it; 0: the input is not sharded */
    struct lw_str labels[LW_L_COUNT]; /* empty (p == NULL) when absent */
    const struct lw_tz *tz;           /* the input's zone for timestamps without one; NULL: UTC */
    const struct lw_labelset *extra;  /* the source's extra labels (docker's label.<key>; Kafka's
                                         offset, key and header.<name>, per record); NULL: none;
                                         borrowed from the batch */
    struct lw_str sd; /* syslog: the raw RFC 5424 STRUCTURED-DATA ("[id k=\"v\"]...", checked
                         well-formed), read only by rules naming an sd.<ID>.<PARAM> field
                         (base/lw_sd.h); empty when none */
};

#endif
