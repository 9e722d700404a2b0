/* Reader of MOF (Managed Object Format) text files: the source that
 * mofcomp compiles into the WMI repository, and a common way to plant WMI
 * event-subscription persistence. Read-only; the file is decoded from
 * UTF-8 or UTF-16 (LE/BE, with or without BOM) and parsed once.
 *
 * Two modes: tolerant (the default) reads damaged files as far as it can,
 * repairs what it recognises and lists what it skipped with offsets and
 * lines; strict stops at the first syntax error, like a compiler.
 *
 * Ownership: a record handed to a callback (and every string in it) lives
 * until the callback returns; everything else lives until wh_mof_close(). */
#ifndef WMIHUNT_MOF_H
#define WMIHUNT_MOF_H

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_mof wh_mof;

typedef struct wh_mof_opts {
    size_t size;       /* sizeof(wh_mof_opts) */
    unsigned flags;    /* WH_MOF_OPT_* */
    size_t max_memory; /* arena cap in bytes; 0 = WH_LIMIT_ARENA_DEFAULT */
} wh_mof_opts;

/* Stop at the first syntax error (no repairs, no skipping). */
#define WH_MOF_OPT_STRICT 1u

/* Opens and parses a file. Returns WH_OK when the file was read (even if
 * damaged: see the diagnostics and the mof.file record), WH_E_LIMIT when it
 * is larger than WH_LIMIT_MOF_FILE, WH_E_IO / WH_E_NOTFOUND when it cannot
 * be opened. *out is NULL on failure. */
WH_MUST_CHECK wh_status wh_mof_open(const char *path, const wh_mof_opts *opts, wh_diag_sink *diags, wh_mof **out);
/* The same from memory; name labels records and diagnostics. The buffer
 * must outlive the handle. No file-system timestamps, no include lookup. */
WH_MUST_CHECK wh_status wh_mof_open_mem(const void *data, size_t size, const char *name, const wh_mof_opts *opts,
                                        wh_diag_sink *diags, wh_mof **out);
void wh_mof_close(wh_mof *m);

typedef struct wh_mof_info {
    const char *path;
    const char *encoding;     /* "utf-8", "utf-8-bom", "utf-16le", "utf-16le-bom", "utf-16be", "utf-16be-bom", "binary-mof" */
    uint64_t size;
    size_t instances, classes; /* top-level declarations read */
    size_t persistence;        /* of which filters, consumers, bindings */
    size_t skipped, repairs;   /* tolerant mode: regions skipped, repairs made */
    bool autorecover;          /* #pragma autorecover seen */
    bool complete;             /* parsed to the end without a syntax error */
} wh_mof_info;

const wh_mof_info *wh_mof_get_info(const wh_mof *m);

/* Emits "mof.file", then "mof.class" and "mof.instance" records in file
 * order (docs/output.md, "MOF records"). Stops when fn returns nonzero. */
wh_status wh_mof_emit(wh_mof *m, wh_record_fn fn, void *ud);

/* True for __EventFilter, __FilterToConsumerBinding and any class whose
 * name ends in "EventConsumer" (case-insensitive). */
bool wh_mof_is_persistence_class(const char *cls);

#ifdef __cplusplus
}
#endif
#endif
