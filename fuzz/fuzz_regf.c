/* libFuzzer target: one registry hive from the input, read every way the
 * CLI reads it (full walk with values, the CIMOM view, the --all records).
 * An input may carry a hive and two logs: three u32 sizes, then the files
 * (as `wh-regfgen seeds` writes dirty_with_logs.bin). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wmihunt/regf.h"

static int null_rec(void *ud, const wh_record *r)
{
    (void)ud;
    (void)r;
    return 0;
}

static wh_regf *cur;

static int on_value(void *ud, const wh_regf_value *v)
{
    (void)ud;
    const char **list;
    (void)wh_regf_value_str(cur, v, NULL, NULL);
    (void)wh_regf_value_multi(cur, v, &list);
    return 0;
}

static int on_key(void *ud, const char *path, size_t n, const wh_regf_key *k)
{
    (void)path;
    (void)n;
    return wh_regf_values(cur, k, on_value, ud) == WH_DONE;
}

static uint32_t u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wh_regf_log logs[2];
    size_t nlogs = 0;
    // A seed of 12 bytes of sizes then hive, LOG1, LOG2 (wh-regfgen seeds).
    if (size >= 12) {
        uint32_t a = u32(data), b = u32(data + 4), c = u32(data + 8);
        if ((uint64_t)a + b + c == size - 12 && a >= 4 && memcmp(data + 12, "regf", 4) == 0) {
            logs[0] = (wh_regf_log){data + 12 + a, b, "fuzz.LOG1"};
            logs[1] = (wh_regf_log){data + 12 + a + b, c, "fuzz.LOG2"};
            nlogs = 2;
            size = a;
            data += 12;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        wh_diag_sink d = {0};
        wh_regf_opts o = {.size = sizeof(o), .flags = pass ? WH_REGF_OPT_IGNORE_CHECKSUM | WH_REGF_OPT_NO_REPLAY : 0,
                          .max_memory = 256u << 20};
        wh_regf *h = NULL;
        if (wh_regf_open_mem(data, size, "fuzz.hive", logs, nlogs, &o, &d, &h) != WH_OK) continue;
        cur = h;
        (void)wh_regf_walk(h, on_key, NULL);
        bool present;
        (void)wh_regf_cimom_records(h, &present, null_rec, NULL);
        (void)wh_regf_hive_record(h, "x", null_rec, NULL);
        (void)wh_regf_dump_records(h, null_rec, NULL);
        wh_regf_key k;
        if (wh_regf_find(h, "Microsoft\\WBEM\\CIMOM", &k) == WH_OK) (void)wh_regf_values(h, &k, on_value, NULL);
        wh_regf_close(h);
    }
    return 0;
}
