/* INDEX.BTR: a B-tree of key strings over 8 KiB pages addressed through
 * the index mapping. A sound tree is read in place (cim_ktree.c). Any
 * other is walked once from the root and every key kept in one sorted
 * array of distinct keys (prefix lookups on a damaged tree can return
 * duplicates, see docs/formats/cim.md §3). Keys are collected in tree order
 * (child i, then key i), which is usually sorted even then: the sort then
 * only checks it. */
#include <stdint.h>
#include <stdio.h>
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
    wh_arena *a;         /* the walk's own: wkeys and their order, freed after it */
    uint8_t *seen;       /* per logical page */
    uint32_t nlogical;
    wh_ptrvec keys;      /* wkey *, in the order pages are read */
    wh_ptrvec order;     /* the same, in tree order */
    uint32_t pages, maxdepth;
    /* interning of key parts: tab holds kpool offset + 1 (0: empty) */
    uint32_t *tab;
    size_t tabcap, tabn, poolcap, pooln, partscap, partsn;
    uint32_t recent[8];  /* offset + 1 of the last key's part j: keys in a row share them */
} walk;

static uint64_t part_hash(const char *s, size_t n)
{
    // Eight bytes a step: every key's every byte passes here once.
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    for (; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
    return h ^ (h >> 29);
}

/* A part in kpool is its length (2 bytes), its bytes and a NUL; its
 * offset is that of its bytes. */
static size_t part_len(const char *p)
{
    uint16_t n;
    memcpy(&n, p - 2, 2);
    return n;
}

static bool part_grow(walk *w)
{
    size_t nc = w->tabcap ? w->tabcap * 2 : 4096;
    uint32_t *nt = calloc(nc, sizeof(*nt));
    if (!nt) return false;
    for (size_t i = 0; i < w->tabcap; i++) {
        if (!w->tab[i]) continue;
        const char *p = w->cim->kpool + w->tab[i] - 1;
        size_t j = (size_t)part_hash(p, part_len(p)) & (nc - 1);
        while (nt[j]) j = (j + 1) & (nc - 1);
        nt[j] = w->tab[i];
    }
    free(w->tab);
    w->tab = nt;
    w->tabcap = nc;
    return true;
}

/* Appends part s[0..n), the key's part at, to the key being built: the
 * same text is stored once. */
static wh_status part_add(walk *w, uint32_t at, const char *s, size_t n)
{
    wh_cim *cim = w->cim;
    uint32_t off = 0;
    // The previous key's part is in the cache; the table is a miss or two.
    if (at < 8 && w->recent[at]) {
        const char *p = cim->kpool + w->recent[at] - 1;
        if (part_len(p) == n && memcmp(p, s, n) == 0) off = w->recent[at];
    }
    if ((w->tabn + 1) * 2 > w->tabcap && !part_grow(w)) return WH_E_NOMEM;
    size_t j = off ? 0 : (size_t)part_hash(s, n) & (w->tabcap - 1);
    for (; !off && w->tab[j]; j = (j + 1) & (w->tabcap - 1)) {
        const char *p = cim->kpool + w->tab[j] - 1;
        if (part_len(p) == n && memcmp(p, s, n) == 0) {
            off = w->tab[j];
            break;
        }
    }
    if (!off) {
        // Offsets are 32 bits (plus one for the empty slot).
        if (w->pooln + n + 3 >= UINT32_MAX) return WH_E_NOMEM;
        if (w->pooln + n + 3 > w->poolcap) {
            size_t nc = w->poolcap ? w->poolcap * 2 : 1u << 16;
            while (nc < w->pooln + n + 3) nc *= 2;
            char *np = realloc(cim->kpool, nc);
            if (!np) return WH_E_NOMEM;
            cim->kpool = np;
            w->poolcap = nc;
        }
        uint16_t l16 = (uint16_t)n; // n < CIM_KEY_MAX
        memcpy(cim->kpool + w->pooln, &l16, 2);
        memcpy(cim->kpool + w->pooln + 2, s, n);
        cim->kpool[w->pooln + 2 + n] = 0;
        off = (uint32_t)w->pooln + 3;
        w->pooln += n + 3;
        w->tab[j] = off;
        w->tabn++;
    }
    if (at < 8) w->recent[at] = off;
    if (w->partsn >= UINT32_MAX) return WH_E_NOMEM;
    if (w->partsn == w->partscap) {
        size_t nc = w->partscap ? w->partscap * 2 : 4096;
        uint32_t *np = realloc(cim->kparts, nc * sizeof(*np));
        if (!np) return WH_E_NOMEM;
        cim->kparts = np;
        w->partscap = nc;
    }
    cim->kparts[w->partsn++] = off - 1;
    return WH_OK;
}

static const uint8_t *index_page(const wh_cim *cim, uint32_t phys)
{
    if ((uint64_t)phys >= cim->index.size / CIM_PAGE) return NULL;
    return cim->index.data + (size_t)phys * CIM_PAGE;
}

/* ".page.id.size" of k into out (40 bytes); its length. Called for every
 * key read and compared: no printf. */
static size_t tail_text(const cim_key *k, char *out)
{
    const uint32_t v[3] = {k->page, k->id, k->size};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        char d[10];
        int nd = 0;
        uint32_t x = v[i];
        do d[nd++] = (char)('0' + x % 10); while ((x /= 10) != 0);
        out[n++] = '.';
        while (nd) out[n++] = d[--nd];
    }
    out[n] = 0;
    return n;
}

/* Decodes one page: its keys into w->keys, its child pointers into kids
 * by slot (CIM_UNMAPPED for none), *nkids slots. */
static wh_status parse_page(walk *w, uint32_t logical, uint32_t *kids, uint32_t *nkids)
{
    wh_cim *cim = w->cim;
    *nkids = 0;
    cim_ipage p;
    cim_ipage_st ps = cim_ipage_open(cim, logical, &p);
    if (ps == CIM_IPAGE_UNMAPPED || ps == CIM_IPAGE_PAST_END) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, WH_NO_OFFSET,
                 "index logical page %u is %s; its subtree is skipped", logical,
                 ps == CIM_IPAGE_UNMAPPED ? "not mapped" : "past the end of INDEX.BTR");
        return WH_E_CORRUPT;
    }
    uint64_t base = p.base;
    if (ps == CIM_IPAGE_BADSIG) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_BADSIG, cim->index.path, base,
                 "index page (logical %u) has type 0x%X, not an active page 0x%X; skipped", logical,
                 p.sig, PAGE_ACTIVE);
        return WH_E_BADSIG;
    }
    if (p.lid != logical)
        CIM_DIAG(cim, WH_SEV_INFO, WH_E_CORRUPT, cim->index.path, base + 4,
                 "index page says it is logical page %u but is mapped as %u", p.lid, logical);
    uint32_t n = p.n;
    if (ps == CIM_IPAGE_LIMIT) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, cim->index.path, base + HDR,
                 "index page claims %u keys (limit %u); skipped", n, WH_LIMIT_CIM_KEYS_PAGE);
        return WH_E_CORRUPT;
    }
    for (uint32_t i = 0; i <= n; i++) kids[(*nkids)++] = cim_ipage_kid(&p, i);
    if (ps == CIM_IPAGE_TRUNCATED) {
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_TRUNCATED, cim->index.path, p.fail_abs,
                 "index page (logical %u) tables run past the page end; skipped", logical);
        return WH_E_TRUNCATED;
    }
    char buf[CIM_KEY_MAX];
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *last;
        uint16_t pstart[CIM_KEY_MAX]; // where each part starts in buf (empty parts take a '/' each)
        uint16_t np;
        cim_ipage_st ks = cim_ipage_key(&p, i, buf, &len, pstart, &np, &last);
        if (ks == CIM_IPAGE_BADDEF) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, base + p.keyidx_pos + 2 * i,
                     "index key %u of logical page %u has a bad definition; skipped", i, logical);
            continue;
        }
        if (ks != CIM_IPAGE_OK) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->index.path, base + p.keyidx_pos + 2 * i,
                     "index key %u of logical page %u points outside its string table; skipped",
                     i, logical);
            continue;
        }
        wkey *wk = wh_arena_calloc(w->a, 1, sizeof(*wk));
        if (!wk) return WH_E_NOMEM;
        cim_key *k = &wk->k;
        k->index_page = logical;
        const char *tail = NULL;
        char t[40];
        // The tail is left out of the part (which is then shared by the
        // key's copies) when the numbers write it back the same.
        if (cim_key_parse_ref(last, k, &tail)) {
            tail_text(k, t);
            k->tail = strcmp(t, tail) == 0;
        }
        if (!k->tail) tail = buf + len;
        k->part0 = (uint32_t)w->partsn;
        k->nparts = np;
        for (uint16_t j = 0; j < np; j++) {
            size_t e = j + 1 < np ? (size_t)pstart[j + 1] - 1 : (size_t)(tail - buf);
            wh_status st = part_add(w, j, buf + pstart[j], e - pstart[j]);
            if (st != WH_OK) return st;
        }
        wk->seq = w->keys.n;
        wk->slot = i;
        if (wh_ptrvec_push(w->a, &w->keys, wk) != 0) return WH_E_NOMEM;
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
            if (wh_ptrvec_push(w->a, &w->order, w->keys.v[next++]) != 0) return WH_E_NOMEM;
    }
    return WH_OK;
}

/* A key's text is pieces: part 0, then '/' and part j for each further
 * part, then the tail. Piece i of k: its bytes (no NUL among them). */
static const char *key_piece(const wh_cim *cim, const cim_key *k, uint32_t i, char *tail, size_t *len)
{
    uint32_t np = 2u * k->nparts - 1;
    const char *p;
    if (i >= np) {
        *len = k->tail ? tail_text(k, tail) : 0;
        return tail;
    }
    if (i & 1) {
        *len = 1;
        return "/";
    }
    p = cim->kpool + cim->kparts[k->part0 + i / 2];
    *len = part_len(p);
    return p;
}

/* The text of k from piece i on into buf (CIM_KEY_MAX bytes), with its
 * tail or not; its length. */
static size_t key_render(const wh_cim *cim, const cim_key *k, uint32_t i, bool tail_too, char *buf)
{
    size_t n = 0;
    char tail[40];
    for (uint32_t np = 2u * k->nparts - 1 + (k->tail && tail_too ? 1 : 0); i < np; i++) {
        size_t l;
        const char *p = key_piece(cim, k, i, tail, &l);
        // The walk kept only keys shorter than CIM_KEY_MAX; the bound is a guard.
        if (l > CIM_KEY_MAX - 1 - n) l = CIM_KEY_MAX - 1 - n;
        memcpy(buf + n, p, l);
        n += l;
    }
    buf[n] = 0;
    return n;
}

/* strcmp of two keys' texts: the parts they share (the same offset, so the
 * same text) are stepped over, only the rest is built and compared. */
static int key_cmp(const wh_cim *cim, const cim_key *x, const cim_key *y)
{
    uint32_t j = 0;
    while (j < x->nparts && j < y->nparts && cim->kparts[x->part0 + j] == cim->kparts[y->part0 + j]) j++;
    char a[CIM_KEY_MAX], b[CIM_KEY_MAX];
    // Tails first left out: they decide only when one text without its
    // tail begins the other (the sort compares keys many times over).
    uint32_t from = j ? 2 * j - 1 : 0;
    size_t la = key_render(cim, x, from, false, a), lb = key_render(cim, y, from, false, b);
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c < 0 ? -1 : 1;
    key_render(cim, x, from, true, a);
    key_render(cim, y, from, true, b);
    c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

int cim_key_ncmp(const wh_cim *cim, const cim_key *k, const char *s, size_t n)
{
    size_t at = 0;
    char tail[40];
    for (uint32_t i = 0, np = 2u * k->nparts - 1 + (k->tail ? 1 : 0); i < np && at < n; i++) {
        size_t l;
        const char *p = key_piece(cim, k, i, tail, &l);
        size_t m = l < n - at ? l : n - at;
        // s may end inside the piece: strncmp stops at its NUL, as strncmp on the whole text would.
        int c = strncmp(p, s + at, m);
        if (c) return c < 0 ? -1 : 1;
        at += m;
    }
    return at < n && s[at] ? -1 : 0;
}

const char *cim_key_text(const wh_cim *cim, const cim_key *k, char *buf)
{
    key_render(cim, k, 0, true, buf);
    return buf;
}

static _Thread_local const wh_cim *sort_cim; // wh_sort's comparison takes no context

/* By text, then by the order read: the first copy of a duplicate wins. */
static int cmp_key(const void *a, const void *b)
{
    const wkey *x = *(const wkey *const *)a, *y = *(const wkey *const *)b;
    int c = key_cmp(sort_cim, &x->k, &y->k);
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
    // A sound tree is read in place from now on: no key is kept.
    bool sound = false;
    wh_status pst = cim->flags & CIM_OPT_KEY_LIST ? WH_OK : cim_ktree_probe(cim, root, w.nlogical, &sound);
    if (pst != WH_OK || sound) return pst;
    w.seen = calloc(w.nlogical ? w.nlogical : 1, 1);
    w.a = wh_arena_new(0);
    wh_status st = w.seen && w.a ? visit(&w, root, 0) : WH_E_NOMEM;
    free(w.seen);
    free(w.tab);
    if (st == WH_OK) {
        sort_cim = cim;
        // Tree order is sorted for a sound tree: one pass says so, and the
        // sort (n log n comparisons, each building two keys' ends) is left out.
        size_t i = 1;
        while (i < w.order.n && cmp_key(&w.order.v[i - 1], &w.order.v[i]) < 0) i++;
        if (i < w.order.n) wh_sort(w.order.v, w.order.n, sizeof(void *), cmp_key);
        sort_cim = NULL;
        cim->keys = wh_arena_calloc(cim->arena, w.order.n ? w.order.n : 1, sizeof(cim_key));
        if (!cim->keys) st = WH_E_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; st == WH_OK && i < w.order.n; i++) {
        const cim_key *k = &((const wkey *)w.order.v[i])->k;
        if (n && key_cmp(cim, &cim->keys[n - 1], k) == 0) continue; // distinct keys only
        cim->keys[n++] = *k;
    }
    wh_arena_free(w.a);
    if (st != WH_OK) return st;
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
        if (cim_key_ncmp(cim, &cim->keys[mid], prefix, SIZE_MAX) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

bool cim_key_has_prefix(const wh_cim *cim, const cim_key *k, const char *prefix, size_t plen)
{
    return cim_key_ncmp(cim, k, prefix, plen) == 0;
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

