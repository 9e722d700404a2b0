/* Internal state of the registry hive reader, shared by lib/regf only. */
#ifndef WH_REGF_INT_H
#define WH_REGF_INT_H

#include "core/arena.h"
#include "core/file.h"
#include "core/limits.h"
#include "core/reader.h"
#include "wmihunt/regf.h"

#define REGF_BASE 4096u        /* base block; cell offsets count from here */
#define REGF_HBIN_HDR 32u
#define REGF_BIG_SEGMENT 16344u /* bytes of data in one db segment */
#define REGF_SECTOR 512u       /* old-format log page; HvLE alignment */

struct wh_regf {
    wh_mapped file;            /* wh_regf_open: the primary, mapped */
    wh_mapped logf[2];
    bool owned;
    char *name;
    const uint8_t *data;       /* the bytes we read: primary or replayed copy */
    size_t size;
    uint8_t *copy;             /* malloc'd replayed copy (NULL when none) */
    size_t bins_end;           /* REGF_BASE + usable bins, within size */
    wh_arena *arena;           /* lives as long as the handle */
    wh_arena *tmp;             /* scratch: reset per key in a walk */
    wh_diag_sink *diags;
    wh_regf_info info;
    unsigned flags;
    size_t max_memory;
    /* walk state */
    uint8_t *visited;          /* one bit per 8-byte cell slot */
    uint64_t list_work;
    char *path;
    size_t path_len, path_cap;
};

/* Base-block helpers (regf_hive.c). */
uint32_t regf_checksum(const uint8_t *base);
bool regf_base_ok(const uint8_t *p, size_t n);

/* Log replay (regf_log.c): fills h->copy/data/size and the info fields. */
wh_status regf_replay(wh_regf *h, const wh_regf_log *logs, size_t nlogs);
uint64_t regf_marvin32(const uint8_t *p, size_t n);

#endif
