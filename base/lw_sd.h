/* lw_sd.h: looks up one parameter in RFC 5424 STRUCTURED-DATA text ("[id k=\"v\" ...][...]").
 * The syslog decoder keeps the raw text on the record and the rules resolve sd.<ID>.<PARAM>
 * fields through this only when a rule names one: records pay nothing for SD no rule reads. */
#ifndef LW_SD_H
#define LW_SD_H

#include "lw.h"

/* Finds the value of sd.<ID>.<PARAM>, given as name = "ID.PARAM" (the part after "sd."). An
 * SD-ID and a PARAM may both hold dots ("origin@32473.zone" is ID origin@32473, PARAM zone;
 * "x@1.2.k" is ID x@1.2 when the text has such an element): the name is split after the ID of
 * an element present in sd. A repeated SD-ID or PARAM: the first occurrence in sd wins.
 * Returns 1 with *raw the value between its quotes (escapes kept) and *escaped set when it
 * holds a backslash, or 0 when absent. Bounds-checked; malformed text finds nothing past the
 * point where it goes wrong. */
int lw_sd_find(struct lw_str sd, const char *name, size_t n, struct lw_str *raw, bool *escaped);

/* Unescapes a raw value (RFC 5424 6.3.3: \" \\ \] stand for the character; a backslash before
 * anything else is kept as it is) into out, which has room for raw.n bytes. Returns the
 * length. */
size_t lw_sd_unescape(struct lw_str raw, char *out);

#endif
