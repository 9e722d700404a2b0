/* Internal state of the CIM reader, shared by the lib/cim files only. */
#ifndef WH_CIM_INT_H
#define WH_CIM_INT_H

#include "core/arena.h"
#include "core/file.h"
#include "core/limits.h"
#include "core/reader.h"
#include "core/strmap.h"
#include "wmihunt/cim.h"

#define CIM_PAGE WH_LIMIT_CIM_PAGE
#define CIM_TOC_MAX (CIM_PAGE / 16) /* TOC entries one page can hold: the format's own bound */
#define CIM_UNMAPPED 0xFFFFFFFFu

/* One section (objects or index) of a mapping file. */
typedef struct cim_section {
    uint32_t sequence, generation, physical, nentries, nfree;
    uint32_t *l2p;      /* logical -> physical, CIM_UNMAPPED when not mapped */
    uint32_t *used;     /* v2.2 4th entry dword (index entry 0: the root); NULL on XP */
    uint32_t *freelist;
    uint64_t offset;    /* of the section header in its file */
} cim_section;

typedef struct cim_mapfile {
    wh_cim_mapinfo info;
    char *name;          /* "MAPPING1.MAP" as found */
    bool xp;
    bool has_data, has_index;
    cim_section data, index;
} cim_mapfile;

/* One key of INDEX.BTR. Its text is its parts joined by '/' (then
 * ".page.id.size" when tail): the parts are interned in cim->kpool, as the
 * namespace and class parts repeat in nearly every key, so a key costs its
 * 24 bytes and a few part indices, not its 220 bytes of text. Read the
 * text with cim_key_text. */
typedef struct cim_key {
    uint32_t page, id, size; /* data reference when has_ref */
    uint32_t index_page; /* logical index page it came from */
    uint32_t part0;      /* first of its parts in cim->kparts */
    uint16_t nparts;     /* at least 1 */
    bool has_ref;
    bool tail;           /* the text goes on with ".page.id.size" */
} cim_key;

#define CIM_KEY_MAX 2048 /* a key's text with its NUL is shorter */

/* Tests only (an opts flag no public one uses): keep the sorted key list
 * even for a sound tree, to compare the two ways of reading keys. */
#define CIM_OPT_KEY_LIST (1u << 31)

typedef struct cim_classrec {
    wh_cim_class pub;
    const char *ns_hash;     /* "NS_<hex>" of the namespace it was found in */
    const char *hash;        /* hex hash of the upper-cased class name */
    /* raw parts kept for instance decoding */
    const uint8_t *defaults; /* default-values area */
    uint32_t ndefaults;
    const uint8_t *heap;
    uint32_t heapsize;
    uint32_t nprops_total;   /* properties of the whole derivation */
    uint32_t table_size;     /* value table bytes of an instance */
    struct cim_classrec *parent;
    int layout_state;        /* 0 not built, 1 building, 2 done */
    const wh_cim_property **by_index; /* nprops_total entries, may hold NULL */
    const char *source;
} cim_classrec;

/* One instance key of a namespace. Opening reads none of them: a
 * namespace's list is built when asked (its records' headers are read then,
 * and their classes found), and an instance is decoded only when a command
 * needs it, into the handle's arena or a scratch one. */
enum { CIM_IREF_HEAD = 0, /* header read, class looked up: not decoded yet */
       CIM_IREF_OK,       /* decoded once (diagnosed then) */
       CIM_IREF_BAD };    /* decoded once and malformed: not an instance */

typedef struct cim_iref {
    uint32_t page, id, size; /* its key's data reference */
    uint8_t state;           /* CIM_IREF_* */
    cim_classrec *cls;       /* NULL when its class is not found */
    const wh_cim_instance *in; /* kept in the handle's arena, or NULL */
} cim_iref;

typedef struct cim_ns {
    const char *name;        /* "root\\subscription" */
    const char *hash;        /* "NS_<hex>" */
    const wh_cim_class **classes; /* defined here, sorted by name (once classes_loaded) */
    size_t nclasses;
    const wh_cim_instance **insts; /* every instance stored here (once insts_loaded) */
    size_t ninsts;           /* valid once counted */
    bool classes_loaded, insts_loaded, counted, irefs_built, subs_built;
    bool heads_seen;         /* every instance header read (and diagnosed) once */
    bool decoded;            /* every instance decoded (and diagnosed) once */
    bool subs_decoded;       /* every subscription instance decoded once (persistence) */
    cim_iref *irefs;         /* instance keys with a readable record, key order */
    size_t nirefs;
    const wh_cim_instance **subs; /* filters, consumers, bindings (persistence) */
    size_t nsubs;
} cim_ns;

/* The repository's files, found in a folder or handed in as memory. */
typedef struct cim_file {
    const char *name;    /* canonical upper-case name, e.g. "MAPPING1.MAP" */
    wh_mapped m;         /* data, size, path (path is the label in diagnostics) */
    bool owned;          /* mapped by us: unmap on close */
} cim_file;

#define CIM_MAX_FILES 10

struct wh_cim {
    wh_arena *arena;
    cim_file files[CIM_MAX_FILES];
    unsigned layout_depth;   /* classes whose layout is being built (a chain of supers) */
    bool str_limit_hit;      /* the last heap string failed at WH_LIMIT_STRING */
    unsigned long value_bad; /* values that pointed outside their heap (carving checks it) */
    size_t nfiles;
    wh_diag_sink *diags;
    unsigned flags;          /* WH_CIM_OPT_* */
    wh_cim_info info;
    char *dir;
    bool xp;
    wh_mapped objects, index;
    cim_mapfile maps[5];
    size_t nmaps;
    cim_mapfile *cur;
    /* index: a sound tree is read in place (ktree); any other is kept as
     * a sorted list of distinct keys */
    bool ktree;
    uint32_t kroot;
    cim_key *keys;
    size_t nkeys;
    uint32_t *kparts;        /* keys' parts: offsets into kpool (malloc'd) */
    char *kpool;             /* every distinct key part once, NUL-ended (malloc'd) */
    /* names: hash hex -> const char *name */
    wh_strmap names;
    /* classes by "NS_<h>/<classhash>" */
    wh_strmap classes;
    /* namespaces, in discovery order; cim_ns * */
    wh_ptrvec nss;
    wh_strmap ns_by_name;    /* lower-case path -> cim_ns * */
    wh_strmap ns_by_hash;    /* "NS_<hex>" -> cim_ns * */
    wh_strmap neg;           /* class lookups that failed, not retried */
    wh_strmap queries;       /* wh_cim_instances results, so repeated queries cost nothing */
    wh_arena *tmp;           /* scratch for objects decoded, used and forgotten */
    bool counted_all, loaded_all;
    bool frozen;             /* look classes up, never decode one (an instance decodes in tmp) */
    size_t cap;              /* arena cap in bytes */
    bool cap_said;
    bool persistence_built, recovered_built;
    wh_cim_persistence persist;
    wh_cim_recovered recovered;
    const char *sys_ns_hash;
};

/* cim_repo.c: a file of the repository by canonical name, or NULL. */
const cim_file *cim_file_get(const wh_cim *cim, const char *name);

/* cim_map.c */
wh_status cim_maps_open(wh_cim *cim);
uint32_t cim_data_phys(const wh_cim *cim, uint32_t logical);
uint32_t cim_index_phys(const wh_cim *cim, uint32_t logical);

/* cim_index.c */
wh_status cim_index_walk(wh_cim *cim);
/* First key >= prefix; iterate while it starts with prefix. */
size_t cim_keys_lower(const wh_cim *cim, const char *prefix);
bool cim_key_has_prefix(const wh_cim *cim, const cim_key *k, const char *prefix, size_t plen);
/* strncmp(text of k, s, n) without building the text. */
int cim_key_ncmp(const wh_cim *cim, const cim_key *k, const char *s, size_t n);
/* The text of k in buf (CIM_KEY_MAX bytes); returns buf. */
const char *cim_key_text(const wh_cim *cim, const cim_key *k, char *buf);

/* A key as an iterator yields it: its text (valid until the iterator
 * moves) and its data reference. */
typedef struct cim_kref {
    const char *text;
    uint32_t page, id, size; /* when has_ref */
    uint32_t index_page;     /* logical index page it came from */
    bool has_ref;
} cim_kref;

/* One index page as read in place (cim_ktree.c). */
typedef enum cim_ipage_st {
    CIM_IPAGE_OK = 0,
    CIM_IPAGE_UNMAPPED,  /* the logical page is not mapped */
    CIM_IPAGE_PAST_END,  /* mapped past the end of INDEX.BTR */
    CIM_IPAGE_BADSIG,    /* not an active page */
    CIM_IPAGE_LIMIT,     /* more keys than WH_LIMIT_CIM_KEYS_PAGE */
    CIM_IPAGE_TRUNCATED, /* its tables run past the page end (fail_abs) */
    CIM_IPAGE_BADDEF,    /* a key: bad definition */
    CIM_IPAGE_OUTSIDE    /* a key: points outside the string table */
} cim_ipage_st;

typedef struct cim_ipage {
    const uint8_t *pg;
    uint64_t base, fail_abs;
    uint32_t logical, phys, sig, lid, n;
    uint16_t s, m;
    bool xp_kids;        /* a child pointer 0 means none */
    size_t kids_pos, keyidx_pos, kdef_pos, soff_pos, area;
} cim_ipage;

typedef struct cim_kit_frame {
    cim_ipage p;
    uint32_t j;
    bool entered;
} cim_kit_frame;

#define CIM_KIT_FRAMES (WH_LIMIT_CIM_TREE_DEPTH + 2)

/* Walks the keys in sorted order from a prefix on: through cim->keys, or
 * (a sound tree) down INDEX.BTR itself, one frame per level. */
typedef struct cim_kit {
    const wh_cim *cim;
    size_t i;                /* list: the next key in cim->keys */
    uint32_t depth;          /* tree: frames in use */
    cim_kit_frame st[CIM_KIT_FRAMES];
    cim_kref cur;
    char buf[CIM_KEY_MAX];
} cim_kit;

/* Places it before the first key >= prefix ("" for the first key). */
void cim_kit_seek(cim_kit *it, const wh_cim *cim, const char *prefix);
/* The next key, or NULL after the last. */
const cim_kref *cim_kit_next(cim_kit *it);

/* cim_page.c: bytes of an object through the current map (may copy into
 * the arena when it spans pages). Diagnoses and returns NULL on failure. */
const uint8_t *cim_object_get(wh_cim *cim, uint32_t page, uint32_t id, uint32_t size, wh_cim_loc *loc);
/* The same, copying a record that spans pages into arena a. */
const uint8_t *cim_object_read(wh_cim *cim, wh_arena *a, uint32_t page, uint32_t id, uint32_t size, wh_cim_loc *loc);
/* Physical page bytes, or NULL when past the end of OBJECTS.DATA. */
const uint8_t *cim_data_page(const wh_cim *cim, uint32_t physical);

/* cim_recover.c: slack of a logical data page as {offset, length} pairs.
 * carry: bytes of an object from an earlier page still covering this one
 * (in/out; start a walk at logical page 0 with 0). */
size_t cim_slack_regions(const wh_cim *cim, uint32_t logical, uint64_t *carry, uint32_t (*out)[2], size_t max);

/* cim_ktree.c: an index page's layout; its child j (CIM_UNMAPPED: none);
 * its key i into buf (CIM_KEY_MAX bytes) with where each part starts and
 * the last part; a key's data reference from its last part. */
cim_ipage_st cim_ipage_open(const wh_cim *cim, uint32_t logical, cim_ipage *p);
uint32_t cim_ipage_kid(const cim_ipage *p, uint32_t j);
cim_ipage_st cim_ipage_key(const cim_ipage *p, uint32_t i, char *buf, size_t *len, uint16_t *pstart, uint16_t *np,
                           const char **last);
bool cim_key_parse_ref(const char *last, cim_key *k, const char **tail);
/* Walks the tree from root without keeping a key; when it is sound, the
 * handle reads its keys in place from then on (*sound, cim->ktree). */
wh_status cim_ktree_probe(wh_cim *cim, uint32_t root, uint32_t nlogical, bool *sound);

/* cim_index.c: facts of one index page (for page slices and tests). */
bool cim_index_page_facts(const uint8_t *pg, size_t n, uint32_t *sig, uint32_t *logical, uint32_t *nkeys,
                          uint32_t *nstrings);

/* cim_class.c */
cim_classrec *cim_class_decode(wh_cim *cim, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                               const char *ns_hash, const char *ns_name);
bool cim_class_layout(wh_cim *cim, cim_classrec *c);
/* Class by namespace hash and class-name hash (falls back to __SystemClass). */
cim_classrec *cim_class_by_hash(wh_cim *cim, const char *ns_hash, const char *class_hash);
/* Decodes a value of cimtype from slot bytes + heap. */
wh_value cim_value_decode(wh_cim *cim, uint32_t cimtype, const uint8_t *slot, size_t slotlen,
                          const uint8_t *heap, size_t heapsize, const char *src, uint64_t abs);
size_t cim_slot_size(uint32_t cimtype);
bool cim_quals_decode(wh_cim *cim, wh_reader *r, const uint8_t *heap, size_t heapsize,
                      const wh_cim_qualifier **out, size_t *n);
const char *cim_heap_string(wh_cim *cim, const uint8_t *heap, size_t heapsize, uint32_t off,
                            bool *lossy);

/* cim_instance.c */
wh_cim_instance *cim_instance_decode(wh_cim *cim, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                                     const char *ns_hash, const char *ns_name, bool carving);
/* Class-name hash (upper case) and the size field of an instance record
 * (the record is hash + 16 + that many bytes); false when p is not one. */
bool cim_instance_header(const wh_cim *cim, const uint8_t *p, size_t n, char hash[65], uint32_t *rest);
/* Decodes with the layout of c. valid (may be NULL): every consistency
 * check held (heap ends the record, the heap names the class, padding state
 * bits clear, qualifier flag 1 or 2, every value inside the heap). */
wh_cim_instance *cim_instance_decode_as(wh_cim *cim, const uint8_t *p, size_t n, const wh_cim_loc *loc,
                                        cim_classrec *c, const char *ns_name, bool carving, bool *valid);

/* cim_names.c */
void cim_names_seed(wh_cim *cim);
const char *cim_name_of(const wh_cim *cim, const char *hash);
void cim_hash(const char *name, size_t n, bool xp, char out[65]);

/* cim_repo.c */
cim_ns *cim_ns_find(wh_cim *cim, const char *ns);
/* Decodes the class definitions of ns (once). */
void cim_ns_classes(wh_cim *cim, cim_ns *ns);
/* Counts ns's classes and instances (decoding instances in cim->tmp). */
void cim_ns_count(wh_cim *cim, cim_ns *ns);
/* Keeps every instance of ns in ns->insts. */
void cim_ns_insts(wh_cim *cim, cim_ns *ns);
/* Every namespace in order, its classes then its instances: counted
 * (decoded in scratch, each diagnosed once), or with keep, kept in
 * ns->insts. The order is the eager reader's: what an instance whose class
 * is missing is named depends on the classes read before it. */
void cim_load_all(wh_cim *cim, bool keep);
/* cim_iwalk.c: the instances of ns in key order, from its list when one
 * is built, else from the index (nothing kept). start is false when out
 * of memory or time; the entry next returns lasts until the next call. */
typedef struct cim_iwalk {
    wh_cim *cim;
    cim_ns *ns;
    size_t i;                /* list: the next entry */
    cim_kit *it;             /* index: its keys (malloc'd), NULL for the list */
    char prefix[256];
    size_t pl, n;            /* prefix length; records found */
    char last[65];           /* class hash of the last record, cls its class */
    cim_classrec *cls;
    bool sub;                /* cls is a subscription class persistence decoded */
    cim_iref cur;
    bool loud;               /* the first pass: header problems are said */
} cim_iwalk;
bool cim_iwalk_start(wh_cim *cim, cim_ns *ns, cim_iwalk *w);
cim_iref *cim_iwalk_next(cim_iwalk *w);
void cim_iwalk_end(cim_iwalk *w);
/* The instance keys of ns as a list (built once); false when out of memory or time. */
bool cim_ns_irefs(wh_cim *cim, cim_ns *ns);
/* Decodes one instance of ns into arena a (cim->arena keeps it, and a
 * second decode returns the same object); diagnoses only the first decode.
 * NULL when the record is malformed. */
const wh_cim_instance *cim_iref_decode(wh_cim *cim, cim_ns *ns, cim_iref *r, wh_arena *a);
/* Filters, consumers and bindings of ns, in key order (built once). */
void cim_ns_subs(wh_cim *cim, cim_ns *ns);
/* Is c (or an ancestor) __EventFilter, __EventConsumer or __FilterToConsumerBinding? */
bool cim_is_subscription(const cim_classrec *c);
/* Says once that the memory cap was reached. */
void cim_cap_check(wh_cim *cim);

/* A diagnostic of the repository. Once an allocation was refused by the
 * memory cap, the cap is said first, and what is said after it is marked:
 * a decoder that could not allocate reports what it could not read, which
 * is then the cap's doing as likely as damage (cim_repo.c). */
void cim_diagf(const wh_cim *cim, wh_severity sev, wh_status code, const char *src, uint64_t off, const char *fmt, ...)
    WH_PRINTF(6, 7);
#define CIM_DIAG(cim, sev, code, src, off, ...) cim_diagf((cim), sev, code, src, off, __VA_ARGS__)

#endif
