/* lib/wql internals: the handle, tokens, and the stages' entry points.
 * wql_lex.c cuts the query into tokens, wql_parse.c reads them into the
 * handle, wql_trigger.c says the trigger in words, wql_tools.c holds the
 * analysis-tool table. */
#ifndef WH_WQL_INT_H
#define WH_WQL_INT_H

#include "core/arena.h"
#include "core/limits.h"
#include "wmihunt/wql.h"
#include "wmihunt/core.h" /* WH_PRINTF */

typedef enum wql_tt {
    TT_END = 0, /* after the last token */
    TT_IDENT,   /* a name or dotted path: TargetInstance.Name, SELECT, AND */
    TT_STRING,  /* text holds the value, quotes removed */
    TT_NUMBER,  /* digits [. digits] [e [+-] digits]; num holds the value */
    TT_STAR,
    TT_COMMA,
    TT_LPAREN,
    TT_RPAREN,
    TT_EQ,
    TT_NE,
    TT_LT,
    TT_GT,
    TT_LE,
    TT_GE,
    TT_MINUS,
    TT_PLUS
} wql_tt;

typedef struct wql_tok {
    wql_tt type;
    size_t off, len;  /* where in the query (len: as written) */
    const char *text; /* NUL-terminated arena copy (string value unescaped) */
    double num;
} wql_tok;

struct wh_wql {
    wh_arena *a;
    wh_status st;
    char err[160];
    size_t err_off;
    bool failed;

    /* tokens (wql_lex.c) */
    wql_tok *toks;
    size_t ntok; /* not counting the closing TT_END */

    /* parser state (wql_parse.c) */
    size_t pos;
    unsigned depth;
    unsigned nots; /* NOTs above the current comparison */
    unsigned ors;  /* ORs above the current comparison */
    bool having;

    /* what the query says */
    const char *event_class;
    wh_ptrvec props, isa;
    double within, group_within;
    wh_wql_cmp *cmps;
    size_t ncmp, capcmp;

    /* what it means (wql_trigger.c) */
    wh_wql_kind kind;
    const char *sentence;
    const char *timer_id;
    const char *tool;
};

/* Records the first failure (later ones are dropped): st, offset, message. */
void wql_fail(wh_wql *w, wh_status st, size_t off, const char *fmt, ...) WH_PRINTF(4, 5);

/* Cuts q into w->toks; false after wql_fail(). */
bool wql_lex(wh_wql *w, const char *q, size_t len);
/* Reads the tokens into the handle; false after wql_fail(). */
bool wql_parse_tokens(wh_wql *w);
/* Sets kind, sentence, timer_id and tool; false only when out of memory. */
bool wql_describe(wh_wql *w);

/* ASCII case-insensitive equality of a NUL-terminated string and a literal. */
bool wql_ieq(const char *a, const char *b);

#endif
