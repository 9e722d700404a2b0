/* Reader of the WMI CIM repository (wbem\Repository): XP (v2.1) and
 * Vista to Windows 11 (v2.2). Opened read-only; nothing is ever written.
 *
 * Ownership: a wh_cim handle owns every class, instance and string it hands
 * out; they stay valid until wh_cim_close(). Nothing returned needs freeing. */
#ifndef WMIHUNT_CIM_H
#define WMIHUNT_CIM_H

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_cim wh_cim;

/* CIM type codes (low byte of the on-disk type dword). */
enum {
    WH_CIM_SINT16 = 0x02, WH_CIM_SINT32 = 0x03, WH_CIM_REAL32 = 0x04,
    WH_CIM_REAL64 = 0x05, WH_CIM_STRING = 0x08, WH_CIM_BOOLEAN = 0x0B,
    WH_CIM_OBJECT = 0x0D, WH_CIM_SINT8 = 0x10, WH_CIM_UINT8 = 0x11,
    WH_CIM_UINT16 = 0x12, WH_CIM_UINT32 = 0x13, WH_CIM_SINT64 = 0x14,
    WH_CIM_UINT64 = 0x15, WH_CIM_DATETIME = 0x65, WH_CIM_REFERENCE = 0x66,
    WH_CIM_CHAR16 = 0x67
};
#define WH_CIM_ARRAY_FLAG 0x2000u
#define WH_CIM_TYPE_MASK 0xFFu

/* Name of a CIM type code ("string", "uint32", ...; arrays end in "[]"). */
const char *wh_cim_type_name(uint32_t cimtype, char *buf, size_t bufsize);

typedef struct wh_cim_opts {
    size_t size;         /* sizeof(wh_cim_opts), so the struct can grow */
    size_t max_memory;   /* arena cap in bytes; 0 = the default from limits.h */
    unsigned flags;      /* WH_CIM_OPT_* */
} wh_cim_opts;

/* Walk INDEX.BTR as python-cim and dissect.cim do, taking child pointer 0
 * as "none". On Vista+ that is wrong (page 0 is an ordinary page, and on
 * real repositories holds keys nothing else reaches); it exists only to
 * compare results with those readers. */
#define WH_CIM_OPT_REFERENCE_WALK 1u

/* Opens the repository in dir. File names match in any case; an XP "FS"
 * subfolder is found by itself. Returns WH_OK when something usable was
 * read (problems still go to diags), or an error when nothing was. */
WH_MUST_CHECK wh_status wh_cim_open(const char *dir, const wh_cim_opts *opts,
                                    wh_diag_sink *diags, wh_cim **out);
void wh_cim_close(wh_cim *cim);

/* The same from memory (fuzzers, carved or decompressed evidence). Names
 * are the Windows file names ("OBJECTS.DATA", "INDEX.BTR", "MAPPING1.MAP",
 * ..., any case). The buffers must outlive the handle. */
typedef struct wh_cim_memfile {
    const char *name;
    const void *data;
    size_t size;
} wh_cim_memfile;

WH_MUST_CHECK wh_status wh_cim_open_mem(const wh_cim_memfile *files, size_t nfiles, const wh_cim_opts *opts,
                                        wh_diag_sink *diags, wh_cim **out);

typedef struct wh_cim_mapinfo {
    const char *file;        /* path of the mapping file */
    bool valid;              /* parsed to its footer */
    bool current;
    uint32_t sequence, generation;
    uint32_t data_physical, data_entries, data_free, data_unmapped;
    uint32_t index_physical, index_entries, index_free, index_unmapped;
} wh_cim_mapinfo;

typedef struct wh_cim_info {
    const char *dir;             /* folder holding the repository files */
    bool xp;                     /* v2.1 (MD5 keys) rather than v2.2 */
    const char *current_mapping; /* file name, e.g. "MAPPING1.MAP" */
    uint32_t mapping_sequence, mapping_generation;
    size_t nmaps;
    const wh_cim_mapinfo *maps;
    uint32_t data_pages;   /* physical pages in OBJECTS.DATA */
    uint32_t index_pages;  /* physical pages in INDEX.BTR */
    uint32_t index_root;   /* logical page of the B-tree root */
    uint32_t index_tree_pages, index_depth; /* reached from the root; depth below root */
    size_t keys;           /* distinct keys in the B-tree */
    size_t keys_with_data; /* keys ending in .page.id.size */
    size_t namespaces, classes, instances; /* decoded, live objects */
    size_t unlinked_namespaces; /* have keys, but no parent links to them */
    size_t unallocated_data_pages, unallocated_index_pages;
} wh_cim_info;

const wh_cim_info *wh_cim_get_info(wh_cim *cim);
/* The repository's folder, as opened (no namespace is read for it). */
const char *wh_cim_dir(const wh_cim *cim);

/* Physical page of a logical page in the current map (data or index);
 * UINT32_MAX when it is not mapped. */
uint32_t wh_cim_map_lookup(wh_cim *cim, bool index, uint32_t logical);
/* Physical pages (below the map's page count) that no logical page of the
 * current map references, ascending; writes up to max, returns the count. */
size_t wh_cim_unallocated(wh_cim *cim, bool index, uint32_t *out, size_t max);



/* Where an object's bytes are. recovered: found in unallocated space or
 * slack rather than through the index. */
typedef struct wh_cim_loc {
    uint32_t logical_page;  /* UINT32_MAX when carved from an unmapped page */
    uint32_t physical_page;
    uint32_t record_id;
    uint32_t size;
    uint64_t offset;        /* absolute offset in OBJECTS.DATA */
    uint32_t pages;         /* physical pages the bytes were read from (0 or 1: one) */
    bool recovered;
    const char *recovered_from; /* "unallocated", "slack", "old-mapping" */
} wh_cim_loc;

typedef struct wh_cim_qualifier {
    const char *name;
    uint32_t cimtype;
    uint8_t flavor;
    wh_value value;
} wh_cim_qualifier;

typedef struct wh_cim_property {
    const char *name;
    const char *origin;   /* class that declares it */
    uint32_t cimtype;     /* full type dword (array flag in WH_CIM_ARRAY_FLAG) */
    uint16_t index;       /* position in the instance layout */
    uint32_t slot;        /* offset of the value slot in the value table */
    uint32_t level;       /* depth in the derivation, 0 = root class */
    bool is_key;
    bool own;             /* declared or overridden by this class itself */
    bool has_default;     /* the class gives a default value */
    bool default_inherited;
    wh_value default_value;
    size_t nquals;
    const wh_cim_qualifier *quals;
} wh_cim_property;

typedef struct wh_cim_method {
    const char *name;
    size_t nquals;
    const wh_cim_qualifier *quals;
} wh_cim_method;

typedef struct wh_cim_class {
    const char *ns;        /* namespace path, e.g. "root\\subscription" */
    const char *name;
    const char *super;     /* NULL for a root class */
    uint64_t defined;      /* FILETIME of the class definition */
    size_t nderiv;         /* ancestors, nearest first */
    const char *const *derivation;
    size_t nquals;
    const wh_cim_qualifier *quals;
    size_t nprops;         /* whole layout, inherited included, index order */
    const wh_cim_property *props;
    size_t nown;           /* properties this class declares itself */
    size_t nmethods;
    const wh_cim_method *methods;
    bool layout_complete;  /* every ancestor was found */
    wh_cim_loc loc;
    /* Recovered objects (wh_cim_recover) only; zero/NULL for live ones.
     * ns is set only when the evidence shows the namespace, and ns_from
     * says which: "index-key" (a key of the index names this record),
     * "live-twin" (a live object has the same bytes), "page-toc" (the other
     * objects of its page's table of contents are all in that namespace).
     * Otherwise ns is NULL and ns_candidates lists the namespaces whose
     * class definition decodes the bytes consistently (empty for a system
     * class, which any namespace may hold). */
    const char *ns_from;
    size_t nns_candidates;
    const char *const *ns_candidates;
    /* Every place these exact bytes were found, loc first; a live twin's
     * location is in the list too (recovered false). */
    size_t nlocs;
    const wh_cim_loc *locs;
    bool live_twin;        /* the same bytes are also a live object */
} wh_cim_class;

/* State of one instance value. */
enum { WH_CIM_VAL_SET = 0, WH_CIM_VAL_DEFAULT = 1, WH_CIM_VAL_NULL = 2 };

typedef struct wh_cim_propval {
    const wh_cim_property *prop;
    int state;             /* WH_CIM_VAL_* */
    wh_value value;        /* the default's value when state is DEFAULT */
    size_t nquals;
    const wh_cim_qualifier *quals;
} wh_cim_propval;

typedef struct wh_cim_instance {
    const char *ns;
    const char *class_name;
    const wh_cim_class *cls;  /* NULL when the class could not be found */
    const char *key;          /* key properties, e.g. Name="x" */
    uint64_t ts_written;      /* "timestamp 1": changes when the instance is written */
    uint64_t ts_class;        /* "timestamp 2": equals the class definition time */
    size_t nvals;
    const wh_cim_propval *vals;
    size_t nquals;
    const wh_cim_qualifier *quals;
    wh_cim_loc loc;
    /* Recovered objects (wh_cim_recover) only; zero/NULL for live ones.
     * ns is set only when the evidence shows the namespace, and ns_from
     * says which: "index-key" (a key of the index names this record),
     * "live-twin" (a live object has the same bytes), "page-toc" (the other
     * objects of its page's table of contents are all in that namespace).
     * Otherwise ns is NULL and ns_candidates lists the namespaces whose
     * class definition decodes the bytes consistently (empty for a system
     * class, which any namespace may hold). */
    const char *ns_from;
    size_t nns_candidates;
    const char *const *ns_candidates;
    /* Every place these exact bytes were found, loc first; a live twin's
     * location is in the list too (recovered false). */
    size_t nlocs;
    const wh_cim_loc *locs;
    bool live_twin;        /* the same bytes are also a live object */
} wh_cim_instance;

/* A handle with no files, to decode single object records (carved bytes,
 * slices of evidence). Close it with wh_cim_close(). */
wh_cim *wh_cim_new_detached(bool xp, wh_diag_sink *diags);
/* Decodes one class-definition record (as stored in OBJECTS.DATA). Its
 * layout covers only its own properties: ancestors are not available. */
wh_status wh_cim_decode_class(wh_cim *cim, const uint8_t *rec, size_t n, const wh_cim_class **out);
/* Decodes one instance record; without its class only the header is read
 * (class_name is then the class-name hash). */
wh_status wh_cim_decode_instance(wh_cim *cim, const uint8_t *rec, size_t n, const wh_cim_instance **out);

/* Value of a named property of an instance, NULL when the class has none. */
const wh_cim_propval *wh_cim_instance_get(const wh_cim_instance *inst, const char *prop);

/* Namespaces, sorted, "root" first; includes "__SystemClass". */
size_t wh_cim_namespace_count(wh_cim *cim);
const char *wh_cim_namespace(wh_cim *cim, size_t i);

/* Classes defined in one namespace (not the system classes it inherits),
 * sorted by name. *out points into the handle. */
wh_status wh_cim_classes(wh_cim *cim, const char *ns, const wh_cim_class *const **out, size_t *n);
/* One class by name; looks in ns, then in __SystemClass. */
wh_status wh_cim_class_get(wh_cim *cim, const char *ns, const char *name, const wh_cim_class **out);
/* Every instance stored in ns, each once, whatever its class (the full
 * walk: one pass instead of one query per class). */
wh_status wh_cim_ns_instances(wh_cim *cim, const char *ns, const wh_cim_instance *const **out, size_t *n);
/* Instances of a class in ns; with deep, of its subclasses too. */
wh_status wh_cim_instances(wh_cim *cim, const char *ns, const char *cls, bool deep,
                           const wh_cim_instance *const **out, size_t *n);
/* true when cls is name or derives from it. */
bool wh_cim_class_is(const wh_cim_class *cls, const char *name);

/* The persistence triad across every namespace. */
typedef struct wh_cim_binding {
    const char *ns;
    const wh_cim_instance *binding;   /* NULL for an orphan filter/consumer entry */
    const char *filter_ref, *consumer_ref;
    const wh_cim_instance *filter;    /* NULL when missing */
    const wh_cim_instance *consumer;  /* NULL when missing */
} wh_cim_binding;

typedef struct wh_cim_persistence {
    size_t nbindings;
    const wh_cim_binding *bindings;
    size_t norphan_filters;
    const wh_cim_instance *const *orphan_filters;
    size_t norphan_consumers;
    const wh_cim_instance *const *orphan_consumers;
} wh_cim_persistence;

wh_status wh_cim_get_persistence(wh_cim *cim, const wh_cim_persistence **out);

/* Objects recovered from unallocated pages, page slack and older mapping
 * files (classes, and instances whose bytes one of the class definitions of
 * their class hash decodes consistently: every namespace's live definition
 * and the recovered ones are tried). Byte-identical copies are one object
 * with all their locations; an object whose bytes are also live is kept,
 * marked live_twin. */
typedef struct wh_cim_recovered {
    size_t nclasses;
    const wh_cim_class *const *classes;
    size_t ninstances;
    const wh_cim_instance *const *instances;
} wh_cim_recovered;

wh_status wh_cim_recover(wh_cim *cim, const wh_cim_recovered **out);

/* Record producers for the CLI and the hunt. ns may be NULL (all). */
typedef enum wh_cim_view {
    WH_CIM_VIEW_INFO,        /* one "cim.info" record */
    WH_CIM_VIEW_NAMESPACES,  /* "cim.namespace" */
    WH_CIM_VIEW_CLASSES,     /* "cim.class" */
    WH_CIM_VIEW_PERSISTENCE, /* "cim.binding", "cim.filter", "cim.consumer" */
    WH_CIM_VIEW_TIMELINE,    /* "cim.timeline", one per timestamp */
    WH_CIM_VIEW_RECOVERED,   /* "cim.recovered" */
    WH_CIM_VIEW_KEYS         /* "cim.key", one per index key */
} wh_cim_view;

wh_status wh_cim_emit(wh_cim *cim, wh_cim_view view, const char *ns, wh_record_fn fn, void *ud);
/* "cim.class" with every property for one class. */
wh_status wh_cim_emit_class(wh_cim *cim, const char *ns, const char *name, wh_record_fn fn, void *ud);
/* "cim.instance" records for a class (deep). */
wh_status wh_cim_emit_instances(wh_cim *cim, const char *ns, const char *cls, wh_record_fn fn, void *ud);

/* The whole repository in one pass, streamed: "cim.namespace", then that
 * namespace's "cim.class" records (derivation, qualifiers, every property
 * with its default) and "cim.instance" records (every value); with recover,
 * "cim.class" (recovered) and "cim.recovered_instance" records last. ns may
 * be NULL (all). Records are built in a scratch arena reset after each. */
wh_status wh_cim_dump(wh_cim *cim, const char *ns, bool recover, wh_record_fn fn, void *ud);

/* Name hash as stored in keys: upper-case, UTF-16LE, SHA-256 (v2.2) or MD5
 * (v2.1), upper-case hex. out needs 65 bytes. */
void wh_cim_hash_name(const char *utf8_name, bool xp, char out[65]);

#ifdef __cplusplus
}
#endif
#endif
