/* decode.h: structured bodies (JSON, logfmt) decoded once per record, looked up by field path
 * (rules module, internal). */
#ifndef LW_RULES_DECODE_H
#define LW_RULES_DECODE_H

#include "rules.h"

/* One record's decoded body. Values borrow from the body or from the decoder's own storage
 * until lw_doc_reset. One per thread. */
struct lw_doc {
    enum lw_body fmt;
    bool parsed, ok;
    enum lw_undecoded why; /* when parsed and not ok */
    void *json;            /* json_t * */
    struct lw_kv {
        struct lw_str k, v;
    } * kv; /* logfmt pairs */
    size_t nkv, capkv;
    char *scratch; /* unescaped logfmt values */
    size_t scap;
    struct lw_buf *texts; /* JSON text of array and object values handed out (lw_doc_get) */
    size_t ntexts, captexts;
    char *sdbuf; /* unescaped structured-data values, each at its offset in the record's SD */
    size_t sdcap;
    bool sd_ready; /* sdbuf holds the record's SD length: no realloc until lw_doc_reset */
};

/* Parses body as fmt (once per record; later calls return the first result): 0, or -1 when
 * the body is not valid for its format. */
int lw_doc_parse(struct lw_doc *d, enum lw_body fmt, struct lw_str body);
/* Looks up a field: a key, or a dotted path into nested JSON objects ("metadata.endpoint").
 * Fills out: LW_V_NONE when missing or null; an array or object is a string, its compact JSON
 * text (["a","b"]), valid until lw_doc_reset. */
void lw_doc_get(struct lw_doc *d, const char *path, struct lw_value *out);
/* Looks up sd.<ID>.<PARAM> (name: "ID.PARAM", n bytes) in a record's RFC 5424 structured data:
 * true with out the (unescaped) string, borrowed from sd or from d until lw_doc_reset; false
 * when the record has no such parameter. */
bool lw_doc_sd(struct lw_doc *d, struct lw_str sd, const char *name, size_t n,
               struct lw_value *out);
void lw_doc_reset(struct lw_doc *d);
void lw_doc_free(struct lw_doc *d);

#endif
