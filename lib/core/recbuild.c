#include "core/recbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wh_recb_start(wh_recb *b, wh_arena *a, const char *artifact, const char *source, uint64_t offset)
{
    memset(b, 0, sizeof(*b));
    b->a = a;
    b->rec.artifact = artifact;
    b->rec.source = source;
    b->rec.offset = offset;
}

void wh_recb_add(wh_recb *b, const char *name, wh_value v)
{
    wh_field *nf = wh_arena_grow(b->a, b->f, b->n, &b->cap, sizeof(*nf), 16);
    if (!nf) {
        b->oom = true;
        return;
    }
    b->f = nf;
    b->f[b->n].name = name;
    b->f[b->n].v = v;
    b->n++;
}

void wh_recb_str(wh_recb *b, const char *name, const char *s) { wh_recb_add(b, name, wh_v_str(s)); }

void wh_recb_strf(wh_recb *b, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    char *s;
    if ((size_t)n < sizeof(tmp)) {
        s = wh_arena_strndup(b->a, tmp, (size_t)n);
    } else {
        s = wh_arena_alloc(b->a, (size_t)n + 1);
        if (s) {
            va_start(ap, fmt);
            vsnprintf(s, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    wh_recb_str(b, name, s);
}

void wh_recb_ts(wh_recb *b, uint64_t ft, const char *desc)
{
    if (!ft || b->rec.nts >= WH_RECORD_MAX_TS) return;
    b->rec.ts[b->rec.nts].ft = ft;
    b->rec.ts[b->rec.nts].desc = desc;
    b->rec.nts++;
}

const wh_record *wh_recb_done(wh_recb *b)
{
    if (b->oom) return NULL;
    b->rec.fields = b->f;
    b->rec.nfields = b->n;
    // Copied out so that a record can outlive the builder's stack frame.
    wh_record *r = wh_arena_alloc(b->a, sizeof(*r));
    if (!r) return NULL;
    *r = b->rec;
    return r;
}

wh_value wh_v_object(wh_arena *a, const wh_field *f, size_t n)
{
    wh_value v = {.type = WH_V_OBJECT};
    wh_field *c = wh_arena_alloc(a, (n ? n : 1) * sizeof(*c));
    if (!c) return wh_v_null();
    if (n) memcpy(c, f, n * sizeof(*c));
    v.as.obj.fields = c;
    v.as.obj.n = n;
    return v;
}

char *wh_sid_str(wh_arena *a, const uint8_t *p, size_t n)
{
    // Revision 1, sub-authority count, 48-bit big-endian authority, then
    // little-endian 32-bit sub-authorities.
    if (n < 8 || p[0] != 1 || p[1] > 15 || n < 8 + 4u * p[1]) return NULL;
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++) auth = (auth << 8) | p[i];
    char buf[256];
    int len = snprintf(buf, sizeof(buf), "S-1-%llu", (unsigned long long)auth);
    for (unsigned i = 0; i < p[1]; i++) {
        const uint8_t *s = p + 8 + 4 * i;
        uint32_t v = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
        len += snprintf(buf + len, sizeof(buf) - (size_t)len, "-%u", v);
    }
    return wh_arena_strdup(a, buf);
}

/* ---- deep copies: records are borrowed, consumers keep copies ---- */

wh_value wh_value_copy(wh_arena *a, const wh_value *v)
{
    wh_value o = *v;
    switch (v->type) {
    case WH_V_STR:
        o.as.str.s = wh_arena_strndup(a, v->as.str.s ? v->as.str.s : "", v->as.str.len);
        if (!o.as.str.s) o.type = WH_V_NULL;
        break;
    case WH_V_BYTES: {
        uint8_t *p = wh_arena_alloc(a, v->as.bytes.len ? v->as.bytes.len : 1);
        if (p && v->as.bytes.len) memcpy(p, v->as.bytes.p, v->as.bytes.len);
        o.as.bytes.p = p;
        if (!p) o.type = WH_V_NULL;
        break;
    }
    case WH_V_ARRAY: {
        wh_value *it = wh_arena_calloc(a, v->as.arr.n ? v->as.arr.n : 1, sizeof(wh_value));
        if (!it) return wh_v_null();
        for (size_t i = 0; i < v->as.arr.n; i++) it[i] = wh_value_copy(a, &v->as.arr.items[i]);
        o.as.arr.items = it;
        break;
    }
    case WH_V_OBJECT: {
        wh_field *f = wh_arena_calloc(a, v->as.obj.n ? v->as.obj.n : 1, sizeof(wh_field));
        if (!f) return wh_v_null();
        for (size_t i = 0; i < v->as.obj.n; i++) {
            f[i].name = wh_arena_strdup(a, v->as.obj.fields[i].name ? v->as.obj.fields[i].name : "");
            f[i].v = wh_value_copy(a, &v->as.obj.fields[i].v);
        }
        o.as.obj.fields = f;
        break;
    }
    default: break;
    }
    return o;
}

static const char *sdup(wh_arena *a, const char *s) { return s ? wh_arena_strdup(a, s) : NULL; }

wh_record *wh_record_copy(wh_arena *a, const wh_record *rec)
{
    wh_record *r = wh_arena_calloc(a, 1, sizeof *r);
    if (!r) return NULL;
    *r = *rec;
    r->artifact = sdup(a, rec->artifact);
    r->source = sdup(a, rec->source);
    r->host = sdup(a, rec->host);
    r->summary = sdup(a, rec->summary);
    for (size_t i = 0; i < rec->nts && i < WH_RECORD_MAX_TS; i++) r->ts[i].desc = sdup(a, rec->ts[i].desc);
    wh_field *f = wh_arena_calloc(a, rec->nfields ? rec->nfields : 1, sizeof(wh_field));
    if (!f) return NULL;
    for (size_t i = 0; i < rec->nfields; i++) {
        f[i].name = sdup(a, rec->fields[i].name);
        f[i].v = wh_value_copy(a, &rec->fields[i].v);
    }
    r->fields = f;
    return r;
}
