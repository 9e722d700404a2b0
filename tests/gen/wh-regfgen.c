/* wh-regfgen: writes registry fixtures.
 *   wh-regfgen software DIR     SOFTWARE (clean), SOFTWARE_dirty + .LOG1/.LOG2,
 *                               SOFTWARE_after (what replay must give)
 *   wh-regfgen demo DIR         SOFTWARE with the default Autorecover MOFs + evil.mof
 *   wh-regfgen autorecover DIR WRITTEN [MOF...]
 *                               SOFTWARE with the default Autorecover MOFs + the MOF
 *                               paths given, the CIMOM key and list time at WRITTEN
 *                               (YYYY-MM-DDTHH:MM:SSZ)
 *   wh-regfgen system DIR NAME [DOMAIN]
 *                               DIR/SYSTEM: Select\Current = 1, and in ControlSet001
 *                               Control\ComputerName\ComputerName ComputerName = NAME;
 *                               with DOMAIN also, in ControlSet001,
 *                               Services\Tcpip\Parameters Hostname = NAME, Domain = DOMAIN
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

/* The Autorecover MOFs a Windows install lists itself. */
static const char *const default_mofs[] = {"%windir%\\system32\\wbem\\cimwin32.mof",
                                           "%windir%\\system32\\wbem\\cimwin32.mfl",
                                           "%windir%\\system32\\wbem\\ntevt.mof",
                                           "%windir%\\system32\\wbem\\wmipcima.mof"};
#define NDEFAULT (sizeof(default_mofs) / sizeof(default_mofs[0]))

/* DIR/SOFTWARE with the default list plus extra (n entries), the CIMOM key
 * and the list's timestamp at written (FILETIME). */
static int software_with(const char *dir, const char *const *extra, size_t n_extra, uint64_t written)
{
    rg_hive *h = rg_new("ROOT", 133400000000000000ull);
    const char **mofs = calloc(NDEFAULT + n_extra + 1, sizeof *mofs); // NULL-terminated (rg_multi_sz)
    if (!h || !mofs) return 1;
    memcpy(mofs, default_mofs, sizeof default_mofs);
    memcpy(mofs + NDEFAULT, extra, n_extra * sizeof *mofs);
    const char *cimom = "Microsoft\\WBEM\\CIMOM";
    size_t n;
    char ts[32];
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)written);
    rg_key(h, cimom, written);
    uint8_t *d = rg_multi_sz(mofs, &n);
    if (d) rg_value(h, cimom, "Autorecover MOFs", 7, d, n);
    free(d);
    free(mofs);
    d = rg_utf16z(ts, &n);
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

/* A SOFTWARE hive as a real host has it: the Autorecover MOFs Windows
 * lists, plus one an intruder's `mofcomp` added from a user folder. */
static int demo(const char *dir)
{
    const char *evil = "C:\\Users\\Public\\Downloads\\evil.mof";
    return software_with(dir, &evil, 1, 133499000000000000ull);
}

/* "YYYY-MM-DDTHH:MM:SS[.f]Z" as FILETIME (0 when malformed). */
static uint64_t filetime_of(const char *t)
{
    int y, mo, d, h, mi, s;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6 || mo < 1 || mo > 12) return 0;
    // Days from the civil date (Howard Hinnant's algorithm).
    int64_t yy = y - (mo <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    int64_t unix_s = days * 86400 + h * 3600 + mi * 60 + s;
    return (uint64_t)(unix_s + 11644473600ll) * 10000000u;
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

/* A SYSTEM hive that names its computer (and its DNS domain when given). */
static int system_hive(const char *dir, const char *name, const char *domain)
{
    rg_hive *h = rg_new("ROOT", 133400000000000000ull);
    if (!h) return 1;
    const uint8_t one[4] = {1, 0, 0, 0};
    int rc = rg_value(h, "Select", "Current", 4, one, 4);
    rc |= rg_value(h, "Select", "Default", 4, one, 4);
    size_t n;
    uint8_t *d = rg_utf16z(name, &n);
    rc |= !d || rg_value(h, "ControlSet001\\Control\\ComputerName\\ComputerName", "ComputerName", 1, d, n);
    if (domain) {
        const char *tcpip = "ControlSet001\\Services\\Tcpip\\Parameters";
        rc |= !d || rg_value(h, tcpip, "Hostname", 1, d, n);
        free(d);
        d = rg_utf16z(domain, &n);
        rc |= !d || rg_value(h, tcpip, "Domain", 1, d, n);
    }
    free(d);
    uint8_t *f = rc ? NULL : rg_build(h, NULL, &n);
    rc = !f || save(dir, "SYSTEM", f, n);
    free(f);
    rg_free(h);
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
    if (argc >= 4 && strcmp(argv[1], "autorecover") == 0) {
        uint64_t t = filetime_of(argv[3]);
        if (t) return software_with(argv[2], (const char *const *)argv + 4, (size_t)argc - 4, t);
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "system") == 0)
        return system_hive(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (argc == 4 && strcmp(argv[1], "big") == 0) return big(argv[2], (unsigned)atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "seeds") == 0) return seeds(argv[2]);
    fprintf(stderr, "usage: wh-regfgen software DIR | demo DIR | autorecover DIR WRITTEN [MOF...] |\n"
                    "                  system DIR NAME [DOMAIN] | big FILE MB | seeds DIR\n");
    return 64;
}
