/* lw_record.c: the names of the record's label slots, as rules and alerts spell them. */
#include "lw_record.h"

const char *const lw_label_names[LW_L_COUNT] = {
    "input", "path",         "host",   "app",   "facility",  "severity",        "container",
    "image", "container_id", "stream", "topic", "partition", "syslog_severity",
};
