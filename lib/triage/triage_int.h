/* Internals of lib/triage, shared by the path logic and the walker. */
#ifndef WH_TRIAGE_INT_H
#define WH_TRIAGE_INT_H

#include "wmihunt/triage.h"

// Bounds of the walk (defaults; wh_triage_opts overrides). Kept here rather
// than in core/limits.h because only the triage walk uses them.
#define WH_TRIAGE_DEF_DEPTH    40u          /* Windows paths rarely pass 30 levels */
#define WH_TRIAGE_MAX_DEPTH    256u         /* one open directory per level */
#define WH_TRIAGE_DEF_FILES    2000000ul    /* a full Windows 11 volume is ~1.5 M entries */
#define WH_TRIAGE_DEF_SECONDS  600u
#define WH_TRIAGE_DEF_MOF_MAX  (16ull << 20) /* largest Windows MOF is ~2 MiB */
#define WH_TRIAGE_PREFIX_DEPTH 5u           /* e.g. case/Collection/uploads/ntfs/%5C%5C.%5CC%3A */
#define WH_TRIAGE_NAME_MAX     1024u        /* one decoded name (NTFS: 255 UTF-16 units) */
#define WH_TRIAGE_PATH_MAX     16384u

typedef struct wh_triage_log {
    const char *name;
    const char *why;
} wh_triage_log;

#define WH_TRIAGE_NWMI_LOGS 6
extern const wh_triage_log WH_TRIAGE_WMI_LOGS[WH_TRIAGE_NWMI_LOGS];

bool wh_triage_name_eq(const char *name, const char *want, bool encoded);
bool wh_triage_name_ends(const char *name, const char *suffix, bool encoded);
bool wh_triage_layout_encoded(wh_triage_layout l);
/* index in WH_TRIAGE_WMI_LOGS, or -1 */
int wh_triage_wmi_log(const char *name, bool encoded);
bool wh_triage_is_windir(const char *name, bool encoded);
bool wh_triage_in_wbem(const char *const *names, size_t n, bool encoded);

#endif
