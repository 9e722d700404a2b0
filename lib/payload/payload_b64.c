/* Base64, gzip/raw deflate (zlib, bounded) and what decoded bytes are:
 * UTF-16LE text (what -EncodedCommand and [Text.Encoding]::Unicode carry),
 * UTF-8 text, or a binary blob (a PE, shellcode) that is described, hashed
 * and not decoded further. */
#define ZLIB_CONST
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/hash.h"
#include "core/reader.h"
#include "core/text.h"
#include "payload/payload_int.h"


bool pl_b64_plausible(pl_text t, size_t min_chars)
{
    size_t data = 0, pad = 0;
    bool upper = false, lower = false, other = false;
    for (size_t i = 0; i < t.n; i++) {
        int c = pl_at(t, i);
        if (c == '=') {
            pad++;
            continue;
        }
        // data after padding, or padding of more than two: not base64
        if (pad || wh_b64_value(c, false) < 0) return false;
        data++;
        if (c >= 'A' && c <= 'Z') upper = true;
        else if (c >= 'a' && c <= 'z') lower = true;
        else other = true;
    }
    if (pad > 2 || data < min_chars) return false;
    // a plain word ("Bypass", "Hidden") is not an encoded command
    return (upper && lower) || other || data >= 16;
}

bool pl_b64_decode(wh_payload *p, pl_text t, size_t min, pl_bytes *out)
{
    memset(out, 0, sizeof(*out));
    size_t data = 0, pad = 0;
    for (size_t i = 0; i < t.n; i++) {
        int c = pl_at(t, i);
        if (pl_space(c)) continue; // .NET's FromBase64String skips white space
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || wh_b64_value(c, false) < 0) return false;
        data++;
    }
    if (pad > 2) return false;
    size_t cap = data / 4 * 3 + 3;
    uint8_t *b = wh_arena_alloc(p->a, cap);
    if (!b) {
        pl_limit(p, PL_LIM_MEM, "memory bound reached decoding base64");
        return false;
    }
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < t.n; i++) {
        int v = wh_b64_value(pl_at(t, i), false);
        if (v < 0) continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap) b[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    // .NET refuses a length that is not a multiple of four; we keep what
    // decodes and say it was cut
    out->truncated = (data + pad) % 4 != 0 || data % 4 == 1;
    out->p = b;
    out->n = n;
    return n >= min;
}

bool pl_inflate(wh_payload *p, const uint8_t *in, size_t n, bool gzip, pl_bytes *out)
{
    memset(out, 0, sizeof(*out));
    size_t allowed = WH_PAYLOAD_INFLATE_MAX;
    if (allowed > pl_room(p)) allowed = pl_room(p);
    size_t ratio = n > SIZE_MAX / WH_PAYLOAD_INFLATE_RATIO ? SIZE_MAX : n * WH_PAYLOAD_INFLATE_RATIO;
    if (ratio < WH_PAYLOAD_INFLATE_FLOOR) ratio = WH_PAYLOAD_INFLATE_FLOOR;
    bool by_ratio = ratio < allowed;
    if (by_ratio) allowed = ratio;
    if (n > UINT_MAX) n = UINT_MAX; // avail_in is a uInt; our inputs are far smaller
    // one byte more than allowed tells a stream that goes on from one that ends there
    uint8_t *buf = wh_arena_alloc(p->a, allowed + 1);
    if (!buf) {
        pl_limit(p, PL_LIM_MEM, "memory bound reached inflating %zu bytes", n);
        return false;
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, gzip ? 15 + 16 : -15) != Z_OK) return false;
    zs.next_in = in;
    zs.avail_in = (uInt)n;
    size_t got = 0;
    int ret = Z_OK;
    const char *what = gzip ? "gzip" : "deflate";
    while (got <= allowed) {
        size_t room = allowed + 1 - got;
        zs.next_out = buf + got;
        zs.avail_out = (uInt)(room < (64u << 10) ? room : (64u << 10));
        ret = inflate(&zs, Z_NO_FLUSH);
        got = (size_t)zs.total_out;
        if (ret != Z_OK) break;
        if (pl_expired(p)) break;
        if (zs.avail_in == 0 && zs.avail_out != 0) break; // input used up, stream not ended
    }
    inflateEnd(&zs);
    if (got > allowed) {
        got = allowed;
        if (by_ratio)
            pl_limit(p, PL_LIM_INFLATE,
                     "%s stream of %zu bytes inflates past %u times its size (a bomb?): only its first %zu bytes are decoded",
                     what, n, WH_PAYLOAD_INFLATE_RATIO, allowed);
        else
            pl_limit(p, PL_LIM_INFLATE, "%s stream of %zu bytes inflates past %zu bytes: only those are decoded", what,
                     n, allowed);
    } else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_MEM_ERROR || ret == Z_STREAM_ERROR) {
        pl_warn(p, "%s stream of %zu bytes is damaged (%s) after %zu bytes out: kept what inflated", what, n,
                zs.msg ? zs.msg : "zlib error", got);
    } else if (ret != Z_STREAM_END && !p->stop) {
        pl_warn(p, "%s stream of %zu bytes is truncated after %zu bytes out: kept what inflated", what, n, got);
    }
    out->p = buf;
    out->n = got;
    out->truncated = ret != Z_STREAM_END;
    return got > 0;
}

// Counts for the text test, over whole code units.
typedef struct counts {
    size_t units, ascii, ctrl;
} counts;

static bool is_ctrl(uint32_t u) { return u < 0x20 ? (u != '\t' && u != '\r' && u != '\n') : u == 0x7F; }

static counts count16(const wh_reader *r, size_t from)
{
    counts c = {0, 0, 0};
    for (size_t i = from; ; i += 2) {
        uint16_t u;
        if (!wh_rd_u16_at(r, i, &u)) break;
        c.units++;
        if (u < 0x80 && !is_ctrl(u)) c.ascii++;
        if (is_ctrl(u)) c.ctrl++;
    }
    return c;
}

static counts count8(pl_text t, size_t *invalid)
{
    counts c = {0, 0, 0};
    *invalid = 0;
    size_t i = 0;
    while (i < t.n) {
        size_t before = i;
        uint32_t u = wh_utf8_next(t.p, t.n, &i);
        if (i == before) i++; // never stall
        c.units++;
        if (u == 0xFFFD && i - before == 1) (*invalid)++;
        if (u < 0x80 && !is_ctrl(u)) c.ascii++;
        if (is_ctrl(u)) c.ctrl++;
    }
    return c;
}

pl_kind pl_bytes_text(wh_payload *p, const uint8_t *b, size_t n, bool prefer16, pl_buf *out, char desc[160])
{
    wh_reader r;
    wh_rd_init(&r, b, n, 0, p->source);
    uint16_t mz = 0;
    bool pe = wh_rd_u16_at(&r, 0, &mz) && mz == 0x5A4D; // "MZ"
    uint16_t bom16 = 0;
    size_t from16 = wh_rd_u16_at(&r, 0, &bom16) && bom16 == 0xFEFF ? 2 : 0;
    counts c16 = pe ? (counts){0, 0, 0} : count16(&r, from16);
    size_t invalid8 = 0;
    size_t from8 = n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0;
    pl_text t8 = {(const char *)b + from8, n - from8};
    counts c8 = pe ? (counts){0, 0, 0} : count8(t8, &invalid8);
    // text: few controls; UTF-16 of a script is mostly ASCII units, while
    // ASCII read as UTF-16 gives CJK units, so ASCII share decides
    bool u16_ascii = c16.units && c16.ascii * 10 >= c16.units * 7 && c16.ctrl * 20 <= c16.units;
    bool u16_any = c16.units && c16.ctrl * 20 <= c16.units && c16.ascii * 10 >= c16.units * 3;
    bool u8_text = c8.units && c8.ctrl * 20 <= c8.units && invalid8 * 100 <= c8.units;
    int pick = 0; // 16, 8 or 0 (binary)
    if (!pe) {
        if (prefer16) pick = u16_ascii ? 16 : u8_text ? 8 : u16_any ? 16 : 0;
        else pick = u8_text ? 8 : u16_ascii ? 16 : 0;
    }
    if (pick == 8) {
        pl_put_text(out, t8);
        return PL_TEXT;
    }
    if (pick == 16) {
        if ((n - from16) % 2) pl_warn(p, "UTF-16 text of %zu bytes has an odd length: the last byte is dropped", n);
        bool lossy = false;
        size_t olen = 0;
        char *s = wh_utf16le_to_utf8(p->a, b + from16, (n - from16) / 2, false, &olen, &lossy);
        if (!s) {
            pl_limit(p, PL_LIM_MEM, "memory bound reached converting UTF-16");
            return PL_TEXT;
        }
        if (lossy) pl_warn(p, "invalid UTF-16 (unpaired surrogates) in decoded text: replaced by U+FFFD");
        pl_put(out, s, olen);
        return PL_TEXT;
    }
    uint8_t h[32];
    char hex[65];
    wh_sha256 ctx;
    wh_sha256_init(&ctx);
    wh_sha256_update(&ctx, b, n);
    wh_sha256_final(&ctx, h);
    wh_hex(h, 32, hex, 0);
    snprintf(desc, 160, "binary (%s%zu bytes, sha256 %s)", pe ? "PE, " : "", n, hex);
    return PL_BINARY;
}
