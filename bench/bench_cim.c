/* Full walk of one CIM repository: open (every class and instance
 * decoded), persistence, timeline, recovery; best of N runs. Prints one
 * JSON line: bytes read, seconds, MB/s, peak RSS and the anonymous
 * (non-file) memory at the high point, i.e. what we use beyond the
 * mapped evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "wmihunt/cim.h"

static int count(void *ud, const wh_record *r)
{
    (void)r;
    (*(size_t *)ud)++;
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0) v = strtol(line + kl, NULL, 10);
    if (f) fclose(f);
    return v;
}

static long long repo_bytes(const char *dir)
{
    static const char *const n[] = {"OBJECTS.DATA", "INDEX.BTR", "MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP"};
    long long t = 0;
    for (size_t i = 0; i < 5; i++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, n[i]);
        if (stat(p, &st) == 0) t += st.st_size;
    }
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_cim REPO_DIR [runs]\n");
        return 64;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    double best = 1e9;
    size_t recs = 0, classes = 0, insts = 0;
    long anon_kb = 0;
    for (int r = 0; r < runs; r++) {
        wh_diag_sink d = {0};
        wh_cim *cim;
        double t0 = now();
        if (wh_cim_open(argv[1], NULL, &d, &cim) != WH_OK) {
            fprintf(stderr, "bench_cim: cannot open %s\n", argv[1]);
            return 2;
        }
        recs = 0;
        (void)wh_cim_emit(cim, WH_CIM_VIEW_PERSISTENCE, NULL, count, &recs);
        (void)wh_cim_emit(cim, WH_CIM_VIEW_TIMELINE, NULL, count, &recs);
        (void)wh_cim_emit(cim, WH_CIM_VIEW_RECOVERED, NULL, count, &recs);
        double t = now() - t0;
        if (t < best) best = t;
        classes = wh_cim_get_info(cim)->classes;
        insts = wh_cim_get_info(cim)->instances;
        long a = status_kb("RssAnon:");
        if (a > anon_kb) anon_kb = a;
        wh_cim_close(cim);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long long bytes = repo_bytes(argv[1]);
    printf("{\"tool\":\"wmihunt\",\"repo\":\"%s\",\"bytes\":%lld,\"seconds\":%.4f,\"mb_per_s\":%.1f,"
           "\"peak_rss_mb\":%.1f,\"anon_mb_at_peak\":%.1f,\"classes\":%zu,\"instances\":%zu,\"records\":%zu}\n",
           argv[1], bytes, best, (double)bytes / 1e6 / best, ru.ru_maxrss / 1024.0, anon_kb / 1024.0, classes, insts,
           recs);
    return 0;
}
