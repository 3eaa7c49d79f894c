/* kafka_dl.c: librdkafka loaded with dlopen() when a kafka input is configured.
 *
 * librdkafka brings OpenSSL, Cyrus SASL, zstd and lz4: mapped into every daemon if linked, which
 * a sidecar reading files does not pay for (e2e.footprint, like curl_dl.c and app/mhd_dl.c).
 * These definitions of the librdkafka functions the kafka input calls (<librdkafka/rdkafka.h>'s
 * names and prototypes) resolve the real ones on first use. The input's init loads it first
 * (lw_kafka__dl_load) and refuses the config when it is missing, so a call after a failed load
 * only returns the library's own failure value. */
#include "kafka.h"

#include <pthread.h>

#ifndef LW_RDKAFKA_SONAME
#define LW_RDKAFKA_SONAME "librdkafka.so.1"
#endif

static struct {
    rd_kafka_resp_err_t (*assign)(rd_kafka_t *rk,
                                  const rd_kafka_topic_partition_list_t *partitions);
    int (*assignment_lost)(rd_kafka_t *rk);
    rd_kafka_resp_err_t (*commit)(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
                                  int async);
    rd_kafka_resp_err_t (*committed)(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions,
                                     int timeout_ms);
    void (*conf_destroy)(rd_kafka_conf_t *conf);
    rd_kafka_conf_t *(*conf_new)(void);
    rd_kafka_conf_res_t (*conf_set)(rd_kafka_conf_t *conf, const char *name, const char *value,
                                    char *errstr, size_t errstr_size);
    void (*conf_set_error_cb)(rd_kafka_conf_t *conf,
                              void (*error_cb)(rd_kafka_t *rk, int err, const char *reason,
                                               void *opaque));
    void (*conf_set_log_cb)(rd_kafka_conf_t *conf,
                            void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac,
                                           const char *buf));
    void (*conf_set_offset_commit_cb)(
        rd_kafka_conf_t *conf,
        void (*offset_commit_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *offsets, void *opaque));
    void (*conf_set_opaque)(rd_kafka_conf_t *conf, void *opaque);
    void (*conf_set_rebalance_cb)(rd_kafka_conf_t *conf,
                                  void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                                       rd_kafka_topic_partition_list_t *partitions,
                                                       void *opaque));
    void (*conf_set_stats_cb)(rd_kafka_conf_t *conf,
                              int (*stats_cb)(rd_kafka_t *rk, char *json, size_t json_len,
                                              void *opaque));
    rd_kafka_resp_err_t (*consumer_close)(rd_kafka_t *rk);
    rd_kafka_message_t *(*consumer_poll)(rd_kafka_t *rk, int timeout_ms);
    void (*destroy)(rd_kafka_t *rk);
    const char *(*err2name)(rd_kafka_resp_err_t err);
    const char *(*err2str)(rd_kafka_resp_err_t err);
    void (*error_destroy)(rd_kafka_error_t *error);
    const char *(*error_string)(const rd_kafka_error_t *error);
    rd_kafka_resp_err_t (*get_watermark_offsets)(rd_kafka_t *rk, const char *topic,
                                                 int32_t partition, int64_t *low, int64_t *high);
    rd_kafka_resp_err_t (*header_get_all)(const rd_kafka_headers_t *hdrs, size_t idx,
                                          const char **namep, const void **valuep, size_t *sizep);
    rd_kafka_error_t *(*incremental_assign)(rd_kafka_t *rk,
                                            const rd_kafka_topic_partition_list_t *partitions);
    rd_kafka_error_t *(*incremental_unassign)(rd_kafka_t *rk,
                                              const rd_kafka_topic_partition_list_t *partitions);
    void (*message_destroy)(rd_kafka_message_t *rkmessage);
    const char *(*message_errstr)(const rd_kafka_message_t *rkmessage);
    rd_kafka_resp_err_t (*message_headers)(const rd_kafka_message_t *rkmessage,
                                           rd_kafka_headers_t **hdrsp);
    int64_t (*message_timestamp)(const rd_kafka_message_t *rkmessage,
                                 rd_kafka_timestamp_type_t *tstype);
    rd_kafka_t *(*new)(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
                       size_t errstr_size);
    rd_kafka_resp_err_t (*offsets_for_times)(rd_kafka_t *rk,
                                             rd_kafka_topic_partition_list_t *offsets,
                                             int timeout_ms);
    void *(*opaque)(const rd_kafka_t *rk);
    rd_kafka_resp_err_t (*pause_partitions)(rd_kafka_t *rk,
                                            rd_kafka_topic_partition_list_t *partitions);
    rd_kafka_resp_err_t (*poll_set_consumer)(rd_kafka_t *rk);
    rd_kafka_resp_err_t (*query_watermark_offsets)(rd_kafka_t *rk, const char *topic,
                                                   int32_t partition, int64_t *low, int64_t *high,
                                                   int timeout_ms);
    void (*queue_destroy)(rd_kafka_queue_t *rkqu);
    rd_kafka_queue_t *(*queue_get_consumer)(rd_kafka_t *rk);
    void (*queue_io_event_enable)(rd_kafka_queue_t *rkqu, int fd, const void *payload, size_t size);
    size_t (*queue_length)(rd_kafka_queue_t *rkqu);
    rd_kafka_resp_err_t (*resume_partitions)(rd_kafka_t *rk,
                                             rd_kafka_topic_partition_list_t *partitions);
    rd_kafka_error_t *(*seek_partitions)(rd_kafka_t *rk,
                                         rd_kafka_topic_partition_list_t *partitions,
                                         int timeout_ms);
    rd_kafka_resp_err_t (*set_log_queue)(rd_kafka_t *rk, rd_kafka_queue_t *rkqu);
    rd_kafka_resp_err_t (*subscribe)(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *topics);
    const char *(*topic_name)(const rd_kafka_topic_t *rkt);
    rd_kafka_topic_partition_t *(*topic_partition_list_add)(
        rd_kafka_topic_partition_list_t *rktparlist, const char *topic, int32_t partition);
    rd_kafka_topic_partition_list_t *(*topic_partition_list_copy)(
        const rd_kafka_topic_partition_list_t *src);
    void (*topic_partition_list_destroy)(rd_kafka_topic_partition_list_t *rkparlist);
    rd_kafka_topic_partition_list_t *(*topic_partition_list_new)(int size);
    int (*version)(void);
} lib;

static pthread_once_t rk_once = PTHREAD_ONCE_INIT;
static bool rk_loaded;
static struct lw_err rk_err; /* why it could not be loaded; written once, in load */

static void load(void)
{
    // clang-format off
#define SYM(f) {"rd_kafka_" #f, &lib.f}
    // clang-format on
    static const struct lw_dl_sym syms[] = {
        SYM(assign),
        SYM(assignment_lost),
        SYM(commit),
        SYM(committed),
        SYM(conf_destroy),
        SYM(conf_new),
        SYM(conf_set),
        SYM(conf_set_error_cb),
        SYM(conf_set_log_cb),
        SYM(conf_set_offset_commit_cb),
        SYM(conf_set_opaque),
        SYM(conf_set_rebalance_cb),
        SYM(conf_set_stats_cb),
        SYM(consumer_close),
        SYM(consumer_poll),
        SYM(destroy),
        SYM(err2name),
        SYM(err2str),
        SYM(error_destroy),
        SYM(error_string),
        SYM(get_watermark_offsets),
        SYM(header_get_all),
        SYM(incremental_assign),
        SYM(incremental_unassign),
        SYM(message_destroy),
        SYM(message_errstr),
        SYM(message_headers),
        SYM(message_timestamp),
        SYM(new),
        SYM(offsets_for_times),
        SYM(opaque),
        SYM(pause_partitions),
        SYM(poll_set_consumer),
        SYM(query_watermark_offsets),
        SYM(queue_destroy),
        SYM(queue_get_consumer),
        SYM(queue_io_event_enable),
        SYM(queue_length),
        SYM(resume_partitions),
        SYM(seek_partitions),
        SYM(set_log_queue),
        SYM(subscribe),
        SYM(topic_name),
        SYM(topic_partition_list_add),
        SYM(topic_partition_list_copy),
        SYM(topic_partition_list_destroy),
        SYM(topic_partition_list_new),
        SYM(version),
    };
#undef SYM
    if (lw_dl_bind(LW_RDKAFKA_SONAME, "[input] kafka inputs", syms, sizeof syms / sizeof *syms,
                   &rk_err) == 0)
        __atomic_store_n(&rk_loaded, true, __ATOMIC_RELEASE);
}

static bool need(void)
{
    pthread_once(&rk_once, load);
    return __atomic_load_n(&rk_loaded, __ATOMIC_ACQUIRE);
}

int lw_kafka__dl_load(struct lw_err *err)
{
    if (need())
        return 0;
    return lw_err_set(err, LW_EIO, "%s", rk_err.msg);
}

rd_kafka_resp_err_t rd_kafka_assign(rd_kafka_t *rk,
                                    const rd_kafka_topic_partition_list_t *partitions)
{
    return need() ? lib.assign(rk, partitions) : RD_KAFKA_RESP_ERR__FAIL;
}

int rd_kafka_assignment_lost(rd_kafka_t *rk)
{
    return need() ? lib.assignment_lost(rk) : 0;
}

rd_kafka_resp_err_t rd_kafka_commit(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
                                    int async)
{
    return need() ? lib.commit(rk, offsets, async) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_resp_err_t rd_kafka_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions,
                                       int timeout_ms)
{
    return need() ? lib.committed(rk, partitions, timeout_ms) : RD_KAFKA_RESP_ERR__FAIL;
}

void rd_kafka_conf_destroy(rd_kafka_conf_t *conf)
{
    if (need())
        lib.conf_destroy(conf);
}

rd_kafka_conf_t *rd_kafka_conf_new(void)
{
    return need() ? lib.conf_new() : NULL;
}

rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                                      char *errstr, size_t errstr_size)
{
    return need() ? lib.conf_set(conf, name, value, errstr, errstr_size) : RD_KAFKA_CONF_INVALID;
}

void rd_kafka_conf_set_error_cb(rd_kafka_conf_t *conf,
                                void (*error_cb)(rd_kafka_t *rk, int err, const char *reason,
                                                 void *opaque))
{
    if (need())
        lib.conf_set_error_cb(conf, error_cb);
}

void rd_kafka_conf_set_log_cb(rd_kafka_conf_t *conf,
                              void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac,
                                             const char *buf))
{
    if (need())
        lib.conf_set_log_cb(conf, log_cb);
}

void rd_kafka_conf_set_offset_commit_cb(
    rd_kafka_conf_t *conf,
    void (*offset_commit_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t *offsets, void *opaque))
{
    if (need())
        lib.conf_set_offset_commit_cb(conf, offset_commit_cb);
}

void rd_kafka_conf_set_opaque(rd_kafka_conf_t *conf, void *opaque)
{
    if (need())
        lib.conf_set_opaque(conf, opaque);
}

void rd_kafka_conf_set_rebalance_cb(
    rd_kafka_conf_t *conf,
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque))
{
    if (need())
        lib.conf_set_rebalance_cb(conf, rebalance_cb);
}

void rd_kafka_conf_set_stats_cb(rd_kafka_conf_t *conf,
                                int (*stats_cb)(rd_kafka_t *rk, char *json, size_t json_len,
                                                void *opaque))
{
    if (need())
        lib.conf_set_stats_cb(conf, stats_cb);
}

rd_kafka_resp_err_t rd_kafka_consumer_close(rd_kafka_t *rk)
{
    return need() ? lib.consumer_close(rk) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_message_t *rd_kafka_consumer_poll(rd_kafka_t *rk, int timeout_ms)
{
    return need() ? lib.consumer_poll(rk, timeout_ms) : NULL;
}

void rd_kafka_destroy(rd_kafka_t *rk)
{
    if (need())
        lib.destroy(rk);
}

const char *rd_kafka_err2name(rd_kafka_resp_err_t err)
{
    return need() ? lib.err2name(err) : NULL;
}

const char *rd_kafka_err2str(rd_kafka_resp_err_t err)
{
    return need() ? lib.err2str(err) : NULL;
}

void rd_kafka_error_destroy(rd_kafka_error_t *error)
{
    if (need())
        lib.error_destroy(error);
}

const char *rd_kafka_error_string(const rd_kafka_error_t *error)
{
    return need() ? lib.error_string(error) : NULL;
}

rd_kafka_resp_err_t rd_kafka_get_watermark_offsets(rd_kafka_t *rk, const char *topic,
                                                   int32_t partition, int64_t *low, int64_t *high)
{
    return need() ? lib.get_watermark_offsets(rk, topic, partition, low, high)
                  : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_resp_err_t rd_kafka_header_get_all(const rd_kafka_headers_t *hdrs, size_t idx,
                                            const char **namep, const void **valuep, size_t *sizep)
{
    return need() ? lib.header_get_all(hdrs, idx, namep, valuep, sizep) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_error_t *rd_kafka_incremental_assign(rd_kafka_t *rk,
                                              const rd_kafka_topic_partition_list_t *partitions)
{
    return need() ? lib.incremental_assign(rk, partitions) : NULL;
}

rd_kafka_error_t *rd_kafka_incremental_unassign(rd_kafka_t *rk,
                                                const rd_kafka_topic_partition_list_t *partitions)
{
    return need() ? lib.incremental_unassign(rk, partitions) : NULL;
}

void rd_kafka_message_destroy(rd_kafka_message_t *rkmessage)
{
    if (need())
        lib.message_destroy(rkmessage);
}

const char *rd_kafka_message_errstr(const rd_kafka_message_t *rkmessage)
{
    return need() ? lib.message_errstr(rkmessage) : NULL;
}

rd_kafka_resp_err_t rd_kafka_message_headers(const rd_kafka_message_t *rkmessage,
                                             rd_kafka_headers_t **hdrsp)
{
    return need() ? lib.message_headers(rkmessage, hdrsp) : RD_KAFKA_RESP_ERR__FAIL;
}

int64_t rd_kafka_message_timestamp(const rd_kafka_message_t *rkmessage,
                                   rd_kafka_timestamp_type_t *tstype)
{
    return need() ? lib.message_timestamp(rkmessage, tstype) : 0;
}

rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
                         size_t errstr_size)
{
    return need() ? lib.new(type, conf, errstr, errstr_size) : NULL;
}

rd_kafka_resp_err_t
rd_kafka_offsets_for_times(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *offsets, int timeout_ms)
{
    return need() ? lib.offsets_for_times(rk, offsets, timeout_ms) : RD_KAFKA_RESP_ERR__FAIL;
}

void *rd_kafka_opaque(const rd_kafka_t *rk)
{
    return need() ? lib.opaque(rk) : NULL;
}

rd_kafka_resp_err_t rd_kafka_pause_partitions(rd_kafka_t *rk,
                                              rd_kafka_topic_partition_list_t *partitions)
{
    return need() ? lib.pause_partitions(rk, partitions) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_resp_err_t rd_kafka_poll_set_consumer(rd_kafka_t *rk)
{
    return need() ? lib.poll_set_consumer(rk) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_resp_err_t rd_kafka_query_watermark_offsets(rd_kafka_t *rk, const char *topic,
                                                     int32_t partition, int64_t *low, int64_t *high,
                                                     int timeout_ms)
{
    return need() ? lib.query_watermark_offsets(rk, topic, partition, low, high, timeout_ms)
                  : RD_KAFKA_RESP_ERR__FAIL;
}

void rd_kafka_queue_destroy(rd_kafka_queue_t *rkqu)
{
    if (need())
        lib.queue_destroy(rkqu);
}

rd_kafka_queue_t *rd_kafka_queue_get_consumer(rd_kafka_t *rk)
{
    return need() ? lib.queue_get_consumer(rk) : NULL;
}

size_t rd_kafka_queue_length(rd_kafka_queue_t *rkqu)
{
    return need() ? lib.queue_length(rkqu) : 0;
}

void rd_kafka_queue_io_event_enable(rd_kafka_queue_t *rkqu, int fd, const void *payload,
                                    size_t size)
{
    if (need())
        lib.queue_io_event_enable(rkqu, fd, payload, size);
}

rd_kafka_resp_err_t rd_kafka_resume_partitions(rd_kafka_t *rk,
                                               rd_kafka_topic_partition_list_t *partitions)
{
    return need() ? lib.resume_partitions(rk, partitions) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_error_t *rd_kafka_seek_partitions(rd_kafka_t *rk,
                                           rd_kafka_topic_partition_list_t *partitions,
                                           int timeout_ms)
{
    return need() ? lib.seek_partitions(rk, partitions, timeout_ms) : NULL;
}

rd_kafka_resp_err_t rd_kafka_set_log_queue(rd_kafka_t *rk, rd_kafka_queue_t *rkqu)
{
    return need() ? lib.set_log_queue(rk, rkqu) : RD_KAFKA_RESP_ERR__FAIL;
}

rd_kafka_resp_err_t rd_kafka_subscribe(rd_kafka_t *rk,
                                       const rd_kafka_topic_partition_list_t *topics)
{
    return need() ? lib.subscribe(rk, topics) : RD_KAFKA_RESP_ERR__FAIL;
}

const char *rd_kafka_topic_name(const rd_kafka_topic_t *rkt)
{
    return need() ? lib.topic_name(rkt) : NULL;
}

rd_kafka_topic_partition_t *
rd_kafka_topic_partition_list_add(rd_kafka_topic_partition_list_t *rktparlist, const char *topic,
                                  int32_t partition)
{
    return need() ? lib.topic_partition_list_add(rktparlist, topic, partition) : NULL;
}

rd_kafka_topic_partition_list_t *
rd_kafka_topic_partition_list_copy(const rd_kafka_topic_partition_list_t *src)
{
    return need() ? lib.topic_partition_list_copy(src) : NULL;
}

void rd_kafka_topic_partition_list_destroy(rd_kafka_topic_partition_list_t *rkparlist)
{
    if (need())
        lib.topic_partition_list_destroy(rkparlist);
}

rd_kafka_topic_partition_list_t *rd_kafka_topic_partition_list_new(int size)
{
    return need() ? lib.topic_partition_list_new(size) : NULL;
}

int rd_kafka_version(void)
{
    return need() ? lib.version() : 0;
}
