#include "core/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN (256u * 1024u)

typedef struct block {
    struct block *next;
    size_t size, used;
    max_align_t data[];
} block;

struct wh_arena {
    block *head;
    size_t cap, total;
    int hit_cap;
};

wh_arena *wh_arena_new(size_t cap)
{
    wh_arena *a = calloc(1, sizeof(*a));
    if (a) a->cap = cap ? cap : SIZE_MAX;
    return a;
}

void wh_arena_free(wh_arena *a)
{
    if (!a) return;
    for (block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
}

void *wh_arena_alloc(wh_arena *a, size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    if (n == 0) n = 16;
    block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t sz = n > BLOCK_MIN ? n : BLOCK_MIN;
        // A big request gets its own block so the current one keeps its room.
        if (sz > a->cap - a->total || a->total > a->cap) {
            a->hit_cap = 1;
            return NULL;
        }
        block *nb = malloc(sizeof(block) + sz);
        if (!nb) return NULL;
        nb->size = sz;
        nb->used = 0;
        a->total += sz;
        if (b && n > BLOCK_MIN && b->size - b->used >= BLOCK_MIN / 4) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void *wh_arena_calloc(wh_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = wh_arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

char *wh_arena_strndup(wh_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *p = wh_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *wh_arena_strdup(wh_arena *a, const char *s)
{
    return wh_arena_strndup(a, s, strlen(s));
}

char *wh_arena_printf(wh_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = wh_arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t wh_arena_used(const wh_arena *a) { return a->total; }
int wh_arena_hit_cap(const wh_arena *a) { return a->hit_cap; }

void *wh_arena_grow(wh_arena *a, void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap) return v;
    size_t nc = *cap ? *cap * 2 : first;
    void *nv = wh_arena_calloc(a, nc, elem);
    if (!nv) return NULL;
    if (n) memcpy(nv, v, n * elem);
    *cap = nc;
    return nv;
}

int wh_ptrvec_push(wh_arena *a, wh_ptrvec *pv, void *p)
{
    void **nv = wh_arena_grow(a, pv->v, pv->n, &pv->cap, sizeof(void *), 16);
    if (!nv) return -1;
    pv->v = nv;
    pv->v[pv->n++] = p;
    return 0;
}

void wh_arena_reset(wh_arena *a)
{
    // Keep the newest standard-size block; everything else goes.
    block *keep = NULL;
    for (block *b = a->head, *n; b; b = n) {
        n = b->next;
        if (!keep && b->size == BLOCK_MIN) keep = b;
        else free(b);
    }
    a->head = keep;
    a->total = keep ? keep->size : 0;
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->hit_cap = 0;
}
