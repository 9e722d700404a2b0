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
 *   wh-regfgen com DIR {CLSID=DLL}...
 *                               SOFTWARE as `demo` writes it (the CIMOM key), plus
 *                               Classes\CLSID\{CLSID}\InprocServer32: default = DLL
 *                               (REG_EXPAND_SZ), ThreadingModel = Both
 *   wh-regfgen sysvalues DIR NAME DUMPFILE [VAR=VALUE]...
 *                               DIR/SYSTEM as `system DIR NAME`, plus in ControlSet001
 *                               Control\CrashControl DumpFile = DUMPFILE (what
 *                               Win32_OSRecoveryConfiguration.DebugFilePath writes) and
 *                               MiniDumpDir, and Control\Session Manager\Environment with
 *                               Windows' ComSpec, Path, PSModulePath, windir and each VAR
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

/* A SOFTWARE tree with the default list plus extra (n entries), the CIMOM
 * key and the list's timestamp at written (FILETIME); NULL on failure. */
static rg_hive *cimom_hive(const char *const *extra, size_t n_extra, uint64_t written)
{
    rg_hive *h = rg_new("ROOT", 133400000000000000ull);
    const char **mofs = calloc(NDEFAULT + n_extra + 1, sizeof *mofs); // NULL-terminated (rg_multi_sz)
    if (!h || !mofs) {
        rg_free(h);
        free(mofs);
        return NULL;
    }
    memcpy(mofs, default_mofs, sizeof default_mofs);
    if (n_extra) memcpy(mofs + NDEFAULT, extra, n_extra * sizeof *mofs);
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
    return h;
}

static int save_hive(const char *dir, const char *name, rg_hive *h)
{
    size_t n;
    uint8_t *f = h ? rg_build(h, NULL, &n) : NULL;
    int rc = !f || save(dir, name, f, n);
    free(f);
    rg_free(h);
    return rc;
}

/* DIR/SOFTWARE: cimom_hive() written out. */
static int software_with(const char *dir, const char *const *extra, size_t n_extra, uint64_t written)
{
    return save_hive(dir, "SOFTWARE", cimom_hive(extra, n_extra, written));
}

/* A string value (REG_SZ = 1, REG_EXPAND_SZ = 2); nonzero on failure. */
static int str_value(rg_hive *h, const char *key, const char *name, uint32_t type, const char *s)
{
    size_t n;
    uint8_t *d = rg_utf16z(s, &n);
    int rc = !d || rg_value(h, key, name, type, d, n);
    free(d);
    return rc;
}

/* SOFTWARE with COM classes for WMI providers: each arg CLSID=DLL. */
static int com_software(const char *dir, char **args, int nargs)
{
    rg_hive *h = cimom_hive(NULL, 0, 133499000000000000ull);
    int rc = !h;
    for (int i = 0; h && i < nargs; i++) {
        const char *eq = strchr(args[i], '=');
        char key[512];
        if (!eq || eq == args[i] || (size_t)(eq - args[i]) > 64) {
            fprintf(stderr, "wh-regfgen: %s: expected CLSID=DLL\n", args[i]);
            rg_free(h);
            return 64;
        }
        snprintf(key, sizeof key, "Classes\\CLSID\\%.*s\\InprocServer32", (int)(eq - args[i]), args[i]);
        rc |= rg_key(h, key, 133499000000000000ull + (uint64_t)i * 10000000u);
        rc |= str_value(h, key, "", 2, eq + 1);
        rc |= str_value(h, key, "ThreadingModel", 1, "Both");
    }
    if (rc) {
        rg_free(h);
        return 1;
    }
    return save_hive(dir, "SOFTWARE", h);
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
/* The values Windows keeps in CrashControl and the system Environment (a
 * Windows 10 install's), plus the dump file and VAR=VALUE variables given. */
static int wmi_values(rg_hive *h, const char *dumpfile, char **vars, int nvars)
{
    const char *crash = "ControlSet001\\Control\\CrashControl";
    const char *env = "ControlSet001\\Control\\Session Manager\\Environment";
    const uint8_t seven[4] = {7, 0, 0, 0};
    int rc = rg_key(h, crash, 133450000000000000ull);
    rc |= rg_value(h, crash, "CrashDumpEnabled", 4, seven, 4);
    rc |= str_value(h, crash, "DumpFile", 2, dumpfile);
    rc |= str_value(h, crash, "MiniDumpDir", 2, "%SystemRoot%\\Minidump");
    rc |= rg_key(h, env, 133450000000000000ull);
    rc |= str_value(h, env, "ComSpec", 2, "%SystemRoot%\\system32\\cmd.exe");
    rc |= str_value(h, env, "Path", 2,
                    "%SystemRoot%\\system32;%SystemRoot%;%SystemRoot%\\System32\\Wbem;"
                    "%SYSTEMROOT%\\System32\\WindowsPowerShell\\v1.0\\;%SYSTEMROOT%\\System32\\OpenSSH\\");
    rc |= str_value(h, env, "PATHEXT", 1, ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC");
    rc |= str_value(h, env, "PSModulePath", 2,
                    "%ProgramFiles%\\WindowsPowerShell\\Modules;%SystemRoot%\\system32\\WindowsPowerShell\\v1.0\\Modules");
    rc |= str_value(h, env, "windir", 2, "%SystemRoot%");
    for (int i = 0; i < nvars; i++) {
        char name[256];
        const char *eq = strchr(vars[i], '=');
        if (!eq || eq == vars[i] || (size_t)(eq - vars[i]) >= sizeof name) return 1;
        snprintf(name, sizeof name, "%.*s", (int)(eq - vars[i]), vars[i]);
        rc |= str_value(h, env, name, 1, eq + 1);
    }
    return rc;
}

static int system_hive(const char *dir, const char *name, const char *domain, const char *dumpfile, char **vars,
                       int nvars)
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
    if (dumpfile) rc |= wmi_values(h, dumpfile, vars, nvars);
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
        return system_hive(argv[2], argv[3], argc == 5 ? argv[4] : NULL, NULL, NULL, 0);
    if (argc >= 5 && strcmp(argv[1], "sysvalues") == 0)
        return system_hive(argv[2], argv[3], NULL, argv[4], argv + 5, argc - 5);
    if (argc >= 3 && strcmp(argv[1], "com") == 0) return com_software(argv[2], argv + 3, argc - 3);
    if (argc == 4 && strcmp(argv[1], "big") == 0) return big(argv[2], (unsigned)atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "seeds") == 0) return seeds(argv[2]);
    fprintf(stderr, "usage: wh-regfgen software DIR | demo DIR | autorecover DIR WRITTEN [MOF...] |\n"
                    "                  system DIR NAME [DOMAIN] | com DIR {CLSID=DLL}... |\n"
                    "                  sysvalues DIR NAME DUMPFILE [VAR=VALUE]... | big FILE MB | seeds DIR\n");
    return 64;
}
