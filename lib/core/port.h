/* The few things POSIX and Windows do differently, behind one interface:
 * paths are UTF-8 everywhere (UTF-16 and the \\?\ long form only at the
 * Windows API), folders are listed without following links, and text is
 * rendered into memory. port_posix.c or port_win.c implements it; nothing
 * else in the tree includes a platform header for these. */
#ifndef WH_PORT_H
#define WH_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef enum { WH_FT_OTHER, WH_FT_REG, WH_FT_DIR, WH_FT_LINK } wh_ftype;

typedef struct wh_fstat {
    wh_ftype type;    /* a link (or Windows reparse point) is never followed */
    uint64_t size;
    /* seconds since 1970; ctime is the change time (Windows: from
     * wh_stat; an entry of a folder listing carries its creation time) */
    int64_t mtime_s, ctime_s, atime_s;
    uint32_t mtime_ns, ctime_ns, atime_ns;
    uint64_t dev, ino; /* identity of a folder, for loops; 0 when unknown */
} wh_fstat;

/* Read-only open of evidence (O_NOATIME where allowed; never written). */
int wh_open_ro(const char *path);
/* Up to n bytes at off of fd; -1 on error. */
long wh_pread(int fd, void *buf, size_t n, uint64_t off);
void wh_close(int fd);
FILE *wh_fopen(const char *path, const char *mode);
/* follow=false: a link is reported as WH_FT_LINK. 0 or -1 (errno set). */
int wh_stat(const char *path, bool follow, wh_fstat *st);
int wh_mkdir(const char *path);
/* The whole file mapped read-only: 0, or -1 with errno (ENOENT when absent,
 * EISDIR/EINVAL when not a regular file). *data is NULL for an empty file. */
int wh_map_ro(const char *path, const uint8_t **data, size_t *size);
void wh_unmap(const uint8_t *data, size_t size);
/* Pages of a mapping already read may go (a hint). */
void wh_drop_pages(const void *p, size_t n);
/* Pages of a mapping about to be read are mapped in one call instead of a
 * fault each (a hint; Linux 5.14+, nothing elsewhere). */
void wh_prefault_pages(const void *p, size_t n);

/* A folder being listed. Entries exclude "." and "..". */
typedef struct wh_dir wh_dir;
/* The folder at path (a link given by the user is followed). */
wh_dir *wh_dir_open(const char *path);
/* A child folder of d (or the path name when d is NULL), not followed when
 * it is a link (NULL then, errno ELOOP or ENOTDIR). "." is d again, its
 * listing from the start. */
wh_dir *wh_dir_open_at(wh_dir *d, const char *name);
/* The next entry's name (valid until the next call), NULL at the end. */
const char *wh_dir_next(wh_dir *d);
/* name inside d, not following links. */
int wh_dir_stat_at(wh_dir *d, const char *name, wh_fstat *st);
/* d's own identity (dev, ino). */
int wh_dir_self(wh_dir *d, wh_fstat *st);
void wh_dir_rewind(wh_dir *d);
void wh_dir_close(wh_dir *d);

/* Text rendered into memory: *buf and *len hold what was written after
 * wh_memstream_sync and after wh_memstream_close (the caller frees *buf). */
FILE *wh_memstream(char **buf, size_t *len);
int wh_memstream_sync(FILE *f);
int wh_memstream_close(FILE *f);

char *wh_strndup(const char *s, size_t n);
/* getline(3): a line of any length into *line. */
long wh_getline(char **line, size_t *cap, FILE *f);
unsigned wh_ncpu(void);
bool wh_isatty(FILE *f);
/* Columns of the terminal f writes to; 0 when it is not one. */
int wh_term_cols(FILE *f);
/* The process's arguments as UTF-8 (Windows: from the UTF-16 command line;
 * also UTF-8 console output and binary stdout, so output bytes are equal). */
void wh_port_args(int *argc, char ***argv);

#endif
