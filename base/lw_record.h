/* lw_record.h: the record rules match: a line after its envelope was decoded (its body, time and
 * labels). Ingest fills it, rules read it: it lives below both. */
#ifndef LW_RECORD_H
#define LW_RECORD_H

#include "lw.h"

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
    LW_L_COUNT
};
extern const char *const lw_label_names[LW_L_COUNT];

/* How a record's body is structured: raw text, or fields to decode (input `format:`). */
enum lw_body { LW_BODY_RAW = 0, LW_BODY_JSON, LW_BODY_LOGFMT };

/* A record after its envelope was decoded: the body to match and its labels. Borrowed. */
struct lw_rec {
    struct lw_str body;
    enum lw_body body_fmt;            /* JSON / logfmt bodies give fields by name */
    int64_t ts_ns;                    /* envelope time (syslog, docker), 0 when none */
    int64_t recv_ns;                  /* arrival time */
    uint32_t input;                   /* input index (config order) */
    struct lw_str labels[LW_L_COUNT]; /* empty (p == NULL) when absent */
    const struct lw_tz *tz;           /* the input's zone for timestamps without one; NULL: UTC */
};

#endif
