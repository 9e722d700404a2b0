/* SHA-256 of whole evidence files for the hunt's integrity list. Bulk
 * hashing sits outside the parsers, so it may use OpenSSL's libcrypto
 * (SHA extensions, several times our portable lib/core/hash.c) when the
 * build found it; lib/core/hash.c stays for the parsers, which hash only
 * names. The result is the same either way. */
#ifndef WH_HUNT_HASH_H
#define WH_HUNT_HASH_H

#include <stdbool.h>
#include <stddef.h>

/* Lower-case hex SHA-256 of n bytes at p (p may be NULL when n is 0). */
void hh_sha256_hex(const void *p, size_t n, char out[65]);

/* The same with our portable code, whatever the build (tests, bench). */
void hh_sha256_hex_portable(const void *p, size_t n, char out[65]);

/* "libcrypto" or "portable": what hh_sha256_hex uses. */
const char *hh_sha256_backend(void);

#endif
