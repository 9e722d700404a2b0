/* INDEX.BTR: a B-tree of key strings over 8 KiB pages addressed through
 * the index mapping. We walk it once from the root and keep every key in
 * one sorted array (prefix lookups on the tree return duplicates, see
 * docs/formats/cim.md §3). Keys are collected in tree order (child i, then
 * key i), which for a sound tree is already sorted: the sort then only
 * checks it. */
#include <stdlib.h>
#include <string.h>

#include "core/sort.h"
#include "cim/cim_int.h"

#define PAGE_ACTIVE 0xACCCu
#define PAGE_ADMIN 0xADDDu
#define HDR 16u

/* A key as the walk finds it: seq is the order pages are read in (which
 * copy of a duplicate is kept), slot its place among its page's children. */
typedef struct wkey {
    cim_key k;
    size_t seq;
    uint32_t slot;
} wkey;

typedef struct walk {
    wh_cim *cim;
    uint8_t *seen;       /* per logical page */
    uint32_t nlogical;
    wh_ptrvec keys;      /* wkey *, in the order pages are read */
    wh_ptrvec order;     /* the same, in tree order */
    uint32_t pages, maxdepth;
} walk;

static const uint8_t *index_page(const wh_cim *cim, uint32_t phys)
{
    if ((uint64_t)phys >= cim->index.size / CIM_PAGE) return NULL;
    return cim->index.data + (size_t)phys * CIM_PAGE;
}

static bool parse_ref(const char *last, cim_key *k)
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
    return true;
}

/* Decodes one page: its keys into w->keys, its child pointers into kids
 * by slot (CIM_UNMAPPED for none), *nkids slots. */
static wh_status parse_page(walk *w, uint32_t logical, uint32_t *kids, uint32_t *nkids)
{
    wh_cim *cim = w->cim;
    *nkids = 0;
    uint32_t phys = cim_index_phys(cim, logical);
    const uint8_t *pg = phys == CIM_UNMAPPED ? NULL : index_page(cim, phys);
    if (!pg) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, WH_NO_OFFSET,
                 "index logical page %u is %s; its subtree is skipped", logical,
                 phys == CIM_UNMAPPED ? "not mapped" : "past the end of INDEX.BTR");
        return WH_E_CORRUPT;
    }
    uint64_t base = (uint64_t)phys * CIM_PAGE;
    wh_reader r;
    wh_rd_init(&r, pg, CIM_PAGE, base, cim->index.path);
    uint32_t sig = wh_rd_u32(&r);
    uint32_t lid = wh_rd_u32(&r);
    wh_rd_skip(&r, 8);
    if (sig != PAGE_ACTIVE) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_BADSIG, cim->index.path, base,
                 "index page (logical %u) has type 0x%X, not an active page 0x%X; skipped", logical,
                 sig, PAGE_ACTIVE);
        return WH_E_BADSIG;
    }
    if (lid != logical)
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, cim->index.path, base + 4,
                 "index page says it is logical page %u but is mapped as %u", lid, logical);
    uint32_t n = wh_rd_u32(&r);
    if (n > WH_LIMIT_CIM_KEYS_PAGE) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, cim->index.path, base + HDR,
                 "index page claims %u keys (limit %u); skipped", n, WH_LIMIT_CIM_KEYS_PAGE);
        return WH_E_CORRUPT;
    }
    wh_rd_skip(&r, (size_t)n * 4);
    for (uint32_t i = 0; i <= n; i++) {
        uint32_t c = wh_rd_u32(&r);
        // "No child" is 0xFFFFFFFF on Vista+, where logical page 0 is an
        // ordinary tree page (fox-it's last leaf is page 0, reached only as
        // the last child of page 1). XP leaves say 0: page 0 is its admin page.
        bool none = c == CIM_UNMAPPED || (c == 0 && (cim->xp || (cim->flags & WH_CIM_OPT_REFERENCE_WALK)));
        kids[(*nkids)++] = !none && wh_rd_ok(&r) ? c : CIM_UNMAPPED;
    }
    size_t keyidx_pos = r.pos;
    wh_rd_skip(&r, (size_t)n * 2);
    uint16_t s = wh_rd_u16(&r);
    size_t kdef_pos = r.pos;
    wh_rd_skip(&r, (size_t)s * 2);
    uint16_t m = wh_rd_u16(&r);
    size_t soff_pos = r.pos;
    wh_rd_skip(&r, ((size_t)m + 1) * 2);
    size_t area = r.pos;
    if (!wh_rd_ok(&r)) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_TRUNCATED, cim->index.path, wh_rd_fail_abs(&r),
                 "index page (logical %u) tables run past the page end; skipped", logical);
        return WH_E_TRUNCATED;
    }
    char buf[2048];
    for (uint32_t i = 0; i < n; i++) {
        uint16_t kd, cnt;
        if (!wh_rd_u16_at(&r, keyidx_pos + 2 * i, &kd) || kd >= s ||
            !wh_rd_u16_at(&r, kdef_pos + 2 * (size_t)kd, &cnt) || cnt == 0 || cnt > s - kd - 1u) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, base + keyidx_pos + 2 * i,
                     "index key %u of logical page %u has a bad definition; skipped", i, logical);
            continue;
        }
        size_t len = 0;
        const char *last = NULL;
        bool bad = false;
        for (uint16_t j = 0; j < cnt && !bad; j++) {
            uint16_t seg, off;
            if (!wh_rd_u16_at(&r, kdef_pos + 2 * ((size_t)kd + 1 + j), &seg) || seg >= m ||
                !wh_rd_u16_at(&r, soff_pos + 2 * (size_t)seg, &off) || off >= CIM_PAGE - area) {
                bad = true;
                break;
            }
            const char *str = (const char *)pg + area + off;
            size_t maxl = CIM_PAGE - area - off;
            size_t sl = strnlen(str, maxl);
            if (sl == maxl || len + sl + 2 > sizeof(buf)) {
                bad = true;
                break;
            }
            if (j) buf[len++] = '/';
            last = buf + len;
            memcpy(buf + len, str, sl);
            len += sl;
        }
        if (bad) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, base + keyidx_pos + 2 * i,
                     "index key %u of logical page %u points outside its string table; skipped",
                     i, logical);
            continue;
        }
        buf[len] = 0;
        wkey *wk = wh_arena_calloc(cim->arena, 1, sizeof(*wk));
        if (!wk) return WH_E_NOMEM;
        cim_key *k = &wk->k;
        k->str = wh_arena_strndup(cim->arena, buf, len);
        if (!k->str) return WH_E_NOMEM;
        k->index_page = logical;
        parse_ref(last, k);
        wk->seq = w->keys.n;
        wk->slot = i;
        if (wh_ptrvec_push(cim->arena, &w->keys, wk) != 0) return WH_E_NOMEM;
    }
    return WH_OK;
}

static wh_status visit(walk *w, uint32_t logical, uint32_t depth)
{
    wh_cim *cim = w->cim;
    if (logical >= w->nlogical) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, WH_NO_OFFSET,
                 "index child pointer to logical page %u is past the map (%u entries)", logical,
                 w->nlogical);
        return WH_OK;
    }
    if (w->seen[logical]) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, WH_NO_OFFSET,
                 "index page %u is reached twice (a loop or shared child); not walked again",
                 logical);
        return WH_OK;
    }
    if (depth > WH_LIMIT_CIM_TREE_DEPTH) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, cim->index.path, WH_NO_OFFSET,
                 "index tree deeper than %u levels at page %u; stopped there",
                 WH_LIMIT_CIM_TREE_DEPTH, logical);
        return WH_OK;
    }
    if (wh_diag_expired(cim->diags, cim->index.path, WH_NO_OFFSET)) return WH_OK;
    w->seen[logical] = 1;
    w->pages++;
    if (depth > w->maxdepth) w->maxdepth = depth;
    uint32_t kids[WH_LIMIT_CIM_KEYS_PAGE + 1], nk = 0;
    size_t next = w->keys.n;
    wh_status st = parse_page(w, logical, kids, &nk);
    if (st == WH_E_NOMEM) return st;
    // Child j, then this page's key j: tree order.
    size_t end = w->keys.n;
    for (uint32_t j = 0; j < nk || next < end; j++) {
        if (j < nk && kids[j] != CIM_UNMAPPED) {
            st = visit(w, kids[j], depth + 1);
            if (st == WH_E_NOMEM) return st;
        }
        while (next < end && ((const wkey *)w->keys.v[next])->slot <= j)
            if (wh_ptrvec_push(cim->arena, &w->order, w->keys.v[next++]) != 0) return WH_E_NOMEM;
    }
    return WH_OK;
}

/* By string, then by the order read: the first copy of a duplicate wins. */
static int cmp_key(const void *a, const void *b)
{
    const wkey *x = *(const wkey *const *)a, *y = *(const wkey *const *)b;
    int c = strcmp(x->k.str, y->k.str);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

wh_status cim_index_walk(wh_cim *cim)
{
    walk w = {.cim = cim};
    w.nlogical = cim->cur->index.nentries;
    uint32_t root = CIM_UNMAPPED;
    if (cim->xp) {
        // XP: logical page 0 is an admin page whose header names the root.
        uint32_t ph = cim_index_phys(cim, 0);
        const uint8_t *pg = ph == CIM_UNMAPPED ? NULL : index_page(cim, ph);
        if (pg && wh_get_u32le(pg) == PAGE_ADMIN) root = wh_get_u32le(pg + 12);
        else if (pg && wh_get_u32le(pg) == PAGE_ACTIVE) root = 0;
    } else if (w.nlogical > 0) {
        root = cim->cur->index.used[0];
    }
    cim->info.index_root = root;
    if (root == CIM_UNMAPPED || root >= w.nlogical) {
        CIM_DIAG(cim, WH_SEV_ERROR, WH_E_CORRUPT, cim->index.path, WH_NO_OFFSET,
                 "cannot find the index root page (got %u of %u logical pages); "
                 "no keys can be listed, objects can still be carved",
                 root, w.nlogical);
        return WH_E_CORRUPT;
    }
    w.seen = calloc(w.nlogical ? w.nlogical : 1, 1);
    if (!w.seen) return WH_E_NOMEM;
    wh_status st = visit(&w, root, 0);
    free(w.seen);
    if (st != WH_OK) return st;
    if (w.order.n > 1) wh_sort(w.order.v, w.order.n, sizeof(void *), cmp_key); // wh_sort(NULL, 0) is UB
    cim->keys = wh_arena_calloc(cim->arena, w.order.n ? w.order.n : 1, sizeof(cim_key));
    if (!cim->keys) return WH_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < w.order.n; i++) {
        const cim_key *k = &((const wkey *)w.order.v[i])->k;
        if (n && strcmp(cim->keys[n - 1].str, k->str) == 0) continue; // distinct keys only
        cim->keys[n++] = *k;
    }
    cim->nkeys = n;
    cim->info.keys = n;
    for (size_t i = 0; i < n; i++) cim->info.keys_with_data += cim->keys[i].has_ref;
    cim->info.index_tree_pages = w.pages;
    cim->info.index_depth = w.maxdepth;
    return WH_OK;
}

size_t cim_keys_lower(const wh_cim *cim, const char *prefix)
{
    size_t lo = 0, hi = cim->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(cim->keys[mid].str, prefix) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

bool cim_key_has_prefix(const cim_key *k, const char *prefix, size_t plen)
{
    return strncmp(k->str, prefix, plen) == 0;
}

bool cim_index_page_facts(const uint8_t *pg, size_t n, uint32_t *sig, uint32_t *logical, uint32_t *nkeys,
                          uint32_t *nstrings)
{
    wh_reader r;
    wh_rd_init(&r, pg, n, 0, "-");
    *sig = wh_rd_u32(&r);
    *logical = wh_rd_u32(&r);
    wh_rd_skip(&r, 8);
    uint32_t k = wh_rd_u32(&r);
    if (!wh_rd_ok(&r) || k > WH_LIMIT_CIM_KEYS_PAGE) return false;
    wh_rd_skip(&r, (size_t)k * 4 + ((size_t)k + 1) * 4 + (size_t)k * 2);
    uint16_t s = wh_rd_u16(&r);
    wh_rd_skip(&r, (size_t)s * 2);
    uint16_t m = wh_rd_u16(&r);
    *nkeys = k;
    *nstrings = m;
    return wh_rd_ok(&r);
}
