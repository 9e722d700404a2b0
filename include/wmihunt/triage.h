/* Triage: finds the WMI evidence in a directory that is a mounted Windows
 * volume or a collection keeping Windows paths under a prefix (KAPE `C/`,
 * `C%3A/`, CyLR, Velociraptor `uploads/<accessor>/<volume>/`). Nothing in
 * the directory is written; files are only listed (lstat), never opened,
 * and directories are opened O_NOATIME where the kernel permits it.
 * Ownership: everything wh_triage_get() and the records hand out lives in
 * the handle and is freed by wh_triage_close(). See docs/triage.md. */
#ifndef WMIHUNT_TRIAGE_H
#define WMIHUNT_TRIAGE_H

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_triage wh_triage;

typedef enum wh_triage_kind {
    WH_TRIAGE_CIM_REPOSITORY = 0, /* wbem\Repository (XP: its FS subfolder) */
    WH_TRIAGE_CIM_BACKUP,         /* wbem\Repository.001 and the like */
    WH_TRIAGE_AUTORECOVER_DIR,    /* wbem\AutoRecover */
    WH_TRIAGE_AUTORECOVER_FILE,   /* a file in it */
    WH_TRIAGE_MOF,                /* any *.mof */
    WH_TRIAGE_HIVE_SOFTWARE,      /* config\SOFTWARE */
    WH_TRIAGE_HIVE_LOG,           /* SOFTWARE.LOG1 / .LOG2 / .LOG */
    WH_TRIAGE_HIVE_REGBACK,       /* config\RegBack\SOFTWARE */
    WH_TRIAGE_EVTX,               /* winevt\Logs\*.evtx */
    WH_TRIAGE_KIND_COUNT
} wh_triage_kind;

/* Stable names: "cim_repository", "mof", "evtx", ... */
const char *wh_triage_kind_name(wh_triage_kind k);

typedef enum wh_triage_layout {
    WH_TRIAGE_LAYOUT_MOUNTED = 0,  /* Windows\ directly in the directory */
    WH_TRIAGE_LAYOUT_KAPE,         /* C/ with KAPE's *_ConsoleLog.txt / *_CopyLog.csv beside it */
    WH_TRIAGE_LAYOUT_DRIVE_FOLDER, /* C/ or C:/ alone: KAPE or CyLR (the same tree) */
    WH_TRIAGE_LAYOUT_KAPE_ENCODED, /* C%3A/ */
    WH_TRIAGE_LAYOUT_VELOCIRAPTOR, /* uploads/<accessor>/<url-encoded volume>/ */
    WH_TRIAGE_LAYOUT_PREFIX,       /* Windows\ under some other prefix */
    WH_TRIAGE_LAYOUT_LOOSE,        /* a file found by name outside any Windows tree */
    WH_TRIAGE_LAYOUT_COUNT
} wh_triage_layout;

/* "mounted", "kape", "kape-or-cylr", "kape-encoded", "velociraptor",
 * "prefix", "loose". */
const char *wh_triage_layout_name(wh_triage_layout l);

typedef struct wh_triage_opts {
    size_t size;            /* sizeof(wh_triage_opts) */
    unsigned max_depth;     /* directory levels below DIR; 0: default (40) */
    unsigned long max_files;/* entries looked at in all; 0: default (2,000,000) */
    unsigned max_seconds;   /* wall time of the walk; 0: default (600) */
    uint64_t mof_max_size;  /* larger .mof files are listed but flagged; 0: 16 MiB */
} wh_triage_opts;

typedef struct wh_triage_artifact {
    wh_triage_kind kind;
    wh_triage_layout layout;
    const char *path;         /* on this machine */
    const char *windows_path; /* e.g. C:\Windows\System32\wbem\Repository; NULL when loose */
    const char *root;         /* the volume root it was found under; NULL when loose */
    uint64_t size;            /* bytes; for a repository the sum of its files */
    uint64_t mtime;           /* FILETIME of the last modification (newest file for a folder) */
    unsigned files;           /* for folders: regular files in it */
    bool wmi_relevant;        /* evtx: one of the logs wmihunt evtx reads for WMI evidence */
    bool over_size_cap;       /* mof: larger than mof_max_size */
    const char *note;         /* what is odd about this one; may be NULL */
    const char *why;          /* why this kind of artifact matters */
} wh_triage_artifact;

/* Walks dir within the bounds. Every bound reached is a warning on sink
 * naming the bound and the path; symbolic links are never followed (one
 * note each). Returns WH_OK when the walk ran (even with bounds reached or
 * nothing found), WH_E_IO when dir cannot be opened, WH_E_NOMEM. */
WH_MUST_CHECK wh_status wh_triage_open(const char *dir, const wh_triage_opts *opts, wh_diag_sink *sink,
                                       wh_triage **out);
void wh_triage_close(wh_triage *t);

size_t wh_triage_count(const wh_triage *t);
const wh_triage_artifact *wh_triage_get(const wh_triage *t, size_t i);
/* Windows volume roots found (a drive letter seen through two accessors
 * counts twice); 0 means no Windows tree. */
size_t wh_triage_roots(const wh_triage *t);
/* Root i: its path, layout and Windows volume ("C:", "" when unknown). */
bool wh_triage_root(const wh_triage *t, size_t i, const char **path, wh_triage_layout *layout,
                    const char **volume);
/* Expected artifacts not found (see wh_triage_emit). */
size_t wh_triage_missing_count(const wh_triage *t);
/* true when a bound stopped part of the walk */
bool wh_triage_incomplete(const wh_triage *t);

/* Emits "triage.root" per volume root, "triage.artifact" per artifact and
 * "triage.missing" per expected artifact not found (docs/output.md).
 * Returns WH_E_ARG if fn asked to stop. */
wh_status wh_triage_emit(const wh_triage *t, wh_record_fn fn, void *ud);

/* Path logic, public so it can be fuzzed without a file system. */

/* Decodes %XX (any case) from in[0..n) into out (cap bytes, NUL-terminated;
 * stops at cap-1). %00, escapes of letters and digits (Windows names such
 * as "...%4Admin.evtx" hold them literally) and malformed escapes stay as
 * they are. Returns the decoded length. */
size_t wh_triage_pct_decode(const char *in, size_t n, char *out, size_t cap);

/* Layout of a volume root from the names (as stored) of the directories
 * leading to it from DIR; kape_logs: KAPE's logs sit in the directory
 * holding the last name. volume (cap bytes) receives the Windows volume
 * prefix ("C:", "\\.\C:", "" when unknown). */
wh_triage_layout wh_triage_layout_of(const char *const *names, size_t n, bool kape_logs, char *volume,
                                     size_t cap);

/* Kind of an entry from its path below a volume root, names as stored
 * (decoded when encoded is set); false when it is not one wmihunt wants.
 * *wmi_relevant is set for the event logs wmihunt evtx reads. */
bool wh_triage_kind_of(const char *const *names, size_t n, bool is_dir, bool encoded, wh_triage_kind *kind,
                       bool *wmi_relevant);

/* True for a file wmihunt reads, by its names below a volume root (the
 * last one the file's): what wh_triage_kind_of finds, but only the event
 * logs wmihunt reads for WMI evidence, with the files inside the
 * repository and AutoRecover folders and the SYSTEM hive. The filter for
 * copying out of a disk image (wh_source_opts.want; ud unused). */
bool wh_triage_wanted(const char *const *names, size_t n, void *ud);

#ifdef __cplusplus
}
#endif
#endif
