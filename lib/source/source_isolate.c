/* A disk image is read in a child process: The Sleuth Kit and the libyal
 * libraries parse hostile partition tables and NTFS in C we cannot fix,
 * and fuzzing found them asking for 4 GB and 48 TB on a 1 MB image. The
 * child runs wmihunt-image (beside the program; WMIHUNT_IMAGE_READER names
 * another), which alone links those libraries, so no other run of wmihunt
 * loads them; where they are linked in (the fuzz target) a fork runs them.
 * In the child they get an address-space bound (WS_CHILD_AS), and a crash
 * or a bound reached ends the child, not wmihunt: what it copied stays
 * and is read, and the parent says what happened. The child sends its
 * diagnostics (as they are said) and its volumes over a pipe; it runs
 * only the reader (no stdio, no locks the parent's threads might hold). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "source/source_int.h"

#ifndef WS_CHILD_AS
#define WS_CHILD_AS (4ull << 30) /* bytes of address space for the reader (a full Windows volume needs < 1 GB) */
#endif
#define FRAME_MAX 65536u
#ifndef WS_CHILD_IDLE
#define WS_CHILD_IDLE 600 /* seconds the reader may go without a word (it says one every 4096 entries) */
#endif

int ws_child_fd = -1; /* in the child: where ws_say sends (ws_child_say) */
wh_status (*ws_image_builtin)(wh_source *, const wh_source_opts *, const char *, const void *, size_t);

/* ---- frames: type, u32 length, payload ---- */

typedef struct buf {
    unsigned char b[FRAME_MAX + 5];
    size_t n;
} buf;

static void put(buf *f, const void *p, size_t n)
{
    if (f->n + n > sizeof(f->b)) n = sizeof(f->b) - f->n;
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put_u64(buf *f, uint64_t v) { put(f, &v, 8); }
static void put_str(buf *f, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 16384) n = 16384;
    put(f, s ? s : "", n);
    put(f, "", 1);
}

static void send(int fd, char type, buf *f)
{
    uint32_t len = (uint32_t)(f->n - 5);
    f->b[0] = (unsigned char)type;
    memcpy(f->b + 1, &len, 4);
    for (size_t off = 0; off < f->n;) {
        ssize_t w = write(fd, f->b + off, f->n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; // the parent is gone: nothing to say to
        off += (size_t)w;
    }
}

void ws_child_say(wh_severity sev, wh_status code, const char *member, uint64_t offset, const char *msg)
{
    buf f = {.n = 5};
    put_u64(&f, (uint64_t)sev);
    put_u64(&f, (uint64_t)code);
    put_u64(&f, offset);
    put_str(&f, member ? member : "");
    put(&f, member ? "\1" : "\0", 1);
    put_str(&f, msg);
    send(ws_child_fd, 'D', &f);
}

/* The child's progress: a heartbeat frame the parent turns into the
 * caller's progress line (no stdio here). */
static void ws_child_progress(void *ud, const char *volume, uint64_t entries, uint64_t files, const char *at)
{
    (void)ud;
    buf f = {.n = 5};
    put_u64(&f, entries);
    put_u64(&f, files);
    put_str(&f, volume);
    put_str(&f, at);
    send(ws_child_fd, 'H', &f);
}

static void send_volume(int fd, const wh_source_volume *v)
{
    buf f = {.n = 5};
    put_u64(&f, v->index);
    put_u64(&f, v->offset);
    put_u64(&f, v->size);
    put_u64(&f, v->snapshot);
    put_u64(&f, v->snapshot_time);
    put_u64(&f, v->files);
    put_u64(&f, v->bytes);
    put_u64(&f, v->read);
    put_str(&f, v->folder);
    put_str(&f, v->table);
    put_str(&f, v->kind);
    put_str(&f, v->snapshot_id ? v->snapshot_id : "");
    send(fd, 'V', &f);
}

/* ---- reading them in the parent ---- */

typedef struct rd {
    const unsigned char *p;
    size_t n, at;
    bool bad;
} rd;

static uint64_t get_u64(rd *r)
{
    uint64_t v = 0;
    if (r->at + 8 > r->n) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p + r->at, 8);
    r->at += 8;
    return v;
}

static const char *get_str(rd *r)
{
    const unsigned char *z = r->at < r->n ? memchr(r->p + r->at, 0, r->n - r->at) : NULL;
    if (!z) {
        r->bad = true;
        return "";
    }
    const char *s = (const char *)r->p + r->at;
    r->at = (size_t)(z - r->p) + 1;
    return s;
}

static bool read_all(int fd, void *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t g = read(fd, (char *)p + off, n - off);
        if (g < 0 && errno == EINTR) continue;
        if (g <= 0) return false;
        off += (size_t)g;
    }
    return true;
}

static void frame(wh_source *s, const wh_source_opts *o, char type, const unsigned char *p, size_t n, wh_status *st,
                  bool *ended)
{
    rd r = {p, n, 0, false};
    if (type == 'H') {
        uint64_t entries = get_u64(&r), files = get_u64(&r);
        const char *vol = get_str(&r), *at = get_str(&r);
        if (!r.bad && o->progress) o->progress(o->progress_ud, vol, entries, files, at);
        return;
    }
    if (type == 'D') {
        wh_severity sev = (wh_severity)get_u64(&r);
        wh_status code = (wh_status)get_u64(&r);
        uint64_t off = get_u64(&r);
        const char *member = get_str(&r);
        bool has = r.at < r.n && r.p[r.at] == 1;
        r.at++;
        const char *msg = get_str(&r);
        if (!r.bad && sev < WH_SEV_COUNT) ws_say(s, sev, code, has ? member : NULL, off, "%s", msg);
    } else if (type == 'V') {
        wh_source_volume v = {0};
        v.index = (unsigned)get_u64(&r);
        v.offset = get_u64(&r);
        v.size = get_u64(&r);
        v.snapshot = (unsigned)get_u64(&r);
        v.snapshot_time = get_u64(&r);
        v.files = get_u64(&r);
        v.bytes = get_u64(&r);
        v.read = get_u64(&r) != 0;
        v.folder = get_str(&r);
        v.table = get_str(&r);
        v.kind = get_str(&r);
        const char *id = get_str(&r);
        v.snapshot_id = *id ? id : NULL;
        if (!r.bad) (void)ws_add_volume(s, &v);
    } else if (type == 'C') {
        s->members = get_u64(&r);
        s->bytes = get_u64(&r);
        s->stop = get_u64(&r) != 0;
        *st = (wh_status)get_u64(&r);
        *ended = !r.bad;
    }
}

/* The folders the child made, when it died before listing its volumes:
 * "volN" and "volN@vssM", with nothing else known. */
static void volumes_from_folders(wh_source *s)
{
    DIR *d = opendir(s->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "vol", 3) != 0) continue;
        const char *at = strstr(e->d_name, "@vss");
        wh_source_volume v = {.folder = e->d_name, .index = (unsigned)atoi(e->d_name + 3), .table = "",
                              .kind = "NTFS (reader died)", .read = true};
        if (at) v.snapshot = (unsigned)atoi(at + 4);
        (void)ws_add_volume(s, &v);
    }
    if (d) closedir(d);
}

static void child_limits(void)
{
    // The parent's cleanup handlers must not run here: a crash removes
    // nothing, the parent reads what was copied.
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], SIG_DFL);
    signal(SIGINT, SIG_IGN); // Ctrl-C reaches the parent, which ends us by closing the pipe
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WS_NO_AS_LIMIT
#endif
#endif
#ifndef WS_NO_AS_LIMIT // a sanitizer reserves terabytes of address space
    struct rlimit rl = {WS_CHILD_AS, WS_CHILD_AS};
    (void)setrlimit(RLIMIT_AS, &rl);
#endif
#endif
}

void ws_child_run(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size)
{
    wh_source_opts co = *o;
    co.progress = ws_child_progress; // no stdio in the child (a parent's thread may hold its lock): the parent says it
    wh_status st = ws_image_builtin ? ws_image_builtin(s, &co, path, mem, size) : WH_E_ARG;
    // Test only (tests/cli/test_image.py): the reader dies after copying,
    // as it would on a crash in the libraries, to check what follows.
    const char *t = getenv("WMIHUNT_TEST_READER_CRASH");
    if (t && !strcmp(t, "after-copy")) { // the default action, as a crash has where no sanitizer watches
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (t && !strcmp(t, "hang")) pause(); // the idle bound (WMIHUNT_ARCHIVE_LIMITS idle=N)
    for (size_t i = 0; i < s->nvols; i++) send_volume(ws_child_fd, &s->vols[i]);
    buf f = {.n = 5};
    put_u64(&f, s->members);
    put_u64(&f, s->bytes);
    put_u64(&f, s->stop);
    put_u64(&f, (uint64_t)st);
    send(ws_child_fd, 'C', &f);
}

/* wmihunt-image's path: WMIHUNT_IMAGE_READER, else beside this program.
 * Empty when there is none. */
static void reader_path(char *out, size_t n)
{
    out[0] = 0;
    const char *env = getenv("WMIHUNT_IMAGE_READER");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (k <= 0) return;
    self[k] = 0;
    char *slash = strrchr(self, '/');
    if (!slash) return;
    *slash = 0;
    snprintf(out, n, "%s/wmihunt-image", self);
    if (access(out, X_OK) != 0) out[0] = 0;
}

bool wh_source_images_supported(void)
{
    if (ws_image_builtin) return true;
    char p[4200];
    reader_path(p, sizeof(p));
    return p[0] != 0;
}

wh_status ws_image_isolated(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size)
{
    if (o->in_process && ws_image_builtin) return ws_image_builtin(s, o, path, mem, size);
    // Everything the child needs is made here: after fork it only execs.
    char reader[4200], num[7][24];
    reader_path(reader, sizeof(reader));
    if (!reader[0] || !path) {
        if (!ws_image_builtin) {
            ws_say(s, WH_SEV_ERROR, WH_E_ARG, NULL, WH_NO_OFFSET,
                   "the disk-image reader (wmihunt-image) is not beside this wmihunt: install it there or name it "
                   "in WMIHUNT_IMAGE_READER");
            return WH_E_ARG;
        }
        reader[0] = 0; // a fork runs the linked-in reader
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        ws_say(s, WH_SEV_ERROR, WH_E_IO, NULL, WH_NO_OFFSET, "no pipe to the disk-image reader: %s", strerror(errno));
        return WH_E_IO;
    }
    snprintf(num[0], sizeof(num[0]), "%d", fds[1]);
    snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)o->max_members);
    snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)o->max_total);
    snprintf(num[3], sizeof(num[3]), "%llu", (unsigned long long)o->max_member);
    snprintf(num[4], sizeof(num[4]), "%u", o->max_depth);
    snprintf(num[5], sizeof(num[5]), "%u", o->max_path);
    snprintf(num[6], sizeof(num[6]), "%d", o->vss ? 1 : 0);
    // The files wanted: the triage's list (the hunt's, named) or every file.
    char *const argv[] = {reader, "--child", num[0], s->dir, (char *)(path ? path : ""), num[1], num[2], num[3],
                          num[4], num[5], num[6], o->want ? "triage" : "all", NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        ws_say(s, WH_SEV_ERROR, WH_E_IO, NULL, WH_NO_OFFSET, "cannot start the disk-image reader: %s", strerror(errno));
        return WH_E_IO;
    }
    if (pid == 0) {
        close(fds[0]);
        child_limits();
        ws_child_fd = fds[1];
        if (reader[0]) {
            (void)fcntl(fds[1], F_SETFD, 0); // the pipe crosses exec
            execv(reader, argv);
            ws_child_say(WH_SEV_ERROR, WH_E_IO, NULL, WH_NO_OFFSET, "the disk-image reader could not be started");
            _exit(127);
        }
        ws_child_run(s, o, path, mem, size);
        _exit(0);
    }
    close(fds[1]);
    wh_status st = WH_E_CORRUPT;
    bool ended = false, idle = false;
    unsigned char *p = malloc(FRAME_MAX);
    for (;;) {
        // A reader stuck in a library (a loop a forged file system makes)
        // says nothing: after WS_CHILD_IDLE seconds it is stopped.
        struct pollfd pf = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pf, 1, (int)(o->max_idle ? o->max_idle : WS_CHILD_IDLE) * 1000);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) {
            idle = true;
            kill(pid, SIGKILL);
            break;
        }
        unsigned char h[5];
        if (!p || !read_all(fds[0], h, 5)) break;
        uint32_t len;
        memcpy(&len, h + 1, 4);
        if (len > FRAME_MAX || !read_all(fds[0], p, len)) break;
        frame(s, o, (char)h[0], p, len, &st, &ended);
    }
    free(p);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (idle) {
        volumes_from_folders(s);
        ws_say(s, WH_SEV_ERROR, WH_E_LIMIT, NULL, WH_NO_OFFSET,
               "the disk-image reader made no progress for %d s (a loop in a damaged or forged file system?): "
               "stopped; what it copied is read (WMIHUNT_ARCHIVE_LIMITS idle=)", o->max_idle ? o->max_idle : WS_CHILD_IDLE);
        return s->nvols ? WH_OK : WH_E_CORRUPT;
    }
    if (!ended) {
        volumes_from_folders(s);
        if (WIFSIGNALED(status))
            ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, WH_NO_OFFSET,
                   "the disk-image reader (The Sleuth Kit) died on this image (signal %d%s) after copying %s: what it "
                   "copied is read, the rest of the image is not; a damaged or forged file system?",
                   WTERMSIG(status), WTERMSIG(status) == SIGSEGV ? ": a crash" : "",
                   s->nvols ? "some files" : "nothing");
        else
            ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, WH_NO_OFFSET,
                   "the disk-image reader ended early (exit %d; out of its %llu MiB of memory?): what it copied is "
                   "read, the rest of the image is not", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                   (unsigned long long)(WS_CHILD_AS >> 20));
        return s->nvols ? WH_OK : WH_E_CORRUPT;
    }
    return st;
}
