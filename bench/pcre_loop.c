/* pcre_loop.c: the ceiling for the rule engine. Reads the corpus in 1 MB blocks, cuts lines with
 * memchr and runs every pattern (PCRE2, JIT-compiled as logwarden does: no UTF mode; one match
 * data block and one JIT stack reused; pcre2_jit_match) on every line, counting matches. No
 * fields, no timestamps, no windows: only the regex work.
 *
 *   pcre_loop --patterns FILE [--quiet] CORPUS
 *
 * FILE has one pattern per line (empty lines and lines starting with '#' are skipped).
 * Prints per pattern its match count, then "lines L matched_any A matches M" and the time.
 * Build: cc -O2 -o pcre_loop pcre_loop.c $(pkg-config --cflags --libs libpcre2-8)
 */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (1u << 20) /* bytes per read(), as logwarden replay */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *pfile = NULL, *corpus = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--patterns") && i + 1 < argc)
            pfile = argv[++i];
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "usage: pcre_loop --patterns FILE [--quiet] CORPUS\n");
            return 2;
        } else
            corpus = argv[i];
    }
    if (!pfile || !corpus) {
        fprintf(stderr, "usage: pcre_loop --patterns FILE [--quiet] CORPUS\n");
        return 2;
    }

    FILE *pf = fopen(pfile, "r");
    if (!pf) {
        perror(pfile);
        return 2;
    }
    size_t np = 0, cap = 16;
    pcre2_code **re = malloc(cap * sizeof *re);
    char **src = malloc(cap * sizeof *src);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t ln;
    while ((ln = getline(&line, &lcap, pf)) >= 0) {
        while (ln > 0 && (line[ln - 1] == '\n' || line[ln - 1] == '\r'))
            line[--ln] = 0;
        if (ln == 0 || line[0] == '#')
            continue;
        int err;
        PCRE2_SIZE off;
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)line, (PCRE2_SIZE)ln, 0, &err, &off, NULL);
        if (!c) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fprintf(stderr, "%s: pattern %zu at %zu: %s\n", pfile, np + 1, (size_t)off, msg);
            return 2;
        }
        if (pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0)
            fprintf(stderr, "warning: pattern %zu not JIT-compiled\n", np + 1);
        if (np == cap) {
            cap *= 2;
            re = realloc(re, cap * sizeof *re);
            src = realloc(src, cap * sizeof *src);
        }
        src[np] = strdup(line);
        re[np++] = c;
    }
    fclose(pf);
    free(line);

    /* One match data block sized for the pattern with the most groups; one JIT stack. */
    uint32_t maxcap = 1;
    for (size_t i = 0; i < np; i++) {
        uint32_t n;
        pcre2_pattern_info(re[i], PCRE2_INFO_CAPTURECOUNT, &n);
        if (n + 1 > maxcap)
            maxcap = n + 1;
    }
    pcre2_match_data *md = pcre2_match_data_create(maxcap, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_jit_stack *js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    pcre2_jit_stack_assign(mc, NULL, js);

    int fd = open(corpus, O_RDONLY);
    if (fd < 0) {
        perror(corpus);
        return 2;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    unsigned long long *count = calloc(np ? np : 1, sizeof *count);
    unsigned long long lines = 0, any = 0, total = 0;
    size_t bcap = BLOCK, have = 0;
    char *buf = malloc(bcap);
    double t0 = now_s();
    for (;;) {
        if (have == bcap) { /* a line longer than the buffer */
            bcap *= 2;
            buf = realloc(buf, bcap);
        }
        ssize_t r = read(fd, buf + have, bcap - have);
        if (r < 0) {
            perror(corpus);
            return 2;
        }
        int eof = r == 0;
        have += (size_t)r;
        const char *p = buf, *end = buf + have;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl && !eof)
                break; /* keep the partial line for the next read */
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            int hit = 0;
            for (size_t i = 0; i < np; i++) {
                int rc = pcre2_jit_match(re[i], (PCRE2_SPTR)p, n, 0, PCRE2_NO_UTF_CHECK, md, mc);
                if (rc >= 0) {
                    count[i]++;
                    hit = 1;
                }
            }
            lines++;
            any += (unsigned long long)hit;
            p += n + 1;
        }
        if (eof)
            break;
        have = (size_t)(end - p);
        memmove(buf, p, have);
    }
    double secs = now_s() - t0;
    for (size_t i = 0; i < np; i++) {
        total += count[i];
        if (!quiet)
            printf("%12llu  %.70s\n", count[i], src[i]);
    }
    printf("lines %llu matched_any %llu matches %llu patterns %zu seconds %.3f lines_per_s %.0f\n", lines,
           any, total, np, secs, secs > 0 ? (double)lines / secs : 0.0);
    return 0;
}
