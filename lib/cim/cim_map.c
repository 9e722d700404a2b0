/* Mapping files: logical -> physical page tables for OBJECTS.DATA and
 * INDEX.BTR. v2.2 (Vista+): MAPPING1-3.MAP, each an objects section, an
 * index section and a 4-byte trailer. v2.1 (XP): 16-byte headers, 4-byte
 * entries; MAPPING1/2.MAP (two sections), OBJECTS.MAP and INDEX.MAP (one).
 * See docs/formats/cim.md §2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"

#define MAP_SIG 0x0000ABCDu
#define MAP_FOOTER 0x0000DCBAu
#define V22_HDR 24u
#define V22_ENTRY 24u
#define V21_HDR 16u
#define V21_ENTRY 4u

/* Parses one section at r's position; leaves r after the footer. */
static wh_status parse_section(wh_cim *cim, wh_reader *r, bool xp, cim_section *s, bool quiet)
{
    memset(s, 0, sizeof(*s));
    s->offset = wh_rd_abs(r);
    uint32_t sig = wh_rd_u32(r);
    s->sequence = wh_rd_u32(r);
    if (!xp) {
        s->generation = wh_rd_u32(r);
        (void)wh_rd_u32(r); // generation - 1
    }
    s->physical = wh_rd_u32(r);
    s->nentries = wh_rd_u32(r);
    if (!wh_rd_ok(r)) {
        if (!quiet)
            CIM_DIAG(cim, WH_SEV_ERROR, WH_E_TRUNCATED, r->source, s->offset,
                     "mapping section header is cut short (%zu bytes left)", r->size - (size_t)(s->offset - r->file_off));
        return WH_E_TRUNCATED;
    }
    if (sig != MAP_SIG) {
        if (!quiet)
            CIM_DIAG(cim, WH_SEV_ERROR, WH_E_BADSIG, r->source, s->offset,
                     "mapping section signature is 0x%08X, expected 0x%08X", sig, MAP_SIG);
        return WH_E_BADSIG;
    }
    size_t esz = xp ? V21_ENTRY : V22_ENTRY;
    // Counts are checked against the bytes really there before any allocation.
    if (s->nentries > wh_rd_left(r) / esz || s->physical > WH_LIMIT_CIM_MAX_PAGES) {
        if (!quiet)
            CIM_DIAG(cim, WH_SEV_ERROR, WH_E_CORRUPT, r->source, s->offset,
                     "mapping section claims %u entries / %u pages, more than the file holds",
                     s->nentries, s->physical);
        return WH_E_CORRUPT;
    }
    s->l2p = wh_arena_calloc(cim->arena, s->nentries ? s->nentries : 1, sizeof(uint32_t));
    if (!xp) s->used = wh_arena_calloc(cim->arena, s->nentries ? s->nentries : 1, sizeof(uint32_t));
    if (!s->l2p || (!xp && !s->used)) return WH_E_NOMEM;
    for (uint32_t i = 0; i < s->nentries; i++) {
        uint32_t ph = wh_rd_u32(r);
        s->l2p[i] = ph == CIM_UNMAPPED ? CIM_UNMAPPED : (xp ? ph : (ph & 0x3FFFFFFFu));
        if (!xp) {
            (void)wh_rd_u32(r); // checksum
            (void)wh_rd_u32(r); // free bytes
            s->used[i] = wh_rd_u32(r);
            (void)wh_rd_u32(r); // generation
            (void)wh_rd_u32(r); // id
        }
    }
    s->nfree = wh_rd_u32(r);
    if (!wh_rd_ok(r) || s->nfree > wh_rd_left(r) / 4) {
        if (!quiet)
            CIM_DIAG(cim, WH_SEV_ERROR, WH_E_TRUNCATED, r->source, wh_rd_abs(r),
                     "mapping free list (%u entries) runs past the end of the file", s->nfree);
        return WH_E_TRUNCATED;
    }
    s->freelist = wh_arena_calloc(cim->arena, s->nfree ? s->nfree : 1, sizeof(uint32_t));
    if (!s->freelist) return WH_E_NOMEM;
    for (uint32_t i = 0; i < s->nfree; i++) s->freelist[i] = wh_rd_u32(r);
    uint64_t foot_off = wh_rd_abs(r);
    uint32_t footer = wh_rd_u32(r);
    if (!wh_rd_ok(r)) {
        if (!quiet)
            CIM_DIAG(cim, WH_SEV_ERROR, WH_E_TRUNCATED, r->source, foot_off, "mapping section ends before its footer");
        return WH_E_TRUNCATED;
    }
    if (footer != MAP_FOOTER) {
        if (!quiet)
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_BADSIG, r->source, foot_off,
                     "mapping section footer is 0x%08X, expected 0x%08X", footer, MAP_FOOTER);
        return WH_E_BADSIG;
    }
    return WH_OK;
}

static uint32_t count_unmapped(const cim_section *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nentries; i++) n += s->l2p[i] == CIM_UNMAPPED;
    return n;
}

static void fill_info(cim_mapfile *m)
{
    wh_cim_mapinfo *i = &m->info;
    const cim_section *s = m->has_data ? &m->data : &m->index;
    i->sequence = s->sequence;
    i->generation = s->generation;
    if (m->has_data) {
        i->data_physical = m->data.physical;
        i->data_entries = m->data.nentries;
        i->data_free = m->data.nfree;
        i->data_unmapped = count_unmapped(&m->data);
    }
    if (m->has_index) {
        i->index_physical = m->index.physical;
        i->index_entries = m->index.nentries;
        i->index_free = m->index.nfree;
        i->index_unmapped = count_unmapped(&m->index);
    }
}

/* Reads a whole mapping file. kind: 2 = objects+index, 'o' objects only, 'i' index only. */
static bool load_mapfile(wh_cim *cim, const cim_file *file, int kind, bool xp_hint, cim_mapfile *m)
{
    memset(m, 0, sizeof(*m));
    const wh_mapped f = file->m;
    m->name = wh_arena_strdup(cim->arena, file->name);
    m->info.file = f.path;
    wh_reader r;
    bool ok = false;
    // Try the layout hinted by the folder first, then the other: a parse
    // that lands exactly on both footers decides (file names alone lie).
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        bool xp = attempt == 0 ? xp_hint : !xp_hint;
        bool quiet = true;
        wh_rd_init(&r, f.data, f.size, 0, m->info.file);
        cim_mapfile t = *m;
        wh_status s1 = WH_OK, s2 = WH_OK;
        if (kind == 2 || kind == 'o') {
            s1 = parse_section(cim, &r, xp, &t.data, quiet);
            t.has_data = s1 == WH_OK;
        }
        if (s1 == WH_OK && (kind == 2 || kind == 'i')) {
            s2 = parse_section(cim, &r, xp, &t.index, quiet);
            t.has_index = s2 == WH_OK;
        }
        if (s1 == WH_OK && s2 == WH_OK) {
            t.xp = xp;
            *m = t;
            ok = true;
        } else if (attempt == 1 && t.has_data) {
            // Objects section good, index section damaged: keep what we have.
            t.xp = xp;
            *m = t;
        }
    }
    if (!ok) {
        // Say once what failed, with offsets, in the hinted layout.
        wh_rd_init(&r, f.data, f.size, 0, m->info.file);
        cim_section tmp;
        if (parse_section(cim, &r, xp_hint, &tmp, false) == WH_OK && kind == 2)
            (void)parse_section(cim, &r, xp_hint, &tmp, false);
    }
    m->info.valid = ok;
    fill_info(m);
    return ok || m->has_data;
}

uint32_t cim_data_phys(const wh_cim *cim, uint32_t logical)
{
    if (!cim->cur || !cim->cur->has_data || logical >= cim->cur->data.nentries) return CIM_UNMAPPED;
    return cim->cur->data.l2p[logical];
}

uint32_t cim_index_phys(const wh_cim *cim, uint32_t logical)
{
    if (!cim->cur || !cim->cur->has_index || logical >= cim->cur->index.nentries) return CIM_UNMAPPED;
    return cim->cur->index.l2p[logical];
}

static int mapping_ver(wh_cim *cim)
{
    const cim_file *f = cim_file_get(cim, "MAPPING.VER");
    if (!f) return 0;
    wh_reader r;
    wh_rd_init(&r, f->m.data, f->m.size, 0, f->m.path);
    int v = (int)wh_rd_u32(&r);
    return wh_rd_ok(&r) && v >= 1 && v <= 3 ? v : 0;
}

wh_status cim_maps_open(wh_cim *cim)
{
    int ver = mapping_ver(cim);
    const cim_file *objmap = cim_file_get(cim, "OBJECTS.MAP");
    const cim_file *idxmap = cim_file_get(cim, "INDEX.MAP");
    bool xp_hint = ver != 0 || objmap || idxmap;
    cim->nmaps = 0;
    for (int i = 1; i <= 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "MAPPING%d.MAP", i);
        const cim_file *f = cim_file_get(cim, name);
        if (!f) continue;
        cim_mapfile *m = &cim->maps[cim->nmaps];
        load_mapfile(cim, f, 2, xp_hint, m);
        cim->nmaps++; // listed even when damaged: the analyst sees it was there
    }
    // XP 32-bit keeps the current tables in OBJECTS.MAP + INDEX.MAP as well.
    if (objmap && idxmap) {
        cim_mapfile o, x;
        bool ok_o = load_mapfile(cim, objmap, 'o', true, &o);
        bool ok_i = load_mapfile(cim, idxmap, 'i', true, &x);
        if (ok_o && ok_i && o.has_data && x.has_index) {
            cim_mapfile *m = &cim->maps[cim->nmaps++];
            *m = o;
            m->index = x.index;
            m->has_index = true;
            m->name = "OBJECTS.MAP+INDEX.MAP";
            m->info.file = m->name;
            m->info.valid = o.info.valid && x.info.valid;
            fill_info(m);
        }
    }
    if (cim->nmaps == 0) {
        CIM_DIAG(cim, WH_SEV_ERROR, WH_E_NOTFOUND, cim->dir, WH_NO_OFFSET,
                 "no mapping file (MAPPING1-3.MAP, or OBJECTS.MAP/INDEX.MAP on XP) in this folder; "
                 "the page tables are in them: collect them from the evidence together with OBJECTS.DATA and INDEX.BTR");
        return WH_E_NOTFOUND;
    }
    // Current map: highest sequence; ties go to the higher generation id,
    // then to the file MAPPING.VER names (XP), then to the first file.
    cim_mapfile *best = NULL;
    for (size_t i = 0; i < cim->nmaps; i++) {
        cim_mapfile *m = &cim->maps[i];
        if (!m->has_data || !m->has_index) continue;
        if (!best) { best = m; continue; }
        uint32_t sb = best->info.sequence, sm = m->info.sequence;
        if (sm > sb || (sm == sb && m->info.generation > best->info.generation)) best = m;
        else if (sm == sb && m->info.generation == best->info.generation && ver > 0) {
            char want[32];
            snprintf(want, sizeof(want), "MAPPING%d.MAP", ver % 10);
            if (strcmp(m->name, want) == 0) best = m;
        }
    }
    if (!best) {
        CIM_DIAG(cim, WH_SEV_ERROR, WH_E_CORRUPT, cim->dir, WH_NO_OFFSET,
                 "no mapping file has both an objects and an index section that parse");
        return WH_E_CORRUPT;
    }
    best->info.current = true;
    cim->cur = best;
    cim->xp = best->xp;
    return WH_OK;
}
