/* The hunt's evidence-file SHA-256 (lib/hunt/hunt_hash.c, libcrypto when the
 * build found it) gives the same hex as our portable lib/core/hash.c: known
 * vectors, every length around the block boundaries, a large buffer, and
 * every file of ../shared/corpus mapped as note_file maps it. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/file.h"
#include "hunt/hunt_hash.h"

static void same(const void *p, size_t n)
{
    char a[65], b[65];
    hh_sha256_hex(p, n, a);
    hh_sha256_hex_portable(p, n, b);
    assert_string_equal(a, b);
}

static void test_vectors(void **state)
{
    (void)state;
    char h[65];
    hh_sha256_hex(NULL, 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hh_sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hh_sha256_hex(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    print_message("backend: %s\n", hh_sha256_backend());
#ifdef WH_EXPECT_LIBCRYPTO
    // Built with libcrypto (loaded on first use): it must have loaded, or
    // the comparisons below would hold our code against itself.
    assert_string_equal(hh_sha256_backend(), "libcrypto");
#endif
}

static void test_lengths(void **state)
{
    (void)state;
    size_t big = (1u << 20) + 7;
    uint8_t *buf = malloc(big);
    assert_non_null(buf);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    for (size_t n = 0; n <= 260; n++) same(buf + 1, n); // unaligned, every tail
    same(buf, big);
    free(buf);
}

static unsigned long nfiles;

static int one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st, (void)f;
    if (type != FTW_F) return 0;
    wh_mapped m;
    if (wh_map_file(path, &m) != WH_OK) return 0;
    same(m.data, m.size);
    wh_unmap_file(&m);
    nfiles++;
    return 0;
}

static void test_corpus_files(void **state)
{
    (void)state;
    if (nftw(WH_CORPUS, one, 16, FTW_PHYS) != 0 || nfiles == 0) {
        print_message("skipped: no corpus at %s\n", WH_CORPUS);
        skip();
    }
    print_message("%lu corpus files hashed both ways\n", nfiles);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_corpus_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
