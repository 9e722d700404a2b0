#include "core/text.h"

#include <string.h>

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *wh_utf16le_to_utf8(wh_arena *a, const uint8_t *src, size_t nunits, bool stop_at_nul,
                         size_t *outlen, bool *lossy)
{
    if (nunits > SIZE_MAX / 3 - 1) return NULL;
    char *out = wh_arena_alloc(a, nunits * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < nunits; i++) {
        uint32_t u = (uint32_t)src[2 * i] | ((uint32_t)src[2 * i + 1] << 8);
        if (u == 0 && stop_at_nul) break;
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < nunits) {
            uint32_t l = (uint32_t)src[2 * i + 2] | ((uint32_t)src[2 * i + 3] << 8);
            if (l >= 0xDC00 && l <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                i++;
                o += put_utf8(out + o, u);
                continue;
            }
        }
        if (u >= 0xD800 && u <= 0xDFFF) {
            u = 0xFFFD;
            if (lossy) *lossy = true;
        }
        o += put_utf8(out + o, u);
    }
    out[o] = 0;
    if (outlen) *outlen = o;
    return out;
}

char *wh_latin1_to_utf8(wh_arena *a, const uint8_t *src, size_t n, size_t *outlen)
{
    if (n > SIZE_MAX / 2 - 1) return NULL;
    char *out = wh_arena_alloc(a, n * 2 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) o += put_utf8(out + o, src[i]);
    out[o] = 0;
    if (outlen) *outlen = o;
    return out;
}

uint32_t wh_utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = n - *i;
    uint32_t c = p[0];
    size_t len = 1;
    uint32_t min = 0;
    if (c < 0x80) { *i += 1; return c; }
    if ((c & 0xE0) == 0xC0) { len = 2; c &= 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; c &= 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; c &= 0x07; min = 0x10000; }
    else { *i += 1; return 0xFFFD; }
    if (len > left) { *i += 1; return 0xFFFD; }
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80) { *i += 1; return 0xFFFD; }
        c = (c << 6) | (p[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) { *i += 1; return 0xFFFD; }
    *i += len;
    return c;
}

static uint32_t upper(uint32_t c)
{
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;   // Latin-1
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17F) {                               // Latin Extended-A
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return (c & 1) ? c - 1 : c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;  // Greek
    if (c >= 0x430 && c <= 0x44F) return c - 32;                 // Cyrillic
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

size_t wh_utf8_to_utf16le_upper(const char *s, size_t n, uint8_t *out, size_t outcap, bool up)
{
    size_t o = 0, i = 0;
    while (i < n) {
        uint32_t c = wh_utf8_next(s, n, &i);
        if (up) c = upper(c);
        if (c >= 0x10000) {
            if (outcap - o < 4 || o > outcap) return SIZE_MAX;
            uint32_t v = c - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
            out[o++] = (uint8_t)hi; out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo; out[o++] = (uint8_t)(lo >> 8);
        } else {
            if (o > outcap || outcap - o < 2) return SIZE_MAX;
            out[o++] = (uint8_t)c; out[o++] = (uint8_t)(c >> 8);
        }
    }
    return o;
}

int wh_strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'a' && ca <= 'z') ca -= 32;
        if (cb >= 'a' && cb <= 'z') cb -= 32;
        if (ca != cb || !ca) return ca - cb;
    }
}

static int fold(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

bool wh_glob(const char *p, const char *s)
{
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            ss = s;
        } else if (*p == '?' || (*p && fold((unsigned char)*p) == fold((unsigned char)*s))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++ss;
        } else {
            return false;
        }
    }
    while (*p == '*') p++;
    return !*p;
}

bool wh_ns_equal(const char *a, const char *b)
{
    if (!a || !b) return true;
    for (; *a && *b; a++, b++) {
        int x = *a == '/' ? '\\' : fold((unsigned char)*a), y = *b == '/' ? '\\' : fold((unsigned char)*b);
        if (x != y) return false;
    }
    return !*a && !*b;
}

int wh_b64_value(int c, bool url_safe)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || (url_safe && c == '-')) return 62;
    if (c == '/' || (url_safe && c == '_')) return 63;
    return -1;
}
