/* wh-evtxgen: writes EVTX fixtures with wmihunt's own writer (evtxgen.h)
 * and, for benchmarks, rebuilds the corpus bench file. */
#include "evtxgen.h"
#include "evtxspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    fputs("usage: wh-evtxgen [--expect FILE.jsonl] [--libevtx] COMMAND ARGS\n"
          "  wmi FILE        WMI-relevant events of every kind wmihunt hunts (format 3.2)\n"
          "  types FILE      every substitution value type and binary XML token\n"
          "  damaged DIR     DIR/<kind>.evtx and DIR/<kind>.expect.jsonl per damage kind\n"
          "  hostile FILE    one Sysmon 20 consumer whose strings carry escapes, NUL, a lone\n"
          "                  surrogate and a leading = (safe-output test; no --expect)\n"
          "  big FILE MB     synthetic log of MB MiB for benchmarks\n"
          "  events SCRIPT DIR\n"
          "                  the logs of one host from a script of events (evtxspec.h;\n"
          "                  SCRIPT - reads stdin), each event in its own channel's file\n"
          "  bench-recipe CORPUS_EVTX_DIR OUT\n"
          "                  the 64 MiB bench file of shared/docs/evtx-bench-recipe.md,\n"
          "                  checked against its sha256 (exit 1 when it differs)\n"
          "options:\n"
          "  --expect FILE   also write what a reader must return, one JSON line per record\n"
          "  --libevtx       leave out what libevtx 20181227 cannot read: template-less\n"
          "                  records, NULL in normal substitutions, character references,\n"
          "                  CDATA, a PI prologue, references in attribute values and\n"
          "                  surrogate pairs (tests/README.md, \"EVTX writer\")\n",
          f);
}

static int write_expect(const evtxgen *g, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "wh-evtxgen: %s: %s\n", path, strerror(errno)); return -1; }
    int rc = evtxgen_write_expect(g, f);
    if (fclose(f) || rc) { fprintf(stderr, "wh-evtxgen: %s: write failed\n", path); return -1; }
    return 0;
}

/* Writes g (and its expectations) or reports why not. */
static int emit(evtxgen *g, const char *path, const char *expect)
{
    if (!g) { fputs("wh-evtxgen: out of memory\n", stderr); return 1; }
    int rc = 0;
    if (*evtxgen_error(g)) {
        fprintf(stderr, "wh-evtxgen: %s\n", evtxgen_error(g));
        rc = 1;
    } else if (evtxgen_write(g, path)) {
        fprintf(stderr, "wh-evtxgen: %s: %s\n", path, strerror(errno));
        rc = 1;
    } else if (expect && write_expect(g, expect)) {
        rc = 1;
    } else {
        size_t size;
        evtxgen_image(g, &size);
        printf("%s: %zu bytes, %zu records\n", path, size, evtxgen_expect_count(g));
    }
    evtxgen_free(g);
    return rc;
}

static int cmd_damaged(const char *dir)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "wh-evtxgen: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (int d = 0; d < EVTXGEN_D_COUNT; d++) {
        char path[4096], exp[4200];
        evtxgen *g = evtxgen_scenario("damaged", 0, 0);
        if (g && !*evtxgen_error(g)) evtxgen_apply_damage(g, (evtxgen_damage)d);
        snprintf(path, sizeof path, "%s/%s.evtx", dir, evtxgen_damage_name((evtxgen_damage)d));
        snprintf(exp, sizeof exp, "%s/%s.expect.jsonl", dir, evtxgen_damage_name((evtxgen_damage)d));
        if (emit(g, path, exp)) return 1;
    }
    return 0;
}

static int cmd_bench(const char *dir, const char *out)
{
    uint8_t *img;
    size_t size;
    char err[512], hex[65];
    if (evtxgen_bench_recipe(dir, &img, &size, err, sizeof err)) {
        fprintf(stderr, "wh-evtxgen: %s\n", err);
        return 1;
    }
    evtxgen_sha256_hex(img, size, hex);
    FILE *f = fopen(out, "wb");
    int ok = f && fwrite(img, 1, size, f) == size;
    if (f && fclose(f)) ok = 0;
    free(img);
    if (!ok) { fprintf(stderr, "wh-evtxgen: %s: %s\n", out, strerror(errno)); return 1; }
    printf("%s: %zu bytes, sha256 %s\n", out, size, hex);
    if (strcmp(hex, EVTXGEN_BENCH_SHA256)) {
        fprintf(stderr, "wh-evtxgen: sha256 differs from the recipe's %s\n", EVTXGEN_BENCH_SHA256);
        return 1;
    }
    return 0;
}

static int cmd_events(const char *script, const char *dir)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "wh-evtxgen: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    FILE *in = strcmp(script, "-") ? fopen(script, "r") : stdin;
    if (!in) { fprintf(stderr, "wh-evtxgen: %s: %s\n", script, strerror(errno)); return 1; }
    char err[512] = "";
    int rc = evtxspec_run(in, dir, err, sizeof err);
    if (in != stdin) fclose(in);
    if (rc) fprintf(stderr, "wh-evtxgen: %s: %s\n", script, err);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *expect = NULL;
    unsigned flags = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect = argv[++i];
        else if (!strcmp(argv[i], "--libevtx")) flags |= EVTXGEN_SCN_LIBEVTX;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        else { usage(stderr); return 64; }
    }
    if (i >= argc) { usage(stderr); return 64; }
    const char *cmd = argv[i];
    int nargs = argc - i - 1;
    char **a = argv + i + 1;
    if ((!strcmp(cmd, "wmi") || !strcmp(cmd, "types")) && nargs == 1)
        return emit(evtxgen_scenario(cmd, flags, 0), a[0], expect);
    if (!strcmp(cmd, "hostile") && nargs == 1 && !expect) return emit(evtxgen_scenario(cmd, 0, 0), a[0], NULL);
    if (!strcmp(cmd, "big") && nargs == 2) {
        char *end;
        unsigned long mb = strtoul(a[1], &end, 10);
        if (*end || mb == 0 || mb > 4000) { fputs("wh-evtxgen: MB must be 1..4000\n", stderr); return 64; }
        return emit(evtxgen_scenario("big", flags, (unsigned)mb), a[0], expect);
    }
    if (!strcmp(cmd, "damaged") && nargs == 1) {
        if (expect) fputs("wh-evtxgen: damaged writes DIR/<kind>.expect.jsonl; --expect ignored\n", stderr);
        return cmd_damaged(a[0]);
    }
    if (!strcmp(cmd, "bench-recipe") && nargs == 2) return cmd_bench(a[0], a[1]);
    if (!strcmp(cmd, "events") && nargs == 2 && !expect) return cmd_events(a[0], a[1]);
    usage(stderr);
    return 64;
}
