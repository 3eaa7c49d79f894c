/* lw_tz.c: time zones for timestamps without a zone: TZif files (RFC 8536) read once per zone,
 * their POSIX TZ footer rule for times past the table, and local <-> UTC conversion. */
#include "lw_tz.h"
#include "lw_time.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_S INT64_C(86400)
#define MAX_TZIF (256 * 1024) /* real TZif files are a few KiB */
#define MAX_NAME 255

/* One rule date of a POSIX TZ string: Jn (1..365, no Feb 29), n (0..365) or Mm.w.d. */
struct rdate {
    char kind; /* 'J', 'n' or 'M' */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight (may be negative or past 24h) */
};

/* A POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0"): offsets are seconds east of UTC. */
struct prule {
    int32_t std_off, dst_off;
    bool has_dst;
    struct rdate start, end;
};

struct lw_tz {
    char *name;
    int64_t *trans; /* UTC seconds of the transitions, ascending */
    int32_t *off;   /* the offset in effect from each transition on */
    size_t ntrans;
    int32_t off0;  /* before the first transition (TZif type 0) */
    bool has_rule; /* the footer rule governs times after the last transition */
    struct prule rule;
    struct lw_tz *next; /* the intern list */
};

static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lw_tz *zones; /* every zone loaded, kept until exit */
static const struct lw_tz utc_zone = {.name = (char *)"UTC"};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---------------------------------------------------------------- POSIX TZ rules */

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* An abbreviation: 3+ letters, or <...> (e.g. "<+03>"). */
static const char *p_name(const char *s)
{
    const char *b = s;
    if (*s == '<') {
        while (*s && *s != '>')
            s++;
        return *s == '>' && s - b >= 4 ? s + 1 : NULL;
    }
    while (is_alpha(*s))
        s++;
    return s - b >= 3 ? s : NULL;
}

static const char *p_num(const char *s, int max, int *out)
{
    int v = 0, nd = 0;
    while (is_digit(*s) && nd < 4) {
        v = v * 10 + (*s++ - '0');
        nd++;
    }
    if (!nd || v > max)
        return NULL;
    *out = v;
    return s;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (TZif v3 allows that for rule times). */
static const char *p_hms(const char *s, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!(s = p_num(s, 167, &h)))
        return NULL;
    if (*s == ':' && !(s = p_num(s + 1, 59, &m)))
        return NULL;
    if (s && *s == ':' && !(s = p_num(s + 1, 59, &sec)))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *p_rdate(const char *s, struct rdate *r)
{
    r->time = 2 * 3600;
    if (*s == 'J') {
        r->kind = 'J';
        if (!(s = p_num(s + 1, 365, &r->n)) || r->n < 1)
            return NULL;
    } else if (*s == 'M') {
        r->kind = 'M';
        if (!(s = p_num(s + 1, 12, &r->m)) || r->m < 1 || *s != '.' ||
            !(s = p_num(s + 1, 5, &r->w)) || r->w < 1 || *s != '.' || !(s = p_num(s + 1, 6, &r->d)))
            return NULL;
    } else if (is_digit(*s)) {
        r->kind = 'n';
        if (!(s = p_num(s, 365, &r->n)))
            return NULL;
    } else {
        return NULL;
    }
    if (*s == '/')
        s = p_hms(s + 1, &r->time);
    return s;
}

/* Parses a whole POSIX TZ string. Offsets there are west-positive: negate. */
static bool parse_prule(const char *s, struct prule *r)
{
    int32_t w;
    memset(r, 0, sizeof *r);
    if (!(s = p_name(s)) || !(s = p_hms(s, &w)))
        return false;
    r->std_off = -w;
    if (!*s)
        return true;
    if (!(s = p_name(s)))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = p_hms(s, &w)))
            return false;
        r->dst_off = -w;
    }
    if (!*s) {
        /* No dates: the US rules, as glibc assumes. */
        r->start = (struct rdate){'M', 0, 3, 2, 0, 7200};
        r->end = (struct rdate){'M', 0, 11, 1, 0, 7200};
        return true;
    }
    if (*s != ',' || !(s = p_rdate(s + 1, &r->start)) || *s != ',' ||
        !(s = p_rdate(s + 1, &r->end)))
        return false;
    return *s == 0;
}

/* Days since the epoch of local midnight of rule date r in year y. */
static int64_t rdate_day(const struct rdate *r, int64_t y)
{
    int64_t jan1 = lw_days_from_civil(y, 1, 1);
    if (r->kind == 'J')
        return jan1 + r->n - 1 + (lw_days_in_month(y, 2) == 29 && r->n >= 60);
    if (r->kind == 'n')
        return jan1 + r->n;
    int len = (int)lw_days_in_month(y, (unsigned)r->m);
    int64_t first = lw_days_from_civil(y, (unsigned)r->m, 1);
    int wd1 = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday (4) */
    int day = 1 + (r->d - wd1 + 7) % 7 + (r->w - 1) * 7;
    while (day > len)
        day -= 7;
    return first + day - 1;
}

static int32_t prule_offset(const struct prule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t days = floor_div(t + r->std_off, DAY_S), y;
    unsigned m, d;
    lw_civil_from_days(days, &y, &m, &d); /* the year of the local date */
    /* The start is given in standard time, the end in daylight time. */
    int64_t start = rdate_day(&r->start, y) * DAY_S + r->start.time - r->std_off;
    int64_t end = rdate_day(&r->end, y) * DAY_S + r->end.time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---------------------------------------------------------------- TZif */

static int64_t be(const unsigned char *p, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v = v << 8 | p[i];
    if (k == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* Parses a TZif file into z (v2+ uses its 64-bit block and footer). Returns 0 or -1 with why. */
static int parse_tzif(struct lw_tz *z, const unsigned char *p, size_t n, const char **why)
{
    *why = "not a TZif file";
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    int tsize = 4;
    size_t at = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (n - at < 44 || memcmp(p + at, "TZif", 4) != 0)
            return -1;
        char ver = (char)p[at + 4];
        size_t isut = (size_t)be(p + at + 20, 4), isstd = (size_t)be(p + at + 24, 4);
        size_t leap = (size_t)be(p + at + 28, 4), tcnt = (size_t)be(p + at + 32, 4);
        size_t typ = (size_t)be(p + at + 36, 4), chr = (size_t)be(p + at + 40, 4);
        if (tcnt > 10000 || typ == 0 || typ > 256 || chr > 10000 || leap > 10000 ||
            (isut && isut != typ) || (isstd && isstd != typ))
            return -1;
        size_t len =
            tcnt * (size_t)tsize + tcnt + typ * 6 + chr + leap * (size_t)(tsize + 4) + isstd + isut;
        at += 44;
        if (n - at < len)
            return -1;
        if (pass == 0 && ver >= '2') {
            at += len; /* skip the 32-bit block: the 64-bit one follows */
            tsize = 8;
            continue;
        }
        if (leap) {
            *why = "zone files with leap seconds (right/...) are not supported";
            return -1;
        }
        const unsigned char *tt = p + at, *ti = tt + tcnt * (size_t)tsize, *ty = ti + tcnt;
        z->trans = lw_calloc(tcnt + 1, sizeof *z->trans);
        z->off = lw_calloc(tcnt + 1, sizeof *z->off);
        for (size_t i = 0; i < tcnt; i++) {
            size_t k = ti[i];
            if (k >= typ || (i && be(tt + i * (size_t)tsize, tsize) <= z->trans[i - 1]))
                return -1;
            z->trans[i] = be(tt + i * (size_t)tsize, tsize);
            z->off[i] = (int32_t)be(ty + k * 6, 4);
        }
        z->ntrans = tcnt;
        z->off0 = (int32_t)be(ty, 4);
        at += len;
        if (tsize == 8 && at < n && p[at] == '\n') {
            const unsigned char *e = memchr(p + at + 1, '\n', n - at - 1);
            char foot[256];
            size_t fl = e ? (size_t)(e - (p + at + 1)) : 0;
            if (e && fl > 0 && fl < sizeof foot) {
                memcpy(foot, p + at + 1, fl);
                foot[fl] = 0;
                z->has_rule = parse_prule(foot, &z->rule);
            }
        }
        return 0;
    }
    return -1;
}

/* Reads a whole file (at most MAX_TZIF bytes). Returns the bytes (caller frees) or NULL. */
static unsigned char *read_file(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    unsigned char *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > MAX_TZIF)
        goto out_close;
    buf = lw_malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *n = got;
out_close:
    close(fd);
    return buf;
}

static void tz_free(struct lw_tz *z)
{
    free(z->name);
    free(z->trans);
    free(z->off);
    free(z);
}

/* An IANA name is a relative path of letters, digits and "/_+-." with no ".." component. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > MAX_NAME || s[0] == '/' || s[0] == '.' || strstr(s, "..") || strstr(s, "//"))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && !strchr("/_+-.", s[i]))
            return false;
    return true;
}

/* Loads from a file path; the zone gets display name `name`. NULL with *why on failure. */
static struct lw_tz *load_path(const char *name, const char *path, const char **why)
{
    size_t n = 0;
    unsigned char *buf = read_file(path, &n);
    if (!buf) {
        *why = "no such zone";
        return NULL;
    }
    struct lw_tz *z = lw_calloc(1, sizeof *z);
    z->name = lw_strdup(name);
    int rc = parse_tzif(z, buf, n, why);
    free(buf);
    if (rc < 0) {
        tz_free(z);
        return NULL;
    }
    return z;
}

/* The interned zone of that name, or NULL. Called with zones_lock held. */
static struct lw_tz *find_locked(const char *name)
{
    for (struct lw_tz *z = zones; z; z = z->next)
        if (!strcmp(z->name, name))
            return z;
    return NULL;
}

static void intern_locked(struct lw_tz *z)
{
    z->next = zones;
    zones = z;
}

int lw_tz_get(const struct lw_tz **out, const char *name, struct lw_err *err)
{
    if (!name || !valid_name(name))
        return lw_err_set(err, LW_EINVAL,
                          "timezone '%s' is not an IANA zone name (such as Europe/Berlin or UTC)",
                          name ? name : "");
    pthread_mutex_lock(&zones_lock);
    struct lw_tz *z = find_locked(name);
    const char *why = NULL;
    if (!z) {
        const char *dir = getenv("TZDIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
        if ((z = load_path(name, path, &why)))
            intern_locked(z);
    }
    pthread_mutex_unlock(&zones_lock);
    if (!z)
        return lw_err_set(err, LW_EINVAL, "unknown timezone '%s' (%s in %s)", name, why,
                          getenv("TZDIR") ? "$TZDIR" : "/usr/share/zoneinfo");
    *out = z;
    return 0;
}

static pthread_once_t local_once = PTHREAD_ONCE_INIT;
static const struct lw_tz *local_zone;

/* $TZ as glibc reads it: ":NAME" or NAME is a file under the zone folder (or a path), else a
 * POSIX TZ string; unset means /etc/localtime. */
static void local_init(void)
{
    const char *tz = getenv("TZ"), *why = NULL;
    struct lw_tz *z = NULL;
    struct lw_err err;
    const struct lw_tz *got;
    if (!tz) {
        z = load_path("localtime", "/etc/localtime", &why);
    } else {
        const char *name = tz[0] == ':' ? tz + 1 : tz;
        if (!*name) {
            local_zone = &utc_zone;
            return;
        }
        if (name[0] == '/') {
            z = load_path(name, name, &why);
        } else if (valid_name(name) && lw_tz_get(&got, name, &err) == 0) {
            local_zone = got;
            return;
        }
        if (!z) {
            struct prule r;
            if (parse_prule(name, &r)) {
                z = lw_calloc(1, sizeof *z);
                z->name = lw_strdup(name);
                z->rule = r;
                z->has_rule = true;
                z->off0 = r.std_off;
            }
        }
    }
    if (!z) {
        lw_log(LW_WARN, "local time zone %s%s unknown: zone-less timestamps are read as UTC",
               tz ? "TZ=" : "/etc/localtime", tz ? tz : "");
        local_zone = &utc_zone;
        return;
    }
    pthread_mutex_lock(&zones_lock);
    intern_locked(z);
    pthread_mutex_unlock(&zones_lock);
    local_zone = z;
}

const struct lw_tz *lw_tz_local(void)
{
    pthread_once(&local_once, local_init);
    return local_zone;
}

const char *lw_tz_name(const struct lw_tz *tz)
{
    return tz ? tz->name : "UTC";
}

int32_t lw_tz_offset(const struct lw_tz *tz, int64_t t)
{
    if (!tz)
        return 0;
    if (!tz->ntrans)
        return tz->has_rule ? prule_offset(&tz->rule, t) : tz->off0;
    if (t < tz->trans[0])
        return tz->off0;
    if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
        return prule_offset(&tz->rule, t);
    size_t lo = 0, hi = tz->ntrans; /* the last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[lo];
}

enum lw_tz_fit lw_tz_to_utc(const struct lw_tz *tz, int64_t local_s, int64_t now_s, int64_t *out)
{
    /* Consecutive log lines mostly repeat the same second: remember the last exact answer
     * (per thread, so without a lock). */
    static _Thread_local const struct lw_tz *last_tz;
    static _Thread_local int64_t last_local, last_utc;
    if (tz && tz == last_tz && local_s == last_local) {
        *out = last_utc;
        return LW_TZ_EXACT;
    }
    /* The offsets in effect a day either side: zones never change twice within two days, so
     * the instant (local - offset) takes one of these two. */
    int32_t a = lw_tz_offset(tz, local_s - DAY_S), b = lw_tz_offset(tz, local_s + DAY_S);
    int64_t ta = local_s - a, tb = local_s - b;
    bool va = lw_tz_offset(tz, ta) == a, vb = a != b && lw_tz_offset(tz, tb) == b;
    if (va && vb) {
        int64_t early = ta < tb ? ta : tb, late = ta < tb ? tb : ta;
        /* 300 s: the clock skew a live sender may have (the future tolerance of `run`). */
        bool live = now_s != 0 && late <= now_s + 300 && now_s - late < late - early;
        *out = live ? late : early;
        return LW_TZ_AMBIGUOUS;
    }
    if (va || vb) {
        *out = va ? ta : tb;
        last_tz = tz;
        last_local = local_s;
        last_utc = *out;
        return LW_TZ_EXACT;
    }
    *out = ta; /* a gap: the offset before it */
    return LW_TZ_GAP;
}
