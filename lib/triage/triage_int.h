/* Internals of lib/triage, shared by the path logic and the walker. */
#ifndef WH_TRIAGE_INT_H
#define WH_TRIAGE_INT_H

#include "wmihunt/triage.h"

// Bounds of the walk: core/limits.h (defaults; wh_triage_opts overrides).
#include "core/limits.h"

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
