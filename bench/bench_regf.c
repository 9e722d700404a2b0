/* Hive throughput: open (with replay when logs are given), walk every key,
 * read every value (big data joined, strings decoded); best of N runs.
 * Prints one JSON line: bytes, seconds, MB/s, peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "wmihunt/regf.h"

static wh_regf *cur;
static unsigned long nkeys, nvalues;

static int on_value(void *ud, const wh_regf_value *v)
{
    (void)ud;
    nvalues++;
    if (v->type == WH_REG_SZ || v->type == WH_REG_EXPAND_SZ) (void)wh_regf_value_str(cur, v, NULL, NULL);
    return 0;
}

static int on_key(void *ud, const char *path, size_t n, const wh_regf_key *k)
{
    (void)path;
    (void)n;
    nkeys++;
    return wh_regf_values(cur, k, on_value, ud) == WH_DONE;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_regf HIVE [RUNS [LOG1 [LOG2]]]\n");
        return 64;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    double best = 1e9;
    size_t bytes = 0;
    for (int r = 0; r < (runs > 0 ? runs : 1); r++) {
        wh_diag_sink d = {0};
        wh_regf_opts o = {.size = sizeof(o), .logs = {argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL}};
        double t0 = now();
        wh_regf *h = NULL;
        if (wh_regf_open(argv[1], &o, &d, &h) != WH_OK) {
            fprintf(stderr, "bench_regf: %s cannot be read\n", argv[1]);
            return 2;
        }
        cur = h;
        nkeys = nvalues = 0;
        (void)wh_regf_walk(h, on_key, NULL);
        double t = now() - t0;
        (void)wh_regf_data(h, &bytes);
        wh_regf_close(h);
        if (t < best) best = t;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\":\"wmihunt\",\"hive\":\"%s\",\"bytes\":%zu,\"keys\":%lu,\"values\":%lu,\"seconds\":%.4f,"
           "\"mb_per_s\":%.1f,\"peak_rss_mb\":%.1f}\n",
           argv[1], bytes, nkeys, nvalues, best, (double)bytes / 1e6 / (best > 0 ? best : 1e-9),
           (double)ru.ru_maxrss / 1024.0);
    return 0;
}
