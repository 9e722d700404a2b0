/* SHA-256 of evidence files (see hunt_hash.h). */
#include "hunt/hunt_hash.h"

#include <stdint.h>

#include "core/hash.h"

#ifdef WH_HAVE_LIBCRYPTO
#include <dlfcn.h>
#include <openssl/evp.h>
#include <pthread.h>

/* libcrypto is loaded when the first file is hashed, not at every start
 * (0.75 ms before main, for commands that never hash: docs/design.md).
 * Not there, or not loadable: our own code hashes. */
#ifndef WH_LIBCRYPTO_SONAME
#define WH_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif
static __typeof__(EVP_Digest) *cr_digest;
static __typeof__(EVP_sha256) *cr_sha256;
static pthread_once_t cr_once = PTHREAD_ONCE_INIT;

static void cr_load(void)
{
    void *h = dlopen(WH_LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    *(void **)&cr_sha256 = dlsym(h, "EVP_sha256");
    if (cr_sha256) *(void **)&cr_digest = dlsym(h, "EVP_Digest"); // set last: it says both are there
}

static bool cr_ready(void)
{
    pthread_once(&cr_once, cr_load);
    return cr_digest != NULL;
}
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
    if (cr_ready() && cr_digest(n ? p : &empty, n, d, &dl, cr_sha256(), NULL) == 1 && dl == 32) {
        wh_hex(d, 32, out, 0);
        return;
    }
#endif
    hh_sha256_hex_portable(p, n, out);
}

const char *hh_sha256_backend(void)
{
#ifdef WH_HAVE_LIBCRYPTO
    return cr_ready() ? "libcrypto" : "portable";
#else
    return "portable";
#endif
}
