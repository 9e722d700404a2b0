/* Internal state of the EVTX reader, shared by the lib/evtx files only. */
#ifndef WH_EVTX_INT_H
#define WH_EVTX_INT_H

#include "core/arena.h"
#include "core/limits.h"
#include "core/file.h"
#include "core/reader.h"
#include "core/sbuf.h"
#include "wmihunt/evtx.h"

#define EVTX_HEADER 4096u
#define EVTX_CHUNK 65536u
#define EVTX_CHUNK_HDR 512u
#define EVTX_REC_MIN 28u

/* A substitution value: raw bytes in the chunk, typed; BinXml parsed. */
typedef struct ev_val {
    uint8_t type;
    uint32_t size;
    const uint8_t *p;
    struct ev_node *bx;   /* type 0x21: the nested document */
} ev_val;

enum { EV_ELEM = 1, EV_TEXT, EV_SUBST, EV_CDATA, EV_CHARREF, EV_ENTREF, EV_PI, EV_TEMPLATE };

typedef struct ev_attr {
    const char *name;
    struct ev_node *value;   /* list of text / substitution / reference nodes */
    struct ev_attr *next;
} ev_attr;

typedef struct ev_node {
    uint8_t kind;
    uint8_t subst_type;      /* EV_SUBST: the type the template expects */
    bool optional;           /* EV_SUBST: 0x0e */
    uint16_t index;          /* EV_SUBST: value index; EV_CHARREF: the character */
    const char *name;        /* EV_ELEM, EV_ENTREF, EV_PI target */
    ev_attr *attrs;
    struct ev_node *child, *next;
    const uint8_t *text;     /* EV_TEXT, EV_CDATA, EV_PI data: UTF-16LE in the chunk */
    uint32_t nchars;
    struct ev_node *body;    /* EV_TEMPLATE: the definition's nodes */
    ev_val *vals;            /* EV_TEMPLATE: its values */
    uint32_t nvals;
    uint32_t def_off;        /* EV_TEMPLATE: chunk offset of its definition */
} ev_node;

/* Where one System field of a template comes from: a substitution value,
 * literal text, or nowhere. Built once per template per chunk. */
typedef struct ev_src {
    int32_t idx;             /* >= 0: value index */
    bool optional;           /* an optional substitution: NULL means absent */
    const char *lit;         /* literal text, when idx < 0 */
} ev_src;

typedef struct ev_plan {
    bool usable;             /* every field is one substitution or literal */
    ev_src provider, guid, event_id, level, time, record_id, channel, computer, user;
} ev_plan;

/* Where we are when resolving: a node and the values in scope. */
typedef struct ev_cur {
    const ev_node *n;
    const ev_val *vals;
    uint32_t nvals;
    int item;                /* >= 0: this element stands for one item of an array value */
} ev_cur;

/* Per-thread parse state, reused across chunks. */
typedef struct ev_ctx {
    wh_evtx *e;
    wh_diag_sink *diags;     /* where this walk's diagnostics go (a worker buffers its own) */
    const uint8_t *chunk;    /* chunk base (65536 bytes available) */
    uint64_t chunk_off;      /* its absolute offset */
    uint32_t chunk_index;
    wh_arena *arena;         /* reset per chunk */
    const char **names;      /* name cache by chunk offset */
    ev_node **tmpls;         /* template cache by chunk offset */
    uint32_t *name_gen, *tmpl_gen, gen;
    uint8_t *tmpl_busy;      /* template being parsed: a self-reference is a loop */
    ev_plan **plans;         /* System plan per template offset (same generation as tmpls) */
    bool shallow;            /* System-only walk: nested BinXml values are not parsed */
    bool crc_pending;        /* records CRC of this chunk not checked yet */
    bool crc_bad;            /* ... and found wrong */
    /* The last few System strings rendered (provider, channel: the same
     * bytes record after record), valid until the chunk changes. */
    struct {
        const uint8_t *p;
        uint32_t size;
        uint8_t type;
        const char *s;
    } strc[4];
    unsigned strc_next;
    size_t nodes;            /* nodes made for the current record */
    int depth;
    bool error;              /* the current record failed */
    const char *why;
    uint64_t where;
} ev_ctx;

struct wh_evtx {
    wh_evtx_info info;
    wh_mapped file;
    bool owned;
    const uint8_t *data;
    size_t size;
    char *name;
    wh_diag_sink *diags;
    unsigned flags;
    int threads;
    size_t max_memory; /* 0: WH_LIMIT_EVTX_ARENA per chunk context */
};

/* evtx_binxml.c */
bool ev_ctx_init(ev_ctx *c, wh_evtx *e);
void ev_ctx_free(ev_ctx *c);
void ev_ctx_chunk(ev_ctx *c, const uint8_t *chunk, uint64_t off, uint32_t index);
/* Parses the binary XML of one record: [off, off+len) in the chunk. NULL
 * (with c->why, c->where) when it is malformed. */
ev_node *ev_parse_record(ev_ctx *c, uint32_t off, uint32_t len);

/* Fills the System fields of ev from doc (a full walk of the tree), or
 * from a template plan when the record is one template instance. */
void ev_system_fields(ev_ctx *c, const ev_node *doc, wh_evtx_event *ev, wh_sbuf *sb);
/* Full parse of the record behind an event of a system-only walk. */
bool ev_full(const wh_evtx_event *ev, wh_evtx_event *full, wh_sbuf *sb);

/* evtx_render.c */
typedef struct ev_doc {
    const ev_node *root;
    ev_ctx *ctx;
} ev_doc;

bool ev_root(const ev_node *doc, ev_cur *out);
bool ev_child(const ev_cur *parent, const char *name, ev_cur *out);
/* Calls fn for every child element (arrays expanded); stops on nonzero. */
int ev_each_child(const ev_cur *parent, int (*fn)(void *ud, const ev_cur *child), void *ud);
/* Renders the text content / an attribute into sb (appends). false when absent. */
bool ev_text(const ev_cur *c, wh_sbuf *sb);
bool ev_list_text(const ev_node *list, const ev_val *vals, uint32_t nvals, wh_sbuf *sb);
bool ev_attr_text(const ev_cur *c, const char *name, wh_sbuf *sb);
void ev_value_str(const ev_val *v, int item, wh_sbuf *sb);
void ev_render_xml(const ev_node *doc, wh_sbuf *out, wh_sbuf *tmp);
void ev_render_json_data(const ev_node *doc, wh_sbuf *o, wh_sbuf *tmp, bool *first_field);
uint32_t ev_array_len(const ev_val *v);
bool ev_data(const ev_node *doc, const char *name, wh_sbuf *sb, wh_sbuf *tmp);
typedef void (*ev_data_fn)(void *ud, const char *key, size_t keylen, const char *v, size_t n);
bool ev_data_each(const ev_node *doc, ev_data_fn fn, void *ud, wh_sbuf *sb, wh_sbuf *tmp);
void ev_leaves(const ev_node *doc, void (*fn)(void *, const char *, const char *, size_t), void *ud, wh_sbuf *sb,
               wh_sbuf *tmp);
/* FILETIME as Windows prints it: 7 fractional digits and Z. */
void filetime_str(wh_sbuf *sb, uint64_t ft);

#endif
