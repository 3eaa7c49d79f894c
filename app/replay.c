/* replay.c: `logwarden replay` (files through the same decoders and rules, on event time) and
 * `logwarden check` (validate config and rule files without running). */
#include "app.h"
#include "outbox.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BLOCK (1u << 20)

struct replay {
    struct lw_config *cfg;
    struct lw_engine *eng;
    enum lw_format fmt;
    uint32_t input;
    const char *input_name;
    const struct lw_tz *tz; /* the input's zone, for times without one */
    const char *path;
    bool notify;
    uint64_t undelivered; /* --notify: notifications a sink refused or never took (exit 1) */
    uint64_t lines, bytes, malformed, alerts, truncated;
    int64_t total_bytes;
    int64_t start_mono, last_progress;
    bool tty;
    FILE *out;
    int64_t now_ns;      /* read once per block: the arrival time of its lines */
    int64_t fixed_now;   /* --now: the arrival time of every line, and "now" for syslog years */
    struct lw_dstate ds; /* per file: Docker/CRI partial lines, multiline records */
    const struct lw_multiline_cfg *multiline; /* the input's `multiline:`, NULL: none */
    size_t max_line;                          /* the input's max_line_bytes */
    struct lw_str labels[LW_L_COUNT];         /* what a file input would set: the file's path */
};

static void on_alert(const struct lw_alert_def *def, const char *json, size_t len, bool firing,
                     void *payload)
{
    struct replay *r = payload;
    (void)def;
    r->alerts++;
    fwrite(json, 1, len, r->out);
    fputc('\n', r->out);
    if (r->notify && (firing || r->cfg->notify.send_resolved)) {
        size_t n;
        size_t *sinks = lw_route_alert(&r->cfg->notify, json, len, &n);
        struct lw_buf b = {0};
        lw_buf_putc(&b, '[');
        lw_buf_append(&b, json, len);
        lw_buf_putc(&b, ']');
        for (size_t i = 0; i < n; i++)
            if (lw_deliver_now(r->cfg->sinks[sinks[i]], b.p, b.len, r->cfg->max_age_ns) != 0)
                r->undelivered++;
        lw_buf_free(&b);
        free(sinks);
    }
}

static void progress(struct replay *r, bool final)
{
    int64_t now = lw_mono_ns();
    if (!r->tty || (!final && now - r->last_progress < 200 * LW_NS_PER_MS))
        return;
    r->last_progress = now;
    double secs = (double)(now - r->start_mono) / 1e9;
    double mbs = secs > 0 ? (double)r->bytes / 1e6 / secs : 0;
    if (r->total_bytes > 0)
        fprintf(stderr, "\r%llu lines, %.1f MB/s, %.0f%%   ", (unsigned long long)r->lines, mbs,
                100.0 * (double)r->bytes / (double)r->total_bytes);
    else
        fprintf(stderr, "\r%llu lines, %.1f MB/s   ", (unsigned long long)r->lines, mbs);
    if (final)
        fputc('\n', stderr);
}

static void on_line(const char *line, size_t n, int64_t end_off, void *payload)
{
    struct replay *r = payload;
    struct lw_record rec = {{line, n}, r->now_ns, end_off};
    struct lw_rec dr;
    r->lines++;
    int rc = lw_decode_stream(&r->ds, r->fmt, r->input_name, r->tz, r->labels, &rec, r->input,
                              rec.recv_ns, &dr);
    if (rc < 0)
        r->malformed++;
    if (rc != 0)
        lw_engine_record(r->eng, &dr, rec.recv_ns);
}

static int replay_fd(struct replay *r, int fd)
{
    struct lw_linecut lc;
    struct stat sb;
    char *buf = NULL;
    lw_linecut_init(&lc, LW_MAX_LINE_DEFAULT, 0);
    lw_dstate_setup(&r->ds, r->multiline, r->max_line, NULL, r->input_name);
    /* A regular file is mapped: lines are cut straight from the page cache, without the copy
     * read() makes. It is fed in 1 MiB steps so that progress and "now" move. */
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        size_t size = (size_t)sb.st_size;
        char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            madvise(map, size, MADV_SEQUENTIAL);
            for (size_t off = 0; off < size; off += READ_BLOCK) {
                size_t n = size - off < READ_BLOCK ? size - off : READ_BLOCK;
                r->bytes += n;
                r->now_ns = r->fixed_now ? r->fixed_now : lw_now_ns();
                lw_linecut_feed(&lc, map + off, n, on_line, r);
                progress(r, false);
                /* Lines are done with once fed (a line cut across blocks is copied), so the
                 * block before this one leaves the process: replaying a 10 GB file does not
                 * show (or count against a memory limit) as 10 GB resident. */
                if (off >= READ_BLOCK)
                    madvise(map + off - READ_BLOCK, READ_BLOCK, MADV_DONTNEED);
            }
            lw_linecut_finish(&lc, on_line, r);
            munmap(map, size);
            goto out_finish;
        }
    }
    buf = lw_malloc(READ_BLOCK);
    for (;;) {
        ssize_t n = read(fd, buf, READ_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "logwarden replay: %s: %s\n", r->path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        r->bytes += (uint64_t)n;
        r->now_ns = r->fixed_now ? r->fixed_now : lw_now_ns();
        lw_linecut_feed(&lc, buf, (size_t)n, on_line, r);
        progress(r, false);
    }
    lw_linecut_finish(&lc, on_line, r);
out_finish:;
    /* The end of a file ends the records held back (partial lines, a multiline record). A
     * label takes a statement, not a declaration, in C11 (clang refuses it): hence the ';'. */
    struct lw_rec dr;
    while (lw_dstate_drain(&r->ds, LW_DRAIN_ALL, r->fmt, r->input_name, r->tz, r->labels, r->input,
                           r->now_ns, &dr))
        lw_engine_record(r->eng, &dr, r->now_ns);
    lw_dstate_free(&r->ds);
    r->truncated += lc.truncated;
    lw_linecut_free(&lc);
    free(buf);
    return 0;
}

static void usage_replay(FILE *f)
{
    fprintf(f, "usage: logwarden replay -c CONFIG [--format "
               "raw|json|logfmt|syslog|docker|cri|syslog+json|syslog+logfmt] "
               "[--input NAME] "
               "[--notify] [--now TIME]"
               " FILE...\n\n"
               "Reads the files (- for stdin) once, from the beginning, through the same\n"
               "decoders and rules as the daemon, on the events' own time, and prints every\n"
               "alert transition as one JSON object per line. Sinks are called only with\n"
               "--notify. Lines are taken as arriving on --input (default: the first input of\n"
               "the config), with that input's format unless --format is given; a notification\n"
               "a sink refused, or did not take within notify.max_age, makes the exit status 1.\n"
               "--now (RFC 3339) replaces the clock: lines without a time of their own arrive\n"
               "then, and syslog times without a year take the latest year not after it, so\n"
               "last year's logs replay as last year's, and a replay gives the same output\n"
               "on any day.\n");
}

int lw_cmd_replay(int argc, char **argv)
{
    struct replay r = {0};
    struct lw_diag diag = {0};
    struct lw_ruleset *rs = NULL;
    const char *config = NULL, *format = NULL, *input = NULL, *now_arg = NULL;
    const char **files = lw_calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    int rc = 2;
    bool net = false; /* --notify through a network sink: curl is initialised */

    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strcmp(argv[i], "--input") && i + 1 < argc)
            input = argv[++i];
        else if (!strcmp(argv[i], "--notify"))
            r.notify = true;
        else if (!strcmp(argv[i], "--now") && i + 1 < argc)
            now_arg = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_replay(stdout);
            free(files);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "logwarden replay: unknown option '%s'\n", argv[i]);
            usage_replay(stderr);
            goto out;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!config) {
        fprintf(stderr, "logwarden replay: -c CONFIG is required\n");
        goto out;
    }
    if (now_arg) {
        struct lw_tsfmt f;
        struct lw_err err = {0};
        int bad = lw_tsfmt_init(&f, "rfc3339", &err) < 0 ||
                  lw_tsfmt_parse(&f, now_arg, strlen(now_arg), 0, &r.fixed_now) < 0;
        lw_tsfmt_free(&f);
        if (bad || r.fixed_now == 0) {
            fprintf(stderr,
                    "logwarden replay: --now '%s' is not an RFC 3339 time (such as "
                    "2024-03-10T06:55:46Z)\n",
                    now_arg);
            goto out;
        }
    }
    if (nfiles == 0)
        files[nfiles++] = "-";
    if (lw_config_load(&r.cfg, config, &diag) < 0 || lw_config_rules(r.cfg, &rs, &diag) < 0) {
        lw_diag_print(&diag, stderr);
        goto out;
    }
    r.input = UINT32_MAX;
    r.input_name = "replay";
    if (input) {
        for (size_t i = 0; i < r.cfg->ninputs; i++)
            if (!strcmp(r.cfg->inputs[i].name, input))
                r.input = (uint32_t)i;
        if (r.input == UINT32_MAX) {
            fprintf(stderr, "logwarden replay: no input named '%s' in %s\n", input, config);
            goto out;
        }
    } else if (r.cfg->ninputs > 0) {
        r.input = 0;
    }
    if (r.input != UINT32_MAX) {
        r.input_name = r.cfg->inputs[r.input].name;
        r.fmt = r.cfg->inputs[r.input].format;
        r.tz = r.cfg->inputs[r.input].tz;
        r.multiline = r.cfg->inputs[r.input].multiline;
        r.max_line = r.cfg->inputs[r.input].in->max_line;
        /* Replay reads files, never the input itself: a consumer group is not joined, nothing is
         * rebuilt or committed, and what only the input knows is missing (docs/scale-out.md). */
        if (r.cfg->inputs[r.input].in->ops->sharded)
            fprintf(stderr,
                    "logwarden replay: input %s is a %s input: it is not read; the files' lines "
                    "are taken as its messages' values (a dump: kcat -C -e -f '%%s\\n'), "
                    "without its labels (topic, partition, offset, key, header.*)\n",
                    r.input_name, r.cfg->inputs[r.input].in->ops->type);
    } else {
        r.tz = lw_tz_local();
    }
    if (format && lw_format_parse(format, &r.fmt) < 0) {
        fprintf(stderr,
                "logwarden replay: unknown format '%s' (raw, json, logfmt, syslog, docker, cri, "
                "syslog+json, syslog+logfmt)\n",
                format);
        goto out;
    }
    net = r.notify && lw_sinks_need_global_init(r.cfg->sinks, r.cfg->nsinks);
    if (net)
        lw_sinks_global_init();
    r.out = stdout;
    r.tty = isatty(2);
    r.start_mono = lw_mono_ns();
    r.eng =
        lw_engine_new(rs, LW_MODE_REPLAY, r.fixed_now ? r.fixed_now : lw_now_ns(), on_alert, &r);
    for (size_t i = 0; i < nfiles; i++) {
        int fd = strcmp(files[i], "-") ? open(files[i], O_RDONLY) : 0;
        if (fd < 0) {
            fprintf(stderr, "logwarden replay: %s: %s\n", files[i], strerror(errno));
            rc = 1;
            goto out;
        }
        off_t size = fd ? lseek(fd, 0, SEEK_END) : -1;
        if (size > 0) {
            lseek(fd, 0, SEEK_SET);
            r.total_bytes += size;
        }
        r.path = strcmp(files[i], "-") ? files[i] : NULL;
        r.labels[LW_L_PATH] = r.path ? lw_str_c(r.path) : (struct lw_str){NULL, 0};
        replay_fd(&r, fd);
        if (fd)
            close(fd);
    }
    lw_engine_finish(r.eng);
    fflush(stdout);
    progress(&r, true);

    struct lw_engine_stats s;
    lw_engine_stats(r.eng, &s);
    fprintf(stderr, "replay: %llu lines (%.1f MB) in %.2fs, %llu events, %llu alert transitions",
            (unsigned long long)r.lines, (double)r.bytes / 1e6,
            (double)(lw_mono_ns() - r.start_mono) / 1e9, (unsigned long long)s.events,
            (unsigned long long)r.alerts);
    if (r.malformed)
        fprintf(stderr, ", %llu malformed", (unsigned long long)r.malformed);
    if (s.late)
        fprintf(stderr, ", %llu late", (unsigned long long)s.late);
    if (s.overflow)
        fprintf(stderr, ", %llu events over max_groups", (unsigned long long)s.overflow);
    if (rs->decode_errors)
        fprintf(stderr, ", %llu undecodable bodies", (unsigned long long)rs->decode_errors);
    if (r.truncated)
        fprintf(stderr, ", %llu truncated", (unsigned long long)r.truncated);
    if (r.undelivered)
        fprintf(stderr, ", %llu notifications not delivered", (unsigned long long)r.undelivered);
    fputc('\n', stderr);
    for (size_t i = 0; i < rs->nevents; i++) {
        const struct lw_event_def *ev = &rs->events[i];
        fprintf(stderr, "  event %s: %llu", ev->name, (unsigned long long)ev->matched);
        if (ev->conv_errors)
            fprintf(stderr, ", %llu conversion errors", (unsigned long long)ev->conv_errors);
        if (ev->ts_errors)
            fprintf(stderr, ", %llu bad timestamps", (unsigned long long)ev->ts_errors);
        if (ev->regex_limits)
            fprintf(stderr, ", %llu lines over the regex limits",
                    (unsigned long long)ev->regex_limits);
        uint64_t skipped = lw_ruleset_skipped(rs, i);
        if (skipped)
            fprintf(stderr, ", %llu lines skipped by the prefilter", (unsigned long long)skipped);
        fputc('\n', stderr);
    }
    rc = r.undelivered ? 1 : 0;
out:
    if (net)
        lw_sinks_global_cleanup();
    lw_engine_free(r.eng);
    lw_ruleset_free(rs);
    lw_config_free(r.cfg);
    lw_diag_free(&diag);
    free(files);
    return rc;
}

int lw_cmd_check(int argc, char **argv)
{
    struct lw_diag diag = {0}, warnings = {0};
    struct lw_config *cfg = NULL;
    struct lw_ruleset *rs = NULL;
    const char *config = NULL;
    const char **files = lw_calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    int rc = 2;

    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            config = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: logwarden check -c CONFIG\n       logwarden check RULEFILE...\n\n"
                   "Validates the config and its rules (or rule files alone) without running.\n"
                   "Prints every error as FILE:LINE:COL: message; exits 0 when valid, 2 when "
                   "not.\n");
            free(files);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "logwarden check: unknown option '%s'\n", argv[i]);
            free(files);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!config && nfiles == 0) {
        fprintf(stderr, "logwarden check: give -c CONFIG or rule files\n");
        free(files);
        return 2;
    }
    if (config) {
        /* Rules are checked even when the config has errors, so that every error shows. */
        lw_config_load(&cfg, config, &diag);
        if (cfg)
            lw_config_rules_warn(cfg, &rs, &diag, &warnings);
    }
    if (nfiles) {
        struct lw_ruleset *rs2 = NULL;
        lw_ruleset_load(&rs2, files, nfiles, NULL, &diag);
        if (rs2 && !rs)
            rs = rs2;
        else
            lw_ruleset_free(rs2);
    }
    /* Warnings (a field only other inputs set) are shown, and do not make the config invalid. */
    lw_diag_print(&warnings, stderr);
    if (diag.n) {
        lw_diag_print(&diag, stderr);
        fprintf(stderr, "%zu error%s\n", diag.n, diag.n == 1 ? "" : "s");
    } else {
        printf("ok: %zu events, %zu alerts%s\n", rs ? rs->nevents : 0, rs ? rs->nalerts : 0,
               warnings.n ? " (with warnings)" : "");
        rc = 0;
    }
    lw_ruleset_free(rs);
    lw_config_free(cfg);
    lw_diag_free(&diag);
    lw_diag_free(&warnings);
    free(files);
    return rc;
}
