/* test_syslog_parse.c: RFC 3164 and RFC 5424 decoding on real and RFC sample lines, year
 * inference, and garbage that must fail cleanly without reading past the line. */
#include "ingest.h"
#include "lw_tz.h"
#include "test.h"

#include <stdlib.h>

static char sbuf[8][512];

/* The field as a C string, for CHECK_STR. */
static const char *S(struct lw_str s)
{
    static int k;
    char *b = sbuf[k++ % 8];
    size_t n = s.n < 511 ? s.n : 511;
    memcpy(b, s.p, n);
    b[n] = '\0';
    return b;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    return ((lw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60 *
               LW_NS_PER_SEC +
           (int64_t)s * LW_NS_PER_SEC;
}

/* Parses a copy of exactly n bytes, so ASan catches any read past the end. */
static int parse(const char *line, int64_t now, struct lw_syslog_msg *m)
{
    size_t n = strlen(line);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, line, n);
    static char keep[8][1024];
    static int k;
    int rc = lw_syslog_parse(copy, n, now, m);
    /* Re-point the fields into a buffer that outlives the copy. */
    char *dst = keep[k++ % 8];
    memcpy(dst, copy, n < 1024 ? n : 1024);
    struct lw_str *fs[] = {&m->host, &m->app, &m->procid, &m->msgid, &m->sd, &m->msg};
    for (size_t i = 0; i < 6; i++)
        if (fs[i]->n)
            fs[i]->p = dst + (fs[i]->p - copy);
    free(copy);
    return rc;
}

static void test_rfc3164_files(void)
{
    /* Real lines from /work/shared/corpus/umm-secure/mylar (2011, no PRI, no year). */
    int64_t aug2011 = utc(2011, 8, 15, 0, 0, 0);
    struct lw_syslog_msg m;
    CHECK_EQ(parse("Jul 11 08:10:34 mylar sshd[11960]: Failed password for root from "
                   "113.31.19.113 port 54587 ssh2",
                   aug2011, &m),
             0);
    CHECK_EQ(m.pri, -1);
    CHECK_EQ(m.facility, -1);
    CHECK_EQ(m.severity, -1);
    CHECK_EQ(m.ts_ns, utc(2011, 7, 11, 8, 10, 34));
    CHECK_STR(S(m.host), "mylar");
    CHECK_STR(S(m.app), "sshd");
    CHECK_STR(S(m.procid), "11960");
    CHECK_STR(S(m.msg), "Failed password for root from 113.31.19.113 port 54587 ssh2");
    CHECK_EQ(m.msgid.n, 0);

    CHECK_EQ(
        parse("Jul  4 22:42:40 mylar sshd[6889]: Invalid user test from 59.151.52.21", aug2011, &m),
        0);
    CHECK_EQ(m.ts_ns, utc(2011, 7, 4, 22, 42, 40));
    CHECK_STR(S(m.app), "sshd");
    CHECK_STR(S(m.procid), "6889");
    CHECK_STR(S(m.msg), "Invalid user test from 59.151.52.21");

    CHECK_EQ(parse("Jul 11 08:10:32 mylar unix_chkpwd[11962]: password check failed for user "
                   "(root)",
                   aug2011, &m),
             0);
    CHECK_STR(S(m.app), "unix_chkpwd");
    CHECK_STR(S(m.msg), "password check failed for user (root)");

    /* Trailing space kept in the body, as in the file. */
    CHECK_EQ(parse("Aug 14 06:01:01 mylar sshd[22659]: pam_unix(sshd:auth): authentication "
                   "failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=218.2.129.13 ",
                   aug2011, &m),
             0);
    CHECK_STR(S(m.msg), "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                        "tty=ssh ruser= rhost=218.2.129.13 ");

    /* Every line of a whole real file decodes, with its host. */
    FILE *f = fopen("/work/shared/corpus/umm-secure/mylar/secure-20110717", "r");
    if (f) {
        char line[4096];
        int lines = 0, ok = 0, in_july = 0;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            lines++;
            if (parse(line, aug2011, &m) == 0 && strcmp(S(m.host), "mylar") == 0 && m.app.n)
                ok++;
            if (m.ts_ns >= utc(2011, 7, 1, 0, 0, 0) && m.ts_ns < utc(2011, 8, 1, 0, 0, 0))
                in_july++;
        }
        fclose(f);
        CHECK_EQ(lines, 162);
        CHECK_EQ(ok, lines);
        CHECK_EQ(in_july, lines);
    }

    /* The fail2ban sample, another host. */
    CHECK_EQ(parse("Apr  2 17:52:55 pancake sshd[55657]: Invalid user oracle from 192.0.2.100",
                   utc(2015, 4, 3, 0, 0, 0), &m),
             0);
    CHECK_EQ(m.ts_ns, utc(2015, 4, 2, 17, 52, 55));
    CHECK_STR(S(m.host), "pancake");
}

static void test_rfc3164_pri(void)
{
    struct lw_syslog_msg m;
    int64_t now = utc(2003, 10, 12, 0, 0, 0);
    /* RFC 3164 section 5.4. */
    CHECK_EQ(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
                   now, &m),
             0);
    CHECK_EQ(m.pri, 34);
    CHECK_EQ(m.facility, 4);
    CHECK_EQ(m.severity, 2);
    CHECK_STR(lw_syslog_facility_name(m.facility), "auth");
    CHECK_STR(lw_syslog_severity_name(m.severity), "crit");
    CHECK_EQ(m.ts_ns, utc(2003, 10, 11, 22, 14, 15));
    CHECK_STR(S(m.host), "mymachine");
    CHECK_STR(S(m.app), "su");
    CHECK_EQ(m.procid.n, 0);
    CHECK_STR(S(m.msg), "'su root' failed for lonvick on /dev/pts/8");

    /* What logger sends to /dev/log: no host. */
    CHECK_EQ(parse("<13>Nov 22 22:55:00 alice: hello there", utc(2024, 11, 23, 0, 0, 0), &m), 0);
    CHECK_EQ(m.facility, 1);
    CHECK_EQ(m.severity, 5);
    CHECK_EQ(m.host.n, 0);
    CHECK_STR(S(m.app), "alice");
    CHECK_STR(S(m.msg), "hello there");

    /* rsyslog's RFC 3339 timestamps in 3164-style lines. */
    CHECK_EQ(parse("2024-03-10T06:55:46.250+01:00 web1 nginx[99]: GET /", now, &m), 0);
    CHECK_EQ(m.ts_ns, utc(2024, 3, 10, 5, 55, 46) + 250 * LW_NS_PER_MS);
    CHECK_STR(S(m.host), "web1");
    CHECK_STR(S(m.app), "nginx");
    CHECK_STR(S(m.procid), "99");
    CHECK_STR(S(m.msg), "GET /");
    CHECK_EQ(parse("<30>2024-03-10T06:55:46Z web1 systemd[1]: Started x.", now, &m), 0);
    CHECK_EQ(m.pri, 30);
    CHECK_EQ(m.ts_ns, utc(2024, 3, 10, 6, 55, 46));
    CHECK_STR(S(m.app), "systemd");

    /* PRI without a timestamp: the rest is the content. */
    CHECK_EQ(parse("<14>myapp: started", now, &m), 0);
    CHECK_EQ(m.ts_ns, 0);
    CHECK_STR(S(m.app), "myapp");
    CHECK_STR(S(m.msg), "started");
    /* A host and a message without a tag. */
    CHECK_EQ(parse("Oct 11 22:14:15 router1 link down on ge-0/0/1", now, &m), 0);
    CHECK_STR(S(m.host), "router1");
    CHECK_EQ(m.app.n, 0);
    CHECK_STR(S(m.msg), "link down on ge-0/0/1");
}

static void test_year(void)
{
    struct lw_syslog_msg m;
    /* Just after new year: December is last year. */
    CHECK_EQ(parse("Dec 31 23:59:00 h a: x", utc(2012, 1, 1, 0, 10, 0), &m), 0);
    CHECK_EQ(m.ts_ns, utc(2011, 12, 31, 23, 59, 0));
    /* Just before new year, a clock slightly ahead: next year, within a day. */
    CHECK_EQ(parse("Jan  1 00:20:00 h a: x", utc(2011, 12, 31, 23, 50, 0), &m), 0);
    CHECK_EQ(m.ts_ns, utc(2012, 1, 1, 0, 20, 0));
    /* Two days ahead is too far: that was last year. */
    CHECK_EQ(parse("Aug 17 00:00:00 h a: x", utc(2011, 8, 15, 0, 0, 0), &m), 0);
    CHECK_EQ(m.ts_ns, utc(2010, 8, 17, 0, 0, 0));
    /* Feb 29 goes back to the last leap year. */
    CHECK_EQ(parse("Feb 29 12:00:00 h a: x", utc(2011, 3, 1, 0, 0, 0), &m), 0);
    CHECK_EQ(m.ts_ns, utc(2008, 2, 29, 12, 0, 0));
    /* The rule is the rules' `syslog` format's (base/lw_time.c): "a day after now" is compared
     * in whole seconds, so a fraction within the limit's second does not change the year (the
     * old copy here compared nanoseconds and gave 2010 while the rules said 2011)... */
    CHECK_EQ(
        parse("Aug 16 00:00:00.500 h a: x", utc(2011, 8, 15, 0, 0, 0) + 250 * LW_NS_PER_MS, &m), 0);
    CHECK_EQ(m.ts_ns, utc(2011, 8, 16, 0, 0, 0) + 500 * LW_NS_PER_MS);
    /* ...and Feb 29 is looked for eight years back, across 2100, which has none. */
    CHECK_EQ(parse("Feb 29 12:00:00 h a: x", utc(2104, 1, 15, 0, 0, 0), &m), 0);
    CHECK_EQ(m.ts_ns, utc(2096, 2, 29, 12, 0, 0));
}

/* RFC 3164 has no zone: the input's `timezone:` says which. */
static void test_zone(void)
{
    struct lw_syslog_msg m;
    const struct lw_tz *ny = NULL, *tokyo = NULL;
    struct lw_err err;
    CHECK_EQ(lw_tz_get(&ny, "America/New_York", &err), 0);
    CHECK_EQ(lw_tz_get(&tokyo, "Asia/Tokyo", &err), 0);
    const char *line = "<13>Mar  9 10:00:00 host app: hi";
    CHECK_EQ(lw_syslog_parse_tz(line, strlen(line), utc(2026, 3, 9, 1, 0, 5), tokyo, &m), 0);
    CHECK_EQ(m.ts_ns, utc(2026, 3, 9, 1, 0, 0));
    CHECK_STR(S(m.app), "app");
    /* West of UTC: 10:00 EDT is 14:00Z; read as UTC it would be four hours old (late). */
    CHECK_EQ(lw_syslog_parse_tz(line, strlen(line), utc(2026, 3, 9, 14, 0, 1), ny, &m), 0);
    CHECK_EQ(m.ts_ns, utc(2026, 3, 9, 14, 0, 0));
    /* The year is inferred in the zone: New Year's Eve in New York is already Jan 1 UTC. */
    line = "Dec 31 22:00:00.5 host app: hi";
    CHECK_EQ(lw_syslog_parse_tz(line, strlen(line), utc(2027, 1, 1, 3, 0, 1), ny, &m), 0);
    CHECK_EQ(m.ts_ns, utc(2027, 1, 1, 3, 0, 0) + 500000000);
    /* RFC 5424 carries its offset: the zone does not apply. */
    line = "<13>1 2026-03-09T10:00:00Z host app - - - hi";
    CHECK_EQ(lw_syslog_parse_tz(line, strlen(line), utc(2026, 3, 9, 10, 0, 1), tokyo, &m), 0);
    CHECK_EQ(m.ts_ns, utc(2026, 3, 9, 10, 0, 0));
}

static void test_rfc5424(void)
{
    struct lw_syslog_msg m;
    int64_t now = utc(2024, 1, 1, 0, 0, 0);
    /* RFC 5424 section 6.5, example 1: no SD, BOM before MSG. */
    CHECK_EQ(parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
                   "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
                   now, &m),
             0);
    CHECK_EQ(m.pri, 34);
    CHECK_EQ(m.ts_ns, utc(2003, 10, 11, 22, 14, 15) + 3 * LW_NS_PER_MS);
    CHECK_STR(S(m.host), "mymachine.example.com");
    CHECK_STR(S(m.app), "su");
    CHECK_EQ(m.procid.n, 0);
    CHECK_STR(S(m.msgid), "ID47");
    CHECK_EQ(m.sd.n, 0);
    CHECK_STR(S(m.msg), "'su root' failed for lonvick on /dev/pts/8");
    /* Example 2: offset time, microseconds. */
    CHECK_EQ(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's "
                   "time to make the do-nuts.",
                   now, &m),
             0);
    CHECK_EQ(m.facility, 20);
    CHECK_STR(lw_syslog_facility_name(m.facility), "local4");
    CHECK_STR(lw_syslog_severity_name(m.severity), "notice");
    CHECK_EQ(m.ts_ns, utc(2003, 8, 24, 12, 14, 15) + 3000);
    CHECK_STR(S(m.procid), "8710");
    CHECK_STR(S(m.msg), "%% It's time to make the do-nuts.");
    /* Example 3 and 4: SD elements, one and two, and no MSG. */
    CHECK_EQ(parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                   "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
                   "\xEF\xBB\xBF"
                   "An application event log entry...",
                   now, &m),
             0);
    CHECK_STR(S(m.sd), "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
                       "eventID=\"1011\"]");
    CHECK_STR(S(m.msg), "An application event log entry...");
    CHECK_EQ(parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                   "[exampleSDID@32473 iut=\"3\"][examplePriority@32473 class=\"high\"]",
                   now, &m),
             0);
    CHECK_STR(S(m.sd), "[exampleSDID@32473 iut=\"3\"][examplePriority@32473 class=\"high\"]");
    CHECK_EQ(m.msg.n, 0);
    /* Escaped ] and " inside a value. */
    CHECK_EQ(parse("<14>1 - host app 12 - [x@1 a=\"q\\]z\" b=\"say \\\"hi\\\"\"] body", now, &m),
             0);
    CHECK_EQ(m.ts_ns, 0);
    CHECK_STR(S(m.sd), "[x@1 a=\"q\\]z\" b=\"say \\\"hi\\\"\"]");
    CHECK_STR(S(m.msg), "body");
    /* What logger --rfc5424 sends. */
    CHECK_EQ(parse("<13>1 2024-11-22T22:55:00.123456+00:00 box alice - - [timeQuality "
                   "tzKnown=\"1\" isSynced=\"0\"] hello",
                   now, &m),
             0);
    CHECK_STR(S(m.app), "alice");
    CHECK_STR(S(m.msg), "hello");
}

static void test_garbage(void)
{
    struct lw_syslog_msg m;
    int64_t now = utc(2024, 1, 1, 0, 0, 0);
    static const char *const bad[] = {"",
                                      "hello world",
                                      "<",
                                      "<13",
                                      "<>x",
                                      "<999>Oct 11 22:14:15 h a: x",
                                      "<1a>x",
                                      "Oct",
                                      "Oct 11 22:14",
                                      "Oct 32 22:14:15 h a: x",
                                      "Foo 11 22:14:15 h a: x",
                                      "2024-13-01T00:00:00Z h a: x",
                                      "2024-01-01T00:00:00 h a: x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        CHECK_EQ(parse(bad[i], now, &m), -1);
        CHECK_EQ(m.msg.n, n);
        CHECK_EQ(m.pri, -1);
        CHECK_EQ(m.ts_ns, 0);
    }
    /* Unterminated SD makes a 5424 header invalid: kept whole as the body. */
    CHECK_EQ(parse("<14>1 - h a - - [x@1 a=\"b]", now, &m), 0);
    CHECK_EQ(m.sd.n, 0);
    CHECK_STR(S(m.msg), "- h a - - [x@1 a=\"b]");
    CHECK(lw_syslog_facility_name(24) == NULL);
    CHECK(lw_syslog_severity_name(-1) == NULL);
    CHECK_STR(lw_syslog_facility_name(0), "kern");
    CHECK_STR(lw_syslog_facility_name(23), "local7");
    CHECK_STR(lw_syslog_severity_name(7), "debug");

    /* Random mutations of valid lines: every prefix and random bytes, never a crash. */
    static const char *const seeds[] = {
        "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [a@1 x=\"\\]\"] msg",
        "<34>Oct 11 22:14:15 mymachine su[12]: 'su root' failed",
        "2024-03-10T06:55:46.250+01:00 web1 nginx[99]: GET /"};
    srand(7);
    int ran = 0;
    for (size_t s = 0; s < 3; s++) {
        size_t n = strlen(seeds[s]);
        for (size_t cut = 0; cut <= n; cut++) {
            char *p = malloc(cut ? cut : 1);
            memcpy(p, seeds[s], cut);
            lw_syslog_parse(p, cut, now, &m);
            for (int k = 0; k < 20 && cut; k++) {
                p[rand() % cut] = (char)(rand() % 256);
                lw_syslog_parse(p, cut, now, &m);
                CHECK(m.msg.n <= cut);
                ran++;
            }
            free(p);
        }
    }
    CHECK(ran > 1000);
}

int main(void)
{
    test_rfc3164_files();
    test_rfc3164_pri();
    test_year();
    test_zone();
    test_rfc5424();
    test_garbage();
    return test_summary();
}
