/* String-keyed hash map (open addressing) whose storage lives in an arena.
 * Keys are not copied: they must outlive the map (arena strings do). */
#ifndef WH_STRMAP_H
#define WH_STRMAP_H

#include <stddef.h>
#include "core/arena.h"

typedef struct wh_strmap {
    wh_arena *arena;
    const char **keys;
    void **vals;
    size_t cap, n;
} wh_strmap;

void wh_strmap_init(wh_strmap *m, wh_arena *a);
/* Inserts or replaces; 0 ok, -1 out of memory. */
int wh_strmap_put(wh_strmap *m, const char *key, void *val);
void *wh_strmap_get(const wh_strmap *m, const char *key);
/* Lookup with an explicit length (key need not be NUL-terminated). */
void *wh_strmap_getn(const wh_strmap *m, const char *key, size_t n);

#endif
