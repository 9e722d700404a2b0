/* Recovery: objects left in unallocated physical pages (no logical page
 * maps them) and in the slack of allocated pages (bytes no TOC entry or
 * object covers). Instances are found by their leading class-name hash
 * (64 or 32 UTF-16 hex digits) and decoded with that class's layout;
 * class definitions are tried at every offset an intact old TOC names. */
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"

typedef struct carve {
    wh_cim *cim;
    uint32_t *old_logical; /* physical page -> logical page in an older map */
    wh_ptrvec classes, insts;
    wh_strmap seen;      /* dedupe: class/key/ts */
    wh_strmap by_hash;   /* class hash -> cim_classrec * (first found) */
    uint8_t *old_ref;    /* physical pages an older mapping still reaches */
} carve;

static bool hexch(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

static void add_instance(carve *cv, wh_cim_instance *in)
{
    wh_cim *cim = cv->cim;
    char *k = wh_arena_printf(cim->arena, "%s|%s|%llu", in->class_name, in->key ? in->key : "",
                              (unsigned long long)in->ts_written);
    if (!k || wh_strmap_get(&cv->seen, k)) return;
    (void)wh_strmap_put(&cv->seen, k, in);
    (void)wh_ptrvec_push(cim->arena, &cv->insts, in);
}

/* Scans [from, to) of one physical page for instance records. */
static void scan_instances(carve *cv, const uint8_t *pg, uint32_t phys, size_t from, size_t to, const char *why)
{
    wh_cim *cim = cv->cim;
    size_t hl = cim->xp ? 32 : 64;
    size_t need = hl * 2 + 8 + 8 + 4;
    for (size_t o = from; o + need <= to; o++) {
        // Cheap test first: a hex digit followed by a zero byte.
        if (!hexch(pg[o]) || pg[o + 1] != 0) continue;
        size_t i = 1;
        while (i < hl && hexch(pg[o + 2 * i]) && pg[o + 2 * i + 1] == 0) i++;
        if (i < hl) {
            o += 2 * i - 1; // the run broke: resume after it
            continue;
        }
        char h[65];
        for (size_t k = 0; k < hl; k++) h[k] = (char)pg[o + 2 * k];
        h[hl] = 0;
        cim_classrec *c = wh_strmap_get(&cv->by_hash, h);
        if (!c) continue;
        wh_cim_loc loc = {.logical_page = UINT32_MAX, .physical_page = phys, .record_id = 0,
                          .offset = (uint64_t)phys * CIM_PAGE + o, .recovered = true, .recovered_from = why};
        if (cv->old_logical && strcmp(why, "old-mapping") == 0) loc.logical_page = cv->old_logical[phys];
        // An intact TOC in the same page may still name the record.
        if (strcmp(why, "slack") != 0)
            for (uint32_t t = 0; t < CIM_TOC_MAX && (t + 1) * 16 <= o; t++) {
                uint32_t id = wh_get_u32le(pg + 16 * t), off = wh_get_u32le(pg + 16 * t + 4);
                if (id == 0 && off == 0) break;
                if (off == o) loc.record_id = id;
            }
        // The record may not end inside this region: decode what is there.
        wh_cim_instance *in = cim_instance_decode(cim, pg + o, to - o, &loc, c->ns_hash, c->pub.ns, true);
        if (!in) continue;
        // Record size: hash, two FILETIMEs, then the size field counts the rest.
        in->loc.size = (uint32_t)(hl * 2 + 16) + wh_get_u32le(pg + o + hl * 2 + 16);
        // Carved bytes do not say which namespace held them; a system
        // class could have been instantiated in any.
        if (c->ns_hash && cim->sys_ns_hash && strcmp(c->ns_hash, cim->sys_ns_hash) == 0) in->ns = NULL;
        add_instance(cv, in);
        o += need - 1;
    }
}

/* Class definitions at the offsets an (old) TOC in an unallocated page names. */
static void scan_toc_classes(carve *cv, const uint8_t *pg, uint32_t phys, const char *why)
{
    wh_cim *cim = cv->cim;
    for (uint32_t i = 0; i < CIM_TOC_MAX && (i + 1) * 16 <= CIM_PAGE; i++) {
        uint32_t id = wh_get_u32le(pg + 16 * i), off = wh_get_u32le(pg + 16 * i + 4);
        uint32_t size = wh_get_u32le(pg + 16 * i + 8);
        if (id == 0 && off == 0 && size == 0) break;
        if (off < 16 * (i + 1) || off >= CIM_PAGE || size < 16) break; // not a TOC (any more)
        size_t avail = CIM_PAGE - off < size ? CIM_PAGE - off : size;
        const uint8_t *p = pg + off;
        if (avail >= 128 && hexch(p[0]) && p[1] == 0) continue; // an instance: handled by the scan
        wh_cim_loc loc = {.logical_page = UINT32_MAX, .physical_page = phys, .record_id = id, .size = size,
                          .offset = (uint64_t)phys * CIM_PAGE + off, .recovered = true, .recovered_from = why};
        if (cv->old_logical && strcmp(why, "old-mapping") == 0) loc.logical_page = cv->old_logical[phys];
        wh_diag_sink *saved = cim->diags;
        cim->diags = NULL; // a failed guess is not a finding
        cim_classrec *c = cim_class_decode(cim, p, avail, &loc, NULL, NULL);
        cim->diags = saved;
        if (!c || !c->pub.name || !c->pub.defined) continue;
        // The same old definition often survives in several pages: once.
        char *k = wh_arena_printf(cim->arena, "class|%s|%llu", c->pub.name, (unsigned long long)c->pub.defined);
        if (!k || wh_strmap_get(&cv->seen, k)) continue;
        (void)wh_strmap_put(&cv->seen, k, c);
        (void)wh_ptrvec_push(cim->arena, &cv->classes, &c->pub);
    }
}

static void mark(uint8_t *cov, size_t from, size_t to)
{
    for (size_t i = from; i < to && i < CIM_PAGE; i++) cov[i] = 1;
}

size_t cim_slack_regions(const wh_cim *cim, uint32_t logical, uint64_t *carry, uint32_t (*out)[2], size_t max)
{
    uint32_t ph = cim_data_phys(cim, logical);
    const uint8_t *pg = ph == CIM_UNMAPPED ? NULL : cim_data_page(cim, ph);
    if (!pg) {
        *carry = 0;
        return 0;
    }
    uint8_t cov[CIM_PAGE];
    memset(cov, 0, sizeof(cov));
    if (*carry) {
        // Continuation page of an object that started on an earlier page.
        size_t k = *carry > CIM_PAGE ? CIM_PAGE : (size_t)*carry;
        mark(cov, 0, k);
        *carry -= k;
    } else {
        uint32_t i;
        for (i = 0; i < CIM_TOC_MAX && (i + 1) * 16 <= CIM_PAGE; i++) {
            uint32_t id = wh_get_u32le(pg + 16 * i), off = wh_get_u32le(pg + 16 * i + 4);
            uint32_t size = wh_get_u32le(pg + 16 * i + 8);
            if (id == 0 && off == 0 && size == 0) break;
            if (off < CIM_PAGE) mark(cov, off, (uint64_t)off + size > CIM_PAGE ? CIM_PAGE : off + size);
            if ((uint64_t)off + size > CIM_PAGE && (uint64_t)off + size - CIM_PAGE > *carry)
                *carry = (uint64_t)off + size - CIM_PAGE;
        }
        mark(cov, 0, (size_t)(i + 1) * 16);
    }
    size_t n = 0, s = 0;
    while (s < CIM_PAGE) {
        while (s < CIM_PAGE && cov[s]) s++;
        size_t e = s;
        while (e < CIM_PAGE && !cov[e]) e++;
        if (e > s) {
            if (n < max) {
                out[n][0] = (uint32_t)s;
                out[n][1] = (uint32_t)(e - s);
            }
            n++;
        }
        s = e;
    }
    return n < max ? n : max;
}

wh_status wh_cim_recover(wh_cim *cim, const wh_cim_recovered **out)
{
    if (cim->recovered_built) {
        *out = &cim->recovered;
        return WH_OK;
    }
    carve cv = {.cim = cim};
    wh_strmap_init(&cv.seen, cim->arena);
    wh_strmap_init(&cv.by_hash, cim->arena);
    // Every class we know, by hash (namespace of the first one found).
    for (size_t i = 0; i < cim->classes.cap; i++) {
        cim_classrec *c = cim->classes.vals ? cim->classes.vals[i] : NULL;
        if (!cim->classes.keys || !cim->classes.keys[i] || !c || !c->hash) continue;
        cim_class_layout(cim, c);
        if (!wh_strmap_get(&cv.by_hash, c->hash)) (void)wh_strmap_put(&cv.by_hash, c->hash, c);
    }
    uint32_t npages = cim->info.data_pages;
    const cim_section *d = &cim->cur->data;
    uint8_t *alloc = calloc(npages ? npages : 1, 1);
    cv.old_ref = calloc(npages ? npages : 1, 1);
    cv.old_logical = calloc(npages ? npages : 1, sizeof(uint32_t));
    if (!alloc || !cv.old_ref || !cv.old_logical) {
        free(alloc);
        free(cv.old_ref);
        free(cv.old_logical);
        return WH_E_NOMEM;
    }
    for (uint32_t l = 0; l < d->nentries; l++)
        if (d->l2p[l] < npages) alloc[d->l2p[l]] = 1;
    for (size_t m = 0; m < cim->nmaps; m++) {
        const cim_mapfile *mf = &cim->maps[m];
        if (mf == cim->cur || !mf->has_data) continue;
        for (uint32_t l = 0; l < mf->data.nentries; l++)
            if (mf->data.l2p[l] < npages && !cv.old_ref[mf->data.l2p[l]]) {
                cv.old_ref[mf->data.l2p[l]] = 1;
                cv.old_logical[mf->data.l2p[l]] = l;
            }
    }
    // Unallocated pages.
    for (uint32_t ph = 0; ph < npages; ph++) {
        if ((ph & 255) == 0 && wh_diag_expired(cim->diags, cim->objects.path, (uint64_t)ph * CIM_PAGE)) break;
        if (alloc[ph]) continue;
        const uint8_t *pg = cim_data_page(cim, ph);
        const char *why = cv.old_ref[ph] ? "old-mapping" : "unallocated";
        scan_toc_classes(&cv, pg, ph, why);
        scan_instances(&cv, pg, ph, 0, CIM_PAGE, why);
    }
    // Slack of allocated pages: what neither the TOC nor an object covers.
    uint64_t carry = 0;
    uint32_t reg[CIM_PAGE / 16][2];
    for (uint32_t l = 0; l < d->nentries; l++) {
        if ((l & 255) == 0 && wh_diag_expired(cim->diags, cim->objects.path, WH_NO_OFFSET)) break;
        uint32_t ph = d->l2p[l];
        const uint8_t *pg = ph == CIM_UNMAPPED ? NULL : cim_data_page(cim, ph);
        size_t nr = cim_slack_regions(cim, l, &carry, reg, CIM_PAGE / 16);
        for (size_t i = 0; pg && i < nr; i++)
            if (reg[i][1] >= 160) scan_instances(&cv, pg, ph, reg[i][0], reg[i][0] + reg[i][1], "slack");
    }
    free(alloc);
    free(cv.old_ref);
    free(cv.old_logical);
    cv.old_logical = NULL;
    cim->recovered.classes = (const wh_cim_class *const *)wh_arena_calloc(cim->arena, cv.classes.n + 1, sizeof(void *));
    cim->recovered.instances = (const wh_cim_instance *const *)wh_arena_calloc(cim->arena, cv.insts.n + 1, sizeof(void *));
    if (!cim->recovered.classes || !cim->recovered.instances) return WH_E_NOMEM;
    for (size_t i = 0; i < cv.classes.n; i++) ((const wh_cim_class **)cim->recovered.classes)[i] = cv.classes.v[i];
    for (size_t i = 0; i < cv.insts.n; i++) ((const wh_cim_instance **)cim->recovered.instances)[i] = cv.insts.v[i];
    cim->recovered.nclasses = cv.classes.n;
    cim->recovered.ninstances = cv.insts.n;
    cim->recovered_built = true;
    *out = &cim->recovered;
    return WH_OK;
}
