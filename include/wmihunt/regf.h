/* Reader of Windows registry hive files (regf). Read-only: a dirty hive's
 * transaction logs (.LOG1/.LOG2, old DIRT and new HvLE formats) are
 * replayed into a private copy in memory, never into the evidence.
 *
 * Ownership: keys, values and strings handed out live until the next call
 * that walks or looks up (they sit in a scratch arena the handle reuses),
 * or, inside a walk callback, until that callback returns. */
#ifndef WMIHUNT_REGF_H
#define WMIHUNT_REGF_H

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_regf wh_regf;

/* One transaction log given from memory. */
typedef struct wh_regf_log {
    const void *data;
    size_t size;
    const char *name; /* labels diagnostics */
} wh_regf_log;

typedef struct wh_regf_opts {
    size_t size;          /* sizeof(wh_regf_opts) */
    unsigned flags;       /* WH_REGF_OPT_* */
    size_t max_memory;    /* arena cap; 0: WH_LIMIT_ARENA_DEFAULT */
    const char *logs[2];  /* wh_regf_open: paths of .LOG1/.LOG2 (either may be NULL) */
} wh_regf_opts;

/* Do not replay logs even when the hive is dirty and logs are given. */
#define WH_REGF_OPT_NO_REPLAY 1u
/* Read a hive whose base block fails its checksum (and no log repairs it)
 * instead of refusing it. */
#define WH_REGF_OPT_IGNORE_CHECKSUM 2u

WH_MUST_CHECK wh_status wh_regf_open(const char *path, const wh_regf_opts *opts, wh_diag_sink *diags,
                                     wh_regf **out);
/* From memory; the buffers must outlive the handle. */
WH_MUST_CHECK wh_status wh_regf_open_mem(const void *data, size_t size, const char *name,
                                         const wh_regf_log *logs, size_t nlogs, const wh_regf_opts *opts,
                                         wh_diag_sink *diags, wh_regf **out);
void wh_regf_close(wh_regf *h);

typedef struct wh_regf_info {
    const char *path;
    uint32_t seq1, seq2;          /* primary and secondary sequence numbers (as read) */
    uint64_t written;             /* base-block FILETIME (0 is common on Windows 10) */
    uint32_t major, minor;
    uint32_t file_type;
    uint32_t root_off;            /* root cell, relative to the first hive bin */
    uint32_t bins_size;           /* hive-bins data size in the base block (after replay) */
    bool checksum_ok;             /* of the primary's base block */
    const char *file_name;        /* base-block name field, UTF-8 */
    bool dirty;                   /* seq1 != seq2 in the primary */
    unsigned logs_given;          /* logs passed in */
    bool logs_applied;            /* the hive we read had log data replayed into it */
    unsigned log_entries;         /* HvLE entries (new) or 1 per old log applied */
    unsigned log_pages;           /* dirty pages written */
    bool base_from_log;           /* the primary's base block was broken; a log's was used */
    const char *log_statement;    /* one sentence: were logs applied, and why (not) */
    uint32_t hbins;               /* hive bins found along the chain */
    bool truncated;               /* the file ends before the bins the header claims */
} wh_regf_info;

const wh_regf_info *wh_regf_get_info(wh_regf *h);

/* The bytes the reader works on (after replay): base block + bins. */
const uint8_t *wh_regf_data(wh_regf *h, size_t *size);

typedef struct wh_regf_key {
    uint32_t off;             /* cell offset (relative to the first bin) */
    uint64_t abs_off;         /* absolute offset of the nk cell in the file */
    const char *name;         /* UTF-8; may hold NUL and control characters */
    size_t name_len;
    bool name_lossy;
    uint64_t written;         /* last-written FILETIME */
    uint16_t flags;
    uint32_t access_bits;
    uint32_t parent;
    uint32_t nsubkeys, nvalues;
    uint32_t subkeys_off, values_off;
    const char *class_name;   /* NULL when none */
} wh_regf_key;

/* Value types (winnt.h). */
enum {
    WH_REG_NONE = 0, WH_REG_SZ = 1, WH_REG_EXPAND_SZ = 2, WH_REG_BINARY = 3, WH_REG_DWORD = 4,
    WH_REG_DWORD_BE = 5, WH_REG_LINK = 6, WH_REG_MULTI_SZ = 7, WH_REG_QWORD = 11
};

typedef struct wh_regf_value {
    uint32_t off;             /* vk cell offset */
    uint64_t abs_off;
    const char *name;         /* "" for the default value */
    size_t name_len;
    uint32_t type;
    uint32_t size;            /* data size as declared */
    const uint8_t *data;      /* size bytes, or NULL when they could not be read */
    bool inline_data;         /* held in the vk cell's offset field */
    bool big_data;            /* joined from db segments */
} wh_regf_value;

/* Short name of a type ("REG_SZ"; "REG_0x1234" style otherwise, in buf[24]). */
const char *wh_regf_type_name(uint32_t type, char buf[24]);

WH_MUST_CHECK wh_status wh_regf_root(wh_regf *h, wh_regf_key *out);
/* A key by path below the root ("Microsoft\\WBEM\\CIMOM"), matched without
 * regard to case; WH_E_NOTFOUND when absent. */
WH_MUST_CHECK wh_status wh_regf_find(wh_regf *h, const char *path, wh_regf_key *out);

typedef int (*wh_regf_key_fn)(void *ud, const wh_regf_key *k);
typedef int (*wh_regf_value_fn)(void *ud, const wh_regf_value *v);
/* Direct subkeys / values of k; nonzero from fn stops (returns WH_DONE). */
wh_status wh_regf_subkeys(wh_regf *h, const wh_regf_key *k, wh_regf_key_fn fn, void *ud);
wh_status wh_regf_values(wh_regf *h, const wh_regf_key *k, wh_regf_value_fn fn, void *ud);
/* One value by name (case-insensitive; "" is the default value). */
WH_MUST_CHECK wh_status wh_regf_get_value(wh_regf *h, const wh_regf_key *k, const char *name, wh_regf_value *out);

/* Depth-first walk of every key reachable from the root; path is below the
 * root ("" for the root). Loops and shared cells are visited once. */
typedef int (*wh_regf_walk_fn)(void *ud, const char *path, size_t path_len, const wh_regf_key *k);
wh_status wh_regf_walk(wh_regf *h, wh_regf_walk_fn fn, void *ud);

/* Decoders into the handle's scratch arena. A REG_SZ (any UTF-16LE value)
 * as UTF-8, up to the first NUL; a REG_MULTI_SZ as strings (the empty
 * terminator is not an entry; an empty string before the end is kept). */
const char *wh_regf_value_str(wh_regf *h, const wh_regf_value *v, size_t *len, bool *lossy);
size_t wh_regf_value_multi(wh_regf *h, const wh_regf_value *v, const char ***out);

/* Records (docs/output.md, "Registry records"). */
/* reg.hive: the base block and whether logs were applied. */
int wh_regf_hive_record(wh_regf *h, const char *cimom_state, wh_record_fn fn, void *ud);
/* reg.key / reg.value for every key and value; returns records made or -1. */
long wh_regf_dump_records(wh_regf *h, wh_record_fn fn, void *ud);
/* The Microsoft\WBEM\CIMOM view: reg.cimom_key, reg.value per value,
 * reg.autorecover_mof per entry, reg.autorecover_timestamp. Returns records
 * made, 0 when the key is absent (*present false), -1 when fn stopped. */
long wh_regf_cimom_records(wh_regf *h, bool *present, wh_record_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
