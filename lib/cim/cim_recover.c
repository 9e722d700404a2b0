/* Recovery: objects left in unallocated physical pages (no logical page
 * maps them), in pages only an older mapping file reaches, and in the slack
 * of allocated pages (bytes no TOC entry or object covers). Class
 * definitions are read at the offsets an intact old TOC names; instances
 * are found by their leading class-name hash (64 or 32 UTF-16 hex digits)
 * and decoded with every definition of that class (cim_carve.c), keeping
 * one every consistency check holds for. Objects may run over several
 * pages. Byte-identical copies are one object with all their locations;
 * the namespace is stated only on evidence (an index key naming the
 * record, a live twin, the page's other objects). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_carve.h"
#include "core/sort.h"
#include "core/text.h"

static const char AMBIGUOUS[] = "?";

static bool hexch(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

static carve_site site_of(const carve *cv, uint32_t phys, const char *why)
{
    carve_site s = {.phys = phys, .logical = UINT32_MAX, .oldmap = -1, .why = why};
    if (strcmp(why, "old-mapping") == 0) {
        s.logical = cv->old_logical[phys];
        s.oldmap = cv->old_map[phys];
    }
    return s;
}

static wh_cim_loc site_loc(const carve_site *s, uint32_t off)
{
    wh_cim_loc l = {.logical_page = UINT32_MAX, .physical_page = s->phys, .offset = (uint64_t)s->phys * CIM_PAGE + off,
                    .recovered = true, .recovered_from = s->why};
    if (s->oldmap >= 0) l.logical_page = s->logical;
    return l;
}

static bool push_loc(carve *cv, carve_obj *o, const wh_cim_loc *l)
{
    wh_cim_loc *c = wh_arena_alloc(cv->cim->arena, sizeof(*c));
    if (!c) return false;
    *c = *l;
    return wh_ptrvec_push(cv->cim->arena, &o->locs, c) == 0;
}

/* A copy found at l: one more location of an object already known, or a
 * new recovered object (a live object with the same bytes is found after
 * the scans, carve_link_live). Returns the new object, NULL when the copy
 * was only a location. */
static carve_obj *place(carve *cv, const uint8_t **p, size_t n, bool is_class, const wh_cim_loc *l, bool *known)
{
    wh_cim *cim = cv->cim;
    *known = false;
    carve_obj *ex = carve_find(cv, *p, n);
    if (ex) {
        (void)push_loc(cv, ex, l);
        *known = true;
        return NULL;
    }
    // Bytes assembled over pages live in scratch: keep a copy.
    if (*p == cv->scratch) {
        uint8_t *cp = wh_arena_alloc(cim->arena, n);
        if (!cp) return NULL;
        memcpy(cp, *p, n);
        *p = cp;
    }
    carve_obj *o = carve_add(cv, *p, n, is_class);
    if (!o) return NULL;
    (void)push_loc(cv, o, l);
    return o;
}

/* Record id of the object at off in an intact TOC of the page, or 0. */
static uint32_t toc_id(const uint8_t *pg, size_t off)
{
    for (uint32_t t = 0; t < CIM_TOC_MAX && (t + 1) * 16 <= off; t++) {
        uint32_t id = wh_get_u32le(pg + 16 * t), o = wh_get_u32le(pg + 16 * t + 4);
        if (id == 0 && o == 0) break;
        if (o == off) return id;
    }
    return 0;
}

/* Scans [from, to) of one physical page for instance records. */
static void scan_instances(carve *cv, const uint8_t *pg, const carve_site *site, size_t from, size_t to)
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
        uint32_t rest;
        if (!cim_instance_header(cim, pg + o, to - o, h, &rest)) continue;
        wh_ptrvec *cands = carve_cands(cv, h);
        size_t rn = hl * 2 + 16 + (size_t)rest;
        if (!cands || rest < 4 || rn > WH_LIMIT_CIM_OBJECT) continue;
        // In slack the record ends where the region does, unless that is
        // the page's end and the object goes on.
        if (o + rn > to && to < CIM_PAGE) continue;
        wh_cim_loc loc = site_loc(site, (uint32_t)o);
        if (strcmp(site->why, "slack") != 0) loc.record_id = toc_id(pg, o);
        loc.size = (uint32_t)rn;
        const uint8_t *p = carve_bytes(cv, site, (uint32_t)o, rn, &loc.pages);
        if (!p) {
            if (loc.record_id)
                CIM_DIAG(cim, WH_SEV_INFO, WH_E_TRUNCATED, cim->objects.path, loc.offset,
                         "deleted instance record of %zu bytes (record id %u) continues on a page that no "
                         "longer holds it; not recovered", rn, loc.record_id);
            continue;
        }
        wh_ptrvec nsl = {0};
        wh_cim_instance *in = NULL;
        if (!carve_find(cv, p, rn)) { // a copy of one recovered already is only a location
            in = carve_decode_instance(cv, p, rn, &loc, cands, &nsl);
            if (!in) continue;
        }
        bool known, multi = p == cv->scratch;
        carve_obj *ob = place(cv, &p, rn, false, &loc, &known);
        if (ob) {
            if (multi) { // decode again from the kept copy: values point into it
                nsl = (wh_ptrvec){0};
                in = carve_decode_instance(cv, p, rn, &loc, cands, &nsl);
            }
            ob->inst = in;
            ob->nscand = nsl;
            ob->cands = cands;
            if (in) (void)wh_ptrvec_push(cim->arena, &cv->insts, ob);
        }
        if (o + rn <= to) o += rn - 1; // past the record
        else o = to;
    }
}

/* Class definitions at the offsets an (old) TOC in an unallocated page names. */
static void scan_toc_classes(carve *cv, const uint8_t *pg, const carve_site *site)
{
    wh_cim *cim = cv->cim;
    for (uint32_t i = 0; i < CIM_TOC_MAX && (i + 1) * 16 <= CIM_PAGE; i++) {
        uint32_t id = wh_get_u32le(pg + 16 * i), off = wh_get_u32le(pg + 16 * i + 4);
        uint32_t size = wh_get_u32le(pg + 16 * i + 8);
        if (id == 0 && off == 0 && size == 0) break;
        if (off < 16 * (i + 1) || off >= CIM_PAGE || size < 16) break; // not a TOC (any more)
        if (CIM_PAGE - off >= 128 && hexch(pg[off]) && pg[off + 1] == 0) continue; // an instance: the scan's
        wh_cim_loc loc = site_loc(site, off);
        loc.record_id = id;
        loc.size = size;
        if (size > WH_LIMIT_CIM_OBJECT) continue;
        const uint8_t *p = carve_bytes(cv, site, off, size, &loc.pages);
        if (!p) {
            CIM_DIAG(cim, WH_SEV_INFO, WH_E_TRUNCATED, cim->objects.path, loc.offset,
                     "deleted object of %u bytes (record id %u) continues on a page that no longer holds it; "
                     "not recovered", size, id);
            continue;
        }
        cim_classrec *c = NULL;
        if (!carve_find(cv, p, size)) {
            wh_diag_sink *saved = cim->diags;
            cim->diags = NULL; // a failed guess is not a finding
            c = cim_class_decode(cim, p, size, &loc, NULL, NULL);
            cim->diags = saved;
            if (!c || !c->pub.name || !c->pub.defined) continue;
        }
        bool known, multi = p == cv->scratch;
        carve_obj *ob = place(cv, &p, size, true, &loc, &known);
        if (!ob) continue;
        if (multi) {
            wh_diag_sink *saved = cim->diags;
            cim->diags = NULL;
            c = cim_class_decode(cim, p, size, &loc, NULL, NULL);
            cim->diags = saved;
        }
        ob->cls = c;
        if (c) (void)wh_ptrvec_push(cim->arena, &cv->classes, ob);
    }
}

static const char PENDING[] = "";

/* keyref's key for record id of size bytes: "<record id>.<size>". */
static const char *ref_key(char b[32], uint32_t id, uint32_t size)
{
    snprintf(b, 32, "%u.%u", id, size);
    return b;
}

/* "<record id>.<size>" of the recovered locations of objs (from `from` on)
 * -> the namespace hash of the index keys naming that record (AMBIGUOUS
 * when they disagree). Only the references asked for are kept; the keys
 * stream past. A key applied twice leaves its entry as it was. */
static void index_keys(carve *cv, const wh_ptrvec *objs, size_t from)
{
    wh_cim *cim = cv->cim;
    size_t asked = 0;
    for (size_t i = from; i < objs->n; i++) {
        const carve_obj *o = objs->v[i];
        for (size_t k = 0; k < o->locs.n; k++) {
            const wh_cim_loc *l = o->locs.v[k];
            if (!l->record_id) continue;
            char ref[32];
            if (wh_strmap_get(&cv->keyref, ref_key(ref, l->record_id, l->size))) continue;
            char *rk = wh_arena_strdup(cim->arena, ref);
            if (!rk || wh_strmap_put(&cv->keyref, rk, (void *)PENDING)) return;
            asked++;
        }
    }
    if (!asked) return;
    cim_kit it;
    cim_kit_seek(&it, cim, "NS_");
    for (const cim_kref *k; (k = cim_kit_next(&it)) != NULL;) {
        if (strncmp(k->text, "NS_", 3) != 0) break;
        const char *sl = strchr(k->text, '/');
        if (!k->has_ref || !sl) continue;
        char ref[32];
        const char *was = wh_strmap_get(&cv->keyref, ref_key(ref, k->id, k->size));
        if (!was) continue;
        size_t hl = (size_t)(sl - k->text);
        // The first key naming it sets it; another namespace makes it ambiguous.
        if (was == PENDING) {
            char *nh = wh_arena_strndup(cim->arena, k->text, hl);
            if (!nh) return;
            (void)wh_strmap_put(&cv->keyref, ref, nh);
        } else if (was != AMBIGUOUS && (strlen(was) != hl || strncmp(was, k->text, hl) != 0)) {
            (void)wh_strmap_put(&cv->keyref, ref, (void *)AMBIGUOUS);
        }
    }
}

/* Namespace an index key gives one of the object's locations, or NULL. */
static const cim_ns *key_ns(carve *cv, const carve_obj *o)
{
    for (size_t i = 0; i < o->locs.n; i++) {
        const wh_cim_loc *l = o->locs.v[i];
        if (!l->record_id) continue;
        char ref[32];
        const char *nh = wh_strmap_get(&cv->keyref, ref_key(ref, l->record_id, l->size));
        if (nh && nh != AMBIGUOUS && nh != PENDING) return wh_strmap_get(&cv->cim->ns_by_hash, nh);
    }
    return NULL;
}

static bool in_list(const wh_ptrvec *v, const char *ns)
{
    for (size_t i = 0; i < v->n; i++)
        if (wh_strcasecmp(v->v[i], ns) == 0) return true;
    return false;
}

/* Where the object is, and what its bytes say about its namespace. */
typedef struct settled {
    const char *ns, *from;
    size_t ncand;
    const char *const *cand;
    size_t nlocs;
    const wh_cim_loc *locs;
} settled;

static void settle_locs(carve *cv, const carve_obj *o, const wh_cim_loc *live, settled *st)
{
    size_t n = o->locs.n + (live ? 1 : 0);
    wh_cim_loc *ls = wh_arena_calloc(cv->cim->arena, n ? n : 1, sizeof(*ls));
    const char **cs = wh_arena_calloc(cv->cim->arena, o->nscand.n + 1, sizeof(*cs));
    if (!ls || !cs) return;
    for (size_t i = 0; i < o->locs.n; i++) ls[i] = *(const wh_cim_loc *)o->locs.v[i];
    if (live) ls[o->locs.n] = *live;
    for (size_t i = 0; i < o->nscand.n; i++) cs[i] = o->nscand.v[i];
    st->locs = ls;
    st->nlocs = n;
    st->cand = cs;
    st->ncand = o->nscand.n;
}

/* Recovered class definitions: namespace on evidence, candidates (the
 * namespaces defining that class now), a layout (parents looked up in the
 * namespace the evidence or the first candidate gives), and a place among
 * the definitions instances are tried with. */
static void settle_classes(carve *cv)
{
    wh_cim *cim = cv->cim;
    wh_diag_sink *saved = cim->diags;
    cim->diags = NULL;
    for (size_t i = 0; i < cv->classes.n; i++) {
        carve_obj *o = cv->classes.v[i];
        cim_classrec *c = o->cls;
        char h[65];
        cim_hash(c->pub.name, strlen(c->pub.name), cim->xp, h);
        c->hash = wh_arena_strdup(cim->arena, h);
        const char *nsname = NULL, *nshash = NULL, *from = NULL;
        if (o->twin && o->twin->cls) {
            nsname = o->twin->cls->pub.ns;
            nshash = o->twin->cls->ns_hash;
            from = "live-twin";
        } else {
            const cim_ns *kn = key_ns(cv, o);
            if (kn) {
                nsname = kn->name;
                nshash = kn->hash;
                from = "index-key";
            }
        }
        wh_ptrvec *lc = carve_cands(cv, h);
        bool system = false;
        for (size_t k = 0; lc && k < lc->n; k++) {
            const carve_cand *cd = lc->v[k];
            if (cd->recovered) continue;
            if (cd->system) system = true;
            else if (cd->ns && !in_list(&o->nscand, cd->ns))
                (void)wh_ptrvec_push(cim->arena, &o->nscand, (void *)cd->ns);
            if (!nshash) nshash = cd->c->ns_hash;
        }
        if (!nshash && c->pub.super) { // a class no namespace has now: where its parent is
            char sh[65];
            cim_hash(c->pub.super, strlen(c->pub.super), cim->xp, sh);
            wh_ptrvec *pc = carve_cands(cv, sh);
            if (pc && pc->n) nshash = ((const carve_cand *)pc->v[0])->c->ns_hash;
        }
        c->ns_hash = nshash ? nshash : cim->sys_ns_hash;
        if (nsname && strcmp(nsname, "__SystemClass") == 0) nsname = NULL, from = NULL, system = true;
        c->pub.ns = nsname;
        c->pub.ns_from = from;
        cim_class_layout(cim, c);
        settled st = {0};
        // A class's bytes may equal a live instance's (a hostile TOC): no class location then.
        settle_locs(cv, o, o->twin && o->twin->cls ? &o->twin->cls->pub.loc : NULL, &st);
        c->pub.nns_candidates = st.ncand;
        c->pub.ns_candidates = st.cand;
        c->pub.nlocs = st.nlocs;
        c->pub.locs = st.locs;
        c->pub.live_twin = o->twin != NULL;
        if (c->pub.layout_complete) carve_cand_add(cv, h, c, nsname, system, true);
    }
    cim->diags = saved;
}
/* The covered spans of a page as [from, to) intervals, clamped to it. */
typedef struct span { uint32_t from, to; } span;

static void cover(span *v, size_t *n, uint64_t from, uint64_t to)
{
    if (to > CIM_PAGE) to = CIM_PAGE;
    if (from < to) v[(*n)++] = (span){(uint32_t)from, (uint32_t)to};
}

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

size_t cim_slack_regions(const wh_cim *cim, uint32_t logical, uint64_t *carry, uint32_t (*out)[2], size_t max)
{
    uint32_t ph = cim_data_phys(cim, logical);
    const uint8_t *pg = ph == CIM_UNMAPPED ? NULL : cim_data_page(cim, ph);
    if (!pg) {
        *carry = 0;
        return 0;
    }
    // The spans the TOC and its objects cover, sorted; the gaps between
    // them are the slack (a byte map of the page cost a tenth of a hunt).
    span v[CIM_TOC_MAX + 1];
    size_t nv = 0;
    if (*carry) {
        // Continuation page of an object that started on an earlier page.
        size_t k = *carry > CIM_PAGE ? CIM_PAGE : (size_t)*carry;
        cover(v, &nv, 0, k);
        *carry -= k;
    } else {
        uint32_t i;
        for (i = 0; i < CIM_TOC_MAX && (i + 1) * 16 <= CIM_PAGE; i++) {
            uint32_t id = wh_get_u32le(pg + 16 * i), off = wh_get_u32le(pg + 16 * i + 4);
            uint32_t size = wh_get_u32le(pg + 16 * i + 8);
            if (id == 0 && off == 0 && size == 0) break;
            if (off < CIM_PAGE) cover(v, &nv, off, (uint64_t)off + size);
            if ((uint64_t)off + size > CIM_PAGE && (uint64_t)off + size - CIM_PAGE > *carry)
                *carry = (uint64_t)off + size - CIM_PAGE;
        }
        cover(v, &nv, 0, (uint64_t)(i + 1) * 16);
    }
    wh_sort(v, nv, sizeof(v[0]), span_cmp);
    size_t n = 0;
    uint32_t at = 0; // covered up to here
    for (size_t k = 0; k <= nv; k++) {
        uint32_t from = k < nv ? v[k].from : CIM_PAGE;
        if (from > at) {
            if (n < max) {
                out[n][0] = at;
                out[n][1] = from - at;
            }
            n++;
        }
        if (k < nv && v[k].to > at) at = v[k].to;
    }
    return n < max ? n : max;
}

/* Namespace of the page's other objects, from those the evidence placed. */
static void page_namespaces(carve *cv, wh_strmap *pages)
{
    wh_cim *cim = cv->cim;
    for (int pass = 0; pass < 2; pass++) {
        wh_ptrvec *v = pass ? &cv->insts : &cv->classes;
        for (size_t i = 0; i < v->n; i++) {
            const carve_obj *o = v->v[i];
            const char *ns = pass ? o->inst->ns : o->cls->pub.ns;
            if (!ns) continue;
            for (size_t k = 0; k < o->locs.n; k++) {
                const wh_cim_loc *l = o->locs.v[k];
                if (!l->record_id || strcmp(l->recovered_from, "slack") == 0) continue;
                char *pk = wh_arena_printf(cim->arena, "%u", l->physical_page);
                if (!pk) return;
                const char *was = wh_strmap_get(pages, pk);
                (void)wh_strmap_put(pages, pk, (void *)(was && wh_strcasecmp(was, ns) != 0 ? AMBIGUOUS : ns));
            }
        }
    }
}

static void settle_instances(carve *cv)
{
    wh_cim *cim = cv->cim;
    for (size_t i = 0; i < cv->insts.n; i++) {
        carve_obj *o = cv->insts.v[i];
        wh_cim_instance *in = o->inst;
        in->ns = NULL;
        in->ns_from = NULL;
        if (o->twin && o->twin->inst) {
            in->ns = o->twin->inst->ns;
            in->ns_from = "live-twin";
        } else {
            const cim_ns *kn = key_ns(cv, o);
            if (kn && (o->nscand.n == 0 || in_list(&o->nscand, kn->name))) {
                in->ns = kn->name;
                in->ns_from = "index-key";
            }
        }
    }
    wh_strmap pages;
    wh_strmap_init(&pages, cim->arena);
    page_namespaces(cv, &pages);
    wh_diag_sink *saved = cim->diags;
    cim->diags = NULL;
    for (size_t i = 0; i < cv->insts.n; i++) {
        carve_obj *o = cv->insts.v[i];
        wh_cim_instance *in = o->inst;
        for (size_t k = 0; !in->ns && k < o->locs.n; k++) {
            const wh_cim_loc *l = o->locs.v[k];
            if (!l->record_id || strcmp(l->recovered_from, "slack") == 0) continue;
            char pk[16];
            snprintf(pk, sizeof(pk), "%u", l->physical_page);
            const char *pn = wh_strmap_get(&pages, pk);
            if (pn && pn != AMBIGUOUS && in_list(&o->nscand, pn)) {
                in->ns = pn;
                in->ns_from = "page-toc";
            }
        }
        // Known namespace: its own definition decodes the values.
        for (size_t k = 0; in->ns && o->cands && k < o->cands->n; k++) {
            const carve_cand *cd = o->cands->v[k];
            if (!cd->ns || wh_strcasecmp(cd->ns, in->ns) != 0 || &cd->c->pub == in->cls) continue;
            bool valid = false;
            wh_cim_instance *again = cim_instance_decode_as(cim, o->bytes, o->n, &in->loc, cd->c, in->ns, true, &valid);
            if (again && valid) {
                again->ns_from = in->ns_from;
                o->inst = in = again;
            }
            break;
        }
        settled st = {0};
        settle_locs(cv, o, o->twin && o->twin->inst ? &o->twin->inst->loc : NULL, &st);
        in->nns_candidates = st.ncand;
        in->ns_candidates = st.cand;
        in->nlocs = st.nlocs;
        in->locs = st.locs;
        in->live_twin = o->twin != NULL;
    }
    cim->diags = saved;
}

wh_status wh_cim_recover(wh_cim *cim, const wh_cim_recovered **out)
{
    if (cim->recovered_built) {
        *out = &cim->recovered;
        return WH_OK;
    }
    // Live objects are told apart from deleted copies: every one is read
    // (and diagnosed) first, in the full reader's order.
    cim_load_all(cim, false);
    carve cv = {.cim = cim};
    wh_strmap_init(&cv.cands, cim->arena);
    wh_strmap_init(&cv.objs, cim->arena);
    wh_strmap_init(&cv.sizes, cim->arena);
    wh_strmap_init(&cv.keyref, cim->arena);
    uint32_t npages = cim->info.data_pages;
    cv.npages = npages;
    const cim_section *d = &cim->cur->data;
    cv.alloc = calloc(npages ? npages : 1, 1);
    cv.old_map = malloc(npages ? npages : 1);
    cv.old_logical = calloc(npages ? npages : 1, sizeof(uint32_t));
    if (!cv.alloc || !cv.old_map || !cv.old_logical) {
        free(cv.alloc);
        free(cv.old_map);
        free(cv.old_logical);
        return WH_E_NOMEM;
    }
    memset(cv.old_map, 0xFF, npages ? npages : 1);
    for (uint32_t l = 0; l < d->nentries; l++)
        if (d->l2p[l] < npages) cv.alloc[d->l2p[l]] = 1;
    for (size_t m = 0; m < cim->nmaps; m++) {
        const cim_mapfile *mf = &cim->maps[m];
        if (mf == cim->cur || !mf->has_data) continue;
        for (uint32_t l = 0; l < mf->data.nentries; l++) {
            uint32_t ph = mf->data.l2p[l];
            if (ph < npages && cv.old_map[ph] < 0) {
                cv.old_map[ph] = (int8_t)m;
                cv.old_logical[ph] = l;
            }
        }
    }
    (void)carve_cands_live(&cv);
    // Class definitions first: instances are tried with them too.
    for (uint32_t ph = 0; ph < npages; ph++) {
        if ((ph & 255) == 0 && wh_diag_expired(cim->diags, cim->objects.path, (uint64_t)ph * CIM_PAGE)) break;
        if (cv.alloc[ph]) continue;
        carve_site s = site_of(&cv, ph, cv.old_map[ph] >= 0 ? "old-mapping" : "unallocated");
        scan_toc_classes(&cv, cim_data_page(cim, ph), &s);
    }
    carve_link_live(&cv, 0);
    index_keys(&cv, &cv.classes, 0);
    settle_classes(&cv);
    size_t nrec = cv.recs.n;
    for (uint32_t ph = 0; ph < npages; ph++) {
        if ((ph & 255) == 0 && wh_diag_expired(cim->diags, cim->objects.path, (uint64_t)ph * CIM_PAGE)) break;
        if (cv.alloc[ph]) continue;
        carve_site s = site_of(&cv, ph, cv.old_map[ph] >= 0 ? "old-mapping" : "unallocated");
        scan_instances(&cv, cim_data_page(cim, ph), &s, 0, CIM_PAGE);
    }
    // Slack of allocated pages: what neither the TOC nor an object covers.
    uint64_t carry = 0;
    uint32_t reg[CIM_PAGE / 16][2];
    for (uint32_t l = 0; l < d->nentries; l++) {
        if ((l & 255) == 0 && wh_diag_expired(cim->diags, cim->objects.path, WH_NO_OFFSET)) break;
        uint32_t ph = d->l2p[l];
        const uint8_t *pg = ph == CIM_UNMAPPED ? NULL : cim_data_page(cim, ph);
        size_t nr = cim_slack_regions(cim, l, &carry, reg, CIM_PAGE / 16);
        carve_site s = {.phys = ph, .logical = l, .oldmap = -1, .why = "slack"};
        for (size_t i = 0; pg && i < nr; i++)
            if (reg[i][1] >= 160) scan_instances(&cv, pg, &s, reg[i][0], reg[i][0] + reg[i][1]);
    }
    free(cv.alloc);
    free(cv.old_map);
    free(cv.old_logical);
    free(cv.scratch);
    carve_link_live(&cv, nrec);
    index_keys(&cv, &cv.insts, 0);
    settle_instances(&cv);
    const wh_cim_class **cl = wh_arena_calloc(cim->arena, cv.classes.n + 1, sizeof(void *));
    const wh_cim_instance **il = wh_arena_calloc(cim->arena, cv.insts.n + 1, sizeof(void *));
    if (!cl || !il) return WH_E_NOMEM;
    for (size_t i = 0; i < cv.classes.n; i++) cl[i] = &((carve_obj *)cv.classes.v[i])->cls->pub;
    for (size_t i = 0; i < cv.insts.n; i++) il[i] = ((carve_obj *)cv.insts.v[i])->inst;
    cim->recovered.classes = cl;
    cim->recovered.instances = il;
    cim->recovered.nclasses = cv.classes.n;
    cim->recovered.ninstances = cv.insts.n;
    cim->recovered_built = true;
    *out = &cim->recovered;
    return WH_OK;
}
