/* lib/source internals: one open source, its kept diagnostics, the
 * extraction (source_extract.c) and the signal-safe removal (source.c). */
#ifndef WH_SOURCE_INT_H
#define WH_SOURCE_INT_H

#include <stdint.h>

#include "core/diagkeep.h"
#include "wmihunt/source.h"


/* Diagnostics kept per source; past it they are counted and replayed as one. */
#define WS_KEPT_DIAGS 10000u

struct wh_source {
    char *given;     /* the path given: names are shown under it */
    char *dir;       /* what to read: given itself, or the private folder */
    size_t dirlen;
    bool extracted;  /* dir is a private folder of ours (registered) */
    bool replayed;
    wh_diag_sink *sink; /* while opening: where diagnostics go at once */
    wh_diag_keep kept;  /* said while extracting, for wh_source_replay (WS_KEPT_DIAGS at most) */
    uint64_t members, bytes; /* extracted */
    bool disk;             /* a disk image */
    bool stop;             /* a bound ended the copying */
    uint64_t entries;      /* folder entries looked at in an image */
    wh_source_volume *vols; /* its volumes (strings owned) */
    size_t nvols;
    struct wh_source *volatile next; /* the process-wide list */
};

/* Says a diagnostic about the archive (member NULL) or one member (shown
 * as "given!member"), to the sink and the kept list. */
void ws_say(wh_source *s, wh_severity sev, wh_status code, const char *member, uint64_t offset, const char *fmt, ...)
    WH_PRINTF(6, 7);
/* The bounds to use: o's, else limits.h's, changed by WMIHUNT_ARCHIVE_LIMITS. */
void ws_opts(const wh_source_opts *o, wh_source_opts *out);
/* Extracts from fd (>= 0) or from mem into s->dir. WH_OK when the archive
 * could be read at all (damage later on is said, not returned). */
wh_status ws_extract(wh_source *s, const wh_source_opts *o, int fd, const void *mem, size_t size);
/* Normalises a member name into out (relative, '/'-separated, no '.' or
 * empty parts). NULL when it is usable; else why it is refused, and *limit
 * set when a bound (depth, length) refused it. An empty result is the root. */
const char *ws_member_path(const char *raw, const wh_source_opts *o, char *out, size_t n, bool *limit);

/* Copies the wanted files of a disk image (the file at path, or size
 * bytes at mem) into s->dir (source_image.c). WH_OK when the image could
 * be opened at all. Built only into wmihunt-image and the fuzz target:
 * The Sleuth Kit and its dependencies (about 45 shared libraries) cost
 * every other run of wmihunt 6 ms at start (docs/design.md). */
wh_status ws_image(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size);
/* ws_image where it is linked in (ws_image_register sets it), else NULL. */
extern wh_status (*ws_image_builtin)(wh_source *, const wh_source_opts *, const char *, const void *, size_t);
void ws_image_register(void);
/* A disk image read in a child process (source_isolate.c): wmihunt-image
 * run from beside the program, or ws_image_builtin in a fork; a crash or
 * a runaway allocation in the image libraries ends the child, not the
 * caller. o->in_process with ws_image_builtin: read here (the fuzz target). */
wh_status ws_image_isolated(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size);
/* In that child: the pipe ws_say sends to (-1 elsewhere), and the sending. */
extern int ws_child_fd;
void ws_child_say(wh_severity sev, wh_status code, const char *member, uint64_t offset, const char *msg);
/* The child's work: reads the image, sends its volumes and the end frame.
 * The caller then exits. */
void ws_child_run(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size);
/* True when the first bytes b[0..n) (and the last 512 of a file of fsize
 * bytes, tail, may be NULL) look like a disk image. */
bool ws_image_magic(const unsigned char *b, size_t n, const unsigned char *tail);
/* Adds a volume to s (strings copied); NULL when out of memory. */
wh_source_volume *ws_add_volume(wh_source *s, const wh_source_volume *v);

/* Opens (creating) the folder rel ('/'-separated) below the folder root,
 * one part at a time, never following a link; -1 with errno set when a
 * part is not a folder. */
int ws_mkdirs(int root, const char *rel);
/* Writes all of buf to fd: 0, else errno (-1 for a short write). */
int ws_write_all(int fd, const void *buf, size_t n);

#endif
