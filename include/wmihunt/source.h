/* Evidence sources: what a path given to hunt or triage holds. A folder or
 * a file is read as it is; an archive (.zip of a KAPE, CyLR or Velociraptor
 * collection, .7z, .tar, .tar.gz/.tgz, tar with bzip2/xz/zstd) is extracted
 * with libarchive into a private temporary folder (mkdtemp under $TMPDIR or
 * /tmp, mode 0700) that is removed when the source is closed, at exit
 * (atexit), and on SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE and a crash
 * (SIGABRT/SEGV/BUS/FPE/ILL) when the program left those at their default
 * action (the default action follows).
 *
 * Member names never become paths outside the private folder: absolute
 * names, drive letters, '..' components, links (symbolic links are never
 * created; a hard link is a copy of a member already extracted) and device
 * files are refused with a diagnostic naming the archive and member.
 * Backslashes are separators; nothing else is decoded: Velociraptor's
 * 'uploads/auto/C%3A/...' stays a folder named 'C%3A', which triage reads
 * as that layout. Bounds (lib/core/limits.h, WH_LIMIT_ARCHIVE_*): member
 * count, bytes in all, bytes per member, expansion ratio, name depth and
 * length; each one reached is a diagnostic, and what was extracted is read.
 * The archive itself is only read (O_RDONLY).
 *
 * A disk image (E01, VHD/VHDX, VMDK, QCOW2, raw) is read with The Sleuth
 * Kit (libtsk: partition tables, NTFS) over libewf/libvhdi/libvmdk, or
 * libqcow: the files wanted (opts.want) are copied out of each NTFS
 * volume into "volN/" of a private folder (alternate data streams as
 * "file:stream"), and with opts.vss each shadow copy (libvshadow) into
 * "volN@vssM/", in a child process with 4 GiB of address space (the
 * libraries parse hostile bytes: a crash ends the child, what it copied
 * is read and the crash is said). A BitLocker volume is named and left. Bounds: the same
 * member count and byte totals, the folder depth, and each folder read
 * once (a loop in the directory tree is said and not followed).
 *
 * Names: a path inside the private folder is shown as "ARCHIVE!member"
 * (ARCHIVE as given), the folder itself as "ARCHIVE". Every open source is
 * in one process-wide list, so any path, record or diagnostic can be
 * named that way without knowing its source. The list is shared by
 * threads (a lock); wh_source_record's copy is per thread. A source is
 * closed only when no thread reads from it any more. */
#ifndef WMIHUNT_SOURCE_H
#define WMIHUNT_SOURCE_H

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_source wh_source;

/* 0 in a field: the default of lib/core/limits.h, which the environment
 * variable WMIHUNT_ARCHIVE_LIMITS may change ("members=N,total=SIZE,
 * member=SIZE,ratio=N,ratio_min=SIZE,depth=N,path=N,idle=SECONDS", SIZE
 * with K/M/G). */
typedef struct wh_source_opts {
    size_t size;          /* sizeof(wh_source_opts) */
    uint64_t max_members; /* members looked at */
    uint64_t max_total;   /* bytes extracted in all */
    uint64_t max_member;  /* bytes of one member */
    uint64_t max_ratio;   /* expanded / compressed bytes ... */
    uint64_t ratio_min;   /* ... once a member has expanded past this */
    unsigned max_depth;   /* folder levels of a member name */
    unsigned max_path;    /* bytes of a member name */
    /* Disk images: the files to copy out of a volume, by their names below
     * its root (NULL: every file, within the bounds above). Folders are
     * always walked. wh_triage_wanted is the hunt's. */
    bool (*want)(const char *const *names, size_t n, void *ud);
    void *want_ud;
    bool vss; /* disk images: every volume shadow copy too */
    /* Disk images: called every few thousand entries walked (a big volume
     * takes a while): the volume folder, entries walked and files copied
     * so far, the folder being walked. NULL: none. */
    void (*progress)(void *ud, const char *volume, uint64_t entries, uint64_t files, const char *at);
    void *progress_ud;
    /* Disk images are read in a child process (a crash or a runaway
     * allocation in The Sleuth Kit ends it, not the caller; 4 GiB of
     * address space); true reads them here (the fuzz target, for coverage). */
    bool in_process;
    unsigned max_idle; /* seconds the image reader may go without progress (0: 600) */
} wh_source_opts;

/* A volume of a disk image, as its files were copied. */
typedef struct wh_source_volume {
    const char *folder;      /* below the private folder: "vol2", "vol2@vss1" */
    unsigned index;          /* 1-based place in the partition table; 0: the image is one volume */
    const char *table;       /* "GPT", "MBR", "" (no table) */
    uint64_t offset, size;   /* bytes in the image */
    const char *kind;        /* "NTFS", "BitLocker", "FAT", "other" */
    unsigned snapshot;       /* 0: the volume now; N: its Nth shadow copy (oldest first) */
    const char *snapshot_id; /* the copy's GUID, NULL for the volume now */
    uint64_t snapshot_time;  /* FILETIME the copy was taken */
    uint64_t files, bytes;   /* copied out */
    bool read;               /* its files were looked at */
} wh_source_volume;

/* Room for a shown name (wh_source_shown). */
#define WH_SOURCE_SHOWN_MAX 8192

/* True when path is a regular file that starts like an archive wmihunt
 * opens (zip, 7z, tar, or gzip/bzip2/xz/zstd, holding a tar). */
bool wh_source_is_archive(const char *path);
/* True when libarchive is built in (archives can be opened). */
bool wh_source_archives_supported(void);
/* True when path is a regular file that starts like a disk image wmihunt
 * opens: E01/Ex01, VHD/VHDX, VMDK, QCOW, or raw with an MBR/GPT or an
 * NTFS/BitLocker boot sector. */
bool wh_source_is_image(const char *path);
/* True when The Sleuth Kit and the libyal libraries are built in. */
bool wh_source_images_supported(void);
/* Options used when wh_source_open is given none (NULL): what a command
 * line chose (--vss, the triage's wanted files), set once at start. */
void wh_source_defaults(const wh_source_opts *o);

/* Opens path. Not an archive: the source is path itself (nothing is
 * copied). An archive: extracted now; problems go to diags (may be NULL)
 * and are kept for wh_source_replay. WH_OK when something can be read;
 * else an error status, said on diags, *out NULL and nothing left on disk. */
wh_status wh_source_open(const char *path, const wh_source_opts *o, wh_diag_sink *diags, wh_source **out) WH_MUST_CHECK;
/* The same for an archive in memory (the fuzz target): name is what the
 * names are shown under. */
wh_status wh_source_open_memory(const void *data, size_t size, const char *name, const wh_source_opts *o,
                                wh_diag_sink *diags, wh_source **out) WH_MUST_CHECK;
/* Removes the private folder (when there is one) and frees. NULL is fine. */
void wh_source_close(wh_source *s);
/* Closes every open source (also run at exit). */
void wh_source_close_all(void);
/* Frees what this thread kept for wh_source_record (a worker thread calls
 * it before it ends; the main thread's goes at exit). */
void wh_source_thread_done(void);

/* The folder or file to read. */
const char *wh_source_dir(const wh_source *s);
/* The path given. */
const char *wh_source_name(const wh_source *s);
/* True for an extracted archive or image. */
bool wh_source_extracted(const wh_source *s);
/* True for a disk image. */
bool wh_source_is_disk(const wh_source *s);
/* The volumes of a disk image (*n set; NULL and 0 for anything else). */
const wh_source_volume *wh_source_volumes(const wh_source *s, size_t *n);
/* v in words into buf (n bytes; cut when longer): "vol1: NTFS, MBR
 * partition 1 at byte 1048576 (24 MiB), 16 file(s) copied", or for a
 * shadow copy "vol1@vss1: shadow copy 1 {GUID} taken T, of ...". */
const char *wh_source_volume_text(const wh_source_volume *v, char *buf, size_t n);
/* The volume of an open disk image that path lies in (NULL when none). */
const wh_source_volume *wh_source_volume_of(const char *path);
/* Members extracted and their bytes. */
void wh_source_stats(const wh_source *s, uint64_t *members, uint64_t *bytes);
/* Sends the diagnostics said while extracting to sink, the first time it
 * is called (a second call does nothing): a source opened before the sink
 * that counts a host's damage existed. */
void wh_source_replay(wh_source *s, wh_diag_sink *sink);

/* ---- names, over every open source ---- */

/* The open source whose private folder holds path (NULL when none). */
wh_source *wh_source_find(const char *path);
/* The open extracted source opened for the path given (NULL when none). */
wh_source *wh_source_find_given(const char *given);
/* path as reports name it: "ARCHIVE!member" written to buf (n bytes; cut
 * when longer) when path is in an open source's private folder, else path
 * itself. NULL gives NULL. */
const char *wh_source_shown(const char *path, char *buf, size_t n);
/* r itself when none of its strings names a path in a private folder;
 * else a copy with those shown (source, top-level strings, strings in
 * top-level arrays and objects), valid until the next call. */
const wh_record *wh_source_record(const wh_record *r);
/* Counts d in to and passes it on with its source shown. */
void wh_source_diag(wh_diag_sink *to, const wh_diag *d);

#ifdef __cplusplus
}
#endif
#endif
