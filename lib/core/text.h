/* UTF-16 and text helpers. */
#ifndef WH_TEXT_H
#define WH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"

/* Converts n UTF-16LE code units at src to NUL-terminated UTF-8 in the arena.
 * Unpaired surrogates become U+FFFD and set *lossy (may be NULL). Stops at
 * the first NUL unit when stop_at_nul. Returns NULL only when out of memory. */
char *wh_utf16le_to_utf8(wh_arena *a, const uint8_t *src, size_t nunits, bool stop_at_nul,
                         size_t *outlen, bool *lossy);

/* Latin-1 (CIM 8-bit heap strings) to UTF-8. */
char *wh_latin1_to_utf8(wh_arena *a, const uint8_t *src, size_t n, size_t *outlen);

/* Appends the UTF-16LE encoding of upper-cased UTF-8 text to out (capacity
 * outcap bytes); returns bytes written or SIZE_MAX if it does not fit.
 * Upper-casing covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. */
size_t wh_utf8_to_utf16le_upper(const char *s, size_t n, uint8_t *out, size_t outcap, bool upper);

/* Decodes one UTF-8 code point; invalid bytes give U+FFFD and advance 1. */
uint32_t wh_utf8_next(const char *s, size_t n, size_t *i);

/* Case-insensitive ASCII comparison. */
int wh_strcasecmp(const char *a, const char *b);

/* The 6-bit value of a base64 character (RFC 4648 alphabet; with url_safe
 * also '-' and '_'), -1 for any other byte. */
int wh_b64_value(int c, bool url_safe);

/* s matches the glob pat: '*' any run, '?' any one byte, ASCII case folded. */
bool wh_glob(const char *pat, const char *s);

/* Two WMI namespace names are one: case folded, '/' and '\' alike
 * ("root\subscription", "ROOT/Subscription"). NULL is unknown and equals
 * anything. */
bool wh_ns_equal(const char *a, const char *b);

#endif
