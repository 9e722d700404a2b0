/* Rendering: substitution values in Windows' form, navigation through
 * template instances, and the XML and JSON output of a record. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/port.h"
#include "evtx/evtx_int.h"

static void utf16(wh_sbuf *sb, const uint8_t *p, size_t nunits)
{
    // Room for the worst case once, then write straight into the buffer;
    // invalid surrogates become U+FFFD, and so does an embedded NUL: every
    // consumer of the text stops at a NUL, which would hide what follows.
    if (!nunits || !wh_sbuf_grow(sb, nunits * 3)) return;
    char *o = sb->p + sb->n;
    for (size_t i = 0; i < nunits; i++) {
        // Four ASCII units (none zero) at once: most of a log's text.
        while (i + 4 <= nunits) {
            uint64_t x = wh_get_u64le(p + 2 * i);
            if ((x & 0xFF80FF80FF80FF80ull) || !(x & 0xFFFFull) || !(x & 0xFFFF0000ull) || !(x & 0xFFFF00000000ull) ||
                !(x >> 48))
                break;
            o[0] = (char)x, o[1] = (char)(x >> 16), o[2] = (char)(x >> 32), o[3] = (char)(x >> 48);
            o += 4;
            i += 4;
        }
        if (i >= nunits) break;
        uint32_t u = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
        if (u == 0) u = 0xFFFD;
        if (u < 0x80) {
            *o++ = (char)u;
            continue;
        }
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < nunits) {
            uint32_t l = wh_get_u16le(p + 2 * i + 2);
            if (l >= 0xDC00 && l <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                i++;
            } else u = 0xFFFD;
        } else if (u >= 0xD800 && u <= 0xDFFF) u = 0xFFFD;
        if (u < 0x800) {
            *o++ = (char)(0xC0 | (u >> 6));
            *o++ = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            *o++ = (char)(0xE0 | (u >> 12));
            *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *o++ = (char)(0x80 | (u & 0x3F));
        } else { // a pair: 2 units in, 4 bytes out, within the reserved 6
            *o++ = (char)(0xF0 | (u >> 18));
            *o++ = (char)(0x80 | ((u >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *o++ = (char)(0x80 | (u & 0x3F));
        }
    }
    sb->n = (size_t)(o - sb->p);
}

void filetime_str(wh_sbuf *sb, uint64_t ft)
{
    char b[32];
    if (!wh_filetime_iso(ft, b)) return;
    // Windows prints the full 100 ns resolution: 7 fractional digits.
    wh_sbuf_put(sb, b, 26);
    wh_sbuf_putc(sb, (char)('0' + ft % 10));
    wh_sbuf_putc(sb, 'Z');
}

static size_t elem_size(uint8_t t)
{
    switch (t & 0x7F) {
    case 0x03: case 0x04: return 1;
    case 0x05: case 0x06: return 2;
    case 0x07: case 0x08: case 0x0B: case 0x0D: case 0x14: return 4;
    case 0x09: case 0x0A: case 0x0C: case 0x11: case 0x15: return 8;
    case 0x0F: case 0x12: return 16;
    default: return 0;
    }
}

uint32_t ev_array_len(const ev_val *v)
{
    if (!(v->type & 0x80)) return 1;
    uint8_t b = v->type & 0x7F;
    if (b == 0x01 || b == 0x02) { // NUL-separated strings
        size_t cs = b == 0x01 ? 2 : 1;
        uint32_t n = 0;
        size_t i = 0, start = 0;
        for (; i + cs <= v->size; i += cs) {
            bool nul = cs == 2 ? !(v->p[i] | v->p[i + 1]) : !v->p[i];
            if (nul) {
                n++;
                start = i + cs;
            }
        }
        if (start < v->size) n++;
        return n;
    }
    size_t es = elem_size(b);
    return es ? (uint32_t)(v->size / es) : 0;
}

static void scalar(const uint8_t *p, size_t size, uint8_t t, wh_sbuf *sb)
{
    switch (t) {
    case 0x00: return;
    case 0x01: {
        size_t n = size / 2;
        while (n && !(p[2 * n - 2] | p[2 * n - 1])) n--; // trailing NULs are not text
        utf16(sb, p, n);
        return;
    }
    case 0x02: {
        size_t n = size;
        while (n && !p[n - 1]) n--;
        // windows-1252, libevtx's default codepage: 0x80-0x9F differ from
        // Latin-1 (the euro sign, typographic quotes...); 5 are unassigned.
        static const uint16_t cp1252[32] = {
            0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
            0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
            0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
        for (size_t i = 0; i < n; i++) {
            uint8_t ch = p[i];
            if (ch && ch < 0x80) {
                wh_sbuf_putc(sb, (char)ch);
                continue;
            }
            uint16_t u = !ch ? 0xFFFD : ch < 0xA0 ? cp1252[ch - 0x80] : ch;
            uint8_t b[2] = {(uint8_t)u, (uint8_t)(u >> 8)};
            utf16(sb, b, 1);
        }
        return;
    }
    default: break;
    }
    if (size < elem_size(t) && t != 0x0E && t != 0x10 && t != 0x13) return;
    switch (t) {
    case 0x03: wh_sbuf_i64(sb, (int8_t)p[0]); return;
    case 0x04: wh_sbuf_u64(sb, p[0]); return;
    case 0x05: wh_sbuf_i64(sb, (int16_t)wh_get_u16le(p)); return;
    case 0x06: wh_sbuf_u64(sb, wh_get_u16le(p)); return;
    case 0x07: wh_sbuf_i64(sb, (int32_t)wh_get_u32le(p)); return;
    case 0x08: wh_sbuf_u64(sb, wh_get_u32le(p)); return;
    case 0x09: wh_sbuf_i64(sb, (int64_t)wh_get_u64le(p)); return;
    case 0x0A: wh_sbuf_u64(sb, wh_get_u64le(p)); return;
    case 0x0B: {
        float f;
        uint32_t u = wh_get_u32le(p);
        memcpy(&f, &u, 4);
        wh_sbuf_printf(sb, "%.9g", (double)f);
        return;
    }
    case 0x0C: {
        double d;
        uint64_t u = wh_get_u64le(p);
        memcpy(&d, &u, 8);
        wh_sbuf_printf(sb, "%.17g", d);
        return;
    }
    case 0x0D: {
        uint32_t v = wh_get_u32le(p);
        if (v <= 1) wh_sbuf_puts(sb, v ? "true" : "false");
        else wh_sbuf_printf(sb, "%" PRIu32, v); // irregular values occur: keep the number
        return;
    }
    case 0x0E:
        for (size_t i = 0; i < size; i++) wh_sbuf_hex(sb, p[i], 2, true);
        return;
    case 0x0F:
        wh_sbuf_putc(sb, '{');
        wh_sbuf_hex(sb, wh_get_u32le(p), 8, true);
        wh_sbuf_putc(sb, '-');
        wh_sbuf_hex(sb, wh_get_u16le(p + 4), 4, true);
        wh_sbuf_putc(sb, '-');
        wh_sbuf_hex(sb, wh_get_u16le(p + 6), 4, true);
        wh_sbuf_putc(sb, '-');
        for (int i = 8; i < 16; i++) {
            if (i == 10) wh_sbuf_putc(sb, '-');
            wh_sbuf_hex(sb, p[i], 2, true);
        }
        wh_sbuf_putc(sb, '}');
        return;
    case 0x10:
        if (size >= 8) wh_sbuf_printf(sb, "0x%" PRIx64, wh_get_u64le(p));
        else if (size >= 4) wh_sbuf_printf(sb, "0x%" PRIx32, wh_get_u32le(p));
        return;
    case 0x11: filetime_str(sb, wh_get_u64le(p)); return;
    case 0x12: {
        uint16_t f[8];
        for (int i = 0; i < 8; i++) f[i] = wh_get_u16le(p + 2 * i);
        wh_sbuf_printf(sb, "%04u-%02u-%02uT%02u:%02u:%02u.%03u0000Z", f[0], f[1], f[3], f[4], f[5], f[6], f[7]);
        return;
    }
    case 0x13: {
        // Revision, count, 48-bit big-endian authority, count x u32 LE; a
        // truncated SID shows what is there.
        if (size < 8) return;
        uint64_t auth = 0;
        for (int i = 2; i < 8; i++) auth = (auth << 8) | p[i];
        wh_sbuf_put(sb, "S-", 2);
        wh_sbuf_u64(sb, p[0]);
        wh_sbuf_putc(sb, '-');
        wh_sbuf_u64(sb, auth);
        for (size_t i = 0; i < p[1] && 8 + 4 * i + 4 <= size; i++) {
            wh_sbuf_putc(sb, '-');
            wh_sbuf_u64(sb, wh_get_u32le(p + 8 + 4 * i));
        }
        return;
    }
    case 0x14: wh_sbuf_put(sb, "0x", 2); wh_sbuf_hex(sb, wh_get_u32le(p), 0, false); return;
    case 0x15: wh_sbuf_put(sb, "0x", 2); wh_sbuf_hex(sb, wh_get_u64le(p), 0, false); return;
    default:
        for (size_t i = 0; i < size; i++) wh_sbuf_hex(sb, p[i], 2, true);
        return;
    }
}

void ev_value_str(const ev_val *v, int item, wh_sbuf *sb)
{
    if (!(v->type & 0x80)) {
        scalar(v->p, v->size, v->type, sb);
        return;
    }
    uint8_t b = v->type & 0x7F;
    uint32_t n = ev_array_len(v);
    for (uint32_t k = 0; k < n; k++) {
        if (item >= 0 && (uint32_t)item != k) continue;
        if (item < 0 && k) wh_sbuf_putc(sb, ',');
        if (b == 0x01 || b == 0x02) {
            size_t cs = b == 0x01 ? 2 : 1, i = 0, start = 0;
            uint32_t idx = 0;
            for (; i + cs <= v->size; i += cs) {
                bool nul = cs == 2 ? !(v->p[i] | v->p[i + 1]) : !v->p[i];
                if (nul) {
                    if (idx == k) break;
                    idx++;
                    start = i + cs;
                }
            }
            scalar(v->p + start, i - start, b, sb);
        } else {
            size_t es = elem_size(b);
            scalar(v->p + (size_t)k * es, es, b, sb);
        }
    }
}

/* ---- navigation ---- */

/* Visits the element nodes of a content list, entering template instances
 * and BinXml values; arrays repeat their element once per item. */
typedef int (*visit_fn)(void *ud, const ev_cur *c);

static int visit(const ev_node *list, const ev_val *vals, uint32_t nvals, visit_fn fn, void *ud, int depth)
{
    if (depth > (int)WH_LIMIT_EVTX_DEPTH) return 0;
    for (const ev_node *n = list; n; n = n->next) {
        int rc = 0;
        if (n->kind == EV_ELEM) {
            // <Data>%n</Data> with an array value: one element per item.
            const ev_node *only = n->child;
            // An element that is only an optional substitution of a NULL
            // value is not there at all (<Binary/> of events without data);
            // a normal substitution of an empty value stays (<Data/>).
            // (Without values in scope, as when a template is planned, it stays.)
            if (vals && only && !only->next && only->kind == EV_SUBST && only->optional &&
                (only->index >= nvals || vals[only->index].type == 0x00))
                continue;
            if (only && !only->next && only->kind == EV_SUBST && only->index < nvals &&
                (vals[only->index].type & 0x80) && vals[only->index].type != 0x8E) {
                uint32_t k = ev_array_len(&vals[only->index]);
                if (k == 0) k = 1; // an empty array still gives one empty element
                for (uint32_t i = 0; i < k && !rc; i++) {
                    ev_cur c = {n, vals, nvals, (int)i};
                    rc = fn(ud, &c);
                }
            } else {
                ev_cur c = {n, vals, nvals, -1};
                rc = fn(ud, &c);
            }
        } else if (n->kind == EV_TEMPLATE) {
            rc = visit(n->body, n->vals, n->nvals, fn, ud, depth + 1);
        } else if (n->kind == EV_SUBST && n->index < nvals && vals[n->index].type == 0x21) {
            rc = visit(vals[n->index].bx, NULL, 0, fn, ud, depth + 1);
        }
        if (rc) return rc;
    }
    return 0;
}

static int first(void *ud, const ev_cur *c)
{
    *(ev_cur *)ud = *c;
    return 1;
}

bool ev_root(const ev_node *doc, ev_cur *out)
{
    return visit(doc, NULL, 0, first, out, 0) != 0;
}

typedef struct find_ud { const char *name; ev_cur *out; } find_ud;

static int find_named(void *ud, const ev_cur *c)
{
    find_ud *f = ud;
    if (strcmp(c->n->name, f->name) != 0) return 0;
    *f->out = *c;
    return 1;
}

bool ev_child(const ev_cur *parent, const char *name, ev_cur *out)
{
    find_ud f = {name, out};
    return visit(parent->n->child, parent->vals, parent->nvals, find_named, &f, 0) != 0;
}

int ev_each_child(const ev_cur *parent, int (*fn)(void *ud, const ev_cur *child), void *ud)
{
    return visit(parent->n->child, parent->vals, parent->nvals, fn, ud, 0);
}

static const char *entity(const char *name)
{
    static const struct { const char *n, *v; } t[] = {{"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}};
    for (size_t i = 0; i < 5; i++)
        if (strcmp(name, t[i].n) == 0) return t[i].v;
    return NULL;
}

static void put_cp(wh_sbuf *sb, uint32_t u)
{
    uint8_t b[2] = {(uint8_t)u, (uint8_t)(u >> 8)};
    utf16(sb, b, 1);
}

/* Plain text of a value list (no markup); returns false when the list is a
 * lone optional substitution of a NULL value (the node is absent). */
static bool text_of(const ev_node *list, const ev_val *vals, uint32_t nvals, int item, wh_sbuf *sb)
{
    if (list && !list->next && list->kind == EV_SUBST && list->optional) {
        const ev_val *v = list->index < nvals ? &vals[list->index] : NULL;
        if (!v || v->type == 0x00) return false;
    }
    for (const ev_node *n = list; n; n = n->next) {
        switch (n->kind) {
        case EV_TEXT: case EV_CDATA: utf16(sb, n->text, n->nchars); break;
        case EV_CHARREF: put_cp(sb, n->index); break;
        case EV_ENTREF: {
            const char *v = entity(n->name);
            if (v) wh_sbuf_puts(sb, v);
            else wh_sbuf_printf(sb, "&%s;", n->name);
            break;
        }
        case EV_SUBST:
            if (n->index < nvals && vals[n->index].type != 0x21) ev_value_str(&vals[n->index], item, sb);
            break;
        default: break;
        }
    }
    return true;
}

bool ev_list_text(const ev_node *list, const ev_val *vals, uint32_t nvals, wh_sbuf *sb)
{
    return text_of(list, vals, nvals, -1, sb);
}

bool ev_text(const ev_cur *c, wh_sbuf *sb)
{
    return text_of(c->n->child, c->vals, c->nvals, c->item, sb);
}

bool ev_attr_text(const ev_cur *c, const char *name, wh_sbuf *sb)
{
    for (const ev_attr *a = c->n->attrs; a; a = a->next)
        if (strcmp(a->name, name) == 0) return text_of(a->value, c->vals, c->nvals, -1, sb);
    return false;
}

/* ---- XML ---- */

static void xml_elem(const ev_cur *c, wh_sbuf *out, wh_sbuf *tmp, int indent);

typedef struct xml_ud { wh_sbuf *out, *tmp; int indent; } xml_ud;

static int xml_child(void *ud, const ev_cur *c)
{
    xml_ud *x = ud;
    xml_elem(c, x->out, x->tmp, x->indent);
    return 0;
}

static bool has_child_elements(const ev_cur *c)
{
    ev_cur dummy;
    return visit(c->n->child, c->vals, c->nvals, first, &dummy, 0) != 0;
}

static void xml_elem(const ev_cur *c, wh_sbuf *out, wh_sbuf *tmp, int indent)
{
    for (int i = 0; i < indent; i++) wh_sbuf_put(out, "  ", 2);
    wh_sbuf_putc(out, '<');
    wh_sbuf_puts(out, c->n->name);
    for (const ev_attr *a = c->n->attrs; a; a = a->next) {
        wh_sbuf_reset(tmp);
        if (!text_of(a->value, c->vals, c->nvals, -1, tmp)) continue; // optional and NULL: no attribute
        wh_sbuf_putc(out, ' ');
        wh_sbuf_puts(out, a->name);
        wh_sbuf_put(out, "=\"", 2);
        wh_sbuf_xml(out, tmp->p, tmp->n);
        wh_sbuf_putc(out, '"');
    }
    if (has_child_elements(c)) {
        wh_sbuf_put(out, ">\n", 2);
        xml_ud x = {out, tmp, indent + 1};
        visit(c->n->child, c->vals, c->nvals, xml_child, &x, 0);
        for (int i = 0; i < indent; i++) wh_sbuf_put(out, "  ", 2);
        wh_sbuf_put(out, "</", 2);
        wh_sbuf_puts(out, c->n->name);
        wh_sbuf_put(out, ">\n", 2);
        return;
    }
    wh_sbuf_reset(tmp);
    text_of(c->n->child, c->vals, c->nvals, c->item, tmp);
    if (!tmp->n) {
        wh_sbuf_put(out, "/>\n", 3);
        return;
    }
    wh_sbuf_putc(out, '>');
    wh_sbuf_xml(out, tmp->p, tmp->n);
    wh_sbuf_put(out, "</", 2);
    wh_sbuf_puts(out, c->n->name);
    wh_sbuf_put(out, ">\n", 2);
}

void ev_render_xml(const ev_node *doc, wh_sbuf *out, wh_sbuf *tmp)
{
    ev_cur root;
    if (!ev_root(doc, &root)) return;
    xml_elem(&root, out, tmp, 0);
}

/* ---- JSON (docs/output.md "evtx.record") ---- */

static void json_key(wh_sbuf *o, const char *k, bool *first_field)
{
    if (!*first_field) wh_sbuf_putc(o, ',');
    *first_field = false;
    wh_sbuf_putc(o, '"');
    wh_sbuf_json(o, k, strlen(k));
    wh_sbuf_put(o, "\":", 2);
}

static void json_str(wh_sbuf *o, const char *s, size_t n)
{
    wh_sbuf_putc(o, '"');
    wh_sbuf_json(o, s, n);
    wh_sbuf_putc(o, '"');
}

/* Children of an element as a JSON object; repeated names become arrays,
 * so names are grouped: we list distinct names in order, then values. */
typedef struct jkids { const ev_cur *c; size_t n; size_t cap; } jkids;

static int collect(void *ud, const ev_cur *c)
{
    jkids *k = ud;
    if (k->n < k->cap) ((ev_cur *)k->c)[k->n] = *c;
    k->n++;
    return 0;
}

static void json_node(const ev_cur *c, wh_sbuf *o, wh_sbuf *tmp, int depth);

static void json_children(const ev_cur *parent, wh_sbuf *o, wh_sbuf *tmp, int depth, bool event_data)
{
    ev_cur kids[512];
    jkids k = {kids, 0, 512};
    visit(parent->n->child, parent->vals, parent->nvals, collect, &k, 0);
    size_t n = k.n < 512 ? k.n : 512;
    // Keys: for EventData, the Data "Name" attribute; unnamed items go to "Data".
    const char *keys[512];
    char *own[512];
    uint32_t hk[512];
    for (size_t i = 0; i < n; i++) {
        own[i] = NULL;
        keys[i] = kids[i].n->name;
        if (event_data && strcmp(kids[i].n->name, "Data") == 0) {
            wh_sbuf_reset(tmp);
            if (ev_attr_text(&kids[i], "Name", tmp) && tmp->n) {
                own[i] = wh_strndup(tmp->p, tmp->n);
                if (own[i]) keys[i] = own[i];
            }
        }
    }
    // Repeated names are grouped; hashes spare most string compares.
    for (size_t i = 0; i < n; i++) {
        uint32_t h = 2166136261u;
        for (const char *q = keys[i]; *q; q++) h = (h ^ (uint8_t)*q) * 16777619u;
        hk[i] = h;
    }
    wh_sbuf_putc(o, '{');
    bool firstf = true;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = hk[j] == hk[i] && strcmp(keys[j], keys[i]) == 0;
        if (seen) continue;
        size_t count = 0;
        for (size_t j = i; j < n; j++) count += hk[j] == hk[i] && strcmp(keys[j], keys[i]) == 0;
        // Unnamed EventData items are positional: always an array.
        bool arr = count > 1 || (event_data && !own[i] && strcmp(keys[i], "Data") == 0);
        json_key(o, keys[i], &firstf);
        if (arr) wh_sbuf_putc(o, '[');
        bool fa = true;
        for (size_t j = i; j < n; j++) {
            if (hk[j] != hk[i] || strcmp(keys[j], keys[i]) != 0) continue;
            if (!fa) wh_sbuf_putc(o, ',');
            fa = false;
            json_node(&kids[j], o, tmp, depth + 1);
        }
        if (arr) wh_sbuf_putc(o, ']');
    }
    wh_sbuf_putc(o, '}');
    for (size_t i = 0; i < n; i++) free(own[i]);
}

static void json_node(const ev_cur *c, wh_sbuf *o, wh_sbuf *tmp, int depth)
{
    if (depth < (int)WH_LIMIT_EVTX_DEPTH && has_child_elements(c)) {
        json_children(c, o, tmp, depth, false);
        return;
    }
    wh_sbuf_reset(tmp);
    text_of(c->n->child, c->vals, c->nvals, c->item, tmp);
    json_str(o, tmp->p ? tmp->p : "", tmp->n);
}

void ev_render_json_data(const ev_node *doc, wh_sbuf *o, wh_sbuf *tmp, bool *firstf)
{
    ev_cur root, part;
    if (!ev_root(doc, &root)) return;
    if (ev_child(&root, "EventData", &part)) {
        json_key(o, "event_data", firstf);
        json_children(&part, o, tmp, 0, true);
    }
    if (ev_child(&root, "UserData", &part)) {
        json_key(o, "user_data", firstf);
        json_children(&part, o, tmp, 0, false);
    }
}

/* ---- field lookup ---- */

typedef struct dfind { const char *name; wh_sbuf *sb, *tmp; bool found; int depth; } dfind;

static int find_data(void *ud, const ev_cur *c)
{
    dfind *d = ud;
    if (strcmp(c->n->name, "Data") == 0) {
        wh_sbuf_reset(d->tmp);
        if (ev_attr_text(c, "Name", d->tmp) && d->tmp->n == strlen(d->name) && memcmp(d->tmp->p, d->name, d->tmp->n) == 0) {
            ev_text(c, d->sb);
            d->found = true;
            return 1;
        }
        return 0;
    }
    // UserData and nested elements: a leaf with this name.
    if (has_child_elements(c)) {
        if (d->depth++ > (int)WH_LIMIT_EVTX_DEPTH) return 0;
        int rc = visit(c->n->child, c->vals, c->nvals, find_data, ud, 0);
        d->depth--;
        return rc;
    }
    if (strcmp(c->n->name, d->name) == 0) {
        ev_text(c, d->sb);
        d->found = true;
        return 1;
    }
    return 0;
}

bool ev_data(const ev_node *doc, const char *name, wh_sbuf *sb, wh_sbuf *tmp)
{
    ev_cur root, part;
    if (!ev_root(doc, &root)) return false;
    dfind d = {name, sb, tmp, false, 0};
    if (ev_child(&root, "EventData", &part)) visit(part.n->child, part.vals, part.nvals, find_data, &d, 0);
    if (!d.found && ev_child(&root, "UserData", &part)) visit(part.n->child, part.vals, part.nvals, find_data, &d, 0);
    return d.found;
}

/* Every item ev_data can find, in the order it looks (EventData, then
 * UserData): a Data element by its Name attribute (not entered), another
 * leaf by its element name. The first item whose key equals a name is what
 * ev_data(name) returns: one walk then serves every lookup of a record.
 * Returns whether ev_leaves would list the same items (every Data element
 * a leaf with a Name of 1 to 255 bytes): then the walk serves it too. */
typedef struct dall { ev_data_fn fn; void *ud; wh_sbuf *sb, *tmp; int depth; bool same; } dall;

static int each_data(void *ud, const ev_cur *c)
{
    dall *d = ud;
    if (strcmp(c->n->name, "Data") == 0) {
        wh_sbuf_reset(d->tmp);
        bool named = ev_attr_text(c, "Name", d->tmp);
        if (!named || !d->tmp->n || d->tmp->n >= 256 || has_child_elements(c)) d->same = false;
        if (named) {
            wh_sbuf_reset(d->sb);
            ev_text(c, d->sb);
            d->fn(d->ud, d->tmp->p ? d->tmp->p : "", d->tmp->n, d->sb->p ? d->sb->p : "", d->sb->n);
        }
        return 0;
    }
    if (has_child_elements(c)) { // the depth is counted as find_data and each_leaf count it
        if (d->depth++ > (int)WH_LIMIT_EVTX_DEPTH) return 0;
        visit(c->n->child, c->vals, c->nvals, each_data, ud, 0);
        d->depth--;
        return 0;
    }
    wh_sbuf_reset(d->sb);
    ev_text(c, d->sb);
    d->fn(d->ud, c->n->name, strlen(c->n->name), d->sb->p ? d->sb->p : "", d->sb->n);
    return 0;
}

bool ev_data_each(const ev_node *doc, ev_data_fn fn, void *ud, wh_sbuf *sb, wh_sbuf *tmp)
{
    ev_cur root, part;
    if (!ev_root(doc, &root)) return true;
    dall d = {fn, ud, sb, tmp, 0, true};
    if (ev_child(&root, "EventData", &part)) visit(part.n->child, part.vals, part.nvals, each_data, &d, 0);
    if (ev_child(&root, "UserData", &part)) visit(part.n->child, part.vals, part.nvals, each_data, &d, 0);
    return d.same;
}

/* Every EventData / UserData leaf as (name, text), in document order;
 * unnamed Data items are named "Data". */
typedef struct leaves { void (*fn)(void *, const char *, const char *, size_t); void *ud; wh_sbuf *sb, *tmp; int depth; } leaves;

static int each_leaf(void *ud, const ev_cur *c)
{
    leaves *l = ud;
    if (has_child_elements(c)) {
        if (l->depth++ > (int)WH_LIMIT_EVTX_DEPTH) return 0;
        visit(c->n->child, c->vals, c->nvals, each_leaf, ud, 0);
        l->depth--;
        return 0;
    }
    wh_sbuf_reset(l->tmp);
    const char *name = c->n->name;
    char nbuf[256];
    if (strcmp(name, "Data") == 0 && ev_attr_text(c, "Name", l->tmp) && l->tmp->n && l->tmp->n < sizeof(nbuf)) {
        memcpy(nbuf, l->tmp->p, l->tmp->n);
        nbuf[l->tmp->n] = 0;
        name = nbuf;
    }
    wh_sbuf_reset(l->sb);
    ev_text(c, l->sb);
    l->fn(l->ud, name, l->sb->p ? l->sb->p : "", l->sb->n);
    return 0;
}

void ev_leaves(const ev_node *doc, void (*fn)(void *, const char *, const char *, size_t), void *ud, wh_sbuf *sb,
               wh_sbuf *tmp)
{
    ev_cur root, part;
    if (!ev_root(doc, &root)) return;
    leaves l = {fn, ud, sb, tmp, 0};
    if (ev_child(&root, "EventData", &part)) visit(part.n->child, part.vals, part.nvals, each_leaf, &l, 0);
    if (ev_child(&root, "UserData", &part)) visit(part.n->child, part.vals, part.nvals, each_leaf, &l, 0);
}
