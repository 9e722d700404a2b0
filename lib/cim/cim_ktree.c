/* INDEX.BTR read in place. An index page is read by its layout
 * (cim_ipage_open) and one key at a time (cim_ipage_key); the walk at open
 * (cim_index.c) and the key iterator share them. When the tree is sound
 * (every page reached once and whole, every key readable, the keys in tree
 * order strictly ascending: what Windows writes) its tree order is the
 * sorted distinct key list the reader would build, so no list is built:
 * an iterator descends to a prefix and walks on in tree order, holding one
 * frame per level. Any other tree is walked, collected and sorted as
 * before (cim_index.c). */
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"

#define PAGE_ACTIVE 0xACCCu

static const uint8_t *index_page(const wh_cim *cim, uint32_t phys)
{
    if ((uint64_t)phys >= cim->index.size / CIM_PAGE) return NULL;
    return cim->index.data + (size_t)phys * CIM_PAGE;
}

cim_ipage_st cim_ipage_open(const wh_cim *cim, uint32_t logical, cim_ipage *p)
{
    memset(p, 0, sizeof(*p));
    p->logical = logical;
    p->phys = cim_index_phys(cim, logical);
    p->pg = p->phys == CIM_UNMAPPED ? NULL : index_page(cim, p->phys);
    if (!p->pg) return p->phys == CIM_UNMAPPED ? CIM_IPAGE_UNMAPPED : CIM_IPAGE_PAST_END;
    p->base = (uint64_t)p->phys * CIM_PAGE;
    p->xp_kids = cim->xp || (cim->flags & WH_CIM_OPT_REFERENCE_WALK);
    wh_reader r;
    wh_rd_init(&r, p->pg, CIM_PAGE, p->base, cim->index.path);
    p->sig = wh_rd_u32(&r);
    p->lid = wh_rd_u32(&r);
    wh_rd_skip(&r, 8);
    if (p->sig != PAGE_ACTIVE) return CIM_IPAGE_BADSIG;
    p->n = wh_rd_u32(&r);
    if (p->n > WH_LIMIT_CIM_KEYS_PAGE) return CIM_IPAGE_LIMIT;
    wh_rd_skip(&r, (size_t)p->n * 4);
    p->kids_pos = r.pos;
    // One read per child, as the failure offset says where the first fell short.
    for (uint32_t i = 0; i <= p->n; i++) (void)wh_rd_u32(&r);
    p->keyidx_pos = r.pos;
    wh_rd_skip(&r, (size_t)p->n * 2);
    p->s = wh_rd_u16(&r);
    p->kdef_pos = r.pos;
    wh_rd_skip(&r, (size_t)p->s * 2);
    p->m = wh_rd_u16(&r);
    p->soff_pos = r.pos;
    wh_rd_skip(&r, ((size_t)p->m + 1) * 2);
    p->area = r.pos;
    if (!wh_rd_ok(&r)) {
        p->fail_abs = wh_rd_fail_abs(&r);
        return CIM_IPAGE_TRUNCATED;
    }
    return CIM_IPAGE_OK;
}

uint32_t cim_ipage_kid(const cim_ipage *p, uint32_t j)
{
    if (!p->pg || j > p->n) return CIM_UNMAPPED;
    wh_reader r;
    wh_rd_init(&r, p->pg, CIM_PAGE, p->base, "-");
    uint32_t c;
    if (!wh_rd_u32_at(&r, p->kids_pos + 4 * (size_t)j, &c)) return CIM_UNMAPPED;
    // "No child" is 0xFFFFFFFF on Vista+, where logical page 0 is an
    // ordinary tree page (fox-it's last leaf is page 0, reached only as
    // the last child of page 1). XP leaves say 0: page 0 is its admin page.
    bool none = c == CIM_UNMAPPED || (c == 0 && p->xp_kids);
    return none ? CIM_UNMAPPED : c;
}

cim_ipage_st cim_ipage_key(const cim_ipage *p, uint32_t i, char *buf, size_t *len, uint16_t *pstart, uint16_t *np,
                           const char **last)
{
    wh_reader r;
    wh_rd_init(&r, p->pg, CIM_PAGE, p->base, "-");
    uint16_t kd, cnt;
    if (!wh_rd_u16_at(&r, p->keyidx_pos + 2 * (size_t)i, &kd) || kd >= p->s ||
        !wh_rd_u16_at(&r, p->kdef_pos + 2 * (size_t)kd, &cnt) || cnt == 0 || cnt > p->s - kd - 1u)
        return CIM_IPAGE_BADDEF;
    size_t n = 0;
    *np = 0;
    *last = NULL;
    for (uint16_t j = 0; j < cnt; j++) {
        uint16_t seg, off;
        if (!wh_rd_u16_at(&r, p->kdef_pos + 2 * ((size_t)kd + 1 + j), &seg) || seg >= p->m ||
            !wh_rd_u16_at(&r, p->soff_pos + 2 * (size_t)seg, &off) || off >= CIM_PAGE - p->area)
            return CIM_IPAGE_OUTSIDE;
        const char *str = (const char *)p->pg + p->area + off;
        size_t maxl = CIM_PAGE - p->area - off;
        size_t sl = strnlen(str, maxl);
        if (sl == maxl || n + sl + 2 > CIM_KEY_MAX) return CIM_IPAGE_OUTSIDE;
        if (j) buf[n++] = '/';
        *last = buf + n;
        pstart[(*np)++] = (uint16_t)n;
        memcpy(buf + n, str, sl);
        n += sl;
    }
    buf[n] = 0;
    *len = n;
    return CIM_IPAGE_OK;
}

bool cim_key_parse_ref(const char *last, cim_key *k, const char **tail)
{
    // "NAME.page.id.size": the three numbers after the last three dots.
    const char *dots[3];
    int nd = 0;
    for (const char *p = last + strlen(last); p > last && nd < 3; p--)
        if (p[-1] == '.') dots[nd++] = p - 1;
    if (nd < 3) return false;
    uint64_t v[3];
    for (int i = 0; i < 3; i++) {
        const char *s = dots[2 - i] + 1;
        if (*s < '0' || *s > '9') return false;
        uint64_t x = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            x = x * 10 + (uint64_t)(*s - '0');
            if (x > 0xFFFFFFFFu) return false;
        }
        if (*s != '.' && *s != 0) return false;
        v[i] = x;
    }
    k->page = (uint32_t)v[0];
    k->id = (uint32_t)v[1];
    k->size = (uint32_t)v[2];
    k->has_ref = true;
    *tail = dots[2];
    return true;
}

/* Key i of p as an iterator yields it (text in buf); false when unreadable. */
static bool ipage_kref(const cim_ipage *p, uint32_t i, char *buf, cim_kref *out)
{
    size_t len;
    uint16_t pstart[CIM_KEY_MAX], np;
    const char *last, *tail;
    if (cim_ipage_key(p, i, buf, &len, pstart, &np, &last) != CIM_IPAGE_OK) return false;
    cim_key k = {0};
    (void)cim_key_parse_ref(last, &k, &tail);
    *out = (cim_kref){buf, k.page, k.id, k.size, p->logical, k.has_ref};
    return true;
}

/* The silent walk that decides whether the tree is sound. */
typedef struct probe {
    const wh_cim *cim;
    uint8_t *seen;
    uint32_t nlogical, pages, maxdepth;
    size_t nkeys, nref;
    bool bad;
    char prev[CIM_KEY_MAX], cur[CIM_KEY_MAX];
} probe;

static void probe_visit(probe *pr, uint32_t logical, uint32_t depth)
{
    // Anything the collecting walk would say (a page missing, reached
    // twice, too deep, misnumbered, a key unreadable) makes it unsound.
    if (pr->bad || logical >= pr->nlogical || pr->seen[logical] || depth > WH_LIMIT_CIM_TREE_DEPTH) {
        pr->bad = true;
        return;
    }
    // Out of time: said here, where the collecting walk says it, which
    // then stops at once (the budget is spent).
    if (wh_diag_expired(pr->cim->diags, pr->cim->index.path, WH_NO_OFFSET)) {
        pr->bad = true;
        return;
    }
    pr->seen[logical] = 1;
    pr->pages++;
    if (depth > pr->maxdepth) pr->maxdepth = depth;
    cim_ipage p;
    if (cim_ipage_open(pr->cim, logical, &p) != CIM_IPAGE_OK || p.lid != logical) {
        pr->bad = true;
        return;
    }
    for (uint32_t j = 0; j <= p.n && !pr->bad; j++) {
        uint32_t kid = cim_ipage_kid(&p, j);
        if (kid != CIM_UNMAPPED) probe_visit(pr, kid, depth + 1);
        if (j == p.n || pr->bad) continue;
        cim_kref k;
        if (!ipage_kref(&p, j, pr->cur, &k) || (pr->nkeys && strcmp(pr->prev, pr->cur) >= 0)) {
            pr->bad = true;
            return;
        }
        memcpy(pr->prev, pr->cur, strlen(pr->cur) + 1);
        pr->nkeys++;
        pr->nref += k.has_ref;
    }
}

wh_status cim_ktree_probe(wh_cim *cim, uint32_t root, uint32_t nlogical, bool *sound)
{
    *sound = false;
    probe *pr = calloc(1, sizeof(*pr));
    uint8_t *seen = calloc(nlogical ? nlogical : 1, 1);
    if (!pr || !seen) {
        free(pr);
        free(seen);
        return WH_E_NOMEM;
    }
    pr->cim = cim;
    pr->seen = seen;
    pr->nlogical = nlogical;
    probe_visit(pr, root, 0);
    if (!pr->bad) {
        *sound = true;
        cim->ktree = true;
        cim->kroot = root;
        cim->nkeys = pr->nkeys;
        cim->info.keys = pr->nkeys;
        cim->info.keys_with_data = pr->nref;
        cim->info.index_tree_pages = pr->pages;
        cim->info.index_depth = pr->maxdepth;
    }
    free(seen);
    free(pr);
    return WH_OK;
}

/* Tree mode: frame d is page st[d].p, about to finish child st[d].j (its
 * subtree not entered yet when !st[d].entered) and then yield key j. */
static void kit_push(cim_kit *it, uint32_t logical)
{
    if (it->depth >= CIM_KIT_FRAMES) return; // the probe bounded the depth; this is a guard
    cim_kit_frame *f = &it->st[it->depth];
    if (cim_ipage_open(it->cim, logical, &f->p) != CIM_IPAGE_OK) return;
    f->j = 0;
    f->entered = false;
    it->depth++;
}

/* First key index of p whose text is >= prefix (keys of a page ascend). */
static uint32_t ipage_lower(const cim_ipage *p, const char *prefix, char *buf)
{
    // The text alone is compared: its data reference is not parsed here.
    uint32_t lo = 0, hi = p->n;
    size_t len;
    uint16_t pstart[CIM_KEY_MAX], np;
    const char *last;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cim_ipage_key(p, mid, buf, &len, pstart, &np, &last) == CIM_IPAGE_OK && strcmp(buf, prefix) < 0)
            lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void cim_kit_seek(cim_kit *it, const wh_cim *cim, const char *prefix)
{
    it->cim = cim;
    it->depth = 0;
    if (!cim->ktree) {
        it->i = cim_keys_lower(cim, prefix);
        return;
    }
    // Down from the root: at each page, the child before the first key
    // >= prefix holds whatever lies between the keys before it and that one.
    for (uint32_t logical = cim->kroot; logical != CIM_UNMAPPED;) {
        uint32_t d = it->depth;
        kit_push(it, logical);
        if (it->depth == d) break;
        cim_kit_frame *f = &it->st[d];
        f->j = ipage_lower(&f->p, prefix, it->buf);
        f->entered = true;
        logical = cim_ipage_kid(&f->p, f->j);
    }
    if (it->depth) it->st[it->depth - 1].entered = true;
}

const cim_kref *cim_kit_next(cim_kit *it)
{
    const wh_cim *cim = it->cim;
    if (!cim->ktree) {
        if (it->i >= cim->nkeys) return NULL;
        const cim_key *k = &cim->keys[it->i++];
        it->cur = (cim_kref){cim_key_text(cim, k, it->buf), k->page, k->id, k->size, k->index_page, k->has_ref};
        return &it->cur;
    }
    while (it->depth) {
        cim_kit_frame *f = &it->st[it->depth - 1];
        if (!f->entered) {
            f->entered = true;
            uint32_t kid = cim_ipage_kid(&f->p, f->j);
            if (kid != CIM_UNMAPPED) kit_push(it, kid);
            continue;
        }
        if (f->j < f->p.n) {
            uint32_t j = f->j++;
            f->entered = false;
            if (ipage_kref(&f->p, j, it->buf, &it->cur)) return &it->cur;
            continue; // the probe read every key; a guard
        }
        it->depth--;
    }
    return NULL;
}
