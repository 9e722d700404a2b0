#include "core/strmap.h"

#include <stdint.h>
#include <string.h>

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void wh_strmap_init(wh_strmap *m, wh_arena *a)
{
    memset(m, 0, sizeof(*m));
    m->arena = a;
}

static int grow(wh_strmap *m)
{
    size_t nc = m->cap ? m->cap * 2 : 64;
    const char **nk = wh_arena_calloc(m->arena, nc, sizeof(char *));
    void **nv = wh_arena_calloc(m->arena, nc, sizeof(void *));
    if (!nk || !nv) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = fnv(m->keys[i], strlen(m->keys[i])) & (nc - 1);
        while (nk[j]) j = (j + 1) & (nc - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    m->keys = nk;
    m->vals = nv;
    m->cap = nc;
    return 0;
}

int wh_strmap_put(wh_strmap *m, const char *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0) return -1;
    size_t n = strlen(key);
    size_t j = fnv(key, n) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) {
            m->vals[j] = val;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return 0;
}

void *wh_strmap_getn(const wh_strmap *m, const char *key, size_t n)
{
    if (!m->cap) return NULL;
    size_t j = fnv(key, n) & (m->cap - 1);
    while (m->keys[j]) {
        if (strncmp(m->keys[j], key, n) == 0 && m->keys[j][n] == 0) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

void *wh_strmap_get(const wh_strmap *m, const char *key)
{
    return wh_strmap_getn(m, key, strlen(key));
}
