/* libFuzzer target: one stored value classified as a string and as a
 * uint8 array (lib/stash). The input is copied into a buffer of exactly its
 * size, so ASan sees any read past the value; the result's promises are
 * checked: a type always, a printable excerpt, a hash on every hit, and a
 * decoded size no encoding could exceed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wmihunt/stash.h"

static void check(const wh_stash_result *r, bool hit, size_t n)
{
    if (!r->type || (unsigned)r->content >= WH_STASH_CONTENT_COUNT) abort();
    if (hit != (r->content != WH_STASH_NONE)) abort();
    if (r->input_size != n) abort();
    if (r->known_good != (r->content == WH_STASH_CERT || r->content == WH_STASH_BMOF)) abort();
    size_t e = strlen(r->excerpt);
    if (e > WH_STASH_EXCERPT) abort();
    for (size_t i = 0; i < e; i++)
        if (r->excerpt[i] < 0x20 || r->excerpt[i] > 0x7E) abort();
    if (hit && strlen(r->sha256_hex) != 64) abort();
    if (r->entropy < 0 || r->entropy > 8.0001) abort();
    if (r->encoding == WH_STASH_ENC_BASE64 && r->decoded_size > n / 4 * 3 + 2) abort();
    if (r->encoding == WH_STASH_ENC_HEX && r->decoded_size > n / 2) abort();
    if (r->encoding == WH_STASH_ENC_NONE && r->decoded_size > n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *v = malloc(size ? size : 1);
    if (!v) return 0;
    if (size) memcpy(v, data, size);
    wh_stash_result r;
    check(&r, wh_stash_classify(v, size, false, &r), size);
    check(&r, wh_stash_classify(v, size, true, &r), size);
    free(v);
    return 0;
}
