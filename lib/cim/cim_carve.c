/* Recovery, the object side: which class definitions an instance may have
 * been written with (every namespace's, and recovered ones), its bytes when
 * it runs over several pages, and byte identity between copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_carve.h"
#include "core/text.h"

void carve_cand_add(carve *cv, const char *hash, cim_classrec *c, const char *ns, bool system, bool recovered)
{
    wh_cim *cim = cv->cim;
    if (!hash || !c) return;
    wh_ptrvec *v = wh_strmap_get(&cv->cands, hash);
    if (!v) {
        v = wh_arena_calloc(cim->arena, 1, sizeof(*v));
        char *k = wh_arena_strdup(cim->arena, hash);
        if (!v || !k || wh_strmap_put(&cv->cands, k, v)) return;
    }
    for (size_t i = 0; i < v->n; i++)
        if (((carve_cand *)v->v[i])->c == c) return;
    carve_cand *cd = wh_arena_calloc(cim->arena, 1, sizeof(*cd));
    if (!cd) return;
    *cd = (carve_cand){c, ns, system, recovered};
    (void)wh_ptrvec_push(cim->arena, v, cd);
}

wh_ptrvec *carve_cands(carve *cv, const char *hash) { return wh_strmap_get(&cv->cands, hash); }

bool carve_cands_live(carve *cv)
{
    wh_cim *cim = cv->cim;
    for (size_t i = 0; i < cim->nss.n; i++) {
        const cim_ns *ns = cim->nss.v[i];
        bool sys = cim->sys_ns_hash && strcmp(ns->hash, cim->sys_ns_hash) == 0;
        for (size_t k = 0; k < ns->nclasses; k++) {
            cim_classrec *c = (cim_classrec *)ns->classes[k];
            if (!c->hash) continue;
            cim_class_layout(cim, c);
            carve_cand_add(cv, c->hash, c, sys ? NULL : ns->name, sys, false);
        }
    }
    return !wh_arena_hit_cap(cim->arena);
}

/* Physical page holding the k-th page of an object that starts on site. */
static uint32_t next_phys(const carve *cv, const carve_site *s, uint32_t k)
{
    const wh_cim *cim = cv->cim;
    uint32_t ph = CIM_UNMAPPED;
    if (s->oldmap >= 0 && s->logical != UINT32_MAX) {
        const cim_section *sec = &cim->maps[s->oldmap].data;
        if (s->logical <= UINT32_MAX - k && s->logical + k < sec->nentries) ph = sec->l2p[s->logical + k];
    } else if (strcmp(s->why, "slack") == 0) {
        if (s->logical <= UINT32_MAX - k) ph = cim_data_phys(cim, s->logical + k);
    } else if (s->phys <= UINT32_MAX - k) {
        // No map reaches the page any more: Windows grows OBJECTS.DATA page
        // by page, so a continuation that was never reused follows it.
        ph = s->phys + k;
        if (ph < cv->npages && cv->alloc[ph]) ph = CIM_UNMAPPED;
    }
    return ph < cv->npages ? ph : CIM_UNMAPPED;
}

const uint8_t *carve_bytes(carve *cv, const carve_site *s, uint32_t off, size_t n, uint32_t *pages)
{
    const uint8_t *pg = cim_data_page(cv->cim, s->phys);
    *pages = 0;
    if (!pg || off >= CIM_PAGE || n == 0) return NULL;
    if ((uint64_t)off + n <= CIM_PAGE) {
        *pages = 1;
        return pg + off;
    }
    if (n > WH_LIMIT_CIM_OBJECT) return NULL;
    if (n > cv->scratch_cap) {
        uint8_t *nb = realloc(cv->scratch, n);
        if (!nb) return NULL;
        cv->scratch = nb;
        cv->scratch_cap = n;
    }
    size_t done = CIM_PAGE - off;
    memcpy(cv->scratch, pg + off, done);
    uint32_t k = 1;
    while (done < n) {
        uint32_t ph = next_phys(cv, s, k);
        const uint8_t *q = ph == CIM_UNMAPPED ? NULL : cim_data_page(cv->cim, ph);
        if (!q) return NULL;
        size_t m = n - done < CIM_PAGE ? n - done : CIM_PAGE;
        memcpy(cv->scratch + done, q, m);
        done += m;
        k++;
    }
    *pages = k;
    return cv->scratch;
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static char *obj_key(wh_arena *a, const uint8_t *p, size_t n)
{
    return wh_arena_printf(a, "%016llx:%zu", (unsigned long long)fnv64(p, n), n);
}

/* n in decimal (snprintf costs a thousand instructions a call here). */
static char *size_key(char k[24], size_t n)
{
    char *e = k + 23;
    *e = 0;
    do {
        *--e = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    return e;
}

carve_obj *carve_find(carve *cv, const uint8_t *p, size_t n)
{
    char k[64];
    // Only bytes of a length something recovered has can be one of them:
    // hashing every candidate's and live object's bytes was a sixteenth of a hunt.
    if (!wh_strmap_get(&cv->sizes, size_key(k, n))) return NULL;
    snprintf(k, sizeof(k), "%016llx:%zu", (unsigned long long)fnv64(p, n), n);
    for (carve_obj *o = wh_strmap_get(&cv->objs, k); o; o = o->next)
        if (o->n == n && memcmp(o->bytes, p, n) == 0) return o;
    return NULL;
}

carve_obj *carve_add(carve *cv, const uint8_t *p, size_t n, bool is_class)
{
    wh_cim *cim = cv->cim;
    carve_obj *o = wh_arena_calloc(cim->arena, 1, sizeof(*o));
    char *k = obj_key(cim->arena, p, n);
    if (!o || !k) return NULL;
    o->bytes = p;
    o->n = n;
    o->is_class = is_class;
    o->rec = cv->recs.n;
    o->next = wh_strmap_get(&cv->objs, k);
    char sb[24];
    char *sk = wh_arena_strdup(cim->arena, size_key(sb, n));
    if (!sk || wh_strmap_put(&cv->sizes, sk, o) || wh_strmap_put(&cv->objs, k, o) ||
        wh_ptrvec_push(cim->arena, &cv->recs, o))
        return NULL;
    return o;
}

/* Bytes of a live object as the index reaches them (an instance: its
 * record, which is what a carved copy is measured as); a record over
 * several pages is assembled in a. */
static const uint8_t *live_bytes(wh_cim *cim, wh_arena *a, uint32_t page, uint32_t id, uint32_t size, bool inst,
                                 size_t *n, wh_cim_loc *loc)
{
    const uint8_t *p = cim_object_read(cim, a, page, id, size, loc);
    if (!p) return NULL;
    *n = loc->size;
    char hash[65];
    uint32_t rest;
    if (inst && cim_instance_header(cim, p, loc->size, hash, &rest)) {
        size_t rn = (size_t)(cim->xp ? 64 : 128) + 16 + rest;
        if (rn <= loc->size) *n = rn;
    }
    return p;
}

/* The recovered object (from `from` on) with these bytes, or NULL
 * (carve_find hashes only bytes of a length something recovered has). */
static carve_obj *rec_match(carve *cv, size_t from, const uint8_t *p, size_t n)
{
    carve_obj *o = p ? carve_find(cv, p, n) : NULL;
    return o && o->rec >= from ? o : NULL;
}

/* Makes live object l (allocated here) the twin of recovered r. Every
 * live object is visited in order and a later one replaces an earlier:
 * the one an index of all live objects (newest first in a chain) found. */
static void twin(carve *cv, carve_obj *r, cim_classrec *cls, wh_cim_instance *inst)
{
    carve_obj *l = wh_arena_calloc(cv->cim->arena, 1, sizeof(*l));
    if (!l) return;
    l->live = true;
    l->is_class = cls != NULL;
    l->cls = cls;
    l->inst = inst;
    l->twin = r;
    r->twin = l;
}

void carve_link_live(carve *cv, size_t from)
{
    wh_cim *cim = cv->cim;
    if (from >= cv->recs.n) return;
    wh_diag_sink *saved = cim->diags;
    cim->diags = NULL; // read once already, and diagnosed then
    for (size_t i = 0; i < cim->nss.n; i++) {
        cim_ns *ns = cim->nss.v[i];
        for (size_t k = 0; k < ns->nclasses; k++) {
            cim_classrec *c = (cim_classrec *)ns->classes[k];
            const wh_cim_loc *l = &c->pub.loc;
            size_t n = 0;
            wh_cim_loc loc;
            const uint8_t *p = live_bytes(cim, cim->tmp, l->logical_page, l->record_id, l->size, false, &n, &loc);
            carve_obj *r = rec_match(cv, from, p, n);
            if (r) twin(cv, r, c, NULL);
            wh_arena_reset(cim->tmp);
        }
        // A live instance counts once it decoded (the full walk did that
        // already); only one whose bytes were recovered is decoded again,
        // for its namespace and location.
        cim_iwalk w;
        if (!cim_iwalk_start(cim, ns, &w)) continue;
        for (cim_iref *ir; (ir = cim_iwalk_next(&w)) != NULL;) {
            if (ir->state == CIM_IREF_BAD) continue;
            size_t n = 0;
            wh_cim_loc loc;
            const uint8_t *p = live_bytes(cim, cim->tmp, ir->page, ir->id, ir->size, true, &n, &loc);
            carve_obj *r = rec_match(cv, from, p, n);
            const wh_cim_instance *in = r ? cim_iref_decode(cim, ns, ir, cim->tmp) : NULL;
            wh_cim_instance *live = (wh_cim_instance *)ir->in;
            if (in && !live && (live = wh_arena_calloc(cim->arena, 1, sizeof(*live))) != NULL) {
                live->ns = in->ns;
                live->loc = in->loc;
            }
            if (in && live) twin(cv, r, NULL, live);
            wh_arena_reset(cim->tmp);
        }
        cim_iwalk_end(&w);
    }
    cim->diags = saved;
}

static void add_name(wh_arena *a, wh_ptrvec *v, const char *ns)
{
    if (!ns) return;
    for (size_t i = 0; i < v->n; i++)
        if (wh_strcasecmp(v->v[i], ns) == 0) return;
    (void)wh_ptrvec_push(a, v, (void *)ns);
}

wh_cim_instance *carve_decode_instance(carve *cv, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                                       wh_ptrvec *cands, wh_ptrvec *nsout)
{
    wh_cim *cim = cv->cim;
    wh_diag_sink *saved = cim->diags;
    cim->diags = NULL; // a layout that does not fit is not a finding
    wh_cim_instance *best = NULL;
    for (size_t i = 0; cands && i < cands->n; i++) {
        const carve_cand *cd = cands->v[i];
        if (cd->c->layout_state != 2 && !cim_class_layout(cim, cd->c)) continue;
        if (!cd->c->pub.layout_complete) continue;
        bool valid = false;
        wh_cim_instance *in = cim_instance_decode_as(cim, p, n, loc, cd->c, cd->ns, true, &valid);
        if (!in || !valid) continue;
        if (!best) best = in;
        if (cd->system) continue;
        if (cd->ns) add_name(cim->arena, nsout, cd->ns);
        else if (cd->c->pub.ns) add_name(cim->arena, nsout, cd->c->pub.ns);
        else
            for (size_t k = 0; k < cd->c->pub.nns_candidates; k++) add_name(cim->arena, nsout, cd->c->pub.ns_candidates[k]);
    }
    cim->diags = saved;
    return best;
}
