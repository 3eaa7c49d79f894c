/* kafka.h: what the Kafka input's two files share: its settings (kafka_opts.c reads them) and
 * its context (kafka_input.c runs it). Not part of the ingest interface. */
#ifndef LW_KAFKA_H
#define LW_KAFKA_H

#include "ingest.h"
#include "ingest_int.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>

enum kafka_start { KAFKA_START_LATEST = 0, KAFKA_START_EARLIEST, KAFKA_START_WINDOW };

/* `properties:` as read: keys and ${ENV}-expanded values (those of secret keys registered with
 * lw_secret_add), already accepted by a scratch rd_kafka_conf_set. */
struct kafka_props {
    char **k, **v;
    size_t n;
};

/* The settings the option table fills (kafka_opts.c). */
struct kafka_conf {
    struct lw_opt_list brokers, topics, keyed_by;
    char *group;
    enum kafka_start start;
    char *instance_id;
    int64_t max_buffered; /* bytes the queue refused that the input holds before pausing */
    struct kafka_props props;
};

extern const struct lw_opt lw_kafka__opts[];
/* The keys logwarden sets itself and refuses in `properties:`. NULL-terminated. */
extern const char *const lw_kafka__owned[];
/* Loads librdkafka (kafka_dl.c) if it is not yet: 0, or LW_EIO with err saying why. */
int lw_kafka__dl_load(struct lw_err *err);
/* Whether the value of property key must never be logged. */
bool lw_kafka__secret_key(const char *key);
/* Applies c's brokers, group, instance id and properties to conf (group NULL: a group-less
 * reader). 0, or LW_EINVAL with err naming the key. */
int lw_kafka__conf_apply(const struct kafka_conf *c, rd_kafka_conf_t *conf, bool group,
                         struct lw_err *err);

#endif
