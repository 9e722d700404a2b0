/* Opening a repository folder, and the namespace / class / instance model
 * built from the index keys:
 *   NS_<ns>/CD_<class>.p.i.s            class definition
 *   NS_<ns>/CI_<class>/IL_<inst>.p.i.s  instance
 *   NS_<parent>/CI_<__NAMESPACE>/IL_<child>  a child namespace (instance).
 * System classes live once, in the __SystemClass namespace. */
#include <stdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"
#include "core/text.h"
#include "core/sort.h"

#define SYSNS "__SystemClass"

static void seg_hash(const char *s, char *out, size_t cap);

static char *ns_key(wh_cim *cim, const char *ns)
{
    char *k = wh_arena_strdup(cim->arena, ns);
    if (k)
        for (char *p = k; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    return k;
}

cim_ns *cim_ns_find(wh_cim *cim, const char *ns)
{
    if (!ns) return NULL;
    char buf[1024];
    size_t n = strlen(ns);
    if (n >= sizeof(buf)) return NULL;
    for (size_t i = 0; i <= n; i++) {
        char c = ns[i] == '/' ? '\\' : ns[i];
        buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return wh_strmap_get(&cim->ns_by_name, buf);
}

/* Adds a namespace; hash NULL means hash its name (a linked namespace). */
static cim_ns *ns_add_hashed(wh_cim *cim, const char *name, const char *hash)
{
    cim_ns *ns = wh_arena_calloc(cim->arena, 1, sizeof(*ns));
    if (!ns) return NULL;
    ns->name = wh_arena_strdup(cim->arena, name);
    // The hash is over the full path (upper-cased), ROOT for the root.
    char h[65];
    if (hash) snprintf(h, sizeof(h), "%s", hash);
    else cim_hash(name, strlen(name), cim->xp, h);
    ns->hash = wh_arena_printf(cim->arena, "NS_%s", h);
    char *lk = ns_key(cim, name);
    if (!ns->name || !ns->hash || !lk) return NULL;
    if (wh_strmap_get(&cim->ns_by_hash, ns->hash)) return NULL; // already known (a loop)
    if (wh_strmap_put(&cim->ns_by_name, lk, ns) || wh_strmap_put(&cim->ns_by_hash, ns->hash, ns) ||
        wh_ptrvec_push(cim->arena, &cim->nss, ns))
        return NULL;
    char *hk = wh_arena_strdup(cim->arena, h);
    if (hk && !hash) (void)wh_strmap_put(&cim->names, hk, (void *)ns->name);
    return ns;
}

static cim_ns *ns_add(wh_cim *cim, const char *name) { return ns_add_hashed(cim, name, NULL); }

/* Namespaces that have keys but that no __NAMESPACE instance links into
 * the tree (a namespace deleted from its parent, or hidden): listed as
 * "?unlinked\<hash>" so their classes and instances are still read. */
static void ns_unlinked(wh_cim *cim)
{
    char prev[80] = "";
    cim_kit it;
    cim_kit_seek(&it, cim, "NS_");
    for (const cim_kref *k; (k = cim_kit_next(&it)) != NULL;) {
        if (strncmp(k->text, "NS_", 3) != 0) break; // keys are sorted: no more namespaces
        char h[80];
        seg_hash(k->text + 3, h, sizeof(h));
        // Every key under "NS_<h>/" has this hash: step over them at once
        // (the first key after them is the first >= "NS_<h>0").
        size_t pl = 3 + strlen(h);
        if (k->text[pl] == '/') {
            char next[96];
            snprintf(next, sizeof(next), "NS_%s0", h);
            cim_kit_seek(&it, cim, next);
        }
        if (strcmp(h, prev) == 0) continue;
        snprintf(prev, sizeof(prev), "%s", h);
        char nh[90];
        snprintf(nh, sizeof(nh), "NS_%s", h);
        if (wh_strmap_get(&cim->ns_by_hash, nh)) continue;
        char *name = wh_arena_printf(cim->arena, "?unlinked\\%s", h);
        if (name && ns_add_hashed(cim, name, h)) {
            cim->info.unlinked_namespaces++;
            CIM_DIAG(cim, WH_SEV_INFO, WH_E_NOTFOUND, cim->index.path, WH_NO_OFFSET,
                     "namespace NS_%s has keys but no parent links to it; listed as %s", h, name);
        }
    }
}

/* Parses "<prefix><HASH>.p.i.s" style tails: copies the hash part up to
 * '.', '/' or end into out. */
static void seg_hash(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    while (s[i] && s[i] != '.' && s[i] != '/' && i + 1 < cap) {
        out[i] = s[i];
        i++;
    }
    out[i] = 0;
}

cim_classrec *cim_class_by_hash(wh_cim *cim, const char *ns_hash, const char *class_hash)
{
    char mk[256];
    for (int pass = 0; pass < 2; pass++) {
        const char *nh = pass == 0 ? ns_hash : cim->sys_ns_hash;
        if (pass == 1 && strcmp(ns_hash, cim->sys_ns_hash) == 0) break;
        snprintf(mk, sizeof(mk), "%s/%s", nh, class_hash);
        cim_classrec *c = wh_strmap_get(&cim->classes, mk);
        if (c) return c;
        if (cim->frozen || wh_strmap_get(&cim->neg, mk)) continue;
        char prefix[256];
        int pl = snprintf(prefix, sizeof(prefix), "%s/CD_%s.", nh, class_hash);
        cim_kit it;
        cim_kit_seek(&it, cim, prefix);
        const cim_kref *k = cim_kit_next(&it);
        char *kk = wh_arena_strdup(cim->arena, mk);
        if (!kk) return NULL;
        if (k && strncmp(k->text, prefix, (size_t)pl) == 0 && k->has_ref) {
            wh_cim_loc loc;
            const uint8_t *p = cim_object_get(cim, k->page, k->id, k->size, &loc);
            cim_ns *ns = wh_strmap_get(&cim->ns_by_hash, nh);
            c = p ? cim_class_decode(cim, p, loc.size, &loc, wh_arena_strdup(cim->arena, nh),
                                     ns ? ns->name : NULL)
                  : NULL;
            if (c) {
                c->hash = wh_arena_strdup(cim->arena, class_hash);
                (void)wh_strmap_put(&cim->classes, kk, c);
                char *hk = wh_arena_strdup(cim->arena, class_hash);
                if (hk && !wh_strmap_get(&cim->names, hk)) (void)wh_strmap_put(&cim->names, hk, (void *)c->pub.name);
                return c;
            }
        }
        (void)wh_strmap_put(&cim->neg, kk, (void *)1);
    }
    return NULL;
}

static int cmp_class(const void *a, const void *b)
{
    const wh_cim_class *x = *(const wh_cim_class *const *)a, *y = *(const wh_cim_class *const *)b;
    return wh_strcasecmp(x->name, y->name);
}

static int cmp_ns(const void *a, const void *b)
{
    const cim_ns *x = *(const cim_ns *const *)a, *y = *(const cim_ns *const *)b;
    return wh_strcasecmp(x->name, y->name);
}

/* Child namespaces of ns: instances of __NAMESPACE stored in it. */
static void ns_children(wh_cim *cim, cim_ns *ns, wh_ptrvec *queue)
{
    char h[65], prefix[256];
    cim_hash("__NAMESPACE", 11, cim->xp, h);
    int pl = snprintf(prefix, sizeof(prefix), "%s/CI_%s/IL_", ns->hash, h);
    cim_kit it;
    cim_kit_seek(&it, cim, prefix);
    for (const cim_kref *k; (k = cim_kit_next(&it)) != NULL;) {
        if (strncmp(k->text, prefix, (size_t)pl) != 0) break;
        if (!k->has_ref) continue;
        wh_cim_loc loc;
        const uint8_t *p = cim_object_get(cim, k->page, k->id, k->size, &loc);
        if (!p) continue;
        wh_cim_instance *in = cim_instance_decode(cim, p, loc.size, &loc, ns->hash, ns->name, false);
        const wh_cim_propval *nm = in ? wh_cim_instance_get(in, "Name") : NULL;
        if (!nm || nm->value.type != WH_V_STR || !nm->value.as.str.len) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->objects.path, loc.offset,
                     "__NAMESPACE instance in %s has no Name; that namespace is not listed", ns->name);
            continue;
        }
        if (queue->n >= WH_LIMIT_CIM_NAMESPACES) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_LIMIT, cim->objects.path, loc.offset,
                     "more than %u namespaces; the rest are not listed", WH_LIMIT_CIM_NAMESPACES);
            break;
        }
        char *child = wh_arena_printf(cim->arena, "%s\\%s", ns->name, nm->value.as.str.s);
        cim_ns *c = child ? ns_add(cim, child) : NULL;
        if (c) (void)wh_ptrvec_push(cim->arena, queue, c);
    }
}

void cim_ns_classes(wh_cim *cim, cim_ns *ns)
{
    if (ns->classes_loaded) return;
    ns->classes_loaded = true;
    if (wh_diag_expired(cim->diags, cim->dir, WH_NO_OFFSET)) return;
    char prefix[256];
    wh_ptrvec cls = {0};
    int pl = snprintf(prefix, sizeof(prefix), "%s/CD_", ns->hash);
    cim_kit it;
    cim_kit_seek(&it, cim, prefix);
    for (const cim_kref *k; (k = cim_kit_next(&it)) != NULL;) {
        if (strncmp(k->text, prefix, (size_t)pl) != 0) break;
        char h[80];
        seg_hash(k->text + pl, h, sizeof(h));
        cim_classrec *c = cim_class_by_hash(cim, ns->hash, h);
        if (c && strcmp(c->ns_hash, ns->hash) == 0) (void)wh_ptrvec_push(cim->arena, &cls, &c->pub);
    }
    for (size_t i = 0; i < cls.n; i++) {
        wh_cim_class *c = cls.v[i];
        cim_class_layout(cim, (cim_classrec *)c);
    }
    if (cls.n > 1) wh_sort(cls.v, cls.n, sizeof(void *), cmp_class);
    ns->classes = wh_arena_calloc(cim->arena, cls.n ? cls.n : 1, sizeof(void *));
    if (ns->classes) {
        for (size_t i = 0; i < cls.n; i++) ns->classes[i] = cls.v[i];
        ns->nclasses = cls.n;
    }
}

const wh_cim_instance *cim_iref_decode(wh_cim *cim, cim_ns *ns, cim_iref *r, wh_arena *a)
{
    if (r->in) return r->in;
    if (r->state == CIM_IREF_BAD) return NULL;
    wh_diag_sink *saved = cim->diags;
    cim->diags = NULL; // the record was read, and diagnosed, when the list was built
    wh_cim_loc loc;
    const uint8_t *p = cim_object_read(cim, a, r->page, r->id, r->size, &loc);
    if (r->state == CIM_IREF_HEAD) cim->diags = saved;
    // The class is decoded and laid out already (or known missing): only
    // the instance's own parts land in a, and no class may be decoded there.
    wh_arena *keep = cim->arena;
    bool frozen = cim->frozen;
    cim->arena = a;
    cim->frozen = true;
    wh_cim_instance *in = p ? cim_instance_decode(cim, p, loc.size, &loc, ns->hash, ns->name, false) : NULL;
    cim->frozen = frozen;
    cim->arena = keep;
    cim->diags = saved;
    r->state = in ? CIM_IREF_OK : CIM_IREF_BAD;
    if (in && a == cim->arena) r->in = in;
    return in;
}

void cim_ns_count(wh_cim *cim, cim_ns *ns)
{
    if (ns->counted) return;
    cim_ns_classes(cim, ns);
    ns->counted = true;
    if (ns->insts_loaded) return;
    // Every header first (what they say, and the classes they look up,
    // come before what decoding says), then every instance, in scratch.
    cim_iwalk w;
    if (!ns->heads_seen && !ns->irefs_built) {
        if (!cim_iwalk_start(cim, ns, &w)) return;
        while (cim_iwalk_next(&w)) {}
        cim_iwalk_end(&w);
    }
    if (!cim_iwalk_start(cim, ns, &w)) return;
    size_t n = 0;
    for (cim_iref *r; (r = cim_iwalk_next(&w)) != NULL;) {
        n += cim_iref_decode(cim, ns, r, cim->tmp) != NULL;
        wh_arena_reset(cim->tmp);
    }
    cim_iwalk_end(&w);
    ns->decoded = true;
    ns->ninsts = n;
}

void cim_ns_insts(wh_cim *cim, cim_ns *ns)
{
    if (ns->insts_loaded) return;
    cim_ns_classes(cim, ns);
    ns->insts_loaded = ns->counted = true;
    ns->ninsts = 0;
    if (!cim_ns_irefs(cim, ns)) return;
    const wh_cim_instance **v = wh_arena_calloc(cim->arena, ns->nirefs ? ns->nirefs : 1, sizeof(void *));
    if (!v) return;
    size_t n = 0;
    for (size_t i = 0; i < ns->nirefs; i++) {
        const wh_cim_instance *in = cim_iref_decode(cim, ns, &ns->irefs[i], cim->arena);
        if (in) v[n++] = in;
    }
    ns->insts = v;
    ns->ninsts = n;
}

bool cim_is_subscription(const cim_classrec *c)
{
    return c && (wh_cim_class_is(&c->pub, "__EventFilter") || wh_cim_class_is(&c->pub, "__EventConsumer") ||
                 wh_cim_class_is(&c->pub, "__FilterToConsumerBinding"));
}

void cim_ns_subs(wh_cim *cim, cim_ns *ns)
{
    if (ns->subs_built) return;
    ns->subs_built = true;
    // Without a list the walk picks them out (a few entries kept, not one
    // per instance); with one, its entries keep what was decoded.
    cim_iref *sel = NULL, **pick = NULL;
    size_t k = 0, cap = 0;
    cim_iwalk w;
    if (!cim_iwalk_start(cim, ns, &w)) return;
    for (cim_iref *r; (r = cim_iwalk_next(&w)) != NULL;) {
        if (!cim_is_subscription(r->cls)) continue;
        if (k == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cim_iref *ns2 = realloc(sel, nc * sizeof(*sel));
            cim_iref **np = ns2 ? realloc(pick, nc * sizeof(*pick)) : NULL;
            if (ns2) sel = ns2;
            if (np) pick = np;
            if (!ns2 || !np) break;
            cap = nc;
        }
        sel[k] = *r;
        pick[k] = w.it ? &sel[k] : r; // a list entry itself
        k++;
    }
    cim_iwalk_end(&w);
    const wh_cim_instance **v = wh_arena_calloc(cim->arena, k ? k : 1, sizeof(void *));
    size_t n = 0;
    for (size_t i = 0; v && i < k; i++) {
        const wh_cim_instance *in = cim_iref_decode(cim, ns, pick[i], cim->arena);
        if (in) v[n++] = in;
    }
    free(sel);
    free(pick);
    ns->subs_decoded = true; // decoding them again says nothing
    if (!v) return;
    ns->subs = v;
    ns->nsubs = n;
}

void cim_load_all(wh_cim *cim, bool keep)
{
    if (keep ? cim->loaded_all : cim->counted_all) return;
    for (size_t i = 0; i < cim->nss.n; i++) {
        if (keep) cim_ns_insts(cim, cim->nss.v[i]);
        else cim_ns_count(cim, cim->nss.v[i]);
    }
    cim->counted_all = true;
    cim->loaded_all |= keep;
    cim->info.classes = cim->info.instances = 0;
    for (size_t i = 0; i < cim->nss.n; i++) {
        const cim_ns *ns = cim->nss.v[i];
        cim->info.classes += ns->nclasses;
        cim->info.instances += ns->ninsts;
    }
    cim_cap_check(cim);
}

static bool cap_hit(const wh_cim *cim)
{
    return (cim->arena && wh_arena_hit_cap(cim->arena)) || (cim->tmp && wh_arena_hit_cap(cim->tmp));
}

void cim_cap_check(wh_cim *cim)
{
    if (cim->cap_said || !cap_hit(cim)) return;
    cim->cap_said = true;
    wh_diagf(cim->diags, WH_SEV_ERROR, WH_E_LIMIT, cim->dir, WH_NO_OFFSET,
             "memory cap of %zu bytes reached; results are partial (raise --max-memory)", cim->cap);
}

void cim_diagf(const wh_cim *ccim, wh_severity sev, wh_status code, const char *src, uint64_t off, const char *fmt, ...)
{
    wh_cim *cim = (wh_cim *)ccim; // saying the cap once is the only state changed
    if (!cim->diags) return;
    cim_cap_check(cim);
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cim->cap_said && sev != WH_SEV_ERROR)
        wh_diagf(cim->diags, sev, code, src, off, "%s (after the memory cap was reached: maybe the cap, not damage)",
                 msg);
    else wh_diagf(cim->diags, sev, code, src, off, "%s", msg);
}

static const char *const KNOWN_FILES[] = {"OBJECTS.DATA", "INDEX.BTR",   "MAPPING1.MAP", "MAPPING2.MAP",
                                          "MAPPING3.MAP", "MAPPING.VER", "OBJECTS.MAP",  "INDEX.MAP"};

const cim_file *cim_file_get(const wh_cim *cim, const char *name)
{
    for (size_t i = 0; i < cim->nfiles; i++)
        if (strcmp(cim->files[i].name, name) == 0) return &cim->files[i];
    return NULL;
}

static char *find_repo_dir(const char *dir)
{
    // XP keeps the files in Repository\FS.
    char *p = wh_find_icase(dir, "INDEX.BTR", false);
    if (p) {
        free(p);
        return strdup(dir);
    }
    char *fs = wh_find_icase(dir, "FS", true);
    if (fs) {
        char *q = wh_find_icase(fs, "INDEX.BTR", false);
        if (q) {
            free(q);
            return fs;
        }
        free(fs);
    }
    return strdup(dir);
}

static void files_from_dir(wh_cim *cim)
{
    for (size_t i = 0; i < sizeof(KNOWN_FILES) / sizeof(KNOWN_FILES[0]); i++) {
        char *p = wh_find_icase(cim->dir, KNOWN_FILES[i], false);
        if (!p) continue;
        cim_file *f = &cim->files[cim->nfiles];
        wh_status st = wh_map_file(p, &f->m);
        if (st != WH_OK) CIM_DIAG(cim, WH_SEV_ERROR, st, p, WH_NO_OFFSET, "cannot read: %s", wh_status_str(st));
        else {
            f->name = KNOWN_FILES[i];
            f->owned = true;
            cim->nfiles++;
        }
        free(p);
    }
}

static wh_status page_file(wh_cim *cim, const char *name, wh_mapped *m)
{
    const cim_file *f = cim_file_get(cim, name);
    if (!f) {
        CIM_DIAG(cim, WH_SEV_ERROR, WH_E_NOTFOUND, cim->dir, WH_NO_OFFSET, "%s is missing from this folder", name);
        return WH_E_NOTFOUND;
    }
    *m = f->m; // borrowed: the file table owns the mapping
    if (m->size % CIM_PAGE)
        CIM_DIAG(cim, WH_SEV_WARN, WH_E_TRUNCATED, m->path, m->size - m->size % CIM_PAGE,
                 "file size %zu is not a whole number of 8192-byte pages; the last %zu bytes are ignored",
                 m->size, m->size % CIM_PAGE);
    return WH_OK;
}

static wh_cim *cim_alloc(const wh_cim_opts *opts, wh_diag_sink *diags, size_t *cap)
{
    wh_cim *cim = calloc(1, sizeof(*cim));
    if (!cim) return NULL;
    *cap = WH_LIMIT_ARENA_DEFAULT;
    if (opts && opts->size >= sizeof(size_t) * 2 && opts->max_memory) *cap = opts->max_memory;
    cim->arena = wh_arena_new(*cap);
    cim->tmp = wh_arena_new(*cap);
    if (!cim->arena || !cim->tmp) {
        wh_arena_free(cim->arena);
        wh_arena_free(cim->tmp);
        free(cim);
        return NULL;
    }
    cim->cap = *cap;
    cim->diags = diags;
    if (opts && opts->size >= sizeof(*opts)) cim->flags = opts->flags;
    wh_strmap_init(&cim->names, cim->arena);
    wh_strmap_init(&cim->classes, cim->arena);
    wh_strmap_init(&cim->ns_by_name, cim->arena);
    wh_strmap_init(&cim->ns_by_hash, cim->arena);
    wh_strmap_init(&cim->neg, cim->arena);
    wh_strmap_init(&cim->queries, cim->arena);
    return cim;
}

/* Everything after the files are known: maps, index, namespaces, objects. */
static wh_status open_common(wh_cim *cim)
{
    cim->info.dir = cim->dir;
    wh_status st = cim_maps_open(cim);
    // Mapping files alone are still evidence (page tables, free lists):
    // only a folder without any usable mapping file is "nothing usable".
    if (st != WH_OK) return st;
    wh_status so = page_file(cim, "OBJECTS.DATA", &cim->objects);
    wh_status si = page_file(cim, "INDEX.BTR", &cim->index);
    cim->info.xp = cim->xp;
    cim->info.current_mapping = cim->cur->name;
    cim->info.mapping_sequence = cim->cur->info.sequence;
    cim->info.mapping_generation = cim->cur->info.generation;
    wh_cim_mapinfo *mi = wh_arena_calloc(cim->arena, cim->nmaps, sizeof(*mi));
    if (mi)
        for (size_t i = 0; i < cim->nmaps; i++) mi[i] = cim->maps[i].info;
    cim->info.maps = mi;
    cim->info.nmaps = mi ? cim->nmaps : 0;
    cim->info.data_pages = (uint32_t)(cim->objects.size / CIM_PAGE);
    cim->info.index_pages = (uint32_t)(cim->index.size / CIM_PAGE);
    // Pages the current mapping places past the end of their file: the file
    // was cut short (a partial copy). Said once per file, with the first.
    for (int ix = 0; ix < 2; ix++) {
        const cim_section *sec = ix ? &cim->cur->index : &cim->cur->data;
        bool have = ix ? cim->cur->has_index : cim->cur->has_data;
        uint32_t pages = ix ? cim->info.index_pages : cim->info.data_pages;
        if (!have || (ix ? !cim->index.data : !cim->objects.data)) continue;
        uint32_t past = 0, first_l = 0, first_p = 0;
        for (uint32_t l = 0; l < sec->nentries; l++) {
            uint32_t ph = sec->l2p[l];
            if (ph == CIM_UNMAPPED || ph < pages) continue;
            if (!past++) first_l = l, first_p = ph;
        }
        if (past)
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_TRUNCATED, ix ? cim->index.path : cim->objects.path, (uint64_t)pages * CIM_PAGE,
                     "%u page(s) the mapping uses lie past the end of the file (first: logical %u at physical %u, "
                     "the file has %u pages): the copy is cut short",
                     past, first_l, first_p, pages);
    }
    cim->info.unallocated_data_pages = wh_cim_unallocated(cim, false, NULL, 0);
    cim->info.unallocated_index_pages = wh_cim_unallocated(cim, true, NULL, 0);
    cim_names_seed(cim);
    char h[65];
    cim_hash(SYSNS, strlen(SYSNS), cim->xp, h);
    cim->sys_ns_hash = wh_arena_printf(cim->arena, "NS_%s", h);
    // Vista+: the root is the 4th dword of index-map entry 0, known even
    // without INDEX.BTR; XP needs the admin page of INDEX.BTR.
    if (!cim->xp && cim->cur->index.nentries) cim->info.index_root = cim->cur->index.used[0];
    if (si == WH_OK) st = cim_index_walk(cim);
    if (st == WH_E_NOMEM) return st;
    // Namespaces: __SystemClass, then ROOT and everything below it. They
    // are instances, so without OBJECTS.DATA there are none to list.
    wh_ptrvec queue = {0};
    cim_ns *root = NULL;
    if (so == WH_OK) {
        ns_add(cim, SYSNS);
        root = ns_add(cim, "root");
    }
    if (root) {
        (void)wh_ptrvec_push(cim->arena, &queue, root);
        for (size_t i = 0; i < queue.n && !wh_diag_expired(cim->diags, cim->dir, WH_NO_OFFSET); i++)
            ns_children(cim, queue.v[i], &queue);
    }
    if (so == WH_OK) ns_unlinked(cim); // without objects no namespace can be linked
    if (cim->nss.n > 1) wh_sort(cim->nss.v, cim->nss.n, sizeof(void *), cmp_ns);
    // Classes and instances are decoded when a command asks for them.
    cim->info.namespaces = cim->nss.n;
    cim_cap_check(cim);
    return WH_OK;
}

wh_status wh_cim_open(const char *dir, const wh_cim_opts *opts, wh_diag_sink *diags, wh_cim **out)
{
    *out = NULL;
    if (!dir) return WH_E_ARG;
    size_t cap;
    wh_cim *cim = cim_alloc(opts, diags, &cap);
    if (!cim) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_NOMEM, dir, WH_NO_OFFSET,
                 "out of memory before reading (is --max-memory too small?)");
        return WH_E_NOMEM;
    }
    char *d = find_repo_dir(dir);
    cim->dir = d ? wh_arena_strdup(cim->arena, d) : NULL;
    free(d);
    wh_status st = WH_E_NOMEM;
    if (cim->dir) {
        files_from_dir(cim);
        st = open_common(cim);
    }
    if (st != WH_OK) {
        if (st == WH_E_NOMEM || wh_arena_hit_cap(cim->arena))
            wh_diagf(diags, WH_SEV_ERROR, WH_E_NOMEM, cim->dir ? cim->dir : dir, WH_NO_OFFSET,
                     "out of memory under a cap of %zu bytes; the repository is not read (raise --max-memory)", cap);
        wh_cim_close(cim);
        return st;
    }
    *out = cim;
    return WH_OK;
}

wh_status wh_cim_open_mem(const wh_cim_memfile *files, size_t nfiles, const wh_cim_opts *opts,
                          wh_diag_sink *diags, wh_cim **out)
{
    *out = NULL;
    size_t cap;
    wh_cim *cim = cim_alloc(opts, diags, &cap);
    if (!cim) return WH_E_NOMEM;
    cim->dir = "<memory>";
    for (size_t i = 0; i < nfiles && cim->nfiles < CIM_MAX_FILES; i++) {
        for (size_t k = 0; k < sizeof(KNOWN_FILES) / sizeof(KNOWN_FILES[0]); k++) {
            if (!files[i].name || wh_strcasecmp(files[i].name, KNOWN_FILES[k]) != 0 || cim_file_get(cim, KNOWN_FILES[k]))
                continue;
            cim_file *f = &cim->files[cim->nfiles++];
            f->name = KNOWN_FILES[k];
            f->m.data = files[i].size ? files[i].data : NULL;
            f->m.size = files[i].data ? files[i].size : 0;
            f->m.path = (char *)KNOWN_FILES[k];
            f->owned = false;
        }
    }
    wh_status st = open_common(cim);
    if (st != WH_OK) {
        wh_cim_close(cim);
        return st;
    }
    *out = cim;
    return WH_OK;
}



void wh_cim_close(wh_cim *cim)
{
    if (!cim) return;
    for (size_t i = 0; i < cim->nfiles; i++)
        if (cim->files[i].owned) wh_unmap_file(&cim->files[i].m);
    wh_arena_free(cim->arena);
    wh_arena_free(cim->tmp);
    free(cim->kparts);
    free(cim->kpool);
    free(cim);
}

const wh_cim_info *wh_cim_get_info(wh_cim *cim)
{
    cim_load_all(cim, false); // the class and instance counts
    return &cim->info;
}

const char *wh_cim_dir(const wh_cim *cim) { return cim->info.dir; }

uint32_t wh_cim_map_lookup(wh_cim *cim, bool index, uint32_t logical)
{
    return index ? cim_index_phys(cim, logical) : cim_data_phys(cim, logical);
}

size_t wh_cim_unallocated(wh_cim *cim, bool index, uint32_t *out, size_t max)
{
    const cim_section *s = index ? &cim->cur->index : &cim->cur->data;
    // Pages the map counts but the file does not hold are not evidence.
    const wh_mapped *f = index ? &cim->index : &cim->objects;
    uint32_t np = s->physical;
    if (f->data && f->size / CIM_PAGE < np) np = (uint32_t)(f->size / CIM_PAGE);
    uint8_t *used = calloc(np ? np : 1, 1);
    if (!used) return 0;
    for (uint32_t i = 0; i < s->nentries; i++)
        if (s->l2p[i] < np) used[s->l2p[i]] = 1;
    size_t n = 0;
    for (uint32_t i = 0; i < np; i++)
        if (!used[i]) {
            if (n < max) out[n] = i;
            n++;
        }
    free(used);
    return n;
}

wh_cim *wh_cim_new_detached(bool xp, wh_diag_sink *diags)
{
    size_t cap;
    wh_cim *cim = cim_alloc(NULL, diags, &cap);
    if (!cim) return NULL;
    cim->xp = xp;
    cim->info.xp = xp;
    cim->sys_ns_hash = "NS_";
    cim_names_seed(cim);
    return cim;
}

wh_status wh_cim_decode_class(wh_cim *cim, const uint8_t *rec, size_t n, const wh_cim_class **out)
{
    cim_classrec *c = cim_class_decode(cim, rec, n, NULL, "NS_", NULL);
    if (!c) return WH_E_CORRUPT;
    *out = &c->pub;
    return WH_OK;
}

wh_status wh_cim_decode_instance(wh_cim *cim, const uint8_t *rec, size_t n, const wh_cim_instance **out)
{
    wh_cim_instance *in = cim_instance_decode(cim, rec, n, NULL, "NS_", NULL, false);
    if (!in) return WH_E_CORRUPT;
    *out = in;
    return WH_OK;
}

size_t wh_cim_namespace_count(wh_cim *cim) { return cim->nss.n; }

const char *wh_cim_namespace(wh_cim *cim, size_t i)
{
    return i < cim->nss.n ? ((const cim_ns *)cim->nss.v[i])->name : NULL;
}

wh_status wh_cim_classes(wh_cim *cim, const char *ns, const wh_cim_class *const **out, size_t *n)
{
    cim_ns *x = cim_ns_find(cim, ns);
    if (!x) return WH_E_NOTFOUND;
    cim_ns_classes(cim, x);
    *out = x->classes;
    *n = x->nclasses;
    return WH_OK;
}

wh_status wh_cim_class_get(wh_cim *cim, const char *ns, const char *name, const wh_cim_class **out)
{
    cim_ns *x = cim_ns_find(cim, ns);
    if (!x) return WH_E_NOTFOUND;
    char h[65];
    cim_hash(name, strlen(name), cim->xp, h);
    cim_classrec *c = cim_class_by_hash(cim, x->hash, h);
    if (!c) return WH_E_NOTFOUND;
    cim_class_layout(cim, c);
    *out = &c->pub;
    return WH_OK;
}

typedef struct cim_query {
    const wh_cim_instance **list;
    size_t n;
} cim_query;

wh_status wh_cim_ns_instances(wh_cim *cim, const char *ns, const wh_cim_instance *const **out, size_t *n)
{
    cim_ns *x = cim_ns_find(cim, ns);
    if (!x) return WH_E_NOTFOUND;
    cim_ns_insts(cim, x);
    *out = (const wh_cim_instance *const *)x->insts;
    *n = x->ninsts;
    return WH_OK;
}

/* Is the instance of r one of cls (deep: or of a subclass)? An instance
 * shows its class's name; one whose class is missing, the name its
 * record's hash resolves to. */
static bool iref_is(wh_cim *cim, cim_ns *x, cim_iref *r, const char *cls, bool deep)
{
    if (r->cls) return deep ? wh_cim_class_is(&r->cls->pub, cls) : wh_strcasecmp(r->cls->pub.name, cls) == 0;
    if (deep) return false;
    const wh_cim_instance *in = cim_iref_decode(cim, x, r, cim->arena);
    return in && wh_strcasecmp(in->class_name, cls) == 0;
}

wh_status wh_cim_instances(wh_cim *cim, const char *ns, const char *cls, bool deep,
                           const wh_cim_instance *const **out, size_t *n)
{
    cim_ns *x = cim_ns_find(cim, ns);
    if (!x) return WH_E_NOTFOUND;
    // Results are kept: the handle owns them, and asking again must not
    // grow memory (a caller may ask once per instance).
    char key[512];
    snprintf(key, sizeof(key), "%s|%d|", x->hash, deep);
    size_t kl = strlen(key);
    for (size_t i = 0; cls[i] && kl < sizeof(key) - 1; i++)
        key[kl++] = (cls[i] >= 'a' && cls[i] <= 'z') ? (char)(cls[i] - 32) : cls[i];
    key[kl] = 0;
    cim_query *q = wh_strmap_get(&cim->queries, key);
    if (!q) {
        // Only the instances of the class are decoded; which those are is
        // known from the class found for each record (a record whose class
        // is missing is decoded to see the name it shows).
        (void)cim_ns_irefs(cim, x); // none when out of time
        size_t k = 0;
        for (size_t i = 0; i < x->nirefs; i++) k += iref_is(cim, x, &x->irefs[i], cls, deep);
        q = wh_arena_calloc(cim->arena, 1, sizeof(*q));
        const wh_cim_instance **res = wh_arena_calloc(cim->arena, k ? k : 1, sizeof(void *));
        char *kc = wh_arena_strdup(cim->arena, key);
        if (!q || !res || !kc) return WH_E_NOMEM;
        for (size_t i = 0; i < x->nirefs && q->n < k; i++) {
            if (!iref_is(cim, x, &x->irefs[i], cls, deep)) continue;
            const wh_cim_instance *in = cim_iref_decode(cim, x, &x->irefs[i], cim->arena);
            if (in) res[q->n++] = in;
        }
        q->list = res;
        if (wh_strmap_put(&cim->queries, kc, q) != 0) return WH_E_NOMEM;
    }
    *out = q->list;
    *n = q->n;
    return WH_OK;
}
