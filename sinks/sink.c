/* sink.c: the sink registry, sink creation from YAML, and the JSON splitting the line sinks share.
 */
#include "sink.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* One per lw_plugin(sink ...) line of sinks/CMakeLists.txt, in that order. */
static const struct lw_sink_ops *const builtin_sinks[] = {LW_SINKS_BUILTIN};
#define NBUILTIN (sizeof builtin_sinks / sizeof builtin_sinks[0])

size_t lw_sink_count(void)
{
    return NBUILTIN;
}

const struct lw_sink_ops *lw_sink_at(size_t i)
{
    return i < NBUILTIN ? builtin_sinks[i] : NULL;
}

void lw_sink_type_names(struct lw_buf *b)
{
    for (size_t i = 0; i < NBUILTIN; i++)
        lw_buf_printf(b, "%s%s", i ? ", " : "", builtin_sinks[i]->type);
}

const struct lw_sink_ops *lw_sink_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < NBUILTIN; i++)
        if (strcmp(builtin_sinks[i]->type, type) == 0)
            return builtin_sinks[i];
    return NULL;
}

/* Reads the sink's options, then lets the sink check and derive what its table cannot. Both run
 * even when the first finds a problem, so that `check` reports every error of the map at once.
 * On failure the half-built sink goes through lw_sink_free: each ops->free copes with whatever
 * init left behind. */
struct lw_sink *lw_sink_new(const struct lw_sink_ops *ops, const char *name, const char *dir,
                            const struct lw_yaml_doc *doc, const struct lw_yaml_node *map,
                            struct lw_diag *diag)
{
    static const char *const common[] = {"name", "type", NULL};
    char what[160];
    snprintf(what, sizeof what, "sink '%s'", name);

    struct lw_sink *s = lw_calloc(1, sizeof *s);
    s->ops = ops;
    s->name = lw_strdup(name);
    s->conf = lw_calloc(1, ops->conf_size ? ops->conf_size : 1);
    struct lw_opt_ctx c = {.dir = dir, .what = what, .prefix = what, .skip = common, .payload = s};
    int bad = lw_opts_apply(ops->opts, s->conf, doc, map, &c, diag);
    if (ops->init(s, doc, map, diag) != 0 || bad) {
        lw_sink_free(s);
        return NULL;
    }
    return s;
}

void lw_sink_free(struct lw_sink *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->free)
        s->ops->free(s);
    if (s->ops)
        lw_opts_free(s->ops->opts, s->conf);
    free(s->conf);
    free(s->name);
    free(s);
}

int lw_sink_json_lines(const char *alerts_json, size_t len, struct lw_buf *out, size_t *n,
                       struct lw_err *err)
{
    json_error_t jerr;
    /* jansson checks the syntax; the copy below then only has to find the element bounds.
     * ALLOW_NUL: lw_buf_json_str writes \u0000 for NUL bytes of log lines. */
    json_t *root = json_loadb(alerts_json, len, JSON_ALLOW_NUL, &jerr);
    size_t count = 0;

    *n = 0;
    if (!root)
        return lw_err_set(err, LW_EINVAL, "notification is not valid JSON: %s (column %d)",
                          jerr.text, jerr.column);
    if (!json_is_array(root)) {
        json_decref(root);
        return lw_err_set(err, LW_EINVAL, "notification is not a JSON array");
    }
    for (size_t i = 0; i < json_array_size(root); i++) {
        if (!json_is_object(json_array_get(root, i))) {
            json_decref(root);
            return lw_err_set(err, LW_EINVAL, "notification item %zu is not a JSON object", i);
        }
    }
    count = json_array_size(root);
    json_decref(root);

    /* Copy each element, dropping whitespace outside strings. Inside strings, control
     * characters are always escaped in valid JSON, so a line never breaks. */
    size_t i = 0;
    int depth = 0;
    bool in_str = false, esc = false, started = false;
    while (i < len && alerts_json[i] != '[')
        i++;
    for (i++; i < len; i++) {
        char c = alerts_json[i];
        if (in_str) {
            lw_buf_putc(out, c);
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (depth == 0 && (c == ',' || c == ']')) {
            if (started)
                lw_buf_putc(out, '\n');
            started = false;
            if (c == ']')
                break;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        lw_buf_putc(out, c);
        started = true;
    }
    *n = count;
    return 0;
}

void lw_sinks_global_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        lw_log(LW_ERROR, "[sinks] curl_global_init: %s", curl_easy_strerror(rc));
}

bool lw_sinks_need_global_init(struct lw_sink *const *sinks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sinks[i]->ops->local)
            return true;
    return false;
}

void lw_sinks_global_cleanup(void)
{
    curl_global_cleanup();
}
