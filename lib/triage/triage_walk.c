/* The triage walk: finds volume roots (a directory holding Windows\System32)
 * within a few levels of DIR, walks the WMI folders of each root first, then
 * the whole tree for MOF files; lists entries without following links
 * (lib/core/port.h) and never opens a file, so no evidence byte is read or written. */
#define _GNU_SOURCE
#include "triage/triage_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/arena.h"
#include "core/port.h"
#include "core/recbuild.h"
#include "core/text.h"
#include "core/sort.h"

typedef struct troot {
    char *path;
    wh_triage_layout layout;
    char *volume;
    int group;
    uint64_t dev, ino;
} troot;

typedef struct tart {
    wh_triage_artifact a;
    int group;        /* volume group; -1 when loose */
    const char *name; /* last name, decoded where the layout encodes */
    bool xp, has_cim_files, has_map_files;
} tart;

typedef struct tmissing {
    wh_triage_kind kind;
    int group;
    int root; /* first root of the group */
    const char *expected;
    const char *why;
} tmissing;

typedef struct devino {
    uint64_t dev, ino;
} devino;

struct wh_triage {
    wh_arena *arena;
    wh_diag_sink *sink;
    const char *dir;
    unsigned max_depth;
    unsigned long max_files;
    unsigned max_seconds;
    uint64_t mof_max;
    troot *roots;
    size_t nroots, roots_cap;
    int ngroups;
    wh_ptrvec arts;
    tmissing *missing;
    size_t nmissing, missing_cap;
    devino *walked;
    size_t nwalked, walked_cap;
    // walk state
    unsigned long entries;
    bool stop, incomplete;
    struct timespec t0;
    unsigned long depth_hits;
    char path[WH_LIMIT_TRIAGE_PATH_MAX];
    size_t plen;
    const char *names[WH_LIMIT_TRIAGE_MAX_DEPTH + 8];
    size_t nnames;
};

static const char *kind_why(wh_triage_kind k)
{
    switch (k) {
    case WH_TRIAGE_CIM_REPOSITORY:
        return "the CIM repository holds WMI event subscriptions (filter, consumer, binding), deleted ones "
               "still in unallocated pages";
    case WH_TRIAGE_CIM_BACKUP: return "an older copy of the repository: subscriptions removed since may still be in it";
    case WH_TRIAGE_AUTORECOVER_DIR:
        return "copies of MOFs compiled with #pragma autorecover, which can outlive the MOF file";
    case WH_TRIAGE_AUTORECOVER_FILE: return "a MOF Windows recompiles when it rebuilds the repository";
    case WH_TRIAGE_MOF: return "a MOF file can define WMI event subscriptions";
    case WH_TRIAGE_HIVE_SOFTWARE:
        return "HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM 'Autorecover MOFs' lists every MOF compiled with "
               "#pragma autorecover, deleted ones too";
    case WH_TRIAGE_HIVE_LOG:
        return "transaction log of the SOFTWARE hive: without it, changes not yet written into a dirty hive are lost";
    case WH_TRIAGE_HIVE_REGBACK: return "an older copy of the SOFTWARE hive, to compare the CIMOM key with";
    case WH_TRIAGE_EVTX: return "an event log";
    default: return NULL;
    }
}

static uint64_t filetime(const wh_fstat *st)
{
    if (st->mtime_s < -11644473600LL) return 0;
    return ((uint64_t)(st->mtime_s + 11644473600LL)) * 10000000ull + (uint64_t)st->mtime_ns / 100u;
}

static bool time_up(wh_triage *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec - t->t0.tv_sec >= (time_t)t->max_seconds;
}

/* Counts one entry against the bounds; false once the walk must stop. */
static bool count_entry(wh_triage *t)
{
    if (t->stop) return false;
    t->entries++;
    if (t->entries > t->max_files) {
        wh_diagf(t->sink, WH_SEV_WARN, WH_E_LIMIT, t->path, WH_NO_OFFSET,
                 "file-count bound reached (%lu entries): the walk stopped here and artifacts past this "
                 "point were not searched (raise --max-files)",
                 t->max_files);
        t->stop = t->incomplete = true;
        return false;
    }
    if ((t->entries & 255u) == 0 && time_up(t)) {
        wh_diagf(t->sink, WH_SEV_WARN, WH_E_LIMIT, t->path, WH_NO_OFFSET,
                 "time bound reached (%u s): the walk stopped here and artifacts past this point were not "
                 "searched (raise --max-seconds)",
                 t->max_seconds);
        t->stop = t->incomplete = true;
        return false;
    }
    return true;
}

static bool push(wh_triage *t, const char *name)
{
    size_t n = strlen(name);
    if (t->nnames >= sizeof(t->names) / sizeof(t->names[0]) || n + 2 > sizeof(t->path) - t->plen) {
        wh_diagf(t->sink, WH_SEV_WARN, WH_E_LIMIT, t->path, WH_NO_OFFSET,
                 "path longer than %u bytes: '%s' not searched", WH_LIMIT_TRIAGE_PATH_MAX, name);
        t->incomplete = true;
        return false;
    }
    t->path[t->plen++] = '/';
    memcpy(t->path + t->plen, name, n + 1);
    t->names[t->nnames++] = t->path + t->plen; // NUL-terminated until the next push
    t->plen += n;
    return true;
}

static void pop(wh_triage *t)
{
    t->nnames--;
    t->plen = (size_t)(t->names[t->nnames] - t->path) - 1;
    t->path[t->plen] = '\0';
}

/* names[] point into path, separated by '/': a copy with NULs between. */
static const char **name_copy(wh_triage *t, char *buf, size_t cap, const char **out)
{
    size_t o = 0;
    for (size_t i = 0; i < t->nnames; i++) {
        size_t n = strcspn(t->names[i], "/");
        if (o + n + 1 > cap) return NULL;
        memcpy(buf + o, t->names[i], n);
        buf[o + n] = '\0';
        out[i] = buf + o;
        o += n + 1;
    }
    return out;
}

static bool walked(const wh_triage *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->nwalked; i++)
        if (t->walked[i].dev == dev && t->walked[i].ino == ino) return true;
    return false;
}

static void mark_walked(wh_triage *t, uint64_t dev, uint64_t ino)
{
    devino *nw = wh_arena_grow(t->arena, t->walked, t->nwalked, &t->walked_cap, sizeof(*nw), 16);
    if (!nw) return;
    t->walked = nw;
    t->walked[t->nwalked].dev = dev;
    t->walked[t->nwalked].ino = ino;
    t->nwalked++;
}

static int root_of(const wh_triage *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->nroots; i++)
        if (t->roots[i].dev == dev && t->roots[i].ino == ino) return (int)i;
    return -1;
}

/* ---- Phase 1: volume roots ---- */

/* Whether parent/dir (dir itself when parent is NULL) holds an entry named
 * (any case) one of want, a folder when dirs_only. At most max entries are
 * looked at (0: all). Opened like every folder of the walk (port.h:
 * O_NOATIME where allowed), so the evidence's times stay. */
static bool dir_holds(wh_dir *parent, const char *dir, const char *const *want, size_t nwant, bool dirs_only,
                      unsigned max)
{
    wh_dir *d = wh_dir_open_at(parent, dir);
    if (!d) return false;
    bool found = false;
    unsigned seen = 0;
    const char *e;
    while (!found && (max == 0 || seen++ < max) && (e = wh_dir_next(d)) != NULL) {
        for (size_t i = 0; i < nwant && !found; i++) {
            if (wh_strcasecmp(e, want[i]) != 0) continue;
            wh_fstat st;
            found = !dirs_only || (wh_dir_stat_at(d, e, &st) == 0 && st.type == WH_FT_DIR);
        }
    }
    wh_dir_close(d);
    return found;
}

static bool has_system32(wh_dir *d, const char *windir)
{
    static const char *const sys32[] = {"System32"};
    return dir_holds(d, windir, sys32, 1, true, 0);
}

static void add_root(wh_triage *t, const wh_fstat *st, bool parent_kape)
{
    troot *nr = wh_arena_grow(t->arena, t->roots, t->nroots, &t->roots_cap, sizeof(*nr), 4);
    if (!nr) return;
    t->roots = nr;
    troot *r = &t->roots[t->nroots];
    char buf[WH_LIMIT_TRIAGE_PATH_MAX];
    const char *names[WH_LIMIT_TRIAGE_MAX_DEPTH + 8];
    char vol[WH_LIMIT_TRIAGE_NAME_MAX];
    if (!name_copy(t, buf, sizeof(buf), names)) return;
    r->layout = wh_triage_layout_of(names, t->nnames, parent_kape, vol, sizeof(vol));
    r->path = wh_arena_strdup(t->arena, t->path);
    r->volume = wh_arena_strdup(t->arena, vol);
    r->dev = st->dev;
    r->ino = st->ino;
    if (!r->path || !r->volume) return;
    // Roots naming the same drive (Velociraptor's auto and ntfs accessors)
    // are one volume for what is expected; others stand alone.
    bool drive = strlen(vol) == 2 && vol[1] == ':';
    r->group = -1;
    for (size_t i = 0; drive && i < t->nroots; i++)
        if (wh_strcasecmp(t->roots[i].volume, vol) == 0) r->group = t->roots[i].group;
    if (r->group < 0) r->group = t->ngroups++;
    t->nroots++;
}

static void find_roots(wh_triage *t, wh_dir *d, bool parent_kape)
{
    if (!d) return;
    bool kape = false, root = false;
    const char *e;
    while ((e = wh_dir_next(d)) != NULL) {
        if (!count_entry(t)) break;
        wh_fstat st;
        if (wh_dir_stat_at(d, e, &st) != 0) continue;
        // KAPE writes <timestamp>_ConsoleLog.txt and _CopyLog.csv beside C\.
        if (st.type == WH_FT_REG &&
            (wh_triage_name_ends(e, "_ConsoleLog.txt", false) || wh_triage_name_ends(e, "_CopyLog.csv", false)))
            kape = true;
        if (st.type == WH_FT_DIR && wh_triage_is_windir(e, false) && has_system32(d, e)) root = true;
    }
    if (root) {
        wh_fstat st;
        if (wh_dir_self(d, &st) == 0) add_root(t, &st, parent_kape);
        wh_dir_close(d);
        return;
    }
    if (t->nnames < WH_LIMIT_TRIAGE_PREFIX_DEPTH && !t->stop) {
        wh_dir_rewind(d);
        while ((e = wh_dir_next(d)) != NULL && !t->stop) {
            wh_fstat st;
            if (wh_dir_stat_at(d, e, &st) != 0 || st.type != WH_FT_DIR) continue;
            wh_dir *sub = wh_dir_open_at(d, e);
            if (!sub) continue;
            if (push(t, e)) {
                find_roots(t, sub, kape);
                pop(t);
            } else {
                wh_dir_close(sub);
            }
        }
    }
    wh_dir_close(d);
}

/* ---- Phase 2: the walk ---- */

static tart *add_art(wh_triage *t, wh_triage_kind kind, int root, size_t root_depth, const wh_fstat *st,
                     bool wmi, bool encoded)
{
    tart *a = wh_arena_calloc(t->arena, 1, sizeof(*a));
    if (!a) return NULL;
    a->a.kind = kind;
    a->a.path = wh_arena_strdup(t->arena, t->path);
    a->a.size = st->type == WH_FT_REG ? st->size : 0;
    a->a.mtime = filetime(st);
    a->a.wmi_relevant = wmi;
    a->group = -1;
    const char *last = t->names[t->nnames - 1];
    char buf[WH_LIMIT_TRIAGE_NAME_MAX];
    if (encoded) wh_triage_pct_decode(last, strlen(last), buf, sizeof(buf));
    a->name = wh_arena_strdup(t->arena, encoded ? buf : last);
    if (root >= 0) {
        const troot *r = &t->roots[root];
        a->a.layout = r->layout;
        a->a.root = r->path;
        a->group = r->group;
        // Windows path: the volume, then every name below the root.
        char w[WH_LIMIT_TRIAGE_PATH_MAX];
        size_t o = (size_t)snprintf(w, sizeof(w), "%s", r->volume);
        for (size_t i = root_depth; i < t->nnames && o < sizeof(w); i++) {
            size_t n = strcspn(t->names[i], "/");
            char raw[WH_LIMIT_TRIAGE_NAME_MAX], dec[WH_LIMIT_TRIAGE_NAME_MAX];
            if (n >= sizeof(raw)) n = sizeof(raw) - 1;
            memcpy(raw, t->names[i], n);
            raw[n] = '\0';
            const char *s = raw;
            if (encoded) {
                wh_triage_pct_decode(raw, n, dec, sizeof(dec));
                s = dec;
            }
            o += (size_t)snprintf(w + o, sizeof(w) - o, "\\%s", s);
        }
        a->a.windows_path = wh_arena_strdup(t->arena, w);
    } else {
        a->a.layout = WH_TRIAGE_LAYOUT_LOOSE;
    }
    if (!a->a.path || !a->name || wh_ptrvec_push(t->arena, &t->arts, a) != 0) return NULL;
    return a;
}

/* A folder outside any Windows tree that holds INDEX.BTR, OBJECTS.DATA or
 * the mapping files is a repository whatever it is called (analysts copy
 * it out as host42_repo); a partial copy is listed too, so that reading it
 * says what is missing. The listing is bounded: a huge folder is not a
 * repository. */
static bool holds_cim_files(const char *path)
{
    static const char *const cim[] = {"INDEX.BTR", "OBJECTS.DATA", "MAPPING1.MAP", "OBJECTS.MAP"};
    return dir_holds(NULL, path, cim, 4, false, 256);
}

static void classify(wh_triage *t, const wh_fstat *st, int root, size_t root_depth, tart **container)
{
    bool is_dir = st->type == WH_FT_DIR;
    wh_triage_kind kind;
    bool wmi = false, found = false;
    bool encoded = root >= 0 && wh_triage_layout_encoded(t->roots[root].layout);
    char buf[WH_LIMIT_TRIAGE_PATH_MAX];
    const char *names[WH_LIMIT_TRIAGE_MAX_DEPTH + 8];
    if (!name_copy(t, buf, sizeof(buf), names)) return;
    const char *last = names[t->nnames - 1];
    if (root >= 0) {
        found = wh_triage_kind_of(names + root_depth, t->nnames - root_depth, is_dir, encoded, &kind, &wmi);
    } else {
        // Outside any Windows tree: what the name alone shows.
        const char *parent = t->nnames >= 2 ? names[t->nnames - 2] : "";
        bool cfg = wh_strcasecmp(parent, "config") == 0;
        if (is_dir && strncasecmp(last, "Repository", 10) == 0)
            kind = wh_strcasecmp(last, "Repository") == 0 ? WH_TRIAGE_CIM_REPOSITORY : WH_TRIAGE_CIM_BACKUP, found = true;
        else if (is_dir && !*container && holds_cim_files(t->path)) kind = WH_TRIAGE_CIM_REPOSITORY, found = true;
        else if (!is_dir && wh_triage_name_ends(last, ".mof", true)) kind = WH_TRIAGE_MOF, found = true;
        else if (!is_dir && wh_triage_name_ends(last, ".evtx", true)) {
            kind = WH_TRIAGE_EVTX, found = true;
            wmi = wh_triage_wmi_log(last, true) >= 0;
        } else if (!is_dir && cfg && wh_strcasecmp(last, "SOFTWARE") == 0) kind = WH_TRIAGE_HIVE_SOFTWARE, found = true;
        else if (!is_dir && cfg && (wh_strcasecmp(last, "SOFTWARE.LOG1") == 0 || wh_strcasecmp(last, "SOFTWARE.LOG2") == 0 ||
                                    wh_strcasecmp(last, "SOFTWARE.LOG") == 0))
            kind = WH_TRIAGE_HIVE_LOG, found = true;
    }
    // Files inside a repository or AutoRecover folder count towards it.
    if (*container && !is_dir && st->type == WH_FT_REG) {
        tart *c = *container;
        c->a.size += st->size;
        c->a.files++;
        uint64_t ft = filetime(st);
        if (ft > c->a.mtime || c->a.files == 1) c->a.mtime = ft;
        if (wh_strcasecmp(last, "INDEX.BTR") == 0 || wh_strcasecmp(last, "OBJECTS.DATA") == 0) c->has_cim_files = true;
        if (wh_strcasecmp(last, "MAPPING1.MAP") == 0 || wh_strcasecmp(last, "OBJECTS.MAP") == 0) c->has_map_files = true;
    }
    if (*container && is_dir && wh_strcasecmp(last, "FS") == 0 && (*container)->a.kind != WH_TRIAGE_AUTORECOVER_DIR &&
        t->nnames >= 2 && strncasecmp(names[t->nnames - 2], "Repository", 10) == 0)
        (*container)->xp = true;
    if (!found) return;
    tart *a = add_art(t, kind, root, root_depth, st, wmi, encoded);
    if (!a) return;
    int li = kind == WH_TRIAGE_EVTX && wmi ? wh_triage_wmi_log(a->name, true) : -1;
    a->a.why = li >= 0 ? WH_TRIAGE_WMI_LOGS[li].why : kind_why(kind);
    if (kind == WH_TRIAGE_MOF) {
        bool wbem = wh_triage_in_wbem(names, t->nnames, encoded);
        a->a.note = wbem ? "in System32\\wbem, where Windows keeps its own MOFs"
                         : "outside System32\\wbem: a MOF here is itself a finding";
        if (a->a.size > t->mof_max) {
            a->a.over_size_cap = true;
            wh_diagf(t->sink, WH_SEV_INFO, WH_E_LIMIT, a->a.path, WH_NO_OFFSET,
                     "MOF larger than the size cap (%llu bytes): listed, flagged over_size_cap",
                     (unsigned long long)t->mof_max);
        }
    }
    if (is_dir) {
        // The folder's own mtime stands until a file inside says newer.
        a->a.files = 0;
        *container = a;
    }
}

static void walk(wh_triage *t, wh_dir *d, int root, size_t root_depth, tart *container)
{
    if (!d) return;
    const char *e;
    while ((e = wh_dir_next(d)) != NULL) {
        if (!count_entry(t)) break;
        wh_fstat st;
        if (wh_dir_stat_at(d, e, &st) != 0) continue;
        if (!push(t, e)) continue;
        if (st.type == WH_FT_LINK) {
            wh_diagf(t->sink, WH_SEV_INFO, WH_E_LIMIT, t->path, WH_NO_OFFSET, "symbolic link not followed");
            pop(t);
            continue;
        }
        if (st.type != WH_FT_DIR) {
            tart *c = container;
            classify(t, &st, root, root_depth, &c);
            pop(t);
            continue;
        }
        // The folder's identity (for loops and roots): lstat's on POSIX; on
        // Windows the listing does not carry it, so the folder is asked.
        wh_dir *sub = NULL;
        wh_fstat id = st;
        if (id.dev == 0 && id.ino == 0 && (sub = wh_dir_open_at(d, e)) != NULL) (void)wh_dir_self(sub, &id);
        if (walked(t, id.dev, id.ino)) {
            wh_dir_close(sub);
            pop(t);
            continue;
        }
        int r = root, rd = (int)root_depth;
        int ri = root_of(t, id.dev, id.ino);
        if (ri >= 0) r = ri, rd = (int)t->nnames;
        tart *c = container;
        classify(t, &st, r, (size_t)rd, &c);
        if (t->nnames > t->max_depth) {
            if (t->depth_hits++ < 10)
                wh_diagf(t->sink, WH_SEV_WARN, WH_E_LIMIT, t->path, WH_NO_OFFSET,
                         "depth bound reached (%u levels): not searched below (raise --max-depth)", t->max_depth);
            t->incomplete = true;
            wh_dir_close(sub);
            pop(t);
            continue;
        }
        if (!sub) sub = wh_dir_open_at(d, e);
        if (!sub) {
            wh_diagf(t->sink, WH_SEV_WARN, WH_E_IO, t->path, WH_NO_OFFSET, "cannot open directory: %s",
                     strerror(errno));
            t->incomplete = true;
        } else {
            walk(t, sub, r, (size_t)rd, c);
        }
        pop(t);
        if (t->stop) break;
    }
    wh_dir_close(d);
}

/* Opens parent/want ignoring case, pushing the name as stored; NULL if absent. */
static wh_dir *open_icase(wh_triage *t, wh_dir *parent, const char *want)
{
    // A fresh listing of the parent: reading parent itself would leave its
    // caller's next listing empty.
    wh_dir *d = wh_dir_open_at(parent, ".");
    if (!d) return NULL;
    wh_dir *found = NULL;
    const char *e;
    while ((e = wh_dir_next(d)) != NULL) {
        wh_fstat st;
        if (wh_strcasecmp(e, want) != 0 || wh_dir_stat_at(d, e, &st) != 0 || st.type != WH_FT_DIR) continue;
        found = wh_dir_open_at(parent, e);
        if (found && !push(t, e)) {
            wh_dir_close(found);
            found = NULL;
        }
        break;
    }
    wh_dir_close(d);
    return found;
}

/* Walks root/Windows/System32/<sub...> before the rest, so a bound reached
 * later in a big volume still leaves the WMI folders searched. */
static void walk_first(wh_triage *t, wh_dir *rootd, int root, size_t root_depth, const char *const *sub, size_t nsub)
{
    size_t base = t->nnames;
    wh_dir *d = wh_dir_open_at(rootd, ".");
    const char *path[8] = {"Windows", "System32"};
    size_t n = 2;
    for (size_t i = 0; i < nsub && n < 8; i++) path[n++] = sub[i];
    for (size_t i = 0; i < n && d; i++) {
        wh_dir *next = open_icase(t, d, path[i]);
        if (!next && i == 0) next = open_icase(t, d, "WINNT");
        wh_dir_close(d);
        d = next;
    }
    if (d) {
        wh_fstat st;
        if (wh_dir_self(d, &st) == 0 && !walked(t, st.dev, st.ino)) {
            mark_walked(t, st.dev, st.ino);
            walk(t, d, root, root_depth, NULL);
        } else {
            wh_dir_close(d);
        }
    }
    while (t->nnames > base) pop(t);
}

/* ---- Missing ---- */

/* A group's artifacts: arts is sorted by group (art_cmp), so they are the
 * run [lo, hi); looking at only those keeps the check linear in the
 * artifacts over all groups (a folder of 1,000 hosts). */
typedef struct grange {
    size_t lo, hi;
} grange;

static bool group_has(const wh_triage *t, grange r, wh_triage_kind k, const char *name)
{
    for (size_t i = r.lo; i < r.hi; i++) {
        const tart *a = t->arts.v[i];
        if (a->a.kind == k && (!name || wh_strcasecmp(a->name, name) == 0)) return true;
    }
    return false;
}

static bool group_xp(const wh_triage *t, grange r)
{
    for (size_t i = r.lo; i < r.hi; i++) {
        const tart *a = t->arts.v[i];
        if (a->xp) return true;
    }
    return false;
}

/* Appends one expected-but-absent artifact. The list grows by doubling
 * (wh_arena_grow): before, it was copied whole into a new block for every
 * entry, so a folder of many hosts used memory in the square of them. */
static void miss(wh_triage *t, int g, int root, wh_triage_kind k, const char *vol, const char *rel, const char *why)
{
    tmissing *nm = wh_arena_grow(t->arena, t->missing, t->nmissing, &t->missing_cap, sizeof(*nm), 16);
    if (!nm) return;
    t->missing = nm;
    tmissing *m = &t->missing[t->nmissing++];
    m->kind = k;
    m->group = g;
    m->root = root;
    m->expected = wh_arena_printf(t->arena, "%s\\Windows\\System32\\%s", vol, rel);
    m->why = why;
}

static void find_missing(wh_triage *t)
{
    // Each group's first root, in one pass over the roots.
    int *first = t->ngroups > 0 ? calloc((size_t)t->ngroups, sizeof(int)) : NULL;
    if (t->ngroups > 0 && !first) return;
    for (int g = 0; g < t->ngroups; g++) first[g] = -1;
    for (size_t i = 0; i < t->nroots; i++) {
        int g = t->roots[i].group;
        if (g >= 0 && g < t->ngroups && first[g] < 0) first[g] = (int)i;
    }
    size_t at = 0; // arts sorted by group: groups 0, 1, ... then loose (-1)
    for (int g = 0; g < t->ngroups; g++) {
        while (at < t->arts.n && ((const tart *)t->arts.v[at])->group >= 0 &&
               ((const tart *)t->arts.v[at])->group < g)
            at++;
        grange gr = {at, at};
        while (gr.hi < t->arts.n && ((const tart *)t->arts.v[gr.hi])->group == g) gr.hi++;
        at = gr.hi;
        if (first[g] < 0) continue;
        const troot *r = &t->roots[first[g]];
        int ri = first[g];
        bool xp = group_xp(t, gr);
        const char *v = r->volume;
        if (!group_has(t, gr, WH_TRIAGE_CIM_REPOSITORY, NULL))
            miss(t, g, ri, WH_TRIAGE_CIM_REPOSITORY, v, "wbem\\Repository", kind_why(WH_TRIAGE_CIM_REPOSITORY));
        if (!group_has(t, gr, WH_TRIAGE_AUTORECOVER_DIR, NULL))
            miss(t, g, ri, WH_TRIAGE_AUTORECOVER_DIR, v, "wbem\\AutoRecover", kind_why(WH_TRIAGE_AUTORECOVER_DIR));
        if (!group_has(t, gr, WH_TRIAGE_HIVE_SOFTWARE, NULL)) {
            miss(t, g, ri, WH_TRIAGE_HIVE_SOFTWARE, v, "config\\SOFTWARE", kind_why(WH_TRIAGE_HIVE_SOFTWARE));
        } else {
            // XP keeps one SOFTWARE.LOG; Vista and later two (.LOG1, .LOG2).
            static const char *const logs_new[] = {"SOFTWARE.LOG1", "SOFTWARE.LOG2"};
            static const char *const logs_xp[] = {"SOFTWARE.LOG"};
            const char *const *logs = xp ? logs_xp : logs_new;
            size_t nl = xp ? 1 : 2;
            for (size_t i = 0; i < nl; i++)
                if (!group_has(t, gr, WH_TRIAGE_HIVE_LOG, logs[i]))
                    miss(t, g, ri, WH_TRIAGE_HIVE_LOG, v, wh_arena_printf(t->arena, "config\\%s", logs[i]),
                         kind_why(WH_TRIAGE_HIVE_LOG));
        }
        if (xp) continue; // XP writes .evt logs in config\, not winevt\Logs
        for (int i = 0; i < WH_TRIAGE_NWMI_LOGS; i++)
            if (!group_has(t, gr, WH_TRIAGE_EVTX, WH_TRIAGE_WMI_LOGS[i].name))
                miss(t, g, ri, WH_TRIAGE_EVTX, v, wh_arena_printf(t->arena, "winevt\\Logs\\%s", WH_TRIAGE_WMI_LOGS[i].name),
                     WH_TRIAGE_WMI_LOGS[i].why);
    }
    free(first);
}

/* ---- API ---- */

static int art_cmp(const void *x, const void *y)
{
    const tart *a = *(const tart *const *)x, *b = *(const tart *const *)y;
    if (a->group != b->group) return a->group < 0 ? 1 : b->group < 0 ? -1 : (a->group < b->group ? -1 : 1);
    if (a->a.kind != b->a.kind) return a->a.kind < b->a.kind ? -1 : 1;
    return strcmp(a->a.path, b->a.path);
}

wh_status wh_triage_open(const char *dir, const wh_triage_opts *opts, wh_diag_sink *sink, wh_triage **out)
{
    *out = NULL;
    if (!dir || (opts && opts->size < sizeof(size_t))) return WH_E_ARG;
    wh_dir *top = wh_dir_open(dir);
    if (!top) {
        wh_diagf(sink, WH_SEV_ERROR, WH_E_IO, dir, WH_NO_OFFSET, "cannot open directory: %s", strerror(errno));
        return WH_E_IO;
    }
    wh_triage *t = calloc(1, sizeof(*t));
    wh_arena *a = wh_arena_new(1ull << 30);
    if (!t || !a) {
        free(t);
        wh_arena_free(a);
        wh_dir_close(top);
        return WH_E_NOMEM;
    }
    t->arena = a;
    t->sink = sink;
    wh_triage_opts o = {0};
    if (opts) memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
    t->max_depth = o.max_depth ? (o.max_depth < WH_LIMIT_TRIAGE_MAX_DEPTH ? o.max_depth : WH_LIMIT_TRIAGE_MAX_DEPTH)
                               : WH_LIMIT_TRIAGE_DEF_DEPTH;
    t->max_files = o.max_files ? o.max_files : WH_LIMIT_TRIAGE_DEF_FILES;
    t->max_seconds = o.max_seconds ? o.max_seconds : WH_LIMIT_TRIAGE_DEF_SECONDS;
    t->mof_max = o.mof_max_size ? o.mof_max_size : WH_LIMIT_TRIAGE_DEF_MOF_MAX;
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    t->dir = wh_arena_strndup(a, dir, dl);
    if (!t->dir || dl >= sizeof(t->path)) {
        wh_dir_close(top);
        wh_triage_close(t);
        return WH_E_NOMEM;
    }
    memcpy(t->path, t->dir, dl + 1);
    t->plen = dl;

    find_roots(t, wh_dir_open_at(top, "."), false);
    // The search for Windows roots has a bound of its own: reaching it is
    // said, and the artifact walk then starts with the whole bound again
    // (before, a folder of loose files spent it all here and nothing was
    // listed, with exit 2 instead of 3).
    if (t->stop && t->entries > t->max_files) {
        t->entries = 0;
        t->stop = false;
    }
    for (size_t i = 0; i < t->nroots && !t->stop; i++) {
        wh_dir *rd = wh_dir_open(t->roots[i].path);
        if (!rd) continue;
        // Root names again as they are below DIR, for the Windows paths.
        size_t base = t->nnames;
        const char *rel = t->roots[i].path + dl;
        char tmp[WH_LIMIT_TRIAGE_PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s", rel);
        for (char *s = strtok(tmp, "/"); s; s = strtok(NULL, "/")) (void)push(t, s);
        static const char *const wbem[] = {"wbem"}, *const cfg[] = {"config"}, *const logs[] = {"winevt", "Logs"};
        walk_first(t, rd, (int)i, t->nnames, wbem, 1);
        walk_first(t, rd, (int)i, t->nnames, cfg, 1);
        walk_first(t, rd, (int)i, t->nnames, logs, 2);
        wh_dir_close(rd);
        while (t->nnames > base) pop(t);
    }
    if (!t->stop) {
        wh_fstat st;
        int r = wh_dir_self(top, &st) == 0 ? root_of(t, st.dev, st.ino) : -1;
        walk(t, top, r, 0, NULL);
    } else {
        wh_dir_close(top);
    }
    if (t->depth_hits > 10)
        wh_diagf(sink, WH_SEV_WARN, WH_E_LIMIT, t->dir, WH_NO_OFFSET,
                 "%lu more directories past the depth bound were not searched", t->depth_hits - 10);
    // A folder named Repository outside a Windows tree counts only with
    // repository files in it.
    size_t k = 0;
    for (size_t i = 0; i < t->arts.n; i++) {
        tart *x = t->arts.v[i];
        bool cim = x->a.kind == WH_TRIAGE_CIM_REPOSITORY || x->a.kind == WH_TRIAGE_CIM_BACKUP;
        if (cim && x->group < 0 && !x->has_cim_files && !x->has_map_files) continue;
        if (cim && x->xp) x->a.note = "XP layout (v2.1): the repository files are in its FS subfolder";
        else if (cim && !x->has_cim_files && x->has_map_files)
            x->a.note = "mapping files only: a partial copy (no INDEX.BTR or OBJECTS.DATA)";
        else if (cim && !x->has_cim_files) x->a.note = "no INDEX.BTR or OBJECTS.DATA in it";
        t->arts.v[k++] = x;
    }
    t->arts.n = k;
    if (k) wh_sort(t->arts.v, k, sizeof(void *), art_cmp);
    find_missing(t);
    *out = t;
    return WH_OK;
}

void wh_triage_close(wh_triage *t)
{
    if (!t) return;
    wh_arena_free(t->arena);
    free(t);
}

size_t wh_triage_count(const wh_triage *t) { return t->arts.n; }

const wh_triage_artifact *wh_triage_get(const wh_triage *t, size_t i)
{
    return i < t->arts.n ? &((const tart *)t->arts.v[i])->a : NULL;
}

size_t wh_triage_roots(const wh_triage *t) { return t->nroots; }

bool wh_triage_root(const wh_triage *t, size_t i, const char **path, wh_triage_layout *layout, const char **volume)
{
    if (i >= t->nroots) return false;
    *path = t->roots[i].path;
    *layout = t->roots[i].layout;
    *volume = t->roots[i].volume;
    return true;
}

size_t wh_triage_missing_count(const wh_triage *t) { return t->nmissing; }
bool wh_triage_incomplete(const wh_triage *t) { return t->incomplete; }

static void common(wh_recb *b, const char *kind, const char *path, const char *wpath)
{
    wh_recb_str(b, "kind", kind);
    wh_recb_str(b, "path", path);
    wh_recb_str(b, "windows_path", wpath);
}

wh_status wh_triage_emit(const wh_triage *t, wh_record_fn fn, void *ud)
{
    wh_arena *a = wh_arena_new(1u << 20);
    if (!a) return WH_E_NOMEM;
    wh_status st = WH_OK;
    for (size_t i = 0; i < t->arts.n && st == WH_OK; i++) {
        const wh_triage_artifact *x = &((const tart *)t->arts.v[i])->a;
        wh_recb b;
        wh_recb_start(&b, a, "triage.artifact", x->path, WH_NO_OFFSET);
        common(&b, wh_triage_kind_name(x->kind), x->path, x->windows_path);
        wh_recb_add(&b, "size", wh_v_uint(x->size));
        wh_recb_add(&b, "mtime", x->mtime ? wh_v_time(x->mtime) : wh_v_null());
        wh_recb_add(&b, "files", x->kind == WH_TRIAGE_CIM_REPOSITORY || x->kind == WH_TRIAGE_CIM_BACKUP ||
                                         x->kind == WH_TRIAGE_AUTORECOVER_DIR
                                     ? wh_v_uint(x->files)
                                     : wh_v_null());
        wh_recb_str(&b, "layout", wh_triage_layout_name(x->layout));
        wh_recb_str(&b, "root", x->root);
        wh_recb_add(&b, "wmi_relevant", wh_v_bool(x->wmi_relevant));
        wh_recb_add(&b, "over_size_cap", wh_v_bool(x->over_size_cap));
        wh_recb_str(&b, "note", x->note);
        wh_recb_str(&b, "why", x->why);
        wh_recb_ts(&b, x->mtime, "modified");
        b.rec.summary = wh_arena_printf(a, "%s %s", wh_triage_kind_name(x->kind),
                                        x->windows_path ? x->windows_path : x->path);
        const wh_record *r = wh_recb_done(&b);
        if (!r) st = WH_E_NOMEM;
        else if (fn(ud, r)) st = WH_E_ARG;
        wh_arena_reset(a);
    }
    for (size_t i = 0; i < t->nmissing && st == WH_OK; i++) {
        const tmissing *m = &t->missing[i];
        const troot *r = m->root >= 0 && (size_t)m->root < t->nroots ? &t->roots[m->root] : NULL;
        wh_recb b;
        wh_recb_start(&b, a, "triage.missing", r ? r->path : t->dir, WH_NO_OFFSET);
        common(&b, wh_triage_kind_name(m->kind), NULL, m->expected);
        wh_recb_add(&b, "size", wh_v_null());
        wh_recb_add(&b, "mtime", wh_v_null());
        wh_recb_add(&b, "files", wh_v_null());
        wh_recb_str(&b, "layout", r ? wh_triage_layout_name(r->layout) : NULL);
        wh_recb_str(&b, "root", r ? r->path : NULL);
        wh_recb_add(&b, "wmi_relevant", wh_v_bool(m->kind == WH_TRIAGE_EVTX));
        wh_recb_add(&b, "over_size_cap", wh_v_bool(false));
        wh_recb_str(&b, "note", "expected but not found");
        wh_recb_str(&b, "why", m->why);
        b.rec.summary = wh_arena_printf(a, "missing %s %s", wh_triage_kind_name(m->kind), m->expected);
        const wh_record *rec = wh_recb_done(&b);
        if (!rec) st = WH_E_NOMEM;
        else if (fn(ud, rec)) st = WH_E_ARG;
        wh_arena_reset(a);
    }
    wh_arena_free(a);
    return st;
}
