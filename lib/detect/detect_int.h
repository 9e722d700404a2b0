/* lib/detect internals: the compiled form of a rule file. */
#ifndef WH_DETECT_INT_H
#define WH_DETECT_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/arena.h"
#include "core/limits.h"
#include "core/recbuild.h"
#include "core/sbuf.h"
#include "wmihunt/detect.h"

typedef enum cond_kind { C_ALL, C_ANY, C_NOT, C_LEAF } cond_kind;

typedef enum op_kind {
    OP_EQUALS, OP_IEQUALS, OP_CONTAINS, OP_ICONTAINS, OP_STARTSWITH, OP_ISTARTSWITH,
    OP_ENDSWITH, OP_IENDSWITH, OP_MATCHES, OP_EXISTS, OP_IN, OP_GT, OP_GTE, OP_LT, OP_LTE,
    OP_LENGTH_GT, OP_LENGTH_LT, OP_BASE64OF, OP_ENTROPY_GT, OP_COUNT
} op_kind;

typedef struct cond {
    cond_kind kind;
    struct cond **kids; /* all/any/not */
    size_t nkids;
    /* leaf */
    char **path; /* field path split on '.'; "*" is every field */
    size_t npath;
    const char *path_text;
    op_kind op;
    char **vals; /* string operands (any of them) */
    size_t *vlens;
    size_t nvals;
    double num;        /* numeric operand */
    bool flag;         /* exists: true/false */
    pcre2_code **re;   /* matches: one per value */
} cond;

typedef enum rule_kind { R_MATCH, R_SEQUENCE, R_ORPHAN, R_GROUP } rule_kind;

/* One side of a sequence rule. */
typedef struct side {
    char **artifact; /* globs */
    size_t nartifact;
    cond *where;     /* NULL: any record */
} side;

typedef struct rule {
    const char *id, *title, *description;
    wh_fsev sev;
    bool known_good;             /* a match is known-good content (inventory) */
    const char **attack;
    size_t nattack;
    rule_kind kind;
    side m;                      /* match / orphan / group: which records */
    /* sequence: m is the first event, then the second */
    side then;
    uint64_t within_ft;          /* window in 100 ns ticks */
    const char *key_first, *key_then; /* fields that must be equal */
    /* group: records sharing group_by seen in >= min distinct values of distinct */
    const char *group_by, *distinct;
    uint64_t min;
} rule;

struct wh_rules {
    wh_arena *a;
    rule **v;
    size_t n, cap;
    /* Every compiled regex, owned here rather than by the condition tree:
     * a rule that fails half-way through loading leaves no code behind. */
    pcre2_code **re;
    size_t nre, capre;
};

/* detect_match.c */
bool wh_dm_glob(const char *pat, const char *s);
bool wh_dm_side(const side *s, const wh_record *rec, wh_sbuf *why);
bool wh_dm_eval(const cond *c, const wh_record *rec, wh_sbuf *why);
/* How many regex evaluations gave up (match limit) since the last call. */
unsigned wh_dm_gave_up_take(void);
/* Calls fn for every leaf value the path reaches (arrays: each element,
 * objects at the end: each leaf inside). Stops when fn returns true. */
typedef bool (*wh_dm_leaf_fn)(void *ud, const wh_value *v);
bool wh_dm_walk(const wh_record *rec, char *const *path, size_t npath, wh_dm_leaf_fn fn, void *ud);
/* A value as text for matching (NULL for null, objects and arrays). */
const char *wh_dm_text(const wh_value *v, char *buf, size_t bufn, size_t *len);
/* First string value of a dotted path; NULL when absent. */
const char *wh_dm_get_str(const wh_record *rec, const char *path);
/* A FILETIME from a time value or an ISO 8601 string; 0 when none. */
uint64_t wh_dm_time(const wh_value *v);


/* detect_subscr.c: the wmi.subscription normaliser. */
typedef struct wh_subscr wh_subscr;
wh_subscr *wh_subscr_new(void);
void wh_subscr_free(wh_subscr *s);
/* Emits the subscription records a record yields now (cim.*, 5861) or
 * keeps what must be grouped later. fn's nonzero return stops. */
int wh_subscr_feed(wh_subscr *s, const wh_record *rec, wh_record_fn fn, void *ud);
int wh_subscr_flush(wh_subscr *s, wh_record_fn fn, void *ud);

#endif
