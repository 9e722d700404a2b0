/* Registry hive writer for tests: builds regf files (and new-format
 * transaction logs) from a tree of keys and values. It links nothing of
 * wmihunt, so reading what it writes is an independent check of lib/regf.
 * Layout: one base block, then a single hive bin holding every cell (a
 * bin may be any multiple of 4096 bytes), then a free cell to its end. */
#ifndef WH_REGFGEN_H
#define WH_REGFGEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct rg_hive rg_hive;

rg_hive *rg_new(const char *root_name, uint64_t root_written);
void rg_free(rg_hive *h);
/* Creates every missing key along path (backslash-separated, below the
 * root; UTF-8); written is the last-written time of the last one. */
int rg_key(rg_hive *h, const char *path, uint64_t written);
/* Adds a value to the key at path (created when missing). */
int rg_value(rg_hive *h, const char *path, const char *name, uint32_t type, const void *data, size_t n);
/* UTF-16LE encodings for REG_SZ / REG_MULTI_SZ (strings NULL-terminated
 * list); *n gets the size; malloc'd. */
uint8_t *rg_utf16z(const char *s, size_t *n);
uint8_t *rg_multi_sz(const char *const *list, size_t *n);

typedef struct rg_build_opts {
    uint32_t seq1, seq2;
    uint32_t minor;          /* 3..6; 0: 5 */
    uint32_t min_bins;       /* pad the hive bin to at least this many bytes */
    unsigned ri_over;        /* use an ri index of lh lists over this many subkeys (0: 1000) */
    int use_li;              /* leaf lists as li instead of lh */
} rg_build_opts;

/* The hive file; malloc'd. */
uint8_t *rg_build(rg_hive *h, const rg_build_opts *o, size_t *size);

/* Two new-format logs that turn primary (bins of `old`) into `neu`: the
 * dirty pages of neu (pages that differ) are split over two HvLE entries
 * with sequences seq and seq+1, one per log. */
int rg_logs_new(const uint8_t *old, size_t old_size, const uint8_t *neu, size_t neu_size, uint32_t seq,
                uint8_t **log1, size_t *n1, uint8_t **log2, size_t *n2);

/* ---- the SOFTWARE-shaped fixture and what a reader must find in it ---- */

#define RG_CIMOM "Microsoft\\WBEM\\CIMOM"
#define RG_ROOT_NAME "ROOT"
#define RG_CIMOM_WRITTEN 133500000000000000ull   /* 2024-01-19T11:20:00Z */
#define RG_AUTOREC_TS 133499999990000000ull      /* one second earlier, as a decimal string */
#define RG_MOF_COUNT 400                         /* entries: > 16344 bytes, so a db cell */
#define RG_DIRTY_EXTRA "C:\\Users\\Public\\evil\\persist.mof"
#define RG_DIRTY_TS 133500000600000000ull       /* the dirty variant's newer list time */

/* i-th Autorecover MOFs entry (static buffer). */
const char *rg_mof_entry(unsigned i);
/* SOFTWARE-shaped hive; dirty: the state after the logs (one more MOF entry
 * and a newer timestamp). Values of each type sit in Microsoft\WBEM\CIMOM
 * and in Fixture\Types. */
rg_hive *rg_software(int after_logs);

/* The dirty fixture: primary (the state before, sequences seq+1/seq), the
 * two logs, and the hive as it must read after replay (all malloc'd). */
typedef struct rg_dirty {
    uint8_t *primary, *log1, *log2, *after;
    size_t nprimary, nlog1, nlog2, nafter;
} rg_dirty;
int rg_software_dirty(uint32_t seq, rg_dirty *out);
void rg_dirty_free(rg_dirty *d);

#endif
