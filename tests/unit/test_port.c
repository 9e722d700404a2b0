/* lib/core/port.h and lib/core/sort.h: what the Windows build relies on
 * behaving as on Linux (a stable sort, folders listed without following
 * links, text rendered into memory, lines of any length). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32.h"
#include "core/port.h"
#include "core/sort.h"

typedef struct item {
    int key;
    int seq;
    char pad[92]; /* larger than the sort's on-stack element */
} item;

static int by_key(const void *a, const void *b)
{
    const item *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static int by_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_sort_stable(void **state)
{
    (void)state;
    srand(7);
    static const size_t sizes[] = {0, 1, 2, 15, 16, 17, 33, 100, 1000, 5003};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s];
        item *v = calloc(n ? n : 1, sizeof(*v));
        assert_non_null(v);
        for (size_t i = 0; i < n; i++) v[i] = (item){.key = rand() % 7, .seq = (int)i}; // many ties
        wh_sort(v, n, sizeof(*v), by_key);
        for (size_t i = 1; i < n; i++) {
            assert_true(v[i - 1].key <= v[i].key);
            if (v[i - 1].key == v[i].key) assert_true(v[i - 1].seq < v[i].seq); // ties keep their order
        }
        free(v);
    }
    int a[300];
    for (int i = 0; i < 300; i++) a[i] = 300 - i; // reversed
    wh_sort(a, 300, sizeof(int), by_int);
    for (int i = 0; i < 300; i++) assert_int_equal(a[i], i + 1);
}

static char g_dir[256];

static void touch(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", g_dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static void test_dir_listing(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/wh-port-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(g_dir));
    char p[512];
    snprintf(p, sizeof(p), "%s/sub", g_dir);
    assert_int_equal(mkdir(p, 0700), 0);
    touch("a.mof");
    touch("sub/b.mof");
    snprintf(p, sizeof(p), "%s/link", g_dir);
    assert_int_equal(symlink("sub", p), 0);

    wh_dir *d = wh_dir_open(g_dir);
    assert_non_null(d);
    int seen = 0, files = 0, dirs = 0, links = 0;
    for (const char *e; (e = wh_dir_next(d));) {
        assert_true(strcmp(e, ".") && strcmp(e, ".."));
        wh_fstat st;
        assert_int_equal(wh_dir_stat_at(d, e, &st), 0);
        files += st.type == WH_FT_REG, dirs += st.type == WH_FT_DIR, links += st.type == WH_FT_LINK;
        if (st.type == WH_FT_REG) assert_int_equal(st.size, 1);
        seen++;
    }
    assert_int_equal(seen, 3);
    assert_int_equal(files, 1);
    assert_int_equal(dirs, 1);
    assert_int_equal(links, 1);
    assert_null(wh_dir_open_at(d, "link")); // a link is never followed into
    wh_dir *sub = wh_dir_open_at(d, "sub");
    assert_non_null(sub);
    wh_fstat self;
    assert_int_equal(wh_dir_self(sub, &self), 0);
    assert_true(self.dev || self.ino);
    const char *e = wh_dir_next(sub);
    assert_non_null(e);
    assert_string_equal(e, "b.mof");
    assert_null(wh_dir_next(sub));
    wh_dir_close(sub);
    wh_dir *again = wh_dir_open_at(d, "."); // the same folder, listed from the start
    assert_non_null(again);
    seen = 0;
    while (wh_dir_next(again)) seen++;
    assert_int_equal(seen, 3);
    wh_dir_close(again);
    wh_dir_rewind(d);
    seen = 0;
    while (wh_dir_next(d)) seen++;
    assert_int_equal(seen, 3);
    wh_dir_close(d);

    wh_fstat st;
    assert_int_equal(wh_stat(p, false, &st), 0); // p: the link
    assert_int_equal(st.type, WH_FT_LINK);
    assert_int_equal(wh_stat(p, true, &st), 0);
    assert_int_equal(st.type, WH_FT_DIR);
    snprintf(p, sizeof(p), "%s/missing", g_dir);
    assert_int_equal(wh_stat(p, true, &st), -1);
    assert_null(wh_dir_open(p));

    snprintf(p, sizeof(p), "rm -rf '%s'", g_dir);
    assert_int_equal(system(p), 0);
}

static void test_memstream_getline(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = wh_memstream(&buf, &len);
    assert_non_null(m);
    fprintf(m, "%s=%zu", "first", (size_t)42);
    assert_int_equal(wh_memstream_sync(m), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "first=42", 8);
    for (int i = 0; i < 10000; i++) fputc('a' + i % 26, m);
    assert_int_equal(wh_memstream_close(m), 0);
    assert_int_equal(len, 10008);
    assert_int_equal(buf[len], 0);
    assert_int_equal(buf[8], 'a');

    // A line far longer than any first guess, then a last line without '\n'.
    FILE *f = tmpfile();
    assert_non_null(f);
    fwrite(buf, 1, len, f);
    fputs("\nend", f);
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    assert_int_equal(wh_getline(&line, &cap, f), 10009);
    assert_int_equal(line[10008], '\n');
    assert_int_equal(wh_getline(&line, &cap, f), 3);
    assert_string_equal(line, "end");
    assert_int_equal(wh_getline(&line, &cap, f), -1);
    fclose(f);
    free(line);
    free(buf);

    char *s = wh_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    assert_true(wh_ncpu() >= 1);
}

/* The CRC by carry-less multiply (where the CPU has it) equals the tables'
 * and a bit-by-bit reference, at every length and alignment. */
static uint32_t crc_bits(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(wh_crc32(0, "123456789", 9), 0xCBF43926u);
    static uint8_t buf[70000];
    srand(11);
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (uint8_t)rand();
    for (int t = 0; t < 3000; t++) {
        size_t off = (size_t)rand() % 64, n = t < 2000 ? (size_t)rand() % 300 : (size_t)rand() % 69000;
        uint32_t seed = (uint32_t)rand();
        uint32_t want = crc_bits(seed, buf + off, n);
        assert_int_equal(wh_crc32(seed, buf + off, n), want);
        assert_int_equal(wh_crc32_tables(seed, buf + off, n), want);
    }
    // A chunk's records CRC is taken in two calls elsewhere: chaining holds.
    assert_int_equal(wh_crc32(wh_crc32(0, buf, 120), buf + 128, 384),
                     crc_bits(crc_bits(0, buf, 120), buf + 128, 384));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_stable),
        cmocka_unit_test(test_dir_listing),
        cmocka_unit_test(test_memstream_getline),
        cmocka_unit_test(test_crc32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
