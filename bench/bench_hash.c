/* SHA-256 throughput of the hunt's evidence-file hashing: our portable
 * lib/core/hash.c against libcrypto (hunt_hash.c), on one mapped file,
 * best of RUNS each, interleaved. Creates FILE (64 MiB of pseudo-random
 * bytes) when it does not exist. One JSON line on stdout.
 * usage: bench_hash FILE [RUNS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "hunt/hunt_hash.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint32_t x = 2463534242u;
    static uint8_t chunk[1 << 16];
    for (size_t done = 0; done < n; done += sizeof(chunk)) {
        for (size_t i = 0; i < sizeof(chunk); i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            chunk[i] = (uint8_t)x;
        }
        size_t k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
        if (fwrite(chunk, 1, k, f) != k) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_hash FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1) runs = 1;
    if (access(argv[1], R_OK) != 0 && make_file(argv[1], 64u << 20) != 0) {
        perror(argv[1]);
        return 1;
    }
    wh_mapped m;
    if (wh_map_file(argv[1], &m) != WH_OK) {
        fprintf(stderr, "bench_hash: cannot map %s\n", argv[1]);
        return 1;
    }
    char a[65], b[65];
    hh_sha256_hex_portable(m.data, m.size, a); // warm: pages in the cache and mapped
    hh_sha256_hex(m.data, m.size, b);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "bench_hash: the two disagree: %s %s\n", a, b);
        return 1;
    }
    double best_ours = 1e9, best_lib = 1e9;
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        hh_sha256_hex_portable(m.data, m.size, a);
        double t1 = now();
        hh_sha256_hex(m.data, m.size, b);
        double t2 = now();
        if (t1 - t0 < best_ours) best_ours = t1 - t0;
        if (t2 - t1 < best_lib) best_lib = t2 - t1;
    }
    double mb = (double)m.size / 1e6;
    printf("{\"bench\":\"hash\",\"file\":\"%s\",\"bytes\":%zu,\"runs\":%d,\"backend\":\"%s\","
           "\"ours_mb_per_s\":%.1f,\"backend_mb_per_s\":%.1f,\"ratio_ours_over_backend\":%.3f}\n",
           argv[1], m.size, runs, hh_sha256_backend(), mb / best_ours, mb / best_lib, best_ours / best_lib);
    wh_unmap_file(&m);
    return 0;
}
