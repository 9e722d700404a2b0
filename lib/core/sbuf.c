#include "core/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

bool wh_sbuf_grow(wh_sbuf *b, size_t more)
{
    if (b->oom) return false;
    size_t need = b->n + more + 1;
    if (need <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need) nc *= 2;
    char *p = realloc(b->p, nc);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = nc;
    return true;
}

void wh_sbuf_put(wh_sbuf *b, const char *s, size_t n)
{
    if (!n || !wh_sbuf_grow(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

void wh_sbuf_puts(wh_sbuf *b, const char *s) { wh_sbuf_put(b, s, strlen(s)); }

void wh_sbuf_printf(wh_sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof(tmp)) {
        wh_sbuf_put(b, tmp, (size_t)n);
        return;
    }
    if (!wh_sbuf_grow(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

const char *wh_sbuf_cstr(wh_sbuf *b)
{
    if (!wh_sbuf_grow(b, 0)) return "";
    b->p[b->n] = 0;
    return b->p;
}

void wh_sbuf_free(wh_sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* Bytes that go into a JSON string as they are. */
static const uint8_t json_plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // '"' at 0x22
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, // '\\' at 0x5C
    R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, // 0x7F
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0)
#undef R16
};

void wh_sbuf_json(wh_sbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && json_plain[(unsigned char)s[j]]) j++;
        if (j > i) {
            wh_sbuf_put(b, s + i, j - i);
            i = j;
            if (i == n) break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            switch (c) {
            case '"': wh_sbuf_put(b, "\\\"", 2); break;
            case '\\': wh_sbuf_put(b, "\\\\", 2); break;
            case '\n': wh_sbuf_put(b, "\\n", 2); break;
            case '\r': wh_sbuf_put(b, "\\r", 2); break;
            case '\t': wh_sbuf_put(b, "\\t", 2); break;
            default:
                wh_sbuf_put(b, "\\u00", 4);
                wh_sbuf_hex(b, c, 2, false);
            }
            continue;
        }
        size_t st = i;
        uint32_t cp = wh_utf8_next(s, n, &i);
        if (cp == 0xFFFD && i - st != 3) wh_sbuf_put(b, "\\ufffd", 6);
        else if (cp < 0xA0 || cp == 0x2028 || cp == 0x2029) {
            wh_sbuf_put(b, "\\u", 2);
            wh_sbuf_hex(b, cp, 4, false);
        } else wh_sbuf_put(b, s + st, i - st);
    }
}

void wh_sbuf_xml(wh_sbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '<' && s[j] != '>' && s[j] != '&' && s[j] != '"' && s[j] != '\'') j++;
        wh_sbuf_put(b, s + i, j - i);
        if (j == n) break;
        switch (s[j]) {
        case '<': wh_sbuf_put(b, "&lt;", 4); break;
        case '>': wh_sbuf_put(b, "&gt;", 4); break;
        case '&': wh_sbuf_put(b, "&amp;", 5); break;
        case '"': wh_sbuf_put(b, "&quot;", 6); break;
        default: wh_sbuf_put(b, "&apos;", 6); break;
        }
        i = j + 1;
    }
}

void wh_sbuf_u64(wh_sbuf *b, uint64_t v)
{
    char t[24];
    int i = 24;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wh_sbuf_put(b, t + i, (size_t)(24 - i));
}

void wh_sbuf_i64(wh_sbuf *b, int64_t v)
{
    if (v < 0) {
        wh_sbuf_putc(b, '-');
        wh_sbuf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        wh_sbuf_u64(b, (uint64_t)v);
    }
}

void wh_sbuf_hex(wh_sbuf *b, uint64_t v, int digits, bool upper)
{
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char t[16];
    int i = 16;
    do {
        t[--i] = d[v & 15];
        v >>= 4;
    } while (v || 16 - i < digits);
    wh_sbuf_put(b, t + i, (size_t)(16 - i));
}
