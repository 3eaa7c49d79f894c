/* driver.c: replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer (as Fluent
 * Bit's tests/internal/fuzzers/local_test.c), so gcc builds and ctest run every corpus.
 *
 * usage: NAME_fuzz [FILE|DIR]...
 * Each FILE is one input; each DIR contributes its regular files, in name order. The empty
 * input always runs first, as libFuzzer's does. Before each input its path goes to stderr,
 * so a crash names the input that caused it. Exit 0 when every input returned; a bug shows as
 * a crash, an abort() or a sanitizer report. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

#define DRIVER_MAX_INPUT (16u << 20) /* libFuzzer's inputs are small; refuse to slurp a stray huge file */

static struct {
    unsigned long runs;   /* inputs replayed */
    unsigned long errors; /* paths that could not be read */
} g;

/* Runs one input of exactly size bytes: a private heap copy, so reads past the end are
 * caught by ASan as they would be under libFuzzer. */
static void run_one(const char *label, const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        fprintf(stderr, "driver: out of memory\n");
        exit(1);
    }
    if (size)
        memcpy(copy, data, size);
    fprintf(stderr, "driver: %s (%zu bytes)\n", label, size);
    fflush(stderr);
    (void)LLVMFuzzerTestOneInput(copy, size);
    free(copy);
    g.runs++;
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        g.errors++;
        return;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, "driver: out of memory\n");
        exit(1);
    }
    for (;;) {
        if (len == cap) {
            if (cap >= DRIVER_MAX_INPUT) {
                fprintf(stderr, "driver: %s: larger than %u bytes, skipped\n", path, DRIVER_MAX_INPUT);
                g.errors++;
                goto out_free_buf;
            }
            cap *= 2;
            uint8_t *bigger = realloc(buf, cap);
            if (!bigger) {
                fprintf(stderr, "driver: out of memory\n");
                exit(1);
            }
            buf = bigger;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "driver: %s: read error\n", path);
        g.errors++;
        goto out_free_buf;
    }
    run_one(path, buf, len);
out_free_buf:
    free(buf);
    fclose(f);
}

static int only_files(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        g.errors++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    struct dirent **names = NULL;
    int n = scandir(path, &names, only_files, alphasort);
    if (n < 0) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        g.errors++;
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
        char *full = malloc(len);
        if (!full) {
            fprintf(stderr, "driver: out of memory\n");
            exit(1);
        }
        snprintf(full, len, "%s/%s", path, names[i]->d_name);
        struct stat fst;
        if (stat(full, &fst) == 0 && S_ISREG(fst.st_mode))
            run_file(full);
        free(full);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    run_one("(empty input)", (const uint8_t *)"", 0);
    for (int i = 1; i < argc; i++)
        run_path(argv[i]);
    fprintf(stderr, "driver: %lu inputs replayed, %lu unreadable\n", g.runs, g.errors);
    return g.errors ? 1 : 0;
}
