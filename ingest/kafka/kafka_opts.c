/* kafka_opts.c: the Kafka input's option table: brokers, topics, group, start_position,
 * instance_id, keyed_by and the librdkafka `properties:` (refused keys, secrets redacted). */
#include "kafka.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const char *const lw_kafka__owned[] = {
    "group.id",
    "bootstrap.servers",
    "metadata.broker.list", /* bootstrap.servers' alias */
    "enable.auto.commit",
    "enable.auto.offset.store",
    "partition.assignment.strategy",
    "group.instance.id", /* instance_id */
    NULL,
};

bool lw_kafka__secret_key(const char *key)
{
    static const char *const words[] = {"password", "secret", "key", "token"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(key, words[i]))
            return true;
    /* sasl.username and the OAUTHBEARER and Kerberos settings are credentials too; only the
     * mechanism names are not. */
    return !strncmp(key, "sasl.", 5) && strcmp(key, "sasl.mechanism") &&
           strcmp(key, "sasl.mechanisms") && strcmp(key, "sasl.kerberos.service.name");
}

static int parse_start(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                       struct lw_diag *diag)
{
    static const char *const names[] = {"latest", "earliest", "window"};
    const char *s;
    (void)o;
    if (lw_yaml_str(doc, n, &s, diag) != 0)
        return LW_EINVAL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i])) {
            *(enum kafka_start *)field = (enum kafka_start)i;
            return 0;
        }
    lw_yaml_error(doc, n, diag, "%s: start_position: expected latest, earliest or window, not '%s'",
                  c->prefix, s);
    return LW_EINVAL;
}

/* properties: {key: value}, each checked against librdkafka's own table now, so that `check`
 * reports a bad key at its line. */
static int parse_props(const struct lw_opt *o, void *field, const struct lw_yaml_doc *doc,
                       const struct lw_yaml_node *n, const struct lw_opt_ctx *c,
                       struct lw_diag *diag)
{
    struct kafka_props *p = field;
    int rc = 0;
    (void)o;
    if (n->type != LW_YAML_MAP) {
        lw_yaml_error(doc, n, diag, "%s: properties: expected a map of librdkafka settings",
                      c->prefix);
        return LW_EINVAL;
    }
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    p->k = lw_calloc(n->n + 1, sizeof *p->k);
    p->v = lw_calloc(n->n + 1, sizeof *p->v);
    for (size_t i = 0; i < n->n; i++) {
        const char *key = n->keys[i]->str, *raw;
        char *val = NULL, errstr[512];
        struct lw_err err = {0};
        bool owned = false;
        for (const char *const *k = lw_kafka__owned; *k; k++)
            owned |= !strcmp(*k, key);
        if (owned) {
            lw_yaml_error(doc, n->keys[i], diag,
                          "%s: properties: '%s' is set by logwarden (brokers, group, instance_id; "
                          "offsets are committed after each flush; assignment is "
                          "cooperative-sticky)",
                          c->prefix, key);
            rc = LW_EINVAL;
            continue;
        }
        if (lw_yaml_str(doc, n->items[i], &raw, diag) != 0) {
            rc = LW_EINVAL;
            continue;
        }
        if (lw_expand_env(raw, &val, &err) != 0) {
            lw_yaml_error(doc, n->items[i], diag, "%s: properties: %s: %s", c->prefix, key,
                          err.msg);
            rc = LW_EINVAL;
            continue;
        }
        if (lw_kafka__secret_key(key))
            lw_secret_add(val);
        if (rd_kafka_conf_set(scratch, key, val, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            lw_redact_in(errstr, sizeof errstr);
            lw_yaml_error(doc, n->keys[i], diag, "%s: properties: %s: %s", c->prefix, key, errstr);
            lw_opt_free_secret(val);
            rc = LW_EINVAL;
            continue;
        }
        p->k[p->n] = lw_strdup(key);
        p->v[p->n++] = val;
    }
    rd_kafka_conf_destroy(scratch);
    return rc;
}

static void free_props(const struct lw_opt *o, void *field)
{
    struct kafka_props *p = field;
    (void)o;
    for (size_t i = 0; i < p->n; i++) {
        free(p->k[i]);
        lw_opt_free_secret(p->v[i]);
    }
    free(p->k);
    free(p->v);
    memset(p, 0, sizeof *p);
}

const struct lw_opt lw_kafka__opts[] = {
    {.key = "brokers",
     .type = LW_OPT_LIST,
     .type_name = "addresses",
     .off = offsetof(struct kafka_conf, brokers),
     .flags = LW_OPT_REQUIRED,
     .help = "bootstrap brokers, HOST:PORT or a list of them"},
    {.key = "topics",
     .type = LW_OPT_LIST,
     .off = offsetof(struct kafka_conf, topics),
     .flags = LW_OPT_REQUIRED | LW_OPT_NOENV,
     .help = "topics to consume; an entry starting with ^ is a regex"},
    {.key = "group",
     .type = LW_OPT_STRING,
     .off = offsetof(struct kafka_conf, group),
     .flags = LW_OPT_REQUIRED,
     .help = "the consumer group (group.id) the instances share"},
    {.key = "start_position",
     .type = LW_OPT_STRING,
     .type_name = "latest|earliest|window",
     .def = "latest",
     .off = offsetof(struct kafka_conf, start),
     .parse = parse_start,
     .help = "a partition without any committed offset: from its end, its beginning, or far "
             "enough back to fill the longest window"},
    {.key = "instance_id",
     .type = LW_OPT_STRING,
     .off = offsetof(struct kafka_conf, instance_id),
     .help = "static membership (group.instance.id): a restart within the session timeout "
             "keeps the partitions"},
    {.key = "keyed_by",
     .type = LW_OPT_LIST,
     .type_name = "fields",
     .def = "key",
     .off = offsetof(struct kafka_conf, keyed_by),
     .flags = LW_OPT_NOENV,
     .help = "the fields producers key messages by: alerts whose group_by lacks one are warned "
             "about"},
    {.key = "max_buffered_bytes",
     .type = LW_OPT_INT,
     .def = "8388608",
     .off = offsetof(struct kafka_conf, max_buffered),
     .min = 4096,
     .max = (int64_t)1 << 30,
     .help = "messages read while the pipeline is busy are held up to this before partitions "
             "are paused (a pause drops what librdkafka fetched; it is fetched again)"},
    {.key = "properties",
     .type = LW_OPT_MAP,
     .off = offsetof(struct kafka_conf, props),
     .parse = parse_props,
     .free = free_props,
     .help = "librdkafka settings (sasl.*, ssl.*, tuning), ${ENV} expanded, credentials "
             "redacted"},
    {.type = LW_OPT_END},
};

/* Sets key; on failure err names the key (never the value: it may be a secret). */
static int set(rd_kafka_conf_t *conf, const char *key, const char *val, struct lw_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return 0;
    lw_redact_in(errstr, sizeof errstr);
    return lw_err_set(err, LW_EINVAL, "%s: %s", key, errstr);
}

int lw_kafka__conf_apply(const struct kafka_conf *c, rd_kafka_conf_t *conf, bool group,
                         struct lw_err *err)
{
    struct lw_buf b = {0};
    for (size_t i = 0; i < c->brokers.n; i++)
        lw_buf_printf(&b, "%s%s", i ? "," : "", c->brokers.v[i]);
    int rc = set(conf, "bootstrap.servers", b.p ? b.p : "", err);
    lw_buf_free(&b);
    /* Offsets reach Kafka only after SQLite has them (kafka_input.c). */
    if (!rc)
        rc = set(conf, "enable.auto.commit", "false", err);
    if (!rc)
        rc = set(conf, "enable.auto.offset.store", "false", err);
    for (size_t i = 0; !rc && i < c->props.n; i++)
        rc = set(conf, c->props.k[i], c->props.v[i], err);
    if (!rc && group) {
        rc = set(conf, "group.id", c->group, err);
        if (!rc)
            rc = set(conf, "partition.assignment.strategy", "cooperative-sticky", err);
        if (!rc && c->instance_id && *c->instance_id)
            rc = set(conf, "group.instance.id", c->instance_id, err);
    }
    return rc;
}
