/* The one bounds-checked reader. Every byte of evidence is read through it.
 * Failure is sticky: the first out-of-bounds read sets status, later reads
 * return 0, so a parser may read a whole header and check once. */
#ifndef WH_READER_H
#define WH_READER_H

#include <string.h>
#include "wmihunt/core.h"

typedef struct wh_reader {
    const uint8_t *base;
    size_t size;
    size_t pos;
    uint64_t file_off;  /* absolute offset of base in source */
    const char *source;
    wh_status status;
    size_t fail_pos;    /* position of the first failed read */
} wh_reader;

static inline void wh_rd_init(wh_reader *r, const void *base, size_t size,
                              uint64_t file_off, const char *source)
{
    r->base = (const uint8_t *)base;
    r->size = base ? size : 0;
    r->pos = 0;
    r->file_off = file_off;
    r->source = source;
    r->status = WH_OK;
    r->fail_pos = 0;
}

static inline bool wh_rd_ok(const wh_reader *r) { return r->status == WH_OK; }
static inline size_t wh_rd_left(const wh_reader *r) { return r->size - r->pos; }
/* Absolute offset of the current position, for diagnostics. */
static inline uint64_t wh_rd_abs(const wh_reader *r) { return r->file_off + r->pos; }
static inline uint64_t wh_rd_fail_abs(const wh_reader *r) { return r->file_off + r->fail_pos; }

static inline bool wh_rd_fail(wh_reader *r)
{
    if (r->status == WH_OK) {
        r->status = WH_E_TRUNCATED;
        r->fail_pos = r->pos;
    }
    return false;
}

/* True when n more bytes are there (subtraction form: no overflow). */
static inline bool wh_rd_need(wh_reader *r, size_t n)
{
    if (r->status != WH_OK) return false;
    if (n > r->size - r->pos) return wh_rd_fail(r);
    return true;
}

static inline uint8_t wh_rd_u8(wh_reader *r)
{
    if (!wh_rd_need(r, 1)) return 0;
    return r->base[r->pos++];
}

static inline uint16_t wh_rd_u16(wh_reader *r)
{
    if (!wh_rd_need(r, 2)) return 0;
    const uint8_t *p = r->base + r->pos;
    r->pos += 2;
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t wh_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t wh_get_u64le(const uint8_t *p)
{
    return (uint64_t)wh_get_u32le(p) | ((uint64_t)wh_get_u32le(p + 4) << 32);
}

static inline uint16_t wh_get_u16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline uint32_t wh_rd_u32(wh_reader *r)
{
    if (!wh_rd_need(r, 4)) return 0;
    uint32_t v = wh_get_u32le(r->base + r->pos);
    r->pos += 4;
    return v;
}

static inline uint64_t wh_rd_u64(wh_reader *r)
{
    if (!wh_rd_need(r, 8)) return 0;
    uint64_t v = wh_get_u64le(r->base + r->pos);
    r->pos += 8;
    return v;
}

/* Pointer to the next n bytes (inside the mapped evidence) or NULL. */
static inline const uint8_t *wh_rd_bytes(wh_reader *r, size_t n)
{
    if (!wh_rd_need(r, n)) return NULL;
    const uint8_t *p = r->base + r->pos;
    r->pos += n;
    return p;
}

static inline bool wh_rd_skip(wh_reader *r, size_t n) { return wh_rd_bytes(r, n) != NULL || n == 0; }

static inline bool wh_rd_seek(wh_reader *r, size_t pos)
{
    if (r->status != WH_OK) return false;
    if (pos > r->size) {
        r->fail_pos = r->pos;
        r->status = WH_E_TRUNCATED;
        return false;
    }
    r->pos = pos;
    return true;
}

/* A child reader over [off, off+len) of r. It can never reach outside. */
WH_MUST_CHECK static inline bool wh_rd_sub(const wh_reader *r, size_t off, size_t len, wh_reader *child)
{
    if (off > r->size || len > r->size - off) {
        wh_rd_init(child, NULL, 0, r->file_off + (off > r->size ? r->size : off), r->source);
        child->status = WH_E_TRUNCATED;
        return false;
    }
    wh_rd_init(child, r->base + off, len, r->file_off + off, r->source);
    return true;
}

/* Random-access reads that do not move the position; false when out of range. */
static inline bool wh_rd_u32_at(const wh_reader *r, size_t off, uint32_t *v)
{
    if (off > r->size || 4 > r->size - off) return false;
    *v = wh_get_u32le(r->base + off);
    return true;
}

static inline bool wh_rd_u16_at(const wh_reader *r, size_t off, uint16_t *v)
{
    if (off > r->size || 2 > r->size - off) return false;
    *v = wh_get_u16le(r->base + off);
    return true;
}

static inline bool wh_rd_u8_at(const wh_reader *r, size_t off, uint8_t *v)
{
    if (off >= r->size) return false;
    *v = r->base[off];
    return true;
}

#endif
