/* Growable text buffer for renderers; reused across records. */
#ifndef WH_SBUF_H
#define WH_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wmihunt/core.h" /* WH_PRINTF */

typedef struct wh_sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} wh_sbuf;

bool wh_sbuf_grow(wh_sbuf *b, size_t more);
static inline void wh_sbuf_putc(wh_sbuf *b, char c)
{
    if (b->n + 1 >= b->cap && !wh_sbuf_grow(b, 1)) return;
    b->p[b->n++] = c;
}
void wh_sbuf_put(wh_sbuf *b, const char *s, size_t n);
void wh_sbuf_puts(wh_sbuf *b, const char *s);
void wh_sbuf_printf(wh_sbuf *b, const char *fmt, ...) WH_PRINTF(2, 3);
/* NUL-terminated view (the buffer keeps a spare byte). */
const char *wh_sbuf_cstr(wh_sbuf *b);
/* Numbers without printf (the hot path of every renderer). */
void wh_sbuf_u64(wh_sbuf *b, uint64_t v);
void wh_sbuf_i64(wh_sbuf *b, int64_t v);
void wh_sbuf_hex(wh_sbuf *b, uint64_t v, int digits, bool upper); /* digits 0: minimal, no 0x */
static inline void wh_sbuf_reset(wh_sbuf *b) { b->n = 0; }
void wh_sbuf_free(wh_sbuf *b);
/* Appends s escaped for JSON (valid UTF-8 out, controls as \\u00XX). */
void wh_sbuf_json(wh_sbuf *b, const char *s, size_t n);
/* Appends s escaped for XML text and attribute values. */
void wh_sbuf_xml(wh_sbuf *b, const char *s, size_t n);

#endif
