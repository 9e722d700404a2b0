/* EVTX files: the file header, every 64 KiB chunk slot checked on its own
 * (signature, header CRC, records CRC), the records of each chunk, and
 * records carved from chunk slack. Damage is reported with its offset and
 * stays local: a bad record ends its chunk's walk, a bad chunk is skipped
 * or read with its checksum flagged, never the whole file. */
#include <stdlib.h>
#include <string.h>

#include "core/crc32.h"
#include "core/text.h"
#include "core/port.h"
#include "evtx/evtx_int.h"

#define DIAG(e, sev, code, off, ...) wh_diagf((e)->diags, sev, code, (e)->name, off, __VA_ARGS__)
#define WDIAG(w, sev, code, off, ...) wh_diagf((w)->c.diags, sev, code, (w)->e->name, off, __VA_ARGS__)

static const uint8_t FILE_SIG[8] = {'E', 'l', 'f', 'F', 'i', 'l', 'e', 0};
static const uint8_t CHUNK_SIG[8] = {'E', 'l', 'f', 'C', 'h', 'n', 'k', 0};

static void read_header(wh_evtx *e)
{
    wh_evtx_info *i = &e->info;
    if (e->size < 128) {
        DIAG(e, WH_SEV_ERROR, WH_E_TRUNCATED, 0, "file is %zu bytes, shorter than an EVTX file header", e->size);
        return;
    }
    const uint8_t *h = e->data;
    if (memcmp(h, FILE_SIG, 8) != 0) {
        DIAG(e, WH_SEV_ERROR, WH_E_BADSIG, 0, "no ElfFile signature: not an EVTX file (chunks are still looked for)");
        return;
    }
    i->next_record_id = wh_get_u64le(h + 24);
    i->minor = wh_get_u16le(h + 36);
    i->major = wh_get_u16le(h + 38);
    i->chunks_declared = wh_get_u16le(h + 42);
    i->flags = wh_get_u32le(h + 120);
    uint32_t crc = wh_get_u32le(h + 124);
    i->header_ok = wh_crc32(0, h, 120) == crc;
    if (!i->header_ok)
        DIAG(e, WH_SEV_WARN, WH_E_CORRUPT, 124, "file header CRC does not match; the header's counts are not trusted");
    if (i->flags & ~7u)
        DIAG(e, WH_SEV_WARN, WH_E_CORRUPT, 120,
             "file header flags 0x%08x carry bits Windows does not set (0x1 dirty, 0x2 full, 0x4 no checksums); "
             "read as usual", i->flags);
    if (i->flags & 1)
        DIAG(e, WH_SEV_INFO, WH_OK, 120, "file is marked dirty (not closed cleanly): chunks beyond the declared count are read too");
}

static wh_status finish_open(wh_evtx *e, const wh_evtx_opts *opts, wh_diag_sink *diags)
{
    e->diags = diags;
    if (opts && opts->size >= sizeof(*opts)) {
        e->flags = opts->flags;
        e->threads = opts->threads;
        e->max_memory = opts->max_memory;
    }
    e->info.path = e->name;
    read_header(e);
    e->info.chunk_slots = e->size > EVTX_HEADER ? (e->size - EVTX_HEADER + EVTX_CHUNK - 1) / EVTX_CHUNK : 0;
    if (e->size > EVTX_HEADER && (e->size - EVTX_HEADER) % EVTX_CHUNK)
        DIAG(e, WH_SEV_WARN, WH_E_TRUNCATED, e->size,
             "file ends inside a chunk (%zu bytes of the last 64 KiB); what is there is read",
             (e->size - EVTX_HEADER) % EVTX_CHUNK);
    // Not an event log at all: no signature and no chunk slot (an empty
    // input has no data pointer to compare).
    bool sig = e->size >= 8 && memcmp(e->data, FILE_SIG, 8) == 0;
    if (!e->info.header_ok && !sig && e->info.chunk_slots == 0) return WH_E_BADSIG;
    return WH_OK;
}

wh_status wh_evtx_open(const char *path, const wh_evtx_opts *opts, wh_diag_sink *diags, wh_evtx **out)
{
    *out = NULL;
    wh_evtx *e = calloc(1, sizeof(*e));
    if (!e) return WH_E_NOMEM;
    wh_status st = wh_map_file(path, &e->file);
    if (st != WH_OK) {
        wh_diagf(diags, WH_SEV_ERROR, st, path, WH_NO_OFFSET, "cannot read: %s", wh_status_str(st));
        free(e);
        return st;
    }
    e->owned = true;
    e->data = e->file.data;
    e->size = e->file.size;
    e->name = e->file.path;
    st = finish_open(e, opts, diags);
    if (st != WH_OK) {
        wh_evtx_close(e);
        return st;
    }
    *out = e;
    return WH_OK;
}

wh_status wh_evtx_open_mem(const void *data, size_t size, const char *name, const wh_evtx_opts *opts,
                           wh_diag_sink *diags, wh_evtx **out)
{
    *out = NULL;
    wh_evtx *e = calloc(1, sizeof(*e));
    if (!e) return WH_E_NOMEM;
    e->data = size ? data : NULL;
    e->size = data ? size : 0;
    e->name = strdup(name ? name : "<memory>");
    wh_status st = e->name ? finish_open(e, opts, diags) : WH_E_NOMEM;
    if (st != WH_OK) {
        wh_evtx_close(e);
        return st;
    }
    *out = e;
    return WH_OK;
}

void wh_evtx_close(wh_evtx *e)
{
    if (!e) return;
    if (e->owned) wh_unmap_file(&e->file);
    else free(e->name);
    free(e);
}

const wh_evtx_info *wh_evtx_get_info(wh_evtx *e) { return &e->info; }

/* ---- events ---- */

static const char *keep(ev_ctx *c, wh_sbuf *sb)
{
    return wh_arena_strndup(c->arena, sb->p ? sb->p : "", sb->n);
}

/* ISO 8601 "YYYY-MM-DDTHH:MM:SS.fffffffZ" back to a FILETIME (0 if not). */
static uint64_t iso_ft(const char *s)
{
    unsigned y, mo, d, h, mi, se;
    if (strlen(s) < 19 || sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u", &y, &mo, &d, &h, &mi, &se) != 6) return 0;
    if (y < 1601 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return 0;
    uint64_t frac = 0;
    int digits = 0;
    if (s[19] == '.')
        for (const char *p = s + 20; *p >= '0' && *p <= '9'; p++)
            if (digits < 7) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                digits++;
            }
    while (digits < 7) {
        frac *= 10;
        digits++;
    }
    // days from civil (Howard Hinnant), relative to 1601-01-01
    int64_t yy = (int64_t)y - (mo <= 2);
    int64_t era = yy / 400;
    unsigned yoe = (unsigned)(yy - era * 400);
    unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468 + 134774;
    return ((uint64_t)days * 86400 + h * 3600 + mi * 60 + se) * 10000000ull + frac;
}

/* The generic path: walk the tree. */
static void system_fields_tree(ev_ctx *c, const ev_node *doc, wh_evtx_event *ev, wh_sbuf *sb)
{
    ev_cur root, sys, x;
    if (!ev_root(doc, &root) || !ev_child(&root, "System", &sys)) return;
#define ATTR(child, attr, dst)                                                         \
    if (ev_child(&sys, child, &x)) {                                                   \
        wh_sbuf_reset(sb);                                                             \
        if (ev_attr_text(&x, attr, sb)) dst = keep(c, sb);                             \
    }
#define TEXT(child, dst)                                                               \
    if (ev_child(&sys, child, &x)) {                                                   \
        wh_sbuf_reset(sb);                                                             \
        ev_text(&x, sb);                                                               \
        dst = keep(c, sb);                                                             \
    }
    ATTR("Provider", "Name", ev->provider);
    ATTR("Provider", "Guid", ev->provider_guid);
    ATTR("TimeCreated", "SystemTime", ev->time_created);
    ATTR("Security", "UserID", ev->user_sid);
    TEXT("Channel", ev->channel);
    TEXT("Computer", ev->computer);
    const char *t = NULL;
    TEXT("EventID", t);
    if (t && *t) {
        ev->event_id = (uint32_t)strtoul(t, NULL, 10);
        ev->has_event_id = true;
    }
    t = NULL;
    TEXT("EventRecordID", t);
    if (t && *t) {
        ev->event_record_id = strtoull(t, NULL, 10);
        ev->has_event_record_id = true;
    }
    t = NULL;
    TEXT("Level", t);
    if (t && *t) ev->level = atoi(t);
#undef ATTR
#undef TEXT
    if (ev->time_created) {
        ev->time_created_ft = iso_ft(ev->time_created);
        // Literal times (template-less records) may carry 9 digits: show the
        // one canonical form, 7 digits from the FILETIME.
        if (ev->time_created_ft) {
            wh_sbuf_reset(sb);
            filetime_str(sb, ev->time_created_ft);
            ev->time_created = keep(c, sb);
        }
    }
}

/* One field's source in a template: a lone substitution, or literal text. */
static bool plan_src(ev_ctx *c, const ev_node *list, bool present, bool attr, ev_src *s, wh_sbuf *sb)
{
    s->idx = -1;
    s->lit = NULL;
    if (!present) return true;
    if (list && !list->next && list->kind == EV_SUBST) {
        s->idx = list->index;
        s->optional = attr && list->optional; // an empty element stays: <Channel/>
        return true;
    }
    for (const ev_node *n = list; n; n = n->next)
        if (n->kind != EV_TEXT && n->kind != EV_CHARREF && n->kind != EV_ENTREF && n->kind != EV_CDATA) return false;
    wh_sbuf_reset(sb);
    ev_list_text(list, NULL, 0, sb);
    s->lit = keep(c, sb);
    return s->lit != NULL;
}

static const ev_attr *attr_of(const ev_node *e, const char *name)
{
    for (const ev_attr *a = e->attrs; a; a = a->next)
        if (strcmp(a->name, name) == 0) return a;
    return NULL;
}

/* Where each System field of a template comes from; NULL when the
 * template's System part is not plain (then the tree walk is used). */
static ev_plan *plan_for(ev_ctx *c, const ev_node *t, wh_sbuf *sb)
{
    uint32_t off = t->def_off;
    if (off >= EVTX_CHUNK || c->tmpl_gen[off] != c->gen) return NULL;
    if (c->plans[off]) return c->plans[off]->usable ? c->plans[off] : NULL;
    ev_plan *p = wh_arena_calloc(c->arena, 1, sizeof(*p));
    if (!p) return NULL;
    c->plans[off] = p;
    ev_cur root, sys, x;
    ev_cur body = {NULL, NULL, 0, -1};
    (void)body;
    if (!ev_root(t->body, &root) || !ev_child(&root, "System", &sys)) return NULL;
    bool ok = true;
    const ev_attr *a;
#define EL(name, field) ok = ok && plan_src(c, ev_child(&sys, name, &x) ? x.n->child : NULL, ev_child(&sys, name, &x), false, &p->field, sb)
#define AT(name, attr, field)                                                                       \
    a = ev_child(&sys, name, &x) ? attr_of(x.n, attr) : NULL;                                       \
    ok = ok && plan_src(c, a ? a->value : NULL, a != NULL, true, &p->field, sb)
    AT("Provider", "Name", provider);
    AT("Provider", "Guid", guid);
    AT("TimeCreated", "SystemTime", time);
    AT("Security", "UserID", user);
    EL("EventID", event_id);
    EL("Level", level);
    EL("EventRecordID", record_id);
    EL("Channel", channel);
    EL("Computer", computer);
#undef EL
#undef AT
    p->usable = ok;
    return ok ? p : NULL;
}

static const char *src_str(ev_ctx *c, const ev_src *s, const ev_val *v, uint32_t n, wh_sbuf *sb)
{
    if (s->idx < 0) return s->lit;
    // A missing or NULL value leaves the element empty, or an optional one absent.
    if ((uint32_t)s->idx >= n || v[s->idx].type == 0x00) return s->optional ? NULL : "";
    const ev_val *x = &v[s->idx];
    // Provider and channel repeat record after record: rendered once.
    bool cacheable = x->size <= 512 && x->type == 0x01;
    for (unsigned i = 0; cacheable && i < 4; i++)
        if (c->strc[i].s && c->strc[i].size == x->size && c->strc[i].type == x->type &&
            !memcmp(c->strc[i].p, x->p, x->size))
            return c->strc[i].s;
    wh_sbuf_reset(sb);
    ev_value_str(x, -1, sb);
    const char *str = keep(c, sb);
    if (cacheable && str) {
        unsigned i = c->strc_next++ % 4;
        c->strc[i].p = x->p, c->strc[i].size = x->size, c->strc[i].type = x->type, c->strc[i].s = str;
    }
    return str;
}

/* A number straight from the value bytes (no rendering). */
static bool src_num(const ev_src *s, const ev_val *v, uint32_t n, uint64_t *out)
{
    if (s->idx < 0) {
        if (!s->lit || !*s->lit) return false;
        *out = strtoull(s->lit, NULL, 10);
        return true;
    }
    if ((uint32_t)s->idx >= n) return false;
    const ev_val *x = &v[s->idx];
    switch (x->type) {
    case 0x03: case 0x04: if (x->size < 1) return false; *out = x->p[0]; return true;
    case 0x05: case 0x06: if (x->size < 2) return false; *out = wh_get_u16le(x->p); return true;
    case 0x07: case 0x08: case 0x14: if (x->size < 4) return false; *out = wh_get_u32le(x->p); return true;
    case 0x09: case 0x0A: case 0x15: if (x->size < 8) return false; *out = wh_get_u64le(x->p); return true;
    default: return false;
    }
}

void ev_system_fields(ev_ctx *c, const ev_node *doc, wh_evtx_event *ev, wh_sbuf *sb)
{
    ev->level = -1;
    const ev_plan *p = doc && !doc->next && doc->kind == EV_TEMPLATE ? plan_for(c, doc, sb) : NULL;
    if (!p) {
        system_fields_tree(c, doc, ev, sb);
        return;
    }
    const ev_val *v = doc->vals;
    uint32_t n = doc->nvals;
    ev->provider = src_str(c, &p->provider, v, n, sb);
    ev->channel = src_str(c, &p->channel, v, n, sb);
    if (!c->shallow) { // a filtering walk needs only what it filters on
        ev->provider_guid = src_str(c, &p->guid, v, n, sb);
        ev->computer = src_str(c, &p->computer, v, n, sb);
        ev->user_sid = src_str(c, &p->user, v, n, sb);
    }
    uint64_t x;
    if (src_num(&p->event_id, v, n, &x)) {
        ev->event_id = (uint32_t)x;
        ev->has_event_id = true;
    }
    if (src_num(&p->record_id, v, n, &x)) {
        ev->event_record_id = x;
        ev->has_event_record_id = true;
    }
    if (src_num(&p->level, v, n, &x)) ev->level = (int)x;
    if (p->time.idx >= 0 && (uint32_t)p->time.idx < n && v[p->time.idx].type == 0x11 && v[p->time.idx].size >= 8) {
        ev->time_created_ft = wh_get_u64le(v[p->time.idx].p);
        if (!c->shallow) {
            wh_sbuf_reset(sb);
            filetime_str(sb, ev->time_created_ft);
            ev->time_created = keep(c, sb);
        }
    } else {
        ev->time_created = src_str(c, &p->time, v, n, sb);
        if (ev->time_created) ev->time_created_ft = iso_ft(ev->time_created);
        if (ev->time_created_ft && !c->shallow) {
            wh_sbuf_reset(sb);
            filetime_str(sb, ev->time_created_ft);
            ev->time_created = keep(c, sb);
        }
    }
}

bool ev_full(const wh_evtx_event *ev, wh_evtx_event *full, wh_sbuf *sb)
{
    ev_ctx *c = ev->ctx;
    *full = *ev;
    if (ev->doc) return true;
    bool shallow = c->shallow;
    c->shallow = false;
    uint32_t off = (uint32_t)(ev->offset - c->chunk_off);
    uint32_t size = wh_get_u32le(c->chunk + off + 4);
    ev_node *doc = ev_parse_record(c, off + 24, size - 28);
    if (doc) {
        full->doc = doc;
        wh_sbuf tmp = {0};
        ev_system_fields(c, doc, full, sb ? sb : &tmp);
        wh_sbuf_free(&tmp);
    }
    c->shallow = shallow;
    // A filtering walk checks a chunk's records CRC only once it gives evidence.
    if (c->crc_pending) {
        c->crc_pending = false;
        uint32_t free_off = wh_get_u32le(c->chunk + 48);
        if (free_off >= EVTX_CHUNK_HDR && free_off <= EVTX_CHUNK &&
            wh_crc32(0, c->chunk + EVTX_CHUNK_HDR, free_off - EVTX_CHUNK_HDR) != wh_get_u32le(c->chunk + 52)) {
            c->crc_bad = true;
            wh_diagf(c->diags, WH_SEV_WARN, WH_E_CORRUPT, c->e->name, c->chunk_off + 52,
                     "chunk %u: records CRC does not match; records are read and flagged", c->chunk_index);
        }
    }
    if (c->crc_bad) full->checksum_ok = false;
    return doc != NULL;
}

typedef struct walk {
    wh_evtx *e;
    ev_ctx c;
    wh_sbuf sb;
    bool system_only;
    wh_evtx_fn fn;
    void *ud;
    int stop;
    unsigned long handed; /* events given to fn */
} walk;

/* One record at chunk offset off; returns its size or 0 when the walk of
 * this chunk must end. */
static uint32_t record(walk *w, uint32_t off, bool recovered, bool crc_ok, uint32_t limit)
{
    const uint8_t *ch = w->c.chunk;
    uint64_t abs = w->c.chunk_off + off;
    if (off > limit - 24 || wh_get_u32le(ch + off) != 0x00002A2Au) return 0;
    uint32_t size = wh_get_u32le(ch + off + 4);
    if (size < EVTX_REC_MIN || size > limit - off) {
        if (!recovered)
            WDIAG(w, WH_SEV_WARN, WH_E_CORRUPT, abs, "chunk %u: record size %u is impossible; the rest of the chunk is carved",
                 w->c.chunk_index, size);
        return 0;
    }
    // A torn record (written while the log was copied) has no trailing
    // size copy yet; its XML is often whole: read it, flag it, and end the
    // walk of this chunk after it.
    bool torn = wh_get_u32le(ch + off + size - 4) != size;
    if (torn && !recovered)
        WDIAG(w, WH_SEV_WARN, WH_E_CORRUPT, abs,
             "chunk %u: record size %u and its trailing copy %u differ (a torn record); read and flagged, the rest "
             "of the chunk is carved",
             w->c.chunk_index, size, wh_get_u32le(ch + off + size - 4));
    if (torn && recovered) return 0;
    wh_evtx_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.offset = abs;
    ev.chunk = w->c.chunk_index;
    ev.record_id = wh_get_u64le(ch + off + 8);
    ev.written = wh_get_u64le(ch + off + 16);
    ev.recovered = recovered;
    ev.checksum_ok = crc_ok && !torn;
    ev.level = -1;
    ev_node *doc = ev_parse_record(&w->c, off + 24, size - 28);
    if (!doc) {
        if (!recovered)
            WDIAG(w, WH_SEV_WARN, WH_E_CORRUPT, w->c.where, "chunk %u, record %llu: %s; record skipped",
                 w->c.chunk_index, (unsigned long long)ev.record_id, w->c.why ? w->c.why : "bad binary XML");
        return torn ? 0 : size; // the size checked out: the next record can still be read
    }
    ev_system_fields(&w->c, doc, &ev, &w->sb);
    if (recovered && !ev.has_event_id) return torn ? 0 : size; // carving noise
    // A torn record counts only when it decodes to a real event: stale
    // bytes decode to EventID 0 without a Channel or a time.
    if (torn && (!ev.channel || !*ev.channel || !ev.has_event_record_id || !ev.time_created_ft)) {
        WDIAG(w, WH_SEV_WARN, WH_E_CORRUPT, abs, "chunk %u: the torn record does not decode to an event; skipped",
              w->c.chunk_index);
        return 0;
    }
    // A system-only walk hands out no tree: nested values were not parsed.
    ev.doc = w->system_only ? NULL : doc;
    ev.ctx = &w->c;
    w->handed++;
    if (w->fn(w->ud, &ev)) w->stop = 1;
    return torn ? 0 : size;
}

static void chunk(walk *w, const uint8_t *ch, uint64_t abs, uint32_t index, uint32_t avail)
{
    wh_evtx *e = w->e;
    ev_ctx_chunk(&w->c, ch, abs, index);
    uint32_t free_off = wh_get_u32le(ch + 48);
    uint32_t flags = wh_get_u32le(ch + 120);
    bool crc_ok = true;
    if (!(flags & 4)) { // flag 0x4: the file keeps no checksums
        uint32_t hc = wh_crc32(wh_crc32(0, ch, 120), ch + 128, 384);
        if (hc != wh_get_u32le(ch + 124)) {
            crc_ok = false;
            WDIAG(w, WH_SEV_WARN, WH_E_CORRUPT, abs + 124, "chunk %u: header CRC does not match; records are read and flagged",
                 index);
        }
        w->c.crc_pending = w->system_only; // checked when the chunk gives evidence (ev_full)
        w->c.crc_bad = false;
        if (!w->system_only && free_off >= EVTX_CHUNK_HDR && free_off <= avail &&
            wh_crc32(0, ch + EVTX_CHUNK_HDR, free_off - EVTX_CHUNK_HDR) != wh_get_u32le(ch + 52)) {
            crc_ok = false;
            WDIAG(w, WH_SEV_WARN, WH_E_CORRUPT, abs + 52, "chunk %u: records CRC does not match; records are read and flagged",
                 index);
        }
    }
    // Live records end at the free-space offset when it is sane; what lies
    // past it is slack (older records), read only as recovered.
    uint32_t live_end = free_off >= EVTX_CHUNK_HDR && free_off <= avail ? free_off : avail;
    if (free_off > avail && free_off <= EVTX_CHUNK && !(flags & 4)) {
        crc_ok = false; // the records area is cut short: its CRC cannot be checked
        WDIAG(w, WH_SEV_WARN, WH_E_TRUNCATED, abs + 48,
              "chunk %u: its records run to %u but the file ends at %u; records are read and flagged", index,
              free_off, avail);
    }
    uint32_t off = EVTX_CHUNK_HDR;
    while (!w->stop && off < live_end) {
        uint32_t n = record(w, off, false, crc_ok, live_end);
        if (!n) break;
        off += n;
    }
    if (off < free_off && free_off <= avail && !w->stop)
        WDIAG(w, WH_SEV_INFO, WH_E_CORRUPT, abs + off, "chunk %u: records end at %u, before the free-space offset %u",
             index, off, free_off);
    // Slack: record signatures past the live records. Carved with
    // --recover; otherwise counted and said, for deleted records are what an
    // attacker who cleared the log leaves behind. A hit needs the signature,
    // a sane size and the size's trailing copy.
    bool carve = e->flags & WH_EVTX_OPT_RECOVER;
    uint32_t k = 0, first = 0;
    unsigned long before = w->handed;
    for (uint32_t p = off; p + EVTX_REC_MIN <= avail && !w->stop; p += 8) {
        if (wh_get_u32le(ch + p) != 0x00002A2Au) continue;
        uint32_t sz = wh_get_u32le(ch + p + 4);
        bool whole = sz >= EVTX_REC_MIN && sz <= avail - p && wh_get_u32le(ch + p + sz - 4) == sz;
        if (whole && !k++) first = p;
        uint32_t n = carve ? record(w, p, true, crc_ok, avail) : whole ? sz : 0;
        if (n) p += n - 8;
    }
    if (k && !carve)
        WDIAG(w, WH_SEV_INFO, WH_OK, abs + first,
              "chunk %u: %u record(s) in the slack past the live records (deleted or overwritten); --recover reads them",
              index, k);
    else if (k > w->handed - before && !w->stop)
        WDIAG(w, WH_SEV_INFO, WH_OK, abs + first,
              "chunk %u: %lu of %u record(s) in the slack do not decode to an event (partly overwritten, or their "
              "template is gone); skipped", index, k - (w->handed - before), k);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* One chunk slot. pad: a 64 KiB scratch buffer for a cut-short last chunk. */
static void slot(walk *w, uint64_t s, uint8_t *pad)
{
    wh_evtx *e = w->e;
    uint64_t abs = EVTX_HEADER + s * EVTX_CHUNK;
    const uint8_t *ch = e->data + abs;
    size_t avail = e->size - abs < EVTX_CHUNK ? e->size - abs : EVTX_CHUNK;
    if (avail < EVTX_CHUNK_HDR) return;
    if (memcmp(ch, CHUNK_SIG, 8) != 0) {
        if (!all_zero(ch, avail))
            WDIAG(w, WH_SEV_WARN, WH_E_BADSIG, abs, "chunk %llu: no ElfChnk signature; skipped", (unsigned long long)s);
        return;
    }
    if (s >= e->info.chunks_declared && e->info.header_ok)
        WDIAG(w, WH_SEV_INFO, WH_OK, abs, "chunk %llu is past the header's chunk count (%llu); read anyway",
              (unsigned long long)s, (unsigned long long)e->info.chunks_declared);
    if (avail < EVTX_CHUNK) {
        memset(pad, 0, EVTX_CHUNK);
        memcpy(pad, ch, avail);
        ch = pad;
    }
    chunk(w, ch, abs, (uint32_t)s, (uint32_t)avail);
}

/* Pages of chunks already read are dropped from a mapped file, so memory
 * stays flat whatever the size of the log (the mapping is read-only:
 * nothing is written back). */
static void release(wh_evtx *e, uint64_t upto)
{
    if (!e->owned || upto < 64) return;
    uint64_t from = upto >= 128 ? EVTX_HEADER + (upto - 128) * EVTX_CHUNK : EVTX_HEADER;
    uint64_t to = EVTX_HEADER + (upto - 64) * EVTX_CHUNK;
    if (to > from && to <= e->size) wh_drop_pages(e->data + from, (size_t)(to - from));
}

/* The next 64 chunks mapped in before they are read: one call instead of
 * a page fault every few pages (release drops them again behind). */
static void prefault(wh_evtx *e, uint64_t from)
{
    if (!e->owned) return;
    uint64_t a = EVTX_HEADER + from * EVTX_CHUNK, b = a + 64ull * EVTX_CHUNK;
    if (b > e->size) b = e->size;
    if (b > a) wh_prefault_pages(e->data + a, (size_t)(b - a));
}

static bool walk_init(walk *w, wh_evtx *e, bool system_only, wh_evtx_fn fn, void *ud)
{
    memset(w, 0, sizeof(*w));
    w->e = e;
    w->system_only = system_only;
    w->fn = fn;
    w->ud = ud;
    if (!ev_ctx_init(&w->c, e)) {
        ev_ctx_free(&w->c);
        return false;
    }
    w->c.shallow = system_only;
    return true;
}

static void walk_free(walk *w)
{
    wh_sbuf_free(&w->sb);
    ev_ctx_free(&w->c);
}

wh_status wh_evtx_each(wh_evtx *e, bool system_only, wh_evtx_fn fn, void *ud)
{
    walk w;
    if (!walk_init(&w, e, system_only, fn, ud)) return WH_E_NOMEM;
    uint8_t *pad = malloc(EVTX_CHUNK);
    if (!pad) {
        walk_free(&w);
        return WH_E_NOMEM;
    }
    for (uint64_t s = 0; s < e->info.chunk_slots && !w.stop; s++) {
        if (wh_diag_expired(e->diags, e->name, EVTX_HEADER + s * EVTX_CHUNK)) break;
        if ((s & 63) == 0) prefault(e, s);
        slot(&w, s, pad);
        if ((s & 63) == 63) release(e, s + 1);
    }
    free(pad);
    walk_free(&w);
    return WH_OK;
}

/* ---- rendering of one event ---- */

static void xml_to(const wh_evtx_event *ev, wh_sbuf *out, wh_sbuf *tmp)
{
    if (ev->doc) ev_render_xml(ev->doc, out, tmp);
    wh_sbuf_putc(out, '\n');
}

int wh_evtx_render_xml(const wh_evtx_event *ev, FILE *f)
{
    wh_sbuf out = {0}, tmp = {0};
    xml_to(ev, &out, &tmp);
    size_t n = fwrite(out.p, 1, out.n, f);
    int rc = n == out.n && !out.oom ? 0 : -1;
    wh_sbuf_free(&out);
    wh_sbuf_free(&tmp);
    return rc;
}

static void jkey(wh_sbuf *o, const char *k, bool *first)
{
    if (!*first) wh_sbuf_putc(o, ',');
    *first = false;
    wh_sbuf_putc(o, '"');
    wh_sbuf_puts(o, k);
    wh_sbuf_put(o, "\":", 2);
}

static void jstr(wh_sbuf *o, const char *k, const char *v, bool *first)
{
    if (!v) return;
    jkey(o, k, first);
    wh_sbuf_putc(o, '"');
    wh_sbuf_json(o, v, strlen(v));
    wh_sbuf_putc(o, '"');
}

static void json_to(const wh_evtx_event *ev, const char *source, wh_sbuf *out, wh_sbuf *tmpb)
{
    wh_sbuf o = *out, tmp = *tmpb;
    bool first = true;
    wh_sbuf_putc(&o, '{');
    jstr(&o, "artifact", "evtx.record", &first);
    jstr(&o, "source", source, &first);
    jkey(&o, "offset", &first);
    wh_sbuf_u64(&o, ev->offset);
    jkey(&o, "chunk", &first);
    wh_sbuf_u64(&o, ev->chunk);
    jkey(&o, "record_id", &first);
    wh_sbuf_u64(&o, ev->record_id);
    if (ev->has_event_record_id) {
        jkey(&o, "event_record_id", &first);
        wh_sbuf_u64(&o, ev->event_record_id);
    }
    char b[40];
    if (ev->written) {
        wh_sbuf_reset(&tmp);
        filetime_str(&tmp, ev->written);
        jstr(&o, "written", wh_sbuf_cstr(&tmp), &first);
    }
    jstr(&o, "time_created", ev->time_created, &first);
    if (ev->has_event_id) {
        jkey(&o, "event_id", &first);
        wh_sbuf_u64(&o, ev->event_id);
    }
    jstr(&o, "provider", ev->provider, &first);
    jstr(&o, "channel", ev->channel, &first);
    jstr(&o, "computer", ev->computer, &first);
    if (ev->level >= 0) {
        jkey(&o, "level", &first);
        wh_sbuf_i64(&o, ev->level);
    }
    jstr(&o, "user_sid", ev->user_sid, &first);
    jkey(&o, "recovered", &first);
    wh_sbuf_puts(&o, ev->recovered ? "true" : "false");
    jkey(&o, "checksum_ok", &first);
    wh_sbuf_puts(&o, ev->checksum_ok ? "true" : "false");
    (void)b;
    if (ev->doc) ev_render_json_data(ev->doc, &o, &tmp, &first);
    wh_sbuf_put(&o, "}\n", 2);
    *out = o;
    *tmpb = tmp;
}

int wh_evtx_render_json(const wh_evtx_event *ev, const char *source, FILE *f)
{
    wh_sbuf o = {0}, tmp = {0};
    json_to(ev, source, &o, &tmp);
    size_t n = fwrite(o.p, 1, o.n, f);
    int rc = n == o.n && !o.oom ? 0 : -1;
    wh_sbuf_free(&o);
    wh_sbuf_free(&tmp);
    return rc;
}

/* ---- the parallel dump ---- */

#include <pthread.h>

typedef struct qdiag { wh_severity sev; wh_status code; uint64_t off; char *msg; } qdiag;

typedef struct job {
    wh_sbuf out;
    qdiag *d;
    size_t nd, capd;
    unsigned long records;
    int state; /* 0 free, 1 taken, 2 done */
} job;

typedef struct dump {
    wh_evtx *e;
    bool xml;
    const char *source;
    uint64_t slots, next, written;
    job *jobs;
    size_t window;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} dump;

typedef struct worker { dump *d; job *cur; wh_sbuf tmp; } worker;

static void qdiag_fn(void *ud, const wh_diag *x)
{
    job *j = ((worker *)ud)->cur;
    if (j->nd == j->capd) {
        size_t nc = j->capd ? j->capd * 2 : 8;
        qdiag *nd = realloc(j->d, nc * sizeof(*nd));
        if (!nd) return;
        j->d = nd;
        j->capd = nc;
    }
    j->d[j->nd++] = (qdiag){x->sev, x->code, x->offset, strdup(x->msg)};
}

static int render_one(void *ud, const wh_evtx_event *ev)
{
    worker *wk = ud;
    wh_sbuf_reset(&wk->tmp);
    if (wk->d->xml) xml_to(ev, &wk->cur->out, &wk->tmp);
    else json_to(ev, wk->d->source, &wk->cur->out, &wk->tmp);
    wk->cur->records++;
    return 0;
}

static void *work(void *arg)
{
    worker *wk = arg;
    dump *d = wk->d;
    walk w;
    wh_diag_sink sink = {.fn = qdiag_fn, .ud = wk};
    uint8_t *pad = malloc(EVTX_CHUNK);
    if (!pad || !walk_init(&w, d->e, false, render_one, wk)) {
        free(pad);
        return NULL;
    }
    w.c.diags = &sink;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        while (d->next < d->slots && d->next >= d->written + d->window) pthread_cond_wait(&d->cv, &d->mu);
        uint64_t s = d->next;
        if (s >= d->slots) {
            pthread_mutex_unlock(&d->mu);
            break;
        }
        d->next++;
        wk->cur = &d->jobs[s % d->window];
        wk->cur->state = 1;
        pthread_mutex_unlock(&d->mu);
        slot(&w, s, pad);
        pthread_mutex_lock(&d->mu);
        wk->cur->state = 2;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
    }
    free(pad);
    wh_sbuf_free(&wk->tmp);
    walk_free(&w);
    return NULL;
}

wh_status wh_evtx_dump(wh_evtx *e, bool xml, int threads, FILE *f, unsigned long *records)
{
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    dump d = {.e = e, .xml = xml, .source = e->name, .slots = e->info.chunk_slots};
    d.window = (size_t)threads * 4;
    d.jobs = calloc(d.window, sizeof(job));
    worker *wk = calloc((size_t)threads, sizeof(worker));
    pthread_t *t = calloc((size_t)threads, sizeof(pthread_t));
    if (!d.jobs || !wk || !t) {
        free(d.jobs);
        free(wk);
        free(t);
        return WH_E_NOMEM;
    }
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    int started = 0;
    for (int i = 0; i < threads; i++) {
        wk[i].d = &d;
        if (pthread_create(&t[i], NULL, work, &wk[i]) == 0) started++;
    }
    wh_status st = started ? WH_OK : WH_E_NOMEM;
    unsigned long n = 0;
    // Write chunks in file order as they complete; their diagnostics too.
    for (uint64_t s = 0; s < d.slots && started; s++) {
        if (wh_diag_expired(e->diags, e->name, EVTX_HEADER + s * EVTX_CHUNK)) {
            // Workers end after the chunk in hand; what they made is dropped.
            pthread_mutex_lock(&d.mu);
            d.next = d.slots;
            pthread_cond_broadcast(&d.cv);
            pthread_mutex_unlock(&d.mu);
            break;
        }
        job *j = &d.jobs[s % d.window];
        pthread_mutex_lock(&d.mu);
        while (j->state != 2) pthread_cond_wait(&d.cv, &d.mu);
        pthread_mutex_unlock(&d.mu);
        for (size_t k = 0; k < j->nd; k++) {
            wh_diagf(e->diags, j->d[k].sev, j->d[k].code, e->name, j->d[k].off, "%s", j->d[k].msg ? j->d[k].msg : "?");
            free(j->d[k].msg);
        }
        j->nd = 0;
        if (j->out.n && fwrite(j->out.p, 1, j->out.n, f) != j->out.n) st = WH_E_IO;
        n += j->records;
        j->records = 0;
        wh_sbuf_reset(&j->out);
        pthread_mutex_lock(&d.mu);
        j->state = 0;
        d.written = s + 1;
        pthread_cond_broadcast(&d.cv);
        pthread_mutex_unlock(&d.mu);
        if ((s & 63) == 63) release(e, s + 1);
    }
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    for (size_t k = 0; k < d.window; k++) {
        wh_sbuf_free(&d.jobs[k].out);
        for (size_t m = 0; m < d.jobs[k].nd; m++) free(d.jobs[k].d[m].msg); // left by a stop
        free(d.jobs[k].d);
    }
    pthread_mutex_destroy(&d.mu);
    pthread_cond_destroy(&d.cv);
    free(d.jobs);
    free(wk);
    free(t);
    if (records) *records = n;
    return st;
}

char *wh_evtx_render_json_text(const wh_evtx_event *ev, const char *source)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = wh_memstream(&buf, &n);
    if (!m) return NULL;
    (void)wh_evtx_render_json(ev, source, m);
    if (wh_memstream_close(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

bool wh_evtx_event_full(const wh_evtx_event *ev, wh_evtx_event *full)
{
    wh_sbuf sb = {0};
    bool ok = ev && full && ev_full(ev, full, &sb);
    wh_sbuf_free(&sb);
    return ok;
}
