/* Transaction-log replay into a private copy of the hive. Old format
 * (Vista/7, file type 1/2): base block, "DIRT" bitmap of 512-byte pages,
 * the pages. New format (8.1+, type 6): base block, then "HvLE" entries,
 * each with a sequence number and a list of dirty pages, applied in
 * sequence order from the primary's secondary sequence number on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regf/regf_int.h"

static uint32_t rotl(uint32_t x, unsigned r) { return (x << r) | (x >> (32 - r)); }

/* Marvin32 with the seed the registry uses for HvLE entries. */
uint64_t regf_marvin32(const uint8_t *p, size_t n)
{
    uint64_t seed = 0x82EF4D887A4E55C5ull;
    uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32);
#define MARVIN_BLOCK()          \
    do {                        \
        hi ^= lo;               \
        lo = rotl(lo, 20) + hi; \
        hi = rotl(hi, 9) ^ lo;  \
        lo = rotl(lo, 27) + hi; \
        hi = rotl(hi, 19);      \
    } while (0)
    while (n >= 4) {
        lo += wh_get_u32le(p);
        MARVIN_BLOCK();
        p += 4;
        n -= 4;
    }
    uint32_t fin = 0x80;
    if (n == 1) fin = 0x8000u | p[0];
    else if (n == 2) fin = 0x800000u | p[0] | ((uint32_t)p[1] << 8);
    else if (n == 3) fin = 0x80000000u | p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
    lo += fin;
    MARVIN_BLOCK();
    MARVIN_BLOCK();
#undef MARVIN_BLOCK
    return (uint64_t)lo | ((uint64_t)hi << 32);
}

typedef struct hvle {
    const wh_regf_log *log;
    size_t off, size;
    uint32_t seq, bins;
} hvle;

static bool base_valid_log(wh_regf *h, const wh_regf_log *l)
{
    if (l->size < REGF_SECTOR || memcmp(l->data, "regf", 4) != 0) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_BADSIG, l->name, 0, "log is not a registry log (no 'regf' base block); refused");
        return false;
    }
    if (!regf_base_ok(l->data, l->size)) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_CORRUPT, l->name, 508, "log base block checksum does not match; log refused");
        return false;
    }
    return true;
}

/* Valid HvLE entries of one log, in file order, each one sequence number
 * after the previous. */
static size_t log_entries(wh_regf *h, const wh_regf_log *l, hvle *out, size_t cap)
{
    const uint8_t *d = l->data;
    size_t pos = REGF_SECTOR, n = 0;
    while (pos < l->size && l->size - pos >= 40 && memcmp(d + pos, "HvLE", 4) == 0 && n < cap) {
        uint32_t size = wh_get_u32le(d + pos + 4), seq = wh_get_u32le(d + pos + 12);
        uint32_t bins = wh_get_u32le(d + pos + 16), npages = wh_get_u32le(d + pos + 20);
        if (size < 40 || size % REGF_SECTOR || size > l->size - pos) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, l->name, pos + 4, "log entry size %u is impossible; later entries ignored",
                     (unsigned)size);
            break;
        }
        if (regf_marvin32(d + pos + 40, size - 40) != wh_get_u64le(d + pos + 24) ||
            regf_marvin32(d + pos, 32) != wh_get_u64le(d + pos + 32)) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, l->name, pos, "log entry (sequence %u) fails its hash check; it and later entries ignored",
                     (unsigned)seq);
            break;
        }
        if (n && seq != out[n - 1].seq + 1) break; /* a stale tail from an older round */
        if ((uint64_t)npages * 8 > size - 40 || bins % 4096) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, l->name, pos + 20, "log entry page list does not fit; ignored");
            break;
        }
        uint64_t total = 0;
        bool ok = true;
        for (uint32_t i = 0; i < npages; i++) {
            uint32_t po = wh_get_u32le(d + pos + 40 + (size_t)i * 8), ps = wh_get_u32le(d + pos + 44 + (size_t)i * 8);
            total += ps;
            if ((uint64_t)po + ps > bins || po % 4096 || ps % 4096) ok = false;
        }
        if (!ok || total > size - 40 - (uint64_t)npages * 8) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, l->name, pos + 40, "log entry pages fall outside the hive bins; ignored");
            break;
        }
        out[n++] = (hvle){l, pos, size, seq, bins};
        pos += size;
    }
    return n;
}

static void set_base(uint8_t *b, uint32_t seq, uint32_t bins)
{
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(seq >> (8 * i));
        b[8 + i] = (uint8_t)(seq >> (8 * i));
        b[40 + i] = (uint8_t)(bins >> (8 * i));
        b[28 + i] = 0; /* a log's base block says "log"; the result is a primary */
    }
    uint32_t x = regf_checksum(b);
    for (int i = 0; i < 4; i++) b[508 + i] = (uint8_t)(x >> (8 * i));
}

/* A copy of the primary big enough for bins of `bins` bytes. */
static bool make_copy(wh_regf *h, uint64_t bins)
{
    uint64_t need = (uint64_t)REGF_BASE + bins;
    if (need < h->size) need = h->size;
    if (need > WH_LIMIT_REGF_HIVE || need > h->max_memory) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_LIMIT, h->name, 40, "replayed hive would need %llu bytes; not replayed",
                 (unsigned long long)need);
        return false;
    }
    h->copy = calloc(1, (size_t)need);
    if (!h->copy) return false;
    memcpy(h->copy, h->data, h->size);
    h->data = h->copy;
    h->size = (size_t)need;
    return true;
}

static bool replay_old(wh_regf *h, const wh_regf_log *l)
{
    uint32_t lseq1 = wh_get_u32le(l->data + 4), lseq2 = wh_get_u32le(l->data + 8);
    uint32_t bins = wh_get_u32le(l->data + 40);
    if (lseq1 != lseq2 || (h->info.checksum_ok && lseq1 < h->info.seq2)) {
        wh_diagf(h->diags, WH_SEV_INFO, WH_E_ARG, l->name, 4, "old-format log (sequences %u/%u) is older than the hive or unfinished; not applied",
                 (unsigned)lseq1, (unsigned)lseq2);
        return false;
    }
    size_t nbits = bins / REGF_SECTOR, nbytes = (nbits + 7) / 8;
    if (bins % 4096 || l->size < REGF_SECTOR + 4 || memcmp(l->data + REGF_SECTOR, "DIRT", 4) != 0 ||
        nbytes > l->size - REGF_SECTOR - 4) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_BADSIG, l->name, REGF_SECTOR, "old-format log has no usable dirty vector ('DIRT'); refused");
        return false;
    }
    const uint8_t *bm = l->data + REGF_SECTOR + 4;
    size_t pages = (REGF_SECTOR + 4 + nbytes + REGF_SECTOR - 1) / REGF_SECTOR * REGF_SECTOR;
    size_t ndirty = 0;
    for (size_t i = 0; i < nbits; i++) ndirty += (bm[i / 8] >> (i % 8)) & 1;
    if (pages > l->size || ndirty > (l->size - pages) / REGF_SECTOR) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_TRUNCATED, l->name, l->size, "old-format log holds fewer pages than its bitmap marks; refused");
        return false;
    }
    if (!h->copy && !make_copy(h, bins)) return false;
    if ((uint64_t)REGF_BASE + bins > h->size) return false;
    size_t src = pages;
    for (size_t i = 0; i < nbits; i++) {
        if (!((bm[i / 8] >> (i % 8)) & 1)) continue;
        memcpy(h->copy + REGF_BASE + i * REGF_SECTOR, l->data + src, REGF_SECTOR);
        src += REGF_SECTOR;
    }
    // The log's base block describes the hive as it should be.
    memcpy(h->copy, l->data, REGF_SECTOR);
    set_base(h->copy, lseq1, bins);
    h->info.log_entries = 1;
    h->info.log_pages = (unsigned)ndirty;
    return true;
}

static bool replay_new(wh_regf *h, const wh_regf_log **logs, size_t n)
{
    hvle *e = calloc(WH_LIMIT_REGF_LOG_ENTRIES * 2, sizeof(*e));
    if (!e) return false;
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) ne += log_entries(h, logs[i], e + ne, WH_LIMIT_REGF_LOG_ENTRIES);
    uint32_t start = h->info.checksum_ok ? h->info.seq2 : wh_get_u32le(logs[0]->data + 8);
    uint32_t seq = start;
    uint64_t maxbins = 0;
    // Which entries chain on from the start: find them first, to size the copy.
    for (;;) {
        size_t k = ne;
        for (size_t i = 0; i < ne; i++)
            if (e[i].seq == seq) k = i;
        if (k == ne) break;
        if (e[k].bins > maxbins) maxbins = e[k].bins;
        seq++;
        if (seq - start > WH_LIMIT_REGF_LOG_ENTRIES) break;
    }
    uint32_t last = seq;
    if (last == start || (!h->copy && !make_copy(h, maxbins))) {
        free(e);
        return false;
    }
    uint32_t bins = 0;
    unsigned pages = 0;
    for (seq = start; seq != last; seq++) {
        size_t k = 0;
        while (e[k].seq != seq) k++;
        const uint8_t *d = e[k].log->data + e[k].off;
        uint32_t npages = wh_get_u32le(d + 20);
        size_t src = 40 + (size_t)npages * 8;
        for (uint32_t i = 0; i < npages; i++) {
            uint32_t po = wh_get_u32le(d + 40 + (size_t)i * 8), ps = wh_get_u32le(d + 44 + (size_t)i * 8);
            memcpy(h->copy + REGF_BASE + po, d + src, ps); /* bounds checked in log_entries */
            src += ps;
            pages++;
        }
        bins = e[k].bins;
    }
    set_base(h->copy, last, bins);
    h->info.log_entries = last - start;
    h->info.log_pages = pages;
    free(e);
    return true;
}

wh_status regf_replay(wh_regf *h, const wh_regf_log *logs, size_t nlogs)
{
    const wh_regf_log *good[2];
    size_t ng = 0;
    bool any_new = false, any_old = false;
    for (size_t i = 0; i < nlogs && i < 2; i++) {
        if (!base_valid_log(h, &logs[i])) continue;
        uint32_t t = wh_get_u32le(logs[i].data + 28);
        if (t == 6) any_new = true;
        else if (t == 1 || t == 2) any_old = true;
        else {
            wh_diagf(h->diags, WH_SEV_ERROR, WH_E_CORRUPT, logs[i].name, 28, "log file type %u is not a transaction log; refused", (unsigned)t);
            continue;
        }
        good[ng++] = &logs[i];
    }
    const char *why = NULL;
    if (!h->info.checksum_ok) {
        wh_diagf(h->diags, ng ? WH_SEV_WARN : WH_SEV_ERROR, WH_E_CORRUPT, h->name, 508,
                 "base block checksum does not match (stored 0x%08x, computed 0x%08x)%s",
                 (unsigned)wh_get_u32le(h->data + 508), (unsigned)regf_checksum(h->data),
                 ng ? "; taking the base block from a log" : "");
        if (!ng) {
            if (!(h->flags & WH_REGF_OPT_IGNORE_CHECKSUM)) return WH_E_CORRUPT;
            h->info.log_statement = "base block is damaged and no usable log was given; hive read as is";
            return WH_OK;
        }
        // The log's base block replaces the broken one; its pages follow.
        if (!make_copy(h, wh_get_u32le(good[0]->data + 40))) return WH_E_NOMEM;
        memcpy(h->copy, good[0]->data, REGF_SECTOR);
        set_base(h->copy, wh_get_u32le(good[0]->data + 4), wh_get_u32le(good[0]->data + 40));
        h->info.base_from_log = true;
    }
    if (!h->info.dirty && h->info.checksum_ok) {
        h->info.log_statement = wh_arena_printf(h->arena, "hive is clean (sequences %u/%u); %s",
                                                (unsigned)h->info.seq1, (unsigned)h->info.seq2,
                                                nlogs ? "logs not needed and not applied" : "no logs needed");
        return WH_OK;
    }
    if (h->flags & WH_REGF_OPT_NO_REPLAY) why = "replay turned off";
    else if (!nlogs) why = "no logs given";
    else if (!ng) why = "every log given was refused";
    if (why) {
        if (h->info.dirty)
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_ARG, h->name, 4,
                     "hive is dirty (sequences %u/%u) and its logs were not applied (%s): recent changes may be missing",
                     (unsigned)h->info.seq1, (unsigned)h->info.seq2, why);
        h->info.log_statement = wh_arena_printf(h->arena, "hive is dirty (sequences %u/%u); logs NOT applied: %s",
                                                (unsigned)h->info.seq1, (unsigned)h->info.seq2, why);
        return WH_OK;
    }
    bool applied = false;
    if (any_new) {
        const wh_regf_log *nl[2];
        size_t nn = 0;
        for (size_t i = 0; i < ng; i++)
            if (wh_get_u32le(good[i]->data + 28) == 6) nl[nn++] = good[i];
        applied = replay_new(h, nl, nn);
    }
    if (!applied && any_old) {
        for (size_t i = 0; i < ng && !applied; i++)
            if (wh_get_u32le(good[i]->data + 28) != 6) applied = replay_old(h, good[i]);
    }
    h->info.logs_applied = applied;
    if (applied)
        h->info.log_statement = wh_arena_printf(
            h->arena, "hive is %s (sequences %u/%u); logs applied in memory: %u %s, %u dirty pages",
            h->info.dirty ? "dirty" : "damaged", (unsigned)h->info.seq1, (unsigned)h->info.seq2, h->info.log_entries,
            any_new ? "log entries" : "old-format log", h->info.log_pages);
    else {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_ARG, h->name, 4,
                 "hive is dirty (sequences %u/%u) but no log entry continues it: recent changes may be missing",
                 (unsigned)h->info.seq1, (unsigned)h->info.seq2);
        h->info.log_statement = wh_arena_printf(h->arena,
                                                "hive is dirty (sequences %u/%u); logs NOT applied: no log entry continues it",
                                                (unsigned)h->info.seq1, (unsigned)h->info.seq2);
    }
    return WH_OK;
}
