/* Merge sort (lib/core/sort.h): n log n compares, n elements of scratch;
 * short runs by insertion. Without scratch memory it falls back to an
 * insertion sort, still stable, slower. */
#include "core/sort.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RUN 16

static void insertion(char *b, size_t n, size_t size, int (*cmp)(const void *, const void *), char *tmp)
{
    for (size_t i = 1; i < n; i++) {
        size_t j = i;
        if (cmp(b + (j - 1) * size, b + j * size) <= 0) continue;
        memcpy(tmp, b + i * size, size);
        while (j > 0 && cmp(b + (j - 1) * size, tmp) > 0) j--;
        memmove(b + (j + 1) * size, b + j * size, (i - j) * size);
        memcpy(b + j * size, tmp, size);
    }
}

static void msort(char *b, size_t n, size_t size, int (*cmp)(const void *, const void *), char *scratch)
{
    if (n <= RUN) {
        insertion(b, n, size, cmp, scratch);
        return;
    }
    size_t h = n / 2;
    msort(b, h, size, cmp, scratch);
    msort(b + h * size, n - h, size, cmp, scratch);
    if (cmp(b + (h - 1) * size, b + h * size) <= 0) return; // already in order
    memcpy(scratch, b, h * size);
    char *l = scratch, *le = scratch + h * size, *r = b + h * size, *re = b + n * size, *o = b;
    while (l < le && r < re) {
        if (cmp(r, l) < 0) { // the left one wins ties: stable
            memcpy(o, r, size);
            r += size;
        } else {
            memcpy(o, l, size);
            l += size;
        }
        o += size;
    }
    if (l < le) memcpy(o, l, (size_t)(le - l));
}

void wh_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n < 2 || !size) return;
    // Scratch: one element for a short run's insertion, half of them for
    // the merges; on the stack when it fits.
    char one[64], *scratch = NULL;
    size_t want = n <= RUN ? 1 : n / 2 + 1;
    bool merge = want <= SIZE_MAX / size;
    if (merge) scratch = want * size <= sizeof(one) ? one : malloc(want * size);
    if (!scratch) { // out of memory: insertion alone, slow, still stable
        merge = false;
        scratch = size <= sizeof(one) ? one : malloc(size);
    }
    if (scratch && merge) msort(base, n, size, cmp, scratch);
    else if (scratch) insertion(base, n, size, cmp, scratch);
    if (scratch != one) free(scratch);
}
