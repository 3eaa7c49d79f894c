/* page.h: the dashboard's HTML, rendered on the server from the API's JSON (docs/operations.md,
 * "Health" and "The API"): pure functions of their arguments, no I/O, so that tests render
 * canned answers. dashboard.c serves them. */
#ifndef LW_PAGE_H
#define LW_PAGE_H

#include "lw.h"

#include <jansson.h>

/* What a page shows; every pointer borrowed. A JSON part may be NULL, or an object with
 * "error" (the API could not answer): the page says so in that section and shows the rest.
 * Fields the API does not give are left out, never guessed. */
struct lw_page {
    const json_t *alerts;   /* GET /api/alerts: an array */
    const json_t *rules;    /* GET /api/rules: an array */
    const json_t *health;   /* GET /health: an object */
    const json_t *silences; /* GET /api/silences: an array */
    const json_t *rates;    /* {input: records per second since the last page}, or NULL */
    const char *notice;     /* a line shown on top (after a form post), or NULL */
    bool notice_error;      /* the notice reports a failure */
    bool ask_token;         /* the forms carry a password field for http.token */
    const char *nonce;      /* the inline script's CSP nonce ([A-Za-z0-9]) */
    int64_t now_ns;         /* for "3m ago" */
};

/* The page at /: alerts (firing, then pending), rules with their sparklines, inputs, sinks, the
 * state file, silences. Appends to out. */
void lw_page_index(struct lw_buf *out, const struct lw_page *p);
/* The page at /alerts/{fp}: explain is GET /api/alerts/{fp}'s object; the chart of its series
 * against the threshold, its history, notifications and sample lines. */
void lw_page_alert(struct lw_buf *out, const json_t *explain, const struct lw_page *p);
/* A short page with a title, a message and a link back (refusals, errors, 404). */
void lw_page_message(struct lw_buf *out, const char *title, const char *msg);

/* Appends s[0..n) with & < > " ' as character references; invalid UTF-8 and control bytes
 * (other than tab and newline) become U+FFFD: attacker-written text (log lines, labels) can
 * then neither open a tag nor leave an attribute. */
void lw_html_escape(struct lw_buf *out, const char *s, size_t n);
/* An inline SVG chart of points ([[time, value|null], ...]) with the threshold as a dashed line
 * (threshold NULL: none). axes: labelled axes (the alert page); else a small sparkline. */
void lw_page_chart(struct lw_buf *out, const json_t *points, const json_t *threshold, bool axes);

#endif
