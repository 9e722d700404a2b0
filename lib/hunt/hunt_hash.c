/* SHA-256 of evidence files (see hunt_hash.h). */
#include "hunt/hunt_hash.h"

#include <stdint.h>

#include "core/hash.h"

#ifdef WH_HAVE_LIBCRYPTO
#include <openssl/evp.h>
#endif

void hh_sha256_hex_portable(const void *p, size_t n, char out[65])
{
    wh_sha256 c;
    uint8_t d[32];
    wh_sha256_init(&c);
    if (n) wh_sha256_update(&c, p, n);
    wh_sha256_final(&c, d);
    wh_hex(d, 32, out, 0);
}

void hh_sha256_hex(const void *p, size_t n, char out[65])
{
#ifdef WH_HAVE_LIBCRYPTO
    // One call per file: EVP_Digest sets up, hashes and finishes. Any
    // failure (no provider, no memory) falls back to our code below.
    static const unsigned char empty = 0;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (EVP_Digest(n ? p : &empty, n, d, &dl, EVP_sha256(), NULL) == 1 && dl == 32) {
        wh_hex(d, 32, out, 0);
        return;
    }
#endif
    hh_sha256_hex_portable(p, n, out);
}

const char *hh_sha256_backend(void)
{
#ifdef WH_HAVE_LIBCRYPTO
    return "libcrypto";
#else
    return "portable";
#endif
}
