/* The one normalized record that every parser emits and that detection and
 * output read. A record is borrowed: it lives until the callback that
 * received it returns; keep a copy (wh_record_copy) to hold on to it. */
#ifndef WMIHUNT_RECORD_H
#define WMIHUNT_RECORD_H

#include "wmihunt/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wh_vtype {
    WH_V_NULL = 0,
    WH_V_BOOL,
    WH_V_INT,   /* signed 64-bit */
    WH_V_UINT,  /* unsigned 64-bit */
    WH_V_REAL,
    WH_V_STR,   /* UTF-8, may hold bytes that are not (see flags) */
    WH_V_TIME,  /* FILETIME */
    WH_V_BYTES, /* raw bytes, shown as hex */
    WH_V_ARRAY,
    WH_V_OBJECT /* named fields, e.g. the properties of an instance */
} wh_vtype;

struct wh_field;

/* str.lossy: a source string had invalid UTF-16/bytes, replaced by U+FFFD. */
typedef struct wh_value {
    wh_vtype type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        uint64_t ft;
        struct { const char *s; size_t len; bool lossy; } str;
        struct { const uint8_t *p; size_t len; } bytes;
        struct { const struct wh_value *items; size_t n; } arr;
        struct { const struct wh_field *fields; size_t n; } obj;
    } as;
} wh_value;

typedef struct wh_field {
    const char *name;
    wh_value v;
} wh_field;

/* A timestamp and what it means ("instance_written", "class_defined"...). */
typedef struct wh_timestamp {
    uint64_t ft;
    const char *desc;
} wh_timestamp;

#define WH_RECORD_MAX_TS 4

typedef struct wh_record {
    const char *artifact;   /* e.g. "cim.instance", "cim.binding" */
    const char *source;     /* file the evidence came from */
    uint64_t offset;        /* absolute offset in source, or WH_NO_OFFSET */
    const char *host;       /* may be NULL */
    const char *summary;    /* one line for text reports; may be NULL */
    size_t nts;
    wh_timestamp ts[WH_RECORD_MAX_TS];
    size_t nfields;
    const wh_field *fields;
} wh_record;

/* Return value of a record callback: nonzero stops the producer. */
typedef int (*wh_record_fn)(void *ud, const wh_record *rec);

/* Finds a field by name; NULL when absent. */
const wh_field *wh_record_field(const wh_record *rec, const char *name);

static inline wh_value wh_v_null(void) { wh_value v = {.type = WH_V_NULL}; return v; }
static inline wh_value wh_v_bool(bool b) { wh_value v = {.type = WH_V_BOOL, .as.b = b}; return v; }
static inline wh_value wh_v_int(int64_t i) { wh_value v = {.type = WH_V_INT, .as.i = i}; return v; }
static inline wh_value wh_v_uint(uint64_t u) { wh_value v = {.type = WH_V_UINT, .as.u = u}; return v; }
static inline wh_value wh_v_real(double d) { wh_value v = {.type = WH_V_REAL, .as.d = d}; return v; }
static inline wh_value wh_v_time(uint64_t ft) { wh_value v = {.type = WH_V_TIME, .as.ft = ft}; return v; }
wh_value wh_v_str(const char *s); /* s may be NULL: gives WH_V_NULL */

#ifdef __cplusplus
}
#endif
#endif
