/* A stable sort: elements that compare equal keep their order. Output that
 * is sorted must not depend on the C library's qsort (glibc's merges and
 * keeps ties in order, the Windows CRT's quicksort does not), so every
 * sort in the tree is this one. */
#ifndef WH_SORT_H
#define WH_SORT_H

#include <stddef.h>

void wh_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
