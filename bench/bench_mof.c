/* MOF throughput: parse and drain every record of each file N times;
 * prints one JSON line per file with MB/s and peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "wmihunt/mof.h"

static int count(void *ud, const wh_record *r)
{
    (void)r;
    (*(unsigned long *)ud)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_mof FILE.mof [REPEAT]\n");
        return 64;
    }
    int rep = argc > 2 ? atoi(argv[2]) : 3;
    if (rep < 1) rep = 1;
    double best = 1e30;
    unsigned long recs = 0;
    uint64_t size = 0;
    for (int i = 0; i < rep; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        wh_diag_sink diags = {0};
        wh_mof_opts o = {.size = sizeof(o)};
        wh_mof *m = NULL;
        if (wh_mof_open(argv[1], &o, &diags, &m) != WH_OK) {
            fprintf(stderr, "bench_mof: cannot read %s\n", argv[1]);
            return 2;
        }
        recs = 0;
        (void)wh_mof_emit(m, count, &recs);
        size = wh_mof_get_info(m)->size;
        wh_mof_close(m);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (s < best) best = s;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\": \"wmihunt\", \"file\": \"%s\", \"bytes\": %llu, \"records\": %lu, \"seconds\": %.4f, "
           "\"mb_per_s\": %.1f, \"peak_rss_mb\": %.1f}\n",
           argv[1], (unsigned long long)size, recs, best, best > 0 ? (double)size / 1e6 / best : 0.0, ru.ru_maxrss / 1024.0);
    return 0;
}
