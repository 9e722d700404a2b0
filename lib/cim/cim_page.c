/* OBJECTS.DATA: 8 KiB pages. A page that starts objects has a table of
 * contents at offset 0 ({record id, offset, size, checksum} x n, ended by a
 * zero entry); an object larger than the rest of its page continues on the
 * next *logical* pages, each mapped on its own. docs/formats/cim.md §4. */
#include <string.h>

#include "cim/cim_int.h"

#define TOC_ENTRY 16u

const uint8_t *cim_data_page(const wh_cim *cim, uint32_t physical)
{
    if ((uint64_t)physical >= cim->objects.size / CIM_PAGE) return NULL;
    return cim->objects.data + (size_t)physical * CIM_PAGE;
}

/* Page bytes of the n-th logical page after start, or NULL. */
static const uint8_t *logical_page(const wh_cim *cim, uint32_t start, uint32_t n)
{
    if (start > UINT32_MAX - n) return NULL;
    uint32_t ph = cim_data_phys(cim, start + n);
    return ph == CIM_UNMAPPED ? NULL : cim_data_page(cim, ph);
}

/* A u32 at a "virtual" offset: page bytes continue on the next logical pages. */
static bool vread32(const wh_cim *cim, uint32_t page, uint64_t voff, uint32_t *v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) {
        uint64_t o = voff + (uint64_t)i;
        const uint8_t *pg = logical_page(cim, page, (uint32_t)(o / CIM_PAGE));
        if (!pg) return false;
        b[i] = pg[o % CIM_PAGE];
    }
    *v = wh_get_u32le(b);
    return true;
}

const uint8_t *cim_object_get(wh_cim *cim, uint32_t page, uint32_t id, uint32_t size, wh_cim_loc *loc)
{
    return cim_object_read(cim, cim->arena, page, id, size, loc);
}

const uint8_t *cim_object_read(wh_cim *cim, wh_arena *a, uint32_t page, uint32_t id, uint32_t size, wh_cim_loc *loc)
{
    const char *src = cim->objects.path;
    uint32_t phys = cim_data_phys(cim, page);
    const uint8_t *pg = phys == CIM_UNMAPPED ? NULL : cim_data_page(cim, phys);
    if (!pg) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, src, WH_NO_OFFSET,
                 "object %u.%u.%u: data logical page %u is %s", page, id, size, page,
                 phys == CIM_UNMAPPED ? "not mapped" : "past the end of OBJECTS.DATA");
        return NULL;
    }
    uint64_t base = (uint64_t)phys * CIM_PAGE;
    uint32_t off = 0, esize = 0;
    bool found = false;
    for (uint32_t i = 0; i < CIM_TOC_MAX; i++) {
        uint32_t e[3];
        uint64_t vo = (uint64_t)i * TOC_ENTRY;
        if (vo + 12 <= CIM_PAGE) { // the usual case: the entry is on the page itself
            e[0] = wh_get_u32le(pg + vo);
            e[1] = wh_get_u32le(pg + vo + 4);
            e[2] = wh_get_u32le(pg + vo + 8);
        } else if (!vread32(cim, page, vo, &e[0]) || !vread32(cim, page, vo + 4, &e[1]) ||
                   !vread32(cim, page, vo + 8, &e[2])) {
            break;
        }
        if (e[0] == 0 && e[1] == 0 && e[2] == 0) break;
        if (e[0] == id) {
            off = e[1];
            esize = e[2];
            found = true;
            break;
        }
    }
    if (!found) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_NOTFOUND, src, base,
                 "object %u.%u.%u: record id %u is not in the table of contents of logical page %u",
                 page, id, size, id, page);
        return NULL;
    }
    if (size && esize != size)
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, src, base,
                 "object %u.%u.%u: the page's table of contents gives size %u", page, id, size, esize);
    if (esize == 0 || esize > WH_LIMIT_CIM_OBJECT) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, src, base,
                 "object %u.%u.%u: size %u is outside 1..%u; skipped", page, id, size, esize,
                 WH_LIMIT_CIM_OBJECT);
        return NULL;
    }
    if (loc) {
        memset(loc, 0, sizeof(*loc));
        loc->logical_page = page;
        loc->physical_page = phys;
        loc->record_id = id;
        loc->size = esize;
        loc->offset = base + off; // where it starts (it may continue on another page)
    }
    if ((uint64_t)off + esize <= CIM_PAGE) return pg + off;
    // Spans pages: assemble a copy from the following logical pages.
    uint8_t *buf = wh_arena_alloc(a, esize);
    if (!buf) return NULL;
    uint64_t vo = off;
    size_t done = 0;
    while (done < esize) {
        const uint8_t *p = logical_page(cim, page, (uint32_t)(vo / CIM_PAGE));
        if (!p) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_TRUNCATED, src, base + off,
                     "object %u.%u.%u continues on logical page %llu, which is not mapped; "
                     "skipped", page, id, size, (unsigned long long)(page + vo / CIM_PAGE));
            return NULL;
        }
        size_t in = (size_t)(vo % CIM_PAGE);
        size_t k = CIM_PAGE - in;
        if (k > esize - done) k = esize - done;
        memcpy(buf + done, p + in, k);
        done += k;
        vo += k;
    }
    return buf;
}
