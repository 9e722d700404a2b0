/* wh-regfgen: writes registry fixtures.
 *   wh-regfgen software DIR     SOFTWARE (clean), SOFTWARE_dirty + .LOG1/.LOG2,
 *                               SOFTWARE_after (what replay must give)
 *   wh-regfgen big FILE MB      a hive of about MB megabytes (benchmarks)
 *   wh-regfgen seeds DIR        small hives and logs for the fuzzer */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/regfgen.h"

static int save(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "wh-regfgen: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* A SOFTWARE hive as a real host has it: the Autorecover MOFs Windows
 * lists, plus one an intruder's `mofcomp` added from a user folder. */
static int demo(const char *dir)
{
    rg_hive *h = rg_new("ROOT", 133400000000000000ull);
    const char *const mofs[] = {"%windir%\\system32\\wbem\\cimwin32.mof", "%windir%\\system32\\wbem\\cimwin32.mfl",
                                "%windir%\\system32\\wbem\\ntevt.mof", "%windir%\\system32\\wbem\\wmipcima.mof",
                                "C:\\Users\\Public\\Downloads\\evil.mof", NULL}; // NULL-terminated (rg_multi_sz)
    const char *cimom = "Microsoft\\WBEM\\CIMOM";
    size_t n;
    rg_key(h, cimom, 133499000000000000ull);
    uint8_t *d = rg_multi_sz(mofs, &n);
    if (d) rg_value(h, cimom, "Autorecover MOFs", 7, d, n);
    free(d);
    d = rg_utf16z("133499000000000000", &n);
    if (d) rg_value(h, cimom, "Autorecover MOFs timestamp", 1, d, n);
    free(d);
    d = rg_utf16z("%SystemRoot%\\system32\\wbem\\Repository", &n);
    if (d) rg_value(h, cimom, "RepositoryDirectory", 2, d, n);
    free(d);
    uint8_t *f = rg_build(h, NULL, &n);
    int rc = !f || save(dir, "SOFTWARE", f, n);
    free(f);
    rg_free(h);
    return rc;
}

static int software(const char *dir)
{
    rg_hive *h = rg_software(0);
    size_t n;
    uint8_t *f = rg_build(h, NULL, &n);
    int rc = !f || save(dir, "SOFTWARE", f, n);
    free(f);
    rg_free(h);
    rg_dirty d;
    if (rg_software_dirty(40, &d)) return 1;
    rc |= save(dir, "SOFTWARE_dirty", d.primary, d.nprimary);
    rc |= save(dir, "SOFTWARE_dirty.LOG1", d.log1, d.nlog1);
    rc |= save(dir, "SOFTWARE_dirty.LOG2", d.log2, d.nlog2);
    rc |= save(dir, "SOFTWARE_after", d.after, d.nafter);
    rg_dirty_free(&d);
    return rc;
}

static int big(const char *file, unsigned mb)
{
    rg_hive *h = rg_new("ROOT", 133400000000000000ull);
    char path[128], name[32];
    uint8_t data[600];
    for (size_t i = 0; i < sizeof(data); i++) data[i] = (uint8_t)i;
    // About 1 KiB of cells per value; 8 values per key.
    unsigned keys = mb * 1024 / 8;
    for (unsigned k = 0; k < keys; k++) {
        snprintf(path, sizeof(path), "Big\\Group%03u\\Key%06u", k % 500, k);
        for (unsigned v = 0; v < 8; v++) {
            snprintf(name, sizeof(name), "Value%u", v);
            rg_value(h, path, name, v % 2 ? 3 : 1, data, 200 + v * 40);
        }
    }
    size_t n;
    uint8_t *f = rg_build(h, NULL, &n);
    rg_free(h);
    FILE *o = fopen(file, "wb");
    int rc = !f || !o || fwrite(f, 1, n, o) != n;
    if (o) rc |= fclose(o) != 0;
    free(f);
    return rc;
}

static int seeds(const char *dir)
{
    rg_hive *h = rg_new("{seed}", 133400000000000000ull);
    uint8_t dw[4] = {7, 0, 0, 0};
    rg_value(h, "a\\b", "d", 4, dw, 4);
    size_t len;
    uint8_t *s = rg_utf16z("x", &len);
    rg_value(h, "a", "s", 1, s, len);
    free(s);
    rg_build_opts li = {1, 1, 5, 0, 2, 1};
    size_t n;
    uint8_t *f = rg_build(h, NULL, &n);
    int rc = !f || save(dir, "small.hive", f, n);
    free(f);
    for (int i = 0; i < 5; i++) rg_key(h, i % 2 ? "r\\x1" : "r\\x2", 1), rg_key(h, "r\\y", 1), rg_key(h, "r\\z", 1);
    f = rg_build(h, &li, &n);
    rc |= !f || save(dir, "ri_li.hive", f, n);
    free(f);
    rg_free(h);
    rg_dirty d;
    if (rg_software_dirty(7, &d)) return 1;
    // One file carries the hive and both logs: the harness splits it.
    size_t total = 12 + d.nprimary + d.nlog1 + d.nlog2;
    uint8_t *all = malloc(total);
    if (!all) return 1;
    uint32_t sz[3] = {(uint32_t)d.nprimary, (uint32_t)d.nlog1, (uint32_t)d.nlog2};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++) all[i * 4 + b] = (uint8_t)(sz[i] >> (8 * b));
    memcpy(all + 12, d.primary, d.nprimary);
    memcpy(all + 12 + d.nprimary, d.log1, d.nlog1);
    memcpy(all + 12 + d.nprimary + d.nlog1, d.log2, d.nlog2);
    rc |= save(dir, "dirty_with_logs.bin", all, total);
    free(all);
    rg_dirty_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "software") == 0) return software(argv[2]);
    if (argc == 3 && strcmp(argv[1], "demo") == 0) return demo(argv[2]);
    if (argc == 4 && strcmp(argv[1], "big") == 0) return big(argv[2], (unsigned)atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "seeds") == 0) return seeds(argv[2]);
    fprintf(stderr, "usage: wh-regfgen software DIR | demo DIR | big FILE MB | seeds DIR\n");
    return 64;
}
