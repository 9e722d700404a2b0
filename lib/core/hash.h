/* MD5 and SHA-256, needed by the parsers themselves (CIM key names are
 * MD5/SHA-256 hashes), so they live in core and keep the parsers libc-only. */
#ifndef WH_HASH_H
#define WH_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct wh_sha256 { uint32_t h[8]; uint64_t len; uint8_t buf[64]; size_t nbuf; } wh_sha256;
void wh_sha256_init(wh_sha256 *c);
void wh_sha256_update(wh_sha256 *c, const void *data, size_t n);
void wh_sha256_final(wh_sha256 *c, uint8_t out[32]);

typedef struct wh_md5 { uint32_t h[4]; uint64_t len; uint8_t buf[64]; size_t nbuf; } wh_md5;
void wh_md5_init(wh_md5 *c);
void wh_md5_update(wh_md5 *c, const void *data, size_t n);
void wh_md5_final(wh_md5 *c, uint8_t out[16]);

/* Hex of n bytes into out (2n+1 bytes); upper or lower case. */
void wh_hex(const uint8_t *p, size_t n, char *out, int upper);

#endif
