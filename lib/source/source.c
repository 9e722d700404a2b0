/* Evidence sources (include/wmihunt/source.h): open and close, the private
 * folder and its removal on every way out, names shown as ARCHIVE!member. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <io.h>
#else
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "core/arena.h"
#include "core/port.h"
#include "core/limits.h"
#include "source/source_int.h"

/* ---- the process-wide list; changed with the cleanup signals blocked ---- */

static wh_source *volatile g_head;
/* wh_source_record's copies: one arena per thread (a hunt's workers each
 * name their records), freed by wh_source_thread_done or at exit. */
static _Thread_local wh_arena *g_scratch;
/* The list is read and changed from a hunt's worker threads: every walk
 * and change holds this lock (recursive: public functions call each
 * other). The signal handler walks it without (async-signal-safe). */
#ifdef _WIN32
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER;
#else
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
#endif
/* A quick "is any source open", without the lock. */
static bool any_open(void) { return __atomic_load_n(&g_head, __ATOMIC_ACQUIRE) != NULL; }
#ifdef _WIN32
/* The Windows build reads folders and files only (no libarchive or The
 * Sleuth Kit there, open_copy refuses first): no private folder is ever
 * made, so there is nothing to remove on a signal. */
typedef int sigset_t;
static void block(sigset_t *old) { *old = 0; }
static void unblock(const sigset_t *old) { (void)old; }
static wh_status make_private(wh_source *s)
{
    ws_say(s, WH_SEV_ERROR, WH_E_ARG, NULL, WH_NO_OFFSET, "no private folder in this build");
    return WH_E_ARG;
}
static bool rm_at(int pfd, const char *name, int depth)
{
    (void)pfd, (void)name, (void)depth;
    return true;
}
#define AT_FDCWD 0
#else
static bool g_installed;
/* Blocked while the list changes (they arrive from outside). */
static const int CLEAN_SIGS[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
#define NSIGS (sizeof(CLEAN_SIGS) / sizeof(CLEAN_SIGS[0]))
/* A crash (abort, a sanitizer's report) also removes the folders; these
 * are never blocked (blocking a synchronous signal is undefined). */
static const int CRASH_SIGS[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NCRASH (sizeof(CRASH_SIGS) / sizeof(CRASH_SIGS[0]))

static void block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NSIGS; i++) sigaddset(&set, CLEAN_SIGS[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void unblock(const sigset_t *old) { sigprocmask(SIG_SETMASK, old, NULL); }

/* ---- removal with async-signal-safe calls only (no malloc, no stdio) ---- */

struct ws_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static bool dot(const char *n) { return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)); }

/* Removes pfd/name and everything under it; symbolic links are removed,
 * never followed (O_NOFOLLOW). Depth is bounded: our trees are at most
 * WH_LIMIT_ARCHIVE_DEPTH (or the option) deep. */
static bool rm_at(int pfd, const char *name, int depth)
{
    int fd = depth < 300 ? openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (fd < 0) return unlinkat(pfd, name, 0) == 0 || errno == ENOENT;
    _Alignas(8) char buf[2048];
    for (int pass = 0; pass < 1000; pass++) { // entries removed while listing: list again until none is left
        unsigned long removed = 0, seen = 0;
        if (lseek(fd, 0, SEEK_SET) < 0) break;
        for (;;) {
            long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                struct ws_dirent64 *d = (struct ws_dirent64 *)(void *)(buf + off);
                off += d->d_reclen;
                if (!d->d_reclen) break;
                if (dot(d->d_name)) continue;
                seen++;
                bool ok = d->d_type == 4 /* DT_DIR */ ? rm_at(fd, d->d_name, depth + 1)
                                                      : unlinkat(fd, d->d_name, 0) == 0;
                if (!ok && d->d_type != 4 && errno == EISDIR) ok = rm_at(fd, d->d_name, depth + 1);
                if (ok) removed++;
            }
        }
        if (!seen || !removed) break;
    }
    close(fd);
    return unlinkat(pfd, name, AT_REMOVEDIR) == 0;
}

static void on_signal(int sig)
{
    int saved = errno;
    for (wh_source *s = g_head; s; s = s->next)
        if (s->extracted && s->dir) (void)rm_at(AT_FDCWD, s->dir, 0);
    errno = saved;
    signal(sig, SIG_DFL); // SA_RESETHAND did it already; the default action ends the process
    raise(sig);
}

static void install_once(void)
{
    if (g_installed) return;
    g_installed = true;
    atexit(wh_source_close_all);
    // Only where the program left the default action: a handler of its own stays.
    for (size_t i = 0; i < NSIGS + NCRASH; i++) {
        int sig = i < NSIGS ? CLEAN_SIGS[i] : CRASH_SIGS[i - NSIGS];
        struct sigaction cur;
        if (sigaction(sig, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigfillset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        (void)sigaction(sig, &sa, NULL);
    }
}
#endif

/* ---- diagnostics ---- */

void ws_say(wh_source *s, wh_severity sev, wh_status code, const char *member, uint64_t offset, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
#ifndef _WIN32 // no child process there (source_isolate.c is not built)
    if (ws_child_fd >= 0) { // a disk image's reader, in its child: the parent says it
        ws_child_say(sev, code, member, offset, msg);
        return;
    }
#endif
    size_t n = strlen(s->given) + (member ? strlen(member) + 2 : 1);
    char *src = malloc(n);
    if (src) snprintf(src, n, member ? "%s!%s" : "%s", s->given, member ? member : "");
    if (s->sink) wh_diagf(s->sink, sev, code, src ? src : s->given, offset, "%s", msg);
    wh_diag d = {sev, code, src, offset, msg}; // src NULL (no memory): replayed under the archive's name
    wh_diag_keep_add(&s->kept, &d);
    free(src);
}

void wh_source_replay(wh_source *s, wh_diag_sink *sink)
{
    if (!s || s->replayed) return;
    s->replayed = true; // NULL: only marks them said
    if (!sink) return;
    wh_diag_keep_replay(&s->kept, sink, s->given, "while extracting");
}

/* ---- bounds ---- */

static uint64_t size_val(const char *s, const char **end)
{
    char *e;
    unsigned long long v = strtoull(s, &e, 10);
    uint64_t mul = 1;
    if (*e == 'K' || *e == 'k') mul = 1ull << 10, e++;
    else if (*e == 'M' || *e == 'm') mul = 1ull << 20, e++;
    else if (*e == 'G' || *e == 'g') mul = 1ull << 30, e++;
    *end = e;
    return v > UINT64_MAX / mul ? UINT64_MAX : (uint64_t)v * mul;
}

static wh_source_opts g_defaults; /* wh_source_defaults */

void wh_source_defaults(const wh_source_opts *o)
{
    memset(&g_defaults, 0, sizeof(g_defaults));
    if (o && o->size >= sizeof(*o)) g_defaults = *o;
}

void ws_opts(const wh_source_opts *o, wh_source_opts *out)
{
    if (!o && g_defaults.size) o = &g_defaults;
    wh_source_opts d = {.size = sizeof(d),
                        .max_members = WH_LIMIT_ARCHIVE_MEMBERS,
                        .max_total = WH_LIMIT_ARCHIVE_TOTAL,
                        .max_member = WH_LIMIT_ARCHIVE_MEMBER,
                        .max_ratio = WH_LIMIT_ARCHIVE_RATIO,
                        .ratio_min = WH_LIMIT_ARCHIVE_RATIO_MIN,
                        .max_depth = WH_LIMIT_ARCHIVE_DEPTH,
                        .max_path = WH_LIMIT_ARCHIVE_PATH};
    const char *env = getenv("WMIHUNT_ARCHIVE_LIMITS");
    for (const char *p = env; p && *p;) {
        static const char *const keys[] = {"members=", "total=", "member=", "ratio=", "ratio_min=", "depth=", "path=",
                                           "idle="};
        size_t k = 0;
        while (k < 8 && strncmp(p, keys[k], strlen(keys[k])) != 0) k++;
        if (k < 8) {
            const char *e;
            uint64_t v = size_val(p + strlen(keys[k]), &e);
            if (v) {
                if (k == 0) d.max_members = v;
                else if (k == 1) d.max_total = v;
                else if (k == 2) d.max_member = v;
                else if (k == 3) d.max_ratio = v;
                else if (k == 4) d.ratio_min = v;
                else if (k == 5) d.max_depth = v > 1024 ? 1024 : (unsigned)v;
                else if (k == 6) d.max_path = v > 3000 ? 3000 : (unsigned)v;
                else d.max_idle = v > 86400 ? 86400 : (unsigned)v;
            }
            p = e;
        }
        while (*p && *p != ',') p++;
        if (*p == ',') p++;
    }
    if (o && o->size >= sizeof(*o)) {
        if (o->max_members) d.max_members = o->max_members;
        if (o->max_total) d.max_total = o->max_total;
        if (o->max_member) d.max_member = o->max_member;
        if (o->max_ratio) d.max_ratio = o->max_ratio;
        if (o->ratio_min) d.ratio_min = o->ratio_min;
        if (o->max_depth) d.max_depth = o->max_depth;
        if (o->max_path) d.max_path = o->max_path;
        if (d.max_depth > 1024) d.max_depth = 1024; // the image walk keeps a name per level (source_ntfs.c)
        d.want = o->want;
        d.want_ud = o->want_ud;
        d.vss = o->vss;
        d.progress = o->progress;
        d.progress_ud = o->progress_ud;
        d.in_process = o->in_process;
        if (o->max_idle) d.max_idle = o->max_idle;
    }
    *out = d;
}

/* ---- what a path is ---- */

/* The first n bytes of a regular file (and its last 512 into tail when
 * given): how many were read, -1 when path is no regular file. */
static long head_of(const char *path, unsigned char *b, size_t n, unsigned char *tail, bool *got_tail)
{
    wh_fstat st;
    if (!path || wh_stat(path, true, &st) != 0 || st.type != WH_FT_REG) return -1;
    int fd = wh_open_ro(path); // the evidence is only read (and its access time kept)
    if (fd < 0) return -1;
    long got = wh_pread(fd, b, n, 0);
    if (tail) *got_tail = st.size >= 512 && wh_pread(fd, tail, 512, st.size - 512) == 512;
    wh_close(fd);
    return got;
}

bool wh_source_is_archive(const char *path)
{
    unsigned char b[512];
    long n = head_of(path, b, sizeof(b), NULL, NULL);
    if (n < 4) return false;
    if (b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) || (b[2] == 7 && b[3] == 8)))
        return true;                                                       // zip
    if (n >= 6 && !memcmp(b, "7z\xBC\xAF\x27\x1C", 6)) return true;        // 7z
    if (b[0] == 0x1F && b[1] == 0x8B) return true;                         // gzip
    if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;            // bzip2
    if (n >= 6 && !memcmp(b, "\xFD" "7zXZ", 5) && b[5] == 0) return true;  // xz
    if (!memcmp(b, "\x28\xB5\x2F\xFD", 4)) return true;                    // zstd
    return n >= 262 && !memcmp(b + 257, "ustar", 5);                       // tar
}

bool wh_source_is_image(const char *path)
{
    unsigned char b[1024], t[512];
    bool tail = false; // a fixed VHD's footer
    long n = head_of(path, b, sizeof(b), t, &tail);
    return n >= 512 && ws_image_magic(b, (size_t)n, tail ? t : NULL);
}

/* ---- open and close ---- */

static wh_source *new_source(const char *given)
{
    wh_source *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->kept.max = WS_KEPT_DIAGS;
    s->given = strdup(given ? given : "-");
    if (!s->given) {
        free(s);
        return NULL;
    }
    return s;
}

static void free_source(wh_source *s)
{
    for (size_t i = 0; i < s->nvols; i++) {
        free((char *)s->vols[i].folder);
        free((char *)s->vols[i].table);
        free((char *)s->vols[i].kind);
        free((char *)s->vols[i].snapshot_id);
    }
    free(s->vols);
    wh_diag_keep_free(&s->kept);
    if (s->dir != s->given) free(s->dir);
    free(s->given);
    free(s);
}

#ifndef _WIN32
/* The private folder: mkdtemp under $TMPDIR (when it is an absolute
 * folder) or /tmp, mode 0700, named by its absolute path so that removal
 * does not depend on the working folder. */
static wh_status make_private(wh_source *s)
{
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || base[0] != '/' || stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) base = "/tmp";
    char real[PATH_MAX];
    if (!realpath(base, real)) {
        ws_say(s, WH_SEV_ERROR, WH_E_IO, NULL, WH_NO_OFFSET, "no temporary folder to extract into (%s: %s)", base,
               strerror(errno));
        return WH_E_IO;
    }
    size_t n = strlen(real) + sizeof("/wmihunt-XXXXXX");
    if (n > 1024) {
        ws_say(s, WH_SEV_ERROR, WH_E_LIMIT, NULL, WH_NO_OFFSET, "the temporary folder's path is too long: set TMPDIR");
        return WH_E_LIMIT;
    }
    char *dir = malloc(n);
    if (!dir) return WH_E_NOMEM;
    size_t rl = strcmp(real, "/") ? strlen(real) : 0;
    memcpy(dir, real, rl);
    memcpy(dir + rl, "/wmihunt-XXXXXX", sizeof("/wmihunt-XXXXXX"));
    sigset_t old;
    block(&old); // registered before it exists: a signal in between finds nothing to remove
    pthread_mutex_lock(&g_lock);
    install_once();
    pthread_mutex_unlock(&g_lock);
    if (!mkdtemp(dir)) {
        unblock(&old);
        ws_say(s, WH_SEV_ERROR, WH_E_IO, NULL, WH_NO_OFFSET, "cannot make a private folder in %s: %s", real,
               strerror(errno));
        free(dir);
        return WH_E_IO;
    }
    s->dir = dir;
    s->dirlen = strlen(dir);
    s->extracted = true;
    pthread_mutex_lock(&g_lock);
    s->next = g_head;
    __atomic_store_n(&g_head, s, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&g_lock);
    unblock(&old);
    return WH_OK;
}
#endif

wh_source_volume *ws_add_volume(wh_source *s, const wh_source_volume *v)
{
    wh_source_volume *nv = realloc(s->vols, (s->nvols + 1) * sizeof(*nv));
    if (!nv) return NULL;
    s->vols = nv;
    wh_source_volume *d = &nv[s->nvols];
    *d = *v;
    d->folder = strdup(v->folder ? v->folder : "");
    d->table = strdup(v->table ? v->table : "");
    d->kind = strdup(v->kind ? v->kind : "other");
    d->snapshot_id = v->snapshot_id ? strdup(v->snapshot_id) : NULL;
    if (!d->folder || !d->table || !d->kind || (v->snapshot_id && !d->snapshot_id)) {
        free((char *)d->folder), free((char *)d->table), free((char *)d->kind), free((char *)d->snapshot_id);
        return NULL;
    }
    s->nvols++;
    return d;
}

/* An archive (fd >= 0 or mem) or a disk image (disk: path or mem), copied
 * into a private folder; s is closed when nothing could be read. */
static wh_status open_copy(wh_source *s, const wh_source_opts *o, bool disk, const char *path, int fd,
                           const void *mem, size_t size, wh_diag_sink *diags, wh_source **out)
{
    s->sink = diags;
    s->disk = disk;
    wh_source_opts lim;
    ws_opts(o, &lim);
    wh_status st = WH_E_ARG;
    if (!(disk ? wh_source_images_supported() : wh_source_archives_supported()))
        ws_say(s, WH_SEV_ERROR, WH_E_ARG, NULL, WH_NO_OFFSET, "%s",
               disk ? "a disk image, but this wmihunt has no disk-image reader (wmihunt-image, built with The Sleuth "
                      "Kit, beside it): mount it read-only and give the Windows volume's folder"
                    : "an archive, but this wmihunt cannot read archives (built without libarchive, or its library is "
                      "not installed: apt-get install libarchive13): extract it and give the folder");
    else if ((st = make_private(s)) == WH_OK)
        st = !disk ? ws_extract(s, &lim, fd, mem, size) : ws_image_isolated(s, &lim, path, mem, size);
    s->sink = NULL;
    if (st != WH_OK) {
        wh_source_close(s);
        return st;
    }
    *out = s;
    return WH_OK;
}

wh_status wh_source_open(const char *path, const wh_source_opts *o, wh_diag_sink *diags, wh_source **out)
{
    if (!path || !out) return WH_E_ARG;
    *out = NULL;
    wh_source *s = new_source(path);
    if (!s) return WH_E_NOMEM;
    if (wh_source_is_image(path)) return open_copy(s, o, true, path, -1, NULL, 0, diags, out);
    if (!wh_source_is_archive(path)) { // a folder or a file: read as it is
        s->dir = s->given;
        s->dirlen = strlen(s->dir);
        *out = s;
        return WH_OK;
    }
    int fd = wh_open_ro(path); // the evidence is only read
    if (fd < 0) {
        s->sink = diags;
        ws_say(s, WH_SEV_ERROR, WH_E_IO, NULL, WH_NO_OFFSET, "cannot be opened: %s", strerror(errno));
        free_source(s);
        return WH_E_IO;
    }
    wh_status st = open_copy(s, o, false, path, fd, NULL, 0, diags, out);
    close(fd);
    return st;
}

wh_status wh_source_open_memory(const void *data, size_t size, const char *name, const wh_source_opts *o,
                                wh_diag_sink *diags, wh_source **out)
{
    if (!out || (!data && size)) return WH_E_ARG;
    *out = NULL;
    wh_source *s = new_source(name ? name : "-");
    if (!s) return WH_E_NOMEM;
    if (size >= 512 && ws_image_magic(data, size > 1024 ? 1024 : size, (const unsigned char *)data + size - 512))
        return open_copy(s, o, true, NULL, -1, data, size, diags, out);
    return open_copy(s, o, false, NULL, -1, data ? data : "", size, diags, out);
}

void wh_source_close(wh_source *s)
{
    if (!s) return;
    if (s->extracted) {
        sigset_t old;
        block(&old); // off the list and gone before a signal can look
        pthread_mutex_lock(&g_lock);
        for (wh_source *volatile *p = &g_head; *p; p = &(*p)->next)
            if (*p == s) {
                __atomic_store_n(p, s->next, __ATOMIC_RELEASE);
                break;
            }
        pthread_mutex_unlock(&g_lock);
        (void)rm_at(AT_FDCWD, s->dir, 0);
        unblock(&old);
    }
    free_source(s);
}

void wh_source_close_all(void)
{
    for (;;) {
        pthread_mutex_lock(&g_lock);
        wh_source *s = g_head;
        pthread_mutex_unlock(&g_lock);
        if (!s) break;
        wh_source_close(s);
    }
    wh_source_thread_done();
}

void wh_source_thread_done(void)
{
    wh_arena_free(g_scratch);
    g_scratch = NULL;
}

const char *wh_source_dir(const wh_source *s) { return s ? s->dir : NULL; }
const char *wh_source_name(const wh_source *s) { return s ? s->given : NULL; }
bool wh_source_extracted(const wh_source *s) { return s && s->extracted; }
bool wh_source_is_disk(const wh_source *s) { return s && s->disk; }

const wh_source_volume *wh_source_volumes(const wh_source *s, size_t *n)
{
    *n = s ? s->nvols : 0;
    return s ? s->vols : NULL;
}

void wh_source_stats(const wh_source *s, uint64_t *members, uint64_t *bytes)
{
    if (members) *members = s ? s->members : 0;
    if (bytes) *bytes = s ? s->bytes : 0;
}

/* ---- names ---- */

static const char *shown_any(const char *str);

static bool under(const wh_source *s, const char *path)
{
    return s->extracted && !strncmp(path, s->dir, s->dirlen) && (path[s->dirlen] == 0 || path[s->dirlen] == '/');
}

wh_source *wh_source_find(const char *path)
{
    wh_source *found = NULL;
    pthread_mutex_lock(&g_lock);
    for (wh_source *s = path ? g_head : NULL; s && !found; s = s->next)
        if (under(s, path)) found = s;
    pthread_mutex_unlock(&g_lock);
    return found;
}

const char *wh_source_volume_text(const wh_source_volume *v, char *buf, size_t n)
{
    char where[96], when[32] = "?";
    if (v->index)
        snprintf(where, sizeof(where), "%s partition %u at byte %llu", v->table, v->index, (unsigned long long)v->offset);
    else
        snprintf(where, sizeof(where), "the whole image");
    if (v->snapshot) {
        (void)wh_filetime_iso(v->snapshot_time, when);
        snprintf(buf, n, "%s: shadow copy %u {%s} taken %s, of %s: %llu file(s) copied", v->folder, v->snapshot,
                 v->snapshot_id ? v->snapshot_id : "?", when, where, (unsigned long long)v->files);
    } else {
        snprintf(buf, n, "%s: %s, %s (%llu MiB)%s%llu file(s) copied", v->folder, v->kind, where,
                 (unsigned long long)(v->size >> 20), v->read ? ", " : ", not read, ", (unsigned long long)v->files);
    }
    return buf;
}

const wh_source_volume *wh_source_volume_of(const char *path)
{
    wh_source *s = wh_source_find(path);
    if (!s || !s->disk || path[s->dirlen] != '/') return NULL;
    const char *rel = path + s->dirlen + 1;
    size_t n = strcspn(rel, "/");
    for (size_t i = 0; i < s->nvols; i++)
        if (strlen(s->vols[i].folder) == n && !strncmp(s->vols[i].folder, rel, n)) return &s->vols[i];
    return NULL;
}

wh_source *wh_source_find_given(const char *given)
{
    wh_source *found = NULL;
    pthread_mutex_lock(&g_lock);
    for (wh_source *s = given ? g_head : NULL; s && !found; s = s->next)
        if (!strcmp(s->given, given)) found = s;
    pthread_mutex_unlock(&g_lock);
    return found;
}

const char *wh_source_shown(const char *path, char *buf, size_t n)
{
    if (!path || !any_open() || !n) return path;
    wh_source *s = wh_source_find(path);
    if (!s) return path;
    const char *rest = path + s->dirlen;
    while (*rest == '/') rest++;
    snprintf(buf, n, *rest ? "%s!%s" : "%s", s->given, rest);
    return buf;
}

void wh_source_diag(wh_diag_sink *to, const wh_diag *d)
{
    if (!to || !d) return;
    if (d->sev < WH_SEV_COUNT) to->count[d->sev]++;
    if (!to->fn) return;
    char buf[WH_SOURCE_SHOWN_MAX];
    wh_diag m = *d;
    m.source = wh_source_shown(d->source, buf, sizeof(buf));
    const char *msg = any_open() && d->msg ? shown_any(d->msg) : NULL; // a path named in the message
    if (msg) m.msg = msg;
    to->fn(to->ud, &m);
}

/* ---- records: strings naming a private path, shown ---- */

/* The first place in str where an open source's private folder is named
 * (followed by '/' or the end of a path), and that source. */
static const char *find_dir(const char *str, wh_source **which)
{
    const char *best = NULL;
    pthread_mutex_lock(&g_lock);
    for (wh_source *s = g_head; s; s = s->next) {
        if (!s->extracted) continue;
        for (const char *p = strstr(str, s->dir); p; p = strstr(p + 1, s->dir)) {
            char c = p[s->dirlen];
            if (c == '/' || c == 0 || c == ':' || c == ' ' || c == '"' || c == '\'' || c == ')' || c == ',') {
                if (!best || p < best) {
                    best = p;
                    *which = s;
                }
                break;
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
    return best;
}

/* str with every private folder named as its archive (a copy in the
 * scratch arena), or NULL when it names none. */
static const char *shown_any(const char *str)
{
    wh_source *s = NULL;
    const char *p = str ? find_dir(str, &s) : NULL;
    if (!p) return NULL;
    if (!g_scratch && !(g_scratch = wh_arena_new(0))) return NULL;
    size_t n = 0;
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) { // pass 0 counts, pass 1 writes
        const char *q = str;
        n = 0;
        for (;;) {
            wh_source *w = NULL;
            const char *at = find_dir(q, &w);
            size_t lit = at ? (size_t)(at - q) : strlen(q);
            if (out) memcpy(out + n, q, lit);
            n += lit;
            if (!at) break;
            const char *after = at + w->dirlen;
            size_t gl = strlen(w->given);
            if (out) memcpy(out + n, w->given, gl);
            n += gl;
            if (*after == '/') {
                while (*after == '/') after++;
                if (out) out[n] = '!';
                n++;
            }
            q = after;
        }
        if (!out && !(out = wh_arena_alloc(g_scratch, n + 1))) return NULL;
    }
    out[n] = 0;
    return out;
}

static bool str_in(const wh_value *v)
{
    wh_source *w;
    return v->type == WH_V_STR && v->as.str.s && any_open() && find_dir(v->as.str.s, &w);
}

static bool value_needs(const wh_value *v)
{
    if (str_in(v)) return true;
    if (v->type == WH_V_ARRAY)
        for (size_t i = 0; i < v->as.arr.n; i++)
            if (str_in(&v->as.arr.items[i])) return true;
    if (v->type == WH_V_OBJECT)
        for (size_t i = 0; i < v->as.obj.n; i++)
            if (str_in(&v->as.obj.fields[i].v)) return true;
    return false;
}

static wh_value shown_str(const wh_value *v)
{
    if (!str_in(v)) return *v;
    const char *t = shown_any(v->as.str.s);
    if (!t) return *v;
    wh_value r = *v;
    r.as.str.s = t;
    r.as.str.len = strlen(t);
    return r;
}

static wh_value shown_value(const wh_value *v)
{
    if (!value_needs(v)) return *v;
    if (v->type == WH_V_STR) return shown_str(v);
    wh_value r = *v;
    if (v->type == WH_V_ARRAY) {
        wh_value *items = wh_arena_calloc(g_scratch, v->as.arr.n, sizeof(*items));
        if (!items) return *v;
        for (size_t i = 0; i < v->as.arr.n; i++) items[i] = shown_str(&v->as.arr.items[i]);
        r.as.arr.items = items;
    } else {
        wh_field *f = wh_arena_calloc(g_scratch, v->as.obj.n, sizeof(*f));
        if (!f) return *v;
        for (size_t i = 0; i < v->as.obj.n; i++) {
            f[i].name = v->as.obj.fields[i].name;
            f[i].v = shown_str(&v->as.obj.fields[i].v);
        }
        r.as.obj.fields = f;
    }
    return r;
}

const wh_record *wh_source_record(const wh_record *r)
{
    if (!r || !any_open()) return r;
    wh_source *w;
    bool need = (r->source && find_dir(r->source, &w)) || (r->summary && find_dir(r->summary, &w));
    for (size_t i = 0; !need && i < r->nfields; i++) need = value_needs(&r->fields[i].v);
    if (!need) return r;
    if (!g_scratch && !(g_scratch = wh_arena_new(0))) return r;
    wh_arena_reset(g_scratch);
    wh_record *c = wh_arena_calloc(g_scratch, 1, sizeof(*c));
    wh_field *f = wh_arena_calloc(g_scratch, r->nfields ? r->nfields : 1, sizeof(*f));
    if (!c || !f) return r;
    *c = *r;
    const char *t;
    if (r->source && (t = shown_any(r->source))) c->source = t;
    if (r->summary && (t = shown_any(r->summary))) c->summary = t;
    for (size_t i = 0; i < r->nfields; i++) {
        f[i].name = r->fields[i].name;
        f[i].v = shown_value(&r->fields[i].v);
    }
    c->fields = f;
    return c;
}
