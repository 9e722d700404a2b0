/* Instance records (IL_/I_ objects). Decoding needs the class layout: the
 * record holds 2 state bits per property of the whole derivation and a
 * value table laid out by the class. docs/formats/cim.md §5.2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"
#include "core/text.h"
#include "core/sort.h"

#define HEAP_SIZE_MASK 0x7FFFFFFFu

static bool is_hex_utf16(const uint8_t *p, size_t nchars)
{
    for (size_t i = 0; i < nchars; i++) {
        uint8_t c = p[2 * i];
        if (p[2 * i + 1] != 0 || !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static int cmp_keyprop(const void *a, const void *b)
{
    const wh_cim_propval *x = *(const wh_cim_propval *const *)a, *y = *(const wh_cim_propval *const *)b;
    return wh_strcasecmp(x->prop->name, y->prop->name);
}

/* WMI object-path style key: Name="x" or A="x",B=5 (sorted by name). */
static const char *make_key(wh_cim *cim, wh_cim_instance *in)
{
    const wh_cim_propval *keys[64];
    size_t nk = 0;
    for (size_t i = 0; i < in->nvals && nk < 64; i++)
        if (in->vals[i].prop->is_key) keys[nk++] = &in->vals[i];
    if (!nk) return "";
    wh_sort(keys, nk, sizeof(keys[0]), cmp_keyprop);
    size_t cap = 256, len = 0;
    for (size_t i = 0; i < nk; i++)
        if (keys[i]->value.type == WH_V_STR) cap += 2 * keys[i]->value.as.str.len + 8 + strlen(keys[i]->prop->name);
        else cap += 48 + strlen(keys[i]->prop->name);
    char *out = wh_arena_alloc(cim->arena, cap);
    if (!out) return "";
    for (size_t i = 0; i < nk; i++) {
        const wh_value *v = &keys[i]->value;
        len += (size_t)snprintf(out + len, cap - len, "%s%s=", i ? "," : "", keys[i]->prop->name);
        switch (v->type) {
        case WH_V_STR:
            out[len++] = '"';
            for (size_t k = 0; k < v->as.str.len; k++) {
                char ch = v->as.str.s[k];
                if (ch == '"' || ch == '\\') out[len++] = '\\';
                out[len++] = ch;
            }
            out[len++] = '"';
            out[len] = 0;
            break;
        case WH_V_INT: len += (size_t)snprintf(out + len, cap - len, "%lld", (long long)v->as.i); break;
        case WH_V_UINT: len += (size_t)snprintf(out + len, cap - len, "%llu", (unsigned long long)v->as.u); break;
        case WH_V_BOOL: len += (size_t)snprintf(out + len, cap - len, "%s", v->as.b ? "TRUE" : "FALSE"); break;
        default: len += (size_t)snprintf(out + len, cap - len, "NULL"); break;
        }
    }
    return out;
}

/* Header of an instance record: class-name hash (upper-cased), the two
 * FILETIMEs and the size of the rest. false when it is not one. */
bool cim_instance_header(const wh_cim *cim, const uint8_t *p, size_t n, char hash[65], uint32_t *rest)
{
    size_t hchars = cim->xp ? 32 : 64;
    if (n < hchars * 2 + 20 || !is_hex_utf16(p, hchars)) return false;
    for (size_t i = 0; i < hchars; i++) {
        char ch = (char)p[2 * i];
        hash[i] = (ch >= 'a' && ch <= 'f') ? (char)(ch - 32) : ch;
    }
    hash[hchars] = 0;
    *rest = wh_get_u32le(p + hchars * 2 + 16);
    return true;
}

wh_cim_instance *cim_instance_decode(wh_cim *cim, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                                     const char *ns_hash, const char *ns_name, bool carving)
{
    const char *src = cim->objects.path;
    char hash[65];
    uint32_t rest;
    if (!cim_instance_header(cim, p, n, hash, &rest)) {
        if (!carving)
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, src, loc ? loc->offset : 0,
                     "instance record does not start with a class-name hash; skipped");
        return NULL;
    }
    cim_classrec *c = cim_class_by_hash(cim, ns_hash, hash);
    if (c) return cim_instance_decode_as(cim, p, n, loc, c, ns_name, carving, NULL);
    if (carving) return NULL;
    const char *nm = cim_name_of(cim, hash);
    CIM_DIAG(cim, WH_SEV_WARN, WH_E_NOTFOUND, src, (loc ? loc->offset : 0) + (cim->xp ? 64 : 128),
             "instance of class %s: class definition not found; values not decoded", nm ? nm : hash);
    wh_cim_instance *in = wh_arena_calloc(cim->arena, 1, sizeof(*in));
    if (!in) return NULL;
    size_t hl = cim->xp ? 64 : 128;
    in->ns = ns_name;
    if (loc) in->loc = *loc;
    in->ts_written = wh_get_u64le(p + hl);
    in->ts_class = wh_get_u64le(p + hl + 8);
    in->class_name = nm ? nm : wh_arena_strdup(cim->arena, hash);
    return in;
}

wh_cim_instance *cim_instance_decode_as(wh_cim *cim, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                                        cim_classrec *c, const char *ns_name, bool carving, bool *valid)
{
    const char *src = cim->objects.path;
    bool ok = true;
    wh_reader r;
    wh_rd_init(&r, p, n, loc ? loc->offset : 0, src);
    size_t hchars = cim->xp ? 32 : 64;
    if (!wh_rd_bytes(&r, hchars * 2)) return NULL;
    wh_cim_instance *in = wh_arena_calloc(cim->arena, 1, sizeof(*in));
    if (!in) return NULL;
    in->ns = ns_name;
    if (loc) in->loc = *loc;
    in->ts_written = wh_rd_u64(&r);
    in->ts_class = wh_rd_u64(&r);
    uint64_t size_at = wh_rd_abs(&r);
    uint32_t size = wh_rd_u32(&r);
    if (!wh_rd_ok(&r) || size < 4 || size - 4 > wh_rd_left(&r)) {
        if (!carving)
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, src, size_at,
                     "instance record size %u does not fit the object; skipped", size);
        return NULL;
    }
    wh_reader b;
    if (!wh_rd_sub(&r, r.pos, size - 4, &b)) return NULL;
    uint32_t name_off = wh_rd_u32(&b);
    (void)wh_rd_u8(&b);
    unsigned long bad_before = cim->value_bad;
    cim_class_layout(cim, c);
    in->cls = &c->pub;
    in->class_name = c->pub.name;
    uint32_t total = c->nprops_total;
    size_t sbytes = (total * 2 + 7) / 8;
    const uint8_t *state = wh_rd_bytes(&b, sbytes);
    size_t table_pos = b.pos;
    const uint8_t *table = wh_rd_bytes(&b, c->table_size);
    if (!state || !table) goto bad;
    // The padding bits after the last property's pair are zero.
    for (size_t i = total; i < sbytes * 4; i++)
        if ((state[i / 4] >> ((i % 4) * 2)) & 3) ok = false;
    // Qualifier values point into the heap, which comes last: skip the
    // list now and decode it once the heap is known.
    size_t quals_pos = b.pos;
    uint32_t qsize = wh_rd_u32(&b);
    if (!wh_rd_ok(&b) || qsize < 4 || !wh_rd_skip(&b, qsize - 4)) goto bad;
    // 1: the heap follows. 2: one qualifier set per property of the whole
    // derivation, in index order, then the heap (property qualifiers of
    // this instance, e.g. PropertyContext on provider-backed instances).
    uint8_t flag = wh_rd_u8(&b);
    size_t pq_pos = b.pos;
    if (flag == 2) {
        for (uint32_t i = 0; i < total && wh_rd_ok(&b); i++) {
            uint32_t qs = wh_rd_u32(&b);
            if (qs < 4 || !wh_rd_skip(&b, qs - 4)) goto bad;
        }
    } else if (flag != 1) {
        ok = false;
        if (!carving)
            CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, wh_rd_abs(&b) - 1,
                     "instance of %s: property-qualifier flag is %u, expected 1 or 2", c->pub.name, flag);
    }
    uint32_t hsize = wh_rd_u32(&b) & HEAP_SIZE_MASK;
    if (!wh_rd_ok(&b) || hsize > wh_rd_left(&b)) goto bad;
    const uint8_t *heap = wh_rd_bytes(&b, hsize);
    // The heap ends the record: a layout that leaves bytes over is not this one.
    if (wh_rd_left(&b) != 0) ok = false;
    wh_reader q;
    if (wh_rd_sub(&b, quals_pos, b.size - quals_pos, &q))
        (void)cim_quals_decode(cim, &q, heap, hsize, &in->quals, &in->nquals);
    const char *hname = cim_heap_string(cim, heap, hsize, name_off, NULL);
    if (!hname || wh_strcasecmp(hname, c->pub.name) != 0) ok = false;
    if (hname && wh_strcasecmp(hname, c->pub.name) != 0 && !carving)
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, r.file_off,
                 "instance names class %s but its hash resolves to %s", hname, c->pub.name);
    wh_cim_propval *vals = wh_arena_calloc(cim->arena, c->pub.nprops ? c->pub.nprops : 1, sizeof(*vals));
    if (!vals) return NULL;
    uint64_t tabs = b.file_off + table_pos;
    for (size_t i = 0; i < c->pub.nprops; i++) {
        const wh_cim_property *pr = &c->pub.props[i];
        wh_cim_propval *v = &vals[i];
        v->prop = pr;
        int st = (state[pr->index / 4] >> ((pr->index % 4) * 2)) & 3;
        size_t ss = cim_slot_size(pr->cimtype);
        if (st & 2) {
            // Value comes from the class default (or NULL if it has none).
            v->state = pr->has_default ? WH_CIM_VAL_DEFAULT : WH_CIM_VAL_NULL;
            v->value = pr->has_default ? pr->default_value : wh_v_null();
        } else if (st & 1) {
            v->state = WH_CIM_VAL_NULL;
            v->value = wh_v_null();
        } else if ((uint64_t)pr->slot + ss <= c->table_size) {
            v->state = WH_CIM_VAL_SET;
            v->value = cim_value_decode(cim, pr->cimtype, table + pr->slot, ss, heap, hsize, src, tabs + pr->slot);
        } else {
            v->state = WH_CIM_VAL_NULL;
            v->value = wh_v_null();
        }
    }
    if (flag == 2) {
        // Qualifier sets are in index order; attach each to its property.
        wh_reader pq;
        if (wh_rd_sub(&b, pq_pos, b.size - pq_pos, &pq)) {
            for (uint32_t i = 0; i < total && wh_rd_ok(&pq); i++) {
                const wh_cim_qualifier *ql = NULL;
                size_t nq = 0;
                if (!cim_quals_decode(cim, &pq, heap, hsize, &ql, &nq)) break;
                for (size_t k = 0; k < c->pub.nprops; k++)
                    if (c->pub.props[k].index == i) {
                        vals[k].quals = ql;
                        vals[k].nquals = nq;
                    }
            }
        }
    }
    // A value pointing outside its heap: the bytes are not laid out so.
    if (cim->value_bad != bad_before) ok = false;
    in->vals = vals;
    in->nvals = c->pub.nprops;
    in->key = make_key(cim, in);
    if (valid) *valid = ok;
    return in;
bad:
    if (!carving)
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, src, b.status != WH_OK ? wh_rd_fail_abs(&b) : r.file_off,
                 "instance of %s is malformed; skipped", c->pub.name);
    return NULL;
}

const wh_cim_propval *wh_cim_instance_get(const wh_cim_instance *inst, const char *prop)
{
    for (size_t i = 0; i < inst->nvals; i++)
        if (wh_strcasecmp(inst->vals[i].prop->name, prop) == 0) return &inst->vals[i];
    return NULL;
}
