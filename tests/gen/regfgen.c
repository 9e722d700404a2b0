/* Registry hive writer for tests (see regfgen.h). */
#include "gen/regfgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rg_val {
    char *name;
    uint32_t type;
    uint8_t *data;
    size_t n;
} rg_val;

typedef struct rg_node {
    char *name;
    uint64_t written;
    struct rg_node **sub;
    size_t nsub, capsub;
    rg_val *vals;
    size_t nval, capval;
} rg_node;

struct rg_hive {
    rg_node *root;
};

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static rg_node *node_new(const char *name, size_t n, uint64_t written)
{
    rg_node *k = calloc(1, sizeof(*k));
    if (!k) return NULL;
    k->name = malloc(n + 1);
    if (!k->name) {
        free(k);
        return NULL;
    }
    memcpy(k->name, name, n);
    k->name[n] = 0;
    k->written = written;
    return k;
}

static void node_free(rg_node *k)
{
    if (!k) return;
    for (size_t i = 0; i < k->nsub; i++) node_free(k->sub[i]);
    for (size_t i = 0; i < k->nval; i++) {
        free(k->vals[i].name);
        free(k->vals[i].data);
    }
    free(k->sub);
    free(k->vals);
    free(k->name);
    free(k);
}

rg_hive *rg_new(const char *root_name, uint64_t root_written)
{
    rg_hive *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->root = node_new(root_name, strlen(root_name), root_written);
    if (!h->root) {
        free(h);
        return NULL;
    }
    return h;
}

void rg_free(rg_hive *h)
{
    if (!h) return;
    node_free(h->root);
    free(h);
}

static int upcmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (*a >= 'a' && *a <= 'z') ? *a - 32 : (unsigned char)*a;
        int cb = (*b >= 'a' && *b <= 'z') ? *b - 32 : (unsigned char)*b;
        if (ca != cb || !ca) return ca - cb;
    }
}

static rg_node *walk(rg_hive *h, const char *path, uint64_t written, int create)
{
    rg_node *k = h->root;
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '\\');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        rg_node *next = NULL;
        for (size_t i = 0; i < k->nsub && !next; i++)
            if (strlen(k->sub[i]->name) == n && strncmp(k->sub[i]->name, p, n) == 0) next = k->sub[i];
        if (!next) {
            if (!create) return NULL;
            if (k->nsub == k->capsub) {
                size_t nc = k->capsub ? k->capsub * 2 : 8;
                rg_node **ns = realloc(k->sub, nc * sizeof(*ns));
                if (!ns) return NULL;
                k->sub = ns;
                k->capsub = nc;
            }
            next = node_new(p, n, written);
            if (!next) return NULL;
            k->sub[k->nsub++] = next;
        }
        k = next;
        p += n;
        if (*p) p++;
    }
    return k;
}

int rg_key(rg_hive *h, const char *path, uint64_t written)
{
    rg_node *k = walk(h, path, written, 1);
    if (!k) return -1;
    k->written = written;
    return 0;
}

int rg_value(rg_hive *h, const char *path, const char *name, uint32_t type, const void *data, size_t n)
{
    rg_node *k = walk(h, path, h->root->written, 1);
    if (!k) return -1;
    if (k->nval == k->capval) {
        size_t nc = k->capval ? k->capval * 2 : 8;
        rg_val *nv = realloc(k->vals, nc * sizeof(*nv));
        if (!nv) return -1;
        k->vals = nv;
        k->capval = nc;
    }
    rg_val *v = &k->vals[k->nval];
    v->name = strdup(name);
    v->data = malloc(n ? n : 1);
    if (!v->name || !v->data) return -1;
    if (n) memcpy(v->data, data, n);
    v->n = n;
    v->type = type;
    k->nval++;
    return 0;
}

/* UTF-8 to UTF-16LE (BMP and surrogate pairs), NUL-terminated. */
static size_t utf16(const char *s, uint8_t *out)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p++;
        if (c >= 0xF0 && p[0] && p[1] && p[2]) {
            c = ((c & 7) << 18) | ((uint32_t)(p[0] & 0x3F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            p += 3;
        } else if (c >= 0xE0 && p[0] && p[1]) {
            c = ((c & 15) << 12) | ((uint32_t)(p[0] & 0x3F) << 6) | (p[1] & 0x3F);
            p += 2;
        } else if (c >= 0xC0 && p[0]) {
            c = ((c & 31) << 6) | (p[0] & 0x3F);
            p += 1;
        }
        if (c >= 0x10000) {
            c -= 0x10000;
            if (out) put16(out + n, (uint16_t)(0xD800 | (c >> 10))), put16(out + n + 2, (uint16_t)(0xDC00 | (c & 0x3FF)));
            n += 4;
        } else {
            if (out) put16(out + n, (uint16_t)c);
            n += 2;
        }
    }
    return n;
}

uint8_t *rg_utf16z(const char *s, size_t *n)
{
    *n = 0;
    size_t len = utf16(s, NULL);
    uint8_t *o = calloc(1, len + 2);
    if (!o) return NULL;
    utf16(s, o);
    *n = len + 2;
    return o;
}

uint8_t *rg_multi_sz(const char *const *list, size_t *n)
{
    *n = 0;
    size_t total = 2;
    for (size_t i = 0; list[i]; i++) total += utf16(list[i], NULL) + 2;
    uint8_t *o = calloc(1, total);
    if (!o) return NULL;
    size_t at = 0;
    for (size_t i = 0; list[i]; i++) {
        at += utf16(list[i], o + at);
        at += 2;
    }
    *n = total;
    return o;
}

/* ---- building ---- */

static int grow(buf *b, size_t more)
{
    if (b->n + more <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 65536;
    while (nc < b->n + more) nc *= 2;
    uint8_t *np = realloc(b->p, nc);
    if (!np) return -1;
    b->p = np;
    b->cap = nc;
    return 0;
}

/* A used cell of len data bytes; returns its offset (from the bin start). */
static uint32_t cell(buf *b, const void *data, size_t len)
{
    size_t total = (len + 4 + 7) & ~(size_t)7;
    if (grow(b, total)) return 0xFFFFFFFFu;
    uint32_t off = (uint32_t)b->n;
    memset(b->p + off, 0, total);
    put32(b->p + off, (uint32_t)-(int32_t)total);
    if (data) memcpy(b->p + off + 4, data, len);
    b->n += total;
    return off;
}

static int ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 0;
    return 1;
}

/* Name bytes: Latin-1 ("compressed") when ASCII, else UTF-16LE. */
static size_t name_bytes(const char *s, uint8_t *out, int *compressed)
{
    *compressed = ascii(s);
    if (*compressed) {
        if (out) memcpy(out, s, strlen(s));
        return strlen(s);
    }
    return utf16(s, out);
}

static uint32_t lh_hash(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++) h = h * 37 + (uint32_t)((*s >= 'a' && *s <= 'z') ? *s - 32 : (unsigned char)*s);
    return h;
}

static int cmp_node(const void *a, const void *b)
{
    return upcmp((*(rg_node *const *)a)->name, (*(rg_node *const *)b)->name);
}

typedef struct bctx {
    buf b;
    const rg_build_opts *o;
    uint32_t sk;
} bctx;

static uint32_t put_value(bctx *c, const rg_val *v)
{
    int comp;
    size_t nl = name_bytes(v->name, NULL, &comp);
    uint8_t *vk = calloc(1, 20 + nl);
    if (!vk) return 0xFFFFFFFFu;
    memcpy(vk, "vk", 2);
    put16(vk + 2, (uint16_t)nl);
    put32(vk + 12, v->type);
    put16(vk + 16, (uint16_t)(comp && nl ? 1 : 0));
    name_bytes(v->name, vk + 20, &comp);
    if (v->n <= 4) {
        put32(vk + 4, 0x80000000u | (uint32_t)v->n);
        memcpy(vk + 8, v->data, v->n);
    } else if (v->n > 16344 && c->o->minor >= 4) {
        size_t nseg = (v->n + 16343) / 16344;
        uint8_t *list = calloc(nseg, 4);
        if (!list) return 0xFFFFFFFFu;
        // Windows gives every segment a full 16344 bytes, the last one too.
        uint8_t *seg = calloc(1, 16344);
        if (!seg) return 0xFFFFFFFFu;
        for (size_t i = 0; i < nseg; i++) {
            size_t len = v->n - i * 16344 < 16344 ? v->n - i * 16344 : 16344;
            memset(seg, 0, 16344);
            memcpy(seg, v->data + i * 16344, len);
            put32(list + i * 4, cell(&c->b, seg, 16344));
        }
        free(seg);
        uint8_t db[8] = {'d', 'b'};
        put16(db + 2, (uint16_t)nseg);
        put32(db + 4, cell(&c->b, list, nseg * 4));
        free(list);
        put32(vk + 4, (uint32_t)v->n);
        put32(vk + 8, cell(&c->b, db, 8));
    } else {
        put32(vk + 4, (uint32_t)v->n);
        put32(vk + 8, cell(&c->b, v->data, v->n));
    }
    uint32_t off = cell(&c->b, vk, 20 + nl);
    free(vk);
    return off;
}

static uint32_t leaf_list(bctx *c, rg_node **sub, const uint32_t *offs, size_t n)
{
    size_t step = c->o->use_li ? 4 : 8;
    uint8_t *l = calloc(1, 4 + n * step);
    if (!l) return 0xFFFFFFFFu;
    memcpy(l, c->o->use_li ? "li" : "lh", 2);
    put16(l + 2, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        put32(l + 4 + i * step, offs[i]);
        if (!c->o->use_li) put32(l + 8 + i * step, lh_hash(sub[i]->name));
    }
    uint32_t off = cell(&c->b, l, 4 + n * step);
    free(l);
    return off;
}

static uint32_t put_key(bctx *c, rg_node *k, uint32_t parent, int is_root)
{
    int comp;
    size_t nl = name_bytes(k->name, NULL, &comp);
    uint32_t off = cell(&c->b, NULL, 76 + nl);
    if (off == 0xFFFFFFFFu) return off;
    uint32_t voff = 0xFFFFFFFFu, soff = 0xFFFFFFFFu;
    uint32_t maxname = 0, maxvname = 0, maxdata = 0;
    if (k->nval) {
        uint32_t *vo = calloc(k->nval, 4);
        if (!vo) return 0xFFFFFFFFu;
        for (size_t i = 0; i < k->nval; i++) {
            vo[i] = put_value(c, &k->vals[i]);
            if (strlen(k->vals[i].name) * 2 > maxvname) maxvname = (uint32_t)strlen(k->vals[i].name) * 2;
            if (k->vals[i].n > maxdata) maxdata = (uint32_t)k->vals[i].n;
        }
        uint8_t *l = calloc(k->nval, 4);
        for (size_t i = 0; l && i < k->nval; i++) put32(l + i * 4, vo[i]);
        voff = l ? cell(&c->b, l, k->nval * 4) : 0xFFFFFFFFu;
        free(l);
        free(vo);
    }
    if (k->nsub) {
        qsort(k->sub, k->nsub, sizeof(*k->sub), cmp_node);
        uint32_t *so = calloc(k->nsub, 4);
        if (!so) return 0xFFFFFFFFu;
        for (size_t i = 0; i < k->nsub; i++) {
            so[i] = put_key(c, k->sub[i], off, 0);
            if (strlen(k->sub[i]->name) * 2 > maxname) maxname = (uint32_t)strlen(k->sub[i]->name) * 2;
        }
        size_t over = c->o->ri_over ? c->o->ri_over : 1000;
        if (k->nsub <= over) {
            soff = leaf_list(c, k->sub, so, k->nsub);
        } else {
            size_t per = over / 2 ? over / 2 : 1, nl2 = (k->nsub + per - 1) / per;
            uint8_t *ri = calloc(1, 4 + nl2 * 4);
            if (!ri) return 0xFFFFFFFFu;
            memcpy(ri, "ri", 2);
            put16(ri + 2, (uint16_t)nl2);
            for (size_t i = 0; i < nl2; i++) {
                size_t n = k->nsub - i * per < per ? k->nsub - i * per : per;
                put32(ri + 4 + i * 4, leaf_list(c, k->sub + i * per, so + i * per, n));
            }
            soff = cell(&c->b, ri, 4 + nl2 * 4);
            free(ri);
        }
        free(so);
    }
    uint8_t *nk = c->b.p + off + 4;
    memcpy(nk, "nk", 2);
    put16(nk + 2, (uint16_t)((comp ? 0x20 : 0) | (is_root ? 0x0C : 0)));
    put64(nk + 4, k->written);
    put32(nk + 16, is_root ? 0 : parent);
    put32(nk + 20, (uint32_t)k->nsub);
    put32(nk + 28, soff);
    put32(nk + 32, 0xFFFFFFFFu);
    put32(nk + 36, (uint32_t)k->nval);
    put32(nk + 40, voff);
    put32(nk + 44, c->sk);
    put32(nk + 48, 0xFFFFFFFFu);
    put32(nk + 52, maxname);
    put32(nk + 60, maxvname);
    put32(nk + 64, maxdata);
    put16(nk + 72, (uint16_t)nl);
    name_bytes(k->name, nk + 76, &comp);
    return off;
}

static uint32_t checksum(const uint8_t *b)
{
    uint32_t x = 0;
    for (size_t i = 0; i < 508; i += 4) x ^= get32(b + i);
    if (x == 0xFFFFFFFFu) x = 0xFFFFFFFEu;
    if (x == 0) x = 1;
    return x;
}

uint8_t *rg_build(rg_hive *h, const rg_build_opts *o, size_t *size)
{
    rg_build_opts dflt = {1, 1, 5, 0, 0, 0};
    if (!o) o = &dflt;
    rg_build_opts oo = *o;
    if (!oo.minor) oo.minor = 5;
    bctx c = {{0}, &oo, 0};
    if (grow(&c.b, 32)) return NULL;
    memset(c.b.p, 0, 32);
    c.b.n = 32;
    // One security cell shared by every key (a list of itself).
    uint8_t sk[20 + 20] = {'s', 'k'};
    put32(sk + 12, 1u << 20);
    put32(sk + 16, 20);
    sk[20] = 1;
    put16(sk + 22, 0x8004);
    c.sk = cell(&c.b, sk, sizeof(sk));
    put32(c.b.p + c.sk + 4 + 4, c.sk);
    put32(c.b.p + c.sk + 4 + 8, c.sk);
    uint32_t root = put_key(&c, h->root, 0, 1);
    size_t bins = (c.b.n + 8 + 4095) & ~(size_t)4095;
    if (bins < oo.min_bins) bins = (oo.min_bins + 4095) & ~(size_t)4095;
    if (grow(&c.b, bins - c.b.n)) return NULL;
    memset(c.b.p + c.b.n, 0, bins - c.b.n);
    put32(c.b.p + c.b.n, (uint32_t)(bins - c.b.n)); /* free cell to the end */
    memcpy(c.b.p, "hbin", 4);
    put32(c.b.p + 8, (uint32_t)bins);
    put64(c.b.p + 20, h->root->written);
    uint8_t *f = calloc(1, 4096 + bins);
    if (!f) return NULL;
    memcpy(f, "regf", 4);
    put32(f + 4, oo.seq1);
    put32(f + 8, oo.seq2);
    put64(f + 12, h->root->written);
    put32(f + 20, 1);
    put32(f + 24, oo.minor);
    put32(f + 32, 1);
    put32(f + 36, root);
    put32(f + 40, (uint32_t)bins);
    put32(f + 44, 1);
    utf16("\\REGISTRY\\MACHINE\\SOFTWARE", f + 48);
    put32(f + 508, checksum(f));
    memcpy(f + 4096, c.b.p, bins);
    free(c.b.p);
    *size = 4096 + bins;
    return f;
}

/* ---- new-format logs ---- */

static uint32_t rotl(uint32_t x, unsigned r) { return (x << r) | (x >> (32 - r)); }

static uint64_t marvin(const uint8_t *p, size_t n)
{
    uint32_t lo = 0x7A4E55C5u, hi = 0x82EF4D88u;
    size_t i = 0;
    for (;; i += 4) {
        uint32_t w;
        int last = n - i < 4;
        if (last) {
            size_t r = n - i;
            w = 0x80u << (8 * r);
            for (size_t j = 0; j < r; j++) w |= (uint32_t)p[i + j] << (8 * j);
        } else {
            w = get32(p + i);
        }
        lo += w;
        for (int k = 0; k < (last ? 2 : 1); k++) {
            hi ^= lo;
            lo = rotl(lo, 20) + hi;
            hi = rotl(hi, 9) ^ lo;
            lo = rotl(lo, 27) + hi;
            hi = rotl(hi, 19);
        }
        if (last) break;
    }
    return (uint64_t)lo | ((uint64_t)hi << 32);
}

static uint8_t *one_log(const uint8_t *neu, uint32_t seq, uint32_t bins, const uint32_t *pages, size_t np,
                        size_t *size)
{
    size_t body = 40 + np * 8 + np * 4096;
    size_t esize = (body + 511) & ~(size_t)511;
    uint8_t *l = calloc(1, 512 + esize);
    if (!l) return NULL;
    memcpy(l, neu, 512);
    put32(l + 4, seq);
    put32(l + 8, seq);
    put32(l + 28, 6);
    put32(l + 508, checksum(l));
    uint8_t *e = l + 512;
    memcpy(e, "HvLE", 4);
    put32(e + 4, (uint32_t)esize);
    put32(e + 12, seq);
    put32(e + 16, bins);
    put32(e + 20, (uint32_t)np);
    for (size_t i = 0; i < np; i++) {
        put32(e + 40 + i * 8, pages[i]);
        put32(e + 44 + i * 8, 4096);
        memcpy(e + 40 + np * 8 + i * 4096, neu + 4096 + pages[i], 4096);
    }
    put64(e + 24, marvin(e + 40, esize - 40));
    put64(e + 32, marvin(e, 32));
    *size = 512 + esize;
    return l;
}

int rg_logs_new(const uint8_t *old, size_t old_size, const uint8_t *neu, size_t neu_size, uint32_t seq,
                uint8_t **log1, size_t *n1, uint8_t **log2, size_t *n2)
{
    uint32_t bins = get32(neu + 40);
    size_t np = 0;
    uint32_t *pages = calloc(bins / 4096 + 1, 4);
    if (!pages || neu_size < 4096 + (size_t)bins) return -1;
    for (uint32_t p = 0; p < bins; p += 4096)
        if (4096 + (size_t)p + 4096 > old_size || memcmp(old + 4096 + p, neu + 4096 + p, 4096) != 0) pages[np++] = p;
    size_t half = np / 2;
    *log1 = one_log(neu, seq, bins, pages, half, n1);
    *log2 = one_log(neu, seq + 1, bins, pages + half, np - half, n2);
    free(pages);
    return *log1 && *log2 ? 0 : -1;
}

/* ---- the SOFTWARE-shaped fixture ---- */

const char *rg_mof_entry(unsigned i)
{
    static char b[160];
    static const char *const dirs[] = {"%windir%\\system32\\wbem\\", "%ProgramFiles%\\Vendor\\wmi\\",
                                       "C:\\Windows\\System32\\wbem\\"};
    snprintf(b, sizeof(b), "%sprovider_%04u_with_a_long_enough_name.mof", dirs[i % 3], i);
    return b;
}

rg_hive *rg_software(int after_logs)
{
    rg_hive *h = rg_new(RG_ROOT_NAME, 133400000000000000ull);
    if (!h) return NULL;
    const char *list[RG_MOF_COUNT + 2];
    char *copies[RG_MOF_COUNT];
    for (unsigned i = 0; i < RG_MOF_COUNT; i++) copies[i] = strdup(rg_mof_entry(i)), list[i] = copies[i];
    unsigned n = RG_MOF_COUNT;
    if (after_logs) list[n++] = RG_DIRTY_EXTRA;
    list[n] = NULL;
    size_t len = 0;
    uint8_t *d;
    rg_key(h, "Microsoft\\Windows NT\\CurrentVersion", 133400000100000000ull);
    uint8_t *s = rg_utf16z("10.0", &len);
    rg_value(h, "Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion", 1, s, len);
    free(s);
    d = rg_multi_sz(list, &len);
    rg_value(h, RG_CIMOM, "Autorecover MOFs", 7, d, len);
    free(d);
    for (unsigned i = 0; i < RG_MOF_COUNT; i++) free(copies[i]);
    char ts[32];
    snprintf(ts, sizeof(ts), "%llu", (unsigned long long)(after_logs ? RG_DIRTY_TS : RG_AUTOREC_TS));
    s = rg_utf16z(ts, &len);
    rg_value(h, RG_CIMOM, "Autorecover MOFs timestamp", 1, s, len);
    free(s);
    s = rg_utf16z("%SystemRoot%\\System32\\wbem\\Repository", &len);
    rg_value(h, RG_CIMOM, "RepositoryDirectory", 2, s, len);
    free(s);
    uint8_t dw[4] = {1, 0, 0, 0};
    rg_value(h, RG_CIMOM, "Logging", 4, dw, 4);
    rg_value(h, RG_CIMOM, "EnableEvents", 4, dw, 4);
    uint8_t qw[8] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    rg_value(h, RG_CIMOM, "QwordValue", 11, qw, 8);
    uint8_t bin[40];
    for (int i = 0; i < 40; i++) bin[i] = (uint8_t)(i * 7);
    rg_value(h, RG_CIMOM, "BinaryValue", 3, bin, sizeof(bin));
    rg_value(h, RG_CIMOM, "EmptyBinary", 3, bin, 0);
    rg_key(h, RG_CIMOM, after_logs ? RG_DIRTY_TS + 10000 : RG_CIMOM_WRITTEN);
    rg_key(h, "Microsoft\\WBEM\\ESS", 133400000200000000ull);
    s = rg_utf16z("тест ✓", &len);
    rg_value(h, "Fixture\\Types", "unicode", 1, s, len);
    free(s);
    rg_value(h, "Fixture\\Types", "", 4, dw, 4);
    rg_key(h, "Fixture\\Types", 133400000300000000ull);
    return h;
}

int rg_software_dirty(uint32_t seq, rg_dirty *out)
{
    memset(out, 0, sizeof(*out));
    rg_hive *a = rg_software(0), *b = rg_software(1);
    if (!a || !b) return -1;
    rg_build_opts ob = {seq + 2, seq + 2, 5, 0, 0, 0};
    out->after = rg_build(b, &ob, &out->nafter);
    rg_build_opts oa = {seq + 1, seq, 5, out->after ? get32(out->after + 40) : 0, 0, 0};
    out->primary = rg_build(a, &oa, &out->nprimary);
    if (out->primary && out->after && get32(out->primary + 40) > get32(out->after + 40)) {
        free(out->after);
        ob.min_bins = get32(out->primary + 40);
        out->after = rg_build(b, &ob, &out->nafter);
    }
    rg_free(a);
    rg_free(b);
    if (!out->primary || !out->after) return -1;
    return rg_logs_new(out->primary, out->nprimary, out->after, out->nafter, seq, &out->log1, &out->nlog1,
                       &out->log2, &out->nlog2);
}

void rg_dirty_free(rg_dirty *d)
{
    free(d->primary);
    free(d->log1);
    free(d->log2);
    free(d->after);
}
