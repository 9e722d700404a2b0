/* Copying the wanted files out of an NTFS volume (libtsk): every folder
 * walked once, from the root, within the depth and entry bounds; a
 * folder that leads back to one above it (a loop a damaged or hostile
 * MFT can make) is said and not followed. Files Windows would hold locked
 * are plain files here; alternate data streams are "file:stream". */
#ifdef WH_HAVE_TSK

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_img.h"

#define NAME_MAX_BYTES 255u /* a file name on this side */
#define CHUNK (1u << 20)

typedef struct nw {
    wh_source *s;
    const wh_source_opts *o;
    TSK_FS_INFO *fs;
    wh_source_volume *v;
    int root;                  /* the volume's folder in the private one */
    char (*names)[NAME_MAX_BYTES + 1]; /* the folders from the root down, then the file */
    TSK_INUM_T *stack;         /* their MFT entries */
    size_t depth;
    char rel[4096];            /* v->folder/names... */
    TSK_INUM_T *seen;          /* folders walked (open addressing, 0 = free) */
    size_t nseen, capseen;
    unsigned long unreadable;  /* entries whose metadata could not be read */
    char *buf;
} nw;

/* ---- folders walked once ---- */

static bool seen_add(nw *w, TSK_INUM_T inum)
{
    TSK_INUM_T key = inum + 1; // 0 marks a free slot
    if ((w->nseen + 1) * 2 > w->capseen) {
        size_t cap = w->capseen ? w->capseen * 2 : 1024;
        TSK_INUM_T *t = calloc(cap, sizeof(*t));
        if (!t) return true; // no memory: walk it (the entry bound still ends a loop)
        for (size_t i = 0; i < w->capseen; i++)
            if (w->seen[i]) {
                size_t h = (size_t)(w->seen[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
                while (t[h]) h = (h + 1) & (cap - 1);
                t[h] = w->seen[i];
            }
        free(w->seen);
        w->seen = t;
        w->capseen = cap;
    }
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (w->capseen - 1);
    while (w->seen[h]) {
        if (w->seen[h] == key) return false;
        h = (h + 1) & (w->capseen - 1);
    }
    w->seen[h] = key;
    w->nseen++;
    return true;
}

/* ---- names ---- */

/* The path below the private folder of names[0..n) (file: the last). */
static const char *rel_of(nw *w, size_t n)
{
    size_t len = (size_t)snprintf(w->rel, sizeof(w->rel), "%s", w->v->folder);
    for (size_t i = 0; i < n && len < sizeof(w->rel); i++)
        len += (size_t)snprintf(w->rel + len, sizeof(w->rel) - len, "/%s", w->names[i]);
    return w->rel;
}

/* A name as it can be on this side: '/' (impossible in NTFS, possible in a
 * damaged one) becomes '_'; false when too long. */
static bool local_name(const char *in, const char *stream, char out[NAME_MAX_BYTES + 1])
{
    int n = stream ? snprintf(out, NAME_MAX_BYTES + 1, "%s:%s", in, stream) : snprintf(out, NAME_MAX_BYTES + 1, "%s", in);
    if (n < 0 || (unsigned)n > NAME_MAX_BYTES) return false;
    for (char *p = out; *p; p++)
        if (*p == '/') *p = '_';
    return true;
}

/* ---- one file ---- */

static bool unnamed(const TSK_FS_ATTR *a) { return !a->name || !a->name[0] || !strcmp(a->name, "$Data"); }

/* Copies one data stream of f (its name set as names[depth]). */
static void copy_stream(nw *w, TSK_FS_FILE *f, const TSK_FS_ATTR *a)
{
    wh_source *s = w->s;
    const char *rel = rel_of(w, w->depth + 1);
    uint64_t size = a->size > 0 ? (uint64_t)a->size : 0;
    if (size > w->o->max_member) {
        ws_say(s, WH_SEV_WARN, WH_E_LIMIT, rel, WH_NO_OFFSET,
               "larger than the bound of %llu bytes: not copied (WMIHUNT_ARCHIVE_LIMITS member=)",
               (unsigned long long)w->o->max_member);
        return;
    }
    if (s->bytes + size > w->o->max_total) {
        ws_say(s, WH_SEV_WARN, WH_E_LIMIT, rel, WH_NO_OFFSET,
               "the bound of %llu bytes copied in all is reached here: this file and the rest of the image are not "
               "copied (WMIHUNT_ARCHIVE_LIMITS total=)", (unsigned long long)w->o->max_total);
        s->stop = true;
        return;
    }
    // The folder, then the file: created below the private folder, never through a link.
    int dfd = ws_mkdirs(w->root, rel_of(w, w->depth) + strlen(w->v->folder) + (w->depth ? 1 : 0));
    rel_of(w, w->depth + 1);
    int fd = dfd < 0 ? -1 : openat(dfd, w->names[w->depth], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int err = errno;
    if (dfd >= 0) close(dfd);
    if (fd < 0) {
        ws_say(s, WH_SEV_WARN, WH_E_IO, rel, WH_NO_OFFSET, "cannot be copied to the private folder (%s)%s",
               strerror(err), err == EEXIST ? ": two entries of one folder differ only in case" : "");
        return;
    }
    uint64_t off = 0;
    while (off < size) {
        size_t want = size - off > CHUNK ? CHUNK : (size_t)(size - off);
        ssize_t n = tsk_fs_file_read_type(f, a->type, a->id, (TSK_OFF_T)off, w->buf, want, TSK_FS_FILE_READ_FLAG_NONE);
        if (n <= 0) {
            ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, rel, off, "cannot be read past byte %llu of %llu (%s): copied that far",
                   (unsigned long long)off, (unsigned long long)size, n < 0 ? ws_tsk_error() : "no data");
            break;
        }
        if ((err = ws_write_all(fd, w->buf, (size_t)n)) != 0) {
            ws_say(s, WH_SEV_ERROR, WH_E_IO, rel, WH_NO_OFFSET, "cannot be written to the private folder (%s)",
                   err > 0 ? strerror(err) : "short write");
            s->stop = true;
            break;
        }
        off += (uint64_t)n;
    }
    if (f->meta) {
        struct timespec t[2];
        t[1].tv_sec = f->meta->mtime;
        t[1].tv_nsec = f->meta->mtime_nano;
        t[0] = t[1];
        (void)futimens(fd, t);
    }
    close(fd);
    s->members++;
    s->bytes += off;
    w->v->files++;
    w->v->bytes += off;
}

static bool wanted(nw *w)
{
    if (!w->o->want) return true;
    const char *names[1025];
    size_t n = w->depth + 1;
    for (size_t i = 0; i < n && i < 1025; i++) names[i] = w->names[i];
    return w->o->want(names, n, w->o->want_ud);
}

static void file(nw *w, TSK_FS_FILE *f, const char *name)
{
    int na = tsk_fs_file_attr_getsize(f);
    for (int i = 0; i < na && !w->s->stop; i++) {
        const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
        if (!a || a->type != TSK_FS_ATTR_TYPE_NTFS_DATA) continue;
        if (!local_name(name, unnamed(a) ? NULL : a->name, w->names[w->depth])) {
            ws_say(w->s, WH_SEV_WARN, WH_E_LIMIT, rel_of(w, w->depth), WH_NO_OFFSET,
                   "an entry's name is longer than %u bytes: not copied", NAME_MAX_BYTES);
            continue;
        }
        if (wanted(w)) copy_stream(w, f, a);
    }
}

/* ---- the walk ---- */

/* A folder's index ($INDEX_ALLOCATION) larger than the volume, or than
 * WH_INDEX_MAX, is forged or damaged: TSK would allocate that much before
 * reading it (4 GB was seen from a 1 MB image). */
#define WH_INDEX_MAX (2ull << 30)

static bool index_too_big(nw *w, TSK_INUM_T inum, uint64_t *size)
{
    TSK_FS_FILE *df = tsk_fs_file_open_meta(w->fs, NULL, inum);
    if (!df) return false; // said when the folder itself is opened
    const TSK_FS_ATTR *ia = tsk_fs_file_attr_get_type(df, TSK_FS_ATTR_TYPE_NTFS_IDXALLOC, 0, 0);
    *size = ia && ia->size > 0 ? (uint64_t)ia->size : 0;
    tsk_fs_file_close(df);
    (void)ws_tsk_error(); // a folder without the attribute is a small one
    uint64_t vol = w->v->size ? w->v->size : UINT64_MAX;
    return *size > vol || *size > WH_INDEX_MAX;
}

static void folder(nw *w, TSK_INUM_T inum)
{
    wh_source *s = w->s;
    uint64_t isize = 0;
    if (index_too_big(w, inum, &isize)) {
        ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, rel_of(w, w->depth), WH_NO_OFFSET,
               "folder (MFT entry %llu) claims an index of %llu bytes, more than %s: damaged or forged, not walked",
               (unsigned long long)inum, (unsigned long long)isize,
               isize > w->v->size ? "the volume holds" : "the bound of 2 GiB");
        return;
    }
    TSK_FS_DIR *d = tsk_fs_dir_open_meta(w->fs, inum);
    if (!d) {
        ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, rel_of(w, w->depth), WH_NO_OFFSET,
               "folder (MFT entry %llu) cannot be read (%s): what is below it is not copied", (unsigned long long)inum,
               ws_tsk_error());
        return;
    }
    size_t n = tsk_fs_dir_getsize(d);
    for (size_t i = 0; i < n && !s->stop; i++) {
        TSK_FS_FILE *f = tsk_fs_dir_get(d, i);
        if (!f) continue;
        const TSK_FS_NAME *nm = f->name;
        const char *name = nm && nm->name ? nm->name : "";
        bool skip = !nm || !(nm->flags & TSK_FS_NAME_FLAG_ALLOC) || !name[0] || !strcmp(name, ".") ||
                    !strcmp(name, "..") || (w->depth == 0 && name[0] == '$'); // NTFS's own files, TSK's $OrphanFiles
        if (!skip && ++s->entries > w->o->max_members) {
            ws_say(s, WH_SEV_WARN, WH_E_LIMIT, rel_of(w, w->depth), WH_NO_OFFSET,
                   "the bound of %llu entries looked at is reached here: the rest of the image is not walked "
                   "(WMIHUNT_ARCHIVE_LIMITS members=)", (unsigned long long)w->o->max_members);
            s->stop = true;
            skip = true;
        }
        if (!skip && !f->meta) w->unreadable++;
        if (!skip && w->o->progress && !(s->entries & 4095))
            w->o->progress(w->o->progress_ud, w->v->folder, s->entries, s->members, rel_of(w, w->depth));
        if (skip || !f->meta) {
            tsk_fs_file_close(f);
            continue;
        }
        bool dir = f->meta->type == TSK_FS_META_TYPE_DIR;
        if (dir) {
            TSK_INUM_T child = f->meta->addr;
            bool loop = false;
            for (size_t k = 0; k <= w->depth && !loop; k++) loop = w->stack[k] == child;
            if (!local_name(name, NULL, w->names[w->depth])) {
                ws_say(s, WH_SEV_WARN, WH_E_LIMIT, rel_of(w, w->depth), WH_NO_OFFSET,
                       "a folder's name is longer than %u bytes: not walked", NAME_MAX_BYTES);
            } else if (loop) {
                ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, rel_of(w, w->depth + 1), WH_NO_OFFSET,
                       "this folder is MFT entry %llu, a folder above it: a loop in the directory tree (damaged or "
                       "forged), not followed", (unsigned long long)child);
            } else if (w->depth + 1 >= w->o->max_depth) {
                ws_say(s, WH_SEV_WARN, WH_E_LIMIT, rel_of(w, w->depth + 1), WH_NO_OFFSET,
                       "deeper than the bound of %u folder levels: not walked (WMIHUNT_ARCHIVE_LIMITS depth=)",
                       w->o->max_depth);
            } else if (!seen_add(w, child)) {
                ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, rel_of(w, w->depth + 1), WH_NO_OFFSET,
                       "folder MFT entry %llu is reached a second time by another name: walked once",
                       (unsigned long long)child);
            } else {
                w->depth++;
                w->stack[w->depth] = child;
                folder(w, child);
                w->depth--;
            }
        } else if (f->meta->type == TSK_FS_META_TYPE_REG) {
            file(w, f, name);
        }
        tsk_fs_file_close(f);
    }
    tsk_fs_dir_close(d);
}

void ws_ntfs_copy(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img, uint64_t off, wh_source_volume *v)
{
    v->read = true;
    TSK_FS_INFO *fs = tsk_fs_open_img(img, (TSK_OFF_T)off, TSK_FS_TYPE_NTFS);
    if (!fs) {
        ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, v->folder, off, "the NTFS volume cannot be opened (%s): not read",
               ws_tsk_error());
        v->read = false;
        return;
    }
    nw w = {.s = s, .o = o, .fs = fs, .v = v, .root = -1};
    size_t levels = o->max_depth + 1;
    w.names = calloc(levels, sizeof(*w.names));
    w.stack = calloc(levels, sizeof(*w.stack));
    w.buf = malloc(CHUNK);
    int pfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    w.root = pfd < 0 ? -1 : ws_mkdirs(pfd, v->folder);
    if (pfd >= 0) close(pfd);
    if (!w.names || !w.stack || !w.buf || w.root < 0) {
        ws_say(s, WH_SEV_ERROR, w.root < 0 ? WH_E_IO : WH_E_NOMEM, v->folder, off,
               "cannot be copied to the private folder: not read");
        v->read = false;
    } else {
        w.stack[0] = fs->root_inum;
        (void)seen_add(&w, fs->root_inum);
        folder(&w, fs->root_inum);
        if (w.unreadable)
            ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, v->folder, off,
                   "%lu folder entr%s point at MFT records that cannot be read: not copied", w.unreadable,
                   w.unreadable == 1 ? "y" : "ies");
        if (v->snapshot)
            ws_say(s, WH_SEV_INFO, WH_OK, v->folder, v->offset, "shadow copy %u {%s} of the NTFS volume at byte %llu: "
                   "%llu file(s), %llu bytes copied", v->snapshot, v->snapshot_id ? v->snapshot_id : "?",
                   (unsigned long long)v->offset, (unsigned long long)v->files, (unsigned long long)v->bytes);
        else
            ws_say(s, WH_SEV_INFO, WH_OK, v->folder, off, "NTFS volume at byte %llu: %llu file(s), %llu bytes copied",
                   (unsigned long long)off, (unsigned long long)v->files, (unsigned long long)v->bytes);
    }
    if (w.root >= 0) close(w.root);
    free(w.names);
    free(w.stack);
    free(w.buf);
    free(w.seen);
    tsk_fs_close(fs);
}

#endif
