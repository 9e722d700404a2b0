/* Evidence files, opened O_RDONLY and mapped PROT_READ: never written. */
#ifndef WH_FILE_H
#define WH_FILE_H

#include "wmihunt/core.h"

typedef struct wh_mapped {
    const uint8_t *data; /* NULL for an empty file */
    size_t size;
    char *path;          /* malloc'd copy */
} wh_mapped;

WH_MUST_CHECK wh_status wh_map_file(const char *path, wh_mapped *m);
void wh_unmap_file(wh_mapped *m);

/* Finds name in dir ignoring case; returns a malloc'd full path or NULL.
 * want_dir selects directories instead of regular files. */
char *wh_find_icase(const char *dir, const char *name, bool want_dir);

#endif
