/* lib/sigma internals: a loaded rule set (sigma_load.c), conditions
 * (sigma_cond.c), matching (sigma_match.c). Everything lives in one arena
 * per rule set. */
#ifndef WH_SIGMA_INT_H
#define WH_SIGMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/arena.h"
#include "wmihunt/sigma.h"

/* Bounds (docs/security.md): a rule file, values per field, identifiers
 * per rule, condition length and nesting, regex match work. */
#define SG_FILE_MAX (1u << 20)
#define SG_VALUES_MAX 4096u
#define SG_IDENTS_MAX 256u
#define SG_COND_MAX 4096u
#define SG_NEST_MAX 64u
#define SG_RE_MATCH_LIMIT 100000u
#define SG_WILD '\x01' /* '*' as a wildcard in a pattern */
#define SG_ONE '\x02'  /* '?' as a wildcard */

typedef enum sg_op { SG_GLOB, SG_RE, SG_CIDR, SG_EXISTS, SG_GT, SG_GTE, SG_LT, SG_LTE, SG_FIELDREF, SG_NULL } sg_op;

typedef struct sg_val {
    const char *pat;    /* SG_GLOB: the pattern (SG_WILD/SG_ONE); SG_FIELDREF: the other field */
    pcre2_code *re;     /* SG_RE */
    uint8_t net[16];    /* SG_CIDR */
    int af, bits;
    double num;         /* SG_GT... */
    bool yes;           /* SG_EXISTS */
} sg_val;

typedef struct sg_item {
    const char *field;  /* NULL: a keyword, matched in the whole event */
    sg_op op;
    bool all, cased;
    sg_val *v;
    size_t nv;
} sg_item;

typedef struct sg_map {   /* the items of one map: all must hold */
    sg_item *items;
    size_t n;
} sg_map;

typedef struct sg_ident { /* a detection identifier: any of its maps */
    const char *name;
    sg_map *maps;
    size_t n;
} sg_ident;

typedef enum sg_ck { SG_C_ID, SG_C_AND, SG_C_OR, SG_C_NOT, SG_C_ONE, SG_C_ALL } sg_ck;

typedef struct sg_cond {
    sg_ck k;
    struct sg_cond *a, *b;
    size_t *ids; /* SG_C_ID: one; SG_C_ONE/ALL: the identifiers a pattern names */
    size_t nids;
} sg_cond;

typedef struct sg_src {   /* one source of a logsource: channel or provider, event ids, field names */
    const char *channel, *provider;
    uint32_t *eids;
    size_t neids;
    const char **from, **to;
    size_t nf;
} sg_src;

typedef struct sg_logsrc {
    const char *category, *product, *service;
    sg_src *srcs;
    size_t n;
} sg_logsrc;

typedef struct sg_rule {
    wh_sigma_rule_info info;
    sg_ident *ids;
    size_t nids;
    sg_cond **conds; /* any of them */
    size_t nconds;
    const sg_logsrc *ls; /* NULL: not mapped */
} sg_rule;

struct wh_sigma {
    wh_arena *a;
    sg_rule *rules;
    size_t n, cap;
    struct sg_rej { const char *path, *why; } *rej;
    size_t nrej, caprej;
    pcre2_code **codes; /* every compiled regex (freed with the set) */
    size_t ncodes, capcodes;
    sg_logsrc *ls;
    size_t nls;
    pcre2_match_context *mctx;
    /* The rules by source: "c:channel|eid", "c:channel|*", "p:provider|eid",
     * "p:provider|*" (lower case) -> wh_ptrvec of rule numbers + 1. Built
     * when rules are added, read only while events are matched. */
    wh_arena *ia;
    struct wh_strmap *index;
};

/* (Re)builds s->index (sigma_match.c). */
void sg_index(wh_sigma *s);

/* sigma_cond.c: parses a condition over r's identifiers; NULL with *why. */
sg_cond *sg_cond_parse(wh_arena *a, const sg_rule *r, const char *text, const char **why);
/* sigma_match.c */
bool sg_cond_eval(const wh_sigma *s, const sg_rule *r, const sg_cond *c, const sg_src *src,
                  const wh_sigma_event *ev);
/* Glob match of pattern p (SG_WILD, SG_ONE) against s; case-folded ASCII
 * unless cased. */
bool sg_glob(const char *p, const char *s, bool cased);

#endif
