/* lib/core: the bounds-checked reader, arena, text, hashes, time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/hash.h"
#include "core/reader.h"
#include "core/recbuild.h"
#include "core/strmap.h"
#include "core/text.h"
#include "wmihunt/cim.h"
#include "wmihunt/output.h"

static void reader_reads_little_endian(void **state)
{
    (void)state;
    const uint8_t b[] = {1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1};
    wh_reader r;
    wh_rd_init(&r, b, sizeof(b), 100, "mem");
    assert_int_equal(wh_rd_u8(&r), 1);
    assert_int_equal(wh_rd_u16(&r), 0x1234);
    assert_int_equal(wh_rd_u32(&r), 0x12345678u);
    assert_true(wh_rd_u64(&r) == 0x0102030405060708ull);
    assert_true(wh_rd_ok(&r));
    assert_int_equal(wh_rd_left(&r), 0);
    assert_true(wh_rd_abs(&r) == 115);
}

static void reader_failure_is_sticky(void **state)
{
    (void)state;
    const uint8_t b[] = {1, 2, 3};
    wh_reader r;
    wh_rd_init(&r, b, sizeof(b), 1000, "mem");
    assert_int_equal(wh_rd_u16(&r), 0x0201);
    assert_int_equal(wh_rd_u32(&r), 0); // one byte short
    assert_false(wh_rd_ok(&r));
    assert_int_equal(r.status, WH_E_TRUNCATED);
    assert_true(wh_rd_fail_abs(&r) == 1002);
    assert_int_equal(wh_rd_u8(&r), 0); // even though a byte is there
    assert_null(wh_rd_bytes(&r, 1));
}

static void reader_huge_lengths_do_not_wrap(void **state)
{
    (void)state;
    const uint8_t b[16] = {0};
    wh_reader r;
    wh_rd_init(&r, b, sizeof(b), 0, "mem");
    wh_rd_skip(&r, 8);
    assert_null(wh_rd_bytes(&r, SIZE_MAX));
    assert_false(wh_rd_ok(&r));
    wh_reader c;
    wh_rd_init(&r, b, sizeof(b), 0, "mem");
    assert_false(wh_rd_sub(&r, 8, SIZE_MAX - 4, &c));
    assert_false(wh_rd_sub(&r, 17, 0, &c));
    assert_true(wh_rd_sub(&r, 16, 0, &c));
    assert_int_equal(c.size, 0);
    uint32_t v;
    assert_false(wh_rd_u32_at(&r, 13, &v));
    assert_false(wh_rd_u32_at(&r, SIZE_MAX, &v));
    assert_true(wh_rd_u32_at(&r, 12, &v));
    assert_false(wh_rd_seek(&r, 17));
}

static void subreader_cannot_escape(void **state)
{
    (void)state;
    const uint8_t b[] = {0, 1, 2, 3, 4, 5, 6, 7};
    wh_reader r, c;
    wh_rd_init(&r, b, sizeof(b), 10, "mem");
    assert_true(wh_rd_sub(&r, 2, 3, &c));
    assert_true(c.file_off == 12);
    assert_int_equal(wh_rd_u16(&c), 0x0302);
    assert_int_equal(wh_rd_u16(&c), 0); // would read byte 5, outside the slice
    assert_false(wh_rd_ok(&c));
}

static void utf16_conversion_and_bad_surrogates(void **state)
{
    (void)state;
    wh_arena *a = wh_arena_new(0);
    // "aé€😀" then a lone high surrogate and a lone low surrogate
    const uint8_t s[] = {'a', 0, 0xE9, 0, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xD8, 'x', 0, 0x00, 0xDC};
    bool lossy = false;
    size_t n;
    char *u = wh_utf16le_to_utf8(a, s, 8, false, &n, &lossy);
    assert_string_equal(u, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBDx\xEF\xBF\xBD");
    assert_true(lossy);
    lossy = false;
    const uint8_t z[] = {'h', 0, 'i', 0, 0, 0, 'x', 0};
    u = wh_utf16le_to_utf8(a, z, 4, true, &n, &lossy);
    assert_string_equal(u, "hi");
    assert_int_equal(n, 2);
    assert_false(lossy);
    u = wh_latin1_to_utf8(a, (const uint8_t *)"caf\xE9", 4, &n);
    assert_string_equal(u, "caf\xC3\xA9");
    wh_arena_free(a);
}

static void utf8_upper_utf16(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t n = wh_utf8_to_utf16le_upper("ab\xC3\xA9", 4, out, sizeof(out), true);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "A\0B\0\xC9\0", 6);
    assert_true(wh_utf8_to_utf16le_upper("abc", 3, out, 4, true) == SIZE_MAX); // does not fit
}

static void filetime_iso(void **state)
{
    (void)state;
    char b[32];
    assert_true(wh_filetime_iso(132201838485723792ull, b));
    assert_string_equal(b, "2019-12-07T09:17:28.572379Z");
    assert_true(wh_filetime_iso(116444736000000000ull, b));
    assert_string_equal(b, "1970-01-01T00:00:00.000000Z");
    assert_true(wh_filetime_iso(1, b));
    assert_string_equal(b, "1601-01-01T00:00:00.000000Z");
    assert_false(wh_filetime_iso(0, b));
    assert_false(wh_filetime_iso(UINT64_MAX, b));
    assert_string_equal(b, "");
    assert_true(wh_filetime_iso(2650467743999999999ull, b)); // last instant of 9999
    assert_string_equal(b, "9999-12-31T23:59:59.999999Z");
}

static void hex_of(const uint8_t *d, size_t n, char *out) { wh_hex(d, n, out, 0); }

static void sha256_vectors(void **state)
{
    (void)state;
    // FIPS 180-2 examples.
    static const struct { const char *in; const char *out; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"}};
    for (size_t i = 0; i < 3; i++) {
        wh_sha256 c;
        uint8_t d[32];
        char h[65];
        wh_sha256_init(&c);
        wh_sha256_update(&c, v[i].in, strlen(v[i].in));
        wh_sha256_final(&c, d);
        hex_of(d, 32, h);
        assert_string_equal(h, v[i].out);
    }
    // A million 'a', fed in odd-sized pieces.
    wh_sha256 c;
    uint8_t d[32];
    char h[65], chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    wh_sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
        wh_sha256_update(&c, chunk, k);
        left -= k;
    }
    wh_sha256_final(&c, d);
    hex_of(d, 32, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void md5_vectors(void **state)
{
    (void)state;
    // RFC 1321 appendix A.5.
    static const struct { const char *in; const char *out; } v[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"}};
    for (size_t i = 0; i < 5; i++) {
        wh_md5 c;
        uint8_t d[16];
        char h[33];
        wh_md5_init(&c);
        wh_md5_update(&c, v[i].in, strlen(v[i].in));
        wh_md5_final(&c, d);
        hex_of(d, 16, h);
        assert_string_equal(h, v[i].out);
    }
}

static void cim_name_hashes(void **state)
{
    (void)state;
    // ../shared/corpus/cim/EXPECTED.md §5 and §6 (dtformats, artemis).
    char h[65];
    wh_cim_hash_name("__thisNAMESPACE", false, h);
    assert_string_equal(h, "41C53E6DB1ACF2453CEFD41398198E613F10DFF47709ECAB1D7F037756AC8CE7");
    wh_cim_hash_name("ROOT", true, h);
    assert_string_equal(h, "C82638BEBD36E6F8E4573C4F475C62BF");
    wh_cim_hash_name("__NAMESPACE", true, h);
    assert_string_equal(h, "E5844D1645B0B6E6F2AF610EB14BFC34");
    wh_cim_hash_name("directory", true, h);
    assert_string_equal(h, "CB3C05A33F2F537FEA797CE790EDD4C4");
    wh_cim_hash_name("Win32_BIOS", false, h);
    assert_int_equal(strncmp(h, "9B3B36A9", 8), 0);
    assert_string_equal(h + 60, "4900");
    wh_cim_hash_name("name", false, h);
    assert_int_equal(strncmp(h, "5F7920B7", 8), 0);
    assert_string_equal(h + 60, "95CD");
}

static void arena_cap_and_alignment(void **state)
{
    (void)state;
    wh_arena *a = wh_arena_new(1u << 20);
    void *p = wh_arena_alloc(a, 3);
    void *q = wh_arena_alloc(a, 5);
    assert_non_null(p);
    assert_int_equal((uintptr_t)q % 16, 0);
    assert_null(wh_arena_alloc(a, 2u << 20)); // past the cap
    assert_true(wh_arena_hit_cap(a));
    assert_null(wh_arena_calloc(a, SIZE_MAX / 2, 4)); // overflow
    // Up to the cap in small pieces: stops there, never beyond.
    size_t got = 0;
    while (wh_arena_alloc(a, 4096)) got += 4096;
    assert_true(got <= (1u << 20));
    assert_true(wh_arena_used(a) <= (1u << 20));
    wh_arena_free(a);
    wh_arena_free(NULL);
}

static void strmap_put_get(void **state)
{
    (void)state;
    wh_arena *a = wh_arena_new(0);
    wh_strmap m;
    wh_strmap_init(&m, a);
    char *keys[1000];
    for (int i = 0; i < 1000; i++) {
        keys[i] = wh_arena_printf(a, "key%d", i);
        assert_int_equal(wh_strmap_put(&m, keys[i], keys[i]), 0);
    }
    for (int i = 0; i < 1000; i++) assert_ptr_equal(wh_strmap_get(&m, keys[i]), keys[i]);
    assert_null(wh_strmap_get(&m, "key1000"));
    assert_ptr_equal(wh_strmap_getn(&m, "key12xyz", 5), keys[12]);
    assert_int_equal(m.n, 1000);
    wh_arena_free(a);
}

static void sid_strings(void **state)
{
    (void)state;
    wh_arena *a = wh_arena_new(0);
    const uint8_t admins[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
    assert_string_equal(wh_sid_str(a, admins, sizeof(admins)), "S-1-5-32-544");
    assert_null(wh_sid_str(a, admins, 15)); // one byte short
    const uint8_t bad[] = {2, 0, 0, 0, 0, 0, 0, 5};
    assert_null(wh_sid_str(a, bad, sizeof(bad)));
    wh_arena_free(a);
}


/* JSON strings: the writer's fast paths (sixteen or eight bytes at a time)
 * against the rules byte by byte, on strings dense in the bytes each rule
 * is about, at every length and start up to 80. */
static void json_ref(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            if (c == '"') fputs("\\\"", f);
            else if (c == '\\') fputs("\\\\", f);
            else if (c == '\n') fputs("\\n", f);
            else if (c == '\r') fputs("\\r", f);
            else if (c == '\t') fputs("\\t", f);
            else if (c < 0x20 || c == 0x7F) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
            continue;
        }
        size_t st = i;
        uint32_t cp = wh_utf8_next(s, n, &i);
        if (cp == 0xFFFD && !(i - st == 3 && (unsigned char)s[st] == 0xEF)) fputs("\\ufffd", f);
        else if ((cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029) fprintf(f, "\\u%04x", cp);
        else fwrite(s + st, 1, i - st, f);
    }
    fputc('"', f);
}

static void json_escaping_fast_paths(void **state)
{
    (void)state;
    static const unsigned char pool[] = {'a', 'Z', ' ', '~', '"', '\\', 0x00, 0x01, 0x1F, 0x7F, 0x80, 0xC2, 0x85,
                                         0xE2, 0x80, 0xA8, 0xEF, 0xBF, 0xBD, 0xF0, 0x9F, 0x98, 0x80, 0xFF, '\n', 'x'};
    uint32_t seed = 12345;
    char buf[96], a[2048], b[2048];
    for (int round = 0; round < 60; round++) {
        for (size_t k = 0; k < sizeof(buf); k++) {
            seed = seed * 1103515245u + 12345u;
            // mostly plain runs, so that the wide paths run and then stop
            buf[k] = (seed >> 16) % 4 ? (char)('a' + (seed >> 20) % 26) : (char)pool[(seed >> 8) % sizeof(pool)];
        }
        for (size_t st = 0; st < 16; st++)
            for (size_t n = 0; n + st <= 80; n++) {
                FILE *fa = fmemopen(a, sizeof(a), "w"), *fb = fmemopen(b, sizeof(b), "w");
                assert_non_null(fa);
                assert_non_null(fb);
                wh_out_json_str(fa, buf + st, n);
                json_ref(fb, buf + st, n);
                long la = ftell(fa), lb = ftell(fb);
                fclose(fa);
                fclose(fb);
                assert_int_equal(la, lb);
                assert_memory_equal(a, b, (size_t)la);
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_reads_little_endian),
        cmocka_unit_test(reader_failure_is_sticky),
        cmocka_unit_test(reader_huge_lengths_do_not_wrap),
        cmocka_unit_test(subreader_cannot_escape),
        cmocka_unit_test(utf16_conversion_and_bad_surrogates),
        cmocka_unit_test(utf8_upper_utf16),
        cmocka_unit_test(filetime_iso),
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(md5_vectors),
        cmocka_unit_test(cim_name_hashes),
        cmocka_unit_test(arena_cap_and_alignment),
        cmocka_unit_test(strmap_put_get),
        cmocka_unit_test(sid_strings),
        cmocka_unit_test(json_escaping_fast_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
