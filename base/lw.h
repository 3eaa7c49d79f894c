/* lw.h: the few types every module shares: errors, diagnostics, logging, memory, buffers, time. */
#ifndef LW_BASE_H
#define LW_BASE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LW_VERSION "0.1.0"

#if defined(__GNUC__)
#define LW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LW_NORETURN __attribute__((noreturn))
#else
#define LW_PRINTF(a, b)
#define LW_NORETURN
#endif

/* Error codes: 0 is success, failures are negative (libuv style), each a distinct value.
 * -1 is LW_EFAIL, what the many `return -1` sites mean: failed, the lw_err or the log says why.
 * No code shares it, so a caller that tests for a specific code never mistakes it for one. */
enum {
    LW_OK = 0,
    LW_EFAIL = -1,  /* failed; the message says why */
    LW_EINVAL = -2, /* bad input or configuration */
    LW_EIO = -3,    /* a system call or library failed */
    LW_ENOENT = -4,
    LW_EAGAIN = -5, /* try again later (sink retry, queue full) */
    LW_EFULL = -6,  /* a limit was reached */
    LW_ENOMEM = -7, /* out of memory (allocation itself aborts: lw_oom) */
};
/* A short name for an error code ("invalid argument"); "unknown error" for any other value. */
const char *lw_strerror(int code);

#define LW_NS_PER_SEC INT64_C(1000000000)
#define LW_NS_PER_MS INT64_C(1000000)

/* A byte string: pointer + length, not NUL-terminated, borrowed. */
struct lw_str {
    const char *p;
    size_t n;
};

static inline struct lw_str lw_str_c(const char *s)
{
    struct lw_str r = {s, s ? __builtin_strlen(s) : 0};
    return r;
}

/* A caller-owned error: code plus a human message. */
struct lw_err {
    int code;
    char msg[512];
};
int lw_err_set(struct lw_err *err, int code, const char *fmt, ...) LW_PRINTF(3, 4);

/* Diagnostics collected by loaders: every problem, as "FILE:LINE:COL: message". */
struct lw_diag {
    char **msgs;
    size_t n, cap;
};
void lw_diag_add(struct lw_diag *d, const char *file, int line, int col, const char *fmt, ...)
    LW_PRINTF(5, 6);
void lw_diag_vadd(struct lw_diag *d, const char *file, int line, int col, const char *fmt,
                  va_list ap);
void lw_diag_print(const struct lw_diag *d, FILE *f);
void lw_diag_free(struct lw_diag *d);

/* Logging to stderr. The level is checked before arguments are evaluated. The level is
 * atomic: a reload sets it (lw_log_set_level) while other threads log. A relaxed load is
 * enough (no other data hangs on it) and costs what a plain one does. */
enum lw_level { LW_ERROR = 0, LW_WARN = 1, LW_INFO = 2, LW_DEBUG = 3 };
extern _Atomic int lw_log_level;
extern _Atomic bool lw_log_level_pinned;
void lw_log_write(int level, const char *fmt, ...) LW_PRINTF(2, 3);
static inline int lw_log_get_level(void)
{
    return atomic_load_explicit(&lw_log_level, memory_order_relaxed);
}
/* The config's log_level (at load and reload); ignored once the command line pinned one. */
static inline void lw_log_set_level(int level)
{
    if (!atomic_load_explicit(&lw_log_level_pinned, memory_order_relaxed))
        atomic_store_explicit(&lw_log_level, level, memory_order_relaxed);
}
/* The command line's --log-level: it wins over the config's for the life of the process. */
void lw_log_pin_level(int level);
/* "error", "warn", "info", "debug" to enum lw_level: 0, or -1 for another name. */
int lw_log_level_parse(const char *s, int *out);
/* How lines are written: text (`TIME LEVEL MESSAGE`) or JSON lines (`{"ts", "level", "input" or
 * "sink" or "component" from the message's [input:NAME] prefix, "msg"}`). LW_LOG_AUTO: text
 * when stderr is a terminal, JSON lines otherwise (a collector reads them). Both redact. */
enum lw_log_format { LW_LOG_TEXT = 0, LW_LOG_JSON, LW_LOG_AUTO };
void lw_log_set_format(enum lw_log_format f);
/* "text", "json" to the format: 0, or -1 for another name. */
int lw_log_format_parse(const char *s, enum lw_log_format *out);
#define lw_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= lw_log_get_level())                                                         \
            lw_log_write((level), __VA_ARGS__);                                                    \
    } while (0)

/* Invariants, in SQLite's ALWAYS/NEVER style, at the few places where a wrong state would
 * corrupt windows or the outbox. LW_ALWAYS(X) is X where X must hold, LW_NEVER(X) is X where
 * X must not: with LW_INVARIANTS (Debug, sanitizer and fuzz builds) a violation aborts with
 * file:line and the condition; otherwise they are the plain condition, so the Release build
 * costs nothing more than the code it would run anyway. LW_INVARIANT(X) is the statement
 * form, for a check with no way on: in Release it evaluates nothing but side-effect-free X,
 * which the compiler drops (keep X free of side effects). */
LW_NORETURN void lw_invariant_failed(const char *cond, const char *file, int line);
#ifdef LW_INVARIANTS
#define LW_ALWAYS(X) ((X) ? 1 : (lw_invariant_failed("ALWAYS(" #X ")", __FILE__, __LINE__), 0))
#define LW_NEVER(X) ((X) ? (lw_invariant_failed("NEVER(" #X ")", __FILE__, __LINE__), 1) : 0)
#else
#define LW_ALWAYS(X) (X)
#define LW_NEVER(X) (X)
#endif
#define LW_INVARIANT(X) ((void)LW_ALWAYS(X))

/* Memory: exhaustion is the one condition that aborts (like Redis zmalloc). */
LW_NORETURN void lw_oom(size_t size);
void *lw_malloc(size_t n);
void *lw_calloc(size_t n, size_t size);
void *lw_realloc(void *p, size_t n);
char *lw_strdup(const char *s);
char *lw_strndup(const char *s, size_t n);

/* A growable byte buffer, always NUL-terminated when non-empty. */
struct lw_buf {
    char *p;
    size_t len, cap;
};
void lw_buf_reserve(struct lw_buf *b, size_t extra);
void lw_buf_append(struct lw_buf *b, const void *p, size_t n);
void lw_buf_puts(struct lw_buf *b, const char *s);
void lw_buf_putc(struct lw_buf *b, char c);
void lw_buf_printf(struct lw_buf *b, const char *fmt, ...) LW_PRINTF(2, 3);
/* Appends p[0..n) as a quoted JSON string; invalid UTF-8 becomes U+FFFD, NUL becomes \u0000. */
void lw_buf_json_str(struct lw_buf *b, const char *p, size_t n);
/* s as a label value of the Prometheus text format writes it (\\, \", \n escaped), unquoted. */
void lw_buf_prom_label(struct lw_buf *b, const char *s);
void lw_buf_reset(struct lw_buf *b);
void lw_buf_free(struct lw_buf *b);
/* Gives the bytes to the caller (NUL-terminated); the buffer is left empty. */
char *lw_buf_steal(struct lw_buf *b);

/* Time. */
int64_t lw_now_ns(void);  /* wall clock, ns since the epoch */
int64_t lw_mono_ns(void); /* monotonic */
/* "2024-03-10T06:55:46Z" (fractions only when ns has them, as .mmm). out >= 40 bytes. */
void lw_fmt_rfc3339(int64_t ns, char *out, size_t size);
/* "150ms", "2s", "5m", "1h30m", "1d", "1.5s"; 0 ok, -1 not a duration. */
int lw_parse_duration(const char *s, size_t n, int64_t *ns);
/* The shortest exact form: 300 s -> "5m", 90 s -> "1m30s", 0.25 s -> "250ms". */
void lw_fmt_duration(int64_t ns, char *out, size_t size);
/* Days since 1970-01-01 for a proleptic Gregorian date (no timezone, no locale). */
int64_t lw_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Replaces ${VAR} with the environment's value; a missing variable is an error
 * (the message names the variable, never a value). *out is the caller's. */
int lw_expand_env(const char *s, char **out, struct lw_err *err);

/* Secrets: configured values that must never reach a log line, the state file or an API
 * answer (tokens, ${ENV} values, the secret parts of sink URLs). Registered once when the config
 * is loaded (thread-safe; values shorter than LW_SECRET_MIN are ignored: too common to tell
 * apart from ordinary text). lw_log_write redacts every line itself. */
#define LW_SECRET_MIN 4
#define LW_REDACTED "<redacted>"
void lw_secret_add(const char *s);
/* Copies s to out with every registered secret replaced by LW_REDACTED, and a tail that is the
 * start of a secret too, 8 bytes or more (a message cut in the middle of one). Returns false, out
 * untouched, when nothing was replaced (the common case: no copy is made). */
bool lw_redact(const char *s, struct lw_buf *out);
/* As lw_redact, in place in a NUL-terminated buffer of size bytes (cut to fit). */
void lw_redact_in(char *s, size_t size);

/* Parses a decimal integer or float without locale; 0 ok, -1 not a number. */
int lw_parse_i64(const char *p, size_t n, int64_t *out);
int lw_parse_f64(const char *p, size_t n, double *out);

/* Optional libraries, opened when first needed (lw_dl.c). Each slot is the address of a
 * function pointer of the symbol's type. Returns 0, or LW_EIO with an error naming soname and
 * needed_by when the library or a symbol is missing (no slot is then bound): the caller reports
 * it; library code never exits. */
struct lw_dl_sym {
    const char *name;
    void *slot;
};
int lw_dl_bind(const char *soname, const char *needed_by, const struct lw_dl_sym *syms, size_t n,
               struct lw_err *err);

/* 64-bit FNV-1a, used for fingerprints and group hashes. */
static inline uint64_t lw_hash64(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}
#define LW_HASH_SEED UINT64_C(14695981039346656037)

#endif
