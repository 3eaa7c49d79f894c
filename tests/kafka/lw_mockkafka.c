/* lw_mockkafka.c: librdkafka's mock cluster (real Kafka protocol on loopback) driven by commands
 * on stdin, for the Kafka tests and benchmark: a peer nobody here wrote, started in milliseconds.
 *
 *   lw_mockkafka [-b BROKERS] [-t TOPIC:PARTITIONS]... [-d]
 *
 * Prints the bootstrap servers on one line, then answers each command line with one line:
 * "ok [DATA]" or "error: WHY". Commands:
 *
 *   topic NAME PARTITIONS        create a topic (replication factor min(3, brokers))
 *   down BROKER | up BROKER      refuse / accept connections (-1: all brokers); no leader change
 *   leader TOPIC PART BROKER     move a partition's leader
 *   rtt BROKER MS                delay every answer of a broker
 *   coordinator GROUP BROKER     move a consumer group's coordinator
 *   reqerr APIKEY ERR COUNT      the next COUNT requests of that ApiKey (any broker) fail with
 *                                error code ERR (e.g. 8 25: OffsetCommit UNKNOWN_MEMBER_ID)
 *   wm TOPIC PART                "ok LOW HIGH": the partition's watermarks
 *   quit                         (or end of stdin) destroy the cluster and exit 0
 *
 * Retention: the mock keeps per partition at most 100 000 message *sets* (produce requests'
 * batches, not messages) and 5 MiB of batch bytes (rdkafka_mock.c, rd_kafka_mock_partition_init,
 * fixed, no setter in rdkafka_mock.h); the oldest batches go first. Producing more than 5 MiB to a
 * partition is what moves its low watermark (see tests/kafka/README.md). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fputs("usage: lw_mockkafka [-b BROKERS] [-t TOPIC:PARTITIONS]... [-d]\n", stderr);
    return 2;
}

/* A topic with the replication factor the cluster can hold (the mock refuses more replicas than
 * brokers). */
static const char *create_topic(rd_kafka_mock_cluster_t *mc, int brokers, const char *name,
                                int parts)
{
    if (parts < 1 || parts > 10000)
        return "partitions must be 1..10000";
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(mc, name, parts, brokers < 3 ? brokers : 3);
    return err ? rd_kafka_err2str(err) : NULL;
}

/* Runs one command line; writes its answer to stdout. Returns 0 to go on, 1 on quit. */
static int command(rd_kafka_mock_cluster_t *mc, rd_kafka_t *query, int brokers, char *line)
{
    char verb[32] = "", a[256] = "", b[64] = "", c[64] = "";
    int n = sscanf(line, "%31s %255s %63s %63s", verb, a, b, c);
    const char *why = NULL;
    rd_kafka_resp_err_t err = 0;

    if (n < 1)
        why = "empty command";
    else if (!strcmp(verb, "quit"))
        return 1;
    else if (!strcmp(verb, "topic") && n == 3)
        why = create_topic(mc, brokers, a, atoi(b));
    else if (!strcmp(verb, "down") && n == 2)
        err = rd_kafka_mock_broker_set_down(mc, atoi(a));
    else if (!strcmp(verb, "up") && n == 2)
        err = rd_kafka_mock_broker_set_up(mc, atoi(a));
    else if (!strcmp(verb, "leader") && n == 4)
        err = rd_kafka_mock_partition_set_leader(mc, a, atoi(b), atoi(c));
    else if (!strcmp(verb, "rtt") && n == 3)
        err = rd_kafka_mock_broker_set_rtt(mc, atoi(a), atoi(b));
    else if (!strcmp(verb, "coordinator") && n == 3)
        err = rd_kafka_mock_coordinator_set(mc, "group", a, atoi(b));
    else if (!strcmp(verb, "reqerr") && n == 4) {
        int count = atoi(c);
        if (count < 1 || count > 1000)
            why = "count must be 1..1000";
        else
            for (int i = 0; i < count; i++)
                rd_kafka_mock_push_request_errors(mc, (int16_t)atoi(a), 1,
                                                  (rd_kafka_resp_err_t)atoi(b));
    } else if (!strcmp(verb, "wm") && n == 3) {
        int64_t lo = -1, hi = -1;
        err = rd_kafka_query_watermark_offsets(query, a, atoi(b), &lo, &hi, 5000);
        if (!err) {
            printf("ok %lld %lld\n", (long long)lo, (long long)hi);
            fflush(stdout);
            return 0;
        }
    } else
        why = "unknown command or wrong arguments (see lw_mockkafka.c)";

    if (!why && err)
        why = rd_kafka_err2str(err);
    if (why)
        printf("error: %s\n", why);
    else
        puts("ok");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 3, debug = 0;
    char err[512];

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-b") && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            i++; /* after the cluster exists */
        else if (!strcmp(argv[i], "-d"))
            debug = 1;
        else
            return usage();
    if (brokers < 1 || brokers > 16)
        return usage();

    /* The mock lives inside this rd_kafka_t (its threads serve the brokers' ports): it must stay
     * up until quit. A producer handle is the cheapest kind that owns one. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (debug && rd_kafka_conf_set(conf, "debug", "mock", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "lw_mockkafka: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "lw_mockkafka: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "lw_mockkafka: cannot create the mock cluster\n");
        return 1;
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") != 0)
            continue;
        char name[256];
        const char *colon = strrchr(argv[++i], ':');
        size_t len = colon ? (size_t)(colon - argv[i]) : 0;
        if (!colon || len == 0 || len >= sizeof name) {
            fprintf(stderr, "lw_mockkafka: -t %s: expected TOPIC:PARTITIONS\n", argv[i]);
            return 2;
        }
        memcpy(name, argv[i], len);
        name[len] = '\0';
        const char *why = create_topic(mc, brokers, name, atoi(colon + 1));
        if (why) {
            fprintf(stderr, "lw_mockkafka: -t %s: %s\n", argv[i], why);
            return 1;
        }
    }

    /* A second handle, a client of the cluster, answers watermark queries. */
    rd_kafka_conf_t *qconf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(qconf, "bootstrap.servers", bootstraps, err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "lw_mockkafka: %s\n", err);
        return 1;
    }
    rd_kafka_t *query = rd_kafka_new(RD_KAFKA_PRODUCER, qconf, err, sizeof err);
    if (!query) {
        fprintf(stderr, "lw_mockkafka: %s\n", err);
        return 1;
    }

    printf("%s\n", bootstraps);
    fflush(stdout);

    char line[1024];
    while (fgets(line, sizeof line, stdin))
        if (command(mc, query, brokers, line))
            break;

    rd_kafka_destroy(query);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
