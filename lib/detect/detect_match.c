/* Evaluating conditions on a record: field paths (dots into objects, any
 * element of an array), operators, and the "why" text of a match. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "detect/detect_int.h"

/* Regex evaluations that hit PCRE2's match limit since the last take: the
 * engine reports them rather than letting a crafted value pass as "no
 * match". One per thread: evaluation is single-threaded per engine. */
static _Thread_local unsigned gave_up;

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Glob with * and ?, case-insensitive (artifact names are lower case). */
bool wh_dm_glob(const char *p, const char *s) { return wh_glob(p, s); }

static bool name_eq(const char *a, const char *b) { return a && b && wh_strcasecmp(a, b) == 0; }

static bool walk_value(const wh_value *v, char *const *path, size_t npath, int depth, wh_dm_leaf_fn fn, void *ud);

static bool walk_fields(const wh_field *f, size_t n, char *const *path, size_t npath, int depth, wh_dm_leaf_fn fn,
                        void *ud)
{
    for (size_t i = 0; i < n; i++) {
        // "*" takes every field at this level; names compare without case (WMI's are).
        if (strcmp(path[0], "*") != 0 && !name_eq(f[i].name, path[0])) continue;
        if (walk_value(&f[i].v, path + 1, npath - 1, depth + 1, fn, ud)) return true;
    }
    return false;
}

static bool walk_value(const wh_value *v, char *const *path, size_t npath, int depth, wh_dm_leaf_fn fn, void *ud)
{
    if (depth > (int)WH_LIMIT_RULES_FIELD_DEPTH) return false;
    if (v->type == WH_V_ARRAY) {
        for (size_t i = 0; i < v->as.arr.n; i++)
            if (walk_value(&v->as.arr.items[i], path, npath, depth + 1, fn, ud)) return true;
        return false;
    }
    if (v->type == WH_V_OBJECT) {
        // Path ends at an object: every leaf inside counts (keyword search).
        if (!npath) {
            static char *const star[1] = {"*"};
            return walk_fields(v->as.obj.fields, v->as.obj.n, star, 1, depth, fn, ud);
        }
        return walk_fields(v->as.obj.fields, v->as.obj.n, path, npath, depth, fn, ud);
    }
    if (npath) return false;
    return fn(ud, v);
}

bool wh_dm_walk(const wh_record *rec, char *const *path, size_t npath, wh_dm_leaf_fn fn, void *ud)
{
    if (!npath) return false;
    // Record header fields are addressable like fields.
    if (npath == 1) {
        wh_value hv = {.type = WH_V_NULL};
        if (!strcmp(path[0], "artifact")) hv = wh_v_str(rec->artifact);
        else if (!strcmp(path[0], "source")) hv = wh_v_str(rec->source);
        else if (!strcmp(path[0], "host")) hv = wh_v_str(rec->host);
        else if (!strcmp(path[0], "offset") && rec->offset != WH_NO_OFFSET) hv = wh_v_uint(rec->offset);
        if (hv.type != WH_V_NULL && !wh_record_field(rec, path[0])) return fn(ud, &hv);
    }
    return walk_fields(rec->fields, rec->nfields, path, npath, 0, fn, ud);
}

const char *wh_dm_text(const wh_value *v, char *buf, size_t bufn, size_t *len)
{
    switch (v->type) {
    case WH_V_STR: *len = v->as.str.len; return v->as.str.s ? v->as.str.s : "";
    case WH_V_BOOL: *len = v->as.b ? 4 : 5; return v->as.b ? "true" : "false";
    case WH_V_INT: *len = (size_t)snprintf(buf, bufn, "%lld", (long long)v->as.i); return buf;
    case WH_V_UINT: *len = (size_t)snprintf(buf, bufn, "%llu", (unsigned long long)v->as.u); return buf;
    case WH_V_REAL: *len = (size_t)snprintf(buf, bufn, "%.17g", v->as.d); return buf;
    case WH_V_TIME: wh_filetime_iso(v->as.ft, buf); *len = strlen(buf); return buf;
    case WH_V_BYTES: {
        size_t k = 0;
        for (size_t i = 0; i < v->as.bytes.len && k + 3 < bufn; i++) k += (size_t)snprintf(buf + k, bufn - k, "%02X", v->as.bytes.p[i]);
        buf[k] = 0;
        *len = k;
        return buf;
    }
    default: return NULL;
    }
}

static bool num_of(const wh_value *v, double *d)
{
    switch (v->type) {
    case WH_V_INT: *d = (double)v->as.i; return true;
    case WH_V_UINT: *d = (double)v->as.u; return true;
    case WH_V_REAL: *d = v->as.d; return true;
    case WH_V_BOOL: *d = v->as.b; return true;
    case WH_V_STR: {
        if (!v->as.str.len || v->as.str.len > 64) return false;
        char tmp[80];
        memcpy(tmp, v->as.str.s, v->as.str.len);
        tmp[v->as.str.len] = 0;
        char *end = NULL;
        // Windows renders some numbers in hex (0x3e7): take both.
        double x = (tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X')) ? (double)strtoull(tmp, &end, 16)
                                                                      : strtod(tmp, &end);
        if (!end || *end) return false;
        *d = x;
        return true;
    }
    default: return false;
    }
}

static bool mem_icase_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)a[i]) != lc((unsigned char)b[i])) return false;
    return true;
}

static bool find(const char *h, size_t hn, const char *n, size_t nn, bool icase)
{
    if (nn > hn) return false;
    if (!nn) return true;
    for (size_t i = 0; i + nn <= hn; i++) {
        if (icase ? lc((unsigned char)h[i]) != lc((unsigned char)n[0]) : h[i] != n[0]) continue;
        if (icase ? mem_icase_eq(h + i, n, nn) : !memcmp(h + i, n, nn)) return true;
    }
    return false;
}

/* Shannon entropy in bits per byte. */
static double entropy(const char *s, size_t n)
{
    if (!n) return 0;
    size_t cnt[256] = {0};
    for (size_t i = 0; i < n; i++) cnt[(unsigned char)s[i]]++;
    double e = 0;
    for (int i = 0; i < 256; i++)
        if (cnt[i]) {
            double p = (double)cnt[i] / (double)n;
            e -= p * log2(p);
        }
    return e;
}

typedef struct leafctx {
    const cond *c;
    wh_sbuf *why;
    bool any_value; /* exists */
} leafctx;

static void why_value(wh_sbuf *why, const char *s, size_t n)
{
    // Keep the why line short and printable; the evidence has the full value.
    size_t max = n > 120 ? 120 : n;
    wh_sbuf_putc(why, '\'');
    for (size_t i = 0; i < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        wh_sbuf_putc(why, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
    }
    if (max < n) wh_sbuf_puts(why, "...");
    wh_sbuf_putc(why, '\'');
}

static const char *const OPNAME[OP_COUNT] = {
    "equals", "iequals", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
    "matches", "exists", "in", ">", ">=", "<", "<=", "length >", "length <", "base64-of", "entropy >"};

static bool leaf_hit(void *ud, const wh_value *v)
{
    leafctx *x = ud;
    const cond *c = x->c;
    if (v->type == WH_V_NULL) return false;
    x->any_value = true;
    if (c->op == OP_EXISTS) return true;
    char buf[64];
    size_t n = 0;
    double d;
    if (c->op >= OP_GT && c->op <= OP_LTE) {
        if (!num_of(v, &d)) return false;
        bool ok = c->op == OP_GT ? d > c->num : c->op == OP_GTE ? d >= c->num : c->op == OP_LT ? d < c->num : d <= c->num;
        if (ok && x->why) wh_sbuf_printf(x->why, "%s %s %g (value %g)", c->path_text, OPNAME[c->op], c->num, d);
        return ok;
    }
    const char *s = wh_dm_text(v, buf, sizeof buf, &n);
    if (!s) return false;
    if (c->op == OP_LENGTH_GT || c->op == OP_LENGTH_LT || c->op == OP_ENTROPY_GT) {
        double m = c->op == OP_ENTROPY_GT ? entropy(s, n) : (double)n;
        bool ok = c->op == OP_LENGTH_LT ? m < c->num : m > c->num;
        if (ok && x->why) wh_sbuf_printf(x->why, "%s %s %g (%.2f)", c->path_text, OPNAME[c->op], c->num, m);
        return ok;
    }
    for (size_t i = 0; i < c->nvals; i++) {
        const char *p = c->vals[i];
        size_t pn = c->vlens[i];
        bool ok = false;
        switch (c->op) {
        case OP_EQUALS: ok = n == pn && !memcmp(s, p, n); break;
        case OP_IN:
        case OP_IEQUALS: ok = n == pn && mem_icase_eq(s, p, n); break;
        case OP_CONTAINS:
        case OP_BASE64OF: ok = find(s, n, p, pn, false); break;
        case OP_ICONTAINS: ok = find(s, n, p, pn, true); break;
        case OP_STARTSWITH: ok = n >= pn && !memcmp(s, p, pn); break;
        case OP_ISTARTSWITH: ok = n >= pn && mem_icase_eq(s, p, pn); break;
        case OP_ENDSWITH: ok = n >= pn && !memcmp(s + n - pn, p, pn); break;
        case OP_IENDSWITH: ok = n >= pn && mem_icase_eq(s + n - pn, p, pn); break;
        case OP_MATCHES: {
            pcre2_match_data *md = pcre2_match_data_create(1, NULL);
            pcre2_match_context *mc = pcre2_match_context_create(NULL);
            if (md && mc) {
                // Bounded backtracking: a slow rule must not hang a hunt.
                pcre2_set_match_limit(mc, WH_LIMIT_RULES_RE_MATCH);
                int rc = pcre2_match(c->re[i], (PCRE2_SPTR)s, n, 0, 0, md, mc);
                ok = rc >= 0;
                if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) gave_up++;
            }
            pcre2_match_context_free(mc);
            pcre2_match_data_free(md);
            break;
        }
        default: break;
        }
        if (ok) {
            if (x->why) {
                wh_sbuf_printf(x->why, "%s %s '%s': ", c->path_text, OPNAME[c->op], p);
                why_value(x->why, s, n);
            }
            return true;
        }
    }
    return false;
}

unsigned wh_dm_gave_up_take(void)
{
    unsigned n = gave_up;
    gave_up = 0;
    return n;
}

bool wh_dm_eval(const cond *c, const wh_record *rec, wh_sbuf *why)
{
    size_t mark = why ? why->n : 0;
    switch (c->kind) {
    case C_ALL:
        for (size_t i = 0; i < c->nkids; i++) {
            size_t before = why ? why->n : 0;
            if (why && why->n > mark) wh_sbuf_puts(why, "; ");
            if (!wh_dm_eval(c->kids[i], rec, why)) {
                if (why) why->n = mark;
                return false;
            }
            // A kid that says nothing (not, exists inside any) leaves no separator.
            if (why && why->n == before + 2 && before > mark) why->n = before;
        }
        return true;
    case C_ANY:
        for (size_t i = 0; i < c->nkids; i++)
            if (wh_dm_eval(c->kids[i], rec, why)) return true;
        return false;
    case C_NOT: {
        // What did not match is not worth a why: say nothing.
        bool r = !wh_dm_eval(c->kids[0], rec, NULL);
        return r;
    }
    case C_LEAF: {
        leafctx x = {.c = c, .why = why};
        bool hit = wh_dm_walk(rec, c->path, c->npath, leaf_hit, &x);
        if (c->op == OP_EXISTS) {
            bool ok = c->flag ? x.any_value : !x.any_value;
            if (ok && why) wh_sbuf_printf(why, "%s %s", c->path_text, c->flag ? "exists" : "is absent");
            return ok;
        }
        if (!hit && why) why->n = mark;
        return hit;
    }
    }
    return false;
}

bool wh_dm_side(const side *s, const wh_record *rec, wh_sbuf *why)
{
    bool art = s->nartifact == 0;
    for (size_t i = 0; i < s->nartifact && !art; i++) art = rec->artifact && wh_dm_glob(s->artifact[i], rec->artifact);
    if (!art) return false;
    return !s->where || wh_dm_eval(s->where, rec, why);
}

typedef struct firststr { const char *s; } firststr;

static bool first_str(void *ud, const wh_value *v)
{
    firststr *f = ud;
    if (v->type != WH_V_STR) return false;
    f->s = v->as.str.s;
    return true;
}

const char *wh_dm_get_str(const wh_record *rec, const char *path)
{
    char *parts[8];
    char tmp[256];
    size_t n = strlen(path);
    if (n >= sizeof tmp) return NULL;
    memcpy(tmp, path, n + 1);
    size_t np = 0;
    for (char *s = tmp; np < 8;) {
        parts[np++] = s;
        char *e = strchr(s, '.');
        if (!e) break;
        *e = 0;
        s = e + 1;
    }
    firststr f = {NULL};
    wh_dm_walk(rec, parts, np, first_str, &f);
    return f.s;
}

/* Days from 1601-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_1601(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t unix_days = era * 146097 + doe - 719468;
    return unix_days + 134774; // 1601-01-01 to 1970-01-01
}

uint64_t wh_dm_time(const wh_value *v)
{
    if (v->type == WH_V_TIME) return v->as.ft;
    if (v->type != WH_V_STR || v->as.str.len < 19) return 0;
    const char *s = v->as.str.s;
    int Y, M, D, h, mi, se, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &Y, &M, &D, &h, &mi, &se, &used) != 6 || used < 19) return 0;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || se > 60 || Y < 1601) return 0;
    uint64_t frac = 0;
    int digits = 0;
    const char *p = s + used;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 7) frac = frac * 10 + (uint64_t)(*p - '0'), digits++;
    while (digits++ < 7) frac *= 10;
    int64_t days = days_from_1601(Y, M, D);
    return ((uint64_t)days * 86400 + (uint64_t)h * 3600 + (uint64_t)mi * 60 + (uint64_t)se) * 10000000u + frac;
}

