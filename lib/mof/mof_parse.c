/* MOF parser: recursive descent over the DSP0221 2.x subset that Windows
 * MOFs use (docs/formats/mof.md). Strict mode stops at the first syntax
 * error; tolerant mode repairs what it recognises (markdown "**", a missing
 * ';', bare identifiers as values) and otherwise skips to the next place a
 * declaration can start, noting every region it skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "mof/mof_int.h"

typedef struct P {
    wh_mof *m;
    lexer L;
    tok cur;
    bool tol;
    const char *ns, *ns_raw;
    unsigned depth;
    bool err;            /* a syntax error is pending */
    size_t err_pos;
    char err_msg[256];
    bool stop;           /* a limit was hit: no more parsing */
    bool degraded;       /* the declaration being read was repaired */
} P;

static void adv(P *p) { p->cur = mof_lex_next(&p->L); }

static tok peek(P *p)
{
    size_t save = p->L.r.pos;
    tok t = mof_lex_next(&p->L);
    p->L.r.pos = save;
    return t;
}

static bool kw(const P *p, tok t, const char *k)
{
    size_t n = strlen(k);
    if (t.k != T_IDENT || t.repaired || t.end - t.pos != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = p->m->text.t[t.pos + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != k[i]) return false;
    }
    return true;
}

static bool punct(tok t, char c) { return t.k == T_PUNCT && t.c == c; }

// Short printable view of a token for messages.
static const char *show(P *p, tok t, char *buf, size_t cap)
{
    if (t.k == T_EOF) return "end of file";
    size_t n = t.end - t.pos;
    if (n > 40) n = 40;
    size_t o = 0;
    buf[o++] = '\'';
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)p->m->text.t[t.pos + i];
        buf[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    buf[o++] = '\'';
    buf[o] = 0;
    return buf;
}

WH_PRINTF(3, 4) static bool fail(P *p, size_t pos, const char *fmt, ...)
{
    if (p->err) return false;
    p->err = true;
    p->err_pos = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err_msg, sizeof(p->err_msg), fmt, ap);
    va_end(ap);
    return false;
}

static bool expect(P *p, char c, const char *where)
{
    if (punct(p->cur, c)) {
        adv(p);
        return true;
    }
    char b[64];
    return fail(p, p->cur.pos, "expected '%c' %s, found %s", c, where, show(p, p->cur, b, sizeof(b)));
}

static void repair(P *p, size_t pos, size_t end, const char *what)
{
    p->degraded = true;
    mof_note(p->m, false, pos, end, what);
}

// Identifier text; a repaired "**Name" becomes "__Name".
static char *ident(P *p, tok t)
{
    if (!t.repaired) return wh_arena_strndup(p->m->a, p->m->text.t + t.pos, t.end - t.pos);
    repair(p, t.pos, t.end, "markdown damage: '**' read as '__'"); // the repair is also the warning
    char *s = wh_arena_alloc(p->m->a, t.end - t.pos + 1);
    if (!s) return NULL;
    memcpy(s, "__", 2);
    memcpy(s + 2, p->m->text.t + t.pos + 2, t.end - t.pos - 2);
    s[t.end - t.pos] = 0;
    return s;
}

static bool take_ident(P *p, const char *what, const char **out)
{
    char b[64];
    if (p->cur.k != T_IDENT) return fail(p, p->cur.pos, "expected %s, found %s", what, show(p, p->cur, b, sizeof(b)));
    *out = ident(p, p->cur);
    adv(p);
    return *out != NULL || fail(p, p->cur.pos, "out of memory");
}

/* ---- literals ---- */

typedef struct sbuild {
    char *s;
    size_t n, cap;
} sbuild;

static bool sb_reserve(P *p, sbuild *b, size_t more)
{
    if (more > WH_LIMIT_STRING || b->n > WH_LIMIT_STRING - more) return false;
    if (b->n + more + 1 <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < b->n + more + 1) nc *= 2;
    char *ns = wh_arena_alloc(p->m->a, nc);
    if (!ns) return false;
    if (b->n) memcpy(ns, b->s, b->n);
    b->s = ns;
    b->cap = nc;
    return true;
}

static void sb_cp(sbuild *b, uint32_t cp)
{
    if (cp < 0x80) b->s[b->n++] = (char)cp;
    else if (cp < 0x800) b->s[b->n++] = (char)(0xC0 | cp >> 6), b->s[b->n++] = (char)(0x80 | (cp & 0x3F));
    else
        b->s[b->n++] = (char)(0xE0 | cp >> 12), b->s[b->n++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        b->s[b->n++] = (char)(0x80 | (cp & 0x3F));
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes the body of one quoted token into b (never grows: every escape
// is at least as long as what it stands for). *bad: an invalid escape or a
// control character was met.
static bool unescape(P *p, tok t, sbuild *b, bool *bad, bool *lossy)
{
    const char *s = p->m->text.t;
    size_t i = t.pos + 1, end = t.end;
    char q = s[t.pos];
    bool closed = end - t.pos >= 2 && s[end - 1] == q;
    if (closed) end--;
    if (!closed) {
        if (!p->tol) return fail(p, t.pos, "%s not closed before the end of the file", q == '"' ? "string" : "char16");
        repair(p, t.pos, t.end, "string not closed; read to the end of the file");
    }
    if (!sb_reserve(p, b, end - i)) {
        mof_diag(p->m, WH_SEV_WARN, WH_E_LIMIT, t.pos, "string of %zu bytes is longer than %u; not read", end - i,
                 WH_LIMIT_STRING);
        return fail(p, t.pos, "string longer than %u bytes", WH_LIMIT_STRING);
    }
    while (i < end) {
        char c = s[i];
        if (c == 0) { // a NUL cannot live in our strings: shown as U+FFFD, not dropped
            *lossy = true;
            if (!sb_reserve(p, b, 3 + (end - i))) return fail(p, t.pos, "string longer than %u bytes", WH_LIMIT_STRING);
            sb_cp(b, 0xFFFD); // 3 bytes for 1: room made above
            i++;
            continue;
        }
        if (c != '\\' || i + 1 >= end) {
            if ((unsigned char)c < 0x20 && c != '\t') *bad = true;
            b->s[b->n++] = c;
            i++;
            continue;
        }
        char e = s[i + 1];
        const char *simple = strchr("btnfr\"'\\", e);
        if (simple && e) {
            static const char out[] = "\b\t\n\f\r\"'\\";
            b->s[b->n++] = out[simple - "btnfr\"'\\"];
            i += 2;
        } else if ((e == 'x' || e == 'X') && i + 2 < end && hexv(s[i + 2]) >= 0) {
            uint32_t v = 0;
            size_t k = i + 2;
            while (k < end && k < i + 6 && hexv(s[k]) >= 0) v = v * 16 + (uint32_t)hexv(s[k++]);
            // A UCS-2 code unit; a lone surrogate cannot be UTF-8.
            if (v >= 0xD800 && v <= 0xDFFF) v = 0xFFFD, *lossy = true;
            if (v == 0) v = 0xFFFD, *lossy = true; // NUL: shown, not dropped
            sb_cp(b, v);
            i = k;
        } else {
            // Unknown escape: keep the backslash (notes §3), warn, go on.
            *bad = true;
            // The repair is also the warning.
            repair(p, i, i + 2,
                   wh_arena_printf(p->m->a, "invalid escape '\\%c' kept with its backslash", (e >= 0x20 && e < 0x7F) ? e : '?'));
            b->s[b->n++] = '\\';
            i++;
        }
    }
    b->s[b->n] = 0;
    return true;
}

// Adjacent string literals are one value (comments may sit between them).
static bool strings(P *p, mval *v, char **raw, bool *bad)
{
    sbuild b = {0}, rb = {0};
    bool lossy = false, badesc = false;
    v->k = V_STR;
    v->pos = p->cur.pos;
    while (p->cur.k == T_STRING) {
        if (!unescape(p, p->cur, &b, &badesc, &lossy)) return false;
        if (raw) {
            size_t n = p->cur.end - p->cur.pos;
            n = n >= 2 ? n - 2 : 0;
            if (!sb_reserve(p, &rb, n)) return fail(p, p->cur.pos, "string too long");
            memcpy(rb.s + rb.n, p->m->text.t + p->cur.pos + 1, n);
            rb.n += n;
            rb.s[rb.n] = 0;
        }
        adv(p);
    }
    if (!b.s && !sb_reserve(p, &b, 1)) return fail(p, v->pos, "out of memory");
    b.s[b.n] = 0;
    v->as.s.s = b.s;
    v->as.s.len = b.n;
    v->as.s.lossy = lossy;
    if (raw) *raw = rb.s ? rb.s : b.s;
    if (bad) *bad = badesc;
    return true;
}

static bool number(P *p, tok t, mval *v)
{
    const char *s = p->m->text.t + t.pos;
    size_t n = t.end - t.pos;
    char buf[80];
    if (n >= sizeof(buf)) return fail(p, t.pos, "number too long");
    memcpy(buf, s, n);
    buf[n] = 0;
    v->pos = t.pos;
    size_t i = 0;
    bool neg = false;
    if (buf[0] == '+' || buf[0] == '-') neg = buf[0] == '-', i = 1;
    const char *d = buf + i;
    size_t dn = n - i;
    unsigned base = 10;
    size_t k = 0, kend = dn;
    if (dn > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) base = 16, k = 2;
    else if (dn > 1 && (d[dn - 1] == 'b' || d[dn - 1] == 'B') && strspn(d, "01") == dn - 1) base = 2, kend = dn - 1;
    else if (strpbrk(d, ".eE")) {
        char *end;
        double x = strtod(buf, &end);
        if (*end) return fail(p, t.pos, "bad real number '%s'", buf);
        v->k = V_REAL;
        v->as.d = x;
        return true;
    } else if (dn > 1 && d[0] == '0') base = 8, k = 1;
    uint64_t acc = 0;
    if (k >= kend) return fail(p, t.pos, "bad number '%s'", buf);
    for (; k < kend; k++) {
        int x = hexv(d[k]);
        if (x < 0 || (unsigned)x >= base) return fail(p, t.pos, "bad number '%s'", buf);
        if (acc > (UINT64_MAX - (uint64_t)x) / base) return fail(p, t.pos, "number '%s' does not fit 64 bits", buf);
        acc = acc * base + (uint64_t)x;
    }
    if (neg) {
        if (acc > (uint64_t)INT64_MAX + 1) return fail(p, t.pos, "number '%s' does not fit 64 bits", buf);
        v->k = V_INT;
        v->as.i = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    } else {
        v->k = V_UINT;
        v->as.u = acc;
    }
    return true;
}

static bool instance_body(P *p, mof_inst *in, bool embedded);

static bool value(P *p, mval *v)
{
    char b[64];
    memset(v, 0, sizeof(*v));
    v->pos = p->cur.pos;
    if (p->depth >= WH_LIMIT_MOF_DEPTH) {
        p->stop = true;
        return fail(p, p->cur.pos, "values nested deeper than %u", WH_LIMIT_MOF_DEPTH);
    }
    p->depth++;
    bool ok = true;
    tok t = p->cur;
    if (t.k == T_STRING) {
        ok = strings(p, v, NULL, NULL);
    } else if (t.k == T_CHAR) {
        sbuild sb = {0};
        bool bad = false, lossy = false;
        ok = unescape(p, t, &sb, &bad, &lossy);
        if (ok) {
            v->k = V_CHAR;
            v->as.s.s = sb.s;
            v->as.s.len = sb.n;
            v->as.s.lossy = lossy;
            adv(p);
        }
    } else if (t.k == T_NUM) {
        ok = number(p, t, v);
        if (ok) adv(p);
    } else if (t.k == T_ALIAS) {
        v->k = V_ALIAS;
        v->as.s.s = wh_arena_strndup(p->m->a, p->m->text.t + t.pos + 1, t.end - t.pos - 1);
        v->as.s.len = t.end - t.pos - 1;
        adv(p);
    } else if (punct(t, '{')) {
        adv(p);
        mval *items = NULL;
        size_t n = 0, cap = 0;
        while (ok && !punct(p->cur, '}')) {
            if (n == cap) {
                if (cap >= WH_LIMIT_MOF_ARRAY) {
                    p->stop = true;
                    ok = fail(p, p->cur.pos, "array longer than %u elements", WH_LIMIT_MOF_ARRAY);
                    break;
                }
                mval *ni = wh_arena_grow(p->m->a, items, n, &cap, sizeof(*ni), 8);
                if (!ni) {
                    ok = fail(p, p->cur.pos, "out of memory");
                    break;
                }
                items = ni;
            }
            ok = value(p, &items[n]);
            if (!ok) break;
            n++;
            if (punct(p->cur, ',')) adv(p);
            else if (!punct(p->cur, '}')) ok = fail(p, p->cur.pos, "expected ',' or '}' in an array, found %s", show(p, p->cur, b, sizeof(b)));
        }
        if (ok) {
            adv(p);
            v->k = V_ARRAY;
            v->as.arr.v = items;
            v->as.arr.n = n;
        }
    } else if (kw(p, t, "true") || kw(p, t, "false")) {
        v->k = V_BOOL;
        v->as.b = kw(p, t, "true");
        adv(p);
    } else if (kw(p, t, "null")) {
        v->k = V_NULL;
        adv(p);
    } else if (kw(p, t, "instance") && kw(p, peek(p), "of")) {
        mof_inst *in = wh_arena_calloc(p->m->a, 1, sizeof(*in));
        ok = in && instance_body(p, in, true);
        if (ok) {
            v->k = V_INST;
            v->as.inst = in;
        }
    } else if (t.k == T_IDENT && p->tol) {
        // An enumeration-like bare word: not MOF, but keep it as text.
        repair(p, t.pos, t.end, "bare identifier read as a string value");
        v->k = V_IDENT;
        v->as.s.s = ident(p, t);
        v->as.s.len = v->as.s.s ? strlen(v->as.s.s) : 0;
        adv(p);
    } else {
        ok = fail(p, t.pos, "expected a value, found %s", show(p, t, b, sizeof(b)));
    }
    p->depth--;
    return ok;
}

/* ---- qualifiers ---- */

static bool qualifiers(P *p, mquals *q)
{
    char b[64];
    if (!punct(p->cur, '[')) return true;
    adv(p);
    size_t cap = 0;
    for (;;) {
        const char *name;
        if (!take_ident(p, "a qualifier name", &name)) return false;
        mval v = {.k = V_BOOL, .as.b = true, .pos = p->cur.pos};
        if (punct(p->cur, '(')) {
            adv(p);
            if (!value(p, &v) || !expect(p, ')', "after a qualifier value")) return false;
        } else if (punct(p->cur, '{')) {
            if (!value(p, &v)) return false;
        }
        if (punct(p->cur, ':')) { // flavors: ": ToSubclass DisableOverride"
            adv(p);
            while (p->cur.k == T_IDENT) adv(p);
        }
        if (q->n == cap) {
            if (cap >= WH_LIMIT_MOF_PROPS) return fail(p, p->cur.pos, "more than %u qualifiers", WH_LIMIT_MOF_PROPS);
            mqual *nq = wh_arena_grow(p->m->a, q->q, q->n, &cap, sizeof(*nq), 4);
            if (!nq) return fail(p, p->cur.pos, "out of memory");
            q->q = nq;
        }
        q->q[q->n].name = name;
        q->q[q->n].v = v;
        q->n++;
        if (punct(p->cur, ',')) {
            adv(p);
            continue;
        }
        if (punct(p->cur, ']')) {
            adv(p);
            return true;
        }
        return fail(p, p->cur.pos, "expected ',' or ']' in a qualifier list, found %s", show(p, p->cur, b, sizeof(b)));
    }
}

/* ---- recovery ---- */

static bool decl_start(P *p)
{
    tok t = p->cur;
    if (t.k == T_EOF) return true;
    if (punct(t, '#')) return kw(p, peek(p), "pragma");
    if (kw(p, t, "instance")) return kw(p, peek(p), "of");
    if (kw(p, t, "class") || kw(p, t, "qualifier")) return peek(p).k == T_IDENT;
    return false;
}

// Inside a body: skip to the ';' that ends the broken item, or stop before
// the '}' that ends the body. Returns false when a new declaration (or the
// end of the file) came first: the body is cut short.
static bool skip_item(P *p, size_t from)
{
    int nest = 0;
    bool moved = false;
    for (;;) {
        if ((moved || p->cur.pos > from) && decl_start(p)) break;
        tok t = p->cur;
        if (nest == 0 && punct(t, ';')) {
            adv(p);
            mof_note(p->m, true, from, t.end, p->err_msg[0] ? wh_arena_strdup(p->m->a, p->err_msg) : "damaged item");
            return true;
        }
        if (nest == 0 && punct(t, '}') && moved) {
            mof_note(p->m, true, from, t.pos, p->err_msg[0] ? wh_arena_strdup(p->m->a, p->err_msg) : "damaged item");
            return true;
        }
        if (punct(t, '{') || punct(t, '(') || punct(t, '[')) nest++;
        if ((punct(t, '}') || punct(t, ')') || punct(t, ']')) && nest > 0) nest--;
        adv(p);
        moved = true;
    }
    mof_note(p->m, true, from, p->cur.pos, p->err_msg[0] ? wh_arena_strdup(p->m->a, p->err_msg) : "damaged item");
    return false;
}

// Reports the pending error as a warning and clears it (tolerant mode).
// The error is said once, by the note of the region skipped after it
// (mof_note: "...; N byte(s) not read as MOF"), not here as well.
static void report(P *p)
{
    p->err = false;
    p->degraded = true;
}

/* ---- declarations ---- */

static bool add_obj(P *p, void *o)
{
    if (wh_diag_expired(p->m->diags, p->m->name, p->cur.pos)) {
        p->stop = true;
        return false;
    }
    if (p->m->objs.n >= WH_LIMIT_MOF_OBJECTS) {
        p->stop = true;
        return fail(p, p->cur.pos, "more than %u declarations in one file", WH_LIMIT_MOF_OBJECTS);
    }
    if (wh_ptrvec_push(p->m->a, &p->m->objs, o) != 0) return fail(p, p->cur.pos, "out of memory");
    return true;
}

// End of a declaration: '}' then ';' (a missing ';' is repaired).
static bool end_decl(P *p)
{
    if (!expect(p, '}', "to end the declaration")) return false;
    if (punct(p->cur, ';')) {
        adv(p);
        return true;
    }
    if (!p->tol) return fail(p, p->cur.pos, "expected ';' after '}'");
    repair(p, p->cur.pos, p->cur.pos, "missing ';' after '}'");
    return true;
}

static bool instance_body(P *p, mof_inst *in, bool embedded)
{
    in->kind = OBJ_INST;
    in->pos = p->cur.pos;
    in->ns = p->ns;
    in->ns_raw = p->ns_raw;
    in->embedded = embedded;
    adv(p); // instance
    adv(p); // of
    if (!take_ident(p, "a class name after 'instance of'", &in->cls)) return false;
    if (kw(p, p->cur, "as")) {
        adv(p);
        if (p->cur.k != T_ALIAS) return fail(p, p->cur.pos, "expected an alias ($name) after 'as'");
        in->alias = wh_arena_strndup(p->m->a, p->m->text.t + p->cur.pos + 1, p->cur.end - p->cur.pos - 1);
        adv(p);
    }
    if (!expect(p, '{', "to open the instance")) return false;
    size_t cap = 0;
    while (!punct(p->cur, '}')) {
        size_t start = p->cur.pos;
        if (p->tol && decl_start(p)) { // the '}' is missing: keep what was read
            mof_note(p->m, true, start, start, "instance not closed before the next declaration or the end of the file");
            in->degraded = true;
            return true;
        }
        mquals q = {0};
        const char *name = NULL;
        mval v;
        bool ok = qualifiers(p, &q) && take_ident(p, "a property name", &name) && expect(p, '=', "after the property name") &&
                  value(p, &v);
        if (ok && !punct(p->cur, ';')) {
            bool next_prop = p->cur.k == T_IDENT && punct(peek(p), '=');
            if (p->tol && (next_prop || punct(p->cur, '}') || p->cur.k == T_EOF)) repair(p, p->cur.pos, p->cur.pos, "missing ';' after a property value");
            else ok = expect(p, ';', "after the property value");
        } else if (ok) {
            adv(p);
        }
        if (ok) {
            if (in->nprops == cap) {
                if (cap >= WH_LIMIT_MOF_PROPS) {
                    p->stop = true;
                    return fail(p, p->cur.pos, "more than %u properties", WH_LIMIT_MOF_PROPS);
                }
                mprop *np = wh_arena_grow(p->m->a, in->props, in->nprops, &cap, sizeof(*np), 8);
                if (!np) return fail(p, p->cur.pos, "out of memory");
                in->props = np;
            }
            in->props[in->nprops].name = name;
            in->props[in->nprops].v = v;
            in->props[in->nprops].pos = start;
            in->nprops++;
            continue;
        }
        if (!p->tol || p->stop) return false;
        report(p);
        in->degraded = true;
        if (!skip_item(p, start)) {
            // Cut short by the next declaration or the end of file: keep
            // what was read of this instance.
            repair(p, p->cur.pos, p->cur.pos, "instance not closed; kept what was read");
            in->degraded = true;
            return true;
        }
        p->err_msg[0] = 0;
    }
    if (embedded) return expect(p, '}', "to end the embedded instance");
    return end_decl(p);
}

static const char *const CIM_TYPES[] = {"boolean", "char16", "datetime", "real32", "real64", "sint8", "sint16", "sint32",
                                        "sint64", "uint8", "uint16", "uint32", "uint64", "string", "object", NULL};

static bool cim_type(const char *s)
{
    for (int i = 0; CIM_TYPES[i]; i++)
        if (wh_strcasecmp(s, CIM_TYPES[i]) == 0) return true;
    return false;
}

// [quals] type [ref] name  — shared by properties and method parameters.
static bool typed_name(P *p, mfeat *f)
{
    if (!qualifiers(p, &f->quals) || !take_ident(p, "a type", &f->type)) return false;
    if (kw(p, p->cur, "ref")) {
        f->is_ref = true;
        adv(p);
    }
    // Microsoft's compiler also takes "void" (method results) and a class
    // name as the type of an embedded object (driver MOFs use both).
    if (!f->is_ref && !cim_type(f->type) && wh_strcasecmp(f->type, "void") != 0) {
        char *key = mof_lower(p->m->a, f->type);
        if (!(key && wh_strmap_get(&p->m->classes, key))) {
            char b[64];
            if (!p->tol || p->cur.k != T_IDENT)
                return fail(p, p->cur.pos, "'%s' is not a MOF type (and no 'ref' follows); found %s", f->type,
                            show(p, p->cur, b, sizeof(b)));
            repair(p, p->cur.pos, p->cur.end, "unknown type read as an embedded object type");
        }
    }
    if (!take_ident(p, "a property name", &f->name)) return false;
    f->array_size = 0;
    if (punct(p->cur, '[')) {
        adv(p);
        f->is_array = true;
        f->array_size = -1;
        if (p->cur.k == T_NUM) {
            mval n;
            if (!number(p, p->cur, &n)) return false;
            f->array_size = n.k == V_UINT && n.as.u < 0x7fffffff ? (long)n.as.u : -1;
            adv(p);
        }
        if (!expect(p, ']', "to close the array size")) return false;
    }
    if (punct(p->cur, '=')) {
        adv(p);
        f->has_default = true;
        if (!value(p, &f->def)) return false;
    }
    return true;
}

static bool feature(P *p, mfeat *f)
{
    if (!typed_name(p, f)) return false;
    if (punct(p->cur, '(') && !f->is_array && !f->has_default) {
        f->is_method = true;
        adv(p);
        while (!punct(p->cur, ')')) {
            mfeat param = {0};
            if (!typed_name(p, &param)) return false;
            if (punct(p->cur, ',')) adv(p);
            else if (!punct(p->cur, ')')) return expect(p, ')', "to close the parameter list");
        }
        adv(p);
    }
    return expect(p, ';', "after the property");
}

static bool class_decl(P *p, mquals q)
{
    mof_class *c = wh_arena_calloc(p->m->a, 1, sizeof(*c));
    if (!c) return fail(p, p->cur.pos, "out of memory");
    c->kind = OBJ_CLASS;
    c->pos = p->cur.pos;
    c->quals = q;
    c->ns = p->ns;
    c->ns_raw = p->ns_raw;
    adv(p);
    if (!take_ident(p, "a class name", &c->name)) return false;
    if (punct(p->cur, ':')) {
        adv(p);
        if (!take_ident(p, "a superclass name", &c->super)) return false;
    }
    if (kw(p, p->cur, "as") && peek(p).k == T_ALIAS) {
        adv(p);
        c->alias = wh_arena_strndup(p->m->a, p->m->text.t + p->cur.pos + 1, p->cur.end - p->cur.pos - 1);
        adv(p);
    }
    if (!expect(p, '{', "to open the class")) return false;
    size_t cap = 0;
    while (!punct(p->cur, '}')) {
        size_t start = p->cur.pos;
        if (p->tol && decl_start(p)) {
            mof_note(p->m, true, start, start, "class not closed before the next declaration or the end of the file");
            c->degraded = true;
            return add_obj(p, c);
        }
        mfeat f = {0};
        if (feature(p, &f)) {
            if (c->nfeats == cap) {
                if (cap >= WH_LIMIT_MOF_PROPS) {
                    p->stop = true;
                    return fail(p, p->cur.pos, "more than %u class features", WH_LIMIT_MOF_PROPS);
                }
                mfeat *nf = wh_arena_grow(p->m->a, c->feats, c->nfeats, &cap, sizeof(*nf), 8);
                if (!nf) return fail(p, p->cur.pos, "out of memory");
                c->feats = nf;
            }
            c->feats[c->nfeats++] = f;
            continue;
        }
        if (!p->tol || p->stop) return false;
        report(p);
        c->degraded = true;
        if (!skip_item(p, start)) {
            repair(p, p->cur.pos, p->cur.pos, "class not closed; kept what was read");
            return add_obj(p, c);
        }
        p->err_msg[0] = 0;
    }
    if (!end_decl(p)) return false;
    c->degraded |= p->degraded;
    char *key = mof_lower(p->m->a, c->name);
    if (key && !wh_strmap_get(&p->m->classes, key)) (void)wh_strmap_put(&p->m->classes, key, c);
    return add_obj(p, c);
}

/* ---- pragmas ---- */

const char *mof_ns_normalize(wh_arena *a, const char *s, const char *cur, bool *remote)
{
    size_t n = strlen(s), cn = cur ? strlen(cur) : 0;
    char *buf = wh_arena_alloc(a, n + cn + 2);
    if (!buf) return cur;
    size_t i = 0, o = 0;
    bool abs = false;
    // "\\server\" or "//server/": absolute, with a machine name.
    if (n >= 2 && (s[0] == '\\' || s[0] == '/') && (s[1] == '\\' || s[1] == '/')) {
        i = 2;
        size_t h = i;
        while (i < n && s[i] != '\\' && s[i] != '/') i++;
        if (remote && !(i - h == 1 && s[h] == '.') && i > h) *remote = true;
        abs = true;
    }
    while (i < n) {
        while (i < n && (s[i] == '\\' || s[i] == '/')) {
            if (o == 0) abs = true;
            i++;
        }
        if (i >= n) break;
        if (o) buf[o++] = '\\';
        while (i < n && s[i] != '\\' && s[i] != '/') buf[o++] = s[i++];
    }
    buf[o] = 0;
    if (o == 0) return cur;
    bool rooted = (o >= 4 && wh_strcasecmp(buf, "root") == 0) || (o > 4 && buf[4] == '\\' && (buf[0] | 32) == 'r' && (buf[1] | 32) == 'o' && (buf[2] | 32) == 'o' && (buf[3] | 32) == 't');
    if (!abs && !rooted && cur) { // relative to the namespace in effect
        memmove(buf + cn + 1, buf, o + 1);
        memcpy(buf, cur, cn);
        buf[cn] = '\\';
    }
    return buf;
}

static bool ns_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) return true;
    return false;
}

static void add_ns(P *p, const char *ns)
{
    for (size_t i = 0; i < p->m->nss.n; i++)
        if (wh_strcasecmp(p->m->nss.v[i], ns) == 0) return;
    (void)wh_ptrvec_push(p->m->a, &p->m->nss, (void *)ns);
}

static void lookup_include(P *p, minclude *inc)
{
    inc->found = -1;
    if (!p->m->dir) return;
    const char *s = inc->name;
    // Only below the including file's folder: no absolute paths, no "..".
    if (!*s || s[0] == '/' || s[0] == '\\' || strchr(s, ':') || strstr(s, "..")) {
        mof_diag(p->m, WH_SEV_INFO, WH_OK, WH_NO_OFFSET, "include '%s' not looked up: it points outside the file's folder", s);
        return;
    }
    char *rel = wh_arena_strdup(p->m->a, s);
    if (!rel) return;
    for (char *c = rel; *c; c++)
        if (*c == '\\') *c = '/';
    char *slash = strrchr(rel, '/');
    char *dir = slash ? wh_arena_printf(p->m->a, "%s/%.*s", p->m->dir, (int)(slash - rel), rel) : p->m->dir;
    char *hit = dir ? wh_find_icase(dir, slash ? slash + 1 : rel, false) : NULL;
    inc->found = hit != NULL;
    free(hit);
}

static bool pragma(P *p)
{
    size_t start = p->cur.pos;
    tok hash = p->cur;
    adv(p);
    if (p->cur.pos != hash.end) {
        if (!p->tol) return fail(p, hash.pos, "'#' must be followed directly by 'pragma'");
        repair(p, hash.pos, p->cur.end, "'# pragma' with a space read as '#pragma'");
    }
    adv(p); // pragma
    mpragma *pr = wh_arena_calloc(p->m->a, 1, sizeof(*pr));
    if (!pr) return fail(p, start, "out of memory");
    pr->pos = start;
    if (!take_ident(p, "a pragma name", &pr->name)) return false;
    char *ns_raw = NULL;
    bool ns_bad = false;
    if (punct(p->cur, '(')) {
        adv(p);
        size_t cap = 0;
        while (!punct(p->cur, ')')) {
            char b[64];
            char *arg = NULL;
            if (p->cur.k == T_EOF) return fail(p, p->cur.pos, "unexpected end of file in '#pragma %s(': no ')'", pr->name);
            if (p->cur.k == T_STRING) {
                mval v;
                bool first = pr->nargs == 0;
                if (!strings(p, &v, first ? &ns_raw : NULL, first ? &ns_bad : NULL)) return false;
                arg = v.as.s.s;
            } else if (p->cur.k == T_IDENT || p->cur.k == T_NUM) {
                arg = wh_arena_strndup(p->m->a, p->m->text.t + p->cur.pos, p->cur.end - p->cur.pos);
                adv(p);
            } else {
                return fail(p, p->cur.pos, "unexpected %s in '#pragma %s'", show(p, p->cur, b, sizeof(b)), pr->name);
            }
            if (pr->nargs == cap) {
                if (cap >= 64) return fail(p, p->cur.pos, "too many pragma arguments");
                char **na = wh_arena_grow(p->m->a, pr->args, pr->nargs, &cap, sizeof(*na), 2);
                if (!na) return fail(p, p->cur.pos, "out of memory");
                pr->args = na;
            }
            pr->args[pr->nargs++] = arg;
            if (punct(p->cur, ',')) adv(p);
            else if (!punct(p->cur, ')')) {
                if (p->cur.k == T_EOF) return fail(p, p->cur.pos, "unexpected end of file in '#pragma %s(': no ')'", pr->name);
                return fail(p, p->cur.pos, "expected ',' or ')' in '#pragma %s', found %s", pr->name, show(p, p->cur, b, sizeof(b)));
            }
        }
        adv(p);
    }
    (void)wh_ptrvec_push(p->m->a, &p->m->pragmas, pr);
    const char *a0 = pr->nargs ? pr->args[0] : NULL;
    if (wh_strcasecmp(pr->name, "namespace") == 0) {
        if (!a0) return fail(p, start, "'#pragma namespace' needs a namespace");
        const char *use = a0;
        // A namespace the escapes turned into control characters (corpus
        // explorezone-nullevt.mof: "\\.\root\subscription") was meant as written.
        if ((ns_bad || ns_has_ctl(a0)) && p->tol && ns_raw) {
            use = ns_raw;
            repair(p, start, p->cur.pos, "namespace with invalid escapes read as written");
        }
        const char *ns = mof_ns_normalize(p->m->a, use, p->ns, &p->m->remote_target);
        p->ns = ns;
        p->ns_raw = a0;
        add_ns(p, ns);
    } else if (wh_strcasecmp(pr->name, "autorecover") == 0) {
        p->m->info.autorecover = true;
    } else if (wh_strcasecmp(pr->name, "include") == 0) {
        minclude *inc = wh_arena_calloc(p->m->a, 1, sizeof(*inc));
        if (inc && a0) {
            inc->name = a0;
            lookup_include(p, inc);
            (void)wh_ptrvec_push(p->m->a, &p->m->includes, inc);
            if (inc->found == 0) mof_diag(p->m, WH_SEV_INFO, WH_E_NOTFOUND, start, "include '%s' not found beside the file", a0);
        }
    } else if (wh_strcasecmp(pr->name, "deleteinstance") == 0 || wh_strcasecmp(pr->name, "deleteclass") == 0) {
        if (a0) {
            size_t cl = strcspn(a0, ".=");
            char *cls = wh_arena_strndup(p->m->a, a0, cl);
            if (cls && (wh_mof_is_persistence_class(cls) || mof_class_is_consumer(p->m, cls, 0))) {
                p->m->deletes_persistence = true;
                mof_diag(p->m, WH_SEV_INFO, WH_OK, start, "'#pragma %s' deletes a subscription object (%s)", pr->name, a0);
            }
        }
    } else if (wh_strcasecmp(pr->name, "source") == 0 || wh_strcasecmp(pr->name, "nonlocal") == 0) {
        if (a0) (void)mof_ns_normalize(p->m->a, a0, p->ns, &p->m->remote_target);
    } else {
        static const char *const known[] = {"classflags", "instanceflags", "locale", "instancelocale", "amendment",
                                            "nonlocaltype", "sourcetype", NULL};
        bool k = false;
        for (int i = 0; known[i]; i++) k |= wh_strcasecmp(pr->name, known[i]) == 0;
        if (!k) mof_diag(p->m, WH_SEV_INFO, WH_OK, start, "unknown pragma '%s' recorded, no effect", pr->name);
    }
    return true;
}

// qualifier Name : type ... ; — declarations are counted and skipped.
static bool qualifier_decl(P *p)
{
    int nest = 0;
    adv(p);
    while (p->cur.k != T_EOF) {
        if (nest == 0 && punct(p->cur, ';')) {
            adv(p);
            p->m->qualifier_decls++;
            return true;
        }
        if (punct(p->cur, '(') || punct(p->cur, '{')) nest++;
        if ((punct(p->cur, ')') || punct(p->cur, '}')) && nest > 0) nest--;
        adv(p);
    }
    return fail(p, p->cur.pos, "unexpected end of file in a qualifier declaration");
}

static bool production(P *p)
{
    char b[64];
    p->degraded = false;
    if (punct(p->cur, '#')) {
        tok nx = peek(p);
        if (kw(p, nx, "pragma")) return pragma(p);
        return fail(p, p->cur.pos, "expected '#pragma', found %s", show(p, nx, b, sizeof(b)));
    }
    if (kw(p, p->cur, "qualifier")) return qualifier_decl(p);
    mquals q = {0};
    if (!qualifiers(p, &q)) return false;
    if (kw(p, p->cur, "class")) return class_decl(p, q);
    if (kw(p, p->cur, "instance") && kw(p, peek(p), "of")) {
        mof_inst *in = wh_arena_calloc(p->m->a, 1, sizeof(*in));
        if (!in) return fail(p, p->cur.pos, "out of memory");
        in->quals = q;
        if (!instance_body(p, in, false)) return false;
        in->degraded |= p->degraded;
        if (in->alias) {
            char *key = mof_lower(p->m->a, in->alias);
            if (key && wh_strmap_get(&p->m->aliases, key))
                mof_diag(p->m, WH_SEV_WARN, WH_E_CORRUPT, in->pos, "alias $%s defined twice; the first one is used", in->alias);
            else if (key)
                (void)wh_strmap_put(&p->m->aliases, key, in);
        }
        return add_obj(p, in);
    }
    return fail(p, p->cur.pos, "expected 'instance of', 'class', 'qualifier' or '#pragma', found %s", show(p, p->cur, b, sizeof(b)));
}

void mof_parse(wh_mof *m)
{
    P p = {.m = m, .tol = !m->strict, .ns = "root\\default"};
    wh_strmap_init(&m->aliases, m->a);
    wh_strmap_init(&m->classes, m->a);
    mof_lex_init(&p.L, m, p.tol);
    adv(&p);
    while (p.cur.k != T_EOF) {
        size_t start = p.cur.pos;
        p.err_msg[0] = 0;
        if (production(&p)) continue;
        if (!p.tol || p.stop) {
            m->has_error = true;
            m->err_pos = p.err_pos;
            m->err_msg = wh_arena_strdup(m->a, p.err_msg);
            mof_diag(m, WH_SEV_ERROR, p.stop ? WH_E_LIMIT : WH_E_CORRUPT, p.err_pos, "%s%s", p.err_msg,
                     p.stop ? "; the rest of the file is not read" : "");
            break;
        }
        report(&p);
        // Resynchronise at the next declaration, always moving forward.
        if (p.cur.pos <= start) adv(&p);
        while (!decl_start(&p)) adv(&p);
        mof_note(m, true, start, p.cur.pos, wh_arena_strdup(m->a, p.err_msg));
    }
    m->info.complete = !m->has_error && m->skipped_total == 0;
}
