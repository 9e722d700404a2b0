/* Small helpers shared by the C tests. */
#ifndef WH_TESTUTIL_H
#define WH_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

/* Whole file dir/name in memory; {NULL, 0} when it cannot be read. */
static inline blob test_load(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s%s", dir, name);
    blob b = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return b;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.n = sz > 0 ? (size_t)sz : 0;
    b.p = malloc(b.n ? b.n : 1);
    if (b.p && fread(b.p, 1, b.n, f) != b.n) b.n = 0;
    fclose(f);
    return b;
}

#endif
