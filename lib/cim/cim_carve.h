/* Recovery internals shared by cim_recover.c (the page scans, namespace
 * evidence, results) and cim_carve.c (candidate layouts, bytes across
 * pages, byte identity). */
#ifndef WH_CIM_CARVE_H
#define WH_CIM_CARVE_H

#include "cim/cim_int.h"

/* A class definition an instance of its hash may have been written with. */
typedef struct carve_cand {
    cim_classrec *c;
    const char *ns;        /* namespace of a live definition; NULL: system class or unknown */
    bool system;           /* defined in __SystemClass: any namespace may hold its instances */
    bool recovered;        /* a recovered definition */
} carve_cand;

/* One distinct object (its bytes), live or recovered. */
typedef struct carve_obj {
    const uint8_t *bytes;
    size_t n;
    bool live;
    bool is_class;
    wh_cim_instance *inst; /* recovered instance, or the live one */
    cim_classrec *cls;     /* recovered class, or the live one */
    wh_ptrvec locs;        /* wh_cim_loc *, recovered copies (first = where found first) */
    struct carve_obj *twin; /* the live object with the same bytes (or, on a live one, its recovered copy) */
    wh_ptrvec nscand;      /* namespaces whose definition fits (const char *) */
    wh_ptrvec *cands;      /* candidate definitions tried (instances) */
    struct carve_obj *next; /* same hash key, different bytes */
    size_t rec;            /* its place in carve.recs (recovered objects) */
} carve_obj;

/* Where a hit was found: enough to follow the object onto further pages. */
typedef struct carve_site {
    uint32_t phys;
    uint32_t logical;      /* current-map logical page (slack), old-map logical (old-mapping), else UINT32_MAX */
    int oldmap;            /* index in cim->maps of the older map (old-mapping), else -1 */
    const char *why;       /* "unallocated", "slack", "old-mapping" */
} carve_site;

typedef struct carve {
    wh_cim *cim;
    uint32_t npages;
    uint8_t *alloc;          /* physical page -> mapped by the current map */
    uint32_t *old_logical;   /* physical page -> logical page in an older map */
    int8_t *old_map;         /* physical page -> that map's index in cim->maps, -1 none */
    wh_strmap cands;         /* class hash -> wh_ptrvec * of carve_cand * */
    wh_strmap objs;          /* "<fnv64>:<size>" -> carve_obj * chain (recovered objects only) */
    wh_strmap sizes;         /* "<size>" of every object in objs: a live object of no such size is
                                not hashed at all (carve_find) */
    wh_strmap keyref;        /* "<record id>.<size>" of a recovered location -> "NS_<hex>" from index keys */
    wh_ptrvec recs;          /* carve_obj * of every distinct recovered copy, in the order found */
    wh_ptrvec classes, insts; /* carve_obj * of recovered objects, in discovery order */
    uint8_t *scratch;        /* bytes assembled over pages (malloc) */
    size_t scratch_cap;
} carve;

/* cim_carve.c */
/* Candidate definitions by class hash: every live definition of every
 * namespace. */
bool carve_cands_live(carve *cv);
void carve_cand_add(carve *cv, const char *hash, cim_classrec *c, const char *ns, bool system, bool recovered);
wh_ptrvec *carve_cands(carve *cv, const char *hash);
/* Bytes [off, off+n) of an object that starts in page site->phys and may
 * continue on the pages that follow it (in the map that reached the page;
 * the next physical pages for an unallocated one). NULL when a page is
 * missing; *pages: pages read. The result is valid until the next call. */
const uint8_t *carve_bytes(carve *cv, const carve_site *site, uint32_t off, size_t n, uint32_t *pages);
/* Live objects with the bytes of a recovered one (cv->recs from `from` on)
 * become its twin. Live objects are not indexed: they are read again, in
 * the full reader's order, once the pages are scanned, so memory follows
 * what is recovered, not the repository. */
void carve_link_live(carve *cv, size_t from);
/* The object with these exact bytes, or NULL. */
carve_obj *carve_find(carve *cv, const uint8_t *p, size_t n);
/* Adds a distinct recovered object (bytes must stay valid: mapped or arena). */
carve_obj *carve_add(carve *cv, const uint8_t *p, size_t n, bool is_class);
/* Decodes an instance record with each candidate of its class hash and
 * keeps a decoding every check holds for; *nsout gets the namespaces that
 * fit (names; a system class adds none). NULL when no candidate fits. */
wh_cim_instance *carve_decode_instance(carve *cv, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                                       wh_ptrvec *cands, wh_ptrvec *nsout);

#endif
