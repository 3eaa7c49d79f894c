/* required_fuzz.c: differential fuzz target for the prefilter's pattern analysis
 * (rules/required.c): whenever PCRE2 matches a subject, every literal factor the analysis
 * claims must occur in the subject, and the match must start with one of the claimed first
 * bytes. A wrong claim would make the daemon skip a line a rule matches, silently. */
#include "required.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

static bool contains(const char *s, size_t n, const struct lw_req_lit *l)
{
    return l->len <= n && memmem(s, n, l->s, l->len) != NULL;
}

/* The input is PATTERN NUL SUBJECT. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul || nul - data > 512)
        return 0;
    size_t plen = (size_t)(nul - data);
    char *pat = malloc(plen + 1); /* NUL-terminated, exactly sized for ASan */
    memcpy(pat, data, plen);
    pat[plen] = 0;
    const char *subj = (const char *)nul + 1;
    size_t slen = size - plen - 1;

    int errcode;
    PCRE2_SIZE erroff;
    /* Compiled as the rule loader does (no options). */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, plen, 0, &errcode, &erroff, NULL);
    struct lw_req req;
    int rc = lw_req_analyze(&req, pat, plen);
    if (rc < 0 && (req.nfactors != 0 || !req.can_be_empty))
        abort(); /* "nothing is required" must say so */
    if (req.nfactors < 0 || req.nfactors > LW_REQ_MAXF)
        abort();
    for (int f = 0; f < req.nfactors; f++) {
        if (req.f[f].n < 1 || req.f[f].n > LW_REQ_MAXALT)
            abort();
        for (int a = 0; a < req.f[f].n; a++)
            if (req.f[f].alt[a].len < 1 || req.f[f].alt[a].len > LW_REQ_MAXLEN)
                abort();
    }
    uint32_t opts = 0;
    if (re)
        pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &opts);
    /* Only what the matcher would use: no compile options beyond ANCHORED, analysis accepted. */
    if (re && rc == 0 && (opts & ~(uint32_t)PCRE2_ANCHORED) == 0) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        int m = pcre2_match(re, (PCRE2_SPTR)subj, slen, 0, 0, md, NULL);
        if (m >= 0) {
            for (int f = 0; f < req.nfactors; f++) {
                bool any = false;
                for (int a = 0; a < req.f[f].n && !any; a++)
                    any = contains(subj, slen, &req.f[f].alt[a]);
                if (!any)
                    abort(); /* a required literal is absent from a matching subject */
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[0] < ov[1] && !req.can_be_empty && (opts & PCRE2_ANCHORED) && ov[0] == 0) {
                unsigned char c = (unsigned char)subj[0];
                if (!(req.first[c >> 6] >> (c & 63) & 1))
                    abort(); /* an anchored match starting with a byte not in first[] */
            }
        }
        pcre2_match_data_free(md);
    }
    pcre2_code_free(re);
    free(pat);
    return 0;
}
