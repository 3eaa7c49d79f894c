/* required.h: what every match of a pattern requires (literal factors and the bytes a match can
 * start with), and a one-pass scanner that finds which of a ruleset's literals a line contains
 * (rules module, internal). */
#ifndef LW_RULES_REQUIRED_H
#define LW_RULES_REQUIRED_H

#include "lw.h"

#define LW_REQ_MAXF 4    /* factors kept per pattern */
#define LW_REQ_MAXALT 16 /* alternatives per factor */
#define LW_REQ_MAXLEN 32 /* bytes per literal (longer ones are cut: a piece is still required) */
#define LW_REQ_MINLEN 4  /* shorter literals select too little to be worth scanning for */
/* A pattern with a literal this long drops its shorter factors: they add little, and when all
 * of a ruleset's literals are this long the scan tests every third position only. */
#define LW_REQ_GOODLEN 6

struct lw_req_lit {
    uint8_t len;
    char s[LW_REQ_MAXLEN];
};

/* One factor: every match contains at least one of these literals. */
struct lw_req_factor {
    int n;
    struct lw_req_lit alt[LW_REQ_MAXALT];
};

/* What a pattern needs: every factor (AND of ORs), and a first byte in first[] unless the
 * pattern can match the empty string. */
struct lw_req {
    int nfactors;
    struct lw_req_factor f[LW_REQ_MAXF];
    uint64_t first[4];
    bool can_be_empty;
};

/* Analyses the pattern text (no inline options: the caller checks the compiled options). Returns
 * -1 for syntax it does not follow (lookup of \p, (?i), (?|, backreferences by name, ...); *out
 * then says nothing is required: no factors, any first byte. */
int lw_req_analyze(struct lw_req *out, const char *p, size_t len);

/* ---------------------------------------------------------------- the ruleset's literal scan */

struct lw_litscan;
struct lw_litscan *lw_litscan_new(void);
void lw_litscan_free(struct lw_litscan *ls);
/* Adds a literal (at least LW_REQ_MINLEN bytes); returns its id, the same for the same bytes. */
unsigned lw_litscan_add(struct lw_litscan *ls, const char *s, size_t n);
/* Indexes the literals; call once after the last add. */
void lw_litscan_build(struct lw_litscan *ls);
/* uint64_t words of a found set. */
size_t lw_litscan_words(const struct lw_litscan *ls);
/* Sets bit id in found for every literal the line contains (found is cleared first). */
void lw_litscan_run(const struct lw_litscan *ls, const char *line, size_t n, uint64_t *found);

#endif

/* ---------------------------------------------------------------- the ruleset's match index */

struct lw_ruleset;

/* An event's factors as literal ids of the ruleset's scan. */
struct lw_rule_req {
    uint8_t nf;
    uint8_t nalt[LW_REQ_MAXF];
    uint16_t id[LW_REQ_MAXF][LW_REQ_MAXALT];
};

/* Built once per ruleset (load), used by matching. Event sets are bitsets of ew words. */
struct lw_match_index {
    struct lw_litscan *scan;
    size_t ew;               /* words of an event set */
    struct lw_rule_req *req; /* per event */
    uint64_t *gate; /* 257 event sets: events a line starting with byte b can match (256: empty) */
    bool scan_for[257]; /* some event of gate[b] has literals */
    uint64_t *always;   /* events without literals */
    uint64_t *by_lit;   /* per literal: the events whose first factor it is in */
    uint64_t *found;    /* scratch: the line's literals */
    uint64_t *want;     /* scratch: the events to try on the line */
    uint64_t *tried;    /* per event: lines its regex ran on */
    uint64_t *lines;    /* lines seen, by input (ninputs: other) and raw body or not */
};

void lw_match_index_build(struct lw_ruleset *rs);
void lw_match_index_free(struct lw_match_index *ix);
