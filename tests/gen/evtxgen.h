/* evtxgen: wmihunt's own writer of EVTX (Windows XML Event Log) files, for
 * test fixtures and benchmarks only (never shipped).
 *
 * It is written from shared/docs/evtx-format-notes.md and from the bytes of
 * real logs in shared/corpus/evtx, not from lib/evtx, so that reading its
 * output is an independent check of the reader. It has its own CRC-32,
 * SHA-256, UTF-16 and binary XML code and links nothing of wmihunt.
 *
 * Model. A record is a binary XML fragment: either a template instance (a
 * template = an element tree with substitutions, plus the values) or an
 * element tree written directly (template-less, as forwarded events are).
 * evtxgen_add_event() builds the Windows layout from System fields plus
 * EventData or UserData; evtxgen_add_frag() writes any fragment. Templates
 * and names are stored inline at their first use in a chunk and referenced
 * by offset afterwards, and both chunk hash tables are filled.
 *
 * Expectations. For every record the writer keeps the strings a correct
 * reader must render (docs/output.md "EVTX records"), computed from the
 * model, not from the bytes, and the record's status after any damage.
 *
 * Ownership: everything (nodes, values, fragments, expectations, the file
 * image) lives in the generator and is freed by evtxgen_free(). Strings are
 * copied in, so callers may pass temporaries. Errors are sticky: after the
 * first failure every call fails (NULL, 0 or -1) and evtxgen_error() says
 * why. */
#ifndef WH_TESTS_EVTXGEN_H
#define WH_TESTS_EVTXGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EVTXGEN_CHUNK_SIZE 65536u
#define EVTXGEN_HEADER_SIZE 4096u

/* Substitution value types (format notes §6). */
enum {
    EVTXGEN_T_NULL = 0x00, EVTXGEN_T_STR = 0x01, EVTXGEN_T_ANSI = 0x02,
    EVTXGEN_T_I8 = 0x03, EVTXGEN_T_U8 = 0x04, EVTXGEN_T_I16 = 0x05,
    EVTXGEN_T_U16 = 0x06, EVTXGEN_T_I32 = 0x07, EVTXGEN_T_U32 = 0x08,
    EVTXGEN_T_I64 = 0x09, EVTXGEN_T_U64 = 0x0a, EVTXGEN_T_FLOAT = 0x0b,
    EVTXGEN_T_DOUBLE = 0x0c, EVTXGEN_T_BOOL = 0x0d, EVTXGEN_T_BIN = 0x0e,
    EVTXGEN_T_GUID = 0x0f, EVTXGEN_T_SIZET = 0x10, EVTXGEN_T_FILETIME = 0x11,
    EVTXGEN_T_SYSTIME = 0x12, EVTXGEN_T_SID = 0x13, EVTXGEN_T_HEX32 = 0x14,
    EVTXGEN_T_HEX64 = 0x15, EVTXGEN_T_BINXML = 0x21, EVTXGEN_T_ARRAY = 0x80
};

typedef struct evtxgen evtxgen;
typedef struct evtxgen_frag evtxgen_frag;

/* A substitution value: its type and bytes as stored, and how Windows
 * renders it (one item; arrays one item per element). Read-only. */
typedef struct evtxgen_val {
    uint8_t type;
    uint32_t size;
    const uint8_t *bytes;
    size_t nitems;
    const char *const *items;
    const evtxgen_frag *binxml; /* EVTXGEN_T_BINXML only */
} evtxgen_val;

typedef enum evtxgen_kind {
    EVTXGEN_N_ELEM, EVTXGEN_N_ATTR, EVTXGEN_N_TEXT, EVTXGEN_N_SUBST,
    EVTXGEN_N_CDATA, EVTXGEN_N_CHARREF, EVTXGEN_N_ENTREF, EVTXGEN_N_PI
} evtxgen_kind;

/* A binary XML node. Elements hold attributes (ATTR nodes whose children
 * are the value: TEXT, SUBST, CHARREF, ENTREF) and content (any node but
 * ATTR). Read-only outside the builder functions. */
typedef struct evtxgen_node {
    evtxgen_kind kind;
    const char *name;    /* ELEM, ATTR, ENTREF name; PI target */
    const char *text;    /* TEXT, CDATA, PI data (UTF-8) */
    uint16_t charref;    /* CHARREF */
    uint16_t index;      /* SUBST */
    uint8_t type;        /* SUBST: expected type */
    bool optional;       /* SUBST: 0x0e */
    struct evtxgen_node *attrs, *children, *next;
    struct evtxgen_node *last_attr, *last_child;
} evtxgen_node;

typedef struct evtxgen_tmpl {
    const evtxgen_node *root;
    uint8_t guid[16]; /* from a hash of the tree: equal trees share it */
} evtxgen_tmpl;

/* One fragment: header 0f 01 01 00 (optional), an optional PI prologue,
 * then a template instance (tmpl + values) or a direct element (root). */
struct evtxgen_frag {
    bool header;
    const char *pi_target, *pi_data;
    const evtxgen_tmpl *tmpl;
    const evtxgen_val *const *values;
    size_t nvalues;
    const evtxgen_node *root;
};

/* What a reader must do with a record. */
typedef enum evtxgen_status {
    EVTXGEN_LIVE = 0,     /* returned, checksums good */
    EVTXGEN_LIVE_BADCRC,  /* returned with checksum_ok false */
    EVTXGEN_RECOVERED,    /* not live; carving chunk slack finds it */
    EVTXGEN_LOST          /* not a live record (damaged); may be carved */
} evtxgen_status;

/* One EventData/UserData entry in document order. EventData: name is the
 * Data Name (NULL when unnamed). UserData: the path below UserData joined
 * with '/', e.g. "Operation_ESStoConsumerBinding/Namespace". A repeated
 * name (arrays, repeated elements) appears once per item. */
typedef struct evtxgen_kv {
    const char *name;
    const char *value;
} evtxgen_kv;

typedef struct evtxgen_expect {
    evtxgen_status status;
    uint32_t chunk;          /* slot number in the file */
    uint64_t offset;         /* absolute file offset of the record */
    uint32_t size;
    uint64_t record_id;      /* record header identifier */
    const char *event_record_id, *time_created, *event_id, *provider,
        *channel, *computer, *level, *user_sid; /* NULL when absent */
    bool has_event_data, has_user_data;
    const evtxgen_kv *event_data;
    size_t n_event_data;
    const evtxgen_kv *user_data;
    size_t n_user_data;
    /* Features libevtx 20181227 (evtxexport) cannot read: template-less
     * elements at record level. */
    bool templateless;
} evtxgen_expect;

typedef struct evtxgen_opts {
    uint16_t minor_version;      /* 1 (Vista+, default) or 2 (Win10 2004+) */
    uint32_t records_per_chunk;  /* 0: as many as fit */
    uint64_t first_record_id;    /* 0: 1 */
    uint64_t first_time;         /* FILETIME of record 1's written time; 0: default */
} evtxgen_opts;

evtxgen *evtxgen_new(const evtxgen_opts *opts);
void evtxgen_free(evtxgen *g);
const char *evtxgen_error(const evtxgen *g);

/* ---- values (all return NULL after an error) ---- */
const evtxgen_val *evtxgen_v_null(evtxgen *g, uint32_t junk_size);
const evtxgen_val *evtxgen_v_str(evtxgen *g, const char *utf8);
/* The same with a terminating NUL stored, as manifest-based events do. */
const evtxgen_val *evtxgen_v_strz(evtxgen *g, const char *utf8);
/* Raw UTF-16 units (may be invalid) and the rendering a reader must give. */
const evtxgen_val *evtxgen_v_utf16(evtxgen *g, const uint16_t *units, size_t n,
                                   const char *render);
/* ANSI bytes (windows-1252), rendered as UTF-8. */
const evtxgen_val *evtxgen_v_ansi(evtxgen *g, const char *bytes);
const evtxgen_val *evtxgen_v_int(evtxgen *g, uint8_t type, int64_t v);  /* I8..I64 */
const evtxgen_val *evtxgen_v_uint(evtxgen *g, uint8_t type, uint64_t v); /* U8..U64, HEX32/64 */
const evtxgen_val *evtxgen_v_float(evtxgen *g, float v);
const evtxgen_val *evtxgen_v_double(evtxgen *g, double v);
const evtxgen_val *evtxgen_v_bool(evtxgen *g, uint32_t v);
const evtxgen_val *evtxgen_v_bin(evtxgen *g, const void *p, size_t n);
/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (braces optional, any case). */
const evtxgen_val *evtxgen_v_guid(evtxgen *g, const char *text);
const evtxgen_val *evtxgen_v_sizet(evtxgen *g, uint64_t v, unsigned width);
const evtxgen_val *evtxgen_v_filetime(evtxgen *g, uint64_t ft);
const evtxgen_val *evtxgen_v_systime(evtxgen *g, uint16_t year, uint16_t month,
                                     uint16_t day, uint16_t hour, uint16_t min,
                                     uint16_t sec, uint16_t ms);
/* "S-1-5-21-..." */
const evtxgen_val *evtxgen_v_sid(evtxgen *g, const char *text);
const evtxgen_val *evtxgen_v_binxml(evtxgen *g, const evtxgen_frag *f);
const evtxgen_val *evtxgen_v_strarray(evtxgen *g, const char *const *items, size_t n);
/* type = EVTXGEN_T_ARRAY | an integer type (I8..U64, HEX32, HEX64). */
const evtxgen_val *evtxgen_v_intarray(evtxgen *g, uint8_t type, const int64_t *v, size_t n);

/* ---- nodes ---- */
/* A new element, appended to parent's content unless parent is NULL. */
evtxgen_node *evtxgen_elem(evtxgen *g, evtxgen_node *parent, const char *name);
evtxgen_node *evtxgen_attr(evtxgen *g, evtxgen_node *elem, const char *name);
/* Content appended to an element or an attribute. */
void evtxgen_text(evtxgen *g, evtxgen_node *to, const char *utf8);
void evtxgen_subst(evtxgen *g, evtxgen_node *to, uint16_t index, uint8_t type, bool optional);
void evtxgen_cdata(evtxgen *g, evtxgen_node *to, const char *utf8);
void evtxgen_charref(evtxgen *g, evtxgen_node *to, uint16_t ch);
void evtxgen_entref(evtxgen *g, evtxgen_node *to, const char *entity);
void evtxgen_pi(evtxgen *g, evtxgen_node *to, const char *target, const char *data);

const evtxgen_tmpl *evtxgen_template(evtxgen *g, const evtxgen_node *root);
const evtxgen_frag *evtxgen_frag_tmpl(evtxgen *g, bool header, const evtxgen_tmpl *t,
                                      const evtxgen_val *const *values, size_t n);
const evtxgen_frag *evtxgen_frag_elem(evtxgen *g, bool header, const evtxgen_node *root);
/* A copy of f with a processing-instruction prologue <?target data?>. */
const evtxgen_frag *evtxgen_frag_with_pi(evtxgen *g, const evtxgen_frag *f, const char *target,
                                         const char *data);

/* ---- records ---- */
/* Appends a record holding f (a new chunk is started when it does not fit
 * or the per-chunk count is reached). written = header FILETIME, 0 for the
 * next default time. Returns the record identifier, or 0 on error. */
uint64_t evtxgen_add_frag(evtxgen *g, const evtxgen_frag *f, uint64_t written);
/* Identifier the next record will get. */
uint64_t evtxgen_next_id(const evtxgen *g);

typedef enum evtxgen_layout {
    EVTXGEN_L_EVENTDATA = 0, /* Event{System, BinXml{EventData{Data Name=..}}} */
    EVTXGEN_L_USERDATA,      /* Event{System, UserData{BinXml{Elem xmlns{..}}}} */
    EVTXGEN_L_CLASSIC,       /* unnamed Data from one string array + Binary */
    EVTXGEN_L_TEMPLATELESS   /* every element and value written as text */
} evtxgen_layout;

typedef struct evtxgen_data {
    const char *name;       /* NULL: unnamed Data */
    const evtxgen_val *v;
    bool optional;          /* 0x0e substitution: a NULL value drops the element */
} evtxgen_data;

typedef struct evtxgen_event {
    const char *provider, *provider_guid; /* guid NULL: attribute dropped */
    uint16_t event_id;
    int32_t qualifiers;                   /* <0: none */
    uint8_t version, level, opcode;
    uint16_t task;
    uint64_t keywords;
    uint64_t time_created;                /* FILETIME; 0: the written time */
    uint64_t event_record_id;             /* 0: the record identifier */
    const char *activity_id;              /* NULL: none */
    uint32_t pid, tid;
    const char *channel, *computer, *user_sid; /* sid NULL: none */
    evtxgen_layout layout;
    const evtxgen_data *data;             /* EventData items, or UserData children */
    size_t ndata;
    const char *ud_element, *ud_xmlns;    /* USERDATA: the child of UserData */
} evtxgen_event;

/* Builds the Windows layout for ev and appends it. Returns the record
 * identifier, or 0 on error. */
uint64_t evtxgen_add_event(evtxgen *g, const evtxgen_event *ev);
/* The fragment evtxgen_add_event would write for the next record, with
 * inner (a fragment for the BinXml value) instead of one built from
 * ev->data when inner is not NULL. Add it with evtxgen_add_frag(g, f, 0). */
const evtxgen_frag *evtxgen_event_frag(evtxgen *g, const evtxgen_event *ev, const evtxgen_frag *inner);

/* Closes the last chunk and fills the file header. */
int evtxgen_finish(evtxgen *g);

/* ---- damage (after evtxgen_finish) ---- */
typedef enum evtxgen_damage {
    EVTXGEN_D_BAD_CHUNK_SIGNATURE, EVTXGEN_D_BAD_FILE_HEADER_CRC,
    EVTXGEN_D_BAD_CHUNK_HEADER_CRC, EVTXGEN_D_BAD_RECORD_CRC,
    EVTXGEN_D_TRUNCATED, EVTXGEN_D_ZERO_SIZE_RECORD, EVTXGEN_D_SIZE_COPY_MISMATCH,
    EVTXGEN_D_CHUNK_PAST_ZEROES, EVTXGEN_D_DIRTY_WRONG_COUNT,
    EVTXGEN_D_TEMPLATE_OUTSIDE, EVTXGEN_D_TEMPLATE_SELF, EVTXGEN_D_SLACK_RECORDS,
    EVTXGEN_D_COUNT
} evtxgen_damage;

const char *evtxgen_damage_name(evtxgen_damage d);
/* Damages the finished file (only that defect: other checksums are kept
 * valid) and updates the expectations. Needs at least 3 chunks of 4+
 * records (see evtxgen_scenario_damaged). */
int evtxgen_apply_damage(evtxgen *g, evtxgen_damage d);

/* ---- output ---- */
const uint8_t *evtxgen_image(const evtxgen *g, size_t *size);
int evtxgen_write(const evtxgen *g, const char *path);
size_t evtxgen_expect_count(const evtxgen *g);
const evtxgen_expect *evtxgen_expect_at(const evtxgen *g, size_t i);
/* One JSON object per record a reader returns (not LOST ones). */
int evtxgen_write_expect(const evtxgen *g, FILE *f);

/* ---- scenarios (shared by wh-evtxgen and the tests) ---- */
/* Bits for scenario builders. */
#define EVTXGEN_SCN_LIBEVTX 0x1u /* leave out what libevtx 20181227 cannot read
                                    (tests/README.md, "EVTX writer") */
int evtxgen_scenario_wmi(evtxgen *g, unsigned flags);
int evtxgen_scenario_types(evtxgen *g, unsigned flags);
/* One Sysmon 20 consumer with hostile strings (evtxgen.c says which); no
 * expectations are kept for it. */
#define EVTXGEN_HOSTILE_PAD 30000u
int evtxgen_scenario_hostile(evtxgen *g);
/* The clean base file every damage kind is applied to. */
int evtxgen_scenario_damaged(evtxgen *g);
/* Synthetic records until the file reaches mb MiB. */
int evtxgen_scenario_big(evtxgen *g, unsigned mb);
/* Creates a generator with the scenario's options ("wmi": format 3.2, 12
 * records per chunk; "types": 3.1, 4 per chunk; "damaged": 3.1, 5 per
 * chunk; "big": 3.1, chunks filled), builds and finishes it. NULL only
 * when out of memory; otherwise check evtxgen_error(). */
evtxgen *evtxgen_scenario(const char *name, unsigned flags, unsigned mb);

/* ---- bench recipe (shared/docs/evtx-bench-recipe.md) ---- */
#define EVTXGEN_BENCH_SHA256 "b19c97e8919cd10bd6a1f5f8b6d9defc6c4643b60289b1d0a8edaccc91d4e6cb"
/* Builds the 64 MiB bench file from the corpus directory into *out (malloc,
 * caller frees). Returns 0, or -1 with a message in err. */
int evtxgen_bench_recipe(const char *corpus_evtx_dir, uint8_t **out, size_t *size,
                         char *err, size_t errlen);

/* ---- checksums and helpers (own code, shared with the tests) ---- */
uint32_t evtxgen_crc32(const void *p, size_t n);
void evtxgen_sha256(const void *p, size_t n, uint8_t out[32]);
void evtxgen_sha256_hex(const void *p, size_t n, char out[65]);
/* "YYYY-MM-DDThh:mm:ss.fffffffZ" */
void evtxgen_filetime_str(uint64_t ft, char out[32]);

#ifdef __cplusplus
}
#endif
#endif
