/* Extraction of an archive into the private folder (libarchive): every
 * member name checked and made relative, folders and files created below
 * one directory descriptor without following anything, the bounds counted
 * as bytes come out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include "source/source_int.h"

/* ---- member names (no libarchive needed: also unit-testable) ---- */

const char *ws_member_path(const char *raw, const wh_source_opts *o, char *out, size_t n, bool *limit)
{
    *limit = false;
    if (!raw) return "no name";
    if (!n) return "no room";
    out[0] = 0;
    if (raw[0] == '/' || raw[0] == '\\') return "absolute name";
    size_t len = 0;
    unsigned depth = 0;
    const char *p = raw;
    while (*p) {
        while (*p == '/' || *p == '\\') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != '/' && *e != '\\') e++;
        size_t cl = (size_t)(e - p);
        if (cl == 1 && p[0] == '.') {
            p = e;
            continue;
        }
        if (cl == 2 && p[0] == '.' && p[1] == '.') return "'..' component";
        if (depth == 0 && cl >= 2 && p[1] == ':' && ((p[0] | 32) >= 'a' && (p[0] | 32) <= 'z'))
            return "drive letter";
        if (cl > 255) {
            *limit = true;
            return "a name part longer than 255 bytes";
        }
        if (++depth > o->max_depth) {
            *limit = true;
            return "deeper than the bound on folder levels";
        }
        if (len + (len ? 1 : 0) + cl > o->max_path || len + cl + 2 > n) {
            *limit = true;
            return "name longer than the bound";
        }
        if (len) out[len++] = '/';
        memcpy(out + len, p, cl);
        len += cl;
        out[len] = 0;
        p = e;
    }
    return NULL;
}

/* ---- writing below the private folder (archives and images) ---- */
#ifndef _WIN32 // the Windows build extracts nothing (source.c)

int ws_mkdirs(int root, const char *rel)
{
    int fd = dup(root);
    char part[256];
    for (const char *p = rel; fd >= 0 && *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n >= sizeof(part)) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(part, p, n);
        part[n] = 0;
        if (mkdirat(fd, part, 0700) != 0 && errno != EEXIST) {
            close(fd);
            return -1;
        }
        int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        p += n;
        if (*p == '/') p++;
    }
    return fd;
}

int ws_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno : -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
#endif

#ifndef WH_HAVE_LIBARCHIVE

bool wh_source_archives_supported(void) { return false; }

wh_status ws_extract(wh_source *s, const wh_source_opts *o, int fd, const void *mem, size_t size)
{
    (void)s, (void)o, (void)fd, (void)mem, (void)size;
    return WH_E_ARG;
}

#else

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>

/* libarchive is loaded when the first archive is opened, not at every
 * start: with its libraries (libxml2, ICU, libstdc++, nettle, ...) it cost
 * every run of wmihunt 1.6 ms before main, most of the process start of an
 * evtx or cim command (docs/design.md). Each function is called through a
 * pointer of its own type, named as libarchive names it. */
#ifndef WH_LIBARCHIVE_SONAME
#define WH_LIBARCHIVE_SONAME "libarchive.so.13"
#endif
#define WA_LIST(X)                                                                                            \
    X(archive_entry_filetype) X(archive_entry_hardlink) X(archive_entry_is_encrypted) X(archive_entry_mtime) \
    X(archive_entry_mtime_is_set) X(archive_entry_mtime_nsec) X(archive_entry_pathname)                     \
    X(archive_entry_pathname_utf8) X(archive_entry_size) X(archive_entry_size_is_set) X(archive_entry_symlink) \
    X(archive_entry_symlink_utf8) X(archive_error_string) X(archive_filter_bytes) X(archive_read_data)        \
    X(archive_read_free) X(archive_read_new) X(archive_read_next_header) X(archive_read_open_fd)              \
    X(archive_read_open_memory) X(archive_read_support_filter_bzip2) X(archive_read_support_filter_gzip)      \
    X(archive_read_support_filter_none) X(archive_read_support_filter_xz) X(archive_read_support_filter_zstd) \
    X(archive_read_support_format_7zip) X(archive_read_support_format_gnutar) X(archive_read_support_format_tar) \
    X(archive_read_support_format_zip)
#define WA_PTR(f) static __typeof__(f) *wa_##f;
WA_LIST(WA_PTR)
static bool wa_loaded;
static pthread_once_t wa_once = PTHREAD_ONCE_INIT;

static void wa_load(void)
{
    void *h = dlopen(WH_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
#define WA_SYM(f) \
    if (!(*(void **)&wa_##f = dlsym(h, #f))) return;
    WA_LIST(WA_SYM)
    wa_loaded = true; // the library stays loaded: its functions are used until exit
}

bool wh_source_archives_supported(void)
{
    pthread_once(&wa_once, wa_load);
    return wa_loaded;
}

#define archive_entry_filetype wa_archive_entry_filetype
#define archive_entry_hardlink wa_archive_entry_hardlink
#define archive_entry_is_encrypted wa_archive_entry_is_encrypted
#define archive_entry_mtime wa_archive_entry_mtime
#define archive_entry_mtime_is_set wa_archive_entry_mtime_is_set
#define archive_entry_mtime_nsec wa_archive_entry_mtime_nsec
#define archive_entry_pathname wa_archive_entry_pathname
#define archive_entry_pathname_utf8 wa_archive_entry_pathname_utf8
#define archive_entry_size wa_archive_entry_size
#define archive_entry_size_is_set wa_archive_entry_size_is_set
#define archive_entry_symlink wa_archive_entry_symlink
#define archive_entry_symlink_utf8 wa_archive_entry_symlink_utf8
#define archive_error_string wa_archive_error_string
#define archive_filter_bytes wa_archive_filter_bytes
#define archive_read_data wa_archive_read_data
#define archive_read_free wa_archive_read_free
#define archive_read_new wa_archive_read_new
#define archive_read_next_header wa_archive_read_next_header
#define archive_read_open_fd wa_archive_read_open_fd
#define archive_read_open_memory wa_archive_read_open_memory
#define archive_read_support_filter_bzip2 wa_archive_read_support_filter_bzip2
#define archive_read_support_filter_gzip wa_archive_read_support_filter_gzip
#define archive_read_support_filter_none wa_archive_read_support_filter_none
#define archive_read_support_filter_xz wa_archive_read_support_filter_xz
#define archive_read_support_filter_zstd wa_archive_read_support_filter_zstd
#define archive_read_support_format_7zip wa_archive_read_support_format_7zip
#define archive_read_support_format_gnutar wa_archive_read_support_format_gnutar
#define archive_read_support_format_tar wa_archive_read_support_format_tar
#define archive_read_support_format_zip wa_archive_read_support_format_zip

#define CHUNK (256u << 10)

typedef struct ex {
    wh_source *s;
    const wh_source_opts *o;
    struct archive *a;
    int root;           /* the private folder */
    int pfd;            /* the parent folder of the last file (cached) */
    char pdir[4096];    /* its path below root */
    char *buf;
    uint64_t total;     /* bytes written */
    bool stop;          /* a bound or damage ends the extraction */
} ex;

static int64_t consumed(ex *x) { return (int64_t)archive_filter_bytes(x->a, -1); }

/* The folder that holds rel (cached for the next member in it); *leaf is
 * the last part. */
static int parent_of(ex *x, const char *rel, const char **leaf)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    *leaf = slash ? slash + 1 : rel;
    if (x->pfd >= 0 && strlen(x->pdir) == n && !strncmp(x->pdir, rel, n)) return x->pfd;
    if (x->pfd >= 0) close(x->pfd);
    x->pfd = -1;
    if (n >= sizeof(x->pdir)) return -1;
    memcpy(x->pdir, rel, n);
    x->pdir[n] = 0;
    x->pfd = ws_mkdirs(x->root, x->pdir);
    return x->pfd;
}

static void set_time(int fd, struct archive_entry *e)
{
    if (!archive_entry_mtime_is_set(e)) return;
    struct timespec t[2];
    t[1].tv_sec = archive_entry_mtime(e);
    t[1].tv_nsec = archive_entry_mtime_nsec(e);
    t[0] = t[1];
    (void)futimens(fd, t);
}

/* Writes all of buf; false on a write error (said). */
static bool put(ex *x, int fd, const char *rel, const void *buf, size_t n)
{
    int err = ws_write_all(fd, buf, n);
    if (!err) return true;
    ws_say(x->s, WH_SEV_ERROR, WH_E_IO, rel, WH_NO_OFFSET,
           "cannot be written to the private folder (%s): not extracted; the extraction stops",
           err > 0 ? strerror(err) : "short write");
    x->stop = true;
    return false;
}

/* Checks the bounds before n more bytes of the member (c0: the archive
 * bytes consumed when it started); false (said) when one is reached. */
static bool room(ex *x, const char *rel, uint64_t mw, size_t n, int64_t c0)
{
    const wh_source_opts *o = x->o;
    if (mw + n > o->max_member) {
        ws_say(x->s, WH_SEV_WARN, WH_E_LIMIT, rel, WH_NO_OFFSET,
               "member larger than the bound of %llu bytes: not extracted (WMIHUNT_ARCHIVE_LIMITS member=)",
               (unsigned long long)o->max_member);
        return false;
    }
    if (x->total + n > o->max_total) {
        ws_say(x->s, WH_SEV_WARN, WH_E_LIMIT, rel, WH_NO_OFFSET,
               "the bound of %llu bytes extracted in all is reached here: this member and the rest of the archive "
               "are not extracted (WMIHUNT_ARCHIVE_LIMITS total=)", (unsigned long long)o->max_total);
        x->stop = true;
        return false;
    }
    uint64_t out = mw + n;
    if (c0 >= 0 && out > o->ratio_min) { // c0 < 0: a copy of a member already counted
        // Both this member and the archive so far: a solid 7z block is
        // consumed by its first member, so a later one alone looks free.
        int64_t c = consumed(x);
        uint64_t mine = c > c0 ? (uint64_t)(c - c0) : 0, all = c > 0 ? (uint64_t)c : 0;
        if (out / (mine + 1) > o->max_ratio && (x->total + n) / (all + 1) > o->max_ratio) {
            ws_say(x->s, WH_SEV_WARN, WH_E_LIMIT, rel, WH_NO_OFFSET,
                   "expands more than %llu times (%llu bytes from about %llu): a zip bomb? Not extracted "
                   "(WMIHUNT_ARCHIVE_LIMITS ratio=)", (unsigned long long)o->max_ratio, (unsigned long long)out,
                   (unsigned long long)mine);
            return false;
        }
    }
    return true;
}

/* Copies the data of the current member into fd; false when it was cut
 * by a bound (the file is then removed by the caller). */
static bool copy_data(ex *x, int fd, const char *rel, bool *damaged)
{
    int64_t c0 = consumed(x);
    uint64_t mw = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(x->a, x->buf, CHUNK);
        if (n == 0) break;
        if (n < 0) {
            if (n == ARCHIVE_WARN) { // e.g. a CRC mismatch at the end: data kept, said
                ws_say(x->s, WH_SEV_WARN, WH_E_CORRUPT, rel, WH_NO_OFFSET, "%s (kept as read)",
                       archive_error_string(x->a) ? archive_error_string(x->a) : "damaged");
                break;
            }
            ws_say(x->s, WH_SEV_ERROR, WH_E_TRUNCATED, rel, WH_NO_OFFSET,
                   "damaged or cut short after %llu bytes (%s): what was read is kept",
                   (unsigned long long)mw, archive_error_string(x->a) ? archive_error_string(x->a) : "?");
            *damaged = true;
            if (n == ARCHIVE_FATAL) x->stop = true;
            break;
        }
        if (!room(x, rel, mw, (size_t)n, c0)) return false;
        if (!put(x, fd, rel, x->buf, (size_t)n)) return false;
        mw += (uint64_t)n;
        x->total += (uint64_t)n;
    }
    return true;
}

/* A hard link (tar) becomes a copy of a member already extracted, never a
 * link: the member it names, opened read-only without following links, or
 * -1 (said). */
static int link_source(ex *x, const char *rel, const char *target)
{
    char t[4096];
    bool lim;
    const char *why = ws_member_path(target, x->o, t, sizeof(t), &lim);
    int src = -1;
    if (!why) {
        char *slash = strrchr(t, '/');
        if (slash) *slash = 0;
        int dfd = ws_mkdirs(x->root, slash ? t : "");
        if (dfd >= 0) {
            src = openat(dfd, slash ? slash + 1 : t, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            close(dfd);
        }
        struct stat st;
        if (src >= 0 && (fstat(src, &st) != 0 || !S_ISREG(st.st_mode))) {
            close(src);
            src = -1;
        }
    }
    if (src < 0)
        ws_say(x->s, WH_SEV_WARN, WH_E_CORRUPT, rel, WH_NO_OFFSET, "hard link to '%s' (%s): not created", target,
               why ? why : "not a file extracted before it");
    return src;
}

static bool copy_link(ex *x, int fd, const char *rel, int src)
{
    uint64_t mw = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = read(src, x->buf, CHUNK);
        if (n <= 0) break;
        if (!room(x, rel, mw, (size_t)n, -1) || !put(x, fd, rel, x->buf, (size_t)n)) {
            ok = false;
            break;
        }
        mw += (uint64_t)n;
        x->total += (uint64_t)n;
    }
    close(src);
    return ok;
}

static void regular(ex *x, struct archive_entry *e, const char *rel)
{
    const wh_source_opts *o = x->o;
    if (archive_entry_is_encrypted(e)) {
        ws_say(x->s, WH_SEV_WARN, WH_E_ARG, rel, WH_NO_OFFSET, "encrypted: not extracted (decrypt the archive first)");
        return;
    }
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 && (uint64_t)archive_entry_size(e) > o->max_member) {
        ws_say(x->s, WH_SEV_WARN, WH_E_LIMIT, rel, WH_NO_OFFSET,
               "declares %lld bytes, over the bound of %llu per member: not extracted (WMIHUNT_ARCHIVE_LIMITS member=)",
               (long long)archive_entry_size(e), (unsigned long long)o->max_member);
        return;
    }
    const char *target = archive_entry_hardlink(e);
    int src = -1;
    if (target && archive_entry_size(e) <= 0 && (src = link_source(x, rel, target)) < 0) return;
    const char *leaf;
    int dfd = parent_of(x, rel, &leaf);
    int fd = dfd < 0 ? -1 : openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (dfd < 0)
            ws_say(x->s, WH_SEV_WARN, WH_E_CORRUPT, rel, WH_NO_OFFSET,
                   "its folder cannot be made (%s: a member of the same name is a file?): not extracted",
                   strerror(errno));
        else
            ws_say(x->s, WH_SEV_WARN, errno == EEXIST ? WH_E_CORRUPT : WH_E_IO, rel, WH_NO_OFFSET,
                   "%s: not extracted",
                   errno == EEXIST ? "a second member of the same name (the first is kept)" : strerror(errno));
        if (src >= 0) close(src);
        return;
    }
    bool damaged = false;
    bool kept = src >= 0 ? copy_link(x, fd, rel, src) : copy_data(x, fd, rel, &damaged);
    if (kept) set_time(fd, e);
    close(fd);
    if (!kept) (void)unlinkat(dfd, leaf, 0); // cut by a bound: nothing half-written is read as evidence
    else x->s->members++;
}

static void member(ex *x, struct archive_entry *e)
{
    const char *raw = archive_entry_pathname_utf8(e);
    if (!raw) raw = archive_entry_pathname(e);
    char rel[4096];
    bool lim = false;
    const char *why = ws_member_path(raw, x->o, rel, sizeof(rel), &lim);
    char shown[1100];
    snprintf(shown, sizeof(shown), "%s", raw ? raw : "(no name)");
    if (why) {
        ws_say(x->s, WH_SEV_WARN, lim ? WH_E_LIMIT : WH_E_CORRUPT, shown, WH_NO_OFFSET,
               "member name refused (%s): not extracted", why);
        return;
    }
    mode_t type = archive_entry_filetype(e);
    if (!*rel) return; // the archive's root folder
    if (type == AE_IFDIR) {
        int fd = ws_mkdirs(x->root, rel);
        if (fd < 0)
            ws_say(x->s, WH_SEV_WARN, WH_E_CORRUPT, rel, WH_NO_OFFSET, "folder cannot be made (%s)", strerror(errno));
        else close(fd);
    } else if (type == AE_IFLNK) {
        const char *t = archive_entry_symlink_utf8(e);
        if (!t) t = archive_entry_symlink(e);
        char tr[4096];
        bool inside = false;
        if (t && t[0] != '/') { // does the target stay in the tree? Said either way; never created.
            char joined[8192];
            const char *slash = strrchr(rel, '/');
            snprintf(joined, sizeof(joined), "%.*s%s%s", slash ? (int)(slash - rel) : 0, rel, slash ? "/" : "", t);
            bool l2;
            inside = ws_member_path(joined, x->o, tr, sizeof(tr), &l2) == NULL;
        }
        ws_say(x->s, inside ? WH_SEV_INFO : WH_SEV_WARN, WH_E_CORRUPT, rel, WH_NO_OFFSET,
               "symbolic link to '%s'%s: not created (links are never followed)", t ? t : "?",
               inside ? "" : ", outside the archive's tree");
    } else if (type == AE_IFREG || type == 0) {
        regular(x, e, rel);
    } else {
        ws_say(x->s, WH_SEV_WARN, WH_E_CORRUPT, rel, WH_NO_OFFSET,
               "a %s, not a file or folder: not created",
               type == AE_IFCHR ? "character device" : type == AE_IFBLK ? "block device"
               : type == AE_IFIFO ? "FIFO" : type == AE_IFSOCK ? "socket" : "special member");
    }
}

wh_status ws_extract(wh_source *s, const wh_source_opts *o, int fd, const void *mem, size_t size)
{
    if (!wh_source_archives_supported()) return WH_E_ARG;
    ex x = {.s = s, .o = o, .pfd = -1};
    x.root = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    x.buf = malloc(CHUNK);
    x.a = archive_read_new();
    if (x.root < 0 || !x.buf || !x.a) {
        ws_say(s, WH_SEV_ERROR, WH_E_NOMEM, NULL, WH_NO_OFFSET, "cannot start extracting (%s)", strerror(errno));
        if (x.root >= 0) close(x.root);
        free(x.buf);
        if (x.a) archive_read_free(x.a);
        return WH_E_NOMEM;
    }
    // The formats collections come in, and the filters of a tar; no
    // external programs (libarchive runs one when a library is missing).
    archive_read_support_format_zip(x.a);
    archive_read_support_format_7zip(x.a);
    archive_read_support_format_tar(x.a);
    archive_read_support_format_gnutar(x.a);
    archive_read_support_filter_none(x.a);
    if (archive_read_support_filter_gzip(x.a) != ARCHIVE_OK || archive_read_support_filter_bzip2(x.a) != ARCHIVE_OK ||
        archive_read_support_filter_xz(x.a) != ARCHIVE_OK || archive_read_support_filter_zstd(x.a) != ARCHIVE_OK)
        ws_say(s, WH_SEV_INFO, WH_OK, NULL, WH_NO_OFFSET, "libarchive lacks a decompressor: %s",
               archive_error_string(x.a) ? archive_error_string(x.a) : "?");
    int r = fd >= 0 ? archive_read_open_fd(x.a, fd, 64 << 10) : archive_read_open_memory(x.a, mem, size);
    wh_status st = WH_OK;
    if (r != ARCHIVE_OK) {
        ws_say(s, WH_SEV_ERROR, WH_E_BADSIG, NULL, WH_NO_OFFSET,
               "not an archive wmihunt reads (zip, 7z, tar, tar.gz/.bz2/.xz/.zst): %s",
               archive_error_string(x.a) ? archive_error_string(x.a) : "?");
        st = WH_E_BADSIG;
    }
    uint64_t seen = 0;
    const char *last = NULL;
    char lastbuf[1100] = "";
    while (st == WH_OK && !x.stop) {
        struct archive_entry *e;
        r = archive_read_next_header(x.a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r == ARCHIVE_RETRY) continue;
        if (r == ARCHIVE_FATAL) {
            const char *why = archive_error_string(x.a) ? archive_error_string(x.a) : "?";
            if (!seen) {
                ws_say(s, WH_SEV_ERROR, WH_E_BADSIG, NULL, WH_NO_OFFSET,
                       "not an archive wmihunt reads (zip, 7z, tar, tar.gz/.bz2/.xz/.zst): %s", why);
                st = WH_E_BADSIG;
            } else {
                ws_say(s, WH_SEV_ERROR, WH_E_TRUNCATED, NULL, (uint64_t)consumed(&x),
                       "damaged or cut short after member %s (%s): the %llu member(s) before are read",
                       last ? last : "?", why, (unsigned long long)seen);
            }
            break;
        }
        if (++seen > o->max_members) {
            const char *nm = archive_entry_pathname_utf8(e) ? archive_entry_pathname_utf8(e) : archive_entry_pathname(e);
            ws_say(s, WH_SEV_WARN, WH_E_LIMIT, nm ? nm : "?", WH_NO_OFFSET,
                   "the bound of %llu members is reached: this member and the rest are not extracted "
                   "(WMIHUNT_ARCHIVE_LIMITS members=)", (unsigned long long)o->max_members);
            break;
        }
        if (r == ARCHIVE_WARN)
            ws_say(s, WH_SEV_INFO, WH_OK, archive_entry_pathname(e), WH_NO_OFFSET, "%s",
                   archive_error_string(x.a) ? archive_error_string(x.a) : "libarchive warning");
        const char *nm = archive_entry_pathname_utf8(e) ? archive_entry_pathname_utf8(e) : archive_entry_pathname(e);
        snprintf(lastbuf, sizeof(lastbuf), "%s", nm ? nm : "?");
        last = lastbuf;
        member(&x, e);
    }
    s->bytes = x.total;
    if (x.pfd >= 0) close(x.pfd);
    close(x.root);
    archive_read_free(x.a);
    free(x.buf);
    if (st == WH_OK)
        ws_say(s, WH_SEV_INFO, WH_OK, NULL, WH_NO_OFFSET, "extracted %llu file(s), %llu bytes, to a private folder",
               (unsigned long long)s->members, (unsigned long long)s->bytes);
    return st;
}

#endif
