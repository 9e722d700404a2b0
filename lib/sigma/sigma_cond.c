/* Sigma conditions: identifiers, and, or, not, parentheses, "1 of X" /
 * "all of X" with X an identifier, a pattern with '*', or "them". The
 * aggregation syntax ("| count() ...") is refused (correlation rules are
 * a later step). Precedence: not, then and, then or. */
#include <ctype.h>
#include <string.h>

#include "sigma/sigma_int.h"

typedef struct cp {
    wh_arena *a;
    const sg_rule *r;
    const char *p;
    const char *why;
    unsigned depth;
} cp;

static void skip(cp *c)
{
    while (*c->p && isspace((unsigned char)*c->p)) c->p++;
}

/* The next word (identifier characters and '*'), or a one-character
 * token; its length. */
static size_t peek(cp *c, const char **w)
{
    skip(c);
    *w = c->p;
    if (!*c->p) return 0;
    if (*c->p == '(' || *c->p == ')' || *c->p == '|') return 1;
    size_t n = 0;
    while (c->p[n] && (isalnum((unsigned char)c->p[n]) || c->p[n] == '_' || c->p[n] == '*' || c->p[n] == '-' ||
                       c->p[n] == '.'))
        n++;
    return n;
}

static bool word(const char *w, size_t n, const char *kw) { return strlen(kw) == n && !strncmp(w, kw, n); }

static sg_cond *node(cp *c, sg_ck k)
{
    sg_cond *x = wh_arena_calloc(c->a, 1, sizeof(*x));
    if (x) x->k = k;
    else c->why = "out of memory";
    return x;
}

/* Identifiers named by pattern w[0..n) (SG_WILD-free: '*' is a wildcard here). */
static sg_cond *group(cp *c, sg_ck k, const char *w, size_t n)
{
    sg_cond *x = node(c, k);
    if (!x) return NULL;
    x->ids = wh_arena_calloc(c->a, c->r->nids ? c->r->nids : 1, sizeof(size_t));
    if (!x->ids) return NULL;
    char pat[256];
    if (n >= sizeof(pat)) {
        c->why = "an identifier pattern longer than 255 characters";
        return NULL;
    }
    for (size_t i = 0; i < n; i++) pat[i] = w[i] == '*' ? SG_WILD : w[i];
    pat[n] = 0;
    bool them = word(w, n, "them");
    for (size_t i = 0; i < c->r->nids; i++)
        if (them ? strncmp(c->r->ids[i].name, "_", 1) != 0 : sg_glob(pat, c->r->ids[i].name, true))
            x->ids[x->nids++] = i;
    if (!x->nids) {
        c->why = "'1 of'/'all of' names no detection identifier";
        return NULL;
    }
    return x;
}

static sg_cond *expr(cp *c);

static sg_cond *term(cp *c)
{
    if (++c->depth > SG_NEST_MAX) {
        c->why = "a condition nested deeper than 64 levels";
        return NULL;
    }
    const char *w;
    size_t n = peek(c, &w);
    sg_cond *x = NULL;
    if (!n) c->why = "the condition ends where a term is expected";
    else if (*w == '(') {
        c->p++;
        x = expr(c);
        if (x && peek(c, &w) == 1 && *w == ')') c->p++;
        else if (x) c->why = "a '(' without its ')'", x = NULL;
    } else if (word(w, n, "not")) {
        c->p += n;
        sg_cond *a = term(c);
        if (a && (x = node(c, SG_C_NOT))) x->a = a;
    } else if (word(w, n, "1") || word(w, n, "all") || word(w, n, "any")) {
        sg_ck k = word(w, n, "all") ? SG_C_ALL : SG_C_ONE;
        c->p += n;
        const char *of;
        size_t m = peek(c, &of);
        if (!word(of, m, "of")) {
            c->why = "'1'/'all' without 'of'";
        } else {
            c->p += m;
            m = peek(c, &of);
            if (!m || *of == '(' || *of == ')' || *of == '|') c->why = "'of' without what it names";
            else {
                c->p += m;
                x = group(c, k, of, m);
            }
        }
    } else if (*w == ')' || *w == '|' || word(w, n, "and") || word(w, n, "or")) {
        c->why = *w == '|' ? "an aggregation ('| count()...'): correlation is not supported yet"
                           : "an operator where a term is expected";
    } else {
        for (size_t i = 0; i < c->r->nids && !x; i++)
            if (strlen(c->r->ids[i].name) == n && !strncmp(c->r->ids[i].name, w, n)) {
                if ((x = node(c, SG_C_ID)) && (x->ids = wh_arena_calloc(c->a, 1, sizeof(size_t)))) {
                    x->ids[0] = i;
                    x->nids = 1;
                } else {
                    x = NULL;
                }
            }
        if (!x && !c->why) c->why = "the condition names an identifier the detection does not define";
        if (x) c->p += n;
    }
    c->depth--;
    return x;
}

static sg_cond *and_expr(cp *c)
{
    sg_cond *x = term(c);
    const char *w;
    size_t n;
    while (x && (n = peek(c, &w)) && word(w, n, "and")) {
        c->p += n;
        sg_cond *b = term(c), *y = b ? node(c, SG_C_AND) : NULL;
        if (!y) return NULL;
        y->a = x, y->b = b, x = y;
    }
    return x;
}

static sg_cond *expr(cp *c)
{
    sg_cond *x = and_expr(c);
    const char *w;
    size_t n;
    while (x && (n = peek(c, &w)) && word(w, n, "or")) {
        c->p += n;
        sg_cond *b = and_expr(c), *y = b ? node(c, SG_C_OR) : NULL;
        if (!y) return NULL;
        y->a = x, y->b = b, x = y;
    }
    return x;
}

sg_cond *sg_cond_parse(wh_arena *a, const sg_rule *r, const char *text, const char **why)
{
    if (strlen(text) > SG_COND_MAX) {
        *why = "a condition longer than 4096 characters";
        return NULL;
    }
    cp c = {.a = a, .r = r, .p = text};
    sg_cond *x = expr(&c);
    const char *w;
    if (x && peek(&c, &w)) {
        c.why = *w == '|' ? "an aggregation ('| count()...'): correlation is not supported yet"
                          : "words after the end of the condition";
        x = NULL;
    }
    if (!x) *why = c.why ? c.why : "the condition cannot be read";
    return x;
}
