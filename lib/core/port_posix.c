/* lib/core/port.h on POSIX: thin wrappers; folders through openat and
 * fstatat(AT_SYMLINK_NOFOLLOW), so a swapped link is never followed. */
#define _GNU_SOURCE
#include "core/port.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct wh_dir {
    DIR *d;
    int fd;
};

int wh_open_ro(const char *path)
{
    // O_NOATIME keeps access times as they were; the kernel allows it only
    // to the owner (or CAP_FOWNER), so fall back without it.
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    return fd;
}

long wh_pread(int fd, void *buf, size_t n, uint64_t off) { return (long)pread(fd, buf, n, (off_t)off); }
void wh_close(int fd) { (void)close(fd); }

FILE *wh_fopen(const char *path, const char *mode) { return fopen(path, mode); }

static void fill(const struct stat *s, wh_fstat *st)
{
    memset(st, 0, sizeof(*st));
    st->type = S_ISREG(s->st_mode) ? WH_FT_REG : S_ISDIR(s->st_mode) ? WH_FT_DIR : S_ISLNK(s->st_mode) ? WH_FT_LINK : WH_FT_OTHER;
    st->size = s->st_size > 0 ? (uint64_t)s->st_size : 0;
    st->mtime_s = s->st_mtim.tv_sec;
    st->mtime_ns = (uint32_t)s->st_mtim.tv_nsec;
    st->ctime_s = s->st_ctim.tv_sec;
    st->ctime_ns = (uint32_t)s->st_ctim.tv_nsec;
    st->atime_s = s->st_atim.tv_sec;
    st->atime_ns = (uint32_t)s->st_atim.tv_nsec;
    st->dev = (uint64_t)s->st_dev;
    st->ino = (uint64_t)s->st_ino;
}

int wh_stat(const char *path, bool follow, wh_fstat *st)
{
    struct stat s;
    if ((follow ? stat(path, &s) : lstat(path, &s)) != 0) return -1;
    fill(&s, st);
    return 0;
}

int wh_mkdir(const char *path) { return mkdir(path, 0700); }

int wh_map_ro(const char *path, const uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd = wh_open_ro(path); // O_NOATIME: reading the evidence leaves its access time
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        *data = p;
        *size = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

void wh_unmap(const uint8_t *data, size_t size)
{
    if (data) munmap((void *)data, size);
}

void wh_drop_pages(const void *p, size_t n) { (void)madvise((void *)p, n, MADV_DONTNEED); }

void wh_prefault_pages(const void *p, size_t n)
{
#ifdef MADV_POPULATE_READ
    // madvise wants a page-aligned start.
    uintptr_t a = (uintptr_t)p, pg = 4096, al = a & ~(pg - 1);
    (void)madvise((void *)al, n + (a - al), MADV_POPULATE_READ);
#else
    (void)p, (void)n;
#endif
}

static wh_dir *dir_of_fd(int fd)
{
    if (fd < 0) return NULL;
    wh_dir *w = calloc(1, sizeof(*w));
    DIR *d = w ? fdopendir(fd) : NULL;
    if (!d) {
        free(w);
        close(fd);
        return NULL;
    }
    w->d = d;
    w->fd = fd;
    return w;
}

static int open_dir(int dfd, const char *name, bool follow)
{
    // O_NOATIME: the evidence's folder access times stay as they were.
    int fl = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    int fd = openat(dfd, name, fl | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = openat(dfd, name, fl);
    return fd;
}

wh_dir *wh_dir_open(const char *path) { return dir_of_fd(open_dir(AT_FDCWD, path, true)); }
wh_dir *wh_dir_open_at(wh_dir *d, const char *name) { return dir_of_fd(open_dir(d ? d->fd : AT_FDCWD, name, false)); }

const char *wh_dir_next(wh_dir *d)
{
    struct dirent *e;
    while ((e = readdir(d->d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) return e->d_name;
    return NULL;
}

int wh_dir_stat_at(wh_dir *d, const char *name, wh_fstat *st)
{
    struct stat s;
    if (fstatat(d->fd, name, &s, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    fill(&s, st);
    return 0;
}

int wh_dir_self(wh_dir *d, wh_fstat *st)
{
    struct stat s;
    if (fstat(d->fd, &s) != 0) return -1;
    fill(&s, st);
    return 0;
}

void wh_dir_rewind(wh_dir *d) { rewinddir(d->d); }

void wh_dir_close(wh_dir *d)
{
    if (!d) return;
    closedir(d->d);
    free(d);
}

FILE *wh_memstream(char **buf, size_t *len) { return open_memstream(buf, len); }
int wh_memstream_sync(FILE *f) { return fflush(f); }
int wh_memstream_close(FILE *f) { return fclose(f); }

char *wh_strndup(const char *s, size_t n) { return strndup(s, n); }
long wh_getline(char **line, size_t *cap, FILE *f) { return (long)getline(line, cap, f); }

unsigned wh_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

bool wh_isatty(FILE *f) { return isatty(fileno(f)) == 1; }

int wh_term_cols(FILE *f)
{
    struct winsize ws;
    return isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

void wh_port_args(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
}
