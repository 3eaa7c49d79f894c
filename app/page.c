/* page.c: the dashboard's HTML, rendered on the server from the API's JSON (page.h). One
 * column of sections that read without JavaScript and without external assets (the endpoint is
 * often reached through an SSH tunnel, offline): inline CSS, inline SVG charts. Every value that
 * comes from outside (labels, annotations, log lines, names) goes through lw_html_escape, and
 * attributes are always double-quoted, so that text can neither open a tag nor leave one. */
#include "page.h"
#include "lw_time.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- text */

static void put_fffd(struct lw_buf *out)
{
    lw_buf_puts(out, "\xEF\xBF\xBD");
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    if (s[0] < 0xC2)
        return 0;
    if (s[0] < 0xE0)
        len = 2, min = 0x80;
    else if (s[0] < 0xF0)
        len = 3, min = 0x800;
    else if (s[0] < 0xF5)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void lw_html_escape(struct lw_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    lw_buf_reserve(out, n + 16);
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t k = utf8_len(p + i, n - i);
            if (k)
                lw_buf_append(out, p + i, k);
            else
                put_fffd(out);
            i += k ? k : 1;
            continue;
        }
        switch (c) {
        case '&':
            lw_buf_puts(out, "&amp;");
            break;
        case '<':
            lw_buf_puts(out, "&lt;");
            break;
        case '>':
            lw_buf_puts(out, "&gt;");
            break;
        case '"':
            lw_buf_puts(out, "&quot;");
            break;
        case '\'':
            lw_buf_puts(out, "&#39;");
            break;
        case '\t':
        case '\n':
            lw_buf_putc(out, (char)c);
            break;
        default:
            if (c < 0x20 || c == 0x7F)
                put_fffd(out);
            else
                lw_buf_putc(out, (char)c);
        }
        i++;
    }
}

static void esc(struct lw_buf *out, const char *s)
{
    if (s)
        lw_html_escape(out, s, strlen(s));
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A JSON value as text: numbers in their shortest useful form, null as an en dash. */
static void put_json(struct lw_buf *out, const json_t *v)
{
    if (!v || json_is_null(v)) {
        lw_buf_puts(out, "&ndash;");
    } else if (json_is_integer(v)) {
        lw_buf_printf(out, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        lw_buf_printf(out, "%.6g", json_real_value(v));
    } else if (json_is_string(v)) {
        esc(out, json_string_value(v));
    } else if (json_is_true(v) || json_is_false(v)) {
        lw_buf_puts(out, json_is_true(v) ? "yes" : "no");
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        esc(out, s);
        free(s);
    }
}

/* The error of an API answer that is an {"error": ...} object, or NULL. */
static const char *api_error(const json_t *j)
{
    if (!j)
        return "no answer";
    return json_is_object(j) ? jstr(j, "error") : NULL;
}

/* "2026-12-06T09:55:00Z" -> the same, and "(3m12s ago)" when it is in the past. */
static void put_time(struct lw_buf *out, const char *t, int64_t now_ns, bool ago)
{
    struct lw_rfc3339 r;
    if (!t) {
        lw_buf_puts(out, "&ndash;");
        return;
    }
    size_t n = strlen(t);
    bool parsed = lw_rfc3339_scan(t, n, 0, &r) > 0;
    int64_t d = parsed ? now_ns / LW_NS_PER_SEC - r.secs : -1;
    lw_buf_puts(out, "<time title=\"");
    esc(out, t);
    lw_buf_puts(out, "\">");
    /* Within the last day the time of day says enough (the whole time is its title). */
    if (parsed && d >= 0 && d < 86400 && n >= 19 && t[10] == 'T') {
        lw_html_escape(out, t + 11, 8);
        lw_buf_puts(out, "Z");
    } else {
        esc(out, t);
    }
    lw_buf_puts(out, "</time>");
    if (ago && parsed) {
        char s[40];
        if (d >= 0) {
            lw_fmt_duration(d * LW_NS_PER_SEC, s, sizeof s);
            if (d)
                lw_buf_printf(out, " <span class=\"muted\">(%s ago)</span>", s);
            else
                lw_buf_puts(out, " <span class=\"muted\">(just now)</span>");
        }
    }
}

/* Severity to a CSS class from a fixed set: the severity itself is free text. */
static const char *sev_class(const char *sev)
{
    static const struct {
        const char *name, *cls;
    } map[] = {{"critical", "crit"}, {"page", "crit"},  {"error", "crit"},  {"high", "crit"},
               {"warning", "warn"},  {"warn", "warn"},  {"medium", "warn"}, {"info", "info"},
               {"low", "info"},      {"notice", "info"}};
    for (size_t i = 0; sev && i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(sev, map[i].name))
            return map[i].cls;
    return "none";
}

static int sev_rank(const char *sev)
{
    const char *c = sev_class(sev);
    return !strcmp(c, "crit") ? 0 : !strcmp(c, "warn") ? 1 : !strcmp(c, "info") ? 2 : 3;
}

/* Status (healthy, degraded, unhealthy, firing, pending...) to a CSS class from a fixed set. */
static const char *status_class(const char *st)
{
    static const char *const known[] = {"healthy", "degraded", "unhealthy", "firing",
                                        "pending", "resolved", "inactive"};
    for (size_t i = 0; st && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(st, known[i]))
            return known[i];
    return "unknown";
}

static void badge(struct lw_buf *out, const char *st)
{
    lw_buf_printf(out, "<span class=\"badge st-%s\">", status_class(st));
    if (st)
        esc(out, st);
    else
        lw_buf_puts(out, "unknown");
    lw_buf_puts(out, "</span>");
}

/* ---------------------------------------------------------------- the frame */

static const char css[] =
    ":root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f6f7f9;--card:#fff;"
    "--crit:#c62828;--warn:#d97706;--info:#1d64c8;--none:#6b7280;--ok:#15803d}\n"
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:var(--fg);"
    "background:var(--bg)}\n"
    "main{max-width:1200px;margin:0 auto;padding:12px 20px 40px}\n"
    "header.top{display:flex;flex-wrap:wrap;align-items:baseline;gap:.3em 1em;padding:10px 20px;"
    "background:#1d2330;color:#fff}\n"
    "header.top h1{font-size:1.25em;margin:0}header.top a{color:#fff}\n"
    "header.top .muted{color:#c7cbd4}\n"
    "h2{font-size:1.1em;margin:1.6em 0 .5em}h2 small{font-weight:400;color:var(--muted)}\n"
    "a{color:#1d4ed8}.muted{color:var(--muted)}\n"
    ".scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);"
    "border-radius:6px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "td,th{padding:.4em .6em;text-align:left;border-bottom:1px solid var(--line);"
    "vertical-align:top}\n"
    "th{font-weight:600;color:var(--muted);font-size:.9em;white-space:nowrap}\n"
    "tr:last-child td{border-bottom:0}td.num{text-align:right;white-space:nowrap}\n"
    ".badge{display:inline-block;padding:0 .5em;border-radius:9px;font-size:.85em;"
    "font-weight:600;color:#fff;background:var(--none)}\n"
    ".st-healthy{background:var(--ok)}.st-degraded,.st-pending{background:var(--warn)}\n"
    ".st-unhealthy,.st-firing{background:var(--crit)}.st-resolved{background:var(--ok)}\n"
    ".sev{font-weight:600}.sev.sev-crit,.hot{color:var(--crit)}.sev.sev-warn{color:var(--warn)}"
    ".sev.sev-info{color:var(--info)}.sev.sev-none{color:var(--none)}.hot{font-weight:600}\n"
    ".alert{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--none);"
    "border-radius:6px;padding:.6em .9em;margin:.6em 0}\n"
    ".alert.sev-crit{border-left-color:var(--crit)}.alert.sev-warn{border-left-color:var(--warn)}"
    ".alert.sev-info{border-left-color:var(--info)}\n"
    ".alert.pending{background:#fffcf3}\n"
    ".alert h3{margin:0;font-size:1.05em;display:flex;flex-wrap:wrap;gap:.2em .6em;"
    "align-items:baseline}\n"
    ".alert p{margin:.3em 0}.summary{font-size:1.02em}\n"
    ".labels{display:flex;flex-wrap:wrap;gap:.3em;padding:0;margin:.4em 0;list-style:none}\n"
    ".labels li{background:#eef1f5;border-radius:4px;padding:0 .4em;font:12px/1.6 ui-monospace,"
    "monospace;word-break:break-all}\n"
    "details{margin-top:.4em}summary{cursor:pointer;color:#1d4ed8}\n"
    "form.silence{display:grid;gap:.4em;margin:.5em 0;max-width:560px}\n"
    "form.silence .matchers label{display:block;font:12px ui-monospace,monospace;"
    "word-break:break-all}\n"
    "input[type=text],input[type=password]{font:inherit;padding:.25em .4em;border:1px solid "
    "#c5cad3;"
    "border-radius:4px;width:100%}\n"
    "button{font:inherit;padding:.25em .9em;border-radius:4px;border:1px solid #1d4ed8;"
    "background:#1d4ed8;color:#fff;cursor:pointer;justify-self:start}\n"
    "button.quiet{background:#fff;color:#1d4ed8}\n"
    ".notice{padding:.6em .9em;border-radius:6px;background:#e7f6ec;border:1px solid #a6dcb6;"
    "margin:.8em 0}\n"
    ".notice.error{background:#fdecec;border-color:#f1aeae}\n"
    ".empty{color:var(--muted);background:var(--card);border:1px dashed var(--line);"
    "border-radius:6px;padding:.7em}\n"
    "svg{display:block}svg .line{fill:none;stroke:#1d4ed8;stroke-width:2}"
    "svg .thr{stroke:var(--crit);stroke-dasharray:4 3;stroke-width:1}"
    "svg .dot{fill:#1d4ed8}svg .axis{stroke:#98a2b3;stroke-width:1}"
    "svg text{font:11px system-ui,sans-serif;fill:var(--muted)}svg text.thr-l{fill:var(--crit)}\n"
    "svg.chart{width:100%;height:auto;max-width:760px;background:var(--card);"
    "border:1px solid var(--line);border-radius:6px}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.6em 0}\n"
    "dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}\n"
    "ol.samples{list-style:none;padding:0;margin:0;background:#111827;color:#e5e7eb;"
    "border-radius:6px;overflow-x:auto}\n"
    "ol.samples li{padding:.2em .7em;font:12px/1.5 ui-monospace,monospace;white-space:pre-wrap;"
    "word-break:break-all;border-bottom:1px solid #1f2937}\n"
    "ol.samples .meta{color:#9ca3af}\n"
    "footer{margin-top:2em;color:var(--muted);font-size:.9em}\n"
    "td{overflow-wrap:break-word}.grp{word-break:break-all}\n"
    "@media (max-width:700px){main{padding:8px 10px 30px}header.top{padding:8px 10px}"
    "td,th{padding:.3em .4em}.hide-narrow{display:none}svg.spark{width:120px}}\n";

/* The page refreshes itself every 10 s, unless the reader is busy with a form (an open
 * details element or a focused field): it drops the ?msg= of a form's answer on the way. */
static const char refresh_js[] =
    "setInterval(function(){var a=document.activeElement;"
    "if(document.querySelector('details[open]')||(a&&/^(INPUT|TEXTAREA|SELECT|BUTTON)$/"
    ".test(a.tagName)))return;location.replace(location.pathname);},10000);";

static void head(struct lw_buf *out, const char *title)
{
    lw_buf_puts(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>");
    esc(out, title);
    lw_buf_printf(out, "</title>\n<style>\n%s</style></head><body>\n", css);
}

static void top(struct lw_buf *out, const struct lw_page *p, bool back)
{
    const json_t *h = p->health;
    lw_buf_puts(out, "<header class=\"top\"><h1>");
    lw_buf_puts(out, back ? "<a href=\"/\">logwarden</a>" : "logwarden");
    lw_buf_puts(out, "</h1>");
    if (h && !api_error(h)) {
        badge(out, jstr(h, "status"));
        if (jstr(h, "version")) {
            lw_buf_puts(out, " <span class=\"muted\">v");
            esc(out, jstr(h, "version"));
            lw_buf_puts(out, "</span>");
        }
        json_t *up = json_object_get(h, "uptime_s");
        if (json_is_number(up)) {
            char d[40];
            lw_fmt_duration((int64_t)json_number_value(up) * LW_NS_PER_SEC, d, sizeof d);
            lw_buf_printf(out, " <span class=\"muted\">up %s</span>", d);
        }
    }
    char now[40];
    lw_fmt_rfc3339(p->now_ns / LW_NS_PER_SEC * LW_NS_PER_SEC, now, sizeof now);
    lw_buf_printf(
        out, " <span class=\"muted\">at %s, refreshed every 10 s</span></header>\n<main>\n", now);
    if (p->notice) {
        lw_buf_printf(out, "<p class=\"notice%s\" role=\"status\">",
                      p->notice_error ? " error" : "");
        esc(out, p->notice);
        lw_buf_puts(out, "</p>\n");
    }
}

static void tail(struct lw_buf *out, const struct lw_page *p)
{
    lw_buf_puts(out, "<footer><a href=\"/health\">/health</a> &middot; "
                     "<a href=\"/metrics\">/metrics</a> &middot; "
                     "<a href=\"/api/alerts\">/api/alerts</a> &middot; "
                     "<a href=\"/api/rules\">/api/rules</a> &middot; "
                     "<a href=\"/api/silences\">/api/silences</a></footer>\n</main>\n");
    lw_buf_puts(out, "<script");
    if (p->nonce) {
        lw_buf_puts(out, " nonce=\"");
        esc(out, p->nonce);
        lw_buf_puts(out, "\"");
    }
    lw_buf_printf(out, ">%s</script>\n</body></html>\n", refresh_js);
}

static void section_error(struct lw_buf *out, const char *what, const char *err)
{
    lw_buf_printf(out, "<p class=\"empty\">%s: ", what);
    esc(out, err);
    lw_buf_puts(out, "</p>\n");
}

/* ---------------------------------------------------------------- charts */

static double clampd(double v)
{
    return isfinite(v) ? v : 0;
}

/* "2026-12-06T09:55:05Z" -> "09:55:05" (the time of day, UTC). */
static void put_tod(struct lw_buf *out, const json_t *t)
{
    const char *s = json_string_value(t);
    if (s && strlen(s) >= 19)
        lw_html_escape(out, s + 11, 8);
    else if (s)
        esc(out, s);
}

static void put_num(struct lw_buf *out, double v)
{
    lw_buf_printf(out, "%.4g", v);
}

void lw_page_chart(struct lw_buf *out, const json_t *points, const json_t *threshold, bool axes)
{
    size_t n = json_array_size(points), i;
    const double W = axes ? 640 : 220, H = axes ? 220 : 40;
    const double l = axes ? 58 : 2, r = axes ? 14 : 2, t = axes ? 12 : 3, b = axes ? 36 : 3;
    double lo = INFINITY, hi = -INFINITY;
    bool thr = json_is_number(threshold);
    const json_t *pt;
    size_t nvals = 0;
    json_array_foreach(points, i, pt)
    {
        const json_t *v = json_array_get(pt, 1);
        if (json_is_number(v) && isfinite(json_number_value(v))) {
            double x = json_number_value(v);
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            nvals++;
        }
    }
    double th = thr ? clampd(json_number_value(threshold)) : 0;
    if (thr) {
        lo = th < lo ? th : lo;
        hi = th > hi ? th : hi;
    }
    if (lo > hi)
        lo = 0, hi = 1;
    if (lo > 0)
        lo = 0; /* counts and rates read best from zero */
    if (hi - lo < 1e-12) {
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.5 : 1;
        hi += pad;
        lo = lo < 0 ? lo - pad : lo;
    } else {
        hi += (hi - lo) * 0.08;
    }
#define X(k) (l + (n > 1 ? (double)(k) * (W - l - r) / (double)(n - 1) : (W - l - r) / 2))
#define Y(v) (t + (hi - (v)) / (hi - lo) * (H - t - b))
    lw_buf_printf(out,
                  "<svg class=\"%s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                  "role=\"img\" preserveAspectRatio=\"none\"><title>",
                  axes ? "chart" : "spark", W, H, W, H);
    lw_buf_printf(out, "%zu points", nvals);
    if (thr) {
        lw_buf_puts(out, ", threshold ");
        put_num(out, th);
    }
    lw_buf_puts(out, "</title>");
    if (axes) {
        lw_buf_printf(out,
                      "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                      "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                      l, t, l, H - b, l, H - b, W - r, H - b);
        lw_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", l - 4, t + 8);
        put_num(out, hi);
        lw_buf_printf(out, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", l - 4, H - b);
        put_num(out, lo);
        lw_buf_printf(out,
                      "</text><text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
                      "text-anchor=\"middle\">value</text>",
                      (t + H - b) / 2, (t + H - b) / 2);
        if (n) {
            lw_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\">", l, H - b + 14);
            put_tod(out, json_array_get(json_array_get(points, 0), 0));
            lw_buf_printf(out, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", W - r,
                          H - b + 14);
            put_tod(out, json_array_get(json_array_get(points, n - 1), 0));
            lw_buf_puts(out, "</text>");
        }
        lw_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time (UTC)</text>",
                      (l + W - r) / 2, H - 4);
    }
    if (thr) {
        lw_buf_printf(out, "<line class=\"thr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                      l, Y(th), W - r, Y(th));
        if (axes) {
            lw_buf_printf(out,
                          "<text class=\"thr-l\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
                          "threshold ",
                          W - r - 2, Y(th) - 4);
            put_num(out, th);
            lw_buf_puts(out, "</text>");
        }
    }
    /* One polyline per run of comparable values; a lone value is a dot. */
    size_t run = 0;
    struct lw_buf seg = {0};
    for (i = 0; i <= n; i++) {
        const json_t *v = i < n ? json_array_get(json_array_get(points, i), 1) : NULL;
        bool ok = v && json_is_number(v) && isfinite(json_number_value(v));
        if (ok) {
            lw_buf_printf(&seg, "%s%.1f,%.1f", run ? " " : "", X(i), Y(json_number_value(v)));
            run++;
            continue;
        }
        if (run == 1) {
            double x, y;
            if (sscanf(seg.p, "%lf,%lf", &x, &y) == 2)
                lw_buf_printf(out, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"/>", x, y,
                              axes ? "2.5" : "1.5");
        } else if (run > 1) {
            lw_buf_printf(out, "<polyline class=\"line\" points=\"%s\"/>", seg.p);
        }
        lw_buf_reset(&seg);
        run = 0;
    }
    lw_buf_free(&seg);
    /* The latest value, marked: where the line stands now, even after a long run of nulls. */
    for (i = n; i-- > 0;) {
        const json_t *v = json_array_get(json_array_get(points, i), 1);
        if (json_is_number(v) && isfinite(json_number_value(v))) {
            lw_buf_printf(out, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"/>", X(i),
                          Y(json_number_value(v)), axes ? "3.5" : "2.5");
            break;
        }
    }
    if (!nvals)
        lw_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no data</text>",
                      (l + W - r) / 2, (t + H - b) / 2 + 4);
#undef X
#undef Y
    lw_buf_puts(out, "</svg>");
}

/* ---------------------------------------------------------------- alerts */

static const char *alert_severity(const json_t *a)
{
    const char *s = jstr(a, "severity");
    return s ? s : jstr(json_object_get(a, "labels"), "severity");
}

static int alert_cmp(const void *x, const void *y)
{
    const json_t *a = *(const json_t *const *)x, *b = *(const json_t *const *)y;
    const char *sa = jstr(a, "state"), *sb = jstr(b, "state");
    int fa = sa && !strcmp(sa, "firing") ? 0 : 1, fb = sb && !strcmp(sb, "firing") ? 0 : 1;
    if (fa != fb)
        return fa - fb;
    int ra = sev_rank(alert_severity(a)), rb = sev_rank(alert_severity(b));
    if (ra != rb)
        return ra - rb;
    const char *ta = jstr(a, "since"), *tb = jstr(b, "since");
    return strcmp(ta ? ta : "", tb ? tb : "");
}

static bool safe_fp(const char *fp)
{
    size_t n = fp ? strlen(fp) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", fp[i]))
            return false;
    return true;
}

/* The matcher that selects exactly this label value: name=value, or a quoted regex when the
 * value itself would read as an operator (name=~x is a regex, name==x a value "=x"). */
static void exact_matcher(struct lw_buf *m, const char *name, const char *value)
{
    if ((value[0] == '~' || value[0] == '=') && !strstr(value, "\\E"))
        lw_buf_printf(m, "%s=~\\Q%s\\E", name, value);
    else
        lw_buf_printf(m, "%s=%s", name, value);
}

/* The labels an alert is known by: its labels, else the old shape's group and name. */
static json_t *alert_labels(const json_t *a)
{
    json_t *l = json_object_get(a, "labels");
    if (json_is_object(l))
        return json_incref(l);
    l = json_object();
    if (jstr(a, "alert"))
        json_object_set_new(l, "alert", json_string(jstr(a, "alert")));
    json_object_update(l, json_object_get(a, "group"));
    return l;
}

static void labels_list(struct lw_buf *out, const json_t *labels)
{
    const char *k;
    const json_t *v;
    if (!json_object_size(labels))
        return;
    lw_buf_puts(out, "<ul class=\"labels\">");
    json_object_foreach((json_t *)labels, k, v)
    {
        lw_buf_puts(out, "<li>");
        esc(out, k);
        lw_buf_puts(out, "=");
        put_json(out, v);
        lw_buf_puts(out, "</li>");
    }
    lw_buf_puts(out, "</ul>");
}

/* The silence form: a checkbox per label (all checked: this alert exactly), a duration, a
 * comment, and the token when the page was not read with it. back: where the answer returns. */
static void silence_form(struct lw_buf *out, const json_t *labels, const char *back,
                         const struct lw_page *p, bool open)
{
    const char *k;
    const json_t *v;
    struct lw_buf m = {0};
    lw_buf_printf(out, "<details class=\"silence\"%s><summary>Silence&hellip;</summary>",
                  open ? " open" : "");
    lw_buf_puts(out, "<form class=\"silence\" method=\"post\" action=\"/silences\">"
                     "<input type=\"hidden\" name=\"back\" value=\"");
    esc(out, back);
    lw_buf_puts(out, "\"><div class=\"matchers\">");
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!json_is_string(v))
            continue;
        lw_buf_reset(&m);
        exact_matcher(&m, k, json_string_value(v));
        lw_buf_puts(out, "<label><input type=\"checkbox\" name=\"matcher\" checked value=\"");
        esc(out, m.p);
        lw_buf_puts(out, "\"> ");
        esc(out, k);
        lw_buf_puts(out, "=&quot;");
        esc(out, json_string_value(v));
        lw_buf_puts(out, "&quot;</label>");
    }
    lw_buf_free(&m);
    lw_buf_puts(out, "</div><label>for <input type=\"text\" name=\"duration\" value=\"1h\" "
                     "required maxlength=\"16\" style=\"width:6em\"></label>"
                     "<label>comment <input type=\"text\" name=\"comment\" maxlength=\"2048\" "
                     "placeholder=\"why, and who to ask\"></label>");
    if (p->ask_token)
        lw_buf_puts(out, "<label>token <input type=\"password\" name=\"token\" "
                         "autocomplete=\"current-password\" required></label>");
    lw_buf_puts(out, "<button type=\"submit\">silence</button></form></details>");
}

static void alert_card(struct lw_buf *out, const json_t *a, const struct lw_page *p)
{
    const char *state = jstr(a, "state"), *fp = jstr(a, "fingerprint"), *sev = alert_severity(a);
    const json_t *ann = json_object_get(a, "annotations");
    const char *summary = jstr(ann, "summary") ? jstr(ann, "summary") : jstr(ann, "description");
    json_t *labels = alert_labels(a);
    lw_buf_printf(out, "<article class=\"alert sev-%s %s\"><h3>", sev_class(sev),
                  status_class(state));
    badge(out, state);
    if (safe_fp(fp))
        lw_buf_printf(out, "<a href=\"/alerts/%s\">", fp);
    esc(out, jstr(a, "alert") ? jstr(a, "alert") : "(unnamed)");
    if (safe_fp(fp))
        lw_buf_puts(out, "</a>");
    if (sev) {
        lw_buf_printf(out, "<span class=\"sev sev-%s\">", sev_class(sev));
        esc(out, sev);
        lw_buf_puts(out, "</span>");
    }
    lw_buf_puts(out, "</h3>");
    if (summary) {
        lw_buf_puts(out, "<p class=\"summary\">");
        esc(out, summary);
        lw_buf_puts(out, "</p>");
    }
    lw_buf_puts(out, "<p>value <b class=\"value\">");
    put_json(out, json_object_get(a, "value"));
    lw_buf_puts(out, "</b>");
    if (json_object_get(a, "threshold")) {
        lw_buf_puts(out, " (threshold ");
        put_json(out, json_object_get(a, "threshold"));
        lw_buf_puts(out, ")");
    }
    lw_buf_puts(out, " &middot; since ");
    put_time(out, jstr(a, "since"), p->now_ns, true);
    lw_buf_puts(out, "</p>");
    static const char *const muted[] = {"silenced_by", "inhibited_by"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *by = json_object_get(a, muted[k]), *x;
        size_t i;
        if (!json_array_size(by))
            continue;
        lw_buf_printf(out, "<p class=\"muted\">%s by ", k ? "inhibited" : "silenced");
        json_array_foreach(by, i, x)
        {
            lw_buf_puts(out, i ? ", <code>" : "<code>");
            put_json(out, x);
            lw_buf_puts(out, "</code>");
        }
        lw_buf_puts(out, "</p>");
    }
    labels_list(out, labels);
    silence_form(out, labels, "/", p, false);
    lw_buf_puts(out, "</article>\n");
    json_decref(labels);
}

static void section_alerts(struct lw_buf *out, const struct lw_page *p)
{
    const json_t *arr = p->alerts, *a;
    size_t n = json_array_size(arr), i, nf = 0;
    const json_t **v = lw_calloc(n + 1, sizeof *v);
    json_array_foreach(arr, i, a)
    {
        v[i] = a;
        const char *st = jstr(a, "state");
        nf += st && !strcmp(st, "firing");
    }
    qsort(v, n, sizeof *v, alert_cmp);
    lw_buf_printf(out,
                  "<section id=\"alerts\"><h2>Alerts <small>%zu firing, %zu pending</small>"
                  "</h2>\n",
                  nf, n - nf);
    if (!json_is_array(arr))
        section_error(out, "the alerts could not be read", api_error(arr) ? api_error(arr) : "?");
    else if (!n)
        lw_buf_puts(out, "<p class=\"empty\">No alert is firing or pending.</p>\n");
    for (i = 0; i < n; i++)
        alert_card(out, v[i], p);
    free(v);
    lw_buf_puts(out, "</section>\n");
}

/* ---------------------------------------------------------------- rules */

static void section_rules(struct lw_buf *out, const struct lw_page *p)
{
    const json_t *arr = p->rules, *r;
    size_t i;
    lw_buf_puts(out, "<section id=\"rules\"><h2>Rules</h2>\n");
    if (!json_is_array(arr)) {
        section_error(out, "the rules could not be read", api_error(arr) ? api_error(arr) : "?");
        lw_buf_puts(out, "</section>\n");
        return;
    }
    if (!json_array_size(arr)) {
        lw_buf_puts(out, "<p class=\"empty\">No alert rule is loaded.</p></section>\n");
        return;
    }
    lw_buf_puts(out,
                "<div class=\"scroll\"><table><thead><tr><th>rule</th><th>value over the "
                "window</th><th>condition</th><th class=\"hide-narrow\">groups</th><th>pending</th>"
                "<th>firing</th>"
                "<th class=\"hide-narrow\">events</th></tr></thead><tbody>\n");
    json_array_foreach(arr, i, r)
    {
        const char *sev = jstr(r, "severity");
        const json_t *ser = json_object_get(r, "series");
        json_t *firing = json_object_get(r, "firing"), *pending = json_object_get(r, "pending");
        bool hot = json_integer_value(firing) > 0;
        lw_buf_printf(out, "<tr class=\"rule%s\"><td><b>", hot ? " firing" : "");
        esc(out, jstr(r, "alert"));
        lw_buf_puts(out, "</b>");
        if (sev) {
            lw_buf_printf(out, " <span class=\"sev sev-%s\">", sev_class(sev));
            esc(out, sev);
            lw_buf_puts(out, "</span>");
        }
        lw_buf_puts(out, "<br><span class=\"muted\">");
        esc(out, jstr(r, "kind"));
        if (jstr(r, "window")) {
            lw_buf_puts(out, " over ");
            esc(out, jstr(r, "window"));
        }
        lw_buf_puts(out, "</span></td><td>");
        if (json_is_object(ser)) {
            lw_page_chart(out, json_object_get(ser, "points"), json_object_get(r, "threshold"),
                          false);
            const json_t *g = json_object_get(ser, "group"), *gv;
            const char *gk;
            size_t gi = 0;
            lw_buf_puts(out, "<span class=\"muted grp\">");
            json_object_foreach((json_t *)g, gk, gv)
            {
                lw_buf_puts(out, gi++ ? ", " : "");
                esc(out, gk);
                lw_buf_puts(out, "=");
                put_json(out, gv);
            }
            lw_buf_puts(out, "</span>");
        } else {
            lw_buf_puts(out, "<span class=\"muted\">no group</span>");
        }
        lw_buf_puts(out, "</td><td>");
        json_t *above = json_object_get(r, "above");
        if (json_object_get(r, "threshold")) {
            lw_buf_puts(out, json_is_false(above) ? "&lt; " : "&gt; ");
            put_json(out, json_object_get(r, "threshold"));
        }
        if (jstr(r, "for") && strcmp(jstr(r, "for"), "0s")) {
            lw_buf_puts(out, " for ");
            esc(out, jstr(r, "for"));
        }
        lw_buf_puts(out, "</td><td class=\"num hide-narrow\">");
        put_json(out, json_object_get(r, "groups"));
        if (json_object_get(r, "max_groups")) {
            lw_buf_puts(out, "<span class=\"muted\"> / ");
            put_json(out, json_object_get(r, "max_groups"));
            lw_buf_puts(out, "</span>");
        }
        lw_buf_puts(out, "</td><td class=\"num\">");
        put_json(out, pending);
        lw_buf_printf(out, "</td><td class=\"num%s\">", hot ? " hot" : "");
        put_json(out, firing);
        lw_buf_puts(out, "</td><td class=\"hide-narrow\">");
        const json_t *ev, *evs = json_object_get(r, "events");
        size_t k;
        json_array_foreach(evs, k, ev)
        {
            lw_buf_puts(out, k ? ", " : "");
            esc(out, jstr(ev, "name"));
            if (json_object_get(ev, "count")) {
                lw_buf_puts(out, " <span class=\"muted\">(");
                put_json(out, json_object_get(ev, "count"));
                lw_buf_puts(out, ")</span>");
            }
        }
        lw_buf_puts(out, "</td></tr>\n");
    }
    lw_buf_puts(out, "</tbody></table></div></section>\n");
}

/* ---------------------------------------------------------------- inputs, sinks, store */

/* lag: {"bytes": N} or {"messages": N} (or a bare number). */
static void put_lag(struct lw_buf *out, const json_t *lag)
{
    const char *k;
    const json_t *v;
    if (json_is_object(lag) && json_object_size(lag)) {
        size_t i = 0;
        json_object_foreach((json_t *)lag, k, v)
        {
            lw_buf_puts(out, i++ ? ", " : "");
            put_json(out, v);
            lw_buf_puts(out, " ");
            esc(out, k);
        }
    } else {
        put_json(out, lag);
    }
}

static void section_inputs(struct lw_buf *out, const struct lw_page *p)
{
    const json_t *h = p->health, *ins = json_object_get(h, "inputs"), *in;
    const char *name;
    lw_buf_puts(out, "<section id=\"inputs\"><h2>Inputs</h2>\n");
    if (api_error(h)) {
        section_error(out, "the health could not be read", api_error(h));
    } else if (!json_is_object(ins)) {
        /* An older /health: its status and detail only. */
        lw_buf_puts(out, "<p class=\"empty\">");
        badge(out, jstr(h, "status"));
        lw_buf_puts(out, " ");
        esc(out, jstr(h, "detail"));
        lw_buf_puts(out, "</p>\n");
    } else if (!json_object_size(ins)) {
        lw_buf_puts(out, "<p class=\"empty\">No input.</p>\n");
    } else {
        lw_buf_puts(out, "<div class=\"scroll\"><table><thead><tr><th>input</th><th>status</th>"
                         "<th>records</th><th>per second</th><th>lag</th><th>errors</th>"
                         "<th class=\"hide-narrow\">last record</th><th>detail</th></tr></thead>"
                         "<tbody>\n");
        json_object_foreach((json_t *)ins, name, in)
        {
            lw_buf_puts(out, "<tr><td><b>");
            esc(out, name);
            lw_buf_puts(out, "</b></td><td>");
            badge(out, jstr(in, "status"));
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_json(out, json_object_get(in, "records"));
            lw_buf_puts(out, "</td><td class=\"num\">");
            const json_t *rate = json_object_get(p->rates, name);
            if (json_is_number(rate))
                lw_buf_printf(out, "%.1f", json_number_value(rate));
            else
                lw_buf_puts(out, "&ndash;");
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_lag(out, json_object_get(in, "lag"));
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_json(out, json_object_get(in, "errors"));
            lw_buf_puts(out, "</td><td class=\"hide-narrow\">");
            put_time(out, jstr(in, "last_record_at"), p->now_ns, true);
            lw_buf_puts(out, "</td><td>");
            esc(out, jstr(in, "detail"));
            lw_buf_puts(out, "</td></tr>\n");
        }
        lw_buf_puts(out, "</tbody></table></div>\n");
    }
    lw_buf_puts(out, "</section>\n");
}

static void section_sinks(struct lw_buf *out, const struct lw_page *p)
{
    const json_t *h = p->health, *sinks = json_object_get(h, "sinks"), *s;
    const json_t *st = json_object_get(h, "store");
    const char *name;
    lw_buf_puts(out, "<section id=\"sinks\"><h2>Sinks</h2>\n");
    if (!json_object_size(sinks)) {
        lw_buf_puts(out, "<p class=\"empty\">");
        lw_buf_puts(out, json_is_object(sinks) ? "No sink." : "The health says nothing of sinks.");
        lw_buf_puts(out, "</p>\n");
    } else {
        lw_buf_puts(out, "<div class=\"scroll\"><table><thead><tr><th>sink</th><th>delivery</th>"
                         "<th>queued</th><th>oldest queued</th>"
                         "<th class=\"hide-narrow\">last success</th><th>last error</th></tr>"
                         "</thead><tbody>\n");
        json_object_foreach((json_t *)sinks, name, s)
        {
            lw_buf_puts(out, "<tr><td><b>");
            esc(out, name);
            lw_buf_puts(out, "</b></td><td>");
            badge(out, jstr(s, "status"));
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_json(out, json_object_get(s, "queued"));
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_json(out, json_object_get(s, "oldest_queued_s"));
            if (json_is_number(json_object_get(s, "oldest_queued_s")))
                lw_buf_puts(out, " s");
            lw_buf_puts(out, "</td><td class=\"hide-narrow\">");
            put_time(out, jstr(s, "last_success_at"), p->now_ns, true);
            lw_buf_puts(out, "</td><td>");
            put_json(out, json_object_get(s, "last_error"));
            lw_buf_puts(out, "</td></tr>\n");
        }
        lw_buf_puts(out, "</tbody></table></div>\n");
    }
    if (json_is_object(st)) {
        lw_buf_puts(out, "<p>State file: ");
        badge(out, jstr(st, "status"));
        lw_buf_puts(out, " last flush ");
        put_time(out, jstr(st, "last_flush_at"), p->now_ns, true);
        if (json_is_number(json_object_get(st, "size_bytes")))
            lw_buf_printf(out, ", %.1f MiB",
                          json_number_value(json_object_get(st, "size_bytes")) / 1048576.0);
        if (jstr(st, "last_error")) {
            lw_buf_puts(out, ", last error: ");
            esc(out, jstr(st, "last_error"));
        }
        lw_buf_puts(out, "</p>\n");
    }
    lw_buf_puts(out, "</section>\n");
}

/* ---------------------------------------------------------------- silences */

static void put_matchers(struct lw_buf *out, const json_t *ms)
{
    const json_t *m;
    size_t i;
    json_array_foreach(ms, i, m)
    {
        lw_buf_puts(out, i ? ", <code>" : "<code>");
        if (json_is_string(m)) {
            esc(out, json_string_value(m));
        } else {
            /* The state file's shape (regex, negative) or Alertmanager's (isRegex, isEqual). */
            bool re = json_is_true(json_object_get(m, "regex")) ||
                      json_is_true(json_object_get(m, "isRegex"));
            bool neg = json_is_true(json_object_get(m, "negative")) ||
                       json_is_false(json_object_get(m, "isEqual"));
            esc(out, jstr(m, "name"));
            lw_buf_puts(out, neg ? (re ? "!~" : "!=") : (re ? "=~" : "="));
            lw_buf_puts(out, "&quot;");
            esc(out, jstr(m, "value"));
            lw_buf_puts(out, "&quot;");
        }
        lw_buf_puts(out, "</code>");
    }
}

static bool safe_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF-", id[i]))
            return false;
    return true;
}

static void section_silences(struct lw_buf *out, const struct lw_page *p)
{
    const json_t *arr = p->silences, *s;
    size_t i;
    lw_buf_puts(out, "<section id=\"silences\"><h2>Active silences</h2>\n");
    if (!json_is_array(arr)) {
        section_error(out, "the silences could not be read", api_error(arr) ? api_error(arr) : "?");
    } else if (!json_array_size(arr)) {
        lw_buf_puts(out, "<p class=\"empty\">No active silence.</p>\n");
    } else {
        lw_buf_puts(out, "<div class=\"scroll\"><table><thead><tr><th>matchers</th><th>until</th>"
                         "<th>comment</th><th class=\"hide-narrow\">by</th><th></th></tr></thead>"
                         "<tbody>\n");
        json_array_foreach(arr, i, s)
        {
            const char *id = jstr(s, "id");
            lw_buf_puts(out, "<tr><td>");
            put_matchers(out, json_object_get(s, "matchers"));
            lw_buf_puts(out, "</td><td>");
            put_time(out, jstr(s, "endsAt"), p->now_ns, false);
            lw_buf_puts(out, "</td><td>");
            esc(out, jstr(s, "comment"));
            lw_buf_puts(out, "</td><td class=\"hide-narrow\">");
            esc(out, jstr(s, "createdBy"));
            lw_buf_puts(out, "</td><td>");
            if (safe_id(id)) {
                lw_buf_printf(out,
                              "<form method=\"post\" action=\"/silences/%s/expire\">"
                              "<input type=\"hidden\" name=\"back\" value=\"/\">",
                              id);
                if (p->ask_token)
                    lw_buf_puts(out, "<input type=\"password\" name=\"token\" placeholder=\"token\""
                                     " autocomplete=\"current-password\" required "
                                     "style=\"width:7em\"> ");
                lw_buf_puts(out, "<button class=\"quiet\" type=\"submit\">expire</button></form>");
            }
            lw_buf_puts(out, "</td></tr>\n");
        }
        lw_buf_puts(out, "</tbody></table></div>\n");
    }
    lw_buf_puts(out, "</section>\n");
}

/* ---------------------------------------------------------------- pages */

void lw_page_index(struct lw_buf *out, const struct lw_page *p)
{
    head(out, "logwarden");
    top(out, p, false);
    section_alerts(out, p);
    section_rules(out, p);
    section_inputs(out, p);
    section_sinks(out, p);
    section_silences(out, p);
    tail(out, p);
}

static void fact(struct lw_buf *out, const char *name, const json_t *v)
{
    if (!v)
        return;
    lw_buf_printf(out, "<dt>%s</dt><dd>", name);
    put_json(out, v);
    lw_buf_puts(out, "</dd>");
}

void lw_page_alert(struct lw_buf *out, const json_t *x, const struct lw_page *p)
{
    const char *name = jstr(x, "alert") ? jstr(x, "alert") : "alert";
    const char *state = jstr(x, "state"), *sev = alert_severity(x), *fp = jstr(x, "fingerprint");
    const json_t *ann = json_object_get(x, "annotations"), *v, *row;
    const char *k;
    size_t i;
    json_t *labels = alert_labels(x);
    head(out, name);
    top(out, p, true);
    lw_buf_printf(out, "<section id=\"alert\" class=\"alert sev-%s %s\"><h3>", sev_class(sev),
                  status_class(state));
    badge(out, state ? state : "inactive");
    lw_buf_puts(out, "<span>");
    esc(out, name);
    lw_buf_puts(out, "</span>");
    if (sev) {
        lw_buf_printf(out, "<span class=\"sev sev-%s\">", sev_class(sev));
        esc(out, sev);
        lw_buf_puts(out, "</span>");
    }
    lw_buf_puts(out, "</h3>");
    json_object_foreach((json_t *)ann, k, v)
    {
        lw_buf_printf(out, "<p%s><span class=\"muted\">",
                      !strcmp(k, "summary") ? " class=\"summary\"" : "");
        esc(out, k);
        lw_buf_puts(out, ":</span> ");
        put_json(out, v);
        lw_buf_puts(out, "</p>");
    }
    labels_list(out, labels);
    lw_buf_puts(out, "<dl class=\"facts\">");
    fact(out, "value", json_object_get(x, "value"));
    if (json_object_get(x, "threshold")) {
        lw_buf_printf(out, "<dt>condition</dt><dd>%s ",
                      json_is_false(json_object_get(x, "above")) ? "below" : "above");
        put_json(out, json_object_get(x, "threshold"));
        lw_buf_puts(out, "</dd>");
    }
    fact(out, "window", json_object_get(x, "window"));
    fact(out, "resolution", json_object_get(x, "resolution"));
    fact(out, "for", json_object_get(x, "for"));
    if (jstr(x, "since")) {
        lw_buf_puts(out, "<dt>since</dt><dd>");
        put_time(out, jstr(x, "since"), p->now_ns, true);
        lw_buf_puts(out, "</dd>");
    }
    if (safe_fp(fp))
        lw_buf_printf(out, "<dt>fingerprint</dt><dd><code>%s</code></dd>", fp);
    fact(out, "source", json_object_get(x, "source"));
    lw_buf_puts(out, "</dl>");
    char back[80] = "/";
    if (safe_fp(fp))
        snprintf(back, sizeof back, "/alerts/%s", fp);
    silence_form(out, labels, back, p, false);
    lw_buf_puts(out, "</section>\n");

    lw_buf_puts(out, "<section id=\"series\"><h2>Value over the window</h2>\n");
    lw_page_chart(out, json_object_get(x, "series"), json_object_get(x, "threshold"), true);
    lw_buf_puts(out, "</section>\n");

    const json_t *hist = json_object_get(x, "history");
    lw_buf_puts(out, "<section id=\"history\"><h2>History <small>last 24 h</small></h2>\n");
    if (!json_array_size(hist)) {
        lw_buf_puts(out, "<p class=\"empty\">No transition in the last 24 h.</p>\n");
    } else {
        lw_buf_puts(out, "<div class=\"scroll\"><table><thead><tr><th>state</th><th>at</th>"
                         "<th>value</th></tr></thead><tbody>\n");
        json_array_foreach(hist, i, row)
        {
            lw_buf_puts(out, "<tr><td>");
            badge(out, jstr(row, "state"));
            lw_buf_puts(out, "</td><td>");
            put_time(out, jstr(row, "at"), p->now_ns, true);
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_json(out, json_object_get(row, "value"));
            lw_buf_puts(out, "</td></tr>\n");
        }
        lw_buf_puts(out, "</tbody></table></div>\n");
    }
    lw_buf_puts(out, "</section>\n");

    const json_t *nots = json_object_get(x, "notifications");
    lw_buf_puts(out, "<section id=\"notifications\"><h2>Notifications</h2>\n");
    if (!json_array_size(nots)) {
        lw_buf_puts(out, "<p class=\"empty\">None sent for this alert.</p>\n");
    } else {
        lw_buf_puts(out, "<div class=\"scroll\"><table><thead><tr><th>sink</th><th>status</th>"
                         "<th>outcome</th><th>queued</th><th class=\"hide-narrow\">sent</th>"
                         "<th>attempts</th><th>error</th></tr></thead><tbody>\n");
        json_array_foreach(nots, i, row)
        {
            static const char *const cols[] = {"sink", "status", "outcome"};
            lw_buf_puts(out, "<tr>");
            for (size_t c = 0; c < 3; c++) {
                lw_buf_puts(out, "<td>");
                put_json(out, json_object_get(row, cols[c]));
                lw_buf_puts(out, "</td>");
            }
            lw_buf_puts(out, "<td>");
            put_time(out, jstr(row, "created_at"), p->now_ns, false);
            lw_buf_puts(out, "</td><td class=\"hide-narrow\">");
            put_time(out, jstr(row, "sent_at"), p->now_ns, false);
            lw_buf_puts(out, "</td><td class=\"num\">");
            put_json(out, json_object_get(row, "attempts"));
            lw_buf_puts(out, "</td><td>");
            put_json(out, json_object_get(row, "error"));
            lw_buf_puts(out, "</td></tr>\n");
        }
        lw_buf_puts(out, "</tbody></table></div>\n");
    }
    lw_buf_puts(out, "</section>\n");

    const json_t *samples = json_object_get(x, "samples");
    lw_buf_printf(out,
                  "<section id=\"samples\"><h2>The lines that fed it <small>%zu, oldest "
                  "first</small></h2>\n",
                  json_array_size(samples));
    if (!json_array_size(samples)) {
        lw_buf_puts(out, "<p class=\"empty\">No sample line is kept for this alert.</p>\n");
    } else {
        lw_buf_puts(out, "<ol class=\"samples\">\n");
        json_array_foreach(samples, i, row)
        {
            lw_buf_puts(out, "<li><span class=\"meta\">");
            esc(out, jstr(row, "at"));
            if (jstr(row, "input")) {
                lw_buf_puts(out, " [");
                esc(out, jstr(row, "input"));
                lw_buf_puts(out, "]");
            }
            lw_buf_puts(out, "</span> <span class=\"line\">");
            esc(out, jstr(row, "line"));
            lw_buf_puts(out, "</span></li>\n");
        }
        lw_buf_puts(out, "</ol>\n");
    }
    lw_buf_puts(out, "</section>\n");
    json_decref(labels);
    tail(out, p);
}

void lw_page_message(struct lw_buf *out, const char *title, const char *msg)
{
    struct lw_page p = {.now_ns = lw_now_ns()};
    head(out, title);
    top(out, &p, true);
    lw_buf_puts(out, "<h2>");
    esc(out, title);
    lw_buf_puts(out, "</h2>\n<p class=\"notice error\">");
    esc(out, msg);
    lw_buf_puts(out,
                "</p>\n<p><a href=\"/\">back to the dashboard</a></p>\n</main></body></html>\n");
}
