/* lib/core/port.h on Windows (mingw-w64). Paths arrive as UTF-8 and reach
 * the API as UTF-16 in the \\?\ form, so names in any script and paths past
 * MAX_PATH work; folders are listed with FindFirstFileExW, whose entries say
 * what a reparse point (a link or junction) is without following it. */
#include "core/port.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <shellapi.h>

/* ---- paths ---- */

static wchar_t *utf16(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof(wchar_t)) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    if (!w) errno = EINVAL;
    return w;
}

static char *utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        s = NULL;
    }
    return s;
}

/* The full \\?\ path of a UTF-8 path ('/' taken as '\'), malloc'd. */
static wchar_t *wide_path(const char *path)
{
    wchar_t *w = utf16(path);
    if (!w) return NULL;
    for (wchar_t *p = w; *p; p++)
        if (*p == L'/') *p = L'\\';
    if (!wcsncmp(w, L"\\\\?\\", 4)) return w;
    DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = n ? malloc(((size_t)n + 8) * sizeof(wchar_t)) : NULL;
    if (!full) {
        free(w);
        errno = ENOENT;
        return NULL;
    }
    bool unc = w[0] == L'\\' && w[1] == L'\\';
    size_t pre = unc ? 7 : 4; // \\?\UNC\server\share drops the leading two backslashes
    wcscpy(full, unc ? L"\\\\?\\UNC\\" : L"\\\\?\\");
    DWORD got = GetFullPathNameW(w, n, full + pre, NULL);
    free(w);
    if (!got || got >= n) {
        free(full);
        errno = ENOENT;
        return NULL;
    }
    if (unc) memmove(full + pre, full + pre + 2, (wcslen(full + pre + 2) + 1) * sizeof(wchar_t));
    return full;
}

static wchar_t *join(const wchar_t *dir, const char *name)
{
    if (!strcmp(name, ".")) return _wcsdup(dir); // \\?\ paths are not normalised: "." would be a name
    wchar_t *wn = utf16(name);
    if (!wn) return NULL;
    size_t a = wcslen(dir), b = wcslen(wn);
    wchar_t *p = malloc((a + b + 2) * sizeof(wchar_t));
    if (p) {
        memcpy(p, dir, a * sizeof(wchar_t));
        p[a] = L'\\';
        memcpy(p + a + 1, wn, (b + 1) * sizeof(wchar_t));
    }
    free(wn);
    return p;
}

static void set_errno(void)
{
    DWORD e = GetLastError();
    errno = (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND || e == ERROR_INVALID_NAME) ? ENOENT
            : e == ERROR_ACCESS_DENIED || e == ERROR_SHARING_VIOLATION                          ? EACCES
            : e == ERROR_NOT_ENOUGH_MEMORY                                                       ? ENOMEM
                                                                                                 : EIO;
}

/* ---- files ---- */

/* Evidence opened for reading; others may keep writing (a live system's
 * logs): everything is shared. INVALID_HANDLE_VALUE with errno set. */
static HANDLE open_read(const char *path)
{
    wchar_t *w = wide_path(path);
    if (!w) return INVALID_HANDLE_VALUE;
    HANDLE h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) set_errno();
    return h;
}

int wh_open_ro(const char *path)
{
    HANDLE h = open_read(path);
    if (h == INVALID_HANDLE_VALUE) return -1;
    int fd = _open_osfhandle((intptr_t)h, _O_RDONLY | _O_BINARY);
    if (fd < 0) CloseHandle(h);
    return fd;
}

long wh_pread(int fd, void *buf, size_t n, uint64_t off)
{
    if (_lseeki64(fd, (long long)off, SEEK_SET) < 0) return -1;
    return _read(fd, buf, n > 0x7fffffff ? 0x7fffffff : (unsigned)n);
}

void wh_close(int fd) { (void)_close(fd); }

FILE *wh_fopen(const char *path, const char *mode)
{
    // Binary always: output bytes equal the Linux build's (no \r\n).
    wchar_t wm[8];
    size_t n = 0;
    for (const char *m = mode; *m && n < 6; m++)
        if (*m != 'b' && *m != 't' && *m != 'e') wm[n++] = (wchar_t)*m;
    wm[n++] = L'b';
    wm[n] = 0;
    wchar_t *w = wide_path(path);
    if (!w) return NULL;
    FILE *f = _wfopen(w, wm);
    free(w);
    return f;
}

int wh_map_ro(const char *path, const uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    HANDLE h = open_read(path);
    if (h == INVALID_HANDLE_VALUE) return -1;
    LARGE_INTEGER n;
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle(h, &bi) || (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ||
        !GetFileSizeEx(h, &n) || n.QuadPart < 0 || (uint64_t)n.QuadPart > SIZE_MAX) {
        CloseHandle(h);
        errno = EINVAL;
        return -1;
    }
    if (n.QuadPart > 0) {
        HANDLE m = CreateFileMappingW(h, NULL, PAGE_READONLY, 0, 0, NULL);
        const void *p = m ? MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0) : NULL;
        if (m) CloseHandle(m); // the view keeps the mapping
        if (!p) {
            set_errno();
            CloseHandle(h);
            return -1;
        }
        *data = p;
        *size = (size_t)n.QuadPart;
    }
    CloseHandle(h);
    return 0;
}

void wh_unmap(const uint8_t *data, size_t size)
{
    (void)size;
    if (data) UnmapViewOfFile(data);
}

void wh_prefault_pages(const void *p, size_t n)
{
    (void)p;
    (void)n;
}

void wh_drop_pages(const void *p, size_t n)
{
    (void)p;
    (void)n; // the memory manager trims a read view's pages itself
}

static void times_of(FILETIME ft, int64_t *s, uint32_t *ns)
{
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    uint64_t unix100 = t >= 116444736000000000ULL ? t - 116444736000000000ULL : 0;
    *s = (int64_t)(unix100 / 10000000ULL);
    *ns = (uint32_t)(unix100 % 10000000ULL) * 100u;
}

static void fill(DWORD attr, DWORD hi, DWORD lo, FILETIME c, FILETIME a, FILETIME m, DWORD reparse_tag, wh_fstat *st)
{
    memset(st, 0, sizeof(*st));
    if (attr & FILE_ATTRIBUTE_REPARSE_POINT)
        st->type = (reparse_tag == IO_REPARSE_TAG_SYMLINK || reparse_tag == IO_REPARSE_TAG_MOUNT_POINT ||
                    (attr & FILE_ATTRIBUTE_DIRECTORY))
                       ? WH_FT_LINK
                       : WH_FT_REG; // dedup and cloud files are files with content
    else
        st->type = (attr & FILE_ATTRIBUTE_DIRECTORY) ? WH_FT_DIR : (attr & FILE_ATTRIBUTE_DEVICE) ? WH_FT_OTHER : WH_FT_REG;
    st->size = st->type == WH_FT_REG ? ((uint64_t)hi << 32) | lo : 0;
    times_of(m, &st->mtime_s, &st->mtime_ns);
    times_of(c, &st->ctime_s, &st->ctime_ns); // creation: Windows keeps no change time here
    times_of(a, &st->atime_s, &st->atime_ns);
}

static int stat_wide(const wchar_t *w, bool follow, wh_fstat *st)
{
    WIN32_FILE_ATTRIBUTE_DATA d;
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &d)) {
        set_errno();
        return -1;
    }
    DWORD tag = 0;
    if (d.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
        WIN32_FIND_DATAW fd;
        HANDLE h = FindFirstFileW(w, &fd);
        if (h != INVALID_HANDLE_VALUE) {
            tag = fd.dwReserved0;
            FindClose(h);
        }
    }
    fill(d.dwFileAttributes, d.nFileSizeHigh, d.nFileSizeLow, d.ftCreationTime, d.ftLastAccessTime, d.ftLastWriteTime, tag,
         st);
    // The change time (POSIX ctime) is in FILE_BASIC_INFO only; reading
    // attributes changes no time of the file.
    HANDLE bh = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                            OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), NULL);
    if (bh != INVALID_HANDLE_VALUE) {
        FILE_BASIC_INFO bi;
        if (GetFileInformationByHandleEx(bh, FileBasicInfo, &bi, sizeof(bi))) {
            FILETIME ct = {(DWORD)bi.ChangeTime.LowPart, (DWORD)bi.ChangeTime.HighPart};
            times_of(ct, &st->ctime_s, &st->ctime_ns);
        }
        CloseHandle(bh);
    }
    if (follow && st->type == WH_FT_LINK) {
        HANDLE h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS, NULL);
        BY_HANDLE_FILE_INFORMATION bi;
        if (h == INVALID_HANDLE_VALUE) {
            set_errno();
            return -1;
        }
        bool ok = GetFileInformationByHandle(h, &bi);
        CloseHandle(h);
        if (!ok) return -1;
        int64_t cs = st->ctime_s;
        uint32_t cns = st->ctime_ns;
        fill(bi.dwFileAttributes & ~(DWORD)FILE_ATTRIBUTE_REPARSE_POINT, bi.nFileSizeHigh, bi.nFileSizeLow,
             bi.ftCreationTime, bi.ftLastAccessTime, bi.ftLastWriteTime, 0, st);
        st->ctime_s = cs, st->ctime_ns = cns; // the target's, read above through the link
    }
    return 0;
}

int wh_stat(const char *path, bool follow, wh_fstat *st)
{
    wchar_t *w = wide_path(path);
    if (!w) return -1;
    int r = stat_wide(w, follow, st);
    free(w);
    return r;
}

int wh_mkdir(const char *path)
{
    wchar_t *w = wide_path(path);
    if (!w) return -1;
    bool ok = CreateDirectoryW(w, NULL);
    if (!ok) {
        errno = GetLastError() == ERROR_ALREADY_EXISTS ? EEXIST : EIO;
    }
    free(w);
    return ok ? 0 : -1;
}

/* ---- folders ---- */

struct wh_dir {
    wchar_t *path; /* \\?\ form, no trailing separator */
    HANDLE find;
    WIN32_FIND_DATAW pend; /* the next entry, when have */
    WIN32_FIND_DATAW cur;  /* the one last returned */
    bool have;
    char *name; /* cur's name, UTF-8 */
};

static bool start(wh_dir *d)
{
    wchar_t *pat = join(d->path, "*");
    if (!pat) return false;
    d->find = FindFirstFileExW(pat, FindExInfoBasic, &d->pend, FindExSearchNameMatch, NULL, FIND_FIRST_EX_LARGE_FETCH);
    free(pat);
    d->have = d->find != INVALID_HANDLE_VALUE;
    return d->have || GetLastError() == ERROR_FILE_NOT_FOUND;
}

static wh_dir *dir_wide(wchar_t *w, bool follow)
{
    wh_fstat st = {0};
    if (!w) return NULL;
    if (stat_wide(w, follow, &st) != 0 || st.type != WH_FT_DIR) {
        if (st.type != WH_FT_DIR) errno = ENOTDIR;
        free(w);
        return NULL;
    }
    size_t n = wcslen(w);
    if (n > 4 && w[n - 1] == L'\\') w[n - 1] = 0; // join adds the separator
    wh_dir *d = calloc(1, sizeof(*d));
    if (!d) {
        free(w);
        return NULL;
    }
    d->path = w;
    d->find = INVALID_HANDLE_VALUE;
    if (!start(d)) {
        set_errno();
        free(w);
        free(d);
        return NULL;
    }
    return d;
}

wh_dir *wh_dir_open(const char *path) { return dir_wide(wide_path(path), true); }
wh_dir *wh_dir_open_at(wh_dir *d, const char *name) { return dir_wide(d ? join(d->path, name) : wide_path(name), false); }

const char *wh_dir_next(wh_dir *d)
{
    while (d->have) {
        d->cur = d->pend;
        d->have = FindNextFileW(d->find, &d->pend);
        if (!wcscmp(d->cur.cFileName, L".") || !wcscmp(d->cur.cFileName, L"..")) continue;
        free(d->name);
        d->name = utf8(d->cur.cFileName);
        if (d->name) return d->name;
    }
    return NULL;
}

int wh_dir_stat_at(wh_dir *d, const char *name, wh_fstat *st)
{
    // The entry just listed: its find data already says everything.
    if (d->name && !strcmp(name, d->name)) {
        const WIN32_FIND_DATAW *f = &d->cur;
        fill(f->dwFileAttributes, f->nFileSizeHigh, f->nFileSizeLow, f->ftCreationTime, f->ftLastAccessTime,
             f->ftLastWriteTime, f->dwReserved0, st);
        return 0;
    }
    wchar_t *w = join(d->path, name);
    if (!w) return -1;
    int r = stat_wide(w, false, st);
    free(w);
    return r;
}

int wh_dir_self(wh_dir *d, wh_fstat *st)
{
    HANDLE h = CreateFileW(d->path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        set_errno();
        return -1;
    }
    BY_HANDLE_FILE_INFORMATION bi;
    bool ok = GetFileInformationByHandle(h, &bi);
    CloseHandle(h);
    if (!ok) return -1;
    fill(bi.dwFileAttributes, 0, 0, bi.ftCreationTime, bi.ftLastAccessTime, bi.ftLastWriteTime, 0, st);
    st->dev = bi.dwVolumeSerialNumber;
    st->ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
    return 0;
}

void wh_dir_rewind(wh_dir *d)
{
    if (d->find != INVALID_HANDLE_VALUE) FindClose(d->find);
    d->find = INVALID_HANDLE_VALUE;
    free(d->name);
    d->name = NULL;
    if (!start(d)) d->have = false;
}

void wh_dir_close(wh_dir *d)
{
    if (!d) return;
    if (d->find != INVALID_HANDLE_VALUE) FindClose(d->find);
    free(d->name);
    free(d->path);
    free(d);
}

/* ---- text in memory: a private temporary file read back ---- */

typedef struct mstream {
    FILE *f;
    char **buf;
    size_t *len;
    size_t have; /* bytes already read back into *buf */
} mstream;

static SRWLOCK g_ms_lock = SRWLOCK_INIT;
static mstream *g_ms;
static size_t g_nms, g_ms_cap;

FILE *wh_memstream(char **buf, size_t *len)
{
    wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 16];
    DWORD n = GetTempPathW(MAX_PATH + 1, dir);
    if (!n || n > MAX_PATH || !GetTempFileNameW(dir, L"wmh", 0, name)) return NULL;
    // Deleted when closed, whatever happens to the process.
    HANDLE h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_DELETE, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DeleteFileW(name);
        return NULL;
    }
    int fd = _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY);
    FILE *f = fd >= 0 ? _fdopen(fd, "w+b") : NULL;
    if (!f) {
        if (fd >= 0) _close(fd);
        else CloseHandle(h);
        return NULL;
    }
    *buf = NULL;
    *len = 0;
    AcquireSRWLockExclusive(&g_ms_lock);
    if (g_nms == g_ms_cap) {
        size_t nc = g_ms_cap ? g_ms_cap * 2 : 16;
        mstream *m = realloc(g_ms, nc * sizeof(*m));
        if (m) {
            g_ms = m;
            g_ms_cap = nc;
        }
    }
    bool ok = g_nms < g_ms_cap;
    if (ok) g_ms[g_nms++] = (mstream){f, buf, len, 0};
    ReleaseSRWLockExclusive(&g_ms_lock);
    if (!ok) {
        fclose(f);
        return NULL;
    }
    return f;
}

static int readback(mstream *m)
{
    if (fflush(m->f) != 0) return -1;
    long long end = _ftelli64(m->f);
    if (end < 0) return -1;
    size_t want = (size_t)end;
    if (want > m->have || !*m->buf) {
        char *b = realloc(*m->buf, want + 1);
        if (!b) return -1;
        *m->buf = b;
        if (want > m->have) {
            if (_fseeki64(m->f, (long long)m->have, SEEK_SET) != 0 ||
                fread(b + m->have, 1, want - m->have, m->f) != want - m->have)
                return -1;
            if (_fseeki64(m->f, 0, SEEK_END) != 0) return -1;
        }
        m->have = want;
    }
    (*m->buf)[want] = 0;
    *m->len = want;
    return 0;
}

static mstream *find_ms(FILE *f, bool take, mstream *out)
{
    mstream *found = NULL;
    AcquireSRWLockExclusive(&g_ms_lock);
    for (size_t i = 0; i < g_nms; i++)
        if (g_ms[i].f == f) {
            *out = g_ms[i];
            if (take) g_ms[i] = g_ms[--g_nms];
            found = out;
            break;
        }
    ReleaseSRWLockExclusive(&g_ms_lock);
    return found;
}

int wh_memstream_sync(FILE *f)
{
    mstream m;
    if (!find_ms(f, false, &m)) return fflush(f);
    int r = readback(&m);
    AcquireSRWLockExclusive(&g_ms_lock);
    for (size_t i = 0; i < g_nms; i++)
        if (g_ms[i].f == f) g_ms[i].have = m.have;
    ReleaseSRWLockExclusive(&g_ms_lock);
    return r;
}

int wh_memstream_close(FILE *f)
{
    mstream m;
    if (!find_ms(f, true, &m)) return fclose(f);
    int r = readback(&m);
    if (fclose(f) != 0) r = -1;
    return r;
}

/* ---- the rest ---- */

char *wh_strndup(const char *s, size_t n)
{
    size_t l = strnlen(s, n);
    char *p = malloc(l + 1);
    if (p) {
        memcpy(p, s, l);
        p[l] = 0;
    }
    return p;
}

long wh_getline(char **line, size_t *cap, FILE *f)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (n + 2 > *cap || !*line) {
            size_t nc = *cap ? *cap * 2 : 128;
            char *b = realloc(*line, nc);
            if (!b) return -1;
            *line = b;
            *cap = nc;
        }
        (*line)[n++] = (char)c;
        if (c == '\n') break;
    }
    if (!n) return -1;
    (*line)[n] = 0;
    return (long)n;
}

unsigned wh_ncpu(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n ? (unsigned)n : 1;
}

bool wh_isatty(FILE *f) { return _isatty(_fileno(f)) != 0; }

int wh_term_cols(FILE *f)
{
    CONSOLE_SCREEN_BUFFER_INFO ci;
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    return h != INVALID_HANDLE_VALUE && GetConsoleScreenBufferInfo(h, &ci) ? ci.srWindow.Right - ci.srWindow.Left + 1 : 0;
}

void wh_port_args(int *argc, char ***argv)
{
    int n = 0;
    wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);
    char **a = w && n > 0 ? calloc((size_t)n + 1, sizeof(char *)) : NULL;
    for (int i = 0; a && i < n; i++)
        if (!(a[i] = utf8(w[i]))) a = NULL; // kept for the process's life
    if (w) LocalFree(w);
    if (a) {
        *argc = n;
        *argv = a;
    }
    SetConsoleOutputCP(CP_UTF8);
    // The same bytes as on Linux: no \n -> \r\n on the standard streams.
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    _setmode(_fileno(stdin), _O_BINARY);
}
