#define _GNU_SOURCE
#include "core/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/text.h"

wh_status wh_map_file(const char *path, wh_mapped *m)
{
    memset(m, 0, sizeof(*m));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return errno == ENOENT ? WH_E_NOTFOUND : WH_E_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return WH_E_IO;
    }
    m->path = strdup(path);
    if (!m->path) {
        close(fd);
        return WH_E_NOMEM;
    }
    m->size = (size_t)st.st_size;
    if (m->size > 0) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            free(m->path);
            m->path = NULL;
            return WH_E_IO;
        }
        m->data = p;
    }
    close(fd);
    return WH_OK;
}

void wh_unmap_file(wh_mapped *m)
{
    if (m->data) munmap((void *)m->data, m->size);
    free(m->path);
    memset(m, 0, sizeof(*m));
}

char *wh_find_icase(const char *dir, const char *name, bool want_dir)
{
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (wh_strcasecmp(e->d_name, name) != 0) continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) break;
        struct stat st;
        // lstat: links are not followed into, evidence trees may be hostile.
        if (lstat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) {
            found = p;
            break;
        }
        free(p);
    }
    closedir(d);
    return found;
}
