/* Class definitions (CD_ objects), qualifiers, CIM values, and the class
 * layout: the properties of the whole derivation in index order, which an
 * instance needs to be decoded. docs/formats/cim.md §5.1, §5.3, §5.4. */
#include <stdio.h>
#include <string.h>

#include "cim/cim_int.h"
#include "core/text.h"

#define HEAP_SIZE_MASK 0x7FFFFFFFu
#define PREDEF_BIT 0x80000000u

size_t cim_slot_size(uint32_t cimtype)
{
    if (cimtype & WH_CIM_ARRAY_FLAG) return 4;
    switch (cimtype & WH_CIM_TYPE_MASK) {
    case WH_CIM_SINT8: case WH_CIM_UINT8: return 1;
    case WH_CIM_SINT16: case WH_CIM_UINT16: case WH_CIM_CHAR16: case WH_CIM_BOOLEAN: return 2;
    case WH_CIM_SINT64: case WH_CIM_UINT64: case WH_CIM_REAL64: return 8;
    default: return 4; // 32-bit ints, real32, and heap offsets (string, datetime, ref, object)
    }
}

const char *wh_cim_type_name(uint32_t cimtype, char *buf, size_t bufsize)
{
    const char *n;
    switch (cimtype & WH_CIM_TYPE_MASK) {
    case WH_CIM_SINT8: n = "sint8"; break;
    case WH_CIM_UINT8: n = "uint8"; break;
    case WH_CIM_SINT16: n = "sint16"; break;
    case WH_CIM_UINT16: n = "uint16"; break;
    case WH_CIM_SINT32: n = "sint32"; break;
    case WH_CIM_UINT32: n = "uint32"; break;
    case WH_CIM_SINT64: n = "sint64"; break;
    case WH_CIM_UINT64: n = "uint64"; break;
    case WH_CIM_REAL32: n = "real32"; break;
    case WH_CIM_REAL64: n = "real64"; break;
    case WH_CIM_STRING: n = "string"; break;
    case WH_CIM_BOOLEAN: n = "boolean"; break;
    case WH_CIM_OBJECT: n = "object"; break;
    case WH_CIM_DATETIME: n = "datetime"; break;
    case WH_CIM_REFERENCE: n = "reference"; break;
    case WH_CIM_CHAR16: n = "char16"; break;
    default: n = NULL;
    }
    if (n) snprintf(buf, bufsize, "%s%s", n, (cimtype & WH_CIM_ARRAY_FLAG) ? "[]" : "");
    else snprintf(buf, bufsize, "type_0x%X", cimtype);
    return buf;
}

/* Heap string: one flag byte (0 = 8-bit Latin-1, 1 = UTF-16LE), then
 * NUL-terminated text. NULL when the offset or text is out of the heap. */
const char *cim_heap_string(wh_cim *cim, const uint8_t *heap, size_t heapsize, uint32_t off, bool *lossy)
{
    if (off >= heapsize) return NULL;
    uint8_t flag = heap[off];
    const uint8_t *p = heap + off + 1;
    // At most WH_LIMIT_STRING bytes of text, then its terminator.
    size_t max = heapsize - off - 1, cap = (size_t)WH_LIMIT_STRING + (flag == 1 ? 2 : 1);
    bool capped = max > cap;
    if (capped) max = cap;
    if (flag == 1) {
        size_t n = 0;
        while (n + 1 < max && (p[n] | p[n + 1])) n += 2;
        if (n + 1 >= max) { // no terminator inside the heap, or past the bound
            cim->str_limit_hit |= capped;
            return NULL;
        }
        return wh_utf16le_to_utf8(cim->arena, p, n / 2, false, NULL, lossy);
    }
    const uint8_t *e = memchr(p, 0, max);
    if (!e) {
        cim->str_limit_hit |= capped;
        return NULL;
    }
    // Plain ASCII is the norm: copy without conversion.
    size_t n = (size_t)(e - p);
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80) return wh_latin1_to_utf8(cim->arena, p, n, NULL);
    return wh_arena_strndup(cim->arena, (const char *)p, n);
}

static wh_value str_value(const char *s, bool lossy)
{
    wh_value v = wh_v_str(s);
    if (s) v.as.str.lossy = lossy;
    return v;
}

static wh_value scalar(wh_cim *cim, uint32_t t, const uint8_t *s, const uint8_t *heap,
                       size_t heapsize, bool *bad)
{
    switch (t & WH_CIM_TYPE_MASK) {
    case WH_CIM_SINT8: return wh_v_int((int8_t)s[0]);
    case WH_CIM_UINT8: return wh_v_uint(s[0]);
    case WH_CIM_SINT16: return wh_v_int((int16_t)wh_get_u16le(s));
    case WH_CIM_UINT16: return wh_v_uint(wh_get_u16le(s));
    case WH_CIM_CHAR16: return wh_v_uint(wh_get_u16le(s));
    case WH_CIM_BOOLEAN: return wh_v_bool(wh_get_u16le(s) != 0);
    case WH_CIM_SINT32: return wh_v_int((int32_t)wh_get_u32le(s));
    case WH_CIM_UINT32: return wh_v_uint(wh_get_u32le(s));
    case WH_CIM_SINT64: return wh_v_int((int64_t)wh_get_u64le(s));
    case WH_CIM_UINT64: return wh_v_uint(wh_get_u64le(s));
    case WH_CIM_REAL32: {
        float f;
        uint32_t u = wh_get_u32le(s);
        memcpy(&f, &u, 4);
        return wh_v_real(f);
    }
    case WH_CIM_REAL64: {
        double d;
        uint64_t u = wh_get_u64le(s);
        memcpy(&d, &u, 8);
        return wh_v_real(d);
    }
    case WH_CIM_STRING: case WH_CIM_DATETIME: case WH_CIM_REFERENCE: {
        bool lossy = false;
        const char *str = cim_heap_string(cim, heap, heapsize, wh_get_u32le(s), &lossy);
        if (!str) *bad = true;
        return str_value(str, lossy);
    }
    case WH_CIM_OBJECT: {
        // Embedded object: an object record in the heap, led by its size.
        uint32_t off = wh_get_u32le(s), n;
        if (off >= heapsize || heapsize - off < 4) { *bad = true; return wh_v_null(); }
        n = wh_get_u32le(heap + off);
        if (n > heapsize - off) { *bad = true; return wh_v_null(); }
        wh_value v = {.type = WH_V_BYTES};
        v.as.bytes.p = heap + off;
        v.as.bytes.len = n;
        return v;
    }
    default:
        *bad = true;
        return wh_v_null();
    }
}

wh_value cim_value_decode(wh_cim *cim, uint32_t cimtype, const uint8_t *slot, size_t slotlen,
                          const uint8_t *heap, size_t heapsize, const char *src, uint64_t abs)
{
    bool bad = false;
    size_t ss = cim_slot_size(cimtype);
    if (slotlen < ss) return wh_v_null();
    if (!(cimtype & WH_CIM_ARRAY_FLAG)) {
        cim->str_limit_hit = false;
        wh_value v = scalar(cim, cimtype, slot, heap, heapsize, &bad);
        if (bad) cim->value_bad++;
        if (bad && cim->str_limit_hit)
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, src, abs, "string longer than %u bytes; not read",
                     WH_LIMIT_STRING);
        else if (bad)
            CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, abs,
                     "value of type 0x%X points outside its heap (offset 0x%X, heap %zu bytes)",
                     cimtype, wh_get_u32le(slot), heapsize);
        return v;
    }
    // Arrays: heap offset -> uint32 count, then elements (heap offsets for
    // strings, datetimes, references and objects).
    uint32_t off = wh_get_u32le(slot);
    if (off >= heapsize || heapsize - off < 4) {
        cim->value_bad++;
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, abs, "array offset 0x%X is outside the heap", off);
        return wh_v_null();
    }
    uint32_t count = wh_get_u32le(heap + off);
    uint32_t base = cimtype & ~WH_CIM_ARRAY_FLAG;
    size_t es = cim_slot_size(base);
    if (count > WH_LIMIT_CIM_ARRAY) {
        cim->value_bad++;
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, src, abs, "array of %u elements (limit %u); not read", count,
                 WH_LIMIT_CIM_ARRAY);
        return wh_v_null();
    }
    if ((size_t)count * es > heapsize - off - 4) {
        cim->value_bad++;
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, abs,
                 "array of %u elements does not fit in the heap", count);
        return wh_v_null();
    }
    wh_value *items = wh_arena_calloc(cim->arena, count ? count : 1, sizeof(wh_value));
    if (!items) return wh_v_null();
    for (uint32_t i = 0; i < count; i++) {
        items[i] = scalar(cim, base, heap + off + 4 + (size_t)i * es, heap, heapsize, &bad);
    }
    if (bad) {
        cim->value_bad++;
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, abs, "array element points outside its heap");
    }
    wh_value v = {.type = WH_V_ARRAY};
    v.as.arr.items = items;
    v.as.arr.n = count;
    return v;
}

static const char *predefined_name(uint32_t n)
{
    // Built-in qualifier names [DT]; 10 checked on real data (CIMTYPE).
    switch (n) {
    case 1: return "key";
    case 3: return "read";
    case 4: return "write";
    case 5: return "volatile";
    case 6: return "provider";
    case 7: return "dynamic";
    case 10: return "CIMTYPE";
    default: return NULL;
    }
}

static const char *name_at(wh_cim *cim, uint32_t off, const uint8_t *heap, size_t heapsize)
{
    if (off & PREDEF_BIT) {
        const char *n = predefined_name(off & ~PREDEF_BIT);
        return n ? n : wh_arena_printf(cim->arena, "predefined_%u", off & ~PREDEF_BIT);
    }
    return cim_heap_string(cim, heap, heapsize, off, NULL);
}

/* Qualifier list at r: uint32 size (including itself), then entries
 * {name u32, flavor u8, type u32, inline value or heap offset}. */
bool cim_quals_decode(wh_cim *cim, wh_reader *r, const uint8_t *heap, size_t heapsize,
                      const wh_cim_qualifier **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    uint64_t at = wh_rd_abs(r);
    uint32_t size = wh_rd_u32(r);
    if (!wh_rd_ok(r) || size < 4 || size - 4 > wh_rd_left(r)) {
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, r->source, at, "qualifier list size %u is bad", size);
        if (wh_rd_ok(r)) r->status = WH_E_CORRUPT;
        return false;
    }
    wh_reader q;
    if (!wh_rd_sub(r, r->pos, size - 4, &q)) return false;
    wh_rd_skip(r, size - 4);
    wh_cim_qualifier tmp[64];
    wh_cim_qualifier *list = tmp;
    size_t cap = 64, cnt = 0;
    while (wh_rd_left(&q) >= 9) {
        uint32_t name = wh_rd_u32(&q);
        uint8_t flavor = wh_rd_u8(&q);
        uint32_t type = wh_rd_u32(&q);
        size_t ss = cim_slot_size(type);
        uint64_t vat = wh_rd_abs(&q);
        const uint8_t *slot = wh_rd_bytes(&q, ss);
        if (!slot) break;
        if (cnt == cap) {
            if (cap >= WH_LIMIT_CIM_QUALS) {
                CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, r->source, at, "more than %u qualifiers in one list; the rest are not read",
                         WH_LIMIT_CIM_QUALS);
                break;
            }
            wh_cim_qualifier *nl = wh_arena_grow(cim->arena, list, cnt, &cap, sizeof(*nl), 64);
            if (!nl) break;
            list = nl;
        }
        wh_cim_qualifier *x = &list[cnt++];
        x->name = name_at(cim, name, heap, heapsize);
        if (!x->name) x->name = "?";
        x->flavor = flavor;
        x->cimtype = type;
        x->value = cim_value_decode(cim, type, slot, ss, heap, heapsize, r->source, vat);
    }
    if (cnt) {
        wh_cim_qualifier *res = wh_arena_alloc(cim->arena, cnt * sizeof(*res));
        if (!res) return false;
        memcpy(res, list, cnt * sizeof(*res));
        *out = res;
        *n = cnt;
    }
    return true;
}

static bool qual_true(const wh_cim_qualifier *q, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (wh_strcasecmp(q[i].name, name) == 0)
            return q[i].value.type != WH_V_BOOL || q[i].value.as.b;
    return false;
}

/* Decodes a class definition record. docs/formats/cim.md §5.1. */
cim_classrec *cim_class_decode(wh_cim *cim, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                               const char *ns_hash, const char *ns_name)
{
    const char *src = cim->objects.path;
    wh_reader r;
    wh_rd_init(&r, p, n, loc ? loc->offset : 0, src);
    cim_classrec *c = wh_arena_calloc(cim->arena, 1, sizeof(*c));
    if (!c) return NULL;
    c->pub.ns = ns_name;
    c->ns_hash = ns_hash;
    c->source = src;
    if (loc) c->pub.loc = *loc;
    uint32_t slen = wh_rd_u32(&r);
    if (slen > 1024 || slen * 2u > wh_rd_left(&r)) goto bad;
    if (slen) {
        const uint8_t *s = wh_rd_bytes(&r, (size_t)slen * 2);
        c->pub.super = wh_utf16le_to_utf8(cim->arena, s, slen, true, NULL, NULL);
    }
    c->pub.defined = wh_rd_u64(&r);
    uint64_t block_at = wh_rd_abs(&r);
    size_t block_pos = r.pos;
    uint32_t bsize = wh_rd_u32(&r);
    if (!wh_rd_ok(&r) || bsize < 4 || bsize - 4 > wh_rd_left(&r)) goto bad;
    wh_reader b;
    if (!wh_rd_sub(&r, r.pos, bsize - 4, &b)) goto bad;
    (void)wh_rd_u8(&b); // unknown
    uint32_t name_off = wh_rd_u32(&b);
    uint32_t dsize = wh_rd_u32(&b);
    uint32_t supsize = wh_rd_u32(&b);
    if (!wh_rd_ok(&b) || supsize < 4 || !wh_rd_skip(&b, supsize - 4)) goto bad;
    // Qualifiers and properties point into the heap, which comes last:
    // find it first.
    size_t qual_pos = b.pos;
    uint32_t qsize = 0;
    if (!wh_rd_u32_at(&b, qual_pos, &qsize) || qsize < 4 || qsize > b.size - qual_pos) goto bad;
    wh_reader t = b;
    wh_rd_seek(&t, qual_pos + qsize);
    uint32_t nprops = wh_rd_u32(&t);
    if (!wh_rd_ok(&t) || nprops > WH_LIMIT_CIM_PROPS || (size_t)nprops * 8 > wh_rd_left(&t)) goto bad;
    size_t props_pos = t.pos;
    wh_rd_skip(&t, (size_t)nprops * 8);
    c->defaults = wh_rd_bytes(&t, dsize);
    c->ndefaults = dsize;
    uint32_t hsize = wh_rd_u32(&t) & HEAP_SIZE_MASK;
    if (!wh_rd_ok(&t) || hsize > wh_rd_left(&t)) goto bad;
    c->heap = wh_rd_bytes(&t, hsize);
    c->heapsize = hsize;
    c->pub.name = cim_heap_string(cim, c->heap, c->heapsize, name_off, NULL);
    if (!c->pub.name) goto bad;
    wh_rd_seek(&b, qual_pos);
    if (!cim_quals_decode(cim, &b, c->heap, c->heapsize, &c->pub.quals, &c->pub.nquals)) goto bad;
    // Own properties.
    wh_cim_property *own = wh_arena_calloc(cim->arena, nprops ? nprops : 1, sizeof(*own));
    if (!own) return NULL;
    size_t nown = 0;
    for (uint32_t i = 0; i < nprops; i++) {
        uint32_t noff = wh_get_u32le(b.base + props_pos + 8 * (size_t)i);
        uint32_t doff = wh_get_u32le(b.base + props_pos + 8 * (size_t)i + 4);
        wh_cim_property *pr = &own[nown];
        pr->name = name_at(cim, noff, c->heap, c->heapsize);
        wh_reader d;
        if (!pr->name || doff >= c->heapsize) goto badprop;
        wh_rd_init(&d, c->heap + doff, c->heapsize - doff, b.file_off + (size_t)(c->heap - b.base) + doff, src);
        pr->cimtype = wh_rd_u32(&d);
        pr->index = wh_rd_u16(&d);
        pr->slot = wh_rd_u32(&d);
        pr->level = wh_rd_u32(&d);
        if (!wh_rd_ok(&d) || !cim_quals_decode(cim, &d, c->heap, c->heapsize, &pr->quals, &pr->nquals))
            goto badprop;
        pr->origin = c->pub.name;
        pr->is_key = qual_true(pr->quals, pr->nquals, "key");
        nown++;
        continue;
    badprop:
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, src, block_at,
                 "class %s: property %u has a bad definition; skipped", c->pub.name, i);
    }
    c->pub.props = own; // own properties until the layout is built
    c->pub.nprops = nown;
    c->pub.nown = nown;
    // Methods part: u32 size (the rest of the record), u16 count, u16
    // padding, count x 24-byte entries {name ref, flags, origin, qualifier
    // set ref, in/out signature refs}, then its own heap.
    wh_rd_seek(&r, block_pos + bsize);
    if (wh_rd_left(&r) >= 4) {
        uint64_t mat = wh_rd_abs(&r);
        uint32_t msize = wh_rd_u32(&r);
        wh_reader m;
        if (msize < 8 || !wh_rd_sub(&r, r.pos, msize - 4, &m)) {
            CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, mat, "class %s: methods part size %u is bad",
                     c->pub.name, msize);
        } else {
            uint16_t cnt = wh_rd_u16(&m);
            (void)wh_rd_u16(&m);
            size_t ents = m.pos;
            if ((size_t)cnt * 24 <= wh_rd_left(&m) && wh_rd_skip(&m, (size_t)cnt * 24)) {
                uint32_t mh = wh_rd_u32(&m) & HEAP_SIZE_MASK;
                const uint8_t *mheap = mh <= wh_rd_left(&m) ? wh_rd_bytes(&m, mh) : NULL;
                wh_cim_method *ms = wh_arena_calloc(cim->arena, cnt ? cnt : 1, sizeof(*ms));
                size_t nm = 0;
                for (uint16_t i = 0; mheap && ms && i < cnt; i++) {
                    const uint8_t *e = m.base + ents + 24 * (size_t)i;
                    ms[nm].name = name_at(cim, wh_get_u32le(e), mheap, mh);
                    if (!ms[nm].name) continue;
                    uint32_t qoff = wh_get_u32le(e + 12);
                    wh_reader q;
                    if (qoff < mh) {
                        wh_rd_init(&q, mheap + qoff, mh - qoff, m.file_off, src);
                        (void)cim_quals_decode(cim, &q, mheap, mh, &ms[nm].quals, &ms[nm].nquals);
                    }
                    nm++;
                }
                c->pub.methods = ms;
                c->pub.nmethods = ms ? nm : 0;
            }
        }
    }
    c->layout_state = 0;
    return c;
bad:
    CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, src, r.status != WH_OK ? wh_rd_fail_abs(&r) : (loc ? loc->offset : 0),
             "class definition record is malformed (%zu bytes); skipped", n);
    return NULL;
}

static int prop_state(const cim_classrec *c, uint32_t idx)
{
    if (!c->defaults || idx / 4 >= c->ndefaults) return 1; // no default
    return (c->defaults[idx / 4] >> ((idx % 4) * 2)) & 3;
}

static bool class_layout(wh_cim *cim, cim_classrec *c);

/* Builds the layout: parents first, then own properties override by index.
 * Parents are built by recursion, so the chain's length is bounded here: a
 * crafted repository of a million classes each deriving from the next
 * would otherwise exhaust the stack. */
bool cim_class_layout(wh_cim *cim, cim_classrec *c)
{
    if (c->layout_state == 0 && cim->layout_depth > WH_LIMIT_CIM_DERIVATION) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, c->source, c->pub.loc.offset,
                 "class %s is more than %u levels of derivation deep; its subclasses' layouts are incomplete",
                 c->pub.name, WH_LIMIT_CIM_DERIVATION);
        return false;
    }
    cim->layout_depth++;
    bool ok = class_layout(cim, c);
    cim->layout_depth--;
    return ok;
}

static bool class_layout(wh_cim *cim, cim_classrec *c)
{
    if (c->layout_state == 2) return c->pub.layout_complete;
    if (c->layout_state == 1) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, c->source, c->pub.loc.offset,
                 "class %s derives from itself (a loop in the derivation)", c->pub.name);
        return false;
    }
    c->layout_state = 1;
    bool complete = true;
    cim_classrec *parent = NULL;
    if (c->pub.super) {
        char h[65];
        cim_hash(c->pub.super, strlen(c->pub.super), cim->xp, h);
        parent = cim_class_by_hash(cim, c->ns_hash, h);
        if (!parent || !cim_class_layout(cim, parent)) {
            if (!parent)
                CIM_DIAG(cim, WH_SEV_WARN, WH_E_NOTFOUND, c->source, c->pub.loc.offset,
                         "class %s: super class %s not found; layout incomplete", c->pub.name,
                         c->pub.super);
            complete = false;
        }
    }
    c->parent = parent;
    // Derivation chain.
    size_t nd = 0;
    const char *chain[WH_LIMIT_CIM_DERIVATION];
    if (c->pub.super) chain[nd++] = c->pub.super;
    if (parent && parent->pub.nderiv + 1 > WH_LIMIT_CIM_DERIVATION) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, c->source, c->pub.loc.offset,
                 "class %s has more than %u ancestors; its derivation is cut there", c->pub.name,
                 WH_LIMIT_CIM_DERIVATION);
        complete = false;
    }
    for (cim_classrec *a = parent; a && a->pub.nderiv && nd < WH_LIMIT_CIM_DERIVATION; a = NULL)
        for (size_t i = 0; i < a->pub.nderiv && nd < WH_LIMIT_CIM_DERIVATION; i++)
            chain[nd++] = a->pub.derivation[i];
    const char **dv = wh_arena_alloc(cim->arena, (nd ? nd : 1) * sizeof(char *));
    if (!dv) return false;
    memcpy(dv, chain, nd * sizeof(char *));
    c->pub.derivation = dv;
    c->pub.nderiv = nd;
    // Property count of the whole derivation: highest index + 1.
    uint32_t total = parent ? parent->nprops_total : 0;
    const wh_cim_property *own = c->pub.props;
    for (size_t i = 0; i < c->pub.nown; i++)
        if ((uint32_t)own[i].index + 1 > total) total = own[i].index + 1u;
    if (total > WH_LIMIT_CIM_PROPS) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, c->source, c->pub.loc.offset,
                 "class %s has %u properties with its ancestors' (limit %u); the rest are not read", c->pub.name,
                 total, WH_LIMIT_CIM_PROPS);
        total = WH_LIMIT_CIM_PROPS;
    }
    wh_cim_property *lay = wh_arena_calloc(cim->arena, total ? total : 1, sizeof(*lay));
    bool *have = wh_arena_calloc(cim->arena, total ? total : 1, sizeof(bool));
    if (!lay || !have) return false;
    if (parent)
        for (size_t i = 0; i < parent->pub.nprops; i++) {
            const wh_cim_property *pp = &parent->pub.props[i];
            if (pp->index < total) {
                lay[pp->index] = *pp;
                lay[pp->index].own = false;
                have[pp->index] = true;
            }
        }
    for (size_t i = 0; i < c->pub.nown; i++) {
        if (own[i].index >= total) continue;
        wh_cim_property np = own[i];
        np.own = true;
        if (have[np.index]) np.origin = lay[np.index].origin; // an override keeps its origin
        if (have[np.index] && !np.is_key) np.is_key = lay[np.index].is_key;
        lay[np.index] = np;
        have[np.index] = true;
    }
    // Table size and defaults.
    uint32_t tsize = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < total; i++) {
        if (!have[i]) continue;
        uint64_t end = (uint64_t)lay[i].slot + cim_slot_size(lay[i].cimtype);
        if (end > tsize && end < WH_LIMIT_CIM_OBJECT) tsize = (uint32_t)end;
    }
    uint32_t sbytes = (total * 2 + 7) / 8;
    for (uint32_t i = 0; i < total; i++) {
        if (!have[i]) {
            complete = false;
            continue;
        }
        wh_cim_property *pr = &lay[i];
        int st = prop_state(c, i);
        pr->has_default = false;
        pr->default_inherited = (st & 2) != 0;
        pr->default_value = wh_v_null();
        // The default lives in the class that set it: walk up while inherited.
        const cim_classrec *owner = c;
        while ((prop_state(owner, i) & 2) && owner->parent) owner = owner->parent;
        int ost = prop_state(owner, i);
        uint32_t osb = (owner->nprops_total ? owner->nprops_total : total) * 2;
        osb = (osb + 7) / 8;
        if (owner == c) osb = sbytes;
        if (!(ost & 1) && owner->defaults) {
            size_t ss = cim_slot_size(pr->cimtype);
            if ((uint64_t)osb + pr->slot + ss <= owner->ndefaults) {
                pr->default_value = cim_value_decode(cim, pr->cimtype, owner->defaults + osb + pr->slot, ss,
                                                     owner->heap, owner->heapsize, c->source, c->pub.loc.offset);
                pr->has_default = true;
            }
        }
        lay[n++] = *pr;
    }
    if (c->ndefaults && (uint64_t)sbytes + tsize != c->ndefaults)
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, c->source, c->pub.loc.offset,
                 "class %s: default area is %u bytes, layout expects %u", c->pub.name, c->ndefaults,
                 sbytes + tsize);
    c->nprops_total = total;
    c->table_size = tsize;
    c->pub.props = lay;
    c->pub.nprops = n;
    c->by_index = wh_arena_calloc(cim->arena, total ? total : 1, sizeof(void *));
    if (!c->by_index) return false;
    for (size_t i = 0; i < n; i++) c->by_index[lay[i].index] = &lay[i];
    c->pub.layout_complete = complete;
    c->layout_state = 2;
    return complete;
}

bool wh_cim_class_is(const wh_cim_class *cls, const char *name)
{
    if (!cls) return false;
    if (cls->name && wh_strcasecmp(cls->name, name) == 0) return true;
    for (size_t i = 0; i < cls->nderiv; i++)
        if (wh_strcasecmp(cls->derivation[i], name) == 0) return true;
    return false;
}
