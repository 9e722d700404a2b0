/* Registry hive reader: base block, hive bins, cells, keys, values, big
 * data, and a loop-proof walk. Format notes: docs/formats/regf.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "regf/regf_int.h"

/* ---- base block ---- */

uint32_t regf_checksum(const uint8_t *base)
{
    uint32_t x = 0;
    for (size_t i = 0; i < 508; i += 4) x ^= wh_get_u32le(base + i);
    // Windows avoids the two values that mean "unset".
    if (x == 0xFFFFFFFFu) x = 0xFFFFFFFEu;
    if (x == 0) x = 1;
    return x;
}

bool regf_base_ok(const uint8_t *p, size_t n)
{
    return n >= 512 && memcmp(p, "regf", 4) == 0 && regf_checksum(p) == wh_get_u32le(p + 508);
}

const char *wh_regf_type_name(uint32_t type, char buf[24])
{
    static const char *const n[] = {"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
                                    "REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
                                    "REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST",
                                    "REG_QWORD"};
    if (type < sizeof(n) / sizeof(n[0])) return n[type];
    snprintf(buf, 24, "REG_0x%x", (unsigned)type);
    return buf;
}

/* ---- open / close ---- */

static void read_info(wh_regf *h)
{
    const uint8_t *b = h->data;
    wh_regf_info *in = &h->info;
    in->written = wh_get_u64le(b + 12);
    in->major = wh_get_u32le(b + 20);
    in->minor = wh_get_u32le(b + 24);
    in->file_type = wh_get_u32le(b + 28);
    in->root_off = wh_get_u32le(b + 36);
    in->bins_size = wh_get_u32le(b + 40);
    in->file_name = wh_utf16le_to_utf8(h->arena, b + 48, 32, true, NULL, NULL);
}

/* Follows the chain of hive bins; damage is reported, cells stay reachable
 * by offset either way (a broken chain does not hide later bins). */
static void scan_bins(wh_regf *h)
{
    wh_reader r;
    wh_rd_init(&r, h->data, h->bins_end, 0, h->name);
    size_t pos = REGF_BASE;
    while (pos < h->bins_end) {
        uint32_t off = 0, sz = 0;
        if (h->bins_end - pos < REGF_HBIN_HDR || memcmp(h->data + pos, "hbin", 4) != 0) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_BADSIG, h->name, pos,
                     "hive bin chain breaks here (no 'hbin'); %zu bytes of bins not in the chain",
                     h->bins_end - pos);
            return;
        }
        (void)wh_rd_u32_at(&r, pos + 4, &off);
        (void)wh_rd_u32_at(&r, pos + 8, &sz);
        if (off != pos - REGF_BASE)
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, pos + 4,
                     "hive bin says it is at 0x%x, it is at 0x%zx", (unsigned)off, pos - REGF_BASE);
        if (sz < 4096 || sz % 4096 || sz > h->bins_end - pos) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, pos + 8,
                     "hive bin size %u is not a multiple of 4096 inside the bins", (unsigned)sz);
            h->info.hbins++;
            return;
        }
        h->info.hbins++;
        pos += sz;
    }
}

static wh_status finish_open(wh_regf *h, const wh_regf_log *logs, size_t nlogs)
{
    if (h->size < 4 || memcmp(h->data, "regf", 4) != 0) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_BADSIG, h->name, 0, "not a regf hive (no 'regf' signature%s)",
                 h->size >= 4 && memcmp(h->data, "CREG", 4) == 0 ? "; a Windows 9x CREG file" : "");
        return WH_E_BADSIG;
    }
    if (h->size < REGF_BASE) {
        wh_diagf(h->diags, WH_SEV_ERROR, WH_E_TRUNCATED, h->name, h->size,
                 "file ends inside the 4096-byte base block");
        return WH_E_TRUNCATED;
    }
    h->info.path = h->name;
    h->info.seq1 = wh_get_u32le(h->data + 4);
    h->info.seq2 = wh_get_u32le(h->data + 8);
    h->info.checksum_ok = regf_base_ok(h->data, h->size);
    h->info.dirty = h->info.seq1 != h->info.seq2;
    h->info.logs_given = (unsigned)nlogs;
    wh_status st = regf_replay(h, logs, nlogs);
    if (st != WH_OK) return st;
    read_info(h);
    uint64_t want = (uint64_t)REGF_BASE + h->info.bins_size;
    h->bins_end = want <= h->size ? (size_t)want : h->size;
    if (want > h->size) {
        h->info.truncated = true;
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_TRUNCATED, h->name, h->size,
                 "file ends at %zu; the base block claims %u bytes of hive bins (to %llu): reading what is there",
                 h->size, (unsigned)h->info.bins_size, (unsigned long long)want);
    }
    scan_bins(h);
    size_t nslots = (h->bins_end - REGF_BASE) / 8 / 8 + 1;
    h->visited = calloc(nslots, 1);
    if (!h->visited) return WH_E_NOMEM;
    wh_regf_key root;
    st = wh_regf_root(h, &root);
    if (st != WH_OK) {
        wh_diagf(h->diags, WH_SEV_ERROR, st, h->name, (uint64_t)REGF_BASE + h->info.root_off,
                 "root key cell 0x%x cannot be read", (unsigned)h->info.root_off);
        return st;
    }
    return WH_OK;
}

static wh_regf *new_handle(const wh_regf_opts *opts, wh_diag_sink *diags)
{
    wh_regf *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->diags = diags;
    h->max_memory = opts && opts->max_memory ? opts->max_memory : (size_t)WH_LIMIT_ARENA_DEFAULT;
    h->flags = opts ? opts->flags : 0;
    h->arena = wh_arena_new(h->max_memory);
    h->tmp = wh_arena_new(h->max_memory);
    if (!h->arena || !h->tmp) {
        wh_arena_free(h->arena);
        wh_arena_free(h->tmp);
        free(h);
        return NULL;
    }
    return h;
}

wh_status wh_regf_open_mem(const void *data, size_t size, const char *name, const wh_regf_log *logs, size_t nlogs,
                           const wh_regf_opts *opts, wh_diag_sink *diags, wh_regf **out)
{
    *out = NULL;
    wh_regf *h = new_handle(opts, diags);
    if (!h) return WH_E_NOMEM;
    h->data = data && size ? data : (const uint8_t *)"";
    h->size = data ? size : 0;
    h->name = strdup(name ? name : "<memory>");
    wh_status st = h->name ? finish_open(h, logs, nlogs) : WH_E_NOMEM;
    if (st != WH_OK) {
        wh_regf_close(h);
        return st;
    }
    *out = h;
    return WH_OK;
}

wh_status wh_regf_open(const char *path, const wh_regf_opts *opts, wh_diag_sink *diags, wh_regf **out)
{
    *out = NULL;
    wh_regf *h = new_handle(opts, diags);
    if (!h) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_NOMEM, path, WH_NO_OFFSET,
                 "out of memory before reading (is --max-memory too small?)");
        return WH_E_NOMEM;
    }
    h->owned = true;
    wh_status st = wh_map_file(path, &h->file);
    if (st != WH_OK) {
        wh_diagf(diags, WH_SEV_ERROR, st, path, WH_NO_OFFSET, "cannot read: %s", wh_status_str(st));
        wh_regf_close(h);
        return st;
    }
    h->name = strdup(h->file.path);
    h->data = h->file.data ? h->file.data : (const uint8_t *)"";
    h->size = h->file.size;
    wh_regf_log logs[2];
    size_t n = 0;
    for (int i = 0; opts && i < 2; i++) {
        if (!opts->logs[i]) continue;
        if (wh_map_file(opts->logs[i], &h->logf[i]) != WH_OK) {
            wh_diagf(diags, WH_SEV_WARN, WH_E_IO, opts->logs[i], WH_NO_OFFSET, "log cannot be read; not used");
            continue;
        }
        logs[n].data = h->logf[i].data;
        logs[n].size = h->logf[i].size;
        logs[n].name = h->logf[i].path;
        n++;
    }
    st = h->name ? finish_open(h, logs, n) : WH_E_NOMEM;
    if (st != WH_OK) {
        if (wh_arena_hit_cap(h->arena) || wh_arena_hit_cap(h->tmp)) // the errors above may be its echoes
            wh_diagf(diags, WH_SEV_ERROR, WH_E_NOMEM, path, WH_NO_OFFSET,
                     "out of memory under a cap of %zu bytes; the hive is not read (raise --max-memory)", h->max_memory);
        wh_regf_close(h);
        return st;
    }
    *out = h;
    return WH_OK;
}

void wh_regf_close(wh_regf *h)
{
    if (!h) return;
    if (h->owned) {
        wh_unmap_file(&h->file);
        for (int i = 0; i < 2; i++) wh_unmap_file(&h->logf[i]);
    }
    free(h->name);
    free(h->copy);
    free(h->visited);
    free(h->path);
    wh_arena_free(h->arena);
    wh_arena_free(h->tmp);
    free(h);
}

const wh_regf_info *wh_regf_get_info(wh_regf *h) { return &h->info; }

const uint8_t *wh_regf_data(wh_regf *h, size_t *size)
{
    *size = h->size;
    return h->data;
}

/* ---- cells ---- */

/* The data of the cell at off (relative to the first bin), as a reader
 * that cannot leave it. */
static bool cell(wh_regf *h, uint32_t off, wh_reader *c)
{
    uint64_t abs = (uint64_t)REGF_BASE + off;
    if (off % 8 || abs + 4 > h->bins_end) {
        wh_rd_init(c, NULL, 0, abs, h->name);
        return false;
    }
    int32_t sz = (int32_t)wh_get_u32le(h->data + abs);
    uint32_t len = sz < 0 ? (uint32_t)(-(int64_t)sz) : (uint32_t)sz;
    if (len < 8 || len > h->bins_end - abs) {
        wh_rd_init(c, NULL, 0, abs, h->name);
        return false;
    }
    wh_rd_init(c, h->data + abs + 4, len - 4, abs + 4, h->name);
    return true;
}

static char *decode_name(wh_regf *h, const uint8_t *p, size_t n, bool ascii, size_t *len, bool *lossy)
{
    *lossy = false;
    if (ascii) return wh_latin1_to_utf8(h->tmp, p, n, len);
    return wh_utf16le_to_utf8(h->tmp, p, n / 2, false, len, lossy);
}

static wh_status read_key(wh_regf *h, uint32_t off, wh_regf_key *k)
{
    memset(k, 0, sizeof(*k));
    wh_reader c;
    if (!cell(h, off, &c)) return WH_E_CORRUPT;
    const uint8_t *p = wh_rd_bytes(&c, 76);
    if (!p || memcmp(p, "nk", 2) != 0) return WH_E_BADSIG;
    k->off = off;
    k->abs_off = c.file_off - 4;
    k->flags = wh_get_u16le(p + 2);
    k->written = wh_get_u64le(p + 4);
    k->access_bits = wh_get_u32le(p + 12);
    k->parent = wh_get_u32le(p + 16);
    k->nsubkeys = wh_get_u32le(p + 20);
    k->subkeys_off = wh_get_u32le(p + 28);
    k->nvalues = wh_get_u32le(p + 36);
    k->values_off = wh_get_u32le(p + 40);
    uint32_t class_off = wh_get_u32le(p + 48);
    uint16_t nlen = wh_get_u16le(p + 72), clen = wh_get_u16le(p + 74);
    const uint8_t *np = wh_rd_bytes(&c, nlen);
    if (!np) return WH_E_TRUNCATED;
    k->name = decode_name(h, np, nlen, (k->flags & 0x20) != 0, &k->name_len, &k->name_lossy);
    if (!k->name) return WH_E_NOMEM;
    wh_reader cc;
    if (clen && class_off != 0xFFFFFFFFu && cell(h, class_off, &cc) && clen <= wh_rd_left(&cc)) {
        bool lossy;
        k->class_name = wh_utf16le_to_utf8(h->tmp, cc.base, clen / 2, false, NULL, &lossy);
    }
    return WH_OK;
}

wh_status wh_regf_root(wh_regf *h, wh_regf_key *out)
{
    return read_key(h, h->info.root_off, out);
}

/* ---- subkey lists ---- */

typedef int (*off_fn)(wh_regf *h, void *ud, uint32_t off);

/* Calls fn for every nk offset in the list at off; ri lists nest at most
 * WH_LIMIT_REGF_INDEX deep, and every entry costs list work, so no list
 * shape can make this run long. Returns entries seen, or -1 when fn
 * stopped. */
static long list_each(wh_regf *h, uint32_t off, unsigned depth, off_fn fn, void *ud)
{
    wh_reader c;
    if (!cell(h, off, &c)) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, (uint64_t)REGF_BASE + off,
                 "subkey list cell 0x%x is not a valid cell", (unsigned)off);
        return 0;
    }
    const uint8_t *p = wh_rd_bytes(&c, 4);
    if (!p) return 0;
    uint16_t n = wh_get_u16le(p + 2);
    bool ri = memcmp(p, "ri", 2) == 0, li = memcmp(p, "li", 2) == 0;
    size_t step = (ri || li) ? 4 : 8;
    if (!ri && !li && memcmp(p, "lf", 2) != 0 && memcmp(p, "lh", 2) != 0) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_BADSIG, h->name, c.file_off - 4,
                 "subkey list has signature %02x%02x, not lf/lh/li/ri", p[0], p[1]);
        return 0;
    }
    if ((size_t)n * step > wh_rd_left(&c)) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, c.file_off - 4,
                 "subkey list claims %u entries; its cell holds %zu", (unsigned)n, wh_rd_left(&c) / step);
        n = (uint16_t)(wh_rd_left(&c) / step);
    }
    if (ri && depth >= WH_LIMIT_REGF_INDEX) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_LIMIT, h->name, c.file_off - 4,
                 "ri index nested deeper than %u; not followed", WH_LIMIT_REGF_INDEX);
        return 0;
    }
    long seen = 0;
    for (uint16_t i = 0; i < n; i++) {
        if (++h->list_work > WH_LIMIT_REGF_LIST_WORK) {
            if (h->list_work == WH_LIMIT_REGF_LIST_WORK + 1)
                wh_diagf(h->diags, WH_SEV_ERROR, WH_E_LIMIT, h->name, c.file_off - 4,
                         "more than %u subkey-list entries read: stopping (a list loop?)", WH_LIMIT_REGF_LIST_WORK);
            return seen;
        }
        uint32_t e = wh_get_u32le(c.base + 4 + (size_t)i * step);
        if (ri) {
            if (e == off) {
                wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, c.file_off - 4, "ri index lists itself");
                continue;
            }
            long r = list_each(h, e, depth + 1, fn, ud);
            if (r < 0) return -1;
            seen += r;
        } else {
            seen++;
            if (fn(h, ud, e)) return -1;
        }
    }
    return seen;
}

typedef struct sub_ctx {
    const wh_regf_key *parent;
    wh_regf_key_fn fn;
    void *ud;
} sub_ctx;

static int sub_one(wh_regf *h, void *ud, uint32_t off)
{
    sub_ctx *s = ud;
    wh_regf_key k;
    wh_status st = read_key(h, off, &k);
    if (st != WH_OK) {
        wh_diagf(h->diags, WH_SEV_WARN, st, h->name, (uint64_t)REGF_BASE + off,
                 "subkey 0x%x of key 0x%x is not a key cell (%s); skipped", (unsigned)off,
                 (unsigned)s->parent->off, wh_status_str(st));
        return 0;
    }
    if (k.parent != s->parent->off)
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, k.abs_off + 20,
                 "key 0x%x names parent 0x%x but is listed under 0x%x", (unsigned)off, (unsigned)k.parent,
                 (unsigned)s->parent->off);
    return s->fn(s->ud, &k);
}

wh_status wh_regf_subkeys(wh_regf *h, const wh_regf_key *k, wh_regf_key_fn fn, void *ud)
{
    if (!k->nsubkeys || k->subkeys_off == 0xFFFFFFFFu) return WH_OK;
    sub_ctx s = {k, fn, ud};
    long n = list_each(h, k->subkeys_off, 0, sub_one, &s);
    if (n < 0) return WH_DONE;
    if ((uint32_t)n != k->nsubkeys)
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, k->abs_off + 24,
                 "key 0x%x says %u subkeys; its list holds %ld", (unsigned)k->off, (unsigned)k->nsubkeys, n);
    return WH_OK;
}

/* ---- values ---- */

/* Joins the segments of a db (big data) cell into one buffer. */
static const uint8_t *big_data(wh_regf *h, wh_reader *db, uint32_t size)
{
    const uint8_t *p = wh_rd_bytes(db, 8);
    if (!p || size > WH_LIMIT_REGF_VALUE) return NULL;
    uint16_t nseg = wh_get_u16le(p + 2);
    wh_reader list;
    if (!cell(h, wh_get_u32le(p + 4), &list) || (size_t)nseg * 4 > wh_rd_left(&list)) return NULL;
    uint8_t *buf = wh_arena_alloc(h->tmp, size ? size : 1);
    if (!buf) return NULL;
    uint32_t got = 0;
    for (uint16_t i = 0; i < nseg && got < size; i++) {
        wh_reader seg;
        if (!cell(h, wh_get_u32le(list.base + (size_t)i * 4), &seg)) return NULL;
        uint32_t want = size - got < REGF_BIG_SEGMENT ? size - got : REGF_BIG_SEGMENT;
        const uint8_t *d = wh_rd_bytes(&seg, want);
        if (!d) return NULL;
        memcpy(buf + got, d, want);
        got += want;
    }
    return got == size ? buf : NULL;
}

static wh_status read_value(wh_regf *h, uint32_t off, wh_regf_value *v)
{
    memset(v, 0, sizeof(*v));
    wh_reader c;
    if (!cell(h, off, &c)) return WH_E_CORRUPT;
    const uint8_t *p = wh_rd_bytes(&c, 20);
    if (!p || memcmp(p, "vk", 2) != 0) return WH_E_BADSIG;
    v->off = off;
    v->abs_off = c.file_off - 4;
    uint16_t nlen = wh_get_u16le(p + 2);
    uint32_t dsize = wh_get_u32le(p + 4), doff = wh_get_u32le(p + 8);
    v->type = wh_get_u32le(p + 12);
    uint16_t flags = wh_get_u16le(p + 16);
    const uint8_t *np = wh_rd_bytes(&c, nlen);
    if (!np) return WH_E_TRUNCATED;
    bool lossy;
    char *nm = decode_name(h, np, nlen, (flags & 1) != 0, &v->name_len, &lossy);
    if (!nm) return WH_E_NOMEM;
    v->name = nm;
    if (dsize & 0x80000000u) {
        // Up to 4 bytes sit in the offset field itself.
        v->size = dsize & 0x7FFFFFFFu;
        v->inline_data = true;
        v->data = v->size <= 4 ? p + 8 : NULL;
        return WH_OK;
    }
    v->size = dsize;
    if (dsize == 0) {
        v->data = (const uint8_t *)"";
        return WH_OK;
    }
    wh_reader d;
    if (!cell(h, doff, &d)) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, v->abs_off + 8,
                 "value data cell 0x%x is not a valid cell", (unsigned)doff);
        return WH_OK;
    }
    if (dsize > REGF_BIG_SEGMENT && wh_rd_left(&d) >= 8 && memcmp(d.base, "db", 2) == 0) {
        v->big_data = true;
        if (dsize > WH_LIMIT_REGF_VALUE) {
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_LIMIT, h->name, d.file_off,
                     "big-data value of %u bytes (limit %u); its data is not read", (unsigned)dsize,
                     WH_LIMIT_REGF_VALUE);
            return WH_OK;
        }
        v->data = big_data(h, &d, dsize);
        if (!v->data)
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, d.file_off,
                     "big-data value of %u bytes cannot be joined from its segments", (unsigned)dsize);
        return WH_OK;
    }
    v->data = wh_rd_bytes(&d, dsize);
    if (!v->data)
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, v->abs_off + 4,
                 "value data of %u bytes does not fit its %zu-byte cell", (unsigned)dsize, wh_rd_left(&d));
    return WH_OK;
}

wh_status wh_regf_values(wh_regf *h, const wh_regf_key *k, wh_regf_value_fn fn, void *ud)
{
    if (!k->nvalues || k->values_off == 0xFFFFFFFFu) return WH_OK;
    wh_reader c;
    if (!cell(h, k->values_off, &c)) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, (uint64_t)REGF_BASE + k->values_off,
                 "value list cell 0x%x of key 0x%x is not a valid cell", (unsigned)k->values_off, (unsigned)k->off);
        return WH_OK;
    }
    uint32_t n = k->nvalues;
    if ((uint64_t)n * 4 > wh_rd_left(&c)) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, c.file_off - 4,
                 "key 0x%x says %u values; its list cell holds %zu", (unsigned)k->off, (unsigned)n,
                 wh_rd_left(&c) / 4);
        n = (uint32_t)(wh_rd_left(&c) / 4);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = wh_get_u32le(c.base + (size_t)i * 4);
        wh_regf_value v;
        wh_status st = read_value(h, off, &v);
        if (st != WH_OK) {
            wh_diagf(h->diags, WH_SEV_WARN, st, h->name, (uint64_t)REGF_BASE + off,
                     "value 0x%x of key 0x%x is not a value cell (%s); skipped", (unsigned)off, (unsigned)k->off,
                     wh_status_str(st));
            continue;
        }
        if (fn(ud, &v)) return WH_DONE;
    }
    return WH_OK;
}

/* ---- names and lookup ---- */

/* Case-insensitive equality as Windows compares names (upper-cased UTF-16). */
static bool name_eq(const char *a, size_t na, const char *b, size_t nb)
{
    uint8_t ua[1024], ub[1024];
    size_t la = wh_utf8_to_utf16le_upper(a, na, ua, sizeof(ua), true);
    size_t lb = wh_utf8_to_utf16le_upper(b, nb, ub, sizeof(ub), true);
    if (la == SIZE_MAX || lb == SIZE_MAX) return na == nb && memcmp(a, b, na) == 0;
    return la == lb && memcmp(ua, ub, la) == 0;
}

typedef struct find_ctx {
    const char *want;
    size_t nwant;
    wh_regf_key found;
    bool ok;
} find_ctx;

static int find_one(void *ud, const wh_regf_key *k)
{
    find_ctx *f = ud;
    if (!name_eq(k->name, k->name_len, f->want, f->nwant)) return 0;
    f->found = *k;
    f->ok = true;
    return 1;
}

wh_status wh_regf_find(wh_regf *h, const char *path, wh_regf_key *out)
{
    wh_regf_key cur;
    wh_status st = wh_regf_root(h, &cur);
    if (st != WH_OK) return st;
    const char *p = path;
    unsigned depth = 0;
    while (*p) {
        const char *e = strchr(p, '\\');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            if (++depth > WH_LIMIT_REGF_DEPTH) return WH_E_LIMIT;
            find_ctx f = {p, n, {0}, false};
            (void)wh_regf_subkeys(h, &cur, find_one, &f);
            if (!f.ok) return WH_E_NOTFOUND;
            cur = f.found;
        }
        p += n;
        if (*p) p++;
    }
    *out = cur;
    return WH_OK;
}

typedef struct vfind_ctx {
    const char *want;
    wh_regf_value found;
    bool ok;
} vfind_ctx;

static int vfind_one(void *ud, const wh_regf_value *v)
{
    vfind_ctx *f = ud;
    if (!name_eq(v->name, v->name_len, f->want, strlen(f->want))) return 0;
    f->found = *v;
    f->ok = true;
    return 1;
}

wh_status wh_regf_get_value(wh_regf *h, const wh_regf_key *k, const char *name, wh_regf_value *out)
{
    vfind_ctx f = {name, {0}, false};
    (void)wh_regf_values(h, k, vfind_one, &f);
    if (!f.ok) return WH_E_NOTFOUND;
    *out = f.found;
    return WH_OK;
}

/* ---- decoders ---- */

const char *wh_regf_value_str(wh_regf *h, const wh_regf_value *v, size_t *len, bool *lossy)
{
    size_t n = v->data ? v->size / 2 : 0;
    bool l = false;
    size_t outlen = 0;
    char *s = wh_utf16le_to_utf8(h->tmp, v->data ? v->data : (const uint8_t *)"", n, true, &outlen, &l);
    if (len) *len = outlen;
    if (lossy) *lossy = l;
    return s;
}

size_t wh_regf_value_multi(wh_regf *h, const wh_regf_value *v, const char ***out)
{
    *out = NULL;
    if (!v->data) return 0;
    size_t units = v->size / 2, count = 0, start = 0;
    // Count first, then decode: entries end at each NUL; the empty entry
    // that ends the list (and anything after it) is not an entry.
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        start = 0;
        for (size_t i = 0; i <= units; i++) {
            bool end = i == units || wh_get_u16le(v->data + i * 2) == 0;
            if (!end) continue;
            if (i == start) break; /* empty string: the terminator */
            if (pass == 1) (*out)[k] = wh_utf16le_to_utf8(h->tmp, v->data + start * 2, i - start, false, NULL, NULL);
            k++;
            start = i + 1;
        }
        if (pass == 0) {
            count = k;
            if (!count) return 0;
            *out = wh_arena_calloc(h->tmp, count, sizeof(char *));
            if (!*out) return 0;
        }
    }
    for (size_t i = 0; i < count; i++)
        if (!(*out)[i]) (*out)[i] = "";
    return count;
}

/* ---- walk ---- */

typedef struct walk_ctx {
    wh_regf_walk_fn fn;
    void *ud;
    unsigned depth;
    bool stop;
} walk_ctx;

static bool path_put(wh_regf *h, size_t at, const char *s, size_t n)
{
    if (at + n + 2 > h->path_cap) {
        size_t nc = (at + n + 2) * 2;
        char *np = realloc(h->path, nc);
        if (!np) return false;
        h->path = np;
        h->path_cap = nc;
    }
    memcpy(h->path + at, s, n);
    h->path[at + n] = 0;
    h->path_len = at + n;
    return true;
}

static int walk_key(void *ud, const wh_regf_key *k);

static void walk_children(wh_regf *h, walk_ctx *w, const wh_regf_key *k)
{
    if (w->depth >= WH_LIMIT_REGF_DEPTH) {
        if (!k->nsubkeys) return; // at the bound, nothing is lost
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_LIMIT, h->name, k->abs_off,
                 "keys nested deeper than %u; subkeys not followed", WH_LIMIT_REGF_DEPTH);
        return;
    }
    // k lives in tmp, which walk_key resets: keep the numbers only.
    wh_regf_key copy = *k;
    copy.name = "";
    copy.name_len = 0;
    copy.class_name = NULL;
    w->depth++;
    struct { wh_regf *h; walk_ctx *w; } pair = {h, w};
    (void)wh_regf_subkeys(h, &copy, walk_key, &pair);
    w->depth--;
}

static int walk_key(void *ud, const wh_regf_key *k)
{
    struct { wh_regf *h; walk_ctx *w; } *pair = ud;
    wh_regf *h = pair->h;
    walk_ctx *w = pair->w;
    if (wh_diag_expired(h->diags, h->name, k->abs_off)) return 1;
    size_t slot = k->off / 8;
    if (h->visited[slot / 8] & (1u << (slot % 8))) {
        wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, k->abs_off,
                 "key 0x%x is reached a second time (a subkey-list loop or shared list); not followed again",
                 (unsigned)k->off);
        return 0;
    }
    h->visited[slot / 8] |= (uint8_t)(1u << (slot % 8));
    size_t at = h->path_len;
    if (!path_put(h, at, "\\", at ? 1 : 0) || !path_put(h, h->path_len, k->name, k->name_len)) return 1;
    if (w->fn(w->ud, h->path, h->path_len, k)) w->stop = true;
    wh_arena_reset(h->tmp);
    if (!w->stop) walk_children(h, w, k);
    h->path_len = at;
    h->path[at] = 0;
    return w->stop;
}

wh_status wh_regf_walk(wh_regf *h, wh_regf_walk_fn fn, void *ud)
{
    wh_regf_key root;
    wh_status st = wh_regf_root(h, &root);
    if (st != WH_OK) return st;
    memset(h->visited, 0, (h->bins_end - REGF_BASE) / 8 / 8 + 1);
    h->list_work = 0;
    if (!path_put(h, 0, "", 0)) return WH_E_NOMEM;
    walk_ctx w = {fn, ud, 0, false};
    size_t slot = root.off / 8;
    h->visited[slot / 8] |= (uint8_t)(1u << (slot % 8));
    if (fn(ud, "", 0, &root)) return WH_DONE;
    wh_arena_reset(h->tmp);
    if (wh_regf_root(h, &root) != WH_OK) return WH_E_CORRUPT;
    walk_children(h, &w, &root);
    return w.stop ? WH_DONE : WH_OK;
}
