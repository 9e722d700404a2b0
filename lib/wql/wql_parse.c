/* WQL parser: recursive descent over the tokens of wql_lex.c, and the
 * public accessors. The condition is not kept as a tree: callers get the
 * comparisons as a flat list, each marked with what sits above it (an odd
 * number of NOTs, some OR), which is what saying the trigger needs.
 * Recursion only happens through '(' and NOT, each counted against
 * WH_LIMIT_WQL_DEPTH, so the stack is bounded whatever the input. */
#include <stdlib.h>
#include <string.h>

#include "wql/wql_int.h"

static const char *const RESERVED[] = {"SELECT", "FROM", "WHERE", "WITHIN", "GROUP", "BY",   "HAVING", "AND",
                                       "OR",     "NOT",  "ISA",   "LIKE",   "IS",    "NULL", "TRUE",   "FALSE"};

static wql_tok *peek(wh_wql *w) { return &w->toks[w->pos]; }

// pos never passes the closing TT_END
static wql_tok *take(wh_wql *w)
{
    wql_tok *t = &w->toks[w->pos];
    if (t->type != TT_END) w->pos++;
    return t;
}

static bool kw(const wql_tok *t, const char *k) { return t->type == TT_IDENT && wql_ieq(t->text, k); }

static bool reserved(const wql_tok *t)
{
    if (t->type != TT_IDENT) return false;
    for (size_t i = 0; i < sizeof(RESERVED) / sizeof(RESERVED[0]); i++)
        if (wql_ieq(t->text, RESERVED[i])) return true;
    return false;
}

// "expected FROM, found 'x'" with the found token quoted (cut at 40 bytes)
static bool fail_expected(wh_wql *w, const char *what)
{
    wql_tok *t = peek(w);
    if (t->type == TT_END)
        wql_fail(w, WH_E_CORRUPT, t->off, "expected %s, found the end of the query", what);
    else if (t->type == TT_STRING)
        wql_fail(w, WH_E_CORRUPT, t->off, "expected %s, found a string", what);
    else
        wql_fail(w, WH_E_CORRUPT, t->off, "expected %s, found '%.40s'", what, t->text);
    return false;
}

static bool expect_kw(wh_wql *w, const char *k)
{
    if (!kw(peek(w), k)) return fail_expected(w, k);
    take(w);
    return true;
}

static bool nomem(wh_wql *w, size_t off)
{
    wql_fail(w, WH_E_NOMEM, off, "out of memory");
    return false;
}

// property, property, ... (names or dotted paths, not keywords)
static bool prop_list(wh_wql *w, wh_ptrvec *out)
{
    for (;;) {
        wql_tok *t = peek(w);
        if (t->type != TT_IDENT || reserved(t)) return fail_expected(w, "a property name");
        take(w);
        if (out && wh_ptrvec_push(w->a, out, (void *)t->text) != 0) return nomem(w, t->off);
        if (peek(w)->type != TT_COMMA) return true;
        take(w);
    }
}

static bool seconds(wh_wql *w, double *out)
{
    wql_tok *t = peek(w);
    if (t->type != TT_NUMBER) return fail_expected(w, "a number of seconds");
    take(w);
    *out = t->num;
    return true;
}

typedef struct operand {
    wh_wql_vtype type; // V_PROP for a property path
    const char *text;
    double num;
} operand;

static bool parse_operand(wh_wql *w, operand *o)
{
    wql_tok *t = peek(w);
    memset(o, 0, sizeof(*o));
    switch (t->type) {
    case TT_STRING: o->type = WH_WQL_V_STRING; break;
    case TT_NUMBER:
        o->type = WH_WQL_V_NUMBER;
        o->num = t->num;
        break;
    case TT_MINUS:
    case TT_PLUS: {
        wql_tok *n = &w->toks[w->pos + 1]; // TT_END at worst
        if (n->type != TT_NUMBER) return fail_expected(w, "a number after the sign");
        take(w);
        take(w);
        o->type = WH_WQL_V_NUMBER;
        o->num = t->type == TT_MINUS ? -n->num : n->num;
        o->text = wh_arena_printf(w->a, "%s%s", t->type == TT_MINUS ? "-" : "", n->text);
        return o->text ? true : nomem(w, t->off);
    }
    case TT_IDENT:
        if (kw(t, "TRUE") || kw(t, "FALSE")) {
            o->type = WH_WQL_V_BOOL;
            o->num = kw(t, "TRUE");
            o->text = o->num ? "TRUE" : "FALSE";
            take(w);
            return true;
        }
        if (kw(t, "NULL")) {
            o->type = WH_WQL_V_NULL;
            o->text = "NULL";
            take(w);
            return true;
        }
        if (reserved(t)) return fail_expected(w, "a property or a value");
        o->type = WH_WQL_V_PROP;
        break;
    default: return fail_expected(w, "a property or a value");
    }
    o->text = t->text;
    take(w);
    return true;
}

static bool push_cmp(wh_wql *w, const char *prop, wh_wql_op op, const operand *v, size_t off)
{
    wh_wql_cmp *c = wh_arena_grow(w->a, w->cmps, w->ncmp, &w->capcmp, sizeof(*c), 8);
    if (!c) return nomem(w, off);
    w->cmps = c;
    c = &c[w->ncmp++];
    memset(c, 0, sizeof(*c));
    c->prop = prop;
    c->op = op;
    c->type = v ? v->type : WH_WQL_V_NONE;
    c->value = v && v->text ? v->text : "";
    c->num = v ? v->num : 0;
    c->negated = w->nots & 1u;
    c->having = w->having;
    c->offset = off;
    if (op == WH_WQL_ISA && !c->negated && wh_ptrvec_push(w->a, &w->isa, (void *)c->value) != 0) return nomem(w, off);
    return true;
}

static wh_wql_op mirror(wh_wql_op op)
{
    switch (op) {
    case WH_WQL_LT: return WH_WQL_GT;
    case WH_WQL_GT: return WH_WQL_LT;
    case WH_WQL_LE: return WH_WQL_GE;
    case WH_WQL_GE: return WH_WQL_LE;
    default: return op;
    }
}

static bool comparison(wh_wql *w)
{
    size_t off = peek(w)->off;
    operand l, r;
    if (!parse_operand(w, &l)) return false;
    wql_tok *t = peek(w);
    bool lprop = l.type == WH_WQL_V_PROP;
    if (kw(t, "ISA") || kw(t, "LIKE") || kw(t, "IS") || kw(t, "NOT")) {
        if (!lprop) {
            wql_fail(w, WH_E_CORRUPT, t->off, "%s needs a property on its left", t->text);
            return false;
        }
        take(w);
        if (kw(t, "IS")) {
            bool neg = kw(peek(w), "NOT");
            if (neg) take(w);
            if (!expect_kw(w, "NULL")) return false;
            return push_cmp(w, l.text, neg ? WH_WQL_IS_NOT_NULL : WH_WQL_IS_NULL, NULL, off);
        }
        if (kw(t, "ISA")) {
            wql_tok *c = peek(w);
            if (c->type == TT_IDENT && !reserved(c)) {
                take(w);
                r = (operand){.type = WH_WQL_V_CLASS, .text = c->text};
            } else if (c->type == TT_STRING) {
                take(w);
                r = (operand){.type = WH_WQL_V_STRING, .text = c->text};
            } else {
                return fail_expected(w, "a class name after ISA");
            }
            return push_cmp(w, l.text, WH_WQL_ISA, &r, off);
        }
        wh_wql_op op = WH_WQL_LIKE;
        if (kw(t, "NOT")) {
            if (!expect_kw(w, "LIKE")) return false;
            op = WH_WQL_NOT_LIKE;
        }
        if (peek(w)->type != TT_STRING) return fail_expected(w, "a pattern string after LIKE");
        if (!parse_operand(w, &r)) return false;
        return push_cmp(w, l.text, op, &r, off);
    }
    wh_wql_op op;
    switch (t->type) {
    case TT_EQ: op = WH_WQL_EQ; break;
    case TT_NE: op = WH_WQL_NE; break;
    case TT_LT: op = WH_WQL_LT; break;
    case TT_GT: op = WH_WQL_GT; break;
    case TT_LE: op = WH_WQL_LE; break;
    case TT_GE: op = WH_WQL_GE; break;
    default: return fail_expected(w, "a comparison operator");
    }
    take(w);
    size_t roff = peek(w)->off;
    if (!parse_operand(w, &r)) return false;
    if (lprop) return push_cmp(w, l.text, op, &r, off);
    if (r.type == WH_WQL_V_PROP) return push_cmp(w, r.text, mirror(op), &l, off);
    wql_fail(w, WH_E_CORRUPT, roff, "a comparison needs a property on one side");
    return false;
}

static bool cond_or(wh_wql *w);

static bool nest(wh_wql *w, size_t off)
{
    if (++w->depth <= WH_LIMIT_WQL_DEPTH) return true;
    wql_fail(w, WH_E_LIMIT, off, "conditions nested deeper than %u", (unsigned)WH_LIMIT_WQL_DEPTH);
    return false;
}

static bool cond_not(wh_wql *w)
{
    wql_tok *t = peek(w);
    if (kw(t, "NOT")) {
        if (!nest(w, t->off)) return false;
        take(w);
        w->nots++;
        bool ok = cond_not(w);
        w->nots--;
        w->depth--;
        return ok;
    }
    if (t->type == TT_LPAREN) {
        if (!nest(w, t->off)) return false;
        take(w);
        if (!cond_or(w)) return false;
        if (peek(w)->type != TT_RPAREN) return fail_expected(w, "')'");
        take(w);
        w->depth--;
        return true;
    }
    return comparison(w);
}

static bool cond_and(wh_wql *w)
{
    if (!cond_not(w)) return false;
    while (kw(peek(w), "AND")) {
        take(w);
        if (!cond_not(w)) return false;
    }
    return true;
}

// An OR makes every comparison on either side one alternative; the left
// side was read before the OR was seen, so they are marked afterwards.
static bool cond_or(wh_wql *w)
{
    size_t first = w->ncmp;
    bool any = false;
    if (!cond_and(w)) return false;
    while (kw(peek(w), "OR")) {
        take(w);
        any = true;
        if (!cond_and(w)) return false;
    }
    if (any)
        for (size_t i = first; i < w->ncmp; i++)
            w->cmps[i].in_or = true;
    return true;
}

bool wql_parse_tokens(wh_wql *w)
{
    w->pos = 0;
    if (!expect_kw(w, "SELECT")) return false;
    if (peek(w)->type == TT_STAR) {
        take(w);
        if (wh_ptrvec_push(w->a, &w->props, (void *)"*") != 0) return nomem(w, 0);
    } else if (!prop_list(w, &w->props)) {
        return false;
    }
    if (!expect_kw(w, "FROM")) return false;
    wql_tok *c = peek(w);
    if (c->type != TT_IDENT || reserved(c)) return fail_expected(w, "an event class after FROM");
    take(w);
    w->event_class = c->text;
    bool within = false;
    if (kw(peek(w), "WITHIN")) {
        take(w);
        if (!seconds(w, &w->within)) return false;
        within = true;
    }
    if (kw(peek(w), "WHERE")) {
        take(w);
        if (!cond_or(w)) return false;
    }
    // WITHIN after the condition: Windows takes it there too
    if (!within && kw(peek(w), "WITHIN")) {
        take(w);
        if (!seconds(w, &w->within)) return false;
    }
    if (kw(peek(w), "GROUP")) {
        take(w);
        if (!expect_kw(w, "WITHIN")) return false;
        if (!seconds(w, &w->group_within)) return false;
        if (kw(peek(w), "BY")) {
            take(w);
            if (!prop_list(w, NULL)) return false;
        }
        if (kw(peek(w), "HAVING")) {
            take(w);
            w->having = true;
            if (!cond_or(w)) return false;
            w->having = false;
        }
    }
    if (peek(w)->type != TT_END) return fail_expected(w, "the end of the query");
    return true;
}

/* ---- public API ---- */

wh_status wh_wql_parse(const char *q, size_t len, wh_wql **out)
{
    if (!out) return WH_E_ARG;
    *out = NULL;
    if (!q) return WH_E_ARG;
    wh_arena *a = wh_arena_new(WH_LIMIT_WQL_ARENA);
    if (!a) return WH_E_NOMEM;
    wh_wql *w = wh_arena_calloc(a, 1, sizeof(*w));
    if (!w) {
        wh_arena_free(a);
        return WH_E_NOMEM;
    }
    w->a = a;
    w->within = w->group_within = -1;
    if (len > WH_LIMIT_WQL_QUERY)
        wql_fail(w, WH_E_LIMIT, WH_LIMIT_WQL_QUERY, "query longer than %u bytes", (unsigned)WH_LIMIT_WQL_QUERY);
    else if (wql_lex(w, q, len) && wql_parse_tokens(w) && !wql_describe(w))
        wql_fail(w, WH_E_NOMEM, 0, "out of memory");
    if (w->failed && w->st == WH_E_NOMEM) {
        // the arena's cap is a bound like the others; anything else is a
        // real shortage and nothing is left to show
        if (!wh_arena_hit_cap(a)) {
            wh_arena_free(a);
            return WH_E_NOMEM;
        }
        w->st = WH_E_LIMIT;
        strcpy(w->err, "query needs more memory than WH_LIMIT_WQL_ARENA");
    }
    *out = w;
    return w->failed ? w->st : WH_OK;
}

void wh_wql_free(wh_wql *w)
{
    if (w) wh_arena_free(w->a);
}

const char *wh_wql_error(const wh_wql *w, size_t *offset)
{
    if (offset) *offset = w && w->failed ? w->err_off : 0;
    return w && w->failed ? w->err : NULL;
}

#define OK(w) ((w) && !(w)->failed)

const char *wh_wql_event_class(const wh_wql *w) { return OK(w) ? w->event_class : NULL; }
double wh_wql_within(const wh_wql *w) { return OK(w) ? w->within : -1; }
double wh_wql_group_within(const wh_wql *w) { return OK(w) ? w->group_within : -1; }
const char *wh_wql_isa(const wh_wql *w) { return OK(w) && w->isa.n ? (const char *)w->isa.v[0] : NULL; }
const char *wh_wql_timer_id(const wh_wql *w) { return OK(w) ? w->timer_id : NULL; }
const char *wh_wql_tool(const wh_wql *w) { return OK(w) ? w->tool : NULL; }

size_t wh_wql_props(const wh_wql *w, const char *const **props)
{
    if (props) *props = OK(w) ? (const char *const *)w->props.v : NULL;
    return OK(w) ? w->props.n : 0;
}

size_t wh_wql_isa_list(const wh_wql *w, const char *const **classes)
{
    if (classes) *classes = OK(w) ? (const char *const *)w->isa.v : NULL;
    return OK(w) ? w->isa.n : 0;
}

size_t wh_wql_comparisons(const wh_wql *w, const wh_wql_cmp **cmps)
{
    if (cmps) *cmps = OK(w) ? w->cmps : NULL;
    return OK(w) ? w->ncmp : 0;
}

const char *wh_wql_trigger(const wh_wql *w, wh_wql_kind *kind)
{
    if (kind) *kind = OK(w) ? w->kind : WH_WQL_OTHER;
    return OK(w) ? w->sentence : NULL;
}
