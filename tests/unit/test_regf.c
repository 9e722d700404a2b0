/* lib/regf: every fact of ../shared/corpus/registry/EXPECTED.md on the real
 * files (read in place), regfexport as an oracle for keys and values of
 * every non-hostile hive, round trips through our writer (tests/gen/regfgen),
 * and hostile hives ending in bounded time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <cmocka.h>

#include "core/hash.h"
#include "core/reader.h"
#include "gen/regfgen.h"
#include "wmihunt/regf.h"

#define REG WH_CORPUS "/registry/"

static bool present(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

#define NEED(p)                                                       \
    do {                                                              \
        if (!present(p)) {                                            \
            print_message("skipped: %s not found\n", (p));            \
            skip();                                                   \
        }                                                             \
    } while (0)

static wh_regf *open_h(const char *path, const char *l1, const char *l2, unsigned flags, wh_diag_sink *d)
{
    wh_regf_opts o = {.size = sizeof(o), .flags = flags, .logs = {l1, l2}};
    wh_regf *h = NULL;
    if (wh_regf_open(path, &o, d, &h) != WH_OK) return NULL;
    return h;
}

typedef struct counts {
    unsigned long keys, values;
} counts;

static int count_v(void *ud, const wh_regf_value *v)
{
    (void)v;
    ((counts *)ud)->values++;
    return 0;
}

static wh_regf *cur;

static int count_k(void *ud, const char *path, size_t n, const wh_regf_key *k)
{
    (void)path;
    (void)n;
    ((counts *)ud)->keys++;
    (void)wh_regf_values(cur, k, count_v, ud);
    return 0;
}

static counts count_all(wh_regf *h)
{
    counts c = {0, 0};
    cur = h;
    assert_int_equal(wh_regf_walk(h, count_k, &c), WH_OK);
    return c;
}

static wh_regf_key key(wh_regf *h, const char *path)
{
    wh_regf_key k;
    assert_int_equal(wh_regf_find(h, path, &k), WH_OK);
    return k;
}

static bool has_key(wh_regf *h, const char *path)
{
    wh_regf_key k;
    return wh_regf_find(h, path, &k) == WH_OK;
}

static wh_regf_value val(wh_regf *h, const wh_regf_key *k, const char *name)
{
    wh_regf_value v;
    assert_int_equal(wh_regf_get_value(h, k, name, &v), WH_OK);
    return v;
}

static void assert_time(uint64_t ft, const char *want_prefix)
{
    char iso[32];
    assert_true(wh_filetime_iso(ft, iso));
    if (strncmp(iso, want_prefix, strlen(want_prefix)) != 0) fail_msg("time %s, want %s", iso, want_prefix);
}

static size_t nsubkeys(wh_regf *h, const wh_regf_key *k)
{
    (void)h;
    return k->nsubkeys;
}

static const char *root_name(wh_regf *h)
{
    wh_regf_key r;
    assert_int_equal(wh_regf_root(h, &r), WH_OK);
    return r.name;
}

static void sha_bins(wh_regf *h, char hex[65])
{
    size_t n;
    const uint8_t *p = wh_regf_data(h, &n);
    wh_sha256 c;
    uint8_t d[32];
    wh_sha256_init(&c);
    wh_sha256_update(&c, p + 4096, n - 4096);
    wh_sha256_final(&c, d);
    wh_hex(d, 32, hex, 0);
}

/* ---- per-file facts ---- */

static void nt4_software(void **state)
{
    (void)state;
    const char *p = REG "aiowinreg/NT4_SOFTWARE.reg";
    NEED(p);
    wh_diag_sink d = {0};
    wh_regf *h = open_h(p, NULL, NULL, 0, &d);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_int_equal(in->seq1, 66);
    assert_int_equal(in->seq2, 66);
    assert_false(in->dirty);
    assert_int_equal(in->major, 1);
    assert_int_equal(in->minor, 3);
    assert_int_equal(in->file_type, 0);
    assert_int_equal(in->root_off, 0x20);
    assert_int_equal(in->bins_size, 573440);
    assert_true(in->checksum_ok);
    assert_time(in->written, "2023-02-07T21:13:26.296875Z");
    assert_string_equal(in->file_name, "temRoot\\System32\\Config\\SOFTWARE");
    wh_regf_key r;
    assert_int_equal(wh_regf_root(h, &r), WH_OK);
    assert_string_equal(r.name, "Software");
    assert_time(r.written, "1996-07-25T17:08:00.558125Z");
    assert_int_equal(r.nsubkeys, 5);
    counts c = count_all(h);
    assert_int_equal(c.keys, 2221);
    assert_int_equal(c.values, 3198);
    wh_regf_key ms = key(h, "Microsoft");
    assert_int_equal(nsubkeys(h, &ms), 27);
    assert_false(has_key(h, "Microsoft\\WBEM"));
    bool pres = true;
    assert_int_equal(wh_regf_cimom_records(h, &pres, NULL, NULL), 0);
    assert_false(pres);
    wh_regf_key cv = key(h, "Microsoft\\Windows NT\\CurrentVersion");
    assert_int_equal(cv.nsubkeys, 32);
    assert_int_equal(cv.nvalues, 13);
    assert_time(cv.written, "2023-02-07T20:58:34.125");
    wh_regf_value v = val(h, &cv, "CurrentVersion");
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "4.0");
    v = val(h, &cv, "CurrentBuildNumber");
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "1381");
    v = val(h, &cv, "RegisteredOwner");
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "Me");
    v = val(h, &cv, "InstallDate");
    assert_int_equal(v.type, WH_REG_DWORD);
    assert_int_equal(wh_get_u32le(v.data), 1675831650u);
    assert_int_equal(d.count[WH_SEV_WARN] + d.count[WH_SEV_ERROR], 0);
    wh_regf_close(h);
}

static void new_dirty(void **state)
{
    (void)state;
    const char *p = REG "yarp/NewDirtyHive1/NewDirtyHive", *l1 = REG "yarp/NewDirtyHive1/NewDirtyHive.LOG1",
               *l2 = REG "yarp/NewDirtyHive1/NewDirtyHive.LOG2";
    NEED(p);
    wh_diag_sink d = {0};
    // The primary as it is.
    wh_regf *h = open_h(p, NULL, NULL, 0, &d);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_int_equal(in->seq1, 3);
    assert_int_equal(in->seq2, 2);
    assert_true(in->dirty);
    assert_false(in->logs_applied);
    assert_int_equal(in->minor, 3);
    assert_int_equal(in->bins_size, 20480);
    assert_time(in->written, "2017-03-04T16:37:31.221622Z");
    assert_string_equal(root_name(h), "{dedef10d-30ff-45b5-9d44-b3fa249ecd49}");
    counts c = count_all(h);
    assert_int_equal(c.keys, 5);
    assert_int_equal(c.values, 2);
    wh_regf_key k1 = key(h, "Key1");
    assert_time(k1.written, "2017-03-04T20:52:03.503027Z");
    wh_regf_value v = val(h, &k1, "");
    assert_int_equal(v.size, 12002);
    size_t n;
    const char *s = wh_regf_value_str(h, &v, &n, NULL);
    assert_int_equal(n, 6000);
    assert_true(s[0] == '1' && s[5999] == '1');
    wh_regf_key k2 = key(h, "Key2");
    v = val(h, &k2, "v");
    assert_int_equal(v.size, 18);
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "testTEST");
    assert_true(has_key(h, "Key2\\Key2_1"));
    assert_int_equal(key(h, "Key2\\Key2_2").access_bits, 2);
    char hex[65];
    sha_bins(h, hex);
    assert_string_equal(hex, "35fc885a869d026a14fbcea2e5db1d2d3208cc8fda6132ca2d6a4409c6b1a7bb");
    wh_regf_close(h);
    // Replayed, the logs given in either order.
    for (int order = 0; order < 2; order++) {
        h = open_h(p, order ? l2 : l1, order ? l1 : l2, 0, &d);
        assert_non_null(h);
        in = wh_regf_get_info(h);
        assert_true(in->logs_applied);
        assert_int_equal(in->log_entries, 4);
        assert_non_null(strstr(in->log_statement, "logs applied"));
        sha_bins(h, hex);
        assert_string_equal(hex, "3940b4f1dacacd2a05204200f7e39967950fad0611bec1abaf2b1f3010e94215");
        c = count_all(h);
        assert_int_equal(c.keys, 5);
        assert_int_equal(c.values, 1);
        assert_false(has_key(h, "Key1"));
        assert_false(has_key(h, "Key2"));
        wh_regf_key k3 = key(h, "Key3");
        assert_int_equal(k3.nsubkeys, 3);
        assert_time(k3.written, "2017-03-04T20:55:33.753067Z");
        v = val(h, &k3, "");
        assert_int_equal(v.size, 2882);
        wh_regf_close(h);
    }
    // Windows' own result says the same.
    const char *rec = REG "yarp/NewDirtyHive1/RecoveredHive_Windows10";
    h = open_h(rec, NULL, NULL, 0, &d);
    assert_non_null(h);
    assert_int_equal(wh_regf_get_info(h)->seq1, 6);
    assert_int_equal(wh_regf_get_info(h)->seq2, 6);
    c = count_all(h);
    assert_int_equal(c.keys, 5);
    assert_int_equal(c.values, 1);
    assert_true(has_key(h, "Key3\\Key3_3"));
    wh_regf_close(h);
}

static void old_dirty(void **state)
{
    (void)state;
    const char *p = REG "yarp/OldDirtyHive/OldDirtyHive", *l1 = REG "yarp/OldDirtyHive/OldDirtyHive.LOG1";
    NEED(p);
    wh_diag_sink d = {0};
    wh_regf *h = open_h(p, NULL, NULL, 0, &d);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_int_equal(in->seq1, 5);
    assert_int_equal(in->seq2, 4);
    assert_int_equal(in->bins_size, 487424);
    assert_time(in->written, "2017-03-06T03:15:45.151600Z");
    assert_string_equal(root_name(h), "{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}");
    counts c = count_all(h);
    assert_int_equal(c.keys, 5003);
    assert_int_equal(c.values, 0);
    assert_int_equal(key(h, "key_with_many_subkeys").nsubkeys, 5000);
    assert_true(has_key(h, "key_with_many_subkeys\\1"));
    assert_false(has_key(h, "key_with_many_subkeys\\5000\\find_me_in_log"));
    assert_int_equal(key(h, "key_with_many_subkeys\\4500").nvalues, 0);
    wh_regf_close(h);

    h = open_h(p, l1, NULL, 0, &d);
    assert_non_null(h);
    in = wh_regf_get_info(h);
    assert_true(in->logs_applied);
    c = count_all(h);
    assert_int_equal(c.keys, 5003);
    assert_int_equal(c.values, 1);
    assert_false(has_key(h, "key_with_many_subkeys\\1"));
    wh_regf_key f = key(h, "key_with_many_subkeys\\5000\\find_me_in_log");
    assert_time(f.written, "2017-03-06T03:14:46.8856");
    wh_regf_key k = key(h, "key_with_many_subkeys\\4500");
    assert_time(k.written, "2017-03-06T03:15:11.8612");
    wh_regf_value v = val(h, &k, "V");
    assert_int_equal(v.type, WH_REG_MULTI_SZ);
    assert_int_equal(v.size, 20);
    const char **list;
    assert_int_equal(wh_regf_value_multi(h, &v, &list), 3);
    assert_string_equal(list[0], "a");
    assert_string_equal(list[1], "bb");
    assert_string_equal(list[2], "ccc");
    wh_regf_close(h);

    h = open_h(REG "yarp/OldDirtyHive/RecoveredHive_Windows7", NULL, NULL, 0, &d);
    assert_non_null(h);
    assert_int_equal(wh_regf_get_info(h)->seq1, 7);
    c = count_all(h);
    assert_int_equal(c.keys, 5003);
    assert_int_equal(c.values, 1);
    assert_true(has_key(h, "key_with_many_subkeys\\5000\\find_me_in_log"));
    wh_regf_close(h);
}

static void bad_base_block(void **state)
{
    (void)state;
    const char *p = REG "yarp/BadBaseBlockHive/BadBaseBlockHive", *l1 = REG "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG1";
    NEED(p);
    wh_diag_sink d = {0};
    assert_null(open_h(p, NULL, NULL, 0, &d));
    assert_true(d.count[WH_SEV_ERROR] >= 1);
    wh_diag_sink d2 = {0};
    wh_regf *h = open_h(p, l1, NULL, 0, &d2);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_false(in->checksum_ok);
    assert_true(in->base_from_log);
    assert_int_equal(in->seq1, 5);
    assert_int_equal(in->seq2, 4);
    assert_int_equal(in->minor, 3);
    assert_true(has_key(h, "key_with_many_subkeys"));
    wh_regf_close(h);
}

static void bad_logs(void **state)
{
    (void)state;
    const char *p = REG "yarp/BadLogHive3/BadLogHive";
    NEED(p);
    wh_diag_sink d = {0};
    wh_regf *h = open_h(p, REG "yarp/BadLogHive3/BadLogHive.LOG1", REG "yarp/BadLogHive3/BadLogHive.LOG2", 0, &d);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_false(in->logs_applied);
    assert_non_null(strstr(in->log_statement, "NOT applied"));
    assert_true(d.count[WH_SEV_ERROR] >= 2);
    counts c = count_all(h);
    assert_int_equal(c.keys, 5);
    assert_int_equal(c.values, 2);
    wh_regf_close(h);
}

static void small_yarp(void **state)
{
    (void)state;
    NEED(REG "yarp/MultiSzHive");
    wh_diag_sink d = {0};
    wh_regf *h = open_h(REG "yarp/MultiSzHive", NULL, NULL, 0, &d);
    assert_non_null(h);
    assert_false(wh_regf_get_info(h)->dirty);
    assert_int_equal(wh_regf_get_info(h)->minor, 3);
    assert_string_equal(root_name(h), "{53a28f14-e85a-41f0-b475-d0ad8005af74}");
    wh_regf_key k = key(h, "key");
    assert_time(k.written, "2017-03-11T21:28:01.734904Z");
    wh_regf_value v;
    assert_int_equal(wh_regf_get_value(h, &k, "", &v), WH_E_NOTFOUND);
    v = val(h, &k, "1");
    assert_int_equal(v.type, WH_REG_MULTI_SZ);
    assert_int_equal(v.size, 2);
    const char **list;
    assert_int_equal(wh_regf_value_multi(h, &v, &list), 0);
    v = val(h, &k, "2");
    assert_int_equal(v.size, 36);
    assert_int_equal(wh_regf_value_multi(h, &v, &list), 2);
    assert_string_equal(list[0], "привет");
    assert_string_equal(list[1], "как дела?");
    wh_regf_close(h);

    h = open_h(REG "yarp/BigDataHive", NULL, NULL, 0, &d);
    assert_non_null(h);
    assert_int_equal(wh_regf_get_info(h)->minor, 5);
    k = key(h, "key_with_bigdata");
    v = val(h, &k, "");
    assert_int_equal(v.type, WH_REG_BINARY);
    assert_int_equal(v.size, 16345);
    assert_true(v.big_data);
    for (size_t i = 0; i < v.size; i++) assert_int_equal(v.data[i], '1');
    v = val(h, &k, "V"); /* the value is named "v" */
    assert_int_equal(v.size, 81725);
    assert_true(v.big_data);
    for (size_t i = 0; i < v.size; i++) assert_int_equal(v.data[i], '2');
    wh_regf_close(h);

    h = open_h(REG "yarp/UnicodeHive", NULL, NULL, 0, &d);
    assert_non_null(h);
    assert_true(has_key(h, "Привет"));
    assert_true(has_key(h, "Привет\\Ключ"));
    assert_true(has_key(h, "ПриВет\\КлюЧ"));
    wh_regf_close(h);

    h = open_h(REG "yarp/StringValuesHive", NULL, NULL, 0, &d);
    assert_non_null(h);
    k = key(h, "key");
    v = val(h, &k, "");
    assert_int_equal(v.type, WH_REG_SZ);
    assert_int_equal(v.size, 20);
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "test тест");
    v = val(h, &k, "1");
    assert_int_equal(v.type, WH_REG_BINARY);
    assert_memory_equal(v.data, "test", 4);
    v = val(h, &k, "2");
    assert_int_equal(v.type, WH_REG_EXPAND_SZ);
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "test тест");
    v = val(h, &k, "3");
    assert_int_equal(v.size, 22);
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "test тест ");
    wh_regf_close(h);

    h = open_h(REG "yarp/EmptyHive", NULL, NULL, 0, &d);
    assert_non_null(h);
    counts c = count_all(h);
    assert_int_equal(c.keys, 1);
    assert_int_equal(c.values, 0);
    assert_time(wh_regf_get_info(h)->written, "2017-03-04T16:37:31.221622Z");
    assert_string_equal(root_name(h), "{dedef10d-30ff-45b5-9d44-b3fa249ecd49}");
    wh_regf_close(h);

    h = open_h(REG "yarp/BogusKeyNamesHive", NULL, NULL, 0, &d);
    assert_non_null(h);
    wh_regf_key k1, k2;
    assert_int_equal(wh_regf_find(h, "testnew\r\nne", &k1), WH_OK);
    assert_int_equal(k1.name_len, 11);
    // The NUL stays in the name: look it up by walking.
    wh_regf_key r;
    assert_int_equal(wh_regf_root(h, &r), WH_OK);
    assert_int_equal(r.nsubkeys, 2);
    assert_int_equal(wh_regf_find(h, "testnu", &k2), WH_E_NOTFOUND);
    assert_int_equal(d.count[WH_SEV_WARN] + d.count[WH_SEV_ERROR], 0);
    wh_regf_close(h);
}

static void artemis_dfwinreg(void **state)
{
    (void)state;
    NEED(REG "artemis/NTUSER.DAT");
    wh_diag_sink d = {0};
    wh_regf *h = open_h(REG "artemis/NTUSER.DAT", NULL, NULL, 0, &d);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_int_equal(in->seq1, 20);
    assert_int_equal(in->seq2, 20);
    assert_int_equal(in->minor, 5);
    assert_int_equal(in->written, 0);
    assert_string_equal(in->file_name, "\\??\\C:\\Users\\Default\\NTUSER.DAT");
    wh_regf_key r;
    assert_int_equal(wh_regf_root(h, &r), WH_OK);
    assert_string_equal(r.name, "ROOT");
    assert_int_equal(r.nsubkeys, 10);
    assert_time(r.written, "2022-10-31T07:23:59.140246Z");
    counts c = count_all(h);
    assert_int_equal(c.keys, 666);
    assert_int_equal(c.values, 1089);
    wh_regf_key k = key(h, "Console");
    assert_int_equal(k.nsubkeys, 2);
    assert_int_equal(k.nvalues, 48);
    k = key(h, "Software\\Microsoft\\Windows\\CurrentVersion\\Run");
    assert_int_equal(k.nvalues, 1);
    assert_time(k.written, "2022-10-31T07:22:14.890410Z");
    wh_regf_close(h);

    NEED(REG "dfwinreg/NTUSER.DAT");
    h = open_h(REG "dfwinreg/NTUSER.DAT", REG "dfwinreg/NTUSER.DAT.LOG", NULL, 0, &d);
    assert_non_null(h);
    in = wh_regf_get_info(h);
    assert_int_equal(in->seq1, 132);
    assert_int_equal(in->seq2, 132);
    assert_int_equal(in->minor, 3);
    assert_false(in->logs_applied);
    assert_non_null(strstr(in->log_statement, "clean"));
    assert_time(in->written, "2013-08-22T13:25:44.067283Z");
    assert_string_equal(in->file_name, "\\??\\c:\\users\\bperry\\ntuser.dat");
    assert_string_equal(root_name(h), "CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}");
    assert_int_equal(key(h, "").nsubkeys, 10);
    c = count_all(h);
    assert_int_equal(c.keys, 1597);
    assert_int_equal(c.values, 2310);
    assert_int_equal(key(h, "Software\\Microsoft\\Windows\\CurrentVersion\\Run").nvalues, 2);
    wh_regf_close(h);
}

static void diff_sets(const char *p, const char *l1, const char *l2, size_t *newk, size_t *gonek, size_t *newv,
                      size_t *gonev);

static void regipy_transactions(void **state)
{
    (void)state;
    const char *p = REG "regipy/transactions_NTUSER.DAT";
    NEED(p);
    wh_diag_sink d = {0};
    wh_regf *h = open_h(p, NULL, NULL, 0, &d);
    assert_non_null(h);
    const wh_regf_info *in = wh_regf_get_info(h);
    assert_int_equal(in->seq1, 567);
    assert_int_equal(in->seq2, 566);
    assert_int_equal(in->minor, 5);
    assert_int_equal(in->written, 0);
    assert_string_equal(in->file_name, "\\??\\C:\\Users\\tony\\ntuser.dat");
    wh_regf_key r;
    assert_int_equal(wh_regf_root(h, &r), WH_OK);
    assert_string_equal(r.name, "ROOT");
    assert_int_equal(r.nsubkeys, 9);
    assert_time(r.written, "2017-07-12T07:21:46.731976Z");
    counts before = count_all(h);
    assert_int_equal(before.keys, 2590);
    assert_int_equal(before.values, 4119);
    assert_int_equal(key(h, "Control Panel\\International").nsubkeys, 4);
    assert_true(has_key(h, "Control Panel\\International\\\xF0\x9F\x8C\x8E\xF0\x9F\x8C\x8F\xF0\x9F\x8C\x8D"));
    assert_true(has_key(h, "Control Panel\\International\\User Profile System Backup"));
    wh_regf_close(h);

    h = open_h(p, REG "regipy/transactions_ntuser.dat.log1", REG "regipy/transactions_ntuser.dat.log2", 0, &d);
    assert_non_null(h);
    in = wh_regf_get_info(h);
    assert_true(in->logs_applied);
    counts after = count_all(h);
    unsigned entries = in->log_entries, pages = in->log_pages;
    wh_regf_close(h);
    size_t newk, gonek, newv, gonev;
    diff_sets(p, REG "regipy/transactions_ntuser.dat.log1", REG "regipy/transactions_ntuser.dat.log2", &newk, &gonek,
              &newv, &gonev);
    print_message("regipy transactions: %u log entries, %u pages; keys %lu -> %lu (%zu new, %zu gone), "
                  "values %lu -> %lu (%zu new in keys that were there, %zu gone)\n",
                  entries, pages, before.keys, after.keys, newk, gonek, before.values, after.values,
                  newv, gonev);
    assert_int_equal(entries, 23); /* sequences 566..588, all in log1; log2 (562) is older */
    assert_int_equal(pages, 132);  /* regipy: 132 dirty pages from log1 */
    // regipy's comparison (a cross-check, not Windows' result) reports 527
    // keys: ours is 521 added plus 6 removed. Its 60 values are not
    // reproduced (we see 66 added in keys that existed, 28 removed):
    // printed, not asserted (tests/README.md).
    assert_int_equal(newk + gonek, 527);
}

/* ---- hostile inputs: a result or an error, in bounded time ---- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void hostile(void **state)
{
    (void)state;
    NEED(REG "artemis/NTUSER_Bad.DAT");
    static const struct {
        const char *path;
        bool opens;
        unsigned flags;
    } t[] = {
        {REG "artemis/NTUSER_Bad.DAT", true, 0},       {REG "yarp/TruncatedHive", true, 0},
        {REG "yarp/TruncatedHiveBin", false, 0},       {REG "yarp/GarbageHive", false, 0},
        {REG "yarp/GarbageHive", true, WH_REGF_OPT_IGNORE_CHECKSUM},
        {REG "yarp/BadListHive", true, 0},             {REG "yarp/BadSubkeyHive", true, 0},
        {REG "yarp/InvalidParentHive", true, 0},       {REG "regipy/corrupted_system_hive", true, 0},
        {REG "dfwinreg/USER.DAT", false, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        double t0 = now();
        wh_diag_sink d = {0};
        wh_regf *h = open_h(t[i].path, NULL, NULL, t[i].flags, &d);
        if (!t[i].opens) {
            assert_null(h);
            assert_true(d.count[WH_SEV_ERROR] >= 1);
            continue;
        }
        assert_non_null(h);
        counts c = count_all(h);
        uint32_t hbins = wh_regf_get_info(h)->hbins;
        wh_regf_close(h);
        print_message("%s: %lu keys, %lu values, %lu warnings, %.3f s\n", t[i].path, c.keys, c.values,
                      d.count[WH_SEV_WARN] + d.count[WH_SEV_ERROR], now() - t0);
        assert_true(now() - t0 < 20.0);
        assert_true(c.keys >= 1);
        if (strstr(t[i].path, "NTUSER_Bad")) {
            assert_true(d.count[WH_SEV_WARN] >= 1); /* the loop is named */
            assert_int_equal(c.keys, 665); /* the powershell.exe key the entry pointed to is cut off */
        }
        if (strstr(t[i].path, "GarbageHive")) assert_int_equal(hbins, 1);
        if (strstr(t[i].path, "InvalidParentHive")) {
            assert_int_equal(c.keys, 5003);
            assert_true(d.count[WH_SEV_WARN] >= 1);
        }
        if (strstr(t[i].path, "TruncatedHive") && !strstr(t[i].path, "Bin")) assert_true(d.count[WH_SEV_WARN] >= 1);
    }
}

/* ---- regfexport as an oracle ---- */

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void push(lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof(char *));
        assert_non_null(l->v);
    }
    l->v[l->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_lines(lines *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

/* "K path" and "V path|name|size" from regfexport's text output. */
static bool oracle(const char *path, lines *out)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "regfexport '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    if (!f) return false;
    char line[70000], kp[8192] = "", vn[8192] = "", tmp[17000];
    bool in_value = false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "Key path: ", 10) == 0) {
            snprintf(kp, sizeof(kp), "%s", line + 10);
            snprintf(tmp, sizeof(tmp), "K %s", kp);
            push(out, tmp);
            in_value = false;
        } else if (strncmp(line, "Value: ", 7) == 0) {
            const char *p = line + 7;
            while (*p >= '0' && *p <= '9') p++;
            if (*p == ' ') p++;
            snprintf(vn, sizeof(vn), "%s", strcmp(p, "(default)") == 0 ? "" : p);
            in_value = true;
        } else if (in_value && strncmp(line, "Data size: ", 11) == 0) {
            snprintf(tmp, sizeof(tmp), "V %s|%s|%s", kp, vn, line + 11);
            push(out, tmp);
            in_value = false;
        }
    }
    return pclose(f) == 0 && out->n > 0;
}

typedef struct ours_ctx {
    wh_regf *h;
    lines *l;
    const char *root;
    const char *kp;
} ours_ctx;

static int ours_v(void *ud, const wh_regf_value *v)
{
    ours_ctx *o = ud;
    char tmp[17000];
    snprintf(tmp, sizeof(tmp), "V %s|%.*s|%u", o->kp, (int)v->name_len, v->name, (unsigned)v->size);
    push(o->l, tmp);
    return 0;
}

static int ours_k(void *ud, const char *path, size_t n, const wh_regf_key *k)
{
    ours_ctx *o = ud;
    char kp[8192];
    snprintf(kp, sizeof(kp), "%s%s%.*s", o->root, n ? "\\" : "", (int)n, path);
    char tmp[8200];
    snprintf(tmp, sizeof(tmp), "K %s", kp);
    push(o->l, tmp);
    o->kp = kp;
    (void)wh_regf_values(o->h, k, ours_v, o);
    return 0;
}

/* Compares our keys and values with regfexport's; returns differences. */
static size_t compare_oracle(const char *path, unsigned flags, size_t *nkeys_values)
{
    lines ref = {0}, ours = {0};
    if (!oracle(path, &ref)) {
        free_lines(&ref);
        return SIZE_MAX;
    }
    wh_diag_sink d = {0};
    wh_regf *h = open_h(path, NULL, NULL, flags, &d);
    assert_non_null(h);
    wh_regf_key r;
    assert_int_equal(wh_regf_root(h, &r), WH_OK);
    char *root = strndup(r.name, r.name_len);
    ours_ctx o = {h, &ours, root, NULL};
    assert_int_equal(wh_regf_walk(h, ours_k, &o), WH_OK);
    wh_regf_close(h);
    free(root);
    qsort(ref.v, ref.n, sizeof(char *), cmp_str);
    qsort(ours.v, ours.n, sizeof(char *), cmp_str);
    size_t i = 0, j = 0, diff = 0;
    while (i < ref.n || j < ours.n) {
        int c = i == ref.n ? 1 : j == ours.n ? -1 : strcmp(ref.v[i], ours.v[j]);
        if (c == 0) {
            i++, j++;
            continue;
        }
        if (diff++ < 5) print_message("  %s: %s %.200s\n", path, c < 0 ? "only regfexport:" : "only wmihunt:", c < 0 ? ref.v[i] : ours.v[j]);
        if (c < 0) i++;
        else j++;
    }
    *nkeys_values = ref.n;
    free_lines(&ref);
    free_lines(&ours);
    return diff;
}

static void regfexport_oracle(void **state)
{
    (void)state;
    if (system("command -v regfexport >/dev/null 2>&1") != 0) {
        print_message("skipped: regfexport not installed (apt-get install libregf-utils)\n");
        skip();
    }
    // Dirty primaries are compared as they are (regfexport does not replay);
    // their replayed state is checked against Windows' own result above.
    static const struct {
        const char *p;
        unsigned flags;
    } t[] = {
        {REG "aiowinreg/NT4_SOFTWARE.reg", 0},
        {REG "artemis/NTUSER.DAT", 0},
        {REG "dfwinreg/NTUSER.DAT", 0},
        {REG "regipy/transactions_NTUSER.DAT", WH_REGF_OPT_NO_REPLAY},
        {REG "yarp/NewDirtyHive1/NewDirtyHive", WH_REGF_OPT_NO_REPLAY},
        {REG "yarp/NewDirtyHive1/RecoveredHive_Windows10", 0},
        {REG "yarp/OldDirtyHive/OldDirtyHive", WH_REGF_OPT_NO_REPLAY},
        {REG "yarp/OldDirtyHive/RecoveredHive_Windows7", 0},
        {REG "yarp/BadLogHive3/BadLogHive", 0},
        {REG "yarp/BigDataHive", 0},
        {REG "yarp/EmptyHive", 0},
        {REG "yarp/MultiSzHive", 0},
        {REG "yarp/StringValuesHive", 0},
        {REG "yarp/UnicodeHive", 0},
        {WH_TEST_TMP "/regf/SOFTWARE", 0},
        {WH_TEST_TMP "/regf/SOFTWARE_after", 0},
    };
    size_t files = 0, items = 0;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (!present(t[i].p)) continue;
        size_t n = 0, diff = compare_oracle(t[i].p, t[i].flags, &n);
        assert_true(diff != SIZE_MAX);
        print_message("regfexport vs wmihunt: %s: %zu keys+values, %zu differences\n", t[i].p, n, diff);
        assert_int_equal(diff, 0);
        files++;
        items += n;
    }
    print_message("regfexport oracle: %zu hives, %zu keys+values, all equal\n", files, items);
    if (!files) skip();
}

/* Keys and values new or gone after replay; new values are counted only in
 * keys that were there before (as regipy compares). */
static void collect(const char *p, const char *l1, const char *l2, unsigned flags, lines *l)
{
    wh_diag_sink d = {0};
    wh_regf *h = open_h(p, l1, l2, flags, &d);
    assert_non_null(h);
    ours_ctx o = {h, l, "", NULL};
    assert_int_equal(wh_regf_walk(h, ours_k, &o), WH_OK);
    wh_regf_close(h);
    qsort(l->v, l->n, sizeof(char *), cmp_str);
}

static bool in_lines(const lines *l, const char *s)
{
    return bsearch(&s, l->v, l->n, sizeof(char *), cmp_str) != NULL;
}

static void diff_sets(const char *p, const char *l1, const char *l2, size_t *newk, size_t *gonek, size_t *newv,
                      size_t *gonev)
{
    lines a = {0}, b = {0};
    collect(p, NULL, NULL, WH_REGF_OPT_NO_REPLAY, &a);
    collect(p, l1, l2, 0, &b);
    *newk = *gonek = *newv = *gonev = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (in_lines(&a, b.v[i])) continue;
        if (b.v[i][0] == 'K') {
            (*newk)++;
            continue;
        }
        char k[8200];
        snprintf(k, sizeof(k), "K %s", b.v[i] + 2);
        char *bar = strrchr(k, '|');
        if (bar) *bar = 0;
        bar = strrchr(k, '|');
        if (bar) *bar = 0;
        if (in_lines(&a, k)) (*newv)++;
    }
    for (size_t i = 0; i < a.n; i++)
        if (!in_lines(&b, a.v[i])) (*(a.v[i][0] == 'K' ? gonek : gonev))++;
    free_lines(&a);
    free_lines(&b);
}

/* ---- our writer's hives ---- */

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

typedef struct rec_ctx {
    unsigned mofs, values, ts, key;
    bool applied_all;
    bool extra_seen;
    uint64_t ts_ft;
} rec_ctx;

static int on_rec(void *ud, const wh_record *r)
{
    rec_ctx *c = ud;
    const wh_field *la = wh_record_field(r, "logs_applied");
    if (la && !la->v.as.b) c->applied_all = false;
    if (strcmp(r->artifact, "reg.autorecover_mof") == 0) {
        const wh_field *idx = wh_record_field(r, "index"), *p = wh_record_field(r, "path");
        assert_non_null(idx);
        assert_non_null(p);
        if (idx->v.as.u < RG_MOF_COUNT) assert_string_equal(p->v.as.str.s, rg_mof_entry((unsigned)idx->v.as.u));
        else if (strcmp(p->v.as.str.s, RG_DIRTY_EXTRA) == 0) c->extra_seen = true;
        c->mofs++;
    } else if (strcmp(r->artifact, "reg.autorecover_timestamp") == 0) {
        c->ts++;
        c->ts_ft = wh_record_field(r, "timestamp")->v.as.ft;
    } else if (strcmp(r->artifact, "reg.value") == 0) {
        c->values++;
    } else if (strcmp(r->artifact, "reg.cimom_key") == 0) {
        c->key++;
    }
    return 0;
}

static void writer_roundtrip(void **state)
{
    (void)state;
    mkdir(WH_TEST_TMP, 0755);
    mkdir(WH_TEST_TMP "/regf", 0755);
    // Clean hive: every value and MOF entry back.
    rg_hive *g = rg_software(0);
    size_t n;
    uint8_t *f = rg_build(g, NULL, &n);
    rg_free(g);
    assert_non_null(f);
    write_file(WH_TEST_TMP "/regf/SOFTWARE", f, n);
    wh_diag_sink d = {0};
    wh_regf *h = NULL;
    assert_int_equal(wh_regf_open_mem(f, n, "SOFTWARE", NULL, 0, NULL, &d, &h), WH_OK);
    wh_regf_key k = key(h, RG_CIMOM);
    assert_int_equal(k.written, RG_CIMOM_WRITTEN);
    wh_regf_value v = val(h, &k, "autorecover mofs");
    assert_true(v.big_data);
    rec_ctx c = {0};
    c.applied_all = true;
    bool pres;
    long nr = wh_regf_cimom_records(h, &pres, on_rec, &c);
    assert_true(pres);
    assert_int_equal(c.mofs, RG_MOF_COUNT);
    assert_int_equal(c.ts, 1);
    assert_int_equal(c.ts_ft, RG_AUTOREC_TS);
    assert_int_equal(c.key, 1);
    assert_int_equal(c.values, 8);
    assert_false(c.applied_all);
    assert_int_equal(nr, 1 + 8 + RG_MOF_COUNT + 1);
    k = key(h, "Fixture\\Types");
    v = val(h, &k, "unicode");
    assert_string_equal(wh_regf_value_str(h, &v, NULL, NULL), "тест ✓");
    v = val(h, &k, "");
    assert_int_equal(wh_get_u32le(v.data), 1);
    assert_true(v.inline_data);
    assert_int_equal(d.count[WH_SEV_WARN] + d.count[WH_SEV_ERROR], 0);
    wh_regf_close(h);
    free(f);

    // Dirty hive: replay must give exactly the bins of the "after" hive.
    rg_dirty dd;
    assert_int_equal(rg_software_dirty(40, &dd), 0);
    write_file(WH_TEST_TMP "/regf/SOFTWARE_after", dd.after, dd.nafter);
    for (int order = 0; order < 2; order++) {
        wh_regf_log logs[2] = {{dd.log1, dd.nlog1, "LOG1"}, {dd.log2, dd.nlog2, "LOG2"}};
        if (order) {
            wh_regf_log t = logs[0];
            logs[0] = logs[1];
            logs[1] = t;
        }
        assert_int_equal(wh_regf_open_mem(dd.primary, dd.nprimary, "SOFTWARE_dirty", logs, 2, NULL, &d, &h), WH_OK);
        const wh_regf_info *in = wh_regf_get_info(h);
        assert_true(in->dirty);
        assert_true(in->logs_applied);
        assert_int_equal(in->log_entries, 2);
        size_t sz;
        const uint8_t *p = wh_regf_data(h, &sz);
        assert_int_equal(sz, dd.nafter);
        assert_memory_equal(p + 4096, dd.after + 4096, dd.nafter - 4096);
        rec_ctx c2 = {0};
        c2.applied_all = true;
        (void)wh_regf_cimom_records(h, &pres, on_rec, &c2);
        assert_int_equal(c2.mofs, RG_MOF_COUNT + 1);
        assert_true(c2.extra_seen);
        assert_int_equal(c2.ts_ft, RG_DIRTY_TS);
        assert_true(c2.applied_all);
        wh_regf_close(h);
    }
    // Without logs: the stale list, and a warning that says so.
    wh_diag_sink d2 = {0};
    assert_int_equal(wh_regf_open_mem(dd.primary, dd.nprimary, "SOFTWARE_dirty", NULL, 0, NULL, &d2, &h), WH_OK);
    assert_false(wh_regf_get_info(h)->logs_applied);
    assert_true(d2.count[WH_SEV_WARN] >= 1);
    rec_ctx c3 = {0};
    (void)wh_regf_cimom_records(h, &pres, on_rec, &c3);
    assert_int_equal(c3.mofs, RG_MOF_COUNT);
    assert_int_equal(c3.ts_ft, RG_AUTOREC_TS);
    wh_regf_close(h);
    // A log whose entry hash is broken is not applied.
    dd.log2[512 + 40 + 8 + 100] ^= 0xFF;
    wh_regf_log bad[2] = {{dd.log1, dd.nlog1, "LOG1"}, {dd.log2, dd.nlog2, "LOG2"}};
    assert_int_equal(wh_regf_open_mem(dd.primary, dd.nprimary, "SOFTWARE_dirty", bad, 2, NULL, &d2, &h), WH_OK);
    assert_int_equal(wh_regf_get_info(h)->log_entries, 1);
    wh_regf_close(h);
    rg_dirty_free(&dd);

    // ri of li lists, and a list that lists itself.
    g = rg_new("R", 1);
    char path[32];
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof(path), "many\\k%03d", i);
        rg_key(g, path, 2);
    }
    rg_build_opts o = {1, 1, 3, 0, 100, 1};
    f = rg_build(g, &o, &n);
    rg_free(g);
    assert_int_equal(wh_regf_open_mem(f, n, "ri", NULL, 0, NULL, &d, &h), WH_OK);
    counts cc = count_all(h);
    assert_int_equal(cc.keys, 302);
    assert_true(has_key(h, "MANY\\K299"));
    wh_regf_key many = key(h, "many");
    // Point the first ri entry at the ri itself: a loop, ended with a warning.
    uint8_t *ri = f + 4096 + many.subkeys_off + 4;
    memcpy(ri + 4, &many.subkeys_off, 4);
    wh_regf_close(h);
    wh_diag_sink d3 = {0};
    assert_int_equal(wh_regf_open_mem(f, n, "ri-loop", NULL, 0, NULL, &d3, &h), WH_OK);
    cc = count_all(h);
    assert_true(cc.keys < 302);
    assert_true(d3.count[WH_SEV_WARN] >= 1);
    wh_regf_close(h);
    free(f);
}

static int null_rec(void *ud, const wh_record *r)
{
    (void)ud;
    (void)r;
    return 0;
}

/* Every prefix of a hive and random byte flips: no crash, bounded time. */
static void mutations(void **state)
{
    (void)state;
    rg_hive *g = rg_software(0);
    size_t n;
    uint8_t *f = rg_build(g, NULL, &n);
    rg_free(g);
    uint8_t *m = malloc(n);
    assert_non_null(m);
    srand(4);
    double t0 = now();
    for (int it = 0; it < 300; it++) {
        memcpy(m, f, n);
        size_t len = it < 100 ? (size_t)rand() % n : n;
        for (int k = 0; it >= 100 && k < 8; k++) m[4096 + (size_t)rand() % (n - 4096)] ^= (uint8_t)(1 + rand() % 255);
        wh_diag_sink d = {0};
        wh_regf_opts o = {.size = sizeof(o), .flags = WH_REGF_OPT_IGNORE_CHECKSUM};
        wh_regf *h = NULL;
        if (wh_regf_open_mem(m, len, "mut", NULL, 0, &o, &d, &h) != WH_OK) continue;
        (void)count_all(h);
        bool pres;
        (void)wh_regf_cimom_records(h, &pres, null_rec, NULL);
        wh_regf_close(h);
    }
    assert_true(now() - t0 < 60);
    free(m);
    free(f);
}

/* A string value's bytes past its first NUL are shown (data_after_nul),
 * NUL padding alone is not. */
typedef struct sz_seen { int hidden, plain; } sz_seen;

static int on_sz(void *ud, const wh_record *r)
{
    sz_seen *c = ud;
    if (strcmp(r->artifact, "reg.value") != 0) return 0;
    const wh_field *nm = wh_record_field(r, "name"), *d = wh_record_field(r, "data");
    const wh_field *after = wh_record_field(r, "data_after_nul");
    if (!strcmp(nm->v.as.str.s, "Hidden")) {
        assert_string_equal(d->v.as.str.s, "visible");
        assert_non_null(after);
        assert_string_equal(after->v.as.str.s, "hidden\xef\xbf\xbdpayload");
        c->hidden++;
    } else if (!strcmp(nm->v.as.str.s, "Plain")) {
        assert_string_equal(d->v.as.str.s, "plain");
        assert_null(after);
        c->plain++;
    }
    return 0;
}

static void sz_after_nul(void **state)
{
    (void)state;
    static const char hidden[] = "visible\0hidden\0payload\0\0\0", plain[] = "plain\0\0\0\0";
    uint8_t u[64], q[64];
    for (size_t i = 0; i < sizeof(hidden) - 1; i++) u[2 * i] = (uint8_t)hidden[i], u[2 * i + 1] = 0;
    for (size_t i = 0; i < sizeof(plain) - 1; i++) q[2 * i] = (uint8_t)plain[i], q[2 * i + 1] = 0;
    rg_hive *g = rg_new("ROOT", 1);
    assert_int_equal(rg_value(g, "K", "Hidden", WH_REG_SZ, u, 2 * (sizeof(hidden) - 1)), 0);
    assert_int_equal(rg_value(g, "K", "Plain", WH_REG_SZ, q, 2 * (sizeof(plain) - 1)), 0);
    size_t n;
    uint8_t *f = rg_build(g, NULL, &n);
    rg_free(g);
    wh_diag_sink d = {0};
    wh_regf *h = NULL;
    assert_int_equal(wh_regf_open_mem(f, n, "sz", NULL, 0, NULL, &d, &h), WH_OK);
    sz_seen c = {0};
    (void)wh_regf_dump_records(h, on_sz, &c);
    assert_int_equal(c.hidden, 1);
    assert_int_equal(c.plain, 1);
    wh_regf_close(h);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_roundtrip),  cmocka_unit_test(nt4_software),  cmocka_unit_test(new_dirty),
        cmocka_unit_test(old_dirty),         cmocka_unit_test(bad_base_block), cmocka_unit_test(bad_logs),
        cmocka_unit_test(small_yarp),        cmocka_unit_test(artemis_dfwinreg), cmocka_unit_test(regipy_transactions),
        cmocka_unit_test(hostile),           cmocka_unit_test(regfexport_oracle), cmocka_unit_test(mutations),
        cmocka_unit_test(sz_after_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
