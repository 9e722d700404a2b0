#include "core/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/port.h"
#include "core/text.h"

wh_status wh_map_file(const char *path, wh_mapped *m)
{
    memset(m, 0, sizeof(*m));
    m->path = strdup(path);
    if (!m->path) return WH_E_NOMEM;
    if (wh_map_ro(path, &m->data, &m->size) != 0) {
        wh_status st = errno == ENOENT ? WH_E_NOTFOUND : WH_E_IO;
        free(m->path);
        memset(m, 0, sizeof(*m));
        return st;
    }
    return WH_OK;
}

void wh_unmap_file(wh_mapped *m)
{
    wh_unmap(m->data, m->size);
    free(m->path);
    memset(m, 0, sizeof(*m));
}

char *wh_find_icase(const char *dir, const char *name, bool want_dir)
{
    wh_dir *d = wh_dir_open(dir);
    if (!d) return NULL;
    char *found = NULL;
    const char *e;
    while ((e = wh_dir_next(d)) != NULL) {
        if (wh_strcasecmp(e, name) != 0) continue;
        wh_fstat st;
        // Links are not followed into: evidence trees may be hostile.
        if (wh_dir_stat_at(d, e, &st) != 0 || st.type != (want_dir ? WH_FT_DIR : WH_FT_REG)) continue;
        size_t a = strlen(dir), b = strlen(e);
        found = malloc(a + b + 2);
        if (found) {
            memcpy(found, dir, a);
            found[a] = '/';
            memcpy(found + a + 1, e, b + 1);
        }
        break;
    }
    wh_dir_close(d);
    return found;
}
