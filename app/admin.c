/* admin.c: `logwarden status` (the daemon's health, then the alerts) and `logwarden silence
 * add/list/expire`, on the state file. */
#include "app.h"
#include "notify.h"
#include "store.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* What `status` needs of the config beyond the state file: where the daemon answers. */
struct endpoint {
    char *listen, *token; /* owned; NULL when the config has none (or --state was given) */
    char *state;
};

/* Opens the state file named by -c CONFIG (or --state FILE) at argv; 0 or exit code 2. ep, when
 * not NULL, gets the config's http.listen and http.token. */
static int open_state_ep(int argc, char **argv, struct lw_store **st, int *first_arg,
                         struct endpoint *ep)
{
    const char *config = NULL, *state = NULL;
    struct lw_diag diag = {0};
    struct lw_err err = {0};
    int i;
    for (i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--state") && i + 1 < argc)
            state = argv[++i];
        else
            break;
    }
    *first_arg = i;
    char *path = NULL;
    if (state) {
        path = lw_strdup(state);
    } else if (config) {
        struct lw_config *c = NULL;
        if (lw_config_load(&c, config, &diag) < 0) {
            lw_diag_print(&diag, stderr);
            lw_diag_free(&diag);
            return 2;
        }
        path = lw_strdup(c->state);
        if (ep) {
            ep->listen = c->http_listen ? lw_strdup(c->http_listen) : NULL;
            ep->token = c->http_token ? lw_strdup(c->http_token) : NULL;
        }
        lw_config_free(c);
    } else {
        fprintf(stderr, "logwarden: -c CONFIG (or --state FILE) is required\n");
        return 2;
    }
    if (lw_store_open(st, path, &err) < 0) {
        fprintf(stderr, "logwarden: %s: %s\n", path, err.msg);
        free(path);
        return 2;
    }
    if (ep)
        ep->state = path;
    else
        free(path);
    return 0;
}

static int open_state(int argc, char **argv, struct lw_store **st, int *first_arg)
{
    return open_state_ep(argc, argv, st, first_arg, NULL);
}

static void print_state(const struct lw_state_row *r, void *payload)
{
    char since[40];
    int *n = payload;
    lw_fmt_rfc3339(r->state == LW_FIRING ? r->fired_ns : r->active_since_ns, since, sizeof since);
    printf("%-8s %-24s %-16s %-24s value %g  %s\n", r->state == LW_FIRING ? "firing" : "pending",
           r->alert, r->fingerprint, since, r->value, r->group);
    (*n)++;
}

struct usage_sum {
    int64_t groups, bytes, updated_ns;
    int nalerts;
    struct lw_buf full; /* alerts at or near max_groups */
};

static void sum_usage(const struct lw_usage_row *r, void *payload)
{
    struct usage_sum *u = payload;
    u->groups += r->groups;
    u->bytes += r->bytes;
    u->nalerts++;
    if (r->updated_ns > u->updated_ns)
        u->updated_ns = r->updated_ns;
    /* An alert that dropped events, or is about to: the one thing to act on (raise max_groups,
     * or group by something with fewer values). */
    if (r->overflow > 0 || (r->max_groups > 0 && r->groups * 10 >= r->max_groups * 9))
        lw_buf_printf(&u->full, "  %-24s %lld of max_groups %lld, %lld events over max_groups\n",
                      r->alert, (long long)r->groups, (long long)r->max_groups,
                      (long long)r->overflow);
}

/* ---------------------------------------------------------------- status: health first */

/* GET /health from the daemon at listen ("HOST:PORT"; a wildcard host is asked on loopback),
 * with token when there is one, waiting at most 2 s. The parsed body and *code, or NULL when
 * nothing answers there (the daemon does not run, or serves no HTTP). */
static json_t *ask_health(const char *listen, const char *token, int *code)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return NULL;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    if (!strcmp(host, "0.0.0.0") || !host[0] || !strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct lw_buf req = {0}, resp = {0};
    json_t *j = NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        goto out;
    lw_buf_printf(&req, "GET /health HTTP/1.0\r\nHost: %s\r\n", host);
    if (token)
        lw_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
    lw_buf_puts(&req, "\r\n");
    if (write(fd, req.p, req.len) != (ssize_t)req.len)
        goto out;
    char chunk[4096];
    ssize_t n;
    while (resp.len < (1u << 20) && (n = read(fd, chunk, sizeof chunk)) > 0)
        lw_buf_append(&resp, chunk, (size_t)n);
    lw_buf_putc(&resp, 0);
    const char *body = strstr(resp.p, "\r\n\r\n");
    if (sscanf(resp.p, "HTTP/%*s %d", code) != 1 || !body)
        goto out;
    j = json_loads(body + 4, 0, NULL);
out:
    close(fd);
    if (req.p)
        memset(req.p, 0, req.len); /* it held the token */
    lw_buf_free(&req);
    lw_buf_free(&resp);
    return j;
}

static const char *str_or(json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : def;
}

/* The daemon's /health as lines: the status, then the store, each input and each sink. */
static void print_health(const char *listen, json_t *h, int code)
{
    const char *k;
    json_t *v;
    printf("health: %s (HTTP %d from the daemon at %s: version %s, up %llds)\n",
           str_or(h, "status", "?"), code, listen, str_or(h, "version", "?"),
           (long long)json_integer_value(json_object_get(h, "uptime_s")));
    json_t *st = json_object_get(h, "store");
    printf("  %-6s %-16s %-9s last flush %s, %.1f MB%s%s\n", "store", "state file",
           str_or(st, "status", "?"), str_or(st, "last_flush_at", "never"),
           (double)json_integer_value(json_object_get(st, "size_bytes")) / (1 << 20),
           json_is_string(json_object_get(st, "last_error")) ? ", last error: " : "",
           str_or(st, "last_error", ""));
    json_object_foreach(json_object_get(h, "inputs"), k, v)
    {
        json_t *lag = json_object_get(v, "lag");
        const char *unit = NULL;
        json_t *x = NULL;
        json_object_foreach(lag, unit, x)
        {
            break;
        }
        printf("  %-6s %-16s %-9s %lld records, last at %s", "input", k, str_or(v, "status", "?"),
               (long long)json_integer_value(json_object_get(v, "records")),
               str_or(v, "last_record_at", "never"));
        if (unit && x)
            printf(", lag %lld %s", (long long)json_integer_value(x), unit);
        printf(", %lld errors%s%s\n", (long long)json_integer_value(json_object_get(v, "errors")),
               *str_or(v, "detail", "") ? ": " : "", str_or(v, "detail", ""));
    }
    json_object_foreach(json_object_get(h, "sinks"), k, v)
    {
        printf("  %-6s %-16s %-9s %lld queued (oldest %.0fs), last success %s%s%s\n", "sink", k,
               str_or(v, "status", "?"),
               (long long)json_integer_value(json_object_get(v, "queued")),
               json_number_value(json_object_get(v, "oldest_queued_s")),
               str_or(v, "last_success_at", "never"),
               *str_or(v, "last_error", "") ? ", last error: " : "", str_or(v, "last_error", ""));
    }
}

static void on_outbox_sink(const char *sink, int64_t pending, int64_t oldest_ns,
                           const char *last_error, void *payload)
{
    int64_t now = *(int64_t *)payload;
    printf("  %-6s %-16s %lld queued (oldest %.0fs)%s%s\n", "sink", sink, (long long)pending,
           oldest_ns ? (double)(now - oldest_ns) / 1e9 : 0.0, last_error ? ", last error: " : "",
           last_error ? last_error : "");
}

/* Without a daemon to ask: what the state file says (its last write, its size, what each sink
 * still owes). */
static void print_state_health(struct lw_store *st, const char *state, const char *why)
{
    struct stat sb;
    int64_t last = 0, size = 0, now = lw_now_ns();
    char wal[4096], ts[40] = "unknown";
    snprintf(wal, sizeof wal, "%s-wal", state);
    for (int i = 0; i < 2; i++)
        if (stat(i ? wal : state, &sb) == 0) {
            int64_t t = (int64_t)sb.st_mtim.tv_sec * LW_NS_PER_SEC + sb.st_mtim.tv_nsec;
            last = t > last ? t : last;
            size += sb.st_size;
        }
    if (last)
        lw_fmt_rfc3339(last, ts, sizeof ts);
    printf("health: %s; from the state file:\n", why);
    printf("  %-6s %-16s last write %s, %.1f MB\n", "store", "state file", ts,
           (double)size / (1 << 20));
    lw_store_outbox_sinks(st, on_outbox_sink, &now);
}

int lw_cmd_status(int argc, char **argv)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    int first, n = 0;
    int64_t pending = 0, sent = 0, failed = 0;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: logwarden status -c CONFIG\n\nPrints the daemon's health first (its "
               "/health, asked at http.listen; when it does not answer, what the state file "
               "says: its last write, its size, the notifications each sink still owes), then "
               "the firing and pending alerts and the notification outbox from the state "
               "file.\n");
        return 0;
    }
    struct endpoint ep = {0};
    int rc = open_state_ep(argc, argv, &st, &first, &ep);
    if (rc) {
        free(ep.listen);
        free(ep.token);
        return rc;
    }
    int code = 0;
    json_t *h = ep.listen ? ask_health(ep.listen, ep.token, &code) : NULL;
    if (h)
        print_health(ep.listen, h, code);
    else
        print_state_health(st, ep.state,
                           ep.listen ? "the daemon does not answer at http.listen"
                                     : "no http.listen to ask the daemon");
    json_decref(h);
    free(ep.listen);
    if (ep.token)
        memset(ep.token, 0, strlen(ep.token));
    free(ep.token);
    free(ep.state);
    printf("\n");
    printf("%-8s %-24s %-16s %-24s %s\n", "STATE", "ALERT", "FINGERPRINT", "SINCE", "GROUP");
    if (lw_store_load_states(st, print_state, &n, &err) < 0) {
        fprintf(stderr, "logwarden status: %s\n", err.msg);
        lw_store_close(st);
        return 1;
    }
    lw_store_outbox_counts(st, &pending, &sent, &failed);
    printf("%d alerts; outbox: %lld pending, %lld sent, %lld failed\n", n, (long long)pending,
           (long long)sent, (long long)failed);
    struct usage_sum u = {0};
    if (lw_store_load_usage(st, sum_usage, &u, &err) == 0 && u.nalerts > 0) {
        char ts[40];
        lw_fmt_rfc3339(u.updated_ns, ts, sizeof ts);
        printf("groups: %lld over %d alerts, %.1f MB of windows (at %s)\n", (long long)u.groups,
               u.nalerts, (double)u.bytes / (1 << 20), ts);
        if (u.full.len)
            printf("at or near max_groups:\n%s", u.full.p);
    }
    lw_buf_free(&u.full);
    lw_store_close(st);
    return 0;
}

static void print_silence(const struct lw_silence_row *r, void *payload)
{
    char s[40], e[40];
    json_t *m = json_loads(r->matchers, 0, NULL);
    struct lw_buf b = {0};
    size_t i;
    json_t *x;
    (void)payload;
    json_array_foreach(m, i, x)
    {
        bool neg = json_is_true(json_object_get(x, "negative"));
        bool re = json_is_true(json_object_get(x, "regex"));
        lw_buf_printf(&b, "%s%s%s%s", i ? " " : "", json_string_value(json_object_get(x, "name")),
                      neg ? (re ? "!~" : "!=") : (re ? "=~" : "="),
                      json_string_value(json_object_get(x, "value")));
    }
    json_decref(m);
    lw_fmt_rfc3339(r->starts_ns, s, sizeof s);
    lw_fmt_rfc3339(r->ends_ns, e, sizeof e);
    printf("%s  %s .. %s  %s  %s (%s)\n", r->id, s, e, b.p ? b.p : "", r->comment, r->created_by);
    lw_buf_free(&b);
}

static void new_id(char out[37])
{
    unsigned char r[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(r, 1, sizeof r, f) != sizeof r) {
        uint64_t a = lw_hash64(&r, sizeof r, (uint64_t)lw_now_ns() ^ (uint64_t)getpid());
        memcpy(r, &a, 8);
        memcpy(r + 8, &a, 8);
    }
    if (f)
        fclose(f);
    r[6] = (r[6] & 0x0f) | 0x40; /* a version 4 UUID, as Alertmanager's silence ids */
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

static void count_silence(const struct lw_silence_row *r, void *payload)
{
    (void)r;
    (*(size_t *)payload)++;
}

/* The bound a silence exceeds (its name in *limit), or 0. */
static int silence_bounds(struct lw_store *st, char *const *matchers, size_t n, int64_t dur_ns,
                          const char *comment, const char *by, const char **limit,
                          struct lw_err *err)
{
    size_t active = 0;
#define OVER(name, ...) (*limit = (name), lw_err_set(err, LW_EFULL, __VA_ARGS__))
    if (n > LW_SILENCE_MATCHERS_MAX)
        return OVER("matchers", "a silence has at most %d matchers, not %zu",
                    LW_SILENCE_MATCHERS_MAX, n);
    for (size_t i = 0; i < n; i++)
        if (strlen(matchers[i]) > LW_SILENCE_MATCHER_BYTES)
            return OVER("matcher_bytes", "matcher %zu is %zu bytes long, the most is %d", i + 1,
                        strlen(matchers[i]), LW_SILENCE_MATCHER_BYTES);
    if (strlen(comment) > LW_SILENCE_COMMENT_BYTES)
        return OVER("comment_bytes", "the comment is %zu bytes long, the most is %d",
                    strlen(comment), LW_SILENCE_COMMENT_BYTES);
    if (strlen(by) > LW_SILENCE_AUTHOR_BYTES)
        return OVER("author_bytes", "the author (createdBy) is %zu bytes long, the most is %d",
                    strlen(by), LW_SILENCE_AUTHOR_BYTES);
    if (dur_ns > LW_SILENCE_DURATION_DAYS * 86400 * LW_NS_PER_SEC)
        return OVER("duration", "a silence lasts at most %d days (%dd)", LW_SILENCE_DURATION_DAYS,
                    LW_SILENCE_DURATION_DAYS);
    if (lw_store_silences(st, false, lw_now_ns(), count_silence, &active, err) < 0)
        return err->code;
    if (active >= LW_SILENCES_MAX)
        return OVER("silences",
                    "there are already %zu active silences, the most is %d: expire some first",
                    active, LW_SILENCES_MAX);
#undef OVER
    return 0;
}

int lw_silence_create(struct lw_store *st, char *const *matchers, size_t n, int64_t dur_ns,
                      const char *comment, const char *by, char id[37], const char **limit,
                      struct lw_err *err)
{
    char *mj = NULL;
    const char *lim = NULL;
    int rc = silence_bounds(st, matchers, n, dur_ns, comment, by, &lim, err);
    if (limit)
        *limit = lim;
    if (rc < 0)
        return rc;
    if (lw_silence_matchers_json(matchers, n, &mj, err) < 0)
        return LW_EINVAL;
    int64_t now = lw_now_ns();
    new_id(id);
    struct lw_silence_row r = {id, mj, now, now + dur_ns, comment, by, now};
    rc = lw_store_silence_put(st, &r, err);
    free(mj);
    return rc;
}

static void usage_silence(FILE *f)
{
    fprintf(f, "usage: logwarden silence add -c CONFIG MATCHER... [--for 2h] [--comment TEXT]\n"
               "       logwarden silence list -c CONFIG [--all]\n"
               "       logwarden silence expire -c CONFIG ID\n\n"
               "MATCHER is name=value, name!=value, name=~regex or name!~regex (regexes match the\n"
               "whole label value). Silenced alerts are recorded but not sent; if still firing\n"
               "when the silence ends, they are sent then.\n");
}

int lw_cmd_silence(int argc, char **argv)
{
    struct lw_store *st = NULL;
    struct lw_err err = {0};
    int first, rc;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage_silence(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "expire")) {
        usage_silence(stderr);
        return 2;
    }
    if ((rc = open_state(argc - 1, argv + 1, &st, &first)) != 0)
        return rc;
    first += 1; /* argv + 1 was given */
    if (!strcmp(sub, "list")) {
        bool all = first < argc && !strcmp(argv[first], "--all");
        rc = lw_store_silences(st, all, lw_now_ns(), print_silence, NULL, &err) < 0 ? 1 : 0;
    } else if (!strcmp(sub, "expire")) {
        if (first >= argc) {
            usage_silence(stderr);
            rc = 2;
        } else if (lw_store_silence_expire(st, argv[first], lw_now_ns(), &err) < 0) {
            fprintf(stderr, "logwarden silence expire: %s\n", err.msg);
            rc = 2;
        } else {
            printf("expired %s\n", argv[first]);
        }
    } else {
        char **m = lw_calloc((size_t)argc + 1, sizeof *m);
        size_t nm = 0;
        int64_t dur = 3600 * LW_NS_PER_SEC;
        const char *comment = "", *by = getenv("USER") ? getenv("USER") : "logwarden";
        rc = 0;
        for (int i = first; i < argc; i++) {
            if (!strcmp(argv[i], "--for") && i + 1 < argc) {
                i++;
                if (lw_parse_duration(argv[i], strlen(argv[i]), &dur) < 0 || dur <= 0) {
                    fprintf(stderr, "logwarden silence add: bad duration '%s'\n", argv[i]);
                    rc = 2;
                }
            } else if (!strcmp(argv[i], "--comment") && i + 1 < argc) {
                comment = argv[++i];
            } else if (!strcmp(argv[i], "--author") && i + 1 < argc) {
                by = argv[++i];
            } else {
                m[nm++] = argv[i];
            }
        }
        char id[37];
        if (rc == 0 && lw_silence_create(st, m, nm, dur, comment, by, id, NULL, &err) < 0) {
            fprintf(stderr, "logwarden silence add: %s\n", err.msg);
            rc = 2;
        }
        if (rc == 0)
            printf("%s\n", id);
        free(m);
    }
    if (rc == 1)
        fprintf(stderr, "logwarden silence: %s\n", err.msg);
    lw_store_close(st);
    return rc;
}
