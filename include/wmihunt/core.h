/* wmihunt core: status codes and diagnostics shared by every module.
 * Ownership: the library never prints; every problem it meets goes to the
 * caller's diagnostic sink, named by file and absolute byte offset. */
#ifndef WMIHUNT_CORE_H
#define WMIHUNT_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WH_MUST_CHECK __attribute__((warn_unused_result))
#if defined(__MINGW32__)
/* mingw-w64's C99 printf (__USE_MINGW_ANSI_STDIO): %zu and %lld work. */
#define WH_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define WH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif
#else
#define WH_MUST_CHECK
#define WH_PRINTF(f, a)
#endif

typedef enum wh_status {
    WH_OK = 0,
    WH_DONE,        /* iteration finished */
    WH_E_TRUNCATED, /* data ends before the structure does */
    WH_E_BADSIG,    /* signature or magic does not match */
    WH_E_CORRUPT,   /* a field holds an impossible value */
    WH_E_LIMIT,     /* a bound from limits.h (or --max-memory) was reached */
    WH_E_NOMEM,
    WH_E_IO,
    WH_E_ARG,
    WH_E_NOTFOUND
} wh_status;

/* Short stable name of a status ("truncated", "corrupt", ...). */
const char *wh_status_str(wh_status st);

typedef enum wh_severity {
    WH_SEV_INFO = 0,  /* worth knowing, nothing lost */
    WH_SEV_WARN,      /* one record or object skipped; the rest goes on */
    WH_SEV_ERROR,     /* a whole structure (file, map, tree) is unusable */
    WH_SEV_COUNT
} wh_severity;

typedef struct wh_diag {
    wh_severity sev;
    wh_status code;
    const char *source; /* file path, or "-" for memory */
    uint64_t offset;    /* absolute byte offset in source; UINT64_MAX if none */
    const char *msg;
} wh_diag;

typedef void (*wh_diag_fn)(void *ud, const wh_diag *d);

/* A sink: fn may be NULL (diagnostics are only counted). It also carries
 * the per-file time budget (wh_diag_budget), for every parser gets it. */
typedef struct wh_diag_sink {
    wh_diag_fn fn;
    void *ud;
    unsigned long count[WH_SEV_COUNT];
    uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: no budget */
    double budget_s;
    int expired;
} wh_diag_sink;

#define WH_NO_OFFSET UINT64_MAX

/* Starts the time budget for the next file: a crafted file that keeps a
 * parser busy within every structural limit still ends. 0: none. */
void wh_diag_budget(wh_diag_sink *sink, double seconds);
/* True once the file's budget is spent. The first call that finds it spent
 * reports an error naming source and offset. Parsers call it between units
 * of work (chunks, index pages, keys, declarations) and stop reading the
 * file, keeping what they have. */
bool wh_diag_expired(wh_diag_sink *sink, const char *source, uint64_t offset);

void wh_diagf(wh_diag_sink *sink, wh_severity sev, wh_status code,
              const char *source, uint64_t offset, const char *fmt, ...)
    WH_PRINTF(6, 7);

/* Formats a FILETIME (100 ns ticks since 1601) as ISO 8601 UTC with
 * microseconds, e.g. "2022-03-10T16:35:19.258492Z". buf needs 32 bytes.
 * Returns false (and writes "") for 0 or values past year 9999. */
bool wh_filetime_iso(uint64_t ft, char buf[32]);

/* Seconds since the Unix epoch (with fraction) of a FILETIME. */
double wh_filetime_unix(uint64_t ft);

#ifdef __cplusplus
}
#endif
#endif
