/* Binary XML of event records: tokens, names, template definitions and
 * instances, substitution values. Names and templates are cached per
 * chunk by their chunk offset. docs/formats/evtx.md §4-§6; the shared
 * notes are ../shared/docs/evtx-format-notes.md. */
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "evtx/evtx_int.h"

enum {
    T_EOS = 0x00, T_OPEN = 0x01, T_CLOSE_START = 0x02, T_CLOSE_EMPTY = 0x03, T_END = 0x04, T_VALUE = 0x05,
    T_ATTR = 0x06, T_CDATA = 0x07, T_CHARREF = 0x08, T_ENTREF = 0x09, T_PI_TARGET = 0x0A, T_PI_DATA = 0x0B,
    T_TEMPLATE = 0x0C, T_SUBST = 0x0D, T_OSUBST = 0x0E, T_FRAGMENT = 0x0F
};

bool ev_ctx_init(ev_ctx *c, wh_evtx *e)
{
    memset(c, 0, sizeof(*c));
    c->e = e;
    c->diags = e->diags;
    c->arena = wh_arena_new(e->max_memory && e->max_memory < WH_LIMIT_EVTX_ARENA ? e->max_memory : WH_LIMIT_EVTX_ARENA);
    c->names = calloc(EVTX_CHUNK, sizeof(*c->names));
    c->tmpls = calloc(EVTX_CHUNK, sizeof(*c->tmpls));
    c->name_gen = calloc(EVTX_CHUNK, sizeof(uint32_t));
    c->tmpl_gen = calloc(EVTX_CHUNK, sizeof(uint32_t));
    c->tmpl_busy = calloc(EVTX_CHUNK, 1);
    c->plans = calloc(EVTX_CHUNK, sizeof(*c->plans));
    return c->arena && c->names && c->tmpls && c->name_gen && c->tmpl_gen && c->tmpl_busy && c->plans;
}

void ev_ctx_free(ev_ctx *c)
{
    wh_arena_free(c->arena);
    free(c->names);
    free(c->tmpls);
    free(c->name_gen);
    free(c->tmpl_gen);
    free(c->tmpl_busy);
    free(c->plans);
    memset(c, 0, sizeof(*c));
}

void ev_ctx_chunk(ev_ctx *c, const uint8_t *chunk, uint64_t off, uint32_t index)
{
    c->chunk = chunk;
    c->chunk_off = off;
    c->chunk_index = index;
    wh_arena_reset(c->arena);
    memset(c->strc, 0, sizeof(c->strc)); // their strings were in the arena
    // A new generation invalidates both caches without clearing them.
    if (++c->gen == 0) {
        memset(c->name_gen, 0, EVTX_CHUNK * sizeof(uint32_t));
        memset(c->tmpl_gen, 0, EVTX_CHUNK * sizeof(uint32_t));
        c->gen = 1;
    }
}

static void *fail(ev_ctx *c, const wh_reader *r, const char *why)
{
    if (!c->error) {
        c->error = true;
        c->why = why;
        c->where = r->file_off + (r->status != WH_OK ? r->fail_pos : r->pos);
    }
    return NULL;
}

/* An allocation failed: the chunk's cap (--max-memory) or the machine. */
static void *oom(ev_ctx *c, const wh_reader *r)
{
    return fail(c, r, wh_arena_hit_cap(c->arena) ? "the chunk's memory cap was reached (--max-memory)" : "out of memory");
}

/* Offset of r's position inside the chunk. */
static uint32_t rel(const ev_ctx *c, const wh_reader *r) { return (uint32_t)(r->base + r->pos - c->chunk); }

static ev_node *node(ev_ctx *c, const wh_reader *r, uint8_t kind)
{
    if (++c->nodes > WH_LIMIT_EVTX_NODES) return fail(c, r, "record has too many XML nodes");
    ev_node *n = wh_arena_calloc(c->arena, 1, sizeof(*n));
    if (!n) return oom(c, r);
    n->kind = kind;
    return n;
}

/* A name: {u32 next, u16 hash, u16 count, UTF-16 count chars, u16 0} at a
 * chunk offset. When the offset is where we stand, it is stored right here
 * and must be stepped over. The chunk's string table is not needed. */
static const char *name_at(ev_ctx *c, wh_reader *r)
{
    uint32_t off = wh_rd_u32(r);
    if (!wh_rd_ok(r)) return fail(c, r, "name offset cut short");
    if (off == rel(c, r)) {
        wh_rd_skip(r, 6);
        uint16_t n = wh_rd_u16(r);
        wh_rd_skip(r, (size_t)n * 2 + 2);
        if (!wh_rd_ok(r)) return fail(c, r, "inline name runs past the record");
    }
    if (off > EVTX_CHUNK - 8) return fail(c, r, "name offset outside the chunk");
    if (c->name_gen[off] == c->gen) return c->names[off];
    uint16_t n = wh_get_u16le(c->chunk + off + 6);
    if ((size_t)n * 2 > EVTX_CHUNK - 8 - off) return fail(c, r, "name runs past the chunk");
    const char *s = wh_utf16le_to_utf8(c->arena, c->chunk + off + 8, n, true, NULL, NULL);
    if (!s) return oom(c, r);
    c->names[off] = s;
    c->name_gen[off] = c->gen;
    return s;
}

static ev_node *parse_content(ev_ctx *c, wh_reader *r, bool dep_id, int *end);
static ev_node *parse_template(ev_ctx *c, wh_reader *r);

static bool is_value_token(uint8_t t)
{
    switch (t & 0xBF) { // 0x40 is the "more follows" / "has attributes" bit
    case T_VALUE: case T_SUBST: case T_OSUBST: case T_CHARREF: case T_ENTREF: case T_CDATA: return true;
    default: return false;
    }
}

/* One value-like token (text, substitution, reference, CDATA). */
static ev_node *parse_value(ev_ctx *c, wh_reader *r)
{
    uint8_t t = wh_rd_u8(r);
    ev_node *n;
    switch (t & 0xBF) {
    case T_VALUE: {
        uint8_t vt = wh_rd_u8(r);
        uint16_t cnt = wh_rd_u16(r);
        const uint8_t *p = wh_rd_bytes(r, (size_t)cnt * 2);
        if (!p) return fail(c, r, "value text runs past the record");
        if (vt != 0x01) return fail(c, r, "value text is not a UTF-16 string");
        if (!(n = node(c, r, EV_TEXT))) return NULL;
        n->text = p;
        n->nchars = cnt;
        return n;
    }
    case T_CDATA: {
        uint16_t cnt = wh_rd_u16(r);
        const uint8_t *p = wh_rd_bytes(r, (size_t)cnt * 2);
        if (!p) return fail(c, r, "CDATA runs past the record");
        if (!(n = node(c, r, EV_CDATA))) return NULL;
        n->text = p;
        n->nchars = cnt;
        return n;
    }
    case T_CHARREF: {
        uint16_t ch = wh_rd_u16(r);
        if (!wh_rd_ok(r)) return fail(c, r, "character reference cut short");
        if (!(n = node(c, r, EV_CHARREF))) return NULL;
        n->index = ch;
        return n;
    }
    case T_ENTREF: {
        const char *nm = name_at(c, r);
        if (!nm || !(n = node(c, r, EV_ENTREF))) return NULL;
        n->name = nm;
        return n;
    }
    case T_SUBST: case T_OSUBST: {
        uint16_t idx = wh_rd_u16(r);
        uint8_t vt = wh_rd_u8(r);
        if (!wh_rd_ok(r)) return fail(c, r, "substitution cut short");
        if (!(n = node(c, r, EV_SUBST))) return NULL;
        n->index = idx;
        n->subst_type = vt;
        n->optional = (t & 0xBF) == T_OSUBST;
        return n;
    }
    default:
        return fail(c, r, "unexpected token in a value");
    }
}

static ev_node *parse_element(ev_ctx *c, wh_reader *r, bool dep_id)
{
    uint8_t t = wh_rd_u8(r);
    // The dependency id is there in template definitions only; elements
    // written directly in a record or in nested BinXml have none.
    if (dep_id) (void)wh_rd_u16(r);
    (void)wh_rd_u32(r); // data size: we bound by the record instead
    ev_node *e = node(c, r, EV_ELEM);
    if (!e) return NULL;
    if (!(e->name = name_at(c, r))) return NULL;
    if (t & 0x40) {
        uint32_t asize = wh_rd_u32(r);
        if (!wh_rd_ok(r) || asize > wh_rd_left(r)) return fail(c, r, "attribute list runs past the record");
        ev_attr **tail = &e->attrs;
        uint8_t at;
        while (wh_rd_u8_at(r, r->pos, &at) && (at & 0xBF) == T_ATTR) {
            wh_rd_skip(r, 1);
            ev_attr *a = wh_arena_calloc(c->arena, 1, sizeof(*a));
            if (!a) return oom(c, r);
            if (!(a->name = name_at(c, r))) return NULL;
            ev_node **vt = &a->value;
            uint8_t vk;
            while (wh_rd_u8_at(r, r->pos, &vk) && is_value_token(vk)) {
                ev_node *v = parse_value(c, r);
                if (!v) return NULL;
                *vt = v;
                vt = &v->next;
            }
            *tail = a;
            tail = &a->next;
        }
    }
    uint8_t close = wh_rd_u8(r);
    if (!wh_rd_ok(r)) return fail(c, r, "element cut short");
    if (close == T_CLOSE_EMPTY) return e;
    if (close != T_CLOSE_START) return fail(c, r, "element start is not closed");
    if (++c->depth > (int)WH_LIMIT_EVTX_DEPTH) return fail(c, r, "elements nested too deep");
    int end = -1;
    e->child = parse_content(c, r, dep_id, &end);
    c->depth--;
    if (c->error) return NULL;
    if (end != T_END) return fail(c, r, "element has no end");
    return e;
}

/* Nodes until an end-element (consumed, *end = T_END) or end of stream. */
static ev_node *parse_content(ev_ctx *c, wh_reader *r, bool dep_id, int *end)
{
    ev_node *head = NULL, **tail = &head;
    *end = -1;
    while (!c->error) {
        uint8_t t;
        // A failed read leaves the position where it was: stop, or the peek
        // below would see the same token forever.
        if (!wh_rd_ok(r)) return fail(c, r, "binary XML cut short");
        if (!wh_rd_u8_at(r, r->pos, &t)) { // out of bytes: a fragment may end so
            *end = T_EOS;
            break;
        }
        ev_node *n = NULL;
        switch (t & 0xBF) {
        case T_EOS:
            wh_rd_skip(r, 1);
            *end = T_EOS;
            return head;
        case T_END:
            wh_rd_skip(r, 1);
            *end = T_END;
            return head;
        case T_FRAGMENT:
            if (!wh_rd_skip(r, 4)) return fail(c, r, "fragment header cut short");
            continue;
        case T_OPEN:
            n = parse_element(c, r, dep_id);
            break;
        case T_VALUE: case T_CDATA: case T_CHARREF: case T_ENTREF: case T_SUBST: case T_OSUBST:
            n = parse_value(c, r);
            break;
        case T_PI_TARGET: {
            wh_rd_skip(r, 1);
            const char *nm = name_at(c, r);
            uint8_t d;
            if (!nm || !(n = node(c, r, EV_PI))) return NULL;
            n->name = nm;
            if (wh_rd_u8_at(r, r->pos, &d) && d == T_PI_DATA) {
                wh_rd_skip(r, 1);
                uint16_t cnt = wh_rd_u16(r);
                n->text = wh_rd_bytes(r, (size_t)cnt * 2);
                n->nchars = n->text ? cnt : 0;
            }
            break;
        }
        case T_TEMPLATE:
            n = parse_template(c, r);
            break;
        default:
            return fail(c, r, "unknown binary XML token");
        }
        if (!n) return fail(c, r, "bad binary XML");
        *tail = n;
        tail = &n->next;
    }
    return head;
}

/* Template definition at chunk offset off: {u32 next, GUID, u32 size, body}. */
static ev_node *template_def(ev_ctx *c, wh_reader *r, uint32_t off, uint32_t *body_size)
{
    if (off > EVTX_CHUNK - 24) return fail(c, r, "template definition outside the chunk");
    uint32_t size = wh_get_u32le(c->chunk + off + 20);
    if (size > EVTX_CHUNK - 24 - off) return fail(c, r, "template definition runs past the chunk");
    *body_size = size;
    if (c->tmpl_gen[off] == c->gen) return c->tmpls[off];
    if (c->tmpl_busy[off]) return fail(c, r, "template definition refers to itself");
    c->tmpl_busy[off] = 1;
    wh_reader b;
    wh_rd_init(&b, c->chunk + off + 24, size, c->chunk_off + off + 24, r->source);
    int end;
    ev_node *body = parse_content(c, &b, true, &end);
    c->tmpl_busy[off] = 0;
    if (c->error) return NULL;
    c->tmpls[off] = body;
    c->plans[off] = NULL; // built on first use
    c->tmpl_gen[off] = c->gen;
    return body;
}

static ev_node *parse_template(ev_ctx *c, wh_reader *r)
{
    wh_rd_skip(r, 1);
    (void)wh_rd_u8(r);
    (void)wh_rd_u32(r); // template id
    uint32_t off = wh_rd_u32(r);
    if (!wh_rd_ok(r)) return fail(c, r, "template instance cut short");
    uint32_t body_size = 0;
    bool inline_def = off == rel(c, r);
    ev_node *t = node(c, r, EV_TEMPLATE);
    if (!t) return NULL;
    t->def_off = off;
    t->body = template_def(c, r, off, &body_size);
    if (c->error) return NULL;
    if (inline_def && !wh_rd_skip(r, 24 + (size_t)body_size)) return fail(c, r, "template definition runs past the record");
    // Instance data: count, count x {u16 size, u8 type, u8 0}, the values.
    uint32_t n = wh_rd_u32(r);
    if (!wh_rd_ok(r) || n > WH_LIMIT_EVTX_VALUES || (size_t)n * 4 > wh_rd_left(r))
        return fail(c, r, "substitution value count does not fit the record");
    const uint8_t *desc = wh_rd_bytes(r, (size_t)n * 4);
    ev_val *v = wh_arena_calloc(c->arena, n ? n : 1, sizeof(*v));
    if (!v) return oom(c, r);
    for (uint32_t i = 0; i < n; i++) {
        v[i].size = wh_get_u16le(desc + 4 * i);
        v[i].type = desc[4 * i + 2];
        v[i].p = wh_rd_bytes(r, v[i].size);
        if (!v[i].p && v[i].size) return fail(c, r, "substitution value runs past the record");
        if (v[i].type == 0x21 && v[i].size && !c->shallow) {
            if (++c->depth > (int)WH_LIMIT_EVTX_DEPTH) return fail(c, r, "BinXml values nested too deep");
            wh_reader sub;
            wh_rd_init(&sub, v[i].p, v[i].size, r->file_off + (size_t)(v[i].p - r->base), r->source);
            int end;
            v[i].bx = parse_content(c, &sub, false, &end);
            c->depth--;
            if (c->error) return NULL;
        }
    }
    t->vals = v;
    t->nvals = n;
    return t;
}

ev_node *ev_parse_record(ev_ctx *c, uint32_t off, uint32_t len)
{
    c->error = false;
    c->why = NULL;
    c->nodes = 0;
    c->depth = 0;
    wh_reader r;
    wh_rd_init(&r, c->chunk + off, len, c->chunk_off + off, c->e->name);
    int end;
    ev_node *doc = parse_content(c, &r, false, &end);
    if (c->error) return NULL;
    if (!doc) {
        fail(c, &r, "record holds no XML");
        return NULL;
    }
    return doc;
}
