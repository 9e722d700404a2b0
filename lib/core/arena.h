/* Bump allocator: one per parse. Everything a parse hands out lives here
 * and is freed at once by wh_arena_free(). The byte cap is the guard
 * against hostile sizes: an allocation past it returns NULL. */
#ifndef WH_ARENA_H
#define WH_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "wmihunt/core.h" /* WH_PRINTF */

typedef struct wh_arena wh_arena;

wh_arena *wh_arena_new(size_t cap);
void wh_arena_free(wh_arena *a);
void *wh_arena_alloc(wh_arena *a, size_t n);          /* 16-byte aligned, not zeroed */
void *wh_arena_calloc(wh_arena *a, size_t n, size_t size); /* zeroed, checks overflow */
char *wh_arena_strndup(wh_arena *a, const char *s, size_t n);
char *wh_arena_strdup(wh_arena *a, const char *s);
char *wh_arena_printf(wh_arena *a, const char *fmt, ...) WH_PRINTF(2, 3);
size_t wh_arena_used(const wh_arena *a);
/* Frees everything but one block, for reuse (e.g. one arena per chunk). */
void wh_arena_reset(wh_arena *a);
/* true once an allocation was refused because of the cap */
int wh_arena_hit_cap(const wh_arena *a);

/* Room for element n of an arena array v that holds *cap (elem bytes
 * each): v itself while n < *cap, else a copy of twice the size (first
 * when empty) with *cap updated; the old block is abandoned. NULL when out
 * of memory (v and *cap unchanged). */
void *wh_arena_grow(wh_arena *a, void *v, size_t n, size_t *cap, size_t elem, size_t first);

/* Growable array of pointers kept in an arena (old blocks are abandoned). */
typedef struct wh_ptrvec {
    void **v;
    size_t n, cap;
} wh_ptrvec;

int wh_ptrvec_push(wh_arena *a, wh_ptrvec *pv, void *p); /* 0 ok, -1 no memory */

#endif
